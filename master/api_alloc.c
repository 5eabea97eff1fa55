/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * POST /allocations/{job_id}/events: what spank_det reports from slurmstepd
 * (doc/api.md "Reports from the Slurm plugin"). Every field is checked, the
 * sender must be allowed to speak for the experiment (its owner or root for
 * "allocation"; only root for "task_exit", which slurmstepd sends as root),
 * and the event is stored as sent. The batch step's reports then go to the
 * resource manager (rm_ops.task_report): they are how it learns a task's
 * start and end first, before its next poll of the scheduler.
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
	json_t *restarts = json_object_get(b, "restart_count");
	if (!json_is_integer(json_object_get(b, "cpus")) || !json_is_integer(restarts) ||
	    json_integer_value(restarts) < 0 || json_integer_value(restarts) > UINT32_MAX)
		return "cpus, restart_count: expected integers (restart_count 0 or more)";
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
	if (json_is_integer(code) &&
	    (json_integer_value(code) < 0 || json_integer_value(code) > 255))
		return "exit_code: expected 0 to 255";
	if (json_is_integer(sig) && (json_integer_value(sig) < 1 || json_integer_value(sig) > 127))
		return "signal: expected 1 to 127";
	return NULL;
}

/* The id field k of b when it is a Slurm id (1 to 2^32-2, index fields from 0); else -1. */
static int64_t slurm_id(json_t *b, const char *k, int64_t min)
{
	json_t *v = json_object_get(b, k);
	json_int_t x = json_is_integer(v) ? json_integer_value(v) : -1;
	return x >= min && x < (json_int_t)UINT32_MAX - 1 ? (int64_t)x : -1;
}

/* A batch script's start or end (the array task's own), for the resource manager. Reports
 * of other steps (srun ranks, extern) say nothing about the task's end. */
static void report_to_rm(struct app *a, json_t *b, int64_t exp, int ended)
{
	const char *step = json_string_value(json_object_get(b, "step"));
	int64_t job = slurm_id(b, "job_id", 1), array = slurm_id(b, "array_job_id", 1),
	        task = slurm_id(b, "array_task_id", 0);
	json_t *code = json_object_get(b, "exit_code");

	if (!a->rm->ops->task_report || !step || strcmp(step, "batch") || job < 0 || array < 0 ||
	    task < 0)
		return;
	struct rm_task_report r = {.experiment_id = exp,
	                           .job_id = (uint32_t)job,
	                           .array_job_id = (uint32_t)array,
	                           .array_task_id = (uint32_t)task,
	                           .ended = ended};
	if (!ended)
		r.restart_count = (unsigned)json_integer_value(json_object_get(b, "restart_count"));
	else if (json_is_integer(code))
		r.wait_status = (int)json_integer_value(code) << 8; /* as waitpid(2) has it */
	else
		r.wait_status = (int)json_integer_value(json_object_get(b, "signal"));
	a->rm->ops->task_report(a->rm, &r);
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
	report_to_rm(a, c->body, exp, strcmp(type, "allocation") != 0);
	api_json(rep, 200, NULL);
}
