/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of common/expconf: every accepted form and its normalized JSON,
 * every class of bad input with the exact file:line:col of its message, and
 * the limits (alias bombs, depth, sizes, grid points, diagnostics cap).
 * YAML is inline so that each test shows the lines its locations refer to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "expconf.h"

/* Two required keys, so that the lines of a test's own YAML start at 3. */
#define BASE "entrypoint: python3 train.py\nsearcher: {name: single, metric: loss}\n"

static char *diags_text(const struct expconf_diags *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	expconf_diags_print(d, f);
	fclose(f);
	return buf;
}

/* Parse text that must be valid; returns the config (caller frees). */
static struct expconf *parse_ok(const char *yaml)
{
	struct expconf_diags d;
	struct expconf *c = expconf_parse(yaml, strlen(yaml), "t.yaml", &d);

	if (!c) {
		char *text = diags_text(&d);

		print_error("unexpected errors:\n%s", text);
		free(text);
	}
	assert_non_null(c);
	assert_int_equal(d.errors, 0);
	expconf_diags_free(&d);
	return c;
}

/* Parse text that must fail, and check that every expected line is printed. */
static void expect_errors(const char *yaml, size_t len, size_t nerrors, ...)
{
	struct expconf_diags d;
	struct expconf *c = expconf_parse(yaml, len, "t.yaml", &d);
	char *text = diags_text(&d);
	const char *want;
	va_list ap;

	assert_null(c);
	va_start(ap, nerrors);
	while ((want = va_arg(ap, const char *))) {
		if (!strstr(text, want))
			print_error("missing \"%s\" in:\n%s", want, text);
		assert_non_null(strstr(text, want));
	}
	va_end(ap);
	if (nerrors && d.errors != nerrors)
		print_error("expected %zu errors, got %zu:\n%s", nerrors, d.errors, text);
	if (nerrors)
		assert_int_equal(d.errors, nerrors);
	free(text);
	expconf_diags_free(&d);
}

#define EXPECT(yaml, n, ...) expect_errors(yaml, strlen(yaml), n, __VA_ARGS__, (const char *)NULL)

static json_t *hp(struct expconf *c, const char *name)
{
	return json_object_get(json_object_get(expconf_json(c), "hyperparameters"), name);
}

static void assert_json(const json_t *got, const char *want_text)
{
	json_error_t err;
	json_t *want = json_loads(want_text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);

	assert_non_null(want);
	if (!json_equal((json_t *)got, want)) {
		char *g = json_dumps(got, JSON_SORT_KEYS);

		print_error("got %s\nwant %s\n", g, want_text);
		free(g);
	}
	assert_true(json_equal((json_t *)got, want));
	json_decref(want);
}

static void test_bare_values_are_const(void **state)
{
	struct expconf *c =
	    parse_ok(BASE "hyperparameters:\n"
	                  "  lr: 0.01\n  opt: adam\n  sizes: [1, 2]\n  none: ~\n"
	                  "  flag: true\n  tiny: 1e-3\n  hex: 0x10\n  q: \"5\"\n"
	                  "  neg: -7\n  yes_is_text: yes\n  m: {type: const, val: {a: 1}}\n");

	(void)state;
	assert_json(hp(c, "lr"), "{\"type\":\"const\",\"val\":0.01}");
	assert_json(hp(c, "opt"), "{\"type\":\"const\",\"val\":\"adam\"}");
	assert_json(hp(c, "sizes"), "{\"type\":\"const\",\"val\":[1,2]}");
	assert_json(hp(c, "none"), "{\"type\":\"const\",\"val\":null}");
	assert_json(hp(c, "flag"), "{\"type\":\"const\",\"val\":true}");
	assert_json(hp(c, "tiny"), "{\"type\":\"const\",\"val\":0.001}");
	assert_json(hp(c, "hex"), "{\"type\":\"const\",\"val\":16}");
	assert_json(hp(c, "q"), "{\"type\":\"const\",\"val\":\"5\"}");
	assert_json(hp(c, "neg"), "{\"type\":\"const\",\"val\":-7}");
	assert_json(hp(c, "yes_is_text"), "{\"type\":\"const\",\"val\":\"yes\"}");
	assert_json(hp(c, "m"), "{\"type\":\"const\",\"val\":{\"a\":1}}");
	expconf_free(c);
}

static void test_typed_hyperparameters(void **state)
{
	struct expconf *c =
	    parse_ok(BASE "hyperparameters:\n"
	                  "  i: {type: int, minval: -3, maxval: 9, count: 4}\n"
	                  "  d: {type: double, minval: 0, maxval: 1}\n"
	                  "  l: {type: log, minval: -4, maxval: -1}\n"
	                  "  l2: {type: log, minval: 1, maxval: 3, base: 2, count: 3}\n"
	                  "  c: {type: categorical, vals: [a, 1, [x]]}\n");

	(void)state;
	assert_json(hp(c, "i"), "{\"type\":\"int\",\"minval\":-3,\"maxval\":9,\"count\":4}");
	assert_json(hp(c, "d"), "{\"type\":\"double\",\"minval\":0.0,\"maxval\":1.0}");
	assert_true(json_is_real(json_object_get(hp(c, "d"), "minval")));
	assert_json(hp(c, "l"), "{\"type\":\"log\",\"minval\":-4.0,\"maxval\":-1.0,\"base\":10.0}");
	assert_json(hp(c, "l2"),
	            "{\"type\":\"log\",\"minval\":1.0,\"maxval\":3.0,\"base\":2.0,\"count\":3}");
	assert_json(hp(c, "c"), "{\"type\":\"categorical\",\"vals\":[\"a\",1,[\"x\"]]}");
	expconf_free(c);
}

static void test_nested_hyperparameters(void **state)
{
	struct expconf *c = parse_ok(BASE "hyperparameters:\n"
	                                  "  model:\n    depth: 3\n    head:\n"
	                                  "      units: {type: int, minval: 1, maxval: 2}\n");

	(void)state;
	assert_json(hp(c, "model"),
	            "{\"type\":\"object\",\"vals\":{\"depth\":{\"type\":\"const\",\"val\":3},"
	            "\"head\":{\"type\":\"object\",\"vals\":{\"units\":{\"type\":\"int\","
	            "\"minval\":1,\"maxval\":2}}}}}");
	expconf_free(c);
}

static void test_entrypoint_forms(void **state)
{
	struct expconf *c = parse_ok(BASE);

	(void)state;
	assert_json(json_object_get(expconf_json(c), "entrypoint"), "\"python3 train.py\"");
	expconf_free(c);
	c = parse_ok("entrypoint: [python3, -m, train]\nsearcher: {name: single, metric: m}\n");
	assert_json(json_object_get(expconf_json(c), "entrypoint"),
	            "[\"python3\",\"-m\",\"train\"]");
	expconf_free(c);
	EXPECT("searcher: {name: single, metric: m}\n", 1,
	       "t.yaml:1:1: error: missing required key \"entrypoint\"");
	EXPECT("entrypoint: []\nsearcher: {name: single, metric: m}\n", 1,
	       "t.yaml:1:13: entrypoint: error: must not be an empty list");
	EXPECT("entrypoint: [a, 3]\nsearcher: {name: single, metric: m}\n", 1,
	       "t.yaml:1:17: entrypoint.1: error: expected a string, got an integer");
	EXPECT("entrypoint: {a: b}\nsearcher: {name: single, metric: m}\n", 1,
	       "t.yaml:1:13: entrypoint: error: expected a command");
}

static void test_defaults_filled(void **state)
{
	struct expconf *c = parse_ok(BASE);

	(void)state;
	assert_json(expconf_json(c),
	            "{\"name\":\"experiment\",\"description\":\"\",\"labels\":[],"
	            "\"entrypoint\":\"python3 train.py\",\"hyperparameters\":{},"
	            "\"searcher\":{\"name\":\"single\",\"metric\":\"loss\","
	            "\"smaller_is_better\":true,\"max_trials\":1,\"max_concurrent_trials\":16},"
	            "\"resources\":{\"slots_per_trial\":1,\"resource_pool\":\"default\","
	            "\"priority\":null,\"max_slots\":null},"
	            "\"checkpoint_storage\":{\"save_experiment_best\":0,\"save_trial_best\":1,"
	            "\"save_trial_latest\":1},\"max_restarts\":5,\"reproducibility\":{},"
	            "\"environment\":{\"environment_variables\":{\"cpu\":[],\"cuda\":[],"
	            "\"rocm\":[]},\"force_pull_image\":false},\"bind_mounts\":[],"
	            "\"slurm\":{\"sbatch_args\":[]},\"data\":{}}");
	expconf_free(c);
}

static void test_all_sections(void **state)
{
	struct expconf *c = parse_ok(
	    "name: full\ndescription: d\nlabels: [a, b]\nentrypoint: x\n"
	    "searcher: {name: random, metric: acc, smaller_is_better: false, max_trials: 8,\n"
	    "           max_concurrent_trials: 0, source_trial_id: 3}\n"
	    "resources: {slots_per_trial: 4, resource_pool: gpu, priority: 10, max_slots: 8}\n"
	    "checkpoint_storage: {type: directory, container_path: /ckpt, save_trial_latest: 0}\n"
	    "max_restarts: 0\nreproducibility: {experiment_seed: 4294967295}\n"
	    "bind_mounts: [{host_path: /data, container_path: /d}]\n"
	    "slurm: {sbatch_args: [--qos=high], gpu_type: h100, slots_per_node: 8}\n"
	    "data: {url: http://x, n: [1, {a: b}]}\n"
	    "min_validation_period: {batches: 100}\nmin_checkpoint_period: {epochs: 1}\n"
	    "records_per_epoch: 5000\n");
	json_t *j = expconf_json(c);

	(void)state;
	assert_json(json_object_get(j, "labels"), "[\"a\",\"b\"]");
	assert_json(json_object_get(j, "searcher"),
	            "{\"name\":\"random\",\"metric\":\"acc\",\"smaller_is_better\":false,"
	            "\"source_trial_id\":3,\"max_trials\":8,\"max_concurrent_trials\":0}");
	assert_json(json_object_get(j, "resources"),
	            "{\"slots_per_trial\":4,\"resource_pool\":\"gpu\",\"priority\":10,"
	            "\"max_slots\":8}");
	assert_json(json_object_get(j, "checkpoint_storage"),
	            "{\"type\":\"directory\",\"container_path\":\"/ckpt\","
	            "\"save_experiment_best\":0,\"save_trial_best\":1,\"save_trial_latest\":0}");
	assert_json(json_object_get(j, "reproducibility"), "{\"experiment_seed\":4294967295}");
	assert_json(json_object_get(j, "bind_mounts"),
	            "[{\"host_path\":\"/data\",\"container_path\":\"/d\",\"read_only\":false}]");
	assert_json(
	    json_object_get(j, "slurm"),
	    "{\"sbatch_args\":[\"--qos=high\"],\"gpu_type\":\"h100\",\"slots_per_node\":8}");
	assert_json(json_object_get(j, "data"), "{\"url\":\"http://x\",\"n\":[1,{\"a\":\"b\"}]}");
	assert_json(json_object_get(j, "min_validation_period"), "{\"batches\":100}");
	assert_json(json_object_get(j, "min_checkpoint_period"), "{\"epochs\":1}");
	assert_json(json_object_get(j, "records_per_epoch"), "5000");
	assert_int_equal(json_integer_value(json_object_get(j, "max_restarts")), 0);
	expconf_free(c);
}

static void test_length_forms(void **state)
{
	struct expconf *c;

	(void)state;
	c = parse_ok("entrypoint: x\nsearcher: {name: adaptive_asha, metric: m, max_trials: 9,\n"
	             "  max_length: {epochs: 27}, divisor: 3, max_rungs: 4, mode: conservative}\n");
	assert_json(json_object_get(expconf_json(c), "searcher"),
	            "{\"name\":\"adaptive_asha\",\"metric\":\"m\",\"smaller_is_better\":true,"
	            "\"max_trials\":9,\"max_concurrent_trials\":16,\"max_length\":{\"epochs\":27},"
	            "\"time_metric\":\"epochs\",\"max_time\":27,\"divisor\":3,\"max_rungs\":4,"
	            "\"mode\":\"conservative\"}");
	expconf_free(c);
	c = parse_ok("entrypoint: x\nsearcher: {name: adaptive_asha, metric: m, max_trials: 9,\n"
	             "  time_metric: steps, max_time: 100}\n");
	assert_json(json_object_get(expconf_json(c), "searcher"),
	            "{\"name\":\"adaptive_asha\",\"metric\":\"m\",\"smaller_is_better\":true,"
	            "\"max_trials\":9,\"max_concurrent_trials\":16,\"time_metric\":\"steps\","
	            "\"max_time\":100,\"divisor\":4,\"max_rungs\":5,\"mode\":\"standard\"}");
	expconf_free(c);
	/* Other searchers keep the old form as written, without time_metric. */
	c = parse_ok(
	    "entrypoint: x\nsearcher: {name: grid, metric: m, max_length: {batches: 5}}\n");
	assert_json(json_object_get(expconf_json(c), "searcher"),
	            "{\"name\":\"grid\",\"metric\":\"m\",\"smaller_is_better\":true,"
	            "\"max_concurrent_trials\":16,\"max_length\":{\"batches\":5}}");
	expconf_free(c);
	EXPECT("entrypoint: x\nsearcher: {name: adaptive_asha, metric: m, max_trials: 2}\n", 1,
	       "t.yaml:2:11: searcher: error: adaptive_asha needs a length");
	EXPECT("entrypoint: x\nsearcher: {name: random, metric: m, max_trials: 2,\n"
	       "  max_length: {batches: 0}, time_metric: t}\n",
	       2, "t.yaml:3:25: searcher.max_length.batches: error: must be at least 1, got 0",
	       "t.yaml:3:42: searcher.time_metric: error: give either max_length or time_metric");
	EXPECT("entrypoint: x\nsearcher: {name: random, metric: m, max_trials: 2, max_time: 5}\n",
	       1, "t.yaml:2:62: searcher.max_time: error: max_time needs time_metric");
	EXPECT("entrypoint: x\nsearcher: {name: single, metric: m, max_length: {weeks: 2}}\n", 1,
	       "t.yaml:2:49: searcher.max_length: error: expected a length");
}

static void test_environment_variables(void **state)
{
	struct expconf *c;

	(void)state;
	c = parse_ok(BASE "environment:\n  environment_variables: [A=1, B_2=x=y, C=]\n");
	assert_json(json_object_get(expconf_json(c), "environment"),
	            "{\"environment_variables\":{\"cpu\":[\"A=1\",\"B_2=x=y\",\"C=\"],"
	            "\"cuda\":[\"A=1\",\"B_2=x=y\",\"C=\"],\"rocm\":[\"A=1\",\"B_2=x=y\",\"C=\"]},"
	            "\"force_pull_image\":false}");
	expconf_free(c);
	/* per slot type: each trial gets its own slot type's list, never a merge */
	c = parse_ok(BASE "environment:\n  environment_variables:\n    rocm: [R=1]\n"
	                  "    cpu: [C=1]\n    cuda: [G=1, H=2]\n");
	assert_json(json_object_get(expconf_json(c), "environment"),
	            "{\"environment_variables\":{\"cpu\":[\"C=1\"],\"cuda\":[\"G=1\",\"H=2\"],"
	            "\"rocm\":[\"R=1\"]},\"force_pull_image\":false}");
	expconf_free(c);
	c = parse_ok(BASE "environment:\n  environment_variables: {gpu: [G=1]}\n");
	assert_json(json_object_get(expconf_json(c), "environment"),
	            "{\"environment_variables\":{\"cpu\":[],\"cuda\":[\"G=1\"],\"rocm\":[]},"
	            "\"force_pull_image\":false}");
	expconf_free(c);
	EXPECT(BASE "environment:\n  environment_variables: {gpu: [G=1], cuda: [H=1]}\n", 1,
	       "t.yaml:4:26: environment.environment_variables: error: give \"cuda\" or its older "
	       "name \"gpu\", not both");
	EXPECT(BASE "environment:\n  environment_variables: [NOEQ, 9X=1]\n", 2,
	       "t.yaml:4:27: environment.environment_variables.0: error: expected NAME=value, got "
	       "\"NOEQ\"",
	       "t.yaml:4:33: environment.environment_variables.1: error: expected NAME=value");
	EXPECT(BASE "environment:\n  environment_variables: {tpu: [A=1]}\n", 1,
	       "t.yaml:4:27: environment.environment_variables.tpu: error: unknown key \"tpu\"");
}

static void test_locations(void **state)
{
	struct expconf *c = parse_ok("entrypoint: [a, b]\nsearcher: {name: single, metric: m}\n"
	                             "hyperparameters:\n  lr:\n    type: log\n    minval: -3\n"
	                             "    maxval: 0\n");
	int line = 0, col = 0;

	(void)state;
	assert_int_equal(expconf_location(c, "hyperparameters.lr.minval", &line, &col), 0);
	assert_int_equal(line, 6);
	assert_int_equal(col, 5);
	assert_int_equal(expconf_location(c, "entrypoint.1", &line, &col), 0);
	assert_int_equal(line, 1);
	assert_int_equal(col, 17);
	assert_int_equal(expconf_location(c, "searcher.metric", &line, &col), 0);
	assert_int_equal(line, 2);
	assert_int_equal(col, 26);
	assert_int_equal(expconf_location(c, "max_restarts", &line, &col), -1);
	assert_int_equal(expconf_location(c, "entrypoint.2", &line, &col), -1);
	assert_int_equal(expconf_location(c, "entrypoint.x", &line, &col), -1);
	expconf_free(c);
}

static void test_ignored_determined_key_warns(void **state)
{
	const char *yaml = BASE "scheduling_unit: 10\nresources: {shm_size: 4096}\n"
	                        "searcher_extra: 1\n";
	struct expconf_diags d;
	struct expconf *c;
	char *text;

	(void)state;
	/* An ignored key alone: a warning and a config. */
	c = expconf_parse(BASE "scheduling_unit: 10\nresources: {shm_size: 4096}\n",
	                  strlen(BASE) + 48, "t.yaml", &d);
	assert_non_null(c);
	assert_int_equal(d.errors, 0);
	text = diags_text(&d);
	assert_non_null(strstr(text, "t.yaml:3:1: scheduling_unit: warning: \"scheduling_unit\" is "
	                             "a Determined setting ignored by det-slurm"));
	assert_non_null(strstr(text, "t.yaml:4:13: resources.shm_size: warning:"));
	free(text);
	expconf_free(c);
	expconf_diags_free(&d);
	/* An unknown key: an error naming it. */
	EXPECT(yaml, 1, "t.yaml:5:1: searcher_extra: error: unknown key \"searcher_extra\"",
	       "t.yaml:3:1: scheduling_unit: warning:");
}

static void test_wrong_types(void **state)
{
	(void)state;
	EXPECT(
	    "name: [x]\nentrypoint: x\nsearcher: {name: single, metric: 5,\n"
	    "  smaller_is_better: \"no\"}\nmax_restarts: 1.5\nlabels: x\n"
	    "resources: [1]\nhyperparameters: [1]\n",
	    7, "t.yaml:1:7: name: error: expected a string, got a list",
	    "t.yaml:3:34: searcher.metric: error: expected a string, got an integer",
	    "t.yaml:4:22: searcher.smaller_is_better: error: expected a boolean (true or false), "
	    "got a string",
	    "t.yaml:5:15: max_restarts: error: expected an integer, got a number",
	    "t.yaml:6:9: labels: error: expected a list of strings",
	    "t.yaml:7:12: resources: error: expected a mapping, got a list",
	    "t.yaml:8:18: hyperparameters: error: expected a mapping of hyperparameter names");
}

static void test_hyperparameter_errors(void **state)
{
	(void)state;
	EXPECT(BASE "hyperparameters:\n"
	            "  a: {type: int, minval: 5, maxval: 1}\n"
	            "  b: {type: log, minval: 1, maxval: 2, base: 1}\n"
	            "  c: {type: categorical, vals: []}\n"
	            "  d: {type: double, minval: 0}\n"
	            "  e: {type: int, minval: 0, maxval: 1, count: 0, step: 2}\n"
	            "  f: {type: float}\n  g: {type: const}\n",
	       8,
	       "t.yaml:4:37: hyperparameters.a.maxval: error: maxval (1) is less than minval (5)",
	       "t.yaml:5:46: hyperparameters.b.base: error: base must be positive and not 1, got 1",
	       "t.yaml:6:32: hyperparameters.c.vals: error: vals must be a non-empty list",
	       "t.yaml:7:6: hyperparameters.d: error: missing required key \"maxval\"",
	       "t.yaml:8:47: hyperparameters.e.count: error: must be between 1 and 100000, got 0",
	       "t.yaml:8:50: hyperparameters.e.step: error: unknown key \"step\"",
	       "t.yaml:9:13: hyperparameters.f.type: error: unknown hyperparameter type \"float\"",
	       "t.yaml:10:6: hyperparameters.g: error: missing required key \"val\"");
}

static void test_searcher_errors(void **state)
{
	(void)state;
	EXPECT("entrypoint: x\nsearcher: {name: pbt, metric: m}\n", 1,
	       "t.yaml:2:18: searcher.name: error: searcher \"pbt\" is not supported by det-slurm");
	EXPECT("entrypoint: x\nsearcher: {name: custom, metric: m}\n", 1,
	       "searcher \"custom\" is not supported by det-slurm");
	EXPECT("entrypoint: x\nsearcher: {name: bayes, metric: m}\n", 1,
	       "t.yaml:2:18: searcher.name: error: unknown searcher \"bayes\"");
	EXPECT("entrypoint: x\nsearcher: {name: random}\n", 2,
	       "t.yaml:2:11: searcher: error: missing required key \"metric\"",
	       "t.yaml:2:11: searcher: error: missing required key \"max_trials\"");
	EXPECT("entrypoint: x\nsearcher: {name: random, metric: m, max_trials: 1000001}\n", 1,
	       "t.yaml:2:49: searcher.max_trials: error: must be between 1 and 1000000");
	EXPECT(
	    "entrypoint: x\nsearcher: {name: adaptive_asha, metric: m, max_trials: 4,\n"
	    "  max_time: 10, time_metric: b, divisor: 1, max_rungs: 0, mode: fast,\n"
	    "  population_size: 3, bracket_rungs: [1]}\n",
	    4, "t.yaml:3:42: searcher.divisor: error: divisor must be greater than 1",
	    "t.yaml:3:56: searcher.max_rungs: error: must be between 1 and 64, got 0",
	    "t.yaml:3:65: searcher.mode: error: mode must be standard, aggressive or conservative",
	    "t.yaml:4:3: searcher.population_size: error: \"population_size\" is not a setting of "
	    "the adaptive_asha searcher",
	    "t.yaml:4:23: searcher.bracket_rungs: warning: \"bracket_rungs\" is a Determined "
	    "setting ignored by det-slurm");
	EXPECT("entrypoint: x\n", 1, "t.yaml:1:1: error: missing required key \"searcher\"");
}

static void test_storage_and_mounts(void **state)
{
	(void)state;
	EXPECT(BASE "checkpoint_storage: {type: s3, bucket: b, access_key: k}\n", 1,
	       "t.yaml:3:28: checkpoint_storage.type: error: checkpoint storage type \"s3\" is not "
	       "supported by det-slurm");
	EXPECT(BASE "checkpoint_storage: {type: shared_fs, save_trial_best: -1}\n", 2,
	       "t.yaml:3:21: checkpoint_storage: error: checkpoint_storage of type shared_fs needs "
	       "\"host_path\"",
	       "t.yaml:3:56: checkpoint_storage.save_trial_best: error: must be between 0");
	EXPECT(BASE "bind_mounts:\n  - {host_path: data, container_path: /d, read_only: 1}\n"
	            "  - {container_path: /e}\n",
	       3, "t.yaml:4:17: bind_mounts.0.host_path: error: host_path must be an absolute path",
	       "t.yaml:4:54: bind_mounts.0.read_only: error: expected a boolean",
	       "t.yaml:5:5: bind_mounts.1: error: missing required key \"host_path\"");
}

static void test_image(void **state)
{
	struct expconf *c;
	const char *digest =
	    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char yaml[512];

	(void)state;
	c = parse_ok(BASE "environment: {image: det-test/py3:1.0, force_pull_image: true}\n");
	assert_json(json_object_get(json_object_get(expconf_json(c), "environment"), "image"),
	            "{\"cpu\":\"det-test/py3:1.0\",\"cuda\":\"det-test/py3:1.0\","
	            "\"rocm\":\"det-test/py3:1.0\"}");
	assert_true(json_is_true(
	    json_object_get(json_object_get(expconf_json(c), "environment"), "force_pull_image")));
	expconf_free(c);
	/* per slot type: a trial's slot type picks one; one not given means no image */
	snprintf(yaml, sizeof(yaml), BASE "environment:\n  image: {cpu: py3, gpu: \"%s\"}\n",
	         digest);
	c = parse_ok(yaml);
	json_t *want = json_pack("{s:s, s:s}", "cpu", "py3", "cuda", digest);
	assert_true(json_equal(
	    json_object_get(json_object_get(expconf_json(c), "environment"), "image"), want));
	json_decref(want);
	expconf_free(c);
	EXPECT(BASE "environment:\n  image: [a]\n", 1,
	       "t.yaml:4:10: environment.image: error: expected a string, got a list");
	EXPECT(BASE "environment:\n  image: {cpu: ../etc, tpu: x}\n", 2,
	       "t.yaml:4:16: environment.image.cpu: error: expected an image name",
	       "t.yaml:4:24: environment.image.tpu: error: unknown key \"tpu\"");
	EXPECT(BASE "environment:\n  image: \"sha256:abc\"\n", 1,
	       "t.yaml:4:10: environment.image: error: expected an image name");
	EXPECT(BASE "environment:\n  image: \"\"\n", 1,
	       "t.yaml:4:10: environment.image: error: must not be empty");
	EXPECT(BASE "environment: {force_pull_image: sometimes}\n", 1,
	       "t.yaml:3:33: environment.force_pull_image: error: expected a boolean");
	assert_true(expconf_image_ref_ok("registry.example.com/team/py3:2024-01"));
	assert_false(expconf_image_ref_ok("-rf"));
	assert_false(expconf_image_ref_ok("a b"));
	assert_false(expconf_image_ref_ok("a/../b"));
}

static void test_ignored_environment_keys_warn(void **state)
{
	struct expconf_diags d;
	const char *yaml = BASE "environment:\n  pod_spec: {kind: Pod}\n"
	                        "  registry_auth: {username: u}\n";
	struct expconf *c = expconf_parse(yaml, strlen(yaml), "t.yaml", &d);
	char *text = diags_text(&d);

	(void)state;
	assert_non_null(c);
	assert_int_equal(d.errors, 0);
	assert_non_null(strstr(text, "t.yaml:4:13: environment.pod_spec: warning: ignored: "));
	assert_non_null(strstr(text, "t.yaml:5:18: environment.registry_auth: warning: ignored: "));
	free(text);
	expconf_diags_free(&d);
	expconf_free(c);
}

static void test_bind_mount_paths(void **state)
{
	struct expconf *c;

	(void)state;
	c = parse_ok(BASE "bind_mounts: [{host_path: /data, container_path: /mnt/d, read_only: "
	                  "true}]\n");
	assert_json(json_object_get(expconf_json(c), "bind_mounts"),
	            "[{\"host_path\":\"/data\",\"container_path\":\"/mnt/d\",\"read_only\":true}]");
	expconf_free(c);
	EXPECT(BASE "bind_mounts:\n  - {host_path: /d, container_path: /a/../etc}\n"
	            "  - {host_path: /d, container_path: rel}\n"
	            "  - {host_path: /d, container_path: /}\n"
	            "  - {host_path: /d, container_path: [x]}\n"
	            "  - {host_path: /d, container_path: /x, read_only: maybe}\n",
	       5,
	       "t.yaml:4:37: bind_mounts.0.container_path: error: container_path must be an "
	       "absolute path",
	       "t.yaml:5:37: bind_mounts.1.container_path: error: container_path must be",
	       "t.yaml:6:37: bind_mounts.2.container_path: error: container_path must be",
	       "t.yaml:7:37: bind_mounts.3.container_path: error: expected a string",
	       "t.yaml:8:52: bind_mounts.4.read_only: error: expected a boolean");
}

static void test_malformed_yaml(void **state)
{
	(void)state;
	EXPECT("entrypoint: x\nsearcher: {name: single\nmetric: m\n", 1,
	       "t.yaml:3:7: searcher: error: invalid YAML: did not find expected ',' or '}' "
	       "(while parsing a flow mapping started at line 2, column 11)");
	EXPECT("a: b: c\n", 1, "t.yaml:1:5: error: invalid YAML: mapping values are not allowed");
	EXPECT("a: 1\n---\nb: 2\n", 1,
	       "t.yaml:2:1: error: more than one YAML document in the file");
	EXPECT("a: *nope\n", 1, "t.yaml:1:4: a: error: alias *nope refers to no anchor before it");
	EXPECT("a: &x [1, *x]\n", 1, "t.yaml:1:11: a.1: error: alias *x refers to no anchor");
	EXPECT("a: !!python/tuple [1]\n", 0, "t.yaml:1:4: a: error: unsupported YAML tag");
	EXPECT("? [a]\n: 1\n", 1, "t.yaml:1:3: error: a mapping key must be a string, not a list");
	EXPECT("", 1, "t.yaml:1:1: error: the file is empty");
	expect_errors(NULL, 0, 1, "t.yaml:1:1: error: the file is empty", (const char *)NULL);
	EXPECT("# only a comment\n", 1, "the file is empty");
	EXPECT("- a\n- b\n", 1, "t.yaml:1:1: error: expected a mapping of configuration keys");
}

static void test_tags_and_escapes(void **state)
{
	struct expconf *c =
	    parse_ok(BASE "data: {s: !!str 5, i: !!int \"7\", u: \"\\u00e9t\\u00e9\",\n"
	                  "       z: \"x\\ty\\nz\"}\n");

	(void)state;
	assert_json(json_object_get(expconf_json(c), "data"),
	            "{\"s\":\"5\",\"i\":7,\"u\":\"\u00e9t\u00e9\",\"z\":\"x\\ty\\nz\"}");
	expconf_free(c);
	/* A key with a NUL would be cut short in JSON: refused, not truncated. */
	EXPECT(BASE "hyperparameters:\n  \"a\\0b\": 1\n  a: 2\n", 1,
	       "t.yaml:4:3: hyperparameters: error: a key must not contain control characters "
	       "(U+0000 at byte 2)");
}

/* NUL, ESC, BEL, DEL, C1 and the other controls, written as YAML escapes, are
 * refused in every string of the config (they broke restarts and terminals),
 * each with its place and key path; tab and newline stay allowed in values. */
static void test_control_characters(void **state)
{
	(void)state;
	EXPECT("name: \"a\\eb\"\n" BASE, 1,
	       "t.yaml:1:7: name: error: a value must not contain control characters "
	       "(U+001B at byte 2)");
	EXPECT(BASE "description: \"ring\\a\"\n", 1,
	       "t.yaml:3:14: description: error: a value must not contain control characters "
	       "(U+0007 at byte 5)");
	EXPECT("entrypoint: \"python3\\0 x.py\"\nsearcher: {name: single, metric: loss}\n", 1,
	       "t.yaml:1:13: entrypoint: error: a value must not contain control characters "
	       "(U+0000 at byte 8)");
	EXPECT(BASE "labels: [ok, \"b\\x7f\"]\n", 1,
	       "t.yaml:3:14: labels.1: error: a value must not contain control characters "
	       "(U+007F at byte 2)");
	EXPECT(BASE "hyperparameters:\n  lr: {type: categorical, vals: [a, \"\\x9b2J\"]}\n", 1,
	       "t.yaml:4:37: hyperparameters.lr.vals.1: error: a value must not contain control "
	       "characters (U+009B at byte 1)");
	EXPECT(BASE "hyperparameters:\n  c: \"\\r\"\n", 1,
	       "t.yaml:4:6: hyperparameters.c: error: a value must not contain control "
	       "characters (U+000D at byte 1)");
	EXPECT(BASE "checkpoint_storage: {type: shared_fs, host_path: \"/tmp/\\x1b\"}\n", 1,
	       "checkpoint_storage.host_path: error: a value must not contain control characters");
	EXPECT(BASE "environment:\n  environment_variables: [\"A=\\x01\"]\n", 1,
	       "environment.environment_variables.0: error: a value must not contain control");
	EXPECT(BASE "data: {\"k\\tx\": 1}\n", 1,
	       "t.yaml:3:8: data: error: a key must not contain control characters (U+0009 at "
	       "byte 2)");
	/* Every one is reported, not only the first. */
	EXPECT("name: \"\\e\"\ndescription: \"\\a\"\n" BASE, 2,
	       "t.yaml:1:7: name:", "t.yaml:2:14: description:");
	/* A block scalar keeps its newlines; tabs are fine in values. */
	struct expconf *c = parse_ok(BASE "description: |\n  line one\n  \tline two\n");
	assert_string_equal(json_string_value(json_object_get(expconf_json(c), "description")),
	                    "line one\n\tline two\n");
	expconf_free(c);
	/* Printable non-ASCII is no control character. */
	c = parse_ok("name: \"caf\\u00e9 \\u00a0x\"\n" BASE);
	expconf_free(c);
}

static void test_duplicate_keys(void **state)
{
	(void)state;
	EXPECT(
	    BASE "searcher: {name: random}\nhyperparameters: {a: 1, b: 2, a: 3}\n", 2,
	    "t.yaml:3:1: searcher: error: duplicate key \"searcher\" (first at line 2, column 1)",
	    "t.yaml:4:31: hyperparameters.a: error: duplicate key \"a\" (first at line 4, "
	    "column 19)");
}

static void test_numbers(void **state)
{
	struct expconf *c = parse_ok(BASE "hyperparameters:\n  a: +5\n  b: 0o17\n  c: -1.5e+2\n"
	                                  "  d: .5\n  e: 9223372036854775807\n  f: 1.\n");

	(void)state;
	assert_json(hp(c, "a"), "{\"type\":\"const\",\"val\":5}");
	assert_json(hp(c, "b"), "{\"type\":\"const\",\"val\":15}");
	assert_json(hp(c, "c"), "{\"type\":\"const\",\"val\":-150.0}");
	assert_json(hp(c, "d"), "{\"type\":\"const\",\"val\":0.5}");
	assert_json(hp(c, "e"), "{\"type\":\"const\",\"val\":9223372036854775807}");
	assert_json(hp(c, "f"), "{\"type\":\"const\",\"val\":1.0}");
	expconf_free(c);
	EXPECT(BASE "hyperparameters:\n  a: 9223372036854775808\n  b: -.inf\n  c: .NaN\n"
	            "  d: 1e999\n",
	       4,
	       "t.yaml:4:6: hyperparameters.a: error: integer 9223372036854775808 is out of range",
	       "t.yaml:5:6: hyperparameters.b: error: number -.inf is not finite",
	       "t.yaml:6:6: hyperparameters.c: error: number .NaN is not finite",
	       "t.yaml:7:6: hyperparameters.d: error: number 1e999 is not finite");
}

static void test_huge_scalar_and_file(void **state)
{
	size_t n = EXPCONF_MAX_SCALAR_BYTES + 10;
	char *yaml = malloc(n + 32);

	(void)state;
	assert_non_null(yaml);
	memcpy(yaml, "name: ", 6);
	memset(yaml + 6, 'x', n);
	strcpy(yaml + 6 + n, "\n");
	expect_errors(yaml, strlen(yaml), 1, "t.yaml:1:7: name: error: value too long (65546 bytes",
	              (const char *)NULL);
	free(yaml);
	yaml = calloc(1, EXPCONF_MAX_FILE_BYTES + 2);
	assert_non_null(yaml);
	memset(yaml, '#', EXPCONF_MAX_FILE_BYTES + 1);
	expect_errors(yaml, EXPCONF_MAX_FILE_BYTES + 1, 1,
	              "t.yaml: error: file too large (1048577 bytes, limit 1048576)",
	              (const char *)NULL);
	free(yaml);
}

static void test_deep_nesting(void **state)
{
	char yaml[256];
	int n = EXPCONF_MAX_DEPTH + 5;

	(void)state;
	strcpy(yaml, "a: ");
	for (int i = 0; i < n; i++)
		strcat(yaml, "[");
	for (int i = 0; i < n; i++)
		strcat(yaml, "]");
	strcat(yaml, "\n");
	/* The root map is level 1, a's lists 2..: the 32nd level is column 4 + 30. */
	expect_errors(yaml, strlen(yaml), 1, "t.yaml:1:35: a.0.0.0",
	              "error: nested too deeply (limit 32 levels)", (const char *)NULL);
	/* An anchor 20 levels deep used 15 levels down: 35 > 32 once expanded. */
	strcpy(yaml, "a: &x ");
	for (int i = 0; i < 20; i++)
		strcat(yaml, "[");
	strcat(yaml, "1");
	for (int i = 0; i < 20; i++)
		strcat(yaml, "]");
	strcat(yaml, "\nb: ");
	for (int i = 0; i < 14; i++)
		strcat(yaml, "[");
	strcat(yaml, "*x");
	for (int i = 0; i < 14; i++)
		strcat(yaml, "]");
	strcat(yaml, "\n");
	expect_errors(
	    yaml, strlen(yaml), 1,
	    "t.yaml:2:18: b.0.0.0.0.0.0.0.0.0.0.0.0.0.0: error: alias *x nests too deeply "
	    "once expanded (limit 32 levels)",
	    (const char *)NULL);
}

static void test_alias_bomb(void **state)
{
	const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	                   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	                   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	                   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	                   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	                   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	                   "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	                   "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
	                   "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	clock_t start = clock();
	struct expconf *c;

	(void)state;
	/* 10^9 nodes once expanded: refused where the count passes the limit, fast. */
	EXPECT(bomb, 1,
	       "t.yaml:5:36: e.7: error: too many nodes once aliases are expanded (limit "
	       "100000)");
	assert_true((double)(clock() - start) / CLOCKS_PER_SEC < 1.0);
	/* Aliases within the limit are expanded into the JSON. */
	c = parse_ok(BASE "hyperparameters:\n  a: &h {type: int, minval: 1, maxval: 2}\n  b: *h\n"
	                  "data: {x: &l [1, 2], y: *l}\n");
	assert_json(hp(c, "b"), "{\"type\":\"int\",\"minval\":1,\"maxval\":2}");
	assert_json(json_object_get(expconf_json(c), "data"), "{\"x\":[1,2],\"y\":[1,2]}");
	expconf_free(c);
}

static void test_non_utf8(void **state)
{
	(void)state;
	EXPECT(BASE "name: caf\xe9\n", 1,
	       "t.yaml:3:10: name: error: the file is not valid UTF-8 text (incomplete UTF-8 octet "
	       "sequence at byte offset 77)");
	EXPECT("name: \xff\n", 1,
	       "t.yaml:1:7: error: the file is not valid UTF-8 text (invalid leading UTF-8 octet");
	expect_errors("name: a\0b\n", 10, 1,
	              "t.yaml:1:8: error: the file is not valid UTF-8 text "
	              "(control characters are not allowed",
	              (const char *)NULL);
}

static void test_grid(void **state)
{
	struct expconf *c;

	(void)state;
	/* int counts are capped at maxval-minval+1: 10 x 10000 = 100000 points is fine. */
	c = parse_ok("entrypoint: x\nsearcher: {name: grid, metric: m}\nhyperparameters:\n"
	             "  a: {type: int, minval: 0, maxval: 9, count: 100000}\n"
	             "  b: {type: categorical, vals: [x]}\n  c: 5\n"
	             "  n: {m: {type: double, minval: 0, maxval: 1, count: 10000}}\n");
	expconf_free(c);
	EXPECT("entrypoint: x\nsearcher: {name: grid, metric: m}\nhyperparameters:\n"
	       "  a: {type: int, minval: 0, maxval: 10, count: 100000}\n"
	       "  n: {m: {type: double, minval: 0, maxval: 1, count: 10000}}\n",
	       1, "t.yaml:2:18: searcher: error: grid search has more than 100000 points");
	/* 10^25 points: the product saturates instead of wrapping around. */
	EXPECT("entrypoint: x\nsearcher: {name: grid, metric: m}\nhyperparameters:\n"
	       "  a: {type: int, minval: -9223372036854775808, maxval: 9223372036854775807,\n"
	       "      count: 100000}\n"
	       "  b: {type: log, minval: 0, maxval: 1, count: 100000}\n"
	       "  c: {type: double, minval: 0, maxval: 1, count: 100000}\n"
	       "  d: {type: double, minval: 0, maxval: 1, count: 100000}\n"
	       "  n: {m: {type: log, minval: 0, maxval: 1, count: 100000}}\n",
	       1, "grid search has more than 100000 points");
	EXPECT("entrypoint: x\nsearcher: {name: grid, metric: m}\nhyperparameters:\n"
	       "  a: {type: categorical, vals: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}\n"
	       "  b: {type: double, minval: 0, maxval: 1, count: 100}\n"
	       "  c: {type: int, minval: 0, maxval: 1000, count: 101}\n",
	       1, "t.yaml:2:18: searcher: error: grid search has more than 100000 points");
	EXPECT("entrypoint: x\nsearcher: {name: grid, metric: m}\nhyperparameters:\n"
	       "  n:\n    a: {type: double, minval: 0, maxval: 1}\n",
	       1, "t.yaml:5:8: hyperparameters.n.a: error: grid search needs \"count\" on double");
	/* A count no grid could use is refused for every searcher. */
	EXPECT(BASE "hyperparameters: {a: {type: int, minval: 0, maxval: 9, count: 100001}}\n", 1,
	       "t.yaml:3:63: hyperparameters.a.count: error: must be between 1 and 100000");
}

static void test_all_errors_reported(void **state)
{
	(void)state;
	EXPECT("name: 1\nentrypoint: 2\nsearcher: {name: random, metric: m, max_trials: 0}\n"
	       "max_restarts: x\nzzz: 1\nhyperparameters: {a: {type: int}}\n",
	       7, "t.yaml:1:7: name: error:", "t.yaml:2:13: entrypoint: error:",
	       "t.yaml:3:49: searcher.max_trials: error:", "t.yaml:4:15: max_restarts: error:",
	       "t.yaml:5:1: zzz: error:",
	       "t.yaml:6:22: hyperparameters.a: error: missing required "
	       "key \"minval\"");
}

static void test_diagnostics_capped(void **state)
{
	size_t n = EXPCONF_MAX_DIAGS + 50;
	char *yaml = malloc(n * 16 + 128), *p = yaml;
	struct expconf_diags d;
	char *text;

	(void)state;
	assert_non_null(yaml);
	p += sprintf(p, "%s", BASE);
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "k%zu: 1\n", i);
	assert_null(expconf_parse(yaml, strlen(yaml), "t.yaml", &d));
	assert_int_equal(d.count, EXPCONF_MAX_DIAGS);
	assert_int_equal(d.dropped, 50);
	assert_int_equal(d.errors, n);
	text = diags_text(&d);
	assert_non_null(strstr(text, "t.yaml: note: 50 more diagnostics not shown (limit 200)"));
	free(text);
	expconf_diags_free(&d);
	assert_null(d.items);
	free(yaml);
}

static void test_slurm_walltime_signal(void **state)
{
	struct expconf *c = parse_ok("entrypoint: x\nsearcher: {name: single, metric: m}\n"
	                             "slurm: {walltime_signal_seconds: 30}\n");
	(void)state;
	assert_json(json_object_get(expconf_json(c), "slurm"),
	            "{\"sbatch_args\":[],\"walltime_signal_seconds\":30}");
	expconf_free(c);
	EXPECT("entrypoint: x\nsearcher: {name: single, metric: m}\n"
	       "slurm: {walltime_signal_seconds: 70000}\n",
	       1, "slurm.walltime_signal_seconds: error: must be between 0 and 65535, got 70000");
}

static void test_parse_file(void **state)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	struct expconf_diags d;
	struct expconf *c;
	json_t *s;

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/data/expconf/mnist-asha.yaml", top ? top : ".");
	c = expconf_parse_file(path, &d);
	if (!c) {
		char *text = diags_text(&d);

		print_error("%s", text);
		free(text);
	}
	assert_non_null(c);
	/* Two Determined settings det-slurm ignores. */
	assert_int_equal(d.count, 2);
	s = json_object_get(expconf_json(c), "searcher");
	assert_string_equal(json_string_value(json_object_get(s, "time_metric")), "batches");
	assert_int_equal(json_integer_value(json_object_get(s, "max_time")), 937);
	expconf_free(c);
	expconf_diags_free(&d);
	assert_null(expconf_parse_file("/nonexistent/x.yaml", &d));
	assert_int_equal(d.errors, 1);
	assert_string_equal(d.items[0].message, "cannot open: No such file or directory");
	expconf_diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bare_values_are_const),
	    cmocka_unit_test(test_typed_hyperparameters),
	    cmocka_unit_test(test_nested_hyperparameters),
	    cmocka_unit_test(test_entrypoint_forms),
	    cmocka_unit_test(test_defaults_filled),
	    cmocka_unit_test(test_all_sections),
	    cmocka_unit_test(test_length_forms),
	    cmocka_unit_test(test_environment_variables),
	    cmocka_unit_test(test_locations),
	    cmocka_unit_test(test_ignored_determined_key_warns),
	    cmocka_unit_test(test_wrong_types),
	    cmocka_unit_test(test_hyperparameter_errors),
	    cmocka_unit_test(test_searcher_errors),
	    cmocka_unit_test(test_storage_and_mounts),
	    cmocka_unit_test(test_image),
	    cmocka_unit_test(test_ignored_environment_keys_warn),
	    cmocka_unit_test(test_bind_mount_paths),
	    cmocka_unit_test(test_malformed_yaml),
	    cmocka_unit_test(test_tags_and_escapes),
	    cmocka_unit_test(test_control_characters),
	    cmocka_unit_test(test_duplicate_keys),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_huge_scalar_and_file),
	    cmocka_unit_test(test_deep_nesting),
	    cmocka_unit_test(test_alias_bomb),
	    cmocka_unit_test(test_non_utf8),
	    cmocka_unit_test(test_grid),
	    cmocka_unit_test(test_all_errors_reported),
	    cmocka_unit_test(test_diagnostics_capped),
	    cmocka_unit_test(test_parse_file),
	    cmocka_unit_test(test_slurm_walltime_signal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
