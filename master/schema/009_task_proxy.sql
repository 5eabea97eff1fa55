-- SPDX-License-Identifier: GPL-2.0-or-later
-- Migration 9: where a running task serves (the proxy's target) and the hash
-- of the token the master gave it to register that address. The address is
-- set only by the task itself (POST /tasks/{id}/register) while it runs, and
-- cleared when it ends; the host is never taken from the request's body.
ALTER TABLE tasks ADD COLUMN token_hash TEXT;
ALTER TABLE tasks ADD COLUMN proxy_host TEXT;
ALTER TABLE tasks ADD COLUMN proxy_port INTEGER CHECK (proxy_port BETWEEN 1 AND 65535);
