/*
 * Unit tests for supervisor/metrics.c: the exact text exposition format of counters,
 * gauges and histograms, escaping, the cardinality cap, updates racing a renderer, and
 * the supervisor's metric set as `promtool check metrics` (Debian: prometheus) sees it.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"

/* Render m and compare with want, printing both on a mismatch. */
static void assert_renders(struct ls_metrics *m, const char *want) {
    char *text;
    size_t len;
    assert_int_equal(ls_metrics_render(m, &text, &len), 0);
    assert_int_equal(len, strlen(text));
    if (strcmp(text, want) != 0)
        fprintf(stderr, "--- want\n%s--- got\n%s---\n", want, text);
    assert_string_equal(text, want);
    free(text);
}

/* noinline: GCC 12 otherwise thinks the result may point at the local `text`
 * (-Wdangling-pointer false positive, as &text escapes). */
__attribute__((noinline)) static char *render(struct ls_metrics *m) {
    char *text;
    size_t len;
    assert_int_equal(ls_metrics_render(m, &text, &len), 0);
    return text;
}

static void counters_and_gauges_render_exactly(void **state) {
    struct ls_metrics *m;
    struct ls_counter *c, *lc;
    struct ls_gauge *g, *lg;
    static const char *const two[] = {"method", "code", NULL};
    static const char *const one[] = {"version", NULL};

    assert_int_equal(ls_metrics_new(&m), 0);
    assert_int_equal(ls_metrics_counter(m, "a_total", "Things.", NULL, 0, &c), 0);
    assert_int_equal(ls_metrics_gauge(m, "b", "Level.", NULL, 0, &g), 0);
    assert_int_equal(ls_metrics_counter(m, "c_total", "By two labels.", two, 4, &lc), 0);
    assert_int_equal(ls_metrics_gauge(m, "d_info", "Info.", one, 1, &lg), 0);

    /* Unlabelled families render 0 from the start; untouched labelled ones not at all. */
    assert_renders(m, "# HELP a_total Things.\n# TYPE a_total counter\na_total 0\n"
                      "# HELP b Level.\n# TYPE b gauge\nb 0\n");

    ls_counter_inc(c);
    ls_counter_inc(c);
    ls_counter_add(c, 0.5);
    ls_counter_add(c, -1);  /* ignored: counters only go up */
    ls_counter_add(c, NAN); /* ignored */
    ls_gauge_set(g, 10);
    ls_gauge_add(g, -12.5);
    ls_counter_labels_add(lc, 1, "get", "200");
    ls_counter_labels_add(lc, 2, "post", "500");
    ls_counter_labels_add(lc, 3, "get", "200");
    ls_counter_labels_add(lc, 0, "head", "404"); /* declared, stays 0 */
    ls_gauge_labels_set(lg, 1, "0.1.0", NULL);

    assert_renders(m, "# HELP a_total Things.\n# TYPE a_total counter\na_total 2.5\n"
                      "# HELP b Level.\n# TYPE b gauge\nb -2.5\n"
                      "# HELP c_total By two labels.\n# TYPE c_total counter\n"
                      "c_total{method=\"get\",code=\"200\"} 4\n"
                      "c_total{method=\"post\",code=\"500\"} 2\n"
                      "c_total{method=\"head\",code=\"404\"} 0\n"
                      "# HELP d_info Info.\n# TYPE d_info gauge\n"
                      "d_info{version=\"0.1.0\"} 1\n");
    ls_metrics_free(m);
}

static void numbers_use_the_shortest_exact_form(void **state) {
    struct ls_metrics *m;
    struct ls_gauge *g[7];
    const char *names[] = {"g0", "g1", "g2", "g3", "g4", "g5", "g6"};
    const double values[] = {0.1, 1e-9, 1e21, INFINITY, -INFINITY, NAN, 123456789012};
    static const char *const more[][2] = {
        {"0", "0"},
        {"10", "10"},
        {"0.001", "0.001"},
        {"0.0001", "0.0001"},
        {"0.00001", "1e-05"},
        {"1e20", "100000000000000000000"},
        {"-2.5", "-2.5"},
        {"0.30000000000000004", "0.30000000000000004"},
        {"1.7976931348623157e308", "1.7976931348623157e+308"},
        {"4.9406564584124654e-324", "5e-324"},
        {"9007199254740993", "9007199254740992"},
        {"123.456", "123.456"},
    };

    assert_int_equal(ls_metrics_new(&m), 0);
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(ls_metrics_gauge(m, names[i], "x", NULL, 0, &g[i]), 0);
        ls_gauge_set(g[i], values[i]);
    }
    assert_renders(m, "# HELP g0 x\n# TYPE g0 gauge\ng0 0.1\n"
                      "# HELP g1 x\n# TYPE g1 gauge\ng1 1e-09\n"
                      "# HELP g2 x\n# TYPE g2 gauge\ng2 1e+21\n"
                      "# HELP g3 x\n# TYPE g3 gauge\ng3 +Inf\n"
                      "# HELP g4 x\n# TYPE g4 gauge\ng4 -Inf\n"
                      "# HELP g5 x\n# TYPE g5 gauge\ng5 NaN\n"
                      "# HELP g6 x\n# TYPE g6 gauge\ng6 123456789012\n");
    ls_metrics_free(m);

    for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
        struct ls_gauge *one;
        char want[128], *text;
        assert_int_equal(ls_metrics_new(&m), 0);
        assert_int_equal(ls_metrics_gauge(m, "v", "x", NULL, 0, &one), 0);
        ls_gauge_set(one, strtod(more[i][0], NULL));
        text = render(m);
        snprintf(want, sizeof(want), "# HELP v x\n# TYPE v gauge\nv %s\n", more[i][1]);
        if (strcmp(text, want) != 0)
            fail_msg("%s renders as %s", more[i][0], text);
        free(text);
        ls_metrics_free(m);
    }
}

static void histograms_are_cumulative(void **state) {
    struct ls_metrics *m;
    struct ls_histogram *h;
    const double bounds[] = {0.125, 1, 10};

    assert_int_equal(ls_metrics_new(&m), 0);
    assert_int_equal(ls_metrics_histogram(m, "op_seconds", "Op time.", bounds, 3, &h), 0);
    assert_renders(m, "# HELP op_seconds Op time.\n# TYPE op_seconds histogram\n"
                      "op_seconds_bucket{le=\"0.125\"} 0\n"
                      "op_seconds_bucket{le=\"1\"} 0\n"
                      "op_seconds_bucket{le=\"10\"} 0\n"
                      "op_seconds_bucket{le=\"+Inf\"} 0\n"
                      "op_seconds_sum 0\nop_seconds_count 0\n");

    ls_histogram_observe(h, 0.0625);
    ls_histogram_observe(h, 0.125); /* le is inclusive */
    ls_histogram_observe(h, 0.5);
    ls_histogram_observe(h, 4);
    ls_histogram_observe(h, 64);  /* only in +Inf */
    ls_histogram_observe(h, NAN); /* ignored */
    assert_renders(m, "# HELP op_seconds Op time.\n# TYPE op_seconds histogram\n"
                      "op_seconds_bucket{le=\"0.125\"} 2\n"
                      "op_seconds_bucket{le=\"1\"} 3\n"
                      "op_seconds_bucket{le=\"10\"} 4\n"
                      "op_seconds_bucket{le=\"+Inf\"} 5\n"
                      "op_seconds_sum 68.6875\nop_seconds_count 5\n");
    ls_metrics_free(m);
}

static void help_and_label_values_are_escaped(void **state) {
    struct ls_metrics *m;
    struct ls_counter *c;
    static const char *const labels[] = {"path", NULL};

    assert_int_equal(ls_metrics_new(&m), 0);
    assert_int_equal(
        ls_metrics_counter(m, "e_total", "Back\\slash, \"quote\"\nand newline.", labels, 4, &c), 0);
    ls_counter_labels_add(c, 1, "a\\b\"c\nd", NULL);
    /* In HELP only \ and newline are escaped; in label values " as well. */
    assert_renders(m, "# HELP e_total Back\\\\slash, \"quote\"\\nand newline.\n"
                      "# TYPE e_total counter\n"
                      "e_total{path=\"a\\\\b\\\"c\\nd\"} 1\n");
    ls_metrics_free(m);
}

static void cardinality_is_capped_into_other(void **state) {
    struct ls_metrics *m;
    struct ls_counter *c;
    struct ls_gauge *g;
    static const char *const one[] = {"k", NULL};
    static const char *const two[] = {"a", "b", NULL};
    char long_value[LS_METRICS_LABEL_VALUE_MAX + 2];

    assert_int_equal(ls_metrics_new(&m), 0);
    assert_int_equal(ls_metrics_counter(m, "f_total", "x", one, 2, &c), 0);
    assert_int_equal(ls_metrics_gauge(m, "g", "x", two, 1, &g), 0);

    ls_counter_labels_add(c, 1, "x", NULL);
    ls_counter_labels_add(c, 1, "y", NULL);
    ls_counter_labels_add(c, 1, "z", NULL);     /* over the cap */
    ls_counter_labels_add(c, 1, "w", NULL);     /* over the cap */
    ls_counter_labels_add(c, 1, "x", NULL);     /* known: still its own */
    ls_counter_labels_add(c, 1, "other", NULL); /* the overflow set itself */
    /* Values that are never kept as given, even below the cap. */
    ls_counter_labels_add(c, 1, "", NULL);
    ls_counter_labels_add(c, 1, "\xff\xfe", NULL);     /* not UTF-8 */
    ls_counter_labels_add(c, 1, "\xc0\xaf", NULL);     /* overlong */
    ls_counter_labels_add(c, 1, "\xed\xa0\x80", NULL); /* surrogate */
    ls_counter_labels_add(c, 1, "\xe2\x82", NULL);     /* truncated */
    memset(long_value, 'v', sizeof(long_value) - 1);
    long_value[sizeof(long_value) - 1] = '\0';
    ls_counter_labels_add(c, 1, long_value, NULL);

    ls_gauge_labels_set(g, 1, "p", "q");
    ls_gauge_labels_set(g, 2, "p", "r"); /* over the cap */
    ls_gauge_labels_set(g, 3, "s", "t"); /* over the cap: replaces the last */

    assert_renders(m, "# HELP f_total x\n# TYPE f_total counter\n"
                      "f_total{k=\"x\"} 2\nf_total{k=\"y\"} 1\nf_total{k=\"other\"} 9\n"
                      "# HELP g x\n# TYPE g gauge\n"
                      "g{a=\"p\",b=\"q\"} 1\ng{a=\"other\",b=\"other\"} 3\n");

    /* Valid multi-byte UTF-8 of the longest length allowed is kept. */
    struct ls_counter *u;
    assert_int_equal(ls_metrics_counter(m, "u_total", "x", one, 4, &u), 0);
    char max_value[LS_METRICS_LABEL_VALUE_MAX + 1];
    memset(max_value, 'v', LS_METRICS_LABEL_VALUE_MAX);
    max_value[LS_METRICS_LABEL_VALUE_MAX] = '\0';
    ls_counter_labels_add(u, 1, "gr\xc3\xbc\xc3\x9f \xf0\x9f\x98\x80", NULL);
    ls_counter_labels_add(u, 1, max_value, NULL);
    char *text = render(m);
    assert_non_null(strstr(text, "u_total{k=\"gr\xc3\xbc\xc3\x9f \xf0\x9f\x98\x80\"} 1\n"));
    char want[LS_METRICS_LABEL_VALUE_MAX + 32];
    snprintf(want, sizeof(want), "u_total{k=\"%s\"} 1\n", max_value);
    assert_non_null(strstr(text, want));
    free(text);
    ls_metrics_free(m);
}

static void bad_registrations_are_refused(void **state) {
    struct ls_metrics *m;
    struct ls_counter *c;
    struct ls_histogram *h;
    static const char *const three[] = {"a", "b", "c", NULL};
    static const char *const reserved[] = {"__a", NULL};
    static const char *const dup[] = {"a", "a", NULL};
    static const char *const bad[] = {"a:b", NULL};
    static const char *const none[] = {NULL};
    static const char *const one[] = {"a", NULL};
    const double unsorted[] = {1, 0.5};
    const double equal[] = {1, 1};
    const double inf[] = {1, INFINITY};
    const double ok[] = {1};

    assert_int_equal(ls_metrics_new(&m), 0);
    assert_int_equal(ls_metrics_counter(m, "", "x", NULL, 0, &c), -EINVAL);
    assert_int_equal(ls_metrics_counter(m, "1abc", "x", NULL, 0, &c), -EINVAL);
    assert_int_equal(ls_metrics_counter(m, "a-b", "x", NULL, 0, &c), -EINVAL);
    assert_int_equal(ls_metrics_counter(m, "a b", "x", NULL, 0, &c), -EINVAL);
    assert_int_equal(ls_metrics_counter(m, "ok", NULL, NULL, 0, &c), -EINVAL);
    assert_int_equal(ls_metrics_counter(m, "ok", "x", three, 4, &c), -EINVAL);
    assert_int_equal(ls_metrics_counter(m, "ok", "x", reserved, 4, &c), -EINVAL);
    assert_int_equal(ls_metrics_counter(m, "ok", "x", dup, 4, &c), -EINVAL);
    assert_int_equal(ls_metrics_counter(m, "ok", "x", bad, 4, &c), -EINVAL);
    assert_int_equal(ls_metrics_counter(m, "ok", "x", none, 4, &c), -EINVAL);
    assert_int_equal(ls_metrics_counter(m, "ok", "x", one, 0, &c), -EINVAL);
    assert_int_equal(ls_metrics_counter(m, "ok", "x", one, LS_METRICS_MAX_SERIES + 1, &c), -EINVAL);
    assert_int_equal(ls_metrics_histogram(m, "h", "x", unsorted, 2, &h), -EINVAL);
    assert_int_equal(ls_metrics_histogram(m, "h", "x", equal, 2, &h), -EINVAL);
    assert_int_equal(ls_metrics_histogram(m, "h", "x", inf, 2, &h), -EINVAL);
    assert_int_equal(ls_metrics_histogram(m, "h", "x", ok, 0, &h), -EINVAL);

    assert_int_equal(ls_metrics_counter(m, "ns:ok_total", "x", NULL, 0, &c), 0);
    assert_int_equal(ls_metrics_counter(m, "ns:ok_total", "y", NULL, 0, &c), -EEXIST);
    assert_int_equal(ls_metrics_histogram(m, "ns:ok_total", "y", ok, 1, &h), -EEXIST);
    ls_metrics_free(m);
    assert_null(ls_metrics_free(NULL));
}

/* ---- concurrency ---------------------------------------------------------------- */

#define THREADS 4
#define ROUNDS 50000

struct race {
    struct ls_metrics *m;
    struct ls_counter *c, *lc;
    struct ls_gauge *g;
    struct ls_histogram *h;
    int id;
    volatile int *done;
};

static void *updater(void *arg) {
    struct race *r = arg;
    const char *mine = r->id % 2 ? "odd" : "even";
    for (int i = 0; i < ROUNDS; i++) {
        ls_counter_inc(r->c);
        ls_counter_labels_add(r->lc, 1, mine, NULL);
        ls_gauge_add(r->g, 1);
        ls_histogram_observe(r->h, (i % 4) * 0.5); /* 0, 0.5, 1, 1.5 */
    }
    return NULL;
}

/* The value of the sample line starting with `line` in text, or -1. */
static double sample(const char *text, const char *line) {
    const char *p = strstr(text, line);
    return p ? strtod(p + strlen(line), NULL) : -1;
}

static void *renderer(void *arg) {
    struct race *r = arg;
    double last = 0;
    size_t renders = 0;
    while (!__atomic_load_n(r->done, __ATOMIC_ACQUIRE) || renders == 0) {
        char *text = render(r->m);
        double now = sample(text, "\nrace_total ");
        /* A consistent snapshot: the counter never goes back, the histogram's +Inf
         * bucket always equals its count. */
        if (now < last || sample(text, "race_seconds_bucket{le=\"+Inf\"} ") !=
                              sample(text, "\nrace_seconds_count ")) {
            free(text);
            return (void *)1;
        }
        last = now;
        renders++;
        free(text);
    }
    return NULL;
}

static void updates_race_a_renderer(void **state) {
    struct ls_metrics *m;
    static const char *const labels[] = {"parity", NULL};
    const double bounds[] = {0.5, 1};
    volatile int done = 0;
    struct race base = {.done = &done}, rs[THREADS];
    pthread_t t[THREADS], rt;

    assert_int_equal(ls_metrics_new(&m), 0);
    base.m = m;
    assert_int_equal(ls_metrics_counter(m, "race_total", "x", NULL, 0, &base.c), 0);
    assert_int_equal(ls_metrics_counter(m, "race_labelled_total", "x", labels, 2, &base.lc), 0);
    assert_int_equal(ls_metrics_gauge(m, "race_level", "x", NULL, 0, &base.g), 0);
    assert_int_equal(ls_metrics_histogram(m, "race_seconds", "x", bounds, 2, &base.h), 0);

    assert_int_equal(pthread_create(&rt, NULL, renderer, &base), 0);
    for (int i = 0; i < THREADS; i++) {
        rs[i] = base;
        rs[i].id = i;
        assert_int_equal(pthread_create(&t[i], NULL, updater, &rs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    void *bad;
    pthread_join(rt, &bad);
    assert_null(bad);

    char *text = render(m);
    assert_true(sample(text, "\nrace_total ") == THREADS * ROUNDS);
    assert_true(sample(text, "race_labelled_total{parity=\"even\"} ") == THREADS / 2 * ROUNDS);
    assert_true(sample(text, "race_labelled_total{parity=\"odd\"} ") == THREADS / 2 * ROUNDS);
    assert_true(sample(text, "\nrace_level ") == THREADS * ROUNDS);
    assert_true(sample(text, "race_seconds_bucket{le=\"0.5\"} ") == THREADS * ROUNDS / 2);
    assert_true(sample(text, "race_seconds_bucket{le=\"1\"} ") == THREADS * ROUNDS * 3 / 4);
    assert_true(sample(text, "race_seconds_bucket{le=\"+Inf\"} ") == THREADS * ROUNDS);
    assert_true(sample(text, "\nrace_seconds_sum ") == THREADS * ROUNDS / 4 * 3.0);
    free(text);
    ls_metrics_free(m);
}

/* ---- the supervisor's set --------------------------------------------------------- */

/* The absolute path of an executable in PATH, or NULL. */
static char *find_in_path(const char *name) {
    const char *path = getenv("PATH");
    if (!path)
        return NULL;
    char *copy = strdup(path), *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        char *full;
        if (asprintf(&full, "%s/%s", *dir ? dir : ".", name) < 0)
            break;
        if (access(full, X_OK) == 0) {
            free(copy);
            return full;
        }
        free(full);
    }
    free(copy);
    return NULL;
}

/* Run `promtool check metrics` on text; returns its exit status, output in *ret_out. */
static int promtool_check(const char *text, char **ret_out) {
    char *promtool = find_in_path("promtool");
    if (!promtool)
        fail_msg("promtool not found in PATH: install the Debian package prometheus");
    char in[] = "/tmp/test_metrics.XXXXXX";
    int fd = mkstemp(in);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);

    char *cmd;
    assert_true(asprintf(&cmd, "'%s' check metrics < '%s' 2>&1", promtool, in) > 0);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *out = NULL;
    size_t out_size = 0;
    FILE *o = open_memstream(&out, &out_size);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
        fwrite(buf, 1, n, o);
    fclose(o);
    int status = pclose(p);
    unlink(in);
    free(cmd);
    free(promtool);
    *ret_out = out;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void supervisor_set_passes_promtool(void **state) {
    struct ls_supervisor_metrics *sm;
    assert_int_equal(ls_supervisor_metrics_new(NULL, &sm), -EINVAL);
    assert_int_equal(ls_supervisor_metrics_new("0.1.0", &sm), 0);

    ls_gauge_set(sm->max_concurrent, 8);
    ls_gauge_set(sm->queue_capacity, 32);
    ls_gauge_set(sm->queue_length, 3);
    ls_gauge_add(sm->sandboxes_running, 1);
    ls_counter_inc(sm->sandboxes_started);
    ls_histogram_observe(sm->sandbox_setup_seconds, 0.042);
    ls_histogram_observe(sm->sandbox_duration_seconds, 1.5);
    ls_supervisor_metrics_finished(sm, LS_REASON_TIMEOUT);
    ls_supervisor_metrics_finished(sm, LS_REASON_NONE); /* never a real reason */
    ls_supervisor_metrics_request(sm, LS_REQUEST_ACCEPTED);
    ls_supervisor_metrics_request(sm, LS_REQUEST_BUSY);
    ls_supervisor_metrics_request(sm, ls_request_outcome_from_code(LS_PROTO_TOO_LARGE));
    ls_counter_add(sm->denied_syscalls, 3);
    ls_gauge_set(sm->client_connections, 2);
    ls_gauge_set(sm->policies_loaded, 4);
    ls_supervisor_metrics_policy_reload(sm, true);
    ls_supervisor_metrics_policy_reload(sm, false);

    char *text = render(sm->registry);
    static const char *const want[] = {
        "# TYPE labstack_sandboxes_running gauge\nlabstack_sandboxes_running 1\n",
        "\nlabstack_sandboxes_started_total 1\n",
        "labstack_sandboxes_finished_total{reason=\"exited\"} 0\n",
        "labstack_sandboxes_finished_total{reason=\"timeout\"} 1\n",
        "labstack_sandboxes_finished_total{reason=\"cpu_limit\"} 0\n",
        "labstack_sandboxes_finished_total{reason=\"other\"} 1\n",
        "labstack_sandbox_setup_seconds_bucket{le=\"0.001\"} 0\n",
        "labstack_sandbox_setup_seconds_bucket{le=\"0.05\"} 1\n",
        "labstack_sandbox_setup_seconds_bucket{le=\"10\"} 1\n",
        "labstack_sandbox_setup_seconds_count 1\n",
        "labstack_sandbox_duration_seconds_bucket{le=\"2.5\"} 1\n",
        "\nlabstack_queue_length 3\n",
        "\nlabstack_queue_capacity 32\n",
        "\nlabstack_max_concurrent 8\n",
        "labstack_requests_total{outcome=\"accepted\"} 1\n",
        "labstack_requests_total{outcome=\"busy\"} 1\n",
        "labstack_requests_total{outcome=\"bad_request\"} 1\n",
        "labstack_requests_total{outcome=\"internal\"} 0\n",
        "\nlabstack_busy_refusals_total 1\n",
        "\nlabstack_denied_syscalls_total 3\n",
        "\nlabstack_client_connections 2\n",
        "\nlabstack_policies_loaded 4\n",
        "labstack_policy_reloads_total{result=\"ok\"} 1\n",
        "labstack_policy_reloads_total{result=\"failed\"} 1\n",
        "labstack_build_info{version=\"0.1.0\"} 1\n",
        "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds ",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (!strstr(text, want[i]))
            fail_msg("missing %s in:\n%s", want[i], text);
    }
    /* Every reason of result.h is declared at 0 from the start. */
    for (int i = LS_REASON_NONE + 1; i < LS_REASON__MAX; i++) {
        char line[128];
        snprintf(line, sizeof(line), "labstack_sandboxes_finished_total{reason=\"%s\"} ",
                 ls_reason_name((enum ls_reason)i));
        assert_non_null(strstr(text, line));
    }

    /* This process started a moment ago, not at boot nor in the future. */
    double start = sample(text, "\nprocess_start_time_seconds ");
    double now = (double)time(NULL);
    assert_true(start <= now + 1 && start > now - 600);

    char *out;
    int status = promtool_check(text, &out);
    if (status != 0)
        fail_msg("promtool check metrics failed (%d):\n%s\non:\n%s", status, out, text);
    free(out);

    /* The check is not vacuous: promtool does refuse a broken exposition. */
    status = promtool_check("# TYPE x_total counter\nx_total{a=\"b} 1\n", &out);
    assert_int_not_equal(status, 0);
    free(out);

    free(text);
    ls_supervisor_metrics_free(sm);
    assert_null(ls_supervisor_metrics_free(NULL));
}

static void outcome_names_and_codes(void **state) {
    assert_string_equal(ls_request_outcome_name(LS_REQUEST_ACCEPTED), "accepted");
    assert_string_equal(ls_request_outcome_name(LS_REQUEST_UNKNOWN_POLICY), "unknown_policy");
    assert_string_equal(ls_request_outcome_name((enum ls_request_outcome)99), "internal");
    assert_int_equal(ls_request_outcome_from_code(LS_PROTO_FORBIDDEN), LS_REQUEST_FORBIDDEN);
    assert_int_equal(ls_request_outcome_from_code(LS_PROTO_UNSUPPORTED), LS_REQUEST_BAD_REQUEST);
    assert_int_equal(ls_request_outcome_from_code(LS_PROTO_SHUTTING_DOWN), LS_REQUEST_BUSY);
    assert_int_equal(ls_request_outcome_from_code(LS_PROTO_LIMIT), LS_REQUEST_LIMIT);
    assert_int_equal(ls_request_outcome_from_code(LS_PROTO_UNKNOWN_POLICY),
                     LS_REQUEST_UNKNOWN_POLICY);
    assert_int_equal(ls_request_outcome_from_code((enum ls_proto_code)77), LS_REQUEST_INTERNAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counters_and_gauges_render_exactly),
        cmocka_unit_test(numbers_use_the_shortest_exact_form),
        cmocka_unit_test(histograms_are_cumulative),
        cmocka_unit_test(help_and_label_values_are_escaped),
        cmocka_unit_test(cardinality_is_capped_into_other),
        cmocka_unit_test(bad_registrations_are_refused),
        cmocka_unit_test(updates_race_a_renderer),
        cmocka_unit_test(supervisor_set_passes_promtool),
        cmocka_unit_test(outcome_names_and_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
