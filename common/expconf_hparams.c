/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hyperparameters with Determined's semantics: a bare value is a const, a
 * map with a `type` key is a typed hyperparameter, a map without one is a
 * nested group (to any depth the tree allows). Output is the normalized
 * shape of doc/expconf.md. The grid size is computed from that normalized
 * JSON with saturating arithmetic, so a product of huge counts can never
 * overflow: it stops at the limit plus one.
 */
#include "expconf_check.h"

#include <string.h>

static const char *const hp_const_keys[] = {"type", "val", NULL};
static const char *const hp_int_keys[] = {"type", "minval", "maxval", "count", NULL};
static const char *const hp_log_keys[] = {"type", "minval", "maxval", "count", "base", NULL};
static const char *const hp_cat_keys[] = {"type", "vals", NULL};

static json_t *hp_group(struct expconf_ctx *c, const struct yamltree_node *n);

/* A required key of a typed hyperparameter (reported at the map when missing). */
static const struct yamltree_node *hp_need(struct expconf_ctx *c, const struct yamltree_node *hp,
                                           const char *key)
{
	const struct yamltree_node *v = yamltree_map_get(hp, key);

	if (!v)
		expconf_err(c, hp, "missing required key \"%s\"", key);
	return v;
}

/* count (optional, >= 1); grid search requires it. */
static int hp_count(struct expconf_ctx *c, const struct yamltree_node *hp, const char *type,
                    json_t *out)
{
	size_t saved;
	const struct yamltree_node *n = expconf_opt(expconf_child(c, hp, "count", &saved));
	long long count;
	int rv = 0;

	if (n) {
		if (expconf_get_int(c, n, 1, EXPCONF_MAX_GRID_POINTS, &count) == 0)
			expconf_set(c, out, "count", json_integer(count));
		else
			rv = -1;
	} else if (c->grid) {
		expconf_err(c, hp, "grid search needs \"count\" on %s hyperparameters", type);
		rv = -1;
	}
	expconf_path_pop(c, saved);
	return rv;
}

static int hp_int(struct expconf_ctx *c, const struct yamltree_node *hp, json_t *out)
{
	const struct yamltree_node *lo = hp_need(c, hp, "minval"), *hi = hp_need(c, hp, "maxval");
	long long min = 0, max = 0;
	int ok = lo && hi;
	size_t saved;

	if (lo) {
		saved = expconf_path_push(c, "minval");
		ok &= expconf_get_int(c, lo, -__LONG_LONG_MAX__ - 1, __LONG_LONG_MAX__, &min) == 0;
		expconf_path_pop(c, saved);
	}
	if (hi) {
		saved = expconf_path_push(c, "maxval");
		ok &= expconf_get_int(c, hi, -__LONG_LONG_MAX__ - 1, __LONG_LONG_MAX__, &max) == 0;
		if (ok && max < min) {
			expconf_err(c, hi, "maxval (%lld) is less than minval (%lld)", max, min);
			ok = 0;
		}
		expconf_path_pop(c, saved);
	}
	ok &= hp_count(c, hp, "int", out) == 0;
	expconf_set(c, out, "minval", json_integer(min));
	expconf_set(c, out, "maxval", json_integer(max));
	return ok ? 0 : -1;
}

static int hp_real(struct expconf_ctx *c, const struct yamltree_node *hp, const char *type,
                   json_t *out)
{
	const struct yamltree_node *lo = hp_need(c, hp, "minval"), *hi = hp_need(c, hp, "maxval");
	double min = 0, max = 0, base = 10;
	int ok = lo && hi;
	size_t saved;

	if (lo) {
		saved = expconf_path_push(c, "minval");
		ok &= expconf_get_num(c, lo, &min) == 0;
		expconf_path_pop(c, saved);
	}
	if (hi) {
		saved = expconf_path_push(c, "maxval");
		ok &= expconf_get_num(c, hi, &max) == 0;
		if (ok && max < min) {
			expconf_err(c, hi, "maxval (%g) is less than minval (%g)", max, min);
			ok = 0;
		}
		expconf_path_pop(c, saved);
	}
	expconf_set(c, out, "minval", json_real(min));
	expconf_set(c, out, "maxval", json_real(max));
	if (strcmp(type, "log") == 0) {
		const struct yamltree_node *b = expconf_opt(expconf_child(c, hp, "base", &saved));

		if (b && expconf_get_num(c, b, &base) < 0) {
			ok = 0;
		} else if (b && (base <= 0 || base == 1)) {
			expconf_err(c, b, "base must be positive and not 1, got %g", base);
			ok = 0;
		}
		expconf_path_pop(c, saved);
		expconf_set(c, out, "base", json_real(base));
	}
	ok &= hp_count(c, hp, type, out) == 0;
	return ok ? 0 : -1;
}

static int hp_categorical(struct expconf_ctx *c, const struct yamltree_node *hp, json_t *out)
{
	const struct yamltree_node *vals = hp_need(c, hp, "vals");
	size_t saved;
	json_t *j;
	int rv = -1;

	if (!vals)
		return -1;
	saved = expconf_path_push(c, "vals");
	if (vals->kind != YAMLTREE_SEQ || vals->nkids == 0) {
		expconf_err(c, vals, "vals must be a non-empty list");
		goto fail;
	}
	j = expconf_to_json(c, vals);
	if (!j)
		goto fail;
	expconf_set(c, out, "vals", j);
	rv = 0;
fail:
	expconf_path_pop(c, saved);
	return rv;
}

/* A map with a `type` key. */
static json_t *hp_typed(struct expconf_ctx *c, const struct yamltree_node *hp,
                        const struct yamltree_node *type)
{
	json_t *out = json_object();
	const char *t = type->text;
	size_t saved;
	int rv = -1;

	if (!out) {
		expconf_err(c, hp, "out of memory");
		return NULL;
	}
	saved = expconf_path_push(c, "type");
	if (type->kind != YAMLTREE_SCALAR ||
	    !(yamltree_is(type, "const") || yamltree_is(type, "int") ||
	      yamltree_is(type, "double") || yamltree_is(type, "log") ||
	      yamltree_is(type, "categorical"))) {
		expconf_err(
		    c, type,
		    "unknown hyperparameter type \"%s\" (expected const, int, double, log or "
		    "categorical)",
		    type->kind == YAMLTREE_SCALAR ? type->text : "?");
		expconf_path_pop(c, saved);
		goto fail;
	}
	expconf_path_pop(c, saved);
	expconf_set(c, out, "type", json_string(t));
	if (strcmp(t, "const") == 0) {
		const struct yamltree_node *val = hp_need(c, hp, "val");
		json_t *j;

		expconf_check_keys(c, hp, hp_const_keys, NULL);
		if (!val)
			goto fail;
		saved = expconf_path_push(c, "val");
		j = expconf_to_json(c, val);
		expconf_path_pop(c, saved);
		if (!j)
			goto fail;
		expconf_set(c, out, "val", j);
		rv = 0;
	} else if (strcmp(t, "int") == 0) {
		expconf_check_keys(c, hp, hp_int_keys, NULL);
		rv = hp_int(c, hp, out);
	} else if (strcmp(t, "double") == 0) {
		expconf_check_keys(c, hp, hp_int_keys, NULL);
		rv = hp_real(c, hp, t, out);
	} else if (strcmp(t, "log") == 0) {
		expconf_check_keys(c, hp, hp_log_keys, NULL);
		rv = hp_real(c, hp, t, out);
	} else {
		expconf_check_keys(c, hp, hp_cat_keys, NULL);
		rv = hp_categorical(c, hp, out);
	}
fail:
	if (rv < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* One hyperparameter (path already pushed). */
static json_t *hp_one(struct expconf_ctx *c, const struct yamltree_node *n)
{
	const struct yamltree_node *type;
	json_t *out, *v;

	if (n->kind == YAMLTREE_MAP) {
		type = yamltree_map_get(n, "type");
		if (type)
			return hp_typed(c, n, type);
		v = hp_group(c, n);
		out = v ? json_pack("{s:s, s:o}", "type", "object", "vals", v) : NULL;
	} else {
		v = expconf_to_json(c, n);
		out = v ? json_pack("{s:s, s:o}", "type", "const", "val", v) : NULL;
	}
	return out;
}

/* A map of name -> hyperparameter. */
static json_t *hp_group(struct expconf_ctx *c, const struct yamltree_node *n)
{
	json_t *out = json_object();
	int bad = 0;

	if (!out) {
		expconf_err(c, n, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i + 1 < n->nkids; i += 2) {
		size_t saved = expconf_path_push(c, n->kids[i]->text);
		json_t *hp = hp_one(c, n->kids[i + 1]);

		if (!hp)
			bad = 1;
		else if (json_object_set_new(out, n->kids[i]->text, hp) < 0)
			bad = 1, expconf_err(c, n->kids[i], "name is not valid UTF-8");
		expconf_path_pop(c, saved);
	}
	if (bad) {
		json_decref(out);
		return NULL;
	}
	return out;
}

json_t *expconf_hparams(struct expconf_ctx *c, const struct yamltree_node *n)
{
	if (!n)
		return json_object();
	if (n->kind != YAMLTREE_MAP) {
		expconf_err(c, n, "expected a mapping of hyperparameter names");
		return NULL;
	}
	return hp_group(c, n);
}

static unsigned long long mul_sat(unsigned long long a, unsigned long long b,
                                  unsigned long long limit)
{
	if (a == 0 || b == 0)
		return 0;
	if (a > limit / b)
		return limit + 1;
	return a * b > limit ? limit + 1 : a * b;
}

static unsigned long long hp_points(const json_t *hp, unsigned long long limit)
{
	const char *type = json_string_value(json_object_get(hp, "type"));
	json_t *count = json_object_get(hp, "count");
	unsigned long long n = count ? (unsigned long long)json_integer_value(count) : 1;

	if (!type || strcmp(type, "const") == 0)
		return 1;
	if (strcmp(type, "categorical") == 0)
		return json_array_size(json_object_get(hp, "vals"));
	if (strcmp(type, "object") == 0)
		return expconf_grid_size(json_object_get(hp, "vals"), limit);
	if (strcmp(type, "int") == 0) {
		/* At most one point per integer in [minval, maxval]; unsigned math
		 * cannot overflow because maxval >= minval. */
		unsigned long long lo = (unsigned long long)json_integer_value(
		                       json_object_get(hp, "minval")),
		                   hi = (unsigned long long)json_integer_value(
		                       json_object_get(hp, "maxval"));
		unsigned long long range = hi - lo;

		return n - 1 <= range ? n : range + 1;
	}
	return n;
}

unsigned long long expconf_grid_size(const json_t *hps, unsigned long long limit)
{
	unsigned long long total = 1;
	const char *name;
	json_t *hp;

	json_object_foreach ((json_t *)hps, name, hp) {
		total = mul_sat(total, hp_points(hp, limit), limit);
		(void)name;
	}
	return total;
}
