/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The det command line: shared context and the command table's shape.
 * Each command group lives in its own cli/cmd_<group>.c file.
 */
#ifndef DET_CLI_H
#define DET_CLI_H

#include <jansson.h>
#include <stdio.h>

/* Exit codes, documented in det(1). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILURE = 1,     /* the request failed: invalid config, error from the master */
	CLI_EXIT_USAGE = 2,       /* bad command line */
	CLI_EXIT_UNREACHABLE = 3, /* the master could not be reached */
};

enum cli_output { CLI_OUTPUT_TABLE, CLI_OUTPUT_JSON, CLI_OUTPUT_YAML };

/* What every command gets: global options, resolved. */
struct cli_ctx {
	const char *master;     /* -m / DET_MASTER, or the default socket */
	enum cli_output output; /* -o */
	const char *prog;       /* "det" */
};

/* A command: argv[0] is the command's own name. Returns an enum cli_exit. */
typedef int (*cli_cmd_fn)(struct cli_ctx *ctx, int argc, char **argv);

struct cli_command {
	const char *group; /* "experiment", or NULL for top-level commands */
	const char *alias; /* short group name ("e"), or NULL */
	const char *name;  /* "create" */
	cli_cmd_fn run;
	const char *usage;   /* arguments, for --help */
	const char *summary; /* one line */
};

/* s with its control characters (C0 but tab and newline, DEL, C1) written
 * as \xHH or \u00HH, into buf (size bytes, NUL-terminated, cut only between
 * characters). Returns the full length, as snprintf. */
size_t cli_escape_to(char *buf, size_t size, const char *s);

/* The same, malloc'd (caller frees); NULL when out of memory. */
char *cli_escape(const char *s);

/* Print a JSON value as YAML (block style) to out. */
void cli_print_yaml(FILE *out, const json_t *value);

/* Print value in the chosen format; table mode falls back to YAML. */
void cli_print_value(const struct cli_ctx *ctx, FILE *out, const json_t *value);

/* After a call that changed something (nothing when rc is not 0): in table mode the
 * printf-formatted line on stdout, else value as cli_print_value prints it. */
void cli_print_done(const struct cli_ctx *ctx, int rc, const json_t *value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* True when argv holds -h or --help. */
int cli_wants_help(int argc, char **argv);

/* det experiment ... (cli/cmd_experiment.c). */
int cli_experiment_create(struct cli_ctx *ctx, int argc, char **argv);
int cli_experiment_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_experiment_describe(struct cli_ctx *ctx, int argc, char **argv);
int cli_experiment_pause(struct cli_ctx *ctx, int argc, char **argv);
int cli_experiment_activate(struct cli_ctx *ctx, int argc, char **argv);
int cli_experiment_cancel(struct cli_ctx *ctx, int argc, char **argv);
int cli_experiment_kill(struct cli_ctx *ctx, int argc, char **argv);
int cli_experiment_archive(struct cli_ctx *ctx, int argc, char **argv);
int cli_experiment_unarchive(struct cli_ctx *ctx, int argc, char **argv);
int cli_experiment_delete(struct cli_ctx *ctx, int argc, char **argv);
int cli_experiment_wait(struct cli_ctx *ctx, int argc, char **argv);
int cli_experiment_logs(struct cli_ctx *ctx, int argc, char **argv);
int cli_experiment_download(struct cli_ctx *ctx, int argc, char **argv);
int cli_experiment_list_trials(struct cli_ctx *ctx, int argc, char **argv);
int cli_experiment_list_checkpoints(struct cli_ctx *ctx, int argc, char **argv);

/* det workspace ..., det project ..., det experiment move (cli/cmd_workspace.c). */
int cli_workspace_create(struct cli_ctx *ctx, int argc, char **argv);
int cli_workspace_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_workspace_describe(struct cli_ctx *ctx, int argc, char **argv);
int cli_workspace_archive(struct cli_ctx *ctx, int argc, char **argv);
int cli_workspace_unarchive(struct cli_ctx *ctx, int argc, char **argv);
int cli_workspace_delete(struct cli_ctx *ctx, int argc, char **argv);
int cli_workspace_assign_role(struct cli_ctx *ctx, int argc, char **argv);
int cli_workspace_unassign_role(struct cli_ctx *ctx, int argc, char **argv);
int cli_workspace_list_roles(struct cli_ctx *ctx, int argc, char **argv);
int cli_project_create(struct cli_ctx *ctx, int argc, char **argv);
int cli_project_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_project_describe(struct cli_ctx *ctx, int argc, char **argv);
int cli_project_archive(struct cli_ctx *ctx, int argc, char **argv);
int cli_project_unarchive(struct cli_ctx *ctx, int argc, char **argv);
int cli_project_delete(struct cli_ctx *ctx, int argc, char **argv);
int cli_experiment_move(struct cli_ctx *ctx, int argc, char **argv);
/* det experiment fork (cli/cmd_fork.c). */
int cli_experiment_fork(struct cli_ctx *ctx, int argc, char **argv);
int cli_experiment_set(struct cli_ctx *ctx, int argc, char **argv);

/* det template ... (cli/cmd_template.c). */
int cli_template_create(struct cli_ctx *ctx, int argc, char **argv);
int cli_template_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_template_describe(struct cli_ctx *ctx, int argc, char **argv);
int cli_template_set(struct cli_ctx *ctx, int argc, char **argv);
int cli_template_delete(struct cli_ctx *ctx, int argc, char **argv);

/* det model ... (cli/cmd_model.c). */
int cli_model_create(struct cli_ctx *ctx, int argc, char **argv);
int cli_model_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_model_describe(struct cli_ctx *ctx, int argc, char **argv);
int cli_model_register_version(struct cli_ctx *ctx, int argc, char **argv);
int cli_model_list_versions(struct cli_ctx *ctx, int argc, char **argv);
int cli_model_download(struct cli_ctx *ctx, int argc, char **argv);

/* det trial ... (cli/cmd_trial.c). */
int cli_trial_describe(struct cli_ctx *ctx, int argc, char **argv);
int cli_trial_logs(struct cli_ctx *ctx, int argc, char **argv);
int cli_trial_kill(struct cli_ctx *ctx, int argc, char **argv);

/* det image ... (cli/cmd_image.c). */
int cli_image_import(struct cli_ctx *ctx, int argc, char **argv);
int cli_image_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_image_rm(struct cli_ctx *ctx, int argc, char **argv);

/* det checkpoint ... (cli/cmd_checkpoint.c). */
int cli_checkpoint_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_checkpoint_describe(struct cli_ctx *ctx, int argc, char **argv);
int cli_checkpoint_download(struct cli_ctx *ctx, int argc, char **argv);

/* det user ... and det master info (cli/cmd_user.c). */
int cli_user_login(struct cli_ctx *ctx, int argc, char **argv);
int cli_user_logout(struct cli_ctx *ctx, int argc, char **argv);
int cli_user_whoami(struct cli_ctx *ctx, int argc, char **argv);
int cli_user_create(struct cli_ctx *ctx, int argc, char **argv);
/* det user change-password [--password-stdin]: set the caller's own password. */
int cli_user_change_password(struct cli_ctx *ctx, int argc, char **argv);
int cli_master_info(struct cli_ctx *ctx, int argc, char **argv);

/* det agent list, det slot list, det resource-pool list (cli/cmd_cluster.c). */
int cli_agent_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_slot_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_pool_list(struct cli_ctx *ctx, int argc, char **argv);

/* det cmd run|list, det task list|logs|kill (cli/cmd_task.c). */
int cli_cmd_run(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_task_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_task_logs(struct cli_ctx *ctx, int argc, char **argv);
int cli_task_kill(struct cli_ctx *ctx, int argc, char **argv);

/* det tensorboard start|list (cli/cmd_tensorboard.c; kill is det task kill's). */
int cli_tensorboard_start(struct cli_ctx *ctx, int argc, char **argv);
int cli_tensorboard_list(struct cli_ctx *ctx, int argc, char **argv);
/* det notebook start|list|open|kill (cli/cmd_notebook.c). */
int cli_notebook_start(struct cli_ctx *ctx, int argc, char **argv);
int cli_notebook_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_notebook_open(struct cli_ctx *ctx, int argc, char **argv);
int cli_notebook_kill(struct cli_ctx *ctx, int argc, char **argv);
/* det shell start|open|proxy|list|kill (cli/cmd_shell.c). */
int cli_shell_start(struct cli_ctx *ctx, int argc, char **argv);
int cli_shell_open(struct cli_ctx *ctx, int argc, char **argv);
int cli_shell_proxy(struct cli_ctx *ctx, int argc, char **argv);
int cli_shell_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_shell_kill(struct cli_ctx *ctx, int argc, char **argv);

/* det submit (cli/cmd_submit.c). */
int cli_submit(struct cli_ctx *ctx, int argc, char **argv);

/* The preview-search command (cli/cmd_preview.c). */
int cli_cmd_preview_search(struct cli_ctx *ctx, int argc, char **argv);

#endif
