/*
 * policy_internal.h - what the two halves of the policy loader share.
 *
 * policy_parse.c reads one file into a *layer* (its own values, every field checked,
 * every problem reported with position and JSON path); policy.c loads the extends
 * chain, applies each layer on top of its parent's effective policy, checks and hashes
 * the result and gives it a canonical form.  Between them pass the layer, the seccomp
 * rule lists with the origin of each rule (and their overlay), the table of limits and
 * a few name and sorting helpers.
 *
 * Private to the policies library: the public API is include/labstack/policy.h.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "labstack/macros.h"
#include "labstack/policy.h"
#include "labstack/seccomp.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

/* ---- rule lists with origins (policy.c) ----------------------------------------- */

/* Where something was written: file, position and JSON path. */
struct origin {
    char *file;
    char *path;
    int line, col;
};

/* Free o's strings and zero it. */
void origin_done(struct origin *o);

/* Deep copy of src into dst (a NULL file stays NULL, a NULL path becomes "").
 * 0 or -ENOMEM (dst then empty). */
int origin_copy(struct origin *dst, const struct origin *src);

/* Rules (each owning its syscall name), their origins and syscall numbers. */
struct rulelist {
    struct ls_seccomp_rule *v;
    struct origin *o;
    int *nr; /* negative: a name libseccomp knows that is no syscall of this architecture */
    size_t n, cap;
};

/* Free everything l holds and zero it. */
void rulelist_done(struct rulelist *l);

/* Append a copy of rule r (syscall number nr) written at o (copied too).  A rule equal
 * to one already in the list for the same syscall adds nothing.  0 or -ENOMEM. */
int rulelist_add(struct rulelist *l, const struct ls_seccomp_rule *r, int nr,
                 const struct origin *o);

/* lower := lower overlaid with upper, per syscall: an allow or an unconditional rule of
 * upper drops lower's rules for its syscall, upper's argument denies add to them (see
 * the top of policy.c).  0, or -ENOMEM with lower unchanged. */
int rulelist_overlay(struct rulelist *lower, const struct rulelist *upper);

/* ---- policies (policy.c) -------------------------------------------------------- */

/* A new, empty policy with the defaults of docs/policy-guide.md: workspace bound,
 * default_errno EPERM, unknown_errno ENOSYS, the built-in seccomp base.  NULL on
 * allocation failure; free with ls_policy_free(). */
struct ls_policy *policy_new(void);

/* ---- limits, names and sorting (policy_parse.c) ---------------------------------- */

enum limit_kind {
    LIMIT_SIZE,
    LIMIT_DURATION,
    LIMIT_CPUS,
    LIMIT_COUNT
};

/* One limit: its key, where it is in struct ls_policy_limits, how it is written. */
struct limit_def {
    const char *name;
    size_t offset;
    enum limit_kind kind;
    uint64_t max; /* LIMIT_COUNT */
};

#define POLICY_N_LIMITS 9

/* Every limit (POLICY_N_LIMITS of them), sorted by name: the order of the canonical
 * form. */
extern const struct limit_def *const policy_limit_defs;

static inline struct ls_limit *policy_limit_of(struct ls_policy_limits *l,
                                               const struct limit_def *d) {
    return (struct ls_limit *)((char *)l + d->offset);
}

/* "allow", "errno", "kill": an action as the policy format writes it. */
const char *policy_action_name(enum ls_seccomp_action a);

/* "eq", "ne", ..., "masked_eq": an argument comparison as the format writes it. */
const char *policy_op_name(enum ls_seccomp_op op);

/* qsort comparator of struct ls_policy_env_var by name. */
int policy_cmp_env(const void *a, const void *b);

/* Sort the n names of v and drop (free) repeats; *n becomes the new count. */
void policy_sort_unique_strings(char **v, size_t *n);

/* The name a file must declare: its base name without ".json".  Caller frees; NULL on
 * allocation failure. */
char *policy_file_stem(const char *file);

/* ---- the layer: one file's own values (policy_parse.c) --------------------------- */

struct layer {
    struct ls_policy *p; /* own values; only those marked in `has` (and set limits) count */
    struct {
        bool description, clients, ro_binds, workspace, network, uid, base, default_errno,
            unknown_errno;
    } has;
    struct rulelist rules;     /* own seccomp layer: the import, overlaid by allow + rules */
    struct origin base_origin; /* where "base" was written */
    struct origin extends_at;  /* where "extends" was written */
};

/* Free what ly holds (accepts a zeroed layer). */
void layer_done(struct layer *ly);

/*
 * Parse and check the policy file in data (named file in diagnostics) into ly: its own
 * values only, the parent is not read.  dir: where its seccomp import is found ("" or a
 * prefix ending in '/'; NULL: nowhere).  allow_unknown: unknown syscall names are
 * warnings and dropped.  Every problem goes to diags; this file's diagnostics are then
 * sorted by position (an imported profile's keep their order, after them).  Returns 0,
 * -EINVAL when problems were reported (ly->p may still be set, for the extends chain),
 * or -ENOMEM.
 */
int layer_parse(struct ls_diags *diags, const char *file, bool allow_unknown, const char *data,
                size_t len, const char *dir, struct layer *ly);
