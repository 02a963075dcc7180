/*
 * test_tls.c - mutual TLS (tls/): the non-blocking server side driven by poll in a
 * thread, as the supervisor drives it, against the blocking client, on 127.0.0.1 only.
 *
 * Certificates come from tests/tls/make-certs ($TLS_MAKE_CERTS, set by meson) in a
 * scratch directory.  Checked: a trusted client gets in with the right CN/OU/subject and
 * identity, and data (up to 1 MiB, through partial writes and -EAGAIN on both sides)
 * echoes intact; refused with -EACCES on the server: a certificate from another CA, no
 * certificate, an expired one, a '/' in the OU, a control character in the CN; refused
 * as a protocol error: a TLS 1.2-only client; the client refuses a server signed by
 * another CA or made out for another name or IP; connect is bounded by its timeout; a
 * write to a closed peer gives -EPIPE/-ECONNRESET without SIGPIPE; a session cannot be
 * resumed; failed connects leave no fd behind; a signal interrupts a blocking read with
 * -EINTR and the connection goes on; bad arguments and files give -EINVAL/-ENOENT/-EPROTO
 * with a message.
 *
 * SIGPIPE is blocked (not ignored) in every thread, so a stray one stays pending where
 * the no-SIGPIPE test can see it instead of killing the run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "labstack/error.h"
#include "labstack/tls.h"
#include "../../tls/tls-internal.h"

#define MIB (1024 * 1024)
#define TIMEOUT_MS 5000

static char certdir[] = "/tmp/test_tls.XXXXXX";

/* A path in certdir; a ring of buffers so that one call can use several. */
static const char *P(const char *name) {
    static char ring[8][256];
    static unsigned next;
    char *buf = ring[next++ % 8];
    snprintf(buf, sizeof(ring[0]), "%s/%s", certdir, name);
    return buf;
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the server: one connection at a time, handshake then echo ------------------ */

struct result {
    int handshake; /* 0 or -errno */
    struct ls_error err;
    char cn[80], ou[80], subject[256], identity[160];
    int end; /* how the echo ended: 0 at close_notify, or -errno */
    size_t echoed;
    int write_eagain; /* writes that returned -EAGAIN */
    bool saw_pending; /* a read left decrypted bytes in OpenSSL */
};

struct server {
    struct ls_tls_server *tls;
    int lfd, port, stop[2];
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done; /* connections finished */
    int next; /* test side: index of the next connection */
    struct result results[64];
};

static struct server good, other;

/* Wait for fd (and the stop pipe): 1 ready, 0 timeout, -1 stop. */
static int wait_for(struct server *s, int fd, short events, int timeout_ms) {
    struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = s->stop[0], .events = POLLIN}};
    int n = poll(p, 2, timeout_ms);
    if (n <= 0)
        return 0;
    return p[1].revents ? -1 : 1;
}

static void echo(struct server *s, struct ls_tls_conn *c, int fd, struct result *res) {
    char buf[1000];
    char *out = NULL;
    size_t len = 0, cap = 0, off = 0;
    bool eof = false, read_wants_write = false, write_wants_write = false;

    for (;;) {
        while (!eof) {
            ssize_t n = ls_tls_conn_read(c, buf, sizeof(buf));
            if (n > 0) {
                if (ls_tls_conn_pending(c) > 0)
                    res->saw_pending = true;
                if (len + (size_t)n > cap) {
                    cap = cap ? cap * 2 : 65536;
                    out = realloc(out, cap); /* moves under a pending write: allowed */
                }
                memcpy(out + len, buf, (size_t)n);
                len += (size_t)n;
                if (len == 3 && memcmp(out, "BYE", 3) == 0) {
                    res->end = 0;
                    goto out;
                }
                continue;
            }
            if (n == 0)
                eof = true;
            else if (n == -EAGAIN)
                read_wants_write = ls_tls_conn_wants_write(c);
            else {
                res->end = (int)n;
                goto out;
            }
            break;
        }
        while (off < len) {
            ssize_t n = ls_tls_conn_write(c, out + off, len - off);
            if (n > 0) {
                off += (size_t)n;
                res->echoed += (size_t)n;
                continue;
            }
            if (n != -EAGAIN) {
                res->end = (int)n;
                goto out;
            }
            res->write_eagain++;
            write_wants_write = ls_tls_conn_wants_write(c);
            break;
        }
        if (eof && off == len) {
            res->end = 0;
            goto out;
        }
        short events = 0;
        if (!eof)
            events |= read_wants_write ? POLLOUT : POLLIN;
        if (off < len)
            events |= write_wants_write ? POLLOUT : POLLIN;
        if (wait_for(s, fd, events, 10000) <= 0) {
            res->end = -ETIMEDOUT;
            goto out;
        }
    }
out:
    free(out);
}

static void serve(struct server *s, int fd, struct result *res) {
    struct ls_tls_conn *c = NULL;
    int r = ls_tls_conn_accept(s->tls, fd, &c, &res->err);
    if (r == 0) {
        uint64_t deadline = now_ms() + TIMEOUT_MS;
        while ((r = ls_tls_conn_handshake(c, &res->err)) == -EAGAIN) {
            uint64_t now = now_ms();
            if (now >= deadline || wait_for(s, fd, ls_tls_conn_wants_write(c) ? POLLOUT : POLLIN,
                                            (int)(deadline - now)) <= 0) {
                r = -ETIMEDOUT;
                break;
            }
        }
    }
    res->handshake = r;
    if (r == 0) {
        const char *cn = ls_tls_conn_peer_cn(c), *ou = ls_tls_conn_peer_ou(c);
        snprintf(res->cn, sizeof(res->cn), "%s", cn ? cn : "(null)");
        snprintf(res->ou, sizeof(res->ou), "%s", ou ? ou : "(null)");
        snprintf(res->subject, sizeof(res->subject), "%s", ls_tls_conn_peer_subject(c));
        if (ls_tls_conn_identity(c, res->identity, sizeof(res->identity)) < 0)
            snprintf(res->identity, sizeof(res->identity), "(none)");
        /* Small send buffer: the 1 MiB echo must go through -EAGAIN and retries. */
        int small = 8192;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
        echo(s, c, fd, res);
    }
    ls_tls_conn_free(c);
    close(fd);
}

static void *server_main(void *arg) {
    struct server *s = arg;
    for (;;) {
        if (wait_for(s, s->lfd, POLLIN, -1) < 0)
            return NULL;
        int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&s->lock);
        struct result *res = &s->results[s->done % 64];
        pthread_mutex_unlock(&s->lock);
        memset(res, 0, sizeof(*res));
        serve(s, fd, res);
        pthread_mutex_lock(&s->lock);
        s->done++;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
    }
}

static int listen_loopback(int backlog, int *ret_port) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    *ret_port = ntohs(a.sin_port);
    return fd;
}

static void server_start(struct server *s, const char *cert, const char *key) {
    struct ls_error err = {0};
    memset(s, 0, sizeof(*s));
    int r = ls_tls_server_new(P(cert), P(key), P("ca.pem"), &s->tls, &err);
    if (r < 0)
        fail_msg("ls_tls_server_new: %s", err.msg);
    s->lfd = listen_loopback(16, &s->port);
    assert_int_equal(pipe2(s->stop, O_CLOEXEC), 0);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_stop(struct server *s) {
    if (!s->tls)
        return;
    close(s->stop[1]);
    pthread_join(s->thread, NULL);
    close(s->stop[0]);
    close(s->lfd);
    s->tls = ls_tls_server_free(s->tls);
}

/* The server's result for connection idx (waits for it). */
static const struct result *await(struct server *s, int idx) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 15;
    pthread_mutex_lock(&s->lock);
    while (s->done <= idx)
        if (pthread_cond_timedwait(&s->cond, &s->lock, &until) != 0)
            break;
    bool ok = s->done > idx;
    pthread_mutex_unlock(&s->lock);
    if (!ok)
        fail_msg("the server did not finish connection %d", idx);
    return &s->results[idx % 64];
}

static int count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    assert_non_null(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void addr_of(const struct server *s, const char *host, char *buf, size_t size) {
    snprintf(buf, size, "%s:%d", host, s->port);
}

/* ls_tls_client_connect with certificates from certdir. */
static int connect_as(const struct server *s, const char *host, const char *name, const char *ca,
                      int *fd, struct ls_tls_conn **c, struct ls_error *err) {
    char addr[64], cert[64], key[64];
    addr_of(s, host, addr, sizeof(addr));
    snprintf(cert, sizeof(cert), "%s.pem", name);
    snprintf(key, sizeof(key), "%s.key", name);
    ls_error_clear(err);
    return ls_tls_client_connect(addr, P(cert), P(key), P(ca), TIMEOUT_MS, fd, c, err);
}

static void write_all(struct ls_tls_conn *c, const void *buf, size_t len, bool *partial) {
    size_t off = 0;
    while (off < len) {
        ssize_t n = ls_tls_conn_write(c, (const char *)buf + off, len - off);
        if (n <= 0)
            fail_msg("write: %zd (%s)", n, ls_tls_conn_error(c));
        if ((size_t)n < len - off && partial)
            *partial = true;
        off += (size_t)n;
    }
}

static void read_all(struct ls_tls_conn *c, void *buf, size_t len) {
    size_t off = 0;
    while (off < len) {
        ssize_t n = ls_tls_conn_read(c, (char *)buf + off, len - off);
        if (n <= 0)
            fail_msg("read: %zd after %zu of %zu bytes (%s)", n, off, len, ls_tls_conn_error(c));
        off += (size_t)n;
    }
}

/* ---- a raw OpenSSL client, for what ls_tls_client_connect will not do -------------- */

/* Handshake with the good server as a client that presents cert (NULL: none) and
 * speaks at most max_version, then have one byte echoed.  Returns 1 if both worked, 0 if the
 * handshake worked but the read failed (refused after it), -1 if the handshake failed. */
static int raw_client_session(const char *cert, int max_version, SSL_SESSION *resume,
                              SSL_SESSION **ret_session, bool *ret_reused) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(ctx);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, max_version);
    assert_int_equal(SSL_CTX_load_verify_locations(ctx, P("ca.pem"), NULL), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (cert) {
        char pem[64], key[64];
        snprintf(pem, sizeof(pem), "%s.pem", cert);
        snprintf(key, sizeof(key), "%s.key", cert);
        assert_int_equal(SSL_CTX_use_certificate_file(ctx, P(pem), SSL_FILETYPE_PEM), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, P(key), SSL_FILETYPE_PEM), 1);
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)good.port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (resume)
        assert_int_equal(SSL_set_session(ssl, resume), 1);
    int ret = -1;
    if (SSL_connect(ssl) == 1) {
        char b;
        ret = SSL_write(ssl, "x", 1) == 1 && SSL_read(ssl, &b, 1) == 1 ? 1 : 0;
        if (ret_reused)
            *ret_reused = SSL_session_reused(ssl);
        if (ret_session) /* after the read: the server's ticket has been processed */
            *ret_session = SSL_get1_session(ssl);
        /* Without it SSL_free marks the session "bad", not resumable. */
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    close(fd);
    return ret;
}

static int raw_client(const char *cert, int max_version) {
    return raw_client_session(cert, max_version, NULL, NULL, NULL);
}

/* ---- tests ----------------------------------------------------------------------- */

static void trusted_client_echoes(void **state) {
    struct ls_error err;
    struct ls_tls_conn *c = NULL;
    int fd = -1, idx = good.next++;

    int r = connect_as(&good, "127.0.0.1", "client", "ca.pem", &fd, &c, &err);
    if (r < 0)
        fail_msg("connect: %d %s", r, err.msg);
    /* The client's socket: CLOEXEC, and blocking (no timeout cuts a long run). */
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
    /* The client sees the server's names. */
    assert_string_equal(ls_tls_conn_peer_cn(c), "labstack-supervisor");
    assert_null(ls_tls_conn_peer_ou(c));
    assert_string_equal(ls_tls_conn_peer_subject(c), "CN=labstack-supervisor");
    char id[64];
    assert_int_equal(ls_tls_conn_identity(c, id, sizeof(id)), -ENOENT);

    char small[5];
    write_all(c, "hello", 5, NULL);
    read_all(c, small, 5);
    assert_memory_equal(small, "hello", 5);

    /* 1 MiB each way: the client's writes are partial (one record at a time), the
     * server's hit -EAGAIN on its 8 KiB send buffer and are retried. */
    char *big = malloc(MIB), *back = malloc(MIB);
    assert_non_null(big);
    assert_non_null(back);
    for (size_t i = 0; i < MIB; i++)
        big[i] = (char)(i * 7 + i / 4096);
    bool partial = false;
    write_all(c, big, MIB, &partial);
    assert_true(partial);
    read_all(c, back, MIB);
    assert_memory_equal(big, back, MIB);
    free(big);
    free(back);

    ls_tls_conn_free(c);
    close(fd);

    const struct result *res = await(&good, idx);
    assert_int_equal(res->handshake, 0);
    assert_string_equal(res->cn, "host-12");
    assert_string_equal(res->ou, "qa");
    assert_string_equal(res->subject, "CN=host-12,OU=qa");
    assert_string_equal(res->identity, "agent:qa/host-12");
    assert_int_equal(res->end, 0); /* close_notify from ls_tls_conn_free */
    assert_int_equal(res->echoed, 5 + MIB);
    assert_true(res->write_eagain > 0);
    assert_true(res->saw_pending);
}

static void second_client_and_host_name(void **state) {
    struct ls_error err;
    struct ls_tls_conn *c = NULL;
    int fd = -1, idx = good.next++;
    char b[3];

    /* By name: the server's certificate has DNS:localhost. */
    int r = connect_as(&good, "localhost", "client2", "ca.pem", &fd, &c, &err);
    if (r < 0)
        fail_msg("connect: %d %s", r, err.msg);
    write_all(c, "abc", 3, NULL);
    read_all(c, b, 3);
    assert_memory_equal(b, "abc", 3);
    ls_tls_conn_free(c);
    close(fd);
    const struct result *res = await(&good, idx);
    assert_int_equal(res->handshake, 0);
    assert_string_equal(res->cn, "host-7");
    assert_string_equal(res->ou, "dev");
    assert_string_equal(res->identity, "agent:dev/host-7");
}

/* A client certificate the server must refuse: the client's connect and the server's
 * handshake both fail with -EACCES, and each message says why. */
static void refused(const char *name, const char *server_says, const char *client_says) {
    struct ls_error err;
    struct ls_tls_conn *c = NULL;
    int fd = -1, idx = good.next++;

    int r = connect_as(&good, "127.0.0.1", name, "ca.pem", &fd, &c, &err);
    assert_int_equal(r, -EACCES);
    assert_null(c);
    assert_int_equal(err.code, EACCES);
    if (!strstr(err.msg, client_says))
        fail_msg("%s: client message \"%s\" lacks \"%s\"", name, err.msg, client_says);
    const struct result *res = await(&good, idx);
    print_message("%s: client: %s\n%s: server: %s\n", name, err.msg, name, res->err.msg);
    assert_int_equal(res->handshake, -EACCES);
    assert_int_equal(res->err.code, EACCES);
    if (!strstr(res->err.msg, server_says))
        fail_msg("%s: server message \"%s\" lacks \"%s\"", name, res->err.msg, server_says);
}

static void rogue_client_refused(void **state) {
    refused("rogue-client", "client certificate refused: unable to get local issuer",
            "the server refused our certificate");
}

static void expired_client_refused(void **state) {
    refused("expired-client", "client certificate refused: certificate has expired",
            "the server refused our certificate (sslv3 alert certificate expired)");
}

static void ambiguous_names_refused(void **state) {
    refused("slash-client", "its OU contains '/'", "the server refused our certificate");
    refused("ctrl-client", "its CN has a control character", "the server refused our certificate");
}

static void client_without_certificate_refused(void **state) {
    int idx = good.next++;
    /* The TLS 1.3 client finishes first; the refusal arrives at its first read. */
    assert_int_equal(raw_client(NULL, TLS1_3_VERSION), 0);
    const struct result *res = await(&good, idx);
    assert_int_equal(res->handshake, -EACCES);
    assert_non_null(strstr(res->err.msg, "the client sent no certificate"));
}

static void tls12_client_refused(void **state) {
    int idx = good.next++;
    assert_int_equal(raw_client("client", TLS1_2_VERSION), -1);
    const struct result *res = await(&good, idx);
    assert_int_equal(res->handshake, -EPROTO);
    if (!strstr(res->err.msg, "does not speak TLS 1.3"))
        fail_msg("server message: %s", res->err.msg);
    /* The same raw client with 1.3 allowed gets in: the test client itself is sound. */
    idx = good.next++;
    assert_int_equal(raw_client("client", TLS1_3_VERSION), 1);
    assert_int_equal(await(&good, idx)->handshake, 0);
}

/* Nothing outlives a connection: the server's one ticket cannot resume a session, so
 * every connection verifies a certificate afresh. */
static void no_session_resumption(void **state) {
    SSL_SESSION *sess = NULL;
    bool reused = true;
    int idx = good.next++;
    assert_int_equal(raw_client_session("client", TLS1_3_VERSION, NULL, &sess, NULL), 1);
    assert_non_null(sess);
    assert_int_equal(await(&good, idx)->handshake, 0);
    assert_true(SSL_SESSION_is_resumable(sess)); /* the client would try */
    idx = good.next++;
    assert_int_equal(raw_client_session("client", TLS1_3_VERSION, sess, NULL, &reused), 1);
    assert_false(reused);
    assert_int_equal(await(&good, idx)->handshake, 0);
    SSL_SESSION_free(sess);
}

static void wrong_ca_refuses_server(void **state) {
    struct ls_error err;
    struct ls_tls_conn *c = NULL;
    int fd = -1, idx = good.next++;

    int r = connect_as(&good, "127.0.0.1", "client", "rogue-ca.pem", &fd, &c, &err);
    assert_int_equal(r, -EACCES);
    /* The server sends its chain up to the CA, which the rogue CA file does not hold. */
    if (!strstr(err.msg, "server certificate refused: self-signed certificate in certificate"))
        fail_msg("client message: %s", err.msg);
    /* The server learns that its client does not trust it: not an access failure. */
    const struct result *res = await(&good, idx);
    assert_int_equal(res->handshake, -EPROTO);
    assert_non_null(strstr(res->err.msg, "the client refused our certificate"));
}

static void wrong_name_refuses_server(void **state) {
    struct ls_error err;
    struct ls_tls_conn *c = NULL;
    int fd = -1;

    /* server-other is signed by the right CA, for DNS:other.invalid and IP:192.0.2.1. */
    int idx = other.next++;
    assert_int_equal(connect_as(&other, "127.0.0.1", "client", "ca.pem", &fd, &c, &err), -EACCES);
    if (!strstr(err.msg, "server certificate refused: IP address mismatch"))
        fail_msg("client message: %s", err.msg);
    assert_int_equal(await(&other, idx)->handshake, -EPROTO);

    idx = other.next++;
    assert_int_equal(connect_as(&other, "localhost", "client", "ca.pem", &fd, &c, &err), -EACCES);
    if (!strstr(err.msg, "server certificate refused: hostname mismatch"))
        fail_msg("client message: %s", err.msg);
    assert_int_equal(await(&other, idx)->handshake, -EPROTO);
}

static void connect_timeout_is_bounded(void **state) {
    struct ls_error err;
    struct ls_tls_conn *c = NULL;
    int fd = -1, port;
    char addr[64];

    /* Listens (the kernel completes the TCP handshake) but never accepts. */
    int fds_before = count_fds();
    int lfd = listen_loopback(4, &port);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    uint64_t t0 = now_ms();
    int r = ls_tls_client_connect(addr, P("client.pem"), P("client.key"), P("ca.pem"), 300, &fd, &c,
                                  &err);
    uint64_t took = now_ms() - t0;
    assert_int_equal(r, -ETIMEDOUT);
    assert_null(c);
    assert_true(took >= 290 && took < 2000);
    if (!strstr(err.msg, "no TLS handshake within 300 ms"))
        fail_msg("message: %s", err.msg);
    close(lfd);

    /* Nothing listening: refused at once. */
    lfd = listen_loopback(1, &port);
    close(lfd);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    r = ls_tls_client_connect(addr, P("client.pem"), P("client.key"), P("ca.pem"), 300, &fd, &c,
                              &err);
    assert_int_equal(r, -ECONNREFUSED);
    assert_non_null(strstr(err.msg, "Connection refused"));
    /* Failed connects leave no socket behind. */
    assert_int_equal(count_fds(), fds_before);
}

static void write_to_closed_peer_no_sigpipe(void **state) {
    struct ls_error err;
    struct ls_tls_conn *c = NULL;
    int fd = -1, idx = good.next++;
    sigset_t pipe_only, pending;
    struct timespec zero = {0};

    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    while (sigtimedwait(&pipe_only, NULL, &zero) == SIGPIPE)
        ; /* forget any earlier one */

    int r = connect_as(&good, "127.0.0.1", "client", "ca.pem", &fd, &c, &err);
    if (r < 0)
        fail_msg("connect: %d %s", r, err.msg);
    write_all(c, "BYE", 3, NULL); /* the server closes */
    assert_int_equal(await(&good, idx)->end, 0);
    ssize_t n = 0;
    char chunk[4096] = {0};
    for (int i = 0; i < 100 && n >= 0; i++)
        n = ls_tls_conn_write(c, chunk, sizeof(chunk));
    assert_true(n == -EPIPE || n == -ECONNRESET);
    assert_true(strlen(ls_tls_conn_error(c)) > 0);
    assert_int_equal(sigpending(&pending), 0);
    assert_false(sigismember(&pending, SIGPIPE));
    ls_tls_conn_free(c);
    close(fd);
}

static void peer_close_reads_zero(void **state) {
    struct ls_error err;
    struct ls_tls_conn *c = NULL;
    int fd = -1, idx = good.next++;
    char b;

    int r = connect_as(&good, "127.0.0.1", "client", "ca.pem", &fd, &c, &err);
    if (r < 0)
        fail_msg("connect: %d %s", r, err.msg);
    write_all(c, "BYE", 3, NULL);
    assert_int_equal(await(&good, idx)->end, 0);
    assert_int_equal(ls_tls_conn_read(c, &b, 1), 0); /* close_notify: a clean end */
    ls_tls_conn_free(c);
    close(fd);
}

static void on_alarm(int sig) {
}

/* A signal (handler without SA_RESTART) interrupts the client's blocking read with
 * -EINTR; the connection stays usable. */
static void blocking_read_interrupted(void **state) {
    struct ls_error err;
    struct ls_tls_conn *c = NULL;
    int fd = -1, idx = good.next++;
    char b[2];
    sigset_t alrm;
    struct sigaction sa = {.sa_handler = on_alarm}, old;
    struct itimerval it = {.it_value = {.tv_usec = 100000}};

    int r = connect_as(&good, "127.0.0.1", "client", "ca.pem", &fd, &c, &err);
    if (r < 0)
        fail_msg("connect: %d %s", r, err.msg);
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    pthread_sigmask(SIG_UNBLOCK, &alrm, NULL); /* this thread only: not the servers' */
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
    assert_int_equal(ls_tls_conn_read(c, b, 1), -EINTR); /* nothing was sent: it blocks */
    pthread_sigmask(SIG_BLOCK, &alrm, NULL);
    sigaction(SIGALRM, &old, NULL);
    write_all(c, "zy", 2, NULL);
    read_all(c, b, 2);
    assert_memory_equal(b, "zy", 2);
    ls_tls_conn_free(c);
    close(fd);
    assert_int_equal(await(&good, idx)->end, 0);
}

static void bad_files(void **state) {
    struct ls_error err;
    struct ls_tls_server *s = NULL;

    assert_int_equal(ls_tls_server_new(P("nope.pem"), P("server.key"), P("ca.pem"), &s, &err),
                     -ENOENT);
    assert_non_null(strstr(err.msg, "load certificate"));
    assert_non_null(strstr(err.msg, "nope.pem: No such file or directory"));
    assert_int_equal(ls_tls_server_new(P("server.pem"), P("nope.key"), P("ca.pem"), &s, &err),
                     -ENOENT);
    assert_non_null(strstr(err.msg, "load key"));
    assert_int_equal(ls_tls_server_new(P("server.pem"), P("client.key"), P("ca.pem"), &s, &err),
                     -EPROTO);
    assert_non_null(strstr(err.msg, "does not belong to certificate"));
    /* A key is not a CA certificate. */
    assert_int_equal(ls_tls_server_new(P("server.pem"), P("server.key"), P("ca.key"), &s, &err),
                     -EPROTO);
    assert_non_null(strstr(err.msg, "load CA"));
    /* An encrypted key is refused, never prompted for. */
    assert_int_equal(system("openssl pkey -in \"$D/server.key\" -aes256 -passout pass:x "
                            "-out \"$D/encrypted.key\""),
                     0);
    assert_int_equal(ls_tls_server_new(P("server.pem"), P("encrypted.key"), P("ca.pem"), &s, &err),
                     -EPROTO);
    assert_non_null(strstr(err.msg, "encrypted.key is encrypted"));
    assert_int_equal(ls_tls_server_new(NULL, P("server.key"), P("ca.pem"), &s, &err), -EINVAL);
    assert_null(s);
    assert_null(ls_tls_server_free(NULL));
    assert_null(ls_tls_conn_free(NULL));

    /* The client's own files are checked before any connection. */
    int fd = -1;
    struct ls_tls_conn *c = NULL;
    assert_int_equal(ls_tls_client_connect("127.0.0.1:1", P("client.pem"), P("nope.key"),
                                           P("ca.pem"), 1000, &fd, &c, &err),
                     -ENOENT);
}

static void bad_arguments(void **state) {
    struct ls_error err;
    struct ls_tls_conn *c = NULL;
    int fd = -1, sv[2];

    /* A blocking socket would stall the supervisor's loop. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(ls_tls_conn_accept(good.tls, sv[0], &c, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "non-blocking"));
    /* Before the handshake there is nothing to read or write, and no names. */
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    assert_int_equal(ls_tls_conn_accept(good.tls, sv[0], &c, &err), 0);
    char b;
    assert_int_equal(ls_tls_conn_read(c, &b, 1), -ENOTCONN);
    assert_int_equal(ls_tls_conn_write(c, "x", 1), -ENOTCONN);
    assert_null(ls_tls_conn_peer_cn(c));
    assert_null(ls_tls_conn_peer_subject(c));
    assert_int_equal(ls_tls_conn_pending(c), 0);
    /* A peer that speaks something else: a protocol error, not a hang. */
    assert_int_equal(write(sv[1], "GET / HTTP/1.0\r\n\r\n", 18), 18);
    assert_int_equal(ls_tls_conn_handshake(c, &err), -EPROTO);
    assert_true(strlen(err.msg) > 0);
    ls_tls_conn_free(c);
    close(sv[0]);
    close(sv[1]);

    assert_int_equal(ls_tls_client_connect("127.0.0.1:1", P("client.pem"), P("client.key"),
                                           P("ca.pem"), 0, &fd, &c, &err),
                     -EINVAL);
    const char *bad[] = {"",
                         "127.0.0.1",
                         "127.0.0.1:",
                         ":7443",
                         "127.0.0.1:0",
                         "127.0.0.1:65536",
                         "127.0.0.1:12a",
                         "127.0.0.1:-1",
                         "[::1]7443",
                         "[::1",
                         "::1:7443",
                         "[]:7443",
                         "[host]:7443",
                         "a b:1",
                         "127.0.0.1:123456"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ls_error_clear(&err);
        int r = ls_tls_client_connect(bad[i], P("client.pem"), P("client.key"), P("ca.pem"), 1000,
                                      &fd, &c, &err);
        if (r != -EINVAL)
            fail_msg("\"%s\": %d %s", bad[i], r, err.msg);
        assert_true(strlen(err.msg) > 0);
    }
}

static void address_forms(void **state) {
    char host[64];
    unsigned port;
    assert_int_equal(tls_addr_parse("127.0.0.1:7443", host, sizeof(host), &port, NULL), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 7443);
    assert_int_equal(tls_addr_parse("[::1]:1", host, sizeof(host), &port, NULL), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 1);
    assert_int_equal(tls_addr_parse("[fe80::1:2]:65535", host, sizeof(host), &port, NULL), 0);
    assert_string_equal(host, "fe80::1:2");
    assert_int_equal(port, 65535);
    assert_int_equal(tls_addr_parse("supervisor.example:443", host, sizeof(host), &port, NULL), 0);
    assert_string_equal(host, "supervisor.example");
    assert_int_equal(tls_addr_parse("supervisor.example:443", host, 8, &port, NULL), -EINVAL);
}

/* ---- setup ----------------------------------------------------------------------- */

static int setup(void **state) {
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigaddset(&pipe_only, SIGALRM);               /* for blocking_read_interrupted's thread only */
    pthread_sigmask(SIG_BLOCK, &pipe_only, NULL); /* inherited by the server threads */

    const char *script = getenv("TLS_MAKE_CERTS");
    if (!script) {
        fprintf(stderr, "TLS_MAKE_CERTS is not set (meson test sets it to "
                        "tests/tls/make-certs)\n");
        return -1;
    }
    if (!mkdtemp(certdir))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        execl(script, script, certdir, (char *)NULL);
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s %s failed\n", script, certdir);
        return -1;
    }
    setenv("D", certdir, 1);
    server_start(&good, "server.pem", "server.key");
    server_start(&other, "server-other.pem", "server-other.key");
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    return remove(path);
}

static int teardown(void **state) {
    server_stop(&good);
    server_stop(&other);
    nftw(certdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trusted_client_echoes),
        cmocka_unit_test(second_client_and_host_name),
        cmocka_unit_test(rogue_client_refused),
        cmocka_unit_test(expired_client_refused),
        cmocka_unit_test(ambiguous_names_refused),
        cmocka_unit_test(client_without_certificate_refused),
        cmocka_unit_test(tls12_client_refused),
        cmocka_unit_test(no_session_resumption),
        cmocka_unit_test(wrong_ca_refuses_server),
        cmocka_unit_test(wrong_name_refuses_server),
        cmocka_unit_test(connect_timeout_is_bounded),
        cmocka_unit_test(write_to_closed_peer_no_sigpipe),
        cmocka_unit_test(peer_close_reads_zero),
        cmocka_unit_test(blocking_read_interrupted),
        cmocka_unit_test(bad_files),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(address_forms),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
