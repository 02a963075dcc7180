/*
 * procfs.c - /proc inside the sandbox.
 *
 * The procfs mounted here belongs to the sandbox's pid namespace, so it lists only
 * the sandbox's processes.  What it would still show of the host is hidden as Docker
 * does: files that leak kernel memory, keys or timing (kcore, keys, timer_list, ...)
 * are covered by /dev/null, directories of hardware state by an empty read-only tmpfs.
 * Files that tune the kernel (/proc/sys, sysrq-trigger, irq, bus, fs) are re-bound
 * read-only.  Why this is safe: every target is resolved beneath the fresh procfs
 * with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) before anything runs in the
 * sandbox, so no process can have raced a symlink into place, and the bind clones
 * are taken from the resolved fd (AT_EMPTY_PATH), never from a path string.
 * The sandbox has no CAP_SYS_ADMIN and seccomp refuses the mount family, so these
 * mounts cannot be removed from inside.
 */
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "labstack/error.h"
#include "mountutil.h"

/* Docker's default masked paths under /proc (moby's oci defaults), plus interrupts
 * (per-CPU host interrupt counts, a timing side channel). */
static const char *const masked_paths[] = {
    "asound", "acpi", "interrupts", "kcore", "keys", "latency_stats",
    "timer_list", "timer_stats", "sched_debug", "scsi",
};

/* Docker's default read-only paths under /proc. */
static const char *const readonly_paths[] = {"bus", "fs", "irq", "sys", "sysrq-trigger"};

static int mask_one(int procfd, const char *rel, struct ls_error *err) {
    struct stat st;
    int target = mnt_open_beneath(procfd, rel, O_PATH, 0);
    if (target == -ENOENT)
        return 0; /* not present on this kernel: nothing to hide */
    if (target < 0)
        return ls_error_set_safe(err, -target, "proc", "mask /proc/", rel);
    if (fstat(target, &st) < 0) {
        int e = errno;
        close(target);
        return ls_error_set_safe(err, e, "proc", "mask /proc/", rel);
    }
    int m;
    if (S_ISDIR(st.st_mode)) {
        static const char *const opts[] = {"size=0", "nr_inodes=1", "mode=0500", NULL};
        m = mnt_new_fs("tmpfs", opts, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                          MOUNT_ATTR_NOEXEC);
    } else {
        /* Host /dev/null: reads give EOF, writes vanish; resolved on the host side,
         * which no sandboxed process can influence. */
        m = mnt_clone(AT_FDCWD, "/dev/null");
        if (m >= 0) {
            int r = mnt_setattr(m, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0, false);
            if (r < 0) {
                close(m);
                m = r;
            }
        }
    }
    if (m < 0) {
        close(target);
        return ls_error_set_safe(err, -m, "proc", "mask /proc/", rel);
    }
    int r = mnt_attach(m, target);
    close(m);
    close(target);
    return r < 0 ? ls_error_set_safe(err, -r, "proc", "mask /proc/", rel) : 0;
}

static int readonly_one(int procfd, const char *rel, struct ls_error *err) {
    int target = mnt_open_beneath(procfd, rel, O_PATH, 0);
    if (target == -ENOENT)
        return 0;
    if (target < 0)
        return ls_error_set_safe(err, -target, "proc", "read-only /proc/", rel);
    int m = mnt_clone(target, "");
    int r = m;
    if (m >= 0)
        r = mnt_setattr(m, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                               MOUNT_ATTR_NOEXEC, 0, true);
    if (r >= 0)
        r = mnt_attach(m, target);
    if (m >= 0)
        close(m);
    close(target);
    return r < 0 ? ls_error_set_safe(err, -r, "proc", "read-only /proc/", rel) : 0;
}

int procfs_setup(int rootfd, struct ls_error *err) {
    int r, dir, m, procfd;

    dir = mnt_mkdir_beneath(rootfd, "proc");
    if (dir < 0)
        return ls_error_set_safe(err, -dir, "proc", "mkdir", "/proc");
    m = mnt_new_fs("proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (m < 0) {
        close(dir);
        return ls_error_set_safe(err, -m, "proc", "mount", "/proc");
    }
    r = mnt_attach(m, dir);
    close(dir);
    if (r < 0) {
        close(m);
        return ls_error_set_safe(err, -r, "proc", "mount", "/proc");
    }
    procfd = m; /* now the root of the attached procfs */

    for (size_t i = 0; i < sizeof(masked_paths) / sizeof(masked_paths[0]); i++) {
        r = mask_one(procfd, masked_paths[i], err);
        if (r < 0)
            goto out;
    }
    for (size_t i = 0; i < sizeof(readonly_paths) / sizeof(readonly_paths[0]); i++) {
        r = readonly_one(procfd, readonly_paths[i], err);
        if (r < 0)
            goto out;
    }
    r = 0;
out:
    close(procfd);
    return r;
}
