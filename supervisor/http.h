/*
 * http.h - the supervisor's HTTP endpoint for probes and Prometheus.
 *
 * A libmicrohttpd daemon with its own polling thread serves three read-only paths:
 *
 *   GET /health   200 "ok\n" while the process runs (liveness; no callback)
 *   GET /ready    the `ready` callback's JSON document; 200 when ready, else 503
 *   GET /metrics  the `metrics` callback's text, "text/plain; version=0.0.4"
 *
 * HEAD works on each; any other method is 405 (with Allow: GET, HEAD), any other path
 * 404.  Connections are capped and idle ones time out, so a slow or stuck client
 * cannot hold the endpoint; a request is answered as soon as its header is complete.
 *
 * The callbacks run on the HTTP thread, not the event loop: they must only read state
 * that is safe to read from another thread (the metrics registry has its own lock;
 * readiness flags should be atomics).  A callback may block briefly (a readiness
 * check that touches a file), which delays only other HTTP requests.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ls_error;

#define LS_HTTP_DEFAULT_CONNECTION_LIMIT 16
#define LS_HTTP_DEFAULT_TIMEOUT_S 10

struct ls_http_handlers {
    void *userdata; /* passed to every callback; must outlive the server */

    /* /ready: set *ret_ready and *ret_json (a NUL-terminated JSON document the server
     * frees, e.g. from ls_http_ready_json()).  Return 0, or -errno for a 500. */
    int (*ready)(void *userdata, bool *ret_ready, char **ret_json);

    /* /metrics: set *ret_text (freed by the server) and *ret_len.  0, or -errno for a
     * 500.  ls_metrics_render_handler (metrics.h) fits, with the registry as userdata. */
    int (*metrics)(void *userdata, char **ret_text, size_t *ret_len);

    /* Optional: where libmicrohttpd's error messages go (one line, no newline); NULL
     * leaves them on stderr. */
    void (*log)(void *userdata, const char *message);

    unsigned connection_limit; /* 0: LS_HTTP_DEFAULT_CONNECTION_LIMIT */
    unsigned timeout_s;        /* idle connection timeout; 0: LS_HTTP_DEFAULT_TIMEOUT_S */
};

/* A parsed listen address. */
struct ls_http_address {
    struct sockaddr_storage sa;
    socklen_t len;
    bool loopback; /* 127.0.0.0/8 or ::1 */
};

/*
 * Parse "A.B.C.D:PORT" or "[IPv6]:PORT" strictly: a numeric address (no host names, no
 * IPv6 zone), a decimal port 0..65535 (0: the kernel picks one).  Binding anything but
 * loopback ("0.0.0.0:9464" for scrapes from other containers) is allowed, but only by
 * writing that address; there is no default and no empty host.
 * 0, or -EINVAL with err naming the address and what is wrong with it.
 */
int ls_http_parse_address(const char *addr, struct ls_http_address *ret, struct ls_error *err);

struct ls_http;

/*
 * Bind addr (see ls_http_parse_address) and start serving on a new thread.  h is
 * copied; ready and metrics must be set.  0, or -errno with err saying which step
 * failed ("bind 127.0.0.1:9464: Address already in use").
 */
int ls_http_start(const char *addr, const struct ls_http_handlers *h, struct ls_http **ret,
                  struct ls_error *err);

/* The port actually bound (the kernel's choice when addr said port 0). */
uint16_t ls_http_port(const struct ls_http *http);

/* Stop serving: close the listening socket and every connection, join the thread,
 * free.  No callback runs after it returns.  Accepts NULL. */
void ls_http_stop(struct ls_http *http);

/* One readiness check for ls_http_ready_json(). */
struct ls_http_check {
    const char *name; /* "policies_loaded", "cgroups_usable", "audit_sink_writable" */
    bool ok;
    const char *detail; /* optional: why it failed ("no policy loaded"); NULL for none */
};

/*
 * Build the /ready document from checks:
 *   {"ready":false,"checks":{"policies_loaded":{"ok":true},
 *    "audit_sink_writable":{"ok":false,"detail":"..."}},"failed":["audit_sink_writable"]}
 * *ret_ready is true when every check is ok.  Returns a string the caller frees (or
 * hands to the server), NULL on ENOMEM.  Names and details are JSON-escaped.
 */
char *ls_http_ready_json(const struct ls_http_check *checks, size_t n, bool *ret_ready);
