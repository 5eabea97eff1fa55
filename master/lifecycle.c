/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pure lifecycle rules of the experiment engine. Restart-or-fail: a crash
 * restarts an active trial of an active experiment while max_restarts is not
 * spent, otherwise the trial fails; a requeue by the resource manager
 * (preemption, node failure) resumes the trial without spending a restart,
 * so the budget is spent on crashes only. Non-obvious: a crash restarts in
 * the same allocation (the restart is counted now), while a task that died
 * without an exit report is requeued and its next claim counts it. Also here:
 * which trial a claim gets, which checkpoints garbage collection deletes, and
 * the task state machine (a table) shared by trials and the other task kinds,
 * and a replay of stored events through these rules (what a restarted master
 * rebuilds).
 */
#include "lifecycle.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const char *const action_names[LIFECYCLE_NACTIONS] = {
    "none", "restart", "requeue", "preempted", "wait", "fail", "end",
};

const char *lifecycle_action_name(enum lifecycle_action action)
{
	return action >= 0 && action < LIFECYCLE_NACTIONS ? action_names[action] : "unknown";
}

/* The state a failing trial settles in: FAIL where the table allows it, then ENDED. */
static enum fsm_state failed_state(enum fsm_state from)
{
	int next = fsm_trial_next(from, FSM_EV_FAIL);
	next = fsm_trial_next(next >= 0 ? (enum fsm_state)next : from, FSM_EV_ENDED);
	return next >= 0 ? (enum fsm_state)next : FSM_ERROR;
}

/* An active trial of an active experiment with a restart left. */
static int may_restart(const struct lifecycle_trial_view *t)
{
	return t->trial == FSM_ACTIVE && t->experiment == FSM_ACTIVE &&
	       t->restarts < t->max_restarts;
}

struct lifecycle_decision lifecycle_restart_or_fail(const struct lifecycle_trial_view *t,
                                                    enum lifecycle_event ev)
{
	struct lifecycle_decision d = {LIFECYCLE_NONE, t->restarts, t->preempted, t->trial};

	if (fsm_is_terminal(t->trial))
		return d;
	switch (ev) {
	case LIFECYCLE_EV_REQUEUED:
		if (!t->preempted) {
			d.action = LIFECYCLE_PREEMPTED;
			d.preempted = 1;
		}
		return d;
	case LIFECYCLE_EV_CRASHED:
		if (t->trial == FSM_PAUSED) {
			/* Stopped by a pause: it resumes on the next claim. */
			d.action = LIFECYCLE_PREEMPTED;
			d.preempted = 1;
		} else if (may_restart(t)) {
			d.action = LIFECYCLE_RESTART;
			d.restarts = t->restarts + 1;
		} else {
			d.action = LIFECYCLE_FAIL;
			d.end_state = failed_state(t->trial);
		}
		return d;
	case LIFECYCLE_EV_TASK_LOST:
		if (may_restart(t)) {
			d.action = LIFECYCLE_REQUEUE;
		} else if (t->trial == FSM_PAUSED) {
			d.action = LIFECYCLE_WAIT;
		} else {
			d.action = LIFECYCLE_FAIL;
			d.end_state = failed_state(t->trial);
		}
		return d;
	case LIFECYCLE_EV_NEVENTS:
		break;
	}
	return d;
}

enum lifecycle_exit_reason lifecycle_exit_reason_parse(const char *text)
{
	if (!text || !*text)
		return LIFECYCLE_EXIT_NONE;
	if (!strcmp(text, "INVALID_HP"))
		return LIFECYCLE_EXIT_INVALID_HP;
	if (!strcmp(text, "ERRORED"))
		return LIFECYCLE_EXIT_ERRORED;
	if (!strcmp(text, "USER_REQUESTED_STOP"))
		return LIFECYCLE_EXIT_STOP_REQUESTED;
	return LIFECYCLE_EXIT_OTHER;
}

struct lifecycle_decision lifecycle_trial_exit(const struct lifecycle_trial_view *t, int failed,
                                               enum lifecycle_exit_reason reason)
{
	struct lifecycle_decision d = {LIFECYCLE_NONE, t->restarts, t->preempted, t->trial};

	if (fsm_is_terminal(t->trial))
		return d;
	if (t->trial == FSM_PAUSED) {
		/* Preempted by a pause: it resumes on the next claim. */
		d.action = LIFECYCLE_PREEMPTED;
		d.preempted = 1;
	} else if (reason == LIFECYCLE_EXIT_INVALID_HP || reason == LIFECYCLE_EXIT_ERRORED) {
		d.action = LIFECYCLE_FAIL;
		d.end_state = FSM_ERROR;
	} else if (!failed || reason == LIFECYCLE_EXIT_STOP_REQUESTED) {
		int next = fsm_trial_next(t->trial, FSM_EV_ENDED);
		d.action = LIFECYCLE_END;
		d.end_state = next >= 0 ? (enum fsm_state)next : FSM_COMPLETED;
	} else {
		d = lifecycle_restart_or_fail(t, LIFECYCLE_EV_CRASHED);
	}
	return d;
}

/* ---- experiments ------------------------------------------------------------- */

static const char *const rm_command_names[LIFECYCLE_RM_NCOMMANDS] = {
    "none",
    "hold",
    "release",
    "cancel",
};

const char *lifecycle_rm_command_name(enum lifecycle_rm_command c)
{
	return c >= 0 && c < LIFECYCLE_RM_NCOMMANDS ? rm_command_names[c] : "unknown";
}

struct lifecycle_user_decision lifecycle_user_event(enum fsm_state from, enum fsm_event ev)
{
	struct lifecycle_user_decision d = {0, from, LIFECYCLE_RM_NONE};
	int to = fsm_experiment_next(from, ev);
	if (to < 0)
		return d;
	d.allowed = 1;
	d.to = (enum fsm_state)to;
	if (ev == FSM_EV_PAUSE)
		d.rm = LIFECYCLE_RM_HOLD;
	else if (ev == FSM_EV_ACTIVATE)
		d.rm = LIFECYCLE_RM_RELEASE;
	else if (ev == FSM_EV_CANCEL || ev == FSM_EV_KILL)
		d.rm = LIFECYCLE_RM_CANCEL;
	return d;
}

struct lifecycle_settlement lifecycle_settle(const struct lifecycle_exp_view *v)
{
	struct lifecycle_settlement d = {0, v->state, 0, 0};
	if (d.state == FSM_ACTIVE && v->searcher_done) {
		int bad = v->trials_errored && !v->trials_completed;
		int next = fsm_experiment_next(d.state, bad ? FSM_EV_FAIL : FSM_EV_DONE);
		if (next >= 0) {
			d.state = (enum fsm_state)next;
			d.changed = 1;
		}
	}
	if (fsm_is_stopping(d.state) && v->trials_live == 0) {
		int next = fsm_experiment_next(d.state, FSM_EV_ENDED);
		if (next >= 0)
			d.state = (enum fsm_state)next;
		d.changed = 1;
	}
	/* Only a completed experiment did all its work: a canceled, killed or
	 * failed one keeps the searcher's progress (what was done). */
	d.progress_done = d.changed && d.state == FSM_COMPLETED;
	d.ended = d.changed && fsm_is_terminal(d.state);
	return d;
}

struct lifecycle_submitted lifecycle_array_submitted(int exists, int has_job, enum fsm_state state,
                                                     int held)
{
	struct lifecycle_submitted d = {0, LIFECYCLE_RM_NONE};
	if (!exists || has_job) {
		/* Deleted meanwhile, or another job runs it: nothing would watch this one. */
		d.rm = LIFECYCLE_RM_CANCEL;
		return d;
	}
	d.record = 1;
	if (state == FSM_PAUSED)
		d.rm = LIFECYCLE_RM_HOLD;
	else if (fsm_is_stopping(state) || fsm_is_terminal(state))
		d.rm = LIFECYCLE_RM_CANCEL;
	else if (held)
		d.rm = LIFECYCLE_RM_RELEASE; /* activated meanwhile */
	return d;
}

/* ---- claims ------------------------------------------------------------------ */

static const char *const claim_names[LIFECYCLE_CLAIM_NACTIONS] = {
    "out_of_range", "paused", "done", "new", "finish", "resume",
};

const char *lifecycle_claim_action_name(enum lifecycle_claim_action action)
{
	return action >= 0 && action < LIFECYCLE_CLAIM_NACTIONS ? claim_names[action] : "unknown";
}

struct lifecycle_claim lifecycle_claim_decide(const struct lifecycle_claim_view *v)
{
	struct lifecycle_claim d = {LIFECYCLE_CLAIM_DONE, -1, v->restarts, 0, v->trial};

	if (v->task < 0 || v->task >= v->num_tasks) {
		d.action = LIFECYCLE_CLAIM_OUT_OF_RANGE;
	} else if (v->experiment == FSM_PAUSED) {
		d.action = LIFECYCLE_CLAIM_PAUSED;
	} else if (v->experiment != FSM_ACTIVE || !v->searching) {
		d.action = LIFECYCLE_CLAIM_DONE;
	} else if (!v->has_trial) {
		d.action = LIFECYCLE_CLAIM_NEW;
		d.index = v->task; /* task i's first trial is trial i */
	} else if (fsm_is_terminal(v->trial)) {
		d.action = v->next_index >= 0 ? LIFECYCLE_CLAIM_NEW : LIFECYCLE_CLAIM_DONE;
		d.index = v->next_index;
	} else if (fsm_is_stopping(v->trial)) {
		int next = fsm_trial_next(v->trial, FSM_EV_ENDED);
		d.action = LIFECYCLE_CLAIM_FINISH;
		d.end_state = next >= 0 ? (enum fsm_state)next : FSM_CANCELED;
	} else {
		d.action = LIFECYCLE_CLAIM_RESUME;
		d.restarts = v->preempted ? v->restarts : v->restarts + 1;
		d.rotate_token = !v->has_secret;
	}
	return d;
}

/* ---- searcher decisions ------------------------------------------------------- */

struct lifecycle_validation lifecycle_validation_apply(const struct lifecycle_validation_view *v)
{
	struct lifecycle_validation d = {v->trial, v->has_best, v->best};
	if (v->has_value &&
	    (!v->has_best || (v->smaller_is_better ? v->value < v->best : v->value > v->best))) {
		d.has_best = 1;
		d.best = v->value;
	}
	if (v->stop) {
		int next = fsm_trial_next(v->trial, FSM_EV_DONE);
		if (next >= 0)
			d.state = (enum fsm_state)next;
	}
	return d;
}

struct lifecycle_replacement lifecycle_replacement_owed(int64_t replacement,
                                                        enum fsm_state experiment, int has_job,
                                                        int task_gone)
{
	struct lifecycle_replacement d = {replacement >= 0 ? replacement : -1, 0};
	d.requeue = replacement >= 0 && experiment == FSM_ACTIVE && has_job && task_gone;
	return d;
}

/* ---- checkpoint garbage collection ------------------------------------------- */

enum gc_order { GC_BEST, GC_TRIAL_BEST, GC_TRIAL_LATEST };

struct gc_sort {
	const struct lifecycle_ckpt *c;
	enum gc_order order;
	int smaller;
};

static int gc_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct gc_sort *o = ctx;
	size_t ia = *(const size_t *)pa, ib = *(const size_t *)pb;
	const struct lifecycle_ckpt *a = &o->c[ia], *b = &o->c[ib];

	if (o->order != GC_BEST && a->trial_id != b->trial_id)
		return a->trial_id < b->trial_id ? -1 : 1;
	if (o->order != GC_TRIAL_LATEST) {
		if (a->has_metric != b->has_metric)
			return b->has_metric - a->has_metric; /* with a metric first */
		if (a->has_metric && a->metric != b->metric)
			return (o->smaller ? a->metric < b->metric : a->metric > b->metric) ? -1
			                                                                    : 1;
	}
	if (a->steps != b->steps)
		return a->steps > b->steps ? -1 : 1; /* newest first */
	return ia < ib ? -1 : ia > ib;
}

/* Keep the first count of each group (the whole list, or each trial) in idx's order. */
static void gc_keep_first(const struct lifecycle_ckpt *c, const size_t *idx, size_t k,
                          enum gc_order order, int count, unsigned char *keep)
{
	int left = count;
	for (size_t i = 0; i < k; i++) {
		const struct lifecycle_ckpt *x = &c[idx[i]];
		if (order != GC_BEST && (i == 0 || c[idx[i - 1]].trial_id != x->trial_id))
			left = count;
		if (left <= 0 || (order != GC_TRIAL_LATEST && !x->has_metric))
			continue;
		keep[idx[i]] = 1;
		left--;
	}
}

int lifecycle_gc_select(const struct lifecycle_ckpt *c, size_t n,
                        const struct lifecycle_gc_policy *p, unsigned char *drop)
{
	int rv = -1;
	size_t k = 0;
	size_t *idx = malloc((n ? n : 1) * sizeof(*idx));
	unsigned char *keep = calloc(n ? n : 1, 1);

	if (!idx || !keep)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (!c[i].deleted && !c[i].is_protected)
			idx[k++] = i;
	static const enum gc_order orders[] = {GC_BEST, GC_TRIAL_BEST, GC_TRIAL_LATEST};
	const int counts[] = {p->experiment_best, p->trial_best, p->trial_latest};
	for (size_t o = 0; o < 3; o++) {
		struct gc_sort ctx = {c, orders[o], p->smaller_is_better};
		qsort_r(idx, k, sizeof(*idx), gc_cmp, &ctx);
		gc_keep_first(c, idx, k, orders[o], counts[o], keep);
	}
	for (size_t i = 0; i < n; i++)
		drop[i] = !c[i].deleted && !c[i].is_protected && !keep[i];
	rv = 0;
fail:
	free(idx);
	free(keep);
	return rv;
}

/* ---- tasks --------------------------------------------------------------------- */

#define Q LIFECYCLE_TASK_QUEUED
#define S LIFECYCLE_TASK_STARTING
#define R LIFECYCLE_TASK_RUNNING
#define T LIFECYCLE_TASK_TERMINATED

/* Every allowed transition; anything else is refused. */
static const struct {
	enum lifecycle_task_state from;
	enum lifecycle_task_event ev;
	struct lifecycle_task_step step;
} task_table[] = {
    {Q, LIFECYCLE_TASK_EV_ALLOCATED, {1, S, 0, 0, 0}},
    {Q, LIFECYCLE_TASK_EV_KILLED, {1, T, 0, 1, 0}},
    {S, LIFECYCLE_TASK_EV_STARTED, {1, R, 1, 0, 0}},
    {S, LIFECYCLE_TASK_EV_EXITED, {1, T, 0, 1, 1}},
    {S, LIFECYCLE_TASK_EV_KILLED, {1, T, 0, 1, 1}},
    {S, LIFECYCLE_TASK_EV_REQUEUED, {1, Q, 0, 0, 1}},
    {R, LIFECYCLE_TASK_EV_EXITED, {1, T, 0, 1, 1}},
    {R, LIFECYCLE_TASK_EV_KILLED, {1, T, 0, 1, 1}},
    {R, LIFECYCLE_TASK_EV_REQUEUED, {1, Q, 0, 0, 1}},
};

#undef Q
#undef S
#undef R
#undef T

struct lifecycle_task_step lifecycle_task_next(enum lifecycle_task_state from,
                                               enum lifecycle_task_event ev)
{
	struct lifecycle_task_step refused = {0, from, 0, 0, 0};
	for (size_t i = 0; i < sizeof(task_table) / sizeof(task_table[0]); i++)
		if (task_table[i].from == from && task_table[i].ev == ev)
			return task_table[i].step;
	return refused;
}

static const char *const task_kinds[LIFECYCLE_TASK_NKINDS] = {
    "trial", "command", "notebook", "shell", "tensorboard",
};
static const char *const task_states[LIFECYCLE_TASK_NSTATES] = {
    "QUEUED",
    "STARTING",
    "RUNNING",
    "TERMINATED",
};
static const char *const task_events[LIFECYCLE_TASK_EV_NEVENTS] = {
    "allocated", "started", "exited", "killed", "requeued",
};

static int name_index(const char *const *names, int n, const char *name)
{
	for (int i = 0; name && i < n; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

const char *lifecycle_task_kind_name(enum lifecycle_task_kind k)
{
	return k >= 0 && k < LIFECYCLE_TASK_NKINDS ? task_kinds[k] : "unknown";
}

int lifecycle_task_kind_parse(const char *name)
{
	return name_index(task_kinds, LIFECYCLE_TASK_NKINDS, name);
}

const char *lifecycle_task_state_name(enum lifecycle_task_state s)
{
	return s >= 0 && s < LIFECYCLE_TASK_NSTATES ? task_states[s] : "unknown";
}

int lifecycle_task_state_parse(const char *name)
{
	return name_index(task_states, LIFECYCLE_TASK_NSTATES, name);
}

const char *lifecycle_task_event_name(enum lifecycle_task_event ev)
{
	return ev >= 0 && ev < LIFECYCLE_TASK_EV_NEVENTS ? task_events[ev] : "unknown";
}

/* ---- replay ------------------------------------------------------------------ */

void lifecycle_replay_init(struct lifecycle_replay_state *s, int64_t num_tasks,
                           int64_t max_restarts, int smaller_is_better)
{
	memset(s, 0, sizeof(*s));
	s->experiment = FSM_ACTIVE;
	s->num_tasks = num_tasks < 1                            ? 1
	               : num_tasks > LIFECYCLE_REPLAY_MAX_TASKS ? LIFECYCLE_REPLAY_MAX_TASKS
	                                                        : num_tasks;
	s->max_restarts = max_restarts;
	s->smaller_is_better = smaller_is_better;
}

static struct lifecycle_trial_view replay_view(const struct lifecycle_replay_state *s,
                                               const struct lifecycle_replay_trial *t)
{
	struct lifecycle_trial_view v = {t->state, s->experiment, t->restarts, s->max_restarts,
	                                 t->preempted};
	return v;
}

/* A crash, exit or manager event's decision, applied as the engine does. */
static void replay_decision(struct lifecycle_replay_trial *t, const struct lifecycle_decision *d)
{
	switch (d->action) {
	case LIFECYCLE_RESTART:
	case LIFECYCLE_PREEMPTED:
		t->restarts = d->restarts;
		t->preempted = d->preempted;
		break;
	case LIFECYCLE_FAIL:
	case LIFECYCLE_END:
		t->state = d->end_state;
		break;
	default: /* requeue, wait, none: the trial's record stays */
		break;
	}
}

static void replay_claim(struct lifecycle_replay_state *s, int task)
{
	struct lifecycle_replay_trial *t = &s->trials[task];
	struct lifecycle_claim_view v = {
	    .task = task,
	    .num_tasks = s->num_tasks,
	    .experiment = s->experiment,
	    .searching = !s->searcher_done,
	    .has_trial = t->exists,
	    .trial = t->state,
	    .next_index = -1,
	    .restarts = t->restarts,
	    .preempted = t->preempted,
	    .has_secret = 1,
	};
	struct lifecycle_claim d = lifecycle_claim_decide(&v);

	if (d.action == LIFECYCLE_CLAIM_NEW) {
		memset(t, 0, sizeof(*t));
		t->exists = 1;
		t->state = FSM_ACTIVE;
	} else if (d.action == LIFECYCLE_CLAIM_RESUME) {
		t->restarts = d.restarts;
		t->preempted = 0;
		t->state = FSM_ACTIVE;
	} else if (d.action == LIFECYCLE_CLAIM_FINISH) {
		t->state = d.end_state;
	}
}

static void replay_validation(struct lifecycle_replay_state *s, struct lifecycle_replay_trial *t,
                              const struct lifecycle_replay_event *ev)
{
	struct lifecycle_validation_view v = {
	    t->state, ev->stop, 1, ev->value, s->smaller_is_better, t->has_best, t->best};
	struct lifecycle_validation d;

	if (fsm_is_terminal(t->state))
		return;
	d = lifecycle_validation_apply(&v);
	t->state = d.state;
	t->has_best = d.has_best;
	t->best = d.best;
}

/* A user event: the experiment moves, its live trials follow. */
static void replay_user(struct lifecycle_replay_state *s, enum fsm_event user)
{
	struct lifecycle_user_decision d = lifecycle_user_event(s->experiment, user);

	if (!d.allowed)
		return;
	s->experiment = d.to;
	for (int64_t i = 0; i < s->num_tasks; i++) {
		struct lifecycle_replay_trial *t = &s->trials[i];
		int next =
		    t->exists && !fsm_is_terminal(t->state) ? fsm_trial_next(t->state, user) : -1;
		if (next >= 0)
			t->state = (enum fsm_state)next;
	}
}

static void replay_settle(struct lifecycle_replay_state *s)
{
	struct lifecycle_exp_view v = {s->experiment, s->searcher_done, 0, 0, 0};
	struct lifecycle_settlement d;

	for (int64_t i = 0; i < s->num_tasks; i++) {
		const struct lifecycle_replay_trial *t = &s->trials[i];
		if (!t->exists)
			continue;
		v.trials_completed += t->state == FSM_COMPLETED;
		v.trials_errored += t->state == FSM_ERROR;
		v.trials_live += !fsm_is_terminal(t->state);
	}
	d = lifecycle_settle(&v);
	if (d.changed)
		s->experiment = d.state;
}

int lifecycle_replay_equal(const struct lifecycle_replay_state *a,
                           const struct lifecycle_replay_state *b)
{
	if (a->experiment != b->experiment || a->num_tasks != b->num_tasks ||
	    a->max_restarts != b->max_restarts || a->smaller_is_better != b->smaller_is_better ||
	    a->searcher_done != b->searcher_done)
		return 0;
	for (int64_t i = 0; i < a->num_tasks; i++) {
		const struct lifecycle_replay_trial *x = &a->trials[i], *y = &b->trials[i];
		if (x->exists != y->exists || x->state != y->state || x->restarts != y->restarts ||
		    x->preempted != y->preempted || x->has_best != y->has_best ||
		    (x->has_best && x->best != y->best))
			return 0;
	}
	return 1;
}

int lifecycle_replay_apply(struct lifecycle_replay_state *s,
                           const struct lifecycle_replay_event *ev)
{
	struct lifecycle_replay_state before = *s;
	int has_task = ev->task >= 0 && ev->task < s->num_tasks;
	struct lifecycle_replay_trial *t = has_task ? &s->trials[ev->task] : NULL;
	struct lifecycle_trial_view v;
	struct lifecycle_decision d;

	switch (ev->kind) {
	case LIFECYCLE_REPLAY_CLAIM:
		if (has_task)
			replay_claim(s, ev->task);
		break;
	case LIFECYCLE_REPLAY_VALIDATION:
		if (t && t->exists)
			replay_validation(s, t, ev);
		break;
	case LIFECYCLE_REPLAY_EXIT:
	case LIFECYCLE_REPLAY_RM:
		if (!t || !t->exists)
			break;
		v = replay_view(s, t);
		d = ev->kind == LIFECYCLE_REPLAY_EXIT
		        ? lifecycle_trial_exit(&v, ev->failed, ev->reason)
		        : lifecycle_restart_or_fail(&v, ev->rm_event);
		replay_decision(t, &d);
		break;
	case LIFECYCLE_REPLAY_USER:
		replay_user(s, ev->user);
		break;
	case LIFECYCLE_REPLAY_SEARCHER_DONE:
		s->searcher_done = 1;
		break;
	case LIFECYCLE_REPLAY_NKINDS:
		break;
	}
	replay_settle(s);
	return !lifecycle_replay_equal(&before, s);
}

size_t lifecycle_replay(struct lifecycle_replay_state *s, const struct lifecycle_replay_event *ev,
                        size_t n)
{
	size_t changed = 0;
	for (size_t i = 0; i < n; i++)
		changed += (size_t)lifecycle_replay_apply(s, &ev[i]);
	return changed;
}
