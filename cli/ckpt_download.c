/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det checkpoint download's file writer. Names are checked all at once
 * before anything is written; then each file is written below a directory
 * descriptor, one component at a time (mkdirat, openat with O_NOFOLLOW and
 * O_DIRECTORY), so a symlink planted in the download directory is never
 * followed. Non-obvious: each file is copied into a new temporary name
 * (O_EXCL) and only then linked to its name (refusing an existing one) or,
 * with --force, renamed over it, so no half-written file ever carries a
 * checkpoint name and a replaced symlink is replaced, not written through.
 */
#include "ckpt_download.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CKPT_NAME_MAX 4000

static int manifest_lists(const json_t *manifest, const char *rel)
{
	size_t i;
	json_t *e;
	json_array_foreach (manifest, i, e) {
		const char *p = json_string_value(json_object_get(e, "path"));
		if (p && !strcmp(p, rel))
			return 1;
	}
	return 0;
}

int cli_ckpt_name_ok(const char *rel, size_t len, const json_t *manifest, char *err, size_t errlen)
{
	if (!rel || len == 0) {
		snprintf(err, errlen, "an empty file name");
		return -1;
	}
	if (strlen(rel) != len) {
		snprintf(err, errlen, "a file name holding a NUL byte");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)rel[i] < 0x20 || rel[i] == 0x7f) {
			snprintf(err, errlen, "a file name with a control character (byte %zu)", i);
			return -1;
		}
	}
	if (len > CKPT_NAME_MAX) {
		snprintf(err, errlen, "a file name longer than %d bytes", CKPT_NAME_MAX);
		return -1;
	}
	if (rel[0] == '/') {
		snprintf(err, errlen, "%s: an absolute path", rel);
		return -1;
	}
	for (const char *c = rel; c;) {
		const char *slash = strchr(c, '/');
		size_t n = slash ? (size_t)(slash - c) : strlen(c);
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) {
			snprintf(err, errlen, "%s: an empty, \".\" or \"..\" component", rel);
			return -1;
		}
		if (c[0] == '.' && !manifest_lists(manifest, rel)) {
			snprintf(err, errlen,
			         "%s: a hidden name the checkpoint's metadata.json does not list",
			         rel);
			return -1;
		}
		c = slash ? slash + 1 : NULL;
	}
	return 0;
}

/* The files listed by src/metadata.json (new reference), or NULL. */
static json_t *read_manifest(const char *src)
{
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *files = NULL;
	snprintf(path, sizeof(path), "%s/metadata.json", src);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	json_t *meta = json_loadfd(fd, 0, &jerr);
	close(fd);
	if (json_is_array(json_object_get(meta, "files")))
		files = json_incref(json_object_get(meta, "files"));
	json_decref(meta);
	return files;
}

/* Open (creating) each directory of rel below root without following a
 * symlink; the fd of the last one, its name part in *base. -1 with err. */
static int open_parent(int root, char *rel, char **base, char *err, size_t errlen)
{
	int dfd = dup(root);
	char *c = rel, *slash;
	while (dfd >= 0 && (slash = strchr(c, '/'))) {
		*slash = '\0';
		if (mkdirat(dfd, c, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", rel, strerror(errno));
			goto fail;
		}
		int nfd = openat(dfd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0) {
			snprintf(err, errlen,
			         "%s: not a directory (a symlink is never followed): %s", rel,
			         strerror(errno));
			goto fail;
		}
		close(dfd);
		dfd = nfd;
		*slash = '/';
		c = slash + 1;
	}
	if (dfd < 0)
		snprintf(err, errlen, "dup: %s", strerror(errno));
	*base = c;
	return dfd;
fail:
	*slash = '/';
	close(dfd);
	return -1;
}

/* Would rel be refused where it stands now (a symlink or a file on its way,
 * an existing name without force)? Checked for every file before any is
 * written, so a predictable refusal writes nothing. 0, or -1 with err. */
static int check_target(int root, const char *rel_in, int force, char *err, size_t errlen)
{
	char rel[CKPT_NAME_MAX + 1], *c = rel, *slash;
	struct stat st;
	int rv = -1, dfd = dup(root);
	snprintf(rel, sizeof(rel), "%s", rel_in);
	while (dfd >= 0 && (slash = strchr(c, '/'))) {
		*slash = '\0';
		int nfd = openat(dfd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT) {
			rv = 0; /* created when it is written */
			goto out;
		}
		if (nfd < 0) {
			snprintf(err, errlen,
			         "%s: not a directory (a symlink is never followed): %s", rel,
			         strerror(errno));
			goto out;
		}
		close(dfd);
		dfd = nfd;
		c = slash + 1;
	}
	if (dfd < 0) {
		snprintf(err, errlen, "dup: %s", strerror(errno));
		goto out;
	}
	if (fstatat(dfd, c, &st, AT_SYMLINK_NOFOLLOW) == 0 && (S_ISDIR(st.st_mode) || !force)) {
		snprintf(err, errlen, "%s: exists%s", rel_in,
		         S_ISDIR(st.st_mode) ? " as a directory" : " (--force replaces it)");
		goto out;
	}
	rv = 0;
out:
	if (dfd >= 0)
		close(dfd);
	return rv;
}

static int copy_fd(int in, int out)
{
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -1;
			off += w;
		}
	}
	return n == 0 ? 0 : -1;
}

/* Write one checked file: src/rel to rel below root. */
static int put_file(int root, const char *src, const char *rel_in, json_int_t size, int force,
                    char *err, size_t errlen)
{
	int rv = -1, dfd = -1, in = -1, out = -1;
	char rel[CKPT_NAME_MAX + 1], from[PATH_MAX], tmp[64] = "";
	char *base;
	struct stat st;
	snprintf(rel, sizeof(rel), "%s", rel_in);
	dfd = open_parent(root, rel, &base, err, errlen);
	if (dfd < 0)
		goto fail;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode) || !force) {
			snprintf(err, errlen, "%s: exists%s", rel,
			         S_ISDIR(st.st_mode) ? " as a directory"
			                             : " (--force replaces it)");
			goto fail;
		}
	}
	if ((size_t)snprintf(from, sizeof(from), "%s/%s", src, rel) >= sizeof(from)) {
		snprintf(err, errlen, "%s: the source path is too long", rel);
		goto fail;
	}
	in = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: %s", from,
		         in < 0 ? strerror(errno) : "not a regular file");
		goto fail;
	}
	for (int i = 0; out < 0 && i < 100; i++) {
		snprintf(tmp, sizeof(tmp), ".det-download-%ld-%d", (long)getpid(), i);
		out = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (out < 0 && errno != EEXIST)
			break;
	}
	if (out < 0) {
		tmp[0] = '\0';
		snprintf(err, errlen, "%s: cannot create a temporary file: %s", rel,
		         strerror(errno));
		goto fail;
	}
	if (copy_fd(in, out) != 0 || fstat(out, &st) != 0 || close(out) != 0) {
		out = -1;
		snprintf(err, errlen, "%s: %s", rel, strerror(errno));
		goto fail;
	}
	out = -1;
	if (st.st_size != size) {
		snprintf(err, errlen, "%s: %lld bytes, not the registered %lld", from,
		         (long long)st.st_size, (long long)size);
		goto fail;
	}
	/* linkat refuses an existing name; renameat replaces the entry itself */
	if (force ? renameat(dfd, tmp, dfd, base) != 0 : linkat(dfd, tmp, dfd, base, 0) != 0) {
		snprintf(err, errlen, "%s: %s%s", rel, strerror(errno),
		         errno == EEXIST ? " (--force replaces it)" : "");
		goto fail;
	}
	if (force)
		tmp[0] = '\0';
	rv = 0;
fail:
	if (out >= 0)
		close(out);
	if (tmp[0])
		unlinkat(dfd, tmp, 0);
	if (in >= 0)
		close(in);
	if (dfd >= 0)
		close(dfd);
	return rv;
}

int cli_ckpt_download_files(const char *src, const json_t *files, const char *dir, int force,
                            char *err, size_t errlen)
{
	int rv = -1, root = -1;
	size_t i;
	json_t *f, *manifest = read_manifest(src);
	if (!json_is_array(files)) {
		snprintf(err, errlen, "the checkpoint has no file list");
		goto fail;
	}
	json_array_foreach (files, i, f) {
		json_t *p = json_object_get(f, "path"), *size = json_object_get(f, "size");
		if (!json_is_string(p) || !json_is_integer(size) || json_integer_value(size) < 0) {
			snprintf(err, errlen, "files[%zu]: expected {path, size}", i);
			goto fail;
		}
		if (cli_ckpt_name_ok(json_string_value(p), json_string_length(p), manifest, err,
		                     errlen) < 0)
			goto fail;
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	json_array_foreach (files, i, f) {
		if (check_target(root, json_string_value(json_object_get(f, "path")), force, err,
		                 errlen) < 0)
			goto fail;
	}
	json_array_foreach (files, i, f) {
		if (put_file(root, src, json_string_value(json_object_get(f, "path")),
		             json_integer_value(json_object_get(f, "size")), force, err,
		             errlen) < 0)
			goto fail;
	}
	rv = 0;
fail:
	if (root >= 0)
		close(root);
	json_decref(manifest);
	return rv;
}
