/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Training state and checkpoints for the Fashion-MNIST example. Batch k of
 * the run is fully determined by (seed, k): epoch e's example order is a
 * Fisher-Yates shuffle with a generator seeded by (seed, e), so resuming
 * needs only the step count, the weights, the momentum buffers and the RNG.
 * Non-obvious: model.bin stores floats in the machine's byte order with a
 * header naming the layout; a checkpoint is for resuming on the same kind
 * of machine, which is what a trial restart is.
 */
#include "fm_train.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FM_MAGIC "DETFMNv1"

struct fm_trainer *fm_trainer_new(const struct fm_hparams *hp, const struct fm_dataset *train,
                                  uint64_t seed, char *err, size_t errlen)
{
	int sizes[FM_MLP_MAX_LAYERS + 1], n = 0;
	struct fm_trainer *t = NULL;
	if (hp->batch_size < 1 || (size_t)hp->batch_size > train->n) {
		snprintf(err, errlen, "batch_size %d: not within [1, %zu]", hp->batch_size,
		         train->n);
		return NULL;
	}
	if (!(hp->learning_rate > 0) || !(hp->momentum >= 0 && hp->momentum < 1) ||
	    !(hp->weight_decay >= 0)) {
		snprintf(err, errlen, "learning_rate > 0, 0 <= momentum < 1, weight_decay >= 0");
		return NULL;
	}
	sizes[n++] = FM_PIXELS;
	for (int i = 0; i < FM_MLP_MAX_LAYERS - 1 && hp->hidden[i] > 0; i++)
		sizes[n++] = hp->hidden[i];
	sizes[n] = FM_CLASSES;
	t = calloc(1, sizeof(*t));
	if (!t)
		goto oom;
	t->train = train;
	t->seed = seed;
	t->batch_size = hp->batch_size;
	t->opt =
	    (struct fm_sgd){(float)hp->learning_rate, (float)hp->momentum, (float)hp->weight_decay};
	t->perm_epoch = -1;
	t->shard_size = 1;
	fm_rng_seed(&t->rng, seed);
	t->net = fm_mlp_new(sizes, n, hp->batch_size, &t->rng, err, errlen);
	if (!t->net)
		goto fail;
	t->perm = malloc(train->n * sizeof(*t->perm));
	t->xb = malloc((size_t)hp->batch_size * FM_PIXELS * sizeof(float));
	t->yb = malloc((size_t)hp->batch_size);
	if (!t->perm || !t->xb || !t->yb)
		goto oom;
	return t;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	fm_trainer_free(t);
	return NULL;
}

void fm_trainer_free(struct fm_trainer *t)
{
	if (!t)
		return;
	fm_mlp_free(t->net);
	free(t->perm);
	free(t->xb);
	free(t->yb);
	free(t);
}

static void make_perm(struct fm_trainer *t, int64_t epoch)
{
	struct fm_rng r;
	size_t n = t->train->n;
	fm_rng_seed(&r, t->seed ^ (0x5851f42d4c957f2dULL * (uint64_t)(epoch + 1)));
	for (size_t i = 0; i < n; i++)
		t->perm[i] = (uint32_t)i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)fm_rng_below(&r, i + 1);
		uint32_t tmp = t->perm[i];
		t->perm[i] = t->perm[j];
		t->perm[j] = tmp;
	}
	t->perm_epoch = epoch;
}

int fm_trainer_set_shard(struct fm_trainer *t, int rank, int size, char *err, size_t errlen)
{
	if (size < 1 || rank < 0 || rank >= size || t->batch_size % size != 0) {
		snprintf(err, errlen, "batch_size %d cannot be split evenly over %d ranks",
		         t->batch_size, size);
		return -1;
	}
	t->shard_rank = rank;
	t->shard_size = size;
	return 0;
}

int fm_trainer_step(struct fm_trainer *t, double *loss, char *err, size_t errlen)
{
	int64_t per_epoch = (int64_t)(t->train->n / (size_t)t->batch_size);
	int64_t epoch = t->steps / per_epoch, k = t->steps % per_epoch;
	int local = t->batch_size / t->shard_size;
	size_t first = (size_t)k * (size_t)t->batch_size + (size_t)t->shard_rank * (size_t)local;
	if (epoch != t->perm_epoch)
		make_perm(t, epoch);
	for (int i = 0; i < local; i++) {
		uint32_t e = t->perm[first + (size_t)i];
		memcpy(t->xb + (size_t)i * FM_PIXELS, t->train->x + (size_t)e * FM_PIXELS,
		       FM_PIXELS * sizeof(float));
		t->yb[i] = t->train->y[e];
	}
	fm_mlp_forward(t->net, t->xb, t->yb, local, loss, NULL);
	fm_mlp_backward(t->net, t->yb, local);
	if (fm_mlp_average_gradients(t->net, t->hook, t->hook_ctx) < 0) {
		snprintf(err, errlen, "averaging gradients failed");
		return -1;
	}
	fm_mlp_apply(t->net, &t->opt);
	t->steps++;
	return 0;
}

void fm_trainer_evaluate(struct fm_trainer *t, const struct fm_dataset *d, double *loss,
                         double *accuracy)
{
	double total = 0.0;
	long correct = 0;
	for (size_t off = 0; off < d->n; off += (size_t)t->batch_size) {
		int b = d->n - off < (size_t)t->batch_size ? (int)(d->n - off) : t->batch_size;
		double l;
		int ok;
		fm_mlp_forward(t->net, d->x + off * FM_PIXELS, d->y + off, b, &l, &ok);
		total += l * b;
		correct += ok;
	}
	*loss = d->n ? total / (double)d->n : 0.0;
	*accuracy = d->n ? (double)correct / (double)d->n : 0.0;
}

struct fm_header {
	char magic[8];
	int32_t nlayers;
	int32_t sizes[FM_MLP_MAX_LAYERS + 1];
	int32_t batch_size;
	int64_t steps;
	uint64_t seed;
	uint64_t rng[4];
};

/* The four tensors of layer l, in file order: weights, biases, their momentum. */
static void layer_tensors(const struct fm_mlp *m, int l, float *t[4], size_t n[4])
{
	t[0] = m->w[l];
	t[1] = m->b[l];
	t[2] = m->vw[l];
	t[3] = m->vb[l];
	n[0] = n[2] = fm_mlp_weights(m, l);
	n[1] = n[3] = fm_mlp_biases(m, l);
}

static int write_tensors(const struct fm_mlp *m, FILE *f)
{
	for (int l = 0; l < m->nlayers; l++) {
		float *t[4];
		size_t n[4];
		layer_tensors(m, l, t, n);
		for (int i = 0; i < 4; i++)
			if (fwrite(t[i], sizeof(float), n[i], f) != n[i])
				return -1;
	}
	return 0;
}

static int read_tensors(const struct fm_mlp *m, FILE *f)
{
	for (int l = 0; l < m->nlayers; l++) {
		float *t[4];
		size_t n[4];
		layer_tensors(m, l, t, n);
		for (int i = 0; i < 4; i++)
			if (fread(t[i], sizeof(float), n[i], f) != n[i])
				return -1;
	}
	return 0;
}

int fm_trainer_save(const struct fm_trainer *t, const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct fm_header h;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, FM_MAGIC, 8);
	h.nlayers = t->net->nlayers;
	for (int l = 0; l <= t->net->nlayers; l++)
		h.sizes[l] = t->net->sizes[l];
	h.batch_size = t->batch_size;
	h.steps = t->steps;
	h.seed = t->seed;
	memcpy(h.rng, t->rng.s, sizeof(h.rng));
	snprintf(path, sizeof(path), "%s/model.bin", dir);
	FILE *f = fopen(path, "wbe");
	if (!f || fwrite(&h, sizeof(h), 1, f) != 1 || write_tensors(t->net, f) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	if (fclose(f) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int fm_trainer_load(struct fm_trainer *t, const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct fm_header h;
	int rv = -1;
	snprintf(path, sizeof(path), "%s/model.bin", dir);
	FILE *f = fopen(path, "rbe");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fread(&h, sizeof(h), 1, f) != 1 || memcmp(h.magic, FM_MAGIC, 8) != 0) {
		snprintf(err, errlen, "%s: not a checkpoint of this example", path);
		goto fail;
	}
	int same = h.nlayers == t->net->nlayers && h.batch_size == t->batch_size && h.steps >= 0;
	for (int l = 0; same && l <= t->net->nlayers; l++)
		same = h.sizes[l] == t->net->sizes[l];
	if (!same) {
		snprintf(err, errlen, "%s: saved for another network shape or batch size", path);
		goto fail;
	}
	if (read_tensors(t->net, f) < 0 || fgetc(f) != EOF) {
		snprintf(err, errlen, "%s: wrong size", path);
		goto fail;
	}
	t->steps = h.steps;
	t->seed = h.seed;
	memcpy(t->rng.s, h.rng, sizeof(h.rng));
	t->perm_epoch = -1;
	rv = 0;
fail:
	fclose(f);
	return rv;
}
