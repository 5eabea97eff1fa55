/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libdetcore internals shared by its source files (not installed).
 */
#ifndef DET_CORE_INTERNAL_H
#define DET_CORE_INTERNAL_H

#include <jansson.h>
#include <time.h>

#include "det/core.h"

struct http_client;

struct det_core {
	char *master;            /* NULL off-cluster */
	char *token;             /* trial token */
	char *local_dir;         /* off-cluster output */
	char *checkpoint_dir;    /* where checkpoints live */
	char *preempt_file;      /* det-launch creates it to ask for preemption */
	char *early_exit_file;   /* we write the early-exit reason here for det-launch */
	char *latest_checkpoint; /* NULL when none */
	char *searcher_unit;
	char *hparams_text;
	json_t *hparams;
	int64_t trial_id, experiment_id, steps_completed, searcher_length;
	uint64_t trial_seed;
	struct det_core_dist dist;
	struct http_client *http; /* NULL off-cluster */
	int preempt_seen;         /* sticky: a report answer or signal said preempt/stop */
	int sigterm_held;         /* SIGTERM blocked at init: pending means preempt */
	time_t last_signal_poll;
};

/* Remove the ".tmp-<uuid>" directories under dir whose writer is gone (no
 * one holds their lock) and that this user owns; best effort, silent. */
void det_core_ckpt_sweep(const char *dir);

/* POST body (stolen reference) to /api/v1/trials/{id}/<what>; *out may be NULL. */
int det_core_remote_post(struct det_core *core, const char *what, json_t *body, json_t **out,
                         char *err, size_t errlen);

/* GET path under /api/v1 as JSON. */
int det_core_remote_get(struct det_core *core, const char *path, json_t **out, char *err,
                        size_t errlen);

/* Open the HTTP client for core->master (NULL on failure). */
struct http_client *det_core_remote_open(const char *master, const char *token, char *err,
                                         size_t errlen);

/* Close it. */
void det_core_remote_close(struct http_client *http);

/* Append one JSON value as a line to dir/name (off-cluster records). */
int det_core_local_append(const struct det_core *core, const char *name, json_t *value, char *err,
                          size_t errlen);

/* mkdir -p. */
int det_core_mkdirs(const char *path, char *err, size_t errlen);

#endif
