/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The training loop's state: network, optimizer, data order and progress,
 * with save and load of all of it for bit-identical resumption.
 */
#ifndef FM_TRAIN_H
#define FM_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "fm_data.h"
#include "fm_mlp.h"
#include "fm_rng.h"

struct fm_hparams {
	double learning_rate, momentum, weight_decay;
	int hidden[FM_MLP_MAX_LAYERS - 1]; /* 0 ends the list */
	int batch_size;
};

struct fm_trainer {
	struct fm_mlp *net;
	struct fm_sgd opt;
	const struct fm_dataset *train;
	uint64_t seed;
	int batch_size;
	int64_t steps;      /* batches trained */
	int64_t perm_epoch; /* the epoch perm holds, -1 for none */
	uint32_t *perm;
	struct fm_rng rng; /* drawn from for initialization; saved with the weights */
	float *xb;
	uint8_t *yb;
	fm_grad_hook hook; /* gradient averaging across ranks (NULL: one process) */
	void *hook_ctx;
	int shard_rank, shard_size; /* this rank's slice of every global batch */
};

/* A trainer for train (borrowed) with hyperparameters hp, seeded by seed. */
struct fm_trainer *fm_trainer_new(const struct fm_hparams *hp, const struct fm_dataset *train,
                                  uint64_t seed, char *err, size_t errlen);

/* Free (NULL is fine). */
void fm_trainer_free(struct fm_trainer *t);

/* Train on slice rank of size equal slices of every global batch (data
 * parallel: the hook averages the slices' gradients). -1 with err unless
 * size divides the batch size. */
int fm_trainer_set_shard(struct fm_trainer *t, int rank, int size, char *err, size_t errlen);

/* Train one batch; its mean loss in *loss. -1 with err if the hook fails. */
int fm_trainer_step(struct fm_trainer *t, double *loss, char *err, size_t errlen);

/* Mean loss and accuracy of the network on d. */
void fm_trainer_evaluate(struct fm_trainer *t, const struct fm_dataset *d, double *loss,
                         double *accuracy);

/* Write weights, optimizer state, RNG state and progress into dir/model.bin. */
int fm_trainer_save(const struct fm_trainer *t, const char *dir, char *err, size_t errlen);

/* Read dir/model.bin back; its shape must match this trainer's. */
int fm_trainer_load(struct fm_trainer *t, const char *dir, char *err, size_t errlen);

#endif
