/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * job_submit_det's policy for updates of existing jobs (det_policy_modify):
 * det jobs, known by their admin comment, get their array throttle capped
 * and keep name, admin comment, requeue, pool partition and slots; every
 * other job's update passes untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "det_policy.h"

static const char site_conf[] = "PoolPartition=default:gpu\n"
                                "PoolPartition=cpu-pool:cpu:cpu\n"
                                "MaxSlots=8\n"
                                "MaxSlotsPerNode=2\n"
                                "MaxArrayThrottle=4\n"
                                "Requeue=yes\n";

static const char det_comment[] = "det-slurm experiment=12 pool=default slots=2";

static void load(struct det_policy_conf *conf, const char *text)
{
	char err[256] = "";

	det_policy_conf_init(conf);
	if (det_policy_conf_parse(conf, text, "det.conf", err, sizeof(err)) < 0)
		fail_msg("parse failed: %s", err);
}

/* An update that sets nothing, of a job with admin comment comment. */
static struct det_modify_in update_of(const char *comment)
{
	struct det_modify_in in = {.admin_comment = comment, .new_requeue = DET_POLICY_NO_VAL16};
	return in;
}

/* Run the decision; return its result, out and err filled. */
static int decide(const char *conf_text, const struct det_modify_in *in, struct det_modify_out *out,
                  char *err, size_t errlen)
{
	struct det_policy_conf conf;

	load(&conf, conf_text);
	err[0] = '\0';
	return det_policy_modify(&conf, in, out, err, errlen);
}

static void refused(const struct det_modify_in *in, enum det_modify_refusal why, const char *expect)
{
	struct det_modify_out out;
	char err[256];

	assert_int_equal(decide(site_conf, in, &out, err, sizeof(err)), -1);
	assert_int_equal(out.refusal, why);
	if (!strstr(err, expect))
		fail_msg("error '%s' does not contain '%s'", err, expect);
}

static void test_throttle_over_cap_lowered(void **state)
{
	struct det_modify_in in = update_of(det_comment);
	struct det_modify_out out;
	char err[256];

	(void)state;
	in.new_array_inx = "50";
	assert_int_equal(decide(site_conf, &in, &out, err, sizeof(err)), 0);
	assert_int_equal(out.is_det, 1);
	assert_int_equal(out.experiment_id, 12);
	assert_string_equal(out.array_inx, "4");
	in.new_array_inx = "%9";
	assert_int_equal(decide(site_conf, &in, &out, err, sizeof(err)), 0);
	assert_string_equal(out.array_inx, "4");
}

static void test_throttle_zero_means_unlimited_and_is_capped(void **state)
{
	struct det_modify_in in = update_of(det_comment);
	struct det_modify_out out;
	char err[256];

	(void)state;
	in.new_array_inx = "0";
	assert_int_equal(decide(site_conf, &in, &out, err, sizeof(err)), 0);
	assert_string_equal(out.array_inx, "4");
}

static void test_throttle_within_cap_kept(void **state)
{
	struct det_modify_in in = update_of(det_comment);
	struct det_modify_out out;
	char err[256];

	(void)state;
	in.new_array_inx = "2";
	assert_int_equal(decide(site_conf, &in, &out, err, sizeof(err)), 0);
	assert_string_equal(out.array_inx, "");
	in.new_array_inx = "4";
	assert_int_equal(decide(site_conf, &in, &out, err, sizeof(err)), 0);
	assert_string_equal(out.array_inx, "");
}

static void test_no_cap_configured_keeps_throttle(void **state)
{
	struct det_modify_in in = update_of(det_comment);
	struct det_modify_out out;
	char err[256];

	(void)state;
	in.new_array_inx = "0";
	assert_int_equal(decide("PoolPartition=default:gpu\n", &in, &out, err, sizeof(err)), 0);
	assert_int_equal(out.is_det, 1);
	assert_string_equal(out.array_inx, "");
}

static void test_bad_throttle_refused(void **state)
{
	struct det_modify_in in = update_of(det_comment);

	(void)state;
	in.new_array_inx = "4x";
	refused(&in, DET_MODIFY_THROTTLE, "det experiment 12: array throttle '4x' is not a number");
	in.new_array_inx = "-1";
	refused(&in, DET_MODIFY_THROTTLE, "not a number");
}

static void test_non_det_job_untouched(void **state)
{
	const char *comments[] = {NULL,
	                          "",
	                          "site comment",
	                          "det-slurm experiment=abc pool=x slots=1",
	                          "det-slurm experiment=0 pool=default slots=1",
	                          "det-slurm experiment=5 pool=default"};
	struct det_modify_out out;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(comments) / sizeof(comments[0]); i++) {
		struct det_modify_in in = update_of(comments[i]);

		in.new_array_inx = "100";
		in.new_name = "renamed";
		in.new_partition = "cpu";
		in.new_requeue = 0;
		assert_int_equal(decide(site_conf, &in, &out, err, sizeof(err)), 0);
		assert_int_equal(out.is_det, 0);
		assert_string_equal(out.array_inx, "");
	}
}

static void test_name_admin_comment_requeue_fixed(void **state)
{
	struct det_modify_in in = update_of(det_comment);

	(void)state;
	in.new_name = "mine";
	refused(&in, DET_MODIFY_FIELD, "det experiment 12: the job name stays 'det-e12'");
	in = update_of(det_comment);
	in.new_admin_comment = "hello";
	refused(&in, DET_MODIFY_FIELD, "the admin comment marks a det job");
	in = update_of(det_comment);
	in.new_requeue = 0;
	refused(&in, DET_MODIFY_FIELD, "det.conf sets Requeue=yes for det jobs");
}

static void test_same_values_pass(void **state)
{
	struct det_modify_in in = update_of(det_comment);
	struct det_modify_out out;
	char err[256];

	(void)state;
	in.new_name = "det-e12";
	in.new_admin_comment = det_comment;
	in.new_requeue = 1;
	in.new_partition = "gpu";
	in.new_tres_per_node = "gres:gpu:2";
	assert_int_equal(decide(site_conf, &in, &out, err, sizeof(err)), 0);
	assert_int_equal(out.is_det, 1);
}

static void test_partition_stays_the_pools(void **state)
{
	struct det_modify_in in = update_of(det_comment);
	struct det_modify_out out;
	char err[256];

	(void)state;
	in.new_partition = "cpu";
	refused(&in, DET_MODIFY_PARTITION,
	        "det experiment 12: pool 'default' runs in partition 'gpu', not 'cpu'");
	/* A pool that det.conf no longer maps: no partition is right. */
	in = update_of("det-slurm experiment=3 pool=gone slots=1");
	in.new_partition = "gpu";
	refused(&in, DET_MODIFY_PARTITION, "(pool gone)");
	/* Without pool lines det jobs keep the partition they ask for. */
	in = update_of("det-slurm experiment=3 pool=- slots=1");
	in.new_partition = "anything";
	assert_int_equal(decide(site_conf, &in, &out, err, sizeof(err)), 0);
}

static void test_slots_fixed(void **state)
{
	struct det_modify_in in = update_of(det_comment);

	(void)state;
	in.new_tres_per_node = "gres:gpu:1";
	refused(&in, DET_MODIFY_GRES,
	        "det experiment 12: a trial's 2 slots are fixed at submission, cannot change "
	        "TresPerNode to 'gres:gpu:1'");
	in = update_of("det-slurm experiment=4 pool=cpu-pool slots=3");
	in.new_tres_per_node = "gres:gpu:1";
	refused(&in, DET_MODIFY_GRES, "3 slots are fixed");
}

static void test_requeue_no_site(void **state)
{
	struct det_modify_in in = update_of(det_comment);
	struct det_modify_out out;
	char err[256];

	(void)state;
	in.new_requeue = 0;
	assert_int_equal(
	    decide("PoolPartition=default:gpu\nRequeue=no\n", &in, &out, err, sizeof(err)), 0);
	in.new_requeue = 1;
	assert_int_equal(
	    decide("PoolPartition=default:gpu\nRequeue=no\n", &in, &out, err, sizeof(err)), -1);
	assert_int_equal(out.refusal, DET_MODIFY_FIELD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_throttle_over_cap_lowered),
	    cmocka_unit_test(test_throttle_zero_means_unlimited_and_is_capped),
	    cmocka_unit_test(test_throttle_within_cap_kept),
	    cmocka_unit_test(test_no_cap_configured_keeps_throttle),
	    cmocka_unit_test(test_bad_throttle_refused),
	    cmocka_unit_test(test_non_det_job_untouched),
	    cmocka_unit_test(test_name_admin_comment_requeue_fixed),
	    cmocka_unit_test(test_same_values_pass),
	    cmocka_unit_test(test_partition_stays_the_pools),
	    cmocka_unit_test(test_slots_fixed),
	    cmocka_unit_test(test_requeue_no_site),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
