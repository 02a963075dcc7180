/*
 * watch.h - the parent's side of a running sandbox: output, limits, status.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "labstack/result.h"
#include "labstack/sandbox.h"
#include "notify.h"

struct cgroup;

/* The cgroup is sampled this often; a sandbox whose forks keep being refused at the
 * pids limit for FORK_BOMB_TICKS samples in a row is a fork bomb and is killed. */
#define CHECK_MS 50
#define FORK_BOMB_TICKS 20

struct watch {
    /* in */
    pid_t pid;                 /* the sandbox's init (host pid) */
    int pidfd;
    int chan;                  /* parent end of the channel */
    int out[2];                /* read ends of stdout, stderr (non-blocking) */
    uint64_t timeout_ms;       /* 0: none */
    uint64_t limit[2];         /* byte caps of stdout, stderr */
    ls_output_fn on_output;
    void *userdata;
    struct cgroup *cg;         /* the sandbox's cgroup, sampled every CHECK_MS */
    uint64_t cpu_limit_us;     /* total CPU time allowed; 0: none */
    bool pids_limited;         /* watch for a fork bomb pinned at the pids limit */
    int cancel_fd;             /* the caller's: readable or hung up = cancel; never read; -1 */
    const struct ls_seccomp_program *seccomp; /* answers the listener's notifications */

    /* out */
    bool started;              /* init reported the command's process */
    struct notify denied;      /* the listener, if init handed one over, and the counts */
    bool denied_counted;       /* a listener was answered for the whole run */
    bool have_status;
    int status;                /* the command's wait status */
    bool failed;               /* setup or exec failed; error says where */
    struct ls_error error;
    enum ls_reason killed_for; /* NONE, or why we killed the sandbox */
    uint64_t bytes[2];
    bool truncated[2];
    struct rusage usage;       /* of init and everything it reaped */
};

/* Run the loop until init is reaped and both pipes are at EOF: stream output with
 * the caps, enforce the wall-clock limit, the cgroup's CPU-time total and the fork
 * bomb rule (sampled every CHECK_MS), kill everything as soon as cancel_fd is readable
 * or hung up, let init start the command (CHAN_RUN) unless cancelled, answer and count
 * the refused calls on the listener init hands over, collect channel messages.
 * Blocks on epoll only (no sleeps).  Returns 0, or -errno if the loop itself failed
 * (then the sandbox has been killed and reaped anyway).  The listener is closed when
 * it returns; w->denied keeps the counts (notify_done frees them). */
int watch_run(struct watch *w, struct ls_error *err);

/* Is the caller's cancel fd readable or hung up (or invalid) now?  false for -1. */
bool watch_cancel_requested(int cancel_fd);

/* Kill the whole sandbox (SIGKILL to its init takes the pid namespace with it). */
void watch_kill(struct watch *w, enum ls_reason why);
