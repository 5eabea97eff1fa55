/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libdetcore checkpoints. A checkpoint is written into a fresh temporary
 * directory ".tmp-<uuid>" under the checkpoint directory; commit checksums
 * every file (size + SHA-256), writes metadata.json with that list, renames
 * the directory to "<uuid>" and registers it (on-cluster: POST checkpoints;
 * off-cluster metadata.json is the registry). Restore verifies every listed
 * file against the registry before handing out the path.
 * Non-obvious: the rename is the commit point, so a crash mid-write leaves
 * only a ".tmp-" directory that no one ever restores from. Such leftovers are
 * removed by the next det_core_init in the same checkpoint directory, as the
 * trial's user: a writer holds flock() on ".tmp-<uuid>.lock" beside its
 * directory for as long as it writes, so a lock that can be taken means its
 * writer is gone (on any node; NFS carries flock as a POSIX lock). A ".tmp-"
 * directory without a lock file (older det-launch) goes once a day old.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core_internal.h"
#include "sha256.h"

#define CKPT_MAX_FILES 100000
#define CKPT_MAX_DEPTH 32
#define CKPT_UNLOCKED_TMP_MAX_AGE_S (24 * 3600)

struct det_core_ckpt {
	char uuid[DET_CORE_UUID_BYTES];
	char tmp_path[PATH_MAX];
	char final_path[PATH_MAX];
	char lock_path[PATH_MAX];
	int lock_fd; /* flock held while the directory is written */
};

static int make_uuid(char out[DET_CORE_UUID_BYTES], char *err, size_t errlen)
{
	uint8_t b[16];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, DET_CORE_UUID_BYTES,
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
	         b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
	         b[15]);
	return 0;
}

/* A uuid is 36 characters of hex and dashes: safe as a path component. */
static int uuid_valid(const char *u)
{
	if (strlen(u) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? u[i] != '-' : !strchr("0123456789abcdefABCDEF", u[i]))
			return 0;
	}
	return 1;
}

struct det_core_ckpt *det_core_checkpoint_begin(struct det_core *core, char *err, size_t errlen)
{
	struct det_core_ckpt *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->lock_fd = -1;
	if (make_uuid(c->uuid, err, errlen) < 0)
		goto fail;
	if (snprintf(c->tmp_path, sizeof(c->tmp_path), "%s/.tmp-%s", core->checkpoint_dir,
	             c->uuid) >= (int)sizeof(c->tmp_path) ||
	    snprintf(c->lock_path, sizeof(c->lock_path), "%s.lock", c->tmp_path) >=
	        (int)sizeof(c->lock_path) ||
	    snprintf(c->final_path, sizeof(c->final_path), "%s/%s", core->checkpoint_dir,
	             c->uuid) >= (int)sizeof(c->final_path)) {
		snprintf(err, errlen, "checkpoint directory path too long");
		goto fail;
	}
	if (det_core_mkdirs(core->checkpoint_dir, err, errlen) < 0)
		goto fail;
	/* The lock first: a sweeper never sees the directory without it. */
	c->lock_fd = open(c->lock_path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (c->lock_fd < 0) { /* names the directory: it becomes the trial's end reason */
		snprintf(err, errlen, "checkpoint directory %s: %s", core->checkpoint_dir,
		         strerror(errno));
		goto fail;
	}
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, errlen, "lock %s: %s", c->lock_path, strerror(errno));
		goto fail;
	}
	if (mkdir(c->tmp_path, 0755) < 0) {
		snprintf(err, errlen, "mkdir %s: %s", c->tmp_path, strerror(errno));
		goto fail;
	}
	return c;
fail:
	if (c->lock_fd >= 0) {
		unlink(c->lock_path);
		close(c->lock_fd);
	}
	free(c);
	return NULL;
}

/* The directory is renamed or removed: drop its lock file, then the lock. */
static void ckpt_unlock(struct det_core_ckpt *c)
{
	if (c->lock_fd < 0)
		return;
	unlink(c->lock_path);
	close(c->lock_fd);
	c->lock_fd = -1;
}

const char *det_core_ckpt_path(const struct det_core_ckpt *ckpt)
{
	return ckpt->tmp_path;
}

/* rm -r that never follows symlinks. */
static void remove_tree(const char *path, int depth)
{
	struct stat st;
	if (depth > CKPT_MAX_DEPTH || lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		char child[PATH_MAX];
		while (d && (e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if (snprintf(child, sizeof(child), "%s/%s", path, e->d_name) <
			    (int)sizeof(child))
				remove_tree(child, depth + 1);
		}
		if (d)
			closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

void det_core_checkpoint_abort(struct det_core_ckpt *ckpt)
{
	if (!ckpt)
		return;
	remove_tree(ckpt->tmp_path, 0);
	ckpt_unlock(ckpt);
	free(ckpt);
}

/* Remove dir/name (".tmp-<uuid>" or its ".lock") when its writer is gone. */
static void sweep_one(const char *dir, const char *name, time_t now)
{
	char tmp[PATH_MAX], lock[PATH_MAX], uuid[DET_CORE_UUID_BYTES];
	size_t n = strlen(name);
	struct stat st;
	int fd = -1;

	if (n > 5 && !strcmp(name + n - 5, ".lock"))
		n -= 5;
	if (n != 5 + 36 || strncmp(name, ".tmp-", 5))
		return;
	memcpy(uuid, name + 5, 36);
	uuid[36] = '\0';
	if (!uuid_valid(uuid) ||
	    snprintf(tmp, sizeof(tmp), "%s/.tmp-%s", dir, uuid) >= (int)sizeof(tmp) ||
	    snprintf(lock, sizeof(lock), "%s.lock", tmp) >= (int)sizeof(lock))
		return;
	fd = open(lock, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		/* no lock: an older writer's directory, removed once it is old */
		if (errno == ENOENT && lstat(tmp, &st) == 0 && S_ISDIR(st.st_mode) &&
		    st.st_uid == geteuid() && now - st.st_mtime > CKPT_UNLOCKED_TMP_MAX_AGE_S)
			remove_tree(tmp, 0);
		return;
	}
	if (fstat(fd, &st) == 0 && st.st_uid == geteuid() && flock(fd, LOCK_EX | LOCK_NB) == 0) {
		remove_tree(tmp, 0);
		unlink(lock);
	}
	close(fd);
}

void det_core_ckpt_sweep(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	time_t now = time(NULL);

	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, ".tmp-", 5))
			sweep_one(dir, e->d_name, now);
	if (d)
		closedir(d);
}

/* Append every regular file under root/rel to files (sorted per directory). */
static int list_files(const char *root, const char *rel, int depth, json_t *files, char *err,
                      size_t errlen)
{
	int rv = -1;
	char dir[PATH_MAX], full[PATH_MAX], sub[PATH_MAX];
	struct dirent **names = NULL;
	int n = 0;
	if (depth > CKPT_MAX_DEPTH) {
		snprintf(err, errlen, "%s/%s: directories nested too deep", root, rel);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s%s%s", root, *rel ? "/" : "", rel);
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		struct stat st;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		if (depth == 0 && !strcmp(name, "metadata.json"))
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", name) >=
		        (int)sizeof(sub) ||
		    snprintf(full, sizeof(full), "%s/%s", root, sub) >= (int)sizeof(full)) {
			snprintf(err, errlen, "%s/%s: path too long", dir, name);
			goto fail;
		}
		if (lstat(full, &st) < 0) {
			snprintf(err, errlen, "%s: %s", full, strerror(errno));
			goto fail;
		}
		if (S_ISDIR(st.st_mode)) {
			if (list_files(root, sub, depth + 1, files, err, errlen) < 0)
				goto fail;
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen,
			         "%s: only regular files and directories may be checkpointed",
			         full);
			goto fail;
		}
		if (json_array_size(files) >= CKPT_MAX_FILES) {
			snprintf(err, errlen, "checkpoint has more than %d files", CKPT_MAX_FILES);
			goto fail;
		}
		char hex[SHA256_HEX_BYTES];
		uint64_t size;
		if (sha256_file_hex(full, hex, &size, err, errlen) < 0)
			goto fail;
		if (json_array_append_new(files, json_pack("{s:s, s:I, s:s}", "path", sub, "size",
		                                           (json_int_t)size, "sha256", hex)) < 0) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	rv = 0;
fail:
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rv;
}

static int write_metadata(const char *dir, json_t *record, char *err, size_t errlen)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/metadata.json", dir);
	if (json_dump_file(record, path, JSON_INDENT(2) | JSON_SORT_KEYS) < 0) {
		snprintf(err, errlen, "%s: cannot write", path);
		return -1;
	}
	return 0;
}

int det_core_checkpoint_commit(struct det_core *core, struct det_core_ckpt *ckpt,
                               int64_t steps_completed, const char *metadata_json,
                               char uuid[DET_CORE_UUID_BYTES], char *err, size_t errlen)
{
	int rv = -1;
	json_t *meta = NULL, *files = NULL, *record = NULL;
	json_error_t jerr;
	if (metadata_json) {
		meta = json_loads(metadata_json, JSON_REJECT_DUPLICATES, &jerr);
		if (!meta || !json_is_object(meta)) {
			snprintf(err, errlen, "checkpoint metadata: not a JSON object");
			goto fail;
		}
	} else {
		meta = json_object();
	}
	files = json_array();
	if (!meta || !files) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (steps_completed < 0) {
		snprintf(err, errlen, "steps_completed %lld: negative", (long long)steps_completed);
		goto fail;
	}
	if (list_files(ckpt->tmp_path, "", 0, files, err, errlen) < 0)
		goto fail;
	record = json_pack("{s:s, s:I, s:O, s:O}", "uuid", ckpt->uuid, "steps_completed",
	                   (json_int_t)steps_completed, "metadata", meta, "files", files);
	if (!record) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (write_metadata(ckpt->tmp_path, record, err, errlen) < 0)
		goto fail;
	if (rename(ckpt->tmp_path, ckpt->final_path) < 0) {
		snprintf(err, errlen, "rename %s -> %s: %s", ckpt->tmp_path, ckpt->final_path,
		         strerror(errno));
		goto fail;
	}
	ckpt_unlock(ckpt);
	if (!det_core_off_cluster(core)) {
		json_t *b = record;
		record = NULL;
		if (det_core_remote_post(core, "checkpoints", b, NULL, err, errlen) < 0)
			goto fail; /* the directory stays: a registered-later retry can find it */
	}
	memcpy(uuid, ckpt->uuid, DET_CORE_UUID_BYTES);
	free(core->latest_checkpoint);
	core->latest_checkpoint = strdup(ckpt->uuid);
	rv = 0;
fail:
	if (rv < 0)
		remove_tree(ckpt->tmp_path, 0);
	ckpt_unlock(ckpt);
	free(ckpt);
	json_decref(meta);
	json_decref(files);
	json_decref(record);
	return rv;
}

/* Check one registry entry against the file on disk. */
static int verify_file(const char *dir, json_t *entry, char *err, size_t errlen)
{
	const char *rel = json_string_value(json_object_get(entry, "path"));
	const char *want = json_string_value(json_object_get(entry, "sha256"));
	json_t *size = json_object_get(entry, "size");
	char full[PATH_MAX], hex[SHA256_HEX_BYTES];
	uint64_t got;
	if (!rel || !want || !json_is_integer(size) || rel[0] == '/' || strstr(rel, "..")) {
		snprintf(err, errlen, "checkpoint registry: malformed file entry");
		return -1;
	}
	if (snprintf(full, sizeof(full), "%s/%s", dir, rel) >= (int)sizeof(full)) {
		snprintf(err, errlen, "%s/%s: path too long", dir, rel);
		return -1;
	}
	if (sha256_file_hex(full, hex, &got, err, errlen) < 0)
		return -1;
	if ((json_int_t)got != json_integer_value(size)) {
		snprintf(err, errlen, "%s: size %llu, registered %lld", full,
		         (unsigned long long)got, (long long)json_integer_value(size));
		return -1;
	}
	if (strcasecmp(hex, want) != 0) {
		snprintf(err, errlen, "%s: SHA-256 %s does not match the registered %.64s", full,
		         hex, want);
		return -1;
	}
	return 0;
}

static json_t *load_registry(struct det_core *core, const char *uuid, const char *dir, char *err,
                             size_t errlen)
{
	json_t *rec = NULL;
	if (det_core_off_cluster(core)) {
		char path[PATH_MAX + 16];
		json_error_t jerr;
		snprintf(path, sizeof(path), "%s/metadata.json", dir);
		rec = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
		if (!rec)
			snprintf(err, errlen, "checkpoint %s: %s: %s", uuid, path, jerr.text);
	} else {
		char api[128];
		snprintf(api, sizeof(api), "/checkpoints/%s", uuid);
		if (det_core_remote_get(core, api, &rec, err, errlen) < 0)
			rec = NULL;
	}
	if (rec && !json_is_array(json_object_get(rec, "files"))) {
		snprintf(err, errlen, "checkpoint %s: registry has no file list", uuid);
		json_decref(rec);
		rec = NULL;
	}
	return rec;
}

int det_core_checkpoint_restore(struct det_core *core, const char *uuid, char *path, size_t pathlen,
                                char *err, size_t errlen)
{
	int rv = -1;
	char dir[PATH_MAX];
	json_t *rec = NULL, *entry;
	size_t i;
	if (!uuid || !uuid_valid(uuid)) {
		snprintf(err, errlen, "checkpoint id \"%.40s\": not a uuid", uuid ? uuid : "");
		return -1;
	}
	if (snprintf(dir, sizeof(dir), "%s/%s", core->checkpoint_dir, uuid) >= (int)sizeof(dir)) {
		snprintf(err, errlen, "checkpoint path too long");
		return -1;
	}
	rec = load_registry(core, uuid, dir, err, errlen);
	if (!rec)
		goto fail;
	json_array_foreach (json_object_get(rec, "files"), i, entry) {
		if (verify_file(dir, entry, err, errlen) < 0)
			goto fail;
	}
	if (snprintf(path, pathlen, "%s", dir) >= (int)pathlen) {
		snprintf(err, errlen, "checkpoint path longer than the caller's buffer");
		goto fail;
	}
	rv = 0;
fail:
	json_decref(rec);
	return rv;
}
