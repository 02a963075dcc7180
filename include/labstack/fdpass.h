/*
 * fdpass.h - attach one fd to a message (SCM_RIGHTS).  Async-signal-safe: used by the
 * sandbox's init after clone() as well as by the supervisor.
 */
#pragma once

#include <string.h>
#include <sys/socket.h>

/* Control buffer big enough for one fd. */
#define LS_FDPASS_CMSG_SIZE CMSG_SPACE(sizeof(int))

/* Point mh's control data at cbuf (LS_FDPASS_CMSG_SIZE bytes, suitably aligned) holding fd. */
static inline void ls_fdpass_attach(struct msghdr *mh, void *cbuf, int fd) {
    memset(cbuf, 0, LS_FDPASS_CMSG_SIZE);
    mh->msg_control = cbuf;
    mh->msg_controllen = LS_FDPASS_CMSG_SIZE;
    struct cmsghdr *c = CMSG_FIRSTHDR(mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(fd));
}
