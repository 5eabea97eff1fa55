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
	int64_t total = exp_iget(e->row, "num_tasks");
	json_object_set_new(v, "trials_total", json_integer(total > n ? total : n));
	json_object_set_new(v, "trials_completed", json_integer(done));
	json_object_set_new(v, "trials_running", json_integer(running));
	json_object_set_new(
	    v, "trials_queued",
	    json_integer(total - n > 0 && !fsm_is_terminal(e->state) ? total - n : 0));
	return v;
}
