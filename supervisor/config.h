/*
 * config.h - the supervisor's configuration: built-in defaults, then a JSON file
 * (--config), then command-line flags, each overriding the one before.
 *
 * The file format (every key optional; unknown keys are errors):
 *   {"socket": "/run/labstack/supervisor.sock", "socket_mode": "0660",
 *    "socket_group": "labstack",
 *    "tls": {"listen": "127.0.0.1:7443", "cert": "...", "key": "...", "ca": "..."},
 *    "http": "127.0.0.1:9464", "policies": "/etc/labstack/policies",
 *    "default_policy": "qa-default", "audit": "file:///var/lib/labstack/audit.jsonl",
 *    "artifacts": "dir:///var/lib/labstack/artifacts", "max_concurrent": 8,
 *    "queue_max": 256, "warm_runners": 2, "grace_seconds": 30, "max_connections": 1024,
 *    "request_timeout_seconds": 10, "log_level": "info",
 *    "roles": {"qa": {"uids": [1001], "gids": [2000]}},
 *    "idmap": {"base": 1000000, "count": 65536}, "runner": "/usr/libexec/labstack-runner"}
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ls_error;

#define SUP_DEFAULT_SOCKET "/run/labstack/supervisor.sock"
#define SUP_DEFAULT_POLICIES "/etc/labstack/policies"
#define SUP_DEFAULT_STATE_DIR "/var/lib/labstack"
#define SUP_DEFAULT_POLICY "qa-default"

/* Unix-socket clients get an agent role from their uid or one of their groups. */
struct role_map {
    char *role;
    uid_t *uids;
    size_t n_uids;
    gid_t *gids;
    size_t n_gids;
};

struct sup_config {
    char *socket_path;
    mode_t socket_mode;
    char *socket_group;        /* name or number; NULL: root's group */
    char *tls_listen, *tls_cert, *tls_key, *tls_ca;
    char *http;                /* NULL: no HTTP endpoint */
    char *policies_dir;
    char *default_policy;
    char *audit_url;           /* NULL: file://<state>/audit.jsonl */
    char *artifacts_url;       /* NULL: dir://<state>/artifacts */
    char *state_dir;
    char *runner_path;         /* NULL: labstack-runner next to the supervisor */
    char *log_level;
    unsigned max_concurrent;   /* 0: from cores and memory */
    unsigned queue_max;
    unsigned warm_runners;
    unsigned grace_ms;
    unsigned max_connections;
    unsigned request_timeout_ms;
    uid_t idmap_base;
    unsigned idmap_count;
    struct role_map *roles;
    size_t n_roles;
};

void config_init(struct sup_config *c);
void config_free(struct sup_config *c);

/* Merge a JSON config file into c.  0, or -errno with err naming the file and key. */
int config_load_file(struct sup_config *c, const char *path, struct ls_error *err);

/* Fill what is still unset from the machine (max_concurrent from cores and memory) and
 * check the whole: 0 or -EINVAL with err. */
int config_finish(struct sup_config *c, struct ls_error *err);

/* Replace a string field (free the old value). 0 or -ENOMEM. */
int config_set_str(char **field, const char *value);

/* "0660" -> mode; -EINVAL unless it is an octal mode <= 0777. */
int config_parse_mode(const char *s, mode_t *ret);

/* The role of a Unix peer (uid, its groups), or NULL. */
const char *config_role_for(const struct sup_config *c, uid_t uid, const gid_t *groups,
                            size_t n_groups);
