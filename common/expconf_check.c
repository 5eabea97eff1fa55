/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Typed, located access to the YAML tree for the validators: scalars are
 * resolved with the YAML 1.2 core schema (what Determined's loader uses), so
 * "yes" is a string and 1e-3 a number, and every type mismatch is reported
 * with the node's line/column and the key path being validated. The path is
 * one fixed buffer pushed and popped as the validators descend; a path longer
 * than the buffer is cut, never overflowed.
 */
#include "expconf_check.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expconf_diag.h"

enum ec_kind { EC_NULL, EC_BOOL, EC_INT, EC_FLOAT, EC_STR, EC_MAP, EC_SEQ, EC_BADINT };

struct ec_scalar {
	long long i;
	double f;
	int b;
};

size_t expconf_path_push(struct expconf_ctx *c, const char *key)
{
	size_t old = c->plen;
	int w =
	    snprintf(c->path + c->plen, sizeof(c->path) - c->plen, "%s%s", c->plen ? "." : "", key);

	if (w > 0)
		c->plen += (size_t)w;
	if (c->plen >= sizeof(c->path))
		c->plen = sizeof(c->path) - 1;
	return old;
}

size_t expconf_path_index(struct expconf_ctx *c, size_t index)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%zu", index);
	return expconf_path_push(c, buf);
}

void expconf_path_pop(struct expconf_ctx *c, size_t len)
{
	c->plen = len;
	c->path[len] = '\0';
}

static void expconf_vreport(struct expconf_ctx *c, enum expconf_severity sev,
                            const struct yamltree_node *n, const char *fmt, va_list ap)
{
	expconf_diag_vadd(c->d, sev, n ? n->line : 0, n ? n->column : 0, c->path, fmt, ap);
}

void expconf_err(struct expconf_ctx *c, const struct yamltree_node *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	expconf_vreport(c, EXPCONF_ERROR, n, fmt, ap);
	va_end(ap);
}

void expconf_warn(struct expconf_ctx *c, const struct yamltree_node *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	expconf_vreport(c, EXPCONF_WARNING, n, fmt, ap);
	va_end(ap);
}

static int all_digits(const char *s, const char *digits)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!strchr(digits, *s))
			return 0;
	return 1;
}

/* [-+]? ( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static int is_core_float(const char *s)
{
	size_t digits = 0;

	if (*s == '-' || *s == '+')
		s++;
	while (*s >= '0' && *s <= '9')
		s++, digits++;
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9')
			s++, digits++;
	}
	if (!digits)
		return 0;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (!all_digits(s, "0123456789"))
			return 0;
		return 1;
	}
	return *s == '\0';
}

static int one_of(const char *s, const char *a, const char *b, const char *c3)
{
	return strcmp(s, a) == 0 || strcmp(s, b) == 0 || strcmp(s, c3) == 0;
}

/* Resolve a node's type (YAML 1.2 core schema for plain scalars). */
static enum ec_kind classify(const struct yamltree_node *n, struct ec_scalar *v)
{
	const char *s = n->text, *body;
	int base = 10;

	if (n->kind == YAMLTREE_MAP)
		return EC_MAP;
	if (n->kind == YAMLTREE_SEQ)
		return EC_SEQ;
	if (!n->plain || strlen(s) != n->len)
		return EC_STR;
	if (yamltree_is_null(n))
		return EC_NULL;
	if (one_of(s, "true", "True", "TRUE") || one_of(s, "false", "False", "FALSE")) {
		v->b = s[0] == 't' || s[0] == 'T';
		return EC_BOOL;
	}
	body = s + (*s == '-' || *s == '+');
	if (strncmp(s, "0o", 2) == 0 && all_digits(s + 2, "01234567"))
		body = s + 2, base = 8;
	else if (strncmp(s, "0x", 2) == 0 && all_digits(s + 2, "0123456789abcdefABCDEF"))
		body = s + 2, base = 16;
	if (all_digits(body, base == 16 ? "0123456789abcdefABCDEF" : "0123456789")) {
		errno = 0;
		v->i = strtoll(base == 10 ? s : body, NULL, base);
		return errno == ERANGE ? EC_BADINT : EC_INT;
	}
	body = s + (*s == '-' || *s == '+');
	if (one_of(body, ".inf", ".Inf", ".INF")) {
		v->f = *s == '-' ? -INFINITY : INFINITY;
		return EC_FLOAT;
	}
	if (one_of(s, ".nan", ".NaN", ".NAN")) {
		v->f = NAN;
		return EC_FLOAT;
	}
	if (is_core_float(s)) {
		v->f = strtod(s, NULL);
		return EC_FLOAT;
	}
	return EC_STR;
}

static const char *kind_name(enum ec_kind k)
{
	static const char *const names[] = {"null",     "a boolean", "an integer", "a number",
	                                    "a string", "a mapping", "a list",     "an integer"};

	return names[k];
}

const struct yamltree_node *expconf_opt(const struct yamltree_node *n)
{
	return n && !yamltree_is_null(n) ? n : NULL;
}

static void report_bad_number(struct expconf_ctx *c, const struct yamltree_node *n, enum ec_kind k,
                              const struct ec_scalar *v)
{
	if (k == EC_BADINT)
		expconf_err(c, n, "integer %s is out of range (must fit in 64 bits)", n->text);
	else
		expconf_err(c, n, "number %s is not finite (infinities and NaN are not allowed)",
		            n->text);
	(void)v;
}

int expconf_get_int(struct expconf_ctx *c, const struct yamltree_node *n, long long min,
                    long long max, long long *out)
{
	struct ec_scalar v;
	enum ec_kind k = classify(n, &v);

	if (k == EC_BADINT) {
		report_bad_number(c, n, k, &v);
		return -1;
	}
	if (k != EC_INT) {
		expconf_err(c, n, "expected an integer, got %s", kind_name(k));
		return -1;
	}
	if (v.i < min || v.i > max) {
		if (max == __LONG_LONG_MAX__)
			expconf_err(c, n, "must be at least %lld, got %lld", min, v.i);
		else
			expconf_err(c, n, "must be between %lld and %lld, got %lld", min, max, v.i);
		return -1;
	}
	*out = v.i;
	return 0;
}

int expconf_get_num(struct expconf_ctx *c, const struct yamltree_node *n, double *out)
{
	struct ec_scalar v;
	enum ec_kind k = classify(n, &v);

	if (k == EC_INT) {
		*out = (double)v.i;
		return 0;
	}
	if (k == EC_BADINT || (k == EC_FLOAT && !isfinite(v.f))) {
		report_bad_number(c, n, k, &v);
		return -1;
	}
	if (k != EC_FLOAT) {
		expconf_err(c, n, "expected a number, got %s", kind_name(k));
		return -1;
	}
	*out = v.f;
	return 0;
}

int expconf_get_bool(struct expconf_ctx *c, const struct yamltree_node *n, int *out)
{
	struct ec_scalar v;
	enum ec_kind k = classify(n, &v);

	if (k != EC_BOOL) {
		expconf_err(c, n, "expected a boolean (true or false), got %s", kind_name(k));
		return -1;
	}
	*out = v.b;
	return 0;
}

static json_t *string_json(struct expconf_ctx *c, const struct yamltree_node *n)
{
	json_t *s = json_stringn(n->text, n->len);

	if (!s)
		expconf_err(c, n, "string is not valid UTF-8 or out of memory");
	return s;
}

int expconf_get_str(struct expconf_ctx *c, const struct yamltree_node *n, int nonempty,
                    json_t **out)
{
	struct ec_scalar v;
	enum ec_kind k = classify(n, &v);

	if (k != EC_STR) {
		expconf_err(c, n, "expected a string, got %s", kind_name(k));
		return -1;
	}
	if (nonempty && n->len == 0) {
		expconf_err(c, n, "must not be empty");
		return -1;
	}
	*out = string_json(c, n);
	return *out ? 0 : -1;
}

static json_t *oom(struct expconf_ctx *c, const struct yamltree_node *n, json_t *partial)
{
	json_decref(partial);
	expconf_err(c, n, "out of memory");
	return NULL;
}

static json_t *ec_json_map(struct expconf_ctx *c, const struct yamltree_node *n)
{
	json_t *obj = json_object();
	int bad = 0;

	if (!obj)
		return oom(c, n, NULL);
	for (size_t i = 0; i + 1 < n->nkids; i += 2) {
		size_t saved = expconf_path_push(c, n->kids[i]->text);
		json_t *v = expconf_to_json(c, n->kids[i + 1]);

		if (!v)
			bad = 1;
		else if (json_object_set_new(obj, n->kids[i]->text, v) < 0)
			bad = 1, expconf_err(c, n->kids[i], "key is not valid UTF-8");
		expconf_path_pop(c, saved);
	}
	if (bad) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

static json_t *ec_json_seq(struct expconf_ctx *c, const struct yamltree_node *n)
{
	json_t *arr = json_array();
	int bad = 0;

	if (!arr)
		return oom(c, n, NULL);
	for (size_t i = 0; i < n->nkids; i++) {
		size_t saved = expconf_path_index(c, i);
		json_t *v = expconf_to_json(c, n->kids[i]);

		if (!v || json_array_append_new(arr, v) < 0)
			bad = 1;
		expconf_path_pop(c, saved);
	}
	if (bad) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

json_t *expconf_to_json(struct expconf_ctx *c, const struct yamltree_node *n)
{
	struct ec_scalar v;
	enum ec_kind k = classify(n, &v);
	json_t *j = NULL;

	switch (k) {
	case EC_MAP:
		return ec_json_map(c, n);
	case EC_SEQ:
		return ec_json_seq(c, n);
	case EC_NULL:
		j = json_null();
		break;
	case EC_BOOL:
		j = json_boolean(v.b);
		break;
	case EC_INT:
		j = json_integer(v.i);
		break;
	case EC_FLOAT:
		if (!isfinite(v.f)) {
			report_bad_number(c, n, k, &v);
			return NULL;
		}
		j = json_real(v.f);
		break;
	case EC_BADINT:
		report_bad_number(c, n, k, &v);
		return NULL;
	case EC_STR:
		return string_json(c, n);
	}
	return j ? j : oom(c, n, NULL);
}

void expconf_set(struct expconf_ctx *c, json_t *obj, const char *key, json_t *val)
{
	if (!val || json_object_set_new(obj, key, val) < 0)
		expconf_err(c, NULL, "out of memory");
}

const struct yamltree_node *expconf_child(struct expconf_ctx *c, const struct yamltree_node *map,
                                          const char *key, size_t *saved)
{
	const struct yamltree_node *n = yamltree_map_get(map, key);

	*saved = c->plen;
	if (n)
		expconf_path_push(c, key);
	return n;
}

void expconf_opt_int(struct expconf_ctx *c, const struct yamltree_node *map, const char *key,
                     long long min, long long max, int has_def, long long def, json_t *out)
{
	size_t saved;
	const struct yamltree_node *n = expconf_opt(expconf_child(c, map, key, &saved));
	long long v;

	if (n) {
		if (expconf_get_int(c, n, min, max, &v) == 0)
			expconf_set(c, out, key, json_integer(v));
	} else if (has_def == 1) {
		expconf_set(c, out, key, json_integer(def));
	} else if (has_def == 2) {
		expconf_set(c, out, key, json_null());
	}
	expconf_path_pop(c, saved);
}

static int in_list(const struct yamltree_node *key, const char *const *list)
{
	for (; list && *list; list++)
		if (yamltree_is(key, *list))
			return 1;
	return 0;
}

int expconf_check_keys(struct expconf_ctx *c, const struct yamltree_node *n,
                       const char *const *known, const char *const *ignored)
{
	struct ec_scalar v;

	if (n->kind != YAMLTREE_MAP) {
		expconf_err(c, n, "expected a mapping, got %s", kind_name(classify(n, &v)));
		return -1;
	}
	for (size_t i = 0; i + 1 < n->nkids; i += 2) {
		const struct yamltree_node *key = n->kids[i];
		size_t saved;

		if (in_list(key, known))
			continue;
		saved = expconf_path_push(c, key->text);
		if (in_list(key, ignored))
			expconf_warn(c, key, "\"%s\" is a Determined setting ignored by det-slurm",
			             key->text);
		else
			expconf_err(c, key, "unknown key \"%s\"", key->text);
		expconf_path_pop(c, saved);
	}
	return 0;
}
