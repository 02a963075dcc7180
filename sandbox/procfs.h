/*
 * procfs.h - a fresh /proc for the sandbox, with Docker's masked and read-only paths.
 */
#pragma once

struct ls_error;

/* Mount a new procfs at <rootfd>/proc (the caller is pid 1 of the new pid namespace,
 * so it shows only the sandbox's processes), mask the paths that leak host state and
 * make the kernel-tunable ones read-only.  Runs in the child; async-signal-safe. */
int procfs_setup(int rootfd, struct ls_error *err);
