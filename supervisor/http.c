/*
 * http.c - /health, /ready and /metrics over libmicrohttpd (see http.h).
 *
 * We create, bind and listen on the socket ourselves and hand it to libmicrohttpd
 * (MHD_OPTION_LISTEN_SOCKET): that way the address is parsed by one strict function,
 * a bind failure reaches the caller as an errno with the address in the message, and
 * the socket is O_CLOEXEC (the supervisor forks runners).  Ownership of that socket:
 * ours until MHD_start_daemon() succeeds (libmicrohttpd 0.9.75 leaves it open when it
 * fails), then libmicrohttpd's until ls_http_stop() takes it back with
 * MHD_quiesce_daemon() and closes it.
 *
 * Every request is answered from the first call of the access handler, when the
 * header is complete; a request body (nobody sends one to these paths) is never read.
 */
#include "http.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "labstack/error.h"
#include "labstack/macros.h"

#define STEP "http"
#define ADDR_MAX 64 /* longer than any "[IPv6]:port" */

#define CONTENT_TYPE_TEXT "text/plain; charset=utf-8"
#define CONTENT_TYPE_JSON "application/json"
#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"

struct ls_http {
    struct MHD_Daemon *daemon;
    struct ls_http_handlers h;
    uint16_t port;
};

/* ---- the listen address ---------------------------------------------------------- */

static int bad_address(struct ls_error *err, const char *addr, const char *why) {
    return ls_error_set(err, EINVAL, STEP, "invalid HTTP listen address \"%.*s\": %s", ADDR_MAX,
                        addr, why);
}

int ls_http_parse_address(const char *addr, struct ls_http_address *ret, struct ls_error *err) {
    char host[INET6_ADDRSTRLEN + 1];
    const char *host_start, *host_end, *port;
    bool v6;

    if (!addr || !*addr)
        return ls_error_set(err, EINVAL, STEP, "no HTTP listen address given");
    if (strlen(addr) > ADDR_MAX)
        return bad_address(err, addr, "too long");

    if (addr[0] == '[') {
        host_start = addr + 1;
        host_end = strchr(host_start, ']');
        if (!host_end || host_end[1] != ':')
            return bad_address(err, addr, "expected [IPv6]:PORT, e.g. [::1]:9464");
        port = host_end + 2;
        v6 = true;
    } else {
        host_start = addr;
        host_end = strchr(addr, ':');
        if (!host_end)
            return bad_address(err, addr, "expected ADDRESS:PORT, e.g. 127.0.0.1:9464");
        if (strchr(host_end + 1, ':'))
            return bad_address(err, addr, "an IPv6 address goes in brackets, e.g. [::1]:9464");
        port = host_end + 1;
        v6 = false;
    }

    size_t host_len = (size_t)(host_end - host_start);
    if (host_len == 0)
        return bad_address(err, addr,
                           "no address before the port (write 0.0.0.0 or [::] to listen on "
                           "every interface)");
    if (host_len >= sizeof(host))
        return bad_address(err, addr, "the address is too long");
    memcpy(host, host_start, host_len);
    host[host_len] = '\0';

    /* The port: 1 to 5 decimal digits, at most 65535; nothing else. */
    size_t port_len = strlen(port);
    unsigned long port_num = 0;
    if (port_len == 0 || port_len > 5 || strspn(port, "0123456789") != port_len)
        return bad_address(err, addr, "the port must be a decimal number 0..65535");
    for (size_t i = 0; i < port_len; i++)
        port_num = port_num * 10 + (unsigned long)(port[i] - '0');
    if (port_num > 65535)
        return bad_address(err, addr, "the port must be a decimal number 0..65535");

    struct ls_http_address a = {0};
    if (v6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a.sa;
        /* inet_pton() takes no zone ("fe80::1%eth0") and no host names. */
        if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
            return bad_address(err, addr, "not a numeric IPv6 address");
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port_num);
        a.len = sizeof(*sin6);
        a.loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&a.sa;
        /* inet_pton(AF_INET) accepts exactly four decimal octets: no "127.1", no hex. */
        if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
            return bad_address(err, addr,
                               "not a numeric IPv4 address (host names are not "
                               "resolved)");
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port_num);
        a.len = sizeof(*sin);
        a.loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    }
    *ret = a;
    return 0;
}

/* ---- requests ------------------------------------------------------------------ */

/* Queue a response with body (taking ownership when `owned`) and common headers. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             void *body, size_t len, bool owned) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        if (owned)
            free(body);
        return MHD_NO; /* libmicrohttpd closes the connection */
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *text) {
    return reply(conn, status, CONTENT_TYPE_TEXT, (void *)text, strlen(text), false);
}

static enum MHD_Result serve_ready(struct ls_http *http, struct MHD_Connection *conn) {
    bool ready = false;
    char *json = NULL;
    int r = http->h.ready(http->h.userdata, &ready, &json);
    if (r < 0 || !json) {
        free(json);
        return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "readiness check failed\n");
    }
    return reply(conn, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, CONTENT_TYPE_JSON, json,
                 strlen(json), true);
}

static enum MHD_Result serve_metrics(struct ls_http *http, struct MHD_Connection *conn) {
    char *text = NULL;
    size_t len = 0;
    int r = http->h.metrics(http->h.userdata, &text, &len);
    if (r < 0 || !text) {
        free(text);
        return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "rendering metrics failed\n");
    }
    return reply(conn, MHD_HTTP_OK, CONTENT_TYPE_METRICS, text, len, true);
}

static enum MHD_Result handle_request(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **req_cls) {
    struct ls_http *http = cls;

    /* libmicrohttpd omits the body of a HEAD response itself, keeping Content-Length. */
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");

    if (strcmp(url, "/health") == 0)
        return reply_text(conn, MHD_HTTP_OK, "ok\n");
    if (strcmp(url, "/ready") == 0)
        return serve_ready(http, conn);
    if (strcmp(url, "/metrics") == 0)
        return serve_metrics(http, conn);
    return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* libmicrohttpd's error messages: one line each to the supervisor's log callback. */
static void mhd_log(void *cls, const char *fmt, va_list ap) {
    struct ls_http *http = cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
        msg[--len] = '\0';
    if (http->h.log)
        http->h.log(http->h.userdata, msg);
    else
        fprintf(stderr, "labstack http: %s\n", msg);
}

/* ---- start and stop ---------------------------------------------------------------- */

int ls_http_start(const char *addr, const struct ls_http_handlers *h, struct ls_http **ret,
                  struct ls_error *err) {
    struct ls_http_address a;
    _cleanup_close_ int fd = -EBADF;
    int r;

    assert(h && h->ready && h->metrics && ret);
    r = ls_http_parse_address(addr, &a, err);
    if (r < 0)
        return r;

    fd = socket(a.sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return ls_error_set(err, errno, STEP, "socket for %s", addr);
    /* Restart without waiting for TIME_WAIT connections of the previous process. */
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
        return ls_error_set(err, errno, STEP, "SO_REUSEADDR on %s", addr);
    /* "[::]:9464" means IPv6 only: IPv4 must be asked for by its own address. */
    if (a.sa.ss_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
        return ls_error_set(err, errno, STEP, "IPV6_V6ONLY on %s", addr);
    if (bind(fd, (struct sockaddr *)&a.sa, a.len) < 0)
        return ls_error_set(err, errno, STEP, "bind %s", addr);
    if (listen(fd, 64) < 0)
        return ls_error_set(err, errno, STEP, "listen on %s", addr);

    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof(bound);
    if (getsockname(fd, (struct sockaddr *)&bound, &bound_len) < 0)
        return ls_error_set(err, errno, STEP, "getsockname of %s", addr);

    _cleanup_free_ struct ls_http *http = calloc(1, sizeof(*http));
    if (!http)
        return ls_error_set(err, ENOMEM, STEP, "start HTTP endpoint on %s", addr);
    http->h = *h;
    http->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                   : ((struct sockaddr_in *)&bound)->sin_port);

    /* MHD_USE_ITC: needed for MHD_quiesce_daemon() in ls_http_stop(). */
    // clang-format off
    http->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG | MHD_USE_ITC, 0,
        NULL, NULL, handle_request, http,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, http,
        MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT,
        h->connection_limit ? h->connection_limit : LS_HTTP_DEFAULT_CONNECTION_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, h->timeout_s ? h->timeout_s : LS_HTTP_DEFAULT_TIMEOUT_S,
        MHD_OPTION_END);
    // clang-format on
    if (!http->daemon) /* the reason went to the log callback */
        return ls_error_set(err, EIO, STEP, "start HTTP endpoint on %s", addr);
    TAKE_FD(fd); /* libmicrohttpd's now */

    *ret = TAKE_PTR(http);
    return 0;
}

uint16_t ls_http_port(const struct ls_http *http) {
    return http->port;
}

void ls_http_stop(struct ls_http *http) {
    if (!http)
        return;
    MHD_socket fd = MHD_quiesce_daemon(http->daemon);
    MHD_stop_daemon(http->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    free(http);
}

/* ---- the /ready document ----------------------------------------------------------- */

char *ls_http_ready_json(const struct ls_http_check *checks, size_t n, bool *ret_ready) {
    json_t *doc = NULL, *by_name = json_object(), *failed = json_array();
    char *out = NULL;
    bool ready = true;

    if (!by_name || !failed)
        goto out;
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_pack("{s:b}", "ok", checks[i].ok);
        if (!c)
            goto out;
        if (checks[i].detail) {
            json_t *d = json_string(checks[i].detail);
            /* A detail that is not UTF-8 must not cost the probe its answer. */
            json_object_set_new(c, "detail", d ? d : json_string("(detail is not UTF-8)"));
        }
        if (json_object_set_new(by_name, checks[i].name, c) < 0)
            goto out;
        if (!checks[i].ok) {
            ready = false;
            if (json_array_append_new(failed, json_string(checks[i].name)) < 0)
                goto out;
        }
    }
    doc = json_pack("{s:b,s:O,s:O}", "ready", ready, "checks", by_name, "failed", failed);
    if (!doc)
        goto out;
    char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text)
        goto out;
    /* A trailing newline for people using curl. */
    if (asprintf(&out, "%s\n", text) < 0)
        out = NULL;
    free(text);
    if (out)
        *ret_ready = ready;
out:
    json_decref(doc);
    json_decref(by_name);
    json_decref(failed);
    return out;
}
