/*
 * rootfs.c - build the sandbox's root and pivot_root into it.
 *
 * Order (each step names itself in a setup error):
 *   1. make every mount of the copied namespace private: nothing we do propagates
 *      back to the host, and nothing the host mounts later appears inside;
 *   2. clone the bind sources (host paths chosen by the operator) as detached mounts
 *      and make them read-only/nosuid/nodev while nobody can see them;
 *   3. create the new root: a small tmpfs, attached over /tmp of the (private) old
 *      root only so that it is a mount point pivot_root accepts;
 *   4. /work (the id-mapped workspace from the parent, or a tmpfs), /tmp (tmpfs with
 *      size and inode caps), the binds, /proc, /dev -- every target resolved beneath
 *      the new root by fd, never through a symlink;
 *   5. the root tmpfs becomes read-only; pivot_root(".", "."), and the old root is
 *      detached (MNT_DETACH), so no path leads back to the host's tree.
 * Why this is safe: steps 2-5 run in the child before anything untrusted executes;
 * the only untrusted tree involved is the workspace, and no mount target is ever
 * resolved through it except user-supplied bind destinations, which go through
 * openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) and so fail on any symlink.
 */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "devfs.h"
#include "mountutil.h"
#include "procfs.h"

#define BIND_ATTRS_RO (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)
#define BIND_ATTRS_RW (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)

static bool path_has_dotdot(const char *p) {
    for (const char *c = p; *c; c++)
        if (c[0] == '.' && c[1] == '.' && (c == p || c[-1] == '/') && (c[2] == '/' || !c[2]))
            return true;
    return false;
}

static bool path_under(const char *p, const char *dir) {
    size_t n = strlen(dir);
    return strncmp(p, dir, n) == 0 && (p[n] == '/' || p[n] == '\0');
}

int rootfs_validate_binds(const struct ls_bind *binds, size_t n, struct ls_error *err) {
    if (n > ROOTFS_MAX_BINDS)
        return ls_error_set(err, EINVAL, "spec", "%zu binds, at most %d allowed", n,
                            ROOTFS_MAX_BINDS);
    for (size_t i = 0; i < n; i++) {
        const char *src = binds[i].src, *dst = binds[i].dst ? binds[i].dst : binds[i].src;
        if (!src || src[0] != '/')
            return ls_error_set(err, EINVAL, "spec", "bind %zu: source \"%s\" is not absolute",
                                i, src ? src : "(null)");
        /* Normal form only, so that the reserved-path checks below cannot be walked around
         * with "//proc", "/tmp/" or "/./work". */
        if (dst[0] != '/' || path_has_dotdot(dst) || strstr(dst, "//") || strstr(dst, "/./") ||
            (strlen(dst) > 1 && (dst[strlen(dst) - 1] == '/' ||
                                 strcmp(dst + strlen(dst) - 2, "/.") == 0)))
            return ls_error_set(err, EINVAL, "spec",
                                "bind %s: destination \"%s\" must be an absolute path in normal "
                                "form (no \"..\", \".\", \"//\" or trailing \"/\")",
                                src, dst);
        const char *d = dst;
        while (*d == '/')
            d++;
        if (*d == '\0' || path_under(dst, "/proc") || path_under(dst, "/dev") ||
            strcmp(dst, "/work") == 0 || strcmp(dst, "/tmp") == 0)
            return ls_error_set(err, EINVAL, "spec",
                                "bind %s: destination \"%s\" is reserved (/, /proc, /dev, /work, /tmp)",
                                src, dst);
    }
    return 0;
}

static int attach_fresh_tmpfs(int rootfd, const char *dir, const char *const *opts,
                              struct ls_error *err) {
    int target = mnt_mkdir_beneath(rootfd, dir);
    if (target < 0)
        return ls_error_set_safe(err, -target, "rootfs", "mkdir", dir);
    int m = mnt_new_fs("tmpfs", opts, BIND_ATTRS_RW);
    int r = m;
    if (m >= 0) {
        r = mnt_attach(m, target);
        close(m);
    }
    close(target);
    return r < 0 ? ls_error_set_safe(err, -r, "rootfs", "mount tmpfs on", dir) : 0;
}

/* Format a tmpfs option "key=<n>" without stdio (async-signal-safe). */
static void fmt_opt(char *buf, size_t size, const char *key, uint64_t v) {
    size_t pos = ls_strlcpy(buf, key, size);
    if (pos < size)
        ls_fmt_u64(buf + pos, size - pos, v);
}

/* Attach one bind.  src_mnt is its detached clone (or -1 for a host symlink that is
 * recreated as a symlink). */
static int attach_bind(int rootfd, const struct ls_bind *b, int src_mnt, const char *link,
                       struct ls_error *err) {
    const char *dst = b->dst ? b->dst : b->src;
    struct stat st;
    int target, r;

    if (link) {
        r = mnt_symlink_beneath(rootfd, dst, link);
        return r < 0 ? ls_error_set_safe(err, -r, "bind", "symlink", dst) : 0;
    }
    if (fstat(src_mnt, &st) < 0)
        return ls_error_set_safe(err, errno, "bind", "stat", b->src);
    target = S_ISDIR(st.st_mode) ? mnt_mkdir_beneath(rootfd, dst) : mnt_mkfile_beneath(rootfd, dst);
    if (target < 0)
        return ls_error_set_safe(err, -target, "bind", "create mount point", dst);
    r = mnt_attach(src_mnt, target);
    close(target);
    return r < 0 ? ls_error_set_safe(err, -r, "bind", "attach", dst) : 0;
}

int rootfs_setup(const struct rootfs_config *c, struct ls_error *err) {
    static const char *const root_opts[] = {"mode=0755", "size=1048576", "nr_inodes=4096", NULL};
    int src[ROOTFS_MAX_BINDS];
    char links[ROOTFS_MAX_BINDS][256];
    char size_opt[40], inodes_opt[40], work_size_opt[40];
    int rootfd = -1, r = 0;
    size_t i;

    for (i = 0; i < c->n_binds; i++) {
        src[i] = -1;
        links[i][0] = '\0';
    }

    /* 1. Nothing propagates between host and sandbox. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return ls_error_set_safe(err, errno, "rootfs", "make mounts private", NULL);

    /* 2. Clone the sources now, while host paths still mean host paths. */
    for (i = 0; i < c->n_binds; i++) {
        const struct ls_bind *b = &c->binds[i];
        struct stat st;
        if (lstat(b->src, &st) < 0) {
            if (errno == ENOENT && b->optional)
                continue;
            r = ls_error_set_safe(err, errno, "bind", "stat", b->src);
            goto out;
        }
        if (S_ISLNK(st.st_mode) && (!b->dst || strcmp(b->dst, b->src) == 0)) {
            /* Merged-/usr hosts: /bin -> usr/bin stays a symlink, no extra mount. */
            ssize_t n = readlink(b->src, links[i], sizeof(links[i]) - 1);
            if (n < 0) {
                r = ls_error_set_safe(err, errno, "bind", "readlink", b->src);
                goto out;
            }
            links[i][n] = '\0';
            continue;
        }
        src[i] = mnt_clone(AT_FDCWD, b->src);
        if (src[i] < 0) {
            r = ls_error_set_safe(err, -src[i], "bind", "clone", b->src);
            goto out;
        }
        r = mnt_setattr(src[i], b->writable ? BIND_ATTRS_RW : BIND_ATTRS_RO, 0, true);
        if (r < 0) {
            r = ls_error_set_safe(err, -r, "bind", "set read-only on", b->src);
            goto out;
        }
    }

    /* 3. The new root. */
    rootfd = mnt_new_fs("tmpfs", root_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
    if (rootfd < 0) {
        r = ls_error_set_safe(err, -rootfd, "rootfs", "mount tmpfs for the new root", NULL);
        goto out;
    }
    if (syscall(SYS_move_mount, rootfd, "", AT_FDCWD, "/tmp", MOVE_MOUNT_F_EMPTY_PATH) < 0) {
        r = ls_error_set_safe(err, errno, "rootfs", "attach the new root at", "/tmp");
        goto out;
    }

    /* 4. /work, /tmp, binds, /proc, /dev. */
    if (c->workspace_mnt >= 0) {
        int target = mnt_mkdir_beneath(rootfd, "work");
        r = target;
        if (target >= 0) {
            r = mnt_attach(c->workspace_mnt, target);
            close(target);
        }
        if (r < 0) {
            r = ls_error_set_safe(err, -r, "workspace", "mount workspace on", "/work");
            goto out;
        }
    } else {
        /* Same inode cap as /tmp: a tmpfs /work is one more scratch area. */
        const char *opts[] = {"mode=0755", work_size_opt, inodes_opt, NULL};
        fmt_opt(work_size_opt, sizeof(work_size_opt), "size=", c->work_size);
        fmt_opt(inodes_opt, sizeof(inodes_opt), "nr_inodes=", c->tmp_inodes);
        r = attach_fresh_tmpfs(rootfd, "work", opts, err);
        if (r < 0)
            goto out;
    }
    fmt_opt(size_opt, sizeof(size_opt), "size=", c->tmp_size);
    fmt_opt(inodes_opt, sizeof(inodes_opt), "nr_inodes=", c->tmp_inodes);
    {
        const char *opts[] = {"mode=1777", size_opt, inodes_opt, NULL};
        r = attach_fresh_tmpfs(rootfd, "tmp", opts, err);
        if (r < 0)
            goto out;
    }
    for (i = 0; i < c->n_binds; i++) {
        if (src[i] < 0 && links[i][0] == '\0')
            continue; /* optional and missing */
        r = attach_bind(rootfd, &c->binds[i], src[i], links[i][0] ? links[i] : NULL, err);
        if (r < 0)
            goto out;
    }
    r = procfs_setup(rootfd, err);
    if (r < 0)
        goto out;
    r = devfs_setup(rootfd, c->tmp_size, err);
    if (r < 0)
        goto out;

    /* 5. Read-only root, then switch. */
    r = mnt_setattr(rootfd, MOUNT_ATTR_RDONLY, 0, false);
    if (r < 0) {
        r = ls_error_set_safe(err, -r, "rootfs", "remount the new root read-only", NULL);
        goto out;
    }
    if (fchdir(rootfd) < 0) {
        r = ls_error_set_safe(err, errno, "pivot_root", "chdir to the new root", NULL);
        goto out;
    }
    /* pivot_root(".", ".") stacks the old root on top of the new one; detaching the
     * top of "." then leaves only the new root, with no directory needed for put_old. */
    if (syscall(SYS_pivot_root, ".", ".") < 0) {
        r = ls_error_set_safe(err, errno, "pivot_root", "pivot_root", NULL);
        goto out;
    }
    if (umount2(".", MNT_DETACH) < 0) {
        r = ls_error_set_safe(err, errno, "pivot_root", "detach the old root", NULL);
        goto out;
    }
    if (chdir("/") < 0) {
        r = ls_error_set_safe(err, errno, "pivot_root", "chdir", "/");
        goto out;
    }
    r = 0;
out:
    for (i = 0; i < c->n_binds; i++)
        if (src[i] >= 0)
            close(src[i]);
    if (rootfd >= 0)
        close(rootfd);
    return r;
}
