/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tarball behind GET /checkpoints/UUID/download: a checkpoint directory
 * walked with openat(O_NOFOLLOW) from an open directory descriptor and written
 * as POSIX ustar. It runs in ckpt_owner.c's child, as the checkpoint's owner, so
 * the kernel decides what may be read; this file makes sure that nothing outside
 * the directory is reached through a symlink (they are left out, not archived)
 * and that the archive stays within the configured size and entry limits.
 * Non-obvious decision: tar(1) is not used here because it archives symlinks
 * and special files and has no entry limit; ustar is 512-byte blocks and is
 * simple enough to write directly.
 */
#include <config.h>

#include "ckpt_tar.h"
#include "fdio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK 512
#define MAX_DEPTH 64
#define REL_MAX 1024

struct tar_ctx {
	int out;
	const struct ckpt_tar_limits *lim;
	uint64_t bytes, entries, skipped;
	char *err;
	size_t errlen;
};

/* Split rel into ustar's prefix (<= 155) and name (<= 100) fields. 0, or -1. */
static int split_name(const char *rel, char *hdr)
{
	size_t len = strlen(rel);
	if (len <= 100) {
		memcpy(hdr, rel, len);
		return 0;
	}
	for (size_t i = len - 1; i > 0; i--) {
		if (i <= 155 && rel[i] == '/' && len - i - 1 <= 100 && len - i - 1 > 0) {
			memcpy(hdr + 345, rel, i);
			memcpy(hdr, rel + i + 1, len - i - 1);
			return 0;
		}
	}
	return -1;
}

/* One ustar header for rel (type '0' file, '5' directory). */
static int put_header(struct tar_ctx *t, const char *rel, const struct stat *st, char type,
                      uint64_t size)
{
	char hdr[BLOCK];
	unsigned sum = 0;

	memset(hdr, 0, sizeof(hdr));
	if (split_name(rel, hdr)) {
		snprintf(t->err, t->errlen, "%.300s: the path is too long for a tar archive", rel);
		return -1;
	}
	snprintf(hdr + 100, 8, "%07o", (unsigned)(st->st_mode & 07777));
	snprintf(hdr + 108, 8, "%07o", (unsigned)(st->st_uid & 07777777));
	snprintf(hdr + 116, 8, "%07o", (unsigned)(st->st_gid & 07777777));
	snprintf(hdr + 124, 12, "%011llo", (unsigned long long)size);
	snprintf(hdr + 136, 12, "%011llo",
	         (unsigned long long)(st->st_mtime > 0 ? st->st_mtime : 0) & 077777777777ULL);
	memset(hdr + 148, ' ', 8);
	hdr[156] = type;
	memcpy(hdr + 257, "ustar", 6);
	memcpy(hdr + 263, "00", 2);
	for (size_t i = 0; i < BLOCK; i++)
		sum += (unsigned char)hdr[i];
	snprintf(hdr + 148, 8, "%06o", sum);
	if (fdio_write_all(t->out, hdr, sizeof(hdr), 0)) {
		snprintf(t->err, t->errlen, "writing the archive: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Count one more entry of size bytes against the limits. */
static int admit(struct tar_ctx *t, const char *rel, uint64_t size)
{
	if (++t->entries > t->lim->max_entries) {
		snprintf(t->err, t->errlen,
		         "more than %llu files and directories (at %.300s): over the download "
		         "limit (limits.checkpoint_download_max_entries)",
		         (unsigned long long)t->lim->max_entries, rel);
		return -1;
	}
	if (size > t->lim->max_bytes || t->bytes + size > t->lim->max_bytes) {
		snprintf(t->err, t->errlen,
		         "more than %llu bytes (at %.300s): over the download limit "
		         "(limits.checkpoint_download_max_mib)",
		         (unsigned long long)t->lim->max_bytes, rel);
		return -1;
	}
	t->bytes += size;
	return 0;
}

/* Copy the regular file name in dirfd (st from fstatat) as rel. */
static int put_file(struct tar_ctx *t, int dirfd, const char *name, const char *rel)
{
	char buf[65536];
	struct stat st;
	uint64_t left;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), rv = -1;

	if (fd < 0 || fstat(fd, &st)) {
		snprintf(t->err, t->errlen, "%.300s: %s", rel, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) { /* swapped since the directory was read */
		t->skipped++;
		rv = 0;
		goto fail;
	}
	if (admit(t, rel, (uint64_t)st.st_size) ||
	    put_header(t, rel, &st, '0', (uint64_t)st.st_size))
		goto fail;
	for (left = (uint64_t)st.st_size; left > 0;) {
		ssize_t n = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(t->err, t->errlen, "%.300s: %s", rel,
			         n < 0 ? strerror(errno) : "the file shrank while it was read");
			goto fail;
		}
		if (fdio_write_all(t->out, buf, (size_t)n, 0)) {
			snprintf(t->err, t->errlen, "writing the archive: %s", strerror(errno));
			goto fail;
		}
		left -= (uint64_t)n;
	}
	memset(buf, 0, BLOCK);
	size_t pad = (size_t)((BLOCK - (uint64_t)st.st_size % BLOCK) % BLOCK);
	if (pad && fdio_write_all(t->out, buf, pad, 0)) {
		snprintf(t->err, t->errlen, "writing the archive: %s", strerror(errno));
		goto fail;
	}
	rv = 0;
fail:
	if (fd >= 0)
		close(fd);
	return rv;
}

/* Archive the entries of the open directory dirfd (consumed) under rel. */
static int put_dir(struct tar_ctx *t, int dirfd, const char *rel, int depth)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;
	int rv = -1;

	if (!d) {
		snprintf(t->err, t->errlen, "%.300s: %s", rel, strerror(errno));
		close(dirfd);
		goto fail;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		char sub[REL_MAX];
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int n = snprintf(sub, sizeof(sub), "%s/%s", rel, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(sub)) {
			snprintf(t->err, t->errlen, "%.300s/...: the path is too long", rel);
			goto fail;
		}
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
			snprintf(t->err, t->errlen, "%.300s: %s", sub, strerror(errno));
			goto fail;
		}
		if (S_ISREG(st.st_mode)) {
			if (put_file(t, dirfd, de->d_name, sub))
				goto fail;
		} else if (S_ISDIR(st.st_mode)) {
			if (depth >= MAX_DEPTH) {
				snprintf(t->err, t->errlen, "%.300s: nested too deep", sub);
				goto fail;
			}
			int fd = openat(dirfd, de->d_name,
			                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				snprintf(t->err, t->errlen, "%.300s: %s", sub, strerror(errno));
				goto fail;
			}
			char dname[REL_MAX + 1];
			snprintf(dname, sizeof(dname), "%s/", sub);
			if (admit(t, sub, 0) || put_header(t, dname, &st, '5', 0)) {
				close(fd);
				goto fail;
			}
			if (put_dir(t, fd, sub, depth + 1))
				goto fail;
		} else {
			t->skipped++; /* symlinks and special files are left out */
		}
	}
	if (errno) {
		snprintf(t->err, t->errlen, "%.300s: %s", rel, strerror(errno));
		goto fail;
	}
	rv = 0;
fail:
	if (d)
		closedir(d);
	return rv;
}

int ckpt_tar_write(int dirfd, int out, const struct ckpt_tar_limits *lim, uint64_t *skipped,
                   char *err, size_t errlen)
{
	struct tar_ctx t = {.out = out, .lim = lim, .err = err, .errlen = errlen};
	char zero[2 * BLOCK];
	int fd = dup(dirfd), rv = -1;

	if (fd < 0) {
		snprintf(err, errlen, "dup: %s", strerror(errno));
		goto fail;
	}
	if (put_dir(&t, fd, ".", 0))
		goto fail;
	memset(zero, 0, sizeof(zero));
	if (fdio_write_all(out, zero, sizeof(zero), 0)) {
		snprintf(err, errlen, "writing the archive: %s", strerror(errno));
		goto fail;
	}
	rv = 0;
fail:
	if (skipped)
		*skipped = t.skipped;
	return rv;
}
