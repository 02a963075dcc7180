/*
 * test_seccomp_eval.c - the user-space BPF evaluator (policies/bpf_eval.c) against the
 * running kernel.
 *
 * For the built-in default program and for the program compiled from Docker's
 * default profile, every case below is evaluated with ls_seccomp_eval() and run for
 * real in a forked child under the same program (seccomp_probe.c).
 * The child's call is also made once without any filter, as a baseline, and the
 * arguments are chosen so that the unfiltered kernel answers differently from the
 * filter (EFAULT, EBADF, EINVAL, ...): so a verdict "allow" must give exactly the
 * baseline, a verdict "errno E" must give E where the kernel alone would not, and a
 * verdict "kill" must end the child by SIGSYS.  Both must agree on every case.
 *
 * Hand-written filters then exercise what libseccomp never emits (X register, scratch
 * memory, ALU operations, JSET, RET A, a division by zero, TRAP) and programs the
 * kernel refuses to install, which the evaluator must refuse too; and two filters are
 * stacked to check the kernel's precedence and tie rule.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
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
#include "labstack/policy.h"
#include "labstack/seccomp.h"

#include "../../policies/seccomp_internal.h" /* hand-written programs */
#include "seccomp_probe.h"

#define BAD_TYPE 0x100000 /* not a SOCK_* flag: the kernel says EINVAL for a known family */
#ifndef AF_KCM
#define AF_KCM 41
#endif
#ifndef AF_NFC
#define AF_NFC 39
#endif

static struct ls_seccomp_program *default_prog, *docker_prog;
static bool have_i386;

/* ---- the kernel's side --------------------------------------------------------- */

/* The kernel's load result for prog in a child (0 or -errno). */
static int kernel_load(const struct ls_seccomp_program *prog) {
    int status;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            _exit(100);
        int r = ls_seccomp_load(prog);
        _exit(r == 0 ? 0 : r == -EINVAL ? 1 : 101);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_true(WEXITSTATUS(status) <= 1);
    return WEXITSTATUS(status) == 0 ? 0 : -EINVAL;
}

static const char *describe(const struct probe_outcome *o, char *buf, size_t size) {
    if (o->signal)
        snprintf(buf, size, "signal %d", o->signal);
    else if (o->ret == -1)
        snprintf(buf, size, "errno %d (%s)", o->err, strerror(o->err));
    else
        snprintf(buf, size, "success (%ld)", o->ret);
    return buf;
}

static const char *describe_verdict(const struct ls_verdict *v, char *buf, size_t size) {
    switch (v->kind) {
    case LS_VERDICT_ALLOW:
        snprintf(buf, size, "allow");
        break;
    case LS_VERDICT_ERRNO:
        snprintf(buf, size, "errno %d (%s)", v->errno_ret, strerror(v->errno_ret));
        break;
    case LS_VERDICT_KILL:
        snprintf(buf, size, "kill (0x%08x)", v->raw);
        break;
    default:
        snprintf(buf, size, "other (0x%08x)", v->raw);
        break;
    }
    return buf;
}

/* Does the kernel's behaviour under prog (got), against the unfiltered baseline (base),
 * match the evaluator's verdict?  NULL if so, else why not. */
static const char *agrees(const struct ls_verdict *v, const struct probe_outcome *base,
                          const struct probe_outcome *got, bool same_ok) {
    switch (v->kind) {
    case LS_VERDICT_ALLOW:
        if (got->signal != base->signal || (got->ret >= 0) != (base->ret >= 0) ||
            (got->ret < 0 && got->err != base->err))
            return "allowed, but the kernel's answer differs from the unfiltered call";
        return NULL;
    case LS_VERDICT_ERRNO:
        if (got->signal || got->ret != -1 || got->err != v->errno_ret)
            return "the kernel did not fail the call with the verdict's errno";
        if (!same_ok && !base->signal && base->ret == -1 && base->err == v->errno_ret)
            return "the case does not discriminate: the unfiltered kernel gives the same errno";
        return NULL;
    case LS_VERDICT_KILL:
        return got->signal == SIGSYS ? NULL : "the kernel did not kill the child by SIGSYS";
    case LS_VERDICT_OTHER:
        if ((v->raw & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_TRAP)
            return got->signal == SIGSYS ? NULL : "TRAP: the child did not get SIGSYS";
        return "a verdict this test cannot check against the kernel";
    }
    return "invalid verdict";
}

/* ---- the cases ------------------------------------------------------------------ */

#define EXP_ALLOW 0
#define EXP_KILL (-1)
#define EXP_ANY (-2) /* depends on the libseccomp version; the kernel comparison decides */

struct tcase {
    const char *what;
    struct probe_call call;
    int exp_default, exp_docker; /* EXP_* or an errno */
    bool same_ok;                /* the unfiltered kernel may answer the filter's errno */
};

static const char missing_path[] = "/nonexistent-labstack-test/x";
#define PTR(p) ((unsigned long)(p))

// clang-format off
#define C(nr_, ...) {.abi = PROBE_NATIVE, .nr = (nr_), .a = {__VA_ARGS__}}
// clang-format on

static const struct tcase cases[] = {
    /* Plainly allowed; the kernel answers EBADF/EFAULT/EINVAL or succeeds. */
    {"getppid", C(SYS_getppid), EXP_ALLOW, EXP_ALLOW, false},
    {"getpid", C(SYS_getpid), EXP_ALLOW, EXP_ALLOW, false},
    {"read(-1)", C(SYS_read, -1UL, 0, 0), EXP_ALLOW, EXP_ALLOW, false},
    {"write(-1)", C(SYS_write, -1UL, 0, 0), EXP_ALLOW, EXP_ALLOW, false},
    {"close(-1)", C(SYS_close, -1UL), EXP_ALLOW, EXP_ALLOW, false},
    {"openat(bad pointer)", C(SYS_openat, (unsigned long)AT_FDCWD, 1, O_RDONLY), EXP_ALLOW,
     EXP_ALLOW, false},
    {"fstat(-1)", C(SYS_fstat, -1UL, 0), EXP_ALLOW, EXP_ALLOW, false},
    {"mmap(len 0)", C(SYS_mmap, 0, 0, 1, 0x22, -1UL, 0), EXP_ALLOW, EXP_ALLOW, false},
    {"uname(bad pointer)", C(SYS_uname, 1), EXP_ALLOW, EXP_ALLOW, false},
    {"clock_gettime(-1)", C(SYS_clock_gettime, -1UL, 0), EXP_ALLOW, EXP_ALLOW, false},
    {"getrandom(0 bytes)", C(SYS_getrandom, 0, 0, 0), EXP_ALLOW, EXP_ALLOW, false},
    {"pipe2(bad pointer)", C(SYS_pipe2, 1, 0), EXP_ALLOW, EXP_ALLOW, false},
    {"kill(INT_MAX, 0)", C(SYS_kill, INT_MAX, 0), EXP_ALLOW, EXP_ALLOW, false},
    {"setresuid(-1, -1, -1)", C(SYS_setresuid, -1UL, -1UL, -1UL), EXP_ALLOW, EXP_ALLOW, false},
    {"arch_prctl(0)", C(SYS_arch_prctl, 0, 0), EXP_ALLOW, EXP_ALLOW, false},
    /* ioctl: the default refuses TIOCSTI/TIOCLINUX on the low 32 bits; Docker allows. */
    {"ioctl(-1, TCGETS)", C(SYS_ioctl, -1UL, TCGETS, 0), EXP_ALLOW, EXP_ALLOW, false},
    {"ioctl(-1, TIOCSTI)", C(SYS_ioctl, -1UL, TIOCSTI, 0), EPERM, EXP_ALLOW, false},
    {"ioctl(-1, TIOCSTI | 1 << 32)", C(SYS_ioctl, -1UL, 0x100000000UL | TIOCSTI, 0), EPERM,
     EXP_ALLOW, false},
    {"ioctl(-1, TIOCLINUX | high bits)", C(SYS_ioctl, -1UL, 0xdead00000000UL | TIOCLINUX, 0), EPERM,
     EXP_ALLOW, false},
    /* socket: an allow-list of four families vs Docker's deny of 38 and 40. */
    {"socket(AF_INET)", C(SYS_socket, AF_INET, SOCK_DGRAM | BAD_TYPE, 0), EXP_ALLOW, EXP_ALLOW,
     false},
    {"socket(AF_UNIX)", C(SYS_socket, AF_UNIX, SOCK_STREAM | BAD_TYPE, 0), EXP_ALLOW, EXP_ALLOW,
     false},
    {"socket(AF_PACKET)", C(SYS_socket, AF_PACKET, SOCK_RAW | BAD_TYPE, 0), EAFNOSUPPORT, EXP_ALLOW,
     false},
    {"socket(AF_ALG)", C(SYS_socket, AF_ALG, SOCK_SEQPACKET | BAD_TYPE, 0), EAFNOSUPPORT, EPERM,
     false},
    {"socket(AF_NFC)", C(SYS_socket, AF_NFC, SOCK_DGRAM | BAD_TYPE, 0), EAFNOSUPPORT, EXP_ALLOW,
     false},
    {"socket(AF_VSOCK)", C(SYS_socket, AF_VSOCK, SOCK_STREAM | BAD_TYPE, 0), EAFNOSUPPORT, EPERM,
     false},
    {"socket(AF_KCM)", C(SYS_socket, AF_KCM, SOCK_DGRAM | BAD_TYPE, 0), EAFNOSUPPORT, EXP_ALLOW,
     false},
    {"socket(AF_INET | 1 << 32)", C(SYS_socket, 0x100000002UL, SOCK_DGRAM | BAD_TYPE, 0),
     EAFNOSUPPORT, EXP_ALLOW, false},
    /* Docker compares all 64 bits, the kernel reads an int: AF_ALG with a high bit set
     * passes Docker's "> 40" rule and reaches the kernel as AF_ALG. */
    {"socket(AF_ALG | 1 << 32)",
     C(SYS_socket, 0x100000000UL | AF_ALG, SOCK_SEQPACKET | BAD_TYPE, 0), EAFNOSUPPORT, EXP_ALLOW,
     false},
    {"socket(AF_NETLINK, NETLINK_ROUTE)",
     C(SYS_socket, AF_NETLINK, SOCK_RAW | BAD_TYPE, 0 /* NETLINK_ROUTE */), EXP_ALLOW, EXP_ALLOW,
     false},
    {"socket(AF_NETLINK, NETLINK_AUDIT)", C(SYS_socket, AF_NETLINK, SOCK_RAW | BAD_TYPE, 9),
     EPROTONOSUPPORT, EXP_ALLOW, false},
    /* clone: no namespace flags (CLONE_SIGHAND without CLONE_VM: the kernel says EINVAL
     * before creating anything); clone3 -> ENOSYS (the kernel: EINVAL for size 0). */
    {"clone3(NULL, 0)", C(SYS_clone3, 0, 0), ENOSYS, ENOSYS, false},
    {"clone(CLONE_NEWNS)", C(SYS_clone, CLONE_NEWNS | CLONE_SIGHAND | SIGCHLD, 0, 0, 0, 0), EPERM,
     EPERM, false},
    {"clone(CLONE_NEWUSER)", C(SYS_clone, CLONE_NEWUSER | CLONE_SIGHAND | SIGCHLD, 0, 0, 0, 0),
     EPERM, EPERM, false},
    {"clone(CLONE_NEWNET | high bits)",
     C(SYS_clone, 0xffffffff00000000UL | CLONE_NEWNET | CLONE_SIGHAND | SIGCHLD, 0, 0, 0, 0), EPERM,
     EPERM, false},
    {"clone(no namespace)", C(SYS_clone, CLONE_SIGHAND | SIGCHLD, 0, 0, 0, 0), EXP_ALLOW, EXP_ALLOW,
     false},
    /* Refused by both. */
    {"unshare(all bits)", C(SYS_unshare, 0xffffffffUL), EPERM, EPERM, false},
    {"setns(-1)", C(SYS_setns, -1UL, 0), EPERM, EPERM, false},
    {"mount(NULL...)", C(SYS_mount, 0, 0, 0, 0, 0), EPERM, EPERM, true},
    {"umount2(NULL)", C(SYS_umount2, 0, 0), EPERM, EPERM, true},
    {"bpf(-1)", C(SYS_bpf, -1UL, 0, 0), EPERM, EPERM, true},
    {"perf_event_open(NULL)", C(SYS_perf_event_open, 0, 0, -1UL, -1UL, 0), EPERM, EPERM, true},
    {"keyctl(-1)", C(SYS_keyctl, -1UL), EPERM, EPERM, false},
    {"add_key(NULL)", C(SYS_add_key, 0, 0, 0, 0, 0), EPERM, EPERM, false},
    {"io_uring_setup(0)", C(SYS_io_uring_setup, 0, 0), EPERM, EPERM, true},
    {"userfaultfd(bad flags)", C(SYS_userfaultfd, 0xffffUL), EPERM, EPERM, true},
    {"clock_settime(-1)", C(SYS_clock_settime, -1UL, 0), EPERM, EPERM, false},
    {"reboot(no magic)", C(SYS_reboot, 0, 0, 0, 0), EPERM, EPERM, true},
    {"kexec_load(bad flags)", C(SYS_kexec_load, 0, 0, 0, 0x8000), EPERM, EPERM, true},
    {"init_module(NULL)", C(SYS_init_module, 0, 0, 0), EPERM, EPERM, true},
    {"chroot(bad pointer)", C(SYS_chroot, 1), EPERM, EPERM, true},
    {"swapon(NULL)", C(SYS_swapon, 0, 0), EPERM, EPERM, true},
    {"syslog(100)", C(SYS_syslog, 100, 0, 0), EPERM, EPERM, true},
    {"open_by_handle_at(-1)", C(SYS_open_by_handle_at, -1UL, 0, 0), EPERM, EPERM, true},
    {"fanotify_init(bad flags)", C(SYS_fanotify_init, 0xffffffffUL, 0), EPERM, EPERM, true},
    /* Refused by the default only (Docker allows them without capabilities). */
    {"ptrace(PEEKUSER, -1)", C(SYS_ptrace, 3, -1UL), EPERM, EXP_ALLOW, false},
    {"process_vm_readv(flags 1)", C(SYS_process_vm_readv, 1, 0, 0, 0, 0, 1), EPERM, EXP_ALLOW,
     false},
    {"name_to_handle_at(NULL)", C(SYS_name_to_handle_at, (unsigned long)AT_FDCWD, 0, 0, 0, 0),
     EPERM, EXP_ALLOW, false},
    {"modify_ldt(5)", C(SYS_modify_ldt, 5, 0, 0), EPERM, EXP_ALLOW, false},
    {"chmod(missing, 04755)", C(SYS_chmod, PTR(missing_path), 04755), EPERM, EXP_ALLOW, false},
    {"mknod(missing, S_IFCHR)", C(SYS_mknod, PTR(missing_path), S_IFCHR | 0600, 0x103), EPERM,
     EXP_ALLOW, false},
    {"openat2(NULL)", C(SYS_openat2, (unsigned long)AT_FDCWD, 0, 0, 0), ENOSYS, EXP_ALLOW, false},
    /* personality: the same five values in both. */
    {"personality(query)", C(SYS_personality, 0xffffffffUL), EXP_ALLOW, EXP_ALLOW, false},
    {"personality(PER_LINUX32)", C(SYS_personality, 8), EXP_ALLOW, EXP_ALLOW, false},
    {"personality(ADDR_NO_RANDOMIZE)", C(SYS_personality, ADDR_NO_RANDOMIZE), EPERM, EPERM, false},
    {"personality(1 << 32)", C(SYS_personality, 0x100000000UL), EPERM, EPERM, false},
    /* Numbers libseccomp 2.5.4 has no name for: ENOSYS (the kernel says ENOSYS for the
     * unused ones too).  Newer syscalls depend on the libseccomp version. */
    {"nr 400 (unused)", C(400), ENOSYS, ENOSYS, true},
    {"nr 1000", C(1000), ENOSYS, ENOSYS, true},
    {"nr 1023", C(LS_SECCOMP_NR_SPACE - 1), ENOSYS, ENOSYS, true},
    {"nr 1024 (beyond the unknown range)", C(LS_SECCOMP_NR_SPACE), EPERM, EPERM, false},
    {"nr -1", C(-1L), EXP_ANY, EXP_ANY, true},
    {"statmount(NULL)", C(457, 0, 0, 0, 0), EXP_ANY, EXP_ANY, true},
    {"mseal(0, 0, 0)", C(462, 0, 0, 0), EXP_ANY, EXP_ANY, true},
    /* Other ABIs: killed. */
    {"x32 getpid", {.abi = PROBE_X32, .nr = SYS_getpid}, EXP_KILL, EXP_KILL, false},
    {"x32 read(-1)", {.abi = PROBE_X32, .nr = 0, .a = {-1UL}}, EXP_KILL, EXP_KILL, false},
    {"x32 nr 1000", {.abi = PROBE_X32, .nr = 1000}, EXP_KILL, EXP_KILL, false},
    {"i386 getpid (int $0x80)", {.abi = PROBE_I386, .nr = 20}, EXP_KILL, EXP_KILL, false},
};

static void check_case(const char *prog_name, const struct ls_seccomp_program *prog,
                       const struct tcase *c, int expected, size_t *n_checked) {
    struct ls_verdict v, v2;
    struct probe_outcome base, got;
    char b1[64], b2[64], b3[64];
    const char *why;
    uint32_t arch = c->call.abi == PROBE_I386 ? AUDIT_ARCH_I386 : 0;
    int nr = (int)(c->call.nr | (c->call.abi == PROBE_X32 ? PROBE_X32_SYSCALL_BIT : 0));
    uint64_t args[6];

    for (int i = 0; i < 6; i++)
        args[i] = c->call.a[i];
    assert_int_equal(ls_seccomp_eval(prog, nr, args, arch, &v), 0);
    /* arch 0 is the native architecture. */
    assert_int_equal(ls_seccomp_eval(prog, nr, args, arch ? arch : AUDIT_ARCH_X86_64, &v2), 0);
    assert_memory_equal(&v, &v2, sizeof(v));

    if (expected != EXP_ANY) {
        bool ok = expected == EXP_ALLOW  ? v.kind == LS_VERDICT_ALLOW
                  : expected == EXP_KILL ? v.kind == LS_VERDICT_KILL
                                         : v.kind == LS_VERDICT_ERRNO && v.errno_ret == expected;
        if (!ok)
            fail_msg("%s: %s: evaluator says %s, the test expects %d", prog_name, c->what,
                     describe_verdict(&v, b1, sizeof(b1)), expected);
    }

    if (c->call.abi == PROBE_I386 && !have_i386) {
        print_message("%s: %s: no i386 emulation in this kernel, kernel check skipped\n", prog_name,
                      c->what);
        return;
    }
    base = seccomp_probe_call(NULL, &c->call);
    got = seccomp_probe_call(prog, &c->call);
    why = agrees(&v, &base, &got, c->same_ok);
    if (why)
        fail_msg("%s: %s: %s (evaluator: %s; kernel under the filter: %s; unfiltered: %s)",
                 prog_name, c->what, why, describe_verdict(&v, b1, sizeof(b1)),
                 describe(&got, b2, sizeof(b2)), describe(&base, b3, sizeof(b3)));
    (*n_checked)++;
}

/* ---- setup --------------------------------------------------------------------- */

static int find_vendor_profile(char *buf, size_t size) {
    char exe[PATH_MAX], src[PATH_MAX * 2];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n < 0)
        return -1;
    exe[n] = '\0';
    if (__FILE__[0] == '/')
        snprintf(src, sizeof(src), "%s", __FILE__);
    else
        snprintf(src, sizeof(src), "%s/%s", dirname(dirname(dirname(exe))), __FILE__);
    snprintf(buf, size, "%s/../../policies/vendor/docker-default.json", dirname(src));
    return access(buf, R_OK);
}

static int setup(_unused_ void **state) {
    struct ls_error err = {0};
    struct ls_diags diags = {0};
    struct ls_seccomp_rule *rules = NULL;
    size_t n = 0;
    int def = 0, r;
    char path[PATH_MAX];

    if (ls_seccomp_build(ls_seccomp_default_spec(), &default_prog, &err) < 0) {
        fprintf(stderr, "building the default program: %s\n", err.msg);
        return -1;
    }
    if (find_vendor_profile(path, sizeof(path)) < 0) {
        fprintf(stderr, "cannot find %s\n", path);
        return -1;
    }
    r = ls_docker_profile_load(path, "6.1", true, &rules, &n, &def, &diags);
    ls_diags_free(&diags);
    if (r < 0) {
        fprintf(stderr, "importing %s: %d\n", path, r);
        return -1;
    }
    const struct ls_seccomp_spec spec = {
        .default_errno = def,
        .unknown_errno = ENOSYS,
        .rules = rules,
        .n_rules = n,
    };
    r = ls_seccomp_build(&spec, &docker_prog, &err);
    ls_seccomp_rules_free(rules, n);
    if (r < 0) {
        fprintf(stderr, "building the Docker program: %s\n", err.msg);
        return -1;
    }
    /* Without ia32 emulation there is nothing to filter. */
    have_i386 = seccomp_probe_have_i386();
    return 0;
}

static int teardown(_unused_ void **state) {
    default_prog = ls_seccomp_program_free(default_prog);
    docker_prog = ls_seccomp_program_free(docker_prog);
    return 0;
}

/* ---- the compiled programs against the kernel ------------------------------------ */

static void test_default_program(_unused_ void **state) {
    size_t n = 0;
    for (size_t i = 0; i < ELEMENTSOF(cases); i++)
        check_case("default", default_prog, &cases[i], cases[i].exp_default, &n);
    print_message("default program: %zu cases agree with the kernel\n", n);
    assert_true(n >= 40);
}

static void test_docker_program(_unused_ void **state) {
    size_t n = 0;
    for (size_t i = 0; i < ELEMENTSOF(cases); i++)
        check_case("docker", docker_prog, &cases[i], cases[i].exp_docker, &n);
    print_message("Docker program: %zu cases agree with the kernel\n", n);
    assert_true(n >= 40);
}

static void test_other_arches_killed(_unused_ void **state) {
    /* Evaluator only (we cannot make these calls): every other architecture dies. */
    static const uint32_t arches[] = {AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM,
                                      0x12345678};
    for (size_t i = 0; i < ELEMENTSOF(arches); i++)
        for (int nr = 0; nr < 3; nr++) {
            struct ls_verdict v;
            assert_int_equal(ls_seccomp_eval(default_prog, nr, NULL, arches[i], &v), 0);
            assert_int_equal(v.kind, LS_VERDICT_KILL);
            assert_int_equal(v.raw, SECCOMP_RET_KILL_PROCESS);
            assert_int_equal(ls_seccomp_eval(docker_prog, nr, NULL, arches[i], &v), 0);
            assert_int_equal(v.kind, LS_VERDICT_KILL);
        }
}

static void test_bad_calls(_unused_ void **state) {
    struct ls_verdict v;
    struct ls_seccomp_program empty = {0};
    assert_int_equal(ls_seccomp_eval(NULL, 0, NULL, 0, &v), -EINVAL);
    assert_int_equal(ls_seccomp_eval(&empty, 0, NULL, 0, &v), -EINVAL);
    assert_int_equal(ls_seccomp_eval(default_prog, 0, NULL, 0, NULL), -EINVAL);
}

/* ---- hand-written filters ------------------------------------------------------------- */

#define STMT(code, k) BPF_STMT((code), (k))
#define JUMP(code, k, jt, jf) BPF_JUMP((code), (k), (jt), (jf))
#define OFF_NR offsetof(struct seccomp_data, nr)
#define OFF_ARCH offsetof(struct seccomp_data, arch)
#define OFF_A0 offsetof(struct seccomp_data, args[0]) /* low half on x86_64 */
#define OFF_A1 offsetof(struct seccomp_data, args[1])
#define RET_ERRNO(e) (SECCOMP_RET_ERRNO | (e))

/*
 * A filter written by hand with everything libseccomp does not emit:
 *   getpgid(a0):        ERRNO(((a0 * 3) + 7) & 0xff), through RET A
 *   getsid(a0, a1):     ERRNO(a0 / a1) -- a1 == 0 ends the filter with 0: kill
 *   getpriority(a0,a1): ERRNO((((-((a0 << 4) >> a1)) ^ 1) & 0x3ff) | 1)
 *   setpgid(a0, a1):    a0 & 4 -> EXDEV; a0 & X(=8) -> ENOTSUP; a0 > 100 -> E2BIG;
 *                       a0 >= X(=a1) -> ERANGE; else allow
 *   getpgrp:            LEN == 64 and a scratch-memory round trip -> ERRNO(EL2HLT)
 *   getitimer:          TRAP
 *   anything else:      allow (x86_64), kill (other architectures)
 * Scratch M[3] holds the syscall number, M[5] a1, M[7] the LEN.
 */
// clang-format off
static struct sock_filter hand_insns[] = {
    /* 0 */ STMT(BPF_LD | BPF_W | BPF_ABS, OFF_ARCH),
    /* 1 */ JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
    /* 2 */ STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    /* 3 */ STMT(BPF_LD | BPF_W | BPF_ABS, OFF_NR),
    /* 4 */ STMT(BPF_ST, 3),
    /* 5 */ STMT(BPF_LDX | BPF_MEM, 3),
    /* 6 */ JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpgid, 0, 6), /* -> 7 / 13 */
    /* 7 */ STMT(BPF_LD | BPF_W | BPF_ABS, OFF_A0),
    /* 8 */ STMT(BPF_ALU | BPF_MUL | BPF_K, 3),
    /* 9 */ STMT(BPF_ALU | BPF_ADD | BPF_K, 7),
    /* 10 */ STMT(BPF_ALU | BPF_AND | BPF_K, 0xff),
    /* 11 */ STMT(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),
    /* 12 */ STMT(BPF_RET | BPF_A, 0),
    /* 13 */ STMT(BPF_MISC | BPF_TXA, 0),
    /* 14 */ JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getsid, 0, 5), /* -> 15 / 20 */
    /* 15 */ STMT(BPF_LD | BPF_W | BPF_ABS, OFF_A1),
    /* 16 */ STMT(BPF_MISC | BPF_TAX, 0),
    /* 17 */ STMT(BPF_LD | BPF_W | BPF_ABS, OFF_A0),
    /* 18 */ STMT(BPF_ALU | BPF_DIV | BPF_X, 0),
    /* 19 */ JUMP(BPF_JMP | BPF_JA, 64 - 20, 0, 0), /* -> 64 */
    /* 20 */ STMT(BPF_LD | BPF_MEM, 3),
    /* 21 */ JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpriority, 0, 8), /* -> 22 / 30 */
    /* 22 */ STMT(BPF_LD | BPF_W | BPF_ABS, OFF_A1),
    /* 23 */ STMT(BPF_MISC | BPF_TAX, 0),
    /* 24 */ STMT(BPF_LD | BPF_W | BPF_ABS, OFF_A0),
    /* 25 */ STMT(BPF_ALU | BPF_LSH | BPF_K, 4),
    /* 26 */ STMT(BPF_ALU | BPF_RSH | BPF_X, 0),
    /* 27 */ STMT(BPF_ALU | BPF_NEG, 0),
    /* 28 */ STMT(BPF_ALU | BPF_XOR | BPF_K, 1),
    /* 29 */ JUMP(BPF_JMP | BPF_JA, 62 - 30, 0, 0), /* -> 62 */
    /* 30 */ STMT(BPF_LD | BPF_MEM, 3),
    /* 31 */ JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_setpgid, 0, 14), /* -> 32 / 46 */
    /* 32 */ STMT(BPF_LD | BPF_W | BPF_ABS, OFF_A1),
    /* 33 */ STMT(BPF_ST, 5),
    /* 34 */ STMT(BPF_LD | BPF_W | BPF_ABS, OFF_A0),
    /* 35 */ JUMP(BPF_JMP | BPF_JSET | BPF_K, 4, 0, 1), /* -> 36 / 37 */
    /* 36 */ STMT(BPF_RET | BPF_K, RET_ERRNO(EXDEV)),
    /* 37 */ STMT(BPF_LDX | BPF_IMM, 8),
    /* 38 */ JUMP(BPF_JMP | BPF_JSET | BPF_X, 0, 0, 1), /* -> 39 / 40 */
    /* 39 */ STMT(BPF_RET | BPF_K, RET_ERRNO(ENOTSUP)),
    /* 40 */ JUMP(BPF_JMP | BPF_JGT | BPF_K, 100, 3, 0), /* -> 44 / 41 */
    /* 41 */ STMT(BPF_LDX | BPF_MEM, 5),
    /* 42 */ JUMP(BPF_JMP | BPF_JGE | BPF_X, 0, 2, 0), /* -> 45 / 43 */
    /* 43 */ STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    /* 44 */ STMT(BPF_RET | BPF_K, RET_ERRNO(E2BIG)),
    /* 45 */ STMT(BPF_RET | BPF_K, RET_ERRNO(ERANGE)),
    /* 46 */ STMT(BPF_LD | BPF_MEM, 3),
    /* 47 */ JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpgrp, 0, 10), /* -> 48 / 58 */
    /* 48 */ STMT(BPF_LD | BPF_W | BPF_LEN, 0),
    /* 49 */ STMT(BPF_ST, 7),
    /* 50 */ STMT(BPF_LDX | BPF_W | BPF_LEN, 0),
    /* 51 */ STMT(BPF_ALU | BPF_SUB | BPF_X, 0),       /* 64 - 64 */
    /* 52 */ JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), /* -> 54 / 53 */
    /* 53 */ STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    /* 54 */ STMT(BPF_LD | BPF_MEM, 7),
    /* 55 */ JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, 1, 0), /* A == X == 64 -> 57 / 56 */
    /* 56 */ STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    /* 57 */ STMT(BPF_RET | BPF_K, RET_ERRNO(EL2HLT)),
    /* 58 */ STMT(BPF_LD | BPF_MEM, 3),
    /* 59 */ JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getitimer, 0, 1), /* -> 60 / 61 */
    /* 60 */ STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | 42),
    /* 61 */ STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    /* 62 */ STMT(BPF_ALU | BPF_AND | BPF_K, 0x3ff),
    /* 63 */ STMT(BPF_ALU | BPF_OR | BPF_K, 1),
    /* 64 */ STMT(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),
    /* 65 */ STMT(BPF_RET | BPF_A, 0),
};
// clang-format on

static struct ls_seccomp_program hand_program(struct sock_filter *allow, size_t n_allow,
                                              struct sock_filter *deny, size_t n_deny) {
    struct ls_seccomp_program p = {
        .allow = {.len = (unsigned short)n_allow, .filter = allow},
        .deny = {.len = (unsigned short)n_deny, .filter = deny},
    };
    return p;
}

static void compare_with_kernel(const char *name, const struct ls_seccomp_program *prog,
                                const struct probe_call *c, bool same_ok) {
    struct ls_verdict v;
    struct probe_outcome base, got;
    char b1[64], b2[64], b3[64];
    uint64_t args[6];
    const char *why;

    for (int i = 0; i < 6; i++)
        args[i] = c->a[i];
    assert_int_equal(ls_seccomp_eval(prog, (int)c->nr, args, 0, &v), 0);
    base = seccomp_probe_call(NULL, c);
    got = seccomp_probe_call(prog, c);
    why = agrees(&v, &base, &got, same_ok);
    if (why)
        fail_msg("%s: nr %ld (%lu, %lu): %s (evaluator: %s; kernel: %s; unfiltered: %s)", name,
                 c->nr, c->a[0], c->a[1], why, describe_verdict(&v, b1, sizeof(b1)),
                 describe(&got, b2, sizeof(b2)), describe(&base, b3, sizeof(b3)));
}

static struct ls_verdict eval(const struct ls_seccomp_program *prog, long nr, uint64_t a0,
                              uint64_t a1) {
    struct ls_verdict v;
    uint64_t args[6] = {a0, a1};
    assert_int_equal(ls_seccomp_eval(prog, (int)nr, args, 0, &v), 0);
    return v;
}

static void test_hand_filter(_unused_ void **state) {
    struct ls_seccomp_program prog;
    struct ls_verdict v;

    prog = hand_program(hand_insns, ELEMENTSOF(hand_insns), NULL, 0);
    assert_int_equal(kernel_load(&prog), 0);

    /* What the evaluator computes, by hand. */
    v = eval(&prog, SYS_getpgid, 5, 0);
    assert_int_equal(v.kind, LS_VERDICT_ERRNO);
    assert_int_equal(v.errno_ret, (5 * 3 + 7) & 0xff);
    v = eval(&prog, SYS_getpgid, 0x100000001ULL, 0); /* the low word only: 1 */
    assert_int_equal(v.errno_ret, 10);
    v = eval(&prog, SYS_getsid, 100, 7);
    assert_int_equal(v.errno_ret, 14);
    v = eval(&prog, SYS_getsid, 100, 0); /* division by zero: the filter returns 0 */
    assert_int_equal(v.kind, LS_VERDICT_KILL);
    assert_int_equal(v.raw, SECCOMP_RET_KILL_THREAD);
    v = eval(&prog, SYS_getpriority, 0x12345, 3);
    assert_int_equal(v.errno_ret, (((0u - ((0x12345u << 4) >> 3)) ^ 1) & 0x3ff) | 1);
    v = eval(&prog, SYS_getpriority, 0x12345, 35); /* shift by X uses X & 31 */
    assert_int_equal(v.errno_ret, (((0u - ((0x12345u << 4) >> 3)) ^ 1) & 0x3ff) | 1);
    assert_int_equal(eval(&prog, SYS_setpgid, 4, 0).errno_ret, EXDEV);
    assert_int_equal(eval(&prog, SYS_setpgid, 8, 0).errno_ret, ENOTSUP);
    assert_int_equal(eval(&prog, SYS_setpgid, 129, 0).errno_ret, E2BIG);
    assert_int_equal(eval(&prog, SYS_setpgid, 50, 50).errno_ret, ERANGE);
    assert_int_equal(eval(&prog, SYS_setpgid, 50, 51).kind, LS_VERDICT_ALLOW);
    assert_int_equal(eval(&prog, SYS_getpgrp, 0, 0).errno_ret, EL2HLT);
    v = eval(&prog, SYS_getitimer, 0, 0);
    assert_int_equal(v.kind, LS_VERDICT_OTHER);
    assert_int_equal(v.raw, SECCOMP_RET_TRAP | 42);
    assert_int_equal(eval(&prog, SYS_getppid, 0, 0).kind, LS_VERDICT_ALLOW);

    /* And the kernel agrees (getpgid etc. with a pid that does not exist: ESRCH). */
    static const struct probe_call calls[] = {
        C(SYS_getpgid, 5),
        C(SYS_getpgid, 0x100000001UL),
        C(SYS_getpgid, 77),
        C(SYS_getsid, 100, 7),
        C(SYS_getsid, 100, 0),
        C(SYS_getsid, 3, 3),
        C(SYS_getpriority, 0x12345, 3),
        C(SYS_getpriority, 0x12345, 35),
        C(SYS_getpriority, 7, 0),
        C(SYS_setpgid, 4, 0),
        C(SYS_setpgid, 8, 0),
        C(SYS_setpgid, 129, 0),
        C(SYS_setpgid, 50, 50),
        C(SYS_setpgid, 50, 51),
        C(SYS_getpgrp),
        C(SYS_getitimer, 0, 0),
        C(SYS_getppid),
    };
    for (size_t i = 0; i < ELEMENTSOF(calls); i++)
        compare_with_kernel("hand filter", &prog, &calls[i], true);
}

/* Programs the kernel refuses to install: the evaluator refuses them too. */
static void test_refused_programs(_unused_ void **state) {
    static const struct {
        const char *what;
        struct sock_filter insns[4];
        unsigned short len;
    } bad[] = {
        {"load past seccomp_data",
         {STMT(BPF_LD | BPF_W | BPF_ABS, 64), STMT(BPF_RET | BPF_A, 0)},
         2},
        {"unaligned load", {STMT(BPF_LD | BPF_W | BPF_ABS, 2), STMT(BPF_RET | BPF_A, 0)}, 2},
        {"16-bit load", {STMT(BPF_LD | BPF_H | BPF_ABS, 0), STMT(BPF_RET | BPF_A, 0)}, 2},
        {"indirect load", {STMT(BPF_LD | BPF_W | BPF_IND, 0), STMT(BPF_RET | BPF_A, 0)}, 2},
        {"MOD", {STMT(BPF_ALU | BPF_MOD | BPF_K, 3), STMT(BPF_RET | BPF_A, 0)}, 2},
        {"DIV by constant 0", {STMT(BPF_ALU | BPF_DIV | BPF_K, 0), STMT(BPF_RET | BPF_A, 0)}, 2},
        {"shift by 32", {STMT(BPF_ALU | BPF_LSH | BPF_K, 32), STMT(BPF_RET | BPF_A, 0)}, 2},
        {"scratch index 16", {STMT(BPF_ST, 16), STMT(BPF_RET | BPF_A, 0)}, 2},
        {"load before store", {STMT(BPF_LD | BPF_MEM, 0), STMT(BPF_RET | BPF_A, 0)}, 2},
        {"load stored on one path only",
         {JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), STMT(BPF_ST, 1), STMT(BPF_LD | BPF_MEM, 1),
          STMT(BPF_RET | BPF_A, 0)},
         4},
        {"JA past the end", {JUMP(BPF_JMP | BPF_JA, 1, 0, 0), STMT(BPF_RET | BPF_K, 0)}, 2},
        {"JEQ past the end",
         {JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)},
         2},
        {"no RET at the end",
         {STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW), STMT(BPF_LD | BPF_IMM, 0)},
         2},
        {"unknown opcode", {STMT(0xff, 0), STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)}, 2},
    };
    static const struct sock_filter good[] = {STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};

    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        struct sock_filter insns[4];
        struct ls_seccomp_program prog;
        struct ls_verdict v;

        memcpy(insns, bad[i].insns, sizeof(insns));
        prog = hand_program(insns, bad[i].len, NULL, 0);
        if (ls_seccomp_eval(&prog, SYS_getppid, NULL, 0, &v) != -EINVAL)
            fail_msg("%s: the evaluator accepted it", bad[i].what);
        if (kernel_load(&prog) != -EINVAL)
            fail_msg("%s: the kernel accepted it (the test is wrong)", bad[i].what);

        /* Refused also as filter B, behind a good filter A. */
        prog = hand_program((struct sock_filter *)good, 1, insns, bad[i].len);
        assert_int_equal(ls_seccomp_eval(&prog, SYS_getppid, NULL, 0, &v), -EINVAL);
    }
}

/* Two stacked filters: the most restrictive action wins; between equal actions the
 * filter installed last (filter A, evaluated first) wins. */
static void test_precedence(_unused_ void **state) {
    /* Filter A: getpgid -> ERRNO(EXDEV); getsid -> ERRNO(EXDEV); getpriority -> TRAP;
     * else allow.  Filter B: getpgid -> ERRNO(ENOTSUP); getsid -> KILL_PROCESS;
     * getpriority -> KILL_THREAD; setpgid -> LOG; else allow. */
    static struct sock_filter a[] = {
        STMT(BPF_LD | BPF_W | BPF_ABS, OFF_NR),
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpgid, 2, 0),
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getsid, 1, 0),
        JUMP(BPF_JMP | BPF_JA, 1, 0, 0),
        STMT(BPF_RET | BPF_K, RET_ERRNO(EXDEV)),
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpriority, 0, 1),
        STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    static struct sock_filter b[] = {
        STMT(BPF_LD | BPF_W | BPF_ABS, OFF_NR),
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpgid, 0, 1),
        STMT(BPF_RET | BPF_K, RET_ERRNO(ENOTSUP)),
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getsid, 0, 1),
        STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpriority, 0, 1),
        STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_THREAD),
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_setpgid, 0, 1),
        STMT(BPF_RET | BPF_K, SECCOMP_RET_LOG),
        STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW | 7), /* data on ALLOW is ignored */
    };
    struct ls_seccomp_program prog = hand_program(a, ELEMENTSOF(a), b, ELEMENTSOF(b));
    struct ls_verdict v;

    v = eval(&prog, SYS_getpgid, 1, 0); /* tie: A's errno */
    assert_int_equal(v.kind, LS_VERDICT_ERRNO);
    assert_int_equal(v.errno_ret, EXDEV);
    v = eval(&prog, SYS_getsid, 1, 0); /* ERRNO vs KILL_PROCESS */
    assert_int_equal(v.kind, LS_VERDICT_KILL);
    assert_int_equal(v.raw, SECCOMP_RET_KILL_PROCESS);
    v = eval(&prog, SYS_getpriority, 0, 0); /* TRAP vs KILL_THREAD */
    assert_int_equal(v.kind, LS_VERDICT_KILL);
    assert_int_equal(v.raw, SECCOMP_RET_KILL_THREAD);
    v = eval(&prog, SYS_setpgid, 0, 0); /* ALLOW vs LOG */
    assert_int_equal(v.kind, LS_VERDICT_OTHER);
    assert_int_equal(v.raw, SECCOMP_RET_LOG);
    v = eval(&prog, SYS_getppid, 0, 0); /* ALLOW vs ALLOW|7: the first, 0x7fff0000 */
    assert_int_equal(v.kind, LS_VERDICT_ALLOW);
    assert_int_equal(v.raw, SECCOMP_RET_ALLOW);

    compare_with_kernel("stacked", &prog, CALL(SYS_getpgid, 999999), false);
    compare_with_kernel("stacked", &prog, CALL(SYS_getsid, 999999), false);
    compare_with_kernel("stacked", &prog, CALL(SYS_getpriority, 0, 0), false);
    compare_with_kernel("stacked", &prog, CALL(SYS_getppid), false);

    /* ERRNO data above MAX_ERRNO is capped at 4095 by the kernel. */
    static struct sock_filter big[] = {
        STMT(BPF_LD | BPF_W | BPF_ABS, OFF_NR),
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getsid, 0, 1),
        STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 0xffff),
        STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct ls_seccomp_program capped = hand_program(big, ELEMENTSOF(big), NULL, 0);
    v = eval(&capped, SYS_getsid, 0, 0);
    assert_int_equal(v.kind, LS_VERDICT_ERRNO);
    assert_int_equal(v.errno_ret, 4095);
    assert_int_equal(v.raw, SECCOMP_RET_ERRNO | 0xffff);
    compare_with_kernel("capped errno", &capped, CALL(SYS_getsid, 999999), false);

    /* Swapped: now B's errno is the one installed last. */
    prog = hand_program(b, ELEMENTSOF(b), a, ELEMENTSOF(a));
    v = eval(&prog, SYS_getpgid, 1, 0);
    assert_int_equal(v.errno_ret, ENOTSUP);
    compare_with_kernel("stacked, swapped", &prog, CALL(SYS_getpgid, 999999), false);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_program),     cmocka_unit_test(test_docker_program),
        cmocka_unit_test(test_other_arches_killed), cmocka_unit_test(test_bad_calls),
        cmocka_unit_test(test_hand_filter),         cmocka_unit_test(test_refused_programs),
        cmocka_unit_test(test_precedence),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
