/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MUNGE credentials (the only user of libmunge): on a cluster the CLI,
 * det-launch and the SPANK plugin send "Authorization: Munge CRED" and the
 * master learns the caller's uid from munged, with no password anywhere.
 * munged rejects replays, so a captured credential cannot be used twice.
 */
#include <munge.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

#define MUNGE_MAX_CRED_BYTES 4096

int auth_munge_decode(const char *cred, const char *socket, uid_t *uid, char *err, size_t errlen)
{
	munge_ctx_t ctx = munge_ctx_create();
	munge_err_t rc;
	gid_t gid;
	int rv = -1;

	if (!ctx) {
		snprintf(err, errlen, "munge: out of memory");
		return -1;
	}
	if (strlen(cred) > MUNGE_MAX_CRED_BYTES) {
		snprintf(err, errlen, "munge credential too long");
		goto out;
	}
	if (socket && *socket && munge_ctx_set(ctx, MUNGE_OPT_SOCKET, socket) != EMUNGE_SUCCESS) {
		snprintf(err, errlen, "munge: %s", munge_ctx_strerror(ctx));
		goto out;
	}
	rc = munge_decode(cred, ctx, NULL, NULL, uid, &gid);
	if (rc != EMUNGE_SUCCESS) {
		snprintf(err, errlen, "munge credential refused: %s", munge_strerror(rc));
		goto out;
	}
	rv = 0;
out:
	munge_ctx_destroy(ctx);
	return rv;
}
