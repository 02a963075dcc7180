/*
 * jsonpos.h - where each value and key of a JSON document is, by line and column.
 *
 * jansson parses policies but keeps no positions except for syntax errors.  This
 * scanner reads the same bytes a second time and builds a shadow tree with the
 * position of every value (and of every object member's key), so that a diagnostic
 * can say "qa.json:14:9: limits.memory.max: ...".  It also marks repeated keys in an
 * object, which jansson would silently merge (last one wins).
 *
 * Positions are 1-based; columns count characters (UTF-8 code points, a tab is one),
 * the same way jansson counts them in its error positions.
 *
 * JSON paths name a value from the root: `limits.memory.max`, `seccomp.rules[3].op`.
 * A key that is not made of [A-Za-z0-9_-] is written quoted in brackets:
 * `environment.set["A.B"]`.  The root is the empty path "".
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum jsonpos_type {
    JSONPOS_SCALAR,
    JSONPOS_OBJECT,
    JSONPOS_ARRAY
};

struct jsonpos_node {
    enum jsonpos_type type;
    int line, col;                    /* the value's first character */
    int key_line, key_col;            /* the member's key (its opening quote); 0 if none */
    char *key;                        /* object member: the decoded key; NULL otherwise */
    const struct jsonpos_node *first; /* a repeated key: its first occurrence, else NULL */
    struct jsonpos_node *kids;        /* members (in source order) or elements */
    size_t n_kids;
};

struct jsonpos {
    struct jsonpos_node root;
};

/* Scan data (which jansson should already have accepted).  Returns 0 with *ret set,
 * -EINVAL when data is not JSON this scanner understands, or -ENOMEM. */
int jsonpos_scan(const char *data, size_t len, struct jsonpos **ret);

/* Free; accepts NULL; returns NULL. */
struct jsonpos *jsonpos_free(struct jsonpos *pos);

/* The member of object node `obj` named key (its last occurrence, which is the value
 * jansson keeps), or NULL.  Accepts a NULL or non-object node. */
const struct jsonpos_node *jsonpos_member(const struct jsonpos_node *obj, const char *key);

/* Element i of an array node, or NULL.  Accepts a NULL or non-array node. */
const struct jsonpos_node *jsonpos_element(const struct jsonpos_node *arr, size_t i);

/* The node at a JSON path (syntax above), or NULL when there is none. */
const struct jsonpos_node *jsonpos_lookup(const struct jsonpos *pos, const char *path);

/* Paths: parent + ".key" (or + "[\"key\"]" for other keys), and parent + "[i]".
 * parent may be "" for the root.  Return a new string, or NULL on ENOMEM. */
char *jsonpos_path_key(const char *parent, const char *key);
char *jsonpos_path_index(const char *parent, size_t i);
