/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The image cache: root file system tarballs on the shared file system, one
 * file per content, <cache>/sha256/<hex>.tar, written through a temporary
 * file and a rename so that a reader never sees half an image.
 */
#ifndef DET_MASTER_IMAGE_CACHE_H
#define DET_MASTER_IMAGE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sha256.h"

struct app;

/* Copy the tarball readable at fd (a regular file) into the cache under its SHA-256,
 * after checking that it is a tar archive of a root file system (every entry readable,
 * no absolute or ".." names, a bin/sh). One over max_bytes is refused before it is read
 * (its size) and while it is read (the bytes counted). hex gets the digest,
 * *size_bytes its size. 0, or -1 with err (nothing is left in the cache). */
int image_cache_import(const char *cache_dir, int fd, uint64_t max_bytes,
                       char hex[SHA256_HEX_BYTES], uint64_t *size_bytes, char *err, size_t errlen);

/* The tarball's path for digest hex (64 lowercase hex digits). 0, or -1 when too long. */
int image_cache_path(const char *cache_dir, const char *hex, char *out, size_t outlen);

/* 1 when hex is 64 lowercase hex digits, else 0. */
int image_cache_digest_ok(const char *hex);

/* Remove the tarball of digest hex (absent is fine). 0, or -1 with err. */
int image_cache_remove(const char *cache_dir, const char *hex, char *err, size_t errlen);

/* At experiment creation: resolve the config's environment.image names (or sha256:
 * digests) to digests whose tarballs are in the cache, into environment.image_digest
 * {slot type: hex}. 0 (also with no image), or -1 with err naming the missing image. */
int image_resolve(struct app *a, json_t *conf, char *err, size_t errlen);

#endif
