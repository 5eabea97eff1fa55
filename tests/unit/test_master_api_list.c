/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Paging and sorting of list answers (api_list.c): parameters, order, nulls last, pages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "master/api_list.h"

/* Rows {id, m, s, hp: {x}} where m and hp.x may be missing. */
static json_t *rows(void)
{
	return json_loads("[{\"id\": 1, \"m\": 0.5, \"s\": \"b\", \"hp\": {\"x\": 3}},"
	                  " {\"id\": 2, \"m\": null, \"s\": \"a\", \"hp\": {\"x\": 1}},"
	                  " {\"id\": 3, \"m\": 0.1, \"s\": \"c\", \"hp\": {}},"
	                  " {\"id\": 4, \"m\": 0.5, \"s\": \"a\", \"hp\": {\"x\": 2}},"
	                  " {\"id\": 5, \"s\": \"d\", \"hp\": {\"x\": 5}}]",
	                  0, NULL);
}

/* The ids of a page as "1 2 3". */
static void ids(json_t *page, char *out, size_t len)
{
	size_t i, n = 0;
	json_t *r;
	out[0] = '\0';
	json_array_foreach (page, i, r)
		n += (size_t)snprintf(out + n, len - n, "%s%lld", i ? " " : "",
		                      (long long)json_integer_value(json_object_get(r, "id")));
}

static void test_order_and_pages(void **state)
{
	(void)state;
	const struct {
		const char *order_by, *order, *limit, *offset, *want;
		size_t total;
	} cases[] = {
	    {NULL, NULL, NULL, NULL, "1 2 3 4 5", 5},     /* no order: as given */
	    {"m", "asc", NULL, NULL, "3 1 4 2 5", 5},     /* ties by id, missing last */
	    {"m", "desc", NULL, NULL, "1 4 3 2 5", 5},    /* missing last in desc too */
	    {"s", "asc", "2", "1", "4 1", 5},             /* strings; a page */
	    {"hp.x", "desc", NULL, NULL, "5 1 4 2 3", 5}, /* COLUMN.KEY, missing key last */
	    {"hp.x", "asc", "10", "4", "3", 5},           /* the last page */
	    {"id", "desc", "2", "9", "", 5},              /* past the end: empty, total kept */
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct api_list_query q;
		char err[256], got[128];
		size_t total = 0;
		json_t *r = rows();
		assert_int_equal(api_list_parse(cases[k].limit, cases[k].offset, cases[k].order_by,
		                                cases[k].order, &q, err, sizeof(err)),
		                 0);
		json_t *page = api_list_page(r, &q, "id", &total, err, sizeof(err));
		assert_non_null(page);
		ids(page, got, sizeof(got));
		assert_string_equal(got, cases[k].want);
		assert_int_equal(total, cases[k].total);
		json_decref(page);
		json_decref(r);
	}
}

static void test_bad_parameters(void **state)
{
	(void)state;
	const struct {
		const char *limit, *offset, *order_by, *order, *names;
	} cases[] = {
	    {"x", NULL, NULL, NULL, "limit: "},        {"10001", NULL, NULL, NULL, "limit: "},
	    {"-1", NULL, NULL, NULL, "limit: "},       {"", NULL, NULL, NULL, "limit: "},
	    {NULL, "-5", NULL, NULL, "offset: "},      {NULL, "1e3", NULL, NULL, "offset: "},
	    {NULL, NULL, NULL, "up", "order: "},       {NULL, NULL, "a'b", NULL, "order_by: "},
	    {NULL, NULL, "a.b.c", NULL, "order_by: "}, {NULL, NULL, ".a", NULL, "order_by: "},
	    {NULL, NULL, "a.", NULL, "order_by: "},    {NULL, NULL, "", NULL, "order_by: "},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct api_list_query q;
		char err[256] = "";
		assert_int_equal(api_list_parse(cases[k].limit, cases[k].offset, cases[k].order_by,
		                                cases[k].order, &q, err, sizeof(err)),
		                 -1);
		assert_non_null(strstr(err, cases[k].names));
	}
}

static void test_unknown_column(void **state)
{
	(void)state;
	struct api_list_query q;
	char err[256];
	size_t total;
	json_t *r = rows(), *empty = json_array();
	assert_int_equal(api_list_parse(NULL, NULL, "nope", NULL, &q, err, sizeof(err)), 0);
	assert_null(api_list_page(r, &q, "id", &total, err, sizeof(err)));
	assert_non_null(strstr(err, "nope is not a column"));
	assert_int_equal(api_list_parse(NULL, NULL, "s.x", NULL, &q, err, sizeof(err)), 0);
	assert_null(api_list_page(r, &q, "id", &total, err, sizeof(err))); /* s is no object */
	json_t *page = api_list_page(empty, &q, "id", &total, err, sizeof(err));
	assert_non_null(page); /* nothing to check a column against: an empty page */
	assert_int_equal(total, 0);
	json_decref(page);
	json_decref(empty);
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_and_pages),
	    cmocka_unit_test(test_bad_parameters),
	    cmocka_unit_test(test_unknown_column),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
