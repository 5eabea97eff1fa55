/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writing a checkpoint's files into a local directory safely: the names come
 * from the registry (written by trial code), so none may escape the
 * directory, plant a hidden file the checkpoint's own manifest does not
 * list, follow a symlink, or overwrite a file unless asked to.
 */
#ifndef DET_CLI_CKPT_DOWNLOAD_H
#define DET_CLI_CKPT_DOWNLOAD_H

#include <jansson.h>

/* Whether rel may be written under a download directory: relative, no empty,
 * "." or ".." component, no control character, and a component starting with
 * "." only when manifest (an array of {path}, or NULL) lists rel itself.
 * 0, or -1 with err saying why. */
int cli_ckpt_name_ok(const char *rel, size_t len, const json_t *manifest, char *err, size_t errlen);

/* Copy each of files ([{path, size}]) from directory src into dir (created
 * when missing) as regular files and directories only, never through a
 * symlink, checking each size; the manifest is src/metadata.json's "files".
 * An existing file is refused unless force (then replaced by a rename, the
 * entry itself and never what it points to). Every name, and where each
 * would go, is checked before anything is written. 0, or -1 with err. */
int cli_ckpt_download_files(const char *src, const json_t *files, const char *dir, int force,
                            char *err, size_t errlen);

#endif
