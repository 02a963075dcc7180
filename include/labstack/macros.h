/*
 * macros.h - ownership helpers in the style of systemd: cleanup attributes,
 * TAKE_PTR/TAKE_FD, and destructors that accept "nothing to free".
 */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _noreturn_ __attribute__((noreturn))

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p) {
    free(*(void **)p);
}

/* Close *fd if it is >= 0; keeps errno intact. */
static inline void closep(int *fd) {
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Hand ownership of a pointer / fd to the caller: returns the value and resets the variable. */
#define TAKE_PTR(p)                     \
    ({                                  \
        __typeof__(p) _ptr_ = (p);      \
        (p) = NULL;                     \
        _ptr_;                          \
    })
#define TAKE_FD(fd)                     \
    ({                                  \
        int _fd_ = (fd);                \
        (fd) = -EBADF;                  \
        _fd_;                           \
    })

/* Close an fd and return -EBADF, for `fd = safe_close(fd);`. */
static inline int safe_close(int fd) {
    if (fd >= 0) {
        int saved = errno;
        close(fd);
        errno = saved;
    }
    return -EBADF;
}
