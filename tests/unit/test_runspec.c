/*
 * Unit tests for supervisor/runspec.c: a fully populated struct ls_sandbox_spec survives
 * runspec_to_json -> runspec_from_json field by field; NULL and empty binds/env stay
 * apart; and every malformed document is refused with a message naming the field,
 * without leaks (run under ASan).
 */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "labstack/error.h"
#include "runspec.h"

static const char *const full_argv[] = {"/usr/bin/python3", "-c", "print('héllo')", "", "a b\tc",
                                        NULL};
static const char *const full_env[] = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "EMPTY=",
                                       "Q=\"quoted\\\"", NULL};
static const struct ls_bind full_binds[] = {
    {.src = "/usr", .dst = NULL, .writable = false, .optional = false},
    {.src = "/srv/data", .dst = "/mnt/data", .writable = true, .optional = false},
    {.src = "/opt/tool", .dst = "/tool", .writable = false, .optional = true},
    {.src = "/var/cache/x", .dst = NULL, .writable = true, .optional = true},
};

/* Every field set, each to a different value (several above 2^32). */
static void full_spec(struct ls_sandbox_spec *s) {
    ls_sandbox_spec_init(s);
    s->argv = full_argv;
    s->envp = full_env;
    s->workspace = "/var/lib/labstack/ws/run-1";
    s->binds = full_binds;
    s->n_binds = sizeof(full_binds) / sizeof(full_binds[0]);
    s->uid = 1000;
    s->gid = 2001;
    s->hostname = "box-7";
    s->cwd = "/work/sub";
    s->memory_max = (5ull << 32) + 1;
    s->cpu_millis = 1500;
    s->pids_max = 77;
    s->cpu_time_ms = 123456789012ull;
    s->shm_max = (1ull << 33) + 3;
    s->tmp_size = (1ull << 34) + 5;
    s->tmp_inodes = 9999;
    s->work_size = (1ull << 35) + 7;
    s->rlimits.nofile = 4096;
    s->rlimits.fsize = (1ull << 40) + 11;
    s->rlimits.nproc = 333;
    s->rlimits.cpu_s = 61;
    s->rlimits.stack = 8u << 20;
    s->timeout_ms = 86400000ull * 3;
    s->stdout_limit = (1ull << 36) + 13;
    s->stderr_limit = 12345;
}

static void assert_limits_equal(const struct ls_sandbox_spec *a, const struct ls_sandbox_spec *b) {
    assert_int_equal(a->uid, b->uid);
    assert_int_equal(a->gid, b->gid);
    assert_int_equal(a->memory_max, b->memory_max);
    assert_int_equal(a->cpu_millis, b->cpu_millis);
    assert_int_equal(a->pids_max, b->pids_max);
    assert_int_equal(a->cpu_time_ms, b->cpu_time_ms);
    assert_int_equal(a->shm_max, b->shm_max);
    assert_int_equal(a->tmp_size, b->tmp_size);
    assert_int_equal(a->tmp_inodes, b->tmp_inodes);
    assert_int_equal(a->work_size, b->work_size);
    assert_int_equal(a->rlimits.nofile, b->rlimits.nofile);
    assert_int_equal(a->rlimits.fsize, b->rlimits.fsize);
    assert_int_equal(a->rlimits.nproc, b->rlimits.nproc);
    assert_int_equal(a->rlimits.cpu_s, b->rlimits.cpu_s);
    assert_int_equal(a->rlimits.stack, b->rlimits.stack);
    assert_int_equal(a->timeout_ms, b->timeout_ms);
    assert_int_equal(a->stdout_limit, b->stdout_limit);
    assert_int_equal(a->stderr_limit, b->stderr_limit);
}

static void assert_strv_equal(const char *const *a, const char *const *b) {
    size_t i;
    assert_non_null(a);
    assert_non_null(b);
    for (i = 0; a[i] && b[i]; i++)
        assert_string_equal(a[i], b[i]);
    assert_null(a[i]);
    assert_null(b[i]);
}

static struct runspec *round_trip(const char *id, const struct ls_sandbox_spec *in, bool stdin_stream) {
    struct runspec *rs = NULL;
    struct ls_error err;
    char *json = runspec_to_json(id, in, stdin_stream);
    assert_non_null(json);
    ls_error_clear(&err);
    int r = runspec_from_json(json, strlen(json), &rs, &err);
    if (r < 0)
        fprintf(stderr, "%s\n  -> %s\n", json, err.msg);
    free(json);
    assert_int_equal(r, 0);
    assert_non_null(rs);
    return rs;
}

static void full_round_trip(void **state) {
    struct ls_sandbox_spec in;
    full_spec(&in);
    struct runspec *rs = round_trip("run-0123456789abcdef", &in, true);
    const struct ls_sandbox_spec *out = &rs->spec;

    assert_string_equal(rs->id, "run-0123456789abcdef");
    assert_true(rs->stdin_stream);
    assert_strv_equal(out->argv, in.argv);
    assert_strv_equal(out->envp, in.envp);
    assert_string_equal(out->workspace, in.workspace);
    assert_string_equal(out->hostname, "box-7");
    assert_string_equal(out->cwd, "/work/sub");
    assert_int_equal(out->n_binds, in.n_binds);
    assert_non_null(out->binds);
    for (size_t i = 0; i < in.n_binds; i++) {
        assert_string_equal(out->binds[i].src, in.binds[i].src);
        if (in.binds[i].dst)
            assert_string_equal(out->binds[i].dst, in.binds[i].dst);
        else
            assert_null(out->binds[i].dst);
        assert_int_equal(out->binds[i].writable, in.binds[i].writable);
        assert_int_equal(out->binds[i].optional, in.binds[i].optional);
    }
    assert_limits_equal(out, &in);

    /* The spec points into the runspec, and what the document does not carry keeps
     * ls_sandbox_spec_init's value. */
    assert_ptr_equal(out->argv, (const char *const *)rs->argv);
    assert_ptr_equal(out->envp, (const char *const *)rs->env);
    assert_ptr_equal(out->binds, rs->binds);
    assert_ptr_equal(out->workspace, rs->workspace);
    assert_ptr_equal(out->hostname, rs->hostname);
    assert_ptr_equal(out->cwd, rs->cwd);
    assert_int_equal(out->stdin_fd, -1);
    assert_int_equal(out->cancel_fd, -1);
    assert_null(out->seccomp);
    assert_null(out->on_output);
    assert_null(runspec_free(rs));
}

/* Extremes of every integer: 0 everywhere, and the largest values each field keeps. */
static void extremes_round_trip(void **state) {
    struct ls_sandbox_spec in;
    full_spec(&in);
    in.uid = 0;
    in.gid = 0;
    in.memory_max = in.pids_max = in.cpu_time_ms = in.shm_max = in.tmp_size = 0;
    in.tmp_inodes = in.work_size = in.timeout_ms = in.stdout_limit = in.stderr_limit = 0;
    in.cpu_millis = 0;
    in.rlimits = (struct ls_rlimits){0};
    struct runspec *rs = round_trip("z", &in, false);
    assert_false(rs->stdin_stream);
    assert_limits_equal(&rs->spec, &in);
    runspec_free(rs);

    in.uid = 65534;
    in.gid = 4294967294u; /* the largest id that is not (gid_t)-1 */
    in.cpu_millis = UINT32_MAX;
    in.memory_max = INT64_MAX;
    in.rlimits.stack = INT64_MAX;
    in.stderr_limit = INT64_MAX;
    rs = round_trip("z", &in, false);
    assert_limits_equal(&rs->spec, &in);
    runspec_free(rs);

    in.uid = 3000000000u;
    in.gid = 2147483648u;
    rs = round_trip("z", &in, false);
    assert_limits_equal(&rs->spec, &in);
    runspec_free(rs);
}

/* NULL and empty are different things for binds (NULL: the default system binds;
 * empty: none at all) and for env (NULL: a minimal environment; empty: nothing). */
static void null_and_empty_preserved(void **state) {
    static const char *const no_env[] = {NULL};
    static const struct ls_bind no_binds[1];
    struct ls_sandbox_spec in;
    struct runspec *rs;

    full_spec(&in);
    in.binds = NULL;
    in.n_binds = 0;
    in.envp = NULL;
    in.workspace = NULL;
    in.hostname = NULL;
    in.cwd = NULL;
    rs = round_trip("a", &in, false);
    assert_null(rs->spec.binds);
    assert_int_equal(rs->spec.n_binds, 0);
    assert_null(rs->spec.envp);
    assert_null(rs->env);
    assert_null(rs->spec.workspace);
    assert_string_equal(rs->spec.hostname, "sandbox"); /* ls_sandbox_spec_init's */
    assert_string_equal(rs->spec.cwd, "/work");
    assert_strv_equal(rs->spec.argv, full_argv);
    runspec_free(rs);

    full_spec(&in);
    in.binds = no_binds;
    in.n_binds = 0;
    in.envp = no_env;
    rs = round_trip("a", &in, false);
    assert_non_null(rs->spec.binds);
    assert_int_equal(rs->spec.n_binds, 0);
    assert_non_null(rs->spec.envp);
    assert_null(rs->spec.envp[0]);
    runspec_free(rs);
}

/* A valid document with one change made by edit(), then parsed: refused with -EINVAL,
 * a message containing want, *ret untouched. */
typedef void (*edit_fn)(json_t *doc);

static void expect_reject_doc(const char *text, size_t len, const char *want) {
    struct runspec *rs = (struct runspec *)(uintptr_t)0x1;
    struct ls_error err;
    ls_error_clear(&err);
    int r = runspec_from_json(text, len, &rs, &err);
    if (r != -EINVAL || !strstr(err.msg, want))
        fprintf(stderr, "runspec %.*s\n  -> r=%d msg=\"%s\" (want \"%s\")\n", (int)len, text, r,
                err.msg, want);
    assert_int_equal(r, -EINVAL);
    assert_int_equal(err.code, EINVAL);
    assert_string_equal(err.step, "runspec");
    assert_non_null(strstr(err.msg, want));
    assert_ptr_equal(rs, (struct runspec *)(uintptr_t)0x1);
}

static void expect_reject_edit(edit_fn edit, const char *want) {
    struct ls_sandbox_spec in;
    full_spec(&in);
    char *json = runspec_to_json("run-1", &in, true);
    assert_non_null(json);
    json_t *doc = json_loads(json, 0, NULL);
    free(json);
    assert_non_null(doc);
    edit(doc);
    json = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    assert_non_null(json);
    expect_reject_doc(json, strlen(json), want);
    free(json);
}

#define EDIT(name, body) \
    static void name(json_t *doc) { body; }
#define LIMITS json_object_get(doc, "limits")
#define RLIMITS json_object_get(doc, "rlimits")
#define BIND(i) json_array_get(json_object_get(doc, "binds"), i)

EDIT(no_id, json_object_del(doc, "id"))
EDIT(null_id, json_object_set_new(doc, "id", json_null()))
EDIT(int_id, json_object_set_new(doc, "id", json_integer(5)))
EDIT(no_argv, json_object_del(doc, "argv"))
EDIT(empty_argv, json_object_set_new(doc, "argv", json_array()))
EDIT(argv_string, json_object_set_new(doc, "argv", json_string("/bin/true")))
EDIT(argv_non_string, json_array_set_new(json_object_get(doc, "argv"), 2, json_integer(7)))
EDIT(argv_null_entry, json_array_append_new(json_object_get(doc, "argv"), json_null()))
EDIT(argv_nul_byte, json_array_set_new(json_object_get(doc, "argv"), 1, json_stringn("a\0b", 3)))
EDIT(env_object, json_object_set_new(doc, "env", json_object()))
EDIT(env_non_string, json_array_set_new(json_object_get(doc, "env"), 3, json_true()))
EDIT(workspace_int, json_object_set_new(doc, "workspace", json_integer(1)))
EDIT(cwd_nul, json_object_set_new(doc, "cwd", json_stringn("/w\0x", 4)))
EDIT(hostname_array, json_object_set_new(doc, "hostname", json_array()))
EDIT(no_uid, json_object_del(doc, "uid"))
EDIT(gid_string, json_object_set_new(doc, "gid", json_string("0")))
EDIT(uid_negative, json_object_set_new(doc, "uid", json_integer(-1)))
EDIT(uid_minus_two, json_object_set_new(doc, "uid", json_integer(-2)))
EDIT(uid_2_32, json_object_set_new(doc, "uid", json_integer(4294967296ll)))
EDIT(gid_all_ones, json_object_set_new(doc, "gid", json_integer(4294967295ll)))
EDIT(no_limits, json_object_del(doc, "limits"))
EDIT(limits_array, json_object_set_new(doc, "limits", json_array()))
EDIT(no_rlimits, json_object_del(doc, "rlimits"))
EDIT(memory_negative, json_object_set_new(LIMITS, "memory_max", json_integer(-1)))
EDIT(pids_string, json_object_set_new(LIMITS, "pids_max", json_string("5")))
EDIT(timeout_real, json_object_set_new(LIMITS, "timeout_ms", json_real(1.5)))
EDIT(no_stderr_limit, json_object_del(LIMITS, "stderr_limit"))
EDIT(cpu_millis_big, json_object_set_new(LIMITS, "cpu_millis", json_integer(4294967296ll)))
EDIT(stack_negative, json_object_set_new(RLIMITS, "stack", json_integer(INT64_MIN)))
EDIT(no_nofile, json_object_del(RLIMITS, "nofile"))
EDIT(binds_object, json_object_set_new(doc, "binds", json_object()))
EDIT(bind_relative, json_object_set_new(BIND(2), "src", json_string("opt/tool")))
EDIT(bind_empty_src, json_object_set_new(BIND(0), "src", json_string("")))
EDIT(bind_no_src, json_object_del(BIND(1), "src"))
EDIT(bind_int_src, json_object_set_new(BIND(3), "src", json_integer(1)))
EDIT(bind_not_object, json_array_set_new(json_object_get(doc, "binds"), 1, json_string("/x")))
EDIT(bind_src_nul, json_object_set_new(BIND(3), "src", json_stringn("/a\0b", 4)))
EDIT(bind_dst_int, json_object_set_new(BIND(1), "dst", json_integer(3)))
EDIT(too_many_binds, {
    json_t *b = json_object_get(doc, "binds");
    while (json_array_size(b) <= 256)
        json_array_append_new(b, json_pack("{s:s}", "src", "/x"));
})

static void rejects_each_bad_field(void **state) {
    static const struct {
        edit_fn edit;
        const char *want;
    } cases[] = {
        {no_id, "id: missing"},
        {null_id, "id: missing"},
        {int_id, "id: expected a string"},
        {no_argv, "argv: expected an array"},
        {empty_argv, "argv: expected an array of 1-"},
        {argv_string, "argv: expected an array"},
        {argv_non_string, "argv[2]: expected a string"},
        {argv_null_entry, "argv[5]: expected a string"},
        {argv_nul_byte, "not JSON: \\u0000 is not allowed"}, /* the parser refuses NUL */
        {env_object, "env: expected an array"},
        {env_non_string, "env[3]: expected a string"},
        {workspace_int, "workspace: expected a string"},
        {cwd_nul, "not JSON: \\u0000 is not allowed"},
        {hostname_array, "hostname: expected a string"},
        {no_uid, "uid"},
        {gid_string, "gid"},
        {uid_negative, "uid"},
        {uid_minus_two, "uid"},
        {uid_2_32, "uid"},
        {gid_all_ones, "gid"},
        {no_limits, "limits"},
        {limits_array, "limits"},
        {no_rlimits, "rlimits"},
        {memory_negative, "limits.memory_max: expected a non-negative integer"},
        {pids_string, "limits.pids_max: expected a non-negative integer"},
        {timeout_real, "limits.timeout_ms: expected a non-negative integer"},
        {no_stderr_limit, "limits.stderr_limit"},
        {cpu_millis_big, "limits.cpu_millis: out of range"},
        {stack_negative, "rlimits.stack: expected a non-negative integer"},
        {no_nofile, "rlimits.nofile"},
        {binds_object, "binds: expected an array"},
        {bind_relative, "binds[2].src: expected an absolute path"},
        {bind_empty_src, "binds[0].src: expected an absolute path"},
        {bind_no_src, "binds[1].src: expected an absolute path"},
        {bind_int_src, "binds[3].src: expected an absolute path"},
        {bind_not_object, "binds[1].src"},
        {bind_src_nul, "not JSON: \\u0000 is not allowed"},
        {bind_dst_int, "dst: expected a string"},
        {too_many_binds, "binds: expected an array"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_reject_edit(cases[i].edit, cases[i].want);
}

static void rejects_non_documents(void **state) {
    static const char *const texts[][2] = {
        {"", "not JSON"},
        {"{", "not JSON"},
        {"not json at all", "not JSON"},
        {"{\"id\": \"a\", \"id\": \"b\"}", "not JSON"}, /* duplicate keys */
        {"[]", "id: missing"},
        {"\"run-1\"", "not JSON"}, /* the root must be an object or array */
        {"5", "not JSON"},
        {"{}", "id: missing"},
        {"{\"id\": \"a\"}", "argv"},
        {"{\"id\": \"a\", \"argv\": [\"x\"]}", "uid/gid"},
        {"{\"id\": \"a\", \"argv\": [\"x\"], \"uid\": 0, \"gid\": 0}", "limits"},
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        expect_reject_doc(texts[i][0], strlen(texts[i][0]), texts[i][1]);
    /* len bounds the parse: a valid document cut short is not JSON */
    struct ls_sandbox_spec in;
    full_spec(&in);
    char *json = runspec_to_json("run-1", &in, false);
    assert_non_null(json);
    expect_reject_doc(json, strlen(json) - 1, "not JSON");
    free(json);
}

/* cpu_millis exactly UINT32_MAX is the largest that fits; the JSON is hand-written so
 * that the bound is the parser's, not the serialiser's. */
static void cpu_millis_bound(void **state) {
    struct ls_sandbox_spec in;
    struct runspec *rs = NULL;
    struct ls_error err;
    full_spec(&in);
    char *json = runspec_to_json("b", &in, false);
    json_t *doc = json_loads(json, 0, NULL);
    free(json);
    json_object_set_new(json_object_get(doc, "limits"), "cpu_millis", json_integer(UINT32_MAX));
    json = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    assert_int_equal(runspec_from_json(json, strlen(json), &rs, &err), 0);
    assert_int_equal(rs->spec.cpu_millis, UINT32_MAX);
    free(json);
    runspec_free(rs);
}

static void free_null(void **state) {
    assert_null(runspec_free(NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_round_trip),
        cmocka_unit_test(extremes_round_trip),
        cmocka_unit_test(null_and_empty_preserved),
        cmocka_unit_test(rejects_each_bad_field),
        cmocka_unit_test(rejects_non_documents),
        cmocka_unit_test(cpu_millis_bound),
        cmocka_unit_test(free_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
