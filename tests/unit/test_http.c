/*
 * Unit tests for supervisor/http.c, over plain sockets on 127.0.0.1 (and ::1): the
 * three paths, HEAD, 404/405, malformed requests, a slow client that must not hold up
 * others, the connection cap, and the strict listen-address parser.
 *
 * `test_http --serve ADDR` instead serves the supervisor's metric set (with a few values
 * moving every second) until SIGINT/SIGTERM and prints the bound port: a tiny exporter
 * for tests/integration/prometheus.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "http.h"
#include "labstack/error.h"
#include "metrics.h"

/* ---- the handlers under test ------------------------------------------------------- */

struct fixture {
    struct ls_metrics *registry;
    struct ls_counter *hits;
    int ready;       /* read on the HTTP thread: atomics */
    int ready_fails; /* the ready callback returns an error */
    int logged;      /* messages through the log callback */
    struct ls_http *http;
    uint16_t port;
};

static int ready_cb(void *userdata, bool *ret_ready, char **ret_json) {
    struct fixture *f = userdata;
    if (__atomic_load_n(&f->ready_fails, __ATOMIC_ACQUIRE))
        return -EIO;
    bool ok = __atomic_load_n(&f->ready, __ATOMIC_ACQUIRE);
    struct ls_http_check checks[] = {
        {.name = "policies_loaded", .ok = true},
        {.name = "cgroups_usable", .ok = true},
        {.name = "audit_sink_writable", .ok = ok, .detail = ok ? NULL : "disk \"full\""},
    };
    char *json = ls_http_ready_json(checks, 3, ret_ready);
    if (!json)
        return -ENOMEM;
    *ret_json = json;
    return 0;
}

static void log_cb(void *userdata, const char *message) {
    struct fixture *f = userdata;
    __atomic_add_fetch(&f->logged, 1, __ATOMIC_RELEASE);
}

static struct fixture *fixture_new(void) {
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->ready = 1;
    assert_int_equal(ls_metrics_new(&f->registry), 0);
    assert_int_equal(ls_metrics_counter(f->registry, "hits_total", "Hits.", NULL, 0, &f->hits), 0);
    ls_counter_add(f->hits, 41);
    return f;
}

static int metrics_cb(void *userdata, char **ret, size_t *ret_len) {
    struct fixture *f = userdata;
    return ls_metrics_render(f->registry, ret, ret_len);
}

static void fixture_start(struct fixture *f, const char *addr, unsigned limit, unsigned timeout_s) {
    struct ls_error err = {0};
    const struct ls_http_handlers h = {
        .userdata = f,
        .ready = ready_cb,
        .metrics = metrics_cb,
        .log = log_cb,
        .connection_limit = limit,
        .timeout_s = timeout_s,
    };
    int r = ls_http_start(addr, &h, &f->http, &err);
    if (r < 0)
        fail_msg("ls_http_start(%s): %s", addr, err.msg);
    f->port = ls_http_port(f->http);
    assert_true(f->port > 0);
}

static void fixture_free(struct fixture *f) {
    ls_http_stop(f->http);
    ls_metrics_free(f->registry);
    free(f);
}

static int setup(void **state) {
    struct fixture *f = fixture_new();
    fixture_start(f, "127.0.0.1:0", 4, 2);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture_free(*state);
    return 0;
}

/* ---- a tiny HTTP client ------------------------------------------------------------- */

static int connect_to(int family, uint16_t port) {
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int r;
    if (family == AF_INET6) {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
        a.sin6_addr = in6addr_loopback;
        r = connect(fd, (struct sockaddr *)&a, sizeof(a));
    } else {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        r = connect(fd, (struct sockaddr *)&a, sizeof(a));
    }
    assert_int_equal(r, 0);
    return fd;
}

static void send_all(int fd, const char *s) {
    size_t len = strlen(s);
    assert_int_equal(send(fd, s, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Everything the server sends until it closes (or 5 s pass); NUL-terminated. */
static char *read_all(int fd) {
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    for (;;) {
        if (len + 1 == cap)
            assert_non_null(buf = realloc(buf, cap *= 2));
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0) /* EOF, reset or timeout */
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

/* Send a raw request on a new connection, return the whole response. */
static char *exchange_on(int family, uint16_t port, const char *request) {
    int fd = connect_to(family, port);
    send_all(fd, request);
    char *resp = read_all(fd);
    close(fd);
    return resp;
}

static char *exchange(uint16_t port, const char *request) {
    return exchange_on(AF_INET, port, request);
}

static char *get(uint16_t port, const char *method, const char *path) {
    char req[512];
    snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
             method, path);
    return exchange(port, req);
}

static int status_of(const char *resp) {
    int status;
    if (sscanf(resp, "HTTP/1.%*1[01] %d ", &status) != 1)
        return -1;
    return status;
}

/* The value of a header (case-insensitive name), copied into buf; NULL if absent. */
static const char *header(const char *resp, const char *name, char *buf, size_t size) {
    const char *end = strstr(resp, "\r\n\r\n");
    size_t nlen = strlen(name);
    for (const char *p = strstr(resp, "\r\n"); p && p < end; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (*v == ' ')
                v++;
            size_t vlen = strcspn(v, "\r");
            snprintf(buf, size, "%.*s", (int)vlen, v);
            return buf;
        }
    }
    return NULL;
}

static const char *body_of(const char *resp) {
    const char *p = strstr(resp, "\r\n\r\n");
    return p ? p + 4 : NULL;
}

/* ---- tests ------------------------------------------------------------------------ */

static void health_is_ok(void **state) {
    struct fixture *f = *state;
    char buf[128];
    char *resp = get(f->port, "GET", "/health");
    assert_int_equal(status_of(resp), 200);
    assert_string_equal(body_of(resp), "ok\n");
    assert_string_equal(header(resp, "Content-Type", buf, sizeof(buf)),
                        "text/plain; charset=utf-8");
    assert_string_equal(header(resp, "Content-Length", buf, sizeof(buf)), "3");
    free(resp);

    /* A query string does not change the path. */
    resp = get(f->port, "GET", "/health?verbose=1");
    assert_int_equal(status_of(resp), 200);
    free(resp);
}

static void ready_follows_the_callback(void **state) {
    struct fixture *f = *state;
    char buf[128];

    char *resp = get(f->port, "GET", "/ready");
    assert_int_equal(status_of(resp), 200);
    assert_string_equal(header(resp, "Content-Type", buf, sizeof(buf)), "application/json");
    assert_string_equal(body_of(resp),
                        "{\"ready\":true,\"checks\":{\"policies_loaded\":{\"ok\":true},"
                        "\"cgroups_usable\":{\"ok\":true},\"audit_sink_writable\":{\"ok\":true}},"
                        "\"failed\":[]}\n");
    free(resp);

    __atomic_store_n(&f->ready, 0, __ATOMIC_RELEASE);
    resp = get(f->port, "GET", "/ready");
    assert_int_equal(status_of(resp), 503);
    assert_string_equal(body_of(resp),
                        "{\"ready\":false,\"checks\":{\"policies_loaded\":{\"ok\":true},"
                        "\"cgroups_usable\":{\"ok\":true},\"audit_sink_writable\":"
                        "{\"ok\":false,\"detail\":\"disk \\\"full\\\"\"}},"
                        "\"failed\":[\"audit_sink_writable\"]}\n");
    free(resp);

    __atomic_store_n(&f->ready_fails, 1, __ATOMIC_RELEASE);
    resp = get(f->port, "GET", "/ready");
    assert_int_equal(status_of(resp), 500);
    free(resp);
    __atomic_store_n(&f->ready_fails, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&f->ready, 1, __ATOMIC_RELEASE);
}

static void metrics_are_the_registry(void **state) {
    struct fixture *f = *state;
    char buf[128], *want;
    size_t want_len;

    ls_counter_inc(f->hits);
    assert_int_equal(ls_metrics_render(f->registry, &want, &want_len), 0);
    char *resp = get(f->port, "GET", "/metrics");
    assert_int_equal(status_of(resp), 200);
    assert_string_equal(header(resp, "Content-Type", buf, sizeof(buf)),
                        "text/plain; version=0.0.4; charset=utf-8");
    assert_string_equal(body_of(resp), want);
    assert_non_null(strstr(want, "\nhits_total 42\n"));
    free(resp);
    free(want);
}

static void head_has_no_body(void **state) {
    struct fixture *f = *state;
    char buf[128], *want;
    size_t want_len;

    assert_int_equal(ls_metrics_render(f->registry, &want, &want_len), 0);
    char *resp = get(f->port, "HEAD", "/metrics");
    assert_int_equal(status_of(resp), 200);
    char len[32];
    snprintf(len, sizeof(len), "%zu", want_len);
    assert_string_equal(header(resp, "Content-Length", buf, sizeof(buf)), len);
    assert_string_equal(body_of(resp), "");
    free(resp);
    free(want);

    resp = get(f->port, "HEAD", "/health");
    assert_int_equal(status_of(resp), 200);
    assert_string_equal(body_of(resp), "");
    free(resp);
}

static void unknown_paths_are_404(void **state) {
    struct fixture *f = *state;
    const char *paths[] = {"/", "/metrics/", "/healthz", "/../health", "/Metrics", "*"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        char *resp = get(f->port, "GET", paths[i]);
        if (status_of(resp) != 404 && status_of(resp) != 400)
            fail_msg("GET %s: %s", paths[i], resp);
        free(resp);
    }
    char *resp = get(f->port, "GET", "/nope");
    assert_int_equal(status_of(resp), 404);
    assert_string_equal(body_of(resp), "not found\n");
    free(resp);
}

static void other_methods_are_405(void **state) {
    struct fixture *f = *state;
    char buf[128];
    const char *methods[] = {"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "BREW"};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        char *resp = get(f->port, methods[i], "/metrics");
        if (status_of(resp) != 405)
            fail_msg("%s /metrics: %s", methods[i], resp);
        assert_string_equal(header(resp, "Allow", buf, sizeof(buf)), "GET, HEAD");
        free(resp);
    }
    /* With a body, which is never read. */
    char *resp = exchange(f->port, "POST /ready HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                   "Connection: close\r\n\r\nhello");
    assert_int_equal(status_of(resp), 405);
    free(resp);
}

static void malformed_requests_are_refused(void **state) {
    struct fixture *f = *state;
    const char *bad[] = {
        "GARBAGE\r\n\r\n",
        "GET\r\n\r\n",
        "GET /health HTTP/1.1\r\nno colon here\r\n\r\n",
        "GET /health HTTP/1.1 extra\r\n\r\n",
        "GET /health HTTP/2.0\r\nHost: x\r\n\r\n",
        "\x01\x02\x03\xff /health HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *resp = exchange(f->port, bad[i]);
        int status = status_of(resp);
        /* Refused with a 4xx/5xx, or the connection closed without an answer. */
        if (status != -1 && status < 400)
            fail_msg("request %zu answered %d:\n%s", i, status, resp);
        free(resp);
    }
    /* libmicrohttpd's complaints went to the log callback, not stderr. */
    assert_true(__atomic_load_n(&f->logged, __ATOMIC_ACQUIRE) > 0);
    /* And the server still serves. */
    char *resp = get(f->port, "GET", "/health");
    assert_int_equal(status_of(resp), 200);
    free(resp);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void slow_client_blocks_nobody(void **state) {
    struct fixture *f = *state;

    /* Half a request line, then nothing. */
    int slow = connect_to(AF_INET, f->port);
    send_all(slow, "GET /hea");
    double t0 = now_s();
    for (int i = 0; i < 5; i++) {
        char *resp = get(f->port, "GET", "/health");
        assert_int_equal(status_of(resp), 200);
        free(resp);
    }
    assert_true(now_s() - t0 < 1.0);

    /* The idle timeout (2 s here) closes the slow connection without an answer. */
    char *resp = read_all(slow);
    double waited = now_s() - t0;
    assert_int_equal(status_of(resp), -1);
    assert_true(waited >= 1.0 && waited < 4.9);
    free(resp);
    close(slow);
}

/* True when fd has something to read (or EOF) within ms. */
static bool readable_within(int fd, int ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms) == 1;
}

static void connections_are_capped(void **state) {
    struct fixture *f = *state;
    int idle[4];

    /* Fill the cap (4) with idle connections: the next one waits in the listen backlog,
     * unanswered, until a slot frees. */
    for (int i = 0; i < 4; i++) {
        idle[i] = connect_to(AF_INET, f->port);
        send_all(idle[i], "GET /he");
    }
    usleep(200 * 1000);
    int waiting = connect_to(AF_INET, f->port);
    send_all(waiting, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_false(readable_within(waiting, 500));

    for (int i = 0; i < 4; i++)
        close(idle[i]);
    char *resp = read_all(waiting);
    assert_int_equal(status_of(resp), 200);
    free(resp);
    close(waiting);
}

static void ipv6_loopback_works(void **state) {
    struct fixture *f = fixture_new();
    fixture_start(f, "[::1]:0", 0, 0);
    char *resp = exchange_on(AF_INET6, f->port,
                             "GET /health HTTP/1.1\r\nHost: [::1]\r\nConnection: close\r\n\r\n");
    assert_int_equal(status_of(resp), 200);
    free(resp);
    fixture_free(f);
}

static void a_taken_port_is_a_clear_error(void **state) {
    struct fixture *f = *state, *g = fixture_new();
    struct ls_error err = {0};
    char addr[64], want[128];
    const struct ls_http_handlers h = {.userdata = g, .ready = ready_cb, .metrics = metrics_cb};

    snprintf(addr, sizeof(addr), "127.0.0.1:%u", f->port);
    assert_int_equal(ls_http_start(addr, &h, &g->http, &err), -EADDRINUSE);
    snprintf(want, sizeof(want), "bind 127.0.0.1:%u: Address already in use", f->port);
    assert_string_equal(err.msg, want);
    assert_string_equal(err.step, "http");
    assert_null(g->http);
    fixture_free(g);
}

static void stop_with_open_connections(void **state) {
    struct fixture *f = fixture_new();
    fixture_start(f, "127.0.0.1:0", 0, 0);
    int idle = connect_to(AF_INET, f->port);
    send_all(idle, "GET /heal");
    usleep(100 * 1000);
    double t0 = now_s();
    fixture_free(f); /* does not wait for the 10 s idle timeout */
    assert_true(now_s() - t0 < 2.0);
    char *resp = read_all(idle);
    assert_int_equal(status_of(resp), -1);
    free(resp);
    close(idle);
    ls_http_stop(NULL);
}

static void addresses_are_parsed_strictly(void **state) {
    struct ls_http_address a;
    struct ls_error err;
    const struct {
        const char *addr;
        bool loopback;
        int family;
        unsigned port;
    } good[] = {
        // clang-format off
        {"127.0.0.1:9464", true, AF_INET, 9464},
        {"127.0.0.1:0", true, AF_INET, 0},
        {"127.1.2.3:65535", true, AF_INET, 65535},
        {"0.0.0.0:9464", false, AF_INET, 9464},
        {"10.0.0.7:80", false, AF_INET, 80},
        {"[::1]:9464", true, AF_INET6, 9464},
        {"[::]:9464", false, AF_INET6, 9464},
        {"[fd00::2]:1", false, AF_INET6, 1},
        // clang-format on
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (ls_http_parse_address(good[i].addr, &a, &err) != 0)
            fail_msg("%s: %s", good[i].addr, err.msg);
        assert_int_equal(a.sa.ss_family, good[i].family);
        assert_int_equal(a.loopback, good[i].loopback);
        uint16_t port = good[i].family == AF_INET ? ((struct sockaddr_in *)&a.sa)->sin_port
                                                  : ((struct sockaddr_in6 *)&a.sa)->sin6_port;
        assert_int_equal(ntohs(port), good[i].port);
    }

    const struct {
        const char *addr;
        const char *why;
    } bad[] = {
        {"", "no HTTP listen address given"},
        {"9464", "expected ADDRESS:PORT"},
        {":9464", "no address before the port"},
        {"localhost:9464", "not a numeric IPv4 address"},
        {"127.1:9464", "not a numeric IPv4 address"},
        {"127.0.0.1:", "the port must be"},
        {"127.0.0.1:65536", "the port must be"},
        {"127.0.0.1:123456", "the port must be"},
        {"127.0.0.1:+80", "the port must be"},
        {"127.0.0.1:-1", "the port must be"},
        {"127.0.0.1: 80", "the port must be"},
        {"127.0.0.1:80 ", "the port must be"},
        {"127.0.0.1:0x50", "the port must be"},
        {"::1:9464", "goes in brackets"},
        {"[::1]9464", "expected [IPv6]:PORT"},
        {"[::1:9464", "expected [IPv6]:PORT"},
        {"[]:9464", "no address before the port"},
        {"[127.0.0.1]:9464", "not a numeric IPv6 address"},
        {"[fe80::1%eth0]:9464", "not a numeric IPv6 address"},
        {"[::1]:80:80", "the port must be"},
        {"127.0.0.1:9464-garbage-that-goes-on-and-on-and-on-and-on-and-on-and-on", "too long"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ls_http_parse_address(bad[i].addr, &a, &err), -EINVAL);
        if (!strstr(err.msg, bad[i].why))
            fail_msg("%s: got \"%s\", want \"%s\"", bad[i].addr, err.msg, bad[i].why);
        /* The message names the address (when there is one). */
        if (*bad[i].addr && strlen(bad[i].addr) <= 64 && !strstr(err.msg, bad[i].addr))
            fail_msg("%s: message does not name it: %s", bad[i].addr, err.msg);
    }
    assert_int_equal(ls_http_parse_address(NULL, &a, &err), -EINVAL);
}

static void ready_json_escapes(void **state) {
    bool ready = true;
    struct ls_http_check none[] = {{0}};
    char *json = ls_http_ready_json(none, 0, &ready);
    assert_string_equal(json, "{\"ready\":true,\"checks\":{},\"failed\":[]}\n");
    assert_true(ready);
    free(json);

    struct ls_http_check c[] = {
        {.name = "a", .ok = false, .detail = "line\nbreak \\ \"q\""},
        {.name = "b", .ok = false, .detail = "\xff"},
    };
    json = ls_http_ready_json(c, 2, &ready);
    assert_false(ready);
    assert_string_equal(json, "{\"ready\":false,\"checks\":{\"a\":{\"ok\":false,\"detail\":"
                              "\"line\\nbreak \\\\ \\\"q\\\"\"},\"b\":{\"ok\":false,\"detail\":"
                              "\"(detail is not UTF-8)\"}},\"failed\":[\"a\",\"b\"]}\n");
    free(json);
}

/* ---- --serve: a tiny exporter for prometheus.sh ------------------------------------- */

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
    stop = 1;
}

static int serve(const char *addr) {
    struct ls_supervisor_metrics *sm;
    struct fixture f = {.ready = 1};
    struct ls_error err = {0};

    if (ls_supervisor_metrics_new("0.1.0", &sm) < 0)
        return 1;
    f.registry = sm->registry;
    ls_gauge_set(sm->max_concurrent, 8);
    ls_gauge_set(sm->queue_capacity, 32);
    ls_gauge_set(sm->policies_loaded, 3);
    const struct ls_http_handlers h = {.userdata = &f, .ready = ready_cb, .metrics = metrics_cb};
    if (ls_http_start(addr, &h, &f.http, &err) < 0) {
        fprintf(stderr, "test_http --serve: %s\n", err.msg);
        return 1;
    }
    printf("%u\n", ls_http_port(f.http));
    fflush(stdout);

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!stop) {
        /* One sandbox a second: started, set up in 5 ms, ran 0.3 s, exited. */
        ls_counter_inc(sm->sandboxes_started);
        ls_histogram_observe(sm->sandbox_setup_seconds, 0.005);
        ls_histogram_observe(sm->sandbox_duration_seconds, 0.3);
        ls_supervisor_metrics_finished(sm, LS_REASON_EXITED);
        ls_supervisor_metrics_request(sm, LS_REQUEST_ACCEPTED);
        sleep(1);
    }
    ls_http_stop(f.http);
    ls_supervisor_metrics_free(sm);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--serve") == 0)
        return serve(argv[2]);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(health_is_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(ready_follows_the_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(metrics_are_the_registry, setup, teardown),
        cmocka_unit_test_setup_teardown(head_has_no_body, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_paths_are_404, setup, teardown),
        cmocka_unit_test_setup_teardown(other_methods_are_405, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_requests_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(slow_client_blocks_nobody, setup, teardown),
        cmocka_unit_test_setup_teardown(connections_are_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(a_taken_port_is_a_clear_error, setup, teardown),
        cmocka_unit_test(ipv6_loopback_works),
        cmocka_unit_test(stop_with_open_connections),
        cmocka_unit_test(addresses_are_parsed_strictly),
        cmocka_unit_test(ready_json_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
