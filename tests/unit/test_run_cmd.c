/* Unit tests for the client side of the CLI (cli/run_cmd.c, cli/status_cmd.c,
 * cli/client_opts.c): flags become the right request, durations parse, results map to
 * docker-like exit statuses, and a status document prints safely. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "labstack/error.h"
#include "run_cmd.h"
#include "status_cmd.h"

static int parse(struct run_cmd *cmd, struct ls_error *err, ...) {
    static char *argv[64]; /* the request points into it */
    int argc = 0;
    va_list ap;
    va_start(ap, err);
    argv[argc++] = "run";
    for (char *a; (a = va_arg(ap, char *));)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    return run_cmd_parse(argc, argv, cmd, err);
}

static void flags_become_a_request(void **state) {
    struct run_cmd cmd;
    struct ls_error err = {0};
    int r = parse(&cmd, &err, "--socket", "/tmp/s.sock", "--policy", "strict", "--workspace",
                  "/tmp", "--cwd", "/work/x", "--env", "A=1", "--env", "B=2", "--env", "A=3",
                  "--stdin", "--memory", "256M", "--cpus", "1.5", "--pids", "64", "--timeout", "2m",
                  "--cpu-time", "500ms", "--stdout-limit", "1M", "--tmp-size", "64M", "--file-size",
                  "16M", "--open-files", "128", "--task-id", "T-1", "--label", "nightly", "--json",
                  "--quiet", "--", "make", "-j4", NULL);
    if (r < 0)
        fail_msg("%s", err.msg);
    assert_string_equal(cmd.opts.socket_path, "/tmp/s.sock");
    assert_string_equal(cmd.req.policy, "strict");
    char *tmp = realpath("/tmp", NULL);
    assert_string_equal(cmd.req.workspace_path, tmp);
    free(tmp);
    assert_string_equal(cmd.req.cwd, "/work/x");
    assert_int_equal(cmd.req.n_env, 2);
    assert_string_equal(cmd.req.env[0], "A=3");
    assert_string_equal(cmd.req.env[1], "B=2");
    assert_null(cmd.req.env[2]);
    assert_int_equal(cmd.req.stdin_mode, LS_STDIN_STREAM);
    assert_int_equal(cmd.req.limits.memory_bytes, 256u << 20);
    assert_int_equal(cmd.req.limits.cpu_millis, 1500);
    assert_int_equal(cmd.req.limits.pids, 64);
    assert_int_equal(cmd.req.limits.wall_time_ms, 120000);
    assert_int_equal(cmd.req.limits.cpu_time_ms, 500);
    assert_int_equal(cmd.req.limits.output_bytes, 1u << 20);
    assert_int_equal(cmd.req.limits.tmp_bytes, 64u << 20);
    assert_int_equal(cmd.req.limits.file_size_bytes, 16u << 20);
    assert_int_equal(cmd.req.limits.open_files, 128);
    assert_string_equal(cmd.req.task_id, "T-1");
    assert_string_equal(cmd.req.label, "nightly");
    assert_true(cmd.json);
    assert_true(cmd.quiet);
    assert_int_equal(cmd.req.argc, 2);
    assert_string_equal(cmd.req.argv[0], "make");
    assert_string_equal(cmd.req.argv[1], "-j4");
    assert_null(cmd.req.argv[2]);

    /* What it sends passes the supervisor's parser. */
    char *json = ls_run_request_to_json(&cmd.req);
    struct ls_run_request *back = NULL;
    assert_non_null(json);
    assert_int_equal(ls_run_request_parse(json, strlen(json), &back, &err), 0);
    ls_run_request_free(back);
    free(json);
    run_cmd_done(&cmd);

    /* Flags stop at the command: its own options are its own. */
    assert_int_equal(parse(&cmd, &err, "ls", "-l", "--json", NULL), 0);
    assert_false(cmd.json);
    assert_int_equal(cmd.req.argc, 3);
    run_cmd_done(&cmd);
}

static void bad_flags(void **state) {
    static const struct {
        const char *args[4];
        const char *msg;
    } cases[] = {
        {{"--env", "1A=x", "true"}, "--env 1A=x: expected NAME=VALUE"},
        {{"--env", "NOVALUE", "true"}, "--env NOVALUE: expected NAME=VALUE"},
        {{"--cwd", "work", "true"}, "--cwd work: must be an absolute path"},
        {{"--memory", "1K", "true"}, "--memory 1K: expected a size"},
        {{"--memory", "lots", "true"}, "--memory lots: expected a size"},
        {{"--cpus", "0", "true"}, "--cpus 0: expected 0.01 to 1024"},
        {{"--pids", "1", "true"}, "--pids 1: expected 2 to 4194304"},
        {{"--timeout", "0", "true"}, "--timeout 0: expected a duration > 0"},
        {{"--timeout", "5x", "true"}, "--timeout 5x: expected a duration"},
        {{"--open-files", "0", "true"}, "--open-files 0: expected 1 to"},
        {{"--workspace", "/nonexistent/dir", "true"}, "--workspace /nonexistent/dir: No such file"},
        {{"--workspace", "/etc/passwd", "true"}, "--workspace /etc/passwd: Not a directory"},
        {{"--tls", "127.0.0.1:1", "true"}, "--tls needs --tls-cert, --tls-key and --tls-ca"},
        {{"--tls-ca", "/x", "true"}, "go with --tls"},
        {{"--bogus", "true"}, "unknown option --bogus"},
        {{"--policy"}, "--policy needs an argument"},
        {{"--json"}, "no command given"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct run_cmd cmd;
        struct ls_error err = {0};
        int r = parse(&cmd, &err, cases[i].args[0], cases[i].args[1], cases[i].args[2],
                      cases[i].args[3], NULL);
        if (r >= 0 || !strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: got %d \"%s\", expected \"%s\"", i, r, err.msg, cases[i].msg);
        run_cmd_done(&cmd);
    }
    struct run_cmd cmd;
    struct ls_error err = {0};
    assert_int_equal(parse(&cmd, &err, "--socket", "/a", "--tls", "h:1", "--tls-cert", "c",
                           "--tls-key", "k", "--tls-ca", "ca", "true", NULL),
                     -EINVAL);
    assert_non_null(strstr(err.msg, "--socket and --tls: choose one"));
    run_cmd_done(&cmd);
    assert_int_equal(parse(&cmd, &err, "--help", NULL), 0);
    assert_true(cmd.help);
    run_cmd_done(&cmd);
}

static void durations(void **state) {
    static const struct {
        const char *s;
        uint64_t ms;
    } ok[] = {{"30", 30000},  {"2.5", 2500},  {"0.25", 250},   {"30s", 30000},  {"1.5s", 1500},
              {"500ms", 500}, {"5m", 300000}, {"1.5m", 90000}, {"1h", 3600000}, {"0", 0}};
    static const char *const bad[] = {"",   "s",   "ms",  "1.5ms", "-1",
                                      "1d", "1 s", "1sm", "m5",    "99999999999999999999h"};
    uint64_t v;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(run_cmd_parse_duration(ok[i].s, &v), 0);
        assert_int_equal(v, ok[i].ms);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (run_cmd_parse_duration(bad[i], &v) == 0)
            fail_msg("\"%s\" parsed as %llu", bad[i], (unsigned long long)v);
}

static void exit_statuses(void **state) {
    struct ls_result r = {.reason = LS_REASON_EXITED, .exit_code = 3};
    assert_int_equal(run_cmd_exit_status(&r), 3);
    r = (struct ls_result){.reason = LS_REASON_EXITED, .exit_code = 0};
    assert_int_equal(run_cmd_exit_status(&r), 0);
    r = (struct ls_result){.reason = LS_REASON_SIGNALED, .exit_code = -1, .signal = SIGSEGV};
    assert_int_equal(run_cmd_exit_status(&r), 139);
    r = (struct ls_result){.reason = LS_REASON_SECCOMP, .exit_code = -1, .signal = SIGSYS};
    assert_int_equal(run_cmd_exit_status(&r), 159);
    static const enum ls_reason killed[] = {LS_REASON_TIMEOUT, LS_REASON_OUTPUT_LIMIT,
                                            LS_REASON_CPU_LIMIT, LS_REASON_OOM,
                                            LS_REASON_CANCELLED};
    for (size_t i = 0; i < sizeof(killed) / sizeof(killed[0]); i++) {
        r = (struct ls_result){.reason = killed[i], .exit_code = -1, .signal = SIGKILL};
        assert_int_equal(run_cmd_exit_status(&r), 137);
        r.signal = 0; /* a missing signal is still a kill */
        assert_int_equal(run_cmd_exit_status(&r), 137);
    }
    /* A limit noted after the command exited by itself: its status stands. */
    r = (struct ls_result){.reason = LS_REASON_PIDS_LIMIT, .exit_code = 1};
    assert_int_equal(run_cmd_exit_status(&r), 1);
    r = (struct ls_result){.reason = LS_REASON_SETUP_FAILED, .exit_code = -1};
    ls_error_set(&r.error, ENOENT, "exec", "execve nope");
    assert_int_equal(run_cmd_exit_status(&r), 127);
    ls_error_set(&r.error, EACCES, "exec", "execve /etc/passwd");
    assert_int_equal(run_cmd_exit_status(&r), 126);
    ls_error_set(&r.error, EPERM, "mount", "mount /proc");
    assert_int_equal(run_cmd_exit_status(&r), 125);
    r = (struct ls_result){.reason = LS_REASON_NONE};
    assert_int_equal(run_cmd_exit_status(&r), 125);
}

static char *print_status(const char *doc, int *ret) {
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    assert_non_null(f);
    *ret = status_cmd_print(f, doc);
    fclose(f);
    return buf;
}

static void status_printing(void **state) {
    int r;
    char *out = print_status(
        "{\"version\":\"0.1.0\",\"protocol\":1,\"uptime_s\":7384,\"ready\":true,\"running\":2,"
        "\"queued\":1,\"max_concurrent\":8,\"queue_max\":64,\"policies\":[\"qa-default\","
        "\"strict\"],"
        "\"sandboxes\":[{\"id\":\"sb-1\",\"policy\":\"qa-default\",\"client\":\"uid:1000\","
        "\"argv0\":\"make\",\"running_ms\":62000},{\"id\":\"sb-2\",\"policy\":\"strict\","
        "\"client\":\"agent:qa/host-12\",\"argv0\":\"x\\u001b[2J\\u009by\",\"running_ms\":800}],"
        "\"future\":{\"a\":1}}",
        &r);
    assert_int_equal(r, 0);
    assert_string_equal(out, "labstack-supervisor 0.1.0, protocol 1, up 2h 03m: ready\n"
                             "running:   2 of 8\n"
                             "queued:    1 of 64\n"
                             "policies:  qa-default, strict\n"
                             "\n"
                             "ID    POLICY      CLIENT            RUNNING  COMMAND\n"
                             "sb-1  qa-default  uid:1000          1m 02s   make\n"
                             "sb-2  strict      agent:qa/host-12  0.8s     x?[2J?y\n");
    free(out);

    out = print_status("{\"ready\":false,\"not_ready_reason\":\"stopping\",\"sandboxes\":[]}", &r);
    assert_int_equal(r, 1);
    assert_string_equal(out,
                        "labstack-supervisor: NOT READY (stopping)\nsandboxes: none running\n");
    free(out);

    /* Fields of the wrong type are left out, not trusted. */
    out = print_status("{\"version\":5,\"running\":\"2\",\"policies\":[1,\"p\"],\"sandboxes\":{}}",
                       &r);
    assert_int_equal(r, 0);
    assert_string_equal(out, "labstack-supervisor\npolicies:  p\n");
    free(out);

    out = print_status("[1]", &r);
    assert_int_equal(r, -EINVAL);
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flags_become_a_request),
        cmocka_unit_test(bad_flags),
        cmocka_unit_test(durations),
        cmocka_unit_test(exit_statuses),
        cmocka_unit_test(status_printing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
