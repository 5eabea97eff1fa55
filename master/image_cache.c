/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The image cache's files. An import copies the caller's descriptor (opened
 * as the calling user by ckpt_owner_open_read) into <cache>/tmp while hashing
 * it, checks the copy with libarchive, then renames it to
 * <cache>/sha256/<hex>.tar. Non-obvious: the check reads the copy, not the
 * user's file, so what was checked is exactly what is stored.
 */
#include "image_cache.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int image_cache_digest_ok(const char *hex)
{
	size_t n = 0;
	for (; hex && hex[n]; n++)
		if (!((hex[n] >= '0' && hex[n] <= '9') || (hex[n] >= 'a' && hex[n] <= 'f')))
			return 0;
	return n == 64;
}

int image_cache_path(const char *cache_dir, const char *hex, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/sha256/%s.tar", cache_dir, hex);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* mkdir dir (0755) unless it exists as a directory. */
static int make_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "image cache %s: %s", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "image cache %s: not a directory", dir);
		return -1;
	}
	return 0;
}

/* A name inside the archive that could land outside the root when unpacked. */
static int unsafe_name(const char *p)
{
	if (!p || p[0] == '/')
		return 1;
	for (const char *s = p; *s;) {
		size_t len = strcspn(s, "/");
		if (len == 2 && s[0] == '.' && s[1] == '.')
			return 1;
		s += len;
		while (*s == '/')
			s++;
	}
	return 0;
}

/* 1 when p names bin/sh or usr/bin/sh (leading "./" allowed). */
static int is_shell(const char *p)
{
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	return !strcmp(p, "bin/sh") || !strcmp(p, "usr/bin/sh");
}

/* Read the whole archive at path: 0, or -1 with err saying what is wrong. */
static int check_tar(const char *path, char *err, size_t errlen)
{
	struct archive *ar = archive_read_new();
	struct archive_entry *ent;
	int rv = -1, r, shell = 0;
	long entries = 0;

	if (!ar) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	archive_read_support_filter_all(ar);
	archive_read_support_format_tar(ar);
	if (archive_read_open_filename(ar, path, 65536) != ARCHIVE_OK) {
		snprintf(err, errlen, "not a readable tar archive: %s", archive_error_string(ar));
		goto fail;
	}
	while ((r = archive_read_next_header(ar, &ent)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ent);
		if (unsafe_name(name)) {
			snprintf(err, errlen, "entry \"%.200s\": absolute or with \"..\"",
			         name ? name : "");
			goto fail;
		}
		shell |= is_shell(name);
		entries++;
		if (archive_read_data_skip(ar) != ARCHIVE_OK) {
			snprintf(err, errlen, "entry \"%.200s\": %s", name,
			         archive_error_string(ar));
			goto fail;
		}
	}
	if (r != ARCHIVE_EOF) {
		snprintf(err, errlen, "corrupt tar archive after %ld entries: %s", entries,
		         archive_error_string(ar));
		goto fail;
	}
	if (!shell) {
		snprintf(err, errlen,
		         "not a root file system: no bin/sh among its %ld entries (a tarball of "
		         "the file system's top directory is expected)",
		         entries);
		goto fail;
	}
	rv = 0;
fail:
	archive_read_free(ar);
	return rv;
}

/* Copy fd to out while hashing. 0, or -1 with err. */
static int copy_hash(int fd, int out, uint64_t max_bytes, char hex[SHA256_HEX_BYTES],
                     uint64_t *size, char *err, size_t errlen)
{
	static const size_t bufsize = 1 << 20;
	struct sha256_ctx h;
	uint8_t digest[SHA256_DIGEST_BYTES];
	char *buf = malloc(bufsize);
	int rv = -1;

	*size = 0;
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	sha256_init(&h);
	for (;;) {
		ssize_t n = read(fd, buf, bufsize);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "reading the tarball: %s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		sha256_update(&h, buf, (size_t)n);
		*size += (uint64_t)n;
		if (*size > max_bytes) { /* it grew after the size check */
			snprintf(err, errlen,
			         "the tarball grew over the image size limit of %llu MiB "
			         "while it was read (image_max_mib in master.yaml)",
			         (unsigned long long)(max_bytes >> 20));
			goto fail;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				snprintf(err, errlen, "writing the image cache: %s",
				         strerror(errno));
				goto fail;
			}
			off += w;
		}
	}
	if (fsync(out) < 0) {
		snprintf(err, errlen, "writing the image cache: %s", strerror(errno));
		goto fail;
	}
	sha256_final(&h, digest);
	sha256_hex(digest, hex);
	rv = 0;
fail:
	free(buf);
	return rv;
}

int image_cache_import(const char *cache_dir, int fd, uint64_t max_bytes,
                       char hex[SHA256_HEX_BYTES], uint64_t *size_bytes, char *err, size_t errlen)
{
	char tmpdir[PATH_MAX], tmp[PATH_MAX], shadir[PATH_MAX], dest[PATH_MAX];
	struct stat st;
	int out = -1, rv = -1;

	tmp[0] = '\0';
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file (a tarball is expected)");
		return -1;
	}
	if ((uint64_t)st.st_size > max_bytes) {
		snprintf(err, errlen,
		         "the tarball is %llu bytes, over the image size limit of %llu MiB "
		         "(image_max_mib in master.yaml)",
		         (unsigned long long)st.st_size, (unsigned long long)(max_bytes >> 20));
		return -1;
	}
	if (fcntl(fd, F_SETFL, 0) < 0) { /* opened O_NONBLOCK against FIFOs */
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		return -1;
	}
	if ((size_t)snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", cache_dir) >= sizeof(tmpdir) ||
	    (size_t)snprintf(shadir, sizeof(shadir), "%s/sha256", cache_dir) >= sizeof(shadir) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/import-XXXXXX", tmpdir) >= sizeof(tmp)) {
		snprintf(err, errlen, "image cache path too long");
		tmp[0] = '\0';
		return -1;
	}
	if (make_dir(cache_dir, err, errlen) || make_dir(tmpdir, err, errlen) ||
	    make_dir(shadir, err, errlen)) {
		tmp[0] = '\0';
		return -1;
	}
	out = mkostemp(tmp, O_CLOEXEC);
	if (out < 0) {
		snprintf(err, errlen, "image cache %s: %s", tmpdir, strerror(errno));
		tmp[0] = '\0';
		goto fail;
	}
	if (copy_hash(fd, out, max_bytes, hex, size_bytes, err, errlen) ||
	    check_tar(tmp, err, errlen))
		goto fail;
	if (fchmod(out, 0644) < 0 || image_cache_path(cache_dir, hex, dest, sizeof(dest)) ||
	    rename(tmp, dest) < 0) {
		snprintf(err, errlen, "storing the image in %s: %s", shadir, strerror(errno));
		goto fail;
	}
	tmp[0] = '\0';
	rv = 0;
fail:
	if (out >= 0)
		close(out);
	if (tmp[0])
		unlink(tmp);
	return rv;
}

int image_cache_remove(const char *cache_dir, const char *hex, char *err, size_t errlen)
{
	char path[PATH_MAX];
	if (!image_cache_digest_ok(hex) || image_cache_path(cache_dir, hex, path, sizeof(path))) {
		snprintf(err, errlen, "bad digest");
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
