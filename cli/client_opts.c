/*
 * client_opts.c - the connection flags of `labstack run` and `labstack status`.
 */
#include "client_opts.h"

#include <errno.h>

#include "labstack/error.h"

bool client_opts_set(struct ls_client_opts *opts, int opt, const char *arg) {
    switch (opt) {
    case CLIENT_OPT_SOCKET:
        opts->socket_path = arg;
        return true;
    case CLIENT_OPT_TLS:
        opts->tls_addr = arg;
        return true;
    case CLIENT_OPT_TLS_CERT:
        opts->tls_cert = arg;
        return true;
    case CLIENT_OPT_TLS_KEY:
        opts->tls_key = arg;
        return true;
    case CLIENT_OPT_TLS_CA:
        opts->tls_ca = arg;
        return true;
    default:
        return false;
    }
}

int client_opts_check(const struct ls_client_opts *opts, struct ls_error *err) {
    bool files = opts->tls_cert || opts->tls_key || opts->tls_ca;
    if (opts->tls_addr && opts->socket_path)
        return ls_error_set(err, 0, "flags", "--socket and --tls: choose one");
    if (opts->tls_addr && (!opts->tls_cert || !opts->tls_key || !opts->tls_ca))
        return ls_error_set(err, 0, "flags", "--tls needs --tls-cert, --tls-key and --tls-ca");
    if (!opts->tls_addr && files)
        return ls_error_set(err, 0, "flags", "--tls-cert, --tls-key and --tls-ca go with --tls");
    return 0;
}
