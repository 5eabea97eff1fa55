/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TensorBoard event files for trial metrics. The metrics handler queues each
 * committed report; one thread resolves the trial's experiment and checkpoint
 * storage, and appends the scalars ("training/NAME", "validation/NAME") to
 * <checkpoint dir>/tensorboard/experiment_E/trial_T/events.out.tfevents.*.
 * Main structure: a bounded FIFO of reports plus a table of the trials
 * written to (their event file's path), of which at most TBOARD_MAX_OPEN have
 * the file open (least recently used one closed when full; reopened for
 * append later, so a trial keeps one event file however many trials report).
 * The thread pauses TBOARD_BATCH_MS after each batch so that reports gather;
 * each batch taken off the FIFO is grouped by trial (order within a trial
 * kept), so many trials reporting in turn cost one file switch per trial and
 * batch, not one per report.
 * Non-obvious decision: the report is acknowledged before its event is
 * written, so a slow or failing file system never slows or fails a trial;
 * errors are logged (once per trial directory) and the report is dropped.
 * Event files are created and opened by ckpt_owner_open, as the experiment's
 * owner (never as root into a directory a user named), after the checkpoint
 * directory is checked against the storage roots again; this thread then
 * writes through the descriptor it got back. Reopening a closed one (every
 * batch, for trials beyond TBOARD_MAX_OPEN) forks nothing: the master opens
 * the path itself, without creating, following a final symlink or blocking,
 * and keeps it only if it is the very file the owner's child made (same
 * device and inode), so whatever the owner changed, only the owner's own
 * event file is appended to.
 */
#include <config.h>

#include "tboard.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "bg_thread.h"
#include "ckpt_owner.h"
#include "ckpt_path.h"
#include "exp.h"
#include "tfevents.h"

struct tboard_item {
	int64_t trial_id;
	int64_t steps;
	char group[16];
	json_t *metrics;
	double wall_time;
	struct tboard_item *next;
};

struct tboard_open {
	int64_t trial_id;
	struct tfevents_writer *w; /* NULL while closed */
	char *path;                /* its event file; NULL = none made yet */
	dev_t dev;                 /* and its identity when the owner's child made it */
	ino_t ino;
	uint64_t used;
	int failed; /* opening failed once: logged, not retried for this trial */
};

struct tboard {
	struct app *a;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct tboard_item *head, *tail;
	size_t queued;
	int stopping;
	int idle; /* the thread waits for items: the next enqueue signals it */
	uint64_t dropped;
	struct tboard_open open[TBOARD_MAX_KNOWN];
	struct tboard_open *last; /* the slot writer_for() returned last */
	int nopen;                /* slots with w set */
	uint64_t clock;
};

int tboard_trial_dir(const char *ckpt_dir, int64_t exp_id, int64_t trial_id, char *out,
                     size_t outlen)
{
	int n = snprintf(out, outlen, "%s/tensorboard/experiment_%lld/trial_%lld", ckpt_dir,
	                 (long long)exp_id, (long long)trial_id);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* Create a trial's event file as its experiment's owner; its identity goes to slot.
 * NULL with err. */
static struct tfevents_writer *open_as_owner(struct tboard *tb, struct tboard_open *slot,
                                             int64_t trial_id, double wall_time, char *err,
                                             size_t errlen)
{
	char ckpt[PATH_MAX], sub[96], name[PATH_MAX], used[PATH_MAX], full[3 * PATH_MAX];
	struct ckpt_owner o;
	struct stat st;
	int64_t exp_id = 0;
	long uid = -1;
	int fd;

	if (exp_trial_storage(tb->a, trial_id, &exp_id, &uid, ckpt, sizeof(ckpt), err, errlen))
		return NULL;
	snprintf(sub, sizeof(sub), "tensorboard/experiment_%lld/trial_%lld", (long long)exp_id,
	         (long long)trial_id);
	if (tfevents_file_name(wall_time, name, sizeof(name))) {
		snprintf(err, errlen, "event file name too long");
		return NULL;
	}
	if (ckpt_owner_lookup(uid, &o, err, errlen))
		return NULL;
	fd = ckpt_owner_open(
	    &o, tb->a->cfg->storage_roots,
	    json_string_value(json_object_get(tb->a->cfg->checkpoint_storage, "host_path")), ckpt,
	    sub, name, 0, used, err, errlen);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st)) {
		snprintf(err, errlen, "%.300s: %s", used, strerror(errno));
		close(fd);
		return NULL;
	}
	slot->dev = st.st_dev;
	slot->ino = st.st_ino;
	snprintf(full, sizeof(full), "%s/%s/%s", ckpt, sub, used);
	return tfevents_fdopen(fd, full, 1, wall_time, err, errlen);
}

/* Reopen a slot's event file to append: only the file the owner's child made. */
static struct tfevents_writer *reopen_own(const struct tboard_open *slot, char *err, size_t errlen)
{
	struct stat st;
	int fd =
	    open(slot->path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", slot->path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_dev != slot->dev ||
	    st.st_ino != slot->ino) {
		snprintf(err, errlen,
		         "%s: no longer the event file made for the trial; not reopened",
		         slot->path);
		close(fd);
		return NULL;
	}
	return tfevents_fdopen(fd, slot->path, 0, 0, err, errlen);
}

/* Close the least recently used open writer, keeping its path. */
static void close_lru_open(struct tboard *tb)
{
	struct tboard_open *lru = NULL;
	for (int i = 0; i < TBOARD_MAX_KNOWN; i++)
		if (tb->open[i].w && (!lru || tb->open[i].used < lru->used))
			lru = &tb->open[i];
	if (lru) {
		tfevents_close(lru->w);
		lru->w = NULL;
		tb->nopen--;
	}
}

static struct tboard_open *find_slot(struct tboard *tb, int64_t trial_id, double wall_time)
{
	struct tboard_open *slot = NULL, *lru = &tb->open[0];
	char err[1024];

	for (int i = 0; i < TBOARD_MAX_KNOWN; i++) {
		struct tboard_open *o = &tb->open[i];
		int busy = o->w || o->failed || o->path;
		if (busy && o->trial_id == trial_id) {
			slot = o;
			break;
		}
		if (!busy && !slot)
			slot = o;
		if (o->used < lru->used)
			lru = o;
	}
	if (slot && slot->trial_id == trial_id && (slot->w || slot->failed || slot->path)) {
		slot->used = ++tb->clock;
		if (slot->w || slot->failed)
			return slot;
		/* Known, closed: append to its event file. */
		if (tb->nopen >= TBOARD_MAX_OPEN)
			close_lru_open(tb);
		slot->w = reopen_own(slot, err, sizeof(err));
		if (!slot->w) {
			log_msg(&tb->a->log, LOG_LEVEL_WARN, "tensorboard: trial %lld: %s",
			        (long long)trial_id, err);
			slot->failed = 1;
		} else {
			tb->nopen++;
		}
		return slot;
	}
	if (!slot) {
		/* Forget the least recently used trial (a later report starts a new file). */
		if (lru->w)
			tb->nopen--;
		tfevents_close(lru->w);
		free(lru->path);
		memset(lru, 0, sizeof(*lru));
		slot = lru;
	}
	slot->trial_id = trial_id;
	slot->used = ++tb->clock;
	if (tb->nopen >= TBOARD_MAX_OPEN)
		close_lru_open(tb);
	slot->w = open_as_owner(tb, slot, trial_id, wall_time, err, sizeof(err));
	if (slot->w)
		slot->path = strdup(tfevents_path(slot->w));
	if (!slot->w || !slot->path) {
		log_msg(&tb->a->log, LOG_LEVEL_WARN, "tensorboard: trial %lld: %s",
		        (long long)trial_id, slot->w ? "out of memory" : err);
		tfevents_close(slot->w);
		slot->w = NULL;
		slot->failed = 1;
		return slot;
	}
	tb->nopen++;
	return slot;
}

/* The slot of a trial's writer (open, or marked failed). */
static struct tboard_open *writer_for(struct tboard *tb, int64_t trial_id, double wall_time)
{
	/* Batches are grouped by trial: most items are for the previous item's trial. */
	if (tb->last && tb->last->trial_id == trial_id && (tb->last->w || tb->last->failed))
		return tb->last;
	tb->last = find_slot(tb, trial_id, wall_time);
	return tb->last;
}

static void write_item(struct tboard *tb, struct tboard_item *it)
{
	size_t n = json_object_size(it->metrics), k = 0;
	const char **tags = calloc(n ? n : 1, sizeof(*tags));
	char **owned = calloc(n ? n : 1, sizeof(*owned));
	double *vals = calloc(n ? n : 1, sizeof(*vals));
	struct tboard_open *o = writer_for(tb, it->trial_id, it->wall_time);
	char err[512];
	const char *name;
	json_t *v;

	if (!tags || !owned || !vals) {
		log_msg(&tb->a->log, LOG_LEVEL_WARN, "tensorboard: out of memory");
		goto out;
	}
	if (!o->w)
		goto out;
	json_object_foreach (it->metrics, name, v) {
		if (!json_is_number(v) || asprintf(&owned[k], "%s/%s", it->group, name) < 0) {
			owned[k] = NULL;
			continue;
		}
		tags[k] = owned[k];
		vals[k] = json_number_value(v);
		k++;
	}
	if (k &&
	    tfevents_add_scalars(o->w, it->steps, it->wall_time, tags, vals, k, err, sizeof(err))) {
		log_msg(&tb->a->log, LOG_LEVEL_WARN, "tensorboard: trial %lld: %s",
		        (long long)it->trial_id, err);
		tfevents_close(o->w);
		o->w = NULL;
		o->failed = 1;
		tb->nopen--;
	}
out:
	for (size_t i = 0; owned && i < k; i++)
		free(owned[i]);
	free(owned);
	free(tags);
	free(vals);
}

static void flush_all(struct tboard *tb)
{
	char err[512];
	for (int i = 0; i < TBOARD_MAX_KNOWN; i++)
		if (tb->open[i].w && tfevents_flush(tb->open[i].w, err, sizeof(err)))
			log_msg(&tb->a->log, LOG_LEVEL_WARN, "tensorboard: %s", err);
}

/* Stable merge sort of a batch by trial id: one trial's items stay in order. */
static struct tboard_item *group_by_trial(struct tboard_item *list)
{
	if (!list || !list->next)
		return list;
	struct tboard_item *slow = list, *fast = list->next;
	while (fast && fast->next) {
		slow = slow->next;
		fast = fast->next->next;
	}
	struct tboard_item *b = slow->next, *a = list, *head = NULL, **tail = &head;
	slow->next = NULL;
	a = group_by_trial(a);
	b = group_by_trial(b);
	while (a && b) {
		struct tboard_item **take = b->trial_id < a->trial_id ? &b : &a;
		*tail = *take;
		tail = &(*take)->next;
		*take = (*take)->next;
	}
	*tail = a ? a : b;
	return head;
}

static int stopping(struct tboard *tb)
{
	pthread_mutex_lock(&tb->lock);
	int v = tb->stopping;
	pthread_mutex_unlock(&tb->lock);
	return v;
}

static void *run(void *arg)
{
	struct tboard *tb = arg;

	/* Event files can wait: on a busy machine the cores go to commits and
	 * answers first (raising one's own nice value needs no privilege). */
	setpriority(PRIO_PROCESS, (id_t)gettid(), TBOARD_NICE);
	pthread_mutex_lock(&tb->lock);
	for (;;) {
		while (!tb->head && !tb->stopping) {
			tb->idle = 1;
			pthread_cond_wait(&tb->cond, &tb->lock);
		}
		tb->idle = 0;
		if (!tb->head && tb->stopping)
			break;
		struct tboard_item *batch = tb->head;
		tb->head = tb->tail = NULL;
		tb->queued = 0;
		pthread_mutex_unlock(&tb->lock);
		batch = group_by_trial(batch);
		while (batch) {
			struct tboard_item *next = batch->next;
			write_item(tb, batch);
			json_decref(batch->metrics);
			free(batch);
			batch = next;
		}
		flush_all(tb);
		/* Let reports gather: one write and flush per trial per pause, not per report. */
		if (!stopping(tb))
			nanosleep(&(struct timespec){.tv_nsec = TBOARD_BATCH_MS * 1000000L}, NULL);
		pthread_mutex_lock(&tb->lock);
	}
	pthread_mutex_unlock(&tb->lock);
	return NULL;
}

struct tboard *tboard_start(struct app *a, char *err, size_t errlen)
{
	struct tboard *tb = calloc(1, sizeof(*tb));
	if (!tb) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	tb->a = a;
	if (bg_thread_start(&tb->thread, &tb->lock, &tb->cond, run, tb)) {
		snprintf(err, errlen, "cannot start the TensorBoard writer thread");
		free(tb);
		return NULL;
	}
	return tb;
}

int tboard_enqueue(struct tboard *tb, int64_t trial_id, const char *group, int64_t steps,
                   const json_t *metrics)
{
	struct tboard_item *it;

	if (!tb)
		return 0;
	it = calloc(1, sizeof(*it));
	if (!it)
		return -1;
	it->trial_id = trial_id;
	it->steps = steps;
	it->wall_time = app_now();
	snprintf(it->group, sizeof(it->group), "%s", group);
	it->metrics = json_deep_copy(metrics);
	if (!it->metrics) {
		free(it);
		return -1;
	}
	pthread_mutex_lock(&tb->lock);
	if (tb->queued >= TBOARD_MAX_QUEUE || tb->stopping) {
		int first = tb->dropped++ == 0;
		pthread_mutex_unlock(&tb->lock);
		if (first)
			log_msg(
			    &tb->a->log, LOG_LEVEL_WARN,
			    "tensorboard: writer behind, dropping events (first of possibly many)");
		json_decref(it->metrics);
		free(it);
		return -1;
	}
	if (tb->tail)
		tb->tail->next = it;
	else
		tb->head = it;
	tb->tail = it;
	tb->queued++;
	if (tb->idle) {
		tb->idle = 0;
		pthread_cond_signal(&tb->cond);
	}
	pthread_mutex_unlock(&tb->lock);
	return 0;
}

void tboard_stop(struct tboard *tb)
{
	if (!tb)
		return;
	bg_thread_stop(tb->thread, &tb->lock, &tb->cond, &tb->stopping);
	for (int i = 0; i < TBOARD_MAX_KNOWN; i++) {
		tfevents_close(tb->open[i].w);
		free(tb->open[i].path);
	}
	bg_thread_destroy(&tb->lock, &tb->cond);
	free(tb);
}
