/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det/core.h: the Core API for trial code written in C (libdetcore).
 * Everything is configured from the environment det-launch sets (see
 * doc/trial-environment.md); without DET_MASTER the library works
 * off-cluster and writes metrics and checkpoints under a local directory.
 * Functions that can fail return 0 or -1 with a message in err.
 */
#ifndef DET_CORE_H
#define DET_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct det_core;
struct det_core_ckpt;

#define DET_CORE_UUID_BYTES 37 /* 36 characters and the NUL */

enum det_core_group { DET_CORE_TRAINING, DET_CORE_VALIDATION };

enum det_core_exit_reason {
	DET_CORE_EXIT_INVALID_HP,
	DET_CORE_EXIT_ERRORED,
	DET_CORE_EXIT_USER_REQUESTED_STOP,
};

/* One named metric value. */
struct det_core_metric {
	const char *name;
	double value;
};

/* The master's answer to a metrics report. */
struct det_core_answer {
	int stop;    /* the searcher (or a user) wants the trial to stop */
	int preempt; /* checkpoint and exit: the trial will be resumed later */
};

/* Where this process sits among the trial's processes. */
struct det_core_dist {
	int rank, size;             /* global */
	int local_rank, local_size; /* on this node */
	int cross_rank, cross_size; /* node index, node count */
};

/* Read the environment. NULL with err when a variable is malformed. */
struct det_core *det_core_init(char *err, size_t errlen);

/* Release everything (NULL is fine). */
void det_core_free(struct det_core *core);

/* 1 when no master is configured (metrics and checkpoints stay local). */
int det_core_off_cluster(const struct det_core *core);

/* The local directory used off-cluster (DET_LOCAL_DIR or ./det-local). */
const char *det_core_local_dir(const struct det_core *core);

/* Trial and experiment ids (0 off-cluster unless set). */
int64_t det_core_trial_id(const struct det_core *core);
int64_t det_core_experiment_id(const struct det_core *core);

/* The trial's seed (DET_TRIAL_SEED, 0 when unset). */
uint64_t det_core_trial_seed(const struct det_core *core);

/* The hyperparameters as a JSON object text ("{}" when none). */
const char *det_core_hparams_json(const struct det_core *core);

/* Hyperparameter by name; nested ones as "outer.inner". A number for
 * _double, an integral number for _int, a string for _string (copied into
 * out, truncation is an error). -1 with err when absent or of another type. */
int det_core_hparam_double(const struct det_core *core, const char *name, double *out, char *err,
                           size_t errlen);
int det_core_hparam_int(const struct det_core *core, const char *name, int64_t *out, char *err,
                        size_t errlen);
int det_core_hparam_string(const struct det_core *core, const char *name, char *out, size_t outlen,
                           char *err, size_t errlen);

/* Checkpoint to resume from (DET_LATEST_CHECKPOINT), NULL when none. */
const char *det_core_latest_checkpoint(const struct det_core *core);

/* Steps completed before this run started (DET_STEPS_COMPLETED). */
int64_t det_core_steps_completed(const struct det_core *core);

/* The searcher's length for this trial in its unit, 0 when unknown. */
int64_t det_core_searcher_length(const struct det_core *core);

/* Unit of the searcher's length ("batches", "epochs", "records"). */
const char *det_core_searcher_unit(const struct det_core *core);

/* Rank, size, local and cross ranks (DET_RANK ...; a single process when unset). */
struct det_core_dist det_core_distributed(const struct det_core *core);

/* Report n metrics at steps_completed. answer (may be NULL) gets stop/preempt. */
int det_core_report_metrics(struct det_core *core, enum det_core_group group,
                            int64_t steps_completed, const struct det_core_metric *metrics,
                            size_t n, struct det_core_answer *answer, char *err, size_t errlen);

/* Report progress as a fraction in [0, 1]. */
int det_core_report_progress(struct det_core *core, double fraction, char *err, size_t errlen);

/* Tell the master the trial ends early (then exit 0). INVALID_HP makes the
 * launcher claim a replacement trial. */
int det_core_early_exit(struct det_core *core, enum det_core_exit_reason reason, char *err,
                        size_t errlen);

/* 1 when the trial should checkpoint and exit now (preemption, a user's
 * kill, the searcher's stop, a SIGTERM under det-launch, which init blocks
 * when nothing handles it); 0 otherwise. Cheap enough to call every batch. */
int det_core_should_preempt(struct det_core *core);

/* Start a checkpoint: a fresh temporary directory to write files into. */
struct det_core_ckpt *det_core_checkpoint_begin(struct det_core *core, char *err, size_t errlen);

/* The directory to write the checkpoint's files into. */
const char *det_core_ckpt_path(const struct det_core_ckpt *ckpt);

/* Finish: checksum every file, write metadata.json, rename the directory to
 * its uuid and register it. metadata_json is a JSON object text or NULL.
 * uuid receives the checkpoint's id. ckpt is freed in every case. */
int det_core_checkpoint_commit(struct det_core *core, struct det_core_ckpt *ckpt,
                               int64_t steps_completed, const char *metadata_json,
                               char uuid[DET_CORE_UUID_BYTES], char *err, size_t errlen);

/* Throw a started checkpoint away (removes its directory; NULL is fine). */
void det_core_checkpoint_abort(struct det_core_ckpt *ckpt);

/* Locate checkpoint uuid and verify every file's size and SHA-256 against
 * the registry (the master's, or metadata.json off-cluster). The verified
 * directory's path goes into path. */
int det_core_checkpoint_restore(struct det_core *core, const char *uuid, char *path, size_t pathlen,
                                char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
