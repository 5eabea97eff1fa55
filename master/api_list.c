/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Paging and sorting of the trials and checkpoints lists of an experiment
 * (GET /experiments/{id}/trials and /checkpoints with limit, offset,
 * order_by, order). The rows are the handlers' JSON objects; sorting happens
 * here, in memory, on whichever column was named, so a new column is sortable
 * as soon as a handler adds it. A column holding an object (hparams, metrics)
 * is sorted by one of its keys with "COLUMN.KEY".
 * Non-obvious decision: rows without the value (null, a missing key) sort
 * last in both orders, so "best first" never starts with trials that have
 * reported nothing.
 */
#include "api_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value of q's column in row: "a" or "a.b" (a's key b); NULL when missing. */
static json_t *column_value(json_t *row, const char *col)
{
	const char *dot = strchr(col, '.');
	if (!dot)
		return json_object_get(row, col);
	json_t *obj = json_object_getn(row, col, (size_t)(dot - col));
	return json_is_object(obj) ? json_object_get(obj, dot + 1) : NULL;
}

/* Kind rank: numbers and booleans, then strings, then missing/null (always last). */
static int kind_of(json_t *v)
{
	if (json_is_number(v) || json_is_boolean(v))
		return 0;
	if (json_is_string(v))
		return 1;
	return v && !json_is_null(v) ? 2 : 3;
}

static double num_of(json_t *v)
{
	return json_is_boolean(v) ? json_is_true(v) : json_number_value(v);
}

struct sort_ctx {
	const char *col;
	const char *tie;
	int desc;
};

static int cmp_tie(json_t *x, json_t *y, const char *tie)
{
	json_t *a = json_object_get(x, tie), *b = json_object_get(y, tie);
	if (json_is_string(a) && json_is_string(b))
		return strcmp(json_string_value(a), json_string_value(b));
	double p = json_number_value(a), q = json_number_value(b);
	return (p > q) - (p < q);
}

static int cmp_rows(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *s = arg;
	json_t *x = *(json_t *const *)pa, *y = *(json_t *const *)pb;
	json_t *a = column_value(x, s->col), *b = column_value(y, s->col);
	int ka = kind_of(a), kb = kind_of(b), r = 0;

	if (ka == 3 || kb == 3) { /* missing last, whatever the order */
		if (ka != kb)
			return ka == 3 ? 1 : -1;
		return cmp_tie(x, y, s->tie);
	}
	if (ka != kb)
		r = ka - kb;
	else if (ka == 0)
		r = (num_of(a) > num_of(b)) - (num_of(a) < num_of(b));
	else if (ka == 1)
		r = strcmp(json_string_value(a), json_string_value(b));
	if (s->desc)
		r = -r;
	return r ? r : cmp_tie(x, y, s->tie);
}

static int parse_long(const char *s, long max, long *out)
{
	char *end;
	long v;
	if (!s)
		return 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

int api_list_parse(const char *limit, const char *offset, const char *order_by, const char *order,
                   struct api_list_query *q, char *err, size_t errlen)
{
	int rv = -1;

	memset(q, 0, sizeof(*q));
	q->limit = -1;
	if (parse_long(limit, API_LIST_MAX_LIMIT, &q->limit)) {
		snprintf(err, errlen, "limit: expected an integer from 0 to %d",
		         API_LIST_MAX_LIMIT);
		goto fail;
	}
	if (parse_long(offset, 1000000000L, &q->offset)) {
		snprintf(err, errlen, "offset: expected a non-negative integer");
		goto fail;
	}
	if (order && strcmp(order, "asc") && strcmp(order, "desc")) {
		snprintf(err, errlen, "order: expected asc or desc");
		goto fail;
	}
	q->desc = order && !strcmp(order, "desc");
	if (order_by) {
		size_t n = strlen(order_by);
		int dots = 0;
		for (size_t i = 0; i < n; i++) {
			char ch = order_by[i];
			dots += ch == '.';
			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.')) {
				n = 0;
				break;
			}
		}
		if (n == 0 || n >= sizeof(q->order_by) || dots > 1 || order_by[0] == '.' ||
		    order_by[n - 1] == '.') {
			snprintf(
			    err, errlen,
			    "order_by: expected a column name, or COLUMN.KEY (letters, digits, "
			    "_ and -, under %zu characters)",
			    sizeof(q->order_by));
			goto fail;
		}
		memcpy(q->order_by, order_by, n + 1);
	}
	rv = 0;
fail:
	return rv;
}

/* Does some row have col's (first component) as a key? */
static int column_known(json_t *rows, const char *col)
{
	const char *dot = strchr(col, '.');
	size_t n = dot ? (size_t)(dot - col) : strlen(col), i;
	json_t *row;

	json_array_foreach (rows, i, row) {
		json_t *v = json_object_getn(row, col, n);
		if (v && (!dot || json_is_object(v) || json_is_null(v)))
			return 1;
	}
	return json_array_size(rows) == 0;
}

json_t *api_list_page(json_t *rows, const struct api_list_query *q, const char *tie_key,
                      size_t *total, char *err, size_t errlen)
{
	struct sort_ctx s = {.col = q->order_by, .tie = tie_key, .desc = q->desc};
	size_t n = json_array_size(rows);
	json_t **items = NULL, *page = NULL, *result = NULL;

	*total = n;
	if (q->order_by[0] && !column_known(rows, q->order_by)) {
		snprintf(err, errlen, "order_by: %s is not a column of this list", q->order_by);
		goto fail;
	}
	items = calloc(n ? n : 1, sizeof(*items));
	page = json_array();
	if (!items || !page) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		items[i] = json_array_get(rows, i);
	if (q->order_by[0])
		qsort_r(items, n, sizeof(*items), cmp_rows, &s);
	for (size_t i = (size_t)q->offset;
	     i < n && (q->limit < 0 || i - (size_t)q->offset < (size_t)q->limit); i++) {
		if (json_array_append(page, items[i])) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	result = page;
	page = NULL;
fail:
	free(items);
	json_decref(page);
	return result;
}
