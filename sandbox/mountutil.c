/*
 * mountutil.c - fd-based mount primitives (the new mount API: fsopen, fsmount,
 * open_tree, move_mount, mount_setattr; openat2 for path resolution).
 *
 * Why the new API: with it a mount is built detached, its attributes are set while
 * nobody can see it, and it is attached onto an *fd* that was resolved beneath the
 * new root.  There is no window where a path string is re-resolved, so a workspace
 * that contains `tmp -> /` cannot redirect a mount.  It is also fewer syscalls than
 * mount(2) + remount.  Requires Linux >= 5.12 (mount_setattr).
 */
#include "mountutil.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RESOLVE_SAFE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

int mnt_open_beneath(int dirfd, const char *path, int flags, mode_t mode) {
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
        .mode = (flags & O_CREAT) ? mode : 0,
        .resolve = RESOLVE_SAFE,
    };
    while (*path == '/')
        path++;
    if (*path == '\0')
        path = ".";
    long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
    return fd < 0 ? -errno : (int)fd;
}

/* Walk path one component at a time, creating directories; returns an O_PATH fd of the
 * directory that contains the last component and points *ret_last at that component.
 * With create_last the last component is created as a directory too. */
static int walk_parents(int dirfd, const char *path, bool create_last, char *buf, size_t bufsize,
                        const char **ret_last) {
    size_t len = strlen(path);
    if (len + 1 > bufsize)
        return -ENAMETOOLONG;
    memcpy(buf, path, len + 1);

    int cur = mnt_open_beneath(dirfd, ".", O_PATH | O_DIRECTORY, 0);
    if (cur < 0)
        return cur;
    char *p = buf;
    for (;;) {
        while (*p == '/')
            p++;
        char *slash = strchr(p, '/');
        char *next = slash;
        if (next) {
            *next = '\0';
            next++;
            while (*next == '/')
                next++;
            if (*next == '\0')
                next = NULL;
        }
        if (!next && !create_last) {
            *ret_last = p;
            return cur;
        }
        if (*p == '\0' || strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
            close(cur);
            return -EINVAL;
        }
        if (mkdirat(cur, p, 0755) < 0 && errno != EEXIST) {
            int r = -errno;
            close(cur);
            return r;
        }
        int nfd = mnt_open_beneath(cur, p, O_PATH | O_DIRECTORY, 0);
        close(cur);
        if (nfd < 0)
            return nfd;
        cur = nfd;
        if (!next) {
            *ret_last = NULL;
            return cur;
        }
        p = next;
    }
}

int mnt_mkdir_beneath(int dirfd, const char *path) {
    char buf[4096];
    const char *last;
    while (*path == '/')
        path++;
    if (*path == '\0')
        return mnt_open_beneath(dirfd, ".", O_PATH | O_DIRECTORY, 0);
    return walk_parents(dirfd, path, true, buf, sizeof(buf), &last);
}

int mnt_mkfile_beneath(int dirfd, const char *path) {
    char buf[4096];
    const char *last = NULL;
    while (*path == '/')
        path++;
    int parent = walk_parents(dirfd, path, false, buf, sizeof(buf), &last);
    if (parent < 0)
        return parent;
    if (!last || *last == '\0' || strcmp(last, "..") == 0 || strcmp(last, ".") == 0) {
        close(parent);
        return -EINVAL;
    }
    /* Create it if missing (O_EXCL: never open someone else's file for writing), then
     * take an O_PATH fd -- which opens nothing, so a FIFO planted there cannot block us --
     * and accept only a regular file (a symlink already fails by O_NOFOLLOW). */
    int fd = mnt_open_beneath(parent, last, O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd >= 0)
        close(fd);
    else if (fd != -EEXIST) {
        close(parent);
        return fd;
    }
    fd = mnt_open_beneath(parent, last, O_PATH, 0);
    close(parent);
    if (fd >= 0) {
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
            int e = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
            close(fd);
            return e;
        }
    }
    return fd;
}

int mnt_symlink_beneath(int dirfd, const char *path, const char *target) {
    char buf[4096];
    const char *last = NULL;
    while (*path == '/')
        path++;
    int parent = walk_parents(dirfd, path, false, buf, sizeof(buf), &last);
    if (parent < 0)
        return parent;
    int r = 0;
    if (!last || *last == '\0')
        r = -EINVAL;
    else if (symlinkat(target, parent, last) < 0)
        r = -errno;
    close(parent);
    return r;
}

int mnt_clone(int dirfd, const char *path) {
    unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE;
    if (*path == '\0')
        flags |= AT_EMPTY_PATH;
    long fd = syscall(SYS_open_tree, dirfd, path, flags);
    return fd < 0 ? -errno : (int)fd;
}

int mnt_setattr(int mntfd, uint64_t set, uint64_t clear, bool recursive) {
    struct mount_attr attr = {.attr_set = set, .attr_clr = clear};
    unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
    if (syscall(SYS_mount_setattr, mntfd, "", flags, &attr, sizeof(attr)) < 0)
        return -errno;
    return 0;
}

int mnt_new_fs(const char *fstype, const char *const *options, uint64_t attrs) {
    int fsfd = (int)syscall(SYS_fsopen, fstype, FSOPEN_CLOEXEC);
    if (fsfd < 0)
        return -errno;
    for (const char *const *o = options; o && *o; o++) {
        char key[64];
        const char *eq = strchr(*o, '=');
        long r;
        if (eq) {
            size_t klen = (size_t)(eq - *o);
            if (klen >= sizeof(key)) {
                close(fsfd);
                return -EINVAL;
            }
            memcpy(key, *o, klen);
            key[klen] = '\0';
            r = syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, key, eq + 1, 0);
        } else {
            r = syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_FLAG, *o, NULL, 0);
        }
        if (r < 0) {
            int e = -errno;
            close(fsfd);
            return e;
        }
    }
    if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
        int e = -errno;
        close(fsfd);
        return e;
    }
    long mfd = syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, (unsigned)attrs);
    int e = errno;
    close(fsfd);
    return mfd < 0 ? -e : (int)mfd;
}

int mnt_attach(int mntfd, int targetfd) {
    if (syscall(SYS_move_mount, mntfd, "", targetfd, "",
                MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return -errno;
    return 0;
}

int mnt_attach_at(int mntfd, int dirfd, const char *path) {
    int target = mnt_open_beneath(dirfd, path, O_PATH, 0);
    if (target < 0)
        return target;
    int r = mnt_attach(mntfd, target);
    close(target);
    return r;
}
