/*
 * Unit tests for supervisor/config.c: the built-in defaults, every key of the JSON
 * config file and how each wrong one is refused (with a message naming the file and
 * the key), merging of several files, config_finish's derived values and whole-config
 * checks, config_role_for and config_parse_mode.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "labstack/error.h"

static char dir[] = "/tmp/test_sup_config.XXXXXX";
static char cfg_path[128];

/* Write text to the scratch config file. */
static void write_cfg(const char *text) {
    FILE *f = fopen(cfg_path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static int load(struct sup_config *c, const char *text, struct ls_error *err) {
    write_cfg(text);
    ls_error_clear(err);
    return config_load_file(c, cfg_path, err);
}

/* Load text into a fresh config: it must be refused with -EINVAL and a message that
 * names the file and contains want. */
static void expect_reject(const char *text, const char *want) {
    struct sup_config c;
    struct ls_error err;
    config_init(&c);
    int r = load(&c, text, &err);
    if (r != -EINVAL || !strstr(err.msg, want) || !strstr(err.msg, cfg_path))
        fprintf(stderr, "config %s\n  -> r=%d msg=\"%s\" (want \"%s\")\n", text, r, err.msg, want);
    assert_int_equal(r, -EINVAL);
    assert_int_equal(err.code, EINVAL);
    assert_string_equal(err.step, "config");
    assert_non_null(strstr(err.msg, want));
    assert_non_null(strstr(err.msg, cfg_path));
    config_free(&c);
}

static void init_defaults(void **state) {
    struct sup_config c;
    memset(&c, 0xa5, sizeof(c));
    config_init(&c);
    assert_null(c.socket_path);
    assert_int_equal(c.socket_mode, 0660);
    assert_null(c.socket_group);
    assert_null(c.tls_listen);
    assert_null(c.tls_cert);
    assert_null(c.tls_key);
    assert_null(c.tls_ca);
    assert_null(c.http);
    assert_null(c.policies_dir);
    assert_null(c.default_policy);
    assert_null(c.audit_url);
    assert_null(c.artifacts_url);
    assert_null(c.state_dir);
    assert_null(c.runner_path);
    assert_null(c.log_level);
    assert_int_equal(c.max_concurrent, 0);
    assert_int_equal(c.queue_max, 256);
    assert_int_equal(c.warm_runners, 2);
    assert_int_equal(c.grace_ms, 30000);
    assert_int_equal(c.max_connections, 1024);
    assert_int_equal(c.request_timeout_ms, 10000);
    assert_int_equal(c.idmap_base, 1000000);
    assert_int_equal(c.idmap_count, 65536);
    assert_null(c.roles);
    assert_int_equal(c.n_roles, 0);
    config_free(&c);
    config_free(&c); /* idempotent */
}

static void every_key_accepted(void **state) {
    struct sup_config c;
    struct ls_error err;
    config_init(&c);
    int r = load(&c,
                 "{\"socket\": \"/run/x/sup.sock\", \"socket_mode\": \"0640\",\n"
                 " \"socket_group\": \"wheel\",\n"
                 " \"tls\": {\"listen\": \"127.0.0.1:7443\", \"cert\": \"/c.pem\",\n"
                 "         \"key\": \"/k.pem\", \"ca\": \"/ca.pem\"},\n"
                 " \"http\": \"127.0.0.1:9464\", \"policies\": \"/srv/pol\",\n"
                 " \"default_policy\": \"strict\", \"audit\": \"file:///srv/a.jsonl\",\n"
                 " \"artifacts\": \"dir:///srv/art\", \"state_dir\": \"/srv/state\",\n"
                 " \"runner\": \"/opt/runner\", \"log_level\": \"debug\",\n"
                 " \"max_concurrent\": 12, \"queue_max\": 77, \"warm_runners\": 5,\n"
                 " \"grace_seconds\": 45, \"max_connections\": 333,\n"
                 " \"request_timeout_seconds\": 7,\n"
                 " \"roles\": {\"qa\": {\"uids\": [1001, 1002], \"gids\": [2000]},\n"
                 "           \"ops\": {\"gids\": [3000, 3001, 0]}, \"empty\": {}},\n"
                 " \"idmap\": {\"base\": 200000, \"count\": 4096}}\n",
                 &err);
    if (r < 0)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(r, 0);
    assert_string_equal(c.socket_path, "/run/x/sup.sock");
    assert_int_equal(c.socket_mode, 0640);
    assert_string_equal(c.socket_group, "wheel");
    assert_string_equal(c.tls_listen, "127.0.0.1:7443");
    assert_string_equal(c.tls_cert, "/c.pem");
    assert_string_equal(c.tls_key, "/k.pem");
    assert_string_equal(c.tls_ca, "/ca.pem");
    assert_string_equal(c.http, "127.0.0.1:9464");
    assert_string_equal(c.policies_dir, "/srv/pol");
    assert_string_equal(c.default_policy, "strict");
    assert_string_equal(c.audit_url, "file:///srv/a.jsonl");
    assert_string_equal(c.artifacts_url, "dir:///srv/art");
    assert_string_equal(c.state_dir, "/srv/state");
    assert_string_equal(c.runner_path, "/opt/runner");
    assert_string_equal(c.log_level, "debug");
    assert_int_equal(c.max_concurrent, 12);
    assert_int_equal(c.queue_max, 77);
    assert_int_equal(c.warm_runners, 5);
    assert_int_equal(c.grace_ms, 45000);
    assert_int_equal(c.max_connections, 333);
    assert_int_equal(c.request_timeout_ms, 7000);
    assert_int_equal(c.idmap_base, 200000);
    assert_int_equal(c.idmap_count, 4096);

    assert_int_equal(c.n_roles, 3);
    assert_string_equal(c.roles[0].role, "qa");
    assert_int_equal(c.roles[0].n_uids, 2);
    assert_int_equal(c.roles[0].uids[0], 1001);
    assert_int_equal(c.roles[0].uids[1], 1002);
    assert_int_equal(c.roles[0].n_gids, 1);
    assert_int_equal(c.roles[0].gids[0], 2000);
    assert_string_equal(c.roles[1].role, "ops");
    assert_int_equal(c.roles[1].n_uids, 0);
    assert_int_equal(c.roles[1].n_gids, 3);
    assert_int_equal(c.roles[1].gids[2], 0);
    assert_string_equal(c.roles[2].role, "empty");
    assert_int_equal(c.roles[2].n_uids, 0);
    assert_int_equal(c.roles[2].n_gids, 0);

    /* config_finish keeps what the file set. */
    assert_int_equal(config_finish(&c, &err), 0);
    assert_string_equal(c.audit_url, "file:///srv/a.jsonl");
    assert_string_equal(c.artifacts_url, "dir:///srv/art");
    assert_int_equal(c.max_concurrent, 12);
    assert_int_equal(c.warm_runners, 5);
    config_free(&c);
}

/* Range edges that must be accepted. */
static void integer_edges_accepted(void **state) {
    struct sup_config c;
    struct ls_error err;
    config_init(&c);
    assert_int_equal(load(&c,
                          "{\"max_concurrent\": 1, \"queue_max\": 0, \"warm_runners\": 0,"
                          " \"grace_seconds\": 0, \"max_connections\": 1,"
                          " \"request_timeout_seconds\": 1,"
                          " \"idmap\": {\"base\": 1, \"count\": 1}}",
                          &err),
                     0);
    assert_int_equal(c.max_concurrent, 1);
    assert_int_equal(c.queue_max, 0);
    assert_int_equal(c.warm_runners, 0);
    assert_int_equal(c.grace_ms, 0);
    assert_int_equal(c.max_connections, 1);
    assert_int_equal(c.request_timeout_ms, 1000);
    assert_int_equal(c.idmap_base, 1);
    assert_int_equal(c.idmap_count, 1);
    assert_int_equal(load(&c,
                          "{\"max_concurrent\": 4096, \"queue_max\": 65536, \"warm_runners\": 256,"
                          " \"grace_seconds\": 86400, \"max_connections\": 1000000,"
                          " \"request_timeout_seconds\": 3600,"
                          " \"idmap\": {\"base\": 4294967294, \"count\": 16777216},"
                          " \"roles\": {\"r\": {\"uids\": [4294967294]}}}",
                          &err),
                     0);
    assert_int_equal(c.max_concurrent, 4096);
    assert_int_equal(c.queue_max, 65536);
    assert_int_equal(c.warm_runners, 256);
    assert_int_equal(c.grace_ms, 86400000u);
    assert_int_equal(c.max_connections, 1000000);
    assert_int_equal(c.request_timeout_ms, 3600000);
    assert_int_equal(c.idmap_base, 4294967294u);
    assert_int_equal(c.idmap_count, 16777216);
    assert_int_equal(c.roles[0].uids[0], 4294967294u);
    /* A name of exactly 64 allowed characters. */
    assert_int_equal(load(&c,
                          "{\"roles\": {\"abcdefghijklmnopqrstuvwxyz0123456789-_"
                          "abcdefghijklmnopqrstuvwxyz\": {}}}",
                          &err),
                     0);
    assert_int_equal(strlen(c.roles[0].role), 64);
    assert_int_equal(load(&c, "{}", &err), 0);
    config_free(&c);
}

/* A second file overrides what it names and keeps the rest; roles are replaced whole. */
static void later_file_merges(void **state) {
    struct sup_config c;
    struct ls_error err;
    config_init(&c);
    assert_int_equal(load(&c,
                          "{\"socket\": \"/a.sock\", \"http\": \"127.0.0.1:1\", \"queue_max\": 5,"
                          " \"grace_seconds\": 9, \"roles\": {\"a\": {\"uids\": [1]}},"
                          " \"idmap\": {\"base\": 5000}}",
                          &err),
                     0);
    assert_int_equal(load(&c,
                          "{\"socket\": \"/b.sock\", \"warm_runners\": 3,"
                          " \"roles\": {\"b\": {\"uids\": [2]}, \"c\": {\"gids\": [3]}},"
                          " \"idmap\": {\"count\": 10}}",
                          &err),
                     0);
    assert_string_equal(c.socket_path, "/b.sock");
    assert_string_equal(c.http, "127.0.0.1:1");
    assert_int_equal(c.queue_max, 5);
    assert_int_equal(c.grace_ms, 9000);
    assert_int_equal(c.warm_runners, 3);
    assert_int_equal(c.request_timeout_ms, 10000);
    assert_int_equal(c.idmap_base, 5000);
    assert_int_equal(c.idmap_count, 10);
    assert_int_equal(c.n_roles, 2);
    assert_string_equal(c.roles[0].role, "b");
    assert_string_equal(c.roles[1].role, "c");
    assert_null(config_role_for(&c, 1, NULL, 0));
    assert_string_equal(config_role_for(&c, 2, NULL, 0), "b");
    config_free(&c);
}

static void rejects_bad_keys_and_types(void **state) {
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"{\"bogus\": 1}", "bogus: unknown key"},
        {"{\"socket\": \"/s\", \"Socket\": \"/t\"}", "Socket: unknown key"},
        {"{\"tls\": {\"listen\": \"x\", \"port\": 1}}", "tls.port: unknown key"},
        {"{\"tls\": \"x\"}", "tls: expected an object"},
        {"{\"tls\": {\"cert\": 1}}", "tls.cert: expected a non-empty string"},
        {"{\"tls\": {\"ca\": \"\"}}", "tls.ca: expected a non-empty string"},
        {"{\"roles\": {\"qa\": {\"uids\": [1], \"names\": [\"x\"]}}}", "roles.qa.names: unknown key"},
        {"{\"roles\": {\"QA\": {}}}", "roles.QA: a role name"},
        {"{\"roles\": {\"a/b\": {}}}", "roles.a/b: a role name"},
        {"{\"roles\": {\"\": {}}}", "roles.: a role name"},
        {"{\"roles\": {\"abcdefghijklmnopqrstuvwxyz0123456789-_abcdefghijklmnopqrstuvwxyz0\": {}}}",
         "a role name is 1-64"},
        {"{\"roles\": [\"qa\"]}", "roles: expected an object"},
        {"{\"roles\": {\"qa\": [1]}}", "roles.qa: expected an object"},
        {"{\"roles\": {\"qa\": {\"uids\": 1}}}", "roles.qa.uids: expected an array"},
        {"{\"roles\": {\"qa\": {\"uids\": [-1]}}}", "roles.qa.uids[0]: expected a uid/gid"},
        {"{\"roles\": {\"ok\": {}, \"qa\": {\"gids\": [1, 4294967295]}}}",
         "roles.qa.gids[1]: expected a uid/gid"},
        {"{\"roles\": {\"qa\": {\"gids\": [\"0\"]}}}", "roles.qa.gids[0]"},
        {"{\"socket\": 5}", "socket: expected a non-empty string"},
        {"{\"socket\": \"\"}", "socket: expected a non-empty string"},
        {"{\"socket\": \"/a\\u0000b\"}", ":1:22: \\u0000 is not allowed"}, /* the parser's */
        {"{\"socket\": null}", "socket: expected a non-empty string"},
        {"{\"http\": true}", "http: expected a non-empty string"},
        {"{\"policies\": [\"/p\"]}", "policies: expected a non-empty string"},
        {"{\"default_policy\": 1}", "default_policy: expected"},
        {"{\"audit\": {}}", "audit: expected"},
        {"{\"artifacts\": 0}", "artifacts: expected"},
        {"{\"state_dir\": false}", "state_dir: expected"},
        {"{\"runner\": 1}", "runner: expected"},
        {"{\"log_level\": 1}", "log_level: expected"},
        {"{\"socket_group\": 0}", "socket_group: expected"},
        {"{\"max_concurrent\": \"8\"}", "max_concurrent: expected an integer in [1, 4096]"},
        {"{\"max_concurrent\": 0}", "max_concurrent: expected an integer in [1, 4096]"},
        {"{\"max_concurrent\": 4097}", "max_concurrent: expected an integer in [1, 4096]"},
        {"{\"max_concurrent\": 1.5}", "max_concurrent: expected an integer"},
        {"{\"max_concurrent\": 9223372036854775807}", "max_concurrent: expected an integer"},
        {"{\"queue_max\": -1}", "queue_max: expected an integer in [0, 65536]"},
        {"{\"queue_max\": 65537}", "queue_max: expected an integer in [0, 65536]"},
        {"{\"warm_runners\": 257}", "warm_runners: expected an integer in [0, 256]"},
        {"{\"warm_runners\": -9223372036854775807}", "warm_runners: expected an integer"},
        {"{\"grace_seconds\": 86401}", "grace_seconds: expected an integer in [0, 86400]"},
        {"{\"max_connections\": 0}", "max_connections: expected an integer in [1, 1000000]"},
        {"{\"max_connections\": 1000001}", "max_connections: expected an integer"},
        {"{\"request_timeout_seconds\": 0}", "request_timeout_seconds: expected an integer in [1, 3600]"},
        {"{\"request_timeout_seconds\": 3601}", "request_timeout_seconds: expected an integer"},
        {"{\"idmap\": 5}", "idmap: expected"},
        {"{\"idmap\": {\"base\": 0}}", "idmap: expected"},
        {"{\"idmap\": {\"base\": 4294967295}}", "idmap: expected"},
        {"{\"idmap\": {\"base\": \"1\"}}", "idmap: expected"},
        {"{\"idmap\": {\"count\": 0}}", "idmap: expected"},
        {"{\"idmap\": {\"count\": 16777217}}", "idmap: expected"},
        {"{\"idmap\": {\"base\": 1, \"extra\": 2}}", "idmap: expected"},
        {"{\"socket_mode\": \"999\"}", "socket_mode: expected an octal mode"},
        {"{\"socket_mode\": \"abc\"}", "socket_mode: expected an octal mode"},
        {"{\"socket_mode\": \"01000\"}", "socket_mode: expected an octal mode"},
        {"{\"socket_mode\": 432}", "socket_mode: expected a non-empty string"},
        /* JSON_REJECT_DUPLICATES, at the top and deeper down */
        {"{\"socket\": \"/a\", \"socket\": \"/b\"}", "duplicate object key"},
        {"{\"tls\": {\"cert\": \"/a\", \"cert\": \"/b\"}}", "duplicate object key"},
        {"{\"roles\": {\"qa\": {}, \"qa\": {}}}", "duplicate object key"},
        {"{\"roles\": {\"qa\": {\"uids\": [1], \"uids\": [2]}}}", "duplicate object key"},
        /* not an object */
        {"[1, 2]", "expected a JSON object"},
        {"\"socket\"", ":1:8: '[' or '{' expected"}, /* the parser wants a container */
        {"", ":1:0:"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_reject(cases[i].text, cases[i].want);
}

/* Invalid JSON: the message says file:line:column. */
static void rejects_invalid_json_with_position(void **state) {
    struct sup_config c;
    struct ls_error err;
    char want[200];
    config_init(&c);
    assert_int_equal(load(&c, "{\n  \"socket\": \"/x\",\n  oops: 1\n}\n", &err), -EINVAL);
    snprintf(want, sizeof(want), "%s:3:", cfg_path);
    if (!strstr(err.msg, want))
        fprintf(stderr, "%s\n", err.msg);
    assert_ptr_equal(strstr(err.msg, want), err.msg);
    assert_int_equal(load(&c, "{\"socket\": \"/x\",}", &err), -EINVAL);
    snprintf(want, sizeof(want), "%s:1:", cfg_path);
    assert_ptr_equal(strstr(err.msg, want), err.msg);
    config_free(&c);
}

static void rejects_missing_file(void **state) {
    struct sup_config c;
    struct ls_error err;
    char p[160];
    config_init(&c);
    snprintf(p, sizeof(p), "%s/does-not-exist.json", dir);
    assert_int_equal(config_load_file(&c, p, &err), -ENOENT);
    assert_int_equal(err.code, ENOENT);
    assert_non_null(strstr(err.msg, p));
    /* a directory is not a config file either */
    assert_int_equal(config_load_file(&c, dir, &err), -EISDIR);
    assert_non_null(strstr(err.msg, dir));
    config_free(&c);
}

/* Fill the stack below us with junk, so that a cleanup that runs on an uninitialised
 * pointer frees junk instead of a lucky NULL. */
__attribute__((noinline)) static void dirty_stack(void) {
    volatile char junk[16384];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)0xa5;
    (void)junk[0];
}

/* Regression: an unknown top-level key jumped over the initialisation of a
 * _cleanup_free_ variable to the shared exit, which then freed stack garbage. */
static void unknown_key_after_dirty_stack(void **state) {
    struct sup_config c;
    struct ls_error err;
    config_init(&c);
    write_cfg("{\"socket\": \"/a\", \"nope\": 1}");
    for (int i = 0; i < 20; i++) {
        dirty_stack();
        assert_int_equal(config_load_file(&c, cfg_path, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "nope: unknown key"));
    }
    config_free(&c);
}

/* A refused file leaves no leak behind (ASan) and config_free still works, even when
 * roles were half-parsed. */
static void rejects_without_leaks(void **state) {
    struct sup_config c;
    struct ls_error err;
    config_init(&c);
    assert_int_equal(load(&c, "{\"roles\": {\"a\": {\"uids\": [1]}}}", &err), 0);
    assert_int_equal(load(&c,
                          "{\"roles\": {\"x\": {\"uids\": [1, 2], \"gids\": [3]},"
                          " \"y\": {\"uids\": [4], \"gids\": [-5]}}}",
                          &err),
                     -EINVAL);
    assert_non_null(strstr(err.msg, "roles.y.gids[0]"));
    /* the roles in force are still the earlier ones */
    assert_int_equal(c.n_roles, 1);
    assert_string_equal(config_role_for(&c, 1, NULL, 0), "a");
    assert_int_equal(load(&c, "{\"roles\": {\"x\": {\"uids\": [1]}, \"y\": {\"bad\": 1}}}", &err),
                     -EINVAL);
    assert_int_equal(load(&c, "{\"socket\": \"/s\", \"socket_mode\": \"9\"}", &err), -EINVAL);
    config_free(&c);
}

/* The number of sandboxes config_finish picks when none is configured. */
static unsigned expected_max_concurrent(void) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t by_cpu = (uint64_t)(cpus > 0 ? cpus : 1) * 4;
    uint64_t by_mem = (uint64_t)pages * (uint64_t)page / (256u << 20);
    uint64_t n = by_cpu < by_mem ? by_cpu : by_mem;
    return n < 2 ? 2 : (unsigned)n;
}

static void finish_fills_defaults(void **state) {
    struct sup_config c;
    struct ls_error err;
    config_init(&c);
    ls_error_clear(&err);
    assert_int_equal(config_finish(&c, &err), 0);
    assert_int_equal(err.code, 0);
    assert_string_equal(c.socket_path, SUP_DEFAULT_SOCKET);
    assert_string_equal(c.policies_dir, SUP_DEFAULT_POLICIES);
    assert_string_equal(c.default_policy, SUP_DEFAULT_POLICY);
    assert_string_equal(c.state_dir, SUP_DEFAULT_STATE_DIR);
    assert_string_equal(c.audit_url, "file:///var/lib/labstack/audit.jsonl");
    assert_string_equal(c.artifacts_url, "dir:///var/lib/labstack/artifacts");
    assert_true(c.max_concurrent >= 2);
    assert_int_equal(c.max_concurrent, expected_max_concurrent());
    assert_true(c.warm_runners <= c.max_concurrent);
    assert_null(c.tls_listen);
    assert_null(c.http);
    assert_null(c.runner_path);
    /* Finishing twice changes nothing. */
    unsigned n = c.max_concurrent;
    assert_int_equal(config_finish(&c, &err), 0);
    assert_int_equal(c.max_concurrent, n);
    assert_string_equal(c.audit_url, "file:///var/lib/labstack/audit.jsonl");
    config_free(&c);
}

static void finish_derives_urls_from_state_dir(void **state) {
    struct sup_config c;
    struct ls_error err;
    config_init(&c);
    assert_int_equal(load(&c, "{\"state_dir\": \"/srv/ls\", \"max_concurrent\": 1}", &err), 0);
    assert_int_equal(config_finish(&c, &err), 0);
    assert_string_equal(c.audit_url, "file:///srv/ls/audit.jsonl");
    assert_string_equal(c.artifacts_url, "dir:///srv/ls/artifacts");
    /* an explicit max_concurrent is kept, even below 2; warm runners follow it down */
    assert_int_equal(c.max_concurrent, 1);
    assert_int_equal(c.warm_runners, 1);
    config_free(&c);

    /* Only one of the two URLs given: the other is still derived. */
    config_init(&c);
    assert_int_equal(load(&c, "{\"state_dir\": \"/s\", \"audit\": \"file:///elsewhere.jsonl\"}", &err),
                     0);
    assert_int_equal(config_finish(&c, &err), 0);
    assert_string_equal(c.audit_url, "file:///elsewhere.jsonl");
    assert_string_equal(c.artifacts_url, "dir:///s/artifacts");
    config_free(&c);
}

static void finish_checks_socket_path(void **state) {
    struct sup_config c;
    struct ls_error err;
    char p[200];

    config_init(&c);
    assert_int_equal(config_set_str(&c.socket_path, "run/sup.sock"), 0);
    assert_int_equal(config_finish(&c, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "socket run/sup.sock"));
    assert_non_null(strstr(err.msg, "absolute path"));
    config_free(&c);

    /* 107 bytes fit sun_path with its NUL; 108 do not. */
    memset(p, 0, sizeof(p));
    p[0] = '/';
    memset(p + 1, 's', 106);
    assert_int_equal(strlen(p), 107);
    config_init(&c);
    assert_int_equal(config_set_str(&c.socket_path, p), 0);
    assert_int_equal(config_finish(&c, &err), 0);
    config_free(&c);
    p[107] = 's';
    assert_int_equal(strlen(p), 108);
    config_init(&c);
    assert_int_equal(config_set_str(&c.socket_path, p), 0);
    assert_int_equal(config_finish(&c, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "under 108 bytes"));
    config_free(&c);

    /* the same through a file */
    config_init(&c);
    assert_int_equal(load(&c, "{\"socket\": \"relative.sock\"}", &err), 0);
    assert_int_equal(config_finish(&c, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "relative.sock"));
    config_free(&c);
}

/* TLS is all four settings or none. */
static void finish_checks_tls_all_or_none(void **state) {
    for (unsigned mask = 0; mask < 16; mask++) {
        struct sup_config c;
        struct ls_error err;
        config_init(&c);
        if (mask & 1)
            assert_int_equal(config_set_str(&c.tls_listen, "127.0.0.1:7443"), 0);
        if (mask & 2)
            assert_int_equal(config_set_str(&c.tls_cert, "/c"), 0);
        if (mask & 4)
            assert_int_equal(config_set_str(&c.tls_key, "/k"), 0);
        if (mask & 8)
            assert_int_equal(config_set_str(&c.tls_ca, "/ca"), 0);
        ls_error_clear(&err);
        int r = config_finish(&c, &err);
        if (mask == 0 || mask == 15) {
            assert_int_equal(r, 0);
        } else {
            if (r != -EINVAL)
                fprintf(stderr, "tls mask %u accepted\n", mask);
            assert_int_equal(r, -EINVAL);
            assert_non_null(strstr(err.msg, "TLS needs all of"));
        }
        config_free(&c);
    }
}

static void finish_clamps_warm_runners(void **state) {
    struct sup_config c;
    struct ls_error err;
    config_init(&c);
    c.max_concurrent = 3;
    c.warm_runners = 10;
    assert_int_equal(config_finish(&c, &err), 0);
    assert_int_equal(c.max_concurrent, 3);
    assert_int_equal(c.warm_runners, 3);
    config_free(&c);

    config_init(&c);
    c.max_concurrent = 3;
    c.warm_runners = 1;
    assert_int_equal(config_finish(&c, &err), 0);
    assert_int_equal(c.warm_runners, 1);
    config_free(&c);

    /* computed max_concurrent clamps too */
    config_init(&c);
    c.warm_runners = 256;
    assert_int_equal(config_finish(&c, &err), 0);
    assert_int_equal(c.warm_runners, c.max_concurrent < 256 ? c.max_concurrent : 256);
    config_free(&c);
}

static void role_for_uid_group_none(void **state) {
    struct sup_config c;
    struct ls_error err;
    config_init(&c);
    assert_null(config_role_for(&c, 0, NULL, 0));
    assert_int_equal(load(&c,
                          "{\"roles\": {\"qa\": {\"uids\": [1001, 1002], \"gids\": [2000]},"
                          " \"ops\": {\"uids\": [0], \"gids\": [3000, 3001]},"
                          " \"none\": {}}}",
                          &err),
                     0);
    const gid_t g_none[] = {5, 6, 7}, g_ops[] = {5, 3001}, g_qa[] = {2000}, g_both[] = {3000, 2000};
    assert_string_equal(config_role_for(&c, 1001, NULL, 0), "qa");
    assert_string_equal(config_role_for(&c, 1002, g_none, 3), "qa");
    assert_string_equal(config_role_for(&c, 0, NULL, 0), "ops");
    assert_string_equal(config_role_for(&c, 42, g_ops, 2), "ops");
    assert_string_equal(config_role_for(&c, 42, g_qa, 1), "qa");
    /* the first role in file order that matches */
    assert_string_equal(config_role_for(&c, 42, g_both, 2), "qa");
    assert_null(config_role_for(&c, 42, g_none, 3));
    assert_null(config_role_for(&c, 42, NULL, 0));
    /* a uid is not a gid: gid 1001 gives nothing */
    const gid_t g_uidlike[] = {1001};
    assert_null(config_role_for(&c, 42, g_uidlike, 1));
    /* n_groups bounds the scan */
    assert_null(config_role_for(&c, 42, g_ops, 1));
    config_free(&c);
}

static void parse_mode_table(void **state) {
    static const struct {
        const char *s;
        int r;
        mode_t mode;
    } cases[] = {
        {"0660", 0, 0660}, {"0640", 0, 0640}, {"660", 0, 0660}, {"0", 0, 0},
        {"777", 0, 0777},  {"0777", 0, 0777}, {"00600", 0, 0600}, {"7", 0, 07},
        {"", -EINVAL, 0},  {"999", -EINVAL, 0}, {"abc", -EINVAL, 0}, {"0800", -EINVAL, 0},
        {"1000", -EINVAL, 0}, {"01000", -EINVAL, 0}, {"4755", -EINVAL, 0}, {"-1", -EINVAL, 0},
        {"+660", -EINVAL, 0}, {" 660", -EINVAL, 0}, {"660 ", -EINVAL, 0}, {"0x1f", -EINVAL, 0},
        {"66a", -EINVAL, 0}, {"77777777777777777777777777", -EINVAL, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mode_t m = 01234;
        int r = config_parse_mode(cases[i].s, &m);
        if (r != cases[i].r)
            fprintf(stderr, "config_parse_mode(\"%s\") = %d\n", cases[i].s, r);
        assert_int_equal(r, cases[i].r);
        assert_int_equal(m, r == 0 ? cases[i].mode : 01234); /* untouched on failure */
    }
    mode_t m = 01234;
    assert_int_equal(config_parse_mode(NULL, &m), -EINVAL);
    assert_int_equal(m, 01234);
}

static void set_str_replaces(void **state) {
    char *f = NULL;
    assert_int_equal(config_set_str(&f, "one"), 0);
    assert_string_equal(f, "one");
    char *old = f;
    assert_int_equal(config_set_str(&f, "two"), 0);
    assert_ptr_not_equal(f, old);
    assert_string_equal(f, "two");
    free(f);
}

static int setup(void **state) {
    if (!mkdtemp(dir))
        return -1;
    snprintf(cfg_path, sizeof(cfg_path), "%s/config.json", dir);
    return 0;
}

static int teardown(void **state) {
    unlink(cfg_path);
    return rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_defaults),
        cmocka_unit_test(every_key_accepted),
        cmocka_unit_test(integer_edges_accepted),
        cmocka_unit_test(later_file_merges),
        cmocka_unit_test(rejects_bad_keys_and_types),
        cmocka_unit_test(rejects_invalid_json_with_position),
        cmocka_unit_test(rejects_missing_file),
        cmocka_unit_test(unknown_key_after_dirty_stack),
        cmocka_unit_test(rejects_without_leaks),
        cmocka_unit_test(finish_fills_defaults),
        cmocka_unit_test(finish_derives_urls_from_state_dir),
        cmocka_unit_test(finish_checks_socket_path),
        cmocka_unit_test(finish_checks_tls_all_or_none),
        cmocka_unit_test(finish_clamps_warm_runners),
        cmocka_unit_test(role_for_uid_group_none),
        cmocka_unit_test(parse_mode_table),
        cmocka_unit_test(set_str_replaces),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
