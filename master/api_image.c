/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det image: import (a tarball the calling user can read, read as that user),
 * list, remove; and image names resolved to digests when an experiment is
 * created. Names live in the store (images table), tarballs in the image
 * cache (image_cache.c). Who may: any user imports and lists; removing or
 * replacing a name is its importer's or an admin's (authz.c).
 * Non-obvious: the import is slow (hash and check of a large file) and runs
 * with no lock held; the name is written after the file is in place, so a
 * name never points at a missing or half-written tarball.
 */
#include "api.h"
#include "api_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authz.h"
#include "ckpt_owner.h"
#include "expconf.h"
#include "image_cache.h"
#include "master_config.h"
#include "store.h"

/* The images row named name (new reference), NULL when none (err empty) or on error. */
static json_t *image_row(struct app *a, const char *name, char *err, size_t errlen)
{
	json_t *rows = store_load_table(a->store, "images", err, errlen), *row, *found = NULL;
	size_t i;

	err[0] = rows ? '\0' : err[0];
	json_array_foreach (rows, i, row) {
		if (!strcmp(json_string_value(json_object_get(row, "name")) ?: "", name))
			found = json_incref(row);
	}
	json_decref(rows);
	return found;
}

/* A name det image accepts: an image reference that is not a digest. */
static int name_ok(const char *name)
{
	return name && expconf_image_ref_ok(name) && strncmp(name, "sha256:", 7);
}

/* May the caller replace or remove (verb) image row? 1, or 0 with a 403 in rep. */
static int may_change(struct api_call *c, struct http_reply *rep, const json_t *row,
                      const char *name, const char *verb)
{
	if (authz_allowed(&c->who, AUTHZ_IMAGE_REMOVE,
	                  json_integer_value(json_object_get(row, "owner_id"))))
		return 1;
	api_error(rep, 403,
	          "image %s was imported by another user: only they or an admin may %s it", name,
	          verb);
	return 0;
}

void api_image_import(struct app *a, struct api_call *c, struct http_reply *rep)
{
	const char *name = json_string_value(json_object_get(c->body, "name"));
	const char *path = json_string_value(json_object_get(c->body, "path"));
	char err[1024], hex[SHA256_HEX_BYTES];
	struct ckpt_owner o;
	uint64_t size = 0;
	json_t *old = NULL, *row = NULL;
	int fd = -1;

	if (!name_ok(name)) {
		api_error(rep, 400,
		          "name: expected an image name (letters, digits and ._-:/, no \"..\", "
		          "not sha256:...)");
		goto out;
	}
	if (!path || path[0] != '/' || strlen(path) >= PATH_MAX) {
		api_error(rep, 400, "path: expected the absolute path of a tarball or directory");
		goto out;
	}
	old = image_row(a, name, err, sizeof(err));
	if (!old && err[0]) {
		api_error(rep, 503, "%s", err);
		goto out;
	}
	if (old && !may_change(c, rep, old, name, "replace"))
		goto out;
	/* the file is opened as the caller: a file they cannot read is refused */
	if (geteuid() == 0 && c->who.uid < 0) {
		api_error(rep, 403,
		          "user %s has no Unix account: the tarball is read as the "
		          "calling Unix user",
		          c->who.name);
		goto out;
	}
	if (ckpt_owner_lookup(c->who.uid, &o, err, sizeof(err))) {
		api_error(rep, 403, "%s", err);
		goto out;
	}
	fd = ckpt_owner_open_read(&o, path, 1, err, sizeof(err));
	if (fd < 0) {
		api_error(rep, 403, "cannot read %s as uid %u: %s", path, (unsigned)o.uid, err);
		goto out;
	}
	if (image_cache_import(a->cfg->image_cache_dir, fd, (uint64_t)a->cfg->image_max_mib << 20,
	                       hex, &size, err, sizeof(err))) {
		api_error(rep, 400, "%s: %s; nothing was imported", path, err);
		goto out;
	}
	row = json_pack("{s:s, s:s, s:I, s:I, s:f}", "name", name, "digest", hex, "owner_id",
	                (json_int_t)c->who.user_id, "size_bytes", (json_int_t)size, "created_at",
	                app_now());
	struct store_op op = {.kind = STORE_PUT, .table = "images", .row = row};
	if (!row || store_write(a->store, &op, 1, err, sizeof(err))) {
		api_error(rep, row ? 503 : 500, "%s", row ? err : "out of memory");
		goto out;
	}
	log_msg(&a->log, LOG_LEVEL_INFO, "user %s imported image %s (sha256:%s, %llu bytes)",
	        c->who.name, name, hex, (unsigned long long)size);
	api_json(rep, 201,
	         json_pack("{s:s, s:s+, s:I}", "name", name, "digest", "sha256:", hex, "size_bytes",
	                   (json_int_t)size));
out:
	if (fd >= 0)
		close(fd);
	json_decref(old);
	json_decref(row);
}

/* The det user name of id, "" when unknown (lock held). */
static const char *user_name_locked(struct app *a, json_int_t id)
{
	const char *k;
	json_t *u;
	json_object_foreach (a->users, k, u) {
		if (json_integer_value(json_object_get(u, "id")) == id)
			return k;
	}
	return "";
}

void api_image_list(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[512];
	json_t *rows = store_load_table(a->store, "images", err, sizeof(err)), *row, *out;
	size_t i;

	(void)c;
	if (!rows) {
		api_error(rep, 503, "%s", err);
		return;
	}
	out = json_array();
	pthread_mutex_lock(&a->lock);
	json_array_foreach (rows, i, row) {
		const char *hex = json_string_value(json_object_get(row, "digest"));
		json_array_append_new(
		    out,
		    json_pack(
		        "{s:O, s:s+, s:O, s:s, s:O, s:O}", "name", json_object_get(row, "name"),
		        "digest", "sha256:", hex ? hex : "", "owner_id",
		        json_object_get(row, "owner_id"), "owner",
		        user_name_locked(a, json_integer_value(json_object_get(row, "owner_id"))),
		        "size_bytes", json_object_get(row, "size_bytes"), "created_at",
		        json_object_get(row, "created_at")));
	}
	pthread_mutex_unlock(&a->lock);
	json_decref(rows);
	api_json(rep, 200, json_pack("{s:o}", "images", out ? out : json_array()));
}

void api_image_remove(struct app *a, struct api_call *c, struct http_reply *rep)
{
	const char *name = http_request_arg(c->req, "name");
	char err[512];
	json_t *row = NULL, *rows = NULL, *r;
	size_t i;

	if (!name_ok(name)) {
		api_error(rep, 400, "name: expected an image name (?name=NAME)");
		return;
	}
	row = image_row(a, name, err, sizeof(err));
	if (!row) {
		api_error(rep, err[0] ? 503 : 404, "%s", err[0] ? err : "no image of that name");
		return;
	}
	if (!may_change(c, rep, row, name, "remove"))
		goto out;
	struct store_op op = {.kind = STORE_DELETE, .table = "images", .row = row};
	if (store_write(a->store, &op, 1, err, sizeof(err))) {
		api_error(rep, 503, "%s", err);
		goto out;
	}
	/* the tarball goes with the last name that maps to it */
	const char *hex = json_string_value(json_object_get(row, "digest"));
	int used = 0;
	rows = store_load_table(a->store, "images", err, sizeof(err));
	json_array_foreach (rows, i, r) {
		used |= !strcmp(json_string_value(json_object_get(r, "digest")) ?: "", hex);
	}
	if (rows && !used && image_cache_remove(a->cfg->image_cache_dir, hex, err, sizeof(err)))
		log_msg(&a->log, LOG_LEVEL_WARN, "image %s: %s", name, err);
	log_msg(&a->log, LOG_LEVEL_INFO, "user %s removed image %s", c->who.name, name);
	api_json(rep, 200, json_pack("{s:s, s:s+}", "name", name, "digest", "sha256:", hex));
out:
	json_decref(row);
	json_decref(rows);
}

int image_resolve(struct app *a, json_t *conf, char *err, size_t errlen)
{
	json_t *env = json_object_get(conf, "environment");
	json_t *image = json_object_get(env, "image"), *digests = NULL, *rows = NULL, *v, *r;
	const char *slot;
	char path[PATH_MAX];
	size_t i;
	int rv = -1;

	if (!json_object_size(image))
		return 0;
	rows = store_load_table(a->store, "images", err, errlen);
	digests = json_object();
	if (!rows || !digests)
		goto fail;
	json_object_foreach (image, slot, v) {
		const char *ref = json_string_value(v), *hex = NULL;
		if (ref && !strncmp(ref, "sha256:", 7)) {
			hex = ref + 7;
		} else {
			json_array_foreach (rows, i, r) {
				if (!strcmp(json_string_value(json_object_get(r, "name")) ?: "",
				            ref))
					hex = json_string_value(json_object_get(r, "digest"));
			}
		}
		if (!hex || image_cache_path(a->cfg->image_cache_dir, hex, path, sizeof(path)) ||
		    access(path, R_OK)) {
			snprintf(
			    err, errlen,
			    "environment.image: no image \"%s\" (slot type %s) in the image cache; "
			    "import it with det image import TARBALL NAME (det image list shows "
			    "them)",
			    ref, slot);
			goto fail;
		}
		json_object_set_new(digests, slot, json_string(hex));
	}
	if (json_object_set(env, "image_digest", digests))
		goto fail;
	rv = 0;
fail:
	json_decref(rows);
	json_decref(digests);
	return rv;
}
