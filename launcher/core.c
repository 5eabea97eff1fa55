/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libdetcore: initialization from the trial environment, hyperparameters and
 * distributed info. struct det_core (core_internal.h) holds everything read
 * at init; nothing is re-read later, so a trial sees one consistent view.
 * Non-obvious: an unset variable means "off-cluster default", a malformed one
 * is an error, so a typo in a launcher never silently trains the wrong thing.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core_internal.h"

static int env_int64(const char *name, int64_t def, int64_t min, int64_t *out, char *err,
                     size_t errlen)
{
	const char *v = getenv(name);
	if (!v || !*v) {
		*out = def;
		return 0;
	}
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (errno || *end || x < min) {
		snprintf(err, errlen, "%s=\"%.64s\": expected an integer >= %" PRId64, name, v,
		         min);
		return -1;
	}
	*out = x;
	return 0;
}

static int env_dup(const char *name, const char *def, char **out, char *err, size_t errlen)
{
	const char *v = getenv(name);
	if (!v || !*v)
		v = def;
	*out = NULL;
	if (!v)
		return 0;
	*out = strdup(v);
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int read_dist(struct det_core_dist *d, char *err, size_t errlen)
{
	int64_t v[6];
	static const char *const names[6] = {"DET_RANK",       "DET_SIZE",       "DET_LOCAL_RANK",
	                                     "DET_LOCAL_SIZE", "DET_CROSS_RANK", "DET_CROSS_SIZE"};
	static const int64_t defs[6] = {0, 1, 0, 1, 0, 1};
	for (int i = 0; i < 6; i++)
		if (env_int64(names[i], defs[i], i % 2 ? 1 : 0, &v[i], err, errlen) < 0)
			return -1;
	for (int i = 0; i < 6; i += 2) {
		if (v[i] >= v[i + 1] || v[i + 1] > INT_MAX) {
			snprintf(err, errlen, "%s=%" PRId64 " is not below %s=%" PRId64, names[i],
			         v[i], names[i + 1], v[i + 1]);
			return -1;
		}
	}
	*d = (struct det_core_dist){(int)v[0], (int)v[1], (int)v[2],
	                            (int)v[3], (int)v[4], (int)v[5]};
	return 0;
}

static int read_hparams(struct det_core *core, char *err, size_t errlen)
{
	const char *v = getenv("DET_HPARAMS");
	json_error_t jerr;
	if (!v || !*v)
		v = "{}";
	core->hparams = json_loads(v, JSON_REJECT_DUPLICATES, &jerr);
	if (!core->hparams || !json_is_object(core->hparams)) {
		snprintf(err, errlen, "DET_HPARAMS: not a JSON object%s%s",
		         core->hparams ? "" : ": ", core->hparams ? "" : jerr.text);
		return -1;
	}
	core->hparams_text = json_dumps(core->hparams, JSON_COMPACT | JSON_SORT_KEYS);
	if (!core->hparams_text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int read_paths(struct det_core *core, char *err, size_t errlen)
{
	if (env_dup("DET_MASTER", NULL, &core->master, err, errlen) < 0 ||
	    env_dup("DET_SESSION_TOKEN", NULL, &core->token, err, errlen) < 0 ||
	    env_dup("DET_LOCAL_DIR", "det-local", &core->local_dir, err, errlen) < 0 ||
	    env_dup("DET_PREEMPT_FILE", NULL, &core->preempt_file, err, errlen) < 0 ||
	    env_dup("DET_EARLY_EXIT_FILE", NULL, &core->early_exit_file, err, errlen) < 0 ||
	    env_dup("DET_LATEST_CHECKPOINT", NULL, &core->latest_checkpoint, err, errlen) < 0 ||
	    env_dup("DET_SEARCHER_UNIT", "batches", &core->searcher_unit, err, errlen) < 0)
		return -1;
	const char *ck = getenv("DET_CHECKPOINT_DIR");
	if (ck && *ck) {
		core->checkpoint_dir = strdup(ck);
	} else if (core->master) {
		snprintf(err, errlen, "DET_MASTER is set but DET_CHECKPOINT_DIR is not");
		return -1;
	} else {
		size_t n = strlen(core->local_dir) + sizeof("/checkpoints");
		core->checkpoint_dir = malloc(n);
		if (core->checkpoint_dir)
			snprintf(core->checkpoint_dir, n, "%s/checkpoints", core->local_dir);
	}
	if (!core->checkpoint_dir) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int read_ids(struct det_core *core, char *err, size_t errlen)
{
	if (env_int64("DET_TRIAL_ID", 0, 0, &core->trial_id, err, errlen) < 0 ||
	    env_int64("DET_EXPERIMENT_ID", 0, 0, &core->experiment_id, err, errlen) < 0 ||
	    env_int64("DET_STEPS_COMPLETED", 0, 0, &core->steps_completed, err, errlen) < 0 ||
	    env_int64("DET_SEARCHER_LENGTH", 0, 0, &core->searcher_length, err, errlen) < 0)
		return -1;
	/* the seed is an unsigned 64-bit value in decimal */
	const char *s = getenv("DET_TRIAL_SEED");
	core->trial_seed = 0;
	if (s && *s) {
		char *end;
		errno = 0;
		unsigned long long x = strtoull(s, &end, 10);
		if (errno || *end || *s == '-') {
			snprintf(err, errlen,
			         "DET_TRIAL_SEED=\"%.64s\": expected an unsigned integer", s);
			return -1;
		}
		core->trial_seed = x;
	}
	if (core->master && (!core->token || core->trial_id <= 0)) {
		snprintf(err, errlen,
		         "DET_MASTER is set but DET_TRIAL_ID or DET_SESSION_TOKEN is not");
		return -1;
	}
	return 0;
}

/* Under det-launch, SIGTERM to the trial itself is a preemption request too:
 * Slurm sends it to every process of a step it requeues or preempts. When
 * nothing else handles it, it is blocked here and det_core_should_preempt
 * finds it pending (no handler, no global flag). */
static void hold_sigterm(struct det_core *core)
{
	struct sigaction old;
	sigset_t set;

	if (!core->preempt_file || sigaction(SIGTERM, NULL, &old) < 0 || old.sa_handler != SIG_DFL)
		return;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	core->sigterm_held = pthread_sigmask(SIG_BLOCK, &set, NULL) == 0;
}

struct det_core *det_core_init(char *err, size_t errlen)
{
	struct det_core *core = calloc(1, sizeof(*core));
	if (!core) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (read_paths(core, err, errlen) < 0 || read_ids(core, err, errlen) < 0 ||
	    read_hparams(core, err, errlen) < 0 || read_dist(&core->dist, err, errlen) < 0)
		goto fail;
	/* what a trial that died mid-checkpoint left here goes now */
	det_core_ckpt_sweep(core->checkpoint_dir);
	if (core->master) {
		core->http = det_core_remote_open(core->master, core->token, err, errlen);
		if (!core->http)
			goto fail;
	}
	hold_sigterm(core);
	return core;
fail:
	det_core_free(core);
	return NULL;
}

void det_core_free(struct det_core *core)
{
	if (!core)
		return;
	det_core_remote_close(core->http);
	free(core->master);
	free(core->token);
	free(core->local_dir);
	free(core->checkpoint_dir);
	free(core->preempt_file);
	free(core->early_exit_file);
	free(core->latest_checkpoint);
	free(core->searcher_unit);
	free(core->hparams_text);
	json_decref(core->hparams);
	free(core);
}

int det_core_off_cluster(const struct det_core *core)
{
	return core->master == NULL;
}

const char *det_core_local_dir(const struct det_core *core)
{
	return core->local_dir;
}

int64_t det_core_trial_id(const struct det_core *core)
{
	return core->trial_id;
}

int64_t det_core_experiment_id(const struct det_core *core)
{
	return core->experiment_id;
}

uint64_t det_core_trial_seed(const struct det_core *core)
{
	return core->trial_seed;
}

const char *det_core_hparams_json(const struct det_core *core)
{
	return core->hparams_text;
}

const char *det_core_latest_checkpoint(const struct det_core *core)
{
	return core->latest_checkpoint;
}

int64_t det_core_steps_completed(const struct det_core *core)
{
	return core->steps_completed;
}

int64_t det_core_searcher_length(const struct det_core *core)
{
	return core->searcher_length;
}

const char *det_core_searcher_unit(const struct det_core *core)
{
	return core->searcher_unit;
}

struct det_core_dist det_core_distributed(const struct det_core *core)
{
	return core->dist;
}

/* Walk "a.b.c" through nested objects. */
static json_t *hparam_lookup(const struct det_core *core, const char *name, char *err,
                             size_t errlen)
{
	char key[256];
	json_t *cur = core->hparams;
	const char *p = name;
	while (cur) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n == 0 || n >= sizeof(key))
			break;
		memcpy(key, p, n);
		key[n] = '\0';
		cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
		if (!dot)
			return cur ? cur
			           : (snprintf(err, errlen, "hyperparameter %s: not set", name),
			              NULL);
		p = dot + 1;
	}
	snprintf(err, errlen, "hyperparameter %s: not set", name);
	return NULL;
}

int det_core_hparam_double(const struct det_core *core, const char *name, double *out, char *err,
                           size_t errlen)
{
	json_t *v = hparam_lookup(core, name, err, errlen);
	if (!v)
		return -1;
	if (!json_is_number(v)) {
		snprintf(err, errlen, "hyperparameter %s: not a number", name);
		return -1;
	}
	*out = json_number_value(v);
	return 0;
}

int det_core_hparam_int(const struct det_core *core, const char *name, int64_t *out, char *err,
                        size_t errlen)
{
	json_t *v = hparam_lookup(core, name, err, errlen);
	if (!v)
		return -1;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	/* categorical values written as 64.0 still count as integers */
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (d == (double)(int64_t)d && d > -9.0e18 && d < 9.0e18) {
			*out = (int64_t)d;
			return 0;
		}
	}
	snprintf(err, errlen, "hyperparameter %s: not an integer", name);
	return -1;
}

int det_core_hparam_string(const struct det_core *core, const char *name, char *out, size_t outlen,
                           char *err, size_t errlen)
{
	json_t *v = hparam_lookup(core, name, err, errlen);
	if (!v)
		return -1;
	if (!json_is_string(v)) {
		snprintf(err, errlen, "hyperparameter %s: not a string", name);
		return -1;
	}
	if (json_string_length(v) >= outlen) {
		snprintf(err, errlen, "hyperparameter %s: longer than %zu bytes", name, outlen - 1);
		return -1;
	}
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int det_core_mkdirs(const char *path, char *err, size_t errlen)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		snprintf(err, errlen, "%.64s...: path too long", path);
		return -1;
	}
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
				snprintf(err, errlen, "mkdir %s: %s", buf, strerror(errno));
				return -1;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

int det_core_local_append(const struct det_core *core, const char *name, json_t *value, char *err,
                          size_t errlen)
{
	int rv = -1;
	char path[PATH_MAX];
	char *line = NULL;
	FILE *f = NULL;
	if (det_core_mkdirs(core->local_dir, err, errlen) < 0)
		goto fail;
	if (snprintf(path, sizeof(path), "%s/%s", core->local_dir, name) >= (int)sizeof(path)) {
		snprintf(err, errlen, "%s/%s: path too long", core->local_dir, name);
		goto fail;
	}
	line = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS);
	if (!line) {
		snprintf(err, errlen, "cannot encode a record for %s", path);
		goto fail;
	}
	f = fopen(path, "ae");
	if (!f || fprintf(f, "%s\n", line) < 0 || fflush(f) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	rv = 0;
fail:
	if (f && fclose(f) != 0 && rv == 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rv = -1;
	}
	free(line);
	return rv;
}
