/*
 * cgroup.h - resource control for sandboxes, on cgroup v1 and v2 alike.
 *
 * A manager is opened once per process: it detects the host's cgroup version, makes
 * sure the parent cgroup (default "labstack") exists with the memory, cpu and pids
 * controllers, and picks the backend (cgroup_v1.c or cgroup_v2.c).  Each sandbox then
 * gets a fresh child cgroup with its limits, which its processes join before the
 * command runs (v2: clone3 CLONE_INTO_CGROUP; v1: the parent writes the pid while
 * the child still waits), is read for usage after the run, killed and removed.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct ls_error;

struct cgroup_limits {
    uint64_t memory_max;    /* bytes; 0 = no limit.  Swap is always 0 when limited. */
    uint64_t cpu_quota_us;  /* CPU time per period; 0 = no limit */
    uint64_t cpu_period_us; /* 0 = 100000 */
    uint64_t pids_max;      /* 0 = no limit */
};

struct cgroup_usage {
    uint64_t memory_peak;   /* bytes (memory.peak / memory.max_usage_in_bytes) */
    uint64_t cpu_user_us;
    uint64_t cpu_sys_us;
    uint64_t pids_peak;
    uint64_t oom_kills;     /* processes the OOM killer killed in this cgroup */
    uint64_t pids_refused;  /* forks refused at pids.max */
};

struct cgroup_manager;
struct cgroup;

/* Detect the cgroup version and prepare `parent` (a relative path such as
 * "labstack") under each hierarchy.  On v2, when the process's own cgroup is the
 * parent's parent and must hold no processes to delegate controllers, the process
 * moves itself into a leaf "<parent>-supervisor" first.  Returns 0 or -errno. */
int cgroup_manager_open(const char *parent, struct cgroup_manager **ret, struct ls_error *err);

struct cgroup_manager *cgroup_manager_free(struct cgroup_manager *m);

/* 1 or 2. */
int cgroup_manager_version(const struct cgroup_manager *m);

/* Call fn for the name of every child cgroup of the parent (names are collected
 * first, so fn may remove them).  Stops at the first negative return of fn and returns
 * it; otherwise 0.  -errno if the parent cannot be listed. */
int cgroup_for_each_child(struct cgroup_manager *m, int (*fn)(const char *name, void *ud),
                          void *ud, struct ls_error *err);

/* Kill everything in the child cgroup `name`, wait until it is empty and remove it
 * (a missing one is fine).  For cleanup after a crash.  Returns 0 or -errno. */
int cgroup_remove(struct cgroup_manager *m, const char *name, struct ls_error *err);

/* Create the child cgroup `name` with limits.  Returns 0 or -errno. */
int cgroup_create(struct cgroup_manager *m, const char *name, const struct cgroup_limits *l,
                  struct cgroup **ret, struct ls_error *err);

/* v2: an O_PATH fd of the cgroup directory for clone3's CLONE_INTO_CGROUP; v1: -1. */
int cgroup_clone_fd(const struct cgroup *cg);

/* Move pid into the cgroup (v1; a no-op on v2, where the child was cloned into it). */
int cgroup_attach(struct cgroup *cg, pid_t pid, struct ls_error *err);

/* Read usage counters.  Returns 0 or -errno (counters it could not read stay 0). */
int cgroup_read_usage(struct cgroup *cg, struct cgroup_usage *ret);

/* Forks refused at pids.max so far (pids.events "max"). */
int cgroup_pids_refused(struct cgroup *cg, uint64_t *ret);

/* CPU time (user + system) used so far, in microseconds. */
int cgroup_cpu_usage_us(struct cgroup *cg, uint64_t *ret);

/* Kill every process of the cgroup (v2: cgroup.kill; v1: freeze, SIGKILL each, thaw),
 * wait until it is empty and remove it.  Frees cg.  Returns 0 or -errno. */
int cgroup_destroy(struct cgroup *cg, struct ls_error *err);
