/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det checkpoint download's writer against hostile checkpoints: names that
 * escape the directory (.., absolute, control characters, NUL), hidden files
 * the checkpoint's metadata.json does not list, symlinks planted in the
 * download directory, existing files (refused, replaced with --force), and a
 * file of the wrong size (nothing left under its name).
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
#include <jansson.h>

#include "ckpt_download.h"
#include "unit_tmpdir.h"

struct fixture {
	char root[64];
	char src[128], dst[128], outside[128];
};

static void put(const char *dir, const char *rel, const char *data)
{
	assert_int_equal(unit_put(dir, rel, data), 0);
}

/* The contents of dir/rel (static buffer), or NULL when it cannot be read. */
static const char *get(const char *dir, const char *rel)
{
	static char buf[256];
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static int lexists(const char *dir, const char *rel)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return lstat(path, &st) == 0;
}

static int setup(void **state)
{
	struct fixture *f = unit_dir_fixture_new(sizeof(*f), sizeof(f->root), "test_ckpt_dl_");
	char path[256];
	if (!f)
		return -1;
	snprintf(f->src, sizeof(f->src), "%s/src", f->root);
	snprintf(f->dst, sizeof(f->dst), "%s/dst", f->root);
	snprintf(f->outside, sizeof(f->outside), "%s/outside", f->root);
	snprintf(path, sizeof(path), "%s/sub", f->src);
	*state = f; /* teardown removes it all, also after a failure here */
	if (mkdir(f->src, 0755) || mkdir(path, 0755) || mkdir(f->dst, 0755) ||
	    mkdir(f->outside, 0755))
		return -1;
	put(f->src, "model.bin", "weights");
	put(f->src, "sub/a.txt", "abc");
	put(f->src, ".bashrc", "evil");
	put(f->src, ".keep", "k");
	/* the checkpoint's own manifest lists .keep, not .bashrc */
	put(f->src, "metadata.json",
	    "{\"files\": [{\"path\": \"model.bin\"}, {\"path\": \"sub/a.txt\"},"
	    " {\"path\": \".keep\"}]}");
	return 0;
}

static json_t *files_of(const char *json)
{
	json_t *v = json_loads(json, 0, NULL);
	assert_non_null(v);
	return v;
}

static void test_names_that_escape_or_hide_are_refused(void **state)
{
	(void)state;
	char err[256];
	json_t *manifest = files_of("[{\"path\": \".keep\"}, {\"path\": \".ssh\"}]");
	static const char *bad[] = {"../x",
	                            "a/../../x",
	                            "/etc/passwd",
	                            "a//b",
	                            "./x",
	                            "x/",
	                            "..",
	                            "a/..",
	                            "",
	                            "a\033[31m",
	                            "line\nx",
	                            "bel\a",
	                            ".bashrc",
	                            ".ssh/authorized_keys",
	                            "d/.hidden"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cli_ckpt_name_ok(bad[i], strlen(bad[i]), manifest, err, sizeof(err)) == 0)
			fail_msg("accepted hostile name #%zu", i);
	}
	assert_int_equal(cli_ckpt_name_ok("a\0b", 3, manifest, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL"));
	assert_int_equal(cli_ckpt_name_ok(".bashrc", 7, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "metadata.json does not list"));
	static const char *good[] = {"model.bin", "sub/dir/w.bin", "a..b", ".keep"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (cli_ckpt_name_ok(good[i], strlen(good[i]), manifest, err, sizeof(err)) != 0)
			fail_msg("refused %s: %s", good[i], err);
	}
	json_decref(manifest);
}

static void test_hidden_file_not_in_manifest_refused_before_writing(void **state)
{
	struct fixture *f = *state;
	char err[256];
	json_t *files = files_of("[{\"path\": \"model.bin\", \"size\": 7},"
	                         " {\"path\": \".bashrc\", \"size\": 4}]");
	assert_int_equal(cli_ckpt_download_files(f->src, files, f->dst, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ".bashrc"));
	assert_false(lexists(f->dst, ".bashrc"));
	assert_false(lexists(f->dst, "model.bin")); /* nothing written */
	json_decref(files);
}

static void test_benign_checkpoint_downloads(void **state)
{
	struct fixture *f = *state;
	char err[256];
	json_t *files = files_of("[{\"path\": \"model.bin\", \"size\": 7},"
	                         " {\"path\": \"sub/a.txt\", \"size\": 3},"
	                         " {\"path\": \".keep\", \"size\": 1}]");
	if (cli_ckpt_download_files(f->src, files, f->dst, 0, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(get(f->dst, "model.bin"), "weights");
	assert_string_equal(get(f->dst, "sub/a.txt"), "abc");
	assert_string_equal(get(f->dst, ".keep"), "k");
	json_decref(files);
}

static void test_symlink_planted_in_dir_is_never_followed(void **state)
{
	struct fixture *f = *state;
	char err[256], link[256];
	/* a directory symlink on the way, and a file symlink at the name */
	snprintf(link, sizeof(link), "%s/sub", f->dst);
	assert_int_equal(symlink(f->outside, link), 0);
	put(f->outside, "target", "precious");
	snprintf(link, sizeof(link), "%s/model.bin", f->dst);
	char target[256];
	snprintf(target, sizeof(target), "%s/target", f->outside);
	assert_int_equal(symlink(target, link), 0);

	json_t *sub = files_of("[{\"path\": \"sub/a.txt\", \"size\": 3}]");
	assert_int_equal(cli_ckpt_download_files(f->src, sub, f->dst, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "symlink"));
	assert_false(lexists(f->outside, "a.txt"));

	json_t *model = files_of("[{\"path\": \"model.bin\", \"size\": 7}]");
	assert_int_equal(cli_ckpt_download_files(f->src, model, f->dst, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exists"));
	assert_string_equal(get(f->outside, "target"), "precious");
	/* --force replaces the link itself, never what it points to */
	if (cli_ckpt_download_files(f->src, model, f->dst, 1, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(get(f->outside, "target"), "precious");
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_string_equal(get(f->dst, "model.bin"), "weights");
	json_decref(sub);
	json_decref(model);
}

static void test_existing_file_refused_unless_force(void **state)
{
	struct fixture *f = *state;
	char err[256];
	put(f->dst, "model.bin", "mine");
	json_t *files = files_of("[{\"path\": \"model.bin\", \"size\": 7}]");
	assert_int_equal(cli_ckpt_download_files(f->src, files, f->dst, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--force"));
	assert_string_equal(get(f->dst, "model.bin"), "mine");
	if (cli_ckpt_download_files(f->src, files, f->dst, 1, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(get(f->dst, "model.bin"), "weights");
	json_decref(files);
}

static void test_wrong_size_leaves_nothing_under_the_name(void **state)
{
	struct fixture *f = *state;
	char err[256];
	json_t *files = files_of("[{\"path\": \"model.bin\", \"size\": 99}]");
	assert_int_equal(cli_ckpt_download_files(f->src, files, f->dst, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "registered"));
	assert_false(lexists(f->dst, "model.bin"));
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -q .", f->dst);
	assert_int_not_equal(system(cmd), 0); /* no temporary file left either */
	json_decref(files);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, unit_dir_fixture_free)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_names_that_escape_or_hide_are_refused),
	    T(test_hidden_file_not_in_manifest_refused_before_writing),
	    T(test_benign_checkpoint_downloads),
	    T(test_symlink_planted_in_dir_is_never_followed),
	    T(test_existing_file_refused_unless_force),
	    T(test_wrong_size_leaves_nothing_under_the_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
