/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Endpoints about an experiment's job in the resource manager: the owner's
 * own submission (`det submit` ran sbatch and tells the master the job id)
 * and each array task's state and reason as the manager sees them (Slurm's
 * pending reasons included), for `det experiment describe`.
 */
#include <stdio.h>
#include <string.h>

#include "api_internal.h"
#include "exp.h"
#include "workspace.h"

#define JOB_ID_MAX 150

void api_exp_submitted(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *v = json_object_get(c->body, "job_id");
	const char *job = json_string_value(v);
	char err[512];

	if (!job || !*job || json_string_length(v) > JOB_ID_MAX ||
	    strspn(job, "0123456789+,") != json_string_length(v) || job[0] < '1' || job[0] > '9') {
		api_error(rep, 400,
		          "job_id: expected the Slurm array job id as text (\"123\", or "
		          "\"ID+OFFSET,...\" for several arrays; at most %d characters)",
		          JOB_ID_MAX);
		return;
	}
	enum exp_status status = exp_register_job(a, &c->who, c->id, job, err, sizeof(err));
	if (status != EXP_OK) {
		api_exp_error(rep, status, err);
		return;
	}
	api_exp_get(a, c, rep);
}

void api_exp_rm_tasks(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char job[sizeof(((struct exp_rt *)0)->rm_job)];
	pthread_mutex_lock(&a->lock);
	struct exp_rt *e = exp_find_locked(a, c->id);
	if (e && !workspace_exp_allowed_locked(a, &c->who, e, AUTHZ_EXP_READ))
		e = NULL;
	if (e)
		snprintf(job, sizeof(job), "%s", e->rm_job);
	pthread_mutex_unlock(&a->lock);
	if (!e) {
		api_error(rep, 404, "experiment %lld not found", (long long)c->id);
		return;
	}
	json_t *view = *job && a->rm->ops->describe ? a->rm->ops->describe(a->rm, job) : NULL;
	json_t *tasks = json_object_get(view, "tasks"), *refused = json_object_get(view, "refused");
	api_json(rep, 200,
	         json_pack("{s:s, s:s, s:o, s:o}", "resource_manager", a->rm->ops->name, "job_id",
	                   job, "tasks", tasks ? json_incref(tasks) : json_array(), "refused",
	                   refused ? json_incref(refused) : json_array()));
	json_decref(view);
}

void api_rm_prometheus(struct app *a, FILE *f)
{
	json_t *counts = a->rm->ops->rpc_counts ? a->rm->ops->rpc_counts(a->rm) : NULL;
	const char *op;
	json_t *v;

	if (!counts)
		return;
	fprintf(f,
	        "# HELP det_%s_rpcs_total Calls to the %s scheduler by kind.\n"
	        "# TYPE det_%s_rpcs_total counter\n",
	        a->rm->ops->name, a->rm->ops->name, a->rm->ops->name);
	json_object_foreach (counts, op, v) {
		fprintf(f, "det_%s_rpcs_total{op=\"%s\"} %lld\n", a->rm->ops->name, op,
		        (long long)json_integer_value(v));
	}
	json_decref(counts);
	json_t *gauges = a->rm->ops->gauges ? a->rm->ops->gauges(a->rm) : NULL;
	const char *name;
	json_object_foreach (gauges, name, v) {
		const char *rm = a->rm->ops->name;
		fprintf(f,
		        "# HELP det_%s_%s The %s manager's %s now (doc/ops.md).\n"
		        "# TYPE det_%s_%s gauge\ndet_%s_%s %g\n",
		        rm, name, rm, name, rm, name, rm, name, json_number_value(v));
	}
	json_decref(gauges);
}
