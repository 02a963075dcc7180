/*
 * seccomp.c - compile a declarative ls_seccomp_spec into classic-BPF filters once,
 * then load them as often as needed from children that may not allocate.
 *
 * libseccomp does the code generation; it is used only at build time.  Each filter is
 * exported to BPF through a memfd (libseccomp 2.5 can only export to an fd) and read
 * back into plain memory, so a program owns no libseccomp state and loading it is a
 * bare seccomp(2) call.  The split into two filters is explained in seccomp.h:
 * filter A is the allow-list, filter B holds the denies that look at arguments.
 *
 * Things libseccomp 2.5.4 does that shape this file (each was checked by experiment):
 *   - It accepts rules for raw syscall numbers it has no name for, so "unknown"
 *     numbers are plain seccomp_rule_add() calls; no hand-written BPF is needed.
 *   - On x86_64 the generated code kills (bad-arch action) every number with the
 *     x32 bit 0x40000000 set, except -1, which the kernel never dispatches.  i386
 *     (int $0x80) fails the arch check.  tests/unit/test_seccomp.c checks both.
 *   - A second unconditional rule with a different action for the same syscall is
 *     silently dropped (seccomp_rule_add returns 0), and an unconditional rule hides
 *     conditional ones.  We detect such conflicts ourselves and refuse the spec.
 *   - A rule whose action equals the filter's default is refused with -EACCES, so an
 *     unconditional ERRNO(default_errno) rule is recorded for conflict checks only.
 *   - Two comparisons on the same argument in one rule are refused (-EINVAL); a
 *     range on one argument must be written as several rules.
 *   - Names it knows but that do not exist on this architecture (e.g. "chown32" on
 *     x86_64) resolve to negative pseudo numbers.  It accepts rules for them and emits
 *     no BPF (its PFC export still lists them); we skip such rules before adding them.
 * Argument comparisons are unsigned and on all 64 bits of the register, while the
 * kernel reads int arguments from the low 32 bits only: rules must be written so that
 * a value with high bits set falls on the deny side (see seccomp_default.c).
 */
#include "labstack/seccomp.h"

#include <assert.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "labstack/error.h"
#include "labstack/macros.h"
#include "seccomp_internal.h"

#define STEP "seccomp"
#define ERRNO_MAX 4095 /* the kernel's MAX_ERRNO: larger values are not errors to libc */

/* Per syscall number (below LS_SECCOMP_NR_SPACE), the rules of filter A seen so far,
 * as rule index + 1 (0: none), to refuse specs that libseccomp would merge silently. */
struct slot {
    size_t uncond;     /* first rule without conditions */
    size_t cond_allow; /* first ALLOW rule with conditions */
};

static void seccomp_releasep(scmp_filter_ctx *ctx) {
    if (*ctx)
        seccomp_release(*ctx);
}
#define _cleanup_scmp_ _cleanup_(seccomp_releasep)

static void program_freep(struct ls_seccomp_program **prog) {
    ls_seccomp_program_free(*prog);
}

static bool errno_valid(int e) {
    return e >= 1 && e <= ERRNO_MAX;
}

static uint32_t scmp_action(const struct ls_seccomp_rule *r) {
    switch (r->action) {
    case LS_SECCOMP_ALLOW:
        return SCMP_ACT_ALLOW;
    case LS_SECCOMP_ERRNO:
        return SCMP_ACT_ERRNO((uint32_t)r->errno_ret);
    case LS_SECCOMP_KILL:
        return SCMP_ACT_KILL_PROCESS;
    }
    assert(!"action validated before");
    return SCMP_ACT_KILL_PROCESS;
}

static bool same_action(const struct ls_seccomp_rule *a, const struct ls_seccomp_rule *b) {
    if (a->action != b->action)
        return false;
    return a->action != LS_SECCOMP_ERRNO || a->errno_ret == b->errno_ret;
}

/* Translate one condition; false when op is not one of enum ls_seccomp_op. */
static bool scmp_condition(const struct ls_seccomp_arg *a, struct scmp_arg_cmp *ret) {
    static const enum scmp_compare ops[] = {
        [LS_SECCOMP_EQ] = SCMP_CMP_EQ,
        [LS_SECCOMP_NE] = SCMP_CMP_NE,
        [LS_SECCOMP_LT] = SCMP_CMP_LT,
        [LS_SECCOMP_LE] = SCMP_CMP_LE,
        [LS_SECCOMP_GT] = SCMP_CMP_GT,
        [LS_SECCOMP_GE] = SCMP_CMP_GE,
        [LS_SECCOMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
    };
    if ((unsigned)a->op >= ELEMENTSOF(ops))
        return false;
    *ret = (struct scmp_arg_cmp){.arg = a->index, .op = ops[a->op]};
    if (a->op == LS_SECCOMP_MASKED_EQ) {
        ret->datum_a = a->mask;
        ret->datum_b = a->value;
    } else {
        ret->datum_a = a->value;
    }
    return true;
}

/* Check everything about rule i that does not need libseccomp.  Returns 0 or -EINVAL
 * with err filled. */
static int validate_rule(const struct ls_seccomp_rule *r, size_t i, struct ls_error *err) {
    if (!r->syscall || !r->syscall[0])
        return ls_error_set(err, 0, STEP, "seccomp rule %zu: no syscall name", i);
    if (r->action != LS_SECCOMP_ALLOW && r->action != LS_SECCOMP_ERRNO &&
        r->action != LS_SECCOMP_KILL)
        return ls_error_set(err, 0, STEP, "seccomp rule %zu (\"%s\"): invalid action %d", i,
                            r->syscall, (int)r->action);
    if (r->action == LS_SECCOMP_ERRNO && !errno_valid(r->errno_ret))
        return ls_error_set(err, 0, STEP, "seccomp rule %zu (\"%s\"): errno %d out of range 1..%d",
                            i, r->syscall, r->errno_ret, ERRNO_MAX);
    if (r->n_args > LS_SECCOMP_MAX_ARGS)
        return ls_error_set(err, 0, STEP, "seccomp rule %zu (\"%s\"): %u conditions, at most %d", i,
                            r->syscall, r->n_args, LS_SECCOMP_MAX_ARGS);
    for (unsigned k = 0; k < r->n_args; k++) {
        const struct ls_seccomp_arg *a = &r->args[k];
        struct scmp_arg_cmp unused;
        if (a->index >= LS_SECCOMP_MAX_ARGS)
            return ls_error_set(err, 0, STEP,
                                "seccomp rule %zu (\"%s\"): condition %u: argument index %u, "
                                "must be below %d",
                                i, r->syscall, k, a->index, LS_SECCOMP_MAX_ARGS);
        if (!scmp_condition(a, &unused))
            return ls_error_set(err, 0, STEP,
                                "seccomp rule %zu (\"%s\"): condition %u: invalid operator %d", i,
                                r->syscall, k, (int)a->op);
        if (a->op == LS_SECCOMP_MASKED_EQ && (a->value & ~a->mask))
            return ls_error_set(err, 0, STEP,
                                "seccomp rule %zu (\"%s\"): condition %u: value 0x%llx has bits "
                                "outside mask 0x%llx, it can never match",
                                i, r->syscall, k, (unsigned long long)a->value,
                                (unsigned long long)a->mask);
        /* libseccomp 2.5.4 builds a wrong decision tree when range comparisons on one
         * argument mix values below and above 2^32 (a deny can turn into an allow; found
         * by review with a kernel-loaded counter-example).  No syscall argument we filter
         * needs a 64-bit range, so refuse them rather than compile a wrong filter. */
        if ((a->op == LS_SECCOMP_LT || a->op == LS_SECCOMP_LE || a->op == LS_SECCOMP_GT ||
             a->op == LS_SECCOMP_GE) &&
            a->value > 0xffffffffULL)
            return ls_error_set(err, 0, STEP,
                                "seccomp rule %zu (\"%s\"): condition %u: a range comparison "
                                "against 0x%llx, above 32 bits, is not supported (libseccomp "
                                "2.5.4 compiles it wrongly)",
                                i, r->syscall, k, (unsigned long long)a->value);
        for (unsigned j = 0; j < k; j++)
            if (r->args[j].index == a->index)
                return ls_error_set(err, 0, STEP,
                                    "seccomp rule %zu (\"%s\"): two conditions on argument %u "
                                    "(libseccomp allows one; write several rules)",
                                    i, r->syscall, a->index);
    }
    return 0;
}

/* Refuse rule i of filter A if it contradicts an earlier rule for the same number. */
static int check_conflict(const struct ls_seccomp_spec *spec, struct slot *slots, int nr, size_t i,
                          struct ls_error *err) {
    const struct ls_seccomp_rule *r = &spec->rules[i];
    struct slot *s;
    size_t other = 0;

    if (nr < 0 || nr >= LS_SECCOMP_NR_SPACE)
        return 0;
    s = &slots[nr];
    if (r->n_args == 0) {
        if (s->uncond && !same_action(&spec->rules[s->uncond - 1], r))
            other = s->uncond;
        else if (s->cond_allow && r->action != LS_SECCOMP_ALLOW)
            other = s->cond_allow;
        if (!s->uncond)
            s->uncond = i + 1;
    } else {
        if (s->uncond && spec->rules[s->uncond - 1].action != LS_SECCOMP_ALLOW)
            other = s->uncond;
        if (!s->cond_allow)
            s->cond_allow = i + 1;
    }
    if (other)
        return ls_error_set(err, 0, STEP,
                            "seccomp rule %zu (\"%s\"): conflicts with rule %zu (\"%s\")", i,
                            r->syscall, other - 1, spec->rules[other - 1].syscall);
    return 0;
}

static int new_filter(uint32_t def_action, scmp_filter_ctx *ret, struct ls_error *err) {
    _cleanup_scmp_ scmp_filter_ctx ctx = seccomp_init(def_action);
    int r;

    if (!ctx)
        return ls_error_set(err, ENOMEM, STEP, "seccomp_init");
    /* seccomp_init() only includes the native architecture; anything else (i386
     * through int $0x80, x32 numbers) takes the bad-arch action. */
    r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (r >= 0)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); /* the sandbox sets NNP itself */
    if (r >= 0)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2); /* binary tree */
    if (r < 0)
        return ls_error_set(err, -r, STEP, "seccomp_attr_set");
    *ret = TAKE_PTR(ctx);
    return 0;
}

/* Generate the BPF of ctx into a malloc'd array owned by *ret. */
static int export_filter(scmp_filter_ctx ctx, const char *which, struct sock_fprog *ret,
                         struct ls_error *err) {
    _cleanup_close_ int fd = -EBADF;
    _cleanup_free_ struct sock_filter *insns = NULL;
    struct stat st;
    size_t size, n, done = 0;
    int r;

    fd = memfd_create("labstack-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return ls_error_set(err, errno, STEP, "memfd_create for %s", which);
    r = seccomp_export_bpf(ctx, fd);
    if (r < 0)
        return ls_error_set(err, -r, STEP, "export %s to BPF", which);
    if (fstat(fd, &st) < 0)
        return ls_error_set(err, errno, STEP, "fstat BPF of %s", which);
    size = (size_t)st.st_size;
    n = size / sizeof(struct sock_filter);
    if (n == 0 || size % sizeof(struct sock_filter))
        return ls_error_set(err, EIO, STEP, "BPF of %s has an odd size of %zu bytes", which, size);
    if (n > BPF_MAXINSNS)
        return ls_error_set(err, E2BIG, STEP, "%s has %zu BPF instructions, the kernel takes %d",
                            which, n, BPF_MAXINSNS);
    insns = malloc(size);
    if (!insns)
        return ls_error_set(err, ENOMEM, STEP, "BPF of %s", which);
    while (done < size) {
        ssize_t k = pread(fd, (char *)insns + done, size - done, (off_t)done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return ls_error_set(err, errno, STEP, "read back BPF of %s", which);
        if (k == 0)
            return ls_error_set(err, EIO, STEP, "read back BPF of %s: short file", which);
        done += (size_t)k;
    }
    ret->len = (unsigned short)n;
    ret->filter = TAKE_PTR(insns);
    return 0;
}

/* Filter A: every number libseccomp has no name for -> ERRNO(unknown_errno). */
static int add_unknown_numbers(scmp_filter_ctx allow, int unknown_errno, struct ls_error *err) {
    for (int nr = 0; nr < LS_SECCOMP_NR_SPACE; nr++) {
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
        if (name) {
            free(name);
            continue;
        }
        int r = seccomp_rule_add(allow, SCMP_ACT_ERRNO((uint32_t)unknown_errno), nr, 0);
        if (r < 0)
            return ls_error_set(err, -r, STEP, "seccomp rule for unknown syscall number %d", nr);
    }
    return 0;
}

/* Does every condition of a also appear in b (so b only narrows a)? */
static bool conditions_subset(const struct ls_seccomp_rule *a, const struct ls_seccomp_rule *b) {
    for (unsigned i = 0; i < a->n_args; i++) {
        bool found = false;
        for (unsigned j = 0; j < b->n_args && !found; j++)
            found = a->args[i].index == b->args[j].index && a->args[i].op == b->args[j].op &&
                    a->args[i].value == b->args[j].value &&
                    (a->args[i].op != LS_SECCOMP_MASKED_EQ || a->args[i].mask == b->args[j].mask);
        if (!found)
            return false;
    }
    return true;
}

/* Filter B: libseccomp keeps the broader of two rules whose conditions nest and drops
 * the narrower one silently, so a narrower rule with another verdict (a "kill" inside an
 * "errno", a different errno) would never apply.  Refuse such a pair, naming both. */
static int check_deny_shadow(const struct ls_seccomp_spec *spec, size_t i, int nr,
                             struct ls_error *err) {
    const struct ls_seccomp_rule *r = &spec->rules[i];
    for (size_t j = 0; j < i; j++) {
        const struct ls_seccomp_rule *o = &spec->rules[j];
        if (o->action == LS_SECCOMP_ALLOW || o->n_args == 0 ||
            seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, o->syscall) != nr)
            continue;
        if (o->action == r->action && (r->action != LS_SECCOMP_ERRNO || o->errno_ret == r->errno_ret))
            continue;
        if (conditions_subset(o, r) || conditions_subset(r, o))
            return ls_error_set(err, 0, STEP,
                                "seccomp rule %zu (\"%s\") conflicts with rule %zu: their argument "
                                "conditions nest but their verdicts differ, and only the broader "
                                "rule would apply",
                                i, r->syscall, j);
    }
    return 0;
}

/* Compile spec into a new program owned by *ret; on failure -errno with err naming
 * the rule.  The libseccomp contexts live only for the duration of this call. */
int ls_seccomp_build(const struct ls_seccomp_spec *spec, struct ls_seccomp_program **ret,
                     struct ls_error *err) {
    _cleanup_scmp_ scmp_filter_ctx allow = NULL;
    _cleanup_scmp_ scmp_filter_ctx deny = NULL;
    _cleanup_free_ struct slot *slots = NULL;
    _cleanup_(program_freep) struct ls_seccomp_program *prog = NULL;
    size_t n_deny = 0;
    int r;

    assert(spec);
    assert(ret);
    assert(spec->rules || spec->n_rules == 0);

    if (!errno_valid(spec->default_errno))
        return ls_error_set(err, 0, STEP, "seccomp spec: default errno %d out of range 1..%d",
                            spec->default_errno, ERRNO_MAX);
    if (!errno_valid(spec->unknown_errno))
        return ls_error_set(err, 0, STEP,
                            "seccomp spec: unknown-syscall errno %d out of range 1..%d",
                            spec->unknown_errno, ERRNO_MAX);

    slots = calloc(LS_SECCOMP_NR_SPACE, sizeof(*slots));
    if (!slots)
        return ls_error_set(err, ENOMEM, STEP, "seccomp spec");
    r = new_filter(SCMP_ACT_ERRNO((uint32_t)spec->default_errno), &allow, err);
    if (r < 0)
        return r;
    r = new_filter(SCMP_ACT_ALLOW, &deny, err);
    if (r < 0)
        return r;

    for (size_t i = 0; i < spec->n_rules; i++) {
        const struct ls_seccomp_rule *rule = &spec->rules[i];
        struct scmp_arg_cmp cmps[LS_SECCOMP_MAX_ARGS];
        bool to_deny = rule->action != LS_SECCOMP_ALLOW && rule->n_args > 0;
        int nr;

        r = validate_rule(rule, i, err);
        if (r < 0)
            return r;
        nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, rule->syscall);
        if (nr == __NR_SCMP_ERROR) {
            if (spec->allow_unknown_names)
                continue;
            return ls_error_set(err, 0, STEP, "seccomp rule %zu (\"%s\"): unknown syscall", i,
                                rule->syscall);
        }
        if (nr < 0)
            continue; /* known, but not a syscall of this architecture */
        if (to_deny) {
            r = check_deny_shadow(spec, i, nr, err);
            if (r < 0)
                return r;
        } else {
            r = check_conflict(spec, slots, nr, i, err);
            if (r < 0)
                return r;
            if (rule->n_args == 0 && rule->action == LS_SECCOMP_ERRNO &&
                rule->errno_ret == spec->default_errno)
                continue; /* same as filter A's default, which libseccomp refuses as a rule */
        }
        for (unsigned k = 0; k < rule->n_args; k++)
            (void)scmp_condition(&rule->args[k], &cmps[k]);
        r = seccomp_rule_add_array(to_deny ? deny : allow, scmp_action(rule), nr, rule->n_args,
                                   rule->n_args ? cmps : NULL);
        if (r < 0)
            return ls_error_set(err, -r, STEP, "seccomp rule %zu (\"%s\"): libseccomp refused it",
                                i, rule->syscall);
        if (to_deny)
            n_deny++;
    }

    if (spec->unknown_errno != spec->default_errno) {
        r = add_unknown_numbers(allow, spec->unknown_errno, err);
        if (r < 0)
            return r;
    }

    prog = calloc(1, sizeof(*prog));
    if (!prog)
        return ls_error_set(err, ENOMEM, STEP, "seccomp program");
    r = export_filter(allow, "filter A (allow-list)", &prog->allow, err);
    if (r < 0)
        return r;
    if (n_deny > 0) {
        r = export_filter(deny, "filter B (argument denies)", &prog->deny, err);
        if (r < 0)
            return r;
    }
    *ret = TAKE_PTR(prog);
    return 0;
}

/* Free prog and its instruction arrays; accepts NULL; returns NULL. */
struct ls_seccomp_program *ls_seccomp_program_free(struct ls_seccomp_program *prog) {
    if (prog) {
        free(prog->deny.filter);
        free(prog->allow.filter);
        free(prog);
    }
    return NULL;
}

/* Instructions of filters A and B together; 0 for NULL. */
size_t ls_seccomp_program_length(const struct ls_seccomp_program *prog) {
    if (!prog)
        return 0;
    return (size_t)prog->deny.len + prog->allow.len;
}

/*
 * Install prog in the calling thread (NNP or CAP_SYS_ADMIN required); 0 or -errno.
 * Async-signal-safe: two raw seccomp(2) calls on memory built beforehand.
 *
 * Filter B goes in first and filter A last.  The kernel runs every filter and keeps
 * the most restrictive action; between two ERRNO results it keeps the one of the
 * filter installed last, so A's errno (e.g. ENOSYS for an unknown number) is the one
 * the caller sees.  If A fails to install, B stays: the caller must treat any error
 * as fatal for the process (it is about to execve untrusted code).
 */
int ls_seccomp_load(const struct ls_seccomp_program *prog) {
    if (!prog || prog->allow.len == 0)
        return -EINVAL;
    if (prog->deny.len > 0 && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog->deny) < 0)
        return -errno;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog->allow) < 0)
        return -errno;
    return 0;
}
