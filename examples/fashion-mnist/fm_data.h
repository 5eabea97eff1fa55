/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fashion-MNIST in IDX format (gzip-compressed), as Debian's
 * dataset-fashion-mnist installs it.
 */
#ifndef FM_DATA_H
#define FM_DATA_H

#include <stddef.h>
#include <stdint.h>

#define FM_PIXELS 784 /* 28 x 28 */
#define FM_CLASSES 10

struct fm_dataset {
	size_t n;
	float *x;   /* n x FM_PIXELS, scaled to [0, 1] */
	uint8_t *y; /* n labels in [0, 10) */
};

/* Load images and labels (paths to the .gz IDX files); at most max_n
 * examples (0 = all). Checks magic numbers, shapes, counts and labels. */
int fm_data_load(const char *images_gz, const char *labels_gz, size_t max_n, struct fm_dataset *out,
                 char *err, size_t errlen);

/* Copy the examples idx[0..n) of src into a new dataset. */
int fm_data_subset(const struct fm_dataset *src, const uint32_t *idx, size_t n,
                   struct fm_dataset *out, char *err, size_t errlen);

/* Release the arrays (the struct itself is the caller's). */
void fm_data_free(struct fm_dataset *d);

#endif
