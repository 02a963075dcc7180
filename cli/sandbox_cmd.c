/*
 * sandbox_cmd.c - `labstack sandbox run [OPTIONS] -- CMD [ARGS...]`.
 *
 * The direct, root-only way to run one command in a sandbox, without a supervisor:
 * flags become a struct ls_sandbox_spec, output is passed through as it arrives,
 * the result can be written as JSON (atomically), and the exit status follows
 * `docker run`.  This is a boundary, so it prints (once) what went wrong.
 */
#include "sandbox_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "labstack/fileio.h"
#include "labstack/macros.h"
#include "labstack/parse.h"

static const char usage_text[] =
    "Usage: labstack sandbox run [OPTIONS] -- CMD [ARGS...]\n"
    "\n"
    "Run CMD in a new sandbox (root only): new user, pid, mount, network, uts, ipc and\n"
    "cgroup namespaces; uid 0 inside mapped to an unprivileged host uid; read-only system\n"
    "binds; only `lo`; no capabilities; no_new_privs; seccomp allow-list.\n"
    "\n"
    "Options:\n"
    "  --workspace DIR        bind DIR read-write at /work; default: empty tmpfs\n"
    "  --cwd DIR              working directory inside the sandbox (absolute; default /work)\n"
    "  --ro-bind SRC[:DST]    bind host path SRC read-only at DST (default DST = SRC);\n"
    "                         repeatable, added to the default system binds\n"
    "  --env K=V              set an environment variable (repeatable); the environment\n"
    "                         is otherwise PATH, HOME=/tmp, LANG=C.UTF-8 -- never yours\n"
    "  --timeout SECONDS      wall-clock limit (e.g. 30, 2.5); the whole sandbox is killed\n"
    "  --stdout-limit BYTES   cap on stdout (e.g. 1M; default 16M); beyond it the sandbox\n"
    "                         is killed with reason output_limit\n"
    "  --stderr-limit BYTES   the same for stderr\n"
    "  --memory SIZE          memory limit of the whole sandbox, swap 0 (default 1G)\n"
    "  --cpus N               CPU bandwidth, e.g. 0.5 or 2 (default: no quota)\n"
    "  --pids N               processes + threads in the sandbox (default 512)\n"
    "  --cpu-time SECONDS     CPU time of the whole sandbox (default: none); reason cpu_limit\n"
    "  --tmp-size SIZE        size of the /tmp tmpfs (default 64M; counts as memory)\n"
    "  --tmp-inodes N         inodes of the /tmp tmpfs (default 16384)\n"
    "  --file-size SIZE       largest file a process may write (RLIMIT_FSIZE, default 1G)\n"
    "  --uid N                uid (and gid) inside the sandbox (default 0)\n"
    "  --policy NAME|FILE     take limits, binds, environment, uid and seccomp from a policy\n"
    "                         (NAME: <policy dir>/NAME.json); the limit flags then only\n"
    "                         request values up to the policy's maxima; --ro-bind and --uid\n"
    "                         are refused, --env only for names the policy allows\n"
    "  --policy-dir DIR       where policy NAMEs live (default $LABSTACK_POLICY_DIR or\n"
    "                         /etc/labstack/policies)\n"
    "  --hostname NAME        hostname inside (default \"sandbox\")\n"
    "  --stdin FILE           read stdin from FILE (default /dev/null; a tty is refused)\n"
    "  --result-json FILE     write the result as JSON to FILE (atomically)\n"
    "  --quiet                do not print labstack's own messages\n"
    "  --help                 show this help\n"
    "\n"
    "Exit status: the command's; 128+N when it was killed by signal N (timeout,\n"
    "output_limit and the cgroup CPU-time check kill with SIGKILL: 137); 125 when the sandbox could not be set up;\n"
    "126 when CMD is not executable; 127 when CMD is not found.\n";

enum {
    OPT_WORKSPACE = 0x100,
    OPT_RO_BIND,
    OPT_ENV,
    OPT_TIMEOUT,
    OPT_STDOUT_LIMIT,
    OPT_STDERR_LIMIT,
    OPT_UID,
    OPT_MEMORY,
    OPT_CPUS,
    OPT_PIDS,
    OPT_CPU_TIME,
    OPT_TMP_SIZE,
    OPT_TMP_INODES,
    OPT_FILE_SIZE,
    OPT_HOSTNAME,
    OPT_STDIN,
    OPT_RESULT_JSON,
    OPT_QUIET,
    OPT_POLICY,
    OPT_POLICY_DIR,
    OPT_CWD,
    OPT_HELP,
};

static const struct option options[] = {
    {"workspace", required_argument, NULL, OPT_WORKSPACE},
    {"ro-bind", required_argument, NULL, OPT_RO_BIND},
    {"env", required_argument, NULL, OPT_ENV},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"stdout-limit", required_argument, NULL, OPT_STDOUT_LIMIT},
    {"stderr-limit", required_argument, NULL, OPT_STDERR_LIMIT},
    {"uid", required_argument, NULL, OPT_UID},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"pids", required_argument, NULL, OPT_PIDS},
    {"cpu-time", required_argument, NULL, OPT_CPU_TIME},
    {"tmp-size", required_argument, NULL, OPT_TMP_SIZE},
    {"tmp-inodes", required_argument, NULL, OPT_TMP_INODES},
    {"file-size", required_argument, NULL, OPT_FILE_SIZE},
    {"hostname", required_argument, NULL, OPT_HOSTNAME},
    {"stdin", required_argument, NULL, OPT_STDIN},
    {"result-json", required_argument, NULL, OPT_RESULT_JSON},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"policy", required_argument, NULL, OPT_POLICY},
    {"policy-dir", required_argument, NULL, OPT_POLICY_DIR},
    {"cwd", required_argument, NULL, OPT_CWD},
    {"help", no_argument, NULL, OPT_HELP},
    {0},
};

static int add_bind(struct sandbox_cmd *cmd, char *arg, struct ls_error *err) {
    char *colon = strchr(arg, ':');
    struct ls_bind *nb = reallocarray(cmd->binds, cmd->spec.n_binds + 1, sizeof(*nb));
    if (!nb)
        return ls_error_set(err, ENOMEM, "flags", "--ro-bind");
    cmd->binds = nb;
    if (colon)
        *colon = '\0';
    if (arg[0] != '/' || (colon && colon[1] != '/'))
        return ls_error_set(err, EINVAL, "flags", "--ro-bind %s%s%s: SRC and DST must be absolute paths",
                            arg, colon ? ":" : "", colon ? colon + 1 : "");
    nb[cmd->spec.n_binds++] = (struct ls_bind){.src = arg, .dst = colon ? colon + 1 : NULL};
    return 0;
}

static int add_env(struct sandbox_cmd *cmd, size_t *n, const char *kv, struct ls_error *err) {
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return ls_error_set(err, EINVAL, "flags", "--env %s: expected NAME=VALUE", kv);
    size_t klen = (size_t)(eq - kv) + 1;
    /* A later --env NAME=... replaces an earlier one (and a default). */
    for (size_t i = 0; i < *n; i++)
        if (strncmp(cmd->env[i], kv, klen) == 0) {
            cmd->env[i] = (char *)kv;
            return 0;
        }
    char **ne = reallocarray(cmd->env, *n + 2, sizeof(char *));
    if (!ne)
        return ls_error_set(err, ENOMEM, "flags", "--env");
    cmd->env = ne;
    ne[(*n)++] = (char *)kv;
    ne[*n] = NULL;
    return 0;
}

int sandbox_cmd_parse(int argc, char **argv, struct sandbox_cmd *cmd, struct ls_error *err) {
    size_t n_default, n_env = 0;
    const struct ls_bind *defaults = ls_sandbox_default_binds(&n_default);
    uint64_t v;
    int c, r;

    *cmd = (struct sandbox_cmd){0};
    ls_sandbox_spec_init(&cmd->spec);
    cmd->binds = calloc(n_default, sizeof(*cmd->binds));
    if (!cmd->binds)
        return ls_error_set(err, ENOMEM, "flags", "binds");
    memcpy(cmd->binds, defaults, n_default * sizeof(*defaults));
    cmd->spec.n_binds = n_default;
    static const char *const default_env[] = {
        "PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin", "HOME=/tmp",
        "LANG=C.UTF-8"};
    for (size_t i = 0; i < ELEMENTSOF(default_env); i++)
        if ((r = add_env(cmd, &n_env, default_env[i], err)) < 0)
            return r;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", options, NULL)) != -1) {
        const char *flag = argv[optind - 1];
        switch (c) {
        case OPT_WORKSPACE:
            cmd->spec.workspace = optarg;
            if (optarg[0] != '/')
                return ls_error_set(err, EINVAL, "flags", "--workspace %s: must be an absolute path",
                                    optarg);
            break;
        case OPT_CWD:
            if (optarg[0] != '/')
                return ls_error_set(err, EINVAL, "flags", "--cwd %s: must be an absolute path",
                                    optarg);
            cmd->spec.cwd = optarg;
            break;
        case OPT_RO_BIND:
            if ((r = add_bind(cmd, optarg, err)) < 0)
                return r;
            cmd->ro_bind_given = true;
            break;
        case OPT_ENV: {
            if ((r = add_env(cmd, &n_env, optarg, err)) < 0)
                return r;
            const char **ue = reallocarray(cmd->user_env, cmd->n_user_env + 1, sizeof(char *));
            if (!ue)
                return ls_error_set(err, ENOMEM, "flags", "--env");
            cmd->user_env = ue;
            ue[cmd->n_user_env++] = optarg;
            break;
        }
        case OPT_POLICY:
            cmd->policy = optarg;
            break;
        case OPT_POLICY_DIR:
            cmd->policy_dir = optarg;
            break;
        case OPT_TIMEOUT:
            if (ls_parse_seconds_ms(optarg, &cmd->spec.timeout_ms) < 0 || cmd->spec.timeout_ms == 0)
                return ls_error_set(err, EINVAL, "flags",
                                    "--timeout %s: expected seconds > 0 such as 30 or 2.5", optarg);
            break;
        case OPT_STDOUT_LIMIT:
        case OPT_STDERR_LIMIT:
            if (ls_parse_size(optarg, &v) < 0 || v == 0)
                return ls_error_set(err, EINVAL, "flags", "%s %s: expected a size > 0 such as 1M",
                                    c == OPT_STDOUT_LIMIT ? "--stdout-limit" : "--stderr-limit",
                                    optarg);
            if (c == OPT_STDOUT_LIMIT)
                cmd->spec.stdout_limit = v;
            else
                cmd->spec.stderr_limit = v;
            /* One output limit per policy: the request is the larger of the two flags. */
            cmd->req.output = v > cmd->req.output ? v : cmd->req.output;
            break;
        case OPT_UID:
            if (ls_parse_uint(optarg, 65533, &v) < 0)
                return ls_error_set(err, EINVAL, "flags", "--uid %s: expected 0..65533", optarg);
            cmd->spec.uid = (uid_t)v;
            cmd->uid_given = true;
            cmd->spec.gid = (gid_t)v;
            break;
        case OPT_MEMORY:
            if (ls_parse_size(optarg, &v) < 0 || v < (4u << 20))
                return ls_error_set(err, EINVAL, "flags", "--memory %s: expected a size >= 4M such as 256M",
                                    optarg);
            cmd->spec.memory_max = cmd->req.memory = v;
            break;
        case OPT_CPUS:
            /* Thousandths of a CPU, parsed like seconds: "0.5" -> 500. */
            if (ls_parse_seconds_ms(optarg, &v) < 0 || v < 10 || v > 1024 * 1000)
                return ls_error_set(err, EINVAL, "flags", "--cpus %s: expected 0.01 to 1024 such as 0.5",
                                    optarg);
            cmd->spec.cpu_millis = (uint32_t)v;
            cmd->req.cpus = v;
            break;
        case OPT_PIDS:
            if (ls_parse_uint(optarg, 4194304, &v) < 0 || v < 2)
                return ls_error_set(err, EINVAL, "flags", "--pids %s: expected 2 to 4194304", optarg);
            cmd->spec.pids_max = cmd->req.pids = v;
            break;
        case OPT_CPU_TIME:
            if (ls_parse_seconds_ms(optarg, &cmd->spec.cpu_time_ms) < 0 || cmd->spec.cpu_time_ms == 0)
                return ls_error_set(err, EINVAL, "flags", "--cpu-time %s: expected seconds > 0 such as 10",
                                    optarg);
            break;
        case OPT_TMP_SIZE:
            if (ls_parse_size(optarg, &v) < 0 || v == 0)
                return ls_error_set(err, EINVAL, "flags", "--tmp-size %s: expected a size > 0 such as 64M",
                                    optarg);
            cmd->spec.tmp_size = cmd->req.tmp_size = v;
            break;
        case OPT_TMP_INODES:
            if (ls_parse_uint(optarg, UINT32_MAX, &v) < 0 || v == 0)
                return ls_error_set(err, EINVAL, "flags", "--tmp-inodes %s: expected a count > 0",
                                    optarg);
            cmd->spec.tmp_inodes = v;
            cmd->tmp_inodes_given = true;
            break;
        case OPT_FILE_SIZE:
            if (ls_parse_size(optarg, &v) < 0 || v == 0)
                return ls_error_set(err, EINVAL, "flags", "--file-size %s: expected a size > 0 such as 16M",
                                    optarg);
            cmd->spec.rlimits.fsize = cmd->req.file_size = v;
            break;
        case OPT_HOSTNAME:
            if (strlen(optarg) == 0 || strlen(optarg) > 64)
                return ls_error_set(err, EINVAL, "flags", "--hostname: 1 to 64 characters");
            cmd->spec.hostname = optarg;
            break;
        case OPT_STDIN:
            cmd->stdin_path = optarg;
            break;
        case OPT_RESULT_JSON:
            cmd->result_json = optarg;
            break;
        case OPT_QUIET:
            cmd->quiet = true;
            break;
        case OPT_HELP:
            cmd->help = true;
            return 0;
        case ':':
            return ls_error_set(err, EINVAL, "flags", "%s needs an argument", flag);
        default:
            return ls_error_set(err, EINVAL, "flags", "unknown option %s", flag);
        }
    }
    if (optind < argc && strcmp(argv[optind - 1], "--") != 0 && argv[optind][0] == '-')
        return ls_error_set(err, EINVAL, "flags", "unknown option %s", argv[optind]);
    if (optind >= argc)
        return ls_error_set(err, EINVAL, "flags", "no command given (use -- CMD [ARGS...])");
    cmd->req.wall_time = cmd->spec.timeout_ms;
    cmd->req.cpu_time = cmd->spec.cpu_time_ms;
    if (cmd->policy && (cmd->ro_bind_given || cmd->uid_given))
        return ls_error_set(err, EPERM, "flags",
                            "--ro-bind and --uid cannot be combined with --policy: the policy decides "
                            "what is bound and who runs");
    cmd->spec.argv = (const char *const *)argv + optind;
    cmd->spec.envp = (const char *const *)cmd->env;
    cmd->spec.binds = cmd->binds;
    return 0;
}

void sandbox_cmd_done(struct sandbox_cmd *cmd) {
    free(cmd->binds);
    free(cmd->env);
    free(cmd->user_env);
    cmd->binds = NULL;
    cmd->env = NULL;
    cmd->user_env = NULL;
}

/* --policy NAME|FILE -> a path: FILE when it has a '/' or ends in .json, else
 * <dir>/NAME.json.  Caller frees. */
static char *policy_path(const struct sandbox_cmd *cmd) {
    const char *p = cmd->policy, *dir = cmd->policy_dir;
    size_t len = strlen(p);
    char *path = NULL;
    if (strchr(p, '/') || (len > 5 && strcmp(p + len - 5, ".json") == 0))
        return strdup(p);
    if (!dir)
        dir = getenv("LABSTACK_POLICY_DIR");
    if (!dir || !*dir)
        dir = "/etc/labstack/policies";
    if (asprintf(&path, "%s/%s.json", dir, p) < 0)
        return NULL;
    return path;
}

/* Load the policy and turn the flags into a request against it.  On success the
 * spec's limits, binds, env, uid and seccomp program come from the policy;
 * *ret_policy, *ret_binds and *ret_env are the caller's to free after the run. */
static int apply_policy(struct sandbox_cmd *cmd, struct ls_policy **ret_policy, void **ret_binds,
                        char ***ret_env, struct ls_error *err) {
    _cleanup_free_ char *path = policy_path(cmd);
    struct ls_diags diags = {0};
    struct ls_policy *p = NULL;
    int r;

    if (!path)
        return ls_error_set(err, ENOMEM, "policy", "policy path");
    r = ls_policy_load(path, NULL, &p, &diags);
    if (r < 0) {
        /* Every problem goes to stderr; the error names the file. */
        for (size_t i = 0; i < diags.n; i++) {
            _cleanup_free_ char *line = ls_diag_format(&diags.v[i]);
            if (line)
                fprintf(stderr, "%s\n", line);
        }
        ls_diags_free(&diags);
        return ls_error_set(err, -r, "policy", "policy %s", path);
    }
    ls_diags_free(&diags);
    cmd->req.env = cmd->user_env;
    cmd->req.n_env = cmd->n_user_env;
    cmd->req.has_workspace = cmd->spec.workspace != NULL;
    /* The limits come from the policy from here on; only what the flags asked for is
     * passed, as a request. */
    struct ls_sandbox_spec fresh;
    ls_sandbox_spec_init(&fresh);
    fresh.argv = cmd->spec.argv;
    fresh.workspace = cmd->spec.workspace;
    fresh.hostname = cmd->spec.hostname;
    fresh.stdin_fd = cmd->spec.stdin_fd;
    fresh.cwd = cmd->spec.cwd;
    if (cmd->tmp_inodes_given)
        fresh.tmp_inodes = cmd->spec.tmp_inodes;
    r = ls_policy_apply(p, &cmd->req, &fresh, ret_binds, ret_env, err);
    if (r < 0) {
        ls_policy_free(p);
        return r;
    }
    cmd->spec = fresh;
    *ret_policy = p;
    return 0;
}

int sandbox_cmd_exit_status(const struct ls_result *res) {
    return ls_result_exit_status(res);
}


static int pass_through(void *userdata, int stream, const char *buf, size_t len) {
    (void)userdata;
    /* If our own stdout is gone nobody reads the output: cancel the run. */
    return ls_write_all(stream == 1 ? STDOUT_FILENO : STDERR_FILENO, buf, len) < 0 ? -1 : 0;
}


static int open_stdin(const char *path, struct ls_error *err) {
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return ls_error_set(err, errno, "flags", "--stdin %s", path);
    if (isatty(fd) || fstat(fd, &st) < 0 || S_ISCHR(st.st_mode) || S_ISDIR(st.st_mode)) {
        close(fd);
        return ls_error_set(err, EINVAL, "flags",
                            "--stdin %s: must be a regular file or a pipe (a tty or device would "
                            "hand the sandbox a host terminal)", path);
    }
    return fd;
}

static int run(int argc, char **argv) {
    struct sandbox_cmd cmd;
    struct ls_error err = {0};
    struct ls_result res = {0};
    struct ls_sandbox_host *host = NULL;
    int r, status;

    r = sandbox_cmd_parse(argc, argv, &cmd, &err);
    if (r < 0) {
        fprintf(stderr, "labstack sandbox run: %s\n", err.msg);
        sandbox_cmd_done(&cmd);
        return 125;
    }
    if (cmd.help) {
        fputs(usage_text, stdout);
        sandbox_cmd_done(&cmd);
        return 0;
    }
    if (cmd.stdin_path) {
        cmd.spec.stdin_fd = open_stdin(cmd.stdin_path, &err);
        if (cmd.spec.stdin_fd < 0) {
            fprintf(stderr, "labstack sandbox run: %s\n", err.msg);
            sandbox_cmd_done(&cmd);
            return 125;
        }
    }
    struct ls_policy *policy = NULL;
    void *policy_binds = NULL;
    char **policy_env = NULL;
    if (cmd.policy) {
        r = apply_policy(&cmd, &policy, &policy_binds, &policy_env, &err);
        if (r < 0) {
            fprintf(stderr, "labstack sandbox run: %s\n", err.msg);
            if (cmd.spec.stdin_fd >= 0)
                close(cmd.spec.stdin_fd);
            sandbox_cmd_done(&cmd);
            return 125;
        }
    }
    cmd.spec.on_output = pass_through;
    signal(SIGPIPE, SIG_IGN);

    r = ls_sandbox_host_open(NULL, &host, &err);
    if (r >= 0)
        r = ls_sandbox_run(host, &cmd.spec, &res, &err);
    host = ls_sandbox_host_free(host);
    free(policy_binds);
    free(policy_env);
    ls_policy_free(policy);
    ls_policy_cache_clear();
    if (r < 0) {
        fprintf(stderr, "labstack sandbox run: %s\n", err.msg);
        sandbox_cmd_done(&cmd);
        return 125;
    }
    status = sandbox_cmd_exit_status(&res);
    if (!cmd.quiet) {
        if (res.reason == LS_REASON_SETUP_FAILED)
            fprintf(stderr, "labstack: sandbox setup failed at step \"%s\": %s\n", res.error.step,
                    res.error.msg);
        else if (res.reason != LS_REASON_EXITED && res.reason != LS_REASON_SIGNALED)
            fprintf(stderr, "labstack: %s after %llu ms\n", ls_reason_name(res.reason),
                    (unsigned long long)res.wall_ms);
    }
    if (cmd.result_json) {
        _cleanup_free_ char *json = ls_result_to_json(&res);
        _cleanup_free_ char *doc = NULL;
        r = json && asprintf(&doc, "%s\n", json) >= 0
                ? ls_write_file_atomic(cmd.result_json, doc, strlen(doc), 0644)
                : -ENOMEM;
        if (r < 0) {
            fprintf(stderr, "labstack sandbox run: write %s: %s\n", cmd.result_json, strerror(-r));
            status = 125;
        }
    }
    if (cmd.spec.stdin_fd >= 0)
        close(cmd.spec.stdin_fd);
    sandbox_cmd_done(&cmd);
    return status;
}

int sandbox_cmd_main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "run") != 0) {
        fprintf(stderr, "labstack sandbox: unknown subcommand \"%s\" (try `labstack sandbox run --help`)\n",
                argv[1]);
        return 2;
    }
    return run(argc - 1, argv + 1);
}
