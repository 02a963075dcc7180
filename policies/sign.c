/*
 * sign.c - Ed25519 signatures of policy files, so that a supervisor can refuse a
 * policy the security team did not sign.
 *
 * The signature covers the exact bytes of the file (no canonicalisation: what was
 * reviewed is what is signed) and is stored next to it as `<file>.sig`, one line of
 * base64 (88 characters for the 64-byte signature) and a newline.  Keys are PEM files
 * as `openssl genpkey -algorithm ed25519` writes them; anything but Ed25519 is refused,
 * so a weak or mismatched key type can never be used by accident.
 *
 * OpenSSL's error queue is drained on every path, so a failure here never shows up
 * later as a stale error in an unrelated OpenSSL call of the same thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "labstack/error.h"
#include "labstack/fileio.h"
#include "labstack/macros.h"
#include "labstack/policy.h"

#define ED25519_SIG_LEN 64
#define SIG_B64_LEN 88              /* 4 * ceil(64 / 3) */
#define POLICY_FILE_MAX (16u << 20) /* a policy is a few KiB; refuse anything absurd */
#define KEY_FILE_MAX (64u << 10)
#define SIG_FILE_MAX 4096

static void pkey_freep(EVP_PKEY **p) {
    EVP_PKEY_free(*p);
}
static void md_ctx_freep(EVP_MD_CTX **p) {
    EVP_MD_CTX_free(*p);
}
static void bio_freep(BIO **p) {
    BIO_free(*p);
}
#define _cleanup_pkey_ _cleanup_(pkey_freep)
#define _cleanup_md_ctx_ _cleanup_(md_ctx_freep)
#define _cleanup_bio_ _cleanup_(bio_freep)

/* Key material is wiped before it is freed. */
struct secret {
    char *buf;
    size_t len;
};
static void secret_freep(struct secret *s) {
    if (s->buf) {
        OPENSSL_cleanse(s->buf, s->len);
        free(s->buf);
    }
}

/* Like ls_error_set, but without ": <strerror>" appended: for errors whose message
 * already says everything ("signature does not match" reads badly with ": Bad
 * message" after it).  Returns -code. */
static int fail(struct ls_error *err, int code, const char *step, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct ls_error *err, int code, const char *step, const char *fmt, ...) {
    if (err) {
        va_list ap;
        err->code = code;
        ls_strlcpy(err->step, step, sizeof(err->step));
        va_start(ap, fmt);
        if (vsnprintf(err->msg, sizeof(err->msg), fmt, ap) < 0)
            err->msg[0] = '\0';
        va_end(ap);
    }
    ERR_clear_error();
    return -code;
}

/* The reason of the newest OpenSSL error, for messages; clears the queue. */
static const char *ossl_reason(char *buf, size_t size) {
    unsigned long e = ERR_peek_last_error();
    if (e == 0)
        ls_strlcpy(buf, "unknown OpenSSL error", size);
    else
        ERR_error_string_n(e, buf, size);
    ERR_clear_error();
    return buf;
}




/* Does a NUL-terminated PEM buffer hold a private key (of any kind)? */
static bool pem_is_private(const char *pem) {
    return strstr(pem, "PRIVATE KEY-----") != NULL;
}

/* A passphrase callback that refuses: an encrypted key must not make the library
 * prompt on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *userdata) {
    (void)buf, (void)size, (void)rwflag, (void)userdata;
    return -1;
}

/* Load a PEM key file and check it is Ed25519.  private: a private key (sign) or a
 * public key (verify). */
static int load_key(const char *path, bool private, const char *step, EVP_PKEY **ret,
                    struct ls_error *err) {
    _cleanup_(secret_freep) struct secret pem = {0};
    _cleanup_bio_ BIO *bio = NULL;
    _cleanup_pkey_ EVP_PKEY *pkey = NULL;
    char reason[256];
    int r;

    r = ls_read_file(path, KEY_FILE_MAX, &pem.buf, &pem.len);
    if (r < 0)
        return ls_error_set(err, -r, step, "%s key %s", private ? "private" : "public", path);
    if (!private && pem_is_private(pem.buf))
        return fail(err, EINVAL, step,
                    "%s holds a private key; verify with the public key (openssl pkey -in %s "
                    "-pubout)",
                    path, path);
    if (private && !pem_is_private(pem.buf) && strstr(pem.buf, "PUBLIC KEY-----"))
        return fail(err, EINVAL, step, "%s holds a public key; signing needs the private key",
                    path);

    if (private && (strstr(pem.buf, "ENCRYPTED PRIVATE KEY-----") ||
                    strstr(pem.buf, "Proc-Type: 4,ENCRYPTED")))
        return fail(err, EINVAL, step,
                    "%s is encrypted; signing needs an unencrypted key (nothing here asks for "
                    "a passphrase)",
                    path);

    bio = BIO_new_mem_buf(pem.buf, (int)pem.len);
    if (!bio)
        return fail(err, ENOMEM, step, "%s: out of memory", path);
    pkey = private ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)
                   : PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
    if (!pkey)
        return fail(err, EINVAL, step, "%s: not a PEM %s key: %s", path,
                    private ? "private" : "public", ossl_reason(reason, sizeof(reason)));
    if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
        const char *type = EVP_PKEY_get0_type_name(pkey);
        return fail(err, EINVAL, step,
                    "%s: an %s key; policies are signed with Ed25519 keys only (openssl genpkey "
                    "-algorithm ed25519)",
                    path, type ? type : "unknown");
    }
    *ret = TAKE_PTR(pkey);
    return 0;
}

static char *sig_path(const char *file) {
    char *p = NULL;
    return asprintf(&p, "%s.sig", file) < 0 ? NULL : p;
}

int ls_policy_sign(const char *file, const char *key_pem, struct ls_error *err) {
    _cleanup_pkey_ EVP_PKEY *pkey = NULL;
    _cleanup_md_ctx_ EVP_MD_CTX *ctx = NULL;
    _cleanup_free_ char *data = NULL, *sigfile = NULL;
    unsigned char sig[ED25519_SIG_LEN];
    char b64[SIG_B64_LEN + 2]; /* EVP_EncodeBlock's NUL, then room for the newline */
    size_t len, sig_len = sizeof(sig);
    char reason[256];
    int r;

    ERR_clear_error();
    r = ls_read_file(file, POLICY_FILE_MAX, &data, &len);
    if (r < 0)
        return ls_error_set(err, -r, "sign", "read %s", file);
    r = load_key(key_pem, true, "sign", &pkey, err);
    if (r < 0)
        return r;

    /* Ed25519 is "pure": no digest is named, the whole message goes in one call. */
    ctx = EVP_MD_CTX_new();
    if (!ctx)
        return fail(err, ENOMEM, "sign", "sign %s: out of memory", file);
    if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) != 1 ||
        EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)data, len) != 1 ||
        sig_len != ED25519_SIG_LEN)
        return fail(err, EIO, "sign", "sign %s with %s: %s", file, key_pem,
                    ossl_reason(reason, sizeof(reason)));

    if (EVP_EncodeBlock((unsigned char *)b64, sig, (int)sig_len) != SIG_B64_LEN)
        return fail(err, EIO, "sign", "sign %s: base64 encoding failed", file);
    b64[SIG_B64_LEN] = '\n';
    b64[SIG_B64_LEN + 1] = '\0';

    sigfile = sig_path(file);
    if (!sigfile)
        return fail(err, ENOMEM, "sign", "sign %s: out of memory", file);
    r = ls_write_file_atomic(sigfile, b64, SIG_B64_LEN + 1, 0644);
    if (r < 0)
        return ls_error_set(err, -r, "sign", "write %s", sigfile);
    return 0;
}

static bool is_b64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* Decode the contents of a .sig file strictly: exactly 88 base64 characters ending in
 * "==" (64 bytes), optionally followed by line-ending whitespace, nothing else. */
static bool decode_sig(const char *text, size_t len, unsigned char out[ED25519_SIG_LEN]) {
    unsigned char buf[SIG_B64_LEN];

    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ' ||
                       text[len - 1] == '\t'))
        len--;
    if (len != SIG_B64_LEN || text[SIG_B64_LEN - 1] != '=' || text[SIG_B64_LEN - 2] != '=')
        return false;
    for (size_t i = 0; i < SIG_B64_LEN - 2; i++)
        if (!is_b64_char(text[i]))
            return false;
    /* 88 characters decode to 66 bytes of which the last two are the padding's. */
    if (EVP_DecodeBlock(buf, (const unsigned char *)text, SIG_B64_LEN) != 66)
        return false;
    memcpy(out, buf, ED25519_SIG_LEN);
    return true;
}

int ls_policy_verify(const char *file, const char *pubkey_pem, struct ls_error *err) {
    _cleanup_pkey_ EVP_PKEY *pkey = NULL;
    _cleanup_md_ctx_ EVP_MD_CTX *ctx = NULL;
    _cleanup_free_ char *data = NULL, *sigfile = NULL, *sigtext = NULL;
    unsigned char sig[ED25519_SIG_LEN];
    size_t len, sig_len;
    char reason[256];
    int r;

    ERR_clear_error();
    r = ls_read_file(file, POLICY_FILE_MAX, &data, &len);
    if (r < 0)
        return ls_error_set(err, -r, "verify", "read %s", file);
    sigfile = sig_path(file);
    if (!sigfile)
        return fail(err, ENOMEM, "verify", "verify %s: out of memory", file);
    r = ls_read_file(sigfile, SIG_FILE_MAX, &sigtext, &sig_len);
    if (r == -ENOENT)
        return fail(err, ENOENT, "verify", "%s is not signed: %s does not exist", file, sigfile);
    if (r == -EFBIG)
        return fail(err, EBADMSG, "verify", "%s: not a signature (too large)", sigfile);
    if (r < 0)
        return ls_error_set(err, -r, "verify", "read %s", sigfile);
    if (!decode_sig(sigtext, sig_len, sig))
        return fail(err, EBADMSG, "verify",
                    "%s: not a valid signature (expected one line of %d base64 characters)",
                    sigfile, SIG_B64_LEN);
    r = load_key(pubkey_pem, false, "verify", &pkey, err);
    if (r < 0)
        return r;

    ctx = EVP_MD_CTX_new();
    if (!ctx)
        return fail(err, ENOMEM, "verify", "verify %s: out of memory", file);
    if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1)
        return fail(err, EIO, "verify", "verify %s with %s: %s", file, pubkey_pem,
                    ossl_reason(reason, sizeof(reason)));
    r = EVP_DigestVerify(ctx, sig, sizeof(sig), (const unsigned char *)data, len);
    if (r == 1) {
        ERR_clear_error();
        return 0;
    }
    if (r == 0)
        return fail(err, EBADMSG, "verify",
                    "%s: signature does not match (the file or %s was changed after signing, "
                    "or it was signed with another key than %s)",
                    file, sigfile, pubkey_pem);
    return fail(err, EIO, "verify", "verify %s with %s: %s", file, pubkey_pem,
                ossl_reason(reason, sizeof(reason)));
}
