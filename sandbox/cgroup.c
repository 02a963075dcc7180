/*
 * cgroup.c - the cgroup front: version detection, the manager, dispatch to the
 * backend, stale cleanup, and the small file helpers both backends use.
 *
 * Detection: /sys/fs/cgroup is a cgroup2 filesystem -> v2 (unified).  Otherwise it
 * is a tmpfs of v1 hierarchies (possibly "hybrid", with a cgroup2 mount at
 * /sys/fs/cgroup/unified that holds no controllers, as on this project's CI hosts)
 * -> v1.  Both backends are first-class; the choice is made once per process.
 *
 * Why this is safe: every path is relative to a directory fd of the cgroup
 * filesystem opened at start; names of children are ours ("sb-<uid>") and checked;
 * nothing from a sandbox is ever used as a path here.
 */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_backend.h"
#include "labstack/error.h"
#include "labstack/macros.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

int cg_write(int dirfd, const char *file, const char *value) {
    int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    size_t len = strlen(value);
    ssize_t n = write(fd, value, len);
    int r = n < 0 ? -errno : ((size_t)n == len ? 0 : -EIO);
    close(fd);
    return r;
}

int cg_write_u64(int dirfd, const char *file, uint64_t v) {
    char buf[32];
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    return cg_write(dirfd, file, buf);
}

ssize_t cg_read(int dirfd, const char *file, char *buf, size_t size) {
    int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0) {
            int e = errno;
            close(fd);
            return -e;
        }
        if (n == 0 || len + (size_t)n >= size - 1) {
            len += (size_t)n;
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

int cg_read_u64(int dirfd, const char *file, uint64_t *ret) {
    char buf[64], *end;
    ssize_t n = cg_read(dirfd, file, buf, sizeof(buf));
    if (n < 0)
        return (int)n;
    if (strncmp(buf, "max", 3) == 0) {
        *ret = UINT64_MAX;
        return 0;
    }
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || end == buf)
        return -EINVAL;
    *ret = v;
    return 0;
}

int cg_read_key(int dirfd, const char *file, const char *key, uint64_t *ret) {
    char buf[4096];
    size_t klen = strlen(key);
    ssize_t n = cg_read(dirfd, file, buf, sizeof(buf));
    if (n < 0)
        return (int)n;
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
            *ret = strtoull(line + klen + 1, NULL, 10);
            return 0;
        }
    }
    return -ENOENT;
}

int cg_open_dir(int dirfd, const char *path, bool create) {
    if (create && mkdirat(dirfd, path, 0755) < 0 && errno != EEXIST)
        return -errno;
    int fd = openat(dirfd, path, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    return fd < 0 ? -errno : fd;
}

int cg_wait_empty(int dirfd) {
    /* The processes were SIGKILLed; exit takes microseconds to milliseconds.  v1 has no
     * notification for "empty" short of a release agent, so this is a bounded wait
     * (2 s) used only at teardown, never while a sandbox runs. */
    for (int i = 0; i < 2000; i++) {
        char buf[64];
        ssize_t n = cg_read(dirfd, "cgroup.procs", buf, sizeof(buf));
        if (n == 0 || n == -ENOENT)
            return 0;
        if (n < 0)
            return (int)n;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return -EBUSY;
}

int cg_kill_procs(int dirfd) {
    char buf[65536];
    ssize_t n = cg_read(dirfd, "cgroup.procs", buf, sizeof(buf));
    if (n < 0)
        return (int)n;
    for (char *p = buf; *p;) {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        if (pid > 0)
            kill((pid_t)pid, SIGKILL);
        p = *end ? end + 1 : end;
    }
    return 0;
}

int cg_rmdir(int parentfd, const char *name) {
    for (int i = 0; i < 2000; i++) {
        if (unlinkat(parentfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY)
            return -errno;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return -EBUSY;
}

static int detect_version(void) {
    struct statfs fs;
    if (statfs(CGROUP_ROOT, &fs) < 0)
        return -errno;
    if (fs.f_type == CGROUP2_SUPER_MAGIC)
        return 2;
    if (fs.f_type == TMPFS_MAGIC)
        return 1;
    return -ENOTSUP;
}

int cgroup_manager_open(const char *parent, struct cgroup_manager **ret, struct ls_error *err) {
    _cleanup_free_ struct cgroup_manager *m = calloc(1, sizeof(*m));
    int v, r;

    if (!m)
        return ls_error_set(err, ENOMEM, "cgroup", "allocate the cgroup manager");
    if (!parent || !*parent || parent[0] == '/' || strstr(parent, "..") ||
        strlen(parent) >= sizeof(m->parent))
        return ls_error_set(err, EINVAL, "cgroup",
                            "cgroup parent \"%s\" must be a relative path without \"..\"",
                            parent ? parent : "");
    ls_strlcpy(m->parent, parent, sizeof(m->parent));
    m->v2_parent = -EBADF;
    for (int i = 0; i < CG_V1_N; i++)
        m->v1_parent[i] = -EBADF;

    v = detect_version();
    if (v < 0)
        return ls_error_set(err, -v, "cgroup", "no cgroup filesystem at " CGROUP_ROOT);
    m->version = v;
    m->ops = v == 2 ? &cgroup_v2_backend : &cgroup_v1_backend;
    r = m->ops->manager_init(m, err);
    if (r < 0) {
        m->ops->manager_done(m);
        return r;
    }
    *ret = TAKE_PTR(m);
    return 0;
}

struct cgroup_manager *cgroup_manager_free(struct cgroup_manager *m) {
    if (m) {
        m->ops->manager_done(m);
        free(m);
    }
    return NULL;
}

int cgroup_manager_version(const struct cgroup_manager *m) {
    return m->version;
}

int cgroup_for_each_child(struct cgroup_manager *m, int (*fn)(const char *name, void *ud),
                          void *ud, struct ls_error *err) {
    char (*names)[CG_NAME_MAX] = NULL;
    size_t n = 0, cap = 0;
    int r = 0;
    int fd = openat(m->ops->parent_fd(m), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return ls_error_set(err, e, "cgroup", "list %s", m->parent);
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_type != DT_DIR || de->d_name[0] == '.' || strlen(de->d_name) >= CG_NAME_MAX)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            void *nn = reallocarray(names, cap, sizeof(*names));
            if (!nn) {
                r = ls_error_set(err, ENOMEM, "cgroup", "list %s", m->parent);
                goto out;
            }
            names = nn;
        }
        ls_strlcpy(names[n++], de->d_name, CG_NAME_MAX);
    }
    for (size_t i = 0; i < n && r >= 0; i++)
        r = fn(names[i], ud);
out:
    closedir(d);
    free(names);
    return r < 0 ? r : 0;
}

int cgroup_remove(struct cgroup_manager *m, const char *name, struct ls_error *err) {
    if (!*name || strchr(name, '/') || name[0] == '.')
        return ls_error_set(err, EINVAL, "cgroup", "bad cgroup name \"%s\"", name);
    return m->ops->remove(m, name, err);
}

int cgroup_create(struct cgroup_manager *m, const char *name, const struct cgroup_limits *l,
                  struct cgroup **ret, struct ls_error *err) {
    _cleanup_free_ struct cgroup *cg = calloc(1, sizeof(*cg));
    if (!cg)
        return ls_error_set(err, ENOMEM, "cgroup", "allocate a cgroup");
    if (!*name || strchr(name, '/') || name[0] == '.' || strlen(name) >= sizeof(cg->name))
        return ls_error_set(err, EINVAL, "cgroup", "bad cgroup name \"%s\"", name);
    cg->mgr = m;
    ls_strlcpy(cg->name, name, sizeof(cg->name));
    cg->v2_fd = -EBADF;
    for (int i = 0; i < CG_V1_N; i++)
        cg->v1_fd[i] = -EBADF;
    int r = m->ops->create(cg, l, err);
    if (r < 0) {
        m->ops->remove(m, name, NULL);
        for (int i = 0; i < CG_V1_N; i++)
            safe_close(cg->v1_fd[i]);
        safe_close(cg->v2_fd);
        return r;
    }
    *ret = TAKE_PTR(cg);
    return 0;
}

int cgroup_clone_fd(const struct cgroup *cg) {
    return cg->mgr->version == 2 ? cg->v2_fd : -1;
}

int cgroup_attach(struct cgroup *cg, pid_t pid, struct ls_error *err) {
    return cg->mgr->ops->attach(cg, pid, err);
}

int cgroup_read_usage(struct cgroup *cg, struct cgroup_usage *ret) {
    *ret = (struct cgroup_usage){0};
    return cg->mgr->ops->usage(cg, ret);
}

int cgroup_pids_refused(struct cgroup *cg, uint64_t *ret) {
    int dfd = cg->mgr->version == 2 ? cg->v2_fd : cg->v1_fd[CG_V1_PIDS];
    return cg_read_key(dfd, "pids.events", "max", ret);
}

int cgroup_cpu_usage_us(struct cgroup *cg, uint64_t *ret) {
    return cg->mgr->ops->cpu_us(cg, ret);
}

int cgroup_destroy(struct cgroup *cg, struct ls_error *err) {
    if (!cg)
        return 0;
    int r = cg->mgr->ops->remove(cg->mgr, cg->name, err);
    for (int i = 0; i < CG_V1_N; i++)
        safe_close(cg->v1_fd[i]);
    safe_close(cg->v2_fd);
    free(cg);
    return r;
}
