/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det: the command line. Global options come first (-m, -o), then a command
 * group and a command ("det experiment create", short "det e create") or a
 * top-level command ("det preview-search"). The table below is the whole
 * surface; each entry's code lives in cli/cmd_<group>.c.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* Where a local det-master listens when neither -m nor DET_MASTER says. */
#define CLI_DEFAULT_MASTER "unix:/run/det-slurm/master.sock"

static const struct cli_command commands[] = {
	{NULL, NULL, "preview-search", cli_cmd_preview_search, "CONFIG",
	 "show the trials a config's searcher would run"},
};

static const size_t n_commands = sizeof(commands) / sizeof(commands[0]);

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
	        "usage: %s [-m MASTER] [-o table|json|yaml] COMMAND [ARGS...]\n"
	        "\n"
	        "  -m, --master MASTER  http://HOST:PORT or unix:/PATH (default: $DET_MASTER,\n"
	        "                       else %s)\n"
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
	return c->group && (strcmp(c->group, word) == 0 || (c->alias && strcmp(c->alias, word) == 0));
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
		{"master", required_argument, NULL, 'm'}, {"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
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
		case 'o':
			if (strcmp(optarg, "table") == 0)
				ctx.output = CLI_OUTPUT_TABLE;
			else if (strcmp(optarg, "json") == 0)
				ctx.output = CLI_OUTPUT_JSON;
			else if (strcmp(optarg, "yaml") == 0)
				ctx.output = CLI_OUTPUT_YAML;
			else {
				fprintf(stderr, "det: -o %s: expected table, json or yaml\n", optarg);
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
			int help = argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"));
			group_usage(help ? stdout : stderr, ctx.prog, argv[0]);
			if (argc >= 2 && !help)
				fprintf(stderr, "det: %s: unknown command '%s'\n", argv[0], argv[1]);
			return help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
		}
		fprintf(stderr, "det: unknown command '%s' (det --help lists them)\n", argv[0]);
		return CLI_EXIT_USAGE;
	}
	argc -= consumed;
	argv += consumed;
	if (cli_wants_help(argc, argv)) {
		if (cmd->group)
			printf("usage: %s %s %s %s\n\n%s\n", ctx.prog, cmd->group, cmd->name, cmd->usage,
			       cmd->summary);
		else
			printf("usage: %s %s %s\n\n%s\n", ctx.prog, cmd->name, cmd->usage, cmd->summary);
		return CLI_EXIT_OK;
	}
	return cmd->run(&ctx, argc, argv);
}
