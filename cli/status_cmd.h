/*
 * status_cmd.h - `labstack status`: the supervisor's health, its running sandboxes and
 * its queue, from the STATUS_REPLY document.
 */
#pragma once

#include <stdio.h>

/* Print a STATUS_REPLY document for people: what is present, in a fixed order; fields
 * it does not know are ignored and strings are stripped of control characters.
 * Returns 0 when the supervisor says it is ready (or does not say), 1 when it says it
 * is not, -EINVAL when doc is not a JSON object. */
int status_cmd_print(FILE *f, const char *doc);

/* The whole subcommand; argv[0] is "status".  Exit status: 0 ready, 1 not ready, 125
 * the supervisor could not be asked (the reason on stderr), 2 usage error. */
int status_cmd_main(int argc, char **argv);
