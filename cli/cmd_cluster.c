/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det agent list, det slot list, det resource-pool list: the cluster as the
 * master's resource manager sees it (Slurm nodes and partitions, or the one
 * machine of the local resource manager).
 *
 * Main structure: none; each command is one GET. Non-obvious decision: a
 * "slot" is a GPU on GPU nodes and a CPU elsewhere, and Slurm does not say
 * which GPU of a node is taken, so slot list marks the first slots_used of
 * a node as in use (the count is exact, the indices are not).
 */
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "http_client.h"

/* GET path and hand the reply to the caller; prints a usage line when args are given. */
static int get(struct cli_ctx *ctx, int argc, char **argv, const char *path, json_t **out)
{
	if (argc != 1) {
		fprintf(stderr, "det: %s takes no arguments\n", argv[0]);
		return CLI_EXIT_USAGE;
	}
	return cli_get(ctx, path, out);
}

/* GET path and print its key as rows (the whole reply with -o json|yaml). */
static int list(struct cli_ctx *ctx, int argc, char **argv, const char *path, const char *key,
                const struct cli_column *cols, size_t ncols)
{
	json_t *out = NULL;
	int rc = get(ctx, argc, argv, path, &out);
	if (!rc)
		cli_print_rows(ctx, out, json_object_get(out, key), cols, ncols);
	json_decref(out);
	return rc;
}

int cli_agent_list(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_column cols[] = {
	    {"AGENT", "name"},         {"STATE", "state"},
	    {"SLOTS", "slots"},        {"USED", "slots_used"},
	    {"CPUS", "cpus"},          {"GPUS", "gpus"},
	    {"POOL", "resource_pool"}, {"PARTITIONS", "partitions"},
	};
	return list(ctx, argc, argv, "/api/v1/agents", "agents", cols,
	            sizeof(cols) / sizeof(cols[0]));
}

int cli_slot_list(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_column cols[] = {
	    {"AGENT", "agent"}, {"SLOT", "slot"},          {"TYPE", "type"},
	    {"STATE", "state"}, {"POOL", "resource_pool"},
	};
	json_t *out = NULL, *rows = json_array(), *n;
	size_t i;
	int rc = get(ctx, argc, argv, "/api/v1/agents", &out);
	json_array_foreach (json_object_get(out, "agents"), i, n) {
		json_int_t slots = json_integer_value(json_object_get(n, "slots"));
		json_int_t used = json_integer_value(json_object_get(n, "slots_used"));
		int gpus = json_integer_value(json_object_get(n, "gpus")) > 0;
		const char *pool = json_string_value(json_object_get(n, "resource_pool"));
		for (json_int_t s = 0; s < slots && s < 4096; s++)
			json_array_append_new(rows, json_pack("{s:O, s:I, s:s, s:s, s:s}", "agent",
			                                      json_object_get(n, "name"), "slot", s,
			                                      "type", gpus ? "gpu" : "cpu", "state",
			                                      s < used ? "in use" : "free",
			                                      "resource_pool", pool ? pool : ""));
	}
	if (!rc)
		cli_print_rows(ctx, rows, rows, cols, sizeof(cols) / sizeof(cols[0]));
	json_decref(rows);
	json_decref(out);
	return rc;
}

int cli_pool_list(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_column cols[] = {
	    {"POOL", "name"},
	    {"SLOTS", "slots"},
	    {"USED", "slots_used"},
	    {"AGENTS", "nodes"},
	    {"MANAGER", "resource_manager"},
	};
	return list(ctx, argc, argv, "/api/v1/resource-pools", "resource_pools", cols,
	            sizeof(cols) / sizeof(cols[0]));
}
