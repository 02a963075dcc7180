/*
 * manifest.c - what is in a workspace tree: paths, types, modes, sizes, SHA-256s.
 *
 * The tree is untrusted (an unpacked archive, or what a sandboxed program left behind).
 * The walk never follows a symlink and never opens anything but directories and
 * regular files: each name's type is taken with fstatat(AT_SYMLINK_NOFOLLOW) first, then
 * directories and files are opened with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|
 * RESOLVE_NO_MAGICLINKS), O_NOFOLLOW and O_NONBLOCK (a FIFO swapped in after the stat
 * cannot block us) and checked again with fstat.  Symlink targets are read with
 * readlinkat and recorded, never resolved.
 */
#include "labstack/workspace.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "labstack/macros.h"
#include "wsutil.h"

#define READ_BUF 65536

struct walk {
    const struct ls_unpack_limits *lim;
    struct ls_manifest *m;
    size_t cap;
    struct ls_error *err;
    unsigned char *buf;
};

__attribute__((format(printf, 4, 5))) static int walk_fail(struct walk *w, int errnum,
                                                           const char *path, const char *fmt, ...) {
    char what[192], name[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return ls_error_set(w->err, errnum, "manifest", "`%s`: %s", ws_escape(name, sizeof(name), path),
                        what);
}

static void entry_done(struct ls_manifest_entry *e) {
    free(e->path);
    free(e->target);
}

struct ls_manifest *ls_manifest_free(struct ls_manifest *m) {
    if (!m)
        return NULL;
    for (size_t i = 0; i < m->n; i++)
        entry_done(&m->entries[i]);
    free(m->entries);
    free(m);
    return NULL;
}

/* Append an entry that takes ownership of path. */
static int add_entry(struct walk *w, char *path, struct ls_manifest_entry **ret) {
    struct ls_manifest *m = w->m;
    if (m->n >= w->lim->max_files) {
        int r = walk_fail(w, E2BIG, path, "more than %llu entries",
                          (unsigned long long)w->lim->max_files);
        free(path);
        return r;
    }
    if (m->n == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 64;
        struct ls_manifest_entry *ne = realloc(m->entries, ncap * sizeof(*ne));
        if (!ne) {
            free(path);
            return -ENOMEM;
        }
        m->entries = ne, w->cap = ncap;
    }
    struct ls_manifest_entry *e = &m->entries[m->n++];
    *e = (struct ls_manifest_entry){.path = path};
    *ret = e;
    return 0;
}

static void reject(struct walk *w, struct ls_manifest_entry *e, const char *why) {
    if (!e->rejected)
        w->m->n_rejected++;
    e->rejected = why;
}

static void evp_ctx_freep(EVP_MD_CTX **c) {
    EVP_MD_CTX_free(*c);
}

static int hash_file(struct walk *w, int dirfd, const char *name, const struct stat *before,
                     struct ls_manifest_entry *e) {
    _cleanup_close_ int fd = ws_open_beneath(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
    struct stat st;
    if (fd < 0)
        return walk_fail(w, -fd, e->path, "open");
    if (fstat(fd, &st) < 0)
        return walk_fail(w, errno, e->path, "fstat");
    if (!S_ISREG(st.st_mode) || st.st_dev != before->st_dev || st.st_ino != before->st_ino)
        return walk_fail(w, EAGAIN, e->path, "changed while being read");
    if (st.st_nlink > 1) {
        reject(w, e, "hard link");
        return 0;
    }

    _cleanup_(evp_ctx_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        return walk_fail(w, ENOMEM, e->path, "SHA-256 context");
    uint64_t size = 0;
    for (;;) {
        ssize_t n = read(fd, w->buf, READ_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return walk_fail(w, errno, e->path, "read");
        if (n == 0)
            break;
        size += (uint64_t)n;
        if (size > w->lim->max_file_bytes)
            return walk_fail(w, EFBIG, e->path, "more than %llu bytes per file",
                             (unsigned long long)w->lim->max_file_bytes);
        if (w->m->bytes + (uint64_t)n > w->lim->max_bytes)
            return walk_fail(w, E2BIG, e->path, "more than %llu bytes in all",
                             (unsigned long long)w->lim->max_bytes);
        w->m->bytes += (uint64_t)n;
        if (EVP_DigestUpdate(ctx, w->buf, (size_t)n) != 1)
            return walk_fail(w, EIO, e->path, "SHA-256");
    }
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx, e->sha256, &len) != 1 || len != sizeof(e->sha256))
        return walk_fail(w, EIO, e->path, "SHA-256");
    e->has_sha256 = true;
    e->size = size;
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_dir(struct walk *w, int dirfd, const char *prefix, unsigned depth);

static int walk_name(struct walk *w, int dirfd, const char *prefix, const char *name,
                     unsigned depth) {
    char *path;
    if (asprintf(&path, "%s%s%s", prefix, *prefix ? "/" : "", name) < 0)
        return -ENOMEM;
    struct ls_manifest_entry *e = NULL;
    int r = add_entry(w, path, &e);
    if (r < 0)
        return r;

    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return walk_fail(w, errno, e->path, "stat");
    e->mode = st.st_mode & 07777;
    e->size = (uint64_t)st.st_size;
    if (S_ISREG(st.st_mode))
        e->type = LS_MANIFEST_FILE;
    else if (S_ISDIR(st.st_mode))
        e->type = LS_MANIFEST_DIR;
    else if (S_ISLNK(st.st_mode))
        e->type = LS_MANIFEST_SYMLINK;
    else
        e->type = LS_MANIFEST_OTHER;

    if (ws_has_control(name, strlen(name)))
        reject(w, e, "control character in name");
    if (strlen(e->path) > w->lim->max_path)
        reject(w, e, "path too long");

    switch (e->type) {
    case LS_MANIFEST_OTHER:
        reject(w, e,
               S_ISFIFO(st.st_mode)                         ? "fifo"
               : S_ISSOCK(st.st_mode)                       ? "socket"
               : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "device"
                                                            : "unknown type");
        return 0;
    case LS_MANIFEST_SYMLINK: {
        size_t cap = w->lim->max_path + 2;
        _cleanup_free_ char *t = malloc(cap);
        if (!t)
            return -ENOMEM;
        ssize_t n = readlinkat(dirfd, name, t, cap - 1);
        if (n < 0)
            return walk_fail(w, errno, e->path, "readlink");
        if ((size_t)n > w->lim->max_path) {
            reject(w, e, "symlink target too long");
            return 0;
        }
        t[n] = '\0';
        e->target = TAKE_PTR(t);
        return 0;
    }
    case LS_MANIFEST_DIR: {
        if (e->rejected)
            return 0;
        if (depth + 1 >= LS_WORKSPACE_MAX_DEPTH) {
            reject(w, e, "too deep");
            return 0;
        }
        _cleanup_close_ int fd =
            ws_open_beneath(dirfd, name, O_DIRECTORY | O_RDONLY | O_NONBLOCK, 0);
        if (fd < 0)
            return walk_fail(w, -fd, e->path, "open directory");
        /* e may move when the array grows: pass a copy of the path down. */
        _cleanup_free_ char *sub = strdup(e->path);
        if (!sub)
            return -ENOMEM;
        return walk_dir(w, fd, sub, depth + 1);
    }
    case LS_MANIFEST_FILE:
        if (e->rejected)
            return 0;
        if (st.st_nlink > 1) {
            reject(w, e, "hard link");
            return 0;
        }
        return hash_file(w, dirfd, name, &st, e);
    }
    return 0;
}

static int walk_dir(struct walk *w, int dirfd, const char *prefix, unsigned depth) {
    int dup_fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
    if (dup_fd < 0)
        return walk_fail(w, errno, prefix, "dup");
    DIR *d = fdopendir(dup_fd);
    if (!d) {
        int r = walk_fail(w, errno, prefix, "opendir");
        safe_close(dup_fd);
        return r;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int r = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n >= w->lim->max_files) {
            r = walk_fail(w, E2BIG, prefix, "more than %llu entries",
                          (unsigned long long)w->lim->max_files);
            break;
        }
        if ((r = ws_names_push(&names, &n, &cap, de->d_name)) < 0)
            break;
        errno = 0;
    }
    if (r == 0 && errno)
        r = walk_fail(w, errno, prefix, "readdir");
    closedir(d);
    if (r == 0 && n > 1)
        qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (r == 0)
            r = walk_name(w, dirfd, prefix, names[i], depth);
        free(names[i]);
    }
    free(names);
    return r;
}

static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const struct ls_manifest_entry *)a)->path,
                  ((const struct ls_manifest_entry *)b)->path);
}

int ls_workspace_manifest(int dirfd, const struct ls_unpack_limits *lim, struct ls_manifest **ret,
                          struct ls_error *err) {
    _cleanup_free_ unsigned char *buf = malloc(READ_BUF);
    struct ls_manifest *m = calloc(1, sizeof(*m));
    struct walk w = {.lim = lim, .m = m, .err = err, .buf = buf};
    if (!buf || !m) {
        free(m);
        return ls_error_set(err, ENOMEM, "manifest", "allocate");
    }
    _cleanup_close_ int fd = ws_open_beneath(dirfd, ".", O_DIRECTORY | O_RDONLY | O_NONBLOCK, 0);
    int r =
        fd < 0 ? ls_error_set(err, -fd, "manifest", "open top directory") : walk_dir(&w, fd, "", 0);
    if (r == -ENOMEM)
        ls_error_set(err, ENOMEM, "manifest", "allocate");
    if (r < 0) {
        ls_manifest_free(m);
        return r;
    }
    /* Each directory was read in order, but "a/b" must sort against "a-b" as a whole. */
    if (m->n > 1)
        qsort(m->entries, m->n, sizeof(*m->entries), cmp_entry);
    *ret = m;
    return 0;
}

/* A JSON string for untrusted bytes: as is when valid UTF-8, else bytes >= 0x80 as \xNN. */
static json_t *bytes_string(const char *s) {
    json_t *j = json_string(s);
    if (j)
        return j;
    size_t len = strlen(s);
    _cleanup_free_ char *esc = malloc(len * 4 + 1);
    if (!esc)
        return NULL;
    char *o = esc;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x80)
            o += sprintf(o, "\\x%02x", *p);
        else
            *o++ = (char)*p;
    }
    *o = '\0';
    return json_string(esc);
}

static const char *type_name(enum ls_manifest_type t) {
    switch (t) {
    case LS_MANIFEST_FILE:
        return "file";
    case LS_MANIFEST_DIR:
        return "dir";
    case LS_MANIFEST_SYMLINK:
        return "symlink";
    case LS_MANIFEST_OTHER:
        break;
    }
    return "other";
}

char *ls_manifest_to_json(const struct ls_manifest *m) {
    json_auto_t *root = json_object();
    json_t *arr = json_array();
    if (!root || !arr || json_object_set_new(root, "entries", arr) < 0)
        return NULL;
    for (size_t i = 0; i < m->n; i++) {
        const struct ls_manifest_entry *e = &m->entries[i];
        json_t *o = json_object();
        char mode[8], hex[65];
        snprintf(mode, sizeof(mode), "%04o", (unsigned)e->mode);
        if (!o || json_array_append_new(arr, o) < 0)
            return NULL;
        if (json_object_set_new(o, "path", bytes_string(e->path)) < 0 ||
            json_object_set_new(o, "type", json_string(type_name(e->type))) < 0 ||
            json_object_set_new(o, "mode", json_string(mode)) < 0 ||
            json_object_set_new(o, "size", json_integer((json_int_t)e->size)) < 0)
            return NULL;
        if (e->has_sha256) {
            for (size_t k = 0; k < sizeof(e->sha256); k++)
                snprintf(hex + 2 * k, 3, "%02x", e->sha256[k]);
            if (json_object_set_new(o, "sha256", json_string(hex)) < 0)
                return NULL;
        }
        if (e->target && json_object_set_new(o, "target", bytes_string(e->target)) < 0)
            return NULL;
        if (e->rejected && json_object_set_new(o, "rejected", json_string(e->rejected)) < 0)
            return NULL;
    }
    if (json_object_set_new(root, "bytes", json_integer((json_int_t)m->bytes)) < 0 ||
        json_object_set_new(root, "rejected", json_integer((json_int_t)m->n_rejected)) < 0)
        return NULL;
    return json_dumps(root, JSON_COMPACT);
}
