/*
 * namespaces.c - clone3() into fresh namespaces, and the uid/gid maps.
 *
 * Why this is safe: the maps written here contain exactly one uid and one gid, both
 * an unprivileged host id from the idmap range; host root (0) is never mapped, so
 * "root" inside the sandbox owns nothing on the host.  setgroups is denied before the
 * gid map is written, so a process inside can never drop a supplementary group to
 * get around a "group may not" permission (CVE-2014-8989 class).
 */
#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "labstack/macros.h"

pid_t ns_clone(unsigned long long flags, int cgroup_fd, int *ret_pidfd) {
    int pidfd = -1;
    struct clone_args args = {
        .flags = flags | CLONE_PIDFD,
        .pidfd = (uint64_t)(uintptr_t)&pidfd,
        .exit_signal = SIGCHLD,
    };
    if (cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)cgroup_fd;
    }
    long pid = syscall(SYS_clone3, &args, sizeof(args));
    if (pid < 0)
        return -errno;
    if (pid > 0) {
        /* The kernel creates the pidfd with O_CLOEXEC. */
        *ret_pidfd = pidfd;
    }
    return (pid_t)pid;
}

static int write_file_at(int dirfd, const char *name, const char *data) {
    _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    size_t len = strlen(data);
    ssize_t n = write(fd, data, len);
    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : -EIO;
}

int ns_write_id_maps(pid_t pid, uid_t inside_uid, gid_t inside_gid, uid_t host_id) {
    char path[64], map[64];
    int r;

    snprintf(path, sizeof(path), "/proc/%d", (int)pid);
    _cleanup_close_ int dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    r = write_file_at(dfd, "setgroups", "deny");
    if (r < 0)
        return r;
    snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)inside_uid, (unsigned)host_id);
    r = write_file_at(dfd, "uid_map", map);
    if (r < 0)
        return r;
    snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)inside_gid, (unsigned)host_id);
    return write_file_at(dfd, "gid_map", map);
}

int ns_open(pid_t pid, const char *name) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int ns_userns_for_map(uid_t inside_uid, gid_t inside_gid, uid_t host_id) {
    int pipefd[2];
    int pidfd = -1, r;

    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -errno;
    pid_t pid = ns_clone(CLONE_NEWUSER, -1, &pidfd);
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return pid;
    }
    if (pid == 0) {
        /* Holds the namespace alive until the parent has opened it, then exits. */
        char c;
        close(pipefd[1]);
        while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    close(pipefd[0]);
    r = ns_write_id_maps(pid, inside_uid, inside_gid, host_id);
    if (r >= 0)
        r = ns_open(pid, "user");
    close(pipefd[1]);
    while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
        ;
    close(pidfd);
    return r;
}
