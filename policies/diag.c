/*
 * diag.c - the list of problems found while loading a policy.
 *
 * A loader keeps going after the first mistake so that an author sees every problem
 * of a file at once; each one is a diagnostic with a file, a position and a JSON path.
 * Running out of memory while recording one must not hide that there was an error,
 * so n_errors is counted even when the entry itself cannot be stored.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labstack/macros.h"
#include "labstack/policy.h"

void ls_diags_add(struct ls_diags *d, bool warning, const char *file, int line, int col,
                  const char *path, const char *fmt, ...) {
    struct ls_diag *v, *dg;
    va_list ap;

    if (!d)
        return;
    if (!warning)
        d->n_errors++;
    /* Capacity is implicit: the array grows to the next power of two (at least 4)
     * whenever n reaches one. */
    if ((d->n & (d->n - 1)) == 0 || d->n < 4) {
        v = reallocarray(d->v, d->n < 4 ? 4 : d->n * 2, sizeof(*v));
        if (!v)
            return;
        d->v = v;
    }
    v = d->v;
    dg = &v[d->n++];
    *dg = (struct ls_diag){.line = line, .col = col, .warning = warning};
    dg->file = file ? strdup(file) : NULL;
    dg->path = strdup(path ? path : "");
    va_start(ap, fmt);
    if (vasprintf(&dg->msg, fmt, ap) < 0)
        dg->msg = NULL;
    va_end(ap);
}

char *ls_diag_format(const struct ls_diag *dg) {
    char pos[48] = "";
    char *s = NULL;

    if (!dg)
        return NULL;
    if (dg->line > 0)
        snprintf(pos, sizeof(pos), ":%d:%d", dg->line, dg->col);
    if (asprintf(&s, "%s%s: %s%s%s%s", dg->file ? dg->file : "<policy>", pos,
                 dg->warning ? "warning: " : "", dg->path && dg->path[0] ? dg->path : "",
                 dg->path && dg->path[0] ? ": " : "", dg->msg ? dg->msg : "(out of memory)") < 0)
        return NULL;
    return s;
}

void ls_diags_free(struct ls_diags *d) {
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].file);
        free(d->v[i].path);
        free(d->v[i].msg);
    }
    free(d->v);
    *d = (struct ls_diags){0};
}
