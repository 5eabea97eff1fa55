/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the CRC32C, the writer's error paths and reopening for append. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tfevents.h"

static void test_crc32c_vectors(void **state)
{
	/* Check values from RFC 3720 (iSCSI) appendix B.4 and the usual "123456789". */
	unsigned char zeros[32] = {0}, ones[32];
	memset(ones, 0xff, sizeof(ones));
	assert_int_equal(tfevents_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(tfevents_crc32c(0, zeros, 32), 0x8A9136AAu);
	assert_int_equal(tfevents_crc32c(0, ones, 32), 0x62A8AB43u);
	/* Incremental use gives the same value. */
	uint32_t part = tfevents_crc32c(0, "1234", 4);
	assert_int_equal(tfevents_crc32c(part, "56789", 5), 0xE3069283u);
}

static void test_mask(void **state)
{
	uint32_t c = 0xE3069283u;
	assert_int_equal(tfevents_mask_crc(c), (((c >> 15) | (c << 17)) + 0xa282ead8u));
}

static void test_bad_tags_and_dirs(void **state)
{
	char err[256], dir[] = "/tmp/det-tfevents-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct tfevents_writer *w = tfevents_open(dir, 1.0, err, sizeof(err));
	assert_non_null(w);
	const char *empty[] = {""};
	double v = 1;
	assert_int_equal(tfevents_add_scalars(w, 1, 1.0, empty, &v, 1, err, sizeof(err)), -1);
	char *big = malloc(TFEVENTS_MAX_TAG_BYTES + 2);
	memset(big, 'a', TFEVENTS_MAX_TAG_BYTES + 1);
	big[TFEVENTS_MAX_TAG_BYTES + 1] = '\0';
	const char *bigs[] = {big};
	assert_int_equal(tfevents_add_scalars(w, 1, 1.0, bigs, &v, 1, err, sizeof(err)), -1);
	free(big);
	/* Two writers in the same second get different files. */
	struct tfevents_writer *w2 = tfevents_open(dir, 1.0, err, sizeof(err));
	assert_non_null(w2);
	assert_string_not_equal(tfevents_path(w), tfevents_path(w2));
	char p1[512], p2[512];
	snprintf(p1, sizeof(p1), "%s", tfevents_path(w));
	snprintf(p2, sizeof(p2), "%s", tfevents_path(w2));
	tfevents_close(w);
	tfevents_close(w2);
	unlink(p1);
	unlink(p2);
	rmdir(dir);
	assert_null(tfevents_open("/proc/no-such-dir/x", 1.0, err, sizeof(err)));
	assert_non_null(strstr(err, "/proc/no-such-dir"));
}

static long file_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n = -1;
	if (f && fseek(f, 0, SEEK_END) == 0)
		n = ftell(f);
	if (f)
		fclose(f);
	return n;
}

/* A reopened event file gets the new events appended, without a second header. */
static void test_reopen_appends(void **state)
{
	char err[256], dir[] = "/tmp/det-tfevents-XXXXXX", path[512];
	const char *tag[] = {"training/loss"};
	double v = 0.5;
	assert_non_null(mkdtemp(dir));
	struct tfevents_writer *w = tfevents_open(dir, 1.0, err, sizeof(err));
	assert_non_null(w);
	snprintf(path, sizeof(path), "%s", tfevents_path(w));
	long header = file_size(path);
	assert_true(header > 0);
	assert_int_equal(tfevents_add_scalars(w, 1, 1.0, tag, &v, 1, err, sizeof(err)), 0);
	tfevents_close(w);
	long one = file_size(path);
	assert_true(one > header);
	w = tfevents_reopen(path, err, sizeof(err));
	assert_non_null(w);
	assert_string_equal(tfevents_path(w), path);
	assert_int_equal(tfevents_add_scalars(w, 2, 1.0, tag, &v, 1, err, sizeof(err)), 0);
	tfevents_close(w);
	assert_int_equal(file_size(path), one + (one - header));
	unlink(path);
	rmdir(dir);
	assert_null(tfevents_reopen(path, err, sizeof(err)));
	assert_non_null(strstr(err, path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc32c_vectors),
	    cmocka_unit_test(test_mask),
	    cmocka_unit_test(test_bad_tags_and_dirs),
	    cmocka_unit_test(test_reopen_appends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
