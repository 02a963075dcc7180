/*
 * jsonpos.c - a second, position-keeping pass over a JSON document (see jsonpos.h).
 *
 * A plain recursive-descent scanner: it decodes keys (escapes included, so they
 * compare equal to jansson's), skips over scalar values, and records where each value
 * and key starts.  It trusts nothing: on bytes that are not JSON it fails cleanly,
 * and nesting is limited like jansson's parser (2048 levels).
 */
#include "jsonpos.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labstack/macros.h"

#define MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

struct scanner {
    const unsigned char *s;
    size_t len, i;
    int line, col; /* position of s[i] */
    int depth;
};

static void node_clear(struct jsonpos_node *n) {
    for (size_t i = 0; i < n->n_kids; i++)
        node_clear(&n->kids[i]);
    free(n->kids);
    free(n->key);
    n->kids = NULL;
    n->key = NULL;
    n->n_kids = 0;
}

static int peek(const struct scanner *sc) {
    return sc->i < sc->len ? sc->s[sc->i] : -1;
}

/* Consume one byte, keeping line and column: a UTF-8 continuation byte belongs to the
 * character before it. */
static void advance(struct scanner *sc) {
    unsigned char c = sc->s[sc->i++];
    if (c == '\n') {
        sc->line++;
        sc->col = 1;
    } else if (sc->i >= sc->len || (sc->s[sc->i] & 0xc0) != 0x80) {
        sc->col++;
    }
}

static void skip_ws(struct scanner *sc) {
    for (int c = peek(sc); c == ' ' || c == '\t' || c == '\n' || c == '\r'; c = peek(sc))
        advance(sc);
}

static int hex4(struct scanner *sc, unsigned *ret) {
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        int c = peek(sc);
        if (c >= '0' && c <= '9')
            v = v * 16 + (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v * 16 + (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v = v * 16 + (unsigned)(c - 'A' + 10);
        else
            return -EINVAL;
        advance(sc);
    }
    *ret = v;
    return 0;
}

static size_t utf8_put(char *out, unsigned cp) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A string at the opening quote.  With ret, the decoded text is returned: it is
 * never longer than the raw text between the quotes. */
static int scan_string(struct scanner *sc, char **ret) {
    size_t end = sc->i + 1, n = 0;
    _cleanup_free_ char *out = NULL;

    /* Find the closing quote first; control characters (newlines included) are not
     * allowed in JSON strings, so the line does not change inside one. */
    for (;; end++) {
        if (end >= sc->len || sc->s[end] < 0x20)
            return -EINVAL;
        if (sc->s[end] == '"')
            break;
        if (sc->s[end] == '\\')
            end++;
    }
    if (!ret) {
        while (sc->i <= end)
            advance(sc);
        return 0;
    }
    out = malloc(end - sc->i);
    if (!out)
        return -ENOMEM;
    advance(sc); /* opening '"' */
    while (sc->i < end) {
        int c = peek(sc);
        advance(sc);
        if (c != '\\') {
            out[n++] = (char)c;
            continue;
        }
        c = peek(sc);
        advance(sc);
        switch (c) {
        case '"':
            out[n++] = '"';
            break;
        case '\\':
            out[n++] = '\\';
            break;
        case '/':
            out[n++] = '/';
            break;
        case 'b':
            out[n++] = '\b';
            break;
        case 'f':
            out[n++] = '\f';
            break;
        case 'n':
            out[n++] = '\n';
            break;
        case 'r':
            out[n++] = '\r';
            break;
        case 't':
            out[n++] = '\t';
            break;
        case 'u': {
            /* \uXXXX is 6 raw bytes and at most 3 UTF-8 ones; a surrogate pair is 12
             * raw bytes and 4 UTF-8 ones. */
            unsigned cp, lo;
            if (sc->i + 4 > end || hex4(sc, &cp) < 0)
                return -EINVAL;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (sc->i + 6 > end || peek(sc) != '\\')
                    return -EINVAL;
                advance(sc);
                if (peek(sc) != 'u')
                    return -EINVAL;
                advance(sc);
                if (hex4(sc, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                    return -EINVAL;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                return -EINVAL;
            }
            if (cp == 0)
                return -EINVAL; /* jansson refuses NUL in keys too */
            n += utf8_put(out + n, cp);
            break;
        }
        default:
            return -EINVAL;
        }
    }
    advance(sc); /* closing '"' */
    out[n] = '\0';
    *ret = TAKE_PTR(out);
    return 0;
}

static bool scalar_char(int c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '+' || c == '.' ||
           c == 'E';
}

static int scan_value(struct scanner *sc, struct jsonpos_node *n);

/* Append a zeroed kid to n; returns it or NULL on ENOMEM. */
static struct jsonpos_node *add_kid(struct jsonpos_node *n, size_t *cap) {
    if (n->n_kids == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        struct jsonpos_node *k = reallocarray(n->kids, ncap, sizeof(*k));
        if (!k)
            return NULL;
        n->kids = k;
        *cap = ncap;
    }
    struct jsonpos_node *k = &n->kids[n->n_kids++];
    *k = (struct jsonpos_node){0};
    return k;
}

static int cmp_member(const void *a, const void *b) {
    const struct jsonpos_node *x = *(const struct jsonpos_node *const *)a;
    const struct jsonpos_node *y = *(const struct jsonpos_node *const *)b;
    int r = strcmp(x->key, y->key);
    if (r)
        return r;
    return x < y ? -1 : x > y;
}

/* Point every repeated key of object n at its first occurrence. */
static int mark_repeats(struct jsonpos_node *n) {
    if (n->n_kids < 2)
        return 0;
    _cleanup_free_ struct jsonpos_node **v = calloc(n->n_kids, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < n->n_kids; i++)
        v[i] = &n->kids[i];
    qsort(v, n->n_kids, sizeof(*v), cmp_member);
    for (size_t i = 1; i < n->n_kids; i++)
        if (strcmp(v[i]->key, v[i - 1]->key) == 0)
            v[i]->first = v[i - 1]->first ? v[i - 1]->first : v[i - 1];
    return 0;
}

static int scan_object(struct scanner *sc, struct jsonpos_node *n) {
    size_t cap = 0;
    int r;

    n->type = JSONPOS_OBJECT;
    advance(sc); /* '{' */
    skip_ws(sc);
    if (peek(sc) == '}') {
        advance(sc);
        return 0;
    }
    for (;;) {
        struct jsonpos_node *k;
        int kline, kcol;

        skip_ws(sc);
        if (peek(sc) != '"')
            return -EINVAL;
        k = add_kid(n, &cap);
        if (!k)
            return -ENOMEM;
        kline = sc->line;
        kcol = sc->col;
        r = scan_string(sc, &k->key);
        if (r < 0)
            return r;
        skip_ws(sc);
        if (peek(sc) != ':')
            return -EINVAL;
        advance(sc);
        r = scan_value(sc, k);
        if (r < 0)
            return r;
        k->key_line = kline;
        k->key_col = kcol;
        skip_ws(sc);
        if (peek(sc) == ',') {
            advance(sc);
            continue;
        }
        if (peek(sc) != '}')
            return -EINVAL;
        advance(sc);
        return mark_repeats(n);
    }
}

static int scan_array(struct scanner *sc, struct jsonpos_node *n) {
    size_t cap = 0;
    int r;

    n->type = JSONPOS_ARRAY;
    advance(sc); /* '[' */
    skip_ws(sc);
    if (peek(sc) == ']') {
        advance(sc);
        return 0;
    }
    for (;;) {
        struct jsonpos_node *k = add_kid(n, &cap);
        if (!k)
            return -ENOMEM;
        r = scan_value(sc, k);
        if (r < 0)
            return r;
        skip_ws(sc);
        if (peek(sc) == ',') {
            advance(sc);
            continue;
        }
        if (peek(sc) != ']')
            return -EINVAL;
        advance(sc);
        return 0;
    }
}

static int scan_value(struct scanner *sc, struct jsonpos_node *n) {
    int c, r;

    skip_ws(sc);
    n->line = sc->line;
    n->col = sc->col;
    c = peek(sc);
    if (c == '{' || c == '[') {
        if (++sc->depth > MAX_DEPTH)
            return -EINVAL;
        r = c == '{' ? scan_object(sc, n) : scan_array(sc, n);
        sc->depth--;
        return r;
    }
    n->type = JSONPOS_SCALAR;
    if (c == '"')
        return scan_string(sc, NULL);
    if (!scalar_char(c))
        return -EINVAL;
    while (scalar_char(peek(sc)))
        advance(sc);
    return 0;
}

int jsonpos_scan(const char *data, size_t len, struct jsonpos **ret) {
    struct scanner sc = {.s = (const unsigned char *)data, .len = len, .line = 1, .col = 1};
    struct jsonpos *pos;
    int r;

    if (!data && len)
        return -EINVAL;
    pos = calloc(1, sizeof(*pos));
    if (!pos)
        return -ENOMEM;
    r = scan_value(&sc, &pos->root);
    if (r >= 0) {
        skip_ws(&sc);
        if (sc.i != sc.len)
            r = -EINVAL;
    }
    if (r < 0) {
        jsonpos_free(pos);
        return r;
    }
    *ret = pos;
    return 0;
}

struct jsonpos *jsonpos_free(struct jsonpos *pos) {
    if (pos) {
        node_clear(&pos->root);
        free(pos);
    }
    return NULL;
}

const struct jsonpos_node *jsonpos_member(const struct jsonpos_node *obj, const char *key) {
    if (!obj || obj->type != JSONPOS_OBJECT || !key)
        return NULL;
    for (size_t i = obj->n_kids; i-- > 0;)
        if (strcmp(obj->kids[i].key, key) == 0)
            return &obj->kids[i];
    return NULL;
}

const struct jsonpos_node *jsonpos_element(const struct jsonpos_node *arr, size_t i) {
    if (!arr || arr->type != JSONPOS_ARRAY || i >= arr->n_kids)
        return NULL;
    return &arr->kids[i];
}

static bool plain_key(const char *key) {
    if (!*key)
        return false;
    for (const char *p = key; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return false;
    return true;
}

const struct jsonpos_node *jsonpos_lookup(const struct jsonpos *pos, const char *path) {
    const struct jsonpos_node *n;
    const char *p = path;

    if (!pos || !path)
        return NULL;
    n = &pos->root;
    while (*p && n) {
        if (*p == '[' && p[1] == '"') {
            /* ["key"]: a quoted key, with \" and \\ escaped */
            _cleanup_free_ char *key = malloc(strlen(p));
            size_t k = 0;
            if (!key)
                return NULL;
            for (p += 2; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                key[k++] = *p;
            }
            key[k] = '\0';
            if (p[0] != '"' || p[1] != ']')
                return NULL;
            p += 2;
            n = jsonpos_member(n, key);
        } else if (*p == '[') {
            char *end;
            unsigned long long i;
            if (p[1] < '0' || p[1] > '9')
                return NULL;
            i = strtoull(p + 1, &end, 10);
            if (*end != ']')
                return NULL;
            p = end + 1;
            n = i > SIZE_MAX ? NULL : jsonpos_element(n, (size_t)i);
        } else {
            size_t k;
            if (*p == '.' && p != path)
                p++;
            k = strcspn(p, ".[");
            if (k == 0)
                return NULL;
            _cleanup_free_ char *key = strndup(p, k);
            if (!key)
                return NULL;
            p += k;
            n = jsonpos_member(n, key);
        }
    }
    return n;
}

char *jsonpos_path_key(const char *parent, const char *key) {
    char *s = NULL;
    int r;

    if (plain_key(key)) {
        r = asprintf(&s, "%s%s%s", parent, *parent ? "." : "", key);
    } else {
        /* Quote the key; escape '"' and '\\' so that jsonpos_lookup reads it back. */
        size_t n = 0;
        _cleanup_free_ char *q = malloc(strlen(key) * 2 + 1);
        if (!q)
            return NULL;
        for (const char *p = key; *p; p++) {
            if (*p == '"' || *p == '\\')
                q[n++] = '\\';
            q[n++] = *p;
        }
        q[n] = '\0';
        r = asprintf(&s, "%s[\"%s\"]", parent, q);
    }
    return r < 0 ? NULL : s;
}

char *jsonpos_path_index(const char *parent, size_t i) {
    char *s = NULL;
    if (asprintf(&s, "%s[%zu]", parent, i) < 0)
        return NULL;
    return s;
}
