/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine's entry points for tasks other than trials' array tasks
 * (commands, notebooks, shells, TensorBoards; kind 'trial' rows too): create
 * one QUEUED, and move one through an event. The decision is the pure
 * lifecycle_task_next table; this shell validates the input, reads the row,
 * stamps times from the clock and commits, all under the app lock so that two
 * events on one task cannot both pass the table on the same old state.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exp.h"
#include "exp_internal.h"
#include "task_notebook.h"
#include "task_proxy.h"

/* Resource pools are names from the master config: printable, no spaces. */
static int pool_ok(const char *pool)
{
	if (strlen(pool) >= sizeof(((struct store_task *)0)->pool))
		return 0;
	for (const char *p = pool; *p; p++)
		if (*p <= ' ' || *p > '~')
			return 0;
	return 1;
}

/* Where the master keeps command id's context (tar.gz) until the task ends. */
static void context_path_of(const struct app *a, int64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/task-logs/task-%lld.context", a->cfg->state_dir, (long long)id);
}

/* Remove command id's context once it ended: no job fetches it any more (Slurm; the
 * local manager removes it after unpacking). */
static void context_remove(const struct app *a, int64_t id)
{
	char path[4096];
	context_path_of(a, id, path, sizeof(path));
	unlink(path);
}

enum exp_status exp_task_create(struct app *a, const struct exp_task_spec *s, int64_t *id,
                                char *err, size_t errlen)
{
	enum exp_status status = EXP_INVALID;
	struct store_task t;

	memset(&t, 0, sizeof(t));
	if ((int)s->kind < 0 || s->kind >= LIFECYCLE_TASK_NKINDS) {
		snprintf(err, errlen,
		         "task kind %d: expected one of trial, command, notebook, shell, "
		         "tensorboard",
		         (int)s->kind);
		goto fail;
	}
	if (s->owner_uid < 0) {
		snprintf(err, errlen, "task owner uid %ld: expected a Unix uid", s->owner_uid);
		goto fail;
	}
	if (s->slots < 0 || s->slots > EXP_TASK_MAX_SLOTS) {
		snprintf(err, errlen, "task slots %lld: expected 0..%d", (long long)s->slots,
		         EXP_TASK_MAX_SLOTS);
		goto fail;
	}
	if (!s->pool || !pool_ok(s->pool)) {
		snprintf(err, errlen,
		         "task resource pool: expected a name of printable characters "
		         "without spaces, under 128 bytes");
		goto fail;
	}
	if (s->description && strlen(s->description) >= sizeof(t.description)) {
		snprintf(err, errlen, "task description: expected at most %zu bytes",
		         sizeof(t.description) - 1);
		goto fail;
	}
	snprintf(t.description, sizeof(t.description), "%s", s->description ? s->description : "");
	snprintf(t.kind, sizeof(t.kind), "%s", lifecycle_task_kind_name(s->kind));
	snprintf(t.state, sizeof(t.state), "%s", lifecycle_task_state_name(LIFECYCLE_TASK_QUEUED));
	snprintf(t.pool, sizeof(t.pool), "%s", s->pool);
	t.owner_uid = s->owner_uid;
	t.slots = s->slots;
	t.created_at = app_now();
	status = EXP_INTERNAL;
	pthread_mutex_lock(&a->lock);
	int rc = store_task_insert(a->store, &t, id, err, errlen);
	pthread_mutex_unlock(&a->lock);
	if (rc)
		goto fail;
	status = EXP_OK;
fail:
	return status;
}

enum exp_status exp_task_event(struct app *a, int64_t id, enum lifecycle_task_event ev,
                               int exit_status, const char *end_reason, char *err, size_t errlen)
{
	pthread_mutex_lock(&a->lock);
	enum exp_status status =
	    exp_task_event_locked(a, id, ev, exit_status, end_reason, err, errlen);
	pthread_mutex_unlock(&a->lock);
	return status;
}

enum exp_status exp_task_event_locked(struct app *a, int64_t id, enum lifecycle_task_event ev,
                                      int exit_status, const char *end_reason, char *err,
                                      size_t errlen)
{
	enum exp_status status = EXP_INVALID;
	struct store_task t;

	if ((int)ev < 0 || ev >= LIFECYCLE_TASK_EV_NEVENTS) {
		snprintf(err, errlen, "task event %d: unknown", (int)ev);
		return status;
	}
	if (end_reason && strlen(end_reason) >= sizeof(t.end_reason)) {
		snprintf(err, errlen, "task end reason: over %zu bytes", sizeof(t.end_reason) - 1);
		return status;
	}
	status = EXP_INTERNAL;
	int found = store_task_get(a->store, id, &t, err, errlen);
	if (found < 0)
		goto out;
	if (!found) {
		snprintf(err, errlen, "task %lld not found", (long long)id);
		status = EXP_NOT_FOUND;
		goto out;
	}
	int from = lifecycle_task_state_parse(t.state);
	if (from < 0) {
		snprintf(err, errlen, "task %lld: stored state %s is unknown", (long long)id,
		         t.state);
		goto out;
	}
	struct lifecycle_task_step d = lifecycle_task_next((enum lifecycle_task_state)from, ev);
	if (!d.allowed) {
		snprintf(err, errlen, "task %lld is %s: %s is not allowed", (long long)id, t.state,
		         lifecycle_task_event_name(ev));
		status = EXP_CONFLICT;
		goto out;
	}
	double now = app_now();
	snprintf(t.state, sizeof(t.state), "%s", lifecycle_task_state_name(d.to));
	if (d.stamp_started)
		t.started_at = now;
	if (d.stamp_ended) {
		t.ended_at = now;
		t.has_exit_status = ev == LIFECYCLE_TASK_EV_EXITED;
		t.exit_status = t.has_exit_status ? exit_status : 0;
		snprintf(t.end_reason, sizeof(t.end_reason), "%s",
		         end_reason && *end_reason ? end_reason : lifecycle_task_event_name(ev));
	}
	if (store_task_update(a->store, &t, err, errlen))
		goto out;
	if (d.stamp_ended)
		task_proxy_clear_locked(a, id); /* an ended task serves nothing */
	status = EXP_OK;
out:
	return status;
}

/* Write a command's context (tar.gz) to path, a new file the master alone reads. 0 or -1. */
static int context_write(const char *path, const unsigned char *data, size_t len, char *err,
                         size_t errlen)
{
	int rv = -1;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0) {
		snprintf(err, errlen, "context: %s: %s", path, strerror(errno));
		return -1;
	}
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "context: %s: %s", path, strerror(errno));
			goto fail;
		}
		off += (size_t)n;
	}
	rv = 0;
fail:
	if (close(fd) != 0 && rv == 0) {
		snprintf(err, errlen, "context: %s: %s", path, strerror(errno));
		rv = -1;
	}
	if (rv)
		unlink(path);
	return rv;
}

/* Where task id's output goes: the local manager's log directory, or for a Slurm job
 * det-t<ID>.log in its owner's home directory (shared with the nodes, as on most clusters;
 * the job runs there). 0, or -1 when the owner has no passwd entry. */
static int task_log_path(const struct app *a, int64_t id, int64_t owner_uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char store[4096];

	if (strcmp(a->rm->ops->name, "slurm") != 0) {
		snprintf(buf, len, "%s/task-logs/task-%lld.log", a->cfg->state_dir, (long long)id);
		return 0;
	}
	if (owner_uid < 0 || getpwuid_r((uid_t)owner_uid, &pw, store, sizeof(store), &res) ||
	    !res || !pw.pw_dir || pw.pw_dir[0] != '/') {
		snprintf(buf, len, "uid %lld has no home directory", (long long)owner_uid);
		return -1;
	}
	snprintf(buf, len, "%s/det-t%lld.log", strcmp(pw.pw_dir, "/") ? pw.pw_dir : "",
	         (long long)id);
	return 0;
}

int exp_task_log_open(struct app *a, const struct store_task *t, char *err, size_t errlen)
{
	char path[4096];
	struct stat st;

	if (task_log_path(a, t->id, t->owner_uid, path, sizeof(path))) {
		snprintf(err, errlen, "%s", path);
		errno = ENOENT;
		return -1;
	}
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* A Slurm job writes its output as its owner into a shared directory: only a
	 * regular file of that owner is the task's output. */
	if (strcmp(a->rm->ops->name, "slurm") == 0 &&
	    (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (int64_t)st.st_uid != t->owner_uid)) {
		close(fd);
		snprintf(err, errlen, "%s: not a file of uid %lld: ignored", path,
		         (long long)t->owner_uid);
		errno = EPERM;
		return -1;
	}
	return fd;
}

/* Record the resource manager's id for task id: kill and adoption after a restart name
 * it. Takes the lock (the manager's events update the same row). */
static void task_note_job(struct app *a, int64_t id, const char *job)
{
	char err[256];
	struct store_task t;

	pthread_mutex_lock(&a->lock);
	if (store_task_get(a->store, id, &t, err, sizeof(err)) == 1) {
		snprintf(t.job_id, sizeof(t.job_id), "%s", job);
		if (store_task_update(a->store, &t, err, sizeof(err)))
			log_msg(&a->log, LOG_LEVEL_WARN,
			        "task %lld: its job id is not recorded: %s", (long long)id, err);
	}
	pthread_mutex_unlock(&a->lock);
}

/* The command's resources and slurm.sbatch_args as the resource manager reads an
 * experiment's config (new reference; NULL when out of memory). */
static json_t *command_config(const struct exp_task_spec *s, json_t *sbatch_args)
{
	json_t *args = sbatch_args ? json_deep_copy(sbatch_args) : json_array();
	return json_pack("{s:{s:s, s:I}, s:{s:o}}", "resources", "resource_pool", s->pool,
	                 "slots_per_trial", (json_int_t)(s->slots > 0 ? s->slots : 1), "slurm",
	                 "sbatch_args", args);
}

/* cmd->argv with argv[at] replaced by "/proxy/<id>" in prefix (a new vector of borrowed
 * strings, freed with free), or NULL when out of memory or at is past its end. */
static const char **argv_with_prefix(const struct exp_task_command *cmd, int64_t id, char *prefix,
                                     size_t prefixlen)
{
	size_t n = 0;
	while (cmd->argv[n])
		n++;
	if ((size_t)cmd->path_prefix_at >= n)
		return NULL;
	const char **out = calloc(n + 1, sizeof(*out));
	if (!out)
		return NULL;
	memcpy(out, cmd->argv, n * sizeof(*out));
	snprintf(prefix, prefixlen, "/proxy/%lld", (long long)id);
	out[cmd->path_prefix_at] = prefix;
	return out;
}

enum exp_status exp_task_run(struct app *a, const struct exp_task_spec *s,
                             const struct exp_task_command *cmd, int64_t *id, char *err,
                             size_t errlen)
{
	char prefix[64];
	const char **prefixed = NULL;
	char job[64], why[256], context_path[4096], log_path[4096];
	int slurm = strcmp(a->rm->ops->name, "slurm") == 0;

	if (!slurm && strcmp(a->rm->ops->name, "local") != 0) {
		snprintf(err, errlen,
		         "commands run with the local or slurm resource manager (this "
		         "master uses %s)",
		         a->rm->ops->name);
		return EXP_INVALID;
	}
	if (!cmd->argv || !cmd->argv[0] || !*cmd->argv[0]) {
		snprintf(err, errlen, "command: expected a non-empty argv");
		return EXP_INVALID;
	}
	json_t *config = command_config(s, cmd->sbatch_args);
	if (!config) {
		snprintf(err, errlen, "out of memory");
		return EXP_INTERNAL;
	}
	enum exp_status status = exp_task_create(a, s, id, err, errlen);
	char **tenv = NULL;
	if (status != EXP_OK) {
		json_decref(config);
		return status;
	}
	/* Its token to register the address it serves on (a notebook's). */
	if (task_proxy_token_env(a, *id, cmd->env, &tenv, err, errlen))
		goto not_started;
	if (cmd->path_prefix_at > 0 &&
	    !(prefixed = argv_with_prefix(cmd, *id, prefix, sizeof(prefix)))) {
		snprintf(err, errlen, "argv[%d] (its path prefix) missing, or out of memory",
		         cmd->path_prefix_at);
		goto not_started;
	}
	struct rm_array spec = {.experiment_id = -*id,
	                        .num_tasks = 1,
	                        .slots_per_trial = s->slots > 0 ? (int)s->slots : 1,
	                        .master_url = a->master_url,
	                        .alloc_token = "",
	                        .owner_uid = s->owner_uid,
	                        .config = config,
	                        .argv = prefixed ? prefixed : cmd->argv,
	                        .env = (const char *const *)tenv,
	                        .task_kind = lifecycle_task_kind_name(s->kind)};
	if (slurm && task_log_path(a, *id, s->owner_uid, log_path, sizeof(log_path)) == 0)
		spec.output_path = log_path;
	if (cmd->context) {
		context_path_of(a, *id, context_path, sizeof(context_path));
		spec.context_path = context_path;
	}
	if ((!cmd->context ||
	     context_write(context_path, cmd->context, cmd->context_len, err, errlen) == 0) &&
	    a->rm->ops->submit_array(a->rm, &spec, job, sizeof(job), err, errlen) == 0) {
		task_proxy_env_free(tenv);
		json_decref(config);
		free(prefixed);
		task_note_job(a, *id, job);
		return EXP_OK;
	}
	if (cmd->context)
		unlink(context_path);
not_started:
	task_proxy_env_free(tenv);
	json_decref(config);
	free(prefixed);
	/* Nothing runs: the task ends here, saying why. */
	snprintf(why, sizeof(why), "not started: %s", err);
	exp_task_event(a, *id, LIFECYCLE_TASK_EV_KILLED, 0, why, why, sizeof(why));
	return EXP_INTERNAL;
}

enum exp_status exp_task_context(struct app *a, int64_t id, const char *token, unsigned char **data,
                                 size_t *len, char *err, size_t errlen)
{
	char path[4096];
	struct store_task t;
	struct stat st;
	unsigned char *buf = NULL;
	size_t got = 0;

	pthread_mutex_lock(&a->lock);
	enum exp_status status = task_proxy_token_check_locked(a, id, token, &t, err, errlen);
	pthread_mutex_unlock(&a->lock);
	if (status != EXP_OK)
		return status;
	if (!strcmp(t.state, "TERMINATED")) {
		snprintf(err, errlen, "task %lld has ended: its context is gone", (long long)id);
		return EXP_CONFLICT;
	}
	context_path_of(a, id, path, sizeof(path));
	status = EXP_INTERNAL;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		snprintf(err, errlen, "task %lld has no context", (long long)id);
		return EXP_NOT_FOUND;
	}
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "task %lld: its context: %s", (long long)id,
		         fd < 0 ? strerror(errno) : "not a regular file");
		goto fail;
	}
	if (!(buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "task %lld: its context: %s", (long long)id,
			         n < 0 ? strerror(errno) : "short read");
			goto fail;
		}
		got += (size_t)n;
	}
	*data = buf;
	*len = got;
	buf = NULL;
	status = EXP_OK;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return status;
}

enum exp_status exp_task_kill(struct app *a, int64_t id, char *err, size_t errlen)
{
	char job[160], ignored[256];
	struct store_task t;
	enum exp_status status =
	    exp_task_event(a, id, LIFECYCLE_TASK_EV_KILLED, 0, "killed", err, errlen);
	if (status != EXP_OK)
		return status;
	context_remove(a, id);
	/* The process tree gets SIGTERM, SIGKILL after the grace period (slurm: scancel); a
	 * task whose process ended already has nothing left to cancel. The local manager
	 * names a command task-ID. */
	if (store_task_get(a->store, id, &t, ignored, sizeof(ignored)) == 1 && t.job_id[0])
		snprintf(job, sizeof(job), "%s", t.job_id);
	else
		snprintf(job, sizeof(job), "task-%lld", (long long)id);
	a->rm->ops->cancel(a->rm, job, ignored, sizeof(ignored));
	return EXP_OK;
}

/* Record the process the manager started for task id (to adopt it after a restart). */
static void task_note_pid_locked(struct app *a, int64_t id, const struct rm_task_event *ev)
{
	char err[256];
	struct store_task t;

	if (ev->pid <= 0 || ev->pid_start <= 0 ||
	    store_task_get(a->store, id, &t, err, sizeof(err)) != 1)
		return;
	t.pid = ev->pid;
	t.pid_start = ev->pid_start;
	if (store_task_update(a->store, &t, err, sizeof(err)))
		log_msg(&a->log, LOG_LEVEL_WARN, "task %lld: its pid is not recorded: %s",
		        (long long)id, err);
}

/* Append "det-master: note" to the local manager's log of task id (its output, which the
 * master writes in its own state directory; a Slurm job's shell says it there itself). */
static void task_log_note(struct app *a, int64_t id, const char *note)
{
	char path[4096], line[512];

	if (strcmp(a->rm->ops->name, "local") != 0 ||
	    task_log_path(a, id, -1, path, sizeof(path)) != 0)
		return;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	int n = snprintf(line, sizeof(line), "det-master: %s\n", note);
	if (n < 0 || write(fd, line, (size_t)n) != n)
		log_msg(&a->log, LOG_LEVEL_WARN, "task %lld: %s: %s", (long long)id, path,
		        strerror(errno));
	close(fd);
}

/* Whether task id is a TensorBoard whose program was not found (exit status 127: the
 * local manager's and the shell's word for it); TensorBoard is not installed with us. */
static int not_found_is_tensorboard_locked(struct app *a, int64_t id, int wait_status)
{
	char err[256];
	struct store_task t;

	return wait_status >= 0 && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 127 &&
	       store_task_get(a->store, id, &t, err, sizeof(err)) == 1 &&
	       !strcmp(t.kind, lifecycle_task_kind_name(LIFECYCLE_TASK_TENSORBOARD));
}

int exp_task_on_rm_event(struct app *a, const struct rm_task_event *ev)
{
	char err[256], reason[64];
	int64_t id = -ev->experiment_id;
	enum exp_status st;

	/* A task killed already refuses these events (a conflict): nothing to record. */
	if (ev->kind == RM_TASK_STARTED) {
		st = exp_task_event_locked(a, id, LIFECYCLE_TASK_EV_ALLOCATED, 0, NULL, err,
		                           sizeof(err));
		if (st == EXP_OK)
			st = exp_task_event_locked(a, id, LIFECYCLE_TASK_EV_STARTED, 0, NULL, err,
			                           sizeof(err));
		if (st == EXP_OK)
			task_note_pid_locked(a, id, ev);
	} else {
		/* Ended before it ran (its program not found): allocated, then exited. */
		exp_task_event_locked(a, id, LIFECYCLE_TASK_EV_ALLOCATED, 0, NULL, err,
		                      sizeof(err));
		/* The manager's word first (NODE_FAIL, PREEMPTED: the signal was its doing). */
		struct store_task t;
		const char *nb = NULL;
		if (store_task_get(a->store, id, &t, err, sizeof(err)) == 1 &&
		    !strcmp(t.kind, "notebook"))
			nb = task_notebook_end_reason(ev->wait_status);
		if (ev->reason[0])
			snprintf(reason, sizeof(reason), "%s", ev->reason);
		else if (nb) /* its launcher's word: idle, or no jupyter */
			snprintf(reason, sizeof(reason), "%s", nb);
		else if (not_found_is_tensorboard_locked(a, id, ev->wait_status)) {
			snprintf(reason, sizeof(reason), "tensorboard not found on PATH");
			task_log_note(a, id, reason);
		} else if (ev->wait_status >= 0 && WIFSIGNALED(ev->wait_status))
			snprintf(reason, sizeof(reason), "signal %d", WTERMSIG(ev->wait_status));
		else
			snprintf(reason, sizeof(reason), "exited");
		st = exp_task_event_locked(a, id, LIFECYCLE_TASK_EV_EXITED, ev->wait_status, reason,
		                           err, sizeof(err));
		context_remove(a, id);
	}
	if (st == EXP_INTERNAL) {
		log_msg(&a->log, LOG_LEVEL_ERROR, "task %lld: %s", (long long)id, err);
		return -1;
	}
	return 0;
}

/* Watch command t's Slurm job again (queued or running when the master stopped): the
 * manager reports its start and end from Slurm's record. 0, or -1 when it has none. */
static int task_adopt_job_locked(struct app *a, const struct store_task *t)
{
	static const char *const placeholder[] = {"adopted", NULL};
	char job[160], err[256];

	if (!t->job_id[0])
		return -1;
	/* Not checked with slurmctld here (the lock is held): the manager's poll reads it. */
	struct rm_array spec = {.experiment_id = -t->id,
	                        .num_tasks = 1,
	                        .slots_per_trial = t->slots > 0 ? (int)t->slots : 1,
	                        .master_url = a->master_url,
	                        .alloc_token = "",
	                        .owner_uid = t->owner_uid,
	                        .existing_job = t->job_id,
	                        .argv = placeholder};
	if (a->rm->ops->submit_array(a->rm, &spec, job, sizeof(job), err, sizeof(err))) {
		log_msg(&a->log, LOG_LEVEL_WARN, "task %lld: job %s not adopted: %s",
		        (long long)t->id, t->job_id, err);
		return -1;
	}
	log_msg(&a->log, LOG_LEVEL_INFO, "task %lld: adopted (job %s)", (long long)t->id, job);
	return 0;
}

/* Hand command id, left RUNNING by a previous master, to the local manager again: it
 * watches the recorded pid (checked with its start time and marker) and reports its end.
 * 0, or -1 when it cannot be adopted. */
static int task_adopt_locked(struct app *a, int64_t id)
{
	static const char *const placeholder[] = {"adopted", NULL};
	char job[160], err[256];
	struct store_task t;

	if (store_task_get(a->store, id, &t, err, sizeof(err)) != 1)
		return -1;
	if (strcmp(a->rm->ops->name, "slurm") == 0)
		return task_adopt_job_locked(a, &t);
	if (strcmp(a->rm->ops->name, "local") != 0 || strcmp(t.state, "RUNNING") || t.pid <= 0 ||
	    t.pid_start <= 0 || t.pid > INT32_MAX)
		return -1;
	int pid = (int)t.pid;
	int64_t start = t.pid_start;
	struct rm_array spec = {.experiment_id = -id,
	                        .num_tasks = 1,
	                        .slots_per_trial = t.slots > 0 ? (int)t.slots : 1,
	                        .master_url = a->master_url,
	                        .alloc_token = "",
	                        .owner_uid = t.owner_uid,
	                        .adopt_ids = &pid,
	                        .adopt_starts = &start,
	                        .argv = placeholder};
	if (a->rm->ops->submit_array(a->rm, &spec, job, sizeof(job), err, sizeof(err))) {
		log_msg(&a->log, LOG_LEVEL_WARN, "task %lld: not adopted: %s", (long long)id, err);
		return -1;
	}
	log_msg(&a->log, LOG_LEVEL_INFO, "task %lld: adopted (pid %d)", (long long)id, pid);
	return 0;
}

int exp_task_adopt_locked(struct app *a, char *err, size_t errlen)
{
	int rv = -1;
	size_t i;
	/* Every kind that exp_task_run starts (commands, notebooks, TensorBoards); trials are
	 * not tasks here. */
	json_t *row, *rows = store_task_list(a->store, NULL, err, errlen);

	if (!rows)
		return -1;
	json_array_foreach (rows, i, row) {
		const char *tid = json_string_value(json_object_get(row, "task_id"));
		const char *state = json_string_value(json_object_get(row, "state"));
		const char *kind = json_string_value(json_object_get(row, "kind"));
		long long id;
		if (!tid || !state || !kind || !strcmp(kind, "trial") ||
		    !strcmp(state, "TERMINATED") || sscanf(tid, "task-%lld", &id) != 1 ||
		    task_adopt_locked(a, id) == 0)
			continue;
		if (exp_task_event_locked(a, id, LIFECYCLE_TASK_EV_KILLED, 0,
		                          "lost: det-master restarted", err,
		                          errlen) == EXP_INTERNAL)
			goto fail;
		context_remove(a, id);
	}
	rv = 0;
fail:
	json_decref(rows);
	return rv;
}
