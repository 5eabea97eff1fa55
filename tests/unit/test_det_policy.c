/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * job_submit_det's policy without Slurm: det.conf parsing (strict keys, line
 * numbers in messages) and the rewrite/refuse decision for det jobs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "det_policy.h"

static const char site_conf[] = "# test site\n"
                                "PoolPartition=default:gpu\n"
                                "PoolPartition=big:gpu-big\n"
                                "PoolPartition=cpu-pool:cpu:cpu\n"
                                "DefaultSlots=1\n"
                                "MaxSlots=8\n"
                                "MaxSlotsPerNode=4\n"
                                "GpuGres=gpu\n"
                                "DefaultTimeLimit=120\n"
                                "MaxArrayThrottle=4\n"
                                "Requeue=yes\n";

static void load(struct det_policy_conf *conf, const char *text)
{
	char err[256] = "";

	det_policy_conf_init(conf);
	if (det_policy_conf_parse(conf, text, "det.conf", err, sizeof(err)) < 0)
		fail_msg("parse failed: %s", err);
}

static void parse_fails(const char *text, const char *expect)
{
	struct det_policy_conf conf;
	char err[256] = "";

	det_policy_conf_init(&conf);
	assert_int_equal(det_policy_conf_parse(&conf, text, "det.conf", err, sizeof(err)), -1);
	if (!strstr(err, expect))
		fail_msg("error '%s' does not contain '%s'", err, expect);
}

static void test_conf_site_parses(void **state)
{
	struct det_policy_conf conf;

	load(&conf, site_conf);
	assert_int_equal(conf.npools, 3);
	assert_string_equal(conf.pools[0].name, "default");
	assert_string_equal(conf.pools[1].partition, "gpu-big");
	assert_int_equal(conf.pools[2].gpu, 0);
	assert_int_equal(conf.max_slots, 8);
	assert_int_equal(conf.max_slots_per_node, 4);
	assert_int_equal(conf.default_time_limit_min, 120);
	assert_int_equal(conf.max_array_throttle, 4);
	assert_int_equal(conf.requeue, 1);
}

static void test_conf_container_runtime_keys(void **state)
{
	struct det_policy_conf conf;
	char err[256];

	(void)state;
	det_policy_conf_init(&conf);
	assert_int_equal(det_policy_conf_parse(&conf, "MaxSlots=4\n", "det.conf", err, sizeof(err)),
	                 0);
	assert_string_equal(conf.container_runtime, "");
	assert_string_equal(conf.container_oci_runtime, "");
	det_policy_conf_init(&conf);
	assert_int_equal(det_policy_conf_parse(&conf,
	                                       "ContainerRuntime=none\ncontainerociruntime=crun\n",
	                                       "det.conf", err, sizeof(err)),
	                 0);
	assert_string_equal(conf.container_runtime, "none");
	assert_string_equal(conf.container_oci_runtime, "crun");
	/* the bare OCI-bundle runtime, under either name */
	det_policy_conf_init(&conf);
	assert_int_equal(det_policy_conf_parse(&conf,
	                                       "ContainerRuntime=crun\nContainerOciRuntime=runc\n",
	                                       "det.conf", err, sizeof(err)),
	                 0);
	assert_string_equal(conf.container_runtime, "oci");
	assert_string_equal(conf.container_oci_runtime, "runc");
	det_policy_conf_init(&conf);
	assert_int_equal(det_policy_conf_parse(&conf, "ContainerRuntime=apptainer\n", "det.conf",
	                                       err, sizeof(err)),
	                 0);
	assert_string_equal(conf.container_runtime, "apptainer");
	parse_fails("ContainerRuntime=docker\n",
	            "det.conf:1: ContainerRuntime wants auto, podman, oci (or crun), enroot, "
	            "apptainer or none, got "
	            "'docker'");
	parse_fails("ContainerRuntime=\n",
	            "ContainerRuntime wants auto, podman, oci (or crun), enroot");
	parse_fails("ContainerRuntime=podman\nContainerRuntime=none\n", "det.conf:2:");
	parse_fails("ContainerOciRuntime=--root=/x\n", "ContainerOciRuntime wants a runtime name");
	parse_fails("ContainerOciRuntime=/usr/bin/runc\n",
	            "ContainerOciRuntime wants a runtime name");
}

static void test_conf_unknown_key_names_key_and_line(void **state)
{
	parse_fails("MaxSlots=4\n\n# c\nMaxSlotz=4\n", "det.conf:4: unknown key 'MaxSlotz'");
}

static void test_conf_rejects_bad_values(void **state)
{
	parse_fails("MaxSlots=-1\n", "det.conf:1: MaxSlots wants a number");
	parse_fails("MaxSlots=08\n", "MaxSlots wants a number");
	parse_fails("MaxSlots=4x\n", "MaxSlots wants a number");
	parse_fails("Requeue=maybe\n", "det.conf:1: Requeue wants yes or no");
	parse_fails("GpuGres=gpu;rm -rf\n", "GpuGres wants a name");
	parse_fails("PoolPartition=nopartition\n", "PoolPartition wants POOL:PARTITION");
	parse_fails("PoolPartition=a:b:tpu\n", "pool kind must be gpu or cpu");
	parse_fails("PoolPartition=a:b\nPoolPartition=a:c\n", "det.conf:2: pool 'a' mapped twice");
	parse_fails("just text\n", "det.conf:1: expected Key=Value");
	parse_fails("MaxSlots=4\nMaxSlots=5\n", "det.conf:2: MaxSlots given twice");
	parse_fails("DefaultSlots=9\nMaxSlots=8\n", "DefaultSlots=9 exceeds MaxSlots=8");
}

static void test_conf_long_line_refused(void **state)
{
	char text[2100];

	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	parse_fails(text, "det.conf:1: line longer than");
}

static void test_conf_keys_case_insensitive_and_comments(void **state)
{
	struct det_policy_conf conf;

	load(&conf, "  maxslots = 16   # trailing comment\r\nGPUTYPE=a100\n");
	assert_int_equal(conf.max_slots, 16);
	assert_string_equal(conf.gpu_type, "a100");
}

static int decide(const char *conf_text, char **env, size_t nenv, const char *array_inx,
                  struct det_job_out *out, char *err, size_t errlen)
{
	struct det_policy_conf conf;
	struct det_job_in job = {
	    .spank_env = env,
	    .spank_env_size = nenv,
	    .array_inx = array_inx,
	    .time_limit_min = DET_POLICY_NO_VAL,
	};

	load(&conf, conf_text);
	return det_policy_apply(&conf, &job, out, err, errlen);
}

static void test_non_det_job_untouched(void **state)
{
	char *env[] = {"SOMETHING=1", "DET_EXPERIMENT_IDX=3", "XDET_EXPERIMENT_ID=4"};
	struct det_job_out out;
	char err[256] = "";

	assert_int_equal(decide(site_conf, env, 3, "0-9%100", &out, err, sizeof(err)), 0);
	assert_int_equal(out.is_det, 0);
	assert_int_equal(decide(site_conf, NULL, 0, NULL, &out, err, sizeof(err)), 0);
	assert_int_equal(out.is_det, 0);
}

static void test_det_job_rewritten(void **state)
{
	char *env[] = {"OTHER=x", "DET_EXPERIMENT_ID=42", "DET_RESOURCE_POOL=big",
	               "DET_SLOTS_PER_TRIAL=2"};
	struct det_job_out out;
	char err[256] = "";

	assert_int_equal(decide(site_conf, env, 4, "0-99%50", &out, err, sizeof(err)), 0);
	assert_int_equal(out.is_det, 1);
	assert_int_equal(out.experiment_id, 42);
	assert_string_equal(out.name, "det-e42");
	assert_string_equal(out.partition, "gpu-big");
	assert_string_equal(out.tres_per_node, "gres:gpu:2");
	assert_string_equal(out.array_inx, "0-99%4");
	assert_int_equal(out.time_limit_min, 120);
	assert_int_equal(out.requeue, 1);
	assert_int_equal(out.num_tasks, 2);
	assert_int_equal(out.nodes, 1);
	assert_int_equal(out.tasks_per_node, DET_POLICY_NO_VAL);
	assert_non_null(strstr(out.admin_comment, "experiment=42"));
	assert_non_null(strstr(out.admin_comment, "pool=big"));
}

static void test_default_pool_and_slots(void **state)
{
	char *env[] = {"DET_EXPERIMENT_ID=7"};
	struct det_job_out out;
	char err[256] = "";

	assert_int_equal(decide(site_conf, env, 1, NULL, &out, err, sizeof(err)), 0);
	assert_string_equal(out.partition, "gpu");
	assert_string_equal(out.tres_per_node, "gres:gpu:1");
	assert_string_equal(out.array_inx, ""); /* not an array: nothing to throttle */
}

static void test_throttle_added_kept_or_capped(void **state)
{
	char *env[] = {"DET_EXPERIMENT_ID=7"};
	struct det_job_out out;
	char err[256] = "";

	assert_int_equal(decide(site_conf, env, 1, "0-29", &out, err, sizeof(err)), 0);
	assert_string_equal(out.array_inx, "0-29%4");
	assert_int_equal(decide(site_conf, env, 1, "0-29%2", &out, err, sizeof(err)), 0);
	assert_string_equal(out.array_inx, ""); /* already under the cap */
	assert_int_equal(decide(site_conf, env, 1, "1,3,5-9:2%9", &out, err, sizeof(err)), 0);
	assert_string_equal(out.array_inx, "1,3,5-9:2%4");
	assert_int_equal(decide("MaxArrayThrottle=0\n", env, 1, "0-29%50", &out, err, sizeof(err)),
	                 0);
	assert_string_equal(out.array_inx, ""); /* no cap configured */
	assert_int_equal(decide(site_conf, env, 1, "0-9%x", &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "throttle 'x' is not a number"));
}

static void test_multi_node_and_gpu_type(void **state)
{
	char *env[] = {"DET_EXPERIMENT_ID=7", "DET_SLOTS_PER_TRIAL=8"};
	char conf_text[sizeof(site_conf) + 32];
	struct det_job_out out;
	char err[256] = "";

	snprintf(conf_text, sizeof(conf_text), "%sGpuType=a100\n", site_conf);
	assert_int_equal(decide(conf_text, env, 2, NULL, &out, err, sizeof(err)), 0);
	assert_int_equal(out.nodes, 2);
	assert_int_equal(out.num_tasks, 8);
	assert_int_equal(out.tasks_per_node, 4);
	assert_string_equal(out.tres_per_node, "gres:gpu:a100:4");
}

static void test_cpu_pool_uses_tasks_not_gres(void **state)
{
	char *env[] = {"DET_EXPERIMENT_ID=7", "DET_RESOURCE_POOL=cpu-pool",
	               "DET_SLOTS_PER_TRIAL=3"};
	struct det_job_out out;
	char err[256] = "";

	assert_int_equal(decide(site_conf, env, 3, NULL, &out, err, sizeof(err)), 0);
	assert_string_equal(out.partition, "cpu");
	assert_string_equal(out.tres_per_node, "");
	assert_int_equal(out.num_tasks, 3);
	assert_int_equal(out.nodes, DET_POLICY_NO_VAL);
}

static void test_refusals_say_why(void **state)
{
	char *too_many[] = {"DET_EXPERIMENT_ID=9", "DET_SLOTS_PER_TRIAL=16"};
	char *bad_pool[] = {"DET_EXPERIMENT_ID=9", "DET_RESOURCE_POOL=nope"};
	char *bad_id[] = {"DET_EXPERIMENT_ID=9abc"};
	char *zero_id[] = {"DET_EXPERIMENT_ID=0"};
	char *huge_id[] = {"DET_EXPERIMENT_ID=99999999999"};
	char *bad_slots[] = {"DET_EXPERIMENT_ID=9", "DET_SLOTS_PER_TRIAL=two"};
	struct det_job_out out;
	char err[256] = "";

	assert_int_equal(decide(site_conf, too_many, 2, NULL, &out, err, sizeof(err)), -1);
	assert_string_equal(
	    err, "det experiment 9: 16 slots per trial exceed this cluster's limit of 8");
	assert_int_equal(decide(site_conf, bad_pool, 2, NULL, &out, err, sizeof(err)), -1);
	assert_string_equal(err, "det experiment 9: unknown resource pool 'nope'");
	assert_int_equal(decide(site_conf, bad_id, 1, NULL, &out, err, sizeof(err)), -1);
	assert_string_equal(err, "det experiment id '9abc' is not a positive integer");
	assert_int_equal(decide(site_conf, zero_id, 1, NULL, &out, err, sizeof(err)), -1);
	assert_int_equal(decide(site_conf, huge_id, 1, NULL, &out, err, sizeof(err)), -1);
	assert_int_equal(decide(site_conf, bad_slots, 2, NULL, &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "slots per trial 'two' is not a number"));
}

static void test_time_limit_given_is_kept(void **state)
{
	char *env[] = {"DET_EXPERIMENT_ID=7"};
	struct det_policy_conf conf;
	struct det_job_in job = {.spank_env = env, .spank_env_size = 1, .time_limit_min = 10};
	struct det_job_out out;
	char err[256];

	load(&conf, site_conf);
	assert_int_equal(det_policy_apply(&conf, &job, &out, err, sizeof(err)), 0);
	assert_int_equal(out.time_limit_min, DET_POLICY_NO_VAL);
}

static void test_requeue_no_forces_off(void **state)
{
	char *env[] = {"DET_EXPERIMENT_ID=7"};
	struct det_job_out out;
	char err[256];

	assert_int_equal(decide("Requeue=no\n", env, 1, NULL, &out, err, sizeof(err)), 0);
	assert_int_equal(out.requeue, 0);
	assert_string_equal(out.partition, ""); /* no pools: partition stays */
	assert_string_equal(out.tres_per_node, "gres:gpu:1");
}

static void test_overlong_array_spec_refused(void **state)
{
	char *env[] = {"DET_EXPERIMENT_ID=7"};
	static char inx[DET_POLICY_ARRAY_INX_MAX + 10];
	struct det_job_out out;
	char err[256];

	memset(inx, '1', sizeof(inx) - 1);
	assert_int_equal(decide(site_conf, env, 1, inx, &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "array spec must be"));
}

/* The example etc/det.conf that admins copy must parse as it ships. */
static void test_shipped_example_parses(void **state)
{
	const char *top = getenv("top_srcdir");
	char path[4096], text[65536];
	struct det_policy_conf conf;
	FILE *f;
	size_t n;

	if (!top)
		skip();
	snprintf(path, sizeof(path), "%s/etc/det.conf", top);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	load(&conf, text);
	assert_int_equal(conf.npools, 3);
	assert_int_equal(conf.max_slots, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conf_site_parses),
	    cmocka_unit_test(test_conf_unknown_key_names_key_and_line),
	    cmocka_unit_test(test_conf_container_runtime_keys),
	    cmocka_unit_test(test_conf_rejects_bad_values),
	    cmocka_unit_test(test_conf_long_line_refused),
	    cmocka_unit_test(test_conf_keys_case_insensitive_and_comments),
	    cmocka_unit_test(test_non_det_job_untouched),
	    cmocka_unit_test(test_det_job_rewritten),
	    cmocka_unit_test(test_default_pool_and_slots),
	    cmocka_unit_test(test_throttle_added_kept_or_capped),
	    cmocka_unit_test(test_multi_node_and_gpu_type),
	    cmocka_unit_test(test_cpu_pool_uses_tasks_not_gres),
	    cmocka_unit_test(test_refusals_say_why),
	    cmocka_unit_test(test_time_limit_given_is_kept),
	    cmocka_unit_test(test_requeue_no_forces_off),
	    cmocka_unit_test(test_overlong_array_spec_refused),
	    cmocka_unit_test(test_shipped_example_parses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
