/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * IDX reader for Fashion-MNIST through zlib's gz* interface. An IDX file is
 * a big-endian header (magic 0x00000803 for images, 0x00000801 for labels,
 * then the dimensions) followed by unsigned bytes.
 * Non-obvious: every header field is checked against the fixed shape before
 * anything is allocated, so a damaged file gives a message, not a huge malloc.
 */
#include "fm_data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define FM_MAX_EXAMPLES 1000000

static int read_exact(gzFile f, void *buf, size_t n, const char *path, char *err, size_t errlen)
{
	size_t done = 0;
	while (done < n) {
		unsigned chunk = n - done > (1u << 30) ? (1u << 30) : (unsigned)(n - done);
		int r = gzread(f, (char *)buf + done, chunk);
		if (r <= 0) {
			int zerr;
			const char *m = gzerror(f, &zerr);
			snprintf(err, errlen, "%s: %s", path, r == 0 ? "file is truncated" : m);
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static gzFile open_gz(const char *path, char *err, size_t errlen)
{
	gzFile f = gzopen(path, "rb");
	if (!f)
		snprintf(err, errlen, "%s: %s", path, errno ? strerror(errno) : "cannot open");
	return f;
}

int fm_data_load(const char *images_gz, const char *labels_gz, size_t max_n, struct fm_dataset *out,
                 char *err, size_t errlen)
{
	int rv = -1;
	uint8_t hi[16], hl[8];
	uint8_t *pix = NULL;
	gzFile fi = NULL, fl = NULL;
	memset(out, 0, sizeof(*out));
	if (!(fi = open_gz(images_gz, err, errlen)) || !(fl = open_gz(labels_gz, err, errlen)))
		goto fail;
	if (read_exact(fi, hi, sizeof(hi), images_gz, err, errlen) < 0 ||
	    read_exact(fl, hl, sizeof(hl), labels_gz, err, errlen) < 0)
		goto fail;
	if (be32(hi) != 0x803 || be32(hi + 8) != 28 || be32(hi + 12) != 28) {
		snprintf(err, errlen, "%s: not an IDX file of 28x28 images", images_gz);
		goto fail;
	}
	if (be32(hl) != 0x801) {
		snprintf(err, errlen, "%s: not an IDX label file", labels_gz);
		goto fail;
	}
	size_t n = be32(hi + 4);
	if (n != be32(hl + 4) || n == 0 || n > FM_MAX_EXAMPLES) {
		snprintf(err, errlen, "%s: %zu images but %u labels", images_gz, n, be32(hl + 4));
		goto fail;
	}
	if (max_n && max_n < n)
		n = max_n;
	pix = malloc(n * FM_PIXELS);
	out->x = malloc(n * FM_PIXELS * sizeof(float));
	out->y = malloc(n);
	if (!pix || !out->x || !out->y) {
		snprintf(err, errlen, "out of memory for %zu examples", n);
		goto fail;
	}
	if (read_exact(fi, pix, n * FM_PIXELS, images_gz, err, errlen) < 0 ||
	    read_exact(fl, out->y, n, labels_gz, err, errlen) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if (out->y[i] >= FM_CLASSES) {
			snprintf(err, errlen, "%s: label %u of example %zu is out of range",
			         labels_gz, out->y[i], i);
			goto fail;
		}
	}
	for (size_t i = 0; i < n * FM_PIXELS; i++)
		out->x[i] = (float)pix[i] / 255.0f;
	out->n = n;
	rv = 0;
fail:
	if (rv < 0)
		fm_data_free(out);
	free(pix);
	if (fi)
		gzclose(fi);
	if (fl)
		gzclose(fl);
	return rv;
}

int fm_data_subset(const struct fm_dataset *src, const uint32_t *idx, size_t n,
                   struct fm_dataset *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->x = malloc(n * FM_PIXELS * sizeof(float) + 1);
	out->y = malloc(n + 1);
	if (!out->x || !out->y) {
		fm_data_free(out);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (idx[i] >= src->n) {
			fm_data_free(out);
			snprintf(err, errlen, "subset index %u out of range", idx[i]);
			return -1;
		}
		memcpy(out->x + i * FM_PIXELS, src->x + (size_t)idx[i] * FM_PIXELS,
		       FM_PIXELS * sizeof(float));
		out->y[i] = src->y[idx[i]];
	}
	out->n = n;
	return 0;
}

void fm_data_free(struct fm_dataset *d)
{
	free(d->x);
	free(d->y);
	d->x = NULL;
	d->y = NULL;
	d->n = 0;
}
