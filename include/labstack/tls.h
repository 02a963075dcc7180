/*
 * tls.h - mutual TLS for the supervisor's TCP listener and its clients (OpenSSL).
 *
 * TLS 1.3 only (1.2 refused), both sides present a certificate signed by the
 * configured CA; the server's identity check is the CA plus (client side) the host
 * name/IP the client connected to.  The client's identity is its certificate subject:
 * CN is the agent name and OU its role ("CN=host-12, OU=qa" -> identity
 * "agent:qa/host-12", role "qa").
 *
 * The server side is non-blocking (driven by the supervisor's epoll loop); the client
 * side is blocking.  Linked as the `ls_tls` library (libssl + libcrypto).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ls_error;

/* ---- server ------------------------------------------------------------------ */

struct ls_tls_server;   /* an SSL_CTX with cert, key, CA and verify-peer-required */
struct ls_tls_conn;     /* one connection (server or client side) */

/* Load cert/key/CA (PEM files).  0 or -errno/-EPROTO with err naming the file and the
 * OpenSSL reason. */
int ls_tls_server_new(const char *cert, const char *key, const char *ca,
                      struct ls_tls_server **ret, struct ls_error *err);
struct ls_tls_server *ls_tls_server_free(struct ls_tls_server *s);

/* Wrap an accepted, non-blocking socket (the conn does not own fd: the caller closes
 * it after ls_tls_conn_free). */
int ls_tls_conn_accept(struct ls_tls_server *s, int fd, struct ls_tls_conn **ret,
                       struct ls_error *err);

/* Drive the handshake: 0 when done (peer verified), -EAGAIN when it must be called
 * again once the fd is readable/writable (ls_tls_conn_wants_write says which),
 * -EACCES when the peer's certificate was missing or not trusted, -EPROTO for other
 * TLS failures (err filled). */
int ls_tls_conn_handshake(struct ls_tls_conn *c, struct ls_error *err);

/* Non-blocking I/O after the handshake: bytes moved (> 0), 0 at a clean close by the
 * peer (read only), -EAGAIN, or -EPIPE/-EPROTO/-ECONNRESET.  Note that a read may
 * need the fd writable and vice versa: after -EAGAIN, ls_tls_conn_wants_write tells
 * which event to wait for. */
ssize_t ls_tls_conn_read(struct ls_tls_conn *c, void *buf, size_t len);
ssize_t ls_tls_conn_write(struct ls_tls_conn *c, const void *buf, size_t len);
bool ls_tls_conn_wants_write(const struct ls_tls_conn *c);
/* Bytes OpenSSL has already decrypted and buffered (read them before waiting on the fd). */
size_t ls_tls_conn_pending(const struct ls_tls_conn *c);
/* After a write returned -EAGAIN, OpenSSL has already encrypted a record of those bytes:
 * call write again with the same bytes (the same or a larger len; the buffer may move).
 * On a blocking socket (the client's) a signal gives -EINTR instead of -EAGAIN (same rule).
 * Neither raises SIGPIPE (writes use MSG_NOSIGNAL).  Why the last call failed, as a
 * sentence ("" if none), e.g. "connection with the client: Connection reset by peer": */
const char *ls_tls_conn_error(const struct ls_tls_conn *c);

/* After the handshake: the peer certificate's CN and OU (NULL if absent) and the full
 * subject in RFC 2253 form. */
const char *ls_tls_conn_peer_cn(const struct ls_tls_conn *c);
const char *ls_tls_conn_peer_ou(const struct ls_tls_conn *c);
const char *ls_tls_conn_peer_subject(const struct ls_tls_conn *c);
/* "agent:<OU>/<CN>" into buf: 0, -ENOENT without a finished handshake, a CN or an OU,
 * -ENOBUFS when size is too small.  CN and OU are 1..64 printable ASCII bytes without '/'
 * (a peer certificate with anything else fails the handshake with -EACCES), so the
 * identity is unambiguous and safe to log. */
int ls_tls_conn_identity(const struct ls_tls_conn *c, char *buf, size_t size);

/* Send close_notify (best effort) and free. Accepts NULL; returns NULL. */
struct ls_tls_conn *ls_tls_conn_free(struct ls_tls_conn *c);

/* ---- client ------------------------------------------------------------------ */

/* Connect to addr ("127.0.0.1:7443", "[::1]:7443", "host:port"), present cert/key, verify
 * the server against ca (and its name/IP).  Blocking; timeout_ms bounds connect and
 * handshake.  On success *ret_fd is the connected socket (owned by the caller, closed
 * after ls_tls_conn_free) and *ret the connection. */
int ls_tls_client_connect(const char *addr, const char *cert, const char *key, const char *ca,
                          int timeout_ms, int *ret_fd, struct ls_tls_conn **ret,
                          struct ls_error *err);
/* More on ls_tls_client_connect: timeout_ms must be > 0 (-EINVAL); it also covers
 * the wait for the server's verdict on our certificate, so a refused certificate is
 * -EACCES from here ("the server refused our certificate (sslv3 alert certificate
 * expired)"), as is a server certificate that fails verification or does not match the
 * host/IP of addr; -ETIMEDOUT, -ECONNREFUSED, ... otherwise.  Name resolution is not
 * bounded by timeout_ms.  The returned socket is blocking, O_CLOEXEC, without timeouts. */
