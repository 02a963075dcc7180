/*
 * test_policy_sign.c - Ed25519 signatures of policy files (policies/sign.c).
 *
 * Keys are generated in C with OpenSSL (no dependency on the openssl program) and
 * written as PEM into a scratch directory, as `openssl genpkey` would.  Checked: a
 * signature verifies; one flipped byte of the policy, a truncated or garbage .sig,
 * another key, a missing .sig, RSA keys and swapped private/public keys are refused
 * with the documented error and a clear message; signing replaces .sig atomically
 * and leaves no temp file behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "labstack/error.h"
#include "labstack/macros.h"
#include "labstack/policy.h"

static char dir[64];
static char policy[128], sigfile[160], key[128], pub[128], key2[128], pub2[128], rsa_key[128],
    rsa_pub[128];

static const char policy_text[] = "{\n"
                                  "  \"name\": \"p\",\n"
                                  "  \"version\": 1,\n"
                                  "  \"description\": \"signed in a test\"\n"
                                  "}\n";

/* ---- helpers ---------------------------------------------------------------- */

static void write_file(const char *path, const void *data, size_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

static char *read_text(const char *path, size_t *ret_len) {
    FILE *f = fopen(path, "re");
    assert_non_null(f);
    char *buf = calloc(1, 8192);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 8191, f);
    fclose(f);
    if (ret_len)
        *ret_len = n;
    return buf;
}

static void write_pem(EVP_PKEY *pkey, const char *priv_path, const char *pub_path) {
    BIO *b = BIO_new_file(priv_path, "w");
    assert_non_null(b);
    assert_int_equal(PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL), 1);
    BIO_free(b);
    b = BIO_new_file(pub_path, "w");
    assert_non_null(b);
    assert_int_equal(PEM_write_bio_PUBKEY(b, pkey), 1);
    BIO_free(b);
}

static void make_keys(const char *type, const char *priv_path, const char *pub_path) {
    EVP_PKEY *pkey = strcmp(type, "RSA") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
                                              : EVP_PKEY_Q_keygen(NULL, NULL, type);
    assert_non_null(pkey);
    write_pem(pkey, priv_path, pub_path);
    EVP_PKEY_free(pkey);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int setup_all(void **state) {
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/test_policy_sign.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(policy, sizeof(policy), "%s/p.json", dir);
    snprintf(sigfile, sizeof(sigfile), "%s/p.json.sig", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    snprintf(pub, sizeof(pub), "%s/pub.pem", dir);
    snprintf(key2, sizeof(key2), "%s/key2.pem", dir);
    snprintf(pub2, sizeof(pub2), "%s/pub2.pem", dir);
    snprintf(rsa_key, sizeof(rsa_key), "%s/rsa.pem", dir);
    snprintf(rsa_pub, sizeof(rsa_pub), "%s/rsa.pub.pem", dir);
    make_keys("ED25519", key, pub);
    make_keys("ED25519", key2, pub2);
    make_keys("RSA", rsa_key, rsa_pub);
    return 0;
}

static int teardown_all(void **state) {
    (void)state;
    return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Each test starts from a fresh policy and no signature. */
static int setup(void **state) {
    (void)state;
    write_file(policy, policy_text, strlen(policy_text));
    unlink(sigfile);
    return 0;
}

static void sign_ok(void) {
    struct ls_error err = {0};
    int r = ls_policy_sign(policy, key, &err);
    if (r < 0)
        fail_msg("sign: %s", err.msg);
}

/* ---- tests --------------------------------------------------------------------- */

static void test_sign_verify(void **state) {
    struct ls_error err = {0};
    size_t len;
    (void)state;

    sign_ok();
    assert_int_equal(ls_policy_verify(policy, pub, &err), 0);
    assert_int_equal(err.code, 0);

    /* One line: 88 base64 characters and a newline. */
    _cleanup_free_ char *sig = read_text(sigfile, &len);
    assert_int_equal(len, 89);
    assert_int_equal(sig[88], '\n');
    assert_int_equal(sig[86], '=');
    assert_int_equal(sig[87], '=');

    /* Ed25519 is deterministic: signing again gives the same bytes. */
    sign_ok();
    _cleanup_free_ char *again = read_text(sigfile, NULL);
    assert_string_equal(sig, again);

    struct stat st;
    assert_int_equal(stat(sigfile, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
}

static void test_no_temp_files_left(void **state) {
    (void)state;
    sign_ok();
    sign_ok();
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)))
        if (strstr(de->d_name, ".tmp."))
            fail_msg("temp file left behind: %s", de->d_name);
    closedir(d);
}

static void test_flipped_byte(void **state) {
    struct ls_error err = {0};
    (void)state;

    sign_ok();
    for (size_t pos = 0; pos < strlen(policy_text); pos += 7) {
        char copy[sizeof(policy_text)];
        memcpy(copy, policy_text, sizeof(copy));
        copy[pos] ^= 0x01;
        write_file(policy, copy, strlen(policy_text));
        assert_int_equal(ls_policy_verify(policy, pub, &err), -EBADMSG);
        assert_int_equal(err.code, EBADMSG);
        assert_non_null(strstr(err.msg, "signature does not match"));
    }
    /* An appended newline counts too: the signature covers the exact bytes. */
    _cleanup_free_ char *more = NULL;
    assert_true(asprintf(&more, "%s\n", policy_text) > 0);
    write_file(policy, more, strlen(more));
    assert_int_equal(ls_policy_verify(policy, pub, &err), -EBADMSG);
    /* And the original verifies again. */
    write_file(policy, policy_text, strlen(policy_text));
    assert_int_equal(ls_policy_verify(policy, pub, &err), 0);
}

static void test_truncated_sig(void **state) {
    struct ls_error err = {0};
    size_t len;
    (void)state;

    sign_ok();
    _cleanup_free_ char *sig = read_text(sigfile, &len);
    write_file(sigfile, sig, 60);
    assert_int_equal(ls_policy_verify(policy, pub, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "not a valid signature"));
    assert_non_null(strstr(err.msg, sigfile));

    write_file(sigfile, "", 0);
    assert_int_equal(ls_policy_verify(policy, pub, &err), -EBADMSG);
}

static void test_garbage_sig(void **state) {
    struct ls_error err = {0};
    char garbage[90];
    (void)state;

    sign_ok();
    /* The right length, but not base64. */
    memset(garbage, '!', 86);
    memcpy(garbage + 86, "==\n", 3);
    write_file(sigfile, garbage, 89);
    assert_int_equal(ls_policy_verify(policy, pub, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "not a valid signature"));

    /* Valid base64 of the wrong bytes. */
    memset(garbage, 'A', 86);
    memcpy(garbage + 86, "==\n", 3);
    write_file(sigfile, garbage, 89);
    assert_int_equal(ls_policy_verify(policy, pub, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "signature does not match"));

    /* A valid signature followed by junk. */
    sign_ok();
    size_t len;
    _cleanup_free_ char *sig = read_text(sigfile, &len);
    _cleanup_free_ char *junk = NULL;
    assert_true(asprintf(&junk, "%.88sxyz\n", sig) > 0);
    write_file(sigfile, junk, strlen(junk));
    assert_int_equal(ls_policy_verify(policy, pub, &err), -EBADMSG);

    /* Binary junk. */
    static const unsigned char bin[] = {0x00, 0xff, 0x80, 0x0a};
    write_file(sigfile, bin, sizeof(bin));
    assert_int_equal(ls_policy_verify(policy, pub, &err), -EBADMSG);
}

static void test_crlf_sig_accepted(void **state) {
    struct ls_error err = {0};
    size_t len;
    (void)state;

    sign_ok();
    _cleanup_free_ char *sig = read_text(sigfile, &len);
    _cleanup_free_ char *crlf = NULL;
    assert_true(asprintf(&crlf, "%.88s\r\n", sig) > 0);
    write_file(sigfile, crlf, strlen(crlf));
    assert_int_equal(ls_policy_verify(policy, pub, &err), 0);
}

static void test_wrong_key(void **state) {
    struct ls_error err = {0};
    (void)state;

    sign_ok();
    assert_int_equal(ls_policy_verify(policy, pub2, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "signature does not match"));
    assert_int_equal(ls_policy_verify(policy, pub, &err), 0);
}

static void test_rsa_refused(void **state) {
    struct ls_error err = {0};
    (void)state;

    assert_int_equal(ls_policy_sign(policy, rsa_key, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "RSA"));
    assert_non_null(strstr(err.msg, "Ed25519"));
    assert_int_equal(access(sigfile, F_OK), -1);

    sign_ok();
    assert_int_equal(ls_policy_verify(policy, rsa_pub, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "RSA"));
    assert_non_null(strstr(err.msg, "Ed25519"));
}

static void test_swapped_keys(void **state) {
    struct ls_error err = {0};
    (void)state;

    assert_int_equal(ls_policy_sign(policy, pub, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "public key"));
    sign_ok();
    assert_int_equal(ls_policy_verify(policy, key, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "private key"));
}

static void test_not_a_key(void **state) {
    struct ls_error err = {0};
    char junk[160];
    (void)state;

    snprintf(junk, sizeof(junk), "%s/junk.pem", dir);
    write_file(junk, "hello\n", 6);
    assert_int_equal(ls_policy_sign(policy, junk, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "not a PEM private key"));
    sign_ok();
    assert_int_equal(ls_policy_verify(policy, junk, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "not a PEM public key"));
}

static void test_missing_files(void **state) {
    struct ls_error err = {0};
    char nothing[160];
    (void)state;

    /* No .sig. */
    assert_int_equal(ls_policy_verify(policy, pub, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "is not signed"));
    assert_non_null(strstr(err.msg, ".sig"));

    snprintf(nothing, sizeof(nothing), "%s/nothing.json", dir);
    assert_int_equal(ls_policy_sign(nothing, key, &err), -ENOENT);
    assert_non_null(strstr(err.msg, nothing));
    assert_int_equal(ls_policy_verify(nothing, pub, &err), -ENOENT);
    assert_non_null(strstr(err.msg, nothing));

    snprintf(nothing, sizeof(nothing), "%s/nokey.pem", dir);
    assert_int_equal(ls_policy_sign(policy, nothing, &err), -ENOENT);
    assert_non_null(strstr(err.msg, nothing));
    sign_ok();
    assert_int_equal(ls_policy_verify(policy, nothing, &err), -ENOENT);

    /* A directory is not a policy. */
    assert_int_equal(ls_policy_sign(dir, key, &err), -EISDIR);
}

static void test_unreadable(void **state) {
    struct ls_error err = {0};
    (void)state;

    sign_ok();
    if (geteuid() != 0) {
        assert_int_equal(chmod(policy, 0), 0);
        assert_int_equal(ls_policy_verify(policy, pub, &err), -EACCES);
        assert_non_null(strstr(err.msg, policy));
        assert_int_equal(chmod(policy, 0600), 0);
        return;
    }
    /* Root reads mode-000 files: check as nobody, to whom the 0700 scratch directory
     * is closed. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
            _exit(2);
        int r = ls_policy_verify(policy, pub, &err);
        _exit(r == -EACCES && strstr(err.msg, policy) ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_null_err(void **state) {
    (void)state;
    /* err is optional. */
    assert_int_equal(ls_policy_sign(policy, key, NULL), 0);
    assert_int_equal(ls_policy_verify(policy, pub, NULL), 0);
    write_file(policy, "{}", 2);
    assert_int_equal(ls_policy_verify(policy, pub, NULL), -EBADMSG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_sign_verify, setup),
        cmocka_unit_test_setup(test_no_temp_files_left, setup),
        cmocka_unit_test_setup(test_flipped_byte, setup),
        cmocka_unit_test_setup(test_truncated_sig, setup),
        cmocka_unit_test_setup(test_garbage_sig, setup),
        cmocka_unit_test_setup(test_crlf_sig_accepted, setup),
        cmocka_unit_test_setup(test_wrong_key, setup),
        cmocka_unit_test_setup(test_rsa_refused, setup),
        cmocka_unit_test_setup(test_swapped_keys, setup),
        cmocka_unit_test_setup(test_not_a_key, setup),
        cmocka_unit_test_setup(test_missing_files, setup),
        cmocka_unit_test_setup(test_unreadable, setup),
        cmocka_unit_test_setup(test_null_err, setup),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
