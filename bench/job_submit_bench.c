/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How long job_submit_det's policy decision takes per submission, on a job
 * shaped like the ones det submit sends (spank env as sbatch fills it, a
 * 1000-task array with a throttle over the cap, eight pools). slurmctld runs
 * it under its job write lock, so the target is < 50 us per call. Prints the
 * figure as a TAP test so `make check` keeps it honest.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "det_policy.h"

#define CALLS 200000
#define TARGET_US 50.0

static const char conf_text[] =
	"# a site with eight pools\n"
	"PoolPartition=default:gpu\nPoolPartition=a100:gpu-a100\nPoolPartition=h100:gpu-h100\n"
	"PoolPartition=v100:gpu-v100\nPoolPartition=debug:debug\nPoolPartition=long:long\n"
	"PoolPartition=preempt:preempt\nPoolPartition=cpu:cpu:cpu\n"
	"DefaultSlots=1\nMaxSlots=64\nMaxSlotsPerNode=8\nGpuGres=gpu\nGpuType=a100\n"
	"DefaultTimeLimit=1440\nMaxArrayThrottle=32\nRequeue=yes\n";

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(void)
{
	static char *env[] = {
		"SLURM_SPANK__SLURM_SPANK_OPTION_det_det-experiment=4711",
		"_SLURM_SPANK_OPTION_det_det-experiment=4711",
		"_SLURM_SPANK_OPTION_det_det-pool=h100",
		"_SLURM_SPANK_OPTION_det_det-slots=16",
		"SPANK_OTHER_PLUGIN_SETTING=1",
		"PYXIS_IMAGE=nvcr.io/nvidia/pytorch:24.01-py3",
		"DET_RESOURCE_POOL=h100",
		"DET_SLOTS_PER_TRIAL=16",
		"DET_EXPERIMENT_ID=4711",
	};
	struct det_job_in job = {
		.spank_env = env,
		.spank_env_size = sizeof(env) / sizeof(env[0]),
		.array_inx = "0-999%64",
		.time_limit_min = DET_POLICY_NO_VAL,
	};
	struct det_policy_conf conf;
	struct det_job_out out;
	char err[256];
	unsigned long rewritten = 0;
	double t0, us;

	det_policy_conf_init(&conf);
	if (det_policy_conf_parse(&conf, conf_text, "bench.conf", err, sizeof(err)) < 0) {
		printf("1..1\nnot ok 1 - bench config: %s\n", err);
		return 1;
	}
	t0 = now_us();
	for (int i = 0; i < CALLS; i++) {
		if (det_policy_apply(&conf, &job, &out, err, sizeof(err)) < 0) {
			printf("1..1\nnot ok 1 - policy refused the bench job: %s\n", err);
			return 1;
		}
		rewritten += (unsigned long)out.is_det + (out.array_inx[0] != '\0');
	}
	us = (now_us() - t0) / CALLS;
	printf("1..1\n");
	printf("# job_submit_det policy: %.3f us per call over %d calls (target < %.0f us)\n", us,
	       CALLS, TARGET_US);
	printf("# last decision: name=%s partition=%s tres_per_node=%s array=%s (%lu)\n", out.name,
	       out.partition, out.tres_per_node, out.array_inx, rewritten);
	printf("%s 1 - policy decision takes %.3f us per call (< %.0f us)\n",
	       us < TARGET_US ? "ok" : "not ok", us, TARGET_US);
	return us < TARGET_US ? 0 : 1;
}
