/*
 * client.c - libls_client: one request to labstack-supervisor per connection, over
 * its Unix socket or mutual TLS.
 *
 * The caller's view is blocking (ls_client_run returns with the result), but inside
 * everything is one poll() loop over a non-blocking socket: frames to send wait in an
 * output buffer and are written as the socket takes them, while the supervisor's
 * frames are read and handed to the callbacks as they arrive.  So a command that
 * writes a lot of output while reading a lot of stdin never deadlocks against the
 * supervisor, and a CANCEL always goes out between two whole frames.
 *
 * ls_client_cancel may run in a signal handler: it writes one byte to a self-pipe
 * that the loop polls, and the loop queues the CANCEL frame.
 *
 * The supervisor is trusted to run the sandbox, not to send well-formed bytes: every
 * frame is validated (proto/), and any frame that is malformed or out of sequence
 * ends the call with -EPROTO and a sentence saying what arrived.
 */
#include "labstack/client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "labstack/error.h"
#include "labstack/macros.h"
#include "labstack/tls.h"

#define DEFAULT_TIMEOUT_MS 5000
#define READ_CHUNK (64u << 10)

struct ls_client {
    int fd;                  /* the connection, non-blocking */
    struct ls_tls_conn *tls; /* NULL: Unix socket */
    int wake[2];             /* self-pipe of ls_client_cancel */
    volatile sig_atomic_t cancel_requested;
    bool used; /* one request per connection */
    int timeout_ms;
    char peer[128]; /* "/run/labstack/supervisor.sock", "tls 127.0.0.1:7443" */

    struct ls_frame_reader rd;
    /* Bytes of whole frames waiting to be written: out[off, len). */
    uint8_t *out;
    size_t out_len, out_off, out_cap;
    bool tls_read_wants_write; /* the last TLS read waits for POLLOUT */
    bool tls_write_wants_read; /* the last TLS write waits for POLLIN */
};

const char *ls_client_socket_path(const struct ls_client_opts *opts) {
    const char *env;
    if (opts && opts->socket_path && *opts->socket_path)
        return opts->socket_path;
    env = getenv("LABSTACK_SOCKET");
    if (env && *env)
        return env;
    return LS_DEFAULT_SOCKET;
}

/* err = "<what>: <strerror>[ (<hint>)]" with code e; returns -e. */
static int fail_errno(struct ls_error *err, int e, const char *step, const char *what,
                      const char *hint) {
    const char *d = strerrordesc_np(e);
    ls_error_set(err, 0, step, "%s: %s%s%s%s", what, d ? d : "unknown error", hint ? " (" : "",
                 hint ? hint : "", hint ? ")" : "");
    if (err)
        err->code = e;
    return -e;
}

static int set_nonblock(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    return 0;
}

static int connect_unix(const char *path, int timeout_ms, struct ls_error *err) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    char what[sizeof(sa.sun_path) + 64];
    _cleanup_close_ int fd = -EBADF;
    const char *hint = NULL;

    snprintf(what, sizeof(what), "connect %s", path);
    if (strlen(path) >= sizeof(sa.sun_path))
        return fail_errno(err, ENAMETOOLONG, "connect", what,
                          "a socket path has at most 107 bytes");
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail_errno(err, errno, "connect", "socket", NULL);
    /* A Unix connect blocks while the listener's backlog is full; SO_SNDTIMEO bounds
     * that wait (it expires with EAGAIN). */
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        if (e == ENOENT || e == ECONNREFUSED)
            hint = "is labstack-supervisor running?";
        else if (e == EACCES)
            hint = "the socket is for members of the labstack group";
        else if (e == EAGAIN || e == EINPROGRESS) {
            e = ETIMEDOUT;
            hint = "the supervisor is not accepting connections";
        }
        return fail_errno(err, e, "connect", what, hint);
    }
    tv = (struct timeval){0};
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return TAKE_FD(fd);
}

int ls_client_connect(const struct ls_client_opts *opts, struct ls_client **ret,
                      struct ls_error *err) {
    static const struct ls_client_opts none = {0};
    struct ls_client *c;
    int r;

    opts = opts ? opts : &none;
    c = calloc(1, sizeof(*c));
    if (!c)
        return ls_error_set(err, ENOMEM, "connect", "client");
    c->fd = c->wake[0] = c->wake[1] = -EBADF;
    c->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
    ls_frame_reader_init(&c->rd);

    if (pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        r = fail_errno(err, errno, "connect", "pipe", NULL);
        goto fail;
    }
    if (opts->tls_addr && *opts->tls_addr) {
        if (!opts->tls_cert || !opts->tls_key || !opts->tls_ca) {
            r = ls_error_set(err, 0, "connect",
                             "TLS to %s needs a client certificate, its key and the CA "
                             "(--tls-cert, --tls-key, --tls-ca)",
                             opts->tls_addr);
            goto fail;
        }
        snprintf(c->peer, sizeof(c->peer), "tls %s", opts->tls_addr);
        r = ls_tls_client_connect(opts->tls_addr, opts->tls_cert, opts->tls_key, opts->tls_ca,
                                  c->timeout_ms, &c->fd, &c->tls, err);
        if (r < 0)
            goto fail;
    } else {
        const char *path = ls_client_socket_path(opts);
        snprintf(c->peer, sizeof(c->peer), "%s", path);
        r = connect_unix(path, c->timeout_ms, err);
        if (r < 0)
            goto fail;
        c->fd = r;
    }
    /* From here on every read and write goes through the poll loop. */
    if ((r = set_nonblock(c->fd)) < 0) {
        r = fail_errno(err, -r, "connect", "set the socket non-blocking", NULL);
        goto fail;
    }
    *ret = c;
    return 0;
fail:
    ls_client_free(c);
    return r;
}

struct ls_client *ls_client_free(struct ls_client *c) {
    if (!c)
        return NULL;
    c->tls = ls_tls_conn_free(c->tls);
    safe_close(c->fd);
    safe_close(c->wake[0]);
    safe_close(c->wake[1]);
    ls_frame_reader_free(&c->rd);
    free(c->out);
    free(c);
    return NULL;
}

int ls_client_cancel(struct ls_client *c) {
    int saved = errno;
    c->cancel_requested = 1;
    /* A full pipe already holds a wake-up; nothing else can go wrong that matters. */
    (void)!write(c->wake[1], "c", 1);
    errno = saved;
    return 0;
}

/* ---- transport --------------------------------------------------------------- */

/* Queue one whole frame. */
static int queue_frame(struct ls_client *c, uint8_t type, const void *payload, size_t len) {
    size_t need = LS_FRAME_HEADER_SIZE + len;
    if (len > ls_frame_max_length(type))
        return -EMSGSIZE;
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_cap - c->out_len < need) {
        /* Never compacted while bytes are pending: TLS wants a retried write to start
         * with the same bytes (it may move, but not shift under them). */
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap - c->out_len < need)
            cap *= 2;
        uint8_t *nb = realloc(c->out, cap);
        if (!nb)
            return -ENOMEM;
        c->out = nb;
        c->out_cap = cap;
    }
    ls_frame_header_encode(c->out + c->out_len, type, (uint32_t)len);
    if (len)
        memcpy(c->out + c->out_len + LS_FRAME_HEADER_SIZE, payload, len);
    c->out_len += need;
    return 0;
}

static size_t out_pending(const struct ls_client *c) {
    return c->out_len - c->out_off;
}

/* Write what the socket takes.  0 (all or some written, or it would block) or -errno
 * (err filled). */
static int flush_out(struct ls_client *c, struct ls_error *err) {
    while (out_pending(c) > 0) {
        ssize_t n;
        if (c->tls) {
            n = ls_tls_conn_write(c->tls, c->out + c->out_off, out_pending(c));
            if (n == -EAGAIN || n == -EINTR) {
                c->tls_write_wants_read = !ls_tls_conn_wants_write(c->tls);
                return 0;
            }
            if (n <= 0) {
                int e = n < 0 ? (int)-n : EPIPE;
                ls_error_set(err, 0, "send", "send to %s: %s", c->peer, ls_tls_conn_error(c->tls));
                if (err)
                    err->code = e;
                return -e;
            }
            c->tls_write_wants_read = false;
        } else {
            n = send(c->fd, c->out + c->out_off, out_pending(c), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return 0;
            if (n < 0) {
                char what[160];
                snprintf(what, sizeof(what), "send to %s", c->peer);
                return fail_errno(err, errno, "send", what, NULL);
            }
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    return 0;
}

/* Read once: > 0 bytes, 0 at EOF, -EAGAIN when nothing is there, or -errno (err
 * filled). */
static ssize_t read_some(struct ls_client *c, void *buf, size_t size, struct ls_error *err) {
    if (c->tls) {
        ssize_t n = ls_tls_conn_read(c->tls, buf, size);
        if (n == -EAGAIN || n == -EINTR) {
            c->tls_read_wants_write = ls_tls_conn_wants_write(c->tls);
            return -EAGAIN;
        }
        c->tls_read_wants_write = false;
        if (n < 0) {
            ls_error_set(err, 0, "receive", "receive from %s: %s", c->peer,
                         ls_tls_conn_error(c->tls));
            if (err)
                err->code = (int)-n;
        }
        return n;
    }
    for (;;) {
        ssize_t n = recv(c->fd, buf, size, 0);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return -EAGAIN;
        char what[160];
        snprintf(what, sizeof(what), "receive from %s", c->peer);
        return fail_errno(err, errno, "receive", what, NULL);
    }
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- one exchange -------------------------------------------------------------- */

enum exchange_kind {
    EXCHANGE_RUN,
    EXCHANGE_STATUS
};

struct exchange {
    struct ls_client *c;
    enum exchange_kind kind;
    const struct ls_run_callbacks *cb;
    struct ls_run_outcome *outcome;
    char **ret_status;
    int stdin_fd; /* forwarded while >= 0 */
    bool started, done, cancel_sent, output_failed;
    int write_error; /* the socket refused our bytes: read what is left */
    struct ls_error write_err;
};

static int violation(struct ls_error *err, const struct ls_client *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* -EPROTO: "supervisor at <peer>: <what>". */
static int violation(struct ls_error *err, const struct ls_client *c, const char *fmt, ...) {
    char what[LS_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    ls_error_set(err, 0, "protocol", "protocol error from the supervisor at %s: %s", c->peer, what);
    if (err)
        err->code = EPROTO;
    return -EPROTO;
}

/* A message parser's refusal, as a violation naming the frame. */
static int bad_message(struct exchange *x, uint8_t type, const struct ls_error *perr,
                       struct ls_error *err) {
    return violation(err, x->c, "bad %s frame: %s", ls_frame_type_name(type), perr->msg);
}

static int request_cancel(struct exchange *x) {
    int r;
    if (x->cancel_sent || x->done || x->write_error)
        return 0;
    if ((r = queue_frame(x->c, LS_FRAME_CANCEL, "{}", 2)) < 0)
        return r;
    x->cancel_sent = true;
    if (x->outcome)
        x->outcome->cancelled = true;
    /* No STDIN after CANCEL. */
    x->stdin_fd = -1;
    return 0;
}

static int status_from_error(const struct ls_proto_error *e) {
    switch (e->code) {
    case LS_PROTO_FORBIDDEN:
        return EACCES;
    case LS_PROTO_BUSY:
        return EBUSY;
    case LS_PROTO_SHUTTING_DOWN:
        return ESHUTDOWN;
    default:
        return EREMOTEIO;
    }
}

static int handle_frame(struct exchange *x, const struct ls_frame_header *h, const uint8_t *p,
                        struct ls_error *err) {
    struct ls_error perr = {0};
    int r;

    if (h->type == LS_FRAME_ERROR) {
        struct ls_proto_error e;
        if (ls_proto_error_parse(p, h->length, &e, &perr) < 0)
            return bad_message(x, h->type, &perr, err);
        x->done = true;
        if (x->kind == EXCHANGE_STATUS) {
            int code = status_from_error(&e);
            ls_error_set(err, 0, "status", "the supervisor refused: %s: %s",
                         ls_proto_code_name(e.code), e.message);
            if (err)
                err->code = code;
            return -code;
        }
        x->outcome->refused = true;
        x->outcome->error = e;
        return 0;
    }
    if (x->kind == EXCHANGE_STATUS) {
        if (h->type != LS_FRAME_STATUS_REPLY)
            return violation(err, x->c, "unexpected %s frame in answer to STATUS",
                             ls_frame_type_name(h->type));
        if (ls_proto_status_reply_check(p, h->length, &perr) < 0)
            return bad_message(x, h->type, &perr, err);
        char *doc = strndup((const char *)p, h->length);
        if (!doc)
            return ls_error_set(err, ENOMEM, "status", "status reply");
        *x->ret_status = doc;
        x->done = true;
        return 0;
    }

    switch (h->type) {
    case LS_FRAME_QUEUED: {
        uint64_t pos;
        if (x->started)
            return violation(err, x->c, "QUEUED after STARTED");
        if (ls_proto_queued_parse(p, h->length, &pos, &perr) < 0)
            return bad_message(x, h->type, &perr, err);
        if (x->cb && x->cb->on_queued)
            x->cb->on_queued(x->cb->userdata, pos);
        return 0;
    }
    case LS_FRAME_STARTED: {
        struct ls_proto_started s;
        if (x->started)
            return violation(err, x->c, "a second STARTED");
        if (ls_proto_started_parse(p, h->length, &s, &perr) < 0)
            return bad_message(x, h->type, &perr, err);
        x->started = true;
        ls_strlcpy(x->outcome->id, s.id, sizeof(x->outcome->id));
        ls_strlcpy(x->outcome->policy, s.policy, sizeof(x->outcome->policy));
        if (x->cb && x->cb->on_started)
            x->cb->on_started(x->cb->userdata, s.id);
        return 0;
    }
    case LS_FRAME_STDOUT:
    case LS_FRAME_STDERR:
        if (!x->started)
            return violation(err, x->c, "%s before STARTED", ls_frame_type_name(h->type));
        if (h->length == 0 || x->output_failed || !x->cb || !x->cb->on_output)
            return 0;
        if (x->cb->on_output(x->cb->userdata, h->type == LS_FRAME_STDOUT ? 1 : 2, p, h->length) <
            0) {
            /* Nobody takes the output any more: end the run, keep waiting for RESULT. */
            x->output_failed = true;
            if ((r = request_cancel(x)) < 0)
                return ls_error_set(err, -r, "cancel", "queue CANCEL");
        }
        return 0;
    case LS_FRAME_RESULT: {
        struct ls_proto_result res;
        if (ls_proto_result_parse(p, h->length, &res, &perr) < 0)
            return bad_message(x, h->type, &perr, err);
        if (x->started && strcmp(res.id, x->outcome->id) != 0)
            return violation(err, x->c, "RESULT for sandbox \"%s\", but \"%s\" was started", res.id,
                             x->outcome->id);
        if (!x->started && !x->cancel_sent)
            return violation(err, x->c, "RESULT before STARTED");
        char *doc = strndup((const char *)p, h->length);
        if (!doc)
            return ls_error_set(err, ENOMEM, "result", "result document");
        x->outcome->result_json = doc;
        x->outcome->result = res.result;
        ls_strlcpy(x->outcome->id, res.id, sizeof(x->outcome->id));
        ls_strlcpy(x->outcome->policy, res.policy, sizeof(x->outcome->policy));
        x->done = true;
        return 0;
    }
    default:
        return violation(err, x->c, "unexpected %s frame (type 0x%02x) during a run",
                         ls_frame_type_name(h->type), h->type);
    }
}

/* Read what the socket has and handle every complete frame.  0, or -errno. */
static int receive(struct exchange *x, struct ls_error *err) {
    uint8_t buf[READ_CHUNK];
    struct ls_client *c = x->c;
    ssize_t n = read_some(c, buf, sizeof(buf), err);
    struct ls_error perr = {0};
    int r;

    if (n == -EAGAIN)
        return 0;
    if (n < 0) {
        /* The supervisor may have answered and closed while we were still sending:
         * a reset then hides nothing we could still read. */
        return (int)n;
    }
    if (n == 0) {
        if (x->write_error) {
            if (err)
                *err = x->write_err;
            return -x->write_error;
        }
        return violation(err, c, "the connection was closed before %s",
                         x->kind == EXCHANGE_STATUS ? "the status reply" : "the result");
    }
    if ((r = ls_frame_reader_feed(&c->rd, buf, (size_t)n)) < 0)
        return ls_error_set(err, -r, "receive", "buffer frames from %s", c->peer);
    while (!x->done) {
        struct ls_frame_header h;
        const uint8_t *payload;
        r = ls_frame_reader_next(&c->rd, &h, &payload, &perr);
        if (r == 0)
            break;
        if (r < 0)
            return violation(err, c, "%s", perr.msg);
        if ((r = handle_frame(x, &h, payload, err)) < 0)
            return r;
    }
    return 0;
}

/* Forward one read of stdin as a STDIN frame; an empty one at EOF. */
static int forward_stdin(struct exchange *x, struct ls_error *err) {
    uint8_t buf[LS_PROTO_MAX_DATA];
    ssize_t n;
    int r;

    do
        n = read(x->stdin_fd, buf, sizeof(buf));
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    /* A read error ends the command's stdin like EOF does; the run goes on. */
    if (n < 0)
        n = 0;
    if ((r = queue_frame(x->c, LS_FRAME_STDIN, buf, (size_t)n)) < 0)
        return ls_error_set(err, -r, "stdin", "queue STDIN");
    if (n == 0)
        x->stdin_fd = -1;
    return 0;
}

static int exchange_loop(struct exchange *x, int timeout_ms, struct ls_error *err) {
    struct ls_client *c = x->c;
    int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : -1;
    int r;

    while (!x->done) {
        struct pollfd pfd[3];
        int n = 0, wait = -1, i_sock, i_wake, i_stdin = -1;

        if (x->kind == EXCHANGE_RUN && c->cancel_requested && (r = request_cancel(x)) < 0)
            return ls_error_set(err, -r, "cancel", "queue CANCEL");
        if (!x->write_error && (r = flush_out(c, &x->write_err)) < 0) {
            /* Keep reading: an ERROR frame may explain why the supervisor stopped
             * listening.  The send error is reported if the connection just ends. */
            x->write_error = -r;
            c->out_off = c->out_len = 0;
            x->stdin_fd = -1;
        }

        i_sock = n;
        pfd[n++] = (struct pollfd){
            .fd = c->fd,
            .events = (short)(POLLIN | ((out_pending(c) && !c->tls_write_wants_read) ||
                                                c->tls_read_wants_write
                                            ? POLLOUT
                                            : 0)),
        };
        i_wake = n;
        pfd[n++] = (struct pollfd){.fd = c->wake[0], .events = POLLIN};
        /* Read stdin only when the previous STDIN frame has left: the supervisor's
         * pace sets ours, and memory stays at one frame. */
        if (x->stdin_fd >= 0 && out_pending(c) == 0) {
            i_stdin = n;
            pfd[n++] = (struct pollfd){.fd = x->stdin_fd, .events = POLLIN};
        }
        if (c->tls && ls_tls_conn_pending(c->tls) > 0) {
            wait = 0;
        } else if (deadline >= 0) {
            int64_t left = deadline - now_ms();
            if (left <= 0)
                return fail_errno(err, ETIMEDOUT, "receive", "waiting for the supervisor", NULL);
            wait = (int)(left > 60000 ? 60000 : left);
        }
        r = poll(pfd, (nfds_t)n, wait);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return fail_errno(err, errno, "poll", "poll", NULL);

        if (pfd[i_wake].revents) {
            char drain[64];
            while (read(c->wake[0], drain, sizeof(drain)) > 0)
                ;
        }
        if (pfd[i_sock].revents || (c->tls && ls_tls_conn_pending(c->tls) > 0)) {
            if ((r = receive(x, err)) < 0)
                return r;
        }
        if (i_stdin >= 0 && pfd[i_stdin].revents && !x->done) {
            if (pfd[i_stdin].revents & POLLNVAL) {
                /* Not an open fd: the command gets EOF. */
                x->stdin_fd = -1;
                if ((r = queue_frame(c, LS_FRAME_STDIN, NULL, 0)) < 0)
                    return ls_error_set(err, -r, "stdin", "queue STDIN");
            } else if ((r = forward_stdin(x, err)) < 0) {
                return r;
            }
        }
    }
    /* Whatever is still queued (a CANCEL racing the RESULT) no longer matters. */
    return 0;
}

int ls_client_run(struct ls_client *c, const struct ls_run_request *req,
                  const struct ls_run_callbacks *cb, struct ls_run_outcome *outcome,
                  struct ls_error *err) {
    struct ls_run_request *check = NULL;
    struct exchange x = {
        .c = c, .kind = EXCHANGE_RUN, .cb = cb, .outcome = outcome, .stdin_fd = -1};
    int r;

    *outcome = (struct ls_run_outcome){0};
    if (c->used)
        return ls_error_set(err, EALREADY, "run", "one request per connection");
    c->used = true;

    _cleanup_free_ char *json = ls_run_request_to_json(req);
    if (!json) {
        if (errno == ENOMEM)
            return ls_error_set(err, ENOMEM, "run", "serialise the request");
        return ls_error_set(err, 0, "request",
                            "the request cannot be sent: an env entry without '=', or a string "
                            "that is not UTF-8");
    }
    /* The supervisor's own parser, here first: a bad request fails with the field's
     * name before anything is sent. */
    if ((r = ls_run_request_parse(json, strlen(json), &check, err)) < 0)
        return r;
    ls_run_request_free(check);
    if (strlen(json) > LS_PROTO_MAX_JSON)
        return ls_error_set(err, 0, "request", "the request is over %u bytes", LS_PROTO_MAX_JSON);

    if ((r = queue_frame(c, LS_FRAME_RUN, json, strlen(json))) < 0)
        return ls_error_set(err, -r, "run", "queue RUN");
    if (req->stdin_mode == LS_STDIN_STREAM) {
        if (cb && cb->stdin_fd >= 0)
            x.stdin_fd = cb->stdin_fd;
        else if ((r = queue_frame(c, LS_FRAME_STDIN, NULL, 0)) < 0)
            return ls_error_set(err, -r, "run", "queue STDIN");
    }
    r = exchange_loop(&x, 0, err);
    if (r < 0) {
        free(outcome->result_json);
        outcome->result_json = NULL;
        return r;
    }
    return 0;
}

int ls_client_status(struct ls_client *c, char **ret_json, struct ls_error *err) {
    char *doc = NULL;
    struct exchange x = {.c = c, .kind = EXCHANGE_STATUS, .ret_status = &doc, .stdin_fd = -1};
    int r;

    if (c->used)
        return ls_error_set(err, EALREADY, "status", "one request per connection");
    c->used = true;
    if ((r = queue_frame(c, LS_FRAME_STATUS, "{}", 2)) < 0)
        return ls_error_set(err, -r, "status", "queue STATUS");
    r = exchange_loop(&x, c->timeout_ms, err);
    if (r < 0) {
        free(doc);
        return r;
    }
    *ret_json = doc;
    return 0;
}
