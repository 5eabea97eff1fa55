/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A multilayer perceptron (ReLU hidden layers, softmax output) trained by
 * SGD with momentum and weight decay, on BLAS (cblas_sgemm).
 */
#ifndef FM_MLP_H
#define FM_MLP_H

#include <stddef.h>
#include <stdint.h>

#include "fm_rng.h"

#define FM_MLP_MAX_LAYERS 4 /* weight layers */

/* Called between computing and applying the gradients with every gradient
 * tensor (one contiguous buffer each): data-parallel training averages them
 * across ranks here (an allreduce of n buffers). 0 or -1. */
typedef int (*fm_grad_hook)(void *ctx, float *const *bufs, const size_t *counts, size_t n);

struct fm_mlp {
	int nlayers;                      /* weight layers */
	int sizes[FM_MLP_MAX_LAYERS + 1]; /* sizes[0] inputs ... sizes[nlayers] classes */
	int max_batch;
	float *w[FM_MLP_MAX_LAYERS]; /* sizes[l+1] x sizes[l], row-major */
	float *b[FM_MLP_MAX_LAYERS];
	float *vw[FM_MLP_MAX_LAYERS]; /* momentum buffers */
	float *vb[FM_MLP_MAX_LAYERS];
	float *gw[FM_MLP_MAX_LAYERS]; /* gradients, one contiguous buffer per tensor */
	float *gb[FM_MLP_MAX_LAYERS];
	float *act[FM_MLP_MAX_LAYERS + 1]; /* max_batch x sizes[l] */
	float *delta[FM_MLP_MAX_LAYERS + 1];
};

struct fm_sgd {
	float lr, momentum, weight_decay;
};

/* Build a network with the given layer sizes (inputs first, classes last)
 * for batches up to max_batch; weights drawn with He initialization. */
struct fm_mlp *fm_mlp_new(const int *sizes, int nlayers, int max_batch, struct fm_rng *rng,
                          char *err, size_t errlen);

/* Free (NULL is fine). */
void fm_mlp_free(struct fm_mlp *m);

/* Forward pass; class probabilities of the batch in m->act[nlayers]. Mean
 * cross-entropy against y (may be NULL) in *loss, correct count in *correct. */
void fm_mlp_forward(struct fm_mlp *m, const float *x, const uint8_t *y, int batch, double *loss,
                    int *correct);

/* Gradients of the mean loss of the last forward pass into gw/gb. */
void fm_mlp_backward(struct fm_mlp *m, const uint8_t *y, int batch);

/* Hand every gradient tensor to hook (NULL: nothing to do). */
int fm_mlp_average_gradients(struct fm_mlp *m, fm_grad_hook hook, void *ctx);

/* One SGD step with momentum and decoupled-from-bias weight decay. */
void fm_mlp_apply(struct fm_mlp *m, const struct fm_sgd *opt);

/* Number of floats in weight layer l's weights, biases. */
size_t fm_mlp_weights(const struct fm_mlp *m, int l);
size_t fm_mlp_biases(const struct fm_mlp *m, int l);

#endif
