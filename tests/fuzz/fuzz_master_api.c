/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the master's request bodies: the first byte picks a
 * POST endpoint, the rest is its body, and the real handler runs against a
 * real store (temporary directory) with a live experiment and trial, as the
 * trial itself (trial endpoints) or as the admin (the rest). Any bytes in:
 * never a crash, a leak or undefined behaviour; always a JSON answer with a
 * status the API documents.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master/api.h"
#include "master/app.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_state {
	struct master_config cfg;
	struct app app;
	char dir[64];
	char auth[128];
	long long exp, trial;
	int ready;
};

/* libFuzzer has no context argument: the one master lives here. */
static struct fuzz_state fz;

static void call(const char *method, const char *path, const char *auth, const char *body,
                 size_t len, struct http_reply *rep)
{
	char *copy = malloc(len + 1);
	if (!copy)
		abort();
	memcpy(copy, body, len);
	copy[len] = '\0';
	struct http_request req = {.method = method,
	                           .path = path,
	                           .authorization = auth,
	                           .body = len ? copy : NULL,
	                           .body_len = len,
	                           .peer_local = auth == NULL,
	                           .peer_uid = 0,
	                           .shutting_down = 1};
	memset(rep, 0, sizeof(*rep));
	rep->status = 200;
	api_ops_template.handle(&fz.app, &req, rep);
	free(copy);
}

static int unlink_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	app_close(&fz.app);
	master_config_free(&fz.cfg);
	nftw(fz.dir, unlink_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	char err[1024], path[128];
	struct http_reply rep;
	snprintf(fz.dir, sizeof(fz.dir), "/tmp/det-fuzz-api.XXXXXX");
	if (!mkdtemp(fz.dir) || master_config_defaults(&fz.cfg, err, sizeof(err)) ||
	    master_config_set_str(&fz.cfg.state_dir, fz.dir) ||
	    master_config_set_str(&fz.cfg.launcher, "/bin/true") ||
	    master_config_finish(&fz.cfg, err, sizeof(err)))
		abort();
	fz.cfg.log_level = LOG_LEVEL_ERROR;
	/* The admin password is printed on the first start: keep stdout clean. */
	fflush(stdout);
	FILE *saved = stdout;
	stdout = fopen("/dev/null", "w");
	if (app_open(&fz.app, &fz.cfg, 0, err, sizeof(err))) {
		fprintf(stderr, "fuzz setup: %s\n", err);
		abort();
	}
	fclose(stdout);
	stdout = saved;
	atexit(teardown);
	const char *create =
	    "{\"config\": \"name: f\\nentrypoint: x\\nhyperparameters: {lr: {type: "
	    "double, minval: 0.1, maxval: 0.2}}\\nsearcher: {name: random, metric: "
	    "m, max_trials: 4, max_length: {batches: 10}}\\n\"}";
	call("POST", "/api/v1/experiments", NULL, create, strlen(create), &rep);
	json_t *j = json_loads(rep.body ? rep.body : "", 0, NULL);
	fz.exp = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	free(rep.body);
	snprintf(path, sizeof(path), "/api/v1/experiments/%lld/claim", fz.exp);
	call("POST", path, NULL, "{\"array_task\": 0}", 17, &rep);
	j = json_loads(rep.body ? rep.body : "", 0, NULL);
	fz.trial = json_integer_value(json_object_get(j, "trial_id"));
	snprintf(fz.auth, sizeof(fz.auth), "Bearer %s",
	         json_string_value(json_object_get(j, "token")) ?: "none");
	json_decref(j);
	free(rep.body);
	if (!fz.exp || !fz.trial)
		abort();
	fz.ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		const char *fmt; /* %lld: the experiment or trial id */
		int trial;       /* 1: trial endpoint (trial token) */
	} routes[] = {
	    {"/api/v1/trials/%lld/metrics", 1},
	    {"/api/v1/trials/%lld/checkpoints", 1},
	    {"/api/v1/trials/%lld/logs", 1},
	    {"/api/v1/trials/%lld/progress", 1},
	    {"/api/v1/trials/%lld/early_exit", 1},
	    {"/api/v1/trials/%lld/exit", 1},
	    {"/api/v1/experiments/%lld/claim", 0},
	    {"/api/v1/experiments", 0},
	    {"/api/v1/preview-hp-search", 0},
	    {"/api/v1/auth/login", 0},
	    {"/api/v1/users", 0},
	    {"/api/v1/experiments/%lld/pause", 0},
	};
	char path[128];
	struct http_reply rep;

	if (!fz.ready)
		setup();
	if (size < 1)
		return 0;
	size_t r = data[0] % (sizeof(routes) / sizeof(routes[0]));
	snprintf(path, sizeof(path), routes[r].fmt, routes[r].trial ? fz.trial : fz.exp);
	call("POST", path, routes[r].trial ? fz.auth : NULL, (const char *)data + 1, size - 1,
	     &rep);
	/* Every answer is JSON; errors have the documented shape and status. */
	json_t *j = json_loadb(rep.body ? rep.body : "", rep.len, 0, NULL);
	if (!j)
		abort();
	if (rep.status != 200) {
		const char *code =
		    json_string_value(json_object_get(json_object_get(j, "error"), "code"));
		if (!code || rep.status < 400 || rep.status == 500)
			abort();
	}
	json_decref(j);
	free(rep.body);
	return 0;
}
