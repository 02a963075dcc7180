/*
 * parse.c - number parsing that refuses anything it does not fully understand.
 * A typo in a limit must be an error, never a silently different limit.
 */
#include "labstack/parse.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

int ls_parse_uint(const char *s, uint64_t max, uint64_t *ret) {
    uint64_t v = 0;
    if (!s || !isdigit((unsigned char)*s))
        return -EINVAL;
    for (; isdigit((unsigned char)*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    if (*s)
        return -EINVAL;
    if (v > max)
        return -ERANGE;
    *ret = v;
    return 0;
}

int ls_parse_size(const char *s, uint64_t *ret) {
    uint64_t v = 0, mult = 1;
    if (!s || !isdigit((unsigned char)*s))
        return -EINVAL;
    for (; isdigit((unsigned char)*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    switch (*s) {
    case '\0':
        break;
    case 'K': case 'k': mult = 1ull << 10; s++; break;
    case 'M': case 'm': mult = 1ull << 20; s++; break;
    case 'G': case 'g': mult = 1ull << 30; s++; break;
    case 'T': case 't': mult = 1ull << 40; s++; break;
    case 'B':
        break;
    default:
        return -EINVAL;
    }
    if (mult > 1 && (strcmp(s, "iB") == 0 || strcmp(s, "B") == 0))
        s += strlen(s);
    else if (mult == 1 && strcmp(s, "B") == 0)
        s++;
    if (*s)
        return -EINVAL;
    if (v > UINT64_MAX / mult)
        return -ERANGE;
    *ret = v * mult;
    return 0;
}

int ls_parse_seconds_ms(const char *s, uint64_t *ret_ms) {
    uint64_t whole = 0, frac = 0, scale = 1000;
    if (!s || !isdigit((unsigned char)*s))
        return -EINVAL;
    for (; isdigit((unsigned char)*s); s++) {
        if (whole > (UINT64_MAX / 1000 - 9) / 10)
            return -ERANGE;
        whole = whole * 10 + (uint64_t)(*s - '0');
    }
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s))
            return -EINVAL;
        for (; isdigit((unsigned char)*s); s++) {
            if (scale > 1) {
                scale /= 10;
                frac += (uint64_t)(*s - '0') * scale;
            }
        }
    }
    if (*s)
        return -EINVAL;
    *ret_ms = whole * 1000 + frac;
    return 0;
}
