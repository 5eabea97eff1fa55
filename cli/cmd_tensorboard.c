/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det tensorboard start|list|kill: a TensorBoard task over experiments'
 * or trials' event files (POST /tasks kind "tensorboard"; doc/tasks.md).
 * The master builds TensorBoard's command line; this only names the ids.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "http_client.h"

#define TB_USAGE "usage: det tensorboard start EXPERIMENT_ID... [--trial-ids TRIAL_ID...]\n"

/* argv's experiment ids, then after --trial-ids trial ids, into body. 0, or an exit code. */
static int tb_ids(int argc, char **argv, json_t *body)
{
	json_t *exps = json_array(), *trials = json_array();
	json_t *into = exps;

	if (!exps || !trials || json_object_set_new(body, "experiment_ids", exps) ||
	    json_object_set_new(body, "trial_ids", trials)) {
		fprintf(stderr, "det: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--trial-ids")) {
			into = trials;
			continue;
		}
		long long id = cli_parse_id(into == exps ? "experiment id" : "trial id", argv[i]);
		if (id < 0)
			return CLI_EXIT_USAGE;
		if (json_array_append_new(into, json_integer(id))) {
			fprintf(stderr, "det: out of memory\n");
			return CLI_EXIT_FAILURE;
		}
	}
	if (!json_array_size(exps) && !json_array_size(trials)) {
		fputs(TB_USAGE, stderr);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

int cli_tensorboard_start(struct cli_ctx *ctx, int argc, char **argv)
{
	json_t *body = json_pack("{s:s}", "kind", "tensorboard"), *out = NULL;
	struct http_client *c = NULL;
	int rc = CLI_EXIT_FAILURE;

	if (!body) {
		fprintf(stderr, "det: out of memory\n");
		goto out;
	}
	if ((rc = tb_ids(argc, argv, body)))
		goto out;
	if (!(c = cli_client(ctx))) {
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	rc = cli_call(c, "POST", "/api/v1/tasks", body, &out);
	if (rc)
		goto out;
	json_t *t = json_object_get(out, "task");
	if (ctx->output == CLI_OUTPUT_TABLE)
		printf(
		    "TensorBoard task %lld is %s (det task logs %lld; its path is /proxy/%lld/)\n",
		    (long long)json_integer_value(json_object_get(t, "id")),
		    json_string_value(json_object_get(t, "state")),
		    (long long)json_integer_value(json_object_get(t, "id")),
		    (long long)json_integer_value(json_object_get(t, "id")));
	else
		cli_print_value(ctx, stdout, t);
out:
	json_decref(body);
	json_decref(out);
	http_client_free(c);
	return rc;
}

int cli_tensorboard_list(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_column cols[] = {
	    {"TASK", "task_id"},      {"OWNER UID", "owner_uid"},     {"STATE", "state"},
	    {"REASON", "end_reason"}, {"DESCRIPTION", "description"},
	};
	(void)argv;
	return cli_list_rows(ctx, argc, "det tensorboard list", "/api/v1/tasks?kind=tensorboard",
	                     "tasks", cols, sizeof(cols) / sizeof(cols[0]));
}
