/*
 * init.h - pid 1 of the sandbox, and the channel it talks to the parent on.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "labstack/error.h"
#include "labstack/macros.h"

struct ls_seccomp_program;

/* Messages on the parent<->child channel (a SOCK_SEQPACKET socketpair; one message
 * per send, so a message is never torn). */
enum chan_type {
    CHAN_GO = 1,        /* parent -> child: maps written, network up; may carry the workspace fd */
    CHAN_SETUP_ERROR,   /* child -> parent: a setup step failed (error filled) */
    CHAN_EXEC_ERROR,    /* child -> parent: execve failed (error filled) */
    CHAN_STARTED,       /* init -> parent: the command's process exists (value = its pid inside);
                         * carries the seccomp listener (SCM_RIGHTS) when there is one */
    CHAN_STATUS,        /* init -> parent: value = the command's wait status */
    CHAN_READY,         /* init -> parent: set up, about to start the command */
    CHAN_RUN,           /* parent -> init: start it (not sent once the run is cancelled) */
};

struct chan_msg {
    uint32_t type;
    int32_t value;
    struct ls_error error;
};

/* Send one message; async-signal-safe.  Returns 0 or -errno. */
int chan_send(int fd, const struct chan_msg *m);

/* Send one message carrying passfd (SCM_RIGHTS; none when < 0) with sendmsg(2), which
 * a seccomp policy may refuse: only for processes without the filter.  Async-signal-
 * safe.  Returns 0 or -errno. */
int chan_send_fd(int fd, const struct chan_msg *m, int passfd);

struct init_exec {
    const char *const *argv;
    char *const *envp;
    const struct ls_seccomp_program *seccomp;
    bool notify; /* install the notify form and hand its listener to the parent */
};

/*
 * Become the sandbox's init: tell the parent it is ready and wait for CHAN_RUN, start
 * the command in a child (which installs the seccomp filter and execs), hand the
 * parent the filter's listener, reap every orphan, and when the command ends send its
 * wait status on chan and exit -- the kernel then kills whatever is left in the pid
 * namespace.  Called with capabilities dropped and no_new_privs set.  Never returns.
 */
_noreturn_ void init_run(int chan, const struct init_exec *ex);
