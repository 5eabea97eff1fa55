/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * job_submit/det: slurmctld plugin that applies det.conf's policy to det jobs
 * (jobs whose spank job env carries DET_EXPERIMENT_ID, set by spank_det) and
 * leaves every other job alone, at submission and at every update. The policy
 * itself is det_policy.c and det_policy_modify.c; this file is the thin shell
 * between it and job_desc_msg_t.
 *
 * Main data structure: one struct det_policy_conf loaded at init (the
 * plugin's only state). Non-obvious decision: built against the source tree
 * of the installed Slurm release (configure --with-slurm-src), so that
 * job_record_t comes from slurmctld's own slurmctld.h, and not linked with
 * libslurm: slurmctld provides the helpers, and every string handed to it
 * comes from its own allocator (slurm_xstrdup) because it frees with xfree.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>

#include "det_slurmctld.h"

#include "det_policy.h"

#ifndef DET_SLURM_CONF_DEFAULT
#define DET_SLURM_CONF_DEFAULT "/etc/det-slurm/det.conf"
#endif
#define CONF_MAX_BYTES (64 * 1024)

_Static_assert(DET_POLICY_NO_VAL == NO_VAL, "det_policy's NO_VAL must be Slurm's");

/*
 * Exported by slurmctld (libslurmfull) under these names; Slurm's headers
 * declare them under the names slurm_xlator.h maps (error, xstrdup).
 */
extern int slurm_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern char *slurm_xstrdup(const char *str);

/* The symbols slurmctld's plugin loader looks up. */
extern const char plugin_name[];
extern const char plugin_type[];
extern const uint32_t plugin_version;
extern int init(void);
extern int fini(void);
extern int job_submit(job_desc_msg_t *job_desc, uint32_t submit_uid, char **err_msg);
extern int job_modify(job_desc_msg_t *job_desc, void *job_ptr, uint32_t submit_uid);

const char plugin_name[] = "det-slurm job submit policy";
const char plugin_type[] = "job_submit/det";
const uint32_t plugin_version = SLURM_VERSION_NUMBER;

static struct det_policy_conf policy_conf;

/*
 * Read the whole file into a NUL-terminated buffer (bounded). NULL with
 * *missing set when there is no such file, NULL with a message otherwise.
 */
static char *read_conf(const char *path, int *missing, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n;

	*missing = 0;
	if (!f) {
		*missing = errno == ENOENT;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(CONF_MAX_BYTES + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory reading %s", path);
		goto fail;
	}
	n = fread(buf, 1, CONF_MAX_BYTES + 1, f);
	if (ferror(f) || n > CONF_MAX_BYTES) {
		snprintf(err, errlen, "%s: %s", path,
		         ferror(f) ? "read error" : "larger than 64 KiB");
		free(buf);
		buf = NULL;
		goto fail;
	}
	buf[n] = '\0';
fail:
	fclose(f);
	return buf;
}

/*
 * A missing det.conf is not an error: slurmctld must not stop over it (it
 * serves every job, not only det's), so the documented defaults apply. A
 * file that is there but unreadable or wrong still refuses, naming it.
 */
int init(void)
{
	const char *path = getenv("DET_SLURM_CONF");
	char err[512];
	char *text;
	int missing, rv = SLURM_ERROR;

	if (!path || !*path)
		path = DET_SLURM_CONF_DEFAULT;
	det_policy_conf_init(&policy_conf);
	text = read_conf(path, &missing, err, sizeof(err));
	if (!text && !missing)
		goto fail;
	if (text && det_policy_conf_parse(&policy_conf, text, path, err, sizeof(err)) < 0)
		goto fail;
	if (missing)
		slurm_info("job_submit/det: warning: %s not found, using the defaults", path);
	slurm_info("job_submit/det: %s: %zu pools, slots %u..%u, throttle cap %u",
	           missing ? "defaults" : path, policy_conf.npools, policy_conf.default_slots,
	           policy_conf.max_slots, policy_conf.max_array_throttle);
	rv = SLURM_SUCCESS;
fail:
	if (rv != SLURM_SUCCESS)
		slurm_error("job_submit/det: %s", err);
	free(text);
	return rv;
}

int fini(void)
{
	return SLURM_SUCCESS;
}

static void replace_str(char **field, const char *value)
{
	slurm_xfree((void **)field);
	*field = slurm_xstrdup(value);
}

/*
 * det_policy speaks TRES as Slurm 22.05 wrote them ("gres:gpu:2"); from 23.02
 * on slurmctld reads and shows them as "gres/gpu:2". Copies tres into buf in
 * the form the running release uses (to_slurm) or det_policy's (!to_slurm).
 */
static const char *tres_form(const char *tres, bool to_slurm, char *buf, size_t len)
{
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(23, 2, 0)
	size_t n = tres ? strlen(tres) : 0;

	if (tres && n < len && !strncmp(tres, to_slurm ? "gres:" : "gres/", 5)) {
		memcpy(buf, tres, n + 1);
		buf[4] = to_slurm ? '/' : ':';
		return buf;
	}
#endif
	(void)to_slurm;
	(void)buf;
	(void)len;
	return tres;
}

static void apply_out(job_desc_msg_t *job_desc, const struct det_job_out *out)
{
	char tres[sizeof(out->tres_per_node) + 1];

	replace_str(&job_desc->name, out->name);
	replace_str(&job_desc->admin_comment, out->admin_comment);
	if (out->partition[0])
		replace_str(&job_desc->partition, out->partition);
	if (out->tres_per_node[0])
		replace_str(&job_desc->tres_per_node,
		            tres_form(out->tres_per_node, true, tres, sizeof(tres)));
	if (out->array_inx[0])
		replace_str(&job_desc->array_inx, out->array_inx);
	if (out->time_limit_min != DET_POLICY_NO_VAL)
		job_desc->time_limit = out->time_limit_min;
	if (out->num_tasks != DET_POLICY_NO_VAL) {
		job_desc->num_tasks = out->num_tasks;
		if (job_desc->min_cpus == NO_VAL || job_desc->min_cpus < out->num_tasks)
			job_desc->min_cpus = out->num_tasks;
	}
	if (out->nodes != DET_POLICY_NO_VAL) {
		job_desc->min_nodes = out->nodes;
		job_desc->max_nodes = out->nodes;
	}
	if (out->tasks_per_node != DET_POLICY_NO_VAL)
		job_desc->ntasks_per_node = (uint16_t)out->tasks_per_node;
	job_desc->requeue = (uint16_t)out->requeue;
}

int job_submit(job_desc_msg_t *job_desc, uint32_t submit_uid, char **err_msg)
{
	struct det_job_in in = {
	    .spank_env = job_desc->spank_job_env,
	    .spank_env_size = job_desc->spank_job_env_size,
	    .array_inx = job_desc->array_inx,
	    .time_limit_min = job_desc->time_limit,
	};
	struct det_job_out out;
	char err[512];

	if (det_policy_apply(&policy_conf, &in, &out, err, sizeof(err)) < 0) {
		slurm_info("job_submit/det: refused job of uid %u: %s", submit_uid, err);
		if (err_msg)
			*err_msg = slurm_xstrdup(err);
		return SLURM_ERROR;
	}
	if (!out.is_det)
		return SLURM_SUCCESS;
	apply_out(job_desc, &out);
	slurm_info("job_submit/det: uid %u experiment %u: partition=%s tres_per_node=%s array=%s",
	           submit_uid, out.experiment_id, job_desc->partition ? job_desc->partition : "-",
	           job_desc->tres_per_node ? job_desc->tres_per_node : "-",
	           job_desc->array_inx ? job_desc->array_inx : "-");
	return SLURM_SUCCESS;
}

static int refusal_errno(enum det_modify_refusal refusal)
{
	switch (refusal) {
	case DET_MODIFY_PARTITION:
		return ESLURM_INVALID_PARTITION_NAME;
	case DET_MODIFY_GRES:
		return ESLURM_INVALID_GRES;
	case DET_MODIFY_THROTTLE:
		return ESLURM_BAD_TASK_COUNT;
	case DET_MODIFY_FIELD:
	case DET_MODIFY_OK:
		break;
	}
	return ESLURM_ACCESS_DENIED;
}

/*
 * Updates (scontrol update): det jobs stay within det.conf. Slurm 22.05 gives
 * job_modify no way to send a message to the user, so a refusal is a Slurm
 * error code (scontrol prints its text) and the reason goes to slurmctld's log.
 */
int job_modify(job_desc_msg_t *job_desc, void *job_ptr, uint32_t submit_uid)
{
	job_record_t *job = job_ptr;
	char tres[256];
	struct det_modify_in in = {
	    .new_name = job_desc->name,
	    .new_partition = job_desc->partition,
	    .new_tres_per_node = tres_form(job_desc->tres_per_node, false, tres, sizeof(tres)),
	    .new_admin_comment = job_desc->admin_comment,
	    .new_array_inx = job_desc->array_inx,
	    .new_requeue = job_desc->requeue,
	};
	struct det_modify_out out;
	char err[512];

	if (!job)
		return SLURM_SUCCESS;
	in.admin_comment = job->admin_comment;
	if (det_policy_modify(&policy_conf, &in, &out, err, sizeof(err)) < 0) {
		slurm_info("job_submit/det: refused update by uid %u: %s", submit_uid, err);
		return refusal_errno(out.refusal);
	}
	if (out.array_inx[0]) {
		slurm_info("job_submit/det: uid %u experiment %u: array throttle %s capped to %s",
		           submit_uid, out.experiment_id, job_desc->array_inx, out.array_inx);
		replace_str(&job_desc->array_inx, out.array_inx);
		/* slurmctld 22.05 applies ArrayTaskThrottle before it calls
		 * job_modify, so the cap goes into the record itself too. */
		if (job->array_recs)
			job->array_recs->max_run_tasks = (uint32_t)strtoul(out.array_inx, NULL, 10);
	}
	/*
	 * slurmctld's _update_job takes errno as the error of a partition
	 * change when the association lookup finds none without setting it
	 * (accounting_storage/none). 24.11 serves RPCs on conmgr threads whose
	 * non-blocking I/O leaves a stale EAGAIN there, so such a move of a
	 * pending job failed now and then with "Resource temporarily
	 * unavailable" (24.11.5 job_mgr.c:12507; 22.05 found errno 0). Nothing
	 * between this return and that line sets errno: clearing it here lets
	 * the move go through.
	 */
	errno = 0;
	return SLURM_SUCCESS;
}
