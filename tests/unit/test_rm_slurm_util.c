/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Slurm resource manager's pure helpers: splitting over MaxArraySize,
 * the job id string, Slurm's array task lists, and the per-task state step
 * (including runs and requeues that happen between two polls).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "master/rm_slurm_util.h"

static void test_split(void **state)
{
	struct rm_slurm_part p[4];
	char err[128];
	(void)state;
	assert_int_equal(rm_slurm_split(10, 1001, p, 4, err, sizeof(err)), 1);
	assert_int_equal(p[0].offset, 0);
	assert_int_equal(p[0].count, 10);
	assert_int_equal(rm_slurm_split(2500, 1001, p, 4, err, sizeof(err)), 3);
	assert_int_equal(p[1].offset, 1001);
	assert_int_equal(p[1].count, 1001);
	assert_int_equal(p[2].offset, 2002);
	assert_int_equal(p[2].count, 498);
	assert_int_equal(rm_slurm_split(1001, 1001, p, 4, err, sizeof(err)), 1);
	assert_int_equal(rm_slurm_split(5000, 1001, p, 4, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 4 arrays"));
	assert_int_equal(rm_slurm_split(0, 1001, p, 4, err, sizeof(err)), -1);
}

static void test_ids(void **state)
{
	struct rm_slurm_part p[3] = {{12, 0, 5}, {13, 5, 5}, {4000000000u, 10, 1}}, q[4];
	char buf[64], err[128];
	(void)state;
	assert_int_equal(rm_slurm_format_ids(p, 3, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "12+0,13+5,4000000000+10");
	char small[10];
	assert_int_equal(rm_slurm_format_ids(p, 3, small, sizeof(small)), -1);
	assert_int_equal(rm_slurm_parse_ids(buf, q, 4, err, sizeof(err)), 3);
	assert_int_equal(q[2].job_id, 4000000000u);
	assert_int_equal(q[1].offset, 5);
	assert_int_equal(rm_slurm_parse_ids("77", q, 4, err, sizeof(err)), 1);
	assert_int_equal(q[0].job_id, 77);
	assert_int_equal(q[0].offset, 0);
	const char *bad[] = {"", "x", "12+", "12,", "0", "12+0;13", "-3", "1,2,3,4,5"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rm_slurm_parse_ids(bad[i], q, 4, err, sizeof(err)), -1);
	assert_int_equal(rm_slurm_parse_ids(NULL, q, 4, err, sizeof(err)), -1);
}

static void test_indices(void **state)
{
	unsigned char f[12];
	char err[128];
	(void)state;
	memset(f, 0, sizeof(f));
	assert_int_equal(rm_slurm_parse_indices("0-2,5,7-11:2%4", f, 12, err, sizeof(err)), 0);
	const unsigned char want[12] = {1, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1};
	assert_memory_equal(f, want, 12);
	memset(f, 0, sizeof(f));
	assert_int_equal(rm_slurm_parse_indices("10-4000", f, 12, err, sizeof(err)), 0);
	assert_int_equal(f[10] + f[11] + f[9], 2);
	const char *bad[] = {"3-1", "a", "1-", "1,,x", "1-5:0", "2;3"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rm_slurm_parse_indices(bad[i], f, 12, err, sizeof(err)), -1);
}

/* A node's report of a batch script's end: only an exit of its own ends the task at once. */
static void test_report_end(void **state)
{
	static const struct {
		enum rm_slurm_tstate st;
		int wait_status, canceled, paused;
		enum rm_slurm_report_act want;
	} cases[] = {
	    {RM_SLURM_T_RUNNING, 0, 0, 0, RM_SLURM_REPORT_END},
	    {RM_SLURM_T_RUNNING, 1 << 8, 0, 0, RM_SLURM_REPORT_END},      /* the trial failed */
	    {RM_SLURM_T_PENDING, 0, 0, 0, RM_SLURM_REPORT_END},           /* start not seen */
	    {RM_SLURM_T_RUNNING, 75 << 8, 0, 0, RM_SLURM_REPORT_RECHECK}, /* requeue or scancel */
	    {RM_SLURM_T_RUNNING, 9, 0, 0, RM_SLURM_REPORT_RECHECK},       /* OOM, time limit */
	    {RM_SLURM_T_RUNNING, 15, 0, 0, RM_SLURM_REPORT_RECHECK},
	    {RM_SLURM_T_RUNNING, 0, 1, 0, RM_SLURM_REPORT_RECHECK}, /* the master canceled */
	    {RM_SLURM_T_RUNNING, 0, 0, 1, RM_SLURM_REPORT_RECHECK}, /* paused: requeued held */
	    {RM_SLURM_T_DONE, 0, 0, 0, RM_SLURM_REPORT_IGNORE},
	    {RM_SLURM_T_DONE, 9, 0, 0, RM_SLURM_REPORT_IGNORE},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(rm_slurm_report_end(cases[i].st, cases[i].wait_status,
		                                     cases[i].canceled, cases[i].paused),
		                 cases[i].want);
}

/* A node's report of a start: never one older than what Slurm listed. */
/* The safety net's interval: poll_ms unless the reports are trusted and nothing waits on
 * the list; stretched at most to a minute, never below poll_ms. */
static void test_poll_interval(void **state)
{
	(void)state;
	static const struct {
		int poll_ms, trusted, awaited, want;
	} cases[] = {
	    {1000, 0, 0, 1000},     /* no reports (yet), or a task ran without one */
	    {1000, 1, 1, 1000},     /* a canceled array's grace, a held part's turn */
	    {1000, 0, 1, 1000},     /* both */
	    {1000, 1, 0, 5000},     /* reports flow: the list is the safety net */
	    {200, 1, 0, 1000},      /* short test intervals stretch alike */
	    {20000, 1, 0, 60000},   /* capped at a minute */
	    {60000, 1, 0, 60000},   /* poll_ms at the cap already */
	    {600000, 1, 0, 600000}, /* never below poll_ms */
	    {600000, 0, 0, 600000},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(
		    rm_slurm_poll_interval(cases[i].poll_ms, cases[i].trusted, cases[i].awaited),
		    cases[i].want);
}

static void test_report_start(void **state)
{
	(void)state;
	assert_true(rm_slurm_report_start(RM_SLURM_T_PENDING, 0, 0));
	assert_true(rm_slurm_report_start(RM_SLURM_T_RUNNING, 0, 0));
	assert_true(rm_slurm_report_start(RM_SLURM_T_DONE, 0, 1));     /* requeued, runs again */
	assert_true(rm_slurm_report_start(RM_SLURM_T_PENDING, 1, 2));  /* a later run */
	assert_false(rm_slurm_report_start(RM_SLURM_T_DONE, 1, 1));    /* late: that run ended */
	assert_false(rm_slurm_report_start(RM_SLURM_T_RUNNING, 2, 1)); /* an older run */
	assert_false(rm_slurm_report_start(RM_SLURM_T_PENDING, 2, 1));
}

static void test_step(void **state)
{
	enum rm_slurm_tstate st = RM_SLURM_T_PENDING;
	unsigned r = 0;
	(void)state;
	assert_int_equal(rm_slurm_step(&st, &r, RM_SLURM_OBS_PENDING, 0), 0);
	assert_int_equal(rm_slurm_step(&st, &r, RM_SLURM_OBS_RUNNING, 0), RM_SLURM_EMIT_START);
	assert_int_equal(st, RM_SLURM_T_RUNNING);
	assert_int_equal(rm_slurm_step(&st, &r, RM_SLURM_OBS_RUNNING, 0), 0);
	/* Node failure: back in the queue. */
	assert_int_equal(rm_slurm_step(&st, &r, RM_SLURM_OBS_REQUEUED, 1),
	                 RM_SLURM_EMIT_END_REQUEUED);
	assert_int_equal(st, RM_SLURM_T_PENDING);
	assert_int_equal(rm_slurm_step(&st, &r, RM_SLURM_OBS_RUNNING, 1), RM_SLURM_EMIT_START);
	/* Requeued and running again between two polls. */
	assert_int_equal(rm_slurm_step(&st, &r, RM_SLURM_OBS_RUNNING, 2),
	                 RM_SLURM_EMIT_END_REQUEUED | RM_SLURM_EMIT_START);
	assert_int_equal(rm_slurm_step(&st, &r, RM_SLURM_OBS_ENDED, 2), RM_SLURM_EMIT_END);
	assert_int_equal(st, RM_SLURM_T_DONE);
	assert_int_equal(rm_slurm_step(&st, &r, RM_SLURM_OBS_ENDED, 2), 0);
	/* Requeued by the master, ran and ended before the next poll. */
	assert_int_equal(rm_slurm_step(&st, &r, RM_SLURM_OBS_ENDED, 3),
	                 RM_SLURM_EMIT_START | RM_SLURM_EMIT_END);
	/* Requeued by the master, seen pending, then running. */
	assert_int_equal(rm_slurm_step(&st, &r, RM_SLURM_OBS_PENDING, 4), 0);
	assert_int_equal(st, RM_SLURM_T_PENDING);
	assert_int_equal(rm_slurm_step(&st, &r, RM_SLURM_OBS_RUNNING, 4), RM_SLURM_EMIT_START);
	/* A whole short run missed from pending. */
	st = RM_SLURM_T_PENDING;
	assert_int_equal(rm_slurm_step(&st, &r, RM_SLURM_OBS_ENDED, 4),
	                 RM_SLURM_EMIT_START | RM_SLURM_EMIT_END);
	/* Ended, requeued and restarted all between polls while running. */
	st = RM_SLURM_T_RUNNING;
	assert_int_equal(rm_slurm_step(&st, &r, RM_SLURM_OBS_ENDED, 5),
	                 RM_SLURM_EMIT_END | RM_SLURM_EMIT_END_REQUEUED | RM_SLURM_EMIT_START);
}

static void test_time(void **state)
{
	(void)state;
	assert_int_equal(rm_slurm_parse_time("30"), 30);
	assert_int_equal(rm_slurm_parse_time("30:01"), 31);
	assert_int_equal(rm_slurm_parse_time("1:30:00"), 90);
	assert_int_equal(rm_slurm_parse_time("2-0"), 2880);
	assert_int_equal(rm_slurm_parse_time("1-1:30"), 1530);
	assert_int_equal(rm_slurm_parse_time("0-0:0:59"), 1);
	const char *bad[] = {"", "x", "1:2:3:4", "-5", "1-", "1-x", "5m", "1::2"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rm_slurm_parse_time(bad[i]), -1);
}

static void test_walltime_lead(void **state)
{
	(void)state;
	assert_int_equal(rm_slurm_walltime_lead(120, -1), 120);
	assert_int_equal(rm_slurm_walltime_lead(120, 60), 120);
	assert_int_equal(rm_slurm_walltime_lead(20, 1), 20);
	assert_int_equal(rm_slurm_walltime_lead(30, 1), 0);
	assert_int_equal(rm_slurm_walltime_lead(120, 1), 0);
	assert_int_equal(rm_slurm_walltime_lead(120, 4), 0);
	assert_int_equal(rm_slurm_walltime_lead(0, -1), 0);
}

static void test_sbatch_args(void **state)
{
	struct rm_slurm_opts o;
	char err[256];
	(void)state;
	const char *ok[] = {"--partition=cpu", "-A", "proj",   "--qos", "high",
	                    "-Cbig",           "-t", "1:00:00"};
	assert_int_equal(rm_slurm_parse_sbatch_args(ok, 8, &o, err, sizeof(err)), 0);
	assert_string_equal(o.partition, "cpu");
	assert_string_equal(o.account, "proj");
	assert_string_equal(o.qos, "high");
	assert_string_equal(o.constraint, "big");
	assert_int_equal(o.time_min, 60);
	assert_int_equal(rm_slurm_parse_sbatch_args(ok, 0, &o, err, sizeof(err)), 0);
	assert_int_equal(o.time_min, -1);
	assert_string_equal(o.partition, "");
	const char *mem[] = {"--mem=4G"};
	assert_int_equal(rm_slurm_parse_sbatch_args(mem, 1, &o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--mem=4G"));
	assert_non_null(strstr(err, "det submit"));
	const char *novalue[] = {"--time"};
	assert_int_equal(rm_slurm_parse_sbatch_args(novalue, 1, &o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "needs a value"));
	const char *badtime[] = {"--time=soon"};
	assert_int_equal(rm_slurm_parse_sbatch_args(badtime, 1, &o, err, sizeof(err)), -1);
	const char *similar[] = {"--time-min=5"};
	assert_int_equal(rm_slurm_parse_sbatch_args(similar, 1, &o, err, sizeof(err)), -1);
	char longp[300];
	memset(longp, 'p', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	const char *toolong[] = {"-p", longp};
	assert_int_equal(rm_slurm_parse_sbatch_args(toolong, 2, &o, err, sizeof(err)), -1);
}

/* Three arrays of one experiment with max_concurrent 4: one throttle over all. */
static void test_throttle_plan(void **state)
{
	struct rm_slurm_part_load p[3] = {
	    {.running = 4, .pending = 2, .throttle = 4},
	    {.pending = 5, .waiting = 1, .throttle = 4},
	    {.pending = 5, .waiting = 1, .throttle = 4},
	};
	enum rm_slurm_throttle_act act[3];
	uint32_t th[3];
	(void)state;

	/* The first array has tasks to start: the others wait, nothing changes. */
	rm_slurm_throttle_plan(p, 3, 4, act, th);
	assert_int_equal(act[0], RM_SLURM_TH_NONE);
	assert_int_equal(act[1], RM_SLURM_TH_NONE);
	assert_int_equal(act[2], RM_SLURM_TH_NONE);
	/* All of it started, four run: the second waits for room. */
	p[0].pending = 0;
	rm_slurm_throttle_plan(p, 3, 4, act, th);
	assert_int_equal(act[1], RM_SLURM_TH_NONE);
	/* One ended: the second is released with room for one. */
	p[0].running = 3;
	rm_slurm_throttle_plan(p, 3, 4, act, th);
	assert_int_equal(act[1], RM_SLURM_TH_SET_RELEASE);
	assert_int_equal(th[1], 1);
	assert_int_equal(act[2], RM_SLURM_TH_NONE);
	p[1].waiting = 0;
	p[1].throttle = 1;
	p[1].running = 1;
	p[1].pending = 4;
	/* Two more of the first ended: the second's throttle rises to 3. */
	p[0].running = 1;
	rm_slurm_throttle_plan(p, 3, 4, act, th);
	assert_int_equal(act[1], RM_SLURM_TH_SET);
	assert_int_equal(th[1], 3);
	/* Never over the total: 1 + 3 = 4. */
	assert_int_equal(p[0].running + (int)th[1], 4);
	/* A later array that runs on its own (det submit) is held until its turn. */
	p[2].waiting = 0;
	rm_slurm_throttle_plan(p, 3, 4, act, th);
	assert_int_equal(act[2], RM_SLURM_TH_HOLD);
	/* No throttle, or one array: nothing to do. */
	rm_slurm_throttle_plan(p, 3, 0, act, th);
	assert_int_equal(act[1] | act[2], RM_SLURM_TH_NONE);
	/* Slurm has no throttle 0: the lowest is 1. */
	p[0].running = 4;
	p[1].throttle = 3;
	rm_slurm_throttle_plan(p, 3, 4, act, th);
	assert_int_equal(act[1], RM_SLURM_TH_SET);
	assert_int_equal(th[1], 1);
	/* Gone arrays count for nothing. */
	p[0].gone = 1;
	rm_slurm_throttle_plan(p, 3, 4, act, th);
	assert_int_equal(th[1], 4);
}

/* (time_min, DefaultTime, MaxTime) -> the limit, or a refusal naming MaxTime. */
static void test_time_limit_table(void **state)
{
	static const struct {
		long time_min, dflt, max, limit;
		int rc;
	} rows[] = {
	    {-1, 5, 10, 5, 0},     /* no --time: DefaultTime */
	    {-1, -1, 10, 10, 0},   /* no DefaultTime: MaxTime */
	    {-1, -1, -1, -1, 0},   /* unlimited partition, unknown one */
	    {8, 5, 10, 8, 0},      /* explicit, under MaxTime */
	    {10, 5, 10, 10, 0},    /* at MaxTime */
	    {11, 5, 10, 0, -1},    /* above MaxTime: refused */
	    {600, -1, -1, 600, 0}, /* MaxTime=INFINITE */
	};
	char err[256];
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		long limit = 0;
		assert_int_equal(rm_slurm_time_limit(rows[i].time_min, rows[i].dflt, rows[i].max,
		                                     "timed", &limit, err, sizeof(err)),
		                 rows[i].rc);
		if (rows[i].rc == 0)
			assert_int_equal(limit, rows[i].limit);
		else
			assert_string_equal(err, "slurm.sbatch_args: --time of 11 minutes is above "
			                         "partition timed's MaxTime of 10 minutes");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split),         cmocka_unit_test(test_ids),
	    cmocka_unit_test(test_indices),       cmocka_unit_test(test_step),
	    cmocka_unit_test(test_time),          cmocka_unit_test(test_sbatch_args),
	    cmocka_unit_test(test_walltime_lead), cmocka_unit_test(test_time_limit_table),
	    cmocka_unit_test(test_throttle_plan), cmocka_unit_test(test_report_end),
	    cmocka_unit_test(test_report_start),  cmocka_unit_test(test_poll_interval),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
