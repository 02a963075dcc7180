/*
 * labstack.c - the `labstack` command: a dispatcher.
 *
 * `labstack` itself is meant to be run by unprivileged users (`run` and `status`
 * talk to the supervisor through the client library; later `audit` too), so it never
 * links the privileged sandbox library.  `labstack sandbox ...`, the direct root-only entry
 * point, is a separate program, `labstack-sandbox`, found next to this one and
 * exec'd with the remaining arguments, the way git runs its subcommands.
 * `labstack policy ...` runs in this process: it links only the pure, unprivileged
 * policy library.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "policy_cmd.h"
#include "run_cmd.h"
#include "status_cmd.h"

static void usage(FILE *f) {
    fputs("Usage: labstack COMMAND [ARGS...]\n"
          "\n"
          "Commands:\n"
          "  run [OPTIONS] -- CMD [ARGS...]           run CMD in a sandbox of labstack-supervisor\n"
          "  status [--json]                          the supervisor's health, sandboxes, queue\n"
          "  sandbox run [OPTIONS] -- CMD [ARGS...]   run CMD in a sandbox directly (root only)\n"
          "  policy check|explain|test|diff|sign|verify ...\n"
          "                                           work with policy files\n"
          "\n"
          "Run `labstack run --help`, `labstack status --help`, `labstack sandbox run --help`\n"
          "and `labstack policy --help` for the options.\n",
          f);
}

int main(int argc, char **argv) {
    char self[PATH_MAX], helper[PATH_MAX + 32];

    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "policy") == 0)
        return policy_cmd_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "run") == 0)
        return run_cmd_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "status") == 0)
        return status_cmd_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "sandbox") != 0) {
        fprintf(stderr, "labstack: unknown command \"%s\"\n", argv[1]);
        usage(stderr);
        return 2;
    }
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n < 0) {
        fprintf(stderr, "labstack: cannot find my own location: %s\n", strerror(errno));
        return 125;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    snprintf(helper, sizeof(helper), "%s/labstack-sandbox", self);
    argv[1] = helper;
    execv(helper, argv + 1);
    fprintf(stderr, "labstack: cannot run %s: %s\n", helper, strerror(errno));
    return 125;
}
