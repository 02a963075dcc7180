/*
 * test_policy_cli.c - `labstack policy check|explain|test|diff|sign|verify`, driven
 * as a user would drive it, on policy files written to a scratch directory.
 *
 * Needs no privilege (the policy tools are local and unprivileged).  meson passes
 * LABSTACK (the CLI) and POLICY_DIR (the repository's policies/, whose shipped
 * *.json files must all pass `policy check`).  Signing keys are generated in C with
 * OpenSSL, so the openssl program is not needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "harness.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static char dir[64];

/* ---- running the CLI ------------------------------------------------------------ */

struct cli {
    int exit_code; /* exit status, or 128+signal */
    char *out;
    char *err;
};

static void cli_clear(struct cli *c) {
    free(c->out);
    free(c->err);
    *c = (struct cli){0};
}

static void cli_dump(const char *what, const struct cli *c) {
    fprintf(stderr, "--- %s: exit %d\n--- stdout:\n%s--- stderr:\n%s---\n", what, c->exit_code,
            c->out ? c->out : "", c->err ? c->err : "");
}

/* Run `$LABSTACK policy ARGS...` (NULL-terminated) and collect what it printed. */
static void policy_cli(struct cli *c, const char *const *args) {
    const char *argv[32];
    char out_path[128], err_path[128];
    size_t n = 0;
    int status;

    *c = (struct cli){0};
    argv[n++] = it_labstack();
    argv[n++] = "policy";
    for (size_t i = 0; args[i]; i++) {
        assert_true(n + 1 < N_ELEMS(argv));
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    snprintf(out_path, sizeof(out_path), "%s/.out", dir);
    snprintf(err_path, sizeof(err_path), "%s/.err", dir);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (o < 0 || e < 0 || in < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(125);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    c->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    c->out = it_read_file(out_path, NULL);
    c->err = it_read_file(err_path, NULL);
    assert_non_null(c->out);
    assert_non_null(c->err);
}

/* Assert exit code and that `needle` appears in stdout (or stderr when in_err). */
static void expect(const struct cli *c, const char *what, int exit_code, const char *needle,
                   bool in_err) {
    const char *hay = in_err ? c->err : c->out;
    if (c->exit_code != exit_code || (needle && !strstr(hay, needle))) {
        cli_dump(what, c);
        fail_msg("%s: expected exit %d and \"%s\" in %s", what, exit_code, needle ? needle : "",
                 in_err ? "stderr" : "stdout");
    }
}

static void path_of(char *buf, size_t size, const char *name) {
    snprintf(buf, size, "%s/%s", dir, name);
}

static void write_policy(const char *name, const char *json) {
    char path[160];
    path_of(path, sizeof(path), name);
    assert_int_equal(it_write_file(path, json, 0644), 0);
}

/* ---- the policies of these tests ---------------------------------------------------- */

static const char small_json[] = "{\n"
                                 "  \"name\": \"small\",\n"
                                 "  \"version\": 1,\n"
                                 "  \"description\": \"a small test policy\",\n"
                                 "  \"clients\": { \"roles\": [\"qa\"] },\n"
                                 "  \"limits\": {\n"
                                 "    \"memory\": { \"default\": \"512M\", \"max\": \"2G\" },\n"
                                 "    \"pids\": { \"default\": 64, \"max\": 128 },\n"
                                 "    \"wall_time\": { \"default\": \"30s\", \"max\": \"10m\" }\n"
                                 "  },\n"
                                 "  \"seccomp\": { \"base\": \"builtin\" }\n"
                                 "}\n";

/* Line 6 has a bad size, line 7 a misspelt limit. */
static const char broken_json[] = "{\n"
                                  "  \"name\": \"broken\",\n"
                                  "  \"version\": 1,\n"
                                  "  \"limits\": {\n"
                                  "    \"memory\": {\n"
                                  "      \"default\": \"64M\", \"max\": \"lots\" },\n"
                                  "    \"memroy\": { \"max\": \"1G\" }\n"
                                  "  }\n"
                                  "}\n";

static const char old_json[] =
    "{\n"
    "  \"name\": \"old\",\n"
    "  \"version\": 1,\n"
    "  \"limits\": { \"memory\": { \"default\": \"256M\", \"max\": \"1G\" } },\n"
    "  \"seccomp\": { \"base\": \"none\", \"allow\": [\"read\", \"write\", \"execve\", "
    "\"exit_group\", \"getppid\",\n"
    "                          \"ioctl\"] }\n"
    "}\n";

static const char new_json[] =
    "{\n"
    "  \"name\": \"new\",\n"
    "  \"version\": 2,\n"
    "  \"limits\": { \"memory\": { \"default\": \"256M\", \"max\": \"4G\" } },\n"
    "  \"seccomp\": { \"base\": \"none\", \"allow\": [\"read\", \"write\", \"execve\", "
    "\"exit_group\", \"getpid\"] }\n"
    "}\n";

static const char noexec_json[] =
    "{\n"
    "  \"name\": \"noexec\",\n"
    "  \"version\": 1,\n"
    "  \"seccomp\": { \"base\": \"none\", \"allow\": [\"read\", \"write\"] }\n"
    "}\n";

/* ---- setup ------------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void write_keys(const char *priv_name, const char *pub_name) {
    char priv_path[160], pub_path[160];
    path_of(priv_path, sizeof(priv_path), priv_name);
    path_of(pub_path, sizeof(pub_path), pub_name);
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_non_null(pkey);
    BIO *b = BIO_new_file(priv_path, "w");
    assert_non_null(b);
    assert_int_equal(PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL), 1);
    BIO_free(b);
    b = BIO_new_file(pub_path, "w");
    assert_non_null(b);
    assert_int_equal(PEM_write_bio_PUBKEY(b, pkey), 1);
    BIO_free(b);
    EVP_PKEY_free(pkey);
}

static int setup_all(void **state) {
    (void)state;
    it_labstack(); /* exits with a message when LABSTACK is not set */
    snprintf(dir, sizeof(dir), "/tmp/test_policy_cli.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    write_policy("small.json", small_json);
    write_policy("broken.json", broken_json);
    write_policy("old.json", old_json);
    write_policy("new.json", new_json);
    write_policy("noexec.json", noexec_json);
    return 0;
}

static int teardown_all(void **state) {
    (void)state;
    return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- check ------------------------------------------------------------------------- */

static void test_check_valid(void **state) {
    struct cli c;
    char small[160];
    (void)state;

    path_of(small, sizeof(small), "small.json");
    policy_cli(&c, (const char *const[]){"check", small, NULL});
    expect(&c, "check small.json", 0, "valid (small version 1", false);
    cli_clear(&c);
}

/* "<file>:<line>:<col>: <path>: " somewhere in text. */
static bool has_diag(const char *text, const char *file, int line, const char *path) {
    char prefix[256];
    snprintf(prefix, sizeof(prefix), "%s:%d:", file, line);
    for (const char *p = strstr(text, prefix); p; p = strstr(p + 1, prefix)) {
        const char *q = p + strlen(prefix);
        if (!(*q >= '1' && *q <= '9'))
            continue;
        while (*q >= '0' && *q <= '9')
            q++;
        if (strncmp(q, ": ", 2) == 0 && strncmp(q + 2, path, strlen(path)) == 0 &&
            strncmp(q + 2 + strlen(path), ": ", 2) == 0)
            return true;
    }
    return false;
}

static void test_check_broken(void **state) {
    struct cli c;
    char broken[160], small[160];
    (void)state;

    path_of(broken, sizeof(broken), "broken.json");
    path_of(small, sizeof(small), "small.json");
    policy_cli(&c, (const char *const[]){"check", broken, NULL});
    if (c.exit_code != 1 || !has_diag(c.out, broken, 6, "limits.memory.max") ||
        !has_diag(c.out, broken, 7, "limits.memroy")) {
        cli_dump("check broken.json", &c);
        fail_msg("expected exit 1 and both problems as file:line:col: path: msg");
    }
    cli_clear(&c);

    /* Several files: every one is reported, the status is the worst. */
    policy_cli(&c, (const char *const[]){"check", small, broken, NULL});
    expect(&c, "check small broken", 1, "valid (small version 1", false);
    if (!has_diag(c.out, broken, 6, "limits.memory.max")) {
        cli_dump("check small broken", &c);
        fail_msg("broken.json's problem missing");
    }
    cli_clear(&c);

    /* Valid JSON, but no command could start under it. */
    char noexec[160];
    path_of(noexec, sizeof(noexec), "noexec.json");
    policy_cli(&c, (const char *const[]){"check", noexec, NULL});
    expect(&c, "check noexec.json", 1, "execve", false);
    cli_clear(&c);

    /* A file that does not exist. */
    char nothing[160];
    path_of(nothing, sizeof(nothing), "nothing.json");
    policy_cli(&c, (const char *const[]){"check", nothing, NULL});
    expect(&c, "check nothing.json", 1, "nothing.json", false);
    cli_clear(&c);
}

static void test_check_shipped(void **state) {
    const char *pdir = getenv("POLICY_DIR");
    char pattern[512];
    glob_t g = {0};
    struct cli c;
    (void)state;

    if (!pdir || !*pdir)
        fail_msg("POLICY_DIR is not set (tests/integration/meson.build sets it)");
    snprintf(pattern, sizeof(pattern), "%s/*.json", pdir);
    int r = glob(pattern, 0, NULL, &g);
    if (r == GLOB_NOMATCH || g.gl_pathc < 3) {
        globfree(&g);
        fail_msg("expected the shipped policies (strict, qa-default, dev-build) in %s", pdir);
    }
    assert_int_equal(r, 0);

    const char *args[32];
    size_t n = 0;
    args[n++] = "check";
    for (size_t i = 0; i < g.gl_pathc && n + 1 < N_ELEMS(args); i++)
        args[n++] = g.gl_pathv[i];
    args[n] = NULL;
    policy_cli(&c, args);
    if (c.exit_code != 0)
        cli_dump("check shipped policies", &c);
    assert_int_equal(c.exit_code, 0);
    for (size_t i = 0; i < g.gl_pathc; i++)
        assert_non_null(strstr(c.out, g.gl_pathv[i]));
    printf("checked %zu shipped policies\n", g.gl_pathc);
    cli_clear(&c);
    globfree(&g);
}

/* ---- explain ------------------------------------------------------------------------- */

static void test_explain(void **state) {
    struct cli c;
    char small[160];
    (void)state;

    path_of(small, sizeof(small), "small.json");
    policy_cli(&c, (const char *const[]){"explain", small, NULL});
    static const char *const wanted[] = {
        "policy small, version 1",
        "sha256: ",
        "a small test policy",
        "roles: qa",
        /* limits in human units */
        "512 MiB",
        "2 GiB",
        "30 s",
        "10 min",
        /* groups of allowed syscalls */
        "    file I/O (",
        "    memory (",
        "    processes (",
        "    signals (",
        "    time (",
        "    sockets/network (",
        "    IPC (",
        /* errno values, refused syscalls and argument rules */
        "other known syscalls: EPERM (1)",
        "unknown syscall numbers: ENOSYS (38)",
        "EPERM (1), ",
        "ptrace",
        "socket: EAFNOSUPPORT when arg0 > 16",
        "BPF instructions",
    };
    for (size_t i = 0; i < N_ELEMS(wanted); i++)
        if (c.exit_code != 0 || !strstr(c.out, wanted[i])) {
            cli_dump("explain small.json", &c);
            fail_msg("explain: missing \"%s\"", wanted[i]);
        }
    cli_clear(&c);

    /* An invalid policy is not explained. */
    char broken[160];
    path_of(broken, sizeof(broken), "broken.json");
    policy_cli(&c, (const char *const[]){"explain", broken, NULL});
    expect(&c, "explain broken.json", 1, "limits.memory.max", true);
    cli_clear(&c);
}

/* ---- test ---------------------------------------------------------------------------- */

static void verdict(const char *file, const char *const *extra, const char *want) {
    const char *args[16];
    char path[160], what[256];
    size_t n = 0;
    struct cli c;

    path_of(path, sizeof(path), file);
    args[n++] = "test";
    args[n++] = path;
    for (size_t i = 0; extra[i]; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    policy_cli(&c, args);
    snprintf(what, sizeof(what), "test %s %s %s", file, extra[0], extra[1]);
    if (c.exit_code != 0 || strcmp(c.out, want) != 0) {
        cli_dump(what, &c);
        fail_msg("%s: expected \"%s\"", what, want);
    }
    cli_clear(&c);
}

static void test_test(void **state) {
    (void)state;
    verdict("small.json", (const char *const[]){"--syscall", "read", NULL}, "allow\n");
    verdict("small.json", (const char *const[]){"--syscall", "0", NULL}, "allow\n");
    verdict("small.json", (const char *const[]){"--syscall", "ptrace", NULL}, "errno EPERM (1)\n");
    verdict("small.json", (const char *const[]){"--syscall", "clone3", NULL},
            "errno ENOSYS (38)\n");
    /* Other ABIs are killed. */
    verdict("small.json", (const char *const[]){"--syscall", "read", "--arch", "x32", NULL},
            "kill\n");
    verdict("small.json", (const char *const[]){"--syscall", "read", "--arch", "i386", NULL},
            "kill\n");
    /* Argument rules: socket(AF_UNIX) is fine, a family above AF_NETLINK is not. */
    verdict("small.json", (const char *const[]){"--syscall", "socket", "--arg", "0=1", NULL},
            "allow\n");
    verdict("small.json", (const char *const[]){"--syscall", "socket", "--arg", "0=17", NULL},
            "errno EAFNOSUPPORT (97)\n");
    verdict("small.json",
            (const char *const[]){"--syscall", "socket", "--arg", "0=0x100000011", NULL},
            "errno EAFNOSUPPORT (97)\n");
    /* A number libseccomp has no name for gets the unknown errno. */
    verdict("small.json", (const char *const[]){"--syscall", "1000", NULL}, "errno ENOSYS (38)\n");
    /* A policy with "base": "none": only what it allows. */
    verdict("old.json", (const char *const[]){"--syscall", "getppid", NULL}, "allow\n");
    verdict("old.json", (const char *const[]){"--syscall", "getpid", NULL}, "errno EPERM (1)\n");
    /* labstack's floor holds in every policy: ioctl is allowed, TIOCSTI is not. */
    verdict("old.json", (const char *const[]){"--syscall", "ioctl", "--arg", "1=0x5401", NULL},
            "allow\n");
    verdict("old.json", (const char *const[]){"--syscall", "ioctl", "--arg", "1=0x5412", NULL},
            "errno EPERM (1)\n");

    struct cli c;
    char small[160];
    path_of(small, sizeof(small), "small.json");
    policy_cli(&c, (const char *const[]){"test", small, "--syscall", "no_such_call", NULL});
    expect(&c, "test unknown name", 2, "no_such_call", true);
    cli_clear(&c);
    policy_cli(&c, (const char *const[]){"test", small, NULL});
    expect(&c, "test without --syscall", 2, "--syscall", true);
    cli_clear(&c);
    policy_cli(&c, (const char *const[]){"test", small, "--syscall", "read", "--arg", "6=1", NULL});
    expect(&c, "test --arg 6=1", 2, "--arg", true);
    cli_clear(&c);
    policy_cli(&c,
               (const char *const[]){"test", small, "--syscall", "read", "--arch", "arm", NULL});
    expect(&c, "test --arch arm", 2, "--arch", true);
    cli_clear(&c);
}

/* ---- diff ------------------------------------------------------------------------------ */

static void test_diff(void **state) {
    struct cli c;
    char o[160], n[160];
    (void)state;

    path_of(o, sizeof(o), "old.json");
    path_of(n, sizeof(n), "new.json");
    policy_cli(&c, (const char *const[]){"diff", o, n, NULL});
    static const char *const wanted[] = {
        "--- old version 1",
        "+++ new version 2",
        "+ allows syscall getpid",
        "- no longer allows syscall getppid",
        "+ allows memory: max raised to 4 GiB (was 1 GiB)",
    };
    for (size_t i = 0; i < N_ELEMS(wanted); i++)
        if (c.exit_code != 0 || !strstr(c.out, wanted[i])) {
            cli_dump("diff old new", &c);
            fail_msg("diff: missing \"%s\"", wanted[i]);
        }
    /* Nothing about what did not change. */
    if (strstr(c.out, "syscall read") || strstr(c.out, "memory: default")) {
        cli_dump("diff old new", &c);
        fail_msg("diff reports something unchanged");
    }
    cli_clear(&c);

    /* The other way round, the same findings with the opposite sign. */
    policy_cli(&c, (const char *const[]){"diff", n, o, NULL});
    expect(&c, "diff new old", 0, "- no longer allows memory: max lowered to 1 GiB (was 4 GiB)",
           false);
    expect(&c, "diff new old", 0, "+ allows syscall getppid", false);
    expect(&c, "diff new old", 0, "- no longer allows syscall getpid", false);
    cli_clear(&c);

    policy_cli(&c, (const char *const[]){"diff", o, o, NULL});
    expect(&c, "diff old old", 0, "no difference", false);
    cli_clear(&c);

    policy_cli(&c, (const char *const[]){"diff", o, NULL});
    expect(&c, "diff with one file", 2, "two files", true);
    cli_clear(&c);
}

/* The review of a real change: from strict to qa-default everything that loosens is
 * named, and the reverse direction names the same things as tightening. */
static void test_diff_shipped(void **state) {
    const char *pdir = getenv("POLICY_DIR");
    char strict[512], qa[512];
    struct cli c;
    (void)state;

    assert_non_null(pdir);
    snprintf(strict, sizeof(strict), "%s/strict.json", pdir);
    snprintf(qa, sizeof(qa), "%s/qa-default.json", pdir);
    policy_cli(&c, (const char *const[]){"diff", strict, qa, NULL});
    static const char *const loosened[] = {
        "--- strict version 1", "+++ qa-default version 1",
        "+ allows memory: max raised to 4 GiB (was 1 GiB)",
        "+ allows syscall socket", "+ allows syscall clone", "+ allows syscall pipe2",
        "+ allows requests to set CFLAGS",
    };
    for (size_t i = 0; i < N_ELEMS(loosened); i++)
        if (c.exit_code != 0 || !strstr(c.out, loosened[i])) {
            cli_dump("diff strict qa-default", &c);
            fail_msg("diff strict qa-default: missing \"%s\"", loosened[i]);
        }
    cli_clear(&c);
    policy_cli(&c, (const char *const[]){"diff", qa, strict, NULL});
    expect(&c, "diff qa-default strict", 0, "- no longer allows syscall socket", false);
    expect(&c, "diff qa-default strict", 0, "- no longer allows memory: max lowered to 1 GiB", false);
    cli_clear(&c);
}

/* ---- sign and verify --------------------------------------------------------------------- */

static void test_sign_verify(void **state) {
    struct cli c;
    char small[160], key[160], pub[160], key2[160], pub2[160];
    (void)state;

    write_keys("key.pem", "pub.pem");
    write_keys("key2.pem", "pub2.pem");
    path_of(small, sizeof(small), "small.json");
    path_of(key, sizeof(key), "key.pem");
    path_of(pub, sizeof(pub), "pub.pem");
    path_of(key2, sizeof(key2), "key2.pem");
    path_of(pub2, sizeof(pub2), "pub2.pem");

    policy_cli(&c, (const char *const[]){"verify", small, "--pubkey", pub, NULL});
    expect(&c, "verify unsigned", 1, "is not signed", true);
    cli_clear(&c);

    policy_cli(&c, (const char *const[]){"sign", small, "--key", key, NULL});
    expect(&c, "sign", 0, ".sig", false);
    cli_clear(&c);

    policy_cli(&c, (const char *const[]){"verify", small, "--pubkey", pub, NULL});
    expect(&c, "verify", 0, "signature valid", false);
    cli_clear(&c);

    policy_cli(&c, (const char *const[]){"verify", small, "--pubkey", pub2, NULL});
    expect(&c, "verify with another key", 1, "signature does not match", true);
    cli_clear(&c);

    /* Tamper: raise the memory max by one character. */
    char *text = strdup(small_json);
    assert_non_null(text);
    char *p = strstr(text, "\"2G\"");
    assert_non_null(p);
    p[1] = '8';
    write_policy("small.json", text);
    free(text);
    policy_cli(&c, (const char *const[]){"verify", small, "--pubkey", pub, NULL});
    expect(&c, "verify tampered", 1, "signature does not match", true);
    cli_clear(&c);
    write_policy("small.json", small_json);

    /* An invalid policy is not signed. */
    char broken[160];
    path_of(broken, sizeof(broken), "broken.json");
    policy_cli(&c, (const char *const[]){"sign", broken, "--key", key, NULL});
    expect(&c, "sign broken", 1, "not a valid policy", true);
    cli_clear(&c);

    /* Keys the wrong way round. */
    policy_cli(&c, (const char *const[]){"sign", small, "--key", pub, NULL});
    expect(&c, "sign with a public key", 1, "public key", true);
    cli_clear(&c);

    policy_cli(&c, (const char *const[]){"sign", small, NULL});
    expect(&c, "sign without --key", 2, "--key", true);
    cli_clear(&c);
    policy_cli(&c, (const char *const[]){"verify", small, "--key", key, NULL});
    expect(&c, "verify with --key", 2, "--key", true);
    cli_clear(&c);
}

/* ---- help and usage ------------------------------------------------------------------------ */

static void test_help(void **state) {
    static const char *const cmds[] = {"check", "explain", "test", "diff", "sign", "verify"};
    struct cli c;
    (void)state;

    policy_cli(&c, (const char *const[]){"--help", NULL});
    expect(&c, "policy --help", 0, "Usage: labstack policy COMMAND", false);
    cli_clear(&c);
    for (size_t i = 0; i < N_ELEMS(cmds); i++) {
        char want[64];
        snprintf(want, sizeof(want), "Usage: labstack policy %s", cmds[i]);
        policy_cli(&c, (const char *const[]){cmds[i], "--help", NULL});
        expect(&c, want, 0, want, false);
        cli_clear(&c);
    }
    policy_cli(&c, (const char *const[]){"frobnicate", NULL});
    expect(&c, "policy frobnicate", 2, "unknown command", true);
    cli_clear(&c);
    policy_cli(&c, (const char *const[]){NULL});
    expect(&c, "policy", 2, "Usage", true);
    cli_clear(&c);
    policy_cli(&c, (const char *const[]){"check", "--bogus", "x.json", NULL});
    expect(&c, "check --bogus", 2, "unknown option --bogus", true);
    cli_clear(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),         cmocka_unit_test(test_check_valid),
        cmocka_unit_test(test_check_broken), cmocka_unit_test(test_check_shipped),
        cmocka_unit_test(test_explain),      cmocka_unit_test(test_test),
        cmocka_unit_test(test_diff),         cmocka_unit_test(test_diff_shipped),
        cmocka_unit_test(test_sign_verify),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
