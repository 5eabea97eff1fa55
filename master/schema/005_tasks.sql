-- SPDX-License-Identifier: GPL-2.0-or-later
-- Migration 5: tasks as a kind. A task is anything that holds resources from
-- the resource manager: a trial's array task, and later commands, notebooks,
-- shells and TensorBoards. Trial allocations stay in `allocations` (the
-- engine's claim path is unchanged); store_task_list shows them as tasks of
-- kind 'trial' next to the rows of `tasks`, so one listing covers both. (No
-- view: a view in the schema makes PRAGMA quick_check skip its test for
-- pages that no table uses, which is how the master detects a damaged table.)
CREATE TABLE tasks (
	id INTEGER PRIMARY KEY,
	kind TEXT NOT NULL
		CHECK (kind IN ('trial', 'command', 'notebook', 'shell', 'tensorboard')),
	owner_uid INTEGER NOT NULL CHECK (owner_uid >= 0),
	slots INTEGER NOT NULL DEFAULT 0 CHECK (slots >= 0),
	pool TEXT NOT NULL DEFAULT '',
	state TEXT NOT NULL DEFAULT 'QUEUED'
		CHECK (state IN ('QUEUED', 'STARTING', 'RUNNING', 'TERMINATED')),
	exit_status INTEGER,            -- wait status of its process (TERMINATED)
	end_reason TEXT,                -- why it ended: "exited", "killed", ...
	created_at REAL NOT NULL,
	started_at REAL,
	ended_at REAL
);
CREATE INDEX tasks_kind_state ON tasks(kind, state);
