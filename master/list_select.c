/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Page selection for lists held in memory (the experiment list): a page at
 * offset o of limit l needs only the first o + l = k items in order. A
 * quickselect moves them to the front (O(n) on average, a bounded heap,
 * O(n log k), where the pivots do badly), then only those k are sorted: no
 * allocation, where sorting 100,000 experiments for a page of 50 cost most
 * of a request.
 */
#include <stdlib.h>
#include <string.h>

#include "list_select.h"

static void swap_bytes(unsigned char *x, unsigned char *y, size_t size)
{
	unsigned char t[64];
	while (size) {
		size_t c = size < sizeof(t) ? size : sizeof(t);
		memcpy(t, x, c);
		memcpy(x, y, c);
		memcpy(y, t, c);
		x += c;
		y += c;
		size -= c;
	}
}

/* Restore the max-heap below root in base[0 .. n). */
static void sift_down(unsigned char *base, size_t n, size_t size, size_t root, list_select_cmp cmp,
                      void *ctx)
{
	for (;;) {
		size_t big = root, l = 2 * root + 1, r = l + 1;
		if (l < n && cmp(base + l * size, base + big * size, ctx) > 0)
			big = l;
		if (r < n && cmp(base + r * size, base + big * size, ctx) > 0)
			big = r;
		if (big == root)
			return;
		swap_bytes(base + root * size, base + big * size, size);
		root = big;
	}
}

/* The first k of base[0 .. n) (0 < k <= n) to the front, sorted, by a heap:
 * O(n log k) whatever the input order. */
static void heap_first(unsigned char *base, size_t n, size_t size, size_t k, list_select_cmp cmp,
                       void *ctx)
{
	for (size_t i = k / 2; i-- > 0;)
		sift_down(base, k, size, i, cmp, ctx);
	/* the heap's top is the last of the k first seen so far */
	for (size_t i = k; i < n; i++) {
		if (cmp(base + i * size, base, ctx) < 0) {
			swap_bytes(base + i * size, base, size);
			sift_down(base, k, size, 0, cmp, ctx);
		}
	}
	for (size_t end = k; end > 1; end--) {
		swap_bytes(base, base + (end - 1) * size, size);
		sift_down(base, end - 1, size, 0, cmp, ctx);
	}
}

/* Partition base[lo .. hi) around the median of its first, middle and last
 * items; returns where that pivot ends (everything before it is smaller). */
static size_t partition(unsigned char *base, size_t lo, size_t hi, size_t size, list_select_cmp cmp,
                        void *ctx)
{
	unsigned char *a = base + lo * size, *m = base + (lo + (hi - lo) / 2) * size,
	              *z = base + (hi - 1) * size;
	if (cmp(m, a, ctx) < 0)
		swap_bytes(m, a, size);
	if (cmp(z, m, ctx) < 0) {
		swap_bytes(z, m, size);
		if (cmp(m, a, ctx) < 0)
			swap_bytes(m, a, size);
	}
	swap_bytes(a, m, size); /* the median, as pivot, at lo */
	size_t store = lo + 1;
	for (size_t i = lo + 1; i < hi; i++) {
		if (cmp(base + i * size, a, ctx) < 0) {
			if (i != store)
				swap_bytes(base + i * size, base + store * size, size);
			store++;
		}
	}
	swap_bytes(a, base + (store - 1) * size, size);
	return store - 1;
}

size_t list_select_first(void *items, size_t n, size_t size, size_t k, list_select_cmp cmp,
                         void *ctx)
{
	unsigned char *base = items;
	size_t lo = 0, hi = n, budget = 8;
	if (k > n)
		k = n;
	if (!k)
		return 0;
	for (size_t m = n; m > 1; m /= 2)
		budget += 2;
	/* Quickselect narrows [lo, hi) to hold the k-th item (O(n) on average); a
	 * heap finishes a short range, or one the pivots failed to split. */
	while (hi - lo > 32 && budget-- > 0) {
		size_t p = partition(base, lo, hi, size, cmp, ctx);
		if (p == k || p + 1 == k) {
			lo = hi = p;
			break;
		}
		if (p > k)
			hi = p;
		else
			lo = p + 1;
	}
	if (hi > lo && k > lo)
		heap_first(base + lo * size, hi - lo, size, (k < hi ? k : hi) - lo, cmp, ctx);
	qsort_r(base, k, size, cmp, ctx);
	return k;
}
