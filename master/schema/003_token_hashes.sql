-- SPDX-License-Identifier: GPL-2.0-or-later
-- Migration 3: tokens are stored as their SHA-256 (hex), never as themselves.
-- Existing rows are converted in place (det_token_hash is registered by the
-- store), so logged-in users and running trials keep working across the
-- upgrade. User tokens get an expiry: converted ones expire 7 days after they
-- were made (the default lifetime). The experiments' plaintext allocation
-- tokens are dropped: their hashes are already in tokens, and det-master makes
-- a fresh one for an unfinished experiment when it loads it.
UPDATE tokens SET token = det_token_hash(token);
ALTER TABLE tokens ADD COLUMN expires_at REAL;
UPDATE tokens SET expires_at = created_at + 604800 WHERE kind = 'user';
UPDATE experiments SET alloc_token = NULL;
