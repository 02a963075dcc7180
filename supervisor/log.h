/*
 * log.h - the supervisor's structured log: one JSON object per line on stderr.
 *
 *   {"ts":"2026-11-25T10:00:00.123Z","level":"info","event":"sandbox.finished",
 *    "id":"...","reason":"exited",...}
 *
 * Only the daemon logs (the libraries return errors); each event is logged once, at
 * the boundary that handles it.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Minimum level written (default info).  "debug", "info", "warn", "error" -> 0, or -EINVAL. */
int log_set_level_name(const char *name);
void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);

/* Write an event.  fields (may be NULL) is a JSON object whose keys are added to the
 * line; the reference is stolen. */
void log_event(enum log_level level, const char *event, json_t *fields);

/* An event with a human message: {"event": event, "msg": "..."}. */
void log_msg(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "2026-11-25T10:00:00.123Z" into buf (>= 32 bytes), for now. */
void log_timestamp(char *buf, size_t size);
