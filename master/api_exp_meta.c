/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * POST /experiments/{id}/set {description, notes, labels} (each optional):
 * what users edit about an experiment after creating it. Whoever may change
 * the experiment (authz.c, by its workspace's roles) may edit them; values
 * are checked before anything is written, and all of them are written in
 * one store update.
 */
#include <stdio.h>
#include <string.h>

#include "api_internal.h"
#include "authz.h"
#include "exp.h"
#include "workspace.h"

#define META_DESCRIPTION_MAX 1024
#define META_NOTES_MAX (64 * 1024)
#define META_LABEL_MAX 255
#define META_LABELS_MAX 100

/* 0 when s (len bytes) has no control character but, with multiline, \n and \t. */
static int text_ok(const char *s, size_t len, int multiline)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch < 0x20 || ch == 0x7f) && !(multiline && (ch == '\n' || ch == '\t')))
			return -1;
	}
	return 0;
}

/* The update row for the body's fields, or NULL after a 400 in rep. */
static json_t *meta_row(struct api_call *c, struct http_reply *rep)
{
	json_t *d = json_object_get(c->body, "description");
	json_t *n = json_object_get(c->body, "notes");
	json_t *l = json_object_get(c->body, "labels"), *x;
	size_t i;

	if (!d && !n && !l) {
		api_error(rep, 400, "expected description, notes or labels");
		return NULL;
	}
	if (d && (!json_is_string(d) || json_string_length(d) > META_DESCRIPTION_MAX ||
	          text_ok(json_string_value(d), json_string_length(d), 0))) {
		api_error(rep, 400,
		          "description: one line of at most %d bytes, no control characters",
		          META_DESCRIPTION_MAX);
		return NULL;
	}
	if (n && (!json_is_string(n) || json_string_length(n) > META_NOTES_MAX ||
	          text_ok(json_string_value(n), json_string_length(n), 1))) {
		api_error(rep, 400, "notes: text of at most %d bytes (newlines and tabs allowed)",
		          META_NOTES_MAX);
		return NULL;
	}
	if (l && (!json_is_array(l) || json_array_size(l) > META_LABELS_MAX)) {
		api_error(rep, 400, "labels: a list of at most %d strings", META_LABELS_MAX);
		return NULL;
	}
	json_array_foreach (l, i, x) {
		if (!json_is_string(x) || !json_string_length(x) ||
		    json_string_length(x) > META_LABEL_MAX ||
		    text_ok(json_string_value(x), json_string_length(x), 0)) {
			api_error(rep, 400, "labels[%zu]: 1 to %d bytes, no control characters", i,
			          META_LABEL_MAX);
			return NULL;
		}
	}
	json_t *row = json_pack("{s:I}", "id", (json_int_t)c->id);
	if (row && d)
		json_object_set(row, "description", d);
	if (row && n)
		json_object_set(row, "notes", n);
	if (row && l)
		json_object_set(row, "labels", l);
	if (!row)
		api_error(rep, 500, "out of memory");
	return row;
}

void api_exp_set(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[512];
	const char *k;
	json_t *v, *row = meta_row(c, rep);
	int status = 200;

	if (!row)
		return;
	pthread_mutex_lock(&a->lock);
	struct exp_rt *e = exp_find_locked(a, c->id);
	if (!e || !workspace_exp_allowed_locked(a, &c->who, e, AUTHZ_EXP_READ)) {
		snprintf(err, sizeof(err), "experiment %lld not found", (long long)c->id);
		status = 404;
	} else if (!workspace_exp_allowed_locked(a, &c->who, e, AUTHZ_EXP_CHANGE)) {
		snprintf(err, sizeof(err), "user %s may not change experiment %lld", c->who.name,
		         (long long)c->id);
		status = 403;
	} else {
		struct store_op op = {.kind = STORE_UPDATE, .table = "experiments", .row = row};
		if (store_write(a->store, &op, 1, err, sizeof(err))) {
			status = 500;
		} else {
			json_object_foreach (row, k, v) {
				if (strcmp(k, "id"))
					json_object_set(e->row, k, v);
			}
			/* The typed copies point into the row: the values just replaced. */
			e->labels = json_object_get(e->row, "labels");
			e->description = json_string_value(json_object_get(e->row, "description"));
		}
	}
	pthread_mutex_unlock(&a->lock);
	json_decref(row);
	if (status != 200)
		api_error(rep, status, "%s", err);
	else
		api_exp_get(a, c, rep);
}
