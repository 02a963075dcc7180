/*
 * client_opts.h - the flags that say how to reach the supervisor, shared by
 * `labstack run` and `labstack status`: --socket, or --tls with its three files.
 */
#pragma once

#include <getopt.h>
#include <stdbool.h>

#include "labstack/client.h"

struct ls_error;

enum {
    CLIENT_OPT_SOCKET = 0x200,
    CLIENT_OPT_TLS,
    CLIENT_OPT_TLS_CERT,
    CLIENT_OPT_TLS_KEY,
    CLIENT_OPT_TLS_CA,
};

/* Entries for a getopt_long option table. */
// clang-format off
#define CLIENT_LONG_OPTIONS                                             \
    {"socket", required_argument, NULL, CLIENT_OPT_SOCKET},             \
    {"tls", required_argument, NULL, CLIENT_OPT_TLS},                   \
    {"tls-cert", required_argument, NULL, CLIENT_OPT_TLS_CERT},         \
    {"tls-key", required_argument, NULL, CLIENT_OPT_TLS_KEY},           \
    {"tls-ca", required_argument, NULL, CLIENT_OPT_TLS_CA}

#define CLIENT_OPTS_HELP                                                                      \
    "  --socket PATH          the supervisor's Unix socket (default $LABSTACK_SOCKET, then\n" \
    "                         " LS_DEFAULT_SOCKET ")\n"                                        \
    "  --tls HOST:PORT        talk to a remote supervisor over mutual TLS 1.3 instead; needs\n" \
    "  --tls-cert FILE        this client's certificate (PEM; its CN/OU are your identity),\n" \
    "  --tls-key FILE         its private key,\n"                                             \
    "  --tls-ca FILE          and the CA that signed the supervisor's certificate\n"
// clang-format on

/* Store the value of one of the flags above; false when opt is not one of them. */
bool client_opts_set(struct ls_client_opts *opts, int opt, const char *arg);

/* The combination makes sense: --tls with all three files, not with --socket.  0 or
 * -EINVAL with err naming the flag. */
int client_opts_check(const struct ls_client_opts *opts, struct ls_error *err);
