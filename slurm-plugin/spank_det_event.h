/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bodies of the reports spank_det sends to det-master
 * (POST /api/v1/allocations/{job_id}/events), built from plain values so
 * they are unit-tested without Slurm.
 */
#ifndef DET_SPANK_EVENT_H
#define DET_SPANK_EVENT_H

#include <jansson.h>
#include <stdint.h>

#define DET_EVENT_NONE 0xffffffffu /* "not set" for the ids below */

/* What slurmstepd knows about one step on one node. */
struct det_alloc_info {
	uint32_t experiment_id;
	uint32_t job_id;
	uint32_t step_id;       /* Slurm's step id, batch and extern steps included */
	uint32_t array_job_id;  /* DET_EVENT_NONE when not an array task */
	uint32_t array_task_id; /* DET_EVENT_NONE when not an array task */
	uint32_t uid;
	uint32_t node_index; /* this node's rank in the step */
	uint32_t nnodes;
	uint32_t cpus;          /* CPUs of the job on this node */
	uint32_t restart_count; /* times Slurm requeued the job */
	char node[64];          /* Slurm node name */
	char gpus[256];         /* CUDA_VISIBLE_DEVICES as given, "" when none */
	char pool[64];          /* resource pool, "" when unknown */
};

/* Step id as text: "batch", "extern", "interactive" or the number. */
const char *det_event_step_name(uint32_t step_id, char *buf, size_t buflen);

/* {"type": "allocation", ...}; NULL when out of memory. */
json_t *det_event_allocation(const struct det_alloc_info *info);

/* {"type": "task_exit", ..., "task": T, "exit_code": C|null, "signal": S|null}
 * from a raw wait status; NULL when out of memory. */
json_t *det_event_task_exit(const struct det_alloc_info *info, uint32_t task, int wait_status);

#endif
