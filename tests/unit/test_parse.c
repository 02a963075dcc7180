/* Unit tests for common/parse.c: sizes, durations and integers, and what they refuse. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "labstack/parse.h"

static void sizes(void **state) {
    uint64_t v;
    assert_int_equal(ls_parse_size("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(ls_parse_size("1048576", &v), 0);
    assert_int_equal(v, 1048576);
    assert_int_equal(ls_parse_size("64K", &v), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(ls_parse_size("16M", &v), 0);
    assert_int_equal(v, 16u << 20);
    assert_int_equal(ls_parse_size("16MiB", &v), 0);
    assert_int_equal(v, 16u << 20);
    assert_int_equal(ls_parse_size("2g", &v), 0);
    assert_int_equal(v, 2ull << 30);
    assert_int_equal(ls_parse_size("1T", &v), 0);
    assert_int_equal(v, 1ull << 40);
    assert_int_equal(ls_parse_size("12B", &v), 0);
    assert_int_equal(v, 12);
}

static void bad_sizes(void **state) {
    uint64_t v = 42;
    const char *bad[] = {"", "M", "-1", "+1", " 1", "1 ", "1.5M", "12X", "lots", "1MM", "1Mi", "0x10"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ls_parse_size(bad[i], &v), -EINVAL);
    assert_int_equal(v, 42);
    assert_int_equal(ls_parse_size(NULL, &v), -EINVAL);
    assert_int_equal(ls_parse_size("99999999999999999999", &v), -ERANGE);
    assert_int_equal(ls_parse_size("17179869184G", &v), -ERANGE);
}

static void seconds(void **state) {
    uint64_t ms;
    assert_int_equal(ls_parse_seconds_ms("30", &ms), 0);
    assert_int_equal(ms, 30000);
    assert_int_equal(ls_parse_seconds_ms("2.5", &ms), 0);
    assert_int_equal(ms, 2500);
    assert_int_equal(ls_parse_seconds_ms("0.001", &ms), 0);
    assert_int_equal(ms, 1);
    assert_int_equal(ls_parse_seconds_ms("0.0009", &ms), 0);
    assert_int_equal(ms, 0);
    const char *bad[] = {"", ".5", "5.", "-1", "1s", "1e3", "abc", "1.2.3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ls_parse_seconds_ms(bad[i], &ms), -EINVAL);
    assert_int_equal(ls_parse_seconds_ms("99999999999999999999", &ms), -ERANGE);
}

static void uints(void **state) {
    uint64_t v;
    assert_int_equal(ls_parse_uint("65533", 65533, &v), 0);
    assert_int_equal(v, 65533);
    assert_int_equal(ls_parse_uint("65534", 65533, &v), -ERANGE);
    assert_int_equal(ls_parse_uint("-1", 10, &v), -EINVAL);
    assert_int_equal(ls_parse_uint("1a", 10, &v), -EINVAL);
    assert_int_equal(ls_parse_uint("", 10, &v), -EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sizes),
        cmocka_unit_test(bad_sizes),
        cmocka_unit_test(seconds),
        cmocka_unit_test(uints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
