/*
 * unpack.c - an untrusted tar archive into a workspace directory, and removing it again.
 *
 * libarchive only parses here (tar formats; gzip and zstd filters, built in - never an
 * external program).  archive_write_disk is not used: it works on path strings.  Every
 * entry is instead created by us relative to a directory fd that was resolved with
 * openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS), with mkdirat,
 * openat(O_CREAT|O_EXCL|O_NOFOLLOW) or symlinkat.  Why that is safe: no resolution can
 * leave dest_dirfd or pass a symlink, and the last component is created exclusively, so
 * an archive that plants `link -> /` and then writes `link/etc/x`, or replaces a file by
 * a symlink, gets an error instead of a write outside.  Caps on entries and on data bytes
 * (counted as they are read, not trusted from headers) bound what an archive can cost.
 */
#include "labstack/workspace.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "labstack/fileio.h"
#include "labstack/macros.h"
#include "wsutil.h"

#define DATA_BUF 65536

struct unpack {
    const struct ls_unpack_limits *lim;
    struct ls_unpack_stats st;
    uint64_t entries; /* listed entries plus implied directories */
    size_t index;     /* of the entry being processed, from 0 */
    const char *name; /* its raw name */
    struct ls_error *err;
    char *buf; /* DATA_BUF bytes */
};

static void archive_freep(struct archive **a) {
    if (*a)
        archive_read_free(*a);
}

/* Fail the current entry: "entry <index> `<name>`: <what>[: <strerror>]". */
__attribute__((format(printf, 3, 4))) static int entry_fail(struct unpack *u, int errnum,
                                                            const char *fmt, ...) {
    char what[192], name[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return ls_error_set(u->err, errnum, "unpack", "entry %zu `%s`: %s", u->index,
                        ws_escape(name, sizeof(name), u->name ? u->name : ""), what);
}

static int count_entry(struct unpack *u) {
    if (++u->entries > u->lim->max_files)
        return entry_fail(u, E2BIG, "more than %llu entries",
                          (unsigned long long)u->lim->max_files);
    return 0;
}

/* Split a name into components in place: skips empty and "." components, refuses
 * absolute names, "..", control characters, and too long or too deep names.
 * Returns the number of components (0 for "./"), or -EINVAL. */
static int split_name(struct unpack *u, char *name, char **comps) {
    size_t len = strlen(name), n = 0;
    if (len == 0)
        return entry_fail(u, EINVAL, "empty name");
    if (len > u->lim->max_path)
        return entry_fail(u, EINVAL, "name longer than %zu bytes", u->lim->max_path);
    if (ws_has_control(name, len))
        return entry_fail(u, EINVAL, "control character in name");
    if (name[0] == '/')
        return entry_fail(u, EINVAL, "absolute name");
    for (char *save = NULL, *c = strtok_r(name, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0)
            return entry_fail(u, EINVAL, "`..` component in name");
        if (n == LS_WORKSPACE_MAX_DEPTH)
            return entry_fail(u, EINVAL, "more than %d components", LS_WORKSPACE_MAX_DEPTH);
        comps[n++] = c;
    }
    return (int)n;
}

/* Open the directory that will hold comps[n], creating missing parents (0755, counted
 * as entries).  A parent that is a symlink or not a directory is refused. */
static int open_parent(struct unpack *u, int dest, char **comps, size_t n) {
    _cleanup_close_ int cur = ws_open_beneath(dest, ".", O_DIRECTORY | O_RDONLY, 0);
    if (cur < 0)
        return entry_fail(u, -cur, "open destination");
    for (size_t i = 0; i < n; i++) {
        int fd = ws_open_beneath(cur, comps[i], O_DIRECTORY | O_RDONLY, 0);
        if (fd == -ENOENT) {
            int r = count_entry(u);
            if (r < 0)
                return r;
            if (mkdirat(cur, comps[i], 0700) < 0)
                return entry_fail(u, errno, "create parent `%s`", comps[i]);
            fd = ws_open_beneath(cur, comps[i], O_DIRECTORY | O_RDONLY, 0);
            if (fd >= 0) {
                (void)fchmod(fd, 0755);
                u->st.dirs++;
            }
        }
        if (fd == -ELOOP || fd == -ENOTDIR)
            return entry_fail(u, EINVAL, "parent `%s` is a symlink or not a directory", comps[i]);
        if (fd < 0)
            return entry_fail(u, -fd, "open parent `%s`", comps[i]);
        closep(&cur);
        cur = fd;
    }
    return TAKE_FD(cur);
}

static int make_dir(struct unpack *u, int parent, const char *leaf, mode_t mode) {
    bool created = mkdirat(parent, leaf, 0700) == 0;
    if (!created && errno != EEXIST)
        return entry_fail(u, errno, "mkdir");
    /* An existing directory (implied by an earlier entry, or listed twice) is fine; an
     * existing file or symlink is a duplicate. */
    _cleanup_close_ int fd = ws_open_beneath(parent, leaf, O_DIRECTORY | O_RDONLY, 0);
    if (fd == -ELOOP || fd == -ENOTDIR)
        return entry_fail(u, EINVAL, "duplicate entry (exists and is not a directory)");
    if (fd < 0)
        return entry_fail(u, -fd, "open directory");
    if (fchmod(fd, (mode & 0777) | 0700) < 0)
        return entry_fail(u, errno, "chmod");
    if (created)
        u->st.dirs++;
    return 0;
}

static int make_file(struct unpack *u, struct archive *a, struct archive_entry *e, int parent,
                     const char *leaf) {
    const struct ls_unpack_limits *lim = u->lim;
    if (archive_entry_size_is_set(e) && archive_entry_size(e) >= 0 &&
        (uint64_t)archive_entry_size(e) > lim->max_file_bytes)
        return entry_fail(u, EFBIG, "header says %lld bytes, more than %llu per file",
                          (long long)archive_entry_size(e),
                          (unsigned long long)lim->max_file_bytes);

    _cleanup_close_ int fd =
        openat(parent, leaf, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        return entry_fail(u, EINVAL, "duplicate entry (name exists)");
    if (fd < 0)
        return entry_fail(u, errno, "create file");

    uint64_t size = 0;
    for (;;) {
        la_ssize_t n = archive_read_data(a, u->buf, DATA_BUF);
        if (n == 0)
            break;
        if (n < 0)
            return entry_fail(u, EINVAL, "read data: %s", archive_error_string(a));
        /* Counted before writing: a lying or sparse header costs at most one buffer. */
        size += (uint64_t)n;
        if (size > lim->max_file_bytes)
            return entry_fail(u, EFBIG, "more than %llu bytes per file",
                              (unsigned long long)lim->max_file_bytes);
        if (u->st.bytes + (uint64_t)n > lim->max_bytes)
            return entry_fail(u, E2BIG, "more than %llu bytes in all",
                              (unsigned long long)lim->max_bytes);
        u->st.bytes += (uint64_t)n;
        int r = ls_write_all(fd, u->buf, (size_t)n);
        if (r < 0)
            return entry_fail(u, -r, "write");
    }
    /* Permission bits only: no setuid, setgid or sticky bit survives. */
    if (fchmod(fd, archive_entry_perm(e) & 0777) < 0)
        return entry_fail(u, errno, "chmod");
    u->st.files++;
    return 0;
}

static int make_symlink(struct unpack *u, struct archive_entry *e, int parent, const char *leaf) {
    const char *target = archive_entry_symlink(e);
    if (!target || !*target)
        return entry_fail(u, EINVAL, "symlink without a target");
    if (strlen(target) > u->lim->max_path)
        return entry_fail(u, EINVAL, "symlink target longer than %zu bytes", u->lim->max_path);
    /* The target is not checked: nothing here or later resolves through a symlink. */
    if (symlinkat(target, parent, leaf) < 0) {
        if (errno == EEXIST)
            return entry_fail(u, EINVAL, "duplicate entry (name exists)");
        return entry_fail(u, errno, "symlink");
    }
    u->st.symlinks++;
    return 0;
}

static int unpack_entry(struct unpack *u, struct archive *a, struct archive_entry *e, int dest) {
    int r = count_entry(u);
    if (r < 0)
        return r;
    if (!u->name)
        return entry_fail(u, EINVAL, "name cannot be read");
    if (archive_entry_hardlink(e))
        return entry_fail(u, EINVAL, "hard links are not accepted");

    mode_t type = archive_entry_filetype(e);
    switch (type) {
    case AE_IFREG:
    case AE_IFDIR:
    case AE_IFLNK:
        break;
    case AE_IFCHR:
    case AE_IFBLK:
        return entry_fail(u, EINVAL, "device nodes are not accepted");
    case AE_IFIFO:
        return entry_fail(u, EINVAL, "FIFOs are not accepted");
    case AE_IFSOCK:
        return entry_fail(u, EINVAL, "sockets are not accepted");
    default:
        return entry_fail(u, EINVAL, "unsupported entry type %#o", (unsigned)type);
    }

    _cleanup_free_ char *copy = strdup(u->name);
    char *comps[LS_WORKSPACE_MAX_DEPTH];
    if (!copy)
        return entry_fail(u, ENOMEM, "copy name");
    int n = split_name(u, copy, comps);
    if (n < 0)
        return n;
    if (n == 0) {
        if (type == AE_IFDIR) /* "./": the destination itself */
            return 0;
        return entry_fail(u, EINVAL, "empty name");
    }

    _cleanup_close_ int parent = open_parent(u, dest, comps, (size_t)n - 1);
    if (parent < 0)
        return parent;
    const char *leaf = comps[n - 1];
    if (type == AE_IFDIR)
        return make_dir(u, parent, leaf, archive_entry_perm(e));
    if (type == AE_IFLNK)
        return make_symlink(u, e, parent, leaf);
    return make_file(u, a, e, parent, leaf);
}

int ls_workspace_unpack(int archive_fd, int dest_dirfd, const struct ls_unpack_limits *lim,
                        struct ls_unpack_stats *ret, struct ls_error *err) {
    _cleanup_(archive_freep) struct archive *a = archive_read_new();
    _cleanup_free_ char *buf = malloc(DATA_BUF);
    struct unpack u = {.lim = lim, .err = err, .buf = buf};
    int r;

    if (!a || !buf)
        return ls_error_set(err, ENOMEM, "unpack", "allocate reader");
    /* ARCHIVE_WARN means "via an external program": refuse rather than exec gzip/zstd. */
    if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
        archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
        archive_read_support_filter_zstd(a) != ARCHIVE_OK)
        return ls_error_set(err, ENOTSUP, "unpack", "libarchive without tar/gzip/zstd: %s",
                            archive_error_string(a));
    if (archive_read_open_fd(a, archive_fd, DATA_BUF) != ARCHIVE_OK)
        return ls_error_set(err, EINVAL, "unpack", "open archive: %s", archive_error_string(a));

    for (;; u.index++) {
        struct archive_entry *e;
        u.name = NULL;
        r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
            return ls_error_set(err, EINVAL, "unpack", "entry %zu: bad archive: %s", u.index,
                                archive_error_string(a));
        u.name = archive_entry_pathname(e);
        r = unpack_entry(&u, a, e, dest_dirfd);
        if (r < 0)
            return r;
    }
    if (ret)
        *ret = u.st;
    return 0;
}

/* Names in dirfd except "." and "..", read in full before anything is removed. */
static int list_names(int dirfd, char ***ret, size_t *ret_n) {
    int dup_fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
    if (dup_fd < 0)
        return -errno;
    DIR *d = fdopendir(dup_fd);
    if (!d) {
        safe_close(dup_fd);
        return -errno;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int r = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if ((r = ws_names_push(&names, &n, &cap, de->d_name)) < 0)
            break;
        errno = 0;
    }
    if (r == 0 && errno)
        r = -errno;
    closedir(d);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return r;
    }
    *ret = names;
    *ret_n = n;
    return 0;
}

int ls_workspace_remove(int parent_dirfd, const char *name) {
    int fd = ws_open_beneath(parent_dirfd, name, O_DIRECTORY | O_RDONLY | O_NONBLOCK, 0);
    if (fd == -EACCES) {
        /* Our own directory with its permissions taken away; AT_SYMLINK_NOFOLLOW so a
         * swapped-in symlink is never followed. */
        if (fchmodat(parent_dirfd, name, 0700, AT_SYMLINK_NOFOLLOW) == 0)
            fd = ws_open_beneath(parent_dirfd, name, O_DIRECTORY | O_RDONLY | O_NONBLOCK, 0);
    }
    if (fd == -ENOENT)
        return 0;
    if (fd == -ENOTDIR || fd == -ELOOP) {
        /* A file, a symlink (removed, never followed), a FIFO, ... */
        if (unlinkat(parent_dirfd, name, 0) < 0 && errno != ENOENT)
            return -errno;
        return 0;
    }
    if (fd < 0)
        return fd;

    _cleanup_close_ int dfd = fd;
    char **names = NULL;
    size_t n = 0;
    (void)fchmod(dfd, 0700); /* so that its entries can be listed and unlinked */
    int r = list_names(dfd, &names, &n);
    for (size_t i = 0; i < n; i++) {
        int q = ls_workspace_remove(dfd, names[i]);
        if (q < 0 && r == 0)
            r = q;
        free(names[i]);
    }
    free(names);
    if (r < 0)
        return r;
    if (unlinkat(parent_dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}
