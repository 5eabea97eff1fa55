/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TensorBoard event file writer. An event file is a sequence of TFRecords:
 *   uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)
 * (little endian), each data an encoded tensorflow.Event message. Only the
 * few protobuf fields scalars need are encoded, by hand, so no protobuf
 * library is required:
 *   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
 *   Summary { repeated Value value = 1; }
 *   Value   { string tag = 1; float simple_value = 2; }
 * The CRC table is computed once per writer: no global state.
 */
#include "tfevents.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct tfevents_writer {
	FILE *file;
	char *path;
};

/* A growable byte buffer for one encoded message. */
struct pbuf {
	unsigned char *data;
	size_t len;
	size_t cap;
};

static int pbuf_put(struct pbuf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *grown = realloc(b->data, cap);
		if (!grown)
			return -1;
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static int pbuf_varint(struct pbuf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;
	do {
		tmp[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	return pbuf_put(b, tmp, n);
}

static int pbuf_le(struct pbuf *b, uint64_t v, size_t bytes)
{
	unsigned char tmp[8];
	for (size_t i = 0; i < bytes; i++)
		tmp[i] = (unsigned char)(v >> (8 * i));
	return pbuf_put(b, tmp, bytes);
}

/* Field key: (number << 3) | wire type. */
static int pbuf_key(struct pbuf *b, unsigned field, unsigned wire)
{
	return pbuf_varint(b, ((uint64_t)field << 3) | wire);
}

static int pbuf_bytes_field(struct pbuf *b, unsigned field, const void *p, size_t n)
{
	if (pbuf_key(b, field, 2) < 0 || pbuf_varint(b, n) < 0)
		return -1;
	return pbuf_put(b, p, n);
}

static int pbuf_double_field(struct pbuf *b, unsigned field, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	if (pbuf_key(b, field, 1) < 0)
		return -1;
	return pbuf_le(b, bits, 8);
}

static int pbuf_float_field(struct pbuf *b, unsigned field, float v)
{
	uint32_t bits;
	memcpy(&bits, &v, sizeof(bits));
	if (pbuf_key(b, field, 5) < 0)
		return -1;
	return pbuf_le(b, bits, 4);
}

uint32_t tfevents_crc32c(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
	}
	return ~crc;
}

uint32_t tfevents_mask_crc(uint32_t crc)
{
	return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

static int write_record(struct tfevents_writer *w, const struct pbuf *msg, char *err, size_t errlen)
{
	unsigned char head[12], tail[4];
	uint64_t len = msg->len;
	for (int i = 0; i < 8; i++)
		head[i] = (unsigned char)(len >> (8 * i));
	uint32_t lcrc = tfevents_mask_crc(tfevents_crc32c(0, head, 8));
	uint32_t dcrc = tfevents_mask_crc(tfevents_crc32c(0, msg->data, msg->len));
	for (int i = 0; i < 4; i++) {
		head[8 + i] = (unsigned char)(lcrc >> (8 * i));
		tail[i] = (unsigned char)(dcrc >> (8 * i));
	}
	if (fwrite(head, 1, sizeof(head), w->file) != sizeof(head) ||
	    fwrite(msg->data, 1, msg->len, w->file) != msg->len ||
	    fwrite(tail, 1, sizeof(tail), w->file) != sizeof(tail)) {
		snprintf(err, errlen, "%s: write failed: %s", w->path, strerror(errno));
		return -1;
	}
	return 0;
}

static int mkdir_parents(const char *dir)
{
	char *copy = strdup(dir);
	int rv = -1;
	if (!copy)
		return -1;
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(copy, 0755) < 0 && errno != EEXIST)
		goto fail;
	rv = 0;
fail:
	free(copy);
	return rv;
}

struct tfevents_writer *tfevents_open(const char *dir, double wall_time, char *err, size_t errlen)
{
	struct tfevents_writer *w = NULL;
	struct pbuf msg = {0};
	char host[256];
	int fd = -1;

	if (mkdir_parents(dir) < 0) {
		snprintf(err, errlen, "%s: cannot create directory: %s", dir, strerror(errno));
		goto fail;
	}
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	for (char *p = host; *p; p++)
		if (*p == '/')
			*p = '_';
	w = calloc(1, sizeof(*w));
	if (!w)
		goto nomem;
	/* Several writers may start in the same second: add a counter until free
	 * ("%.0d" prints nothing for 0, so the first name has no counter). */
	for (int n = 0; n < 1000 && fd < 0; n++) {
		free(w->path);
		w->path = NULL;
		if (asprintf(&w->path, "%s/events.out.tfevents.%lld.%s%s%.0d", dir,
		             (long long)wall_time, host, n ? "." : "", n) < 0) {
			w->path = NULL;
			goto nomem;
		}
		fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", w->path, strerror(errno));
			goto fail;
		}
	}
	if (fd < 0) {
		snprintf(err, errlen, "%s: no free event file name", dir);
		goto fail;
	}
	w->file = fdopen(fd, "wb");
	if (!w->file) {
		close(fd);
		goto nomem;
	}
	static const char version[] = "brain.Event:2";
	if (pbuf_double_field(&msg, 1, wall_time) < 0 ||
	    pbuf_bytes_field(&msg, 3, version, strlen(version)) < 0)
		goto nomem;
	if (write_record(w, &msg, err, errlen) < 0 || tfevents_flush(w, err, errlen) < 0)
		goto fail;
	free(msg.data);
	return w;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	free(msg.data);
	tfevents_close(w);
	return NULL;
}

int tfevents_file_name(double wall_time, char *out, size_t outlen)
{
	char host[256];

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	for (char *p = host; *p; p++)
		if (*p == '/')
			*p = '_';
	int n = snprintf(out, outlen, "events.out.tfevents.%lld.%s", (long long)wall_time, host);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

struct tfevents_writer *tfevents_fdopen(int fd, const char *path, int fresh, double wall_time,
                                        char *err, size_t errlen)
{
	struct tfevents_writer *w = calloc(1, sizeof(*w));
	struct pbuf msg = {0};
	static const char version[] = "brain.Event:2";

	if (!w || !(w->path = strdup(path)) || !(w->file = fdopen(fd, fresh ? "wb" : "ab")))
		goto nomem;
	fd = -1;
	if (fresh && (pbuf_double_field(&msg, 1, wall_time) < 0 ||
	              pbuf_bytes_field(&msg, 3, version, strlen(version)) < 0))
		goto nomem;
	if (fresh && (write_record(w, &msg, err, errlen) < 0 || tfevents_flush(w, err, errlen) < 0))
		goto fail;
	free(msg.data);
	return w;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	if (fd >= 0)
		close(fd);
	free(msg.data);
	tfevents_close(w);
	return NULL;
}

struct tfevents_writer *tfevents_reopen(const char *path, char *err, size_t errlen)
{
	struct tfevents_writer *w = calloc(1, sizeof(*w));
	int fd = -1;

	if (!w || !(w->path = strdup(path))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	w->file = fdopen(fd, "ab");
	if (!w->file) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		goto fail;
	}
	return w;
fail:
	tfevents_close(w);
	return NULL;
}

int tfevents_add_scalars(struct tfevents_writer *w, int64_t step, double wall_time,
                         const char *const *tags, const double *values, size_t n, char *err,
                         size_t errlen)
{
	struct pbuf event = {0}, summary = {0}, value = {0};
	int rv = -1;

	for (size_t i = 0; i < n; i++) {
		size_t tag_len = strlen(tags[i]);
		if (tag_len == 0 || tag_len > TFEVENTS_MAX_TAG_BYTES) {
			snprintf(err, errlen, "scalar tag must be 1 to %d bytes",
			         TFEVENTS_MAX_TAG_BYTES);
			goto fail;
		}
		value.len = 0;
		if (pbuf_bytes_field(&value, 1, tags[i], tag_len) < 0 ||
		    pbuf_float_field(&value, 2, (float)values[i]) < 0 ||
		    pbuf_bytes_field(&summary, 1, value.data, value.len) < 0)
			goto nomem;
	}
	if (pbuf_double_field(&event, 1, wall_time) < 0 || pbuf_key(&event, 2, 0) < 0 ||
	    pbuf_varint(&event, (uint64_t)step) < 0 ||
	    pbuf_bytes_field(&event, 5, summary.data ? summary.data : (const void *)"",
	                     summary.len) < 0)
		goto nomem;
	rv = write_record(w, &event, err, errlen);
	goto fail;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	free(event.data);
	free(summary.data);
	free(value.data);
	return rv;
}

int tfevents_flush(struct tfevents_writer *w, char *err, size_t errlen)
{
	if (fflush(w->file) != 0) {
		snprintf(err, errlen, "%s: %s", w->path, strerror(errno));
		return -1;
	}
	return 0;
}

const char *tfevents_path(const struct tfevents_writer *w)
{
	return w->path;
}

void tfevents_close(struct tfevents_writer *w)
{
	if (!w)
		return;
	if (w->file)
		fclose(w->file);
	free(w->path);
	free(w);
}
