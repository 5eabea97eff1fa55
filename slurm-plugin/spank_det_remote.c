/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spank_det in the remote context (slurmstepd, one per step and node): for a
 * det job it exports the DET_* variables the plugin knows, reports the
 * allocation when the step starts and each task's exit to det-master.
 * Main data structure: one static context struct for this step, cleared in
 * the exit phase. Non-obvious decision: after the first failed report the
 * master counts as unreachable for the rest of the step, so a step with many
 * tasks waits for at most one timeout, and (unless required_master=yes) the
 * user's job never fails because of the master.
 */
#include "spank_det.h"
#include "spank_det_event.h"
#include "spank_det_step.h"

#include <slurm/slurm.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
	int active;      /* this step belongs to a det experiment */
	int master_down; /* a report failed: skip the rest */
	const struct det_spank_args *args;
	struct det_alloc_info info;
	char tmpdir[DET_SPANK_PATH_MAX + 64]; /* this step's temp dir, "" when none */
} ctx;

/* Option value, else the job control env that sbatch set (SLURM_SPANK_NAME). */
static void lookup(spank_t sp, const char *opt, const char *name, char *buf, int len)
{
	char var[64];

	if (opt[0]) {
		snprintf(buf, (size_t)len, "%s", opt);
		return;
	}
	snprintf(var, sizeof(var), "SLURM_SPANK_%s", name);
	if (spank_getenv(sp, var, buf, len) != ESPANK_SUCCESS)
		buf[0] = '\0';
}

static int parse_id(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)s[0]) || s[0] == '0')
		return -1; /* strtoul alone would take " 5", "+5" and "-5" */
	v = strtoul(s, &end, 10);
	if (*end || v > 2147483647ul)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static void get_u32(spank_t sp, spank_item_t item, uint32_t *out, uint32_t dflt)
{
	if (spank_get_item(sp, item, out) != ESPANK_SUCCESS)
		*out = dflt;
}

/* Slurm's name of this node: entry node_index of the step's (or, for the
 * batch step, the job's) node list. gethostname() would give the host, which
 * differs from the node name where several slurmd share a host. */
static int slurm_node_name(spank_t sp, uint32_t node_index, char *buf, size_t len)
{
	static const char *const lists[] = {"SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST"};
	char nodes[4096];
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(23, 11, 0)
	hostlist_t *hl = NULL; /* a struct since 23.11, a pointer type before */
#else
	hostlist_t hl = NULL;
#endif
	char *host;
	int rv = -1;

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]) && !hl; i++)
		if (spank_getenv(sp, lists[i], nodes, sizeof(nodes)) == ESPANK_SUCCESS)
			hl = slurm_hostlist_create(nodes);
	if (!hl)
		return -1;
	for (uint32_t i = 0; rv < 0 && (host = slurm_hostlist_shift(hl)); i++) {
		if (i == node_index && strlen(host) < len) {
			memcpy(buf, host, strlen(host) + 1);
			rv = 0;
		}
		free(host);
	}
	slurm_hostlist_destroy(hl);
	return rv;
}

static void fill_info(spank_t sp, struct det_alloc_info *info)
{
	uint16_t ncpus = 0;
	uid_t uid = 0;

	get_u32(sp, S_JOB_ID, &info->job_id, 0);
	get_u32(sp, S_JOB_STEPID, &info->step_id, DET_EVENT_NONE);
	get_u32(sp, S_JOB_ARRAY_ID, &info->array_job_id, DET_EVENT_NONE);
	get_u32(sp, S_JOB_ARRAY_TASK_ID, &info->array_task_id, DET_EVENT_NONE);
	/* Slurm says 0 / NO_VAL (0xfffffffe) when the job is not an array task. */
	if (info->array_job_id == 0 || info->array_task_id >= 0xfffffffeu) {
		info->array_job_id = DET_EVENT_NONE;
		info->array_task_id = DET_EVENT_NONE;
	}
	get_u32(sp, S_JOB_NODEID, &info->node_index, 0);
	get_u32(sp, S_JOB_NNODES, &info->nnodes, 1);
	if (spank_get_item(sp, S_JOB_NCPUS, &ncpus) == ESPANK_SUCCESS)
		info->cpus = ncpus;
	if (spank_get_item(sp, S_JOB_UID, &uid) == ESPANK_SUCCESS)
		info->uid = (uint32_t)uid;
	get_u32(sp, S_SLURM_RESTART_COUNT, &info->restart_count, 0);
	if (slurm_node_name(sp, info->node_index, info->node, sizeof(info->node)) < 0 &&
	    gethostname(info->node, sizeof(info->node) - 1) < 0)
		snprintf(info->node, sizeof(info->node), "unknown");
	if (spank_getenv(sp, "CUDA_VISIBLE_DEVICES", info->gpus, sizeof(info->gpus)) !=
	    ESPANK_SUCCESS)
		info->gpus[0] = '\0';
}

static int set_env(spank_t sp, const char *name, const char *value, int overwrite)
{
	spank_err_t rc = spank_setenv(sp, name, value, overwrite);

	if (rc != ESPANK_SUCCESS && rc != ESPANK_ENV_EXISTS) {
		slurm_error(DET_SPANK_PREFIX "cannot set %s: %s", name, spank_strerror(rc));
		return -1;
	}
	return 0;
}

static int export_env(spank_t sp)
{
	char num[16];
	const struct det_alloc_info *info = &ctx.info;

	/* A DET_MASTER the user set on purpose wins over the site's. */
	if (ctx.args->master[0] && set_env(sp, "DET_MASTER", ctx.args->master, 0) < 0)
		return -1;
	snprintf(num, sizeof(num), "%u", info->experiment_id);
	if (set_env(sp, "DET_EXPERIMENT_ID", num, 1) < 0)
		return -1;
	snprintf(num, sizeof(num), "%u", info->job_id);
	if (set_env(sp, "DET_ALLOCATION_ID", num, 1) < 0)
		return -1;
	if (info->pool[0] && set_env(sp, "DET_RESOURCE_POOL", info->pool, 1) < 0)
		return -1;
	if (info->array_job_id != DET_EVENT_NONE) {
		snprintf(num, sizeof(num), "%u", info->array_job_id);
		if (set_env(sp, "DET_ARRAY_JOB_ID", num, 1) < 0)
			return -1;
		snprintf(num, sizeof(num), "%u", info->array_task_id);
		if (set_env(sp, "DET_ARRAY_TASK_ID", num, 1) < 0)
			return -1;
	}
	return 0;
}

/* This step's private TMPDIR (created as the user: user_init runs with the
 * user's privileges) and its rendezvous port pair, for det-launch. A failure
 * leaves the ranks with their own choice and is logged, not fatal. */
static void export_step_resources(spank_t sp)
{
	const struct det_alloc_info *info = &ctx.info;
	char path[sizeof(ctx.tmpdir)], num[16], err[256];
	int port;

	if (det_step_tmpdir_path(ctx.args->tmpdir_base, info->job_id, info->step_id, path,
	                         sizeof(path)) < 0) {
		slurm_error(DET_SPANK_PREFIX "job %u: no step temp dir: path too long",
		            info->job_id);
	} else if (det_step_tmpdir_create(path, (uid_t)info->uid, err, sizeof(err)) < 0) {
		slurm_error(DET_SPANK_PREFIX "job %u: no step temp dir: %s", info->job_id, err);
	} else {
		memcpy(ctx.tmpdir, path, sizeof(path));
		set_env(sp, "TMPDIR", path, 1);
	}
	port = det_step_port_pick(info->job_id, info->step_id, ctx.args->port_lo, ctx.args->port_hi,
	                          det_step_port_free);
	if (port < 0) {
		slurm_error(DET_SPANK_PREFIX "job %u: no free port pair in %d-%d", info->job_id,
		            ctx.args->port_lo, ctx.args->port_hi);
		return;
	}
	snprintf(num, sizeof(num), "%d", port);
	set_env(sp, "DET_RENDEZVOUS_PORT", num, 1);
}

/* Send one event (consumed). Failure counts only with required_master=yes. */
static int report(json_t *event, const char *what)
{
	char err[256];
	int rc;

	if (!ctx.args->master[0] || ctx.master_down) {
		json_decref(event);
		return ctx.master_down && ctx.args->required_master ? -1 : 0;
	}
	if (!event) {
		slurm_error(DET_SPANK_PREFIX "out of memory building the %s report", what);
		return ctx.args->required_master ? -1 : 0;
	}
	rc = det_report_send(ctx.args, ctx.info.job_id, event, err, sizeof(err));
	json_decref(event);
	if (rc == 0)
		return 0;
	ctx.master_down = 1;
	if (ctx.args->required_master) {
		slurm_error(DET_SPANK_PREFIX "job %u: %s report to %s failed: %s", ctx.info.job_id,
		            what, ctx.args->master, err);
		return -1;
	}
	slurm_info(DET_SPANK_PREFIX "job %u: %s report to %s failed (job goes on): %s",
	           ctx.info.job_id, what, ctx.args->master, err);
	return 0;
}

int det_remote_user_init(spank_t sp, const struct det_spank_args *args)
{
	const struct det_spank_options *o = det_options_get();
	char value[64];

	memset(&ctx, 0, sizeof(ctx));
	ctx.args = args;
	lookup(sp, o->experiment, DET_SPANK_ENV_EXPERIMENT, value, sizeof(value));
	if (!value[0])
		return 0; /* not a det job */
	if (parse_id(value, &ctx.info.experiment_id) < 0) {
		slurm_error(DET_SPANK_PREFIX "experiment id '%s' is not a positive integer", value);
		return -1;
	}
	lookup(sp, o->pool, DET_SPANK_ENV_POOL, ctx.info.pool, sizeof(ctx.info.pool));
	fill_info(sp, &ctx.info);
	ctx.active = 1;
	if (export_env(sp) < 0)
		return -1;
	export_step_resources(sp);
	return report(det_event_allocation(&ctx.info), "allocation");
}

int det_remote_task_exit(spank_t sp)
{
	int status = 0;
	uint32_t task = 0;

	if (!ctx.active)
		return 0;
	if (spank_get_item(sp, S_TASK_EXIT_STATUS, &status) != ESPANK_SUCCESS)
		return 0;
	get_u32(sp, S_TASK_GLOBAL_ID, &task, 0);
	return report(det_event_task_exit(&ctx.info, task, status), "task exit");
}

int det_remote_exit(spank_t sp)
{
	char err[256];

	if (ctx.active && ctx.tmpdir[0] &&
	    det_step_tmpdir_remove(ctx.tmpdir, (uid_t)ctx.info.uid, err, sizeof(err)) < 0)
		slurm_error(DET_SPANK_PREFIX "job %u: step temp dir: %s", ctx.info.job_id, err);
	memset(&ctx, 0, sizeof(ctx));
	return 0;
}
