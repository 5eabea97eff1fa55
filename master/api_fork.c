/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * POST /experiments/{id}/fork: a new experiment with the source's model
 * definition and its config with overrides merged over it (the overrides
 * win, maps merge key by key: common/expconf_merge.c), recording the source
 * as its parent_id. The caller must be allowed to read the source (403) and
 * to write the project the fork goes to (the source's, unless named).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "authz.h"
#include "exp.h"
#include "expconf.h"
#include "workspace.h"

/* The source's YAML with the overrides merged over it (malloc'd), or NULL with err. */
static char *fork_config(const char *source, const char *overrides, size_t olen, char *err,
                         size_t errlen)
{
	char why[512];
	json_t *s = expconf_yaml_json(source, strlen(source), why, sizeof(why)), *o = NULL, *m;
	char *text = NULL;

	if (!s) {
		snprintf(err, errlen, "the source's config: %s", why);
		return NULL;
	}
	o = expconf_yaml_json(overrides, olen, why, sizeof(why));
	if (!o) {
		snprintf(err, errlen, "config: %s", why);
		json_decref(s);
		return NULL;
	}
	m = expconf_merge(s, o);
	text = m ? json_dumps(m, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
	if (!text)
		snprintf(err, errlen, "out of memory");
	json_decref(s);
	json_decref(o);
	json_decref(m);
	return text;
}

void api_exp_fork(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *ov = json_object_get(c->body, "config");
	json_t *proj = json_object_get(c->body, "project");
	json_t *act = json_object_get(c->body, "activate");
	char err[8192], project[24];
	char *yaml = NULL, *merged = NULL;
	void *model = NULL;
	size_t mlen = 0;
	json_t *out = NULL;
	int status = 200;

	if ((ov && !json_is_string(ov)) || (proj && !json_is_string(proj)) ||
	    (act && !json_is_boolean(act))) {
		api_error(rep, 400,
		          "expected {\"config\": YAML overrides, \"project\": ID or "
		          "WORKSPACE/PROJECT, \"activate\": true|false}, each optional");
		return;
	}
	pthread_mutex_lock(&a->lock);
	struct exp_rt *e = exp_find_locked(a, c->id);
	if (!e) {
		snprintf(err, sizeof(err), "experiment %lld not found", (long long)c->id);
		status = 404;
	} else if (!workspace_exp_allowed_locked(a, &c->who, e, AUTHZ_EXP_READ)) {
		snprintf(err, sizeof(err), "user %s may not read experiment %lld", c->who.name,
		         (long long)c->id);
		status = 403;
	} else {
		yaml = strdup(json_string_value(json_object_get(e->row, "config_yaml")) ?: "");
		snprintf(project, sizeof(project), "%lld",
		         (long long)json_integer_value(json_object_get(e->row, "project_id")));
		status = yaml ? 200 : 500;
	}
	pthread_mutex_unlock(&a->lock);
	if (status != 200)
		goto out;
	if (store_model_def(a->store, c->id, &model, &mlen, err, sizeof(err)) && err[0]) {
		status = 500;
		goto out;
	}
	if (ov) {
		merged = fork_config(yaml, json_string_value(ov), json_string_length(ov), err,
		                     sizeof(err));
		if (!merged) {
			status = 400;
			goto out;
		}
	}
	const char *text = merged ? merged : yaml;
	status =
	    exp_create(a, &c->who, text, strlen(text), model, mlen, act ? json_is_true(act) : 1, 0,
	               proj ? json_string_value(proj) : project, c->id, &out, err, sizeof(err));
out:
	if (status == 200)
		api_json(rep, 200, out);
	else
		api_error(rep, status, "%s", err);
	free(yaml);
	free(merged);
	free(model);
}
