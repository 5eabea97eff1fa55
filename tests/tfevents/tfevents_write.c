/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helper: writes a known series of scalars with the tfevents writer so
 * that tfevents_read.py, an independent decoder, can check the file.
 * usage: tfevents_write DIR  (prints the event file's path)
 */
#include <stdio.h>

#include "tfevents.h"

int main(int argc, char **argv)
{
	char err[256];
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	struct tfevents_writer *w = tfevents_open(argv[1], 1700000000.25, err, sizeof(err));
	if (!w) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (int step = 0; step < 5; step++) {
		const char *tags[] = {"training/loss", "validation/accuracy"};
		double values[] = {1.0 / (step + 1), 0.5 + 0.1 * step};
		size_t n = step % 2 ? 2 : 1; /* odd steps carry both scalars */
		if (tfevents_add_scalars(w, step * 100, 1700000000.25 + step, tags, values, n, err,
		                         sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			tfevents_close(w);
			return 1;
		}
	}
	printf("%s\n", tfevents_path(w));
	tfevents_close(w);
	return 0;
}
