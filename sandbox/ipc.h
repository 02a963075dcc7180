/*
 * ipc.h - limits of the sandbox's SysV IPC namespace.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

struct ls_error;

/* From the parent: in the IPC namespace of pid, whose owner is the host uid `owner`
 * (0 when the namespace's root is unmapped), set kernel.shm_rmid_forced = 1 and,
 * unless shm_max is 0, kernel.shmmax = shm_max and kernel.shmall = shm_max in pages.
 * Returns 0 or -errno with err. */
int ipc_setup_limits(pid_t pid, uid_t owner, uint64_t shm_max, struct ls_error *err);
