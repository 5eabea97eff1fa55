-- SPDX-License-Identifier: GPL-2.0-or-later
-- Migration 2: what the Slurm plugin reports about allocations and tasks
-- (POST /allocations/{job_id}/events), kept as sent.
CREATE TABLE allocation_events (
	id INTEGER PRIMARY KEY,
	experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
	job_id INTEGER NOT NULL,
	type TEXT NOT NULL CHECK (type IN ('allocation', 'task_exit')),
	body TEXT NOT NULL,
	created_at REAL NOT NULL
);
CREATE INDEX allocation_events_experiment ON allocation_events(experiment_id, job_id);
