/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * JSON bodies of spank_det's reports. Both events share the identity fields
 * (experiment, job, step, array ids, node) so the master can key each report
 * without remembering earlier ones. Non-obvious decision: GPUs are reported
 * as the strings CUDA_VISIBLE_DEVICES holds (indices or UUIDs), unparsed
 * beyond splitting at commas, so MIG and UUID forms pass through intact.
 */
#include "spank_det_event.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#define STEP_BATCH 0xfffffffbu
#define STEP_EXTERN 0xfffffffcu
#define STEP_INTERACTIVE 0xfffffffau

const char *det_event_step_name(uint32_t step_id, char *buf, size_t buflen)
{
	switch (step_id) {
	case STEP_BATCH:
		return "batch";
	case STEP_EXTERN:
		return "extern";
	case STEP_INTERACTIVE:
		return "interactive";
	default:
		snprintf(buf, buflen, "%u", step_id);
		return buf;
	}
}

static json_t *id_or_null(uint32_t v)
{
	return v == DET_EVENT_NONE ? json_null() : json_integer(v);
}

static json_t *gpu_list(const char *s)
{
	json_t *arr = json_array();
	const char *p = s;

	if (!arr)
		return NULL;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (n && json_array_append_new(arr, json_stringn(p, n)) < 0) {
			json_decref(arr);
			return NULL;
		}
		p += n + (comma ? 1 : 0);
	}
	return arr;
}

/* The fields every event carries. */
static json_t *event_base(const char *type, const struct det_alloc_info *info)
{
	char step[16];

	return json_pack(
	    "{s:s, s:I, s:I, s:s, s:o, s:o, s:s, s:I, s:I, s:I}", "type", type, "experiment_id",
	    (json_int_t)info->experiment_id, "job_id", (json_int_t)info->job_id, "step",
	    det_event_step_name(info->step_id, step, sizeof(step)), "array_job_id",
	    id_or_null(info->array_job_id), "array_task_id", id_or_null(info->array_task_id),
	    "node", info->node, "node_index", (json_int_t)info->node_index, "nnodes",
	    (json_int_t)info->nnodes, "uid", (json_int_t)info->uid);
}

json_t *det_event_allocation(const struct det_alloc_info *info)
{
	json_t *ev = event_base("allocation", info);
	json_t *gpus = gpu_list(info->gpus);

	if (!ev || !gpus)
		goto fail;
	if (json_object_set_new(ev, "gpus", gpus) < 0) {
		gpus = NULL;
		goto fail;
	}
	gpus = NULL;
	if (json_object_set_new(ev, "cpus", json_integer(info->cpus)) < 0 ||
	    json_object_set_new(ev, "restart_count", json_integer(info->restart_count)) < 0 ||
	    json_object_set_new(ev, "resource_pool",
	                        info->pool[0] ? json_string(info->pool) : json_null()) < 0)
		goto fail;
	return ev;
fail:
	json_decref(gpus);
	json_decref(ev);
	return NULL;
}

json_t *det_event_task_exit(const struct det_alloc_info *info, uint32_t task, int wait_status)
{
	json_t *ev = event_base("task_exit", info);
	json_t *code =
	    WIFEXITED(wait_status) ? json_integer(WEXITSTATUS(wait_status)) : json_null();
	json_t *sig = WIFSIGNALED(wait_status) ? json_integer(WTERMSIG(wait_status)) : json_null();

	int rc;

	if (!ev || json_object_set_new(ev, "task", json_integer(task)) < 0)
		goto fail;
	rc = json_object_set_new(ev, "exit_code", code); /* steals code, even on error */
	code = NULL;
	if (rc < 0)
		goto fail;
	rc = json_object_set_new(ev, "signal", sig);
	sig = NULL;
	if (rc < 0)
		goto fail;
	return ev;
fail:
	json_decref(code);
	json_decref(sig);
	json_decref(ev);
	return NULL;
}
