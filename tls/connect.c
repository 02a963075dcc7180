/*
 * connect.c - the blocking TLS client: parse "host:port", connect over TCP, run the
 * handshake, wait for the server's verdict on our certificate, then hand back a plain
 * blocking socket.
 *
 * timeout_ms bounds the TCP connect, the handshake and the wait for the verdict
 * together (one deadline, poll on a non-blocking socket).  Name resolution
 * (getaddrinfo) is not bounded by it.  Once connected the socket is blocking with no
 * SO_RCVTIMEO, so a long run is never cut short by a timeout.
 *
 * Why the verdict: in TLS 1.3 the client's handshake is over before the server has
 * looked at the client's certificate.  The server (tls.c) sends one NewSessionTicket
 * after accepting it; a server that refuses it sends an alert instead.  Waiting for one
 * or the other makes a refused certificate an -EACCES from connect, with the reason,
 * rather than a reset at the first read.
 */
#include "labstack/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "labstack/error.h"
#include "labstack/macros.h"
#include "tls-internal.h"

int tls_addr_parse(const char *addr, char *host, size_t host_size, unsigned *port,
                   struct ls_error *err) {
    const char *h, *p;
    size_t hlen;
    bool bracketed = false;

    if (!addr || !*addr)
        return tls_fail(err, EINVAL, "empty address; expected host:port");
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close[1] != ':')
            return tls_fail(err, EINVAL, "address \"%s\" is not [IPv6]:port", addr);
        h = addr + 1;
        hlen = (size_t)(close - h);
        p = close + 2;
        bracketed = true;
    } else {
        const char *colon = strrchr(addr, ':');
        if (!colon)
            return tls_fail(err, EINVAL, "address \"%s\" has no port; expected host:port", addr);
        if (memchr(addr, ':', (size_t)(colon - addr)))
            return tls_fail(err, EINVAL, "address \"%s\": write an IPv6 address as [IPv6]:port",
                            addr);
        h = addr;
        hlen = (size_t)(colon - addr);
        p = colon + 1;
    }
    if (hlen == 0)
        return tls_fail(err, EINVAL, "address \"%s\" has no host", addr);
    if (hlen >= host_size)
        return tls_fail(err, EINVAL, "address \"%s\": host longer than %zu bytes", addr,
                        host_size - 1);
    for (size_t i = 0; i < hlen; i++)
        if ((unsigned char)h[i] <= ' ' || (unsigned char)h[i] >= 0x7f || h[i] == '/')
            return tls_fail(err, EINVAL, "address \"%s\": invalid character in the host", addr);

    unsigned long v = 0;
    size_t digits = strlen(p);
    if (digits == 0 || digits > 5 || strspn(p, "0123456789") != digits)
        return tls_fail(err, EINVAL, "address \"%s\": the port is not a number", addr);
    v = strtoul(p, NULL, 10);
    if (v < 1 || v > 65535)
        return tls_fail(err, EINVAL, "address \"%s\": port %lu is not in 1..65535", addr, v);

    memcpy(host, h, hlen);
    host[hlen] = '\0';
    if (bracketed) {
        struct in6_addr a6;
        if (inet_pton(AF_INET6, host, &a6) != 1)
            return tls_fail(err, EINVAL, "address \"%s\": \"%s\" is not an IPv6 address", addr,
                            host);
    }
    *port = (unsigned)v;
    return 0;
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait until fd has events or the deadline passes: 0 (the next call tells whether it
 * was an error), -ETIMEDOUT, or -errno of poll. */
static int wait_fd(int fd, short events, uint64_t deadline) {
    for (;;) {
        uint64_t now = now_ms();
        if (now >= deadline)
            return -ETIMEDOUT;
        uint64_t left = deadline - now;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (n < 0 && errno != EINTR)
            return -errno;
        if (n > 0)
            return 0;
    }
}

static bool is_ip_literal(const char *host) {
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int connect_one(const struct addrinfo *ai, uint64_t deadline, int *ret) {
    _cleanup_close_ int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS && errno != EINTR)
            return -errno;
        int r = wait_fd(fd, POLLOUT, deadline);
        if (r < 0)
            return r;
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
            return -errno;
        if (soerr)
            return -soerr;
    }
    /* Frames are written whole; do not hold the last segment back (Nagle). */
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    *ret = TAKE_FD(fd);
    return 0;
}

/* A TCP connection to host:port, non-blocking, O_CLOEXEC; each address in turn. */
static int tcp_connect(const char *addr, const char *host, unsigned port, uint64_t deadline,
                       int timeout_ms, int *ret, struct ls_error *err) {
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char service[8];

    if (is_ip_literal(host))
        hints.ai_flags |= AI_NUMERICHOST;
    snprintf(service, sizeof(service), "%u", port);
    int g = getaddrinfo(host, service, &hints, &res);
    if (g != 0) {
        int code = g == EAI_SYSTEM ? errno : g == EAI_MEMORY ? ENOMEM : EHOSTUNREACH;
        return tls_fail(err, code ? code : EHOSTUNREACH, "connect to %s: resolve %s: %s", addr,
                        host, g == EAI_SYSTEM ? strerrordesc_np(code) : gai_strerror(g));
    }
    int r = -EHOSTUNREACH;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        r = connect_one(ai, deadline, ret);
        if (r == 0 || r == -ETIMEDOUT)
            break;
    }
    freeaddrinfo(res);
    if (r == -ETIMEDOUT)
        return tls_fail(err, ETIMEDOUT, "connect to %s: no TCP connection within %d ms", addr,
                        timeout_ms);
    if (r < 0)
        return ls_error_set(err, r, "tls", "connect to %s", addr);
    return 0;
}

/* The server name or IP the server's certificate must carry. */
static int expect_peer_name(struct ls_tls_conn *c, const char *host, struct ls_error *err) {
    if (is_ip_literal(host)) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host) != 1)
            return tls_fail(err, EINVAL, "cannot check the server's certificate for IP %s", host);
        return 0;
    }
    SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set1_host(c->ssl, host) != 1 || SSL_set_tlsext_host_name(c->ssl, host) != 1)
        return tls_fail(err, EINVAL, "cannot check the server's certificate for name %s", host);
    return 0;
}

/* Notes the server's NewSessionTicket: it has accepted our certificate. */
static void on_message(int write_p, int version, int content_type, const void *buf, size_t len,
                       SSL *ssl, void *arg) {
    struct ls_tls_conn *c = arg;
    const unsigned char *b = buf;
    if (!write_p && content_type == SSL3_RT_HANDSHAKE && len > 0 &&
        b[0] == SSL3_MT_NEWSESSION_TICKET)
        c->confirmed = true;
}

/* Handshake, then the server's verdict, within the deadline. */
static int handshake(struct ls_tls_conn *c, const char *addr, uint64_t deadline, int timeout_ms,
                     struct ls_error *err) {
    int r;
    for (;;) {
        ERR_clear_error();
        errno = 0;
        r = SSL_do_handshake(c->ssl);
        if (r == 1)
            break;
        r = tls_conn_failure(c, r);
        if (r == -EAGAIN) {
            r = wait_fd(c->fd, c->wants_write ? POLLOUT : POLLIN, deadline);
            if (r == -ETIMEDOUT)
                return tls_fail(err, ETIMEDOUT, "connect to %s: no TLS handshake within %d ms",
                                addr, timeout_ms);
            if (r < 0)
                return ls_error_set(err, r, "tls", "connect to %s: poll", addr);
            continue;
        }
        if (r == 0)
            return tls_fail(err, ECONNRESET,
                            "connect to %s: the server closed the connection during the handshake",
                            addr);
        return tls_fail(err, -r, "connect to %s: %s", addr, c->error);
    }
    r = tls_conn_finish(c);
    if (r < 0)
        return tls_fail(err, -r, "connect to %s: %s", addr, c->error);

    while (!c->confirmed) {
        unsigned char b;
        size_t n;
        ERR_clear_error();
        errno = 0;
        /* Peek: application data (a server that speaks first) also means accepted. */
        if (SSL_peek_ex(c->ssl, &b, 1, &n) == 1)
            break;
        r = tls_conn_failure(c, 0);
        if (r == -EAGAIN) {
            if (c->confirmed)
                break;
            r = wait_fd(c->fd, c->wants_write ? POLLOUT : POLLIN, deadline);
            if (r == -ETIMEDOUT)
                return tls_fail(err, ETIMEDOUT,
                                "connect to %s: the server did not accept or refuse our "
                                "certificate within %d ms",
                                addr, timeout_ms);
            if (r < 0)
                return ls_error_set(err, r, "tls", "connect to %s: poll", addr);
            continue;
        }
        if (r == 0)
            return tls_fail(
                err, ECONNRESET,
                "connect to %s: the server closed the connection right after the handshake", addr);
        return tls_fail(err, -r, "connect to %s: %s", addr, c->error);
    }
    c->wants_write = false;
    return 0;
}

static void ctx_freep(SSL_CTX **p) {
    SSL_CTX_free(*p);
}

static void conn_freep(struct ls_tls_conn **p) {
    ls_tls_conn_free(*p);
}

int ls_tls_client_connect(const char *addr, const char *cert, const char *key, const char *ca,
                          int timeout_ms, int *ret_fd, struct ls_tls_conn **ret,
                          struct ls_error *err) {
    _cleanup_(ctx_freep) SSL_CTX *ctx = NULL;
    _cleanup_close_ int fd = -EBADF;
    _cleanup_(conn_freep) struct ls_tls_conn *c = NULL; /* freed before fd is closed */
    char host[256];
    unsigned port;
    int r;

    if (!ret_fd || !ret)
        return tls_fail(err, EINVAL, "connect: no place for the socket or the connection");
    if (timeout_ms <= 0)
        return tls_fail(err, EINVAL, "connect: the timeout must be positive, not %d ms",
                        timeout_ms);
    r = tls_addr_parse(addr, host, sizeof(host), &port, err);
    if (r < 0)
        return r;
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

    r = tls_ctx_new(false, cert, key, ca, &ctx, err);
    if (r < 0)
        return r;
    r = tcp_connect(addr, host, port, deadline, timeout_ms, &fd, err);
    if (r < 0)
        return r;
    r = tls_conn_new(ctx, fd, false, &c, err);
    if (r < 0)
        return r;
    SSL_set_msg_callback(c->ssl, on_message);
    SSL_set_msg_callback_arg(c->ssl, c);
    r = expect_peer_name(c, host, err);
    if (r < 0)
        return r;
    r = handshake(c, addr, deadline, timeout_ms, err);
    if (r < 0)
        return r;

    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
        return ls_error_set(err, errno, "tls", "connect to %s: make the socket blocking", addr);
    *ret_fd = TAKE_FD(fd);
    *ret = TAKE_PTR(c);
    return 0;
}
