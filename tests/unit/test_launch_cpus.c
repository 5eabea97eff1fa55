/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det-launch's CPU shares: every local rank gets a contiguous, disjoint
 * part of the allowed set, together covering it, never a CPU outside it;
 * and the reading of Slurm's SLURM_CPU_BIND_TYPE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sched.h>

#include "launch_cpus.h"

static void set_of(cpu_set_t *s, const int *cpus, int n)
{
	CPU_ZERO(s);
	for (int i = 0; i < n; i++)
		CPU_SET(cpus[i], s);
}

/* Split allowed among size ranks; check containment, disjointness, cover. */
static void check_split(const cpu_set_t *allowed, int size, int expect_each_min)
{
	cpu_set_t share, all, both;
	CPU_ZERO(&all);
	for (int r = 0; r < size; r++) {
		assert_int_equal(launch_cpus_share(allowed, r, size, &share), 0);
		assert_true(CPU_COUNT(&share) >= expect_each_min);
		CPU_AND(&both, &share, allowed);
		assert_true(CPU_EQUAL(&both, &share)); /* never outside allowed */
		if (CPU_COUNT(allowed) >= size) {
			CPU_AND(&both, &share, &all);
			assert_int_equal(CPU_COUNT(&both), 0); /* disjoint */
		}
		CPU_OR(&all, &all, &share);
	}
	assert_true(CPU_EQUAL(&all, allowed) || CPU_COUNT(allowed) < size);
}

static void test_share_table(void **state)
{
	static const int sparse[] = {1, 3, 4, 9, 10, 11, 40};
	static const struct {
		int ncpus, size, rank, expect[4], nexpect;
	} rows[] = {
	    {7, 2, 0, {1, 3, 4}, 3},    {7, 2, 1, {9, 10, 11, 40}, 4},
	    {7, 3, 0, {1, 3}, 2},       {7, 3, 1, {4, 9}, 2},
	    {7, 3, 2, {10, 11, 40}, 3}, {7, 1, 0, {1, 3, 4, 9}, -1},
	    {2, 4, 0, {1}, 1},          {2, 4, 1, {1}, 1},
	    {2, 4, 2, {3}, 1},          {2, 4, 3, {3}, 1},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cpu_set_t allowed, share, want;
		set_of(&allowed, sparse, rows[i].ncpus);
		assert_int_equal(launch_cpus_share(&allowed, rows[i].rank, rows[i].size, &share),
		                 0);
		if (rows[i].nexpect < 0) {
			assert_true(CPU_EQUAL(&share, &allowed)); /* one rank: the whole set */
			continue;
		}
		set_of(&want, rows[i].expect, rows[i].nexpect);
		assert_true(CPU_EQUAL(&share, &want));
	}
}

static void test_share_properties(void **state)
{
	cpu_set_t allowed;
	int cpus[64];
	for (int n = 1; n <= 64; n++) {
		for (int i = 0; i < n; i++)
			cpus[i] = 2 * i + (i % 3); /* increasing, with gaps */
		set_of(&allowed, cpus, n);
		for (int size = 1; size <= 10; size++)
			check_split(&allowed, size, 1);
	}
}

static void test_share_bad_input(void **state)
{
	cpu_set_t allowed, share;
	CPU_ZERO(&allowed);
	assert_int_equal(launch_cpus_share(&allowed, 0, 1, &share), -1); /* empty set */
	CPU_SET(0, &allowed);
	assert_int_equal(launch_cpus_share(&allowed, 2, 2, &share), -1);
	assert_int_equal(launch_cpus_share(&allowed, -1, 2, &share), -1);
	assert_int_equal(launch_cpus_share(&allowed, 0, 0, &share), -1);
}

static void test_slurm_bound(void **state)
{
	assert_int_equal(launch_cpus_slurm_bound(NULL), 0);
	assert_int_equal(launch_cpus_slurm_bound(""), 0);
	assert_int_equal(launch_cpus_slurm_bound("none"), 0);
	assert_int_equal(launch_cpus_slurm_bound("quiet,none"), 0);
	assert_int_equal(launch_cpus_slurm_bound("verbose,none"), 0);
	assert_int_equal(launch_cpus_slurm_bound("quiet,"), 0);
	assert_int_equal(launch_cpus_slurm_bound("cores"), 1);
	assert_int_equal(launch_cpus_slurm_bound("quiet,mask_cpu:"), 1);
	assert_int_equal(launch_cpus_slurm_bound("verbose,map_cpu:"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_share_table),
	    cmocka_unit_test(test_share_properties),
	    cmocka_unit_test(test_share_bad_input),
	    cmocka_unit_test(test_slurm_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
