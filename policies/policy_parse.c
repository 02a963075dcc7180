/*
 * policy_parse.c - read one policy file into a layer: every field checked, every
 * problem reported.
 *
 * A *layer* (policy_internal.h) is what one file says by itself: its own values, with
 * a note of which keys it sets, and its own seccomp rules -- the import, overlaid by
 * its `allow` and `rules` -- each with the place that wrote it.  Its parent is not
 * read here; policy.c applies the layer on top of the parent's effective policy.
 *
 * The whole file is checked, not just up to the first problem: each value is looked at
 * through a `struct val` (the JSON value, its position from jsonpos and its JSON
 * path), and every mistake becomes a diagnostic "file:line:col: path: expected ...,
 * got ..." at the offending value (at the key for unknown and repeated keys, at the
 * enclosing object for a missing one).  The file's diagnostics are then sorted by
 * position.  What is accepted, exactly, is docs/policy-guide.md, "What exactly is
 * accepted": names, limits (sizes, durations, CPUs, counts), bind paths, errnos,
 * syscall names and rule arguments.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpos.h"
#include "labstack/macros.h"
#include "labstack/parse.h"
#include "labstack/policy.h"
#include "policy_internal.h"

#define NAME_MAX_LEN 64
#define ERRNO_MAX 4095       /* the kernel's MAX_ERRNO */
#define UID_INSIDE_MAX 65533 /* 65534 is the overflow uid, 65535 (uid16) -1 */
#define ID_MAX 4294967294u   /* (uid_t)-1 means "no id" */
#define VALUE_MAX INT64_MAX  /* limits must fit a JSON integer in canonical form */
#define CPUS_MAX 1024
#define PIDS_MAX 4194304       /* the kernel's PID_MAX_LIMIT */
#define OPEN_FILES_MAX 1048576 /* the default fs.nr_open: RLIMIT_NOFILE cannot go higher */

static void jsonpos_freep(struct jsonpos **p) {
    jsonpos_free(*p);
}

/* ---- validation context and diagnostics ----------------------------------------- */

struct ctx {
    struct ls_diags *diags;
    const char *file;   /* as named in diagnostics */
    bool allow_unknown; /* unknown syscall names: warning and dropped */
    bool oom;
};

/* A value being checked: the JSON value (NULL: absent), its position node (NULL:
 * unknown), the node of the object holding it (for absent keys) and its path. */
struct val {
    json_t *v;
    const struct jsonpos_node *n;
    const struct jsonpos_node *owner;
    char *path;
};

static void val_done(struct val *x) {
    free(x->path);
    x->path = NULL;
}
#define _cleanup_val_ _cleanup_(val_done)

static struct val field(struct ctx *c, const struct val *obj, const char *key) {
    struct val f = {.owner = obj->n};
    if (json_is_object(obj->v))
        f.v = json_object_get(obj->v, key);
    f.n = jsonpos_member(obj->n, key);
    f.path = jsonpos_path_key(obj->path ? obj->path : "", key);
    if (!f.path)
        c->oom = true;
    return f;
}

static struct val element(struct ctx *c, const struct val *arr, size_t i) {
    struct val e = {.owner = arr->n};
    e.v = json_array_get(arr->v, i);
    e.n = jsonpos_element(arr->n, i);
    e.path = jsonpos_path_index(arr->path ? arr->path : "", i);
    if (!e.path)
        c->oom = true;
    return e;
}

static void position(const struct val *x, bool at_key, int *line, int *col) {
    const struct jsonpos_node *n = x->n ? x->n : x->owner;
    *line = *col = 0;
    if (!n)
        return;
    if (at_key && x->n && x->n->key_line > 0) {
        *line = n->key_line;
        *col = n->key_col;
    } else {
        *line = n->line;
        *col = n->col;
    }
}

static void report(struct ctx *c, bool warning, const struct val *x, bool at_key, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));

static void report(struct ctx *c, bool warning, const struct val *x, bool at_key, const char *fmt,
                   ...) {
    _cleanup_free_ char *msg = NULL;
    int line, col;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    position(x, at_key, &line, &col);
    ls_diags_add(c->diags, warning, c->file, line, col, x->path ? x->path : "", "%s",
                 msg ? msg : "(out of memory)");
}

#define error_at(c, x, ...) report((c), false, (x), false, __VA_ARGS__)
#define error_key(c, x, ...) report((c), false, (x), true, __VA_ARGS__)
#define warning_at(c, x, ...) report((c), true, (x), false, __VA_ARGS__)

static struct origin origin_of(struct ctx *c, const struct val *x) {
    struct origin o = {.file = (char *)c->file, .path = x->path};
    position(x, false, &o.line, &o.col);
    return o; /* borrowed strings: only for rulelist_add and origin_copy */
}

/* What a value is, for "got ...": a quoted string (shortened), a number, or a type. */
struct got {
    char s[112];
};

static struct got quoted(const char *s) {
    struct got g;
    size_t n = 0, shown = 0;

    g.s[n++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (n + 8 >= sizeof(g.s) || (shown >= 48 && (*p & 0xc0) != 0x80)) {
            memcpy(g.s + n, "...", 3);
            n += 3;
            break;
        }
        if (*p == '"' || *p == '\\') {
            g.s[n++] = '\\';
            g.s[n++] = (char)*p;
        } else if (*p < 0x20 || *p == 0x7f) {
            n += (size_t)snprintf(g.s + n, sizeof(g.s) - n, "\\x%02x", *p);
        } else {
            g.s[n++] = (char)*p;
        }
        if ((*p & 0xc0) != 0x80)
            shown++;
    }
    g.s[n++] = '"';
    g.s[n] = '\0';
    return g;
}

static struct got got(const json_t *v) {
    struct got g;
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        return quoted(json_string_value(v));
    case JSON_INTEGER:
        snprintf(g.s, sizeof(g.s), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        snprintf(g.s, sizeof(g.s), "%.15g", json_real_value(v));
        break;
    case JSON_TRUE:
        snprintf(g.s, sizeof(g.s), "true");
        break;
    case JSON_FALSE:
        snprintf(g.s, sizeof(g.s), "false");
        break;
    case JSON_OBJECT:
        snprintf(g.s, sizeof(g.s), "an object");
        break;
    case JSON_ARRAY:
        snprintf(g.s, sizeof(g.s), "an array");
        break;
    default:
        snprintf(g.s, sizeof(g.s), v ? "null" : "nothing");
        break;
    }
    return g;
}

static bool in_list(const char *const *list, const char *s) {
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

/* "a, b, c" */
static struct got join(const char *const *list) {
    struct got g = {.s = ""};
    size_t n = 0;
    for (; *list && n < sizeof(g.s); list++)
        n += (size_t)snprintf(g.s + n, sizeof(g.s) - n, "%s%s", n ? ", " : "", *list);
    return g;
}

/* Report unknown and repeated keys of object x; allowed is NULL-terminated. */
static void check_keys(struct ctx *c, const struct val *x, const char *const *allowed) {
    if (x->n && x->n->type == JSONPOS_OBJECT) {
        for (size_t i = 0; i < x->n->n_kids; i++) {
            const struct jsonpos_node *k = &x->n->kids[i];
            _cleanup_val_ struct val kv = {.n = k, .owner = x->n};
            kv.path = jsonpos_path_key(x->path ? x->path : "", k->key);
            if (k->first)
                error_key(c, &kv,
                          "expected each key once, got %s again (first at line %d, column %d)",
                          quoted(k->key).s, k->first->key_line, k->first->key_col);
            else if (!in_list(allowed, k->key))
                error_key(c, &kv, "expected one of the keys %s, got %s", join(allowed).s,
                          quoted(k->key).s);
        }
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach(x->v, key, v) {
        if (!in_list(allowed, key)) {
            _cleanup_val_ struct val kv = {.owner = x->n};
            kv.path = jsonpos_path_key(x->path ? x->path : "", key);
            error_key(c, &kv, "expected one of the keys %s, got %s", join(allowed).s,
                      quoted(key).s);
        }
    }
}

static bool want_object(struct ctx *c, const struct val *x, const char *what) {
    if (json_is_object(x->v))
        return true;
    error_at(c, x, "expected %s, got %s", what, got(x->v).s);
    return false;
}

static bool want_array(struct ctx *c, const struct val *x, const char *what) {
    if (json_is_array(x->v))
        return true;
    error_at(c, x, "expected %s, got %s", what, got(x->v).s);
    return false;
}

static const char *want_string(struct ctx *c, const struct val *x, const char *what) {
    if (json_is_string(x->v))
        return json_string_value(x->v);
    error_at(c, x, "expected %s, got %s", what, got(x->v).s);
    return NULL;
}

static bool want_bool(struct ctx *c, const struct val *x, bool *ret) {
    if (json_is_boolean(x->v)) {
        *ret = json_is_true(x->v);
        return true;
    }
    error_at(c, x, "expected true or false, got %s", got(x->v).s);
    return false;
}

static bool want_int(struct ctx *c, const struct val *x, uint64_t lo, uint64_t hi, uint64_t *ret) {
    if (json_is_integer(x->v) && json_integer_value(x->v) >= 0 &&
        (uint64_t)json_integer_value(x->v) >= lo && (uint64_t)json_integer_value(x->v) <= hi) {
        *ret = (uint64_t)json_integer_value(x->v);
        return true;
    }
    error_at(c, x, "expected an integer %" PRIu64 "..%" PRIu64 ", got %s", lo, hi, got(x->v).s);
    return false;
}

static char *dup_or_oom(struct ctx *c, const char *s) {
    char *d = strdup(s);
    if (!d)
        c->oom = true;
    return d;
}

/* ---- values ------------------------------------------------------------------- */

/* [a-z0-9][a-z0-9._-]*, at most 64 characters (policy names); with upper, also A-Z
 * (client roles). */
static bool name_valid(const char *s, bool upper) {
    size_t n = strlen(s);
    if (n == 0 || n > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                  (upper && ch >= 'A' && ch <= 'Z') ||
                  (i > 0 && (ch == '.' || ch == '_' || ch == '-'));
        if (!ok)
            return false;
    }
    return true;
}

static bool env_name_valid(const char *s) {
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (s++; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

/* A duration string: digits, an optional fraction, a unit ms/s/m/h; exact in ms. */
static bool parse_duration(const char *s, uint64_t *ret_ms) {
    unsigned __int128 whole = 0, frac = 0, scale = 1, unit, total;
    int digits = 0;

    for (; *s >= '0' && *s <= '9'; s++) {
        if (++digits > 19)
            return false;
        whole = whole * 10 + (unsigned)(*s - '0');
    }
    if (digits == 0)
        return false;
    if (*s == '.') {
        digits = 0;
        for (s++; *s >= '0' && *s <= '9'; s++) {
            if (++digits > 9)
                return false;
            frac = frac * 10 + (unsigned)(*s - '0');
            scale *= 10;
        }
        if (digits == 0)
            return false;
    }
    if (strcmp(s, "ms") == 0)
        unit = 1;
    else if (strcmp(s, "s") == 0)
        unit = 1000;
    else if (strcmp(s, "m") == 0)
        unit = 60 * 1000;
    else if (strcmp(s, "h") == 0)
        unit = 3600 * 1000;
    else
        return false;
    if ((frac * unit) % scale != 0)
        return false; /* finer than a millisecond */
    total = whole * unit + frac * unit / scale;
    if (total > VALUE_MAX)
        return false;
    *ret_ms = (uint64_t)total;
    return true;
}

/* An argument value: an integer >= 0 or a "0x..." string of 1 to 16 hex digits. */
static bool parse_u64(const json_t *v, uint64_t *ret) {
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *ret = (uint64_t)json_integer_value(v);
        return true;
    }
    if (!json_is_string(v))
        return false;
    const char *s = json_string_value(v);
    uint64_t x = 0;
    size_t n = 0;
    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return false;
    for (s += 2; *s; s++, n++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (*s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (*s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return false;
        if (n >= 16)
            return false;
        x = x << 4 | d;
    }
    if (n == 0)
        return false;
    *ret = x;
    return true;
}

/* An errno by name ("EPERM"; every name glibc knows, and the usual aliases). */
static int errno_by_name(const char *s) {
    static const struct {
        const char *name;
        int e;
    } aliases[] = {{"EWOULDBLOCK", EWOULDBLOCK}, {"EDEADLOCK", EDEADLOCK}, {"ENOTSUP", ENOTSUP}};
    if (s[0] != 'E')
        return -1;
    for (int e = 1; e < 256; e++) {
        const char *n = strerrorname_np(e);
        if (n && strcmp(n, s) == 0)
            return e;
    }
    for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
        if (strcmp(aliases[i].name, s) == 0)
            return aliases[i].e;
    return -1;
}

static bool want_errno(struct ctx *c, const struct val *x, int *ret) {
    if (json_is_integer(x->v) && json_integer_value(x->v) >= 1 &&
        json_integer_value(x->v) <= ERRNO_MAX) {
        *ret = (int)json_integer_value(x->v);
        return true;
    }
    if (json_is_string(x->v)) {
        int e = errno_by_name(json_string_value(x->v));
        if (e > 0) {
            *ret = e;
            return true;
        }
    }
    error_at(c, x, "expected an errno name like \"EPERM\" or a number 1..%d, got %s", ERRNO_MAX,
             got(x->v).s);
    return false;
}

/* NULL when s is a bind path we accept, else what we expected instead. */
static const char *bind_path_problem(const char *s) {
    static const char *const forbidden[] = {"/proc", "/dev", "/work", "/tmp"};
    if (s[0] != '/')
        return "an absolute path";
    if (strcmp(s, "/") == 0)
        return "a path other than /";
    if (strlen(s) >= 4096)
        return "a path shorter than 4096 bytes";
    for (const char *p = s; *p;) {
        size_t k = strcspn(++p, "/");
        if (k == 0 || (k == 1 && p[0] == '.') || (k == 2 && p[0] == '.' && p[1] == '.'))
            return "a path without empty, \".\" or \"..\" components";
        p += k;
    }
    for (size_t i = 0; i < ELEMENTSOF(forbidden); i++) {
        size_t k = strlen(forbidden[i]);
        if (strncmp(s, forbidden[i], k) == 0 && (s[k] == '\0' || s[k] == '/'))
            return "a path outside /proc, /dev, /work and /tmp";
    }
    return NULL;
}

/* A relative path without ".." components (a seccomp import). */
static bool relative_path_valid(const char *s) {
    if (!*s || s[0] == '/' || strlen(s) >= 4096)
        return false;
    for (const char *p = s; *p;) {
        size_t k = strcspn(p, "/");
        if (k == 0 || (k == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += k;
        if (*p)
            p++;
    }
    return s[strlen(s) - 1] != '/';
}

/* ---- the layer: one file's own values -------------------------------------------- */

void layer_done(struct layer *ly) {
    ly->p = ls_policy_free(ly->p);
    rulelist_done(&ly->rules);
    origin_done(&ly->base_origin);
    origin_done(&ly->extends_at);
}

/* The name a file must declare: its base name without ".json". */
char *policy_file_stem(const char *file) {
    const char *b = strrchr(file, '/');
    size_t n;
    b = b ? b + 1 : file;
    n = strlen(b);
    if (n > 5 && strcmp(b + n - 5, ".json") == 0)
        n -= 5;
    return strndup(b, n);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_id(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int policy_cmp_env(const void *a, const void *b) {
    return strcmp(((const struct ls_policy_env_var *)a)->name,
                  ((const struct ls_policy_env_var *)b)->name);
}

/* Sort and drop repeats: arrays of names (freeing the repeats) and of ids. */
void policy_sort_unique_strings(char **v, size_t *n) {
    size_t k = 0;
    qsort(v, *n, sizeof(*v), cmp_str);
    for (size_t i = 0; i < *n; i++) {
        if (k > 0 && strcmp(v[k - 1], v[i]) == 0)
            free(v[i]);
        else
            v[k++] = v[i];
    }
    *n = k;
}

static void sort_unique_ids(uint32_t *v, size_t *n) {
    size_t k = 0;
    qsort(v, *n, sizeof(*v), cmp_id);
    for (size_t i = 0; i < *n; i++)
        if (k == 0 || v[k - 1] != v[i])
            v[k++] = v[i];
    *n = k;
}

_Static_assert(sizeof(uid_t) == sizeof(uint32_t) && sizeof(gid_t) == sizeof(uint32_t),
               "ids are sorted as uint32_t");

static void parse_ids(struct ctx *c, const struct val *x, uint32_t **ret, size_t *ret_n) {
    size_t n = json_array_size(x->v), k = 0;
    uint32_t *v;

    if (!want_array(c, x, "an array of integers"))
        return;
    v = calloc(n ? n : 1, sizeof(*v));
    if (!v) {
        c->oom = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        _cleanup_val_ struct val e = element(c, x, i);
        uint64_t id;
        if (want_int(c, &e, 0, ID_MAX, &id))
            v[k++] = (uint32_t)id;
    }
    sort_unique_ids(v, &k);
    *ret = v;
    *ret_n = k;
}

static void parse_clients(struct ctx *c, const struct val *x, struct layer *ly) {
    static const char *const keys[] = {"any", "gids", "roles", "uids", NULL};
    struct ls_policy *p = ly->p;

    if (!want_object(c, x, "an object with uids, gids, roles or any"))
        return;
    check_keys(c, x, keys);
    ly->has.clients = true;

    _cleanup_val_ struct val any = field(c, x, "any");
    if (any.v)
        want_bool(c, &any, &p->any_client);
    _cleanup_val_ struct val uids = field(c, x, "uids");
    if (uids.v)
        parse_ids(c, &uids, (uint32_t **)&p->client_uids, &p->n_client_uids);
    _cleanup_val_ struct val gids = field(c, x, "gids");
    if (gids.v)
        parse_ids(c, &gids, (uint32_t **)&p->client_gids, &p->n_client_gids);

    _cleanup_val_ struct val roles = field(c, x, "roles");
    if (roles.v && want_array(c, &roles, "an array of role names")) {
        size_t n = json_array_size(roles.v);
        p->client_roles = calloc(n ? n : 1, sizeof(char *));
        if (!p->client_roles) {
            c->oom = true;
            return;
        }
        for (size_t i = 0; i < n; i++) {
            _cleanup_val_ struct val e = element(c, &roles, i);
            const char *s = json_string_value(e.v);
            if (!s || !name_valid(s, true)) {
                error_at(c, &e,
                         "expected a role name matching [A-Za-z0-9][A-Za-z0-9._-]* (at most %d "
                         "characters), got %s",
                         NAME_MAX_LEN, got(e.v).s);
                continue;
            }
            char *d = dup_or_oom(c, s);
            if (d)
                p->client_roles[p->n_client_roles++] = d;
        }
        policy_sort_unique_strings(p->client_roles, &p->n_client_roles);
    }
}

/* ---- limits ---- */

static const struct limit_def limit_table[] = {
    {"cpu_time", offsetof(struct ls_policy_limits, cpu_time), LIMIT_DURATION, 0},
    {"cpus", offsetof(struct ls_policy_limits, cpus), LIMIT_CPUS, 0},
    {"file_size", offsetof(struct ls_policy_limits, file_size), LIMIT_SIZE, 0},
    {"memory", offsetof(struct ls_policy_limits, memory), LIMIT_SIZE, 0},
    {"open_files", offsetof(struct ls_policy_limits, open_files), LIMIT_COUNT, OPEN_FILES_MAX},
    {"output", offsetof(struct ls_policy_limits, output), LIMIT_SIZE, 0},
    {"pids", offsetof(struct ls_policy_limits, pids), LIMIT_COUNT, PIDS_MAX},
    {"tmp_size", offsetof(struct ls_policy_limits, tmp_size), LIMIT_SIZE, 0},
    {"wall_time", offsetof(struct ls_policy_limits, wall_time), LIMIT_DURATION, 0},
};
_Static_assert(ELEMENTSOF(limit_table) == POLICY_N_LIMITS, "POLICY_N_LIMITS is the table's size");
_Static_assert(sizeof(struct ls_policy_limits) == POLICY_N_LIMITS * sizeof(struct ls_limit),
               "every limit of struct ls_policy_limits has an entry");

const struct limit_def *const policy_limit_defs = limit_table;

/* One limit value in base units (bytes, ms, thousandths of a CPU, count); > 0. */
static bool parse_limit_value(struct ctx *c, const struct val *x, const struct limit_def *d,
                              uint64_t *ret) {
    const json_t *v = x->v;
    uint64_t u = 0;

    switch (d->kind) {
    case LIMIT_SIZE:
        if (json_is_integer(v) && json_integer_value(v) > 0) {
            *ret = (uint64_t)json_integer_value(v);
            return true;
        }
        if (json_is_string(v) && ls_parse_size(json_string_value(v), &u) >= 0 && u > 0 &&
            u <= VALUE_MAX) {
            *ret = u;
            return true;
        }
        error_at(c, x,
                 "expected a size like \"512M\" (units K, M, G, T) or a number of bytes, "
                 "above 0, got %s",
                 got(v).s);
        return false;
    case LIMIT_DURATION:
        if (json_is_integer(v) && json_integer_value(v) > 0 &&
            json_integer_value(v) <= VALUE_MAX / 1000) {
            *ret = (uint64_t)json_integer_value(v) * 1000;
            return true;
        }
        if (json_is_string(v) && parse_duration(json_string_value(v), &u) && u > 0) {
            *ret = u;
            return true;
        }
        error_at(c, x,
                 "expected a duration like \"30s\", \"10m\", \"2h\" or \"1.5s\" or a "
                 "number of seconds, above 0, got %s",
                 got(v).s);
        return false;
    case LIMIT_CPUS:
        if (json_is_number(v)) {
            double cpus = json_number_value(v), t = cpus * 1000;
            if (cpus > 0 && cpus <= CPUS_MAX) {
                u = (uint64_t)(t + 0.5);
                if (u > 0 && (double)u - t < 1e-6 && t - (double)u < 1e-6) {
                    *ret = u;
                    return true;
                }
            }
        }
        error_at(c, x,
                 "expected a number of CPUs like 0.5 or 2 (above 0, at most %d, at most "
                 "three decimals), got %s",
                 CPUS_MAX, got(v).s);
        return false;
    case LIMIT_COUNT:
        return want_int(c, x, 1, d->max, ret);
    }
    return false;
}

static void parse_limits(struct ctx *c, const struct val *x, struct layer *ly) {
    static const char *const keys[] = {"cpu_time", "cpus", "file_size", "memory",    "open_files",
                                       "output",   "pids", "tmp_size",  "wall_time", NULL};
    static const char *const limit_keys[] = {"default", "max", NULL};

    if (!want_object(c, x, "an object of limits"))
        return;
    check_keys(c, x, keys);
    for (size_t i = 0; i < POLICY_N_LIMITS; i++) {
        const struct limit_def *d = &policy_limit_defs[i];
        _cleanup_val_ struct val l = field(c, x, d->name);
        uint64_t def = 0, max = 0;
        bool def_ok = false, max_ok = false;

        if (!l.v)
            continue;
        if (!want_object(c, &l, "an object { \"default\": ..., \"max\": ... }"))
            continue;
        check_keys(c, &l, limit_keys);
        _cleanup_val_ struct val vd = field(c, &l, "default");
        _cleanup_val_ struct val vm = field(c, &l, "max");
        if (!vd.v && !vm.v) {
            error_at(c, &l, "expected \"default\" or \"max\" (or both), got an empty object");
            continue;
        }
        if (vd.v)
            def_ok = parse_limit_value(c, &vd, d, &def);
        if (vm.v)
            max_ok = parse_limit_value(c, &vm, d, &max);
        if (!vd.v) {
            def = max; /* a lone max is also the default */
            def_ok = max_ok;
        }
        if (!vm.v) {
            max = def; /* a lone default is also the max */
            max_ok = def_ok;
        }
        if (!def_ok || !max_ok)
            continue;
        if (def > max) {
            error_at(c, &vd, "expected at most the max (%s), got %s", got(vm.v).s, got(vd.v).s);
            continue;
        }
        *policy_limit_of(&ly->p->limits, d) =
            (struct ls_limit){.set = true, .def = def, .max = max};
    }
}

/* ---- filesystem, network, environment ---- */

static void parse_bind(struct ctx *c, const struct val *e, struct ls_policy_bind *b) {
    static const char *const keys[] = {"dst", "optional", "src", NULL};
    const char *problem;

    if (json_is_string(e->v)) {
        const char *s = json_string_value(e->v);
        problem = bind_path_problem(s);
        if (problem)
            error_at(c, e, "expected %s, got %s", problem, got(e->v).s);
        else
            b->src = dup_or_oom(c, s);
        return;
    }
    if (!json_is_object(e->v)) {
        error_at(c, e, "expected a path or an object { \"src\", \"dst\", \"optional\" }, got %s",
                 got(e->v).s);
        return;
    }
    check_keys(c, e, keys);
    _cleanup_val_ struct val src = field(c, e, "src");
    _cleanup_val_ struct val dst = field(c, e, "dst");
    _cleanup_val_ struct val opt = field(c, e, "optional");
    const char *s = want_string(c, &src, "a host path (\"src\" is required)");
    if (s) {
        problem = bind_path_problem(s);
        if (problem)
            error_at(c, &src, "expected %s, got %s", problem, got(src.v).s);
        else
            b->src = dup_or_oom(c, s);
    }
    if (dst.v) {
        const char *d = want_string(c, &dst, "a path in the sandbox");
        problem = d ? bind_path_problem(d) : NULL;
        if (problem)
            error_at(c, &dst, "expected %s, got %s", problem, got(dst.v).s);
        else if (d)
            b->dst = dup_or_oom(c, d);
    }
    if (opt.v)
        want_bool(c, &opt, &b->optional);
}

static void parse_filesystem(struct ctx *c, const struct val *x, struct layer *ly) {
    static const char *const keys[] = {"ro_binds", "workspace", NULL};
    struct ls_policy *p = ly->p;

    if (!want_object(c, x, "an object with ro_binds or workspace"))
        return;
    check_keys(c, x, keys);

    _cleanup_val_ struct val ws = field(c, x, "workspace");
    if (ws.v && want_bool(c, &ws, &p->workspace))
        ly->has.workspace = true;

    _cleanup_val_ struct val rb = field(c, x, "ro_binds");
    if (!rb.v || !want_array(c, &rb, "an array of paths or { \"src\", \"dst\", \"optional\" }"))
        return;
    size_t n = json_array_size(rb.v);
    p->ro_binds = calloc(n ? n : 1, sizeof(*p->ro_binds));
    if (!p->ro_binds) {
        c->oom = true;
        return;
    }
    ly->has.ro_binds = true;
    p->ro_binds_set = true;
    for (size_t i = 0; i < n; i++) {
        _cleanup_val_ struct val e = element(c, &rb, i);
        struct ls_policy_bind *b = &p->ro_binds[p->n_ro_binds];
        parse_bind(c, &e, b);
        if (!b->src) {
            free(b->dst);
            *b = (struct ls_policy_bind){0};
            continue;
        }
        const char *dst = b->dst ? b->dst : b->src;
        for (size_t k = 0; k < p->n_ro_binds; k++) {
            const struct ls_policy_bind *o = &p->ro_binds[k];
            if (strcmp(o->dst ? o->dst : o->src, dst) == 0) {
                error_at(c, &e, "expected a destination that no other bind uses, got %s again",
                         quoted(dst).s);
                break;
            }
        }
        p->n_ro_binds++;
    }
}

static void parse_network(struct ctx *c, const struct val *x, struct layer *ly) {
    if (json_is_string(x->v) && strcmp(json_string_value(x->v), "none") == 0) {
        ly->p->network = dup_or_oom(c, "none");
        ly->has.network = true;
    } else if (json_is_object(x->v)) {
        error_at(c, x,
                 "expected \"none\", got an object: egress allow-lists ({ \"mode\": \"egress\", "
                 "\"allow\": [...] }) are not supported yet");
    } else {
        error_at(c, x, "expected \"none\" (the only network mode), got %s", got(x->v).s);
    }
}

#define EXPECT_ENV_NAME "expected a variable name matching [A-Za-z_][A-Za-z0-9_]*, got %s"

static void parse_environment(struct ctx *c, const struct val *x, struct layer *ly) {
    static const char *const keys[] = {"allow", "set", NULL};
    struct ls_policy *p = ly->p;

    if (!want_object(c, x, "an object with allow or set"))
        return;
    check_keys(c, x, keys);

    _cleanup_val_ struct val allow = field(c, x, "allow");
    if (allow.v && want_array(c, &allow, "an array of variable names")) {
        size_t n = json_array_size(allow.v);
        p->env_allow = calloc(n ? n : 1, sizeof(char *));
        if (!p->env_allow) {
            c->oom = true;
            return;
        }
        for (size_t i = 0; i < n; i++) {
            _cleanup_val_ struct val e = element(c, &allow, i);
            const char *s = json_string_value(e.v);
            if (!s || !env_name_valid(s)) {
                error_at(c, &e, EXPECT_ENV_NAME, got(e.v).s);
                continue;
            }
            char *d = dup_or_oom(c, s);
            if (d)
                p->env_allow[p->n_env_allow++] = d;
        }
        policy_sort_unique_strings(p->env_allow, &p->n_env_allow);
    }

    _cleanup_val_ struct val set = field(c, x, "set");
    if (!set.v || !want_object(c, &set, "an object of name: value"))
        return;
    size_t n = json_object_size(set.v);
    p->env_set = calloc(n ? n : 1, sizeof(*p->env_set));
    if (!p->env_set) {
        c->oom = true;
        return;
    }
    /* Every member once (jansson keeps the last of repeated keys, reported below). */
    const char *key;
    json_t *v;
    json_object_foreach(set.v, key, v) {
        _cleanup_val_ struct val e = field(c, &set, key);
        if (!env_name_valid(key)) {
            error_key(c, &e, EXPECT_ENV_NAME, quoted(key).s);
            continue;
        }
        if (!json_is_string(v)) {
            error_at(c, &e, "expected a string value, got %s", got(v).s);
            continue;
        }
        struct ls_policy_env_var *ev = &p->env_set[p->n_env_set];
        ev->name = dup_or_oom(c, key);
        ev->value = dup_or_oom(c, json_string_value(v));
        if (!ev->name || !ev->value) {
            free(ev->name);
            free(ev->value);
            *ev = (struct ls_policy_env_var){0};
            continue;
        }
        p->n_env_set++;
    }
    qsort(p->env_set, p->n_env_set, sizeof(*p->env_set), policy_cmp_env);
    /* Repeated keys: jansson kept the last value; say so. */
    if (set.n)
        for (size_t i = 0; i < set.n->n_kids; i++)
            if (set.n->kids[i].first) {
                _cleanup_val_ struct val kv = {.n = &set.n->kids[i], .owner = set.n};
                kv.path = jsonpos_path_key(set.path, set.n->kids[i].key);
                error_key(c, &kv,
                          "expected each key once, got %s again (first at line %d, "
                          "column %d)",
                          quoted(set.n->kids[i].key).s, set.n->kids[i].first->key_line,
                          set.n->kids[i].first->key_col);
            }
}

/* ---- seccomp ---- */

static const struct {
    const char *name;
    enum ls_seccomp_op op;
} ops[] = {
    {"eq", LS_SECCOMP_EQ}, {"ge", LS_SECCOMP_GE}, {"gt", LS_SECCOMP_GT},
    {"le", LS_SECCOMP_LE}, {"lt", LS_SECCOMP_LT}, {"masked_eq", LS_SECCOMP_MASKED_EQ},
    {"ne", LS_SECCOMP_NE},
};

const char *policy_op_name(enum ls_seccomp_op op) {
    for (size_t i = 0; i < ELEMENTSOF(ops); i++)
        if (ops[i].op == op)
            return ops[i].name;
    return "?";
}

const char *policy_action_name(enum ls_seccomp_action a) {
    return a == LS_SECCOMP_ALLOW ? "allow" : a == LS_SECCOMP_ERRNO ? "errno" : "kill";
}

/* A syscall name: 1 with *nr set, 0 when dropped (unknown, allowed), -1 on error. */
static int want_syscall(struct ctx *c, const struct val *x, int *nr) {
    const char *s = json_string_value(x->v);
    if (!s || !*s) {
        error_at(c, x, "expected a syscall name like \"openat\", got %s", got(x->v).s);
        return -1;
    }
    *nr = seccomp_syscall_resolve_name(s);
    if (*nr != __NR_SCMP_ERROR)
        return 1;
    const struct scmp_version *ver = seccomp_version();
    if (c->allow_unknown) {
        warning_at(c, x, "expected a syscall name libseccomp %u.%u.%u knows, got %s; dropped",
                   ver->major, ver->minor, ver->micro, got(x->v).s);
        return 0;
    }
    error_at(c, x, "expected a syscall name libseccomp %u.%u.%u knows, got %s", ver->major,
             ver->minor, ver->micro, got(x->v).s);
    return -1;
}

#define EXPECT_U64 "expected an integer >= 0 or a string \"0x...\" (at most 16 hex digits), got %s"

static bool parse_arg(struct ctx *c, const struct val *x, struct ls_seccomp_arg *a) {
    static const char *const keys[] = {"index", "mask", "op", "value", NULL};
    size_t errors = c->diags->n_errors;
    uint64_t index = 0;

    if (!want_object(c, x, "an object { \"index\", \"op\", \"value\" }"))
        return false;
    check_keys(c, x, keys);
    _cleanup_val_ struct val vi = field(c, x, "index");
    _cleanup_val_ struct val vo = field(c, x, "op");
    _cleanup_val_ struct val vv = field(c, x, "value");
    _cleanup_val_ struct val vm = field(c, x, "mask");
    if (want_int(c, &vi, 0, LS_SECCOMP_MAX_ARGS - 1, &index))
        a->index = (unsigned)index;
    const char *op = json_string_value(vo.v);
    bool op_ok = false;
    for (size_t i = 0; op && i < ELEMENTSOF(ops); i++)
        if (strcmp(op, ops[i].name) == 0) {
            a->op = ops[i].op;
            op_ok = true;
        }
    if (!op_ok)
        error_at(c, &vo, "expected one of eq, ne, lt, le, gt, ge, masked_eq, got %s", got(vo.v).s);
    bool value_ok = parse_u64(vv.v, &a->value);
    if (!value_ok)
        error_at(c, &vv, EXPECT_U64, got(vv.v).s);
    if (op_ok && a->op == LS_SECCOMP_MASKED_EQ) {
        if (!vm.v)
            error_at(c, &vm,
                     "expected a mask (masked_eq compares arg & mask with value), got "
                     "nothing");
        else if (!parse_u64(vm.v, &a->mask))
            error_at(c, &vm, EXPECT_U64, got(vm.v).s);
        else if (value_ok && (a->value & ~a->mask))
            error_at(c, &vv,
                     "expected a value within the mask 0x%" PRIx64 " (else it never "
                     "matches), got %s",
                     a->mask, got(vv.v).s);
    } else if (op_ok && vm.v) {
        error_at(c, &vm, "expected no mask for op \"%s\" (only masked_eq takes one), got %s", op,
                 got(vm.v).s);
    }
    return c->diags->n_errors == errors;
}

/* A "comment" member of x is for readers only: checked for its type, not kept. */
static void check_comment(struct ctx *c, const struct val *x) {
    _cleanup_val_ struct val comment = field(c, x, "comment");
    bool ok = !comment.v || json_is_string(comment.v) || json_is_array(comment.v);
    for (size_t i = 0; ok && i < json_array_size(comment.v); i++)
        ok = json_is_string(json_array_get(comment.v, i));
    if (!ok)
        error_at(c, &comment, "expected a string or an array of strings, got %s", got(comment.v).s);
}

static void parse_rule(struct ctx *c, const struct val *x, struct rulelist *out) {
    static const char *const keys[] = {"action", "args", "comment", "errno", "syscalls", NULL};
    size_t errors = c->diags->n_errors;
    struct ls_seccomp_rule r = {0};
    bool action_ok = false;

    if (!want_object(c, x, "a rule { \"syscalls\", \"action\", ... }"))
        return;
    check_keys(c, x, keys);
    check_comment(c, x);

    _cleanup_val_ struct val va = field(c, x, "action");
    const char *action = json_string_value(va.v);
    for (int a = LS_SECCOMP_ALLOW; action && a <= LS_SECCOMP_KILL; a++)
        if (strcmp(action, policy_action_name(a)) == 0) {
            r.action = a;
            action_ok = true;
        }
    if (!action_ok)
        error_at(c, &va, "expected \"allow\", \"errno\" or \"kill\", got %s", got(va.v).s);

    _cleanup_val_ struct val ve = field(c, x, "errno");
    r.errno_ret = EPERM;
    if (action_ok && r.action != LS_SECCOMP_ERRNO)
        r.errno_ret = 0;
    if (ve.v && action_ok && r.action != LS_SECCOMP_ERRNO)
        error_at(c, &ve, "expected no errno with action \"%s\", got %s", action, got(ve.v).s);
    else if (ve.v)
        want_errno(c, &ve, &r.errno_ret);

    _cleanup_val_ struct val vargs = field(c, x, "args");
    if (vargs.v && want_array(c, &vargs, "an array of conditions")) {
        size_t n = json_array_size(vargs.v);
        if (n > LS_SECCOMP_MAX_ARGS)
            error_at(c, &vargs, "expected at most %d conditions, got %zu", LS_SECCOMP_MAX_ARGS, n);
        for (size_t k = 0; k < n && k < LS_SECCOMP_MAX_ARGS; k++) {
            _cleanup_val_ struct val e = element(c, &vargs, k);
            struct ls_seccomp_arg *a = &r.args[r.n_args];
            if (!parse_arg(c, &e, a))
                continue;
            bool repeated = false;
            for (unsigned j = 0; j < r.n_args; j++)
                if (r.args[j].index == a->index)
                    repeated = true;
            if (repeated) {
                _cleanup_val_ struct val ei = field(c, &e, "index");
                error_at(c, &ei,
                         "expected an argument no other condition of this rule compares "
                         "(libseccomp takes one comparison per argument; write several rules), "
                         "got %u again",
                         a->index);
                continue;
            }
            r.n_args++;
        }
    }

    _cleanup_val_ struct val vs = field(c, x, "syscalls");
    if (!vs.v || !json_is_array(vs.v) || json_array_size(vs.v) == 0) {
        error_at(c, &vs, "expected a non-empty array of syscall names, got %s", got(vs.v).s);
        return;
    }
    size_t n = json_array_size(vs.v);
    _cleanup_free_ int *nrs = calloc(n, sizeof(int));
    _cleanup_free_ bool *keep = calloc(n, sizeof(bool));
    if (!nrs || !keep) {
        c->oom = true;
        return;
    }
    for (size_t j = 0; j < n; j++) {
        _cleanup_val_ struct val e = element(c, &vs, j);
        keep[j] = want_syscall(c, &e, &nrs[j]) > 0;
    }
    if (c->diags->n_errors != errors)
        return;
    for (size_t j = 0; j < n; j++) {
        if (!keep[j])
            continue;
        _cleanup_val_ struct val e = element(c, &vs, j);
        struct origin o = origin_of(c, &e);
        r.syscall = json_string_value(e.v);
        if (rulelist_add(out, &r, nrs[j], &o) < 0)
            c->oom = true;
    }
}

static void import_profile(struct ctx *c, const struct val *x, const char *dir, struct layer *ly,
                           struct rulelist *out) {
    _cleanup_free_ char *path = NULL;
    struct ls_seccomp_rule *rules = NULL;
    size_t n = 0;
    int def_errno = 0, r;

    if (!dir) {
        error_at(c, x,
                 "expected a profile beside the policy file, but this policy was read from "
                 "memory without a search_dir, got %s",
                 got(x->v).s);
        return;
    }
    if (asprintf(&path, "%s%s", dir, json_string_value(x->v)) < 0) {
        c->oom = true;
        return;
    }
    r = ls_docker_profile_load(path, NULL, c->allow_unknown, &rules, &n, &def_errno, c->diags);
    if (r == -ENOMEM) {
        c->oom = true;
        return;
    }
    if (r < 0) {
        error_at(c, x, "expected a Docker/OCI seccomp profile that loads, got %s (%s: %s)",
                 got(x->v).s, path, r == -EINVAL ? "see its errors" : strerror(-r));
        return;
    }
    struct origin o = origin_of(c, x);
    for (size_t i = 0; i < n; i++) {
        int nr = seccomp_syscall_resolve_name(rules[i].syscall);
        if (nr == __NR_SCMP_ERROR) {
            if (!c->allow_unknown)
                error_at(c, x, "expected syscall names libseccomp knows, got \"%s\" in %s",
                         rules[i].syscall, path);
            continue;
        }
        if (rulelist_add(out, &rules[i], nr, &o) < 0)
            c->oom = true;
    }
    ls_seccomp_rules_free(rules, n);
    /* The profile's defaultErrnoRet counts as written here unless the file says. */
    if (!ly->has.default_errno && def_errno >= 1 && def_errno <= ERRNO_MAX) {
        ly->p->seccomp.default_errno = def_errno;
        ly->has.default_errno = true;
    }
}

static void parse_seccomp(struct ctx *c, const struct val *x, const char *dir, struct layer *ly) {
    static const char *const keys[] = {"allow",         "base", "default_errno", "import", "rules",
                                       "unknown_errno", NULL};
    struct ls_policy *p = ly->p;
    struct rulelist imported = {0}, own = {0};

    if (!want_object(c, x,
                     "an object with base, import, default_errno, unknown_errno, allow "
                     "or rules"))
        return;
    check_keys(c, x, keys);

    _cleanup_val_ struct val base = field(c, x, "base");
    if (base.v) {
        const char *s = json_string_value(base.v);
        if (s && (strcmp(s, "builtin") == 0 || strcmp(s, "none") == 0)) {
            struct origin o = origin_of(c, &base);
            p->seccomp.use_builtin = strcmp(s, "builtin") == 0;
            ly->has.base = true;
            if (origin_copy(&ly->base_origin, &o) < 0)
                c->oom = true;
        } else {
            error_at(c, &base, "expected \"builtin\" or \"none\", got %s", got(base.v).s);
        }
    }
    _cleanup_val_ struct val de = field(c, x, "default_errno");
    if (de.v && want_errno(c, &de, &p->seccomp.default_errno))
        ly->has.default_errno = true;
    _cleanup_val_ struct val ue = field(c, x, "unknown_errno");
    if (ue.v && want_errno(c, &ue, &p->seccomp.unknown_errno))
        ly->has.unknown_errno = true;

    _cleanup_val_ struct val allow = field(c, x, "allow");
    if (allow.v && want_array(c, &allow, "an array of syscall names")) {
        for (size_t i = 0; i < json_array_size(allow.v); i++) {
            _cleanup_val_ struct val e = element(c, &allow, i);
            struct ls_seccomp_rule r = {.action = LS_SECCOMP_ALLOW};
            int nr;
            if (want_syscall(c, &e, &nr) <= 0)
                continue;
            struct origin o = origin_of(c, &e);
            r.syscall = json_string_value(e.v);
            if (rulelist_add(&own, &r, nr, &o) < 0)
                c->oom = true;
        }
    }
    _cleanup_val_ struct val rules = field(c, x, "rules");
    if (rules.v && want_array(c, &rules, "an array of rules")) {
        for (size_t i = 0; i < json_array_size(rules.v); i++) {
            _cleanup_val_ struct val e = element(c, &rules, i);
            parse_rule(c, &e, &own);
        }
    }

    _cleanup_val_ struct val imp = field(c, x, "import");
    if (imp.v) {
        const char *s = json_string_value(imp.v);
        if (!s || !relative_path_valid(s)) {
            error_at(c, &imp,
                     "expected a path relative to the policy's directory, without "
                     "\"..\", got %s",
                     got(imp.v).s);
        } else {
            p->seccomp.import = dup_or_oom(c, s);
            import_profile(c, &imp, dir, ly, &imported);
        }
    }

    if (rulelist_overlay(&imported, &own) < 0)
        c->oom = true;
    ly->rules = imported;
    rulelist_done(&own);
}

/* ---- one file ---------------------------------------------------------------- */

struct diag_key {
    const struct ls_diag *d;
    size_t seq;
    bool other; /* another file's diagnostic (an imported profile): keep them after ours */
};

static int cmp_diag(const void *a, const void *b) {
    const struct diag_key *x = a, *y = b;
    if (x->other != y->other)
        return x->other ? 1 : -1;
    if (!x->other) {
        if (x->d->line != y->d->line)
            return x->d->line < y->d->line ? -1 : 1;
        if (x->d->col != y->d->col)
            return x->d->col < y->d->col ? -1 : 1;
    }
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sort diags[first..] of file by position; others' keep their order, after them. */
static void sort_diags(struct ls_diags *d, size_t first, const char *file) {
    size_t n = d->n - first;
    if (n < 2)
        return;
    _cleanup_free_ struct diag_key *k = calloc(n, sizeof(*k));
    _cleanup_free_ struct ls_diag *tmp = calloc(n, sizeof(*tmp));
    if (!k || !tmp)
        return; /* unsorted is still correct */
    for (size_t i = 0; i < n; i++) {
        const struct ls_diag *dg = &d->v[first + i];
        k[i] =
            (struct diag_key){.d = dg, .seq = i, .other = !dg->file || strcmp(dg->file, file) != 0};
    }
    qsort(k, n, sizeof(*k), cmp_diag);
    for (size_t i = 0; i < n; i++)
        tmp[i] = *k[i].d;
    memcpy(d->v + first, tmp, n * sizeof(*tmp));
}

/*
 * Parse and check one file into ly (own values only).  dir: where its import is
 * found ("" or a prefix ending in '/'; NULL: nowhere).  Returns 0, -EINVAL when
 * problems were reported (ly->p may still be set, for the extends chain), -ENOMEM.
 */
static int parse_layer(struct ctx *c, const char *data, size_t len, const char *dir,
                       struct layer *ly) {
    static const char *const keys[] = {
        "clients", "comment", "description", "environment", "extends", "filesystem", "limits",
        "name",    "network", "seccomp",     "uid",         "version", NULL};
    _cleanup_(jsonpos_freep) struct jsonpos *pos = NULL;
    _cleanup_json_ json_t *root = NULL;
    size_t errors = c->diags->n_errors;
    json_error_t jerr;
    int r;

    root = json_loadb(data, len, 0, &jerr);
    if (!root) {
        ls_diags_add(c->diags, false, c->file, jerr.line > 0 ? jerr.line : 0,
                     jerr.line > 0 ? (jerr.column > 0 ? jerr.column : 1) : 0, "",
                     "invalid JSON: %s", jerr.text);
        return -EINVAL;
    }
    r = jsonpos_scan(data, len, &pos);
    if (r == -ENOMEM)
        return r; /* on -EINVAL (should not happen) diagnostics lack positions */

    _cleanup_val_ struct val top = {.v = root, .n = pos ? &pos->root : NULL};
    top.path = strdup("");
    if (!top.path)
        return -ENOMEM;
    if (!json_is_object(root)) {
        error_at(c, &top, "expected a JSON object (a policy), got %s", got(root).s);
        return -EINVAL;
    }
    check_keys(c, &top, keys);
    ly->p = policy_new();
    if (!ly->p)
        return -ENOMEM;
    struct ls_policy *p = ly->p;
    p->file = dup_or_oom(c, c->file);

    _cleanup_val_ struct val name = field(c, &top, "name");
    const char *s = want_string(c, &name, "a policy name (\"name\" is required)");
    if (s && !name_valid(s, false)) {
        error_at(c, &name,
                 "expected a policy name matching [a-z0-9][a-z0-9._-]* (at most %d characters), "
                 "got %s",
                 NAME_MAX_LEN, got(name.v).s);
    } else if (s) {
        _cleanup_free_ char *stem = policy_file_stem(c->file);
        if (stem && strcmp(stem, s) != 0)
            error_at(c, &name, "expected the file's name without .json (%s), got %s",
                     quoted(stem).s, got(name.v).s);
        p->name = dup_or_oom(c, s);
    }

    _cleanup_val_ struct val version = field(c, &top, "version");
    if (!version.v)
        error_at(c, &version, "expected an integer >= 1 (\"version\" is required), got nothing");
    else if (!json_is_integer(version.v) || json_integer_value(version.v) < 1)
        error_at(c, &version, "expected an integer >= 1, got %s", got(version.v).s);
    else
        p->version = (uint64_t)json_integer_value(version.v);

    _cleanup_val_ struct val desc = field(c, &top, "description");
    if (desc.v && (s = want_string(c, &desc, "a string"))) {
        p->description = dup_or_oom(c, s);
        ly->has.description = true;
    }

    check_comment(c, &top);

    _cleanup_val_ struct val ext = field(c, &top, "extends");
    if (ext.v) {
        s = json_string_value(ext.v);
        if (!s || !name_valid(s, false)) {
            error_at(c, &ext, "expected the name of a policy in the same directory, got %s",
                     got(ext.v).s);
        } else {
            struct origin o = origin_of(c, &ext);
            p->extends = dup_or_oom(c, s);
            if (origin_copy(&ly->extends_at, &o) < 0)
                c->oom = true;
        }
    }

    _cleanup_val_ struct val clients = field(c, &top, "clients");
    if (clients.v)
        parse_clients(c, &clients, ly);
    _cleanup_val_ struct val limits = field(c, &top, "limits");
    if (limits.v)
        parse_limits(c, &limits, ly);
    _cleanup_val_ struct val fs = field(c, &top, "filesystem");
    if (fs.v)
        parse_filesystem(c, &fs, ly);
    _cleanup_val_ struct val net = field(c, &top, "network");
    if (net.v)
        parse_network(c, &net, ly);
    _cleanup_val_ struct val env = field(c, &top, "environment");
    if (env.v)
        parse_environment(c, &env, ly);
    _cleanup_val_ struct val uid = field(c, &top, "uid");
    uint64_t u;
    if (uid.v && want_int(c, &uid, 0, UID_INSIDE_MAX, &u)) {
        p->uid = (uid_t)u;
        ly->has.uid = true;
    }
    _cleanup_val_ struct val sc = field(c, &top, "seccomp");
    if (sc.v)
        parse_seccomp(c, &sc, dir, ly);

    if (c->oom)
        return -ENOMEM;
    return c->diags->n_errors == errors ? 0 : -EINVAL;
}

int layer_parse(struct ls_diags *diags, const char *file, bool allow_unknown, const char *data,
                size_t len, const char *dir, struct layer *ly) {
    struct ctx c = {.diags = diags, .file = file, .allow_unknown = allow_unknown};
    size_t first = diags->n;
    int r = parse_layer(&c, data, len, dir, ly);
    sort_diags(diags, first, file);
    return r;
}
