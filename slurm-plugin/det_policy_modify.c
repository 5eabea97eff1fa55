/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * job_submit_det's policy for updates of existing jobs (scontrol update,
 * slurm_update_job): a det job keeps its name, admin comment, requeue
 * setting, pool partition and slots; its array throttle is capped at
 * MaxArrayThrottle like at submission. Other jobs are not looked at.
 *
 * Main data structure: struct det_modify_in, the update's fields plus the
 * job's admin comment. Non-obvious decision: an update carries no spank job
 * env, so a det job is recognised by the admin comment job_submit_det wrote
 * at submission ("det-slurm experiment=ID pool=P slots=N"); only admins can
 * change an admin comment, and this policy refuses that for det jobs.
 */
#include "det_policy.h"
#include "det_policy_internal.h"
#include "errmsg.h"

#include <stdio.h>
#include <string.h>

#define COMMENT_PREFIX "det-slurm experiment="

/* What job_submit_det recorded about a det job in its admin comment. */
struct det_mark {
	uint32_t experiment_id;
	char pool[DET_POLICY_NAME_MAX]; /* "-" when det.conf mapped no pool */
	uint32_t slots;
};

/* Copy the token at s (up to a space or the end) into buf; the rest after it. */
static const char *token(const char *s, char *buf, size_t buflen)
{
	size_t n = strcspn(s, " ");

	if (n == 0 || n >= buflen)
		return NULL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return s[n] == ' ' ? s + n + 1 : s + n;
}

/* "det-slurm experiment=ID pool=P slots=N": 0, or -1 when s is no det mark. */
static int parse_mark(const char *s, struct det_mark *mark)
{
	char tok[DET_POLICY_NAME_MAX + 8];

	if (!s || strncmp(s, COMMENT_PREFIX, strlen(COMMENT_PREFIX)) != 0)
		return -1;
	s = token(s + strlen(COMMENT_PREFIX), tok, sizeof(tok));
	if (!s ||
	    det_policy_parse_u32(tok, DET_POLICY_MAX_EXPERIMENT_ID, &mark->experiment_id) < 0 ||
	    mark->experiment_id == 0)
		return -1;
	s = token(s, tok, sizeof(tok));
	if (!s || strncmp(tok, "pool=", 5) != 0 || !tok[5] || strlen(tok + 5) >= sizeof(mark->pool))
		return -1;
	memcpy(mark->pool, tok + 5, strlen(tok + 5) + 1);
	s = token(s, tok, sizeof(tok));
	if (!s || *s || strncmp(tok, "slots=", 6) != 0 ||
	    det_policy_parse_u32(tok + 6, DET_POLICY_MAX_SLOTS_LIMIT, &mark->slots) < 0)
		return -1;
	return 0;
}

/* The throttle an update asks for: "N" (what scontrol sends) or "%N". */
static int cap_throttle(const struct det_policy_conf *conf, const char *inx,
                        struct det_modify_out *out, char *err, size_t errlen)
{
	uint32_t throttle;

	if (*inx == '%')
		inx++;
	if (det_policy_parse_u32(inx, 0xffffffffu, &throttle) < 0) {
		out->refusal = DET_MODIFY_THROTTLE;
		errmsg_set(err, errlen, "det experiment %u: array throttle '%.32s' is not a number",
		           out->experiment_id, inx);
		return -1;
	}
	/* 0 is "no limit" to Slurm: capped like any throttle over the cap. */
	if (conf->max_array_throttle && (throttle == 0 || throttle > conf->max_array_throttle))
		snprintf(out->array_inx, sizeof(out->array_inx), "%u", conf->max_array_throttle);
	return 0;
}

/* The partition must stay the pool's (any, when det.conf maps no pools). */
static int check_partition(const struct det_policy_conf *conf, const struct det_mark *mark,
                           const char *partition, struct det_modify_out *out, char *err,
                           size_t errlen)
{
	const struct det_pool *pool;

	if (!strcmp(mark->pool, "-"))
		return 0;
	pool = det_policy_find_pool(conf, mark->pool);
	if (pool && !strcmp(pool->partition, partition))
		return 0;
	out->refusal = DET_MODIFY_PARTITION;
	errmsg_set(err, errlen, "det experiment %u: pool '%s' runs in partition '%s', not '%.64s'",
	           mark->experiment_id, mark->pool, pool ? pool->partition : "(pool gone)",
	           partition);
	return -1;
}

/* Gres per node must stay what the trial's slots gave at submission. */
static int check_tres(const struct det_policy_conf *conf, const struct det_mark *mark,
                      const char *tres, struct det_modify_out *out, char *err, size_t errlen)
{
	const struct det_pool *pool = &det_policy_no_pool_map;
	struct det_job_out shape;

	if (strcmp(mark->pool, "-") != 0)
		pool = det_policy_find_pool(conf, mark->pool);
	if (pool) {
		det_policy_out_init(&shape);
		det_policy_shape(conf, pool, mark->slots, &shape);
		if (!strcmp(shape.tres_per_node, tres))
			return 0;
	}
	out->refusal = DET_MODIFY_GRES;
	errmsg_set(err, errlen,
	           "det experiment %u: a trial's %u slots are fixed at submission, cannot change "
	           "TresPerNode to '%.64s'",
	           mark->experiment_id, mark->slots, tres);
	return -1;
}

/* Fields a det job keeps whatever the update says. */
static int check_fixed(const struct det_policy_conf *conf, const struct det_modify_in *in,
                       struct det_modify_out *out, char *err, size_t errlen)
{
	char name[32];

	snprintf(name, sizeof(name), "det-e%u", out->experiment_id);
	if (in->new_name && strcmp(in->new_name, name) != 0) {
		errmsg_set(err, errlen, "det experiment %u: the job name stays '%s'",
		           out->experiment_id, name);
		goto refuse;
	}
	if (in->new_admin_comment && strcmp(in->new_admin_comment, in->admin_comment) != 0) {
		errmsg_set(err, errlen, "det experiment %u: the admin comment marks a det job",
		           out->experiment_id);
		goto refuse;
	}
	if (in->new_requeue != DET_POLICY_NO_VAL16 && in->new_requeue != (uint16_t)conf->requeue) {
		errmsg_set(err, errlen, "det experiment %u: det.conf sets Requeue=%s for det jobs",
		           out->experiment_id, conf->requeue ? "yes" : "no");
		goto refuse;
	}
	return 0;
refuse:
	out->refusal = DET_MODIFY_FIELD;
	return -1;
}

int det_policy_modify(const struct det_policy_conf *conf, const struct det_modify_in *in,
                      struct det_modify_out *out, char *err, size_t errlen)
{
	struct det_mark mark;

	memset(out, 0, sizeof(*out));
	if (parse_mark(in->admin_comment, &mark) < 0)
		return 0;
	out->is_det = 1;
	out->experiment_id = mark.experiment_id;
	if (check_fixed(conf, in, out, err, errlen) < 0)
		return -1;
	if (in->new_partition &&
	    check_partition(conf, &mark, in->new_partition, out, err, errlen) < 0)
		return -1;
	if (in->new_tres_per_node &&
	    check_tres(conf, &mark, in->new_tres_per_node, out, err, errlen) < 0)
		return -1;
	if (in->new_array_inx && cap_throttle(conf, in->new_array_inx, out, err, errlen) < 0)
		return -1;
	return 0;
}
