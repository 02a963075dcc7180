/*
 * result.c - the JSON form of struct ls_result, shared by the supervisor (writes it)
 * and clients (read it).  Field names are part of the protocol: see docs/sandbox.md.
 */
#include "labstack/result.h"

#include <errno.h>
#include <signal.h>
#include <jansson.h>
#include <stdbool.h>
#include <string.h>

static const char *const reason_names[] = {
    [LS_REASON_NONE] = "none",
    [LS_REASON_EXITED] = "exited",
    [LS_REASON_SIGNALED] = "signaled",
    [LS_REASON_TIMEOUT] = "timeout",
    [LS_REASON_OUTPUT_LIMIT] = "output_limit",
    [LS_REASON_SECCOMP] = "seccomp",
    [LS_REASON_SETUP_FAILED] = "setup_failed",
    [LS_REASON_CANCELLED] = "cancelled",
    [LS_REASON_OOM] = "oom",
    [LS_REASON_PIDS_LIMIT] = "pids_limit",
    [LS_REASON_CPU_LIMIT] = "cpu_limit",
};
_Static_assert(sizeof(reason_names) / sizeof(reason_names[0]) == LS_REASON__MAX,
               "every reason has a name");

int ls_result_exit_status(const struct ls_result *res) {
    switch (res->reason) {
    case LS_REASON_NONE:
        return 125;
    case LS_REASON_SETUP_FAILED:
        if (strcmp(res->error.step, "exec") == 0)
            return res->error.code == ENOENT ? 127 : 126;
        return 125;
    default:
        if (res->exit_code >= 0 && res->exit_code <= 255)
            return res->exit_code;
        if (res->signal > 0 && res->signal < 128)
            return 128 + res->signal;
        return 128 + SIGKILL;
    }
}

const char *ls_reason_name(enum ls_reason reason) {
    if ((size_t)reason >= sizeof(reason_names) / sizeof(reason_names[0]) || !reason_names[reason])
        return "unknown";
    return reason_names[reason];
}

static int reason_from_name(const char *name, enum ls_reason *ret) {
    for (size_t i = 0; i < sizeof(reason_names) / sizeof(reason_names[0]); i++)
        if (reason_names[i] && strcmp(reason_names[i], name) == 0) {
            *ret = (enum ls_reason)i;
            return 0;
        }
    return -EINVAL;
}

/* {"total": N, "by_syscall": {"mount": 3, ...}} in the order of by_syscall, or null
 * when the count is not available.  NULL on allocation failure. */
static json_t *denied_to_json(const struct ls_denied_syscalls *d) {
    json_t *o, *by;
    unsigned n = d->n < LS_DENIED_MAX ? d->n : LS_DENIED_MAX;

    if (!d->available)
        return json_null();
    by = json_object();
    if (!by)
        return NULL;
    for (unsigned i = 0; i < n; i++) {
        char name[LS_SYSCALL_NAME_MAX];
        ls_strlcpy(name, d->by_syscall[i].name, sizeof(name));
        if (json_object_set_new(by, name, json_integer((json_int_t)d->by_syscall[i].count)) < 0) {
            json_decref(by);
            return NULL;
        }
    }
    o = json_pack("{s:I, s:o}", "total", (json_int_t)d->total, "by_syscall", by);
    return o;
}

/* A syscall name as we write them: [a-z0-9_], 1 to LS_SYSCALL_NAME_MAX-1 bytes. */
static bool valid_syscall_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n >= LS_SYSCALL_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static int denied_from_json(json_t *v, struct ls_denied_syscalls *ret, struct ls_error *err) {
    json_error_t jerr;
    json_int_t total;
    json_t *by = NULL, *count;
    const char *name;
    uint64_t sum = 0;

    *ret = (struct ls_denied_syscalls){0};
    if (!v || json_is_null(v))
        return 0; /* not available */
    if (json_unpack_ex(v, &jerr, JSON_STRICT, "{s:I, s:o}", "total", &total, "by_syscall", &by) < 0)
        return ls_error_set(err, EINVAL, "result", "result JSON: denied_syscalls: %s", jerr.text);
    if (total < 0)
        return ls_error_set(err, EINVAL, "result",
                            "result JSON: denied_syscalls.total is negative");
    if (!json_is_object(by))
        return ls_error_set(err, EINVAL, "result",
                            "result JSON: denied_syscalls.by_syscall: expected an object");
    if (json_object_size(by) > LS_DENIED_MAX)
        return ls_error_set(err, EINVAL, "result",
                            "result JSON: denied_syscalls.by_syscall: %zu entries, at most %d",
                            json_object_size(by), LS_DENIED_MAX);
    json_object_foreach(by, name, count) {
        json_int_t c;
        if (!valid_syscall_name(name))
            return ls_error_set(err, EINVAL, "result",
                                "result JSON: denied_syscalls.by_syscall: invalid name \"%.40s\"",
                                name);
        if (!json_is_integer(count) || (c = json_integer_value(count)) < 0)
            return ls_error_set(err, EINVAL, "result",
                                "result JSON: denied_syscalls.by_syscall.%s: expected a count >= 0",
                                name);
        sum += (uint64_t)c;
        ls_strlcpy(ret->by_syscall[ret->n].name, name, LS_SYSCALL_NAME_MAX);
        ret->by_syscall[ret->n++].count = (uint64_t)c;
    }
    if (sum > (uint64_t)total)
        return ls_error_set(err, EINVAL, "result",
                            "result JSON: denied_syscalls: the listed counts exceed the total");
    ret->total = (uint64_t)total;
    ret->available = true;
    return 0;
}

char *ls_result_to_json(const struct ls_result *res) {
    json_t *o = json_pack("{s:s, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:b, s:b, s:I, s:I, s:I, s:I, s:I, "
                          "s:i}",
                          "reason", ls_reason_name(res->reason),
                          "exit_code", res->exit_code,
                          "signal", res->signal,
                          "wall_ms", (json_int_t)res->wall_ms,
                          "user_ms", (json_int_t)res->user_ms,
                          "sys_ms", (json_int_t)res->sys_ms,
                          "stdout_bytes", (json_int_t)res->stdout_bytes,
                          "stderr_bytes", (json_int_t)res->stderr_bytes,
                          "stdout_truncated", res->stdout_truncated,
                          "stderr_truncated", res->stderr_truncated,
                          "host_uid", (json_int_t)res->host_uid,
                          "peak_memory_bytes", (json_int_t)res->peak_memory_bytes,
                          "cpu_user_ms", (json_int_t)res->cpu_user_ms,
                          "cpu_sys_ms", (json_int_t)res->cpu_sys_ms,
                          "pids_peak", (json_int_t)res->pids_peak,
                          "cgroup_version", res->cgroup_version);
    if (!o)
        return NULL;
    if (json_object_set_new(o, "denied_syscalls", denied_to_json(&res->denied_syscalls)) < 0) {
        json_decref(o);
        return NULL;
    }
    if (res->reason == LS_REASON_SETUP_FAILED || res->error.code != 0) {
        json_t *e = json_pack("{s:s, s:s, s:i}", "step", res->error.step, "message", res->error.msg,
                              "errno", res->error.code);
        if (!e || json_object_set_new(o, "error", e) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

int ls_result_from_json(const char *json, struct ls_result *ret, struct ls_error *err) {
    json_error_t jerr;
    json_t *o = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    const char *reason = NULL;
    json_int_t wall, user, sys, out, errb, uid, peak, cuser, csys, pids;
    int stdout_trunc, stderr_trunc;
    json_t *e = NULL, *denied = NULL;
    struct ls_result r = {0};
    int rc;

    if (!o)
        return ls_error_set(err, EINVAL, "result", "result JSON %d:%d: %s", jerr.line, jerr.column,
                            jerr.text);
    if (json_unpack_ex(o, &jerr, JSON_STRICT,
                       "{s:s, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:b, s:b, s:I, s:I, s:I, s:I, s:I, "
                       "s:i, s?o, s?o}",
                       "reason", &reason, "exit_code", &r.exit_code, "signal", &r.signal,
                       "wall_ms", &wall, "user_ms", &user, "sys_ms", &sys,
                       "stdout_bytes", &out, "stderr_bytes", &errb,
                       "stdout_truncated", &stdout_trunc, "stderr_truncated", &stderr_trunc,
                       "host_uid", &uid, "peak_memory_bytes", &peak, "cpu_user_ms", &cuser,
                       "cpu_sys_ms", &csys, "pids_peak", &pids, "cgroup_version",
                       &r.cgroup_version, "denied_syscalls", &denied, "error", &e) < 0) {
        rc = ls_error_set(err, EINVAL, "result", "result JSON: %s", jerr.text);
        goto out;
    }
    if (reason_from_name(reason, &r.reason) < 0) {
        rc = ls_error_set(err, EINVAL, "result", "result JSON: reason: unknown value \"%s\"", reason);
        goto out;
    }
    if (wall < 0 || user < 0 || sys < 0 || out < 0 || errb < 0 || uid < 0 || peak < 0 ||
        cuser < 0 || csys < 0 || pids < 0) {
        rc = ls_error_set(err, EINVAL, "result", "result JSON: negative counter");
        goto out;
    }
    r.wall_ms = (uint64_t)wall;
    r.user_ms = (uint64_t)user;
    r.sys_ms = (uint64_t)sys;
    r.stdout_bytes = (uint64_t)out;
    r.stderr_bytes = (uint64_t)errb;
    r.stdout_truncated = stdout_trunc;
    r.stderr_truncated = stderr_trunc;
    r.host_uid = (uid_t)uid;
    r.peak_memory_bytes = (uint64_t)peak;
    r.cpu_user_ms = (uint64_t)cuser;
    r.cpu_sys_ms = (uint64_t)csys;
    r.pids_peak = (uint64_t)pids;
    rc = denied_from_json(denied, &r.denied_syscalls, err);
    if (rc < 0)
        goto out;
    if (e) {
        const char *step, *msg;
        if (json_unpack_ex(e, &jerr, JSON_STRICT, "{s:s, s:s, s:i}", "step", &step, "message", &msg,
                           "errno", &r.error.code) < 0) {
            rc = ls_error_set(err, EINVAL, "result", "result JSON: error: %s", jerr.text);
            goto out;
        }
        ls_strlcpy(r.error.step, step, sizeof(r.error.step));
        ls_strlcpy(r.error.msg, msg, sizeof(r.error.msg));
    }
    *ret = r;
    rc = 0;
out:
    json_decref(o);
    return rc;
}
