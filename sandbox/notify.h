/*
 * notify.h - answer and count the calls a sandbox's seccomp program refuses, through
 * the filter's listener (docs/sandbox.md, "Counting refused calls").
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "labstack/result.h"

struct ls_seccomp_program;

/* Refused calls kept per number below NOTIFY_NR_SPACE, and for up to NOTIFY_OTHER other
 * numbers (beyond that they count in the total only). */
#define NOTIFY_NR_SPACE 1024
#define NOTIFY_OTHER 16

struct notify {
    int fd;                                /* the listener; -EBADF when there is none */
    const struct ls_seccomp_program *prog; /* whose plain verdict answers each call */
    void *req, *resp;                      /* buffers of the kernel's sizes */
    size_t req_size, resp_size;
    uint64_t total;
    uint64_t *by_nr;                       /* NOTIFY_NR_SPACE counters */
    struct {
        int nr;
        uint64_t count;
    } other[NOTIFY_OTHER];
    unsigned n_other;
};

#define NOTIFY_INIT {.fd = -EBADF}

/* Take ownership of the listener fd and get ready to answer it for prog.  Returns 0,
 * or -errno (then fd is closed, and the caller has nothing to answer with: it must kill
 * the sandbox, whose refused calls would otherwise wait forever). */
int notify_start(struct notify *n, int fd, const struct ls_seccomp_program *prog);

/* Is a listener being answered? */
bool notify_active(const struct notify *n);

/* Receive one notification, answer it with the errno of the plain program's verdict
 * and count it.  Call when the listener is readable; never blocks then.  A call whose
 * process died meanwhile (ENOENT) is ignored.  Returns 0, or -errno when the listener
 * itself failed. */
int notify_handle(struct notify *n);

/* Close the listener (refused calls still waiting fail with ENOSYS: only once the
 * sandbox is dead) and free the buffers; the counts stay.  Idempotent. */
void notify_stop(struct notify *n);

/* The counts as a result: the total and the LS_DENIED_MAX most frequent syscalls by
 * name (resolved with libseccomp).  available is the caller's to set. */
void notify_fill_result(const struct notify *n, struct ls_denied_syscalls *ret);

/* Free the counters too. */
void notify_done(struct notify *n);
