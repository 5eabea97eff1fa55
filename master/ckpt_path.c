/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The checkpoint directory rule, in one place: an experiment's checkpoints
 * and TensorBoard files live in <host_path>[/<storage_path>], which must be
 * absolute, free of "..", and (resolved) under one of the storage roots the
 * admin configured (storage_roots, "~" meaning the owner's home) or the
 * master's own default host_path.
 * Non-obvious decision: a directory that does not exist yet is judged by the
 * realpath of its deepest existing ancestor, so a symlink anywhere on the
 * existing part is followed before the comparison; a dangling symlink on the
 * way is refused rather than guessed at. Roots are resolved the same way. The check runs with the
 * caller's credentials: the master runs it in a child that has become the owner.
 */
#include "ckpt_path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Does path have a ".." component? */
static int has_dotdot(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2) {
		int starts = p == path || p[-1] == '/';
		int ends = p[2] == '\0' || p[2] == '/';
		if (starts && ends)
			return 1;
	}
	return 0;
}

int ckpt_path_dir(const json_t *config, const json_t *default_cs, char *out, size_t outlen,
                  char *err, size_t errlen)
{
	const json_t *cs = json_object_get(config, "checkpoint_storage");
	const json_t *hv = json_object_get(cs, "host_path");
	const json_t *sv = json_object_get(cs, "storage_path");
	const char *key = "checkpoint_storage.host_path";
	const char *host, *sub = NULL;
	int rv = -1;

	if (!hv) {
		hv = json_object_get(default_cs, "host_path");
		key = "the master's checkpoint_storage.host_path";
	}
	host = json_string_value(hv);
	if (!host || !*host) {
		snprintf(err, errlen, "%s: expected a path", key);
		goto fail;
	}
	if (host[0] != '/') {
		snprintf(err, errlen, "%s: %s is not an absolute path", key, host);
		goto fail;
	}
	if (has_dotdot(host)) {
		snprintf(err, errlen, "%s: %s has a '..' component", key, host);
		goto fail;
	}
	if (sv && !json_is_null(sv)) {
		sub = json_string_value(sv);
		if (!sub) {
			snprintf(err, errlen, "checkpoint_storage.storage_path: expected a path");
			goto fail;
		}
		if (has_dotdot(sub)) {
			snprintf(err, errlen,
			         "checkpoint_storage.storage_path: %s has a '..' component", sub);
			goto fail;
		}
	}
	int n = snprintf(out, outlen, "%s%s%s", host, sub ? "/" : "", sub ? sub : "");
	if (n < 0 || (size_t)n >= outlen || (size_t)n >= PATH_MAX) {
		snprintf(err, errlen, "%s: the checkpoint directory is too long", key);
		goto fail;
	}
	rv = 0;
fail:
	return rv;
}

json_t *ckpt_path_roots(const json_t *storage_roots, const char *default_host, const char *home)
{
	json_t *out = json_array();
	size_t i;
	json_t *v;

	if (!out)
		return NULL;
	json_array_foreach (storage_roots, i, v) {
		const char *r = json_string_value(v);
		json_t *s = NULL;
		if (!r)
			continue;
		if (r[0] == '~' && (r[1] == '\0' || r[1] == '/')) {
			if (!home || home[0] != '/')
				continue;
			char buf[PATH_MAX];
			int n = snprintf(buf, sizeof(buf), "%s%s", home, r + 1);
			if (n < 0 || (size_t)n >= sizeof(buf))
				continue;
			s = json_string(buf);
		} else {
			s = json_string(r);
		}
		if (!s || json_array_append_new(out, s))
			goto nomem;
	}
	if (default_host && json_array_append_new(out, json_string(default_host)))
		goto nomem;
	return out;
nomem:
	json_decref(out);
	return NULL;
}

/* The realpath of dir's deepest existing ancestor, followed by the rest of dir. */
static int resolve(const char *dir, char *out, size_t outlen, char *err, size_t errlen)
{
	char head[PATH_MAX], real[PATH_MAX];
	const char *rest = "";
	struct stat st;
	int rv = -1;

	snprintf(head, sizeof(head), "%s", dir);
	for (;;) {
		if (realpath(head, real))
			break;
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", head, strerror(errno));
			goto fail;
		}
		if (lstat(head, &st) == 0) {
			snprintf(err, errlen, "%s: a symbolic link to nothing", head);
			goto fail;
		}
		char *slash = strrchr(head, '/');
		if (!slash || slash == head) { /* "/x" missing: "/" always exists */
			snprintf(err, errlen, "%s: cannot be resolved", dir);
			goto fail;
		}
		*slash = '\0';
		rest = dir + (slash - head);
	}
	int n = snprintf(out, outlen, "%s%s", strcmp(real, "/") ? real : "", rest);
	if (n < 0 || (size_t)n >= outlen) {
		snprintf(err, errlen, "%s: too long once resolved", dir);
		goto fail;
	}
	if (!*out)
		snprintf(out, outlen, "/");
	rv = 0;
fail:
	return rv;
}

/* Is path equal to root or below it (both resolved)? */
static int under(const char *path, const char *root)
{
	size_t n = strlen(root);
	if (!strcmp(root, "/"))
		return 1;
	return !strncmp(path, root, n) && (path[n] == '\0' || path[n] == '/');
}

int ckpt_path_confined(const char *dir, const json_t *roots, char *real_out, char *err,
                       size_t errlen)
{
	char real[PATH_MAX], root[PATH_MAX];
	size_t i;
	json_t *v;
	int rv = -1;

	if (!dir || dir[0] != '/' || has_dotdot(dir)) {
		snprintf(err, errlen, "%s: expected an absolute path without '..'", dir ? dir : "");
		goto fail;
	}
	if (resolve(dir, real, sizeof(real), err, errlen))
		goto fail;
	json_array_foreach (roots, i, v) {
		const char *r = json_string_value(v);
		char why[64];
		/* A root that does not exist yet (the default one) is resolved like dir. */
		if (r && r[0] == '/' && !has_dotdot(r) &&
		    resolve(r, root, sizeof(root), why, sizeof(why)) == 0 && under(real, root)) {
			if (real_out)
				memcpy(real_out, real, strlen(real) + 1);
			rv = 0;
			goto fail;
		}
	}
	int n = snprintf(err, errlen, "%s%s%s%s is outside the storage roots (", dir,
	                 strcmp(dir, real) ? " (resolves to " : "", strcmp(dir, real) ? real : "",
	                 strcmp(dir, real) ? ")" : "");
	json_array_foreach (roots, i, v) {
		if (n < 0 || (size_t)n >= errlen)
			break;
		n += snprintf(err + n, errlen - (size_t)n, "%s%s", i ? ", " : "",
		              json_string_value(v));
	}
	if (n >= 0 && (size_t)n < errlen)
		snprintf(err + n, errlen - (size_t)n, ")");
fail:
	return rv;
}
