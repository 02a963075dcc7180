/*
 * result.h - what one sandboxed run produced, and its JSON form.
 *
 * The result is shared by the privileged side (the sandbox library fills it) and
 * the unprivileged side (clients read the JSON), so it lives in common/ and the
 * client never links the sandbox library.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "labstack/error.h"

enum ls_reason {
    LS_REASON_NONE = 0,       /* not finished */
    LS_REASON_EXITED,         /* the command exited; exit_code is valid */
    LS_REASON_SIGNALED,       /* the command was killed by `signal` */
    LS_REASON_TIMEOUT,        /* the wall-clock limit was reached; everything was killed */
    LS_REASON_OUTPUT_LIMIT,   /* stdout or stderr passed its byte cap; everything was killed */
    LS_REASON_SECCOMP,        /* killed by SIGSYS from the seccomp filter */
    LS_REASON_SETUP_FAILED,   /* the sandbox could not be built; `error` says which step */
    LS_REASON_CANCELLED,      /* the caller cancelled the run */
    LS_REASON_OOM,            /* the memory limit was hit and the OOM killer ended the command */
    LS_REASON_PIDS_LIMIT,     /* the command failed after a fork was refused at the pids limit */
    LS_REASON_CPU_LIMIT,      /* the CPU-time limit was reached (RLIMIT_CPU or the cgroup's total) */
    LS_REASON__MAX
};

#define LS_DENIED_MAX 32          /* syscalls listed by name in a result */
#define LS_SYSCALL_NAME_MAX 32    /* longest name + 1 */

/* One syscall the sandbox tried and was refused (an errno verdict of its seccomp
 * program), with how often. */
struct ls_denied_syscall {
    char name[LS_SYSCALL_NAME_MAX]; /* libseccomp's name ("mount"), or "syscall_<nr>" for a
                                     * number it has no name for */
    uint64_t count;
};

/* The refused calls of one run (docs/sandbox.md, "Counting refused calls"). */
struct ls_denied_syscalls {
    bool available;           /* false: not counted (the kernel gave no listener, or the
                               * command never started); JSON null */
    uint64_t total;           /* every refused call, including those not listed */
    unsigned n;               /* entries of by_syscall, most frequent first */
    struct ls_denied_syscall by_syscall[LS_DENIED_MAX];
};

struct ls_result {
    enum ls_reason reason;
    int exit_code;            /* EXITED: the exit status; otherwise -1 */
    int signal;               /* SIGNALED/SECCOMP/TIMEOUT...: the signal that ended the command, else 0 */
    uint64_t wall_ms;         /* clone to reap */
    uint64_t user_ms;         /* CPU time of every process of the sandbox, user mode */
    uint64_t sys_ms;          /* ... kernel mode */
    uint64_t stdout_bytes;    /* bytes delivered to the caller (never more than the cap) */
    uint64_t stderr_bytes;
    bool stdout_truncated;    /* the command wrote more than the cap */
    bool stderr_truncated;
    uid_t host_uid;           /* the unprivileged host uid the sandbox ran as */
    uint64_t peak_memory_bytes; /* cgroup: peak memory (incl. tmpfs pages) of the sandbox */
    uint64_t cpu_user_ms;     /* cgroup: CPU time of every process that ever ran in it */
    uint64_t cpu_sys_ms;
    uint64_t pids_peak;       /* cgroup: most processes+threads at once */
    int cgroup_version;       /* 1 or 2; 0 when the run never got a cgroup */
    struct ls_denied_syscalls denied_syscalls; /* calls the seccomp program refused */
    struct ls_error error;    /* SETUP_FAILED: the failing step and message */
};

/* "exited", "signaled", ... ; never NULL. */
const char *ls_reason_name(enum ls_reason reason);

/* The exit status a CLI reports for res, like `docker run`: the command's own status
 * (also when a limit ended it: the reason says which), 128+signal when a signal ended
 * it (SIGKILL when none is known), 127/126 when the command was not found / could not
 * be executed, 125 when the sandbox could not be run at all. */
int ls_result_exit_status(const struct ls_result *res);

/* Serialise to a compact JSON object (caller frees).  NULL on allocation failure. */
char *ls_result_to_json(const struct ls_result *res);

/* Parse the JSON form back; returns 0 or -EINVAL with err naming the field. */
int ls_result_from_json(const char *json, struct ls_result *ret, struct ls_error *err);
