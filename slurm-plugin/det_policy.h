/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The admin policy of job_submit_det, without Slurm: det.conf parsing and the
 * decision "how to rewrite this det job, or why to refuse it". Pure: no I/O,
 * no allocation, no clock, so slurmctld's locks are never held for long.
 */
#ifndef DET_POLICY_H
#define DET_POLICY_H

#include <stddef.h>
#include <stdint.h>

#define DET_POLICY_NO_VAL 0xfffffffeu /* Slurm's NO_VAL: a number left unset */
#define DET_POLICY_NO_VAL16 0xfffeu   /* Slurm's NO_VAL16 */
#define DET_POLICY_MAX_POOLS 64
#define DET_POLICY_NAME_MAX 64        /* pool, partition, gres names incl. NUL */
#define DET_POLICY_ARRAY_INX_MAX 4096 /* longest array spec a det job may carry */

/* Spank job env names that mark and describe a det job (set by spank_det). */
#define DET_POLICY_ENV_EXPERIMENT "DET_EXPERIMENT_ID"
#define DET_POLICY_ENV_POOL "DET_RESOURCE_POOL"
#define DET_POLICY_ENV_SLOTS "DET_SLOTS_PER_TRIAL"

struct det_pool {
	char name[DET_POLICY_NAME_MAX];
	char partition[DET_POLICY_NAME_MAX];
	int gpu; /* slots are GPUs (gres) when 1, CPUs (tasks) when 0 */
};

struct det_policy_conf {
	struct det_pool pools[DET_POLICY_MAX_POOLS]; /* pools[0] is the default pool */
	size_t npools;
	uint32_t default_slots;
	uint32_t max_slots;
	uint32_t max_slots_per_node; /* 0: every slot of a trial on one node */
	char gpu_gres[DET_POLICY_NAME_MAX];
	char gpu_type[DET_POLICY_NAME_MAX]; /* "" when any type will do */
	uint32_t default_time_limit_min;    /* 0: leave the partition's default */
	uint32_t max_array_throttle;        /* 0: no cap */
	int requeue;                        /* 1 force on, 0 force off */
	unsigned seen;                      /* bit per non-repeatable key already given */
	/* ContainerRuntime: "" (not given: master.yaml's), "auto", "podman", "oci", "enroot",
	 * "apptainer" or "none" */
	char container_runtime[16];
	/* ContainerOciRuntime: podman's --runtime on the nodes; "" when not given */
	char container_oci_runtime[DET_POLICY_NAME_MAX];
};

/* A det job as slurmctld hands it over (only the fields the policy reads). */
struct det_job_in {
	char *const *spank_env; /* "NAME=value" entries, may be NULL */
	size_t spank_env_size;
	const char *array_inx;   /* NULL when not an array */
	uint32_t time_limit_min; /* DET_POLICY_NO_VAL when unset */
};

/* What to change in the job. Strings are empty when the field stays as is. */
struct det_job_out {
	int is_det; /* 0: not a det job, leave it untouched */
	uint32_t experiment_id;
	char name[32];
	char admin_comment[2 * DET_POLICY_NAME_MAX + 64];
	char partition[DET_POLICY_NAME_MAX];
	char tres_per_node[2 * DET_POLICY_NAME_MAX + 32];
	char array_inx[DET_POLICY_ARRAY_INX_MAX + 16];
	uint32_t time_limit_min; /* DET_POLICY_NO_VAL: leave */
	int requeue;             /* 0 or 1 */
	uint32_t num_tasks;      /* DET_POLICY_NO_VAL: leave */
	uint32_t nodes;          /* min = max nodes; DET_POLICY_NO_VAL: leave */
	uint32_t tasks_per_node; /* ranks per node of a multi-node trial; NO_VAL: leave */
};

/* Defaults: no pools, DefaultSlots=1, MaxSlots=8, GpuGres=gpu, Requeue=yes. */
void det_policy_conf_init(struct det_policy_conf *conf);

/* Parse det.conf text (Key=Value lines, '#' comments). where names the file
 * in messages ("det.conf:LINE: ..."). Unknown keys, bad values and repeated
 * single keys fail with -1 and err. */
int det_policy_conf_parse(struct det_policy_conf *conf, const char *text, const char *where,
                          char *err, size_t errlen);

/* Decide for one job: 0 with out filled (out->is_det 0 for non-det jobs), or
 * -1 with err when the det job breaks the policy (the message sbatch shows). */
int det_policy_apply(const struct det_policy_conf *conf, const struct det_job_in *job,
                     struct det_job_out *out, char *err, size_t errlen);

/* An update of an existing job (scontrol update, slurm_update_job): the
 * job's admin comment as it stands (job_submit_det's mark of det jobs) and
 * the fields the update sets (NULL or DET_POLICY_NO_VAL16 when untouched). */
struct det_modify_in {
	const char *admin_comment;     /* the job's, "det-slurm experiment=..." on det jobs */
	const char *new_name;          /* JobName= */
	const char *new_partition;     /* Partition= */
	const char *new_tres_per_node; /* Gres= / TresPerNode= */
	const char *new_admin_comment; /* AdminComment= */
	const char *new_array_inx;     /* ArrayTaskThrottle=N arrives as "N" */
	uint16_t new_requeue;          /* Requeue=0|1 */
};

/* Why an update was refused; job_submit_det maps it to a Slurm error code. */
enum det_modify_refusal {
	DET_MODIFY_OK = 0,
	DET_MODIFY_FIELD,     /* name, admin comment or requeue of a det job */
	DET_MODIFY_PARTITION, /* a partition other than the pool's */
	DET_MODIFY_GRES,      /* slots of a trial changed */
	DET_MODIFY_THROTTLE,  /* a throttle that is not a number */
};

struct det_modify_out {
	int is_det; /* 0: not a det job, leave the update alone */
	uint32_t experiment_id;
	char array_inx[16]; /* the capped throttle to put in place; "" to leave */
	enum det_modify_refusal refusal;
};

/* Decide for one update: 0 with out filled (out->array_inx set when the
 * throttle is capped), or -1 with out->refusal and err (the reason, for
 * slurmctld's log) when the update would take a det job out of policy. */
int det_policy_modify(const struct det_policy_conf *conf, const struct det_modify_in *in,
                      struct det_modify_out *out, char *err, size_t errlen);

#endif
