/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TensorBoard event files: scalars written as TFRecord-framed Event protocol
 * buffers (masked CRC32C), the format TensorBoard reads from a log directory.
 */
#ifndef DET_TFEVENTS_H
#define DET_TFEVENTS_H

#include <stddef.h>
#include <stdint.h>

#define TFEVENTS_MAX_TAG_BYTES 1024 /* longest tag accepted */

struct tfevents_writer;

/* CRC32C (Castagnoli) of len bytes, continuing from crc (start with 0). */
uint32_t tfevents_crc32c(uint32_t crc, const void *data, size_t len);

/* TFRecord's masked form of a CRC32C. */
uint32_t tfevents_mask_crc(uint32_t crc);

/* Create dir (and parents) if needed and a new event file in it named
 * events.out.tfevents.<seconds>.<host>; the first record is the file version.
 * NULL with err on failure. */
struct tfevents_writer *tfevents_open(const char *dir, double wall_time, char *err, size_t errlen);

/* Open the existing event file at path (made by tfevents_open) to append
 * more events to it. NULL with err on failure. */
struct tfevents_writer *tfevents_reopen(const char *path, char *err, size_t errlen);

/* The name tfevents_open gives a new event file, events.out.tfevents.<seconds>.<host>
 * (without its directory). 0, or -1 when it does not fit. */
int tfevents_file_name(double wall_time, char *out, size_t outlen);

/* Take over fd, an event file at path opened for writing; a fresh (new, empty) one gets
 * the file version record first. NULL with err (fd is closed then). */
struct tfevents_writer *tfevents_fdopen(int fd, const char *path, int fresh, double wall_time,
                                        char *err, size_t errlen);

/* Append one Event at step holding n scalar values tags[i] = values[i].
 * 0, or -1 with err (I/O error, empty or over-long tag). */
int tfevents_add_scalars(struct tfevents_writer *w, int64_t step, double wall_time,
                         const char *const *tags, const double *values, size_t n, char *err,
                         size_t errlen);

/* Flush buffered records to the file. 0 or -1 with err. */
int tfevents_flush(struct tfevents_writer *w, char *err, size_t errlen);

/* Path of the event file (owned by w). */
const char *tfevents_path(const struct tfevents_writer *w);

/* Flush and close (NULL is fine). */
void tfevents_close(struct tfevents_writer *w);

#endif
