/* SPDX-License-Identifier: GPL-2.0-or-later */
/* MUNGE credentials for the CLI's requests (identity on a cluster, no password). */
#ifndef DET_CLI_MUNGE_CRED_H
#define DET_CLI_MUNGE_CRED_H

#include <stddef.h>

/* munged's socket ($DET_MUNGE_SOCKET, else libmunge's default) when it exists; else NULL. */
const char *cli_munge_socket(void);

/* http_client_auth_fn: "Munge CRED" for one request; arg is the socket path. */
int cli_munge_auth(void *arg, char *buf, size_t len, char *err, size_t errlen);

#endif
