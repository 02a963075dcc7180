/*
 * fuzz_protocol.c - libFuzzer target for the protocol: the frame reader and every
 * message parser, fed the way a socket feeds them.
 *
 * The first byte of an input chooses the read sizes (1 to 256 bytes, varying), the
 * rest is the byte stream a peer sent.  It goes through an ls_frame_reader in those
 * chunks; every frame taken off is checked against its header's rules, and every JSON
 * frame goes through the parser for its type.  A RUN request that parses is
 * serialised and parsed again and must come back the same; an ERROR, QUEUED, STARTED
 * or RESULT that parses is re-encoded and re-parsed the same way.  A refusal must say
 * why (a non-empty message).  ASan/LSan/UBSan turn any memory error, leak or undefined
 * behaviour into a crash; abort() marks a broken invariant.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "labstack/error.h"
#include "labstack/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok) {
    if (!ok)
        abort();
}

/* A refusal says what was wrong. */
static void check_refusal(int r, const struct ls_error *err) {
    check(r == -EINVAL || r == -ENOMEM);
    check(r == -ENOMEM || (err->msg[0] != '\0' && err->code == EINVAL));
}

static bool str_eq(const char *a, const char *b) {
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void run_request(const uint8_t *p, size_t len) {
    struct ls_run_request *req = NULL, *back = NULL;
    struct ls_error err = {0};
    int r = ls_run_request_parse(p, len, &req, &err);
    if (r < 0) {
        check_refusal(r, &err);
        return;
    }
    check(req->argc >= 1 && req->argc <= LS_PROTO_MAX_ARGC && req->argv[req->argc] == NULL);
    check(req->n_env <= LS_PROTO_MAX_ENV && (!req->env || req->env[req->n_env] == NULL));
    char *json = ls_run_request_to_json(req);
    check(json != NULL);
    r = ls_run_request_parse(json, strlen(json), &back, &err);
    check(r == 0);
    check(str_eq(req->policy, back->policy) && str_eq(req->cwd, back->cwd) &&
          str_eq(req->workspace_path, back->workspace_path) &&
          str_eq(req->task_id, back->task_id) && str_eq(req->label, back->label));
    check(req->argc == back->argc && req->n_env == back->n_env &&
          req->stdin_mode == back->stdin_mode &&
          memcmp(&req->limits, &back->limits, sizeof(req->limits)) == 0);
    for (size_t i = 0; i < req->argc; i++)
        check(strcmp(req->argv[i], back->argv[i]) == 0);
    for (size_t i = 0; i < req->n_env; i++)
        check(strcmp(req->env[i], back->env[i]) == 0);
    free(json);
    ls_run_request_free(back);
    ls_run_request_free(req);
}

static void error_message(const uint8_t *p, size_t len) {
    struct ls_proto_error e, back;
    struct ls_error err = {0};
    int r = ls_proto_error_parse(p, len, &e, &err);
    if (r < 0) {
        check_refusal(r, &err);
        return;
    }
    check(ls_proto_code_name(e.code) != NULL);
    check(memchr(e.message, '\0', sizeof(e.message)) != NULL);
    char *json = ls_proto_error_to_json(e.code, e.message, e.retry_after_ms);
    check(json != NULL);
    check(ls_proto_error_parse(json, strlen(json), &back, &err) == 0);
    check(back.code == e.code && back.retry_after_ms == e.retry_after_ms &&
          strcmp(back.message, e.message) == 0);
    free(json);
}

static void queued(const uint8_t *p, size_t len) {
    struct ls_error err = {0};
    uint64_t pos = 0, back = 0;
    int r = ls_proto_queued_parse(p, len, &pos, &err);
    if (r < 0) {
        check_refusal(r, &err);
        return;
    }
    char *json = ls_proto_queued_to_json(pos);
    check(json != NULL);
    check(ls_proto_queued_parse(json, strlen(json), &back, &err) == 0 && back == pos);
    free(json);
}

static void started(const uint8_t *p, size_t len) {
    struct ls_error err = {0};
    struct ls_proto_started s, back;
    int r = ls_proto_started_parse(p, len, &s, &err);
    if (r < 0) {
        check_refusal(r, &err);
        return;
    }
    char *json = ls_proto_started_to_json(&s);
    check(json != NULL);
    check(ls_proto_started_parse(json, strlen(json), &back, &err) == 0);
    check(memcmp(&s, &back, sizeof(s)) == 0);
    free(json);
}

static void result(const uint8_t *p, size_t len) {
    struct ls_error err = {0};
    struct ls_proto_result res, back;
    int r = ls_proto_result_parse(p, len, &res, &err);
    if (r < 0) {
        check_refusal(r, &err);
        return;
    }
    char *json = ls_proto_result_to_json(res.id, res.policy, &res.result);
    check(json != NULL);
    check(ls_proto_result_parse(json, strlen(json), &back, &err) == 0);
    check(strcmp(res.id, back.id) == 0 && strcmp(res.policy, back.policy) == 0 &&
          res.result.reason == back.result.reason &&
          res.result.exit_code == back.result.exit_code &&
          res.result.wall_ms == back.result.wall_ms);
    free(json);
}

static void frame(const struct ls_frame_header *h, const uint8_t *p) {
    struct ls_error err = {0};
    int r;

    check(h->version == LS_PROTO_VERSION && h->flags == 0 && ls_frame_type_known(h->type));
    check(h->length <= ls_frame_max_length(h->type));
    if (!ls_frame_type_is_json(h->type))
        return;
    switch (h->type) {
    case LS_FRAME_RUN:
        run_request(p, h->length);
        break;
    case LS_FRAME_ERROR:
        error_message(p, h->length);
        break;
    case LS_FRAME_QUEUED:
        queued(p, h->length);
        break;
    case LS_FRAME_STARTED:
        started(p, h->length);
        break;
    case LS_FRAME_RESULT:
        result(p, h->length);
        break;
    case LS_FRAME_CANCEL:
    case LS_FRAME_STATUS:
        if ((r = ls_proto_empty_parse(p, h->length, &err)) < 0)
            check_refusal(r, &err);
        break;
    case LS_FRAME_STATUS_REPLY:
        if ((r = ls_proto_status_reply_check(p, h->length, &err)) < 0)
            check_refusal(r, &err);
        break;
    default:
        /* RUNNER_SPEC is the supervisor's internal document (supervisor/runspec.c). */
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct ls_frame_reader rd;
    size_t off = 1;
    unsigned step;

    if (size == 0)
        return 0;
    step = data[0];
    ls_frame_reader_init(&rd);
    while (off < size) {
        size_t n = (step & 0xff) + 1;
        if (n > size - off)
            n = size - off;
        check(ls_frame_reader_feed(&rd, data + off, n) == 0);
        off += n;
        step = step * 33 + 7;

        for (;;) {
            struct ls_frame_header h;
            const uint8_t *payload = NULL;
            struct ls_error err = {0};
            int r = ls_frame_reader_next(&rd, &h, &payload, &err);
            if (r == 0)
                break;
            if (r < 0) {
                /* A bad header ends the connection: stop reading like a peer would. */
                check((r == -EPROTO || r == -EMSGSIZE) && err.msg[0] != '\0');
                goto out;
            }
            frame(&h, payload);
        }
        /* Bounded: what is pending is less than one header plus one largest frame. */
        check(rd.len - rd.consumed < LS_FRAME_HEADER_SIZE + LS_PROTO_MAX_JSON);
    }
out:
    ls_frame_reader_free(&rd);
    return 0;
}
