/*
 * probe.c - look at a sandbox from the inside and say whether each isolation
 * property holds.
 *
 * The integration tests copy this program into a workspace and run it with
 * `labstack sandbox run -- /work/probe <check>`.  It is linked statically and
 * needs nothing from the sandbox but the kernel.  Every check prints lines
 *
 *     PROBE <id> <SAFE|FAIL> <detail>
 *
 * and the program exits 0 when every line said SAFE, 1 otherwise, 2 on a usage
 * error.  Each check is written so that it FAILS on an ordinary host (run it there
 * as root to see that), and none of them does harm there: anything that could
 * change the system is tried in a forked child on a private target and undone,
 * writes go to fresh names that are removed at once, and the network checks never
 * send a packet anywhere but loopback (a route lookup by UDP connect() comes first;
 * TCP is only tried when there is no route, where it fails locally).
 *
 * Checks: caps fds tty proc masked rofs syscalls sockets net [PORT [ABSTRACT]] abi
 * tiocsti env [ALLOWED...] uid [UID] escape dev denied sleeper all.
 *
 * denyloop N makes N refused calls in a row and prints their cost (for measuring the
 * seccomp listener); nothing prints "PROBE"; cwd prints the working directory.
 *
 * Workloads for the resource-limit tests (hostile on purpose, for the inside of a
 * sandbox only; the destructive ones refuse to run in the initial user namespace):
 * membomb forkbomb forkcount N spin T S filltmp inodes N flood BYTES ignoreterm
 * stopped daemon shmleak MB cputime cputime-children N.  They print what they did
 * instead of PROBE lines; their exit statuses are described with each.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/if_alg.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/magic.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <linux/userfaultfd.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <netinet/in.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef NETLINK_KOBJECT_UEVENT
#define NETLINK_KOBJECT_UEVENT 15
#endif
#define X32_SYSCALL_BIT 0x40000000L
#define I386_NR_GETPID 20L
#define HOST_UID_MIN 1000000UL

extern char **environ;

static unsigned n_safe, n_fail;

/* The one output format: "PROBE <id> <SAFE|FAIL> <detail>". */
__attribute__((format(printf, 3, 4)))
static void report(const char *id, bool safe, const char *fmt, ...) {
    char detail[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    /* Keep one finding on one line whatever the detail contains. */
    for (char *p = detail; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    printf("PROBE %s %s %s\n", id, safe ? "SAFE" : "FAIL", detail);
    if (safe)
        n_safe++;
    else
        n_fail++;
}

static const char *errname(int e) {
    const char *n = strerrorname_np(e);
    return n ? n : "E?";
}

/* Read up to size-1 bytes of a file into buf (NUL-terminated).  Returns the byte
 * count or -errno. */
static ssize_t read_text(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    size_t len = 0;

    if (fd < 0)
        return -errno;
    while (len + 1 < size) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0) {
            int e = errno;
            if (e == EINTR)
                continue;
            close(fd);
            return -e;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    close(fd);
    return (ssize_t)len;
}

/* Value of "<name>:" in /proc/self/status, copied into out.  Returns 0 or -errno. */
static int status_field(const char *name, char *out, size_t size) {
    char buf[8192];
    ssize_t n = read_text("/proc/self/status", buf, sizeof(buf));
    size_t nlen = strlen(name);

    if (n < 0)
        return (int)n;
    for (char *line = buf; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strncmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            snprintf(out, size, "%s", v);
            return 0;
        }
        line = next;
    }
    return -ENOENT;
}

/* ------------------------------------------------------------------------------
 * Trying a call in a child.  Anything that could change the calling process (a new
 * user namespace, a tracer, a chroot) or that may be killed by seccomp runs in a
 * forked child; the child reports the return value and errno through a pipe.
 */
struct outcome {
    long ret;
    int err;
    int sig;      /* the child was killed by this signal (then ret/err are unset) */
    bool hung;    /* no answer within the alarm */
};

typedef long (*attempt_fn)(void *arg);

static struct outcome attempt(attempt_fn fn, void *arg) {
    struct outcome out = { .ret = -1, .err = 0 };
    int p[2];
    pid_t pid;
    int status;

    fflush(NULL);
    if (pipe2(p, O_CLOEXEC) < 0) {
        out.err = errno;
        return out;
    }
    pid = fork();
    if (pid < 0) {
        out.err = errno;
        close(p[0]);
        close(p[1]);
        return out;
    }
    if (pid == 0) {
        struct rlimit no_core = { 0, 0 };
        long msg[2];

        close(p[0]);
        setrlimit(RLIMIT_CORE, &no_core);
        alarm(10);
        errno = 0;
        msg[0] = fn(arg);
        msg[1] = errno;
        if (write(p[1], msg, sizeof(msg)) != (ssize_t)sizeof(msg))
            _exit(3);
        _exit(0);
    }
    close(p[1]);
    {
        long msg[2];
        ssize_t n;
        do
            n = read(p[0], msg, sizeof(msg));
        while (n < 0 && errno == EINTR);
        if (n == (ssize_t)sizeof(msg)) {
            out.ret = msg[0];
            out.err = (int)msg[1];
        }
    }
    close(p[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(status)) {
        out.sig = WTERMSIG(status);
        out.hung = out.sig == SIGALRM;
    }
    return out;
}

/* A syscall counts as refused when it returned -1 with the errno a seccomp filter or
 * a missing capability gives, or when the filter killed the caller. */
static bool refused(const struct outcome *o) {
    if (o->sig == SIGSYS)
        return true;
    if (o->sig || o->hung)
        return false;
    return o->ret == -1 && (o->err == EPERM || o->err == EACCES || o->err == ENOSYS);
}

static const char *describe(const struct outcome *o, char *buf, size_t size) {
    if (o->hung)
        snprintf(buf, size, "child hung");
    else if (o->sig)
        snprintf(buf, size, "killed by signal %d (%s)", o->sig, sigabbrev_np(o->sig) ? sigabbrev_np(o->sig) : "?");
    else if (o->ret == -1)
        snprintf(buf, size, "-1 %s", errname(o->err));
    else
        snprintf(buf, size, "succeeded (returned %ld)", o->ret);
    return buf;
}

static void report_refused(const char *id, const char *what, const struct outcome *o) {
    char d[128];
    report(id, refused(o), "%s: %s", what, describe(o, d, sizeof(d)));
}

/* ------------------------------------------------------------------------------
 * caps: every capability set empty, no_new_privs, seccomp in filter mode.
 */
static void check_caps(void) {
    static const char *const sets[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
    char v[128], id[64];
    int r;

    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        snprintf(id, sizeof(id), "caps.%s", sets[i]);
        r = status_field(sets[i], v, sizeof(v));
        if (r < 0) {
            report(id, false, "cannot read /proc/self/status: %s", errname(-r));
            continue;
        }
        report(id, strtoull(v, NULL, 16) == 0 && v[0] != '\0', "%s=%s", sets[i], v);
    }

    r = status_field("NoNewPrivs", v, sizeof(v));
    report("caps.NoNewPrivs", r == 0 && strcmp(v, "1") == 0, "NoNewPrivs=%s",
           r == 0 ? v : errname(-r));
    r = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    report("caps.prctl_nnp", r == 1, "prctl(PR_GET_NO_NEW_PRIVS)=%d", r);

    r = status_field("Seccomp", v, sizeof(v));
    report("caps.Seccomp", r == 0 && strcmp(v, "2") == 0, "Seccomp=%s (2 = filter)",
           r == 0 ? v : errname(-r));
    if (status_field("Seccomp_filters", v, sizeof(v)) == 0)
        report("caps.Seccomp_filters", strtoul(v, NULL, 10) >= 1, "Seccomp_filters=%s", v);
}

/* ------------------------------------------------------------------------------
 * fds: nothing but 0, 1 and 2 is open.
 */
static void check_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    char extra[512] = "";
    size_t len = 0;
    unsigned n_extra = 0;
    bool have[3] = { false, false, false };

    if (!d) {
        report("fds.only_stdio", false, "cannot list /proc/self/fd: %s", errname(errno));
        return;
    }
    while ((de = readdir(d))) {
        char *end;
        long fd = strtol(de->d_name, &end, 10);
        if (*end || end == de->d_name || fd == dirfd(d))
            continue;
        if (fd >= 0 && fd <= 2) {
            have[fd] = true;
            continue;
        }
        {
            char link[64], target[256];
            ssize_t n;
            snprintf(link, sizeof(link), "/proc/self/fd/%ld", fd);
            n = readlink(link, target, sizeof(target) - 1);
            target[n > 0 ? n : 0] = '\0';
            if (len < sizeof(extra))
                len += (size_t)snprintf(extra + len, sizeof(extra) - len, " %ld->%s", fd, target);
        }
        n_extra++;
    }
    closedir(d);
    report("fds.only_stdio", n_extra == 0, "%u fd(s) besides 0,1,2%s%s", n_extra,
           n_extra ? ":" : "", extra);
    report("fds.stdio_open", have[0] && have[1] && have[2], "0:%s 1:%s 2:%s",
           have[0] ? "open" : "closed", have[1] ? "open" : "closed", have[2] ? "open" : "closed");
}

/* ------------------------------------------------------------------------------
 * tty: no controlling terminal, and a session of our own.
 */
static void check_tty(void) {
    char buf[1024];
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    int e = errno;
    pid_t sid, pid;

    if (fd >= 0) {
        close(fd);
        report("tty.dev_tty", false, "open(/dev/tty) succeeded: there is a controlling tty");
    } else {
        report("tty.dev_tty", e == ENXIO, "open(/dev/tty): %s (ENXIO = no controlling tty)",
               errname(e));
    }

    /* Field 7 of /proc/self/stat is tty_nr; the comm field may hold spaces, so
     * count from the closing parenthesis. */
    if (read_text("/proc/self/stat", buf, sizeof(buf)) > 0 && strrchr(buf, ')')) {
        char state;
        int ppid, pgrp, session, tty_nr = -1;
        if (sscanf(strrchr(buf, ')') + 1, " %c %d %d %d %d", &state, &ppid, &pgrp, &session,
                   &tty_nr) == 5)
            report("tty.tty_nr", tty_nr == 0, "tty_nr=%d (0 = none)", tty_nr);
        else
            report("tty.tty_nr", false, "cannot parse /proc/self/stat");
    } else {
        report("tty.tty_nr", false, "cannot read /proc/self/stat");
    }

    /* The session leader must be inside the sandbox: either us or the sandbox's
     * init (getsid() returns 0 when the leader lives in an ancestor pid namespace). */
    sid = getsid(0);
    pid = getpid();
    report("tty.session", sid == pid || sid == 1,
           "getsid(0)=%d getpid()=%d getpgrp()=%d (leader must be us or pid 1 of the sandbox)",
           (int)sid, (int)pid, (int)getpgrp());

    for (int i = 0; i <= 2; i++) {
        pid_t tsid = 0;
        if (ioctl(i, TIOCGSID, &tsid) == 0) {
            char id[32];
            snprintf(id, sizeof(id), "tty.fd%d", i);
            report(id, tsid == sid, "fd %d is a terminal of session %d", i, (int)tsid);
        }
    }
}

/* ------------------------------------------------------------------------------
 * proc: the pid namespace shows only the sandbox's processes.
 */
static void check_proc(void) {
    static const char *const host_names[] = {
        "systemd", "init", "sshd", "cron", "crond", "dbus-daemon", "containerd", "dockerd",
        "systemd-journal", "systemd-udevd", "agetty", "kthreadd", "rsyslogd", "login",
    };
    DIR *d = opendir("/proc");
    struct dirent *de;
    unsigned count = 0;
    char list[512] = "", hosts[256] = "";
    size_t len = 0, hlen = 0;
    char buf[64];

    if (!d) {
        report("proc.count", false, "cannot list /proc: %s", errname(errno));
        return;
    }
    while ((de = readdir(d))) {
        char path[64], comm[64] = "?";
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || end == de->d_name)
            continue;
        count++;
        snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
        if (read_text(path, comm, sizeof(comm)) > 0)
            comm[strcspn(comm, "\n")] = '\0';
        if (len < sizeof(list))
            len += (size_t)snprintf(list + len, sizeof(list) - len, " %ld:%s", pid, comm);
        for (size_t i = 0; i < sizeof(host_names) / sizeof(host_names[0]); i++)
            if (strcmp(comm, host_names[i]) == 0 && hlen < sizeof(hosts))
                hlen += (size_t)snprintf(hosts + hlen, sizeof(hosts) - hlen, " %ld:%s", pid, comm);
    }
    closedir(d);
    report("proc.count", count >= 1 && count <= 3, "%u process(es) visible:%s", count, list);
    report("proc.host_names", hlen == 0, "host daemons visible:%s", hlen ? hosts : " none");
    report("proc.pid1", read_text("/proc/1/comm", buf, sizeof(buf)) > 0, "pid 1 %s",
           access("/proc/1", F_OK) == 0 ? "exists" : "missing");
    report("proc.self_pid", getpid() <= 3, "getpid()=%d", (int)getpid());

    /* pid 1 (the sandbox's init, or whoever it is) must not be open to us: its
     * environment may be the caller's, its memory and root are outside our reach.
     * Only opened, never read: open() is where the kernel checks access. */
    {
        static const char *const init_files[][2] = {
            { "proc.init_environ", "/proc/1/environ" },
            { "proc.init_mem", "/proc/1/mem" },
            { "proc.init_root", "/proc/1/root/" },
        };
        for (size_t i = 0; i < sizeof(init_files) / sizeof(init_files[0]); i++) {
            int fd = open(init_files[i][1], O_RDONLY | O_CLOEXEC | O_NOCTTY);
            int e = errno;
            if (fd >= 0)
                close(fd);
            report(init_files[i][0], fd < 0, "open(%s): %s", init_files[i][1],
                   fd >= 0 ? "succeeded" : errname(e));
        }
    }
}

/* ------------------------------------------------------------------------------
 * masked: Docker's masked paths show nothing; its read-only paths are read-only.
 */
static void check_masked_path(const char *path) {
    char id[96];
    struct stat st;

    snprintf(id, sizeof(id), "masked.%s", path);
    if (lstat(path, &st) < 0) {
        report(id, errno == ENOENT || errno == EACCES, "lstat: %s", errname(errno));
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;
        unsigned n = 0;
        char first[NAME_MAX + 1] = "";
        if (!d) {
            report(id, true, "directory, opendir: %s", errname(errno));
            return;
        }
        while ((de = readdir(d))) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            if (n++ == 0)
                snprintf(first, sizeof(first), "%s", de->d_name);
        }
        closedir(d);
        report(id, n == 0, "directory with %u entries%s%s", n, n ? ", e.g. " : "", first);
        return;
    }
    {
        char buf[4096];
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        ssize_t n;
        if (fd < 0) {
            report(id, true, "open: %s", errname(errno));
            return;
        }
        n = read(fd, buf, sizeof(buf));
        if (n < 0)
            report(id, true, "read: %s", errname(errno));
        else
            report(id, n == 0, "read returned %zd bytes", n);
        close(fd);
    }
}

/* Opens path for writing (never writes) and expects a refusal. */
static void check_open_write_refused(const char *id, const char *path) {
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd >= 0) {
        close(fd);
        report(id, false, "open(%s, O_WRONLY) succeeded", path);
        return;
    }
    report(id, errno == EROFS || errno == EACCES || errno == EPERM || errno == ENOENT,
           "open(%s, O_WRONLY): %s", path, errname(errno));
}

static void check_readonly_path(const char *path) {
    char id[96];
    struct statvfs sv;

    snprintf(id, sizeof(id), "readonly.%s", path);
    if (statvfs(path, &sv) < 0) {
        report(id, errno == ENOENT || errno == EACCES, "statvfs: %s", errname(errno));
        return;
    }
    report(id, (sv.f_flag & ST_RDONLY) != 0, "mount is %s", sv.f_flag & ST_RDONLY ? "ro" : "rw");
}

static void check_masked(void) {
    static const char *const masked[] = {
        "/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
        "/proc/latency_stats", "/proc/timer_stats", "/proc/acpi", "/proc/asound",
        "/proc/scsi", "/sys/firmware",
    };
    static const char *const readonly[] = {
        "/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs",
    };
    struct statfs sf;

    for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++)
        check_masked_path(masked[i]);
    for (size_t i = 0; i < sizeof(readonly) / sizeof(readonly[0]); i++)
        check_readonly_path(readonly[i]);
    check_open_write_refused("readonly.sysrq_write", "/proc/sysrq-trigger");
    check_open_write_refused("readonly.sys_hostname_write", "/proc/sys/kernel/hostname");
    check_open_write_refused("readonly.sys_core_pattern_write", "/proc/sys/kernel/core_pattern");

    /* sysfs would show the host's devices and firmware. */
    if (statfs("/sys", &sf) < 0)
        report("masked./sys", errno == ENOENT, "statfs(/sys): %s", errname(errno));
    else
        report("masked./sys", sf.f_type != SYSFS_MAGIC, "/sys is %s",
               sf.f_type == SYSFS_MAGIC ? "a sysfs" : "not a sysfs");
}

/* ------------------------------------------------------------------------------
 * rofs: system directories are read-only mounts; /tmp and /work are writable.
 */
static void check_create_refused(const char *id, const char *dir) {
    char path[256];
    int fd;

    /* A fresh name with O_EXCL never touches an existing file. */
    snprintf(path, sizeof(path), "%s/.labstack-probe-%d", dir, (int)getpid());
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
        close(fd);
        unlink(path);
        report(id, false, "created %s", path);
        return;
    }
    report(id, errno == EROFS, "create in %s: %s (EROFS expected)", dir, errname(errno));
}

static void check_write_existing_refused(const char *id, const char *path) {
    struct statvfs sv;
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    int e = errno;
    bool ro;

    if (fd >= 0) {
        close(fd);
        report(id, false, "opened %s for writing", path);
        return;
    }
    /* Permissions are checked before the mount flag, so EACCES does not prove a
     * read-only mount; ask the mount. */
    ro = statvfs(path, &sv) == 0 && (sv.f_flag & ST_RDONLY);
    report(id, e == EROFS || ((e == EACCES || e == EPERM) && ro),
           "open(%s, O_WRONLY): %s, mount %s", path, errname(e), ro ? "ro" : "rw or unknown");
}

static void check_writable(const char *id, const char *dir) {
    char path[256], back[8] = "";
    int fd;
    bool ok = false;
    int e = 0;

    snprintf(path, sizeof(path), "%s/.labstack-probe-%d", dir, (int)getpid());
    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        e = errno;
    } else {
        if (write(fd, "ok", 2) == 2 && pread(fd, back, 2, 0) == 2 && memcmp(back, "ok", 2) == 0)
            ok = true;
        else
            e = errno;
        close(fd);
        unlink(path);
    }
    report(id, ok, "write+read back in %s: %s", dir, ok ? "ok" : errname(e));
}

static void check_mount_flags(const char *path) {
    char id[96];
    struct statvfs sv;

    snprintf(id, sizeof(id), "rofs.nosuid_nodev.%s", path);
    if (statvfs(path, &sv) < 0) {
        report(id, errno == ENOENT, "statvfs: %s", errname(errno));
        return;
    }
    report(id, (sv.f_flag & ST_NOSUID) && (sv.f_flag & ST_NODEV), "%s%s",
           sv.f_flag & ST_NOSUID ? "nosuid" : "suid", sv.f_flag & ST_NODEV ? ",nodev" : ",dev");
}

static void check_rofs(void) {
    static const char *const flagged[] = { "/usr", "/usr/bin", "/etc/passwd", "/work", "/tmp",
                                           "/dev/shm" };

    check_create_refused("rofs.usr_bin", "/usr/bin");
    check_create_refused("rofs.bin", "/bin");
    check_create_refused("rofs.usr_lib", "/usr/lib");
    check_create_refused("rofs.etc", "/etc");
    check_write_existing_refused("rofs.etc_passwd", "/etc/passwd");
    check_writable("rofs.tmp_writable", "/tmp");
    check_writable("rofs.work_writable", "/work");
    for (size_t i = 0; i < sizeof(flagged) / sizeof(flagged[0]); i++)
        check_mount_flags(flagged[i]);
}

/* ------------------------------------------------------------------------------
 * syscalls: the dangerous families are refused.
 */
static char scratch[128];   /* a private path under /tmp for the attempts below */

static long try_mknod_chr(void *arg) {
    return mknod(scratch, S_IFCHR | 0600, makedev(1, 3));
}

static long try_mknod_blk(void *arg) {
    return mknod(scratch, S_IFBLK | 0600, makedev(7, 0));
}

static long try_mount(void *arg) {
    long r;
    int e;

    if (mkdir(scratch, 0700) < 0 && errno != EEXIST)
        return -2;
    r = mount("none", scratch, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k");
    e = errno;
    if (r == 0)
        umount2(scratch, MNT_DETACH);
    rmdir(scratch);
    errno = e;
    return r;
}

static long try_umount(void *arg) {
    long r;
    int e;

    /* Not a mount point: the kernel checks the capability first (EPERM), and only
     * then says EINVAL; nothing is ever unmounted. */
    if (mkdir(scratch, 0700) < 0 && errno != EEXIST)
        return -2;
    r = umount2(scratch, 0);
    e = errno;
    rmdir(scratch);
    errno = e;
    return r;
}

static long try_unshare(void *arg) {
    return unshare((int)(intptr_t)arg);
}

static long try_setns(void *arg) {
    int fd = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -3;
    return setns(fd, CLONE_NEWUTS);
}

static long try_traceme(void *arg) {
    return ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static long try_seize_pid1(void *arg) {
    /* SEIZE does not stop the tracee; the tracer's exit detaches it. */
    return ptrace(PTRACE_SEIZE, 1, NULL, NULL);
}

static long try_keyctl(void *arg) {
    return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
}

static long try_add_key(void *arg) {
    return syscall(SYS_add_key, "user", "labstack-probe", "x", 1, KEY_SPEC_PROCESS_KEYRING);
}

static long try_bpf(void *arg) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    return syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
}

static long try_perf(void *arg) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.type = PERF_TYPE_SOFTWARE;
    attr.size = sizeof(attr);
    attr.config = PERF_COUNT_SW_TASK_CLOCK;
    attr.disabled = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    return syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

static long try_io_uring(void *arg) {
    struct io_uring_params p;
    memset(&p, 0, sizeof(p));
    return syscall(SYS_io_uring_setup, 4, &p);
}

static long try_userfaultfd(void *arg) {
    return syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
}

static long try_pivot_root(void *arg) {
    /* Missing paths: the capability check comes first (EPERM); with the capability
     * the kernel only gets as far as ENOENT. */
    return syscall(SYS_pivot_root, "/nonexistent-labstack-probe", "/nonexistent-labstack-probe");
}

static long try_chroot(void *arg) {
    return chroot("/tmp");
}

static long try_init_module(void *arg) {
    return syscall(SYS_init_module, NULL, 0UL, "");
}

static long try_finit_module(void *arg) {
    return syscall(SYS_finit_module, -1, "", 0);
}

static long try_clone_newuser(void *arg) {
    long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, NULL, NULL, 0);
    if (r == 0)
        _exit(0);
    if (r > 0) {
        int e = errno;
        waitpid((pid_t)r, NULL, 0);
        errno = e;
    }
    return r;
}

static long try_clone3_newuser(void *arg) {
    struct clone_args ca;
    long r;

    memset(&ca, 0, sizeof(ca));
    ca.flags = CLONE_NEWUSER;
    ca.exit_signal = SIGCHLD;
    r = syscall(SYS_clone3, &ca, sizeof(ca));
    if (r == 0)
        _exit(0);
    if (r > 0) {
        int e = errno;
        waitpid((pid_t)r, NULL, 0);
        errno = e;
    }
    return r;
}

static long try_open_by_handle(void *arg) {
    struct {
        struct file_handle fh;
        unsigned char bytes[MAX_HANDLE_SZ];
    } h;
    int mount_id, root;

    memset(&h, 0, sizeof(h));
    h.fh.handle_bytes = MAX_HANDLE_SZ;
    if (name_to_handle_at(AT_FDCWD, "/", &h.fh, &mount_id, 0) < 0) {
        /* Still ask with a made-up handle: the capability check comes first. */
        h.fh.handle_bytes = 8;
        h.fh.handle_type = 1;
    }
    root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return open_by_handle_at(root, &h.fh, O_RDONLY | O_CLOEXEC);
}

static long try_swapon(void *arg) {
    return swapon("/nonexistent-labstack-probe", 0);
}

static long try_reboot(void *arg) {
    /* Bad magic: the capability check comes first (EPERM); with it, EINVAL. */
    return syscall(SYS_reboot, 0, 0, 0, NULL);
}

static long try_personality(void *arg) {
    long r = personality(PER_LINUX | ADDR_NO_RANDOMIZE);
    if (r == -1)
        return -1;
    /* personality() returns the previous persona; read back whether it stuck. */
    return (personality(0xffffffff) & ADDR_NO_RANDOMIZE) ? 0 : -1;
}

static void check_syscalls(void) {
    static const struct {
        const char *id;
        const char *what;
        attempt_fn fn;
        intptr_t arg;
    } cases[] = {
        { "syscalls.mknod_chr", "mknod(S_IFCHR 1:3)", try_mknod_chr, 0 },
        { "syscalls.mknod_blk", "mknod(S_IFBLK 7:0)", try_mknod_blk, 0 },
        { "syscalls.mount", "mount(tmpfs)", try_mount, 0 },
        { "syscalls.umount2", "umount2", try_umount, 0 },
        { "syscalls.unshare_user", "unshare(CLONE_NEWUSER)", try_unshare, CLONE_NEWUSER },
        { "syscalls.unshare_ns", "unshare(CLONE_NEWNS)", try_unshare, CLONE_NEWNS },
        { "syscalls.unshare_net", "unshare(CLONE_NEWNET)", try_unshare, CLONE_NEWNET },
        { "syscalls.setns", "setns(uts)", try_setns, 0 },
        { "syscalls.ptrace_traceme", "ptrace(PTRACE_TRACEME)", try_traceme, 0 },
        { "syscalls.ptrace_pid1", "ptrace(PTRACE_SEIZE, 1)", try_seize_pid1, 0 },
        { "syscalls.keyctl", "keyctl(GET_KEYRING_ID)", try_keyctl, 0 },
        { "syscalls.add_key", "add_key(user)", try_add_key, 0 },
        { "syscalls.bpf", "bpf(BPF_MAP_CREATE)", try_bpf, 0 },
        { "syscalls.perf_event_open", "perf_event_open(task clock, self)", try_perf, 0 },
        { "syscalls.io_uring_setup", "io_uring_setup", try_io_uring, 0 },
        { "syscalls.userfaultfd", "userfaultfd(UFFD_USER_MODE_ONLY)", try_userfaultfd, 0 },
        { "syscalls.pivot_root", "pivot_root", try_pivot_root, 0 },
        { "syscalls.chroot", "chroot(/tmp)", try_chroot, 0 },
        { "syscalls.init_module", "init_module", try_init_module, 0 },
        { "syscalls.finit_module", "finit_module", try_finit_module, 0 },
        { "syscalls.clone_newuser", "clone(CLONE_NEWUSER)", try_clone_newuser, 0 },
        { "syscalls.clone3_newuser", "clone3(CLONE_NEWUSER)", try_clone3_newuser, 0 },
        { "syscalls.open_by_handle_at", "open_by_handle_at(/)", try_open_by_handle, 0 },
        { "syscalls.swapon", "swapon", try_swapon, 0 },
        { "syscalls.reboot", "reboot(bad magic)", try_reboot, 0 },
        { "syscalls.personality", "personality(ADDR_NO_RANDOMIZE)", try_personality, 0 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct outcome o;
        snprintf(scratch, sizeof(scratch), "/tmp/.labstack-probe-%d-%zu", (int)getpid(), i);
        o = attempt(cases[i].fn, (void *)cases[i].arg);
        /* Undo whatever a successful attempt left in the file system. */
        if (cases[i].fn == try_mknod_chr || cases[i].fn == try_mknod_blk)
            unlink(scratch);
        report_refused(cases[i].id, cases[i].what, &o);
    }

    /* FIFOs are allowed (build tools use them). */
    snprintf(scratch, sizeof(scratch), "/tmp/.labstack-probe-%d-fifo", (int)getpid());
    if (mkfifo(scratch, 0600) == 0) {
        unlink(scratch);
        report("syscalls.mkfifo", true, "mkfifo in /tmp works");
    } else {
        report("syscalls.mkfifo", false, "mkfifo in /tmp: %s (FIFOs should be allowed)",
               errname(errno));
    }
}

/* ------------------------------------------------------------------------------
 * sockets: only the families a workload needs.
 */
static void check_socket(const char *id, const char *what, int domain, int type, int proto,
                         bool want_allowed) {
    int fd = socket(domain, type | SOCK_CLOEXEC, proto);
    int e = errno;

    if (fd >= 0)
        close(fd);
    if (want_allowed) {
        report(id, fd >= 0, "socket(%s): %s", what, fd >= 0 ? "allowed" : errname(e));
    } else if (fd >= 0) {
        report(id, false, "socket(%s) succeeded", what);
    } else if (e == EAFNOSUPPORT || e == EPROTONOSUPPORT) {
        /* The socket cannot be had.  Seccomp filters answer like a kernel without the
         * family, so from here we cannot tell which of the two refused. */
        report(id, true, "socket(%s): %s (refused by the filter, or family absent in the kernel)",
               what, errname(e));
    } else {
        report(id, e == EPERM || e == EACCES || e == ENOSYS, "socket(%s): %s", what, errname(e));
    }
}

static void check_sockets(void) {
    check_socket("sockets.packet", "AF_PACKET, SOCK_RAW", AF_PACKET, SOCK_RAW, htons(0x0003), false);
    check_socket("sockets.packet_dgram", "AF_PACKET, SOCK_DGRAM", AF_PACKET, SOCK_DGRAM,
                 htons(0x0003), false);
    check_socket("sockets.netlink_audit", "AF_NETLINK, NETLINK_AUDIT", AF_NETLINK, SOCK_RAW,
                 NETLINK_AUDIT, false);
    check_socket("sockets.netlink_uevent", "AF_NETLINK, NETLINK_KOBJECT_UEVENT", AF_NETLINK,
                 SOCK_DGRAM, NETLINK_KOBJECT_UEVENT, false);
    check_socket("sockets.netlink_sock_diag", "AF_NETLINK, NETLINK_SOCK_DIAG", AF_NETLINK,
                 SOCK_DGRAM, NETLINK_SOCK_DIAG, false);
    check_socket("sockets.netlink_netfilter", "AF_NETLINK, NETLINK_NETFILTER", AF_NETLINK,
                 SOCK_RAW, NETLINK_NETFILTER, false);
    check_socket("sockets.vsock", "AF_VSOCK", AF_VSOCK, SOCK_STREAM, 0, false);
    check_socket("sockets.alg", "AF_ALG", AF_ALG, SOCK_SEQPACKET, 0, false);
    check_socket("sockets.inet_raw", "AF_INET, SOCK_RAW", AF_INET, SOCK_RAW, IPPROTO_ICMP, false);
    check_socket("sockets.netlink_route", "AF_NETLINK, NETLINK_ROUTE", AF_NETLINK, SOCK_RAW,
                 NETLINK_ROUTE, true);
    check_socket("sockets.unix", "AF_UNIX, SOCK_STREAM", AF_UNIX, SOCK_STREAM, 0, true);
    check_socket("sockets.inet_tcp", "AF_INET, SOCK_STREAM", AF_INET, SOCK_STREAM, 0, true);
}

/* ------------------------------------------------------------------------------
 * net: only lo, up; the host's loopback and the outside are out of reach.
 */

/* Non-blocking connect; returns 0 when connected, else the errno (ETIMEDOUT after
 * timeout_ms of waiting). */
static int connect_errno(int domain, int type, const struct sockaddr *sa, socklen_t len,
                         int timeout_ms) {
    int fd = socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int e = 0;

    if (fd < 0)
        return errno;
    if (connect(fd, sa, len) < 0) {
        e = errno;
        if (e == EINPROGRESS) {
            struct pollfd pfd = { .fd = fd, .events = POLLOUT };
            socklen_t elen = sizeof(e);
            if (poll(&pfd, 1, timeout_ms) <= 0)
                e = ETIMEDOUT;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
                e = errno;
        }
    }
    close(fd);
    return e;
}

/* Expect "no route" for an outside address.  A UDP connect() is a pure route lookup
 * and sends nothing; TCP is tried only after that found no route, so that even on a
 * host with a default route no packet leaves the machine. */
static void check_unreachable(const char *id, int domain, const struct sockaddr *sa,
                              socklen_t len, const char *what) {
    int udp = connect_errno(domain, SOCK_DGRAM, sa, len, 0);
    int tcp;

    if (udp == 0) {
        report(id, false, "%s: a route exists (UDP connect succeeded; TCP not tried)", what);
        return;
    }
    if (udp != ENETUNREACH) {
        report(id, udp == EAFNOSUPPORT, "%s: UDP connect: %s (ENETUNREACH expected)", what,
               errname(udp));
        return;
    }
    tcp = connect_errno(domain, SOCK_STREAM, sa, len, 1000);
    report(id, tcp == ENETUNREACH, "%s: UDP and TCP connect: %s", what, errname(tcp));
}

static void check_net(const char *port_arg, const char *abstract_arg) {
    char buf[4096], names[256] = "";
    size_t nlen = 0;
    unsigned n_if = 0;
    bool only_lo = true;
    struct if_nameindex *ifs = if_nameindex();

    if (ifs) {
        for (struct if_nameindex *i = ifs; i->if_index; i++) {
            n_if++;
            if (strcmp(i->if_name, "lo") != 0)
                only_lo = false;
            if (nlen < sizeof(names))
                nlen += (size_t)snprintf(names + nlen, sizeof(names) - nlen, " %s", i->if_name);
        }
        if_freenameindex(ifs);
        report("net.only_lo", only_lo && n_if == 1, "interfaces:%s", names);
    } else {
        report("net.only_lo", false, "if_nameindex: %s", errname(errno));
    }

    /* The same from /proc/net/dev, which does not depend on netlink. */
    if (read_text("/proc/net/dev", buf, sizeof(buf)) > 0) {
        unsigned n = 0;
        bool lo_only = true;
        nlen = 0;
        names[0] = '\0';
        for (char *line = buf; line && *line;) {
            char *next = strchr(line, '\n');
            char *colon;
            if (next)
                *next++ = '\0';
            colon = strchr(line, ':');
            if (colon && !strchr(line, '|')) {
                char *name = line;
                *colon = '\0';
                while (*name == ' ')
                    name++;
                n++;
                if (strcmp(name, "lo") != 0)
                    lo_only = false;
                if (nlen < sizeof(names))
                    nlen += (size_t)snprintf(names + nlen, sizeof(names) - nlen, " %s", name);
            }
            line = next;
        }
        report("net.proc_net_dev", lo_only && n == 1, "/proc/net/dev:%s", names);
    } else {
        report("net.proc_net_dev", false, "cannot read /proc/net/dev");
    }

    {
        struct ifreq ifr;
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
        if (fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
            report("net.lo_up", (ifr.ifr_flags & IFF_UP) != 0, "lo flags 0x%x (%s)",
                   (unsigned)ifr.ifr_flags, ifr.ifr_flags & IFF_UP ? "UP" : "DOWN");
        else
            report("net.lo_up", false, "SIOCGIFFLAGS(lo): %s", errname(errno));
        if (fd >= 0)
            close(fd);
    }

    /* lo works: a listener of our own is reachable. */
    {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t slen = sizeof(sa);
        int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int e = -1;
        if (l >= 0 && bind(l, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(l, 1) == 0 &&
            getsockname(l, (struct sockaddr *)&sa, &slen) == 0)
            e = connect_errno(AF_INET, SOCK_STREAM, (struct sockaddr *)&sa, sizeof(sa), 1000);
        else
            e = errno;
        report("net.lo_works", e == 0, "connect to our own listener on 127.0.0.1: %s",
               e == 0 ? "ok" : errname(e));
        if (l >= 0)
            close(l);
    }

    if (port_arg) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int e;
        sa.sin_port = htons((uint16_t)strtoul(port_arg, NULL, 10));
        e = connect_errno(AF_INET, SOCK_STREAM, (struct sockaddr *)&sa, sizeof(sa), 2000);
        report("net.host_loopback", e == ECONNREFUSED,
               "connect to 127.0.0.1:%s (the host's listener): %s", port_arg,
               e == 0 ? "connected" : errname(e));
    }

    /* Abstract unix sockets belong to the network namespace: the host's (X11,
     * D-Bus, containerd shims...) must be out of reach. */
    if (abstract_arg) {
        struct sockaddr_un su = { .sun_family = AF_UNIX };
        size_t alen = strnlen(abstract_arg, sizeof(su.sun_path) - 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int e = 0;
        memcpy(su.sun_path + 1, abstract_arg, alen);
        if (fd < 0 || connect(fd, (struct sockaddr *)&su,
                              (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + alen)) < 0)
            e = errno;
        if (fd >= 0)
            close(fd);
        report("net.host_abstract", e == ECONNREFUSED,
               "connect to the host's abstract unix socket @%s: %s", abstract_arg,
               e == 0 ? "connected" : errname(e));
    }

    {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
        struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = htons(53) };
        struct sockaddr_in6 c = { .sin6_family = AF_INET6, .sin6_port = htons(53) };
        inet_pton(AF_INET, "198.51.100.1", &a.sin_addr);
        inet_pton(AF_INET, "192.0.2.1", &b.sin_addr);
        inet_pton(AF_INET6, "2001:db8::1", &c.sin6_addr);
        check_unreachable("net.unreachable_testnet2", AF_INET, (struct sockaddr *)&a, sizeof(a),
                          "198.51.100.1:80 (TEST-NET-2)");
        check_unreachable("net.unreachable_testnet1", AF_INET, (struct sockaddr *)&b, sizeof(b),
                          "192.0.2.1:53 (TEST-NET-1)");
        check_unreachable("net.unreachable_ipv6", AF_INET6, (struct sockaddr *)&c, sizeof(c),
                          "[2001:db8::1]:53 (documentation prefix)");
    }
}

/* ------------------------------------------------------------------------------
 * abi: the i386 and x32 entry points are killed.
 */
static long try_int80(void *arg) {
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(I386_NR_GETPID) : "memory", "r8", "r9",
                     "r10", "r11");
    return ret;
}

static long try_x32(void *arg) {
    return syscall(X32_SYSCALL_BIT | SYS_getpid);
}

static void check_abi(void) {
    struct outcome o;
    char d[128];

    o = attempt(try_int80, NULL);
    report("abi.i386", o.sig == SIGSYS, "int $0x80 getpid: %s (SIGSYS expected)",
           describe(&o, d, sizeof(d)));
    o = attempt(try_x32, NULL);
    report("abi.x32", o.sig == SIGSYS, "x32 getpid: %s (SIGSYS expected)",
           describe(&o, d, sizeof(d)));
}

/* ------------------------------------------------------------------------------
 * tiocsti: no typing into a terminal, even with the high bits of the request set.
 * The child makes a pty its controlling terminal so that the kernel itself would
 * allow TIOCSTI; a refusal can then only come from the sandbox.
 */
static long try_ioctl_on_ctty(void *arg) {
    unsigned long req = (unsigned long)(uintptr_t)arg;
    char name[64], c = 'x';
    int m, s;

    m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, name, sizeof(name)) != 0)
        return -100;
    if (setsid() < 0)
        return -101;
    s = open(name, O_RDWR | O_CLOEXEC);   /* a session leader without a tty acquires it */
    if (s < 0)
        return -102;
    (void)ioctl(s, TIOCSCTTY, 0);
    if (req == TIOCLINUX) {
        char sub = 11;   /* TIOCL_GETSHIFTSTATE, harmless */
        return syscall(SYS_ioctl, s, req, &sub);
    }
    return syscall(SYS_ioctl, s, req, &c);
}

static void check_tiocsti_case(const char *id, const char *what, unsigned long req) {
    struct outcome o = attempt(try_ioctl_on_ctty, (void *)(uintptr_t)req);
    char d[128];

    if (!o.sig && o.ret <= -100) {
        report(id, false, "%s: could not set up a pty to test with (step %ld, %s)", what,
               -o.ret - 100, errname(o.err));
        return;
    }
    report(id, !o.sig && o.ret == -1 && o.err == EPERM, "%s: %s (EPERM expected)", what,
           describe(&o, d, sizeof(d)));
}

static void check_tiocsti(void) {
    check_tiocsti_case("tiocsti.plain", "ioctl(ctty, TIOCSTI)", TIOCSTI);
    check_tiocsti_case("tiocsti.high_bits", "ioctl(ctty, 1<<32 | TIOCSTI)",
                       (1UL << 32) | TIOCSTI);
    check_tiocsti_case("tiocsti.tioclinux", "ioctl(ctty, TIOCLINUX)", TIOCLINUX);
}

/* ------------------------------------------------------------------------------
 * env: nothing but an allow-list reaches the command.
 */
static void check_env(int argc, char **argv) {
    static const char *const base[] = { "PATH", "HOME", "LANG", "TERM" };
    unsigned n = 0, bad = 0;

    for (char **e = environ; e && *e; e++) {
        size_t klen = strcspn(*e, "=");
        bool ok = false;
        for (size_t i = 0; i < sizeof(base) / sizeof(base[0]) && !ok; i++)
            ok = strlen(base[i]) == klen && strncmp(*e, base[i], klen) == 0;
        for (int i = 0; i < argc && !ok; i++)
            ok = strlen(argv[i]) == klen && strncmp(*e, argv[i], klen) == 0;
        n++;
        if (!ok)
            bad++;
        report("env.var", ok, "%s%s", *e, ok ? "" : " (not allowed)");
    }
    report("env.clean", bad == 0, "%u variable(s), %u not allowed", n, bad);
}

/* ------------------------------------------------------------------------------
 * uid: an unprivileged host uid, one mapped id, nothing to regain.
 */
static void check_idmap(const char *id, const char *path, unsigned long inside_id) {
    char buf[512];
    unsigned long in = 0, out = 0, count = 0;
    unsigned lines = 0;
    bool ok = false;
    unsigned long host = 0;

    if (read_text(path, buf, sizeof(buf)) < 0) {
        report(id, false, "cannot read %s: %s", path, errname(errno));
        return;
    }
    for (char *line = buf; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lines++;
        if (sscanf(line, "%lu %lu %lu", &in, &out, &count) == 3 && lines == 1) {
            host = out + (inside_id - in);
            ok = count == 1 && in == inside_id && out >= HOST_UID_MIN;
        }
        line = next;
    }
    if (lines == 1)
        report(id, ok, "%s: \"%lu %lu %lu\" host_id=%lu", path, in, out, count, host);
    else
        report(id, false, "%s has %u lines (one expected)", path, lines);
}

static long try_regain(void *arg) {
    char v[64];

    (void)setgroups(0, NULL);
    (void)setresgid(0, 0, 0);
    (void)setresuid(0, 0, 0);
    (void)setuid(0);
    if (status_field("CapEff", v, sizeof(v)) < 0)
        return -2;
    if (strtoull(v, NULL, 16) != 0)
        return 1;
    if (status_field("CapPrm", v, sizeof(v)) < 0)
        return -2;
    return strtoull(v, NULL, 16) != 0 ? 1 : 0;
}

static void check_uid(const char *want_arg) {
    uid_t r, e, s;
    gid_t gr, ge, gs;
    unsigned long want = want_arg ? strtoul(want_arg, NULL, 10) : 0;
    char buf[64];
    struct outcome o;

    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    report("uid.ids", r == want && e == want && s == want,
           "uid=%u euid=%u suid=%u gid=%u egid=%u sgid=%u (uid %lu expected)", (unsigned)r,
           (unsigned)e, (unsigned)s, (unsigned)gr, (unsigned)ge, (unsigned)gs, want);
    check_idmap("uid.uid_map", "/proc/self/uid_map", (unsigned long)getuid());
    check_idmap("uid.gid_map", "/proc/self/gid_map", (unsigned long)getgid());
    if (read_text("/proc/self/setgroups", buf, sizeof(buf)) > 0) {
        buf[strcspn(buf, "\n")] = '\0';
        report("uid.setgroups", strcmp(buf, "deny") == 0, "/proc/self/setgroups: %s", buf);
    } else {
        report("uid.setgroups", false, "cannot read /proc/self/setgroups");
    }
    o = attempt(try_regain, NULL);
    report("uid.regain", !o.sig && o.ret == 0,
           "after setgroups/setresgid/setresuid(0): %s",
           o.sig ? "child killed" : o.ret == 0 ? "CapEff and CapPrm still empty"
                                               : o.ret == 1 ? "capabilities gained"
                                                            : "cannot read status");
}

/* ------------------------------------------------------------------------------
 * escape: the mounts we see are the sandbox's own, whatever the workspace holds.
 */
static void check_escape(void) {
    struct statfs sf;
    struct stat st, root, tmp, work;

    if (statfs("/proc", &sf) == 0 && lstat("/proc", &st) == 0)
        report("escape.proc", sf.f_type == PROC_SUPER_MAGIC && S_ISDIR(st.st_mode),
               "/proc: f_type 0x%lx, %s", (unsigned long)sf.f_type,
               S_ISDIR(st.st_mode) ? "directory" : "not a directory");
    else
        report("escape.proc", false, "statfs(/proc): %s", errname(errno));

    if (statfs("/", &sf) == 0)
        report("escape.root_tmpfs", sf.f_type == TMPFS_MAGIC, "/: f_type 0x%lx (tmpfs is 0x%x)",
               (unsigned long)sf.f_type, TMPFS_MAGIC);
    else
        report("escape.root_tmpfs", false, "statfs(/): %s", errname(errno));

    if (lstat("/", &root) < 0) {
        report("escape.stat_root", false, "lstat(/): %s", errname(errno));
        return;
    }
    if (statfs("/tmp", &sf) == 0 && lstat("/tmp", &tmp) == 0)
        report("escape.tmp", sf.f_type == TMPFS_MAGIC && S_ISDIR(tmp.st_mode) &&
                                 tmp.st_dev != root.st_dev,
               "/tmp: f_type 0x%lx, %s, %s device as /", (unsigned long)sf.f_type,
               S_ISDIR(tmp.st_mode) ? "directory" : "not a directory",
               tmp.st_dev != root.st_dev ? "another" : "the same");
    else
        report("escape.tmp", false, "statfs(/tmp): %s", errname(errno));

    if (lstat("/work", &work) == 0)
        report("escape.work", S_ISDIR(work.st_mode) && work.st_dev != root.st_dev,
               "/work: %s, %s device as /",
               S_ISDIR(work.st_mode) ? "directory" : "not a directory",
               work.st_dev != root.st_dev ? "another" : "the same");
    else
        report("escape.work", false, "lstat(/work): %s", errname(errno));

    if (lstat("/dev/null", &st) == 0)
        report("escape.dev_null", S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
                                      minor(st.st_rdev) == 3,
               "/dev/null: %s %u:%u", S_ISCHR(st.st_mode) ? "char device" : "not a char device",
               major(st.st_rdev), minor(st.st_rdev));
    else
        report("escape.dev_null", false, "lstat(/dev/null): %s", errname(errno));

    /* Nothing of the host beyond the system binds: no homes, no runtime sockets. */
    {
        static const char *const host_dirs[] = { "/home", "/root", "/run", "/var/run", "/boot",
                                                  "/mnt", "/media", "/srv", "/sys" };
        for (size_t i = 0; i < sizeof(host_dirs) / sizeof(host_dirs[0]); i++) {
            char id[64];
            DIR *d = opendir(host_dirs[i]);
            unsigned n = 0;
            struct dirent *de;
            snprintf(id, sizeof(id), "escape.no_host_dir.%s", host_dirs[i]);
            if (!d) {
                report(id, true, "%s: %s", host_dirs[i], errname(errno));
                continue;
            }
            while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                    n++;
            closedir(d);
            report(id, n == 0, "%s holds %u entries", host_dirs[i], n);
        }
    }
    {
        /* Opened, never read. */
        int fd = open("/etc/shadow", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        int e = errno;
        if (fd >= 0)
            close(fd);
        report("escape.etc_shadow", fd < 0, "open(/etc/shadow): %s",
               fd >= 0 ? "succeeded" : errname(e));
    }

    {
        static const char *const sys[] = { "/etc", "/usr", "/dev", "/proc", "/tmp" };
        for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++) {
            char id[64];
            snprintf(id, sizeof(id), "escape.not_symlink.%s", sys[i]);
            if (lstat(sys[i], &st) == 0)
                report(id, !S_ISLNK(st.st_mode), "%s is %s", sys[i],
                       S_ISLNK(st.st_mode) ? "a symlink" : "not a symlink");
            else
                report(id, false, "lstat(%s): %s", sys[i], errname(errno));
        }
    }
}

/* ------------------------------------------------------------------------------
 * dev: a minimal /dev: no block device, no character device beyond the harmless ones.
 */
static unsigned dev_bad;
static char dev_bad_list[512];

static bool harmless_chr(dev_t rdev) {
    static const unsigned allowed[][2] = {
        { 1, 3 }, { 1, 5 }, { 1, 7 }, { 1, 8 }, { 1, 9 },   /* null zero full random urandom */
        { 5, 0 }, { 5, 2 },                               /* tty ptmx */
    };
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (major(rdev) == allowed[i][0] && minor(rdev) == allowed[i][1])
            return true;
    return major(rdev) >= 136 && major(rdev) <= 143; /* our own pty slaves */
}

static void walk_dev(const char *dir, int depth) {
    DIR *d = opendir(dir);
    struct dirent *de;

    if (!d)
        return;
    while ((de = readdir(d))) {
        char path[512];
        struct stat st;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (lstat(path, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < 4) {
            walk_dev(path, depth + 1);
        } else if (S_ISBLK(st.st_mode) || (S_ISCHR(st.st_mode) && !harmless_chr(st.st_rdev))) {
            char item[600];
            size_t len = strlen(dev_bad_list);
            int n = snprintf(item, sizeof(item), " %s(%c %u:%u)", path,
                             S_ISBLK(st.st_mode) ? 'b' : 'c', major(st.st_rdev), minor(st.st_rdev));
            dev_bad++;
            if (n > 0 && len + (size_t)n < sizeof(dev_bad_list))
                memcpy(dev_bad_list + len, item, (size_t)n + 1);
        }
    }
    closedir(d);
}

static void check_dev(void) {
    static const char *const absent[] = { "/dev/mem", "/dev/kmem", "/dev/port", "/dev/kmsg",
                                          "/dev/fuse", "/dev/net/tun", "/dev/kvm",
                                          "/dev/console" };
    struct stat st;
    char id[64];

    dev_bad = 0;
    dev_bad_list[0] = '\0';
    walk_dev("/dev", 0);
    report("dev.minimal", dev_bad == 0, "%u device node(s) beyond null zero full random urandom "
           "tty ptmx pts/*:%s", dev_bad, dev_bad ? dev_bad_list : " none");
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        snprintf(id, sizeof(id), "dev.absent.%s", absent[i]);
        report(id, lstat(absent[i], &st) < 0, "%s %s", absent[i],
               lstat(absent[i], &st) < 0 ? "absent" : "present");
    }
}

/* ------------------------------------------------------------------------------
 * sleeper: something that refuses to die, for the timeout and uid tests.
 */
static _Noreturn void sleep_forever(void) {
    for (;;)
        pause();
}

static int run_sleeper(void) {
    int p[2];
    pid_t child, grandchild = 0;
    FILE *f;

    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    if (pipe2(p, O_CLOEXEC) < 0)
        return 2;
    fflush(NULL);
    child = fork();
    if (child < 0)
        return 2;
    if (child == 0) {
        pid_t gc;
        setsid();
        gc = fork();
        if (gc == 0) {
            pid_t me = getpid();
            close(p[0]);
            if (write(p[1], &me, sizeof(me)) != (ssize_t)sizeof(me))
                _exit(2);
            close(p[1]);
            sleep_forever();
        }
        _exit(gc > 0 ? 0 : 2);
    }
    close(p[1]);
    if (read(p[0], &grandchild, sizeof(grandchild)) != (ssize_t)sizeof(grandchild))
        return 2;
    close(p[0]);
    waitpid(child, NULL, 0);
    f = fopen("/work/pids.tmp", "we");
    if (!f)
        return 2;
    fprintf(f, "%d %d\n", (int)getpid(), (int)grandchild);
    if (fclose(f) != 0 || rename("/work/pids.tmp", "/work/pids") < 0)
        return 2;
    printf("PROBE sleeper SAFE sleeping: pids %d %d\n", (int)getpid(), (int)grandchild);
    fflush(stdout);
    sleep_forever();
}

/* ------------------------------------------------------------------------------ */

static int usage(void);

/* ------------------------------------------------------------------------------
 * Hostile workloads for the resource-limit tests (tests/integration/test_limits.c).
 *
 * Unlike the checks above these do harm on purpose: they exhaust memory, pids, CPU,
 * /tmp and shared memory, or leave processes behind.  They are meant for the inside
 * of a sandbox only; the destructive ones refuse to start in the initial user
 * namespace (on the host).  Every process they create names itself
 * "lsprobe-<kind>" (its comm, at most 15 characters) so that the host can look for
 * survivors after the run.  Each says what it did, on stdout or (progress) stderr.
 */
#define MiB (1024UL * 1024UL)

/* true when this process is in a user namespace other than the initial one: the
 * initial namespace maps the whole id range onto itself ("0 0 4294967295"). */
static bool in_user_namespace(void) {
    char buf[256];
    unsigned long in, out, count;

    if (read_text("/proc/self/uid_map", buf, sizeof(buf)) <= 0)
        return false;
    if (sscanf(buf, "%lu %lu %lu", &in, &out, &count) != 3)
        return false;
    return !(in == 0 && out == 0 && count == 4294967295UL);
}

/* Refuse a destructive workload outside a sandbox.  Returns 0 to go on, or the exit
 * status (2) after saying why. */
static int guard(const char *kind) {
    if (in_user_namespace())
        return 0;
    fprintf(stderr, "probe %s: refusing to run outside a sandbox (this is the initial user "
                    "namespace, i.e. the host)\n", kind);
    return 2;
}

static void name_self(const char *comm) {
    (void)prctl(PR_SET_NAME, comm, 0, 0, 0);
}

/* A positive count from argv, or -1. */
static long parse_count(const char *arg, long max) {
    char *end;
    long v;

    if (!arg)
        return -1;
    errno = 0;
    v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v <= 0 || v > max)
        return -1;
    return v;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static _Noreturn void spin_forever(void) {
    for (;;)
        __asm__ volatile("" ::: "memory");
}

/* membomb: allocate and touch memory in 1 MiB chunks, forever. */
static _Noreturn void run_membomb(void) {
    unsigned long mib = 0, failures = 0;

    name_self("lsprobe-mem");
    printf("membomb: allocating 1 MiB chunks until stopped\n");
    for (;;) {
        char *p = mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            /* Not the expected end (that is the OOM killer): say so once, keep trying. */
            if (failures++ == 0)
                fprintf(stderr, "membomb: mmap after %lu MiB: %s, retrying\n", mib,
                        errname(errno));
            usleep(10000);
            continue;
        }
        memset(p, 0xa5, MiB);
        mib++;
        if (mib % 16 == 0)
            fprintf(stderr, "membomb: %lu MiB touched\n", mib);
    }
}

/* forkbomb: every process forks as fast as it can, forever; failures are counted
 * and the first process reports them (at 1, 2, 4, 8... failures). */
static _Noreturn void run_forkbomb(void) {
    unsigned long ok = 0, eagain = 0, other = 0, next_report = 1;
    bool first = true;

    name_self("lsprobe-fork");
    printf("forkbomb: forking until stopped\n");
    fflush(NULL);
    for (;;) {
        pid_t pid = fork();
        if (pid == 0) {
            first = false;
            continue;
        }
        if (pid > 0)
            ok++;
        else if (errno == EAGAIN)
            eagain++;
        else
            other++;
        if (first && eagain + other >= next_report) {
            fprintf(stderr, "forkbomb: %lu forks succeeded, %lu failed with EAGAIN, %lu failed "
                            "otherwise (%s)\n", ok, eagain, other,
                    pid < 0 ? errname(errno) : "-");
            next_report *= 2;
        }
    }
}

/* forkcount N: fork N sleeping children, stop at the first failure; exit 1 if a fork
 * failed.  The children are left to the sandbox. */
static int run_forkcount(const char *arg) {
    long n = parse_count(arg, 1000000), i;
    int e = 0;

    if (n < 0)
        return usage();
    name_self("lsprobe-forkcnt");
    fflush(NULL);
    for (i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0)
            sleep_forever();
        if (pid < 0) {
            e = errno;
            break;
        }
    }
    if (i < n)
        printf("forkcount: %ld of %ld forks succeeded, then fork failed: %s\n", i, n, errname(e));
    else
        printf("forkcount: %ld of %ld forks succeeded\n", i, n);
    return i < n ? 1 : 0;
}

/* spin T S: T processes busy-loop for S seconds (wall clock), then all exit 0. */
static int run_spin(const char *t_arg, const char *s_arg) {
    long t = parse_count(t_arg, 4096);
    double s = s_arg ? strtod(s_arg, NULL) : 0, end;
    long started = 0, failed = 0;

    if (t < 0 || !(s > 0))
        return usage();
    name_self("lsprobe-spin");
    end = now_s() + s;
    fflush(NULL);
    for (long i = 0; i < t; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            while (now_s() < end)
                for (volatile int k = 0; k < 100000; k++)
                    ;
            _exit(0);
        }
        if (pid < 0) {
            fprintf(stderr, "spin: fork: %s\n", errname(errno));
            break;
        }
        started++;
    }
    for (;;) {
        int status;
        pid_t pid = wait(&status);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed++;
    }
    printf("spin: %ld of %ld processes spun for %g s, %ld ended badly\n", started, t, s, failed);
    return started == t && failed == 0 ? 0 : 1;
}

/* filltmp: write /tmp/fill until a write fails; "ENOSPC after N bytes" is success. */
static int run_filltmp(void) {
    static char buf[65536];
    unsigned long long total = 0;
    int fd, e;

    /* Past RLIMIT_FSIZE the write fails with EFBIG instead of killing us. */
    signal(SIGXFSZ, SIG_IGN);
    name_self("lsprobe-fill");
    memset(buf, 'x', sizeof(buf));
    fd = open("/tmp/fill", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        printf("filltmp: open(/tmp/fill): %s\n", errname(errno));
        return 1;
    }
    for (;;) {
        ssize_t n = write(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            e = n < 0 ? errno : EIO;
            break;
        }
        total += (unsigned long long)n;
    }
    close(fd);
    printf("filltmp: %s after %llu bytes\n", errname(e), total);
    return e == ENOSPC ? 0 : 1;
}

/* inodes N: create up to N empty files in /tmp/i; "ENOSPC after K files" is success. */
static int run_inodes(const char *arg) {
    long n = parse_count(arg, 100000000), k;
    int e = 0;

    if (n < 0)
        return usage();
    name_self("lsprobe-inodes");
    if (mkdir("/tmp/i", 0755) < 0 && errno != EEXIST) {
        printf("inodes: mkdir(/tmp/i): %s\n", errname(errno));
        return 1;
    }
    for (k = 0; k < n; k++) {
        char path[64];
        int fd;
        snprintf(path, sizeof(path), "/tmp/i/%ld", k);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            e = errno;
            break;
        }
        close(fd);
    }
    if (k == n) {
        printf("inodes: all %ld files created\n", n);
        return 1;
    }
    printf("inodes: %s after %ld files\n", errname(e), k);
    return e == ENOSPC ? 0 : 1;
}

/* flood BYTES: write BYTES to stdout in 64 KiB writes. */
static int run_flood(const char *arg) {
    static char buf[65536];
    char *end;
    unsigned long long want, total = 0;

    errno = 0;
    want = arg ? strtoull(arg, &end, 10) : 0;
    if (!arg || errno || end == arg || *end)
        return usage();
    name_self("lsprobe-flood");
    memset(buf, 'f', sizeof(buf));
    while (total < want) {
        size_t len = want - total < sizeof(buf) ? (size_t)(want - total) : sizeof(buf);
        ssize_t n = write(STDOUT_FILENO, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "flood: write after %llu bytes: %s\n", total,
                    n < 0 ? errname(errno) : "wrote 0");
            return 1;
        }
        total += (unsigned long long)n;
    }
    fprintf(stderr, "flood: wrote %llu bytes\n", total);
    return 0;
}

/*
 * ignoreterm | stopped | daemon: leave a process behind that is hard to kill -- one
 * that ignores SIGTERM (and SIGINT, SIGHUP), one stopped by SIGSTOP, or a
 * double-forked setsid daemon -- and exit 0 as soon as it is in place.  The survivor
 * names itself lsprobe-<kind> and prints "lsprobe-<kind> ready pid N"; the sandbox
 * must kill it when the command ends.
 */
static int run_orphan(const char *kind) {
    bool stopped = strcmp(kind, "stopped") == 0, daemon = strcmp(kind, "daemon") == 0;
    char comm[16], c;
    int p[2], status;
    pid_t child;
    ssize_t n;

    snprintf(comm, sizeof(comm), "lsprobe-%s", strcmp(kind, "ignoreterm") == 0 ? "ignterm" : kind);
    if (pipe2(p, O_CLOEXEC) < 0)
        return 2;
    fflush(NULL);
    child = fork();
    if (child < 0) {
        printf("%s: fork: %s\n", kind, errname(errno));
        return 1;
    }
    if (child == 0) {
        close(p[0]);
        if (daemon) {
            pid_t gc;
            setsid();
            gc = fork();
            if (gc != 0)
                _exit(gc > 0 ? 0 : 2);
            umask(0);
            if (chdir("/") < 0)
                _exit(2);
        }
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        name_self(comm);
        printf("%s ready pid %d\n", comm, (int)getpid());
        fflush(stdout);
        if (write(p[1], "r", 1) != 1)
            _exit(2);
        close(p[1]);
        if (stopped)
            raise(SIGSTOP);
        sleep_forever();
    }
    close(p[1]);
    do
        n = read(p[0], &c, 1);
    while (n < 0 && errno == EINTR);
    close(p[0]);
    if (n != 1) {
        printf("%s: the child never got ready\n", kind);
        return 1;
    }
    if (daemon) {
        /* The intermediate child exits at once; the daemon is init's now. */
        waitpid(child, NULL, 0);
    } else if (stopped) {
        /* Leave only once the child is really stopped. */
        if (waitpid(child, &status, WUNTRACED) != child || !WIFSTOPPED(status)) {
            printf("%s: the child did not stop\n", kind);
            return 1;
        }
    }
    printf("%s: exiting, leaving %s behind\n", kind, comm);
    return 0;
}

/* shmleak MB: a SysV segment of MB MiB, every page touched, detached, never removed;
 * exit 0 unless a step failed. */
static int run_shmleak(const char *arg) {
    long mb = parse_count(arg, 1L << 20);
    long page = sysconf(_SC_PAGESIZE);
    struct shmid_ds ds;
    size_t size;
    char *p;
    int id;

    if (mb < 0)
        return usage();
    name_self("lsprobe-shm");
    size = (size_t)mb * MiB;
    id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
    if (id < 0) {
        printf("shmleak: shmget(%ld MiB): %s\n", mb, errname(errno));
        return 1;
    }
    p = shmat(id, NULL, 0);
    if (p == (void *)-1) {
        printf("shmleak: shmat: %s\n", errname(errno));
        return 1;
    }
    for (size_t off = 0; off < size; off += (size_t)page)
        p[off] = 1;
    if (shmdt(p) < 0) {
        printf("shmleak: shmdt: %s\n", errname(errno));
        return 1;
    }
    /* Whether the segment outlives its last detach is the IPC namespace's choice
     * (kernel.shm_rmid_forced); either way it was made, filled and never removed. */
    if (shmctl(id, IPC_STAT, &ds) < 0)
        printf("shmleak: segment %d of %ld MiB touched, detached, already gone after detach "
               "(IPC_STAT: %s; shm_rmid_forced?), not removed by us\n", id, mb, errname(errno));
    else
        printf("shmleak: segment %d of %ld MiB touched, detached, still exists (nattch %lu), "
               "not removed\n", id, mb, (unsigned long)ds.shm_nattch);
    return 0;
}

/* cputime: busy-loop forever, SIGXCPU ignored (so RLIMIT_CPU's soft limit alone does
 * not stop it).  cputime-children N: the same in N children while the parent waits;
 * when every child is gone the parent exits 0. */
static _Noreturn void run_cputime(void) {
    signal(SIGXCPU, SIG_IGN);
    name_self("lsprobe-cpu");
    printf("cputime: spinning until stopped\n");
    fflush(NULL);
    spin_forever();
}

static int run_cputime_children(const char *arg) {
    long n = parse_count(arg, 4096), started = 0;

    if (n < 0)
        return usage();
    name_self("lsprobe-cpu");
    fflush(NULL);
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            signal(SIGXCPU, SIG_IGN);
            spin_forever();
        }
        if (pid < 0) {
            printf("cputime-children: fork: %s\n", errname(errno));
            break;
        }
        started++;
    }
    printf("cputime-children: %ld of %ld children spinning\n", started, n);
    fflush(NULL);
    for (;;) {
        int status;
        pid_t pid = wait(&status);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (WIFSIGNALED(status))
            printf("cputime-children: child %d killed by signal %d\n", (int)pid,
                   WTERMSIG(status));
        else
            printf("cputime-children: child %d exited %d\n", (int)pid, WEXITSTATUS(status));
    }
    printf("cputime-children: every child is gone\n");
    return 0;
}

/* Run one of the workloads above; -1 when cmd is none of them. */
static int run_workload(const char *cmd, int argc, char **argv) {
    static const char *const destructive[] = {
        "membomb", "forkbomb", "forkcount", "filltmp", "inodes", "ignoreterm", "stopped",
        "daemon", "shmleak", "cputime", "cputime-children",
    };
    const char *a1 = argc > 2 ? argv[2] : NULL, *a2 = argc > 3 ? argv[3] : NULL;
    int r;

    for (size_t i = 0; i < sizeof(destructive) / sizeof(destructive[0]); i++)
        if (strcmp(cmd, destructive[i]) == 0 && (r = guard(cmd)) != 0)
            return r;
    if (strcmp(cmd, "membomb") == 0)
        run_membomb();
    if (strcmp(cmd, "forkbomb") == 0)
        run_forkbomb();
    if (strcmp(cmd, "forkcount") == 0)
        return run_forkcount(a1);
    if (strcmp(cmd, "spin") == 0)
        return run_spin(a1, a2);
    if (strcmp(cmd, "filltmp") == 0)
        return run_filltmp();
    if (strcmp(cmd, "inodes") == 0)
        return run_inodes(a1);
    if (strcmp(cmd, "flood") == 0)
        return run_flood(a1);
    if (strcmp(cmd, "ignoreterm") == 0 || strcmp(cmd, "stopped") == 0 ||
        strcmp(cmd, "daemon") == 0)
        return run_orphan(cmd);
    if (strcmp(cmd, "shmleak") == 0)
        return run_shmleak(a1);
    if (strcmp(cmd, "cputime") == 0)
        run_cputime();
    if (strcmp(cmd, "cputime-children") == 0)
        return run_cputime_children(a1);
    return -1;
}

/* ------------------------------------------------------------------------------
 * denied: four calls the default program refuses, made in this process (not in a
 * forked child), so that the run's result counts exactly one refusal of each:
 * mount(2) and unshare(CLONE_NEWUSER) EPERM, chmod(2) with the set-user-ID bit on a
 * file of our own (the kernel would allow it) EPERM, keyctl(2) EPERM.
 */
static void check_denied(void) {
    char path[128];
    int fd;
    long r;

    snprintf(path, sizeof(path), "/tmp/.labstack-probe-denied-%d", (int)getpid());
    errno = 0;
    r = mount("none", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k");
    report("denied.mount", r == -1 && errno == EPERM, "mount(tmpfs): %s",
           r == 0 ? "succeeded" : errname(errno));
    errno = 0;
    r = unshare(CLONE_NEWUSER);
    report("denied.unshare_user", r == -1 && errno == EPERM, "unshare(CLONE_NEWUSER): %s",
           r == 0 ? "succeeded" : errname(errno));
    fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (fd >= 0)
        close(fd);
    errno = 0;
    r = chmod(path, 04755);
    report("denied.chmod_setuid", fd >= 0 && r == -1 && errno == EPERM, "chmod(own file, 04755): %s",
           fd < 0 ? "cannot create the file" : r == 0 ? "succeeded" : errname(errno));
    unlink(path);
    errno = 0;
    r = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
    report("denied.keyctl", r == -1 && errno == EPERM, "keyctl(GET_KEYRING_ID): %s",
           r >= 0 ? "succeeded" : errname(errno));
}

/* denyloop N: N refused calls (keyctl, EPERM) and N allowed ones (getppid), timed. */
static int run_denyloop(const char *arg) {
    long n = parse_count(arg, 100000000);
    struct timespec t0, t1, t2;
    long refused = 0;

    if (n <= 0)
        return 2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++)
        if (syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) == -1 &&
            errno == EPERM)
            refused++;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    printf("denyloop: %ld calls, %ld refused with EPERM, %.0f ns per refused call, "
           "%.0f ns per allowed call\n",
           n, refused,
           ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / (double)n,
           ((double)(t2.tv_sec - t1.tv_sec) * 1e9 + (double)(t2.tv_nsec - t1.tv_nsec)) / (double)n);
    return refused == n ? 0 : 1;
}

/* ------------------------------------------------------------------------------
 * sys SPEC...: make raw syscalls and print what the kernel (and the filter) answered,
 * for tests/integration/test_policies.c, which compares it with `labstack policy test`.
 * SPEC is "NR[:ARG0[,ARG1...]]" (numbers in decimal or 0x hex; NR may carry the x32
 * bit); "i386:NR" makes an int $0x80 call.  Each call prints "SYS <spec> BEGIN" first,
 * so that a filter that kills the process shows which call did it, then
 * "SYS <spec> ret=<r> errno=<name>".  In-process: a strict policy refuses fork.
 */
static int run_sys(int argc, char **argv) {
    for (int i = 2; i < argc; i++) {
        const char *spec = argv[i];
        bool i386 = strncmp(spec, "i386:", 5) == 0;
        const char *p = i386 ? spec + 5 : spec;
        char *end;
        long args[6] = {0};
        long nr = (long)strtoull(p, &end, 0);
        if (end == p || (*end && *end != ':')) {
            fprintf(stderr, "sys: bad spec \"%s\"\n", spec);
            return 2;
        }
        for (int a = 0; *end == ':' || *end == ','; a++) {
            if (a >= 6) {
                fprintf(stderr, "sys: more than 6 arguments in \"%s\"\n", spec);
                return 2;
            }
            p = end + 1;
            args[a] = (long)strtoull(p, &end, 0);
            if (end == p) {
                fprintf(stderr, "sys: bad argument in \"%s\"\n", spec);
                return 2;
            }
        }
        printf("SYS %s BEGIN\n", spec);
        fflush(stdout);
        long r;
        errno = 0;
        if (i386) {
            /* The i386 entry point: the filter kills any other architecture. */
            __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(args[0]), "c"(args[1]),
                             "d"(args[2]) : "memory");
            if (r < 0 && r > -4096) {
                errno = (int)-r;
                r = -1;
            }
        } else {
            r = syscall(nr, args[0], args[1], args[2], args[3], args[4], args[5]);
        }
        printf("SYS %s ret=%ld errno=%s\n", spec, r, r < 0 ? errname(errno) : "0");
        fflush(stdout);
    }
    return 0;
}

static int usage(void) {
    fprintf(stderr,
            "usage: probe caps|fds|tty|proc|masked|rofs|syscalls|sockets|abi|tiocsti|escape|dev|denied|all\n"
            "       probe denyloop N | cwd\n"
            "       probe net [PORT|- [ABSTRACT-NAME]] | env [ALLOWED...] | uid [UID] | sleeper\n"
            "       probe sys NR[:ARG,...]|i386:NR[:ARG,...]...   (raw syscalls, results printed)\n"
            "workloads (hostile; inside a sandbox only):\n"
            "       probe membomb | forkbomb | forkcount N | spin T S | filltmp | inodes N\n"
            "       probe flood BYTES | ignoreterm | stopped | daemon | shmleak MB\n"
            "       probe cputime | cputime-children N\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *cmd;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2)
        return usage();
    cmd = argv[1];

    if (strcmp(cmd, "all") == 0) {
        check_fds();   /* first, before anything of ours is open */
        check_caps();
        check_tty();
        check_proc();
        check_masked();
        check_rofs();
        check_syscalls();
        check_sockets();
        check_net(NULL, NULL);
        check_abi();
        check_tiocsti();
        check_env(0, NULL);
        check_uid(NULL);
        check_escape();
        check_dev();
    } else if (strcmp(cmd, "caps") == 0) {
        check_caps();
    } else if (strcmp(cmd, "fds") == 0) {
        check_fds();
    } else if (strcmp(cmd, "tty") == 0) {
        check_tty();
    } else if (strcmp(cmd, "proc") == 0) {
        check_proc();
    } else if (strcmp(cmd, "masked") == 0) {
        check_masked();
    } else if (strcmp(cmd, "rofs") == 0) {
        check_rofs();
    } else if (strcmp(cmd, "syscalls") == 0) {
        check_syscalls();
    } else if (strcmp(cmd, "sockets") == 0) {
        check_sockets();
    } else if (strcmp(cmd, "net") == 0) {
        check_net(argc > 2 && strcmp(argv[2], "-") != 0 ? argv[2] : NULL, argc > 3 ? argv[3] : NULL);
    } else if (strcmp(cmd, "abi") == 0) {
        check_abi();
    } else if (strcmp(cmd, "tiocsti") == 0) {
        check_tiocsti();
    } else if (strcmp(cmd, "env") == 0) {
        check_env(argc - 2, argv + 2);
    } else if (strcmp(cmd, "uid") == 0) {
        check_uid(argc > 2 ? argv[2] : NULL);
    } else if (strcmp(cmd, "escape") == 0) {
        check_escape();
    } else if (strcmp(cmd, "dev") == 0) {
        check_dev();
    } else if (strcmp(cmd, "denied") == 0) {
        check_denied();
    } else if (strcmp(cmd, "denyloop") == 0) {
        return run_denyloop(argc > 2 ? argv[2] : NULL);
    } else if (strcmp(cmd, "cwd") == 0) {
        char buf[PATH_MAX];
        if (!getcwd(buf, sizeof(buf)))
            return 1;
        printf("%s\n", buf);
        return 0;
    } else if (strcmp(cmd, "sleeper") == 0) {
        return run_sleeper();
    } else if (strcmp(cmd, "sys") == 0) {
        return run_sys(argc, argv);
    } else {
        int r = run_workload(cmd, argc, argv);
        return r >= 0 ? r : usage();
    }

    printf("PROBE summary %s %u safe, %u fail\n", n_fail ? "FAIL" : "SAFE", n_safe, n_fail);
    return n_fail ? 1 : 0;
}
