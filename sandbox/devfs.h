/*
 * devfs.h - the sandbox's minimal /dev.
 */
#pragma once

#include <stdint.h>

struct ls_error;

/* Build <rootfd>/dev: a small read-only tmpfs holding binds of the host's null, zero,
 * full, random, urandom and tty nodes, a new devpts instance at /dev/pts with
 * /dev/ptmx, a tmpfs /dev/shm of shm_size bytes, and the fd/stdin/stdout/stderr
 * links.  Runs in the child before pivot_root; async-signal-safe. */
int devfs_setup(int rootfd, uint64_t shm_size, struct ls_error *err);
