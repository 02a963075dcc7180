/*
 * rootfs.h - the sandbox's root filesystem and the switch into it.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "labstack/sandbox.h"

#define ROOTFS_MAX_BINDS 64

struct rootfs_config {
    const struct ls_bind *binds;
    size_t n_binds;
    int workspace_mnt;     /* detached, id-mapped mount of the workspace, or -1 for a tmpfs */
    uint64_t work_size;    /* tmpfs /work size when there is no workspace */
    uint64_t tmp_size, tmp_inodes;
};

/* Check binds before any namespace exists: absolute destinations, no "..", not under
 * /proc, /dev or at /; at most ROOTFS_MAX_BINDS.  Returns 0 or -EINVAL with err. */
int rootfs_validate_binds(const struct ls_bind *binds, size_t n, struct ls_error *err);

/* In the child (new mount and user namespace, CAP_SYS_ADMIN there): build the new root
 * on a fresh tmpfs, pivot_root into it and detach the old root.  Async-signal-safe. */
int rootfs_setup(const struct rootfs_config *c, struct ls_error *err);
