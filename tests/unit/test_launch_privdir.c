/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The per-user directories det-launch keeps under /tmp (podman's runtime
 * directory, the OCI bundle cache): made 0700 when missing, used when they are
 * already the caller's and private, refused with the reason otherwise (a
 * symbolic link, not a directory, another uid's, open to others).
 */
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

#include "launch_oci.h"

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_privdir.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/d", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char sub[160];
	snprintf(sub, sizeof(sub), "%s/target", f->dir);
	chmod(f->path, 0700);
	unlink(f->path);
	rmdir(f->path);
	rmdir(sub);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void test_missing_is_made_private(void **state)
{
	struct fixture *f = *state;
	char err[256] = "";
	struct stat st;
	assert_int_equal(launch_oci_private_dir(f->path, "cache", err, sizeof(err)), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(st.st_uid, getuid());
	/* and used again as it is */
	assert_int_equal(launch_oci_private_dir(f->path, "cache", err, sizeof(err)), 0);
}

static void test_open_mode_refused(void **state)
{
	struct fixture *f = *state;
	char err[256] = "";
	assert_int_equal(mkdir(f->path, 0700), 0);
	assert_int_equal(chmod(f->path, 0755), 0);
	assert_int_equal(launch_oci_private_dir(f->path, "cache", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "(cache)"));
	assert_non_null(strstr(err, "mode 0755 lets others in"));
}

static void test_symlink_refused(void **state)
{
	struct fixture *f = *state;
	char err[256] = "", target[160];
	snprintf(target, sizeof(target), "%s/target", f->dir);
	assert_int_equal(mkdir(target, 0700), 0);
	assert_int_equal(symlink(target, f->path), 0);
	assert_int_equal(launch_oci_private_dir(f->path, "cache", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "symbolic link"));
}

static void test_file_refused(void **state)
{
	struct fixture *f = *state;
	char err[256] = "";
	FILE *fp = fopen(f->path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(launch_oci_private_dir(f->path, "cache", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a directory"));
}

static void test_other_owner_refused(void **state)
{
	struct fixture *f = *state;
	char err[256] = "";
	if (getuid() != 0)
		skip(); /* only root can give a directory away */
	assert_int_equal(mkdir(f->path, 0700), 0);
	assert_int_equal(chown(f->path, 65534, 65534), 0);
	assert_int_equal(launch_oci_private_dir(f->path, "cache", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "belongs to uid 65534"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_missing_is_made_private), T(test_open_mode_refused),
	    T(test_symlink_refused),         T(test_file_refused),
	    T(test_other_owner_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
