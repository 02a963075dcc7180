/*
 * endpoints.h - the supervisor's HTTP endpoint (/health, /ready, /metrics), wired to
 * the server's snapshot and metrics (the HTTP library is http.h).
 */
#pragma once

struct server;
struct endpoints;
struct ls_error;

int endpoints_start(struct server *srv, const char *addr, struct endpoints **ret,
                    struct ls_error *err);
/* Accepts NULL. */
void endpoints_stop(struct endpoints *ep);
