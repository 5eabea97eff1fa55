/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bringing the master up and down: the order matters. Up: state directory,
 * store (migrations), users and tokens, resource manager, HTTP listeners
 * (their address becomes the tasks' DET_MASTER), experiments (resubmitted
 * arrays, adopted tasks), scheduler. Down is the reverse, so no request can
 * reach a freed store and every queued write is committed before exit.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "api.h"
#include "app.h"
#include "ckpt_gc.h"
#include "exp.h"
#include "rate_limits.h"
#include "tboard.h"
#include "model.h"
#include "template.h"
#include "workspace.h"

static void set_master_url(struct app *a)
{
	const char *h = a->cfg->listen_host;
	int port = http_server_port(a->http);
	if (h && *h && port)
		snprintf(a->master_url, sizeof(a->master_url), "%s://%s:%d",
		         *a->cfg->tls_cert ? "https" : "http",
		         strcmp(h, "0.0.0.0") ? h : "127.0.0.1", port);
	else
		snprintf(a->master_url, sizeof(a->master_url), "unix:%s", a->cfg->socket_path);
}

int app_open(struct app *a, struct master_config *cfg, int serve, char *err, size_t errlen)
{
	char logdir[4096];

	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->log = (struct log_sink){
	    .level = cfg->log_level, .use_syslog = cfg->log_syslog, .ident = "det-master"};
	a->started_at = app_now();
	pthread_mutex_init(&a->lock, NULL);
	pthread_mutex_init(&a->stats_lock, NULL);
	a->users = json_object();
	a->tokens = json_object();
	if (!a->users || !a->tokens) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (mkdir(cfg->state_dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", cfg->state_dir, strerror(errno));
		return -1;
	}
	snprintf(logdir, sizeof(logdir), "%s/task-logs", cfg->state_dir);
	mkdir(logdir, 0700);
	a->store = store_open(cfg->db_path, err, errlen);
	if (!a->store || api_auth_init(a, err, errlen) || workspace_load(a, err, errlen) ||
	    template_load(a, err, errlen) || model_load(a, err, errlen))
		return -1;
	if (!strcmp(cfg->rm, "local")) {
		struct rm_local_config rc = {.launcher = cfg->launcher,
		                             .slots = cfg->slots,
		                             .grace_seconds = cfg->grace_seconds,
		                             .log_dir = logdir,
		                             .log = &a->log,
		                             .ca_file = *cfg->tls_ca_file ? cfg->tls_ca_file
		                                                          : cfg->tls_cert};
		a->rm = rm_local_new(&rc, err, errlen);
	} else if (!strcmp(cfg->rm, "slurm")) {
		struct rm_slurm_config sc = {
		    .launcher = *cfg->slurm_launcher ? cfg->slurm_launcher : cfg->launcher,
		    .output = *cfg->slurm_output ? cfg->slurm_output : NULL,
		    .work_dir = cfg->slurm_work_dir,
		    .poll_ms = cfg->slurm_poll_ms,
		    .grace_seconds = cfg->grace_seconds,
		    .walltime_signal_seconds = cfg->slurm_usr1_lead_s,
		    .baseline_per_task = cfg->slurm_baseline,
		    .log = &a->log,
		    .det_conf = NULL,
		    .container_runtime = &cfg->container_runtime,
		    .container_oci_runtime = &cfg->container_oci_runtime};
		a->rm = rm_slurm_new(&sc, err, errlen);
	} else {
		snprintf(err, errlen, "resource manager %s is not built into this det-master",
		         cfg->rm);
	}
	if (!a->rm)
		return -1;
	/* Requests that arrive before the store is loaded wait for it (a restarted
	 * master must not answer "trial not found" to trials that kept running). */
	pthread_mutex_lock(&a->lock);
	if (serve) {
		a->tboard = tboard_start(a, err, errlen);
		if (!a->tboard)
			log_msg(&a->log, LOG_LEVEL_WARN, "TensorBoard event files are off: %s",
			        err);
		/* Without the worker GC would delete directories under the lock. */
		a->ckpt_gc = ckpt_gc_worker_start(a, err, errlen);
		if (!a->ckpt_gc) {
			pthread_mutex_unlock(&a->lock);
			return -1;
		}
		struct http_server_ops ops = api_ops_template;
		ops.ctx = a;
		struct http_server_config hc = {
		    .listen_host = cfg->listen_host,
		    .listen_port = cfg->listen_port,
		    .socket_path = cfg->socket_path,
		    .threads = cfg->http_threads,
		    .tls_cert = cfg->tls_cert,
		    .tls_key = cfg->tls_key,
		    .max_connections = cfg->limits.max_connections,
		    .max_connections_per_ip = cfg->limits.max_connections_per_ip,
		    .idle_timeout_s = cfg->limits.idle_timeout_seconds,
		    .header_timeout_s = cfg->limits.header_timeout_seconds,
		    .request_timeout_s = cfg->limits.request_timeout_seconds};
		a->http = http_server_start(&hc, &ops, err, errlen);
		if (!a->http) {
			pthread_mutex_unlock(&a->lock);
			return -1;
		}
	}
	set_master_url(a);
	int rc = exp_load_all(a, err, errlen);
	if (!rc && serve)
		rc = exp_task_adopt_locked(a, err, errlen);
	pthread_mutex_unlock(&a->lock);
	if (rc || (serve && exp_ticker_start(a, err, errlen)))
		return -1;
	if (serve && *cfg->listen_host && !*cfg->tls_cert && strncmp(cfg->listen_host, "127.", 4))
		log_msg(&a->log, LOG_LEVEL_WARN,
		        "listening on %s without TLS: passwords and tokens cross the network in "
		        "clear text (configure tls: {cert, key}, or listen on 127.0.0.1)",
		        cfg->listen_host);
	log_msg(&a->log, LOG_LEVEL_INFO, "listening on %s%s%s (database %s, resource manager %s)",
	        a->master_url, *cfg->socket_path ? " and unix:" : "", cfg->socket_path,
	        cfg->db_path, cfg->rm);
	return 0;
}

void app_close(struct app *a)
{
	http_server_stop(a->http);
	a->http = NULL;
	tboard_stop(a->tboard); /* after the server: no report can queue more */
	a->tboard = NULL;
	if (a->rm)
		exp_ticker_stop(a);
	ckpt_gc_worker_stop(a->ckpt_gc); /* after the ticker: no experiment ends any more */
	a->ckpt_gc = NULL;
	store_close(a->store);
	a->store = NULL;
	exp_free_all(a);
	if (a->rm)
		a->rm->ops->free(a->rm);
	a->rm = NULL;
	json_decref(a->users);
	json_decref(a->tokens);
	json_decref(a->workspaces);
	json_decref(a->projects);
	json_decref(a->workspace_roles);
	json_decref(a->templates);
	json_decref(a->models);
	json_decref(a->model_versions);
	a->workspaces = a->projects = a->workspace_roles = a->templates = NULL;
	a->models = a->model_versions = NULL;
	exp_index_free(&a->trial_ix);
	a->users = a->tokens = NULL;
	limits_free(a->limits);
	a->limits = NULL;
	pthread_mutex_destroy(&a->lock);
	pthread_mutex_destroy(&a->stats_lock);
}
