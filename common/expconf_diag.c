/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Diagnostics of the experiment-config parser: an array of
 * (severity, line, column, key path, message) that grows up to
 * EXPCONF_MAX_DIAGS entries. Past the cap, or when memory runs out, a
 * diagnostic is only counted (dropped) but an error still counts as an error,
 * so a caller never mistakes a failed parse for a clean one.
 */
#include "expconf_diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void expconf_diags_init(struct expconf_diags *d, const char *file)
{
	memset(d, 0, sizeof(*d));
	d->file = strdup(file ? file : "<config>");
}

void expconf_diag_add(struct expconf_diags *d, enum expconf_severity sev, int line, int column,
                      const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	expconf_diag_vadd(d, sev, line, column, path, fmt, ap);
	va_end(ap);
}

void expconf_diag_vadd(struct expconf_diags *d, enum expconf_severity sev, int line, int column,
                       const char *path, const char *fmt, va_list ap)
{
	struct expconf_diag *item;
	char *msg = NULL;
	int n;

	if (sev == EXPCONF_ERROR)
		d->errors++;
	if (d->count >= EXPCONF_MAX_DIAGS)
		goto drop;
	if (!d->items) {
		d->items = calloc(EXPCONF_MAX_DIAGS, sizeof(*d->items));
		if (!d->items)
			goto drop;
	}
	n = vasprintf(&msg, fmt, ap);
	if (n < 0)
		goto drop;
	item = &d->items[d->count];
	item->path = strdup(path ? path : "");
	if (!item->path) {
		free(msg);
		goto drop;
	}
	item->severity = sev;
	item->line = line;
	item->column = column;
	item->message = msg;
	d->count++;
	return;
drop:
	d->dropped++;
}

static int diag_cmp(const struct expconf_diag *a, const struct expconf_diag *b)
{
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->column != b->column)
		return a->column < b->column ? -1 : 1;
	return 0;
}

void expconf_diags_sort(struct expconf_diags *d)
{
	size_t i, j;

	/* Insertion sort: stable, and at most EXPCONF_MAX_DIAGS items. */
	for (i = 1; i < d->count; i++) {
		struct expconf_diag tmp = d->items[i];

		for (j = i; j > 0 && diag_cmp(&d->items[j - 1], &tmp) > 0; j--)
			d->items[j] = d->items[j - 1];
		d->items[j] = tmp;
	}
}

void expconf_diags_print(const struct expconf_diags *diags, FILE *out)
{
	const char *file = diags->file ? diags->file : "<config>";
	size_t i;

	for (i = 0; i < diags->count; i++) {
		const struct expconf_diag *g = &diags->items[i];
		const char *sev = g->severity == EXPCONF_ERROR ? "error" : "warning";

		if (g->line > 0)
			fprintf(out, "%s:%d:%d: ", file, g->line, g->column);
		else
			fprintf(out, "%s: ", file);
		if (g->path && g->path[0])
			fprintf(out, "%s: ", g->path);
		fprintf(out, "%s: %s\n", sev, g->message);
	}
	if (diags->dropped)
		fprintf(out, "%s: note: %zu more diagnostics not shown (limit %d)\n", file,
		        diags->dropped, EXPCONF_MAX_DIAGS);
}

void expconf_diags_free(struct expconf_diags *diags)
{
	size_t i;

	if (!diags)
		return;
	for (i = 0; i < diags->count; i++) {
		free(diags->items[i].path);
		free(diags->items[i].message);
	}
	free(diags->items);
	free(diags->file);
	memset(diags, 0, sizeof(*diags));
}
