/*
 * idmap.h - hand out one unprivileged host uid per running sandbox.
 */
#pragma once

#include <sys/types.h>

#include "labstack/sandbox.h"

struct idmap_slot {
    uid_t host_id;  /* used as both uid and gid on the host */
    int lock_fd;    /* flock()ed while the sandbox lives; -EBADF when free */
    int dir_fd;     /* the lock directory, to unlink the slot file on release */
};

/* Take a free slot of range r (defaults applied for zero fields).  The slot stays
 * taken until idmap_release() or until the holding process dies.  Returns 0 or -errno
 * with err filled. */
int idmap_acquire(const struct ls_idmap_range *r, struct idmap_slot *ret, struct ls_error *err);

/* Give the slot back; accepts a released slot. */
void idmap_release(struct idmap_slot *slot);
