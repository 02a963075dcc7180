/*
 * sandbox_cmd.h - `labstack sandbox run`: flags -> sandbox spec -> run -> exit status.
 */
#pragma once

#include <stdbool.h>

#include "labstack/policy.h"
#include "labstack/sandbox.h"

struct sandbox_cmd {
    struct ls_sandbox_spec spec;
    struct ls_bind *binds;       /* default binds + --ro-bind ones */
    char **env;                  /* default PATH/HOME/LANG + --env, NULL-terminated */
    const char **user_env;       /* only the --env entries (a request under --policy) */
    size_t n_user_env;
    struct ls_policy_request req; /* the limit flags given, as a policy request */
    bool ro_bind_given, uid_given, tmp_inodes_given;
    const char *policy;          /* --policy NAME|FILE */
    const char *policy_dir;      /* --policy-dir, $LABSTACK_POLICY_DIR, /etc/labstack/policies */
    const char *result_json;
    const char *stdin_path;
    bool quiet;
    bool help;
};

/* Parse `run [OPTIONS] -- CMD [ARGS...]` (argv[0] is "run").  Returns 0 or -EINVAL
 * with err naming the flag.  cmd->help is set for --help. */
int sandbox_cmd_parse(int argc, char **argv, struct sandbox_cmd *cmd, struct ls_error *err);

/* Free what parse allocated. */
void sandbox_cmd_done(struct sandbox_cmd *cmd);

/* The exit status `labstack sandbox run` returns for a result, like `docker run`:
 * the command's exit code, 128+signal, 125 setup failure, 126/127 exec failures. */
int sandbox_cmd_exit_status(const struct ls_result *res);

/* The whole subcommand: `labstack sandbox ARGS...` (argv[0] is the program). */
int sandbox_cmd_main(int argc, char **argv);
