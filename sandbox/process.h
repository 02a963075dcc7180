/*
 * process.h - process hygiene of the sandbox: fds, rlimits, environment, exec.
 */
#pragma once

#include <stddef.h>

#include "labstack/sandbox.h"

/* Parent side: the environment the command will get -- spec->envp, or the minimal
 * default (PATH, HOME=/tmp, LANG=C.UTF-8).  Never the caller's.  Validates every
 * entry ("NAME=value", NAME non-empty without '=').  Returns a NULL-terminated
 * array of pointers into spec/static memory (free only the array) or NULL with err. */
char **proc_build_env(const struct ls_sandbox_spec *spec, struct ls_error *err);

/* Child side: make fds[i] become fd i for i < n (a value < 0 means /dev/null for
 * i < 3), then close every other fd.  Async-signal-safe. */
int proc_arrange_fds(const int *fds, int n, struct ls_error *err);

/* Child side: apply rlimits (core always 0).  Async-signal-safe. */
int proc_set_rlimits(const struct ls_rlimits *rl, struct ls_error *err);

/* Child side: execve argv[0], looked up in envp's PATH when it has no '/'.  Returns
 * only on failure, with err set (step "exec"); err->code ENOENT means "not found". */
int proc_exec(const char *const *argv, char *const *envp, struct ls_error *err);
