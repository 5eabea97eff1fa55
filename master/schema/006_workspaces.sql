-- SPDX-License-Identifier: GPL-2.0-or-later
-- Migration 6: workspaces hold projects, projects hold experiments, and
-- give roles to Unix users and groups; config templates; the model registry. The
-- default workspace "Uncategorized" (id 1, no owner, cannot be deleted) and
-- its project "Uncategorized" (id 1) receive every existing experiment.
CREATE TABLE workspaces (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	owner_id INTEGER,               -- users(id) of its creator; NULL = the default workspace
	archived INTEGER NOT NULL DEFAULT 0,
	created_at REAL NOT NULL
);
CREATE TABLE projects (
	id INTEGER PRIMARY KEY,
	workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	owner_id INTEGER,               -- users(id) of its creator; NULL = the default project
	archived INTEGER NOT NULL DEFAULT 0,
	created_at REAL NOT NULL,
	UNIQUE (workspace_id, name)
);
INSERT INTO workspaces (id, name, owner_id, created_at)
	VALUES (1, 'Uncategorized', NULL, CAST(strftime('%s', 'now') AS REAL));
INSERT INTO projects (id, workspace_id, name, owner_id, created_at)
	VALUES (1, 1, 'Uncategorized', NULL, CAST(strftime('%s', 'now') AS REAL));
-- Roles in a workspace: a Unix user (uid) or a Unix group (gid) is a viewer,
-- an editor or a workspace-admin. The creator is a workspace-admin without a row.
CREATE TABLE workspace_roles (
	id INTEGER PRIMARY KEY,
	workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
	uid INTEGER,
	gid INTEGER,
	role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'workspace-admin')),
	CHECK ((uid IS NULL) != (gid IS NULL)),
	UNIQUE (workspace_id, uid, gid)
);
-- Experiment config templates, by name: in a workspace, or global (NULL).
CREATE TABLE templates (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	workspace_id INTEGER REFERENCES workspaces(id) ON DELETE CASCADE,
	owner_id INTEGER NOT NULL,
	config_yaml TEXT NOT NULL,
	created_at REAL NOT NULL,
	updated_at REAL NOT NULL
);
-- The model registry: named models and their numbered versions, each a
-- checkpoint that garbage collection then keeps.
CREATE TABLE models (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	description TEXT NOT NULL DEFAULT '',
	owner_id INTEGER NOT NULL,
	created_at REAL NOT NULL
);
CREATE TABLE model_versions (
	id INTEGER PRIMARY KEY,
	model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
	version INTEGER NOT NULL,
	checkpoint_uuid TEXT NOT NULL,
	owner_id INTEGER NOT NULL,
	created_at REAL NOT NULL,
	UNIQUE (model_id, version)
);
-- SQLite cannot add a column with both REFERENCES and a non-NULL default:
-- det-master keeps project_id pointing at a project (moves and deletes are checked).
ALTER TABLE experiments ADD COLUMN project_id INTEGER NOT NULL DEFAULT 1;
CREATE INDEX experiments_project ON experiments(project_id);
-- Lineage: the experiment this one was forked from (NULL: none).
ALTER TABLE experiments ADD COLUMN parent_id INTEGER;
-- Editable after creation (det experiment set): the description starts as the config's.
ALTER TABLE experiments ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE experiments ADD COLUMN notes TEXT NOT NULL DEFAULT '';
UPDATE experiments SET description = coalesce(json_extract(config, '$.description'), '')
	WHERE json_valid(config) AND json_type(config, '$.description') = 'text';
