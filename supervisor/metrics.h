/*
 * metrics.h - the supervisor's Prometheus metrics: a small registry and the metric set.
 *
 * Two halves.  The generic half is a registry of counters, gauges and histograms that
 * renders the Prometheus text exposition format 0.0.4.  One mutex per registry guards
 * every value: the event loop updates, the HTTP thread (http.h) renders, and an update
 * never allocates, never blocks on I/O and never fails -- the storage for every series
 * a family may ever have is allocated when the family is registered.
 *
 * Counters and gauges may carry one or two labels.  Their cardinality is bounded: a
 * family holds at most `max_series` label sets, and any further label set -- and any
 * label value that is not valid UTF-8, is empty or is longer than
 * LS_METRICS_LABEL_VALUE_MAX bytes -- is counted under the label set whose values are
 * all "other".  A family therefore never renders more than max_series + 1 series,
 * whatever a caller passes.  Histograms have fixed buckets and no labels.
 *
 * The second half, struct ls_supervisor_metrics, is the set docs/metrics.md describes,
 * with a named handle per metric and helpers for the labelled ones.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "labstack/protocol.h"
#include "labstack/result.h"

/* Most label names a counter or gauge may have. */
#define LS_METRICS_MAX_LABELS 2
/* Longest label value kept as given (bytes); longer values count as "other". */
#define LS_METRICS_LABEL_VALUE_MAX 128
/* Largest max_series a family may ask for. */
#define LS_METRICS_MAX_SERIES 256
/* Most finite bucket bounds a histogram may have (+Inf is added). */
#define LS_METRICS_MAX_BUCKETS 64

struct ls_metrics; /* the registry */
struct ls_counter; /* a counter family; handles stay valid until the registry is freed */
struct ls_gauge;
struct ls_histogram;

/* A new, empty registry.  0 or -ENOMEM. */
int ls_metrics_new(struct ls_metrics **ret);
/* Free the registry and every family in it.  Accepts NULL; returns NULL. */
struct ls_metrics *ls_metrics_free(struct ls_metrics *m);

/*
 * Register a counter or gauge.  name must match [a-zA-Z_:][a-zA-Z0-9_:]* and be unique in
 * the registry; help is free text (escaped when rendered).  label_names is NULL for an
 * unlabelled family, else a NULL-terminated list of 1..LS_METRICS_MAX_LABELS names
 * matching [a-zA-Z_][a-zA-Z0-9_]* not starting with "__".  max_series (1..
 * LS_METRICS_MAX_SERIES, ignored when unlabelled) bounds the label sets kept.  An
 * unlabelled family renders from the start with value 0; a labelled one renders the
 * label sets that were touched (ls_counter_labels_add(c, 0, ...) declares one).
 * Returns 0, -EINVAL for a bad argument, -EEXIST for a duplicate name, -ENOMEM.
 * The handle is owned by the registry.
 */
int ls_metrics_counter(struct ls_metrics *m, const char *name, const char *help,
                       const char *const *label_names, size_t max_series, struct ls_counter **ret);
int ls_metrics_gauge(struct ls_metrics *m, const char *name, const char *help,
                     const char *const *label_names, size_t max_series, struct ls_gauge **ret);

/*
 * Register a histogram with the given finite upper bounds (strictly increasing,
 * 1..LS_METRICS_MAX_BUCKETS of them); the +Inf bucket is implicit.  Same name rules and
 * returns as above.
 */
int ls_metrics_histogram(struct ls_metrics *m, const char *name, const char *help,
                         const double *bounds, size_t n_bounds, struct ls_histogram **ret);

/*
 * Updates.  Thread-safe, never allocate, never fail.  Counter increments that are
 * negative or NaN are ignored (a counter only goes up).  The *_labels_* variants take
 * one value per label name of the family (pass NULL for the second of a one-label
 * family); calling the wrong variant for a family is a programmer error (assert).
 */
void ls_counter_inc(struct ls_counter *c);
void ls_counter_add(struct ls_counter *c, double v);
void ls_counter_labels_add(struct ls_counter *c, double v, const char *l1, const char *l2);

void ls_gauge_set(struct ls_gauge *g, double v);
void ls_gauge_add(struct ls_gauge *g, double v); /* negative to decrease */
void ls_gauge_labels_set(struct ls_gauge *g, double v, const char *l1, const char *l2);

/* Count one observation (NaN is ignored) in the first bucket whose bound is >= v. */
void ls_histogram_observe(struct ls_histogram *h, double v);

/*
 * Render every family, in registration order, in the text exposition format 0.0.4
 * (Content-Type "text/plain; version=0.0.4").  *ret is a NUL-terminated buffer the
 * caller frees; *ret_len its length without the NUL.  0 or -ENOMEM.  Holds the
 * registry's lock while formatting: updates wait for at most one rendering.
 */
int ls_metrics_render(struct ls_metrics *m, char **ret, size_t *ret_len);

/* ls_metrics_render() in the shape of struct ls_http_handlers' `metrics` callback;
 * userdata is the struct ls_metrics *. */
int ls_metrics_render_handler(void *userdata, char **ret, size_t *ret_len);

/* ---- the supervisor's metric set (docs/metrics.md) ------------------------------ */

/* Outcome of one client request, the label of labstack_requests_total. */
enum ls_request_outcome {
    LS_REQUEST_ACCEPTED = 0,
    LS_REQUEST_FORBIDDEN,
    LS_REQUEST_BUSY,
    LS_REQUEST_BAD_REQUEST,
    LS_REQUEST_UNKNOWN_POLICY,
    LS_REQUEST_LIMIT,
    LS_REQUEST_INTERNAL,
    LS_REQUEST__MAX
};

/* "accepted", "forbidden", ...; "internal" for an out-of-range value. */
const char *ls_request_outcome_name(enum ls_request_outcome o);

/* The outcome of a request refused with a protocol error code: unsupported and
 * too_large count as bad_request, shutting_down as busy; unknown codes as internal. */
enum ls_request_outcome ls_request_outcome_from_code(enum ls_proto_code code);

struct ls_supervisor_metrics {
    struct ls_metrics *registry; /* render this for /metrics */

    struct ls_gauge *sandboxes_running;            /* labstack_sandboxes_running */
    struct ls_counter *sandboxes_started;          /* labstack_sandboxes_started_total */
    struct ls_counter *sandboxes_finished;         /* labstack_sandboxes_finished_total{reason} */
    struct ls_histogram *sandbox_setup_seconds;    /* labstack_sandbox_setup_seconds */
    struct ls_histogram *sandbox_duration_seconds; /* labstack_sandbox_duration_seconds */
    struct ls_gauge *queue_length;                 /* labstack_queue_length */
    struct ls_gauge *queue_capacity;               /* labstack_queue_capacity */
    struct ls_gauge *max_concurrent;               /* labstack_max_concurrent */
    struct ls_counter *requests;                   /* labstack_requests_total{outcome} */
    struct ls_counter *busy_refusals;              /* labstack_busy_refusals_total */
    struct ls_counter *denied_syscalls;            /* labstack_denied_syscalls_total */
    struct ls_gauge *client_connections;           /* labstack_client_connections */
    struct ls_gauge *policies_loaded;              /* labstack_policies_loaded */
    struct ls_counter *policy_reloads;             /* labstack_policy_reloads_total{result} */
    struct ls_gauge *build_info;                   /* labstack_build_info{version} 1 */
    struct ls_gauge *process_start_time;           /* process_start_time_seconds */
};

/*
 * Create the registry with every metric of the set registered and every known label
 * value (each reason, outcome and reload result) declared at 0, so that rate() and
 * absent() work from the first scrape.  version is the labstack version for
 * labstack_build_info.  process_start_time_seconds is read from /proc (the start of
 * this process, not of this call), falling back to the current time.
 * 0, -EINVAL or -ENOMEM.  Free with ls_supervisor_metrics_free().
 */
int ls_supervisor_metrics_new(const char *version, struct ls_supervisor_metrics **ret);
/* Accepts NULL; returns NULL. */
struct ls_supervisor_metrics *ls_supervisor_metrics_free(struct ls_supervisor_metrics *sm);

/* A sandbox ended with `reason` (ls_reason_name): finished_total{reason} += 1.  NONE
 * or an out-of-range value counts as reason="other".  Does not touch the running gauge
 * or the duration histogram. */
void ls_supervisor_metrics_finished(struct ls_supervisor_metrics *sm, enum ls_reason reason);

/* A client request was answered: requests_total{outcome} += 1, and for BUSY also
 * busy_refusals_total += 1. */
void ls_supervisor_metrics_request(struct ls_supervisor_metrics *sm, enum ls_request_outcome o);

/* A policy reload was attempted: policy_reloads_total{result="ok"|"failed"} += 1. */
void ls_supervisor_metrics_policy_reload(struct ls_supervisor_metrics *sm, bool ok);
