/*
 * cgroup_v1.c - the legacy (and hybrid) hierarchy backend.
 *
 * Layout: /sys/fs/cgroup/{memory,cpu,cpuacct,pids,freezer}/<parent>/<sandbox>
 * (cpu and cpuacct may be one co-mounted hierarchy; then it is used once).  The
 * sandbox's init is moved into every hierarchy by the parent while it still waits
 * for GO, before it has run any code of the sandbox, so nothing runs unlimited.
 * Limits: memory.limit_in_bytes and memory.memsw.limit_in_bytes (equal: swap 0,
 * when the kernel accounts swap), cpu.cfs_quota_us/cfs_period_us, pids.max.
 * Kill: the freezer (FROZEN), SIGKILL to every member, THAWED -- frozen tasks can
 * neither fork nor exit, so no process escapes and no pid is reused meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_backend.h"
#include "labstack/error.h"
#include "labstack/macros.h"

static const char *const hierarchy[CG_V1_N] = {
    [CG_V1_MEMORY] = "memory",
    [CG_V1_CPU] = "cpu",
    [CG_V1_CPUACCT] = "cpuacct",
    [CG_V1_PIDS] = "pids",
    [CG_V1_FREEZER] = "freezer",
};

/* The fd of hierarchy i, falling back to cpu for a co-mounted cpuacct. */
static int hfd(const int *fds, int i) {
    return (i == CG_V1_CPUACCT && fds[i] < 0) ? fds[CG_V1_CPU] : fds[i];
}

static int v1_manager_init(struct cgroup_manager *m, struct ls_error *err) {
    struct stat cpu_st = {0};

    for (int i = 0; i < CG_V1_N; i++) {
        char path[64];
        struct stat st;
        snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", hierarchy[i]);
        _cleanup_close_ int root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
            return ls_error_set(err, errno, "cgroup", "cgroup v1 hierarchy %s", path);
        if (fstat(root, &st) < 0)
            return ls_error_set(err, errno, "cgroup", "stat %s", path);
        if (i == CG_V1_CPU)
            cpu_st = st;
        if (i == CG_V1_CPUACCT && st.st_dev == cpu_st.st_dev && st.st_ino == cpu_st.st_ino)
            continue; /* "cpu,cpuacct" co-mounted: one hierarchy */
        m->v1_parent[i] = cg_open_dir(root, m->parent, true);
        if (m->v1_parent[i] < 0)
            return ls_error_set(err, -m->v1_parent[i], "cgroup", "create %s/%s", path, m->parent);
    }
    m->v1_memsw = faccessat(m->v1_parent[CG_V1_MEMORY], "memory.memsw.limit_in_bytes", F_OK, 0) == 0;
    return 0;
}

static void v1_manager_done(struct cgroup_manager *m) {
    for (int i = 0; i < CG_V1_N; i++)
        m->v1_parent[i] = safe_close(m->v1_parent[i]);
}

static int v1_parent_fd(const struct cgroup_manager *m) {
    return m->v1_parent[CG_V1_MEMORY];
}

static int v1_remove(struct cgroup_manager *m, const char *name, struct ls_error *err);

static int v1_create(struct cgroup *cg, const struct cgroup_limits *l, struct ls_error *err) {
    struct cgroup_manager *m = cg->mgr;
    bool retried = false;
    int r;

    for (int i = 0; i < CG_V1_N; i++) {
        if (m->v1_parent[i] < 0)
            continue;
        if (mkdirat(m->v1_parent[i], cg->name, 0755) < 0) {
            if (errno != EEXIST || retried)
                return ls_error_set(err, errno, "cgroup", "create %s/%s/%s", hierarchy[i],
                                    m->parent, cg->name);
            /* Left behind by a crashed holder of the same slot: start from nothing. */
            r = v1_remove(m, cg->name, err);
            if (r < 0)
                return r;
            retried = true;
            i = -1; /* recreate in every hierarchy */
        }
    }
    for (int i = 0; i < CG_V1_N; i++) {
        if (m->v1_parent[i] < 0)
            continue;
        cg->v1_fd[i] = cg_open_dir(m->v1_parent[i], cg->name, false);
        if (cg->v1_fd[i] < 0)
            return ls_error_set(err, -cg->v1_fd[i], "cgroup", "open %s/%s/%s", hierarchy[i],
                                m->parent, cg->name);
    }
    if (l->memory_max) {
        int mem = cg->v1_fd[CG_V1_MEMORY];
        r = cg_write_u64(mem, "memory.limit_in_bytes", l->memory_max);
        if (r < 0)
            return ls_error_set(err, -r, "cgroup", "set memory.limit_in_bytes");
        if (m->v1_memsw) {
            r = cg_write_u64(mem, "memory.memsw.limit_in_bytes", l->memory_max);
            if (r < 0)
                return ls_error_set(err, -r, "cgroup", "set memory.memsw.limit_in_bytes");
        }
    }
    if (l->cpu_quota_us) {
        int cpu = cg->v1_fd[CG_V1_CPU];
        r = cg_write_u64(cpu, "cpu.cfs_period_us", l->cpu_period_us ? l->cpu_period_us : 100000);
        if (r >= 0)
            r = cg_write_u64(cpu, "cpu.cfs_quota_us", l->cpu_quota_us);
        if (r < 0)
            return ls_error_set(err, -r, "cgroup", "set cpu.cfs_quota_us/cfs_period_us");
    }
    if (l->pids_max) {
        r = cg_write_u64(cg->v1_fd[CG_V1_PIDS], "pids.max", l->pids_max);
        if (r < 0)
            return ls_error_set(err, -r, "cgroup", "set pids.max");
    }
    return 0;
}

static int v1_attach(struct cgroup *cg, pid_t pid, struct ls_error *err) {
    for (int i = 0; i < CG_V1_N; i++) {
        if (cg->v1_fd[i] < 0)
            continue;
        int r = cg_write_u64(cg->v1_fd[i], "cgroup.procs", (uint64_t)pid);
        if (r < 0)
            return ls_error_set(err, -r, "cgroup", "move pid %d into %s/%s/%s", (int)pid,
                                hierarchy[i], cg->mgr->parent, cg->name);
    }
    return 0;
}

static int v1_usage(struct cgroup *cg, struct cgroup_usage *u) {
    int mem = cg->v1_fd[CG_V1_MEMORY], acct = hfd(cg->v1_fd, CG_V1_CPUACCT);
    int pids = cg->v1_fd[CG_V1_PIDS];
    uint64_t ns;
    int r = 0, q;

    if ((q = cg_read_u64(mem, cg->mgr->v1_memsw ? "memory.memsw.max_usage_in_bytes"
                                                 : "memory.max_usage_in_bytes",
                         &u->memory_peak)) < 0)
        r = q;
    if ((q = cg_read_u64(acct, "cpuacct.usage_user", &ns)) < 0)
        r = q;
    else
        u->cpu_user_us = ns / 1000;
    if ((q = cg_read_u64(acct, "cpuacct.usage_sys", &ns)) < 0)
        r = q;
    else
        u->cpu_sys_us = ns / 1000;
    if ((q = cg_read_key(mem, "memory.oom_control", "oom_kill", &u->oom_kills)) < 0)
        r = q;
    if ((q = cg_read_key(pids, "pids.events", "max", &u->pids_refused)) < 0)
        r = q;
    if (cg_read_u64(pids, "pids.peak", &u->pids_peak) < 0)
        u->pids_peak = 0; /* older kernels: the caller derives a floor */
    return r;
}

static int v1_cpu_us(struct cgroup *cg, uint64_t *ret) {
    uint64_t ns;
    int r = cg_read_u64(hfd(cg->v1_fd, CG_V1_CPUACCT), "cpuacct.usage", &ns);
    if (r >= 0)
        *ret = ns / 1000;
    return r;
}

/* Freeze, SIGKILL every member, thaw. */
static int kill_frozen(int freezer) {
    char state[32];
    int r = cg_write(freezer, "freezer.state", "FROZEN");
    if (r < 0)
        return r;
    for (int i = 0; i < 1000; i++) {
        if (cg_read(freezer, "freezer.state", state, sizeof(state)) > 0 &&
            strncmp(state, "FROZEN", 6) == 0)
            break;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    r = cg_kill_procs(freezer);
    int t = cg_write(freezer, "freezer.state", "THAWED");
    return r < 0 ? r : t;
}

static int v1_remove(struct cgroup_manager *m, const char *name, struct ls_error *err) {
    _cleanup_close_ int freezer = cg_open_dir(m->v1_parent[CG_V1_FREEZER], name, false);
    char buf[16];
    int r;

    if (freezer >= 0 && cg_read(freezer, "cgroup.procs", buf, sizeof(buf)) > 0) {
        r = kill_frozen(freezer);
        if (r < 0)
            return ls_error_set(err, -r, "cgroup", "kill freezer/%s/%s", m->parent, name);
    }
    for (int i = 0; i < CG_V1_N; i++) {
        if (m->v1_parent[i] < 0)
            continue;
        _cleanup_close_ int dfd = cg_open_dir(m->v1_parent[i], name, false);
        if (dfd == -ENOENT)
            continue;
        if (dfd >= 0 && (r = cg_wait_empty(dfd)) < 0)
            return ls_error_set(err, -r, "cgroup", "wait for %s/%s/%s to empty", hierarchy[i],
                                m->parent, name);
        r = cg_rmdir(m->v1_parent[i], name);
        if (r < 0)
            return ls_error_set(err, -r, "cgroup", "remove %s/%s/%s", hierarchy[i], m->parent, name);
    }
    return 0;
}

const struct cgroup_backend cgroup_v1_backend = {
    .name = "v1",
    .manager_init = v1_manager_init,
    .manager_done = v1_manager_done,
    .create = v1_create,
    .attach = v1_attach,
    .usage = v1_usage,
    .cpu_us = v1_cpu_us,
    .remove = v1_remove,
    .parent_fd = v1_parent_fd,
};
