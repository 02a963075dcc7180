/*
 * mountutil.h - fd-based mount primitives used to build a sandbox root.
 *
 * Every path inside the new root is resolved relative to a held directory fd with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS), and every
 * mount is attached with move_mount() onto such an fd, so a symlink planted anywhere
 * cannot make a mount land outside the root.  All functions are async-signal-safe
 * (plain syscalls) and return >= 0 or -errno.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* openat2 beneath dirfd, no symlinks, no magic links; flags get O_CLOEXEC|O_NOFOLLOW. */
int mnt_open_beneath(int dirfd, const char *path, int flags, mode_t mode);

/* Create every missing directory of path beneath dirfd (mode 0755 for new ones) and
 * return an O_PATH fd of the last one. */
int mnt_mkdir_beneath(int dirfd, const char *path);

/* Create an empty regular file at path beneath dirfd (directories as needed), to be a
 * mount point for a file bind, and return an O_PATH fd of it. */
int mnt_mkfile_beneath(int dirfd, const char *path);

/* Create a symlink `path` -> `target` beneath dirfd (parents created as needed). */
int mnt_symlink_beneath(int dirfd, const char *path, const char *target);

/* Clone the mount tree at (dirfd, path) as a detached mount (OPEN_TREE_CLONE),
 * recursively.  path "" with dirfd means the mount dirfd refers to. */
int mnt_clone(int dirfd, const char *path);

/* Change mount attributes (MOUNT_ATTR_*) of the mount (tree, if recursive) mntfd refers to. */
int mnt_setattr(int mntfd, uint64_t set, uint64_t clear, bool recursive);

/* Create a new filesystem of fstype with "key=value" / "flag" options (NULL-terminated)
 * and return a detached mount fd with mount attributes attrs. */
int mnt_new_fs(const char *fstype, const char *const *options, uint64_t attrs);

/* Attach the detached mount mntfd onto the object targetfd refers to. */
int mnt_attach(int mntfd, int targetfd);

/* Attach mntfd at path beneath dirfd: opens the existing target (directory or file)
 * beneath dirfd and moves the mount onto it. */
int mnt_attach_at(int mntfd, int dirfd, const char *path);
