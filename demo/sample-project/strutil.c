/*
 * strutil.c - the tiny string library built and tested by scripts/demo.
 *
 * str_word_count() has a bug ON PURPOSE (it counts spaces, so a leading space makes
 * one word too many): the demo shows a failing test being reported from the sandbox.
 */
#include "strutil.h"

#include <ctype.h>
#include <string.h>

char *str_reverse(char *s) {
    size_t n = strlen(s);
    for (size_t i = 0; i < n / 2; i++) {
        char c = s[i];
        s[i] = s[n - 1 - i];
        s[n - 1 - i] = c;
    }
    return s;
}

size_t str_word_count(const char *s) {
    /* The deliberate bug: this counts the spaces between words, so a leading (or
     * doubled) space is taken for one more word. */
    if (*s == '\0')
        return 0;
    size_t spaces = 0;
    for (; *s; s++) {
        if (*s == ' ')
            spaces++;
    }
    return spaces + 1;
}

int str_is_palindrome(const char *s) {
    size_t n = strlen(s);
    for (size_t i = 0; i < n / 2; i++) {
        if (tolower((unsigned char)s[i]) != tolower((unsigned char)s[n - 1 - i]))
            return 0;
    }
    return 1;
}
