/*
 * sandbox.c - the recipe: build one sandbox, run one command, tear it down.
 *
 * ls_sandbox_run() reads top to bottom as the list of steps (docs/sandbox.md says why
 * each is safe):
 *
 *   parent                                   child (pid 1 of the new pid namespace)
 *   ------                                   -----------------------------------------
 *   validate the spec, build env/caps
 *   take a host uid from the range
 *   create its cgroup with the limits
 *   pipes for stdout/stderr, a channel
 *   clone3(new user, pid, mnt, net, uts,
 *          ipc, cgroup ns) + pidfd, on
 *          v2 into the cgroup    -------> wait on the channel
 *   v1: move it into the cgroup
 *   write uid/gid maps, deny setgroups
 *   bring lo up (libnl)
 *   IPC limits (shm_rmid_forced, shmmax)
 *   id-map the workspace mount
 *   send GO (+ workspace mount fd)  -------> fds 0/1/2 + channel only; v1: new cgroup
 *                                            namespace; become uid/gid
 *                                            root on tmpfs, binds, /work, /tmp, /proc,
 *                                            /dev; pivot_root; hostname; new session;
 *                                            umask; rlimits; capabilities empty;
 *                                            no_new_privs; cwd; init: READY
 *   RUN (unless cancelled)          -------> start the command (seccomp notify form,
 *                                            execve), hand over its listener, reap,
 *                                            report
 *   stream output, answer and count refused
 *   calls, enforce the wall clock, the
 *   cancel fd and the CPU-time total, reap init (the
 *   kernel has killed the rest of the
 *   namespace), read the cgroup's usage,
 *   build the result, kill + remove the
 *   cgroup, release the uid
 *
 * Nothing is mounted in the host's mount namespace and nothing is created on the
 * host but the uid slot file and the cgroup, so teardown is: kill init, reap it,
 * remove the cgroup, close fds.
 */
#include "labstack/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "cgroup.h"
#include "idmap.h"
#include "init.h"
#include "ipc.h"
#include "labstack/fdpass.h"
#include "labstack/macros.h"
#include "labstack/parse.h"
#include "labstack/policy.h"
#include "labstack/seccomp.h"
#include "namespaces.h"
#include "network.h"
#include "notify.h"
#include "process.h"
#include "rootfs.h"
#include "watch.h"

#define MiB (1024ull * 1024ull)

static const struct ls_bind default_binds[] = {
    {.src = "/usr"},
    {.src = "/bin"},
    {.src = "/sbin"},
    {.src = "/lib"},
    {.src = "/lib64", .optional = true},
    {.src = "/lib32", .optional = true},
    {.src = "/libx32", .optional = true},
    {.src = "/etc/passwd"},
    {.src = "/etc/group"},
    {.src = "/etc/hosts", .optional = true},
    {.src = "/etc/nsswitch.conf", .optional = true},
    {.src = "/etc/ld.so.cache", .optional = true},
    {.src = "/etc/ld.so.conf", .optional = true},
    {.src = "/etc/ld.so.conf.d", .optional = true},
    {.src = "/etc/alternatives", .optional = true},
    {.src = "/etc/ssl", .optional = true},
    {.src = "/etc/ca-certificates", .optional = true},
    {.src = "/etc/localtime", .optional = true},
    {.src = "/etc/protocols", .optional = true},
    {.src = "/etc/services", .optional = true},
    {.src = "/etc/mime.types", .optional = true},
};

const struct ls_bind *ls_sandbox_default_binds(size_t *ret_n) {
    *ret_n = ELEMENTSOF(default_binds);
    return default_binds;
}

void ls_sandbox_spec_init(struct ls_sandbox_spec *spec) {
    *spec = (struct ls_sandbox_spec){
        .hostname = "sandbox",
        .memory_max = 1024 * MiB,
        .pids_max = 512,
        .tmp_size = 64 * MiB,
        .tmp_inodes = 16384,
        .work_size = 64 * MiB,
        .rlimits = {.nofile = 1024, .fsize = 1024 * MiB, .nproc = 1024},
        .stdout_limit = 16 * MiB,
        .stderr_limit = 16 * MiB,
        .stdin_fd = -1,
        .cwd = "/work",
        .cancel_fd = -1,
    };
}

struct ls_sandbox_host {
    struct ls_idmap_range idmap;             /* resolved */
    struct cgroup_manager *cgroups;
    pthread_mutex_t lock;                    /* guards default_prog */
    struct ls_seccomp_program *default_prog; /* built on first use, shared by every run */
};

/* The built-in program for runs without one of their own (no policy): compiled on
 * first use (~10 ms), so a process that always brings a policy never pays for it. */
static int default_program(struct ls_sandbox_host *h, const struct ls_seccomp_program **ret,
                           struct ls_error *err) {
    int r = 0;
    pthread_mutex_lock(&h->lock);
    if (!h->default_prog)
        r = ls_seccomp_build(ls_seccomp_default_spec(), &h->default_prog, err);
    *ret = h->default_prog;
    pthread_mutex_unlock(&h->lock);
    return r;
}

#define CGROUP_PREFIX "sb-"

/* Stale-cleanup callback: a cgroup "sb-<uid>" whose uid slot can be taken has no live
 * owner; while we hold the slot nobody can start a sandbox with that name, so the
 * cgroup can be killed and removed without racing one. */
static int remove_if_stale(const char *name, void *userdata) {
    struct ls_sandbox_host *h = userdata;
    struct idmap_slot slot = IDMAP_SLOT_INIT;
    uint64_t id;
    int r;

    if (strncmp(name, CGROUP_PREFIX, strlen(CGROUP_PREFIX)) != 0 ||
        ls_parse_uint(name + strlen(CGROUP_PREFIX), UINT32_MAX, &id) < 0 || id < h->idmap.base ||
        id - h->idmap.base >= h->idmap.count)
        return 0; /* not one of ours */
    r = idmap_claim(&h->idmap, (uid_t)id, &slot, NULL);
    if (r <= 0)
        return 0; /* in use (or unlockable): leave it */
    /* A cgroup that will not go away must not stop the start: the next start retries. */
    (void)cgroup_remove(h->cgroups, name, NULL);
    idmap_release(&slot);
    return 0;
}

int ls_sandbox_host_open(const struct ls_host_config *cfg, struct ls_sandbox_host **ret,
                         struct ls_error *err) {
    struct ls_sandbox_host *h;
    int r;

    if (geteuid() != 0)
        return ls_error_set(err, EPERM, "prepare", "sandboxes can only be created by root");
    /* Supplementary groups would follow the sandbox into its user namespace, where
     * setgroups is denied and they could not be dropped. */
    if (setgroups(0, NULL) < 0)
        return ls_error_set(err, errno, "prepare", "drop supplementary groups");
    h = calloc(1, sizeof(*h));
    if (!h)
        return ls_error_set(err, ENOMEM, "prepare", "allocate the sandbox host");
    pthread_mutex_init(&h->lock, NULL);
    if (cfg)
        h->idmap = cfg->idmap;
    r = idmap_range_resolve(&h->idmap, err);
    if (r < 0)
        goto fail;
    r = cgroup_manager_open(cfg && cfg->cgroup_parent ? cfg->cgroup_parent : "labstack",
                            &h->cgroups, err);
    if (r < 0)
        goto fail;
    /* What a crashed predecessor left: cgroups first (they are named after slots),
     * then the slot files themselves.  Safe beside live sandboxes of other processes:
     * remove_if_stale only touches a cgroup whose slot it could lock itself. */
    if (!(cfg && cfg->no_sweep)) {
        r = cgroup_for_each_child(h->cgroups, remove_if_stale, h, err);
        if (r >= 0)
            r = idmap_sweep(&h->idmap, err);
        if (r < 0)
            goto fail;
    }
    *ret = h;
    return 0;
fail:
    ls_sandbox_host_free(h);
    return r;
}

struct ls_sandbox_host *ls_sandbox_host_free(struct ls_sandbox_host *h) {
    if (h) {
        cgroup_manager_free(h->cgroups);
        ls_seccomp_program_free(h->default_prog);
        pthread_mutex_destroy(&h->lock);
        free(h);
    }
    return NULL;
}

int ls_sandbox_host_cgroup_version(const struct ls_sandbox_host *h) {
    return cgroup_manager_version(h->cgroups);
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int validate(const struct ls_sandbox_spec *s, struct ls_error *err) {
    if (!s->argv || !s->argv[0] || !s->argv[0][0])
        return ls_error_set(err, EINVAL, "spec", "no command given");
    if (s->n_binds && !s->binds)
        return ls_error_set(err, EINVAL, "spec", "n_binds without binds");
    if (s->tmp_size == 0 || s->tmp_inodes == 0)
        return ls_error_set(err, EINVAL, "spec", "/tmp needs a non-zero size and inode count");
    if (s->memory_max && s->memory_max < 4 * MiB)
        return ls_error_set(err, EINVAL, "spec", "memory limit %llu bytes is below 4 MiB",
                            (unsigned long long)s->memory_max);
    if (s->pids_max == 1)
        return ls_error_set(err, EINVAL, "spec", "a pids limit of 1 leaves no room for the command");
    if (s->cpu_millis && s->cpu_millis < 10)
        return ls_error_set(err, EINVAL, "spec", "a CPU quota below 0.01 CPU is not usable");
    if (s->uid == (uid_t)-1 || s->gid == (gid_t)-1)
        return ls_error_set(err, EINVAL, "spec", "uid/gid -1 is not a valid identity");
    if (s->hostname && strlen(s->hostname) > 64)
        return ls_error_set(err, EINVAL, "spec", "hostname longer than 64 bytes");
    if (s->stdin_fd >= 0) {
        /* fd 0 of the sandbox is this very open file: it must be something to read from
         * and nothing more -- not a terminal (TIOCSTI), not a socket (a way out of the
         * network namespace), not a file opened for writing. */
        struct stat st;
        int fl = fcntl(s->stdin_fd, F_GETFL);
        if (fl < 0 || fstat(s->stdin_fd, &st) < 0)
            return ls_error_set(err, errno, "spec", "stdin fd %d", s->stdin_fd);
        if (isatty(s->stdin_fd) || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)))
            return ls_error_set(err, EINVAL, "spec",
                                "stdin must be a regular file or a pipe (not a terminal, socket "
                                "or device)");
        if ((fl & O_ACCMODE) != O_RDONLY)
            return ls_error_set(err, EINVAL, "spec", "stdin must be open read-only");
    }
    if (s->workspace && s->workspace[0] != '/')
        return ls_error_set(err, EINVAL, "spec", "workspace \"%s\" is not an absolute path",
                            s->workspace);
    if (s->cwd && (s->cwd[0] != '/' || strlen(s->cwd) >= PATH_MAX))
        return ls_error_set(err, EINVAL, "spec", "cwd \"%.200s\" is not an absolute path", s->cwd);
    if (s->cancel_fd >= 0) {
        /* Polled, never read: it must be something poll can wait on. */
        struct stat st;
        if (fstat(s->cancel_fd, &st) < 0)
            return ls_error_set(err, errno, "spec", "cancel fd %d", s->cancel_fd);
        if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
            return ls_error_set(err, EINVAL, "spec",
                                "cancel fd %d is a file; expected a pipe, socket or eventfd",
                                s->cancel_fd);
    }
    return 0;
}

/* Everything the child needs, prepared by the parent before clone: the child only
 * reads it (its copy of the address space) and never allocates. */
struct child_args {
    const struct ls_sandbox_spec *spec;
    const struct ls_bind *binds;
    size_t n_binds;
    int chan, stdin_fd, out_w, err_w;
    bool new_cgroupns;             /* v1: re-root the cgroup namespace after the move */
    struct ls_rlimits rlimits;     /* spec's, plus RLIMIT_CPU from cpu_time_ms */
    cap_t empty_caps;
    struct init_exec exec;
};

/* Receive GO (and the workspace mount fd, if any) from the parent.  Returns the fd
 * (or -1), -EPIPE if the parent went away, or -errno. */
static int child_wait_go(int chan) {
    struct chan_msg m;
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                        .msg_controllen = sizeof(cbuf)};
    ssize_t n;

    do
        n = recvmsg(chan, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n != sizeof(m) || m.type != CHAN_GO)
        return -EPIPE;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        int fd;
        memcpy(&fd, CMSG_DATA(c), sizeof(fd));
        return fd;
    }
    return -1;
}

_noreturn_ static void child_main(const struct child_args *a) {
    const struct ls_sandbox_spec *s = a->spec;
    struct chan_msg m = {.type = CHAN_SETUP_ERROR};
    struct ls_error *e = &m.error;
    int chan = a->chan, ws, r;

    /* Signals are blocked (see the clone): reset every disposition to the default first,
     * so none of the caller's handlers can run here, and so that an ignored signal does not
     * survive execve.  They stay blocked; the command's process unblocks them. */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);

    /* Not dumpable from the start: nothing may ptrace or read us meanwhile.  (Set again
     * after the identity switch, which resets it.) */
    if (prctl(PR_SET_DUMPABLE, 0) < 0) {
        ls_error_set_safe(e, errno, "prctl", "set non-dumpable", NULL);
        goto fail;
    }
    ws = child_wait_go(chan);
    if (ws == -EPIPE)
        _exit(125); /* the parent gave up; nothing to report to */
    if (ws < -1) {
        ls_error_set_safe(e, -ws, "sync", "wait for the parent", NULL);
        goto fail;
    }

    /* 0/1/2 = stdin, stdout, stderr; 3 = channel; 4 = workspace mount.  All else closed. */
    {
        int keep[5] = {a->stdin_fd, a->out_w, a->err_w, chan, ws};
        r = proc_arrange_fds(keep, ws >= 0 ? 5 : 4, e);
        if (r < 0)
            goto fail;
        chan = 3;
        ws = ws >= 0 ? 4 : -1;
    }

    /* v1: the parent has moved us into our cgroup only after clone, so the cgroup
     * namespace created by clone is rooted above it; a new one is rooted at it. */
    if (a->new_cgroupns && unshare(CLONE_NEWCGROUP) < 0) {
        ls_error_set_safe(e, errno, "cgroup", "new cgroup namespace", NULL);
        goto fail;
    }

    /* Become the sandbox identity (the only one mapped).  Capabilities in the new user
     * namespace stay until caps_drop_all(): root of the namespace is not mapped when
     * uid != 0, and a switch to uid 0 keeps them. */
    /* Raw syscalls: glibc's setresuid() would signal every thread the parent had. */
    if (syscall(SYS_setresgid, s->gid, s->gid, s->gid) < 0 ||
        syscall(SYS_setresuid, s->uid, s->uid, s->uid) < 0) {
        ls_error_set_safe(e, errno, "identity", "setresuid/setresgid", NULL);
        goto fail;
    }
    /* The identity switch cleared the parent-death signal and reset dumpable, so both
     * are set now.  If the parent dies from here on, so does the sandbox (we are pid 1:
     * all of it); if it died before, its end of the channel is closed already. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || prctl(PR_SET_DUMPABLE, 0) < 0) {
        ls_error_set_safe(e, errno, "prctl", "set parent-death signal / non-dumpable", NULL);
        goto fail;
    }
    {
        struct pollfd pfd = {.fd = chan, .events = 0};
        if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR)))
            _exit(125);
    }

    {
        struct rootfs_config rc = {
            .binds = a->binds,
            .n_binds = a->n_binds,
            .workspace_mnt = ws,
            .work_size = s->work_size,
            .tmp_size = s->tmp_size,
            .tmp_inodes = s->tmp_inodes,
        };
        r = rootfs_setup(&rc, e);
        if (r < 0)
            goto fail;
        if (ws >= 0)
            close(ws);
    }

    const char *hn = s->hostname ? s->hostname : "sandbox";
    if (sethostname(hn, strlen(hn)) < 0) {
        ls_error_set_safe(e, errno, "hostname", "sethostname", hn);
        goto fail;
    }
    if (setsid() < 0) {
        ls_error_set_safe(e, errno, "session", "setsid", NULL);
        goto fail;
    }
    umask(022);
    r = proc_set_rlimits(&a->rlimits, e);
    if (r < 0)
        goto fail;
    r = caps_drop_all(a->empty_caps, e);
    if (r < 0)
        goto fail;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        ls_error_set_safe(e, errno, "no_new_privs", "PR_SET_NO_NEW_PRIVS", NULL);
        goto fail;
    }
    /* The working directory, entered with exactly the command's rights: after
     * pivot_root (only the sandbox's tree is reachable) and with every capability
     * gone (no DAC override: a directory the identity may not enter fails). */
    {
        const char *cwd = s->cwd ? s->cwd : "/work";
        if (chdir(cwd) < 0) {
            ls_error_set_safe(e, errno, "cwd", "chdir", cwd);
            goto fail;
        }
    }
    init_run(chan, &a->exec);

fail:
    chan_send(chan, &m);
    _exit(125);
}

/* Parent: open the workspace as a detached mount, id-mapped so that its owner on
 * disk is the sandbox's uid inside.  Returns the mount fd or -errno with err. */
static int workspace_mount(const struct ls_sandbox_spec *s, pid_t pid, uid_t host_id,
                           struct ls_error *err) {
    _cleanup_close_ int mfd = -EBADF, userns = -EBADF;
    struct stat st;

    /* AT_SYMLINK_NOFOLLOW: we are root and about to make the directory's owner the
     * sandbox's; a workspace path that is (now) a symlink to / or /etc must not count. */
    mfd = (int)syscall(SYS_open_tree, AT_FDCWD, s->workspace,
                       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
    if (mfd < 0)
        return ls_error_set(err, errno, "workspace", "open workspace %s", s->workspace);
    if (fstat(mfd, &st) < 0)
        return ls_error_set(err, errno, "workspace", "stat workspace %s", s->workspace);
    if (!S_ISDIR(st.st_mode))
        return ls_error_set(err, ENOTDIR, "workspace", "workspace %s", s->workspace);
    /* The sandbox's own user namespace maps uid/gid -> host_id; when the workspace is
     * owned by exactly that uid/gid on disk it is the right idmapping already. */
    if (st.st_uid == s->uid && st.st_gid == s->gid)
        userns = ns_open(pid, "user");
    else
        userns = ns_userns_for_map(st.st_uid, st.st_gid, host_id);
    if (userns < 0)
        return ls_error_set(err, -userns, "workspace", "user namespace for the workspace idmap");
    struct mount_attr attr = {
        .attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
        .userns_fd = (uint64_t)userns,
    };
    if (syscall(SYS_mount_setattr, mfd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
        return ls_error_set(err, errno, "workspace",
                            "id-map workspace %s (its filesystem must support id-mapped mounts)",
                            s->workspace);
    return TAKE_FD(mfd);
}

static int send_go(int chan, int fd) {
    struct chan_msg m = {.type = CHAN_GO};
    union {
        struct cmsghdr align;
        char buf[LS_FDPASS_CMSG_SIZE];
    } cbuf;
    struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0)
        ls_fdpass_attach(&mh, cbuf.buf, fd);
    return sendmsg(chan, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static uint64_t ms(struct timeval tv) {
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

/* The result: why the run ended, typed.  A limit is named as the reason only when the
 * command did not succeed anyway (a test suite whose one test hit the memory limit
 * and that still exited 0 "exited"). */
static void fill_result(const struct watch *w, const struct cgroup_usage *u, int cg_version,
                        uint64_t pids_max, uint64_t wall_ms, uid_t host_id,
                        struct ls_result *ret) {
    bool exited = w->have_status && WIFEXITED(w->status);
    bool signaled = w->have_status && WIFSIGNALED(w->status);
    bool success = exited && WEXITSTATUS(w->status) == 0;

    *ret = (struct ls_result){
        .exit_code = exited ? WEXITSTATUS(w->status) : -1,
        .signal = signaled ? WTERMSIG(w->status) : 0,
        .wall_ms = wall_ms,
        .user_ms = ms(w->usage.ru_utime),
        .sys_ms = ms(w->usage.ru_stime),
        .stdout_bytes = w->bytes[0],
        .stderr_bytes = w->bytes[1],
        .stdout_truncated = w->truncated[0],
        .stderr_truncated = w->truncated[1],
        .host_uid = host_id,
        .peak_memory_bytes = u->memory_peak,
        .cpu_user_ms = u->cpu_user_us / 1000,
        .cpu_sys_ms = u->cpu_sys_us / 1000,
        /* Without pids.peak (older kernels), a refused fork proves the peak hit the max. */
        .pids_peak = u->pids_peak ? u->pids_peak : (u->pids_refused ? pids_max : 0),
        .cgroup_version = cg_version,
    };
    /* Counted only when the listener was answered from the command's start on. */
    if (w->denied_counted && !w->failed) {
        notify_fill_result(&w->denied, &ret->denied_syscalls);
        ret->denied_syscalls.available = true;
    }
    if (w->failed) {
        ret->reason = LS_REASON_SETUP_FAILED;
        ret->error = w->error;
    } else if (w->killed_for != LS_REASON_NONE) {
        ret->reason = w->killed_for;
        ret->signal = SIGKILL;
    } else if (signaled && ret->signal == SIGXCPU) {
        ret->reason = LS_REASON_CPU_LIMIT;
    } else if (!success && u->oom_kills > 0) {
        ret->reason = LS_REASON_OOM;
    } else if (!success && u->pids_refused > 0) {
        ret->reason = LS_REASON_PIDS_LIMIT;
    } else if (exited) {
        ret->reason = LS_REASON_EXITED;
    } else if (signaled) {
        ret->reason = ret->signal == SIGSYS ? LS_REASON_SECCOMP : LS_REASON_SIGNALED;
    } else {
        ret->reason = LS_REASON_SETUP_FAILED;
        ls_error_set(&ret->error, EIO, "init", "the sandbox's init ended without reporting a status");
    }
}

static struct cgroup_limits cgroup_limits_of(const struct ls_sandbox_spec *s) {
    return (struct cgroup_limits){
        .memory_max = s->memory_max,
        .cpu_quota_us = (uint64_t)s->cpu_millis * 100, /* per 100 ms period */
        .cpu_period_us = 100000,
        .pids_max = s->pids_max,
    };
}

/* Run the command under the notify form?  Only when the calls the command's process
 * makes between its filter and the new program -- execve, and write + exit_group to
 * report a failed execve (init.c) -- are allowed: one of them refused would wait for
 * an answer from a listener that has not reached us yet (init sleeps until execve). */
static bool can_notify(const struct ls_seccomp_program *prog) {
    static const struct {
        int nr;
        uint64_t args[6];
    } calls[] = {
        {SYS_execve, {0}},
        {SYS_write, {3, 0, sizeof(struct chan_msg)}},
        {SYS_exit_group, {125}},
        {SYS_exit_group, {126}},
        {SYS_exit_group, {127}},
    };
    for (size_t i = 0; i < ELEMENTSOF(calls); i++) {
        struct ls_verdict v;
        if (ls_seccomp_eval(prog, calls[i].nr, calls[i].args, 0, &v) < 0 ||
            v.kind != LS_VERDICT_ALLOW)
            return false;
    }
    return true;
}

/* The result of a run cancelled before anything was created. */
static void cancelled_before_start(struct ls_result *ret) {
    *ret = (struct ls_result){.reason = LS_REASON_CANCELLED, .exit_code = -1};
}

int ls_sandbox_run(struct ls_sandbox_host *host, const struct ls_sandbox_spec *spec,
                   struct ls_result *ret, struct ls_error *err) {
    _cleanup_free_ char **env = NULL;
    _cleanup_close_ int out_r = -EBADF, out_w = -EBADF, err_r = -EBADF, err_w = -EBADF;
    _cleanup_close_ int chan_p = -EBADF, chan_c = -EBADF, pidfd = -EBADF, ws = -EBADF;
    const struct ls_seccomp_program *prog = spec->seccomp;
    struct idmap_slot slot = IDMAP_SLOT_INIT;
    struct cgroup *cg = NULL;
    struct cgroup_usage usage = {0};
    struct cgroup_limits limits = cgroup_limits_of(spec);
    int cg_version = cgroup_manager_version(host->cgroups);
    struct watch w = {.denied = NOTIFY_INIT};
    cap_t empty_caps = NULL;
    char cg_name[32];
    uint64_t t0;
    pid_t pid;
    int r, watch_r = 0, p[2], sv[2];
    sigset_t all_signals, saved_mask;

    /* 1. Check the request and prepare everything the child will only read. */
    r = validate(spec, err);
    if (r < 0)
        return r;
    if (!prog) {
        r = default_program(host, &prog, err);
        if (r < 0)
            return r;
    }
    const struct ls_bind *binds = spec->binds;
    size_t n_binds = spec->n_binds;
    if (!binds)
        binds = ls_sandbox_default_binds(&n_binds);
    r = rootfs_validate_binds(binds, n_binds, err);
    if (r < 0)
        return r;
    if (getgroups(0, NULL) != 0)
        return ls_error_set(err, EPERM, "prepare",
                            "the caller has supplementary groups; use ls_sandbox_host_open()");
    env = proc_build_env(spec, err);
    if (!env)
        return -(err && err->code ? err->code : EINVAL);
    empty_caps = caps_prepare();
    if (!empty_caps)
        return ls_error_set(err, ENOMEM, "capabilities", "cap_init");
    struct ls_rlimits rlimits = spec->rlimits;
    if (spec->cpu_time_ms && !rlimits.cpu_s)
        rlimits.cpu_s = (spec->cpu_time_ms + 999) / 1000; /* per process; the cgroup totals */
    /* Cancelled already: nothing has been created, nothing runs. */
    if (watch_cancel_requested(spec->cancel_fd)) {
        cancelled_before_start(ret);
        r = 0;
        goto out;
    }

    /* 2. A host uid of our own for this sandbox, and the cgroup named after it. */
    r = idmap_acquire(&host->idmap, &slot, err);
    if (r < 0)
        goto out;
    snprintf(cg_name, sizeof(cg_name), CGROUP_PREFIX "%u", (unsigned)slot.host_id);
    r = cgroup_create(host->cgroups, cg_name, &limits, &cg, err);
    if (r < 0)
        goto out;

    /* 3. Output pipes and the parent<->child channel. */
    if (pipe2(p, O_CLOEXEC) < 0) {
        r = ls_error_set(err, errno, "pipes", "stdout pipe");
        goto out;
    }
    out_r = p[0], out_w = p[1];
    if (pipe2(p, O_CLOEXEC) < 0) {
        r = ls_error_set(err, errno, "pipes", "stderr pipe");
        goto out;
    }
    err_r = p[0], err_w = p[1];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        r = ls_error_set(err, errno, "pipes", "channel");
        goto out;
    }
    chan_p = sv[0], chan_c = sv[1];
    if (fcntl(out_r, F_SETFL, O_NONBLOCK) < 0 || fcntl(err_r, F_SETFL, O_NONBLOCK) < 0) {
        r = ls_error_set(err, errno, "pipes", "set non-blocking");
        goto out;
    }

    /* 4. The namespaces -- on cgroup v2 directly inside the sandbox's cgroup. */
    struct child_args ca = {
        .spec = spec,
        .binds = binds,
        .n_binds = n_binds,
        .chan = chan_c,
        .stdin_fd = spec->stdin_fd,
        .out_w = out_w,
        .err_w = err_w,
        .new_cgroupns = cg_version == 1,
        .rlimits = rlimits,
        .empty_caps = empty_caps,
        .exec = {.argv = spec->argv, .envp = env, .seccomp = prog, .notify = can_notify(prog)},
    };
    t0 = now_ms();
    /* The child starts with every signal blocked: until it has reset the dispositions,
     * a signal to our process group must not run one of the caller's handlers in it. */
    sigfillset(&all_signals);
    pthread_sigmask(SIG_SETMASK, &all_signals, &saved_mask);
    pid = ns_clone(NS_SANDBOX_FLAGS, cgroup_clone_fd(cg), &pidfd);
    if (pid != 0)
        pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
    if (pid < 0) {
        r = ls_error_set(err, -pid, "clone", "clone3 into new namespaces");
        goto out;
    }
    if (pid == 0)
        child_main(&ca);
    out_w = safe_close(out_w);
    err_w = safe_close(err_w);
    chan_c = safe_close(chan_c);

    w = (struct watch){
        .pid = pid,
        .pidfd = pidfd,
        .chan = chan_p,
        .out = {out_r, err_r},
        .timeout_ms = spec->timeout_ms,
        .limit = {spec->stdout_limit ? spec->stdout_limit : 16 * MiB,
                  spec->stderr_limit ? spec->stderr_limit : 16 * MiB},
        .on_output = spec->on_output,
        .userdata = spec->userdata,
        .cg = cg,
        .cpu_limit_us = spec->cpu_time_ms * 1000,
        .pids_limited = spec->pids_max > 0,
        .cancel_fd = spec->cancel_fd,
        .seccomp = prog,
        .denied = NOTIFY_INIT,
    };

    /* 5. From outside, while the child waits: cgroup (v1), identity maps, loopback,
     * the workspace; then let it go.  The child has run none of the sandbox's code
     * yet, so it never runs outside its limits. */
    r = cgroup_attach(cg, pid, &w.error);
    if (r < 0)
        goto setup_failed;
    r = ns_write_id_maps(pid, spec->uid, spec->gid, slot.host_id);
    if (r < 0) {
        ls_error_set(&w.error, r, "uid_map", "write uid/gid maps for host uid %u",
                     (unsigned)slot.host_id);
        goto setup_failed;
    }
    r = net_setup_loopback(pid, &w.error);
    if (r < 0)
        goto setup_failed;
    /* The IPC namespace's owner: our host uid when it is the sandbox's root. */
    r = ipc_setup_limits(pid, spec->uid == 0 ? slot.host_id : 0,
                         spec->shm_max ? spec->shm_max : spec->memory_max, &w.error);
    if (r < 0)
        goto setup_failed;
    if (spec->workspace) {
        ws = workspace_mount(spec, pid, slot.host_id, &w.error);
        if (ws < 0) {
            r = ws;
            goto setup_failed;
        }
    }
    /* Cancelled during the setup so far: the child has run none of the sandbox's
     * code; kill it before it does (the watch loop checks again before the command). */
    if (watch_cancel_requested(spec->cancel_fd)) {
        w.killed_for = LS_REASON_CANCELLED;
        goto kill_child;
    }
    r = send_go(chan_p, ws);
    if (r < 0) {
        ls_error_set(&w.error, r, "sync", "release the child");
        goto setup_failed;
    }
    ws = safe_close(ws);

    /* 6. Watch it until everything in it is dead. */
    watch_r = watch_run(&w, err);
    goto finish;

setup_failed:
    w.failed = true;
kill_child:
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    while (wait4(pid, NULL, 0, &w.usage) < 0 && errno == EINTR)
        ;
finish:
    /* 7. Usage, then the cgroup goes (anything still in it is killed first). */
    (void)cgroup_read_usage(cg, &usage);
    fill_result(&w, &usage, cg_version, spec->pids_max, now_ms() - t0, slot.host_id, ret);
    r = cgroup_destroy(TAKE_PTR(cg), watch_r < 0 ? NULL : err);
    if (r < 0)
        goto out; /* the result stands, but the caller must learn that cleanup failed */
    r = watch_r; /* the watch loop's own failure (err says it), or 0 */
out:
    if (cg)
        (void)cgroup_destroy(cg, NULL);
    notify_done(&w.denied);
    idmap_release(&slot);
    if (empty_caps)
        cap_free(empty_caps);
    return r;
}
