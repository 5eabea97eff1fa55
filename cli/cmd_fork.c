/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det experiment set description|notes|labels ID VALUE: edit them.
 * det experiment fork|continue ID [--config-file F] [--config KEY=VALUE]...: a new
 * experiment with the source's model definition and config, the overrides
 * merged over it by the master. KEY is a dotted path ("searcher.max_trials");
 * VALUE a YAML scalar or flow collection ("0.1", "[1, 2]").
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "http_client.h"

#define FORK_MAX_BYTES (1024 * 1024)

/* Append "KEY=VALUE" as nested YAML to buf (at *n of cap). 0, or -1 after printing why. */
static int append_override(char **buf, size_t *n, size_t *cap, const char *kv)
{
	const char *eq = strchr(kv, '=');
	int depth = 0;
	if (!eq || eq == kv || strchr(kv, '\n') || strchr(kv, '\r')) {
		fprintf(stderr, "det: --config %s: expected KEY=VALUE on one line\n", kv);
		return -1;
	}
	for (const char *k = kv; k < eq;) {
		const char *dot = memchr(k, '.', (size_t)(eq - k));
		const char *end = dot ? dot : eq;
		if (end == k) {
			fprintf(stderr, "det: --config %s: an empty key\n", kv);
			return -1;
		}
		size_t need = *n + (size_t)(end - k) + (size_t)depth * 2 + strlen(eq) + 8;
		if (need > FORK_MAX_BYTES) {
			fprintf(stderr, "det: --config: too long\n");
			return -1;
		}
		if (need > *cap) {
			char *p = realloc(*buf, need * 2);
			if (!p)
				return -1;
			*buf = p;
			*cap = need * 2;
		}
		*n += (size_t)snprintf(*buf + *n, *cap - *n, "%*s\"%.*s\":%s", depth * 2, "",
		                       (int)(end - k), k, dot ? "\n" : "");
		depth++;
		k = dot ? dot + 1 : eq;
	}
	*n += (size_t)snprintf(*buf + *n, *cap - *n, " %s\n", eq + 1);
	return 0;
}

int cli_experiment_fork(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {{"config-file", required_argument, NULL, 'f'},
	                                     {"config", required_argument, NULL, 'c'},
	                                     {"project", required_argument, NULL, 'p'},
	                                     {"paused", no_argument, NULL, 'P'},
	                                     {NULL, 0, NULL, 0}};
	char *yaml = NULL, path[96];
	size_t n = 0, cap = 0;
	const char *project = NULL;
	int paused = 0, opt, rc = CLI_EXIT_USAGE;
	json_t *body = NULL, *out = NULL;
	struct http_client *c = NULL;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "f:c:p:", opts, NULL)) != -1) {
		if (opt == 'f' && !yaml) {
			yaml = cli_read_file(optarg, FORK_MAX_BYTES, &n);
			if (!yaml)
				return CLI_EXIT_FAILURE;
			cap = n + 1;
			if (n && yaml[n - 1] != '\n') {
				char *p = realloc(yaml, n + 2);
				if (!p)
					goto out;
				yaml = p;
				yaml[n++] = '\n';
				yaml[n] = '\0';
				cap = n + 1;
			}
		} else if (opt == 'c') {
			if (append_override(&yaml, &n, &cap, optarg))
				goto out;
		} else if (opt == 'p') {
			project = optarg;
		} else if (opt == 'P') {
			paused = 1;
		} else {
			goto out;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr,
		        "usage: det experiment %s ID [--config-file FILE] [--config "
		        "KEY=VALUE]... [--project P] [--paused]\n",
		        argv[0]);
		goto out;
	}
	long long id = cli_parse_id("experiment id", argv[optind]);
	if (id < 0)
		goto out;
	rc = CLI_EXIT_FAILURE;
	body =
	    json_pack("{s:s*, s:s*, s:b}", "config", yaml, "project", project, "activate", !paused);
	c = cli_client(ctx);
	if (!body || !c)
		goto out;
	int cont = !strcmp(argv[0], "continue");
	snprintf(path, sizeof(path), "/api/v1/experiments/%lld/%s", id, cont ? "continue" : "fork");
	rc = cli_call(c, "POST", path, body, &out);
	cli_print_done(ctx, rc, out, "Created experiment %lld (%s %lld)\n",
	               (long long)json_integer_value(json_object_get(out, "id")),
	               cont ? "continuing" : "forked from", id);
out:
	free(yaml);
	json_decref(body);
	json_decref(out);
	http_client_free(c);
	return rc;
}

int cli_experiment_set(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const fields[] = {"description", "notes", "labels"};
	char path[96];
	json_t *body = NULL, *value = NULL, *out = NULL;
	struct http_client *c = NULL;
	int rc = CLI_EXIT_USAGE, field = -1;

	for (int i = 0; argc == 4 && i < 3; i++)
		if (!strcmp(argv[1], fields[i]))
			field = i;
	long long id = field >= 0 ? cli_parse_id("experiment id", argv[2]) : -1;
	if (field < 0 || id < 0) {
		fprintf(stderr, "usage: det experiment set description|notes|labels ID VALUE\n"
		                "  (labels: comma-separated, \"\" for none)\n");
		return CLI_EXIT_USAGE;
	}
	rc = CLI_EXIT_FAILURE;
	if (field == 2) {
		value = json_array();
		for (const char *s = argv[3]; value && *s;) {
			const char *comma = strchr(s, ',');
			size_t n = comma ? (size_t)(comma - s) : strlen(s);
			if (n)
				json_array_append_new(value, json_stringn(s, n));
			s += n + (comma != NULL);
		}
	} else {
		value = json_string(argv[3]);
	}
	body = value ? json_pack("{s:O}", fields[field], value) : NULL;
	c = cli_client(ctx);
	if (!body || !c)
		goto out;
	snprintf(path, sizeof(path), "/api/v1/experiments/%lld/set", id);
	rc = cli_call(c, "POST", path, body, &out);
	cli_print_done(ctx, rc, json_object_get(out, "experiment"), "Set %s of experiment %lld\n",
	               fields[field], id);
out:
	json_decref(value);
	json_decref(body);
	json_decref(out);
	http_client_free(c);
	return rc;
}
