/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Templates (common/expconf_merge.c): YAML to plain JSON with core-schema
 * scalars, and a template merged under a config (the config wins, maps merge
 * key by key, lists and scalars are replaced). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "expconf.h"

static json_t *yaml(const char *text)
{
	char err[256];
	json_t *j = expconf_yaml_json(text, strlen(text), err, sizeof(err));
	assert_non_null(j);
	return j;
}

static void test_scalars_typed_by_the_core_schema(void **state)
{
	(void)state;
	json_t *j = yaml("a: 3\nb: -2.5e-3\nc: true\nd: ~\ne: '3'\nf: 0x1f\ng: text\nh: [1, x]\n");
	assert_int_equal(json_integer_value(json_object_get(j, "a")), 3);
	assert_true(json_is_real(json_object_get(j, "b")));
	assert_true(json_is_true(json_object_get(j, "c")));
	assert_true(json_is_null(json_object_get(j, "d")));
	assert_string_equal(json_string_value(json_object_get(j, "e")), "3");
	assert_string_equal(json_string_value(json_object_get(j, "f")), "0x1f");
	assert_string_equal(json_string_value(json_object_get(j, "g")), "text");
	assert_int_equal(json_array_size(json_object_get(j, "h")), 2);
	json_decref(j);
}

static void test_not_a_map_or_not_yaml_is_refused(void **state)
{
	(void)state;
	char err[256];
	assert_null(expconf_yaml_json("- a\n- b\n", 8, err, sizeof(err)));
	assert_null(expconf_yaml_json("a: [1, 2\n", 9, err, sizeof(err)));
	assert_null(expconf_yaml_json("", 0, err, sizeof(err)));
}

static void test_config_wins_and_maps_merge(void **state)
{
	(void)state;
	json_t *t = yaml("x: 1\nm: {a: 1, b: 2, n: {p: 1}}\nl: [1, 2, 3]\ns: tmpl\n");
	json_t *c = yaml("x: 2\nm: {b: 3, n: {q: 2}}\nl: [9]\nnew: yes\n");
	json_t *m = expconf_merge(t, c);
	assert_non_null(m);
	assert_int_equal(json_integer_value(json_object_get(m, "x")), 2);
	json_t *mm = json_object_get(m, "m");
	assert_int_equal(json_integer_value(json_object_get(mm, "a")), 1);
	assert_int_equal(json_integer_value(json_object_get(mm, "b")), 3);
	assert_int_equal(json_object_size(json_object_get(mm, "n")), 2);
	assert_int_equal(json_array_size(json_object_get(m, "l")), 1);
	assert_string_equal(json_string_value(json_object_get(m, "s")), "tmpl");
	assert_non_null(json_object_get(m, "new"));
	/* Neither input changed. */
	assert_int_equal(json_integer_value(json_object_get(t, "x")), 1);
	assert_int_equal(json_object_size(json_object_get(json_object_get(t, "m"), "n")), 1);
	json_decref(t);
	json_decref(c);
	json_decref(m);
}

static void test_merged_text_is_a_valid_config(void **state)
{
	(void)state;
	json_t *t = yaml("searcher: {name: single, metric: loss, max_length: {batches: 1}}\n");
	json_t *c = yaml("name: x\nentrypoint: python3 t.py\nhyperparameters: {lr: 0.1}\n");
	json_t *m = expconf_merge(t, c);
	char *text = json_dumps(m, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	struct expconf_diags d = {0};
	struct expconf *conf = expconf_parse(text, strlen(text), "merged", &d);
	assert_non_null(conf);
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(expconf_json(conf), "searcher"), "metric")),
	                    "loss");
	expconf_free(conf);
	expconf_diags_free(&d);
	free(text);
	json_decref(t);
	json_decref(c);
	json_decref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scalars_typed_by_the_core_schema),
	    cmocka_unit_test(test_not_a_map_or_not_yaml_is_refused),
	    cmocka_unit_test(test_config_wins_and_maps_merge),
	    cmocka_unit_test(test_merged_text_is_a_valid_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
