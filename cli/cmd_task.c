/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det cmd run|list and det task list|logs|kill: commands run by the master's
 * resource manager as the caller (doc/tasks.md). `det cmd run` streams the
 * command's output from its log (by byte offset, long-polled) and exits with
 * the command's exit code.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "expconf.h"
#include "http_client.h"

#define CMD_CONFIG_MAX_BYTES (1 << 20)
/* A context directory packed: the master's limit for a model definition. */
#define CMD_CONTEXT_MAX_BYTES (95L * 1024 * 1024)

/* Print the task's output from *offset (advanced); *done when it ended and all is read. */
static int task_logs_once(struct http_client *c, long long id, long long *offset, int follow,
                          int *done)
{
	char path[192];
	json_t *out = NULL;

	snprintf(path, sizeof(path), "/api/v1/tasks/%lld/logs?offset=%lld&follow=%d", id, *offset,
	         follow);
	int rc = cli_call(c, "GET", path, NULL, &out);
	if (rc)
		return rc;
	const char *text = json_string_value(json_object_get(out, "text"));
	if (text)
		fwrite(text, 1, json_string_length(json_object_get(out, "text")), stdout);
	fflush(stdout);
	*offset = json_integer_value(json_object_get(out, "offset"));
	*done = json_is_true(json_object_get(out, "done"));
	json_decref(out);
	return CLI_EXIT_OK;
}

/* Stream the logs of task id until it ends (follow) or until nothing is new. */
static int task_stream(struct http_client *c, long long id, int follow)
{
	long long offset = 0;
	int done = 0, rc;
	http_client_set_timeout_ms(c, 90000);
	do {
		long long before = offset;
		rc = task_logs_once(c, id, &offset, follow, &done);
		if (!follow && offset == before)
			break;
	} while (!rc && !done);
	return rc;
}

/* Add context_dir (when not NULL) to body as "context": base64 of its tar.gz, packed like
 * a model definition (.detignore honoured). 0, or -1 after printing why. */
static int cmd_context(json_t *body, const char *context_dir)
{
	unsigned char *data = NULL;
	size_t len = 0;
	char *b64 = NULL;
	int rv = -1;

	if (!context_dir)
		return 0;
	if (cli_pack_dir(context_dir, &data, &len, CMD_CONTEXT_MAX_BYTES))
		goto fail;
	b64 = cli_base64(data, len);
	if (!b64 || json_object_set_new(body, "context", json_string(b64))) {
		fprintf(stderr, "det: out of memory\n");
		goto fail;
	}
	rv = 0;
fail:
	free(data);
	free(b64);
	return rv;
}

int cli_task_config(json_t *body, const char *config_file, const char *const *keys)
{
	json_t *cfg = NULL, *v;
	char err[512], *text = NULL;
	const char *key;
	size_t len = 0, i;
	int rv = -1;

	if (!config_file)
		return 0;
	text = cli_read_file(config_file, CMD_CONFIG_MAX_BYTES, &len);
	if (!text)
		goto fail;
	cfg = expconf_yaml_json(text, len, err, sizeof(err));
	if (!cfg) {
		fprintf(stderr, "det: %s:%s\n", config_file, err);
		goto fail;
	}
	json_object_foreach (cfg, key, v) {
		for (i = 0; keys[i] && strcmp(key, keys[i]); i++)
			;
		if (!keys[i]) {
			fprintf(stderr, "det: %s: %s: unknown key (expected ", config_file, key);
			for (i = 0; keys[i]; i++)
				fprintf(stderr, "%s%s", i ? ", " : "", keys[i]);
			fputs(")\n", stderr);
			goto fail;
		}
		if (json_object_set(body, key, v)) {
			fprintf(stderr, "det: out of memory\n");
			goto fail;
		}
	}
	rv = 0;
fail:
	json_decref(cfg);
	free(text);
	return rv;
}

json_t *cli_task_body(const char *kind, const char *config_file, const char *const *keys)
{
	json_t *body = json_pack("{s:s}", "kind", kind);

	if (!body) {
		fprintf(stderr, "det: out of memory\n");
		return NULL;
	}
	if (cli_task_config(body, config_file, keys)) {
		json_decref(body);
		return NULL;
	}
	return body;
}

/* Parse argv as k says into *o: 0, or CLI_EXIT_USAGE after printing usage. */
static int task_start_args(int argc, char **argv, const struct cli_task_kind *k,
                           struct cli_task_start *o)
{
	struct option opts[] = {{"config-file", required_argument, NULL, 'c'},
	                        {"detach", no_argument, NULL, 'd'},
	                        {NULL, 0, NULL, 0},
	                        {NULL, 0, NULL, 0}};
	char shorts[8] = "+c:d";
	int opt;

	memset(o, 0, sizeof(*o));
	if (k->extra.name) {
		opts[2] = k->extra;
		snprintf(shorts, sizeof(shorts), "+c:d%c:", k->extra.val);
	}
	optind = 0;
	while ((opt = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		if (opt == 'c') {
			o->config_file = optarg;
		} else if (opt == 'd') {
			o->detach = 1;
		} else if (k->extra.name && opt == k->extra.val) {
			o->extra = optarg;
		} else {
			fputs(k->usage, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (k->with_args ? optind >= argc : optind != argc) {
		fputs(k->usage, stderr);
		return CLI_EXIT_USAGE;
	}
	o->argc = argc - optind;
	o->argv = argv + optind;
	return 0;
}

int cli_task_start(struct cli_ctx *ctx, int argc, char **argv, const struct cli_task_kind *k,
                   struct http_client **c, long long *id)
{
	struct cli_task_start o;
	json_t *body = NULL, *out = NULL;
	long timeout_ms = 0;
	int rc;

	*c = NULL;
	*id = 0;
	rc = task_start_args(argc, argv, k, &o);
	if (rc)
		return rc;
	rc = CLI_EXIT_FAILURE;
	body = k->body(&o, &timeout_ms);
	if (!body)
		goto out;
	*c = cli_client(ctx);
	if (!*c)
		goto out;
	if (timeout_ms > 0)
		http_client_set_timeout_ms(*c, timeout_ms);
	rc = cli_call(*c, "POST", "/api/v1/tasks", body, &out);
	if (rc)
		goto out;
	json_t *task = json_object_get(out, "task");
	long long new_id = json_integer_value(json_object_get(task, "id"));
	if (o.detach) {
		cli_print_state(ctx, k->title, new_id, task);
		goto out;
	}
	fprintf(stderr, "det: %s %lld\n", json_string_value(json_object_get(body, "kind")), new_id);
	*id = new_id;
out:
	json_decref(body);
	json_decref(out);
	return rc;
}

int cli_task_kind_list(struct cli_ctx *ctx, int argc, const char *kind)
{
	static const struct cli_column cols[] = {
	    {"TASK", "task_id"},      {"OWNER UID", "owner_uid"}, {"STATE", "state"},
	    {"REASON", "end_reason"}, {"SLOTS", "slots"},         {"DESCRIPTION", "description"},
	};
	char usage[64], path[128];

	snprintf(usage, sizeof(usage), "det %s list", kind);
	snprintf(path, sizeof(path), "/api/v1/tasks?kind=%s", kind);
	return cli_list_rows(ctx, argc, usage, path, "tasks", cols, sizeof(cols) / sizeof(cols[0]));
}

/* The body of POST /tasks for a command: the config file's keys, argv and the
 * --context directory; a longer timeout to send that. NULL after printing why. */
static json_t *cmd_body(const struct cli_task_start *o, long *timeout_ms)
{
	static const char *const keys[] = {"resources", "environment", "description", "slurm",
	                                   NULL};
	json_t *body = cli_task_body("command", o->config_file, keys), *args;

	if (!body)
		return NULL;
	args = json_array();
	if (json_object_set_new(body, "argv", args))
		goto oom;
	for (int i = 0; i < o->argc; i++)
		if (json_array_append_new(args, json_string(o->argv[i])))
			goto oom;
	if (cmd_context(body, o->extra))
		goto fail;
	*timeout_ms = o->extra ? 300000 : 0;
	return body;
oom:
	fprintf(stderr, "det: out of memory\n");
fail:
	json_decref(body);
	return NULL;
}

int cli_cmd_run(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_task_kind kind = {
	    "usage: det cmd run [--config-file F] [--context DIR] [--detach] CMD...\n",
	    "Command",
	    {"context", required_argument, NULL, 'C'},
	    1,
	    cmd_body};
	json_t *task = NULL;
	struct http_client *c = NULL;
	long long id = 0;
	int rc = cli_task_start(ctx, argc, argv, &kind, &c, &id);

	if (rc || !id)
		goto out;
	rc = task_stream(c, id, 1);
	if (rc)
		goto out;
	char path[128];
	snprintf(path, sizeof(path), "/api/v1/tasks/%lld", id);
	rc = cli_call(c, "GET", path, NULL, &task);
	if (rc)
		goto out;
	json_t *t = json_object_get(task, "task");
	json_t *code = json_object_get(t, "exit_code");
	const char *why = json_string_value(json_object_get(t, "end_reason"));
	if (!json_is_integer(code)) {
		fprintf(stderr, "det: command %lld ended: %s\n", id, why ? why : "unknown");
		rc = CLI_EXIT_FAILURE;
	} else {
		rc = (int)json_integer_value(code);
	}
out:
	json_decref(task);
	http_client_free(c);
	return rc;
}

/* List tasks of kind (NULL: all). */
static int task_list(struct cli_ctx *ctx, const char *kind, int argc)
{
	static const struct cli_column cols[] = {
	    {"TASK", "task_id"},        {"KIND", "kind"},
	    {"OWNER UID", "owner_uid"}, {"STATE", "state"},
	    {"EXIT", "exit_status"},    {"REASON", "end_reason"},
	    {"SLOTS", "slots"},         {"DESCRIPTION", "description"},
	};
	char path[128];
	json_t *out = NULL;

	if (argc != 1) {
		fprintf(stderr, "usage: det %s list\n", kind ? "cmd" : "task");
		return CLI_EXIT_USAGE;
	}
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	snprintf(path, sizeof(path), "/api/v1/tasks%s%s", kind ? "?kind=" : "", kind ? kind : "");
	int rc = cli_call(c, "GET", path, NULL, &out);
	if (!rc)
		cli_print_rows(ctx, json_object_get(out, "tasks"), json_object_get(out, "tasks"),
		               cols, sizeof(cols) / sizeof(cols[0]));
	json_decref(out);
	http_client_free(c);
	return rc;
}

int cli_cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	return task_list(ctx, "command", argc);
}

int cli_task_list(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	return task_list(ctx, NULL, argc);
}

int cli_task_logs(struct cli_ctx *ctx, int argc, char **argv)
{
	int follow;
	long long id;
	struct http_client *c;
	int rc = cli_id_client(ctx, argc, argv, "det task logs [--follow] ID", "task id", &follow,
	                       &id, &c);
	if (rc)
		return rc;
	rc = task_stream(c, id, follow);
	http_client_free(c);
	return rc;
}

int cli_task_kill(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_kill_one(ctx, argc, argv, "task", "Task");
}
