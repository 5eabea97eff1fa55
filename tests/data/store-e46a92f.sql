-- SPDX-License-Identifier: GPL-2.0-or-later
-- A store written by the released det-master of commit e46a92f (schema 4):
-- experiment 1 (random search, 2 trials COMPLETED with metrics, checkpoints and
-- logs; model_definition none) and experiment 2 (ERROR: its task ended without
-- an exit report, end_reason TASK_EXITED), run with tests/integration/fake-launch.sh.
-- The admin's password is in tests/integration/test-ops-upgrade.sh.
-- Made with: sqlite3 master.db .dump, plus the schema version; the test
-- checkpoint directory renamed /var/lib/det-slurm-checkpoints.
PRAGMA user_version=4;
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	password_hash TEXT,             -- crypt(3) yescrypt; NULL = no password login
	admin INTEGER NOT NULL DEFAULT 0,
	uid INTEGER,                    -- Unix uid for socket peers
	created_at REAL NOT NULL
);
INSERT INTO users VALUES(1,'admin','$y$j9T$.LCYRyzT89uf2S8WIJYXP.$5V/DLsKIUlC1KOyR4t5EdWeaFP9W6qEmxn0d8o7mUWC',1,0,1796604151.3931815623);
CREATE TABLE tokens (
	token TEXT PRIMARY KEY,
	kind TEXT NOT NULL CHECK (kind IN ('user', 'allocation', 'trial')),
	user_id INTEGER NOT NULL REFERENCES users(id),
	experiment_id INTEGER,
	trial_id INTEGER,
	created_at REAL NOT NULL
, expires_at REAL);
INSERT INTO tokens VALUES('fdb1cbb3affec4cad5c41e6672ab56f10ab2dbd8c5d71345a06958f5cdd0fe72','allocation',1,1,NULL,1796604153.4092414378,NULL);
INSERT INTO tokens VALUES('a213c5516eb97264dda7ac2f7dcf048bf5fc4610c2e55122ca59ba3d243356fa','allocation',1,2,NULL,1796604153.4472780227,NULL);
INSERT INTO tokens VALUES('3ae805b5935a76692824a3e5cbedd73a5752544e27f0bcc556d588c0efe3ea2c','trial',1,1,1,1796604153.5203585624,NULL);
INSERT INTO tokens VALUES('53737a578155f619c1d28bd1ba53e53267be1eb6ec82ce8fc4406485ac149d95','trial',1,2,2,1796604153.5232458114,NULL);
INSERT INTO tokens VALUES('d9d158e4cd2cae8ba8d948ce2389e3a11789795d3d5c1e2932c28c8fb7b1bc4b','trial',1,1,3,1796604153.8278863429,NULL);
CREATE TABLE experiments (
	id INTEGER PRIMARY KEY,
	owner_id INTEGER NOT NULL REFERENCES users(id),
	name TEXT NOT NULL,
	state TEXT NOT NULL,
	archived INTEGER NOT NULL DEFAULT 0,
	config TEXT NOT NULL,           -- normalized JSON (with the experiment seed)
	config_yaml TEXT NOT NULL,      -- as submitted
	alloc_token TEXT,               -- handed to the array's tasks
	model_def BLOB,                 -- tar.gz
	searcher_snapshot TEXT,
	labels TEXT NOT NULL DEFAULT '[]',
	num_tasks INTEGER NOT NULL,
	max_concurrent INTEGER NOT NULL,
	rm_job_id TEXT,                 -- resource manager's array id(s)
	progress REAL NOT NULL DEFAULT 0,
	created_at REAL NOT NULL,
	ended_at REAL
);
INSERT INTO experiments VALUES(1,1,'upgraded-random','COMPLETED',0,'{"name":"upgraded-random","description":"","labels":[],"entrypoint":"python3 train.py","hyperparameters":{"lr":{"type":"double","minval":0.01,"maxval":0.10000000000000001}},"searcher":{"name":"random","metric":"val_loss","smaller_is_better":true,"max_trials":2,"max_concurrent_trials":16,"max_length":{"batches":3}},"resources":{"slots_per_trial":1,"resource_pool":"default","priority":null,"max_slots":null},"checkpoint_storage":{"save_experiment_best":0,"save_trial_best":1,"save_trial_latest":1},"max_restarts":0,"reproducibility":{"experiment_seed":7},"environment":{"environment_variables":[]},"bind_mounts":[],"slurm":{"sbatch_args":[]},"data":{}}',replace('name: upgraded-random\nentrypoint: python3 train.py\nhyperparameters:\n  lr: {type: double, minval: 0.01, maxval: 0.1}\nsearcher: {name: random, metric: val_loss, max_trials: 2, max_length: {batches: 3}}\nmax_restarts: 0\nreproducibility: {experiment_seed: 7}\n','\n',char(10)),NULL,NULL,'{"version":1,"searcher":"random","trial_count":2,"replaced":[],"trials":[{"index":0,"claimed":true,"exit":"completed","stopped":true,"rung":0,"best":7.0,"time":3.0},{"index":1,"claimed":true,"exit":"completed","stopped":true,"rung":0,"best":8.0,"time":3.0}]}','[]',2,16,'local-1-1',1.0,1796604153.4092338085,1796604154.2007420063);
INSERT INTO experiments VALUES(2,1,'upgraded-error','ERROR',0,'{"name":"upgraded-error","description":"","labels":[],"entrypoint":"python3 train.py","hyperparameters":{},"searcher":{"name":"single","metric":"val_loss","smaller_is_better":true,"max_trials":1,"max_concurrent_trials":16,"max_length":{"batches":3}},"resources":{"slots_per_trial":1,"resource_pool":"default","priority":null,"max_slots":null},"checkpoint_storage":{"save_experiment_best":0,"save_trial_best":1,"save_trial_latest":1},"max_restarts":0,"reproducibility":{"experiment_seed":583851713},"environment":{"environment_variables":["FAKE_FAIL_TASK=0"]},"bind_mounts":[],"slurm":{"sbatch_args":[]},"data":{}}',replace('name: upgraded-error\nentrypoint: python3 train.py\nsearcher: {name: single, metric: val_loss, max_length: {batches: 3}}\nmax_restarts: 0\nenvironment: {environment_variables: [FAKE_FAIL_TASK=0]}\n','\n',char(10)),NULL,NULL,'{"version":1,"searcher":"single","trial_count":1,"replaced":[],"trials":[{"index":0,"claimed":true,"exit":"errored","stopped":false,"rung":0,"best":null,"time":null}]}','[]',1,1,'local-2-2',1.0,1796604153.4472677707,1796604153.8155667782);
CREATE TABLE trials (
	id INTEGER PRIMARY KEY,
	experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
	trial_index INTEGER NOT NULL,
	array_task INTEGER NOT NULL,
	state TEXT NOT NULL,
	hparams TEXT NOT NULL,
	seed INTEGER NOT NULL,
	restarts INTEGER NOT NULL DEFAULT 0,
	steps_completed INTEGER NOT NULL DEFAULT 0,
	best_metric REAL,
	latest_checkpoint TEXT,
	progress REAL NOT NULL DEFAULT 0,
	end_reason TEXT,                -- early exit reason, exit status text
	exit_code INTEGER,
	preempted INTEGER NOT NULL DEFAULT 0,
	created_at REAL NOT NULL,
	ended_at REAL,
	UNIQUE (experiment_id, trial_index)
);
INSERT INTO trials VALUES(1,1,0,0,'COMPLETED','{"lr":0.061476044120731974}',3569049407,0,3,7.0,'00000001-0000-4000-8000-000000000003',1.0,NULL,0,0,1796604153.5203545092,1796604153.9921815395);
INSERT INTO trials VALUES(2,2,0,0,'ERROR','{}',713485016,0,0,NULL,NULL,0.0,'TASK_EXITED',NULL,0,1796604153.5232424735,1796604153.8150148391);
INSERT INTO trials VALUES(3,1,1,1,'COMPLETED','{"lr":0.077207494636103172}',1257749601,0,3,8.0,'00000003-0000-4000-8000-000000000003',1.0,NULL,0,0,1796604153.8278822898,1796604154.2005739212);
CREATE TABLE allocations (           -- one row per array task
	experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
	array_task INTEGER NOT NULL,
	trial_index INTEGER,            -- the task's current trial (NULL before its first claim)
	next_index INTEGER,             -- replacement owed to this task
	state TEXT NOT NULL DEFAULT 'PENDING',
	exit_status INTEGER,            -- last wait status of the task
	failures INTEGER NOT NULL DEFAULT 0, -- exits without ever claiming a trial
	pid INTEGER, pid_start INTEGER,                    -- local RM: the task's process (to adopt after a restart)
	PRIMARY KEY (experiment_id, array_task)
);
INSERT INTO allocations VALUES(2,0,0,NULL,'ENDED',256,0,0,0);
INSERT INTO allocations VALUES(1,0,0,NULL,'ENDED',0,0,0,0);
INSERT INTO allocations VALUES(1,1,1,NULL,'ENDED',0,0,0,0);
CREATE TABLE metrics (
	id INTEGER PRIMARY KEY,
	trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
	grp TEXT NOT NULL,
	steps_completed INTEGER NOT NULL,
	body TEXT NOT NULL,
	created_at REAL NOT NULL
);
INSERT INTO metrics VALUES(1,1,'training',1,'{"loss":99}',1796604153.7458941937);
INSERT INTO metrics VALUES(2,1,'validation',1,'{"val_loss":9,"batches":1}',1796604153.7526829243);
INSERT INTO metrics VALUES(3,1,'training',2,'{"loss":98}',1796604153.8090281486);
INSERT INTO metrics VALUES(4,1,'validation',2,'{"val_loss":8,"batches":2}',1796604153.81619668);
INSERT INTO metrics VALUES(5,1,'training',3,'{"loss":97}',1796604153.9265601634);
INSERT INTO metrics VALUES(6,1,'validation',3,'{"val_loss":7,"batches":3}',1796604153.9425029754);
INSERT INTO metrics VALUES(7,3,'training',1,'{"loss":99}',1796604154.0308032035);
INSERT INTO metrics VALUES(8,3,'validation',1,'{"val_loss":10,"batches":1}',1796604154.036076784);
INSERT INTO metrics VALUES(9,3,'training',2,'{"loss":98}',1796604154.0950269698);
INSERT INTO metrics VALUES(10,3,'validation',2,'{"val_loss":9,"batches":2}',1796604154.100852251);
INSERT INTO metrics VALUES(11,3,'training',3,'{"loss":97}',1796604154.1583116054);
INSERT INTO metrics VALUES(12,3,'validation',3,'{"val_loss":8,"batches":3}',1796604154.1643252372);
CREATE TABLE checkpoints (
	uuid TEXT PRIMARY KEY,
	trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
	experiment_id INTEGER NOT NULL,
	state TEXT NOT NULL,
	steps_completed INTEGER NOT NULL,
	metadata TEXT NOT NULL,
	files TEXT NOT NULL,
	path TEXT NOT NULL,
	created_at REAL NOT NULL
);
INSERT INTO checkpoints VALUES('00000001-0000-4000-8000-000000000001',1,1,'DELETED',1,'{"step":1}','[{"path":"w.bin","size":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}]','/var/lib/det-slurm-checkpoints/00000001-0000-4000-8000-000000000001',1796604153.7586126327);
INSERT INTO checkpoints VALUES('00000001-0000-4000-8000-000000000002',1,1,'DELETED',2,'{"step":2}','[{"path":"w.bin","size":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}]','/var/lib/det-slurm-checkpoints/00000001-0000-4000-8000-000000000002',1796604153.827114582);
INSERT INTO checkpoints VALUES('00000001-0000-4000-8000-000000000003',1,1,'COMPLETED',3,'{"step":3}','[{"path":"w.bin","size":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}]','/var/lib/det-slurm-checkpoints/00000001-0000-4000-8000-000000000003',1796604153.9526104927);
INSERT INTO checkpoints VALUES('00000003-0000-4000-8000-000000000001',3,1,'DELETED',1,'{"step":1}','[{"path":"w.bin","size":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}]','/var/lib/det-slurm-checkpoints/00000003-0000-4000-8000-000000000001',1796604154.0418708324);
INSERT INTO checkpoints VALUES('00000003-0000-4000-8000-000000000002',3,1,'DELETED',2,'{"step":2}','[{"path":"w.bin","size":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}]','/var/lib/det-slurm-checkpoints/00000003-0000-4000-8000-000000000002',1796604154.1071195602);
INSERT INTO checkpoints VALUES('00000003-0000-4000-8000-000000000003',3,1,'COMPLETED',3,'{"step":3}','[{"path":"w.bin","size":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}]','/var/lib/det-slurm-checkpoints/00000003-0000-4000-8000-000000000003',1796604154.1707670688);
CREATE TABLE logs (
	id INTEGER PRIMARY KEY,
	trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
	rank INTEGER NOT NULL,
	stream TEXT NOT NULL,
	ts TEXT NOT NULL,
	line TEXT NOT NULL
);
INSERT INTO logs VALUES(1,1,0,'stdout','2026-01-01T00:00:00Z','trial 1 starts at 0');
INSERT INTO logs VALUES(2,3,0,'stdout','2026-01-01T00:00:00Z','trial 3 starts at 0');
CREATE TABLE allocation_events (
	id INTEGER PRIMARY KEY,
	experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
	job_id INTEGER NOT NULL,
	type TEXT NOT NULL CHECK (type IN ('allocation', 'task_exit')),
	body TEXT NOT NULL,
	created_at REAL NOT NULL
);
CREATE INDEX experiments_state ON experiments(state);
CREATE INDEX metrics_trial ON metrics(trial_id, grp, steps_completed);
CREATE INDEX checkpoints_trial ON checkpoints(trial_id);
CREATE INDEX logs_trial ON logs(trial_id, id);
CREATE INDEX allocation_events_experiment ON allocation_events(experiment_id, job_id);
COMMIT;
