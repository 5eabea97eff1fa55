/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The MLP's arithmetic. Activations are row-major batch x features, weights
 * out x in, so every layer is one cblas_sgemm forward and two backward.
 * Non-obvious: gradients are computed completely into their own buffers
 * before any weight changes, with the averaging hook in between; that
 * split is exactly what data-parallel training needs (compute, allreduce,
 * apply), and the arithmetic order is fixed, so runs are bit-reproducible.
 */
#include "fm_mlp.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t fm_mlp_weights(const struct fm_mlp *m, int l)
{
	return (size_t)m->sizes[l + 1] * (size_t)m->sizes[l];
}

size_t fm_mlp_biases(const struct fm_mlp *m, int l)
{
	return (size_t)m->sizes[l + 1];
}

struct fm_mlp *fm_mlp_new(const int *sizes, int nlayers, int max_batch, struct fm_rng *rng,
                          char *err, size_t errlen)
{
	struct fm_mlp *m = NULL;
	if (nlayers < 1 || nlayers > FM_MLP_MAX_LAYERS || max_batch < 1 || max_batch > 65536) {
		snprintf(err, errlen, "network: 1 to %d layers and batches of 1 to 65536",
		         FM_MLP_MAX_LAYERS);
		return NULL;
	}
	for (int l = 0; l <= nlayers; l++) {
		if (sizes[l] < 1 || sizes[l] > 65536) {
			snprintf(err, errlen, "layer %d: size %d is not within [1, 65536]", l,
			         sizes[l]);
			return NULL;
		}
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		goto oom;
	m->nlayers = nlayers;
	m->max_batch = max_batch;
	memcpy(m->sizes, sizes, (size_t)(nlayers + 1) * sizeof(int));
	for (int l = 0; l < nlayers; l++) {
		size_t nw = fm_mlp_weights(m, l), nb = fm_mlp_biases(m, l);
		m->w[l] = malloc(nw * sizeof(float));
		m->gw[l] = malloc(nw * sizeof(float));
		m->vw[l] = calloc(nw, sizeof(float));
		m->b[l] = calloc(nb, sizeof(float));
		m->gb[l] = malloc(nb * sizeof(float));
		m->vb[l] = calloc(nb, sizeof(float));
		if (!m->w[l] || !m->gw[l] || !m->vw[l] || !m->b[l] || !m->gb[l] || !m->vb[l])
			goto oom;
		double scale = sqrt(2.0 / sizes[l]);
		for (size_t i = 0; i < nw; i++)
			m->w[l][i] = (float)(fm_rng_normal(rng) * scale);
	}
	for (int l = 0; l <= nlayers; l++) {
		m->act[l] = malloc((size_t)max_batch * (size_t)sizes[l] * sizeof(float));
		m->delta[l] = malloc((size_t)max_batch * (size_t)sizes[l] * sizeof(float));
		if (!m->act[l] || !m->delta[l])
			goto oom;
	}
	return m;
oom:
	fm_mlp_free(m);
	snprintf(err, errlen, "out of memory for the network");
	return NULL;
}

void fm_mlp_free(struct fm_mlp *m)
{
	if (!m)
		return;
	for (int l = 0; l < FM_MLP_MAX_LAYERS; l++) {
		free(m->w[l]);
		free(m->b[l]);
		free(m->vw[l]);
		free(m->vb[l]);
		free(m->gw[l]);
		free(m->gb[l]);
	}
	for (int l = 0; l <= FM_MLP_MAX_LAYERS; l++) {
		free(m->act[l]);
		free(m->delta[l]);
	}
	free(m);
}

void fm_mlp_forward(struct fm_mlp *m, const float *x, const uint8_t *y, int batch, double *loss,
                    int *correct)
{
	int L = m->nlayers, classes = m->sizes[L];
	memcpy(m->act[0], x, (size_t)batch * (size_t)m->sizes[0] * sizeof(float));
	for (int l = 0; l < L; l++) {
		int in = m->sizes[l], out = m->sizes[l + 1];
		float *z = m->act[l + 1];
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, out, in, 1.0f,
		            m->act[l], in, m->w[l], in, 0.0f, z, out);
		for (int i = 0; i < batch; i++) {
			float *row = z + (size_t)i * out;
			for (int j = 0; j < out; j++) {
				row[j] += m->b[l][j];
				if (l < L - 1 && row[j] < 0.0f)
					row[j] = 0.0f;
			}
		}
	}
	double total = 0.0;
	int ok = 0;
	for (int i = 0; i < batch; i++) {
		float *p = m->act[L] + (size_t)i * classes;
		float mx = p[0];
		int arg = 0;
		for (int j = 1; j < classes; j++)
			if (p[j] > mx) {
				mx = p[j];
				arg = j;
			}
		double sum = 0.0;
		for (int j = 0; j < classes; j++) {
			p[j] = expf(p[j] - mx);
			sum += p[j];
		}
		for (int j = 0; j < classes; j++)
			p[j] = (float)(p[j] / sum);
		if (y) {
			double py = p[y[i]] > 1e-30f ? p[y[i]] : 1e-30;
			total -= log(py);
			ok += arg == y[i];
		}
	}
	if (loss)
		*loss = y ? total / batch : 0.0;
	if (correct)
		*correct = ok;
}

void fm_mlp_backward(struct fm_mlp *m, const uint8_t *y, int batch)
{
	int L = m->nlayers, classes = m->sizes[L];
	float inv = 1.0f / (float)batch;
	for (int i = 0; i < batch; i++) {
		const float *p = m->act[L] + (size_t)i * classes;
		float *d = m->delta[L] + (size_t)i * classes;
		for (int j = 0; j < classes; j++)
			d[j] = (p[j] - (j == y[i] ? 1.0f : 0.0f)) * inv;
	}
	for (int l = L - 1; l >= 0; l--) {
		int in = m->sizes[l], out = m->sizes[l + 1];
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, batch, 1.0f,
		            m->delta[l + 1], out, m->act[l], in, 0.0f, m->gw[l], in);
		for (int j = 0; j < out; j++) {
			float s = 0.0f;
			for (int i = 0; i < batch; i++)
				s += m->delta[l + 1][(size_t)i * out + j];
			m->gb[l][j] = s;
		}
		if (l == 0)
			break;
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, in, out, 1.0f,
		            m->delta[l + 1], out, m->w[l], in, 0.0f, m->delta[l], in);
		size_t n = (size_t)batch * (size_t)in;
		for (size_t i = 0; i < n; i++)
			if (m->act[l][i] <= 0.0f)
				m->delta[l][i] = 0.0f;
	}
}

int fm_mlp_average_gradients(struct fm_mlp *m, fm_grad_hook hook, void *ctx)
{
	float *bufs[2 * FM_MLP_MAX_LAYERS];
	size_t counts[2 * FM_MLP_MAX_LAYERS];
	size_t n = 0;
	if (!hook)
		return 0;
	for (int l = 0; l < m->nlayers; l++) {
		bufs[n] = m->gw[l];
		counts[n++] = fm_mlp_weights(m, l);
		bufs[n] = m->gb[l];
		counts[n++] = fm_mlp_biases(m, l);
	}
	return hook(ctx, bufs, counts, n);
}

static void sgd(float *p, float *v, const float *g, size_t n, const struct fm_sgd *o, float wd)
{
	for (size_t i = 0; i < n; i++) {
		float grad = g[i] + wd * p[i];
		v[i] = o->momentum * v[i] + grad;
		p[i] -= o->lr * v[i];
	}
}

void fm_mlp_apply(struct fm_mlp *m, const struct fm_sgd *opt)
{
	for (int l = 0; l < m->nlayers; l++) {
		sgd(m->w[l], m->vw[l], m->gw[l], fm_mlp_weights(m, l), opt, opt->weight_decay);
		sgd(m->b[l], m->vb[l], m->gb[l], fm_mlp_biases(m, l), opt, 0.0f);
	}
}
