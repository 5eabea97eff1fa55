/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SQLite store: connection setup, numbered migrations (the SQL files of
 * master/schema/, compiled in), the writer thread and generic row writes.
 *
 * Main structure: a FIFO of pending writes. The writer takes everything
 * queued, applies it in one transaction, commits once, then wakes every
 * waiter with its own result. That is the non-obvious decision: group commit
 * gives throughput under many concurrent reporters while a caller still hears
 * back only after the commit that holds its rows. When one write of a batch
 * fails, the batch is rolled back and every write is retried in a
 * transaction of its own, so one bad write never spoils its neighbours.
 * A second thread checkpoints the WAL on its own connection (see STORE_CKPT_MS).
 * The database and its -wal/-shm files are kept mode 0600 (they hold password
 * and token hashes), also when an older det-master left them wider.
 * Opening runs PRAGMA quick_check first: a damaged file is refused, never
 * loaded as if the unreadable part were empty.
 */
#include "store.h"
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "master/store_schema.h"
#include "sha256.h"

#define STORE_MAX_BATCH 512
/* Checkpoints (copying the WAL back into the database, with a sync) run in a
 * thread of their own every STORE_CKPT_MS, so that no commit, and no trial
 * waiting for one, stalls behind one. The writer checkpoints by itself only
 * if the WAL grows past STORE_WAL_PAGES (the checkpointer fell behind); a WAL
 * file grown past 64 MiB is truncated back when it starts over. */
#define STORE_CKPT_MS 250
#define STORE_CKPT_ROUNDS 16
#define STORE_WAL_PAGES "20000"
/* Findings of PRAGMA quick_check quoted in the refusal to start. */
#define STORE_CHECK_FINDINGS 5

struct write_job {
	struct store_op *ops;
	size_t n;
	sem_t done;            /* posted by the writer after the commit (no broadcast herd) */
	store_done_fn done_fn; /* async write: called instead, then the job is freed */
	void *done_arg;
	int rv;
	char err[256];
	struct write_job *next;
};

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

sqlite3 *store_connect(const char *path, int readonly, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int flags = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);

	if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000);
	/* WAL + synchronous=NORMAL: a commit survives a process crash (kill -9). */
	if (exec_sql(db,
	             readonly ? "PRAGMA foreign_keys=ON;"
	                      : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	                        "PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=" STORE_WAL_PAGES
	                        ";"
	                        "PRAGMA journal_size_limit=67108864;",
	             err, errlen)) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

/* det_token_hash(TEXT): SHA-256 hex of a token, for migration 3 (stored
 * tokens become hashes). Same function as auth_token_hash. */
static void sql_token_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	char hex[SHA256_HEX_BYTES];
	const unsigned char *t = argc == 1 ? sqlite3_value_text(argv[0]) : NULL;
	if (!t) {
		sqlite3_result_null(ctx);
		return;
	}
	sha256_buffer_hex(t, (size_t)sqlite3_value_bytes(argv[0]), hex);
	sqlite3_result_text(ctx, hex, -1, SQLITE_TRANSIENT);
}

static int migrate(sqlite3 *db, int *version, char *err, size_t errlen)
{
	sqlite3_stmt *q = NULL;
	int have = 0, n = 0;

	if (sqlite3_create_function(db, "det_token_hash", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
	                            NULL, sql_token_hash, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "det_token_hash: %s", sqlite3_errmsg(db));
		return -1;
	}

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		snprintf(err, errlen, "reading schema version: %s", sqlite3_errmsg(db));
		sqlite3_finalize(q);
		return -1;
	}
	have = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	while (store_migrations[n])
		n++;
	if (have > n) {
		snprintf(err, errlen, "database schema %d is newer than this det-master (%d)", have,
		         n);
		return -1;
	}
	for (int i = have; i < n; i++) {
		char sql[64];
		if (exec_sql(db, "BEGIN IMMEDIATE", err, errlen))
			return -1;
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", i + 1);
		if (exec_sql(db, store_migrations[i], err, errlen) ||
		    exec_sql(db, sql, err, errlen)) {
			char e2[64];
			exec_sql(db, "ROLLBACK", e2, sizeof(e2));
			return -1;
		}
		if (exec_sql(db, "COMMIT", err, errlen))
			return -1;
	}
	*version = n;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whether SQLite result code rc means the database cannot be written now
 * (disk full, I/O error, read-only or busy file) rather than a bad write. */
static int unavailable_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_NOMEM:
	case SQLITE_PROTOCOL:
		return 1;
	default:
		return 0;
	}
}

/* One transaction for the whole batch. 0, or -1 when any job failed (rolled
 * back); *code gets SQLite's result code of the failure. */
static int try_batch(struct store *st, struct write_job *jobs, int *code, char *err, size_t errlen)
{
	char e2[64];
	*code = SQLITE_OK;
	if (exec_sql(st->wdb, "BEGIN IMMEDIATE", err, errlen)) {
		*code = sqlite3_errcode(st->wdb);
		return -1;
	}
	for (struct write_job *j = jobs; j; j = j->next) {
		if (store_apply_ops(st, j->ops, j->n, j->err, sizeof(j->err))) {
			*code = sqlite3_errcode(st->wdb);
			exec_sql(st->wdb, "ROLLBACK", e2, sizeof(e2));
			j->rv = -1;
			return -1;
		}
	}
	if (exec_sql(st->wdb, "COMMIT", err, errlen)) {
		*code = sqlite3_errcode(st->wdb);
		exec_sql(st->wdb, "ROLLBACK", e2, sizeof(e2));
		return -1;
	}
	return 0;
}

/* A job failed with code: say whether to retry (STORE_ERR_UNAVAILABLE). */
static void job_failed(struct write_job *j, int code, const char *err)
{
	char why[256];

	snprintf(why, sizeof(why), "%s", j->err[0] ? j->err : err);
	if (unavailable_code(code))
		snprintf(j->err, sizeof(j->err),
		         STORE_ERR_UNAVAILABLE " (%.40s): nothing was written, retry later: %.120s",
		         sqlite3_errstr(code), why);
	else if (!j->err[0])
		snprintf(j->err, sizeof(j->err), "database: %.200s", why);
}

static void run_batch(struct store *st, struct write_job *jobs)
{
	char err[256] = "";
	double t0 = now_s();
	size_t nops = 0, ntx = 1;
	uint64_t failed = 0;
	int code;

	for (struct write_job *j = jobs; j; j = j->next) {
		j->rv = 0;
		nops += j->n;
	}
	if (try_batch(st, jobs, &code, err, sizeof(err)) != 0) {
		/* Some write is bad: give every job its own transaction so that
		 * only the bad one fails. Rare, so the common path stays one commit. */
		ntx = 0;
		for (struct write_job *j = jobs; j; j = j->next) {
			struct write_job *next = j->next;
			j->next = NULL;
			j->err[0] = '\0';
			j->rv = try_batch(st, j, &code, err, sizeof(err));
			if (j->rv) {
				job_failed(j, code, err);
				failed++;
			}
			j->next = next;
			ntx++;
		}
	}
	pthread_mutex_lock(&st->lock);
	st->write_failures += failed;
	st->batches += ntx;
	st->ops_total += nops;
	st->commit_seconds += now_s() - t0;
	pthread_mutex_unlock(&st->lock);
	/* A waiter may return (and its job vanish) as soon as it is posted. */
	for (struct write_job *j = jobs, *next; j; j = next) {
		next = j->next;
		if (j->done_fn) {
			j->done_fn(j->done_arg, j->rv, j->err);
			free(j);
		} else {
			sem_post(&j->done);
		}
	}
}

static void *writer_main(void *arg)
{
	struct store *st = arg;

	pthread_mutex_lock(&st->lock);
	for (;;) {
		while (!st->queue_head && !st->stopping)
			pthread_cond_wait(&st->queue_cond, &st->lock);
		if (!st->queue_head && st->stopping)
			break;
		/* Take up to STORE_MAX_BATCH jobs off the queue. */
		struct write_job *batch = st->queue_head, *last = batch;
		int n = 1;
		while (last->next && n < STORE_MAX_BATCH) {
			last = last->next;
			n++;
		}
		st->queue_head = last->next;
		if (!st->queue_head)
			st->queue_tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&st->lock);
		run_batch(st, batch);
		pthread_mutex_lock(&st->lock);
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

static void *checkpointer_main(void *arg)
{
	struct store *st = arg;
	uint64_t done = 0;

	pthread_mutex_lock(&st->lock);
	while (!st->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += STORE_CKPT_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&st->done_cond, &st->lock, &until);
		if (st->stopping || st->batches == done)
			continue;
		done = st->batches;
		pthread_mutex_unlock(&st->lock);
		/* PASSIVE: copies what no reader needs, never waits for the writer.
		 * Commits go on meanwhile; go again (each round has less to copy)
		 * until one round copied everything, so that the writer's next
		 * transaction can start the WAL over instead of growing it. */
		for (int round = 0; round < STORE_CKPT_ROUNDS; round++) {
			int log = 0, ckpt = 0;
			if (sqlite3_wal_checkpoint_v2(st->cdb, NULL, SQLITE_CHECKPOINT_PASSIVE,
			                              &log, &ckpt) != SQLITE_OK ||
			    ckpt >= log)
				break; /* caught up; or busy/failed: the next tick retries */
		}
		pthread_mutex_lock(&st->lock);
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

/* Append job to the queue; -1 with err once the store is closing. */
static int enqueue(struct store *st, struct write_job *job, char *err, size_t errlen)
{
	pthread_mutex_lock(&st->lock);
	if (st->stopping) {
		pthread_mutex_unlock(&st->lock);
		snprintf(err, errlen, "store is closing");
		return -1;
	}
	if (st->queue_tail)
		st->queue_tail->next = job;
	else
		st->queue_head = job;
	st->queue_tail = job;
	pthread_cond_signal(&st->queue_cond);
	pthread_mutex_unlock(&st->lock);
	return 0;
}

int store_write_async(struct store *st, struct store_op *ops, size_t n, store_done_fn done,
                      void *arg, char *err, size_t errlen)
{
	struct write_job *job = calloc(1, sizeof(*job));
	if (!job) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	job->ops = ops;
	job->n = n;
	job->done_fn = done;
	job->done_arg = arg;
	if (enqueue(st, job, err, errlen)) {
		free(job);
		return -1;
	}
	return 0;
}

int store_write(struct store *st, struct store_op *ops, size_t n, char *err, size_t errlen)
{
	struct write_job job = {.ops = ops, .n = n};

	if (sem_init(&job.done, 0, 0) != 0) {
		snprintf(err, errlen, "sem_init failed");
		return -1;
	}
	/* The job lives on this stack until the writer posts it done. */
	if (enqueue(st, &job, err, errlen)) {
		sem_destroy(&job.done);
		return -1;
	}
	while (sem_wait(&job.done) != 0)
		; /* EINTR */
	sem_destroy(&job.done);
	if (job.rv)
		snprintf(err, errlen, "%s", job.err);
	return job.rv;
}

/* Make path (created empty when missing) and its -wal/-shm files mode 0600.
 * SQLite gives the -wal/-shm files it creates the database file's mode. */
static int secure_files(const char *path, char *err, size_t errlen)
{
	static const char *const suffix[] = {"", "-wal", "-shm"};
	char p[4096];
	int rv = -1, fd = -1;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	for (size_t i = 1; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		if (snprintf(p, sizeof(p), "%s%s", path, suffix[i]) >= (int)sizeof(p)) {
			snprintf(err, errlen, "%s: path too long", path);
			goto fail;
		}
		if (chmod(p, 0600) != 0 && errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", p, strerror(errno));
			goto fail;
		}
	}
	rv = 0;
fail:
	if (fd >= 0)
		close(fd);
	return rv;
}

/* PRAGMA quick_check on db: 0 when it says "ok", else -1 with its first
 * findings (or the error that stopped it) in err. */
static int quick_check(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *q = NULL;
	size_t used = 0;
	int rc, n = 0, rv = -1;

	err[0] = '\0';
	if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &q, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		goto fail;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(q, 0);
		if (n == 0 && line && !strcmp(line, "ok"))
			continue;
		if (n++ < STORE_CHECK_FINDINGS && used < errlen) {
			int w = snprintf(err + used, errlen - used, "%s%s", used ? "; " : "",
			                 line ? line : "?");
			used += w > 0 ? (size_t)w : 0;
		}
	}
	if (rc != SQLITE_DONE) {
		if (used < errlen)
			snprintf(err + used, errlen - used, "%s%s", used ? "; " : "",
			         sqlite3_errmsg(db));
		goto fail;
	}
	if (n > STORE_CHECK_FINDINGS && used < errlen)
		snprintf(err + used, errlen - used, " (%d findings in all)", n);
	if (n == 0)
		rv = 0;
fail:
	for (char *p = err; *p; p++)
		if (*p == '\n')
			*p = ' '; /* one line for the log */
	sqlite3_finalize(q);
	return rv;
}

/* Refuse a damaged database, saying where, what SQLite found, and what to do. */
static int check_integrity(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	char found[1024];

	if (quick_check(db, found, sizeof(found)) == 0)
		return 0;
	snprintf(err, errlen,
	         "%s: the database is damaged; det-master will not start on it "
	         "(PRAGMA quick_check: %s). Restore a copy made with det-master --backup, "
	         "see RECOVERY in det-master(8)",
	         path, found);
	return -1;
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
	struct store *st = calloc(1, sizeof(*st));

	if (!st) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->queue_cond, NULL);
	pthread_cond_init(&st->done_cond, NULL);
	pthread_mutex_init(&st->readers_lock, NULL);
	st->path = strdup(path);
	if (!st->path) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (secure_files(path, err, errlen))
		goto fail;
	st->wdb = store_connect(path, 0, err, errlen);
	if (!st->wdb || check_integrity(st->wdb, path, err, errlen) ||
	    migrate(st->wdb, &st->version, err, errlen))
		goto fail;
	if (pthread_create(&st->writer, NULL, writer_main, st) != 0) {
		snprintf(err, errlen, "cannot start the writer thread");
		goto fail;
	}
	st->writer_started = 1;
	st->cdb = store_connect(path, 0, err, errlen);
	if (!st->cdb)
		goto fail;
	if (pthread_create(&st->checkpointer, NULL, checkpointer_main, st) != 0) {
		snprintf(err, errlen, "cannot start the checkpoint thread");
		goto fail;
	}
	st->checkpointer_started = 1;
	return st;
fail:
	store_close(st);
	return NULL;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	pthread_mutex_lock(&st->lock);
	st->stopping = 1;
	pthread_cond_signal(&st->queue_cond);
	pthread_cond_broadcast(&st->done_cond);
	pthread_mutex_unlock(&st->lock);
	if (st->checkpointer_started)
		pthread_join(st->checkpointer, NULL);
	if (st->writer_started)
		pthread_join(st->writer, NULL);
	sqlite3_close(st->cdb);
	store_stmt_cache_free(st);
	for (size_t i = 0; i < st->nreaders; i++)
		sqlite3_close(st->readers[i]);
	sqlite3_close(st->wdb);
	pthread_mutex_destroy(&st->lock);
	pthread_mutex_destroy(&st->readers_lock);
	pthread_cond_destroy(&st->queue_cond);
	pthread_cond_destroy(&st->done_cond);
	free(st->path);
	free(st);
}

int store_schema_version(struct store *st)
{
	return st->version;
}

uint64_t store_write_failures(struct store *st)
{
	pthread_mutex_lock(&st->lock);
	uint64_t n = st->write_failures;
	pthread_mutex_unlock(&st->lock);
	return n;
}

void store_stats(struct store *st, uint64_t *batches, uint64_t *ops, double *commit_seconds)
{
	pthread_mutex_lock(&st->lock);
	*batches = st->batches;
	*ops = st->ops_total;
	*commit_seconds = st->commit_seconds;
	pthread_mutex_unlock(&st->lock);
}

sqlite3 *store_reader_get(struct store *st, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	pthread_mutex_lock(&st->readers_lock);
	if (st->nreaders)
		db = st->readers[--st->nreaders];
	pthread_mutex_unlock(&st->readers_lock);
	return db ? db : store_connect(st->path, 1, err, errlen);
}

void store_reader_put(struct store *st, sqlite3 *db)
{
	pthread_mutex_lock(&st->readers_lock);
	if (st->nreaders < STORE_MAX_READERS) {
		st->readers[st->nreaders++] = db;
		db = NULL;
	}
	pthread_mutex_unlock(&st->readers_lock);
	sqlite3_close(db);
}

/* Copy every page of src into dst with the online backup API, in one step:
 * one read transaction on src (WAL: the master's writes go on meanwhile), so
 * the copy is one consistent snapshot and never starts over. 0 or -1 with err. */
static int copy_pages(sqlite3 *src, sqlite3 *dst, char *err, size_t errlen)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	int rc;

	if (!b) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(dst));
		return -1;
	}
	do {
		rc = sqlite3_backup_step(b, -1);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(50);
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	if (sqlite3_backup_finish(b) != SQLITE_OK || rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(dst));
		return -1;
	}
	return 0;
}

int store_backup(const char *path, const char *dest, char *err, size_t errlen)
{
	sqlite3 *src = NULL, *dst = NULL;
	char found[512];
	int fd, created = 0, rv = -1;

	src = store_connect(path, 1, found, sizeof(found));
	if (!src) {
		snprintf(err, errlen, "%s", found);
		goto fail;
	}
	/* O_EXCL: never overwrite, not even a file that appears meanwhile. */
	fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s%s", dest, strerror(errno),
		         errno == EEXIST ? " (a backup never overwrites a file)" : "");
		goto fail;
	}
	close(fd);
	created = 1;
	if (sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", dest, dst ? sqlite3_errmsg(dst) : "out of memory");
		goto fail;
	}
	if (copy_pages(src, dst, found, sizeof(found))) {
		snprintf(err, errlen, "copying %s to %s: %s", path, dest, found);
		goto fail;
	}
	if (quick_check(dst, found, sizeof(found))) {
		snprintf(err, errlen, "%s: the copy fails PRAGMA quick_check (%s): %s is damaged",
		         dest, found, path);
		goto fail;
	}
	rv = 0;
fail:
	sqlite3_close(src);
	if (sqlite3_close(dst) != SQLITE_OK && rv == 0) {
		snprintf(err, errlen, "%s: cannot close", dest);
		rv = -1;
	}
	if (rv && created) {
		/* Nothing half written stays behind. */
		static const char *const sides[] = {"", "-journal"};
		for (size_t i = 0; i < sizeof(sides) / sizeof(sides[0]); i++) {
			char side[4096];
			snprintf(side, sizeof(side), "%s%s", dest, sides[i]);
			unlink(side);
		}
	}
	return rv;
}
