/*
 * error.h - errors that must reach a client: errno plus a message saying where.
 *
 * Library functions return >= 0 on success and -errno on failure.  Where a caller
 * must learn *why* (a setup step of a sandbox, a field of a request), the function
 * also fills a caller-owned struct ls_error.  It is a fixed buffer with no pointers
 * to the heap, so it can be filled after clone() in a child that must not call
 * malloc, copied through a pipe as raw bytes, and read by the parent.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define LS_ERROR_STEP_MAX 32
#define LS_ERROR_MSG_MAX 384

struct ls_error {
    int code;                       /* positive errno, 0 when no error was set */
    char step[LS_ERROR_STEP_MAX];   /* short name of the step that failed, e.g. "mount" */
    char msg[LS_ERROR_MSG_MAX];     /* human message: "mount /proc: Permission denied" */
};

/* Clear an error (code 0, empty strings). Accepts NULL. */
void ls_error_clear(struct ls_error *err);

/*
 * Fill err (if not NULL) with errnum, step and a printf-style message; when errnum
 * is non-zero ": <strerror>" is appended.  Returns -errnum (or -EINVAL when errnum
 * is 0) so that callers can write `return ls_error_set(err, errno, ...)`.
 * Not async-signal-safe (uses vsnprintf); see ls_error_set_safe for the child.
 */
int ls_error_set(struct ls_error *err, int errnum, const char *step, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Async-signal-safe variant for code that runs between clone() and execve():
 * the message is the concatenation of `what` and (if not NULL) `path`, then
 * ": <description of errnum>".  No allocation, no locale, no stdio.
 */
int ls_error_set_safe(struct ls_error *err, int errnum, const char *step, const char *what,
                      const char *path);

/* Add context in front of an existing message: "<ctx>: <old message>". */
void ls_error_prefix(struct ls_error *err, const char *ctx);

/* Copy at most size-1 bytes of src into dst, always NUL-terminated; returns strlen(src).
 * Async-signal-safe. */
size_t ls_strlcpy(char *dst, const char *src, size_t size);

/* Write v in decimal into buf (NUL-terminated, truncated to size-1); returns the
 * number of digits.  Async-signal-safe (no stdio). */
size_t ls_fmt_u64(char *buf, size_t size, uint64_t v);
