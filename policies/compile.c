/*
 * compile.c - from an effective policy to what the sandbox library takes: the seccomp
 * program (compiled once per distinct policy content) and the limits, binds, uid and
 * environment of one sandbox, with the request checked against the policy's maxima.
 *
 * The rule for requests: they may tighten, never loosen.  Every limit a request asks
 * for must be <= the policy's max; a variable must be on the policy's allow-list; a
 * policy without a workspace takes none.  What the request leaves out gets the
 * policy's default.  Fixed variables of the policy always win.
 */
#include "labstack/policy.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labstack/error.h"
#include "labstack/macros.h"
#include "labstack/sandbox.h"

/* ---- the program cache ---- */

struct cache_entry {
    unsigned char hash[32];
    struct ls_seccomp_program *prog;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cache_entry *cache;
static size_t cache_n, cache_cap;

int ls_policy_program(const struct ls_policy *p, const struct ls_seccomp_program **ret,
                      struct ls_error *err) {
    struct ls_seccomp_spec spec;
    struct ls_seccomp_program *prog = NULL;
    int r = 0;

    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < cache_n; i++)
        if (memcmp(cache[i].hash, p->hash, sizeof(p->hash)) == 0) {
            *ret = cache[i].prog;
            goto out;
        }
    /* Compiling under the lock keeps two threads from compiling the same policy;
     * it happens once per distinct policy per process. */
    ls_policy_seccomp_spec(p, &spec);
    r = ls_seccomp_build(&spec, &prog, err); /* the effective rules include the floor */
    if (r < 0) {
        ls_error_prefix(err, p->name ? p->name : "policy");
        goto out;
    }
    if (cache_n == cache_cap) {
        size_t ncap = cache_cap ? cache_cap * 2 : 8;
        struct cache_entry *nc = reallocarray(cache, ncap, sizeof(*nc));
        if (!nc) {
            ls_seccomp_program_free(prog);
            r = ls_error_set(err, ENOMEM, "policy", "cache the compiled policy");
            goto out;
        }
        cache = nc;
        cache_cap = ncap;
    }
    memcpy(cache[cache_n].hash, p->hash, sizeof(p->hash));
    cache[cache_n++].prog = prog;
    *ret = prog;
out:
    pthread_mutex_unlock(&cache_lock);
    return r;
}

void ls_policy_cache_clear(void) {
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < cache_n; i++)
        ls_seccomp_program_free(cache[i].prog);
    free(cache);
    cache = NULL;
    cache_n = cache_cap = 0;
    pthread_mutex_unlock(&cache_lock);
}

/* ---- applying a policy to one sandbox ---- */

/* The value for one limit: the request's (if any, and not above the max) or the
 * default.  Returns 0 or -EPERM with err. */
static int pick(const char *what, const struct ls_limit *l, uint64_t asked, uint64_t *ret,
                struct ls_error *err) {
    if (!l->set) {
        if (asked)
            *ret = asked; /* the policy does not bound it: the request decides */
        return 0;
    }
    if (asked > l->max)
        return ls_error_set(err, EPERM, "policy",
                            "%s: %llu asked for, the policy allows at most %llu", what,
                            (unsigned long long)asked, (unsigned long long)l->max);
    *ret = asked ? asked : l->def;
    return 0;
}

static bool env_name_allowed(const struct ls_policy *p, const char *kv) {
    size_t klen = strcspn(kv, "=");
    for (size_t i = 0; i < p->n_env_allow; i++)
        if (strlen(p->env_allow[i]) == klen && strncmp(p->env_allow[i], kv, klen) == 0)
            return true;
    return false;
}

/* Append or replace NAME=value in env (n entries, NULL-terminated, room for one more). */
static void env_put(char **env, size_t *n, char *kv) {
    size_t klen = strcspn(kv, "=") + 1;
    for (size_t i = 0; i < *n; i++)
        if (strncmp(env[i], kv, klen) == 0) {
            env[i] = kv;
            return;
        }
    env[(*n)++] = kv;
    env[*n] = NULL;
}

int ls_policy_apply(const struct ls_policy *p, const struct ls_policy_request *req,
                    struct ls_sandbox_spec *spec, void **ret_binds, char ***ret_env,
                    struct ls_error *err) {
    static const struct ls_policy_request none = {0};
    const struct ls_policy_limits *l = &p->limits;
    const struct ls_seccomp_program *prog;
    _cleanup_free_ struct ls_bind *binds = NULL;
    _cleanup_free_ char **env = NULL;
    uint64_t v;
    size_t n_env = 0;
    int r;

    if (!req)
        req = &none;
    if (req->has_workspace && !p->workspace)
        return ls_error_set(err, EPERM, "policy", "policy %s takes no workspace", p->name);

    /* Limits: a zero "v" keeps the sandbox default when the policy is silent. */
#define PICK(field, what, dest)                                    \
    do {                                                          \
        v = 0;                                                    \
        r = pick(what, &l->field, req->field, &v, err);           \
        if (r < 0)                                                \
            return r;                                             \
        if (v)                                                    \
            dest;                                                 \
    } while (0)
    PICK(memory, "memory", spec->memory_max = v);
    PICK(cpus, "cpus (thousandths)", spec->cpu_millis = (uint32_t)v);
    PICK(pids, "pids", spec->pids_max = v);
    PICK(wall_time, "wall time (ms)", spec->timeout_ms = v);
    PICK(cpu_time, "cpu time (ms)", spec->cpu_time_ms = v);
    PICK(output, "output bytes", spec->stdout_limit = spec->stderr_limit = v);
    PICK(tmp_size, "tmp size", spec->tmp_size = v);
    PICK(file_size, "file size", spec->rlimits.fsize = v);
    PICK(open_files, "open files", spec->rlimits.nofile = v);
#undef PICK

    /* Binds: the policy's list replaces the defaults. */
    if (p->ro_binds_set) {
        binds = calloc(p->n_ro_binds ? p->n_ro_binds : 1, sizeof(*binds));
        if (!binds)
            return ls_error_set(err, ENOMEM, "policy", "binds");
        for (size_t i = 0; i < p->n_ro_binds; i++)
            binds[i] = (struct ls_bind){.src = p->ro_binds[i].src, .dst = p->ro_binds[i].dst,
                                        .optional = p->ro_binds[i].optional};
        spec->binds = binds;
        spec->n_binds = p->n_ro_binds;
    }

    /* Environment: base, then the request's allowed names, then the fixed values.  One
     * allocation holds the pointer array and, after it, the policy's fixed "NAME=value"
     * strings (the policy keeps name and value apart), so the caller frees one block. */
    size_t slots = 3 + req->n_env + p->n_env_set + 1, strings = 0;
    for (size_t i = 0; i < p->n_env_set; i++)
        strings += strlen(p->env_set[i].name) + 1 + strlen(p->env_set[i].value) + 1;
    env = calloc(1, slots * sizeof(char *) + strings);
    if (!env)
        return ls_error_set(err, ENOMEM, "policy", "environment");
    char *store = (char *)(env + slots);
    static char base_path[] = "PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";
    static char base_home[] = "HOME=/tmp", base_lang[] = "LANG=C.UTF-8";
    env_put(env, &n_env, base_path);
    env_put(env, &n_env, base_home);
    env_put(env, &n_env, base_lang);
    for (size_t i = 0; i < req->n_env; i++) {
        const char *kv = req->env[i];
        if (!strchr(kv, '=') || kv[0] == '=')
            return ls_error_set(err, EINVAL, "policy", "environment entry \"%.64s\" is not NAME=value", kv);
        if (!env_name_allowed(p, kv))
            return ls_error_set(err, EPERM, "policy",
                                "environment variable %.*s is not allowed by policy %s",
                                (int)strcspn(kv, "="), kv, p->name);
        env_put(env, &n_env, (char *)kv);
    }
    for (size_t i = 0; i < p->n_env_set; i++) {
        int len = sprintf(store, "%s=%s", p->env_set[i].name, p->env_set[i].value);
        env_put(env, &n_env, store);
        store += len + 1;
    }

    r = ls_policy_program(p, &prog, err);
    if (r < 0)
        return r;
    spec->seccomp = prog;
    spec->uid = p->uid;
    spec->gid = p->uid;
    spec->envp = (const char *const *)env;
    *ret_binds = TAKE_PTR(binds);
    *ret_env = TAKE_PTR(env);
    return 0;
}
