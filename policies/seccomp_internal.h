/*
 * seccomp_internal.h - the layout of a compiled seccomp program, shared by the
 * compiler (seccomp.c) and the user-space evaluator (bpf_eval.c).
 *
 * Private to the policies library: everything outside it sees struct
 * ls_seccomp_program as an opaque type (include/labstack/seccomp.h).
 */
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>

#include "labstack/seccomp.h"

/* What older <linux/seccomp.h> headers may lack. */
#ifndef SECCOMP_RET_ACTION_FULL
#define SECCOMP_RET_ACTION_FULL 0xffff0000U
#endif
#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#endif
#ifndef SECCOMP_RET_KILL_THREAD
#define SECCOMP_RET_KILL_THREAD 0x00000000U
#endif
#ifndef SECCOMP_RET_USER_NOTIF
#define SECCOMP_RET_USER_NOTIF 0x7fc00000U
#endif
#ifndef SECCOMP_RET_LOG
#define SECCOMP_RET_LOG 0x7ffc0000U
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/*
 * Four classic-BPF filters in plain memory.  deny and allow are what libseccomp
 * generated (see seccomp.h for what each holds); they define the program's meaning:
 * ls_seccomp_eval() runs them as the kernel runs a stack of two filters, allow
 * installed last.  merged is one filter with exactly that stack's verdict for every
 * input, notify is merged with every ERRNO verdict turned into USER_NOTIF (seccomp.c,
 * "Merging").  Programs built by ls_seccomp_build() or deserialised always have all
 * four (deny may be empty); a program written by hand (tests) may have allow and deny
 * only, and is then loaded as a stack and cannot notify.
 */
struct ls_seccomp_program {
    struct sock_fprog deny;   /* filter B; len 0 when the spec has no argument denies */
    struct sock_fprog allow;  /* filter A; always present */
    struct sock_fprog merged; /* A and B as one filter; len 0 only for hand-written programs */
    struct sock_fprog notify; /* merged with ERRNO -> USER_NOTIF; len 0 with merged */
    bool checked;             /* allow and deny passed seccomp_bpf_check(): eval skips it */
};

/* Check one filter the way the kernel does when it is installed (seccomp_check_filter
 * and bpf_check_classic): 0 or -EINVAL.  bpf_eval.c. */
int seccomp_bpf_check(const struct sock_fprog *fp);

/*
 * Build the one-filter form of the stack {b installed first, a last} into *ret (a new
 * malloc'd array): with notify, every ERRNO verdict of either becomes USER_NOTIF with
 * the same data.  a and b must not use scratch memory or RET A (libseccomp never
 * emits them): -EINVAL otherwise; -E2BIG when the result would exceed BPF_MAXINSNS;
 * -ENOMEM.  seccomp.c.
 */
int seccomp_bpf_merge(const struct sock_fprog *a, const struct sock_fprog *b, bool notify,
                      struct sock_fprog *ret);
