/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Gradient tensor sets of real networks, generated from their architecture definitions:
 * ResNet-50 (bottleneck blocks [3, 4, 6, 3], batch norm, 1000-class fc) and BERT-base
 * (12 layers, hidden 768, 12 heads, FFN 3072, vocabulary 30522, 512 positions, pooler).
 *
 * Data structure: a growing array of element counts, one per parameter tensor, in the
 * order the layers are defined.
 *
 * Non-obvious decision: the published totals (161 tensors / 25,557,032 parameters and
 * 199 tensors / 109,482,240 parameters) are asserted, so a mistake in the generator
 * cannot silently change what the benchmark measures.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf.h"

struct shapes {
	size_t *v;
	size_t n, cap;
	int oom;
};

static void add(struct shapes *s, size_t count)
{
	size_t *g;

	if (s->oom)
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		g = realloc(s->v, s->cap * sizeof(*g));
		if (!g) {
			s->oom = 1;
			return;
		}
		s->v = g;
	}
	s->v[s->n++] = count;
}

/* Convolution without bias followed by batch norm (weight, then gamma and beta). */
static void conv_bn(struct shapes *s, size_t k, size_t cin, size_t cout)
{
	add(s, k * k * cin * cout);
	add(s, cout);
	add(s, cout);
}

static void resnet50(struct shapes *s)
{
	static const size_t blocks[4] = {3, 4, 6, 3}, width[4] = {64, 128, 256, 512};
	size_t in = 64, stage, b;

	conv_bn(s, 7, 3, 64); /* stem */
	for (stage = 0; stage < 4; stage++) {
		for (b = 0; b < blocks[stage]; b++) {
			size_t w = width[stage], out = 4 * w;
			conv_bn(s, 1, in, w);
			conv_bn(s, 3, w, w);
			conv_bn(s, 1, w, out);
			if (b == 0)
				conv_bn(s, 1, in, out); /* projection shortcut */
			in = out;
		}
	}
	add(s, 2048 * 1000); /* fc weight */
	add(s, 1000);        /* fc bias */
}

/* Dense layer: weight and bias. */
static void dense(struct shapes *s, size_t in, size_t out)
{
	add(s, in * out);
	add(s, out);
}

static void layer_norm(struct shapes *s, size_t h)
{
	add(s, h);
	add(s, h);
}

static void bert_base(struct shapes *s)
{
	const size_t hidden = 768, ffn = 3072, vocab = 30522, positions = 512, types = 2;
	int layer;

	add(s, vocab * hidden);
	add(s, positions * hidden);
	add(s, types * hidden);
	layer_norm(s, hidden);
	for (layer = 0; layer < 12; layer++) {
		dense(s, hidden, hidden); /* query */
		dense(s, hidden, hidden); /* key */
		dense(s, hidden, hidden); /* value */
		dense(s, hidden, hidden); /* attention output */
		layer_norm(s, hidden);
		dense(s, hidden, ffn); /* intermediate */
		dense(s, ffn, hidden); /* output */
		layer_norm(s, hidden);
	}
	dense(s, hidden, hidden); /* pooler */
}

int perf_model(const char *name, size_t **counts, size_t *n, char *err, size_t errlen)
{
	struct shapes s = {0};
	size_t want_n, want_total, total = 0, i;

	if (!strcmp(name, "resnet50")) {
		resnet50(&s);
		want_n = 161, want_total = 25557032;
	} else if (!strcmp(name, "bert-base")) {
		bert_base(&s);
		want_n = 199, want_total = 109482240;
	} else {
		snprintf(err, errlen, "unknown tensor set \"%.40s\" (resnet50 or bert-base)", name);
		return -1;
	}
	if (s.oom) {
		free(s.v);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < s.n; i++)
		total += s.v[i];
	if (s.n != want_n || total != want_total) {
		snprintf(err, errlen,
		         "%s: generated %zu tensors / %zu parameters, expected %zu / %zu", name,
		         s.n, total, want_n, want_total);
		free(s.v);
		return -1;
	}
	*counts = s.v;
	*n = s.n;
	return 0;
}
