-- SPDX-License-Identifier: GPL-2.0-or-later
-- Migration 7: the image cache's names (det image import). A name maps to the
-- SHA-256 of a root file system tarball kept in the image cache directory;
-- owner_id is the importer, who (or an admin) may remove or replace the name.
-- A trial records the digest of the image it ran in.
CREATE TABLE images (
	name TEXT PRIMARY KEY,
	digest TEXT NOT NULL,
	owner_id INTEGER NOT NULL REFERENCES users(id),
	size_bytes INTEGER NOT NULL,
	created_at REAL NOT NULL
);
CREATE INDEX images_digest ON images(digest);
ALTER TABLE trials ADD COLUMN image_digest TEXT;
