/* Unit tests for proto/: frame headers, the incremental reader (fragmentation, huge and
 * truncated frames) and every message parser, including each way it refuses input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "labstack/error.h"
#include "labstack/protocol.h"

/* ---- frame headers ------------------------------------------------------------ */

static void frame_types(void **state) {
    static const uint8_t json_types[] = {
        LS_FRAME_RUN,    LS_FRAME_CANCEL,       LS_FRAME_STATUS,
        LS_FRAME_QUEUED, LS_FRAME_STARTED,      LS_FRAME_RESULT,
        LS_FRAME_ERROR,  LS_FRAME_STATUS_REPLY, LS_FRAME_RUNNER_SPEC};
    static const uint8_t data_types[] = {LS_FRAME_STDIN, LS_FRAME_STDOUT, LS_FRAME_STDERR,
                                         LS_FRAME_RUNNER_SECCOMP};
    unsigned known = 0;

    for (size_t i = 0; i < sizeof(json_types); i++) {
        assert_true(ls_frame_type_known(json_types[i]));
        assert_true(ls_frame_type_is_json(json_types[i]));
        assert_int_equal(ls_frame_max_length(json_types[i]), LS_PROTO_MAX_JSON);
    }
    for (size_t i = 0; i < sizeof(data_types); i++) {
        assert_true(ls_frame_type_known(data_types[i]));
        assert_false(ls_frame_type_is_json(data_types[i]));
        assert_int_equal(ls_frame_max_length(data_types[i]),
                         data_types[i] == LS_FRAME_RUNNER_SECCOMP ? LS_PROTO_MAX_PROGRAM
                                                                  : LS_PROTO_MAX_DATA);
    }
    for (unsigned t = 0; t < 256; t++)
        if (ls_frame_type_known((uint8_t)t)) {
            known++;
            assert_string_not_equal(ls_frame_type_name((uint8_t)t), "unknown");
        } else {
            assert_false(ls_frame_type_is_json((uint8_t)t));
            assert_int_equal(ls_frame_max_length((uint8_t)t), 0);
            assert_string_equal(ls_frame_type_name((uint8_t)t), "unknown");
        }
    assert_int_equal(known, sizeof(json_types) + sizeof(data_types));
    assert_string_equal(ls_frame_type_name(LS_FRAME_STATUS_REPLY), "status_reply");
    assert_string_equal(ls_frame_type_name(LS_FRAME_STDOUT), "stdout");
}

static void header_round_trip(void **state) {
    uint8_t raw[LS_FRAME_HEADER_SIZE];
    struct ls_frame_header h;
    struct ls_error err = {0};

    ls_frame_header_encode(raw, LS_FRAME_STDOUT, 0x01020304 & 0xffff);
    assert_memory_equal(raw, "\x01\x82\x00\x00\x00\x00\x03\x04", 8);
    assert_int_equal(ls_frame_header_decode(raw, &h, &err), 0);
    assert_int_equal(h.version, 1);
    assert_int_equal(h.type, LS_FRAME_STDOUT);
    assert_int_equal(h.flags, 0);
    assert_int_equal(h.length, 0x0304);

    /* Exactly the maximum is fine, for both kinds. */
    ls_frame_header_encode(raw, LS_FRAME_RUN, LS_PROTO_MAX_JSON);
    assert_int_equal(ls_frame_header_decode(raw, &h, &err), 0);
    assert_int_equal(h.length, LS_PROTO_MAX_JSON);
    ls_frame_header_encode(raw, LS_FRAME_STDIN, LS_PROTO_MAX_DATA);
    assert_int_equal(ls_frame_header_decode(raw, &h, &err), 0);
}

static void header_rejections(void **state) {
    static const struct {
        const char *raw;
        int ret;
        const char *msg;
    } cases[] = {
        {"\x00\x01\x00\x00\x00\x00\x00\x02", -EPROTO, "unsupported protocol version 0"},
        {"\x02\x01\x00\x00\x00\x00\x00\x02", -EPROTO, "unsupported protocol version 2"},
        {"\xff\x01\x00\x00\x00\x00\x00\x02", -EPROTO, "unsupported protocol version 255"},
        {"\x01\x00\x00\x00\x00\x00\x00\x02", -EPROTO, "unknown frame type 0x00"},
        {"\x01\x05\x00\x00\x00\x00\x00\x02", -EPROTO, "unknown frame type 0x05"},
        {"\x01\x87\x00\x00\x00\x00\x00\x02", -EPROTO, "unknown frame type 0x87"},
        {"\x01\xff\x00\x00\x00\x00\x00\x02", -EPROTO, "unknown frame type 0xff"},
        {"\x01\x01\x00\x01\x00\x00\x00\x02", -EPROTO, "run frame: flags 0x0001 set"},
        {"\x01\x82\x80\x00\x00\x00\x00\x02", -EPROTO, "stdout frame: flags 0x8000 set"},
        {"\x01\x01\x00\x00\x00\x10\x00\x01", -EMSGSIZE,
         "run frame of 1048577 bytes is over the limit of 1048576"},
        {"\x01\x02\x00\x00\x00\x01\x00\x01", -EMSGSIZE,
         "stdin frame of 65537 bytes is over the limit of 65536"},
        {"\x01\x82\x00\x00\x40\x00\x00\x00", -EMSGSIZE, "stdout frame of 1073741824 bytes"},
        {"\x01\x84\x00\x00\xff\xff\xff\xff", -EMSGSIZE, "result frame of 4294967295 bytes"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ls_frame_header h = {.type = 0x77};
        struct ls_error err = {0};
        int r = ls_frame_header_decode((const uint8_t *)cases[i].raw, &h, &err);
        if (r != cases[i].ret || !strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: got %d \"%s\", expected %d \"%s\"", i, r, err.msg, cases[i].ret,
                     cases[i].msg);
        assert_int_equal(h.type, 0x77); /* not touched on failure */
        assert_string_equal(err.step, "protocol");
    }
}

static void encode_whole_frame(void **state) {
    size_t size = 0;
    uint8_t *f = ls_frame_encode(LS_FRAME_STATUS, "{}", 2, &size);
    assert_non_null(f);
    assert_int_equal(size, 10);
    assert_memory_equal(f, "\x01\x04\x00\x00\x00\x00\x00\x02{}", 10);
    free(f);

    f = ls_frame_encode(LS_FRAME_STDIN, NULL, 0, &size);
    assert_non_null(f);
    assert_int_equal(size, 8);
    free(f);

    static uint8_t big[LS_PROTO_MAX_DATA + 1];
    f = ls_frame_encode(LS_FRAME_STDOUT, big, sizeof(big), &size);
    assert_null(f);
    assert_int_equal(errno, EINVAL);
    f = ls_frame_encode(LS_FRAME_STDOUT, big, LS_PROTO_MAX_DATA, &size);
    assert_non_null(f);
    assert_int_equal(size, LS_PROTO_MAX_DATA + 8);
    free(f);
    assert_null(ls_frame_encode(0x33, "{}", 2, &size));
}

/* ---- the reader -------------------------------------------------------------- */

struct expect_frame {
    uint8_t type;
    const char *payload;
    size_t len;
};

static const struct expect_frame stream_frames[] = {
    {LS_FRAME_RUN, "{\"argv\":[\"cat\"],\"stdin\":\"stream\"}", 34},
    {LS_FRAME_STDIN, "hello ", 6},
    {LS_FRAME_STDIN, "\0\1\2binary\xff", 10},
    {LS_FRAME_STDIN, "", 0},
    {LS_FRAME_CANCEL, "{}", 2},
    {LS_FRAME_STDOUT, "x", 1},
    {LS_FRAME_RESULT, "{}", 2},
};

/* The frames above, back to back, in one buffer. */
static uint8_t *build_stream(size_t *ret_len) {
    size_t total = 0;
    for (size_t i = 0; i < sizeof(stream_frames) / sizeof(stream_frames[0]); i++)
        total += LS_FRAME_HEADER_SIZE + stream_frames[i].len;
    uint8_t *buf = malloc(total), *p = buf;
    assert_non_null(buf);
    for (size_t i = 0; i < sizeof(stream_frames) / sizeof(stream_frames[0]); i++) {
        ls_frame_header_encode(p, stream_frames[i].type, (uint32_t)stream_frames[i].len);
        memcpy(p + LS_FRAME_HEADER_SIZE, stream_frames[i].payload, stream_frames[i].len);
        p += LS_FRAME_HEADER_SIZE + stream_frames[i].len;
    }
    *ret_len = total;
    return buf;
}

/* Drain every complete frame, checking each against stream_frames[*next]. */
static void drain(struct ls_frame_reader *r, size_t *next) {
    struct ls_frame_header h;
    const uint8_t *payload;
    struct ls_error err = {0};
    int ret;
    while ((ret = ls_frame_reader_next(r, &h, &payload, &err)) == 1) {
        assert_true(*next < sizeof(stream_frames) / sizeof(stream_frames[0]));
        assert_int_equal(h.type, stream_frames[*next].type);
        assert_int_equal(h.length, stream_frames[*next].len);
        assert_memory_equal(payload, stream_frames[*next].payload, h.length);
        (*next)++;
    }
    assert_int_equal(ret, 0);
}

static void reader_one_byte_at_a_time(void **state) {
    size_t len, next = 0;
    uint8_t *s = build_stream(&len);
    struct ls_frame_reader r;
    ls_frame_reader_init(&r);
    for (size_t i = 0; i < len; i++) {
        assert_int_equal(ls_frame_reader_feed(&r, s + i, 1), 0);
        drain(&r, &next);
    }
    assert_int_equal(next, sizeof(stream_frames) / sizeof(stream_frames[0]));
    assert_int_equal(r.len - r.consumed, 0);
    ls_frame_reader_free(&r);
    assert_null(r.buf);
    free(s);
}

static void reader_random_splits(void **state) {
    size_t len;
    uint8_t *s = build_stream(&len);
    for (unsigned seed = 1; seed <= 500; seed++) {
        struct ls_frame_reader r;
        size_t off = 0, next = 0;
        srand(seed);
        ls_frame_reader_init(&r);
        while (off < len) {
            size_t n = (size_t)rand() % 24 + (seed % 3 == 0 ? 0 : 1);
            if (n > len - off)
                n = len - off;
            assert_int_equal(ls_frame_reader_feed(&r, s + off, n), 0);
            off += n;
            drain(&r, &next);
        }
        assert_int_equal(next, sizeof(stream_frames) / sizeof(stream_frames[0]));
        ls_frame_reader_free(&r);
    }
    /* All at once. */
    struct ls_frame_reader r;
    size_t next = 0;
    ls_frame_reader_init(&r);
    assert_int_equal(ls_frame_reader_feed(&r, s, len), 0);
    drain(&r, &next);
    assert_int_equal(next, sizeof(stream_frames) / sizeof(stream_frames[0]));
    ls_frame_reader_free(&r);
    free(s);
}

static void reader_refuses_1gb_on_its_header(void **state) {
    struct ls_frame_reader r;
    struct ls_frame_header h;
    const uint8_t *p;
    struct ls_error err = {0};
    uint8_t raw[LS_FRAME_HEADER_SIZE + 16] = {0};

    ls_frame_reader_init(&r);
    ls_frame_header_encode(raw, LS_FRAME_STDOUT, 1u << 30);
    /* Seven bytes: not yet a header. */
    assert_int_equal(ls_frame_reader_feed(&r, raw, 7), 0);
    assert_int_equal(ls_frame_reader_next(&r, &h, &p, &err), 0);
    /* The eighth byte completes it: refused, nothing of the payload is needed. */
    assert_int_equal(ls_frame_reader_feed(&r, raw + 7, 1), 0);
    assert_int_equal(ls_frame_reader_next(&r, &h, &p, &err), -EMSGSIZE);
    assert_non_null(strstr(err.msg, "1073741824"));
    assert_true(r.cap <= 4096);
    /* And it stays refused. */
    assert_int_equal(ls_frame_reader_feed(&r, raw + 8, 16), 0);
    assert_int_equal(ls_frame_reader_next(&r, &h, &p, &err), -EMSGSIZE);
    ls_frame_reader_free(&r);

    /* The same after valid frames, all in one read. */
    uint8_t both[LS_FRAME_HEADER_SIZE * 2 + 2];
    ls_frame_header_encode(both, LS_FRAME_STATUS, 2);
    memcpy(both + 8, "{}", 2);
    ls_frame_header_encode(both + 10, LS_FRAME_RUN, 0xffffffffu);
    ls_frame_reader_init(&r);
    assert_int_equal(ls_frame_reader_feed(&r, both, sizeof(both)), 0);
    assert_int_equal(ls_frame_reader_next(&r, &h, &p, &err), 1);
    assert_int_equal(h.type, LS_FRAME_STATUS);
    assert_int_equal(ls_frame_reader_next(&r, &h, &p, &err), -EMSGSIZE);
    ls_frame_reader_free(&r);
}

static void reader_bad_header_mid_stream(void **state) {
    struct ls_frame_reader r;
    struct ls_frame_header h;
    const uint8_t *p;
    struct ls_error err = {0};
    uint8_t buf[8 + 1 + 8];

    ls_frame_header_encode(buf, LS_FRAME_STDOUT, 1);
    buf[8] = 'a';
    ls_frame_header_encode(buf + 9, 0x99, 0);
    ls_frame_reader_init(&r);
    assert_int_equal(ls_frame_reader_feed(&r, buf, sizeof(buf)), 0);
    assert_int_equal(ls_frame_reader_next(&r, &h, &p, &err), 1);
    assert_int_equal(ls_frame_reader_next(&r, &h, &p, &err), -EPROTO);
    assert_non_null(strstr(err.msg, "unknown frame type 0x99"));
    ls_frame_reader_free(&r);
}

static void reader_truncated_frames(void **state) {
    size_t len;
    uint8_t *s = build_stream(&len);
    /* Every proper prefix that does not end on a frame boundary yields the frames before
     * the cut and then waits (0) for more, however often it is asked. */
    for (size_t cut = 0; cut < len; cut++) {
        struct ls_frame_reader r;
        size_t next = 0, boundary = 0, complete = 0;
        ls_frame_reader_init(&r);
        assert_int_equal(ls_frame_reader_feed(&r, s, cut), 0);
        drain(&r, &next);
        drain(&r, &next);
        for (size_t i = 0; i < sizeof(stream_frames) / sizeof(stream_frames[0]); i++) {
            boundary += LS_FRAME_HEADER_SIZE + stream_frames[i].len;
            if (boundary <= cut)
                complete++;
        }
        assert_int_equal(next, complete);
        ls_frame_reader_free(&r);
    }
    free(s);
}

static void reader_memory_is_bounded(void **state) {
    struct ls_frame_reader r;
    struct ls_frame_header h;
    const uint8_t *p;
    struct ls_error err = {0};
    static uint8_t frame[LS_FRAME_HEADER_SIZE + LS_PROTO_MAX_DATA];
    size_t max_cap = 0;

    ls_frame_header_encode(frame, LS_FRAME_STDOUT, LS_PROTO_MAX_DATA);
    ls_frame_reader_init(&r);
    /* 64 MiB of maximal frames in reads of 3000 bytes: the buffer stays around one frame. */
    for (unsigned i = 0; i < 1024; i++) {
        for (size_t off = 0; off < sizeof(frame); off += 3000) {
            size_t n = sizeof(frame) - off < 3000 ? sizeof(frame) - off : 3000;
            assert_int_equal(ls_frame_reader_feed(&r, frame + off, n), 0);
            while (ls_frame_reader_next(&r, &h, &p, &err) == 1)
                assert_int_equal(h.length, LS_PROTO_MAX_DATA);
            if (r.cap > max_cap)
                max_cap = r.cap;
        }
    }
    assert_true(max_cap <= 2 * sizeof(frame));
    ls_frame_reader_free(&r);

    /* A caller that never takes frames off is stopped at LS_FRAME_READER_MAX. */
    static uint8_t chunk[1 << 16];
    size_t fed = 0;
    int ret;
    ls_frame_reader_init(&r);
    while ((ret = ls_frame_reader_feed(&r, chunk, sizeof(chunk))) == 0)
        fed += sizeof(chunk);
    assert_int_equal(ret, -ENOBUFS);
    assert_true(fed <= LS_FRAME_READER_MAX);
    assert_true(fed + sizeof(chunk) > LS_FRAME_READER_MAX);
    assert_true(r.cap <= LS_FRAME_READER_MAX);
    ls_frame_reader_free(&r);

    /* After a big frame has been taken off, the buffer is given back. */
    static uint8_t big[LS_FRAME_HEADER_SIZE + 500000];
    ls_frame_header_encode(big, LS_FRAME_RUN, 500000);
    ls_frame_reader_init(&r);
    assert_int_equal(ls_frame_reader_feed(&r, big, sizeof(big)), 0);
    assert_int_equal(ls_frame_reader_next(&r, &h, &p, &err), 1);
    assert_true(r.cap >= sizeof(big));
    assert_int_equal(ls_frame_reader_feed(&r, "\x01\x04\x00\x00", 4), 0);
    assert_true(r.cap <= 65536);
    ls_frame_reader_free(&r);
}

/* ---- RUN ------------------------------------------------------------------- */

static struct ls_run_request *parse_ok(const char *json) {
    struct ls_run_request *req = NULL;
    struct ls_error err = {0};
    int r = ls_run_request_parse(json, strlen(json), &req, &err);
    if (r != 0)
        fail_msg("parse %s: %d %s", json, r, err.msg);
    return req;
}

static void run_request_full(void **state) {
    const char *json =
        "{\"policy\":\"qa-default\",\"argv\":[\"make\",\"test\",\"\"],"
        "\"env\":{\"CI\":\"1\",\"_X2\":\"a=b\",\"EMPTY\":\"\"},\"cwd\":\"/work/src\","
        "\"limits\":{\"memory_bytes\":536870912,\"cpu_millis\":1500,\"pids\":64,"
        "\"wall_time_ms\":30000,\"cpu_time_ms\":10000,\"output_bytes\":1048576,"
        "\"tmp_bytes\":67108864,\"file_size_bytes\":1024,\"open_files\":256},"
        "\"stdin\":\"stream\",\"workspace\":{\"path\":\"/home/u/proj\"},"
        "\"task_id\":\"T-42 (retry)\",\"label\":\"nightly\"}";
    struct ls_run_request *req = parse_ok(json);
    assert_string_equal(req->policy, "qa-default");
    assert_int_equal(req->argc, 3);
    assert_string_equal(req->argv[0], "make");
    assert_string_equal(req->argv[2], "");
    assert_null(req->argv[3]);
    assert_int_equal(req->n_env, 3);
    assert_string_equal(req->env[0], "CI=1");
    assert_string_equal(req->env[1], "_X2=a=b");
    assert_string_equal(req->env[2], "EMPTY=");
    assert_null(req->env[3]);
    assert_string_equal(req->cwd, "/work/src");
    assert_string_equal(req->workspace_path, "/home/u/proj");
    assert_string_equal(req->task_id, "T-42 (retry)");
    assert_string_equal(req->label, "nightly");
    assert_int_equal(req->stdin_mode, LS_STDIN_STREAM);
    assert_int_equal(req->limits.memory_bytes, 536870912);
    assert_int_equal(req->limits.cpu_millis, 1500);
    assert_int_equal(req->limits.pids, 64);
    assert_int_equal(req->limits.wall_time_ms, 30000);
    assert_int_equal(req->limits.cpu_time_ms, 10000);
    assert_int_equal(req->limits.output_bytes, 1048576);
    assert_int_equal(req->limits.tmp_bytes, 67108864);
    assert_int_equal(req->limits.file_size_bytes, 1024);
    assert_int_equal(req->limits.open_files, 256);

    /* Serialise and parse again: the same request. */
    char *again = ls_run_request_to_json(req);
    assert_non_null(again);
    struct ls_run_request *back = parse_ok(again);
    assert_string_equal(back->policy, req->policy);
    assert_int_equal(back->argc, req->argc);
    for (size_t i = 0; i < req->argc; i++)
        assert_string_equal(back->argv[i], req->argv[i]);
    assert_int_equal(back->n_env, req->n_env);
    for (size_t i = 0; i < req->n_env; i++)
        assert_string_equal(back->env[i], req->env[i]);
    assert_string_equal(back->cwd, req->cwd);
    assert_string_equal(back->workspace_path, req->workspace_path);
    assert_string_equal(back->task_id, req->task_id);
    assert_string_equal(back->label, req->label);
    assert_int_equal(back->stdin_mode, req->stdin_mode);
    assert_memory_equal(&back->limits, &req->limits, sizeof(req->limits));
    free(again);
    ls_run_request_free(back);
    ls_run_request_free(req);
}

static void run_request_minimal(void **state) {
    struct ls_run_request *req = parse_ok("{\"argv\":[\"true\"]}");
    assert_null(req->policy);
    assert_int_equal(req->argc, 1);
    assert_null(req->env);
    assert_int_equal(req->n_env, 0);
    assert_null(req->cwd);
    assert_null(req->workspace_path);
    assert_null(req->task_id);
    assert_int_equal(req->stdin_mode, LS_STDIN_NONE);
    struct ls_request_limits zero = {0};
    assert_memory_equal(&req->limits, &zero, sizeof(zero));
    char *json = ls_run_request_to_json(req);
    assert_string_equal(json, "{\"argv\":[\"true\"]}");
    free(json);
    ls_run_request_free(req);

    /* Unicode survives; "none" is the default spelled out; "." components are fine. */
    req = parse_ok("{\"argv\":[\"echo\",\"gr\\u00fc\\u00df \xe2\x82\xac \xf0\x9f\x98\x80\"],"
                   "\"stdin\":\"none\",\"cwd\":\"/./a//b/\",\"env\":{},\"limits\":{},"
                   "\"task_id\":\"\"}");
    assert_string_equal(req->argv[1], "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80");
    assert_int_equal(req->n_env, 0);
    assert_string_equal(req->task_id, "");
    ls_run_request_free(req);
    assert_null(ls_run_request_free(NULL));
}

static void run_request_rejections(void **state) {
    static const struct {
        const char *json;
        const char *msg;
    } cases[] = {
        {"", "empty payload"},
        {"[]", "expected a JSON object, got array"},
        {"\"argv\"", "invalid JSON"},
        {"3", "invalid JSON"},
        {"{\"argv\":[\"a\"]", "invalid JSON"},
        {"{\"argv\":[\"a\"]} x", "invalid JSON"},
        {"{\"argv\":[\"a\"]}{}", "invalid JSON"},
        {"{\"argv\":[\"a\"],\"argv\":[\"b\"]}", "duplicate object key"},
        {"{\"argv\":[\"a\\u0000b\"]}", "invalid JSON"},
        {"{\"argv\":[\"\xff\"]}", "invalid JSON"},
        {"{\"argv\":[\"\xc0\xaf\"]}", "invalid JSON"},
        {"{\"argv\":[\"\xed\xa0\x80\"]}", "invalid JSON"},
        {"{}", "missing field \"argv\""},
        {"{\"policy\":\"x\"}", "missing field \"argv\""},
        {"{\"argv\":[\"a\"],\"Argv\":1}", "unknown field \"Argv\""},
        {"{\"argv\":[\"a\"],\"x\\u001b[2J\":1}", "unknown field \"x?[2J\""},
        {"{\"argv\":\"ls\"}", "argv: expected an array of strings, got string"},
        {"{\"argv\":null}", "argv: expected an array of strings, got null"},
        {"{\"argv\":[]}", "argv: must have at least one entry"},
        {"{\"argv\":[\"\"]}", "argv[0]: the command must not be empty"},
        {"{\"argv\":[\"a\",\"b\",2]}", "argv[2]: expected a string, got number"},
        {"{\"argv\":[\"a\",true]}", "argv[1]: expected a string, got boolean"},
        {"{\"argv\":[\"a\",[]]}", "argv[1]: expected a string, got array"},
        {"{\"argv\":[\"a\",{}]}", "argv[1]: expected a string, got object"},
        {"{\"argv\":[\"a\",null]}", "argv[1]: expected a string, got null"},
        {"{\"argv\":[\"a\"],\"policy\":\"\"}", "policy: must not be empty"},
        {"{\"argv\":[\"a\"],\"policy\":\".hidden\"}", "policy: \".hidden\" is not a policy name"},
        {"{\"argv\":[\"a\"],\"policy\":\"../etc/passwd\"}", "policy: \"../etc/passwd\" is not"},
        {"{\"argv\":[\"a\"],\"policy\":\"a/b\"}", "is not a policy name"},
        {"{\"argv\":[\"a\"],\"policy\":\"a b\"}", "is not a policy name"},
        {"{\"argv\":[\"a\"],\"policy\":\"\xc3\xa9t\xc3\xa9\"}", "is not a policy name"},
        {"{\"argv\":[\"a\"],\"policy\":"
         "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
         "policy: 65 bytes is over the limit of 64"},
        {"{\"argv\":[\"a\"],\"policy\":7}", "policy: expected a string, got number"},
        {"{\"argv\":[\"a\"],\"env\":[\"A=1\"]}", "env: expected an object"},
        {"{\"argv\":[\"a\"],\"env\":{\"1A\":\"x\"}}", "env: \"1A\" is not a valid name"},
        {"{\"argv\":[\"a\"],\"env\":{\"A-B\":\"x\"}}", "env: \"A-B\" is not a valid name"},
        {"{\"argv\":[\"a\"],\"env\":{\"A=B\":\"x\"}}", "env: \"A=B\" is not a valid name"},
        {"{\"argv\":[\"a\"],\"env\":{\"\":\"x\"}}", "env: \"\" is not a valid name"},
        {"{\"argv\":[\"a\"],\"env\":{\"A\":1}}", "env.A: expected a string, got number"},
        {"{\"argv\":[\"a\"],\"env\":{\"A\":null}}", "env.A: expected a string, got null"},
        {"{\"argv\":[\"a\"],\"env\":{\"A\":\"1\",\"A\":\"2\"}}", "duplicate object key"},
        {"{\"argv\":[\"a\"],\"cwd\":\"work\"}", "cwd: must be an absolute path"},
        {"{\"argv\":[\"a\"],\"cwd\":\"\"}", "cwd: must be an absolute path"},
        {"{\"argv\":[\"a\"],\"cwd\":\"/work/../etc\"}", "cwd: must not contain \"..\" components"},
        {"{\"argv\":[\"a\"],\"cwd\":\"/..\"}", "cwd: must not contain \"..\""},
        {"{\"argv\":[\"a\"],\"cwd\":\"/a/..\"}", "cwd: must not contain \"..\""},
        {"{\"argv\":[\"a\"],\"cwd\":1}", "cwd: expected a string, got number"},
        {"{\"argv\":[\"a\"],\"workspace\":\"/x\"}", "workspace: expected an object"},
        {"{\"argv\":[\"a\"],\"workspace\":{}}", "workspace: missing field \"path\""},
        {"{\"argv\":[\"a\"],\"workspace\":{\"path\":\"/x\",\"ro\":true}}",
         "workspace: unknown field \"ro\""},
        {"{\"argv\":[\"a\"],\"workspace\":{\"path\":\"x\"}}",
         "workspace.path: must be an absolute path"},
        {"{\"argv\":[\"a\"],\"workspace\":{\"path\":\"/x/../../etc\"}}",
         "workspace.path: must not contain \"..\""},
        {"{\"argv\":[\"a\"],\"limits\":[]}", "limits: expected an object, got array"},
        {"{\"argv\":[\"a\"],\"limits\":{\"memory\":1}}", "limits: unknown field \"memory\""},
        {"{\"argv\":[\"a\"],\"limits\":{\"pids\":-1}}",
         "limits.pids: expected a non-negative integer, got -1"},
        {"{\"argv\":[\"a\"],\"limits\":{\"pids\":1.5}}",
         "limits.pids: expected a non-negative integer, got number"},
        {"{\"argv\":[\"a\"],\"limits\":{\"pids\":1e3}}",
         "limits.pids: expected a non-negative integer, got number"},
        {"{\"argv\":[\"a\"],\"limits\":{\"pids\":\"5\"}}",
         "limits.pids: expected a non-negative integer, got string"},
        {"{\"argv\":[\"a\"],\"limits\":{\"memory_bytes\":99999999999999999999}}", "invalid JSON"},
        {"{\"argv\":[\"a\"],\"stdin\":\"tty\"}",
         "stdin: expected \"none\" or \"stream\", got \"tty\""},
        {"{\"argv\":[\"a\"],\"stdin\":true}", "stdin: expected a string, got boolean"},
        {"{\"argv\":[\"a\"],\"task_id\":\"a\\nb\"}", "task_id: \"a?b\" is not printable ASCII"},
        {"{\"argv\":[\"a\"],\"label\":\"\xc3\xa9\"}", "label: \"\xc3\xa9\" is not printable ASCII"},
        {"{\"argv\":[\"a\"],\"label\":\"\x7f\"}", "label: \"?\" is not printable ASCII"},
        {"{\"argv\":[\"a\"],\"label\":5}", "label: expected a string, got number"},
        {"{\"argv\":[\"a\"],\"task_id\":"
         "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
         "task_id: 129 bytes is over the limit of 128"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ls_run_request *req = (void *)0x1;
        struct ls_error err = {0};
        int r = ls_run_request_parse(cases[i].json, strlen(cases[i].json), &req, &err);
        if (r != -EINVAL || !strstr(err.msg, cases[i].msg))
            fail_msg("case %zu %s: got %d \"%s\", expected \"%s\"", i, cases[i].json, r, err.msg,
                     cases[i].msg);
        assert_ptr_equal(req, (void *)0x1);
        assert_int_equal(err.code, EINVAL);
        assert_string_equal(err.step, "request");
    }
}

/* Build {"argv": [n strings of size each]} (+ env entries). */
static char *big_request(size_t argc, size_t arg_size, size_t n_env, size_t env_value_size) {
    size_t cap = 64 + argc * (arg_size + 3) + n_env * (env_value_size + 32);
    char *s = malloc(cap), *p = s;
    assert_non_null(s);
    p += sprintf(p, "{\"argv\":[");
    for (size_t i = 0; i < argc; i++) {
        *p++ = '"';
        memset(p, 'a', arg_size);
        p += arg_size;
        *p++ = '"';
        if (i + 1 < argc)
            *p++ = ',';
    }
    *p++ = ']';
    if (n_env) {
        p += sprintf(p, ",\"env\":{");
        for (size_t i = 0; i < n_env; i++) {
            p += sprintf(p, "%s\"V%zu\":\"", i ? "," : "", i);
            memset(p, 'v', env_value_size);
            p += env_value_size;
            *p++ = '"';
        }
        *p++ = '}';
    }
    *p++ = '}';
    *p = '\0';
    assert_true((size_t)(p - s) < cap);
    return s;
}

static void run_request_bounds(void **state) {
    static const struct {
        size_t argc, arg_size, n_env, env_size;
        const char *msg; /* NULL: accepted */
    } cases[] = {
        {4096, 1, 0, 0, NULL},
        {4097, 1, 0, 0, "argv: 4097 entries is over the limit of 4096"},
        {1, 128 * 1024, 0, 0, NULL},
        {1, 128 * 1024 + 1, 0, 0, "argv[0]: 131073 bytes is over the limit of 131072"},
        {9, 120 * 1024, 0, 0, "over the limit of 1048576"}, /* frame too big */
        {1, 1, 1024, 1, NULL},
        {1, 1, 1025, 1, "env: 1025 entries is over the limit of 1024"},
        {1, 1, 1, 128 * 1024 - 3, NULL}, /* "V0=" + value = 128 KiB */
        {1, 1, 1, 128 * 1024 - 2, "env.V0: 131073 bytes is over the limit of 131072"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *json =
            big_request(cases[i].argc, cases[i].arg_size, cases[i].n_env, cases[i].env_size);
        struct ls_run_request *req = NULL;
        struct ls_error err = {0};
        int r = ls_run_request_parse(json, strlen(json), &req, &err);
        if (!cases[i].msg) {
            if (r != 0)
                fail_msg("case %zu: %s", i, err.msg);
            assert_int_equal(req->argc, cases[i].argc);
            assert_int_equal(req->n_env, cases[i].n_env);
            ls_run_request_free(req);
        } else if (r != -EINVAL || !strstr(err.msg, cases[i].msg)) {
            fail_msg("case %zu: got %d \"%s\", expected \"%s\"", i, r, err.msg, cases[i].msg);
        }
        free(json);
    }

    /* Paths: 4095 bytes are fine, 4096 are not. */
    static char json[8192];
    char path[4097];
    memset(path, 'p', sizeof(path) - 1);
    path[0] = '/';
    path[4095] = '\0';
    sprintf(json, "{\"argv\":[\"a\"],\"cwd\":\"%s\"}", path);
    struct ls_run_request *req = parse_ok(json);
    ls_run_request_free(req);
    path[4095] = 'p';
    path[4096] = '\0';
    sprintf(json, "{\"argv\":[\"a\"],\"cwd\":\"%s\"}", path);
    struct ls_error err = {0};
    assert_int_equal(ls_run_request_parse(json, strlen(json), &req, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "cwd: 4096 bytes is over the limit of 4095"));
}

static void run_request_to_json_refuses(void **state) {
    char *argv[] = {"ls", NULL};
    char *bad_env[] = {"NOEQUALS", NULL};
    char *bad_utf8[] = {"ls", "\xff", NULL};
    struct ls_run_request req = {.argv = argv, .argc = 1, .env = bad_env, .n_env = 1};

    errno = 0;
    assert_null(ls_run_request_to_json(&req));
    assert_int_equal(errno, EINVAL);
    req.env = NULL;
    req.n_env = 0;
    req.argv = bad_utf8;
    req.argc = 2;
    errno = 0;
    assert_null(ls_run_request_to_json(&req));
    assert_int_equal(errno, EINVAL);
    req.argv = NULL;
    req.argc = 0;
    assert_null(ls_run_request_to_json(&req));
}

/* ---- ERROR ------------------------------------------------------------------- */

static void error_codes(void **state) {
    static const char *const names[] = {
        NULL,    "bad_request", "unsupported",   "too_large", "forbidden", "unknown_policy",
        "limit", "busy",        "shutting_down", "internal"};
    assert_int_equal(sizeof(names) / sizeof(names[0]), LS_PROTO_CODE__MAX);
    for (int c = 1; c < LS_PROTO_CODE__MAX; c++) {
        struct ls_proto_error e;
        struct ls_error err = {0};
        assert_string_equal(ls_proto_code_name((enum ls_proto_code)c), names[c]);
        char *json =
            ls_proto_error_to_json((enum ls_proto_code)c, "why", c == LS_PROTO_BUSY ? 500 : 0);
        assert_non_null(json);
        assert_int_equal(ls_proto_error_parse(json, strlen(json), &e, &err), 0);
        assert_int_equal(e.code, c);
        assert_string_equal(e.message, "why");
        assert_int_equal(e.retry_after_ms, c == LS_PROTO_BUSY ? 500 : 0);
        free(json);
    }
    assert_null(ls_proto_code_name(0));
    assert_null(ls_proto_code_name(LS_PROTO_CODE__MAX));
    assert_null(ls_proto_code_name((enum ls_proto_code)1000));
    assert_null(ls_proto_error_to_json(0, "x", 0));
    assert_null(ls_proto_error_to_json(LS_PROTO_CODE__MAX, "x", 0));

    char *json = ls_proto_error_to_json(LS_PROTO_BUSY, "queue full", 250);
    assert_string_equal(json,
                        "{\"code\":\"busy\",\"message\":\"queue full\",\"retry_after_ms\":250}");
    free(json);
    json = ls_proto_error_to_json(LS_PROTO_FORBIDDEN, NULL, 0);
    assert_string_equal(json, "{\"code\":\"forbidden\",\"message\":\"\"}");
    free(json);
}

static void error_message_is_sanitised(void **state) {
    struct ls_proto_error e;
    struct ls_error err = {0};
    char long_msg[1000];

    /* Control characters, invalid UTF-8 and C1 controls become '?'. */
    char *json = ls_proto_error_to_json(LS_PROTO_INTERNAL, "a\x1b[31mb\xff\xc2\x9b\xc3\xa9\n", 0);
    assert_non_null(json);
    assert_int_equal(ls_proto_error_parse(json, strlen(json), &e, &err), 0);
    assert_string_equal(e.message, "a?[31mb??\xc3\xa9?");
    free(json);

    /* A long message is cut to fit (255 bytes with "..."), on a character boundary. */
    for (size_t i = 0; i + 2 < sizeof(long_msg); i += 2)
        memcpy(long_msg + i, "\xc3\xa9", 2);
    long_msg[998] = '\0';
    json = ls_proto_error_to_json(LS_PROTO_INTERNAL, long_msg, 0);
    assert_int_equal(ls_proto_error_parse(json, strlen(json), &e, &err), 0);
    size_t n = strlen(e.message);
    assert_true(n <= 255);
    assert_string_equal(e.message + n - 3, "...");
    assert_int_equal((unsigned char)e.message[n - 4], 0xa9);
    free(json);

    /* A long message parsed from elsewhere is cut the same way. */
    char doc[1200];
    snprintf(doc, sizeof(doc), "{\"code\":\"internal\",\"message\":\"%s\"}", long_msg);
    assert_int_equal(ls_proto_error_parse(doc, strlen(doc), &e, &err), 0);
    assert_true(strlen(e.message) <= 255);
}

static void error_rejections(void **state) {
    static const struct {
        const char *json, *msg;
    } cases[] = {
        {"{}", "missing field \"code\""},
        {"{\"code\":\"busy\"}", "missing field \"message\""},
        {"{\"message\":\"x\"}", "missing field \"code\""},
        {"{\"code\":\"nope\",\"message\":\"x\"}", "code: unknown error code \"nope\""},
        {"{\"code\":1,\"message\":\"x\"}", "code: expected a string, got number"},
        {"{\"code\":\"busy\",\"message\":[]}", "message: expected a string, got array"},
        {"{\"code\":\"busy\",\"message\":\"x\",\"retry_after_ms\":-5}",
         "retry_after_ms: expected a non-negative integer"},
        {"{\"code\":\"busy\",\"message\":\"x\",\"hint\":\"y\"}", "unknown field \"hint\""},
        {"[]", "expected a JSON object"},
        {"{\"code\":\"busy\",\"code\":\"busy\",\"message\":\"\"}", "duplicate"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ls_proto_error e;
        struct ls_error err = {0};
        int r = ls_proto_error_parse(cases[i].json, strlen(cases[i].json), &e, &err);
        if (r != -EINVAL || !strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: got %d \"%s\", expected \"%s\"", i, r, err.msg, cases[i].msg);
    }
}

/* ---- the other messages -------------------------------------------------------- */

static void empty_messages(void **state) {
    struct ls_error err = {0};
    assert_int_equal(ls_proto_empty_parse("{}", 2, &err), 0);
    assert_int_equal(ls_proto_empty_parse(" { } ", 5, &err), 0);
    assert_int_equal(ls_proto_empty_parse("{\"a\":1}", 7, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "unknown field \"a\""));
    assert_int_equal(ls_proto_empty_parse("", 0, &err), -EINVAL);
    assert_int_equal(ls_proto_empty_parse("[]", 2, &err), -EINVAL);
    assert_int_equal(ls_proto_empty_parse("{}x", 3, &err), -EINVAL);
}

static void queued_messages(void **state) {
    struct ls_error err = {0};
    uint64_t pos = 0;
    char *json = ls_proto_queued_to_json(3);
    assert_string_equal(json, "{\"position\":3}");
    assert_int_equal(ls_proto_queued_parse(json, strlen(json), &pos, &err), 0);
    assert_int_equal(pos, 3);
    free(json);
    assert_null(ls_proto_queued_to_json(0));
    assert_int_equal(ls_proto_queued_parse("{}", 2, &pos, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "missing field \"position\""));
    assert_int_equal(ls_proto_queued_parse("{\"position\":0}", 14, &pos, &err), -EINVAL);
    assert_int_equal(ls_proto_queued_parse("{\"position\":\"1\"}", 16, &pos, &err), -EINVAL);
    assert_int_equal(ls_proto_queued_parse("{\"position\":1,\"eta\":2}", 22, &pos, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "unknown field \"eta\""));
}

static void started_messages(void **state) {
    struct ls_error err = {0};
    struct ls_proto_started s = {.id = "sb-0001",
                                 .policy = "qa-default",
                                 .policy_version = 3,
                                 .policy_hash = "0123456789abcdef"},
                            back;
    char *json = ls_proto_started_to_json(&s);
    assert_string_equal(json, "{\"id\":\"sb-0001\",\"policy\":\"qa-default\",\"policy_version\":3,"
                              "\"policy_hash\":\"0123456789abcdef\"}");
    assert_int_equal(ls_proto_started_parse(json, strlen(json), &back, &err), 0);
    assert_memory_equal(&back, &s, sizeof(s));
    free(json);

    static const struct {
        const char *json, *msg;
    } cases[] = {
        {"{\"policy\":\"p\",\"policy_version\":1,\"policy_hash\":\"ab\"}", "missing field \"id\""},
        {"{\"id\":\"x\",\"policy_version\":1,\"policy_hash\":\"ab\"}", "missing field \"policy\""},
        {"{\"id\":\"x\",\"policy\":\"p\",\"policy_hash\":\"ab\"}",
         "missing field \"policy_version\""},
        {"{\"id\":\"x\",\"policy\":\"p\",\"policy_version\":1}", "missing field \"policy_hash\""},
        {"{\"id\":\"\",\"policy\":\"p\",\"policy_version\":1,\"policy_hash\":\"ab\"}",
         "id: must not be empty"},
        {"{\"id\":\"a\\tb\",\"policy\":\"p\",\"policy_version\":1,\"policy_hash\":\"ab\"}",
         "id: \"a?b\" is not printable"},
        {"{\"id\":\"x\",\"policy\":\".p\",\"policy_version\":1,\"policy_hash\":\"ab\"}",
         "is not a policy name"},
        {"{\"id\":\"x\",\"policy\":\"p\",\"policy_version\":-1,\"policy_hash\":\"ab\"}",
         "policy_version: expected"},
        {"{\"id\":\"x\",\"policy\":\"p\",\"policy_version\":1,\"policy_hash\":\"AB\"}",
         "is not lowercase hex"},
        {"{\"id\":\"x\",\"policy\":\"p\",\"policy_version\":1,\"policy_hash\":\"\"}",
         "policy_hash: must not be empty"},
        {"{\"id\":\"x\",\"policy\":\"p\",\"policy_version\":1,\"policy_hash\":\"ab\",\"at\":1}",
         "unknown field \"at\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int r = ls_proto_started_parse(cases[i].json, strlen(cases[i].json), &back, &err);
        if (r != -EINVAL || !strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: got %d \"%s\", expected \"%s\"", i, r, err.msg, cases[i].msg);
    }
    struct ls_proto_started bad = s;
    bad.policy_hash[0] = 'X';
    assert_null(ls_proto_started_to_json(&bad));
    bad = s;
    bad.id[0] = '\0';
    assert_null(ls_proto_started_to_json(&bad));
}

static void result_messages(void **state) {
    struct ls_error err = {0};
    struct ls_result res = {.reason = LS_REASON_TIMEOUT,
                            .exit_code = -1,
                            .signal = 9,
                            .wall_ms = 30001,
                            .cgroup_version = 2};
    struct ls_proto_result back;
    char *json = ls_proto_result_to_json("sb-7", "strict", &res);
    assert_non_null(json);
    assert_non_null(
        strstr(json, "\"id\":\"sb-7\",\"policy\":\"strict\",\"result\":{\"reason\":\"timeout\""));
    assert_int_equal(ls_proto_result_parse(json, strlen(json), &back, &err), 0);
    assert_string_equal(back.id, "sb-7");
    assert_string_equal(back.policy, "strict");
    assert_int_equal(back.result.reason, LS_REASON_TIMEOUT);
    assert_int_equal(back.result.signal, 9);
    assert_int_equal(back.result.wall_ms, 30001);
    free(json);
    assert_null(ls_proto_result_to_json("", "strict", &res));
    assert_null(ls_proto_result_to_json("x", "no/pe", &res));

    static const struct {
        const char *json, *msg;
    } cases[] = {
        {"{\"id\":\"x\",\"policy\":\"p\"}", "missing field \"result\""},
        {"{\"id\":\"x\",\"policy\":\"p\",\"result\":[]}", "result: expected an object, got array"},
        {"{\"id\":\"x\",\"policy\":\"p\",\"result\":{}}", "result: result JSON"},
        {"{\"id\":\"x\",\"policy\":\"p\",\"result\":{},\"extra\":1}", "result: result JSON"},
        {"{\"id\":\"x\",\"policy\":\"p\",\"extra\":1}", "unknown field \"extra\""},
        {"{\"policy\":\"p\",\"result\":{}}", "result: result JSON"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int r = ls_proto_result_parse(cases[i].json, strlen(cases[i].json), &back, &err);
        if (r != -EINVAL || !strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: got %d \"%s\", expected \"%s\"", i, r, err.msg, cases[i].msg);
    }
}

static void status_reply_check(void **state) {
    struct ls_error err = {0};
    const char *doc = "{\"version\":\"0.1.0\",\"ready\":true,\"future_field\":[1,2]}";
    assert_int_equal(ls_proto_status_reply_check(doc, strlen(doc), &err), 0);
    assert_int_equal(ls_proto_status_reply_check("[1]", 3, &err), -EINVAL);
    assert_int_equal(ls_proto_status_reply_check("{", 1, &err), -EINVAL);
}

static void policy_names(void **state) {
    assert_true(ls_proto_policy_name_valid("qa-default"));
    assert_true(ls_proto_policy_name_valid("a.b_c-D9"));
    assert_true(ls_proto_policy_name_valid("x"));
    assert_false(ls_proto_policy_name_valid(""));
    assert_false(ls_proto_policy_name_valid("."));
    assert_false(ls_proto_policy_name_valid(".."));
    assert_false(ls_proto_policy_name_valid("a/b"));
    assert_false(ls_proto_policy_name_valid("a b"));
    char name[66];
    memset(name, 'n', 65);
    name[65] = '\0';
    assert_false(ls_proto_policy_name_valid(name));
    name[64] = '\0';
    assert_true(ls_proto_policy_name_valid(name));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frame_types),
        cmocka_unit_test(header_round_trip),
        cmocka_unit_test(header_rejections),
        cmocka_unit_test(encode_whole_frame),
        cmocka_unit_test(reader_one_byte_at_a_time),
        cmocka_unit_test(reader_random_splits),
        cmocka_unit_test(reader_refuses_1gb_on_its_header),
        cmocka_unit_test(reader_bad_header_mid_stream),
        cmocka_unit_test(reader_truncated_frames),
        cmocka_unit_test(reader_memory_is_bounded),
        cmocka_unit_test(run_request_full),
        cmocka_unit_test(run_request_minimal),
        cmocka_unit_test(run_request_rejections),
        cmocka_unit_test(run_request_bounds),
        cmocka_unit_test(run_request_to_json_refuses),
        cmocka_unit_test(error_codes),
        cmocka_unit_test(error_message_is_sanitised),
        cmocka_unit_test(error_rejections),
        cmocka_unit_test(empty_messages),
        cmocka_unit_test(queued_messages),
        cmocka_unit_test(started_messages),
        cmocka_unit_test(result_messages),
        cmocka_unit_test(status_reply_check),
        cmocka_unit_test(policy_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
