/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Metric series for charts: a trial's metric rows regrouped into one series
 * per (group, metric name) and downsampled to a bounded number of points
 * that keeps each bucket's minimum and maximum. Pure: no I/O, no clock.
 */
#ifndef DET_METRICS_DS_H
#define DET_METRICS_DS_H

#include <jansson.h>
#include <stdint.h>

/* Smallest max_points accepted (first, last and one min/max bucket). */
#define METRICS_DS_MIN_POINTS 4

struct metrics_ds;

/* An empty collection of series, or NULL when out of memory. */
struct metrics_ds *metrics_ds_new(void);

/* Free ds (NULL is fine). */
void metrics_ds_free(struct metrics_ds *ds);

/* Add rows (GET /trials/{id}/metrics rows, ascending id) to ds: 0, or -1 with
 * err when out of memory. Non-number values are skipped. */
int metrics_ds_add(struct metrics_ds *ds, const json_t *rows, char *err, size_t errlen);

/* Add one row given as its group, steps_completed, created_at and metrics
 * (JSON text of len bytes) to ds, exactly as metrics_ds_add adds the row:
 * 0, or -1 with err when out of memory. Text that is not a JSON object adds
 * nothing. */
int metrics_ds_add_text(struct metrics_ds *ds, const char *group, int64_t steps, double time,
                        const char *body, size_t len, char *err, size_t errlen);

/* Points added to ds so far (every metric value of every row). */
size_t metrics_ds_points(const struct metrics_ds *ds);

/* The series of ds as metrics_ds_series() describes them; once per ds, then
 * only metrics_ds_free(). NULL with err when max_points is too small or out
 * of memory. */
json_t *metrics_ds_finish(struct metrics_ds *ds, size_t max_points, char *err, size_t errlen);

/* Series of rows (GET /trials/{id}/metrics rows, ascending id), each with at
 * most max_points (>= METRICS_DS_MIN_POINTS) points, the first, last, and
 * every bucket's minimum and maximum kept, in row order: a new array of
 * {"group", "name", "steps": [], "values": [], "times": [], "rows": N}.
 * Non-number values are skipped. NULL with err when out of memory. */
json_t *metrics_ds_series(const json_t *rows, size_t max_points, char *err, size_t errlen);

#endif
