/*
 * run_cmd.c - `labstack run [OPTIONS] -- CMD [ARGS...]`: run CMD in a sandbox of the
 * supervisor, as an unprivileged user.
 *
 * Flags become a RUN request (include/labstack/protocol.h); the client library sends
 * it and streams the command's stdout and stderr to ours as they arrive (and, with
 * --stdin, our stdin to the command).  The exit status follows `docker run`: the
 * command's own, 128+N for a signal, 125 when labstack or the supervisor could not run
 * it.  SIGINT, SIGTERM and SIGHUP cancel the run once and keep waiting for its result.
 * This is a boundary, so it prints (once) what went wrong.
 */
#include "run_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client_opts.h"
#include "labstack/error.h"
#include "labstack/fileio.h"
#include "labstack/macros.h"
#include "labstack/parse.h"

static const char usage_text[] =
    "Usage: labstack run [OPTIONS] -- CMD [ARGS...]\n"
    "\n"
    "Run CMD in a sandbox of labstack-supervisor.  Its stdout and stderr stream to ours as\n"
    "they are written; the policy (and who you are) decides what it may do.\n"
    "\n"
    "Options:\n" CLIENT_OPTS_HELP
    "  --policy NAME          the policy to run under (default: the supervisor's default)\n"
    "  --workspace DIR        bind DIR (made absolute here) read-write at /work, if the\n"
    "                         policy allows a workspace; local clients only\n"
    "  --cwd DIR              working directory inside the sandbox (absolute; default /work)\n"
    "  --env NAME=VALUE       set a variable (repeatable; the policy says which names)\n"
    "  --stdin                stream our stdin to the command (default: /dev/null)\n"
    "  --memory SIZE          ask for a lower memory limit, e.g. 256M\n"
    "  --cpus N               CPU bandwidth, e.g. 0.5 or 2\n"
    "  --pids N               processes + threads\n"
    "  --timeout DUR          wall-clock limit: 30, 2.5, 30s, 500ms, 5m, 1h\n"
    "  --cpu-time DUR         CPU time of the whole sandbox\n"
    "  --stdout-limit SIZE    cap on each of stdout and stderr, e.g. 1M\n"
    "  --tmp-size SIZE        size of /tmp\n"
    "  --file-size SIZE       largest file a process may write\n"
    "  --open-files N         open files per process\n"
    "                         (limits may only tighten the policy's; a request above its\n"
    "                         maximum is refused)\n"
    "  --task-id ID           free text for the audit log (printable ASCII, <= 128)\n"
    "  --label L              ditto\n"
    "  --json                 print the RESULT document as the last line of stdout (or\n"
    "                         {\"error\": {...}} when the supervisor refused the run)\n"
    "  --quiet                do not print labstack's own notes (queue position, reason)\n"
    "  --help                 show this help\n"
    "\n"
    "SIGINT, SIGTERM and SIGHUP cancel the run and wait for its result; a third signal\n"
    "exits at once without waiting.\n"
    "\n"
    "Exit status (like `docker run`): the command's; 128+N when it was killed by signal N\n"
    "(a limit -- timeout, output_limit, cpu_limit, oom -- or a cancel kills with SIGKILL:\n"
    "137; the reason is printed on stderr and is in --json); 126 when CMD could not be\n"
    "executed; 127 when CMD was not found; 125 when labstack or the supervisor could not\n"
    "run it: a refusal (\"labstack: forbidden: ...\"), no supervisor, a setup failure, a\n"
    "bad flag.\n";

enum {
    OPT_POLICY = 0x100,
    OPT_WORKSPACE,
    OPT_CWD,
    OPT_ENV,
    OPT_STDIN,
    OPT_MEMORY,
    OPT_CPUS,
    OPT_PIDS,
    OPT_TIMEOUT,
    OPT_CPU_TIME,
    OPT_STDOUT_LIMIT,
    OPT_TMP_SIZE,
    OPT_FILE_SIZE,
    OPT_OPEN_FILES,
    OPT_TASK_ID,
    OPT_LABEL,
    OPT_JSON,
    OPT_QUIET,
    OPT_HELP,
};

static const struct option options[] = {
    CLIENT_LONG_OPTIONS,
    {"policy", required_argument, NULL, OPT_POLICY},
    {"workspace", required_argument, NULL, OPT_WORKSPACE},
    {"cwd", required_argument, NULL, OPT_CWD},
    {"env", required_argument, NULL, OPT_ENV},
    {"stdin", no_argument, NULL, OPT_STDIN},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"pids", required_argument, NULL, OPT_PIDS},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"cpu-time", required_argument, NULL, OPT_CPU_TIME},
    {"stdout-limit", required_argument, NULL, OPT_STDOUT_LIMIT},
    {"tmp-size", required_argument, NULL, OPT_TMP_SIZE},
    {"file-size", required_argument, NULL, OPT_FILE_SIZE},
    {"open-files", required_argument, NULL, OPT_OPEN_FILES},
    {"task-id", required_argument, NULL, OPT_TASK_ID},
    {"label", required_argument, NULL, OPT_LABEL},
    {"json", no_argument, NULL, OPT_JSON},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, OPT_HELP},
    {0},
};

int run_cmd_parse_duration(const char *s, uint64_t *ret_ms) {
    size_t n = s ? strlen(s) : 0;
    uint64_t v, mult = 1;
    char num[64];
    int r;

    if (n == 0 || n >= sizeof(num))
        return -EINVAL;
    memcpy(num, s, n + 1);
    if (n > 2 && strcmp(num + n - 2, "ms") == 0) {
        num[n - 2] = '\0';
        /* Whole milliseconds only. */
        if ((r = ls_parse_uint(num, UINT64_MAX, &v)) < 0)
            return r;
        *ret_ms = v;
        return 0;
    }
    switch (num[n - 1]) {
    case 's':
        num[n - 1] = '\0';
        break;
    case 'm':
        num[n - 1] = '\0';
        mult = 60;
        break;
    case 'h':
        num[n - 1] = '\0';
        mult = 3600;
        break;
    default:
        break;
    }
    if ((r = ls_parse_seconds_ms(num, &v)) < 0)
        return r;
    if (v > UINT64_MAX / mult)
        return -ERANGE;
    *ret_ms = v * mult;
    return 0;
}

static bool env_name_ok(const char *s, size_t n) {
    if (n == 0 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static int add_env(struct run_cmd *cmd, char *kv, struct ls_error *err) {
    const char *eq = strchr(kv, '=');
    if (!eq || !env_name_ok(kv, (size_t)(eq - kv)))
        return ls_error_set(err, 0, "flags",
                            "--env %s: expected NAME=VALUE with NAME like [A-Za-z_][A-Za-z0-9_]*",
                            kv);
    size_t klen = (size_t)(eq - kv) + 1;
    /* A later --env NAME=... replaces an earlier one: the request has one value per name. */
    for (size_t i = 0; i < cmd->req.n_env; i++)
        if (strncmp(cmd->env[i], kv, klen) == 0) {
            cmd->env[i] = kv;
            return 0;
        }
    char **ne = reallocarray(cmd->env, cmd->req.n_env + 2, sizeof(char *));
    if (!ne)
        return ls_error_set(err, ENOMEM, "flags", "--env");
    cmd->env = ne;
    ne[cmd->req.n_env++] = kv;
    ne[cmd->req.n_env] = NULL;
    cmd->req.env = ne;
    return 0;
}

static int parse_size_flag(const char *flag, const char *arg, uint64_t min, const char *example,
                           uint64_t *ret, struct ls_error *err) {
    uint64_t v;
    if (ls_parse_size(arg, &v) < 0 || v < min)
        return ls_error_set(err, 0, "flags", "%s %s: expected a size such as %s", flag, arg,
                            example);
    *ret = v;
    return 0;
}

static int parse_count_flag(const char *flag, const char *arg, uint64_t min, uint64_t max,
                            uint64_t *ret, struct ls_error *err) {
    uint64_t v;
    if (ls_parse_uint(arg, max, &v) < 0 || v < min)
        return ls_error_set(err, 0, "flags", "%s %s: expected %llu to %llu", flag, arg,
                            (unsigned long long)min, (unsigned long long)max);
    *ret = v;
    return 0;
}

static int parse_duration_flag(const char *flag, const char *arg, uint64_t *ret,
                               struct ls_error *err) {
    uint64_t v;
    if (run_cmd_parse_duration(arg, &v) < 0 || v == 0)
        return ls_error_set(err, 0, "flags",
                            "%s %s: expected a duration > 0 such as 30, 2.5, 30s, 500ms, 5m", flag,
                            arg);
    *ret = v;
    return 0;
}

static int resolve_workspace(struct run_cmd *cmd, const char *arg, struct ls_error *err) {
    struct stat st;
    char *real = realpath(arg, NULL);
    if (!real)
        return ls_error_set(err, errno, "flags", "--workspace %s", arg);
    if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
        free(real);
        return ls_error_set(err, ENOTDIR, "flags", "--workspace %s", arg);
    }
    free(cmd->workspace);
    cmd->workspace = real;
    cmd->req.workspace_path = real;
    return 0;
}

int run_cmd_parse(int argc, char **argv, struct run_cmd *cmd, struct ls_error *err) {
    struct ls_request_limits *l = &cmd->req.limits;
    int c, r;

    *cmd = (struct run_cmd){0};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:", options, NULL)) != -1) {
        const char *flag = argv[optind - 1];
        if (client_opts_set(&cmd->opts, c, optarg))
            continue;
        r = 0;
        switch (c) {
        case OPT_POLICY:
            cmd->req.policy = optarg;
            break;
        case OPT_WORKSPACE:
            r = resolve_workspace(cmd, optarg, err);
            break;
        case OPT_CWD:
            if (optarg[0] != '/')
                return ls_error_set(err, 0, "flags", "--cwd %s: must be an absolute path", optarg);
            cmd->req.cwd = optarg;
            break;
        case OPT_ENV:
            r = add_env(cmd, optarg, err);
            break;
        case OPT_STDIN:
            cmd->req.stdin_mode = LS_STDIN_STREAM;
            break;
        case OPT_MEMORY:
            r = parse_size_flag("--memory", optarg, 4u << 20, "256M (at least 4M)",
                                &l->memory_bytes, err);
            break;
        case OPT_CPUS: {
            uint64_t v;
            /* Thousandths of a CPU, parsed like seconds: "0.5" -> 500. */
            if (ls_parse_seconds_ms(optarg, &v) < 0 || v < 10 || v > 1024 * 1000)
                return ls_error_set(err, 0, "flags", "--cpus %s: expected 0.01 to 1024 such as 0.5",
                                    optarg);
            l->cpu_millis = v;
            break;
        }
        case OPT_PIDS:
            r = parse_count_flag("--pids", optarg, 2, 4194304, &l->pids, err);
            break;
        case OPT_TIMEOUT:
            r = parse_duration_flag("--timeout", optarg, &l->wall_time_ms, err);
            break;
        case OPT_CPU_TIME:
            r = parse_duration_flag("--cpu-time", optarg, &l->cpu_time_ms, err);
            break;
        case OPT_STDOUT_LIMIT:
            r = parse_size_flag("--stdout-limit", optarg, 1, "1M", &l->output_bytes, err);
            break;
        case OPT_TMP_SIZE:
            r = parse_size_flag("--tmp-size", optarg, 1, "64M", &l->tmp_bytes, err);
            break;
        case OPT_FILE_SIZE:
            r = parse_size_flag("--file-size", optarg, 1, "16M", &l->file_size_bytes, err);
            break;
        case OPT_OPEN_FILES:
            r = parse_count_flag("--open-files", optarg, 1, 1u << 20, &l->open_files, err);
            break;
        case OPT_TASK_ID:
            cmd->req.task_id = optarg;
            break;
        case OPT_LABEL:
            cmd->req.label = optarg;
            break;
        case OPT_JSON:
            cmd->json = true;
            break;
        case OPT_QUIET:
            cmd->quiet = true;
            break;
        case OPT_HELP:
            cmd->help = true;
            return 0;
        case ':':
            return ls_error_set(err, 0, "flags", "%s needs an argument", flag);
        default:
            return ls_error_set(err, 0, "flags", "unknown option %s", flag);
        }
        if (r < 0)
            return r;
    }
    if (optind < argc && strcmp(argv[optind - 1], "--") != 0 && argv[optind][0] == '-')
        return ls_error_set(err, 0, "flags", "unknown option %s", argv[optind]);
    if (optind >= argc)
        return ls_error_set(err, 0, "flags", "no command given (use -- CMD [ARGS...])");
    if ((r = client_opts_check(&cmd->opts, err)) < 0)
        return r;
    cmd->req.argv = argv + optind;
    cmd->req.argc = (size_t)(argc - optind);
    return 0;
}

void run_cmd_done(struct run_cmd *cmd) {
    free(cmd->env);
    free(cmd->workspace);
    cmd->env = NULL;
    cmd->workspace = NULL;
}

int run_cmd_exit_status(const struct ls_result *res) {
    return ls_result_exit_status(res);
}

/* ---- running ---------------------------------------------------------------------- */

static struct ls_client *signal_client;
static volatile sig_atomic_t signals_seen;
static volatile sig_atomic_t signal_quiet;

static void on_signal(int sig) {
    int saved = errno;
    signals_seen++;
    if (signals_seen == 1) {
        if (!signal_quiet) {
            static const char msg[] =
                "labstack: cancelling the run (a third signal exits at once)\n";
            (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
        }
        ls_client_cancel(signal_client);
    } else if (signals_seen >= 3) {
        static const char msg[] = "labstack: not waiting for the result\n";
        (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
        _exit(128 + sig);
    }
    errno = saved;
}

struct run_state {
    bool quiet;
    bool stdout_at_line_start; /* for --json: does the command's output end in '\n'? */
    bool tty;
};

static void on_queued(void *userdata, uint64_t position) {
    struct run_state *st = userdata;
    if (!st->quiet && st->tty)
        fprintf(stderr, "labstack: queued (position %llu)\n", (unsigned long long)position);
}

static int on_output(void *userdata, int stream, const void *buf, size_t len) {
    struct run_state *st = userdata;
    if (stream == 1 && len)
        st->stdout_at_line_start = ((const char *)buf)[len - 1] == '\n';
    /* If our stdout or stderr is gone nobody reads the output: cancel the run. */
    return ls_write_all(stream == 1 ? STDOUT_FILENO : STDERR_FILENO, buf, len) < 0 ? -1 : 0;
}

/* The last line of stdout for --json. */
static void print_json_line(struct run_state *st, const char *doc) {
    if (!st->stdout_at_line_start)
        fputc('\n', stdout);
    fprintf(stdout, "%s\n", doc);
    fflush(stdout);
}

static void note_result(const struct run_cmd *cmd, const struct ls_run_outcome *out) {
    const struct ls_result *res = &out->result;
    if (cmd->quiet)
        return;
    if (res->reason == LS_REASON_SETUP_FAILED)
        fprintf(stderr, "labstack: sandbox setup failed at step \"%s\": %s\n", res->error.step,
                res->error.msg);
    else if (res->reason != LS_REASON_EXITED && res->reason != LS_REASON_SIGNALED)
        fprintf(stderr, "labstack: %s after %llu ms\n", ls_reason_name(res->reason),
                (unsigned long long)res->wall_ms);
}

static int run(struct run_cmd *cmd) {
    struct run_state st = {
        .quiet = cmd->quiet, .stdout_at_line_start = true, .tty = isatty(STDERR_FILENO) == 1};
    struct ls_run_callbacks cb = {
        .on_queued = on_queued, .on_output = on_output, .userdata = &st, .stdin_fd = -1};
    struct ls_run_outcome out = {0};
    struct ls_error err = {0};
    struct ls_client *c = NULL;
    struct sigaction sa = {.sa_handler = on_signal};
    int r, status;

    if (cmd->req.stdin_mode == LS_STDIN_STREAM)
        cb.stdin_fd = STDIN_FILENO;
    r = ls_client_connect(&cmd->opts, &c, &err);
    if (r < 0) {
        fprintf(stderr, "labstack: %s\n", err.msg);
        return 125;
    }
    /* Installed once there is a connection to cancel on; no SA_RESTART, and the
     * client's poll loop also wakes through its self-pipe. */
    signal_client = c;
    signal_quiet = cmd->quiet;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    r = ls_client_run(c, &cmd->req, &cb, &out, &err);

    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal_client = NULL;
    c = ls_client_free(c);
    if (r < 0) {
        fprintf(stderr, "labstack: %s\n", err.msg);
        return 125;
    }
    if (out.refused) {
        const char *code = ls_proto_code_name(out.error.code);
        if (out.error.code == LS_PROTO_BUSY && out.error.retry_after_ms)
            fprintf(stderr, "labstack: %s: %s (retry after %llu ms)\n", code, out.error.message,
                    (unsigned long long)out.error.retry_after_ms);
        else
            fprintf(stderr, "labstack: %s: %s\n", code, out.error.message);
        if (cmd->json) {
            _cleanup_free_ char *e =
                ls_proto_error_to_json(out.error.code, out.error.message, out.error.retry_after_ms);
            _cleanup_free_ char *doc = NULL;
            if (e && asprintf(&doc, "{\"error\":%s}", e) >= 0)
                print_json_line(&st, doc);
        }
        return 125;
    }
    status = run_cmd_exit_status(&out.result);
    note_result(cmd, &out);
    if (cmd->json)
        print_json_line(&st, out.result_json);
    free(out.result_json);
    return status;
}

int run_cmd_main(int argc, char **argv) {
    struct run_cmd cmd;
    struct ls_error err = {0};
    int r;

    r = run_cmd_parse(argc, argv, &cmd, &err);
    if (r < 0) {
        fprintf(stderr, "labstack run: %s\n", err.msg);
        run_cmd_done(&cmd);
        return 125;
    }
    if (cmd.help) {
        fputs(usage_text, stdout);
        run_cmd_done(&cmd);
        return 0;
    }
    /* A closed stdout must be an error on write, not a silent death. */
    signal(SIGPIPE, SIG_IGN);
    r = run(&cmd);
    run_cmd_done(&cmd);
    return r;
}
