/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Model-definition unpacking against hostile tarballs, built here with
 * libarchive: absolute paths, "..", symlink and hard-link escapes, devices,
 * fifos, archives over the size and entry limits; and a benign archive with
 * nested files, a safe symlink and a safe hard link that must unpack intact.
 * The same archive in every form det-launch's own reader (launch_tar.c)
 * takes: plain ustar, GNU long names, pax long paths, uncompressed; and
 * truncated or corrupt archives refused.
 */
#include <archive.h>
#include <archive_entry.h>
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

#include "launch_unpack.h"
#include "unit_tmpdir.h"

/* One entry to put into a test archive. */
struct spec {
	const char *path;
	int type;          /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFIFO; 0 = hard link */
	const char *data;  /* file contents, or the link target */
	int64_t fake_size; /* nonzero: declare this size and write that many bytes */
};

struct tarball {
	char *buf;
	size_t len;
};

/* The entries as a tar archive in format, gzip-compressed when gzip is set. */
static struct tarball make_tar_as(const struct spec *s, size_t n, int gzip,
                                  int (*format)(struct archive *))
{
	struct tarball t = {NULL, 0};
	size_t cap = 8 << 20;
	t.buf = malloc(cap);
	assert_non_null(t.buf);
	struct archive *a = archive_write_new();
	if (gzip)
		assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(format(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, t.buf, cap, &t.len), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, s[i].path);
		archive_entry_set_perm(e, 0644);
		if (s[i].type == 0) {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, s[i].data);
			archive_entry_set_size(e, 0);
		} else {
			archive_entry_set_filetype(e, (unsigned)s[i].type);
			if (s[i].type == AE_IFLNK)
				archive_entry_set_symlink(e, s[i].data);
			if (s[i].type == AE_IFCHR)
				archive_entry_set_rdev(e, 0x0103);
			int64_t size =
			    s[i].type == AE_IFREG
			        ? (s[i].fake_size ? s[i].fake_size : (int64_t)strlen(s[i].data))
			        : 0;
			archive_entry_set_size(e, size);
		}
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (s[i].type == AE_IFREG) {
			if (s[i].fake_size) {
				char *z = calloc(1, (size_t)s[i].fake_size);
				assert_non_null(z);
				archive_write_data(a, z, (size_t)s[i].fake_size);
				free(z);
			} else {
				archive_write_data(a, s[i].data, strlen(s[i].data));
			}
		}
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	return t;
}

/* What det packs: pax (restricted), gzip-compressed. */
static struct tarball make_tar(const struct spec *s, size_t n)
{
	return make_tar_as(s, n, 1, archive_write_set_format_pax_restricted);
}

struct fixture {
	char dir[64];
	char dest[96];
};

static int setup(void **state)
{
	struct fixture *f = unit_dir_fixture_new(sizeof(*f), sizeof(f->dir), "test_unpack_");
	if (!f)
		return -1;
	snprintf(f->dest, sizeof(f->dest), "%s/model", f->dir);
	*state = f;
	return 0;
}

static void expect_refused(void **state, const struct spec *s, size_t n,
                           const struct launch_unpack_limits *lim, const char *needle)
{
	struct fixture *f = *state;
	char err[512] = "";
	struct tarball t = make_tar(s, n);
	int rc = launch_unpack(t.buf, t.len, f->dest, lim, err, sizeof(err));
	free(t.buf);
	assert_int_equal(rc, -1);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

static void test_benign_archive_unpacks_intact(void **state)
{
	struct fixture *f = *state;
	const struct spec s[] = {
	    {"./", AE_IFDIR, "", 0},
	    {"./train.py", AE_IFREG, "print('hi')\n", 0},
	    {"pkg/sub/mod.py", AE_IFREG, "x = 1\n", 0},
	    {"link.py", AE_IFLNK, "pkg/sub/mod.py", 0},
	    {"pkg/hard.py", 0, "pkg/sub/mod.py", 0},
	    {"empty/", AE_IFDIR, "", 0},
	};
	char err[512] = "", path[256], buf[64] = "";
	struct tarball t = make_tar(s, sizeof(s) / sizeof(s[0]));
	if (launch_unpack(t.buf, t.len, f->dest, NULL, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	free(t.buf);
	snprintf(path, sizeof(path), "%s/link.py", f->dest);
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "x = 1\n");
	struct stat a, b;
	snprintf(path, sizeof(path), "%s/pkg/hard.py", f->dest);
	assert_int_equal(stat(path, &a), 0);
	snprintf(path, sizeof(path), "%s/pkg/sub/mod.py", f->dest);
	assert_int_equal(stat(path, &b), 0);
	assert_true(a.st_ino == b.st_ino);
	snprintf(path, sizeof(path), "%s/empty", f->dest);
	assert_int_equal(stat(path, &a), 0);
	assert_true(S_ISDIR(a.st_mode));
}

static void test_absolute_path_refused(void **state)
{
	const struct spec s[] = {{"/tmp/evil", AE_IFREG, "x", 0}};
	expect_refused(state, s, 1, NULL, "absolute path");
}

static void test_dotdot_path_refused(void **state)
{
	const struct spec s[] = {{"a/../../evil", AE_IFREG, "x", 0}};
	expect_refused(state, s, 1, NULL, "\"..\"");
	const struct spec s2[] = {{"..", AE_IFDIR, "", 0}};
	expect_refused(state, s2, 1, NULL, "\"..\"");
}

static void test_symlink_escapes_refused(void **state)
{
	const struct spec abs[] = {{"passwd", AE_IFLNK, "/etc/passwd", 0}};
	expect_refused(state, abs, 1, NULL, "symlink to \"/etc/passwd\" leaves the directory");
	const struct spec up[] = {{"up", AE_IFLNK, "sub/../..", 0}};
	expect_refused(state, up, 1, NULL, "leaves the directory");
}

static void test_write_through_escaping_symlink_impossible(void **state)
{
	struct fixture *f = *state;
	/* the classic two-step: a link out, then a file through it */
	const struct spec s[] = {{"out", AE_IFLNK, "..", 0}, {"out/evil", AE_IFREG, "x", 0}};
	char path[256];
	expect_refused(state, s, 2, NULL, "leaves the directory");
	snprintf(path, sizeof(path), "%s/evil", f->dir);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_hardlink_escapes_refused(void **state)
{
	const struct spec abs[] = {{"shadow", 0, "/etc/shadow", 0}};
	expect_refused(state, abs, 1, NULL, "hard link to \"/etc/shadow\" leaves the directory");
	const struct spec up[] = {{"x", 0, "../x", 0}};
	expect_refused(state, up, 1, NULL, "hard link");
}

static void test_devices_and_fifos_refused(void **state)
{
	const struct spec dev[] = {{"null", AE_IFCHR, "", 0}};
	expect_refused(state, dev, 1, NULL, "devices, fifos and sockets are not allowed");
	const struct spec fifo[] = {{"pipe", AE_IFIFO, "", 0}};
	expect_refused(state, fifo, 1, NULL, "not allowed");
}

static void test_too_big_refused(void **state)
{
	struct launch_unpack_limits lim = launch_unpack_default_limits();
	lim.max_total_bytes = 1000;
	const struct spec s[] = {{"a", AE_IFREG, "", 600}, {"b", AE_IFREG, "", 600}};
	expect_refused(state, s, 2, &lim, "more than 1000 bytes");
}

static void test_too_many_entries_refused(void **state)
{
	struct launch_unpack_limits lim = launch_unpack_default_limits();
	lim.max_entries = 3;
	const struct spec s[] = {{"a", AE_IFREG, "1", 0},
	                         {"b", AE_IFREG, "2", 0},
	                         {"c", AE_IFREG, "3", 0},
	                         {"d", AE_IFREG, "4", 0}};
	expect_refused(state, s, 4, &lim, "more than 3 entries");
}

static void test_long_path_refused(void **state)
{
	struct launch_unpack_limits lim = launch_unpack_default_limits();
	lim.max_path_bytes = 10;
	const struct spec s[] = {{"abcdefghijklmnop", AE_IFREG, "1", 0}};
	expect_refused(state, s, 1, &lim, "path longer than 10 bytes");
}

static void test_duplicate_file_not_overwritten(void **state)
{
	const struct spec s[] = {{"a", AE_IFREG, "1", 0}, {"a", AE_IFREG, "2", 0}};
	expect_refused(state, s, 2, NULL, "entry \"a\"");
}

static void test_garbage_is_not_a_tarball(void **state)
{
	struct fixture *f = *state;
	char err[512] = "";
	static const char junk[] = "this is not a tar archive at all, not even close......";
	assert_int_equal(launch_unpack(junk, sizeof(junk), f->dest, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "model definition"));
}

#define LONG_DIR                                                                                   \
	"a-directory-name-that-is-long/another-directory-name-that-is-also-long/"                  \
	"and-a-third-one-to-pass-the-hundred-bytes-of-a-ustar-name"

/* The file at rel under dest holds want. */
static void expect_file(const char *dest, const char *rel, const char *want)
{
	char path[512], buf[64] = "";
	snprintf(path, sizeof(path), "%s/%s", dest, rel);
	FILE *fp = fopen(path, "r");
	if (!fp)
		fail_msg("%s was not unpacked", rel);
	if (!fgets(buf, sizeof(buf), fp))
		buf[0] = '\0';
	fclose(fp);
	assert_string_equal(buf, want);
}

static void test_every_tar_form_unpacks(void **state)
{
	struct fixture *f = *state;
	static const struct {
		int gzip;
		int (*format)(struct archive *);
		int long_names; /* the format takes paths over 100 bytes */
	} forms[] = {
	    {0, archive_write_set_format_ustar, 0},
	    {1, archive_write_set_format_ustar, 0},
	    {0, archive_write_set_format_gnutar, 1},
	    {1, archive_write_set_format_gnutar, 1},
	    {0, archive_write_set_format_pax_restricted, 1},
	    {1, archive_write_set_format_pax, 1},
	};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		const struct spec s[] = {
		    {"train.py", AE_IFREG, "print('hi')\n", 0},
		    {"pkg/sub/mod.py", AE_IFREG, "x = 1\n", 0},
		    {"link.py", AE_IFLNK, "pkg/sub/mod.py", 0},
		    {"pkg/hard.py", 0, "pkg/sub/mod.py", 0},
		    {forms[i].long_names ? LONG_DIR "/deep.py" : "short/deep.py", AE_IFREG,
		     "deep\n", 0},
		    {"deep-link.py", AE_IFLNK,
		     forms[i].long_names ? LONG_DIR "/deep.py" : "train.py", 0},
		};
		char err[512] = "", dest[160];
		snprintf(dest, sizeof(dest), "%s/m%zu", f->dir, i);
		struct tarball t =
		    make_tar_as(s, sizeof(s) / sizeof(s[0]), forms[i].gzip, forms[i].format);
		if (launch_unpack(t.buf, t.len, dest, NULL, err, sizeof(err)) < 0)
			fail_msg("form %zu: %s", i, err);
		free(t.buf);
		expect_file(dest, "train.py", "print('hi')\n");
		expect_file(dest, "link.py", "x = 1\n");
		expect_file(dest, "pkg/hard.py", "x = 1\n");
		expect_file(dest, forms[i].long_names ? LONG_DIR "/deep.py" : "short/deep.py",
		            "deep\n");
		expect_file(dest, "deep-link.py", forms[i].long_names ? "deep\n" : "print('hi')\n");
	}
}

static void test_truncated_or_corrupt_archive_refused(void **state)
{
	struct fixture *f = *state;
	const struct spec s[] = {{"train.py", AE_IFREG, "print('hi')\n", 0},
	                         {"data.bin", AE_IFREG, NULL, 100000}};
	char err[512] = "", dest[160];
	struct tarball t = make_tar(s, 2);
	snprintf(dest, sizeof(dest), "%s/cut", f->dir);
	assert_int_equal(launch_unpack(t.buf, t.len / 2, dest, NULL, err, sizeof(err)), -1);
	if (!strstr(err, "truncated"))
		fail_msg("a cut gzip archive: \"%s\"", err);
	free(t.buf);

	t = make_tar_as(s, 2, 0, archive_write_set_format_ustar);
	snprintf(dest, sizeof(dest), "%s/cut-plain", f->dir);
	assert_int_equal(launch_unpack(t.buf, 512 + 100, dest, NULL, err, sizeof(err)), -1);
	if (!strstr(err, "truncated"))
		fail_msg("a cut tar archive: \"%s\"", err);
	t.buf[1] ^= 0x01; /* the first header's name: its checksum no longer matches */
	snprintf(dest, sizeof(dest), "%s/corrupt", f->dir);
	assert_int_equal(launch_unpack(t.buf, t.len, dest, NULL, err, sizeof(err)), -1);
	if (!strstr(err, "checksum"))
		fail_msg("a corrupt header: \"%s\"", err);
	free(t.buf);
}

/* A ustar header of type at h (512 bytes, zeroed first) with its checksum. */
static void raw_header(unsigned char *h, const char *name, char type, unsigned size)
{
	unsigned sum = 0;
	memset(h, 0, 512);
	snprintf((char *)h, 100, "%s", name);
	snprintf((char *)h + 100, 8, "%07o", 0644u);
	snprintf((char *)h + 124, 12, "%011o", size);
	h[156] = (unsigned char)type;
	memcpy(h + 257,
	       "ustar\0"
	       "00",
	       8);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

static void test_endless_metadata_headers_refused(void **state)
{
	struct fixture *f = *state;
	static unsigned char tar[40 * 512];
	char err[512] = "", dest[160];
	for (int i = 0; i < 38; i++)
		raw_header(tar + i * 512, "PaxHeader", 'x', 0);
	snprintf(dest, sizeof(dest), "%s/meta", f->dir);
	assert_int_equal(launch_unpack(tar, sizeof(tar), dest, NULL, err, sizeof(err)), -1);
	if (!strstr(err, "metadata headers in a row"))
		fail_msg("a run of pax headers: \"%s\"", err);
	/* a few, then a file: fine */
	memset(tar, 0, sizeof(tar));
	raw_header(tar, "PaxHeader", 'x', 0);
	raw_header(tar + 512, "GlobalHead", 'g', 0);
	raw_header(tar + 1024, "ok.txt", '0', 3);
	memcpy(tar + 1536, "ok\n", 3);
	snprintf(dest, sizeof(dest), "%s/meta-ok", f->dir);
	if (launch_unpack(tar, sizeof(tar), dest, NULL, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	expect_file(dest, "ok.txt", "ok\n");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, unit_dir_fixture_free)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_benign_archive_unpacks_intact),
	    T(test_absolute_path_refused),
	    T(test_dotdot_path_refused),
	    T(test_symlink_escapes_refused),
	    T(test_write_through_escaping_symlink_impossible),
	    T(test_hardlink_escapes_refused),
	    T(test_devices_and_fifos_refused),
	    T(test_too_big_refused),
	    T(test_too_many_entries_refused),
	    T(test_long_path_refused),
	    T(test_duplicate_file_not_overwritten),
	    T(test_garbage_is_not_a_tarball),
	    T(test_every_tar_form_unpacks),
	    T(test_truncated_or_corrupt_archive_refused),
	    T(test_endless_metadata_headers_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
