/*
 * result.c - the JSON form of struct ls_result, shared by the supervisor (writes it)
 * and clients (read it).  Field names are part of the protocol: see docs/sandbox.md.
 */
#include "labstack/result.h"

#include <errno.h>
#include <jansson.h>
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
    json_t *e = NULL;
    struct ls_result r = {0};
    int rc;

    if (!o)
        return ls_error_set(err, EINVAL, "result", "result JSON %d:%d: %s", jerr.line, jerr.column,
                            jerr.text);
    if (json_unpack_ex(o, &jerr, JSON_STRICT,
                       "{s:s, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:b, s:b, s:I, s:I, s:I, s:I, s:I, "
                       "s:i, s?o}",
                       "reason", &reason, "exit_code", &r.exit_code, "signal", &r.signal,
                       "wall_ms", &wall, "user_ms", &user, "sys_ms", &sys,
                       "stdout_bytes", &out, "stderr_bytes", &errb,
                       "stdout_truncated", &stdout_trunc, "stderr_truncated", &stderr_trunc,
                       "host_uid", &uid, "peak_memory_bytes", &peak, "cpu_user_ms", &cuser,
                       "cpu_sys_ms", &csys, "pids_peak", &pids, "cgroup_version",
                       &r.cgroup_version, "error", &e) < 0) {
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
