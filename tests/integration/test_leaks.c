/*
 * test_leaks.c - a thousand sandboxes in a row leave nothing behind.
 *
 * The library promises that every process, mount and fd of a sandbox is gone when
 * ls_sandbox_run() returns.  A long-lived supervisor depends on that, so this test
 * runs 1,000 sandboxes (`/bin/true`) in-process through the library and compares
 * before and after:
 *   - the fds of this very process (/proc/self/fd): exactly unchanged;
 *   - the mounts of our mount namespace: unchanged;
 *   - host processes running as a sandbox uid (>= 1000000): none new, checked after
 *     every single run; and no live descendant of ours (we are a child subreaper, so
 *     anything orphaned by the library is re-parented to us and stays visible);
 *   - the entries of /tmp and /run/labstack: unchanged; lock files under
 *     /run/labstack/uids (slots are reused): at most one new, as runs are sequential;
 *   - directories under /sys/fs/cgroup: unchanged.
 * A second test runs 200 sandboxes through the CLI with a workspace and checks the
 * same host state (not fds: those belong to the CLI processes).
 *
 * Then the ways a run can end early or be cleaned up after: cancelling through the
 * spec's cancel fd before the run, during its setup and while the command runs (the
 * command never starts when the cancel came first, and nothing is left either way);
 * and the sweep of what crashed processes left, which must never touch a cgroup whose
 * uid slot is held -- by a test holding the lock, and by a live sandbox of another
 * process -- and which no_sweep turns off.
 *
 * The test moves itself into a private mount namespace with its own /tmp first, so
 * that other activity on the machine does not show up as a difference (and so the
 * library's own use of /tmp, if any, is seen in full).  /run/labstack and cgroups
 * stay shared: uid slots must be unique across every labstack on the machine.
 *
 * Needs root (exit 77 otherwise).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/magic.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "labstack/error.h"
#include "labstack/result.h"
#include "labstack/sandbox.h"

#define LIBRARY_RUNS 1000
#define CLI_RUNS 200
#define RUN_DIR "/run/labstack"
#define UIDS_DIR "/run/labstack/uids"

/* ---- host state ---- */

struct snapshot {
    int fds;
    char **mounts;
    char **tmp;
    char **run;          /* /run/labstack without uids/ */
    char **uid_locks;    /* /run/labstack/uids */
    char **cgroups;      /* every directory under /sys/fs/cgroup */
    pid_t *sandbox_pids; /* processes running as a sandbox uid */
    size_t n_sandbox_pids;
};

static char **cgroup_dirs;
static size_t n_cgroup_dirs, cap_cgroup_dirs;

static int collect_dir(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    if (flag != FTW_D)
        return 0;
    if (n_cgroup_dirs + 1 >= cap_cgroup_dirs) {
        size_t ncap = cap_cgroup_dirs ? cap_cgroup_dirs * 2 : 256;
        char **nv = realloc(cgroup_dirs, ncap * sizeof(*nv));
        if (!nv)
            return -1;
        cgroup_dirs = nv;
        cap_cgroup_dirs = ncap;
    }
    cgroup_dirs[n_cgroup_dirs++] = strdup(path);
    cgroup_dirs[n_cgroup_dirs] = NULL;
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **list_cgroup_dirs(void) {
    char **v;

    cgroup_dirs = calloc(1, sizeof(*cgroup_dirs));
    n_cgroup_dirs = 0;
    cap_cgroup_dirs = 1;
    if (cgroup_dirs)
        nftw("/sys/fs/cgroup", collect_dir, 32, FTW_PHYS);
    if (cgroup_dirs)
        qsort(cgroup_dirs, n_cgroup_dirs, sizeof(*cgroup_dirs), cmp_str);
    v = cgroup_dirs;
    cgroup_dirs = NULL;
    return v;
}

static char **list_run_dir(void) {
    char **v = it_list_dir(RUN_DIR);
    size_t n = it_strv_len(v), j = 0;

    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i], "uids") == 0)
            free(v[i]);
        else
            v[j++] = v[i];
    }
    if (v)
        v[j] = NULL;
    return v;
}

static void snapshot_take(struct snapshot *s) {
    memset(s, 0, sizeof(*s));
    s->fds = it_count_fds();
    s->mounts = it_mount_points();
    s->tmp = it_list_dir("/tmp");
    s->run = list_run_dir();
    s->uid_locks = it_list_dir(UIDS_DIR);
    s->cgroups = list_cgroup_dirs();
    s->n_sandbox_pids = it_sandbox_uid_pids(&s->sandbox_pids);
}

static void snapshot_free(struct snapshot *s) {
    it_strv_free(s->mounts);
    it_strv_free(s->tmp);
    it_strv_free(s->run);
    it_strv_free(s->uid_locks);
    it_strv_free(s->cgroups);
    free(s->sandbox_pids);
    memset(s, 0, sizeof(*s));
}

static bool pid_in(pid_t pid, const pid_t *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (v[i] == pid)
            return true;
    return false;
}

/* Processes running as a sandbox uid that were not there in `before`; prints them. */
static size_t new_sandbox_processes(const struct snapshot *before, const char *when) {
    pid_t *now = NULL;
    size_t n = it_sandbox_uid_pids(&now), added = 0;

    for (size_t i = 0; i < n; i++) {
        char path[64], *cmd;
        struct it_proc p;
        if (pid_in(now[i], before->sandbox_pids, before->n_sandbox_pids))
            continue;
        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)now[i]);
        cmd = it_read_file(path, NULL);
        if (it_proc_read(now[i], &p) == 0)
            fprintf(stderr, "%s: host pid %d uid %lu ppid %d cmdline '%s' is still there\n", when,
                    (int)now[i], p.uid[0], (int)p.ppid, cmd ? cmd : "?");
        free(cmd);
        added++;
    }
    free(now);
    return added;
}

/* Live (not zombie) descendants of this process. */
static size_t live_descendants(void) {
    DIR *d = opendir("/proc");
    struct dirent *de;
    size_t n = 0;
    pid_t self = getpid();

    if (!d)
        return 0;
    while ((de = readdir(d))) {
        struct it_proc p;
        pid_t pid = (pid_t)atoi(de->d_name);
        int depth = 0;
        if (pid <= 0 || pid == self || it_proc_read(pid, &p) < 0)
            continue;
        for (pid_t up = p.ppid; up > 1 && depth < 64; depth++) {
            struct it_proc q;
            if (up == self) {
                char path[64], state[512] = "";
                FILE *f;
                snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
                if ((f = fopen(path, "re"))) {
                    if (!fgets(state, sizeof(state), f))
                        state[0] = '\0';
                    fclose(f);
                }
                if (!strstr(state, ") Z ")) {
                    fprintf(stderr, "descendant still alive: %s", state);
                    n++;
                }
                break;
            }
            if (it_proc_read(up, &q) < 0)
                break;
            up = q.ppid;
        }
    }
    closedir(d);
    return n;
}

/* Reap orphans the subreaper setting gave us (only between runs: the library has no
 * child of its own then).  Returns how many. */
static unsigned reap_strays(void) {
    unsigned n = 0;
    siginfo_t info;

    for (;;) {
        memset(&info, 0, sizeof(info));
        if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG) < 0 || info.si_pid == 0)
            break;
        n++;
    }
    return n;
}

/* Compare with `before`; prints every difference, returns how many problems. */
static size_t snapshot_compare(const struct snapshot *before, bool check_fds) {
    struct snapshot after;
    size_t problems = 0, new_locks;

    snapshot_take(&after);
    if (check_fds && after.fds != before->fds) {
        fprintf(stderr, "open fds: %d before, %d after\n", before->fds, after.fds);
        problems++;
    }
    problems += it_strv_print_added("mount left behind: ", before->mounts, after.mounts);
    problems += it_strv_print_added("mount gone: ", after.mounts, before->mounts);
    problems += it_strv_print_added("left in /tmp: ", before->tmp, after.tmp);
    problems += it_strv_print_added("left in " RUN_DIR ": ", before->run, after.run);
    problems += it_strv_print_added("cgroup left behind: ", before->cgroups, after.cgroups);
    new_locks = it_strv_print_added("new uid slot lock: ", before->uid_locks, after.uid_locks);
    fprintf(stderr, "uid slot lock files: %zu before, %zu after\n",
            it_strv_len(before->uid_locks), it_strv_len(after.uid_locks));
    if (new_locks > 1) {
        fprintf(stderr, "%zu new lock files for sequential runs (slots are not reused)\n",
                new_locks);
        problems++;
    }
    problems += new_sandbox_processes(before, "after all runs");
    problems += live_descendants();
    snapshot_free(&after);
    return problems;
}

/* ---- the library, in-process ---- */

static struct ls_sandbox_host *host;

static int run_true(struct ls_result *res, struct ls_error *err) {
    static const char *const argv[] = { "/bin/true", NULL };
    struct ls_sandbox_spec spec;

    ls_sandbox_spec_init(&spec);
    spec.argv = argv;
    memset(res, 0, sizeof(*res));
    ls_error_clear(err);
    return ls_sandbox_run(host, &spec, res, err);
}

static void test_library_runs(void **state) {
    struct snapshot before;
    struct ls_result res;
    struct ls_error err;
    struct timespec t0, t1;
    size_t proc_problems = 0, failures = 0;
    unsigned strays = 0;
    int fds_warm, r;

    /* Warm up once: whatever the library keeps for its lifetime (a cached seccomp
     * program, a lock directory fd) is not a leak.  Growth after that is. */
    fds_warm = it_count_fds();
    r = run_true(&res, &err);
    if (r < 0 || res.reason != LS_REASON_EXITED)
        fprintf(stderr, "warm-up run: r=%d reason=%s error %s: %s / %s\n", r,
                ls_reason_name(res.reason), res.error.step, res.error.msg, err.msg);
    assert_int_equal(r, 0);
    assert_int_equal(res.reason, LS_REASON_EXITED);
    strays += reap_strays();
    fprintf(stderr, "fds: %d before the first run, %d after it\n", fds_warm, it_count_fds());

    snapshot_take(&before);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < LIBRARY_RUNS; i++) {
        r = run_true(&res, &err);
        if (r < 0 || res.reason != LS_REASON_EXITED || res.exit_code != 0) {
            if (failures++ < 5)
                fprintf(stderr, "run %d: r=%d reason=%s exit=%d error %s: %s / %s\n", i, r,
                        ls_reason_name(res.reason), res.exit_code, res.error.step, res.error.msg,
                        err.msg);
        }
        /* "Every process ... of the sandbox is gone when it returns." */
        if (proc_problems < 5) {
            char when[64];
            snprintf(when, sizeof(when), "right after run %d", i);
            proc_problems += new_sandbox_processes(&before, when);
        }
        strays += reap_strays();
        if ((i + 1) % 100 == 0)
            fprintf(stderr, "%d runs, fds %d (%d at start)\n", i + 1, it_count_fds(), before.fds);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "%d library runs in %.1f s; %u orphaned processes re-parented to the test\n",
            LIBRARY_RUNS,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, strays);

    assert_int_equal(failures, 0);
    assert_int_equal(proc_problems, 0);
    assert_int_equal(snapshot_compare(&before, true), 0);
    snapshot_free(&before);
}

/* ---- the CLI ---- */

static void test_cli_runs(void **state) {
    struct snapshot before;
    struct it_box box;
    struct it_run run = { .pid = -1 };
    size_t failures = 0;

    /* The box exists before the snapshot: what runs write inside it is expected. */
    assert_int_equal(it_box_new(&box, false), 0);
    reap_strays();
    snapshot_take(&before);
    for (int i = 0; i < CLI_RUNS; i++) {
        assert_int_equal(it_sandbox(&box, NULL, (const char *const[]){ "/bin/true", NULL }, NULL,
                                    &run),
                         0);
        if (run.exit_code != 0 && failures++ < 3) {
            fprintf(stderr, "CLI run %d:\n", i);
            it_run_dump(&run);
        }
        it_run_clear(&run);
        reap_strays();
    }
    assert_int_equal(failures, 0);
    assert_int_equal(snapshot_compare(&before, false), 0);
    snapshot_free(&before);
    it_box_free(&box);
}

/* ---- cancelling ---- */

struct canceller {
    pthread_t thread;
    int fd;
    long delay_us;
    bool hang_up;   /* close fd instead of writing to it */
    bool eventfd;
};

static void *cancel_later(void *arg) {
    struct canceller *c = arg;
    struct timespec ts = {c->delay_us / 1000000, (c->delay_us % 1000000) * 1000};
    nanosleep(&ts, NULL);
    if (c->hang_up) {
        close(c->fd);
    } else if (c->eventfd) {
        uint64_t one = 1;
        if (write(c->fd, &one, sizeof(one)) != sizeof(one))
            abort();
    } else if (write(c->fd, "x", 1) != 1) {
        abort();
    }
    return NULL;
}

/* Output callback: did the command print "ran"? */
static int saw_ran(void *userdata, int stream, const char *buf, size_t len) {
    bool *ran = userdata;
    if (stream == 1 && len >= 3 && memcmp(buf, "ran", 3) == 0)
        *ran = true;
    return 0;
}

/* Run argv without a workspace (the kernels without id-mapped tmpfs run this too);
 * *ran tells whether the command printed "ran". */
static int run_in(const char *const *argv, int cancel_fd, bool *ran, struct ls_result *res,
                  struct ls_error *err) {
    struct ls_sandbox_spec spec;
    ls_sandbox_spec_init(&spec);
    spec.argv = argv;
    spec.cancel_fd = cancel_fd;
    spec.timeout_ms = 60000;
    spec.on_output = saw_ran;
    spec.userdata = ran;
    *ran = false;
    memset(res, 0, sizeof(*res));
    ls_error_clear(err);
    return ls_sandbox_run(host, &spec, res, err);
}

static void assert_cancelled(int r, const struct ls_result *res, const struct ls_error *err) {
    if (r < 0 || res->reason != LS_REASON_CANCELLED)
        fprintf(stderr, "r=%d reason=%s error %s: %s / %s\n", r, ls_reason_name(res->reason),
                res->error.step, res->error.msg, err->msg);
    assert_int_equal(r, 0);
    assert_int_equal(res->reason, LS_REASON_CANCELLED);
    assert_int_equal(res->exit_code, -1);
}

static void test_cancel(void **state) {
    static const char *const print_then_sleep[] = {"/bin/sh", "-c", "echo ran; exec sleep 30",
                                                   NULL};
    struct snapshot before;
    struct ls_result res;
    struct ls_error err;
    struct timespec t0, t1;
    int p[2], r, n_ran = 0;
    bool ran;
    char byte;

    reap_strays();
    snapshot_take(&before);

    /* Cancelled before the call: nothing is built, nothing runs, the byte is not read. */
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    assert_int_equal(write(p[1], "x", 1), 1);
    r = run_in(print_then_sleep, p[0], &ran, &res, &err);
    assert_cancelled(r, &res, &err);
    assert_int_equal(res.signal, 0);
    assert_int_equal(res.host_uid, 0);
    assert_false(res.denied_syscalls.available);
    assert_false(ran);
    assert_int_equal(read(p[0], &byte, 1), 1); /* still there: never read */
    close(p[0]);
    close(p[1]);

    /* While the command runs: a hang-up (the writer closes), then an eventfd. */
    for (int kind = 0; kind < 2; kind++) {
        struct canceller c = {.delay_us = 300000};
        int efd = -1;
        if (kind == 0) {
            assert_int_equal(pipe2(p, O_CLOEXEC), 0);
            c.fd = p[1];
            c.hang_up = true;
        } else {
            efd = eventfd(0, EFD_CLOEXEC);
            assert_true(efd >= 0);
            c.fd = efd;
            c.eventfd = true;
        }
        assert_int_equal(pthread_create(&c.thread, NULL, cancel_later, &c), 0);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        r = run_in(print_then_sleep, kind == 0 ? p[0] : efd, &ran, &res, &err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        pthread_join(c.thread, NULL);
        assert_cancelled(r, &res, &err);
        assert_int_equal(res.signal, SIGKILL);
        fprintf(stderr, "cancelled by %s after 300 ms: wall_ms %llu\n",
                kind == 0 ? "hang-up" : "eventfd", (unsigned long long)res.wall_ms);
        assert_true(res.wall_ms >= 250 && res.wall_ms < 5000);
        assert_true(t1.tv_sec - t0.tv_sec < 5);
        assert_true(ran); /* it did run */
        assert_true(res.denied_syscalls.available);
        if (kind == 0)
            close(p[0]);
        else
            close(efd);
        reap_strays();
    }

    /* At every moment of the setup: always cancelled at once, never left behind. */
    for (long delay = 0; delay <= 30000; delay += 1500) {
        struct canceller c = {.delay_us = delay};
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        c.fd = p[1];
        assert_int_equal(pthread_create(&c.thread, NULL, cancel_later, &c), 0);
        r = run_in(print_then_sleep, p[0], &ran, &res, &err);
        pthread_join(c.thread, NULL);
        assert_cancelled(r, &res, &err);
        assert_true(res.wall_ms < 5000);
        n_ran += ran;
        close(p[0]);
        close(p[1]);
        reap_strays();
    }
    fprintf(stderr, "cancelled 21 runs at 0 to 30 ms: the command had started in %d\n", n_ran);

    assert_int_equal(snapshot_compare(&before, true), 0);
    snapshot_free(&before);
}

/* ---- the sweep ---- */

#define STALE_UID 1065529 /* in the default range */

static void stale_cgroup_path(char *buf, size_t size) {
    struct statfs fs;
    assert_int_equal(statfs("/sys/fs/cgroup", &fs), 0);
    if (fs.f_type == CGROUP2_SUPER_MAGIC)
        snprintf(buf, size, "/sys/fs/cgroup/labstack/sb-%u", STALE_UID);
    else
        snprintf(buf, size, "/sys/fs/cgroup/memory/labstack/sb-%u", STALE_UID);
}

/* Open a host, sweeping unless no_sweep, and close it again. */
static void host_open_close(bool no_sweep) {
    struct ls_host_config cfg = {.no_sweep = no_sweep};
    struct ls_sandbox_host *h = NULL;
    struct ls_error err = {0};
    if (ls_sandbox_host_open(&cfg, &h, &err) < 0)
        fail_msg("ls_sandbox_host_open: %s", err.msg);
    ls_sandbox_host_free(h);
}

static void test_sweep(void **state) {
    char cg[128], slot[128];
    struct it_box box;
    struct it_run run = {.pid = -1};
    struct it_proc procs[2];
    int lock;
    size_t n = 0;

    stale_cgroup_path(cg, sizeof(cg));
    snprintf(slot, sizeof(slot), UIDS_DIR "/%u", STALE_UID);

    /* A cgroup whose slot is held (here by us, as a running sandbox would hold it). */
    lock = open(slot, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    assert_true(lock >= 0);
    if (flock(lock, LOCK_EX | LOCK_NB) < 0)
        skip(); /* a sandbox of someone else has this very uid right now */
    assert_int_equal(mkdir(cg, 0755), 0);
    host_open_close(false);
    assert_int_equal(access(cg, F_OK), 0); /* untouched */
    assert_int_equal(access(slot, F_OK), 0);
    close(lock);

    /* Free now, but a runner with no_sweep leaves it for the supervisor. */
    host_open_close(true);
    assert_int_equal(access(cg, F_OK), 0);
    assert_int_equal(access(slot, F_OK), 0);

    /* The sweep removes it and the stale slot file. */
    host_open_close(false);
    assert_int_equal(access(cg, F_OK), -1);
    assert_int_equal(access(slot, F_OK), -1);

    /* A live sandbox of another process (the CLI) survives a sweep untouched. */
    assert_int_equal(it_box_new(&box, false), 0);
    box.tmpfs_work = true; /* no workspace: kernels without id-mapped tmpfs run this too */
    assert_int_equal(it_start(&box, NULL, (const char *const[]){"/bin/sleep", "2", NULL}, NULL,
                              &run),
                     0);
    for (int i = 0; i < 500 && n == 0; i++) {
        struct timespec ts = {0, 10000000};
        n = it_find_procs((const char *const[]){"/bin/sleep", "2", NULL}, procs, 2);
        if (!n)
            nanosleep(&ts, NULL);
    }
    assert_int_equal(n, 1);
    host_open_close(false);
    assert_true(it_proc_alive(&procs[0]));
    assert_int_equal(it_wait(&box, &run, 60), 0);
    if (run.exit_code != 0)
        it_run_dump(&run);
    assert_int_equal(run.exit_code, 0);
    assert_string_equal(it_json_str(run.result, "reason"), "exited");
    assert_true(it_json_int(run.result, "wall_ms", 0) >= 1900);
    it_run_clear(&run);
    it_box_free(&box);
    reap_strays();
}

/* mkdir -p */
static int mkdir_parents(const char *path) {
    char buf[4096];

    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    return mkdir(buf, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/*
 * A mount namespace of our own with a private /tmp, so that the comparisons see only
 * what our sandboxes do.  When the CLI lives under /tmp (a build directory there),
 * its directory is bound back at the same path so that it can still be run.
 */
static int enter_private_tmp(const char *labstack) {
    char real[4096], *slash;
    int keep = -1;

    if (!realpath(labstack, real))
        return -errno;
    slash = strrchr(real, '/');
    if (slash)
        *slash = '\0';
    /* A detached copy of the CLI's directory, taken while we can still see it. */
    if (strncmp(real, "/tmp/", 5) == 0 &&
        (keep = open_tree(AT_FDCWD, real, OPEN_TREE_CLONE | AT_RECURSIVE | OPEN_TREE_CLOEXEC)) < 0)
        return -errno;
    if (unshare(CLONE_NEWNS) < 0)
        return -errno;
    /* Why this is safe: MS_PRIVATE on our fresh copy stops propagation both ways, so
     * the mounts below are seen by us and our children only. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return -errno;
    if (mount("labstack-it", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m") < 0)
        return -errno;
    if (keep >= 0) {
        int r = mkdir_parents(real);
        if (r < 0)
            return r;
        if (move_mount(keep, "", AT_FDCWD, real, MOVE_MOUNT_F_EMPTY_PATH) < 0)
            return -errno;
        close(keep);
    }
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_library_runs),
        cmocka_unit_test(test_cli_runs),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_sweep),
    };
    struct ls_error err;
    int r;

    it_skip_unless_root("test_leaks");
    r = enter_private_tmp(it_labstack());
    if (r < 0) {
        fprintf(stderr, "cannot set up a private /tmp: %s\n", strerror(-r));
        return 1;
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
        fprintf(stderr, "PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
        return 1;
    }
    ls_error_clear(&err);
    r = ls_sandbox_host_open(NULL, &host, &err);
    if (r < 0) {
        fprintf(stderr, "ls_sandbox_host_open: %s: %s\n", err.step, err.msg);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    r = cmocka_run_group_tests_name("leaks", tests, NULL, NULL);
    ls_sandbox_host_free(host);
    return r;
}
