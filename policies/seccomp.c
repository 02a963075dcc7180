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
 *
 * The two filters are then merged into one (and into its notify form, see "Merging"
 * below), and a program can be serialised for another process ("Serialising").
 */
#include "labstack/seccomp.h"

#include <assert.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
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

/* ---- Merging ----------------------------------------------------------------------
 *
 * The kernel runs a stack of filters from the one installed last to the first and
 * keeps the result with the lowest ACTION_ONLY() = (s32)(ret & SECCOMP_RET_ACTION_FULL),
 * starting from SECCOMP_RET_ALLOW; a later result replaces the kept one only when it is
 * strictly lower, so between equal actions the filter installed last wins
 * (kernel/seccomp.c: seccomp_run_filters).  Our stack is B installed first and A last:
 *
 *     verdict = ACTION_ONLY(b) < ACTION_ONLY(a) ? b : a, with ALLOW's data dropped
 *
 * seccomp_bpf_merge() writes one classic-BPF filter with exactly that verdict.  Filters are
 * DAGs whose jumps go forward only, so a filter's body can be copied unchanged except
 * for its RET instructions: replacing one instruction by one JA keeps every other
 * jump offset valid.  The layout is
 *
 *     [A]   A's body; each RET K becomes
 *             K an ALLOW      -> JA to [Bp]    (ALLOW is neutral: the verdict is B's)
 *             K a KILL_PROCESS-> RET K         (the lowest action: nothing beats it)
 *             any other K     -> JA to K's stub in [SA]
 *     [SA]  per distinct K of A: LD #K; ST M[0]; JA to [Bc]
 *     [Bc]  B's body with A's verdict in M[0]; each RET K becomes
 *             K a KILL_PROCESS-> RET K
 *             any other K     -> JA to K's stub in [SB]
 *     [SB]  per distinct K of B: the verdict of the pair (M[0], K), see stub_b_len()
 *     [Bp]  B's body unchanged but ALLOW normalised (A said ALLOW)
 *
 * B is copied twice rather than A once more: B (argument denies, ~160 instructions for
 * the default spec) is much smaller than A (~1,200).  And a syscall that both filters
 * allow on every path without looking at its arguments (read, write, ...) runs through
 * [A] and [Bp] only, which use nothing but loads of nr/arch, constant jumps and RET:
 * the kernel's per-syscall "always allowed" cache (seccomp_cache_prepare) still
 * recognises it, as it would for the stack, and such calls skip the filter entirely.
 * A prologue that initialised M[0] would have disabled that cache for every syscall.
 *
 * M[0] is written on every path into [Bc] (by the [SA] stubs) and read only in [SB];
 * the kernel's store-before-load check (check_load_and_stores) walks the program
 * linearly and carries the state across a RET into the next instruction, so [SA] is
 * laid out right before [Bc] and ends with a JA: the state at [Bc]'s start is that of
 * the stubs.  libseccomp uses no scratch memory and no RET A (checked: such input is
 * refused), so M[0] is free.  The notify form is the same construction on A and B with
 * every ERRNO verdict replaced by USER_NOTIF (same data): the replacement keeps the
 * order of the actions a spec can produce (KILL < ERRNO/USER_NOTIF < ALLOW) and turns
 * ties into ties, so it commutes with the merge.  tests/unit/test_seccomp_eval.c
 * compares both against the evaluated stack for every syscall number, argument
 * patterns and architectures, and against the kernel.
 */

#define MERGE_SLOT 0 /* the scratch word that carries filter A's verdict into [Bc] */

static uint32_t action_of(uint32_t k) {
    return k & SECCOMP_RET_ACTION_FULL;
}

/* ACTION_ONLY()'s order as an unsigned number (sign bit flipped): BPF compares unsigned. */
static uint32_t action_key(uint32_t k) {
    return action_of(k) ^ 0x80000000U;
}

/* A verdict as the merged filter returns it: ALLOW without data (the kernel's result
 * for an ALLOW is SECCOMP_RET_ALLOW exactly), ERRNO -> USER_NOTIF in the notify form. */
static uint32_t out_verdict(uint32_t k, bool notify) {
    if (action_of(k) == SECCOMP_RET_ALLOW)
        return SECCOMP_RET_ALLOW;
    if (notify && action_of(k) == SECCOMP_RET_ERRNO)
        return SECCOMP_RET_USER_NOTIF | (k & SECCOMP_RET_DATA);
    return k;
}

static bool is_ret_k(const struct sock_filter *f) {
    return f->code == (BPF_RET | BPF_K);
}

struct stub {
    uint32_t k;   /* the verdict (already mapped by out_verdict) */
    uint32_t pos; /* where its code starts */
};

static struct stub *stub_find(struct stub *v, size_t n, uint32_t k) {
    for (size_t i = 0; i < n; i++)
        if (v[i].k == k)
            return &v[i];
    return NULL;
}

/* How the stub for B's verdict kb decides, given the verdicts sa[] that A can leave in
 * M[0]: 1 = always kb (kb's action is lower than all of them), 0 = always A's, -1 = it
 * depends (compare at run time). */
static int stub_b_kind(uint32_t kb, const struct stub *sa, size_t n_sa) {
    size_t wins = 0;
    if (action_of(kb) == SECCOMP_RET_ALLOW)
        return 0;
    for (size_t i = 0; i < n_sa; i++)
        wins += action_key(kb) < action_key(sa[i].k);
    return wins == n_sa ? 1 : wins == 0 ? 0 : -1;
}

static uint32_t stub_b_len(uint32_t kb, const struct stub *sa, size_t n_sa) {
    switch (stub_b_kind(kb, sa, n_sa)) {
    case 1:
        return 1; /* RET kb */
    case 0:
        return 2; /* LD M[0]; RET A */
    default:
        return 7; /* see emit_stub_b */
    }
}

static struct sock_filter stmt(uint16_t code, uint32_t k) {
    return (struct sock_filter)BPF_STMT(code, k);
}

/* JA from pc to target (target > pc). */
static struct sock_filter jump_to(size_t pc, size_t target) {
    assert(target > pc);
    return (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, (uint32_t)(target - pc - 1), 0, 0);
}

static size_t emit_stub_b(struct sock_filter *out, size_t pc, uint32_t kb, const struct stub *sa,
                          size_t n_sa) {
    switch (stub_b_kind(kb, sa, n_sa)) {
    case 1:
        out[pc++] = stmt(BPF_RET | BPF_K, kb);
        return pc;
    case 0:
        out[pc++] = stmt(BPF_LD | BPF_MEM, MERGE_SLOT);
        out[pc++] = stmt(BPF_RET | BPF_A, 0);
        return pc;
    default:
        /* key(M[0]) > key(kb): kb is strictly more restrictive -> kb; else A's verdict. */
        out[pc++] = stmt(BPF_LD | BPF_MEM, MERGE_SLOT);
        out[pc++] = stmt(BPF_ALU | BPF_AND | BPF_K, SECCOMP_RET_ACTION_FULL);
        out[pc++] = stmt(BPF_ALU | BPF_XOR | BPF_K, 0x80000000U);
        out[pc++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, action_key(kb), 0, 1);
        out[pc++] = stmt(BPF_RET | BPF_K, kb);
        out[pc++] = stmt(BPF_LD | BPF_MEM, MERGE_SLOT);
        out[pc++] = stmt(BPF_RET | BPF_A, 0);
        return pc;
    }
}

/* Input the merge can take: RET K verdicts only, no scratch memory. */
static bool mergeable(const struct sock_fprog *f) {
    if (f->len > 0 && !f->filter)
        return false;
    for (size_t i = 0; i < f->len; i++)
        switch (f->filter[i].code) {
        case BPF_ST:
        case BPF_STX:
        case BPF_LD | BPF_MEM:
        case BPF_LDX | BPF_MEM:
        case BPF_RET | BPF_A:
            return false;
        default:
            break;
        }
    return true;
}

int seccomp_bpf_merge(const struct sock_fprog *a, const struct sock_fprog *b, bool notify,
                      struct sock_fprog *ret) {
    static const struct sock_fprog none = {0};
    _cleanup_free_ struct stub *sa = NULL, *sb = NULL;
    _cleanup_free_ struct sock_filter *out = NULL;
    size_t na, nb, n_sa = 0, n_sb = 0, pc, bc_start, bp_start, total;

    if (!b)
        b = &none;
    na = a->len;
    nb = b->len;
    if (na == 0 || !mergeable(a) || !mergeable(b))
        return -EINVAL;
    sa = calloc(na, sizeof(*sa));
    sb = calloc(nb ? nb : 1, sizeof(*sb));
    if (!sa || !sb)
        return -ENOMEM;

    /* A's verdicts that must be combined with B's (none when there is no B). */
    for (size_t i = 0; i < na && nb > 0; i++) {
        uint32_t k;
        if (!is_ret_k(&a->filter[i]))
            continue;
        k = out_verdict(a->filter[i].k, notify);
        if (action_of(k) == SECCOMP_RET_ALLOW || action_key(k) == 0 || stub_find(sa, n_sa, k))
            continue;
        sa[n_sa++].k = k;
    }
    /* B's verdicts that need a stub ([Bc] is only reachable through [SA]). */
    for (size_t i = 0; i < nb && n_sa > 0; i++) {
        uint32_t k;
        if (!is_ret_k(&b->filter[i]))
            continue;
        k = out_verdict(b->filter[i].k, notify);
        if (action_key(k) == 0 || stub_find(sb, n_sb, k))
            continue;
        sb[n_sb++].k = k;
    }

    /* Lay out, then check the size before writing anything. */
    total = na;
    for (size_t i = 0; i < n_sa; i++, total += 3)
        sa[i].pos = (uint32_t)total;
    bc_start = total;
    if (n_sa > 0)
        total += nb;
    for (size_t i = 0; i < n_sb; i++) {
        sb[i].pos = (uint32_t)total;
        total += stub_b_len(sb[i].k, sa, n_sa);
        if (total > BPF_MAXINSNS)
            return -E2BIG;
    }
    bp_start = total;
    total += nb;
    if (total > BPF_MAXINSNS)
        return -E2BIG;
    out = calloc(total, sizeof(*out));
    if (!out)
        return -ENOMEM;

    /* [A] */
    for (pc = 0; pc < na; pc++) {
        const struct sock_filter *f = &a->filter[pc];
        uint32_t k;
        if (!is_ret_k(f)) {
            out[pc] = *f;
            continue;
        }
        k = out_verdict(f->k, notify);
        if (action_of(k) == SECCOMP_RET_ALLOW)
            out[pc] = nb > 0 ? jump_to(pc, bp_start) : stmt(BPF_RET | BPF_K, k);
        else if (action_key(k) == 0 || nb == 0)
            out[pc] = stmt(BPF_RET | BPF_K, k);
        else
            out[pc] = jump_to(pc, stub_find(sa, n_sa, k)->pos);
    }
    /* [SA] */
    for (size_t i = 0; i < n_sa; i++) {
        out[pc++] = stmt(BPF_LD | BPF_IMM, sa[i].k);
        out[pc++] = stmt(BPF_ST, MERGE_SLOT);
        out[pc] = jump_to(pc, bc_start);
        pc++;
    }
    /* [Bc] */
    for (size_t i = 0; i < nb && n_sa > 0; i++, pc++) {
        const struct sock_filter *f = &b->filter[i];
        uint32_t k;
        if (!is_ret_k(f)) {
            out[pc] = *f;
            continue;
        }
        k = out_verdict(f->k, notify);
        out[pc] = action_key(k) == 0 ? stmt(BPF_RET | BPF_K, k)
                                     : jump_to(pc, stub_find(sb, n_sb, k)->pos);
    }
    /* [SB] */
    for (size_t i = 0; i < n_sb; i++) {
        assert(pc == sb[i].pos);
        pc = emit_stub_b(out, pc, sb[i].k, sa, n_sa);
    }
    /* [Bp] */
    assert(pc == bp_start);
    for (size_t i = 0; i < nb; i++, pc++) {
        const struct sock_filter *f = &b->filter[i];
        out[pc] = is_ret_k(f) ? stmt(BPF_RET | BPF_K, out_verdict(f->k, notify)) : *f;
    }
    assert(pc == total);

    /* Valid input gives valid output; a failure here is a bug in this function. */
    struct sock_fprog result = {.len = (unsigned short)total, .filter = out};
    if (seccomp_bpf_check(&result) < 0)
        return -EINVAL;
    *ret = result;
    out = NULL;
    return 0;
}

/* After export: check what libseccomp produced the way the kernel will, and build the
 * merged and notify forms. */
static int finish_program(struct ls_seccomp_program *prog, struct ls_error *err) {
    int r;

    if (seccomp_bpf_check(&prog->allow) < 0 ||
        (prog->deny.len > 0 && seccomp_bpf_check(&prog->deny) < 0))
        return ls_error_set(err, EIO, STEP,
                            "libseccomp generated a filter the kernel would refuse");
    prog->checked = true;
    r = seccomp_bpf_merge(&prog->allow, &prog->deny, false, &prog->merged);
    if (r >= 0)
        r = seccomp_bpf_merge(&prog->allow, &prog->deny, true, &prog->notify);
    if (r == -E2BIG)
        return ls_error_set(err, E2BIG, STEP,
                            "filters A (%u instructions) and B (%u) merged would exceed the "
                            "kernel's %d",
                            prog->allow.len, prog->deny.len, BPF_MAXINSNS);
    if (r < 0)
        return ls_error_set(err, -r, STEP, "merge filters A and B");
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
    r = finish_program(prog, err);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(prog);
    return 0;
}

/* Free prog and its instruction arrays; accepts NULL; returns NULL. */
struct ls_seccomp_program *ls_seccomp_program_free(struct ls_seccomp_program *prog) {
    if (prog) {
        free(prog->notify.filter);
        free(prog->merged.filter);
        free(prog->deny.filter);
        free(prog->allow.filter);
        free(prog);
    }
    return NULL;
}

/* Instructions of the filter that is installed; 0 for NULL. */
size_t ls_seccomp_program_length(const struct ls_seccomp_program *prog) {
    if (!prog)
        return 0;
    if (prog->merged.len > 0)
        return prog->merged.len;
    return (size_t)prog->deny.len + prog->allow.len;
}

/*
 * Install prog in the calling thread (NNP or CAP_SYS_ADMIN required); 0 or -errno.
 * Async-signal-safe: raw seccomp(2) calls on memory built beforehand.
 *
 * A built program installs its merged filter: one filter, the stack's verdict.  A
 * program written by hand (tests) has no merged form and is installed as the stack:
 * filter B first and filter A last, so that between two ERRNO results A's errno (e.g.
 * ENOSYS for an unknown number) is the one the caller sees.  If A fails to install, B
 * stays: the caller must treat any error as fatal for the process (it is about to
 * execve untrusted code).
 */
int ls_seccomp_load(const struct ls_seccomp_program *prog) {
    if (!prog || prog->allow.len == 0)
        return -EINVAL;
    if (prog->merged.len > 0)
        return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog->merged) < 0 ? -errno : 0;
    if (prog->deny.len > 0 && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog->deny) < 0)
        return -errno;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog->allow) < 0)
        return -errno;
    return 0;
}

/* The notify form with a new listener; the listener fd or -errno (nothing installed).
 * WAIT_KILLABLE_RECV (Linux 5.19): once the listener has received a notification, only
 * a fatal signal interrupts the waiting call, so a handled signal cannot turn a refused
 * call into EINTR while we answer it. */
int ls_seccomp_load_notify(const struct ls_seccomp_program *prog) {
    long fd;

    if (!prog || prog->notify.len == 0)
        return -EOPNOTSUPP;
    fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                 SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
                 &prog->notify);
    if (fd < 0 && errno == EINVAL)
        fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                     &prog->notify);
    return fd < 0 ? -errno : (int)fd;
}

/* ---- Serialising ----------------------------------------------------------------------
 *
 * For the supervisor, which compiles a policy once, to hand the program to the runner
 * process that starts the sandbox.  Both run on the same machine, so the layout is the
 * native one: a header, then the four filters' instructions (struct sock_filter, 8
 * bytes each) in the order allow, deny, merged, notify.  The reader trusts nothing: it
 * checks every field, runs the kernel's own checks on every filter, and merges A and B
 * again to compare, so that what the kernel runs (notify or merged) and what the
 * evaluator answers with (A and B) can never disagree.
 */

#define SERIAL_MAGIC "LSSECCMP"
#define SERIAL_VERSION 1
enum { F_ALLOW, F_DENY, F_MERGED, F_NOTIFY, F__MAX };
static const char *const filter_names[F__MAX] = {"A (allow-list)", "B (argument denies)", "merged",
                                                 "notify"};

struct serial_header {
    char magic[8];
    uint32_t version;
    uint32_t arch;      /* AUDIT_ARCH_* of the machine that built it */
    uint32_t n[F__MAX]; /* instructions per filter */
    uint64_t checksum;  /* FNV-1a over the header (this field 0) and the instructions */
};
_Static_assert(sizeof(struct serial_header) == 40, "no padding in the header");
_Static_assert(sizeof(struct sock_filter) == 8, "struct sock_filter is 8 bytes");

static uint64_t fnv1a(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

#define FNV_OFFSET 0xcbf29ce484222325ULL

static const struct sock_fprog *filter_of(const struct ls_seccomp_program *p, int i) {
    switch (i) {
    case F_ALLOW:
        return &p->allow;
    case F_DENY:
        return &p->deny;
    case F_MERGED:
        return &p->merged;
    default:
        return &p->notify;
    }
}

int ls_seccomp_program_serialize(const struct ls_seccomp_program *p, void **ret_buf,
                                 size_t *ret_len) {
    struct serial_header h = {.version = SERIAL_VERSION, .arch = seccomp_arch_native()};
    size_t len = sizeof(h), off;
    unsigned char *buf;

    if (!p || p->allow.len == 0 || p->merged.len == 0 || p->notify.len == 0)
        return -EINVAL;
    memcpy(h.magic, SERIAL_MAGIC, sizeof(h.magic));
    for (int i = 0; i < F__MAX; i++) {
        h.n[i] = filter_of(p, i)->len;
        len += (size_t)h.n[i] * sizeof(struct sock_filter);
    }
    buf = malloc(len);
    if (!buf)
        return -ENOMEM;
    off = sizeof(h);
    for (int i = 0; i < F__MAX; i++) {
        size_t size = (size_t)h.n[i] * sizeof(struct sock_filter);
        if (size)
            memcpy(buf + off, filter_of(p, i)->filter, size);
        off += size;
    }
    h.checksum = fnv1a(fnv1a(FNV_OFFSET, &h, sizeof(h)), buf + sizeof(h), len - sizeof(h));
    memcpy(buf, &h, sizeof(h));
    *ret_buf = buf;
    *ret_len = len;
    return 0;
}

static bool same_filter(const struct sock_fprog *x, const struct sock_fprog *y) {
    return x->len == y->len &&
           (x->len == 0 || memcmp(x->filter, y->filter, x->len * sizeof(*x->filter)) == 0);
}

int ls_seccomp_program_deserialize(const void *buf, size_t len, struct ls_seccomp_program **ret,
                                   struct ls_error *err) {
    _cleanup_(program_freep) struct ls_seccomp_program *p = NULL;
    struct sock_fprog merged = {0}, notify = {0};
    struct serial_header h;
    const unsigned char *bytes = buf;
    uint64_t sum;
    size_t want = sizeof(h), off = sizeof(h);
    bool same;
    int r;

    if (!buf || len < sizeof(h))
        return ls_error_set(err, EINVAL, STEP,
                            "seccomp program: %zu bytes, shorter than its header", buf ? len : 0);
    memcpy(&h, buf, sizeof(h));
    if (memcmp(h.magic, SERIAL_MAGIC, sizeof(h.magic)) != 0)
        return ls_error_set(err, EINVAL, STEP, "seccomp program: not a serialised program (magic)");
    if (h.version != SERIAL_VERSION)
        return ls_error_set(err, EINVAL, STEP, "seccomp program: format version %u, expected %u",
                            h.version, SERIAL_VERSION);
    if (h.arch != seccomp_arch_native())
        return ls_error_set(err, EINVAL, STEP,
                            "seccomp program: built for architecture 0x%x, this is 0x%x", h.arch,
                            seccomp_arch_native());
    for (int i = 0; i < F__MAX; i++) {
        if (h.n[i] > BPF_MAXINSNS)
            return ls_error_set(err, EINVAL, STEP,
                                "seccomp program: filter %s has %u instructions, the kernel takes "
                                "at most %d",
                                filter_names[i], h.n[i], BPF_MAXINSNS);
        if (h.n[i] == 0 && i != F_DENY)
            return ls_error_set(err, EINVAL, STEP, "seccomp program: filter %s is empty",
                                filter_names[i]);
        want += (size_t)h.n[i] * sizeof(struct sock_filter);
    }
    if (len != want)
        return ls_error_set(err, EINVAL, STEP,
                            "seccomp program: %zu bytes, the header announces %zu", len, want);
    sum = h.checksum;
    h.checksum = 0;
    if (fnv1a(fnv1a(FNV_OFFSET, &h, sizeof(h)), bytes + sizeof(h), len - sizeof(h)) != sum)
        return ls_error_set(err, EINVAL, STEP, "seccomp program: checksum mismatch (corrupt)");

    p = calloc(1, sizeof(*p));
    if (!p)
        return ls_error_set(err, ENOMEM, STEP, "seccomp program");
    for (int i = 0; i < F__MAX; i++) {
        struct sock_fprog *f = (struct sock_fprog *)filter_of(p, i);
        size_t size = (size_t)h.n[i] * sizeof(struct sock_filter);
        if (size == 0) {
            off += size;
            continue;
        }
        f->filter = malloc(size);
        if (!f->filter)
            return ls_error_set(err, ENOMEM, STEP, "seccomp program");
        memcpy(f->filter, bytes + off, size);
        f->len = (unsigned short)h.n[i];
        off += size;
        if (seccomp_bpf_check(f) < 0)
            return ls_error_set(err, EINVAL, STEP,
                                "seccomp program: filter %s is not one the kernel accepts "
                                "(instructions, jumps, loads or scratch memory)",
                                filter_names[i]);
    }
    p->checked = true;

    r = seccomp_bpf_merge(&p->allow, &p->deny, false, &merged);
    if (r >= 0)
        r = seccomp_bpf_merge(&p->allow, &p->deny, true, &notify);
    same = r >= 0 && same_filter(&merged, &p->merged) && same_filter(&notify, &p->notify);
    free(merged.filter);
    free(notify.filter);
    if (r == -ENOMEM)
        return ls_error_set(err, ENOMEM, STEP, "seccomp program");
    if (!same)
        return ls_error_set(err, EINVAL, STEP,
                            "seccomp program: the merged and notify filters are not those of "
                            "filters A and B");
    *ret = TAKE_PTR(p);
    return 0;
}
