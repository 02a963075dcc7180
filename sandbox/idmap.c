/*
 * idmap.c - one unprivileged host uid per concurrently running sandbox.
 *
 * Two sandboxes that shared a host uid could signal, ptrace-attach (were it allowed)
 * or fill each other's RLIMIT_NPROC, so every running sandbox gets its own.  A slot is
 * a file `<lock_dir>/<uid>` held with flock(LOCK_EX): the lock is released by the
 * kernel when its holder exits, even on SIGKILL, so a crash never leaks a slot and
 * several independent processes (CLI runs, a supervisor) share one range safely.
 * The search starts at a random slot so that concurrent callers rarely collide.
 * A released slot's file is unlinked (while still locked), so nothing accumulates;
 * a taker checks after flock() that the name still refers to the inode it locked,
 * which closes the race with a concurrent unlink + re-create.
 *
 * The slot is also the lease on everything else named after the uid (the cgroup
 * "sb-<uid>"): whoever holds the slot owns those, so a cleanup that could take the
 * slot of a crashed holder may remove its cgroup without racing a live sandbox.
 *
 * Why this is safe: the uids come from a range the operator configured and that
 * no real account uses (default 1000000-1065535, above any /etc/subuid range the
 * Debian tools hand out by default); uid 0 is refused as a base.
 */
#include "idmap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "labstack/macros.h"
#include "labstack/parse.h"

#define DEFAULT_BASE 1000000u
#define DEFAULT_COUNT 65536u
#define DEFAULT_LOCK_DIR "/run/labstack/uids"

/* mkdir -p for the lock directory (a host path chosen by the operator). */
static int mkdir_parents(const char *path, mode_t mode) {
    char buf[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(buf))
        return -ENAMETOOLONG;
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int idmap_range_resolve(struct ls_idmap_range *r, struct ls_error *err) {
    if (!r->base)
        r->base = DEFAULT_BASE;
    if (!r->count)
        r->count = DEFAULT_COUNT;
    if (!r->lock_dir)
        r->lock_dir = DEFAULT_LOCK_DIR;
    if (r->base < 65536 || (uint64_t)r->base + r->count > 0xfffffffeull)
        return ls_error_set(err, EINVAL, "idmap",
                            "uid range %u+%u is not an unprivileged range (base must be >= 65536)",
                            r->base, r->count);
    if (r->lock_dir[0] != '/')
        return ls_error_set(err, EINVAL, "idmap", "lock directory \"%s\" is not absolute",
                            r->lock_dir);
    return 0;
}

static int open_lock_dir(const struct ls_idmap_range *r, struct ls_error *err) {
    int rc = mkdir_parents(r->lock_dir, 0700);
    if (rc < 0)
        return ls_error_set(err, -rc, "idmap", "create %s", r->lock_dir);
    int dfd = open(r->lock_dir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (dfd < 0)
        return ls_error_set(err, errno, "idmap", "open %s", r->lock_dir);
    return dfd;
}

/* Try to take slot id: 1 taken (ret filled, dfd duplicated into it), 0 busy, -errno. */
static int try_slot(int dfd, uid_t id, struct idmap_slot *ret) {
    char name[16];
    struct stat held, named;

    snprintf(name, sizeof(name), "%u", (unsigned)id);
    int fd = openat(dfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        close(fd);
        return e == EWOULDBLOCK ? 0 : -e;
    }
    if (fstat(fd, &held) < 0 || fstatat(dfd, name, &named, AT_SYMLINK_NOFOLLOW) < 0 ||
        held.st_ino != named.st_ino || held.st_dev != named.st_dev) {
        close(fd); /* unlinked by its previous holder meanwhile: not ours */
        return 0;
    }
    int dup = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
    if (dup < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    ret->host_id = id;
    ret->lock_fd = fd;
    ret->dir_fd = dup;
    return 1;
}

int idmap_acquire(const struct ls_idmap_range *r, struct idmap_slot *ret, struct ls_error *err) {
    unsigned start = 0;
    _cleanup_close_ int dfd = open_lock_dir(r, err);
    if (dfd < 0)
        return dfd;
    if (getrandom(&start, sizeof(start), GRND_NONBLOCK) != sizeof(start))
        start = (unsigned)getpid();
    for (unsigned i = 0; i < r->count; i++) {
        uid_t id = r->base + (start + i) % r->count;
        int rc = try_slot(dfd, id, ret);
        if (rc > 0)
            return 0;
        if (rc < 0)
            return ls_error_set(err, -rc, "idmap", "lock %s/%u", r->lock_dir, (unsigned)id);
    }
    return ls_error_set(err, EBUSY, "idmap", "all %u uids of the range %u+%u are in use", r->count,
                        r->base, r->count);
}

int idmap_claim(const struct ls_idmap_range *r, uid_t host_id, struct idmap_slot *ret,
                struct ls_error *err) {
    if (host_id < r->base || host_id - r->base >= r->count)
        return ls_error_set(err, ERANGE, "idmap", "uid %u is outside the range %u+%u",
                            (unsigned)host_id, r->base, r->count);
    _cleanup_close_ int dfd = open_lock_dir(r, err);
    if (dfd < 0)
        return dfd;
    int rc = try_slot(dfd, host_id, ret);
    if (rc < 0)
        return ls_error_set(err, -rc, "idmap", "lock %s/%u", r->lock_dir, (unsigned)host_id);
    return rc;
}

int idmap_sweep(const struct ls_idmap_range *r, struct ls_error *err) {
    int dfd = open_lock_dir(r, err), removed = 0;
    if (dfd < 0)
        return dfd;
    int lfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
    if (!d) {
        int e = errno;
        if (lfd >= 0)
            close(lfd);
        close(dfd);
        return ls_error_set(err, e, "idmap", "list %s", r->lock_dir);
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        uint64_t id;
        struct idmap_slot slot = IDMAP_SLOT_INIT;
        if (ls_parse_uint(de->d_name, UINT32_MAX, &id) < 0)
            continue;
        if (try_slot(dfd, (uid_t)id, &slot) > 0) {
            idmap_release(&slot);
            removed++;
        }
    }
    closedir(d);
    close(dfd);
    return removed;
}

void idmap_release(struct idmap_slot *slot) {
    if (slot->lock_fd >= 0 && slot->dir_fd >= 0) {
        char name[16];
        snprintf(name, sizeof(name), "%u", (unsigned)slot->host_id);
        (void)unlinkat(slot->dir_fd, name, 0); /* still locked: nobody else holds this inode */
    }
    slot->lock_fd = safe_close(slot->lock_fd);
    slot->dir_fd = safe_close(slot->dir_fd);
}
