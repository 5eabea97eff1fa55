/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * job_submit_det's policy: parse det.conf into struct det_policy_conf, and
 * turn one submitted job (its spank job env, array spec, time limit) into a
 * struct det_job_out of fields to rewrite, or a refusal message.
 *
 * Non-obvious decision: everything lands in fixed-size buffers inside the
 * caller's structs. The decision runs under slurmctld's job write lock for
 * every submission, so it allocates nothing and its cost is bounded by the
 * sizes checked here (a det job with a longer array spec is refused).
 */
#include "det_policy.h"
#include "det_policy_internal.h"
#include "errmsg.h"

#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_BYTES 1024

enum seen_bit {
	SEEN_DEFAULT_SLOTS = 1u << 0,
	SEEN_MAX_SLOTS = 1u << 1,
	SEEN_GPU_GRES = 1u << 2,
	SEEN_GPU_TYPE = 1u << 3,
	SEEN_TIME_LIMIT = 1u << 4,
	SEEN_THROTTLE = 1u << 5,
	SEEN_REQUEUE = 1u << 6,
	SEEN_PER_NODE = 1u << 7,
	SEEN_CONTAINER_RUNTIME = 1u << 8,
	SEEN_CONTAINER_OCI = 1u << 9,
};

void det_policy_conf_init(struct det_policy_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->default_slots = 1;
	conf->max_slots = 8;
	snprintf(conf->gpu_gres, sizeof(conf->gpu_gres), "gpu");
	conf->requeue = 1;
}

int det_policy_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* Names of pools, partitions and gres: [A-Za-z0-9_.-]{1,63}. */
static int valid_name(const char *s, size_t len)
{
	if (len == 0 || len >= DET_POLICY_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '_' && c != '.' && c != '-')
			return 0;
	}
	return 1;
}

static int parse_yes_no(const char *s, int *out)
{
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcmp(s, "1"))
		*out = 1;
	else if (!strcasecmp(s, "no") || !strcasecmp(s, "false") || !strcmp(s, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

/* PoolPartition=POOL:PARTITION[:gpu|:cpu] */
static int parse_pool(struct det_policy_conf *conf, const char *v, const char *where,
                      unsigned lineno, char *err, size_t errlen)
{
	const char *c1 = strchr(v, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	const char *pend = c2 ? c2 : v + strlen(v);
	struct det_pool *p;

	if (!c1 || !valid_name(v, (size_t)(c1 - v)) ||
	    !valid_name(c1 + 1, (size_t)(pend - c1 - 1))) {
		errmsg_set(err, errlen,
		           "%s:%u: PoolPartition wants POOL:PARTITION[:gpu|:cpu], got '%s'", where,
		           lineno, v);
		return -1;
	}
	if (conf->npools == DET_POLICY_MAX_POOLS) {
		errmsg_set(err, errlen, "%s:%u: more than %d PoolPartition lines", where, lineno,
		           DET_POLICY_MAX_POOLS);
		return -1;
	}
	for (size_t i = 0; i < conf->npools; i++) {
		if (strlen(conf->pools[i].name) == (size_t)(c1 - v) &&
		    !strncmp(conf->pools[i].name, v, (size_t)(c1 - v))) {
			errmsg_set(err, errlen, "%s:%u: pool '%s' mapped twice", where, lineno,
			           conf->pools[i].name);
			return -1;
		}
	}
	p = &conf->pools[conf->npools];
	memcpy(p->name, v, (size_t)(c1 - v));
	p->name[c1 - v] = '\0';
	memcpy(p->partition, c1 + 1, (size_t)(pend - c1 - 1));
	p->partition[pend - c1 - 1] = '\0';
	p->gpu = 1;
	if (c2 && !strcmp(c2 + 1, "cpu")) {
		p->gpu = 0;
	} else if (c2 && strcmp(c2 + 1, "gpu")) {
		errmsg_set(err, errlen, "%s:%u: pool kind must be gpu or cpu, got '%s'", where,
		           lineno, c2 + 1);
		return -1;
	}
	conf->npools++;
	return 0;
}

/* Mark a single-valued key as given; a second time is an error. */
static int once(struct det_policy_conf *conf, unsigned bit, const char *key, const char *where,
                unsigned lineno, char *err, size_t errlen)
{
	if (conf->seen & bit) {
		errmsg_set(err, errlen, "%s:%u: %s given twice", where, lineno, key);
		return -1;
	}
	conf->seen |= bit;
	return 0;
}

/* The numeric keys: where each lands and its largest value. */
static const struct number_key {
	const char *name;
	unsigned seen_bit;
	size_t offset;
	uint32_t max;
} number_keys[] = {
    {"DefaultSlots", SEEN_DEFAULT_SLOTS, offsetof(struct det_policy_conf, default_slots),
     DET_POLICY_MAX_SLOTS_LIMIT},
    {"MaxSlots", SEEN_MAX_SLOTS, offsetof(struct det_policy_conf, max_slots),
     DET_POLICY_MAX_SLOTS_LIMIT},
    {"MaxSlotsPerNode", SEEN_PER_NODE, offsetof(struct det_policy_conf, max_slots_per_node),
     DET_POLICY_MAX_SLOTS_LIMIT},
    {"DefaultTimeLimit", SEEN_TIME_LIMIT, offsetof(struct det_policy_conf, default_time_limit_min),
     365u * 24 * 60},
    {"MaxArrayThrottle", SEEN_THROTTLE, offsetof(struct det_policy_conf, max_array_throttle),
     1000000},
};

static int parse_number_key(struct det_policy_conf *conf, const struct number_key *key,
                            const char *v, const char *where, unsigned lineno, char *err,
                            size_t errlen)
{
	uint32_t *dst = (uint32_t *)((char *)conf + key->offset);

	if (once(conf, key->seen_bit, key->name, where, lineno, err, errlen) < 0)
		return -1;
	if (det_policy_parse_u32(v, key->max, dst) < 0) {
		errmsg_set(err, errlen, "%s:%u: %s wants a number from 0 to %u, got '%s'", where,
		           lineno, key->name, key->max, v);
		return -1;
	}
	return 0;
}

/* GpuGres and GpuType: a gres name, GpuType may be empty (any type). */
static int parse_name_key(struct det_policy_conf *conf, const char *k, const char *v,
                          const char *where, unsigned lineno, char *err, size_t errlen)
{
	int is_type = !strcasecmp(k, "GpuType");
	char *dst = is_type ? conf->gpu_type : conf->gpu_gres;

	if (once(conf, is_type ? SEEN_GPU_TYPE : SEEN_GPU_GRES, k, where, lineno, err, errlen) < 0)
		return -1;
	if (!(is_type && !*v) && !valid_name(v, strlen(v))) {
		errmsg_set(err, errlen, "%s:%u: %s wants a name of [A-Za-z0-9_.-], got '%s'", where,
		           lineno, k, v);
		return -1;
	}
	snprintf(dst, DET_POLICY_NAME_MAX, "%s", v);
	return 0;
}

/* ContainerRuntime (auto, podman, oci or crun, enroot, apptainer, none) and ContainerOciRuntime (a
 * name such as runc or crun; podman finds it): the container runtime of det's array tasks. */
static int parse_container_key(struct det_policy_conf *conf, const char *k, const char *v,
                               const char *where, unsigned lineno, char *err, size_t errlen)
{
	int is_oci = !strcasecmp(k, "ContainerOciRuntime");

	if (once(conf, is_oci ? SEEN_CONTAINER_OCI : SEEN_CONTAINER_RUNTIME, k, where, lineno, err,
	         errlen) < 0)
		return -1;
	if (is_oci) {
		if (!valid_name(v, strlen(v)) || v[0] == '-') {
			errmsg_set(err, errlen,
			           "%s:%u: %s wants a runtime name of [A-Za-z0-9_.-] (runc, crun), "
			           "got '%s'",
			           where, lineno, k, v);
			return -1;
		}
		snprintf(conf->container_oci_runtime, sizeof(conf->container_oci_runtime), "%s", v);
		return 0;
	}
	if (strcmp(v, "auto") && strcmp(v, "podman") && strcmp(v, "none") && strcmp(v, "oci") &&
	    strcmp(v, "crun") && strcmp(v, "enroot") && strcmp(v, "apptainer")) {
		errmsg_set(err, errlen,
		           "%s:%u: %s wants auto, podman, oci (or crun), enroot, apptainer or "
		           "none, got '%s'",
		           where, lineno, k, v);
		return -1;
	}
	/* crun: the bare OCI-bundle runtime's other name */
	snprintf(conf->container_runtime, sizeof(conf->container_runtime), "%s",
	         strcmp(v, "crun") ? v : "oci");
	return 0;
}

static int parse_pair(struct det_policy_conf *conf, const char *k, const char *v, const char *where,
                      unsigned lineno, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(number_keys) / sizeof(number_keys[0]); i++)
		if (!strcasecmp(k, number_keys[i].name))
			return parse_number_key(conf, &number_keys[i], v, where, lineno, err,
			                        errlen);
	if (!strcasecmp(k, "PoolPartition"))
		return parse_pool(conf, v, where, lineno, err, errlen);
	if (!strcasecmp(k, "GpuGres") || !strcasecmp(k, "GpuType"))
		return parse_name_key(conf, k, v, where, lineno, err, errlen);
	if (!strcasecmp(k, "ContainerRuntime") || !strcasecmp(k, "ContainerOciRuntime"))
		return parse_container_key(conf, k, v, where, lineno, err, errlen);
	if (!strcasecmp(k, "Requeue")) {
		if (once(conf, SEEN_REQUEUE, k, where, lineno, err, errlen) < 0)
			return -1;
		if (parse_yes_no(v, &conf->requeue) < 0) {
			errmsg_set(err, errlen, "%s:%u: Requeue wants yes or no, got '%s'", where,
			           lineno, v);
			return -1;
		}
		return 0;
	}
	errmsg_set(err, errlen, "%s:%u: unknown key '%s'", where, lineno, k);
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_line(struct det_policy_conf *conf, char *line, const char *where, unsigned lineno,
                      char *err, size_t errlen)
{
	char *hash = strchr(line, '#');
	char *eq, *k, *v;

	if (hash)
		*hash = '\0';
	line = trim(line);
	if (!*line)
		return 0;
	eq = strchr(line, '=');
	if (!eq) {
		errmsg_set(err, errlen, "%s:%u: expected Key=Value, got '%s'", where, lineno, line);
		return -1;
	}
	*eq = '\0';
	k = trim(line);
	v = trim(eq + 1);
	return parse_pair(conf, k, v, where, lineno, err, errlen);
}

int det_policy_conf_parse(struct det_policy_conf *conf, const char *text, const char *where,
                          char *err, size_t errlen)
{
	char line[LINE_MAX_BYTES];
	unsigned lineno = 0;
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		lineno++;
		if (len >= sizeof(line)) {
			errmsg_set(err, errlen, "%s:%u: line longer than %d bytes", where, lineno,
			           LINE_MAX_BYTES - 1);
			return -1;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		if (memchr(line, '\0', len)) {
			errmsg_set(err, errlen, "%s:%u: NUL byte in line", where, lineno);
			return -1;
		}
		if (parse_line(conf, line, where, lineno, err, errlen) < 0)
			return -1;
		p += len + (nl ? 1 : 0);
	}
	if (conf->default_slots > conf->max_slots) {
		errmsg_set(err, errlen, "%s: DefaultSlots=%u exceeds MaxSlots=%u", where,
		           conf->default_slots, conf->max_slots);
		return -1;
	}
	return 0;
}

/* Value of NAME in a spank env array, or NULL. */
static const char *env_get(const struct det_job_in *job, const char *name)
{
	size_t n = strlen(name);

	if (!job->spank_env)
		return NULL;
	for (size_t i = 0; i < job->spank_env_size; i++) {
		const char *e = job->spank_env[i];
		if (e && !strncmp(e, name, n) && e[n] == '=')
			return e + n + 1;
	}
	return NULL;
}

const struct det_pool *det_policy_find_pool(const struct det_policy_conf *conf, const char *name)
{
	for (size_t i = 0; i < conf->npools; i++)
		if (!strcmp(conf->pools[i].name, name))
			return &conf->pools[i];
	return NULL;
}

/* "0-99%50" -> "0-99%cap" when 50 > cap; "0-99" -> "0-99%cap". */
static int rewrite_throttle(const struct det_policy_conf *conf, const char *inx,
                            struct det_job_out *out, char *err, size_t errlen)
{
	const char *pct = strrchr(inx, '%');
	size_t prefix = pct ? (size_t)(pct - inx) : strlen(inx);
	uint32_t throttle = 0;

	if (prefix == 0 || prefix > DET_POLICY_ARRAY_INX_MAX) {
		errmsg_set(err, errlen, "det job array spec must be 1 to %d characters",
		           DET_POLICY_ARRAY_INX_MAX);
		return -1;
	}
	if (pct && det_policy_parse_u32(pct + 1, 0xffffffffu, &throttle) < 0) {
		errmsg_set(err, errlen, "det job array throttle '%s' is not a number", pct + 1);
		return -1;
	}
	if (!conf->max_array_throttle || (throttle && throttle <= conf->max_array_throttle))
		return 0;
	snprintf(out->array_inx, sizeof(out->array_inx), "%.*s%%%u", (int)prefix, inx,
	         conf->max_array_throttle);
	return 0;
}

void det_policy_shape(const struct det_policy_conf *conf, const struct det_pool *pool,
                      uint32_t slots, struct det_job_out *out)
{
	uint32_t nodes = 1, per_node = slots;

	out->num_tasks = slots ? slots : 1;
	if (!pool || !pool->gpu || slots == 0)
		return;
	if (conf->max_slots_per_node && slots > conf->max_slots_per_node) {
		nodes = (slots + conf->max_slots_per_node - 1) / conf->max_slots_per_node;
		per_node = (slots + nodes - 1) / nodes;
	}
	out->nodes = nodes;
	if (nodes > 1)
		out->tasks_per_node = per_node; /* one rank per GPU, spread evenly */
	if (conf->gpu_type[0])
		snprintf(out->tres_per_node, sizeof(out->tres_per_node), "gres:%s:%s:%u",
		         conf->gpu_gres, conf->gpu_type, per_node);
	else
		snprintf(out->tres_per_node, sizeof(out->tres_per_node), "gres:%s:%u",
		         conf->gpu_gres, per_node);
}

void det_policy_out_init(struct det_job_out *out)
{
	memset(out, 0, sizeof(*out));
	out->time_limit_min = DET_POLICY_NO_VAL;
	out->num_tasks = DET_POLICY_NO_VAL;
	out->nodes = DET_POLICY_NO_VAL;
	out->tasks_per_node = DET_POLICY_NO_VAL;
}

const struct det_pool det_policy_no_pool_map = {.gpu = 1};

int det_policy_apply(const struct det_policy_conf *conf, const struct det_job_in *job,
                     struct det_job_out *out, char *err, size_t errlen)
{
	const char *exp = env_get(job, DET_POLICY_ENV_EXPERIMENT);
	const char *pool_name = env_get(job, DET_POLICY_ENV_POOL);
	const char *slots_s = env_get(job, DET_POLICY_ENV_SLOTS);
	const struct det_pool *pool = NULL;
	uint32_t slots = conf->default_slots;

	det_policy_out_init(out);
	if (!exp)
		return 0;
	if (det_policy_parse_u32(exp, DET_POLICY_MAX_EXPERIMENT_ID, &out->experiment_id) < 0 ||
	    out->experiment_id == 0) {
		errmsg_set(err, errlen, "det experiment id '%.64s' is not a positive integer", exp);
		return -1;
	}
	if (slots_s && det_policy_parse_u32(slots_s, DET_POLICY_MAX_SLOTS_LIMIT, &slots) < 0) {
		errmsg_set(err, errlen,
		           "det experiment %u: slots per trial '%.32s' is not a number",
		           out->experiment_id, slots_s);
		return -1;
	}
	if (slots > conf->max_slots) {
		errmsg_set(
		    err, errlen,
		    "det experiment %u: %u slots per trial exceed this cluster's limit of %u",
		    out->experiment_id, slots, conf->max_slots);
		return -1;
	}
	if (pool_name && *pool_name) {
		pool = det_policy_find_pool(conf, pool_name);
		if (!pool) {
			errmsg_set(err, errlen, "det experiment %u: unknown resource pool '%.64s'",
			           out->experiment_id, pool_name);
			return -1;
		}
	} else if (conf->npools) {
		pool = &conf->pools[0];
	}
	if (job->array_inx && rewrite_throttle(conf, job->array_inx, out, err, errlen) < 0)
		return -1;

	out->is_det = 1;
	snprintf(out->name, sizeof(out->name), "det-e%u", out->experiment_id);
	snprintf(out->admin_comment, sizeof(out->admin_comment),
	         "det-slurm experiment=%u pool=%s slots=%u", out->experiment_id,
	         pool ? pool->name : "-", slots);
	if (pool)
		snprintf(out->partition, sizeof(out->partition), "%s", pool->partition);
	det_policy_shape(conf, pool ? pool : &det_policy_no_pool_map, slots, out);
	if (job->time_limit_min == DET_POLICY_NO_VAL && conf->default_time_limit_min)
		out->time_limit_min = conf->default_time_limit_min;
	out->requeue = conf->requeue;
	return 0;
}
