/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det workspace create|list|describe|archive|unarchive|delete, det project
 * create|list|describe|archive|unarchive|delete and det experiment move.
 * A workspace is named by its id or its name, a project by its id or
 * WORKSPACE/PROJECT (names never are digits alone, nor hold '/'); names are
 * resolved to ids from the master's lists.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "http_client.h"

static const struct cli_column ws_cols[] = {
    {"ID", "id"},
    {"NAME", "name"},
    {"OWNER", "owner"},
    {"ARCHIVED", "archived"},
    {"PROJECTS", "num_projects"},
    {"EXPERIMENTS", "num_experiments"},
    {"ACTIVE", "num_active_experiments"},
};

static const struct cli_column project_cols[] = {
    {"ID", "id"},
    {"WORKSPACE", "workspace_name"},
    {"NAME", "name"},
    {"OWNER", "owner"},
    {"ARCHIVED", "archived"},
    {"EXPERIMENTS", "num_experiments"},
    {"ACTIVE", "num_active_experiments"},
};

static int all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* The id of workspace ID|NAME or project ID|WORKSPACE/PROJECT; -1 after printing why. */
static long long resolve(struct http_client *c, int project, const char *spec)
{
	const char *what = project ? "project" : "workspace";
	json_t *out = NULL, *r;
	long long id = -1;
	size_t i;

	if (all_digits(spec))
		return cli_parse_id(what, spec);
	if (project && !strchr(spec, '/')) {
		fprintf(stderr, "det: project %s: expected an id or WORKSPACE/PROJECT\n", spec);
		return -1;
	}
	if (cli_call(c, "GET", project ? "/api/v1/projects" : "/api/v1/workspaces", NULL, &out))
		return -1;
	json_array_foreach (json_object_get(out, project ? "projects" : "workspaces"), i, r) {
		const char *name = json_string_value(json_object_get(r, "name"));
		const char *ws = json_string_value(json_object_get(r, "workspace_name"));
		size_t wl = project ? (size_t)(strchr(spec, '/') - spec) : 0;
		int match = project ? ws && name && strlen(ws) == wl && !strncmp(ws, spec, wl) &&
		                          !strcmp(name, spec + wl + 1)
		                    : name && !strcmp(name, spec);
		if (match)
			id = json_integer_value(json_object_get(r, "id"));
	}
	if (id < 0) {
		char *esc = cli_escape(spec);
		fprintf(stderr, "det: no %s named %s\n", what, esc ? esc : "?");
		free(esc);
	}
	json_decref(out);
	return id;
}

/* method on /api/v1/{workspaces|projects}/ID[suffix] for argv[1]; prints key's value. */
static int on_one(struct cli_ctx *ctx, int project, const char *spec, const char *method,
                  const char *suffix, const char *done)
{
	const char *what = project ? "project" : "workspace";
	char path[160];
	json_t *out = NULL;
	struct http_client *c = cli_client(ctx);
	int rc = CLI_EXIT_FAILURE;

	if (!c)
		return CLI_EXIT_FAILURE;
	long long id = resolve(c, project, spec);
	if (id < 0)
		goto out;
	snprintf(path, sizeof(path), "/api/v1/%ss/%lld%s", what, id, suffix);
	rc = cli_call(c, method, path, NULL, &out);
	if (rc)
		goto out;
	if (done && ctx->output == CLI_OUTPUT_TABLE) {
		printf("%s %s %lld\n", done, what, id);
	} else if (ctx->output == CLI_OUTPUT_TABLE && json_object_get(out, what)) {
		json_t *rows = json_pack("[O]", json_object_get(out, what));
		cli_print_table(stdout, rows, project ? project_cols : ws_cols,
		                project ? sizeof(project_cols) / sizeof(project_cols[0])
		                        : sizeof(ws_cols) / sizeof(ws_cols[0]));
		json_decref(rows);
	} else {
		cli_print_value(ctx, stdout, json_object_get(out, what) ?: out);
	}
out:
	json_decref(out);
	http_client_free(c);
	return rc;
}

/* argv is "CMD [--force] SPEC": DELETE with ?force=1 when asked. */
static int delete_cmd(struct cli_ctx *ctx, int project, int argc, char **argv)
{
	static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
	int force = 0, opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		if (opt != 'f')
			return CLI_EXIT_USAGE;
		force = 1;
	}
	if (argc - optind != 1) {
		fprintf(stderr, "usage: det %s delete [--force] %s\n",
		        project ? "project" : "workspace",
		        project ? "ID|WORKSPACE/PROJECT" : "ID|NAME");
		return CLI_EXIT_USAGE;
	}
	return on_one(ctx, project, argv[optind], "DELETE", force ? "?force=1" : "", "Deleted");
}

static int one_arg(int argc, char **argv, int project)
{
	if (argc == 2)
		return 0;
	fprintf(stderr, "usage: det %s %s %s\n", project ? "project" : "workspace", argv[0],
	        project ? "ID|WORKSPACE/PROJECT" : "ID|NAME");
	return -1;
}

int cli_workspace_create(struct cli_ctx *ctx, int argc, char **argv)
{
	json_t *out = NULL, *body;
	if (argc != 2) {
		fprintf(stderr, "usage: det workspace create NAME\n");
		return CLI_EXIT_USAGE;
	}
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	body = json_pack("{s:s}", "name", argv[1]);
	int rc = body ? cli_call(c, "POST", "/api/v1/workspaces", body, &out) : CLI_EXIT_FAILURE;
	cli_print_done(ctx, rc, json_object_get(out, "workspace"), "Created workspace %lld\n",
	               (long long)json_integer_value(
	                   json_object_get(json_object_get(out, "workspace"), "id")));
	json_decref(body);
	json_decref(out);
	http_client_free(c);
	return rc;
}

int cli_workspace_list(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	return cli_list_rows(ctx, argc, "det workspace list", "/api/v1/workspaces", "workspaces",
	                     ws_cols, sizeof(ws_cols) / sizeof(ws_cols[0]));
}

int cli_workspace_describe(struct cli_ctx *ctx, int argc, char **argv)
{
	return one_arg(argc, argv, 0) ? CLI_EXIT_USAGE : on_one(ctx, 0, argv[1], "GET", "", NULL);
}

int cli_workspace_archive(struct cli_ctx *ctx, int argc, char **argv)
{
	return one_arg(argc, argv, 0) ? CLI_EXIT_USAGE
	                              : on_one(ctx, 0, argv[1], "POST", "/archive", "Archived");
}

int cli_workspace_unarchive(struct cli_ctx *ctx, int argc, char **argv)
{
	return one_arg(argc, argv, 0) ? CLI_EXIT_USAGE
	                              : on_one(ctx, 0, argv[1], "POST", "/unarchive", "Unarchived");
}

int cli_workspace_delete(struct cli_ctx *ctx, int argc, char **argv)
{
	return delete_cmd(ctx, 0, argc, argv);
}

int cli_project_create(struct cli_ctx *ctx, int argc, char **argv)
{
	char path[96];
	json_t *out = NULL, *body = NULL;
	int rc = CLI_EXIT_FAILURE;
	if (argc != 3) {
		fprintf(stderr, "usage: det project create WORKSPACE NAME\n");
		return CLI_EXIT_USAGE;
	}
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	long long ws = resolve(c, 0, argv[1]);
	body = json_pack("{s:s}", "name", argv[2]);
	if (ws < 0 || !body)
		goto out;
	snprintf(path, sizeof(path), "/api/v1/workspaces/%lld/projects", ws);
	rc = cli_call(c, "POST", path, body, &out);
	cli_print_done(
	    ctx, rc, json_object_get(out, "project"), "Created project %lld\n",
	    (long long)json_integer_value(json_object_get(json_object_get(out, "project"), "id")));
out:
	json_decref(body);
	json_decref(out);
	http_client_free(c);
	return rc;
}

int cli_project_list(struct cli_ctx *ctx, int argc, char **argv)
{
	char path[96] = "/api/v1/projects";
	json_t *out = NULL;
	int rc = CLI_EXIT_FAILURE;
	if (argc > 2) {
		fprintf(stderr, "usage: det project list [WORKSPACE]\n");
		return CLI_EXIT_USAGE;
	}
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	if (argc == 2) {
		long long ws = resolve(c, 0, argv[1]);
		if (ws < 0)
			goto out;
		snprintf(path, sizeof(path), "/api/v1/workspaces/%lld/projects", ws);
	}
	rc = cli_call(c, "GET", path, NULL, &out);
	if (!rc)
		cli_print_rows(ctx, json_object_get(out, "projects"),
		               json_object_get(out, "projects"), project_cols,
		               sizeof(project_cols) / sizeof(project_cols[0]));
out:
	json_decref(out);
	http_client_free(c);
	return rc;
}

int cli_project_describe(struct cli_ctx *ctx, int argc, char **argv)
{
	return one_arg(argc, argv, 1) ? CLI_EXIT_USAGE : on_one(ctx, 1, argv[1], "GET", "", NULL);
}

int cli_project_archive(struct cli_ctx *ctx, int argc, char **argv)
{
	return one_arg(argc, argv, 1) ? CLI_EXIT_USAGE
	                              : on_one(ctx, 1, argv[1], "POST", "/archive", "Archived");
}

int cli_project_unarchive(struct cli_ctx *ctx, int argc, char **argv)
{
	return one_arg(argc, argv, 1) ? CLI_EXIT_USAGE
	                              : on_one(ctx, 1, argv[1], "POST", "/unarchive", "Unarchived");
}

int cli_project_delete(struct cli_ctx *ctx, int argc, char **argv)
{
	return delete_cmd(ctx, 1, argc, argv);
}

int cli_experiment_move(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *project = NULL;
	char path[96];
	json_t *out = NULL, *body = NULL;
	int rc = CLI_EXIT_FAILURE, first = cli_one_option(argc, argv, "project", "p:", &project);

	if (first < 0)
		return CLI_EXIT_USAGE;
	if (argc - first != 1 || !project) {
		fprintf(stderr, "usage: det experiment move EXPERIMENT_ID --project "
		                "ID|WORKSPACE/PROJECT\n");
		return CLI_EXIT_USAGE;
	}
	long long id = cli_parse_id("experiment id", argv[first]);
	if (id < 0)
		return CLI_EXIT_USAGE;
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	body = json_pack("{s:s}", "project", project);
	snprintf(path, sizeof(path), "/api/v1/experiments/%lld/move", id);
	if (body)
		rc = cli_call(c, "POST", path, body, &out);
	cli_print_done(ctx, rc, json_object_get(out, "experiment"),
	               "Moved experiment %lld to project %lld\n", id,
	               (long long)json_integer_value(
	                   json_object_get(json_object_get(out, "experiment"), "project_id")));
	json_decref(body);
	json_decref(out);
	http_client_free(c);
	return rc;
}

static const struct cli_column role_cols[] = {
    {"UID", "uid"},
    {"GID", "gid"},
    {"ROLE", "role"},
};

/* assign-role ROLE WORKSPACE / unassign-role [ROLE] WORKSPACE, with --user or --group. */
static int role_cmd(struct cli_ctx *ctx, int argc, char **argv, int assign)
{
	static const struct option opts[] = {{"user", required_argument, NULL, 'u'},
	                                     {"group", required_argument, NULL, 'g'},
	                                     {NULL, 0, NULL, 0}};
	const char *user = NULL, *group = NULL, *role = NULL, *ws;
	char path[96];
	json_t *out = NULL, *body = NULL;
	int opt, rc = CLI_EXIT_FAILURE;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "u:g:", opts, NULL)) != -1) {
		if (opt == 'u')
			user = optarg;
		else if (opt == 'g')
			group = optarg;
		else
			return CLI_EXIT_USAGE;
	}
	int nargs = argc - optind;
	if (!user == !group || nargs < 1 + assign || nargs > 2) {
		fprintf(stderr, "usage: det workspace %s %sWORKSPACE --user NAME|--group GROUP\n",
		        argv[0], assign ? "ROLE " : "[ROLE] ");
		return CLI_EXIT_USAGE;
	}
	role = nargs == 2 ? argv[optind] : NULL;
	ws = argv[argc - 1];
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	long long id = resolve(c, 0, ws);
	body = json_pack("{s:s*, s:s*, s:s*}", "role", role, "user", user, "group", group);
	if (id < 0 || !body)
		goto out;
	snprintf(path, sizeof(path), "/api/v1/workspaces/%lld/roles%s", id,
	         assign ? "" : "/remove");
	rc = cli_call(c, "POST", path, body, &out);
	if (!rc)
		cli_print_rows(ctx, json_object_get(out, "roles"), json_object_get(out, "roles"),
		               role_cols, sizeof(role_cols) / sizeof(role_cols[0]));
out:
	json_decref(body);
	json_decref(out);
	http_client_free(c);
	return rc;
}

int cli_workspace_assign_role(struct cli_ctx *ctx, int argc, char **argv)
{
	return role_cmd(ctx, argc, argv, 1);
}

int cli_workspace_unassign_role(struct cli_ctx *ctx, int argc, char **argv)
{
	return role_cmd(ctx, argc, argv, 0);
}

int cli_workspace_list_roles(struct cli_ctx *ctx, int argc, char **argv)
{
	char path[96];
	json_t *out = NULL;
	int rc = CLI_EXIT_FAILURE;
	if (one_arg(argc, argv, 0))
		return CLI_EXIT_USAGE;
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	long long id = resolve(c, 0, argv[1]);
	if (id < 0)
		goto out;
	snprintf(path, sizeof(path), "/api/v1/workspaces/%lld/roles", id);
	rc = cli_call(c, "GET", path, NULL, &out);
	if (!rc && ctx->output == CLI_OUTPUT_TABLE) {
		const char *creator = json_string_value(json_object_get(out, "creator"));
		if (creator) {
			char *esc = cli_escape(creator);
			printf("creator (workspace-admin): %s\n", esc ? esc : "?");
			free(esc);
		}
	}
	if (!rc)
		cli_print_rows(ctx, out, json_object_get(out, "roles"), role_cols,
		               sizeof(role_cols) / sizeof(role_cols[0]));
out:
	json_decref(out);
	http_client_free(c);
	return rc;
}
