/*
 * test_strutil.c - the sample project's tests: prints one line per check and exits 1
 * when any check fails.  "word count, leading space" fails on purpose (see strutil.c).
 */
#include "strutil.h"

#include <stdio.h>
#include <string.h>

static int failures;

static void check(const char *name, int ok) {
    printf("%s  %s\n", ok ? "PASS" : "FAIL", name);
    if (!ok)
        failures++;
}

int main(void) {
    char buf[32];

    strcpy(buf, "sandbox");
    check("reverse", strcmp(str_reverse(buf), "xobdnas") == 0);
    strcpy(buf, "");
    check("reverse, empty string", strcmp(str_reverse(buf), "") == 0);
    check("word count", str_word_count("run untrusted code") == 3);
    check("word count, empty string", str_word_count("") == 0);
    check("word count, leading space", str_word_count(" leading space") == 2);
    check("palindrome", str_is_palindrome("Racecar"));
    check("not a palindrome", !str_is_palindrome("labstack"));

    printf("%d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
