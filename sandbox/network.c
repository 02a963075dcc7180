/*
 * network.c - network closed: a fresh netns whose only interface is `lo`.
 *
 * A new network namespace has no interface but a down `lo`, no routes and no
 * sockets of the host's, so nothing outside the sandbox is reachable: not the
 * internet, not the host's 127.0.0.1 (the sandbox's loopback is its own), not the
 * host's abstract Unix sockets (those are per network namespace).  `lo` is brought
 * up because test suites routinely start a server on 127.0.0.1 and talk to it.
 *
 * The configuration is done from the parent so that the child, which must stay
 * async-signal-safe between clone() and execve(), never runs libnl (it allocates).
 * Why this is safe: the parent enters the netns with setns() on its own thread only,
 * opens one netlink socket there and switches back at once; the socket can only
 * change that namespace; nothing from the sandbox has run yet.
 */
#include "network.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <sched.h>
#include <unistd.h>

#include "labstack/error.h"
#include "labstack/macros.h"
#include "namespaces.h"

static void nl_socket_freep(struct nl_sock **s) {
    if (*s)
        nl_socket_free(*s);
}

static void rtnl_link_putp(struct rtnl_link **l) {
    if (*l)
        rtnl_link_put(*l);
}

/* Errors from libnl are its own codes; map the common ones back to errno. */
static int nl_errno(int nlerr) {
    switch (-nlerr) {
    case NLE_PERM:
        return EPERM;
    case NLE_NOMEM:
        return ENOMEM;
    case NLE_OBJ_NOTFOUND:
        return ENODEV;
    default:
        return EIO;
    }
}

int net_setup_loopback(pid_t pid, struct ls_error *err) {
    _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
    _cleanup_(rtnl_link_putp) struct rtnl_link *lo = NULL;
    _cleanup_(rtnl_link_putp) struct rtnl_link *change = NULL;
    _cleanup_close_ int self_ns = -EBADF, target_ns = -EBADF;
    int r;

    self_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self_ns < 0)
        return ls_error_set(err, errno, "network", "open own network namespace");
    target_ns = ns_open(pid, "net");
    if (target_ns < 0)
        return ls_error_set(err, -target_ns, "network", "open the sandbox's network namespace");
    sk = nl_socket_alloc();
    if (!sk)
        return ls_error_set(err, ENOMEM, "network", "allocate a netlink socket");

    if (setns(target_ns, CLONE_NEWNET) < 0)
        return ls_error_set(err, errno, "network", "enter the sandbox's network namespace");
    r = nl_connect(sk, NETLINK_ROUTE);
    if (setns(self_ns, CLONE_NEWNET) < 0) {
        /* Cannot happen short of a kernel bug; a thread left in the wrong namespace
         * must not go on serving. */
        abort();
    }
    if (r < 0)
        return ls_error_set(err, nl_errno(r), "network", "netlink connect: %s", nl_geterror(r));

    r = rtnl_link_get_kernel(sk, 0, "lo", &lo);
    if (r < 0)
        return ls_error_set(err, nl_errno(r), "network", "find lo: %s", nl_geterror(r));
    change = rtnl_link_alloc();
    if (!change)
        return ls_error_set(err, ENOMEM, "network", "allocate a link");
    rtnl_link_set_flags(change, IFF_UP);
    r = rtnl_link_change(sk, lo, change, 0);
    if (r < 0)
        return ls_error_set(err, nl_errno(r), "network", "bring lo up: %s", nl_geterror(r));
    return 0;
}
