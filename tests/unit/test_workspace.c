/*
 * Unit tests for workspace/: unpacking archives built in memory (libarchive's writer),
 * hostile archives that must be refused with nothing written outside the destination,
 * the manifest of a tree with FIFOs, sockets, symlinks and hard links, and removal.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "labstack/workspace.h"

#define SHA_HELLO "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define SHA_X "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
#define OUTSIDE_TEXT "do not touch\n"

static char top[] = "/tmp/test_workspace.XXXXXX";
static int top_fd = -1, dest_fd = -1;

static const struct ls_unpack_limits limits = {
    .max_files = 10000,
    .max_bytes = 64 << 20,
    .max_file_bytes = 16 << 20,
    .max_path = 1024,
};

/* ---- the scratch tree: top/{dest,sentinel/,outside} ---- */

static int setup(void **state) {
    assert_int_equal(mkdirat(top_fd, "dest", 0755), 0);
    assert_int_equal(mkdirat(top_fd, "sentinel", 0755), 0);
    int fd = openat(top_fd, "outside", O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, OUTSIDE_TEXT, strlen(OUTSIDE_TEXT)), strlen(OUTSIDE_TEXT));
    close(fd);
    dest_fd = openat(top_fd, "dest", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    assert_true(dest_fd >= 0);
    return 0;
}

static int teardown(void **state) {
    close(dest_fd);
    dest_fd = -1;
    assert_int_equal(ls_workspace_remove(top_fd, "dest"), 0);
    assert_int_equal(ls_workspace_remove(top_fd, "sentinel"), 0);
    assert_int_equal(ls_workspace_remove(top_fd, "outside"), 0);
    return 0;
}

static size_t count_dir(int dirfd, const char *name) {
    int fd = openat(dirfd, name, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    DIR *d = fdopendir(fd);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* Nothing outside dest changed: top holds exactly dest, sentinel, outside; sentinel is
 * empty; outside has its text. */
static void assert_outside_untouched(void) {
    char buf[64] = {0};
    assert_int_equal(count_dir(top_fd, "."), 3);
    assert_int_equal(count_dir(top_fd, "sentinel"), 0);
    int fd = openat(top_fd, "outside", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, buf, sizeof(buf) - 1), strlen(OUTSIDE_TEXT));
    close(fd);
    assert_string_equal(buf, OUTSIDE_TEXT);
}

/* ---- building archives ---- */

struct tarw {
    struct archive *a;
    int fd;
};

static struct tarw tar_begin(int filter) {
    struct tarw t = {.a = archive_write_new(), .fd = memfd_create("tar", MFD_CLOEXEC)};
    assert_non_null(t.a);
    assert_true(t.fd >= 0);
    assert_int_equal(archive_write_set_format_pax_restricted(t.a), ARCHIVE_OK);
    if (filter == 'z')
        assert_int_equal(archive_write_add_filter_gzip(t.a), ARCHIVE_OK);
    else if (filter == 's')
        assert_int_equal(archive_write_add_filter_zstd(t.a), ARCHIVE_OK);
    assert_int_equal(archive_write_open_fd(t.a, t.fd), ARCHIVE_OK);
    return t;
}

static void tar_add(struct tarw *t, const char *name, mode_t type, mode_t perm, const char *data,
                    const char *link) {
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, perm);
    archive_entry_set_size(e, data ? (la_int64_t)strlen(data) : 0);
    if (type == AE_IFLNK)
        archive_entry_set_symlink(e, link);
    else if (link)
        archive_entry_set_hardlink(e, link);
    if (type == AE_IFCHR)
        archive_entry_set_rdev(e, makedev(1, 3));
    assert_int_equal(archive_write_header(t->a, e), ARCHIVE_OK);
    if (data && *data)
        assert_int_equal(archive_write_data(t->a, data, strlen(data)), strlen(data));
    archive_entry_free(e);
}

#define ADD_FILE(t, n, m, d) tar_add(t, n, AE_IFREG, m, d, NULL)
#define ADD_DIR(t, n, m) tar_add(t, n, AE_IFDIR, m, NULL, NULL)
#define ADD_LINK(t, n, target) tar_add(t, n, AE_IFLNK, 0777, NULL, target)

/* Finish the archive; returns its fd positioned at the start. */
static int tar_end(struct tarw *t) {
    assert_int_equal(archive_write_close(t->a), ARCHIVE_OK);
    archive_write_free(t->a);
    assert_int_equal(lseek(t->fd, 0, SEEK_SET), 0);
    return t->fd;
}

static int unpack(int fd, const struct ls_unpack_limits *lim, struct ls_unpack_stats *st,
                  struct ls_error *err) {
    ls_error_clear(err);
    int r = ls_workspace_unpack(fd, dest_fd, lim, st, err);
    close(fd);
    return r;
}

static const struct ls_manifest_entry *find(const struct ls_manifest *m, const char *path) {
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->entries[i].path, path) == 0)
            return &m->entries[i];
    fail_msg("no manifest entry %s", path);
    return NULL;
}

static void hex(const unsigned char *sha, char out[65]) {
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", sha[i]);
}

/* ---- round trip ---- */

static void roundtrip(int filter) {
    struct tarw t = tar_begin(filter);
    ADD_DIR(&t, "./", 0755);
    ADD_DIR(&t, "d", 0750);
    ADD_DIR(&t, "d/sub", 0700);
    ADD_FILE(&t, "d/f.txt", 0644, "hello\n");
    ADD_FILE(&t, "./top", 0600, "x");
    ADD_FILE(&t, "exe", 0755, "");
    ADD_LINK(&t, "d/link", "f.txt");
    ADD_LINK(&t, "abs", "/etc/passwd");
    ADD_FILE(&t, "implied/deep/file", 0640, "hello\n");
    ADD_DIR(&t, "implied", 0711); /* listed after its contents: not a duplicate */

    struct ls_unpack_stats st;
    struct ls_error err;
    assert_int_equal(unpack(tar_end(&t), &limits, &st, &err), 0);
    assert_int_equal(st.files, 4);
    assert_int_equal(st.dirs, 4); /* d, d/sub, implied, implied/deep */
    assert_int_equal(st.symlinks, 2);
    assert_int_equal(st.bytes, 13);

    struct ls_manifest *m = NULL;
    assert_int_equal(ls_workspace_manifest(dest_fd, &limits, &m, &err), 0);
    assert_int_equal(m->n, 10);
    assert_int_equal(m->n_rejected, 0);
    for (size_t i = 1; i < m->n; i++)
        assert_true(strcmp(m->entries[i - 1].path, m->entries[i].path) < 0);
    char h[65];
    const struct ls_manifest_entry *e = find(m, "d/f.txt");
    assert_int_equal(e->type, LS_MANIFEST_FILE);
    assert_int_equal(e->mode, 0644);
    assert_int_equal(e->size, 6);
    assert_true(e->has_sha256);
    hex(e->sha256, h);
    assert_string_equal(h, SHA_HELLO);
    e = find(m, "top");
    assert_int_equal(e->mode, 0600);
    hex(e->sha256, h);
    assert_string_equal(h, SHA_X);
    e = find(m, "implied/deep/file");
    hex(e->sha256, h);
    assert_string_equal(h, SHA_HELLO);
    assert_int_equal(find(m, "implied")->type, LS_MANIFEST_DIR);
    assert_int_equal(find(m, "implied")->mode, 0711);
    assert_int_equal(find(m, "implied/deep")->mode, 0755);
    assert_int_equal(find(m, "exe")->mode, 0755);
    assert_int_equal(find(m, "d")->mode, 0750);
    assert_int_equal(find(m, "d/sub")->mode, 0700);
    e = find(m, "d/link");
    assert_int_equal(e->type, LS_MANIFEST_SYMLINK);
    assert_string_equal(e->target, "f.txt");
    assert_string_equal(find(m, "abs")->target, "/etc/passwd");
    assert_int_equal(m->bytes, 13);

    char *json = ls_manifest_to_json(m);
    assert_non_null(json);
    json_error_t jerr;
    json_t *doc = json_loads(json, 0, &jerr);
    assert_non_null(doc);
    assert_int_equal(json_array_size(json_object_get(doc, "entries")), 10);
    assert_non_null(strstr(json, "\"sha256\":\"" SHA_HELLO "\""));
    json_decref(doc);
    free(json);
    ls_manifest_free(m);
    assert_outside_untouched();
}

static void roundtrip_tar(void **state) {
    roundtrip(0);
}
static void roundtrip_gz(void **state) {
    roundtrip('z');
}
static void roundtrip_zst(void **state) {
    roundtrip('s');
}

/* ---- hostile archives ---- */

/* Unpack, expect -errnum and a message containing each of the given strings, and
 * nothing outside dest touched. */
static void expect_refused(int fd, const struct ls_unpack_limits *lim, int errnum,
                           const char *want1, const char *want2) {
    struct ls_error err;
    int r = unpack(fd, lim, NULL, &err);
    assert_int_equal(r, -errnum);
    assert_int_equal(err.code, errnum);
    if (!strstr(err.msg, want1) || (want2 && !strstr(err.msg, want2)))
        fail_msg("message `%s` lacks `%s` / `%s`", err.msg, want1, want2 ? want2 : "");
    assert_outside_untouched();
}

static void refuse_dotdot(void **state) {
    struct tarw t = tar_begin(0);
    ADD_FILE(&t, "ok", 0644, "x");
    ADD_FILE(&t, "../escape", 0644, "pwned");
    expect_refused(tar_end(&t), &limits, EINVAL, "entry 1 `../escape`", "`..`");
}

static void refuse_absolute(void **state) {
    struct tarw t = tar_begin(0);
    char name[256];
    snprintf(name, sizeof(name), "%s/sentinel/abs", top);
    ADD_FILE(&t, name, 0644, "pwned");
    expect_refused(tar_end(&t), &limits, EINVAL, "entry 0 `/tmp/", "absolute");
    t = tar_begin(0);
    ADD_FILE(&t, "/abs", 0644, "pwned");
    expect_refused(tar_end(&t), &limits, EINVAL, "entry 0 `/abs`", "absolute");
    assert_int_equal(access("/abs", F_OK), -1);
}

static void refuse_inner_dotdot(void **state) {
    struct tarw t = tar_begin(0);
    ADD_DIR(&t, "a", 0755);
    ADD_FILE(&t, "a/../../x", 0644, "pwned");
    expect_refused(tar_end(&t), &limits, EINVAL, "entry 1 `a/../../x`", NULL);
}

static void refuse_through_symlink(void **state) {
    char target[256], victim[256];
    snprintf(target, sizeof(target), "%s/sentinel", top);
    struct tarw t = tar_begin(0);
    ADD_LINK(&t, "link", target);
    ADD_FILE(&t, "link/x", 0644, "pwned");
    expect_refused(tar_end(&t), &limits, EINVAL, "entry 1 `link/x`", "symlink");

    /* The same through /tmp, and through a relative link to the parent. */
    assert_int_equal(teardown(state), 0);
    assert_int_equal(setup(state), 0);
    snprintf(victim, sizeof(victim), "test_workspace_victim.%d", (int)getpid());
    char name[300];
    snprintf(name, sizeof(name), "link/%s", victim);
    t = tar_begin(0);
    ADD_LINK(&t, "link", "/tmp");
    ADD_FILE(&t, name, 0644, "pwned");
    expect_refused(tar_end(&t), &limits, EINVAL, "entry 1 `link/test_workspace_victim", NULL);
    snprintf(name, sizeof(name), "/tmp/%s", victim);
    assert_int_equal(access(name, F_OK), -1);

    assert_int_equal(teardown(state), 0);
    assert_int_equal(setup(state), 0);
    t = tar_begin(0);
    ADD_LINK(&t, "up", "..");
    ADD_DIR(&t, "up/sentinel/new", 0755);
    expect_refused(tar_end(&t), &limits, EINVAL, "entry 1 `up/sentinel/new/`", NULL);
}

static void refuse_symlink_then_file(void **state) {
    struct tarw t = tar_begin(0);
    ADD_LINK(&t, "s", "../outside");
    ADD_FILE(&t, "s", 0644, "pwned");
    expect_refused(tar_end(&t), &limits, EINVAL, "entry 1 `s`", "duplicate");

    assert_int_equal(teardown(state), 0);
    assert_int_equal(setup(state), 0);
    t = tar_begin(0);
    ADD_FILE(&t, "f", 0644, "one");
    ADD_FILE(&t, "f", 0644, "two");
    expect_refused(tar_end(&t), &limits, EINVAL, "entry 1 `f`", "duplicate");

    /* A directory over a symlink to outside, and a file used as a directory. */
    assert_int_equal(teardown(state), 0);
    assert_int_equal(setup(state), 0);
    t = tar_begin(0);
    ADD_LINK(&t, "s", "../sentinel");
    ADD_DIR(&t, "s", 0777);
    expect_refused(tar_end(&t), &limits, EINVAL, "entry 1 `s/`", "duplicate");

    assert_int_equal(teardown(state), 0);
    assert_int_equal(setup(state), 0);
    t = tar_begin(0);
    ADD_FILE(&t, "f", 0644, "x");
    ADD_FILE(&t, "f/x", 0644, "x");
    expect_refused(tar_end(&t), &limits, EINVAL, "entry 1 `f/x`", "not a directory");
}

static void refuse_hardlink(void **state) {
    struct tarw t = tar_begin(0);
    tar_add(&t, "pw", AE_IFREG, 0644, NULL, "/etc/passwd");
    expect_refused(tar_end(&t), &limits, EINVAL, "entry 0 `pw`", "hard link");

    assert_int_equal(teardown(state), 0);
    assert_int_equal(setup(state), 0);
    t = tar_begin(0);
    ADD_FILE(&t, "a", 0644, "x");
    tar_add(&t, "b", AE_IFREG, 0644, NULL, "a");
    expect_refused(tar_end(&t), &limits, EINVAL, "entry 1 `b`", "hard link");
}

static void refuse_special(void **state) {
    struct tarw t = tar_begin(0);
    tar_add(&t, "null", AE_IFCHR, 0666, NULL, NULL);
    expect_refused(tar_end(&t), &limits, EINVAL, "entry 0 `null`", "device");

    t = tar_begin(0);
    tar_add(&t, "fifo", AE_IFIFO, 0644, NULL, NULL);
    expect_refused(tar_end(&t), &limits, EINVAL, "entry 0 `fifo`", "FIFO");
    assert_int_equal(count_dir(top_fd, "dest"), 0);
}

static void refuse_bad_names(void **state) {
    struct tarw t = tar_begin(0);
    ADD_FILE(&t, "a\nb", 0644, "x");
    expect_refused(tar_end(&t), &limits, EINVAL, "entry 0 `a\\nb`", "control character");

    struct ls_unpack_limits small = limits;
    small.max_path = 16;
    t = tar_begin(0);
    ADD_FILE(&t, "a-name-that-is-too-long", 0644, "x");
    expect_refused(tar_end(&t), &small, EINVAL, "entry 0", "longer than 16");
    t = tar_begin(0);
    ADD_LINK(&t, "l", "a-target-that-is-too-long");
    expect_refused(tar_end(&t), &small, EINVAL, "entry 0 `l`", "target longer");

    char deep[2 * LS_WORKSPACE_MAX_DEPTH + 8] = "";
    for (int i = 0; i <= LS_WORKSPACE_MAX_DEPTH; i++)
        strcat(deep, "a/");
    t = tar_begin(0);
    ADD_DIR(&t, deep, 0755);
    expect_refused(tar_end(&t), &limits, EINVAL, "entry 0", "components");
}

/* A ustar header whose size field (base-256) says 10 GiB, followed by `data` bytes of
 * data and then the end of the stream. */
static int lying_archive(size_t data) {
    unsigned char h[512] = {0};
    uint64_t size = 10ULL << 30;
    strcpy((char *)h, "big");
    memcpy(h + 100, "0000644", 8);
    memcpy(h + 108, "0000000", 8);
    memcpy(h + 116, "0000000", 8);
    h[124] = 0x80;
    for (int i = 0; i < 8; i++)
        h[135 - i] = (unsigned char)(size >> (8 * i));
    memcpy(h + 136, "00000000000", 12);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    int fd = memfd_create("big", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, h, sizeof(h)), sizeof(h));
    char chunk[65536];
    memset(chunk, 'A', sizeof(chunk));
    for (size_t done = 0; done < data; done += sizeof(chunk))
        assert_int_equal(write(fd, chunk, sizeof(chunk)), sizeof(chunk));
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

static void refuse_10g_entry(void **state) {
    /* The header alone is over the per-file cap: refused before any data is read. */
    struct ls_unpack_limits lim = limits;
    lim.max_file_bytes = 1 << 20;
    expect_refused(lying_archive(2 << 20), &lim, EFBIG, "entry 0 `big`", "header says");

    /* Per-file cap out of the way: the total cap stops it after ~1 MiB of real data. */
    assert_int_equal(teardown(state), 0);
    assert_int_equal(setup(state), 0);
    lim.max_file_bytes = UINT64_MAX;
    lim.max_bytes = 1 << 20;
    expect_refused(lying_archive(2 << 20), &lim, E2BIG, "entry 0 `big`", "bytes in all");
    struct stat st;
    assert_int_equal(fstatat(dest_fd, "big", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(st.st_size <= 1 << 20);
}

static void refuse_million_entries(void **state) {
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Stream 1,000,000 empty files into the pipe; dies of EPIPE when the reader
         * stops. */
        close(p[0]);
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        if (archive_write_open_fd(a, p[1]) != ARCHIVE_OK)
            _exit(1);
        struct archive_entry *e = archive_entry_new();
        for (int i = 0; i < 1000000; i++) {
            char name[32];
            snprintf(name, sizeof(name), "f%07d", i);
            archive_entry_clear(e);
            archive_entry_set_pathname(e, name);
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
            archive_entry_set_size(e, 0);
            if (archive_write_header(a, e) != ARCHIVE_OK)
                _exit(0);
        }
        archive_write_close(a);
        _exit(0);
    }
    close(p[1]);
    struct ls_unpack_limits lim = limits;
    lim.max_files = 10000;
    expect_refused(p[0], &lim, E2BIG, "entry 10000 `f0010000`", "more than 10000 entries");
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(count_dir(top_fd, "dest"), 10000);
}

static void refuse_not_tar(void **state) {
    int fd = memfd_create("junk", MFD_CLOEXEC);
    char junk[4096];
    memset(junk, 'Z', sizeof(junk));
    assert_int_equal(write(fd, junk, sizeof(junk)), sizeof(junk));
    lseek(fd, 0, SEEK_SET);
    struct ls_error err;
    assert_int_equal(unpack(fd, &limits, NULL, &err), -EINVAL);
    if (!strstr(err.msg, "Unrecognized archive format"))
        fail_msg("message `%s`", err.msg);

    /* Formats other than tar are not read, even when libarchive could. */
    struct archive *a = archive_write_new();
    fd = memfd_create("zip", MFD_CLOEXEC);
    assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
    assert_int_equal(archive_write_open_fd(a, fd), ARCHIVE_OK);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "f");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, 1);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    assert_int_equal(archive_write_data(a, "x", 1), 1);
    archive_entry_free(e);
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    lseek(fd, 0, SEEK_SET);
    assert_int_equal(unpack(fd, &limits, NULL, &err), -EINVAL);
    assert_int_equal(count_dir(top_fd, "dest"), 0);
}

static void modes_stripped(void **state) {
    struct tarw t = tar_begin(0);
    ADD_FILE(&t, "suid", 04755, "x");
    ADD_FILE(&t, "sgid", 02711, "x");
    ADD_DIR(&t, "sticky", 01777);
    ADD_DIR(&t, "ro", 0500);
    ADD_FILE(&t, "ro/inside", 0444, "x"); /* must still be creatable */
    struct ls_error err;
    assert_int_equal(unpack(tar_end(&t), &limits, NULL, &err), 0);
    struct stat st;
    assert_int_equal(fstatat(dest_fd, "suid", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(st.st_mode & 07777, 0755);
    assert_int_equal(fstatat(dest_fd, "sgid", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(st.st_mode & 07777, 0711);
    assert_int_equal(fstatat(dest_fd, "sticky", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(st.st_mode & 07777, 0777);
    assert_int_equal(fstatat(dest_fd, "ro", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(st.st_uid, getuid());
    assert_int_equal(fstatat(dest_fd, "ro/inside", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(st.st_mode & 07777, 0444);
}

/* ---- manifest of a hostile tree ---- */

static void manifest_hostile_tree(void **state) {
    int fd = openat(dest_fd, "file", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "hello\n", 6), 6);
    close(fd);
    assert_int_equal(linkat(dest_fd, "file", dest_fd, "hard", 0), 0);
    fd = openat(dest_fd, "single", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
    assert_int_equal(mkfifoat(dest_fd, "fifo", 0644), 0);
    assert_int_equal(symlinkat("/etc/shadow", dest_fd, "shadow"), 0);
    assert_int_equal(mkdirat(dest_fd, "sub", 0755), 0);
    assert_int_equal(symlinkat("..", dest_fd, "sub/up"), 0);
    assert_int_equal(mkdirat(dest_fd, "bad\nname", 0755), 0);

    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/dest/sub/sock", top);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);

    struct ls_manifest *m = NULL;
    struct ls_error err;
    assert_int_equal(ls_workspace_manifest(dest_fd, &limits, &m, &err), 0);
    close(s);
    assert_int_equal(m->n, 9);
    const struct ls_manifest_entry *e = find(m, "fifo");
    assert_int_equal(e->type, LS_MANIFEST_OTHER);
    assert_string_equal(e->rejected, "fifo");
    e = find(m, "sub/sock");
    assert_int_equal(e->type, LS_MANIFEST_OTHER);
    assert_string_equal(e->rejected, "socket");
    e = find(m, "shadow");
    assert_int_equal(e->type, LS_MANIFEST_SYMLINK);
    assert_string_equal(e->target, "/etc/shadow");
    assert_false(e->has_sha256);
    assert_null(e->rejected);
    assert_string_equal(find(m, "sub/up")->target, "..");
    assert_string_equal(find(m, "file")->rejected, "hard link");
    assert_string_equal(find(m, "hard")->rejected, "hard link");
    assert_false(find(m, "file")->has_sha256);
    assert_string_equal(find(m, "bad\nname")->rejected, "control character in name");
    e = find(m, "single");
    char h[65];
    hex(e->sha256, h);
    assert_string_equal(h, SHA_X);
    assert_int_equal(m->n_rejected, 5);

    char *json = ls_manifest_to_json(m);
    assert_non_null(json);
    json_error_t jerr;
    json_t *doc = json_loads(json, 0, &jerr);
    assert_non_null(doc);
    assert_int_equal(json_integer_value(json_object_get(doc, "rejected")), 5);
    assert_non_null(strstr(json, "\"target\":\"/etc/shadow\""));
    assert_non_null(strstr(json, "bad\\nname"));
    json_decref(doc);
    free(json);
    ls_manifest_free(m);

    /* Caps. */
    struct ls_unpack_limits lim = limits;
    lim.max_files = 3;
    assert_int_equal(ls_workspace_manifest(dest_fd, &lim, &m, &err), -E2BIG);
    lim = limits;
    lim.max_bytes = 0;
    assert_int_equal(ls_workspace_manifest(dest_fd, &lim, &m, &err), -E2BIG);
    assert_non_null(strstr(err.msg, "`single`"));
}

static void remove_does_not_follow(void **state) {
    int fd = openat(top_fd, "sentinel/keep", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(symlinkat("../sentinel", dest_fd, "link"), 0);
    assert_int_equal(mkdirat(dest_fd, "d", 0755), 0);
    assert_int_equal(symlinkat("../../sentinel/keep", dest_fd, "d/l2"), 0);
    assert_int_equal(mkdirat(dest_fd, "d/locked", 0000), 0);
    assert_int_equal(mkfifoat(dest_fd, "d/fifo", 0600), 0);
    assert_int_equal(ls_workspace_remove(top_fd, "dest"), 0);
    assert_int_equal(faccessat(top_fd, "dest", F_OK, AT_SYMLINK_NOFOLLOW), -1);
    assert_int_equal(faccessat(top_fd, "sentinel/keep", F_OK, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(unlinkat(top_fd, "sentinel/keep", 0), 0);
    assert_int_equal(mkdirat(top_fd, "dest", 0755), 0); /* for teardown */
    assert_int_equal(ls_workspace_remove(top_fd, "missing"), 0);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    assert_non_null(mkdtemp(top));
    top_fd = open(top, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    assert_true(top_fd >= 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(roundtrip_tar, setup, teardown),
        cmocka_unit_test_setup_teardown(roundtrip_gz, setup, teardown),
        cmocka_unit_test_setup_teardown(roundtrip_zst, setup, teardown),
        cmocka_unit_test_setup_teardown(refuse_dotdot, setup, teardown),
        cmocka_unit_test_setup_teardown(refuse_absolute, setup, teardown),
        cmocka_unit_test_setup_teardown(refuse_inner_dotdot, setup, teardown),
        cmocka_unit_test_setup_teardown(refuse_through_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(refuse_symlink_then_file, setup, teardown),
        cmocka_unit_test_setup_teardown(refuse_hardlink, setup, teardown),
        cmocka_unit_test_setup_teardown(refuse_special, setup, teardown),
        cmocka_unit_test_setup_teardown(refuse_bad_names, setup, teardown),
        cmocka_unit_test_setup_teardown(refuse_10g_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(refuse_million_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(refuse_not_tar, setup, teardown),
        cmocka_unit_test_setup_teardown(modes_stripped, setup, teardown),
        cmocka_unit_test_setup_teardown(manifest_hostile_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(remove_does_not_follow, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    int tmp_fd = open("/tmp", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    ls_workspace_remove(tmp_fd, strrchr(top, '/') + 1);
    close(tmp_fd);
    return failed;
}
