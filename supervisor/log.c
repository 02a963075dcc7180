/*
 * log.c - JSON-lines logging for the supervisor (see log.h).
 *
 * Each line is formatted completely in memory and written with one write(2), so lines
 * from the event loop, the sink thread and the HTTP thread never interleave.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "labstack/fileio.h"

static enum log_level min_level = LOG_LEVEL_INFO;

static const char *const level_names[] = {
    [LOG_LEVEL_DEBUG] = "debug",
    [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_WARN] = "warn",
    [LOG_LEVEL_ERROR] = "error",
};

int log_set_level_name(const char *name) {
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
        if (strcmp(name, level_names[i]) == 0) {
            min_level = (enum log_level)i;
            return 0;
        }
    return -EINVAL;
}

void log_set_level(enum log_level level) {
    min_level = level;
}

bool log_enabled(enum log_level level) {
    return level >= min_level;
}

void log_timestamp(char *buf, size_t size) {
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

void log_event(enum log_level level, const char *event, json_t *fields) {
    char ts[40];
    json_t *line;
    char *text;

    if (!log_enabled(level)) {
        json_decref(fields);
        return;
    }
    log_timestamp(ts, sizeof(ts));
    line = json_pack("{s:s, s:s, s:s}", "ts", ts, "level", level_names[level], "event", event);
    if (!line) {
        json_decref(fields);
        return;
    }
    if (fields && json_is_object(fields))
        json_object_update_missing(line, fields);
    json_decref(fields);
    text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    if (!text)
        return;
    size_t len = strlen(text);
    text[len] = '\n';   /* json_dumps' NUL becomes the newline: one write per line */
    (void)ls_write_all(STDERR_FILENO, text, len + 1);
    free(text);
}

void log_msg(enum log_level level, const char *event, const char *fmt, ...) {
    char msg[1024];
    va_list ap;

    if (!log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_event(level, event, json_pack("{s:s}", "msg", msg));
}
