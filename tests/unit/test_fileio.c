/* Unit tests for common/fileio.c: whole-file reads with a cap, atomic replacement. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "labstack/fileio.h"

static char dir[] = "/tmp/test_fileio.XXXXXX";

static void path(char *buf, size_t size, const char *name) {
    snprintf(buf, size, "%s/%s", dir, name);
}

static void write_bytes(const char *p, size_t n) {
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fputc('a' + (int)(i % 26), f);
    assert_int_equal(fclose(f), 0);
}

static void read_exact_cap_and_over(void **state) {
    char p[128], *buf = NULL;
    size_t len = 0;
    path(p, sizeof(p), "f");
    write_bytes(p, 4096);
    /* exactly the cap: fine (a review found this refused once) */
    assert_int_equal(ls_read_file(p, 4096, &buf, &len), 0);
    assert_int_equal(len, 4096);
    assert_int_equal(buf[4095], 'a' + 4095 % 26);
    assert_int_equal(buf[4096], '\0');
    free(buf);
    /* one byte over */
    buf = NULL;
    assert_int_equal(ls_read_file(p, 4095, &buf, &len), -EFBIG);
    assert_null(buf);
    /* empty file */
    write_bytes(p, 0);
    assert_int_equal(ls_read_file(p, 10, &buf, &len), 0);
    assert_int_equal(len, 0);
    assert_string_equal(buf, "");
    free(buf);
    unlink(p);
}

static void read_refuses_non_regular(void **state) {
    char p[128], *buf = NULL;
    size_t len;
    assert_int_equal(ls_read_file(dir, 100, &buf, &len), -EISDIR);
    path(p, sizeof(p), "fifo");
    assert_int_equal(mkfifo(p, 0600), 0);
    /* a FIFO with no writer must not block the reader */
    assert_int_equal(ls_read_file(p, 100, &buf, &len), -EINVAL);
    unlink(p);
    path(p, sizeof(p), "missing");
    assert_int_equal(ls_read_file(p, 100, &buf, &len), -ENOENT);
    assert_null(buf);
}

static void atomic_write(void **state) {
    char p[128], *buf = NULL;
    size_t len;
    struct stat st;
    path(p, sizeof(p), "doc");
    assert_int_equal(ls_write_file_atomic(p, "first", 5, 0600), 0);
    assert_int_equal(ls_write_file_atomic(p, "second\n", 7, 0644), 0);
    assert_int_equal(ls_read_file(p, 100, &buf, &len), 0);
    assert_string_equal(buf, "second\n");
    free(buf);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    /* a directory that does not exist: an error and no temp file anywhere */
    char bad[160];
    snprintf(bad, sizeof(bad), "%s/nodir/doc", dir);
    assert_int_equal(ls_write_file_atomic(bad, "x", 1, 0644), -ENOENT);
    unlink(p);
}

static int setup(void **state) {
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    return rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(read_exact_cap_and_over),
        cmocka_unit_test(read_refuses_non_regular),
        cmocka_unit_test(atomic_write),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
