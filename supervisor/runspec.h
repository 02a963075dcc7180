/*
 * runspec.h - the resolved sandbox spec the supervisor hands to a runner.
 *
 * The supervisor checks the request against the policy (ls_policy_apply) and sends
 * the outcome -- every limit, bind and variable already decided -- to the runner as
 * one JSON frame (LS_FRAME_RUNNER_SPEC); the compiled seccomp program follows as a
 * data frame.  The runner decides nothing: it rebuilds the struct ls_sandbox_spec and
 * runs it.  The runner still validates the document (a bug on either side must fail
 * loudly, not run a sandbox with a zero limit).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "labstack/sandbox.h"

struct runspec {
    char *id;
    bool stdin_stream;         /* an fd for stdin comes with the spec (SCM_RIGHTS) */
    struct ls_sandbox_spec spec; /* points into the fields below */
    char **argv;
    char **env;
    struct ls_bind *binds;
    size_t n_binds;
    char *workspace;
    char *cwd;
    char *hostname;
};

/* Serialise spec (argv, env, binds, identity, limits) with the run id; caller frees. */
char *runspec_to_json(const char *id, const struct ls_sandbox_spec *spec, bool stdin_stream);

/* Parse and check; *ret has spec filled (seccomp, stdin_fd, on_output left for the
 * caller).  0, or -EINVAL/-ENOMEM with err naming the field. */
int runspec_from_json(const void *json, size_t len, struct runspec **ret, struct ls_error *err);

struct runspec *runspec_free(struct runspec *rs);
