/*
 * runners.c - the labstack-runner processes that run the sandboxes, and the runs
 * they carry.
 *
 * A runner is spawned ahead of need (the warm pool: it has exec'd and opened the
 * sandbox host while nobody waited) and takes exactly one run: the supervisor writes
 * the spec and the seccomp program on its socket and reads back output and the
 * result.  Runners are never reused, so nothing of one run can reach the next.
 *
 * Cancelling is a CANCEL frame on the runner's socket: its watch loop sees the socket
 * readable and kills the sandbox's whole cgroup; the runner then reports the result
 * (reason "cancelled") and exits.  A runner that does not exit within
 * RUNNER_KILL_GRACE_MS of a cancel is SIGKILLed; its sandbox dies with it (parent
 * death signal), and what it could not clean up is swept at the next start.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "labstack/error.h"
#include "labstack/fdpass.h"
#include "labstack/macros.h"
#include "labstack/result.h"
#include "log.h"
#include "server.h"
#include "sinks.h"
#include "supmetrics.h"

extern char **environ;

#define RUNNER_READ_CHUNK 65536

#ifndef P_PIDFD
#define P_PIDFD 3   /* <linux/wait.h>; glibc 2.36 does not define it */
#endif

void run_list_append(struct run_list *l, struct run *r) {
    r->next = NULL;
    r->prev = l->tail;
    if (l->tail)
        l->tail->next = r;
    else
        l->head = r;
    l->tail = r;
    l->n++;
}

void run_list_remove(struct run_list *l, struct run *r) {
    if (r->prev)
        r->prev->next = r->next;
    else
        l->head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        l->tail = r->prev;
    r->prev = r->next = NULL;
    l->n--;
}

static void runner_list_add(struct runner **head, struct runner *rn) {
    rn->prev = NULL;
    rn->next = *head;
    if (*head)
        (*head)->prev = rn;
    *head = rn;
}

static void runner_list_remove(struct runner **head, struct runner *rn) {
    if (rn->prev)
        rn->prev->next = rn->next;
    else
        *head = rn->next;
    if (rn->next)
        rn->next->prev = rn->prev;
    rn->prev = rn->next = NULL;
}

/* ---- spawning ---------------------------------------------------------------- */

static int runner_spawn(struct server *srv, struct runner **ret) {
    int sp[2] = {-EBADF, -EBADF};
    _cleanup_close_ int child_end = -EBADF;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    char base[16], count[16];
    pid_t pid;
    int r;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
        return -errno;
    /* The child's end goes to fd 3; keep it off 0-3 here so dup2 always clears its
     * close-on-exec flag. */
    child_end = fcntl(sp[1], F_DUPFD_CLOEXEC, 10);
    close(sp[1]);
    if (child_end < 0) {
        r = -errno;
        close(sp[0]);
        return r;
    }
    snprintf(base, sizeof(base), "%u", (unsigned)srv->cfg->idmap_base);
    snprintf(count, sizeof(count), "%u", srv->cfg->idmap_count);
    char *argv[] = {srv->runner_path, "--idmap-base", base, "--idmap-count", count, "--log-level",
                    srv->cfg->log_level ? srv->cfg->log_level : "info", NULL};

    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, 2, 1);
    posix_spawn_file_actions_adddup2(&fa, child_end, 3);
    posix_spawnattr_init(&attr);
    /* Signals blocked for the signalfd must not stay blocked in the runner, and a new
     * session keeps a terminal's ^C (meant for the supervisor) away from it. */
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETSID);
    r = -posix_spawn(&pid, srv->runner_path, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (r < 0) {
        close(sp[0]);
        return r;
    }

    struct runner *rn = calloc(1, sizeof(*rn));
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (!rn || pidfd < 0) {
        r = pidfd < 0 ? -errno : -ENOMEM;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (pidfd >= 0)
            close(pidfd);
        free(rn);
        close(sp[0]);
        return r;
    }
    rn->ctl_ev = (struct ev){EV_RUNNER_CTL, rn};
    rn->pid_ev = (struct ev){EV_RUNNER_PID, rn};
    rn->srv = srv;
    rn->pid = pid;
    rn->pidfd = pidfd;
    rn->ctl = sp[0];
    rn->pending_fd = -EBADF;
    rn->spawned_ms = now_ms();
    ls_frame_reader_init(&rn->reader);
    fcntl(rn->ctl, F_SETFL, O_NONBLOCK);
    rn->ctl_events = EPOLLIN;
    if ((r = server_epoll_set(srv, rn->ctl, &rn->ctl_ev, rn->ctl_events, true)) < 0 ||
        (r = server_epoll_set(srv, rn->pidfd, &rn->pid_ev, EPOLLIN, true)) < 0) {
        kill(pid, SIGKILL);
        /* reaped through the pidfd if it was registered; otherwise here */
        server_epoll_del(srv, rn->ctl);
        server_epoll_del(srv, rn->pidfd);
        waitpid(pid, NULL, 0);
        close(rn->ctl);
        close(rn->pidfd);
        ls_frame_reader_free(&rn->reader);
        free(rn);
        return r;
    }
    *ret = rn;
    return 0;
}

/* Keep cfg->warm_runners idle runners ready (not while stopping; backing off when
 * runners keep dying at start). */
int runners_spawn_warm(struct server *srv) {
    if (srv->stopping || now_ms() < srv->runner_backoff_until_ms)
        return 0;
    while (srv->n_idle < srv->cfg->warm_runners) {
        struct runner *rn;
        int r = runner_spawn(srv, &rn);
        if (r < 0) {
            log_msg(LOG_LEVEL_ERROR, "runner.spawn_failed", "spawn %s: %s", srv->runner_path,
                    strerror(-r));
            srv->runner_backoff_until_ms = now_ms() + 1000;
            return r;
        }
        runner_list_add(&srv->idle, rn);
        srv->n_idle++;
    }
    return 0;
}

/* ---- writing to a runner ---------------------------------------------------- */

static void runner_update_events(struct runner *rn) {
    uint32_t ev = rn->ctl_eof ? 0 : EPOLLIN;
    if (rn->out.len > 0)
        ev |= EPOLLOUT;
    if (ev != rn->ctl_events && rn->ctl >= 0) {
        server_epoll_set(rn->srv, rn->ctl, &rn->ctl_ev, ev, false);
        rn->ctl_events = ev;
    }
}

static void runner_flush(struct runner *rn) {
    while (rn->out.len > 0 && rn->ctl >= 0) {
        struct iovec iov = {.iov_base = rn->out.data + rn->out.off, .iov_len = rn->out.len};
        union {
            struct cmsghdr align;
            char buf[LS_FDPASS_CMSG_SIZE];
        } cbuf;
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        if (rn->pending_fd >= 0)
            ls_fdpass_attach(&msg, cbuf.buf, rn->pending_fd);
        ssize_t n = sendmsg(rn->ctl, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            /* The runner is gone; its exit is handled through the pidfd. */
            buf_free(&rn->out);
            break;
        }
        rn->pending_fd = safe_close(rn->pending_fd);   /* it went with the first byte */
        buf_consume(&rn->out, (size_t)n);
    }
    runner_update_events(rn);
}

static void runner_send(struct runner *rn, uint8_t type, const void *payload, size_t len) {
    if (buf_append_frame(&rn->out, type, payload, len) < 0)
        log_msg(LOG_LEVEL_ERROR, "runner.failed", "out of memory writing to runner %d", (int)rn->pid);
    runner_flush(rn);
}

/* ---- runs ----------------------------------------------------------------------- */

void run_free(struct run *run) {
    struct server *srv = run->srv;

    if (run->conn) {
        run->conn->run = NULL;
        run->conn = NULL;
    }
    if (run->runner)
        run->runner->run = NULL;
    if (run->stdin_w >= 0)
        server_epoll_del(srv, run->stdin_w);
    safe_close(run->stdin_w);
    safe_close(run->stdin_r);
    buf_free(&run->stdin_buf);
    free(run->policy_name);
    free(run->spec_json);
    free(run->program);
    json_decref(run->audit);
    run->stdin_ev.dead = true;
    run->grave_next = srv->dead_runs;
    srv->dead_runs = run;
}

void run_stdin_flush(struct run *run) {
    while (run->stdin_w >= 0 && run->stdin_buf.len > 0) {
        ssize_t n = write(run->stdin_w, run->stdin_buf.data + run->stdin_buf.off, run->stdin_buf.len);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            /* EPIPE: the command stopped reading; the rest of stdin is dropped. */
            buf_free(&run->stdin_buf);
            break;
        }
        buf_consume(&run->stdin_buf, (size_t)n);
    }
    if (run->stdin_w >= 0) {
        if (run->stdin_buf.len == 0 && run->stdin_eof) {
            server_epoll_del(run->srv, run->stdin_w);
            run->stdin_w = safe_close(run->stdin_w);
        } else {
            server_epoll_set(run->srv, run->stdin_w, &run->stdin_ev,
                             run->stdin_buf.len > 0 ? EPOLLOUT : 0, false);
        }
    }
    if (run->stdin_buf.len < (1u << 19))
        conn_resume_reading(run->conn);
}

int run_start(struct run *run) {
    struct server *srv = run->srv;
    struct runner *rn = srv->idle;
    int r;

    if (rn) {
        runner_list_remove(&srv->idle, rn);
        srv->n_idle--;
    } else if ((r = runner_spawn(srv, &rn)) < 0) {
        return r;
    }
    runner_list_add(&srv->busy, rn);
    rn->run = run;
    run->runner = rn;

    if (run->stdin_stream) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) {
            r = -errno;
            goto fail;
        }
        run->stdin_r = p[0];
        run->stdin_w = p[1];
        fcntl(run->stdin_w, F_SETFL, O_NONBLOCK);
        if ((r = server_epoll_set(srv, run->stdin_w, &run->stdin_ev, 0, true)) < 0)
            goto fail;
        rn->pending_fd = TAKE_FD(run->stdin_r);
    }
    run->state = RUN_RUNNING;
    run->started_ms = now_ms();
    runner_send(rn, LS_FRAME_RUNNER_SPEC, run->spec_json, strlen(run->spec_json));
    runner_send(rn, LS_FRAME_RUNNER_SECCOMP, run->program, run->program_len);
    if (run->stdin_stream)
        run_stdin_flush(run);
    (void)runners_spawn_warm(srv);
    return 0;
fail:
    /* The runner stays on the busy list without a run until its exit is reaped. */
    rn->run = NULL;
    run->runner = NULL;
    kill(rn->pid, SIGKILL);
    return r;
}

void run_cancel(struct run *run, const char *why) {
    if (run->cancelled || run->state == RUN_DONE)
        return;
    run->cancelled = true;
    log_event(LOG_LEVEL_INFO, "sandbox.cancel",
              json_pack("{s:s, s:s}", "id", run->id, "why", why));
    if (run->state == RUN_QUEUED) {
        struct server *srv = run->srv;
        run_list_remove(&srv->queue, run);
        sm_queue(srv->metrics, srv->queue.n);
        run->state = RUN_DONE;
        server_audit(srv, "sandbox.finished", run->actor, run->id,
                     json_pack("{s:s, s:s, s:b}", "reason", "cancelled", "why", why, "started", 0));
        sm_finished(srv->metrics, "cancelled", 0, 0);
        if (run->conn) {
            /* The documented answer to a cancel in the queue: a RESULT with reason
             * cancelled and no STARTED before it. */
            struct ls_result res = {.reason = LS_REASON_CANCELLED, .exit_code = -1};
            _cleanup_free_ char *rj = ls_result_to_json(&res);
            json_t *doc = rj ? json_loads(rj, 0, NULL) : NULL;
            json_t *reply = doc ? json_pack("{s:s, s:s, s:o}", "id", run->id, "policy",
                                            run->policy_name, "result", doc)
                                : NULL;
            _cleanup_free_ char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
            json_decref(reply);
            if (text)
                conn_send(run->conn, LS_FRAME_RESULT, text, strlen(text));
            conn_finish(run->conn);
        }
        run_free(run);
        return;
    }
    if (run->runner)
        runner_send(run->runner, LS_FRAME_CANCEL, "{}", 2);
}

/* The runner's RESULT (or ERROR when no sandbox could be started). */
static void run_complete(struct run *run, uint8_t type, const uint8_t *payload, size_t len) {
    struct server *srv = run->srv;
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)payload, len, 0, &jerr);
    uint64_t elapsed = now_ms() - run->started_ms;

    if (run->got_result) {
        json_decref(doc);
        return;
    }
    run->got_result = true;
    if (!doc) {
        log_msg(LOG_LEVEL_ERROR, "runner.bad_frame", "runner for %s sent bad JSON: %s", run->id,
                jerr.text);
        doc = json_pack("{s:s, s:s}", "code", "internal", "message", "the runner sent a bad result");
        type = LS_FRAME_ERROR;
    }
    if (type == LS_FRAME_ERROR) {
        const char *msg = json_string_value(json_object_get(doc, "message"));
        server_audit(srv, "sandbox.failed", run->actor, run->id,
                     json_pack("{s:s}", "message", msg ? msg : "unknown"));
        log_event(LOG_LEVEL_ERROR, "sandbox.failed",
                  json_pack("{s:s, s:s}", "id", run->id, "msg", msg ? msg : "unknown"));
        sm_finished(srv->metrics, "setup_failed", 0, elapsed);
        if (run->conn)
            conn_send_error(run->conn, LS_PROTO_INTERNAL, msg ? msg : "the sandbox could not be run", 0);
        json_decref(doc);
        return;
    }

    const char *reason = json_string_value(json_object_get(doc, "reason"));
    json_t *denied = json_object_get(json_object_get(doc, "denied_syscalls"), "total");
    if (json_is_integer(denied))
        sm_denied(srv->metrics, (uint64_t)json_integer_value(denied));
    json_t *wall_j = json_object_get(doc, "wall_ms");
    uint64_t wall = json_is_integer(wall_j) && json_integer_value(wall_j) > 0
                        ? (uint64_t)json_integer_value(wall_j) : 0;
    sm_finished(srv->metrics, reason ? reason : "unknown", wall, elapsed > wall ? elapsed - wall : 0);
    srv->avg_run_ms = srv->avg_run_ms == 0 ? (double)elapsed : 0.8 * srv->avg_run_ms + 0.2 * (double)elapsed;

    json_t *reply = json_pack("{s:s, s:s, s:O}", "id", run->id, "policy", run->policy_name,
                              "result", doc);
    char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
    if (text) {
        if (run->conn) {
            conn_send(run->conn, LS_FRAME_RESULT, text, strlen(text));
            conn_finish(run->conn);
        }
        sinks_artifact(srv->sinks, run->id, "result.json", text, strlen(text));
    }
    server_audit(srv, "sandbox.finished", run->actor, run->id, json_incref(doc));
    log_event(LOG_LEVEL_INFO, "sandbox.finished",
              json_pack("{s:s, s:s, s:O?, s:s, s:O?, s:I}", "id", run->id, "actor", run->actor,
                        "task_id", json_object_get(run->audit, "task_id"), "reason",
                        reason ? reason : "unknown", "exit_code", json_object_get(doc, "exit_code"),
                        "elapsed_ms", (json_int_t)elapsed));
    free(text);
    json_decref(reply);
    json_decref(doc);
}

static void runner_frame(struct runner *rn, const struct ls_frame_header *hdr, const uint8_t *payload) {
    struct run *run = rn->run;

    if (!run)
        return;   /* output after the run was freed (cannot happen; ignore) */
    switch (hdr->type) {
    case LS_FRAME_STDOUT:
    case LS_FRAME_STDERR:
        conn_send(run->conn, hdr->type, payload, hdr->length);
        break;
    case LS_FRAME_RESULT:
    case LS_FRAME_ERROR:
        run_complete(run, hdr->type, payload, hdr->length);
        break;
    default:
        log_msg(LOG_LEVEL_ERROR, "runner.bad_frame", "runner %d sent a %s frame", (int)rn->pid,
                ls_frame_type_name(hdr->type));
        kill(rn->pid, SIGKILL);
    }
}

/* Returns true when the socket had nothing more to read right now. */
static bool runner_read(struct runner *rn, uint32_t events);

void runner_handle_ctl(struct runner *rn, uint32_t events) {
    (void)runner_read(rn, events);
}

static bool runner_read(struct runner *rn, uint32_t events) {
    uint8_t chunk[RUNNER_READ_CHUNK];
    struct ls_frame_header hdr;
    const uint8_t *payload;
    struct ls_error err = {0};

    if (events & EPOLLOUT)
        runner_flush(rn);
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || rn->ctl_eof)
        return true;
    for (int rounds = 0; rounds < 64; rounds++) {
        ssize_t n = read(rn->ctl, chunk, sizeof(chunk));
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return true;
        if (n <= 0) {
            rn->ctl_eof = true;
            runner_update_events(rn);
            break;
        }
        if (ls_frame_reader_feed(&rn->reader, chunk, (size_t)n) < 0) {
            kill(rn->pid, SIGKILL);
            break;
        }
        int r;
        while ((r = ls_frame_reader_next(&rn->reader, &hdr, &payload, &err)) == 1)
            runner_frame(rn, &hdr, payload);
        if (r < 0) {
            log_msg(LOG_LEVEL_ERROR, "runner.bad_frame", "runner %d: %s", (int)rn->pid, err.msg);
            kill(rn->pid, SIGKILL);
            rn->ctl_eof = true;
            runner_update_events(rn);
            break;
        }
        if ((size_t)n < sizeof(chunk))
            return true;
    }
    return rn->ctl_eof;
}

/* The runner process exited (its pidfd is readable): reap it, finish its run. */
void runner_handle_exit(struct runner *rn) {
    struct server *srv = rn->srv;
    siginfo_t si = {0};
    bool idle = rn->run == NULL;

    /* What it wrote before exiting is still in the socket: read it first.  (Stop when
     * nothing is left even without EOF: nothing else may hold the other end, but a
     * loop here must never spin.) */
    while (!rn->ctl_eof && !runner_read(rn, EPOLLIN))
        ;
    if (waitid((idtype_t)P_PIDFD, (id_t)rn->pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
        return;   /* not yet (spurious wakeup) */

    struct run *run = rn->run;
    if (si.si_code != CLD_EXITED || si.si_status != 0)
        log_event(LOG_LEVEL_WARN, "runner.exited",
                  json_pack("{s:i, s:s?, s:s, s:i}", "pid", (int)rn->pid, "id", run ? run->id : NULL,
                            "how", si.si_code == CLD_EXITED ? "exited" : "killed", "status",
                            si.si_status));
    server_epoll_del(srv, rn->ctl);
    server_epoll_del(srv, rn->pidfd);
    close(rn->ctl);
    close(rn->pidfd);
    safe_close(rn->pending_fd);
    ls_frame_reader_free(&rn->reader);
    buf_free(&rn->out);
    if (idle) {
        for (struct runner *i = srv->idle; i; i = i->next)
            if (i == rn) {
                runner_list_remove(&srv->idle, rn);
                srv->n_idle--;
                break;
            }
        /* An idle runner that died young is a broken installation: back off. */
        if (!srv->stopping && now_ms() - rn->spawned_ms < 1000) {
            srv->runner_failures++;
            srv->runner_backoff_until_ms = now_ms() + (srv->runner_failures > 5 ? 5000 : 200);
        }
    } else {
        runner_list_remove(&srv->busy, rn);
        srv->runner_failures = 0;
    }
    rn->ctl = rn->pidfd = -EBADF;
    rn->ctl_ev.dead = rn->pid_ev.dead = true;
    rn->grave_next = srv->dead_runners;
    srv->dead_runners = rn;

    if (run) {
        run->runner = NULL;
        if (!run->got_result) {
            char msg[128];
            snprintf(msg, sizeof(msg), "the runner %s (status %d) before reporting a result",
                     si.si_code == CLD_EXITED ? "exited" : "was killed", si.si_status);
            _cleanup_free_ char *doc = ls_proto_error_to_json(LS_PROTO_INTERNAL, msg, 0);
            if (doc)
                run_complete(run, LS_FRAME_ERROR, (const uint8_t *)doc, strlen(doc));
        }
        run->state = RUN_DONE;
        run_list_remove(&srv->running, run);
        sm_running(srv->metrics, srv->running.n);
        run_free(run);
        server_dispatch(srv);
    }
    (void)runners_spawn_warm(srv);
}

void runners_kill_all(struct server *srv) {
    for (struct runner *rn = srv->busy; rn; rn = rn->next)
        if (rn->run)
            run_cancel(rn->run, "the supervisor is stopping");
}

void runners_free_idle(struct server *srv) {
    /* Closing the socket of an idle runner makes it exit (EOF before a spec). */
    for (struct runner *rn = srv->idle; rn; rn = rn->next) {
        server_epoll_del(srv, rn->ctl);
        shutdown(rn->ctl, SHUT_RDWR);
        rn->ctl_eof = true;   /* nothing to read from it any more; only its exit */
    }
}
