-- SPDX-License-Identifier: GPL-2.0-or-later
-- Migration 4: a local task's pid is adopted after a restart only when the
-- process still has the start time recorded with it (/proc/PID/stat field 22,
-- clock ticks after boot), so a pid the kernel has reused is never signalled.
ALTER TABLE allocations ADD COLUMN pid_start INTEGER;
