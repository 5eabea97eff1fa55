/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A YAML document as a tree of located nodes (internal to expconf). Aliases
 * are shared subtrees, never copies; every node records how many nodes it
 * stands for once aliases are expanded, so the limits hold after expansion.
 */
#ifndef DET_YAMLTREE_H
#define DET_YAMLTREE_H

#include <stddef.h>

#include "expconf.h"

enum yamltree_kind { YAMLTREE_SCALAR, YAMLTREE_SEQ, YAMLTREE_MAP };

struct yamltree_node {
	enum yamltree_kind kind;
	int line;   /* 1-based */
	int column; /* 1-based */
	int plain;  /* scalar: untagged and unquoted, so typed by the YAML core schema */
	char *text; /* scalar: its bytes, NUL-terminated (may hold NULs) */
	size_t len;
	struct yamltree_node **kids; /* seq: items; map: key, value, key, value ... */
	size_t nkids;
	size_t cap;
	size_t weight; /* nodes in the subtree after alias expansion, self included */
	int height;    /* nesting levels of maps/lists in the subtree (scalar: 0) */
	struct yamltree_node *next_alloc;
};

struct yamltree {
	struct yamltree_node *root; /* NULL for an empty document */
	struct yamltree_node *all;  /* every node, for freeing */
	int had_errors;             /* non-fatal errors (duplicate keys) were reported */
};

/* Parse text (UTF-8, len bytes) into a tree. Errors go to d; a syntax error or
 * a limit stops the parse and returns NULL. */
struct yamltree *yamltree_parse(const char *text, size_t len, struct expconf_diags *d);

/* Free a tree (NULL is fine). */
void yamltree_free(struct yamltree *t);

/* The value under key in map (first one), or NULL. */
const struct yamltree_node *yamltree_map_get(const struct yamltree_node *map, const char *key);

/* Whether scalar node n is exactly the string s. */
int yamltree_is(const struct yamltree_node *n, const char *s);

/* Whether n is a plain scalar meaning null (~, null, empty). */
int yamltree_is_null(const struct yamltree_node *n);

#endif
