/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Model registry endpoints (/models): parse the request, call model.c, answer. */
#include <stdio.h>

#include "api_internal.h"
#include "model.h"

void api_model_list(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *out = NULL;
	char err[256];
	(void)c;
	enum exp_status status = model_list(a, &out, err, sizeof(err));
	api_exp_answer(rep, status, out, err);
}

void api_model_get(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *out = NULL;
	char err[512];
	enum exp_status status = model_get(a, c->uuid, &out, err, sizeof(err));
	api_exp_answer(rep, status, out, err);
}

void api_model_create(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *name = json_object_get(c->body, "name"),
	       *d = json_object_get(c->body, "description");
	char err[512];
	if (!json_is_string(name) || (d && !json_is_string(d))) {
		api_error(rep, 400, "expected {\"name\", \"description\"}");
		return;
	}
	enum exp_status status = model_create(a, &c->who, json_string_value(name),
	                                      json_string_value(d), err, sizeof(err));
	if (status != EXP_OK) {
		api_exp_error(rep, status, err);
		return;
	}
	snprintf(c->uuid, sizeof(c->uuid), "%s", json_string_value(name));
	api_model_get(a, c, rep);
}

void api_model_register(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *uuid = json_object_get(c->body, "checkpoint_uuid");
	int64_t version = 0;
	char err[512];
	if (!json_is_string(uuid)) {
		api_error(rep, 400, "checkpoint_uuid: expected a checkpoint's uuid");
		return;
	}
	enum exp_status status = model_register_version(
	    a, &c->who, c->uuid, json_string_value(uuid), &version, err, sizeof(err));
	if (status != EXP_OK)
		api_exp_error(rep, status, err);
	else
		api_json(rep, 200,
		         json_pack("{s:s, s:I, s:s}", "model", c->uuid, "version",
		                   (json_int_t)version, "checkpoint_uuid",
		                   json_string_value(uuid)));
}
