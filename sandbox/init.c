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
 */
#include "init.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

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

_noreturn_ static void command_main(int chan, const struct init_exec *ex) {
    struct chan_msg m = {.type = CHAN_EXEC_ERROR};
    sigset_t all;
    int r;

    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, NULL);
    r = ls_seccomp_load(ex->seccomp);
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

_noreturn_ void init_run(int chan, const struct init_exec *ex) {
    struct chan_msg m = {0};
    sigset_t all;
    int status;

    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);

    /* A raw clone, not fork(): glibc's fork runs atfork handlers and takes locks. */
    long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
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
    m.type = CHAN_STARTED;
    m.value = (int32_t)pid;
    chan_send(chan, &m);

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
