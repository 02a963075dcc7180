/*
 * client.h - libls_client: talk to labstack-supervisor.
 *
 * Linked by the CLI, the orchestrator and the agents; never links the sandbox
 * library and needs no privileges.  Blocking, one request per connection.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "labstack/protocol.h"

struct ls_error;

#define LS_DEFAULT_SOCKET "/run/labstack/supervisor.sock"

struct ls_client_opts {
    const char *socket_path;  /* NULL: $LABSTACK_SOCKET, then LS_DEFAULT_SOCKET */
    /* TLS instead of the Unix socket when tls_addr is set ("127.0.0.1:7443"). */
    const char *tls_addr;
    const char *tls_cert;     /* client certificate (PEM) */
    const char *tls_key;
    const char *tls_ca;       /* CA that signed the supervisor's certificate */
    int timeout_ms;           /* connect timeout; 0: 5000 */
};

struct ls_client;

/* Connect.  0, or -errno with err ("connect /run/labstack/supervisor.sock: No such file
 * or directory").  With TLS, tls_cert, tls_key and tls_ca are required (-EINVAL). */
int ls_client_connect(const struct ls_client_opts *opts, struct ls_client **ret,
                      struct ls_error *err);
struct ls_client *ls_client_free(struct ls_client *c);

/* The socket path ls_client_connect would use for opts (never NULL). */
const char *ls_client_socket_path(const struct ls_client_opts *opts);

struct ls_run_callbacks {
    /* The supervisor queued the request (position in the queue). */
    void (*on_queued)(void *userdata, uint64_t position);
    /* The sandbox started; id is the sandbox id. */
    void (*on_started)(void *userdata, const char *id);
    /* Output as it arrives; stream 1 = stdout, 2 = stderr.  Return < 0 to cancel. */
    int (*on_output)(void *userdata, int stream, const void *buf, size_t len);
    void *userdata;
    /* With LS_STDIN_STREAM: bytes are read from this fd and sent until EOF; -1: none. */
    int stdin_fd;
};

/* Outcome of ls_client_run. */
struct ls_run_outcome {
    char *result_json;          /* the RESULT document (caller frees); NULL if none */
    bool refused;               /* the supervisor answered with an ERROR frame */
    struct ls_proto_error error;/* when refused */
    /* Added: what was read from the RESULT document when result_json is set. */
    struct ls_result result;    /* its "result" */
    char id[LS_PROTO_MAX_TEXT + 1];              /* its "id" (the sandbox) */
    char policy[LS_PROTO_MAX_POLICY_NAME + 1];   /* its "policy" */
    bool cancelled;             /* this client sent CANCEL (ls_client_cancel, on_output) */
};

/*
 * Send req, stream stdin/output, wait for the result.  Returns 0 when the supervisor
 * answered (a result, or an ERROR frame: outcome->refused), or -errno for a transport
 * or protocol failure (err filled).  Caller frees outcome->result_json.
 *
 * req is checked with the supervisor's own parser before it is sent (-EINVAL with err
 * naming the field).  Frames are written without blocking while output is read, so a
 * command that writes a lot while reading its stdin cannot deadlock the two sides.
 * Anything the supervisor sends out of order, malformed, or a close before RESULT or
 * ERROR is -EPROTO with err saying what.  A RESULT may arrive without STARTED only for
 * a run cancelled while it was queued.  One request per connection: a second call
 * gives -EALREADY.
 */
int ls_client_run(struct ls_client *c, const struct ls_run_request *req,
                  const struct ls_run_callbacks *cb, struct ls_run_outcome *outcome,
                  struct ls_error *err);

/* Ask for the supervisor's status; *ret_json is the STATUS_REPLY document (caller
 * frees).  Waits at most opts->timeout_ms (default 5000) for the reply.  An ERROR
 * answer is a negative errno (-EACCES forbidden, -EBUSY busy, -ESHUTDOWN shutting
 * down, -EREMOTEIO otherwise) with err quoting the supervisor's code and message. */
int ls_client_status(struct ls_client *c, char **ret_json, struct ls_error *err);

/* Send CANCEL on a connection whose run is in progress (from a signal handler's
 * thread: only write()s).  It writes one byte to the connection's wake-up pipe;
 * ls_client_run, blocked in poll(), sends the CANCEL frame between two frames (a
 * CANCEL written straight to the socket could land inside a half-sent STDIN frame),
 * once, and keeps waiting for the RESULT.  Called before ls_client_run, the CANCEL
 * follows the RUN frame.  Always 0. */
int ls_client_cancel(struct ls_client *c);
