/* Unit tests for client/: ls_client_* against a fake supervisor, a thread serving one
 * scripted connection on a Unix socket in a temporary directory.  Covers the normal
 * sequence with interleaved output, refusals, a server that closes or misbehaves
 * mid-stream, stdin streaming (large, echoed back while it is sent), cancelling, and
 * STATUS. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "labstack/client.h"
#include "labstack/error.h"
#include "labstack/protocol.h"

/* ---- the fake supervisor -------------------------------------------------------- */

struct fake;
typedef void (*script_fn)(struct fake *f, int fd);

struct fake {
    char dir[64];
    char path[128];
    int lfd;
    pthread_t thread;
    script_fn script;
    /* What the script sends after the RUN frame, for the table-driven tests. */
    const uint8_t *raw;
    size_t raw_len;
    /* What the server saw. */
    char first_json[8192];
    uint8_t first_type;
    bool got_cancel;
    size_t stdin_bytes;
    bool stdin_eof;
    int frames_after_run;
};

static int read_full(int fd, void *buf, size_t len) {
    size_t off = 0;
    while (off < len) {
        ssize_t n = read(fd, (char *)buf + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t len) {
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(fd, (const char *)buf + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

/* One frame; the payload is NUL-terminated in buf (size >= LS_PROTO_MAX_DATA + 1).
 * -1 at EOF or on a bad header. */
static int srv_recv(int fd, uint8_t *type, char *buf, size_t size, size_t *ret_len) {
    uint8_t raw[LS_FRAME_HEADER_SIZE];
    struct ls_frame_header h;
    if (read_full(fd, raw, sizeof(raw)) < 0 || ls_frame_header_decode(raw, &h, NULL) < 0 ||
        h.length >= size || read_full(fd, buf, h.length) < 0)
        return -1;
    buf[h.length] = '\0';
    *type = h.type;
    *ret_len = h.length;
    return 0;
}

static void srv_send(int fd, uint8_t type, const void *payload, size_t len) {
    uint8_t raw[LS_FRAME_HEADER_SIZE];
    ls_frame_header_encode(raw, type, (uint32_t)len);
    if (write_full(fd, raw, sizeof(raw)) < 0 || (len && write_full(fd, payload, len) < 0))
        return; /* the client went away; the test says whether that was expected */
}

static void srv_send_str(int fd, uint8_t type, const char *s) {
    srv_send(fd, type, s, strlen(s));
}

/* Read the first frame into f->first_*. */
static int srv_first(struct fake *f, int fd) {
    static char buf[LS_PROTO_MAX_JSON + 1];
    size_t len;
    if (srv_recv(fd, &f->first_type, buf, sizeof(buf), &len) < 0)
        return -1;
    size_t n = len < sizeof(f->first_json) - 1 ? len : sizeof(f->first_json) - 1;
    memcpy(f->first_json, buf, n);
    f->first_json[n] = '\0';
    return 0;
}

static const char started_json[] =
    "{\"id\":\"sb-1\",\"policy\":\"qa-default\",\"policy_version\":2,\"policy_hash\":\"abc123\"}";

static char *result_doc(const char *id, enum ls_reason reason, int exit_code, int sig) {
    struct ls_result r = {
        .reason = reason, .exit_code = exit_code, .signal = sig, .wall_ms = 5, .cgroup_version = 2};
    char *json = ls_proto_result_to_json(id, "qa-default", &r);
    assert_non_null(json);
    return json;
}

static void srv_send_result(int fd, enum ls_reason reason, int exit_code, int sig) {
    char *doc = result_doc("sb-1", reason, exit_code, sig);
    srv_send_str(fd, LS_FRAME_RESULT, doc);
    free(doc);
}

static void *serve(void *arg) {
    struct fake *f = arg;
    int fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0) {
        f->script(f, fd);
        close(fd);
    }
    return NULL;
}

static struct fake *fake_start(script_fn script) {
    struct fake *f = calloc(1, sizeof(*f));
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    assert_non_null(f);
    strcpy(f->dir, "/tmp/ls-test-client-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/sock", f->dir);
    strcpy(sa.sun_path, f->path);
    f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(f->lfd >= 0);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(f->lfd, 4), 0);
    f->script = script;
    assert_int_equal(pthread_create(&f->thread, NULL, serve, f), 0);
    return f;
}

static void fake_stop(struct fake *f) {
    /* A script blocked in accept (the client never connected) is woken by a connect. */
    pthread_join(f->thread, NULL);
    close(f->lfd);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
}

static struct ls_client *connect_to(struct fake *f) {
    struct ls_client_opts opts = {.socket_path = f->path, .timeout_ms = 2000};
    struct ls_client *c = NULL;
    struct ls_error err = {0};
    int r = ls_client_connect(&opts, &c, &err);
    if (r < 0)
        fail_msg("connect: %s", err.msg);
    return c;
}

/* ---- what the client saw -------------------------------------------------------- */

struct seen {
    char log[8192];
    size_t log_len;
    char *out; /* all of stdout */
    size_t out_len, out_cap;
    struct ls_client *cancel_on_start;
    int fail_output_after; /* on_output returns -1 from this call on (0: never) */
    int output_calls;
};

__attribute__((format(printf, 2, 3))) static void seen_log(struct seen *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s->log + s->log_len, sizeof(s->log) - s->log_len, fmt, ap);
    va_end(ap);
    if (n > 0)
        s->log_len += (size_t)n;
}

static void on_queued(void *userdata, uint64_t position) {
    seen_log(userdata, "Q%llu ", (unsigned long long)position);
}

static void on_started(void *userdata, const char *id) {
    struct seen *s = userdata;
    seen_log(s, "S:%s ", id);
    if (s->cancel_on_start)
        ls_client_cancel(s->cancel_on_start);
}

static int on_output(void *userdata, int stream, const void *buf, size_t len) {
    struct seen *s = userdata;
    s->output_calls++;
    if (s->fail_output_after && s->output_calls >= s->fail_output_after)
        return -1;
    if (stream == 1) {
        if (s->out_len + len > s->out_cap) {
            s->out_cap = (s->out_len + len) * 2;
            s->out = realloc(s->out, s->out_cap);
            assert_non_null(s->out);
        }
        memcpy(s->out + s->out_len, buf, len);
        s->out_len += len;
    }
    if (len < 64)
        seen_log(s, "%d:%.*s ", stream, (int)len, (const char *)buf);
    return 0;
}

static int run_against(struct fake *f, struct ls_run_request *req, struct seen *s, int stdin_fd,
                       struct ls_run_outcome *out, struct ls_error *err) {
    struct ls_client *c = connect_to(f);
    struct ls_run_callbacks cb = {.on_queued = on_queued,
                                  .on_started = on_started,
                                  .on_output = on_output,
                                  .userdata = s,
                                  .stdin_fd = stdin_fd};
    if (s->cancel_on_start == (void *)1)
        s->cancel_on_start = c;
    int r = ls_client_run(c, req, &cb, out, err);
    ls_client_free(c);
    return r;
}

static char *argv_true[] = {"true", NULL};

/* ---- the normal sequence ----------------------------------------------------------- */

static void script_normal(struct fake *f, int fd) {
    if (srv_first(f, fd) < 0)
        return;
    srv_send_str(fd, LS_FRAME_QUEUED, "{\"position\":2}");
    srv_send_str(fd, LS_FRAME_QUEUED, "{\"position\":1}");
    srv_send_str(fd, LS_FRAME_STARTED, started_json);
    srv_send_str(fd, LS_FRAME_STDOUT, "o1");
    srv_send_str(fd, LS_FRAME_STDERR, "e1");
    srv_send_str(fd, LS_FRAME_STDOUT, "o2");
    srv_send_str(fd, LS_FRAME_STDOUT, "");
    srv_send_str(fd, LS_FRAME_STDERR, "e2");
    srv_send_str(fd, LS_FRAME_STDOUT, "o3");
    srv_send_result(fd, LS_REASON_EXITED, 3, 0);
    /* Anything after RESULT is not read. */
    srv_send_str(fd, LS_FRAME_STDOUT, "late");
}

static void run_normal_sequence(void **state) {
    char *argv[] = {"make", "test", NULL};
    char *env[] = {"CI=1", NULL};
    struct ls_run_request req = {.policy = "qa-default",
                                 .argv = argv,
                                 .argc = 2,
                                 .env = env,
                                 .n_env = 1,
                                 .cwd = "/work",
                                 .task_id = "T-1",
                                 .limits = {.memory_bytes = 1 << 28, .wall_time_ms = 1000}};
    struct fake *f = fake_start(script_normal);
    struct seen s = {0};
    struct ls_run_outcome out;
    struct ls_error err = {0};

    int r = run_against(f, &req, &s, -1, &out, &err);
    fake_stop(f);
    if (r < 0)
        fail_msg("run: %s", err.msg);
    assert_int_equal(f != NULL, 1);
    assert_string_equal(s.log, "Q2 Q1 S:sb-1 1:o1 2:e1 1:o2 2:e2 1:o3 ");
    assert_false(out.refused);
    assert_false(out.cancelled);
    assert_non_null(out.result_json);
    assert_non_null(strstr(out.result_json, "\"id\":\"sb-1\""));
    assert_int_equal(out.result.reason, LS_REASON_EXITED);
    assert_int_equal(out.result.exit_code, 3);
    assert_string_equal(out.id, "sb-1");
    assert_string_equal(out.policy, "qa-default");
    free(out.result_json);
    free(s.out);
}

static void script_check_request(struct fake *f, int fd) {
    if (srv_first(f, fd) < 0)
        return;
    srv_send_str(fd, LS_FRAME_STARTED, started_json);
    srv_send_result(fd, LS_REASON_EXITED, 0, 0);
}

static void run_sends_the_request(void **state) {
    char *argv[] = {"echo", "a b", NULL};
    char *env[] = {"A=1", "B=x=y", NULL};
    struct ls_run_request req = {.policy = "strict",
                                 .argv = argv,
                                 .argc = 2,
                                 .env = env,
                                 .n_env = 2,
                                 .workspace_path = "/home/u",
                                 .label = "l",
                                 .limits = {.pids = 7}};
    struct fake *f = fake_start(script_check_request);
    struct seen s = {0};
    struct ls_run_outcome out;
    struct ls_error err = {0};
    char seen_json[8192];
    uint8_t seen_type;

    assert_int_equal(run_against(f, &req, &s, -1, &out, &err), 0);
    seen_type = f->first_type;
    strcpy(seen_json, f->first_json);
    fake_stop(f);
    assert_int_equal(seen_type, LS_FRAME_RUN);
    assert_string_equal(
        seen_json, "{\"policy\":\"strict\",\"argv\":[\"echo\",\"a b\"],\"env\":{\"A\":\"1\","
                   "\"B\":\"x=y\"},\"workspace\":{\"path\":\"/home/u\"},\"limits\":{\"pids\":7},"
                   "\"label\":\"l\"}");
    free(out.result_json);
}

/* ---- refusals -------------------------------------------------------------------- */

static void script_refuse(struct fake *f, int fd) {
    if (srv_first(f, fd) < 0)
        return;
    char *e =
        ls_proto_error_to_json(LS_PROTO_FORBIDDEN, "uid 65534 may not use policy \"root-only\"", 0);
    srv_send_str(fd, LS_FRAME_ERROR, e);
    free(e);
}

static void run_refused(void **state) {
    struct ls_run_request req = {.argv = argv_true, .argc = 1, .policy = "root-only"};
    struct fake *f = fake_start(script_refuse);
    struct seen s = {0};
    struct ls_run_outcome out;
    struct ls_error err = {0};

    assert_int_equal(run_against(f, &req, &s, -1, &out, &err), 0);
    fake_stop(f);
    assert_true(out.refused);
    assert_null(out.result_json);
    assert_int_equal(out.error.code, LS_PROTO_FORBIDDEN);
    assert_string_equal(out.error.message, "uid 65534 may not use policy \"root-only\"");
}

static void script_error_mid_run(struct fake *f, int fd) {
    if (srv_first(f, fd) < 0)
        return;
    srv_send_str(fd, LS_FRAME_STARTED, started_json);
    srv_send_str(fd, LS_FRAME_STDOUT, "partial");
    srv_send_str(fd, LS_FRAME_ERROR, "{\"code\":\"shutting_down\",\"message\":\"bye\"}");
}

static void run_error_mid_run(void **state) {
    struct ls_run_request req = {.argv = argv_true, .argc = 1};
    struct fake *f = fake_start(script_error_mid_run);
    struct seen s = {0};
    struct ls_run_outcome out;
    struct ls_error err = {0};

    assert_int_equal(run_against(f, &req, &s, -1, &out, &err), 0);
    fake_stop(f);
    assert_true(out.refused);
    assert_int_equal(out.error.code, LS_PROTO_SHUTTING_DOWN);
    assert_string_equal(s.log, "S:sb-1 1:partial ");
    free(s.out);
}

/* The server refuses at once and closes without reading the stdin the client is still
 * sending: the client must still see the ERROR. */
static void script_refuse_without_reading(struct fake *f, int fd) {
    uint8_t raw[LS_FRAME_HEADER_SIZE];
    if (read_full(fd, raw, sizeof(raw)) < 0)
        return;
    srv_send_str(fd, LS_FRAME_ERROR,
                 "{\"code\":\"busy\",\"message\":\"queue full\",\"retry_after_ms\":250}");
    shutdown(fd, SHUT_WR);
    usleep(100 * 1000);
}

static void run_refused_while_sending_stdin(void **state) {
    struct ls_run_request req = {.argv = argv_true, .argc = 1, .stdin_mode = LS_STDIN_STREAM};
    struct fake *f = fake_start(script_refuse_without_reading);
    struct seen s = {0};
    struct ls_run_outcome out;
    struct ls_error err = {0};
    int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);

    int r = run_against(f, &req, &s, fd, &out, &err);
    close(fd);
    fake_stop(f);
    if (r < 0)
        fail_msg("run: %s", err.msg);
    assert_true(out.refused);
    assert_int_equal(out.error.code, LS_PROTO_BUSY);
    assert_int_equal(out.error.retry_after_ms, 250);
}

/* ---- the server ends or misbehaves mid-stream ---------------------------------------- */

static void script_close_mid_stream(struct fake *f, int fd) {
    if (srv_first(f, fd) < 0)
        return;
    srv_send_str(fd, LS_FRAME_STARTED, started_json);
    srv_send_str(fd, LS_FRAME_STDOUT, "half");
}

static void run_server_closes_mid_stream(void **state) {
    struct ls_run_request req = {.argv = argv_true, .argc = 1};
    struct fake *f = fake_start(script_close_mid_stream);
    struct seen s = {0};
    struct ls_run_outcome out;
    struct ls_error err = {0};

    assert_int_equal(run_against(f, &req, &s, -1, &out, &err), -EPROTO);
    fake_stop(f);
    assert_non_null(strstr(err.msg, "the connection was closed before the result"));
    assert_non_null(strstr(err.msg, "/sock"));
    assert_null(out.result_json);
    assert_string_equal(s.log, "S:sb-1 1:half ");
    free(s.out);
}

static void script_raw(struct fake *f, int fd) {
    if (srv_first(f, fd) < 0)
        return;
    (void)write_full(fd, f->raw, f->raw_len);
    shutdown(fd, SHUT_WR);
    /* Stay until the client has read and hung up. */
    char b;
    while (read(fd, &b, 1) > 0)
        ;
}

/* Append a frame to buf at *off. */
static void put_frame(uint8_t *buf, size_t *off, uint8_t type, const char *payload) {
    size_t len = strlen(payload);
    ls_frame_header_encode(buf + *off, type, (uint32_t)len);
    memcpy(buf + *off + LS_FRAME_HEADER_SIZE, payload, len);
    *off += LS_FRAME_HEADER_SIZE + len;
}

static void run_protocol_violations(void **state) {
    static const struct {
        const char *frames[3]; /* "<type hex>:payload"; NULL ends */
        const char *raw;       /* or raw bytes after the frames */
        size_t raw_len;
        const char *msg;
    } cases[] = {
        {{"82:x"}, NULL, 0, "stdout before STARTED"},
        {{"83:x"}, NULL, 0, "stderr before STARTED"},
        {{"84:{}"}, NULL, 0, "bad result frame"},
        {{"81:{\"id\":\"a\"}"}, NULL, 0, "bad started frame: missing field \"policy\""},
        {{"81:"
          "{\"id\":\"sb-1\",\"policy\":\"p\",\"policy_version\":1,\"policy_hash\":\"ab\"}",
          "81:"
          "{\"id\":\"sb-1\",\"policy\":\"p\",\"policy_version\":1,\"policy_hash\":\"ab\"}"},
         NULL,
         0,
         "a second STARTED"},
        {{"81:"
          "{\"id\":\"sb-1\",\"policy\":\"p\",\"policy_version\":1,\"policy_hash\":\"ab\"}",
          "80:{\"position\":1}"},
         NULL,
         0,
         "QUEUED after STARTED"},
        {{"80:{\"position\":\"first\"}"}, NULL, 0, "bad queued frame: position: expected"},
        {{"85:{\"code\":\"teapot\",\"message\":\"x\"}"}, NULL, 0, "bad error frame: code: unknown"},
        {{"86:{}"}, NULL, 0, "unexpected status_reply frame"},
        {{"01:{}"}, NULL, 0, "unexpected run frame"},
        {{"02:x"}, NULL, 0, "unexpected stdin frame"},
        {{"40:{}"}, NULL, 0, "unexpected runner_spec frame"},
        {{NULL}, "\x02\x82\x00\x00\x00\x00\x00\x00", 8, "unsupported protocol version 2"},
        {{NULL}, "\x01\x99\x00\x00\x00\x00\x00\x00", 8, "unknown frame type 0x99"},
        {{NULL}, "\x01\x82\x00\x01\x00\x00\x00\x00", 8, "flags 0x0001"},
        {{NULL}, "\x01\x82\x00\x00\x40\x00\x00\x00", 8, "stdout frame of 1073741824 bytes"},
        {{NULL}, "\x01\x84\x00\x00\x00\x00\x00\x05{}", 10, "closed before the result"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t buf[4096];
        size_t off = 0;
        for (size_t j = 0; j < 3 && cases[i].frames[j]; j++) {
            const char *spec = cases[i].frames[j];
            put_frame(buf, &off, (uint8_t)strtoul(spec, NULL, 16), strchr(spec, ':') + 1);
        }
        if (cases[i].raw) {
            memcpy(buf + off, cases[i].raw, cases[i].raw_len);
            off += cases[i].raw_len;
        }
        struct ls_run_request req = {.argv = argv_true, .argc = 1};
        struct fake *f = fake_start(script_raw);
        f->raw = buf;
        f->raw_len = off;
        struct seen s = {0};
        struct ls_run_outcome out;
        struct ls_error err = {0};
        int r = run_against(f, &req, &s, -1, &out, &err);
        fake_stop(f);
        if (r != -EPROTO || !strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: got %d \"%s\", expected \"%s\"", i, r, err.msg, cases[i].msg);
        assert_non_null(strstr(err.msg, "protocol error from the supervisor at "));
        assert_null(out.result_json);
        free(s.out);
    }
}

/* ---- stdin ------------------------------------------------------------------------ */

/* An echo server: each STDIN frame comes straight back as STDOUT before the next one is
 * read, so the client must read output while it is still sending. */
static void script_echo(struct fake *f, int fd) {
    static char buf[LS_PROTO_MAX_DATA + 1];
    uint8_t type;
    size_t len;
    if (srv_first(f, fd) < 0)
        return;
    srv_send_str(fd, LS_FRAME_STARTED, started_json);
    for (;;) {
        if (srv_recv(fd, &type, buf, sizeof(buf), &len) < 0)
            return;
        f->frames_after_run++;
        if (type != LS_FRAME_STDIN)
            return;
        if (len == 0) {
            f->stdin_eof = true;
            break;
        }
        f->stdin_bytes += len;
        srv_send(fd, LS_FRAME_STDOUT, buf, len);
    }
    srv_send_result(fd, LS_REASON_EXITED, 0, 0);
}

static void run_streams_stdin(void **state) {
    char path[] = "/tmp/ls-test-stdin-XXXXXX";
    int fd = mkstemp(path);
    size_t size = 8u << 20;
    char *data = malloc(size);
    assert_true(fd >= 0);
    unlink(path);
    for (size_t i = 0; i < size; i++)
        data[i] = (char)(i * 7 + i / 4096);
    assert_int_equal(write(fd, data, size), (ssize_t)size);
    lseek(fd, 0, SEEK_SET);

    char *argv[] = {"cat", NULL};
    struct ls_run_request req = {.argv = argv, .argc = 1, .stdin_mode = LS_STDIN_STREAM};
    struct fake *f = fake_start(script_echo);
    struct seen s = {0};
    struct ls_run_outcome out;
    struct ls_error err = {0};
    int r = run_against(f, &req, &s, fd, &out, &err);
    size_t got = f->stdin_bytes;
    bool eof = f->stdin_eof;
    char first[8192];
    strcpy(first, f->first_json);
    fake_stop(f);
    close(fd);
    if (r < 0)
        fail_msg("run: %s", err.msg);
    assert_non_null(strstr(first, "\"stdin\":\"stream\""));
    assert_true(eof);
    assert_int_equal(got, size);
    assert_int_equal(s.out_len, size);
    assert_memory_equal(s.out, data, size);
    free(out.result_json);
    free(s.out);
    free(data);
}

static void run_stream_without_fd_sends_eof(void **state) {
    struct ls_run_request req = {.argv = argv_true, .argc = 1, .stdin_mode = LS_STDIN_STREAM};
    struct fake *f = fake_start(script_echo);
    struct seen s = {0};
    struct ls_run_outcome out;
    struct ls_error err = {0};
    assert_int_equal(run_against(f, &req, &s, -1, &out, &err), 0);
    assert_true(f->stdin_eof);
    assert_int_equal(f->stdin_bytes, 0);
    fake_stop(f);
    free(out.result_json);
}

/* Without --stdin nothing follows RUN. */
static void script_expect_nothing(struct fake *f, int fd) {
    uint8_t type;
    size_t len;
    static char buf[LS_PROTO_MAX_DATA + 1];
    if (srv_first(f, fd) < 0)
        return;
    srv_send_str(fd, LS_FRAME_STARTED, started_json);
    struct timeval tv = {.tv_usec = 100 * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (srv_recv(fd, &type, buf, sizeof(buf), &len) == 0)
        f->frames_after_run++;
    srv_send_result(fd, LS_REASON_EXITED, 0, 0);
}

static void run_stdin_none_sends_nothing(void **state) {
    struct ls_run_request req = {.argv = argv_true, .argc = 1};
    struct fake *f = fake_start(script_expect_nothing);
    struct seen s = {0};
    struct ls_run_outcome out;
    struct ls_error err = {0};
    int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    assert_int_equal(run_against(f, &req, &s, fd, &out, &err), 0);
    close(fd);
    assert_int_equal(f->frames_after_run, 0);
    fake_stop(f);
    free(out.result_json);
}

/* ---- cancel ------------------------------------------------------------------------- */

/* Streams output until CANCEL arrives, then reports the run as cancelled. */
static void script_until_cancel(struct fake *f, int fd) {
    static char buf[LS_PROTO_MAX_DATA + 1];
    uint8_t type;
    size_t len;
    if (srv_first(f, fd) < 0)
        return;
    srv_send_str(fd, LS_FRAME_STARTED, started_json);
    srv_send_str(fd, LS_FRAME_STDOUT, "tick");
    while (srv_recv(fd, &type, buf, sizeof(buf), &len) == 0) {
        if (type == LS_FRAME_CANCEL) {
            f->got_cancel = strcmp(buf, "{}") == 0;
            srv_send_str(fd, LS_FRAME_STDOUT, "after-cancel");
            srv_send_result(fd, LS_REASON_CANCELLED, -1, 9);
            return;
        }
    }
}

static void run_cancel_from_callback(void **state) {
    struct ls_run_request req = {.argv = argv_true, .argc = 1};
    struct fake *f = fake_start(script_until_cancel);
    struct seen s = {.cancel_on_start = (void *)1};
    struct ls_run_outcome out;
    struct ls_error err = {0};
    assert_int_equal(run_against(f, &req, &s, -1, &out, &err), 0);
    assert_true(f->got_cancel);
    fake_stop(f);
    assert_true(out.cancelled);
    assert_int_equal(out.result.reason, LS_REASON_CANCELLED);
    assert_int_equal(out.result.signal, 9);
    assert_string_equal(s.log, "S:sb-1 1:tick 1:after-cancel ");
    free(out.result_json);
    free(s.out);
}

static struct ls_client *signal_client;
static void on_sigusr1(int sig) {
    ls_client_cancel(signal_client);
}

struct killer {
    pthread_t target;
};

static void *send_signal_later(void *arg) {
    struct killer *k = arg;
    usleep(100 * 1000);
    pthread_kill(k->target, SIGUSR1);
    return NULL;
}

static void run_cancel_from_signal_handler(void **state) {
    struct ls_run_request req = {.argv = argv_true, .argc = 1};
    struct fake *f = fake_start(script_until_cancel);
    struct seen s = {0};
    struct ls_run_outcome out;
    struct ls_error err = {0};
    struct sigaction sa = {.sa_handler = on_sigusr1}, old;
    struct killer k = {.target = pthread_self()};
    pthread_t t;

    sigaction(SIGUSR1, &sa, &old);
    signal_client = connect_to(f);
    struct ls_run_callbacks cb = {.on_output = on_output, .userdata = &s, .stdin_fd = -1};
    pthread_create(&t, NULL, send_signal_later, &k);
    int r = ls_client_run(signal_client, &req, &cb, &out, &err);
    pthread_join(t, NULL);
    sigaction(SIGUSR1, &old, NULL);
    signal_client = ls_client_free(signal_client);
    assert_true(f->got_cancel);
    fake_stop(f);
    if (r < 0)
        fail_msg("run: %s", err.msg);
    assert_true(out.cancelled);
    assert_int_equal(out.result.reason, LS_REASON_CANCELLED);
    free(out.result_json);
    free(s.out);
}

static void run_output_failure_cancels(void **state) {
    struct ls_run_request req = {.argv = argv_true, .argc = 1};
    struct fake *f = fake_start(script_until_cancel);
    struct seen s = {.fail_output_after = 1};
    struct ls_run_outcome out;
    struct ls_error err = {0};
    assert_int_equal(run_against(f, &req, &s, -1, &out, &err), 0);
    assert_true(f->got_cancel);
    fake_stop(f);
    assert_true(out.cancelled);
    /* Output is no longer delivered after the callback failed. */
    assert_int_equal(s.output_calls, 1);
    free(out.result_json);
}

/* ---- status -------------------------------------------------------------------------- */

static void script_status(struct fake *f, int fd) {
    if (srv_first(f, fd) < 0)
        return;
    if (f->first_type != LS_FRAME_STATUS || strcmp(f->first_json, "{}") != 0)
        return;
    srv_send_str(fd, LS_FRAME_STATUS_REPLY,
                 "{\"version\":\"0.1.0\",\"ready\":true,\"running\":1,\"new_field\":{}}");
}

static void script_status_refused(struct fake *f, int fd) {
    if (srv_first(f, fd) < 0)
        return;
    srv_send_str(fd, LS_FRAME_ERROR, "{\"code\":\"forbidden\",\"message\":\"not for you\"}");
}

static void script_status_wrong(struct fake *f, int fd) {
    if (srv_first(f, fd) < 0)
        return;
    srv_send_str(fd, LS_FRAME_STARTED, started_json);
}

static void script_silent(struct fake *f, int fd) {
    char b;
    if (srv_first(f, fd) < 0)
        return;
    while (read(fd, &b, 1) > 0)
        ;
}

static void status_cases(void **state) {
    struct fake *f = fake_start(script_status);
    struct ls_client *c = connect_to(f);
    struct ls_error err = {0};
    char *doc = NULL;
    assert_int_equal(ls_client_status(c, &doc, &err), 0);
    assert_string_equal(doc,
                        "{\"version\":\"0.1.0\",\"ready\":true,\"running\":1,\"new_field\":{}}");
    free(doc);
    /* One request per connection. */
    doc = NULL;
    assert_int_equal(ls_client_status(c, &doc, &err), -EALREADY);
    ls_client_free(c);
    fake_stop(f);

    f = fake_start(script_status_refused);
    c = connect_to(f);
    assert_int_equal(ls_client_status(c, &doc, &err), -EACCES);
    assert_string_equal(err.msg, "the supervisor refused: forbidden: not for you");
    ls_client_free(c);
    fake_stop(f);

    f = fake_start(script_status_wrong);
    c = connect_to(f);
    assert_int_equal(ls_client_status(c, &doc, &err), -EPROTO);
    assert_non_null(strstr(err.msg, "unexpected started frame in answer to STATUS"));
    ls_client_free(c);
    fake_stop(f);

    struct ls_client_opts opts = {.timeout_ms = 200};
    f = fake_start(script_silent);
    opts.socket_path = f->path;
    assert_int_equal(ls_client_connect(&opts, &c, &err), 0);
    assert_int_equal(ls_client_status(c, &doc, &err), -ETIMEDOUT);
    ls_client_free(c);
    fake_stop(f);
}

/* ---- connecting, and requests refused before sending ------------------------------------ */

static void connect_errors(void **state) {
    struct ls_client_opts opts = {.socket_path = "/nonexistent/labstack.sock"};
    struct ls_client *c = (void *)1;
    struct ls_error err = {0};

    assert_int_equal(ls_client_connect(&opts, &c, &err), -ENOENT);
    assert_string_equal(err.msg, "connect /nonexistent/labstack.sock: No such file or directory "
                                 "(is labstack-supervisor running?)");
    assert_ptr_equal(c, (void *)1);

    char long_path[200];
    memset(long_path, 'x', sizeof(long_path) - 1);
    long_path[0] = '/';
    long_path[199] = '\0';
    opts.socket_path = long_path;
    assert_int_equal(ls_client_connect(&opts, &c, &err), -ENAMETOOLONG);
    assert_non_null(strstr(err.msg, "connect /xxx"));

    /* A socket file nobody listens on. */
    char dir[] = "/tmp/ls-test-client-XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/dead.sock", dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    opts.socket_path = path;
    assert_int_equal(ls_client_connect(&opts, &c, &err), -ECONNREFUSED);
    assert_non_null(strstr(err.msg, "dead.sock: Connection refused"));
    unlink(path);
    rmdir(dir);

    /* TLS without its files. */
    struct ls_client_opts tls = {.tls_addr = "127.0.0.1:1"};
    assert_int_equal(ls_client_connect(&tls, &c, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "--tls-cert"));
}

static void socket_path_precedence(void **state) {
    struct ls_client_opts opts = {0};
    unsetenv("LABSTACK_SOCKET");
    assert_string_equal(ls_client_socket_path(NULL), LS_DEFAULT_SOCKET);
    assert_string_equal(ls_client_socket_path(&opts), LS_DEFAULT_SOCKET);
    setenv("LABSTACK_SOCKET", "/env.sock", 1);
    assert_string_equal(ls_client_socket_path(&opts), "/env.sock");
    opts.socket_path = "/opt.sock";
    assert_string_equal(ls_client_socket_path(&opts), "/opt.sock");
    setenv("LABSTACK_SOCKET", "", 1);
    opts.socket_path = NULL;
    assert_string_equal(ls_client_socket_path(&opts), LS_DEFAULT_SOCKET);
    unsetenv("LABSTACK_SOCKET");
}

static void run_refuses_bad_request_locally(void **state) {
    char *env[] = {"1BAD=x", NULL};
    char *noeq[] = {"NOEQ", NULL};
    struct ls_run_request req = {.argv = argv_true, .argc = 1, .env = env, .n_env = 1};
    struct fake *f = fake_start(script_normal);
    struct ls_client *c = connect_to(f);
    struct ls_run_outcome out;
    struct ls_error err = {0};

    assert_int_equal(ls_client_run(c, &req, NULL, &out, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "env: \"1BAD\" is not a valid name"));
    ls_client_free(c);
    fake_stop(f);
    assert_int_equal(f != NULL, 1);

    f = fake_start(script_normal);
    c = connect_to(f);
    req.env = noeq;
    assert_int_equal(ls_client_run(c, &req, NULL, &out, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "env entry without '='"));
    ls_client_free(c);
    fake_stop(f);

    f = fake_start(script_normal);
    c = connect_to(f);
    req.env = NULL;
    req.n_env = 0;
    req.cwd = "relative";
    assert_int_equal(ls_client_run(c, &req, NULL, &out, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "cwd: must be an absolute path"));
    ls_client_free(c);
    fake_stop(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_normal_sequence),
        cmocka_unit_test(run_sends_the_request),
        cmocka_unit_test(run_refused),
        cmocka_unit_test(run_error_mid_run),
        cmocka_unit_test(run_refused_while_sending_stdin),
        cmocka_unit_test(run_server_closes_mid_stream),
        cmocka_unit_test(run_protocol_violations),
        cmocka_unit_test(run_streams_stdin),
        cmocka_unit_test(run_stream_without_fd_sends_eof),
        cmocka_unit_test(run_stdin_none_sends_nothing),
        cmocka_unit_test(run_cancel_from_callback),
        cmocka_unit_test(run_cancel_from_signal_handler),
        cmocka_unit_test(run_output_failure_cancels),
        cmocka_unit_test(status_cases),
        cmocka_unit_test(connect_errors),
        cmocka_unit_test(socket_path_precedence),
        cmocka_unit_test(run_refuses_bad_request_locally),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
