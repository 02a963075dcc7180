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
 * Why this is safe: the uids come from a range the operator configured and that
 * no real account uses (default 1000000-1065535, above any /etc/subuid range the
 * Debian tools hand out by default); uid 0 is refused as a base.
 */
#include "idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "labstack/macros.h"

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

int idmap_acquire(const struct ls_idmap_range *r, struct idmap_slot *ret, struct ls_error *err) {
    uid_t base = r && r->base ? r->base : DEFAULT_BASE;
    unsigned count = r && r->count ? r->count : DEFAULT_COUNT;
    const char *dir = r && r->lock_dir ? r->lock_dir : DEFAULT_LOCK_DIR;
    unsigned start = 0;
    int rc;

    if (base == 0 || (uint64_t)base + count > 0xfffffffeull)
        return ls_error_set(err, EINVAL, "idmap", "uid range %u+%u is not an unprivileged range",
                            base, count);
    rc = mkdir_parents(dir, 0700);
    if (rc < 0)
        return ls_error_set(err, -rc, "idmap", "create %s", dir);
    _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (dfd < 0)
        return ls_error_set(err, errno, "idmap", "open %s", dir);
    if (getrandom(&start, sizeof(start), GRND_NONBLOCK) != sizeof(start))
        start = (unsigned)getpid();

    for (unsigned i = 0; i < count; i++) {
        uid_t id = base + (start + i) % count;
        char name[16];
        snprintf(name, sizeof(name), "%u", (unsigned)id);
        int fd = openat(dfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
            return ls_error_set(err, errno, "idmap", "open %s/%s", dir, name);
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            struct stat held, named;
            if (fstat(fd, &held) == 0 && fstatat(dfd, name, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
                held.st_ino == named.st_ino && held.st_dev == named.st_dev) {
                ret->host_id = id;
                ret->lock_fd = fd;
                ret->dir_fd = TAKE_FD(dfd);
                return 0;
            }
            close(fd); /* unlinked by its previous holder meanwhile: not ours */
            continue;
        }
        rc = errno;
        close(fd);
        if (rc != EWOULDBLOCK)
            return ls_error_set(err, rc, "idmap", "lock %s/%s", dir, name);
    }
    return ls_error_set(err, EBUSY, "idmap", "all %u uids of the range %u+%u are in use", count,
                        base, count);
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
