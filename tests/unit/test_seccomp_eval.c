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
 * The kernel runs each program's merged filter (seccomp.c, "Merging"), while the
 * evaluator runs filters A and B as a stack: every case above therefore also checks the
 * merge against the kernel.  A differential test then compares, without the kernel, the
 * merged filter and the notify form (USER_NOTIF mapped back to ERRNO) with the stack for
 * every syscall number, argument patterns and architectures, for the default program,
 * the raw Docker program and a policy that imports Docker's profile (with the floor's
 * argument denies, so that it has a filter B).
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
static struct ls_policy *docker_policy;               /* imports Docker's profile */
static const struct ls_seccomp_program *docker_policy_prog; /* owned by the policy cache */
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

/* A policy in a scratch directory that imports Docker's profile (copied beside it):
 * the effective rules are the built-in list, the profile over it and the floor, whose
 * argument denies make a filter B. */
static int load_docker_policy(const char *profile) {
    static const char policy[] = "{ \"name\": \"dock\", \"version\": 1,\n"
                                 "  \"seccomp\": { \"import\": \"vendor/docker.json\" } }\n";
    char dir[] = "/tmp/test_seccomp_eval.XXXXXX", path[PATH_MAX], buf[1 << 16];
    struct ls_diags diags = {0};
    struct ls_error err = {0};
    FILE *in, *out;
    size_t n;
    int r;

    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/vendor", dir);
    if (mkdir(path, 0755) < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/vendor/docker.json", dir);
    in = fopen(profile, "re");
    out = fopen(path, "we");
    if (!in || !out)
        return -1;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    if (fclose(out) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/dock.json", dir);
    out = fopen(path, "we");
    if (!out || fputs(policy, out) < 0 || fclose(out) != 0)
        return -1;
    /* The profile names syscalls newer than libseccomp 2.5.4: warnings, dropped. */
    r = ls_policy_load(path, &(struct ls_policy_load_opts){.allow_unknown_syscalls = true},
                       &docker_policy, &diags);
    for (size_t i = 0; r < 0 && i < diags.n; i++) {
        char *line = ls_diag_format(&diags.v[i]);
        fprintf(stderr, "%s\n", line ? line : "?");
        free(line);
    }
    ls_diags_free(&diags);
    if (r >= 0)
        r = ls_policy_program(docker_policy, &docker_policy_prog, &err);
    if (r < 0)
        fprintf(stderr, "the Docker-importing policy: %d %s\n", r, err.msg);
    unlink(path);
    snprintf(path, sizeof(path), "%s/vendor/docker.json", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/vendor", dir);
    rmdir(path);
    rmdir(dir);
    return r;
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
    if (load_docker_policy(path) < 0)
        return -1;
    /* Without ia32 emulation there is nothing to filter. */
    have_i386 = seccomp_probe_have_i386();
    return 0;
}

static int teardown(_unused_ void **state) {
    default_prog = ls_seccomp_program_free(default_prog);
    docker_prog = ls_seccomp_program_free(docker_prog);
    ls_policy_cache_clear();
    docker_policy = ls_policy_free(docker_policy);
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

/* ---- the merged and notify filters against the stack ------------------------------ */

/* A single-filter program around f, checked once so that evaluation is fast. */
static struct ls_seccomp_program single(const struct sock_fprog *f) {
    struct ls_seccomp_program p = {.allow = *f};
    assert_int_equal(seccomp_bpf_check(f), 0);
    p.checked = true;
    return p;
}

/* USER_NOTIF with data d is what ERRNO d was before the notify mapping. */
static uint32_t unnotify(uint32_t v) {
    if ((v & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_USER_NOTIF)
        return SECCOMP_RET_ERRNO | (v & SECCOMP_RET_DATA);
    return v;
}

struct differ {
    const char *name;
    const struct ls_seccomp_program *prog;
    struct ls_seccomp_program merged, notify;
    size_t n, errnos, kills, allows;
};

static void differ_one(struct differ *d, int nr, uint32_t arch, const uint64_t args[6]) {
    struct seccomp_data sd = {.nr = nr, .arch = arch};
    uint32_t stack, merged, notify;

    memcpy(sd.args, args, sizeof(sd.args));
    assert_int_equal(ls_seccomp_program_eval(d->prog, &sd, &stack), 0);
    assert_int_equal(ls_seccomp_program_eval(&d->merged, &sd, &merged), 0);
    assert_int_equal(ls_seccomp_program_eval(&d->notify, &sd, &notify), 0);
    if (merged != stack || unnotify(notify) != stack ||
        ((stack & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO) !=
            ((notify & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_USER_NOTIF))
        fail_msg("%s: nr %d arch 0x%x args %#llx %#llx %#llx %#llx: the stack says 0x%08x, "
                 "merged 0x%08x, notify 0x%08x",
                 d->name, nr, arch, (unsigned long long)args[0], (unsigned long long)args[1],
                 (unsigned long long)args[2], (unsigned long long)args[3], stack, merged, notify);
    d->n++;
    switch (stack & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_ERRNO:
        d->errnos++;
        break;
    case SECCOMP_RET_ALLOW:
        d->allows++;
        break;
    default:
        d->kills++;
        break;
    }
}

/* Argument values that the default spec, the floor and Docker's profile look at. */
static const uint64_t arg_values[] = {
    0, 1, 2, 3, 8, 10, 16, 17, 38, 40, 41, 0x20008, 0xffffffff, 0x100000000ULL, 0x100000002ULL,
    0x100000011ULL, ~0ULL,
    /* ioctl */
    TIOCSTI, TIOCLINUX, TCGETS, 0x100000000ULL | TIOCSTI, 0xdead00000000ULL | TIOCLINUX,
    /* modes and flags: chmod family, creat, open(at) with O_CREAT / O_TMPFILE, mknod */
    0644, 0755, 01777, 02755, 04755, 06755, 04000, 02000, O_CREAT, O_CREAT | O_WRONLY,
    O_CREAT | O_EXCL | O_RDWR, O_TMPFILE | O_WRONLY, O_RDONLY | O_DIRECTORY,
    0x100000000ULL | O_CREAT, S_IFCHR | 0600, S_IFBLK | 0600, S_IFIFO | 0600, S_IFSOCK | 0600,
    S_IFREG | 04755, S_IFREG | 0644,
    /* clone flags, personality */
    CLONE_NEWUSER, CLONE_NEWNS | SIGCHLD, CLONE_NEWNET, CLONE_NEWPID, CLONE_VM | CLONE_SIGHAND,
    0xffffffff00000000ULL | CLONE_NEWUSER, ADDR_NO_RANDOMIZE, 0x0008, 0x20000 | 8,
};

/* Syscalls with argument rules somewhere: every pair of arguments gets every pair of
 * values. */
static const int arg_syscalls[] = {
    SYS_socket, SYS_socketpair, SYS_ioctl, SYS_clone, SYS_personality, SYS_chmod, SYS_fchmod,
    SYS_fchmodat, 452 /* fchmodat2 */, SYS_creat, SYS_open, SYS_openat, SYS_mknod, SYS_mknodat,
};

static void differ_program(const char *name, const struct ls_seccomp_program *prog) {
    static const uint32_t other_arches[] = {AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64, 0};
    struct differ d = {.name = name, .prog = prog};
    const size_t nv = ELEMENTSOF(arg_values);

    assert_true(prog->merged.len > 0 && prog->notify.len > 0);
    d.merged = single(&prog->merged);
    d.notify = single(&prog->notify);

    for (int nr = -4; nr < LS_SECCOMP_NR_SPACE + 64; nr++) {
        uint64_t args[6] = {0};
        /* Native and x32 (the same AUDIT_ARCH, the x32 bit in the number), one argument
         * at a time. */
        for (int x32 = 0; x32 < 2; x32++) {
            int n = x32 ? (int)((unsigned)nr | PROBE_X32_SYSCALL_BIT) : nr;
            differ_one(&d, n, AUDIT_ARCH_X86_64, args);
            for (int i = 0; i < 6; i++)
                for (size_t v = 0; v < nv; v++) {
                    memset(args, 0, sizeof(args));
                    args[i] = arg_values[v];
                    differ_one(&d, n, AUDIT_ARCH_X86_64, args);
                }
        }
        memset(args, 0, sizeof(args));
        for (size_t a = 0; a < ELEMENTSOF(other_arches); a++) {
            differ_one(&d, nr, other_arches[a] ? other_arches[a] : 0x12345678, args);
            args[0] = TIOCSTI;
            args[1] = 04755;
            differ_one(&d, nr, other_arches[a] ? other_arches[a] : 0x12345678, args);
            memset(args, 0, sizeof(args));
        }
    }
    /* Pairs of arguments for the syscalls that have argument rules. */
    for (size_t s = 0; s < ELEMENTSOF(arg_syscalls); s++)
        for (int i = 0; i < 4; i++)
            for (int j = i + 1; j < 4; j++)
                for (size_t v = 0; v < nv; v++)
                    for (size_t w = 0; w < nv; w++) {
                        uint64_t args[6] = {0};
                        args[i] = arg_values[v];
                        args[j] = arg_values[w];
                        differ_one(&d, arg_syscalls[s], AUDIT_ARCH_X86_64, args);
                    }
    print_message("%s: A %u + B %u instructions -> merged %u, notify %u; %zu inputs agree "
                  "(%zu allow, %zu errno, %zu kill)\n",
                  name, prog->allow.len, prog->deny.len, prog->merged.len, prog->notify.len, d.n,
                  d.allows, d.errnos, d.kills);
    /* Each kind of verdict was seen, and the argument rules were reached. */
    assert_true(d.allows > 1000 && d.errnos > 1000 && d.kills > 1000);
}

static void test_merged_matches_stack(_unused_ void **state) {
    differ_program("default", default_prog);
    differ_program("docker", docker_prog);
    assert_true(docker_policy_prog->deny.len > 0); /* the floor's argument denies */
    differ_program("docker policy", docker_policy_prog);
}

/* The floor's argument denies decide in filter B while Docker's allow-list allows the
 * syscall in filter A: exactly the case the merge must get right. */
static void test_merged_docker_policy_cases(_unused_ void **state) {
    static const struct {
        const char *what;
        int nr;
        uint64_t args[6];
        int expect; /* errno, 0 = allow */
    } floor_cases[] = {
        {"chmod 04755", SYS_chmod, {0, 04755}, EPERM},
        {"chmod 0755", SYS_chmod, {0, 0755}, 0},
        {"fchmodat 02755", SYS_fchmodat, {0, 0, 02755}, EPERM},
        {"openat O_CREAT 04755", SYS_openat, {0, 0, O_CREAT | O_WRONLY, 04755}, EPERM},
        {"openat O_CREAT 0644", SYS_openat, {0, 0, O_CREAT | O_WRONLY, 0644}, 0},
        {"openat O_RDONLY 04755", SYS_openat, {0, 0, O_RDONLY, 04755}, 0},
        {"ioctl TIOCSTI", SYS_ioctl, {0, TIOCSTI}, EPERM},
        {"ioctl TIOCSTI | 1 << 32", SYS_ioctl, {0, 0x100000000ULL | TIOCSTI}, EPERM},
        {"ioctl TCGETS", SYS_ioctl, {0, TCGETS}, 0},
        {"socket(AF_INET)", SYS_socket, {AF_INET}, 0},
        {"socket(AF_INET | 1 << 32)", SYS_socket, {0x100000002ULL}, EAFNOSUPPORT},
        {"openat2", SYS_openat2, {0}, ENOSYS},
        {"mount", SYS_mount, {0}, EPERM},
    };
    const struct ls_seccomp_program merged = single(&docker_policy_prog->merged);
    const struct ls_seccomp_program notify = single(&docker_policy_prog->notify);

    for (size_t i = 0; i < ELEMENTSOF(floor_cases); i++) {
        struct ls_verdict v, vm, vn;
        assert_int_equal(ls_seccomp_eval(docker_policy_prog, floor_cases[i].nr, floor_cases[i].args, 0, &v), 0);
        assert_int_equal(ls_seccomp_eval(&merged, floor_cases[i].nr, floor_cases[i].args, 0, &vm), 0);
        assert_int_equal(ls_seccomp_eval(&notify, floor_cases[i].nr, floor_cases[i].args, 0, &vn), 0);
        if (floor_cases[i].expect ? v.kind != LS_VERDICT_ERRNO || v.errno_ret != floor_cases[i].expect
                            : v.kind != LS_VERDICT_ALLOW)
            fail_msg("docker policy: %s: expected %d, the stack says 0x%08x", floor_cases[i].what,
                     floor_cases[i].expect, v.raw);
        assert_int_equal(vm.raw, v.raw);
        assert_int_equal(unnotify(vn.raw), v.raw);
        if (floor_cases[i].expect)
            assert_int_equal(vn.raw & SECCOMP_RET_ACTION_FULL, SECCOMP_RET_USER_NOTIF);
    }
}

/* Corner cases of the merge that libseccomp does not produce: a tie between two
 * different errnos (A wins), B's KILL over A's ERRNO, A's KILL_THREAD against B's
 * KILL_PROCESS, TRAP vs ERRNO, ALLOW with data, and a B whose verdict depends on the
 * pair (a stub that compares at run time). */
static void test_merge_corner_cases(_unused_ void **state) {
    /* A: getpgid -> ERRNO(EXDEV); getsid -> KILL_THREAD; getpriority -> TRAP;
     *    setpgid -> ERRNO(EXDEV); getppid -> ALLOW | 7; else allow.
     * B: getpgid -> ERRNO(ENOTSUP); getsid -> KILL_PROCESS; getpriority -> ERRNO(E2BIG);
     *    setpgid: a0 == 1 -> TRAP | 3, else ALLOW | 9; else allow. */
    static struct sock_filter a[] = {
        STMT(BPF_LD | BPF_W | BPF_ABS, OFF_NR),
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpgid, 0, 1),
        STMT(BPF_RET | BPF_K, RET_ERRNO(EXDEV)),
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getsid, 0, 1),
        STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_THREAD),
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpriority, 0, 1),
        STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_setpgid, 0, 1),
        STMT(BPF_RET | BPF_K, RET_ERRNO(EXDEV)),
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW | 7),
        STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    static struct sock_filter b[] = {
        STMT(BPF_LD | BPF_W | BPF_ABS, OFF_NR),
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpgid, 0, 1),
        STMT(BPF_RET | BPF_K, RET_ERRNO(ENOTSUP)),
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getsid, 0, 1),
        STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpriority, 0, 1),
        STMT(BPF_RET | BPF_K, RET_ERRNO(E2BIG)),
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_setpgid, 0, 4),
        STMT(BPF_LD | BPF_W | BPF_ABS, OFF_A0),
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
        STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | 3),
        STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW | 9),
        STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct ls_seccomp_program stack = hand_program(a, ELEMENTSOF(a), b, ELEMENTSOF(b));
    struct sock_fprog merged = {0}, notify = {0};
    static const long nrs[] = {SYS_getpgid, SYS_getsid, SYS_getpriority, SYS_setpgid,
                               SYS_getppid, SYS_getpid};

    assert_int_equal(seccomp_bpf_merge(&stack.allow, &stack.deny, false, &merged), 0);
    assert_int_equal(seccomp_bpf_merge(&stack.allow, &stack.deny, true, &notify), 0);
    struct ls_seccomp_program pm = single(&merged), pn = single(&notify);
    for (size_t i = 0; i < ELEMENTSOF(nrs); i++)
        for (uint64_t a0 = 0; a0 < 3; a0++) {
            uint64_t args[6] = {a0};
            struct ls_verdict v, vm, vn;
            assert_int_equal(ls_seccomp_eval(&stack, (int)nrs[i], args, 0, &v), 0);
            assert_int_equal(ls_seccomp_eval(&pm, (int)nrs[i], args, 0, &vm), 0);
            assert_int_equal(ls_seccomp_eval(&pn, (int)nrs[i], args, 0, &vn), 0);
            assert_int_equal(vm.raw, v.raw);
            assert_int_equal(unnotify(vn.raw), v.raw);
        }
    /* The expected verdicts, by the kernel's rule. */
    assert_int_equal(eval(&pm, SYS_getpgid, 0, 0).raw, RET_ERRNO(EXDEV)); /* tie: A */
    assert_int_equal(eval(&pm, SYS_getsid, 0, 0).raw, SECCOMP_RET_KILL_PROCESS);
    assert_int_equal(eval(&pm, SYS_getpriority, 0, 0).raw, SECCOMP_RET_TRAP);
    assert_int_equal(eval(&pm, SYS_setpgid, 1, 0).raw, SECCOMP_RET_TRAP | 3);
    assert_int_equal(eval(&pm, SYS_setpgid, 2, 0).raw, RET_ERRNO(EXDEV));
    assert_int_equal(eval(&pm, SYS_getppid, 0, 0).raw, SECCOMP_RET_ALLOW);
    /* And the kernel runs both merged forms as the stack. */
    struct ls_seccomp_program km = {.allow = merged};
    assert_int_equal(kernel_load(&km), 0);
    compare_with_kernel("merged corner cases", &km, CALL(SYS_getpgid, 999999), false);
    compare_with_kernel("merged corner cases", &km, CALL(SYS_setpgid, 2, 0), false);
    compare_with_kernel("merged corner cases", &km, CALL(SYS_getppid), false);
    struct ls_seccomp_program kn = {.allow = notify};
    assert_int_equal(kernel_load(&kn), 0);

    /* Input the merge refuses: scratch memory, RET A. */
    static struct sock_filter uses_mem[] = {
        STMT(BPF_LD | BPF_IMM, 0),
        STMT(BPF_ST, 0),
        STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    static struct sock_filter ret_a[] = {STMT(BPF_RET | BPF_A, 0)};
    struct sock_fprog f1 = {.len = ELEMENTSOF(uses_mem), .filter = uses_mem};
    struct sock_fprog f2 = {.len = ELEMENTSOF(ret_a), .filter = ret_a};
    struct sock_fprog out;
    assert_int_equal(seccomp_bpf_merge(&f1, &stack.deny, false, &out), -EINVAL);
    assert_int_equal(seccomp_bpf_merge(&stack.allow, &f2, false, &out), -EINVAL);
    free(merged.filter);
    free(notify.filter);
}

/* The kernel's "always allowed" cache (kernel/seccomp.c: seccomp_is_const_allow): a
 * syscall is allowed without running the filter when the filter reaches RET ALLOW for
 * it using nothing but loads of nr/arch, constant jumps and AND. */
static bool const_allow(const struct sock_fprog *f, int nr, uint32_t arch) {
    uint32_t reg = 0;
    if (f->len == 0)
        return true; /* no filter B */
    for (size_t pc = 0; pc < f->len; pc++) {
        const struct sock_filter *insn = &f->filter[pc];
        bool res;
        switch (insn->code) {
        case BPF_LD | BPF_W | BPF_ABS:
            if (insn->k == OFF_NR)
                reg = (uint32_t)nr;
            else if (insn->k == OFF_ARCH)
                reg = arch;
            else
                return false;
            break;
        case BPF_RET | BPF_K:
            return insn->k == SECCOMP_RET_ALLOW;
        case BPF_JMP | BPF_JA:
            pc += insn->k;
            break;
        case BPF_JMP | BPF_JEQ | BPF_K:
        case BPF_JMP | BPF_JGE | BPF_K:
        case BPF_JMP | BPF_JGT | BPF_K:
        case BPF_JMP | BPF_JSET | BPF_K:
            switch (BPF_OP(insn->code)) {
            case BPF_JEQ:
                res = reg == insn->k;
                break;
            case BPF_JGE:
                res = reg >= insn->k;
                break;
            case BPF_JGT:
                res = reg > insn->k;
                break;
            default:
                res = (reg & insn->k) != 0;
                break;
            }
            pc += res ? insn->jt : insn->jf;
            break;
        case BPF_ALU | BPF_AND | BPF_K:
            reg &= insn->k;
            break;
        default:
            return false;
        }
    }
    return false;
}

/* The merge keeps every syscall the stack would let the kernel cache as "always
 * allowed" (so read, write, ... still skip the filter), and adds none. */
static void test_merged_keeps_the_allow_cache(_unused_ void **state) {
    const struct ls_seccomp_program *progs[] = {default_prog, docker_prog, docker_policy_prog};
    for (size_t p = 0; p < ELEMENTSOF(progs); p++) {
        size_t cached = 0;
        for (int nr = 0; nr < LS_SECCOMP_NR_SPACE; nr++) {
            bool stack = const_allow(&progs[p]->allow, nr, AUDIT_ARCH_X86_64) &&
                         const_allow(&progs[p]->deny, nr, AUDIT_ARCH_X86_64);
            bool merged = const_allow(&progs[p]->merged, nr, AUDIT_ARCH_X86_64);
            if (stack != merged)
                fail_msg("program %zu, nr %d: the stack is %scached, the merged filter %s", p,
                         nr, stack ? "" : "not ", merged ? "is" : "is not");
            assert_false(const_allow(&progs[p]->merged, nr, AUDIT_ARCH_I386));
            cached += merged;
        }
        print_message("program %zu: %zu syscalls always allowed without running the filter\n",
                      p, cached);
        assert_true(cached > 200);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_program),     cmocka_unit_test(test_docker_program),
        cmocka_unit_test(test_other_arches_killed), cmocka_unit_test(test_bad_calls),
        cmocka_unit_test(test_hand_filter),         cmocka_unit_test(test_refused_programs),
        cmocka_unit_test(test_precedence),          cmocka_unit_test(test_merged_matches_stack),
        cmocka_unit_test(test_merged_docker_policy_cases),
        cmocka_unit_test(test_merge_corner_cases),
        cmocka_unit_test(test_merged_keeps_the_allow_cache),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
