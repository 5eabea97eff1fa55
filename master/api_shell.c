/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shell tasks over REST (doc/tasks.md): POST /tasks {"kind": "shell"} makes the task's
 * key pairs and runs the launcher (det-master --shell-serve) as the owner, and
 * GET /tasks/{id}/ssh-key gives the owner (or an admin) the private key, the host's
 * public key and the user name ssh logs in as.
 * Non-obvious decision: the keys are kept in <state_dir>/task-logs/task-ID.ssh (0600,
 * the master's), not in the store, so a database backup holds no login keys.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_internal.h"
#include "authz.h"
#include "exp.h"
#include "store.h"
#include "task_shell.h"

/* Where task id's keys are kept. */
static void keys_path(struct app *a, int64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/task-logs/task-%lld.ssh", a->cfg->state_dir, (long long)id);
}

/* Keep the owner's private key and the host's public key of task id: 0, or -1 with err. */
static int keys_save(struct app *a, int64_t id, const struct task_shell_keys *k, char *err,
                     size_t errlen)
{
	char path[4096];
	json_t *v = json_pack("{s:s, s:s}", "private_key", k->client_private, "host_public_key",
	                      k->host_public);
	int rv = -1;

	keys_path(a, id, path, sizeof(path));
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || json_dumpfd(v, fd, 0) || fsync(fd)) {
		snprintf(err, errlen, "%.300s: %s", path, strerror(errno));
		goto fail;
	}
	rv = 0;
fail:
	if (fd >= 0)
		close(fd);
	json_decref(v);
	return rv;
}

void api_shell_create(struct app *a, struct api_call *c, const struct exp_task_spec *s,
                      struct http_reply *rep)
{
	static const char *const refused[] = {"argv", "context", "environment"};
	char err[512], dir[4096], self[4096], *env[3] = {NULL, NULL, NULL};
	struct task_shell_keys k = {0};
	int64_t id = 0;
	struct store_task t;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (json_object_get(c->body, refused[i])) {
			api_error(rep, 400,
			          "%s: a shell runs its own sshd (only resources, "
			          "description and slurm)",
			          refused[i]);
			return;
		}
	if (c->who.uid < 0) {
		api_error(rep, 403, "%s has no Unix uid: a shell runs as its owner's uid",
		          c->who.name);
		return;
	}
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || (size_t)n >= sizeof(self) - 1) {
		api_error(rep, 500, "/proc/self/exe: cannot read");
		return;
	}
	self[n] = '\0';
	snprintf(dir, sizeof(dir), "%s/task-logs", a->cfg->state_dir);
	if (mkdir(dir, 0700) && errno != EEXIST) {
		api_error(rep, 500, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (task_shell_keygen(dir, &k, err, sizeof(err))) {
		api_error(rep, 500, "shell keys: %s", err);
		goto fail;
	}
	if (asprintf(&env[0], "DET_SHELL_HOST_KEY=%s", k.host_private) < 0 ||
	    asprintf(&env[1], "DET_SHELL_AUTHORIZED_KEY=%s", k.client_public) < 0) {
		env[0] = env[1] = NULL;
		api_error(rep, 500, "out of memory");
		goto fail;
	}
	const char *argv[] = {self, TASK_SHELL_SERVE, NULL};
	struct exp_task_command cmd = {
	    .argv = argv,
	    .env = (const char *const *)env,
	    .sbatch_args = json_object_get(json_object_get(c->body, "slurm"), "sbatch_args")};
	enum exp_status st = exp_task_run(a, s, &cmd, &id, err, sizeof(err));
	if (st != EXP_OK) {
		api_exp_error(rep, st, err);
		goto fail;
	}
	if (keys_save(a, id, &k, err, sizeof(err))) {
		exp_task_kill(a, id, err + 256, sizeof(err) - 256);
		api_error(rep, 500, "task %lld: its keys are not kept: %s", (long long)id, err);
		goto fail;
	}
	if (store_task_get(a->store, id, &t, err, sizeof(err)) != 1) {
		api_error(rep, 500, "task %lld: %s", (long long)id, err);
		goto fail;
	}
	api_json(rep, 201, json_pack("{s:o}", "task", api_task_view(a->store, &t)));
fail:
	for (int i = 0; i < 2; i++)
		if (env[i]) {
			explicit_bzero(env[i], strlen(env[i]));
			free(env[i]);
		}
	task_shell_keys_free(&k);
}

void api_shell_key(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[256], path[4096], buf[4096];
	struct store_task t;
	struct passwd pw, *res = NULL;
	json_error_t jerr;

	int found = store_task_get(a->store, c->id, &t, err, sizeof(err));
	if (found < 0) {
		api_error(rep, 500, "%s", err);
		return;
	}
	/* As the tasks API: the owner (bound to its uid) and admins; others see nothing. */
	int64_t owner = c->who.uid >= 0 && c->who.uid == t.owner_uid ? c->who.user_id : -1;
	if (!found || !authz_allowed(&c->who, AUTHZ_TASK_KILL, owner)) {
		api_error(rep, 404, "task %lld not found", (long long)c->id);
		return;
	}
	if (strcmp(t.kind, "shell")) {
		api_error(rep, 400, "task %lld is a %s, not a shell", (long long)c->id, t.kind);
		return;
	}
	if (getpwuid_r((uid_t)t.owner_uid, &pw, buf, sizeof(buf), &res) || !res) {
		api_error(rep, 500, "uid %lld has no user name", (long long)t.owner_uid);
		return;
	}
	keys_path(a, c->id, path, sizeof(path));
	/* An ended shell's key opens nothing: forget it. */
	if (!strcmp(t.state, "TERMINATED")) {
		unlink(path);
		api_error(rep, 409, "shell %lld has ended", (long long)c->id);
		return;
	}
	json_t *v = json_load_file(path, 0, &jerr);
	if (!v) {
		api_error(rep, 409, "task %lld has no keys (yet)", (long long)c->id);
		return;
	}
	if (json_object_set_new(v, "user", json_string(pw.pw_name)) ||
	    json_object_set_new(v, "uid", json_integer(t.owner_uid))) {
		json_decref(v);
		api_error(rep, 500, "out of memory");
		return;
	}
	api_json(rep, 200, v);
}
