/*
 * sinks.c - the audit trail and the artifact store, written off the event loop (see
 * sinks.h).
 */
#include "sinks.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "labstack/error.h"
#include "labstack/fileio.h"
#include "labstack/macros.h"
#include "log.h"

enum job_kind { JOB_AUDIT, JOB_ARTIFACT };

struct job {
    enum job_kind kind;
    char *text;          /* audit line incl. '\n', or artifact data */
    size_t len;
    char *id, *name;     /* artifact */
    struct job *next;
};

struct sinks {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct job *head, *tail;
    bool stop;
    bool healthy;
    char reason[256];
    int audit_fd;
    char *audit_path;
    char *artifacts_dir;
};

static int mkdir_p(const char *path, mode_t mode) {
    _cleanup_free_ char *copy = strdup(path);
    if (!copy)
        return -ENOMEM;
    for (char *p = copy + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(copy, mode) < 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    if (mkdir(copy, mode) < 0 && errno != EEXIST)
        return -errno;
    struct stat st;
    if (stat(copy, &st) < 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static const char *url_path(const char *url, const char *scheme) {
    size_t n = strlen(scheme);
    if (strncmp(url, scheme, n) != 0 || url[n] != '/')
        return NULL;
    return url + n;
}

/* A write failed: "<what>: <strerror>" becomes the reason the sinks are unhealthy. */
static void fail(struct sinks *s, const char *what, int errnum) {
    bool first;
    pthread_mutex_lock(&s->lock);
    first = s->healthy;
    if (first) {
        snprintf(s->reason, sizeof(s->reason), "%s: %s", what, strerror(errnum));
        s->healthy = false;
    }
    pthread_mutex_unlock(&s->lock);
    /* Logged once, when the sinks turn unhealthy (then no run is admitted). */
    if (first)
        log_msg(LOG_LEVEL_ERROR, "sink.failed", "%s: %s", what, strerror(errnum));
}

static void run_job(struct sinks *s, struct job *j) {
    if (j->kind == JOB_AUDIT) {
        int r = ls_write_all(s->audit_fd, j->text, j->len);
        if (r >= 0 && fdatasync(s->audit_fd) < 0)
            r = -errno;
        if (r < 0)
            fail(s, s->audit_path, -r);
        return;
    }
    _cleanup_free_ char *dir = NULL, *path = NULL;
    int r;
    if (asprintf(&dir, "%s/%s", s->artifacts_dir, j->id) < 0 ||
        asprintf(&path, "%s/%s", dir, j->name) < 0) {
        fail(s, s->artifacts_dir, ENOMEM);
        return;
    }
    if ((r = mkdir_p(dir, 0750)) < 0 || (r = ls_write_file_atomic(path, j->text, j->len, 0640)) < 0)
        fail(s, path, -r);
}

static void job_free(struct job *j) {
    free(j->text);
    free(j->id);
    free(j->name);
    free(j);
}

static void *sink_thread(void *arg) {
    struct sinks *s = arg;

    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->head && !s->stop)
            pthread_cond_wait(&s->cond, &s->lock);
        if (!s->head && s->stop)
            break;
        struct job *j = s->head;
        s->head = j->next;
        if (!s->head)
            s->tail = NULL;
        pthread_mutex_unlock(&s->lock);
        run_job(s, j);
        job_free(j);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void enqueue(struct sinks *s, struct job *j) {
    pthread_mutex_lock(&s->lock);
    if (s->tail)
        s->tail->next = j;
    else
        s->head = j;
    s->tail = j;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

int sinks_open(const char *audit_url, const char *artifacts_url, struct sinks **ret,
               struct ls_error *err) {
    const char *audit_path = url_path(audit_url, "file://");
    const char *art_path = url_path(artifacts_url, "dir://");
    _cleanup_free_ char *parent = NULL;
    int r;

    if (!audit_path)
        return ls_error_set(err, EINVAL, "audit",
                            "--audit %s: expected file:///path/audit.jsonl (postgres:// comes with "
                            "the audit trail issue)", audit_url);
    if (!art_path)
        return ls_error_set(err, EINVAL, "artifacts",
                            "--artifacts %s: expected dir:///path (s3:// comes with the workspace "
                            "issue)", artifacts_url);
    struct sinks *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->healthy = true;
    s->audit_fd = -EBADF;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->audit_path = strdup(audit_path);
    s->artifacts_dir = strdup(art_path);
    if (!s->audit_path || !s->artifacts_dir) {
        r = -ENOMEM;
        goto fail;
    }
    parent = strdup(audit_path);
    if (!parent) {
        r = -ENOMEM;
        goto fail;
    }
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = 0;
        if ((r = mkdir_p(parent, 0750)) < 0) {
            ls_error_set(err, -r, "audit", "create %s", parent);
            goto fail;
        }
    }
    s->audit_fd = open(audit_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (s->audit_fd < 0) {
        r = ls_error_set(err, errno, "audit", "open %s", audit_path);
        goto fail;
    }
    if ((r = mkdir_p(art_path, 0750)) < 0) {
        ls_error_set(err, -r, "artifacts", "create %s", art_path);
        goto fail;
    }
    if ((r = -pthread_create(&s->thread, NULL, sink_thread, s)) < 0) {
        ls_error_set(err, -r, "sinks", "start the sink thread");
        goto fail;
    }
    *ret = s;
    return 0;
fail:
    safe_close(s->audit_fd);
    free(s->audit_path);
    free(s->artifacts_dir);
    free(s);
    return r;
}

void sinks_audit(struct sinks *s, const char *action, const char *actor, const char *subject,
                 json_t *details) {
    char ts[40];
    log_timestamp(ts, sizeof(ts));
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s?, s:o}", "ts", ts, "action", action, "actor",
                            actor, "subject", subject, "details", details ? details : json_object());
    if (!rec) {
        log_msg(LOG_LEVEL_ERROR, "audit.failed", "cannot build the audit record for %s", action);
        return;
    }
    char *text = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(rec);
    struct job *j = calloc(1, sizeof(*j));
    if (!text || !j) {
        free(text);
        free(j);
        log_msg(LOG_LEVEL_ERROR, "audit.failed", "out of memory recording %s", action);
        return;
    }
    j->len = strlen(text) + 1;
    text[j->len - 1] = '\n';
    j->kind = JOB_AUDIT;
    j->text = text;
    enqueue(s, j);
}

void sinks_artifact(struct sinks *s, const char *id, const char *name, const void *data,
                    size_t len) {
    struct job *j = calloc(1, sizeof(*j));
    if (!j)
        return;
    j->kind = JOB_ARTIFACT;
    j->text = malloc(len ? len : 1);
    j->id = strdup(id);
    j->name = strdup(name);
    if (!j->text || !j->id || !j->name) {
        job_free(j);
        log_msg(LOG_LEVEL_ERROR, "artifact.failed", "out of memory storing %s/%s", id, name);
        return;
    }
    memcpy(j->text, data, len);
    j->len = len;
    enqueue(s, j);
}

bool sinks_healthy(struct sinks *s, const char **ret_reason) {
    bool ok;
    pthread_mutex_lock(&s->lock);
    ok = s->healthy;
    pthread_mutex_unlock(&s->lock);
    if (!ok && ret_reason)
        *ret_reason = s->reason;   /* written once, before healthy turned false */
    return ok;
}

void sinks_close(struct sinks *s) {
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    safe_close(s->audit_fd);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s->audit_path);
    free(s->artifacts_dir);
    free(s);
}
