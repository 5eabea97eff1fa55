-- SPDX-License-Identifier: GPL-2.0-or-later
-- Migration 1: the whole first schema. Times are Unix seconds (REAL).
CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	password_hash TEXT,             -- crypt(3) yescrypt; NULL = no password login
	admin INTEGER NOT NULL DEFAULT 0,
	uid INTEGER,                    -- Unix uid for socket peers
	created_at REAL NOT NULL
);
CREATE TABLE tokens (
	token TEXT PRIMARY KEY,
	kind TEXT NOT NULL CHECK (kind IN ('user', 'allocation', 'trial')),
	user_id INTEGER NOT NULL REFERENCES users(id),
	experiment_id INTEGER,
	trial_id INTEGER,
	created_at REAL NOT NULL
);
CREATE TABLE experiments (
	id INTEGER PRIMARY KEY,
	owner_id INTEGER NOT NULL REFERENCES users(id),
	name TEXT NOT NULL,
	state TEXT NOT NULL,
	archived INTEGER NOT NULL DEFAULT 0,
	config TEXT NOT NULL,           -- normalized JSON (with the experiment seed)
	config_yaml TEXT NOT NULL,      -- as submitted
	alloc_token TEXT,               -- handed to the array's tasks
	model_def BLOB,                 -- tar.gz
	searcher_snapshot TEXT,
	labels TEXT NOT NULL DEFAULT '[]',
	num_tasks INTEGER NOT NULL,
	max_concurrent INTEGER NOT NULL,
	rm_job_id TEXT,                 -- resource manager's array id(s)
	progress REAL NOT NULL DEFAULT 0,
	created_at REAL NOT NULL,
	ended_at REAL
);
CREATE INDEX experiments_state ON experiments(state);
CREATE TABLE trials (
	id INTEGER PRIMARY KEY,
	experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
	trial_index INTEGER NOT NULL,
	array_task INTEGER NOT NULL,
	state TEXT NOT NULL,
	hparams TEXT NOT NULL,
	seed INTEGER NOT NULL,
	restarts INTEGER NOT NULL DEFAULT 0,
	steps_completed INTEGER NOT NULL DEFAULT 0,
	best_metric REAL,
	latest_checkpoint TEXT,
	progress REAL NOT NULL DEFAULT 0,
	end_reason TEXT,                -- early exit reason, exit status text
	exit_code INTEGER,
	preempted INTEGER NOT NULL DEFAULT 0,
	created_at REAL NOT NULL,
	ended_at REAL,
	UNIQUE (experiment_id, trial_index)
);
CREATE TABLE allocations (           -- one row per array task
	experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
	array_task INTEGER NOT NULL,
	trial_index INTEGER,            -- the task's current trial (NULL before its first claim)
	next_index INTEGER,             -- replacement owed to this task
	state TEXT NOT NULL DEFAULT 'PENDING',
	exit_status INTEGER,            -- last wait status of the task
	failures INTEGER NOT NULL DEFAULT 0, -- exits without ever claiming a trial
	pid INTEGER,                    -- local RM: the task's process (to adopt after a restart)
	PRIMARY KEY (experiment_id, array_task)
);
CREATE TABLE metrics (
	id INTEGER PRIMARY KEY,
	trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
	grp TEXT NOT NULL,
	steps_completed INTEGER NOT NULL,
	body TEXT NOT NULL,
	created_at REAL NOT NULL
);
CREATE INDEX metrics_trial ON metrics(trial_id, grp, steps_completed);
CREATE TABLE checkpoints (
	uuid TEXT PRIMARY KEY,
	trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
	experiment_id INTEGER NOT NULL,
	state TEXT NOT NULL,
	steps_completed INTEGER NOT NULL,
	metadata TEXT NOT NULL,
	files TEXT NOT NULL,
	path TEXT NOT NULL,
	created_at REAL NOT NULL
);
CREATE INDEX checkpoints_trial ON checkpoints(trial_id);
CREATE TABLE logs (
	id INTEGER PRIMARY KEY,
	trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
	rank INTEGER NOT NULL,
	stream TEXT NOT NULL,
	ts TEXT NOT NULL,
	line TEXT NOT NULL
);
CREATE INDEX logs_trial ON logs(trial_id, id);
