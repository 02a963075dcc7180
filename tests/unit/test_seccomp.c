/*
 * test_seccomp.c - the seccomp compiler and the default program, tested against the
 * running kernel.
 *
 * Each check forks a child that sets PR_SET_NO_NEW_PRIVS, loads a program, makes one
 * raw syscall() and reports its return value and errno through a pipe, or dies by
 * SIGSYS (seccomp_probe.c); the parent asserts.  No privilege is needed.  Where possible a call is made
 * with arguments the kernel itself would reject with a different error (EFAULT,
 * EINVAL, ENOENT, ...), so that the expected errno proves the filter answered and not
 * the kernel; this matters when the tests run as root.
 *
 * The notify form is checked the way the sandbox uses it: a child installs it with a
 * listener and hands the listener over, the test answers every notification with the
 * plain program's errno, and each refused call must fail exactly as under the plain
 * program.  Serialised programs must round-trip and corrupt buffers must be refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <seccomp.h>

#include "labstack/error.h"
#include "labstack/macros.h"
#include "labstack/seccomp.h"

#include "seccomp_probe.h"

#define SOCK_BAD_FLAG 0x100000 /* not SOCK_CLOEXEC/SOCK_NONBLOCK: the kernel says EINVAL */

static struct ls_seccomp_program *default_prog;

/* Build spec or fail the test with the builder's message. */
static struct ls_seccomp_program *build_ok(const struct ls_seccomp_spec *spec) {
    struct ls_seccomp_program *prog = NULL;
    struct ls_error err = {0};
    int r = ls_seccomp_build(spec, &prog, &err);
    if (r < 0)
        fail_msg("ls_seccomp_build: %d: %s", r, err.msg);
    assert_non_null(prog);
    return prog;
}

/* Build spec expecting failure; returns the message. */
static struct ls_error build_fails(const struct ls_seccomp_spec *spec) {
    struct ls_seccomp_program *prog = NULL;
    struct ls_error err = {0};
    int r = ls_seccomp_build(spec, &prog, &err);
    assert_int_equal(r, -EINVAL);
    assert_null(prog);
    assert_int_equal(err.code, EINVAL);
    assert_string_equal(err.step, "seccomp");
    return err;
}

static int setup(_unused_ void **state) {
    struct ls_error err = {0};
    if (ls_seccomp_build(ls_seccomp_default_spec(), &default_prog, &err) < 0) {
        fprintf(stderr, "building the default program: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(_unused_ void **state) {
    default_prog = ls_seccomp_program_free(default_prog);
    return 0;
}

/* ---- the program object ------------------------------------------------------ */

static void test_length_and_free(_unused_ void **state) {
    assert_true(ls_seccomp_program_length(default_prog) > 0);
    assert_int_equal(ls_seccomp_program_length(NULL), 0);
    assert_null(ls_seccomp_program_free(NULL));
}

static void test_default_spec_names_all_known(_unused_ void **state) {
    /* The default spec tolerates unknown names for older libseccomp versions; against
     * the libseccomp we build with, every name must resolve (catches typos). */
    struct ls_seccomp_spec strict = *ls_seccomp_default_spec();
    strict.allow_unknown_names = false;
    ls_seccomp_program_free(build_ok(&strict));
}

static void test_default_spec_is_complete(_unused_ void **state) {
    /* Every syscall libseccomp knows on this architecture has an explicit decision
     * in the default table.  A newer libseccomp that knows more names fails here:
     * decide for each new name in sandbox/seccomp_default.c. */
    const struct ls_seccomp_spec *spec = ls_seccomp_default_spec();
    int missing = 0;
    for (int nr = 0; nr < LS_SECCOMP_NR_SPACE; nr++) {
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
        bool found = false;
        if (!name)
            continue;
        for (size_t i = 0; i < spec->n_rules && !found; i++)
            found = strcmp(spec->rules[i].syscall, name) == 0;
        if (!found) {
            print_message("no decision for syscall %d \"%s\"\n", nr, name);
            missing++;
        }
        free(name);
    }
    assert_int_equal(missing, 0);
}

static void test_reusable(_unused_ void **state) {
    for (int i = 0; i < 50; i++) {
        assert_int_equal(expect_ok(default_prog, CALL(SYS_getppid)), getpid());
        expect_errno(default_prog, CALL(SYS_ptrace, 3 /* PEEKUSER */, -1), EPERM);
    }
}

/* ---- the default program ----------------------------------------------------- */

static void test_allowed_basics(_unused_ void **state) {
    assert_int_equal(expect_ok(default_prog, CALL(SYS_getppid)), getpid());
    expect_ok(default_prog, CALL(SYS_getrandom, 0, 0, 0));
    expect_ok(default_prog, CALL(SYS_personality, 0xffffffffUL));
}

static void test_refused(_unused_ void **state) {
    /* Unfiltered, each of these would fail differently or succeed. */
    expect_errno(default_prog, CALL(SYS_ptrace, 3 /* PEEKUSER */, -1), EPERM);
    expect_errno(default_prog, CALL(SYS_mount, 0, 0, 0, 0, 0), EPERM);
    expect_errno(default_prog, CALL(SYS_umount2, 0, 0), EPERM);
    expect_errno(default_prog, CALL(SYS_unshare, 0), EPERM);
    expect_errno(default_prog, CALL(SYS_setns, -1, 0), EPERM);
    expect_errno(default_prog, CALL(SYS_keyctl, -1UL), EPERM);
    expect_errno(default_prog, CALL(SYS_bpf, -1UL, 0, 0), EPERM);
    expect_errno(default_prog, CALL(SYS_perf_event_open, 0, 0, -1, -1, 0), EPERM);
    expect_errno(default_prog, CALL(SYS_io_uring_setup, 0, 0), EPERM);
    expect_errno(default_prog, CALL(SYS_userfaultfd, 0xffffUL), EPERM);
    expect_errno(default_prog, CALL(SYS_process_vm_readv, -1, 0, 0, 0, 0, 0), EPERM);
    expect_errno(default_prog, CALL(SYS_pidfd_getfd, -1, -1, 0), EPERM);
    expect_errno(default_prog, CALL(SYS_open_by_handle_at, -1, 0, 0), EPERM);
    expect_errno(default_prog, CALL(SYS_clock_settime, -1, 0), EPERM);
    expect_errno(default_prog, CALL(SYS_init_module, 0, 0, 0), EPERM);
}

static void test_clone3_enosys(_unused_ void **state) {
    /* Unfiltered: EINVAL (size 0). */
    expect_errno(default_prog, CALL(SYS_clone3, 0, 0), ENOSYS);
}

static void test_unknown_numbers(_unused_ void **state) {
    char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, 400);
    assert_null(name); /* x86_64 leaves 335..423 unused */
    expect_errno(default_prog, CALL(1000), ENOSYS);
    expect_errno(default_prog, CALL(400), ENOSYS);
    expect_errno(default_prog, CALL(LS_SECCOMP_NR_SPACE - 1), ENOSYS);
}

static void test_unknown_numbers_come_from_the_filter(_unused_ void **state) {
    /* The kernel says ENOSYS for these numbers too; a distinct errno proves the rule. */
    static const struct ls_seccomp_rule rules[] = {
        {.syscall = "exit_group", .action = LS_SECCOMP_ALLOW},
        {.syscall = "write", .action = LS_SECCOMP_ALLOW},
    };
    const struct ls_seccomp_spec spec = {
        .default_errno = EACCES,
        .unknown_errno = EXDEV,
        .rules = rules,
        .n_rules = 2,
    };
    struct ls_seccomp_program *prog = build_ok(&spec);
    expect_errno(prog, CALL(1000), EXDEV);
    expect_errno(prog, CALL(400), EXDEV);
    expect_errno(prog, CALL(SYS_getppid), EACCES);
    ls_seccomp_program_free(prog);
}

static void test_socket(_unused_ void **state) {
    const struct ls_seccomp_program *p = default_prog;
    const unsigned long bad_dgram = SOCK_DGRAM | SOCK_BAD_FLAG;
    const unsigned long bad_raw = SOCK_RAW | SOCK_BAD_FLAG;

    expect_ok(p, CALL(SYS_socket, AF_INET, SOCK_DGRAM, 0));
    expect_ok(p, CALL(SYS_socket, AF_INET6, SOCK_STREAM, 0));
    expect_ok(p, CALL(SYS_socket, AF_UNIX, SOCK_STREAM, 0));
    expect_ok(p, CALL(SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
    expect_ok(p, CALL(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, (unsigned long)(int[2]){0}));

    /* With a bad type flag, a family the filter lets through gets EINVAL from the
     * kernel; a refused family gets the filter's errno. */
    for (unsigned long d = 0; d < 64; d++) {
        bool allowed = d == AF_UNIX || d == AF_INET || d == AF_INET6 || d == AF_NETLINK;
        expect_errno(p, CALL(SYS_socket, d, bad_dgram, 0), allowed ? EINVAL : EAFNOSUPPORT);
    }
    expect_errno(p, CALL(SYS_socket, AF_PACKET, bad_raw, 0), EAFNOSUPPORT);
    expect_errno(p, CALL(SYS_socket, AF_VSOCK, bad_dgram, 0), EAFNOSUPPORT);
    expect_errno(p, CALL(SYS_socket, AF_ALG, SOCK_SEQPACKET | SOCK_BAD_FLAG, 0), EAFNOSUPPORT);
    expect_errno(p, CALL(SYS_socket, INT_MAX, bad_dgram, 0), EAFNOSUPPORT);
    /* High bits: the kernel would see AF_PACKET (17) / AF_INET (2); both refused. */
    expect_errno(p, CALL(SYS_socket, 0x100000011UL, bad_dgram, 0), EAFNOSUPPORT);
    expect_errno(p, CALL(SYS_socket, 0x100000002UL, bad_dgram, 0), EAFNOSUPPORT);
    expect_errno(p, CALL(SYS_socket, -1UL, bad_dgram, 0), EAFNOSUPPORT);

    /* Netlink: only NETLINK_ROUTE, compared on 64 bits (fails closed). */
    expect_errno(p, CALL(SYS_socket, AF_NETLINK, bad_raw, NETLINK_ROUTE), EINVAL);
    expect_errno(p, CALL(SYS_socket, AF_NETLINK, bad_raw, NETLINK_AUDIT), EPROTONOSUPPORT);
    expect_errno(p, CALL(SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_AUDIT), EPROTONOSUPPORT);
    expect_errno(p, CALL(SYS_socket, AF_NETLINK, bad_raw, 0x100000000UL), EPROTONOSUPPORT);
}

/* Plain fork through the raw clone syscall; the grandchild exits with 7. */
static long fork_via_clone(_unused_ const void *arg) {
    long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    int status;
    if (pid == 0)
        syscall(SYS_exit, 7);
    if (pid < 0)
        return -1;
    if (syscall(SYS_wait4, pid, &status, 0, 0) != pid)
        return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 7 ? pid : -1;
}

static void test_clone(_unused_ void **state) {
    static const unsigned long ns_flags[] = {
        CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
        CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET,
    };
    expect_ok_fn(default_prog, fork_via_clone, NULL);
    /* CLONE_SIGHAND without CLONE_VM is EINVAL in the kernel before any namespace is
     * made, so only the filter can answer EPERM and nothing is created if it fails. */
    for (size_t i = 0; i < ELEMENTSOF(ns_flags); i++)
        expect_errno(default_prog,
                     CALL(SYS_clone, ns_flags[i] | CLONE_SIGHAND | SIGCHLD, 0, 0, 0, 0), EPERM);
    expect_errno(default_prog, CALL(SYS_clone, CLONE_SIGHAND | SIGCHLD, 0, 0, 0, 0), EINVAL);
    expect_errno(default_prog, CALL(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0), EPERM);
    /* High bits are ignored by the kernel and do not hide the flag. */
    expect_errno(
        default_prog,
        CALL(SYS_clone, 0xffffffff00000000UL | CLONE_NEWUSER | CLONE_SIGHAND | SIGCHLD, 0, 0, 0, 0),
        EPERM);
}

static void test_ioctl(_unused_ void **state) {
    _cleanup_close_ int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    /* Control: an allowed ioctl reaches /dev/null, which is no tty. */
    expect_errno(default_prog, CALL(SYS_ioctl, fd, TCGETS, 0), ENOTTY);
    expect_errno(default_prog, CALL(SYS_ioctl, fd, TIOCSTI, 0), EPERM);
    expect_errno(default_prog, CALL(SYS_ioctl, fd, 0x100000000UL | TIOCSTI, 0), EPERM);
    expect_errno(default_prog, CALL(SYS_ioctl, fd, TIOCLINUX, 0), EPERM);
    expect_errno(default_prog, CALL(SYS_ioctl, fd, 0xdead00000000UL | TIOCLINUX, 0), EPERM);
}

static void test_mknod(_unused_ void **state) {
    char dir[] = "/tmp/test_seccomp.XXXXXX";
    char fifo[sizeof(dir) + 16], fifo2[sizeof(dir) + 16], dev[sizeof(dir) + 16];
    struct stat st;

    assert_non_null(mkdtemp(dir));
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    snprintf(fifo2, sizeof(fifo2), "%s/fifo2", dir);
    /* A missing parent: the kernel would say ENOENT, only the filter says EPERM. */
    snprintf(dev, sizeof(dev), "%s/missing/dev", dir);

    expect_ok(default_prog, CALL(SYS_mknod, (unsigned long)fifo, S_IFIFO | 0600, 0));
    assert_int_equal(stat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    expect_ok(default_prog,
              CALL(SYS_mknodat, (unsigned long)AT_FDCWD, (unsigned long)fifo2, S_IFIFO | 0600, 0));
    assert_int_equal(stat(fifo2, &st), 0);

    expect_errno(default_prog, CALL(SYS_mknod, (unsigned long)dev, S_IFIFO | 0600, 0), ENOENT);
    expect_errno(default_prog, CALL(SYS_mknod, (unsigned long)dev, S_IFCHR | 0600, makedev(1, 3)),
                 EPERM);
    expect_errno(default_prog, CALL(SYS_mknod, (unsigned long)dev, S_IFBLK | 0600, makedev(7, 0)),
                 EPERM);
    expect_errno(default_prog,
                 CALL(SYS_mknodat, (unsigned long)AT_FDCWD, (unsigned long)dev, S_IFCHR | 0600,
                      makedev(1, 3)),
                 EPERM);
    expect_errno(default_prog,
                 CALL(SYS_mknodat, (unsigned long)AT_FDCWD, (unsigned long)dev, S_IFBLK | 0600,
                      makedev(7, 0)),
                 EPERM);

    assert_int_equal(unlink(fifo), 0);
    assert_int_equal(unlink(fifo2), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* No set-id bit can be set: chmod family, creat, open/openat with O_CREAT or
 * O_TMPFILE, mknod of a regular file.  Plain modes keep working. */
static void test_no_setid(_unused_ void **state) {
    char dir[] = "/tmp/test_seccomp.XXXXXX";
    char file[sizeof(dir) + 16], missing[sizeof(dir) + 32];
    struct stat st;
    int fd;

    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof(file), "%s/f", dir);
    /* A missing parent: the kernel would say ENOENT, only the filter says EPERM. */
    snprintf(missing, sizeof(missing), "%s/missing/f", dir);
    fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    assert_true(fd >= 0);

    expect_ok(default_prog, CALL(SYS_chmod, (unsigned long)file, 0755));
    expect_errno(default_prog, CALL(SYS_chmod, (unsigned long)file, 04755), EPERM);
    expect_errno(default_prog, CALL(SYS_chmod, (unsigned long)file, 02755), EPERM);
    expect_errno(default_prog, CALL(SYS_fchmod, (unsigned long)fd, 06755), EPERM);
    expect_errno(default_prog,
                 CALL(SYS_fchmodat, (unsigned long)AT_FDCWD, (unsigned long)file, 04711), EPERM);
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755);

    expect_errno(default_prog, CALL(SYS_creat, (unsigned long)missing, 04755), EPERM);
    expect_errno(default_prog, CALL(SYS_creat, (unsigned long)missing, 0755), ENOENT);
    expect_errno(default_prog, CALL(SYS_open, (unsigned long)missing, O_CREAT | O_WRONLY, 02755),
                 EPERM);
    expect_errno(default_prog,
                 CALL(SYS_openat, (unsigned long)AT_FDCWD, (unsigned long)missing,
                      O_CREAT | O_WRONLY, 04755),
                 EPERM);
    expect_errno(default_prog,
                 CALL(SYS_openat, (unsigned long)AT_FDCWD, (unsigned long)missing,
                      O_TMPFILE | O_WRONLY, 04755),
                 EPERM);
    /* Without O_CREAT the mode register is not looked at. */
    expect_errno(default_prog,
                 CALL(SYS_openat, (unsigned long)AT_FDCWD, (unsigned long)missing, O_RDONLY, 04755),
                 ENOENT);
    expect_errno(default_prog, CALL(SYS_mknod, (unsigned long)missing, S_IFREG | 04755, 0), EPERM);
    expect_errno(default_prog, CALL(SYS_openat2, (unsigned long)AT_FDCWD, 0, 0, 0), ENOSYS);
    close(fd);
    unlink(file);
    rmdir(dir);
}

static void test_personality(_unused_ void **state) {
    expect_ok(default_prog, CALL(SYS_personality, 0xffffffffUL));
    expect_ok(default_prog, CALL(SYS_personality, 0));
    expect_errno(default_prog, CALL(SYS_personality, ADDR_NO_RANDOMIZE), EPERM);
    expect_errno(default_prog, CALL(SYS_personality, 0x100000000UL), EPERM);
    expect_errno(default_prog, CALL(SYS_personality, -1UL), EPERM);
}

static void test_x32_killed(_unused_ void **state) {
    expect_sigsys(default_prog, CALL_X32(SYS_getpid));
    expect_sigsys(default_prog, CALL_X32(1000));
}

static void test_i386_killed(_unused_ void **state) {
    if (!seccomp_probe_have_i386())
        skip(); /* the kernel has no i386 emulation (ia32_emulation=0): nothing to filter */
    expect_sigsys(default_prog, CALL_I386(20 /* getpid */));
}

/* ---- building custom specs --------------------------------------------------- */

static void test_unknown_name(_unused_ void **state) {
    static const struct ls_seccomp_rule rules[] = {
        {.syscall = "read", .action = LS_SECCOMP_ALLOW},
        {.syscall = "write", .action = LS_SECCOMP_ALLOW},
        {.syscall = "sockett", .action = LS_SECCOMP_ALLOW},
    };
    struct ls_seccomp_spec spec = {
        .default_errno = EPERM,
        .unknown_errno = ENOSYS,
        .rules = rules,
        .n_rules = 3,
    };
    struct ls_error err = build_fails(&spec);
    assert_string_equal(err.msg, "seccomp rule 2 (\"sockett\"): unknown syscall");

    spec.allow_unknown_names = true;
    ls_seccomp_program_free(build_ok(&spec));
}

static void test_invalid_rules(_unused_ void **state) {
    struct ls_seccomp_rule rule = {
        .syscall = "read",
        .action = LS_SECCOMP_ALLOW,
        .n_args = 1,
        .args = {{.index = 7, .op = LS_SECCOMP_EQ}},
    };
    struct ls_seccomp_spec spec = {
        .default_errno = EPERM,
        .unknown_errno = ENOSYS,
        .rules = &rule,
        .n_rules = 1,
    };
    struct ls_error err;

    err = build_fails(&spec);
    assert_non_null(strstr(err.msg, "seccomp rule 0 (\"read\")"));
    assert_non_null(strstr(err.msg, "argument index 7"));

    rule.args[0].index = 0;
    rule.args[0].op = (enum ls_seccomp_op)42;
    err = build_fails(&spec);
    assert_non_null(strstr(err.msg, "invalid operator 42"));

    rule.args[0].op = LS_SECCOMP_MASKED_EQ;
    rule.args[0].mask = 0xf0;
    rule.args[0].value = 0x1;
    err = build_fails(&spec);
    assert_non_null(strstr(err.msg, "outside mask"));

    rule.args[0].op = LS_SECCOMP_EQ;
    rule.n_args = 7;
    err = build_fails(&spec);
    assert_non_null(strstr(err.msg, "7 conditions"));

    rule.n_args = 2;
    rule.args[1] = rule.args[0];
    err = build_fails(&spec);
    assert_non_null(strstr(err.msg, "two conditions on argument 0"));

    rule.n_args = 0;
    rule.action = LS_SECCOMP_ERRNO;
    rule.errno_ret = 0;
    err = build_fails(&spec);
    assert_non_null(strstr(err.msg, "errno 0 out of range"));
    rule.errno_ret = 4096;
    err = build_fails(&spec);
    assert_non_null(strstr(err.msg, "errno 4096 out of range"));

    rule.action = (enum ls_seccomp_action)9;
    err = build_fails(&spec);
    assert_non_null(strstr(err.msg, "invalid action 9"));

    rule.action = LS_SECCOMP_ALLOW;
    rule.syscall = NULL;
    err = build_fails(&spec);
    assert_string_equal(err.msg, "seccomp rule 0: no syscall name");

    rule.syscall = "read";
    spec.default_errno = 0;
    err = build_fails(&spec);
    assert_non_null(strstr(err.msg, "default errno 0"));
}

/* Review findings: range comparisons above 32 bits (libseccomp 2.5.4 compiled a pair of
 * them into a filter that allowed what both denied), and nested argument denies with
 * different verdicts (libseccomp kept the broader one and dropped the other). */
static void test_unsafe_deny_shapes_refused(_unused_ void **state) {
    struct ls_seccomp_rule range[] = {
        {.syscall = "execve", .action = LS_SECCOMP_ALLOW},
        {.syscall = "ioctl", .action = LS_SECCOMP_ALLOW},
        {.syscall = "ioctl", .action = LS_SECCOMP_ERRNO, .errno_ret = EPERM, .n_args = 1,
         .args = {{.index = 2, .op = LS_SECCOMP_LT, .value = 16}}},
        {.syscall = "ioctl", .action = LS_SECCOMP_ERRNO, .errno_ret = EACCES, .n_args = 1,
         .args = {{.index = 2, .op = LS_SECCOMP_LT, .value = 0x100000000ULL}}},
    };
    struct ls_seccomp_spec spec = {
        .default_errno = EPERM, .unknown_errno = ENOSYS, .rules = range, .n_rules = 4};
    struct ls_seccomp_program *prog = NULL;
    struct ls_error err;

    assert_int_equal(ls_seccomp_build(&spec, &prog, &err), -EINVAL);
    assert_null(prog);
    assert_non_null(strstr(err.msg, "rule 3"));
    assert_non_null(strstr(err.msg, "above 32 bits"));
    /* 0xffffffff itself is fine: the floor's socket rule uses it. */
    range[3].args[0].value = 0xffffffffULL;
    range[3].args[0].op = LS_SECCOMP_GT;
    assert_int_equal(ls_seccomp_build(&spec, &prog, &err), 0);
    prog = ls_seccomp_program_free(prog);

    struct ls_seccomp_rule nested[] = {
        {.syscall = "execve", .action = LS_SECCOMP_ALLOW},
        {.syscall = "ioctl", .action = LS_SECCOMP_ALLOW},
        {.syscall = "ioctl", .action = LS_SECCOMP_ERRNO, .errno_ret = EPERM, .n_args = 1,
         .args = {{.index = 1, .op = LS_SECCOMP_EQ, .value = 0x5412}}},
        {.syscall = "ioctl", .action = LS_SECCOMP_KILL, .n_args = 2,
         .args = {{.index = 1, .op = LS_SECCOMP_EQ, .value = 0x5412},
                  {.index = 0, .op = LS_SECCOMP_EQ, .value = 0}}},
    };
    spec.rules = nested;
    assert_int_equal(ls_seccomp_build(&spec, &prog, &err), -EINVAL);
    assert_null(prog);
    assert_non_null(strstr(err.msg, "rule 3"));
    assert_non_null(strstr(err.msg, "conflicts with rule 2"));
    /* The same verdict nested is harmless, and so are disjoint conditions. */
    nested[3].action = LS_SECCOMP_ERRNO;
    nested[3].errno_ret = EPERM;
    assert_int_equal(ls_seccomp_build(&spec, &prog, &err), 0);
    prog = ls_seccomp_program_free(prog);
    nested[3].errno_ret = EACCES;
    nested[3].args[0].value = 0x541c;
    assert_int_equal(ls_seccomp_build(&spec, &prog, &err), 0);
    ls_seccomp_program_free(prog);
}

static void test_conflicting_rules(_unused_ void **state) {
    /* libseccomp would keep the first of these silently; the builder refuses. */
    struct ls_seccomp_rule rules[] = {
        {.syscall = "getppid", .action = LS_SECCOMP_ALLOW},
        {.syscall = "read", .action = LS_SECCOMP_ALLOW},
        {.syscall = "getppid", .action = LS_SECCOMP_ERRNO, .errno_ret = EIO},
    };
    struct ls_seccomp_spec spec = {
        .default_errno = EPERM,
        .unknown_errno = ENOSYS,
        .rules = rules,
        .n_rules = 3,
    };
    struct ls_error err = build_fails(&spec);
    assert_string_equal(err.msg,
                        "seccomp rule 2 (\"getppid\"): conflicts with rule 0 (\"getppid\")");

    /* Refusing with the default errno still contradicts an allow. */
    rules[2].errno_ret = EPERM;
    err = build_fails(&spec);
    assert_non_null(strstr(err.msg, "conflicts with rule 0"));

    /* A conditional allow under an unconditional deny would be dropped silently. */
    rules[0] = (struct ls_seccomp_rule){.syscall = "getppid",
                                        .action = LS_SECCOMP_ALLOW,
                                        .n_args = 1,
                                        .args = {{.index = 0, .value = 1}}};
    err = build_fails(&spec);
    assert_non_null(strstr(err.msg, "conflicts with rule 0"));

    /* The same rule twice is fine. */
    rules[2] = rules[0];
    ls_seccomp_program_free(build_ok(&spec));
}

static void test_filter_b_beats_filter_a(_unused_ void **state) {
    static const struct ls_seccomp_rule rules[] = {
        {.syscall = "getppid", .action = LS_SECCOMP_ALLOW},
        {.syscall = "write", .action = LS_SECCOMP_ALLOW},
        {.syscall = "exit_group", .action = LS_SECCOMP_ALLOW},
        {.syscall = "getppid",
         .action = LS_SECCOMP_ERRNO,
         .errno_ret = EXDEV,
         .n_args = 1,
         .args = {{.index = 0, .op = LS_SECCOMP_EQ, .value = 42}}},
        {.syscall = "getppid",
         .action = LS_SECCOMP_KILL,
         .n_args = 2,
         .args = {{.index = 0, .op = LS_SECCOMP_EQ, .value = 43},
                  {.index = 1, .op = LS_SECCOMP_MASKED_EQ, .mask = 0xf, .value = 0x3}}},
    };
    const struct ls_seccomp_spec spec = {
        .default_errno = EPERM,
        .unknown_errno = ENOSYS,
        .rules = rules,
        .n_rules = ELEMENTSOF(rules),
    };
    struct ls_seccomp_program *prog = build_ok(&spec);

    assert_int_equal(expect_ok(prog, CALL(SYS_getppid, 0)), getpid());
    expect_errno(prog, CALL(SYS_getppid, 42), EXDEV);
    assert_int_equal(expect_ok(prog, CALL(SYS_getppid, 43, 0x4)), getpid());
    expect_sigsys(prog, CALL(SYS_getppid, 43, 0x13));
    expect_errno(prog, CALL(SYS_getpid), EPERM);
    expect_errno(prog, CALL(1000), ENOSYS);
    ls_seccomp_program_free(prog);
}

static void test_program_without_filter_b(_unused_ void **state) {
    static const struct ls_seccomp_rule rules[] = {
        {.syscall = "getppid", .action = LS_SECCOMP_ALLOW},
        {.syscall = "write", .action = LS_SECCOMP_ALLOW},
        {.syscall = "exit_group", .action = LS_SECCOMP_ALLOW},
        {.syscall = "getpid", .action = LS_SECCOMP_KILL},
        {.syscall = "chown32", .action = LS_SECCOMP_ALLOW}, /* not on x86_64: skipped */
    };
    const struct ls_seccomp_spec spec = {
        .default_errno = EPERM,
        .unknown_errno = EPERM,
        .rules = rules,
        .n_rules = ELEMENTSOF(rules),
    };
    struct ls_seccomp_program *prog = build_ok(&spec);

    assert_true(ls_seccomp_program_length(prog) > 0);
    assert_int_equal(expect_ok(prog, CALL(SYS_getppid)), getpid());
    expect_sigsys(prog, CALL(SYS_getpid));
    expect_errno(prog, CALL(1000), EPERM); /* unknown_errno == default_errno */
    expect_errno(prog, CALL(SYS_gettid), EPERM);
    ls_seccomp_program_free(prog);
}

/* ---- the notify form, answered by a listener ------------------------------------------ */

struct notify_case {
    const char *what;
    long nr;
    unsigned long a[6];
    int expect; /* the errno; 0: the call succeeds (it is not refused) */
    bool refused;
};

static const char missing_file[] = "/nonexistent-labstack-test/f";

static const struct notify_case notify_cases[] = {
    {"mount", SYS_mount, {0, 0, 0, 0, 0}, EPERM, true},
    {"unshare(CLONE_NEWUSER)", SYS_unshare, {CLONE_NEWUSER}, EPERM, true},
    {"chmod(missing, 04755)", SYS_chmod, {(unsigned long)missing_file, 04755}, EPERM, true},
    {"keyctl", SYS_keyctl, {-1UL}, EPERM, true},
    {"socket(AF_PACKET)", SYS_socket, {AF_PACKET, SOCK_RAW | 0x100000, 0}, EAFNOSUPPORT, true},
    {"ioctl(-1, TIOCSTI)", SYS_ioctl, {-1UL, TIOCSTI, 0}, EPERM, true},
    {"openat2", SYS_openat2, {(unsigned long)AT_FDCWD, 0, 0, 0}, ENOSYS, true},
    {"nr 1000", 1000, {0}, ENOSYS, true},
    {"clone3", SYS_clone3, {0, 0}, ENOSYS, true},
    {"mount again", SYS_mount, {0, 0, 0, 0, 0}, EPERM, true},
    /* Not refused: no notification, the kernel's own answer. */
    {"chmod(missing, 0755)", SYS_chmod, {(unsigned long)missing_file, 0755}, ENOENT, false},
    {"getppid", SYS_getppid, {0}, 0, false},
};

struct notify_report {
    long ret;
    int err;
};

static int recv_fd(int sock) {
    char cbuf[CMSG_SPACE(sizeof(int))];
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                        .msg_controllen = sizeof(cbuf)};
    int fd = -1;
    if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != 1)
        return -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    if (c && c->cmsg_type == SCM_RIGHTS)
        memcpy(&fd, CMSG_DATA(c), sizeof(fd));
    return fd;
}

static void send_fd(int sock, int fd) {
    char cbuf[CMSG_SPACE(sizeof(int))] = {0};
    char byte = 'L';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                        .msg_controllen = sizeof(cbuf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(fd));
    if (syscall(SYS_sendmsg, sock, &mh, 0) != 1)
        syscall(SYS_exit_group, 3);
}

/* Answer one notification as the sandbox does; returns the syscall number. */
static int answer(const struct ls_seccomp_program *prog, int listener) {
    struct seccomp_notif req;
    struct seccomp_notif_resp resp;
    uint32_t verdict;

    memset(&req, 0, sizeof(req));
    assert_int_equal(ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req), 0);
    assert_int_equal(ls_seccomp_program_eval(prog, &req.data, &verdict), 0);
    assert_int_equal(verdict & SECCOMP_RET_ACTION_FULL, SECCOMP_RET_ERRNO);
    memset(&resp, 0, sizeof(resp));
    resp.id = req.id;
    resp.error = -(int)(verdict & SECCOMP_RET_DATA);
    assert_int_equal(ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp), 0);
    return req.data.nr;
}

static void test_notify_form(_unused_ void **state) {
    struct notify_report got[ELEMENTSOF(notify_cases)];
    int sv[2], rep[2], status, listener;
    size_t n_got = 0, n_answered = 0;
    int answered_nr[ELEMENTSOF(notify_cases)];
    pid_t pid;

    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(sv[0]);
        close(rep[0]);
        signal(SIGSYS, SIG_DFL);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            _exit(2);
        int fd = ls_seccomp_load_notify(default_prog);
        if (fd < 0)
            _exit(4);
        /* A second listener in the same chain: the kernel refuses (EBUSY). */
        if (ls_seccomp_load_notify(default_prog) != -EBUSY)
            syscall(SYS_exit_group, 5);
        send_fd(sv[1], fd);
        syscall(SYS_close, fd);
        for (size_t i = 0; i < ELEMENTSOF(notify_cases); i++) {
            const struct notify_case *c = &notify_cases[i];
            struct notify_report r;
            errno = 0;
            r.ret = syscall(c->nr, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4], c->a[5]);
            r.err = errno;
            if (syscall(SYS_write, rep[1], &r, sizeof(r)) != (long)sizeof(r))
                syscall(SYS_exit_group, 3);
        }
        /* Other ABIs are still killed, not notified. */
        syscall(SYS_getpid | PROBE_X32_SYSCALL_BIT);
        syscall(SYS_exit_group, 6);
    }
    close(sv[1]);
    close(rep[1]);
    listener = recv_fd(sv[0]);
    close(sv[0]);
    assert_true(listener >= 0);

    for (;;) {
        struct pollfd p[2] = {{.fd = listener, .events = POLLIN}, {.fd = rep[0], .events = POLLIN}};
        assert_true(poll(p, 2, 10000) > 0);
        if (p[0].revents & POLLIN) {
            assert_true(n_answered < ELEMENTSOF(answered_nr));
            answered_nr[n_answered++] = answer(default_prog, listener);
            continue;
        }
        if (p[1].revents & POLLIN) {
            ssize_t n = read(rep[0], &got[n_got], sizeof(got[0]));
            if (n == 0)
                break;
            assert_int_equal(n, sizeof(got[0]));
            n_got++;
            continue;
        }
        if (p[1].revents & POLLHUP)
            break;
    }
    close(rep[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(listener);
    if (!WIFSIGNALED(status))
        fail_msg("the child exited with %d instead of being killed by SIGSYS",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    assert_int_equal(WTERMSIG(status), SIGSYS);

    assert_int_equal(n_got, ELEMENTSOF(notify_cases));
    size_t refused = 0;
    for (size_t i = 0; i < n_got; i++) {
        const struct notify_case *c = &notify_cases[i];
        bool ok = c->expect ? got[i].ret == -1 && got[i].err == c->expect : got[i].ret >= 0;
        if (!ok)
            fail_msg("%s under the notify form: ret %ld errno %d (%s), expected %s %d", c->what,
                     got[i].ret, got[i].err, strerror(got[i].err),
                     c->expect ? "errno" : "success", c->expect);
        if (c->refused) {
            assert_true(refused < n_answered);
            assert_int_equal(answered_nr[refused], c->nr); /* notified in order, once each */
            refused++;
        }
    }
    assert_int_equal(refused, n_answered);
}

/* A program without a notify form (written by hand) cannot notify. */
static void test_notify_needs_merged_form(_unused_ void **state) {
    assert_int_equal(ls_seccomp_load_notify(NULL), -EOPNOTSUPP);
}

/* ---- serialising ----------------------------------------------------------------------- */

#define HEADER_SIZE 40
#define OFF_VERSION 8
#define OFF_ARCH 12
#define OFF_COUNTS 16
#define OFF_SUM 32

static uint64_t fnv1a(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Recompute the checksum after a deliberate change, so that the structural checks
 * behind it are reached. */
static void fix_sum(unsigned char *buf, size_t len) {
    uint64_t zero = 0, sum;
    memcpy(buf + OFF_SUM, &zero, sizeof(zero));
    sum = fnv1a(fnv1a(0xcbf29ce484222325ULL, buf, HEADER_SIZE), buf + HEADER_SIZE,
                len - HEADER_SIZE);
    memcpy(buf + OFF_SUM, &sum, sizeof(sum));
}

static uint32_t get_u32(const unsigned char *buf, size_t off) {
    uint32_t v;
    memcpy(&v, buf + off, sizeof(v));
    return v;
}

static void put_u32(unsigned char *buf, size_t off, uint32_t v) {
    memcpy(buf + off, &v, sizeof(v));
}

/* Deserialising buf must fail with a message containing `want`. */
#define expect_refused(buf, len, want) expect_refused_at(buf, len, want, __LINE__)
static void expect_refused_at(const void *buf, size_t len, const char *want, int line) {
    struct ls_seccomp_program *p = NULL;
    struct ls_error err = {0};
    int r = ls_seccomp_program_deserialize(buf, len, &p, &err);
    if (r != -EINVAL || p || !strstr(err.msg, want))
        fail_msg("line %d: deserialize returned %d (%s), expected -EINVAL with \"%s\"", line, r,
                 err.msg, want);
}

static struct ls_seccomp_program *round_trip(const struct ls_seccomp_program *prog) {
    void *buf = NULL, *buf2 = NULL;
    size_t len = 0, len2 = 0;
    struct ls_seccomp_program *back = NULL;
    struct ls_error err = {0};

    assert_int_equal(ls_seccomp_program_serialize(prog, &buf, &len), 0);
    if (ls_seccomp_program_deserialize(buf, len, &back, &err) < 0)
        fail_msg("deserialize: %s", err.msg);
    assert_int_equal(ls_seccomp_program_length(back), ls_seccomp_program_length(prog));
    /* Byte for byte the same program. */
    assert_int_equal(ls_seccomp_program_serialize(back, &buf2, &len2), 0);
    assert_int_equal(len2, len);
    assert_memory_equal(buf2, buf, len);
    free(buf);
    free(buf2);
    return back;
}

static void test_serialize_round_trip(_unused_ void **state) {
    struct ls_seccomp_program *back = round_trip(default_prog);
    /* It behaves as the original, in the kernel and with a listener. */
    expect_errno(back, CALL(SYS_mount, 0, 0, 0, 0, 0), EPERM);
    expect_errno(back, CALL(SYS_ioctl, -1UL, TIOCSTI, 0), EPERM);
    assert_int_equal(expect_ok(back, CALL(SYS_getppid)), getpid());
    expect_sigsys(back, CALL_X32(SYS_getpid));
    for (int nr = 0; nr < LS_SECCOMP_NR_SPACE; nr++) {
        struct seccomp_data sd = {.nr = nr, .arch = AUDIT_ARCH_X86_64, .args = {0, 04755, 04755}};
        uint32_t a, b;
        assert_int_equal(ls_seccomp_program_eval(default_prog, &sd, &a), 0);
        assert_int_equal(ls_seccomp_program_eval(back, &sd, &b), 0);
        assert_int_equal(a, b);
    }
    ls_seccomp_program_free(back);

    /* A program without filter B. */
    static const struct ls_seccomp_rule rules[] = {
        {.syscall = "exit_group", .action = LS_SECCOMP_ALLOW},
        {.syscall = "write", .action = LS_SECCOMP_ALLOW},
        {.syscall = "getppid", .action = LS_SECCOMP_ALLOW},
    };
    const struct ls_seccomp_spec spec = {
        .default_errno = EACCES, .unknown_errno = ENOSYS, .rules = rules, .n_rules = 3};
    struct ls_seccomp_program *small = build_ok(&spec);
    back = round_trip(small);
    expect_errno(back, CALL(SYS_getpid), EACCES);
    ls_seccomp_program_free(back);
    ls_seccomp_program_free(small);
}

static void test_serialize_rejects_corrupt(_unused_ void **state) {
    unsigned char *buf = NULL, *bad;
    size_t len = 0;
    uint32_t n_allow, n_deny, n_merged;

    assert_int_equal(ls_seccomp_program_serialize(default_prog, (void **)&buf, &len), 0);
    bad = malloc(len + 16);
    assert_non_null(bad);
    n_allow = get_u32(buf, OFF_COUNTS);
    n_deny = get_u32(buf, OFF_COUNTS + 4);
    n_merged = get_u32(buf, OFF_COUNTS + 8);
    assert_int_equal(len, HEADER_SIZE + 8 * (size_t)(n_allow + n_deny + n_merged +
                                                     get_u32(buf, OFF_COUNTS + 12)));

    expect_refused(NULL, 0, "shorter than its header");
    expect_refused(buf, HEADER_SIZE - 1, "shorter than its header");
    /* Every truncation and one byte too many. */
    for (size_t cut = HEADER_SIZE; cut < len; cut += 61)
        expect_refused(buf, cut, "the header announces");
    memcpy(bad, buf, len);
    bad[len] = 0;
    expect_refused(bad, len + 1, "the header announces");
    /* Any flipped bit is caught (by a field check or the checksum). */
    for (size_t i = 0; i < len; i += 7) {
        struct ls_seccomp_program *p = NULL;
        struct ls_error err = {0};
        memcpy(bad, buf, len);
        bad[i] ^= 0x10;
        assert_int_equal(ls_seccomp_program_deserialize(bad, len, &p, &err), -EINVAL);
        assert_null(p);
    }
    memcpy(bad, buf, len);
    bad[0] = 'X';
    expect_refused(bad, len, "magic");
    memcpy(bad, buf, len);
    put_u32(bad, OFF_VERSION, 2);
    expect_refused(bad, len, "format version 2");
    memcpy(bad, buf, len);
    put_u32(bad, OFF_ARCH, AUDIT_ARCH_AARCH64);
    expect_refused(bad, len, "built for architecture");
    memcpy(bad, buf, len);
    put_u32(bad, OFF_COUNTS + 8, BPF_MAXINSNS + 1);
    expect_refused(bad, len, "at most 4096");
    memcpy(bad, buf, len);
    put_u32(bad, OFF_COUNTS, 0);
    expect_refused(bad, len, "is empty");
    memcpy(bad, buf, len);
    bad[len - 1] ^= 1;
    expect_refused(bad, len, "checksum");

    /* Structural problems behind a valid checksum: what the kernel would refuse. */
    struct sock_filter *allow = (struct sock_filter *)(bad + HEADER_SIZE);
    struct sock_filter *merged = allow + n_allow + n_deny;
    memcpy(bad, buf, len);
    allow[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64); /* past seccomp_data */
    fix_sum(bad, len);
    expect_refused(bad, len, "filter A (allow-list) is not one the kernel accepts");
    memcpy(bad, buf, len);
    allow[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 100000, 0, 0); /* out of range */
    fix_sum(bad, len);
    expect_refused(bad, len, "filter A (allow-list) is not one the kernel accepts");
    memcpy(bad, buf, len);
    allow[n_allow - 1] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 3); /* opcode */
    fix_sum(bad, len);
    expect_refused(bad, len, "filter A (allow-list) is not one the kernel accepts");
    memcpy(bad, buf, len);
    merged[2] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_MEM, 5); /* never stored */
    fix_sum(bad, len);
    expect_refused(bad, len, "filter merged is not one the kernel accepts");
    /* A merged filter the kernel would take but that says something else than A and B:
     * the last instruction of merged (a RET) allowing instead. */
    memcpy(bad, buf, len);
    for (uint32_t i = n_merged; i-- > 0;)
        if (merged[i].code == (BPF_RET | BPF_K) && merged[i].k != SECCOMP_RET_ALLOW) {
            merged[i].k = SECCOMP_RET_ALLOW;
            break;
        }
    fix_sum(bad, len);
    expect_refused(bad, len, "not those of filters A and B");
    /* The same in filter A: A and B still merge, but no longer to the merged filter. */
    memcpy(bad, buf, len);
    for (uint32_t i = 0; i < n_allow; i++)
        if (allow[i].code == (BPF_RET | BPF_K) && allow[i].k != SECCOMP_RET_ALLOW) {
            allow[i].k = SECCOMP_RET_ALLOW;
            break;
        }
    fix_sum(bad, len);
    expect_refused(bad, len, "not those of filters A and B");

    /* Nothing to serialise without the merged form. */
    void *out;
    size_t out_len;
    assert_int_equal(ls_seccomp_program_serialize(NULL, &out, &out_len), -EINVAL);
    free(bad);
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_length_and_free),
        cmocka_unit_test(test_default_spec_names_all_known),
        cmocka_unit_test(test_default_spec_is_complete),
        cmocka_unit_test(test_allowed_basics),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_clone3_enosys),
        cmocka_unit_test(test_unknown_numbers),
        cmocka_unit_test(test_unknown_numbers_come_from_the_filter),
        cmocka_unit_test(test_socket),
        cmocka_unit_test(test_clone),
        cmocka_unit_test(test_ioctl),
        cmocka_unit_test(test_mknod),
        cmocka_unit_test(test_no_setid),
        cmocka_unit_test(test_personality),
        cmocka_unit_test(test_x32_killed),
        cmocka_unit_test(test_i386_killed),
        cmocka_unit_test(test_unknown_name),
        cmocka_unit_test(test_invalid_rules),
        cmocka_unit_test(test_conflicting_rules),
        cmocka_unit_test(test_unsafe_deny_shapes_refused),
        cmocka_unit_test(test_filter_b_beats_filter_a),
        cmocka_unit_test(test_program_without_filter_b),
        cmocka_unit_test(test_reusable),
        cmocka_unit_test(test_notify_form),
        cmocka_unit_test(test_notify_needs_merged_form),
        cmocka_unit_test(test_serialize_round_trip),
        cmocka_unit_test(test_serialize_rejects_corrupt),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
