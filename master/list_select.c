/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Page selection for lists held in memory (the experiment list): a page at
 * offset o of limit l needs only the first o + l items in order. Those are
 * kept in a max-heap at the front of the array while the rest stream past,
 * then the heap is sorted in place: O(n log k) compares and no allocation,
 * where sorting 100,000 experiments for a page of 50 cost most of a request.
 */
#include <string.h>

#include "list_select.h"

static void swap_bytes(unsigned char *x, unsigned char *y, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		unsigned char t = x[i];
		x[i] = y[i];
		y[i] = t;
	}
}

/* Restore the max-heap below root in base[0 .. n). */
static void sift_down(unsigned char *base, size_t n, size_t size, size_t root,
                      list_select_cmp cmp, void *ctx)
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

size_t list_select_first(void *items, size_t n, size_t size, size_t k, list_select_cmp cmp,
                         void *ctx)
{
	unsigned char *base = items;
	if (k > n)
		k = n;
	if (!k)
		return 0;
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
	return k;
}
