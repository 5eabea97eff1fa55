/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hyperparameter spaces: validation, random sampling, grid enumeration.
 *
 * Data structure: the JSON tree is compiled once into a tree of hp_node with
 * the children of every map sorted by name. Sampling and grid enumeration both
 * walk that tree depth first in name order, so a trial's values never depend
 * on the key order of the YAML file or on jansson's hash order.
 * Non-obvious decision: the grid is a mixed-radix number over the leaves in
 * that depth-first order with the LAST leaf varying fastest; grid point i is
 * computed directly from i (no enumeration), so it is pure in i.
 */
#include "hparams.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum hp_type { HP_CONST, HP_INT, HP_DOUBLE, HP_LOG, HP_CATEGORICAL, HP_OBJECT };

struct hp_node {
	enum hp_type type;
	const char *name; /* borrowed from the owning struct hparams' JSON copy */
	int64_t imin, imax;
	double dmin, dmax, base;
	int64_t count; /* grid values of this leaf (1 for const) */
	json_t *val;   /* const value or categorical list (borrowed) */
	size_t nchildren;
	struct hp_node *children;
};

struct hparams {
	json_t *json; /* our own deep copy: names and values point into it */
	struct hp_node root;
	struct hp_node **leaves; /* depth-first order, for the grid */
	size_t nleaves;
	int grid_size;
};

struct hp_build {
	char *err;
	size_t errlen;
	int for_grid;
	char path[512];
};

static void hp_fail(struct hp_build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void hp_fail(struct hp_build *b, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (b->err && b->errlen)
		snprintf(b->err, b->errlen, "%s: %s", b->path, msg);
}

static int hp_get_int(struct hp_build *b, const json_t *obj, const char *key, int64_t *out)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v)) {
		hp_fail(b, "%s must be an integer", key);
		return -1;
	}
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static int hp_get_double(struct hp_build *b, const json_t *obj, const char *key, double *out)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_number(v) || !isfinite(json_number_value(v))) {
		hp_fail(b, "%s must be a number", key);
		return -1;
	}
	*out = json_number_value(v);
	return 0;
}

/* count: optional elsewhere, required for the grid, always >= 1 when given. */
static int hp_get_count(struct hp_build *b, const json_t *obj, int64_t *count)
{
	const json_t *v = json_object_get(obj, "count");

	*count = 1;
	if (!v || json_is_null(v)) {
		if (b->for_grid) {
			hp_fail(b, "grid search needs a count");
			return -1;
		}
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > HPARAMS_MAX_GRID_POINTS) {
		hp_fail(b, "count must be an integer from 1 to %d", HPARAMS_MAX_GRID_POINTS);
		return -1;
	}
	*count = (int64_t)json_integer_value(v);
	return 0;
}

static int hp_compile(struct hp_build *b, const json_t *spec, struct hp_node *node, int depth);

static int hp_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hp_node *)a)->name, ((const struct hp_node *)b)->name);
}

/* A map of name -> spec: children sorted by name. */
static int hp_compile_map(struct hp_build *b, const json_t *map, struct hp_node *node, int depth)
{
	size_t n = json_object_size(map), i = 0, plen = strlen(b->path);
	const char *key;
	json_t *child;

	node->type = HP_OBJECT;
	node->count = 1;
	if (depth > HPARAMS_MAX_DEPTH) {
		hp_fail(b, "nested deeper than %d levels", HPARAMS_MAX_DEPTH);
		return -1;
	}
	if (n == 0)
		return 0;
	node->children = calloc(n, sizeof(*node->children));
	if (!node->children) {
		hp_fail(b, "out of memory");
		return -1;
	}
	node->nchildren = n;
	json_object_foreach ((json_t *)map, key, child) {
		int w = snprintf(b->path + plen, sizeof(b->path) - plen, ".%s", key);
		if (w < 0 || (size_t)w >= sizeof(b->path) - plen) {
			b->path[plen] = '\0';
			hp_fail(b, "key path too long");
			return -1;
		}
		node->children[i].name = key;
		if (hp_compile(b, child, &node->children[i], depth + 1) < 0)
			return -1;
		b->path[plen] = '\0';
		i++;
	}
	qsort(node->children, n, sizeof(*node->children), hp_name_cmp);
	return 0;
}

static int hp_compile_int(struct hp_build *b, const json_t *spec, struct hp_node *node)
{
	uint64_t span;

	if (hp_get_int(b, spec, "minval", &node->imin) < 0 ||
	    hp_get_int(b, spec, "maxval", &node->imax) < 0 ||
	    hp_get_count(b, spec, &node->count) < 0)
		return -1;
	if (node->imin > node->imax) {
		hp_fail(b, "minval %lld is greater than maxval %lld", (long long)node->imin,
		        (long long)node->imax);
		return -1;
	}
	/* Grid: at most one value per integer of the range. */
	span = (uint64_t)node->imax - (uint64_t)node->imin;
	if (span < UINT64_MAX && (uint64_t)node->count > span + 1)
		node->count = (int64_t)(span + 1);
	return 0;
}

static int hp_compile_real(struct hp_build *b, const json_t *spec, struct hp_node *node)
{
	if (hp_get_double(b, spec, "minval", &node->dmin) < 0 ||
	    hp_get_double(b, spec, "maxval", &node->dmax) < 0 ||
	    hp_get_count(b, spec, &node->count) < 0)
		return -1;
	if (node->dmin > node->dmax) {
		hp_fail(b, "minval %g is greater than maxval %g", node->dmin, node->dmax);
		return -1;
	}
	if (!isfinite(node->dmax - node->dmin)) {
		hp_fail(b, "range from minval to maxval is too large");
		return -1;
	}
	if (node->type != HP_LOG)
		return 0;
	if (hp_get_double(b, spec, "base", &node->base) < 0)
		return -1;
	if (!(node->base > 0.0)) {
		hp_fail(b, "base must be positive");
		return -1;
	}
	if (!isfinite(pow(node->base, node->dmin)) || !isfinite(pow(node->base, node->dmax))) {
		hp_fail(b, "base^minval or base^maxval is not a finite number");
		return -1;
	}
	return 0;
}

static int hp_compile(struct hp_build *b, const json_t *spec, struct hp_node *node, int depth)
{
	const char *type;

	if (!json_is_object(spec)) {
		hp_fail(b, "must be an object with a type");
		return -1;
	}
	type = json_string_value(json_object_get(spec, "type"));
	if (!type) {
		hp_fail(b, "type must be a string");
		return -1;
	}
	node->count = 1;
	if (strcmp(type, "const") == 0) {
		node->type = HP_CONST;
		node->val = json_object_get(spec, "val");
		if (!node->val) {
			hp_fail(b, "const needs val");
			return -1;
		}
		return 0;
	}
	if (strcmp(type, "int") == 0) {
		node->type = HP_INT;
		return hp_compile_int(b, spec, node);
	}
	if (strcmp(type, "double") == 0 || strcmp(type, "log") == 0) {
		node->type = strcmp(type, "log") == 0 ? HP_LOG : HP_DOUBLE;
		return hp_compile_real(b, spec, node);
	}
	if (strcmp(type, "categorical") == 0) {
		node->type = HP_CATEGORICAL;
		node->val = json_object_get(spec, "vals");
		if (!json_is_array(node->val) || json_array_size(node->val) == 0) {
			hp_fail(b, "categorical vals must be a non-empty list");
			return -1;
		}
		node->count = (int64_t)json_array_size(node->val);
		return 0;
	}
	if (strcmp(type, "object") == 0) {
		const json_t *vals = json_object_get(spec, "vals");

		if (!json_is_object(vals)) {
			hp_fail(b, "object vals must be a map");
			return -1;
		}
		return hp_compile_map(b, vals, node, depth);
	}
	hp_fail(b, "unknown hyperparameter type \"%.40s\"", type);
	return -1;
}

static void hp_node_free(struct hp_node *node)
{
	for (size_t i = 0; i < node->nchildren; i++)
		hp_node_free(&node->children[i]);
	free(node->children);
}

void hparams_free(struct hparams *hp)
{
	if (!hp)
		return;
	hp_node_free(&hp->root);
	free(hp->leaves);
	json_decref(hp->json);
	free(hp);
}

static size_t hp_count_leaves(const struct hp_node *node)
{
	size_t n = 0;

	if (node->type != HP_OBJECT)
		return 1;
	for (size_t i = 0; i < node->nchildren; i++)
		n += hp_count_leaves(&node->children[i]);
	return n;
}

static void hp_collect_leaves(struct hp_node *node, struct hparams *hp)
{
	if (node->type != HP_OBJECT) {
		hp->leaves[hp->nleaves++] = node;
		return;
	}
	for (size_t i = 0; i < node->nchildren; i++)
		hp_collect_leaves(&node->children[i], hp);
}

static int hp_grid_index(struct hparams *hp, struct hp_build *b)
{
	size_t n = hp_count_leaves(&hp->root);
	int64_t size = 1;

	hp->leaves = calloc(n ? n : 1, sizeof(*hp->leaves));
	if (!hp->leaves) {
		hp_fail(b, "out of memory");
		return -1;
	}
	hp_collect_leaves(&hp->root, hp);
	for (size_t i = 0; i < hp->nleaves; i++) {
		/* size <= HPARAMS_MAX_GRID_POINTS and a count is at most a list length: no overflow
		 */
		size *= hp->leaves[i]->count;
		if (size > HPARAMS_MAX_GRID_POINTS) {
			if (b->for_grid) {
				hp_fail(b, "grid has more than %d points", HPARAMS_MAX_GRID_POINTS);
				return -1;
			}
			size = 0; /* no grid meant: leave it unusable */
			break;
		}
	}
	hp->grid_size = (int)size;
	return 0;
}

struct hparams *hparams_new(const json_t *hyperparameters, int for_grid, char *err, size_t errlen)
{
	struct hp_build b = {.err = err, .errlen = errlen, .for_grid = for_grid};
	struct hparams *hp = NULL;

	snprintf(b.path, sizeof(b.path), "hyperparameters");
	if (!json_is_object(hyperparameters)) {
		hp_fail(&b, "must be a map");
		goto fail;
	}
	hp = calloc(1, sizeof(*hp));
	if (!hp) {
		hp_fail(&b, "out of memory");
		goto fail;
	}
	hp->json = json_deep_copy(hyperparameters);
	if (!hp->json) {
		hp_fail(&b, "out of memory");
		goto fail;
	}
	if (hp_compile_map(&b, hp->json, &hp->root, 0) < 0)
		goto fail;
	if (hp_grid_index(hp, &b) < 0)
		goto fail;
	return hp;
fail:
	hparams_free(hp);
	return NULL;
}

static json_t *hp_sample_node(const struct hp_node *node, struct prng *gen)
{
	switch (node->type) {
	case HP_CONST:
		return json_deep_copy(node->val);
	case HP_INT: {
		uint64_t span = (uint64_t)node->imax - (uint64_t)node->imin;
		uint64_t off = prng_below(gen, span + 1); /* span+1 == 0: full range */

		return json_integer((json_int_t)(int64_t)((uint64_t)node->imin + off));
	}
	case HP_DOUBLE:
		return json_real(node->dmin + (node->dmax - node->dmin) * prng_unit(gen));
	case HP_LOG:
		return json_real(
		    pow(node->base, node->dmin + (node->dmax - node->dmin) * prng_unit(gen)));
	case HP_CATEGORICAL: {
		size_t k = (size_t)prng_below(gen, json_array_size(node->val));

		return json_deep_copy(json_array_get(node->val, k));
	}
	case HP_OBJECT:
	default: {
		json_t *obj = json_object();

		for (size_t i = 0; obj && i < node->nchildren; i++) {
			json_t *v = hp_sample_node(&node->children[i], gen);

			if (!v || json_object_set_new(obj, node->children[i].name, v) < 0) {
				json_decref(obj);
				return NULL;
			}
		}
		return obj;
	}
	}
}

json_t *hparams_sample(const struct hparams *hp, struct prng *gen)
{
	return hp_sample_node(&hp->root, gen);
}

int hparams_grid_size(const struct hparams *hp)
{
	return hp->grid_size;
}

/* Rational round half away from zero of num/den (den > 0). */
static int64_t hp_round_div(__int128 num, __int128 den)
{
	__int128 mag = num < 0 ? -num : num;
	__int128 q = (2 * mag + den) / (2 * den);

	return (int64_t)(num < 0 ? -q : q);
}

int64_t hparams_grid_int(int64_t minval, int64_t maxval, int64_t count, int64_t k)
{
	__int128 span = (__int128)maxval - minval;

	if (count <= 1) /* midpoint: min + span/2 */
		return hp_round_div((__int128)minval * 2 + span, 2);
	return hp_round_div((__int128)minval * (count - 1) + span * k, count - 1);
}

static json_t *hp_grid_value(const struct hp_node *node, int64_t k)
{
	double x;

	switch (node->type) {
	case HP_CONST:
		return json_deep_copy(node->val);
	case HP_INT:
		return json_integer(
		    (json_int_t)hparams_grid_int(node->imin, node->imax, node->count, k));
	case HP_CATEGORICAL:
		return json_deep_copy(json_array_get(node->val, (size_t)k));
	case HP_DOUBLE:
	case HP_LOG:
	default:
		if (node->count <= 1)
			x = (node->dmin + node->dmax) / 2.0;
		else
			x = node->dmin +
			    (double)k * (node->dmax - node->dmin) / (double)(node->count - 1);
		return json_real(node->type == HP_LOG ? pow(node->base, x) : x);
	}
}

/* Build the point from the per-leaf digits, consuming leaves depth first. */
static json_t *hp_grid_node(const struct hp_node *node, const int64_t *digits, size_t *next)
{
	json_t *obj;

	if (node->type != HP_OBJECT)
		return hp_grid_value(node, digits[(*next)++]);
	obj = json_object();
	for (size_t i = 0; obj && i < node->nchildren; i++) {
		json_t *v = hp_grid_node(&node->children[i], digits, next);

		if (!v || json_object_set_new(obj, node->children[i].name, v) < 0) {
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}

json_t *hparams_grid_point(const struct hparams *hp, int index)
{
	int64_t *digits;
	int64_t rest = index;
	size_t next = 0;
	json_t *point;

	if (index < 0 || index >= hp->grid_size)
		return NULL;
	digits = calloc(hp->nleaves ? hp->nleaves : 1, sizeof(*digits));
	if (!digits)
		return NULL;
	for (size_t i = hp->nleaves; i-- > 0;) { /* last leaf varies fastest */
		digits[i] = rest % hp->leaves[i]->count;
		rest /= hp->leaves[i]->count;
	}
	point = hp_grid_node(&hp->root, digits, &next);
	free(digits);
	return point;
}
