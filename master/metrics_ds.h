/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Metric series for charts: a trial's metric rows regrouped into one series
 * per (group, metric name) and downsampled to a bounded number of points
 * that keeps each bucket's minimum and maximum. Pure: no I/O, no clock.
 */
#ifndef DET_METRICS_DS_H
#define DET_METRICS_DS_H

#include <jansson.h>

/* Smallest max_points accepted (first, last and one min/max bucket). */
#define METRICS_DS_MIN_POINTS 4

/* Series of rows (GET /trials/{id}/metrics rows, ascending id), each with at
 * most max_points (>= METRICS_DS_MIN_POINTS) points, the first, last, and
 * every bucket's minimum and maximum kept, in row order: a new array of
 * {"group", "name", "steps": [], "values": [], "times": [], "rows": N}.
 * Non-number values are skipped. NULL with err when out of memory. */
json_t *metrics_ds_series(const json_t *rows, size_t max_points, char *err, size_t errlen);

#endif
