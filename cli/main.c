/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det: the command line. Global options come first (-m, -o), then a command
 * group and a command ("det experiment create", short "det e create") or a
 * top-level command ("det preview-search"). The table below is the whole
 * surface; each entry's code lives in cli/cmd_<group>.c.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* Where a local det-master listens when neither -m nor DET_MASTER says. */
#define CLI_DEFAULT_MASTER "unix:/run/det-slurm/master.sock"

static const struct cli_command commands[] = {
    {"experiment", "e", "create", cli_experiment_create,
     "[--paused] [--follow] [--project ID|WORKSPACE/PROJECT | --workspace W --project P] "
     "[--template NAME] CONFIG [MODEL_DIR]",
     "create an experiment from a YAML config and a model directory"},
    {"experiment", "e", "list", cli_experiment_list,
     "[--state S] [--label L] [--owner U] [--project ID|WORKSPACE/PROJECT] [--all] [--limit N] "
     "[--offset N] [--sort KEY] [--desc]",
     "list experiments"},
    {"experiment", "e", "describe", cli_experiment_describe, "ID",
     "show an experiment and its trials"},
    {"experiment", "e", "pause", cli_experiment_pause, "ID", "pause (trials are preempted)"},
    {"experiment", "e", "activate", cli_experiment_activate, "ID", "resume a paused experiment"},
    {"experiment", "e", "cancel", cli_experiment_cancel, "ID", "stop gracefully"},
    {"experiment", "e", "kill", cli_experiment_kill, "ID", "stop now"},
    {"experiment", "e", "archive", cli_experiment_archive, "ID", "hide a finished experiment"},
    {"experiment", "e", "unarchive", cli_experiment_unarchive, "ID", "show it again"},
    {"experiment", "e", "delete", cli_experiment_delete, "ID", "delete a finished experiment"},
    {"experiment", "e", "wait", cli_experiment_wait, "ID",
     "wait until it ends, showing progress (exit 0 only when COMPLETED)"},
    {"experiment", "e", "logs", cli_experiment_logs, "[--follow] ID", "every trial's logs"},
    {"experiment", "e", "download-model-def", cli_experiment_download, "[-O FILE] ID",
     "save the model definition tar.gz"},
    {"experiment", "e", "list-trials", cli_experiment_list_trials, "ID", "list the trials"},
    {"experiment", "e", "list-checkpoints", cli_experiment_list_checkpoints, "ID",
     "list the checkpoints"},
    {"experiment", "e", "move", cli_experiment_move, "ID --project ID|WORKSPACE/PROJECT",
     "move an experiment to another project"},
    {"experiment", "e", "fork", cli_experiment_fork,
     "ID [--config-file FILE] [--config KEY=VALUE]... [--project P] [--paused]",
     "a new experiment from ID's model definition and config, with overrides"},
    {"experiment", "e", "continue", cli_experiment_fork,
     "ID [--config-file FILE] [--config KEY=VALUE]... [--project P] [--paused]",
     "a fork of a one-trial experiment that starts from its trial's latest checkpoint"},
    {"experiment", "e", "set", cli_experiment_set, "description|notes|labels ID VALUE",
     "edit an experiment's description, notes or labels (comma-separated)"},
    {"workspace", "w", "create", cli_workspace_create, "NAME", "create a workspace"},
    {"workspace", "w", "list", cli_workspace_list, "", "workspaces with their counts"},
    {"workspace", "w", "describe", cli_workspace_describe, "ID|NAME", "one workspace"},
    {"workspace", "w", "archive", cli_workspace_archive, "ID|NAME", "archive a workspace"},
    {"workspace", "w", "unarchive", cli_workspace_unarchive, "ID|NAME", "unarchive it"},
    {"workspace", "w", "delete", cli_workspace_delete, "[--force] ID|NAME",
     "delete a workspace (with --force: its projects and experiments too)"},
    {"workspace", "w", "assign-role", cli_workspace_assign_role,
     "ROLE WORKSPACE --user NAME|--group GROUP",
     "make a Unix user or group viewer, editor or workspace-admin"},
    {"workspace", "w", "unassign-role", cli_workspace_unassign_role,
     "[ROLE] WORKSPACE --user NAME|--group GROUP", "take a user's or group's role away"},
    {"workspace", "w", "list-roles", cli_workspace_list_roles, "WORKSPACE",
     "who has which role in a workspace"},
    {"template", NULL, "create", cli_template_create, "[--workspace W] NAME FILE",
     "a config template (global ones: admins only)"},
    {"template", NULL, "list", cli_template_list, "", "the templates you may use"},
    {"template", NULL, "describe", cli_template_describe, "NAME", "a template's YAML"},
    {"template", NULL, "set", cli_template_set, "NAME FILE", "replace a template's YAML"},
    {"template", NULL, "delete", cli_template_delete, "NAME", "delete a template"},
    {"model", "m", "create", cli_model_create, "[--description TEXT] NAME",
     "a model in the registry"},
    {"model", "m", "list", cli_model_list, "", "registered models"},
    {"model", "m", "describe", cli_model_describe, "NAME", "a model and its versions"},
    {"model", "m", "register-version", cli_model_register_version, "NAME CHECKPOINT_UUID",
     "make a checkpoint the model's next version (GC keeps it)"},
    {"model", "m", "list-versions", cli_model_list_versions, "NAME", "the model's versions"},
    {"model", "m", "download", cli_model_download, "[--version N] NAME [DIR]",
     "copy a version's checkpoint (default: the latest) into DIR"},
    {"project", "p", "create", cli_project_create, "WORKSPACE NAME",
     "create a project in a workspace"},
    {"project", "p", "list", cli_project_list, "[WORKSPACE]", "projects with their counts"},
    {"project", "p", "describe", cli_project_describe, "ID|WORKSPACE/PROJECT", "one project"},
    {"project", "p", "archive", cli_project_archive, "ID|WORKSPACE/PROJECT", "archive a project"},
    {"project", "p", "unarchive", cli_project_unarchive, "ID|WORKSPACE/PROJECT", "unarchive it"},
    {"project", "p", "delete", cli_project_delete, "[--force] ID|WORKSPACE/PROJECT",
     "delete a project (with --force: its experiments too)"},
    {"trial", "t", "describe", cli_trial_describe, "ID", "a trial and its validation metrics"},
    {"trial", "t", "logs", cli_trial_logs, "[--follow] ID", "a trial's logs"},
    {"trial", "t", "kill", cli_trial_kill, "ID", "stop one trial"},
    {"cmd", NULL, "run", cli_cmd_run, "[--config-file F] [--detach] CMD...",
     "run a command as you; its output streams, its exit code is det's"},
    {"cmd", NULL, "list", cli_cmd_list, "", "your commands (admins: everyone's)"},
    {"task", NULL, "list", cli_task_list, "", "your tasks: commands and trials"},
    {"task", NULL, "logs", cli_task_logs, "[--follow] ID", "a command's output"},
    {"task", NULL, "kill", cli_task_kill, "ID", "end a command"},
    {"tensorboard", NULL, "start", cli_tensorboard_start, "EXP_ID... [--trial-ids ID...]",
     "a TensorBoard of experiments' or trials' metrics"},
    {"tensorboard", NULL, "list", cli_tensorboard_list, "", "your TensorBoards"},
    {"tensorboard", NULL, "kill", cli_task_kill, "ID", "end a TensorBoard"},
    {"notebook", NULL, "start", cli_notebook_start,
     "[--config-file F] [--idle-timeout D] [--detach]",
     "start a Jupyter notebook as you; prints its URL once it serves"},
    {"notebook", NULL, "list", cli_notebook_list, "", "your notebooks (admins: everyone's)"},
    {"notebook", NULL, "open", cli_notebook_open, "ID", "a running notebook's URL"},
    {"notebook", NULL, "kill", cli_notebook_kill, "ID", "end a notebook"},
    {"shell", NULL, "start", cli_shell_start, "[--config-file F] [--detach]",
     "start an sshd of your own on the cluster, then open it"},
    {"shell", NULL, "open", cli_shell_open, "ID [-- CMD...]",
     "ssh into a shell task through the master"},
    {"shell", NULL, "proxy", cli_shell_proxy, "ID",
     "relay stdin/stdout to a shell's sshd (ssh's ProxyCommand)"},
    {"shell", NULL, "list", cli_shell_list, "", "your shells (admins: everyone's)"},
    {"shell", NULL, "kill", cli_shell_kill, "ID", "end a shell"},
    {"checkpoint", "c", "list", cli_checkpoint_list, "EXPERIMENT_ID",
     "an experiment's checkpoints"},
    {"checkpoint", "c", "describe", cli_checkpoint_describe, "UUID", "a checkpoint and its files"},
    {"checkpoint", "c", "download", cli_checkpoint_download, "[--force] UUID [DIR]",
     "copy a checkpoint's files (size-checked) into DIR"},
    {"image", "i", "import", cli_image_import, "TARBALL|DIR NAME",
     "add a root file system (tarball or directory) to the image cache (read as you)"},
    {"image", "i", "list", cli_image_list, "", "the image cache's names and digests"},
    {"image", "i", "rm", cli_image_rm, "NAME", "remove a name (its importer or an admin)"},
    {"user", "u", "login", cli_user_login, "[--password-stdin] USER", "log in, keep the token"},
    {"user", "u", "logout", cli_user_logout, "", "forget the token"},
    {"user", "u", "whoami", cli_user_whoami, "", "who the master thinks you are"},
    {"user", "u", "create", cli_user_create, "[--admin] [--password-stdin] USER",
     "create a user (admins only)"},
    {"user", "u", "change-password", cli_user_change_password, "[--password-stdin]",
     "set your own password (for logins over TCP and in the browser)"},
    {"master", NULL, "info", cli_master_info, "", "master version, resource manager, nodes"},
    {"agent", "a", "list", cli_agent_list, "", "the nodes: state, slots, CPUs, GPUs, pools"},
    {"slot", "s", "list", cli_slot_list, "", "every slot (GPU, or CPU) and whether it is in use"},
    {"resource-pool", "rp", "list", cli_pool_list, "", "resource pools (Slurm partitions)"},
    {NULL, NULL, "submit", cli_submit,
     "[--project ID|WORKSPACE/PROJECT | --workspace W --project P] CONFIG MODEL_DIR [-- SBATCH "
     "ARGS...]",
     "create an experiment and submit its job array with sbatch as you"},
    {NULL, NULL, "preview-search", cli_cmd_preview_search, "CONFIG",
     "show the trials a config's searcher would run"},
};

static const size_t n_commands = sizeof(commands) / sizeof(commands[0]);

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
	        "usage: %s [-m MASTER] [--cert-file FILE] [-o table|json|yaml] COMMAND [ARGS...]\n"
	        "\n"
	        "  -m, --master MASTER  http://HOST:PORT (or HOST:PORT), https://HOST:PORT\n"
	        "                       or unix:/PATH\n"
	        "                       (default: $DET_MASTER,\n"
	        "                       else %s)\n"
	        "      --cert-file FILE PEM CA certificate that an https:// master's\n"
	        "                       certificate must chain to (default:\n"
	        "                       $DET_MASTER_CERT_FILE, else the system store)\n"
	        "  -o, --output FORMAT  table (default), json or yaml\n"
	        "  -h, --help           this help; COMMAND --help for a command's own\n"
	        "  -V, --version        print the version\n"
	        "\ncommands:\n",
	        prog, CLI_DEFAULT_MASTER);
	for (size_t i = 0; i < n_commands; i++) {
		const struct cli_command *c = &commands[i];
		char name[64];
		if (c->group)
			snprintf(name, sizeof(name), "%s %s", c->group, c->name);
		else
			snprintf(name, sizeof(name), "%s", c->name);
		fprintf(out, "  %-28s %s\n", name, c->summary);
	}
	fprintf(out, "\nexit status: 0 success, 1 failure, 2 usage error, 3 master unreachable\n");
}

static int group_matches(const struct cli_command *c, const char *word)
{
	return c->group &&
	       (strcmp(c->group, word) == 0 || (c->alias && strcmp(c->alias, word) == 0));
}

static const struct cli_command *find_command(int argc, char **argv, int *consumed)
{
	if (argc < 1)
		return NULL;
	for (size_t i = 0; i < n_commands; i++) {
		const struct cli_command *c = &commands[i];
		if (!c->group && strcmp(c->name, argv[0]) == 0) {
			*consumed = 0;
			return c;
		}
		if (argc >= 2 && group_matches(c, argv[0]) && strcmp(c->name, argv[1]) == 0) {
			*consumed = 1;
			return c;
		}
	}
	return NULL;
}

static void group_usage(FILE *out, const char *prog, const char *group)
{
	fprintf(out, "usage: %s %s COMMAND [ARGS...]\n\ncommands:\n", prog, group);
	for (size_t i = 0; i < n_commands; i++)
		if (group_matches(&commands[i], group))
			fprintf(out, "  %-16s %s\n", commands[i].name, commands[i].summary);
}

static int is_group(const char *word)
{
	for (size_t i = 0; i < n_commands; i++)
		if (group_matches(&commands[i], word))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"master", required_argument, NULL, 'm'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"cert-file", required_argument, NULL, 'C'},
	    {NULL, 0, NULL, 0},
	};
	struct cli_ctx ctx = {.output = CLI_OUTPUT_TABLE, .prog = "det"};
	int opt, consumed = 0;

	ctx.master = getenv("DET_MASTER");
	if (!ctx.master || !*ctx.master)
		ctx.master = CLI_DEFAULT_MASTER;
	/* "+" stops at the first non-option: the rest belongs to the command. */
	while ((opt = getopt_long(argc, argv, "+m:o:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'm':
			ctx.master = optarg;
			break;
		case 'C':
			/* The HTTP client reads it from the environment (as det-launch does). */
			if (setenv("DET_MASTER_CERT_FILE", optarg, 1) != 0) {
				fprintf(stderr, "det: --cert-file: %s\n", strerror(errno));
				return CLI_EXIT_USAGE;
			}
			break;
		case 'o':
			if (strcmp(optarg, "table") == 0)
				ctx.output = CLI_OUTPUT_TABLE;
			else if (strcmp(optarg, "json") == 0)
				ctx.output = CLI_OUTPUT_JSON;
			else if (strcmp(optarg, "yaml") == 0)
				ctx.output = CLI_OUTPUT_YAML;
			else {
				fprintf(stderr, "det: -o %s: expected table, json or yaml\n",
				        optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout, ctx.prog);
			return CLI_EXIT_OK;
		case 'V':
			printf("det (det-slurm) %s\n", PACKAGE_VERSION);
			return CLI_EXIT_OK;
		default:
			usage(stderr, ctx.prog);
			return CLI_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr, ctx.prog);
		return CLI_EXIT_USAGE;
	}
	const struct cli_command *cmd = find_command(argc, argv, &consumed);
	if (!cmd) {
		if (is_group(argv[0])) {
			int help =
			    argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"));
			group_usage(help ? stdout : stderr, ctx.prog, argv[0]);
			if (argc >= 2 && !help)
				fprintf(stderr, "det: %s: unknown command '%s'\n", argv[0],
				        argv[1]);
			return help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
		}
		fprintf(stderr, "det: unknown command '%s' (det --help lists them)\n", argv[0]);
		return CLI_EXIT_USAGE;
	}
	argc -= consumed;
	argv += consumed;
	if (cli_wants_help(argc, argv)) {
		if (cmd->group)
			printf("usage: %s %s %s %s\n\n%s\n", ctx.prog, cmd->group, cmd->name,
			       cmd->usage, cmd->summary);
		else
			printf("usage: %s %s %s\n\n%s\n", ctx.prog, cmd->name, cmd->usage,
			       cmd->summary);
		return CLI_EXIT_OK;
	}
	return cmd->run(&ctx, argc, argv);
}
