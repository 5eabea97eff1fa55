/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Experiment templates: a YAML document as plain JSON, and a template merged
 * under a config (as Determined does: the config wins; maps merge key by
 * key, anything else is replaced). The merged JSON is itself valid YAML, so
 * it goes through expconf_parse like any config.
 */
#include "expconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamltree.h"

static int matches(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(s, *words))
			return 1;
	return 0;
}

/* A plain scalar typed by the YAML core schema; others are strings. */
static json_t *scalar_json(const struct yamltree_node *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"true", "True", "TRUE", NULL};
	static const char *const falses[] = {"false", "False", "FALSE", NULL};
	char *end;

	if (!n->plain || strlen(n->text) != n->len)
		return json_stringn(n->text, n->len);
	if (matches(n->text, nulls))
		return json_null();
	if (matches(n->text, trues))
		return json_true();
	if (matches(n->text, falses))
		return json_false();
	if (strspn(n->text + (*n->text == '-' || *n->text == '+'), "0123456789") ==
	        strlen(n->text + (*n->text == '-' || *n->text == '+')) &&
	    n->len > (size_t)(*n->text == '-' || *n->text == '+')) {
		long long v = strtoll(n->text, &end, 10);
		if (!*end)
			return json_integer(v);
	}
	if (strpbrk(n->text, "0123456789") && !strpbrk(n->text, "xXoO_")) {
		double d = strtod(n->text, &end);
		if (!*end)
			return json_real(d);
	}
	return json_stringn(n->text, n->len);
}

static json_t *node_json(const struct yamltree_node *n, int depth)
{
	json_t *out;
	if (depth > 64)
		return NULL;
	switch (n->kind) {
	case YAMLTREE_SCALAR:
		return scalar_json(n);
	case YAMLTREE_SEQ:
		out = json_array();
		for (size_t i = 0; out && i < n->nkids; i++)
			if (json_array_append_new(out, node_json(n->kids[i], depth + 1))) {
				json_decref(out);
				return NULL;
			}
		return out;
	case YAMLTREE_MAP:
		out = json_object();
		for (size_t i = 0; out && i + 1 < n->nkids; i += 2) {
			const struct yamltree_node *k = n->kids[i];
			if (k->kind != YAMLTREE_SCALAR ||
			    json_object_set_new(out, k->text,
			                        node_json(n->kids[i + 1], depth + 1))) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	}
	return NULL;
}

json_t *expconf_yaml_json(const char *text, size_t len, char *err, size_t errlen)
{
	struct expconf_diags d = {0};
	struct yamltree *t = yamltree_parse(text, len, &d);
	json_t *out = NULL;

	if (!t || t->had_errors) {
		const struct expconf_diag *e = d.count ? &d.items[0] : NULL;
		if (e)
			snprintf(err, errlen, "%d:%d: %s", e->line, e->column, e->message);
		else
			snprintf(err, errlen, "not valid YAML");
	} else if (!t->root || t->root->kind != YAMLTREE_MAP) {
		snprintf(err, errlen, "expected a map of experiment config keys");
	} else if (!(out = node_json(t->root, 0))) {
		snprintf(err, errlen, "map keys must be strings (or out of memory)");
	}
	yamltree_free(t);
	expconf_diags_free(&d);
	return out;
}

json_t *expconf_merge(const json_t *tmpl, const json_t *config)
{
	const char *k;
	json_t *v;

	if (!json_is_object(tmpl) || !json_is_object(config))
		return json_deep_copy(config);
	json_t *out = json_deep_copy(tmpl);
	json_object_foreach ((json_t *)config, k, v) {
		json_t *merged = expconf_merge(json_object_get(out, k), v);
		if (!out || !merged || json_object_set_new(out, k, merged)) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}
