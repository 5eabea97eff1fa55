/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Template endpoints (/templates): parse the request, call template.c, answer. */
#include <stdio.h>

#include "api_internal.h"
#include "template.h"

void api_template_list(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *out = NULL;
	char err[256];
	enum exp_status status = template_list(a, &c->who, &out, err, sizeof(err));
	api_exp_answer(rep, status, out, err);
}

void api_template_get(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *out = NULL;
	char err[512];
	enum exp_status status = template_get(a, &c->who, c->uuid, &out, err, sizeof(err));
	api_exp_answer(rep, status, out, err);
}

/* POST /templates {name, config, workspace?} creates; POST /templates/{name} {config} replaces. */
static void put(struct app *a, struct api_call *c, struct http_reply *rep, int create)
{
	json_t *cfg = json_object_get(c->body, "config");
	json_t *name = create ? json_object_get(c->body, "name") : NULL;
	json_t *ws = json_object_get(c->body, "workspace");
	char err[1024];

	if (!json_is_string(cfg) || (create && !json_is_string(name)) ||
	    (ws && !json_is_string(ws) && !json_is_null(ws))) {
		api_error(rep, 400, "expected {%s\"config\": YAML text%s}",
		          create ? "\"name\", " : "",
		          create ? ", \"workspace\": ID or NAME (none: global)" : "");
		return;
	}
	const char *n = create ? json_string_value(name) : c->uuid;
	enum exp_status status =
	    template_put(a, &c->who, n, json_string_value(cfg), json_string_length(cfg), create,
	                 json_string_value(ws), err, sizeof(err));
	if (status != EXP_OK) {
		api_exp_error(rep, status, err);
		return;
	}
	json_t *out = NULL;
	status = template_get(a, &c->who, n, &out, err, sizeof(err));
	api_exp_answer(rep, status, out, err);
}

void api_template_create(struct app *a, struct api_call *c, struct http_reply *rep)
{
	put(a, c, rep, 1);
}

void api_template_set(struct app *a, struct api_call *c, struct http_reply *rep)
{
	put(a, c, rep, 0);
}

void api_template_delete(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[512];
	enum exp_status status = template_delete(a, &c->who, c->uuid, err, sizeof(err));
	api_exp_answer(rep, status, NULL, err);
}
