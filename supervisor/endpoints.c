/*
 * endpoints.c - /ready and /metrics for the supervisor.  The callbacks run on the
 * HTTP thread: they read only the snapshot the event loop refreshes every tick
 * (server_snapshot_get, under a mutex) and the metrics registry (its own lock).
 */
#include "endpoints.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "labstack/error.h"
#include "log.h"
#include "server.h"
#include "supmetrics.h"

struct endpoints {
    struct server *srv;
    struct ls_http *http;
};

static int ready_cb(void *userdata, bool *ret_ready, char **ret_json) {
    struct endpoints *ep = userdata;
    struct ready_state st;
    free(server_snapshot_get(ep->srv, &st));
    const struct ls_http_check checks[] = {
        {"accepting", st.accepting, st.accepting ? NULL : "the supervisor is stopping"},
        {"policies_loaded", st.policies_loaded, st.policies_loaded ? NULL : "no policy loaded"},
        {"cgroups_usable", st.cgroups_usable,
         st.cgroups_usable ? NULL : "the labstack cgroup parent is missing or not writable"},
        {"audit_sink_writable", st.audit_sink_writable,
         st.audit_sink_writable ? NULL : st.sink_detail},
        {"runners_starting", st.runners_starting,
         st.runners_starting ? NULL : "labstack-runner keeps failing at start"},
    };
    *ret_json = ls_http_ready_json(checks, sizeof(checks) / sizeof(checks[0]), ret_ready);
    return *ret_json ? 0 : -ENOMEM;
}

static int metrics_cb(void *userdata, char **ret_text, size_t *ret_len) {
    struct endpoints *ep = userdata;
    char *text = sm_render(ep->srv->metrics);
    if (!text)
        return -ENOMEM;
    *ret_text = text;
    *ret_len = strlen(text);
    return 0;
}

static void log_cb(void *userdata, const char *message) {
    (void)userdata;
    log_msg(LOG_LEVEL_WARN, "http.error", "%s", message);
}

int endpoints_start(struct server *srv, const char *addr, struct endpoints **ret,
                    struct ls_error *err) {
    struct endpoints *ep = calloc(1, sizeof(*ep));
    if (!ep)
        return -ENOMEM;
    ep->srv = srv;
    struct ls_http_handlers h = {.userdata = ep, .ready = ready_cb, .metrics = metrics_cb,
                                 .log = log_cb};
    int r = ls_http_start(addr, &h, &ep->http, err);
    if (r < 0) {
        free(ep);
        return r;
    }
    log_event(LOG_LEVEL_INFO, "http.listening",
              json_pack("{s:s, s:i}", "addr", addr, "port", (int)ls_http_port(ep->http)));
    *ret = ep;
    return 0;
}

void endpoints_stop(struct endpoints *ep) {
    if (!ep)
        return;
    ls_http_stop(ep->http);
    free(ep);
}
