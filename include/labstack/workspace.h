/*
 * workspace.h - bringing a client's files into a workspace directory, safely.
 *
 * ls_workspace_unpack() turns an untrusted tar / tar.gz / tar.zst into a directory tree
 * beneath a held directory fd; ls_workspace_manifest() describes an (untrusted) tree
 * without following a symlink or opening anything but directories and regular files;
 * ls_workspace_remove() deletes a tree without following symlinks.  Everything here is
 * unprivileged: the files belong to the caller, ownership in the archive is ignored.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "labstack/error.h"

/* Deepest path (in components) unpack creates and manifest descends into; it bounds the
 * number of directory fds held at once by the walkers. */
#define LS_WORKSPACE_MAX_DEPTH 128

struct ls_unpack_limits {
    uint64_t max_files;      /* entries of any kind, including implied parent directories */
    uint64_t max_bytes;      /* data bytes in all files together */
    uint64_t max_file_bytes; /* data bytes in one file */
    size_t max_path;         /* bytes in an entry name or a symlink target */
};

struct ls_unpack_stats {
    uint64_t files;
    uint64_t dirs; /* including parent directories the archive implied but did not list */
    uint64_t symlinks;
    uint64_t bytes;
};

/*
 * Read a tar archive (plain, gzip or zstd; nothing else) from archive_fd and create its
 * entries beneath dest_dirfd, a fresh empty directory.  Every entry is created relative
 * to a directory fd resolved with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|
 * RESOLVE_NO_MAGICLINKS); nothing is ever written through a symlink.
 *
 * Accepted: directories, regular files, symlinks (target kept as is, only its length is
 * checked).  Refused with -EINVAL and a message naming the entry and its index: absolute
 * names, `..` components, empty names, control characters, names longer than
 * lim->max_path or deeper than LS_WORKSPACE_MAX_DEPTH, hard links, devices, FIFOs,
 * sockets, an entry whose parent is a symlink or not a directory, a duplicate name.
 * Caps: -E2BIG past lim->max_files entries or lim->max_bytes total data bytes (counted as
 * the data is read), -EFBIG for one file over lim->max_file_bytes (by header or by data).
 * Modes keep only the permission bits (no setuid/setgid/sticky); directories get at
 * least 0700 for the owner.
 *
 * On failure it stops at once and returns -errno; what was created stays, and the
 * caller removes the directory (ls_workspace_remove).  ret (may be NULL) is set on
 * success only.
 */
int ls_workspace_unpack(int archive_fd, int dest_dirfd, const struct ls_unpack_limits *lim,
                        struct ls_unpack_stats *ret, struct ls_error *err);

/*
 * Remove parent_dirfd/name and, if it is a directory, everything beneath it, never
 * following a symlink (name is a single component).  A missing name is not an error.
 * 0 or -errno.
 */
int ls_workspace_remove(int parent_dirfd, const char *name);

enum ls_manifest_type {
    LS_MANIFEST_FILE,
    LS_MANIFEST_DIR,
    LS_MANIFEST_SYMLINK,
    LS_MANIFEST_OTHER, /* FIFO, socket, device: always rejected */
};

struct ls_manifest_entry {
    char *path; /* relative, '/'-separated, raw bytes of the names */
    enum ls_manifest_type type;
    mode_t mode;     /* permission bits (07777) */
    uint64_t size;   /* st_size */
    bool has_sha256; /* regular files that were read */
    unsigned char sha256[32];
    char *target;         /* symlinks: readlinkat() result, never followed */
    const char *rejected; /* NULL, or a static reason the entry is not acceptable */
};

struct ls_manifest {
    struct ls_manifest_entry *entries; /* sorted by path (strcmp) */
    size_t n;
    uint64_t bytes; /* data bytes hashed */
    size_t n_rejected;
};

/*
 * Describe the tree beneath dirfd.  Directories are opened with openat2(RESOLVE_BENEATH|
 * RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS) and O_NOFOLLOW; the type of every name is
 * taken with fstatat(AT_SYMLINK_NOFOLLOW) before anything is opened, so FIFOs, sockets
 * and devices are recorded as rejected without ever being opened; regular files are
 * opened O_NONBLOCK, checked again with fstat and hashed (SHA-256).  Names with control
 * characters, hard-linked files (st_nlink > 1), too-long paths or symlink targets and
 * too-deep directories are recorded as rejected.  -E2BIG past lim->max_files entries or
 * lim->max_bytes hashed bytes, -EFBIG for a file over lim->max_file_bytes.  *ret is set
 * on success only; free it with ls_manifest_free.
 */
int ls_workspace_manifest(int dirfd, const struct ls_unpack_limits *lim, struct ls_manifest **ret,
                          struct ls_error *err);

/* Free a manifest; accepts NULL, returns NULL. */
struct ls_manifest *ls_manifest_free(struct ls_manifest *m);

/*
 * The manifest as a JSON document (malloc'd, caller frees; NULL on allocation failure):
 * {"entries":[{"path":..,"type":"file"|"dir"|"symlink"|"other","mode":"0644","size":N,
 *   "sha256":"<hex>","target":..,"rejected":".."}],"bytes":N,"rejected":N}
 * Names that are not valid UTF-8 are written with each byte >= 0x80 as "\\xNN".
 */
char *ls_manifest_to_json(const struct ls_manifest *m);
