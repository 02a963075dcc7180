/*
 * fuzz_policy.c - libFuzzer target for the policy loader.
 *
 * Each input is a policy file ("fuzz.json", so a valid one names itself "fuzz").  Its
 * `extends` and `seccomp.import` resolve in tests/fuzz/policy-parents, a small set of
 * seed parents (valid ones, a cycle, one with errors, a Docker profile), so that the
 * chain and import code runs too.  The low bit of the last byte chooses
 * allow_unknown_syscalls.  A loaded policy goes through everything that reads it:
 * canonical JSON, the seccomp spec and client checks.  Diagnostics are formatted.
 * ASan/LSan/UBSan turn any memory error, leak or undefined behaviour into a crash.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "labstack/policy.h"

#ifndef FUZZ_PARENTS_DIR
#error "FUZZ_PARENTS_DIR must name the directory of seed parents"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct ls_policy_load_opts opts = {
        .search_dir = FUZZ_PARENTS_DIR,
        .allow_unknown_syscalls = size > 0 && (data[size - 1] & 1),
    };
    struct ls_diags diags = {0};
    struct ls_policy *p = NULL;
    int r;

    r = ls_policy_load_buffer("fuzz.json", (const char *)data, size, &opts, &p, &diags);
    if (r == 0) {
        static const gid_t groups[] = {2000, 3000};
        const struct ls_identity ids[] = {
            {.uid = 1000, .gid = 1000},
            {.uid = 1001, .gid = 5, .groups = groups, .n_groups = 2, .role = "qa"},
            {.is_root = true},
        };
        struct ls_seccomp_spec spec;
        char *json = ls_policy_to_json(p);
        if (!json)
            abort();
        free(json);
        ls_policy_seccomp_spec(p, &spec);
        if (spec.n_rules != p->seccomp.n_rules)
            abort();
        for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
            (void)ls_policy_allows_client(p, &ids[i]);
        if (!ls_policy_allows_client(p, &ids[2]))
            abort(); /* root may use every policy */
        if (diags.n_errors)
            abort(); /* success means no errors */
    } else if (r == -EINVAL && diags.n_errors == 0) {
        abort(); /* a refusal always says why */
    }
    for (size_t i = 0; i < diags.n; i++)
        free(ls_diag_format(&diags.v[i]));
    ls_policy_free(p);
    /* Loading compiles through the per-hash program cache; every distinct valid input
     * would stay in it for the life of the process. */
    ls_policy_cache_clear();
    ls_diags_free(&diags);
    return 0;
}
