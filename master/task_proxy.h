/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Interactive tasks: the per-task token, the address a running task registers and
 * the /proxy/<task-id>/ relay to it (doc/tasks.md). */
#ifndef DET_TASK_PROXY_H
#define DET_TASK_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "exp.h"
#include "store.h"

/* The longest host text a task's address may have (an IPv6 address fits). */
#define TASK_PROXY_HOST_MAX 64

/* The longest server token a task may register (printable ASCII, no spaces). */
#define TASK_PROXY_AUTH_MAX 256

/* The largest request body relayed to a task. */
#define TASK_PROXY_MAX_BODY_BYTES (16L * 1024 * 1024)

/* Where a task serves, and the hash of its registration token. */
struct task_proxy_row {
	char token_hash[80];                /* "" when it has none */
	char host[TASK_PROXY_HOST_MAX];     /* "" when not registered */
	int port;                           /* 0 when not registered */
	char auth[TASK_PROXY_AUTH_MAX + 1]; /* the server's own token ("": none) */
};

/* Store the hash of task id's registration token. 0, or -1 with err. */
int store_task_token_set(struct store *st, int64_t id, const char *token_hash, char *err,
                         size_t errlen);

/* Store task id's address (host NULL: clear it). 0, or -1 with err. */
int store_task_address_set(struct store *st, int64_t id, const char *host, int port, char *err,
                           size_t errlen);

/* Store the token task id's server wants (NULL: none), sent by the relay as
 * "Authorization: token ...". 0, or -1 with err. */
int store_task_proxy_auth_set(struct store *st, int64_t id, const char *auth, char *err,
                              size_t errlen);

/* Read task id's token hash and address into *r: 1, 0 when no such task, -1 with err. */
int store_task_proxy_get(struct store *st, int64_t id, struct task_proxy_row *r, char *err,
                         size_t errlen);

/* A new token for task id, its hash stored; *out gets "DET_TASK_TOKEN=..." then env's
 * strings (borrowed), NULL-terminated; free it with task_proxy_env_free. 0, or -1
 * with err. */
int task_proxy_token_env(struct app *a, int64_t id, const char *const *env, char ***out, char *err,
                         size_t errlen);

/* Free a vector from task_proxy_token_env (NULL is fine). */
void task_proxy_env_free(char **env);

/* Whether token is task id's own (DET_TASK_TOKEN); *t gets the task. EXP_OK; EXP_NOT_FOUND
 * (no such task, or not its token: the same answer); EXP_INTERNAL. Lock held. */
enum exp_status task_proxy_token_check_locked(struct app *a, int64_t id, const char *token,
                                              struct store_task *t, char *err, size_t errlen);

/* Task id, presenting token, serves on host:port from now on; its server wants auth
 * ("Authorization: token AUTH"; NULL: nothing) on each relayed request. EXP_OK; EXP_NOT_FOUND
 * (no such task, or the token is not its own); EXP_CONFLICT (not RUNNING); EXP_INVALID
 * (port); EXP_INTERNAL. */
enum exp_status task_proxy_register(struct app *a, int64_t id, const char *token, const char *host,
                                    int port, const char *auth, char *err, size_t errlen);

/* Forget task id's address (it ended). Logs a failure; nothing to return. */
void task_proxy_clear_locked(struct app *a, int64_t id);

#endif
