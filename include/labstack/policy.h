/*
 * policy.h - policies: who may run what, with which limits and which syscalls.
 *
 * A policy is one JSON file written by a security team (format: docs/policy-guide.md).
 * Loading it validates every field -- unknown keys are errors, so a typo can never
 * silently weaken a policy -- and reports *all* problems with file, line, column and
 * JSON path.  `extends` (inherit from another policy of the same directory) and a
 * seccomp `import` of a Docker/OCI profile are resolved at load time, giving the
 * *effective* policy that explain/diff/test/compile work on.
 *
 * This library is pure and unprivileged: it reads files and compiles BPF, nothing
 * else.  The sandbox library and the unprivileged CLI both link it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "labstack/seccomp.h"

struct ls_error;

/* ---- diagnostics ----------------------------------------------------------- */

/* One problem found while loading: "policies/qa.json:14:9: limits.memory.max:
 * expected a size like \"512M\", got \"lots\"". */
struct ls_diag {
    char *file;      /* as given to the loader */
    int line, col;   /* 1-based; 0 when unknown (e.g. a missing file) */
    char *path;      /* JSON path, e.g. "limits.memory.max" or "seccomp.rules[3].args[0].op"; "" for the whole file */
    char *msg;       /* what was expected and what was found */
    bool warning;    /* e.g. an unknown syscall name with allow_unknown */
};

struct ls_diags {
    struct ls_diag *v;
    size_t n;
    size_t n_errors;
};

/* Add a diagnostic (printf-style message).  Allocation failures are swallowed: the
 * caller still sees n_errors grow (a diagnostic may then lack its text). */
void ls_diags_add(struct ls_diags *d, bool warning, const char *file, int line, int col,
                  const char *path, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Format one diagnostic as "file:line:col: path: msg" (or "warning: ..."); caller frees. */
char *ls_diag_format(const struct ls_diag *dg);

void ls_diags_free(struct ls_diags *d);

/* ---- the policy -------------------------------------------------------------- */

/* A limit: the value a request gets by default and the most it may ask for. */
struct ls_limit {
    bool set;        /* present in the policy (or inherited) */
    uint64_t def;
    uint64_t max;    /* >= def */
};

struct ls_policy_limits {
    struct ls_limit memory;     /* bytes */
    struct ls_limit cpus;       /* thousandths of a CPU (1000 = one CPU) */
    struct ls_limit pids;       /* processes + threads */
    struct ls_limit wall_time;  /* milliseconds */
    struct ls_limit cpu_time;   /* milliseconds */
    struct ls_limit output;     /* bytes, per stream (stdout, stderr) */
    struct ls_limit tmp_size;   /* bytes */
    struct ls_limit file_size;  /* bytes */
    struct ls_limit open_files; /* count */
};

struct ls_policy_bind {
    char *src;
    char *dst;       /* NULL: same as src */
    bool optional;
};

struct ls_policy_env_var {
    char *name;
    char *value;
};

struct ls_policy {
    char *file;                    /* the file it was loaded from */
    char *name;                    /* must equal the file's basename without .json */
    uint64_t version;              /* >= 1, raised at every change */
    char *description;
    char *extends;                 /* parent policy name, or NULL */

    /* Who may use it.  any_client: every identity that can reach the supervisor. */
    bool any_client;
    uid_t *client_uids;
    size_t n_client_uids;
    gid_t *client_gids;
    size_t n_client_gids;
    char **client_roles;           /* agent roles: "dev", "qa", "review", "refactor", ... */
    size_t n_client_roles;

    struct ls_policy_limits limits;

    struct ls_policy_bind *ro_binds;  /* read-only system binds; NULL/0: the sandbox defaults */
    size_t n_ro_binds;
    bool ro_binds_set;
    bool workspace;                /* the workspace is bound at /work (default true) */

    char *network;                 /* "none" (the only mode today) */

    char **env_allow;              /* names a request may set */
    size_t n_env_allow;
    struct ls_policy_env_var *env_set; /* fixed values, always set */
    size_t n_env_set;

    uid_t uid;                     /* identity inside the sandbox (default 0) */

    struct {
        char *import;              /* Docker/OCI profile, relative to the policy's directory */
        int default_errno;         /* known syscalls not allowed (default EPERM) */
        int unknown_errno;         /* numbers libseccomp does not know (default ENOSYS) */
        struct ls_seccomp_rule *rules; /* effective: imported, inherited and own, in order */
        size_t n_rules;
        bool use_builtin;          /* "base": "builtin" -- start from the built-in default list */
    } seccomp;

    unsigned char hash[32];        /* SHA-256 of the canonical effective policy (ls_policy_to_json) */
};

struct ls_policy_load_opts {
    bool allow_unknown_syscalls;   /* unknown syscall names are warnings (dropped), not errors */
    const char *search_dir;        /* where `extends` parents live; default: the file's directory */
};

/*
 * Load, validate and resolve the policy at path: parse (every error collected in
 * diags with position and JSON path), follow `extends` (cycles and missing parents
 * are errors), apply a seccomp `import`, and compute the hash.  Returns 0 with *ret
 * set, or -EINVAL when diags has errors (nothing returned), or -errno for I/O.
 */
int ls_policy_load(const char *path, const struct ls_policy_load_opts *opts,
                   struct ls_policy **ret, struct ls_diags *diags);

/* Same from a buffer (for fuzzing and tests); `file` names it in diagnostics;
 * `extends` is resolved in opts->search_dir (an error when NULL). */
int ls_policy_load_buffer(const char *file, const char *data, size_t len,
                          const struct ls_policy_load_opts *opts, struct ls_policy **ret,
                          struct ls_diags *diags);

struct ls_policy *ls_policy_free(struct ls_policy *p);

/* The canonical JSON of the effective policy (sorted keys, extends/import resolved,
 * numbers in base units); what the hash is computed over.  Caller frees. */
char *ls_policy_to_json(const struct ls_policy *p);

/* The seccomp spec of the effective policy (points into p; valid while p lives). */
void ls_policy_seccomp_spec(const struct ls_policy *p, struct ls_seccomp_spec *ret);

/* ---- identity checks ------------------------------------------------------- */

struct ls_identity {
    bool is_root;          /* uid 0 on the supervisor's host */
    uid_t uid;
    gid_t gid;
    const gid_t *groups;   /* supplementary */
    size_t n_groups;
    const char *role;      /* agent role from a certificate or the request; NULL if none */
};

/* May identity use policy?  Root may use every policy. */
bool ls_policy_allows_client(const struct ls_policy *p, const struct ls_identity *id);

/* ---- Docker / OCI seccomp profiles --------------------------------------------- */

/*
 * Read a Docker/moby seccomp profile (the template format with archMap and
 * includes/excludes by caps, arches and minKernel; plain OCI linux.seccomp too) and
 * resolve it for the native architecture, no capabilities and the given kernel
 * version (e.g. "6.1"; NULL: the running kernel): the rules that apply, in order, with
 * defaultAction/defaultErrnoRet.  Problems go to diags with the profile's file name.
 */
int ls_docker_profile_load(const char *path, const char *kernel_version,
                           bool allow_unknown_syscalls, struct ls_seccomp_rule **ret_rules,
                           size_t *ret_n, int *ret_default_errno, struct ls_diags *diags);

void ls_seccomp_rules_free(struct ls_seccomp_rule *rules, size_t n);

/* ---- evaluating a compiled program ----------------------------------------------- */

enum ls_verdict_kind { LS_VERDICT_ALLOW, LS_VERDICT_ERRNO, LS_VERDICT_KILL, LS_VERDICT_OTHER };

struct ls_verdict {
    enum ls_verdict_kind kind;
    int errno_ret;         /* ERRNO */
    uint32_t raw;          /* the SECCOMP_RET_* value the kernel would act on */
};

/* Run the program's classic-BPF filters in user space on a syscall (number, six
 * arguments, architecture AUDIT_ARCH_*; 0 = native) and combine their verdicts the
 * way the kernel does (most restrictive wins).  This is what `policy test` reports. */
int ls_seccomp_eval(const struct ls_seccomp_program *prog, int nr, const uint64_t args[6],
                    uint32_t arch, struct ls_verdict *ret);

/* ---- signing ----------------------------------------------------------------- */

/* Ed25519 (OpenSSL).  The signature covers the file's bytes; it is written base64 to
 * `<file>.sig`.  key/pubkey are PEM files.  0, or -errno / -EBADMSG with err. */
int ls_policy_sign(const char *file, const char *key_pem, struct ls_error *err);
int ls_policy_verify(const char *file, const char *pubkey_pem, struct ls_error *err);

/* ---- compiling and applying (policies/compile.c) ----------------------------- */

struct ls_sandbox_spec;

/*
 * The compiled seccomp program of the effective policy, built once per process for
 * each distinct policy content (keyed by p->hash) and kept until ls_policy_cache_clear:
 * reloading an unchanged policy costs nothing.  Safe from several threads.
 */
int ls_policy_program(const struct ls_policy *p, const struct ls_seccomp_program **ret,
                      struct ls_error *err);

/* Free every cached program (no program returned before may be used afterwards). */
void ls_policy_cache_clear(void);

/* What a request asks for, in the units of struct ls_policy_limits (bytes, thousandths
 * of a CPU, milliseconds); 0 (or NULL/0 arrays) = the policy's
 * default.  A request may tighten (ask for less than the default) but never exceed a
 * maximum, set a variable the policy does not allow, or bring a workspace to a
 * policy without one. */
struct ls_policy_request {
    uint64_t memory, cpus, pids, wall_time, cpu_time, output, tmp_size, file_size,
        open_files;
    const char *const *env;   /* "NAME=value" entries */
    size_t n_env;
    bool has_workspace;
};

/*
 * Fill spec (already ls_sandbox_spec_init()ed) from the policy and the request:
 * limits (request or default, checked against the maxima), binds, uid, environment
 * (fixed values win; the base is PATH/HOME/LANG), the seccomp program.  Allocated
 * arrays (binds, env) are returned in *ret_binds / *ret_env for the caller to free
 * after the run.  Returns 0, or -EPERM / -EINVAL with err naming the limit or variable.
 */
int ls_policy_apply(const struct ls_policy *p, const struct ls_policy_request *req,
                    struct ls_sandbox_spec *spec, void **ret_binds, char ***ret_env,
                    struct ls_error *err);
