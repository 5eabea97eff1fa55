/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det preview-search CONFIG: the plan a config's searcher would run, without
 * a master. Validates the file (every error with file:line:col), builds the
 * searcher and prints its preview: trial count and concurrency, every grid
 * point or random trial, and for adaptive_asha the brackets with their rungs.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "expconf.h"
#include "searcher.h"

/* A config without a seed gets one from the master at creation; the preview
 * uses this one and says so. */
#define PREVIEW_DEFAULT_SEED 0

static void print_hparams_line(FILE *out, int index, const json_t *hp)
{
	char *text = json_dumps(hp, JSON_COMPACT | JSON_SORT_KEYS);
	fprintf(out, "  %6d  %s\n", index, text ? text : "?");
	free(text);
}

static void print_trial_list(FILE *out, const json_t *list, const char *title)
{
	size_t i;
	json_t *hp;

	fprintf(out, "%s:\n  %6s  %s\n", title, "trial", "hyperparameters");
	json_array_foreach (list, i, hp) {
		print_hparams_line(out, (int)i, hp);
	}
}

static void print_brackets(FILE *out, const json_t *brackets, const char *unit)
{
	size_t b;
	json_t *bracket;

	fprintf(out, "brackets:\n");
	json_array_foreach (brackets, b, bracket) {
		json_t *rungs = json_object_get(bracket, "rungs");
		fprintf(out,
		        "  bracket %zu: %" JSON_INTEGER_FORMAT
		        " trials, at most %" JSON_INTEGER_FORMAT " at once, %zu rungs\n",
		        b, json_integer_value(json_object_get(bracket, "trials")),
		        json_integer_value(json_object_get(bracket, "max_concurrent")),
		        json_array_size(rungs));
		size_t r;
		json_t *rung;
		json_array_foreach (rungs, r, rung) {
			json_t *t = json_object_get(rung, "time");
			fprintf(out, "    rung %zu: %s >= %" JSON_INTEGER_FORMAT "\n", r, unit,
			        json_integer_value(t));
		}
	}
}

static void print_table(FILE *out, const json_t *plan, int seed_given)
{
	const char *name = json_string_value(json_object_get(plan, "name"));
	const char *unit = json_string_value(json_object_get(plan, "time_unit"));
	json_int_t k = json_integer_value(json_object_get(plan, "max_concurrent_trials"));
	json_int_t len = json_integer_value(json_object_get(plan, "max_length"));
	const char *metric = json_string_value(json_object_get(plan, "metric"));
	if (len <= 0)
		len = json_integer_value(json_object_get(plan, "max_time"));

	fprintf(out, "searcher: %s\n", name ? name : "?");
	if (metric)
		fprintf(out, "metric: %s (%s is better)\n", metric,
		        json_is_false(json_object_get(plan, "smaller_is_better")) ? "larger"
		                                                                  : "smaller");
	fprintf(out, "trials: %" JSON_INTEGER_FORMAT "\n",
	        json_integer_value(json_object_get(plan, "trial_count")));
	if (k > 0)
		fprintf(out, "max concurrent trials: %" JSON_INTEGER_FORMAT "\n", k);
	else
		fprintf(out, "max concurrent trials: unlimited\n");
	if (unit && len > 0)
		fprintf(out, "trial length: %" JSON_INTEGER_FORMAT " %s\n", len, unit);
	json_t *points = json_object_get(plan, "points");
	json_t *trials = json_object_get(plan, "trials");
	json_t *brackets = json_object_get(plan, "brackets");
	if (json_is_array(brackets))
		print_brackets(out, brackets, unit ? unit : "time");
	if (json_is_array(points))
		print_trial_list(out, points, "grid points");
	if (json_is_array(trials)) {
		if (!seed_given)
			fprintf(
			    out,
			    "(no reproducibility.experiment_seed: values shown for seed %d; the "
			    "master picks the seed at creation)\n",
			    PREVIEW_DEFAULT_SEED);
		print_trial_list(out, trials, "trials");
		json_int_t total = json_integer_value(json_object_get(plan, "trial_count"));
		if ((json_int_t)json_array_size(trials) < total)
			fprintf(out, "  ... %" JSON_INTEGER_FORMAT " more\n",
			        total - (json_int_t)json_array_size(trials));
	}
}

int cli_cmd_preview_search(struct cli_ctx *ctx, int argc, char **argv)
{
	struct expconf_diags diags = {0};
	struct expconf *conf = NULL;
	struct searcher *s = NULL;
	json_t *plan = NULL;
	char err[512];
	int rv = CLI_EXIT_FAILURE;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: %s preview-search CONFIG\n", ctx->prog);
		return CLI_EXIT_USAGE;
	}
	conf = expconf_parse_file(argv[1], &diags);
	expconf_diags_print(&diags, stderr);
	if (!conf)
		goto fail;
	json_t *config = expconf_json(conf);
	json_t *repro = json_object_get(config, "reproducibility");
	int seed_given = json_is_integer(json_object_get(repro, "experiment_seed"));
	if (!seed_given) {
		if (!json_is_object(repro)) {
			repro = json_object();
			if (!repro || json_object_set_new(config, "reproducibility", repro) < 0)
				goto nomem;
		}
		if (json_object_set_new(repro, "experiment_seed",
		                        json_integer(PREVIEW_DEFAULT_SEED)) < 0)
			goto nomem;
	}
	s = searcher_new(config, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "%s: %s\n", argv[1], err);
		goto fail;
	}
	plan = searcher_preview(s, err, sizeof(err));
	if (!plan) {
		fprintf(stderr, "%s: %s\n", argv[1], err);
		goto fail;
	}
	if (ctx->output == CLI_OUTPUT_TABLE)
		print_table(stdout, plan, seed_given);
	else
		cli_print_value(ctx, stdout, plan);
	rv = CLI_EXIT_OK;
	goto fail;
nomem:
	fprintf(stderr, "det: out of memory\n");
fail:
	json_decref(plan);
	searcher_free(s);
	expconf_free(conf);
	expconf_diags_free(&diags);
	return rv;
}
