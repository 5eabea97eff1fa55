-- SPDX-License-Identifier: GPL-2.0-or-later
-- Migration 5: tasks as a kind. A task is anything that holds resources from
-- the resource manager: a trial's array task, and later commands, notebooks,
-- shells and TensorBoards. Trial allocations stay in `allocations` (the
-- engine's claim path is unchanged); the view `all_tasks` shows them as tasks
-- of kind 'trial' next to the rows of `tasks`, so one listing covers both.
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
CREATE VIEW all_tasks AS
	SELECT 'task-' || t.id AS task_id, t.kind, t.owner_uid, t.slots, t.pool, t.state,
	       t.exit_status, t.end_reason, t.created_at, t.started_at, t.ended_at,
	       NULL AS experiment_id, NULL AS array_task
	FROM tasks t
	UNION ALL
	SELECT 'trial-' || a.experiment_id || '-' || a.array_task, 'trial', u.uid,
	       json_extract(e.config, '$.resources.slots_per_trial'),
	       json_extract(e.config, '$.resources.resource_pool'),
	       CASE a.state WHEN 'PENDING' THEN 'QUEUED' WHEN 'RUNNING' THEN 'RUNNING'
	                    ELSE 'TERMINATED' END,
	       a.exit_status, NULL, e.created_at, NULL, e.ended_at,
	       a.experiment_id, a.array_task
	FROM allocations a JOIN experiments e ON e.id = a.experiment_id
	     LEFT JOIN users u ON u.id = e.owner_id;
