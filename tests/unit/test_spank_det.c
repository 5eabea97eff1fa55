/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spank_det's pure parts: strict plugstack arguments and the JSON bodies of
 * the allocation and task-exit reports (wait status -> exit code / signal),
 * the per-step temp dir and port pair.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spank_det_args.h"
#include "spank_det_event.h"
#include "spank_det_step.h"

static int parse(struct det_spank_args *a, int argc, char **argv, char *err, size_t errlen)
{
	det_spank_args_init(a);
	return det_spank_args_parse(a, argc, argv, err, errlen);
}

static void test_args_defaults(void **state)
{
	struct det_spank_args a;
	char err[256];

	assert_int_equal(parse(&a, 0, NULL, err, sizeof(err)), 0);
	assert_string_equal(a.master, "");
	assert_int_equal(a.required_master, 0);
	assert_int_equal(a.timeout_ms, 2000);
	assert_int_equal(a.auth_munge, 1);
}

static void test_args_all_keys(void **state)
{
	char *argv[] = {"master=http://10.0.0.1:8080", "required_master=yes", "timeout_ms=500",
	                "auth=none", "munge_socket=/run/munge/x.socket"};
	struct det_spank_args a;
	char err[256];

	assert_int_equal(parse(&a, 5, argv, err, sizeof(err)), 0);
	assert_string_equal(a.master, "http://10.0.0.1:8080");
	assert_int_equal(a.required_master, 1);
	assert_int_equal(a.timeout_ms, 500);
	assert_int_equal(a.auth_munge, 0);
	assert_string_equal(a.munge_socket, "/run/munge/x.socket");
}

static void test_args_unknown_key_named(void **state)
{
	char *argv[] = {"master=http://h:1", "timeout=5"};
	struct det_spank_args a;
	char err[256];

	assert_int_equal(parse(&a, 2, argv, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown argument 'timeout'"));
}

static void test_args_bad_values(void **state)
{
	char *bad_bool[] = {"required_master=perhaps"};
	char *bad_timeout[] = {"timeout_ms=0"};
	char *bad_master[] = {"master=ftp://x"};
	char *no_eq[] = {"verbose"};
	char *req_no_master[] = {"required_master=yes"};
	struct det_spank_args a;
	char err[256];

	assert_int_equal(parse(&a, 1, bad_bool, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "required_master=perhaps"));
	assert_int_equal(parse(&a, 1, bad_timeout, err, sizeof(err)), -1);
	assert_int_equal(parse(&a, 1, bad_master, err, sizeof(err)), -1);
	assert_int_equal(parse(&a, 1, no_eq, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not key=value"));
	assert_int_equal(parse(&a, 1, req_no_master, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "needs master=URL"));
}

static struct det_alloc_info sample_info(void)
{
	struct det_alloc_info info = {
	    .experiment_id = 12,
	    .job_id = 345,
	    .step_id = 0xfffffffbu,
	    .array_job_id = 340,
	    .array_task_id = 5,
	    .uid = 1000,
	    .node_index = 1,
	    .nnodes = 2,
	    .cpus = 4,
	};
	strcpy(info.node, "n2");
	strcpy(info.gpus, "0,1");
	strcpy(info.pool, "default");
	return info;
}

static void test_allocation_event(void **state)
{
	struct det_alloc_info info = sample_info();
	json_t *ev = det_event_allocation(&info);

	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "type")), "allocation");
	assert_int_equal(json_integer_value(json_object_get(ev, "job_id")), 345);
	assert_string_equal(json_string_value(json_object_get(ev, "step")), "batch");
	assert_int_equal(json_integer_value(json_object_get(ev, "array_task_id")), 5);
	assert_int_equal(json_integer_value(json_object_get(ev, "cpus")), 4);
	assert_int_equal(json_array_size(json_object_get(ev, "gpus")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(ev, "gpus"), 1)), "1");
	assert_string_equal(json_string_value(json_object_get(ev, "node")), "n2");
	json_decref(ev);
}

static void test_allocation_event_no_array_no_gpu(void **state)
{
	struct det_alloc_info info = sample_info();
	json_t *ev;

	info.array_job_id = DET_EVENT_NONE;
	info.array_task_id = DET_EVENT_NONE;
	info.step_id = 3;
	info.gpus[0] = '\0';
	ev = det_event_allocation(&info);
	assert_non_null(ev);
	assert_true(json_is_null(json_object_get(ev, "array_job_id")));
	assert_string_equal(json_string_value(json_object_get(ev, "step")), "3");
	assert_int_equal(json_array_size(json_object_get(ev, "gpus")), 0);
	json_decref(ev);
}

static void test_task_exit_code_and_signal(void **state)
{
	struct det_alloc_info info = sample_info();
	json_t *ev = det_event_task_exit(&info, 3, 3 << 8); /* exit 3 */

	assert_non_null(ev);
	assert_int_equal(json_integer_value(json_object_get(ev, "task")), 3);
	assert_int_equal(json_integer_value(json_object_get(ev, "exit_code")), 3);
	assert_true(json_is_null(json_object_get(ev, "signal")));
	json_decref(ev);
	ev = det_event_task_exit(&info, 0, SIGKILL); /* killed by signal 9 */
	assert_non_null(ev);
	assert_true(json_is_null(json_object_get(ev, "exit_code")));
	assert_int_equal(json_integer_value(json_object_get(ev, "signal")), SIGKILL);
	json_decref(ev);
}

static void test_args_step_defaults_and_values(void **state)
{
	struct det_spank_args a;
	char err[256];
	char *good[] = {"tmpdir_base=/scratch/local", "port_range=40000-40009"};
	char *bad[][1] = {{"tmpdir_base=rel"},        {"port_range=40000"},
	                  {"port_range=40000-40000"}, {"port_range=80-90"},
	                  {"port_range=40000-70000"}, {"port_range=a-b"}};

	assert_int_equal(parse(&a, 0, NULL, err, sizeof(err)), 0);
	assert_string_equal(a.tmpdir_base, "/tmp");
	assert_int_equal(a.port_lo, 29500);
	assert_int_equal(a.port_hi, 30499);
	assert_int_equal(parse(&a, 2, good, err, sizeof(err)), 0);
	assert_string_equal(a.tmpdir_base, "/scratch/local");
	assert_int_equal(a.port_lo, 40000);
	assert_int_equal(a.port_hi, 40009);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(&a, 1, bad[i], err, sizeof(err)), -1);
}

static void test_step_tmpdir_path_names_job_and_step(void **state)
{
	char p[64];

	assert_int_equal(det_step_tmpdir_path("/tmp", 42, 0, p, sizeof(p)), 0);
	assert_string_equal(p, "/tmp/det-42.0");
	assert_int_equal(det_step_tmpdir_path("/tmp", 42, DET_STEP_BATCH, p, sizeof(p)), 0);
	assert_string_equal(p, "/tmp/det-42.batch");
	assert_int_equal(det_step_tmpdir_path("/a/very/long/base/dir", 4294967, 3, p, 16), -1);
}

static int taken; /* the port det_step_port_pick's test treats as busy */
static int all_but_taken(int port)
{
	return port != taken;
}

static void test_step_ports_differ_per_step_and_skip_busy_ones(void **state)
{
	int a = det_step_port_pick(100, 0, 29500, 30499, NULL);
	int b = det_step_port_pick(101, 0, 29500, 30499, NULL);
	int c = det_step_port_pick(100, 1, 29500, 30499, NULL);

	assert_true(a >= 29500 && a + 1 <= 30499);
	assert_int_not_equal(a, b);
	assert_int_not_equal(a, c);
	assert_int_not_equal(b, c);
	assert_int_equal(det_step_port_pick(100, 0, 29500, 30499, NULL), a); /* deterministic */
	taken = a + 1;
	assert_int_equal(det_step_port_pick(100, 0, 29500, 30499, all_but_taken), a + 2);
	taken = 40000;
	assert_int_equal(det_step_port_pick(7, 0, 40000, 40001, all_but_taken), -1);
	assert_int_equal(det_step_port_pick(7, 0, 40000, 40000, NULL), -1);
}

static void test_step_tmpdir_remove_does_not_follow_symlinks(void **state)
{
	char base[] = "/tmp/test_spank_det.XXXXXX", dir[128], outside[128], path[256], err[256];
	struct stat st;
	int fd;

	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/det-1.0", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	assert_int_equal(mkdir(outside, 0700), 0);
	snprintf(path, sizeof(path), "%s/keep", outside);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(det_step_tmpdir_create(dir, getuid(), err, sizeof(err)), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(det_step_tmpdir_create(dir, getuid(), err, sizeof(err)), 0); /* again */
	assert_int_equal(det_step_tmpdir_create(dir, getuid() + 1, err, sizeof(err)), -1);
	snprintf(path, sizeof(path), "%s/a", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/a/b", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/a/b/link", dir);
	assert_int_equal(symlink(outside, path), 0);
	snprintf(path, sizeof(path), "%s/a/file", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(det_step_tmpdir_remove(dir, getuid() + 1, err, sizeof(err)), -1);
	assert_int_equal(stat(dir, &st), 0); /* another owner's: left alone */
	assert_int_equal(det_step_tmpdir_remove(dir, getuid(), err, sizeof(err)), 0);
	assert_int_equal(stat(dir, &st), -1);
	snprintf(path, sizeof(path), "%s/keep", outside);
	assert_int_equal(stat(path, &st), 0); /* the symlink's target survived */
	assert_int_equal(det_step_tmpdir_remove(dir, getuid(), err, sizeof(err)), 0); /* gone */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(outside), 0);
	assert_int_equal(rmdir(base), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_args_defaults),
	    cmocka_unit_test(test_args_all_keys),
	    cmocka_unit_test(test_args_unknown_key_named),
	    cmocka_unit_test(test_args_bad_values),
	    cmocka_unit_test(test_allocation_event),
	    cmocka_unit_test(test_allocation_event_no_array_no_gpu),
	    cmocka_unit_test(test_task_exit_code_and_signal),
	    cmocka_unit_test(test_args_step_defaults_and_values),
	    cmocka_unit_test(test_step_tmpdir_path_names_job_and_step),
	    cmocka_unit_test(test_step_ports_differ_per_step_and_skip_busy_ones),
	    cmocka_unit_test(test_step_tmpdir_remove_does_not_follow_symlinks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
