/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Page selection of in-memory lists (list_select.c): the first k items in
 * order, equal to a full sort's, with ties by id, both orders, short lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "master/list_select.h"

struct item {
	int key;
	int64_t id;
};

/* By key, then by id, both reversed when *desc. */
static int cmp_item(const void *pa, const void *pb, void *ctx)
{
	const struct item *x = pa, *y = pb;
	int r = (x->key > y->key) - (x->key < y->key);
	if (!r)
		r = (x->id > y->id) - (x->id < y->id);
	return *(int *)ctx ? -r : r;
}

/* n items with ids 1..n in a shuffled order and keys from few values (many ties). */
static void fill(struct item *it, size_t n, unsigned *seed, int keys)
{
	for (size_t i = 0; i < n; i++) {
		it[i].id = (int64_t)i + 1;
		it[i].key = rand_r(seed) % keys;
	}
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)rand_r(seed) % i;
		struct item t = it[i - 1];
		it[i - 1] = it[j];
		it[j] = t;
	}
}

static void test_matches_full_sort(void **state)
{
	(void)state;
	static const size_t sizes[] = {0, 1, 2, 3, 7, 50, 333};
	static const size_t ks[] = {0, 1, 2, 5, 49, 50, 51, 332, 333, 334, 1000};
	struct item a[333], b[333];
	unsigned seed = 7;
	for (int desc = 0; desc <= 1; desc++) {
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			for (size_t k = 0; k < sizeof(ks) / sizeof(ks[0]); k++) {
				size_t n = sizes[s];
				fill(a, n, &seed, 1 + (int)(k % 4) * 5);
				memcpy(b, a, n * sizeof(a[0]));
				qsort_r(b, n, sizeof(b[0]), cmp_item, &desc);
				size_t got =
				    list_select_first(a, n, sizeof(a[0]), ks[k], cmp_item, &desc);
				assert_int_equal(got, ks[k] < n ? ks[k] : n);
				for (size_t i = 0; i < got; i++) {
					assert_int_equal(a[i].id, b[i].id);
					assert_int_equal(a[i].key, b[i].key);
				}
			}
		}
	}
}

/* 20,000 items already in order, reversed, or all of one key (ties by id
 * only): the pages at the front, the middle and the end are a full sort's. */
static void test_large_ordered_inputs(void **state)
{
	(void)state;
	enum { N = 20000 };
	static struct item a[N], b[N];
	static const size_t ks[] = {1, 50, 1050, N / 2, N - 1, N, N + 5};
	for (int shape = 0; shape < 3; shape++) {
		for (int desc = 0; desc <= 1; desc++) {
			for (size_t k = 0; k < sizeof(ks) / sizeof(ks[0]); k++) {
				for (size_t i = 0; i < N; i++) {
					a[i].id = shape == 1 ? (int64_t)(N - i) : (int64_t)i + 1;
					a[i].key = shape == 2 ? 7 : (int)a[i].id / 3;
				}
				memcpy(b, a, sizeof(a));
				qsort_r(b, N, sizeof(b[0]), cmp_item, &desc);
				size_t got =
				    list_select_first(a, N, sizeof(a[0]), ks[k], cmp_item, &desc);
				assert_int_equal(got, ks[k] < N ? ks[k] : N);
				for (size_t i = 0; i < got; i++)
					assert_int_equal(a[i].id, b[i].id);
			}
		}
	}
}

static void test_ties_by_id_both_orders(void **state)
{
	(void)state;
	struct item a[6] = {{1, 4}, {0, 6}, {1, 2}, {0, 1}, {1, 5}, {0, 3}};
	int asc = 0, desc = 1;
	/* ascending: keys 0 first, ties by id ascending */
	assert_int_equal(list_select_first(a, 6, sizeof(a[0]), 4, cmp_item, &asc), 4);
	assert_int_equal(a[0].id, 1);
	assert_int_equal(a[1].id, 3);
	assert_int_equal(a[2].id, 6);
	assert_int_equal(a[3].id, 2);
	/* descending: keys 1 first, ties by id descending */
	assert_int_equal(list_select_first(a, 6, sizeof(a[0]), 3, cmp_item, &desc), 3);
	assert_int_equal(a[0].id, 5);
	assert_int_equal(a[1].id, 4);
	assert_int_equal(a[2].id, 2);
}

static void test_offset_past_the_end(void **state)
{
	(void)state;
	struct item a[3] = {{2, 3}, {1, 2}, {0, 1}};
	int asc = 0;
	/* offset 5, limit 10 of 3 items: every item comes back sorted, the page is empty */
	size_t got = list_select_first(a, 3, sizeof(a[0]), 5 + 10, cmp_item, &asc);
	assert_int_equal(got, 3);
	assert_true(5 >= got);
	assert_int_equal(a[0].id, 1);
	assert_int_equal(a[2].id, 3);
	assert_int_equal(list_select_first(NULL, 0, sizeof(a[0]), 10, cmp_item, &asc), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_matches_full_sort),
	    cmocka_unit_test(test_large_ordered_inputs),
	    cmocka_unit_test(test_ties_by_id_both_orders),
	    cmocka_unit_test(test_offset_past_the_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
