/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det template create|list|describe|set|delete: named experiment config
 * templates, global or in a workspace, that det experiment create
 * --template merges under a config.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "http_client.h"

#define TEMPLATE_MAX_BYTES (512 * 1024)

static const struct cli_column template_cols[] = {
    {"NAME", "name"},
    {"WORKSPACE", "workspace_id"},
    {"OWNER", "owner_id"},
};

/* "/api/v1/templates/NAME" with NAME percent-encoded; -1 when it does not fit. */
static int template_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "/api/v1/templates/");
	return cli_url_append(buf, len, name);
}

/* POST body {config[, name, workspace]} to path; prints what it did. */
static int send_yaml(struct cli_ctx *ctx, const char *path, const char *name, const char *file,
                     const char *workspace, const char *done)
{
	size_t len = 0;
	char *yaml = cli_read_file(file, TEMPLATE_MAX_BYTES, &len);
	json_t *body = NULL, *out = NULL;
	struct http_client *c = NULL;
	int rc = CLI_EXIT_FAILURE;

	if (!yaml)
		return CLI_EXIT_FAILURE;
	body = json_pack("{s:s%, s:s*, s:s*}", "config", yaml, len, "name", name, "workspace",
	                 workspace);
	c = cli_client(ctx);
	if (body && c)
		rc = cli_call(c, "POST", path, body, &out);
	cli_print_done(
	    ctx, rc, json_object_get(out, "template"), "%s template %s\n", done,
	    json_string_value(json_object_get(json_object_get(out, "template"), "name")));
	free(yaml);
	json_decref(body);
	json_decref(out);
	http_client_free(c);
	return rc;
}

int cli_template_create(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *workspace = NULL;
	int first = cli_one_option(argc, argv, "workspace", "w:", &workspace);

	if (first < 0)
		return CLI_EXIT_USAGE;
	if (argc - first != 2) {
		fprintf(stderr, "usage: det template create [--workspace W] NAME FILE\n");
		return CLI_EXIT_USAGE;
	}
	return send_yaml(ctx, "/api/v1/templates", argv[first], argv[first + 1], workspace,
	                 "Created");
}

int cli_template_set(struct cli_ctx *ctx, int argc, char **argv)
{
	char path[512];
	if (argc != 3 || template_path(argv[1], path, sizeof(path))) {
		fprintf(stderr, "usage: det template set NAME FILE\n");
		return CLI_EXIT_USAGE;
	}
	return send_yaml(ctx, path, NULL, argv[2], NULL, "Updated");
}

int cli_template_list(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	return cli_list_rows(ctx, argc, "det template list", "/api/v1/templates", "templates",
	                     template_cols, sizeof(template_cols) / sizeof(template_cols[0]));
}

/* GET (describe) or DELETE template argv[1]. */
static int on_template(struct cli_ctx *ctx, int argc, char **argv, const char *method)
{
	char path[512];
	json_t *out = NULL;
	if (argc != 2 || template_path(argv[1], path, sizeof(path))) {
		fprintf(stderr, "usage: det template %s NAME\n", argv[0]);
		return CLI_EXIT_USAGE;
	}
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	int rc = cli_call(c, method, path, NULL, &out);
	json_t *t = json_object_get(out, "template");
	if (!rc && !strcmp(method, "DELETE") && ctx->output == CLI_OUTPUT_TABLE) {
		printf("Deleted template %s\n", argv[1]);
	} else if (!rc && t && ctx->output == CLI_OUTPUT_TABLE) {
		/* The YAML as stored, its control characters escaped. */
		char *esc = cli_escape(json_string_value(json_object_get(t, "config_yaml")));
		printf("%s", esc ? esc : "");
		free(esc);
	} else if (!rc) {
		cli_print_value(ctx, stdout, t ? t : out);
	}
	json_decref(out);
	http_client_free(c);
	return rc;
}

int cli_template_describe(struct cli_ctx *ctx, int argc, char **argv)
{
	return on_template(ctx, argc, argv, "GET");
}

int cli_template_delete(struct cli_ctx *ctx, int argc, char **argv)
{
	return on_template(ctx, argc, argv, "DELETE");
}
