/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unpacking of untrusted model-definition tarballs. launch_tar.c only parses;
 * every entry is judged and written here: paths must be relative without
 * "..", link targets must be relative without "..", only regular files,
 * directories, symlinks and hard links are accepted, and sizes and counts
 * are bounded while the data is read (declared sizes can lie).
 * Non-obvious: because no accepted link can point outside the directory (a
 * relative target without ".." resolves below the link's own directory),
 * following links while creating later entries stays inside it too.
 */
#include "launch_unpack.h"

#include "launch_tar.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct launch_unpack_limits launch_unpack_default_limits(void)
{
	return (struct launch_unpack_limits){512ULL << 20, 100000, 1024};
}

/* Relative, no "..", no empty name: 1 when safe. Leading "./" is skipped by the caller. */
static int rel_path_safe(const char *p)
{
	if (!*p || *p == '/')
		return 0;
	for (const char *s = p; *s;) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return 0;
		s += n;
		while (*s == '/')
			s++;
	}
	return 1;
}

static const char *skip_dot_slash(const char *p)
{
	while (p[0] == '.' && p[1] == '/') {
		p += 2;
		while (*p == '/')
			p++;
	}
	return p;
}

/* mkdir every parent of rel under dest. */
static int make_parents(const char *dest, const char *rel, char *err, size_t errlen)
{
	char path[PATH_MAX];
	size_t base = strlen(dest);
	if (snprintf(path, sizeof(path), "%s/%s", dest, rel) >= (int)sizeof(path)) {
		snprintf(err, errlen, "entry \"%s\": path too long", rel);
		return -1;
	}
	for (char *p = path + base + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "entry \"%s\": mkdir: %s", rel, strerror(errno));
			return -1;
		}
		*p = '/';
	}
	return 0;
}

static int write_regular(struct launch_tar *a, const char *full, const char *rel, mode_t mode,
                         uint64_t *total, const struct launch_unpack_limits *lim, char *err,
                         size_t errlen)
{
	int rv = -1;
	char buf[65536];
	int fd =
	    open(full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode & 0755) | 0600);
	if (fd < 0) {
		snprintf(err, errlen, "entry \"%s\": %s", rel, strerror(errno));
		return -1;
	}
	for (;;) {
		char why[256];
		ssize_t n = launch_tar_read(a, buf, sizeof(buf), why, sizeof(why));
		if (n < 0) {
			snprintf(err, errlen, "entry \"%s\": %s", rel, why);
			goto fail;
		}
		if (n == 0)
			break;
		*total += (uint64_t)n;
		if (*total > lim->max_total_bytes) {
			snprintf(err, errlen, "entry \"%s\": archive holds more than %llu bytes",
			         rel, (unsigned long long)lim->max_total_bytes);
			goto fail;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				snprintf(err, errlen, "entry \"%s\": write: %s", rel,
				         strerror(errno));
				goto fail;
			}
			off += w;
		}
	}
	rv = 0;
fail:
	if (close(fd) < 0 && rv == 0) {
		snprintf(err, errlen, "entry \"%s\": close: %s", rel, strerror(errno));
		rv = -1;
	}
	return rv;
}

static int link_target_safe(const char *t)
{
	return t && rel_path_safe(skip_dot_slash(t));
}

static int unpack_entry(struct launch_tar *a, const struct launch_tar_entry *e, const char *dest,
                        uint64_t *total, const struct launch_unpack_limits *lim, char *err,
                        size_t errlen)
{
	const char *raw = e->path;
	char full[PATH_MAX], target[PATH_MAX];
	if (!raw) {
		snprintf(err, errlen, "an entry has no name");
		return -1;
	}
	const char *rel = skip_dot_slash(raw);
	if (strlen(raw) > lim->max_path_bytes) {
		snprintf(err, errlen, "entry \"%.64s...\": path longer than %zu bytes", raw,
		         lim->max_path_bytes);
		return -1;
	}
	if (*rel == '\0' || !strcmp(rel, ".") || !strcmp(rel, "./"))
		return 0; /* the top directory itself */
	if (!rel_path_safe(rel)) {
		snprintf(err, errlen, "entry \"%s\": %s", raw,
		         *rel == '/' ? "absolute path" : "path contains \"..\"");
		return -1;
	}
	if (snprintf(full, sizeof(full), "%s/%s", dest, rel) >= (int)sizeof(full)) {
		snprintf(err, errlen, "entry \"%s\": path too long", raw);
		return -1;
	}
	size_t fl = strlen(full);
	while (fl > 0 && full[fl - 1] == '/')
		full[--fl] = '\0';
	if (make_parents(dest, rel, err, errlen) < 0)
		return -1;

	const char *hard = e->type == LAUNCH_TAR_HARDLINK ? e->link : NULL;
	if (hard) {
		if (!link_target_safe(hard)) {
			snprintf(err, errlen,
			         "entry \"%s\": hard link to \"%s\" leaves the directory", raw,
			         hard);
			return -1;
		}
		snprintf(target, sizeof(target), "%s/%s", dest, skip_dot_slash(hard));
		if (link(target, full) < 0) {
			snprintf(err, errlen, "entry \"%s\": hard link to \"%s\": %s", raw, hard,
			         strerror(errno));
			return -1;
		}
		return 0;
	}
	switch (e->type) {
	case LAUNCH_TAR_FILE:
		if (e->size > lim->max_total_bytes - *total) {
			snprintf(err, errlen, "entry \"%s\": archive holds more than %llu bytes",
			         raw, (unsigned long long)lim->max_total_bytes);
			return -1;
		}
		return write_regular(a, full, raw, (mode_t)e->mode, total, lim, err, errlen);
	case LAUNCH_TAR_DIR:
		if (mkdir(full, 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "entry \"%s\": mkdir: %s", raw, strerror(errno));
			return -1;
		}
		return 0;
	case LAUNCH_TAR_SYMLINK: {
		const char *t = e->link;
		if (!link_target_safe(t)) {
			snprintf(err, errlen,
			         "entry \"%s\": symlink to \"%s\" leaves the directory", raw,
			         t ? t : "");
			return -1;
		}
		if (symlink(t, full) < 0) {
			snprintf(err, errlen, "entry \"%s\": symlink: %s", raw, strerror(errno));
			return -1;
		}
		return 0;
	}
	default:
		snprintf(err, errlen, "entry \"%s\": devices, fifos and sockets are not allowed",
		         raw);
		return -1;
	}
}

int launch_unpack(const void *data, size_t len, const char *dest,
                  const struct launch_unpack_limits *limits, char *err, size_t errlen)
{
	int rv = -1;
	uint64_t total = 0;
	size_t entries = 0;
	struct launch_tar_entry e;
	struct launch_unpack_limits lim = limits ? *limits : launch_unpack_default_limits();
	char sub[1024];
	struct launch_tar *a = launch_tar_open(data, len, sub, sizeof(sub));
	if (!a) {
		snprintf(err, errlen, "model definition: %s", sub);
		return -1;
	}
	if (mkdir(dest, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "model definition: mkdir %s: %s", dest, strerror(errno));
		goto fail;
	}
	for (;;) {
		int r = launch_tar_next(a, &e, sub, sizeof(sub));
		if (r == 0)
			break;
		if (r < 0) {
			snprintf(err, errlen, "model definition: %s", sub);
			goto fail;
		}
		if (++entries > lim.max_entries) {
			snprintf(err, errlen, "model definition: more than %zu entries",
			         lim.max_entries);
			goto fail;
		}
		if (unpack_entry(a, &e, dest, &total, &lim, sub, sizeof(sub)) < 0) {
			snprintf(err, errlen, "model definition: %s", sub);
			goto fail;
		}
	}
	rv = 0;
fail:
	launch_tar_free(a);
	return rv;
}
