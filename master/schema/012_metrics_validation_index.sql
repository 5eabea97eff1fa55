-- SPDX-License-Identifier: GPL-2.0-or-later
-- A training report wrote three B-tree pages of its own trial per commit
-- (the row's index entries in metrics_trial and metrics_trial_id, beside the
-- table's last page that all reports share). Reads walk metrics_trial_id; the
-- only lookups by group and step are of validation rows (a checkpoint's
-- metrics, GET ...?group=validation), which a partial index on the validation
-- rows alone serves without training reports touching it.
DROP INDEX metrics_trial;
CREATE INDEX metrics_validation ON metrics(trial_id, id) WHERE grp = 'validation';
