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
static json_t *nb_body(const struct cli_task_start *o, long *timeout_ms)
{
	static const char *const keys[] = {"resources", "environment",  "description",
	                                   "slurm",     "idle_timeout", NULL};
	json_t *body = cli_task_body("notebook", o->config_file, keys);

	(void)timeout_ms;
	if (body && o->extra && json_object_set_new(body, "idle_timeout", json_string(o->extra))) {
		fprintf(stderr, "det: out of memory\n");
		json_decref(body);
		return NULL;
	}
	return body;
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
	static const struct cli_task_kind kind = {
	    "usage: det notebook start [--config-file F] [--idle-timeout D] [--detach]\n",
	    "Notebook",
	    {"idle-timeout", required_argument, NULL, 'i'},
	    0,
	    nb_body};
	json_t *got = NULL;
	struct http_client *c = NULL;
	long long id = 0;
	int rc = cli_task_start(ctx, argc, argv, &kind, &c, &id);

	if (rc || !id)
		goto out;
	/* Until it serves (RUNNING with an address) or ends; a queued one may wait long. */
	for (;;) {
		json_decref(got);
		got = NULL;
		rc = nb_get(c, id, &got);
		if (rc)
			goto out;
		json_t *t = json_object_get(got, "task");
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
	json_decref(got);
	http_client_free(c);
	return rc;
}

int cli_notebook_list(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	return cli_task_kind_list(ctx, argc, "notebook");
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
