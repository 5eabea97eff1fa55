/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How long job_submit_det takes per submission, on a job_desc_msg_t shaped
 * like the ones det submit sends (spank env as sbatch fills it, a 1000-task
 * array with a throttle over the cap, eight pools): the policy decision
 * alone, and the plugin's whole job_submit() with this program standing in
 * for slurmctld (its allocator and logger). slurmctld runs it under its job
 * write lock, so the target is < 50 us per call. Prints the figures as TAP
 * so `make check` keeps them honest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <slurm/slurm.h>

#include "det_policy.h"
#include "slurmctld_host.h"

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

/* A fresh job as sbatch sends it (strings owned by the "slurmctld" side). */
static void job_reset(job_desc_msg_t *job, char **env, size_t nenv)
{
	slurm_xfree((void **)&job->name);
	slurm_xfree((void **)&job->array_inx);
	slurm_xfree((void **)&job->partition);
	slurm_xfree((void **)&job->admin_comment);
	slurm_xfree((void **)&job->tres_per_node);
	job->name = slurm_xstrdup("det-trial");
	job->array_inx = slurm_xstrdup("0-999%64");
	job->spank_job_env = env;
	job->spank_job_env_size = (uint32_t)nenv;
	job->time_limit = NO_VAL;
	job->num_tasks = NO_VAL;
	job->min_cpus = NO_VAL;
	job->min_nodes = NO_VAL;
	job->max_nodes = NO_VAL;
	job->requeue = (uint16_t)NO_VAL;
}

/* us per job_submit() call, or -1 when init or a call fails. */
static double bench_job_submit(char **env, size_t nenv)
{
	char path[] = "/tmp/det-bench-conf.XXXXXX";
	job_desc_msg_t job;
	char *err_msg = NULL;
	double t0, spent = 0;
	int fd = mkstemp(path);
	int rv = -1;

	memset(&job, 0, sizeof(job));
	if (fd < 0 || write(fd, conf_text, strlen(conf_text)) != (ssize_t)strlen(conf_text))
		goto fail;
	setenv("DET_SLURM_CONF", path, 1);
	if (init() != SLURM_SUCCESS)
		goto fail;
	for (int i = 0; i < CALLS; i++) {
		job_reset(&job, env, nenv);
		t0 = now_us();
		if (job_submit(&job, 1000, &err_msg) != SLURM_SUCCESS)
			goto fail;
		spent += now_us() - t0;
	}
	if (strcmp(job.name, "det-e4711") || strcmp(job.array_inx, "0-999%32"))
		goto fail;
	rv = 0;
fail:
	fini();
	job.spank_job_env = NULL;
	job_reset(&job, NULL, 0);
	slurm_xfree((void **)&job.name);
	slurm_xfree((void **)&job.array_inx);
	free(err_msg);
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	return rv < 0 ? -1 : spent / CALLS;
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
	double t0, us, us_plugin;

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
	us_plugin = bench_job_submit(env, sizeof(env) / sizeof(env[0]));
	printf("1..2\n");
	printf("# job_submit_det policy: %.3f us per call over %d calls (target < %.0f us)\n", us,
	       CALLS, TARGET_US);
	printf("# last decision: name=%s partition=%s tres_per_node=%s array=%s (%lu)\n", out.name,
	       out.partition, out.tres_per_node, out.array_inx, rewritten);
	printf("# job_submit() whole: %.3f us per call (%s)\n", us_plugin,
	       slurmctld_host_last_log());
	printf("%s 1 - policy decision takes %.3f us per call (< %.0f us)\n",
	       us < TARGET_US ? "ok" : "not ok", us, TARGET_US);
	printf("%s 2 - job_submit() takes %.3f us per call (< %.0f us)\n",
	       us_plugin >= 0 && us_plugin < TARGET_US ? "ok" : "not ok", us_plugin, TARGET_US);
	if (us_plugin < 0 || us_plugin >= TARGET_US)
		return 1;
	return us < TARGET_US ? 0 : 1;
}
