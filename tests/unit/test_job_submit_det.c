/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * job_submit_det's shell around the policy, loaded as slurmctld would (with
 * tests/unit/slurmctld_host.c as its allocator and logger): init reads and
 * checks det.conf, job_submit rewrites job_desc_msg_t fields of det jobs with
 * the host's allocator, refuses with *err_msg, and leaves other jobs as they
 * are; job_modify caps det jobs' throttles and refuses out-of-policy updates,
 * on job records of slurmctld's own job_record_t (built against the Slurm
 * source tree, like the plugin). The real slurmctld runs the same code in
 * tests/slurm/job_submit.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slurmctld_host.h"
#include "det_slurmctld.h"

/* How the release built against writes TRES: "gres/gpu:1" from 23.02 on. */
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(23, 2, 0)
#define GRES "gres/"
#else
#define GRES "gres:"
#endif

static const char good_conf[] = "PoolPartition=default:gpu\nPoolPartition=big:gpu-big\n"
                                "MaxSlots=8\nMaxSlotsPerNode=4\nMaxArrayThrottle=4\n"
                                "DefaultTimeLimit=60\n";

/* Point DET_SLURM_CONF at a new file holding text and run init(). */
static int init_with(const char *text, char *path, size_t pathlen)
{
	int fd, rc;

	snprintf(path, pathlen, "%s/det-conf-test.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	setenv("DET_SLURM_CONF", path, 1);
	rc = init();
	unlink(path);
	return rc;
}

static void job_init(job_desc_msg_t *job, char **env, uint32_t nenv)
{
	memset(job, 0, sizeof(*job));
	job->name = slurm_xstrdup("wrap");
	job->array_inx = slurm_xstrdup("0-29%10");
	job->spank_job_env = env;
	job->spank_job_env_size = nenv;
	job->time_limit = NO_VAL;
	job->num_tasks = NO_VAL;
	job->min_cpus = NO_VAL;
	job->min_nodes = NO_VAL;
	job->max_nodes = NO_VAL;
	job->requeue = 0;
}

static void job_free(job_desc_msg_t *job)
{
	slurm_xfree((void **)&job->name);
	slurm_xfree((void **)&job->array_inx);
	slurm_xfree((void **)&job->partition);
	slurm_xfree((void **)&job->admin_comment);
	slurm_xfree((void **)&job->tres_per_node);
}

/* No det.conf: slurmctld keeps running, det jobs get the documented defaults. */
static void test_init_missing_file_uses_defaults(void **state)
{
	char *env[] = {"DET_EXPERIMENT_ID=7"};
	job_desc_msg_t job;
	char *err_msg = NULL;

	setenv("DET_SLURM_CONF", "/nonexistent/det.conf", 1);
	assert_int_equal(init(), SLURM_SUCCESS);
	assert_non_null(strstr(slurmctld_host_last_warning(),
	                       "warning: /nonexistent/det.conf not found, using the defaults"));
	job_init(&job, env, 1);
	assert_int_equal(job_submit(&job, 1000, &err_msg), SLURM_SUCCESS);
	assert_string_equal(job.name, "det-e7");
	assert_string_equal(job.tres_per_node, GRES "gpu:1"); /* DefaultSlots=1, GpuGres=gpu */
	assert_string_equal(job.array_inx, "0-29%10");        /* no MaxArrayThrottle */
	assert_int_equal(job.requeue, 1);                     /* Requeue=yes */
	assert_null(err_msg);
	job_free(&job);
	fini();
}

/* A det.conf that is there but cannot be read still stops the plugin. */
static void test_init_unreadable_file_fails(void **state)
{
	setenv("DET_SLURM_CONF", "/", 1); /* a directory: opens, does not read */
	assert_int_equal(init(), SLURM_ERROR);
	assert_non_null(strstr(slurmctld_host_last_log(), "/: read error"));
}

static void test_init_unknown_key_fails_naming_it(void **state)
{
	char path[256];

	assert_int_equal(init_with("MaxSlots=4\nColour=blue\n", path, sizeof(path)), SLURM_ERROR);
	assert_non_null(strstr(slurmctld_host_last_log(), ":2: unknown key 'Colour'"));
	assert_non_null(strstr(slurmctld_host_last_log(), path));
}

static void test_non_det_job_untouched(void **state)
{
	char *env[] = {"FOO=1"};
	job_desc_msg_t job;
	char *name, *inx, *err_msg = NULL;
	char path[256];

	assert_int_equal(init_with(good_conf, path, sizeof(path)), SLURM_SUCCESS);
	job_init(&job, env, 1);
	name = job.name;
	inx = job.array_inx;
	assert_int_equal(job_submit(&job, 1000, &err_msg), SLURM_SUCCESS);
	assert_ptr_equal(job.name, name);
	assert_ptr_equal(job.array_inx, inx);
	assert_string_equal(job.array_inx, "0-29%10");
	assert_null(job.partition);
	assert_null(job.tres_per_node);
	assert_null(job.admin_comment);
	assert_int_equal(job.time_limit, NO_VAL);
	assert_int_equal(job.requeue, 0);
	assert_null(err_msg);
	job_free(&job);
	fini();
}

static void test_det_job_rewritten(void **state)
{
	char *env[] = {"DET_EXPERIMENT_ID=5", "DET_RESOURCE_POOL=big", "DET_SLOTS_PER_TRIAL=8"};
	job_desc_msg_t job;
	char *err_msg = NULL;
	char path[256];

	assert_int_equal(init_with(good_conf, path, sizeof(path)), SLURM_SUCCESS);
	job_init(&job, env, 3);
	assert_int_equal(job_submit(&job, 1000, &err_msg), SLURM_SUCCESS);
	assert_string_equal(job.name, "det-e5");
	assert_string_equal(job.partition, "gpu-big");
	assert_string_equal(job.tres_per_node, GRES "gpu:4");
	assert_string_equal(job.array_inx, "0-29%4");
	assert_string_equal(job.admin_comment, "det-slurm experiment=5 pool=big slots=8");
	assert_int_equal(job.time_limit, 60);
	assert_int_equal(job.requeue, 1);
	assert_int_equal(job.num_tasks, 8);
	assert_int_equal(job.min_cpus, 8);
	assert_int_equal(job.min_nodes, 2);
	assert_int_equal(job.max_nodes, 2);
	assert_int_equal(job.ntasks_per_node, 4);
	assert_null(err_msg);
	job_free(&job);
	fini();
}

static void test_over_policy_refused_with_err_msg(void **state)
{
	char *env[] = {"DET_EXPERIMENT_ID=9", "DET_SLOTS_PER_TRIAL=16"};
	job_desc_msg_t job;
	char *err_msg = NULL;
	char path[256];

	assert_int_equal(init_with(good_conf, path, sizeof(path)), SLURM_SUCCESS);
	job_init(&job, env, 2);
	assert_int_equal(job_submit(&job, 1000, &err_msg), SLURM_ERROR);
	assert_non_null(err_msg);
	assert_string_equal(
	    err_msg, "det experiment 9: 16 slots per trial exceed this cluster's limit of 8");
	assert_string_equal(job.name, "wrap"); /* a refused job is not half rewritten */
	slurm_xfree((void **)&err_msg);
	job_free(&job);
	fini();
}

/* An update as scontrol sends it: nothing set but what the test sets. */
static void update_init(job_desc_msg_t *job)
{
	memset(job, 0, sizeof(*job));
	job->job_id = 42;
	job->requeue = NO_VAL16;
}

static void test_job_modify_caps_det_throttle(void **state)
{
	char path[256];
	char comment[] = "det-slurm experiment=12 pool=default slots=1";
	job_array_struct_t array = {.max_run_tasks = 50}; /* slurmctld already applied it */
	job_record_t rec = {.magic = JOB_MAGIC, .admin_comment = comment, .array_recs = &array};
	job_desc_msg_t job;

	assert_int_equal(init_with(good_conf, path, sizeof(path)), SLURM_SUCCESS);
	update_init(&job);
	assert_int_equal(job_modify(&job, &rec, 0), SLURM_SUCCESS); /* e.g. a hold */
	job.array_inx = slurm_xstrdup("50");
	assert_int_equal(job_modify(&job, &rec, 1000), SLURM_SUCCESS);
	assert_string_equal(job.array_inx, "4");
	assert_int_equal(array.max_run_tasks, 4);
	assert_non_null(strstr(slurmctld_host_last_log(), "array throttle 50 capped to 4"));
	slurm_xfree((void **)&job.array_inx);

	/* The same update of a job that is not a det job passes as it is. */
	rec.admin_comment = NULL;
	array.max_run_tasks = 50;
	job.array_inx = slurm_xstrdup("50");
	assert_int_equal(job_modify(&job, &rec, 1000), SLURM_SUCCESS);
	assert_string_equal(job.array_inx, "50");
	assert_int_equal(array.max_run_tasks, 50);
	slurm_xfree((void **)&job.array_inx);
	fini();
}

static void test_job_modify_refusals_are_slurm_errors(void **state)
{
	char path[256];
	char comment[] = "det-slurm experiment=12 pool=default slots=1";
	job_record_t rec = {.magic = JOB_MAGIC, .admin_comment = comment};
	char name[] = "renamed", part[] = "gpu-big", gres[] = GRES "gpu:3";
	job_desc_msg_t job;

	assert_int_equal(init_with(good_conf, path, sizeof(path)), SLURM_SUCCESS);
	update_init(&job);
	job.name = name;
	assert_int_equal(job_modify(&job, &rec, 1000), ESLURM_ACCESS_DENIED);
	assert_non_null(strstr(slurmctld_host_last_log(),
	                       "refused update by uid 1000: det experiment 12: the job "
	                       "name stays 'det-e12'"));
	update_init(&job);
	job.partition = part;
	assert_int_equal(job_modify(&job, &rec, 1000), ESLURM_INVALID_PARTITION_NAME);
	update_init(&job);
	job.tres_per_node = gres;
	assert_int_equal(job_modify(&job, &rec, 1000), ESLURM_INVALID_GRES);
	update_init(&job);
	job.requeue = 0;
	assert_int_equal(job_modify(&job, &rec, 1000), ESLURM_ACCESS_DENIED);
	fini();
}

/* slurmctld calls job_modify without a record for some updates. */
static void test_job_modify_without_record_passes(void **state)
{
	char path[256];
	char name[] = "renamed";
	job_desc_msg_t job;

	assert_int_equal(init_with(good_conf, path, sizeof(path)), SLURM_SUCCESS);
	update_init(&job);
	job.name = name;
	assert_int_equal(job_modify(&job, NULL, 0), SLURM_SUCCESS);
	fini();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_missing_file_uses_defaults),
	    cmocka_unit_test(test_init_unreadable_file_fails),
	    cmocka_unit_test(test_init_unknown_key_fails_naming_it),
	    cmocka_unit_test(test_non_det_job_untouched),
	    cmocka_unit_test(test_det_job_rewritten),
	    cmocka_unit_test(test_over_policy_refused_with_err_msg),
	    cmocka_unit_test(test_job_modify_caps_det_throttle),
	    cmocka_unit_test(test_job_modify_refusals_are_slurm_errors),
	    cmocka_unit_test(test_job_modify_without_record_passes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
