/*
 * seccomp_internal.h - the layout of a compiled seccomp program, shared by the
 * compiler (seccomp.c) and the user-space evaluator (bpf_eval.c).
 *
 * Private to the policies library: everything outside it sees struct
 * ls_seccomp_program as an opaque type (include/labstack/seccomp.h).
 */
#pragma once

#include <linux/filter.h>

#include "labstack/seccomp.h"

/* Two classic-BPF filters in plain memory (see seccomp.h for what each holds).  The
 * kernel evaluates the filter installed last first; ls_seccomp_load() installs deny
 * before allow. */
struct ls_seccomp_program {
    struct sock_fprog deny;  /* filter B; len 0 when the spec has no argument denies */
    struct sock_fprog allow; /* filter A; always present */
};
