-- SPDX-License-Identifier: GPL-2.0-or-later
-- Migration 8: what a command is for and which process or job runs it.
-- description is the user's text (det cmd run --config-file: description). pid
-- and pid_start (/proc/PID/stat field 22) name the process the local resource
-- manager started for a command, job_id the resource manager's id for it (the
-- Slurm job), so that a restarted det-master adopts it again (a pid alone may
-- have been reused) instead of marking it lost.
ALTER TABLE tasks ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN pid INTEGER;
ALTER TABLE tasks ADD COLUMN pid_start INTEGER;
ALTER TABLE tasks ADD COLUMN job_id TEXT NOT NULL DEFAULT '';
