/*
 * strutil.h - a tiny string library, the "project under test" of scripts/demo.
 */
#pragma once

#include <stddef.h>

/* Reverse s in place; returns s. */
char *str_reverse(char *s);

/* Number of words in s; words are separated by runs of spaces. */
size_t str_word_count(const char *s);

/* 1 when s reads the same backwards, ignoring case; 0 otherwise. */
int str_is_palindrome(const char *s);
