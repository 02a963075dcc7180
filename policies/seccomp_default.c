/*
 * seccomp_default.c - the built-in seccomp spec: what untrusted build and test jobs
 * (a shell, make, gcc, Python, Node, the compiled test binaries) need, and no more.
 *
 * Modelled on Docker's default profile for amd64 with no capabilities (moby/profiles
 * seccomp/default.json), written as our own table.  Every x86_64 syscall that
 * libseccomp knows appears below, either allowed or in a "refused" group, so that a
 * reader sees a decision for each (tests/unit/test_seccomp.c checks completeness).
 * Refused entries are ERRNO(EPERM) like the default and cost nothing in the filter.
 * Numbers libseccomp has no name for (syscalls newer than it) fail with ENOSYS, so a
 * libc probing for them falls back to an older call.
 *
 * allow_unknown_names is set so that an older libseccomp, which lacks some recent
 * names (futex_wake, cachestat, ...), still builds the spec; those calls then fail
 * with ENOSYS.  The unit test builds this spec with the flag cleared to catch typos.
 *
 * Where we differ from Docker: ptrace, process_vm_readv/writev, name_to_handle_at,
 * fanotify_mark, modify_ldt, clock_adjtime, adjtimex and the never-implemented
 * epoll_ctl_old/epoll_wait_old are refused (Docker allows them without capabilities);
 * socket() is an allow-list of four families instead of a deny-list of two (AF_ALG,
 * AF_VSOCK); ioctl TIOCSTI/TIOCLINUX and mknod of device nodes are refused on
 * arguments.  clone() namespace flags are refused as in Docker (same seven flags),
 * but as denies in filter B rather than one masked allow.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "labstack/macros.h"
#include "labstack/seccomp.h"

/* Hand-aligned rule macros and syscall table: */
// clang-format off
#define ARG(i, o, v) { .index = (i), .op = LS_SECCOMP_##o, .value = (v) }
#define MASKED(i, m, v) { .index = (i), .op = LS_SECCOMP_MASKED_EQ, .value = (v), .mask = (m) }
#define N_ARGS(...) \
    (sizeof((struct ls_seccomp_arg[]){ __VA_ARGS__ }) / sizeof(struct ls_seccomp_arg))

#define ALLOW(name) { .syscall = (name), .action = LS_SECCOMP_ALLOW }
#define ALLOW_IF(name, ...) \
    { .syscall = (name), .action = LS_SECCOMP_ALLOW, .n_args = N_ARGS(__VA_ARGS__), \
      .args = { __VA_ARGS__ } }
#define REFUSE(name) { .syscall = (name), .action = LS_SECCOMP_ERRNO, .errno_ret = EPERM }
#define FAIL(name, e) { .syscall = (name), .action = LS_SECCOMP_ERRNO, .errno_ret = (e) }
#define FAIL_IF(name, e, ...) \
    { .syscall = (name), .action = LS_SECCOMP_ERRNO, .errno_ret = (e), \
      .n_args = N_ARGS(__VA_ARGS__), .args = { __VA_ARGS__ } }

/* socket(domain, type, protocol): every domain other than AF_UNIX, AF_INET, AF_INET6
 * and AF_NETLINK fails as if the kernel lacked it.  The kernel reads domain from the
 * low 32 bits while these comparisons see all 64: every value that is not exactly
 * 0..16 is caught by "GT 16", so a value such as 0x100000011 (AF_PACKET with high
 * bits) is refused.  Conversely "EQ 16 && protocol NE 0" also refuses a protocol
 * whose low 32 bits are 0 but high bits are not (fails closed). */
#define SOCKET_FAMILY(d) FAIL_IF("socket", EAFNOSUPPORT, ARG(0, EQ, (d)))
_Static_assert(AF_UNIX == 1 && AF_INET == 2 && AF_INET6 == 10 && AF_NETLINK == 16,
               "the socket rules enumerate every family below AF_NETLINK");

/* clone(flags, ...): no new namespaces.  The kernel takes the low 32 bits of flags;
 * the masks have no high bits, so the high word is never compared. */
#define CLONE_NS(f) FAIL_IF("clone", EPERM, MASKED(0, (uint64_t)(f), (uint64_t)(f)))

/* mknod(path, mode, dev) / mknodat(dirfd, path, mode, dev): no device nodes.  FIFOs
 * (mkfifo in test suites), sockets and regular files stay possible. */
#define NO_DEVICE(name, i) \
    FAIL_IF(name, EPERM, MASKED((i), S_IFMT, S_IFCHR)), \
    FAIL_IF(name, EPERM, MASKED((i), S_IFMT, S_IFBLK))

/* No set-user-ID or set-group-ID bit on anything the sandbox creates or chmods.  The
 * workspace is id-mapped so that the sandbox's uid is the workspace's owner on the
 * host (often root): a setuid file written there would be a setuid-root program on the
 * host.  mode is the i-th argument; open/openat only take a mode with O_CREAT or
 * O_TMPFILE, so those rules also look at the flags (a plain open's mode register may
 * hold garbage).  openat2 hides its mode in memory the filter cannot read: ENOSYS. */
#define NO_SETID(name, i) \
    FAIL_IF(name, EPERM, MASKED((i), S_ISUID, S_ISUID)), \
    FAIL_IF(name, EPERM, MASKED((i), S_ISGID, S_ISGID))
#define NO_SETID_CREATE(name, flags, mode) \
    FAIL_IF(name, EPERM, MASKED((flags), O_CREAT, O_CREAT), MASKED((mode), S_ISUID, S_ISUID)), \
    FAIL_IF(name, EPERM, MASKED((flags), O_CREAT, O_CREAT), MASKED((mode), S_ISGID, S_ISGID)), \
    FAIL_IF(name, EPERM, MASKED((flags), __O_TMPFILE, __O_TMPFILE), \
            MASKED((mode), S_ISUID, S_ISUID)), \
    FAIL_IF(name, EPERM, MASKED((flags), __O_TMPFILE, __O_TMPFILE), \
            MASKED((mode), S_ISGID, S_ISGID))

/* ioctl(fd, cmd, ...): cmd is an unsigned int, so compare the low 32 bits only and
 * 0x100005412 is TIOCSTI too (CVE-2019-10063 was that bypass). */
#define NO_IOCTL(cmd) FAIL_IF("ioctl", EPERM, MASKED(1, 0xffffffffULL, (cmd)))

/* The floor: argument denies every program gets, whatever its policy says (see
 * ls_seccomp_floor()).  They protect labstack's own mechanisms -- the id-mapped
 * workspace (set-id bits) and the terminal-injection ioctls -- and close a hole an
 * imported Docker profile would bring (its socket rule compares all 64 bits while the
 * kernel reads an int, so a family with high bits set passed it); they never stand in
 * the way of a legitimate test. */
#define FLOOR_RULES \
    FAIL_IF("socket", EAFNOSUPPORT, ARG(0, GT, 0xffffffffULL)), \
    NO_IOCTL(TIOCSTI), NO_IOCTL(TIOCLINUX), \
    NO_SETID("chmod", 1), NO_SETID("fchmod", 1), NO_SETID("fchmodat", 2), \
    NO_SETID("fchmodat2", 2), NO_SETID("creat", 1), NO_SETID("mknod", 1), \
    NO_SETID("mknodat", 2), NO_SETID_CREATE("open", 1, 2), NO_SETID_CREATE("openat", 2, 3)

/* Beyond the argument denies, the floor refuses outright the calls that could create a
 * file with a mode seccomp cannot see: openat2 (the mode is in struct open_how) and
 * io_uring (an IORING_OP_OPENAT carries it in the ring).  Unconditional, so they
 * replace whatever a policy says about these syscalls. */
static const struct ls_seccomp_rule floor_rules[] = {
    FLOOR_RULES,
    FAIL("openat2", ENOSYS),
    REFUSE("io_uring_setup"), REFUSE("io_uring_enter"), REFUSE("io_uring_register"),
};

static const struct ls_seccomp_rule default_rules[] = {
    /* File I/O and the file system tree. */
    ALLOW("read"), ALLOW("write"), ALLOW("readv"), ALLOW("writev"), ALLOW("pread64"),
    ALLOW("pwrite64"), ALLOW("preadv"), ALLOW("pwritev"), ALLOW("preadv2"), ALLOW("pwritev2"),
    ALLOW("open"), ALLOW("openat"), FAIL("openat2", ENOSYS), ALLOW("creat"), ALLOW("close"),
    ALLOW("close_range"), ALLOW("lseek"), ALLOW("dup"), ALLOW("dup2"), ALLOW("dup3"),
    ALLOW("fcntl"), ALLOW("flock"), ALLOW("ioctl"), ALLOW("pipe"), ALLOW("pipe2"),
    ALLOW("stat"), ALLOW("fstat"), ALLOW("lstat"), ALLOW("newfstatat"), ALLOW("statx"),
    ALLOW("statfs"), ALLOW("fstatfs"), ALLOW("access"), ALLOW("faccessat"), ALLOW("faccessat2"),
    ALLOW("getdents"), ALLOW("getdents64"), ALLOW("getcwd"), ALLOW("chdir"), ALLOW("fchdir"),
    ALLOW("mkdir"), ALLOW("mkdirat"), ALLOW("rmdir"), ALLOW("rename"), ALLOW("renameat"),
    ALLOW("renameat2"), ALLOW("link"), ALLOW("linkat"), ALLOW("unlink"), ALLOW("unlinkat"),
    ALLOW("symlink"), ALLOW("symlinkat"), ALLOW("readlink"), ALLOW("readlinkat"),
    ALLOW("mknod"), ALLOW("mknodat"), ALLOW("chmod"), ALLOW("fchmod"), ALLOW("fchmodat"),
    ALLOW("fchmodat2"), ALLOW("chown"), ALLOW("fchown"), ALLOW("lchown"), ALLOW("fchownat"),
    ALLOW("umask"), ALLOW("truncate"), ALLOW("ftruncate"), ALLOW("fallocate"),
    ALLOW("utime"), ALLOW("utimes"), ALLOW("futimesat"), ALLOW("utimensat"),
    ALLOW("fsync"), ALLOW("fdatasync"), ALLOW("sync"), ALLOW("syncfs"),
    ALLOW("sync_file_range"), ALLOW("readahead"), ALLOW("fadvise64"), ALLOW("cachestat"),
    ALLOW("sendfile"), ALLOW("copy_file_range"), ALLOW("splice"), ALLOW("tee"),
    ALLOW("vmsplice"),
    ALLOW("getxattr"), ALLOW("lgetxattr"), ALLOW("fgetxattr"), ALLOW("setxattr"),
    ALLOW("lsetxattr"), ALLOW("fsetxattr"), ALLOW("listxattr"), ALLOW("llistxattr"),
    ALLOW("flistxattr"), ALLOW("removexattr"), ALLOW("lremovexattr"), ALLOW("fremovexattr"),
    /* Asynchronous I/O (libaio; io_uring is refused below). */
    ALLOW("io_setup"), ALLOW("io_destroy"), ALLOW("io_submit"), ALLOW("io_cancel"),
    ALLOW("io_getevents"), ALLOW("io_pgetevents"),

    /* Waiting for events. */
    ALLOW("poll"), ALLOW("ppoll"), ALLOW("select"), ALLOW("pselect6"),
    ALLOW("epoll_create"), ALLOW("epoll_create1"), ALLOW("epoll_ctl"), ALLOW("epoll_wait"),
    ALLOW("epoll_pwait"), ALLOW("epoll_pwait2"), ALLOW("eventfd"), ALLOW("eventfd2"),
    ALLOW("signalfd"), ALLOW("signalfd4"), ALLOW("timerfd_create"), ALLOW("timerfd_settime"),
    ALLOW("timerfd_gettime"), ALLOW("inotify_init"), ALLOW("inotify_init1"),
    ALLOW("inotify_add_watch"), ALLOW("inotify_rm_watch"),

    /* Memory. */
    ALLOW("brk"), ALLOW("mmap"), ALLOW("munmap"), ALLOW("mprotect"), ALLOW("mremap"),
    ALLOW("madvise"), ALLOW("msync"), ALLOW("mincore"), ALLOW("mlock"), ALLOW("mlock2"),
    ALLOW("munlock"), ALLOW("mlockall"), ALLOW("munlockall"), ALLOW("remap_file_pages"),
    ALLOW("memfd_create"), ALLOW("memfd_secret"), ALLOW("pkey_alloc"), ALLOW("pkey_free"),
    ALLOW("pkey_mprotect"), ALLOW("membarrier"), ALLOW("map_shadow_stack"),
    ALLOW("process_mrelease"),

    /* Signals. */
    ALLOW("rt_sigaction"), ALLOW("rt_sigprocmask"), ALLOW("rt_sigreturn"),
    ALLOW("rt_sigpending"), ALLOW("rt_sigtimedwait"), ALLOW("rt_sigsuspend"),
    ALLOW("rt_sigqueueinfo"), ALLOW("rt_tgsigqueueinfo"), ALLOW("sigaltstack"), ALLOW("pause"),
    ALLOW("kill"), ALLOW("tkill"), ALLOW("tgkill"), ALLOW("pidfd_send_signal"),
    ALLOW("restart_syscall"),

    /* Time: reading clocks, sleeping, timers.  Setting clocks is refused below. */
    ALLOW("clock_gettime"), ALLOW("clock_getres"), ALLOW("clock_nanosleep"),
    ALLOW("gettimeofday"), ALLOW("time"), ALLOW("nanosleep"), ALLOW("alarm"),
    ALLOW("getitimer"), ALLOW("setitimer"), ALLOW("timer_create"), ALLOW("timer_settime"),
    ALLOW("timer_gettime"), ALLOW("timer_getoverrun"), ALLOW("timer_delete"), ALLOW("times"),

    /* Processes and threads.  clone() is further restricted below; clone3() passes its
     * flags in memory that seccomp cannot read, so it fails with ENOSYS and libc falls
     * back to clone(). */
    ALLOW("clone"), FAIL("clone3", ENOSYS), ALLOW("fork"), ALLOW("vfork"), ALLOW("execve"),
    ALLOW("execveat"), ALLOW("exit"), ALLOW("exit_group"), ALLOW("wait4"), ALLOW("waitid"),
    ALLOW("pidfd_open"), ALLOW("getpid"), ALLOW("getppid"), ALLOW("gettid"),
    ALLOW("getpgrp"), ALLOW("getpgid"), ALLOW("setpgid"), ALLOW("getsid"), ALLOW("setsid"),
    ALLOW("set_tid_address"), ALLOW("set_robust_list"), ALLOW("get_robust_list"),
    ALLOW("futex"), ALLOW("futex_waitv"), ALLOW("futex_wake"), ALLOW("futex_wait"),
    ALLOW("futex_requeue"), ALLOW("rseq"), ALLOW("arch_prctl"), ALLOW("set_thread_area"),
    ALLOW("get_thread_area"), ALLOW("prctl"), ALLOW("seccomp"),
    ALLOW("landlock_create_ruleset"), ALLOW("landlock_add_rule"),
    ALLOW("landlock_restrict_self"), ALLOW("capget"), ALLOW("capset"),

    /* Scheduling and resource limits (within what an unprivileged process may do). */
    ALLOW("sched_yield"), ALLOW("sched_getaffinity"), ALLOW("sched_setaffinity"),
    ALLOW("sched_getparam"), ALLOW("sched_setparam"), ALLOW("sched_getscheduler"),
    ALLOW("sched_setscheduler"), ALLOW("sched_get_priority_max"),
    ALLOW("sched_get_priority_min"), ALLOW("sched_rr_get_interval"), ALLOW("sched_getattr"),
    ALLOW("sched_setattr"), ALLOW("getpriority"), ALLOW("setpriority"), ALLOW("ioprio_get"),
    ALLOW("ioprio_set"), ALLOW("getrlimit"), ALLOW("setrlimit"), ALLOW("prlimit64"),
    ALLOW("getrusage"),

    /* System information. */
    ALLOW("uname"), ALLOW("sysinfo"), ALLOW("getcpu"), ALLOW("getrandom"),

    /* Credentials (no capabilities: only shuffling the ids one already has). */
    ALLOW("getuid"), ALLOW("geteuid"), ALLOW("getgid"), ALLOW("getegid"), ALLOW("getresuid"),
    ALLOW("getresgid"), ALLOW("getgroups"), ALLOW("setuid"), ALLOW("setgid"),
    ALLOW("setreuid"), ALLOW("setregid"), ALLOW("setresuid"), ALLOW("setresgid"),
    ALLOW("setgroups"), ALLOW("setfsuid"), ALLOW("setfsgid"),

    /* Sockets.  socket() is restricted to four families below. */
    ALLOW("socket"), ALLOW("socketpair"), ALLOW("bind"), ALLOW("listen"), ALLOW("connect"),
    ALLOW("accept"), ALLOW("accept4"), ALLOW("shutdown"), ALLOW("getsockname"),
    ALLOW("getpeername"), ALLOW("getsockopt"), ALLOW("setsockopt"), ALLOW("sendto"),
    ALLOW("recvfrom"), ALLOW("sendmsg"), ALLOW("recvmsg"), ALLOW("sendmmsg"),
    ALLOW("recvmmsg"),

    /* System V and POSIX IPC (the sandbox has its own IPC namespace). */
    ALLOW("shmget"), ALLOW("shmat"), ALLOW("shmdt"), ALLOW("shmctl"), ALLOW("semget"),
    ALLOW("semop"), ALLOW("semtimedop"), ALLOW("semctl"), ALLOW("msgget"), ALLOW("msgsnd"),
    ALLOW("msgrcv"), ALLOW("msgctl"), ALLOW("mq_open"), ALLOW("mq_unlink"),
    ALLOW("mq_timedsend"), ALLOW("mq_timedreceive"), ALLOW("mq_notify"),
    ALLOW("mq_getsetattr"),

    /* personality(): only Docker's harmless values, among them 0xffffffff (query).  The
     * kernel takes the low 32 bits but these compare all 64, so a value with high bits
     * set is refused (fails closed; glibc truncates to 32 bits before the call).
     * libseccomp 2.5.4 takes one comparison per argument and rule, so "none of five
     * values" cannot be one deny rule: the set is an allow-list in filter A instead. */
    ALLOW_IF("personality", ARG(0, EQ, 0x0)),
    ALLOW_IF("personality", ARG(0, EQ, 0x0008)),     /* PER_LINUX32 */
    ALLOW_IF("personality", ARG(0, EQ, 0x20000)),    /* UNAME26 */
    ALLOW_IF("personality", ARG(0, EQ, 0x20008)),    /* UNAME26 | PER_LINUX32 */
    ALLOW_IF("personality", ARG(0, EQ, 0xffffffff)), /* query */

    /* Argument denies (filter B): these win over the allows above. */
    SOCKET_FAMILY(AF_UNSPEC), SOCKET_FAMILY(AF_AX25), SOCKET_FAMILY(AF_IPX),
    SOCKET_FAMILY(AF_APPLETALK), SOCKET_FAMILY(AF_NETROM), SOCKET_FAMILY(AF_BRIDGE),
    SOCKET_FAMILY(AF_ATMPVC), SOCKET_FAMILY(AF_X25), SOCKET_FAMILY(AF_ROSE),
    SOCKET_FAMILY(AF_DECnet), SOCKET_FAMILY(AF_NETBEUI), SOCKET_FAMILY(AF_SECURITY),
    SOCKET_FAMILY(AF_KEY),
    FAIL_IF("socket", EAFNOSUPPORT, ARG(0, GT, AF_NETLINK)),
    FAIL_IF("socket", EPROTONOSUPPORT, ARG(0, EQ, AF_NETLINK), ARG(2, NE, NETLINK_ROUTE)),
    CLONE_NS(CLONE_NEWNS), CLONE_NS(CLONE_NEWCGROUP), CLONE_NS(CLONE_NEWUTS),
    CLONE_NS(CLONE_NEWIPC), CLONE_NS(CLONE_NEWUSER), CLONE_NS(CLONE_NEWPID),
    CLONE_NS(CLONE_NEWNET),
    NO_DEVICE("mknod", 1), NO_DEVICE("mknodat", 2),
    FLOOR_RULES,

    /* Refused: other processes' memory and file descriptors. */
    REFUSE("ptrace"), REFUSE("process_vm_readv"), REFUSE("process_vm_writev"),
    REFUSE("process_madvise"), REFUSE("pidfd_getfd"), REFUSE("kcmp"),
    /* Refused: mounts and the root. */
    REFUSE("mount"), REFUSE("umount2"), REFUSE("fsopen"), REFUSE("fsconfig"),
    REFUSE("fsmount"), REFUSE("fspick"), REFUSE("open_tree"), REFUSE("move_mount"),
    REFUSE("mount_setattr"), REFUSE("pivot_root"), REFUSE("chroot"),
    /* Refused: namespaces (clone() flags are checked above). */
    REFUSE("unshare"), REFUSE("setns"),
    /* Refused: kernel attack surface with a long CVE record. */
    REFUSE("keyctl"), REFUSE("add_key"), REFUSE("request_key"), REFUSE("bpf"),
    REFUSE("perf_event_open"), REFUSE("io_uring_setup"), REFUSE("io_uring_enter"),
    REFUSE("io_uring_register"), REFUSE("userfaultfd"),
    /* Refused: the kernel itself. */
    REFUSE("init_module"), REFUSE("finit_module"), REFUSE("delete_module"),
    REFUSE("create_module"), REFUSE("get_kernel_syms"), REFUSE("query_module"),
    REFUSE("kexec_load"), REFUSE("kexec_file_load"), REFUSE("reboot"), REFUSE("swapon"),
    REFUSE("swapoff"), REFUSE("syslog"), REFUSE("acct"), REFUSE("quotactl"),
    REFUSE("quotactl_fd"), REFUSE("_sysctl"),
    /* Refused: clocks.  adjtimex/clock_adjtime can also just read, but the mode that
     * writes is a field in memory seccomp cannot see. */
    REFUSE("settimeofday"), REFUSE("clock_settime"), REFUSE("clock_adjtime"),
    REFUSE("adjtimex"),
    /* Refused: host and domain name.  The UTS namespace is private and the sandbox has
     * no CAP_SYS_ADMIN, so the kernel would refuse anyway; nothing a build needs. */
    REFUSE("sethostname"), REFUSE("setdomainname"),
    /* Refused: hardware and terminals. */
    REFUSE("iopl"), REFUSE("ioperm"), REFUSE("modify_ldt"), REFUSE("vhangup"),
    /* Refused: file handles and whole-filesystem watches. */
    REFUSE("name_to_handle_at"), REFUSE("open_by_handle_at"), REFUSE("lookup_dcookie"),
    REFUSE("fanotify_init"), REFUSE("fanotify_mark"),
    /* Refused: NUMA policy (Docker requires CAP_SYS_NICE). */
    REFUSE("mbind"), REFUSE("set_mempolicy"), REFUSE("get_mempolicy"),
    REFUSE("set_mempolicy_home_node"), REFUSE("migrate_pages"), REFUSE("move_pages"),
    /* Refused: obsolete or never implemented on x86_64. */
    REFUSE("uselib"), REFUSE("ustat"), REFUSE("sysfs"), REFUSE("nfsservctl"),
    REFUSE("getpmsg"), REFUSE("putpmsg"), REFUSE("afs_syscall"), REFUSE("tuxcall"),
    REFUSE("security"), REFUSE("vserver"), REFUSE("epoll_ctl_old"), REFUSE("epoll_wait_old"),
};

// clang-format on

static const struct ls_seccomp_spec default_spec = {
    .default_errno = EPERM,
    .unknown_errno = ENOSYS,
    .rules = default_rules,
    .n_rules = ELEMENTSOF(default_rules),
    .allow_unknown_names = true,
};

/* The built-in spec; static storage, never freed. */
const struct ls_seccomp_spec *ls_seccomp_default_spec(void) {
    return &default_spec;
}

const struct ls_seccomp_rule *ls_seccomp_floor(size_t *ret_n) {
    *ret_n = ELEMENTSOF(floor_rules);
    return floor_rules;
}
