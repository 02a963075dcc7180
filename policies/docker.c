/*
 * docker.c - import a Docker/moby seccomp profile as labstack seccomp rules.
 *
 * The input is moby's "template" format (github.com/moby/profiles, seccomp/default.json
 * and the Go types in seccomp/seccomp.go): the OCI linux.seccomp object plus archMap
 * and, on each syscalls[] entry, `includes`/`excludes` conditions on capabilities,
 * architectures and the kernel version.  A plain OCI linux.seccomp object is the same
 * format without those conditions.  Docker resolves the conditions when it starts a
 * container (seccomp/seccomp_linux.go: setupSeccomp); we resolve them the same way for
 * the one situation labstack has: x86_64 (moby's "amd64"), no capabilities at all, and
 * a given kernel version.  For an entry:
 *   - excludes.arches contains "amd64"            -> skipped
 *   - excludes.caps (any)                         -> applies: we hold none of them
 *   - excludes.minKernel <= kernel                -> skipped
 *   - includes.arches present without "amd64"     -> skipped
 *   - includes.caps (any)                         -> skipped: we hold none of them
 *   - includes.minKernel > kernel                 -> skipped
 * Kernel versions compare on "<major>.<minor>" only, as moby does ("6.1.55-foo" is 6.1).
 *
 * archMap: we only build native filters and every other architecture or ABI (i386,
 * x32) is killed by the compiler, so the x86_64 entry's subArchitectures are ignored;
 * archMap and `architectures` are validated but have no effect.
 *
 * Rules keep the profile's order.  Action mapping: SCMP_ACT_ALLOW -> allow;
 * SCMP_ACT_ERRNO -> errno (errnoRet, or EPERM as the OCI spec and runc say -- not
 * defaultErrnoRet); SCMP_ACT_KILL, _KILL_THREAD, _KILL_PROCESS -> kill (the whole
 * process: stricter than a thread kill).  SCMP_ACT_TRAP, _TRACE, _LOG and _NOTIFY are
 * refused: we run no tracer, agent or SIGSYS handler.  The default action must be
 * SCMP_ACT_ERRNO (our allow-list filter has an errno default).
 *
 * Arguments: {index, value, valueTwo, op}.  For SCMP_CMP_MASKED_EQ, "value" is the
 * mask and "valueTwo" the datum, as runc hands them to libseccomp-golang's
 * MakeCondition(index, op, value, valueTwo) and on to libseccomp's
 * SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, mask, datum): (arg & value) == valueTwo.
 * When one entry has several conditions on the same argument, runc adds each condition
 * as a rule of its own (so they are OR-ed, not AND-ed); we do the same, with a warning.
 *
 * We are stricter than Docker, which ignores what it does not know: unknown keys,
 * wrong types, unknown architecture names, malformed kernel versions and (in entries
 * that apply) unknown actions and syscall names libseccomp does not know are errors
 * -- the last ones warnings, dropped, with allow_unknown_syscalls.  Names libseccomp
 * knows but that are not x86_64 syscalls (chown32, socketcall, ...) are kept; the
 * compiler skips them.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "labstack/fileio.h"
#include "labstack/macros.h"
#include "labstack/policy.h"
#include "jsonpos.h"

#define PROFILE_MAX_BYTES (16u << 20) /* Docker's default is 13 KiB */
#define ERRNO_MAX 4095
#define MAX_CONDITIONS 32   /* per entry; more than 6 only when runc would split them */
#define PATH_LEN 192        /* JSON paths of diagnostics */
#define NATIVE_ARCH "amd64" /* how moby names x86_64 in includes/excludes.arches */

struct kver {
    unsigned major, minor;
};

struct importer {
    const char *file;
    struct ls_diags *diags;
    bool allow_unknown;
    struct kver kernel;
    struct jsonpos *pos; /* NULL: diagnostics without line and column */
    struct ls_seccomp_rule *rules;
    size_t n_rules, cap_rules;
};

struct condition {
    struct ls_seccomp_arg arg;
    uint64_t value_two; /* kept to warn when it is ignored */
    const char *op_name;
};

#define _cleanup_json_ _cleanup_(json_decrefp)

static void importer_done(struct importer *im) {
    im->pos = jsonpos_free(im->pos);
    ls_seccomp_rules_free(im->rules, im->n_rules);
    im->rules = NULL;
    im->n_rules = im->cap_rules = 0;
}

/* ---- diagnostics ---------------------------------------------------------------- */

/* Where path is in the profile: the value (or, at_key, the member's key) at path, else
 * at the nearest enclosing value that exists (a missing key points at its object).
 * 0:0 when the position scanner could not run. */
static void position(const struct importer *im, const char *path, bool at_key, int *line,
                     int *col) {
    char buf[PATH_LEN];
    size_t len;

    *line = *col = 0;
    if (!im->pos)
        return;
    len = strlen(path);
    if (len >= sizeof(buf))
        len = sizeof(buf) - 1;
    memcpy(buf, path, len);
    buf[len] = '\0';
    for (;;) {
        const struct jsonpos_node *node = jsonpos_lookup(im->pos, buf);
        if (node) {
            bool key = at_key && node->key_line > 0;
            *line = key ? node->key_line : node->line;
            *col = key ? node->key_col : node->col;
            return;
        }
        if (len == 0)
            return;
        while (len > 0 && buf[len - 1] != '.' && buf[len - 1] != '[')
            len--;
        if (len > 0)
            len--; /* the separator itself */
        buf[len] = '\0';
        at_key = false;
    }
}

static void diag(struct importer *im, bool warning, bool at_key, const char *path, const char *fmt,
                 ...) __attribute__((format(printf, 5, 6)));

static void diag(struct importer *im, bool warning, bool at_key, const char *path, const char *fmt,
                 ...) {
    char msg[512];
    va_list ap;
    int line, col;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    position(im, path, at_key, &line, &col);
    ls_diags_add(im->diags, warning, im->file, line, col, path, "%s", msg);
}

#define diag_error(im, path, ...) diag((im), false, false, (path), __VA_ARGS__)
#define diag_warning(im, path, ...) diag((im), true, false, (path), __VA_ARGS__)

static const char *type_name(const json_t *j) {
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "something else";
}

/* A JSON path too long for its buffer ends in "..." (paths are for people). */
static const char *path_done(char *buf, size_t size, int n) {
    if (n < 0 || (size_t)n >= size)
        memcpy(buf + size - 4, "...", 4);
    return buf;
}

/* "parent.key" (or "key" at the top) into buf; a key not made of [A-Za-z0-9_-] is
 * written parent["key"], as jsonpos.h spells paths. */
static const char *join(char *buf, size_t size, const char *parent, const char *key) {
    bool plain = key[0] != '\0';
    for (const char *c = key; *c && plain; c++)
        plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                *c == '_' || *c == '-';
    if (!plain)
        return path_done(buf, size, snprintf(buf, size, "%s[\"%s\"]", parent, key));
    return path_done(buf, size, snprintf(buf, size, "%s%s%s", parent, parent[0] ? "." : "", key));
}

static const char *join_index(char *buf, size_t size, const char *parent, size_t i) {
    return path_done(buf, size, snprintf(buf, size, "%s[%zu]", parent, i));
}

/* Every key of obj must be in known (NULL-terminated); false after an error for each
 * one that is not. */
static bool check_keys(struct importer *im, const json_t *obj, const char *path,
                       const char *const *known) {
    const char *key;
    json_t *value;
    bool ok = true;

    json_object_foreach((json_t *)obj, key, value) {
        bool found = false;
        for (size_t i = 0; known[i] && !found; i++)
            found = strcmp(key, known[i]) == 0;
        if (!found) {
            char p[PATH_LEN];
            diag(im, false, true, join(p, sizeof(p), path, key), "unknown key \"%s\"", key);
            ok = false;
        }
    }
    return ok;
}

/* A non-negative integer that fits in uint64_t (jansson refuses larger ones). */
static bool get_u64(struct importer *im, const json_t *j, const char *path, uint64_t *ret) {
    if (!json_is_integer(j)) {
        diag_error(im, path, "expected a non-negative integer, got %s", type_name(j));
        return false;
    }
    if (json_integer_value(j) < 0) {
        diag_error(im, path, "expected a non-negative integer, got %lld",
                   (long long)json_integer_value(j));
        return false;
    }
    *ret = (uint64_t)json_integer_value(j);
    return true;
}

static bool get_errno(struct importer *im, const json_t *j, const char *path, int *ret) {
    uint64_t v;
    if (!get_u64(im, j, path, &v))
        return false;
    if (v < 1 || v > ERRNO_MAX) {
        diag_error(im, path, "errno %llu out of range 1..%d", (unsigned long long)v, ERRNO_MAX);
        return false;
    }
    *ret = (int)v;
    return true;
}

/* An array of strings (null: empty); each element checked by pred when not NULL. */
static bool check_string_array(struct importer *im, const json_t *j, const char *path,
                               bool (*pred)(const char *), const char *what) {
    size_t i;
    json_t *e;
    bool ok = true;

    if (json_is_null(j))
        return true;
    if (!json_is_array(j)) {
        diag_error(im, path, "expected an array of strings, got %s", type_name(j));
        return false;
    }
    json_array_foreach((json_t *)j, i, e) {
        char p[PATH_LEN];
        if (!json_is_string(e)) {
            diag_error(im, join_index(p, sizeof(p), path, i), "expected a string, got %s",
                       type_name(e));
            ok = false;
        } else if (pred && !pred(json_string_value(e))) {
            diag_error(im, join_index(p, sizeof(p), path, i), "%s, got \"%s\"", what,
                       json_string_value(e));
            ok = false;
        }
    }
    return ok;
}

static bool array_contains(const json_t *arr, const char *s) {
    size_t i;
    json_t *e;

    if (!json_is_array(arr))
        return false;
    json_array_foreach((json_t *)arr, i, e) {
        if (json_is_string(e) && strcmp(json_string_value(e), s) == 0)
            return true;
    }
    return false;
}

/* ---- vocabulary ----------------------------------------------------------------- */

/* Architecture names of includes/excludes.arches: Go/libseccomp-golang names as moby
 * uses them (seccomp_linux.go: nativeToSeccomp, goToNative), plus "x32".  "x86_64" is
 * deliberately not here: moby calls it "amd64" and would never match "x86_64". */
static bool known_arch_name(const char *s) {
    static const char *const names[] = {
        "x86",         "amd64",       "x32",         "arm",    "arm64",    "loong64",
        "loongarch64", "mips",        "mipsle",      "mipsel", "mips64",   "mips64n32",
        "mipsel64",    "mipsel64n32", "mips3l64n32", "ppc",    "ppc64",    "ppc64le",
        "riscv64",     "s390",        "s390x",       "parisc", "parisc64",
    };
    for (size_t i = 0; i < ELEMENTSOF(names); i++)
        if (strcmp(s, names[i]) == 0)
            return true;
    return false;
}

static bool scmp_arch_name(const char *s) {
    return strncmp(s, "SCMP_ARCH_", 10) == 0 && s[10];
}

static bool cap_name(const char *s) {
    if (strncmp(s, "CAP_", 4) != 0 || !s[4])
        return false;
    for (s += 4; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static bool known_flag(const char *s) {
    static const char *const flags[] = {
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    };
    for (size_t i = 0; i < ELEMENTSOF(flags); i++)
        if (strcmp(s, flags[i]) == 0)
            return true;
    return false;
}

enum profile_action {
    ACT_UNKNOWN,
    ACT_ALLOW,
    ACT_ERRNO,
    ACT_KILL,
    ACT_UNSUPPORTED, /* TRAP, TRACE, LOG, NOTIFY */
};

static enum profile_action parse_action(const char *s) {
    static const struct {
        const char *name;
        enum profile_action action;
    } actions[] = {
        // clang-format off
        {"SCMP_ACT_ALLOW", ACT_ALLOW},
        {"SCMP_ACT_ERRNO", ACT_ERRNO},
        {"SCMP_ACT_KILL", ACT_KILL},
        {"SCMP_ACT_KILL_THREAD", ACT_KILL},
        {"SCMP_ACT_KILL_PROCESS", ACT_KILL},
        {"SCMP_ACT_TRAP", ACT_UNSUPPORTED},
        {"SCMP_ACT_TRACE", ACT_UNSUPPORTED},
        {"SCMP_ACT_LOG", ACT_UNSUPPORTED},
        {"SCMP_ACT_NOTIFY", ACT_UNSUPPORTED},
        // clang-format on
    };
    for (size_t i = 0; i < ELEMENTSOF(actions); i++)
        if (strcmp(s, actions[i].name) == 0)
            return actions[i].action;
    return ACT_UNKNOWN;
}

static bool parse_op(const char *s, enum ls_seccomp_op *ret) {
    static const struct {
        const char *name;
        enum ls_seccomp_op op;
    } ops[] = {
        // clang-format off
        {"SCMP_CMP_EQ", LS_SECCOMP_EQ},
        {"SCMP_CMP_NE", LS_SECCOMP_NE},
        {"SCMP_CMP_LT", LS_SECCOMP_LT},
        {"SCMP_CMP_LE", LS_SECCOMP_LE},
        {"SCMP_CMP_GT", LS_SECCOMP_GT},
        {"SCMP_CMP_GE", LS_SECCOMP_GE},
        {"SCMP_CMP_MASKED_EQ", LS_SECCOMP_MASKED_EQ},
        // clang-format on
    };
    for (size_t i = 0; i < ELEMENTSOF(ops); i++)
        if (strcmp(s, ops[i].name) == 0) {
            *ret = ops[i].op;
            return true;
        }
    return false;
}

/* ---- kernel versions -------------------------------------------------------------- */

/* Leading "<major>.<minor>" of a release string ("6.1", "6.18.44-fc", "3.12-1-amd64"),
 * like moby's parseRelease(). */
static bool parse_release(const char *s, struct kver *ret) {
    unsigned long v[2];
    char *end;

    for (int i = 0; i < 2; i++) {
        if (*s < '0' || *s > '9')
            return false;
        errno = 0;
        v[i] = strtoul(s, &end, 10);
        if (errno || v[i] > UINT32_MAX)
            return false;
        s = end;
        if (i == 0 && *s++ != '.')
            return false;
    }
    ret->major = (unsigned)v[0];
    ret->minor = (unsigned)v[1];
    return true;
}

/* minKernel: exactly "<major>.<minor>", each 0..255, not "0.0" (moby's
 * KernelVersion.UnmarshalJSON).  "" means no condition: *present = false. */
static bool parse_min_kernel(const char *s, struct kver *ret, bool *present) {
    unsigned long v[2];
    char *end;

    *present = false;
    if (!s[0])
        return true;
    for (int i = 0; i < 2; i++) {
        if (*s < '0' || *s > '9')
            return false;
        v[i] = strtoul(s, &end, 10);
        if (v[i] > 255 || end - s > 3)
            return false;
        s = end;
        if (i == 0 && *s++ != '.')
            return false;
    }
    if (*s || (v[0] == 0 && v[1] == 0))
        return false;
    *ret = (struct kver){(unsigned)v[0], (unsigned)v[1]};
    *present = true;
    return true;
}

static bool kernel_at_least(struct kver kernel, struct kver min) {
    return kernel.major > min.major || (kernel.major == min.major && kernel.minor >= min.minor);
}

/* ---- includes / excludes ------------------------------------------------------------ */

struct filter {
    const json_t *caps, *arches; /* NULL when absent */
    bool has_min_kernel;
    struct kver min_kernel;
};

static bool parse_filter(struct importer *im, const json_t *j, const char *path,
                         struct filter *ret) {
    static const char *const keys[] = {"caps", "arches", "minKernel", NULL};
    char p[PATH_LEN];
    bool ok;
    json_t *v;

    *ret = (struct filter){0};
    if (!j || json_is_null(j))
        return true;
    if (!json_is_object(j)) {
        diag_error(im, path, "expected an object, got %s", type_name(j));
        return false;
    }
    ok = check_keys(im, j, path, keys);
    v = json_object_get(j, "caps");
    if (v) {
        ok &= check_string_array(im, v, join(p, sizeof(p), path, "caps"), cap_name,
                                 "expected a capability name like CAP_SYS_ADMIN");
        ret->caps = json_array_size(v) ? v : NULL;
    }
    v = json_object_get(j, "arches");
    if (v) {
        ok &= check_string_array(im, v, join(p, sizeof(p), path, "arches"), known_arch_name,
                                 "expected one of moby's architecture names (amd64, x86, "
                                 "x32, arm64, ...; x86_64 is \"amd64\")");
        ret->arches = json_array_size(v) ? v : NULL;
    }
    v = json_object_get(j, "minKernel");
    if (v) {
        join(p, sizeof(p), path, "minKernel");
        if (!json_is_string(v)) {
            diag_error(im, p, "expected a kernel version string like \"4.8\", got %s",
                       type_name(v));
            ok = false;
        } else if (!parse_min_kernel(json_string_value(v), &ret->min_kernel,
                                     &ret->has_min_kernel)) {
            diag_error(im, p, "expected \"<major>.<minor>\" (each 0..255, not 0.0), got \"%s\"",
                       json_string_value(v));
            ok = false;
        }
    }
    return ok;
}

/* Does an entry with these conditions apply to x86_64, no capabilities, im->kernel? */
static bool entry_applies(const struct importer *im, const struct filter *inc,
                          const struct filter *exc) {
    if (exc->arches && array_contains(exc->arches, NATIVE_ARCH))
        return false;
    /* exc->caps: we hold none of them, so none excludes the entry. */
    if (exc->has_min_kernel && kernel_at_least(im->kernel, exc->min_kernel))
        return false;
    if (inc->arches && !array_contains(inc->arches, NATIVE_ARCH))
        return false;
    if (inc->caps)
        return false; /* needs capabilities we never have */
    if (inc->has_min_kernel && !kernel_at_least(im->kernel, inc->min_kernel))
        return false;
    return true;
}

/* ---- one syscalls[] entry ------------------------------------------------------------ */

static bool parse_args(struct importer *im, const json_t *j, const char *path,
                       struct condition *conds, unsigned *n) {
    static const char *const keys[] = {"index", "value", "valueTwo", "op", NULL};
    size_t i;
    json_t *a;
    bool ok = true;

    *n = 0;
    if (!j || json_is_null(j))
        return true;
    if (!json_is_array(j)) {
        diag_error(im, path, "expected an array, got %s", type_name(j));
        return false;
    }
    if (json_array_size(j) > MAX_CONDITIONS) {
        diag_error(im, path, "%zu conditions, at most %d", json_array_size(j), MAX_CONDITIONS);
        return false;
    }
    json_array_foreach((json_t *)j, i, a) {
        char ap[PATH_LEN], p[PATH_LEN];
        struct condition c = {0};
        uint64_t index = 0, value = 0;
        json_t *v;

        join_index(ap, sizeof(ap), path, i);
        if (!json_is_object(a)) {
            diag_error(im, ap, "expected an object, got %s", type_name(a));
            ok = false;
            continue;
        }
        if (!check_keys(im, a, ap, keys))
            ok = false;

        v = json_object_get(a, "index");
        join(p, sizeof(p), ap, "index");
        if (!v) {
            diag_error(im, p, "missing (the argument, 0..5)");
            ok = false;
        } else if (!get_u64(im, v, p, &index)) {
            ok = false;
        } else if (index >= LS_SECCOMP_MAX_ARGS) {
            diag_error(im, p, "argument index %llu, must be below %d", (unsigned long long)index,
                       LS_SECCOMP_MAX_ARGS);
            ok = false;
        }

        v = json_object_get(a, "value");
        join(p, sizeof(p), ap, "value");
        if (!v) {
            diag_error(im, p, "missing");
            ok = false;
        } else if (!get_u64(im, v, p, &value)) {
            ok = false;
        }

        v = json_object_get(a, "valueTwo");
        if (v && !get_u64(im, v, join(p, sizeof(p), ap, "valueTwo"), &c.value_two))
            ok = false;

        v = json_object_get(a, "op");
        join(p, sizeof(p), ap, "op");
        if (!v) {
            diag_error(im, p, "missing (SCMP_CMP_EQ, _NE, _LT, _LE, _GT, _GE or _MASKED_EQ)");
            ok = false;
        } else if (!json_is_string(v)) {
            diag_error(im, p, "expected a string, got %s", type_name(v));
            ok = false;
        } else if (!parse_op(json_string_value(v), &c.arg.op)) {
            diag_error(
                im, p,
                "unknown operator \"%s\" (SCMP_CMP_EQ, _NE, _LT, _LE, _GT, _GE or _MASKED_EQ)",
                json_string_value(v));
            ok = false;
        } else {
            c.op_name = json_string_value(v);
        }

        c.arg.index = (unsigned)index;
        if (c.arg.op == LS_SECCOMP_MASKED_EQ) {
            c.arg.mask = value;        /* Docker's "value" is the mask ... */
            c.arg.value = c.value_two; /* ... and "valueTwo" the datum */
        } else {
            c.arg.value = value;
        }
        conds[(*n)++] = c;
    }
    return ok;
}

/* Semantic checks of the conditions of an entry that applies. */
static bool check_conditions(struct importer *im, const char *path, const struct condition *c,
                             unsigned n, bool *split) {
    bool ok = true;

    *split = false;
    for (unsigned k = 0; k < n; k++) {
        char ap[PATH_LEN], p[PATH_LEN];
        join_index(ap, sizeof(ap), path, k);
        if (c[k].arg.op == LS_SECCOMP_MASKED_EQ) {
            if (c[k].arg.value & ~c[k].arg.mask) {
                diag_error(
                    im, join(p, sizeof(p), ap, "valueTwo"),
                    "datum 0x%llx has bits outside the mask 0x%llx (\"value\"), it can never "
                    "match",
                    (unsigned long long)c[k].arg.value, (unsigned long long)c[k].arg.mask);
                ok = false;
            }
        } else if (c[k].value_two) {
            diag_warning(im, join(p, sizeof(p), ap, "valueTwo"),
                         "ignored with %s (only %s uses it)", c[k].op_name, "SCMP_CMP_MASKED_EQ");
        }
        for (unsigned j = 0; j < k; j++)
            if (c[j].arg.index == c[k].arg.index)
                *split = true;
    }
    if (ok && *split)
        diag_warning(im, path,
                     "several conditions on one argument: like runc, each condition becomes a rule "
                     "of its own, so they are OR-ed, not AND-ed");
    return ok;
}

static int add_rule(struct importer *im, const char *name, enum ls_seccomp_action action,
                    int errno_ret, const struct condition *conds, unsigned n) {
    struct ls_seccomp_rule *r;

    if (im->n_rules == im->cap_rules) {
        size_t cap = im->cap_rules ? im->cap_rules * 2 : 64;
        struct ls_seccomp_rule *v = realloc(im->rules, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        im->rules = v;
        im->cap_rules = cap;
    }
    r = &im->rules[im->n_rules];
    *r = (struct ls_seccomp_rule){.action = action, .errno_ret = errno_ret, .n_args = n};
    for (unsigned k = 0; k < n; k++)
        r->args[k] = conds[k].arg;
    r->syscall = strdup(name);
    if (!r->syscall)
        return -ENOMEM;
    im->n_rules++;
    return 0;
}

/* Emit the rules of one entry that applies: one per name, or, when runc would split the
 * conditions, one per name and condition.  path names the "names" array, or the single
 * "name" when indexed is false. */
static int emit_entry(struct importer *im, const char *path, bool indexed, const json_t *names,
                      enum ls_seccomp_action action, int errno_ret, const struct condition *conds,
                      unsigned n, bool split) {
    size_t i;
    json_t *e;

    json_array_foreach((json_t *)names, i, e) {
        const char *name = json_string_value(e);
        char p[PATH_LEN];
        int r;

        if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, name) == __NR_SCMP_ERROR) {
            if (indexed)
                join_index(p, sizeof(p), path, i);
            else
                path_done(p, sizeof(p), snprintf(p, sizeof(p), "%s", path));
            if (im->allow_unknown) {
                diag_warning(im, p,
                             "unknown syscall \"%s\" (libseccomp %u.%u.%u does not know it), "
                             "dropped",
                             name, seccomp_version()->major, seccomp_version()->minor,
                             seccomp_version()->micro);
                continue;
            }
            diag_error(im, p, "unknown syscall \"%s\" (libseccomp %u.%u.%u does not know it)", name,
                       seccomp_version()->major, seccomp_version()->minor,
                       seccomp_version()->micro);
            continue;
        }
        if (split && n > 0) {
            for (unsigned k = 0; k < n; k++) {
                r = add_rule(im, name, action, errno_ret, &conds[k], 1);
                if (r < 0)
                    return r;
            }
        } else {
            r = add_rule(im, name, action, errno_ret, conds, n);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

static int parse_entry(struct importer *im, const json_t *j, size_t idx) {
    static const char *const keys[] = {"names",   "name",     "action",   "errnoRet", "args",
                                       "comment", "includes", "excludes", NULL};
    char path[PATH_LEN], p[PATH_LEN];
    struct condition conds[MAX_CONDITIONS];
    unsigned n_conds = 0;
    struct filter inc, exc;
    const json_t *names, *name, *action, *errno_j, *comment;
    _cleanup_json_ json_t *single = NULL;
    enum profile_action act;
    enum ls_seccomp_action action_out;
    const char *names_path;
    size_t errors_before = im->diags->n_errors;
    int errno_ret = 0;
    bool split;

    join_index(path, sizeof(path), "syscalls", idx);
    if (!json_is_object(j)) {
        diag_error(im, path, "expected an object, got %s", type_name(j));
        return 0;
    }
    check_keys(im, j, path, keys);

    names = json_object_get(j, "names");
    name = json_object_get(j, "name");
    if (names && name) {
        diag_error(im, path, "both \"name\" and \"names\"; use \"names\"");
    } else if (name) {
        names_path = join(p, sizeof(p), path, "name");
        if (!json_is_string(name) || !json_string_length(name)) {
            diag_error(im, names_path, "expected a syscall name, got %s",
                       json_is_string(name) ? "\"\"" : type_name(name));
        } else {
            single = json_pack("[O]", name);
            if (!single)
                return -ENOMEM;
            names = single;
        }
    } else if (!names) {
        diag_error(im, path, "no \"names\"");
    } else {
        names_path = join(p, sizeof(p), path, "names");
        if (!json_is_array(names) || json_array_size(names) == 0) {
            diag_error(im, names_path, "expected a non-empty array of syscall names, got %s",
                       json_is_array(names) ? "[]" : type_name(names));
        } else {
            size_t i;
            json_t *e;
            json_array_foreach((json_t *)names, i, e) {
                char ep[PATH_LEN];
                if (!json_is_string(e) || !json_string_length(e))
                    diag_error(im, join_index(ep, sizeof(ep), names_path, i),
                               "expected a syscall name, got %s",
                               json_is_string(e) ? "\"\"" : type_name(e));
            }
        }
    }

    action = json_object_get(j, "action");
    if (!action)
        diag_error(im, path, "no \"action\"");
    else if (!json_is_string(action))
        diag_error(im, join(p, sizeof(p), path, "action"), "expected a string, got %s",
                   type_name(action));

    errno_j = json_object_get(j, "errnoRet");
    if (errno_j && !json_is_null(errno_j) &&
        !get_errno(im, errno_j, join(p, sizeof(p), path, "errnoRet"), &errno_ret))
        errno_ret = 0;

    comment = json_object_get(j, "comment");
    if (comment && !json_is_string(comment))
        diag_error(im, join(p, sizeof(p), path, "comment"), "expected a string, got %s",
                   type_name(comment));

    parse_args(im, json_object_get(j, "args"), join(p, sizeof(p), path, "args"), conds, &n_conds);
    parse_filter(im, json_object_get(j, "includes"), join(p, sizeof(p), path, "includes"), &inc);
    parse_filter(im, json_object_get(j, "excludes"), join(p, sizeof(p), path, "excludes"), &exc);

    if (im->diags->n_errors != errors_before)
        return 0; /* reported; nothing to emit */
    if (!entry_applies(im, &inc, &exc))
        return 0;

    /* The entry applies: its action and arguments must be ones we can enforce. */
    join(p, sizeof(p), path, "action");
    act = parse_action(json_string_value(action));
    switch (act) {
    case ACT_ALLOW:
        action_out = LS_SECCOMP_ALLOW;
        break;
    case ACT_ERRNO:
        action_out = LS_SECCOMP_ERRNO;
        if (!errno_ret)
            errno_ret = EPERM; /* OCI: errnoRet defaults to EPERM (not defaultErrnoRet) */
        break;
    case ACT_KILL:
        action_out = LS_SECCOMP_KILL;
        break;
    case ACT_UNSUPPORTED:
        diag_error(im, p, "%s is not supported (labstack runs no tracer, agent or SIGSYS handler)",
                   json_string_value(action));
        return 0;
    case ACT_UNKNOWN:
    default:
        diag_error(im, p, "unknown action \"%s\"", json_string_value(action));
        return 0;
    }
    if (errno_j && !json_is_null(errno_j) && act != ACT_ERRNO) {
        diag_error(im, join(p, sizeof(p), path, "errnoRet"), "only SCMP_ACT_ERRNO takes an errno");
        return 0;
    }
    if (!check_conditions(im, join(p, sizeof(p), path, "args"), conds, n_conds, &split))
        return 0;
    return emit_entry(im, join(p, sizeof(p), path, single ? "name" : "names"), !single, names,
                      action_out, action_out == LS_SECCOMP_ERRNO ? errno_ret : 0, conds, n_conds,
                      split);
}

/* ---- the whole profile ----------------------------------------------------------------- */

static void check_arch_map(struct importer *im, const json_t *j) {
    static const char *const keys[] = {"architecture", "subArchitectures", NULL};
    size_t i;
    json_t *e;

    if (json_is_null(j))
        return;
    if (!json_is_array(j)) {
        diag_error(im, "archMap", "expected an array, got %s", type_name(j));
        return;
    }
    json_array_foreach((json_t *)j, i, e) {
        char ep[PATH_LEN], p[PATH_LEN];
        json_t *a;

        join_index(ep, sizeof(ep), "archMap", i);
        if (!json_is_object(e)) {
            diag_error(im, ep, "expected an object, got %s", type_name(e));
            continue;
        }
        check_keys(im, e, ep, keys);
        a = json_object_get(e, "architecture");
        join(p, sizeof(p), ep, "architecture");
        if (!a)
            diag_error(im, p, "missing");
        else if (!json_is_string(a) || !scmp_arch_name(json_string_value(a)))
            diag_error(im, p, "expected an architecture like \"SCMP_ARCH_X86_64\"");
        /* SCMP_ARCH_X86_64's subArchitectures (x86, x32) are ignored on purpose: the
         * compiler builds native filters only and kills every other ABI. */
        a = json_object_get(e, "subArchitectures");
        if (a)
            check_string_array(im, a, join(p, sizeof(p), ep, "subArchitectures"), scmp_arch_name,
                               "expected an architecture like SCMP_ARCH_X86");
    }
}

static void check_top(struct importer *im, const json_t *root, int *default_errno) {
    static const char *const keys[] = {"defaultAction", "defaultErrnoRet",  "architectures",
                                       "archMap",       "syscalls",         "flags",
                                       "listenerPath",  "listenerMetadata", NULL};
    const json_t *v, *arch_map, *archs;

    check_keys(im, root, "", keys);

    *default_errno = EPERM;
    v = json_object_get(root, "defaultAction");
    if (!v) {
        diag_error(im, "defaultAction", "missing (labstack needs \"SCMP_ACT_ERRNO\")");
    } else if (!json_is_string(v)) {
        diag_error(im, "defaultAction", "expected a string, got %s", type_name(v));
    } else if (parse_action(json_string_value(v)) == ACT_UNKNOWN) {
        diag_error(im, "defaultAction", "unknown action \"%s\"", json_string_value(v));
    } else if (parse_action(json_string_value(v)) != ACT_ERRNO) {
        diag_error(im, "defaultAction",
                   "%s is not supported: labstack's allow-list filter needs an errno default "
                   "(SCMP_ACT_ERRNO)",
                   json_string_value(v));
    }
    v = json_object_get(root, "defaultErrnoRet");
    if (v && !json_is_null(v))
        get_errno(im, v, "defaultErrnoRet", default_errno);

    arch_map = json_object_get(root, "archMap");
    archs = json_object_get(root, "architectures");
    if (arch_map)
        check_arch_map(im, arch_map);
    if (archs)
        check_string_array(im, archs, "architectures", scmp_arch_name,
                           "expected an architecture like SCMP_ARCH_X86_64");
    if (json_array_size(arch_map) && json_array_size(archs))
        diag_error(im, "", "both \"architectures\" and \"archMap\"; use one");

    v = json_object_get(root, "flags");
    if (v &&
        check_string_array(im, v, "flags", known_flag,
                           "expected a seccomp filter flag (SECCOMP_FILTER_FLAG_TSYNC, _LOG, "
                           "_SPEC_ALLOW or _WAIT_KILLABLE_RECV)") &&
        json_array_size(v))
        diag_warning(im, "flags", "ignored: labstack installs its filters without flags");
    for (const char *const *k = (const char *const[]){"listenerPath", "listenerMetadata", NULL}; *k;
         k++) {
        v = json_object_get(root, *k);
        if (!v)
            continue;
        if (!json_is_string(v))
            diag_error(im, *k, "expected a string, got %s", type_name(v));
        else if (json_string_length(v))
            diag_warning(im, *k, "ignored: SCMP_ACT_NOTIFY is not supported");
    }
}


/*
 * Read the Docker/OCI profile at path and resolve it for x86_64, no capabilities and
 * kernel_version (NULL: the running kernel).  On success returns 0 with *ret_rules
 * (free with ls_seccomp_rules_free), *ret_n and *ret_default_errno set; warnings may
 * have been added to diags.  On a problem with the profile returns -EINVAL with every
 * problem in diags (nothing returned); -errno when the file cannot be read (also a
 * diag), -ENOMEM.
 */
int ls_docker_profile_load(const char *path, const char *kernel_version,
                           bool allow_unknown_syscalls, struct ls_seccomp_rule **ret_rules,
                           size_t *ret_n, int *ret_default_errno, struct ls_diags *diags) {
    _cleanup_(importer_done) struct importer im = {
        .file = path,
        .diags = diags,
        .allow_unknown = allow_unknown_syscalls,
    };
    _cleanup_free_ char *buf = NULL;
    _cleanup_json_ json_t *root = NULL;
    json_error_t jerr;
    struct utsname uts;
    size_t len = 0, errors_before;
    const json_t *syscalls;
    int default_errno, r;

    if (!path || !ret_rules || !ret_n || !ret_default_errno || !diags)
        return -EINVAL;
    errors_before = diags->n_errors;

    if (!kernel_version) {
        if (uname(&uts) < 0)
            return -errno;
        kernel_version = uts.release;
    }
    if (!parse_release(kernel_version, &im.kernel)) {
        diag_error(&im, "", "kernel version \"%s\": expected \"<major>.<minor>[...]\"",
                   kernel_version);
        return -EINVAL;
    }

    r = ls_read_file(path, PROFILE_MAX_BYTES, &buf, &len);
    if (r < 0) {
        diag_error(&im, "", "cannot read the seccomp profile: %s", strerror(-r));
        return r;
    }
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        ls_diags_add(diags, false, path, jerr.line > 0 ? jerr.line : 0,
                     jerr.column > 0 ? jerr.column : 0, "", "invalid JSON: %s", jerr.text);
        return -EINVAL;
    }
    /* Positions are a convenience: without them diagnostics say 0:0. */
    if (jsonpos_scan(buf, len, &im.pos) < 0)
        im.pos = NULL;
    if (!json_is_object(root)) {
        diag_error(&im, "", "expected a JSON object (a Docker/OCI seccomp profile), got %s",
                   type_name(root));
        return -EINVAL;
    }

    check_top(&im, root, &default_errno);

    syscalls = json_object_get(root, "syscalls");
    if (syscalls && !json_is_null(syscalls)) {
        if (!json_is_array(syscalls)) {
            diag_error(&im, "syscalls", "expected an array, got %s", type_name(syscalls));
        } else {
            size_t i;
            json_t *e;
            json_array_foreach((json_t *)syscalls, i, e) {
                r = parse_entry(&im, e, i);
                if (r < 0)
                    return r;
            }
        }
    }

    if (diags->n_errors != errors_before)
        return -EINVAL;
    *ret_rules = TAKE_PTR(im.rules);
    *ret_n = im.n_rules;
    im.n_rules = im.cap_rules = 0;
    *ret_default_errno = default_errno;
    return 0;
}

/* Free rules[0..n) (their syscall names) and the array; accepts NULL. */
void ls_seccomp_rules_free(struct ls_seccomp_rule *rules, size_t n) {
    if (!rules)
        return;
    for (size_t i = 0; i < n; i++)
        free((char *)rules[i].syscall);
    free(rules);
}
