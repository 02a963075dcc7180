/*
 * tls.c - mutual TLS with OpenSSL 3: contexts, connections, non-blocking I/O, and the
 * translation of OpenSSL's failures into -errno plus a sentence.
 *
 * Policy, in one place (tls_ctx_new): TLS 1.3 only; the CA file given is the only trust
 * anchor (the system store is never loaded); both sides verify the peer, the server
 * refuses a client without a certificate; security level 2; no session cache and no
 * resumable tickets, so nothing of a connection outlives it.  The server still sends
 * one (stateful, never stored) NewSessionTicket: it is the only message a TLS 1.3
 * server sends after verifying the client, so the blocking client (connect.c) waits for
 * it to learn that it was accepted instead of finding out at its first read.
 *
 * The peer's CN and OU become an identity in audit logs ("agent:<OU>/<CN>"), so the
 * verify callback refuses, during the handshake (the peer gets an alert), a certificate
 * with more than one CN or OU, or one that is empty, longer than 64 bytes, or has a byte
 * outside printable ASCII or a '/'.
 *
 * SIGPIPE: writes go through a small BIO that calls send(MSG_NOSIGNAL), so a peer that
 * went away gives -EPIPE instead of killing the process; callers need not ignore it.
 */
#include "labstack/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "labstack/error.h"
#include "labstack/macros.h"
#include "tls-internal.h"

/* Agents' certificates are signed by the CA or one intermediate; a longer chain is
 * nothing labstack issues, and verifying it is work an unauthenticated peer causes. */
#define VERIFY_DEPTH 4
/* A chain of a few certificates is a few KiB, even with RSA-4096 keys. */
#define MAX_CHAIN_BYTES (32 * 1024)

struct ls_tls_server {
    SSL_CTX *ctx;
};

int tls_fail(struct ls_error *err, int code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        err->code = code;
        ls_strlcpy(err->step, "tls", sizeof(err->step));
        va_start(ap, fmt);
        if (vsnprintf(err->msg, sizeof(err->msg), fmt, ap) < 0)
            err->msg[0] = '\0';
        va_end(ap);
    }
    return -code;
}

/* Drain the OpenSSL error queue into buf: the reason of the oldest error (the root
 * cause).  Returns the errno of a system error in the queue (fopen's ENOENT), or 0. */
static int drain_errors(char *buf, size_t size) {
    unsigned long e, first = 0;
    int sys = 0;
    while ((e = ERR_get_error()) != 0) {
        if (!first)
            first = e;
        if (!sys && ERR_SYSTEM_ERROR(e))
            sys = ERR_GET_REASON(e);
    }
    if (sys) {
        const char *d = strerrordesc_np(sys);
        snprintf(buf, size, "%s", d ? d : "system error");
    } else if (first) {
        const char *r = ERR_reason_error_string(first);
        if (r)
            snprintf(buf, size, "%s", r);
        else
            ERR_error_string_n(first, buf, size);
    } else {
        snprintf(buf, size, "unknown OpenSSL error");
    }
    return sys;
}

static int load_fail(struct ls_error *err, const char *what, const char *path) {
    char why[160];
    int sys = drain_errors(why, sizeof(why));
    return tls_fail(err, sys ? sys : EPROTO, "load %s %s: %s", what, path, why);
}

/* ---- the write BIO: send(MSG_NOSIGNAL) ---------------------------------------- */

static BIO_METHOD *nosig_method;
static pthread_once_t nosig_once = PTHREAD_ONCE_INIT;

static int nosig_write(BIO *b, const char *buf, size_t len, size_t *written) {
    struct ls_tls_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL | (c->closing ? MSG_DONTWAIT : 0));
    if (n < 0) {
        /* EINTR is a retry too: on a blocking socket it becomes -EINTR, with the
         * record kept for the next call. */
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            BIO_set_retry_write(b);
        return 0;
    }
    *written = (size_t)n;
    return 1;
}

/* libssl asks a write BIO to flush (nothing is buffered here) and about kTLS and
 * pending bytes (no, none); everything else is unsupported. */
static long nosig_ctrl(BIO *b, int cmd, long num, void *ptr) {
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static void nosig_init(void) {
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ls-send-nosignal");
    if (!m)
        return;
    if (!BIO_meth_set_write_ex(m, nosig_write) || !BIO_meth_set_ctrl(m, nosig_ctrl)) {
        BIO_meth_free(m);
        return;
    }
    nosig_method = m; /* lives as long as the process */
}

static BIO *nosig_bio_new(struct ls_tls_conn *c) {
    pthread_once(&nosig_once, nosig_init);
    if (!nosig_method)
        return NULL;
    BIO *b = BIO_new(nosig_method);
    if (!b)
        return NULL;
    BIO_set_data(b, c);
    BIO_set_init(b, 1);
    return b;
}

/* ---- the peer's names ---------------------------------------------------------- */

/* One of CN/OU: absent (NULL, 0), or exactly one entry of 1..64 printable ASCII bytes
 * without '/'.  -EACCES with why, or -ENOMEM. */
static int name_entry(X509_NAME *name, int nid, const char *label, char **ret, char *why,
                      size_t why_size) {
    *ret = NULL;
    int i = X509_NAME_get_index_by_NID(name, nid, -1);
    if (i < 0)
        return 0;
    if (X509_NAME_get_index_by_NID(name, nid, i) >= 0) {
        snprintf(why, why_size, "its subject has more than one %s", label);
        return -EACCES;
    }
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (n < 0) {
        snprintf(why, why_size, "its %s is not a valid string", label);
        return -EACCES;
    }
    int r = 0;
    if (n == 0) {
        snprintf(why, why_size, "its %s is empty", label);
        r = -EACCES;
    } else if (n > TLS_NAME_MAX) {
        snprintf(why, why_size, "its %s is longer than %d bytes", label, TLS_NAME_MAX);
        r = -EACCES;
    }
    for (int k = 0; r == 0 && k < n; k++) {
        if (utf8[k] < 0x20 || utf8[k] > 0x7e) {
            snprintf(why, why_size,
                     "its %s has a control character or a byte outside printable ASCII", label);
            r = -EACCES;
        } else if (utf8[k] == '/') {
            snprintf(why, why_size,
                     "its %s contains '/', which would make the identity agent:<OU>/<CN> ambiguous",
                     label);
            r = -EACCES;
        }
    }
    if (r == 0) {
        *ret = strndup((const char *)utf8, (size_t)n);
        if (!*ret)
            r = -ENOMEM;
    }
    OPENSSL_free(utf8);
    return r;
}

static char *subject_text(X509_NAME *name) {
    BIO *b = BIO_new(BIO_s_mem());
    char *s = NULL, *data = NULL;
    if (!b)
        return NULL;
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
        long n = BIO_get_mem_data(b, &data);
        if (n >= 0)
            s = strndup(data ? data : "", (size_t)n);
    }
    BIO_free(b);
    return s;
}

/* Take CN, OU and the subject from the peer's certificate (replacing earlier ones);
 * -EACCES with c->name_error when they cannot be an identity. */
static int read_names(struct ls_tls_conn *c, X509 *cert) {
    X509_NAME *name = cert ? X509_get_subject_name(cert) : NULL;
    free(c->cn);
    free(c->ou);
    free(c->subject);
    c->cn = c->ou = c->subject = NULL;
    if (!name) {
        snprintf(c->name_error, sizeof(c->name_error), "it has no subject");
        return -EACCES;
    }
    int r = name_entry(name, NID_commonName, "CN", &c->cn, c->name_error, sizeof(c->name_error));
    if (r == 0)
        r = name_entry(name, NID_organizationalUnitName, "OU", &c->ou, c->name_error,
                       sizeof(c->name_error));
    if (r == 0) {
        c->subject = subject_text(name);
        if (!c->subject)
            r = -ENOMEM;
    }
    if (r == -ENOMEM)
        snprintf(c->name_error, sizeof(c->name_error), "out of memory reading its subject");
    return r;
}

/* Called by OpenSSL for each certificate of the peer's chain, the peer's own (depth 0)
 * last.  Adds the name rules to a chain OpenSSL found valid; the peer gets an alert. */
static int verify_peer(int ok, X509_STORE_CTX *xs) {
    if (!ok || X509_STORE_CTX_get_error_depth(xs) != 0)
        return ok;
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct ls_tls_conn *c = ssl ? SSL_get_app_data(ssl) : NULL;
    if (!c) {
        X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    if (read_names(c, X509_STORE_CTX_get_current_cert(xs)) < 0) {
        X509_STORE_CTX_set_error(xs, X509_V_ERR_UNSUPPORTED_NAME_SYNTAX);
        return 0;
    }
    return 1;
}

/* ---- contexts and connections ---------------------------------------------------- */

/* Keys are unencrypted files readable only by the daemon; never prompt on a terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *userdata) {
    if (userdata)
        *(bool *)userdata = true;
    return 0;
}

int tls_ctx_new(bool server, const char *cert, const char *key, const char *ca, SSL_CTX **ret,
                struct ls_error *err) {
    if (!cert || !key || !ca)
        return tls_fail(err, EINVAL, "a certificate, its key and a CA are all required");
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    bool asked = false; /* for a passphrase: the key is encrypted */
    int r;
    if (!ctx) {
        ERR_clear_error();
        return tls_fail(err, ENOMEM, "allocate a TLS context");
    }
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
        r = tls_fail(err, EPROTO, "this OpenSSL cannot be limited to TLS 1.3");
        goto out;
    }
    SSL_CTX_set_security_level(ctx, 2);
    /* Without tickets that can be decrypted later, without a session cache (and
     * without a session id context, which OpenSSL wants before it resumes a session
     * whose peer was verified), a session cannot be resumed: every connection verifies
     * a certificate afresh (test_tls checks). */
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    /* The server's one ticket is the client's "you are accepted" (see the top). */
    SSL_CTX_set_num_tickets(ctx, server ? 1 : 0);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, &asked);

    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        r = load_fail(err, "certificate", cert);
        goto out;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        unsigned long e = ERR_peek_last_error();
        if (asked)
            r = tls_fail(err, EPROTO, "key %s is encrypted; use one readable only by its owner",
                         key);
        else if (e == 0 || (ERR_GET_LIB(e) == ERR_LIB_X509 &&
                            ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH))
            r = tls_fail(err, EPROTO, "key %s does not belong to certificate %s", key, cert);
        else
            r = load_fail(err, "key", key);
        goto out;
    }
    /* The CA file only: SSL_CTX_set_default_verify_paths is never called. */
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
        r = load_fail(err, "CA", ca);
        goto out;
    }
    if (server) {
        /* Tell clients which CA to pick a certificate for. */
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
        if (!names) {
            r = load_fail(err, "CA", ca);
            goto out;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
    }
    SSL_CTX_set_verify(ctx,
                       server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER,
                       verify_peer);
    SSL_CTX_set_verify_depth(ctx, VERIFY_DEPTH);
    /* What an unauthenticated peer may make us buffer for its chain (default 100 KiB). */
    SSL_CTX_set_max_cert_list(ctx, MAX_CHAIN_BYTES);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL); /* &asked dies here */
    *ret = TAKE_PTR(ctx);
    return 0;
out:
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return r;
}

int tls_conn_new(SSL_CTX *ctx, int fd, bool server, struct ls_tls_conn **ret,
                 struct ls_error *err) {
    struct ls_tls_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return tls_fail(err, ENOMEM, "allocate a TLS connection");
    c->fd = fd;
    c->server = server;
    c->ssl = SSL_new(ctx);
    BIO *rbio = BIO_new_socket(fd, BIO_NOCLOSE);
    BIO *wbio = nosig_bio_new(c);
    if (!c->ssl || !rbio || !wbio) {
        BIO_free(rbio);
        BIO_free(wbio);
        ls_tls_conn_free(c);
        ERR_clear_error();
        return tls_fail(err, ENOMEM, "allocate a TLS connection");
    }
    SSL_set_bio(c->ssl, rbio, wbio);
    SSL_set_app_data(c->ssl, c);
    if (server)
        SSL_set_accept_state(c->ssl);
    else
        SSL_set_connect_state(c->ssl);
    *ret = c;
    return 0;
}

/* Alerts by which a peer says it does not accept our certificate. */
static bool is_certificate_alert(int reason) {
    switch (reason) {
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
        return true;
    default:
        return false;
    }
}

static bool is_version_failure(int reason) {
    return reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
           reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_NO_PROTOCOLS_AVAILABLE;
}

/* SSL_ERROR_SSL: a failure of the protocol or of the peer's certificate. */
static int ssl_failure(struct ls_tls_conn *c) {
    const char *peer = c->server ? "client" : "server";
    unsigned long e, first = 0, ssl_err = 0;
    char why[160];

    while ((e = ERR_get_error()) != 0) {
        if (!first)
            first = e;
        if (!ssl_err && ERR_GET_LIB(e) == ERR_LIB_SSL)
            ssl_err = e;
    }
    if (!ssl_err)
        ssl_err = first;
    int reason = ssl_err ? ERR_GET_REASON(ssl_err) : 0;
    const char *rs = ssl_err ? ERR_reason_error_string(ssl_err) : NULL;
    if (rs)
        snprintf(why, sizeof(why), "%s", rs);
    else if (ssl_err)
        ERR_error_string_n(ssl_err, why, sizeof(why));
    else
        snprintf(why, sizeof(why), "unknown TLS error");

    long vr = SSL_get_verify_result(c->ssl);
    if (vr != X509_V_OK || reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        snprintf(c->error, sizeof(c->error), "%s certificate refused: %s", peer,
                 c->name_error[0]  ? c->name_error
                 : vr != X509_V_OK ? X509_verify_cert_error_string(vr)
                                   : why);
        return -EACCES;
    }
    if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
        snprintf(c->error, sizeof(c->error), "the %s sent no certificate", peer);
        return -EACCES;
    }
    if (is_certificate_alert(reason)) {
        snprintf(c->error, sizeof(c->error), "the %s refused our certificate (%s)", peer, why);
        /* For the client, being refused is the answer "access denied"; for the server
         * it is a client that does not trust it (a wrong CA file on that client). */
        return c->server ? -EPROTO : -EACCES;
    }
    if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        snprintf(c->error, sizeof(c->error), "the %s closed the connection without close_notify",
                 peer);
        return -ECONNRESET;
    }
    if (is_version_failure(reason)) {
        snprintf(c->error, sizeof(c->error), "the %s does not speak TLS 1.3 (%s)", peer, why);
        return -EPROTO;
    }
    snprintf(c->error, sizeof(c->error), "TLS with the %s failed: %s", peer, why);
    return -EPROTO;
}

int tls_conn_failure(struct ls_tls_conn *c, int r) {
    int saved = errno;
    int e = SSL_get_error(c->ssl, r), fl;
    const char *peer = c->server ? "client" : "server";

    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        ERR_clear_error();
        c->wants_write = e == SSL_ERROR_WANT_WRITE;
        /* On a blocking socket (the client's, unless its owner changed that) only a
         * signal makes OpenSSL give up waiting. */
        fl = fcntl(c->fd, F_GETFL);
        return fl >= 0 && !(fl & O_NONBLOCK) ? -EINTR : -EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
        ERR_clear_error();
        snprintf(c->error, sizeof(c->error), "the %s closed the connection", peer);
        return 0;
    case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        c->fatal = true;
        if (saved == 0 || saved == EAGAIN || saved == EWOULDBLOCK)
            saved = ECONNRESET;
        snprintf(c->error, sizeof(c->error), "connection with the %s: %s", peer,
                 strerrordesc_np(saved) ? strerrordesc_np(saved) : "system error");
        return -saved;
    case SSL_ERROR_SSL:
        c->fatal = true;
        return ssl_failure(c);
    default:
        drain_errors(c->error, sizeof(c->error));
        c->fatal = true;
        return -EPROTO;
    }
}

int tls_conn_finish(struct ls_tls_conn *c) {
    const char *peer = c->server ? "client" : "server";
    X509 *cert = SSL_get0_peer_certificate(c->ssl);
    /* Both were checked by OpenSSL (verify mode); a belt to those braces. */
    if (!cert || SSL_get_verify_result(c->ssl) != X509_V_OK) {
        snprintf(c->error, sizeof(c->error), "%s certificate was not verified", peer);
        c->fatal = true;
        return -EACCES;
    }
    if (!c->subject && read_names(c, cert) < 0) {
        snprintf(c->error, sizeof(c->error), "%s certificate refused: %s", peer, c->name_error);
        c->fatal = true;
        return -EACCES;
    }
    c->done = true;
    c->wants_write = false;
    return 0;
}

/* ---- public API: server ----------------------------------------------------------- */

int ls_tls_server_new(const char *cert, const char *key, const char *ca, struct ls_tls_server **ret,
                      struct ls_error *err) {
    SSL_CTX *ctx = NULL;
    if (!ret)
        return tls_fail(err, EINVAL, "no place for the server");
    int r = tls_ctx_new(true, cert, key, ca, &ctx, err);
    if (r < 0)
        return r;
    struct ls_tls_server *s = calloc(1, sizeof(*s));
    if (!s) {
        SSL_CTX_free(ctx);
        return tls_fail(err, ENOMEM, "allocate the TLS server");
    }
    s->ctx = ctx;
    *ret = s;
    return 0;
}

struct ls_tls_server *ls_tls_server_free(struct ls_tls_server *s) {
    if (s) {
        SSL_CTX_free(s->ctx); /* connections hold their own reference */
        free(s);
    }
    return NULL;
}

int ls_tls_conn_accept(struct ls_tls_server *s, int fd, struct ls_tls_conn **ret,
                       struct ls_error *err) {
    if (!s || fd < 0 || !ret)
        return tls_fail(err, EINVAL, "accept: no server, socket or place for the connection");
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return ls_error_set(err, errno, "tls", "accept: fcntl on socket %d", fd);
    /* A blocking socket would let one slow client stall the supervisor's loop. */
    if (!(fl & O_NONBLOCK))
        return tls_fail(err, EINVAL, "accept: socket %d is blocking; it must be non-blocking", fd);
    return tls_conn_new(s->ctx, fd, true, ret, err);
}

int ls_tls_conn_handshake(struct ls_tls_conn *c, struct ls_error *err) {
    if (!c)
        return tls_fail(err, EINVAL, "handshake: no connection");
    if (c->done)
        return 0;
    if (c->fatal)
        return tls_fail(err, EPROTO, "%s", c->error[0] ? c->error : "the connection failed");
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(c->ssl);
    if (r != 1) {
        r = tls_conn_failure(c, r);
        if (r == -EAGAIN || r == -EINTR)
            return r;
        if (r == 0) {
            c->fatal = true;
            snprintf(c->error, sizeof(c->error),
                     "the %s closed the connection during the handshake",
                     c->server ? "client" : "server");
            r = -ECONNRESET;
        }
        return tls_fail(err, -r, "%s", c->error);
    }
    r = tls_conn_finish(c);
    if (r < 0)
        return tls_fail(err, -r, "%s", c->error);
    return 0;
}

/* ---- public API: both sides --------------------------------------------------------- */

ssize_t ls_tls_conn_read(struct ls_tls_conn *c, void *buf, size_t len) {
    size_t n = 0;
    if (!c || !buf || len == 0)
        return -EINVAL;
    if (!c->done)
        return -ENOTCONN;
    if (len > SSIZE_MAX)
        len = SSIZE_MAX;
    ERR_clear_error();
    errno = 0;
    if (SSL_read_ex(c->ssl, buf, len, &n) == 1) {
        c->wants_write = false;
        return (ssize_t)n;
    }
    return tls_conn_failure(c, 0);
}

ssize_t ls_tls_conn_write(struct ls_tls_conn *c, const void *buf, size_t len) {
    size_t n = 0;
    if (!c || (!buf && len > 0))
        return -EINVAL;
    if (!c->done)
        return -ENOTCONN;
    if (len == 0)
        return 0;
    if (len > SSIZE_MAX)
        len = SSIZE_MAX;
    ERR_clear_error();
    errno = 0;
    if (SSL_write_ex(c->ssl, buf, len, &n) == 1) {
        c->wants_write = false;
        return (ssize_t)n;
    }
    int r = tls_conn_failure(c, 0);
    if (r == 0) {
        /* close_notify arrived: this side may not write any more either. */
        c->fatal = true;
        r = -EPIPE;
    }
    return r;
}

bool ls_tls_conn_wants_write(const struct ls_tls_conn *c) {
    return c && c->wants_write;
}

size_t ls_tls_conn_pending(const struct ls_tls_conn *c) {
    if (!c || !c->done)
        return 0;
    int n = SSL_pending(c->ssl);
    return n > 0 ? (size_t)n : 0;
}

const char *ls_tls_conn_peer_cn(const struct ls_tls_conn *c) {
    return c && c->done ? c->cn : NULL;
}

const char *ls_tls_conn_peer_ou(const struct ls_tls_conn *c) {
    return c && c->done ? c->ou : NULL;
}

const char *ls_tls_conn_peer_subject(const struct ls_tls_conn *c) {
    return c && c->done ? c->subject : NULL;
}

int ls_tls_conn_identity(const struct ls_tls_conn *c, char *buf, size_t size) {
    if (!c || !buf)
        return -EINVAL;
    if (!c->done || !c->cn || !c->ou)
        return -ENOENT;
    int n = snprintf(buf, size, "agent:%s/%s", c->ou, c->cn);
    if (n < 0 || (size_t)n >= size)
        return -ENOBUFS;
    return 0;
}

const char *ls_tls_conn_error(const struct ls_tls_conn *c) {
    return c ? c->error : "";
}

struct ls_tls_conn *ls_tls_conn_free(struct ls_tls_conn *c) {
    if (!c)
        return NULL;
    if (c->ssl) {
        /* close_notify tells the peer the stream was not cut short; OpenSSL forbids
         * it after a fatal error.  Best effort: the send does not wait (closing). */
        if (c->done && !c->fatal) {
            c->closing = true;
            ERR_clear_error();
            (void)SSL_shutdown(c->ssl);
        }
        SSL_free(c->ssl);
        ERR_clear_error();
    }
    free(c->cn);
    free(c->ou);
    free(c->subject);
    free(c);
    return NULL;
}
