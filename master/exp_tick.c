/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The scheduler tick: a thread that polls the resource manager without
 * the lock and applies its task events under it (restart-or-fail for lost
 * tasks, requeue, early failures), retrying failed writes in order.
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

#define TICK_MS 100
#define TRIM_TICKS 50 /* 5 s */

/* Failed writes (disk full) are retried every RETRY_TICKS (1 s). */
#define RETRY_TICKS 10

/* ---- resource manager events and start-up -------------------------------------- */

static void task_failed_early(struct app *a, struct exp_rt *e, struct exp_alloc *al,
                              const struct rm_task_event *ev);

/* Apply one task event. 0, or -1 when a write failed: nothing of the event
 * that failed is in memory, and applying it again later is safe (the ticker
 * retries, in order). */
int exp_on_task_event(struct app *a, const struct rm_task_event *ev)
{
	char err[256];
	int rv = 0;
	if (ev->experiment_id < 0)
		return exp_task_on_rm_event(a, ev);
	struct exp_rt *e = exp_find_locked(a, ev->experiment_id);
	if (!e)
		return 0;
	if (ev->array_task < 0 || ev->array_task >= e->nallocs) {
		log_msg(&a->log, LOG_LEVEL_WARN, "experiment %lld: event of unknown task %d",
		        (long long)e->id, ev->array_task);
		return 0;
	}
	struct exp_alloc arow = exp_alloc_copy(e, ev->array_task);
	if (ev->kind == RM_TASK_STARTED) {
		arow.pid = ev->pid;
		arow.pid_start = ev->pid_start;
		arow.state = EXP_ALLOC_RUNNING;
	} else {
		arow.pid = 0;
		arow.pid_start = 0;
		arow.state = ev->requeued ? EXP_ALLOC_PENDING : EXP_ALLOC_ENDED;
		arow.has_exit_status = 1;
		arow.exit_status = ev->wait_status;
	}
	json_t *aj = exp_alloc_row(e->id, ev->array_task, &arow);
	struct store_op op = exp_put("allocations", aj);
	int rc = aj ? exp_commit(a, e, &op, 1, NULL, err, sizeof(err)) : -1;
	json_decref(aj);
	if (rc)
		return -1;
	struct exp_alloc *al = &e->allocs[ev->array_task];
	*al = arow;
	if (ev->kind != RM_TASK_ENDED)
		return 0;
	/* One task canceled in Slurm before it claimed a trial: no trial to end, and the
	 * experiment would wait for it forever; it stops as if the array was canceled. */
	int lone_cancel = ev->task_canceled && !exp_trial_by_index(e, al->trial_index);
	if ((ev->canceled || lone_cancel) && !fsm_is_terminal(e->state) &&
	    !fsm_is_stopping(e->state)) {
		/* Canceled in Slurm (scancel of the array): the experiment stops. */
		log_msg(&a->log, LOG_LEVEL_WARN, "experiment %lld: task %d canceled outside det",
		        (long long)e->id, ev->array_task);
		pthread_mutex_unlock(&a->lock);
		enum exp_status status = exp_user_event(a, e->id, FSM_EV_KILL, err, sizeof(err));
		pthread_mutex_lock(&a->lock);
		e = exp_find_locked(a, ev->experiment_id);
		if (!e || ev->array_task >= e->nallocs)
			return 0;
		if (status == EXP_INTERNAL)
			return -1;
		al = &e->allocs[ev->array_task];
	}
	log_msg(&a->log, LOG_LEVEL_INFO, "experiment %lld task %d ended (status %d)",
	        (long long)e->id, ev->array_task, ev->wait_status);
	/* The task ended with its trial still live: the launcher died without an exit report. */
	struct exp_trial *t = exp_trial_by_index(e, al->trial_index);
	struct lifecycle_decision d = {LIFECYCLE_NONE, 0, 0, FSM_ERROR};
	if (ev->requeue_refused) {
		/* The manager refused to run the task again: its trial will not come back. */
		if (t && !fsm_is_terminal(t->state)) {
			struct exp_trial row = *t;
			snprintf(row.end_reason, sizeof(row.end_reason), "%s", "REQUEUE_REFUSED");
			if (exp_finish_trial(a, e, &row, FSM_ERROR, err, sizeof(err)))
				rv = -1;
		}
		exp_settle_and_commit(a,
		                      e); /* a failure here is retried by the ticker's reconcile */
		http_server_wake(a->http);
		return rv;
	}
	if ((ev->task_canceled || ev->reason[0]) && !ev->requeued && t &&
	    !fsm_is_terminal(t->state) && !fsm_is_stopping(e->state)) {
		/* Slurm ended the task for good (an scancel of this task, its time limit, a
		 * failed node, memory): its trial ends with Slurm's reason, not restarted, as
		 * det trial kill would end it; the experiment goes on with its other trials. */
		struct exp_trial row = *t;
		snprintf(row.end_reason, sizeof(row.end_reason), "%s", ev->reason);
		if (exp_finish_trial(a, e, &row, ev->task_canceled ? FSM_CANCELED : FSM_ERROR, err,
		                     sizeof(err)))
			rv = -1;
		exp_settle_and_commit(a, e);
		http_server_wake(a->http);
		return rv;
	}
	if (t) {
		struct lifecycle_trial_view v = {t->state, e->state, t->restarts, e->max_restarts,
		                                 t->preempted};
		d = lifecycle_restart_or_fail(&v, ev->requeued ? LIFECYCLE_EV_REQUEUED
		                                               : LIFECYCLE_EV_TASK_LOST);
	}
	if (d.action == LIFECYCLE_PREEMPTED) {
		/* Requeued by the manager (scontrol requeue, node failure, preemption):
		 * the next claim resumes the trial without counting a restart. */
		struct exp_trial row = *t;
		row.preempted = d.preempted;
		if (exp_trial_commit(a, e, &row, err, sizeof(err)) != EXP_OK)
			rv = -1;
	} else if (d.action == LIFECYCLE_REQUEUE) {
		a->rm->ops->requeue(a->rm, e->rm_job, ev->array_task, err, sizeof(err));
	} else if (d.action == LIFECYCLE_WAIT) {
		/* resumes on activate */
	} else if (d.action == LIFECYCLE_FAIL) {
		struct exp_trial row = *t;
		if (!row.end_reason[0])
			snprintf(row.end_reason, sizeof(row.end_reason), "%s",
			         ev->reason[0] ? ev->reason : "TASK_EXITED");
		if (exp_finish_trial(a, e, &row, d.end_state, err, sizeof(err)))
			rv = -1;
	} else if (t && al->next_index >= 0 && e->state == FSM_ACTIVE) {
		a->rm->ops->requeue(a->rm, e->rm_job, ev->array_task, err, sizeof(err));
	} else if (!t && ev->wait_status != 0 && !ev->requeued && e->state == FSM_ACTIVE) {
		task_failed_early(a, e, al, ev);
	}
	exp_settle_and_commit(a, e); /* a failure here is retried by the ticker's reconcile */
	http_server_wake(a->http);
	return rv;
}

/* A task that exited without claiming anything: the launcher cannot run.
 * Retry up to max_restarts times, then the experiment errors out. */
static void task_failed_early(struct app *a, struct exp_rt *e, struct exp_alloc *al,
                              const struct rm_task_event *ev)
{
	char err[256];
	int64_t failures = al->failures + 1;
	json_t *upd = json_pack("{s:I, s:i, s:I}", "experiment_id", (json_int_t)e->id, "array_task",
	                        ev->array_task, "failures", (json_int_t)failures);
	struct store_op op = {.kind = STORE_UPDATE, .table = "allocations", .row = upd};
	if (upd && exp_commit(a, e, &op, 1, NULL, err, sizeof(err)) == 0)
		al->failures = failures;
	json_decref(upd);
	if (failures <= e->max_restarts) {
		a->rm->ops->requeue(a->rm, e->rm_job, ev->array_task, err, sizeof(err));
		return;
	}
	log_msg(&a->log, LOG_LEVEL_ERROR,
	        "experiment %lld: task %d failed %lld times before claiming a trial (status %d)",
	        (long long)e->id, ev->array_task, (long long)failures, ev->wait_status);
	json_t *row = json_deep_copy(e->row);
	exp_set_state(row, fsm_experiment_next(FSM_ACTIVE, FSM_EV_FAIL));
	op = exp_put("experiments", row);
	if (exp_commit(a, e, &op, 1, NULL, err, sizeof(err)) == 0) {
		exp_swap_row(e, row);
		exp_trials_event(a, e, FSM_EV_KILL);
		a->rm->ops->cancel(a->rm, e->rm_job, err, sizeof(err));
	} else {
		json_decref(row);
	}
}

/* Task events whose writes failed (disk full): the ticker's own, applied
 * again in arrival order until the store takes them. */
struct event_queue {
	struct rm_task_event *ev;
	size_t n, cap;
};

/* Apply events; once one fails, it and every later one wait in q. Lock held. */
static void apply_events(struct app *a, struct event_queue *q, const struct rm_task_event *ev,
                         int n)
{
	for (int i = 0; i < n; i++) {
		if (q->n == 0 && exp_on_task_event(a, &ev[i]) == 0)
			continue;
		if (q->n == q->cap) {
			size_t cap = q->cap ? q->cap * 2 : 64;
			struct rm_task_event *grown = realloc(q->ev, cap * sizeof(*grown));
			if (!grown) {
				log_msg(&a->log, LOG_LEVEL_ERROR,
				        "experiment %lld task %d: event lost (out of memory)",
				        (long long)ev[i].experiment_id, ev[i].array_task);
				continue;
			}
			q->ev = grown;
			q->cap = cap;
		}
		q->ev[q->n++] = ev[i];
	}
}

/* Apply the waiting events in order, up to the first that fails again. Lock held. */
static void retry_events(struct app *a, struct event_queue *q)
{
	size_t done = 0;
	if (q->n == 0)
		return; /* q->ev may still be NULL */
	while (done < q->n && exp_on_task_event(a, &q->ev[done]) == 0)
		done++;
	memmove(q->ev, q->ev + done, (q->n - done) * sizeof(*q->ev));
	q->n -= done;
	if (done)
		log_msg(&a->log, LOG_LEVEL_INFO, "%zu delayed task events applied, %zu waiting",
		        done, q->n);
}

/* Settle every live experiment again: an experiment whose settling write
 * failed must not stay ACTIVE or STOPPING_* with nothing left to run.
 * 0 when every write went through. Lock held. */
static int reconcile(struct app *a)
{
	int rv = 0;
	for (struct exp_rt *e = a->exps; e; e = e->next)
		if (!fsm_is_terminal(e->state) && exp_settle_and_commit(a, e))
			rv = -1;
	return rv;
}

static void *ticker_main(void *arg)
{
	struct app *a = arg;
	struct rm_task_event ev[64];
	unsigned long ticks = 0;
	uint64_t last_batches = 0, batches, ops;
	uint64_t last_failures = 0, failures;
	double commit_s;
	int trim_due = 0, reconcile_due = 1; /* once at start: settles start-up could not write */
	struct event_queue waiting = {0};

	for (;;) {
		pthread_mutex_lock(&a->lock);
		int stop = a->stopping;
		pthread_mutex_unlock(&a->lock);
		if (stop)
			break;
		if ((waiting.n || reconcile_due) && ticks % RETRY_TICKS == 0) {
			pthread_mutex_lock(&a->lock);
			retry_events(a, &waiting);
			if (!waiting.n && reconcile_due)
				reconcile_due = reconcile(a) != 0;
			pthread_mutex_unlock(&a->lock);
		}
		int n = a->rm->ops->poll(a->rm, ev, 64);
		if (n > 0) {
			pthread_mutex_lock(&a->lock);
			apply_events(a, &waiting, ev, n);
			pthread_mutex_unlock(&a->lock);
		}
		failures = store_write_failures(a->store);
		if (failures != last_failures)
			reconcile_due = 1;
		last_failures = failures;
		if (n < 64) {
			struct timespec ts = {0, TICK_MS * 1000000L};
			nanosleep(&ts, NULL);
		}
		/* Bursts of requests leave freed heap behind in every thread's
		 * arena; hand it back to the system now and then, at a moment
		 * without commits (a trim holds each arena's lock while it
		 * returns pages, which would stall requests in flight). */
		if (++ticks % TRIM_TICKS == 0)
			trim_due = 1;
		store_stats(a->store, &batches, &ops, &commit_s);
		if (trim_due && batches == last_batches) {
			malloc_trim(0);
			trim_due = 0;
		}
		last_batches = batches;
	}
	if (waiting.n)
		log_msg(&a->log, LOG_LEVEL_WARN,
		        "%zu task events were never written (database unavailable)", waiting.n);
	free(waiting.ev);
	return NULL;
}

int exp_ticker_start(struct app *a, char *err, size_t errlen)
{
	if (pthread_create(&a->ticker, NULL, ticker_main, a) != 0) {
		snprintf(err, errlen, "cannot start the scheduler thread");
		return -1;
	}
	a->ticker_started = 1;
	return 0;
}

void exp_ticker_stop(struct app *a)
{
	pthread_mutex_lock(&a->lock);
	a->stopping = 1;
	pthread_mutex_unlock(&a->lock);
	if (a->ticker_started)
		pthread_join(a->ticker, NULL);
	a->ticker_started = 0;
}
