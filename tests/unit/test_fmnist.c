/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Fashion-MNIST example's pieces: the RNG, the MLP's gradients against
 * finite differences, the gradient-averaging hook, learning on synthetic
 * data, the IDX reader (with damaged files), and bit-identical resumption
 * through a libdetcore checkpoint in off-cluster mode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "det/core.h"
#include "fm_data.h"
#include "fm_mlp.h"
#include "fm_rng.h"
#include "fm_train.h"

static void test_rng_is_deterministic_and_bounded(void **state)
{
	struct fm_rng a, b;
	fm_rng_seed(&a, 42);
	fm_rng_seed(&b, 42);
	for (int i = 0; i < 1000; i++)
		assert_true(fm_rng_next(&a) == fm_rng_next(&b));
	fm_rng_seed(&b, 43);
	assert_true(fm_rng_next(&a) != fm_rng_next(&b));
	int seen[7] = {0};
	for (int i = 0; i < 7000; i++) {
		uint64_t x = fm_rng_below(&a, 7);
		assert_true(x < 7);
		seen[x]++;
	}
	for (int i = 0; i < 7; i++)
		assert_true(seen[i] > 800);
	double sum = 0;
	for (int i = 0; i < 10000; i++)
		sum += fm_rng_normal(&a);
	assert_true(sum / 10000 < 0.05 && sum / 10000 > -0.05);
}

/* A synthetic dataset: class c lights up pixels [c*78, c*78+78) plus noise. */
static void synthetic(struct fm_dataset *d, size_t n, uint64_t seed)
{
	struct fm_rng r;
	fm_rng_seed(&r, seed);
	d->n = n;
	d->x = calloc(n * FM_PIXELS, sizeof(float));
	d->y = malloc(n);
	assert_non_null(d->x);
	assert_non_null(d->y);
	for (size_t i = 0; i < n; i++) {
		int c = (int)fm_rng_below(&r, FM_CLASSES);
		d->y[i] = (uint8_t)c;
		for (int p = 0; p < FM_PIXELS; p++)
			d->x[i * FM_PIXELS + p] = (float)(fm_rng_uniform(&r) * 0.3);
		for (int p = c * 78; p < c * 78 + 78; p++)
			d->x[i * FM_PIXELS + p] += 0.7f;
	}
}

static void test_gradients_match_finite_differences(void **state)
{
	int sizes[] = {6, 5, 4, 3};
	struct fm_rng r;
	char err[256];
	fm_rng_seed(&r, 7);
	struct fm_mlp *m = fm_mlp_new(sizes, 3, 4, &r, err, sizeof(err));
	assert_non_null(m);
	float x[24];
	uint8_t y[4] = {0, 2, 1, 2};
	for (int i = 0; i < 24; i++)
		x[i] = (float)fm_rng_uniform(&r);
	for (int l = 0; l < 3; l++)
		for (size_t i = 0; i < fm_mlp_biases(m, l); i++)
			m->b[l][i] = 0.1f;
	double loss;
	fm_mlp_forward(m, x, y, 4, &loss, NULL);
	fm_mlp_backward(m, y, 4);
	int checked = 0;
	for (int l = 0; l < 3; l++) {
		for (size_t i = 0; i < fm_mlp_weights(m, l); i += 3) {
			float keep = m->w[l][i];
			double lp, lm, eps = 1e-2;
			m->w[l][i] = keep + (float)eps;
			fm_mlp_forward(m, x, y, 4, &lp, NULL);
			m->w[l][i] = keep - (float)eps;
			fm_mlp_forward(m, x, y, 4, &lm, NULL);
			m->w[l][i] = keep;
			double num = (lp - lm) / (2 * eps);
			double ana = m->gw[l][i];
			if (!(num - ana < 2e-3 && ana - num < 2e-3))
				fail_msg("layer %d weight %zu: numeric %g analytic %g", l, i, num,
				         ana);
			checked++;
		}
		float keep = m->b[l][0];
		double lp, lm, eps = 1e-2;
		m->b[l][0] = keep + (float)eps;
		fm_mlp_forward(m, x, y, 4, &lp, NULL);
		m->b[l][0] = keep - (float)eps;
		fm_mlp_forward(m, x, y, 4, &lm, NULL);
		m->b[l][0] = keep;
		double num = (lp - lm) / (2 * eps);
		assert_true(num - m->gb[l][0] < 2e-3 && m->gb[l][0] - num < 2e-3);
	}
	assert_true(checked > 10);
	fm_mlp_free(m);
}

struct hook_log {
	size_t n;
	size_t counts[8];
	int zero;
};

static int record_hook(void *ctx, float *const *bufs, const size_t *counts, size_t n)
{
	struct hook_log *h = ctx;
	h->n = n;
	for (size_t i = 0; i < n; i++) {
		h->counts[i] = counts[i];
		if (h->zero)
			memset(bufs[i], 0, counts[i] * sizeof(float));
	}
	return 0;
}

static struct fm_hparams hparams(int batch)
{
	struct fm_hparams hp;
	memset(&hp, 0, sizeof(hp));
	hp.learning_rate = 0.05;
	hp.momentum = 0.9;
	hp.weight_decay = 1e-4;
	hp.hidden[0] = 32;
	hp.hidden[1] = 16;
	hp.batch_size = batch;
	return hp;
}

static void test_hook_sees_every_gradient_tensor_before_the_update(void **state)
{
	struct fm_dataset d;
	char err[256];
	synthetic(&d, 64, 1);
	struct fm_hparams hp = hparams(16);
	hp.weight_decay = 0;
	struct fm_trainer *t = fm_trainer_new(&hp, &d, 5, err, sizeof(err));
	assert_non_null(t);
	struct hook_log log = {0, {0}, 1};
	t->hook = record_hook;
	t->hook_ctx = &log;
	float before = t->net->w[0][100];
	double loss;
	assert_int_equal(fm_trainer_step(t, &loss, err, sizeof(err)), 0);
	assert_int_equal(log.n, 6);
	assert_int_equal(log.counts[0], 32 * 784);
	assert_int_equal(log.counts[1], 32);
	assert_int_equal(log.counts[2], 16 * 32);
	assert_int_equal(log.counts[5], 10);
	/* the hook zeroed the gradients, so nothing moved */
	assert_true(t->net->w[0][100] == before);
	fm_trainer_free(t);
	fm_data_free(&d);
}

static void test_training_learns_synthetic_classes(void **state)
{
	struct fm_dataset d, v;
	char err[256];
	synthetic(&d, 1000, 2);
	synthetic(&v, 200, 3);
	struct fm_hparams hp = hparams(32);
	struct fm_trainer *t = fm_trainer_new(&hp, &d, 9, err, sizeof(err));
	assert_non_null(t);
	double l0, a0, l1, a1, loss;
	fm_trainer_evaluate(t, &v, &l0, &a0);
	for (int i = 0; i < 150; i++)
		assert_int_equal(fm_trainer_step(t, &loss, err, sizeof(err)), 0);
	fm_trainer_evaluate(t, &v, &l1, &a1);
	assert_true(l1 < l0 / 2);
	assert_true(a1 > 0.9);
	fm_trainer_free(t);
	fm_data_free(&d);
	fm_data_free(&v);
}

static void assert_same_state(const struct fm_trainer *a, const struct fm_trainer *b)
{
	assert_int_equal(a->steps, b->steps);
	for (int l = 0; l < a->net->nlayers; l++) {
		size_t nw = fm_mlp_weights(a->net, l) * sizeof(float);
		size_t nb = fm_mlp_biases(a->net, l) * sizeof(float);
		assert_memory_equal(a->net->w[l], b->net->w[l], nw);
		assert_memory_equal(a->net->vw[l], b->net->vw[l], nw);
		assert_memory_equal(a->net->b[l], b->net->b[l], nb);
		assert_memory_equal(a->net->vb[l], b->net->vb[l], nb);
	}
	assert_memory_equal(a->rng.s, b->rng.s, sizeof(a->rng.s));
}

static void test_resume_from_checkpoint_is_bit_identical(void **state)
{
	char dir[] = "/tmp/test_fmnist_XXXXXX", err[256], uuid[DET_CORE_UUID_BYTES], path[512];
	assert_non_null(mkdtemp(dir));
	unsetenv("DET_MASTER");
	unsetenv("DET_CHECKPOINT_DIR");
	setenv("DET_LOCAL_DIR", dir, 1);
	struct fm_dataset d;
	synthetic(&d, 500, 4); /* 15 batches of 32 per epoch: 40 batches cross epochs */
	struct fm_hparams hp = hparams(32);
	double loss;
	struct fm_trainer *straight = fm_trainer_new(&hp, &d, 11, err, sizeof(err));
	for (int i = 0; i < 40; i++)
		assert_int_equal(fm_trainer_step(straight, &loss, err, sizeof(err)), 0);

	struct det_core *core = det_core_init(err, sizeof(err));
	assert_non_null(core);
	struct fm_trainer *first = fm_trainer_new(&hp, &d, 11, err, sizeof(err));
	for (int i = 0; i < 20; i++)
		assert_int_equal(fm_trainer_step(first, &loss, err, sizeof(err)), 0);
	struct det_core_ckpt *ck = det_core_checkpoint_begin(core, err, sizeof(err));
	assert_non_null(ck);
	assert_int_equal(fm_trainer_save(first, det_core_ckpt_path(ck), err, sizeof(err)), 0);
	assert_int_equal(det_core_checkpoint_commit(core, ck, 20, NULL, uuid, err, sizeof(err)), 0);
	fm_trainer_free(first);

	/* a fresh process would start from a differently seeded network: load must overwrite it */
	struct fm_trainer *resumed = fm_trainer_new(&hp, &d, 999, err, sizeof(err));
	if (det_core_checkpoint_restore(core, uuid, path, sizeof(path), err, sizeof(err)) < 0)
		fail_msg("%s", err);
	if (fm_trainer_load(resumed, path, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(resumed->steps, 20);
	for (int i = 0; i < 20; i++)
		assert_int_equal(fm_trainer_step(resumed, &loss, err, sizeof(err)), 0);
	assert_same_state(straight, resumed);

	/* a checkpoint of another shape is refused */
	struct fm_hparams other = hparams(32);
	other.hidden[0] = 33;
	struct fm_trainer *wrong = fm_trainer_new(&other, &d, 1, err, sizeof(err));
	assert_int_equal(fm_trainer_load(wrong, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "another network shape"));

	fm_trainer_free(wrong);
	fm_trainer_free(resumed);
	fm_trainer_free(straight);
	det_core_free(core);
	fm_data_free(&d);
	char cmd[128];
	/* the test's own temporary directory, a fixed pattern: no user data */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void write_gz(const char *path, const void *data, size_t n)
{
	gzFile f = gzopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(gzwrite(f, data, (unsigned)n), (int)n);
	gzclose(f);
}

static void test_idx_reader_checks_its_input(void **state)
{
	char img[] = "/tmp/test_fm_img_XXXXXX", lab[] = "/tmp/test_fm_lab_XXXXXX", err[512];
	close(mkstemp(img));
	close(mkstemp(lab));
	uint8_t ih[16 + 2 * 784] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28};
	uint8_t lh[10] = {0, 0, 8, 1, 0, 0, 0, 2, 3, 9};
	ih[16] = 255;
	write_gz(img, ih, sizeof(ih));
	write_gz(lab, lh, sizeof(lh));
	struct fm_dataset d;
	assert_int_equal(fm_data_load(img, lab, 0, &d, err, sizeof(err)), 0);
	assert_int_equal(d.n, 2);
	assert_true(d.x[0] == 1.0f);
	assert_true(d.x[1] == 0.0f);
	assert_int_equal(d.y[1], 9);
	fm_data_free(&d);
	lh[9] = 10; /* a label out of range */
	write_gz(lab, lh, sizeof(lh));
	assert_int_equal(fm_data_load(img, lab, 0, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "out of range"));
	lh[9] = 1;
	write_gz(lab, lh, sizeof(lh) - 1); /* truncated */
	assert_int_equal(fm_data_load(img, lab, 0, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "truncated"));
	ih[3] = 1; /* wrong magic */
	write_gz(img, ih, sizeof(ih));
	write_gz(lab, lh, sizeof(lh));
	assert_int_equal(fm_data_load(img, lab, 0, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not an IDX file"));
	unlink(img);
	assert_int_equal(fm_data_load(img, lab, 0, &d, err, sizeof(err)), -1);
	unlink(lab);
}

static void test_real_dataset_when_installed(void **state)
{
	const char *img = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
	const char *lab = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz";
	char err[512];
	struct fm_dataset d;
	if (access(img, R_OK) != 0) {
		skip();
		return;
	}
	assert_int_equal(fm_data_load(img, lab, 500, &d, err, sizeof(err)), 0);
	assert_int_equal(d.n, 500);
	fm_data_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rng_is_deterministic_and_bounded),
	    cmocka_unit_test(test_gradients_match_finite_differences),
	    cmocka_unit_test(test_hook_sees_every_gradient_tensor_before_the_update),
	    cmocka_unit_test(test_training_learns_synthetic_classes),
	    cmocka_unit_test(test_resume_from_checkpoint_is_bit_identical),
	    cmocka_unit_test(test_idx_reader_checks_its_input),
	    cmocka_unit_test(test_real_dataset_when_installed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
