/*
 * process.c - what a sandboxed process inherits: exactly three fds, the spec's
 * environment and nothing of the caller's, rlimits, and an execve that searches the
 * *sandbox's* PATH (execvpe would search the caller's).
 */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "labstack/error.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"

static const char *const default_env[] = {
    ("PATH=" DEFAULT_PATH),
    "HOME=/tmp",
    "LANG=C.UTF-8",
};

static bool env_entry_valid(const char *e) {
    const char *eq = strchr(e, '=');
    return eq && eq != e;
}

char **proc_build_env(const struct ls_sandbox_spec *spec, struct ls_error *err) {
    size_t n = 0;
    char **env;

    if (!spec->envp) {
        env = calloc(sizeof(default_env) / sizeof(default_env[0]) + 1, sizeof(char *));
        if (!env) {
            ls_error_set(err, ENOMEM, "spec", "environment");
            return NULL;
        }
        for (size_t i = 0; i < sizeof(default_env) / sizeof(default_env[0]); i++)
            env[i] = (char *)default_env[i];
        return env;
    }
    while (spec->envp[n])
        n++;
    env = calloc(n + 1, sizeof(char *));
    if (!env) {
        ls_error_set(err, ENOMEM, "spec", "environment");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!env_entry_valid(spec->envp[i])) {
            ls_error_set(err, EINVAL, "spec", "environment entry %zu \"%.64s\" is not NAME=value",
                         i, spec->envp[i]);
            free(env);
            return NULL;
        }
        env[i] = (char *)spec->envp[i];
    }
    return env;
}

int proc_arrange_fds(const int *fds, int n, struct ls_error *err) {
    int moved[8];

    if (n > 8)
        return ls_error_set_safe(err, EINVAL, "fds", "too many fds to keep", NULL);
    /* First lift every fd above the target range so no dup2 clobbers a later source. */
    for (int i = 0; i < n; i++) {
        if (fds[i] < 0) {
            moved[i] = -1;
            continue;
        }
        moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, n + 16);
        if (moved[i] < 0)
            return ls_error_set_safe(err, errno, "fds", "duplicate fd", NULL);
    }
    for (int i = 0; i < n; i++) {
        int src = moved[i];
        if (src < 0) {
            src = open("/dev/null", O_RDWR | O_CLOEXEC);
            if (src < 0)
                return ls_error_set_safe(err, errno, "fds", "open", "/dev/null");
        }
        /* dup2 clears FD_CLOEXEC on the new fd: 0-2 survive execve, the rest are marked
         * close-on-exec again below. */
        if (dup2(src, i) < 0)
            return ls_error_set_safe(err, errno, "fds", "dup2", NULL);
        if (i >= 3 && fcntl(i, F_SETFD, FD_CLOEXEC) < 0)
            return ls_error_set_safe(err, errno, "fds", "set close-on-exec", NULL);
    }
    if (syscall(SYS_close_range, (unsigned)n, ~0U, 0) < 0)
        return ls_error_set_safe(err, errno, "fds", "close_range", NULL);
    return 0;
}

int proc_set_rlimits(const struct ls_rlimits *rl, struct ls_error *err) {
    const struct {
        int resource;
        uint64_t value;
        const char *name;
    } limits[] = {
        {RLIMIT_CORE, 0, "core"},
        {RLIMIT_NOFILE, rl->nofile, "nofile"},
        {RLIMIT_FSIZE, rl->fsize, "fsize"},
        {RLIMIT_NPROC, rl->nproc, "nproc"},
        {RLIMIT_CPU, rl->cpu_s, "cpu"},
        {RLIMIT_STACK, rl->stack, "stack"},
    };
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        if (limits[i].value == 0 && limits[i].resource != RLIMIT_CORE)
            continue; /* not limited by the spec: inherit */
        struct rlimit r = {.rlim_cur = limits[i].value, .rlim_max = limits[i].value};
        /* CPU: SIGXCPU at the soft limit (a typed "cpu_limit"), SIGKILL a second later
         * for a process that catches it. */
        if (limits[i].resource == RLIMIT_CPU)
            r.rlim_max = r.rlim_cur + 1;
        if (setrlimit(limits[i].resource, &r) < 0)
            return ls_error_set_safe(err, errno, "rlimits", "setrlimit", limits[i].name);
    }
    return 0;
}

static const char *env_path(char *const *envp) {
    for (; envp && *envp; envp++)
        if (strncmp(*envp, "PATH=", 5) == 0)
            return *envp + 5;
    return DEFAULT_PATH;
}

int proc_exec(const char *const *argv, char *const *envp, struct ls_error *err) {
    const char *cmd = argv[0];
    char buf[4096];
    int saved = ENOENT;

    if (strchr(cmd, '/')) {
        execve(cmd, (char *const *)argv, envp);
        return ls_error_set_safe(err, errno, "exec", "exec", cmd);
    }
    size_t clen = strlen(cmd);
    for (const char *p = env_path(envp); ; ) {
        const char *colon = strchr(p, ':');
        size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
        if (dlen == 0) {
            buf[0] = '.';
            dlen = 1;
        } else if (dlen < sizeof(buf)) {
            memcpy(buf, p, dlen);
        }
        if (dlen + 1 + clen + 1 <= sizeof(buf)) {
            buf[dlen] = '/';
            memcpy(buf + dlen + 1, cmd, clen + 1);
            execve(buf, (char *const *)argv, envp);
            switch (errno) {
            case ENOENT:
            case ENOTDIR:
            case ESTALE:
            case ENODEV:
            case ETIMEDOUT:
                break; /* try the next directory, like execvp */
            case EACCES:
                saved = EACCES; /* remember, but a later directory may have it */
                break;
            default:
                return ls_error_set_safe(err, errno, "exec", "exec", cmd);
            }
        }
        if (!colon)
            break;
        p = colon + 1;
    }
    return ls_error_set_safe(err, saved, "exec", "exec", cmd);
}
