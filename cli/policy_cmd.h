/*
 * policy_cmd.h - `labstack policy ...`: check, explain, test, diff, sign and verify
 * policy files, locally and without privilege.
 */
#pragma once

/* The whole subcommand: `labstack policy COMMAND ARGS...` with argv[0] = "policy".
 * Returns the exit status: 0 success (check: every file valid; verify: signature
 * valid), 1 a policy is invalid or a signature does not verify, 2 usage error. */
int policy_cmd_main(int argc, char **argv);
