/*
 * error.c - filling struct ls_error: the message a client sees when something fails.
 *
 * ls_error_set_safe() is the only function here that may run between clone() and
 * execve(): it uses nothing but memcpy-like loops and strerrordesc_np(), which returns
 * a static string without touching the locale.
 */
#include "labstack/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

size_t ls_strlcpy(char *dst, const char *src, size_t size) {
    size_t n = 0;
    while (src[n])
        n++;
    if (size > 0) {
        size_t c = n < size - 1 ? n : size - 1;
        for (size_t i = 0; i < c; i++)
            dst[i] = src[i];
        dst[c] = '\0';
    }
    return n;
}

size_t ls_fmt_u64(char *buf, size_t size, uint64_t v) {
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    size_t i = 0;
    for (; i < n && i + 1 < size; i++)
        buf[i] = digits[n - 1 - i];
    if (size > 0)
        buf[i] = '\0';
    return n;
}

void ls_error_clear(struct ls_error *err) {
    if (!err)
        return;
    err->code = 0;
    err->step[0] = '\0';
    err->msg[0] = '\0';
}

static const char *describe(int errnum) {
    const char *d = strerrordesc_np(errnum);
    return d ? d : "Unknown error";
}

int ls_error_set(struct ls_error *err, int errnum, const char *step, const char *fmt, ...) {
    if (errnum < 0)
        errnum = -errnum;
    if (err) {
        va_list ap;
        err->code = errnum ? errnum : EINVAL;
        ls_strlcpy(err->step, step ? step : "", sizeof(err->step));
        va_start(ap, fmt);
        int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        if (n < 0)
            err->msg[0] = '\0';
        if (errnum) {
            size_t len = strlen(err->msg);
            snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", describe(errnum));
        }
    }
    return errnum ? -errnum : -EINVAL;
}

/* Append src at *pos without overflowing; async-signal-safe. */
static void append(char *buf, size_t size, size_t *pos, const char *src) {
    while (*src && *pos + 1 < size)
        buf[(*pos)++] = *src++;
    buf[*pos] = '\0';
}

int ls_error_set_safe(struct ls_error *err, int errnum, const char *step, const char *what,
                      const char *path) {
    if (errnum < 0)
        errnum = -errnum;
    if (err) {
        size_t pos = 0;
        err->code = errnum ? errnum : EINVAL;
        ls_strlcpy(err->step, step ? step : "", sizeof(err->step));
        err->msg[0] = '\0';
        append(err->msg, sizeof(err->msg), &pos, what ? what : "");
        if (path) {
            append(err->msg, sizeof(err->msg), &pos, " ");
            append(err->msg, sizeof(err->msg), &pos, path);
        }
        if (errnum) {
            append(err->msg, sizeof(err->msg), &pos, ": ");
            append(err->msg, sizeof(err->msg), &pos, describe(errnum));
        }
    }
    return errnum ? -errnum : -EINVAL;
}

void ls_error_prefix(struct ls_error *err, const char *ctx) {
    char old[LS_ERROR_MSG_MAX];
    size_t pos = 0;
    if (!err || !ctx)
        return;
    ls_strlcpy(old, err->msg, sizeof(old));
    err->msg[0] = '\0';
    append(err->msg, sizeof(err->msg), &pos, ctx);
    append(err->msg, sizeof(err->msg), &pos, ": ");
    append(err->msg, sizeof(err->msg), &pos, old);
}
