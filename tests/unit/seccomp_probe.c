/*
 * seccomp_probe.c - one system call under a seccomp program, in a forked child; the
 * mechanism behind the unit tests that check compiled programs against the kernel.
 * See seccomp_probe.h.
 */
#include "seccomp_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "labstack/seccomp.h"

#define I386_NR_GETPID 20

/* What the child writes to the pipe. */
struct report {
    int load; /* ls_seccomp_load() result */
    long ret;
    int err;
};

struct probe_outcome seccomp_probe_run(const struct ls_seccomp_program *prog, probe_fn fn,
                                       const void *arg) {
    struct probe_outcome o = {0};
    struct report rep = {0};
    int fds[2], status;
    pid_t pid;

    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        /* cmocka catches SIGSYS; a TRAP verdict must end the child as it would any
         * program without a handler. */
        signal(SIGSYS, SIG_DFL);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            _exit(2);
        rep.load = prog ? ls_seccomp_load(prog) : 0;
        if (rep.load == 0) {
            errno = 0;
            rep.ret = fn(arg);
            rep.err = errno;
        }
        /* Raw calls: _exit() and write() may be intercepted by sanitizers, whose
         * runtime then needs syscalls that a small test spec refuses. */
        if (syscall(SYS_write, fds[1], &rep, sizeof(rep)) != (long)sizeof(rep))
            syscall(SYS_exit_group, 3);
        syscall(SYS_exit_group, 0);
    }
    close(fds[1]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    ssize_t n = read(fds[0], &rep, sizeof(rep));
    close(fds[0]);
    if (WIFSIGNALED(status)) {
        o.signal = WTERMSIG(status);
        return o;
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(n, (ssize_t)sizeof(rep));
    assert_int_equal(rep.load, 0);
    o.ret = rep.ret;
    o.err = rep.err;
    return o;
}

long seccomp_probe_syscall(const void *arg) {
    const struct probe_call *c = arg;
    if (c->abi == PROBE_I386) {
        long ret;
        /* No arguments (ebx, ecx, ... are not set): only getpid is made this way.  The
         * i386 entry point clobbers r8-r11. */
        __asm__ volatile("int $0x80" : "=a"(ret) : "a"(c->nr) : "memory", "r8", "r9", "r10", "r11");
        if (ret < 0 && ret > -4096) {
            errno = (int)-ret;
            return -1;
        }
        return ret;
    }
    return syscall(c->nr | (c->abi == PROBE_X32 ? PROBE_X32_SYSCALL_BIT : 0), c->a[0], c->a[1],
                   c->a[2], c->a[3], c->a[4], c->a[5]);
}

struct probe_outcome seccomp_probe_call(const struct ls_seccomp_program *prog,
                                        const struct probe_call *call) {
    return seccomp_probe_run(prog, seccomp_probe_syscall, call);
}

bool seccomp_probe_have_i386(void) {
    struct probe_outcome o = seccomp_probe_call(NULL, CALL_I386(I386_NR_GETPID));
    if (o.signal)
        return false; /* int $0x80 faults (SIGSEGV) without ia32 emulation */
    assert_true(o.ret > 0);
    return true;
}

/* fail_msg() at the caller's location (cmocka 1.1 has no public variant). */
#define fail_at(file, line, ...)  \
    do {                          \
        print_error(__VA_ARGS__); \
        print_error("\n");        \
        _fail((file), (line));    \
    } while (0)

void seccomp_probe_expect_errno_at(const struct ls_seccomp_program *prog, probe_fn fn,
                                   const void *arg, int expected, const char *what,
                                   const char *file, int line) {
    struct probe_outcome o = seccomp_probe_run(prog, fn, arg);
    if (o.signal || o.ret != -1 || o.err != expected)
        fail_at(file, line, "%s: expected errno %d (%s), got signal %d, ret %ld, errno %d (%s)",
                what, expected, strerror(expected), o.signal, o.ret, o.err, strerror(o.err));
}

long seccomp_probe_expect_ok_at(const struct ls_seccomp_program *prog, probe_fn fn, const void *arg,
                                const char *what, const char *file, int line) {
    struct probe_outcome o = seccomp_probe_run(prog, fn, arg);
    if (o.signal || o.ret < 0)
        fail_at(file, line, "%s: expected success, got signal %d, ret %ld, errno %d (%s)", what,
                o.signal, o.ret, o.err, strerror(o.err));
    return o.ret;
}

void seccomp_probe_expect_sigsys_at(const struct ls_seccomp_program *prog, probe_fn fn,
                                    const void *arg, const char *what, const char *file, int line) {
    struct probe_outcome o = seccomp_probe_run(prog, fn, arg);
    if (o.signal != SIGSYS)
        fail_at(file, line, "%s: expected SIGSYS, got signal %d, ret %ld, errno %d", what, o.signal,
                o.ret, o.err);
}
