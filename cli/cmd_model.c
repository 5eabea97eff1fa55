/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det model create|list|describe|register-version|list-versions|download:
 * the model registry. A version is a checkpoint; download fetches it as
 * det checkpoint download does (sizes checked, names confined to DIR).
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "http_client.h"

static const struct cli_column model_cols[] = {
    {"NAME", "name"},
    {"VERSIONS", "num_versions"},
    {"DESCRIPTION", "description"},
};

static const struct cli_column version_cols[] = {
    {"VERSION", "version"},
    {"CHECKPOINT", "checkpoint_uuid"},
    {"CREATED", "created_at"},
};

/* "/api/v1/models/NAME" + suffix, NAME percent-encoded; -1 when it does not fit. */
static int model_path(const char *name, const char *suffix, char *buf, size_t len)
{
	snprintf(buf, len, "/api/v1/models/");
	if (cli_url_append(buf, len, name) || strlen(buf) + strlen(suffix) >= len)
		return -1;
	strcat(buf, suffix);
	return 0;
}

/* GET model name into *out; an enum cli_exit. */
static int get_model(struct cli_ctx *ctx, const char *name, json_t **out)
{
	char path[512];
	if (model_path(name, "", path, sizeof(path))) {
		fprintf(stderr, "det: model name too long\n");
		return CLI_EXIT_USAGE;
	}
	return cli_get(ctx, path, out);
}

int cli_model_create(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *desc = NULL;
	json_t *body, *out = NULL;
	int first = cli_one_option(argc, argv, "description", "d:", &desc);

	if (first < 0)
		return CLI_EXIT_USAGE;
	if (argc - first != 1) {
		fprintf(stderr, "usage: det model create [--description TEXT] NAME\n");
		return CLI_EXIT_USAGE;
	}
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	body = json_pack("{s:s, s:s*}", "name", argv[first], "description", desc);
	int rc = body ? cli_call(c, "POST", "/api/v1/models", body, &out) : CLI_EXIT_FAILURE;
	cli_print_done(ctx, rc, json_object_get(out, "model"), "Created model %s\n", argv[first]);
	json_decref(body);
	json_decref(out);
	http_client_free(c);
	return rc;
}

int cli_model_list(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	return cli_list_rows(ctx, argc, "det model list", "/api/v1/models", "models", model_cols,
	                     sizeof(model_cols) / sizeof(model_cols[0]));
}

/* describe (versions == 0) or list-versions (1). */
static int show(struct cli_ctx *ctx, int argc, char **argv, int versions)
{
	json_t *out = NULL;
	if (argc != 2) {
		fprintf(stderr, "usage: det model %s NAME\n", argv[0]);
		return CLI_EXIT_USAGE;
	}
	int rc = get_model(ctx, argv[1], &out);
	json_t *m = json_object_get(out, "model");
	if (!rc && (versions || ctx->output == CLI_OUTPUT_TABLE))
		cli_print_rows(ctx, json_object_get(m, "versions"), json_object_get(m, "versions"),
		               version_cols, sizeof(version_cols) / sizeof(version_cols[0]));
	else if (!rc)
		cli_print_value(ctx, stdout, m);
	json_decref(out);
	return rc;
}

int cli_model_describe(struct cli_ctx *ctx, int argc, char **argv)
{
	return show(ctx, argc, argv, 0);
}

int cli_model_list_versions(struct cli_ctx *ctx, int argc, char **argv)
{
	return show(ctx, argc, argv, 1);
}

int cli_model_register_version(struct cli_ctx *ctx, int argc, char **argv)
{
	char path[512];
	json_t *body, *out = NULL;
	if (argc != 3 || model_path(argv[1], "/versions", path, sizeof(path))) {
		fprintf(stderr, "usage: det model register-version NAME CHECKPOINT_UUID\n");
		return CLI_EXIT_USAGE;
	}
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	body = json_pack("{s:s}", "checkpoint_uuid", argv[2]);
	int rc = body ? cli_call(c, "POST", path, body, &out) : CLI_EXIT_FAILURE;
	cli_print_done(ctx, rc, out, "Registered version %lld of model %s\n",
	               (long long)json_integer_value(json_object_get(out, "version")), argv[1]);
	json_decref(body);
	json_decref(out);
	http_client_free(c);
	return rc;
}

int cli_model_download(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *version = NULL;
	long long want = 0;
	json_t *out = NULL, *v;
	char uuid[128] = "";
	size_t i;
	int first = cli_one_option(argc, argv, "version", "v:", &version);

	if (first < 0 || (version && (want = cli_parse_id("version", version)) < 0))
		return CLI_EXIT_USAGE;
	if (argc - first < 1 || argc - first > 2) {
		fprintf(stderr, "usage: det model download [--version N] NAME [DIR]\n");
		return CLI_EXIT_USAGE;
	}
	int rc = get_model(ctx, argv[first], &out);
	long long best = 0;
	json_array_foreach (json_object_get(json_object_get(out, "model"), "versions"), i, v) {
		long long n = json_integer_value(json_object_get(v, "version"));
		if ((want ? n == want : n > best) &&
		    json_is_string(json_object_get(v, "checkpoint_uuid"))) {
			best = n;
			snprintf(uuid, sizeof(uuid), "%s",
			         json_string_value(json_object_get(v, "checkpoint_uuid")));
		}
	}
	json_decref(out);
	if (rc)
		return rc;
	if (!uuid[0]) {
		fprintf(stderr, "det: model %s has no version%s\n", argv[first],
		        want ? " like that" : "");
		return CLI_EXIT_FAILURE;
	}
	char *dl[] = {"download", uuid, argc - first == 2 ? argv[first + 1] : NULL, NULL};
	return cli_checkpoint_download(ctx, dl[2] ? 3 : 2, dl);
}
