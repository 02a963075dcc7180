/*
 * bpf_eval.c - run a compiled seccomp program in user space: what `policy test` uses
 * to say what the kernel would do with one syscall.
 *
 * A classic-BPF interpreter restricted to what the kernel accepts in a seccomp filter
 * (kernel/seccomp.c: seccomp_check_filter(), after net/core/filter.c:
 * bpf_check_classic()).  Each filter is checked first the way the kernel checks it
 * when it is installed -- instruction whitelist, jump targets inside the program,
 * loads from struct seccomp_data 32-bit wide and aligned, scratch memory written
 * before it is read, a RET at the end -- so that running it can never read outside
 * the program, the seccomp_data or the scratch memory.  A program the kernel would
 * refuse is refused here (-EINVAL).  Arithmetic follows the kernel's translation to
 * eBPF: 32-bit unsigned, a division by X == 0 ends the filter returning 0
 * (SECCOMP_RET_KILL_THREAD), shifts by X use the low 5 bits.
 *
 * Combining filters, as kernel/seccomp.c: seccomp_run_filters() does: every filter
 * runs, from the most recently installed to the first; the result starts as
 * SECCOMP_RET_ALLOW and a filter's result replaces it only when its action
 * (ACTION_ONLY(ret) = (s32)(ret & SECCOMP_RET_ACTION_FULL)) is strictly lower.  So the
 * most restrictive action wins -- KILL_PROCESS (0x80000000, negative) < KILL_THREAD <
 * TRAP < ERRNO < USER_NOTIF < TRACE < LOG < ALLOW -- and between two results with the
 * same action (two ERRNOs with different errnos) the one of the filter evaluated
 * first, i.e. installed last, is kept.  A program's meaning is the stack of filter B
 * (argument denies) installed first and filter A (allow-list) installed last, so A runs
 * first; what the kernel actually runs is the one merged filter with the same verdict
 * (seccomp.c), which test_seccomp_eval checks against this evaluator.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "labstack/policy.h"
#include "seccomp_internal.h"

#define ERRNO_MAX 4095 /* the kernel caps SECCOMP_RET_ERRNO data at MAX_ERRNO */


/* The kernel's ACTION_ONLY(): the action as a signed value, lower = more restrictive. */
static int32_t action_only(uint32_t ret) {
    return (int32_t)(ret & SECCOMP_RET_ACTION_FULL);
}

static bool is_cond_jump(uint16_t code) {
    switch (code) {
    case BPF_JMP | BPF_JEQ | BPF_K:
    case BPF_JMP | BPF_JEQ | BPF_X:
    case BPF_JMP | BPF_JGE | BPF_K:
    case BPF_JMP | BPF_JGE | BPF_X:
    case BPF_JMP | BPF_JGT | BPF_K:
    case BPF_JMP | BPF_JGT | BPF_X:
    case BPF_JMP | BPF_JSET | BPF_K:
    case BPF_JMP | BPF_JSET | BPF_X:
        return true;
    default:
        return false;
    }
}

/* The instruction set of a seccomp filter (seccomp_check_filter()), with the operand
 * checks of bpf_check_classic() for each. */
static int check_insn(const struct sock_filter *f, size_t pc, size_t len) {
    switch (f->code) {
    case BPF_LD | BPF_W | BPF_ABS:
        if (f->k >= sizeof(struct seccomp_data) || (f->k & 3))
            return -EINVAL;
        return 0;
    case BPF_LD | BPF_W | BPF_LEN:
    case BPF_LDX | BPF_W | BPF_LEN:
    case BPF_RET | BPF_K:
    case BPF_RET | BPF_A:
    case BPF_ALU | BPF_ADD | BPF_K:
    case BPF_ALU | BPF_ADD | BPF_X:
    case BPF_ALU | BPF_SUB | BPF_K:
    case BPF_ALU | BPF_SUB | BPF_X:
    case BPF_ALU | BPF_MUL | BPF_K:
    case BPF_ALU | BPF_MUL | BPF_X:
    case BPF_ALU | BPF_DIV | BPF_X:
    case BPF_ALU | BPF_AND | BPF_K:
    case BPF_ALU | BPF_AND | BPF_X:
    case BPF_ALU | BPF_OR | BPF_K:
    case BPF_ALU | BPF_OR | BPF_X:
    case BPF_ALU | BPF_XOR | BPF_K:
    case BPF_ALU | BPF_XOR | BPF_X:
    case BPF_ALU | BPF_LSH | BPF_X:
    case BPF_ALU | BPF_RSH | BPF_X:
    case BPF_ALU | BPF_NEG:
    case BPF_LD | BPF_IMM:
    case BPF_LDX | BPF_IMM:
    case BPF_MISC | BPF_TAX:
    case BPF_MISC | BPF_TXA:
        return 0;
    case BPF_ALU | BPF_DIV | BPF_K:
        return f->k == 0 ? -EINVAL : 0;
    case BPF_ALU | BPF_LSH | BPF_K:
    case BPF_ALU | BPF_RSH | BPF_K:
        return f->k >= 32 ? -EINVAL : 0;
    case BPF_LD | BPF_MEM:
    case BPF_LDX | BPF_MEM:
    case BPF_ST:
    case BPF_STX:
        return f->k >= BPF_MEMWORDS ? -EINVAL : 0;
    case BPF_JMP | BPF_JA:
        /* Forward only, and inside the program (64-bit arithmetic: no overflow). */
        return (uint64_t)pc + 1 + f->k >= len ? -EINVAL : 0;
    default:
        if (is_cond_jump(f->code))
            return pc + 1 + f->jt >= len || pc + 1 + f->jf >= len ? -EINVAL : 0;
        return -EINVAL; /* LD_IND, LD_H/B, MOD, LDX_MSH, ...: the kernel refuses them */
    }
}

/* Check filter f as the kernel does at install time: 0 or -EINVAL. */
int seccomp_bpf_check(const struct sock_fprog *fp) {
    uint16_t masks[BPF_MAXINSNS];
    uint16_t memvalid = 0;
    size_t len = fp->len;

    if (len == 0 || len > BPF_MAXINSNS || !fp->filter)
        return -EINVAL;
    for (size_t pc = 0; pc < len; pc++)
        if (check_insn(&fp->filter[pc], pc, len) < 0)
            return -EINVAL;
    if (fp->filter[len - 1].code != (BPF_RET | BPF_K) &&
        fp->filter[len - 1].code != (BPF_RET | BPF_A))
        return -EINVAL;

    /* Scratch memory must be stored before it is loaded on every path
     * (check_load_and_stores()).  Jumps go forward only, so one pass suffices. */
    memset(masks, 0xff, len * sizeof(masks[0]));
    for (size_t pc = 0; pc < len; pc++) {
        const struct sock_filter *f = &fp->filter[pc];
        memvalid &= masks[pc];
        switch (f->code) {
        case BPF_ST:
        case BPF_STX:
            memvalid |= (uint16_t)(1U << f->k);
            break;
        case BPF_LD | BPF_MEM:
        case BPF_LDX | BPF_MEM:
            if (!(memvalid & (1U << f->k)))
                return -EINVAL;
            break;
        case BPF_JMP | BPF_JA:
            masks[pc + 1 + f->k] &= memvalid;
            memvalid = 0xffff;
            break;
        default:
            if (is_cond_jump(f->code)) {
                masks[pc + 1 + f->jt] &= memvalid;
                masks[pc + 1 + f->jf] &= memvalid;
                memvalid = 0xffff;
            }
            break;
        }
    }
    return 0;
}

/* Run a filter that passed seccomp_bpf_check(); *ret is its SECCOMP_RET_* value. */
static int run_filter(const struct sock_fprog *fp, const struct seccomp_data *sd, uint32_t *ret) {
    uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};
    size_t pc = 0, len = fp->len;

    /* Every jump moves forward, so this loop runs at most len times; the bound on pc
     * is checked anyway so that a filter changed after the check cannot escape. */
    while (pc < len) {
        const struct sock_filter *f = &fp->filter[pc++];
        uint32_t src = BPF_SRC(f->code) == BPF_X ? x : f->k;

        switch (f->code) {
        case BPF_LD | BPF_W | BPF_ABS:
            if (f->k >= sizeof(*sd) || (f->k & 3))
                return -EINVAL;
            memcpy(&a, (const char *)sd + f->k, sizeof(a));
            break;
        case BPF_LD | BPF_W | BPF_LEN:
            a = sizeof(*sd);
            break;
        case BPF_LDX | BPF_W | BPF_LEN:
            x = sizeof(*sd);
            break;
        case BPF_LD | BPF_IMM:
            a = f->k;
            break;
        case BPF_LDX | BPF_IMM:
            x = f->k;
            break;
        case BPF_LD | BPF_MEM:
            if (f->k >= BPF_MEMWORDS)
                return -EINVAL;
            a = mem[f->k];
            break;
        case BPF_LDX | BPF_MEM:
            if (f->k >= BPF_MEMWORDS)
                return -EINVAL;
            x = mem[f->k];
            break;
        case BPF_ST:
            if (f->k >= BPF_MEMWORDS)
                return -EINVAL;
            mem[f->k] = a;
            break;
        case BPF_STX:
            if (f->k >= BPF_MEMWORDS)
                return -EINVAL;
            mem[f->k] = x;
            break;
        case BPF_MISC | BPF_TAX:
            x = a;
            break;
        case BPF_MISC | BPF_TXA:
            a = x;
            break;
        case BPF_ALU | BPF_ADD | BPF_K:
        case BPF_ALU | BPF_ADD | BPF_X:
            a += src;
            break;
        case BPF_ALU | BPF_SUB | BPF_K:
        case BPF_ALU | BPF_SUB | BPF_X:
            a -= src;
            break;
        case BPF_ALU | BPF_MUL | BPF_K:
        case BPF_ALU | BPF_MUL | BPF_X:
            a *= src;
            break;
        case BPF_ALU | BPF_DIV | BPF_K:
        case BPF_ALU | BPF_DIV | BPF_X:
            if (src == 0) { /* the kernel: "for cBPF programs, this was always return 0" */
                *ret = 0;
                return 0;
            }
            a /= src;
            break;
        case BPF_ALU | BPF_AND | BPF_K:
        case BPF_ALU | BPF_AND | BPF_X:
            a &= src;
            break;
        case BPF_ALU | BPF_OR | BPF_K:
        case BPF_ALU | BPF_OR | BPF_X:
            a |= src;
            break;
        case BPF_ALU | BPF_XOR | BPF_K:
        case BPF_ALU | BPF_XOR | BPF_X:
            a ^= src;
            break;
        case BPF_ALU | BPF_LSH | BPF_K:
        case BPF_ALU | BPF_LSH | BPF_X:
            a <<= src & 31;
            break;
        case BPF_ALU | BPF_RSH | BPF_K:
        case BPF_ALU | BPF_RSH | BPF_X:
            a >>= src & 31;
            break;
        case BPF_ALU | BPF_NEG:
            a = -a;
            break;
        case BPF_JMP | BPF_JA:
            pc += f->k;
            break;
        case BPF_JMP | BPF_JEQ | BPF_K:
        case BPF_JMP | BPF_JEQ | BPF_X:
            pc += a == src ? f->jt : f->jf;
            break;
        case BPF_JMP | BPF_JGT | BPF_K:
        case BPF_JMP | BPF_JGT | BPF_X:
            pc += a > src ? f->jt : f->jf;
            break;
        case BPF_JMP | BPF_JGE | BPF_K:
        case BPF_JMP | BPF_JGE | BPF_X:
            pc += a >= src ? f->jt : f->jf;
            break;
        case BPF_JMP | BPF_JSET | BPF_K:
        case BPF_JMP | BPF_JSET | BPF_X:
            pc += (a & src) ? f->jt : f->jf;
            break;
        case BPF_RET | BPF_K:
            *ret = f->k;
            return 0;
        case BPF_RET | BPF_A:
            *ret = a;
            return 0;
        default:
            return -EINVAL;
        }
    }
    return -EINVAL; /* fell off the end: seccomp_bpf_check() makes this unreachable */
}

/* What the kernel does with a combined result (__seccomp_filter()). */
static void classify(uint32_t ret, struct ls_verdict *v) {
    uint32_t data = ret & SECCOMP_RET_DATA;

    *v = (struct ls_verdict){.raw = ret};
    switch (ret & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_ALLOW:
        v->kind = LS_VERDICT_ALLOW;
        break;
    case SECCOMP_RET_ERRNO:
        v->kind = LS_VERDICT_ERRNO;
        v->errno_ret = (int)(data > ERRNO_MAX ? ERRNO_MAX : data);
        break;
    case SECCOMP_RET_TRAP:
    case SECCOMP_RET_TRACE:
    case SECCOMP_RET_USER_NOTIF:
    case SECCOMP_RET_LOG:
        v->kind = LS_VERDICT_OTHER;
        break;
    default:
        /* KILL_PROCESS, KILL_THREAD (which ends a single-threaded process) and any
         * value the kernel does not know, which it treats as KILL_PROCESS. */
        v->kind = LS_VERDICT_KILL;
        break;
    }
}

/* The stack's verdict on sd; every field of sd is visible to the filters.  Filters
 * of a program that is not marked checked are checked first, on every call: a program
 * written by hand may change between calls. */
int ls_seccomp_program_eval(const struct ls_seccomp_program *prog, const struct seccomp_data *sd,
                            uint32_t *ret) {
    /* Filters in evaluation order: the last installed first (A, then B). */
    const struct sock_fprog *order[2];
    uint32_t result = SECCOMP_RET_ALLOW;
    size_t n = 0;

    if (!prog || !sd || !ret || prog->allow.len == 0)
        return -EINVAL;
    order[n++] = &prog->allow;
    if (prog->deny.len > 0)
        order[n++] = &prog->deny;

    for (size_t i = 0; i < n; i++) {
        uint32_t cur;
        int r = prog->checked ? 0 : seccomp_bpf_check(order[i]);
        if (r < 0)
            return r;
        r = run_filter(order[i], sd, &cur);
        if (r < 0)
            return r;
        if (action_only(cur) < action_only(result))
            result = cur;
    }
    *ret = result;
    return 0;
}

/*
 * Evaluate prog on syscall nr with args (NULL: all zero) for architecture arch (an
 * AUDIT_ARCH_* value; 0: the native one).  Returns 0 with *ret set, or -EINVAL for a
 * NULL/empty program or a filter the kernel would refuse to install.
 */
int ls_seccomp_eval(const struct ls_seccomp_program *prog, int nr, const uint64_t args[6],
                    uint32_t arch, struct ls_verdict *ret) {
    struct seccomp_data sd = {.nr = nr, .arch = arch ? arch : seccomp_arch_native()};
    uint32_t result;
    int r;

    if (!ret)
        return -EINVAL;
    if (args)
        memcpy(sd.args, args, sizeof(sd.args));
    r = ls_seccomp_program_eval(prog, &sd, &result);
    if (r < 0)
        return r;
    classify(result, ret);
    return 0;
}
