/*
 * test_docker_profile.c - importing Docker/moby seccomp profiles (policies/docker.c).
 *
 * The main check imports the shipped policies/vendor/docker-default.json for x86_64
 * ("amd64"), no capabilities and kernel 6.1, and compares the result with an
 * allow-list derived by hand from the file and written out below: entry 0 (the big
 * unconditional list), entry 1 (process_vm_readv, process_vm_writev, ptrace: minKernel
 * 4.8 <= 6.1), entry 12 (arch_prctl: includes.arches has amd64) and entry 13
 * (modify_ldt: same).  Every other entry either needs a capability (includes.caps),
 * names other architectures only (ppc64le, arm/arm64, s390/s390x, riscv64), or is
 * conditional: socket (family < 38, == 39, > 40), personality (0, 8, 0x20000,
 * 0x20008, 0xffffffff), clone (entry 18, excluded only with CAP_SYS_ADMIN or on s390:
 * flags & 0x7E020000 == 0), and clone3 -> ERRNO(38 = ENOSYS) (entry 20).
 *
 * Then the imported rules are compiled with policies/seccomp.c and a normal program
 * (/bin/true, and a shell pipeline) runs under them.  The other tests feed small
 * profiles written to a temporary directory: unknown keys, unknown syscalls,
 * includes/excludes, kernel versions, actions, argument mapping.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <seccomp.h>

#include "labstack/error.h"
#include "labstack/macros.h"
#include "labstack/policy.h"
#include "labstack/seccomp.h"

/* ---- the allow-list, derived by hand from docker-default.json ------------------- */

/* syscalls[0].names, in the file's order (361 names). */
// clang-format off
static const char *const entry0_names[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
    "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
    "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
    "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range", "connect",
    "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1",
    "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
    "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group",
    "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark",
    "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl",
    "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
    "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
    "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
    "futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid",
    "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32",
    "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
    "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit",
    "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area",
    "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "getxattrat",
    "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel",
    "ioctl", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
    "ioprio_get", "ioprio_set", "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr",
    "link", "linkat", "listen", "listmount", "listxattr", "listxattrat", "llistxattr",
    "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise",
    "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir",
    "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect",
    "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
    "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "mseal", "msgctl", "msgget",
    "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap", "name_to_handle_at",
    "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause",
    "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
    "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
    "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev",
    "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom",
    "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr",
    "removexattrat", "rename", "renameat", "renameat2", "restart_syscall", "riscv_hwprobe",
    "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
    "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr", "sched_getparam",
    "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
    "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp",
    "select", "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send",
    "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32",
    "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer",
    "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32",
    "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list",
    "setsid", "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32",
    "setxattr", "setxattrat", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack",
    "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice",
    "stat", "stat64", "statfs", "statfs64", "statmount", "statx", "symlink", "symlinkat",
    "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
    "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
    "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
    "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
    "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "uretprobe", "utime", "utimensat",
    "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
    "writev",
};
// clang-format on

/* The other entries that apply to amd64 without capabilities on kernel 6.1. */
static const char *const other_unconditional[] = {
    "process_vm_readv", "process_vm_writev", "ptrace", /* syscalls[1], minKernel 4.8 */
    "arch_prctl",                                      /* syscalls[12], arches amd64 */
    "modify_ldt",                                      /* syscalls[13], arches amd64 */
};

struct cond_rule {
    const char *syscall;
    enum ls_seccomp_action action;
    int errno_ret;
    enum ls_seccomp_op op;
    unsigned index;
    uint64_t value, mask;
};

/* The conditional allows and the one errno rule, in the file's order. */
static const struct cond_rule expected_conditional[] = {
    {"socket", LS_SECCOMP_ALLOW, 0, LS_SECCOMP_LT, 0, 38, 0},
    {"socket", LS_SECCOMP_ALLOW, 0, LS_SECCOMP_EQ, 0, 39, 0},
    {"socket", LS_SECCOMP_ALLOW, 0, LS_SECCOMP_GT, 0, 40, 0},
    {"personality", LS_SECCOMP_ALLOW, 0, LS_SECCOMP_EQ, 0, 0, 0},
    {"personality", LS_SECCOMP_ALLOW, 0, LS_SECCOMP_EQ, 0, 8, 0},
    {"personality", LS_SECCOMP_ALLOW, 0, LS_SECCOMP_EQ, 0, 131072, 0},
    {"personality", LS_SECCOMP_ALLOW, 0, LS_SECCOMP_EQ, 0, 131080, 0},
    {"personality", LS_SECCOMP_ALLOW, 0, LS_SECCOMP_EQ, 0, 4294967295, 0},
    /* "value": 2114060288 is the mask (0x7E020000: CLONE_NEWNS and the other
     * namespace flags), no "valueTwo": the datum is 0. */
    {"clone", LS_SECCOMP_ALLOW, 0, LS_SECCOMP_MASKED_EQ, 0, 0, 0x7E020000},
};

/* ---- helpers ------------------------------------------------------------------- */

static char vendor_profile[PATH_MAX];
static char tmpdir[] = "/tmp/test_docker_profile.XXXXXX";

/* policies/vendor/docker-default.json from this file's path, which meson gives
 * relative to the build root (three levels above the test binary) or absolute. */
static int find_vendor_profile(void) {
    char exe[PATH_MAX], src[PATH_MAX * 2];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n < 0)
        return -1;
    exe[n] = '\0';
    if (__FILE__[0] == '/') {
        snprintf(src, sizeof(src), "%s", __FILE__);
    } else {
        char *root = dirname(dirname(dirname(exe))); /* <build>/tests/unit/test_x */
        snprintf(src, sizeof(src), "%s/%s", root, __FILE__);
    }
    snprintf(vendor_profile, sizeof(vendor_profile), "%s/../../policies/vendor/docker-default.json",
             dirname(src));
    return access(vendor_profile, R_OK);
}

static int setup(_unused_ void **state) {
    if (find_vendor_profile() < 0) {
        fprintf(stderr, "cannot find policies/vendor/docker-default.json (tried %s)\n",
                vendor_profile);
        return -1;
    }
    if (!mkdtemp(tmpdir))
        return -1;
    return 0;
}

static int n_profiles;

/* Write json to a new file in tmpdir; returns its path (static buffer). */
static const char *profile(const char *json) {
    static char path[sizeof(tmpdir) + 32];
    FILE *f;

    snprintf(path, sizeof(path), "%s/p%d.json", tmpdir, n_profiles++);
    f = fopen(path, "we");
    assert_non_null(f);
    assert_int_equal(fputs(json, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    return path;
}

static int teardown(_unused_ void **state) {
    char path[sizeof(tmpdir) + 32];
    for (int i = 0; i < n_profiles; i++) {
        snprintf(path, sizeof(path), "%s/p%d.json", tmpdir, i);
        unlink(path);
    }
    return rmdir(tmpdir);
}

struct import {
    int r;
    struct ls_seccomp_rule *rules;
    size_t n;
    int default_errno;
    struct ls_diags diags;
};

static struct import import(const char *path, const char *kernel, bool allow_unknown) {
    struct import im = {.default_errno = -1};
    im.r = ls_docker_profile_load(path, kernel, allow_unknown, &im.rules, &im.n, &im.default_errno,
                                  &im.diags);
    if (im.r < 0) {
        assert_null(im.rules);
        assert_true(im.diags.n_errors > 0);
    }
    return im;
}

static void import_done(struct import *im) {
    ls_seccomp_rules_free(im->rules, im->n);
    ls_diags_free(&im->diags);
    *im = (struct import){0};
}

static void print_diags(const struct ls_diags *d) {
    for (size_t i = 0; i < d->n; i++) {
        char *s = ls_diag_format(&d->v[i]);
        print_message("  %s\n", s ? s : "(no memory)");
        free(s);
    }
}

/* The diagnostic at JSON path, or NULL. */
static const struct ls_diag *diag_at(const struct ls_diags *d, const char *path) {
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].path && strcmp(d->v[i].path, path) == 0)
            return &d->v[i];
    return NULL;
}

/* Exactly one diagnostic, an error (or warning) at path whose message contains text. */
static void expect_one_diag(const struct import *im, bool warning, const char *path,
                            const char *text) {
    const struct ls_diag *dg = diag_at(&im->diags, path);
    if (im->diags.n != 1 || !dg || dg->warning != warning || !dg->msg || !strstr(dg->msg, text)) {
        print_diags(&im->diags);
        fail_msg("expected one %s at \"%s\" containing \"%s\"", warning ? "warning" : "error", path,
                 text);
    }
    assert_string_equal(dg->file, im->diags.v[0].file);
}

static bool known_to_libseccomp(const char *name) {
    return seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, name) != __NR_SCMP_ERROR;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- the shipped Docker profile ----------------------------------------------------- */

static void test_vendor_allow_list(_unused_ void **state) {
    struct import im = import(vendor_profile, "6.1", true);
    const size_t n_hand = ELEMENTSOF(entry0_names) + ELEMENTSOF(other_unconditional);
    const char **hand = calloc(n_hand, sizeof(*hand));
    const char **got = calloc(im.n + 1, sizeof(*got));
    size_t n_expected = 0, n_got = 0, n_unknown = 0;

    assert_int_equal(ELEMENTSOF(entry0_names), 361);
    if (im.r < 0)
        print_diags(&im.diags);
    assert_int_equal(im.r, 0);
    assert_int_equal(im.default_errno, EPERM); /* "defaultErrnoRet": 1 */
    assert_int_equal(im.diags.n_errors, 0);

    /* The hand list, minus names this libseccomp does not know: those are dropped with
     * one warning each (allow_unknown), naming the entry and index. */
    for (size_t i = 0; i < n_hand; i++) {
        const char *name = i < ELEMENTSOF(entry0_names)
                               ? entry0_names[i]
                               : other_unconditional[i - ELEMENTSOF(entry0_names)];
        if (known_to_libseccomp(name)) {
            hand[n_expected++] = name;
            continue;
        }
        char path[64];
        n_unknown++;
        assert_true(i < ELEMENTSOF(entry0_names)); /* the others are old syscalls */
        snprintf(path, sizeof(path), "syscalls[0].names[%zu]", i);
        const struct ls_diag *dg = diag_at(&im.diags, path);
        if (!dg)
            fail_msg("no warning for \"%s\" at %s", name, path);
        assert_true(dg->warning);
        assert_non_null(strstr(dg->msg, name));
    }
    assert_int_equal(im.diags.n, n_unknown);
    print_message("hand-derived allow-list: %zu names, %zu unknown to libseccomp %u.%u.%u\n",
                  n_hand, n_unknown, seccomp_version()->major, seccomp_version()->minor,
                  seccomp_version()->micro);

    for (size_t i = 0; i < im.n; i++) {
        const struct ls_seccomp_rule *r = &im.rules[i];
        if (r->action == LS_SECCOMP_ALLOW && r->n_args == 0)
            got[n_got++] = r->syscall;
    }
    qsort(hand, n_expected, sizeof(*hand), cmp_str);
    qsort(got, n_got, sizeof(*got), cmp_str);
    for (size_t i = 0; i < n_expected || i < n_got; i++) {
        const char *h = i < n_expected ? hand[i] : "(end)";
        const char *g = i < n_got ? got[i] : "(end)";
        if (strcmp(h, g) != 0)
            fail_msg("allow-lists differ at sorted position %zu: hand \"%s\", imported \"%s\"", i,
                     h, g);
    }
    assert_int_equal(n_got, n_expected);
    free(hand);
    free(got);
    import_done(&im);
}

static void test_vendor_conditional_rules(_unused_ void **state) {
    struct import im = import(vendor_profile, "6.1", true);
    size_t k = 0, n_uncond = 0;

    assert_int_equal(im.r, 0);
    for (size_t i = 0; i < im.n; i++) {
        const struct ls_seccomp_rule *r = &im.rules[i];
        if (r->action == LS_SECCOMP_ALLOW && r->n_args == 0) {
            n_uncond++;
            continue;
        }
        if (strcmp(r->syscall, "clone3") == 0) {
            /* syscalls[20]: the last rule that applies. */
            assert_int_equal(i, im.n - 1);
            assert_int_equal(r->action, LS_SECCOMP_ERRNO);
            assert_int_equal(r->errno_ret, ENOSYS);
            assert_int_equal(r->n_args, 0);
            continue;
        }
        assert_true(k < ELEMENTSOF(expected_conditional));
        const struct cond_rule *e = &expected_conditional[k++];
        assert_string_equal(r->syscall, e->syscall);
        assert_int_equal(r->action, e->action);
        assert_int_equal(r->n_args, 1);
        assert_int_equal(r->args[0].index, e->index);
        assert_int_equal(r->args[0].op, e->op);
        assert_int_equal(r->args[0].value, e->value);
        assert_int_equal(r->args[0].mask, e->mask);
    }
    assert_int_equal(k, ELEMENTSOF(expected_conditional));
    assert_int_equal(im.n, n_uncond + ELEMENTSOF(expected_conditional) + 1);
    /* File order: entry 0 first, then entry 1, then the conditional socket rules. */
    assert_string_equal(im.rules[0].syscall, "accept");
    import_done(&im);
}

static void test_vendor_strict_names(_unused_ void **state) {
    /* Without allow_unknown every name libseccomp does not know is an error. */
    struct import im = import(vendor_profile, "6.1", false);
    size_t n_unknown = 0;

    for (size_t i = 0; i < ELEMENTSOF(entry0_names); i++)
        if (!known_to_libseccomp(entry0_names[i])) {
            char path[64];
            snprintf(path, sizeof(path), "syscalls[0].names[%zu]", i);
            const struct ls_diag *dg = diag_at(&im.diags, path);
            assert_non_null(dg);
            assert_false(dg->warning);
            assert_non_null(strstr(dg->msg, "unknown syscall"));
            n_unknown++;
        }
    assert_int_equal(im.diags.n_errors, n_unknown);
    assert_int_equal(im.r, n_unknown ? -EINVAL : 0);
    import_done(&im);
}

static bool has_rule(const struct import *im, const char *name) {
    for (size_t i = 0; i < im->n; i++)
        if (strcmp(im->rules[i].syscall, name) == 0)
            return true;
    return false;
}

static void test_vendor_kernel_versions(_unused_ void **state) {
    struct import im;

    im = import(vendor_profile, "4.7", true); /* below syscalls[1]'s minKernel 4.8 */
    assert_int_equal(im.r, 0);
    assert_false(has_rule(&im, "ptrace"));
    assert_false(has_rule(&im, "process_vm_readv"));
    import_done(&im);

    im = import(vendor_profile, "4.8.0-1-amd64", true);
    assert_int_equal(im.r, 0);
    assert_true(has_rule(&im, "ptrace"));
    import_done(&im);

    im = import(vendor_profile, NULL, true); /* the running kernel, surely >= 4.8 */
    assert_int_equal(im.r, 0);
    assert_true(has_rule(&im, "ptrace"));
    import_done(&im);

    im = import(vendor_profile, "six", true);
    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "", "kernel version \"six\"");
    import_done(&im);
}

/* ---- compiling and running under it ------------------------------------------------ */

/* Fork; the child sets NNP, loads prog and execs argv; returns the wait status. */
static int run_under(const struct ls_seccomp_program *prog, char *const argv[]) {
    int status;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (devnull < 0 || dup2(devnull, STDOUT_FILENO) < 0 || dup2(devnull, STDERR_FILENO) < 0)
            _exit(120);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            _exit(121);
        if (ls_seccomp_load(prog) < 0)
            _exit(122);
        execv(argv[0], argv);
        _exit(123);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void test_vendor_compiles_and_runs(_unused_ void **state) {
    struct import im = import(vendor_profile, "6.1", true);
    struct ls_seccomp_program *prog = NULL;
    struct ls_error err = {0};
    int status, r;

    assert_int_equal(im.r, 0);
    const struct ls_seccomp_spec spec = {
        .default_errno = im.default_errno,
        .unknown_errno = ENOSYS,
        .rules = im.rules,
        .n_rules = im.n,
        .allow_unknown_names = false, /* unknown names were dropped by the import */
    };
    r = ls_seccomp_build(&spec, &prog, &err);
    if (r < 0)
        fail_msg("the Docker profile does not compile: %s", err.msg);
    print_message("Docker profile: %zu rules, %zu BPF instructions\n", im.n,
                  ls_seccomp_program_length(prog));

    status = run_under(prog, (char *const[]){"/bin/true", NULL});
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* A shell that forks (clone without namespace flags), pipes and waits. */
    status =
        run_under(prog, (char *const[]){"/bin/sh", "-c",
                                        "ls / | wc -l && cat /proc/self/status >/dev/null", NULL});
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* And the control: a program that needs what the profile refuses fails. */
    if (access("/usr/bin/unshare", X_OK) == 0) {
        status = run_under(prog, (char *const[]){"/usr/bin/unshare", "-U", "/bin/true", NULL});
        assert_true(WIFEXITED(status));
        assert_int_not_equal(WEXITSTATUS(status), 0);
    }
    ls_seccomp_program_free(prog);
    import_done(&im);
}

/* ---- small profiles ------------------------------------------------------------------ */

#define HEAD "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
#define TAIL "]}"

static void test_plain_oci_profile(_unused_ void **state) {
    struct import im = import(
        profile(
            "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,\n"
            " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],\n"
            " \"flags\": [],\n"
            " \"syscalls\": [\n"
            "  {\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": []},\n"
            "  {\"name\": \"getppid\", \"action\": \"SCMP_ACT_ALLOW\"},\n"
            "  {\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13,\n"
            "   \"comment\": \"no signals\"},\n"
            "  {\"names\": [\"tkill\"], \"action\": \"SCMP_ACT_ERRNO\"},\n"
            "  {\"names\": [\"kexec_load\"], \"action\": \"SCMP_ACT_KILL_PROCESS\"},\n"
            "  {\"names\": [\"reboot\"], \"action\": \"SCMP_ACT_KILL\"}\n"
            " ]}\n"),
        "6.1", false);
    if (im.r < 0)
        print_diags(&im.diags);
    assert_int_equal(im.r, 0);
    assert_int_equal(im.diags.n, 0);
    assert_int_equal(im.default_errno, 38);
    assert_int_equal(im.n, 7);
    assert_string_equal(im.rules[0].syscall, "read");
    assert_string_equal(im.rules[1].syscall, "write");
    assert_string_equal(im.rules[2].syscall, "getppid");
    assert_int_equal(im.rules[2].action, LS_SECCOMP_ALLOW);
    assert_string_equal(im.rules[3].syscall, "kill");
    assert_int_equal(im.rules[3].action, LS_SECCOMP_ERRNO);
    assert_int_equal(im.rules[3].errno_ret, 13);
    /* Without errnoRet: EPERM, as the OCI spec and runc say -- not defaultErrnoRet. */
    assert_string_equal(im.rules[4].syscall, "tkill");
    assert_int_equal(im.rules[4].action, LS_SECCOMP_ERRNO);
    assert_int_equal(im.rules[4].errno_ret, EPERM);
    assert_string_equal(im.rules[5].syscall, "kexec_load");
    assert_int_equal(im.rules[5].action, LS_SECCOMP_KILL);
    assert_string_equal(im.rules[6].syscall, "reboot");
    assert_int_equal(im.rules[6].action, LS_SECCOMP_KILL);
    import_done(&im);
}

static void test_unknown_keys(_unused_ void **state) {
    struct import im;

    /* containers/common's "defaultErrno" is not moby's format. */
    im = import(profile("{\"defaultAction\": \"SCMP_ACT_ERRNO\",\n"
                        " \"defaultErrno\": \"EPERM\", \"syscalls\": []}"),
                "6.1", false);
    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "defaultErrno", "unknown key \"defaultErrno\"");
    /* Positions come from policies/jsonpos.c: the key on line 2, column 2. */
    assert_int_equal(im.diags.v[0].line, 2);
    assert_int_equal(im.diags.v[0].col, 2);
    import_done(&im);

    im = import(profile(HEAD "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"},\n"
                             " {\"nmaes\": [\"write\"], \"names\": [\"write\"],\n"
                             "  \"action\": \"SCMP_ACT_ALLOW\"}" TAIL),
                "6.1", false);
    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "syscalls[1].nmaes", "unknown key");
    import_done(&im);

    im = import(profile(HEAD "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
                             " \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\",\n"
                             "            \"valueThree\": 2}]}" TAIL),
                "6.1", false);
    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "syscalls[0].args[0].valueThree", "unknown key");
    import_done(&im);

    /* Unknown keys are errors even in an entry that does not apply. */
    im = import(
        profile(HEAD "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
                     " \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"], \"kernel\": \"5.0\"}}" TAIL),
        "6.1", false);
    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "syscalls[0].includes.kernel", "unknown key");
    import_done(&im);
}

static void test_unknown_syscall(_unused_ void **state) {
    const char *path = profile(HEAD "{\"names\": [\"read\", \"sockett\", \"write\"],\n"
                                    "  \"action\": \"SCMP_ACT_ALLOW\"}" TAIL);
    struct import im = import(path, "6.1", false);

    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "syscalls[0].names[1]", "unknown syscall \"sockett\"");
    assert_int_equal(im.diags.v[0].line, 1);
    assert_true(im.diags.v[0].col > 1);
    import_done(&im);

    im = import(path, "6.1", true);
    assert_int_equal(im.r, 0);
    expect_one_diag(&im, true, "syscalls[0].names[1]", "unknown syscall \"sockett\"");
    assert_int_equal(im.diags.n_errors, 0);
    assert_int_equal(im.n, 2);
    assert_string_equal(im.rules[0].syscall, "read");
    assert_string_equal(im.rules[1].syscall, "write");
    import_done(&im);

    /* The old single "name" form. */
    im = import(profile(HEAD "{\"name\": \"sockett\", \"action\": \"SCMP_ACT_ALLOW\"}" TAIL), "6.1",
                true);
    assert_int_equal(im.r, 0);
    expect_one_diag(&im, true, "syscalls[0].name", "unknown syscall \"sockett\"");
    assert_int_equal(im.n, 0);
    import_done(&im);

    /* Names of skipped entries are not looked up (lsm_* in Docker's file need
     * CAP_SYS_ADMIN). */
    im = import(profile(HEAD "{\"names\": [\"sockett\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
                             " \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}}" TAIL),
                "6.1", false);
    assert_int_equal(im.r, 0);
    assert_int_equal(im.n, 0);
    import_done(&im);

    /* Known to libseccomp but not an x86_64 syscall: kept (the compiler skips it). */
    im = import(profile(HEAD "{\"names\": [\"chown32\"], \"action\": \"SCMP_ACT_ALLOW\"}" TAIL),
                "6.1", false);
    assert_int_equal(im.r, 0);
    assert_int_equal(im.n, 1);
    import_done(&im);
}

/* One entry {"names": ["getppid"], "action": ALLOW, <extra>}: does it apply? */
static bool applies(const char *extra, const char *kernel) {
    char json[1024];
    struct import im;
    bool ok;

    snprintf(json, sizeof(json),
             HEAD "{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ALLOW\", %s}" TAIL, extra);
    im = import(profile(json), kernel, false);
    if (im.r < 0) {
        print_diags(&im.diags);
        fail_msg("profile with %s refused", extra);
    }
    assert_int_equal(im.diags.n, 0);
    ok = im.n == 1;
    import_done(&im);
    return ok;
}

static void test_includes_excludes(_unused_ void **state) {
    /* caps: we have none. */
    assert_false(applies("\"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}", "6.1"));
    assert_false(applies("\"includes\": {\"caps\": [\"CAP_SYS_ADMIN\", \"CAP_BPF\"]}", "6.1"));
    assert_true(applies("\"includes\": {\"caps\": []}", "6.1"));
    assert_true(applies("\"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}", "6.1"));
    /* arches: x86_64 is moby's "amd64". */
    assert_true(applies("\"includes\": {\"arches\": [\"amd64\", \"x32\"]}", "6.1"));
    assert_false(applies("\"includes\": {\"arches\": [\"x86\", \"x32\"]}", "6.1"));
    assert_false(applies("\"includes\": {\"arches\": [\"arm64\"]}", "6.1"));
    assert_false(applies("\"excludes\": {\"arches\": [\"amd64\"]}", "6.1"));
    assert_true(applies("\"excludes\": {\"arches\": [\"s390\", \"s390x\"]}", "6.1"));
    /* minKernel: "<major>.<minor>" against the kernel's major.minor. */
    assert_false(applies("\"includes\": {\"minKernel\": \"99.0\"}", "6.1"));
    assert_false(applies("\"includes\": {\"minKernel\": \"6.2\"}", "6.1.99"));
    assert_true(applies("\"includes\": {\"minKernel\": \"6.1\"}", "6.1"));
    assert_true(applies("\"includes\": {\"minKernel\": \"5.15\"}", "6.1"));
    assert_true(applies("\"includes\": {\"minKernel\": \"\"}", "6.1"));
    assert_true(applies("\"excludes\": {\"minKernel\": \"99.0\"}", "6.1"));
    assert_false(applies("\"excludes\": {\"minKernel\": \"4.0\"}", "6.1"));
    /* Everything must hold. */
    assert_false(
        applies("\"includes\": {\"arches\": [\"amd64\"], \"minKernel\": \"99.0\"}", "6.1"));
    assert_false(applies("\"includes\": {\"arches\": [\"amd64\"]},"
                         " \"excludes\": {\"arches\": [\"amd64\"]}",
                         "6.1"));
    assert_true(applies("\"includes\": null, \"excludes\": {}", "6.1"));
}

static void test_bad_filters(_unused_ void **state) {
    struct import im;

    im = import(profile(HEAD "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
                             " \"includes\": {\"arches\": [\"x86_64\"]}}" TAIL),
                "6.1", false);
    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "syscalls[0].includes.arches[0]", "x86_64 is \"amd64\"");
    import_done(&im);

    im = import(profile(HEAD "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
                             " \"includes\": {\"minKernel\": \"4.8.1\"}}" TAIL),
                "6.1", false);
    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "syscalls[0].includes.minKernel", "\"4.8.1\"");
    import_done(&im);

    im = import(profile(HEAD "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
                             " \"excludes\": {\"caps\": [\"sys_admin\"]}}" TAIL),
                "6.1", false);
    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "syscalls[0].excludes.caps[0]", "capability");
    import_done(&im);
}

static void test_actions(_unused_ void **state) {
    struct import im;

    /* An ALLOW default cannot be our allow-list's default. */
    im = import(profile("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": []}"), "6.1", false);
    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "defaultAction", "not supported");
    import_done(&im);

    im = import(profile("{\"defaultAction\": \"SCMP_ACT_KILL_PROCESS\"}"), "6.1", false);
    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "defaultAction", "not supported");
    import_done(&im);

    im = import(profile("{\"syscalls\": []}"), "6.1", false);
    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "defaultAction", "missing");
    import_done(&im);

    for (const char *const *a = (const char *const[]){"SCMP_ACT_LOG", "SCMP_ACT_TRACE",
                                                      "SCMP_ACT_NOTIFY", "SCMP_ACT_TRAP", NULL};
         *a; a++) {
        char json[256];
        snprintf(json, sizeof(json), HEAD "{\"names\": [\"read\"], \"action\": \"%s\"}" TAIL, *a);
        im = import(profile(json), "6.1", false);
        assert_int_equal(im.r, -EINVAL);
        expect_one_diag(&im, false, "syscalls[0].action", "not supported");
        import_done(&im);

        /* In an entry that does not apply, it does not matter. */
        snprintf(json, sizeof(json),
                 HEAD "{\"names\": [\"read\"], \"action\": \"%s\","
                      " \"includes\": {\"arches\": [\"arm64\"]}}" TAIL,
                 *a);
        im = import(profile(json), "6.1", false);
        assert_int_equal(im.r, 0);
        assert_int_equal(im.n, 0);
        import_done(&im);
    }

    im = import(profile(HEAD "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALOW\"}" TAIL), "6.1",
                false);
    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "syscalls[0].action", "unknown action \"SCMP_ACT_ALOW\"");
    import_done(&im);

    im = import(profile(HEAD "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
                             " \"errnoRet\": 1}" TAIL),
                "6.1", false);
    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "syscalls[0].errnoRet", "only SCMP_ACT_ERRNO");
    import_done(&im);

    im = import(profile(HEAD "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\","
                             " \"errnoRet\": 0}" TAIL),
                "6.1", false);
    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "syscalls[0].errnoRet", "out of range");
    import_done(&im);
}

static void test_args(_unused_ void **state) {
    struct import im;

    /* MASKED_EQ: "value" is the mask, "valueTwo" the datum (runc -> libseccomp). */
    im = import(profile(HEAD
                        "{\"names\": [\"ioctl\"], \"action\": \"SCMP_ACT_ERRNO\",\n"
                        " \"args\": [{\"index\": 1, \"value\": 4294967295,\n"
                        "            \"valueTwo\": 21522, \"op\": \"SCMP_CMP_MASKED_EQ\"},\n"
                        "           {\"index\": 0, \"value\": 3, \"op\": \"SCMP_CMP_GE\"}]}" TAIL),
                "6.1", false);
    assert_int_equal(im.r, 0);
    assert_int_equal(im.n, 1);
    assert_int_equal(im.rules[0].n_args, 2);
    assert_int_equal(im.rules[0].args[0].index, 1);
    assert_int_equal(im.rules[0].args[0].op, LS_SECCOMP_MASKED_EQ);
    assert_int_equal(im.rules[0].args[0].mask, 0xffffffff);
    assert_int_equal(im.rules[0].args[0].value, 0x5412);
    assert_int_equal(im.rules[0].args[1].op, LS_SECCOMP_GE);
    assert_int_equal(im.rules[0].args[1].value, 3);
    import_done(&im);

    /* A datum outside the mask never matches. */
    im = import(profile(HEAD "{\"names\": [\"ioctl\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
                             " \"args\": [{\"index\": 1, \"value\": 255, \"valueTwo\": 256,\n"
                             "            \"op\": \"SCMP_CMP_MASKED_EQ\"}]}" TAIL),
                "6.1", false);
    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "syscalls[0].args[0].valueTwo", "never match");
    import_done(&im);

    /* valueTwo means nothing to other operators. */
    im = import(profile(HEAD "{\"names\": [\"ioctl\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
                             " \"args\": [{\"index\": 1, \"value\": 5, \"valueTwo\": 7,\n"
                             "            \"op\": \"SCMP_CMP_EQ\"}]}" TAIL),
                "6.1", false);
    assert_int_equal(im.r, 0);
    expect_one_diag(&im, true, "syscalls[0].args[0].valueTwo", "ignored");
    assert_int_equal(im.rules[0].args[0].value, 5);
    import_done(&im);

    /* Two conditions on one argument: runc adds one rule per condition. */
    im = import(
        profile(HEAD "{\"names\": [\"socket\", \"socketpair\"], \"action\": \"SCMP_ACT_ERRNO\",\n"
                     " \"args\": [{\"index\": 0, \"value\": 10, \"op\": \"SCMP_CMP_GT\"},\n"
                     "           {\"index\": 0, \"value\": 20, \"op\": \"SCMP_CMP_LT\"}]}" TAIL),
        "6.1", false);
    assert_int_equal(im.r, 0);
    expect_one_diag(&im, true, "syscalls[0].args", "OR-ed");
    assert_int_equal(im.n, 4);
    assert_string_equal(im.rules[0].syscall, "socket");
    assert_int_equal(im.rules[0].n_args, 1);
    assert_int_equal(im.rules[0].args[0].op, LS_SECCOMP_GT);
    assert_int_equal(im.rules[1].args[0].op, LS_SECCOMP_LT);
    assert_string_equal(im.rules[2].syscall, "socketpair");
    import_done(&im);

    im = import(
        profile(HEAD
                "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
                " \"args\": [{\"index\": 6, \"value\": -1, \"op\": \"SCMP_CMP_EQUAL\"}]}" TAIL),
        "6.1", false);
    assert_int_equal(im.r, -EINVAL);
    assert_int_equal(im.diags.n_errors, 3);
    assert_non_null(diag_at(&im.diags, "syscalls[0].args[0].index"));
    assert_non_null(diag_at(&im.diags, "syscalls[0].args[0].value"));
    assert_non_null(diag_at(&im.diags, "syscalls[0].args[0].op"));
    import_done(&im);
}

static void test_file_problems(_unused_ void **state) {
    struct import im;
    char missing[sizeof(tmpdir) + 16];

    snprintf(missing, sizeof(missing), "%s/missing.json", tmpdir);
    im = import(missing, "6.1", false);
    assert_int_equal(im.r, -ENOENT);
    expect_one_diag(&im, false, "", "cannot read");
    assert_string_equal(im.diags.v[0].file, missing);
    import_done(&im);

    im = import(profile("{\"defaultAction\": \"SCMP_ACT_ERRNO\",\n \"syscalls\": [,]}"), "6.1",
                false);
    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "", "invalid JSON");
    assert_int_equal(im.diags.v[0].line, 2);
    import_done(&im);

    im = import(profile("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [],"
                        " \"syscalls\": []}"),
                "6.1", false);
    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "", "duplicate");
    import_done(&im);

    im = import(profile("[]"), "6.1", false);
    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "", "expected a JSON object");
    import_done(&im);

    im = import(profile("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"archMap\": ["
                        "{\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": null}],"
                        " \"architectures\": [\"SCMP_ARCH_X86_64\"]}"),
                "6.1", false);
    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "", "both \"architectures\" and \"archMap\"");
    import_done(&im);

    im = import(profile(HEAD "{\"name\": \"read\", \"names\": [\"read\"],"
                             " \"action\": \"SCMP_ACT_ALLOW\"}" TAIL),
                "6.1", false);
    assert_int_equal(im.r, -EINVAL);
    expect_one_diag(&im, false, "syscalls[0]", "both \"name\" and \"names\"");
    import_done(&im);
}

static void test_free_null(_unused_ void **state) {
    ls_seccomp_rules_free(NULL, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vendor_allow_list),
        cmocka_unit_test(test_vendor_conditional_rules),
        cmocka_unit_test(test_vendor_strict_names),
        cmocka_unit_test(test_vendor_kernel_versions),
        cmocka_unit_test(test_vendor_compiles_and_runs),
        cmocka_unit_test(test_plain_oci_profile),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_unknown_syscall),
        cmocka_unit_test(test_includes_excludes),
        cmocka_unit_test(test_bad_filters),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_args),
        cmocka_unit_test(test_file_problems),
        cmocka_unit_test(test_free_null),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
