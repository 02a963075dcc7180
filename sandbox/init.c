/*
 * init.c - labstack's pid 1 inside every sandbox.
 *
 * Why an init of our own instead of exec'ing the command as pid 1: the kernel treats
 * pid 1 of a namespace specially -- signals it has no handler for are ignored (a test
 * that raise()s SIGTERM or SIGABRT would not die), and every orphan is reparented to
 * it (a command that never wait()s would pile up zombies).  Our init reaps, and when
 * the command ends it exits, which makes the kernel kill every remaining process of
 * the namespace (setsid daemons, double forks, stopped or SIGTERM-ignoring ones).
 *
 * Why this is safe: init runs our code only, with every capability dropped,
 * no_new_privs and PR_SET_DUMPABLE 0 (so the sandboxed processes, same uid, cannot
 * ptrace it or open /proc/1/mem or /proc/1/fd), and all signals blocked; as pid 1 it
 * cannot be killed from inside.  It does not load the seccomp filter itself, so a
 * strict policy can never break its bookkeeping; the command does, right before
 * execve.  Only raw syscalls and async-signal-safe calls are used: the parent may be
 * multithreaded and its locks are meaningless here.
 *
 * Handing the seccomp listener to the parent (docs/sandbox.md, "Counting refused
 * calls").  The listener is created by the filter's installation in the command's
 * process, and from that instant every call the policy refuses waits for an answer,
 * so the hand-off must not need any call the policy may refuse -- not sendmsg, not
 * read, not even write.  Init therefore starts the command's process with CLONE_FILES
 * (one fd table for both) and CLONE_VFORK (init sleeps until the child has called
 * execve or exited).  The child installs the notify filter, whose listener lands in
 * the shared table at the lowest free number, and calls execve, which gives the new
 * program a private copy of the table without close-on-exec fds (the listener is
 * one).  When init wakes, the listener is in its own table: it checks that the slot
 * holds a seccomp listener, sends it to the parent with SCM_RIGHTS (init has no
 * filter) and closes it.  Between the filter and execve the child makes no call but
 * execve (and, if that fails, write and exit_group); ls_sandbox_run() uses the notify
 * form only for programs that allow those three.  If the kernel refuses a listener,
 * the child installs the plain filter instead and init finds the slot empty.
 */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "labstack/fdpass.h"
#include "labstack/seccomp.h"
#include "process.h"

int chan_send(int fd, const struct chan_msg *m) {
    /* write(), not send(): a SOCK_SEQPACKET write is one message too, and write is in
     * every allow-list, while a strict policy may refuse sendto.  SIGPIPE cannot hit us:
     * init blocks every signal, and the command's process is about to exit anyway. */
    ssize_t n;
    do
        n = write(fd, m, sizeof(*m));
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : 0;
}

int chan_send_fd(int fd, const struct chan_msg *m, int passfd) {
    union {
        struct cmsghdr align;
        char buf[LS_FDPASS_CMSG_SIZE];
    } cbuf;
    struct iovec iov = {.iov_base = (void *)m, .iov_len = sizeof(*m)};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n;

    if (passfd >= 0)
        ls_fdpass_attach(&mh, cbuf.buf, passfd);
    do
        n = sendmsg(fd, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : 0;
}

_noreturn_ static void command_main(int chan, const struct init_exec *ex) {
    struct chan_msg m = {.type = CHAN_EXEC_ERROR};
    sigset_t all;
    int r;

    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, NULL);
    /* The listener (if any) stays in the fd table shared with init; execve drops it
     * from ours (close-on-exec) and init takes it from its own. */
    r = ex->notify ? ls_seccomp_load_notify(ex->seccomp) : -EOPNOTSUPP;
    if (r < 0)
        r = ls_seccomp_load(ex->seccomp);
    else
        r = 0;
    if (r < 0) {
        ls_error_set_safe(&m.error, -r, "seccomp", "load the seccomp filter", NULL);
        chan_send(chan, &m);
        _exit(125);
    }
    /* From here on every syscall is filtered; execve, write and exit_group are in
     * every allow-list (ls_policy_apply checks it with the compiled program). */
    proc_exec(ex->argv, ex->envp, &m.error);
    chan_send(chan, &m);
    _exit(m.error.code == ENOENT ? 127 : 126);
}

/* The command's process installed a notify filter iff `slot` (free before it started)
 * now holds a seccomp listener: asking it about a notification id that cannot exist
 * answers ENOENT, any other kind of fd ENOTTY or EINVAL, an empty slot EBADF. */
static int take_listener(int slot) {
    uint64_t id = 0;
    if (slot < 0)
        return -1;
    if (ioctl(slot, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0 || errno == ENOENT)
        return slot;
    return -1; /* EBADF: no listener (anything else cannot happen; closed with the slot) */
}

/* Wait for CHAN_RUN; anything else (the parent cancelled and killed us, or is gone)
 * ends init before the command exists. */
static void wait_run(int chan) {
    struct chan_msg m;
    ssize_t n;
    do
        n = recv(chan, &m, sizeof(m), 0);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(m) || m.type != CHAN_RUN)
        _exit(125);
}

_noreturn_ void init_run(int chan, const struct init_exec *exec) {
    struct chan_msg m = {0};
    struct init_exec ex_copy = *exec, *ex = &ex_copy;
    sigset_t all;
    int status, slot = -1, listener;
    unsigned long flags = SIGCHLD;

    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);

    /* Everything is set up; the command starts only if the run was not cancelled. */
    m.type = CHAN_READY;
    if (chan_send(chan, &m) < 0)
        _exit(125);
    wait_run(chan);

    if (ex->notify) {
        /* The lowest free fd is where the listener will land.  Not knowing it, do
         * without a listener rather than risk leaving one behind here. */
        slot = fcntl(chan, F_DUPFD_CLOEXEC, 0);
        if (slot >= 0) {
            close(slot);
            flags |= CLONE_VFORK | CLONE_FILES;
        } else {
            ex->notify = false;
        }
    }
    /* A raw clone, not fork(): glibc's fork runs atfork handlers and takes locks.
     * With CLONE_VFORK this returns once the child has called execve or exited. */
    long pid = syscall(SYS_clone, flags, 0, 0, 0, 0);
    if (pid < 0) {
        m.type = CHAN_SETUP_ERROR;
        ls_error_set_safe(&m.error, errno, "exec", "start the command process", NULL);
        chan_send(chan, &m);
        _exit(125);
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        command_main(chan, ex);
    }
    listener = take_listener(slot);
    m.type = CHAN_STARTED;
    m.value = (int32_t)pid;
    chan_send_fd(chan, &m, listener);
    /* Our copy goes, and anything else above the slot (nothing, by construction): a
     * listener left here would keep refused calls waiting for an answer that never
     * comes, a closed one makes them fail with ENOSYS. */
    if (slot >= 0)
        syscall(SYS_close_range, (unsigned)slot, ~0U, 0);

    for (;;) {
        pid_t p = waitpid(-1, &status, __WALL);
        if (p < 0) {
            if (errno == EINTR)
                continue;
            _exit(0); /* ECHILD: cannot happen while the command is unreaped */
        }
        if (p == pid)
            break;
    }
    m.type = CHAN_STATUS;
    m.value = status;
    chan_send(chan, &m);
    _exit(0);
}
