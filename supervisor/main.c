/*
 * main.c - labstack-supervisor: flags and config, then the event loop (server.c).
 *
 * The only privileged process of labstack.  It must run as root, or with the
 * capabilities listed in docs/operations.md (the Swarm service cannot be
 * --privileged; it gets cap_add instead).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "labstack/error.h"
#include "labstack/macros.h"
#include "labstack/parse.h"
#include "labstack/sandbox.h"
#include "endpoints.h"
#include "log.h"
#include "server.h"

static const char usage_text[] =
    "usage: labstack-supervisor [OPTIONS]\n"
    "\n"
    "Serve sandboxes to unprivileged clients (labstack run) over a Unix socket and,\n"
    "optionally, mutual TLS.  Flags override the config file.\n"
    "\n"
    "  --config FILE          JSON config (keys: docs/operations.md)\n"
    "  --socket PATH          Unix socket (default " SUP_DEFAULT_SOCKET ")\n"
    "  --socket-mode MODE     its mode (default 0660)\n"
    "  --socket-group GROUP   its group (name or gid; default root's)\n"
    "  --tls-listen ADDR      also listen on ADDR (ip:port) with mutual TLS; needs:\n"
    "  --tls-cert FILE --tls-key FILE --tls-ca FILE\n"
    "  --http ADDR            /health, /ready, /metrics on ADDR (e.g. 127.0.0.1:9464)\n"
    "  --policies DIR         policy directory (default " SUP_DEFAULT_POLICIES ")\n"
    "  --default-policy NAME  for requests that name none (default " SUP_DEFAULT_POLICY ")\n"
    "  --audit URL            file:///path/audit.jsonl (default under --state-dir)\n"
    "  --artifacts URL        dir:///path (default under --state-dir)\n"
    "  --state-dir DIR        default " SUP_DEFAULT_STATE_DIR "\n"
    "  --max-concurrent N     sandboxes at once (default: 4 per core, 1 per 256 MiB)\n"
    "  --queue-max N          requests waiting beyond that (default 256), then `busy`\n"
    "  --warm-runners N       runner processes kept ready (default 2)\n"
    "  --grace DURATION       SIGTERM: how long running sandboxes may finish (default 30s)\n"
    "  --log-level LEVEL      debug, info, warn, error (default info)\n"
    "  --runner PATH          labstack-runner (default: next to this program)\n"
    "  --version, --help\n";

enum {
    OPT_CONFIG = 256, OPT_SOCKET, OPT_SOCKET_MODE, OPT_SOCKET_GROUP, OPT_TLS_LISTEN, OPT_TLS_CERT,
    OPT_TLS_KEY, OPT_TLS_CA, OPT_HTTP, OPT_POLICIES, OPT_DEFAULT_POLICY, OPT_AUDIT, OPT_ARTIFACTS,
    OPT_STATE_DIR, OPT_MAX_CONCURRENT, OPT_QUEUE_MAX, OPT_WARM, OPT_GRACE, OPT_LOG_LEVEL,
    OPT_RUNNER, OPT_VERSION, OPT_HELP,
};

static const struct option options[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"socket", required_argument, NULL, OPT_SOCKET},
    {"socket-mode", required_argument, NULL, OPT_SOCKET_MODE},
    {"socket-group", required_argument, NULL, OPT_SOCKET_GROUP},
    {"tls-listen", required_argument, NULL, OPT_TLS_LISTEN},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"tls-ca", required_argument, NULL, OPT_TLS_CA},
    {"http", required_argument, NULL, OPT_HTTP},
    {"policies", required_argument, NULL, OPT_POLICIES},
    {"default-policy", required_argument, NULL, OPT_DEFAULT_POLICY},
    {"audit", required_argument, NULL, OPT_AUDIT},
    {"artifacts", required_argument, NULL, OPT_ARTIFACTS},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"max-concurrent", required_argument, NULL, OPT_MAX_CONCURRENT},
    {"queue-max", required_argument, NULL, OPT_QUEUE_MAX},
    {"warm-runners", required_argument, NULL, OPT_WARM},
    {"grace", required_argument, NULL, OPT_GRACE},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"runner", required_argument, NULL, OPT_RUNNER},
    {"version", no_argument, NULL, OPT_VERSION},
    {"help", no_argument, NULL, OPT_HELP},
    {},
};

static int bad_flag(const char *flag, const char *value, const char *expected) {
    fprintf(stderr, "labstack-supervisor: %s %s: expected %s\n", flag, value, expected);
    return 2;
}

/* "30", "30s", "1.5s", "2m", "1h" -> milliseconds. */
static int parse_duration_ms(const char *s, uint64_t *ret) {
    char num[32];
    size_t len = strlen(s);
    uint64_t scale = 1;

    if (len == 0 || len >= sizeof(num))
        return -EINVAL;
    memcpy(num, s, len + 1);
    switch (num[len - 1]) {
    case 's': num[--len] = 0; break;
    case 'm': num[--len] = 0; scale = 60; break;
    case 'h': num[--len] = 0; scale = 3600; break;
    default: break;
    }
    if (ls_parse_seconds_ms(num, ret) < 0 || *ret > UINT64_MAX / scale)
        return -EINVAL;
    *ret *= scale;
    return 0;
}

/* Apply the flags (after the config file).  Returns 0, 1 for --help/--version done,
 * or an exit status >= 2. */
static int apply_flags(int argc, char **argv, struct sup_config *cfg) {
    uint64_t v;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        char **field = NULL;
        switch (c) {
        case OPT_CONFIG: break;   /* read before */
        case OPT_SOCKET: field = &cfg->socket_path; break;
        case OPT_SOCKET_GROUP: field = &cfg->socket_group; break;
        case OPT_TLS_LISTEN: field = &cfg->tls_listen; break;
        case OPT_TLS_CERT: field = &cfg->tls_cert; break;
        case OPT_TLS_KEY: field = &cfg->tls_key; break;
        case OPT_TLS_CA: field = &cfg->tls_ca; break;
        case OPT_HTTP: field = &cfg->http; break;
        case OPT_POLICIES: field = &cfg->policies_dir; break;
        case OPT_DEFAULT_POLICY: field = &cfg->default_policy; break;
        case OPT_AUDIT: field = &cfg->audit_url; break;
        case OPT_ARTIFACTS: field = &cfg->artifacts_url; break;
        case OPT_STATE_DIR: field = &cfg->state_dir; break;
        case OPT_RUNNER: field = &cfg->runner_path; break;
        case OPT_LOG_LEVEL:
            if (log_set_level_name(optarg) < 0)
                return bad_flag("--log-level", optarg, "debug, info, warn or error");
            field = &cfg->log_level;
            break;
        case OPT_SOCKET_MODE:
            if (config_parse_mode(optarg, &cfg->socket_mode) < 0)
                return bad_flag("--socket-mode", optarg, "an octal mode like 0660");
            break;
        case OPT_MAX_CONCURRENT:
            if (ls_parse_uint(optarg, 4096, &v) < 0 || v == 0)
                return bad_flag("--max-concurrent", optarg, "an integer 1..4096");
            cfg->max_concurrent = (unsigned)v;
            break;
        case OPT_QUEUE_MAX:
            if (ls_parse_uint(optarg, 65536, &v) < 0)
                return bad_flag("--queue-max", optarg, "an integer 0..65536");
            cfg->queue_max = (unsigned)v;
            break;
        case OPT_WARM:
            if (ls_parse_uint(optarg, 256, &v) < 0)
                return bad_flag("--warm-runners", optarg, "an integer 0..256");
            cfg->warm_runners = (unsigned)v;
            break;
        case OPT_GRACE:
            if (parse_duration_ms(optarg, &v) < 0 || v > 86400000)
                return bad_flag("--grace", optarg, "a duration like 30s (at most 24h)");
            cfg->grace_ms = (unsigned)v;
            break;
        case OPT_VERSION:
            printf("labstack-supervisor %s (protocol %d)\n", PROJECT_VERSION, LS_PROTO_VERSION);
            return 1;
        case OPT_HELP:
            fputs(usage_text, stdout);
            return 1;
        default:
            fputs(usage_text, stderr);
            return 2;
        }
        if (field && config_set_str(field, optarg) < 0)
            return 2;
    }
    if (optind != argc) {
        fprintf(stderr, "labstack-supervisor: unexpected argument %s\n", argv[optind]);
        return 2;
    }
    return 0;
}

static char *runner_next_to_self(void) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return NULL;
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (!slash)
        return NULL;
    *slash = 0;
    char *path = NULL;
    if (asprintf(&path, "%s/labstack-runner", self) < 0)
        return NULL;
    return path;
}

int main(int argc, char **argv) {
    _cleanup_(config_free) struct sup_config cfg;
    struct server srv;
    struct endpoints *ep = NULL;
    struct ls_error err = {0};
    int c, r;

    config_init(&cfg);
    /* The config file first, so that flags override it. */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1)
        if (c == OPT_CONFIG && config_load_file(&cfg, optarg, &err) < 0) {
            fprintf(stderr, "labstack-supervisor: %s\n", err.msg);
            return 2;
        }
    opterr = 1;
    if ((r = apply_flags(argc, argv, &cfg)) != 0)
        return r == 1 ? 0 : r;
    if (cfg.log_level && log_set_level_name(cfg.log_level) < 0) {
        fprintf(stderr, "labstack-supervisor: log_level %s: expected debug, info, warn or error\n",
                cfg.log_level);
        return 2;
    }
    if (config_finish(&cfg, &err) < 0) {
        fprintf(stderr, "labstack-supervisor: %s\n", err.msg);
        return 2;
    }
    if (geteuid() != 0) {
        fprintf(stderr, "labstack-supervisor: must run as root (or with the capabilities in "
                        "docs/operations.md): it creates namespaces and cgroups\n");
        return 2;
    }

    r = server_init(&srv, &cfg, &err);
    if (r >= 0) {
        srv.runner_path = cfg.runner_path ? strdup(cfg.runner_path) : runner_next_to_self();
        if (!srv.runner_path || access(srv.runner_path, X_OK) < 0)
            r = ls_error_set(&err, srv.runner_path ? errno : ENOMEM, "runner", "labstack-runner %s",
                             srv.runner_path ? srv.runner_path : "");
    }
    if (r >= 0 && cfg.http)
        r = endpoints_start(&srv, cfg.http, &ep, &err);
    if (r < 0) {
        log_event(LOG_LEVEL_ERROR, "supervisor.failed",
                  json_pack("{s:s, s:s}", "step", err.step, "msg", err.msg));
        server_fini(&srv);
        free(srv.runner_path);
        return 1;
    }
    (void)runners_spawn_warm(&srv);
    server_audit(&srv, "supervisor.started", "supervisor", NULL,
                 json_pack("{s:s, s:s, s:i, s:i}", "version", PROJECT_VERSION, "socket",
                           cfg.socket_path, "max_concurrent", (int)cfg.max_concurrent,
                           "cgroup_version", ls_sandbox_host_cgroup_version(srv.host)));
    log_event(LOG_LEVEL_INFO, "supervisor.started",
              json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:i, s:i, s:i, s:i}", "version", PROJECT_VERSION,
                        "socket", cfg.socket_path, "tls", cfg.tls_listen, "http", cfg.http,
                        "policies", cfg.policies_dir, "max_concurrent", (int)cfg.max_concurrent,
                        "queue_max", (int)cfg.queue_max, "warm_runners", (int)cfg.warm_runners,
                        "cgroup_version", ls_sandbox_host_cgroup_version(srv.host)));

    r = server_run(&srv);

    endpoints_stop(ep);
    server_audit(&srv, "supervisor.stopped", "supervisor", NULL, json_pack("{s:i}", "status", r < 0));
    log_msg(LOG_LEVEL_INFO, "supervisor.stopped", "stopped");
    server_fini(&srv);
    free(srv.runner_path);
    return r < 0 ? 1 : 0;
}
