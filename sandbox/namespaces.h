/*
 * namespaces.h - create the sandbox's namespaces and map its one uid.
 */
#pragma once

#include <sched.h>
#include <sys/types.h>

/* The namespaces every sandbox gets. */
#define NS_SANDBOX_FLAGS                                                                  \
    (CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS |            \
     CLONE_NEWIPC | CLONE_NEWCGROUP)

/*
 * clone3() a child in new namespaces (flags) with a pidfd and SIGCHLD as exit signal;
 * with cgroup_fd >= 0 (a cgroup v2 directory) the child is created inside that cgroup
 * (CLONE_INTO_CGROUP).  Returns the child's pid in the parent (with *ret_pidfd set),
 * 0 in the child, or -errno.  Like fork(): the child must only use async-signal-safe
 * calls.
 */
pid_t ns_clone(unsigned long long flags, int cgroup_fd, int *ret_pidfd);

/* From the parent: deny setgroups and map inside uid/gid -> host_id (one id each). */
int ns_write_id_maps(pid_t pid, uid_t inside_uid, gid_t inside_gid, uid_t host_id);

/* Open the namespace `name` ("user", "net", ...) of pid, O_CLOEXEC. */
int ns_open(pid_t pid, const char *name);

/* A user namespace (fd) whose only mapping is inside_uid/gid -> host_id, for
 * id-mapping a mount whose files are owned by inside_uid/gid on disk. */
int ns_userns_for_map(uid_t inside_uid, gid_t inside_gid, uid_t host_id);
