/*
 * seccomp_probe.h - run one system call under a seccomp program in a forked child and
 * tell the parent what happened, for the unit tests that check compiled programs
 * against the running kernel (test_seccomp, test_seccomp_eval, test_policy).
 *
 * The child sets PR_SET_NO_NEW_PRIVS, loads the program with ls_seccomp_load() (no
 * privilege needed), makes the call and reports its return value and errno through a
 * pipe, or dies by a signal (SIGSYS for a KILL or TRAP verdict).  After the load the
 * child uses raw syscalls only, so that a small test program does not have to allow
 * what a sanitizer's interceptors would call.  Calls can be made through the x32 and
 * i386 entry points too, to check that other ABIs are killed.  x86_64 only.
 */
#pragma once

#include <stdbool.h>

struct ls_seccomp_program;

/* The x32 ABI marks its syscall numbers with this bit (__X32_SYSCALL_BIT). */
#define PROBE_X32_SYSCALL_BIT 0x40000000L

/* What the child's call did. */
struct probe_outcome {
    int signal; /* that ended the child; 0 if it exited and ret/err are valid */
    long ret;   /* return value of the call */
    int err;    /* errno after the call (only meaningful when ret == -1) */
};

/* The entry point a struct probe_call goes through. */
enum probe_abi {
    PROBE_NATIVE, /* syscall(nr, a...) */
    PROBE_X32,    /* syscall(nr | PROBE_X32_SYSCALL_BIT, a...) */
    PROBE_I386,   /* int $0x80 with eax = nr and no arguments */
};

/* One raw system call. */
struct probe_call {
    enum probe_abi abi;
    long nr;
    unsigned long a[6];
};

/* A pointer to a native / x32 / i386 call with these arguments, for one expression. */
#define CALL(nr_, ...) (&(const struct probe_call){.nr = (nr_), .a = {__VA_ARGS__}})
#define CALL_X32(nr_, ...) \
    (&(const struct probe_call){.abi = PROBE_X32, .nr = (nr_), .a = {__VA_ARGS__}})
#define CALL_I386(nr_) (&(const struct probe_call){.abi = PROBE_I386, .nr = (nr_)})

/* What a child runs after loading the program: the return value of one call, with
 * errno set as syscall() sets it.  It must make no library call that a sanitizer
 * intercepts. */
typedef long (*probe_fn)(const void *arg);

/*
 * Fork; in the child set PR_SET_NO_NEW_PRIVS, reset SIGSYS to its default action (so a
 * TRAP verdict ends the child as it would a program without a handler), load prog
 * (unless NULL: a baseline without any filter) and run fn(arg).  Returns the signal
 * that ended the child, or fn's return value and errno.  Fails the current test if
 * the child cannot be set up, the program does not load or the report is lost.
 */
struct probe_outcome seccomp_probe_run(const struct ls_seccomp_program *prog, probe_fn fn,
                                       const void *arg);

/* A probe_fn: makes the struct probe_call that arg points to.  An i386 call returns -1
 * and sets errno on failure, like syscall(). */
long seccomp_probe_syscall(const void *arg);

/* seccomp_probe_run(prog, seccomp_probe_syscall, call). */
struct probe_outcome seccomp_probe_call(const struct ls_seccomp_program *prog,
                                        const struct probe_call *call);

/* Whether this kernel runs i386 system calls: false if int $0x80 kills the process
 * (no ia32 emulation, nothing to filter).  Fails the current test if getpid through
 * int $0x80 neither kills nor returns a pid. */
bool seccomp_probe_have_i386(void);

/*
 * Assertions on one probe; on failure they report `what` (the call as written) at
 * file:line of the caller.  expect_errno: the call failed with exactly errno `expected`,
 * no signal.  expect_ok: it returned >= 0, no signal; returns that value.
 * expect_sigsys: the child was killed by SIGSYS.
 */
void seccomp_probe_expect_errno_at(const struct ls_seccomp_program *prog, probe_fn fn,
                                   const void *arg, int expected, const char *what,
                                   const char *file, int line);
long seccomp_probe_expect_ok_at(const struct ls_seccomp_program *prog, probe_fn fn, const void *arg,
                                const char *what, const char *file, int line);
void seccomp_probe_expect_sigsys_at(const struct ls_seccomp_program *prog, probe_fn fn,
                                    const void *arg, const char *what, const char *file, int line);

/* The assertions for a struct probe_call (usually CALL(...)) ... */
#define expect_errno(prog, call, e)                                                            \
    seccomp_probe_expect_errno_at((prog), seccomp_probe_syscall, (call), (e), #call, __FILE__, \
                                  __LINE__)
#define expect_ok(prog, call) \
    seccomp_probe_expect_ok_at((prog), seccomp_probe_syscall, (call), #call, __FILE__, __LINE__)
#define expect_sigsys(prog, call) \
    seccomp_probe_expect_sigsys_at((prog), seccomp_probe_syscall, (call), #call, __FILE__, __LINE__)

/* ... and for any probe_fn. */
#define expect_ok_fn(prog, fn, arg) \
    seccomp_probe_expect_ok_at((prog), (fn), (arg), #fn, __FILE__, __LINE__)
