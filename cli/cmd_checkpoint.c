/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det checkpoint list|describe|download. Checkpoints live on a shared file
 * system, so download copies the registered files from the checkpoint's
 * path into a local directory and verifies each size against the registry.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "http_client.h"

static const struct cli_column ckpt_cols[] = {
    {"UUID", "uuid"},   {"TRIAL", "trial_id"}, {"STEPS", "steps_completed"},
    {"STATE", "state"}, {"PATH", "path"},
};

int cli_checkpoint_list(struct cli_ctx *ctx, int argc, char **argv)
{
	char path[128];
	json_t *out = NULL;
	if (argc != 2) {
		fprintf(stderr, "usage: det checkpoint list EXPERIMENT_ID\n");
		return CLI_EXIT_USAGE;
	}
	long long id = cli_parse_id("experiment id", argv[1]);
	if (id < 0)
		return CLI_EXIT_USAGE;
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	snprintf(path, sizeof(path), "/api/v1/experiments/%lld/checkpoints", id);
	int rc = cli_call(c, "GET", path, NULL, &out);
	if (!rc)
		cli_print_rows(ctx, json_object_get(out, "checkpoints"),
		               json_object_get(out, "checkpoints"), ckpt_cols,
		               sizeof(ckpt_cols) / sizeof(ckpt_cols[0]));
	json_decref(out);
	http_client_free(c);
	return rc;
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

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rv = -1;
	if (in < 0)
		goto out;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		goto out;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			goto out;
	rv = n == 0 ? 0 : -1;
out:
	if (rv)
		fprintf(stderr, "det: copy %s: %s\n", from, strerror(errno));
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) != 0)
		rv = -1;
	return rv;
}

/* mkdir -p for the parents of rel below dir. */
static int make_parents(const char *dir, const char *rel)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	for (char *s = p + strlen(dir) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return 0;
}

int cli_checkpoint_download(struct cli_ctx *ctx, int argc, char **argv)
{
	int rc;
	if ((argc != 2 && argc != 3) || !uuid_ok(argv[1])) {
		fprintf(stderr, "usage: det checkpoint download UUID [DIR]\n");
		return CLI_EXIT_USAGE;
	}
	const char *dir = argc == 3 ? argv[2] : argv[1];
	json_t *ck = get_ckpt(ctx, argv[1], &rc);
	if (rc)
		return rc;
	const char *src = json_string_value(json_object_get(ck, "path"));
	size_t i;
	json_t *f;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "det: %s: %s\n", dir, strerror(errno));
		json_decref(ck);
		return CLI_EXIT_FAILURE;
	}
	json_array_foreach (json_object_get(ck, "files"), i, f) {
		const char *rel = json_string_value(json_object_get(f, "path"));
		char from[4096], to[4096];
		struct stat st;
		if (!rel || !src || rel[0] == '/' || strstr(rel, "..")) {
			rc = CLI_EXIT_FAILURE;
			break;
		}
		snprintf(from, sizeof(from), "%s/%s", src, rel);
		snprintf(to, sizeof(to), "%s/%s", dir, rel);
		if (make_parents(dir, rel) || copy_file(from, to) || stat(to, &st) ||
		    st.st_size != json_integer_value(json_object_get(f, "size"))) {
			fprintf(stderr, "det: %s: missing or not the registered size\n", from);
			rc = CLI_EXIT_FAILURE;
			break;
		}
	}
	if (!rc)
		printf("Downloaded checkpoint %s to %s\n", argv[1], dir);
	json_decref(ck);
	return rc;
}
