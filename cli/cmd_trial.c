/* SPDX-License-Identifier: GPL-2.0-or-later */
/* det trial describe|logs|kill. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "http_client.h"

int cli_trial_logs_once(struct http_client *c, long long trial, long long *after, int follow,
                        const char *prefix, int *ended)
{
	char path[192];
	json_t *out = NULL;
	size_t i;
	json_t *l;

	snprintf(path, sizeof(path), "/api/v1/trials/%lld/logs?after=%lld&follow=%d", trial, *after,
	         follow);
	int rc = cli_call(c, "GET", path, NULL, &out);
	if (rc)
		return rc;
	json_array_foreach (json_object_get(out, "logs"), i, l) {
		const char *line = json_string_value(json_object_get(l, "line"));
		printf("%s%s\n", prefix, line ? line : "");
	}
	fflush(stdout);
	*after = json_integer_value(json_object_get(out, "next_after"));
	*ended = json_is_true(json_object_get(out, "trial_ended"));
	json_decref(out);
	return CLI_EXIT_OK;
}

int cli_trial_describe(struct cli_ctx *ctx, int argc, char **argv)
{
	char path[128];
	json_t *out = NULL, *metrics = NULL;
	long long id;
	struct http_client *c;
	int rc = cli_id_client(ctx, argc, argv, "det trial describe ID", "trial id", NULL, &id, &c);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "/api/v1/trials/%lld", id);
	rc = cli_call(c, "GET", path, NULL, &out);
	if (!rc) {
		snprintf(path, sizeof(path), "/api/v1/trials/%lld/metrics?group=validation", id);
		rc = cli_call(c, "GET", path, NULL, &metrics);
	}
	if (!rc) {
		json_t *t = json_object_get(out, "trial");
		json_object_set(t, "validation_metrics", json_object_get(metrics, "metrics"));
		if (ctx->output == CLI_OUTPUT_TABLE) {
			static const struct cli_column cols[] = {
			    {"ID", "id"},
			    {"EXPERIMENT", "experiment_id"},
			    {"INDEX", "trial_index"},
			    {"STATE", "state"},
			    {"STEPS", "steps_completed"},
			    {"BEST", "best_metric"},
			    {"RESTARTS", "restarts"},
			    {"CHECKPOINT", "latest_checkpoint"},
			};
			static const struct cli_column mcols[] = {{"STEPS", "steps_completed"},
			                                          {"METRICS", "metrics"}};
			json_t *rows = json_pack("[O]", t);
			cli_print_table(stdout, rows, cols, sizeof(cols) / sizeof(cols[0]));
			json_decref(rows);
			const char *why = json_string_value(json_object_get(t, "end_reason"));
			const char *st = json_string_value(json_object_get(t, "state"));
			if (why && st && !strcmp(st, "ERROR"))
				printf("error: %s\n", why);
			else if (why)
				printf("end reason: %s\n", why);
			printf("\nhyperparameters: ");
			char *hp = json_dumps(json_object_get(t, "hparams"),
			                      JSON_COMPACT | JSON_SORT_KEYS);
			printf("%s\n", hp ? hp : "{}");
			const char *image = json_string_value(json_object_get(t, "image_digest"));
			if (image) /* from the master: checked before it reaches the terminal */
				printf("image: %s\n",
				       strspn(image, "sha256:0123456789abcdef") == strlen(image)
				           ? image
				           : "?");
			printf("\nvalidation metrics:\n");
			free(hp);
			cli_print_table(stdout, json_object_get(metrics, "metrics"), mcols, 2);
		} else {
			cli_print_value(ctx, stdout, t);
		}
	}
	json_decref(out);
	json_decref(metrics);
	http_client_free(c);
	return rc;
}

int cli_trial_logs(struct cli_ctx *ctx, int argc, char **argv)
{
	int follow, ended = 0, rc;
	long long after = 0;

	long long id;
	struct http_client *c;
	rc = cli_id_client(ctx, argc, argv, "det trial logs [--follow] ID", "trial id", &follow,
	                   &id, &c);
	if (rc)
		return rc;
	http_client_set_timeout_ms(c, 90000);
	do {
		long long before = after;
		rc = cli_trial_logs_once(c, id, &after, follow, "", &ended);
		/* Without follow, page until nothing new comes back. */
		if (!follow && after == before)
			break;
	} while (!rc && !(follow && ended));
	http_client_free(c);
	return rc;
}

int cli_trial_kill(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_kill_one(ctx, argc, argv, "trial", "Trial");
}
