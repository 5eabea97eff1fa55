/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Downsampling of metric series for charts (GET /trials/{id}/metrics with
 * max_points). Rows are first regrouped into per-(group, name) point lists;
 * a list longer than max_points is cut into equal buckets by position and
 * each bucket contributes its minimum and maximum point, in position order,
 * so spikes and dips survive while the size stays bounded. The first and last
 * points are always kept so a chart spans the same x range.
 */
#include "metrics_ds.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ds_point {
	double step, value, time;
};

struct ds_list {
	struct ds_point *p;
	size_t n, cap;
};

static int list_push(struct ds_list *l, struct ds_point pt)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct ds_point *p = realloc(l->p, cap * sizeof(*p));
		if (!p)
			return -1;
		l->p = p;
		l->cap = cap;
	}
	l->p[l->n++] = pt;
	return 0;
}

static int append_point(json_t *s, const struct ds_point *pt)
{
	if (json_array_append_new(json_object_get(s, "steps"),
	                          json_integer((json_int_t)pt->step)) ||
	    json_array_append_new(json_object_get(s, "values"), json_real(pt->value)) ||
	    json_array_append_new(json_object_get(s, "times"), json_real(pt->time)))
		return -1;
	return 0;
}

/* Positions [lo, hi) of l: index of the minimum and of the maximum. */
static void bucket_extremes(const struct ds_list *l, size_t lo, size_t hi, size_t *imin,
                            size_t *imax)
{
	*imin = *imax = lo;
	for (size_t i = lo + 1; i < hi; i++) {
		if (l->p[i].value < l->p[*imin].value)
			*imin = i;
		if (l->p[i].value > l->p[*imax].value)
			*imax = i;
	}
}

/* Fill series s from l with at most max_points points. */
static int emit(json_t *s, const struct ds_list *l, size_t max_points)
{
	if (l->n <= max_points) {
		for (size_t i = 0; i < l->n; i++)
			if (append_point(s, &l->p[i]))
				return -1;
		return 0;
	}
	/* first, then (max_points - 2) / 2 buckets of two points, then last */
	size_t nb = (max_points - 2) / 2, inner = l->n - 2;
	if (append_point(s, &l->p[0]))
		return -1;
	for (size_t b = 0; b < nb; b++) {
		size_t lo = 1 + b * inner / nb, hi = 1 + (b + 1) * inner / nb, imin, imax;
		if (lo >= hi)
			continue;
		bucket_extremes(l, lo, hi, &imin, &imax);
		size_t first = imin < imax ? imin : imax, second = imin < imax ? imax : imin;
		if (append_point(s, &l->p[first]) ||
		    (second != first && append_point(s, &l->p[second])))
			return -1;
	}
	return append_point(s, &l->p[l->n - 1]);
}

struct metrics_ds {
	json_t *out; /* the series, points not yet filled in */
	json_t *idx; /* "group\nname" -> position in lists and out */
	struct ds_list *lists;
	size_t nlists, npoints;
};

struct metrics_ds *metrics_ds_new(void)
{
	struct metrics_ds *ds = calloc(1, sizeof(*ds));
	if (ds) {
		ds->out = json_array();
		ds->idx = json_object();
	}
	if (ds && (!ds->out || !ds->idx)) {
		metrics_ds_free(ds);
		ds = NULL;
	}
	return ds;
}

void metrics_ds_free(struct metrics_ds *ds)
{
	if (!ds)
		return;
	for (size_t i = 0; i < ds->nlists; i++)
		free(ds->lists[i].p);
	free(ds->lists);
	json_decref(ds->idx);
	json_decref(ds->out);
	free(ds);
}

size_t metrics_ds_points(const struct metrics_ds *ds)
{
	return ds->npoints;
}

/* The list for (group, name), made on first sight. */
static struct ds_list *series_for(struct metrics_ds *ds, const char *group, const char *name)
{
	char key[1024];
	snprintf(key, sizeof(key), "%s\n%s", group, name);
	json_t *pos = json_object_get(ds->idx, key);
	if (pos)
		return &ds->lists[json_integer_value(pos)];
	struct ds_list *nl = realloc(ds->lists, (ds->nlists + 1) * sizeof(*nl));
	if (!nl)
		return NULL;
	ds->lists = nl;
	memset(&nl[ds->nlists], 0, sizeof(*nl));
	json_t *s = json_pack("{s:s, s:s, s:[], s:[], s:[]}", "group", group, "name", name, "steps",
	                      "values", "times");
	if (!s || json_array_append_new(ds->out, s) ||
	    json_object_set_new(ds->idx, key, json_integer((json_int_t)ds->nlists)))
		return NULL;
	return &nl[ds->nlists++];
}

/* Add the number values of metrics object m as points at pt's step and time. */
static int add_metrics(struct metrics_ds *ds, const char *group, struct ds_point pt,
                       const json_t *m, char *err, size_t errlen)
{
	const char *name;
	json_t *v;
	json_object_foreach ((json_t *)m, name, v) {
		if (!json_is_number(v))
			continue;
		struct ds_list *l = series_for(ds, group, name);
		pt.value = json_number_value(v);
		if (!l || list_push(l, pt)) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		ds->npoints++;
	}
	return 0;
}

int metrics_ds_add(struct metrics_ds *ds, const json_t *rows, char *err, size_t errlen)
{
	size_t i;
	const json_t *row;
	json_array_foreach (rows, i, row) {
		const char *group = json_string_value(json_object_get(row, "group"));
		json_t *m = json_object_get(row, "metrics");
		struct ds_point pt = {
		    .step = (double)json_integer_value(json_object_get(row, "steps_completed")),
		    .time = json_number_value(json_object_get(row, "created_at"))};
		if (!group || !json_is_object(m))
			continue;
		if (add_metrics(ds, group, pt, m, err, errlen))
			return -1;
	}
	return 0;
}

/* The fast path of metrics_ds_add_text: a body in the shape the master
 * writes, a flat object of at most FLAT_MAX distinct plain-ASCII names. */
#define FLAT_MAX 16
#define FLAT_NUM_MAX 64 /* longest number token taken on the fast path */

struct flat_pair {
	const char *name;
	size_t len;
	double value;
	int number;
};

struct flat_text {
	const char *s, *end;
	struct flat_pair pair[FLAT_MAX];
	size_t n;
};

static void flat_ws(struct flat_text *f)
{
	while (f->s < f->end && (*f->s == ' ' || *f->s == '\t' || *f->s == '\n' || *f->s == '\r'))
		f->s++;
}

/* A string without escapes or bytes outside printable ASCII (what jansson
 * would check); *len its length. 0 when it is anything else. */
static int flat_string(struct flat_text *f, const char **str, size_t *len)
{
	if (f->s >= f->end || *f->s != '"')
		return 0;
	const char *p = ++f->s;
	while (p < f->end && *p != '"') {
		if (*p < 0x20 || *p > 0x7e || *p == '\\')
			return 0;
		p++;
	}
	if (p >= f->end)
		return 0;
	*str = f->s;
	*len = (size_t)(p - f->s);
	f->s = p + 1;
	return 1;
}

static const char *flat_digits(const char *p, const char *end)
{
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

/* A JSON number whose value is what jansson makes of it: integers of at
 * most 18 digits (no overflow possible), reals that do not overflow. */
static int flat_number(struct flat_text *f, double *value)
{
	const char *p = f->s, *d;
	int real = 0;
	char tok[FLAT_NUM_MAX + 1];
	if (p < f->end && *p == '-')
		p++;
	d = flat_digits(p, f->end);
	if (d == p || (*p == '0' && d - p > 1))
		return 0;
	if (d - p > 18)
		real = 1; /* jansson might call it too big an integer: not here */
	p = d;
	if (p < f->end && *p == '.') {
		d = flat_digits(p + 1, f->end);
		if (d == p + 1)
			return 0;
		p = d;
		real = 2;
	}
	if (p < f->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < f->end && (*p == '+' || *p == '-'))
			p++;
		d = flat_digits(p, f->end);
		if (d == p)
			return 0;
		p = d;
		real = 2;
	}
	if (real == 1 || p - f->s > FLAT_NUM_MAX)
		return 0;
	memcpy(tok, f->s, (size_t)(p - f->s));
	tok[p - f->s] = 0;
	if (real) {
		*value = strtod(tok, NULL);
		if (*value == HUGE_VAL || *value == -HUGE_VAL)
			return 0;
	} else {
		*value = (double)strtoll(tok, NULL, 10);
	}
	f->s = p;
	return 1;
}

static int flat_word(struct flat_text *f, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(f->end - f->s) < n || memcmp(f->s, w, n))
		return 0;
	f->s += n;
	return 1;
}

/* One "name": value pair into f->pair; 0 when not on the fast path. */
static int flat_pair(struct flat_text *f)
{
	struct flat_pair *kv = &f->pair[f->n];
	const char *str;
	size_t len;
	if (f->n == FLAT_MAX || !flat_string(f, &kv->name, &kv->len) || kv->len > 1000)
		return 0;
	for (size_t i = 0; i < f->n; i++)
		if (f->pair[i].len == kv->len && !memcmp(f->pair[i].name, kv->name, kv->len))
			return 0; /* a repeated name: jansson keeps the last value */
	flat_ws(f);
	if (f->s >= f->end || *f->s++ != ':')
		return 0;
	flat_ws(f);
	kv->number = f->s < f->end && (*f->s == '-' || (*f->s >= '0' && *f->s <= '9'));
	if (kv->number ? !flat_number(f, &kv->value)
	               : !flat_string(f, &str, &len) && !flat_word(f, "null") &&
	                     !flat_word(f, "true") && !flat_word(f, "false"))
		return 0;
	f->n++;
	flat_ws(f);
	return 1;
}

/* Parse text as a flat object into f: 1, or 0 when it is not one. */
static int flat_parse(struct flat_text *f, const char *text, size_t len)
{
	f->s = text;
	f->end = text + len;
	f->n = 0;
	flat_ws(f);
	if (f->s >= f->end || *f->s++ != '{')
		return 0;
	flat_ws(f);
	if (f->s < f->end && *f->s == '}') {
		f->s++;
	} else {
		for (;;) {
			if (!flat_pair(f) || f->s >= f->end)
				return 0;
			if (*f->s == '}') {
				f->s++;
				break;
			}
			if (*f->s++ != ',')
				return 0;
			flat_ws(f);
		}
	}
	flat_ws(f);
	return f->s == f->end;
}

static int add_flat(struct metrics_ds *ds, const char *group, struct ds_point pt,
                    const struct flat_text *f, char *err, size_t errlen)
{
	char name[1024];
	for (size_t i = 0; i < f->n; i++) {
		const struct flat_pair *kv = &f->pair[i];
		if (!kv->number)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)kv->len, kv->name);
		struct ds_list *l = series_for(ds, group, name);
		pt.value = kv->value;
		if (!l || list_push(l, pt)) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		ds->npoints++;
	}
	return 0;
}

int metrics_ds_add_text(struct metrics_ds *ds, const char *group, int64_t steps, double time,
                        const char *body, size_t len, char *err, size_t errlen)
{
	struct ds_point pt = {.step = (double)steps, .time = time};
	struct flat_text f;
	if (flat_parse(&f, body, len))
		return add_flat(ds, group, pt, &f, err, errlen);
	/* anything else: the same parse as the store's JSON rows (store_row_json) */
	json_t *m = json_loadb(body, len, JSON_DECODE_ANY, NULL);
	int rv = json_is_object(m) ? add_metrics(ds, group, pt, m, err, errlen) : 0;
	json_decref(m);
	return rv;
}

json_t *metrics_ds_finish(struct metrics_ds *ds, size_t max_points, char *err, size_t errlen)
{
	if (max_points < METRICS_DS_MIN_POINTS) {
		snprintf(err, errlen, "max_points: too small");
		return NULL;
	}
	for (size_t i = 0; i < ds->nlists; i++) {
		json_t *s = json_array_get(ds->out, i);
		if (emit(s, &ds->lists[i], max_points) ||
		    json_object_set_new(s, "rows", json_integer((json_int_t)ds->lists[i].n))) {
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
	}
	json_t *out = ds->out;
	ds->out = NULL;
	return out;
}

json_t *metrics_ds_series(const json_t *rows, size_t max_points, char *err, size_t errlen)
{
	struct metrics_ds *ds = metrics_ds_new();
	json_t *out = NULL;
	if (!ds) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!metrics_ds_add(ds, rows, err, errlen))
		out = metrics_ds_finish(ds, max_points, err, errlen);
	metrics_ds_free(ds);
	return out;
}
