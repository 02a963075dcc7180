/*
 * parse.h - strict parsing of the numbers people write in flags and policies.
 */
#pragma once

#include <stdint.h>

/* "1048576", "64K", "16M", "2G", "1T" (binary multiples, optional "iB"/"B" suffix,
 * e.g. "16MiB").  Rejects empty strings, signs, junk and overflow.  0 or -EINVAL /
 * -ERANGE. */
int ls_parse_size(const char *s, uint64_t *ret);

/* Seconds as "30", "2.5", "0.25" -> milliseconds.  Rejects negatives, junk, overflow. */
int ls_parse_seconds_ms(const char *s, uint64_t *ret_ms);

/* A decimal unsigned integer that fits in max. */
int ls_parse_uint(const char *s, uint64_t max, uint64_t *ret);
