/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Partial selection of a page from a list: the first k items in sort order
 * without sorting all of them (quickselect, a bounded heap as fallback). */
#ifndef DET_MASTER_LIST_SELECT_H
#define DET_MASTER_LIST_SELECT_H

#include <stddef.h>

/* Order of two items, as for qsort_r: negative, 0, positive. */
typedef int (*list_select_cmp)(const void *a, const void *b, void *ctx);

/* Rearrange items (n of size bytes each) so that items[0 .. min(n, k)) hold
 * the min(n, k) first items in cmp's order, sorted; the rest are left in no
 * order. cmp must be a total order (break ties, e.g. by id) for the page to
 * be the same as a full sort's. Returns min(n, k). No allocation. */
size_t list_select_first(void *items, size_t n, size_t size, size_t k, list_select_cmp cmp,
                         void *ctx);

#endif
