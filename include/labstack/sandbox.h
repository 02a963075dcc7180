/*
 * sandbox.h - build one sandbox, run one command in it, tear it down.
 *
 * This is the privileged library at the heart of labstack.  Only the supervisor and
 * the direct `labstack sandbox run` entry point link it.  It never logs and never
 * talks to the network; failures are returned as -errno plus a struct ls_error that
 * names the step ("mount /proc: Permission denied").
 *
 * What a sandbox is (see docs/sandbox.md for why each step is safe):
 *   new user, pid, mount, net, uts, ipc and cgroup namespaces (clone3 + pidfd);
 *   uid 0 inside (or spec->uid) mapped to one unprivileged host uid taken from a
 *   range, distinct per concurrently running sandbox; setgroups denied;
 *   a root on a fresh tmpfs with read-only nosuid nodev binds, the workspace
 *   read-write at /work (id-mapped so files keep their host owner), a limited tmpfs
 *   at /tmp, a fresh /proc with masked and read-only paths, a minimal /dev;
 *   pivot_root, the old root detached; only `lo`, up; a new session, fds 0/1/2 only,
 *   a clean environment, rlimits, every capability set empty, no_new_privs, seccomp;
 *   an init of ours as pid 1 that reaps orphans, runs the command and reports its
 *   status; a cgroup (v1 or v2) with memory (swap 0), CPU and pids limits that the
 *   sandbox joins before it runs any code; a wall-clock limit, output caps and a
 *   CPU-time total that kill the whole pid namespace.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "labstack/error.h"
#include "labstack/result.h"

struct ls_seccomp_program;

/* A bind mount from the host into the sandbox.  Sources are host paths chosen by the
 * operator (trusted); destinations are resolved beneath the new root, never through
 * a symlink. */
struct ls_bind {
    const char *src;
    const char *dst;   /* NULL: same as src */
    bool writable;     /* default read-only */
    bool optional;     /* a missing source is skipped instead of failing */
};

/* Range of host uids (and gids, same numbers) handed to sandboxes, one per running
 * sandbox.  A slot is held by an flock()ed file under lock_dir while the sandbox
 * lives; the kernel releases it if the holder dies. */
struct ls_idmap_range {
    uid_t base;            /* default 1000000 */
    unsigned count;        /* default 65536 */
    const char *lock_dir;  /* default /run/labstack/uids */
};

/* What is shared by every sandbox a process starts: the uid range, the cgroup parent,
 * the default seccomp program. */
struct ls_host_config {
    struct ls_idmap_range idmap;
    const char *cgroup_parent;  /* relative to the cgroup root; default "labstack" */
    bool no_sweep;              /* skip the sweep of what crashed processes left (the
                                 * supervisor sweeps once at its start; the runners it
                                 * starts must not) */
};

struct ls_sandbox_host;

struct ls_rlimits {
    uint64_t nofile;       /* open files (default 1024) */
    uint64_t fsize;        /* bytes per file (default 1 GiB) */
    uint64_t nproc;        /* backstop per host uid (default 1024); cgroups do the real work */
    uint64_t cpu_s;        /* CPU seconds, 0 = unlimited */
    uint64_t stack;        /* 0 = inherit */
};

/* Receives output as it arrives.  stream is 1 (stdout) or 2 (stderr).  Return 0 to go
 * on, a negative value to cancel the run (reason CANCELLED). */
typedef int (*ls_output_fn)(void *userdata, int stream, const char *buf, size_t len);

struct ls_sandbox_spec {
    const char *const *argv;       /* argv[0] is looked up in the sandbox's PATH */
    const char *const *envp;       /* the whole environment; NULL: PATH, HOME, LANG only */
    const char *workspace;         /* host directory bound read-write at /work; NULL: empty tmpfs */
    const struct ls_bind *binds;   /* system binds; NULL: ls_sandbox_default_binds() */
    size_t n_binds;
    uid_t uid, gid;                /* identity inside the sandbox (default 0:0) */
    const char *hostname;          /* default "sandbox" */
    uint64_t memory_max;           /* bytes for the whole sandbox, swap 0 (default 1 GiB); 0: none */
    uint32_t cpu_millis;           /* CPU bandwidth in thousandths of a CPU (500 = half); 0: none */
    uint64_t pids_max;             /* processes + threads (default 512); 0: none */
    uint64_t cpu_time_ms;          /* CPU time of the whole sandbox; 0: none */
    uint64_t shm_max;              /* SysV shared memory of its IPC namespace; 0: = memory_max */
    uint64_t tmp_size;             /* bytes for /tmp (default 64 MiB) */
    uint64_t tmp_inodes;           /* inodes for /tmp (default 16384) */
    uint64_t work_size;            /* size of the tmpfs /work when there is no workspace */
    struct ls_rlimits rlimits;
    uint64_t timeout_ms;           /* wall clock, 0 = none */
    uint64_t stdout_limit;         /* bytes, 0 = default 16 MiB */
    uint64_t stderr_limit;
    int stdin_fd;                  /* fd to read stdin from; -1: /dev/null */
    const char *cwd;               /* absolute working directory inside (default "/work");
                                    * entered as the sandbox identity after pivot_root */
    int cancel_fd;                 /* -1: none.  When it becomes readable or hangs up, the
                                    * run is cancelled at once: everything is killed,
                                    * reason CANCELLED; if that happens before the command
                                    * has started, it never starts.  Never read (its
                                    * contents are the caller's); a pipe, socket or eventfd */
    const struct ls_seccomp_program *seccomp; /* NULL: the default program, built once */
    ls_output_fn on_output;        /* NULL: output is counted and dropped */
    void *userdata;
};

/* Fill spec with the defaults above (argv/envp left NULL, stdin_fd and cancel_fd -1). */
void ls_sandbox_spec_init(struct ls_sandbox_spec *spec);

/* The default read-only system binds (/usr, /lib, /lib64, /bin, /sbin, /etc essentials). */
const struct ls_bind *ls_sandbox_default_binds(size_t *ret_n);

/*
 * Make the calling process fit to start sandboxes, once at program start: it must be
 * root in the initial user namespace; its supplementary groups are dropped (they
 * would follow the sandbox's processes into the new user namespace, where setgroups
 * is denied); the cgroup version is detected and the parent cgroup prepared (the
 * default seccomp program is compiled on first use); and, unless cfg->no_sweep, what a
 * crashed earlier process left behind -- cgroups of sandboxes whose uid slot nobody
 * holds, stale slot files -- is killed and removed.  The sweep never touches a cgroup
 * whose slot is held, so it is safe while other processes run sandboxes.  cfg may be
 * NULL for the defaults.  Returns 0 or -errno.
 */
int ls_sandbox_host_open(const struct ls_host_config *cfg, struct ls_sandbox_host **ret,
                         struct ls_error *err);

/* Free; accepts NULL; returns NULL.  Sandboxes must have finished. */
struct ls_sandbox_host *ls_sandbox_host_free(struct ls_sandbox_host *host);

/* 1 or 2: the cgroup version in use. */
int ls_sandbox_host_cgroup_version(const struct ls_sandbox_host *host);

/*
 * Run spec->argv in a fresh sandbox and wait for it, delivering output to
 * spec->on_output.  Returns 0 when a result was produced -- including runs that
 * failed to set up (reason SETUP_FAILED, with ret->error filled) and cancelled runs
 * (reason CANCELLED) -- or -errno when
 * the arguments are invalid or a resource could not be had (err filled), or when the
 * sandbox's cgroup could not be removed (ret is filled then too).  Every process,
 * mount, cgroup and fd of the sandbox is gone when it returns 0.  The calling thread
 * must live until it returns (the sandbox dies with it: PR_SET_PDEATHSIG).
 *
 * ret->denied_syscalls counts the calls the seccomp program refused with an errno: the
 * command runs under the program's notify form and this thread answers each refused
 * call with the plain program's errno (docs/sandbox.md).  The count is unavailable
 * (null in JSON) when the kernel gives no listener -- the plain program is installed
 * then -- or the program does not allow execve, write and exit_group.
 */
int ls_sandbox_run(struct ls_sandbox_host *host, const struct ls_sandbox_spec *spec,
                   struct ls_result *ret, struct ls_error *err);
