/*
 * Unit tests for supervisor/sinks.c: opening creates the directories; audit records
 * land one valid JSON object per line, in order, by the time sinks_close returns; two
 * threads' records interleave as whole lines; artifacts are written with their exact
 * bytes and no temp files left; bad URLs are refused; and a write that fails (a file
 * size limit, a full tmpfs) turns the sinks unhealthy with a reason naming the path.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "labstack/error.h"
#include "labstack/fileio.h"
#include "sinks.h"

static char dir[] = "/tmp/test_sinks.XXXXXX";

/* "<dir>/<rel>" into a static rotating buffer (enough for a few at once). */
static const char *at(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *at(const char *fmt, ...) {
    static char bufs[8][512];
    static unsigned next;
    char *b = bufs[next++ % 8];
    va_list ap;
    int n = snprintf(b, 512, "%s/", dir);
    va_start(ap, fmt);
    vsnprintf(b + n, 512 - (size_t)n, fmt, ap);
    va_end(ap);
    return b;
}

static void open_sinks(const char *audit_url, const char *art_url, struct sinks **ret) {
    struct ls_error err;
    ls_error_clear(&err);
    int r = sinks_open(audit_url, art_url, ret, &err);
    if (r < 0)
        fprintf(stderr, "sinks_open: %s\n", err.msg);
    assert_int_equal(r, 0);
    assert_non_null(*ret);
}

/* The lines of a file, each without its '\n'; the last line must end in '\n'. */
static size_t read_lines(const char *path, char ***ret) {
    char *data;
    size_t len, n = 0;
    assert_int_equal(ls_read_file(path, 64u << 20, &data, &len), 0);
    assert_true(len == 0 || data[len - 1] == '\n');
    char **lines = calloc(len + 1, sizeof(*lines));
    assert_non_null(lines);
    for (char *p = data, *nl; p < data + len; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(data + len - p));
        assert_non_null(nl);
        *nl = 0;
        lines[n] = strdup(p);
        assert_non_null(lines[n]);
        n++;
    }
    free(data);
    *ret = lines;
    return n;
}

static void free_lines(char **lines, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}

/* Parse one audit line: an object with exactly ts, action, actor, subject, details
 * (in that order), ts like 2026-11-25T10:00:00.123Z. */
static json_t *parse_record(const char *line) {
    json_error_t jerr;
    json_t *rec = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
    if (!rec)
        fprintf(stderr, "bad audit line: %s (%s)\n", line, jerr.text);
    assert_non_null(rec);
    assert_true(json_is_object(rec));
    assert_int_equal(json_object_size(rec), 5);
    static const char *const keys[] = {"ts", "action", "actor", "subject", "details"};
    void *it = json_object_iter(rec);
    for (size_t i = 0; i < 5; i++, it = json_object_iter_next(rec, it)) {
        assert_non_null(it);
        assert_string_equal(json_object_iter_key(it), keys[i]);
    }
    const char *ts = json_string_value(json_object_get(rec, "ts"));
    assert_non_null(ts);
    assert_int_equal(strlen(ts), 24);
    struct tm tm = {0};
    const char *rest = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm);
    assert_non_null(rest);
    assert_true(rest[0] == '.' && rest[1] >= '0' && rest[1] <= '9' && rest[2] >= '0' &&
                rest[2] <= '9' && rest[3] >= '0' && rest[3] <= '9' && rest[4] == 'Z');
    assert_true(tm.tm_year + 1900 >= 2024);
    assert_true(json_is_string(json_object_get(rec, "action")));
    assert_true(json_is_string(json_object_get(rec, "actor")));
    json_t *subject = json_object_get(rec, "subject");
    assert_true(json_is_string(subject) || json_is_null(subject));
    assert_true(json_is_object(json_object_get(rec, "details")));
    return rec;
}

static void open_creates_directories(void **state) {
    struct sinks *s = NULL;
    struct stat st;
    char audit_url[600], art_url[600];
    const char *reason = "untouched";

    snprintf(audit_url, sizeof(audit_url), "file://%s", at("a/b/audit.jsonl"));
    snprintf(art_url, sizeof(art_url), "dir://%s", at("art/x/y"));
    open_sinks(audit_url, art_url, &s);
    assert_int_equal(stat(at("a/b"), &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0750);
    assert_int_equal(lstat(at("a/b/audit.jsonl"), &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(stat(at("art/x/y"), &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0750);
    assert_true(sinks_healthy(s, &reason));
    assert_string_equal(reason, "untouched");
    sinks_close(s);

    /* Opening again over what exists is fine and keeps the audit file. */
    int fd = open(at("a/b/audit.jsonl"), O_WRONLY | O_APPEND | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{}\n", 3), 3);
    close(fd);
    open_sinks(audit_url, art_url, &s);
    sinks_close(s);
    assert_int_equal(stat(at("a/b/audit.jsonl"), &st), 0);
    assert_int_equal(st.st_size, 3);
}

static void audit_records_in_order(void **state) {
    struct sinks *s = NULL;
    char audit_url[600], art_url[600], **lines;
    const size_t n = 300;

    snprintf(audit_url, sizeof(audit_url), "file://%s", at("order/audit.jsonl"));
    snprintf(art_url, sizeof(art_url), "dir://%s", at("order/art"));
    open_sinks(audit_url, art_url, &s);
    for (size_t i = 0; i < n; i++) {
        char action[32];
        snprintf(action, sizeof(action), "act.%zu", i);
        json_t *details = i % 3 == 0 ? NULL : json_pack("{s:I, s:s}", "i", (json_int_t)i, "q", "a\"b\nc");
        sinks_audit(s, action, i % 2 ? "uid:1000" : "cert:CN=qa", i % 5 == 0 ? NULL : "run-x",
                    details);
    }
    /* sinks_close drains the queue before it returns */
    sinks_close(s);

    size_t got = read_lines(at("order/audit.jsonl"), &lines);
    assert_int_equal(got, n);
    for (size_t i = 0; i < n; i++) {
        char action[32];
        json_t *rec = parse_record(lines[i]);
        snprintf(action, sizeof(action), "act.%zu", i);
        assert_string_equal(json_string_value(json_object_get(rec, "action")), action);
        assert_string_equal(json_string_value(json_object_get(rec, "actor")),
                            i % 2 ? "uid:1000" : "cert:CN=qa");
        if (i % 5 == 0)
            assert_true(json_is_null(json_object_get(rec, "subject")));
        else
            assert_string_equal(json_string_value(json_object_get(rec, "subject")), "run-x");
        json_t *details = json_object_get(rec, "details");
        if (i % 3 == 0) {
            assert_int_equal(json_object_size(details), 0);
        } else {
            assert_int_equal(json_integer_value(json_object_get(details, "i")), i);
            assert_string_equal(json_string_value(json_object_get(details, "q")), "a\"b\nc");
        }
        json_decref(rec);
    }
    free_lines(lines, got);

    /* Reopened, the sink appends after what is there. */
    open_sinks(audit_url, art_url, &s);
    sinks_audit(s, "again", "me", "it", NULL);
    sinks_close(s);
    got = read_lines(at("order/audit.jsonl"), &lines);
    assert_int_equal(got, n + 1);
    json_t *rec = parse_record(lines[n]);
    assert_string_equal(json_string_value(json_object_get(rec, "action")), "again");
    json_decref(rec);
    free_lines(lines, got);
}

/* A record that cannot be built (NULL actor) is dropped -- logged, details
 * freed (ASan) -- and the records around it still go through. */
static void unbuildable_record_dropped(void **state) {
    struct sinks *s = NULL;
    char audit_url[600], art_url[600], **lines;

    snprintf(audit_url, sizeof(audit_url), "file://%s", at("drop/audit.jsonl"));
    snprintf(art_url, sizeof(art_url), "dir://%s", at("drop/art"));
    open_sinks(audit_url, art_url, &s);
    sinks_audit(s, "first", "a", NULL, NULL);
    sinks_audit(s, "no-actor", NULL, NULL, json_pack("{s:s}", "k", "leaks if not freed"));
    sinks_audit(s, "last", "a", NULL, NULL);
    sinks_close(s);
    size_t got = read_lines(at("drop/audit.jsonl"), &lines);
    assert_int_equal(got, 2);
    assert_non_null(strstr(lines[0], "\"first\""));
    assert_non_null(strstr(lines[1], "\"last\""));
    free_lines(lines, got);
}

struct writer {
    struct sinks *s;
    int t;
    pthread_barrier_t *start;
};

#define PER_THREAD 500

static void *write_records(void *arg) {
    struct writer *w = arg;
    char actor[16], pad[300];
    snprintf(actor, sizeof(actor), "t%d", w->t);
    /* records of varied length, some larger than a pipe's atomic write */
    memset(pad, 'a' + w->t, sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = 0;
    pthread_barrier_wait(w->start);
    for (int i = 0; i < PER_THREAD; i++)
        sinks_audit(w->s, "tick", actor, NULL,
                    json_pack("{s:i, s:s}", "n", i, "pad", pad + (i * 7) % (sizeof(pad) - 1)));
    return NULL;
}

static void two_threads_whole_lines(void **state) {
    struct sinks *s = NULL;
    char audit_url[600], art_url[600], **lines;
    pthread_t th[2];
    pthread_barrier_t start;
    struct writer w[2];

    snprintf(audit_url, sizeof(audit_url), "file://%s", at("mt/audit.jsonl"));
    snprintf(art_url, sizeof(art_url), "dir://%s", at("mt/art"));
    open_sinks(audit_url, art_url, &s);
    assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
    for (int t = 0; t < 2; t++) {
        w[t] = (struct writer){.s = s, .t = t, .start = &start};
        assert_int_equal(pthread_create(&th[t], NULL, write_records, &w[t]), 0);
    }
    for (int t = 0; t < 2; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    pthread_barrier_destroy(&start);
    sinks_close(s);

    size_t got = read_lines(at("mt/audit.jsonl"), &lines);
    assert_int_equal(got, 2 * PER_THREAD);
    int next[2] = {0, 0};
    for (size_t i = 0; i < got; i++) {
        json_t *rec = parse_record(lines[i]);
        const char *actor = json_string_value(json_object_get(rec, "actor"));
        assert_true(strcmp(actor, "t0") == 0 || strcmp(actor, "t1") == 0);
        int t = actor[1] - '0';
        json_t *d = json_object_get(rec, "details");
        /* each thread's records in its own order */
        assert_int_equal(json_integer_value(json_object_get(d, "n")), next[t]);
        const char *pad = json_string_value(json_object_get(d, "pad"));
        assert_non_null(pad);
        for (const char *p = pad; *p; p++)
            assert_int_equal(*p, 'a' + t);
        next[t]++;
        json_decref(rec);
    }
    assert_int_equal(next[0], PER_THREAD);
    assert_int_equal(next[1], PER_THREAD);
    free_lines(lines, got);
}

/* The names in path, sorted, joined with ','. */
static void list_dir(const char *path, char *buf, size_t size) {
    struct dirent **ents;
    int n = scandir(path, &ents, NULL, alphasort);
    assert_true(n >= 0);
    buf[0] = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, "..")) {
            if (buf[0])
                strncat(buf, ",", size - strlen(buf) - 1);
            strncat(buf, ents[i]->d_name, size - strlen(buf) - 1);
        }
        free(ents[i]);
    }
    free(ents);
}

static void assert_file_bytes(const char *path, const void *want, size_t want_len) {
    char *data;
    size_t len;
    struct stat st;
    assert_int_equal(ls_read_file(path, 16u << 20, &data, &len), 0);
    assert_int_equal(len, want_len);
    assert_memory_equal(data, want, want_len);
    free(data);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
}

static void artifacts_exact_and_atomic(void **state) {
    struct sinks *s = NULL;
    char audit_url[600], art_url[600], names[512];
    static const unsigned char bin[] = {0, 1, 2, 0xff, '\n', 0, 'x', 0x80};
    size_t big_len = 3u << 20;
    unsigned char *big = malloc(big_len);
    assert_non_null(big);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (unsigned char)(i * 2654435761u >> 13);

    snprintf(audit_url, sizeof(audit_url), "file://%s", at("art-test/audit.jsonl"));
    snprintf(art_url, sizeof(art_url), "dir://%s", at("art-test/store"));
    open_sinks(audit_url, art_url, &s);
    sinks_artifact(s, "run-1", "result.json", "{\"ok\":true}", 11);
    sinks_artifact(s, "run-1", "bin", bin, sizeof(bin));
    sinks_artifact(s, "run-1", "empty", "", 0);
    sinks_artifact(s, "run-2", "big", big, big_len);
    memset(big, 0, 16); /* the data was copied when queued */
    sinks_artifact(s, "run-1", "twice", "first", 5);
    sinks_artifact(s, "run-1", "twice", "second!", 7);
    sinks_close(s);

    assert_file_bytes(at("art-test/store/run-1/result.json"), "{\"ok\":true}", 11);
    assert_file_bytes(at("art-test/store/run-1/bin"), bin, sizeof(bin));
    assert_file_bytes(at("art-test/store/run-1/empty"), "", 0);
    assert_file_bytes(at("art-test/store/run-1/twice"), "second!", 7);
    for (size_t i = 0; i < 16; i++)
        big[i] = (unsigned char)(i * 2654435761u >> 13);
    assert_file_bytes(at("art-test/store/run-2/big"), big, big_len);
    free(big);

    /* exactly the files, no "*.tmp.XXXXXX" left over */
    list_dir(at("art-test/store"), names, sizeof(names));
    assert_string_equal(names, "run-1,run-2");
    list_dir(at("art-test/store/run-1"), names, sizeof(names));
    assert_string_equal(names, "bin,empty,result.json,twice");
    list_dir(at("art-test/store/run-2"), names, sizeof(names));
    assert_string_equal(names, "big");
    struct stat st;
    assert_int_equal(stat(at("art-test/store/run-1"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0750);
    /* artifacts never touch the audit file */
    assert_int_equal(stat(at("art-test/audit.jsonl"), &st), 0);
    assert_int_equal(st.st_size, 0);
}

static void bad_urls_refused(void **state) {
    char good_audit[600], good_art[600];
    snprintf(good_audit, sizeof(good_audit), "file://%s", at("bad/audit.jsonl"));
    snprintf(good_art, sizeof(good_art), "dir://%s", at("bad/art"));
    const struct {
        const char *audit, *art, *step, *want;
    } cases[] = {
        {"http://example.invalid/audit", good_art, "audit", "--audit http://example.invalid/audit"},
        {"file:relative.jsonl", good_art, "audit", "--audit file:relative.jsonl"},
        {"file://relative/audit.jsonl", good_art, "audit", "--audit file://relative"},
        {"file://", good_art, "audit", "--audit file://"},
        {"", good_art, "audit", "--audit "},
        {"postgres://db/labstack", good_art, "audit", "expected file:///path"},
        {"FILE:///tmp/x", good_art, "audit", "--audit"},
        {good_audit, "dir:", "artifacts", "--artifacts dir:"},
        {good_audit, "dir://", "artifacts", "--artifacts dir://"},
        {good_audit, "dir:relative", "artifacts", "--artifacts dir:relative"},
        {good_audit, "s3://bucket/p", "artifacts", "expected dir:///path"},
        {good_audit, "file:///tmp/art", "artifacts", "--artifacts file:///tmp/art"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sinks *s = (struct sinks *)(uintptr_t)0x1;
        struct ls_error err;
        ls_error_clear(&err);
        int r = sinks_open(cases[i].audit, cases[i].art, &s, &err);
        if (r != -EINVAL || !strstr(err.msg, cases[i].want))
            fprintf(stderr, "sinks_open(%s, %s) = %d \"%s\"\n", cases[i].audit, cases[i].art, r,
                    err.msg);
        assert_int_equal(r, -EINVAL);
        assert_string_equal(err.step, cases[i].step);
        assert_non_null(strstr(err.msg, cases[i].want));
        assert_ptr_equal(s, (struct sinks *)(uintptr_t)0x1);
    }
    /* Refused before anything was created. */
    struct stat st;
    assert_int_equal(stat(at("bad"), &st), -1);
    assert_int_equal(errno, ENOENT);
}

/* The audit path cannot be opened: a directory, a symlink (O_NOFOLLOW), a parent that
 * is a file. */
static void unopenable_audit_refused(void **state) {
    char audit_url[600], art_url[600];
    struct ls_error err;
    struct sinks *s = (struct sinks *)(uintptr_t)0x1;

    assert_int_equal(mkdir(at("un"), 0700), 0);
    snprintf(art_url, sizeof(art_url), "dir://%s", at("un/art"));

    assert_int_equal(mkdir(at("un/isdir"), 0700), 0);
    snprintf(audit_url, sizeof(audit_url), "file://%s", at("un/isdir"));
    assert_int_equal(sinks_open(audit_url, art_url, &s, &err), -EISDIR);
    assert_non_null(strstr(err.msg, at("un/isdir")));

    assert_int_equal(symlink("/dev/null", at("un/link")), 0);
    snprintf(audit_url, sizeof(audit_url), "file://%s", at("un/link"));
    assert_int_equal(sinks_open(audit_url, art_url, &s, &err), -ELOOP);
    assert_non_null(strstr(err.msg, at("un/link")));

    int fd = open(at("un/file"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    close(fd);
    snprintf(audit_url, sizeof(audit_url), "file://%s", at("un/file/sub/audit.jsonl"));
    assert_int_equal(sinks_open(audit_url, art_url, &s, &err), -ENOTDIR);
    assert_non_null(strstr(err.msg, at("un/file/sub")));
    assert_ptr_equal(s, (struct sinks *)(uintptr_t)0x1);
}

/* Wait (at most 10 s) for the sink thread to notice a failure. */
static bool wait_unhealthy(struct sinks *s, const char **reason) {
    for (int i = 0; i < 1000; i++) {
        if (!sinks_healthy(s, reason))
            return true;
        usleep(10000);
    }
    return false;
}

/* In a forked child (its own rlimits, its own mounts): exit 0 on success, else print
 * why and exit 1; 77 means "cannot run here". */
#define CHILD_CHECK(cond)                                                                 \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "child: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            _exit(1);                                                                     \
        }                                                                                 \
    } while (0)

static int run_child(void (*fn)(void)) {
    int status;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fn();
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status))
        fprintf(stderr, "child died: status 0x%x\n", status);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* Writes beyond RLIMIT_FSIZE fail with EFBIG (SIGXFSZ ignored). */
static void child_fsize(void) {
    struct sinks *s = NULL;
    struct ls_error err;
    char audit_url[620], art_url[600], audit_path[600];
    const char *reason = NULL;

    snprintf(audit_path, sizeof(audit_path), "%s", at("fsize/audit.jsonl"));
    snprintf(audit_url, sizeof(audit_url), "file://%s", audit_path);
    snprintf(art_url, sizeof(art_url), "dir://%s", at("fsize/art"));
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {.rlim_cur = 200, .rlim_max = RLIM_INFINITY};
    CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
    CHILD_CHECK(sinks_open(audit_url, art_url, &s, &err) == 0);
    CHILD_CHECK(sinks_healthy(s, &reason));
    sinks_audit(s, "small", "a", NULL, NULL); /* fits */
    for (int i = 0; i < 5; i++)
        sinks_audit(s, "big", "a", NULL, json_pack("{s:s}", "x", "0123456789012345678901234567890123456789"));
    CHILD_CHECK(wait_unhealthy(s, &reason));
    fprintf(stderr, "child: unhealthy: %s\n", reason);
    CHILD_CHECK(strstr(reason, audit_path) != NULL);
    CHILD_CHECK(strstr(reason, strerror(EFBIG)) != NULL);
    /* It stays unhealthy, with the first reason, and close still drains and returns. */
    sinks_audit(s, "more", "a", NULL, NULL);
    CHILD_CHECK(!sinks_healthy(s, NULL));
    sinks_close(s);
    struct stat st;
    CHILD_CHECK(stat(audit_path, &st) == 0 && st.st_size <= 200);
}

static void unhealthy_on_file_size_limit(void **state) {
    assert_int_equal(run_child(child_fsize), 0);
}

/* Mount a 4 KiB tmpfs at <dir>/full in a private mount namespace and fill it. */
static bool full_tmpfs(const char *mnt) {
    if (unshare(CLONE_NEWNS) < 0) {
        fprintf(stderr, "child: unshare(CLONE_NEWNS): %s\n", strerror(errno));
        return false;
    }
    /* Our mounts must not propagate back to the host's namespace. */
    CHILD_CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
    CHILD_CHECK(mkdir(mnt, 0700) == 0 || errno == EEXIST);
    CHILD_CHECK(mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=4k,mode=0700") == 0);
    char filler[600], buf[4096] = {0};
    snprintf(filler, sizeof(filler), "%s/filler", mnt);
    int fd = open(filler, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    CHILD_CHECK(fd >= 0);
    ssize_t n;
    while ((n = write(fd, buf, sizeof(buf))) > 0)
        ;
    CHILD_CHECK(n < 0 && errno == ENOSPC);
    close(fd);
    return true;
}

static void child_full_audit(void) {
    struct sinks *s = NULL;
    struct ls_error err;
    char mnt[600], audit_url[720], art_url[600], audit_path[700];
    const char *reason = NULL;

    snprintf(mnt, sizeof(mnt), "%s", at("full-audit"));
    if (!full_tmpfs(mnt))
        _exit(77);
    snprintf(audit_path, sizeof(audit_path), "%s/log/audit.jsonl", mnt);
    snprintf(audit_url, sizeof(audit_url), "file://%s", audit_path);
    snprintf(art_url, sizeof(art_url), "dir://%s", at("full-audit-art"));
    /* Directories and an empty file take no blocks: opening works. */
    CHILD_CHECK(sinks_open(audit_url, art_url, &s, &err) == 0);
    CHILD_CHECK(sinks_healthy(s, &reason));
    sinks_audit(s, "run.start", "uid:0", "run-1", NULL);
    CHILD_CHECK(wait_unhealthy(s, &reason));
    fprintf(stderr, "child: unhealthy: %s\n", reason);
    CHILD_CHECK(strstr(reason, audit_path) != NULL);
    CHILD_CHECK(strstr(reason, strerror(ENOSPC)) != NULL);
    sinks_close(s);
}

static void child_full_artifacts(void) {
    struct sinks *s = NULL;
    struct ls_error err;
    char mnt[600], audit_url[700], art_url[700], want[800];
    const char *reason = NULL;

    snprintf(mnt, sizeof(mnt), "%s", at("full-art"));
    if (!full_tmpfs(mnt))
        _exit(77);
    snprintf(audit_url, sizeof(audit_url), "file://%s", at("full-art-audit.jsonl"));
    snprintf(art_url, sizeof(art_url), "dir://%s/store", mnt);
    CHILD_CHECK(sinks_open(audit_url, art_url, &s, &err) == 0);
    static const char data[8192] = {1};
    sinks_artifact(s, "run-9", "result.json", data, sizeof(data));
    CHILD_CHECK(wait_unhealthy(s, &reason));
    fprintf(stderr, "child: unhealthy: %s\n", reason);
    snprintf(want, sizeof(want), "%s/store/run-9/result.json", mnt);
    CHILD_CHECK(strstr(reason, want) != NULL);
    CHILD_CHECK(strstr(reason, strerror(ENOSPC)) != NULL);
    sinks_close(s);
    /* the failed write left no temp file behind */
    char run_dir[700];
    snprintf(run_dir, sizeof(run_dir), "%s/store/run-9", mnt);
    DIR *d = opendir(run_dir);
    CHILD_CHECK(d);
    struct dirent *e;
    while ((e = readdir(d)))
        CHILD_CHECK(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0);
    closedir(d);
}

static void unhealthy_on_full_tmpfs(void **state) {
    if (geteuid() != 0)
        skip();
    int r = run_child(child_full_audit);
    if (r == 77)
        skip();
    assert_int_equal(r, 0);
    assert_int_equal(run_child(child_full_artifacts), 0);
}

static void close_null(void **state) {
    sinks_close(NULL);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    return remove(path);
}

static int setup(void **state) {
    umask(022);
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(open_creates_directories),
        cmocka_unit_test(audit_records_in_order),
        cmocka_unit_test(unbuildable_record_dropped),
        cmocka_unit_test(two_threads_whole_lines),
        cmocka_unit_test(artifacts_exact_and_atomic),
        cmocka_unit_test(bad_urls_refused),
        cmocka_unit_test(unopenable_audit_refused),
        cmocka_unit_test(unhealthy_on_file_size_limit),
        cmocka_unit_test(unhealthy_on_full_tmpfs),
        cmocka_unit_test(close_null),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
