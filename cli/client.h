/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The CLI's side of talking to det-master: credentials, calls, tables, packing. */
#ifndef DET_CLI_CLIENT_H
#define DET_CLI_CLIENT_H

#include <getopt.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"

struct http_client;

/* A client for ctx->master with the stored token for it (unless on a Unix socket
 * or DET_TOKEN is set). NULL after printing why. */
struct http_client *cli_client(struct cli_ctx *ctx);

/* JSON call; prints the master's error and returns an enum cli_exit (0 ok). */
/* The Authorization value cli_client would send (DET_TOKEN, the stored token, MUNGE; ""
 * on the Unix socket) into buf: 0, or -1 after printing why. */
int cli_auth_value(struct cli_ctx *ctx, char *buf, size_t len);

int cli_call(struct http_client *c, const char *method, const char *path, const json_t *body,
             json_t **out);

/* Where tokens live: $DET_AUTH_FILE or ~/.det-slurm/auth.json. */
int cli_auth_path(char *buf, size_t len);

/* Save (token non-NULL) or forget the token for master. 0 or -1 with a message printed. */
int cli_save_token(const char *master, const char *user, const char *token);

/* One column of a table: header and the key (dotted path allowed: "a.b"). */
struct cli_column {
	const char *header;
	const char *key;
};

/* Print rows (array of objects) as an aligned text table. */
void cli_print_table(FILE *out, const json_t *rows, const struct cli_column *cols, size_t ncols);

/* Print rows in ctx's format: table with cols, or the value as JSON/YAML. */
void cli_print_rows(const struct cli_ctx *ctx, const json_t *value, const json_t *rows,
                    const struct cli_column *cols, size_t ncols);

/* GET path with a client of its own, the answer into *out (the caller frees it, also on
 * failure): 0 or an exit code, with the message printed. */
int cli_get(struct cli_ctx *ctx, const char *path, json_t **out);

/* GET path and print the array under key of the answer as cli_print_rows does: 0 or an
 * exit code, with the message printed. */
int cli_get_rows(struct cli_ctx *ctx, const char *path, const char *key,
                 const struct cli_column *cols, size_t ncols);

/* A command without arguments (argc 1, else usage is printed) that prints the rows of
 * GET path under key as cli_get_rows does: 0 or an exit code. */
int cli_list_rows(struct cli_ctx *ctx, int argc, const char *usage, const char *path,
                  const char *key, const struct cli_column *cols, size_t ncols);

/* Pack directory dir into a gzip'd tar in memory, skipping .detignore
 * patterns. 0, or -1 with a message printed. */
int cli_pack_dir(const char *dir, unsigned char **data, size_t *len, size_t max_bytes);

/* A whole file (at most max bytes, NUL-terminated, malloc'd); NULL after printing why. */
char *cli_read_file(const char *path, size_t max, size_t *len);

/* Set in body the keys of the task config file config_file (YAML or JSON; NULL: none),
 * each one of keys (NULL-terminated). 0, or -1 after printing why (cli/cmd_task.c). */
int cli_task_config(json_t *body, const char *config_file, const char *const *keys);

/* {"kind": kind} with the keys of the task config file config_file as cli_task_config
 * sets them. NULL after printing why (cli/cmd_task.c). */
json_t *cli_task_body(const char *kind, const char *config_file, const char *const *keys);

/* The options and arguments common to det notebook start, det cmd run, det shell start. */
struct cli_task_start {
	const char *config_file; /* --config-file F, or NULL */
	const char *extra;       /* the value of the command's own option, or NULL */
	int detach;              /* --detach */
	int argc;                /* the arguments after the options */
	char **argv;
};

/* How one of those commands reads its command line and builds its POST /tasks body. */
struct cli_task_kind {
	const char *usage;   /* printed on a usage error */
	const char *title;   /* "Notebook": the line --detach prints */
	struct option extra; /* the command's own option, which takes a value ({0}: none) */
	int with_args;       /* one or more arguments after the options (else none) */
	/* The body (its "kind" names the task) for o, and the client's timeout_ms (0: the
	 * default); NULL after printing why. */
	json_t *(*body)(const struct cli_task_start *o, long *timeout_ms);
};

/* Parse [--config-file F] [--detach] and k's option and arguments, POST k's body to /tasks
 * with a new client into *c (the caller frees it, also on failure). With --detach prints
 * the new task as cli_print_state does with k's title and sets *id to 0, else says
 * "det: KIND ID" on stderr and sets *id. An exit code (0 ok), with any error printed. */
int cli_task_start(struct cli_ctx *ctx, int argc, char **argv, const struct cli_task_kind *k,
                   struct http_client **c, long long *id);

/* det KIND list: the tasks of that kind (the columns of notebooks and shells). */
int cli_task_kind_list(struct cli_ctx *ctx, int argc, const char *kind);

/* Base64 of data (malloc'd). */
char *cli_base64(const unsigned char *data, size_t len);

/* POST the YAML file config_path (and model_dir packed, when not NULL) as a new
 * experiment; submit ("client") or NULL is passed on. The client used and the
 * answer go to *client and *out, which the caller frees (also on failure).
 * Returns an enum cli_exit (0 ok) after printing any error. */
int cli_experiment_post(struct cli_ctx *ctx, const char *config_path, const char *model_dir,
                        int activate, const char *submit, struct http_client **client,
                        json_t **out);

/* cli_experiment_post into project ("ID" or "WORKSPACE/PROJECT"; NULL: the default one),
 * with template (a name, merged under the config by the master; NULL: none). */
int cli_experiment_post_in(struct cli_ctx *ctx, const char *config_path, const char *model_dir,
                           int activate, const char *submit, const char *project,
                           const char *template_name, struct http_client **client, json_t **out);

/* Append s to the NUL-terminated buf (len bytes) percent-encoded but for letters, digits
 * and "-_.~": 0, or -1 when it did not fit (buf then holds what did). */
int cli_url_append(char *buf, size_t len, const char *s);

/* Parse a positive id argument; -1 after printing a usage error. */
long long cli_parse_id(const char *what, const char *s);

/* Parse "ID", the only argument (argv[0] is the command); -1 after printing usage or
 * the error. */
long long cli_parse_one_id(int argc, char **argv, const char *usage, const char *what);

/* "<title> ID is STATE" for obj (a trial or task) in a table's output, else obj in
 * ctx's format. */
void cli_print_state(const struct cli_ctx *ctx, const char *title, long long id, const json_t *obj);

/* det KIND kill ID: POST /api/v1/KINDs/ID/kill and cli_print_state of the answer's KIND
 * object with title. An exit code, with any error printed. */
int cli_kill_one(struct cli_ctx *ctx, int argc, char **argv, const char *kind, const char *title);

/* Parse argv's options when the only one is --NAME V (short: its letter as getopt_long
 * takes it, e.g. "+O:"): its value into *value (left as it is when absent). The index of
 * the first argument, or -1 on another option (getopt_long printed it). */
int cli_one_option(int argc, char **argv, const char *name, const char *shorts, const char **value);

/* Parse "[--follow] ID" (argv[0] is the command); -1 after printing usage or the error. */
long long cli_parse_follow_id(int argc, char **argv, const char *usage, const char *what,
                              int *follow);

/* The ID operand (as cli_parse_follow_id with follow non-NULL, else cli_parse_one_id) and
 * a client for the master in *c (free with http_client_free): 0, or the exit code after
 * printing why. */
int cli_id_client(struct cli_ctx *ctx, int argc, char **argv, const char *usage, const char *what,
                  int *follow, long long *id, struct http_client **c);

/* Print a trial's log lines after *after (advanced), each with prefix; with
 * follow the master holds the request until lines arrive. *ended is set when
 * the trial is over and nothing is left. Returns an enum cli_exit. */
int cli_trial_logs_once(struct http_client *c, long long trial, long long *after, int follow,
                        const char *prefix, int *ended);

#endif
