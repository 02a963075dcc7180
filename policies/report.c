/*
 * report.c - effective policies in words: `labstack policy explain` and `diff`.
 *
 * A reviewer should not have to run a compiler in their head.  explain() states what
 * an effective policy grants, with limits in human units and the seccomp rules
 * grouped by area; diff() states what a new version grants or takes away compared
 * with the old one, one finding per line, marked so that loosening stands out:
 * "+ allows" (more is allowed), "- no longer allows" (less), "~ changed" (neither).
 *
 * Both read the seccomp rules of ls_policy_seccomp_spec() plus labstack's floor
 * (ls_seccomp_floor()), i.e. what actually gets compiled, and interpret them the way
 * seccomp.c compiles them: per syscall, an unconditional rule decides it (allow, errno
 * or kill), conditional allows make it "allowed only with these arguments", and
 * conditional errno/kill rules are denies that win over any allow.  A syscall no rule
 * names gets the default errno.
 *
 * Output is built with open_memstream; any allocation failure makes the whole
 * function return NULL.
 */
#include "labstack/policy_report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labstack/error.h"
#include "labstack/macros.h"
#include "labstack/policy.h"
#include "labstack/seccomp.h"

#define WRAP_COLUMNS 88

/* ---- units --------------------------------------------------------------------- */

enum unit {
    UNIT_BYTES,
    UNIT_MS,
    UNIT_CPUS,
    UNIT_COUNT
};

static const struct limit_desc {
    const char *name;
    size_t offset;
    enum unit unit;
} limit_descs[] = {
    {"memory", offsetof(struct ls_policy_limits, memory), UNIT_BYTES},
    {"cpus", offsetof(struct ls_policy_limits, cpus), UNIT_CPUS},
    {"pids", offsetof(struct ls_policy_limits, pids), UNIT_COUNT},
    {"wall_time", offsetof(struct ls_policy_limits, wall_time), UNIT_MS},
    {"cpu_time", offsetof(struct ls_policy_limits, cpu_time), UNIT_MS},
    {"output", offsetof(struct ls_policy_limits, output), UNIT_BYTES},
    {"tmp_size", offsetof(struct ls_policy_limits, tmp_size), UNIT_BYTES},
    {"file_size", offsetof(struct ls_policy_limits, file_size), UNIT_BYTES},
    {"open_files", offsetof(struct ls_policy_limits, open_files), UNIT_COUNT},
};

static const struct ls_limit *limit_of(const struct ls_policy *p, const struct limit_desc *d) {
    return (const struct ls_limit *)((const char *)&p->limits + d->offset);
}

/* "1 GiB", "1536 MiB", "100 bytes"; a value that is no exact multiple of a unit is
 * shown approximately with the exact byte count: "1.5 KiB (1500 bytes)". */
static const char *fmt_bytes(uint64_t v, char *buf, size_t size) {
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = -1;
    for (int i = 0; i < (int)ELEMENTSOF(units); i++) {
        uint64_t m = 1ULL << (10 * (i + 1));
        if (v >= m && v % m == 0)
            u = i;
    }
    if (u >= 0)
        snprintf(buf, size, "%" PRIu64 " %s", v >> (10 * (u + 1)), units[u]);
    else if (v < 1024)
        snprintf(buf, size, "%" PRIu64 " byte%s", v, v == 1 ? "" : "s");
    else {
        int i = 0;
        double d = (double)v / 1024;
        while (d >= 1024 && i + 1 < (int)ELEMENTSOF(units)) {
            d /= 1024;
            i++;
        }
        snprintf(buf, size, "%.1f %s (%" PRIu64 " bytes)", d, units[i], v);
    }
    return buf;
}

/* "2 h", "10 min", "30 s", "1.5 s", "250 ms". */
static const char *fmt_ms(uint64_t ms, char *buf, size_t size) {
    if (ms >= 3600000 && ms % 3600000 == 0)
        snprintf(buf, size, "%" PRIu64 " h", ms / 3600000);
    else if (ms >= 60000 && ms % 60000 == 0)
        snprintf(buf, size, "%" PRIu64 " min", ms / 60000);
    else if (ms >= 1000 && ms % 1000 == 0)
        snprintf(buf, size, "%" PRIu64 " s", ms / 1000);
    else if (ms >= 1000) {
        /* Exact seconds with the trailing zeros of the fraction dropped. */
        uint64_t frac = ms % 1000;
        int digits = 3;
        while (frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        snprintf(buf, size, "%" PRIu64 ".%0*" PRIu64 " s", ms / 1000, digits, frac);
    } else
        snprintf(buf, size, "%" PRIu64 " ms", ms);
    return buf;
}

/* Thousandths of a CPU: "1 CPU", "0.5 CPU", "2 CPUs". */
static const char *fmt_cpus(uint64_t milli, char *buf, size_t size) {
    if (milli % 1000 == 0)
        snprintf(buf, size, "%" PRIu64 " CPU%s", milli / 1000, milli == 1000 ? "" : "s");
    else {
        uint64_t frac = milli % 1000;
        int digits = 3;
        while (frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        snprintf(buf, size, "%" PRIu64 ".%0*" PRIu64 " CPU%s", milli / 1000, digits, frac,
                 milli > 1000 ? "s" : "");
    }
    return buf;
}

static const char *fmt_value(enum unit unit, uint64_t v, char *buf, size_t size) {
    switch (unit) {
    case UNIT_BYTES:
        return fmt_bytes(v, buf, size);
    case UNIT_MS:
        return fmt_ms(v, buf, size);
    case UNIT_CPUS:
        return fmt_cpus(v, buf, size);
    case UNIT_COUNT:
        break;
    }
    snprintf(buf, size, "%" PRIu64, v);
    return buf;
}

/* "EPERM (1)"; a number without a name as "errno 4000". */
static const char *fmt_errno(int e, char *buf, size_t size) {
    const char *name = e > 0 ? strerrorname_np(e) : NULL;
    if (name)
        snprintf(buf, size, "%s (%d)", name, e);
    else
        snprintf(buf, size, "errno %d", e);
    return buf;
}

/* ---- seccomp rules in words ---------------------------------------------------------- */

/* What happens to a call: an action and, for ERRNO, the errno. */
struct verdict {
    enum ls_seccomp_action action;
    int errno_ret;
};

static struct verdict rule_verdict(const struct ls_seccomp_rule *r) {
    return (struct verdict){r->action, r->action == LS_SECCOMP_ERRNO ? r->errno_ret : 0};
}

static bool verdict_eq(struct verdict a, struct verdict b) {
    return a.action == b.action && a.errno_ret == b.errno_ret;
}

static const char *fmt_verdict(struct verdict v, char *buf, size_t size) {
    switch (v.action) {
    case LS_SECCOMP_ALLOW:
        ls_strlcpy(buf, "allow", size);
        return buf;
    case LS_SECCOMP_KILL:
        ls_strlcpy(buf, "kill", size);
        return buf;
    case LS_SECCOMP_ERRNO:
        break;
    }
    return fmt_errno(v.errno_ret, buf, size);
}

/* Small numbers in decimal, flag-like ones in hex. */
static const char *fmt_num(uint64_t v, char *buf, size_t size) {
    if (v < 4096)
        snprintf(buf, size, "%" PRIu64, v);
    else
        snprintf(buf, size, "0x%" PRIx64, v);
    return buf;
}

/* One condition: "arg0 > 16", "arg1 & 0xffffffff == 0x5412", "arg0 has 0x20000 set". */
static void fmt_arg(const struct ls_seccomp_arg *a, char *buf, size_t size) {
    static const char *const ops[] = {
        [LS_SECCOMP_EQ] = "==", [LS_SECCOMP_NE] = "!=", [LS_SECCOMP_LT] = "<",
        [LS_SECCOMP_LE] = "<=", [LS_SECCOMP_GT] = ">",  [LS_SECCOMP_GE] = ">=",
    };
    char v[32];
    if (a->op == LS_SECCOMP_MASKED_EQ) {
        if (a->mask == a->value && a->value != 0)
            snprintf(buf, size, "arg%u has %s0x%" PRIx64 " set", a->index,
                     (a->mask & (a->mask - 1)) ? "all of " : "", a->mask);
        else if (a->value < 10)
            snprintf(buf, size, "arg%u & 0x%" PRIx64 " == %" PRIu64, a->index, a->mask, a->value);
        else
            snprintf(buf, size, "arg%u & 0x%" PRIx64 " == 0x%" PRIx64, a->index, a->mask, a->value);
    } else if ((unsigned)a->op < ELEMENTSOF(ops) && ops[a->op])
        snprintf(buf, size, "arg%u %s %s", a->index, ops[a->op], fmt_num(a->value, v, sizeof(v)));
    else
        snprintf(buf, size, "arg%u ?%d %s", a->index, (int)a->op, fmt_num(a->value, v, sizeof(v)));
}

static int cmp_arg(const void *x, const void *y) {
    const struct ls_seccomp_arg *a = x, *b = y;
    if (a->index != b->index)
        return a->index < b->index ? -1 : 1;
    if (a->op != b->op)
        return a->op < b->op ? -1 : 1;
    if (a->value != b->value)
        return a->value < b->value ? -1 : 1;
    if (a->mask != b->mask)
        return a->mask < b->mask ? -1 : 1;
    return 0;
}

/* The conditions of a rule, AND-ed, in a canonical order (so that two rules that mean
 * the same compare equal): "arg0 == 16 and arg2 != 0". */
static void fmt_conds(const struct ls_seccomp_rule *r, char *buf, size_t size) {
    struct ls_seccomp_arg args[LS_SECCOMP_MAX_ARGS];
    unsigned n = r->n_args < LS_SECCOMP_MAX_ARGS ? r->n_args : LS_SECCOMP_MAX_ARGS;
    size_t pos = 0;

    memcpy(args, r->args, n * sizeof(args[0]));
    qsort(args, n, sizeof(args[0]), cmp_arg);
    buf[0] = '\0';
    for (unsigned i = 0; i < n && pos < size; i++) {
        char one[128];
        fmt_arg(&args[i], one, sizeof(one));
        int k = snprintf(buf + pos, size - pos, "%s%s", i ? " and " : "", one);
        if (k < 0)
            break;
        pos += (size_t)k;
    }
}

#define CONDS_MAX 1024

/* ---- syscalls and their rules ------------------------------------------------------- */

/* The rules the sandbox really compiles: the policy's, then labstack's floor (as
 * compile.c does).  *ret points into p and into *ret_owned, which the caller frees.
 * 0 or -ENOMEM. */
static int effective_spec(const struct ls_policy *p, struct ls_seccomp_spec *ret,
                          struct ls_seccomp_rule **ret_owned) {
    size_t n_floor;
    const struct ls_seccomp_rule *floor = ls_seccomp_floor(&n_floor);
    struct ls_seccomp_rule *all;

    ls_policy_seccomp_spec(p, ret);
    all = calloc(ret->n_rules + n_floor, sizeof(*all));
    if (!all)
        return -ENOMEM;
    if (ret->n_rules > 0)
        memcpy(all, ret->rules, ret->n_rules * sizeof(*all));
    memcpy(all + ret->n_rules, floor, n_floor * sizeof(*all));
    ret->rules = all;
    ret->n_rules += n_floor;
    *ret_owned = all;
    return 0;
}

/* Everything the rule list says about one syscall. */
struct sc {
    const char *name;
    const struct ls_seccomp_rule *uncond;      /* the first rule without conditions */
    const struct ls_seccomp_rule **cond_allow; /* allows with conditions, in order */
    size_t n_cond_allow;
    const struct ls_seccomp_rule **cond_deny; /* errno/kill with conditions, in order */
    size_t n_cond_deny;
};

enum level {
    LEVEL_NONE,
    LEVEL_COND,
    LEVEL_FULL
};

static enum level sc_level(const struct sc *s) {
    if (s->uncond)
        /* An unconditional rule decides; libseccomp hides conditional rules next to it. */
        return s->uncond->action == LS_SECCOMP_ALLOW ? LEVEL_FULL : LEVEL_NONE;
    return s->n_cond_allow > 0 ? LEVEL_COND : LEVEL_NONE;
}

/* The verdict of a syscall that is not allowed (without looking at arguments). */
static struct verdict sc_denial(const struct sc *s, const struct ls_seccomp_spec *spec) {
    if (s->uncond && s->uncond->action != LS_SECCOMP_ALLOW)
        return rule_verdict(s->uncond);
    return (struct verdict){LS_SECCOMP_ERRNO, spec->default_errno};
}

struct sc_table {
    struct sc *v;
    size_t n;
    const struct ls_seccomp_rule **slots; /* backing store of cond_allow/cond_deny */
};

static void sc_table_done(struct sc_table *t) {
    free(t->v);
    free(t->slots);
    *t = (struct sc_table){0};
}

struct rule_ref {
    const struct ls_seccomp_rule *rule;
    size_t index;
};

static int cmp_rule_ref(const void *x, const void *y) {
    const struct rule_ref *a = x, *b = y;
    int c = strcmp(a->rule->syscall, b->rule->syscall);
    if (c)
        return c;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* Two conditional rules that say the same (verdict and conditions in any order)?  The
 * floor repeats rules of the built-in list; each is shown once. */
static bool same_cond_rule(const struct ls_seccomp_rule *a, const struct ls_seccomp_rule *b) {
    char x[CONDS_MAX], y[CONDS_MAX];
    if (!verdict_eq(rule_verdict(a), rule_verdict(b)) || a->n_args != b->n_args)
        return false;
    fmt_conds(a, x, sizeof(x));
    fmt_conds(b, y, sizeof(y));
    return strcmp(x, y) == 0;
}

static bool listed(const struct ls_seccomp_rule *const *v, size_t n,
                   const struct ls_seccomp_rule *r) {
    for (size_t i = 0; i < n; i++)
        if (same_cond_rule(v[i], r))
            return true;
    return false;
}

/* Group the rules of spec by syscall, sorted by name; 0 or -ENOMEM. */
static int sc_table_build(const struct ls_seccomp_spec *spec, struct sc_table *ret) {
    struct sc_table t = {0};
    _cleanup_free_ struct rule_ref *refs = NULL;
    size_t n = spec->n_rules;

    *ret = t;
    if (n == 0)
        return 0;
    refs = calloc(n, sizeof(*refs));
    t.v = calloc(n, sizeof(*t.v));
    t.slots = calloc(n, sizeof(*t.slots));
    if (!refs || !t.v || !t.slots) {
        sc_table_done(&t);
        return -ENOMEM;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (spec->rules[i].syscall)
            refs[m++] = (struct rule_ref){&spec->rules[i], i};
    qsort(refs, m, sizeof(*refs), cmp_rule_ref);

    /* Per syscall: conditional allows first, then conditional denies, in the slots. */
    size_t slot = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i;
        struct sc *s = &t.v[t.n++];
        s->name = refs[i].rule->syscall;
        while (j < m && strcmp(refs[j].rule->syscall, s->name) == 0)
            j++;
        s->cond_allow = &t.slots[slot];
        for (size_t k = i; k < j; k++) {
            const struct ls_seccomp_rule *r = refs[k].rule;
            if (r->n_args == 0 && !s->uncond)
                s->uncond = r;
            else if (r->n_args > 0 && r->action == LS_SECCOMP_ALLOW &&
                     !listed(s->cond_allow, s->n_cond_allow, r))
                t.slots[slot + s->n_cond_allow++] = r;
        }
        slot += s->n_cond_allow;
        s->cond_deny = &t.slots[slot];
        for (size_t k = i; k < j; k++) {
            const struct ls_seccomp_rule *r = refs[k].rule;
            if (r->n_args > 0 && r->action != LS_SECCOMP_ALLOW &&
                !listed(s->cond_deny, s->n_cond_deny, r))
                t.slots[slot + s->n_cond_deny++] = r;
        }
        slot += s->n_cond_deny;
        i = j;
    }
    *ret = t;
    return 0;
}

/* "when arg0 == 0, or when arg0 == 8" for the conditional allows of s. */
static void fmt_cond_allows(FILE *f, const struct sc *s) {
    char conds[CONDS_MAX];
    for (size_t i = 0; i < s->n_cond_allow; i++) {
        fmt_conds(s->cond_allow[i], conds, sizeof(conds));
        fprintf(f, "%swhen %s", i ? ", or " : "", conds);
    }
}

/* ---- syscall groups ----------------------------------------------------------------- */

/* A reviewer's map of the syscall table.  Names ending in '*' are prefixes.  What is
 * not listed (system information, mounts, keys, modules, ...) is "other". */
enum group {
    G_FILE,
    G_MEMORY,
    G_PROCESS,
    G_SIGNAL,
    G_TIME,
    G_NET,
    G_IPC,
    G_OTHER,
    N_GROUPS
};

static const char *const group_names[N_GROUPS] = {
    [G_FILE] = "file I/O",  [G_MEMORY] = "memory", [G_PROCESS] = "processes",
    [G_SIGNAL] = "signals", [G_TIME] = "time",     [G_NET] = "sockets/network",
    [G_IPC] = "IPC",        [G_OTHER] = "other",
};

// clang-format off
static const char *const group_file[] = {
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
    "pwritev2", "open", "openat", "openat2", "creat", "close", "close_range", "lseek", "dup",
    "dup2", "dup3", "fcntl", "flock", "ioctl", "pipe", "pipe2", "stat", "fstat", "lstat",
    "newfstatat", "statx", "statfs", "fstatfs", "access", "faccessat", "faccessat2", "getdents",
    "getdents64", "getcwd", "chdir", "fchdir", "mkdir", "mkdirat", "rmdir", "rename",
    "renameat", "renameat2", "link", "linkat", "unlink", "unlinkat", "symlink", "symlinkat",
    "readlink", "readlinkat", "mknod", "mknodat", "chmod", "fchmod", "fchmodat", "fchmodat2",
    "chown", "fchown", "lchown", "fchownat", "umask", "truncate", "ftruncate", "fallocate",
    "utime", "utimes", "futimesat", "utimensat", "fsync", "fdatasync", "sync", "syncfs",
    "sync_file_range", "readahead", "fadvise64", "cachestat", "sendfile", "copy_file_range",
    "splice", "tee", "vmsplice", "getxattr", "lgetxattr", "fgetxattr", "setxattr", "lsetxattr",
    "fsetxattr", "listxattr", "llistxattr", "flistxattr", "removexattr", "lremovexattr",
    "fremovexattr", "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents",
    "io_pgetevents", "io_uring_*", "poll", "ppoll", "select", "pselect6", "epoll_*", "eventfd",
    "eventfd2", "inotify_*", "fanotify_*", "name_to_handle_at", "open_by_handle_at",
    "lookup_dcookie", "ustat", "uselib", "quotactl", "quotactl_fd", "chown32", "fchown32",
    "lchown32", "fcntl64", "fstat64", "lstat64", "stat64", "fstatat64", "statfs64",
    "fstatfs64", "truncate64", "ftruncate64", "_llseek", "_newselect", "readdir",
    "sendfile64", "fadvise64_64", "oldfstat", "oldlstat", "oldstat",
};
static const char *const group_memory[] = {
    "brk", "mmap", "mmap2", "munmap", "mprotect", "mremap", "madvise", "msync", "mincore",
    "mlock", "mlock2", "munlock", "mlockall", "munlockall", "remap_file_pages", "memfd_create",
    "memfd_secret", "pkey_alloc", "pkey_free", "pkey_mprotect", "membarrier",
    "map_shadow_stack", "process_mrelease", "process_madvise", "process_vm_readv",
    "process_vm_writev", "mbind", "set_mempolicy", "get_mempolicy", "set_mempolicy_home_node",
    "migrate_pages", "move_pages", "userfaultfd", "swapon", "swapoff",
};
static const char *const group_process[] = {
    "clone", "clone3", "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4",
    "waitid", "waitpid", "pidfd_open", "pidfd_getfd", "getpid", "getppid", "gettid", "getpgrp",
    "getpgid", "setpgid", "getsid", "setsid", "set_tid_address", "set_robust_list",
    "get_robust_list", "futex", "futex_*", "rseq", "arch_prctl", "set_thread_area",
    "get_thread_area", "prctl", "seccomp", "landlock_*", "capget", "capset", "sched_*",
    "getpriority", "setpriority", "nice", "ioprio_get", "ioprio_set", "getrlimit", "setrlimit",
    "ugetrlimit", "prlimit64", "getrusage", "getuid", "geteuid", "getgid", "getegid",
    "getresuid", "getresgid", "getgroups", "setuid", "setgid", "setreuid", "setregid",
    "setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid", "getuid32", "geteuid32",
    "getgid32", "getegid32", "getresuid32", "getresgid32", "getgroups32", "setuid32",
    "setgid32", "setreuid32", "setregid32", "setresuid32", "setresgid32", "setgroups32",
    "setfsuid32", "setfsgid32", "ptrace", "kcmp", "unshare", "setns", "personality",
    "modify_ldt", "vm86", "vm86old",
};
static const char *const group_signal[] = {
    "rt_sig*", "sigaltstack", "pause", "kill", "tkill", "tgkill", "pidfd_send_signal",
    "restart_syscall", "signalfd", "signalfd4", "signal", "sigaction", "sigpending",
    "sigprocmask", "sigreturn", "sigsuspend", "sgetmask", "ssetmask",
};
static const char *const group_time[] = {
    "clock_*", "gettimeofday", "settimeofday", "time", "nanosleep", "alarm", "getitimer",
    "setitimer", "timer_*", "timerfd_*", "times", "adjtimex", "stime",
};
static const char *const group_net[] = {
    "socket", "socketpair", "bind", "listen", "connect", "accept", "accept4", "shutdown",
    "getsockname", "getpeername", "getsockopt", "setsockopt", "sendto", "recvfrom", "sendmsg",
    "recvmsg", "sendmmsg", "recvmmsg", "send", "recv", "socketcall",
};
static const char *const group_ipc[] = {
    "shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl", "msgget",
    "msgsnd", "msgrcv", "msgctl", "mq_*", "ipc",
};
// clang-format on

static const struct {
    const char *const *names;
    size_t n;
} group_tables[] = {
    [G_FILE] = {group_file, ELEMENTSOF(group_file)},
    [G_MEMORY] = {group_memory, ELEMENTSOF(group_memory)},
    [G_PROCESS] = {group_process, ELEMENTSOF(group_process)},
    [G_SIGNAL] = {group_signal, ELEMENTSOF(group_signal)},
    [G_TIME] = {group_time, ELEMENTSOF(group_time)},
    [G_NET] = {group_net, ELEMENTSOF(group_net)},
    [G_IPC] = {group_ipc, ELEMENTSOF(group_ipc)},
};

static enum group syscall_group(const char *name) {
    for (int g = 0; g < G_OTHER; g++)
        for (size_t i = 0; i < group_tables[g].n; i++) {
            const char *pat = group_tables[g].names[i];
            size_t len = strlen(pat);
            if (len > 0 && pat[len - 1] == '*' ? strncmp(name, pat, len - 1) == 0
                                               : strcmp(name, pat) == 0)
                return (enum group)g;
        }
    return G_OTHER;
}

/* ---- explain -------------------------------------------------------------------------- */

/* Print words separated by ", ", wrapped at WRAP_COLUMNS with the given indent. */
struct wrap {
    FILE *f;
    int indent;
    int col;
    bool first;
};

static void wrap_start(struct wrap *w, FILE *f, int indent) {
    *w = (struct wrap){.f = f, .indent = indent, .col = indent, .first = true};
    fprintf(f, "%*s", indent, "");
}

static void wrap_word(struct wrap *w, const char *word) {
    int len = (int)strlen(word);
    if (!w->first) {
        fputc(',', w->f);
        w->col++;
        if (w->col + 1 + len > WRAP_COLUMNS) {
            fprintf(w->f, "\n%*s", w->indent, "");
            w->col = w->indent;
        } else {
            fputc(' ', w->f);
            w->col++;
        }
    }
    fputs(word, w->f);
    w->col += len;
    w->first = false;
}

static void wrap_end(struct wrap *w) {
    fputc('\n', w->f);
}

/* label, then text broken at spaces into lines of at most WRAP_COLUMNS (a longer word
 * gets a line of its own), continuation lines indented. */
static void wrap_text(FILE *f, const char *label, int indent, const char *text) {
    int col = (int)strlen(label);
    bool line_empty = true; /* nothing of text on this line yet */

    fputs(label, f);
    for (const char *w = text; *w;) {
        size_t len = strcspn(w, " ");
        if (len == 0) {
            w++;
            continue;
        }
        if (!line_empty && col + 1 + (int)len > WRAP_COLUMNS) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
            line_empty = true;
        }
        if (!line_empty) {
            fputc(' ', f);
            col++;
        }
        fwrite(w, 1, len, f);
        col += (int)len;
        line_empty = false;
        w += len;
    }
    fputc('\n', f);
}

static void hash_hex(const struct ls_policy *p, char out[65]) {
    for (size_t i = 0; i < sizeof(p->hash); i++)
        snprintf(out + 2 * i, 3, "%02x", p->hash[i]);
}

static void explain_clients(FILE *f, const struct ls_policy *p) {
    if (p->any_client) {
        fputs("clients: any client that can reach the supervisor's socket\n", f);
        return;
    }
    if (p->n_client_uids + p->n_client_gids + p->n_client_roles == 0) {
        fputs("clients: root only\n", f);
        return;
    }
    fputs("clients (and root):\n", f);
    if (p->n_client_roles > 0) {
        fputs("  roles:", f);
        for (size_t i = 0; i < p->n_client_roles; i++)
            fprintf(f, "%s %s", i ? "," : "", p->client_roles[i]);
        fputc('\n', f);
    }
    if (p->n_client_uids > 0) {
        fputs("  uids:", f);
        for (size_t i = 0; i < p->n_client_uids; i++)
            fprintf(f, "%s %u", i ? "," : "", (unsigned)p->client_uids[i]);
        fputc('\n', f);
    }
    if (p->n_client_gids > 0) {
        fputs("  gids:", f);
        for (size_t i = 0; i < p->n_client_gids; i++)
            fprintf(f, "%s %u", i ? "," : "", (unsigned)p->client_gids[i]);
        fputc('\n', f);
    }
}

static void explain_limits(FILE *f, const struct ls_policy *p) {
    fprintf(f, "%-15s%-26s %s\n", "limits:", "default", "max");
    for (size_t i = 0; i < ELEMENTSOF(limit_descs); i++) {
        const struct ls_limit *l = limit_of(p, &limit_descs[i]);
        char d[64], m[64];
        if (!l->set) {
            fprintf(f, "  %-12s (the sandbox's default)\n", limit_descs[i].name);
            continue;
        }
        fprintf(f, "  %-12s %-26s %s\n", limit_descs[i].name,
                fmt_value(limit_descs[i].unit, l->def, d, sizeof(d)),
                fmt_value(limit_descs[i].unit, l->max, m, sizeof(m)));
    }
}

static void fmt_bind(FILE *f, const struct ls_policy_bind *b) {
    fputs(b->src, f);
    if (b->dst && strcmp(b->dst, b->src) != 0)
        fprintf(f, " -> %s", b->dst);
    if (b->optional)
        fputs(" (optional)", f);
}

static void explain_filesystem(FILE *f, const struct ls_policy *p) {
    char def[64], max[64];
    fputs("filesystem:\n", f);
    if (!p->ro_binds_set)
        fputs("  read-only binds: the sandbox's defaults (/usr, /bin, /sbin, /lib, /lib64, "
              "/etc essentials)\n",
              f);
    else if (p->n_ro_binds == 0)
        fputs("  read-only binds: none\n", f);
    else {
        fputs("  read-only binds:\n", f);
        for (size_t i = 0; i < p->n_ro_binds; i++) {
            fputs("    ", f);
            fmt_bind(f, &p->ro_binds[i]);
            fputc('\n', f);
        }
    }
    fprintf(f, "  /work: %s\n",
            p->workspace ? "the request's workspace, read-write"
                         : "an empty tmpfs (the workspace is not bound)");
    if (p->limits.tmp_size.set)
        fprintf(f, "  /tmp: a private tmpfs of %s (up to %s on request)\n",
                fmt_bytes(p->limits.tmp_size.def, def, sizeof(def)),
                fmt_bytes(p->limits.tmp_size.max, max, sizeof(max)));
    else
        fputs("  /tmp: a private tmpfs of the sandbox's default size\n", f);
}

static void explain_environment(FILE *f, const struct ls_policy *p) {
    fputs("environment:\n", f);
    if (p->n_env_allow == 0)
        fputs("  requests may set: nothing\n", f);
    else {
        struct wrap w;
        fputs("  requests may set:\n", f);
        wrap_start(&w, f, 4);
        for (size_t i = 0; i < p->n_env_allow; i++)
            wrap_word(&w, p->env_allow[i]);
        wrap_end(&w);
    }
    if (p->n_env_set == 0)
        fputs("  always set: nothing\n", f);
    else {
        fputs("  always set:\n", f);
        for (size_t i = 0; i < p->n_env_set; i++)
            fprintf(f, "    %s=%s\n", p->env_set[i].name,
                    p->env_set[i].value ? p->env_set[i].value : "");
    }
}

/* The refused syscalls (an unconditional errno/kill rule), one line per verdict. */
static void explain_refused(FILE *f, const struct sc_table *t) {
    bool any = false;
    for (size_t i = 0; i < t->n; i++)
        any |= t->v[i].uncond && t->v[i].uncond->action != LS_SECCOMP_ALLOW;
    if (!any)
        return;
    fputs("  refused by name:\n", f);

    /* Distinct verdicts, in order of first appearance in the sorted table. */
    bool *done = calloc(t->n, sizeof(bool));
    if (!done) {
        fputs("    (out of memory)\n", f);
        return;
    }
    for (size_t i = 0; i < t->n; i++) {
        const struct sc *s = &t->v[i];
        if (done[i] || !s->uncond || s->uncond->action == LS_SECCOMP_ALLOW)
            continue;
        struct verdict v = rule_verdict(s->uncond);
        char vb[64];
        size_t count = 0;
        for (size_t j = i; j < t->n; j++)
            if (t->v[j].uncond && verdict_eq(rule_verdict(t->v[j].uncond), v))
                count++;
        fprintf(f, "    %s, %zu syscall%s:\n", fmt_verdict(v, vb, sizeof(vb)), count,
                count == 1 ? "" : "s");
        struct wrap w;
        wrap_start(&w, f, 6);
        for (size_t j = i; j < t->n; j++)
            if (t->v[j].uncond && verdict_eq(rule_verdict(t->v[j].uncond), v)) {
                wrap_word(&w, t->v[j].name);
                done[j] = true;
            }
        wrap_end(&w);
    }
    free(done);
}

/* A verdict for argument rules, short: "EAFNOSUPPORT", "kill". */
static const char *fmt_verdict_short(struct verdict v, char *buf, size_t size) {
    const char *name = v.action == LS_SECCOMP_ERRNO ? strerrorname_np(v.errno_ret) : NULL;
    if (name) {
        ls_strlcpy(buf, name, size);
        return buf;
    }
    return fmt_verdict(v, buf, size);
}

/* A deny that compares one argument for equality, e.g. socket's family: such rules in a
 * row with the same verdict read better as one line, "arg0 is one of 0, 3, 4". */
static bool is_single_eq(const struct ls_seccomp_rule *r) {
    return r->n_args == 1 && r->args[0].op == LS_SECCOMP_EQ;
}

/* Print the argument denies of s starting at k -- "EAFNOSUPPORT when arg0 > 16", or
 * for a run of equality tests of one argument with one verdict, "EAFNOSUPPORT when
 * arg0 is one of 0, 3, 4" -- and return how many rules that covered. */
static size_t fmt_deny_run(FILE *f, const struct sc *s, size_t k) {
    const struct ls_seccomp_rule *r = s->cond_deny[k];
    struct verdict v = rule_verdict(r);
    char conds[CONDS_MAX], vb[64], num[32];
    size_t run = 1;

    while (is_single_eq(r) && k + run < s->n_cond_deny && is_single_eq(s->cond_deny[k + run]) &&
           s->cond_deny[k + run]->args[0].index == r->args[0].index &&
           verdict_eq(rule_verdict(s->cond_deny[k + run]), v))
        run++;
    fprintf(f, "%s when ", fmt_verdict_short(v, vb, sizeof(vb)));
    if (run == 1) {
        fmt_conds(r, conds, sizeof(conds));
        fputs(conds, f);
    } else {
        fprintf(f, "arg%u is one of", r->args[0].index);
        for (size_t j = 0; j < run; j++)
            fprintf(f, "%s %s", j ? "," : "",
                    fmt_num(s->cond_deny[k + j]->args[0].value, num, sizeof(num)));
    }
    return run;
}

/* One line per argument deny (or run of them) of s: "socket: EAFNOSUPPORT when arg0 > 16". */
static void explain_arg_denies(FILE *f, const struct sc *s) {
    for (size_t k = 0; k < s->n_cond_deny;) {
        fprintf(f, "    %s: ", s->name);
        k += fmt_deny_run(f, s, k);
        fputc('\n', f);
    }
}

static void explain_seccomp(FILE *f, const struct ls_policy *p) {
    _cleanup_free_ struct ls_seccomp_rule *owned = NULL;
    struct ls_seccomp_spec spec;
    struct sc_table t;
    char buf[64];

    fputs("seccomp:\n", f);
    if (effective_spec(p, &spec, &owned) < 0) {
        fputs("  (out of memory)\n", f);
        return;
    }
    fprintf(f, "  base: %s\n", p->seccomp.use_builtin ? "labstack's built-in list" : "none");
    if (p->seccomp.import)
        fprintf(f, "  imported: %s\n", p->seccomp.import);
    fputs("  floor (every policy, among the argument rules): ioctl TIOCSTI/TIOCLINUX, set-id\n"
          "    bits through chmod/creat/mknod/open, socket families with high bits\n",
          f);

    struct ls_seccomp_program *prog = NULL;
    struct ls_error err = {0};
    if (ls_seccomp_build(&spec, &prog, &err) >= 0)
        fprintf(f, "  compiles to %zu BPF instructions\n", ls_seccomp_program_length(prog));
    else
        fprintf(f, "  DOES NOT COMPILE: %s\n", err.msg);
    prog = ls_seccomp_program_free(prog);

    fprintf(f, "  other known syscalls: %s\n", fmt_errno(spec.default_errno, buf, sizeof(buf)));
    fprintf(f, "  unknown syscall numbers: %s\n", fmt_errno(spec.unknown_errno, buf, sizeof(buf)));
    fputs("  other architectures and ABIs (i386, x32): kill\n", f);

    if (sc_table_build(&spec, &t) < 0) {
        fputs("  (out of memory)\n", f);
        return;
    }

    /* Allowed: unconditionally, grouped by area. */
    size_t n_full = 0, n_cond = 0, n_deny = 0;
    for (size_t i = 0; i < t.n; i++) {
        enum level l = sc_level(&t.v[i]);
        n_full += l == LEVEL_FULL;
        n_cond += l == LEVEL_COND;
        n_deny += t.v[i].n_cond_deny;
    }
    fprintf(f, "  allowed (%zu):\n", n_full);
    if (n_full == 0)
        fputs("    nothing\n", f);
    for (int g = 0; g < N_GROUPS; g++) {
        size_t count = 0;
        for (size_t i = 0; i < t.n; i++)
            count += sc_level(&t.v[i]) == LEVEL_FULL && syscall_group(t.v[i].name) == (enum group)g;
        if (count == 0)
            continue;
        fprintf(f, "    %s (%zu):\n", group_names[g], count);
        struct wrap w;
        wrap_start(&w, f, 6);
        for (size_t i = 0; i < t.n; i++)
            if (sc_level(&t.v[i]) == LEVEL_FULL && syscall_group(t.v[i].name) == (enum group)g)
                wrap_word(&w, t.v[i].name);
        wrap_end(&w);
    }

    if (n_cond > 0) {
        fprintf(f, "  allowed only with these arguments (%zu):\n", n_cond);
        for (size_t i = 0; i < t.n; i++)
            if (sc_level(&t.v[i]) == LEVEL_COND) {
                fprintf(f, "    %s: ", t.v[i].name);
                fmt_cond_allows(f, &t.v[i]);
                fputc('\n', f);
            }
    }

    explain_refused(f, &t);

    if (n_deny > 0) {
        fputs("  argument rules (they win over any allow):\n", f);
        for (size_t i = 0; i < t.n; i++)
            explain_arg_denies(f, &t.v[i]);
    }
    sc_table_done(&t);
}

/* Close the memstream; its buffer is only final after fclose. */
static char *finish(FILE *f, char **buf) {
    bool failed = ferror(f) != 0;
    if (fclose(f) != 0)
        failed = true;
    if (failed) {
        free(*buf);
        *buf = NULL;
    }
    return *buf;
}

char *ls_policy_explain(const struct ls_policy *p) {
    char *buf = NULL;
    size_t size = 0;
    char hex[65];
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return NULL;

    hash_hex(p, hex);
    fprintf(f, "policy %s, version %" PRIu64 "\n", p->name ? p->name : "?", p->version);
    if (p->file)
        fprintf(f, "  file: %s\n", p->file);
    fprintf(f, "  sha256: %s\n", hex);
    if (p->extends)
        fprintf(f, "  extends: %s\n", p->extends);
    if (p->description)
        wrap_text(f, "  description: ", 4, p->description);
    fputc('\n', f);

    explain_clients(f, p);
    explain_limits(f, p);
    explain_filesystem(f, p);
    fprintf(f, "network: %s\n",
            !p->network || strcmp(p->network, "none") == 0
                ? "none (only lo, in a network namespace of its own)"
                : p->network);
    explain_environment(f, p);
    fprintf(f, "uid inside the sandbox: %u\n", (unsigned)p->uid);
    explain_seccomp(f, p);
    return finish(f, &buf);
}

/* ---- diff ------------------------------------------------------------------------------ */

struct differ {
    FILE *f;
    size_t n; /* findings so far */
};

static void finding(struct differ *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void finding(struct differ *d, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(d->f, fmt, ap);
    va_end(ap);
    fputc('\n', d->f);
    d->n++;
}

static void diff_limits(struct differ *d, const struct ls_policy *a, const struct ls_policy *b) {
    for (size_t i = 0; i < ELEMENTSOF(limit_descs); i++) {
        const struct limit_desc *ld = &limit_descs[i];
        const struct ls_limit *o = limit_of(a, ld), *n = limit_of(b, ld);
        char x[64], y[64], z[64], w[64];

        if (!o->set && !n->set)
            continue;
        if (o->set != n->set) {
            if (n->set)
                finding(d, "~ changed %s: default %s, max %s (was: the sandbox's default)",
                        ld->name, fmt_value(ld->unit, n->def, x, sizeof(x)),
                        fmt_value(ld->unit, n->max, y, sizeof(y)));
            else
                finding(d, "~ changed %s: the sandbox's default (was: default %s, max %s)",
                        ld->name, fmt_value(ld->unit, o->def, x, sizeof(x)),
                        fmt_value(ld->unit, o->max, y, sizeof(y)));
            continue;
        }
        if (n->max > o->max)
            finding(d, "+ allows %s: max raised to %s (was %s)", ld->name,
                    fmt_value(ld->unit, n->max, x, sizeof(x)),
                    fmt_value(ld->unit, o->max, y, sizeof(y)));
        else if (n->max < o->max)
            finding(d, "- no longer allows %s: max lowered to %s (was %s)", ld->name,
                    fmt_value(ld->unit, n->max, x, sizeof(x)),
                    fmt_value(ld->unit, o->max, y, sizeof(y)));
        if (n->def > o->def)
            finding(d, "+ allows %s: default raised to %s (was %s)", ld->name,
                    fmt_value(ld->unit, n->def, z, sizeof(z)),
                    fmt_value(ld->unit, o->def, w, sizeof(w)));
        else if (n->def < o->def)
            finding(d, "- no longer allows %s: default lowered to %s (was %s)", ld->name,
                    fmt_value(ld->unit, n->def, z, sizeof(z)),
                    fmt_value(ld->unit, o->def, w, sizeof(w)));
    }
}

static bool str_eq(const char *a, const char *b) {
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool bind_eq(const struct ls_policy_bind *a, const struct ls_policy_bind *b) {
    const char *ad = a->dst ? a->dst : a->src, *bd = b->dst ? b->dst : b->src;
    return str_eq(a->src, b->src) && str_eq(ad, bd) && a->optional == b->optional;
}

static bool has_bind(const struct ls_policy *p, const struct ls_policy_bind *b) {
    for (size_t i = 0; i < p->n_ro_binds; i++)
        if (bind_eq(&p->ro_binds[i], b))
            return true;
    return false;
}

static void list_binds(FILE *f, const struct ls_policy *p) {
    if (!p->ro_binds_set) {
        fputs("the sandbox's defaults", f);
        return;
    }
    if (p->n_ro_binds == 0)
        fputs("none", f);
    for (size_t i = 0; i < p->n_ro_binds; i++) {
        if (i)
            fputs(", ", f);
        fmt_bind(f, &p->ro_binds[i]);
    }
}

static void diff_filesystem(struct differ *d, const struct ls_policy *a,
                            const struct ls_policy *b) {
    if (a->ro_binds_set != b->ro_binds_set) {
        fputs("~ changed read-only binds: ", d->f);
        list_binds(d->f, b);
        fputs(" (was: ", d->f);
        list_binds(d->f, a);
        fputs(")\n", d->f);
        d->n++;
    } else if (b->ro_binds_set) {
        for (size_t i = 0; i < b->n_ro_binds; i++)
            if (!has_bind(a, &b->ro_binds[i])) {
                fputs("+ allows read-only bind ", d->f);
                fmt_bind(d->f, &b->ro_binds[i]);
                fputc('\n', d->f);
                d->n++;
            }
        for (size_t i = 0; i < a->n_ro_binds; i++)
            if (!has_bind(b, &a->ro_binds[i])) {
                fputs("- no longer allows read-only bind ", d->f);
                fmt_bind(d->f, &a->ro_binds[i]);
                fputc('\n', d->f);
                d->n++;
            }
    }
    if (!a->workspace && b->workspace)
        finding(d, "+ allows the workspace: bound read-write at /work (was: an empty tmpfs)");
    else if (a->workspace && !b->workspace)
        finding(d, "- no longer allows the workspace: /work is an empty tmpfs");
}

static bool has_id(const unsigned *v, size_t n, unsigned id) {
    for (size_t i = 0; i < n; i++)
        if (v[i] == id)
            return true;
    return false;
}

static bool has_str(char *const *v, size_t n, const char *s) {
    for (size_t i = 0; i < n; i++)
        if (str_eq(v[i], s))
            return true;
    return false;
}

static void diff_ids(struct differ *d, const char *what, const unsigned *o, size_t no,
                     const unsigned *n, size_t nn) {
    for (size_t i = 0; i < nn; i++)
        if (!has_id(o, no, n[i]))
            finding(d, "+ allows client %s %u", what, n[i]);
    for (size_t i = 0; i < no; i++)
        if (!has_id(n, nn, o[i]))
            finding(d, "- no longer allows client %s %u", what, o[i]);
}

static void diff_clients(struct differ *d, const struct ls_policy *a, const struct ls_policy *b) {
    _Static_assert(sizeof(uid_t) == sizeof(unsigned) && sizeof(gid_t) == sizeof(unsigned),
                   "uid_t and gid_t are unsigned int");
    if (!a->any_client && b->any_client)
        finding(d, "+ allows any client that can reach the supervisor's socket");
    else if (a->any_client && !b->any_client)
        finding(d, "- no longer allows any client (only the listed ones and root)");
    diff_ids(d, "uid", (const unsigned *)a->client_uids, a->n_client_uids,
             (const unsigned *)b->client_uids, b->n_client_uids);
    diff_ids(d, "gid", (const unsigned *)a->client_gids, a->n_client_gids,
             (const unsigned *)b->client_gids, b->n_client_gids);
    for (size_t i = 0; i < b->n_client_roles; i++)
        if (!has_str(a->client_roles, a->n_client_roles, b->client_roles[i]))
            finding(d, "+ allows client role %s", b->client_roles[i]);
    for (size_t i = 0; i < a->n_client_roles; i++)
        if (!has_str(b->client_roles, b->n_client_roles, a->client_roles[i]))
            finding(d, "- no longer allows client role %s", a->client_roles[i]);
}

static const struct ls_policy_env_var *env_find(const struct ls_policy *p, const char *name) {
    for (size_t i = 0; i < p->n_env_set; i++)
        if (str_eq(p->env_set[i].name, name))
            return &p->env_set[i];
    return NULL;
}

static void diff_environment(struct differ *d, const struct ls_policy *a,
                             const struct ls_policy *b) {
    for (size_t i = 0; i < b->n_env_allow; i++)
        if (!has_str(a->env_allow, a->n_env_allow, b->env_allow[i]))
            finding(d, "+ allows requests to set %s", b->env_allow[i]);
    for (size_t i = 0; i < a->n_env_allow; i++)
        if (!has_str(b->env_allow, b->n_env_allow, a->env_allow[i]))
            finding(d, "- no longer allows requests to set %s", a->env_allow[i]);
    for (size_t i = 0; i < b->n_env_set; i++) {
        const struct ls_policy_env_var *o = env_find(a, b->env_set[i].name);
        if (!o)
            finding(d, "~ changed environment: %s is always set to \"%s\" (was: not set)",
                    b->env_set[i].name, b->env_set[i].value ? b->env_set[i].value : "");
        else if (!str_eq(o->value, b->env_set[i].value))
            finding(d, "~ changed environment: %s is always set to \"%s\" (was: \"%s\")",
                    b->env_set[i].name, b->env_set[i].value ? b->env_set[i].value : "",
                    o->value ? o->value : "");
    }
    for (size_t i = 0; i < a->n_env_set; i++)
        if (!env_find(b, a->env_set[i].name))
            finding(d, "~ changed environment: %s is no longer set (was: \"%s\")",
                    a->env_set[i].name, a->env_set[i].value ? a->env_set[i].value : "");
}

static void diff_network(struct differ *d, const struct ls_policy *a, const struct ls_policy *b) {
    const char *o = a->network ? a->network : "none", *n = b->network ? b->network : "none";
    if (strcmp(o, n) == 0)
        return;
    if (strcmp(o, "none") == 0)
        finding(d, "+ allows network %s (was: none)", n);
    else if (strcmp(n, "none") == 0)
        finding(d, "- no longer allows network %s (now: none)", o);
    else
        finding(d, "~ changed network: %s (was: %s)", n, o);
}

/* A condition string of a conditional deny rule of s, and its verdict. */
static bool sc_has_deny(const struct sc *s, const char *conds, struct verdict *ret) {
    char buf[CONDS_MAX];
    for (size_t i = 0; s && i < s->n_cond_deny; i++) {
        fmt_conds(s->cond_deny[i], buf, sizeof(buf));
        if (strcmp(buf, conds) == 0) {
            if (ret)
                *ret = rule_verdict(s->cond_deny[i]);
            return true;
        }
    }
    return false;
}

/* Do the conditional allows of two syscalls say the same (as a set)? */
static bool cond_allows_eq(const struct sc *a, const struct sc *b) {
    char x[CONDS_MAX], y[CONDS_MAX];
    for (int pass = 0; pass < 2; pass++) {
        const struct sc *p = pass ? b : a, *q = pass ? a : b;
        for (size_t i = 0; i < p->n_cond_allow; i++) {
            bool found = false;
            fmt_conds(p->cond_allow[i], x, sizeof(x));
            for (size_t j = 0; j < q->n_cond_allow && !found; j++) {
                fmt_conds(q->cond_allow[j], y, sizeof(y));
                found = strcmp(x, y) == 0;
            }
            if (!found)
                return false;
        }
    }
    return true;
}

/* ", except: EAFNOSUPPORT when arg0 > 16; ..." for the argument denies of s. */
static void fmt_excepts(FILE *f, const struct sc *s) {
    for (size_t k = 0; k < s->n_cond_deny;) {
        fputs(k ? "; " : ", except: ", f);
        k += fmt_deny_run(f, s, k);
    }
}

static const struct sc empty_sc;

/* The argument denies of a syscall.  allowed: the syscall is allowed in both policies,
 * so a new deny takes something away and a dropped one gives something; otherwise a
 * change only alters which errno (or kill) a refused call gets. */
static void diff_arg_denies(struct differ *d, const char *name, const struct sc *o,
                            const struct sc *n, bool allowed) {
    char conds[CONDS_MAX], vo[64], vn[64];
    for (size_t k = 0; k < n->n_cond_deny; k++) {
        struct verdict was;
        struct verdict now = rule_verdict(n->cond_deny[k]);
        fmt_conds(n->cond_deny[k], conds, sizeof(conds));
        if (!sc_has_deny(o, conds, &was))
            finding(d, "%s syscall %s when %s (now: %s)",
                    allowed ? "- no longer allows" : "~ changed", name, conds,
                    fmt_verdict(now, vn, sizeof(vn)));
        else if (!verdict_eq(was, now))
            finding(d, "~ changed syscall %s when %s: %s (was: %s)", name, conds,
                    fmt_verdict(now, vn, sizeof(vn)), fmt_verdict(was, vo, sizeof(vo)));
    }
    for (size_t k = 0; k < o->n_cond_deny; k++) {
        fmt_conds(o->cond_deny[k], conds, sizeof(conds));
        if (!sc_has_deny(n, conds, NULL))
            finding(d, "%s syscall %s when %s (was: %s)", allowed ? "+ allows" : "~ changed", name,
                    conds, fmt_verdict(rule_verdict(o->cond_deny[k]), vo, sizeof(vo)));
    }
}

/* One syscall, o in the old policy and n in the new (either may be the empty sc). */
static void diff_syscall(struct differ *d, const char *name, const struct sc *o,
                         const struct ls_seccomp_spec *os, const struct sc *n,
                         const struct ls_seccomp_spec *ns) {
    enum level lo = sc_level(o), ln = sc_level(n);
    char vo[64], vn[64];
    FILE *f = d->f;

    if (lo == LEVEL_NONE && ln == LEVEL_NONE) {
        struct verdict a = sc_denial(o, os), b = sc_denial(n, ns);
        /* Unnamed in both: the default errno line covers it. */
        if (!verdict_eq(a, b) && (o->uncond || n->uncond))
            finding(d, "~ changed syscall %s: %s (was: %s)", name, fmt_verdict(b, vn, sizeof(vn)),
                    fmt_verdict(a, vo, sizeof(vo)));
        diff_arg_denies(d, name, o, n, false);
        return;
    }
    if (lo == LEVEL_NONE) {
        fprintf(f, "+ allows syscall %s", name);
        if (ln == LEVEL_COND) {
            fputs(" ", f);
            fmt_cond_allows(f, n);
        }
        fmt_excepts(f, n);
        fprintf(f, " (was: %s)\n", fmt_verdict(sc_denial(o, os), vo, sizeof(vo)));
        d->n++;
        return;
    }
    if (ln == LEVEL_NONE) {
        finding(d, "- no longer allows syscall %s (now: %s)", name,
                fmt_verdict(sc_denial(n, ns), vn, sizeof(vn)));
        return;
    }

    /* Allowed in both: compare how. */
    if (lo == LEVEL_COND && ln == LEVEL_FULL) {
        fprintf(f, "+ allows syscall %s with any arguments (was: only ", name);
        fmt_cond_allows(f, o);
        fputs(")\n", f);
        d->n++;
    } else if (lo == LEVEL_FULL && ln == LEVEL_COND) {
        fprintf(f, "- no longer allows syscall %s with any arguments (now: only ", name);
        fmt_cond_allows(f, n);
        fputs(")\n", f);
        d->n++;
    } else if (lo == LEVEL_COND && !cond_allows_eq(o, n)) {
        fprintf(f, "~ changed syscall %s: allowed ", name);
        fmt_cond_allows(f, n);
        fputs(" (was: ", f);
        fmt_cond_allows(f, o);
        fputs(")\n", f);
        d->n++;
    }

    diff_arg_denies(d, name, o, n, true);
}

static void diff_seccomp(struct differ *d, const struct ls_policy *a, const struct ls_policy *b) {
    _cleanup_free_ struct ls_seccomp_rule *owned_o = NULL, *owned_n = NULL;
    struct ls_seccomp_spec os, ns;
    struct sc_table to, tn;
    char x[64], y[64];

    if (effective_spec(a, &os, &owned_o) < 0 || effective_spec(b, &ns, &owned_n) < 0) {
        finding(d, "~ (out of memory comparing seccomp rules)");
        return;
    }
    if (os.default_errno != ns.default_errno)
        finding(d, "~ changed other known syscalls: %s (was: %s)",
                fmt_errno(ns.default_errno, x, sizeof(x)),
                fmt_errno(os.default_errno, y, sizeof(y)));
    if (os.unknown_errno != ns.unknown_errno)
        finding(d, "~ changed unknown syscall numbers: %s (was: %s)",
                fmt_errno(ns.unknown_errno, x, sizeof(x)),
                fmt_errno(os.unknown_errno, y, sizeof(y)));

    if (sc_table_build(&os, &to) < 0) {
        finding(d, "~ (out of memory comparing seccomp rules)");
        return;
    }
    if (sc_table_build(&ns, &tn) < 0) {
        sc_table_done(&to);
        finding(d, "~ (out of memory comparing seccomp rules)");
        return;
    }
    /* Walk both sorted tables together. */
    size_t i = 0, j = 0;
    while (i < to.n || j < tn.n) {
        int c = i >= to.n ? 1 : j >= tn.n ? -1 : strcmp(to.v[i].name, tn.v[j].name);
        if (c < 0) {
            diff_syscall(d, to.v[i].name, &to.v[i], &os, &empty_sc, &ns);
            i++;
        } else if (c > 0) {
            diff_syscall(d, tn.v[j].name, &empty_sc, &os, &tn.v[j], &ns);
            j++;
        } else {
            diff_syscall(d, to.v[i].name, &to.v[i], &os, &tn.v[j], &ns);
            i++;
            j++;
        }
    }
    sc_table_done(&to);
    sc_table_done(&tn);
}

char *ls_policy_diff(const struct ls_policy *old, const struct ls_policy *new) {
    char *buf = NULL;
    size_t size = 0;
    char ho[65], hn[65];
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return NULL;

    hash_hex(old, ho);
    hash_hex(new, hn);
    fprintf(f, "--- %s version %" PRIu64 " (sha256 %.16s)\n", old->name ? old->name : "?",
            old->version, ho);
    fprintf(f, "+++ %s version %" PRIu64 " (sha256 %.16s)\n", new->name ? new->name : "?",
            new->version, hn);

    struct differ d = {.f = f};
    diff_clients(&d, old, new);
    diff_limits(&d, old, new);
    diff_filesystem(&d, old, new);
    diff_network(&d, old, new);
    diff_environment(&d, old, new);
    if (old->uid != new->uid)
        finding(&d, "~ changed uid inside the sandbox: %u (was: %u)", (unsigned)new->uid,
                (unsigned)old->uid);
    diff_seccomp(&d, old, new);

    if (d.n == 0)
        fprintf(f, "no difference in what the policies allow or refuse%s\n",
                memcmp(old->hash, new->hash, sizeof(old->hash)) == 0
                    ? " (the effective policies are identical)"
                    : "");
    return finish(f, &buf);
}
