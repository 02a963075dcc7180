/*
 * watch.c - wait for a sandbox with pidfd + epoll, stream its output, enforce limits.
 *
 * One epoll set holds the init's pidfd, the two output pipes, the channel, a timerfd
 * for the wall clock, the caller's cancel fd and, once init hands it over, the seccomp
 * listener (notify.c).  Nothing polls or sleeps.  Killing means SIGKILL to the
 * sandbox's init through its pidfd (no pid-reuse race): the kernel then kills every
 * process of the pid namespace before init's exit completes, so once init is reaped
 * nothing of the sandbox runs and the pipes reach EOF as soon as they are drained.
 *
 * The command starts only when init, fully set up, has said CHAN_READY and we answer
 * CHAN_RUN -- which we do only if the cancel fd is quiet at that very moment and
 * nothing has been killed: a run cancelled at any point before never runs its
 * command.
 */
#include "watch.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "init.h"
#include "labstack/macros.h"

enum { EV_PIDFD = 1, EV_CHAN, EV_OUT, EV_ERR, EV_TIMER, EV_CPU, EV_CANCEL, EV_NOTIF };

/* One sample of the cgroup (every CHECK_MS): the CPU-time total, and the fork-bomb
 * rule -- forks refused at the pids limit in FORK_BOMB_TICKS samples in a row.  A
 * program that merely hits the limit fails its fork and stops or exits; one that
 * keeps trying for a second does nothing else and would only burn CPU until the wall
 * clock.  Returns true once it has killed the sandbox. */
static bool sample_cgroup(struct watch *w, int tfd, uint64_t *refused, unsigned *pinned) {
    uint64_t ticks, used, now;
    if (read(tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
        return false;
    if (w->cpu_limit_us > 0 && cgroup_cpu_usage_us(w->cg, &used) >= 0 && used >= w->cpu_limit_us) {
        watch_kill(w, LS_REASON_CPU_LIMIT);
        return true;
    }
    if (w->pids_limited && cgroup_pids_refused(w->cg, &now) >= 0) {
        *pinned = now > *refused ? *pinned + 1 : 0;
        *refused = now;
        if (*pinned >= FORK_BOMB_TICKS) {
            watch_kill(w, LS_REASON_PIDS_LIMIT);
            return true;
        }
    }
    return false;
}

void watch_kill(struct watch *w, enum ls_reason why) {
    if (w->killed_for == LS_REASON_NONE)
        w->killed_for = why;
    if (w->pidfd >= 0)
        syscall(SYS_pidfd_send_signal, w->pidfd, SIGKILL, NULL, 0);
}

bool watch_cancel_requested(int cancel_fd) {
    struct pollfd p = {.fd = cancel_fd, .events = POLLIN};
    if (cancel_fd < 0)
        return false;
    /* POLLNVAL (the caller closed it) counts too: fail towards stopping. */
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL));
}

static int add(int ep, int fd, uint32_t tag) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* Init is set up: let it start the command, unless the run is over already. */
static void send_run(struct watch *w) {
    struct chan_msg m = {.type = CHAN_RUN};
    if (w->killed_for != LS_REASON_NONE || w->failed)
        return;
    if (watch_cancel_requested(w->cancel_fd)) {
        watch_kill(w, LS_REASON_CANCELLED);
        return;
    }
    /* A failure means init is gone: its pidfd says so next. */
    (void)send(w->chan, &m, sizeof(m), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* The listener from CHAN_STARTED: answer it from now on (ep < 0: the loop is over, the
 * sandbox dead -- nothing left to answer). */
static int accept_listener(struct watch *w, int ep, int fd, struct ls_error *err) {
    int r = notify_start(&w->denied, fd, w->seccomp);
    if (r < 0) {
        if (r == -EEXIST)
            return 0;
        /* Refused calls would wait forever without us: stop the run. */
        return ls_error_set(err, -r, "watch", "take the seccomp listener");
    }
    w->denied_counted = true;
    if (ep >= 0 && (r = add(ep, w->denied.fd, EV_NOTIF)) < 0)
        return ls_error_set(err, -r, "watch", "epoll_ctl (seccomp listener)");
    return 0;
}

static int handle_msg(struct watch *w, int ep, const struct chan_msg *m, int fd,
                      struct ls_error *err) {
    switch (m->type) {
    case CHAN_READY:
        send_run(w);
        break;
    case CHAN_STARTED:
        w->started = true;
        if (fd >= 0)
            return accept_listener(w, ep, fd, err);
        break;
    case CHAN_STATUS:
        w->have_status = true;
        w->status = m->value;
        break;
    case CHAN_SETUP_ERROR:
    case CHAN_EXEC_ERROR:
        if (!w->failed) {
            w->failed = true;
            w->error = m->error;
            w->error.step[sizeof(w->error.step) - 1] = '\0';
            w->error.msg[sizeof(w->error.msg) - 1] = '\0';
        }
        break;
    default:
        break; /* the child is ours; an unknown type would be a bug, not an attack */
    }
    if (fd >= 0)
        close(fd); /* an fd on any other message is not ours to keep */
    return 0;
}

/* Read what is queued on the channel (a message may carry one fd).  Returns 1, 0 at
 * EOF, or -errno when a message could not be handled (err says why). */
static int drain_chan(struct watch *w, int ep, struct ls_error *err) {
    for (;;) {
        struct chan_msg m;
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                            .msg_controllen = sizeof(cbuf)};
        int fd = -1, r;
        ssize_t n = recvmsg(w->chan, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 1 : 0;
        if (n == 0)
            return 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
                c->cmsg_len == CMSG_LEN(sizeof(int)))
                memcpy(&fd, CMSG_DATA(c), sizeof(fd));
        if ((size_t)n != sizeof(m) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
            if (fd >= 0)
                close(fd);
            continue;
        }
        r = handle_msg(w, ep, &m, fd, err);
        if (r < 0)
            return r;
    }
}

/* Read one pipe until EAGAIN.  Returns false at EOF. */
static bool drain_pipe(struct watch *w, int i) {
    char buf[65536];
    for (;;) {
        ssize_t n = read(w->out[i], buf, sizeof(buf));
        if (n < 0)
            return errno == EAGAIN || errno == EINTR;
        if (n == 0)
            return false;
        uint64_t room = w->limit[i] - w->bytes[i];
        size_t take = (uint64_t)n < room ? (size_t)n : (size_t)room;
        if (take > 0) {
            w->bytes[i] += take;
            if (w->on_output && w->on_output(w->userdata, i + 1, buf, take) < 0)
                watch_kill(w, LS_REASON_CANCELLED);
        }
        if (take < (size_t)n) {
            w->truncated[i] = true;
            watch_kill(w, LS_REASON_OUTPUT_LIMIT);
        }
    }
}

int watch_run(struct watch *w, struct ls_error *err) {
    _cleanup_close_ int ep = -EBADF, tfd = -EBADF, cfd = -EBADF;
    bool reaped = false, chan_open = true, open_[2] = {true, true};
    uint64_t refused = 0;
    unsigned pinned = 0;
    int r = 0;

    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        r = ls_error_set(err, errno, "watch", "epoll_create1");
        goto fail;
    }
    if ((r = add(ep, w->pidfd, EV_PIDFD)) < 0 || (r = add(ep, w->chan, EV_CHAN)) < 0 ||
        (r = add(ep, w->out[0], EV_OUT)) < 0 || (r = add(ep, w->out[1], EV_ERR)) < 0 ||
        (w->cancel_fd >= 0 && (r = add(ep, w->cancel_fd, EV_CANCEL)) < 0)) {
        r = ls_error_set(err, -r, "watch", "epoll_ctl");
        goto fail;
    }
    if (w->timeout_ms > 0) {
        struct itimerspec its = {.it_value = {.tv_sec = (time_t)(w->timeout_ms / 1000),
                                              .tv_nsec = (long)(w->timeout_ms % 1000) * 1000000L}};
        tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0 || (r = add(ep, tfd, EV_TIMER)) < 0) {
            r = ls_error_set(err, r < 0 ? -r : errno, "watch", "wall-clock timer");
            goto fail;
        }
    }

    if (w->cg && (w->cpu_limit_us > 0 || w->pids_limited)) {
        struct timespec every = {.tv_sec = 0, .tv_nsec = CHECK_MS * 1000000L};
        struct itimerspec its = {.it_value = every, .it_interval = every};
        cfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (cfd < 0 || timerfd_settime(cfd, 0, &its, NULL) < 0 || (r = add(ep, cfd, EV_CPU)) < 0) {
            r = ls_error_set(err, r < 0 ? -r : errno, "watch", "cgroup sampling timer");
            goto fail;
        }
    }

    while (!reaped || open_[0] || open_[1]) {
        struct epoll_event evs[8];
        int n = epoll_wait(ep, evs, 8, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r = ls_error_set(err, errno, "watch", "epoll_wait");
            goto fail;
        }
        for (int i = 0; i < n; i++) {
            switch (evs[i].data.u32) {
            case EV_PIDFD:
                /* ECHILD: the caller ignores SIGCHLD (auto-reap) or another thread reaped
                 * it -- it is gone either way, only its rusage is lost. */
                if (wait4(w->pid, NULL, 0, &w->usage) == w->pid || errno == ECHILD) {
                    reaped = true;
                    epoll_ctl(ep, EPOLL_CTL_DEL, w->pidfd, NULL);
                    if (tfd >= 0)
                        epoll_ctl(ep, EPOLL_CTL_DEL, tfd, NULL);
                    if (cfd >= 0)
                        epoll_ctl(ep, EPOLL_CTL_DEL, cfd, NULL);
                }
                break;
            case EV_CHAN:
                if (!chan_open)
                    break;
                r = drain_chan(w, ep, err);
                if (r < 0)
                    goto fail;
                if (r == 0) {
                    chan_open = false;
                    epoll_ctl(ep, EPOLL_CTL_DEL, w->chan, NULL);
                }
                break;
            case EV_CANCEL:
                /* Readable or hung up: the caller wants the run gone.  Never read. */
                watch_kill(w, LS_REASON_CANCELLED);
                epoll_ctl(ep, EPOLL_CTL_DEL, w->cancel_fd, NULL);
                break;
            case EV_NOTIF:
                if (evs[i].events & EPOLLIN) {
                    r = notify_handle(&w->denied);
                    if (r < 0) {
                        r = ls_error_set(err, -r, "watch", "answer a seccomp notification");
                        goto fail;
                    }
                } else if (evs[i].events & (EPOLLHUP | EPOLLERR)) {
                    /* Every process under the filter is gone. */
                    epoll_ctl(ep, EPOLL_CTL_DEL, w->denied.fd, NULL);
                }
                break;
            case EV_OUT:
            case EV_ERR: {
                int k = evs[i].data.u32 == EV_OUT ? 0 : 1;
                if (open_[k] && !drain_pipe(w, k)) {
                    open_[k] = false;
                    epoll_ctl(ep, EPOLL_CTL_DEL, w->out[k], NULL);
                }
                break;
            }
            case EV_TIMER:
                watch_kill(w, LS_REASON_TIMEOUT);
                epoll_ctl(ep, EPOLL_CTL_DEL, tfd, NULL);
                break;
            case EV_CPU:
                if (sample_cgroup(w, cfd, &refused, &pinned)) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, cfd, NULL);
                }
                break;
            }
        }
    }
    /* Messages sent just before init exited are still queued. */
    if (chan_open)
        (void)drain_chan(w, -1, NULL);
    notify_stop(&w->denied);
    return 0;

fail:
    watch_kill(w, LS_REASON_CANCELLED);
    while (wait4(w->pid, NULL, 0, &w->usage) < 0 && errno == EINTR)
        ;
    notify_stop(&w->denied);
    return r; /* ECHILD ends the wait too: the child is gone */
}
