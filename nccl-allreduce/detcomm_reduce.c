/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Element-wise reduction kernels of the CPU engine and the f16/bf16 conversions.
 *
 * Data structure: a block of at most DC_BLOCK f32 accumulators on the stack; every source
 * is converted into it and every destination written from it.
 *
 * Non-obvious decision: elements are loaded and stored through memcpy of one element, so
 * any pointer alignment is valid C (odd offsets are part of the API); gcc and clang turn
 * these into plain (vector) loads, and the accumulator block keeps the loops alias-free.
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "detcomm_internal.h"

#define DC_BLOCK 1024

float dc_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ffu;
	uint32_t bits;
	float f;

	if (exp == 0x1f) {
		bits = sign | 0x7f800000u | (man << 13);
	} else if (exp != 0) {
		bits = sign | ((exp + 112) << 23) | (man << 13);
	} else {
		/* zero or subnormal: man * 2^-24, exact in f32 */
		f = (float)man * 0x1p-24f;
		memcpy(&bits, &f, sizeof(bits));
		bits |= sign;
	}
	memcpy(&f, &bits, sizeof(f));
	return f;
}

uint16_t dc_f32_to_f16(float f)
{
	uint32_t x, sign, absx;
	memcpy(&x, &f, sizeof(x));
	sign = (x >> 16) & 0x8000u;
	absx = x & 0x7fffffffu;
	if (absx > 0x7f800000u)
		return (uint16_t)(sign | 0x7e00u); /* NaN */
	if (absx >= 0x477ff000u)
		return (uint16_t)(sign | 0x7c00u); /* rounds to infinity */
	if (absx < 0x38800000u) {
		/* subnormal half (or zero): round absx * 2^24 to nearest even */
		float a;
		memcpy(&a, &absx, sizeof(a));
		return (uint16_t)(sign | (uint32_t)nearbyintf(a * 0x1p24f));
	}
	/* normal: rebias, round to nearest even on the 13 dropped bits */
	absx -= (uint32_t)(127 - 15) << 23;
	absx += 0x0fffu + ((absx >> 13) & 1u);
	return (uint16_t)(sign | (absx >> 13));
}

float dc_bf16_to_f32(uint16_t h)
{
	uint32_t bits = (uint32_t)h << 16;
	float f;
	memcpy(&f, &bits, sizeof(f));
	return f;
}

uint16_t dc_f32_to_bf16(float f)
{
	uint32_t x;
	memcpy(&x, &f, sizeof(x));
	if ((x & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)((x >> 16) | 0x40u); /* quiet NaN */
	x += 0x7fffu + ((x >> 16) & 1u);
	return (uint16_t)(x >> 16);
}

float dc_elem_get(enum detcomm_dtype dt, const char *p, size_t i)
{
	uint16_t h;
	float v;

	if (dt == DETCOMM_F32) {
		memcpy(&v, p + 4 * i, 4);
		return v;
	}
	memcpy(&h, p + 2 * i, 2);
	return dt == DETCOMM_F16 ? dc_f16_to_f32(h) : dc_bf16_to_f32(h);
}

void dc_elem_put(enum detcomm_dtype dt, char *p, size_t i, float v)
{
	uint16_t h;

	if (dt == DETCOMM_F32) {
		memcpy(p + 4 * i, &v, 4);
		return;
	}
	h = dt == DETCOMM_F16 ? dc_f32_to_f16(v) : dc_f32_to_bf16(v);
	memcpy(p + 2 * i, &h, 2);
}

float dc_elem_round(enum detcomm_dtype dt, float v)
{
	if (dt == DETCOMM_F16)
		return dc_f16_to_f32(dc_f32_to_f16(v));
	if (dt == DETCOMM_BF16)
		return dc_bf16_to_f32(dc_f32_to_bf16(v));
	return v;
}

static void load_block(enum detcomm_dtype dt, const char *src, float *acc, size_t n, int add)
{
	size_t i;
	uint16_t h;
	float v;

	switch (dt) {
	case DETCOMM_F32:
		for (i = 0; i < n; i++) {
			memcpy(&v, src + 4 * i, 4);
			acc[i] = add ? acc[i] + v : v;
		}
		break;
	case DETCOMM_F16:
		for (i = 0; i < n; i++) {
			memcpy(&h, src + 2 * i, 2);
			v = dc_f16_to_f32(h);
			acc[i] = add ? acc[i] + v : v;
		}
		break;
	case DETCOMM_BF16:
		for (i = 0; i < n; i++) {
			memcpy(&h, src + 2 * i, 2);
			v = dc_bf16_to_f32(h);
			acc[i] = add ? acc[i] + v : v;
		}
		break;
	}
}

static void store_block(enum detcomm_dtype dt, char *dst, const float *acc, size_t n)
{
	size_t i;
	uint16_t h;

	switch (dt) {
	case DETCOMM_F32:
		memcpy(dst, acc, 4 * n);
		break;
	case DETCOMM_F16:
		for (i = 0; i < n; i++) {
			h = dc_f32_to_f16(acc[i]);
			memcpy(dst + 2 * i, &h, 2);
		}
		break;
	case DETCOMM_BF16:
		for (i = 0; i < n; i++) {
			h = dc_f32_to_bf16(acc[i]);
			memcpy(dst + 2 * i, &h, 2);
		}
		break;
	}
}

/* Eight floats: one AVX register, two SSE registers on the baseline target. */
typedef float dc_v8f __attribute__((vector_size(32)));

/*
 * f32 sum of nsrc sources into ndst destinations, 16 elements per step; loads of a step
 * happen before its stores, so a destination may be one of the sources (in place).
 * divide is a constant at each call site, so the compiler emits a loop without it.
 */
static inline void sum_f32(const char *const *srcs, int nsrc, char *const *dsts, int ndst, size_t n,
                           float divisor, int divide)
{
	const dc_v8f dv = {divisor, divisor, divisor, divisor, divisor, divisor, divisor, divisor};
	size_t i, o;
	dc_v8f x0, x1, y0, y1;
	float v;
	int j;

	for (i = 0; i + 16 <= n; i += 16) {
		o = 4 * i;
		memcpy(&x0, srcs[0] + o, 32);
		memcpy(&x1, srcs[0] + o + 32, 32);
		for (j = 1; j < nsrc; j++) {
			memcpy(&y0, srcs[j] + o, 32);
			memcpy(&y1, srcs[j] + o + 32, 32);
			x0 += y0;
			x1 += y1;
		}
		if (divide) {
			x0 /= dv;
			x1 /= dv;
		}
		for (j = 0; j < ndst; j++) {
			memcpy(dsts[j] + o, &x0, 32);
			memcpy(dsts[j] + o + 32, &x1, 32);
		}
	}
	for (; i < n; i++) {
		float y;
		memcpy(&v, srcs[0] + 4 * i, 4);
		for (j = 1; j < nsrc; j++) {
			memcpy(&y, srcs[j] + 4 * i, 4);
			v += y;
		}
		if (divide)
			v /= divisor;
		for (j = 0; j < ndst; j++)
			memcpy(dsts[j] + 4 * i, &v, 4);
	}
}

/* x86-64: also compile the hot kernel for AVX2 and AVX-512, chosen at load time. */
#if defined(__x86_64__) && defined(__GNUC__) &&                                                    \
    (defined(__clang__) ? __clang_major__ >= 14 : __GNUC__ >= 6)
#define DC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DC_CLONES
#endif

/* The hot case, two ranks: two sources, one or two destinations, specialised. */
DC_CLONES static void sum2_f32(const char *const *srcs, char *const *dsts, int ndst, size_t n,
                               float divisor)
{
	if (divisor > 1.0f) {
		if (ndst == 2)
			sum_f32(srcs, 2, dsts, 2, n, divisor, 1);
		else
			sum_f32(srcs, 2, dsts, 1, n, divisor, 1);
	} else {
		if (ndst == 2)
			sum_f32(srcs, 2, dsts, 2, n, 1.0f, 0);
		else
			sum_f32(srcs, 2, dsts, 1, n, 1.0f, 0);
	}
}

void dc_reduce(enum detcomm_dtype sdt, const char *const *srcs, int nsrc, enum detcomm_dtype ddt,
               char *const *dsts, int ndst, size_t count, float divisor)
{
	float acc[DC_BLOCK];
	size_t ss = detcomm_dtype_size(sdt), ds = detcomm_dtype_size(ddt), off = 0, i, m;
	int j;

	if (sdt == DETCOMM_F32 && ddt == DETCOMM_F32) {
		if (nsrc == 2 && ndst >= 1 && ndst <= 2)
			sum2_f32(srcs, dsts, ndst, count, divisor);
		else if (divisor > 1.0f)
			sum_f32(srcs, nsrc, dsts, ndst, count, divisor, 1);
		else
			sum_f32(srcs, nsrc, dsts, ndst, count, 1.0f, 0);
		return;
	}
	while (off < count) {
		m = count - off < DC_BLOCK ? count - off : DC_BLOCK;
		for (j = 0; j < nsrc; j++)
			load_block(sdt, srcs[j] + off * ss, acc, m, j > 0);
		if (divisor > 1.0f)
			for (i = 0; i < m; i++)
				acc[i] /= divisor;
		for (j = 0; j < ndst; j++)
			store_block(ddt, dsts[j] + off * ds, acc, m);
		off += m;
	}
}
