/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det image import|list|rm: the master's image cache (doc/containers.md).
 * import sends the tarball's (or directory's) absolute path, not its bytes:
 * the master reads it from the shared file system as the calling user.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "http_client.h"

static const struct cli_column image_cols[] = {
    {"NAME", "name"},
    {"DIGEST", "digest"},
    {"OWNER", "owner"},
    {"SIZE", "size_bytes"},
};

int cli_image_import(struct cli_ctx *ctx, int argc, char **argv)
{
	char abs[PATH_MAX];
	json_t *body = NULL, *out = NULL;
	struct http_client *c = NULL;
	int rc = CLI_EXIT_FAILURE;

	if (argc != 3) {
		fprintf(stderr, "usage: det image import TARBALL|DIR NAME\n");
		return CLI_EXIT_USAGE;
	}
	if (!realpath(argv[1], abs)) {
		perror(argv[1]);
		return CLI_EXIT_FAILURE;
	}
	body = json_pack("{s:s, s:s}", "path", abs, "name", argv[2]);
	c = cli_client(ctx);
	if (!body || !c)
		goto out;
	http_client_set_timeout_ms(c, 600000); /* hashing and checking a large tarball */
	rc = cli_call(c, "POST", "/api/v1/images", body, &out);
	cli_print_done(ctx, rc, out, "Imported %s as %s\n",
	               json_string_value(json_object_get(out, "name")),
	               json_string_value(json_object_get(out, "digest")));
out:
	json_decref(body);
	json_decref(out);
	http_client_free(c);
	return rc;
}

int cli_image_list(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	return cli_list_rows(ctx, argc, "det image list", "/api/v1/images", "images", image_cols,
	                     sizeof(image_cols) / sizeof(image_cols[0]));
}

int cli_image_rm(struct cli_ctx *ctx, int argc, char **argv)
{
	char path[512];
	json_t *out = NULL;
	if (argc != 2 || strlen(argv[1]) > 128) {
		fprintf(stderr, "usage: det image rm NAME\n");
		return CLI_EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "/api/v1/images?name=");
	/* ':' and '/' are the only characters of a valid name that need it. */
	(void)cli_url_append(path, sizeof(path), argv[1]);
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	int rc = cli_call(c, "DELETE", path, NULL, &out);
	cli_print_done(ctx, rc, out, "Removed %s\n", argv[1]);
	json_decref(out);
	http_client_free(c);
	return rc;
}
