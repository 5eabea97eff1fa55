/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det notebook start|list|open|kill: Jupyter notebooks run by the master's
 * resource manager as the caller and reached through the master's
 * /proxy/<id>/ relay (doc/tasks.md). `start` waits until the notebook runs
 * and has registered its address, then prints its URL.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "http_client.h"

/* The body of POST /tasks for a notebook: the config file's keys and --idle-timeout.
 * NULL after printing why. */
static json_t *nb_body(const char *config_file, const char *idle)
{
	static const char *const keys[] = {"resources", "environment",  "description",
	                                   "slurm",     "idle_timeout", NULL};
	json_t *body = json_pack("{s:s}", "kind", "notebook");

	if (!body)
		goto oom;
	if (cli_task_config(body, config_file, keys))
		goto fail;
	if (idle && json_object_set_new(body, "idle_timeout", json_string(idle)))
		goto oom;
	return body;
oom:
	fprintf(stderr, "det: out of memory\n");
fail:
	json_decref(body);
	return NULL;
}

/* The notebook's URL: the master's address and its proxy_url (a Unix socket: the path). */
static void nb_print_url(struct cli_ctx *ctx, json_t *task)
{
	const char *path = json_string_value(json_object_get(task, "proxy_url"));
	const char *m = ctx->master ? ctx->master : "";
	int http = !strncmp(m, "http://", 7) || !strncmp(m, "https://", 8);
	size_t n = http ? strlen(m) : 0;
	while (n > 0 && m[n - 1] == '/')
		n--;
	if (ctx->output == CLI_OUTPUT_TABLE)
		printf("%.*s%s\n", (int)n, m, path ? path : "");
	else
		cli_print_value(ctx, stdout, task);
}

/* GET task id into *out (new reference). A cli exit code. */
static int nb_get(struct http_client *c, long long id, json_t **out)
{
	char path[128];
	snprintf(path, sizeof(path), "/api/v1/tasks/%lld", id);
	return cli_call(c, "GET", path, NULL, out);
}

int cli_notebook_start(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {{"config-file", required_argument, NULL, 'c'},
	                                     {"idle-timeout", required_argument, NULL, 'i'},
	                                     {"detach", no_argument, NULL, 'd'},
	                                     {NULL, 0, NULL, 0}};
	static const char usage[] =
	    "usage: det notebook start [--config-file F] [--idle-timeout D] [--detach]\n";
	const char *config_file = NULL, *idle = NULL;
	int opt, detach = 0, rc = CLI_EXIT_FAILURE;
	json_t *body = NULL, *out = NULL, *got = NULL;
	struct http_client *c = NULL;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+c:i:d", opts, NULL)) != -1) {
		if (opt == 'c') {
			config_file = optarg;
		} else if (opt == 'i') {
			idle = optarg;
		} else if (opt == 'd') {
			detach = 1;
		} else {
			fputs(usage, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return CLI_EXIT_USAGE;
	}
	body = nb_body(config_file, idle);
	if (!body)
		goto out;
	c = cli_client(ctx);
	if (!c)
		goto out;
	rc = cli_call(c, "POST", "/api/v1/tasks", body, &out);
	if (rc)
		goto out;
	json_t *t = json_object_get(out, "task");
	long long id = json_integer_value(json_object_get(t, "id"));
	if (detach) {
		cli_print_state(ctx, "Notebook", id, t);
		goto out;
	}
	fprintf(stderr, "det: notebook %lld\n", id);
	/* Until it serves (RUNNING with an address) or ends; a queued one may wait long. */
	for (;;) {
		json_decref(got);
		got = NULL;
		rc = nb_get(c, id, &got);
		if (rc)
			goto out;
		t = json_object_get(got, "task");
		const char *state = json_string_value(json_object_get(t, "state"));
		if (json_object_get(t, "proxy_url")) {
			nb_print_url(ctx, t);
			break;
		}
		if (state && !strcmp(state, "TERMINATED")) {
			const char *why = json_string_value(json_object_get(t, "end_reason"));
			fprintf(stderr, "det: notebook %lld ended: %s (det task logs %lld)\n", id,
			        why ? why : "unknown", id);
			rc = CLI_EXIT_FAILURE;
			break;
		}
		nanosleep(&(struct timespec){0, 500000000L}, NULL);
	}
out:
	json_decref(body);
	json_decref(out);
	json_decref(got);
	http_client_free(c);
	return rc;
}

int cli_notebook_list(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_column cols[] = {
	    {"TASK", "task_id"},      {"OWNER UID", "owner_uid"}, {"STATE", "state"},
	    {"REASON", "end_reason"}, {"SLOTS", "slots"},         {"DESCRIPTION", "description"},
	};
	(void)argv;
	return cli_list_rows(ctx, argc, "det notebook list", "/api/v1/tasks?kind=notebook", "tasks",
	                     cols, sizeof(cols) / sizeof(cols[0]));
}

/* det notebook open|kill ID. */
static int nb_one(struct cli_ctx *ctx, int argc, char **argv, int kill)
{
	char path[128];
	json_t *out = NULL;
	long long id = cli_parse_one_id(
	    argc, argv, kill ? "det notebook kill ID" : "det notebook open ID", "notebook id");
	if (id < 0)
		return CLI_EXIT_USAGE;
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	snprintf(path, sizeof(path), "/api/v1/tasks/%lld%s", id, kill ? "/kill" : "");
	int rc = cli_call(c, kill ? "POST" : "GET", path, NULL, &out);
	json_t *t = json_object_get(out, "task");
	const char *kind = json_string_value(json_object_get(t, "kind"));
	if (!rc && !kill && (!kind || strcmp(kind, "notebook"))) {
		fprintf(stderr, "det: task %lld is not a notebook\n", id);
		rc = CLI_EXIT_FAILURE;
	} else if (!rc && !kill && !json_object_get(t, "proxy_url")) {
		fprintf(stderr, "det: notebook %lld is %s and serves nothing\n", id,
		        json_string_value(json_object_get(t, "state")));
		rc = CLI_EXIT_FAILURE;
	} else if (!rc && !kill) {
		nb_print_url(ctx, t);
	} else if (!rc) {
		cli_print_state(ctx, "Notebook", id, t);
	}
	json_decref(out);
	http_client_free(c);
	return rc;
}

int cli_notebook_open(struct cli_ctx *ctx, int argc, char **argv)
{
	return nb_one(ctx, argc, argv, 0);
}

int cli_notebook_kill(struct cli_ctx *ctx, int argc, char **argv)
{
	return nb_one(ctx, argc, argv, 1);
}
