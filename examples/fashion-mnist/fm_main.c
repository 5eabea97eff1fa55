/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det-example-fashion-mnist: trains the MLP as a det-slurm trial through
 * libdetcore. Hyperparameters come from the trial; training runs for the
 * searcher's length in batches, validating (and checkpointing) every
 * validation_period batches; the test set is evaluated once, at the end.
 * Non-obvious: the train/validation split is drawn with a fixed seed, not
 * the trial's, so every trial validates on the same held-out examples and
 * their metrics compare. With several slots every rank trains on its slice
 * of each global batch and evaluates a slice of the held-out sets (fm_dist);
 * rank 0 alone reports and checkpoints, and shares the master's answers.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "det/core.h"
#include "fm_data.h"
#include "fm_dist.h"
#include "fm_train.h"

#define SPLIT_SEED 20240917ULL

struct fm_config {
	struct fm_hparams hp;
	int64_t train_examples, validation_examples, validation_period, report_period;
	int64_t length;
	char data_dir[PATH_MAX / 2];
};

static int64_t hp_int_or(struct det_core *c, const char *name, int64_t def)
{
	int64_t v;
	char err[256];
	return det_core_hparam_int(c, name, &v, err, sizeof(err)) == 0 ? v : def;
}

static int read_config(struct det_core *c, struct fm_config *cfg, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	if (det_core_hparam_double(c, "learning_rate", &cfg->hp.learning_rate, err, errlen) < 0)
		return -1;
	int64_t b;
	if (det_core_hparam_int(c, "batch_size", &b, err, errlen) < 0)
		return -1;
	if (b < 1 || b > 4096) {
		snprintf(err, errlen, "batch_size %lld: not within [1, 4096]", (long long)b);
		return -1;
	}
	cfg->hp.batch_size = (int)b;
	cfg->hp.momentum = 0.0;
	det_core_hparam_double(c, "momentum", &cfg->hp.momentum, err, errlen);
	cfg->hp.weight_decay = 0.0;
	det_core_hparam_double(c, "weight_decay", &cfg->hp.weight_decay, err, errlen);
	static const char *const hidden[] = {"hidden1", "hidden2", "hidden3"};
	for (int i = 0, n = 0; i < 3; i++) {
		int64_t h = hp_int_or(c, hidden[i], i == 0 ? 128 : 0);
		if (h < 0 || h > 4096) {
			snprintf(err, errlen, "%s %lld: not within [0, 4096]", hidden[i],
			         (long long)h);
			return -1;
		}
		if (h > 0)
			cfg->hp.hidden[n++] = (int)h;
	}
	cfg->train_examples = hp_int_or(c, "train_examples", 50000);
	cfg->validation_examples = hp_int_or(c, "validation_examples", 10000);
	cfg->validation_period = hp_int_or(c, "validation_period", 200);
	cfg->report_period = hp_int_or(c, "report_period", 50);
	if (cfg->train_examples < 1 || cfg->validation_examples < 1 ||
	    cfg->train_examples + cfg->validation_examples > 60000 || cfg->validation_period < 1 ||
	    cfg->report_period < 1) {
		snprintf(err, errlen,
		         "train_examples + validation_examples must fit in 60000, "
		         "periods must be positive");
		return -1;
	}
	cfg->length = det_core_searcher_length(c);
	if (cfg->length <= 0)
		cfg->length = hp_int_or(c, "max_batches", 1000);
	const char *dir = getenv("FASHION_MNIST_DIR");
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s",
	         dir && *dir ? dir : "/usr/share/datasets/fashion-mnist");
	return 0;
}

static int load_data(const struct fm_config *cfg, struct fm_dataset *train, struct fm_dataset *val,
                     struct fm_dataset *test, char *err, size_t errlen)
{
	char img[PATH_MAX], lab[PATH_MAX];
	struct fm_dataset all;
	int rv = -1;
	uint32_t *idx = NULL;
	snprintf(img, sizeof(img), "%s/train-images-idx3-ubyte.gz", cfg->data_dir);
	snprintf(lab, sizeof(lab), "%s/train-labels-idx1-ubyte.gz", cfg->data_dir);
	if (fm_data_load(img, lab, 0, &all, err, errlen) < 0)
		return -1;
	idx = malloc(all.n * sizeof(*idx));
	if (!idx) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	struct fm_rng r;
	fm_rng_seed(&r, SPLIT_SEED);
	for (size_t i = 0; i < all.n; i++)
		idx[i] = (uint32_t)i;
	for (size_t i = all.n - 1; i > 0; i--) {
		size_t j = (size_t)fm_rng_below(&r, i + 1);
		uint32_t t = idx[i];
		idx[i] = idx[j];
		idx[j] = t;
	}
	/* validation: the first examples of the fixed shuffle; training: the next */
	if ((size_t)(cfg->train_examples + cfg->validation_examples) > all.n) {
		snprintf(err, errlen, "the training file has only %zu examples", all.n);
		goto fail;
	}
	if (fm_data_subset(&all, idx, (size_t)cfg->validation_examples, val, err, errlen) < 0 ||
	    fm_data_subset(&all, idx + cfg->validation_examples, (size_t)cfg->train_examples, train,
	                   err, errlen) < 0)
		goto fail;
	snprintf(img, sizeof(img), "%s/t10k-images-idx3-ubyte.gz", cfg->data_dir);
	snprintf(lab, sizeof(lab), "%s/t10k-labels-idx1-ubyte.gz", cfg->data_dir);
	if (fm_data_load(img, lab, 0, test, err, errlen) < 0)
		goto fail;
	rv = 0;
fail:
	free(idx);
	fm_data_free(&all);
	return rv;
}

/* Mean loss and accuracy on d, each rank evaluating one slice of it. */
static int evaluate(struct fm_dist *dist, struct fm_trainer *t, const struct fm_dataset *d,
                    double *loss, double *accuracy, char *err, size_t errlen)
{
	size_t lo = d->n * (size_t)dist->rank / (size_t)dist->size;
	size_t hi = d->n * (size_t)(dist->rank + 1) / (size_t)dist->size;
	struct fm_dataset part = {hi - lo, d->x + lo * FM_PIXELS, d->y + lo};
	double l = 0, a = 0;
	fm_trainer_evaluate(t, &part, &l, &a);
	double sums[2] = {l * (double)part.n, a * (double)part.n};
	if (fm_dist_sum(dist, sums, 2, err, errlen) < 0)
		return -1;
	*loss = d->n ? sums[0] / (double)d->n : 0.0;
	*accuracy = d->n ? sums[1] / (double)d->n : 0.0;
	return 0;
}

static int checkpoint(struct det_core *c, struct fm_trainer *t, char *err, size_t errlen)
{
	char uuid[DET_CORE_UUID_BYTES], meta[128];
	struct det_core_ckpt *ck = det_core_checkpoint_begin(c, err, errlen);
	if (!ck)
		return -1;
	if (fm_trainer_save(t, det_core_ckpt_path(ck), err, errlen) < 0) {
		det_core_checkpoint_abort(ck);
		return -1;
	}
	snprintf(meta, sizeof(meta), "{\"format\": \"det-fashion-mnist/1\", \"batches\": %lld}",
	         (long long)t->steps);
	if (det_core_checkpoint_commit(c, ck, t->steps, meta, uuid, err, errlen) < 0)
		return -1;
	printf("checkpoint %s at batch %lld\n", uuid, (long long)t->steps);
	return 0;
}

static int validate(struct det_core *c, struct fm_dist *dist, struct fm_trainer *t,
                    const struct fm_dataset *val, const struct fm_dataset *test, int final,
                    struct det_core_answer *ans, char *err, size_t errlen)
{
	double vl, va, tl = 0, ta = 0;
	if (evaluate(dist, t, val, &vl, &va, err, errlen) < 0)
		return -1;
	struct det_core_metric m[5] = {{"validation_loss", vl},
	                               {"validation_accuracy", va},
	                               {"batches", (double)t->steps},
	                               {"test_loss", 0},
	                               {"test_accuracy", 0}};
	size_t n = 3;
	if (final) {
		if (evaluate(dist, t, test, &tl, &ta, err, errlen) < 0)
			return -1;
		m[3].value = tl;
		m[4].value = ta;
		n = 5;
	}
	if (dist->rank != 0)
		return 0; /* rank 0 reports; fm_dist_share passes its answer on */
	printf("batch %lld: validation loss %.4f accuracy %.4f", (long long)t->steps, vl, va);
	if (final)
		printf("; test loss %.4f accuracy %.4f", tl, ta);
	printf("\n");
	fflush(stdout);
	return det_core_report_metrics(c, DET_CORE_VALIDATION, t->steps, m, n, ans, err, errlen);
}

static int train(struct det_core *c, struct fm_dist *dist, const struct fm_config *cfg,
                 struct fm_trainer *t, const struct fm_dataset *val, const struct fm_dataset *test,
                 char *err, size_t errlen)
{
	double sum = 0.0;
	int64_t since = 0;
	struct det_core_answer ans = {0, 0};
	int chief = dist->rank == 0;
	while (t->steps < cfg->length) {
		double loss;
		if (fm_trainer_step(t, &loss, err, errlen) < 0)
			return -1;
		sum += loss;
		since++;
		if (t->steps % cfg->report_period == 0) {
			double mean = sum / (double)since;
			if (fm_dist_mean(dist, &mean, err, errlen) < 0)
				return -1;
			struct det_core_metric m[2] = {{"loss", mean},
			                               {"batches", (double)t->steps}};
			if (chief && det_core_report_metrics(c, DET_CORE_TRAINING, t->steps, m, 2,
			                                     NULL, err, errlen) < 0)
				return -1;
			sum = 0.0;
			since = 0;
		}
		int done = t->steps == cfg->length;
		int decision[2] = {0, 0}; /* stop, preempt: rank 0's, shared with every rank */
		if (done || t->steps % cfg->validation_period == 0) {
			if (validate(c, dist, t, val, test, done, &ans, err, errlen) < 0)
				return -1;
			if (chief) {
				if (checkpoint(c, t, err, errlen) < 0)
					return -1;
				det_core_report_progress(c, (double)t->steps / (double)cfg->length,
				                         err, errlen);
				decision[0] = ans.stop;
				decision[1] = ans.preempt;
			}
			if (fm_dist_share(dist, decision, 2, err, errlen) < 0)
				return -1;
			if (!done && (decision[0] || decision[1])) {
				if (chief)
					printf("stopping at batch %lld (%s)\n", (long long)t->steps,
					       decision[0] ? "the searcher stopped this trial"
					                   : "preempted");
				return 0;
			}
		}
		if (done)
			break;
		decision[1] = chief && det_core_should_preempt(c);
		if (fm_dist_share(dist, &decision[1], 1, err, errlen) < 0)
			return -1;
		if (decision[1]) {
			if (!chief)
				return 0;
			printf("preempted at batch %lld: checkpointing\n", (long long)t->steps);
			return checkpoint(c, t, err, errlen);
		}
	}
	return 0;
}

/* FM_WEIGHTS_OUT=DIR: every rank saves its final state in DIR/rank<N>, so a
 * test can compare the ranks' weights byte for byte. */
static int dump_weights(const struct fm_dist *dist, const struct fm_trainer *t, char *err,
                        size_t errlen)
{
	const char *out = getenv("FM_WEIGHTS_OUT");
	char dir[PATH_MAX];
	if (!out || !*out)
		return 0;
	snprintf(dir, sizeof(dir), "%s/rank%d", out, dist->rank);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%.200s: %s", dir, strerror(errno));
		return -1;
	}
	return fm_trainer_save(t, dir, err, errlen);
}

/* An invalid hyperparameter: rank 0 tells the master; every rank exits 0. */
static void invalid_hparams(struct det_core *c, const struct fm_dist *dist, const char *why)
{
	char err[256];
	if (dist->rank == 0)
		det_core_early_exit(c, DET_CORE_EXIT_INVALID_HP, err, sizeof(err));
	fprintf(stderr, "fashion-mnist: invalid hyperparameters: %s\n", why);
}

int main(void)
{
	char err[1024];
	int code = 1;
	struct fm_config cfg;
	struct fm_dataset train_d = {0}, val_d = {0}, test_d = {0};
	struct fm_trainer *t = NULL;
	struct fm_dist dist = {.size = 1};
	struct det_core *c = det_core_init(err, sizeof(err));
	if (!c)
		goto fail;
	if (fm_dist_init(&dist, err, sizeof(err)) < 0)
		goto fail;
	if (read_config(c, &cfg, err, sizeof(err)) < 0) {
		invalid_hparams(c, &dist, err);
		code = 0;
		goto out;
	}
	if (load_data(&cfg, &train_d, &val_d, &test_d, err, sizeof(err)) < 0)
		goto fail;
	t = fm_trainer_new(&cfg.hp, &train_d, det_core_trial_seed(c), err, sizeof(err));
	if (!t || fm_trainer_set_shard(t, dist.rank, dist.size, err, sizeof(err)) < 0) {
		invalid_hparams(c, &dist, err);
		code = 0;
		goto out;
	}
	t->hook = fm_dist_average_grads;
	t->hook_ctx = &dist;
	const char *latest = det_core_latest_checkpoint(c);
	if (latest && *latest) {
		char path[PATH_MAX];
		if (det_core_checkpoint_restore(c, latest, path, sizeof(path), err, sizeof(err)) <
		        0 ||
		    fm_trainer_load(t, path, err, sizeof(err)) < 0)
			goto fail;
		printf("resumed from checkpoint %s at batch %lld\n", latest, (long long)t->steps);
	}
	if (dist.rank == 0)
		printf("training %lld batches of %d on %zu examples (validation %zu), %d rank%s\n",
		       (long long)cfg.length, cfg.hp.batch_size, train_d.n, val_d.n, dist.size,
		       dist.size == 1 ? "" : "s");
	if (train(c, &dist, &cfg, t, &val_d, &test_d, err, sizeof(err)) < 0 ||
	    dump_weights(&dist, t, err, sizeof(err)) < 0)
		goto fail;
	code = 0;
	goto out;
fail:
	fprintf(stderr, "fashion-mnist: rank %d: %s\n", dist.rank, err);
out:
	fm_trainer_free(t);
	fm_data_free(&train_d);
	fm_data_free(&val_d);
	fm_data_free(&test_d);
	fm_dist_finalize(&dist);
	det_core_free(c);
	return code;
}
