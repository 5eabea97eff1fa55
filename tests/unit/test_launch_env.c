/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det-launch's rank detection (Open MPI, Slurm, PMIx, single) and the
 * entrypoint environment it builds from a claim answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "launch_env.h"
#include "launch_rank.h"

static void test_no_launcher_means_single_process(void **state)
{
	char *env[] = {"HOME=/root", NULL};
	struct launch_rank r;
	char err[256];
	assert_int_equal(launch_rank_detect(env, &r, err, sizeof(err)), 0);
	assert_string_equal(r.source, "single");
	assert_int_equal(r.rank, 0);
	assert_int_equal(r.size, 1);
	assert_int_equal(r.cross_size, 1);
}

static void test_openmpi_wins_over_allocation_slurm_vars(void **state)
{
	char *env[] = {"SLURM_PROCID=0",
	               "SLURM_NTASKS=1",
	               "OMPI_COMM_WORLD_RANK=3",
	               "OMPI_COMM_WORLD_SIZE=4",
	               "OMPI_COMM_WORLD_LOCAL_RANK=1",
	               "OMPI_COMM_WORLD_LOCAL_SIZE=2",
	               NULL};
	struct launch_rank r;
	char err[256];
	assert_int_equal(launch_rank_detect(env, &r, err, sizeof(err)), 0);
	assert_string_equal(r.source, "openmpi");
	assert_int_equal(r.rank, 3);
	assert_int_equal(r.size, 4);
	assert_int_equal(r.local_rank, 1);
	assert_int_equal(r.local_size, 2);
	assert_int_equal(r.cross_rank, 1);
	assert_int_equal(r.cross_size, 2);
}

static void test_slurm_step_with_uneven_nodes(void **state)
{
	char *env[] = {"SLURM_PROCID=4",
	               "SLURM_NTASKS=99",
	               "SLURM_STEP_NUM_TASKS=5",
	               "SLURM_LOCALID=0",
	               "SLURM_NODEID=2",
	               "SLURM_STEP_NUM_NODES=3",
	               "SLURM_STEP_TASKS_PER_NODE=2(x2),1",
	               "PMIX_RANK=4",
	               NULL};
	struct launch_rank r;
	char err[256];
	assert_int_equal(launch_rank_detect(env, &r, err, sizeof(err)), 0);
	assert_string_equal(r.source, "slurm");
	assert_int_equal(r.rank, 4);
	assert_int_equal(r.size, 5);
	assert_int_equal(r.local_rank, 0);
	assert_int_equal(r.local_size, 1);
	assert_int_equal(r.cross_rank, 2);
	assert_int_equal(r.cross_size, 3);
}

static void test_slurm_tasks_per_node_format(void **state)
{
	assert_int_equal(launch_rank_slurm_tasks_on_node("4", 0), 4);
	assert_int_equal(launch_rank_slurm_tasks_on_node("2(x3),1", 2), 2);
	assert_int_equal(launch_rank_slurm_tasks_on_node("2(x3),1", 3), 1);
	assert_int_equal(launch_rank_slurm_tasks_on_node("2(x3),1", 4), -1);
	assert_int_equal(launch_rank_slurm_tasks_on_node("2(y3)", 0), -1);
	assert_int_equal(launch_rank_slurm_tasks_on_node("x", 0), -1);
	assert_int_equal(launch_rank_slurm_tasks_on_node("", 0), -1);
}

static void test_pmix_needs_a_size(void **state)
{
	char *env[] = {"PMIX_RANK=1", NULL};
	char *env2[] = {"PMIX_RANK=1", "DET_SIZE=2", NULL};
	struct launch_rank r;
	char err[256];
	assert_int_equal(launch_rank_detect(env, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "DET_SIZE"));
	assert_int_equal(launch_rank_detect(env2, &r, err, sizeof(err)), 0);
	assert_string_equal(r.source, "pmix");
	assert_int_equal(r.rank, 1);
	assert_int_equal(r.size, 2);
}

static void test_inconsistent_or_malformed_ranks_refused(void **state)
{
	char *bad[] = {"OMPI_COMM_WORLD_RANK=4", "OMPI_COMM_WORLD_SIZE=4", NULL};
	char *junk[] = {"SLURM_PROCID=x1", NULL};
	char *neg[] = {"SLURM_PROCID=0", "SLURM_NTASKS=-2", NULL};
	struct launch_rank r;
	char err[256];
	assert_int_equal(launch_rank_detect(bad, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "inconsistent ranks from openmpi"));
	assert_int_equal(launch_rank_detect(junk, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "SLURM_PROCID"));
	assert_int_equal(launch_rank_detect(neg, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "SLURM_NTASKS"));
}

static json_t *claim(void)
{
	json_t *c = json_loads(
	    "{\"trial_id\": 12, \"trial_index\": 2, \"experiment_id\": 5, \"array_task\": 2,"
	    " \"hparams\": {\"lr\": 0.5, \"layers\": {\"n\": 2}}, \"trial_seed\": 987654321,"
	    " \"token\": \"tok-abc\", \"latest_checkpoint\": null, \"steps_completed\": 0,"
	    " \"restarts\": 0, \"max_restarts\": 5, \"length\": 400, \"time_unit\": \"batches\","
	    " \"entrypoint\": \"python3 train.py\", \"slots_per_trial\": 2,"
	    " \"checkpoint_dir\": \"/ck/exp5\","
	    " \"environment_variables\": [\"FOO=bar=baz\", \"DET_TRIAL_ID=666\", "
	    "\"PYTHONPATH=/u\"],"
	    " \"searcher_metric\": \"validation_loss\", \"smaller_is_better\": false,"
	    " \"master_addr\": \"node7\", \"master_port\": 29500, \"dist_port\": 29611,"
	    " \"data\": {\"url\": \"x\", \"n\": 3}}",
	    0, NULL);
	assert_non_null(c);
	return c;
}

static void test_trial_environment_from_claim(void **state)
{
	char *base[] = {"HOME=/home/u", "DET_ALLOCATION_TOKEN=secret", "PATH=/bin", NULL};
	struct launch_rank r = {1, 2, 1, 2, 0, 1, "openmpi"};
	json_t *c = claim();
	struct launch_env_input in = {c,
	                              &r,
	                              "unix:/run/det.sock",
	                              "/opt/det/python",
	                              "/opt/det/bin",
	                              "/job/preempt-0",
	                              "/job/early-exit-0"};
	char err[256];
	char **env = launch_env_build(base, &in, err, sizeof(err));
	if (!env)
		fail_msg("%s", err);
	struct {
		const char *name, *value;
	} want[] = {
	    {"HOME", "/home/u"},
	    {"FOO", "bar=baz"},
	    {"DET_MASTER", "unix:/run/det.sock"},
	    {"DET_EXPERIMENT_ID", "5"},
	    {"DET_TRIAL_ID", "12"},
	    {"DET_TRIAL_SEED", "987654321"},
	    {"DET_HPARAMS", "{\"layers\":{\"n\":2},\"lr\":0.5}"},
	    {"DET_USER_DATA", "{\"n\":3,\"url\":\"x\"}"},
	    {"DET_LATEST_CHECKPOINT", ""},
	    {"DET_STEPS_COMPLETED", "0"},
	    {"DET_CHECKPOINT_DIR", "/ck/exp5"},
	    {"DET_SESSION_TOKEN", "tok-abc"},
	    {"DET_SEARCHER_LENGTH", "400"},
	    {"DET_SEARCHER_UNIT", "batches"},
	    {"DET_SEARCHER_METRIC", "validation_loss"},
	    {"DET_SMALLER_IS_BETTER", "0"},
	    {"DET_PREEMPT_FILE", "/job/preempt-0"},
	    {"DET_EARLY_EXIT_FILE", "/job/early-exit-0"},
	    {"DET_RANK", "1"},
	    {"DET_SIZE", "2"},
	    {"DET_LOCAL_RANK", "1"},
	    {"DET_CROSS_SIZE", "1"},
	    {"RANK", "1"},
	    {"WORLD_SIZE", "2"},
	    {"LOCAL_RANK", "1"},
	    {"MASTER_ADDR", "node7"},
	    {"MASTER_PORT", "29500"},
	    {"PYTHONPATH", "/opt/det/python:/u"},
	    {"PATH", "/bin:/opt/det/bin"}, /* the user's python first */
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *v = launch_env_lookup(env, want[i].name);
		if (!v || strcmp(v, want[i].value))
			fail_msg("%s=%s, want %s", want[i].name, v ? v : "(unset)", want[i].value);
	}
	assert_null(launch_env_lookup(env, "DET_ALLOCATION_TOKEN"));
	size_t n = 0;
	for (size_t i = 0; env[i]; i++)
		if (!strncmp(env[i], "DET_TRIAL_ID=", 13))
			n++;
	assert_int_equal(n, 1);
	launch_env_free(env);
	json_decref(c);
}

static void test_restart_checkpoint_and_defaults(void **state)
{
	struct launch_rank r = {0, 1, 0, 1, 0, 1, "single"};
	json_t *c = claim();
	json_object_set_new(c, "latest_checkpoint",
	                    json_string("01234567-89ab-4def-8123-456789abcdef"));
	json_object_set_new(c, "steps_completed", json_integer(200));
	json_object_del(c, "master_addr");
	json_object_del(c, "environment_variables");
	struct launch_env_input in = {c, &r, NULL, NULL, NULL, NULL, NULL};
	char err[256];
	char **env = launch_env_build(NULL, &in, err, sizeof(err));
	assert_non_null(env);
	assert_string_equal(launch_env_lookup(env, "DET_LATEST_CHECKPOINT"),
	                    "01234567-89ab-4def-8123-456789abcdef");
	assert_string_equal(launch_env_lookup(env, "DET_STEPS_COMPLETED"), "200");
	assert_string_equal(launch_env_lookup(env, "MASTER_ADDR"), "127.0.0.1");
	assert_null(launch_env_lookup(env, "DET_MASTER"));
	assert_null(launch_env_lookup(env, "PYTHONPATH"));
	launch_env_free(env);
	json_decref(c);
}

static void test_malformed_environment_variables_refused(void **state)
{
	struct launch_rank r = {0, 1, 0, 1, 0, 1, "single"};
	const char *bad[] = {"[\"NOEQUALS\"]", "[\"=v\"]", "[\"1X=v\"]",
	                     "[\"A B=v\"]",    "[3]",      "\"A=b\""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *c = claim();
		json_object_set_new(c, "environment_variables",
		                    json_loads(bad[i], JSON_DECODE_ANY, NULL));
		struct launch_env_input in = {c, &r, NULL, NULL, NULL, NULL, NULL};
		char err[256] = "";
		char **env = launch_env_build(NULL, &in, err, sizeof(err));
		if (env)
			fail_msg("accepted %s", bad[i]);
		assert_non_null(strstr(err, "environment_variables"));
		json_decref(c);
	}
	json_t *c = json_object();
	struct launch_env_input in = {c, &r, NULL, NULL, NULL, NULL, NULL};
	char err[256];
	assert_null(launch_env_build(NULL, &in, err, sizeof(err)));
	assert_non_null(strstr(err, "trial_id"));
	json_decref(c);
}

/* environment_variables per slot type: the launcher's GPUs pick the list, never a merge. */
static void test_slot_type_picks_environment_variables(void **state)
{
	struct launch_rank r = {0, 1, 0, 1, 0, 1, "single"};
	char *cpu_base[] = {"CUDA_VISIBLE_DEVICES=", "HOME=/h", NULL};
	char *cuda_base[] = {"CUDA_VISIBLE_DEVICES=0,1", NULL};
	char *rocm_base[] = {"ROCR_VISIBLE_DEVICES=0", "CUDA_VISIBLE_DEVICES=NoDevFiles", NULL};
	json_t *c = claim();
	(void)state;
	assert_string_equal(launch_env_slot_type(cpu_base), "cpu");
	assert_string_equal(launch_env_slot_type(NULL), "cpu");
	assert_string_equal(launch_env_slot_type(cuda_base), "cuda");
	assert_string_equal(launch_env_slot_type(rocm_base), "rocm");
	json_object_set_new(c, "environment_variables", json_pack("[s]", "OLD=top"));
	json_object_set_new(c, "environment",
	                    json_pack("{s:{s:[s], s:[s, s], s:[s]}}", "environment_variables",
	                              "cpu", "C=1", "cuda", "G=1", "H=2", "rocm", "R=1"));
	struct launch_env_input in = {c, &r, NULL, NULL, NULL, NULL, NULL};
	char err[256] = "";
	char **env = launch_env_build(cuda_base, &in, err, sizeof(err));
	assert_non_null(env);
	assert_string_equal(launch_env_lookup(env, "G"), "1");
	assert_string_equal(launch_env_lookup(env, "H"), "2");
	assert_null(launch_env_lookup(env, "C"));
	assert_null(launch_env_lookup(env, "R"));
	assert_null(launch_env_lookup(env, "OLD"));
	launch_env_free(env);
	env = launch_env_build(cpu_base, &in, err, sizeof(err));
	assert_non_null(env);
	assert_string_equal(launch_env_lookup(env, "C"), "1");
	assert_null(launch_env_lookup(env, "G"));
	launch_env_free(env);
	/* a master that sends only the top-level list */
	json_object_del(c, "environment");
	env = launch_env_build(cuda_base, &in, err, sizeof(err));
	assert_non_null(env);
	assert_string_equal(launch_env_lookup(env, "OLD"), "top");
	launch_env_free(env);
	json_decref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_launcher_means_single_process),
	    cmocka_unit_test(test_openmpi_wins_over_allocation_slurm_vars),
	    cmocka_unit_test(test_slurm_step_with_uneven_nodes),
	    cmocka_unit_test(test_slurm_tasks_per_node_format),
	    cmocka_unit_test(test_pmix_needs_a_size),
	    cmocka_unit_test(test_inconsistent_or_malformed_ranks_refused),
	    cmocka_unit_test(test_trial_environment_from_claim),
	    cmocka_unit_test(test_restart_checkpoint_and_defaults),
	    cmocka_unit_test(test_malformed_environment_variables_refused),
	    cmocka_unit_test(test_slot_type_picks_environment_variables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
