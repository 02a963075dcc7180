/*
 * caps.h - empty every capability set of the sandbox's processes.
 */
#pragma once

#include <sys/capability.h>

struct ls_error;

/* In the parent, before clone: allocate the empty capability state the child will
 * apply (libcap allocates; the child must not).  NULL on allocation failure. */
cap_t caps_prepare(void);

/* In the child, after the last privileged step: lock the securebits so root gains no
 * capability by execve, drop every capability from the bounding set, clear ambient
 * and inheritable, then set permitted and effective to empty.  Async-signal-safe
 * given a prepared cap_t. */
int caps_drop_all(cap_t empty, struct ls_error *err);
