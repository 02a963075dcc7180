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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_exited),
        cmocka_unit_test(setup_failed_carries_error),
        cmocka_unit_test(every_reason_has_a_name),
        cmocka_unit_test(strict_parsing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
