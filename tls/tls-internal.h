/*
 * tls-internal.h - what tls.c (contexts, connections, I/O) shares with connect.c (the
 * blocking client).  Not installed; nothing outside tls/ includes it except the unit
 * test, for tls_addr_parse.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "labstack/error.h"

/* Longest CN or OU accepted from a peer certificate (X.509's ub-common-name). */
#define TLS_NAME_MAX 64

struct ls_tls_conn {
    SSL *ssl; /* owns its BIOs; holds a reference on its SSL_CTX */
    int fd;   /* not owned */
    bool server;
    bool done;        /* handshake finished and the peer's names accepted */
    bool fatal;       /* OpenSSL reported a fatal error: no close_notify */
    bool wants_write; /* the last -EAGAIN waits for POLLOUT */
    bool confirmed;   /* client: the server's post-handshake message arrived */
    bool closing;     /* ls_tls_conn_free: writes must not block */
    char *cn, *ou, *subject;
    char name_error[192];         /* why the verify callback refused the peer's names */
    char error[LS_ERROR_MSG_MAX]; /* the last failure, for ls_tls_conn_error */
};

/*
 * An SSL_CTX for one side: TLS 1.3 only, cert (with its chain) and key loaded and
 * checked against each other, ca as the only trust anchor, peer verification required
 * (the server also requires that the client sends a certificate), no session cache.
 * 0 or -errno/-EPROTO with err naming the file and the OpenSSL reason.
 */
int tls_ctx_new(bool server, const char *cert, const char *key, const char *ca, SSL_CTX **ret,
                struct ls_error *err);

/* A connection on fd (non-blocking, not owned) in the accept or connect state. */
int tls_conn_new(SSL_CTX *ctx, int fd, bool server, struct ls_tls_conn **ret, struct ls_error *err);

/*
 * Classify the failure of an SSL call that returned r (call it right away: it reads
 * errno and the OpenSSL error queue, and clears the queue).  Returns -EAGAIN for a
 * retry (-EINTR when the socket is blocking: a signal) and sets c->wants_write; 0 for a clean close by the
 * peer; otherwise -EACCES, -EPROTO, -ECONNRESET, -EPIPE or another -errno with
 * c->error saying why and c->fatal set.
 */
int tls_conn_failure(struct ls_tls_conn *c, int r);

/* Finish a handshake that SSL_do_handshake reported done: check that the peer was
 * verified and its names accepted.  0 or -EACCES with c->error. */
int tls_conn_finish(struct ls_tls_conn *c);

/* Fill err with code and the message, without ": <strerror>" (the message says it
 * all); returns -code. */
int tls_fail(struct ls_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Split "host:port", "[v6]:port" into host (brackets removed) and port (decimal,
 * 1..65535).  0 or -EINVAL with err.  A bare IPv6 address ("::1:7443") is refused:
 * it cannot be told apart from its port.
 */
int tls_addr_parse(const char *addr, char *host, size_t host_size, unsigned *port,
                   struct ls_error *err);
