/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The checkpoint directory rule: joining host_path and storage_path, and the storage roots. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "master/ckpt_path.h"

static int dir_of(const char *config_json, const char *default_json, char *out, char *err)
{
	json_t *c = json_loads(config_json, 0, NULL), *d = json_loads(default_json, 0, NULL);
	int rv = ckpt_path_dir(c, d, out, PATH_MAX, err, 512);
	json_decref(c);
	json_decref(d);
	return rv;
}

static void test_dir_join(void **state)
{
	char out[PATH_MAX], err[512];
	(void)state;
	assert_int_equal(dir_of("{\"checkpoint_storage\": {\"host_path\": \"/data\", "
	                        "\"storage_path\": \"exp/a\"}}",
	                        "{\"host_path\": \"/def\"}", out, err),
	                 0);
	assert_string_equal(out, "/data/exp/a");
	assert_int_equal(dir_of("{}", "{\"host_path\": \"/def\"}", out, err), 0);
	assert_string_equal(out, "/def");
	/* storage_path alone goes under the master's host_path */
	assert_int_equal(dir_of("{\"checkpoint_storage\": {\"storage_path\": \"mine\"}}",
	                        "{\"host_path\": \"/def\"}", out, err),
	                 0);
	assert_string_equal(out, "/def/mine");
	/* "..." and "a..b" are names, not ".." */
	assert_int_equal(
	    dir_of("{\"checkpoint_storage\": {\"host_path\": \"/d/.../a..b\"}}", "{}", out, err),
	    0);
}

static void test_dir_refused(void **state)
{
	char out[PATH_MAX], err[512];
	(void)state;
	assert_int_equal(
	    dir_of("{\"checkpoint_storage\": {\"host_path\": \"/data/../etc\"}}", "{}", out, err),
	    -1);
	assert_non_null(strstr(err, "checkpoint_storage.host_path"));
	assert_non_null(strstr(err, ".."));
	assert_int_equal(
	    dir_of("{\"checkpoint_storage\": {\"host_path\": \"/data/..\"}}", "{}", out, err), -1);
	assert_int_equal(dir_of("{\"checkpoint_storage\": {\"host_path\": \"/data\", "
	                        "\"storage_path\": \"../x\"}}",
	                        "{}", out, err),
	                 -1);
	assert_non_null(strstr(err, "checkpoint_storage.storage_path"));
	assert_int_equal(
	    dir_of("{\"checkpoint_storage\": {\"host_path\": \"data\"}}", "{}", out, err), -1);
	assert_non_null(strstr(err, "absolute"));
	assert_int_equal(dir_of("{\"checkpoint_storage\": {\"host_path\": 5}}", "{}", out, err),
	                 -1);
	assert_int_equal(dir_of("{}", "{}", out, err), -1);
	assert_non_null(strstr(err, "the master's"));
	assert_int_equal(dir_of("{}", "{\"host_path\": \"/a/../b\"}", out, err), -1);
}

static void test_roots(void **state)
{
	json_t *cfg = json_pack("[s, s, s]", "~", "~/scratch", "/shared");
	json_t *r = ckpt_path_roots(cfg, "/var/ckpt", "/home/u");
	(void)state;
	assert_int_equal(json_array_size(r), 4);
	assert_string_equal(json_string_value(json_array_get(r, 0)), "/home/u");
	assert_string_equal(json_string_value(json_array_get(r, 1)), "/home/u/scratch");
	assert_string_equal(json_string_value(json_array_get(r, 2)), "/shared");
	assert_string_equal(json_string_value(json_array_get(r, 3)), "/var/ckpt");
	json_decref(r);
	/* no home (an owner without a Unix account): "~" roots drop out */
	r = ckpt_path_roots(cfg, NULL, NULL);
	assert_int_equal(json_array_size(r), 1);
	assert_string_equal(json_string_value(json_array_get(r, 0)), "/shared");
	json_decref(r);
	json_decref(cfg);
}

/* A scratch tree: base/root/{in,link-out -> base/out, dangling -> base/none}, base/out,
 * base/rootx (a sibling whose name starts like root). */
static char base[PATH_MAX];

static int setup(void **state)
{
	char p[PATH_MAX + 64], t[PATH_MAX + 64];
	(void)state;
	snprintf(base, sizeof(base), "/tmp/test-ckpt-path.XXXXXX");
	if (!mkdtemp(base))
		return -1;
	const char *dirs[] = {"root", "root/in", "out", "rootx"};
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", base, dirs[i]);
		if (mkdir(p, 0755))
			return -1;
	}
	snprintf(p, sizeof(p), "%s/root/link-out", base);
	snprintf(t, sizeof(t), "%s/out", base);
	if (symlink(t, p))
		return -1;
	snprintf(p, sizeof(p), "%s/root/dangling", base);
	snprintf(t, sizeof(t), "%s/none", base);
	return symlink(t, p);
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

static int confined(const char *rel, const char *root_rel, char *real, char *err)
{
	char dir[PATH_MAX + 64], root[PATH_MAX + 64];
	snprintf(dir, sizeof(dir), "%s/%s", base, rel);
	snprintf(root, sizeof(root), "%s/%s", base, root_rel);
	json_t *roots = json_pack("[s]", root);
	int rv = ckpt_path_confined(dir, roots, real, err, 1024);
	json_decref(roots);
	return rv;
}

static void test_confined(void **state)
{
	char real[PATH_MAX], err[1024], want[PATH_MAX + 64];
	(void)state;
	assert_int_equal(confined("root/in", "root", real, err), 0);
	snprintf(want, sizeof(want), "%s/root/in", base);
	assert_string_equal(real, want);
	/* not there yet: judged by its deepest existing ancestor */
	assert_int_equal(confined("root/in/new/deeper", "root", real, err), 0);
	snprintf(want, sizeof(want), "%s/root/in/new/deeper", base);
	assert_string_equal(real, want);
	assert_int_equal(confined("root", "root", real, err), 0);
	/* a root that does not exist yet is resolved the same way */
	assert_int_equal(confined("root/later/x", "root/later", real, err), 0);
}

static void test_escapes(void **state)
{
	char real[PATH_MAX], err[1024];
	(void)state;
	assert_int_equal(confined("out", "root", real, err), -1);
	assert_non_null(strstr(err, "outside the storage roots"));
	/* a symlink out of the root, existing or not below it */
	assert_int_equal(confined("root/link-out", "root", real, err), -1);
	assert_non_null(strstr(err, "resolves to"));
	assert_int_equal(confined("root/link-out/new", "root", real, err), -1);
	/* a dangling symlink on the way is refused, not guessed at */
	assert_int_equal(confined("root/dangling/x", "root", real, err), -1);
	assert_non_null(strstr(err, "symbolic link"));
	/* a sibling whose name starts like the root is not under it */
	assert_int_equal(confined("rootx", "root", real, err), -1);
	/* '..' is refused before anything is resolved */
	assert_int_equal(confined("root/in/../../out", "root", real, err), -1);
	/* no roots at all */
	json_t *none = json_array();
	assert_int_equal(ckpt_path_confined(base, none, real, err, sizeof(err)), -1);
	json_decref(none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dir_join),
	    cmocka_unit_test(test_dir_refused),
	    cmocka_unit_test(test_roots),
	    cmocka_unit_test_setup_teardown(test_confined, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_escapes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
