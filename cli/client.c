/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared plumbing of the det commands: which credential to send, one JSON
 * call with errors mapped to exit codes, text tables. Tokens are kept per
 * master address in a 0600 JSON file, so one user can talk to several
 * masters; on the master's Unix socket no token is needed (the kernel
 * vouches for the uid), and over TCP without a token every request carries a
 * MUNGE credential when munged runs here (the cluster's identity).
 */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_client.h"
#include "munge_cred.h"

int cli_auth_path(char *buf, size_t len)
{
	const char *f = getenv("DET_AUTH_FILE");
	const char *home = getenv("HOME");
	if (f && *f)
		return snprintf(buf, len, "%s", f) < (int)len ? 0 : -1;
	if (!home || !*home)
		return -1;
	return snprintf(buf, len, "%s/.det-slurm/auth.json", home) < (int)len ? 0 : -1;
}

static char *stored_token(const char *master)
{
	char path[4096];
	json_t *all, *tok;
	char *out = NULL;
	if (cli_auth_path(path, sizeof(path)))
		return NULL;
	all = json_load_file(path, 0, NULL);
	tok = json_object_get(json_object_get(all, master), "token");
	if (json_is_string(tok))
		out = strdup(json_string_value(tok));
	json_decref(all);
	return out;
}

int cli_save_token(const char *master, const char *user, const char *token)
{
	char path[4096], tmp[4200];
	json_t *all;
	int fd, rv = -1;

	if (cli_auth_path(path, sizeof(path))) {
		fprintf(stderr,
		        "det: cannot find a place for credentials (set HOME or DET_AUTH_FILE)\n");
		return -1;
	}
	char *slash = strrchr(path, '/');
	if (slash && slash != path) {
		*slash = '\0';
		mkdir(path, 0700);
		*slash = '/';
	}
	all = json_load_file(path, 0, NULL);
	if (!json_is_object(all)) {
		json_decref(all);
		all = json_object();
	}
	if (token)
		json_object_set_new(all, master,
		                    json_pack("{s:s, s:s}", "username", user, "token", token));
	else
		json_object_del(all, master);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || json_dumpfd(all, fd, JSON_INDENT(2)) != 0 || close(fd) != 0 ||
	    rename(tmp, path) != 0) {
		fprintf(stderr, "det: %s: %s\n", path, strerror(errno));
		goto out;
	}
	fd = -1;
	rv = 0;
out:
	json_decref(all);
	return rv;
}

struct http_client *cli_client(struct cli_ctx *ctx)
{
	char err[512], auth[256];
	const char *env = getenv("DET_TOKEN");
	char *tok = NULL;
	const char *use = NULL;

	if (env && *env)
		use = env;
	else if (strncmp(ctx->master, "unix:", 5) != 0)
		use = tok = stored_token(ctx->master);
	if (use)
		snprintf(auth, sizeof(auth), "Bearer %s", use);
	struct http_client *c = http_client_new(ctx->master, use ? auth : NULL, err, sizeof(err));
	free(tok);
	if (!c) {
		fprintf(stderr, "det: %s\n", err);
		return NULL;
	}
	/* Over TCP without a token: who munged says we are (on a cluster). */
	const char *munge = use || !strncmp(ctx->master, "unix:", 5) ? NULL : cli_munge_socket();
	if (munge)
		http_client_set_auth_source(c, cli_munge_auth, (void *)munge);
	return c;
}

int cli_auth_value(struct cli_ctx *ctx, char *buf, size_t len)
{
	const char *env = getenv("DET_TOKEN"), *munge;
	char err[256];
	char *tok = NULL;
	int rv = 0;

	buf[0] = '\0';
	if (env && *env) {
		snprintf(buf, len, "Bearer %s", env);
	} else if (!strncmp(ctx->master, "unix:", 5)) {
		/* The socket's peer uid says who we are. */
	} else if ((tok = stored_token(ctx->master))) {
		snprintf(buf, len, "Bearer %s", tok);
	} else if ((munge = cli_munge_socket()) &&
	           cli_munge_auth((void *)munge, buf, len, err, sizeof(err))) {
		fprintf(stderr, "det: %s\n", err);
		rv = -1;
	}
	free(tok);
	return rv;
}

/* What to do after a 401. On the Unix socket the master knows the caller by uid and no login
 * helps: only a DET_TOKEN it refused is to blame. Over TCP, a login does. */
static void hint_401(const struct http_client *c)
{
	const char *env = getenv("DET_TOKEN");
	if (!http_client_is_unix(c))
		fprintf(stderr, "det: log in with: det user login USER\n");
	else if (env && *env)
		fprintf(stderr,
		        "det: the master refused the token in DET_TOKEN; unset it: on the "
		        "master's Unix socket det needs no login (your uid identifies you)\n");
}

int cli_call(struct http_client *c, const char *method, const char *path, const json_t *body,
             json_t **out)
{
	char err[2048];
	long status = 0;
	json_t *res = NULL;

	if (http_client_json(c, method, path, body, &res, &status, err, sizeof(err)) != 0) {
		if (status == 0) {
			fprintf(stderr, "det: cannot reach the master: %s\n", err);
			return CLI_EXIT_UNREACHABLE;
		}
		char shown[sizeof(err)];
		cli_escape_to(shown, sizeof(shown), err); /* the message came from the master */
		fprintf(stderr, "det: %s\n", shown);
		if (status == 401)
			hint_401(c);
		return CLI_EXIT_FAILURE;
	}
	if (out)
		*out = res;
	else
		json_decref(res);
	return CLI_EXIT_OK;
}

static json_t *get_path(const json_t *row, const char *key)
{
	char buf[128];
	const json_t *v = row;
	snprintf(buf, sizeof(buf), "%s", key);
	for (char *save = NULL, *p = strtok_r(buf, ".", &save); p && v;
	     p = strtok_r(NULL, ".", &save))
		v = json_object_get(v, p);
	return (json_t *)v;
}

static char *cell_text(const json_t *v)
{
	char *s = NULL;
	if (!v || json_is_null(v))
		return strdup("-");
	if (json_is_string(v))
		return cli_escape(json_string_value(v));
	if (json_is_real(v)) {
		if (asprintf(&s, "%.6g", json_real_value(v)) < 0)
			return NULL;
		return s;
	}
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

void cli_print_table(FILE *out, const json_t *rows, const struct cli_column *cols, size_t ncols)
{
	size_t nrows = json_array_size(rows), width[32] = {0};
	char **cells = calloc((nrows + 1) * ncols + 1, sizeof(*cells));

	if (!cells || ncols > 32)
		return;
	for (size_t c = 0; c < ncols; c++) {
		cells[c] = strdup(cols[c].header);
		for (size_t r = 0; r < nrows; r++) {
			char *t = cell_text(get_path(json_array_get(rows, r), cols[c].key));
			/* Tables are one line per row. */
			for (char *p = t; p && *p; p++)
				if (*p == '\n' || *p == '\t')
					*p = ' ';
			cells[(r + 1) * ncols + c] = t;
		}
	}
	for (size_t i = 0; i < (nrows + 1) * ncols; i++) {
		size_t w = cells[i] ? strlen(cells[i]) : 0;
		if (w > width[i % ncols])
			width[i % ncols] = w > 60 ? 60 : w;
	}
	for (size_t r = 0; r <= nrows; r++) {
		for (size_t c = 0; c < ncols; c++) {
			const char *t = cells[r * ncols + c] ? cells[r * ncols + c] : "";
			if (c + 1 < ncols)
				fprintf(out, "%-*.*s  ", (int)width[c], (int)width[c], t);
			else
				fprintf(out, "%s\n", t);
		}
	}
	for (size_t i = 0; i < (nrows + 1) * ncols; i++)
		free(cells[i]);
	free(cells);
}

void cli_print_rows(const struct cli_ctx *ctx, const json_t *value, const json_t *rows,
                    const struct cli_column *cols, size_t ncols)
{
	if (ctx->output == CLI_OUTPUT_TABLE)
		cli_print_table(stdout, rows, cols, ncols);
	else
		cli_print_value(ctx, stdout, value);
}

int cli_get(struct cli_ctx *ctx, const char *path, json_t **out)
{
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	int rc = cli_call(c, "GET", path, NULL, out);
	http_client_free(c);
	return rc;
}

int cli_get_rows(struct cli_ctx *ctx, const char *path, const char *key,
                 const struct cli_column *cols, size_t ncols)
{
	json_t *out = NULL;
	int rc = cli_get(ctx, path, &out);
	if (!rc)
		cli_print_rows(ctx, json_object_get(out, key), json_object_get(out, key), cols,
		               ncols);
	json_decref(out);
	return rc;
}

int cli_list_rows(struct cli_ctx *ctx, int argc, const char *usage, const char *path,
                  const char *key, const struct cli_column *cols, size_t ncols)
{
	if (argc != 1) {
		fprintf(stderr, "usage: %s\n", usage);
		return CLI_EXIT_USAGE;
	}
	return cli_get_rows(ctx, path, key, cols, ncols);
}

char *cli_base64(const unsigned char *data, size_t len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((len + 2) / 3 * 4 + 1), *p = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)data[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)data[i + 1] << 8;
		if (i + 2 < len)
			v |= data[i + 2];
		*p++ = tab[(v >> 18) & 63];
		*p++ = tab[(v >> 12) & 63];
		*p++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		*p++ = i + 2 < len ? tab[v & 63] : '=';
	}
	*p = '\0';
	return out;
}

long long cli_parse_id(const char *what, const char *s)
{
	char *end;
	long long v;
	if (!s) {
		fprintf(stderr, "det: missing %s\n", what);
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || end == s || v <= 0) {
		fprintf(stderr, "det: %s %s: expected a positive integer\n", what, s);
		return -1;
	}
	return v;
}

long long cli_parse_one_id(int argc, char **argv, const char *usage, const char *what)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s\n", usage);
		return -1;
	}
	return cli_parse_id(what, argv[1]);
}

void cli_print_state(const struct cli_ctx *ctx, const char *title, long long id, const json_t *obj)
{
	if (ctx->output == CLI_OUTPUT_TABLE)
		printf("%s %lld is %s\n", title, id,
		       json_string_value(json_object_get(obj, "state")));
	else
		cli_print_value(ctx, stdout, obj);
}

int cli_kill_one(struct cli_ctx *ctx, int argc, char **argv, const char *kind, const char *title)
{
	char usage[64], what[32], path[128];
	json_t *out = NULL;
	snprintf(usage, sizeof(usage), "det %s kill ID", kind);
	snprintf(what, sizeof(what), "%s id", kind);
	long long id;
	struct http_client *c;
	int rc = cli_id_client(ctx, argc, argv, usage, what, NULL, &id, &c);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "/api/v1/%ss/%lld/kill", kind, id);
	rc = cli_call(c, "POST", path, NULL, &out);
	if (!rc)
		cli_print_state(ctx, title, id, json_object_get(out, kind));
	json_decref(out);
	http_client_free(c);
	return rc;
}

int cli_url_append(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf);
	int rv = -1;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (n + 4 >= len)
			goto fail;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-_.~", *p))
			buf[n++] = (char)*p;
		else
			n += (size_t)snprintf(buf + n, len - n, "%%%02X", *p);
	}
	rv = 0;
fail:
	buf[n] = '\0';
	return rv;
}

int cli_one_option(int argc, char **argv, const char *name, const char *shorts, const char **value)
{
	const char *letter = shorts + (shorts[0] == '+');
	const struct option opts[] = {{name, required_argument, NULL, letter[0]},
	                              {NULL, 0, NULL, 0}};
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		if (opt != letter[0])
			return -1;
		*value = optarg;
	}
	return optind;
}

int cli_id_client(struct cli_ctx *ctx, int argc, char **argv, const char *usage, const char *what,
                  int *follow, long long *id, struct http_client **c)
{
	*c = NULL;
	*id = follow ? cli_parse_follow_id(argc, argv, usage, what, follow)
	             : cli_parse_one_id(argc, argv, usage, what);
	if (*id < 0)
		return CLI_EXIT_USAGE;
	*c = cli_client(ctx);
	return *c ? 0 : CLI_EXIT_FAILURE;
}

long long cli_parse_follow_id(int argc, char **argv, const char *usage, const char *what,
                              int *follow)
{
	static const struct option opts[] = {{"follow", no_argument, NULL, 'f'},
	                                     {NULL, 0, NULL, 0}};
	int opt;
	*follow = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		if (opt != 'f') {
			fprintf(stderr, "usage: %s\n", usage);
			return -1;
		}
		*follow = 1;
	}
	if (argc - optind != 1) {
		fprintf(stderr, "usage: %s\n", usage);
		return -1;
	}
	return cli_parse_id(what, argv[optind]);
}
