-- SPDX-License-Identifier: GPL-2.0-or-later
-- A trial's metric rows in id order straight from an index: reads of
-- GET /trials/{id}/metrics (paged by row id, since=, max_points) walk it
-- instead of sorting every row of the trial for each page.
CREATE INDEX metrics_trial_id ON metrics(trial_id, id);
