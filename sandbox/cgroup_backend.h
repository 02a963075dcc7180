/*
 * cgroup_backend.h - what a cgroup backend implements, and the file helpers both
 * backends share.  Only cgroup.c, cgroup_v1.c and cgroup_v2.c include this.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"

#define CG_NAME_MAX 64

/* v1 hierarchies used, in this order. */
enum { CG_V1_MEMORY, CG_V1_CPU, CG_V1_CPUACCT, CG_V1_PIDS, CG_V1_FREEZER, CG_V1_N };

struct cgroup_backend {
    const char *name;
    int (*manager_init)(struct cgroup_manager *m, struct ls_error *err);
    void (*manager_done)(struct cgroup_manager *m);
    int (*create)(struct cgroup *cg, const struct cgroup_limits *l, struct ls_error *err);
    int (*attach)(struct cgroup *cg, pid_t pid, struct ls_error *err);
    int (*usage)(struct cgroup *cg, struct cgroup_usage *ret);
    int (*cpu_us)(struct cgroup *cg, uint64_t *ret);
    /* Kill everything in child `name` of the parent, wait until empty, rmdir.  Works
     * without a struct cgroup, for stale cleanup after a crash. */
    int (*remove)(struct cgroup_manager *m, const char *name, struct ls_error *err);
    /* The hierarchy whose parent directory lists the children (for stale cleanup). */
    int (*parent_fd)(const struct cgroup_manager *m);
};

struct cgroup_manager {
    const struct cgroup_backend *ops;
    int version;
    char parent[128];
    int v2_parent;           /* v2: the parent cgroup dir */
    int v1_parent[CG_V1_N];  /* v1: the parent dir in each hierarchy (-1: absent) */
    bool v1_memsw;           /* v1: memory.memsw.* exist (swap accounting on) */
};

struct cgroup {
    struct cgroup_manager *mgr;
    char name[CG_NAME_MAX];
    int v2_fd;               /* v2: the cgroup dir */
    int v1_fd[CG_V1_N];      /* v1: the cgroup dir in each hierarchy */
};

extern const struct cgroup_backend cgroup_v1_backend;
extern const struct cgroup_backend cgroup_v2_backend;

/* Write value to dirfd/file.  0 or -errno. */
int cg_write(int dirfd, const char *file, const char *value);
int cg_write_u64(int dirfd, const char *file, uint64_t v);
/* Read a file into buf (NUL-terminated).  Returns length or -errno. */
ssize_t cg_read(int dirfd, const char *file, char *buf, size_t size);
/* Read a file holding one unsigned number. */
int cg_read_u64(int dirfd, const char *file, uint64_t *ret);
/* Read the value of `key` from a flat-keyed file ("key value" lines). */
int cg_read_key(int dirfd, const char *file, const char *key, uint64_t *ret);
/* Open (and create if needed) a subdirectory as an O_PATH|O_DIRECTORY fd. */
int cg_open_dir(int dirfd, const char *path, bool create);
/* Wait until no process is left in the cgroup dir (cgroup.procs empty), bounded. */
int cg_wait_empty(int dirfd);
/* rmdir a (killed, empty) child cgroup; retries while the kernel still reports EBUSY
 * for tasks that left cgroup.procs but are not yet released.  ENOENT is success. */
int cg_rmdir(int parentfd, const char *name);
/* SIGKILL every process listed in dirfd/cgroup.procs (the caller has frozen the
 * cgroup, so the list is stable). */
int cg_kill_procs(int dirfd);
