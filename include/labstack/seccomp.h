/*
 * seccomp.h - seccomp filters built once from a declarative spec, loaded many times.
 *
 * A spec is an allow-list plus argument-level denies.  ls_seccomp_build() compiles
 * it with libseccomp (native architecture only, binary-tree optimisation) into an
 * immutable program of one or two classic-BPF filters:
 *
 *   filter A, the allow-list: default ERRNO(default_errno); ALLOW rules (with or
 *     without argument conditions); ERRNO/KILL rules without argument conditions;
 *     every syscall number below LS_SECCOMP_NR_SPACE that libseccomp does not know
 *     -> ERRNO(unknown_errno) so that a libc probing a newer syscall falls back;
 *     any other architecture or ABI (i386, x32) -> kill the process.
 *   filter B, the argument denies: default ALLOW; every ERRNO/KILL rule that has
 *     argument conditions.  The kernel applies the most restrictive verdict of all
 *     stacked filters, so such a deny holds even when filter A allows the syscall
 *     unconditionally.
 *
 * The kernel would run the two as a stack; the program also holds them merged into
 * ONE filter with exactly the stack's verdict, which is what ls_seccomp_load()
 * installs, and a "notify" form of that filter where every ERRNO verdict is
 * SECCOMP_RET_USER_NOTIF instead (KILL and ALLOW unchanged), so that a supervisor can
 * count the calls it refuses (ls_seccomp_load_notify; docs/sandbox.md).  One filter,
 * because the kernel gives a listener to only one filter per task and between stacked
 * filters the most restrictive action wins (an ERRNO of filter B would hide a
 * USER_NOTIF of filter A).
 *
 * The program is plain memory (no libseccomp context), safe to share between
 * threads and to load from a child between clone() and execve().  It can be
 * serialised to hand it to another process without compiling it again.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ls_error;
struct seccomp_data;

/* Syscall numbers [0, LS_SECCOMP_NR_SPACE) are covered by the "unknown" rule. */
#define LS_SECCOMP_NR_SPACE 1024
#define LS_SECCOMP_MAX_ARGS 6

enum ls_seccomp_action {
    LS_SECCOMP_ALLOW,
    LS_SECCOMP_ERRNO, /* fail with errno_ret */
    LS_SECCOMP_KILL,  /* kill the whole process with SIGSYS */
};

enum ls_seccomp_op {
    LS_SECCOMP_EQ,
    LS_SECCOMP_NE,
    LS_SECCOMP_LT,
    LS_SECCOMP_LE,
    LS_SECCOMP_GT,
    LS_SECCOMP_GE,
    LS_SECCOMP_MASKED_EQ, /* (arg & mask) == value */
};

struct ls_seccomp_arg {
    unsigned index;          /* 0..5 */
    enum ls_seccomp_op op;
    uint64_t value;
    uint64_t mask;           /* MASKED_EQ only */
};

struct ls_seccomp_rule {
    const char *syscall;     /* name as libseccomp knows it, e.g. "openat" */
    enum ls_seccomp_action action;
    int errno_ret;           /* ERRNO only */
    unsigned n_args;         /* conditions, AND-ed */
    struct ls_seccomp_arg args[LS_SECCOMP_MAX_ARGS];
};

struct ls_seccomp_spec {
    int default_errno;       /* known syscalls that no rule allows (EPERM) */
    int unknown_errno;       /* numbers libseccomp does not know (ENOSYS) */
    const struct ls_seccomp_rule *rules;
    size_t n_rules;
    bool allow_unknown_names; /* false: a rule naming an unknown syscall is an error */
};

struct ls_seccomp_program;

/* The built-in default: what a compiled test binary, a shell, make, gcc, Python and
 * Node need; no mount family, namespaces, ptrace, keyring, bpf, perf, io_uring,
 * userfaultfd, kernel modules, clock setting; socket() only for AF_UNIX, AF_INET,
 * AF_INET6 and NETLINK_ROUTE; clone() without namespace flags; clone3 -> ENOSYS so
 * libc falls back to clone(); mknod only for FIFOs and sockets; personality() only
 * with harmless values; ioctl TIOCSTI/TIOCLINUX denied on the low 32 bits. */
const struct ls_seccomp_spec *ls_seccomp_default_spec(void);

/* The floor: argument denies (ERRNO with conditions, so they land in filter B) that
 * every policy's program gets on top of its own rules: socket() with a family that
 * has bits above the low 32, ioctl TIOCSTI/TIOCLINUX on the low 32 bits, and no set-user-ID/set-group-ID bit through chmod, fchmod, fchmodat,
 * fchmodat2, creat, mknod(at) or open(at) with O_CREAT/O_TMPFILE -- the workspace is
 * id-mapped to its host owner, so a set-id file there would be one on the host -- and,
 * unconditionally, openat2 (ENOSYS) and io_uring_setup/enter/register (EPERM), which
 * can create files with a mode the filter cannot read. */
const struct ls_seccomp_rule *ls_seccomp_floor(size_t *ret_n);

/* Compile spec.  On success *ret owns a new program (free with ls_seccomp_program_free).
 * On failure returns -errno and fills err, naming the rule (index and syscall); -E2BIG
 * when filter A or the merged filter would exceed the kernel's BPF_MAXINSNS. */
int ls_seccomp_build(const struct ls_seccomp_spec *spec, struct ls_seccomp_program **ret,
                     struct ls_error *err);

/* Free; accepts NULL; returns NULL. */
struct ls_seccomp_program *ls_seccomp_program_free(struct ls_seccomp_program *prog);

/* Number of BPF instructions of the filter the kernel runs (the merged one). */
size_t ls_seccomp_program_length(const struct ls_seccomp_program *prog);

/* Install the program (its merged filter) in the calling thread.  The caller must
 * have set PR_SET_NO_NEW_PRIVS (or hold CAP_SYS_ADMIN).  Async-signal-safe: no
 * allocation.  Returns 0 or -errno. */
int ls_seccomp_load(const struct ls_seccomp_program *prog);

/*
 * Install the notify form instead, with SECCOMP_FILTER_FLAG_NEW_LISTENER (and
 * SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV where the kernel has it): every call the
 * program refuses with an errno then waits until the listener answers it.  Returns
 * the listener fd (close-on-exec, the lowest free number) or -errno: -EOPNOTSUPP for
 * a program without a notify form, -EBUSY when an inherited filter already has a
 * listener, -EINVAL on kernels without listeners.  Nothing is installed on failure,
 * so the caller can fall back to ls_seccomp_load().  Async-signal-safe.
 *
 * Whoever holds the listener must answer every notification (SECCOMP_IOCTL_NOTIF_SEND
 * with error = -errno of ls_seccomp_program_eval's verdict); once the last copy of the
 * listener is closed, refused calls fail with ENOSYS instead of their errno.
 */
int ls_seccomp_load_notify(const struct ls_seccomp_program *prog);

/*
 * The SECCOMP_RET_* value the kernel acts on for one syscall under the program, exactly
 * (every field of sd, the instruction pointer included, is visible to the filters):
 * what a listener answers a notification with.  Runs the filters as they were compiled
 * (the stack of A and B), never the notify form.  0 with *ret set, or -EINVAL for a
 * NULL/empty program or one whose filters the kernel would refuse.
 */
int ls_seccomp_program_eval(const struct ls_seccomp_program *prog, const struct seccomp_data *sd,
                            uint32_t *ret);

/*
 * A byte string holding the whole program (filters A and B, merged, notify) for
 * another process on the same machine: *ret_buf is malloc'd (caller frees), *ret_len
 * its size.  0 or -ENOMEM / -EINVAL (a hand-written program without a merged form).
 */
int ls_seccomp_program_serialize(const struct ls_seccomp_program *p, void **ret_buf,
                                 size_t *ret_len);

/*
 * The program back from ls_seccomp_program_serialize()'s bytes, which may come from
 * another process and are checked in full: header, version, architecture, sizes,
 * checksum, at most BPF_MAXINSNS instructions per filter, every filter acceptable to
 * the kernel (opcodes seccomp allows, jumps inside the filter, aligned loads inside
 * struct seccomp_data, scratch memory written before it is read, a RET at the end),
 * and the merged and notify forms exactly those of filters A and B.  Returns 0 with
 * *ret owning a new program, or -EINVAL / -ENOMEM with err saying what is wrong.
 */
int ls_seccomp_program_deserialize(const void *buf, size_t len, struct ls_seccomp_program **ret,
                                   struct ls_error *err);
