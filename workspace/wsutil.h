/*
 * wsutil.h - small helpers shared by unpack.c and manifest.c: openat2 beneath a
 * directory fd without symlinks, and printing untrusted names into error messages.
 */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WS_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

/* openat2(dirfd, path) beneath dirfd, no symlinks anywhere (also not the last
 * component: O_NOFOLLOW), O_CLOEXEC.  fd or -errno. */
static inline int ws_open_beneath(int dirfd, const char *path, int flags, mode_t mode) {
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
        .mode = (flags & O_CREAT) ? mode : 0,
        .resolve = WS_RESOLVE,
    };
    long fd;
    do
        fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
    while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : (int)fd;
}

static inline bool ws_has_control(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
            return true;
    return false;
}

/* Copy an untrusted name into buf for a message: control characters and bytes >= 0x80
 * become \xNN (\n as \n), truncated with "..." to fit. */
static inline const char *ws_escape(char *buf, size_t size, const char *s) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char tmp[4];
        size_t n;
        if (c == '\n') {
            tmp[0] = '\\', tmp[1] = 'n', n = 2;
        } else if (c < 0x20 || c >= 0x7f) {
            tmp[0] = '\\', tmp[1] = 'x', tmp[2] = hex[c >> 4], tmp[3] = hex[c & 15], n = 4;
        } else {
            tmp[0] = (char)c, n = 1;
        }
        if (o + n + 4 > size) {
            if (o + 4 <= size)
                buf[o++] = '.', buf[o++] = '.', buf[o++] = '.';
            break;
        }
        for (size_t i = 0; i < n; i++)
            buf[o++] = tmp[i];
    }
    buf[o] = '\0';
    return buf;
}

/* Append a copy of name to the growing array *names (n entries, cap slots): 0 or
 * -ENOMEM (the array stays valid and owned by the caller either way). */
static inline int ws_names_push(char ***names, size_t *n, size_t *cap, const char *name) {
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        char **nn = realloc(*names, ncap * sizeof(*nn));
        if (!nn)
            return -ENOMEM;
        *names = nn;
        *cap = ncap;
    }
    if (!((*names)[*n] = strdup(name)))
        return -ENOMEM;
    (*n)++;
    return 0;
}
