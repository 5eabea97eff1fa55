/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Sends spank_det's events to det-master with the shared HTTP client:
 * POST /api/v1/allocations/{job_id}/events, short timeout, one attempt.
 * Non-obvious decision: each request gets a fresh MUNGE credential (MUNGE
 * refuses replayed ones), made with the privileges of the hook that sends
 * it: the job's user for the allocation (SPANK runs user_init as the user),
 * root for task exits. The master can thus tell whose job reports.
 */
#include "spank_det.h"

#include <munge.h>
#include <stdio.h>
#include <stdlib.h>

#include "http_client.h"

static int munge_auth(const struct det_spank_args *args, char *auth, size_t authlen, char *err,
                      size_t errlen)
{
	munge_ctx_t mctx = munge_ctx_create();
	char *cred = NULL;
	munge_err_t mrc;
	int rv = -1;

	if (!mctx) {
		snprintf(err, errlen, "munge_ctx_create failed");
		return -1;
	}
	if (args->munge_socket[0] &&
	    munge_ctx_set(mctx, MUNGE_OPT_SOCKET, args->munge_socket) != EMUNGE_SUCCESS) {
		snprintf(err, errlen, "munge socket %s: %s", args->munge_socket,
		         munge_ctx_strerror(mctx));
		goto fail;
	}
	mrc = munge_encode(&cred, mctx, NULL, 0);
	if (mrc != EMUNGE_SUCCESS) {
		snprintf(err, errlen, "munge_encode: %s", munge_strerror(mrc));
		goto fail;
	}
	if ((size_t)snprintf(auth, authlen, "Munge %s", cred) >= authlen) {
		snprintf(err, errlen, "munge credential too long");
		goto fail;
	}
	rv = 0;
fail:
	free(cred);
	munge_ctx_destroy(mctx);
	return rv;
}

int det_report_send(const struct det_spank_args *args, unsigned job_id, json_t *event, char *err,
                    size_t errlen)
{
	struct http_client *c = NULL;
	char auth[1024], path[96];
	json_t *answer = NULL;
	long status = 0;
	int rv = -1;

	if (args->auth_munge && munge_auth(args, auth, sizeof(auth), err, errlen) < 0)
		return -1;
	c = http_client_new(args->master, args->auth_munge ? auth : NULL, err, errlen);
	if (!c)
		goto fail;
	http_client_set_timeout_ms(c, args->timeout_ms);
	http_client_set_max_response(c, 64 * 1024);
	snprintf(path, sizeof(path), "/api/v1/allocations/%u/events", job_id);
	if (http_client_json(c, "POST", path, event, &answer, &status, err, errlen) < 0)
		goto fail;
	rv = 0;
fail:
	json_decref(answer);
	http_client_free(c);
	return rv;
}
