/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * POST /experiments/{id}/fork: a new experiment with the source's model
 * definition and its config with overrides merged over it (the overrides
 * win, maps merge key by key: common/expconf_merge.c), recording the source
 * as its parent_id. The caller must be allowed to read the source (403) and
 * to write the project the fork goes to (the source's, unless named).
 * POST /experiments/{id}/continue is a fork of a one-trial experiment whose
 * trial starts from that trial's latest checkpoint (Determined's
 * `det e continue`, as a new experiment: the source stays as it ended).
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

/* The searcher.source_checkpoint_uuid override that continues e's only trial
 * (lock held): YAML text (malloc'd), or NULL with err and *status. */
static char *continue_override(struct exp_rt *e, int *status, char *err, size_t errlen)
{
	const char *uuid = NULL;
	int n = 0;
	char *text;

	for (int i = 0; i < e->trials_cap; i++) {
		if (!e->trials[i])
			continue;
		n++;
		uuid = e->trials[i]->latest_checkpoint[0] ? e->trials[i]->latest_checkpoint : NULL;
	}
	if (n != 1 || !uuid) {
		snprintf(
		    err, errlen,
		    "experiment %lld has %d trials%s: continue takes one trial with a checkpoint",
		    (long long)e->id, n, n == 1 ? " and no checkpoint" : "");
		*status = 409;
		return NULL;
	}
	size_t len = strlen(uuid) + 64;
	text = malloc(len);
	if (text)
		snprintf(text, len, "searcher: {source_checkpoint_uuid: \"%s\"}\n", uuid);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		*status = 500;
		return NULL;
	}
	return text;
}

static void fork_or_continue(struct app *a, struct api_call *c, struct http_reply *rep, int cont)
{
	json_t *ov = json_object_get(c->body, "config");
	json_t *proj = json_object_get(c->body, "project");
	json_t *act = json_object_get(c->body, "activate");
	char err[8192], project[24];
	char *yaml = NULL, *merged = NULL, *cont_yaml = NULL;
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
		/* What one may not see is not there for one. */
		snprintf(err, sizeof(err), "experiment %lld not found", (long long)c->id);
		status = 404;
	} else {
		yaml = strdup(json_string_value(json_object_get(e->row, "config_yaml")) ?: "");
		snprintf(project, sizeof(project), "%lld", (long long)e->project_id);
		status = yaml ? 200 : 500;
		if (cont && status == 200)
			cont_yaml = continue_override(e, &status, err, sizeof(err));
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
	if (cont_yaml) {
		/* The starting checkpoint over the source's config and the overrides. */
		char *with = fork_config(merged ? merged : yaml, cont_yaml, strlen(cont_yaml), err,
		                         sizeof(err));
		if (!with) {
			status = 400;
			goto out;
		}
		free(merged);
		merged = with;
	}
	const char *text = merged ? merged : yaml;
	status = api_exp_http_status(
	    exp_create(a, &c->who, text, strlen(text), model, mlen, act ? json_is_true(act) : 1, 0,
	               proj ? json_string_value(proj) : project, c->id, &out, err, sizeof(err)));
out:
	if (status == 200)
		api_json(rep, 200, out);
	else
		api_error(rep, status, "%s", err);
	free(yaml);
	free(merged);
	free(cont_yaml);
	free(model);
}

void api_exp_fork(struct app *a, struct api_call *c, struct http_reply *rep)
{
	fork_or_continue(a, c, rep, 0);
}

void api_exp_continue(struct app *a, struct api_call *c, struct http_reply *rep)
{
	fork_or_continue(a, c, rep, 1);
}
