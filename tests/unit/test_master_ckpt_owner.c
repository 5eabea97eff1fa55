/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File work in checkpoint storage as the owner: removal and event files never follow a symlink. */
#include <fcntl.h>
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

#include "master/ckpt_owner.h"
#include "unit_tmpdir.h"

static char base[64];
static struct ckpt_owner me;
static json_t *roots;

static void at(char *out, const char *rel)
{
	snprintf(out, PATH_MAX, "%s/%s", base, rel);
}

static void make_dir(const char *rel)
{
	char p[PATH_MAX];
	at(p, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void make_file(const char *rel)
{
	char p[PATH_MAX];
	at(p, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("data\n", f);
	fclose(f);
}

static void make_link(const char *target_rel, const char *rel)
{
	char p[PATH_MAX], t[PATH_MAX];
	at(p, rel);
	at(t, target_rel);
	assert_int_equal(symlink(t, p), 0);
}

static int exists(const char *rel)
{
	char p[PATH_MAX];
	struct stat st;
	at(p, rel);
	return lstat(p, &st) == 0;
}

/* base/root (the only root), base/out (outside it, with a file). */
static int setup(void **state)
{
	char err[256], root[PATH_MAX];
	(void)state;
	if (unit_tmpdir(base, sizeof(base), "test-ckpt-owner.") ||
	    ckpt_owner_lookup((long)getuid(), &me, err, sizeof(err)))
		return -1;
	make_dir("root");
	make_dir("out");
	make_file("out/file");
	at(root, "root");
	roots = json_pack("[s]", root);
	return roots ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(roots);
	return unit_rmtree(base);
}

static void test_remove_tree_not_links(void **state)
{
	char dir[PATH_MAX], err[1024];
	(void)state;
	make_dir("root/ck");
	make_dir("root/ck/u1");
	make_dir("root/ck/u1/sub");
	make_file("root/ck/u1/sub/w.bin");
	make_link("out", "root/ck/u1/escape"); /* a link inside a checkpoint */
	make_link("out", "root/ck/u2");        /* a checkpoint that is a link */
	at(dir, "root/ck");
	json_t *names = json_pack("[s, s, s]", "u1", "u2", "missing");
	assert_int_equal(ckpt_owner_remove(&me, roots, NULL, dir, names, err, sizeof(err)), 2);
	json_decref(names);
	assert_false(exists("root/ck/u1"));
	assert_false(exists("root/ck/u2"));
	assert_true(exists("root/ck"));
	assert_true(exists("out/file"));
}

static void test_remove_refused(void **state)
{
	char dir[PATH_MAX], err[1024];
	(void)state;
	/* the checkpoint directory swapped for a link out of the roots */
	make_link("out", "root/ck");
	at(dir, "root/ck");
	json_t *names = json_pack("[s]", "file");
	assert_int_equal(ckpt_owner_remove(&me, roots, NULL, dir, names, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "outside the storage roots"));
	assert_true(exists("out/file"));
	json_decref(names);
	/* names are single entries */
	make_dir("root/ck2");
	at(dir, "root/ck2");
	names = json_pack("[s]", "../out");
	assert_int_equal(ckpt_owner_remove(&me, roots, NULL, dir, names, err, sizeof(err)), -1);
	assert_true(exists("out/file"));
	json_decref(names);
	/* nothing there yet: nothing to remove */
	at(dir, "root/never");
	names = json_pack("[s]", "u");
	assert_int_equal(ckpt_owner_remove(&me, roots, NULL, dir, names, err, sizeof(err)), 0);
	json_decref(names);
}

static void test_open_files(void **state)
{
	char dir[PATH_MAX], used[PATH_MAX], err[1024];
	(void)state;
	at(dir, "root/ck");
	int fd =
	    ckpt_owner_open(&me, roots, NULL, dir, "tb/e1/t1", "ev", 0, used, err, sizeof(err));
	assert_true(fd >= 0);
	assert_string_equal(used, "ev");
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	assert_true(exists("root/ck/tb/e1/t1/ev"));
	/* taken: the next free name */
	fd = ckpt_owner_open(&me, roots, NULL, dir, "tb/e1/t1", "ev", 0, used, err, sizeof(err));
	assert_true(fd >= 0);
	assert_string_equal(used, "ev.1");
	close(fd);
	/* append to the existing one */
	fd = ckpt_owner_open(&me, roots, NULL, dir, "tb/e1/t1", "ev", 1, used, err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	/* a link inside the directory is not followed */
	make_link("out", "root/ck/tb/e2");
	fd = ckpt_owner_open(&me, roots, NULL, dir, "tb/e2/t1", "ev", 0, used, err, sizeof(err));
	assert_int_equal(fd, -1);
	assert_non_null(strstr(err, "not followed"));
	assert_false(exists("out/t1"));
	make_link("out/file", "root/ck/tb/e1/t1/link");
	fd = ckpt_owner_open(&me, roots, NULL, dir, "tb/e1/t1", "link", 1, used, err, sizeof(err));
	assert_int_equal(fd, -1);
	/* outside the roots: refused before anything is made */
	at(dir, "out/ck");
	fd = ckpt_owner_open(&me, roots, NULL, dir, "tb", "ev", 0, used, err, sizeof(err));
	assert_int_equal(fd, -1);
	assert_false(exists("out/ck"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_remove_tree_not_links, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_files, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
