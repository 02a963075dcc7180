/*
 * network.h - the sandbox's network: a new namespace with only `lo`, up.
 */
#pragma once

#include <sys/types.h>

struct ls_error;

/* From the parent: bring `lo` up in the network namespace of pid, over rtnetlink
 * with libnl.  The calling thread enters that namespace only long enough to open the
 * netlink socket (a socket stays bound to the namespace it was created in) and
 * returns to its own before anything else happens.  Returns 0 or -errno with err. */
int net_setup_loopback(pid_t pid, struct ls_error *err);
