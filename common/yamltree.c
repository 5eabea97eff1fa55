/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Builds a located YAML tree from libyaml's event stream (not its document
 * loader), so that every limit is checked as the events arrive: nesting
 * depth, scalar size, and the number of nodes *after* alias expansion. An
 * alias becomes a second pointer to the anchored subtree; each node carries
 * its expanded weight and height, so "billion laughs" is refused as soon as
 * the running total passes EXPCONF_MAX_NODES, in time linear in the file.
 * Every node is on one allocation list, which makes freeing a DAG trivial.
 * An anchor is registered only when its node is complete, so an alias can
 * never point into its own ancestors: the tree has no cycles.
 */
#include "yamltree.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "expconf_diag.h"

#define YT_ANCHOR_BUCKETS 1024
#define YT_PATH_MAX 512
#define YT_TAG_PREFIX "tag:yaml.org,2002:"

struct yt_anchor {
	char *name;
	struct yamltree_node *node;
	struct yt_anchor *next;
};

struct yt_builder {
	struct yamltree *t;
	struct expconf_diags *d;
	const char *text;
	size_t len;
	struct yamltree_node *stack[EXPCONF_MAX_DEPTH];
	char *stack_anchor[EXPCONF_MAX_DEPTH];
	int depth;
	struct yt_anchor *anchors[YT_ANCHOR_BUCKETS];
	size_t expanded; /* nodes so far, aliases counted expanded */
	int documents;
};

static unsigned anchor_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % YT_ANCHOR_BUCKETS;
}

/* The key path of the place being built, for messages ("a.b.3"). */
static void builder_path(const struct yt_builder *b, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < b->depth && used < size; i++) {
		const struct yamltree_node *n = b->stack[i];
		int w;

		/* An open child container is already attached to its parent; the
		 * innermost frame is where the next node will go. */
		size_t pending = i < b->depth - 1 ? 1 : 0;

		if (n->kind == YAMLTREE_MAP) {
			size_t have = n->nkids - pending;

			if (have % 2 == 0)
				break; /* at a key: the path ends at this map */
			w = snprintf(buf + used, size - used, "%s%s", used ? "." : "",
			             n->kids[have - 1]->text);
		} else {
			w = snprintf(buf + used, size - used, "%s%zu", used ? "." : "",
			             n->nkids - pending);
		}
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

__attribute__((format(printf, 4, 5))) static void builder_error(struct yt_builder *b, int line,
                                                                int column, const char *fmt, ...)
{
	char path[YT_PATH_MAX];
	va_list ap;

	builder_path(b, path, sizeof(path));
	va_start(ap, fmt);
	expconf_diag_vadd(b->d, EXPCONF_ERROR, line, column, path, fmt, ap);
	va_end(ap);
}

static struct yamltree_node *node_new(struct yt_builder *b, enum yamltree_kind kind,
                                      const yaml_mark_t *m)
{
	struct yamltree_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->kind = kind;
	n->line = (int)m->line + 1;
	n->column = (int)m->column + 1;
	n->weight = 1;
	n->next_alloc = b->t->all;
	b->t->all = n;
	return n;
}

/* Classify a tag: 0 = fine, 1 = forces a string, -1 = unsupported. */
static int tag_class(const unsigned char *tag, enum yamltree_kind kind)
{
	static const char *const scalar_tags[] = {"int", "float", "bool", "null"};
	const char *s = (const char *)tag;

	if (!s)
		return 0;
	if (strcmp(s, "!") == 0 && kind == YAMLTREE_SCALAR)
		return 1;
	if (strncmp(s, YT_TAG_PREFIX, strlen(YT_TAG_PREFIX)) != 0)
		return -1;
	s += strlen(YT_TAG_PREFIX);
	if (kind == YAMLTREE_MAP)
		return strcmp(s, "map") == 0 ? 0 : -1;
	if (kind == YAMLTREE_SEQ)
		return strcmp(s, "seq") == 0 ? 0 : -1;
	if (strcmp(s, "str") == 0)
		return 1;
	for (size_t i = 0; i < sizeof(scalar_tags) / sizeof(scalar_tags[0]); i++)
		if (strcmp(s, scalar_tags[i]) == 0)
			return 0;
	return -1;
}

/* Count n's expanded weight against the node limit. */
static int count_nodes(struct yt_builder *b, size_t weight, int line, int column)
{
	b->expanded += weight;
	if (b->expanded <= EXPCONF_MAX_NODES)
		return 0;
	builder_error(b, line, column,
	              "too many nodes once aliases are expanded (limit %d); is this an alias "
	              "bomb?",
	              EXPCONF_MAX_NODES);
	return -1;
}

/* Hang n under the open container (or make it the root). */
static int attach(struct yt_builder *b, struct yamltree_node *n)
{
	struct yamltree_node *parent;

	if (b->depth == 0) {
		b->t->root = n;
		return 0;
	}
	parent = b->stack[b->depth - 1];
	if (parent->kind == YAMLTREE_MAP && parent->nkids % 2 == 0 && n->kind != YAMLTREE_SCALAR) {
		builder_error(b, n->line, n->column, "a mapping key must be a string, not a %s",
		              n->kind == YAMLTREE_MAP ? "mapping" : "list");
		return -1;
	}
	if (parent->nkids == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 4;
		struct yamltree_node **kids = realloc(parent->kids, cap * sizeof(*kids));

		if (!kids) {
			builder_error(b, n->line, n->column, "out of memory");
			return -1;
		}
		parent->kids = kids;
		parent->cap = cap;
	}
	parent->kids[parent->nkids++] = n;
	return 0;
}

static int key_cmp(const void *pa, const void *pb)
{
	const struct yamltree_node *const *a = pa, *const *b = pb;
	size_t n = (*a)->len < (*b)->len ? (*a)->len : (*b)->len;
	int c = memcmp((*a)->text, (*b)->text, n);

	if (c)
		return c;
	if ((*a)->len != (*b)->len)
		return (*a)->len < (*b)->len ? -1 : 1;
	/* Same text: file order, so the later one is reported. */
	if ((*a)->line != (*b)->line)
		return (*a)->line < (*b)->line ? -1 : 1;
	return (*a)->column < (*b)->column ? -1 : (*a)->column > (*b)->column;
}

/* Report every repeated key of a finished map (sorted copy: n log n). */
static int check_duplicates(struct yt_builder *b, const struct yamltree_node *map)
{
	size_t nkeys = map->nkids / 2;
	const struct yamltree_node **keys;
	char path[YT_PATH_MAX];
	size_t used;

	if (nkeys < 2)
		return 0;
	keys = malloc(nkeys * sizeof(*keys));
	if (!keys)
		return -1;
	for (size_t i = 0; i < nkeys; i++)
		keys[i] = map->kids[2 * i];
	qsort(keys, nkeys, sizeof(*keys), key_cmp);
	for (size_t i = 1; i < nkeys; i++) {
		size_t first = i - 1;

		if (keys[i]->len != keys[first]->len ||
		    memcmp(keys[i]->text, keys[first]->text, keys[i]->len) != 0)
			continue;
		while (first > 0 && keys[first - 1]->len == keys[i]->len &&
		       memcmp(keys[first - 1]->text, keys[i]->text, keys[i]->len) == 0)
			first--;
		builder_path(b, path, sizeof(path));
		used = strlen(path);
		snprintf(path + used, sizeof(path) - used, "%s%s", used ? "." : "", keys[i]->text);
		expconf_diag_add(b->d, EXPCONF_ERROR, keys[i]->line, keys[i]->column, path,
		                 "duplicate key \"%s\" (first at line %d, column %d)",
		                 keys[i]->text, keys[first]->line, keys[first]->column);
		b->t->had_errors = 1;
	}
	free(keys);
	return 0;
}

static int anchor_add(struct yt_builder *b, const char *name, struct yamltree_node *n)
{
	struct yt_anchor *a = calloc(1, sizeof(*a));
	unsigned h = anchor_hash(name);

	if (!a || !(a->name = strdup(name))) {
		free(a);
		builder_error(b, n->line, n->column, "out of memory");
		return -1;
	}
	/* A redefined anchor shadows the earlier one (newest first in the chain). */
	a->node = n;
	a->next = b->anchors[h];
	b->anchors[h] = a;
	return 0;
}

static struct yamltree_node *anchor_find(const struct yt_builder *b, const char *name)
{
	for (const struct yt_anchor *a = b->anchors[anchor_hash(name)]; a; a = a->next)
		if (strcmp(a->name, name) == 0)
			return a->node;
	return NULL;
}

static void anchors_free(struct yt_builder *b)
{
	for (size_t i = 0; i < YT_ANCHOR_BUCKETS; i++) {
		while (b->anchors[i]) {
			struct yt_anchor *a = b->anchors[i];

			b->anchors[i] = a->next;
			free(a->name);
			free(a);
		}
	}
}

/* Line and column (in characters) of a byte offset, for reader errors. */
static void offset_position(const char *text, size_t len, size_t offset, int *line, int *column)
{
	int l = 1, c = 1;

	if (offset > len)
		offset = len;
	for (size_t i = 0; i < offset; i++) {
		if (text[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)text[i] & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*column = c;
}

static void report_parser_error(struct yt_builder *b, const yaml_parser_t *p)
{
	int line, column;
	const char *problem = p->problem ? p->problem : "unknown error";

	if (p->error == YAML_READER_ERROR) {
		offset_position(b->text, b->len, p->problem_offset, &line, &column);
		if (strstr(problem, "UTF-8") || strstr(problem, "control characters"))
			builder_error(b, line, column,
			              "the file is not valid UTF-8 text (%s at byte offset %zu)",
			              problem, p->problem_offset);
		else
			builder_error(b, line, column, "cannot read the file: %s", problem);
		return;
	}
	if (p->error == YAML_MEMORY_ERROR) {
		builder_error(b, 0, 0, "out of memory while parsing YAML");
		return;
	}
	line = (int)p->problem_mark.line + 1;
	column = (int)p->problem_mark.column + 1;
	if (p->context)
		builder_error(
		    b, line, column, "invalid YAML: %s (%s started at line %d, column %d)", problem,
		    p->context, (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
	else
		builder_error(b, line, column, "invalid YAML: %s", problem);
}

/* Offset of the first control character in s (C0 but TAB and LF in values,
 * DEL, C1 as UTF-8), or -1. *cp gets its code point. YAML escapes ("\e",
 * "\0", "\x07") are how they get in: the file itself may hold none. */
static long control_at(const char *s, size_t len, int value, unsigned *cp)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && !(value && (c == '\t' || c == '\n'))) || c == 0x7f) {
			*cp = c;
			return (long)i;
		}
		if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f) {
			*cp = (unsigned char)s[i + 1];
			return (long)i;
		}
	}
	return -1;
}

/* Refuse control characters in scalar n (a key when is_key). */
static void check_controls(struct yt_builder *b, const struct yamltree_node *n, int is_key)
{
	unsigned cp = 0;
	long at = control_at(n->text, n->len, !is_key, &cp);

	if (at < 0)
		return;
	builder_error(b, n->line, n->column,
	              "%s must not contain control characters (U+%04X at byte %ld)%s",
	              is_key ? "a key" : "a value", cp, at + 1,
	              is_key ? "" : "; only tab and newline are allowed");
	b->t->had_errors = 1;
}

static int on_scalar(struct yt_builder *b, const yaml_event_t *ev)
{
	const yaml_mark_t *m = &ev->start_mark;
	struct yamltree_node *n;
	int tag;

	if (ev->data.scalar.length > EXPCONF_MAX_SCALAR_BYTES) {
		builder_error(b, (int)m->line + 1, (int)m->column + 1,
		              "value too long (%zu bytes, limit %d)", ev->data.scalar.length,
		              EXPCONF_MAX_SCALAR_BYTES);
		return -1;
	}
	if (count_nodes(b, 1, (int)m->line + 1, (int)m->column + 1) < 0)
		return -1;
	n = node_new(b, YAMLTREE_SCALAR, m);
	if (!n)
		goto oom;
	n->text = malloc(ev->data.scalar.length + 1);
	if (!n->text)
		goto oom;
	memcpy(n->text, ev->data.scalar.value, ev->data.scalar.length);
	n->text[ev->data.scalar.length] = '\0';
	n->len = ev->data.scalar.length;
	tag = tag_class(ev->data.scalar.tag, YAMLTREE_SCALAR);
	if (tag < 0) {
		builder_error(b, n->line, n->column, "unsupported YAML tag %s",
		              (const char *)ev->data.scalar.tag);
		b->t->had_errors = 1;
	}
	n->plain =
	    tag == 1 ? 0
	             : (ev->data.scalar.tag ? 1 : ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE);
	check_controls(b, n,
	               b->depth > 0 && b->stack[b->depth - 1]->kind == YAMLTREE_MAP &&
	                   b->stack[b->depth - 1]->nkids % 2 == 0);
	if (attach(b, n) < 0)
		return -1;
	if (ev->data.scalar.anchor)
		return anchor_add(b, (const char *)ev->data.scalar.anchor, n);
	return 0;
oom:
	builder_error(b, (int)m->line + 1, (int)m->column + 1, "out of memory");
	return -1;
}

static int on_start(struct yt_builder *b, const yaml_event_t *ev, enum yamltree_kind kind)
{
	const yaml_mark_t *m = &ev->start_mark;
	const unsigned char *tag, *anchor;
	struct yamltree_node *n;

	if (kind == YAMLTREE_MAP) {
		tag = ev->data.mapping_start.tag;
		anchor = ev->data.mapping_start.anchor;
	} else {
		tag = ev->data.sequence_start.tag;
		anchor = ev->data.sequence_start.anchor;
	}
	if (b->depth >= EXPCONF_MAX_DEPTH) {
		builder_error(b, (int)m->line + 1, (int)m->column + 1,
		              "nested too deeply (limit %d levels)", EXPCONF_MAX_DEPTH);
		return -1;
	}
	if (count_nodes(b, 1, (int)m->line + 1, (int)m->column + 1) < 0)
		return -1;
	n = node_new(b, kind, m);
	if (!n) {
		builder_error(b, (int)m->line + 1, (int)m->column + 1, "out of memory");
		return -1;
	}
	if (tag_class(tag, kind) < 0) {
		builder_error(b, n->line, n->column, "unsupported YAML tag %s", (const char *)tag);
		b->t->had_errors = 1;
	}
	if (attach(b, n) < 0)
		return -1;
	b->stack_anchor[b->depth] = NULL;
	if (anchor && !(b->stack_anchor[b->depth] = strdup((const char *)anchor))) {
		builder_error(b, n->line, n->column, "out of memory");
		return -1;
	}
	b->stack[b->depth++] = n;
	return 0;
}

static int on_end(struct yt_builder *b)
{
	struct yamltree_node *n = b->stack[b->depth - 1];
	char *anchor = b->stack_anchor[b->depth - 1];
	int rv = -1;

	n->height = 1;
	n->weight = 1;
	for (size_t i = 0; i < n->nkids; i++) {
		n->weight += n->kids[i]->weight;
		if (n->kids[i]->height + 1 > n->height)
			n->height = n->kids[i]->height + 1;
	}
	if (n->kind == YAMLTREE_MAP && check_duplicates(b, n) < 0) {
		builder_error(b, n->line, n->column, "out of memory");
		goto fail;
	}
	if (anchor && anchor_add(b, anchor, n) < 0)
		goto fail;
	rv = 0;
fail:
	free(anchor);
	b->stack_anchor[b->depth - 1] = NULL;
	b->depth--;
	return rv;
}

static int on_alias(struct yt_builder *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	int line = (int)ev->start_mark.line + 1, column = (int)ev->start_mark.column + 1;
	struct yamltree_node *n = anchor_find(b, name);

	if (!n) {
		builder_error(b, line, column, "alias *%s refers to no anchor before it", name);
		return -1;
	}
	if (b->depth + n->height > EXPCONF_MAX_DEPTH) {
		builder_error(b, line, column,
		              "alias *%s nests too deeply once expanded (limit %d levels)", name,
		              EXPCONF_MAX_DEPTH);
		return -1;
	}
	if (count_nodes(b, n->weight, line, column) < 0)
		return -1;
	return attach(b, n);
}

static int on_event(struct yt_builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->documents++ == 0)
			return 0;
		builder_error(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
		              "more than one YAML document in the file (only one is allowed)");
		return -1;
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(b, ev, YAMLTREE_SEQ);
	case YAML_MAPPING_START_EVENT:
		return on_start(b, ev, YAMLTREE_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(b);
	case YAML_ALIAS_EVENT:
		return on_alias(b, ev);
	default:
		return 0;
	}
}

struct yamltree *yamltree_parse(const char *text, size_t len, struct expconf_diags *d)
{
	struct yt_builder b;
	yaml_parser_t parser;
	yaml_event_t ev;
	int done = 0, ok = 0;

	memset(&b, 0, sizeof(b));
	b.d = d;
	b.text = text;
	b.len = len;
	b.t = calloc(1, sizeof(*b.t));
	if (!b.t) {
		expconf_diag_add(d, EXPCONF_ERROR, 0, 0, "", "out of memory");
		return NULL;
	}
	if (!yaml_parser_initialize(&parser)) {
		expconf_diag_add(d, EXPCONF_ERROR, 0, 0, "", "out of memory");
		free(b.t);
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			report_parser_error(&b, &parser);
			goto fail;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		if (on_event(&b, &ev) < 0) {
			yaml_event_delete(&ev);
			goto fail;
		}
		yaml_event_delete(&ev);
	}
	ok = 1;
fail:
	for (int i = 0; i < b.depth; i++)
		free(b.stack_anchor[i]);
	anchors_free(&b);
	yaml_parser_delete(&parser);
	if (!ok) {
		yamltree_free(b.t);
		return NULL;
	}
	return b.t;
}

void yamltree_free(struct yamltree *t)
{
	if (!t)
		return;
	while (t->all) {
		struct yamltree_node *n = t->all;

		t->all = n->next_alloc;
		free(n->text);
		free(n->kids);
		free(n);
	}
	free(t);
}

int yamltree_is(const struct yamltree_node *n, const char *s)
{
	return n && n->kind == YAMLTREE_SCALAR && n->len == strlen(s) &&
	       memcmp(n->text, s, n->len) == 0;
}

int yamltree_is_null(const struct yamltree_node *n)
{
	return n && n->kind == YAMLTREE_SCALAR && n->plain &&
	       (n->len == 0 || yamltree_is(n, "~") || yamltree_is(n, "null") ||
	        yamltree_is(n, "Null") || yamltree_is(n, "NULL"));
}

const struct yamltree_node *yamltree_map_get(const struct yamltree_node *map, const char *key)
{
	if (!map || map->kind != YAMLTREE_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->nkids; i += 2)
		if (yamltree_is(map->kids[i], key))
			return map->kids[i + 1];
	return NULL;
}
