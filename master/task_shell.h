/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shell tasks (doc/tasks.md): the key pairs the master makes per task, and the launcher
 * (det-master --shell-serve, run as the owner) that runs a private sshd for the task. */
#ifndef DET_TASK_SHELL_H
#define DET_TASK_SHELL_H

#include <stddef.h>

/* det-master's first argument that runs the launcher. */
#define TASK_SHELL_SERVE "--shell-serve"

/* A task's keys as OpenSSH text (each owned, NUL-terminated). */
struct task_shell_keys {
	char *client_private; /* the owner's key: its public half is the only authorized key */
	char *client_public;
	char *host_private; /* the task's sshd host key */
	char *host_public;
};

/* Make two ed25519 key pairs with ssh-keygen (run with argv) in a fresh directory
 * under dir, read them into *k and remove the files. 0, or -1 with err. */
int task_shell_keygen(const char *dir, struct task_shell_keys *k, char *err, size_t errlen);

/* Free the keys' text (wiped first) and zero *k. */
void task_shell_keys_free(struct task_shell_keys *k);

/* The launcher: writes an sshd_config, the host key and authorized_keys from its
 * environment into a private directory, runs sshd -D on a free port, registers the port
 * with the master and waits for sshd. Its exit status. */
int task_shell_serve(void);

#endif
