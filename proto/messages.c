/*
 * messages.c - the JSON messages the frames carry: parsing with every field checked,
 * and serialising for the side that sends them.
 *
 * A RUN request comes from an unprivileged user or a remote agent and is the first
 * thing the supervisor reads from it, so its parser is strict: one JSON object
 * (jansson rejects invalid UTF-8, "\u0000" and, with JSON_REJECT_DUPLICATES, repeated
 * keys), no unknown keys, every field of the right type and within its bounds
 * (docs/protocol.md, "Limits").  A refusal names the field, e.g. "argv[2]: expected a
 * string, got number", and that text goes back to the client in an ERROR frame.
 * Names and values quoted in an error are cut short and stripped of control bytes.
 */
#include "labstack/protocol.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labstack/error.h"
#include "labstack/macros.h"

/* json_decrefp is jansson's (2.9+). */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* The largest value a JSON integer carries (jansson's json_int_t is long long). */
#define JINT_MAX ((uint64_t)LLONG_MAX)

/* ---- errors ------------------------------------------------------------------ */

/* Fill err with a field error: code EINVAL, no strerror suffix.  Returns -EINVAL. */
__attribute__((format(printf, 3, 4))) static int fail(struct ls_error *err, const char *step,
                                                      const char *fmt, ...) {
    char msg[LS_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ls_error_set(err, 0, step, "%s", msg);
    return -EINVAL;
}

/* The length of the valid UTF-8 sequence at s (at most n bytes) and its code point,
 * or 0: overlong forms, surrogates and code points over U+10FFFF are invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n, unsigned *ret_cp) {
    unsigned c = s[0];
    size_t len;
    unsigned cp;

    *ret_cp = c;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *ret_cp = cp;
    return len;
}

/* Copy s (n bytes) into out as valid UTF-8 without control characters: invalid bytes
 * and C0, DEL and C1 controls (U+0080..U+009F: a terminal takes U+009B as CSI) become
 * '?'; cut at a character boundary to fit size (with its NUL), and at max_chars
 * characters, with "..." appended when shortened. */
static void sanitize_text(const char *s, size_t n, char *out, size_t size, size_t max_chars) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0, chars = 0;

    if (size == 0)
        return;
    while (i < n) {
        unsigned cp;
        size_t l = utf8_seq_len(p + i, n - i, &cp);
        const char *src = (const char *)p + i;
        size_t copy = l;
        if (l == 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
            src = "?";
            copy = 1;
            l = l ? l : 1;
        }
        if (chars == max_chars || o + copy + 1 > size) {
            /* Shortened: end with "..." when it fits. */
            while (o > 0 && o + 4 > size) {
                o--;
                while (o > 0 && ((unsigned char)out[o] & 0xc0) == 0x80)
                    o--;
            }
            if (o + 4 <= size) {
                memcpy(out + o, "...", 3);
                o += 3;
            }
            break;
        }
        memcpy(out + o, src, copy);
        o += copy;
        i += l;
        chars++;
    }
    out[o] = '\0';
}

/* A short, printable form of a key or value for an error message. */
static const char *quote(const char *s, size_t n, char buf[static 72]) {
    sanitize_text(s, n, buf, 72, 40);
    return buf;
}

static const char *type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

/* ---- generic checks ---------------------------------------------------------- */

/* Load one JSON object of at most LS_PROTO_MAX_JSON bytes. */
static int load_object(const void *json, size_t len, const char *step, const char *what,
                       json_t **ret, struct ls_error *err) {
    json_error_t jerr;
    json_t *o;

    if (len > LS_PROTO_MAX_JSON)
        return fail(err, step, "%s: %zu bytes is over the limit of %u", what, len,
                    LS_PROTO_MAX_JSON);
    if (len == 0)
        return fail(err, step, "%s: empty payload, expected a JSON object", what);
    o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o) {
        char text[72];
        return fail(err, step, "%s: invalid JSON at byte %d: %s", what, jerr.position,
                    quote(jerr.text, strlen(jerr.text), text));
    }
    if (!json_is_object(o)) {
        /* Only reachable with a top-level array: json_loadb refuses other scalars. */
        int r = fail(err, step, "%s: expected a JSON object, got %s", what, type_name(o));
        json_decref(o);
        return r;
    }
    *ret = o;
    return 0;
}

/* The value as a string without NUL bytes, with its length. */
static int get_string(const json_t *v, const char *field, const char *step, const char **ret,
                      size_t *ret_len, struct ls_error *err) {
    if (!json_is_string(v))
        return fail(err, step, "%s: expected a string, got %s", field, type_name(v));
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    /* jansson refuses "\u0000" without JSON_ALLOW_NUL; checked again because a
     * truncated C string would silently be a different value. */
    if (memchr(s, '\0', n))
        return fail(err, step, "%s: contains a NUL byte", field);
    *ret = s;
    if (ret_len)
        *ret_len = n;
    return 0;
}

static int get_uint(const json_t *v, const char *field, const char *step, uint64_t *ret,
                    struct ls_error *err) {
    if (!json_is_integer(v))
        return fail(err, step, "%s: expected a non-negative integer, got %s", field, type_name(v));
    json_int_t i = json_integer_value(v);
    if (i < 0)
        return fail(err, step, "%s: expected a non-negative integer, got %lld", field,
                    (long long)i);
    *ret = (uint64_t)i;
    return 0;
}

static bool printable_ascii(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return false;
    return true;
}

static bool lower_hex(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool ls_proto_policy_name_valid(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > LS_PROTO_MAX_POLICY_NAME || name[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool env_name_valid(const char *s, size_t n) {
    if (n == 0 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

/* An absolute path without NUL or ".." components, shorter than PATH_MAX. */
static int check_path(const char *s, size_t n, const char *field, const char *step,
                      struct ls_error *err) {
    if (n == 0 || s[0] != '/')
        return fail(err, step, "%s: must be an absolute path", field);
    if (n > LS_PROTO_MAX_PATH)
        return fail(err, step, "%s: %zu bytes is over the limit of %u", field, n,
                    LS_PROTO_MAX_PATH);
    for (size_t i = 0; i < n;) {
        while (i < n && s[i] == '/')
            i++;
        size_t start = i;
        while (i < n && s[i] != '/')
            i++;
        if (i - start == 2 && s[start] == '.' && s[start + 1] == '.')
            return fail(err, step, "%s: must not contain \"..\" components", field);
    }
    return 0;
}

/* The value as a string of 1..max bytes that check() accepts, copied into buf (size
 * max + 1). */
static int copy_checked(const json_t *v, const char *field, const char *step, size_t max,
                        bool allow_empty, bool (*check)(const char *, size_t), const char *expected,
                        char *buf, struct ls_error *err) {
    const char *s;
    size_t n;
    int r = get_string(v, field, step, &s, &n, err);
    if (r < 0)
        return r;
    if (n == 0 && !allow_empty)
        return fail(err, step, "%s: must not be empty", field);
    if (n > max)
        return fail(err, step, "%s: %zu bytes is over the limit of %zu", field, n, max);
    if (!check(s, n)) {
        char q[72];
        return fail(err, step, "%s: \"%s\" is not %s", field, quote(s, n, q), expected);
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    return 0;
}

static bool policy_name_check(const char *s, size_t n) {
    char buf[LS_PROTO_MAX_POLICY_NAME + 1];
    if (n > LS_PROTO_MAX_POLICY_NAME)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return ls_proto_policy_name_valid(buf);
}

#define POLICY_EXPECTED "a policy name ([A-Za-z0-9._-], 1 to 64, not starting with '.')"

static int unknown_key(const char *key, const char *where, const char *step, struct ls_error *err) {
    char q[72];
    return fail(err, step, "%s%sunknown field \"%s\"", where ? where : "", where ? ": " : "",
                quote(key, strlen(key), q));
}

/* ---- RUN ------------------------------------------------------------------- */

#define STEP_REQ "request"

struct ls_run_request *ls_run_request_free(struct ls_run_request *req) {
    if (!req)
        return NULL;
    free(req->policy);
    for (size_t i = 0; req->argv && i < req->argc; i++)
        free(req->argv[i]);
    free(req->argv);
    for (size_t i = 0; req->env && i < req->n_env; i++)
        free(req->env[i]);
    free(req->env);
    free(req->cwd);
    free(req->workspace_path);
    free(req->task_id);
    free(req->label);
    free(req);
    return NULL;
}

static void run_request_freep(struct ls_run_request **p) {
    ls_run_request_free(*p);
}

static int parse_argv(const json_t *v, struct ls_run_request *req, struct ls_error *err) {
    size_t n, total = 0;
    char field[32];

    if (!json_is_array(v))
        return fail(err, STEP_REQ, "argv: expected an array of strings, got %s", type_name(v));
    n = json_array_size(v);
    if (n == 0)
        return fail(err, STEP_REQ, "argv: must have at least one entry (the command)");
    if (n > LS_PROTO_MAX_ARGC)
        return fail(err, STEP_REQ, "argv: %zu entries is over the limit of %u", n,
                    LS_PROTO_MAX_ARGC);
    req->argv = calloc(n + 1, sizeof(char *));
    if (!req->argv)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *s;
        size_t len;
        int r;
        snprintf(field, sizeof(field), "argv[%zu]", i);
        if ((r = get_string(json_array_get(v, i), field, STEP_REQ, &s, &len, err)) < 0)
            return r;
        if (i == 0 && len == 0)
            return fail(err, STEP_REQ, "argv[0]: the command must not be empty");
        if (len > LS_PROTO_MAX_ARG)
            return fail(err, STEP_REQ, "%s: %zu bytes is over the limit of %u", field, len,
                        LS_PROTO_MAX_ARG);
        total += len + 1;
        if (total > LS_PROTO_MAX_JSON)
            return fail(err, STEP_REQ, "argv: more than %u bytes in all", LS_PROTO_MAX_JSON);
        if (!(req->argv[i] = strndup(s, len)))
            return -ENOMEM;
        req->argc = i + 1;
    }
    return 0;
}

static int parse_env(const json_t *v, struct ls_run_request *req, struct ls_error *err) {
    const char *key;
    json_t *val;
    size_t n;

    if (!json_is_object(v))
        return fail(err, STEP_REQ, "env: expected an object of NAME: \"value\", got %s",
                    type_name(v));
    n = json_object_size(v);
    if (n > LS_PROTO_MAX_ENV)
        return fail(err, STEP_REQ, "env: %zu entries is over the limit of %u", n, LS_PROTO_MAX_ENV);
    req->env = calloc(n + 1, sizeof(char *));
    if (!req->env)
        return -ENOMEM;
    json_object_foreach((json_t *)v, key, val) {
        size_t klen = strlen(key), vlen;
        const char *s;
        char q[72], field[96];
        int r;

        /* Keys are C strings to jansson's iterator: a "\u0000" in one is refused by
         * the loader, so klen is the key's whole length. */
        if (!env_name_valid(key, klen))
            return fail(err, STEP_REQ, "env: \"%s\" is not a valid name ([A-Za-z_][A-Za-z0-9_]*)",
                        quote(key, klen, q));
        snprintf(field, sizeof(field), "env.%s", quote(key, klen, q));
        if ((r = get_string(val, field, STEP_REQ, &s, &vlen, err)) < 0)
            return r;
        if (klen + 1 + vlen > LS_PROTO_MAX_ARG)
            return fail(err, STEP_REQ, "%s: %zu bytes is over the limit of %u", field,
                        klen + 1 + vlen, LS_PROTO_MAX_ARG);
        char *kv = malloc(klen + 1 + vlen + 1);
        if (!kv)
            return -ENOMEM;
        memcpy(kv, key, klen);
        kv[klen] = '=';
        memcpy(kv + klen + 1, s, vlen);
        kv[klen + 1 + vlen] = '\0';
        req->env[req->n_env++] = kv;
    }
    return 0;
}

static int dup_path(const json_t *v, const char *field, char **ret, struct ls_error *err) {
    const char *s;
    size_t n;
    int r;
    if ((r = get_string(v, field, STEP_REQ, &s, &n, err)) < 0)
        return r;
    if ((r = check_path(s, n, field, STEP_REQ, err)) < 0)
        return r;
    return (*ret = strndup(s, n)) ? 0 : -ENOMEM;
}

static int parse_workspace(const json_t *v, struct ls_run_request *req, struct ls_error *err) {
    const char *key;
    json_t *val;

    if (!json_is_object(v))
        return fail(err, STEP_REQ, "workspace: expected an object {\"path\": \"/dir\"}, got %s",
                    type_name(v));
    json_object_foreach((json_t *)v, key, val) {
        if (strcmp(key, "path") != 0)
            return unknown_key(key, "workspace", STEP_REQ, err);
        int r = dup_path(val, "workspace.path", &req->workspace_path, err);
        if (r < 0)
            return r;
    }
    if (!req->workspace_path)
        return fail(err, STEP_REQ, "workspace: missing field \"path\"");
    return 0;
}

/* The limits object's fields, in struct order. */
static const struct {
    const char *name;
    size_t offset;
} limit_fields[] = {
    {"memory_bytes", offsetof(struct ls_request_limits, memory_bytes)},
    {"cpu_millis", offsetof(struct ls_request_limits, cpu_millis)},
    {"pids", offsetof(struct ls_request_limits, pids)},
    {"wall_time_ms", offsetof(struct ls_request_limits, wall_time_ms)},
    {"cpu_time_ms", offsetof(struct ls_request_limits, cpu_time_ms)},
    {"output_bytes", offsetof(struct ls_request_limits, output_bytes)},
    {"tmp_bytes", offsetof(struct ls_request_limits, tmp_bytes)},
    {"file_size_bytes", offsetof(struct ls_request_limits, file_size_bytes)},
    {"open_files", offsetof(struct ls_request_limits, open_files)},
};

static int parse_limits(const json_t *v, struct ls_request_limits *ret, struct ls_error *err) {
    const char *key;
    json_t *val;

    if (!json_is_object(v))
        return fail(err, STEP_REQ, "limits: expected an object, got %s", type_name(v));
    json_object_foreach((json_t *)v, key, val) {
        size_t i;
        for (i = 0; i < ELEMENTSOF(limit_fields); i++)
            if (strcmp(key, limit_fields[i].name) == 0)
                break;
        if (i == ELEMENTSOF(limit_fields))
            return unknown_key(key, "limits", STEP_REQ, err);
        char field[48];
        snprintf(field, sizeof(field), "limits.%s", limit_fields[i].name);
        int r =
            get_uint(val, field, STEP_REQ, (uint64_t *)((char *)ret + limit_fields[i].offset), err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int dup_text(const json_t *v, const char *field, char **ret, struct ls_error *err) {
    char buf[LS_PROTO_MAX_TEXT + 1];
    int r = copy_checked(v, field, STEP_REQ, LS_PROTO_MAX_TEXT, true, printable_ascii,
                         "printable ASCII", buf, err);
    if (r < 0)
        return r;
    return (*ret = strdup(buf)) ? 0 : -ENOMEM;
}

static int parse_run_field(const char *key, const json_t *val, struct ls_run_request *req,
                           struct ls_error *err) {
    if (strcmp(key, "argv") == 0)
        return parse_argv(val, req, err);
    if (strcmp(key, "env") == 0)
        return parse_env(val, req, err);
    if (strcmp(key, "policy") == 0) {
        char buf[LS_PROTO_MAX_POLICY_NAME + 1];
        int r = copy_checked(val, "policy", STEP_REQ, LS_PROTO_MAX_POLICY_NAME, false,
                             policy_name_check, POLICY_EXPECTED, buf, err);
        if (r < 0)
            return r;
        return (req->policy = strdup(buf)) ? 0 : -ENOMEM;
    }
    if (strcmp(key, "cwd") == 0)
        return dup_path(val, "cwd", &req->cwd, err);
    if (strcmp(key, "workspace") == 0)
        return parse_workspace(val, req, err);
    if (strcmp(key, "limits") == 0)
        return parse_limits(val, &req->limits, err);
    if (strcmp(key, "task_id") == 0)
        return dup_text(val, "task_id", &req->task_id, err);
    if (strcmp(key, "label") == 0)
        return dup_text(val, "label", &req->label, err);
    if (strcmp(key, "stdin") == 0) {
        const char *s;
        size_t n;
        char q[72];
        int r = get_string(val, "stdin", STEP_REQ, &s, &n, err);
        if (r < 0)
            return r;
        if (strcmp(s, "none") == 0)
            req->stdin_mode = LS_STDIN_NONE;
        else if (strcmp(s, "stream") == 0)
            req->stdin_mode = LS_STDIN_STREAM;
        else
            return fail(err, STEP_REQ, "stdin: expected \"none\" or \"stream\", got \"%s\"",
                        quote(s, n, q));
        return 0;
    }
    return unknown_key(key, NULL, STEP_REQ, err);
}

int ls_run_request_parse(const void *json, size_t len, struct ls_run_request **ret,
                         struct ls_error *err) {
    _cleanup_json_ json_t *o = NULL;
    _cleanup_(run_request_freep) struct ls_run_request *req = NULL;
    const char *key;
    json_t *val;
    int r;

    if ((r = load_object(json, len, STEP_REQ, "run request", &o, err)) < 0)
        return r;
    req = calloc(1, sizeof(*req));
    if (!req)
        return ls_error_set(err, ENOMEM, STEP_REQ, "run request");
    json_object_foreach(o, key, val) {
        r = parse_run_field(key, val, req, err);
        if (r == -ENOMEM)
            return ls_error_set(err, ENOMEM, STEP_REQ, "run request");
        if (r < 0)
            return r;
    }
    if (!req->argv)
        return fail(err, STEP_REQ, "missing field \"argv\"");
    *ret = TAKE_PTR(req);
    return 0;
}

/* json_object_set_new that also fails on a NULL value (a failed json_string...). */
static int set_new(json_t *o, const char *key, json_t *v) {
    if (!v)
        return -1;
    return json_object_set_new(o, key, v);
}

/* Serialise o compactly and drop it; NULL on ENOMEM. */
static char *dump(json_t *o) {
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        errno = ENOMEM;
    return s;
}

char *ls_run_request_to_json(const struct ls_run_request *req) {
    _cleanup_json_ json_t *o = json_object();
    json_t *a;

    if (!o)
        return NULL;
    if (!req->argv || req->argc == 0) {
        errno = EINVAL;
        return NULL;
    }
    /* A string that is not UTF-8 makes json_string* return NULL: EINVAL, not ENOMEM. */
    errno = 0;
    if (req->policy && set_new(o, "policy", json_string(req->policy)) < 0)
        goto fail;
    if (set_new(o, "argv", a = json_array()) < 0)
        goto fail;
    for (size_t i = 0; i < req->argc; i++)
        if (json_array_append_new(a, json_string(req->argv[i])) < 0)
            goto fail;
    if (req->env && req->n_env) {
        json_t *e;
        if (set_new(o, "env", e = json_object()) < 0)
            goto fail;
        for (size_t i = 0; i < req->n_env; i++) {
            const char *eq = strchr(req->env[i], '=');
            if (!eq) {
                errno = EINVAL;
                return NULL;
            }
            _cleanup_free_ char *name = strndup(req->env[i], (size_t)(eq - req->env[i]));
            if (!name || set_new(e, name, json_string(eq + 1)) < 0)
                goto fail;
        }
    }
    if (req->cwd && set_new(o, "cwd", json_string(req->cwd)) < 0)
        goto fail;
    if (req->workspace_path &&
        set_new(o, "workspace", json_pack("{s:s}", "path", req->workspace_path)) < 0)
        goto fail;
    if (req->stdin_mode == LS_STDIN_STREAM && set_new(o, "stdin", json_string("stream")) < 0)
        goto fail;
    json_t *l = json_object();
    if (set_new(o, "limits", l) < 0)
        goto fail;
    for (size_t i = 0; i < ELEMENTSOF(limit_fields); i++) {
        uint64_t v = *(const uint64_t *)((const char *)&req->limits + limit_fields[i].offset);
        if (v > JINT_MAX) {
            errno = EINVAL;
            return NULL;
        }
        if (v && set_new(l, limit_fields[i].name, json_integer((json_int_t)v)) < 0)
            goto fail;
    }
    if (json_object_size(l) == 0)
        json_object_del(o, "limits");
    if (req->task_id && set_new(o, "task_id", json_string(req->task_id)) < 0)
        goto fail;
    if (req->label && set_new(o, "label", json_string(req->label)) < 0)
        goto fail;
    return dump(TAKE_PTR(o));
fail:
    /* json_string() fails for invalid UTF-8 without setting errno; malloc sets ENOMEM. */
    if (errno == 0)
        errno = EINVAL;
    return NULL;
}

/* ---- ERROR ------------------------------------------------------------------ */

static const char *const code_names[] = {
    [LS_PROTO_BAD_REQUEST] = "bad_request",
    [LS_PROTO_UNSUPPORTED] = "unsupported",
    [LS_PROTO_TOO_LARGE] = "too_large",
    [LS_PROTO_FORBIDDEN] = "forbidden",
    [LS_PROTO_UNKNOWN_POLICY] = "unknown_policy",
    [LS_PROTO_LIMIT] = "limit",
    [LS_PROTO_BUSY] = "busy",
    [LS_PROTO_SHUTTING_DOWN] = "shutting_down",
    [LS_PROTO_INTERNAL] = "internal",
};
_Static_assert(ELEMENTSOF(code_names) == LS_PROTO_CODE__MAX, "every code has a name");

const char *ls_proto_code_name(enum ls_proto_code code) {
    if ((unsigned)code >= ELEMENTSOF(code_names))
        return NULL;
    return code_names[code];
}

char *ls_proto_error_to_json(enum ls_proto_code code, const char *message,
                             uint64_t retry_after_ms) {
    const char *name = ls_proto_code_name(code);
    char msg[sizeof(((struct ls_proto_error *)0)->message)];
    json_t *o;

    if (!name || retry_after_ms > JINT_MAX) {
        errno = EINVAL;
        return NULL;
    }
    /* The message may quote paths or user input: sent as valid, printable UTF-8 that
     * fits the receiver's buffer. */
    message = message ? message : "";
    sanitize_text(message, strlen(message), msg, sizeof(msg), sizeof(msg));
    o = json_pack("{s:s, s:s}", "code", name, "message", msg);
    if (!o)
        return NULL;
    if (retry_after_ms &&
        set_new(o, "retry_after_ms", json_integer((json_int_t)retry_after_ms)) < 0) {
        json_decref(o);
        return NULL;
    }
    return dump(o);
}

#define STEP_PROTO "protocol"

int ls_proto_error_parse(const void *json, size_t len, struct ls_proto_error *ret,
                         struct ls_error *err) {
    _cleanup_json_ json_t *o = NULL;
    struct ls_proto_error e = {0};
    const char *key;
    json_t *val;
    bool have_code = false, have_message = false;
    int r;

    if ((r = load_object(json, len, STEP_PROTO, "error", &o, err)) < 0)
        return r;
    json_object_foreach(o, key, val) {
        const char *s;
        size_t n;
        if (strcmp(key, "code") == 0) {
            char q[72];
            if ((r = get_string(val, "code", STEP_PROTO, &s, &n, err)) < 0)
                return r;
            for (int c = 1; c < LS_PROTO_CODE__MAX; c++)
                if (strcmp(s, code_names[c]) == 0)
                    e.code = (enum ls_proto_code)c;
            if (!e.code)
                return fail(err, STEP_PROTO, "code: unknown error code \"%s\"", quote(s, n, q));
            have_code = true;
        } else if (strcmp(key, "message") == 0) {
            if ((r = get_string(val, "message", STEP_PROTO, &s, &n, err)) < 0)
                return r;
            sanitize_text(s, n, e.message, sizeof(e.message), sizeof(e.message));
            have_message = true;
        } else if (strcmp(key, "retry_after_ms") == 0) {
            if ((r = get_uint(val, "retry_after_ms", STEP_PROTO, &e.retry_after_ms, err)) < 0)
                return r;
        } else {
            return unknown_key(key, NULL, STEP_PROTO, err);
        }
    }
    if (!have_code)
        return fail(err, STEP_PROTO, "missing field \"code\"");
    if (!have_message)
        return fail(err, STEP_PROTO, "missing field \"message\"");
    *ret = e;
    return 0;
}

/* ---- CANCEL, STATUS, QUEUED, STATUS_REPLY ------------------------------------- */

int ls_proto_empty_parse(const void *json, size_t len, struct ls_error *err) {
    _cleanup_json_ json_t *o = NULL;
    const char *key;
    json_t *val;
    int r;

    if ((r = load_object(json, len, STEP_PROTO, "message", &o, err)) < 0)
        return r;
    json_object_foreach(o, key, val) return unknown_key(key, NULL, STEP_PROTO, err);
    return 0;
}

char *ls_proto_queued_to_json(uint64_t position) {
    if (position == 0 || position > JINT_MAX) {
        errno = EINVAL;
        return NULL;
    }
    json_t *o = json_pack("{s:I}", "position", (json_int_t)position);
    return o ? dump(o) : NULL;
}

int ls_proto_queued_parse(const void *json, size_t len, uint64_t *ret_position,
                          struct ls_error *err) {
    _cleanup_json_ json_t *o = NULL;
    const char *key;
    json_t *val;
    uint64_t pos = 0;
    int r;

    if ((r = load_object(json, len, STEP_PROTO, "queued", &o, err)) < 0)
        return r;
    json_object_foreach(o, key, val) {
        if (strcmp(key, "position") != 0)
            return unknown_key(key, NULL, STEP_PROTO, err);
        if ((r = get_uint(val, "position", STEP_PROTO, &pos, err)) < 0)
            return r;
        if (pos == 0)
            return fail(err, STEP_PROTO, "position: must be 1 or more");
    }
    if (pos == 0)
        return fail(err, STEP_PROTO, "missing field \"position\"");
    *ret_position = pos;
    return 0;
}

int ls_proto_status_reply_check(const void *json, size_t len, struct ls_error *err) {
    _cleanup_json_ json_t *o = NULL;
    return load_object(json, len, STEP_PROTO, "status", &o, err);
}

/* ---- STARTED, RESULT ---------------------------------------------------------- */

static int copy_id(const json_t *v, char buf[static LS_PROTO_MAX_TEXT + 1], struct ls_error *err) {
    return copy_checked(v, "id", STEP_PROTO, LS_PROTO_MAX_TEXT, false, printable_ascii,
                        "printable ASCII", buf, err);
}

static int copy_policy(const json_t *v, char buf[static LS_PROTO_MAX_POLICY_NAME + 1],
                       struct ls_error *err) {
    return copy_checked(v, "policy", STEP_PROTO, LS_PROTO_MAX_POLICY_NAME, false, policy_name_check,
                        POLICY_EXPECTED, buf, err);
}

static bool id_valid(const char *id) {
    size_t n = id ? strlen(id) : 0;
    return n > 0 && n <= LS_PROTO_MAX_TEXT && printable_ascii(id, n);
}

char *ls_proto_started_to_json(const struct ls_proto_started *s) {
    size_t hn = strnlen(s->policy_hash, sizeof(s->policy_hash));
    if (!id_valid(s->id) || !ls_proto_policy_name_valid(s->policy) || hn == 0 ||
        hn > LS_PROTO_MAX_HASH || !lower_hex(s->policy_hash, hn) || s->policy_version > JINT_MAX) {
        errno = EINVAL;
        return NULL;
    }
    json_t *o =
        json_pack("{s:s, s:s, s:I, s:s}", "id", s->id, "policy", s->policy, "policy_version",
                  (json_int_t)s->policy_version, "policy_hash", s->policy_hash);
    return o ? dump(o) : NULL;
}

int ls_proto_started_parse(const void *json, size_t len, struct ls_proto_started *ret,
                           struct ls_error *err) {
    _cleanup_json_ json_t *o = NULL;
    struct ls_proto_started s = {0};
    unsigned seen = 0;
    const char *key;
    json_t *val;
    int r;

    if ((r = load_object(json, len, STEP_PROTO, "started", &o, err)) < 0)
        return r;
    json_object_foreach(o, key, val) {
        if (strcmp(key, "id") == 0) {
            r = copy_id(val, s.id, err);
            seen |= 1;
        } else if (strcmp(key, "policy") == 0) {
            r = copy_policy(val, s.policy, err);
            seen |= 2;
        } else if (strcmp(key, "policy_version") == 0) {
            r = get_uint(val, "policy_version", STEP_PROTO, &s.policy_version, err);
            seen |= 4;
        } else if (strcmp(key, "policy_hash") == 0) {
            r = copy_checked(val, "policy_hash", STEP_PROTO, LS_PROTO_MAX_HASH, false, lower_hex,
                             "lowercase hex", s.policy_hash, err);
            seen |= 8;
        } else {
            r = unknown_key(key, NULL, STEP_PROTO, err);
        }
        if (r < 0)
            return r;
    }
    static const char *const names[] = {"id", "policy", "policy_version", "policy_hash"};
    for (unsigned i = 0; i < ELEMENTSOF(names); i++)
        if (!(seen & (1u << i)))
            return fail(err, STEP_PROTO, "missing field \"%s\"", names[i]);
    *ret = s;
    return 0;
}

char *ls_proto_result_to_json(const char *id, const char *policy, const struct ls_result *res) {
    if (!id_valid(id) || !policy || !ls_proto_policy_name_valid(policy)) {
        errno = EINVAL;
        return NULL;
    }
    /* The error text may quote a path that is not UTF-8, or have been cut inside a
     * character: send it as valid UTF-8 (jansson refuses anything else). */
    struct ls_result clean = *res;
    sanitize_text(res->error.step, strnlen(res->error.step, sizeof(res->error.step)),
                  clean.error.step, sizeof(clean.error.step), sizeof(clean.error.step));
    sanitize_text(res->error.msg, strnlen(res->error.msg, sizeof(res->error.msg)), clean.error.msg,
                  sizeof(clean.error.msg), sizeof(clean.error.msg));
    _cleanup_free_ char *doc = ls_result_to_json(&clean);
    if (!doc)
        return NULL;
    json_t *r = json_loads(doc, 0, NULL);
    if (!r) {
        errno = ENOMEM;
        return NULL;
    }
    json_t *o = json_pack("{s:s, s:s, s:o}", "id", id, "policy", policy, "result", r);
    return o ? dump(o) : NULL;
}

int ls_proto_result_parse(const void *json, size_t len, struct ls_proto_result *ret,
                          struct ls_error *err) {
    _cleanup_json_ json_t *o = NULL;
    struct ls_proto_result res = {0};
    unsigned seen = 0;
    const char *key;
    json_t *val;
    int r;

    if ((r = load_object(json, len, STEP_PROTO, "result", &o, err)) < 0)
        return r;
    json_object_foreach(o, key, val) {
        if (strcmp(key, "id") == 0) {
            r = copy_id(val, res.id, err);
            seen |= 1;
        } else if (strcmp(key, "policy") == 0) {
            r = copy_policy(val, res.policy, err);
            seen |= 2;
        } else if (strcmp(key, "result") == 0) {
            seen |= 4;
            if (!json_is_object(val)) {
                r = fail(err, STEP_PROTO, "result: expected an object, got %s", type_name(val));
            } else {
                _cleanup_free_ char *doc = json_dumps(val, JSON_COMPACT);
                if (!doc)
                    return ls_error_set(err, ENOMEM, STEP_PROTO, "result");
                r = ls_result_from_json(doc, &res.result, err);
                if (r < 0) {
                    /* "result JSON: ..." from result.c: say where it was. */
                    ls_error_prefix(err, "result");
                    if (err)
                        err->code = EINVAL;
                    r = -EINVAL;
                }
            }
        } else {
            r = unknown_key(key, NULL, STEP_PROTO, err);
        }
        if (r < 0)
            return r;
    }
    static const char *const names[] = {"id", "policy", "result"};
    for (unsigned i = 0; i < ELEMENTSOF(names); i++)
        if (!(seen & (1u << i)))
            return fail(err, STEP_PROTO, "missing field \"%s\"", names[i]);
    *ret = res;
    return 0;
}
