/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Views: the JSON an API handler shows for an experiment.
 */
#include "exp.h"
#include "exp_internal.h"

#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>

#include "auth.h"
#include "authz.h"
#include "ckpt_gc.h"
#include "ckpt_owner.h"
#include "ckpt_path.h"
#include "exp_trial.h"
#include "expconf.h"
#include "lifecycle.h"
#include "searcher.h"

/* ---- views ------------------------------------------------------------------ */

/* Why an experiment in ERROR failed, into v's end_reason and exit_code: its
 * first failed trial's reason, else the array task whose launcher never
 * claimed a trial; both null in any other state. */
static void set_exp_end_reason(struct exp_rt *e, json_t *v)
{
	char buf[EXP_TRIAL_REASON_MAX + 64] = "";
	int has_code = 0, code = 0;
	if (e->state != FSM_ERROR) {
		json_object_set_new(v, "end_reason", json_null());
		json_object_set_new(v, "exit_code", json_null());
		return;
	}
	for (int i = 0; i < e->trials_cap && !buf[0]; i++) {
		const struct exp_trial *t = e->trials[i];
		if (t && t->state == FSM_ERROR && t->end_reason[0]) {
			snprintf(buf, sizeof(buf), "trial %lld: %s", (long long)t->id,
			         t->end_reason);
			has_code = t->has_exit_code;
			code = t->exit_code;
		}
	}
	int64_t max_restarts = e->max_restarts;
	for (int i = 0; i < e->nallocs && !buf[0]; i++) {
		const struct exp_alloc *al = &e->allocs[i];
		if (!al->present || al->failures <= max_restarts || !al->has_exit_status)
			continue;
		char last[48] = "exit status unknown";
		int st = al->exit_status;
		if (st >= 0 && WIFSIGNALED(st))
			snprintf(last, sizeof(last), "killed by signal %d", WTERMSIG(st));
		else if (st >= 0)
			snprintf(last, sizeof(last), "exit status %d", WEXITSTATUS(st));
		has_code = st >= 0;
		code = st < 0 ? 0 : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
		snprintf(buf, sizeof(buf),
		         "array task %d: det-launch ended %lld time%s without claiming a trial "
		         "(last: %s); see the task's output",
		         i, (long long)al->failures, al->failures == 1 ? "" : "s", last);
	}
	json_object_set_new(v, "end_reason", buf[0] ? json_string(buf) : json_null());
	json_object_set_new(v, "exit_code", has_code ? json_integer(code) : json_null());
}

json_t *exp_view_locked(struct exp_rt *e, int with_config)
{
	json_t *v = json_deep_copy(e->row);
	int done = 0, running = 0, n = 0, best_idx = -1;
	double best = 0;

	json_object_del(v, "alloc_token");
	json_object_del(v, "searcher_snapshot");
	json_object_set_new(v, "archived",
	                    json_boolean(json_is_true(json_object_get(e->row, "archived")) ||
	                                 exp_iget(e->row, "archived")));
	if (!with_config) {
		json_object_del(v, "config");
		json_object_del(v, "config_yaml");
	}
	for (int i = 0; i < e->trials_cap; i++) {
		struct exp_trial *t = e->trials[i];
		if (!t)
			continue;
		n++;
		done += fsm_is_terminal(t->state);
		running += !fsm_is_terminal(t->state) && t->state != FSM_PAUSED;
	}
	json_t *srch = json_object_get(json_object_get(e->row, "config"), "searcher");
	json_object_set_new(v, "searcher_metric", json_string(exp_sget(srch, "metric")));
	if (e->searcher && searcher_best(e->searcher, &best, &best_idx) == 0 && best_idx >= 0) {
		json_object_set_new(v, "best_metric", json_real(best));
		json_object_set_new(v, "best_trial_index", json_integer(best_idx));
	} else {
		/* After the searcher is gone: from the trials' rows. */
		int smaller = !json_is_false(json_object_get(srch, "smaller_is_better"));
		const struct exp_trial *bt = NULL;
		for (int i = 0; i < e->trials_cap; i++) {
			const struct exp_trial *t = e->trials[i];
			if (t && t->has_best &&
			    (!bt || (smaller ? t->best_metric < bt->best_metric
			                     : t->best_metric > bt->best_metric)))
				bt = t;
		}
		json_object_set_new(v, "best_metric",
		                    bt ? json_real(bt->best_metric) : json_null());
	}
	int64_t total = e->num_tasks;
	json_object_set_new(v, "trials_total", json_integer(total > n ? total : n));
	json_object_set_new(v, "trials_completed", json_integer(done));
	json_object_set_new(v, "trials_running", json_integer(running));
	json_object_set_new(
	    v, "trials_queued",
	    json_integer(total - n > 0 && !fsm_is_terminal(e->state) ? total - n : 0));
	set_exp_end_reason(e, v);
	return v;
}
