/*
 * policy.c - load a policy: resolve `extends`, `base` and `import` into the effective
 * policy, check it compiles, and give it a canonical JSON form and a hash.
 *
 * Loading goes file by file.  A file is first read into a *layer* by policy_parse.c:
 * its own values, with a note of which keys it sets; every mistake is reported (the
 * whole file is checked, not just up to the first problem), and the file's diagnostics
 * are sorted by position.  Then its parent is loaded the same way (recursively,
 * refusing cycles and chains longer than MAX_CHAIN) and the layer is applied on top of
 * the parent's effective policy by the rules of docs/policy-guide.md, "Inheritance".
 * Only the final policy is compiled -- to prove its seccomp rules are accepted and
 * that it lets a command start -- and hashed.
 *
 * Seccomp rules come in layers, lowest first: the built-in list ("base": "builtin"),
 * the own rules of each ancestor, then the file's own rules; inside one file the
 * import is below `allow` + `rules`.  Overlaying an upper layer on a lower one works
 * per syscall (compared by number): if the upper layer has an allow or an
 * unconditional rule for it, the lower layer's rules for it are dropped; if all it
 * has are argument denies (errno/kill with conditions), they are added to the lower
 * layer's rules, which stay.  This overlay is associative, so where `base` sits in a
 * chain does not change the result.  The floor (ls_seccomp_floor) is added after every
 * layer.  Next to each rule we keep where it came from, so that the compiler's
 * complaint about "rule 212" becomes a position in the file that wrote the rule.
 */
#include "labstack/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "labstack/error.h"
#include "labstack/fileio.h"
#include "labstack/macros.h"
#include "policy_internal.h"

#define MAX_CHAIN 16             /* policies in one extends chain, the loaded one included */
#define MAX_FILE_SIZE (4u << 20) /* a policy is a few KiB; refuse anything absurd */

/* ---- rule lists with origins --------------------------------------------------- */

void origin_done(struct origin *o) {
    free(o->file);
    free(o->path);
    *o = (struct origin){0};
}

int origin_copy(struct origin *dst, const struct origin *src) {
    *dst = (struct origin){.line = src->line, .col = src->col};
    dst->file = src->file ? strdup(src->file) : NULL;
    dst->path = strdup(src->path ? src->path : "");
    if ((src->file && !dst->file) || !dst->path) {
        origin_done(dst);
        return -ENOMEM;
    }
    return 0;
}

void rulelist_done(struct rulelist *l) {
    for (size_t i = 0; i < l->n; i++) {
        free((char *)l->v[i].syscall);
        origin_done(&l->o[i]);
    }
    free(l->v);
    free(l->o);
    free(l->nr);
    *l = (struct rulelist){0};
}

static bool rule_equal(const struct ls_seccomp_rule *a, const struct ls_seccomp_rule *b) {
    if (a->action != b->action || a->n_args != b->n_args)
        return false;
    if (a->action == LS_SECCOMP_ERRNO && a->errno_ret != b->errno_ret)
        return false;
    for (unsigned k = 0; k < a->n_args; k++) {
        const struct ls_seccomp_arg *x = &a->args[k], *y = &b->args[k];
        if (x->index != y->index || x->op != y->op || x->value != y->value)
            return false;
        if (x->op == LS_SECCOMP_MASKED_EQ && x->mask != y->mask)
            return false;
    }
    return true;
}

/* Append a copy of rule r (syscall number nr) written at o.  A rule equal to one
 * already in the list for the same syscall adds nothing. */
int rulelist_add(struct rulelist *l, const struct ls_seccomp_rule *r, int nr,
                 const struct origin *o) {
    for (size_t i = 0; i < l->n; i++)
        if (l->nr[i] == nr && rule_equal(&l->v[i], r))
            return 0;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        struct ls_seccomp_rule *v = reallocarray(l->v, ncap, sizeof(*v));
        if (!v)
            return -ENOMEM;
        l->v = v;
        struct origin *no = reallocarray(l->o, ncap, sizeof(*no));
        if (!no)
            return -ENOMEM;
        l->o = no;
        int *nnr = reallocarray(l->nr, ncap, sizeof(*nnr));
        if (!nnr)
            return -ENOMEM;
        l->nr = nnr;
        l->cap = ncap;
    }
    char *name = strdup(r->syscall);
    if (!name)
        return -ENOMEM;
    if (origin_copy(&l->o[l->n], o) < 0) {
        free(name);
        return -ENOMEM;
    }
    l->v[l->n] = *r;
    l->v[l->n].syscall = name;
    l->nr[l->n] = nr;
    l->n++;
    return 0;
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

/* An argument deny adds to the rules below it; anything else replaces them. */
static bool rule_replaces(const struct ls_seccomp_rule *r) {
    return r->action == LS_SECCOMP_ALLOW || r->n_args == 0;
}

/* lower := lower overlaid with upper (see the top of this file). */
int rulelist_overlay(struct rulelist *lower, const struct rulelist *upper) {
    _cleanup_free_ int *repl = NULL;
    struct rulelist out = {0};
    size_t n_repl = 0;
    int r = 0;

    if (upper->n == 0)
        return 0;
    repl = calloc(upper->n, sizeof(*repl));
    if (!repl)
        return -ENOMEM;
    for (size_t i = 0; i < upper->n; i++)
        if (rule_replaces(&upper->v[i]))
            repl[n_repl++] = upper->nr[i];
    qsort(repl, n_repl, sizeof(*repl), cmp_int);
    for (size_t i = 0; i < lower->n && r >= 0; i++)
        if (!n_repl || !bsearch(&lower->nr[i], repl, n_repl, sizeof(*repl), cmp_int))
            r = rulelist_add(&out, &lower->v[i], lower->nr[i], &lower->o[i]);
    for (size_t i = 0; i < upper->n && r >= 0; i++)
        r = rulelist_add(&out, &upper->v[i], upper->nr[i], &upper->o[i]);
    if (r < 0) {
        rulelist_done(&out);
        return r;
    }
    rulelist_done(lower);
    *lower = out;
    return 0;
}

/* ---- policies ---------------------------------------------------------------------- */

struct ls_policy *policy_new(void) {
    struct ls_policy *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->workspace = true;
    p->seccomp.default_errno = EPERM;
    p->seccomp.unknown_errno = ENOSYS;
    /* The built-in allow-list unless a policy says "base": "none": a policy that
     * forgets its seccomp section gets the safe default, not "nothing runs". */
    p->seccomp.use_builtin = true;
    return p;
}

/* ---- the chain ------------------------------------------------------------------ */

/* An effective policy while loading: the policy and its seccomp layers so far
 * without the built-in base (applied last, see finish()). */
struct eff {
    struct ls_policy *p;
    struct rulelist chain;
    struct origin base_origin;
};

static void eff_done(struct eff *e) {
    e->p = ls_policy_free(e->p);
    rulelist_done(&e->chain);
    origin_done(&e->base_origin);
}

struct loader {
    struct ls_diags *diags;
    bool allow_unknown;
    const char *search_dir;       /* where parents are; NULL: beside the file */
    bool in_memory;               /* the first policy came from a buffer */
    const char *chain[MAX_CHAIN]; /* names of the policies being loaded, child first */
    size_t depth;
};

/* "a -> b -> c" for the chain so far plus next. */
static char *chain_string(const struct loader *L, const char *next) {
    size_t n = strlen(next) + 1;
    for (size_t i = 0; i <= L->depth; i++)
        n += strlen(L->chain[i]) + 4;
    char *s = malloc(n);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (size_t i = 0; i <= L->depth; i++) {
        strcat(s, L->chain[i]);
        strcat(s, " -> ");
    }
    strcat(s, next);
    return s;
}

static void error_origin(struct loader *L, const struct origin *o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void error_origin(struct loader *L, const struct origin *o, const char *fmt, ...) {
    _cleanup_free_ char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    ls_diags_add(L->diags, false, o->file, o->line, o->col, o->path ? o->path : "", "%s",
                 msg ? msg : "(out of memory)");
}

static int load_one(struct loader *L, const char *file, const char *data, size_t len,
                    const char *dir, struct eff *ret);

/* A directory as a prefix for file names: "" stays "", else it ends with '/'. */
static char *dir_prefix(const char *dir) {
    size_t k = strlen(dir);
    char *s = NULL;
    if (asprintf(&s, "%s%s", dir, k && dir[k - 1] != '/' ? "/" : "") < 0)
        return NULL;
    return s;
}

/* Load the parent of ly (named by its extends) into *ret. */
static int load_parent(struct loader *L, struct layer *ly, struct eff *ret) {
    const char *name = ly->p->extends;
    const struct origin *at = &ly->extends_at;
    _cleanup_free_ char *chain = chain_string(L, name);
    _cleanup_free_ char *path = NULL, *dir = NULL, *buf = NULL;
    size_t len;
    int r;

    if (!chain)
        return -ENOMEM;
    for (size_t i = 0; i <= L->depth; i++)
        if (strcmp(L->chain[i], name) == 0) {
            error_origin(L, at, "expected a policy outside the extends chain, got a cycle: %s",
                         chain);
            return -EINVAL;
        }
    if (L->depth + 1 >= MAX_CHAIN) {
        error_origin(L, at, "expected at most %d policies in an extends chain, got more: %s",
                     MAX_CHAIN, chain);
        return -EINVAL;
    }
    if (L->search_dir) {
        dir = dir_prefix(L->search_dir);
        r = dir ? 0 : -1;
    } else if (L->in_memory) {
        error_origin(L, at,
                     "expected a search_dir to find \"%s\" in: this policy was read from memory",
                     name);
        return -EINVAL;
    } else {
        const char *slash = strrchr(ly->p->file, '/');
        dir = strndup(ly->p->file, slash ? (size_t)(slash - ly->p->file) + 1 : 0);
        r = dir ? 0 : -1;
    }
    if (r < 0 || asprintf(&path, "%s%s.json", dir, name) < 0)
        return -ENOMEM;

    r = ls_read_file(path, MAX_FILE_SIZE, &buf, &len);
    if (r == -ENOMEM)
        return r;
    if (r < 0) {
        error_origin(L, at, "expected an existing policy, got \"%s\" (%s: %s); chain: %s", name,
                     path, strerror(-r), chain);
        return -EINVAL;
    }
    L->depth++;
    r = load_one(L, path, buf, len, dir, ret);
    L->depth--;
    if (r == -EINVAL)
        error_origin(L, at, "expected a valid parent policy, got \"%s\" (%s), which has errors",
                     name, path);
    return r;
}

static void free_strings(char **v, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_binds(struct ls_policy_bind *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(v[i].src);
        free(v[i].dst);
    }
    free(v);
}

static void free_env(struct ls_policy_env_var *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
}

#define REPLACE(dst, src)      \
    do {                       \
        free(dst);             \
        (dst) = TAKE_PTR(src); \
    } while (0)

/* Environment: names and fixed values merged, the child (o) winning on a name. */
static int merge_env(struct ls_policy *p, struct ls_policy *o) {
    if (o->n_env_allow) {
        char **v = reallocarray(p->env_allow, p->n_env_allow + o->n_env_allow, sizeof(*v));
        if (!v)
            return -ENOMEM;
        p->env_allow = v;
        for (size_t i = 0; i < o->n_env_allow; i++)
            v[p->n_env_allow++] = TAKE_PTR(o->env_allow[i]);
        o->n_env_allow = 0;
        policy_sort_unique_strings(p->env_allow, &p->n_env_allow);
    }
    if (o->n_env_set) {
        struct ls_policy_env_var *v =
            reallocarray(p->env_set, p->n_env_set + o->n_env_set, sizeof(*v));
        if (!v)
            return -ENOMEM;
        p->env_set = v;
        size_t n = p->n_env_set;
        for (size_t i = 0; i < o->n_env_set; i++) {
            struct ls_policy_env_var *ov = &o->env_set[i], *hit = NULL;
            for (size_t k = 0; k < n && !hit; k++)
                if (strcmp(v[k].name, ov->name) == 0)
                    hit = &v[k];
            if (hit) {
                REPLACE(hit->value, ov->value);
            } else {
                v[p->n_env_set].name = TAKE_PTR(ov->name);
                v[p->n_env_set++].value = TAKE_PTR(ov->value);
            }
        }
        qsort(p->env_set, p->n_env_set, sizeof(*p->env_set), policy_cmp_env);
    }
    return 0;
}

/* Apply layer ly on top of the effective policy e (see the guide, "Inheritance"). */
static int merge(struct eff *e, struct layer *ly) {
    struct ls_policy *p = e->p, *o = ly->p;

    REPLACE(p->file, o->file);
    REPLACE(p->name, o->name);
    REPLACE(p->extends, o->extends);
    p->version = o->version;
    if (ly->has.description)
        REPLACE(p->description, o->description);
    if (ly->has.clients) {
        p->any_client = o->any_client;
        REPLACE(p->client_uids, o->client_uids);
        p->n_client_uids = o->n_client_uids;
        REPLACE(p->client_gids, o->client_gids);
        p->n_client_gids = o->n_client_gids;
        free_strings(p->client_roles, p->n_client_roles);
        p->client_roles = TAKE_PTR(o->client_roles);
        p->n_client_roles = o->n_client_roles;
        o->n_client_roles = 0;
    }
    for (size_t i = 0; i < POLICY_N_LIMITS; i++) {
        const struct ls_limit *l = policy_limit_of(&o->limits, &policy_limit_defs[i]);
        if (l->set)
            *policy_limit_of(&p->limits, &policy_limit_defs[i]) = *l;
    }
    if (ly->has.ro_binds) {
        free_binds(p->ro_binds, p->n_ro_binds);
        p->ro_binds = TAKE_PTR(o->ro_binds);
        p->n_ro_binds = o->n_ro_binds;
        o->n_ro_binds = 0;
        p->ro_binds_set = true;
    }
    if (ly->has.workspace)
        p->workspace = o->workspace;
    if (ly->has.network)
        REPLACE(p->network, o->network);
    if (ly->has.uid)
        p->uid = o->uid;
    if (merge_env(p, o) < 0)
        return -ENOMEM;
    REPLACE(p->seccomp.import, o->seccomp.import);
    if (ly->has.default_errno)
        p->seccomp.default_errno = o->seccomp.default_errno;
    if (ly->has.unknown_errno)
        p->seccomp.unknown_errno = o->seccomp.unknown_errno;
    if (ly->has.base) {
        p->seccomp.use_builtin = o->seccomp.use_builtin;
        origin_done(&e->base_origin);
        e->base_origin = ly->base_origin;
        ly->base_origin = (struct origin){0};
    }
    return rulelist_overlay(&e->chain, &ly->rules);
}

/*
 * Load the policy in data (named file; dir: where its import is, see parse_layer) and
 * its ancestors into *ret.  0, -EINVAL with problems in L->diags, or -ENOMEM.
 */
static int load_one(struct loader *L, const char *file, const char *data, size_t len,
                    const char *dir, struct eff *ret) {
    _cleanup_(layer_done) struct layer ly = {0};
    _cleanup_(eff_done) struct eff e = {0};
    _cleanup_free_ char *stem = NULL;
    bool failed;
    int r;

    r = layer_parse(L->diags, file, L->allow_unknown, data, len, dir, &ly);
    if (r == -ENOMEM || !ly.p)
        return r < 0 ? r : -EINVAL;
    failed = r < 0;

    stem = policy_file_stem(file);
    if (!stem)
        return -ENOMEM;
    L->chain[L->depth] = ly.p->name ? ly.p->name : stem;
    if (ly.p->extends) {
        r = load_parent(L, &ly, &e);
        if (r == -ENOMEM)
            return r;
        if (r < 0)
            failed = true;
    }
    if (failed)
        return -EINVAL;
    if (!e.p) {
        e.p = policy_new();
        if (!e.p)
            return -ENOMEM;
        e.p->network = strdup("none");
        if (!e.p->network)
            return -ENOMEM;
    }
    r = merge(&e, &ly);
    if (r < 0)
        return r;
    *ret = e;
    e = (struct eff){0};
    return 0;
}

/* ---- the final policy -------------------------------------------------------------- */

static void describe_rule(const struct ls_seccomp_rule *r, char *buf, size_t size) {
    const char *en = r->action == LS_SECCOMP_ERRNO ? strerrorname_np(r->errno_ret) : NULL;
    char e[32] = "";
    if (r->action == LS_SECCOMP_ERRNO) {
        if (en)
            snprintf(e, sizeof(e), " %s", en);
        else
            snprintf(e, sizeof(e), " %d", r->errno_ret);
    }
    snprintf(buf, size, "%s%s%s", policy_action_name(r->action), e,
             r->n_args ? " with conditions" : "");
}

/* Turn the compiler's complaint, which names a rule by index, into a diagnostic at the
 * place that wrote the rule. */
static void compile_diag(struct loader *L, const char *file, const struct rulelist *l,
                         const struct ls_error *err) {
    const char *msg = err->msg, *conflict = strstr(msg, "conflicts with rule ");
    const char *at = strstr(msg, "seccomp rule ");
    size_t i, j;

    if (!at || sscanf(at, "seccomp rule %zu", &i) != 1 || i >= l->n) {
        ls_diags_add(L->diags, false, file, 0, 0, "seccomp",
                     "the effective seccomp rules do not compile: %s", msg);
        return;
    }
    const struct origin *o = &l->o[i];
    char what[64], other[64];
    describe_rule(&l->v[i], what, sizeof(what));
    if (conflict && sscanf(conflict, "conflicts with rule %zu", &j) == 1 && j < l->n) {
        const struct origin *q = &l->o[j];
        describe_rule(&l->v[j], other, sizeof(other));
        ls_diags_add(L->diags, false, o->file, o->line, o->col, o->path,
                     "expected rules for \"%s\" that agree, got %s here and %s at %s:%d:%d (%s); "
                     "unconditional rules for one syscall must have the same action, and cannot "
                     "stand beside conditional allows",
                     l->v[i].syscall, what, other, q->file ? q->file : "", q->line, q->col,
                     q->path);
        return;
    }
    const char *rest = strstr(msg, "): ");
    ls_diags_add(L->diags, false, o->file, o->line, o->col, o->path,
                 "expected a rule the seccomp compiler accepts, got %s for \"%s\": %s", what,
                 l->v[i].syscall, rest ? rest + 3 : msg);
}

/* Apply the built-in base, check that the rules compile, set the hash. */
static int finish(struct loader *L, struct eff *e, struct ls_policy **ret) {
    struct ls_policy *p = e->p;
    struct rulelist all = {0};
    const struct ls_seccomp_program *prog = NULL;
    struct ls_error err = {0};
    _cleanup_free_ char *json = NULL;
    unsigned int md_len = 0;
    int r = 0;

    if (p->seccomp.use_builtin) {
        const struct ls_seccomp_spec *def = ls_seccomp_default_spec();
        for (size_t i = 0; i < def->n_rules && r >= 0; i++) {
            int nr = seccomp_syscall_resolve_name(def->rules[i].syscall);
            if (nr != __NR_SCMP_ERROR) /* names older libseccomps lack: ENOSYS anyway */
                r = rulelist_add(&all, &def->rules[i], nr, &e->base_origin);
        }
        if (r >= 0)
            r = rulelist_overlay(&all, &e->chain);
    } else {
        r = rulelist_overlay(&all, &e->chain);
    }
    /* The floor (ls_seccomp_floor) is overlaid last, over every layer, so no policy can
     * drop it: its argument denies add to the policy's rules, its unconditional refusals
     * (openat2, io_uring) replace whatever the policy said about those syscalls.  It is
     * part of the effective rules, so explain, diff, test, the hash and the compiled
     * program all see the same list. */
    if (r >= 0) {
        size_t n_floor;
        const struct ls_seccomp_rule *floor = ls_seccomp_floor(&n_floor);
        struct rulelist fl = {0};
        for (size_t i = 0; i < n_floor && r >= 0; i++) {
            int nr = seccomp_syscall_resolve_name(floor[i].syscall);
            if (nr != __NR_SCMP_ERROR)
                r = rulelist_add(&fl, &floor[i], nr, &e->base_origin);
        }
        if (r >= 0)
            r = rulelist_overlay(&all, &fl);
        rulelist_done(&fl);
    }
    if (r < 0)
        goto out;

    /* The rules (and their names) go to the policy and get hashed; the origins stay in
     * `all` until the program is compiled, to turn a compiler complaint into a position
     * (the policy's rule i is all's rule i). */
    size_t n = all.n;
    p->seccomp.rules = TAKE_PTR(all.v);
    p->seccomp.n_rules = n;
    json = ls_policy_to_json(p);
    if (!json) {
        r = -ENOMEM;
        goto out;
    }
    if (!EVP_Digest(json, strlen(json), p->hash, &md_len, EVP_sha256(), NULL) ||
        md_len != sizeof(p->hash)) {
        r = -EIO;
        goto out;
    }

    /* Compile through the per-hash cache (compile.c): a policy is compiled once per
     * process, however often it is loaded and run. */
    r = ls_policy_program(p, &prog, &err);
    if (r == -ENOMEM)
        goto out;
    if (r < 0) {
        struct rulelist view = all;
        view.v = p->seccomp.rules;
        compile_diag(L, p->file, &view, &err);
        r = -EINVAL;
        goto out;
    }
    /* A program that refuses execve, write or exit_group could never start a command or
     * report that it could not (sandbox/init.c): such a policy is an error, found here
     * by evaluating the compiled filters, so `policy check` reports it. */
    static const struct {
        int nr;
        const char *name;
    } essential[] = {{SYS_execve, "execve"}, {SYS_write, "write"}, {SYS_exit_group, "exit_group"}};
    for (size_t i = 0; i < sizeof(essential) / sizeof(essential[0]); i++) {
        static const uint64_t args[6] = {0};
        struct ls_verdict v;
        if (ls_seccomp_eval(prog, essential[i].nr, args, 0, &v) >= 0 &&
            v.kind != LS_VERDICT_ALLOW) {
            ls_diags_add(L->diags, false, p->file, 0, 0, "seccomp",
                         "expected rules that allow %s, got a program that refuses it: no command "
                         "could start",
                         essential[i].name);
            r = -EINVAL;
        }
    }
    if (r < 0)
        goto out;

    *ret = TAKE_PTR(e->p);
out:
    if (all.v) {
        rulelist_done(&all);
    } else { /* the rules (and names) moved to the policy: only the origins are left */
        for (size_t k = 0; k < all.n; k++)
            origin_done(&all.o[k]);
        free(all.o);
        free(all.nr);
    }
    return r;
}

static int load_top(const char *file, const char *data, size_t len, const char *dir,
                    const struct ls_policy_load_opts *opts, bool in_memory, struct ls_policy **ret,
                    struct ls_diags *diags) {
    struct loader L = {
        .diags = diags,
        .allow_unknown = opts && opts->allow_unknown_syscalls,
        .search_dir = opts ? opts->search_dir : NULL,
        .in_memory = in_memory,
    };
    _cleanup_(eff_done) struct eff e = {0};
    int r;

    r = load_one(&L, file, data, len, dir, &e);
    if (r < 0)
        return r;
    return finish(&L, &e, ret);
}

int ls_policy_load_buffer(const char *file, const char *data, size_t len,
                          const struct ls_policy_load_opts *opts, struct ls_policy **ret,
                          struct ls_diags *diags) {
    struct ls_diags local = {0};
    _cleanup_free_ char *dir = NULL;
    const char *search = opts ? opts->search_dir : NULL;
    int r;

    if (!file || (!data && len) || !ret)
        return -EINVAL;
    if (search && !(dir = dir_prefix(search)))
        return -ENOMEM;
    r = load_top(file, data ? data : "", len, dir, opts, true, ret, diags ? diags : &local);
    ls_diags_free(&local);
    return r;
}

int ls_policy_load(const char *path, const struct ls_policy_load_opts *opts, struct ls_policy **ret,
                   struct ls_diags *diags) {
    struct ls_diags local = {0};
    _cleanup_free_ char *buf = NULL, *dir = NULL;
    size_t len = 0;
    int r;

    if (!path || !ret)
        return -EINVAL;
    if (!diags)
        diags = &local;
    r = ls_read_file(path, MAX_FILE_SIZE, &buf, &len);
    if (r < 0) {
        ls_diags_add(diags, false, path, 0, 0, "", "cannot read the policy: %s", strerror(-r));
        goto out;
    }
    const char *slash = strrchr(path, '/');
    dir = strndup(path, slash ? (size_t)(slash - path) + 1 : 0);
    if (!dir) {
        r = -ENOMEM;
        goto out;
    }
    r = load_top(path, buf, len, dir, opts, false, ret, diags);
out:
    ls_diags_free(&local);
    return r;
}

struct ls_policy *ls_policy_free(struct ls_policy *p) {
    if (!p)
        return NULL;
    free(p->file);
    free(p->name);
    free(p->description);
    free(p->extends);
    free(p->client_uids);
    free(p->client_gids);
    free_strings(p->client_roles, p->n_client_roles);
    free_binds(p->ro_binds, p->n_ro_binds);
    free(p->network);
    free_strings(p->env_allow, p->n_env_allow);
    free_env(p->env_set, p->n_env_set);
    free(p->seccomp.import);
    for (size_t i = 0; i < p->seccomp.n_rules; i++)
        free((char *)p->seccomp.rules[i].syscall);
    free(p->seccomp.rules);
    free(p);
    return NULL;
}

/* ---- canonical form --------------------------------------------------------------- */

static json_t *hex(uint64_t v) {
    char buf[24];
    snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
    return json_string(buf);
}

/* json_object_set_new() that remembers a failure. */
static void put(json_t *obj, const char *key, json_t *v, bool *ok) {
    if (!v || !obj || json_object_set_new(obj, key, v) < 0)
        *ok = false;
}

static void push(json_t *arr, json_t *v, bool *ok) {
    if (!v || !arr || json_array_append_new(arr, v) < 0)
        *ok = false;
}

static json_t *string_array(char *const *v, size_t n, bool *ok) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        push(a, json_string(v[i]), ok);
    return a;
}

static json_t *id_array(const uint32_t *v, size_t n, bool *ok) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        push(a, json_integer(v[i]), ok);
    return a;
}

static json_t *rule_json(const struct ls_seccomp_rule *r, bool *ok) {
    json_t *o = json_object(), *args = json_array();
    put(o, "syscall", json_string(r->syscall), ok);
    put(o, "action", json_string(policy_action_name(r->action)), ok);
    if (r->action == LS_SECCOMP_ERRNO)
        put(o, "errno", json_integer(r->errno_ret), ok);
    for (unsigned k = 0; k < r->n_args && k < LS_SECCOMP_MAX_ARGS; k++) {
        const struct ls_seccomp_arg *a = &r->args[k];
        json_t *c = json_object();
        put(c, "index", json_integer(a->index), ok);
        put(c, "op", json_string(policy_op_name(a->op)), ok);
        put(c, "value", hex(a->value), ok);
        if (a->op == LS_SECCOMP_MASKED_EQ)
            put(c, "mask", hex(a->mask), ok);
        push(args, c, ok);
    }
    put(o, "args", args, ok);
    return o;
}

char *ls_policy_to_json(const struct ls_policy *p) {
    _cleanup_json_ json_t *root = json_object();
    bool ok = true;

    if (!p || !root)
        return NULL;
    put(root, "name", json_string(p->name ? p->name : ""), &ok);
    put(root, "version", json_integer((json_int_t)p->version), &ok);
    put(root, "description", p->description ? json_string(p->description) : json_null(), &ok);

    json_t *clients = json_object();
    put(clients, "any", json_boolean(p->any_client), &ok);
    put(clients, "uids", id_array((const uint32_t *)p->client_uids, p->n_client_uids, &ok), &ok);
    put(clients, "gids", id_array((const uint32_t *)p->client_gids, p->n_client_gids, &ok), &ok);
    put(clients, "roles", string_array(p->client_roles, p->n_client_roles, &ok), &ok);
    put(root, "clients", clients, &ok);

    json_t *limits = json_object();
    for (size_t i = 0; i < POLICY_N_LIMITS; i++) {
        const struct ls_limit *l =
            policy_limit_of((struct ls_policy_limits *)&p->limits, &policy_limit_defs[i]);
        json_t *v = json_null();
        if (l->set) {
            v = json_object();
            put(v, "default", json_integer((json_int_t)l->def), &ok);
            put(v, "max", json_integer((json_int_t)l->max), &ok);
        }
        put(limits, policy_limit_defs[i].name, v, &ok);
    }
    put(root, "limits", limits, &ok);

    json_t *fs = json_object();
    json_t *binds = p->ro_binds_set ? json_array() : json_null();
    for (size_t i = 0; p->ro_binds_set && i < p->n_ro_binds; i++) {
        const struct ls_policy_bind *b = &p->ro_binds[i];
        json_t *o = json_object();
        put(o, "src", json_string(b->src), &ok);
        put(o, "dst", json_string(b->dst ? b->dst : b->src), &ok);
        put(o, "optional", json_boolean(b->optional), &ok);
        push(binds, o, &ok);
    }
    put(fs, "ro_binds", binds, &ok);
    put(fs, "workspace", json_boolean(p->workspace), &ok);
    put(root, "filesystem", fs, &ok);

    put(root, "network", json_string(p->network ? p->network : "none"), &ok);

    json_t *env = json_object(), *set = json_object();
    put(env, "allow", string_array(p->env_allow, p->n_env_allow, &ok), &ok);
    for (size_t i = 0; i < p->n_env_set; i++)
        put(set, p->env_set[i].name, json_string(p->env_set[i].value), &ok);
    put(env, "set", set, &ok);
    put(root, "environment", env, &ok);

    put(root, "uid", json_integer(p->uid), &ok);

    json_t *sc = json_object(), *rules = json_array();
    put(sc, "default_errno", json_integer(p->seccomp.default_errno), &ok);
    put(sc, "unknown_errno", json_integer(p->seccomp.unknown_errno), &ok);
    for (size_t i = 0; i < p->seccomp.n_rules; i++)
        push(rules, rule_json(&p->seccomp.rules[i], &ok), &ok);
    put(sc, "rules", rules, &ok);
    put(root, "seccomp", sc, &ok);

    if (!ok)
        return NULL;
    return json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
}

void ls_policy_seccomp_spec(const struct ls_policy *p, struct ls_seccomp_spec *ret) {
    *ret = (struct ls_seccomp_spec){
        .default_errno = p->seccomp.default_errno,
        .unknown_errno = p->seccomp.unknown_errno,
        .rules = p->seccomp.rules,
        .n_rules = p->seccomp.n_rules,
        /* Every name was resolved at load time (unknown ones refused or dropped). */
        .allow_unknown_names = false,
    };
}

/* ---- identity ------------------------------------------------------------------ */

static bool has_id(const uint32_t *v, size_t n, uint32_t id) {
    for (size_t i = 0; i < n; i++)
        if (v[i] == id)
            return true;
    return false;
}

bool ls_policy_allows_client(const struct ls_policy *p, const struct ls_identity *id) {
    if (!p || !id)
        return false;
    if (id->is_root || p->any_client)
        return true;
    if (has_id((const uint32_t *)p->client_uids, p->n_client_uids, id->uid))
        return true;
    if (has_id((const uint32_t *)p->client_gids, p->n_client_gids, id->gid))
        return true;
    for (size_t i = 0; i < id->n_groups && id->groups; i++)
        if (has_id((const uint32_t *)p->client_gids, p->n_client_gids, id->groups[i]))
            return true;
    if (id->role)
        for (size_t i = 0; i < p->n_client_roles; i++)
            if (strcmp(p->client_roles[i], id->role) == 0)
                return true;
    return false;
}
