/*
 * test_policies.c - the shipped policies, end to end (root; skipped otherwise).
 *
 *   - real test suites pass under qa-default: a C project with make and gcc, a Python
 *     unittest suite, a Node test suite (tests/integration/suites/);
 *   - the verdict `labstack policy test` computes from the compiled BPF agrees with what
 *     a probe observes inside a sandbox run under the same policy, for 38 syscalls with
 *     arguments chosen so that the kernel itself would answer differently (EBADF,
 *     EFAULT, EINVAL, ESRCH, success) -- under strict and under qa-default;
 *   - strict shows its denials (socket, pipe, clone3, ...) where qa-default allows;
 *   - a request above a policy's maximum, or with a variable it does not allow, is
 *     refused before anything runs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const char *policies_dir(void) {
    const char *d = getenv("LABSTACK_POLICIES");
    return d ? d : "policies";
}

static const char *suites_dir(void) {
    const char *d = getenv("LABSTACK_SUITES");
    return d ? d : "tests/integration/suites";
}

static void policy_file(char *buf, size_t size, const char *name) {
    snprintf(buf, size, "%s/%s.json", policies_dir(), name);
}

/* ---- real suites under qa-default ---- */

static void run_suite(const char *suite, const char *const *cmd, const char *expect) {
    struct it_box box;
    struct it_run run = {0};
    char src[512], copy[1200], policy[512];

    it_skip_unless_root("test_policies");
    assert_int_equal(it_box_new(&box, false), 0);
    snprintf(src, sizeof(src), "%s/%s", suites_dir(), suite);
    snprintf(copy, sizeof(copy), "cp -a '%s/.' '%s/'", src, box.ws);
    assert_int_equal(system(copy), 0);
    policy_file(policy, sizeof(policy), "qa-default");
    assert_int_equal(it_sandbox(&box, ARGS("--policy", policy), cmd, NULL, &run), 0);
    if (run.exit_code != 0 || !strstr(run.out, expect))
        it_run_dump(&run);
    assert_int_equal(run.exit_code, 0);
    assert_non_null(strstr(run.out, expect));
    assert_string_equal(it_json_str(run.result, "reason"), "exited");
    it_run_clear(&run);
    it_box_free(&box);
}

static void test_c_make_suite(void **state) {
    run_suite("c-make", ARGS("make", "test"), "0 failures");
}

static void test_python_unittest_suite(void **state) {
    /* unittest prints its verdict on stderr; 2>&1 keeps the check on one stream. */
    run_suite("python", ARGS("sh", "-c", "python3 -m unittest -v test_text 2>&1"), "\nOK");
}

static void test_node_test_suite(void **state) {
    run_suite("node", ARGS("node", "--test", "math.test.js"), "# fail 0");
}

/* ---- verdicts: `policy test` vs what the kernel does under the policy ---- */

struct sys_case {
    const char *name;  /* for `policy test --syscall` */
    const char *spec;  /* for `probe sys`: NR[:args] or i386:NR */
    const char *cli_args[4]; /* "--arg" values "N=V" */
};

/* Arguments are chosen so that an allowed call gets the kernel's own, different answer
 * (EBADF for fd -1, EFAULT for NULL, EINVAL, ESRCH for a pid that cannot exist...). */
static const struct sys_case cases[] = {
    {"read", "0:-1,0,0", {"0=-1"}},
    {"write", "1:-1,0,0", {"0=-1"}},
    {"close", "3:-1", {"0=-1"}},
    {"fstat", "5:-1,0", {"0=-1"}},
    {"lseek", "8:-1,0,0", {"0=-1"}},
    {"mmap", "9:0,0,0,0,-1,0", {}},
    {"mprotect", "10:1,0,0", {"0=1"}},
    {"munmap", "11:1,0", {"0=1"}},
    {"rt_sigaction", "13:0,0,0,8", {"0=0"}},
    {"ioctl", "16:-1,0x5401,0", {"0=-1", "1=0x5401"}},
    {"ioctl", "16:-1,0x5412,0", {"0=-1", "1=0x5412"}},
    {"ioctl", "16:-1,0x100005412,0", {"0=-1", "1=0x100005412"}},
    {"access", "21:0,0", {"0=0"}},
    {"pipe", "22:0", {"0=0"}},
    {"sched_yield", "24", {}},
    {"dup", "32:-1", {"0=-1"}},
    {"nanosleep", "35:0,0", {"0=0"}},
    {"getpid", "39", {}},
    {"socket", "41:2,0xffff,0", {"0=2", "1=0xffff"}},
    {"socket", "41:17,3,0", {"0=17", "1=3"}},
    {"socket", "41:16,3,9", {"0=16", "1=3", "2=9"}},
    {"clone", "56:0x10000000,0,0,0,0", {"0=0x10000000"}},
    {"kill", "62:0x3fffffff,0", {"0=0x3fffffff", "1=0"}},
    {"uname", "63:0", {"0=0"}},
    {"fcntl", "72:-1,1", {"0=-1", "1=1"}},
    {"chdir", "80:0", {"0=0"}},
    {"mkdir", "83:0,0", {"0=0"}},
    {"chmod", "90:0,0x1ed", {"0=0", "1=0x1ed"}},
    {"chmod", "90:0,0x9ed", {"0=0", "1=0x9ed"}},
    {"umask", "95:0x12", {"0=0x12"}},
    {"ptrace", "101:2,0x3fffffff,0,0", {"0=2", "1=0x3fffffff"}},
    {"getuid", "102", {}},
    {"personality", "135:0xffffffff", {"0=0xffffffff"}},
    {"mount", "165:0,0,0,0,0", {}},
    {"unshare", "272:0", {"0=0"}},
    {"setns", "308:-1,0", {"0=-1"}},
    {"bpf", "321:0,0,0", {}},
    {"io_uring_setup", "425:0,0", {}},
    {"clone3", "435:0,0", {}},
    {"openat2", "437:-1,0,0,0", {"0=-1"}},
    {"close_range", "436:0x3fffffff,0x3fffffff,0", {"0=0x3fffffff", "1=0x3fffffff"}},
    {"1000", "1000", {}},
};

enum kind { K_ALLOW, K_ERRNO, K_KILL };

/* `labstack policy test POLICY --syscall NAME --arg ...`: the verdict and its errno. */
static enum kind policy_test(const char *policy, const struct sys_case *c, int *ret_errno) {
    char cmd[2048], line[512] = "";
    int n = snprintf(cmd, sizeof(cmd), "'%s' policy test '%s' --syscall %s", it_labstack(), policy,
                     c->name);
    for (size_t i = 0; i < 4 && c->cli_args[i]; i++)
        n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " --arg %s", c->cli_args[i]);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t got = fread(line, 1, sizeof(line) - 1, f);
    line[got] = '\0';
    int st = pclose(f);
    if (st != 0)
        fprintf(stderr, "%s -> status %d: %s\n", cmd, st, line);
    assert_int_equal(st, 0);
    if (strstr(line, "kill"))
        return K_KILL;
    if (strstr(line, "allow"))
        return K_ALLOW;
    const char *paren = strchr(line, '(');
    assert_non_null(paren);
    *ret_errno = atoi(paren + 1);
    assert_true(*ret_errno > 0);
    return K_ERRNO;
}

/* The probe's line "SYS <spec> ret=<r> errno=<NAME>" for spec. */
static const char *observed(const char *out, const char *spec, char *buf, size_t size) {
    char key[128];
    snprintf(key, sizeof(key), "SYS %s ret=", spec);
    const char *p = strstr(out, key);
    if (!p)
        return NULL;
    p += strlen(key) - 4;
    size_t len = strcspn(p, "\n");
    snprintf(buf, size, "%.*s", (int)len, p);
    return buf;
}

static void check_policy_verdicts(const char *name) {
    char policy[512], cp[1200];
    const char *argv[80];
    size_t n = 0;
    struct it_box box;
    struct it_run run = {0};

    it_skip_unless_root("test_policies");
    policy_file(policy, sizeof(policy), name);
    /* One sandbox runs every call whose verdict is not "kill". */
    argv[n++] = "/probe";
    argv[n++] = "sys";
    enum kind kinds[sizeof(cases) / sizeof(cases[0])];
    int errnos[sizeof(cases) / sizeof(cases[0])];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kinds[i] = policy_test(policy, &cases[i], &errnos[i]);
        if (kinds[i] != K_KILL)
            argv[n++] = cases[i].spec;
    }
    argv[n] = NULL;

    /* --ro-bind is refused with --policy: the probe comes in through the workspace. */
    assert_int_equal(it_box_new(&box, false), 0);
    snprintf(cp, sizeof(cp), "cp '%s' '%s/probe'", it_probe(), box.ws);
    assert_int_equal(system(cp), 0);
    argv[0] = "/work/probe";
    assert_int_equal(it_sandbox(&box, ARGS("--policy", policy), argv, NULL, &run), 0);
    if (run.exit_code != 0)
        it_run_dump(&run);
    assert_int_equal(run.exit_code, 0);

    unsigned mismatches = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[128];
        if (kinds[i] == K_KILL)
            continue;
        const char *o = observed(run.out, cases[i].spec, buf, sizeof(buf));
        assert_non_null(o);
        long ret = strtol(o + 4, NULL, 10);
        const char *en = strstr(o, "errno=") + 6;
        bool ok;
        if (kinds[i] == K_ERRNO) {
            ok = ret == -1 && strcmp(en, strerrorname_np(errnos[i])) == 0;
        } else {
            /* Allowed: the kernel answered, so the result is anything but the refusals
             * the policy could have given. */
            ok = !(ret == -1 && (strcmp(en, "EPERM") == 0 || strcmp(en, "ENOSYS") == 0 ||
                                 strcmp(en, "EAFNOSUPPORT") == 0));
        }
        fprintf(stderr, "%-11s %-16s %-28s policy test: %-6s %-14s observed: %s%s\n", name,
                cases[i].name, cases[i].spec,
                kinds[i] == K_ALLOW ? "allow" : "errno",
                kinds[i] == K_ERRNO ? strerrorname_np(errnos[i]) : "", o, ok ? "" : "  <-- MISMATCH");
        if (!ok)
            mismatches++;
    }
    it_run_clear(&run);

    /* "kill" verdicts, one sandbox each: the run must end by SIGSYS (reason seccomp). */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (kinds[i] != K_KILL)
            continue;
        assert_int_equal(it_sandbox(&box, ARGS("--policy", policy),
                                    ARGS("/work/probe", "sys", cases[i].spec), NULL, &run), 0);
        bool ok = strcmp(it_json_str(run.result, "reason"), "seccomp") == 0;
        fprintf(stderr, "%-11s %-16s %-28s policy test: kill   observed: reason %s%s\n", name,
                cases[i].name, cases[i].spec, it_json_str(run.result, "reason"),
                ok ? "" : "  <-- MISMATCH");
        mismatches += !ok;
        it_run_clear(&run);
    }
    it_box_free(&box);
    assert_int_equal(mismatches, 0);
}

/* The kill cases: other ABIs.  `policy test` takes them with --arch. */
static void check_abi_kills(const char *name) {
    char policy[512], cmd[1024], out[256] = "";
    it_skip_unless_root("test_policies");
    policy_file(policy, sizeof(policy), name);
    static const char *const archs[] = {"x32", "i386"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(cmd, sizeof(cmd), "'%s' policy test '%s' --syscall getpid --arch %s", it_labstack(),
                 policy, archs[i]);
        FILE *f = popen(cmd, "r");
        assert_non_null(f);
        size_t got = fread(out, 1, sizeof(out) - 1, f);
        out[got] = '\0';
        assert_int_equal(pclose(f), 0);
        assert_non_null(strstr(out, "kill"));
    }
    /* ...and the kernel agrees. */
    struct it_box box;
    struct it_run run = {0};
    char cp[1200];
    assert_int_equal(it_box_new(&box, false), 0);
    snprintf(cp, sizeof(cp), "cp '%s' '%s/probe'", it_probe(), box.ws);
    assert_int_equal(system(cp), 0);
    static const char *const specs[] = {"0x40000027", "i386:20"};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(it_sandbox(&box, ARGS("--policy", policy),
                                    ARGS("/work/probe", "sys", specs[i]), NULL, &run), 0);
        assert_string_equal(it_json_str(run.result, "reason"), "seccomp");
        it_run_clear(&run);
    }
    it_box_free(&box);
}

static void test_verdicts_strict(void **state) {
    check_policy_verdicts("strict");
    check_abi_kills("strict");
}

static void test_verdicts_qa_default(void **state) {
    check_policy_verdicts("qa-default");
    check_abi_kills("qa-default");
}

/* ---- requests that would loosen a policy are refused ---- */

static void test_requests_cannot_loosen(void **state) {
    struct it_box box;
    struct it_run run = {0};
    char policy[512];

    it_skip_unless_root("test_policies");
    policy_file(policy, sizeof(policy), "strict");
    assert_int_equal(it_box_new(&box, false), 0);
    /* strict: memory max 1G */
    assert_int_equal(it_sandbox(&box, ARGS("--policy", policy, "--memory", "2G"), ARGS("true"), NULL, &run), 0);
    assert_int_equal(run.exit_code, 125);
    assert_non_null(strstr(run.err, "memory"));
    it_run_clear(&run);
    /* strict allows no variable */
    assert_int_equal(it_sandbox(&box, ARGS("--policy", policy, "--env", "FOO=1"), ARGS("true"), NULL, &run), 0);
    assert_int_equal(run.exit_code, 125);
    assert_non_null(strstr(run.err, "FOO"));
    it_run_clear(&run);
    /* --ro-bind would widen what the sandbox sees */
    assert_int_equal(it_sandbox(&box, ARGS("--policy", policy, "--ro-bind", "/etc"), ARGS("true"), NULL, &run), 0);
    assert_int_equal(run.exit_code, 125);
    it_run_clear(&run);
    /* tightening is fine */
    assert_int_equal(it_sandbox(&box, ARGS("--policy", policy, "--memory", "64M"), ARGS("/bin/true"), NULL, &run), 0);
    assert_int_equal(run.exit_code, 0);
    it_run_clear(&run);
    it_box_free(&box);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_c_make_suite),
        cmocka_unit_test(test_python_unittest_suite),
        cmocka_unit_test(test_node_test_suite),
        cmocka_unit_test(test_verdicts_strict),
        cmocka_unit_test(test_verdicts_qa_default),
        cmocka_unit_test(test_requests_cannot_loosen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
