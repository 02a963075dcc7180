/*
 * harness.c - helpers shared by the integration tests (see harness.h).
 *
 * Nothing here asserts: functions return -errno or a count and the tests decide.
 * Output of the CLI goes to files, not pipes, so that a test can start a run, look
 * at the host while it runs and collect the output afterwards without a reader.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void it_skip_unless_root(const char *test_name) {
    if (geteuid() != 0) {
        printf("%s: skipped: needs root (namespaces, id maps, mounts); CI runs it as root\n",
               test_name);
        exit(77);
    }
}

static const char *program_from_env(const char *var) {
    const char *p = getenv(var);

    if (!p || !*p) {
        fprintf(stderr, "%s is not set: run through meson (meson test --suite integration)\n",
                var);
        exit(1);
    }
    if (access(p, X_OK) < 0) {
        fprintf(stderr, "%s=%s is not executable: %s\n", var, p, strerror(errno));
        exit(1);
    }
    return p;
}

const char *it_labstack(void) {
    return program_from_env("LABSTACK");
}

const char *it_probe(void) {
    return program_from_env("PROBE");
}

char *it_read_file(const char *path, size_t *ret_len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char *buf = NULL;
    size_t len = 0, cap = 0;

    if (fd < 0)
        return NULL;
    for (;;) {
        ssize_t n;
        if (cap - len < 4096) {
            char *nb = realloc(buf, cap ? cap * 2 : 8192);
            if (!nb) {
                free(buf);
                close(fd);
                return NULL;
            }
            buf = nb;
            cap = cap ? cap * 2 : 8192;
        }
        n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(buf);
            close(fd);
            return NULL;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    if (ret_len)
        *ret_len = len;
    return buf;
}

int it_write_file(const char *path, const char *data, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    size_t len = strlen(data);
    int r = 0;

    if (fd < 0)
        return -errno;
    if (write(fd, data, len) != (ssize_t)len)
        r = -EIO;
    if (fchmod(fd, mode) < 0 && r == 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    return r;
}

static int copy_file(const char *src, const char *dst, mode_t mode) {
    int in = open(src, O_RDONLY | O_CLOEXEC);
    int out, r = 0;
    char buf[65536];

    if (in < 0)
        return -errno;
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (out < 0) {
        r = -errno;
        close(in);
        return r;
    }
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = n < 0 ? -errno : 0;
            break;
        }
        if (write(out, buf, (size_t)n) != n) {
            r = -EIO;
            break;
        }
    }
    if (fchmod(out, mode) < 0 && r == 0)
        r = -errno;
    close(in);
    if (close(out) < 0 && r == 0)
        r = -errno;
    return r;
}

int it_box_new(struct it_box *box, bool with_probe) {
    char probe[256];

    memset(box, 0, sizeof(*box));
    snprintf(box->dir, sizeof(box->dir), "/tmp/labstack-it-XXXXXX");
    if (!mkdtemp(box->dir))
        return -errno;
    /* Others may traverse (the sandbox's host uid may need to), not list. */
    if (chmod(box->dir, 0711) < 0)
        return -errno;
    snprintf(box->ws, sizeof(box->ws), "%s/ws", box->dir);
    snprintf(box->json, sizeof(box->json), "%s/r.json", box->dir);
    snprintf(box->out_path, sizeof(box->out_path), "%s/out", box->dir);
    snprintf(box->err_path, sizeof(box->err_path), "%s/err", box->dir);
    if (mkdir(box->ws, 0755) < 0 || chmod(box->ws, 0755) < 0)
        return -errno;
    if (with_probe) {
        snprintf(probe, sizeof(probe), "%s/probe", box->ws);
        return copy_file(it_probe(), probe, 0755);
    }
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    if (flag == FTW_DP)
        return rmdir(path) < 0 ? -1 : 0;
    return unlink(path) < 0 ? -1 : 0;
}

void it_box_free(struct it_box *box) {
    char **mounts;
    size_t dlen = strlen(box->dir);
    bool mounted = false;

    if (!box->dir[0])
        return;
    mounts = it_mount_points();
    for (size_t i = 0; mounts && mounts[i]; i++)
        if (strncmp(mounts[i], box->dir, dlen) == 0 &&
            (mounts[i][dlen] == '/' || mounts[i][dlen] == '\0')) {
            fprintf(stderr, "harness: NOT removing %s: %s is a mount point on the host\n",
                    box->dir, mounts[i]);
            mounted = true;
        }
    it_strv_free(mounts);
    if (!mounted && nftw(box->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
        fprintf(stderr, "harness: removing %s: %s\n", box->dir, strerror(errno));
    box->dir[0] = '\0';
}

static size_t strv_count(const char *const *v) {
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

int it_start(const struct it_box *box, const char *const *opts, const char *const *cmd,
             const char *const *envp, struct it_run *run) {
    static const char *const default_env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
    size_t n = 0, n_opts = strv_count(opts), n_cmd = strv_count(cmd);
    const char **argv = calloc(8 + n_opts + n_cmd + 1, sizeof(*argv));
    pid_t pid;

    memset(run, 0, sizeof(*run));
    run->pid = -1;
    if (!argv)
        return -ENOMEM;
    argv[n++] = it_labstack();
    argv[n++] = "sandbox";
    argv[n++] = "run";
    if (!box->tmpfs_work) {
        argv[n++] = "--workspace";
        argv[n++] = box->ws;
    }
    argv[n++] = "--result-json";
    argv[n++] = box->json;
    for (size_t i = 0; i < n_opts; i++)
        argv[n++] = opts[i];
    argv[n++] = "--";
    for (size_t i = 0; i < n_cmd; i++)
        argv[n++] = cmd[i];
    argv[n] = NULL;

    unlink(box->json);
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        int e = errno;
        free(argv);
        return -e;
    }
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(box->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(box->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
            dup2(err, 2) < 0)
            _exit(124);
        /* Our own test harness fds are not the CLI's business. */
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        execve(argv[0], (char *const *)argv, (char *const *)(envp ? envp : default_env));
        _exit(123);
    }
    free(argv);
    run->pid = pid;
    return 0;
}

int it_wait(const struct it_box *box, struct it_run *run, int timeout_s) {
    struct timespec start, now;
    int status = 0;

    if (run->pid <= 0)
        return -ECHILD;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        pid_t r = wait4(run->pid, &status, WNOHANG, &run->rusage);
        if (r == run->pid)
            break;
        if (r < 0 && errno != EINTR)
            return -errno;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= timeout_s && !run->hung) {
            fprintf(stderr, "harness: the CLI ran longer than %d s, killing it\n", timeout_s);
            kill(run->pid, SIGKILL);
            run->hung = true;
        }
        usleep(5000);
    }
    run->pid = -1;
    run->status = status;
    run->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    run->out = it_read_file(box->out_path, &run->out_len);
    run->err = it_read_file(box->err_path, &run->err_len);
    if (!run->out)
        run->out = strdup("");
    if (!run->err)
        run->err = strdup("");
    run->result = json_load_file(box->json, 0, NULL);
    return 0;
}

int it_sandbox(const struct it_box *box, const char *const *opts, const char *const *cmd,
               const char *const *envp, struct it_run *run) {
    int r = it_start(box, opts, cmd, envp, run);
    if (r < 0)
        return r;
    return it_wait(box, run, 120);
}

void it_run_clear(struct it_run *run) {
    if (run->pid > 0) {
        kill(run->pid, SIGKILL);
        waitpid(run->pid, NULL, 0);
    }
    free(run->out);
    free(run->err);
    json_decref(run->result);
    memset(run, 0, sizeof(*run));
    run->pid = -1;
}

void it_run_dump(const struct it_run *run) {
    char *json = run->result ? json_dumps(run->result, JSON_COMPACT) : NULL;

    fprintf(stderr, "---- exit %d%s\n", run->exit_code, run->hung ? " (hung, killed)" : "");
    fprintf(stderr, "---- stdout (%zu bytes)\n%.*s\n", run->out_len,
            run->out_len > 16384 ? 16384 : (int)run->out_len, run->out ? run->out : "");
    fprintf(stderr, "---- stderr (%zu bytes)\n%.*s\n", run->err_len,
            run->err_len > 16384 ? 16384 : (int)run->err_len, run->err ? run->err : "");
    fprintf(stderr, "---- result %s\n", json ? json : "(none)");
    free(json);
}

unsigned it_probe_verdicts(const struct it_run *run, const char *const *ids,
                           unsigned *ret_missing) {
    unsigned fails = 0, missing = 0;
    const char *text = run->out ? run->out : "";

    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *v;
        if (len > 6 && strncmp(line, "PROBE ", 6) == 0 && (v = memchr(line + 6, ' ', len - 6)) &&
            strncmp(v + 1, "FAIL", 4) == 0) {
            fprintf(stderr, "%.*s\n", (int)len, line);
            fails++;
        }
        line = end ? end + 1 : line + len;
    }
    for (size_t i = 0; ids && ids[i]; i++) {
        char needle[160];
        bool found = false;
        int n = snprintf(needle, sizeof(needle), "PROBE %s SAFE", ids[i]);
        for (const char *p = text; (p = strstr(p, needle)); p += n)
            if ((p == text || p[-1] == '\n') && (p[n] == ' ' || p[n] == '\n' || !p[n])) {
                found = true;
                break;
            }
        if (!found) {
            fprintf(stderr, "no SAFE verdict for %s\n", ids[i]);
            missing++;
        }
    }
    if (ret_missing)
        *ret_missing = missing;
    return fails;
}

const char *it_json_str(const json_t *obj, const char *key) {
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

long long it_json_int(const json_t *obj, const char *key, long long def) {
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    return json_is_integer(v) ? (long long)json_integer_value(v) : def;
}

int it_json_bool(const json_t *obj, const char *key) {
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    return json_is_boolean(v) ? json_is_true(v) : -1;
}

/* ---- the host ---- */

int it_proc_read(pid_t pid, struct it_proc *ret) {
    char path[64], *buf, *p;
    struct it_proc pr;

    memset(&pr, 0, sizeof(pr));
    pr.pid = pid;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    buf = it_read_file(path, NULL);
    if (!buf)
        return -ENOENT;
    /* Fields after the comm: state(3) ppid(4) ... starttime(22). */
    p = strrchr(buf, ')');
    if (!p || sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
                            "%*d %*d %llu",
                     &pr.ppid, &pr.start) != 2) {
        free(buf);
        return -EINVAL;
    }
    free(buf);
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    buf = it_read_file(path, NULL);
    if (!buf)
        return -ENOENT;
    for (char *line = buf; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strncmp(line, "Uid:", 4) == 0)
            sscanf(line + 4, "%lu %lu %lu %lu", &pr.uid[0], &pr.uid[1], &pr.uid[2], &pr.uid[3]);
        else if (strncmp(line, "Gid:", 4) == 0)
            sscanf(line + 4, "%lu %lu %lu %lu", &pr.gid[0], &pr.gid[1], &pr.gid[2], &pr.gid[3]);
        else if (strncmp(line, "Groups:", 7) == 0)
            snprintf(pr.groups, sizeof(pr.groups), "%s", line + 7 + strspn(line + 7, " \t"));
        else if (strncmp(line, "CapEff:", 7) == 0)
            snprintf(pr.cap_eff, sizeof(pr.cap_eff), "%s", line + 7 + strspn(line + 7, " \t"));
        else if (strncmp(line, "NSpid:", 6) == 0) {
            char *last = strrchr(line, '\t');
            last = last ? last : strrchr(line, ' ');
            pr.inner_pid = last ? (pid_t)atoi(last + 1) : 0;
        }
        line = next;
    }
    free(buf);
    *ret = pr;
    return 0;
}

bool it_proc_alive(const struct it_proc *p) {
    struct it_proc now;
    return it_proc_read(p->pid, &now) == 0 && now.start == p->start;
}

static bool numeric(const char *s) {
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

size_t it_find_procs(const char *const *argv, struct it_proc *out, size_t max) {
    DIR *d = opendir("/proc");
    struct dirent *de;
    size_t found = 0;

    if (!d)
        return 0;
    while ((de = readdir(d))) {
        char path[64], *cmdline;
        size_t len, off = 0;
        bool match = true;
        size_t i;

        if (!numeric(de->d_name))
            continue;
        snprintf(path, sizeof(path), "/proc/%d/cmdline", atoi(de->d_name));
        cmdline = it_read_file(path, &len);
        if (!cmdline)
            continue;
        for (i = 0; argv[i] && match; i++) {
            size_t alen = strlen(argv[i]) + 1;
            match = off + alen <= len && memcmp(cmdline + off, argv[i], alen) == 0;
            off += alen;
        }
        match = match && off == len;
        free(cmdline);
        if (!match)
            continue;
        if (found < max && it_proc_read((pid_t)atoi(de->d_name), &out[found]) < 0)
            continue;
        found++;
    }
    closedir(d);
    return found;
}

size_t it_sandbox_uid_pids(pid_t **ret) {
    DIR *d = opendir("/proc");
    struct dirent *de;
    size_t n = 0, cap = 0;
    pid_t *v = NULL;

    *ret = NULL;
    if (!d)
        return 0;
    while ((de = readdir(d))) {
        struct it_proc p;
        if (!numeric(de->d_name) || it_proc_read((pid_t)atoi(de->d_name), &p) < 0)
            continue;
        if (p.uid[0] < IT_HOST_UID_MIN && p.uid[1] < IT_HOST_UID_MIN)
            continue;
        if (n == cap) {
            pid_t *nv = realloc(v, (cap ? cap * 2 : 16) * sizeof(*v));
            if (!nv)
                break;
            v = nv;
            cap = cap ? cap * 2 : 16;
        }
        v[n++] = p.pid;
    }
    closedir(d);
    *ret = v;
    return n;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* An empty NULL-terminated vector with room for one pointer. */
static char **strv_new(size_t *n, size_t *cap) {
    *n = 0;
    *cap = 1;
    return calloc(1, sizeof(char *));
}

/* Append s (copied) to a growing NULL-terminated vector. */
static int strv_push(char ***v, size_t *n, size_t *cap, const char *s) {
    if (*n + 1 >= *cap) {
        size_t ncap = *cap ? *cap * 2 : 32;
        char **nv = realloc(*v, ncap * sizeof(**v));
        if (!nv)
            return -ENOMEM;
        *v = nv;
        *cap = ncap;
    }
    if (!((*v)[*n] = strdup(s)))
        return -ENOMEM;
    (*v)[++*n] = NULL;
    return 0;
}

char **it_list_dir(const char *path) {
    DIR *d = opendir(path);
    struct dirent *de;
    size_t n, cap;
    char **v = strv_new(&n, &cap);

    if (!d || !v) {
        if (d)
            closedir(d);
        return v;
    }
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            strv_push(&v, &n, &cap, de->d_name);
    closedir(d);
    qsort(v, n, sizeof(*v), cmp_str);
    return v;
}

char **it_mount_points(void) {
    char *buf = it_read_file("/proc/self/mountinfo", NULL);
    size_t n, cap;
    char **v = strv_new(&n, &cap);

    if (!v) {
        free(buf);
        return NULL;
    }
    for (char *line = buf; line && *line;) {
        char *next = strchr(line, '\n');
        char mp[4096];
        if (next)
            *next++ = '\0';
        if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1)
            strv_push(&v, &n, &cap, mp);
        line = next;
    }
    free(buf);
    qsort(v, n, sizeof(*v), cmp_str);
    return v;
}

void it_strv_free(char **v) {
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

size_t it_strv_len(char *const *v) {
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

size_t it_strv_print_added(const char *prefix, char *const *before, char *const *after) {
    size_t added = 0, i = 0, j = 0;

    /* Both are sorted; walk them like a merge, counting duplicates as entries. */
    while (after && after[j]) {
        int c = before && before[i] ? strcmp(before[i], after[j]) : 1;
        if (c == 0) {
            i++;
            j++;
        } else if (c < 0) {
            i++;
        } else {
            fprintf(stderr, "%s%s\n", prefix, after[j]);
            added++;
            j++;
        }
    }
    return added;
}

int it_count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int n = 0;

    if (!d)
        return -errno;
    while ((de = readdir(d)))
        if (numeric(de->d_name) && atoi(de->d_name) != dirfd(d))
            n++;
    closedir(d);
    return n;
}
