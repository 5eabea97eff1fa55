/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det checkpoint list|describe|download. Checkpoints live on a shared file
 * system, so download copies the registered files from the checkpoint's
 * path into a local directory and verifies each size against the registry
 * (ckpt_download.c: names confined to the directory, no symlink followed).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt_download.h"
#include "client.h"
#include "http_client.h"

static const struct cli_column ckpt_cols[] = {
    {"UUID", "uuid"},   {"TRIAL", "trial_id"}, {"STEPS", "steps_completed"},
    {"STATE", "state"}, {"PATH", "path"},
};

int cli_checkpoint_list(struct cli_ctx *ctx, int argc, char **argv)
{
	char path[128];
	long long id =
	    cli_parse_one_id(argc, argv, "det checkpoint list EXPERIMENT_ID", "experiment id");
	if (id < 0)
		return CLI_EXIT_USAGE;
	snprintf(path, sizeof(path), "/api/v1/experiments/%lld/checkpoints", id);
	return cli_get_rows(ctx, path, "checkpoints", ckpt_cols,
	                    sizeof(ckpt_cols) / sizeof(ckpt_cols[0]));
}

static int uuid_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= 64 && strspn(s, "0123456789abcdefABCDEF-") == n;
}

static json_t *get_ckpt(struct cli_ctx *ctx, const char *uuid, int *rc)
{
	char path[160];
	json_t *out = NULL;
	struct http_client *c = cli_client(ctx);
	if (!c) {
		*rc = CLI_EXIT_FAILURE;
		return NULL;
	}
	snprintf(path, sizeof(path), "/api/v1/checkpoints/%s", uuid);
	*rc = cli_call(c, "GET", path, NULL, &out);
	http_client_free(c);
	return out;
}

int cli_checkpoint_describe(struct cli_ctx *ctx, int argc, char **argv)
{
	int rc;
	if (argc != 2 || !uuid_ok(argv[1])) {
		fprintf(stderr, "usage: det checkpoint describe UUID\n");
		return CLI_EXIT_USAGE;
	}
	json_t *ck = get_ckpt(ctx, argv[1], &rc);
	if (!rc) {
		if (ctx->output == CLI_OUTPUT_TABLE) {
			json_t *rows = json_pack("[O]", ck);
			cli_print_table(stdout, rows, ckpt_cols,
			                sizeof(ckpt_cols) / sizeof(ckpt_cols[0]));
			json_decref(rows);
			static const struct cli_column fcols[] = {
			    {"FILE", "path"}, {"SIZE", "size"}, {"SHA256", "sha256"}};
			printf("\n");
			cli_print_table(stdout, json_object_get(ck, "files"), fcols, 3);
		} else {
			cli_print_value(ctx, stdout, ck);
		}
	}
	json_decref(ck);
	return rc;
}

int cli_checkpoint_download(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
	int rc, opt, force = 0;
	char err[1024];

	optind = 0;
	while ((opt = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (opt != 'f')
			return CLI_EXIT_USAGE;
		force = 1;
	}
	argc -= optind - 1;
	argv += optind - 1;
	if ((argc != 2 && argc != 3) || !uuid_ok(argv[1])) {
		fprintf(stderr, "usage: det checkpoint download [--force] UUID [DIR]\n");
		return CLI_EXIT_USAGE;
	}
	const char *dir = argc == 3 ? argv[2] : argv[1];
	json_t *ck = get_ckpt(ctx, argv[1], &rc);
	if (rc)
		return rc;
	const char *src = json_string_value(json_object_get(ck, "path"));
	if (!src)
		snprintf(err, sizeof(err), "the checkpoint has no path");
	if (!src || cli_ckpt_download_files(src, json_object_get(ck, "files"), dir, force, err,
	                                    sizeof(err)) < 0) {
		fprintf(stderr, "det: checkpoint %s: %s\n", argv[1], err);
		rc = CLI_EXIT_FAILURE;
	} else {
		printf("Downloaded checkpoint %s to %s\n", argv[1], dir);
	}
	json_decref(ck);
	return rc;
}
