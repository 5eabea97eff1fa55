/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det experiment ...: create (YAML + packed model directory), list,
 * describe, lifecycle, wait/--follow with live progress, logs, the model
 * definition, trials and checkpoints. Progress goes to one rewritten line on
 * a terminal and to one plain line per change otherwise (logs, CI).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "expconf.h"
#include "http_client.h"

#define MODEL_MAX_BYTES (95L * 1024 * 1024)
#define CONFIG_MAX_BYTES (1024 * 1024)

static const struct cli_column exp_cols[] = {
    {"ID", "id"},
    {"NAME", "name"},
    {"STATE", "state"},
    {"PROGRESS", "progress"},
    {"TRIALS", "trials_total"},
    {"DONE", "trials_completed"},
    {"BEST", "best_metric"},
    {"LABELS", "labels"},
};

static const struct cli_column trial_cols[] = {
    {"ID", "id"},
    {"INDEX", "trial_index"},
    {"STATE", "state"},
    {"STEPS", "steps_completed"},
    {"BEST", "best_metric"},
    {"RESTARTS", "restarts"},
    {"HPARAMS", "hparams"},
};

static const struct cli_column ckpt_cols[] = {
    {"UUID", "uuid"},   {"TRIAL", "trial_id"}, {"STEPS", "steps_completed"},
    {"STATE", "state"}, {"PATH", "path"},
};

char *cli_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	if (!f) {
		fprintf(stderr, "det: %s: cannot open\n", path);
		return NULL;
	}
	buf = malloc(max + 1);
	if (buf) {
		*len = fread(buf, 1, max + 1, f);
		if (*len > max) {
			fprintf(stderr, "det: %s: larger than %zu bytes\n", path, max);
			free(buf);
			buf = NULL;
		} else {
			buf[*len] = '\0';
		}
	}
	fclose(f);
	return buf;
}

/* A one-line summary of an experiment's progress. */
static void progress_line(const json_t *e, char *buf, size_t len)
{
	json_t *best = json_object_get(e, "best_metric");
	char bestbuf[64] = "-", metric[128], state[64];
	if (json_is_number(best))
		snprintf(bestbuf, sizeof(bestbuf), "%.6g", json_number_value(best));
	/* Strings from the master reach the terminal escaped. */
	cli_escape_to(metric, sizeof(metric),
	              json_string_value(json_object_get(e, "searcher_metric")) ?: "(null)");
	cli_escape_to(state, sizeof(state), json_string_value(json_object_get(e, "state")) ?: "");
	snprintf(buf, len,
	         "experiment %lld %s: %lld/%lld trials done, %lld running, %lld queued, best %s %s",
	         (long long)json_integer_value(json_object_get(e, "id")), state,
	         (long long)json_integer_value(json_object_get(e, "trials_completed")),
	         (long long)json_integer_value(json_object_get(e, "trials_total")),
	         (long long)json_integer_value(json_object_get(e, "trials_running")),
	         (long long)json_integer_value(json_object_get(e, "trials_queued")), metric,
	         bestbuf);
}

static int is_final(const char *state)
{
	return state && (!strcmp(state, "COMPLETED") || !strcmp(state, "CANCELED") ||
	                 !strcmp(state, "ERROR"));
}

/* Poll until the experiment ends; exit 0 when COMPLETED, 1 otherwise. */
static int wait_for(struct cli_ctx *ctx, struct http_client *c, long long id, double interval)
{
	char path[64], line[512], last[512] = "";
	int tty = isatty(STDOUT_FILENO);
	snprintf(path, sizeof(path), "/api/v1/experiments/%lld", id);
	for (;;) {
		json_t *out = NULL;
		int rc = cli_call(c, "GET", path, NULL, &out);
		if (rc)
			return rc;
		json_t *e = json_object_get(out, "experiment");
		const char *state = json_string_value(json_object_get(e, "state"));
		progress_line(e, line, sizeof(line));
		if (tty)
			printf("\r\033[K%s", line);
		else if (strcmp(line, last))
			printf("%s\n", line);
		fflush(stdout);
		snprintf(last, sizeof(last), "%s", line);
		int final = is_final(state), ok = state && !strcmp(state, "COMPLETED");
		json_decref(out);
		if (final) {
			if (tty)
				printf("\n");
			return ok ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
		}
		struct timespec ts = {(time_t)interval,
		                      (long)((interval - (double)(time_t)interval) * 1e9)};
		nanosleep(&ts, NULL);
	}
}

/* The config's warnings (keys accepted but ignored), on stderr; the master
 * reports the errors. */
static void print_config_warnings(const char *yaml, size_t ylen, const char *path)
{
	struct expconf_diags d = {0};
	struct expconf *conf = expconf_parse(yaml, ylen, path, &d);

	for (size_t i = 0; i < d.count; i++) {
		const struct expconf_diag *g = &d.items[i];
		if (g->severity == EXPCONF_WARNING)
			fprintf(stderr, "%s:%d:%d: %s: warning: %s\n", path, g->line, g->column,
			        g->path ? g->path : "", g->message ? g->message : "");
	}
	expconf_free(conf);
	expconf_diags_free(&d);
}

int cli_experiment_post(struct cli_ctx *ctx, const char *config_path, const char *model_dir,
                        int activate, const char *submit, struct http_client **client, json_t **out)
{
	return cli_experiment_post_in(ctx, config_path, model_dir, activate, submit, NULL, NULL,
	                              client, out);
}

int cli_experiment_post_in(struct cli_ctx *ctx, const char *config_path, const char *model_dir,
                           int activate, const char *submit, const char *project,
                           const char *template_name, struct http_client **client, json_t **out)
{
	int rc = CLI_EXIT_FAILURE;
	unsigned char *model = NULL;
	size_t mlen = 0, ylen = 0;
	char *yaml = NULL, *b64 = NULL;
	json_t *body = NULL;

	*client = NULL;
	*out = NULL;
	yaml = cli_read_file(config_path, CONFIG_MAX_BYTES, &ylen);
	if (!yaml)
		goto out;
	print_config_warnings(yaml, ylen, config_path);
	if (model_dir) {
		if (cli_pack_dir(model_dir, &model, &mlen, MODEL_MAX_BYTES))
			goto out;
		b64 = cli_base64(model, mlen);
		if (!b64)
			goto out;
	}
	body = json_pack("{s:s%, s:s?, s:b, s:s*, s:s*, s:s*}", "config", yaml, ylen,
	                 "model_definition", b64, "activate", activate, "submit", submit, "project",
	                 project, "template", template_name);
	*client = cli_client(ctx);
	if (!body || !*client)
		goto out;
	http_client_set_timeout_ms(*client, 300000);
	rc = cli_call(*client, "POST", "/api/v1/experiments", body, out);
out:
	free(yaml);
	free(model);
	free(b64);
	json_decref(body);
	return rc;
}

int cli_experiment_create(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"paused", no_argument, NULL, 'p'},         {"follow", no_argument, NULL, 'f'},
	    {"project", required_argument, NULL, 'P'},  {"workspace", required_argument, NULL, 'w'},
	    {"template", required_argument, NULL, 't'}, {NULL, 0, NULL, 0}};
	int paused = 0, follow = 0, opt, rc = CLI_EXIT_FAILURE;
	const char *project = NULL, *workspace = NULL, *template_name = NULL;
	char spec[512];
	json_t *out = NULL;
	struct http_client *c = NULL;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+pf", opts, NULL)) != -1) {
		if (opt == 'p')
			paused = 1;
		else if (opt == 'f')
			follow = 1;
		else if (opt == 'P')
			project = optarg;
		else if (opt == 'w')
			workspace = optarg;
		else if (opt == 't')
			template_name = optarg;
		else
			return CLI_EXIT_USAGE;
	}
	if (argc - optind < 1 || argc - optind > 2 || (workspace && !project)) {
		fprintf(stderr,
		        "usage: det experiment create [--paused] [--follow] [--project "
		        "ID|WORKSPACE/PROJECT | --workspace W --project P] [--template NAME] "
		        "CONFIG [MODEL_DIR]\n");
		return CLI_EXIT_USAGE;
	}
	if (workspace) {
		snprintf(spec, sizeof(spec), "%s/%s", workspace, project);
		project = spec;
	}
	rc = cli_experiment_post_in(ctx, argv[optind], argc - optind == 2 ? argv[optind + 1] : NULL,
	                            !paused, NULL, project, template_name, &c, &out);
	if (rc)
		goto out;
	long long id = json_integer_value(json_object_get(out, "id"));
	if (ctx->output == CLI_OUTPUT_TABLE)
		printf("Created experiment %lld\n", id);
	else
		cli_print_value(ctx, stdout, out);
	fflush(stdout);
	if (follow)
		rc = wait_for(ctx, c, id, 1.0);
out:
	json_decref(out);
	http_client_free(c);
	return rc;
}

int cli_experiment_list(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"state", required_argument, NULL, 's'},  {"label", required_argument, NULL, 'l'},
	    {"owner", required_argument, NULL, 'u'},  {"project", required_argument, NULL, 'P'},
	    {"all", no_argument, NULL, 'a'},          {"limit", required_argument, NULL, 'n'},
	    {"offset", required_argument, NULL, 'O'}, {"sort", required_argument, NULL, 'S'},
	    {"desc", no_argument, NULL, 'd'},         {NULL, 0, NULL, 0}};
	char q[1024] = "/api/v1/experiments?x=1";
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+s:l:u:an:O:S:d", opts, NULL)) != -1) {
		const char *key = NULL;
		switch (opt) {
		case 's':
			key = "state";
			break;
		case 'l':
			key = "label";
			break;
		case 'u':
			key = "owner";
			break;
		case 'P':
			key = "project";
			break;
		case 'n':
			key = "limit";
			break;
		case 'O':
			key = "offset";
			break;
		case 'S':
			key = "sort";
			break;
		case 'a':
			strncat(q, "&archived=1", sizeof(q) - strlen(q) - 1);
			continue;
		case 'd':
			strncat(q, "&order=desc", sizeof(q) - strlen(q) - 1);
			continue;
		default:
			return CLI_EXIT_USAGE;
		}
		size_t n = strlen(q);
		snprintf(q + n, sizeof(q) - n, "&%s=", key);
		(void)cli_url_append(q, sizeof(q), optarg);
	}
	if (optind != argc) {
		fprintf(stderr, "det: experiment list takes options only\n");
		return CLI_EXIT_USAGE;
	}
	struct http_client *c = cli_client(ctx);
	json_t *out = NULL;
	if (!c)
		return CLI_EXIT_FAILURE;
	int rc = cli_call(c, "GET", q, NULL, &out);
	if (!rc)
		cli_print_rows(ctx, out, json_object_get(out, "experiments"), exp_cols,
		               sizeof(exp_cols) / sizeof(exp_cols[0]));
	json_decref(out);
	http_client_free(c);
	return rc;
}

/* GET or POST on /experiments/ID[/suffix], printing what key holds. */
static int simple(struct cli_ctx *ctx, int argc, char **argv, const char *method,
                  const char *suffix, const char *key, const struct cli_column *cols, size_t ncols)
{
	char path[128], usage[96];
	json_t *out = NULL;
	snprintf(usage, sizeof(usage), "det experiment %s ID", argv[0]);
	long long id;
	struct http_client *c;
	int rc = cli_id_client(ctx, argc, argv, usage, "experiment id", NULL, &id, &c);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "/api/v1/experiments/%lld%s", id, suffix);
	rc = cli_call(c, method, path, NULL, &out);
	if (!rc) {
		json_t *v = key ? json_object_get(out, key) : out;
		if (cols)
			cli_print_rows(ctx, v, v, cols, ncols);
		else if (ctx->output != CLI_OUTPUT_TABLE)
			cli_print_value(ctx, stdout, v);
		else if (json_is_object(v) && json_object_get(v, "state")) {
			char line[512];
			progress_line(v, line, sizeof(line));
			printf("%s\n", line);
			const char *why = json_string_value(json_object_get(v, "end_reason"));
			if (why)
				printf("error: %s\n", why);
			if (json_is_integer(json_object_get(v, "parent_id")))
				printf(
				    "forked from experiment %lld\n",
				    (long long)json_integer_value(json_object_get(v, "parent_id")));
		}
	}
	json_decref(out);
	http_client_free(c);
	return rc;
}

/* The array tasks as Slurm sees them (state, pending reason), when there are any. */
static int slurm_tasks(struct cli_ctx *ctx, long long id)
{
	static const struct cli_column cols[] = {
	    {"TASK", "array_task"}, {"SLURM JOB", "slurm_job"}, {"SLURM STATE", "state"},
	    {"REASON", "reason"},   {"RESTARTS", "restarts"},
	};
	char path[96];
	json_t *out = NULL;
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	snprintf(path, sizeof(path), "/api/v1/experiments/%lld/slurm", id);
	int rc = cli_call(c, "GET", path, NULL, &out);
	json_t *tasks = json_object_get(out, "tasks");
	if (!rc && json_array_size(tasks) > 0) {
		printf("\nSlurm array %s:\n", json_string_value(json_object_get(out, "job_id")));
		cli_print_table(stdout, tasks, cols, sizeof(cols) / sizeof(cols[0]));
	}
	json_t *refused = json_object_get(out, "refused");
	if (!rc && json_array_size(refused) > 0) {
		static const struct cli_column rcols[] = {{"OPERATION", "operation"},
		                                          {"TASK", "array_task"},
		                                          {"REFUSED BY SLURM", "error"}};
		printf("\nOperations slurmctld refused (latest last):\n");
		cli_print_table(stdout, refused, rcols, sizeof(rcols) / sizeof(rcols[0]));
	}
	json_decref(out);
	http_client_free(c);
	return rc;
}

/* "image (SLOT): sha256:..." for each slot type the experiment has an image for. */
static int image_lines(struct cli_ctx *ctx, long long id)
{
	char path[64];
	json_t *out = NULL, *d;
	const char *slot;
	struct http_client *c = cli_client(ctx);
	if (!c || id < 0) {
		http_client_free(c);
		return CLI_EXIT_FAILURE;
	}
	snprintf(path, sizeof(path), "/api/v1/experiments/%lld", id);
	int rc = cli_call(c, "GET", path, NULL, &out);
	json_t *digests = json_object_get(json_object_get(out, "experiment"), "image_digests");
	json_object_foreach (digests, slot, d) {
		const char *s = json_string_value(d);
		if (s && strspn(s, "sha256:0123456789abcdef") == strlen(s) &&
		    strspn(slot, "abcdefghijklmnopqrstuvwxyz") == strlen(slot))
			printf("image (%s): %s\n", slot, s);
	}
	json_decref(out);
	http_client_free(c);
	return rc;
}

int cli_experiment_describe(struct cli_ctx *ctx, int argc, char **argv)
{
	if (ctx->output == CLI_OUTPUT_TABLE && argc == 2) {
		/* Summary line, the trials, then the array's tasks in Slurm. */
		int rc = simple(ctx, argc, argv, "GET", "", "experiment", NULL, 0);
		if (rc)
			return rc;
		rc = image_lines(ctx, cli_parse_id("experiment id", argv[1]));
		if (rc)
			return rc;
		rc = simple(ctx, argc, argv, "GET", "/trials", "trials", trial_cols,
		            sizeof(trial_cols) / sizeof(trial_cols[0]));
		return rc ? rc : slurm_tasks(ctx, cli_parse_id("experiment id", argv[1]));
	}
	return simple(ctx, argc, argv, "GET", "", "experiment", NULL, 0);
}

#define LIFECYCLE(fn, sfx)                                                                         \
	int fn(struct cli_ctx *ctx, int argc, char **argv)                                         \
	{                                                                                          \
		return simple(ctx, argc, argv, "POST", sfx, "experiment", NULL, 0);                \
	}
LIFECYCLE(cli_experiment_pause, "/pause")
LIFECYCLE(cli_experiment_activate, "/activate")
LIFECYCLE(cli_experiment_cancel, "/cancel")
LIFECYCLE(cli_experiment_kill, "/kill")
LIFECYCLE(cli_experiment_archive, "/archive")
LIFECYCLE(cli_experiment_unarchive, "/unarchive")

int cli_experiment_delete(struct cli_ctx *ctx, int argc, char **argv)
{
	int rc = simple(ctx, argc, argv, "DELETE", "", NULL, NULL, 0);
	if (!rc && ctx->output == CLI_OUTPUT_TABLE)
		printf("Deleted experiment %s\n", argv[1]);
	return rc;
}

int cli_experiment_list_trials(struct cli_ctx *ctx, int argc, char **argv)
{
	return simple(ctx, argc, argv, "GET", "/trials", "trials", trial_cols,
	              sizeof(trial_cols) / sizeof(trial_cols[0]));
}

int cli_experiment_list_checkpoints(struct cli_ctx *ctx, int argc, char **argv)
{
	return simple(ctx, argc, argv, "GET", "/checkpoints", "checkpoints", ckpt_cols,
	              sizeof(ckpt_cols) / sizeof(ckpt_cols[0]));
}

int cli_experiment_wait(struct cli_ctx *ctx, int argc, char **argv)
{
	long long id;
	struct http_client *c;
	int rc = cli_id_client(ctx, argc, argv, "det experiment wait ID", "experiment id", NULL,
	                       &id, &c);
	if (rc)
		return rc;
	rc = wait_for(ctx, c, id, 1.0);
	http_client_free(c);
	return rc;
}

int cli_experiment_download(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *file = NULL;
	char path[128], err[512], def[64];
	struct http_response resp = {0};
	int first = cli_one_option(argc, argv, "output-file", "+O:", &file);

	if (first < 0)
		return CLI_EXIT_USAGE;
	if (argc - first != 1) {
		fprintf(stderr, "usage: det experiment download-model-def [-O FILE] ID\n");
		return CLI_EXIT_USAGE;
	}
	long long id = cli_parse_id("experiment id", argv[first]);
	if (id < 0)
		return CLI_EXIT_USAGE;
	if (!file) {
		snprintf(def, sizeof(def), "experiment-%lld.tar.gz", id);
		file = def;
	}
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	snprintf(path, sizeof(path), "/api/v1/experiments/%lld/model_def", id);
	int rc = CLI_EXIT_FAILURE;
	if (http_client_request(c, "GET", path, NULL, NULL, 0, &resp, err, sizeof(err))) {
		fprintf(stderr, "det: cannot reach the master: %s\n", err);
		rc = CLI_EXIT_UNREACHABLE;
	} else if (resp.status != 200) {
		json_t *j = json_loadb(resp.body ? resp.body : "", resp.len, 0, NULL);
		fprintf(stderr, "det: %s\n",
		        json_string_value(json_object_get(json_object_get(j, "error"), "message"))
		            ?: "request failed");
		json_decref(j);
	} else {
		FILE *f = fopen(file, "wb");
		int ok = f && fwrite(resp.body, 1, resp.len, f) == resp.len;
		if (f && fclose(f) != 0)
			ok = 0;
		if (ok) {
			printf("Wrote %s (%zu bytes)\n", file, resp.len);
			rc = CLI_EXIT_OK;
		} else {
			fprintf(stderr, "det: %s: cannot write\n", file);
		}
	}
	http_response_free(&resp);
	http_client_free(c);
	return rc;
}

int cli_experiment_logs(struct cli_ctx *ctx, int argc, char **argv)
{
	int follow;
	char path[128];

	long long id;
	struct http_client *c;
	int rc = cli_id_client(ctx, argc, argv, "det experiment logs [--follow] ID",
	                       "experiment id", &follow, &id, &c);
	if (rc)
		return rc;
	long long after[4096] = {0};
	snprintf(path, sizeof(path), "/api/v1/experiments/%lld", id);
	for (;;) {
		json_t *trials = NULL, *exp = NULL;
		char tp[160];
		snprintf(tp, sizeof(tp), "%s/trials", path);
		rc = cli_call(c, "GET", tp, NULL, &trials);
		if (!rc)
			rc = cli_call(c, "GET", path, NULL, &exp);
		if (rc) {
			json_decref(trials);
			break;
		}
		size_t i;
		json_t *t;
		json_array_foreach (json_object_get(trials, "trials"), i, t) {
			if (i >= 4096)
				break;
			long long tid = json_integer_value(json_object_get(t, "id"));
			char prefix[64];
			int ended;
			snprintf(prefix, sizeof(prefix), "[trial %lld] ", tid);
			rc = cli_trial_logs_once(c, tid, &after[i], 0, prefix, &ended);
			if (rc)
				break;
		}
		const char *state =
		    json_string_value(json_object_get(json_object_get(exp, "experiment"), "state"));
		int final = is_final(state);
		json_decref(trials);
		json_decref(exp);
		if (rc || !follow || final)
			break;
		sleep(1);
	}
	http_client_free(c);
	return rc;
}
