/*
 * test_policy.c - loading policies: every field, the diagnostics (position, JSON path
 * and wording), extends chains, the seccomp layers (the built-in base by default, the
 * floor after every layer, the syscalls every program must allow), the canonical form
 * and hash, and client checks.  Policies are written into a fresh temporary directory
 * per test.
 *
 * Positions in the expectations were counted by hand on the JSON below: each line of a
 * policy is one line of the C string, so line numbers can be read off the source.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>
#include <seccomp.h>

#include "../../policies/jsonpos.h"
#include "labstack/error.h"
#include "labstack/macros.h"
#include "labstack/policy.h"

#include "seccomp_probe.h"

static char dir[PATH_MAX];

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    return remove(path);
}

static int setup_dir(void **state) {
    snprintf(dir, sizeof(dir), "/tmp/test-policy-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state) {
    return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)

/* Write dir/<rel> (creating one level of subdirectory if rel has one). */
static void write_file(const char *rel, const char *text) {
    char path[PATH_MAX * 2];
    const char *slash = strrchr(rel, '/');
    if (slash) {
        snprintf(path, sizeof(path), "%s/%.*s", dir, (int)(slash - rel), rel);
        mkdir(path, 0755);
    }
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void write_policy(const char *name, const char *text) {
    char rel[256];
    snprintf(rel, sizeof(rel), "%s.json", name);
    write_file(rel, text);
}

static void dump(const struct ls_diags *d) {
    for (size_t i = 0; i < d->n; i++) {
        char *s = ls_diag_format(&d->v[i]);
        fprintf(stderr, "    diag: %s\n", s ? s : "?");
        free(s);
    }
}

/* Load dir/<name>.json; the diagnostics stay in *d for the caller. */
static int load_opts(const char *name, const struct ls_policy_load_opts *opts, struct ls_policy **p,
                     struct ls_diags *d) {
    char path[PATH_MAX * 2];
    snprintf(path, sizeof(path), "%s/%s.json", dir, name);
    *p = NULL;
    return ls_policy_load(path, opts, p, d);
}

static struct ls_policy *load_ok(const char *name) {
    struct ls_diags d = {0};
    struct ls_policy *p;
    int r = load_opts(name, NULL, &p, &d);
    if (r < 0 || d.n_errors) {
        dump(&d);
        fail_msg("loading %s: %d", name, r);
    }
    ls_diags_free(&d);
    assert_non_null(p);
    return p;
}

/* Load name, expecting failure; the caller frees d. */
static void load_bad(const char *name, struct ls_diags *d) {
    struct ls_policy *p;
    int r = load_opts(name, NULL, &p, d);
    if (r != -EINVAL || !d->n_errors) {
        dump(d);
        fail_msg("loading %s: expected -EINVAL with errors, got %d", name, r);
    }
    assert_null(p);
}

/* A diagnostic at line:col on path whose message contains needle. */
static const struct ls_diag *find_diag(const struct ls_diags *d, int line, int col,
                                       const char *path, const char *needle) {
    for (size_t i = 0; i < d->n; i++) {
        const struct ls_diag *g = &d->v[i];
        if (g->line == line && g->col == col && strcmp(g->path, path) == 0 &&
            strstr(g->msg, needle))
            return g;
    }
    return NULL;
}

#define expect_diag(d, line, col, path, needle)                                                  \
    do {                                                                                         \
        if (!find_diag((d), (line), (col), (path), (needle))) {                                  \
            dump(d);                                                                             \
            fail_msg("no diagnostic %d:%d %s containing '%s'", (line), (col), (path), (needle)); \
        }                                                                                        \
    } while (0)

/* Count the effective rules for syscall name. */
static size_t count_rules(const struct ls_policy *p, const char *name) {
    size_t n = 0;
    for (size_t i = 0; i < p->seccomp.n_rules; i++)
        if (strcmp(p->seccomp.rules[i].syscall, name) == 0)
            n++;
    return n;
}

static const struct ls_seccomp_rule *find_rule(const struct ls_policy *p, const char *name,
                                               enum ls_seccomp_action action, unsigned n_args) {
    for (size_t i = 0; i < p->seccomp.n_rules; i++) {
        const struct ls_seccomp_rule *r = &p->seccomp.rules[i];
        if (strcmp(r->syscall, name) == 0 && r->action == action && r->n_args == n_args)
            return r;
    }
    return NULL;
}

/* Two rules mean the same: syscall, action, errno (of an errno rule) and conditions. */
static bool rule_same(const struct ls_seccomp_rule *a, const struct ls_seccomp_rule *b) {
    if (strcmp(a->syscall, b->syscall) != 0 || a->action != b->action || a->n_args != b->n_args)
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

static bool in_names(const char *const *names, const char *s) {
    for (; names && *names; names++)
        if (strcmp(*names, s) == 0)
            return true;
    return false;
}

/* Every rule of the floor (ls_seccomp_floor) is in p's effective list, exactly once. */
static void assert_floor_once(const struct ls_policy *p) {
    size_t n_floor;
    const struct ls_seccomp_rule *floor = ls_seccomp_floor(&n_floor);
    assert_true(n_floor > 0);
    for (size_t k = 0; k < n_floor; k++) {
        size_t n = 0;
        for (size_t i = 0; i < p->seccomp.n_rules; i++)
            n += rule_same(&p->seccomp.rules[i], &floor[k]);
        if (n != 1)
            fail_msg("floor rule %zu (%s) is in the effective list %zu times", k, floor[k].syscall,
                     n);
    }
}

/* Is r one of the floor's unconditional refusals (openat2, io_uring_*)?  They replace
 * whatever a policy says about their syscall, so they always come last. */
static bool floor_unconditional(const struct ls_seccomp_rule *r) {
    return r->n_args == 0;
}

/* p's effective list ends with the floor's rules for the syscalls in only (NULL: all of
 * them) and the floor's unconditional refusals, in the floor's order.  Returns how many
 * that is. */
static size_t assert_floor_tail(const struct ls_policy *p, const char *const *only) {
    size_t n_floor, n_tail = 0;
    const struct ls_seccomp_rule *floor = ls_seccomp_floor(&n_floor);
    for (size_t k = 0; k < n_floor; k++)
        n_tail += !only || in_names(only, floor[k].syscall) || floor_unconditional(&floor[k]);
    assert_true(n_tail > 0);
    assert_true(p->seccomp.n_rules >= n_tail);
    size_t i = p->seccomp.n_rules - n_tail;
    for (size_t k = 0; k < n_floor; k++) {
        if (only && !in_names(only, floor[k].syscall) && !floor_unconditional(&floor[k]))
            continue;
        if (!rule_same(&p->seccomp.rules[i], &floor[k]))
            fail_msg("effective rule %zu (%s) is not floor rule %zu (%s)", i,
                     p->seccomp.rules[i].syscall, k, floor[k].syscall);
        i++;
    }
    return n_tail;
}

/* How many unconditional refusals the floor has (openat2, io_uring_setup/enter/register):
 * they end every effective list. */
static size_t floor_unconditional_count(void) {
    size_t n_floor, n = 0;
    const struct ls_seccomp_rule *floor = ls_seccomp_floor(&n_floor);
    for (size_t k = 0; k < n_floor; k++)
        n += floor_unconditional(&floor[k]);
    return n;
}

static const char *const no_names[] = {NULL};

/* Does the floor refuse syscall name unconditionally (then it owns that syscall)? */
static bool floor_owns(const char *name) {
    size_t n_floor;
    const struct ls_seccomp_rule *floor = ls_seccomp_floor(&n_floor);
    for (size_t k = 0; k < n_floor; k++)
        if (floor_unconditional(&floor[k]) && strcmp(floor[k].syscall, name) == 0)
            return true;
    return false;
}

/* p's effective list starts with the built-in list (ls_seccomp_default_spec), in its
 * order, without the names this libseccomp does not know, without the rules for the
 * syscalls in replaced (NULL-terminated, or NULL) and without the syscalls the floor
 * refuses unconditionally (their rules move to the tail).  Returns how many rules that
 * is: the index of the first rule after the built-in ones. */
static size_t assert_builtin_prefix(const struct ls_policy *p, const char *const *replaced) {
    const struct ls_seccomp_spec *def = ls_seccomp_default_spec();
    size_t k = 0;
    for (size_t i = 0; i < def->n_rules; i++) {
        const struct ls_seccomp_rule *b = &def->rules[i];
        if (seccomp_syscall_resolve_name(b->syscall) == __NR_SCMP_ERROR ||
            in_names(replaced, b->syscall) || floor_owns(b->syscall))
            continue;
        if (k >= p->seccomp.n_rules || !rule_same(&p->seccomp.rules[k], b))
            fail_msg("effective rule %zu (%s) is not built-in rule %zu (%s)", k,
                     k < p->seccomp.n_rules ? p->seccomp.rules[k].syscall : "none", i, b->syscall);
        k++;
    }
    assert_true(k > 200);
    return k;
}

/* The verdict of p's compiled program for syscall nr with arguments a0..a3. */
static struct ls_verdict verdict(const struct ls_policy *p, int nr, uint64_t a0, uint64_t a1,
                                 uint64_t a2, uint64_t a3) {
    const uint64_t args[6] = {a0, a1, a2, a3, 0, 0};
    struct ls_seccomp_spec spec;
    struct ls_seccomp_program *prog = NULL;
    struct ls_error err = {0};
    struct ls_verdict v = {0};

    ls_policy_seccomp_spec(p, &spec);
    if (ls_seccomp_build(&spec, &prog, &err) < 0)
        fail_msg("build: %s", err.msg);
    assert_int_equal(ls_seccomp_eval(prog, nr, args, 0, &v), 0);
    ls_seccomp_program_free(prog);
    return v;
}

#define assert_allowed(p, nr, a0, a1, a2, a3) \
    assert_int_equal(verdict((p), (nr), (a0), (a1), (a2), (a3)).kind, LS_VERDICT_ALLOW)

#define assert_refused(p, e, nr, a0, a1, a2, a3)                           \
    do {                                                                   \
        struct ls_verdict v_ = verdict((p), (nr), (a0), (a1), (a2), (a3)); \
        assert_int_equal(v_.kind, LS_VERDICT_ERRNO);                       \
        assert_int_equal(v_.errno_ret, (e));                               \
    } while (0)

/* ---- a full policy ------------------------------------------------------------- */

static const char qa_policy[] =
    "{\n"
    "  \"name\": \"qa\",\n"
    "  \"version\": 3,\n"
    "  \"description\": \"Test suites of common languages.\",\n"
    "  \"clients\": { \"roles\": [\"qa\", \"dev\"], \"uids\": [1001], \"gids\": [2000, 2001] },\n"
    "  \"limits\": {\n"
    "    \"memory\":     { \"default\": \"1G\",  \"max\": \"4G\" },\n"
    "    \"cpus\":       { \"default\": 0.5,   \"max\": 2 },\n"
    "    \"pids\":       { \"default\": 256,   \"max\": 1024 },\n"
    "    \"wall_time\":  { \"default\": \"10m\", \"max\": \"1h\" },\n"
    "    \"cpu_time\":   { \"default\": \"1.5s\", \"max\": 90 },\n"
    "    \"output\":     { \"default\": \"16M\", \"max\": \"64M\" },\n"
    "    \"tmp_size\":   { \"default\": \"256M\",\"max\": \"1G\" },\n"
    "    \"file_size\":  { \"max\": 4096 },\n"
    "    \"open_files\": { \"default\": 1024 }\n"
    "  },\n"
    "  \"filesystem\": {\n"
    "    \"ro_binds\": [\"/usr\", \"/bin\", { \"src\": \"/opt/node\", \"dst\": \"/node\", "
    "\"optional\": true }],\n"
    "    \"workspace\": false\n"
    "  },\n"
    "  \"network\": \"none\",\n"
    "  \"environment\": {\n"
    "    \"allow\": [\"PYTHONHASHSEED\", \"CI\", \"NODE_OPTIONS\"],\n"
    "    \"set\": { \"LANG\": \"C.UTF-8\", \"PATH\": \"/usr/local/bin:/usr/bin:/bin\" }\n"
    "  },\n"
    "  \"uid\": 1000,\n"
    "  \"seccomp\": {\n"
    "    \"base\": \"builtin\",\n"
    "    \"default_errno\": \"EACCES\",\n"
    "    \"unknown_errno\": 38,\n"
    "    \"allow\": [\"ptrace\"],\n"
    "    \"rules\": [\n"
    "      { \"syscalls\": [\"socket\"], \"action\": \"errno\", \"errno\": \"EAFNOSUPPORT\",\n"
    "        \"args\": [ { \"index\": 0, \"op\": \"gt\", \"value\": 16 } ] },\n"
    "      { \"syscalls\": [\"keyctl\", \"add_key\"], \"action\": \"errno\", \"errno\": \"EPERM\" "
    "},\n"
    "      { \"syscalls\": [\"ioctl\"], \"action\": \"errno\", \"errno\": \"EPERM\",\n"
    "        \"args\": [ { \"index\": 1, \"op\": \"masked_eq\", \"mask\": \"0xffffffff\", "
    "\"value\": \"0x5412\" } ] },\n"
    "      { \"syscalls\": [\"kexec_load\"], \"action\": \"kill\" }\n"
    "    ]\n"
    "  }\n"
    "}\n";

static void test_full_policy(void **state) {
    write_policy("qa", qa_policy);
    struct ls_policy *p = load_ok("qa");
    const struct ls_policy_limits *l = &p->limits;

    assert_string_equal(p->name, "qa");
    assert_true(strstr(p->file, "/qa.json") != NULL);
    assert_int_equal(p->version, 3);
    assert_string_equal(p->description, "Test suites of common languages.");
    assert_null(p->extends);

    assert_false(p->any_client);
    assert_int_equal(p->n_client_uids, 1);
    assert_int_equal(p->client_uids[0], 1001);
    assert_int_equal(p->n_client_gids, 2);
    assert_int_equal(p->client_gids[0], 2000);
    assert_int_equal(p->client_gids[1], 2001);
    assert_int_equal(p->n_client_roles, 2);
    assert_string_equal(p->client_roles[0], "dev"); /* sorted */
    assert_string_equal(p->client_roles[1], "qa");

    assert_true(l->memory.set);
    assert_int_equal(l->memory.def, 1ull << 30);
    assert_int_equal(l->memory.max, 4ull << 30);
    assert_int_equal(l->cpus.def, 500);
    assert_int_equal(l->cpus.max, 2000);
    assert_int_equal(l->pids.def, 256);
    assert_int_equal(l->pids.max, 1024);
    assert_int_equal(l->wall_time.def, 600000);
    assert_int_equal(l->wall_time.max, 3600000);
    assert_int_equal(l->cpu_time.def, 1500);
    assert_int_equal(l->cpu_time.max, 90000);
    assert_int_equal(l->output.def, 16u << 20);
    assert_int_equal(l->output.max, 64u << 20);
    assert_int_equal(l->tmp_size.def, 256u << 20);
    assert_int_equal(l->tmp_size.max, 1u << 30);
    assert_true(l->file_size.set); /* a lone max is also the default */
    assert_int_equal(l->file_size.def, 4096);
    assert_int_equal(l->file_size.max, 4096);
    assert_true(l->open_files.set); /* a lone default is also the max */
    assert_int_equal(l->open_files.def, 1024);
    assert_int_equal(l->open_files.max, 1024);

    assert_true(p->ro_binds_set);
    assert_int_equal(p->n_ro_binds, 3);
    assert_string_equal(p->ro_binds[0].src, "/usr");
    assert_null(p->ro_binds[0].dst);
    assert_false(p->ro_binds[0].optional);
    assert_string_equal(p->ro_binds[2].src, "/opt/node");
    assert_string_equal(p->ro_binds[2].dst, "/node");
    assert_true(p->ro_binds[2].optional);
    assert_false(p->workspace);
    assert_string_equal(p->network, "none");

    assert_int_equal(p->n_env_allow, 3);
    assert_string_equal(p->env_allow[0], "CI");
    assert_string_equal(p->env_allow[1], "NODE_OPTIONS");
    assert_string_equal(p->env_allow[2], "PYTHONHASHSEED");
    assert_int_equal(p->n_env_set, 2);
    assert_string_equal(p->env_set[0].name, "LANG");
    assert_string_equal(p->env_set[0].value, "C.UTF-8");
    assert_string_equal(p->env_set[1].name, "PATH");
    assert_int_equal(p->uid, 1000);

    assert_true(p->seccomp.use_builtin);
    assert_null(p->seccomp.import);
    assert_int_equal(p->seccomp.default_errno, EACCES);
    assert_int_equal(p->seccomp.unknown_errno, ENOSYS);
    /* Own unconditional rules replace the built-in ones for their syscalls... */
    assert_int_equal(count_rules(p, "ptrace"), 1);
    assert_non_null(find_rule(p, "ptrace", LS_SECCOMP_ALLOW, 0));
    assert_int_equal(count_rules(p, "kexec_load"), 1);
    assert_non_null(find_rule(p, "kexec_load", LS_SECCOMP_KILL, 0));
    assert_int_equal(count_rules(p, "add_key"), 1);
    /* ...while argument denies add to them: socket keeps its allow and family denies. */
    assert_non_null(find_rule(p, "socket", LS_SECCOMP_ALLOW, 0));
    const struct ls_seccomp_rule *r = NULL;
    for (size_t i = 0; i < p->seccomp.n_rules; i++) {
        const struct ls_seccomp_rule *x = &p->seccomp.rules[i];
        if (strcmp(x->syscall, "socket") == 0 && x->n_args == 1 && x->args[0].op == LS_SECCOMP_GT &&
            x->args[0].value == 16 && x->errno_ret == EAFNOSUPPORT)
            r = x;
    }
    assert_non_null(r);
    assert_int_equal(r->args[0].index, 0);
    /* The ioctl deny equals a built-in one: it is there once. */
    size_t tiocsti = 0;
    for (size_t i = 0; i < p->seccomp.n_rules; i++) {
        const struct ls_seccomp_rule *x = &p->seccomp.rules[i];
        if (strcmp(x->syscall, "ioctl") == 0 && x->n_args == 1 &&
            x->args[0].op == LS_SECCOMP_MASKED_EQ && x->args[0].mask == 0xffffffff &&
            x->args[0].value == 0x5412)
            tiocsti++;
    }
    assert_int_equal(tiocsti, 1);
    /* The built-in list is there: read is allowed. */
    assert_non_null(find_rule(p, "read", LS_SECCOMP_ALLOW, 0));
    /* ... and so is the floor, each rule once (the ioctl deny above is one of them). */
    assert_floor_once(p);

    struct ls_seccomp_spec spec;
    ls_policy_seccomp_spec(p, &spec);
    assert_int_equal(spec.default_errno, EACCES);
    assert_int_equal(spec.n_rules, p->seccomp.n_rules);
    assert_ptr_equal(spec.rules, p->seccomp.rules);

    /* The canonical form: sorted keys, base units, everything resolved. */
    char *json = ls_policy_to_json(p);
    assert_non_null(json);
    assert_true(strncmp(json,
                        "{\"clients\":{\"any\":false,\"gids\":[2000,2001],"
                        "\"roles\":[\"dev\",\"qa\"],\"uids\":[1001]},",
                        strlen("{\"clients\":{\"any\":false,\"gids\":[2000,2001],"
                               "\"roles\":[\"dev\",\"qa\"],\"uids\":[1001]},")) == 0);
    assert_non_null(strstr(json, "\"memory\":{\"default\":1073741824,\"max\":4294967296}"));
    assert_non_null(strstr(json, "\"cpus\":{\"default\":500,\"max\":2000}"));
    assert_non_null(strstr(json, "\"cpu_time\":{\"default\":1500,\"max\":90000}"));
    assert_non_null(strstr(json, "{\"dst\":\"/usr\",\"optional\":false,\"src\":\"/usr\"}"));
    assert_non_null(strstr(json, "\"default_errno\":13"));
    assert_non_null(strstr(json, "{\"action\":\"errno\",\"args\":[{\"index\":1,\"mask\":"
                                 "\"0xffffffff\",\"op\":\"masked_eq\",\"value\":\"0x5412\"}],"
                                 "\"errno\":1,\"syscall\":\"ioctl\"}"));
    assert_non_null(strstr(json, "\"network\":\"none\""));
    assert_non_null(strstr(json, "\"version\":3"));
    assert_null(strstr(json, "\"extends\""));

    /* Round trip of the hash: loading again gives the same. */
    unsigned char zero[32] = {0};
    assert_memory_not_equal(p->hash, zero, 32);
    struct ls_policy *q = load_ok("qa");
    assert_memory_equal(p->hash, q->hash, 32);
    char *json2 = ls_policy_to_json(q);
    assert_string_equal(json, json2);
    free(json2);
    free(json);
    ls_policy_free(q);
    ls_policy_free(p);
}

static void test_minimal_defaults(void **state) {
    write_policy("min", "{ \"name\": \"min\", \"version\": 1 }");
    struct ls_policy *p = load_ok("min");
    assert_null(p->description);
    assert_false(p->any_client);
    assert_int_equal(p->n_client_uids + p->n_client_gids + p->n_client_roles, 0);
    assert_false(p->limits.memory.set);
    assert_false(p->ro_binds_set);
    assert_true(p->workspace);
    assert_string_equal(p->network, "none");
    assert_int_equal(p->uid, 0);
    /* No seccomp section: the built-in list, exactly (it holds the floor already, so
     * the floor adds nothing after it) -- never "nothing runs". */
    assert_true(p->seccomp.use_builtin);
    assert_null(p->seccomp.import);
    assert_int_equal(p->seccomp.default_errno, EPERM);
    assert_int_equal(p->seccomp.unknown_errno, ENOSYS);
    /* The built-in list, then the floor's unconditional refusals (openat2, io_uring). */
    assert_int_equal(floor_unconditional_count(), 4);
    assert_int_equal(assert_builtin_prefix(p, NULL) + 4, p->seccomp.n_rules);
    assert_int_equal(assert_floor_tail(p, no_names), 4);
    assert_floor_once(p);
    char *json = ls_policy_to_json(p);
    assert_non_null(strstr(json, "\"memory\":null"));
    assert_non_null(strstr(json, "\"ro_binds\":null"));
    assert_non_null(strstr(json, "\"description\":null"));
    assert_non_null(strstr(json, "{\"action\":\"allow\",\"args\":[],\"syscall\":\"execve\"}"));
    assert_null(strstr(json, "\"base\""));
    free(json);

    /* The default is "builtin": saying so changes nothing, not even the hash. */
    write_file("explicit/min.json",
               "{ \"name\": \"min\", \"version\": 1, \"seccomp\": { \"base\": \"builtin\" } }");
    struct ls_policy *q = load_ok("explicit/min");
    assert_true(q->seccomp.use_builtin);
    assert_memory_equal(p->hash, q->hash, 32);
    ls_policy_free(q);
    ls_policy_free(p);
}

/* ---- diagnostics ------------------------------------------------------------------ */

static void test_all_errors_reported(void **state) {
    write_policy("five", "{\n"
                         "  \"name\": \"five\",\n"
                         "  \"version\": 0,\n"
                         "  \"uid\": 70000,\n"
                         "  \"network\": \"open\",\n"
                         "  \"limits\": {\n"
                         "    \"memory\": { \"default\": \"lots\" },\n"
                         "    \"pidz\": { \"max\": 10 }\n"
                         "  }\n"
                         "}\n");
    struct ls_diags d = {0};
    load_bad("five", &d);
    assert_int_equal(d.n_errors, 5);
    assert_int_equal(d.n, 5);
    /* Sorted by position. */
    expect_diag(&d, 3, 14, "version", "expected an integer >= 1, got 0");
    expect_diag(&d, 4, 10, "uid", "expected an integer 0..65533, got 70000");
    expect_diag(&d, 5, 14, "network", "expected \"none\" (the only network mode), got \"open\"");
    expect_diag(&d, 7, 28, "limits.memory.default", "expected a size like \"512M\"");
    expect_diag(&d, 7, 28, "limits.memory.default", "got \"lots\"");
    expect_diag(&d, 8, 5, "limits.pidz",
                "expected one of the keys cpu_time, cpus, file_size, memory, open_files, "
                "output, pids, tmp_size, wall_time, got \"pidz\"");
    assert_int_equal(d.v[0].line, 3);
    assert_int_equal(d.v[4].line, 8);

    char *s = ls_diag_format(&d.v[3]);
    char want[PATH_MAX * 2];
    snprintf(want, sizeof(want), "%s/five.json:7:28: limits.memory.default: expected a size", dir);
    assert_true(strncmp(s, want, strlen(want)) == 0);
    free(s);
    ls_diags_free(&d);
}

static void test_unknown_keys(void **state) {
    write_policy("unk",
                 "{\n"
                 "  \"name\": \"unk\",\n"
                 "  \"version\": 1,\n"
                 "  \"memroy\": 1,\n"
                 "  \"seccomp\": {\n"
                 "    \"rules\": [ { \"syscalls\": [\"read\"], \"action\": \"allow\", "
                 "\"arg\": [] } ]\n"
                 "  },\n"
                 "  \"filesystem\": { \"ro_binds\": [ { \"src\": \"/usr\", \"ro\": true } ] }\n"
                 "}\n");
    struct ls_diags d = {0};
    load_bad("unk", &d);
    assert_int_equal(d.n_errors, 3);
    expect_diag(&d, 4, 3, "memroy",
                "expected one of the keys clients, comment, description, environment, extends, "
                "filesystem, limits, name, network, seccomp, uid, version, got \"memroy\"");
    /* `    "rules": [ { "syscalls": ["read"], "action": "allow", "arg": [] } ]` */
    expect_diag(&d, 6, 59, "seccomp.rules[0].arg",
                "expected one of the keys action, args, comment, errno, syscalls, got \"arg\"");
    expect_diag(&d, 8, 50, "filesystem.ro_binds[0].ro",
                "expected one of the keys dst, optional, src, got \"ro\"");
    ls_diags_free(&d);
}

static void test_duplicate_keys(void **state) {
    write_policy("dup", "{\n"
                        "  \"name\": \"dup\",\n"
                        "  \"version\": 1,\n"
                        "  \"uid\": 1,\n"
                        "  \"environment\": { \"set\": { \"A\": \"1\", \"A\": \"2\" } },\n"
                        "  \"uid\": 2\n"
                        "}\n");
    struct ls_diags d = {0};
    load_bad("dup", &d);
    assert_int_equal(d.n_errors, 2);
    expect_diag(&d, 6, 3, "uid",
                "expected each key once, got \"uid\" again (first at line 4, column 3)");
    expect_diag(&d, 5, 39, "environment.set.A",
                "expected each key once, got \"A\" again (first at line 5, column 29)");
    ls_diags_free(&d);
}

static void test_syntax_error(void **state) {
    write_policy("syn", "{\n"
                        "  \"name\": \"syn\",\n"
                        "  \"version\": 1\n"
                        "  \"uid\": 0\n"
                        "}\n");
    struct ls_diags d = {0};
    load_bad("syn", &d);
    assert_int_equal(d.n, 1);
    /* jansson's position: the last character of the offending token "uid". */
    expect_diag(&d, 4, 7, "", "invalid JSON: '}' expected near '\"uid\"'");
    ls_diags_free(&d);

    write_policy("arr", "[1, 2]");
    load_bad("arr", &d);
    expect_diag(&d, 1, 1, "", "expected a JSON object (a policy), got an array");
    ls_diags_free(&d);

    write_policy("empty", "");
    load_bad("empty", &d);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].path, "");
    ls_diags_free(&d);
}

static void test_name_and_version(void **state) {
    struct ls_diags d = {0};

    write_policy("right", "{\n  \"name\": \"wrong\",\n  \"version\": \"1\"\n}\n");
    load_bad("right", &d);
    assert_int_equal(d.n_errors, 2);
    expect_diag(&d, 2, 11, "name",
                "expected the file's name without .json (\"right\"), got "
                "\"wrong\"");
    expect_diag(&d, 3, 14, "version", "expected an integer >= 1, got \"1\"");
    ls_diags_free(&d);

    write_policy("Upper", "{ \"name\": \"Upper\", \"version\": 1 }");
    load_bad("Upper", &d);
    expect_diag(&d, 1, 11, "name", "expected a policy name matching [a-z0-9][a-z0-9._-]*");
    ls_diags_free(&d);

    write_policy("none", "{\n  \"description\": \"no name, no version\"\n}\n");
    load_bad("none", &d);
    assert_int_equal(d.n_errors, 2);
    expect_diag(&d, 1, 1, "name", "expected a policy name (\"name\" is required), got nothing");
    expect_diag(&d, 1, 1, "version", "got nothing");
    ls_diags_free(&d);
}

/* Write policy "t" with one line of extra keys at line 2, in which '@' marks where the
 * one expected diagnostic points (the marker itself is not written); load it and check
 * that diagnostic.  Returns the column of the marker. */
static int load_marked_bad(const char *marked, const char *path, const char *needle,
                           size_t n_errors) {
    char extra[2048], text[4096];
    struct ls_diags d = {0};
    const char *at = strchr(marked, '@');
    assert_non_null(at);
    int col = (int)(at - marked) + 1;
    snprintf(extra, sizeof(extra), "%.*s%s", (int)(at - marked), marked, at + 1);
    snprintf(text, sizeof(text), "{\n%s,\n  \"name\": \"t\", \"version\": 1\n}\n", extra);
    write_policy("t", text);
    load_bad("t", &d);
    if (d.n_errors != n_errors) {
        dump(&d);
        fail_msg("%s: %zu errors", extra, d.n_errors);
    }
    expect_diag(&d, 2, col, path, needle);
    ls_diags_free(&d);
    return col;
}

static void load_one_bad(const char *marked, const char *path, const char *needle) {
    load_marked_bad(marked, path, needle, 1);
}

static struct ls_policy *load_one_ok(const char *extra) {
    char text[4096];
    snprintf(text, sizeof(text), "{\n%s,\n  \"name\": \"t\", \"version\": 1\n}\n", extra);
    write_policy("t", text);
    return load_ok("t");
}

static void test_sizes_durations_cpus(void **state) {
    static const struct {
        const char *json; /* '@' marks the expected position */
        const char *path;
        const char *needle;
    } bad[] = {
        {"  \"limits\": { \"memory\": { \"max\": @\"lots\" } }", "limits.memory.max",
         "expected a size like \"512M\" (units K, M, G, T) or a number of bytes, above 0, got "
         "\"lots\""},
        {"  \"limits\": { \"memory\": { \"max\": @0 } }", "limits.memory.max", "got 0"},
        {"  \"limits\": { \"memory\": { \"max\": @-5 } }", "limits.memory.max", "got -5"},
        {"  \"limits\": { \"memory\": { \"max\": @\"1.5G\" } }", "limits.memory.max",
         "got \"1.5G\""},
        {"  \"limits\": { \"memory\": { \"max\": @\"16777216T\" } }", "limits.memory.max",
         "got \"16777216T\""},
        {"  \"limits\": { \"output\": { \"max\": @1.5 } }", "limits.output.max", "got 1.5"},
        {"  \"limits\": { \"wall_time\": { \"max\": @\"10x\" } }", "limits.wall_time.max",
         "expected a duration like \"30s\", \"10m\", \"2h\" or \"1.5s\" or a number of seconds, "
         "above 0, got \"10x\""},
        {"  \"limits\": { \"wall_time\": { \"max\": @\"30\" } }", "limits.wall_time.max",
         "got \"30\""},
        {"  \"limits\": { \"wall_time\": { \"max\": @\"1.0001s\" } }", "limits.wall_time.max",
         "got \"1.0001s\""},
        {"  \"limits\": { \"wall_time\": { \"max\": @1.5 } }", "limits.wall_time.max", "got 1.5"},
        {"  \"limits\": { \"wall_time\": { \"max\": @\"0s\" } }", "limits.wall_time.max",
         "got \"0s\""},
        {"  \"limits\": { \"cpu_time\": { \"max\": @\".5s\" } }", "limits.cpu_time.max",
         "got \".5s\""},
        {"  \"limits\": { \"cpus\": { \"max\": @0 } }", "limits.cpus.max",
         "expected a number of CPUs like 0.5 or 2 (above 0, at most 1024, at most three "
         "decimals), got 0"},
        {"  \"limits\": { \"cpus\": { \"max\": @1025 } }", "limits.cpus.max", "got 1025"},
        {"  \"limits\": { \"cpus\": { \"max\": @0.0005 } }", "limits.cpus.max", "got 0.0005"},
        {"  \"limits\": { \"cpus\": { \"max\": @\"2\" } }", "limits.cpus.max", "got \"2\""},
        {"  \"limits\": { \"pids\": { \"max\": @0 } }", "limits.pids.max",
         "expected an integer 1..4194304, got 0"},
        {"  \"limits\": { \"open_files\": { \"max\": @2000000 } }", "limits.open_files.max",
         "expected an integer 1..1048576, got 2000000"},
        {"  \"limits\": { \"pids\": @{ } }", "limits.pids",
         "expected \"default\" or \"max\" (or both), got an empty object"},
        {"  \"limits\": { \"pids\": @5 }", "limits.pids",
         "expected an object { \"default\": ..., \"max\": ... }, got 5"},
        {"  \"limits\": { \"pids\": { \"max\": 5, @\"min\": 1 } }", "limits.pids.min",
         "expected one of the keys default, max, got \"min\""},
    };
    for (size_t i = 0; i < ELEMENTSOF(bad); i++)
        load_one_bad(bad[i].json, bad[i].path, bad[i].needle);

    static const struct {
        const char *json;
        size_t offset;
        uint64_t want;
    } good[] = {
        {"  \"limits\": { \"memory\": { \"max\": \"512M\" } }",
         offsetof(struct ls_policy_limits, memory), 512ull << 20},
        {"  \"limits\": { \"memory\": { \"max\": \"64KiB\" } }",
         offsetof(struct ls_policy_limits, memory), 64ull << 10},
        {"  \"limits\": { \"memory\": { \"max\": 12345 } }",
         offsetof(struct ls_policy_limits, memory), 12345},
        {"  \"limits\": { \"memory\": { \"max\": \"2T\" } }",
         offsetof(struct ls_policy_limits, memory), 2ull << 40},
        {"  \"limits\": { \"wall_time\": { \"max\": \"30s\" } }",
         offsetof(struct ls_policy_limits, wall_time), 30000},
        {"  \"limits\": { \"wall_time\": { \"max\": \"2h\" } }",
         offsetof(struct ls_policy_limits, wall_time), 7200000},
        {"  \"limits\": { \"wall_time\": { \"max\": \"1.5m\" } }",
         offsetof(struct ls_policy_limits, wall_time), 90000},
        {"  \"limits\": { \"wall_time\": { \"max\": \"0.001s\" } }",
         offsetof(struct ls_policy_limits, wall_time), 1},
        {"  \"limits\": { \"wall_time\": { \"max\": \"250ms\" } }",
         offsetof(struct ls_policy_limits, wall_time), 250},
        {"  \"limits\": { \"wall_time\": { \"max\": 45 } }",
         offsetof(struct ls_policy_limits, wall_time), 45000},
        {"  \"limits\": { \"cpus\": { \"max\": 0.001 } }", offsetof(struct ls_policy_limits, cpus),
         1},
        {"  \"limits\": { \"cpus\": { \"max\": 1024 } }", offsetof(struct ls_policy_limits, cpus),
         1024000},
        {"  \"limits\": { \"cpus\": { \"max\": 1.1 } }", offsetof(struct ls_policy_limits, cpus),
         1100},
    };
    for (size_t i = 0; i < ELEMENTSOF(good); i++) {
        struct ls_policy *p = load_one_ok(good[i].json);
        const struct ls_limit *l =
            (const struct ls_limit *)((const char *)&p->limits + good[i].offset);
        assert_true(l->set);
        assert_int_equal(l->max, good[i].want);
        assert_int_equal(l->def, good[i].want);
        assert_true(p->seccomp.use_builtin); /* no seccomp section: the built-in base */
        ls_policy_free(p);
    }
}

static void test_default_above_max(void **state) {
    load_one_bad("  \"limits\": { \"memory\": { \"default\": @\"8G\", \"max\": \"4G\" } }",
                 "limits.memory.default", "expected at most the max (\"4G\"), got \"8G\"");
    load_one_bad("  \"limits\": { \"cpus\": { \"default\": @2, \"max\": 1.5 } }",
                 "limits.cpus.default", "expected at most the max (1.5), got 2");
}

static void test_other_fields(void **state) {
    static const struct {
        const char *json; /* '@' marks the expected position */
        const char *path;
        const char *needle;
    } bad[] = {
        {"  \"description\": @5", "description", "expected a string, got 5"},
        {"  \"comment\": @[\"a\", 1]", "comment",
         "expected a string or an array of strings, got an array"},
        {"  \"extends\": @\"../etc/passwd\"", "extends",
         "expected the name of a policy in the same directory, got \"../etc/passwd\""},
        {"  \"clients\": { \"uids\": [1, @\"x\"] }", "clients.uids[1]",
         "expected an integer 0..4294967294, got \"x\""},
        {"  \"clients\": { \"gids\": [@-1] }", "clients.gids[0]", "got -1"},
        {"  \"clients\": { \"roles\": [@\"q a\"] }", "clients.roles[0]",
         "expected a role name matching [A-Za-z0-9][A-Za-z0-9._-]*"},
        {"  \"clients\": { \"any\": @\"yes\" }", "clients.any",
         "expected true or false, got \"yes\""},
        {"  \"clients\": @[1]", "clients", "expected an object with uids, gids, roles or any"},
        {"  \"network\": @{ \"mode\": \"egress\", \"allow\": [\"pypi.org\"] }", "network",
         "expected \"none\", got an object: egress allow-lists ({ \"mode\": \"egress\", \"allow\": "
         "[...] }) are not supported yet"},
        {"  \"uid\": @-1", "uid", "expected an integer 0..65533, got -1"},
        {"  \"uid\": @65534", "uid", "got 65534"},
        {"  \"environment\": { \"allow\": [@\"1BAD\"] }", "environment.allow[0]",
         "expected a variable name matching [A-Za-z_][A-Za-z0-9_]*, got \"1BAD\""},
        {"  \"environment\": { \"set\": { @\"A-B\": \"x\" } }", "environment.set.A-B",
         "expected a variable name matching [A-Za-z_][A-Za-z0-9_]*, got \"A-B\""},
        {"  \"environment\": { \"set\": { \"A\": @1 } }", "environment.set.A",
         "expected a string value, got 1"},
        {"  \"environment\": { \"set\": { @\"A.B\": \"x\" } }", "environment.set[\"A.B\"]",
         "got \"A.B\""},
        {"  \"filesystem\": { \"workspace\": @1 }", "filesystem.workspace",
         "expected true or false, got 1"},
        {"  \"filesystem\": { \"ro_binds\": [@\"usr\"] }", "filesystem.ro_binds[0]",
         "expected an absolute path, got \"usr\""},
        {"  \"filesystem\": { \"ro_binds\": [@\"/\"] }", "filesystem.ro_binds[0]",
         "expected a path other than /, got \"/\""},
        {"  \"filesystem\": { \"ro_binds\": [@\"/usr/../etc\"] }", "filesystem.ro_binds[0]",
         "expected a path without empty, \".\" or \"..\" components, got \"/usr/../etc\""},
        {"  \"filesystem\": { \"ro_binds\": [@\"/usr//lib\"] }", "filesystem.ro_binds[0]",
         "components"},
        {"  \"filesystem\": { \"ro_binds\": [@\"/usr/\"] }", "filesystem.ro_binds[0]",
         "components"},
        {"  \"filesystem\": { \"ro_binds\": [@\"/proc\"] }", "filesystem.ro_binds[0]",
         "expected a path outside /proc, /dev, /work and /tmp, got \"/proc\""},
        {"  \"filesystem\": { \"ro_binds\": [@\"/dev/kvm\"] }", "filesystem.ro_binds[0]",
         "outside /proc"},
        {"  \"filesystem\": { \"ro_binds\": [{ \"src\": \"/usr\", \"dst\": @\"/work/x\" }] }",
         "filesystem.ro_binds[0].dst", "outside /proc"},
        {"  \"filesystem\": { \"ro_binds\": [{ \"src\": @\"/tmp\" }] }",
         "filesystem.ro_binds[0].src", "outside /proc"},
        {"  \"filesystem\": { \"ro_binds\": [@{ \"dst\": \"/x\" }] }", "filesystem.ro_binds[0].src",
         "expected a host path (\"src\" is required), got nothing"},
        {"  \"filesystem\": { \"ro_binds\": [\"/usr\", @{ \"src\": \"/opt/usr\", \"dst\": \"/usr\" "
         "}] "
         "}",
         "filesystem.ro_binds[1]",
         "expected a destination that no other bind uses, got \"/usr\" again"},
        {"  \"filesystem\": { \"ro_binds\": [\"/workspace\"], @\"optional\": true }",
         "filesystem.optional", "expected one of the keys ro_binds, workspace"},
    };
    for (size_t i = 0; i < ELEMENTSOF(bad); i++)
        load_one_bad(bad[i].json, bad[i].path, bad[i].needle);

    /* "/workspace" is not under /work; /usr/lib32 is fine. */
    struct ls_policy *p =
        load_one_ok("  \"filesystem\": { \"ro_binds\": [\"/workspace\", \"/usr/lib32\"] }");
    assert_int_equal(p->n_ro_binds, 2);
    assert_true(p->seccomp.use_builtin); /* no seccomp section: the built-in base */
    ls_policy_free(p);
    /* A comment is checked, not kept: the hash is that of the same policy without it. */
    p = load_one_ok("  \"comment\": [\"why\", \"and how\"]");
    struct ls_policy *q = load_one_ok("  \"comment\": \"just a line\"");
    assert_memory_equal(p->hash, q->hash, 32);
    char *json = ls_policy_to_json(p);
    assert_null(strstr(json, "comment"));
    free(json);
    ls_policy_free(q);
    ls_policy_free(p);
    p = load_one_ok("  \"clients\": { \"any\": true, \"uids\": [4294967294, 3, 3] }");
    assert_true(p->any_client);
    assert_int_equal(p->n_client_uids, 2);
    assert_int_equal(p->client_uids[0], 3);
    ls_policy_free(p);
}

static void test_seccomp_fields(void **state) {
#define RULE_READ "  \"seccomp\": { \"rules\": [ { \"syscalls\": [\"read\"], "
    static const struct {
        const char *json; /* '@' marks the expected position */
        const char *path;
        const char *needle;
    } bad[] = {
        {"  \"seccomp\": { \"base\": @\"docker\" }", "seccomp.base",
         "expected \"builtin\" or \"none\", got \"docker\""},
        {"  \"seccomp\": { \"default_errno\": @\"EFOO\" }", "seccomp.default_errno",
         "expected an errno name like \"EPERM\" or a number 1..4095, got \"EFOO\""},
        {"  \"seccomp\": { \"unknown_errno\": @4096 }", "seccomp.unknown_errno", "got 4096"},
        {"  \"seccomp\": { \"unknown_errno\": @0 }", "seccomp.unknown_errno", "got 0"},
        {"  \"seccomp\": { \"allow\": [@\"reed\"] }", "seccomp.allow[0]",
         "expected a syscall name libseccomp"},
        {"  \"seccomp\": { \"allow\": @\"read\" }", "seccomp.allow",
         "expected an array of syscall names, got \"read\""},
        {"  \"seccomp\": { \"import\": @\"/etc/docker.json\" }", "seccomp.import",
         "expected a path relative to the policy's directory, without \"..\", got "
         "\"/etc/docker.json\""},
        {"  \"seccomp\": { \"import\": @\"../x.json\" }", "seccomp.import", "without \"..\""},
        {"  \"seccomp\": { \"rules\": [ @{ \"action\": \"allow\" } ] }",
         "seccomp.rules[0].syscalls", "expected a non-empty array of syscall names, got nothing"},
        {"  \"seccomp\": { \"rules\": [ { \"syscalls\": @[], \"action\": \"allow\" } ] }",
         "seccomp.rules[0].syscalls", "got an array"},
        {"  \"seccomp\": { \"rules\": [ @{ \"syscalls\": [\"read\"] } ] }",
         "seccomp.rules[0].action", "expected \"allow\", \"errno\" or \"kill\", got nothing"},
        {RULE_READ "\"action\": \"allow\", \"comment\": @{} } ] }", "seccomp.rules[0].comment",
         "expected a string or an array of strings, got an object"},
        {RULE_READ "\"action\": @\"deny\" } ] }", "seccomp.rules[0].action",
         "expected \"allow\", \"errno\" or \"kill\", got \"deny\""},
        {RULE_READ "\"action\": \"kill\", \"errno\": @1 } ] }", "seccomp.rules[0].errno",
         "expected no errno with action \"kill\", got 1"},
        {RULE_READ "\"action\": \"errno\", \"errno\": @\"EPRM\" } ] }", "seccomp.rules[0].errno",
         "got \"EPRM\""},
        {RULE_READ "\"action\": \"allow\", \"args\": [ { \"index\": @6, \"op\": \"eq\", "
                   "\"value\": 1 } ] } ] }",
         "seccomp.rules[0].args[0].index", "expected an integer 0..5, got 6"},
        {RULE_READ "\"action\": \"allow\", \"args\": [ { \"index\": 0, \"op\": @\"like\", "
                   "\"value\": 1 } ] } ] }",
         "seccomp.rules[0].args[0].op",
         "expected one of eq, ne, lt, le, gt, ge, masked_eq, got \"like\""},
        {RULE_READ "\"action\": \"allow\", \"args\": [ { \"index\": 0, \"op\": \"eq\", "
                   "\"value\": @\"12\" } ] } ] }",
         "seccomp.rules[0].args[0].value",
         "expected an integer >= 0 or a string \"0x...\" (at most 16 hex digits), got \"12\""},
        {RULE_READ "\"action\": \"allow\", \"args\": [ { \"index\": 0, \"op\": \"eq\", "
                   "\"value\": @\"0x10000000000000000\" } ] } ] }",
         "seccomp.rules[0].args[0].value", "got \"0x10000000000000000\""},
        {RULE_READ "\"action\": \"allow\", \"args\": [ { \"index\": 0, \"op\": \"eq\", "
                   "\"value\": @-1 } ] } ] }",
         "seccomp.rules[0].args[0].value", "got -1"},
        {RULE_READ "\"action\": \"allow\", \"args\": [ @{ \"index\": 0, \"op\": \"masked_eq\", "
                   "\"value\": 1 } ] } ] }",
         "seccomp.rules[0].args[0].mask",
         "expected a mask (masked_eq compares arg & mask with value), got nothing"},
        {RULE_READ "\"action\": \"allow\", \"args\": [ { \"index\": 0, \"op\": \"eq\", "
                   "\"value\": 1, \"mask\": @1 } ] } ] }",
         "seccomp.rules[0].args[0].mask",
         "expected no mask for op \"eq\" (only masked_eq takes one), got 1"},
        {RULE_READ "\"action\": \"allow\", \"args\": [ { \"index\": 0, \"op\": \"masked_eq\", "
                   "\"value\": @3, \"mask\": 1 } ] } ] }",
         "seccomp.rules[0].args[0].value",
         "expected a value within the mask 0x1 (else it never matches), got 3"},
        {RULE_READ "\"action\": \"allow\", \"args\": [ { \"index\": 0, \"op\": \"gt\", "
                   "\"value\": 1 }, { \"index\": @0, \"op\": \"lt\", \"value\": 9 } ] } ] }",
         "seccomp.rules[0].args[1].index",
         "expected an argument no other condition of this rule compares"},
    };
    for (size_t i = 0; i < ELEMENTSOF(bad); i++)
        load_one_bad(bad[i].json, bad[i].path, bad[i].needle);
    /* Seven empty conditions: one error for the count plus three (index, op, value) for
     * each of the six that are checked. */
    load_marked_bad(RULE_READ "\"action\": \"allow\", \"args\": @[ {}, {}, {}, {}, {}, {}, {} ] "
                              "} ] }",
                    "seccomp.rules[0].args", "expected at most 6 conditions, got 7", 1 + 6 * 3);
#undef RULE_READ

    /* Errno names and numbers; hex values; masks. */
    struct ls_policy *p = load_one_ok(
        "  \"seccomp\": { \"default_errno\": \"ENOSYS\", \"unknown_errno\": 95, \"rules\": [ "
        "{ \"syscalls\": [\"socket\", \"socketpair\"], \"action\": \"errno\", \"errno\": "
        "\"EPROTONOSUPPORT\", \"args\": [ { \"index\": 2, \"op\": \"ne\", \"value\": "
        "\"0xFFFFFFFFFFFFFFFF\" }, { \"index\": 1, \"op\": \"masked_eq\", \"mask\": \"0xf\", "
        "\"value\": 3 } ] }, { \"syscalls\": [\"getpid\"], \"action\": \"errno\" }, "
        "{ \"syscalls\": [\"exit_group\", \"write\"], \"action\": \"allow\", \"comment\": \"why\" "
        "} ] }");
    assert_int_equal(p->seccomp.default_errno, ENOSYS);
    assert_int_equal(p->seccomp.unknown_errno, 95);
    /* No base: the built-in list comes first, without the rules for getpid, exit_group
     * and write (the own unconditional rules replace them) but with those for socket
     * and socketpair (the own argument denies add to them); then the own five rules.
     * The floor is in the built-in list already, so nothing follows them. */
    assert_true(p->seccomp.use_builtin);
    static const char *const replaced[] = {"getpid", "exit_group", "write", NULL};
    size_t own = assert_builtin_prefix(p, replaced);
    assert_int_equal(p->seccomp.n_rules, own + 5 + floor_unconditional_count());
    assert_floor_once(p);
    const struct ls_seccomp_rule *r = &p->seccomp.rules[own];
    assert_string_equal(r->syscall, "socket");
    assert_string_equal(p->seccomp.rules[own + 1].syscall, "socketpair");
    struct ls_seccomp_rule same = *r; /* one rule per syscall, each the whole rule */
    same.syscall = "socketpair";
    assert_true(rule_same(&p->seccomp.rules[own + 1], &same));
    assert_int_equal(r->action, LS_SECCOMP_ERRNO);
    assert_int_equal(r->errno_ret, EPROTONOSUPPORT);
    assert_int_equal(r->n_args, 2);
    assert_int_equal(r->args[0].index, 2);
    assert_int_equal(r->args[0].op, LS_SECCOMP_NE);
    assert_true(r->args[0].value == UINT64_MAX);
    assert_int_equal(r->args[1].op, LS_SECCOMP_MASKED_EQ);
    assert_int_equal(r->args[1].mask, 0xf);
    assert_int_equal(r->args[1].value, 3);
    assert_string_equal(p->seccomp.rules[own + 2].syscall, "getpid");
    assert_int_equal(p->seccomp.rules[own + 2].action, LS_SECCOMP_ERRNO);
    assert_int_equal(p->seccomp.rules[own + 2].errno_ret, EPERM); /* the default errno of a rule */
    assert_int_equal(p->seccomp.rules[own + 2].n_args, 0);
    assert_string_equal(p->seccomp.rules[own + 3].syscall, "exit_group");
    assert_int_equal(p->seccomp.rules[own + 3].action, LS_SECCOMP_ALLOW);
    assert_string_equal(p->seccomp.rules[own + 4].syscall, "write");
    assert_int_equal(p->seccomp.rules[own + 4].action, LS_SECCOMP_ALLOW);
    assert_int_equal(count_rules(p, "getpid"), 1);
    char *json = ls_policy_to_json(p);
    assert_non_null(strstr(json, "\"value\":\"0xffffffffffffffff\""));
    free(json);
    ls_policy_free(p);
}

static void test_unknown_syscalls(void **state) {
    static const char text[] = "{\n"
                               "  \"name\": \"unknown\", \"version\": 1,\n"
                               "  \"seccomp\": { \"allow\": [\"read\", \"no_such_call\", "
                               "\"chown32\"] }\n"
                               "}\n";
    struct ls_diags d = {0};
    struct ls_policy *p;

    write_policy("unknown", text);
    load_bad("unknown", &d);
    assert_int_equal(d.n_errors, 1);
    expect_diag(&d, 3, 34, "seccomp.allow[1]", "knows, got \"no_such_call\"");
    ls_diags_free(&d);

    struct ls_policy_load_opts opts = {.allow_unknown_syscalls = true};
    assert_int_equal(load_opts("unknown", &opts, &p, &d), 0);
    assert_int_equal(d.n_errors, 0);
    assert_int_equal(d.n, 1);
    assert_true(d.v[0].warning);
    expect_diag(&d, 3, 34, "seccomp.allow[1]", "dropped");
    char *s = ls_diag_format(&d.v[0]);
    assert_non_null(strstr(s, ":3:34: warning: seccomp.allow[1]: expected a syscall name"));
    free(s);
    /* chown32 is known to libseccomp (not an x86_64 call): kept, the compiler skips it.
     * No base: the built-in list without read (the own allow replaces it), then the own
     * two rules; no_such_call is nowhere. */
    assert_true(p->seccomp.use_builtin);
    size_t own = assert_builtin_prefix(p, (const char *const[]){"read", NULL});
    assert_int_equal(p->seccomp.n_rules, own + 2 + floor_unconditional_count());
    assert_string_equal(p->seccomp.rules[own].syscall, "read");
    assert_string_equal(p->seccomp.rules[own + 1].syscall, "chown32");
    assert_int_equal(p->seccomp.rules[own + 1].action, LS_SECCOMP_ALLOW);
    assert_int_equal(count_rules(p, "read"), 1);
    assert_int_equal(count_rules(p, "chown32"), 1);
    assert_int_equal(count_rules(p, "no_such_call"), 0);
    assert_floor_once(p);
    ls_policy_free(p);
    ls_diags_free(&d);
}

/* ---- inheritance -------------------------------------------------------------------- */

static const char gp_policy[] =
    "{\n"
    "  \"name\": \"gp\",\n"
    "  \"version\": 1,\n"
    "  \"description\": \"grandparent\",\n"
    "  \"clients\": { \"uids\": [1001, 1000], \"roles\": [\"qa\"] },\n"
    "  \"limits\": {\n"
    "    \"memory\": { \"default\": \"1G\", \"max\": \"4G\" },\n"
    "    \"cpus\": { \"default\": 1, \"max\": 2 },\n"
    "    \"pids\": { \"max\": 100 }\n"
    "  },\n"
    "  \"filesystem\": { \"ro_binds\": [\"/usr\", \"/bin\"], \"workspace\": false },\n"
    "  \"environment\": { \"allow\": [\"CI\", \"LANG\"], \"set\": { \"LANG\": \"C\", \"TZ\": "
    "\"UTC\" } },\n"
    "  \"uid\": 1000,\n"
    "  \"seccomp\": {\n"
    "    \"base\": \"builtin\",\n"
    "    \"default_errno\": \"EACCES\",\n"
    "    \"rules\": [\n"
    "      { \"syscalls\": [\"getpgid\"], \"action\": \"allow\" },\n"
    "      { \"syscalls\": [\"getsid\"], \"action\": \"errno\", \"errno\": \"ENOSYS\" }\n"
    "    ]\n"
    "  }\n"
    "}\n";

static const char p_policy[] =
    "{\n"
    "  \"name\": \"p\", \"version\": 2, \"extends\": \"gp\",\n"
    "  \"clients\": { \"gids\": [2000] },\n"
    "  \"limits\": { \"memory\": { \"max\": \"8G\" } },\n"
    "  \"environment\": { \"allow\": [\"PYTHONHASHSEED\"], \"set\": { \"LANG\": \"C.UTF-8\" } },\n"
    "  \"seccomp\": { \"allow\": [\"ptrace\"],\n"
    "               \"rules\": [ { \"syscalls\": [\"getsid\"], \"action\": \"allow\" } ] }\n"
    "}\n";

static const char c_policy[] =
    "{\n"
    "  \"name\": \"c\", \"version\": 3, \"extends\": \"p\",\n"
    "  \"description\": \"child\",\n"
    "  \"limits\": { \"wall_time\": { \"default\": \"10m\", \"max\": \"1h\" } },\n"
    "  \"filesystem\": { \"workspace\": true },\n"
    "  \"seccomp\": { \"rules\": [\n"
    "    { \"syscalls\": [\"getpgid\"], \"action\": \"errno\", \"errno\": \"EXDEV\",\n"
    "      \"args\": [ { \"index\": 0, \"op\": \"eq\", \"value\": 4242 } ] },\n"
    "    { \"syscalls\": [\"ptrace\"], \"action\": \"kill\" } ] }\n"
    "}\n";

static void test_extends_chain(void **state) {
    write_policy("gp", gp_policy);
    write_policy("p", p_policy);
    write_policy("c", c_policy);
    struct ls_policy *p = load_ok("c");

    assert_string_equal(p->name, "c");
    assert_int_equal(p->version, 3);
    assert_string_equal(p->extends, "p");
    assert_string_equal(p->description, "child");
    assert_true(strstr(p->file, "/c.json") != NULL);

    /* clients: replaced as a whole by p's. */
    assert_int_equal(p->n_client_uids, 0);
    assert_int_equal(p->n_client_roles, 0);
    assert_int_equal(p->n_client_gids, 1);
    assert_int_equal(p->client_gids[0], 2000);

    /* limits: per limit. */
    assert_int_equal(p->limits.memory.def, 8ull << 30); /* p's lone max */
    assert_int_equal(p->limits.memory.max, 8ull << 30);
    assert_int_equal(p->limits.cpus.def, 1000);
    assert_int_equal(p->limits.cpus.max, 2000);
    assert_int_equal(p->limits.pids.max, 100);
    assert_int_equal(p->limits.wall_time.def, 600000);
    assert_false(p->limits.output.set);

    /* filesystem: binds inherited, the workspace scalar replaced. */
    assert_int_equal(p->n_ro_binds, 2);
    assert_string_equal(p->ro_binds[1].src, "/bin");
    assert_true(p->workspace);

    /* environment: merged, the child winning on a name. */
    assert_int_equal(p->n_env_allow, 3);
    assert_string_equal(p->env_allow[0], "CI");
    assert_string_equal(p->env_allow[1], "LANG");
    assert_string_equal(p->env_allow[2], "PYTHONHASHSEED");
    assert_int_equal(p->n_env_set, 2);
    assert_string_equal(p->env_set[0].name, "LANG");
    assert_string_equal(p->env_set[0].value, "C.UTF-8");
    assert_string_equal(p->env_set[1].name, "TZ");
    assert_string_equal(p->env_set[1].value, "UTC");
    assert_int_equal(p->uid, 1000);

    /* seccomp: base and default_errno inherited; rules per syscall. */
    assert_true(p->seccomp.use_builtin);
    assert_int_equal(p->seccomp.default_errno, EACCES);
    assert_int_equal(count_rules(p, "getpgid"), 2); /* gp's allow + c's argument deny */
    assert_non_null(find_rule(p, "getpgid", LS_SECCOMP_ALLOW, 0));
    const struct ls_seccomp_rule *deny = find_rule(p, "getpgid", LS_SECCOMP_ERRNO, 1);
    assert_non_null(deny);
    assert_int_equal(deny->errno_ret, EXDEV);
    assert_int_equal(count_rules(p, "getsid"), 1); /* p's allow replaced gp's errno */
    assert_non_null(find_rule(p, "getsid", LS_SECCOMP_ALLOW, 0));
    assert_int_equal(count_rules(p, "ptrace"), 1); /* built-in refusal -> p allow -> c kill */
    assert_non_null(find_rule(p, "ptrace", LS_SECCOMP_KILL, 0));
    assert_floor_once(p);
    ls_policy_free(p);

    /* The middle policy alone. */
    p = load_ok("p");
    assert_string_equal(p->description, "grandparent"); /* inherited scalar */
    assert_int_equal(p->limits.memory.max, 8ull << 30);
    assert_false(p->workspace);
    assert_non_null(find_rule(p, "ptrace", LS_SECCOMP_ALLOW, 0));
    assert_int_equal(count_rules(p, "ptrace"), 1);
    ls_policy_free(p);
}

static void test_child_deny_beats_parent_allow(void **state) {
    write_policy("gp", gp_policy);
    write_policy("p", p_policy);
    write_policy("c", c_policy);
    struct ls_policy *p = load_ok("c");
    struct ls_seccomp_spec spec;
    struct ls_seccomp_program *prog = NULL;
    struct ls_error err = {0};

    ls_policy_seccomp_spec(p, &spec);
    if (ls_seccomp_build(&spec, &prog, &err) < 0)
        fail_msg("build: %s", err.msg);
    /* gp allows getpgid unconditionally (filter A); c's deny for 4242 is in filter B
     * and wins. */
    struct probe_outcome o = seccomp_probe_call(prog, CALL(SYS_getpgid, 4242));
    assert_int_equal(o.signal, 0);
    assert_int_equal(o.ret, -1);
    assert_int_equal(o.err, EXDEV);
    o = seccomp_probe_call(prog, CALL(SYS_getpgid, 0));
    assert_int_equal(o.signal, 0);
    assert_int_equal(o.ret, getpgid(0));
    /* getsid: p's allow replaced gp's ENOSYS. */
    o = seccomp_probe_call(prog, CALL(SYS_getsid, 0));
    assert_int_equal(o.ret, getsid(0));
    /* Something only the built-in base refuses, under gp's default_errno... */
    o = seccomp_probe_call(prog, CALL(SYS_unshare, 0));
    assert_int_equal(o.ret, -1);
    assert_int_equal(o.err, EPERM); /* the built-in refusal is ERRNO(EPERM) */
    /* ... and ptrace: c's kill. */
    o = seccomp_probe_call(prog, CALL(SYS_ptrace, 0));
    assert_int_equal(o.signal, SIGSYS);
    ls_seccomp_program_free(prog);
    ls_policy_free(p);
}

static void test_extends_errors(void **state) {
    struct ls_diags d = {0};

    /* A -> A */
    write_policy("self", "{\n  \"name\": \"self\", \"version\": 1,\n  \"extends\": \"self\"\n}\n");
    load_bad("self", &d);
    assert_int_equal(d.n_errors, 1);
    expect_diag(&d, 3, 14, "extends",
                "expected a policy outside the extends chain, got a cycle: self -> self");
    ls_diags_free(&d);

    /* A -> B -> A */
    write_policy("a", "{\n  \"name\": \"a\", \"version\": 1,\n  \"extends\": \"b\"\n}\n");
    write_policy("b", "{\n  \"name\": \"b\", \"version\": 1, \"extends\": \"a\"\n}\n");
    load_bad("a", &d);
    assert_int_equal(d.n_errors, 2);
    assert_non_null(strstr(d.v[0].file, "/b.json"));
    expect_diag(&d, 2, 41, "extends", "got a cycle: a -> b -> a");
    assert_non_null(strstr(d.v[1].file, "/a.json"));
    expect_diag(&d, 3, 14, "extends", "expected a valid parent policy, got \"b\"");
    ls_diags_free(&d);

    /* Missing parent. */
    write_policy("orphan",
                 "{\n  \"name\": \"orphan\", \"version\": 1, \"extends\": \"nobody\"\n}\n");
    load_bad("orphan", &d);
    assert_int_equal(d.n_errors, 1);
    expect_diag(&d, 2, 46, "extends", "expected an existing policy, got \"nobody\"");
    expect_diag(&d, 2, 46, "extends",
                "/nobody.json: No such file or directory); chain: orphan "
                "-> nobody");
    ls_diags_free(&d);

    /* A parent with its own errors: reported in its file, and the child says so. */
    write_policy("badparent", "{\n  \"name\": \"badparent\", \"version\": 1, \"uid\": \"x\"\n}\n");
    write_policy("kid", "{ \"name\": \"kid\", \"version\": 1, \"extends\": \"badparent\", "
                        "\"uid\": -3 }");
    load_bad("kid", &d);
    assert_int_equal(d.n_errors, 3);
    expect_diag(&d, 1, 63, "uid", "got -3");
    expect_diag(&d, 2, 45, "uid", "got \"x\"");
    expect_diag(&d, 1, 43, "extends", "which has errors");
    ls_diags_free(&d);
}

static void test_extends_depth(void **state) {
    /* d0 -> d1 -> ... -> d16: 17 policies. */
    for (int i = 0; i <= 16; i++) {
        char name[16], text[256];
        snprintf(name, sizeof(name), "d%d", i);
        if (i < 16)
            snprintf(text, sizeof(text),
                     "{ \"name\": \"d%d\", \"version\": 1, \"extends\": \"d%d\", "
                     "\"limits\": { \"pids\": { \"max\": %d } } }",
                     i, i + 1, 100 + i);
        else
            snprintf(text, sizeof(text), "{ \"name\": \"d16\", \"version\": 1, \"uid\": 7 }");
        write_policy(name, text);
    }
    struct ls_policy *p = load_ok("d1"); /* 16 policies: the limit */
    assert_int_equal(p->limits.pids.max, 101);
    assert_int_equal(p->uid, 7);
    assert_true(p->seccomp.use_builtin); /* nobody says otherwise: the built-in base */
    ls_policy_free(p);

    struct ls_diags d = {0};
    load_bad("d0", &d);
    bool found = false;
    for (size_t i = 0; i < d.n; i++)
        if (strstr(d.v[i].msg, "expected at most 16 policies in an extends chain, got more: "
                               "d0 -> d1 -> d2 -> d3 -> d4 -> d5 -> d6 -> d7 -> d8 -> d9 -> d10 "
                               "-> d11 -> d12 -> d13 -> d14 -> d15 -> d16"))
            found = true;
    if (!found)
        dump(&d);
    assert_true(found);
    ls_diags_free(&d);
}

static void test_base_builtin(void **state) {
    write_policy("bb",
                 "{ \"name\": \"bb\", \"version\": 1, \"seccomp\": { \"base\": \"builtin\" } }");
    struct ls_policy *p = load_ok("bb");
    const struct ls_seccomp_spec *def = ls_seccomp_default_spec();
    assert_true(p->seccomp.use_builtin);
    /* The built-in list, exactly; the floor's argument denies are part of it, and only its
     * unconditional refusals move to the end. */
    assert_int_equal(assert_builtin_prefix(p, NULL) + floor_unconditional_count(),
                     p->seccomp.n_rules);
    assert_int_equal(assert_floor_tail(p, no_names), floor_unconditional_count());
    assert_true(p->seccomp.n_rules <= def->n_rules);
    assert_floor_once(p);
    assert_non_null(find_rule(p, "ptrace", LS_SECCOMP_ERRNO, 0)); /* the refusals stay */
    assert_non_null(find_rule(p, "socket", LS_SECCOMP_ERRNO, 1)); /* argument denies too */
    assert_non_null(find_rule(p, "openat", LS_SECCOMP_ALLOW, 0));
    ls_policy_free(p);

    /* A child can switch the base off: only the rules of the chain remain (bb has none
     * of its own, so the child's), then the whole floor, in order. */
    write_policy("nobase", "{ \"name\": \"nobase\", \"version\": 1, \"extends\": \"bb\", "
                           "\"seccomp\": { \"base\": \"none\", "
                           "\"allow\": [\"read\", \"execve\", \"write\", \"exit_group\"] } }");
    p = load_ok("nobase");
    assert_false(p->seccomp.use_builtin);
    size_t n_floor = assert_floor_tail(p, NULL);
    assert_int_equal(p->seccomp.n_rules, 4 + n_floor);
    static const char *const own[] = {"read", "execve", "write", "exit_group"};
    for (size_t i = 0; i < ELEMENTSOF(own); i++) {
        assert_string_equal(p->seccomp.rules[i].syscall, own[i]);
        assert_int_equal(p->seccomp.rules[i].action, LS_SECCOMP_ALLOW);
        assert_int_equal(p->seccomp.rules[i].n_args, 0);
    }
    assert_null(find_rule(p, "openat", LS_SECCOMP_ALLOW, 0)); /* the built-in list is gone */
    ls_policy_free(p);

    /* "base" is a scalar like any other: a grandchild that says nothing keeps "none". */
    write_policy("nobasekid", "{ \"name\": \"nobasekid\", \"version\": 1, "
                              "\"extends\": \"nobase\" }");
    p = load_ok("nobasekid");
    assert_false(p->seccomp.use_builtin);
    assert_int_equal(p->seccomp.n_rules, 4 + n_floor);
    assert_floor_tail(p, NULL);
    ls_policy_free(p);
}

/* A program that refuses execve, write or exit_group could not start a command (nor
 * report that it could not): the loader evaluates the compiled program and refuses the
 * policy with one error at "seccomp", without a position, in the file it was asked to
 * load, for each of them (in that order). */
static void expect_essential_refused(const char *name, const char *const *missing) {
    char file[PATH_MAX * 2], msg[256];
    struct ls_diags d = {0};
    size_t n = 0;

    while (missing[n])
        n++;
    load_bad(name, &d);
    if (d.n != n || d.n_errors != n) {
        dump(&d);
        fail_msg("%s: expected exactly %zu diagnostics, got %zu", name, n, d.n);
    }
    snprintf(file, sizeof(file), "%s/%s.json", dir, name);
    for (size_t i = 0; i < n; i++) {
        const struct ls_diag *g = &d.v[i];
        snprintf(msg, sizeof(msg),
                 "expected rules that allow %s, got a program that refuses it: no command "
                 "could start",
                 missing[i]);
        assert_false(g->warning);
        assert_string_equal(g->file, file);
        assert_int_equal(g->line, 0);
        assert_int_equal(g->col, 0);
        assert_string_equal(g->path, "seccomp");
        assert_string_equal(g->msg, msg);
    }
    ls_diags_free(&d);
}

static void test_essential_syscalls(void **state) {
    static const char *const essential[] = {"execve", "write", "exit_group"};
    char name[32], text[512];

    /* "base": "none" without one of them: exactly that error. */
    for (size_t i = 0; i < ELEMENTSOF(essential); i++) {
        const char *others[2];
        for (size_t j = 0, k = 0; j < ELEMENTSOF(essential); j++)
            if (j != i)
                others[k++] = essential[j];
        snprintf(name, sizeof(name), "no-%s", essential[i]);
        for (char *c = name; *c; c++)
            if (*c == '_')
                *c = '-';
        snprintf(text, sizeof(text),
                 "{ \"name\": \"%s\", \"version\": 1, \"seccomp\": { \"base\": \"none\", "
                 "\"allow\": [\"read\", \"%s\", \"%s\"] } }",
                 name, others[0], others[1]);
        write_policy(name, text);
        expect_essential_refused(name, (const char *const[]){essential[i], NULL});
    }
    /* Without any of them: three errors. */
    write_policy("bare", "{ \"name\": \"bare\", \"version\": 1, \"seccomp\": { \"base\": \"none\", "
                         "\"allow\": [\"read\"] } }");
    expect_essential_refused("bare", (const char *const[]){"execve", "write", "exit_group", NULL});
    /* With all three the same policy loads. */
    write_policy("enough", "{ \"name\": \"enough\", \"version\": 1, \"seccomp\": { \"base\": "
                           "\"none\", \"allow\": [\"read\", \"execve\", \"write\", "
                           "\"exit_group\"] } }");
    ls_policy_free(load_ok("enough"));

    /* Refused by a rule rather than left out: on top of the built-in list too. */
    write_policy("killexit", "{ \"name\": \"killexit\", \"version\": 1, \"seccomp\": { \"rules\": "
                             "[ { \"syscalls\": [\"exit_group\"], \"action\": \"kill\" } ] } }");
    expect_essential_refused("killexit", (const char *const[]){"exit_group", NULL});
    write_policy("noexec", "{ \"name\": \"noexec\", \"version\": 1, \"seccomp\": { \"rules\": "
                           "[ { \"syscalls\": [\"execve\"], \"action\": \"errno\", \"errno\": "
                           "\"EACCES\" } ] } }");
    expect_essential_refused("noexec", (const char *const[]){"execve", NULL});

    /* Only the effective policy is checked: a child switching the base off reports it in
     * its own file, and a parent without them is fine once its child adds them. */
    write_policy("essp", "{ \"name\": \"essp\", \"version\": 1 }");
    write_policy("essc",
                 "{ \"name\": \"essc\", \"version\": 1, \"extends\": \"essp\", "
                 "\"seccomp\": { \"base\": \"none\", \"allow\": [\"execve\", \"write\"] } }");
    expect_essential_refused("essc", (const char *const[]){"exit_group", NULL});
    write_policy("essgc", "{ \"name\": \"essgc\", \"version\": 1, \"extends\": \"essc\", "
                          "\"seccomp\": { \"allow\": [\"exit_group\"] } }");
    struct ls_policy *p = load_ok("essgc");
    assert_false(p->seccomp.use_builtin);
    assert_int_equal(count_rules(p, "exit_group"), 1);
    ls_policy_free(p);
}

/* The floor comes after every layer.  A child that replaces all rules for ioctl, chmod,
 * socket, openat and fchmod -- and so drops the built-in copies of the floor's rules for
 * them -- gets the floor's rules for them back at the end, and its program refuses what
 * the floor refuses, even where the child allows it. */
static void test_floor_stays(void **state) {
    write_policy("fp", "{ \"name\": \"fp\", \"version\": 1 }");
    write_policy("fkid",
                 "{\n"
                 "  \"name\": \"fkid\", \"version\": 1, \"extends\": \"fp\",\n"
                 "  \"seccomp\": {\n"
                 "    \"default_errno\": \"EACCES\",\n"
                 "    \"allow\": [\"ioctl\", \"chmod\", \"socket\"],\n"
                 "    \"rules\": [\n"
                 "      { \"syscalls\": [\"openat\"], \"action\": \"allow\" },\n"
                 "      { \"syscalls\": [\"fchmod\"], \"action\": \"allow\",\n"
                 "        \"args\": [ { \"index\": 1, \"op\": \"masked_eq\", \"mask\": \"0x800\", "
                 "\"value\": \"0x800\" } ] }\n"
                 "    ]\n"
                 "  }\n"
                 "}\n");
    static const char *const replaced[] = {"ioctl", "chmod", "socket", "openat", "fchmod", NULL};
    const uint64_t at_fdcwd = (uint64_t)(int64_t)AT_FDCWD, path = 0x1000;
    struct ls_policy *p = load_ok("fkid");

    assert_true(p->seccomp.use_builtin);
    size_t own = assert_builtin_prefix(p, replaced);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(p->seccomp.rules[own + i].syscall, replaced[i]);
        assert_int_equal(p->seccomp.rules[own + i].action, LS_SECCOMP_ALLOW);
    }
    /* socket 1, ioctl 2, chmod 2, fchmod 2, openat 4, then openat2 and io_uring x3: in
     * the floor's order. */
    assert_int_equal(assert_floor_tail(p, replaced), 15);
    assert_int_equal(p->seccomp.n_rules, own + 5 + 15);
    assert_floor_once(p);

    assert_refused(p, EPERM, SYS_ioctl, 0, TIOCSTI, 0, 0);
    assert_refused(p, EPERM, SYS_ioctl, 0, (1ull << 32) | TIOCSTI, 0, 0); /* low 32 bits */
    assert_refused(p, EPERM, SYS_ioctl, 0, TIOCLINUX, 0, 0);
    assert_allowed(p, SYS_ioctl, 0, FIONREAD, 0, 0);
    assert_refused(p, EPERM, SYS_chmod, path, S_ISUID | 0755, 0, 0);
    assert_refused(p, EPERM, SYS_chmod, path, S_ISGID | 0755, 0, 0);
    assert_allowed(p, SYS_chmod, path, 0755, 0, 0);
    assert_refused(p, EAFNOSUPPORT, SYS_socket, (1ull << 32) | AF_INET, SOCK_STREAM, 0, 0);
    assert_allowed(p, SYS_socket, AF_INET, SOCK_STREAM, 0, 0);
    assert_allowed(p, SYS_socket, AF_PACKET, SOCK_RAW, 0, 0); /* the child's choice */
    assert_refused(p, EPERM, SYS_openat, at_fdcwd, path, O_CREAT | O_WRONLY, S_ISUID | 0644);
    assert_refused(p, EPERM, SYS_openat, at_fdcwd, path, O_TMPFILE | O_RDWR, S_ISGID | 0600);
    assert_allowed(p, SYS_openat, at_fdcwd, path, O_CREAT | O_WRONLY, 0644);
    assert_allowed(p, SYS_openat, at_fdcwd, path, O_RDONLY, S_ISUID | 0755); /* no mode */
    /* The floor's deny beats the child's conditional allow; other modes are not allowed
     * at all (the child's default_errno). */
    assert_refused(p, EPERM, SYS_fchmod, 3, S_ISUID | 0755, 0, 0);
    assert_refused(p, EACCES, SYS_fchmod, 3, 0755, 0, 0);

    /* The same in the kernel: fchmod of a real file, and a family with high bits (which
     * the kernel alone would read as AF_INET). */
    char file[PATH_MAX * 2];
    struct ls_seccomp_spec spec;
    struct ls_seccomp_program *prog = NULL;
    struct ls_error err = {0};
    struct stat st;
    snprintf(file, sizeof(file), "%s/setid", dir);
    int fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    ls_policy_seccomp_spec(p, &spec);
    if (ls_seccomp_build(&spec, &prog, &err) < 0)
        fail_msg("build: %s", err.msg);
    struct probe_outcome o = seccomp_probe_call(prog, CALL(SYS_fchmod, fd, S_ISUID | 0755));
    assert_int_equal(o.signal, 0);
    assert_int_equal(o.ret, -1);
    assert_int_equal(o.err, EPERM);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    o = seccomp_probe_call(prog, CALL(SYS_fchmod, fd, 0700));
    assert_int_equal(o.ret, -1);
    assert_int_equal(o.err, EACCES);
    o = seccomp_probe_call(prog, CALL(SYS_socket, (long)((1ull << 32) | AF_INET), SOCK_STREAM));
    assert_int_equal(o.signal, 0);
    assert_int_equal(o.ret, -1);
    assert_int_equal(o.err, EAFNOSUPPORT);
    ls_seccomp_program_free(prog);
    close(fd);
    ls_policy_free(p);

    /* Switching the base off does not switch the floor off: all of it, at the end. */
    write_policy("fbare", "{ \"name\": \"fbare\", \"version\": 1, \"extends\": \"fkid\", "
                          "\"seccomp\": { \"base\": \"none\", "
                          "\"allow\": [\"execve\", \"write\", \"exit_group\", \"ioctl\"] } }");
    p = load_ok("fbare");
    assert_false(p->seccomp.use_builtin);
    size_t n_floor = assert_floor_tail(p, NULL);
    /* fkid's chmod, socket, openat, fchmod; fbare's four; the floor. */
    assert_int_equal(p->seccomp.n_rules, 4 + 4 + n_floor);
    assert_string_equal(p->seccomp.rules[0].syscall, "chmod");
    assert_string_equal(p->seccomp.rules[7].syscall, "ioctl");
    assert_refused(p, EPERM, SYS_ioctl, 0, TIOCSTI, 0, 0);
    assert_allowed(p, SYS_ioctl, 0, FIONREAD, 0, 0);
    assert_refused(p, EPERM, SYS_chmod, path, S_ISUID | 0755, 0, 0);
    assert_refused(p, EACCES, SYS_read, 0, 0, 0, 0); /* no built-in list any more */
    ls_policy_free(p);
}

static void test_compile_conflict(void **state) {
    write_policy("conflict", "{\n"
                             "  \"name\": \"conflict\", \"version\": 1,\n"
                             "  \"seccomp\": {\n"
                             "    \"allow\": [\"getpid\"],\n"
                             "    \"rules\": [\n"
                             "      { \"syscalls\": [\"getpid\"], \"action\": \"kill\" }\n"
                             "    ]\n"
                             "  }\n"
                             "}\n");
    struct ls_diags d = {0};
    load_bad("conflict", &d);
    assert_int_equal(d.n_errors, 1);
    expect_diag(&d, 6, 22, "seccomp.rules[0].syscalls[0]",
                "expected rules for \"getpid\" that agree, got kill here and allow at ");
    expect_diag(&d, 6, 22, "seccomp.rules[0].syscalls[0]", "conflict.json:4:15 (seccomp.allow[0])");
    ls_diags_free(&d);
}

/* ---- seccomp import ------------------------------------------------------------------ */

static const char docker_profile[] =
    "{\n"
    "  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n"
    "  \"defaultErrnoRet\": 38,\n"
    "  \"syscalls\": [\n"
    "    { \"names\": [\"read\", \"write\", \"exit_group\", \"keyctl\", \"socket\"],\n"
    "      \"action\": \"SCMP_ACT_ALLOW\" },\n"
    "    { \"names\": [\"getpgid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13 }\n"
    "  ]\n"
    "}\n";

static void test_import(void **state) {
    write_file("vendor/docker.json", docker_profile);
    write_policy("imp",
                 "{\n"
                 "  \"name\": \"imp\", \"version\": 1,\n"
                 "  \"seccomp\": {\n"
                 "    \"import\": \"vendor/docker.json\",\n"
                 "    \"rules\": [\n"
                 "      { \"syscalls\": [\"keyctl\"], \"action\": \"errno\" },\n"
                 "      { \"syscalls\": [\"socket\"], \"action\": \"errno\", \"errno\": 97,\n"
                 "        \"args\": [ { \"index\": 0, \"op\": \"gt\", \"value\": 16 } ] }\n"
                 "    ]\n"
                 "  }\n"
                 "}\n");
    struct ls_policy *p = load_ok("imp");
    assert_string_equal(p->seccomp.import, "vendor/docker.json");
    assert_int_equal(p->seccomp.default_errno, ENOSYS); /* the profile's defaultErrnoRet */
    /* No base: the import goes on top of the built-in list. */
    assert_true(p->seccomp.use_builtin);
    assert_non_null(find_rule(p, "execve", LS_SECCOMP_ALLOW, 0)); /* only the built-in list */
    assert_non_null(find_rule(p, "read", LS_SECCOMP_ALLOW, 0));
    /* Own rules over the import: keyctl replaced, socket's argument deny added. */
    assert_int_equal(count_rules(p, "keyctl"), 1);
    assert_non_null(find_rule(p, "keyctl", LS_SECCOMP_ERRNO, 0));
    /* socket: the import's allow replaced the built-in rules (the family allow-list and
     * the floor's copy), the own deny for families above 16 adds to it, and the floor's
     * deny of high bits comes back after everything, as the last rule. */
    assert_int_equal(count_rules(p, "socket"), 3);
    assert_non_null(find_rule(p, "socket", LS_SECCOMP_ALLOW, 0));
    assert_int_equal(assert_floor_tail(p, (const char *const[]){"socket", NULL}), 5);
    assert_floor_once(p);
    const struct ls_seccomp_rule *r = find_rule(p, "getpgid", LS_SECCOMP_ERRNO, 0);
    assert_non_null(r);
    assert_int_equal(r->errno_ret, EACCES);
    assert_int_equal(count_rules(p, "getpgid"), 1); /* the import's errno replaced the allow */
    ls_policy_free(p);

    /* The import alone, without the built-in list: exactly the profile's rules overlaid by
     * the own ones (keyctl replaced, the socket deny and execve added), then the floor. */
    write_policy(
        "impbare",
        "{\n"
        "  \"name\": \"impbare\", \"version\": 1,\n"
        "  \"seccomp\": {\n"
        "    \"base\": \"none\", \"import\": \"vendor/docker.json\", \"allow\": [\"execve\"],\n"
        "    \"rules\": [\n"
        "      { \"syscalls\": [\"keyctl\"], \"action\": \"errno\" },\n"
        "      { \"syscalls\": [\"socket\"], \"action\": \"errno\", \"errno\": 97,\n"
        "        \"args\": [ { \"index\": 0, \"op\": \"gt\", \"value\": 16 } ] }\n"
        "    ]\n"
        "  }\n"
        "}\n");
    p = load_ok("impbare");
    assert_false(p->seccomp.use_builtin);
    static const struct {
        const char *syscall;
        enum ls_seccomp_action action;
        int errno_ret;
        unsigned n_args;
    } bare[] = {
        {"read", LS_SECCOMP_ALLOW, 0, 0},       {"write", LS_SECCOMP_ALLOW, 0, 0},
        {"exit_group", LS_SECCOMP_ALLOW, 0, 0}, {"socket", LS_SECCOMP_ALLOW, 0, 0},
        {"getpgid", LS_SECCOMP_ERRNO, 13, 0},   {"execve", LS_SECCOMP_ALLOW, 0, 0},
        {"keyctl", LS_SECCOMP_ERRNO, 1, 0},     {"socket", LS_SECCOMP_ERRNO, 97, 1},
    };
    size_t n_floor = assert_floor_tail(p, NULL);
    assert_int_equal(p->seccomp.n_rules, ELEMENTSOF(bare) + n_floor);
    for (size_t i = 0; i < ELEMENTSOF(bare); i++) {
        r = &p->seccomp.rules[i];
        assert_string_equal(r->syscall, bare[i].syscall);
        assert_int_equal(r->action, bare[i].action);
        if (r->action == LS_SECCOMP_ERRNO)
            assert_int_equal(r->errno_ret, bare[i].errno_ret);
        assert_int_equal(r->n_args, bare[i].n_args);
    }
    ls_policy_free(p);

    /* A child of it: the import is resolved beside the parent, not inherited as a key. */
    write_policy("impkid", "{ \"name\": \"impkid\", \"version\": 1, \"extends\": \"imp\", "
                           "\"seccomp\": { \"default_errno\": \"EPERM\" } }");
    p = load_ok("impkid");
    assert_null(p->seccomp.import);
    assert_int_equal(p->seccomp.default_errno, EPERM);
    assert_non_null(find_rule(p, "keyctl", LS_SECCOMP_ERRNO, 0));
    ls_policy_free(p);

    /* A profile with a problem: its own diagnostic, and one at the import. */
    write_file("vendor/bad.json", "{ \"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": 5 }");
    write_policy("impbad", "{\n"
                           "  \"name\": \"impbad\", \"version\": 1,\n"
                           "  \"seccomp\": { \"import\": \"vendor/bad.json\" }\n"
                           "}\n");
    struct ls_diags d = {0};
    load_bad("impbad", &d);
    expect_diag(&d, 3, 26, "seccomp.import",
                "expected a Docker/OCI seccomp profile that loads, got \"vendor/bad.json\"");
    bool in_profile = false;
    for (size_t i = 0; i < d.n; i++)
        if (strstr(d.v[i].file, "vendor/bad.json") && strcmp(d.v[i].path, "syscalls") == 0)
            in_profile = true;
    if (!in_profile)
        dump(&d);
    assert_true(in_profile);
    ls_diags_free(&d);

    /* A missing profile. */
    write_policy("impnone", "{ \"name\": \"impnone\", \"version\": 1, \"seccomp\": "
                            "{ \"import\": \"vendor/none.json\" } }");
    load_bad("impnone", &d);
    bool found = false;
    for (size_t i = 0; i < d.n; i++)
        if (strstr(d.v[i].msg, "vendor/none.json: No such file or directory)"))
            found = true;
    if (!found)
        dump(&d);
    assert_true(found);
    ls_diags_free(&d);
}

/* ---- canonical form ------------------------------------------------------------------- */

/* Same policy, different files: "one" compact with the defaults left out, "two" spread
 * over lines, keys in another order, repeats, comments, explicit defaults ("base":
 * "builtin", errno numbers, dst, workspace), other spellings of the same values.  They
 * must give the same canonical form and hash; any change of meaning must not. */
#define SAME_ONE                                                                               \
    "{\"name\":\"same\",\"version\":1,\"limits\":{\"memory\":{\"default\":\"1G\","             \
    "\"max\":\"1G\"},\"wall_time\":{\"max\":\"1m\"}},\"seccomp\":{\"allow\":"                  \
    "[\"read\",\"write\"],\"default_errno\":\"EPERM\",\"rules\":[{\"syscalls\":[\"getpgid\"]," \
    "\"action\":\"errno\",\"errno\":\"EXDEV\",\"args\":[{\"index\":0,\"op\":\"eq\","           \
    "\"value\":4242}]}]},\"clients\":{\"uids\":[2,1]},\"environment\":{\"allow\":[\"B\","      \
    "\"A\"],\"set\":{\"Y\":\"1\",\"X\":\"2\"}},\"filesystem\":{\"ro_binds\":[\"/usr\"]}}"

/* SAME_ONE with the text from "from" on replaced by "to" (one occurrence). */
static void write_variant(const char *rel, const char *from, const char *to) {
    static const char one[] = SAME_ONE;
    char text[2048];
    const char *at = strstr(one, from);
    assert_non_null(at);
    snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - one), one, to, at + strlen(from));
    write_file(rel, text);
}

static void test_canonical_hash_stable(void **state) {
    write_file("one/same.json", SAME_ONE);
    write_file(
        "two/same.json",
        "{\n"
        "  \"version\": 1,\n"
        "  \"comment\": \"formatting only\",\n"
        "  \"environment\": { \"set\": { \"X\": \"2\", \"Y\": \"1\" },\n"
        "                   \"allow\": [\"A\", \"B\", \"A\"] },\n"
        "  \"clients\": { \"uids\": [1, 2, 1], \"any\": false },\n"
        "  \"filesystem\": { \"ro_binds\": [ { \"src\": \"/usr\", \"dst\": \"/usr\" } ],\n"
        "                  \"workspace\": true },\n"
        "  \"seccomp\": { \"base\": \"builtin\", \"default_errno\": 1,\n"
        "    \"rules\": [ { \"syscalls\": [\"read\", \"write\"], \"action\": \"allow\" },\n"
        "               { \"syscalls\": [\"getpgid\"], \"action\": \"errno\", \"errno\": 18,\n"
        "                 \"comment\": \"4242 is 0x1092\",\n"
        "                 \"args\": [ { \"value\": \"0x1092\", \"op\": \"eq\", \"index\": 0 } ] } "
        "]\n"
        "  },\n"
        "  \"limits\": { \"wall_time\": { \"default\": 60, \"max\": \"60s\" },\n"
        "              \"memory\": { \"default\": 1073741824 } },\n"
        "  \"name\": \"same\"\n"
        "}\n");
    /* A changed limit; a changed rule (its value, its errno); no built-in list. */
    write_variant("three/same.json", "\"default\":\"1G\"", "\"default\":\"512M\"");
    write_variant("four/same.json", "\"value\":4242", "\"value\":4243");
    write_variant("five/same.json", "\"EXDEV\"", "\"EPERM\"");
    write_variant("six/same.json", "\"allow\":[\"read\",\"write\"]",
                  "\"base\":\"none\",\"allow\":[\"read\",\"write\",\"execve\",\"exit_group\"]");

    struct ls_policy *a = load_ok("one/same");
    struct ls_policy *b = load_ok("two/same");
    char *ja = ls_policy_to_json(a), *jb = ls_policy_to_json(b);
    assert_string_equal(ja, jb);
    assert_memory_equal(a->hash, b->hash, 32);
    /* The floor is part of the canonical form (so of the hash). */
    assert_non_null(strstr(ja, "{\"action\":\"errno\",\"args\":[{\"index\":0,\"op\":\"gt\","
                               "\"value\":\"0xffffffff\"}],\"errno\":97,\"syscall\":\"socket\"}"));
    assert_non_null(strstr(ja, "{\"action\":\"errno\",\"args\":[{\"index\":1,\"mask\":\"0x800\","
                               "\"op\":\"masked_eq\",\"value\":\"0x800\"}],\"errno\":1,"
                               "\"syscall\":\"chmod\"}"));
    assert_non_null(strstr(ja, "\"value\":\"0x1092\"}],\"errno\":18,\"syscall\":\"getpgid\"}"));
    free(ja);
    free(jb);

    static const char *const changed[] = {"three/same", "four/same", "five/same", "six/same"};
    for (size_t i = 0; i < ELEMENTSOF(changed); i++) {
        struct ls_policy *c = load_ok(changed[i]);
        if (memcmp(a->hash, c->hash, 32) == 0)
            fail_msg("%s has the hash of one/same", changed[i]);
        ls_policy_free(c);
    }
    ls_policy_free(a);
    ls_policy_free(b);
}

/* ---- buffers, files, options ------------------------------------------------------------ */

static void test_load_buffer(void **state) {
    static const char child[] = "{ \"name\": \"kid\", \"version\": 2, \"extends\": \"base\" }";
    struct ls_policy_load_opts opts = {.search_dir = dir};
    struct ls_diags d = {0};
    struct ls_policy *p = NULL;

    write_policy("base", "{ \"name\": \"base\", \"version\": 1, \"uid\": 5 }");
    assert_int_equal(ls_policy_load_buffer("kid.json", child, strlen(child), &opts, &p, &d), 0);
    assert_int_equal(p->uid, 5);
    assert_string_equal(p->file, "kid.json");
    assert_true(p->seccomp.use_builtin); /* nobody says otherwise: the built-in base */
    ls_policy_free(p);
    assert_int_equal(d.n, 0);

    /* Without a search_dir, extends cannot be resolved. */
    p = NULL;
    assert_int_equal(ls_policy_load_buffer("kid.json", child, strlen(child), NULL, &p, &d),
                     -EINVAL);
    assert_null(p);
    expect_diag(&d, 1, 43, "extends", "expected a search_dir to find \"base\" in");
    ls_diags_free(&d);

    /* Embedded NUL and garbage are syntax errors, never crashes. */
    static const char nul[] = "{ \"name\": \"kid\"\0, \"version\": 1 }";
    assert_int_equal(ls_policy_load_buffer("kid.json", nul, sizeof(nul) - 1, &opts, &p, &d),
                     -EINVAL);
    assert_true(d.n_errors >= 1);
    ls_diags_free(&d);
    assert_int_equal(ls_policy_load_buffer("kid.json", NULL, 0, &opts, &p, NULL), -EINVAL);
}

static void test_missing_file(void **state) {
    struct ls_diags d = {0};
    struct ls_policy *p = NULL;
    assert_int_equal(load_opts("absent", NULL, &p, &d), -ENOENT);
    assert_null(p);
    assert_int_equal(d.n_errors, 1);
    assert_int_equal(d.v[0].line, 0);
    char *s = ls_diag_format(&d.v[0]);
    assert_non_null(strstr(s, "absent.json: cannot read the policy: No such file or directory"));
    free(s);
    ls_diags_free(&d);
}

/* ---- clients ------------------------------------------------------------------------ */

static void test_allows_client(void **state) {
    write_policy("cl", "{ \"name\": \"cl\", \"version\": 1, \"clients\": { \"uids\": [1001], "
                       "\"gids\": [2000], \"roles\": [\"qa\"] } }");
    write_policy("rootonly", "{ \"name\": \"rootonly\", \"version\": 1 }");
    write_policy("anyone",
                 "{ \"name\": \"anyone\", \"version\": 1, \"clients\": { \"any\": true } }");
    struct ls_policy *p = load_ok("cl"), *r = load_ok("rootonly"), *a = load_ok("anyone");
    const gid_t groups[] = {10, 2000};
    assert_true(r->seccomp.use_builtin); /* a minimal policy: the built-in base */

    struct ls_identity root = {.is_root = true};
    assert_true(ls_policy_allows_client(p, &root));
    assert_true(ls_policy_allows_client(r, &root));

    struct ls_identity id = {.uid = 1001, .gid = 100};
    assert_true(ls_policy_allows_client(p, &id));
    assert_false(ls_policy_allows_client(r, &id));
    assert_true(ls_policy_allows_client(a, &id));

    id = (struct ls_identity){.uid = 5, .gid = 2000};
    assert_true(ls_policy_allows_client(p, &id));
    id = (struct ls_identity){.uid = 5, .gid = 5, .groups = groups, .n_groups = 2};
    assert_true(ls_policy_allows_client(p, &id));
    id = (struct ls_identity){.uid = 5, .gid = 5, .groups = groups, .n_groups = 1};
    assert_false(ls_policy_allows_client(p, &id));
    id = (struct ls_identity){.uid = 5, .gid = 5, .role = "qa"};
    assert_true(ls_policy_allows_client(p, &id));
    id = (struct ls_identity){.uid = 5, .gid = 5, .role = "dev"};
    assert_false(ls_policy_allows_client(p, &id));
    id = (struct ls_identity){.uid = 0, .gid = 0}; /* uid 0 without is_root: just an id */
    assert_false(ls_policy_allows_client(p, &id));

    ls_policy_free(p);
    ls_policy_free(r);
    ls_policy_free(a);
}

/* ---- the pieces ------------------------------------------------------------------------ */

static void test_jsonpos(void **state) {
    static const char text[] = "{\n"
                               "  \"a\": { \"b\": [1, {\"c\": \"d\"}] },\n"
                               "\t\"\xc3\xa9t\xc3\xa9\": true, \"x.y\": null,\n"
                               "  \"q\\\"\\u00e9\": 1, \"a\": 2\n"
                               "}";
    struct jsonpos *pos = NULL;
    const struct jsonpos_node *n;

    assert_int_equal(jsonpos_scan(text, strlen(text), &pos), 0);
    n = jsonpos_lookup(pos, "");
    assert_int_equal(n->line, 1);
    assert_int_equal(n->col, 1);
    /* The first "a" is repeated at line 4: lookups find the last one, like jansson. */
    n = jsonpos_lookup(pos, "a");
    assert_int_equal(n->line, 4);
    assert_int_equal(n->key_col, 19);
    assert_non_null(n->first);
    assert_int_equal(n->first->key_line, 2);
    assert_null(jsonpos_lookup(pos, "a.b"));
    n = &pos->root.kids[0];
    assert_int_equal(n->col, 8);
    assert_int_equal(jsonpos_element(jsonpos_member(n, "b"), 1)->col, 19);
    /* Columns count characters: the tab is one, "é" is one. */
    n = jsonpos_member(&pos->root, "\xc3\xa9t\xc3\xa9");
    assert_ptr_equal(jsonpos_lookup(pos, "\xc3\xa9t\xc3\xa9"), n); /* lookups are lenient */
    assert_int_equal(n->key_line, 3);
    assert_int_equal(n->key_col, 2);
    assert_int_equal(n->col, 9);
    n = jsonpos_lookup(pos, "[\"x.y\"]");
    assert_non_null(n);
    assert_int_equal(n->col, 22);
    n = jsonpos_lookup(pos, "[\"q\\\"\xc3\xa9\"]");
    assert_non_null(n);
    assert_int_equal(n->line, 4);
    assert_int_equal(n->col, 16);
    jsonpos_free(pos);

    /* Paths. */
    char *s = jsonpos_path_key("", "limits");
    assert_string_equal(s, "limits");
    free(s);
    s = jsonpos_path_key("environment.set", "A\"B");
    assert_string_equal(s, "environment.set[\"A\\\"B\"]");
    free(s);
    s = jsonpos_path_index("seccomp.rules", 3);
    assert_string_equal(s, "seccomp.rules[3]");
    free(s);

    /* Nested lookups through the path syntax. */
    static const char t2[] = "{\"seccomp\": {\"rules\": [{}, {}, {}, {\"args\": [{\"op\": 1}]}]}}";
    assert_int_equal(jsonpos_scan(t2, strlen(t2), &pos), 0);
    n = jsonpos_lookup(pos, "seccomp.rules[3].args[0].op");
    assert_non_null(n);
    assert_int_equal(n->col, 53);
    assert_int_equal(n->key_col, 47);
    assert_null(jsonpos_lookup(pos, "seccomp.rules[4]"));
    assert_null(jsonpos_lookup(pos, "seccomp.rules[x]"));
    jsonpos_free(pos);

    /* Not JSON: refused, no crash. */
    static const char *const bad[] = {
        "", "{", "{\"a\" 1}", "[1,]x", "{\"\\uD800\": 1}", "{\"a\":1}}", "\"abc"};
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        pos = NULL;
        assert_true(jsonpos_scan(bad[i], strlen(bad[i]), &pos) < 0);
        assert_null(pos);
    }
}

static void test_diag_format(void **state) {
    struct ls_diags d = {0};
    ls_diags_add(&d, false, "policies/qa.json", 14, 9, "limits.memory.max",
                 "expected a size like \"%s\", got \"%s\"", "512M", "lots");
    ls_diags_add(&d, true, "x.json", 0, 0, "", "whole file");
    ls_diags_add(&d, false, NULL, 1, 2, NULL, "no file");
    assert_int_equal(d.n, 3);
    assert_int_equal(d.n_errors, 2);
    char *s = ls_diag_format(&d.v[0]);
    assert_string_equal(s, "policies/qa.json:14:9: limits.memory.max: expected a size like "
                           "\"512M\", got \"lots\"");
    free(s);
    s = ls_diag_format(&d.v[1]);
    assert_string_equal(s, "x.json: warning: whole file");
    free(s);
    s = ls_diag_format(&d.v[2]);
    assert_string_equal(s, "<policy>:1:2: no file");
    free(s);
    for (int i = 0; i < 100; i++)
        ls_diags_add(&d, false, "f", i, i, "p", "%d", i);
    assert_int_equal(d.n, 103);
    assert_string_equal(d.v[102].msg, "99");
    ls_diags_free(&d);
    assert_int_equal(d.n, 0);
    ls_diags_free(&d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        TEST(test_full_policy),
        TEST(test_minimal_defaults),
        TEST(test_all_errors_reported),
        TEST(test_unknown_keys),
        TEST(test_duplicate_keys),
        TEST(test_syntax_error),
        TEST(test_name_and_version),
        TEST(test_sizes_durations_cpus),
        TEST(test_default_above_max),
        TEST(test_other_fields),
        TEST(test_seccomp_fields),
        TEST(test_unknown_syscalls),
        TEST(test_extends_chain),
        TEST(test_child_deny_beats_parent_allow),
        TEST(test_extends_errors),
        TEST(test_extends_depth),
        TEST(test_base_builtin),
        TEST(test_essential_syscalls),
        TEST(test_floor_stays),
        TEST(test_compile_conflict),
        TEST(test_import),
        TEST(test_canonical_hash_stable),
        TEST(test_load_buffer),
        TEST(test_missing_file),
        TEST(test_allows_client),
        TEST(test_jsonpos),
        TEST(test_diag_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
