/*
 * harness.h - what the integration tests share: run `labstack sandbox run` on a
 * fresh workspace that holds the probe, collect its output and result JSON, and
 * look at the host from the outside (processes, mounts, directory listings).
 *
 * The tests run as root against the real kernel.  Paths of the programs under test
 * come from the environment that meson sets: LABSTACK (the CLI) and PROBE (the static
 * probe from tests/probe).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

/* Sandboxes run as host uids from this number up. */
#define IT_HOST_UID_MIN 1000000UL

/* Exit 77 (meson counts the test as skipped) with a reason unless we are root. */
void it_skip_unless_root(const char *test_name);

/* $LABSTACK / $PROBE; exit 1 with a message when unset or not executable. */
const char *it_labstack(void);
const char *it_probe(void);

/* A scratch directory for one run: <dir>/ws is the workspace (mode 0755, holding
 * the probe as ws/probe when asked), <dir>/r.json the result, <dir>/out and
 * <dir>/err what the CLI printed. */
struct it_box {
    bool tmpfs_work;     /* it_start omits --workspace: /work is the sandbox's own tmpfs
                          * (set after it_box_new; for file systems without id-mapped
                          * mounts, the probe then comes in with --ro-bind) */
    char dir[128];
    char ws[192];
    char json[192];
    char out_path[192];
    char err_path[192];
};

/* Create a box; returns 0 or -errno. */
int it_box_new(struct it_box *box, bool with_probe);

/* Remove the box.  Refuses (and says so on stderr) when a mount point lies inside
 * it: deleting through a leaked bind mount would delete the host's files. */
void it_box_free(struct it_box *box);

struct it_run {
    pid_t pid;            /* the CLI while it runs */
    int status;           /* wait status */
    int exit_code;        /* exit status, or 128+signal */
    bool hung;            /* did not finish in time and was killed */
    char *out;            /* stdout of the CLI, NUL-terminated */
    size_t out_len;
    char *err;            /* stderr of the CLI */
    size_t err_len;
    json_t *result;       /* the parsed --result-json file, NULL when missing/invalid */
    struct rusage rusage; /* of the CLI process from wait4 (its reaped children included) */
};

/*
 * Start `$LABSTACK sandbox run --workspace <ws> --result-json <json> OPTS... -- CMD...`
 * (without --workspace when box->tmpfs_work) with stdin from /dev/null, stdout/stderr
 * to the box's files and the environment envp (NULL: PATH only).  Returns 0 or -errno.
 */
int it_start(const struct it_box *box, const char *const *opts, const char *const *cmd,
             const char *const *envp, struct it_run *run);

/* Wait for a started run (killing it after timeout_s), then read its output and
 * result.  Returns 0 or -errno. */
int it_wait(const struct it_box *box, struct it_run *run, int timeout_s);

/* it_start + it_wait with a 120 s limit. */
int it_sandbox(const struct it_box *box, const char *const *opts, const char *const *cmd,
               const char *const *envp, struct it_run *run);

/* Free what a run holds; accepts a cleared run. */
void it_run_clear(struct it_run *run);

/* Print what a run produced (exit, stdout, stderr, result) to stderr, for failures. */
void it_run_dump(const struct it_run *run);

/*
 * Judge probe output.  Prints every "PROBE <id> FAIL" line to stderr (all of them,
 * so one run shows every finding).  Returns the number of FAIL lines; *ret_missing
 * gets the number of ids in `ids` (NULL-terminated) without a SAFE line, each of
 * which is printed too.
 */
unsigned it_probe_verdicts(const struct it_run *run, const char *const *ids,
                           unsigned *ret_missing);

/* Fields of the result JSON; defaults when missing or of the wrong type. */
const char *it_json_str(const json_t *obj, const char *key);
long long it_json_int(const json_t *obj, const char *key, long long def);
int it_json_bool(const json_t *obj, const char *key); /* 1, 0, or -1 when missing */

/* ---- the host, seen from outside ---- */

struct it_proc {
    pid_t pid;
    unsigned long long start;    /* start time (clock ticks), to tell pid reuse apart */
    pid_t ppid;
    pid_t inner_pid;             /* last field of NSpid: the pid in its own namespace */
    unsigned long uid[4];        /* real, effective, saved, fs */
    unsigned long gid[4];
    char groups[128];            /* the Groups: line, trimmed */
    char cap_eff[32];
};

/* Read /proc/<pid>/stat and status.  Returns 0 or -errno. */
int it_proc_read(pid_t pid, struct it_proc *ret);

/* Still the same process (same pid, same start time)? */
bool it_proc_alive(const struct it_proc *p);

/* Host processes whose command line is exactly argv (NULL-terminated).  Returns how
 * many were found (at most max stored). */
size_t it_find_procs(const char *const *argv, struct it_proc *out, size_t max);

/* Pids of host processes whose real or effective uid is >= IT_HOST_UID_MIN; NULL-free
 * array in *ret (caller frees), count returned. */
size_t it_sandbox_uid_pids(pid_t **ret);

/* A sorted list of strings (NULL-terminated), freed with it_strv_free. */
char **it_list_dir(const char *path);
char **it_mount_points(void); /* field 5 of /proc/self/mountinfo, one per mount */
void it_strv_free(char **v);
size_t it_strv_len(char *const *v);

/* Print (with prefix) entries of `after` missing from `before`; returns their count. */
size_t it_strv_print_added(const char *prefix, char *const *before, char *const *after);

/* Number of open fds of the calling process (excluding the one used to count). */
int it_count_fds(void);

/* Read a whole file into a NUL-terminated buffer (caller frees); NULL on error. */
char *it_read_file(const char *path, size_t *ret_len);

/* Write a file with the given mode; 0 or -errno. */
int it_write_file(const char *path, const char *data, mode_t mode);
