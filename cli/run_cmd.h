/*
 * run_cmd.h - `labstack run`: flags -> a RUN request to the supervisor -> output
 * streamed live -> the command's exit status, like `docker run`.
 */
#pragma once

#include <stdbool.h>

#include "labstack/client.h"
#include "labstack/protocol.h"
#include "labstack/result.h"

struct ls_error;

struct run_cmd {
    struct ls_client_opts opts;
    struct ls_run_request req; /* argv points into the command line; env into run_cmd */
    char **env;                /* "NAME=VALUE" from --env, later ones replacing earlier */
    char *workspace;           /* --workspace, made absolute (realpath) */
    bool json;                 /* --json: the RESULT document as the last line of stdout */
    bool quiet;                /* --quiet: none of labstack's own notes on stderr */
    bool help;
};

/* Parse `run [OPTIONS] -- CMD [ARGS...]` (argv[0] is "run").  0 or a negative errno
 * with err naming the flag.  cmd->help is set for --help.  Resolves --workspace. */
int run_cmd_parse(int argc, char **argv, struct run_cmd *cmd, struct ls_error *err);

/* Free what parse allocated. */
void run_cmd_done(struct run_cmd *cmd);

/* The exit status for a result, as `labstack sandbox run` and `docker run` have it:
 * the command's exit code; 128+N when signal N ended it (limits kill with SIGKILL:
 * 137); 126/127 when it could not be executed / was not found; 125 when the sandbox
 * could not be set up. */
int run_cmd_exit_status(const struct ls_result *res);

/* Parse a duration: "30", "2.5", "30s", "500ms", "5m", "1h" -> milliseconds.  0 or
 * -EINVAL / -ERANGE. */
int run_cmd_parse_duration(const char *s, uint64_t *ret_ms);

/* The whole subcommand; argv[0] is "run".  Returns the exit status. */
int run_cmd_main(int argc, char **argv);
