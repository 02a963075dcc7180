/* Unit tests for common/error.c: messages that name the step, and bounded buffers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "labstack/error.h"

static void set_formats_and_appends_strerror(void **state) {
    struct ls_error e;
    int r = ls_error_set(&e, EACCES, "mount", "mount %s", "/proc");
    assert_int_equal(r, -EACCES);
    assert_int_equal(e.code, EACCES);
    assert_string_equal(e.step, "mount");
    assert_string_equal(e.msg, "mount /proc: Permission denied");
}

static void negative_errno_is_accepted(void **state) {
    struct ls_error e;
    assert_int_equal(ls_error_set(&e, -ENOENT, "x", "y"), -ENOENT);
    assert_int_equal(e.code, ENOENT);
}

static void zero_errno_means_einval_without_suffix(void **state) {
    struct ls_error e;
    assert_int_equal(ls_error_set(&e, 0, "spec", "bad thing"), -EINVAL);
    assert_int_equal(e.code, EINVAL);
    assert_string_equal(e.msg, "bad thing");
}

static void null_error_is_fine(void **state) {
    assert_int_equal(ls_error_set(NULL, EIO, "a", "b"), -EIO);
    assert_int_equal(ls_error_set_safe(NULL, EIO, "a", "b", NULL), -EIO);
    ls_error_clear(NULL);
    ls_error_prefix(NULL, "x");
}

static void safe_variant_concatenates(void **state) {
    struct ls_error e;
    ls_error_set_safe(&e, EROFS, "bind", "attach", "/usr");
    assert_string_equal(e.step, "bind");
    assert_string_equal(e.msg, "attach /usr: Read-only file system");
    ls_error_set_safe(&e, 0, "x", "plain", NULL);
    assert_string_equal(e.msg, "plain");
}

static void long_messages_are_truncated_not_overflowed(void **state) {
    struct ls_error e;
    char big[2000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ls_error_set_safe(&e, EIO, "a-very-long-step-name-that-does-not-fit-in-32", big, big);
    assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
    assert_int_equal(strlen(e.step), sizeof(e.step) - 1);
    ls_error_set(&e, EIO, "s", "%s", big);
    assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
}

static void prefix_adds_context(void **state) {
    struct ls_error e;
    ls_error_set(&e, ENOENT, "bind", "stat /x");
    ls_error_prefix(&e, "sandbox 7");
    assert_string_equal(e.msg, "sandbox 7: stat /x: No such file or directory");
}

static void strlcpy_bounds(void **state) {
    char buf[4];
    assert_int_equal(ls_strlcpy(buf, "abcdef", sizeof(buf)), 6);
    assert_string_equal(buf, "abc");
    assert_int_equal(ls_strlcpy(buf, "", sizeof(buf)), 0);
    assert_string_equal(buf, "");
}

static void fmt_u64(void **state) {
    char buf[24];
    assert_int_equal(ls_fmt_u64(buf, sizeof(buf), 0), 1);
    assert_string_equal(buf, "0");
    assert_int_equal(ls_fmt_u64(buf, sizeof(buf), 1048576), 7);
    assert_string_equal(buf, "1048576");
    assert_int_equal(ls_fmt_u64(buf, sizeof(buf), UINT64_MAX), 20);
    assert_string_equal(buf, "18446744073709551615");
    char small[4];
    ls_fmt_u64(small, sizeof(small), 123456);
    assert_string_equal(small, "123");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_formats_and_appends_strerror),
        cmocka_unit_test(negative_errno_is_accepted),
        cmocka_unit_test(zero_errno_means_einval_without_suffix),
        cmocka_unit_test(null_error_is_fine),
        cmocka_unit_test(safe_variant_concatenates),
        cmocka_unit_test(long_messages_are_truncated_not_overflowed),
        cmocka_unit_test(prefix_adds_context),
        cmocka_unit_test(strlcpy_bounds),
        cmocka_unit_test(fmt_u64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
