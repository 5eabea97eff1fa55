/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine's side of interactive tasks' addresses. The master gives each
 * task it starts a random token (DET_TASK_TOKEN in its environment; only its
 * SHA-256 is stored); the task presents it to register the port it serves on.
 * Non-obvious decision: the host is never the task's to choose. The caller
 * passes the connection's peer (or the task's node), so a task can only
 * point the proxy at a port on its own machine, and the address exists only
 * while the task is RUNNING (checked here under the app lock, cleared at its
 * end), so the proxy never relays to a host:port that a request names.
 */
#include "task_proxy.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "exp_internal.h"

void task_proxy_env_free(char **env)
{
	if (!env)
		return;
	free(env[0]); /* the token: the only string of our own */
	free(env);
}

int task_proxy_token_env(struct app *a, int64_t id, const char *const *env, char ***out, char *err,
                         size_t errlen)
{
	int rv = -1;
	char tok[AUTH_TOKEN_CHARS + 1], hash[AUTH_TOKEN_CHARS + 1];
	size_t n = 0;
	char **v = NULL;

	while (env && env[n])
		n++;
	if (auth_new_token(tok, sizeof(tok), err, errlen))
		goto fail;
	auth_token_hash(tok, hash);
	if (store_task_token_set(a->store, id, hash, err, errlen))
		goto fail;
	v = calloc(n + 2, sizeof(*v));
	/* First: a task's variables are looked up first-wins, so a config's own
	 * DET_TASK_TOKEN cannot hide it. */
	if (!v || asprintf(&v[0], "DET_TASK_TOKEN=%s", tok) < 0) {
		free(v);
		v = NULL;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		v[i + 1] = (char *)env[i];
	*out = v;
	rv = 0;
fail:
	explicit_bzero(tok, sizeof(tok));
	return rv;
}

enum exp_status task_proxy_token_check_locked(struct app *a, int64_t id, const char *token,
                                              struct store_task *t, char *err, size_t errlen)
{
	char hash[AUTH_TOKEN_CHARS + 1];
	struct task_proxy_row r;

	auth_token_hash(token ? token : "", hash);
	int found = store_task_proxy_get(a->store, id, &r, err, errlen);
	if (found > 0)
		found = store_task_get(a->store, id, t, err, errlen);
	if (found < 0)
		return EXP_INTERNAL;
	/* A wrong token and no task look the same: ids cannot be probed with it. */
	if (!found || !token || strlen(token) != AUTH_TOKEN_CHARS || !r.token_hash[0] ||
	    !auth_same_secret(hash, r.token_hash)) {
		snprintf(err, errlen, "task %lld not found (or this is not its token)",
		         (long long)id);
		return EXP_NOT_FOUND;
	}
	return EXP_OK;
}

enum exp_status task_proxy_register(struct app *a, int64_t id, const char *token, const char *host,
                                    int port, const char *auth, char *err, size_t errlen)
{
	enum exp_status status = EXP_INTERNAL;
	struct store_task t;

	if (port < 1 || port > 65535) {
		snprintf(err, errlen, "port: expected an integer 1..65535");
		return EXP_INVALID;
	}
	if (!host || !*host || strlen(host) >= TASK_PROXY_HOST_MAX) {
		snprintf(err, errlen, "task %lld: the caller's address is unknown", (long long)id);
		return EXP_INVALID;
	}
	pthread_mutex_lock(&a->lock);
	status = task_proxy_token_check_locked(a, id, token, &t, err, errlen);
	if (status != EXP_OK)
		goto out;
	status = EXP_INTERNAL;
	/* Not yet RUNNING is fine: on Slurm the job may serve before the master's poll sees
	 * it start; the proxy relays only to a RUNNING task. */
	if (!strcmp(t.state, "TERMINATED")) {
		snprintf(err, errlen, "task %lld is %s: an ended task has no address",
		         (long long)id, t.state);
		status = EXP_CONFLICT;
		goto out;
	}
	if (store_task_address_set(a->store, id, host, port, err, errlen) ||
	    store_task_proxy_auth_set(a->store, id, auth, err, errlen))
		goto out;
	status = EXP_OK;
out:
	pthread_mutex_unlock(&a->lock);
	return status;
}

void task_proxy_clear_locked(struct app *a, int64_t id)
{
	char err[256];
	if (store_task_address_set(a->store, id, NULL, 0, err, sizeof(err)))
		log_msg(&a->log, LOG_LEVEL_ERROR, "task %lld: its address stays: %s", (long long)id,
		        err);
}
