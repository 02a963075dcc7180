/*
 * ipc.c - SysV IPC of the sandbox: bounded, and gone with it.
 *
 * SysV shared memory, message queues and semaphores belong to an IPC namespace and
 * are destroyed with it, so nothing a sandbox creates outlives the sandbox.  While it
 * runs, kernel.shm_rmid_forced = 1 destroys a segment as soon as no process has it
 * attached (a "leaked" segment is not even kept until the end), and shmmax/shmall
 * bound it (by default to the memory limit; the pages are charged to the sandbox's
 * memory cgroup as well).
 *
 * The sysctls under /proc/sys/kernel/ are per IPC namespace and always refer to the
 * namespace of the *writing* thread, and the kernel lets only the namespace's owner
 * write them -- the host uid its root maps to, or host root when its root is unmapped
 * (--uid N) -- not even CAP_SYS_ADMIN (ipc_permissions() compares the euid).  So the
 * parent enters the sandbox's IPC namespace with setns() on its own thread, takes the
 * owner's euid for that thread only (a raw setresuid: glibc's would change every
 * thread), writes, and goes back to euid 0 and its own namespace at once.
 * Why this is safe: nothing of the sandbox runs yet; the thread touches nothing but
 * these three files while it is inside or has the other euid, and its real and saved
 * uid stay 0, so the switch back always succeeds (else we abort).  The euid switch
 * clears the thread's parent-death signal and resets the process's dumpable flag; both
 * are restored afterwards.
 */
#include "ipc.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "labstack/error.h"
#include "labstack/macros.h"
#include "namespaces.h"

static int write_sysctl(const char *path, uint64_t value) {
    char buf[24];
    size_t len = ls_fmt_u64(buf, sizeof(buf), value);
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, buf, len);
    int r = n < 0 ? -errno : (n == (ssize_t)len ? 0 : -EIO);
    close(fd);
    return r;
}

int ipc_setup_limits(pid_t pid, uid_t owner, uint64_t shm_max, struct ls_error *err) {
    _cleanup_close_ int self_ns = -EBADF, target_ns = -EBADF;
    const char *failed = NULL;
    int r = 0;

    self_ns = open("/proc/thread-self/ns/ipc", O_RDONLY | O_CLOEXEC);
    if (self_ns < 0)
        return ls_error_set(err, errno, "ipc", "open own IPC namespace");
    target_ns = ns_open(pid, "ipc");
    if (target_ns < 0)
        return ls_error_set(err, -target_ns, "ipc", "open the sandbox's IPC namespace");
    /* A change of euid makes the kernel clear this thread's parent-death signal and reset
     * the process's dumpable flag (commit_creds): both are the caller's, so they are
     * saved here and put back after the switch back. */
    int pdeathsig = 0, dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    (void)prctl(PR_GET_PDEATHSIG, &pdeathsig, 0, 0, 0);
    if (setns(target_ns, CLONE_NEWIPC) < 0)
        return ls_error_set(err, errno, "ipc", "enter the sandbox's IPC namespace");
    if (owner != 0 && syscall(SYS_setresuid, -1, owner, -1) < 0) {
        r = -errno;
        failed = "(become the namespace's owner)";
    }
    if (r >= 0)
        r = write_sysctl(failed = "/proc/sys/kernel/shm_rmid_forced", 1);
    if (r >= 0 && shm_max)
        r = write_sysctl(failed = "/proc/sys/kernel/shmmax", shm_max);
    if (r >= 0 && shm_max)
        r = write_sysctl(failed = "/proc/sys/kernel/shmall", (shm_max + 4095) / 4096);
    /* A thread left with another euid or in a sandbox's namespace must not go on. */
    if (owner != 0) {
        if (syscall(SYS_setresuid, -1, 0, -1) < 0)
            abort();
        if (dumpable >= 0)
            (void)prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
        (void)prctl(PR_SET_PDEATHSIG, pdeathsig, 0, 0, 0);
    }
    if (setns(self_ns, CLONE_NEWIPC) < 0)
        abort();
    if (r < 0)
        return ls_error_set(err, -r, "ipc", "write %s", failed);
    return 0;
}
