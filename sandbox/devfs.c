/*
 * devfs.c - /dev inside the sandbox: only the harmless character devices.
 *
 * Device nodes cannot be created in a user namespace (mknod needs CAP_MKNOD in the
 * initial namespace), so the few a program needs are bound from the host's /dev, as
 * bubblewrap does.  Why this is safe: the host nodes are pseudo-devices with no
 * state to leak (null, zero, full, random, urandom) or, for tty, one that opens only
 * the caller's controlling terminal -- and the sandbox has none (new session), so it
 * fails with ENXIO.  The tmpfs that holds them is made read-only after it is
 * populated, so nothing can be added to /dev, and it is nodev so a file created in
 * it by some other route would not open a device.  devpts is a new instance: the
 * sandbox sees only the ptys it creates itself, never the host's.
 */
#include "devfs.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "labstack/error.h"
#include "mountutil.h"

static const char *const host_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

static const struct {
    const char *path, *target;
} dev_links[] = {
    {"ptmx", "pts/ptmx"},           {"fd", "/proc/self/fd"},
    {"stdin", "/proc/self/fd/0"},   {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},
};

static int bind_host_node(int devfd, const char *name, struct ls_error *err) {
    char host[32] = "/dev/";
    ls_strlcpy(host + 5, name, sizeof(host) - 5);

    int target = mnt_mkfile_beneath(devfd, name);
    if (target < 0)
        return ls_error_set_safe(err, -target, "dev", "create mount point", host);
    int m = mnt_clone(AT_FDCWD, host);
    int r = m;
    if (m >= 0)
        r = mnt_setattr(m, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0, false);
    if (r >= 0)
        r = mnt_attach(m, target);
    if (m >= 0)
        close(m);
    close(target);
    return r < 0 ? ls_error_set_safe(err, -r, "dev", "bind", host) : 0;
}

static int mount_fresh(int devfd, const char *dir, const char *fstype, const char *const *opts,
                       uint64_t attrs, struct ls_error *err) {
    int target = mnt_mkdir_beneath(devfd, dir);
    if (target < 0)
        return ls_error_set_safe(err, -target, "dev", "mkdir /dev/", dir);
    int m = mnt_new_fs(fstype, opts, attrs);
    int r = m;
    if (m >= 0) {
        r = mnt_attach(m, target);
        close(m);
    }
    close(target);
    return r < 0 ? ls_error_set_safe(err, -r, "dev", "mount /dev/", dir) : 0;
}

int devfs_setup(int rootfd, uint64_t shm_size, struct ls_error *err) {
    static const char *const dev_opts[] = {"mode=0755", "size=65536", "nr_inodes=64", NULL};
    static const char *const pts_opts[] = {"newinstance", "ptmxmode=0666", "mode=0620", NULL};
    char shm_size_opt[40];
    const char *shm_opts[] = {"mode=1777", shm_size_opt, "nr_inodes=4096", NULL};
    int r, devfd = -1, devmnt = -1, dir;

    /* No stdio in the child: */
    ls_fmt_u64(shm_size_opt + ls_strlcpy(shm_size_opt, "size=", sizeof(shm_size_opt)),
               sizeof(shm_size_opt) - 5, shm_size);

    dir = mnt_mkdir_beneath(rootfd, "dev");
    if (dir < 0)
        return ls_error_set_safe(err, -dir, "dev", "mkdir", "/dev");
    devmnt = mnt_new_fs("tmpfs", dev_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                               MOUNT_ATTR_NOEXEC);
    if (devmnt < 0) {
        close(dir);
        return ls_error_set_safe(err, -devmnt, "dev", "mount tmpfs on", "/dev");
    }
    r = mnt_attach(devmnt, dir);
    close(dir);
    if (r < 0) {
        r = ls_error_set_safe(err, -r, "dev", "mount tmpfs on", "/dev");
        goto out;
    }
    devfd = devmnt;
    devmnt = -1;

    for (size_t i = 0; i < sizeof(host_nodes) / sizeof(host_nodes[0]); i++) {
        r = bind_host_node(devfd, host_nodes[i], err);
        if (r < 0)
            goto out;
    }
    r = mount_fresh(devfd, "pts", "devpts", pts_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, err);
    if (r < 0)
        goto out;
    r = mount_fresh(devfd, "shm", "tmpfs", shm_opts,
                    MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, err);
    if (r < 0)
        goto out;
    for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++) {
        r = mnt_symlink_beneath(devfd, dev_links[i].path, dev_links[i].target);
        if (r < 0) {
            r = ls_error_set_safe(err, -r, "dev", "symlink /dev/", dev_links[i].path);
            goto out;
        }
    }
    /* Nothing may be added to /dev from now on. */
    r = mnt_setattr(devfd, MOUNT_ATTR_RDONLY, 0, false);
    if (r < 0)
        r = ls_error_set_safe(err, -r, "dev", "remount read-only", "/dev");
out:
    if (devfd >= 0)
        close(devfd);
    if (devmnt >= 0)
        close(devmnt);
    return r;
}
