/*
 * policy_cmd.c - `labstack policy check|explain|test|diff|sign|verify`.
 *
 * The tools a security team uses on policy files before a supervisor ever loads
 * them: validate (every problem with file:line:col and JSON path), read the
 * effective policy in words, ask what the compiled seccomp filter does with one
 * call, compare two versions for loosening, and sign / verify.  Everything here is
 * local and unprivileged: it links only the pure policy library.  This is a
 * boundary, so it prints what went wrong, once.
 *
 * Exit status: 0 success, 1 a policy is invalid (or a signature does not verify),
 * 2 a usage error.
 */
#include "policy_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/audit.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labstack/error.h"
#include "labstack/macros.h"
#include "labstack/policy.h"
#include "labstack/policy_report.h"
#include "labstack/seccomp.h"

#define EXIT_INVALID 1
#define EXIT_USAGE 2
#define X32_SYSCALL_BIT 0x40000000

static const char usage_text[] =
    "Usage: labstack policy COMMAND [ARGS...]\n"
    "\n"
    "Check, explain, test, compare and sign policy files (see docs/policy-guide.md).\n"
    "\n"
    "Commands:\n"
    "  check FILE... [--allow-unknown]   validate; print every problem as\n"
    "                                    file:line:col: path: message\n"
    "  explain FILE                      the effective policy in words\n"
    "  test FILE --syscall NAME|NR [--arg N=VALUE]... [--arch x86_64|i386|x32]\n"
    "                                    what the policy's seccomp filter does with a call\n"
    "  diff OLD NEW                      what NEW allows or refuses that OLD did not\n"
    "  sign FILE --key KEY.pem           sign FILE (Ed25519), writing FILE.sig\n"
    "  verify FILE --pubkey PUB.pem      check FILE.sig against FILE\n"
    "\n"
    "Run `labstack policy COMMAND --help` for the details of one command.\n"
    "Exit status: 0 success, 1 an invalid policy or signature, 2 a usage error.\n";

static const char check_usage[] =
    "Usage: labstack policy check FILE... [--allow-unknown]\n"
    "\n"
    "Load and validate each policy file the way the supervisor does: every key, every\n"
    "value, `extends` (parents are looked up next to the file) and seccomp `import`,\n"
    "then compile its seccomp program (with labstack's floor) and check that it lets a\n"
    "command start (execve, write, exit_group).  Every problem is printed as\n"
    "  file:line:col: json.path: message\n"
    "and a valid file as \"FILE: valid (NAME version N, sha256 ...)\".\n"
    "\n"
    "Options:\n"
    "  --allow-unknown   syscall names libseccomp does not know are warnings (the rule\n"
    "                    is dropped) instead of errors\n"
    "  --help            show this help\n"
    "\n"
    "Exit status: 0 when every file is valid, 1 otherwise, 2 on a usage error.\n";

static const char explain_usage[] =
    "Usage: labstack policy explain FILE [--allow-unknown]\n"
    "\n"
    "Print the effective policy (extends and imports resolved) in words: name, version,\n"
    "hash, clients, limits, filesystem, network, environment and seccomp -- the allowed\n"
    "syscalls grouped by area, the refused ones with their errno, and every argument\n"
    "rule spelled out.\n"
    "\n"
    "Options:\n"
    "  --allow-unknown   unknown syscall names are warnings instead of errors\n"
    "  --help            show this help\n";

static const char test_usage[] =
    "Usage: labstack policy test FILE --syscall NAME|NR [--arg N=VALUE]... [--arch ARCH]\n"
    "\n"
    "Compile the seccomp program the sandbox would load for the policy (its rules plus\n"
    "labstack's floor), run it in user space on one syscall the way the kernel runs\n"
    "stacked filters, and print the verdict: \"allow\", \"errno EPERM (1)\", \"kill\".\n"
    "\n"
    "Options:\n"
    "  --syscall NAME|NR   the call, by name (resolved for ARCH) or number\n"
    "  --arg N=VALUE       argument N (0..5) of the call; VALUE decimal, 0x hex or\n"
    "                      negative; repeatable; unset arguments are 0\n"
    "  --arch ARCH         x86_64 (default), i386 (int 0x80) or x32; a number given for\n"
    "                      x32 gets the x32 bit (0x40000000) added when it lacks it\n"
    "  --allow-unknown     unknown syscall names in the policy are warnings\n"
    "  --help              show this help\n"
    "\n"
    "Exit status: 0 when a verdict was printed, 1 when the policy is invalid or does not\n"
    "compile, 2 on a usage error (e.g. a syscall name unknown on ARCH).\n";

static const char diff_usage[] =
    "Usage: labstack policy diff OLD NEW [--allow-unknown]\n"
    "\n"
    "Compare two effective policies and print what NEW allows or refuses that OLD did\n"
    "not, one finding per line:\n"
    "  + allows ...            NEW is looser here\n"
    "  - no longer allows ...  NEW is stricter here\n"
    "  ~ changed ...           neither (or both)\n"
    "Syscalls, argument rules, errno values, limits (default and max), binds, the\n"
    "workspace, clients, environment and network are compared.\n"
    "\n"
    "Options:\n"
    "  --allow-unknown   unknown syscall names are warnings instead of errors\n"
    "  --help            show this help\n"
    "\n"
    "Exit status: 0 when the comparison was printed (with or without differences),\n"
    "1 when a policy is invalid, 2 on a usage error.\n";

static const char sign_usage[] =
    "Usage: labstack policy sign FILE --key KEY.pem [--allow-unknown]\n"
    "\n"
    "Validate FILE, then sign its exact bytes with the Ed25519 private key KEY.pem\n"
    "(openssl genpkey -algorithm ed25519 -out KEY.pem) and write the base64 signature\n"
    "to FILE.sig (atomically).  An invalid policy is not signed.  The signature covers\n"
    "FILE only, not the parents it extends or the profiles it imports: sign those too.\n"
    "\n"
    "Options:\n"
    "  --key KEY.pem     the private key (PEM, unencrypted)\n"
    "  --allow-unknown   unknown syscall names are warnings instead of errors\n"
    "  --help            show this help\n";

static const char verify_usage[] =
    "Usage: labstack policy verify FILE --pubkey PUB.pem\n"
    "\n"
    "Check that FILE.sig is an Ed25519 signature of FILE's exact bytes by the key whose\n"
    "public half is PUB.pem (openssl pkey -in KEY.pem -pubout -out PUB.pem).\n"
    "\n"
    "Options:\n"
    "  --pubkey PUB.pem   the public key (PEM)\n"
    "  --help             show this help\n"
    "\n"
    "Exit status: 0 when the signature is valid; 1 when it does not match (the file was\n"
    "changed, or signed with another key), is missing or malformed, or a file cannot be\n"
    "read; 2 on a usage error.\n";

enum {
    OPT_ALLOW_UNKNOWN = 0x100,
    OPT_SYSCALL,
    OPT_ARG,
    OPT_ARCH,
    OPT_KEY,
    OPT_PUBKEY,
    OPT_HELP,
};

/* What the flags of one subcommand said; each subcommand accepts a subset. */
struct flags {
    bool allow_unknown;
    bool help;
    const char *syscall;
    const char *arch;
    const char *key;
    const char *pubkey;
    uint64_t args[6];
    char **pos; /* positional arguments: argv + optind after permutation */
    int n_pos;
};

/* Flags: a bit per option a subcommand takes. */
#define ACCEPT_ALLOW_UNKNOWN (1u << 0)
#define ACCEPT_TEST (1u << 1)
#define ACCEPT_KEY (1u << 2)
#define ACCEPT_PUBKEY (1u << 3)

static int parse_arg_value(const char *s, uint64_t *ret) {
    char *end;
    errno = 0;
    if (s[0] == '-') {
        long long v = strtoll(s, &end, 0);
        if (errno || end == s || *end)
            return -EINVAL;
        *ret = (uint64_t)v;
        return 0;
    }
    if (s[0] == '+' || s[0] == ' ' || s[0] == '\0')
        return -EINVAL;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end)
        return -EINVAL;
    *ret = v;
    return 0;
}

/* Parse the flags of subcommand `cmd` (argv[0]), accepting those in `accept`.
 * Returns 0, or EXIT_USAGE after printing the problem. */
static int parse_flags(const char *cmd, int argc, char **argv, unsigned accept, struct flags *ret) {
    static const struct option options[] = {
        {"allow-unknown", no_argument, NULL, OPT_ALLOW_UNKNOWN},
        {"syscall", required_argument, NULL, OPT_SYSCALL},
        {"arg", required_argument, NULL, OPT_ARG},
        {"arch", required_argument, NULL, OPT_ARCH},
        {"key", required_argument, NULL, OPT_KEY},
        {"pubkey", required_argument, NULL, OPT_PUBKEY},
        {"help", no_argument, NULL, OPT_HELP},
        {0},
    };
    int c;

    *ret = (struct flags){0};
    optind = 0; /* reinitialise getopt, and let it move options after the files */
    opterr = 0;
    int idx = -1;
    while ((c = getopt_long(argc, argv, ":h", options, &idx)) != -1) {
        /* The option as typed, for errors; an option's argument may follow it. */
        const char *flag = argv[optind - 1];
        unsigned need = 0;
        switch (c) {
        case OPT_ALLOW_UNKNOWN:
            need = ACCEPT_ALLOW_UNKNOWN;
            ret->allow_unknown = true;
            break;
        case OPT_SYSCALL:
            need = ACCEPT_TEST;
            ret->syscall = optarg;
            break;
        case OPT_ARCH:
            need = ACCEPT_TEST;
            ret->arch = optarg;
            break;
        case OPT_ARG: {
            need = ACCEPT_TEST;
            char *end;
            errno = 0;
            unsigned long i = strtoul(optarg, &end, 10);
            if (!(optarg[0] >= '0' && optarg[0] <= '9') || errno || *end != '=' || i > 5 ||
                parse_arg_value(end + 1, &ret->args[i]) < 0) {
                fprintf(stderr,
                        "labstack policy %s: --arg %s: expected N=VALUE with N 0..5 and VALUE "
                        "a number (decimal, 0x hex, or negative)\n",
                        cmd, optarg);
                return EXIT_USAGE;
            }
            break;
        }
        case OPT_KEY:
            need = ACCEPT_KEY;
            ret->key = optarg;
            break;
        case OPT_PUBKEY:
            need = ACCEPT_PUBKEY;
            ret->pubkey = optarg;
            break;
        case 'h':
        case OPT_HELP:
            ret->help = true;
            return 0;
        case ':':
            fprintf(stderr, "labstack policy %s: %s needs an argument\n", cmd, flag);
            return EXIT_USAGE;
        default:
            fprintf(stderr, "labstack policy %s: unknown option %s (try --help)\n", cmd, flag);
            return EXIT_USAGE;
        }
        if (!(accept & need) && idx >= 0) {
            fprintf(stderr, "labstack policy %s: --%s does not apply here (try --help)\n", cmd,
                    options[idx].name);
            return EXIT_USAGE;
        }
        idx = -1;
    }
    ret->pos = argv + optind;
    ret->n_pos = argc - optind;
    return 0;
}

static void print_diags(FILE *out, const struct ls_diags *d) {
    for (size_t i = 0; i < d->n; i++) {
        _cleanup_free_ char *line = ls_diag_format(&d->v[i]);
        if (line)
            fprintf(out, "%s\n", line);
        else
            fprintf(out, "%s: %s\n", d->v[i].file ? d->v[i].file : "?",
                    d->v[i].msg ? d->v[i].msg : "(out of memory)");
    }
}

static void policy_freep(struct ls_policy **p) {
    ls_policy_free(*p);
}
#define _cleanup_policy_ _cleanup_(policy_freep)

/* Load a policy, printing its diagnostics (warnings too) to `out`.  Returns 0 with
 * *ret set, or EXIT_INVALID after printing why. */
static int load(const char *cmd, const char *file, bool allow_unknown, FILE *out,
                struct ls_policy **ret) {
    struct ls_policy_load_opts opts = {.allow_unknown_syscalls = allow_unknown};
    struct ls_diags diags = {0};
    struct ls_policy *p = NULL;

    int r = ls_policy_load(file, &opts, &p, &diags);
    print_diags(out, &diags);
    if (r < 0) {
        if (diags.n_errors == 0)
            fprintf(out, "%s: cannot load: %s\n", file, strerror(-r));
        else if (strcmp(cmd, "check") != 0)
            fprintf(stderr, "labstack policy %s: %s is not a valid policy (%zu error%s)\n", cmd,
                    file, diags.n_errors, diags.n_errors == 1 ? "" : "s");
        ls_diags_free(&diags);
        ls_policy_free(p);
        return EXIT_INVALID;
    }
    ls_diags_free(&diags);
    *ret = p;
    return 0;
}

/* Compile the program the sandbox would load: the policy's rules plus labstack's floor,
 * checked to allow what every command needs (ls_policy_program).  The program belongs
 * to the library's cache (ls_policy_cache_clear).  0, or EXIT_INVALID after printing
 * why. */
static int compile(const char *file, const struct ls_policy *p, FILE *out,
                   const struct ls_seccomp_program **ret) {
    struct ls_error err = {0};

    if (ls_policy_program(p, ret, &err) < 0) {
        fprintf(out, "%s: seccomp: %s\n", file, err.msg);
        return EXIT_INVALID;
    }
    return 0;
}

static int cmd_check(int argc, char **argv) {
    struct flags fl;
    int r, status = 0;

    if ((r = parse_flags("check", argc, argv, ACCEPT_ALLOW_UNKNOWN, &fl)) != 0)
        return r;
    if (fl.help) {
        fputs(check_usage, stdout);
        return 0;
    }
    if (fl.n_pos == 0) {
        fputs("labstack policy check: no FILE given\n", stderr);
        fputs(check_usage, stderr);
        return EXIT_USAGE;
    }
    for (int i = 0; i < fl.n_pos; i++) {
        const char *file = fl.pos[i];
        _cleanup_policy_ struct ls_policy *p = NULL;
        const struct ls_seccomp_program *prog = NULL;
        char hex[17];

        if (load("check", file, fl.allow_unknown, stdout, &p) != 0 ||
            compile(file, p, stdout, &prog) != 0) {
            status = EXIT_INVALID;
            continue;
        }
        for (size_t k = 0; k < 8; k++)
            snprintf(hex + 2 * k, 3, "%02x", p->hash[k]);
        printf("%s: valid (%s version %" PRIu64 ", sha256 %s...)\n", file, p->name, p->version,
               hex);
    }
    fflush(stdout);
    return status;
}

static int one_file(const char *cmd, const struct flags *fl, const char *usage) {
    if (fl->n_pos != 1) {
        fprintf(stderr, "labstack policy %s: %s\n", cmd,
                fl->n_pos == 0 ? "no FILE given" : "exactly one FILE, please");
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    return 0;
}

static int print_owned(const char *cmd, char *text) {
    if (!text) {
        fprintf(stderr, "labstack policy %s: out of memory\n", cmd);
        return EXIT_INVALID;
    }
    fputs(text, stdout);
    free(text);
    return 0;
}

static int cmd_explain(int argc, char **argv) {
    _cleanup_policy_ struct ls_policy *p = NULL;
    struct flags fl;
    int r;

    if ((r = parse_flags("explain", argc, argv, ACCEPT_ALLOW_UNKNOWN, &fl)) != 0)
        return r;
    if (fl.help) {
        fputs(explain_usage, stdout);
        return 0;
    }
    if ((r = one_file("explain", &fl, explain_usage)) != 0)
        return r;
    if ((r = load("explain", fl.pos[0], fl.allow_unknown, stderr, &p)) != 0)
        return r;
    return print_owned("explain", ls_policy_explain(p));
}

static int cmd_diff(int argc, char **argv) {
    _cleanup_policy_ struct ls_policy *old = NULL, *new = NULL;
    struct flags fl;
    int r;

    if ((r = parse_flags("diff", argc, argv, ACCEPT_ALLOW_UNKNOWN, &fl)) != 0)
        return r;
    if (fl.help) {
        fputs(diff_usage, stdout);
        return 0;
    }
    if (fl.n_pos != 2) {
        fputs("labstack policy diff: expected two files, OLD and NEW\n", stderr);
        fputs(diff_usage, stderr);
        return EXIT_USAGE;
    }
    r = load("diff", fl.pos[0], fl.allow_unknown, stderr, &old);
    if (load("diff", fl.pos[1], fl.allow_unknown, stderr, &new) != 0 || r != 0)
        return EXIT_INVALID;
    return print_owned("diff", ls_policy_diff(old, new));
}

/* --arch: the AUDIT_ARCH_* value and the libseccomp token for name lookups. */
static int parse_arch(const char *s, uint32_t *ret_audit, uint32_t *ret_token) {
    if (!s || strcmp(s, "x86_64") == 0 || strcmp(s, "amd64") == 0) {
        *ret_audit = AUDIT_ARCH_X86_64;
        *ret_token = SCMP_ARCH_X86_64;
    } else if (strcmp(s, "i386") == 0 || strcmp(s, "x86") == 0) {
        *ret_audit = AUDIT_ARCH_I386;
        *ret_token = SCMP_ARCH_X86;
    } else if (strcmp(s, "x32") == 0) {
        /* x32 calls enter through the x86_64 entry with the x32 bit in the number. */
        *ret_audit = AUDIT_ARCH_X86_64;
        *ret_token = SCMP_ARCH_X32;
    } else
        return -EINVAL;
    return 0;
}

static void print_verdict(const struct ls_verdict *v) {
    char name[64];
    switch (v->kind) {
    case LS_VERDICT_ALLOW:
        puts("allow");
        return;
    case LS_VERDICT_ERRNO: {
        const char *e = strerrorname_np(v->errno_ret);
        if (e)
            snprintf(name, sizeof(name), "%s (%d)", e, v->errno_ret);
        else
            snprintf(name, sizeof(name), "%d", v->errno_ret);
        printf("errno %s\n", name);
        return;
    }
    case LS_VERDICT_KILL:
        puts("kill");
        return;
    case LS_VERDICT_OTHER:
        break;
    }
    printf("other 0x%08" PRIx32 "\n", v->raw);
}

static int cmd_test(int argc, char **argv) {
    _cleanup_policy_ struct ls_policy *p = NULL;
    const struct ls_seccomp_program *prog = NULL;
    struct ls_verdict v;
    struct flags fl;
    uint32_t audit_arch, token;
    int r, nr;

    if ((r = parse_flags("test", argc, argv, ACCEPT_ALLOW_UNKNOWN | ACCEPT_TEST, &fl)) != 0)
        return r;
    if (fl.help) {
        fputs(test_usage, stdout);
        return 0;
    }
    if ((r = one_file("test", &fl, test_usage)) != 0)
        return r;
    if (!fl.syscall) {
        fputs("labstack policy test: --syscall NAME|NR is required\n", stderr);
        return EXIT_USAGE;
    }
    if (parse_arch(fl.arch, &audit_arch, &token) < 0) {
        fprintf(stderr, "labstack policy test: --arch %s: expected x86_64, i386 or x32\n", fl.arch);
        return EXIT_USAGE;
    }
    if (fl.syscall[0] >= '0' && fl.syscall[0] <= '9') {
        uint64_t n;
        if (parse_arg_value(fl.syscall, &n) < 0 || n > INT32_MAX) {
            fprintf(stderr, "labstack policy test: --syscall %s: not a syscall number\n",
                    fl.syscall);
            return EXIT_USAGE;
        }
        nr = (int)n;
        if (token == SCMP_ARCH_X32)
            nr |= X32_SYSCALL_BIT;
    } else {
        nr = seccomp_syscall_resolve_name_arch(token, fl.syscall);
        if (nr < 0) {
            fprintf(stderr, "labstack policy test: --syscall %s: no such syscall on %s\n",
                    fl.syscall, fl.arch ? fl.arch : "x86_64");
            return EXIT_USAGE;
        }
    }

    if ((r = load("test", fl.pos[0], fl.allow_unknown, stderr, &p)) != 0)
        return r;
    if ((r = compile(fl.pos[0], p, stderr, &prog)) != 0)
        return r;
    r = ls_seccomp_eval(prog, nr, fl.args, audit_arch, &v);
    if (r < 0) {
        fprintf(stderr, "labstack policy test: evaluating the filter failed: %s\n", strerror(-r));
        return EXIT_INVALID;
    }
    print_verdict(&v);
    return 0;
}

static int cmd_sign(int argc, char **argv) {
    _cleanup_policy_ struct ls_policy *p = NULL;
    struct ls_error err = {0};
    struct flags fl;
    int r;

    if ((r = parse_flags("sign", argc, argv, ACCEPT_ALLOW_UNKNOWN | ACCEPT_KEY, &fl)) != 0)
        return r;
    if (fl.help) {
        fputs(sign_usage, stdout);
        return 0;
    }
    if ((r = one_file("sign", &fl, sign_usage)) != 0)
        return r;
    if (!fl.key) {
        fputs("labstack policy sign: --key KEY.pem is required\n", stderr);
        return EXIT_USAGE;
    }
    /* Only a valid policy is signed: a signature is a reviewer's "this is what we meant". */
    const struct ls_seccomp_program *prog;
    if ((r = load("sign", fl.pos[0], fl.allow_unknown, stderr, &p)) != 0 ||
        (r = compile(fl.pos[0], p, stderr, &prog)) != 0) {
        fprintf(stderr, "labstack policy sign: %s not signed\n", fl.pos[0]);
        return r;
    }
    if (ls_policy_sign(fl.pos[0], fl.key, &err) < 0) {
        fprintf(stderr, "labstack policy sign: %s\n", err.msg);
        return EXIT_INVALID;
    }
    printf("signed %s: %s.sig\n", fl.pos[0], fl.pos[0]);
    return 0;
}

static int cmd_verify(int argc, char **argv) {
    struct ls_error err = {0};
    struct flags fl;
    int r;

    if ((r = parse_flags("verify", argc, argv, ACCEPT_PUBKEY, &fl)) != 0)
        return r;
    if (fl.help) {
        fputs(verify_usage, stdout);
        return 0;
    }
    if ((r = one_file("verify", &fl, verify_usage)) != 0)
        return r;
    if (!fl.pubkey) {
        fputs("labstack policy verify: --pubkey PUB.pem is required\n", stderr);
        return EXIT_USAGE;
    }
    if (ls_policy_verify(fl.pos[0], fl.pubkey, &err) < 0) {
        fprintf(stderr, "labstack policy verify: %s\n", err.msg);
        return EXIT_INVALID;
    }
    printf("%s: signature valid (%s)\n", fl.pos[0], fl.pubkey);
    return 0;
}

int policy_cmd_main(int argc, char **argv) {
    static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
    } cmds[] = {
        {"check", cmd_check}, {"explain", cmd_explain}, {"test", cmd_test},
        {"diff", cmd_diff},   {"sign", cmd_sign},       {"verify", cmd_verify},
    };

    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    for (size_t i = 0; i < ELEMENTSOF(cmds); i++)
        if (strcmp(argv[1], cmds[i].name) == 0) {
            int status = cmds[i].run(argc - 1, argv + 1);
            ls_policy_cache_clear(); /* the programs compile() left in the cache */
            return status;
        }
    fprintf(stderr, "labstack policy: unknown command \"%s\" (try `labstack policy --help`)\n",
            argv[1]);
    return EXIT_USAGE;
}
