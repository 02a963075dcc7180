/*
 * metrics.c - a bounded Prometheus metrics registry and the supervisor's metric set.
 *
 * Every family keeps its series in an array allocated at registration (max_series label
 * sets plus the "other" overflow set), so updates from the event loop are a mutex, a
 * short linear search and an add.  Rendering formats under the same mutex into an
 * open_memstream() buffer; the families are small (docs/metrics.md lists all of them),
 * so the event loop never waits for long.
 *
 * Numbers are printed with the fewest digits that read back as the same double (as
 * Prometheus' Go clients do), positional for exponents -4..20 so that counts read
 * "1234567" rather than "1.234567e+06".  The supervisor never calls setlocale(), so the
 * decimal point is '.'.
 */
#include "metrics.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "labstack/macros.h"

#define OTHER "other"

enum kind {
    KIND_COUNTER,
    KIND_GAUGE,
    KIND_HISTOGRAM,
};

struct series {
    char values[LS_METRICS_MAX_LABELS][LS_METRICS_LABEL_VALUE_MAX + 1];
    double value;
};

/* One metric family.  The public handle types embed it as their only member. */
struct family {
    struct family *next;
    struct ls_metrics *registry;
    enum kind kind;
    char *name;
    char *help;

    size_t n_labels;
    char *label_names[LS_METRICS_MAX_LABELS];
    size_t max_series;     /* label sets kept before "other" */
    struct series *series; /* max_series + 1 slots (1 when unlabelled) */
    size_t n_series;

    /* histograms */
    double *bounds; /* n_bounds finite upper bounds */
    size_t n_bounds;
    uint64_t *buckets; /* n_bounds + 1 counts, not cumulative; the last is +Inf */
    double sum;
    uint64_t count;
};

struct ls_counter {
    struct family f;
};
struct ls_gauge {
    struct family f;
};
struct ls_histogram {
    struct family f;
};

struct ls_metrics {
    pthread_mutex_t lock;
    struct family *first, *last;
};

int ls_metrics_new(struct ls_metrics **ret) {
    struct ls_metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    pthread_mutex_init(&m->lock, NULL);
    *ret = m;
    return 0;
}

static void family_free(struct family *f) {
    free(f->name);
    free(f->help);
    for (size_t i = 0; i < f->n_labels; i++)
        free(f->label_names[i]);
    free(f->series);
    free(f->bounds);
    free(f->buckets);
    free(f);
}

struct ls_metrics *ls_metrics_free(struct ls_metrics *m) {
    if (!m)
        return NULL;
    for (struct family *f = m->first, *next; f; f = next) {
        next = f->next;
        family_free(f);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
    return NULL;
}

/* ---- registration ------------------------------------------------------------ */

static bool valid_name(const char *s, bool colon) {
    if (!s || !*s)
        return false;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static bool valid_label_name(const char *s) {
    return valid_name(s, false) && strncmp(s, "__", 2) != 0;
}

static struct family *find_family(struct ls_metrics *m, const char *name) {
    for (struct family *f = m->first; f; f = f->next)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

/* Allocate a family (of a handle type of `size` bytes) with its name, help and labels;
 * the caller fills the kind-specific storage, then add_family() links it. */
static int new_family(struct ls_metrics *m, size_t size, enum kind kind, const char *name,
                      const char *help, const char *const *label_names, size_t max_series,
                      struct family **ret) {
    assert(m);
    if (!valid_name(name, true) || !help)
        return -EINVAL;

    size_t n_labels = 0;
    if (label_names)
        for (; label_names[n_labels]; n_labels++) {
            if (n_labels == LS_METRICS_MAX_LABELS || !valid_label_name(label_names[n_labels]))
                return -EINVAL;
            for (size_t j = 0; j < n_labels; j++)
                if (strcmp(label_names[j], label_names[n_labels]) == 0)
                    return -EINVAL;
        }
    if (label_names && n_labels == 0)
        return -EINVAL;
    if (n_labels > 0 && (max_series < 1 || max_series > LS_METRICS_MAX_SERIES))
        return -EINVAL;

    struct family *f = calloc(1, size);
    if (!f)
        return -ENOMEM;
    f->registry = m;
    f->kind = kind;
    f->n_labels = n_labels;
    f->max_series = n_labels ? max_series : 1;
    f->name = strdup(name);
    f->help = strdup(help);
    if (!f->name || !f->help)
        goto nomem;
    for (size_t i = 0; i < n_labels; i++)
        if (!(f->label_names[i] = strdup(label_names[i])))
            goto nomem;
    f->series = calloc(n_labels ? max_series + 1 : 1, sizeof(*f->series));
    if (!f->series)
        goto nomem;
    if (n_labels == 0)
        f->n_series = 1; /* the single unlabelled series exists from the start */
    *ret = f;
    return 0;

nomem:
    family_free(f);
    return -ENOMEM;
}

/* Link f at the end of the registry unless its name is taken; frees f on -EEXIST. */
static int add_family(struct ls_metrics *m, struct family *f) {
    pthread_mutex_lock(&m->lock);
    if (find_family(m, f->name)) {
        pthread_mutex_unlock(&m->lock);
        family_free(f);
        return -EEXIST;
    }
    if (m->last)
        m->last->next = f;
    else
        m->first = f;
    m->last = f;
    pthread_mutex_unlock(&m->lock);
    return 0;
}

/* new_family + add_family: a family created and registered, or an error. */
static int register_family(struct ls_metrics *m, size_t size, enum kind kind, const char *name,
                           const char *help, const char *const *label_names, size_t max_series,
                           struct family **ret) {
    struct family *f;
    int r = new_family(m, size, kind, name, help, label_names, max_series, &f);
    if (r < 0)
        return r;
    r = add_family(m, f);
    if (r < 0)
        return r;
    *ret = f;
    return 0;
}

int ls_metrics_counter(struct ls_metrics *m, const char *name, const char *help,
                       const char *const *label_names, size_t max_series, struct ls_counter **ret) {
    struct family *f;
    int r = register_family(m, sizeof(struct ls_counter), KIND_COUNTER, name, help, label_names,
                            max_series, &f);
    if (r >= 0)
        *ret = (struct ls_counter *)f;
    return r;
}

int ls_metrics_gauge(struct ls_metrics *m, const char *name, const char *help,
                     const char *const *label_names, size_t max_series, struct ls_gauge **ret) {
    struct family *f;
    int r = register_family(m, sizeof(struct ls_gauge), KIND_GAUGE, name, help, label_names,
                            max_series, &f);
    if (r >= 0)
        *ret = (struct ls_gauge *)f;
    return r;
}

int ls_metrics_histogram(struct ls_metrics *m, const char *name, const char *help,
                         const double *bounds, size_t n_bounds, struct ls_histogram **ret) {
    if (!bounds || n_bounds < 1 || n_bounds > LS_METRICS_MAX_BUCKETS)
        return -EINVAL;
    for (size_t i = 0; i < n_bounds; i++)
        if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
            return -EINVAL;

    struct family *f;
    int r = new_family(m, sizeof(struct ls_histogram), KIND_HISTOGRAM, name, help, NULL, 0, &f);
    if (r < 0)
        return r;
    f->bounds = malloc(n_bounds * sizeof(*f->bounds));
    f->buckets = calloc(n_bounds + 1, sizeof(*f->buckets));
    if (!f->bounds || !f->buckets) {
        family_free(f);
        return -ENOMEM;
    }
    memcpy(f->bounds, bounds, n_bounds * sizeof(*bounds));
    f->n_bounds = n_bounds;
    r = add_family(m, f);
    if (r < 0)
        return r;
    *ret = (struct ls_histogram *)f;
    return 0;
}

/* ---- updates ------------------------------------------------------------------ */

/* True if s is non-empty, at most LS_METRICS_LABEL_VALUE_MAX bytes and valid UTF-8
 * (no overlong forms, no surrogates, nothing above U+10FFFF). */
static bool valid_label_value(const char *s) {
    if (!s || !*s)
        return false;
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strnlen(s, LS_METRICS_LABEL_VALUE_MAX + 1);
    if (len > LS_METRICS_LABEL_VALUE_MAX)
        return false;
    for (size_t i = 0; i < len;) {
        unsigned c = p[i];
        size_t n;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n > len - i - 1)
            return false; /* truncated sequence */
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

/* The series for the given label values, created if there is room; otherwise (or for
 * an invalid value) the all-"other" series.  Called with the lock held; never fails. */
static struct series *find_series(struct family *f, const char *const values[]) {
    bool valid = true;
    for (size_t i = 0; i < f->n_labels; i++)
        valid = valid && valid_label_value(values[i]);

    const char *other[LS_METRICS_MAX_LABELS] = {OTHER, OTHER};
    if (!valid)
        values = other;
    for (;;) {
        for (size_t s = 0; s < f->n_series; s++) {
            bool match = true;
            for (size_t i = 0; match && i < f->n_labels; i++)
                match = strcmp(f->series[s].values[i], values[i]) == 0;
            if (match)
                return &f->series[s];
        }
        /* Room for a new label set: below the cap, or the overflow slot for "other". */
        if (f->n_series < f->max_series || values == other) {
            assert(f->n_series <= f->max_series);
            struct series *s = &f->series[f->n_series++];
            for (size_t i = 0; i < f->n_labels; i++)
                memcpy(s->values[i], values[i], strlen(values[i]) + 1); /* length checked */
            s->value = 0;
            return s;
        }
        values = other;
    }
}

static void series_add(struct family *f, const char *l1, const char *l2, double v, bool set) {
    const char *values[LS_METRICS_MAX_LABELS] = {l1, l2};
    pthread_mutex_lock(&f->registry->lock);
    struct series *s = f->n_labels ? find_series(f, values) : &f->series[0];
    if (set)
        s->value = v;
    else
        s->value += v;
    pthread_mutex_unlock(&f->registry->lock);
}

void ls_counter_inc(struct ls_counter *c) {
    ls_counter_add(c, 1);
}

void ls_counter_add(struct ls_counter *c, double v) {
    assert(c && c->f.n_labels == 0);
    if (!(v >= 0))
        return;
    series_add(&c->f, NULL, NULL, v, false);
}

void ls_counter_labels_add(struct ls_counter *c, double v, const char *l1, const char *l2) {
    assert(c && c->f.n_labels > 0 && (c->f.n_labels == 2) == (l2 != NULL));
    if (!(v >= 0))
        return;
    series_add(&c->f, l1, l2, v, false);
}

void ls_gauge_set(struct ls_gauge *g, double v) {
    assert(g && g->f.n_labels == 0);
    series_add(&g->f, NULL, NULL, v, true);
}

void ls_gauge_add(struct ls_gauge *g, double v) {
    assert(g && g->f.n_labels == 0);
    series_add(&g->f, NULL, NULL, v, false);
}

void ls_gauge_labels_set(struct ls_gauge *g, double v, const char *l1, const char *l2) {
    assert(g && g->f.n_labels > 0 && (g->f.n_labels == 2) == (l2 != NULL));
    series_add(&g->f, l1, l2, v, true);
}

void ls_histogram_observe(struct ls_histogram *h, double v) {
    assert(h);
    if (isnan(v))
        return;
    struct family *f = &h->f;
    size_t b = 0;
    while (b < f->n_bounds && v > f->bounds[b])
        b++;
    pthread_mutex_lock(&f->registry->lock);
    f->buckets[b]++;
    f->sum += v;
    f->count++;
    pthread_mutex_unlock(&f->registry->lock);
}

/* ---- rendering ---------------------------------------------------------------- */

/* The shortest decimal form that reads back as v, in positional notation for exponents
 * -4..20 (counts read "1234567", bounds "0.001") and in exponent notation beyond;
 * "+Inf", "-Inf", "NaN" as the format spells them. */
static void fmt_double(char *buf, size_t size, double v) {
    if (isnan(v)) {
        snprintf(buf, size, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    int digits = 1;
    for (; digits < 17; digits++) {
        snprintf(buf, size, "%.*e", digits - 1, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    snprintf(buf, size, "%.*e", digits - 1, v);
    int exp = atoi(strchr(buf, 'e') + 1);
    if (exp >= -4 && exp <= 20)
        snprintf(buf, size, "%.*f", digits - 1 - exp > 0 ? digits - 1 - exp : 0, v);
}

/* Write s escaped: '\\' and newline always, '"' too inside a label value. */
static void put_escaped(FILE *out, const char *s, bool label_value) {
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\\\", out);
        else if (*s == '\n')
            fputs("\\n", out);
        else if (*s == '"' && label_value)
            fputs("\\\"", out);
        else
            fputc(*s, out);
    }
}

/* name{l1="v1",l2="v2",le="0.5"} -- the braces only when there is a label. */
static void put_sample_name(FILE *out, const struct family *f, const char *suffix,
                            const struct series *s, const char *le) {
    fputs(f->name, out);
    fputs(suffix, out);
    if (f->n_labels == 0 && !le)
        return;
    fputc('{', out);
    for (size_t i = 0; i < f->n_labels; i++) {
        fprintf(out, "%s%s=\"", i ? "," : "", f->label_names[i]);
        put_escaped(out, s->values[i], true);
        fputc('"', out);
    }
    if (le)
        fprintf(out, "%sle=\"%s\"", f->n_labels ? "," : "", le);
    fputc('}', out);
}

static void render_family(FILE *out, const struct family *f) {
    static const char *const type_names[] = {
        [KIND_COUNTER] = "counter",
        [KIND_GAUGE] = "gauge",
        [KIND_HISTOGRAM] = "histogram",
    };
    char num[64];

    if (f->kind != KIND_HISTOGRAM && f->n_series == 0)
        return; /* a labelled family nobody touched yet: no samples, no lines */
    fprintf(out, "# HELP %s ", f->name);
    put_escaped(out, f->help, false);
    fprintf(out, "\n# TYPE %s %s\n", f->name, type_names[f->kind]);

    if (f->kind != KIND_HISTOGRAM) {
        for (size_t i = 0; i < f->n_series; i++) {
            put_sample_name(out, f, "", &f->series[i], NULL);
            fmt_double(num, sizeof(num), f->series[i].value);
            fprintf(out, " %s\n", num);
        }
        return;
    }

    uint64_t cumulative = 0;
    for (size_t b = 0; b <= f->n_bounds; b++) {
        char le[64];
        cumulative += f->buckets[b];
        fmt_double(le, sizeof(le), b < f->n_bounds ? f->bounds[b] : INFINITY);
        put_sample_name(out, f, "_bucket", NULL, le);
        fprintf(out, " %" PRIu64 "\n", cumulative);
    }
    fmt_double(num, sizeof(num), f->sum);
    fprintf(out, "%s_sum %s\n", f->name, num);
    fprintf(out, "%s_count %" PRIu64 "\n", f->name, f->count);
}

int ls_metrics_render(struct ls_metrics *m, char **ret, size_t *ret_len) {
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out)
        return -ENOMEM;

    pthread_mutex_lock(&m->lock);
    for (const struct family *f = m->first; f; f = f->next)
        render_family(out, f);
    pthread_mutex_unlock(&m->lock);

    bool failed = ferror(out);
    if (fclose(out) != 0 || failed) {
        free(buf);
        return -ENOMEM;
    }
    *ret = buf;
    *ret_len = len;
    return 0;
}

int ls_metrics_render_handler(void *userdata, char **ret, size_t *ret_len) {
    return ls_metrics_render(userdata, ret, ret_len);
}

/* ---- the supervisor's metric set ---------------------------------------------- */

static const char *const outcome_names[] = {
    [LS_REQUEST_ACCEPTED] = "accepted",
    [LS_REQUEST_FORBIDDEN] = "forbidden",
    [LS_REQUEST_BUSY] = "busy",
    [LS_REQUEST_BAD_REQUEST] = "bad_request",
    [LS_REQUEST_UNKNOWN_POLICY] = "unknown_policy",
    [LS_REQUEST_LIMIT] = "limit",
    [LS_REQUEST_INTERNAL] = "internal",
};
_Static_assert(ELEMENTSOF(outcome_names) == LS_REQUEST__MAX, "every outcome has a name");

const char *ls_request_outcome_name(enum ls_request_outcome o) {
    if ((size_t)o >= ELEMENTSOF(outcome_names))
        return outcome_names[LS_REQUEST_INTERNAL];
    return outcome_names[o];
}

enum ls_request_outcome ls_request_outcome_from_code(enum ls_proto_code code) {
    switch (code) {
    case LS_PROTO_BAD_REQUEST:
    case LS_PROTO_UNSUPPORTED:
    case LS_PROTO_TOO_LARGE:
        return LS_REQUEST_BAD_REQUEST;
    case LS_PROTO_FORBIDDEN:
        return LS_REQUEST_FORBIDDEN;
    case LS_PROTO_UNKNOWN_POLICY:
        return LS_REQUEST_UNKNOWN_POLICY;
    case LS_PROTO_LIMIT:
        return LS_REQUEST_LIMIT;
    case LS_PROTO_BUSY:
    case LS_PROTO_SHUTTING_DOWN:
        return LS_REQUEST_BUSY;
    case LS_PROTO_INTERNAL:
    default:
        return LS_REQUEST_INTERNAL;
    }
}

/* Read a small /proc file into buf (NUL-terminated, truncated to size-1); 0 or -errno. */
static int read_proc(const char *path, char *buf, size_t size) {
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0 || (len += (size_t)n) == size - 1)
            break;
    }
    buf[len] = '\0';
    return 0;
}

/* When this process started, in seconds since the epoch: the boot time (btime in
 * /proc/stat) plus the process' start time in clock ticks after boot (field 22 of
 * /proc/self/stat).  -errno when /proc does not say. */
static int process_start_time(double *ret) {
    char stat[1024], sys[8192];
    int r = read_proc("/proc/self/stat", stat, sizeof(stat));
    if (r < 0)
        return r;
    r = read_proc("/proc/stat", sys, sizeof(sys));
    if (r < 0)
        return r;

    /* The command name (field 2) may hold spaces and parentheses: skip to the last ')'. */
    const char *p = strrchr(stat, ')');
    if (!p)
        return -EINVAL;
    /* After ") " comes field 3; the start time is field 22, 19 fields on. */
    unsigned long long ticks;
    p++;
    for (int field = 3; field < 22; field++) {
        p = strchr(p + 1, ' ');
        if (!p)
            return -EINVAL;
    }
    if (sscanf(p, " %llu", &ticks) != 1)
        return -EINVAL;

    const char *b = strstr(sys, "\nbtime ");
    unsigned long long btime;
    if (!b || sscanf(b, "\nbtime %llu", &btime) != 1)
        return -EINVAL;
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0)
        return -EINVAL;
    *ret = (double)btime + (double)ticks / (double)hz;
    return 0;
}

static const double setup_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                       0.25,  0.5,    1,     2.5,  5,     10};
static const double duration_buckets[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1,   2.5,  5,
                                          10,   30,   60,  120,  300, 600, 1800, 3600};

int ls_supervisor_metrics_new(const char *version, struct ls_supervisor_metrics **ret) {
    static const char *const reason_label[] = {"reason", NULL};
    static const char *const outcome_label[] = {"outcome", NULL};
    static const char *const result_label[] = {"result", NULL};
    static const char *const version_label[] = {"version", NULL};

    if (!version)
        return -EINVAL;
    struct ls_supervisor_metrics *sm = calloc(1, sizeof(*sm));
    if (!sm)
        return -ENOMEM;
    int r = ls_metrics_new(&sm->registry);
    if (r < 0)
        goto fail;
    struct ls_metrics *m = sm->registry;

    // clang-format off
    if ((r = ls_metrics_gauge(m, "labstack_sandboxes_running",
                              "Sandboxes running now.", NULL, 0, &sm->sandboxes_running)) < 0 ||
        (r = ls_metrics_counter(m, "labstack_sandboxes_started_total",
                                "Sandboxes whose command was started.", NULL, 0,
                                &sm->sandboxes_started)) < 0 ||
        (r = ls_metrics_counter(m, "labstack_sandboxes_finished_total",
                                "Sandboxes that ended, by the reason they ended.",
                                reason_label, LS_REASON__MAX - 1, &sm->sandboxes_finished)) < 0 ||
        (r = ls_metrics_histogram(m, "labstack_sandbox_setup_seconds",
                                  "Sandbox overhead: handing a run to a runner until its result, minus the command's wall time.",
                                  setup_buckets, ELEMENTSOF(setup_buckets),
                                  &sm->sandbox_setup_seconds)) < 0 ||
        (r = ls_metrics_histogram(m, "labstack_sandbox_duration_seconds",
                                  "Wall-clock time of sandboxed commands, clone to reap.",
                                  duration_buckets, ELEMENTSOF(duration_buckets),
                                  &sm->sandbox_duration_seconds)) < 0 ||
        (r = ls_metrics_gauge(m, "labstack_queue_length",
                              "Accepted requests waiting for a free sandbox slot.", NULL, 0,
                              &sm->queue_length)) < 0 ||
        (r = ls_metrics_gauge(m, "labstack_queue_capacity",
                              "Most requests that may wait; beyond it requests are refused busy.",
                              NULL, 0, &sm->queue_capacity)) < 0 ||
        (r = ls_metrics_gauge(m, "labstack_max_concurrent",
                              "Most sandboxes that may run at once.", NULL, 0,
                              &sm->max_concurrent)) < 0 ||
        (r = ls_metrics_counter(m, "labstack_requests_total",
                                "Client run requests, by how the supervisor answered them.",
                                outcome_label, LS_REQUEST__MAX, &sm->requests)) < 0 ||
        (r = ls_metrics_counter(m, "labstack_busy_refusals_total",
                                "Work refused because the supervisor was at capacity.", NULL, 0,
                                &sm->busy_refusals)) < 0 ||
        (r = ls_metrics_counter(m, "labstack_denied_syscalls_total",
                                "System calls the seccomp policy denied in sandboxes.", NULL, 0,
                                &sm->denied_syscalls)) < 0 ||
        (r = ls_metrics_gauge(m, "labstack_client_connections",
                              "Client connections open now (Unix socket and TLS).", NULL, 0,
                              &sm->client_connections)) < 0 ||
        (r = ls_metrics_gauge(m, "labstack_policies_loaded",
                              "Policies loaded and usable now.", NULL, 0,
                              &sm->policies_loaded)) < 0 ||
        (r = ls_metrics_counter(m, "labstack_policy_reloads_total",
                                "Policy reloads, by result.", result_label, 2,
                                &sm->policy_reloads)) < 0 ||
        (r = ls_metrics_gauge(m, "labstack_build_info",
                              "Always 1; the labstack version in the version label.",
                              version_label, 1, &sm->build_info)) < 0 ||
        (r = ls_metrics_gauge(m, "process_start_time_seconds",
                              "Start time of the process since unix epoch in seconds.", NULL, 0,
                              &sm->process_start_time)) < 0)
        goto fail;
    // clang-format on

    for (int i = LS_REASON_NONE + 1; i < LS_REASON__MAX; i++)
        ls_counter_labels_add(sm->sandboxes_finished, 0, ls_reason_name((enum ls_reason)i), NULL);
    for (int i = 0; i < LS_REQUEST__MAX; i++)
        ls_counter_labels_add(sm->requests, 0, outcome_names[i], NULL);
    ls_counter_labels_add(sm->policy_reloads, 0, "ok", NULL);
    ls_counter_labels_add(sm->policy_reloads, 0, "failed", NULL);
    ls_gauge_labels_set(sm->build_info, 1, version, NULL);

    double start;
    if (process_start_time(&start) < 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        start = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
    }
    ls_gauge_set(sm->process_start_time, start);

    *ret = sm;
    return 0;

fail:
    ls_supervisor_metrics_free(sm);
    return r;
}

struct ls_supervisor_metrics *ls_supervisor_metrics_free(struct ls_supervisor_metrics *sm) {
    if (!sm)
        return NULL;
    ls_metrics_free(sm->registry);
    free(sm);
    return NULL;
}

void ls_supervisor_metrics_finished(struct ls_supervisor_metrics *sm, enum ls_reason reason) {
    const char *name =
        reason > LS_REASON_NONE && reason < LS_REASON__MAX ? ls_reason_name(reason) : OTHER;
    ls_counter_labels_add(sm->sandboxes_finished, 1, name, NULL);
}

void ls_supervisor_metrics_request(struct ls_supervisor_metrics *sm, enum ls_request_outcome o) {
    ls_counter_labels_add(sm->requests, 1, ls_request_outcome_name(o), NULL);
    if (o == LS_REQUEST_BUSY)
        ls_counter_inc(sm->busy_refusals);
}

void ls_supervisor_metrics_policy_reload(struct ls_supervisor_metrics *sm, bool ok) {
    ls_counter_labels_add(sm->policy_reloads, 1, ok ? "ok" : "failed", NULL);
}
