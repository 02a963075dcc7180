/*
 * conn.c - one client connection: who it is, its frames in and out, its request.
 *
 * A Unix-socket peer is identified by the kernel (SO_PEERCRED, SO_PEERGROUPS); a TCP
 * peer by its TLS certificate (CN/OU, after a handshake that required one signed by
 * our CA).  The first frame decides what the connection is for: RUN (a sandbox) or
 * STATUS.  Every frame is validated; anything wrong gets one ERROR frame naming the
 * problem and the connection is closed after it is flushed.  A connection that does
 * not complete its request within request_timeout is closed (slow clients cannot hold
 * slots), and a client that goes away while its sandbox runs gets the sandbox killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "labstack/error.h"
#include "labstack/macros.h"
#include "labstack/sandbox.h"
#include "labstack/tls.h"
#include "log.h"
#include "supmetrics.h"
#include "runspec.h"
#include "server.h"
#include "sinks.h"

#define CONN_READ_CHUNK 65536
#define STDIN_HIGH_WATER (1u << 20)

/* ---- buffers -------------------------------------------------------------- */

int buf_append(struct buf *b, const void *data, size_t len) {
    if (b->off > 0 && b->off + b->len + len > b->cap) {
        memmove(b->data, b->data + b->off, b->len);
        b->off = 0;
    }
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len)
            cap *= 2;
        uint8_t *n = realloc(b->data, cap);
        if (!n)
            return -ENOMEM;
        b->data = n;
        b->cap = cap;
    }
    memcpy(b->data + b->off + b->len, data, len);
    b->len += len;
    return 0;
}

void buf_consume(struct buf *b, size_t n) {
    b->off += n;
    b->len -= n;
    if (b->len == 0)
        b->off = 0;
}

void buf_free(struct buf *b) {
    free(b->data);
    *b = (struct buf){0};
}

int buf_append_frame(struct buf *b, uint8_t type, const void *payload, size_t len) {
    uint8_t hdr[LS_FRAME_HEADER_SIZE];
    int r;
    ls_frame_header_encode(hdr, type, (uint32_t)len);
    if ((r = buf_append(b, hdr, sizeof(hdr))) < 0)
        return r;
    return len ? buf_append(b, payload, len) : 0;
}

/* ---- identity ---------------------------------------------------------------- */

static int identify_unix(struct server *srv, int fd, struct client_identity *ident) {
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return -errno;
    ident->local = true;
    ident->pid = cred.pid;
    ident->id.uid = cred.uid;
    ident->id.gid = cred.gid;
    ident->id.is_root = cred.uid == 0;
    len = sizeof(ident->groups);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, ident->groups, &len) < 0) {
        if (errno != ERANGE)
            return -errno;
        len = sizeof(ident->groups);   /* more than 64 groups: the first 64 count */
    }
    ident->id.groups = ident->groups;
    ident->id.n_groups = len / sizeof(gid_t);
    const char *role = config_role_for(srv->cfg, cred.uid, ident->groups, ident->id.n_groups);
    if (!role) {
        /* the primary group counts too */
        gid_t g = cred.gid;
        role = config_role_for(srv->cfg, cred.uid, &g, 1);
    }
    if (role) {
        ls_strlcpy(ident->role, role, sizeof(ident->role));
        ident->id.role = ident->role;
    }
    snprintf(ident->actor, sizeof(ident->actor), "uid:%u", (unsigned)cred.uid);
    return 0;
}

static int identify_tls(struct conn *c) {
    const char *cn = ls_tls_conn_peer_cn(c->tls), *ou = ls_tls_conn_peer_ou(c->tls);

    if (!cn || !*cn)
        return -EACCES;
    c->ident.local = false;
    c->ident.id.uid = (uid_t)-1;
    c->ident.id.gid = (gid_t)-1;
    c->ident.id.is_root = false;
    if (ou && *ou) {
        ls_strlcpy(c->ident.role, ou, sizeof(c->ident.role));
        c->ident.id.role = c->ident.role;
    }
    /* TLS names never hold '/' (tls.c refuses them), so the actor is unambiguous. */
    if (ou && *ou)
        snprintf(c->ident.actor, sizeof(c->ident.actor), "agent:%s/%s", ou, cn);
    else
        snprintf(c->ident.actor, sizeof(c->ident.actor), "agent:%s", cn);
    return 0;
}

/* ---- lifecycle ---------------------------------------------------------------- */

void conn_update_events(struct conn *c) {
    uint32_t ev = EPOLLRDHUP;

    if (c->fd < 0)
        return;
    if (c->peer_closed)
        ev = 0;   /* nothing more to read; only our queued answer to write */
    if (c->state == CONN_HANDSHAKE) {
        ev |= ls_tls_conn_wants_write(c->tls) ? EPOLLOUT : EPOLLIN;
    } else {
        if (!c->read_paused && c->state != CONN_CLOSING)
            ev |= EPOLLIN;
        if (c->out.len > 0 || (c->tls && ls_tls_conn_wants_write(c->tls)))
            ev |= EPOLLOUT;
        if (c->state == CONN_CLOSING && !c->peer_closed)
            ev |= EPOLLIN;   /* to notice the peer closing while we flush */
    }
    if (ev != c->events) {
        server_epoll_set(c->srv, c->fd, &c->ev, ev, false);
        c->events = ev;
    }
}

void conn_accept(struct server *srv, int listen_fd, bool tls) {
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                log_msg(LOG_LEVEL_WARN, "conn.accept_failed", "accept: %s", strerror(errno));
            return;
        }
        if (srv->n_conns >= srv->cfg->max_connections) {
            /* Over the cap: close at once.  The client sees a reset, not a hang. */
            close(fd);
            log_msg(LOG_LEVEL_WARN, "conn.refused", "more than %u connections",
                    srv->cfg->max_connections);
            continue;
        }
        struct conn *c = calloc(1, sizeof(*c));
        if (!c) {
            close(fd);
            continue;
        }
        c->ev = (struct ev){EV_CONN, c};
        c->srv = srv;
        c->fd = fd;
        c->created_ms = now_ms();
        ls_frame_reader_init(&c->reader);
        struct ls_error err = {0};
        int r;
        if (tls) {
            c->state = CONN_HANDSHAKE;
            r = ls_tls_conn_accept(srv->tls, fd, &c->tls, &err);
        } else {
            c->state = CONN_NEW;
            r = identify_unix(srv, fd, &c->ident);
            if (r < 0)
                ls_error_set(&err, -r, "identify", "SO_PEERCRED");
        }
        if (r < 0) {
            log_msg(LOG_LEVEL_WARN, "conn.refused", "%s", err.msg);
            ls_tls_conn_free(c->tls);
            ls_frame_reader_free(&c->reader);
            close(fd);
            free(c);
            continue;
        }
        c->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = c;
        srv->conns = c;
        srv->n_conns++;
        sm_connections(srv->metrics, srv->n_conns);
        c->events = EPOLLRDHUP | EPOLLIN;
        if (server_epoll_set(srv, fd, &c->ev, c->events, true) < 0) {
            conn_free(c);
            continue;
        }
        if (tls)
            conn_handle(c, EPOLLIN);   /* the ClientHello may already be there */
    }
}

void conn_free(struct conn *c) {
    struct server *srv = c->srv;

    if (c->run) {
        struct run *run = c->run;
        run->conn = NULL;
        c->run = NULL;
        if (run->state != RUN_DONE)
            run_cancel(run, "the client went away");
    }
    if (c->fd >= 0)
        server_epoll_del(srv, c->fd);
    ls_tls_conn_free(c->tls);
    safe_close(c->fd);
    ls_frame_reader_free(&c->reader);
    buf_free(&c->out);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->n_conns--;
    sm_connections(srv->metrics, srv->n_conns);
    c->fd = -EBADF;
    c->ev.dead = true;
    c->grave_next = srv->dead_conns;
    srv->dead_conns = c;
}

void conn_send(struct conn *c, uint8_t type, const void *payload, size_t len) {
    if (!c || c->fd < 0)
        return;
    if (buf_append_frame(&c->out, type, payload, len) < 0) {
        log_msg(LOG_LEVEL_ERROR, "conn.failed", "out of memory queueing output for %s", c->ident.actor);
        c->state = CONN_CLOSING;
    }
    conn_update_events(c);
}

void conn_send_error(struct conn *c, enum ls_proto_code code, const char *message,
                     uint64_t retry_after_ms) {
    _cleanup_free_ char *json = ls_proto_error_to_json(code, message, retry_after_ms);
    if (json)
        conn_send(c, LS_FRAME_ERROR, json, strlen(json));
    conn_finish(c);
}

void conn_finish(struct conn *c) {
    if (!c)
        return;
    c->state = CONN_CLOSING;
    if (c->run) {
        c->run->conn = NULL;
        c->run = NULL;
    }
    conn_update_events(c);
}

void conn_expire(struct server *srv, uint64_t now) {
    for (struct conn *c = srv->conns, *next; c; c = next) {
        next = c->next;
        if ((c->state == CONN_HANDSHAKE || c->state == CONN_NEW) &&
            now - c->created_ms > srv->cfg->request_timeout_ms) {
            log_msg(LOG_LEVEL_INFO, "conn.timeout", "%s sent no complete request within %u ms",
                    c->ident.actor[0] ? c->ident.actor : "a TLS client", srv->cfg->request_timeout_ms);
            if (c->state == CONN_NEW)
                conn_send_error(c, LS_PROTO_BAD_REQUEST, "no complete request within the timeout", 0);
            else
                conn_free(c);
        } else if (c->state == CONN_CLOSING && now - c->created_ms > 3600 * 1000 && c->out.len > 0) {
            conn_free(c);   /* a reader that never drains its result */
        }
    }
}

/* ---- requests ---------------------------------------------------------------- */

static void refuse(struct conn *c, enum ls_proto_code code, const char *outcome, const char *policy,
                   const char *message) {
    struct server *srv = c->srv;
    server_audit(srv, "sandbox.refused", c->ident.actor, policy,
                 json_pack("{s:s, s:s}", "code", ls_proto_code_name(code), "message", message));
    sm_request(srv->metrics, outcome);
    log_event(LOG_LEVEL_INFO, "request.refused",
              json_pack("{s:s, s:s?, s:s, s:s}", "actor", c->ident.actor, "policy", policy, "code",
                        ls_proto_code_name(code), "msg", message));
    conn_send_error(c, code, message, 0);
}

/* The workspace of a local client must be a directory it owns (root: any), reached
 * without following a symlink: it is bound read-write into the sandbox and id-mapped
 * to its owner, so naming someone else's directory would hand it to the sandbox. */
static int check_workspace(struct conn *c, const char *path, char *msg, size_t msgsize) {
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
    struct stat st;
    int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));

    if (fd < 0) {
        snprintf(msg, msgsize, "workspace %s: %s%s", path, strerror(errno),
                 errno == ELOOP ? " (symlinks are not followed)" : "");
        return -errno;
    }
    int r = fstat(fd, &st) < 0 ? -errno : 0;
    close(fd);
    if (r < 0) {
        snprintf(msg, msgsize, "workspace %s: %s", path, strerror(-r));
        return r;
    }
    if (!c->ident.id.is_root && st.st_uid != c->ident.id.uid) {
        snprintf(msg, msgsize, "workspace %s is owned by uid %u, not by uid %u", path,
                 (unsigned)st.st_uid, (unsigned)c->ident.id.uid);
        return -EPERM;
    }
    return 0;
}

static json_t *string_array(char **v, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static void handle_run(struct conn *c, const uint8_t *payload, size_t len) {
    struct server *srv = c->srv;
    struct ls_run_request *req = NULL;
    struct ls_error err = {0};
    char msg[512];
    void *binds = NULL;
    char **env = NULL;
    const char *why;

    if (ls_run_request_parse(payload, len, &req, &err) < 0) {
        refuse(c, LS_PROTO_BAD_REQUEST, "bad_request", NULL, err.msg);
        return;
    }
    const char *name = req->policy ? req->policy : srv->cfg->default_policy;
    if (srv->stopping) {
        refuse(c, LS_PROTO_SHUTTING_DOWN, "shutting_down", name, "the supervisor is shutting down");
        goto out;
    }
    if (!sinks_healthy(srv->sinks, &why)) {
        snprintf(msg, sizeof(msg), "cannot record runs, so none are started: %s", why);
        refuse(c, LS_PROTO_INTERNAL, "internal", name, msg);
        goto out;
    }
    const struct policy_entry *pe = server_find_policy(srv, name);
    if (!pe) {
        snprintf(msg, sizeof(msg), "no policy named \"%s\"", name);
        refuse(c, LS_PROTO_UNKNOWN_POLICY, "unknown_policy", name, msg);
        goto out;
    }
    if (!ls_policy_allows_client(pe->policy, &c->ident.id)) {
        snprintf(msg, sizeof(msg), "%s may not use policy \"%s\"", c->ident.actor, name);
        refuse(c, LS_PROTO_FORBIDDEN, "forbidden", name, msg);
        goto out;
    }
    if (req->workspace_path) {
        if (!c->ident.local) {
            refuse(c, LS_PROTO_FORBIDDEN, "forbidden", name,
                   "a workspace path is accepted from local clients only");
            goto out;
        }
        if (check_workspace(c, req->workspace_path, msg, sizeof(msg)) < 0) {
            refuse(c, LS_PROTO_FORBIDDEN, "forbidden", name, msg);
            goto out;
        }
    }

    struct ls_sandbox_spec spec;
    ls_sandbox_spec_init(&spec);
    struct ls_policy_request preq = {
        .memory = req->limits.memory_bytes,
        .cpus = req->limits.cpu_millis,
        .pids = req->limits.pids,
        .wall_time = req->limits.wall_time_ms,
        .cpu_time = req->limits.cpu_time_ms,
        .output = req->limits.output_bytes,
        .tmp_size = req->limits.tmp_bytes,
        .file_size = req->limits.file_size_bytes,
        .open_files = req->limits.open_files,
        .env = (const char *const *)req->env,
        .n_env = req->n_env,
        .has_workspace = req->workspace_path != NULL,
    };
    if (ls_policy_apply(pe->policy, &preq, &spec, &binds, &env, &err) < 0) {
        refuse(c, LS_PROTO_LIMIT, "limit", name, err.msg);
        goto out;
    }
    spec.argv = (const char *const *)req->argv;
    spec.workspace = req->workspace_path;
    if (req->cwd)
        spec.cwd = req->cwd;

    struct run *run = calloc(1, sizeof(*run));
    if (!run) {
        refuse(c, LS_PROTO_INTERNAL, "internal", name, "out of memory");
        goto out;
    }
    uint8_t rnd[16];
    if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
        free(run);
        refuse(c, LS_PROTO_INTERNAL, "internal", name, "no randomness for a sandbox id");
        goto out;
    }
    for (size_t i = 0; i < sizeof(rnd); i++)
        snprintf(run->id + 2 * i, 3, "%02x", rnd[i]);
    run->srv = srv;
    run->stdin_w = run->stdin_r = -EBADF;
    run->stdin_ev = (struct ev){EV_STDIN, run};
    run->stdin_stream = req->stdin_mode == LS_STDIN_STREAM;
    run->requested_ms = now_ms();
    ls_strlcpy(run->actor, c->ident.actor, sizeof(run->actor));
    run->policy_name = strdup(name);
    run->policy_version = pe->policy->version;
    memcpy(run->policy_hash, pe->hash_hex, sizeof(run->policy_hash));
    run->spec_json = runspec_to_json(run->id, &spec, run->stdin_stream);
    run->program = malloc(pe->program_len);
    run->audit = json_pack(
        "{s:s, s:I, s:s, s:o, s:s?, s:s?, s:s?, s:s?, s:b,"
        " s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
        "policy", name, "policy_version", (json_int_t)pe->policy->version, "policy_hash",
        pe->hash_hex, "argv", string_array(req->argv, req->argc), "cwd", req->cwd, "workspace",
        req->workspace_path, "task_id", req->task_id, "label", req->label, "stdin",
        run->stdin_stream, "limits", "memory_bytes", (json_int_t)spec.memory_max, "cpu_millis",
        (json_int_t)spec.cpu_millis, "pids", (json_int_t)spec.pids_max, "wall_time_ms",
        (json_int_t)spec.timeout_ms, "cpu_time_ms", (json_int_t)spec.cpu_time_ms,
        "output_bytes", (json_int_t)spec.stdout_limit, "tmp_bytes", (json_int_t)spec.tmp_size);
    if (!run->policy_name || !run->spec_json || !run->program || !run->audit) {
        run_free(run);
        refuse(c, LS_PROTO_INTERNAL, "internal", name, "out of memory");
        goto out;
    }
    run->program_len = pe->program_len;
    memcpy(run->program, pe->program, pe->program_len);
    run->conn = c;
    c->run = run;
    sm_request(srv->metrics, "accepted");
    server_audit(srv, "sandbox.requested", run->actor, run->id, json_incref(run->audit));
    server_admit(srv, run);
out:
    free(binds);
    free(env);   /* one block: pointers and strings (ls_policy_apply) */
    ls_run_request_free(req);
}

static void handle_status(struct conn *c) {
    _cleanup_free_ char *json =
        server_status_json(c->srv, c->ident.id.is_root ? NULL : c->ident.actor, NULL);
    if (!json) {
        conn_send_error(c, LS_PROTO_INTERNAL, "out of memory", 0);
        return;
    }
    conn_send(c, LS_FRAME_STATUS_REPLY, json, strlen(json));
    conn_finish(c);
}

static void handle_stdin(struct conn *c, const uint8_t *payload, size_t len) {
    struct run *run = c->run;

    if (!run->stdin_stream || run->stdin_eof) {
        conn_send_error(c, LS_PROTO_BAD_REQUEST,
                        run->stdin_eof ? "STDIN after the end of stdin"
                                       : "STDIN frame, but the request did not ask for \"stdin\": \"stream\"",
                        0);
        run_cancel(run, "protocol error");
        return;
    }
    if (len == 0)
        run->stdin_eof = true;
    else if (buf_append(&run->stdin_buf, payload, len) < 0) {
        conn_send_error(c, LS_PROTO_INTERNAL, "out of memory buffering stdin", 0);
        run_cancel(run, "out of memory");
        return;
    }
    if (run->stdin_buf.len > STDIN_HIGH_WATER && !c->read_paused) {
        c->read_paused = true;
        conn_update_events(c);
    }
    run_stdin_flush(run);
}

/* One frame from the client.  Returns false when the connection is done reading. */
static bool handle_frame(struct conn *c, const struct ls_frame_header *hdr, const uint8_t *payload) {
    switch (c->state) {
    case CONN_NEW:
        if (hdr->type == LS_FRAME_RUN) {
            handle_run(c, payload, hdr->length);
            return c->state != CONN_CLOSING;
        }
        if (hdr->type == LS_FRAME_STATUS) {
            struct ls_error err = {0};
            if (ls_proto_empty_parse(payload, hdr->length, &err) < 0) {
                sm_request(c->srv->metrics, "bad_request");
                conn_send_error(c, LS_PROTO_BAD_REQUEST, err.msg, 0);
                return false;
            }
            handle_status(c);
            return false;
        }
        break;
    case CONN_QUEUED:
    case CONN_RUNNING:
        if (hdr->type == LS_FRAME_STDIN) {
            handle_stdin(c, payload, hdr->length);
            return c->state != CONN_CLOSING;
        }
        if (hdr->type == LS_FRAME_CANCEL) {
            struct ls_error err = {0};
            if (ls_proto_empty_parse(payload, hdr->length, &err) < 0) {
                sm_request(c->srv->metrics, "bad_request");
                run_cancel(c->run, "protocol error");
                conn_send_error(c, LS_PROTO_BAD_REQUEST, err.msg, 0);
                return false;
            }
            run_cancel(c->run, "the client cancelled");
            return c->state != CONN_CLOSING;
        }
        break;
    default:
        return false;
    }
    char msg[128];
    snprintf(msg, sizeof(msg), "unexpected %s frame %s", ls_frame_type_name(hdr->type),
             c->state == CONN_NEW ? "as the first frame (expected run or status)"
                                  : "during a run (expected stdin or cancel)");
    sm_request(c->srv->metrics, "bad_request");
    if (c->run)
        run_cancel(c->run, "protocol error");
    conn_send_error(c, LS_PROTO_BAD_REQUEST, msg, 0);
    return false;
}

static void process_input(struct conn *c) {
    struct ls_frame_header hdr;
    const uint8_t *payload;
    struct ls_error err = {0};
    int r;

    while (c->state != CONN_CLOSING && !c->read_paused) {
        r = ls_frame_reader_next(&c->reader, &hdr, &payload, &err);
        if (r == 0)
            return;
        if (r < 0) {
            /* -EPROTO: another version, an unknown type (unsupported) or flags set
             * (a malformed frame); -EMSGSIZE: over the type's limit. */
            enum ls_proto_code code =
                r == -EMSGSIZE                                              ? LS_PROTO_TOO_LARGE
                : strstr(err.msg, "version") || strstr(err.msg, "frame type") ? LS_PROTO_UNSUPPORTED
                                                                              : LS_PROTO_BAD_REQUEST;
            sm_request(c->srv->metrics, "bad_request");
            log_event(LOG_LEVEL_INFO, "request.bad_frame",
                      json_pack("{s:s, s:s}", "actor", c->ident.actor, "msg", err.msg));
            if (c->run)
                run_cancel(c->run, "protocol error");
            conn_send_error(c, code, err.msg, 0);
            return;
        }
        if (!handle_frame(c, &hdr, payload))
            return;
    }
}

static ssize_t transport_read(struct conn *c, void *buf, size_t len) {
    if (c->tls)
        return ls_tls_conn_read(c->tls, buf, len);
    ssize_t n = read(c->fd, buf, len);
    return n < 0 ? -errno : n;
}

static ssize_t transport_write(struct conn *c, const void *buf, size_t len) {
    if (c->tls)
        return ls_tls_conn_write(c->tls, buf, len);
    ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
    return n < 0 ? -errno : n;
}

/* Write what is queued.  Returns false when the connection was freed. */
static bool flush_out(struct conn *c) {
    while (c->out.len > 0) {
        ssize_t n = transport_write(c, c->out.data + c->out.off, c->out.len);
        if (n == -EAGAIN || n == -EINTR)
            break;
        if (n <= 0) {
            conn_free(c);
            return false;
        }
        buf_consume(&c->out, (size_t)n);
    }
    if (c->out.len == 0 && c->state == CONN_CLOSING) {
        conn_free(c);
        return false;
    }
    conn_update_events(c);
    return true;
}

void conn_handle(struct conn *c, uint32_t events) {
    struct ls_error err = {0};
    uint8_t chunk[CONN_READ_CHUNK];

    if (c->state == CONN_HANDSHAKE) {
        int r = ls_tls_conn_handshake(c->tls, &err);
        if (r == -EAGAIN) {
            conn_update_events(c);
            return;
        }
        if (r == 0 && identify_tls(c) < 0)
            r = ls_error_set(&err, EACCES, "tls", "the client certificate has no CN");
        if (r < 0) {
            server_audit(c->srv, "connection.refused", "tls", NULL,
                         json_pack("{s:s}", "message", err.msg));
            log_msg(LOG_LEVEL_INFO, "conn.tls_refused", "%s", err.msg);
            conn_free(c);
            return;
        }
        c->state = CONN_NEW;
        c->created_ms = now_ms();
        events |= EPOLLIN;   /* application data may have come with the handshake */
    }

    if ((events & EPOLLOUT) || (c->tls && c->out.len > 0))
        if (!flush_out(c))
            return;

    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) &&
        (!c->read_paused || (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))) {
        for (int rounds = 0; rounds < 16; rounds++) {
            ssize_t n = transport_read(c, chunk, sizeof(chunk));
            if (n == -EAGAIN || n == -EINTR)
                break;
            if (n == 0 && c->state == CONN_CLOSING && c->out.len > 0) {
                /* It closed its side after a request we refused or answered: the
                 * answer (an ERROR, the RESULT) still goes out before we close. */
                c->peer_closed = true;
                break;
            }
            if (n <= 0) {
                /* The client is gone (or broke the transport): its sandbox dies with it. */
                conn_free(c);
                return;
            }
            if (c->state == CONN_CLOSING)
                continue;   /* draining: input after an error or a result is ignored */
            int fr = ls_frame_reader_feed(&c->reader, chunk, (size_t)n);
            if (fr < 0) {
                if (c->run)
                    run_cancel(c->run, "input buffer overflow");
                conn_send_error(c, fr == -ENOBUFS ? LS_PROTO_TOO_LARGE : LS_PROTO_INTERNAL,
                                fr == -ENOBUFS ? "more unread input than a frame may hold"
                                               : "out of memory",
                                0);
                break;
            }
            process_input(c);
            if (c->read_paused)
                break;
            if ((size_t)n < sizeof(chunk) && !(c->tls && ls_tls_conn_pending(c->tls)))
                break;
        }
    }
    if (c->out.len > 0 || c->state == CONN_CLOSING)
        flush_out(c);
    else
        conn_update_events(c);
}

void conn_resume_reading(struct conn *c) {
    if (c && c->read_paused) {
        c->read_paused = false;
        conn_update_events(c);
        process_input(c);
    }
}
