/*
 * sinks.h - where the supervisor records what happened: the audit trail and the
 * artifact store, written by one background thread so that the event loop never
 * waits for a disk (or, later, a database or S3).
 *
 * Today's backends (issue 7 adds postgres://, issue 6 s3://):
 *   audit      file:///path/audit.jsonl   one JSON object per line, appended and
 *                                          fdatasync()ed before the next is taken
 *   artifacts  dir:///path                 <path>/<sandbox id>/result.json, written
 *                                          atomically (temp file + rename)
 * A sink that fails to write marks itself unhealthy (sinks_healthy() false): the
 * supervisor then refuses new runs -- if it cannot record what happens, it does not
 * proceed -- and /ready says why.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

struct ls_error;
struct sinks;

/* Open both sinks (creating directories and the audit file) and start the thread.
 * 0 or -errno with err naming the URL. */
int sinks_open(const char *audit_url, const char *artifacts_url, struct sinks **ret,
               struct ls_error *err);

/* Queue an audit record: {"ts", "action", "actor", "subject", "details"}.  details is
 * stolen (may be NULL). */
void sinks_audit(struct sinks *s, const char *action, const char *actor, const char *subject,
                 json_t *details);

/* Queue an artifact: <store>/<id>/<name> with data (copied). */
void sinks_artifact(struct sinks *s, const char *id, const char *name, const void *data,
                    size_t len);

/* False once a write failed; *ret_reason (static or owned by s) says which. */
bool sinks_healthy(struct sinks *s, const char **ret_reason);

/* Write everything queued, stop the thread, close.  Accepts NULL. */
void sinks_close(struct sinks *s);
