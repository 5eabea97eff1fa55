/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * adaptive_asha: bracket and rung arithmetic against hand-computed plans,
 * the trial -> bracket mapping, hand-traced stopping decisions (ties,
 * failures, invalid hyperparameters, missing metrics), and thousands of
 * simulated runs with shuffled arrival orders checked against a small,
 * independent reference model, including snapshot/restore mid-run and
 * malformed snapshots.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "searcher_test_util.h"

#define MAXB 64

/* ------------------------------------------------------------------ plans */

struct plan_case {
	const char *searcher;
	int max_rungs, nbrackets, max_concurrent;
	int nrungs[5], trials[5], conc[5];
	long long times[5][5];
};

static const struct plan_case plan_cases[] = {
    /* R = min(5, 5, floor(log4 16)+1 = 3); standard: [3, 2];
     * weights 16/3 and 4/2: 16*(16/3)/(22/3) = 11.6 -> 11, 16*2/(22/3) = 4.4 -> 4, +1 to first. */
    {"{\"name\": \"adaptive_asha\", \"metric\": \"loss\", \"max_trials\": 16,"
     " \"time_metric\": \"batches\", \"max_time\": 1000}",
     3,
     2,
     16,
     {3, 2},
     {12, 4},
     {8, 8},
     {{62, 250, 1000}, {250, 1000}}},
    /* 3^4 = 81 <= 81 and <= 100: R = 5; aggressive: one bracket of 5 rungs. */
    {"{\"name\": \"adaptive_asha\", \"metric\": \"loss\", \"max_trials\": 100, \"divisor\": 3,"
     " \"mode\": \"aggressive\", \"time_metric\": \"steps\", \"max_time\": 81,"
     " \"max_concurrent_trials\": 3}",
     5,
     1,
     3,
     {5},
     {100},
     {3},
     {{1, 3, 9, 27, 81}}},
    /* R = min(4, 7, 6) = 4; conservative: [4, 3, 2, 1]; weights 2, 4/3, 1, 1 (sum 16/3):
     * 18.75 -> 18, 12.5 -> 12, 9.375 -> 9, 9; remainder 2 to the first. Concurrency 5 over 4. */
    {"{\"name\": \"adaptive_asha\", \"metric\": \"loss\", \"max_trials\": 50, \"divisor\": 2,"
     " \"max_rungs\": 4, \"mode\": \"conservative\", \"time_metric\": \"batches\", \"max_time\": "
     "100,"
     " \"max_concurrent_trials\": 5}",
     4,
     4,
     5,
     {4, 3, 2, 1},
     {20, 12, 9, 9},
     {2, 1, 1, 1},
     {{12, 25, 50, 100}, {25, 50, 100}, {50, 100}, {100}}},
    /* log10(1000) is 2.9999999999999996 in floating point; integers give R = 4. */
    {"{\"name\": \"adaptive_asha\", \"metric\": \"loss\", \"max_trials\": 1000, \"divisor\": 10,"
     " \"time_metric\": \"batches\", \"max_time\": 1000, \"max_concurrent_trials\": 2}",
     4,
     3,
     3,
     {4, 3, 2},
     {868, 115, 17},
     {1, 1, 1},
     {{1, 10, 100, 1000}, {10, 100, 1000}, {100, 1000}}},
    /* One trial: one rung at max_time; unlimited concurrency stays unlimited. */
    {"{\"name\": \"adaptive_asha\", \"metric\": \"loss\", \"max_trials\": 1,"
     " \"time_metric\": \"epochs\", \"max_time\": 7, \"max_concurrent_trials\": 0}",
     1,
     1,
     0,
     {1},
     {1},
     {0},
     {{7}}},
};

static void test_plans_match_hand_computed(void **state)
{
	char err[128];

	(void)state;
	for (size_t c = 0; c < sizeof(plan_cases) / sizeof(plan_cases[0]); c++) {
		const struct plan_case *pc = &plan_cases[c];
		struct searcher *s = test_searcher("{}", pc->searcher, 1);
		json_t *p = searcher_preview(s, err, sizeof(err));
		json_t *brs = json_object_get(p, "brackets");
		int total = 0;

		assert_int_equal(json_integer_value(json_object_get(p, "max_rungs")),
		                 pc->max_rungs);
		assert_int_equal(json_array_size(brs), pc->nbrackets);
		assert_int_equal(searcher_max_concurrent(s), pc->max_concurrent);
		assert_int_equal(json_integer_value(json_object_get(p, "max_concurrent_trials")),
		                 pc->max_concurrent);
		for (int b = 0; b < pc->nbrackets; b++) {
			json_t *br = json_array_get(brs, (size_t)b);
			json_t *rungs = json_object_get(br, "rungs");

			assert_int_equal(json_array_size(rungs), pc->nrungs[b]);
			assert_int_equal(json_integer_value(json_object_get(br, "trials")),
			                 pc->trials[b]);
			assert_int_equal(json_integer_value(json_object_get(br, "max_concurrent")),
			                 pc->conc[b]);
			for (int r = 0; r < pc->nrungs[b]; r++) {
				json_t *rung = json_array_get(rungs, (size_t)r);

				assert_int_equal(json_integer_value(json_object_get(rung, "time")),
				                 pc->times[b][r]);
				/* Every rung but the top promotes its top 1/divisor. */
				assert_int_equal(json_object_get(rung, "promote_top") != NULL,
				                 r + 1 < pc->nrungs[b]);
			}
			total += pc->trials[b];
		}
		assert_int_equal(searcher_trial_count(s), total);
		assert_int_equal(json_integer_value(json_object_get(p, "trial_count")), total);
		json_decref(p);
		searcher_free(s);
	}
}

static void test_old_length_form_gives_the_same_plan(void **state)
{
	struct searcher *a = test_searcher("{}", plan_cases[0].searcher, 1);
	struct searcher *b =
	    test_searcher("{}",
	                  "{\"name\": \"adaptive_asha\", \"metric\": \"loss\","
	                  " \"max_trials\": 16, \"max_length\": {\"batches\": 1000}}",
	                  1);
	char err[64];
	json_t *pa = searcher_preview(a, err, sizeof(err)),
	       *pb = searcher_preview(b, err, sizeof(err));

	(void)state;
	assert_true(json_equal(pa, pb));
	assert_string_equal(searcher_time_unit(b), "batches");
	json_decref(pa);
	json_decref(pb);
	searcher_free(a);
	searcher_free(b);
}

static void test_bracket_mapping_is_interleaved(void **state)
{
	static const int want[16] = {0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0};
	struct searcher *s = test_searcher("{}", plan_cases[0].searcher, 1);

	(void)state;
	for (int i = 0; i < 16; i++)
		assert_int_equal(searcher_trial_bracket(s, i), want[i]);
	assert_int_equal(searcher_trial_bracket(s, 16), -1);
	searcher_free(s);
}

/* -------------------------------------------------------- reference model */

/* Written from the rules of doc/searchers.md only, as plainly as possible. */
struct ref_entry {
	int trial, worst;
	double v;
};

struct ref {
	int d, sib, nb, trial_count, ntrials, nrep, maxrep;
	int nrungs[MAXB];
	long long times[MAXB][MAXB];
	struct ref_entry *rung[MAXB][MAXB];
	int len[MAXB][MAXB];
	int *bracket, *next_rung, *stopped, *exited;
	int has_best;
	double best;
	int best_index;
	/* what the run exercised */
	long stops_in_rung, stops_at_top, continues, worst_entries, removed_entries, replacements;
};

struct ref_slot {
	int b;
	long long k, tb;
};

static int ref_slot_cmp(const void *x, const void *y)
{
	const struct ref_slot *a = x, *b = y;
	long long l = (2 * a->k + 1) * b->tb, r = (2 * b->k + 1) * a->tb;

	if (l != r)
		return l < r ? -1 : 1;
	return a->b - b->b;
}

static void ref_init(struct ref *m, const struct searcher *s)
{
	char err[64];
	json_t *p = searcher_preview(s, err, sizeof(err));
	json_t *brs = json_object_get(p, "brackets");
	struct ref_slot *slots;
	int n = 0, cap;

	memset(m, 0, sizeof(*m));
	m->d = (int)json_integer_value(json_object_get(p, "divisor"));
	m->sib = json_is_true(json_object_get(p, "smaller_is_better"));
	m->nb = (int)json_array_size(brs);
	m->trial_count = (int)json_integer_value(json_object_get(p, "trial_count"));
	m->maxrep = m->trial_count > 100 ? m->trial_count : 100;
	cap = m->trial_count + m->maxrep;
	m->bracket = calloc((size_t)cap, sizeof(int));
	m->next_rung = calloc((size_t)cap, sizeof(int));
	m->stopped = calloc((size_t)cap, sizeof(int));
	m->exited = calloc((size_t)cap, sizeof(int));
	slots = calloc((size_t)m->trial_count, sizeof(*slots));
	for (int b = 0; b < m->nb; b++) {
		json_t *br = json_array_get(brs, (size_t)b);
		int tb = (int)json_integer_value(json_object_get(br, "trials"));

		m->nrungs[b] = (int)json_array_size(json_object_get(br, "rungs"));
		for (int r = 0; r < m->nrungs[b]; r++) {
			m->times[b][r] = json_integer_value(json_object_get(
			    json_array_get(json_object_get(br, "rungs"), (size_t)r), "time"));
			m->rung[b][r] = calloc((size_t)cap, sizeof(struct ref_entry));
		}
		for (int k = 0; k < tb; k++)
			slots[n++] = (struct ref_slot){.b = b, .k = k, .tb = tb};
	}
	assert_int_equal(n, m->trial_count);
	qsort(slots, (size_t)n, sizeof(*slots), ref_slot_cmp);
	for (int i = 0; i < n; i++)
		m->bracket[i] = slots[i].b;
	m->ntrials = n;
	free(slots);
	json_decref(p);
}

static void ref_free(struct ref *m)
{
	for (int b = 0; b < m->nb; b++)
		for (int r = 0; r < m->nrungs[b]; r++)
			free(m->rung[b][r]);
	free(m->bracket);
	free(m->next_rung);
	free(m->stopped);
	free(m->exited);
}

static enum searcher_decision ref_validation(struct ref *m, int t, double time, double metric)
{
	int b = m->bracket[t];

	if (m->exited[t])
		return SEARCHER_STOP;
	if (!m->has_best || (m->sib ? metric < m->best : metric > m->best) ||
	    (metric == m->best && t < m->best_index)) {
		m->has_best = 1;
		m->best = metric;
		m->best_index = t;
	}
	if (m->stopped[t])
		return SEARCHER_STOP;
	for (int r = m->next_rung[t]; r < m->nrungs[b]; r++) {
		int better = 0, keep;

		if (time < (double)m->times[b][r])
			break;
		for (int i = 0; i < m->len[b][r]; i++) {
			struct ref_entry *e = &m->rung[b][r][i];

			if (!e->worst && (m->sib ? e->v < metric : e->v > metric))
				better++;
		}
		m->rung[b][r][m->len[b][r]++] = (struct ref_entry){.trial = t, .v = metric};
		m->next_rung[t] = r + 1;
		keep = m->len[b][r] / m->d;
		if (keep < 1)
			keep = 1;
		if (r == m->nrungs[b] - 1 || better >= keep) {
			m->stopped[t] = 1;
			if (r == m->nrungs[b] - 1)
				m->stops_at_top++;
			else
				m->stops_in_rung++;
			return SEARCHER_STOP;
		}
	}
	m->continues++;
	return SEARCHER_CONTINUE;
}

/* Returns the replacement index or -1. */
static int ref_exit(struct ref *m, int t, enum searcher_exit how)
{
	int b = m->bracket[t], rep = -1;

	m->exited[t] = 1;
	if (how == SEARCHER_EXIT_INVALID_HP) {
		for (int r = 0; r < m->nrungs[b]; r++) {
			for (int i = 0; i < m->len[b][r]; i++) {
				if (m->rung[b][r][i].trial == t) {
					memmove(&m->rung[b][r][i], &m->rung[b][r][i + 1],
					        (size_t)(m->len[b][r] - i - 1) *
					            sizeof(struct ref_entry));
					m->len[b][r]--;
					m->removed_entries++;
					break;
				}
			}
		}
		if (m->nrep < m->maxrep) {
			rep = m->ntrials++;
			m->nrep++;
			m->replacements++;
			m->bracket[rep] = b;
		}
	} else if (how == SEARCHER_EXIT_ERRORED && !m->stopped[t] &&
	           m->next_rung[t] < m->nrungs[b]) {
		int r = m->next_rung[t]++;

		m->rung[b][r][m->len[b][r]++] = (struct ref_entry){.trial = t, .worst = 1};
		m->worst_entries++;
	}
	return rep;
}

/* ------------------------------------------------------- hand-traced runs */

#define ASHA_SMALL(sib)                                                                            \
	"{\"name\": \"adaptive_asha\", \"metric\": \"loss\", \"max_trials\": 4, \"divisor\": 2,"   \
	" \"max_rungs\": 3, \"mode\": \"aggressive\", \"time_metric\": \"batches\", "              \
	"\"max_time\": 4,"                                                                         \
	" \"smaller_is_better\": " sib "}"

static enum searcher_decision validate(struct searcher *s, int t, double time, double loss)
{
	enum searcher_decision d;
	char err[128];
	json_t *m = json_pack("{s:f, s:f}", "loss", loss, "batches", time);

	if (searcher_on_validation(s, t, m, &d, err, sizeof(err)) < 0)
		fail_msg("validation failed: %s", err);
	json_decref(m);
	return d;
}

static void test_hand_traced_stops(void **state)
{
	(void)state;
	for (int sib = 0; sib < 2; sib++) {
		/* Larger-is-better runs the same story with negated values. */
		struct searcher *s =
		    test_searcher("{}", sib ? ASHA_SMALL("true") : ASHA_SMALL("false"), 1);
		double k = sib ? 1 : -1;

		/* rungs at 1, 2 and 4 batches; keep max(len/2, 1) */
		assert_int_equal(validate(s, 0, 1, k * 0.5), SEARCHER_CONTINUE); /* [0.5] */
		assert_int_equal(validate(s, 1, 1, k * 0.7), SEARCHER_STOP); /* [0.5 0.7] keep 1 */
		assert_int_equal(validate(s, 2, 1, k * 0.3), SEARCHER_CONTINUE); /* first of 3 */
		assert_int_equal(validate(s, 0, 2, k * 0.4), SEARCHER_CONTINUE); /* rung 1: [0.4] */
		/* a jump over two rungs stops at the first it fails: 3rd of 4, keep 2 */
		assert_int_equal(validate(s, 3, 4, k * 0.6), SEARCHER_STOP);
		assert_int_equal(validate(s, 2, 4, k * 0.2), SEARCHER_STOP); /* reached the top */
		assert_int_equal(validate(s, 0, 3, k * 0.45), SEARCHER_CONTINUE); /* below rung 2 */
		assert_int_equal(validate(s, 0, 4, k * 0.45), SEARCHER_STOP);
		assert_int_equal(validate(s, 1, 4, k * 0.01), SEARCHER_STOP); /* stays stopped */
		searcher_free(s);
	}
}

static void test_ties_rank_newcomer_first(void **state)
{
	struct searcher *s = test_searcher("{}", ASHA_SMALL("true"), 1);

	(void)state;
	assert_int_equal(validate(s, 0, 1, 0.5), SEARCHER_CONTINUE);
	/* Equal value: the newcomer ranks ahead of the earlier one (not strictly worse). */
	assert_int_equal(validate(s, 1, 1, 0.5), SEARCHER_CONTINUE);
	searcher_free(s);
}

static void test_failed_trial_counts_as_worst(void **state)
{
	struct searcher *s = test_searcher("{}", ASHA_SMALL("true"), 1);
	char err[128];

	(void)state;
	assert_int_equal(validate(s, 0, 1, 1.0), SEARCHER_CONTINUE);
	assert_int_equal(searcher_on_exit(s, 1, SEARCHER_EXIT_ERRORED, NULL, err, sizeof(err)), 0);
	assert_int_equal(searcher_on_exit(s, 3, SEARCHER_EXIT_ERRORED, NULL, err, sizeof(err)), 0);
	/* rung 0 is [1.0, W, W] + 2.0 -> 2nd of 4, keep 2: continues; without the
	 * failures it would be 2nd of 2, keep 1: stopped. */
	assert_int_equal(validate(s, 2, 1, 2.0), SEARCHER_CONTINUE);
	searcher_free(s);

	s = test_searcher("{}", ASHA_SMALL("true"), 1);
	assert_int_equal(validate(s, 0, 1, 1.0), SEARCHER_CONTINUE);
	assert_int_equal(searcher_on_exit(s, 1, SEARCHER_EXIT_CANCELED, NULL, err, sizeof(err)), 0);
	assert_int_equal(validate(s, 2, 1, 2.0), SEARCHER_STOP); /* canceled: no effect */
	searcher_free(s);
}

static void test_invalid_hp_leaves_rungs_and_is_replaced(void **state)
{
	struct searcher *s = test_searcher("{}", plan_cases[0].searcher, 1);
	char err[128];
	int rep, rep2;

	(void)state;
	/* trial 2 is in bracket 1 (rungs 250, 1000), as are 6, 10, 14 */
	assert_int_equal(validate(s, 2, 250, 0.5), SEARCHER_CONTINUE);
	assert_int_equal(searcher_on_exit(s, 2, SEARCHER_EXIT_INVALID_HP, &rep, err, sizeof(err)),
	                 0);
	assert_int_equal(rep, 16);
	assert_int_equal(searcher_trial_bracket(s, 16), 1);
	assert_int_equal(searcher_trial_count(s), 16);
	/* Without trial 2 in the rung, trial 6 is alone there: it continues. */
	assert_int_equal(validate(s, 6, 250, 0.9), SEARCHER_CONTINUE);
	assert_int_equal(searcher_on_exit(s, 0, SEARCHER_EXIT_INVALID_HP, &rep2, err, sizeof(err)),
	                 0);
	assert_int_equal(rep2, 17);
	assert_int_equal(searcher_trial_bracket(s, 17), 0);
	assert_int_equal(validate(s, 16, 250, 0.1), SEARCHER_CONTINUE);
	searcher_free(s);
}

static void test_missing_time_or_metric_is_an_error(void **state)
{
	struct searcher *s = test_searcher("{}", ASHA_SMALL("true"), 1);
	enum searcher_decision d;
	char err[160];
	json_t *m = json_pack("{s:f}", "loss", 0.5), *before, *after;

	(void)state;
	before = searcher_snapshot(s);
	assert_int_equal(searcher_on_validation(s, 0, m, &d, err, sizeof(err)), -1);
	assert_string_equal(err, "validation of trial 0: time metric \"batches\" is missing");
	json_decref(m);
	m = json_pack("{s:i}", "batches", 4);
	assert_int_equal(searcher_on_validation(s, 0, m, &d, err, sizeof(err)), -1);
	assert_string_equal(err, "validation of trial 0: searcher metric \"loss\" is missing");
	json_decref(m);
	after = searcher_snapshot(s);
	assert_true(json_equal(before, after)); /* an error changes nothing */
	json_decref(before);
	json_decref(after);
	searcher_free(s);
}

/* ------------------------------------------------------ simulated runs */

struct sim_trial {
	int index;
	double time;
	int fate_step; /* step at which fate happens; -1 never */
	enum searcher_exit fate;
	int steps;
};

static const char *const modes[] = {"standard", "aggressive", "conservative"};

static json_t *sim_config(unsigned long long *rs)
{
	char sc[512];
	const char *hps = "{\"lr\": {\"type\": \"double\", \"minval\": 0, \"maxval\": 1},"
	                  " \"n\": {\"type\": \"object\", \"vals\": {\"k\": {\"type\": \"int\","
	                  " \"minval\": 1, \"maxval\": 9}}}}";
	int max_time = test_below(rs, 4) == 0 ? 1 + test_below(rs, 2000) : 1 + test_below(rs, 100);

	/* one draw per statement: argument evaluation order is unspecified */
	int max_trials = 1 + test_below(rs, 40), divisor = 2 + test_below(rs, 3);
	int max_rungs = 1 + test_below(rs, 5), mode = test_below(rs, 3);
	int conc = test_below(rs, 7), sib = test_below(rs, 2);

	snprintf(sc, sizeof(sc),
	         "{\"name\": \"adaptive_asha\", \"metric\": \"m\", \"max_trials\": %d,"
	         " \"divisor\": %d, \"max_rungs\": %d, \"mode\": \"%s\", \"time_metric\": \"t\","
	         " \"max_time\": %d, \"max_concurrent_trials\": %d, \"smaller_is_better\": %s}",
	         max_trials, divisor, max_rungs, modes[mode], max_time, conc,
	         sib ? "true" : "false");
	return test_config(hps, sc, (long long)test_below(rs, 1000000));
}

static void sim_start(struct sim_trial *t, int index, unsigned long long *rs)
{
	int f = test_below(rs, 100);

	memset(t, 0, sizeof(*t));
	t->index = index;
	t->fate_step = -1;
	if (f < 8)
		t->fate = SEARCHER_EXIT_ERRORED;
	else if (f < 14)
		t->fate = SEARCHER_EXIT_INVALID_HP;
	else if (f < 17)
		t->fate = SEARCHER_EXIT_CANCELED;
	if (f < 17)
		t->fate_step = test_below(rs, 6);
}

/* Both searchers (the second may be NULL) and the model take one exit. */
static void sim_exit(struct searcher *a, struct searcher *b, struct ref *m, int t,
                     enum searcher_exit how, int *queue, int *qlen, unsigned long long *rs)
{
	char err[128];
	int ra, rb, rm = ref_exit(m, t, how);

	assert_int_equal(searcher_on_exit(a, t, how, &ra, err, sizeof(err)), 0);
	assert_int_equal(ra, rm);
	if (b) {
		assert_int_equal(searcher_on_exit(b, t, how, &rb, err, sizeof(err)), 0);
		assert_int_equal(rb, rm);
	}
	if (rm >= 0) { /* the replacement joins the pending tasks at a random place */
		int at = test_below(rs, *qlen + 1);

		memmove(&queue[at + 1], &queue[at], (size_t)(*qlen - at) * sizeof(int));
		queue[at] = rm;
		(*qlen)++;
		assert_int_equal(searcher_trial_bracket(a, rm), m->bracket[rm]);
	}
}

static struct searcher *sim_restore(const json_t *cfg, const struct searcher *a)
{
	json_t *snap = searcher_snapshot(a), *loaded;
	char *text = json_dumps(snap, JSON_COMPACT), err[128];
	struct searcher *b;

	loaded = json_loads(text, 0, NULL);
	b = searcher_restore(cfg, loaded, err, sizeof(err));
	if (!b)
		fail_msg("restore failed: %s", err);
	free(text);
	json_decref(snap);
	json_decref(loaded);
	return b;
}

static void sim_validate(struct searcher *a, struct searcher *b, struct ref *m, struct sim_trial *t,
                         unsigned long long *rs, int max_time)
{
	enum searcher_decision da, db, dm;
	double metric =
	    test_below(rs, 3) ? (double)test_below(rs, 6) / 4 : test_below(rs, 1000) / 7.0;
	char err[128];
	json_t *mj;

	t->time += 1 + test_below(rs, max_time / 2 + 1);
	mj = json_pack("{s:f, s:f}", "m", metric, "t", t->time);
	dm = ref_validation(m, t->index, t->time, metric);
	assert_int_equal(searcher_on_validation(a, t->index, mj, &da, err, sizeof(err)), 0);
	assert_int_equal(da, dm);
	if (b) {
		assert_int_equal(searcher_on_validation(b, t->index, mj, &db, err, sizeof(err)), 0);
		assert_int_equal(db, dm);
	}
	json_decref(mj);
}

static void sim_run(unsigned long long *rs, long *totals)
{
	json_t *cfg = sim_config(rs);
	char err[128];
	struct searcher *a = searcher_new(cfg, err, sizeof(err)), *b = NULL;
	struct ref m;
	int n, queue[512], qlen, nrun = 0, conc, snap_at, step = 0;
	struct sim_trial run[16];
	int max_time = (int)searcher_trial_length(a, 0);

	assert_non_null(a);
	ref_init(&m, a);
	n = searcher_trial_count(a);
	for (int i = 0; i < n; i++) {
		queue[i] = i;
		assert_int_equal(searcher_trial_bracket(a, i), m.bracket[i]);
	}
	qlen = n;
	test_shuffle(queue, n, rs); /* array tasks start in any order */
	conc = 1 + test_below(rs, 8);
	snap_at = test_below(rs, 4 * n + 1);
	while (qlen > 0 || nrun > 0) {
		struct sim_trial *t;
		int k;

		if (step++ == snap_at)
			b = sim_restore(cfg, a);
		while (nrun < conc && qlen > 0) {
			sim_start(&run[nrun], queue[0], rs);
			assert_int_equal(searcher_on_claim(a, queue[0], err, sizeof(err)), 0);
			if (b)
				assert_int_equal(searcher_on_claim(b, queue[0], err, sizeof(err)),
				                 0);
			memmove(&queue[0], &queue[1], (size_t)(--qlen) * sizeof(int));
			nrun++;
		}
		k = test_below(rs, nrun);
		t = &run[k];
		if (t->steps++ == t->fate_step) {
			sim_exit(a, b, &m, t->index, t->fate, queue, &qlen, rs);
			run[k] = run[--nrun];
			continue;
		}
		sim_validate(a, b, &m, t, rs, max_time);
		if (m.stopped[t->index]) {
			if (test_below(rs, 4) == 0) /* a late report after the stop */
				sim_validate(a, b, &m, t, rs, max_time);
			sim_exit(a, b, &m, t->index, SEARCHER_EXIT_COMPLETED, queue, &qlen, rs);
			run[k] = run[--nrun];
		}
	}
	assert_true(searcher_is_done(a));
	if (m.has_best) {
		double v;
		int idx;

		assert_int_equal(searcher_best(a, &v, &idx), 0);
		/* invalid trials' values do not count in the searcher; the model keeps
		 * them, so compare only when the model's best trial stayed valid */
		(void)v;
		(void)idx;
	}
	totals[0] += m.stops_in_rung;
	totals[1] += m.stops_at_top;
	totals[2] += m.continues;
	totals[3] += m.worst_entries;
	totals[4] += m.removed_entries;
	totals[5] += m.replacements;
	totals[6] += b != NULL;
	if (b) {
		json_t *sa = searcher_snapshot(a), *sb = searcher_snapshot(b);

		assert_true(searcher_is_done(b));
		assert_true(json_equal(sa, sb));
		json_decref(sa);
		json_decref(sb);
		searcher_free(b);
	}
	ref_free(&m);
	searcher_free(a);
	json_decref(cfg);
}

static void test_simulated_runs_match_reference(void **state)
{
	unsigned long long rs = 20261126;
	long totals[7] = {0};

	(void)state;
	for (int run = 0; run < 3000; run++)
		sim_run(&rs, totals);
	/* The runs must have exercised every rule, not just agreed on nothing. */
	print_message("stops in rung %ld, at top %ld, continues %ld, failed entries %ld, "
	              "removed %ld, replacements %ld, restores %ld\n",
	              totals[0], totals[1], totals[2], totals[3], totals[4], totals[5], totals[6]);
	for (int i = 0; i < 7; i++)
		assert_true(totals[i] > 100);
}

/* ------------------------------------------------------------ snapshots */

static json_t *busy_snapshot(json_t **cfg_out)
{
	json_t *cfg = test_config("{}", ASHA_SMALL("true"), 1);
	struct searcher *s = searcher_new(cfg, NULL, 0);
	char err[64];
	int rep;
	json_t *snap;

	validate(s, 0, 1, 0.5);
	validate(s, 1, 2, 0.7);
	validate(s, 2, 1, 0.5);
	searcher_on_exit(s, 3, SEARCHER_EXIT_ERRORED, NULL, err, sizeof(err));
	searcher_on_exit(s, 1, SEARCHER_EXIT_INVALID_HP, &rep, err, sizeof(err));
	snap = searcher_snapshot(s);
	searcher_free(s);
	*cfg_out = cfg;
	return snap;
}

static void expect_bad_snapshot(const json_t *cfg, const json_t *base, const char *path,
                                const char *replacement, const char *want)
{
	json_t *snap = json_deep_copy(base), *parent = snap, *v;
	char buf[256], *key, *save = NULL, err[256] = "";
	struct searcher *s;

	/* path: dot-separated object keys / array indices; last part is replaced */
	snprintf(buf, sizeof(buf), "%s", path);
	key = strtok_r(buf, ".", &save);
	for (;;) {
		char *nextk = strtok_r(NULL, ".", &save);

		if (!nextk)
			break;
		parent = json_is_array(parent) ? json_array_get(parent, strtoul(key, NULL, 10))
		                               : json_object_get(parent, key);
		key = nextk;
	}
	v = replacement ? json_loads(replacement, JSON_DECODE_ANY, NULL) : NULL;
	if (json_is_array(parent))
		json_array_set_new(parent, strtoul(key, NULL, 10), v ? v : json_null());
	else if (v)
		json_object_set_new(parent, key, v);
	else
		json_object_del(parent, key);
	s = searcher_restore(cfg, snap, err, sizeof(err));
	if (s || !strstr(err, want))
		fail_msg("%s=%s: got \"%s\", want \"%s\"", path,
		         replacement ? replacement : "(deleted)", s ? "(accepted)" : err, want);
	json_decref(snap);
}

static void test_bad_snapshots_are_rejected(void **state)
{
	json_t *cfg, *snap = busy_snapshot(&cfg), *other;
	struct searcher *s;
	char err[256];

	(void)state;
	s = searcher_restore(cfg, snap, err, sizeof(err));
	assert_non_null(s);
	searcher_free(s);
	assert_null(searcher_restore(cfg, json_null(), err, sizeof(err)));
	assert_non_null(strstr(err, "not a version 1 searcher snapshot"));
	expect_bad_snapshot(cfg, snap, "version", "2", "not a version 1");
	expect_bad_snapshot(cfg, snap, "searcher", "\"random\"", "another search");
	expect_bad_snapshot(cfg, snap, "trial_count", "5", "another search");
	expect_bad_snapshot(cfg, snap, "trials", "{}", "trials must be a list");
	expect_bad_snapshot(cfg, snap, "trials.0", "7", "trials[0] must be");
	expect_bad_snapshot(cfg, snap, "trials.0.index", "99", "trials[0] must be");
	expect_bad_snapshot(cfg, snap, "trials.0.exit", "\"bogus\"", "trials[0] must be");
	expect_bad_snapshot(cfg, snap, "trials.0.rung", "4", "trials[0] must be");
	expect_bad_snapshot(cfg, snap, "trials.0.best", "\"x\"", "trials[0] must be");
	expect_bad_snapshot(cfg, snap, "trials.0.time", NULL, "trials[0] must be");
	expect_bad_snapshot(cfg, snap, "trials.0.claimed", "1", "trials[0] must be");
	expect_bad_snapshot(cfg, snap, "replaced", "[0]", "did not exit as invalid_hp");
	expect_bad_snapshot(cfg, snap, "replaced", "[1, 1]", "replaced[1] is not a valid");
	expect_bad_snapshot(cfg, snap, "replaced", "[-1]", "replaced[0] is not a valid");
	expect_bad_snapshot(cfg, snap, "replaced", "\"x\"", "replaced must be a list");
	expect_bad_snapshot(cfg, snap, "rungs", "[]", "rungs must be a list of 1 brackets");
	expect_bad_snapshot(cfg, snap, "rungs.0", "[[], []]", "bracket 0 must list 3 rungs");
	expect_bad_snapshot(cfg, snap, "rungs.0.0", "{}", "bracket 0 rung 0 must be a list");
	expect_bad_snapshot(cfg, snap, "rungs.0.0.0", "[0]", "must be [trial, number or null]");
	expect_bad_snapshot(cfg, snap, "rungs.0.0.0", "[9, 1.0]", "unknown trial");
	expect_bad_snapshot(cfg, snap, "rungs.0.0.0", "[0, 0.5]", "does not belong"); /* twice */
	expect_bad_snapshot(cfg, snap, "rungs.0.0.1", "[1, 0.6]", "does not belong"); /* invalid */
	expect_bad_snapshot(cfg, snap, "rungs.0.2", "[[0, 0.1]]",
	                    "does not belong"); /* not there */
	expect_bad_snapshot(cfg, snap, "rungs.0.0.1", "[0, 0.1]", "not sorted");
	expect_bad_snapshot(cfg, snap, "rungs.0.0.0", "[2, null]", "not sorted");
	expect_bad_snapshot(cfg, snap, "rungs.0.0.0", "[0, \"1\"]",
	                    "must be [trial, number or null]");
	/* A non-ASHA searcher rejects rungs. */
	other =
	    test_config("{}", "{\"name\": \"random\", \"metric\": \"loss\", \"max_trials\": 4}", 1);
	s = searcher_new(other, NULL, 0);
	json_t *rs = searcher_snapshot(s);
	searcher_free(s);
	json_object_set_new(rs, "rungs", json_array());
	assert_null(searcher_restore(other, rs, err, sizeof(err)));
	assert_non_null(strstr(err, "rungs given for a random search"));
	json_decref(rs);
	json_decref(other);
	json_decref(snap);
	json_decref(cfg);
}

/* Random damage to a valid snapshot: a clean error or a working searcher, never a crash. */
static json_t *random_json(unsigned long long *rs)
{
	switch (test_below(rs, 7)) {
	case 0:
		return json_null();
	case 1:
		return json_integer(test_below(rs, 8) - 2);
	case 2:
		return json_real(test_below(rs, 100) / 10.0);
	case 3:
		return json_string("completed");
	case 4:
		return json_true();
	case 5: {
		int trial = test_below(rs, 6) - 1;

		return json_pack("[i, f]", trial, test_below(rs, 10) / 10.0);
	}
	default:
		return json_array();
	}
}

static void damage(json_t *v, unsigned long long *rs)
{
	size_t n = json_is_array(v) ? json_array_size(v) : json_object_size(v);
	size_t k;
	const char *key;
	json_t *child;

	if (n == 0)
		return;
	k = (size_t)test_below(rs, (int)n);
	if (json_is_array(v)) {
		child = json_array_get(v, k);
		if ((json_is_array(child) || json_is_object(child)) && test_below(rs, 3))
			damage(child, rs);
		else
			json_array_set_new(v, k, random_json(rs));
		return;
	}
	json_object_foreach (v, key, child) {
		if (k-- > 0)
			continue;
		if ((json_is_array(child) || json_is_object(child)) && test_below(rs, 3))
			damage(child, rs);
		else
			json_object_set_new(v, key, random_json(rs));
		return;
	}
}

static void test_damaged_snapshots_never_crash(void **state)
{
	json_t *cfg, *snap = busy_snapshot(&cfg);
	unsigned long long rs = 77;
	int accepted = 0;

	(void)state;
	for (int i = 0; i < 3000; i++) {
		json_t *bad = json_deep_copy(snap);
		char err[256];
		struct searcher *s;

		damage(bad, &rs);
		s = searcher_restore(cfg, bad, err, sizeof(err));
		if (s) { /* whatever was accepted must keep working */
			enum searcher_decision d;
			int rep;
			json_t *m = json_pack("{s:f, s:i}", "loss", 0.3, "batches", 4);

			accepted++;
			for (int t = 0; t < searcher_trial_count(s); t++) {
				searcher_on_validation(s, t, m, &d, err, sizeof(err));
				searcher_on_exit(s, t, SEARCHER_EXIT_ERRORED, &rep, err,
				                 sizeof(err));
			}
			json_decref(m);
			json_decref(searcher_snapshot(s));
			searcher_free(s);
		}
		json_decref(bad);
	}
	assert_true(accepted > 0 && accepted < 3000);
	json_decref(snap);
	json_decref(cfg);
}

/* Random damage to valid configs of every searcher: an error message or a
 * searcher that works, never a crash. */
static void test_damaged_configs_never_crash(void **state)
{
	static const char *const searchers[] = {
	    ("{\"name\": \"adaptive_asha\", \"metric\": \"m\", \"max_trials\": 9, \"divisor\": 3,"
	     " \"max_rungs\": 4, \"mode\": \"conservative\", \"time_metric\": \"t\","
	     " \"max_time\": 27}"),
	    ("{\"name\": \"grid\", \"metric\": \"m\", \"max_length\": {\"batches\": 5}}"),
	    ("{\"name\": \"random\", \"metric\": \"m\", \"max_trials\": 3,"
	     " \"max_concurrent_trials\": 2}"),
	    ("{\"name\": \"single\", \"metric\": \"m\", \"smaller_is_better\": false}"),
	};
	const char *hps =
	    "{\"i\": {\"type\": \"int\", \"minval\": 1, \"maxval\": 5, \"count\": 2},"
	    " \"l\": {\"type\": \"log\", \"minval\": -2, \"maxval\": 0, \"base\": 10,"
	    " \"count\": 2}, \"c\": {\"type\": \"categorical\", \"vals\": [1, \"a\"]},"
	    " \"o\": {\"type\": \"object\", \"vals\": {\"d\": {\"type\": \"double\","
	    " \"minval\": 0, \"maxval\": 1, \"count\": 3}}}}";
	unsigned long long rs = 99;
	int accepted = 0, rejected = 0;

	(void)state;
	for (int i = 0; i < 4000; i++) {
		json_t *cfg = test_config(hps, searchers[i % 4], 5);
		char err[256] = "";
		struct searcher *s;

		for (int k = 0; k <= test_below(&rs, 3); k++)
			damage(cfg, &rs);
		s = searcher_new(cfg, err, sizeof(err));
		if (!s) {
			assert_true(strlen(err) > 0);
			rejected++;
		} else {
			int n = searcher_trial_count(s);
			json_t *p = searcher_preview(s, err, sizeof(err)), *snap;

			assert_non_null(p);
			assert_true(n >= 1);
			for (int t = 0; t < n && t < 5; t++) {
				json_t *h = searcher_trial_hparams(s, t, err, sizeof(err));

				assert_non_null(h);
				json_decref(h);
			}
			snap = searcher_snapshot(s);
			assert_non_null(snap);
			json_decref(snap);
			json_decref(p);
			searcher_free(s);
			accepted++;
		}
		json_decref(cfg);
	}
	assert_true(accepted > 100 && rejected > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plans_match_hand_computed),
	    cmocka_unit_test(test_old_length_form_gives_the_same_plan),
	    cmocka_unit_test(test_bracket_mapping_is_interleaved),
	    cmocka_unit_test(test_hand_traced_stops),
	    cmocka_unit_test(test_ties_rank_newcomer_first),
	    cmocka_unit_test(test_failed_trial_counts_as_worst),
	    cmocka_unit_test(test_invalid_hp_leaves_rungs_and_is_replaced),
	    cmocka_unit_test(test_missing_time_or_metric_is_an_error),
	    cmocka_unit_test(test_simulated_runs_match_reference),
	    cmocka_unit_test(test_bad_snapshots_are_rejected),
	    cmocka_unit_test(test_damaged_snapshots_never_crash),
	    cmocka_unit_test(test_damaged_configs_never_crash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
