/*
 * config.c - defaults, the JSON config file and checks (see config.h).
 */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "labstack/error.h"
#include "labstack/fileio.h"
#include "labstack/macros.h"

#define CONFIG_MAX_BYTES (1u << 20)

void config_init(struct sup_config *c) {
    *c = (struct sup_config){
        .socket_mode = 0660,
        .queue_max = 256,
        .warm_runners = 2,
        .grace_ms = 30000,
        .max_connections = 1024,
        .request_timeout_ms = 10000,
        .idmap_base = 1000000,
        .idmap_count = 65536,
    };
}

static void role_map_free(struct role_map *r) {
    free(r->role);
    free(r->uids);
    free(r->gids);
}

void config_free(struct sup_config *c) {
    char **strs[] = {&c->socket_path, &c->socket_group, &c->tls_listen, &c->tls_cert,
                     &c->tls_key, &c->tls_ca, &c->http, &c->policies_dir, &c->default_policy,
                     &c->audit_url, &c->artifacts_url, &c->state_dir, &c->runner_path,
                     &c->log_level};
    for (size_t i = 0; i < ELEMENTSOF(strs); i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
    for (size_t i = 0; i < c->n_roles; i++)
        role_map_free(&c->roles[i]);
    free(c->roles);
    c->roles = NULL;
    c->n_roles = 0;
}

int config_set_str(char **field, const char *value) {
    char *copy = strdup(value);
    if (!copy)
        return -ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

int config_parse_mode(const char *s, mode_t *ret) {
    char *end;
    unsigned long v;

    if (!s || !*s || strspn(s, "01234567") != strlen(s))
        return -EINVAL;
    errno = 0;
    v = strtoul(s, &end, 8);
    if (errno || *end || v > 0777)
        return -EINVAL;
    *ret = (mode_t)v;
    return 0;
}

static int get_string(json_t *obj, const char *key, const char *where, char **field,
                      struct ls_error *err) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        strlen(json_string_value(v)) != json_string_length(v))
        return ls_error_set(err, EINVAL, "config", "%s%s: expected a non-empty string", where, key);
    return config_set_str(field, json_string_value(v)) < 0
               ? ls_error_set(err, ENOMEM, "config", "%s%s", where, key)
               : 0;
}

static int get_uint(json_t *obj, const char *key, uint64_t min, uint64_t max, uint64_t scale,
                    unsigned *field, struct ls_error *err) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)min ||
        (uint64_t)json_integer_value(v) > max)
        return ls_error_set(err, EINVAL, "config", "%s: expected an integer in [%llu, %llu]", key,
                            (unsigned long long)min, (unsigned long long)max);
    *field = (unsigned)((uint64_t)json_integer_value(v) * scale);
    return 0;
}

static int get_id_array(json_t *arr, const char *where, uint32_t **ret, size_t *ret_n,
                        struct ls_error *err) {
    size_t i, n;
    json_t *v;

    if (!json_is_array(arr))
        return ls_error_set(err, EINVAL, "config", "%s: expected an array of ids", where);
    n = json_array_size(arr);
    uint32_t *ids = calloc(n ? n : 1, sizeof(*ids));
    if (!ids)
        return ls_error_set(err, ENOMEM, "config", "%s", where);
    json_array_foreach(arr, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) >= (json_int_t)UINT32_MAX) {
            free(ids);
            return ls_error_set(err, EINVAL, "config", "%s[%zu]: expected a uid/gid", where, i);
        }
        ids[i] = (uint32_t)json_integer_value(v);
    }
    *ret = ids;
    *ret_n = n;
    return 0;
}

static int parse_roles(struct sup_config *c, json_t *roles, struct ls_error *err) {
    const char *name;
    json_t *v;
    char where[160];
    int r;

    if (!json_is_object(roles))
        return ls_error_set(err, EINVAL, "config", "roles: expected an object role -> {uids, gids}");
    struct role_map *maps = calloc(json_object_size(roles) + 1, sizeof(*maps));
    if (!maps)
        return -ENOMEM;
    size_t n = 0;
    json_object_foreach(roles, name, v) {
        struct role_map *m = &maps[n++];
        const char *key;
        json_t *ids;
        if (!*name || strlen(name) > 64 || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(name)) {
            r = ls_error_set(err, EINVAL, "config", "roles.%.64s: a role name is 1-64 of [a-z0-9_-]", name);
            goto fail;
        }
        if (!json_is_object(v)) {
            r = ls_error_set(err, EINVAL, "config", "roles.%s: expected an object {uids, gids}", name);
            goto fail;
        }
        m->role = strdup(name);
        if (!m->role) {
            r = -ENOMEM;
            goto fail;
        }
        json_object_foreach(v, key, ids) {
            snprintf(where, sizeof(where), "roles.%s.%s", name, key);
            if (strcmp(key, "uids") == 0)
                r = get_id_array(ids, where, &m->uids, &m->n_uids, err);
            else if (strcmp(key, "gids") == 0)
                r = get_id_array(ids, where, &m->gids, &m->n_gids, err);
            else
                r = ls_error_set(err, EINVAL, "config", "%s: unknown key (expected uids, gids)", where);
            if (r < 0)
                goto fail;
        }
    }
    for (size_t i = 0; i < c->n_roles; i++)
        role_map_free(&c->roles[i]);
    free(c->roles);
    c->roles = maps;
    c->n_roles = n;
    return 0;
fail:
    for (size_t i = 0; i < n; i++)
        role_map_free(&maps[i]);
    free(maps);
    return r;
}

static const char *const known_keys[] = {
    "socket", "socket_mode", "socket_group", "tls", "http", "policies", "default_policy",
    "audit", "artifacts", "state_dir", "runner", "log_level", "max_concurrent", "queue_max",
    "warm_runners", "grace_seconds", "max_connections", "request_timeout_seconds", "roles",
    "idmap",
};

int config_load_file(struct sup_config *c, const char *path, struct ls_error *err) {
    _cleanup_free_ char *data = NULL;
    size_t len;
    json_error_t jerr;
    json_t *root, *v;
    const char *key;
    /* Declared before the first `goto out`: its cleanup runs at every exit. */
    _cleanup_free_ char *mode = NULL;
    int r;

    r = ls_read_file(path, CONFIG_MAX_BYTES, &data, &len);
    if (r < 0)
        return ls_error_set(err, -r, "config", "read %s", path);
    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return ls_error_set(err, EINVAL, "config", "%s:%d:%d: %s", path, jerr.line, jerr.column,
                            jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return ls_error_set(err, EINVAL, "config", "%s: expected a JSON object", path);
    }
    json_object_foreach(root, key, v) {
        bool known = false;
        for (size_t i = 0; i < ELEMENTSOF(known_keys); i++)
            known |= strcmp(key, known_keys[i]) == 0;
        if (!known) {
            r = ls_error_set(err, EINVAL, "config", "%.64s: unknown key", key);
            goto out;
        }
    }

    unsigned grace_s = c->grace_ms / 1000, req_s = c->request_timeout_ms / 1000;
    if ((r = get_string(root, "socket", "", &c->socket_path, err)) < 0 ||
        (r = get_string(root, "socket_mode", "", &mode, err)) < 0 ||
        (r = get_string(root, "socket_group", "", &c->socket_group, err)) < 0 ||
        (r = get_string(root, "http", "", &c->http, err)) < 0 ||
        (r = get_string(root, "policies", "", &c->policies_dir, err)) < 0 ||
        (r = get_string(root, "default_policy", "", &c->default_policy, err)) < 0 ||
        (r = get_string(root, "audit", "", &c->audit_url, err)) < 0 ||
        (r = get_string(root, "artifacts", "", &c->artifacts_url, err)) < 0 ||
        (r = get_string(root, "state_dir", "", &c->state_dir, err)) < 0 ||
        (r = get_string(root, "runner", "", &c->runner_path, err)) < 0 ||
        (r = get_string(root, "log_level", "", &c->log_level, err)) < 0 ||
        (r = get_uint(root, "max_concurrent", 1, 4096, 1, &c->max_concurrent, err)) < 0 ||
        (r = get_uint(root, "queue_max", 0, 65536, 1, &c->queue_max, err)) < 0 ||
        (r = get_uint(root, "warm_runners", 0, 256, 1, &c->warm_runners, err)) < 0 ||
        (r = get_uint(root, "grace_seconds", 0, 86400, 1, &grace_s, err)) < 0 ||
        (r = get_uint(root, "max_connections", 1, 1000000, 1, &c->max_connections, err)) < 0 ||
        (r = get_uint(root, "request_timeout_seconds", 1, 3600, 1, &req_s, err)) < 0)
        goto out;
    c->grace_ms = grace_s * 1000;
    c->request_timeout_ms = req_s * 1000;
    if (mode && config_parse_mode(mode, &c->socket_mode) < 0) {
        r = ls_error_set(err, EINVAL, "config", "socket_mode: expected an octal mode like \"0660\"");
        goto out;
    }
    if ((v = json_object_get(root, "tls"))) {
        if (!json_is_object(v)) {
            r = ls_error_set(err, EINVAL, "config", "tls: expected an object");
            goto out;
        }
        const char *tk;
        json_t *tv;
        json_object_foreach(v, tk, tv) {
            if (strcmp(tk, "listen") && strcmp(tk, "cert") && strcmp(tk, "key") && strcmp(tk, "ca")) {
                r = ls_error_set(err, EINVAL, "config", "tls.%.64s: unknown key (expected listen, cert, key, ca)", tk);
                goto out;
            }
        }
        if ((r = get_string(v, "listen", "tls.", &c->tls_listen, err)) < 0 ||
            (r = get_string(v, "cert", "tls.", &c->tls_cert, err)) < 0 ||
            (r = get_string(v, "key", "tls.", &c->tls_key, err)) < 0 ||
            (r = get_string(v, "ca", "tls.", &c->tls_ca, err)) < 0)
            goto out;
    }
    if ((v = json_object_get(root, "idmap"))) {
        json_t *b = json_object_get(v, "base"), *n = json_object_get(v, "count");
        if (!json_is_object(v) || json_object_size(v) != (size_t)(!!b + !!n) ||
            (b && (!json_is_integer(b) || json_integer_value(b) < 1 ||
                   json_integer_value(b) >= (json_int_t)UINT32_MAX)) ||
            (n && (!json_is_integer(n) || json_integer_value(n) < 1 ||
                   json_integer_value(n) > (1 << 24)))) {
            r = ls_error_set(err, EINVAL, "config", "idmap: expected {\"base\": uid >= 1, \"count\": 1..16777216}");
            goto out;
        }
        if (b)
            c->idmap_base = (uid_t)json_integer_value(b);
        if (n)
            c->idmap_count = (unsigned)json_integer_value(n);
    }
    if ((v = json_object_get(root, "roles")) && (r = parse_roles(c, v, err)) < 0)
        goto out;
    r = 0;
out:
    json_decref(root);
    if (r < 0)
        ls_error_prefix(err, path);
    return r;
}

int config_finish(struct sup_config *c, struct ls_error *err) {
    if (!c->socket_path && config_set_str(&c->socket_path, SUP_DEFAULT_SOCKET) < 0)
        return -ENOMEM;
    if (!c->policies_dir && config_set_str(&c->policies_dir, SUP_DEFAULT_POLICIES) < 0)
        return -ENOMEM;
    if (!c->default_policy && config_set_str(&c->default_policy, SUP_DEFAULT_POLICY) < 0)
        return -ENOMEM;
    if (!c->state_dir && config_set_str(&c->state_dir, SUP_DEFAULT_STATE_DIR) < 0)
        return -ENOMEM;
    if (!c->audit_url && asprintf(&c->audit_url, "file://%s/audit.jsonl", c->state_dir) < 0)
        return -ENOMEM;
    if (!c->artifacts_url && asprintf(&c->artifacts_url, "dir://%s/artifacts", c->state_dir) < 0)
        return -ENOMEM;
    if (c->max_concurrent == 0) {
        /* Four sandboxes per core, but no more than one per 256 MiB of memory: a QA
         * run's default limit is 1 GiB, and most runs use a fraction of it. */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        uint64_t by_mem = (uint64_t)(pages > 0 ? pages : 0) * (uint64_t)(page > 0 ? page : 4096) /
                          (256u << 20);
        uint64_t n = (uint64_t)(cpus > 0 ? cpus : 1) * 4;
        if (by_mem < n)
            n = by_mem;
        c->max_concurrent = n < 2 ? 2 : (unsigned)n;
    }
    if (c->socket_path[0] != '/' || strlen(c->socket_path) >= 108)
        return ls_error_set(err, EINVAL, "config", "socket %s: expected an absolute path under 108 bytes",
                            c->socket_path);
    if (!!c->tls_listen != (c->tls_cert && c->tls_key && c->tls_ca) ||
        (!c->tls_listen && (c->tls_cert || c->tls_key || c->tls_ca)))
        return ls_error_set(err, EINVAL, "config",
                            "TLS needs all of --tls-listen, --tls-cert, --tls-key and --tls-ca");
    if (c->warm_runners > c->max_concurrent)
        c->warm_runners = c->max_concurrent;
    return 0;
}

const char *config_role_for(const struct sup_config *c, uid_t uid, const gid_t *groups,
                            size_t n_groups) {
    for (size_t i = 0; i < c->n_roles; i++) {
        const struct role_map *m = &c->roles[i];
        for (size_t j = 0; j < m->n_uids; j++)
            if (m->uids[j] == uid)
                return m->role;
        for (size_t j = 0; j < m->n_gids; j++)
            for (size_t k = 0; k < n_groups; k++)
                if (m->gids[j] == groups[k])
                    return m->role;
    }
    return NULL;
}
