/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The JSON fast path for request bodies (master/json_fast.c) against
 * json_loadb: on a table of plain and hostile inputs, and on many random
 * mutations of them, whatever the fast path returns must be exactly what
 * json_loadb returns (types, number bits, key order), and it must decline
 * (NULL) every input json_loadb rejects or that lies outside its subset. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "master/json_fast.h"

struct row {
	const char *text;
	size_t len; /* 0: strlen(text) */
	int fast;   /* 1: the fast path must take it; 0: it must decline */
};

static const struct row rows[] = {
    /* What trials send. */
    {"{\"group\":\"training\",\"steps_completed\":12,\"metrics\":{\"loss\":0.333,\"acc\":0.5}}", 0,
     1},
    {"{\"group\": \"validation\", \"steps_completed\": 0,\n \"metrics\": {\"loss\": 1e-3}}", 0, 1},
    {" \t\r\n{ \"a\" : 1 , \"b\" : -2.5E+3 } \n", 0, 1},
    {"{}", 0, 1},
    {" { } ", 0, 1},
    {"{\"\":1}", 0, 1},
    {"{\"t\":true,\"f\":false,\"n\":null,\"s\":\"text with spaces/and:punct, {}[]\"}", 0, 1},
    {"{\"z\":-0,\"zr\":-0.0,\"e\":1E5,\"e2\":1e-5,\"e3\":2.5e+3,\"i\":0}", 0, 1},
    /* Large but representable numbers. */
    {"{\"max\":9223372036854775807,\"min\":-9223372036854775808}", 0, 1},
    {"{\"r\":123456789012345678901234567890.5}", 0, 1},
    {"{\"r\":1.7976931348623157e308}", 0, 1},
    {"{\"a\":{\"b\":{\"c\":{\"d\":1}}}}", 0, 1},
    /* Out of range numbers: json_loadb rejects or converts with ERANGE. */
    {"{\"big\":9223372036854775808}", 0, 0},
    {"{\"big\":-9223372036854775809}", 0, 0},
    {"{\"big\":99999999999999999999999999}", 0, 0},
    {"{\"inf\":1e400}", 0, 0},
    {"{\"inf\":-1e400}", 0, 0},
    {"{\"tiny\":1e-400}", 0, 0},
    {"{\"subnormal\":4.9e-324}", 0, 0},
    {"{\"long\":1.00000000000000000000000000000000000000000000000001}", 0, 0},
    /* Not JSON numbers. */
    {"{\"x\":NaN}", 0, 0},
    {"{\"x\":nan}", 0, 0},
    {"{\"x\":Infinity}", 0, 0},
    {"{\"x\":-Infinity}", 0, 0},
    {"{\"x\":01}", 0, 0},
    {"{\"x\":-01}", 0, 0},
    {"{\"x\":-}", 0, 0},
    {"{\"x\":1.}", 0, 0},
    {"{\"x\":.5}", 0, 0},
    {"{\"x\":+1}", 0, 0},
    {"{\"x\":1e}", 0, 0},
    {"{\"x\":1e+}", 0, 0},
    {"{\"x\":0x10}", 0, 0},
    {"{\"x\":1.5.2}", 0, 0},
    {"{\"x\":\"NaN\"}", 0, 1},
    /* Repeated keys: json_loadb keeps the last value. */
    {"{\"a\":1,\"a\":2}", 0, 0},
    {"{\"m\":{\"loss\":1,\"loss\":2}}", 0, 0},
    /* Escapes and bytes outside printable ASCII. */
    {"{\"a\\u0041\":1}", 0, 0},
    {"{\"a\":\"x\\ny\"}", 0, 0},
    {"{\"a\":\"\\\"\"}", 0, 0},
    {"{\"a\\u0000b\":1}", 0, 0},
    {"{\"\xc3\xa9\":1}", 0, 0},
    {"{\"a\":\"\xff\"}", 0, 0},
    {"{\"a\":\"tab\there\"}", 0, 0},
    {"{\"a\":\"del\x7f\"}", 0, 0},
    /* Nesting beyond the fast path, and far beyond jansson's own limit. */
    {"{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":1}}}}}", 0, 0},
    /* Arrays and other top-level values. */
    {"{\"a\":[1,2]}", 0, 0},
    {"[]", 0, 0},
    {"1", 0, 0},
    {"\"s\"", 0, 0},
    {"null", 0, 0},
    /* Broken syntax and trailing bytes. */
    {"", 0, 0},
    {"   ", 0, 0},
    {"{", 0, 0},
    {"{\"a\"}", 0, 0},
    {"{\"a\" 1}", 0, 0},
    {"{\"a\":1,}", 0, 0},
    {"{,\"a\":1}", 0, 0},
    {"{\"a\":1 \"b\":2}", 0, 0},
    {"{\"a\":tru}", 0, 0},
    {"{\"a\":truex}", 0, 0},
    {"{\"a\":nul}", 0, 0},
    {"{\"a\":\"unterminated}", 0, 0},
    {"{a:1}", 0, 0},
    {"{'a':1}", 0, 0},
    {"{}x", 0, 0},
    {"{} {}", 0, 0},
    {"{},", 0, 0},
    {"\xef\xbb\xbf{}", 0, 0},
    {"{\"a\":1}\0", 8, 0},
    {"{\"a\":\0}", 7, 0},
};

/* fast (may be NULL) against json_loadb on the same bytes. */
static void check_same(const char *text, size_t len, int want_fast, const char *what)
{
	json_error_t je;
	json_t *fast = json_fast_object(text, len);
	json_t *slow = json_loadb(text, len, 0, &je);

	if (want_fast >= 0 && (fast != NULL) != want_fast)
		fail_msg("%s: the fast path %s", what, fast ? "took it" : "declined");
	if (fast) {
		if (!slow)
			fail_msg("%s: json_loadb rejects it (%s) but the fast path took it", what,
			         je.text);
		assert_true(json_is_object(slow));
		assert_true(json_equal(fast, slow));
		char *a = json_dumps(fast, JSON_COMPACT | JSON_ENCODE_ANY);
		char *b = json_dumps(slow, JSON_COMPACT | JSON_ENCODE_ANY);
		assert_non_null(a);
		assert_non_null(b);
		if (strcmp(a, b))
			fail_msg("%s: fast %s, json_loadb %s", what, a, b);
		free(a);
		free(b);
	}
	json_decref(fast);
	json_decref(slow);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char what[64];
		snprintf(what, sizeof(what), "row %zu", i);
		check_same(rows[i].text, rows[i].len ? rows[i].len : strlen(rows[i].text),
		           rows[i].fast, what);
	}
}

/* Numbers keep their exact bits (both paths call the same conversions). */
static void test_number_bits(void **state)
{
	static const char *const nums[] = {
	    "0.1",   "0.333", "1e-3",       "-0.0", "2.2250738585072014e-308",
	    "1e308", "2.5",   "3.14159e-7", "1E22", "123.456e-12"};
	(void)state;
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		char text[64];
		snprintf(text, sizeof(text), "{\"x\":%s}", nums[i]);
		json_t *fast = json_fast_object(text, strlen(text));
		json_t *slow = json_loadb(text, strlen(text), 0, NULL);
		assert_non_null(fast);
		assert_non_null(slow);
		double a = json_real_value(json_object_get(fast, "x"));
		double b = json_real_value(json_object_get(slow, "x"));
		assert_memory_equal(&a, &b, sizeof(a));
		assert_int_equal(signbit(a), signbit(b));
		json_decref(fast);
		json_decref(slow);
	}
}

/* Deep nesting: declined (json_loadb rejects past its own limit). */
static void test_deep_nesting(void **state)
{
	size_t depth = 5000, n = 0;
	char *text = malloc(depth * 6 + 8);
	(void)state;
	assert_non_null(text);
	for (size_t i = 0; i < depth; i++)
		n += (size_t)sprintf(text + n, "{\"a\":");
	n += (size_t)sprintf(text + n, "1");
	for (size_t i = 0; i < depth; i++)
		text[n++] = '}';
	check_same(text, n, 0, "5000 levels");
	free(text);
}

/* Random byte changes of every table row: never a different answer. */
static void test_mutations(void **state)
{
	static const char alphabet[] = "{}[]:,\"\\ 0123456789.eE+-tfnaulrsx\x7f\x80\t\n";
	unsigned seed = 12345;
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t len = rows[i].len ? rows[i].len : strlen(rows[i].text);
		for (int m = 0; m < 400; m++) {
			char buf[256], what[64];
			if (len == 0 || len >= sizeof(buf))
				break;
			memcpy(buf, rows[i].text, len);
			for (int k = 0; k < 1 + m % 3; k++) {
				seed = seed * 1103515245u + 12345u;
				size_t at = (seed >> 8) % len;
				seed = seed * 1103515245u + 12345u;
				buf[at] = alphabet[(seed >> 8) % (sizeof(alphabet) - 1)];
			}
			snprintf(what, sizeof(what), "row %zu mutation %d", i, m);
			check_same(buf, len, -1, what);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_number_bits),
	    cmocka_unit_test(test_deep_nesting),
	    cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
