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

#define IDMAP_SLOT_INIT {.lock_fd = -EBADF, .dir_fd = -EBADF}

/* Fill the zero fields of r with the defaults and check the range.  0 or -EINVAL. */
int idmap_range_resolve(struct ls_idmap_range *r, struct ls_error *err);

/* Take a free slot of the (resolved) range r.  The slot stays taken until
 * idmap_release() or until the holding process dies.  Returns 0 or -errno with err. */
int idmap_acquire(const struct ls_idmap_range *r, struct idmap_slot *ret, struct ls_error *err);

/* Take the slot of host_id if nobody holds it: 1 taken, 0 held by a live process,
 * or -errno.  Used to clean up after a crashed holder. */
int idmap_claim(const struct ls_idmap_range *r, uid_t host_id, struct idmap_slot *ret,
                struct ls_error *err);

/* Remove the slot files nobody holds (left by crashed holders).  Returns the number
 * removed or -errno. */
int idmap_sweep(const struct ls_idmap_range *r, struct ls_error *err);

/* Give the slot back (its file is unlinked); accepts a released slot. */
void idmap_release(struct idmap_slot *slot);
