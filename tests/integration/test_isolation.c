/*
 * test_isolation.c - every isolation property of a sandbox, checked from the inside
 * with the static probe (tests/probe/probe.c) and from the outside by looking at the
 * host, through the `labstack sandbox run` CLI.
 *
 * Each test builds a fresh workspace holding the probe, runs
 * `labstack sandbox run --workspace WS --result-json R -- /work/probe <check>`,
 * and asserts: exit status 0, no "PROBE ... FAIL" line, a SAFE line for every id the
 * check must report, and a result JSON that says the command exited 0 as an
 * unprivileged host uid.  Every FAIL line is printed before the asserts fire, so one
 * run lists every finding.  Further tests drive the CLI's other contracts: exit
 * statuses, the wall-clock limit (nothing survives it), the output cap, read-only
 * binds, setup failures, the environment, workspaces full of symlinks, the working
 * directory (--cwd), and the count of refused syscalls in the result (and its absence
 * when the kernel gives no listener).
 *
 * Needs root (exit 77 otherwise); meson passes LABSTACK and PROBE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define PROBE_IN_SANDBOX "/work/probe"

struct fixture {
    struct it_box box;
    struct it_run run;
    char extra_dir[128];   /* a host directory some tests bind in; removed in teardown */
};

static int setup(void **state) {
    struct fixture *f = calloc(1, sizeof(*f));
    int r;

    if (!f)
        return -1;
    f->run.pid = -1;
    r = it_box_new(&f->box, true);
    if (r < 0) {
        fprintf(stderr, "cannot create a workspace: %s\n", strerror(-r));
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int rm_tree_shallow(const char *dir) {
    char **names = it_list_dir(dir);
    for (size_t i = 0; names && names[i]; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    it_strv_free(names);
    return rmdir(dir);
}

static int teardown(void **state) {
    struct fixture *f = *state;

    it_run_clear(&f->run);
    it_box_free(&f->box);
    if (f->extra_dir[0])
        rm_tree_shallow(f->extra_dir);
    free(f);
    return 0;
}

/* ---- common assertions ---- */

/* The result JSON of a run that ended by exit(code). */
static void assert_result_exited(const struct it_run *run, int code) {
    const json_t *r = run->result;

    if (!r)
        it_run_dump(run);
    assert_non_null(r);
    assert_non_null(it_json_str(r, "reason"));
    assert_string_equal(it_json_str(r, "reason"), "exited");
    assert_int_equal(it_json_int(r, "exit_code", -999), code);
    assert_int_equal(it_json_int(r, "signal", -999), 0);
    assert_true(it_json_int(r, "host_uid", -1) >= (long long)IT_HOST_UID_MIN);
    assert_true(it_json_int(r, "wall_ms", -1) >= 0);
    assert_true(it_json_int(r, "user_ms", -1) >= 0);
    assert_true(it_json_int(r, "sys_ms", -1) >= 0);
    /* What the CLI printed is exactly what the command wrote. */
    assert_int_equal(it_json_int(r, "stdout_bytes", -1), (long long)run->out_len);
    assert_true(it_json_int(r, "stderr_bytes", -1) >= 0);
    assert_int_equal(it_json_bool(r, "stdout_truncated"), 0);
    assert_int_equal(it_json_bool(r, "stderr_truncated"), 0);
    assert_true(json_object_get(r, "error") == NULL || json_is_null(json_object_get(r, "error")));
}

/* A probe run: exit 0, no FAIL, a SAFE for each id, a clean result. */
static void assert_probe_ok(const struct it_run *run, const char *const *ids) {
    unsigned missing = 0;
    unsigned fails = it_probe_verdicts(run, ids, &missing);

    if (fails || missing || run->exit_code != 0 || run->hung)
        it_run_dump(run);
    assert_false(run->hung);
    assert_int_equal(fails, 0);
    assert_int_equal(missing, 0);
    assert_int_equal(run->exit_code, 0);
    assert_result_exited(run, 0);
}

/* Run /work/probe ARGS... with OPTS and check it. */
static void probe(struct fixture *f, const char *const *opts, const char *const *args,
                  const char *const *envp, const char *const *ids) {
    const char *cmd[16] = { PROBE_IN_SANDBOX };
    size_t n = 1;

    for (size_t i = 0; args && args[i] && n + 1 < sizeof(cmd) / sizeof(cmd[0]); i++)
        cmd[n++] = args[i];
    cmd[n] = NULL;
    it_run_clear(&f->run);
    assert_int_equal(it_sandbox(&f->box, opts, cmd, envp, &f->run), 0);
    assert_probe_ok(&f->run, ids);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define IDS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ---- the probe's checks, one test each ---- */

static void test_caps(void **state) {
    probe(*state, NULL, ARGS("caps"), NULL,
          IDS("caps.CapInh", "caps.CapPrm", "caps.CapEff", "caps.CapBnd", "caps.CapAmb",
              "caps.NoNewPrivs", "caps.prctl_nnp", "caps.Seccomp"));
}

static void test_fds(void **state) {
    probe(*state, NULL, ARGS("fds"), NULL, IDS("fds.only_stdio", "fds.stdio_open"));
}

static void test_tty(void **state) {
    probe(*state, NULL, ARGS("tty"), NULL, IDS("tty.dev_tty", "tty.tty_nr", "tty.session"));
}

static void test_proc(void **state) {
    probe(*state, NULL, ARGS("proc"), NULL,
          IDS("proc.count", "proc.host_names", "proc.pid1", "proc.self_pid", "proc.init_environ",
              "proc.init_mem", "proc.init_root"));
}

static void test_masked(void **state) {
    probe(*state, NULL, ARGS("masked"), NULL,
          IDS("masked./proc/kcore", "masked./proc/keys", "masked./proc/timer_list",
              "masked./proc/sched_debug", "masked./proc/latency_stats", "masked./proc/acpi",
              "masked./proc/asound", "masked./proc/scsi", "masked./sys/firmware", "masked./sys",
              "readonly./proc/sys", "readonly./proc/sysrq-trigger", "readonly./proc/irq",
              "readonly./proc/bus", "readonly./proc/fs", "readonly.sysrq_write",
              "readonly.sys_hostname_write", "readonly.sys_core_pattern_write"));
}

static void test_rofs(void **state) {
    probe(*state, NULL, ARGS("rofs"), NULL,
          IDS("rofs.usr_bin", "rofs.bin", "rofs.usr_lib", "rofs.etc", "rofs.etc_passwd",
              "rofs.tmp_writable", "rofs.work_writable", "rofs.nosuid_nodev./usr",
              "rofs.nosuid_nodev./usr/bin", "rofs.nosuid_nodev./etc/passwd",
              "rofs.nosuid_nodev./work", "rofs.nosuid_nodev./tmp"));
}

static void test_syscalls(void **state) {
    probe(*state, NULL, ARGS("syscalls"), NULL,
          IDS("syscalls.mknod_chr", "syscalls.mknod_blk", "syscalls.mount", "syscalls.umount2",
              "syscalls.unshare_user", "syscalls.unshare_ns", "syscalls.unshare_net",
              "syscalls.setns", "syscalls.ptrace_traceme", "syscalls.ptrace_pid1",
              "syscalls.keyctl", "syscalls.add_key", "syscalls.bpf", "syscalls.perf_event_open",
              "syscalls.io_uring_setup", "syscalls.userfaultfd", "syscalls.pivot_root",
              "syscalls.chroot", "syscalls.init_module", "syscalls.finit_module",
              "syscalls.clone_newuser", "syscalls.clone3_newuser", "syscalls.open_by_handle_at",
              "syscalls.swapon", "syscalls.reboot", "syscalls.personality", "syscalls.mkfifo"));
}

static void test_sockets(void **state) {
    probe(*state, NULL, ARGS("sockets"), NULL,
          IDS("sockets.packet", "sockets.packet_dgram", "sockets.netlink_audit",
              "sockets.netlink_uevent", "sockets.netlink_sock_diag", "sockets.netlink_netfilter",
              "sockets.vsock", "sockets.alg", "sockets.inet_raw", "sockets.netlink_route",
              "sockets.unix", "sockets.inet_tcp"));
}

static void test_abi(void **state) {
    probe(*state, NULL, ARGS("abi"), NULL, IDS("abi.i386", "abi.x32"));
}

static void test_tiocsti(void **state) {
    probe(*state, NULL, ARGS("tiocsti"), NULL,
          IDS("tiocsti.plain", "tiocsti.high_bits", "tiocsti.tioclinux"));
}

static void test_escape(void **state) {
    probe(*state, NULL, ARGS("escape"), NULL,
          IDS("escape.proc", "escape.root_tmpfs", "escape.tmp", "escape.work",
              "escape.dev_null", "escape.no_host_dir./home", "escape.no_host_dir./root",
              "escape.no_host_dir./run", "escape.no_host_dir./var/run",
              "escape.no_host_dir./boot", "escape.no_host_dir./mnt", "escape.no_host_dir./media",
              "escape.no_host_dir./srv", "escape.no_host_dir./sys", "escape.etc_shadow"));
}

static void test_dev(void **state) {
    probe(*state, NULL, ARGS("dev"), NULL,
          IDS("dev.minimal", "dev.absent./dev/mem", "dev.absent./dev/kmem", "dev.absent./dev/port",
              "dev.absent./dev/kmsg", "dev.absent./dev/fuse", "dev.absent./dev/net/tun",
              "dev.absent./dev/kvm", "dev.absent./dev/console"));
}

/* Only lo, up; the host's loopback listener and abstract unix socket are out of
 * reach (the sandbox's 127.0.0.1 and abstract namespace are its own); no route
 * anywhere else. */
static void test_net(void **state) {
    struct fixture *f = *state;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct sockaddr_un su = { .sun_family = AF_UNIX };
    socklen_t len = sizeof(sa);
    char port[16], abstract[64];
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int c;

    assert_true(l >= 0);
    assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(l, 8), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &len), 0);
    snprintf(port, sizeof(port), "%u", ntohs(sa.sin_port));

    assert_true(u >= 0);
    snprintf(abstract, sizeof(abstract), "labstack-it-%d-%ld", (int)getpid(), (long)time(NULL));
    memcpy(su.sun_path + 1, abstract, strlen(abstract));
    assert_int_equal(bind(u, (struct sockaddr *)&su,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(abstract))),
                     0);
    assert_int_equal(listen(u, 8), 0);

    probe(f, NULL, ARGS("net", port, abstract), NULL,
          IDS("net.only_lo", "net.proc_net_dev", "net.lo_up", "net.lo_works", "net.host_loopback",
              "net.host_abstract", "net.unreachable_testnet2", "net.unreachable_testnet1"));
    /* And from this side: nobody knocked. */
    c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (c >= 0)
        close(c);
    assert_true(c < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
    c = accept4(u, NULL, NULL, SOCK_CLOEXEC);
    if (c >= 0)
        close(c);
    assert_true(c < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
    close(l);
    close(u);
}

/* The CLI's own environment (with a secret in it) does not reach the command; --env
 * does. */
static void test_env(void **state) {
    struct fixture *f = *state;
    static const char *const envp[] = {
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME=/root",
        "LABSTACK_TEST_SECRET=hunter2",
        "AWS_SECRET_ACCESS_KEY=hunter3",
        NULL,
    };

    probe(f, ARGS("--env", "FOO=bar"), ARGS("env", "FOO"), envp, IDS("env.clean"));
    assert_null(strstr(f->run.out, "hunter2"));
    assert_null(strstr(f->run.out, "hunter3"));
    assert_null(strstr(f->run.out, "LABSTACK_TEST_SECRET"));
    assert_non_null(strstr(f->run.out, "PROBE env.var SAFE FOO=bar\n"));
}

/* Inside: uid 0 (or --uid), one mapped id, the host id the result reports. */
static unsigned long host_id_from_probe(const struct it_run *run, const char *id) {
    char needle[64];
    const char *p, *h;

    snprintf(needle, sizeof(needle), "PROBE %s SAFE", id);
    p = strstr(run->out, needle);
    assert_non_null(p);
    h = strstr(p, "host_id=");
    assert_non_null(h);
    return strtoul(h + 8, NULL, 10);
}

static void test_uid_inside(void **state) {
    struct fixture *f = *state;
    static const char *const ids[] = { "uid.ids", "uid.uid_map", "uid.gid_map", "uid.setgroups",
                                       "uid.regain", NULL };
    unsigned long host;

    probe(f, NULL, ARGS("uid"), NULL, ids);
    host = host_id_from_probe(&f->run, "uid.uid_map");
    assert_true(host >= IT_HOST_UID_MIN);
    assert_int_equal(it_json_int(f->run.result, "host_uid", -1), (long long)host);

    probe(f, ARGS("--uid", "1000"), ARGS("uid", "1000"), NULL, ids);
    assert_non_null(strstr(f->run.out, "\"1000 "));
    host = host_id_from_probe(&f->run, "uid.uid_map");
    assert_true(host >= IT_HOST_UID_MIN);
    assert_int_equal(it_json_int(f->run.result, "host_uid", -1), (long long)host);
}

/* ---- runs watched from the host ---- */

/*
 * Start `probe sleeper` and find its processes on the host: procs[0] the main
 * sleeper and procs[1] its setsid'ed grandchild (matched by their pids inside the
 * sandbox, which the sleeper writes to /work/pids), procs[2] the sandbox's init (the
 * main sleeper's parent, pid 1 inside).  Entries not found stay zeroed.  Returns how
 * many were found (3 expected).
 */
static size_t start_sleeper(struct fixture *f, const char *const *opts, struct it_proc procs[3]) {
    static const char *const cmdline[] = { PROBE_IN_SANDBOX, "sleeper", NULL };
    char pids_path[256], *text = NULL;
    struct it_proc found[16];
    int inner_main = 0, inner_gc = 0;
    size_t n = 0, nf;

    memset(procs, 0, 3 * sizeof(*procs));
    snprintf(pids_path, sizeof(pids_path), "%s/pids", f->box.ws);
    assert_int_equal(it_start(&f->box, opts, ARGS(PROBE_IN_SANDBOX, "sleeper"), NULL, &f->run),
                     0);
    for (int i = 0; i < 1500 && !(text = it_read_file(pids_path, NULL)); i++) {
        siginfo_t info = { .si_pid = 0 };
        /* Peek only (WNOWAIT): it_wait() reaps and collects the output. */
        if (waitid(P_PID, (id_t)f->run.pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            info.si_pid == f->run.pid) {
            fprintf(stderr, "the CLI ended (code %d, status %d) before the sleeper wrote "
                            "/work/pids\n", info.si_code, info.si_status);
            break;
        }
        usleep(10000);
    }
    if (!text) {
        fprintf(stderr, "no /work/pids from the sleeper\n");
        return 0;
    }
    assert_int_equal(sscanf(text, "%d %d", &inner_main, &inner_gc), 2);
    free(text);

    nf = it_find_procs(cmdline, found, 16);
    for (size_t i = 0; i < nf && i < 16; i++) {
        if (found[i].inner_pid == inner_main && !procs[0].pid) {
            procs[0] = found[i];
            n++;
        } else if (found[i].inner_pid == inner_gc && !procs[1].pid) {
            procs[1] = found[i];
            n++;
        }
    }
    if (procs[0].pid && it_proc_read(procs[0].ppid, &procs[2]) == 0) {
        if (procs[2].inner_pid == 1)
            n++;
        else
            memset(&procs[2], 0, sizeof(procs[2]));
    }
    fprintf(stderr, "sleeper: inner pids %d %d; host processes:", inner_main, inner_gc);
    for (size_t i = 0; i < 3; i++)
        if (procs[i].pid)
            fprintf(stderr, " %d (inner %d, uid %lu)", (int)procs[i].pid,
                    (int)procs[i].inner_pid, procs[i].uid[0]);
    fprintf(stderr, "\n");
    return n;
}

/* The sandbox's processes run as an unprivileged host uid, without groups. */
static void test_uid_on_host(void **state) {
    struct fixture *f = *state;
    struct it_proc procs[3];
    size_t n;

    n = start_sleeper(f, ARGS("--timeout", "10"), procs);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        fprintf(stderr, "pid %d: Uid %lu %lu %lu %lu Gid %lu %lu %lu %lu Groups '%s' CapEff %s\n",
                (int)procs[i].pid, procs[i].uid[0], procs[i].uid[1], procs[i].uid[2],
                procs[i].uid[3], procs[i].gid[0], procs[i].gid[1], procs[i].gid[2],
                procs[i].gid[3], procs[i].groups, procs[i].cap_eff);
        for (int k = 0; k < 4; k++) {
            assert_true(procs[i].uid[k] >= IT_HOST_UID_MIN);
            assert_true(procs[i].gid[k] >= IT_HOST_UID_MIN);
        }
        assert_string_equal(procs[i].groups, "");
    }
    /* The sleepers themselves hold no capability at all. */
    assert_true(strtoull(procs[0].cap_eff, NULL, 16) == 0);
    assert_true(strtoull(procs[1].cap_eff, NULL, 16) == 0);

    assert_int_equal(it_wait(&f->box, &f->run, 60), 0);
    assert_non_null(f->run.result);
    assert_int_equal(it_json_int(f->run.result, "host_uid", -1), (long long)procs[0].uid[0]);
}

/* --timeout kills everything in the sandbox, including a setsid'ed grandchild that
 * ignores SIGTERM. */
static void test_timeout(void **state) {
    static const char *const cmdline[] = { PROBE_IN_SANDBOX, "sleeper", NULL };
    struct fixture *f = *state;
    struct it_proc procs[3], left[16];
    struct timespec t0, t1;
    size_t n, n_left;
    long long wall;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    n = start_sleeper(f, ARGS("--timeout", "2"), procs);
    assert_int_equal(it_wait(&f->box, &f->run, 60), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    if (f->run.exit_code != 137 || !f->run.result)
        it_run_dump(&f->run);
    assert_true(n >= 2);
    assert_false(f->run.hung);
    assert_int_equal(f->run.exit_code, 128 + SIGKILL);
    assert_non_null(f->run.result);
    assert_non_null(it_json_str(f->run.result, "reason"));
    assert_string_equal(it_json_str(f->run.result, "reason"), "timeout");
    assert_int_equal(it_json_int(f->run.result, "signal", -1), SIGKILL);
    assert_int_equal(it_json_int(f->run.result, "exit_code", -1), -1);
    wall = it_json_int(f->run.result, "wall_ms", -1);
    fprintf(stderr, "timeout: wall_ms %lld, CLI took %ld ms\n", wall,
            (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
    assert_true(wall >= 1900 && wall < 10000);

    /* Nothing survived: not the processes we saw, not any other sleeper. */
    for (size_t i = 0; i < 3; i++) {
        if (!procs[i].pid)
            continue;
        if (it_proc_alive(&procs[i]))
            fprintf(stderr, "still alive after the timeout: host pid %d\n", (int)procs[i].pid);
        assert_false(it_proc_alive(&procs[i]));
    }
    n_left = it_find_procs(cmdline, left, 16);
    for (size_t i = 0; i < n_left && i < 16; i++)
        fprintf(stderr, "a sleeper survived: host pid %d\n", (int)left[i].pid);
    assert_int_equal(n_left, 0);
}

/* ---- exit statuses ---- */

static void run_cmd(struct fixture *f, const char *const *opts, const char *const *cmd) {
    it_run_clear(&f->run);
    assert_int_equal(it_sandbox(&f->box, opts, cmd, NULL, &f->run), 0);
    assert_false(f->run.hung);
}

/* Run CMD with no options; it must exit 0. */
static void run_cmd_ok(struct fixture *f, const char *const *cmd) {
    run_cmd(f, NULL, cmd);
    if (f->run.exit_code != 0)
        it_run_dump(&f->run);
    assert_int_equal(f->run.exit_code, 0);
    assert_result_exited(&f->run, 0);
}

static void test_exit_not_found(void **state) {
    struct fixture *f = *state;

    run_cmd(f, NULL, ARGS("/work/nonexistent"));
    if (f->run.exit_code != 127)
        it_run_dump(&f->run);
    fprintf(stderr, "not found: reason %s\n", it_json_str(f->run.result, "reason"));
    assert_int_equal(f->run.exit_code, 127);
}

static void test_exit_not_executable(void **state) {
    struct fixture *f = *state;
    char path[256];

    snprintf(path, sizeof(path), "%s/data.txt", f->box.ws);
    assert_int_equal(it_write_file(path, "echo hi\n", 0644), 0);
    run_cmd(f, NULL, ARGS("/work/data.txt"));
    if (f->run.exit_code != 126)
        it_run_dump(&f->run);
    fprintf(stderr, "not executable: reason %s\n", it_json_str(f->run.result, "reason"));
    assert_int_equal(f->run.exit_code, 126);
}

static void test_exit_code(void **state) {
    struct fixture *f = *state;

    run_cmd(f, NULL, ARGS("sh", "-c", "exit 3"));
    if (f->run.exit_code != 3)
        it_run_dump(&f->run);
    assert_int_equal(f->run.exit_code, 3);
    assert_result_exited(&f->run, 3);
}

static void test_exit_signal(void **state) {
    struct fixture *f = *state;

    run_cmd(f, NULL, ARGS("sh", "-c", "kill -SEGV $$"));
    if (f->run.exit_code != 128 + SIGSEGV || !f->run.result)
        it_run_dump(&f->run);
    assert_int_equal(f->run.exit_code, 128 + SIGSEGV);
    assert_non_null(f->run.result);
    assert_non_null(it_json_str(f->run.result, "reason"));
    assert_string_equal(it_json_str(f->run.result, "reason"), "signaled");
    assert_int_equal(it_json_int(f->run.result, "signal", -1), SIGSEGV);
}

/* The output cap: exactly the cap is delivered, the rest is cut and the run killed. */
static void test_stdout_limit(void **state) {
    struct fixture *f = *state;

    run_cmd(f, ARGS("--stdout-limit", "1000"), ARGS("sh", "-c", "yes"));
    if (!f->run.result || f->run.out_len != 1000)
        it_run_dump(&f->run);
    assert_non_null(f->run.result);
    assert_non_null(it_json_str(f->run.result, "reason"));
    assert_string_equal(it_json_str(f->run.result, "reason"), "output_limit");
    assert_int_equal(it_json_bool(f->run.result, "stdout_truncated"), 1);
    assert_int_equal(it_json_int(f->run.result, "stdout_bytes", -1), 1000);
    assert_int_equal(f->run.out_len, 1000);
    assert_int_not_equal(f->run.exit_code, 0);
}

/* A sandbox that cannot be built says so: 125 and the failing step. */
static void test_setup_failed(void **state) {
    struct fixture *f = *state;
    const char *step;

    run_cmd(f, ARGS("--ro-bind", "/nonexistent-labstack-it-src:/data"), ARGS("/bin/true"));
    if (f->run.exit_code != 125 || !f->run.result)
        it_run_dump(&f->run);
    assert_int_equal(f->run.exit_code, 125);
    assert_non_null(f->run.result);
    assert_non_null(it_json_str(f->run.result, "reason"));
    assert_string_equal(it_json_str(f->run.result, "reason"), "setup_failed");
    step = it_json_str(json_object_get(f->run.result, "error"), "step");
    assert_non_null(step);
    assert_true(step[0] != '\0');
    assert_non_null(it_json_str(json_object_get(f->run.result, "error"), "message"));
    fprintf(stderr, "setup failed at step '%s': %s\n", step,
            it_json_str(json_object_get(f->run.result, "error"), "message"));
}

/* ---- binds ---- */

static void make_host_dir(struct fixture *f, const char *template) {
    char file[256];

    snprintf(f->extra_dir, sizeof(f->extra_dir), "%s", template);
    assert_non_null(mkdtemp(f->extra_dir));
    assert_int_equal(chmod(f->extra_dir, 0755), 0);
    snprintf(file, sizeof(file), "%s/f", f->extra_dir);
    assert_int_equal(it_write_file(file, "hello\n", 0644), 0);
}

static const char *const ro_script =
    "cat \"$1\"/f; "
    "if (echo x > \"$1\"/new) 2>/dev/null; then echo WRITABLE; else echo READONLY; fi; "
    "if touch \"$1\"/f 2>/dev/null; then echo TOUCHED; fi; "
    "if rm \"$1\"/f 2>/dev/null; then echo REMOVED; fi";

static void assert_ro_outcome(struct fixture *f) {
    char path[256];
    struct stat st;

    if (f->run.exit_code != 0 || strcmp(f->run.out, "hello\nREADONLY\n") != 0)
        it_run_dump(&f->run);
    assert_int_equal(f->run.exit_code, 0);
    assert_string_equal(f->run.out, "hello\nREADONLY\n");
    snprintf(path, sizeof(path), "%s/new", f->extra_dir);
    assert_int_equal(lstat(path, &st), -1);
    snprintf(path, sizeof(path), "%s/f", f->extra_dir);
    assert_int_equal(lstat(path, &st), 0);
}

static void test_ro_bind(void **state) {
    struct fixture *f = *state;
    char bind[256];

    make_host_dir(f, "/tmp/labstack-it-ro-XXXXXX");
    snprintf(bind, sizeof(bind), "%s:/data", f->extra_dir);
    run_cmd(f, ARGS("--ro-bind", bind), ARGS("sh", "-c", ro_script, "sh", "/data"));
    assert_ro_outcome(f);
}

static void test_ro_bind_same_path(void **state) {
    struct fixture *f = *state;

    make_host_dir(f, "/var/tmp/labstack-it-ro-XXXXXX");
    run_cmd(f, ARGS("--ro-bind", f->extra_dir), ARGS("sh", "-c", ro_script, "sh", f->extra_dir));
    assert_ro_outcome(f);
}

/* ---- what the workload leaves in the workspace ---- */

/*
 * The workspace is the one place where the sandbox writes host files.  Whatever
 * the workload does there, it must not leave a set-user-ID or set-group-ID program
 * that runs, on the host, as a host identity (an id below the sandbox range: root,
 * or the workspace's owner): anyone who later runs it from the workspace would
 * become that identity.
 */
static void test_workspace_setid(void **state) {
    static const char *const script =
        "cp /work/probe /work/suid && chmod 4755 /work/suid; "
        "cp /work/probe /work/sgid && chmod 2755 /work/sgid; "
        "cp /work/probe /work/both && chmod 6755 /work/both; "
        "mkdir /work/sgid-dir && chmod 2777 /work/sgid-dir; "
        "ls -ln /work; true";
    static const char *const names[] = { "suid", "sgid", "both", "sgid-dir" };
    struct fixture *f = *state;
    unsigned bad = 0;

    run_cmd(f, NULL, ARGS("sh", "-c", script));
    assert_int_equal(f->run.exit_code, 0);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[256];
        struct stat st;
        bool suid_host, sgid_host;

        snprintf(path, sizeof(path), "%s/%s", f->box.ws, names[i]);
        if (lstat(path, &st) < 0)
            continue;
        /* Defuse at once: nobody may run it while the test looks. */
        chmod(path, S_ISDIR(st.st_mode) ? 0700 : 0600);
        suid_host = (st.st_mode & S_ISUID) && st.st_uid < IT_HOST_UID_MIN;
        sgid_host = (st.st_mode & S_ISGID) && (st.st_mode & S_IXGRP) &&
                    st.st_gid < IT_HOST_UID_MIN;
        fprintf(stderr, "host view of /work/%s: mode %04o owner %u:%u%s\n", names[i],
                (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid,
                S_ISREG(st.st_mode) && (suid_host || sgid_host)
                    ? " <- a set-id program for a host identity"
                    : "");
        if (S_ISREG(st.st_mode) && (suid_host || sgid_host))
            bad++;
    }
    assert_int_equal(bad, 0);
}

/* ---- a workspace full of symlinks ---- */

struct host_view {
    char **root, **etc, **mounts;
};

static void host_view_take(struct host_view *v) {
    v->root = it_list_dir("/");
    v->etc = it_list_dir("/etc");
    v->mounts = it_mount_points();
    assert_non_null(v->root);
    assert_non_null(v->etc);
    assert_non_null(v->mounts);
}

static void host_view_free(struct host_view *v) {
    it_strv_free(v->root);
    it_strv_free(v->etc);
    it_strv_free(v->mounts);
}

/* Nothing appeared in / or /etc, no mount came or went. */
static void assert_host_unchanged(const struct host_view *before) {
    struct host_view now;
    size_t changed = 0;

    host_view_take(&now);
    changed += it_strv_print_added("new in /: ", before->root, now.root);
    changed += it_strv_print_added("new in /etc: ", before->etc, now.etc);
    changed += it_strv_print_added("new host mount: ", before->mounts, now.mounts);
    changed += it_strv_print_added("host mount gone: ", now.mounts, before->mounts);
    host_view_free(&now);
    assert_int_equal(changed, 0);
}

static void assert_symlinks_intact(const struct fixture *f) {
    static const char *const links[][2] = {
        { "tmp", "/" }, { "proc", "/etc" }, { "dev", "/" }, { "work", "/" }, { "etc", "/etc" },
    };
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        char path[256], target[256];
        ssize_t n;
        snprintf(path, sizeof(path), "%s/%s", f->box.ws, links[i][0]);
        n = readlink(path, target, sizeof(target) - 1);
        assert_true(n > 0);
        target[n] = '\0';
        assert_string_equal(target, links[i][1]);
    }
}

static void test_symlink_workspace(void **state) {
    static const char *const links[][2] = {
        { "tmp", "/" }, { "proc", "/etc" }, { "dev", "/" }, { "work", "/" }, { "etc", "/etc" },
    };
    static const char *const dsts[] = { "/work/tmp/x", "/work/dev/x", "/work/proc/x",
                                        "/work/work/x", "/work/etc/labstack-it-x" };
    static const char *const escape_ids[] = { "escape.proc", "escape.root_tmpfs", "escape.tmp",
                                              "escape.work", "escape.dev_null", NULL };
    struct fixture *f = *state;
    struct host_view before;
    char path[256];

    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", f->box.ws, links[i][0]);
        assert_int_equal(symlink(links[i][1], path), 0);
    }
    snprintf(path, sizeof(path), "%s/file.txt", f->box.ws);
    assert_int_equal(it_write_file(path, "data\n", 0644), 0);
    host_view_take(&before);

    /* The workspace's symlinks are the workload's business, not the sandbox's. */
    probe(f, NULL, ARGS("escape"), NULL, escape_ids);
    assert_host_unchanged(&before);
    assert_symlinks_intact(f);

    /* A bind whose destination goes through a workspace symlink: fail cleanly or land
     * inside the sandbox, never on the host. */
    for (size_t i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
        char bind[256];
        snprintf(bind, sizeof(bind), "/usr/share:%s", dsts[i]);
        it_run_clear(&f->run);
        assert_int_equal(it_sandbox(&f->box, ARGS("--ro-bind", bind),
                                    ARGS(PROBE_IN_SANDBOX, "escape"), NULL, &f->run),
                         0);
        fprintf(stderr, "--ro-bind %s: exit %d, reason %s, error step '%s': %s\n", bind,
                f->run.exit_code, it_json_str(f->run.result, "reason"),
                it_json_str(json_object_get(f->run.result, "error"), "step"),
                it_json_str(json_object_get(f->run.result, "error"), "message"));
        if (f->run.exit_code == 125) {
            const char *step = it_json_str(json_object_get(f->run.result, "error"), "step");
            assert_non_null(f->run.result);
            assert_string_equal(it_json_str(f->run.result, "reason"), "setup_failed");
            assert_non_null(step);
            assert_true(step[0] != '\0');
            assert_true(f->run.err_len > 0);
        } else {
            assert_probe_ok(&f->run, escape_ids);
        }
        assert_host_unchanged(&before);
        assert_symlinks_intact(f);
        assert_int_equal(access("/x", F_OK), -1);
        assert_int_equal(access("/etc/x", F_OK), -1);
        assert_int_equal(access("/etc/labstack-it-x", F_OK), -1);
    }
    host_view_free(&before);
}

/* ---- refused syscalls, counted ---- */

/* denied_syscalls of a run's result: the total, and by_syscall.<name> (0 if absent). */
static long long denied_total(const struct it_run *run) {
    json_t *d = json_object_get(run->result, "denied_syscalls");
    assert_non_null(d);
    assert_true(json_is_object(d));
    return it_json_int(d, "total", -1);
}

static long long denied_count(const struct it_run *run, const char *name) {
    json_t *by = json_object_get(json_object_get(run->result, "denied_syscalls"), "by_syscall");
    assert_true(json_is_object(by));
    return it_json_int(by, name, 0);
}

/* mount, unshare(CLONE_NEWUSER), chmod 04755 and keyctl fail with EPERM -- answered by
 * the listener with the plain program's errno -- and the result counts each by name. */
static void test_denied_counted(void **state) {
    struct fixture *f = *state;
    json_t *by;

    probe(f, NULL, ARGS("denied"), NULL,
          IDS("denied.mount", "denied.unshare_user", "denied.chmod_setuid", "denied.keyctl"));
    char *dump = json_dumps(json_object_get(f->run.result, "denied_syscalls"), JSON_COMPACT);
    fprintf(stderr, "denied_syscalls: %s\n", dump ? dump : "?");
    free(dump);
    assert_int_equal(denied_total(&f->run), 4);
    assert_int_equal(denied_count(&f->run, "mount"), 1);
    assert_int_equal(denied_count(&f->run, "unshare"), 1);
    assert_int_equal(denied_count(&f->run, "chmod"), 1);
    assert_int_equal(denied_count(&f->run, "keyctl"), 1);
    by = json_object_get(json_object_get(f->run.result, "denied_syscalls"), "by_syscall");
    assert_int_equal(json_object_size(by), 4);

    /* Many refusals: each answered and counted, the program sees EPERM every time. */
    it_run_clear(&f->run);
    assert_int_equal(it_sandbox(&f->box, NULL, ARGS(PROBE_IN_SANDBOX, "denyloop", "2000"), NULL,
                                &f->run),
                     0);
    if (f->run.exit_code != 0)
        it_run_dump(&f->run);
    assert_int_equal(f->run.exit_code, 0);
    fprintf(stderr, "%s", f->run.out);
    assert_int_equal(denied_total(&f->run), 2000);
    assert_int_equal(denied_count(&f->run, "keyctl"), 2000);
}

/* A run that is refused nothing says so: total 0, no syscall listed. */
static void test_denied_none(void **state) {
    struct fixture *f = *state;

    run_cmd_ok(f, ARGS(PROBE_IN_SANDBOX, "sys"));
    assert_int_equal(denied_total(&f->run), 0);
    assert_int_equal(json_object_size(json_object_get(
                         json_object_get(f->run.result, "denied_syscalls"), "by_syscall")),
                     0);
}

/* When the kernel gives no listener (here: an inherited filter already has one, as
 * under a container runtime that uses seccomp notifications), the plain program is
 * installed: the calls are refused exactly the same, and the count is null. */
static void test_denied_unavailable(void **state) {
    struct fixture *f = *state;
    struct sock_filter allow_all[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    struct sock_fprog prog = {.len = 1, .filter = allow_all};
    struct it_run run = {.pid = -1};
    json_t *result;
    char *out;
    int status;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Root may install a filter without no_new_privs; this one allows everything and
         * only holds the one listener a filter chain may have. */
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                    &prog) < 0)
            _exit(100);
        if (it_sandbox(&f->box, NULL, ARGS(PROBE_IN_SANDBOX, "denied"), NULL, &run) < 0)
            _exit(101);
        _exit(run.hung ? 102 : run.exit_code);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    out = it_read_file(f->box.out_path, NULL);
    assert_non_null(out);
    if (WEXITSTATUS(status) != 0)
        fprintf(stderr, "exit %d, stdout:\n%s", WEXITSTATUS(status), out);
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_non_null(strstr(out, "PROBE summary SAFE 4 safe, 0 fail"));
    free(out);
    result = json_load_file(f->box.json, 0, NULL);
    assert_non_null(result);
    assert_string_equal(it_json_str(result, "reason"), "exited");
    assert_non_null(json_object_get(result, "denied_syscalls"));
    assert_true(json_is_null(json_object_get(result, "denied_syscalls")));
    json_decref(result);
}

/* ---- the working directory ---- */

static void test_cwd(void **state) {
    struct fixture *f = *state;
    const char *msg;

    /* The default: /work. */
    run_cmd_ok(f, ARGS(PROBE_IN_SANDBOX, "cwd"));
    assert_string_equal(f->run.out, "/work\n");
    /* Elsewhere, also as another identity. */
    it_run_clear(&f->run);
    assert_int_equal(it_sandbox(&f->box, ARGS("--cwd", "/tmp", "--uid", "1000"),
                                ARGS(PROBE_IN_SANDBOX, "cwd"), NULL, &f->run),
                     0);
    if (f->run.exit_code != 0)
        it_run_dump(&f->run);
    assert_string_equal(f->run.out, "/tmp\n");
    assert_result_exited(&f->run, 0);
    /* A directory that does not exist in the sandbox (it does on the host): setup fails
     * naming it, the command never runs. */
    it_run_clear(&f->run);
    assert_int_equal(it_sandbox(&f->box, ARGS("--cwd", "/root"), ARGS(PROBE_IN_SANDBOX, "cwd"),
                                NULL, &f->run),
                     0);
    if (f->run.exit_code != 125)
        it_run_dump(&f->run);
    assert_int_equal(f->run.exit_code, 125);
    assert_int_equal(f->run.out_len, 0);
    assert_string_equal(it_json_str(f->run.result, "reason"), "setup_failed");
    assert_string_equal(it_json_str(json_object_get(f->run.result, "error"), "step"), "cwd");
    msg = it_json_str(json_object_get(f->run.result, "error"), "message");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "/root"));
    assert_true(json_is_null(json_object_get(f->run.result, "denied_syscalls")));
    fprintf(stderr, "--cwd /root: %s\n", msg);
    /* A directory the identity may not enter: 0700 and owned by a host uid that is not
     * the workspace's owner (nobody inside). */
    char priv[256];
    snprintf(priv, sizeof(priv), "%s/private", f->box.ws);
    assert_int_equal(mkdir(priv, 0700), 0);
    assert_int_equal(chown(priv, 12345, 12345), 0);
    it_run_clear(&f->run);
    assert_int_equal(it_sandbox(&f->box, ARGS("--cwd", "/work/private"),
                                ARGS(PROBE_IN_SANDBOX, "cwd"), NULL, &f->run),
                     0);
    if (f->run.exit_code != 125)
        it_run_dump(&f->run);
    assert_int_equal(f->run.exit_code, 125);
    assert_string_equal(it_json_str(json_object_get(f->run.result, "error"), "step"), "cwd");
    assert_string_equal(it_json_str(json_object_get(f->run.result, "error"), "message"),
                        "chdir /work/private: Permission denied");
    rmdir(priv);
    /* Relative: refused by the CLI before anything is built. */
    it_run_clear(&f->run);
    assert_int_equal(it_sandbox(&f->box, ARGS("--cwd", "tmp"), ARGS(PROBE_IN_SANDBOX, "cwd"), NULL,
                                &f->run),
                     0);
    assert_int_equal(f->run.exit_code, 125);
    assert_non_null(strstr(f->run.err, "--cwd tmp: must be an absolute path"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_masked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rofs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syscalls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sockets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_net, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tiocsti, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dev, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uid_inside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uid_on_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_not_executable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_signal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stdout_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setup_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ro_bind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ro_bind_same_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_workspace_setid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_workspace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_denied_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_denied_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_denied_unavailable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cwd, setup, teardown),
    };

    it_skip_unless_root("test_isolation");
    it_labstack();
    it_probe();
    /* The sandboxes run sh and yes; they live on the host's /usr. */
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name("isolation", tests, NULL, NULL);
}
