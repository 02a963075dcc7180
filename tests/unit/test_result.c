/* Unit tests for common/result.c: the result's JSON form round-trips and is strict. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "labstack/result.h"

static void round_trip_exited(void **state) {
    struct ls_result r = {.reason = LS_REASON_EXITED, .exit_code = 3, .wall_ms = 12, .user_ms = 4,
                          .sys_ms = 5, .stdout_bytes = 100, .stderr_bytes = 7,
                          .stdout_truncated = true, .host_uid = 1000042,
                          .peak_memory_bytes = 1 << 20, .cpu_user_ms = 8, .cpu_sys_ms = 9,
                          .pids_peak = 3, .cgroup_version = 2}, back;
    struct ls_error e;
    char *json = ls_result_to_json(&r);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"reason\":\"exited\""));
    assert_null(strstr(json, "\"error\""));
    assert_int_equal(ls_result_from_json(json, &back, &e), 0);
    assert_int_equal(back.reason, LS_REASON_EXITED);
    assert_int_equal(back.exit_code, 3);
    assert_int_equal(back.wall_ms, 12);
    assert_int_equal(back.user_ms, 4);
    assert_int_equal(back.sys_ms, 5);
    assert_int_equal(back.stdout_bytes, 100);
    assert_int_equal(back.stderr_bytes, 7);
    assert_true(back.stdout_truncated);
    assert_false(back.stderr_truncated);
    assert_int_equal(back.host_uid, 1000042);
    assert_int_equal(back.peak_memory_bytes, 1 << 20);
    assert_int_equal(back.cpu_user_ms, 8);
    assert_int_equal(back.cpu_sys_ms, 9);
    assert_int_equal(back.pids_peak, 3);
    assert_int_equal(back.cgroup_version, 2);
    free(json);
}

static void setup_failed_carries_error(void **state) {
    struct ls_result r = {.reason = LS_REASON_SETUP_FAILED, .exit_code = -1}, back;
    struct ls_error e;
    ls_error_set(&r.error, EACCES, "proc", "mount /proc");
    char *json = ls_result_to_json(&r);
    assert_non_null(strstr(json, "\"step\":\"proc\""));
    assert_int_equal(ls_result_from_json(json, &back, &e), 0);
    assert_int_equal(back.reason, LS_REASON_SETUP_FAILED);
    assert_string_equal(back.error.msg, "mount /proc: Permission denied");
    assert_int_equal(back.error.code, EACCES);
    free(json);
}

static void every_reason_has_a_name(void **state) {
    for (int i = LS_REASON_NONE; i < LS_REASON__MAX; i++)
        assert_string_not_equal(ls_reason_name((enum ls_reason)i), "unknown");
    assert_string_equal(ls_reason_name((enum ls_reason)99), "unknown");
    assert_string_equal(ls_reason_name(LS_REASON_OUTPUT_LIMIT), "output_limit");
    assert_string_equal(ls_reason_name(LS_REASON_SECCOMP), "seccomp");
    assert_string_equal(ls_reason_name(LS_REASON_OOM), "oom");
    assert_string_equal(ls_reason_name(LS_REASON_PIDS_LIMIT), "pids_limit");
    assert_string_equal(ls_reason_name(LS_REASON_CPU_LIMIT), "cpu_limit");
    assert_string_equal(ls_reason_name(LS_REASON__MAX), "unknown");
}

static void strict_parsing(void **state) {
    struct ls_result r;
    struct ls_error e;
    const char *ok = "{\"reason\":\"timeout\",\"exit_code\":-1,\"signal\":9,\"wall_ms\":1,"
                     "\"user_ms\":0,\"sys_ms\":0,\"stdout_bytes\":0,\"stderr_bytes\":0,"
                     "\"stdout_truncated\":false,\"stderr_truncated\":false,\"host_uid\":1,"
                     "\"peak_memory_bytes\":0,\"cpu_user_ms\":0,\"cpu_sys_ms\":0,\"pids_peak\":0,"
                     "\"cgroup_version\":1}";
    assert_int_equal(ls_result_from_json(ok, &r, &e), 0);
    assert_int_equal(r.reason, LS_REASON_TIMEOUT);
    assert_int_equal(ls_result_from_json("{", &r, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "result JSON"));
    assert_int_equal(ls_result_from_json("{\"reason\":\"exited\"}", &r, &e), -EINVAL);
    char buf[512];
    /* unknown reason */
    strcpy(buf, ok);
    memcpy(strstr(buf, "timeout"), "timeoux", 7);
    assert_int_equal(ls_result_from_json(buf, &r, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "timeoux"));
    /* unknown key */
    snprintf(buf, sizeof(buf), "%.*s,\"extra\":1}", (int)strlen(ok) - 1, ok);
    assert_int_equal(ls_result_from_json(buf, &r, &e), -EINVAL);
    /* negative counter */
    const char *neg = "{\"reason\":\"exited\",\"exit_code\":0,\"signal\":0,\"wall_ms\":-5,"
                      "\"user_ms\":0,\"sys_ms\":0,\"stdout_bytes\":0,\"stderr_bytes\":0,"
                      "\"stdout_truncated\":false,\"stderr_truncated\":false,\"host_uid\":1,"
                     "\"peak_memory_bytes\":0,\"cpu_user_ms\":0,\"cpu_sys_ms\":0,\"pids_peak\":0,"
                     "\"cgroup_version\":1}";
    assert_int_equal(ls_result_from_json(neg, &r, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "negative"));
}

/* denied_syscalls: counts by name in order, null when not available. */
static void denied_syscalls_round_trip(void **state) {
    struct ls_result r = {.reason = LS_REASON_EXITED, .exit_code = 0}, back;
    struct ls_error e;
    char *json;

    /* Not available: null, and back as not available. */
    json = ls_result_to_json(&r);
    assert_non_null(strstr(json, "\"denied_syscalls\":null"));
    assert_int_equal(ls_result_from_json(json, &back, &e), 0);
    assert_false(back.denied_syscalls.available);
    free(json);

    /* Available and empty. */
    r.denied_syscalls.available = true;
    json = ls_result_to_json(&r);
    assert_non_null(strstr(json, "\"denied_syscalls\":{\"total\":0,\"by_syscall\":{}}"));
    assert_int_equal(ls_result_from_json(json, &back, &e), 0);
    assert_true(back.denied_syscalls.available);
    assert_int_equal(back.denied_syscalls.total, 0);
    assert_int_equal(back.denied_syscalls.n, 0);
    free(json);

    /* The full list, in order; total above the listed sum (more than 32 syscalls). */
    r.denied_syscalls.total = 5000;
    r.denied_syscalls.n = LS_DENIED_MAX;
    for (unsigned i = 0; i < LS_DENIED_MAX; i++) {
        snprintf(r.denied_syscalls.by_syscall[i].name, LS_SYSCALL_NAME_MAX, "syscall_%u", 400 + i);
        r.denied_syscalls.by_syscall[i].count = 100 - i;
    }
    snprintf(r.denied_syscalls.by_syscall[0].name, LS_SYSCALL_NAME_MAX, "mount");
    json = ls_result_to_json(&r);
    assert_non_null(strstr(json, "\"denied_syscalls\":{\"total\":5000,\"by_syscall\":{\"mount\":100,"
                                 "\"syscall_401\":99,"));
    assert_int_equal(ls_result_from_json(json, &back, &e), 0);
    assert_true(back.denied_syscalls.available);
    assert_int_equal(back.denied_syscalls.total, 5000);
    assert_int_equal(back.denied_syscalls.n, LS_DENIED_MAX);
    for (unsigned i = 0; i < LS_DENIED_MAX; i++) {
        assert_string_equal(back.denied_syscalls.by_syscall[i].name,
                            r.denied_syscalls.by_syscall[i].name);
        assert_int_equal(back.denied_syscalls.by_syscall[i].count,
                         r.denied_syscalls.by_syscall[i].count);
    }
    free(json);
}

static void denied_syscalls_strict(void **state) {
    static const char head[] =
        "{\"reason\":\"exited\",\"exit_code\":0,\"signal\":0,\"wall_ms\":1,"
        "\"user_ms\":0,\"sys_ms\":0,\"stdout_bytes\":0,\"stderr_bytes\":0,"
        "\"stdout_truncated\":false,\"stderr_truncated\":false,\"host_uid\":1,"
        "\"peak_memory_bytes\":0,\"cpu_user_ms\":0,\"cpu_sys_ms\":0,\"pids_peak\":0,"
        "\"cgroup_version\":1";
    static const struct {
        const char *denied;
        const char *error; /* NULL: accepted */
    } cases[] = {
        {NULL, NULL}, /* absent (an older writer): not available */
        {"null", NULL},
        {"{\"total\":3,\"by_syscall\":{\"mount\":2,\"keyctl\":1}}", NULL},
        {"{\"total\":3,\"by_syscall\":{\"mount\":2}}", NULL},
        {"{\"total\":-1,\"by_syscall\":{}}", "negative"},
        {"{\"total\":1,\"by_syscall\":{\"mount\":2}}", "exceed the total"},
        {"{\"total\":1,\"by_syscall\":{\"Mount\":1}}", "invalid name"},
        {"{\"total\":1,\"by_syscall\":{\"\":1}}", "invalid name"},
        {"{\"total\":1,\"by_syscall\":{\"a_name_that_is_much_too_long_xyz\":1}}", "invalid name"},
        {"{\"total\":1,\"by_syscall\":{\"mount\":-1}}", "expected a count"},
        {"{\"total\":1,\"by_syscall\":{\"mount\":\"1\"}}", "expected a count"},
        {"{\"total\":1,\"by_syscall\":[]}", "expected an object"},
        {"{\"total\":1}", "denied_syscalls"},
        {"{\"total\":1,\"by_syscall\":{},\"extra\":1}", "denied_syscalls"},
        {"7", "denied_syscalls"},
    };
    char buf[2048];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ls_result r;
        struct ls_error e = {0};
        int rc;
        if (cases[i].denied)
            snprintf(buf, sizeof(buf), "%s,\"denied_syscalls\":%s}", head, cases[i].denied);
        else
            snprintf(buf, sizeof(buf), "%s}", head);
        rc = ls_result_from_json(buf, &r, &e);
        if (cases[i].error) {
            if (rc != -EINVAL || !strstr(e.msg, cases[i].error))
                fail_msg("%s: got %d \"%s\", expected an error with \"%s\"", cases[i].denied, rc,
                         e.msg, cases[i].error);
        } else {
            if (rc != 0)
                fail_msg("%s: %s", cases[i].denied ? cases[i].denied : "(absent)", e.msg);
        }
    }
    /* 33 entries: one too many. */
    int n = snprintf(buf, sizeof(buf), "%s,\"denied_syscalls\":{\"total\":99,\"by_syscall\":{", head);
    for (int i = 0; i <= LS_DENIED_MAX; i++)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s\"s%d\":1", i ? "," : "", i);
    snprintf(buf + n, sizeof(buf) - (size_t)n, "}}}");
    struct ls_result r;
    struct ls_error e = {0};
    assert_int_equal(ls_result_from_json(buf, &r, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "at most 32"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_exited),
        cmocka_unit_test(setup_failed_carries_error),
        cmocka_unit_test(every_reason_has_a_name),
        cmocka_unit_test(strict_parsing),
        cmocka_unit_test(denied_syscalls_round_trip),
        cmocka_unit_test(denied_syscalls_strict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
