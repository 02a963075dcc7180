/*
 * supmetrics.h - what the supervisor counts, in its own words; supmetrics.c maps each
 * call onto the metrics registry (metrics.h) that /metrics renders.  All calls are
 * from the event loop; the registry is safe to render from the HTTP thread.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct sup_metrics;

struct sup_metrics *sm_new(const char *version, unsigned max_concurrent, unsigned queue_max);
void sm_free(struct sup_metrics *m);
/* The Prometheus text exposition (caller frees). */
char *sm_render(struct sup_metrics *m);

void sm_connections(struct sup_metrics *m, size_t n);
/* accepted, forbidden, busy, bad_request, unknown_policy, limit, internal, shutting_down.
 * "busy" also counts labstack_busy_refusals_total. */
void sm_request(struct sup_metrics *m, const char *outcome);
void sm_queue(struct sup_metrics *m, size_t n);
void sm_running(struct sup_metrics *m, size_t n);
/* A run was handed to a runner. */
void sm_started(struct sup_metrics *m);
/* A run ended with reason (result.h names, or setup_failed).  wall_ms: the command's
 * wall time (clone to reap; 0 when it never ran); overhead_ms: the rest of the time
 * from handing the run to a runner until its result (sandbox build and teardown). */
void sm_finished(struct sup_metrics *m, const char *reason, uint64_t wall_ms, uint64_t overhead_ms);
void sm_denied(struct sup_metrics *m, uint64_t n);
void sm_policies(struct sup_metrics *m, size_t n);
void sm_reload(struct sup_metrics *m, int ok);
