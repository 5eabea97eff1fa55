-- SPDX-License-Identifier: GPL-2.0-or-later
-- Migration 11: the credential a task's server wants on every request (a
-- notebook's Jupyter token), sent by the task with its registration and added
-- by the /proxy/<id>/ relay as "Authorization: token ..." so its owner never
-- needs it. Cleared with the address when the task ends.
ALTER TABLE tasks ADD COLUMN proxy_auth TEXT;
