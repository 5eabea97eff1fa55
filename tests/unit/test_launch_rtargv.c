/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The container command lines det-launch builds without running anything:
 * the GPU plan (only the allocated GPUs' device nodes, renumbered
 * CUDA_VISIBLE_DEVICES, the NVIDIA hook's variable), and the exact argv of
 * enroot and Apptainer (image, bind mounts ro/rw, environment names only,
 * no root remapping, working directory, GPUs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "launch_rtargv.h"

/* argv joined with '|' for one comparison. */
static char *joined(char **v)
{
	static char buf[4096];
	buf[0] = '\0';
	for (size_t i = 0; v && v[i]; i++) {
		if (i)
			strcat(buf, "|");
		strcat(buf, v[i]);
	}
	return buf;
}

static const char *const node[] = {"/dev/nvidia0",
                                   "/dev/nvidia1",
                                   "/dev/nvidia2",
                                   "/dev/nvidia3",
                                   "/dev/nvidiactl",
                                   "/dev/nvidia-uvm",
                                   NULL};

static void test_gpu_only_allocated_nodes_renumbered(void **state)
{
	struct launch_gpu_plan p;
	(void)state;
	assert_int_equal(launch_gpu_plan_make("cuda", "2,3", node, 0, &p), 0);
	assert_string_equal(joined(p.devices),
	                    "/dev/nvidia2|/dev/nvidia3|/dev/nvidiactl|/dev/nvidia-uvm");
	assert_string_equal(p.cuda_visible, "0,1");
	assert_null(p.nvidia_visible);
	char **args = launch_gpu_podman_args(&p);
	assert_string_equal(joined(args), "--device|/dev/nvidia2|--device|/dev/nvidia3|--device|"
	                                  "/dev/nvidiactl|--device|/dev/nvidia-uvm");
	launch_rt_argv_free(args);
	launch_gpu_plan_free(&p);
}

static void test_gpu_hook_gets_host_indices(void **state)
{
	struct launch_gpu_plan p;
	(void)state;
	assert_int_equal(launch_gpu_plan_make("cuda", "3,1", node, 1, &p), 0);
	assert_string_equal(p.cuda_visible, "0,1");
	assert_string_equal(p.nvidia_visible, "3,1");
	char **args = launch_gpu_podman_args(&p);
	assert_non_null(strstr(joined(args), "|--env=NVIDIA_VISIBLE_DEVICES=3,1|"
	                                     "--env=NVIDIA_DRIVER_CAPABILITIES=compute,utility"));
	launch_rt_argv_free(args);
	launch_gpu_plan_free(&p);
}

static void test_gpu_absent_malformed_and_cpu(void **state)
{
	struct launch_gpu_plan p;
	(void)state;
	/* absent node, malformed indices, a path trick: skipped, no control nodes alone */
	assert_int_equal(launch_gpu_plan_make("cuda", "7,x,-1,1/../0,,1234567", node, 1, &p), 0);
	assert_string_equal(joined(p.devices), "");
	assert_string_equal(p.cuda_visible, "");
	assert_null(p.nvidia_visible);
	launch_gpu_plan_free(&p);
	assert_int_equal(launch_gpu_plan_make("cpu", "0,1", node, 1, &p), 0);
	assert_string_equal(joined(p.devices), "");
	assert_null(p.cuda_visible);
	launch_gpu_plan_free(&p);
	assert_int_equal(launch_gpu_plan_make("cuda", NULL, node, 0, &p), 0);
	assert_string_equal(joined(p.devices), "");
	launch_gpu_plan_free(&p);
}

static const struct launch_rt_mount mounts[] = {{"/home/u/model", "/home/u/model", 0},
                                                {"/data", "/mnt/data", 1}};
static char *const env[] = {"DET_TRIAL_ID=7", "DET_SESSION_TOKEN=secret", "PATH=/usr/bin", NULL};
static const char *const args[] = {"python3", "train.py", "--lr", "0.1", NULL};

static void test_enroot_argv(void **state)
{
	(void)state;
	struct launch_rt_spec s = {
	    "/usr/bin/enroot", "0123abcd", "/home/u/model", mounts, 2, env, NULL, NULL, args};
	char **v = launch_rt_enroot_argv(&s);
	assert_string_equal(joined(v),
	                    "/usr/bin/enroot|start|"
	                    "--mount|/home/u/model /home/u/model none x-create=auto,rbind|"
	                    "--mount|/data /mnt/data none x-create=auto,rbind,ro|"
	                    "--env|DET_TRIAL_ID|--env|DET_SESSION_TOKEN|--env|PATH|0123abcd|"
	                    "/bin/sh|-c|cd \"$0\" && exec \"$@\"|/home/u/model|"
	                    "python3|train.py|--lr|0.1");
	assert_null(strstr(joined(v), "secret")); /* values never on the command line */
	assert_null(strstr(joined(v), "--root")); /* the caller, not remapped to root */
	launch_rt_argv_free(v);
}

static void test_enroot_gpus(void **state)
{
	struct launch_gpu_plan p;
	(void)state;
	assert_int_equal(launch_gpu_plan_make("cuda", "1", node, 1, &p), 0);
	struct launch_rt_spec s = {"/usr/bin/enroot", "img", "/w", NULL, 0, NULL, NULL, &p, args};
	char **v = launch_rt_enroot_argv(&s);
	assert_string_equal(joined(v), "/usr/bin/enroot|start|--env|NVIDIA_VISIBLE_DEVICES=1|"
	                               "--env|NVIDIA_DRIVER_CAPABILITIES=compute,utility|img|"
	                               "/bin/sh|-c|cd \"$0\" && exec \"$@\"|/w|"
	                               "python3|train.py|--lr|0.1");
	launch_rt_argv_free(v);
	launch_gpu_plan_free(&p);
}

static void test_apptainer_argv(void **state)
{
	(void)state;
	struct launch_rt_spec s = {"/usr/bin/apptainer",
	                           "/cache/rootfs/0123",
	                           "/home/u/model",
	                           mounts,
	                           2,
	                           env,
	                           "/job/env-r0",
	                           NULL,
	                           args};
	char **v = launch_rt_apptainer_argv(&s);
	assert_string_equal(joined(v), "/usr/bin/apptainer|exec|--containall|--cleanenv|"
	                               "--pwd|/home/u/model|--env-file|/job/env-r0|"
	                               "--bind|/home/u/model:/home/u/model|"
	                               "--bind|/data:/mnt/data:ro|"
	                               "/cache/rootfs/0123|python3|train.py|--lr|0.1");
	assert_null(strstr(joined(v), "secret"));
	assert_null(strstr(joined(v), "--fakeroot"));
	launch_rt_argv_free(v);
}

static void test_apptainer_gpus(void **state)
{
	struct launch_gpu_plan p;
	(void)state;
	assert_int_equal(launch_gpu_plan_make("cuda", "0", node, 0, &p), 0);
	struct launch_rt_spec s = {"/a", "/img", "/w", NULL, 0, NULL, NULL, &p, args};
	char **v = launch_rt_apptainer_argv(&s);
	assert_string_equal(joined(v), "/a|exec|--containall|--cleanenv|--pwd|/w|--nv|/img|"
	                               "python3|train.py|--lr|0.1");
	launch_rt_argv_free(v);
	launch_gpu_plan_free(&p);
}

static void test_bad_paths_refused(void **state)
{
	(void)state;
	static const struct launch_rt_mount colon[] = {{"/a:b", "/x", 0}};
	static const struct launch_rt_mount space[] = {{"/a", "/x y", 1}};
	static const struct launch_rt_mount rel[] = {{"a", "/x", 0}};
	const struct launch_rt_mount *bad[] = {colon, space, rel};
	for (size_t i = 0; i < 3; i++) {
		struct launch_rt_spec s = {"/p", "img", "/w", bad[i], 1, NULL, NULL, NULL, args};
		assert_null(launch_rt_enroot_argv(&s));
		assert_null(launch_rt_apptainer_argv(&s));
	}
	struct launch_rt_spec s = {"/p", "img", "relative", NULL, 0, NULL, NULL, NULL, args};
	assert_null(launch_rt_enroot_argv(&s));
	assert_null(launch_rt_apptainer_argv(&s));
}

static void test_args_appended_later(void **state)
{
	(void)state;
	struct launch_rt_spec s = {"/p", "/img", "/w", NULL, 0, NULL, NULL, NULL, NULL};
	char **v = launch_rt_apptainer_argv(&s);
	assert_string_equal(joined(v), "/p|exec|--containall|--cleanenv|--pwd|/w|/img");
	launch_rt_argv_free(v);
	v = launch_rt_enroot_argv(&s);
	assert_string_equal(joined(v), "/p|start|/img|/bin/sh|-c|cd \"$0\" && exec \"$@\"|/w");
	launch_rt_argv_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gpu_only_allocated_nodes_renumbered),
	    cmocka_unit_test(test_gpu_hook_gets_host_indices),
	    cmocka_unit_test(test_gpu_absent_malformed_and_cpu),
	    cmocka_unit_test(test_enroot_argv),
	    cmocka_unit_test(test_enroot_gpus),
	    cmocka_unit_test(test_apptainer_argv),
	    cmocka_unit_test(test_apptainer_gpus),
	    cmocka_unit_test(test_bad_paths_refused),
	    cmocka_unit_test(test_args_appended_later),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
