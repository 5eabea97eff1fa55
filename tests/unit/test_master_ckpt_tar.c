/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The checkpoint tarball (ckpt_tar.c): regular files and directories only, symlinks and fifos left
 * out, limits. */
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

#include "master/ckpt_tar.h"
#include "unit_tmpdir.h"

static char base[64];

static void put(const char *rel, const char *text)
{
	assert_int_equal(unit_put(base, rel, text), 0);
}

static void dir(const char *rel)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", base, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

/* Archive base with lim: 0 or -1 (err); the entry names (ustar prefix/name), each after a space. */
static int archive(const struct ckpt_tar_limits *lim, char *names, size_t len, uint64_t *skipped,
                   char *err, size_t errlen)
{
	char tmp[] = "/tmp/det-tar-test-XXXXXX", hdr[512];
	int out = mkstemp(tmp), d = open(base, O_RDONLY | O_DIRECTORY);
	assert_true(out >= 0 && d >= 0);
	unlink(tmp);
	int rv = ckpt_tar_write(d, out, lim, skipped, err, errlen);
	close(d);
	names[0] = '\0';
	assert_int_equal(lseek(out, 0, SEEK_SET), 0);
	while (rv == 0 && read(out, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr) && hdr[0]) {
		char name[300];
		unsigned long long size = strtoull(hdr + 124, NULL, 8);
		assert_memory_equal(hdr + 257, "ustar", 6);
		snprintf(name, sizeof(name), "%.155s%s%.100s", hdr + 345, hdr[345] ? "/" : "", hdr);
		strncat(names, " ", len - strlen(names) - 1);
		strncat(names, name, len - strlen(names) - 1);
		lseek(out, (off_t)((size + 511) / 512 * 512), SEEK_CUR);
	}
	close(out);
	return rv;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(unit_tmpdir(base, sizeof(base), "det-tar-"), 0);
	dir("sub");
	put("w.bin", "weights");
	put("sub/n.txt", "nested");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return unit_rmtree(base);
}

static void test_files_not_links(void **state)
{
	(void)state;
	struct ckpt_tar_limits lim = {.max_bytes = 1 << 20, .max_entries = 100};
	char names[1024], err[512], p[PATH_MAX];
	uint64_t skipped = 0;
	snprintf(p, sizeof(p), "%s/leak", base);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	snprintf(p, sizeof(p), "%s/leakdir", base);
	assert_int_equal(symlink("/etc", p), 0);
	snprintf(p, sizeof(p), "%s/fifo", base);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(archive(&lim, names, sizeof(names), &skipped, err, sizeof(err)), 0);
	assert_non_null(strstr(names, " ./w.bin"));
	assert_non_null(strstr(names, " ./sub/"));
	assert_non_null(strstr(names, " ./sub/n.txt"));
	assert_null(strstr(names, "leak"));
	assert_null(strstr(names, "fifo"));
	assert_int_equal(skipped, 3);
}

static void test_limits(void **state)
{
	(void)state;
	char names[1024], err[512];
	uint64_t skipped;
	struct ckpt_tar_limits few = {.max_bytes = 1 << 20, .max_entries = 2};
	assert_int_equal(archive(&few, names, sizeof(names), &skipped, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "limits.checkpoint_download_max_entries"));
	struct ckpt_tar_limits small = {.max_bytes = 8, .max_entries = 100};
	assert_int_equal(archive(&small, names, sizeof(names), &skipped, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "limits.checkpoint_download_max_mib"));
}

static void test_long_names(void **state)
{
	(void)state;
	struct ckpt_tar_limits lim = {.max_bytes = 1 << 20, .max_entries = 100};
	char names[2048], err[512], rel[400], d60[61];
	uint64_t skipped;
	memset(d60, 'd', 60);
	d60[60] = '\0';
	dir(d60); /* "./ddd.../ddd.../f": over 100 characters, split into ustar's prefix */
	snprintf(rel, sizeof(rel), "%s/%s", d60, d60);
	dir(rel);
	snprintf(rel, sizeof(rel), "%s/%s/f", d60, d60);
	put(rel, "x");
	assert_int_equal(archive(&lim, names, sizeof(names), &skipped, err, sizeof(err)), 0);
	snprintf(rel, sizeof(rel), " ./%s/%s/f", d60, d60);
	assert_non_null(strstr(names, rel));
	char n150[151];
	memset(n150, 'n', 150);
	n150[150] = '\0';
	snprintf(rel, sizeof(rel), "%s/%s", d60, n150); /* a name over 100: no split fits */
	put(rel, "x");
	assert_int_equal(archive(&lim, names, sizeof(names), &skipped, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long for a tar archive"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_files_not_links, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_names, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
