/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Server-side paging and sorting of a list answer (trials, checkpoints): limit, offset, order_by,
 * order. */
#ifndef DET_MASTER_API_LIST_H
#define DET_MASTER_API_LIST_H

#include <jansson.h>
#include <stddef.h>

#define API_LIST_MAX_LIMIT 10000 /* rows in one page */

/* What a request asked for (api_list_parse). */
struct api_list_query {
	char order_by[128]; /* a column, or "COLUMN.KEY" inside an object column; "" = default */
	int desc;           /* order=desc */
	long limit;         /* -1: every row */
	long offset;
};

/* Read limit, offset, order_by and order (asc|desc) from their text (NULL = absent).
 * 0, or -1 with err naming the bad parameter and why. */
int api_list_parse(const char *limit, const char *offset, const char *order_by, const char *order,
                   struct api_list_query *q, char *err, size_t errlen);

/* Sort rows (an array of objects, changed in place) by q->order_by (nulls and
 * missing values last in either order; ties by tie_key ascending), then cut the
 * page: a new array of the rows from offset, at most limit of them. The number of
 * rows before the cut goes to *total. NULL with err when order_by names no column
 * of the rows (400) or memory ran out. */
json_t *api_list_page(json_t *rows, const struct api_list_query *q, const char *tie_key,
                      size_t *total, char *err, size_t errlen);

#endif
