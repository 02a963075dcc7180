/*
 * runspec.c - the supervisor -> runner spec document (see runspec.h).
 */
#include "runspec.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labstack/error.h"
#include "labstack/macros.h"

#define RUNSPEC_MAX_ARGS 4096
#define RUNSPEC_MAX_ENV 4096
#define RUNSPEC_MAX_BINDS 256

static json_t *str_array(const char *const *v) {
    json_t *a = json_array();
    for (size_t i = 0; a && v && v[i]; i++)
        if (json_array_append_new(a, json_string(v[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

char *runspec_to_json(const char *id, const struct ls_sandbox_spec *s, bool stdin_stream) {
    json_t *binds = json_null();
    char *out = NULL;

    if (s->binds) {
        binds = json_array();
        for (size_t i = 0; binds && i < s->n_binds; i++) {
            const struct ls_bind *b = &s->binds[i];
            json_array_append_new(binds, json_pack("{s:s, s:s?, s:b, s:b}", "src", b->src, "dst",
                                                   b->dst, "writable", b->writable, "optional",
                                                   b->optional));
        }
    }
    json_t *doc = json_pack(
        "{s:s, s:o, s:o*, s:s?, s:o, s:I, s:I, s:s?, s:s?, s:b,"
        " s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I},"
        " s:{s:I, s:I, s:I, s:I, s:I}}",
        "id", id, "argv", str_array(s->argv), "env", s->envp ? str_array(s->envp) : NULL,
        "workspace", s->workspace, "binds", binds, "uid", (json_int_t)s->uid, "gid",
        (json_int_t)s->gid,
        "hostname", s->hostname, "cwd", s->cwd, "stdin", stdin_stream,
        "limits",
        "memory_max", (json_int_t)s->memory_max, "cpu_millis", (json_int_t)s->cpu_millis,
        "pids_max", (json_int_t)s->pids_max, "cpu_time_ms", (json_int_t)s->cpu_time_ms,
        "shm_max", (json_int_t)s->shm_max, "tmp_size", (json_int_t)s->tmp_size,
        "tmp_inodes", (json_int_t)s->tmp_inodes, "work_size", (json_int_t)s->work_size,
        "timeout_ms", (json_int_t)s->timeout_ms, "stdout_limit", (json_int_t)s->stdout_limit,
        "stderr_limit", (json_int_t)s->stderr_limit,
        "rlimits",
        "nofile", (json_int_t)s->rlimits.nofile, "fsize", (json_int_t)s->rlimits.fsize,
        "nproc", (json_int_t)s->rlimits.nproc, "cpu_s", (json_int_t)s->rlimits.cpu_s,
        "stack", (json_int_t)s->rlimits.stack);
    if (doc)
        out = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return out;
}

struct runspec *runspec_free(struct runspec *rs) {
    if (!rs)
        return NULL;
    for (size_t i = 0; rs->argv && rs->argv[i]; i++)
        free(rs->argv[i]);
    for (size_t i = 0; rs->env && rs->env[i]; i++)
        free(rs->env[i]);
    for (size_t i = 0; i < rs->n_binds; i++) {
        free((char *)rs->binds[i].src);
        free((char *)rs->binds[i].dst);
    }
    free(rs->argv);
    free(rs->env);
    free(rs->binds);
    free(rs->workspace);
    free(rs->cwd);
    free(rs->hostname);
    free(rs->id);
    free(rs);
    return NULL;
}

static int take_strings(json_t *a, const char *key, size_t max, bool nonempty, char ***ret,
                        struct ls_error *err) {
    size_t i, n;
    json_t *v;

    if (!json_is_array(a) || json_array_size(a) > max || (nonempty && json_array_size(a) == 0))
        return ls_error_set(err, EINVAL, "runspec", "%s: expected an array of 1-%zu strings", key, max);
    n = json_array_size(a);
    char **out = calloc(n + 1, sizeof(*out));
    if (!out)
        return -ENOMEM;
    *ret = out;   /* freed by runspec_free even when a later entry fails */
    json_array_foreach(a, i, v) {
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
            return ls_error_set(err, EINVAL, "runspec", "%s[%zu]: expected a string without NUL", key, i);
        if (!(out[i] = strdup(json_string_value(v))))
            return -ENOMEM;
    }
    return 0;
}

static int take_u64(json_t *obj, const char *where, const char *key, uint64_t *ret,
                    struct ls_error *err) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return ls_error_set(err, EINVAL, "runspec", "%s.%s: expected a non-negative integer", where, key);
    *ret = (uint64_t)json_integer_value(v);
    return 0;
}

static int take_opt_str(json_t *obj, const char *key, char **ret, struct ls_error *err) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return ls_error_set(err, EINVAL, "runspec", "%s: expected a string", key);
    return (*ret = strdup(json_string_value(v))) ? 0 : -ENOMEM;
}

int runspec_from_json(const void *json, size_t len, struct runspec **ret, struct ls_error *err) {
    json_error_t jerr;
    json_t *doc, *v, *limits, *rl;
    struct runspec *rs;
    uint64_t cpu_millis = 0, id;
    int r;

    doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return ls_error_set(err, EINVAL, "runspec", "not JSON: %s", jerr.text);
    rs = calloc(1, sizeof(*rs));
    if (!rs) {
        json_decref(doc);
        return -ENOMEM;
    }
    ls_sandbox_spec_init(&rs->spec);

    if ((r = take_opt_str(doc, "id", &rs->id, err)) < 0)
        goto out;
    if (!rs->id) {
        r = ls_error_set(err, EINVAL, "runspec", "id: missing");
        goto out;
    }
    if ((r = take_strings(json_object_get(doc, "argv"), "argv", RUNSPEC_MAX_ARGS, true, &rs->argv,
                          err)) < 0)
        goto out;
    v = json_object_get(doc, "env");
    if (v && !json_is_null(v) &&
        (r = take_strings(v, "env", RUNSPEC_MAX_ENV, false, &rs->env, err)) < 0)
        goto out;
    if ((r = take_opt_str(doc, "workspace", &rs->workspace, err)) < 0 ||
        (r = take_opt_str(doc, "cwd", &rs->cwd, err)) < 0 ||
        (r = take_opt_str(doc, "hostname", &rs->hostname, err)) < 0)
        goto out;
    v = json_object_get(doc, "binds");
    if (v && !json_is_null(v)) {
        size_t i;
        json_t *b;
        if (!json_is_array(v) || json_array_size(v) > RUNSPEC_MAX_BINDS) {
            r = ls_error_set(err, EINVAL, "runspec", "binds: expected an array");
            goto out;
        }
        rs->binds = calloc(json_array_size(v) + 1, sizeof(*rs->binds));
        if (!rs->binds) {
            r = -ENOMEM;
            goto out;
        }
        json_array_foreach(v, i, b) {
            struct ls_bind *d = &rs->binds[i];
            char *src = NULL, *dst = NULL;
            json_t *src_j = json_object_get(b, "src");
            if (!json_is_string(src_j) || json_string_value(src_j)[0] != '/') {
                r = ls_error_set(err, EINVAL, "runspec", "binds[%zu].src: expected an absolute path", i);
                goto out;
            }
            if ((r = take_opt_str(b, "src", &src, err)) < 0 ||
                (r = take_opt_str(b, "dst", &dst, err)) < 0) {
                free(src);
                char where[32];
                snprintf(where, sizeof(where), "binds[%zu]", i);
                ls_error_prefix(err, where);
                goto out;
            }
            d->src = src;
            d->dst = dst;
            d->writable = json_is_true(json_object_get(b, "writable"));
            d->optional = json_is_true(json_object_get(b, "optional"));
            rs->n_binds++;
        }
    }
    v = json_object_get(doc, "stdin");
    rs->stdin_stream = json_is_true(v);
    /* An id that does not fit (or is (uid_t)-1) must not wrap to another one, e.g. 2^32 to 0. */
    json_t *uid_j = json_object_get(doc, "uid"), *gid_j = json_object_get(doc, "gid");
    if (!json_is_integer(uid_j) || !json_is_integer(gid_j) || json_integer_value(uid_j) < 0 ||
        json_integer_value(gid_j) < 0 || json_integer_value(uid_j) >= (json_int_t)UINT32_MAX ||
        json_integer_value(gid_j) >= (json_int_t)UINT32_MAX) {
        r = ls_error_set(err, EINVAL, "runspec", "uid/gid: expected integers in [0, 4294967294]");
        goto out;
    }
    id = (uint64_t)json_integer_value(uid_j);
    rs->spec.uid = (uid_t)id;
    id = (uint64_t)json_integer_value(gid_j);
    rs->spec.gid = (gid_t)id;

    limits = json_object_get(doc, "limits");
    rl = json_object_get(doc, "rlimits");
    if (!json_is_object(limits) || !json_is_object(rl)) {
        r = ls_error_set(err, EINVAL, "runspec", "limits/rlimits: expected objects");
        goto out;
    }
    struct ls_sandbox_spec *s = &rs->spec;
    if ((r = take_u64(limits, "limits", "memory_max", &s->memory_max, err)) < 0 ||
        (r = take_u64(limits, "limits", "cpu_millis", &cpu_millis, err)) < 0 ||
        (r = take_u64(limits, "limits", "pids_max", &s->pids_max, err)) < 0 ||
        (r = take_u64(limits, "limits", "cpu_time_ms", &s->cpu_time_ms, err)) < 0 ||
        (r = take_u64(limits, "limits", "shm_max", &s->shm_max, err)) < 0 ||
        (r = take_u64(limits, "limits", "tmp_size", &s->tmp_size, err)) < 0 ||
        (r = take_u64(limits, "limits", "tmp_inodes", &s->tmp_inodes, err)) < 0 ||
        (r = take_u64(limits, "limits", "work_size", &s->work_size, err)) < 0 ||
        (r = take_u64(limits, "limits", "timeout_ms", &s->timeout_ms, err)) < 0 ||
        (r = take_u64(limits, "limits", "stdout_limit", &s->stdout_limit, err)) < 0 ||
        (r = take_u64(limits, "limits", "stderr_limit", &s->stderr_limit, err)) < 0 ||
        (r = take_u64(rl, "rlimits", "nofile", &s->rlimits.nofile, err)) < 0 ||
        (r = take_u64(rl, "rlimits", "fsize", &s->rlimits.fsize, err)) < 0 ||
        (r = take_u64(rl, "rlimits", "nproc", &s->rlimits.nproc, err)) < 0 ||
        (r = take_u64(rl, "rlimits", "cpu_s", &s->rlimits.cpu_s, err)) < 0 ||
        (r = take_u64(rl, "rlimits", "stack", &s->rlimits.stack, err)) < 0)
        goto out;
    if (cpu_millis > UINT32_MAX) {
        r = ls_error_set(err, EINVAL, "runspec", "limits.cpu_millis: out of range");
        goto out;
    }
    s->cpu_millis = (uint32_t)cpu_millis;
    s->argv = (const char *const *)rs->argv;
    s->envp = (const char *const *)rs->env;
    s->workspace = rs->workspace;
    s->binds = rs->binds;
    s->n_binds = rs->n_binds;
    if (rs->hostname)
        s->hostname = rs->hostname;
    if (rs->cwd)
        s->cwd = rs->cwd;
    *ret = TAKE_PTR(rs);
    r = 0;
out:
    runspec_free(rs);
    json_decref(doc);
    return r;
}
