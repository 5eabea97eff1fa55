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

/* A fixed-width field: bytes (8: wire type 1, 4: wire type 5) of v, little-endian. */
static int pbuf_fixed_field(struct pbuf *b, unsigned field, uint64_t v, size_t bytes)
{
	unsigned char tmp[8];
	for (size_t i = 0; i < bytes; i++)
		tmp[i] = (unsigned char)(v >> (8 * i));
	if (pbuf_key(b, field, bytes == 8 ? 1 : 5) < 0)
		return -1;
	return pbuf_put(b, tmp, bytes);
}

static int pbuf_double_field(struct pbuf *b, unsigned field, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	return pbuf_fixed_field(b, field, bits, 8);
}

static int pbuf_float_field(struct pbuf *b, unsigned field, float v)
{
	uint32_t bits;
	memcpy(&bits, &v, sizeof(bits));
	return pbuf_fixed_field(b, field, bits, 4);
}

/* CRC-32C of each byte value (reflected polynomial 0x82F63B78): one lookup
 * per byte instead of eight shifts, which made the checksums a visible
 * share of the master's cost per metric report. */
static const uint32_t crc32c_table[256] = {
    0x00000000u, 0xf26b8303u, 0xe13b70f7u, 0x1350f3f4u, 0xc79a971fu, 0x35f1141cu, 0x26a1e7e8u,
    0xd4ca64ebu, 0x8ad958cfu, 0x78b2dbccu, 0x6be22838u, 0x9989ab3bu, 0x4d43cfd0u, 0xbf284cd3u,
    0xac78bf27u, 0x5e133c24u, 0x105ec76fu, 0xe235446cu, 0xf165b798u, 0x030e349bu, 0xd7c45070u,
    0x25afd373u, 0x36ff2087u, 0xc494a384u, 0x9a879fa0u, 0x68ec1ca3u, 0x7bbcef57u, 0x89d76c54u,
    0x5d1d08bfu, 0xaf768bbcu, 0xbc267848u, 0x4e4dfb4bu, 0x20bd8edeu, 0xd2d60dddu, 0xc186fe29u,
    0x33ed7d2au, 0xe72719c1u, 0x154c9ac2u, 0x061c6936u, 0xf477ea35u, 0xaa64d611u, 0x580f5512u,
    0x4b5fa6e6u, 0xb93425e5u, 0x6dfe410eu, 0x9f95c20du, 0x8cc531f9u, 0x7eaeb2fau, 0x30e349b1u,
    0xc288cab2u, 0xd1d83946u, 0x23b3ba45u, 0xf779deaeu, 0x05125dadu, 0x1642ae59u, 0xe4292d5au,
    0xba3a117eu, 0x4851927du, 0x5b016189u, 0xa96ae28au, 0x7da08661u, 0x8fcb0562u, 0x9c9bf696u,
    0x6ef07595u, 0x417b1dbcu, 0xb3109ebfu, 0xa0406d4bu, 0x522bee48u, 0x86e18aa3u, 0x748a09a0u,
    0x67dafa54u, 0x95b17957u, 0xcba24573u, 0x39c9c670u, 0x2a993584u, 0xd8f2b687u, 0x0c38d26cu,
    0xfe53516fu, 0xed03a29bu, 0x1f682198u, 0x5125dad3u, 0xa34e59d0u, 0xb01eaa24u, 0x42752927u,
    0x96bf4dccu, 0x64d4cecfu, 0x77843d3bu, 0x85efbe38u, 0xdbfc821cu, 0x2997011fu, 0x3ac7f2ebu,
    0xc8ac71e8u, 0x1c661503u, 0xee0d9600u, 0xfd5d65f4u, 0x0f36e6f7u, 0x61c69362u, 0x93ad1061u,
    0x80fde395u, 0x72966096u, 0xa65c047du, 0x5437877eu, 0x4767748au, 0xb50cf789u, 0xeb1fcbadu,
    0x197448aeu, 0x0a24bb5au, 0xf84f3859u, 0x2c855cb2u, 0xdeeedfb1u, 0xcdbe2c45u, 0x3fd5af46u,
    0x7198540du, 0x83f3d70eu, 0x90a324fau, 0x62c8a7f9u, 0xb602c312u, 0x44694011u, 0x5739b3e5u,
    0xa55230e6u, 0xfb410cc2u, 0x092a8fc1u, 0x1a7a7c35u, 0xe811ff36u, 0x3cdb9bddu, 0xceb018deu,
    0xdde0eb2au, 0x2f8b6829u, 0x82f63b78u, 0x709db87bu, 0x63cd4b8fu, 0x91a6c88cu, 0x456cac67u,
    0xb7072f64u, 0xa457dc90u, 0x563c5f93u, 0x082f63b7u, 0xfa44e0b4u, 0xe9141340u, 0x1b7f9043u,
    0xcfb5f4a8u, 0x3dde77abu, 0x2e8e845fu, 0xdce5075cu, 0x92a8fc17u, 0x60c37f14u, 0x73938ce0u,
    0x81f80fe3u, 0x55326b08u, 0xa759e80bu, 0xb4091bffu, 0x466298fcu, 0x1871a4d8u, 0xea1a27dbu,
    0xf94ad42fu, 0x0b21572cu, 0xdfeb33c7u, 0x2d80b0c4u, 0x3ed04330u, 0xccbbc033u, 0xa24bb5a6u,
    0x502036a5u, 0x4370c551u, 0xb11b4652u, 0x65d122b9u, 0x97baa1bau, 0x84ea524eu, 0x7681d14du,
    0x2892ed69u, 0xdaf96e6au, 0xc9a99d9eu, 0x3bc21e9du, 0xef087a76u, 0x1d63f975u, 0x0e330a81u,
    0xfc588982u, 0xb21572c9u, 0x407ef1cau, 0x532e023eu, 0xa145813du, 0x758fe5d6u, 0x87e466d5u,
    0x94b49521u, 0x66df1622u, 0x38cc2a06u, 0xcaa7a905u, 0xd9f75af1u, 0x2b9cd9f2u, 0xff56bd19u,
    0x0d3d3e1au, 0x1e6dcdeeu, 0xec064eedu, 0xc38d26c4u, 0x31e6a5c7u, 0x22b65633u, 0xd0ddd530u,
    0x0417b1dbu, 0xf67c32d8u, 0xe52cc12cu, 0x1747422fu, 0x49547e0bu, 0xbb3ffd08u, 0xa86f0efcu,
    0x5a048dffu, 0x8ecee914u, 0x7ca56a17u, 0x6ff599e3u, 0x9d9e1ae0u, 0xd3d3e1abu, 0x21b862a8u,
    0x32e8915cu, 0xc083125fu, 0x144976b4u, 0xe622f5b7u, 0xf5720643u, 0x07198540u, 0x590ab964u,
    0xab613a67u, 0xb831c993u, 0x4a5a4a90u, 0x9e902e7bu, 0x6cfbad78u, 0x7fab5e8cu, 0x8dc0dd8fu,
    0xe330a81au, 0x115b2b19u, 0x020bd8edu, 0xf0605beeu, 0x24aa3f05u, 0xd6c1bc06u, 0xc5914ff2u,
    0x37faccf1u, 0x69e9f0d5u, 0x9b8273d6u, 0x88d28022u, 0x7ab90321u, 0xae7367cau, 0x5c18e4c9u,
    0x4f48173du, 0xbd23943eu, 0xf36e6f75u, 0x0105ec76u, 0x12551f82u, 0xe03e9c81u, 0x34f4f86au,
    0xc69f7b69u, 0xd5cf889du, 0x27a40b9eu, 0x79b737bau, 0x8bdcb4b9u, 0x988c474du, 0x6ae7c44eu,
    0xbe2da0a5u, 0x4c4623a6u, 0x5f16d052u, 0xad7d5351u,
};

uint32_t tfevents_crc32c(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;
	crc = ~crc;
	while (len--)
		crc = (crc >> 8) ^ crc32c_table[(crc ^ *p++) & 0xffu];
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
/* This machine's name for event file names ('/' made '_'; "localhost" when unknown). */
static void host_name(char *host, size_t len)
{
	if (gethostname(host, len) < 0)
		snprintf(host, len, "localhost");
	host[len - 1] = '\0';
	for (char *p = host; *p; p++)
		if (*p == '/')
			*p = '_';
}

/* The first record of an event file: wall_time and the file version. 0, or -1 with err. */
static int write_version(struct tfevents_writer *w, double wall_time, char *err, size_t errlen)
{
	static const char version[] = "brain.Event:2";
	struct pbuf msg = {0};
	int rv = -1;

	if (pbuf_double_field(&msg, 1, wall_time) < 0 ||
	    pbuf_bytes_field(&msg, 3, version, strlen(version)) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (write_record(w, &msg, err, errlen) < 0 || tfevents_flush(w, err, errlen) < 0)
		goto fail;
	rv = 0;
fail:
	free(msg.data);
	return rv;
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
	char host[256];
	int fd = -1;

	if (mkdir_parents(dir) < 0) {
		snprintf(err, errlen, "%s: cannot create directory: %s", dir, strerror(errno));
		goto fail;
	}
	host_name(host, sizeof(host));
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
	if (write_version(w, wall_time, err, errlen) < 0)
		goto fail;
	return w;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	tfevents_close(w);
	return NULL;
}

int tfevents_file_name(double wall_time, char *out, size_t outlen)
{
	char host[256];

	host_name(host, sizeof(host));
	int n = snprintf(out, outlen, "events.out.tfevents.%lld.%s", (long long)wall_time, host);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

struct tfevents_writer *tfevents_fdopen(int fd, const char *path, int fresh, double wall_time,
                                        char *err, size_t errlen)
{
	struct tfevents_writer *w = calloc(1, sizeof(*w));

	if (!w || !(w->path = strdup(path)) || !(w->file = fdopen(fd, fresh ? "wb" : "ab"))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	fd = -1;
	if (fresh && write_version(w, wall_time, err, errlen) < 0)
		goto fail;
	return w;
fail:
	if (fd >= 0)
		close(fd);
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
