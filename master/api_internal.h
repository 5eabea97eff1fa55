/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the api_*.c files: one call's context and the handlers. */
#ifndef DET_API_INTERNAL_H
#define DET_API_INTERNAL_H

#include <jansson.h>
#include <stdio.h>

#include "app.h"
#include "exp.h"
#include "http_server.h"

enum api_auth {
	API_AUTH_NONE,  /* public */
	API_AUTH_ANY,   /* any valid credential */
	API_AUTH_USER,  /* a user (bearer token or Unix socket peer) */
	API_AUTH_TRIAL, /* the trial's own token (or an admin) */
};

struct api_call {
	const struct http_request *req;
	struct principal who;
	int64_t id;     /* {id} of the path */
	char uuid[128]; /* {uuid} of the path */
	json_t *body;   /* parsed body of a POST (object) */
};

typedef void (*api_handler)(struct app *a, struct api_call *c, struct http_reply *rep);

/* A handler's work in flight while its request is held (see http_request_hold):
 * the first member of the handler's state in the request's slot; when the
 * request is dispatched again, finish answers it (no new authentication). */
struct api_pending {
	void (*finish)(struct app *a, struct api_pending *p, struct http_reply *rep);
};

struct api_route {
	const char *method;
	const char *pattern;
	api_handler handler;
	enum api_auth auth;
};

/* Fill rep with {"error": {code, message}} and status. */
void api_error(struct http_reply *rep, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The HTTP status of an engine status: the one place where the engine's outcomes
 * become HTTP. */
int api_exp_http_status(enum exp_status s);

/* Fill rep with the error of an engine call (its status and message). */
void api_exp_error(struct http_reply *rep, enum exp_status s, const char *err);

/* Fill rep with body (reference stolen; NULL = {}). */
void api_json(struct http_reply *rep, int status, json_t *body);

/* Fill rep with the answer of an engine call: 200 with out (stolen; NULL = {}) when
 * status is EXP_OK, else its error (api_exp_error with err). */
void api_exp_answer(struct http_reply *rep, enum exp_status status, json_t *out, const char *err);

/* Decode standard base64 (whitespace ignored): malloc'd, *out_len its bytes; NULL on bad
 * input or out of memory. */
unsigned char *api_base64_decode(const char *in, size_t len, size_t *out_len);

/* Parse the request body as a JSON object or fill rep with a 400. */
json_t *api_body(const struct http_request *req, struct http_reply *rep);

/* The next "name=value" of a Cookie header at *p (its length in *len), moving *p past it;
 * NULL when none is left. */
const char *api_cookie_next(const char **p, size_t *len);

void api_exp_create(struct app *a, struct api_call *c, struct http_reply *rep);
void api_exp_list(struct app *a, struct api_call *c, struct http_reply *rep);
void api_exp_get(struct app *a, struct api_call *c, struct http_reply *rep);
void api_exp_delete(struct app *a, struct api_call *c, struct http_reply *rep);
void api_exp_activate(struct app *a, struct api_call *c, struct http_reply *rep);
void api_exp_pause(struct app *a, struct api_call *c, struct http_reply *rep);
void api_exp_cancel(struct app *a, struct api_call *c, struct http_reply *rep);
void api_exp_kill(struct app *a, struct api_call *c, struct http_reply *rep);
void api_exp_archive(struct app *a, struct api_call *c, struct http_reply *rep);
void api_exp_unarchive(struct app *a, struct api_call *c, struct http_reply *rep);
void api_exp_trials(struct app *a, struct api_call *c, struct http_reply *rep);
void api_exp_checkpoints(struct app *a, struct api_call *c, struct http_reply *rep);
void api_exp_model_def(struct app *a, struct api_call *c, struct http_reply *rep);
void api_claim(struct app *a, struct api_call *c, struct http_reply *rep);
void api_preview(struct app *a, struct api_call *c, struct http_reply *rep);
void api_trial_get(struct app *a, struct api_call *c, struct http_reply *rep);
void api_trial_kill(struct app *a, struct api_call *c, struct http_reply *rep);
void api_trial_metrics_get(struct app *a, struct api_call *c, struct http_reply *rep);
void api_trial_logs_get(struct app *a, struct api_call *c, struct http_reply *rep);
void api_trial_logs_download(struct app *a, struct api_call *c, struct http_reply *rep);
void api_trial_checkpoints(struct app *a, struct api_call *c, struct http_reply *rep);
void api_trial_metrics(struct app *a, struct api_call *c, struct http_reply *rep);
void api_trial_checkpoint(struct app *a, struct api_call *c, struct http_reply *rep);
void api_trial_logs(struct app *a, struct api_call *c, struct http_reply *rep);
void api_trial_progress(struct app *a, struct api_call *c, struct http_reply *rep);
void api_trial_early_exit(struct app *a, struct api_call *c, struct http_reply *rep);
void api_trial_exit(struct app *a, struct api_call *c, struct http_reply *rep);
void api_trial_signals(struct app *a, struct api_call *c, struct http_reply *rep);
void api_checkpoint_get(struct app *a, struct api_call *c, struct http_reply *rep);
/* GET /checkpoints/{uuid}/download: the directory as a tar, read as its owner (api_ckpt.c). */
void api_checkpoint_download(struct app *a, struct api_call *c, struct http_reply *rep);
void api_allocation_events(struct app *a, struct api_call *c, struct http_reply *rep);
void api_checkpoint_delete(struct app *a, struct api_call *c, struct http_reply *rep);
void api_exp_submitted(struct app *a, struct api_call *c, struct http_reply *rep);
void api_exp_rm_tasks(struct app *a, struct api_call *c, struct http_reply *rep);
/* /metrics lines of the resource manager's calls to its scheduler (det_slurm_rpcs_total). */
void api_rm_prometheus(struct app *a, FILE *f);
void api_exp_fork(struct app *a, struct api_call *c, struct http_reply *rep);
void api_exp_continue(struct app *a, struct api_call *c, struct http_reply *rep);
void api_model_list(struct app *a, struct api_call *c, struct http_reply *rep);
void api_model_get(struct app *a, struct api_call *c, struct http_reply *rep);
void api_model_create(struct app *a, struct api_call *c, struct http_reply *rep);
void api_model_register(struct app *a, struct api_call *c, struct http_reply *rep);
void api_exp_set(struct app *a, struct api_call *c, struct http_reply *rep);
void api_exp_move(struct app *a, struct api_call *c, struct http_reply *rep);
void api_workspace_list(struct app *a, struct api_call *c, struct http_reply *rep);
void api_workspace_create(struct app *a, struct api_call *c, struct http_reply *rep);
void api_workspace_get(struct app *a, struct api_call *c, struct http_reply *rep);
void api_workspace_archive(struct app *a, struct api_call *c, struct http_reply *rep);
void api_workspace_unarchive(struct app *a, struct api_call *c, struct http_reply *rep);
void api_workspace_delete(struct app *a, struct api_call *c, struct http_reply *rep);
void api_workspace_projects(struct app *a, struct api_call *c, struct http_reply *rep);
void api_workspace_project_create(struct app *a, struct api_call *c, struct http_reply *rep);
void api_workspace_roles(struct app *a, struct api_call *c, struct http_reply *rep);
void api_workspace_role_assign(struct app *a, struct api_call *c, struct http_reply *rep);
void api_workspace_role_unassign(struct app *a, struct api_call *c, struct http_reply *rep);
void api_template_list(struct app *a, struct api_call *c, struct http_reply *rep);
void api_template_get(struct app *a, struct api_call *c, struct http_reply *rep);
void api_template_create(struct app *a, struct api_call *c, struct http_reply *rep);
void api_template_set(struct app *a, struct api_call *c, struct http_reply *rep);
void api_template_delete(struct app *a, struct api_call *c, struct http_reply *rep);
void api_project_list(struct app *a, struct api_call *c, struct http_reply *rep);
void api_project_get(struct app *a, struct api_call *c, struct http_reply *rep);
void api_project_archive(struct app *a, struct api_call *c, struct http_reply *rep);
void api_project_unarchive(struct app *a, struct api_call *c, struct http_reply *rep);
void api_project_delete(struct app *a, struct api_call *c, struct http_reply *rep);
void api_image_import(struct app *a, struct api_call *c, struct http_reply *rep);
void api_image_list(struct app *a, struct api_call *c, struct http_reply *rep);
void api_image_remove(struct app *a, struct api_call *c, struct http_reply *rep);
void api_task_create(struct app *a, struct api_call *c, struct http_reply *rep);
/* A TensorBoard task's argv from body's experiment_ids/trial_ids, each readable by the
 * caller (tboard_task_argv_free), or NULL after an error reply (400, 404, 500). */
char **api_tboard_argv(struct app *a, struct api_call *c, struct http_reply *rep);
void api_task_list(struct app *a, struct api_call *c, struct http_reply *rep);
void api_task_get(struct app *a, struct api_call *c, struct http_reply *rep);
void api_task_kill(struct app *a, struct api_call *c, struct http_reply *rep);
void api_task_logs(struct app *a, struct api_call *c, struct http_reply *rep);
/* GET /tasks/{id}/context: a command's context for its Slurm job (the task's token). */
void api_task_context(struct app *a, struct api_call *c, struct http_reply *rep);
/* Interactive tasks (api_proxy.c): a task registers its port; /proxy/<id>/ relays to it. */
void api_task_register(struct app *a, struct api_call *c, struct http_reply *rep);
/* Task t as the tasks API shows it (new reference; NULL when out of memory). */
json_t *api_task_view(struct store *store, const struct store_task *t);
/* POST /tasks with kind "shell" (s: the request's checked fields); GET /tasks/{id}/ssh-key. */
void api_shell_create(struct app *a, struct api_call *c, const struct exp_task_spec *s,
                      struct http_reply *rep);
void api_shell_key(struct app *a, struct api_call *c, struct http_reply *rep);
void api_proxy(struct app *a, struct api_call *c, struct http_reply *rep);

#endif
