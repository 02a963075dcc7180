/*
 * cgroup_v2.c - the unified hierarchy backend.
 *
 * Layout: /sys/fs/cgroup/<parent>/<sandbox>.  The memory, cpu and pids controllers
 * are enabled in the root's and the parent's cgroup.subtree_control.  A sandbox's
 * processes are created directly inside their cgroup with clone3(CLONE_INTO_CGROUP),
 * so not one instruction of the sandbox runs outside its limits.
 * Limits: memory.max with memory.swap.max = 0, cpu.max "<quota> <period>", pids.max.
 * Kill: cgroup.kill (Linux >= 5.14), which kills every process including stopped
 * ones and ones that ignore signals, atomically with respect to forks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup_backend.h"
#include "labstack/error.h"
#include "labstack/macros.h"

#define CONTROLLERS "+memory +cpu +pids"

static bool has_controllers(int dirfd) {
    char buf[512];
    if (cg_read(dirfd, "cgroup.controllers", buf, sizeof(buf)) < 0)
        return false;
    char *words[] = {"memory", "cpu", "pids"};
    for (size_t i = 0; i < ELEMENTSOF(words); i++) {
        bool found = false;
        for (char *t = buf; (t = strstr(t, words[i])); t++) {
            bool start = t == buf || t[-1] == ' ';
            char e = t[strlen(words[i])];
            if (start && (e == ' ' || e == '\n' || e == '\0')) {
                found = true;
                break;
            }
        }
        if (!found)
            return false;
    }
    return true;
}

static int v2_manager_init(struct cgroup_manager *m, struct ls_error *err) {
    _cleanup_close_ int root = open("/sys/fs/cgroup", O_PATH | O_DIRECTORY | O_CLOEXEC);
    int r;

    if (root < 0)
        return ls_error_set(err, errno, "cgroup", "open /sys/fs/cgroup");
    if (!has_controllers(root))
        return ls_error_set(err, ENOTSUP, "cgroup",
                            "the memory, cpu and pids controllers are not all available in "
                            "/sys/fs/cgroup/cgroup.controllers");
    r = cg_write(root, "cgroup.subtree_control", CONTROLLERS);
    if (r == -EBUSY) {
        /* "No internal processes": we live in this (non-root) cgroup ourselves, as in a
         * container with its own cgroup namespace.  Move into a leaf, then delegate. */
        char leaf[160];
        snprintf(leaf, sizeof(leaf), "%s-supervisor", m->parent);
        _cleanup_close_ int lfd = cg_open_dir(root, leaf, true);
        if (lfd < 0)
            return ls_error_set(err, -lfd, "cgroup", "create /sys/fs/cgroup/%s", leaf);
        r = cg_write(lfd, "cgroup.procs", "0");
        if (r < 0)
            return ls_error_set(err, -r, "cgroup", "move the supervisor into /sys/fs/cgroup/%s", leaf);
        r = cg_write(root, "cgroup.subtree_control", CONTROLLERS);
    }
    if (r < 0)
        return ls_error_set(err, -r, "cgroup", "enable %s in /sys/fs/cgroup", CONTROLLERS);
    m->v2_parent = cg_open_dir(root, m->parent, true);
    if (m->v2_parent < 0)
        return ls_error_set(err, -m->v2_parent, "cgroup", "create /sys/fs/cgroup/%s", m->parent);
    r = cg_write(m->v2_parent, "cgroup.subtree_control", CONTROLLERS);
    if (r < 0)
        return ls_error_set(err, -r, "cgroup", "enable %s in /sys/fs/cgroup/%s", CONTROLLERS,
                            m->parent);
    return 0;
}

static void v2_manager_done(struct cgroup_manager *m) {
    m->v2_parent = safe_close(m->v2_parent);
}

static int v2_parent_fd(const struct cgroup_manager *m) {
    return m->v2_parent;
}

static int v2_remove(struct cgroup_manager *m, const char *name, struct ls_error *err);

static int v2_create(struct cgroup *cg, const struct cgroup_limits *l, struct ls_error *err) {
    struct cgroup_manager *m = cg->mgr;
    char cpu[64];
    int r;

    if (mkdirat(m->v2_parent, cg->name, 0755) < 0) {
        if (errno != EEXIST)
            return ls_error_set(err, errno, "cgroup", "create %s/%s", m->parent, cg->name);
        /* Left behind by a crashed holder of the same slot: start from nothing. */
        r = v2_remove(m, cg->name, err);
        if (r < 0)
            return r;
        if (mkdirat(m->v2_parent, cg->name, 0755) < 0)
            return ls_error_set(err, errno, "cgroup", "create %s/%s", m->parent, cg->name);
    }
    cg->v2_fd = cg_open_dir(m->v2_parent, cg->name, false);
    if (cg->v2_fd < 0)
        return ls_error_set(err, -cg->v2_fd, "cgroup", "open %s/%s", m->parent, cg->name);
    if (l->memory_max) {
        r = cg_write_u64(cg->v2_fd, "memory.max", l->memory_max);
        if (r < 0)
            return ls_error_set(err, -r, "cgroup", "set memory.max");
        r = cg_write(cg->v2_fd, "memory.swap.max", "0");
        if (r < 0 && r != -ENOENT) /* no swap controller: there is no swap to limit */
            return ls_error_set(err, -r, "cgroup", "set memory.swap.max");
    }
    if (l->cpu_quota_us) {
        snprintf(cpu, sizeof(cpu), "%llu %llu", (unsigned long long)l->cpu_quota_us,
                 (unsigned long long)(l->cpu_period_us ? l->cpu_period_us : 100000));
        r = cg_write(cg->v2_fd, "cpu.max", cpu);
        if (r < 0)
            return ls_error_set(err, -r, "cgroup", "set cpu.max \"%s\"", cpu);
    }
    if (l->pids_max) {
        r = cg_write_u64(cg->v2_fd, "pids.max", l->pids_max);
        if (r < 0)
            return ls_error_set(err, -r, "cgroup", "set pids.max");
    }
    return 0;
}

static int v2_attach(struct cgroup *cg, pid_t pid, struct ls_error *err) {
    (void)cg, (void)pid, (void)err;
    return 0; /* cloned into the cgroup with CLONE_INTO_CGROUP */
}

static int v2_usage(struct cgroup *cg, struct cgroup_usage *u) {
    int r = 0, q;
    if ((q = cg_read_u64(cg->v2_fd, "memory.peak", &u->memory_peak)) < 0)
        r = q;
    if ((q = cg_read_key(cg->v2_fd, "cpu.stat", "user_usec", &u->cpu_user_us)) < 0)
        r = q;
    if ((q = cg_read_key(cg->v2_fd, "cpu.stat", "system_usec", &u->cpu_sys_us)) < 0)
        r = q;
    if ((q = cg_read_key(cg->v2_fd, "memory.events", "oom_kill", &u->oom_kills)) < 0)
        r = q;
    if ((q = cg_read_key(cg->v2_fd, "pids.events", "max", &u->pids_refused)) < 0)
        r = q;
    if (cg_read_u64(cg->v2_fd, "pids.peak", &u->pids_peak) < 0)
        u->pids_peak = 0; /* pids.peak is Linux >= 6.1 on v2: the caller derives a floor */
    return r;
}

static int v2_cpu_us(struct cgroup *cg, uint64_t *ret) {
    return cg_read_key(cg->v2_fd, "cpu.stat", "usage_usec", ret);
}

/* Without cgroup.kill (Linux < 5.14): freeze, SIGKILL every member, thaw.  Frozen
 * processes cannot fork or exit, so the pids read are stable. */
static int kill_frozen(int dfd) {
    int r = cg_write(dfd, "cgroup.freeze", "1");
    if (r >= 0)
        r = cg_kill_procs(dfd);
    int t = cg_write(dfd, "cgroup.freeze", "0");
    return r < 0 ? r : t;
}

static int v2_remove(struct cgroup_manager *m, const char *name, struct ls_error *err) {
    _cleanup_close_ int dfd = cg_open_dir(m->v2_parent, name, false);
    int r;

    if (dfd == -ENOENT)
        return 0;
    if (dfd < 0)
        return ls_error_set(err, -dfd, "cgroup", "open %s/%s", m->parent, name);
    r = cg_write(dfd, "cgroup.kill", "1");
    if (r == -ENOENT)
        r = kill_frozen(dfd);
    if (r < 0)
        return ls_error_set(err, -r, "cgroup", "kill %s/%s", m->parent, name);
    r = cg_wait_empty(dfd);
    if (r < 0)
        return ls_error_set(err, -r, "cgroup", "wait for %s/%s to empty", m->parent, name);
    r = cg_rmdir(m->v2_parent, name);
    return r < 0 ? ls_error_set(err, -r, "cgroup", "remove %s/%s", m->parent, name) : 0;
}

const struct cgroup_backend cgroup_v2_backend = {
    .name = "v2",
    .manager_init = v2_manager_init,
    .manager_done = v2_manager_done,
    .create = v2_create,
    .attach = v2_attach,
    .usage = v2_usage,
    .cpu_us = v2_cpu_us,
    .remove = v2_remove,
    .parent_fd = v2_parent_fd,
};
