/*
 * test_limits.c - resource limits of a sandbox, driven through `labstack sandbox run`
 * with the hostile workloads of the static probe (tests/probe/probe.c) and checked
 * from the result JSON and from the host.
 *
 * Each test runs one workload that would hurt the host without limits -- a memory
 * bomb, a fork bomb, CPU spinners, a /tmp filler, an output flood, processes that
 * refuse to die, a leaked SysV segment, a runner killed with SIGKILL -- and asserts
 * the typed reason and the cgroup figures of the result ("oom", "pids_limit",
 * "cpu_limit"; peak_memory_bytes, cpu_user_ms + cpu_sys_ms, pids_peak), and that
 * nothing is left on the host afterwards: no process of a sandbox uid, no process
 * named lsprobe-*, no cgroup of the sandbox, no shared memory.  Every limit and
 * tolerance is in LIM below.
 *
 * The probe comes in with `--ro-bind $PROBE:/probe` and /work stays the sandbox's
 * own tmpfs (no --workspace): in the cgroup-v2 VM the scratch file system may not
 * support id-mapped mounts.  The tests run unchanged on cgroup v1 and v2; the
 * version is read from /sys/fs/cgroup and must match the result's cgroup_version.
 *
 * Needs root (exit 77 otherwise) and a cgroup file system; meson passes LABSTACK and
 * PROBE.  Not parallel with other integration tests: it looks at host-wide counters
 * (processes, MemAvailable, Shmem) and at the whole labstack cgroup parent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define PROBE_IN_SANDBOX "/probe"
#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP_PARENT "labstack"
#define KiB 1024LL
#define MiB (1024LL * 1024LL)

/* ---- every limit and tolerance of this file ---- */
static const struct {
    /* memory bomb */
    long long mem_max;            /* --memory */
    long long mem_peak_slack;     /* peak_memory_bytes may exceed --memory by this much */
    long long mem_peak_min;       /* ...and must have reached this: the bomb really ran */
    long long mem_host_loss;      /* host MemAvailable may be this much lower afterwards */
    int mem_timeout_s;
    /* fork bomb */
    int pids_max;                 /* --pids; pids_peak must equal it */
    int pids_timeout_s;
    int forkcount_n;              /* children forkcount asks for (more than pids_max) */
    int host_procs_slack;         /* host process count afterwards: before +- this */
    /* CPU bandwidth */
    const char *cpus;             /* --cpus */
    int cpus_permille;            /* the same in thousandths */
    int cpus_tolerance_permille;  /* +- 20% of 0.5 */
    int spin_procs, spin_s;
    /* /tmp and files */
    long long tmp_size;           /* --tmp-size */
    long long tmp_size_min;       /* filltmp must get at least this far */
    int tmp_inodes;               /* --tmp-inodes */
    int tmp_inodes_min;           /* inodes must create at least this many files */
    int tmp_inodes_default;       /* the documented default */
    int inodes_requested;         /* files the probe tries to create */
    long long file_size;          /* --file-size */
    /* output */
    long long stdout_limit;       /* --stdout-limit */
    const char *flood_bytes;      /* what the probe tries to write */
    long long cli_max_rss;        /* the CLI's ru_maxrss must stay below */
    /* SysV shared memory */
    int shm_mib;                  /* the leaked segment */
    long long shm_memory_max;     /* --memory for it */
    long long shm_host_gain;      /* host Shmem may be this much higher afterwards */
    /* CPU time */
    int cpu_time_s;               /* --cpu-time */
    int cpu_time_under_ms;        /* the cgroup total must reach cpu_time_s minus this */
    int cpu_time_over_ms;         /* and stay below cpu_time_s plus this */
    int cpu_time_children;
    int cpu_time_timeout_s;
    /* the runner killed mid-run */
    int killed_spin_s;
    int killed_timeout_s;
    int runner_death_ms;          /* the sandbox must be gone this soon after its runner */
    /* other runs */
    int short_timeout_s;          /* --timeout of runs that should end at once */
    int wait_margin_s;            /* the harness kills the CLI this long after its --timeout */
    int settle_ms;                /* host counters (meminfo, process count) may lag this much */
} LIM = {
    .mem_max = 64 * MiB,
    .mem_peak_slack = 8 * MiB,
    .mem_peak_min = 32 * MiB,
    .mem_host_loss = 100 * MiB,
    .mem_timeout_s = 30,
    .pids_max = 32,
    .pids_timeout_s = 20,
    .forkcount_n = 100,
    .host_procs_slack = 5,
    .cpus = "0.5",
    .cpus_permille = 500,
    .cpus_tolerance_permille = 100,
    .spin_procs = 4,
    .spin_s = 4,
    .tmp_size = 8 * MiB,
    .tmp_size_min = 6 * MiB,
    .tmp_inodes = 1000,
    .tmp_inodes_min = 900,
    .tmp_inodes_default = 16384,
    .inodes_requested = 100000,
    .file_size = 1 * MiB,
    .stdout_limit = 1 * MiB,
    .flood_bytes = "1000000000",
    .cli_max_rss = 64 * MiB,
    .shm_mib = 512,
    .shm_memory_max = 1024 * MiB,
    .shm_host_gain = 64 * MiB,
    .cpu_time_s = 2,
    .cpu_time_under_ms = 100,
    .cpu_time_over_ms = 1000,
    .cpu_time_children = 4,
    .cpu_time_timeout_s = 30,
    .killed_spin_s = 60,
    .killed_timeout_s = 120,
    .runner_death_ms = 2000,
    .short_timeout_s = 20,
    .wait_margin_s = 30,
    .settle_ms = 5000,
};

struct fixture {
    struct it_box box;
    struct it_run run;
    char probe_bind[512];      /* $PROBE:/probe */
    char args[16][32];         /* formatted option values */
    size_t n_args;
    pid_t *sb_before;          /* sandbox-uid processes that existed before the test */
    size_t n_sb_before;
};

static int host_version;       /* 1 or 2, from the cgroup file system */

/* ---- small helpers ---- */

__attribute__((format(printf, 2, 3)))
static const char *arg(struct fixture *f, const char *fmt, ...) {
    va_list ap;
    char *s;

    assert_true(f->n_args < sizeof(f->args) / sizeof(f->args[0]));
    s = f->args[f->n_args++];
    va_start(ap, fmt);
    vsnprintf(s, sizeof(f->args[0]), fmt, ap);
    va_end(ap);
    return s;
}

/* A size as the CLI takes it: 64M, 1G, or bytes. */
static const char *size_arg(struct fixture *f, long long bytes) {
    if (bytes % (1024 * MiB) == 0)
        return arg(f, "%lldG", bytes / (1024 * MiB));
    if (bytes % MiB == 0)
        return arg(f, "%lldM", bytes / MiB);
    return arg(f, "%lld", bytes);
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool numeric(const char *s) {
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* "Key:   123 kB" of /proc/meminfo, in bytes; -1 when missing. */
static long long meminfo(const char *key) {
    char *buf = it_read_file("/proc/meminfo", NULL);
    size_t klen = strlen(key);
    long long v = -1;

    for (char *line = buf; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            v = strtoll(line + klen + 1, NULL, 10) * KiB;
            break;
        }
        line = next;
    }
    free(buf);
    return v;
}

/* Processes (thread groups) on the host. */
static int count_host_procs(void) {
    DIR *d = opendir("/proc");
    struct dirent *de;
    int n = 0;

    if (!d)
        return -1;
    while ((de = readdir(d)))
        if (numeric(de->d_name))
            n++;
    closedir(d);
    return n;
}

/* The state letter of a process (R, S, D, Z, T...), '?' when gone. */
static char proc_state(pid_t pid) {
    char path[64], *buf, *p, st = '?';

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    buf = it_read_file(path, NULL);
    p = buf ? strrchr(buf, ')') : NULL;
    if (p && p[1] == ' ')
        st = p[2];
    free(buf);
    return st;
}

/* This process is a child subreaper (see main): reap whatever was reparented to it,
 * as the init of an ordinary host would.  Call only while no run is in progress. */
static void reap_orphans(void) {
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG | __WALL)) > 0)
        fprintf(stderr, "reaped an orphan: pid %d\n", (int)pid);
}

/* Host processes whose comm starts with "lsprobe-", each printed.  Returns the count;
 * the first host pid goes to *ret_pid when asked. */
static size_t find_lsprobe(pid_t *ret_pid, bool quiet) {
    DIR *d = opendir("/proc");
    struct dirent *de;
    size_t n = 0;

    if (ret_pid)
        *ret_pid = 0;
    if (!d)
        return 0;
    while ((de = readdir(d))) {
        char path[64], *comm;
        struct it_proc p;
        if (!numeric(de->d_name))
            continue;
        snprintf(path, sizeof(path), "/proc/%d/comm", atoi(de->d_name));
        comm = it_read_file(path, NULL);
        if (comm && strncmp(comm, "lsprobe-", 8) == 0) {
            comm[strcspn(comm, "\n")] = '\0';
            if (!quiet) {
                memset(&p, 0, sizeof(p));
                it_proc_read((pid_t)atoi(de->d_name), &p);
                fprintf(stderr, "host process %s: comm %s, state %c, uid %lu, ppid %d\n",
                        de->d_name, comm, proc_state((pid_t)atoi(de->d_name)), p.uid[0],
                        (int)p.ppid);
            }
            if (ret_pid && !*ret_pid)
                *ret_pid = (pid_t)atoi(de->d_name);
            n++;
        }
        free(comm);
    }
    closedir(d);
    return n;
}

static int detect_host_version(void) {
    struct statfs fs;

    if (statfs(CGROUP_ROOT, &fs) < 0)
        return 0;
    if (fs.f_type == CGROUP2_SUPER_MAGIC)
        return 2;
    if (fs.f_type == TMPFS_MAGIC)
        return 1;
    return 0;
}

/* The directories "labstack" under each hierarchy the sandbox uses (v1: memory, cpu,
 * cpuacct, pids, freezer; v2: the unified tree).  Returns how many were written. */
static size_t cgroup_parents(char out[][128]) {
    static const char *const v1_ctrls[] = { "memory", "cpu", "cpuacct", "pids", "freezer" };

    if (host_version == 2) {
        snprintf(out[0], 128, "%s/%s", CGROUP_ROOT, CGROUP_PARENT);
        return 1;
    }
    for (size_t i = 0; i < 5; i++)
        snprintf(out[i], 128, "%s/%s/%s", CGROUP_ROOT, v1_ctrls[i], CGROUP_PARENT);
    return 5;
}

/* How many of the sandbox's cgroup directories sb-<uid> exist (each printed). */
static size_t sandbox_cgroups_left(long long host_uid) {
    char parents[5][128];
    size_t n = cgroup_parents(parents), left = 0;

    for (size_t i = 0; i < n; i++) {
        char path[192];
        struct stat st;
        snprintf(path, sizeof(path), "%s/sb-%lld", parents[i], host_uid);
        if (stat(path, &st) == 0) {
            fprintf(stderr, "cgroup left behind: %s\n", path);
            left++;
        }
    }
    return left;
}

/* Child cgroups (directories) under every labstack parent, each printed. */
static size_t labstack_children(const char *what) {
    char parents[5][128];
    size_t n = cgroup_parents(parents), found = 0;

    for (size_t i = 0; i < n; i++) {
        char **names = it_list_dir(parents[i]);
        for (size_t k = 0; names && names[k]; k++) {
            char path[320];
            struct stat st;
            snprintf(path, sizeof(path), "%s/%s", parents[i], names[k]);
            if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
                fprintf(stderr, "%s: %s\n", what, path);
                found++;
            }
        }
        it_strv_free(names);
    }
    return found;
}

/* The cgroup path of pid in the memory hierarchy (v1) or the unified one (v2), as
 * /proc/<pid>/cgroup shows it to the host; "" when not found. */
static void proc_cgroup(pid_t pid, char *out, size_t size) {
    char path[64], *buf;

    out[0] = '\0';
    snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
    buf = it_read_file(path, NULL);
    for (char *line = buf; line && *line;) {
        char *next = strchr(line, '\n'), *c1, *c2;
        if (next)
            *next++ = '\0';
        c1 = strchr(line, ':');
        c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c2) {
            *c2 = '\0';
            if (host_version == 2 && c1 == line + 1 && line[0] == '0' && c1[1] == '\0') {
                snprintf(out, size, "%s", c2 + 1);
                break;
            }
            if (host_version == 1) {
                char *ctrl, *save = NULL;
                for (ctrl = strtok_r(c1 + 1, ",", &save); ctrl; ctrl = strtok_r(NULL, ",", &save))
                    if (strcmp(ctrl, "memory") == 0)
                        break;
                if (ctrl) {
                    snprintf(out, size, "%s", c2 + 1);
                    break;
                }
            }
        }
        line = next;
    }
    free(buf);
}

/* ---- fixture ---- */

static int setup(void **state) {
    struct fixture *f = calloc(1, sizeof(*f));
    int r;

    if (!f)
        return -1;
    f->run.pid = -1;
    r = it_box_new(&f->box, false);
    if (r < 0) {
        fprintf(stderr, "cannot create a scratch directory: %s\n", strerror(-r));
        free(f);
        return -1;
    }
    f->box.tmpfs_work = true;
    snprintf(f->probe_bind, sizeof(f->probe_bind), "%s:%s", it_probe(), PROBE_IN_SANDBOX);
    f->n_sb_before = it_sandbox_uid_pids(&f->sb_before);
    for (size_t i = 0; i < f->n_sb_before; i++)
        fprintf(stderr, "note: a sandbox-uid process exists before the test: %d\n",
                (int)f->sb_before[i]);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    struct fixture *f = *state;

    it_run_clear(&f->run);
    it_box_free(&f->box);
    free(f->sb_before);
    free(f);
    return 0;
}

/* ---- running ---- */

/* Run `labstack sandbox run OPTS -- CMD` and wait (its --timeout plus a margin);
 * print a one-line summary with the result JSON. */
static void run_sandbox(struct fixture *f, const char *const *opts, const char *const *cmd,
                        int wait_s) {
    char *json;

    it_run_clear(&f->run);
    assert_int_equal(it_start(&f->box, opts, cmd, NULL, &f->run), 0);
    assert_int_equal(it_wait(&f->box, &f->run, wait_s), 0);
    json = f->run.result ? json_dumps(f->run.result, JSON_COMPACT) : NULL;
    fprintf(stderr, "run %s%s%s: exit %d, CLI maxrss %ld KiB, result %s\n", cmd[0],
            cmd[1] ? " " : "", cmd[1] ? cmd[1] : "", f->run.exit_code,
            f->run.rusage.ru_maxrss, json ? json : "(none)");
    free(json);
    if (!f->run.result || f->run.hung)
        it_run_dump(&f->run);
    assert_false(f->run.hung);
    assert_non_null(f->run.result);
}

/* Run /probe ARGS... with the probe bound in and OPTS; --timeout timeout_s. */
static void run_probe(struct fixture *f, const char *const *opts, const char *const *args,
                      int timeout_s) {
    const char *o[32], *cmd[8];
    size_t n = 0, c = 0;

    o[n++] = "--ro-bind";
    o[n++] = f->probe_bind;
    o[n++] = "--timeout";
    o[n++] = arg(f, "%d", timeout_s);
    for (size_t i = 0; opts && opts[i]; i++) {
        assert_true(n + 1 < sizeof(o) / sizeof(o[0]));
        o[n++] = opts[i];
    }
    o[n] = NULL;
    cmd[c++] = PROBE_IN_SANDBOX;
    for (size_t i = 0; args && args[i]; i++) {
        assert_true(c + 1 < sizeof(cmd) / sizeof(cmd[0]));
        cmd[c++] = args[i];
    }
    cmd[c] = NULL;
    run_sandbox(f, o, cmd, timeout_s + LIM.wait_margin_s);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ---- common assertions ---- */

static long long res_int(const struct fixture *f, const char *key) {
    return it_json_int(f->run.result, key, -1);
}

/* The fields every result has now: the cgroup version of this host, the figures read
 * from the cgroup, the host uid. */
static void assert_cgroup_result(const struct fixture *f) {
    static const char *const fields[] = { "peak_memory_bytes", "cpu_user_ms", "cpu_sys_ms",
                                          "pids_peak" };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (res_int(f, fields[i]) < 0)
            fprintf(stderr, "result field %s missing or negative\n", fields[i]);
        assert_true(res_int(f, fields[i]) >= 0);
    }
    assert_int_equal(res_int(f, "cgroup_version"), host_version);
    assert_true(res_int(f, "host_uid") >= (long long)IT_HOST_UID_MIN);
}

static void assert_reason(const struct fixture *f, const char *want) {
    const char *reason = it_json_str(f->run.result, "reason");

    if (!reason || strcmp(reason, want) != 0)
        it_run_dump(&f->run);
    assert_non_null(reason);
    assert_string_equal(reason, want);
}

static void assert_exited(const struct fixture *f, int code) {
    assert_reason(f, "exited");
    assert_int_equal(res_int(f, "exit_code"), code);
    assert_int_equal(f->run.exit_code, code);
}

/* The number after `prefix` in the run's stdout; -1 when absent. */
static long long out_number(const struct fixture *f, const char *prefix) {
    const char *p = strstr(f->run.out, prefix);
    return p ? strtoll(p + strlen(prefix), NULL, 10) : -1;
}

/* Nothing of the run is left on the host: no process named lsprobe-*, no process of
 * a sandbox uid that was not there before the test, no cgroup of the sandbox. */
static void assert_no_leftovers(const struct fixture *f) {
    pid_t *now = NULL;
    size_t n_now, new_sb = 0, lsprobe;
    long long uid = res_int(f, "host_uid");

    reap_orphans();
    n_now = it_sandbox_uid_pids(&now);
    lsprobe = find_lsprobe(NULL, false);
    for (size_t i = 0; i < n_now; i++) {
        bool old = false;
        for (size_t k = 0; k < f->n_sb_before && !old; k++)
            old = f->sb_before[k] == now[i];
        if (!old) {
            struct it_proc p;
            memset(&p, 0, sizeof(p));
            it_proc_read(now[i], &p);
            fprintf(stderr, "a sandbox-uid process remains: host pid %d, state %c, uid %lu, "
                            "ppid %d\n", (int)now[i], proc_state(now[i]), p.uid[0], (int)p.ppid);
            new_sb++;
        }
    }
    free(now);
    assert_int_equal(lsprobe, 0);
    assert_int_equal(new_sb, 0);
    if (uid >= (long long)IT_HOST_UID_MIN)
        assert_int_equal(sandbox_cgroups_left(uid), 0);
}

/* ---- memory ---- */

/* A memory bomb under --memory is stopped by the OOM killer inside its cgroup: reason
 * oom, a peak at the limit, and the host gets its memory back. */
static void test_memory_bomb(void **state) {
    struct fixture *f = *state;
    long long before = meminfo("MemAvailable"), after, peak, deadline;

    assert_true(before > 0);
    run_probe(f, ARGS("--memory", size_arg(f, LIM.mem_max)), ARGS("membomb"), LIM.mem_timeout_s);
    assert_cgroup_result(f);
    peak = res_int(f, "peak_memory_bytes");
    fprintf(stderr, "membomb: peak_memory_bytes %lld (%lld MiB), limit %lld MiB; progress lines "
                    "on stderr: %s\n", peak, peak / MiB, LIM.mem_max / MiB,
            strstr(f->run.err, "MiB touched") ? "yes" : "none");
    assert_reason(f, "oom");
    assert_int_not_equal(f->run.exit_code, 0);
    assert_in_range(peak, LIM.mem_peak_min, LIM.mem_max + LIM.mem_peak_slack);

    /* Only a loss counts: memory freed meanwhile by someone else is not ours. */
    deadline = now_ms() + LIM.settle_ms;
    do {
        after = meminfo("MemAvailable");
        if (after >= before - LIM.mem_host_loss)
            break;
        usleep(100000);
    } while (now_ms() < deadline);
    fprintf(stderr, "host MemAvailable: before %lld MiB, after %lld MiB\n", before / MiB,
            after / MiB);
    assert_true(after >= before - LIM.mem_host_loss);
    assert_no_leftovers(f);
}

/* ---- pids ---- */

/* The median of three samples of the host process count. */
static int host_procs_median(void) {
    int s[3];
    for (int i = 0; i < 3; i++) {
        s[i] = count_host_procs();
        usleep(50000);
    }
    if (s[0] > s[1]) { int t = s[0]; s[0] = s[1]; s[1] = t; }
    if (s[1] > s[2]) { int t = s[1]; s[1] = s[2]; s[2] = t; }
    if (s[0] > s[1]) { int t = s[0]; s[0] = s[1]; s[1] = t; }
    return s[1];
}

/* The host process count is back to `before` (+- the slack) within settle_ms. */
static void assert_host_procs_back(int before) {
    long long deadline = now_ms() + LIM.settle_ms;
    int after;

    do {
        after = count_host_procs();
        if (abs(after - before) <= LIM.host_procs_slack)
            break;
        usleep(100000);
    } while (now_ms() < deadline);
    fprintf(stderr, "host processes: before %d, after %d\n", before, after);
    assert_in_range(after, before - LIM.host_procs_slack, before + LIM.host_procs_slack);
}

/* A fork bomb under --pids stops at the limit: reason pids_limit (or the command's own
 * failure), pids_peak exactly the limit, and every process is gone afterwards. */
static void test_fork_bomb(void **state) {
    struct fixture *f = *state;
    int before = host_procs_median();
    const char *reason;

    run_probe(f, ARGS("--pids", arg(f, "%d", LIM.pids_max)), ARGS("forkbomb"), LIM.pids_timeout_s);
    assert_cgroup_result(f);
    reason = it_json_str(f->run.result, "reason");
    fprintf(stderr, "forkbomb: reason %s, pids_peak %lld (limit %d)\n", reason ? reason : "-",
            res_int(f, "pids_peak"), LIM.pids_max);
    if (!reason || (strcmp(reason, "pids_limit") != 0 &&
                    !(strcmp(reason, "exited") == 0 && res_int(f, "exit_code") != 0))) {
        it_run_dump(&f->run);
        fprintf(stderr, "expected reason pids_limit (or a non-zero exit), got %s\n",
                reason ? reason : "none");
        assert_string_equal(reason ? reason : "none", "pids_limit");
    }
    assert_int_equal(res_int(f, "pids_peak"), LIM.pids_max);
    assert_host_procs_back(before);
    assert_no_leftovers(f);
}

/* forkcount N > --pids: forks stop with EAGAIN below the limit; the command fails by
 * itself (exit 1) or the sandbox reports pids_limit. */
static void test_fork_count(void **state) {
    struct fixture *f = *state;
    const char *reason, *line;
    char want[96];
    long long forked;

    run_probe(f, ARGS("--pids", arg(f, "%d", LIM.pids_max)),
              ARGS("forkcount", arg(f, "%d", LIM.forkcount_n)), LIM.short_timeout_s);
    assert_cgroup_result(f);
    reason = it_json_str(f->run.result, "reason");
    fprintf(stderr, "forkcount: reason %s, pids_peak %lld, stdout: %s", reason ? reason : "-",
            res_int(f, "pids_peak"), f->run.out);
    if (!reason || (strcmp(reason, "pids_limit") != 0 &&
                    !(strcmp(reason, "exited") == 0 && res_int(f, "exit_code") == 1))) {
        it_run_dump(&f->run);
        assert_string_equal(reason ? reason : "none", "pids_limit");
    }
    forked = out_number(f, "forkcount: ");
    snprintf(want, sizeof(want), " of %d forks succeeded, then fork failed: EAGAIN",
             LIM.forkcount_n);
    line = strstr(f->run.out, want);
    if (!line)
        it_run_dump(&f->run);
    assert_non_null(line);
    assert_in_range(forked, 1, LIM.pids_max - 1);
    assert_int_equal(res_int(f, "pids_peak"), LIM.pids_max);
    assert_no_leftovers(f);
}

/* ---- CPU ---- */

/* Spinners under --cpus get that share of one CPU, measured from the cgroup. */
static void test_cpus(void **state) {
    struct fixture *f = *state;
    long long cpu, wall, permille;

    run_probe(f, ARGS("--cpus", LIM.cpus),
              ARGS("spin", arg(f, "%d", LIM.spin_procs), arg(f, "%d", LIM.spin_s)),
              LIM.spin_s * 10);
    assert_cgroup_result(f);
    assert_exited(f, 0);
    cpu = res_int(f, "cpu_user_ms") + res_int(f, "cpu_sys_ms");
    wall = res_int(f, "wall_ms");
    permille = wall > 0 ? cpu * 1000 / wall : -1;
    fprintf(stderr, "spin %d x %d s under --cpus %s: cgroup cpu %lld ms (user %lld, sys %lld), "
                    "wall %lld ms, ratio %lld/1000 (want %d +- %d); rusage user %lld sys %lld\n",
            LIM.spin_procs, LIM.spin_s, LIM.cpus, cpu, res_int(f, "cpu_user_ms"),
            res_int(f, "cpu_sys_ms"), wall, permille, LIM.cpus_permille,
            LIM.cpus_tolerance_permille, res_int(f, "user_ms"), res_int(f, "sys_ms"));
    assert_true(wall >= LIM.spin_s * 1000LL);
    assert_in_range(permille, LIM.cpus_permille - LIM.cpus_tolerance_permille,
                    LIM.cpus_permille + LIM.cpus_tolerance_permille);
    assert_no_leftovers(f);
}

/* --cpu-time stops the sandbox once its CPU time (the cgroup's total) is used up. */
static void assert_cpu_limit(struct fixture *f, const char *what) {
    long long cpu;

    assert_cgroup_result(f);
    cpu = res_int(f, "cpu_user_ms") + res_int(f, "cpu_sys_ms");
    fprintf(stderr, "%s under --cpu-time %d: reason %s, cgroup cpu %lld ms, wall %lld ms\n", what,
            LIM.cpu_time_s, it_json_str(f->run.result, "reason"), cpu, res_int(f, "wall_ms"));
    assert_reason(f, "cpu_limit");
    assert_in_range(cpu, LIM.cpu_time_s * 1000LL - LIM.cpu_time_under_ms,
                    LIM.cpu_time_s * 1000LL + LIM.cpu_time_over_ms);
    assert_no_leftovers(f);
}

static void test_cpu_time(void **state) {
    struct fixture *f = *state;

    run_probe(f, ARGS("--cpu-time", arg(f, "%d", LIM.cpu_time_s)), ARGS("cputime"),
              LIM.cpu_time_timeout_s);
    assert_cpu_limit(f, "cputime");
}

/* N spinning children: each stays under the per-process RLIMIT_CPU for a while, so
 * only the cgroup's total can stop them in time. */
static void test_cpu_time_children(void **state) {
    struct fixture *f = *state;

    run_probe(f, ARGS("--cpu-time", arg(f, "%d", LIM.cpu_time_s)),
              ARGS("cputime-children", arg(f, "%d", LIM.cpu_time_children)),
              LIM.cpu_time_timeout_s);
    assert_cpu_limit(f, "cputime-children");
}

/* ---- /tmp and file size ---- */

static void test_tmp_size(void **state) {
    struct fixture *f = *state;
    long long written;

    run_probe(f, ARGS("--tmp-size", size_arg(f, LIM.tmp_size)), ARGS("filltmp"),
              LIM.short_timeout_s);
    assert_cgroup_result(f);
    fprintf(stderr, "filltmp under --tmp-size %lld MiB: %s", LIM.tmp_size / MiB, f->run.out);
    assert_exited(f, 0);
    assert_non_null(strstr(f->run.out, "ENOSPC"));
    written = out_number(f, "ENOSPC after ");
    assert_in_range(written, LIM.tmp_size_min, LIM.tmp_size);
    assert_no_leftovers(f);
}

static void test_tmp_inodes(void **state) {
    struct fixture *f = *state;
    long long files;

    run_probe(f, ARGS("--tmp-inodes", arg(f, "%d", LIM.tmp_inodes)),
              ARGS("inodes", arg(f, "%d", LIM.inodes_requested)), LIM.short_timeout_s);
    assert_cgroup_result(f);
    fprintf(stderr, "inodes %d under --tmp-inodes %d: %s", LIM.inodes_requested, LIM.tmp_inodes,
            f->run.out);
    assert_exited(f, 0);
    files = out_number(f, "ENOSPC after ");
    assert_in_range(files, LIM.tmp_inodes_min, LIM.tmp_inodes);
    assert_no_leftovers(f);
}

/* Without --tmp-inodes: "creating 100k files gets ENOSPC (inodes)". */
static void test_tmp_inodes_default(void **state) {
    struct fixture *f = *state;
    long long files;

    run_probe(f, NULL, ARGS("inodes", arg(f, "%d", LIM.inodes_requested)), LIM.short_timeout_s);
    assert_cgroup_result(f);
    fprintf(stderr, "inodes %d with the default /tmp: %s", LIM.inodes_requested, f->run.out);
    assert_exited(f, 0);
    files = out_number(f, "ENOSPC after ");
    assert_in_range(files, 1, LIM.tmp_inodes_default);
    assert_no_leftovers(f);
}

/* --file-size: a write past it fails with EFBIG exactly at the limit (the probe
 * ignores SIGXFSZ, so the write returns the error). */
static void test_file_size(void **state) {
    struct fixture *f = *state;

    run_probe(f, ARGS("--file-size", size_arg(f, LIM.file_size)), ARGS("filltmp"),
              LIM.short_timeout_s);
    assert_cgroup_result(f);
    fprintf(stderr, "filltmp under --file-size %lld: %s", LIM.file_size, f->run.out);
    assert_exited(f, 1);
    assert_non_null(strstr(f->run.out, "EFBIG after "));
    assert_int_equal(out_number(f, "EFBIG after "), LIM.file_size);
    assert_no_leftovers(f);
}

/* ---- output ---- */

/* 1 GB to stdout under --stdout-limit: exactly the cap is delivered, the run is
 * killed, and the CLI never holds the flood in memory. */
static void test_flood(void **state) {
    struct fixture *f = *state;

    run_probe(f, ARGS("--stdout-limit", size_arg(f, LIM.stdout_limit)),
              ARGS("flood", LIM.flood_bytes), LIM.short_timeout_s);
    assert_cgroup_result(f);
    fprintf(stderr, "flood: stdout_bytes %lld, delivered %zu, CLI ru_maxrss %ld KiB\n",
            res_int(f, "stdout_bytes"), f->run.out_len, f->run.rusage.ru_maxrss);
    assert_reason(f, "output_limit");
    assert_int_equal(res_int(f, "stdout_bytes"), LIM.stdout_limit);
    assert_int_equal(f->run.out_len, LIM.stdout_limit);
    assert_int_equal(it_json_bool(f->run.result, "stdout_truncated"), 1);
    assert_in_range(f->run.rusage.ru_maxrss, 0, LIM.cli_max_rss / KiB - 1);
    assert_no_leftovers(f);
}

/* ---- processes that outlive their command ---- */

/* The command exits 0 at once, leaving behind a process that ignores SIGTERM, is
 * stopped, or is a setsid daemon.  The sandbox ends with the command and takes the
 * survivor and its cgroup with it. */
static void check_survivor(struct fixture *f, const char *kind, const char *comm) {
    char ready[64];

    run_probe(f, NULL, ARGS(kind), LIM.short_timeout_s);
    assert_cgroup_result(f);
    fprintf(stderr, "%s: %s", kind, f->run.out);
    assert_exited(f, 0);
    snprintf(ready, sizeof(ready), "%s ready pid ", comm);
    assert_non_null(strstr(f->run.out, ready));
    assert_no_leftovers(f);
}

static void test_survivor_ignoreterm(void **state) {
    check_survivor(*state, "ignoreterm", "lsprobe-ignterm");
}

static void test_survivor_stopped(void **state) {
    check_survivor(*state, "stopped", "lsprobe-stopped");
}

static void test_survivor_daemon(void **state) {
    check_survivor(*state, "daemon", "lsprobe-daemon");
}

/* ---- SysV shared memory ---- */

/* A segment that was never removed does not outlive the sandbox (it dies at its last
 * detach when the IPC namespace forces removal, or with the namespace): host Shmem
 * comes back (it would stay 512 MiB higher otherwise). */
static void test_shm_leak(void **state) {
    struct fixture *f = *state;
    long long before = meminfo("Shmem"), after, deadline;

    assert_true(before >= 0);
    run_probe(f, ARGS("--memory", size_arg(f, LIM.shm_memory_max)),
              ARGS("shmleak", arg(f, "%d", LIM.shm_mib)), LIM.short_timeout_s);
    assert_cgroup_result(f);
    fprintf(stderr, "shmleak %d: %s", LIM.shm_mib, f->run.out);
    assert_exited(f, 0);
    assert_non_null(strstr(f->run.out, "MiB touched, detached"));
    /* The segment was really filled, in the sandbox's cgroup. */
    assert_true(res_int(f, "peak_memory_bytes") >= LIM.shm_mib * MiB);

    /* The IPC namespace may be freed a moment after the last process is gone. */
    deadline = now_ms() + LIM.settle_ms;
    do {
        after = meminfo("Shmem");
        if (after <= before + LIM.shm_host_gain)
            break;
        usleep(100000);
    } while (now_ms() < deadline);
    fprintf(stderr, "host Shmem: before %lld MiB, after %lld MiB\n", before / MiB, after / MiB);
    assert_true(after <= before + LIM.shm_host_gain);
    assert_no_leftovers(f);
}

/* ---- the runner killed ---- */

/*
 * SIGKILL the CLI while its sandbox spins: the sandbox dies with it (PDEATHSIG), and
 * the cgroup it leaves behind is removed by the next start.  Afterwards the labstack
 * parent holds no cgroup at all, and no sandbox process is left.  The sandbox's init,
 * orphaned, is reparented to this test (a child subreaper, like the init of an
 * ordinary host) and reaped here.
 */
static void test_runner_killed(void **state) {
    struct fixture *f = *state;
    const char *o[] = { "--ro-bind", f->probe_bind, "--timeout",
                        arg(f, "%d", LIM.killed_timeout_s), NULL };
    const char *cmd[] = { PROBE_IN_SANDBOX, "spin", "1", arg(f, "%d", LIM.killed_spin_s), NULL };
    struct it_proc spinner;
    char cg[256] = "", want[64], dir[320];
    pid_t pid = 0;
    struct stat st;
    size_t left;
    long long deadline;
    bool survived;

    assert_int_equal(find_lsprobe(NULL, false), 0);
    it_run_clear(&f->run);
    assert_int_equal(it_start(&f->box, o, cmd, NULL, &f->run), 0);

    /* Wait for a spinner with its cgroup. */
    for (int i = 0; i < 1000 && !cg[0]; i++) {
        siginfo_t info = { .si_pid = 0 };
        if (waitid(P_PID, (id_t)f->run.pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            info.si_pid == f->run.pid)
            break;
        if (find_lsprobe(&pid, true) > 0)
            proc_cgroup(pid, cg, sizeof(cg));
        if (cg[0] && strstr(cg, "/sb-") == NULL)
            cg[0] = '\0';   /* not moved into its cgroup yet (v1 attaches after clone) */
        if (!cg[0])
            usleep(10000);
    }
    if (!cg[0]) {
        assert_int_equal(it_wait(&f->box, &f->run, 10), 0);
        it_run_dump(&f->run);
    }
    assert_true(cg[0] != '\0');
    assert_int_equal(it_proc_read(pid, &spinner), 0);
    snprintf(want, sizeof(want), "/%s/sb-%lu", CGROUP_PARENT, spinner.uid[0]);
    snprintf(dir, sizeof(dir), "%s%s%s", CGROUP_ROOT, host_version == 1 ? "/memory" : "", cg);
    fprintf(stderr, "spinner: host pid %d uid %lu in cgroup %s (%s)\n", (int)pid, spinner.uid[0],
            cg, stat(dir, &st) == 0 ? "exists" : "missing");
    assert_string_equal(cg, want);
    assert_int_equal(stat(dir, &st), 0);

    /* Kill the runner, nothing else. */
    assert_int_equal(kill(f->run.pid, SIGKILL), 0);
    assert_int_equal(it_wait(&f->box, &f->run, 10), 0);
    assert_true(WIFSIGNALED(f->run.status) && WTERMSIG(f->run.status) == SIGKILL);

    /* The sandbox dies with its runner (parent-death signal), before anyone cleans up. */
    deadline = now_ms() + LIM.runner_death_ms;
    while ((survived = it_proc_alive(&spinner) && proc_state(pid) != 'Z') && now_ms() < deadline)
        usleep(10000);
    if (survived) {
        fprintf(stderr, "the sandbox outlived its runner by %d ms:\n", LIM.runner_death_ms);
        find_lsprobe(NULL, false);
    }
    left = labstack_children("after SIGKILL of the runner, still there");
    fprintf(stderr, "%zu cgroup(s) under %s after the SIGKILL (a later start removes them)\n",
            left, CGROUP_PARENT);

    /* A new start cleans up stale cgroups. */
    run_sandbox(f, NULL, ARGS("/bin/true"), LIM.short_timeout_s + LIM.wait_margin_s);
    assert_exited(f, 0);
    assert_int_equal(labstack_children("cgroup left under labstack"), 0);
    assert_no_leftovers(f);
    /* Checked last so that the cleanup above is judged too: a sandbox that outlives
     * its runner keeps running (past its --timeout, which the runner enforced) until
     * some later start happens to clean it up. */
    assert_false(survived);
}

static int group_setup(void **state) {
    host_version = detect_host_version();
    fprintf(stderr, "host: cgroup v%d\n", host_version);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_memory_bomb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_bomb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tmp_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tmp_inodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tmp_inodes_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flood, setup, teardown),
        cmocka_unit_test_setup_teardown(test_survivor_ignoreterm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_survivor_stopped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_survivor_daemon, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shm_leak, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_time_children, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runner_killed, setup, teardown),
    };

    it_skip_unless_root("test_limits");
    if (detect_host_version() == 0) {
        printf("test_limits: skipped: %s is not a cgroup file system (v2) nor a tmpfs of v1 "
               "hierarchies\n", CGROUP_ROOT);
        return 77;
    }
    it_labstack();
    it_probe();
    signal(SIGPIPE, SIG_IGN);
    /* Orphans of a killed runner come to us, not to the host's pid 1 (which may reap
     * late, or never, in a container or a minimal VM). */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
        fprintf(stderr, "PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
        return 1;
    }
    return cmocka_run_group_tests_name("limits", tests, group_setup, NULL);
}
