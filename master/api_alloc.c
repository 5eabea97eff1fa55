/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * POST /allocations/{job_id}/events: what spank_det reports from slurmstepd
 * (doc/api.md "Reports from the Slurm plugin"). Every field is checked, the
 * sender must be allowed to speak for the experiment (its owner or root for
 * "allocation"; only root for "task_exit", which slurmstepd sends as root),
 * and the event is stored as sent.
 */
#include <stdio.h>
#include <string.h>

#include "api_internal.h"
#include "authz.h"
#include "exp.h"

static int int_or_null(json_t *v)
{
	return !v || json_is_null(v) || json_is_integer(v);
}

static const char *check_common(json_t *b, int64_t job_id)
{
	json_t *v;
	if (!json_is_integer(json_object_get(b, "experiment_id")))
		return "experiment_id: expected an integer";
	v = json_object_get(b, "job_id");
	if (!json_is_integer(v) || json_integer_value(v) != job_id)
		return "job_id: expected the job id of the path";
	v = json_object_get(b, "step");
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 32)
		return "step: expected batch, extern, interactive or a step number";
	if (!int_or_null(json_object_get(b, "array_job_id")) ||
	    !int_or_null(json_object_get(b, "array_task_id")))
		return "array_job_id, array_task_id: expected integers or null";
	v = json_object_get(b, "node");
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 256)
		return "node: expected a node name";
	if (!json_is_integer(json_object_get(b, "node_index")) ||
	    !json_is_integer(json_object_get(b, "nnodes")) ||
	    !json_is_integer(json_object_get(b, "uid")))
		return "node_index, nnodes, uid: expected integers";
	return NULL;
}

static const char *check_allocation(json_t *b)
{
	json_t *gpus = json_object_get(b, "gpus"), *pool = json_object_get(b, "resource_pool");
	size_t i;
	json_t *g;
	if (!json_is_integer(json_object_get(b, "cpus")) ||
	    !json_is_integer(json_object_get(b, "restart_count")))
		return "cpus, restart_count: expected integers";
	if (!json_is_array(gpus) || json_array_size(gpus) > 1024)
		return "gpus: expected an array of device names";
	json_array_foreach (gpus, i, g) {
		if (!json_is_string(g) || json_string_length(g) > 64)
			return "gpus: expected an array of device names";
	}
	if (pool && !json_is_null(pool) && !json_is_string(pool))
		return "resource_pool: expected a string or null";
	return NULL;
}

static const char *check_task_exit(json_t *b)
{
	json_t *code = json_object_get(b, "exit_code"), *sig = json_object_get(b, "signal");
	if (!json_is_integer(json_object_get(b, "task")))
		return "task: expected an integer";
	if (!int_or_null(code) || !int_or_null(sig))
		return "exit_code, signal: expected integers or null";
	if (json_is_integer(code) == json_is_integer(sig))
		return "exactly one of exit_code and signal must be set";
	return NULL;
}

void api_allocation_events(struct app *a, struct api_call *c, struct http_reply *rep)
{
	const char *type = json_string_value(json_object_get(c->body, "type"));
	const char *why;
	char err[256];

	if (!type || (strcmp(type, "allocation") && strcmp(type, "task_exit"))) {
		api_error(rep, 400, "type: expected allocation or task_exit");
		return;
	}
	why = check_common(c->body, c->id);
	if (!why)
		why = !strcmp(type, "allocation") ? check_allocation(c->body)
		                                  : check_task_exit(c->body);
	if (why) {
		api_error(rep, 400, "%s", why);
		return;
	}
	int64_t exp = json_integer_value(json_object_get(c->body, "experiment_id"));
	pthread_mutex_lock(&a->lock);
	struct exp_rt *e = exp_find_locked(a, exp);
	int64_t owner = e ? e->owner_id : 0;
	pthread_mutex_unlock(&a->lock);
	if (!e) {
		api_error(rep, 404, "experiment %lld not found", (long long)exp);
		return;
	}
	if (!authz_allowed(&c->who,
	                   strcmp(type, "allocation") ? AUTHZ_TASK_EVENT : AUTHZ_ALLOCATION_EVENT,
	                   owner)) {
		api_error(rep, 403, "%s events for experiment %lld come from %s", type,
		          (long long)exp,
		          strcmp(type, "allocation") ? "root" : "its owner or root");
		return;
	}
	json_t *row =
	    json_pack("{s:I, s:I, s:s, s:O, s:f}", "experiment_id", (json_int_t)exp, "job_id",
	              (json_int_t)c->id, "type", type, "body", c->body, "created_at", app_now());
	struct store_op op = {.kind = STORE_INSERT, .table = "allocation_events", .row = row};
	int rc = row ? store_write(a->store, &op, 1, err, sizeof(err)) : -1;
	json_decref(row);
	if (rc) {
		api_error(rep, 500, "%s", row ? err : "out of memory");
		return;
	}
	log_msg(&a->log, LOG_LEVEL_DEBUG, "experiment %lld: %s event from job %lld", (long long)exp,
	        type, (long long)c->id);
	api_json(rep, 200, NULL);
}
