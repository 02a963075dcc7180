/*
 * server.c - the supervisor's event loop, policies, admission and shutdown.
 *
 * The loop (server_run) waits on one epoll set: the Unix listener, the TLS listener,
 * every connection, every runner's socket and pidfd, stdin pipes, a signalfd
 * (SIGHUP: reload policies; SIGTERM/SIGINT: stop) and a 100 ms timerfd for request
 * timeouts, the shutdown grace period and refilling the warm pool.  Each handler does
 * a bounded amount of non-blocking work and returns.
 *
 * Admission: at most cfg->max_concurrent sandboxes run; beyond that requests wait in
 * a FIFO queue of cfg->queue_max, and beyond that they are refused with `busy` and a
 * retry hint from the recent run durations.
 */
#include "server.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <netdb.h>

#include "labstack/error.h"
#include "labstack/macros.h"
#include "labstack/sandbox.h"
#include "labstack/seccomp.h"
#include "labstack/tls.h"
#include "log.h"
#include "sinks.h"
#include "supmetrics.h"

#define TICK_MS 100
#define KILL_AFTER_CANCEL_MS 5000

uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int server_epoll_set(struct server *srv, int fd, struct ev *ev, uint32_t events, bool add) {
    struct epoll_event e = {.events = events, .data.ptr = ev};
    if (epoll_ctl(srv->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &e) < 0) {
        int r = -errno;
        log_msg(LOG_LEVEL_ERROR, "epoll.failed", "epoll_ctl(%s fd %d, kind %d): %s",
                add ? "add" : "mod", fd, (int)ev->kind, strerror(errno));
        return r;
    }
    return 0;
}

void server_epoll_del(struct server *srv, int fd) {
    if (fd >= 0)
        (void)epoll_ctl(srv->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void server_audit(struct server *srv, const char *action, const char *actor, const char *subject,
                  json_t *details) {
    sinks_audit(srv->sinks, action, actor, subject, details);
}

/* ---- policies ------------------------------------------------------------------ */

static void policy_set_free(struct policy_set *set) {
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++) {
        ls_policy_free(set->v[i].policy);
        free(set->v[i].program);
    }
    free(set->v);
    free(set);
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Load every <dir>/NAME.json as a policy, compile and serialise its seccomp program.  All
 * or nothing: one bad file fails the whole set (each problem is logged). */
static int policy_set_load(const char *dir, struct policy_set **ret, struct ls_error *err) {
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0;
    int r = 0;

    if (!d)
        return ls_error_set(err, errno, "policies", "open %s", dir);
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        char **nn = realloc(names, (n + 1) * sizeof(*names));
        if (!nn || !(nn[n] = strdup(de->d_name))) {
            names = nn ? nn : names;
            r = -ENOMEM;
            break;
        }
        names = nn;
        n++;
    }
    closedir(d);
    struct policy_set *set = calloc(1, sizeof(*set));
    if (r < 0 || !set || !(set->v = calloc(n ? n : 1, sizeof(*set->v)))) {
        r = ls_error_set(err, ENOMEM, "policies", "load %s", dir);
        goto out;
    }
    if (n == 0) {
        r = ls_error_set(err, ENOENT, "policies", "no *.json policy in %s", dir);
        goto out;
    }
    qsort(names, n, sizeof(*names), cmp_names);
    struct ls_policy_load_opts opts = {.search_dir = dir};
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *path = NULL;
        struct ls_diags diags = {0};
        struct ls_policy *p = NULL;
        if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
            r = -ENOMEM;
            goto out;
        }
        r = ls_policy_load(path, &opts, &p, &diags);
        for (size_t k = 0; k < diags.n; k++) {
            _cleanup_free_ char *text = ls_diag_format(&diags.v[k]);
            log_msg(diags.v[k].warning ? LOG_LEVEL_WARN : LOG_LEVEL_ERROR, "policy.diagnostic", "%s",
                    text ? text : "(out of memory)");
        }
        ls_diags_free(&diags);
        if (r < 0) {
            if (!failed++)
                ls_error_set(err, -r, "policies", "%s: %s", path,
                             r == -EINVAL ? "invalid (see the diagnostics logged)" : strerror(-r));
            continue;
        }
        struct policy_entry *e = &set->v[set->n++];
        e->policy = p;
        for (size_t k = 0; k < 32; k++)
            snprintf(e->hash_hex + 2 * k, 3, "%02x", p->hash[k]);
        const struct ls_seccomp_program *prog;
        struct ls_error perr = {0};
        if ((r = ls_policy_program(p, &prog, &perr)) < 0 ||
            (r = ls_seccomp_program_serialize(prog, &e->program, &e->program_len)) < 0) {
            if (!failed++)
                ls_error_set(err, -r, "policies", "%s: compile: %s", path,
                             perr.code ? perr.msg : strerror(-r));
        } else if (e->program_len > LS_PROTO_MAX_PROGRAM) {
            if (!failed++)
                ls_error_set(err, E2BIG, "policies", "%s: its compiled program is %zu bytes, over "
                             "the %u a runner accepts", path, e->program_len, LS_PROTO_MAX_PROGRAM);
        }
    }
    if (failed) {
        r = -EINVAL;
        goto out;
    }
    *ret = TAKE_PTR(set);
    r = 0;
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    policy_set_free(set);
    return r;
}

const struct policy_entry *server_find_policy(struct server *srv, const char *name) {
    for (size_t i = 0; srv->policies && i < srv->policies->n; i++)
        if (strcmp(srv->policies->v[i].policy->name, name) == 0)
            return &srv->policies->v[i];
    return NULL;
}

static json_t *policy_names(const struct policy_set *set) {
    json_t *a = json_array();
    for (size_t i = 0; a && set && i < set->n; i++)
        json_array_append_new(a, json_string(set->v[i].policy->name));
    return a;
}

/* One policy.loaded record per policy in force: name, version, hash, file. */
static void audit_policies(struct server *srv) {
    const struct policy_set *set = srv->policies;
    for (size_t i = 0; i < set->n; i++)
        server_audit(srv, "policy.loaded", "supervisor", set->v[i].policy->name,
                     json_pack("{s:I, s:s, s:s, s:I}", "version", (json_int_t)set->v[i].policy->version,
                               "hash", set->v[i].hash_hex, "file", set->v[i].policy->file,
                               "program_bytes", (json_int_t)set->v[i].program_len));
}

/* SIGHUP: a new set replaces the old one only when every file loads; queued and
 * running sandboxes keep what they were admitted with (their spec is resolved). */
static void reload_policies(struct server *srv) {
    struct policy_set *set = NULL;
    struct ls_error err = {0};
    int r = policy_set_load(srv->cfg->policies_dir, &set, &err);

    if (r < 0) {
        sm_reload(srv->metrics, 0);
        log_event(LOG_LEVEL_ERROR, "policy.reload_failed",
                  json_pack("{s:s, s:s}", "dir", srv->cfg->policies_dir, "msg", err.msg));
        server_audit(srv, "policy.rejected", "supervisor", srv->cfg->policies_dir,
                     json_pack("{s:s}", "message", err.msg));
        return;
    }
    policy_set_free(srv->policies);
    srv->policies = set;
    sm_reload(srv->metrics, 1);
    sm_policies(srv->metrics, set->n);
    log_event(LOG_LEVEL_INFO, "policy.reloaded",
              json_pack("{s:s, s:o}", "dir", srv->cfg->policies_dir, "policies", policy_names(set)));
    audit_policies(srv);
}

/* ---- admission -------------------------------------------------------------------- */

static void start_or_fail(struct server *srv, struct run *run) {
    int r;

    run_list_append(&srv->running, run);
    run->state = RUN_STARTING;
    r = run_start(run);
    if (r < 0) {
        char msg[160];
        snprintf(msg, sizeof(msg), "cannot start a runner: %s", strerror(-r));
        log_event(LOG_LEVEL_ERROR, "sandbox.failed", json_pack("{s:s, s:s}", "id", run->id, "msg", msg));
        server_audit(srv, "sandbox.failed", run->actor, run->id, json_pack("{s:s}", "message", msg));
        sm_finished(srv->metrics, "setup_failed", 0, 0);
        if (run->conn)
            conn_send_error(run->conn, LS_PROTO_INTERNAL, msg, 0);
        run_list_remove(&srv->running, run);
        run_free(run);
        return;
    }
    srv->started_total++;
    sm_started(srv->metrics);
    sm_running(srv->metrics, srv->running.n);
    if (run->conn) {
        json_t *doc = json_pack("{s:s, s:s, s:I, s:s}", "id", run->id, "policy", run->policy_name,
                                "policy_version", (json_int_t)run->policy_version, "policy_hash",
                                run->policy_hash);
        _cleanup_free_ char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        json_decref(doc);
        if (text)
            conn_send(run->conn, LS_FRAME_STARTED, text, strlen(text));
        run->conn->state = CONN_RUNNING;
    }
    server_audit(srv, "sandbox.started", run->actor, run->id,
                 json_pack("{s:s, s:I}", "policy", run->policy_name, "queued_ms",
                           (json_int_t)(run->started_ms - run->requested_ms)));
}

void server_admit(struct server *srv, struct run *run) {
    if (srv->running.n < srv->cfg->max_concurrent && srv->queue.n == 0) {
        start_or_fail(srv, run);
        return;
    }
    if (srv->queue.n < srv->cfg->queue_max) {
        char text[64];
        run->state = RUN_QUEUED;
        run_list_append(&srv->queue, run);
        sm_queue(srv->metrics, srv->queue.n);
        snprintf(text, sizeof(text), "{\"position\":%zu}", srv->queue.n);
        if (run->conn) {
            conn_send(run->conn, LS_FRAME_QUEUED, text, strlen(text));
            run->conn->state = CONN_QUEUED;
        }
        return;
    }
    /* Full.  The hint: how long the queue ahead takes to drain at the recent pace. */
    double per = srv->avg_run_ms > 0 ? srv->avg_run_ms : 1000;
    uint64_t retry = (uint64_t)(per * (double)(srv->queue.n + 1) / srv->cfg->max_concurrent);
    if (retry < 100)
        retry = 100;
    char msg[160];
    snprintf(msg, sizeof(msg), "%zu sandboxes running and %zu queued; retry in %llu ms",
             srv->running.n, srv->queue.n, (unsigned long long)retry);
    sm_request(srv->metrics, "busy");
    server_audit(srv, "sandbox.refused", run->actor, run->id,
                 json_pack("{s:s, s:s}", "code", "busy", "message", msg));
    struct conn *c = run->conn;
    run_free(run);
    conn_send_error(c, LS_PROTO_BUSY, msg, retry);
}

void server_dispatch(struct server *srv) {
    while (srv->queue.n > 0 && srv->running.n < srv->cfg->max_concurrent && !srv->stopping) {
        struct run *run = srv->queue.head;
        run_list_remove(&srv->queue, run);
        sm_queue(srv->metrics, srv->queue.n);
        start_or_fail(srv, run);
    }
}

/* The cgroup parent the sandbox library prepared (its default, "labstack") is still
 * there and writable: someone removing it, or a read-only cgroupfs, stops new runs. */
static bool cgroups_usable(struct ls_sandbox_host *host) {
    static const char *const v1[] = {"/sys/fs/cgroup/memory/labstack", "/sys/fs/cgroup/pids/labstack"};
    if (ls_sandbox_host_cgroup_version(host) == 2)
        return access("/sys/fs/cgroup/labstack/cgroup.procs", W_OK) == 0;
    for (size_t i = 0; i < ELEMENTSOF(v1); i++)
        if (access(v1[i], W_OK) < 0)
            return false;
    return true;
}

/* Refresh what the HTTP thread may read: readiness (policies loaded, cgroups usable,
 * the audit sink writable, not stopping) and the status document. */
/* Readiness, check by check: what /ready reports and what STATUS_REPLY's `ready` sums up. */
static void ready_state_get(struct server *srv, struct ready_state *st) {
    const char *why = NULL;
    *st = (struct ready_state){
        .accepting = !srv->stopping,
        .policies_loaded = srv->policies && srv->policies->n > 0,
        .cgroups_usable = srv->host && cgroups_usable(srv->host),
        .audit_sink_writable = srv->sinks && sinks_healthy(srv->sinks, &why),
        .runners_starting = srv->runner_failures <= 5,
    };
    if (why)
        ls_strlcpy(st->sink_detail, why, sizeof(st->sink_detail));
}

/* NULL when st is ready, else what is wrong first. */
static const char *ready_state_reason(const struct ready_state *st) {
    if (!st->accepting)
        return "stopping";
    if (!st->policies_loaded)
        return "no policies loaded";
    if (!st->cgroups_usable)
        return "the labstack cgroup parent is missing or not writable";
    if (!st->audit_sink_writable)
        return st->sink_detail;
    if (!st->runners_starting)
        return "labstack-runner keeps failing at start";
    return NULL;
}

char *server_status_json(struct server *srv, const char *actor, const struct ready_state *ready_st) {
    json_t *sandboxes = json_array();
    uint64_t now = now_ms();
    struct ready_state st;

    for (struct run *r = srv->running.head; r; r = r->next) {
        if (actor && strcmp(actor, r->actor) != 0)
            continue;
        json_t *argv = json_object_get(r->audit, "argv");
        json_array_append_new(
            sandboxes,
            json_pack("{s:s, s:s, s:s, s:O?, s:I}", "id", r->id, "policy", r->policy_name, "client",
                      r->actor, "argv0", json_array_get(argv, 0), "running_ms",
                      (json_int_t)(now - r->started_ms)));
    }
    if (!ready_st) {
        ready_state_get(srv, &st);
        ready_st = &st;
    }
    const char *why = ready_state_reason(ready_st);
    bool ready = why == NULL;
    json_t *doc = json_pack(
        "{s:s, s:i, s:I, s:b, s:s?, s:I, s:I, s:I, s:I, s:I, s:i, s:o, s:o}", "version",
        PROJECT_VERSION, "protocol", LS_PROTO_VERSION, "uptime_s",
        (json_int_t)((now - srv->started_ms) / 1000), "ready", ready, "not_ready_reason",
        why, "running", (json_int_t)srv->running.n,
        "queued", (json_int_t)srv->queue.n, "max_concurrent", (json_int_t)srv->cfg->max_concurrent,
        "queue_max", (json_int_t)srv->cfg->queue_max, "started_total",
        (json_int_t)srv->started_total, "cgroup_version", ls_sandbox_host_cgroup_version(srv->host),
        "policies", policy_names(srv->policies), "sandboxes", sandboxes);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return text;
}

static void server_snapshot(struct server *srv) {
    struct ready_state st;
    ready_state_get(srv, &st);
    char *status = server_status_json(srv, NULL, &st);
    pthread_mutex_lock(&srv->snap_lock);
    if (status) {
        free(srv->snap_status);
        srv->snap_status = status;
    }
    srv->snap = st;
    pthread_mutex_unlock(&srv->snap_lock);
}

char *server_snapshot_get(struct server *srv, struct ready_state *ret) {
    pthread_mutex_lock(&srv->snap_lock);
    char *copy = srv->snap_status ? strdup(srv->snap_status) : NULL;
    *ret = srv->snap;
    pthread_mutex_unlock(&srv->snap_lock);
    return copy;
}

/* ---- listeners ------------------------------------------------------------------ */

/* Bind the Unix socket.  A stale socket file (nobody accepts on it: a crashed
 * supervisor) is replaced; a live one means another supervisor runs: refuse. */
static int listen_unix(struct server *srv, struct ls_error *err) {
    const struct sup_config *cfg = srv->cfg;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;
    int fd, r;

    ls_strlcpy(sa.sun_path, cfg->socket_path, sizeof(sa.sun_path));
    _cleanup_free_ char *dir = strdup(cfg->socket_path);
    if (!dir)
        return -ENOMEM;
    *strrchr(dir, '/') = 0;
    if (*dir && mkdir(dir, 0755) < 0 && errno != EEXIST)
        return ls_error_set(err, errno, "socket", "create %s", dir);

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ls_error_set(err, errno, "socket", "socket");
    if (lstat(cfg->socket_path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            close(fd);
            return ls_error_set(err, EEXIST, "socket", "%s exists and is not a socket", cfg->socket_path);
        }
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            close(probe);
            close(fd);
            return ls_error_set(err, EADDRINUSE, "socket", "%s: another supervisor is listening",
                                cfg->socket_path);
        }
        safe_close(probe);
        unlink(cfg->socket_path);
    }
    /* Bind with a umask that leaves no window in which the socket is wider than
     * cfg->socket_mode; chown to the group before anyone can connect. */
    mode_t old = umask(0777);
    r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (r < 0) {
        r = ls_error_set(err, errno, "socket", "bind %s", cfg->socket_path);
        close(fd);
        return r;
    }
    gid_t gid = 0;
    if (cfg->socket_group) {
        char *end;
        unsigned long g = strtoul(cfg->socket_group, &end, 10);
        if (*end == 0 && end != cfg->socket_group) {
            gid = (gid_t)g;
        } else {
            struct group *gr = getgrnam(cfg->socket_group);
            if (!gr) {
                close(fd);
                unlink(cfg->socket_path);
                return ls_error_set(err, ENOENT, "socket", "--socket-group %s: no such group",
                                    cfg->socket_group);
            }
            gid = gr->gr_gid;
        }
    }
    if (chown(cfg->socket_path, 0, gid) < 0 || chmod(cfg->socket_path, cfg->socket_mode) < 0 ||
        listen(fd, 512) < 0) {
        r = ls_error_set(err, errno, "socket", "set up %s", cfg->socket_path);
        close(fd);
        unlink(cfg->socket_path);
        return r;
    }
    srv->unix_fd = fd;
    srv->unix_ev = (struct ev){EV_LISTEN_UNIX, srv};
    return server_epoll_set(srv, fd, &srv->unix_ev, EPOLLIN, true);
}

static int listen_tls(struct server *srv, struct ls_error *err) {
    const struct sup_config *cfg = srv->cfg;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char host[256];
    const char *port;
    int fd, r, one = 1;

    const char *addr = cfg->tls_listen;
    if (addr[0] == '[') {
        const char *end = strchr(addr, ']');
        if (!end || end[1] != ':' || (size_t)(end - addr - 1) >= sizeof(host))
            return ls_error_set(err, EINVAL, "tls", "--tls-listen %s: expected [v6]:port", addr);
        memcpy(host, addr + 1, (size_t)(end - addr - 1));
        host[end - addr - 1] = 0;
        port = end + 2;
    } else {
        const char *colon = strrchr(addr, ':');
        if (!colon || (size_t)(colon - addr) >= sizeof(host))
            return ls_error_set(err, EINVAL, "tls", "--tls-listen %s: expected ip:port", addr);
        memcpy(host, addr, (size_t)(colon - addr));
        host[colon - addr] = 0;
        port = colon + 1;
    }
    if ((r = getaddrinfo(host, port, &hints, &ai)) != 0)
        return ls_error_set(err, EINVAL, "tls", "--tls-listen %s: %s (a numeric address is expected)",
                            addr, gai_strerror(r));
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 512) < 0) {
        r = ls_error_set(err, errno, "tls", "listen on %s", addr);
        freeaddrinfo(ai);
        safe_close(fd);
        return r;
    }
    freeaddrinfo(ai);
    if ((r = ls_tls_server_new(cfg->tls_cert, cfg->tls_key, cfg->tls_ca, &srv->tls, err)) < 0) {
        close(fd);
        return r;
    }
    srv->tls_fd = fd;
    srv->tls_ev = (struct ev){EV_LISTEN_TLS, srv};
    return server_epoll_set(srv, fd, &srv->tls_ev, EPOLLIN, true);
}

static void close_listeners(struct server *srv) {
    if (srv->unix_fd >= 0) {
        server_epoll_del(srv, srv->unix_fd);
        srv->unix_fd = safe_close(srv->unix_fd);
        unlink(srv->cfg->socket_path);
    }
    if (srv->tls_fd >= 0) {
        server_epoll_del(srv, srv->tls_fd);
        srv->tls_fd = safe_close(srv->tls_fd);
    }
}

/* ---- stopping ---------------------------------------------------------------------- */

static void begin_stop(struct server *srv, int sig) {
    if (srv->stopping) {
        if (!srv->killed_all) {   /* a second signal: do not wait for the grace period */
            srv->stop_deadline_ms = now_ms();
        }
        return;
    }
    srv->stopping = true;
    srv->stop_deadline_ms = now_ms() + srv->cfg->grace_ms;
    log_event(LOG_LEVEL_INFO, "supervisor.stopping",
              json_pack("{s:s, s:I, s:I, s:I}", "signal", strsignal(sig), "running",
                        (json_int_t)srv->running.n, "queued", (json_int_t)srv->queue.n,
                        "grace_ms", (json_int_t)srv->cfg->grace_ms));
    close_listeners(srv);
    while (srv->queue.head) {
        struct run *run = srv->queue.head;
        run_list_remove(&srv->queue, run);
        server_audit(srv, "sandbox.refused", run->actor, run->id,
                     json_pack("{s:s}", "code", "shutting_down"));
        struct conn *c = run->conn;
        run_free(run);
        conn_send_error(c, LS_PROTO_SHUTTING_DOWN, "the supervisor is shutting down", 0);
    }
    sm_queue(srv->metrics, 0);
    runners_free_idle(srv);
}

/* Called every tick while stopping: true when the loop may end. */
static bool stop_progress(struct server *srv) {
    uint64_t now = now_ms();
    if (srv->running.n > 0 && now >= srv->stop_deadline_ms && !srv->killed_all) {
        log_msg(LOG_LEVEL_WARN, "supervisor.grace_over", "killing %zu sandboxes still running",
                srv->running.n);
        runners_kill_all(srv);
        srv->killed_all = true;
        srv->stop_deadline_ms = now + KILL_AFTER_CANCEL_MS;
    } else if (srv->running.n == 0 && !srv->killed_all && now >= srv->stop_deadline_ms) {
        srv->killed_all = true;   /* only idle runners left: give them KILL_AFTER_CANCEL_MS */
        srv->stop_deadline_ms = now + KILL_AFTER_CANCEL_MS;
    } else if (srv->killed_all && now >= srv->stop_deadline_ms) {
        for (struct runner *rn = srv->busy; rn; rn = rn->next)
            kill(rn->pid, SIGKILL);
        for (struct runner *rn = srv->idle; rn; rn = rn->next)
            kill(rn->pid, SIGKILL);
    }
    return srv->running.n == 0 && !srv->busy && !srv->idle;
}

/* ---- the loop ---------------------------------------------------------------------- */

static void handle_signal(struct server *srv) {
    struct signalfd_siginfo si;
    while (read(srv->sigfd, &si, sizeof(si)) == sizeof(si)) {
        if (si.ssi_signo == SIGHUP)
            reload_policies(srv);
        else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
            begin_stop(srv, (int)si.ssi_signo);
    }
}

int server_run(struct server *srv) {
    struct epoll_event events[64];

    for (;;) {
        int n = epoll_wait(srv->epfd, events, ELEMENTSOF(events), -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_msg(LOG_LEVEL_ERROR, "supervisor.failed", "epoll_wait: %s", strerror(errno));
            return -errno;
        }
        for (int i = 0; i < n; i++) {
            struct ev *ev = events[i].data.ptr;
            uint32_t e = events[i].events;
            if (ev->dead)
                continue;
            switch (ev->kind) {
            case EV_LISTEN_UNIX:
                if (srv->unix_fd >= 0)
                    conn_accept(srv, srv->unix_fd, false);
                break;
            case EV_LISTEN_TLS:
                if (srv->tls_fd >= 0)
                    conn_accept(srv, srv->tls_fd, true);
                break;
            case EV_SIGNAL:
                handle_signal(srv);
                break;
            case EV_TIMER: {
                uint64_t ticks;
                (void)!read(srv->timerfd, &ticks, sizeof(ticks));
                conn_expire(srv, now_ms());
                server_snapshot(srv);
                if (!srv->stopping && srv->n_idle < srv->cfg->warm_runners)
                    (void)runners_spawn_warm(srv);
                break;
            }
            case EV_CONN:
                conn_handle(ev->obj, e);
                break;
            case EV_RUNNER_CTL:
                runner_handle_ctl(ev->obj, e);
                break;
            case EV_RUNNER_PID:
                runner_handle_exit(ev->obj);
                break;
            case EV_STDIN:
                run_stdin_flush(ev->obj);
                break;
            }
        }
        server_reap_dead(srv);
        if (srv->stopping && stop_progress(srv))
            return 0;
    }
}

int server_init(struct server *srv, struct sup_config *cfg, struct ls_error *err) {
    struct itimerspec its = {.it_interval = {0, TICK_MS * 1000000}, .it_value = {0, TICK_MS * 1000000}};
    sigset_t mask;
    int r;

    *srv = (struct server){.cfg = cfg, .snap_lock = PTHREAD_MUTEX_INITIALIZER, .epfd = -EBADF, .sigfd = -EBADF, .timerfd = -EBADF,
                           .unix_fd = -EBADF, .tls_fd = -EBADF, .lock_fd = -EBADF};
    srv->started_ms = now_ms();
    srv->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (srv->epfd < 0)
        return ls_error_set(err, errno, "epoll", "epoll_create1");

    sigemptyset(&mask);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    srv->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    srv->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (srv->sigfd < 0 || srv->timerfd < 0 || timerfd_settime(srv->timerfd, 0, &its, NULL) < 0)
        return ls_error_set(err, errno, "signals", "signalfd/timerfd");
    srv->sig_ev = (struct ev){EV_SIGNAL, srv};
    srv->timer_ev = (struct ev){EV_TIMER, srv};
    if ((r = server_epoll_set(srv, srv->sigfd, &srv->sig_ev, EPOLLIN, true)) < 0 ||
        (r = server_epoll_set(srv, srv->timerfd, &srv->timer_ev, EPOLLIN, true)) < 0)
        return ls_error_set(err, -r, "epoll", "register signal and timer fds");

    /* One supervisor per state directory and socket. */
    _cleanup_free_ char *lock = NULL;
    if (asprintf(&lock, "%s.lock", cfg->socket_path) < 0)
        return -ENOMEM;
    _cleanup_free_ char *sockdir = strdup(cfg->socket_path);
    if (!sockdir)
        return -ENOMEM;
    *strrchr(sockdir, '/') = 0;
    if (*sockdir && mkdir(sockdir, 0755) < 0 && errno != EEXIST)
        return ls_error_set(err, errno, "socket", "create %s", sockdir);
    srv->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (srv->lock_fd < 0)
        return ls_error_set(err, errno, "lock", "open %s", lock);
    if (flock(srv->lock_fd, LOCK_EX | LOCK_NB) < 0)
        return ls_error_set(err, errno, "lock", "%s is held: another supervisor runs with this socket",
                            lock);

    /* Open the sandbox host: this also sweeps what a crashed supervisor's sandboxes
     * left (cgroups whose uid slot nobody holds, stale slot files). */
    struct ls_host_config hc = {.idmap = {.base = cfg->idmap_base, .count = cfg->idmap_count}};
    if ((r = ls_sandbox_host_open(&hc, &srv->host, err)) < 0)
        return r;
    if ((r = policy_set_load(cfg->policies_dir, &srv->policies, err)) < 0)
        return r;
    if (!server_find_policy(srv, cfg->default_policy))
        return ls_error_set(err, ENOENT, "policies", "the default policy \"%s\" is not in %s",
                            cfg->default_policy, cfg->policies_dir);
    if ((r = sinks_open(cfg->audit_url, cfg->artifacts_url, &srv->sinks, err)) < 0)
        return r;
    srv->metrics = sm_new(PROJECT_VERSION, cfg->max_concurrent, cfg->queue_max);
    if (!srv->metrics)
        return ls_error_set(err, ENOMEM, "metrics", "create the registry");
    sm_policies(srv->metrics, srv->policies->n);
    audit_policies(srv);
    if ((r = listen_unix(srv, err)) < 0)
        return r;
    if (cfg->tls_listen && (r = listen_tls(srv, err)) < 0)
        return r;
    server_snapshot(srv);
    return 0;
}

void server_reap_dead(struct server *srv) {
    while (srv->dead_conns) {
        struct conn *c = srv->dead_conns;
        srv->dead_conns = c->grave_next;
        free(c);
    }
    while (srv->dead_runs) {
        struct run *r = srv->dead_runs;
        srv->dead_runs = r->grave_next;
        free(r);
    }
    while (srv->dead_runners) {
        struct runner *rn = srv->dead_runners;
        srv->dead_runners = rn->grave_next;
        free(rn);
    }
}

void server_fini(struct server *srv) {
    while (srv->conns)
        conn_free(srv->conns);
    server_reap_dead(srv);
    close_listeners(srv);
    ls_tls_server_free(srv->tls);
    sinks_close(srv->sinks);
    sm_free(srv->metrics);
    policy_set_free(srv->policies);
    ls_sandbox_host_free(srv->host);
    safe_close(srv->sigfd);
    safe_close(srv->timerfd);
    safe_close(srv->epfd);
    safe_close(srv->lock_fd);
    free(srv->snap_status);
    srv->snap_status = NULL;
}
