/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Streaming (non-temporal) stores for outputs of large operations: an ordinary store first
 * reads the destination line from memory (read for ownership); a streaming store does not,
 * which saves a third of the memory traffic of an allreduce that does not fit in cache.
 *
 * Data structure: none; head and tail elements go through the ordinary paths, the 16-byte
 * aligned body through SSE streaming stores (x86-64 baseline), elsewhere plain stores.
 *
 * Non-obvious decision: streaming stores are weakly ordered, so dc_stream_fence() must run
 * before the release store that tells peers the data is there.
 */
#include <config.h>

#include <stdint.h>
#include <string.h>

#include "detcomm_internal.h"

#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#define DC_STREAM 1
#else
#define DC_STREAM 0
#endif

void dc_stream_fence(void)
{
#if DC_STREAM
	_mm_sfence();
#endif
}

void dc_copy_stream(char *dst, const char *src, size_t bytes)
{
#if DC_STREAM
	size_t head = (16 - ((uintptr_t)dst & 15)) & 15, i;

	if (bytes < 4096) {
		memcpy(dst, src, bytes);
		return;
	}
	memcpy(dst, src, head);
	dst += head, src += head, bytes -= head;
	for (i = 0; i + 64 <= bytes; i += 64) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(src + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(src + i + 16));
		__m128i c = _mm_loadu_si128((const __m128i *)(const void *)(src + i + 32));
		__m128i d = _mm_loadu_si128((const __m128i *)(const void *)(src + i + 48));
		_mm_stream_si128((__m128i *)(void *)(dst + i), a);
		_mm_stream_si128((__m128i *)(void *)(dst + i + 16), b);
		_mm_stream_si128((__m128i *)(void *)(dst + i + 32), c);
		_mm_stream_si128((__m128i *)(void *)(dst + i + 48), d);
	}
	memcpy(dst + i, src + i, bytes - i);
#else
	memcpy(dst, src, bytes);
#endif
}

void dc_sum_f32_stream(const char *const *srcs, int nsrc, char *const *dsts, int ndst, size_t n,
                       float divisor)
{
#if DC_STREAM
	const char *s[DC_STREAM_MAX];
	char *d[DC_STREAM_MAX];
	uintptr_t mis = (uintptr_t)dsts[0] & 15;
	size_t head, i, o;
	int j;

	for (j = 0; j < ndst; j++)
		if (((uintptr_t)dsts[j] & 15) != mis)
			mis = 1; /* different alignments: no common aligned body */
	if (mis & 3 || nsrc > DC_STREAM_MAX || ndst > DC_STREAM_MAX || n < 1024) {
		dc_reduce(DETCOMM_F32, srcs, nsrc, DETCOMM_F32, dsts, ndst, n, divisor);
		return;
	}
	head = ((16 - mis) & 15) / 4;
	dc_reduce(DETCOMM_F32, srcs, nsrc, DETCOMM_F32, dsts, ndst, head, divisor);
	for (i = head; i + 8 <= n; i += 8) {
		__m128 x0, x1, dv = _mm_set1_ps(divisor);
		o = 4 * i;
		x0 = _mm_loadu_ps((const float *)(const void *)(srcs[0] + o));
		x1 = _mm_loadu_ps((const float *)(const void *)(srcs[0] + o + 16));
		for (j = 1; j < nsrc; j++) {
			x0 = _mm_add_ps(x0,
			                _mm_loadu_ps((const float *)(const void *)(srcs[j] + o)));
			x1 = _mm_add_ps(
			    x1, _mm_loadu_ps((const float *)(const void *)(srcs[j] + o + 16)));
		}
		if (divisor > 1.0f) {
			x0 = _mm_div_ps(x0, dv);
			x1 = _mm_div_ps(x1, dv);
		}
		for (j = 0; j < ndst; j++) {
			_mm_stream_ps((float *)(void *)(dsts[j] + o), x0);
			_mm_stream_ps((float *)(void *)(dsts[j] + o + 16), x1);
		}
	}
	for (j = 0; j < nsrc; j++)
		s[j] = srcs[j] + 4 * i;
	for (j = 0; j < ndst; j++)
		d[j] = dsts[j] + 4 * i;
	dc_reduce(DETCOMM_F32, s, nsrc, DETCOMM_F32, d, ndst, n - i, divisor);
#else
	dc_reduce(DETCOMM_F32, srcs, nsrc, DETCOMM_F32, dsts, ndst, n, divisor);
#endif
}
