/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MUNGE credentials for the det commands (the CLI's only user of libmunge):
 * on a cluster nobody logs in; every request carries a credential that
 * munged minted for the calling uid, and the master asks its own munged who
 * that is. A credential is minted per request because munged refuses to
 * decode one twice.
 */
#include "munge_cred.h"

#include <munge.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* libmunge's socket when neither DET_MUNGE_SOCKET nor the caller names one. */
#define CLI_MUNGE_DEFAULT_SOCKET "/run/munge/munge.socket.2"

const char *cli_munge_socket(void)
{
	const char *s = getenv("DET_MUNGE_SOCKET");
	struct stat st;

	if (!s || !*s)
		s = CLI_MUNGE_DEFAULT_SOCKET;
	if (stat(s, &st) != 0 || !S_ISSOCK(st.st_mode))
		return NULL;
	return s;
}

int cli_munge_auth(void *arg, char *buf, size_t len, char *err, size_t errlen)
{
	const char *socket = arg;
	munge_ctx_t ctx = munge_ctx_create();
	char *cred = NULL;
	int rv = -1;

	if (!ctx) {
		snprintf(err, errlen, "munge: out of memory");
		return -1;
	}
	if (socket && munge_ctx_set(ctx, MUNGE_OPT_SOCKET, socket) != EMUNGE_SUCCESS) {
		snprintf(err, errlen, "munge socket %s: %s", socket, munge_ctx_strerror(ctx));
		goto fail;
	}
	munge_err_t rc = munge_encode(&cred, ctx, NULL, 0);
	if (rc != EMUNGE_SUCCESS) {
		snprintf(err, errlen, "cannot get a MUNGE credential (%s): is munged running?",
		         munge_ctx_strerror(ctx));
		goto fail;
	}
	if ((size_t)snprintf(buf, len, "Munge %s", cred) >= len) {
		snprintf(err, errlen, "MUNGE credential longer than %zu bytes", len);
		goto fail;
	}
	rv = 0;
fail:
	free(cred);
	munge_ctx_destroy(ctx);
	return rv;
}
