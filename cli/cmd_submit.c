/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det submit [--project P] CONFIG MODEL_DIR [-- SBATCH ARGS]: the experiment becomes a
 * Slurm job array submitted by the user, so Slurm's accounting, fair share
 * and limits apply to them. The master creates the experiment without
 * submitting and returns the array spec(s) and batch script(s); this runs
 * sbatch for each, then tells the master the array job id(s).
 *
 * Main structure: the master's submit plan (JSON). Non-obvious decisions:
 * sbatch is run with an argv (never through a shell), the script goes
 * through a 0600 temporary file because it carries the experiment's
 * allocation token, and any failure after the experiment was created kills
 * it (and cancels arrays already submitted), so no experiment waits forever
 * for a job that does not exist.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "http_client.h"

#define SUBMIT_MAX_ARRAYS 64
#define SUBMIT_MAX_ARGS 256

/* Run argv, its stdout into out (NUL-terminated, at most len-1 bytes); stderr passes
 * through. Returns the exit status, or -1 when it could not run. */
static int run_capture(char *const argv[], char *out, size_t len)
{
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "det: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	size_t used = 0;
	for (;;) {
		char buf[512];
		ssize_t n = read(fds[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		size_t take = (size_t)n < len - 1 - used ? (size_t)n : len - 1 - used;
		memcpy(out + used, buf, take);
		used += take;
	}
	out[used] = '\0';
	close(fds[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The script into a private temporary file; its path in path. 0 or -1. */
static int write_script(const char *script, char *path, size_t len)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(path, len, "%s/det-submit.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0) {
		fprintf(stderr, "det: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t n = strlen(script), off = 0;
	while (off < n) {
		ssize_t w = write(fd, script + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "det: %s: %s\n", path, strerror(errno));
			close(fd);
			unlink(path);
			return -1;
		}
		off += (size_t)w;
	}
	close(fd);
	return 0;
}

/* sbatch for one array of the plan; job id into id. 0 or -1 after printing why. */
static int sbatch_one(json_t *plan, json_t *arr, long long exp, int nextra, char **extra, char *id,
                      size_t idlen)
{
	char script_path[4096], o_array[96], o_name[96], o_exp[64], o_slots[64], o_pool[320];
	char out[256];
	const char *argv[SUBMIT_MAX_ARGS + 16];
	int argc = 0;
	size_t i;
	json_t *v;

	const char *script = json_string_value(json_object_get(arr, "script"));
	const char *spec = json_string_value(json_object_get(arr, "array"));
	const char *name = json_string_value(json_object_get(plan, "job_name"));
	const char *pool = json_string_value(json_object_get(plan, "resource_pool"));
	json_int_t slots = json_integer_value(json_object_get(plan, "slots_per_trial"));
	json_t *cargs = json_object_get(plan, "sbatch_args");
	if (!script || !spec || !name) {
		fprintf(stderr, "det: the master's submit plan lacks a script, array or name\n");
		return -1;
	}
	if (json_array_size(cargs) + (size_t)nextra > SUBMIT_MAX_ARGS) {
		fprintf(stderr, "det: more than %d sbatch arguments\n", SUBMIT_MAX_ARGS);
		return -1;
	}
	if (write_script(script, script_path, sizeof(script_path)))
		return -1;
	snprintf(o_array, sizeof(o_array), "--array=%s", spec);
	snprintf(o_name, sizeof(o_name), "--job-name=%s", name);
	snprintf(o_exp, sizeof(o_exp), "--det-experiment=%lld", exp);
	snprintf(o_slots, sizeof(o_slots), "--det-slots=%lld", (long long)(slots > 0 ? slots : 1));
	argv[argc++] = "sbatch";
	argv[argc++] = "--parsable";
	argv[argc++] = o_array;
	argv[argc++] = o_name;
	argv[argc++] = o_exp;
	argv[argc++] = o_slots;
	if (pool) {
		snprintf(o_pool, sizeof(o_pool), "--det-pool=%.256s", pool);
		argv[argc++] = o_pool;
	}
	/* The config's slurm.sbatch_args, then the command line's: the last word wins. */
	json_array_foreach (cargs, i, v) {
		if (json_is_string(v))
			argv[argc++] = json_string_value(v);
	}
	for (int k = 0; k < nextra; k++)
		argv[argc++] = extra[k];
	argv[argc++] = script_path;
	argv[argc] = NULL;
	int status = run_capture((char *const *)argv, out, sizeof(out));
	unlink(script_path);
	if (status != 0) {
		fprintf(stderr, "det: sbatch failed (%s %d)\n",
		        status < 0 ? "could not run" : "exit", status);
		return -1;
	}
	/* --parsable: "JOBID" or "JOBID;CLUSTER". */
	out[strcspn(out, ";\n")] = '\0';
	if (!*out || strspn(out, "0123456789") != strlen(out) || strlen(out) >= idlen) {
		fprintf(stderr, "det: sbatch printed \"%.64s\", not a job id\n", out);
		return -1;
	}
	snprintf(id, idlen, "%s", out);
	return 0;
}

static void undo(struct http_client *c, long long exp, char ids[][32], int n)
{
	char path[96];
	for (int i = 0; i < n; i++) {
		char *argv[] = {"scancel", ids[i], NULL};
		char out[64];
		run_capture(argv, out, sizeof(out));
	}
	snprintf(path, sizeof(path), "/api/v1/experiments/%lld/kill", exp);
	json_t *o = NULL;
	if (cli_call(c, "POST", path, NULL, &o) == 0)
		fprintf(stderr, "det: experiment %lld killed\n", exp);
	json_decref(o);
}

int cli_submit(struct cli_ctx *ctx, int argc, char **argv)
{
	int rc = CLI_EXIT_FAILURE, nextra = 0, nsub = 0;
	char **extra = NULL, ids[SUBMIT_MAX_ARRAYS][32], job[SUBMIT_MAX_ARRAYS * 48] = "";
	json_t *out = NULL;
	struct http_client *c = NULL;
	long long id = -1;

	/* det submit [--project P | --workspace W --project P] CONFIG MODEL_DIR [-- ARGS...] */
	static const struct option opts[] = {{"project", required_argument, NULL, 'P'},
	                                     {"workspace", required_argument, NULL, 'w'},
	                                     {NULL, 0, NULL, 0}};
	const char *project = NULL, *workspace = NULL;
	char spec[512];
	int nown = argc, opt;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			nown = i;
			extra = argv + i + 1;
			nextra = argc - i - 1;
			break;
		}
	optind = 0;
	while ((opt = getopt_long(nown, argv, "", opts, NULL)) != -1) {
		if (opt == 'P')
			project = optarg;
		else if (opt == 'w')
			workspace = optarg;
		else
			return CLI_EXIT_USAGE;
	}
	if (nown - optind != 2 || (workspace && !project)) {
		fprintf(stderr, "usage: det submit [--project ID|WORKSPACE/PROJECT | --workspace W "
		                "--project P] CONFIG MODEL_DIR [-- SBATCH ARGS...]\n");
		return CLI_EXIT_USAGE;
	}
	if (workspace) {
		if ((size_t)snprintf(spec, sizeof(spec), "%s/%s", workspace, project) >=
		    sizeof(spec)) {
			fprintf(stderr, "det: --workspace and --project: names too long\n");
			return CLI_EXIT_USAGE;
		}
		project = spec;
	}
	rc = cli_experiment_post_in(ctx, argv[optind], argv[optind + 1], 1, "client", project, NULL,
	                            &c, &out);
	if (rc)
		goto out;
	rc = CLI_EXIT_FAILURE;
	id = json_integer_value(json_object_get(out, "id"));
	json_t *plan = json_object_get(out, "submit_plan");
	json_t *arrays = json_object_get(plan, "arrays");
	if (!json_is_array(arrays) || json_array_size(arrays) == 0 ||
	    json_array_size(arrays) > SUBMIT_MAX_ARRAYS) {
		const char *why = json_string_value(json_object_get(out, "submit_error"));
		fprintf(stderr, "det: experiment %lld cannot be submitted by sbatch: %s\n", id,
		        why ? why : "the master sent no plan");
		undo(c, id, ids, 0);
		goto out;
	}
	size_t i;
	json_t *arr;
	json_array_foreach (arrays, i, arr) {
		if (sbatch_one(plan, arr, id, nextra, extra, ids[nsub], sizeof(ids[nsub]))) {
			undo(c, id, ids, nsub);
			goto out;
		}
		size_t n = strlen(job);
		snprintf(job + n, sizeof(job) - n, "%s%s+%lld", i ? "," : "", ids[nsub],
		         (long long)json_integer_value(json_object_get(arr, "offset")));
		nsub++;
	}
	json_t *reg = json_pack("{s:s}", "job_id", job), *o2 = NULL;
	char path[96];
	snprintf(path, sizeof(path), "/api/v1/experiments/%lld/submitted", id);
	int r2 = reg ? cli_call(c, "POST", path, reg, &o2) : CLI_EXIT_FAILURE;
	json_decref(reg);
	json_decref(o2);
	if (r2) {
		undo(c, id, ids, nsub);
		rc = r2;
		goto out;
	}
	if (ctx->output == CLI_OUTPUT_TABLE) {
		printf("Created experiment %lld\n", id);
		printf("Submitted Slurm array job %s\n", ids[0]);
		for (int k = 1; k < nsub; k++)
			printf("Submitted Slurm array job %s\n", ids[k]);
	} else {
		json_t *v = json_pack("{s:I, s:s, s:s}", "experiment_id", (json_int_t)id, "job_id",
		                      ids[0], "jobs", job);
		cli_print_value(ctx, stdout, v);
		json_decref(v);
	}
	rc = CLI_EXIT_OK;
out:
	json_decref(out);
	http_client_free(c);
	return rc;
}
