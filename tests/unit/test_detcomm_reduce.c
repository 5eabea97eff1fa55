/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of libdetcomm's pure parts: f16/bf16 conversions (every value, ties to even,
 * overflow, subnormals), the reduction kernels at odd counts and alignments against a
 * scalar reference, streaming stores, and the generated ResNet-50/BERT gradient sets.
 *
 * Data structure: byte buffers with a misalignment offset; expected values computed with
 * plain scalar float code in the same order of additions, so results compare exactly.
 *
 * Non-obvious decision: the kernels are tested without MPI; the collective paths are
 * covered by tests/detcomm under mpirun.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "detcomm_internal.h"
#include "perf/perf.h"

static void test_f16_roundtrip_every_value(void **state)
{
	uint32_t h;

	for (h = 0; h < 65536; h++) {
		if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff))
			continue; /* NaN payloads are not preserved */
		assert_int_equal(dc_f32_to_f16(dc_f16_to_f32((uint16_t)h)), h);
	}
}

static void test_bf16_roundtrip_every_value(void **state)
{
	uint32_t h;

	for (h = 0; h < 65536; h++) {
		if ((h & 0x7f80) == 0x7f80 && (h & 0x7f))
			continue;
		assert_int_equal(dc_f32_to_bf16(dc_bf16_to_f32((uint16_t)h)), h);
	}
}

static void test_f16_rounding(void **state)
{
	assert_int_equal(dc_f32_to_f16(1.0f + 0x1p-11f), 0x3c00);     /* tie: to even */
	assert_int_equal(dc_f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02); /* tie: up to even */
	assert_int_equal(dc_f32_to_f16(65504.0f), 0x7bff);
	assert_int_equal(dc_f32_to_f16(65519.0f), 0x7bff);
	assert_int_equal(dc_f32_to_f16(65520.0f), 0x7c00); /* overflow to infinity */
	assert_int_equal(dc_f32_to_f16(-1e10f), 0xfc00);
	assert_int_equal(dc_f32_to_f16(0x1p-24f), 0x0001); /* smallest subnormal */
	assert_int_equal(dc_f32_to_f16(0x1p-25f), 0x0000); /* tie to even: zero */
	assert_int_equal(dc_f32_to_f16(3 * 0x1p-25f), 0x0002);
	assert_int_equal(dc_f32_to_f16(-0.0f), 0x8000);
	assert_true(dc_f16_to_f32(0x7e00) != dc_f16_to_f32(0x7e00)); /* NaN */
}

static void test_bf16_rounding(void **state)
{
	assert_int_equal(dc_f32_to_bf16(1.0f + 0x1p-8f), 0x3f80);
	assert_int_equal(dc_f32_to_bf16(1.0f + 3 * 0x1p-8f), 0x3f82);
	assert_int_equal(dc_f32_to_bf16(3.0e38f), 0x7f62);
	assert_int_equal(dc_f32_to_bf16(3.4e38f) & 0x7fff, 0x7f80); /* rounds to infinity */
}

/* n elements of value i*k+1 at byte offset off in a fresh buffer. */
static char *make_f32(size_t n, size_t off, int k)
{
	char *b = malloc(n * 4 + off + 64);
	size_t i;
	float v;

	assert_non_null(b);
	for (i = 0; i < n; i++) {
		v = (float)(i * (size_t)k % 1000) * 0.25f + 1.0f;
		memcpy(b + off + 4 * i, &v, 4);
	}
	return b;
}

static void check_reduce_f32(size_t n, int nsrc, int ndst, float divisor, int stream)
{
	char *sb[6], *db[3];
	const char *srcs[6];
	char *dsts[3];
	size_t i;
	int j;

	for (j = 0; j < nsrc; j++) {
		sb[j] = make_f32(n, (size_t)j * 3 % 4 * 4 + (size_t)j % 2, j + 1);
		srcs[j] = sb[j] + (size_t)j * 3 % 4 * 4 + (size_t)j % 2;
	}
	for (j = 0; j < ndst; j++) {
		db[j] = calloc(1, n * 4 + 64);
		assert_non_null(db[j]);
		dsts[j] = db[j] + (stream ? 4 : (size_t)j + 1);
	}
	if (stream)
		dc_sum_f32_stream(srcs, nsrc, dsts, ndst, n, divisor);
	else
		dc_reduce(DETCOMM_F32, srcs, nsrc, DETCOMM_F32, dsts, ndst, n, divisor);
	for (i = 0; i < n; i++) {
		float want, x, got;
		memcpy(&want, srcs[0] + 4 * i, 4);
		for (j = 1; j < nsrc; j++) {
			memcpy(&x, srcs[j] + 4 * i, 4);
			want += x;
		}
		if (divisor > 1.0f)
			want /= divisor;
		for (j = 0; j < ndst; j++) {
			memcpy(&got, dsts[j] + 4 * i, 4);
			assert_true(got == want);
		}
	}
	for (j = 0; j < nsrc; j++)
		free(sb[j]);
	for (j = 0; j < ndst; j++)
		free(db[j]);
}

static void test_reduce_f32_odd_counts_and_alignments(void **state)
{
	static const size_t ns[] = {0, 1, 7, 15, 16, 17, 33, 1000, 4099};
	size_t i;
	int nsrc, ndst;

	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		for (nsrc = 1; nsrc <= 5; nsrc++)
			for (ndst = 1; ndst <= 3; ndst++) {
				check_reduce_f32(ns[i], nsrc, ndst, 1.0f, 0);
				check_reduce_f32(ns[i], nsrc, ndst, 3.0f, 0);
			}
}

static void test_reduce_f32_streaming_stores(void **state)
{
	static const size_t ns[] = {3, 1023, 1024, 5001, 70000};
	size_t i;

	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		check_reduce_f32(ns[i], 2, 2, 1.0f, 1);
		check_reduce_f32(ns[i], 3, 1, 2.0f, 1);
		check_reduce_f32(ns[i], 4, 3, 1.0f, 1);
	}
}

static void test_reduce_half_types_accumulate_in_f32(void **state)
{
	/* 2048 + 1 + 1 in f16 step by step would stay 2048; in f32 it is 2050 */
	uint16_t a[3] = {0}, b[3], c[3], out[3];
	const char *srcs[3] = {(char *)a, (char *)b, (char *)c};
	char *dsts[1] = {(char *)out};
	int i;

	for (i = 0; i < 3; i++) {
		a[i] = dc_f32_to_f16(2048.0f);
		b[i] = dc_f32_to_f16(1.0f);
		c[i] = dc_f32_to_f16(1.0f);
	}
	dc_reduce(DETCOMM_F16, srcs, 3, DETCOMM_F16, dsts, 1, 3, 1.0f);
	for (i = 0; i < 3; i++)
		assert_true(dc_f16_to_f32(out[i]) == 2050.0f);
	for (i = 0; i < 3; i++) {
		a[i] = dc_f32_to_bf16(256.0f);
		b[i] = c[i] = dc_f32_to_bf16(1.0f);
	}
	dc_reduce(DETCOMM_BF16, srcs, 3, DETCOMM_BF16, dsts, 1, 3, 2.0f);
	for (i = 0; i < 3; i++)
		assert_true(dc_bf16_to_f32(out[i]) == 129.0f);
}

static void test_copy_stream(void **state)
{
	static const size_t sizes[] = {0, 1, 4095, 4096, 4097, 100003};
	size_t i, k;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *src = malloc(sizes[i] + 8), *dst = calloc(1, sizes[i] + 8);
		assert_non_null(src);
		assert_non_null(dst);
		for (k = 0; k < sizes[i] + 8; k++)
			src[k] = (char)(k * 7 + 3);
		dc_copy_stream(dst + 3, src + 1, sizes[i]);
		dc_stream_fence();
		assert_memory_equal(dst + 3, src + 1, sizes[i]);
		assert_int_equal(dst[sizes[i] + 3], 0);
		free(src);
		free(dst);
	}
}

static void check_model(const char *name, size_t want_n, size_t want_total, size_t want_max)
{
	char err[256] = "";
	size_t *counts = NULL, n = 0, i, total = 0, max = 0;

	assert_int_equal(perf_model(name, &counts, &n, err, sizeof(err)), 0);
	assert_int_equal(n, want_n);
	for (i = 0; i < n; i++) {
		total += counts[i];
		if (counts[i] > max)
			max = counts[i];
	}
	assert_int_equal(total, want_total);
	assert_int_equal(max, want_max);
	free(counts);
}

static void test_gradient_sets_match_the_architectures(void **state)
{
	char err[256] = "";
	size_t *counts = NULL, n = 0;

	check_model("resnet50", 161, 25557032, 2359296);    /* 3x3x512x512 conv */
	check_model("bert-base", 199, 109482240, 23440896); /* 30522x768 embedding */
	assert_int_equal(perf_model("vgg", &counts, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown tensor set"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_f16_roundtrip_every_value),
	    cmocka_unit_test(test_bf16_roundtrip_every_value),
	    cmocka_unit_test(test_f16_rounding),
	    cmocka_unit_test(test_bf16_rounding),
	    cmocka_unit_test(test_reduce_f32_odd_counts_and_alignments),
	    cmocka_unit_test(test_reduce_f32_streaming_stores),
	    cmocka_unit_test(test_reduce_half_types_accumulate_in_f32),
	    cmocka_unit_test(test_copy_stream),
	    cmocka_unit_test(test_gradient_sets_match_the_architectures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
