/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fast path for parsing request bodies: every metric report is a small
 * object such as {"group":"training","steps_completed":12,"metrics":{...}},
 * and jansson's general parser (a byte-at-a-time stream with a string
 * buffer per token) was a tenth of the master's cost per report.
 *
 * Non-obvious decision: this parser never decides anything on its own. It
 * accepts a strict subset of JSON on which it builds exactly the value that
 * json_loadb() builds (same types, same numbers from the same strtoll/strtod
 * calls, same key order) and answers NULL for everything else: escapes,
 * bytes outside printable ASCII, arrays, repeated keys, deep nesting, numbers
 * out of range, any syntax error. json_loadb() then parses the body as
 * before, so its answers and error messages are unchanged.
 */
#include "json_fast.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Nesting taken here; deeper bodies go to json_loadb. */
#define JSON_FAST_MAX_DEPTH 4
/* Longest number token taken here. */
#define JSON_FAST_MAX_NUMBER 40

struct cursor {
	const char *p, *end;
};

static void skip_ws(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int is_digit(const struct cursor *c, const char *q)
{
	return q < c->end && *q >= '0' && *q <= '9';
}

/* A string of printable ASCII without escapes at c->p: its bytes in *s, *n. 0 or -1. */
static int plain_string(struct cursor *c, const char **s, size_t *n)
{
	const char *q;

	if (c->p >= c->end || *c->p != '"')
		return -1;
	for (q = c->p + 1; q < c->end && *q != '"'; q++)
		if ((unsigned char)*q < 0x20 || (unsigned char)*q >= 0x7f || *q == '\\')
			return -1;
	if (q >= c->end)
		return -1;
	*s = c->p + 1;
	*n = (size_t)(q - *s);
	c->p = q + 1;
	return 0;
}

/* A number token in JSON's grammar, converted as jansson converts it. */
static json_t *number(struct cursor *c)
{
	const char *q = c->p;
	char text[JSON_FAST_MAX_NUMBER + 1], *end;
	int real = 0;

	if (q < c->end && *q == '-')
		q++;
	if (!is_digit(c, q))
		return NULL;
	if (*q == '0')
		q++;
	else
		while (is_digit(c, q))
			q++;
	if (q < c->end && *q == '.') {
		real = 1;
		if (!is_digit(c, ++q))
			return NULL;
		while (is_digit(c, q))
			q++;
	}
	if (q < c->end && (*q == 'e' || *q == 'E')) {
		real = 1;
		q++;
		if (q < c->end && (*q == '+' || *q == '-'))
			q++;
		if (!is_digit(c, q))
			return NULL;
		while (is_digit(c, q))
			q++;
	}
	size_t n = (size_t)(q - c->p);
	if (n > JSON_FAST_MAX_NUMBER)
		return NULL;
	memcpy(text, c->p, n);
	text[n] = '\0';
	errno = 0;
	json_t *v = NULL;
	if (real) {
		double d = strtod(text, &end);
		if (!errno && end == text + n)
			v = json_real(d);
	} else {
		long long i = strtoll(text, &end, 10);
		if (!errno && end == text + n)
			v = json_integer((json_int_t)i);
	}
	if (v)
		c->p = q;
	return v;
}

static json_t *object(struct cursor *c, int depth);

static json_t *value(struct cursor *c, int depth)
{
	const char *s;
	size_t n;

	if (c->p >= c->end)
		return NULL;
	switch (*c->p) {
	case '{':
		return object(c, depth + 1);
	case '"':
		return plain_string(c, &s, &n) ? NULL : json_stringn(s, n);
	case 't':
		if (c->end - c->p < 4 || memcmp(c->p, "true", 4))
			return NULL;
		c->p += 4;
		return json_true();
	case 'f':
		if (c->end - c->p < 5 || memcmp(c->p, "false", 5))
			return NULL;
		c->p += 5;
		return json_false();
	case 'n':
		if (c->end - c->p < 4 || memcmp(c->p, "null", 4))
			return NULL;
		c->p += 4;
		return json_null();
	default:
		return number(c);
	}
}

/* The object at c->p ('{'); NULL when it is outside the subset. */
static json_t *object(struct cursor *c, int depth)
{
	json_t *o = depth <= JSON_FAST_MAX_DEPTH ? json_object() : NULL;
	const char *k;
	size_t kn;

	if (!o)
		return NULL;
	c->p++;
	skip_ws(c);
	if (c->p < c->end && *c->p == '}') {
		c->p++;
		return o;
	}
	for (;;) {
		skip_ws(c);
		if (plain_string(c, &k, &kn) || json_object_getn(o, k, kn))
			goto fail;
		skip_ws(c);
		if (c->p >= c->end || *c->p != ':')
			goto fail;
		c->p++;
		skip_ws(c);
		json_t *v = value(c, depth);
		if (!v || json_object_setn_new(o, k, kn, v))
			goto fail;
		skip_ws(c);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == '}') {
			c->p++;
			return o;
		}
		goto fail;
	}
fail:
	json_decref(o);
	return NULL;
}

json_t *json_fast_object(const char *buf, size_t len)
{
	struct cursor c;
	json_t *o;

	if (!buf)
		return NULL;
	c.p = buf;
	c.end = buf + len;
	skip_ws(&c);
	if (c.p >= c.end || *c.p != '{')
		return NULL;
	o = object(&c, 1);
	if (!o)
		return NULL;
	skip_ws(&c);
	if (c.p != c.end) {
		json_decref(o);
		return NULL;
	}
	return o;
}
