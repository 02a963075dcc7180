/*
 * server.h - the supervisor's state and the pieces its files share.
 *
 * One thread runs the event loop (server.c): epoll over the listening sockets, the
 * client connections (conn.c), the runners' control sockets and pidfds (runners.c), a
 * signalfd and a timerfd.  Nothing on the loop blocks: sandbox setup happens in
 * runner processes, audit and artifact writes in the sink thread (sinks.c), HTTP in
 * libmicrohttpd's thread (http.c), which reads only the metrics registry and a status
 * snapshot taken under a mutex.
 *
 * Lifetimes: a conn lives from accept to close; a run from an accepted RUN request to
 * its runner's exit (it outlives a client that went away, so the result is still
 * audited); a runner from spawn to reap.  conn <-> run and run <-> runner point at
 * each other and unlink on free.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>
#include <pthread.h>

#include "config.h"
#include "labstack/policy.h"
#include "labstack/protocol.h"

struct ls_tls_conn;
struct ls_tls_server;
struct sinks;
struct ls_http;
struct sup_metrics;

enum ev_kind {
    EV_LISTEN_UNIX,
    EV_LISTEN_TLS,
    EV_SIGNAL,
    EV_TIMER,
    EV_CONN,
    EV_RUNNER_CTL,
    EV_RUNNER_PID,
    EV_STDIN,
};

/* What epoll's data.ptr points at: the first member of each watched object. */
struct ev {
    enum ev_kind kind;
    void *obj;
    bool dead;     /* the object was freed during this epoll batch: skip its events */
};

/* A byte queue: append at the end, consume from the front. */
struct buf {
    uint8_t *data;
    size_t off, len, cap;   /* valid bytes are data[off .. off+len) */
};
int buf_append(struct buf *b, const void *data, size_t len);
void buf_consume(struct buf *b, size_t n);
void buf_free(struct buf *b);
/* Append one whole frame. */
int buf_append_frame(struct buf *b, uint8_t type, const void *payload, size_t len);

/* Who is asking: from SO_PEERCRED (+ SO_PEERGROUPS) or the TLS certificate. */
struct client_identity {
    struct ls_identity id;  /* id.groups -> groups, id.role -> role (or NULL) */
    gid_t groups[64];
    char role[65];
    char actor[160];        /* "uid:1001" or "agent:qa/host-12": the audit trail's actor */
    bool local;             /* came over the Unix socket */
    pid_t pid;              /* local only */
};

/* A loaded policy with what a run needs from it, ready at load time. */
struct policy_entry {
    struct ls_policy *policy;
    void *program;          /* serialised seccomp program (ls_seccomp_program_serialize) */
    size_t program_len;
    char hash_hex[65];
};

struct policy_set {
    struct policy_entry *v;
    size_t n;
};

enum conn_state {
    CONN_HANDSHAKE,   /* TLS handshake in progress */
    CONN_NEW,         /* waiting for RUN or STATUS */
    CONN_QUEUED,
    CONN_RUNNING,
    CONN_CLOSING,     /* flush what is queued, then close */
};

struct conn {
    struct ev ev;
    struct server *srv;
    int fd;
    struct ls_tls_conn *tls;
    enum conn_state state;
    struct client_identity ident;
    struct ls_frame_reader reader;
    struct buf out;
    uint32_t events;          /* the epoll mask in force */
    bool read_paused;         /* stdin backpressure */
    bool peer_closed;         /* EOF while our answer was still queued: flush, then close */
    uint64_t created_ms;
    struct run *run;
    struct conn *prev, *next;
    struct conn *grave_next;
};

enum run_state { RUN_QUEUED, RUN_STARTING, RUN_RUNNING, RUN_DONE };

struct run {
    char id[33];
    struct server *srv;
    struct conn *conn;        /* NULL once the client left */
    struct runner *runner;
    enum run_state state;
    char actor[160];
    char *policy_name;
    uint64_t policy_version;
    char policy_hash[65];
    char *spec_json;          /* runspec document */
    void *program;            /* copy of the policy's serialised program */
    size_t program_len;
    json_t *audit;            /* request summary for the audit trail */
    bool stdin_stream;
    int stdin_w, stdin_r;     /* pipe for the command's stdin (stream mode) */
    struct ev stdin_ev;
    struct buf stdin_buf;
    bool stdin_eof;           /* the client sent the empty STDIN frame */
    bool cancelled;
    bool got_result;
    uint64_t requested_ms, started_ms;
    struct run *prev, *next;  /* in the queue or the running list */
    struct run *grave_next;
};

struct runner {
    struct ev ctl_ev, pid_ev;
    struct server *srv;
    pid_t pid;
    int pidfd, ctl;
    struct ls_frame_reader reader;
    struct buf out;
    int pending_fd;           /* sent with SCM_RIGHTS on the next byte written */
    uint32_t ctl_events;
    bool ctl_eof;
    struct run *run;          /* NULL while idle */
    uint64_t spawned_ms;
    struct runner *prev, *next;
    struct runner *grave_next;
};

/* Readiness, check by check (/ready). */
struct ready_state {
    bool accepting;          /* not stopping */
    bool policies_loaded;
    bool cgroups_usable;
    bool audit_sink_writable;
    bool runners_starting;   /* runner processes do not keep dying at start */
    char sink_detail[200];
};

struct run_list {
    struct run *head, *tail;
    size_t n;
};

struct server {
    struct sup_config *cfg;
    int epfd, sigfd, timerfd;
    struct ev sig_ev, timer_ev;
    int unix_fd, tls_fd;
    struct ev unix_ev, tls_ev;
    struct ls_tls_server *tls;
    struct ls_sandbox_host *host;
    struct policy_set *policies;
    struct sinks *sinks;
    struct ls_http *http;
    struct sup_metrics *metrics;  /* supmetrics.h */
    char *runner_path;

    struct conn *conns;
    size_t n_conns;
    struct run_list queue, running;
    struct runner *idle, *busy;
    size_t n_idle;
    uint64_t runner_backoff_until_ms;
    unsigned runner_failures;

    /* Objects freed while handling an epoll batch: released after the batch, since a
     * later event of the same batch may still point at them (marked ev.dead). */
    struct conn *dead_conns;
    struct run *dead_runs;
    struct runner *dead_runners;

    bool stopping;
    uint64_t stop_deadline_ms;
    bool killed_all;
    uint64_t started_ms;
    uint64_t started_total;
    double avg_run_ms;        /* EWMA of run durations, for busy retry hints */
    int lock_fd;

    /* For the HTTP thread: the status document and readiness, refreshed every tick. */
    pthread_mutex_t snap_lock;
    char *snap_status;
    struct ready_state snap;
};

int server_init(struct server *srv, struct sup_config *cfg, struct ls_error *err);
/* Serve until SIGTERM/SIGINT and the sandboxes are done.  0 or -errno. */
int server_run(struct server *srv);
void server_fini(struct server *srv);
/* Copy of the latest status document (caller frees; NULL if none) and readiness.
 * Safe from any thread. */
char *server_snapshot_get(struct server *srv, struct ready_state *ret);

uint64_t now_ms(void);
/* Release the objects freed during the last batch. */
void server_reap_dead(struct server *srv);

/* ---- server.c ---- */
int server_epoll_set(struct server *srv, int fd, struct ev *ev, uint32_t events, bool add);
void server_epoll_del(struct server *srv, int fd);
const struct policy_entry *server_find_policy(struct server *srv, const char *name);
/* Take a new RUN (policy checks done): start it, queue it or refuse it. */
void server_admit(struct server *srv, struct run *run);
/* A slot may have freed up: start queued runs. */
void server_dispatch(struct server *srv);
/* The STATUS_REPLY document; caller frees.  The sandbox list shows only the runs of
 * actor (NULL: all, for root and the HTTP snapshot): one client must not learn what
 * another runs; the counts are global.  ready_st: readiness already computed, or NULL. */
char *server_status_json(struct server *srv, const char *actor, const struct ready_state *ready_st);
void server_audit(struct server *srv, const char *action, const char *actor, const char *subject,
                  json_t *details);

/* ---- conn.c ---- */
void conn_accept(struct server *srv, int listen_fd, bool tls);
void conn_handle(struct conn *c, uint32_t events);
/* Queue a frame to the client (no-op once it is gone). */
void conn_send(struct conn *c, uint8_t type, const void *payload, size_t len);
void conn_send_error(struct conn *c, enum ls_proto_code code, const char *message,
                     uint64_t retry_after_ms);
/* Flush and close after what is queued has been written. */
void conn_finish(struct conn *c);
void conn_free(struct conn *c);
void conn_update_events(struct conn *c);
/* The run's stdin buffer drained: read from the client again. */
void conn_resume_reading(struct conn *c);
/* Close connections that have not completed a request in time. */
void conn_expire(struct server *srv, uint64_t now);

/* ---- runners.c ---- */
int runners_spawn_warm(struct server *srv);
int run_start(struct run *run);
void run_cancel(struct run *run, const char *why);
void run_free(struct run *run);
void run_stdin_flush(struct run *run);
void runner_handle_ctl(struct runner *rn, uint32_t events);
void runner_handle_exit(struct runner *rn);
void runners_kill_all(struct server *srv);
void runners_free_idle(struct server *srv);
void run_list_append(struct run_list *l, struct run *r);
void run_list_remove(struct run_list *l, struct run *r);
