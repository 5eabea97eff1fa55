/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reads the tar archives of model definitions (what `det` packs: pax over
 * ustar, gzip-compressed; also plain ustar, GNU long names, uncompressed)
 * straight from memory, inflating with zlib as it goes. Every header's
 * checksum is verified, numbers are octal fields of bounded width, and
 * metadata (pax records, GNU long names) is capped at META_MAX bytes.
 * Non-obvious decision: this replaces libarchive in det-launch, which
 * unpacks a model definition for every trial: libarchive and what it loads
 * (libxml2, ICU, libstdc++, five compressors) doubled det-launch's start-up
 * time, while model definitions only ever need tar and gzip. Entry types
 * beyond files, directories, links, devices and fifos are refused.
 */
#include "launch_tar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define BLOCK 512
#define META_MAX (64 * 1024)     /* a pax header or GNU long name */
#define OTHER_DATA_MAX (1 << 20) /* data carried by a non-file entry, skipped */
#define META_RUN_MAX 16          /* metadata headers in a row before an entry */

struct launch_tar {
	const unsigned char *in;
	size_t in_len, in_off; /* uncompressed input */
	int gz;
	z_stream z;
	uint64_t left; /* data bytes of the current entry not yet read */
	uint64_t pad;  /* padding after them */
	char *path, *link;
	char *pax_path, *pax_link, *gnu_path, *gnu_link; /* for the next entry */
	int64_t pax_size;                                /* -1: none */
};

struct launch_tar *launch_tar_open(const void *data, size_t len, char *err, size_t errlen)
{
	struct launch_tar *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->in = data;
	t->in_len = len;
	t->pax_size = -1;
	if (len >= 2 && t->in[0] == 0x1f && t->in[1] == 0x8b) {
		t->gz = 1;
		t->z.next_in = (unsigned char *)t->in;
		t->z.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
		t->in_off = t->z.avail_in;
		if (inflateInit2(&t->z, 15 + 16) != Z_OK) {
			snprintf(err, errlen, "zlib initialisation failed");
			free(t);
			return NULL;
		}
	}
	return t;
}

/* Up to n bytes of the archive into buf: how many (fewer only at its end), -1 with err. */
static ssize_t fill(struct launch_tar *t, unsigned char *buf, size_t n, char *err, size_t errlen)
{
	if (!t->gz) {
		size_t k = t->in_len - t->in_off < n ? t->in_len - t->in_off : n;
		memcpy(buf, t->in + t->in_off, k);
		t->in_off += k;
		return (ssize_t)k;
	}
	t->z.next_out = buf;
	t->z.avail_out = (uInt)n;
	while (t->z.avail_out > 0) {
		if (t->z.avail_in == 0 && t->in_off < t->in_len) {
			size_t more = t->in_len - t->in_off;
			t->z.avail_in = more > UINT32_MAX ? UINT32_MAX : (uInt)more;
			t->in_off += t->z.avail_in;
		}
		int r = inflate(&t->z, Z_NO_FLUSH);
		if (r == Z_STREAM_END) {
			/* concatenated gzip members read as one stream */
			if (t->z.avail_in == 0 && t->in_off == t->in_len)
				break;
			if (inflateReset(&t->z) != Z_OK)
				r = Z_DATA_ERROR;
			else
				continue;
		}
		if (r == Z_BUF_ERROR && t->z.avail_in == 0) {
			snprintf(err, errlen, "truncated gzip data");
			return -1;
		}
		if (r != Z_OK) {
			snprintf(err, errlen, "corrupt gzip data: %s",
			         t->z.msg ? t->z.msg : "inflate");
			return -1;
		}
	}
	return (ssize_t)(n - t->z.avail_out);
}

/* Exactly n bytes into buf, or -1 with err. */
static int fill_all(struct launch_tar *t, unsigned char *buf, size_t n, char *err, size_t errlen)
{
	ssize_t k = fill(t, buf, n, err, errlen);
	if (k < 0)
		return -1;
	if ((size_t)k < n) {
		snprintf(err, errlen, "truncated tar archive");
		return -1;
	}
	return 0;
}

static int skip(struct launch_tar *t, uint64_t n, char *err, size_t errlen)
{
	unsigned char buf[8192];
	while (n > 0) {
		size_t k = n < sizeof(buf) ? (size_t)n : sizeof(buf);
		if (fill_all(t, buf, k, err, errlen) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

/* An octal field: leading spaces, digits, then space or NUL to its end. -1 when
 * malformed or in base-256 (sizes over 8 GiB: over every limit anyway). */
static int octal(const unsigned char *f, size_t n, uint64_t *out)
{
	size_t i = 0;
	uint64_t v = 0;
	if (f[0] & 0x80)
		return -1;
	while (i < n && f[i] == ' ')
		i++;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v > (UINT64_MAX >> 3))
			return -1;
		v = (v << 3) | (uint64_t)(f[i] - '0');
	}
	for (; i < n; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return -1;
	*out = v;
	return 0;
}

static int checksum_ok(const unsigned char *h)
{
	uint64_t want;
	unsigned long usum = 0;
	long ssum = 0;
	if (octal(h + 148, 8, &want) < 0)
		return 0;
	for (int i = 0; i < BLOCK; i++) {
		unsigned char c = i >= 148 && i < 156 ? ' ' : h[i];
		usum += c;
		ssum += (signed char)c;
	}
	return want == usum || (int64_t)want == ssum;
}

static char *field(const unsigned char *f, size_t n)
{
	return strndup((const char *)f, strnlen((const char *)f, n));
}

/* The data of a metadata entry (pax header, GNU long name), NUL-terminated. */
static char *read_meta(struct launch_tar *t, uint64_t size, char *err, size_t errlen)
{
	char *buf;
	if (size > META_MAX) {
		snprintf(err, errlen, "tar metadata entry of %llu bytes (at most %d)",
		         (unsigned long long)size, META_MAX);
		return NULL;
	}
	buf = malloc((size_t)size + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (fill_all(t, (unsigned char *)buf, (size_t)size, err, errlen) < 0 ||
	    skip(t, (BLOCK - size % BLOCK) % BLOCK, err, errlen) < 0) {
		free(buf);
		return NULL;
	}
	buf[size] = '\0';
	return buf;
}

static int set_str(char **slot, const char *v, size_t n, char *err, size_t errlen)
{
	char *s = strndup(v, n);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(*slot);
	*slot = s;
	return 0;
}

/* pax records "LEN key=value\n": path, linkpath and size are kept, others ignored. */
static int parse_pax(struct launch_tar *t, const char *p, size_t n, char *err, size_t errlen)
{
	size_t off = 0;
	while (off < n) {
		const char *rec = p + off;
		size_t len = 0, i = 0, avail = n - off;
		while (i < avail && rec[i] >= '0' && rec[i] <= '9' && len <= META_MAX)
			len = len * 10 + (size_t)(rec[i++] - '0');
		if (i == 0 || i >= avail || rec[i] != ' ' || len > avail || len < i + 3 ||
		    rec[len - 1] != '\n') {
			snprintf(err, errlen, "malformed pax header record");
			return -1;
		}
		const char *key = rec + i + 1, *end = rec + len - 1;
		const char *eq = memchr(key, '=', (size_t)(end - key));
		if (!eq) {
			snprintf(err, errlen, "malformed pax header record");
			return -1;
		}
		size_t klen = (size_t)(eq - key), vlen = (size_t)(end - eq - 1);
		const char *v = eq + 1;
		if ((klen == 4 && !memcmp(key, "path", 4)) ||
		    (klen == 8 && !memcmp(key, "linkpath", 8))) {
			if (memchr(v, '\0', vlen)) {
				snprintf(err, errlen, "pax header: NUL byte in a path");
				return -1;
			}
			if (set_str(klen == 4 ? &t->pax_path : &t->pax_link, v, vlen, err, errlen) <
			    0)
				return -1;
		} else if (klen == 4 && !memcmp(key, "size", 4)) {
			uint64_t s = 0;
			size_t j = 0;
			for (; j < vlen && v[j] >= '0' && v[j] <= '9' && s < (1ULL << 60); j++)
				s = s * 10 + (uint64_t)(v[j] - '0');
			if (j == 0 || j != vlen) {
				snprintf(err, errlen, "pax header: size \"%.*s\" is not a number",
				         (int)(vlen < 32 ? vlen : 32), v);
				return -1;
			}
			t->pax_size = (int64_t)s;
		}
		off += len;
	}
	return 0;
}

static void clear_pending(struct launch_tar *t)
{
	free(t->pax_path);
	free(t->pax_link);
	free(t->gnu_path);
	free(t->gnu_link);
	t->pax_path = t->pax_link = t->gnu_path = t->gnu_link = NULL;
	t->pax_size = -1;
}

/* Take *slot (owned) as the entry's value, else a copy of dflt. */
static char *take(char **slot, char *dflt)
{
	char *v = *slot;
	*slot = NULL;
	if (v) {
		free(dflt);
		return v;
	}
	return dflt;
}

/* The path of a header: POSIX ustar joins prefix and name. */
static char *header_path(const unsigned char *h)
{
	char *name = field(h, 100), *prefix, *full;
	if (!name || memcmp(h + 257, "ustar\0", 6) || !h[345])
		return name;
	prefix = field(h + 345, 155);
	size_t n = prefix ? strlen(prefix) + strlen(name) + 2 : 0;
	full = n ? malloc(n) : NULL;
	if (full)
		snprintf(full, n, "%s/%s", prefix, name);
	free(prefix);
	free(name);
	return full;
}

static int entry_from_header(struct launch_tar *t, const unsigned char *h, uint64_t size,
                             struct launch_tar_entry *e, char *err, size_t errlen)
{
	uint64_t mode = 0;
	char type = (char)h[156];
	if (octal(h + 100, 8, &mode) < 0) {
		snprintf(err, errlen, "tar header: malformed mode");
		return -1;
	}
	free(t->path);
	free(t->link);
	t->path = take(t->pax_path ? &t->pax_path : &t->gnu_path, header_path(h));
	t->link = take(t->pax_link ? &t->pax_link : &t->gnu_link, field(h + 157, 100));
	if (!t->path || !t->link) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (t->pax_size >= 0)
		size = (uint64_t)t->pax_size;
	clear_pending(t);
	switch (type) {
	case '0':
	case '\0':
	case '7':
		/* old archives mark directories with a trailing slash only */
		e->type = t->path[0] && t->path[strlen(t->path) - 1] == '/' ? LAUNCH_TAR_DIR
		                                                            : LAUNCH_TAR_FILE;
		break;
	case '1':
		e->type = LAUNCH_TAR_HARDLINK;
		break;
	case '2':
		e->type = LAUNCH_TAR_SYMLINK;
		break;
	case '5':
		e->type = LAUNCH_TAR_DIR;
		break;
	case '3':
	case '4':
	case '6':
		e->type = LAUNCH_TAR_SPECIAL;
		break;
	default:
		snprintf(err, errlen, "entry \"%s\": tar entry type '%c' is not supported", t->path,
		         type >= 0x20 && type < 0x7f ? type : '?');
		return -1;
	}
	if (e->type != LAUNCH_TAR_FILE && size > OTHER_DATA_MAX) {
		snprintf(err, errlen, "entry \"%s\": %llu bytes of data for a non-file entry",
		         t->path, (unsigned long long)size);
		return -1;
	}
	e->path = t->path;
	e->link = e->type == LAUNCH_TAR_SYMLINK || e->type == LAUNCH_TAR_HARDLINK ? t->link : NULL;
	e->mode = (unsigned)(mode & 07777);
	e->size = e->type == LAUNCH_TAR_FILE ? size : 0;
	t->left = size;
	t->pad = (BLOCK - size % BLOCK) % BLOCK;
	return 0;
}

static int all_zero(const unsigned char *h)
{
	for (int i = 0; i < BLOCK; i++)
		if (h[i])
			return 0;
	return 1;
}

int launch_tar_next(struct launch_tar *t, struct launch_tar_entry *e, char *err, size_t errlen)
{
	unsigned char h[BLOCK];
	for (int run = 0;; run++) {
		if (skip(t, t->left + t->pad, err, errlen) < 0)
			return -1;
		t->left = t->pad = 0;
		ssize_t k = fill(t, h, BLOCK, err, errlen);
		if (k < 0)
			return -1;
		if (k == 0 || all_zero(h))
			return 0; /* the end marker, or the end of the data */
		if (k < BLOCK) {
			snprintf(err, errlen, "truncated tar archive");
			return -1;
		}
		if (!checksum_ok(h)) {
			snprintf(err, errlen, "not a tar archive (bad header checksum)");
			return -1;
		}
		uint64_t size;
		if (octal(h + 124, 12, &size) < 0) {
			snprintf(err, errlen, "tar header: malformed size");
			return -1;
		}
		char type = (char)h[156];
		if (run == META_RUN_MAX) {
			snprintf(err, errlen, "more than %d tar metadata headers in a row",
			         META_RUN_MAX);
			return -1;
		}
		if (type == 'V' && size > OTHER_DATA_MAX) {
			snprintf(err, errlen, "tar volume header with %llu bytes of data",
			         (unsigned long long)size);
			return -1;
		}
		if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
			char *meta = read_meta(t, size, err, errlen);
			int rc = meta ? 0 : -1;
			if (meta && type == 'x')
				rc = parse_pax(t, meta, (size_t)size, err, errlen);
			else if (meta && (type == 'L' || type == 'K'))
				rc = set_str(type == 'L' ? &t->gnu_path : &t->gnu_link, meta,
				             strlen(meta), err, errlen);
			free(meta); /* 'g': global pax records set nothing that is kept */
			if (rc < 0)
				return -1;
			continue;
		}
		if (type == 'V') { /* a volume label */
			t->left = size;
			t->pad = (BLOCK - size % BLOCK) % BLOCK;
			continue;
		}
		return entry_from_header(t, h, size, e, err, errlen) < 0 ? -1 : 1;
	}
}

ssize_t launch_tar_read(struct launch_tar *t, void *buf, size_t len, char *err, size_t errlen)
{
	size_t n = t->left < len ? (size_t)t->left : len;
	if (n == 0)
		return 0;
	if (fill_all(t, buf, n, err, errlen) < 0)
		return -1;
	t->left -= n;
	return (ssize_t)n;
}

void launch_tar_free(struct launch_tar *t)
{
	if (!t)
		return;
	if (t->gz)
		inflateEnd(&t->z);
	clear_pending(t);
	free(t->path);
	free(t->link);
	free(t);
}
