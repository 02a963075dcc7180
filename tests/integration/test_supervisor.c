/*
 * test_supervisor.c - labstack-supervisor end to end, as root, with real clients.
 *
 * Each test starts a real supervisor in a temporary directory (its own socket, policy
 * directory, audit file, artifact store, uid range and HTTP port) and drives it with
 * the real `labstack run` CLI, run as root or as `nobody`, and with raw sockets for
 * protocol abuse.  Sandboxes are found from the outside by their host uid (the test's
 * own range) and their cgroups.  What the issue asks for, one test each:
 *   50 concurrent runs by an unprivileged user with un-mixed output; `forbidden` for a
 *   client not in a policy's list; the sandbox killed within 100 ms of its client;
 *   kill -9 of the supervisor during 20 runs leaves nothing after a restart; garbage,
 *   truncated frames and a 1 GB length field; mutual TLS; /metrics scraped by a real
 *   Prometheus.  Plus queueing/busy, SIGHUP reload, SIGTERM grace, stdin, workspace
 *   ownership, status, denied-syscall counts.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define NOBODY 65534
#define UID_BASE 3100000u
#define UID_COUNT 512u

static const char *labstack, *supervisor_bin, *probe, *policies_src, *make_certs, *prom_sh;

struct sup {
    char dir[64];
    char sock[128];
    char log[128];
    char audit[128];
    char policies[128];
    int http_port;
    int tls_port;
    pid_t pid;
};

/* ---- small helpers ------------------------------------------------------------- */

static uint64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static char *read_all(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    char *buf = NULL;
    size_t cap = 0, len = 0, n;
    char chunk[8192];
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        memcpy(buf + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (!buf)
        return strdup("");
    buf[len] = 0;
    return buf;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int run_cmd(const char *fmt, ...) {
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int free_port(void) {
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* Processes running as a host uid of this test's range: the sandboxes' processes. */
static int sandbox_procs(void) {
    DIR *d = opendir("/proc");
    struct dirent *de;
    int n = 0;
    assert_non_null(d);
    while ((de = readdir(d))) {
        char path[300];
        struct stat st;
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s", de->d_name);
        if (stat(path, &st) == 0 && st.st_uid >= UID_BASE && st.st_uid < UID_BASE + UID_COUNT)
            n++;
    }
    closedir(d);
    return n;
}

/* Cgroups of this range's sandboxes (sb-<uid>) under any hierarchy. */
static int sandbox_cgroups(void) {
    static const char *const parents[] = {
        "/sys/fs/cgroup/labstack", "/sys/fs/cgroup/memory/labstack", "/sys/fs/cgroup/pids/labstack",
        "/sys/fs/cgroup/cpu/labstack", "/sys/fs/cgroup/cpu,cpuacct/labstack",
        "/sys/fs/cgroup/unified/labstack",
    };
    int n = 0;
    for (size_t i = 0; i < sizeof(parents) / sizeof(parents[0]); i++) {
        DIR *d = opendir(parents[i]);
        struct dirent *de;
        if (!d)
            continue;
        while ((de = readdir(d))) {
            unsigned long uid;
            if (sscanf(de->d_name, "sb-%lu", &uid) == 1 && uid >= UID_BASE && uid < UID_BASE + UID_COUNT)
                n++;
        }
        closedir(d);
    }
    return n;
}

/* Slot files of this range in the uid lock directory. */
static int slot_files(void) {
    DIR *d = opendir("/run/labstack/uids");
    struct dirent *de;
    int n = 0;
    if (!d)
        return 0;
    while ((de = readdir(d))) {
        unsigned long uid;
        if (sscanf(de->d_name, "%lu", &uid) == 1 && uid >= UID_BASE && uid < UID_BASE + UID_COUNT)
            n++;
    }
    closedir(d);
    return n;
}

/* ---- the supervisor ---------------------------------------------------------------- */

static const char root_only_policy[] =
    "{\"name\": \"root-only\", \"version\": 1, \"description\": \"no clients: root only\"}\n";
static const char qa_only_policy[] =
    "{\"name\": \"qa-only\", \"version\": 1, \"extends\": \"qa-default\",\n"
    " \"clients\": {\"roles\": [\"qa\"]}}\n";

static void sup_prepare(struct sup *s) {
    memset(s, 0, sizeof(*s));
    strcpy(s->dir, "/tmp/ls-sup.XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    chmod(s->dir, 0755);
    snprintf(s->sock, sizeof(s->sock), "%s/sup.sock", s->dir);
    snprintf(s->log, sizeof(s->log), "%s/sup.log", s->dir);
    snprintf(s->audit, sizeof(s->audit), "%s/audit.jsonl", s->dir);
    snprintf(s->policies, sizeof(s->policies), "%s/policies", s->dir);
    assert_int_equal(run_cmd("mkdir -p %s && cp -r %s/*.json %s/vendor %s/", s->policies,
                             policies_src, policies_src, s->policies), 0);
    char path[256];
    snprintf(path, sizeof(path), "%s/root-only.json", s->policies);
    write_file(path, root_only_policy);
    snprintf(path, sizeof(path), "%s/qa-only.json", s->policies);
    write_file(path, qa_only_policy);
    s->http_port = free_port();
}

/* Start it with extra flags (NULL-terminated) and wait until the socket answers. */
static void sup_start(struct sup *s, ...) {
    const char *argv[64];
    static char http[64], artifacts[160], audit[160], state[160], cfg[256];
    size_t n = 0;
    va_list ap;

    snprintf(http, sizeof(http), "127.0.0.1:%d", s->http_port);
    snprintf(artifacts, sizeof(artifacts), "dir://%s/artifacts", s->dir);
    snprintf(audit, sizeof(audit), "file://%s", s->audit);
    snprintf(state, sizeof(state), "%s/state", s->dir);
    /* idmap range through a config file: the flags do not cover it */
    char cfgtext[256];
    snprintf(cfg, sizeof(cfg), "%s/config.json", s->dir);
    snprintf(cfgtext, sizeof(cfgtext), "{\"idmap\": {\"base\": %u, \"count\": %u}, \"roles\": {\"qa\": {\"uids\": [1]}}}\n",
             UID_BASE, UID_COUNT);
    write_file(cfg, cfgtext);
    argv[n++] = supervisor_bin;
    argv[n++] = "--config";
    argv[n++] = cfg;
    argv[n++] = "--socket";
    argv[n++] = s->sock;
    argv[n++] = "--socket-mode";
    argv[n++] = "0666";
    argv[n++] = "--policies";
    argv[n++] = s->policies;
    argv[n++] = "--audit";
    argv[n++] = audit;
    argv[n++] = "--artifacts";
    argv[n++] = artifacts;
    argv[n++] = "--state-dir";
    argv[n++] = state;
    argv[n++] = "--http";
    argv[n++] = http;
    va_start(ap, s);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < 62)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;

    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 2);
        dup2(fd, 1);
        execv(supervisor_bin, (char **)argv);
        _exit(127);
    }
    for (int i = 0; i < 1000; i++) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        strcpy(sa.sun_path, s->sock);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            close(fd);
            return;
        }
        close(fd);
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            char *log = read_all(s->log);
            fail_msg("the supervisor exited at start (status %d): %s", st, log);
        }
        sleep_ms(10);
    }
    fail_msg("the supervisor did not open %s within 10 s", s->sock);
}

/* Signal it and wait; returns its wait status. */
static int sup_stop(struct sup *s, int sig) {
    int st = 0;
    if (s->pid <= 0)
        return 0;
    kill(s->pid, sig);
    for (int i = 0; i < 6000; i++) {
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            return st;
        }
        sleep_ms(10);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &st, 0);
    s->pid = 0;
    fail_msg("the supervisor did not stop within 60 s of signal %d", sig);
    return st;
}

static void sup_cleanup(struct sup *s) {
    if (s->pid > 0)
        sup_stop(s, SIGKILL);
    /* Everything must be gone: no process, cgroup or slot of this range. */
    for (int i = 0; i < 500 && (sandbox_procs() || sandbox_cgroups()); i++)
        sleep_ms(10);
    run_cmd("rm -rf %s", s->dir);
}

/* A graceful stop (exit status 0), then the leftover check and cleanup. */
static void sup_finish(struct sup *s) {
    assert_int_equal(sup_stop(s, SIGTERM), 0);
    sup_cleanup(s);
}

/* The audit trail (written just behind the event loop by the sink thread) comes to
 * hold every needle: polled for up to 5 s, then asserted. */
static void expect_audit(const struct sup *s, const char *const *needles) {
    char *audit = NULL;
    for (int i = 0; i < 500; i++) {
        free(audit);
        audit = read_all(s->audit);
        bool all = true;
        for (size_t k = 0; needles[k]; k++)
            all = all && strstr(audit, needles[k]);
        if (all)
            break;
        sleep_ms(10);
    }
    for (size_t k = 0; needles[k]; k++)
        if (!strstr(audit, needles[k]))
            fail_msg("the audit trail %s has no %s:\n%s", s->audit, needles[k], audit);
    free(audit);
}

/* ---- clients ---------------------------------------------------------------------- */

struct client {
    pid_t pid;
    char out_path[160], err_path[160];
    int exit_code;
    char *out, *err;
};

/* Start `labstack run --socket S ARGS...` as uid (0 or NOBODY), stdout/stderr to files,
 * stdin from stdin_text (or /dev/null). */
static void client_start(struct sup *s, struct client *c, uid_t uid, const char *stdin_text,
                         const char *const *args) {
    static int seq;
    const char *argv[80];
    size_t n = 0;
    int in[2] = {-1, -1};

    memset(c, 0, sizeof(*c));
    snprintf(c->out_path, sizeof(c->out_path), "%s/c%d.out", s->dir, seq);
    snprintf(c->err_path, sizeof(c->err_path), "%s/c%d.err", s->dir, seq++);
    bool tls = false;
    for (size_t i = 0; args[i]; i++)
        tls |= strcmp(args[i], "--tls") == 0;
    argv[n++] = labstack;
    argv[n++] = "run";
    if (!tls) {
        argv[n++] = "--socket";
        argv[n++] = s->sock;
    }
    for (size_t i = 0; args[i] && n < 78; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    if (stdin_text)
        assert_int_equal(pipe(in), 0);
    c->pid = fork();
    assert_true(c->pid >= 0);
    if (c->pid == 0) {
        int o = open(c->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(c->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int i = stdin_text ? in[0] : open("/dev/null", O_RDONLY);
        dup2(i, 0);
        dup2(o, 1);
        dup2(e, 2);
        if (stdin_text)
            close(in[1]);
        if (uid != 0 && (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0))
            _exit(126);
        execv(labstack, (char **)argv);
        _exit(127);
    }
    if (stdin_text) {
        close(in[0]);
        (void)!write(in[1], stdin_text, strlen(stdin_text));
        close(in[1]);
    }
}

static void client_wait(struct client *c) {
    int st;
    for (int i = 0; i < 12000; i++) {   /* 120 s */
        if (waitpid(c->pid, &st, WNOHANG) == c->pid)
            goto done;
        sleep_ms(10);
    }
    kill(c->pid, SIGKILL);
    waitpid(c->pid, &st, 0);
    fail_msg("labstack run did not finish within 120 s");
done:
    c->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    c->out = read_all(c->out_path);
    c->err = read_all(c->err_path);
}

static void client_free(struct client *c) {
    free(c->out);
    free(c->err);
    c->out = c->err = NULL;
}

static void client_run(struct sup *s, struct client *c, uid_t uid, const char *stdin_text,
                       const char *const *args) {
    client_start(s, c, uid, stdin_text, args);
    client_wait(c);
}

/* The JSON document on the last line of out (from --json). */
static json_t *last_json_line(const char *out) {
    const char *end = out + strlen(out);
    while (end > out && end[-1] == '\n')
        end--;
    const char *start = end;
    while (start > out && start[-1] != '\n')
        start--;
    return json_loadb(start, (size_t)(end - start), 0, NULL);
}

static void dump_on_failure(struct sup *s, struct client *c) {
    char *log = read_all(s->log);
    print_message("--- client exit %d\nstdout: %s\nstderr: %s\n--- supervisor log:\n%s\n",
                  c->exit_code, c->out ? c->out : "", c->err ? c->err : "", log);
    free(log);
}

/* Run as uid and expect a refusal: exit 125 with needle in stderr. */
static void expect_refused(struct sup *s, uid_t uid, const char *const *args, const char *needle) {
    struct client c;
    client_run(s, &c, uid, NULL, args);
    if (c.exit_code != 125 || !strstr(c.err, needle))
        dump_on_failure(s, &c);
    assert_int_equal(c.exit_code, 125);
    assert_non_null(strstr(c.err, needle));
    client_free(&c);
}

/* ---- tests ---------------------------------------------------------------------------- */

static int setup(void **state) {
    (void)state;
    return 0;
}

static void test_run_basic(void **state) {
    (void)state;
    struct sup s;
    struct client c;
    sup_prepare(&s);
    sup_start(&s, NULL);

    const char *args[] = {"--json", "--", "/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL};
    client_run(&s, &c, NOBODY, NULL, args);
    if (c.exit_code != 3 || !strstr(c.out, "out\n") || !strstr(c.err, "err\n"))
        dump_on_failure(&s, &c);
    assert_int_equal(c.exit_code, 3);
    assert_non_null(strstr(c.out, "out\n"));
    assert_non_null(strstr(c.err, "err\n"));
    json_t *doc = last_json_line(c.out);
    assert_non_null(doc);
    json_t *res = json_object_get(doc, "result");
    assert_string_equal(json_string_value(json_object_get(res, "reason")), "exited");
    assert_int_equal(json_integer_value(json_object_get(res, "exit_code")), 3);
    const char *id = json_string_value(json_object_get(doc, "id"));
    assert_non_null(id);

    /* The result is in the artifact store and the run in the audit trail. */
    char path[256];
    snprintf(path, sizeof(path), "%s/artifacts/%s/result.json", s.dir, id);
    for (int i = 0; i < 200 && access(path, F_OK) < 0; i++)
        sleep_ms(10);
    assert_int_equal(access(path, F_OK), 0);
    expect_audit(&s, (const char *const[]){"\"action\":\"sandbox.requested\"",
                                           "\"action\":\"sandbox.started\"",
                                           "\"action\":\"sandbox.finished\"",
                                           "\"actor\":\"uid:65534\"", NULL});
    json_decref(doc);
    client_free(&c);

    /* stdin streams through */
    const char *cat[] = {"--stdin", "--", "/bin/cat", NULL};
    client_run(&s, &c, NOBODY, "line one\nline two\n", cat);
    if (c.exit_code != 0)
        dump_on_failure(&s, &c);
    assert_int_equal(c.exit_code, 0);
    assert_string_equal(c.out, "line one\nline two\n");
    client_free(&c);

    /* status */
    assert_int_equal(run_cmd("%s status --socket %s --json > %s/status.json", labstack, s.sock, s.dir), 0);
    snprintf(path, sizeof(path), "%s/status.json", s.dir);
    char *st = read_all(path);
    json_t *sdoc = json_loads(st, 0, NULL);
    assert_non_null(sdoc);
    assert_true(json_is_true(json_object_get(sdoc, "ready")));
    assert_true(json_integer_value(json_object_get(sdoc, "started_total")) >= 2);
    json_decref(sdoc);
    free(st);

    sup_finish(&s);
}

/* 50 concurrent runs by `nobody`, each printing 200 numbered lines with its own tag:
 * every client gets exactly its own lines, in order. */
static void test_concurrent_50(void **state) {
    (void)state;
    enum { N = 50, LINES = 200 };
    struct sup s;
    struct client c[N];
    sup_prepare(&s);
    sup_start(&s, NULL);

    char tags[N][16], scripts[N][160];
    for (int i = 0; i < N; i++) {
        snprintf(tags[i], sizeof(tags[i]), "T%02d", i);
        snprintf(scripts[i], sizeof(scripts[i]),
                 "i=0; while [ $i -lt %d ]; do echo %s-$i; echo %s-e$i >&2; i=$((i+1)); done",
                 LINES, tags[i], tags[i]);
        const char *args[] = {"--", "/bin/sh", "-c", scripts[i], NULL};
        client_start(&s, &c[i], NOBODY, NULL, args);
    }
    for (int i = 0; i < N; i++) {
        client_wait(&c[i]);
        if (c[i].exit_code != 0)
            dump_on_failure(&s, &c[i]);
        assert_int_equal(c[i].exit_code, 0);
        char expect[LINES * 16], expect_err[LINES * 16];
        size_t n = 0, m = 0;
        for (int l = 0; l < LINES; l++) {
            n += (size_t)snprintf(expect + n, sizeof(expect) - n, "%s-%d\n", tags[i], l);
            m += (size_t)snprintf(expect_err + m, sizeof(expect_err) - m, "%s-e%d\n", tags[i], l);
        }
        assert_string_equal(c[i].out, expect);
        assert_string_equal(c[i].err, expect_err);
        client_free(&c[i]);
    }
    sup_finish(&s);
}

static void test_forbidden(void **state) {
    (void)state;
    struct sup s;
    struct client c;
    sup_prepare(&s);
    sup_start(&s, NULL);

    const char *root_only[] = {"--policy", "root-only", "--", "/bin/true", NULL};
    expect_refused(&s, NOBODY, root_only, "forbidden");

    const char *qa_only[] = {"--policy", "qa-only", "--", "/bin/true", NULL};
    expect_refused(&s, NOBODY, qa_only, "forbidden");

    /* root may use the root-only policy */
    client_run(&s, &c, 0, NULL, root_only);
    if (c.exit_code != 0)
        dump_on_failure(&s, &c);
    assert_int_equal(c.exit_code, 0);
    client_free(&c);

    /* unknown policy, limit above the maximum */
    const char *unknown[] = {"--policy", "no-such", "--", "/bin/true", NULL};
    expect_refused(&s, NOBODY, unknown, "no-such");
    const char *too_much[] = {"--memory", "64G", "--", "/bin/true", NULL};
    expect_refused(&s, NOBODY, too_much, "memory");

    /* a workspace the client does not own */
    const char *ws_root[] = {"--workspace", s.policies, "--", "/bin/true", NULL};
    expect_refused(&s, NOBODY, ws_root, "owned by uid 0");

    expect_audit(&s, (const char *const[]){"\"action\":\"sandbox.refused\"",
                                           "\"code\":\"forbidden\"", NULL});
    sup_finish(&s);
}

/* Kill the client while its sandbox runs: the sandbox's processes are gone within
 * 100 ms (polled from the outside). */
static void test_client_killed(void **state) {
    (void)state;
    struct sup s;
    struct client c;
    sup_prepare(&s);
    sup_start(&s, NULL);

    const char *args[] = {"--", "/bin/sh", "-c", "echo started; sleep 1000 & sleep 1000", NULL};
    client_start(&s, &c, NOBODY, NULL, args);
    bool started = false;
    for (int i = 0; i < 1000 && !started; i++) {
        char *out = read_all(c.out_path);
        started = strstr(out, "started") != NULL && sandbox_procs() >= 3;
        free(out);
        if (!started)
            sleep_ms(10);
    }
    assert_true(started);
    kill(c.pid, SIGKILL);
    uint64_t t0 = mono_ms();
    int left = -1;
    while (mono_ms() - t0 < 2000 && (left = sandbox_procs()) > 0)
        sleep_ms(2);
    uint64_t took = mono_ms() - t0;
    waitpid(c.pid, NULL, 0);
    print_message("sandbox processes gone %llu ms after the client was killed\n",
                  (unsigned long long)took);
    assert_int_equal(left, 0);
    assert_true(took <= 100);
    /* the run is audited as cancelled */
    expect_audit(&s, (const char *const[]){"\"reason\":\"cancelled\"", NULL});
    sup_finish(&s);
}

/* kill -9 of the supervisor during 20 runs; after a restart nothing is left. */
static void test_supervisor_killed(void **state) {
    (void)state;
    enum { N = 20 };
    struct sup s;
    struct client c[N];
    sup_prepare(&s);
    sup_start(&s, "--max-concurrent", "20", NULL);

    for (int i = 0; i < N; i++) {
        const char *args[] = {"--", "/bin/sh", "-c", "sleep 1000 & sleep 1000", NULL};
        client_start(&s, &c[i], NOBODY, NULL, args);
    }
    for (int i = 0; i < 1000 && sandbox_procs() < 2 * N; i++)
        sleep_ms(10);
    assert_true(sandbox_procs() >= 2 * N);
    assert_true(sandbox_cgroups() >= 1);
    kill(s.pid, SIGKILL);
    waitpid(s.pid, NULL, 0);
    s.pid = 0;
    for (int i = 0; i < N; i++) {
        client_wait(&c[i]);
        assert_int_not_equal(c[i].exit_code, 0);
        client_free(&c[i]);
    }
    sup_start(&s, NULL);
    int procs = -1, cgroups = -1, slots = -1;
    for (int i = 0; i < 1000; i++) {
        procs = sandbox_procs();
        cgroups = sandbox_cgroups();
        slots = slot_files();
        if (!procs && !cgroups && !slots)
            break;
        sleep_ms(10);
    }
    assert_int_equal(procs, 0);
    assert_int_equal(cgroups, 0);
    assert_int_equal(slots, 0);
    /* and it serves again */
    const char *args[] = {"--", "/bin/echo", "again", NULL};
    struct client c2;
    client_run(&s, &c2, NOBODY, NULL, args);
    assert_int_equal(c2.exit_code, 0);
    assert_string_equal(c2.out, "again\n");
    client_free(&c2);
    sup_finish(&s);
}

static int connect_unix(const char *path) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

/* Read until EOF; returns the bytes (NUL-terminated) and their count. */
static char *read_until_eof(int fd, size_t *ret_len) {
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    ssize_t n;
    while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (cap - len < 1024)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = 0;
    *ret_len = len;
    return buf;
}

/* What the supervisor answered to raw bytes: the ERROR frame's code, or "" if none. */
static void expect_error(const char *sock, const void *data, size_t len, const char *code) {
    int fd = connect_unix(sock);
    (void)!write(fd, data, len);
    shutdown(fd, SHUT_WR);
    size_t n;
    char *reply = read_until_eof(fd, &n);
    close(fd);
    assert_true(n >= 8);
    assert_int_equal((unsigned char)reply[0], 1);     /* version */
    assert_int_equal((unsigned char)reply[1], 0x85);  /* ERROR */
    json_t *doc = json_loadb(reply + 8, n - 8, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "code")), code);
    assert_non_null(json_string_value(json_object_get(doc, "message")));
    json_decref(doc);
    free(reply);
}

static void test_garbage(void **state) {
    (void)state;
    struct sup s;
    sup_prepare(&s);
    sup_start(&s, NULL);

    const char garbage[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    expect_error(s.sock, garbage, sizeof(garbage) - 1, "unsupported");
    /* a 1 GB length field */
    const unsigned char huge[] = {1, 0x01, 0, 0, 0x40, 0, 0, 0};
    expect_error(s.sock, huge, sizeof(huge), "too_large");
    /* an unknown type */
    const unsigned char unknown[] = {1, 0x7f, 0, 0, 0, 0, 0, 0};
    expect_error(s.sock, unknown, sizeof(unknown), "unsupported");
    /* bad JSON, a non-object, an unknown key, an empty argv */
    const char *bodies[] = {"{not json", "[1,2]", "{\"argv\":[\"x\"],\"bogus\":1}", "{\"argv\":[]}"};
    for (size_t i = 0; i < 4; i++) {
        unsigned char frame[128];
        size_t blen = strlen(bodies[i]);
        frame[0] = 1;
        frame[1] = 0x01;
        frame[2] = frame[3] = 0;
        frame[4] = frame[5] = frame[6] = 0;
        frame[7] = (unsigned char)blen;
        memcpy(frame + 8, bodies[i], blen);
        expect_error(s.sock, frame, 8 + blen, "bad_request");
    }
    /* truncated frames: the client closes mid-header and mid-payload */
    for (int cut = 1; cut < 12; cut++) {
        const char body[] = "{\"argv\":[\"/bin/true\"]}";
        unsigned char frame[64] = {1, 0x01, 0, 0, 0, 0, 0, sizeof(body) - 1};
        memcpy(frame + 8, body, sizeof(body) - 1);
        int fd = connect_unix(s.sock);
        (void)!write(fd, frame, (size_t)cut);
        close(fd);
    }
    /* random garbage in bulk */
    int rnd = open("/dev/urandom", O_RDONLY);
    for (int i = 0; i < 50; i++) {
        unsigned char buf[4096];
        (void)!read(rnd, buf, sizeof(buf));
        int fd = connect_unix(s.sock);
        (void)!write(fd, buf, (size_t)(i * 80 + 1));
        close(fd);
    }
    close(rnd);

    /* still serving, and still itself */
    struct client c;
    const char *args[] = {"--", "/bin/echo", "alive", NULL};
    client_run(&s, &c, NOBODY, NULL, args);
    assert_int_equal(c.exit_code, 0);
    assert_string_equal(c.out, "alive\n");
    client_free(&c);
    assert_int_equal(waitpid(s.pid, NULL, WNOHANG), 0);
    sup_finish(&s);
}

static void test_busy_and_queue(void **state) {
    (void)state;
    struct sup s;
    struct client c[3];
    sup_prepare(&s);
    sup_start(&s, "--max-concurrent", "1", "--queue-max", "1", NULL);

    const char *slow[] = {"--", "/bin/sh", "-c", "sleep 1; echo done", NULL};
    client_start(&s, &c[0], NOBODY, NULL, slow);
    for (int i = 0; i < 500 && sandbox_procs() == 0; i++)
        sleep_ms(10);
    client_start(&s, &c[1], NOBODY, NULL, slow);
    sleep_ms(200);
    client_start(&s, &c[2], NOBODY, NULL, slow);
    for (int i = 0; i < 3; i++)
        client_wait(&c[i]);
    assert_int_equal(c[0].exit_code, 0);
    assert_int_equal(c[1].exit_code, 0);   /* queued, then ran */
    assert_string_equal(c[1].out, "done\n");
    assert_int_equal(c[2].exit_code, 125);
    assert_non_null(strstr(c[2].err, "busy"));
    for (int i = 0; i < 3; i++)
        client_free(&c[i]);
    sup_finish(&s);
}

/* SIGHUP with a broken file keeps the old set; a good file is picked up. */
static void test_reload(void **state) {
    (void)state;
    struct sup s;
    struct client c;
    char path[256];
    sup_prepare(&s);
    sup_start(&s, NULL);

    snprintf(path, sizeof(path), "%s/broken.json", s.policies);
    write_file(path, "{\"name\": \"broken\", \"version\": 1, \"limits\": {\"memory\": {\"default\": \"lots\"}}}\n");
    kill(s.pid, SIGHUP);
    sleep_ms(500);
    const char *args[] = {"--", "/bin/true", NULL};
    client_run(&s, &c, NOBODY, NULL, args);
    assert_int_equal(c.exit_code, 0);   /* the old set is still in force */
    client_free(&c);
    char *log = read_all(s.log);
    assert_non_null(strstr(log, "policy.reload_failed"));
    assert_non_null(strstr(log, "broken.json"));
    free(log);

    unlink(path);
    snprintf(path, sizeof(path), "%s/newone.json", s.policies);
    write_file(path, "{\"name\": \"newone\", \"version\": 1, \"extends\": \"qa-default\"}\n");
    kill(s.pid, SIGHUP);
    sleep_ms(500);
    const char *newone[] = {"--policy", "newone", "--", "/bin/echo", "new", NULL};
    client_run(&s, &c, NOBODY, NULL, newone);
    assert_int_equal(c.exit_code, 0);
    assert_string_equal(c.out, "new\n");
    client_free(&c);
    sup_finish(&s);
}

/* SIGTERM lets a running sandbox finish within the grace period; past it, kills. */
static void test_sigterm_grace(void **state) {
    (void)state;
    struct sup s;
    struct client c, d;
    sup_prepare(&s);
    sup_start(&s, "--grace", "1s", NULL);

    const char *quick[] = {"--", "/bin/sh", "-c", "sleep 0.3; echo finished", NULL};
    client_start(&s, &c, NOBODY, NULL, quick);
    const char *slow[] = {"--", "/bin/sh", "-c", "echo up; sleep 100", NULL};
    client_start(&s, &d, NOBODY, NULL, slow);
    for (int i = 0; i < 500 && sandbox_procs() < 2; i++)
        sleep_ms(10);
    int st = sup_stop(&s, SIGTERM);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    client_wait(&c);
    client_wait(&d);
    assert_int_equal(c.exit_code, 0);
    assert_string_equal(c.out, "finished\n");
    assert_int_not_equal(d.exit_code, 0);
    client_free(&c);
    client_free(&d);
    assert_int_equal(sandbox_procs(), 0);
    sup_cleanup(&s);
}

static void test_denied_syscalls(void **state) {
    (void)state;
    struct sup s;
    struct client c;
    char ws[200];
    sup_prepare(&s);
    sup_start(&s, NULL);
    snprintf(ws, sizeof(ws), "%s/ws", s.dir);
    assert_int_equal(run_cmd("mkdir -p %s && cp %s %s/probe && chown -R %d:%d %s", ws, probe, ws,
                             NOBODY, NOBODY, ws), 0);
    const char *args[] = {"--workspace", ws, "--json", "--", "/work/probe", "sys", "165", NULL};
    client_run(&s, &c, NOBODY, NULL, args);
    json_t *doc = last_json_line(c.out);
    if (!doc)
        dump_on_failure(&s, &c);
    assert_non_null(doc);
    json_t *denied = json_object_get(json_object_get(doc, "result"), "denied_syscalls");
    assert_true(json_is_object(denied));
    assert_true(json_integer_value(json_object_get(denied, "total")) >= 1);
    assert_true(json_integer_value(json_object_get(json_object_get(denied, "by_syscall"), "mount")) >= 1);
    json_decref(doc);
    client_free(&c);
    sup_finish(&s);
}

static void test_tls(void **state) {
    (void)state;
    struct sup s;
    struct client c;
    char certs[160], listen[64], f[6][200];
    sup_prepare(&s);
    snprintf(certs, sizeof(certs), "%s/certs", s.dir);
    /* the client runs as nobody and must read its own key */
    assert_int_equal(run_cmd("%s %s >/dev/null && chown -R %d %s", make_certs, certs, NOBODY, certs), 0);
    s.tls_port = free_port();
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", s.tls_port);
    snprintf(f[0], sizeof(f[0]), "%s/server.pem", certs);
    snprintf(f[1], sizeof(f[1]), "%s/server.key", certs);
    snprintf(f[2], sizeof(f[2]), "%s/ca.pem", certs);
    sup_start(&s, "--tls-listen", listen, "--tls-cert", f[0], "--tls-key", f[1], "--tls-ca", f[2], NULL);

    snprintf(f[3], sizeof(f[3]), "%s/client.pem", certs);
    snprintf(f[4], sizeof(f[4]), "%s/client.key", certs);
    const char *good[] = {"--tls", listen, "--tls-cert", f[3], "--tls-key", f[4], "--tls-ca", f[2],
                          "--policy", "qa-only", "--", "/bin/echo", "over tls", NULL};
    client_run(&s, &c, NOBODY, NULL, good);
    if (c.exit_code != 0)
        dump_on_failure(&s, &c);
    assert_int_equal(c.exit_code, 0);
    assert_string_equal(c.out, "over tls\n");
    client_free(&c);

    snprintf(f[3], sizeof(f[3]), "%s/rogue-client.pem", certs);
    snprintf(f[4], sizeof(f[4]), "%s/rogue-client.key", certs);
    const char *rogue[] = {"--tls", listen, "--tls-cert", f[3], "--tls-key", f[4], "--tls-ca", f[2],
                           "--", "/bin/echo", "should not run", NULL};
    client_run(&s, &c, NOBODY, NULL, rogue);
    assert_int_not_equal(c.exit_code, 0);
    assert_null(strstr(c.out, "should not run"));
    client_free(&c);

    expect_audit(&s, (const char *const[]){"\"actor\":\"agent:qa/host-12\"",
                                           "\"action\":\"connection.refused\"", NULL});
    sup_finish(&s);
}

static void test_prometheus_scrape(void **state) {
    (void)state;
    struct sup s;
    struct client c;
    char promdir[160], target[64], out[256];
    sup_prepare(&s);
    sup_start(&s, NULL);
    const char *args[] = {"--", "/bin/true", NULL};
    client_run(&s, &c, NOBODY, NULL, args);
    assert_int_equal(c.exit_code, 0);
    client_free(&c);

    snprintf(promdir, sizeof(promdir), "%s/prom", s.dir);
    snprintf(target, sizeof(target), "127.0.0.1:%d", s.http_port);
    snprintf(out, sizeof(out), "%s/query.json", s.dir);
    assert_int_equal(run_cmd("%s start %s %s >/dev/null", prom_sh, promdir, target), 0);
    bool found = false;
    for (int i = 0; i < 60 && !found; i++) {
        sleep_ms(500);
        if (run_cmd("%s query %s 'labstack_sandboxes_started_total' > %s 2>/dev/null", prom_sh,
                    promdir, out) != 0)
            continue;
        char *q = read_all(out);
        json_t *doc = json_loads(q, 0, NULL);
        json_t *result = json_object_get(json_object_get(doc, "data"), "result");
        json_t *value = json_array_get(json_object_get(json_array_get(result, 0), "value"), 1);
        found = json_is_string(value) && atof(json_string_value(value)) >= 1;
        json_decref(doc);
        free(q);
    }
    run_cmd("%s stop %s", prom_sh, promdir);
    assert_true(found);
    sup_finish(&s);
}

/* `labstack status` counts every run but lists only the caller's own (root: all). */
static void test_status_privacy(void **state) {
    (void)state;
    struct sup s;
    struct client c;
    char path[256];
    sup_prepare(&s);
    sup_start(&s, NULL);

    const char *args[] = {"--", "/bin/sh", "-c", "echo up; sleep 100", NULL};
    client_start(&s, &c, 0, NULL, args);
    for (int i = 0; i < 500 && sandbox_procs() == 0; i++)
        sleep_ms(10);
    snprintf(path, sizeof(path), "%s/status-nobody.json", s.dir);
    assert_int_equal(run_cmd("setpriv --reuid=%d --regid=%d --clear-groups -- %s status --socket %s --json > %s",
                             NOBODY, NOBODY, labstack, s.sock, path), 0);
    char *text = read_all(path);
    json_t *doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    assert_int_equal(json_integer_value(json_object_get(doc, "running")), 1);
    assert_int_equal(json_array_size(json_object_get(doc, "sandboxes")), 0);
    json_decref(doc);
    free(text);
    snprintf(path, sizeof(path), "%s/status-root.json", s.dir);
    assert_int_equal(run_cmd("%s status --socket %s --json > %s", labstack, s.sock, path), 0);
    text = read_all(path);
    doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    json_t *sb = json_array_get(json_object_get(doc, "sandboxes"), 0);
    assert_string_equal(json_string_value(json_object_get(sb, "client")), "uid:0");
    json_decref(doc);
    free(text);
    kill(c.pid, SIGTERM);   /* the CLI cancels its run */
    client_wait(&c);
    client_free(&c);
    sup_finish(&s);
}

int main(void) {
    if (geteuid() != 0) {
        printf("SKIP: test_supervisor needs root (it starts labstack-supervisor)\n");
        return 77;
    }
    labstack = getenv("LABSTACK");
    supervisor_bin = getenv("LABSTACK_SUPERVISOR");
    probe = getenv("PROBE");
    policies_src = getenv("POLICIES_SRC");
    make_certs = getenv("TLS_MAKE_CERTS");
    prom_sh = getenv("PROMETHEUS_SH");
    if (!labstack || !supervisor_bin || !probe || !policies_src || !make_certs || !prom_sh) {
        fprintf(stderr, "test_supervisor: LABSTACK, LABSTACK_SUPERVISOR, PROBE, POLICIES_SRC, "
                        "TLS_MAKE_CERTS and PROMETHEUS_SH must be set (meson does)\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_basic),
        cmocka_unit_test(test_forbidden),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_concurrent_50),
        cmocka_unit_test(test_client_killed),
        cmocka_unit_test(test_supervisor_killed),
        cmocka_unit_test(test_busy_and_queue),
        cmocka_unit_test(test_status_privacy),
        cmocka_unit_test(test_reload),
        cmocka_unit_test(test_sigterm_grace),
        cmocka_unit_test(test_denied_syscalls),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_prometheus_scrape),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
