/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Packs a model directory into a tar.gz in memory with libarchive. Files
 * matching a line of the directory's .detignore (fnmatch patterns, relative
 * to the directory; "dir/" matches a directory; "#" starts a comment) are
 * left out, as are the .detignore file itself and anything that is not a
 * regular file, directory or symbolic link. The size is checked while
 * writing, so a huge directory fails early instead of filling memory.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"

#define PACK_MAX_PATTERNS 256
#define PACK_MAX_DEPTH 64

struct pack {
	struct archive *a;
	char *patterns[PACK_MAX_PATTERNS];
	size_t npatterns;
	unsigned char *buf;
	size_t len, cap, max;
	int too_big;
};

static la_ssize_t on_write(struct archive *a, void *p, const void *data, size_t n)
{
	struct pack *pk = p;
	if (pk->len + n > pk->max) {
		pk->too_big = 1;
		archive_set_error(a, EFBIG, "model definition larger than %zu bytes", pk->max);
		return -1;
	}
	if (pk->len + n > pk->cap) {
		size_t cap = pk->cap ? pk->cap * 2 : 65536;
		while (cap < pk->len + n)
			cap *= 2;
		unsigned char *b = realloc(pk->buf, cap);
		if (!b)
			return -1;
		pk->buf = b;
		pk->cap = cap;
	}
	memcpy(pk->buf + pk->len, data, n);
	pk->len += n;
	return (la_ssize_t)n;
}

static void load_ignore(struct pack *pk, const char *dir)
{
	char path[4096], line[1024];
	snprintf(path, sizeof(path), "%s/.detignore", dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && pk->npatterns < PACK_MAX_PATTERNS) {
		line[strcspn(line, "\r\n")] = '\0';
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		if (*p == '/')
			p++;
		pk->patterns[pk->npatterns] = strdup(p);
		if (pk->patterns[pk->npatterns])
			pk->npatterns++;
	}
	fclose(f);
}

static int ignored(struct pack *pk, const char *rel, int is_dir)
{
	const char *base = strrchr(rel, '/');
	base = base ? base + 1 : rel;
	if (!strcmp(rel, ".detignore"))
		return 1;
	for (size_t i = 0; i < pk->npatterns; i++) {
		char pat[1024];
		size_t n = strlen(pk->patterns[i]);
		snprintf(pat, sizeof(pat), "%s", pk->patterns[i]);
		if (n && pat[n - 1] == '/') {
			if (!is_dir)
				continue;
			pat[n - 1] = '\0';
		}
		if (fnmatch(pat, rel, FNM_PATHNAME) == 0 || fnmatch(pat, base, 0) == 0)
			return 1;
	}
	return 0;
}

static int add_file(struct pack *pk, const char *full, const char *rel, const struct stat *st)
{
	struct archive_entry *e = archive_entry_new();
	int rv = -1, fd = -1;
	char buf[65536], target[4096];

	if (!e)
		return -1;
	archive_entry_set_pathname(e, rel);
	archive_entry_copy_stat(e, st);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlink(full, target, sizeof(target) - 1);
		if (n < 0)
			goto out;
		target[n] = '\0';
		archive_entry_set_symlink(e, target);
	}
	if (archive_write_header(pk->a, e) != ARCHIVE_OK)
		goto out;
	if (S_ISREG(st->st_mode)) {
		ssize_t n;
		fd = open(full, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			goto out;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (archive_write_data(pk->a, buf, (size_t)n) != n)
				goto out;
		if (n < 0)
			goto out;
	}
	rv = 0;
out:
	if (rv)
		fprintf(stderr, "det: %s: %s\n", full,
		        archive_error_string(pk->a) ? archive_error_string(pk->a)
		                                    : strerror(errno));
	if (fd >= 0)
		close(fd);
	archive_entry_free(e);
	return rv;
}

static int walk(struct pack *pk, const char *root, const char *rel, int depth)
{
	char full[4096];
	DIR *d;
	struct dirent *de;
	int rv = 0;

	snprintf(full, sizeof(full), "%s%s%s", root, *rel ? "/" : "", rel);
	if (depth > PACK_MAX_DEPTH) {
		fprintf(stderr, "det: %s: directories nested too deep\n", full);
		return -1;
	}
	d = opendir(full);
	if (!d) {
		fprintf(stderr, "det: %s: %s\n", full, strerror(errno));
		return -1;
	}
	while (rv == 0 && (de = readdir(d))) {
		char crel[4096], cfull[4096];
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(crel, sizeof(crel), "%s%s%s", rel, *rel ? "/" : "", de->d_name) >=
		        (int)sizeof(crel) ||
		    snprintf(cfull, sizeof(cfull), "%s/%s", root, crel) >= (int)sizeof(cfull)) {
			fprintf(stderr, "det: %s/%s: path too long\n", full, de->d_name);
			rv = -1;
			break;
		}
		if (lstat(cfull, &st) != 0)
			continue;
		if (ignored(pk, crel, S_ISDIR(st.st_mode)))
			continue;
		if (S_ISDIR(st.st_mode)) {
			rv = add_file(pk, cfull, crel, &st);
			if (rv == 0)
				rv = walk(pk, root, crel, depth + 1);
		} else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
			rv = add_file(pk, cfull, crel, &st);
		}
	}
	closedir(d);
	return rv;
}

int cli_pack_dir(const char *dir, unsigned char **data, size_t *len, size_t max_bytes)
{
	struct pack pk = {.max = max_bytes};
	int rv = -1;

	pk.a = archive_write_new();
	if (!pk.a || archive_write_set_format_pax_restricted(pk.a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(pk.a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(pk.a, 1) != ARCHIVE_OK ||
	    archive_write_open(pk.a, &pk, NULL, on_write, NULL) != ARCHIVE_OK) {
		fprintf(stderr, "det: cannot start an archive\n");
		goto out;
	}
	load_ignore(&pk, dir);
	if (walk(&pk, dir, "", 0) != 0)
		goto out;
	if (archive_write_close(pk.a) != ARCHIVE_OK) {
		fprintf(stderr, "det: %s: %s\n", dir, archive_error_string(pk.a));
		goto out;
	}
	*data = pk.buf;
	*len = pk.len;
	pk.buf = NULL;
	rv = 0;
out:
	if (pk.too_big)
		fprintf(stderr,
		        "det: %s: the model definition is larger than %zu bytes "
		        "(list big files in .detignore)\n",
		        dir, max_bytes);
	if (pk.a)
		archive_write_free(pk.a);
	for (size_t i = 0; i < pk.npatterns; i++)
		free(pk.patterns[i]);
	free(pk.buf);
	return rv;
}
