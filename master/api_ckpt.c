/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GET /api/v1/checkpoints/{uuid}/download: a checkpoint directory as a tar
 * archive, for the web UI's download link. Authorised like reading the
 * experiment (others get 404, as for GET /checkpoints/{uuid}); the archive is
 * made by ckpt_owner_tar in a child that has become the experiment's owner, so
 * only what that user may read is packed, no symlink is followed, and the
 * limits.checkpoint_download_* bounds hold. The archive lies in an unlinked
 * temporary file that libmicrohttpd streams to the client.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_internal.h"
#include "authz.h"
#include "ckpt_owner.h"
#include "ckpt_path.h"
#include "exp.h"
#include "workspace.h"

/* The HTTP status for a failed archive (err from ckpt_owner_tar). */
static int tar_status(const char *err)
{
	if (strstr(err, "over the download limit"))
		return 413;
	if (strstr(err, strerror(ENOENT)))
		return 410; /* registered, but its directory is gone */
	return 403;
}

void api_checkpoint_download(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[1024], dir[PATH_MAX];
	struct ckpt_owner o;
	struct stat st;
	unsigned long long skipped = 0;
	long uid = -1;
	int fd = -1;
	const struct master_limits *m = &a->cfg->limits;
	struct ckpt_tar_limits lim = {
	    .max_bytes = (uint64_t)m->checkpoint_download_max_mib << 20,
	    .max_entries = m->checkpoint_download_max_entries,
	};
	json_t *row = store_checkpoint(a->store, c->uuid, err, sizeof(err));

	if (!row) {
		api_error(rep, err[0] ? 500 : 404, "%s", err[0] ? err : "checkpoint not found");
		goto out;
	}
	if (workspace_exp_access(a, &c->who,
	                         json_integer_value(json_object_get(row, "experiment_id")),
	                         AUTHZ_EXP_READ) != EXP_OK) {
		api_error(rep, 404, "checkpoint not found");
		goto out;
	}
	const char *state = json_string_value(json_object_get(row, "state"));
	if (!state || strcmp(state, "COMPLETED")) {
		api_error(rep, 409,
		          "checkpoint %s is %s: only a completed checkpoint is downloaded", c->uuid,
		          state ? state : "in no state");
		goto out;
	}
	if (exp_trial_storage(a, json_integer_value(json_object_get(row, "trial_id")), NULL, &uid,
	                      dir, sizeof(dir), err, sizeof(err))) {
		api_error(rep, 409, "checkpoint %s: %s", c->uuid, err);
		goto out;
	}
	if (ckpt_owner_lookup(uid, &o, err, sizeof(err))) {
		api_error(rep, 403, "checkpoint %s: %s", c->uuid, err);
		goto out;
	}
	fd = ckpt_owner_tar(
	    &o, a->cfg->storage_roots,
	    json_string_value(json_object_get(a->cfg->checkpoint_storage, "host_path")), dir,
	    c->uuid, &lim, &skipped, err, sizeof(err));
	if (fd < 0) {
		api_error(rep, tar_status(err), "checkpoint %s, read as uid %u: %s", c->uuid,
		          (unsigned)o.uid, err);
		goto out;
	}
	if (fstat(fd, &st) || st.st_size <= 0) {
		api_error(rep, 500, "checkpoint %s: the archive: %s", c->uuid, strerror(errno));
		goto out;
	}
	free(rep->body);
	rep->body = NULL;
	rep->len = 0;
	rep->status = 200;
	rep->content_type = "application/x-tar";
	rep->file_fd = fd;
	rep->file_len = (uint64_t)st.st_size;
	fd = -1;
	http_reply_header(rep, "Content-Disposition",
	                  "attachment; filename=\"checkpoint-%.64s.tar\"", c->uuid);
	http_reply_header(rep, "X-Det-Skipped-Entries", "%llu", skipped);
out:
	if (fd >= 0)
		close(fd);
	json_decref(row);
}
