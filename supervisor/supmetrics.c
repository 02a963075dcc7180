/*
 * supmetrics.c - the supervisor's events onto the metric set of metrics.h.
 */
#include "supmetrics.h"

#include <stdlib.h>
#include <string.h>

#include "labstack/result.h"
#include "metrics.h"

struct sup_metrics {
    struct ls_supervisor_metrics *sm;
};

struct sup_metrics *sm_new(const char *version, unsigned max_concurrent, unsigned queue_max) {
    struct sup_metrics *m = calloc(1, sizeof(*m));
    if (!m || ls_supervisor_metrics_new(version, &m->sm) < 0) {
        free(m);
        return NULL;
    }
    ls_gauge_set(m->sm->max_concurrent, max_concurrent);
    ls_gauge_set(m->sm->queue_capacity, queue_max);
    return m;
}

void sm_free(struct sup_metrics *m) {
    if (!m)
        return;
    ls_supervisor_metrics_free(m->sm);
    free(m);
}

char *sm_render(struct sup_metrics *m) {
    char *text = NULL;
    size_t len;
    return ls_metrics_render(m->sm->registry, &text, &len) < 0 ? NULL : text;
}

void sm_connections(struct sup_metrics *m, size_t n) {
    if (m)
        ls_gauge_set(m->sm->client_connections, (double)n);
}

void sm_request(struct sup_metrics *m, const char *outcome) {
    if (!m)
        return;
    if (strcmp(outcome, "shutting_down") == 0)
        outcome = "busy";
    for (int o = 0; o < LS_REQUEST__MAX; o++)
        if (strcmp(outcome, ls_request_outcome_name((enum ls_request_outcome)o)) == 0) {
            ls_supervisor_metrics_request(m->sm, (enum ls_request_outcome)o);
            return;
        }
    ls_supervisor_metrics_request(m->sm, LS_REQUEST_INTERNAL);
}

void sm_queue(struct sup_metrics *m, size_t n) {
    if (m)
        ls_gauge_set(m->sm->queue_length, (double)n);
}

void sm_running(struct sup_metrics *m, size_t n) {
    if (m)
        ls_gauge_set(m->sm->sandboxes_running, (double)n);
}

void sm_started(struct sup_metrics *m) {
    if (m)
        ls_counter_inc(m->sm->sandboxes_started);
}

void sm_finished(struct sup_metrics *m, const char *reason, uint64_t wall_ms, uint64_t overhead_ms) {
    enum ls_reason r = LS_REASON_NONE;

    if (!m)
        return;
    for (int i = LS_REASON_NONE + 1; i < LS_REASON__MAX; i++)
        if (strcmp(reason, ls_reason_name((enum ls_reason)i)) == 0)
            r = (enum ls_reason)i;
    ls_supervisor_metrics_finished(m->sm, r);
    ls_histogram_observe(m->sm->sandbox_duration_seconds, (double)wall_ms / 1000.0);
    ls_histogram_observe(m->sm->sandbox_setup_seconds, (double)overhead_ms / 1000.0);
}

void sm_denied(struct sup_metrics *m, uint64_t n) {
    if (m && n)
        ls_counter_add(m->sm->denied_syscalls, (double)n);
}

void sm_policies(struct sup_metrics *m, size_t n) {
    if (m)
        ls_gauge_set(m->sm->policies_loaded, (double)n);
}

void sm_reload(struct sup_metrics *m, int ok) {
    if (m)
        ls_supervisor_metrics_policy_reload(m->sm, ok != 0);
}
