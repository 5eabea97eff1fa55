/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det shell start|open|proxy|list|kill: an sshd of the caller's own, run by the master's
 * resource manager as the caller, reached through the master (doc/tasks.md).
 * `open` runs the system ssh with argv only: the task's key in a 0600 file, its host
 * key pinned in a known_hosts of its own, and `det shell proxy ID` as the ProxyCommand,
 * which upgrades GET /proxy/ID/ to "det-tcp" and relays stdin/stdout to the sshd.
 * Non-obvious decision: the master's address reaches the ProxyCommand in DET_MASTER
 * (set for ssh), so the command line ssh hands to a shell holds only det's own path
 * and the task id.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "fdio.h"
#include "http_client.h"

#define SHELL_HEAD_MAX 16384
#define SHELL_WAIT_S 120

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* Wait until task id runs: 0, or -1 after printing why (it ended, or no answer). */
static int shell_wait_running(struct http_client *c, long long id)
{
	char path[96];
	snprintf(path, sizeof(path), "/api/v1/tasks/%lld", id);
	for (int i = 0; i < SHELL_WAIT_S * 4; i++) {
		json_t *out = NULL;
		if (cli_call(c, "GET", path, NULL, &out))
			return -1;
		json_t *t = json_object_get(out, "task");
		const char *state = json_string_value(json_object_get(t, "state"));
		int running = state && !strcmp(state, "RUNNING");
		int ended = state && !strcmp(state, "TERMINATED");
		if (ended)
			fprintf(stderr, "det: shell %lld ended: %s\n", id,
			        json_string_value(json_object_get(t, "end_reason"))
			            ? json_string_value(json_object_get(t, "end_reason"))
			            : "unknown");
		json_decref(out);
		if (running)
			return 0;
		if (ended)
			return -1;
		sleep_ms(250);
	}
	fprintf(stderr, "det: shell %lld did not start within %d s\n", id, SHELL_WAIT_S);
	return -1;
}

/* The body of POST /tasks for a shell: the config file's keys. NULL after printing why. */
static json_t *shell_body(const struct cli_task_start *o, long *timeout_ms)
{
	static const char *const keys[] = {"resources", "description", "slurm", NULL};

	(void)timeout_ms;
	return cli_task_body("shell", o->config_file, keys);
}

int cli_shell_start(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_task_kind kind = {
	    "usage: det shell start [--config-file F] [--detach]\n", "Shell", {0}, 0, shell_body};
	struct http_client *c = NULL;
	long long id = 0;
	int rc = cli_task_start(ctx, argc, argv, &kind, &c, &id);

	if (rc || !id)
		goto out;
	rc = CLI_EXIT_FAILURE;
	if (shell_wait_running(c, id))
		goto out;
	char ids[32];
	snprintf(ids, sizeof(ids), "%lld", id);
	char *open_argv[] = {"open", ids, NULL};
	rc = cli_shell_open(ctx, 2, open_argv);
out:
	http_client_free(c);
	return rc;
}

/* Write text to dir/name (0600): 0, or -1 after printing why. */
static int write_private(const char *path, const char *a, const char *b)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f || fputs(a, f) < 0 || fputs(b, f) < 0 || fclose(f)) {
		fprintf(stderr, "det: %s: %s\n", path, strerror(errno));
		if (!f && fd >= 0)
			close(fd);
		return -1;
	}
	return 0;
}

/* "'<path>'" for a shell and ssh's % tokens: single quotes and % escaped. NULL: no memory. */
static char *quoted(const char *s)
{
	char *out = malloc(strlen(s) * 4 + 3), *p = out;
	if (!out)
		return NULL;
	*p++ = '\'';
	for (; *s; s++) {
		if (*s == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else if (*s == '%') {
			*p++ = '%';
			*p++ = '%';
		} else {
			*p++ = *s;
		}
	}
	*p++ = '\'';
	*p = '\0';
	return out;
}

/* Interrupts waitpid (no SA_RESTART); the waiting code decides. */
static void on_signal(int sig)
{
	(void)sig;
}

/* Run ssh for task id with the keys in keys (private_key, host_public_key, user) and the
 * remote command cmd (n strings). ssh's exit status. */
static int run_ssh(struct cli_ctx *ctx, long long id, json_t *keys, int n, char **cmd)
{
	char dir[1024], key[1100], known[1100], alias[64], self[4096];
	char o_key[1200], o_known[1200], o_alias[96], o_user[320], *o_proxy = NULL, *q = NULL;
	const char *tmp = getenv("TMPDIR");
	const char *priv = json_string_value(json_object_get(keys, "private_key"));
	const char *pub = json_string_value(json_object_get(keys, "host_public_key"));
	const char *user = json_string_value(json_object_get(keys, "user"));
	const char **argv = NULL;
	int rc = CLI_EXIT_FAILURE, status = 0, k = 0;
	ssize_t len;

	if (!priv || !pub || !user || strlen(user) > 256 || strpbrk(user, " \t\r\n")) {
		fprintf(stderr, "det: shell %lld: the master's keys are incomplete\n", id);
		return CLI_EXIT_FAILURE;
	}
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0 || (size_t)len >= sizeof(self) - 1) {
		fprintf(stderr, "det: /proc/self/exe: cannot read\n");
		return CLI_EXIT_FAILURE;
	}
	self[len] = '\0';
	if (!tmp || tmp[0] != '/' || strlen(tmp) > 900)
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/det-shell-XXXXXX", tmp);
	if (!mkdtemp(dir)) {
		fprintf(stderr, "det: %s: %s\n", dir, strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	snprintf(key, sizeof(key), "%s/key", dir);
	snprintf(known, sizeof(known), "%s/known_hosts", dir);
	snprintf(alias, sizeof(alias), "det-task-%lld", id);
	if (write_private(key, priv, "") || write_private(known, alias, " ") ||
	    !(q = quoted(self)) ||
	    asprintf(&o_proxy, "ProxyCommand=%s shell proxy %lld", q, id) < 0 ||
	    !(argv = calloc((size_t)n + 24, sizeof(*argv))))
		goto out;
	/* known_hosts: "det-task-ID KEYTYPE KEY COMMENT" (pub follows the alias and a space). */
	FILE *f = fopen(known, "a");
	if (!f || fputs(pub, f) < 0 || fclose(f)) {
		fprintf(stderr, "det: %s: cannot write\n", known);
		goto out;
	}
	snprintf(o_key, sizeof(o_key), "IdentityFile=%s", key);
	snprintf(o_known, sizeof(o_known), "UserKnownHostsFile=%s", known);
	snprintf(o_alias, sizeof(o_alias), "HostKeyAlias=%s", alias);
	snprintf(o_user, sizeof(o_user), "User=%s", user);
	const char *fixed[] = {"ssh",
	                       "-F",
	                       "/dev/null",
	                       "-o",
	                       o_proxy,
	                       "-o",
	                       o_key,
	                       "-o",
	                       "IdentitiesOnly=yes",
	                       "-o",
	                       o_known,
	                       "-o",
	                       "GlobalKnownHostsFile=/dev/null",
	                       "-o",
	                       "StrictHostKeyChecking=yes",
	                       "-o",
	                       o_alias,
	                       "-o",
	                       o_user,
	                       "-o",
	                       "PasswordAuthentication=no",
	                       alias};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		argv[k++] = fixed[i];
	for (int i = 0; i < n; i++)
		argv[k++] = cmd[i];
	/* The ProxyCommand finds the master here (-m or DET_MASTER alike). */
	if (setenv("DET_MASTER", ctx->master, 1)) {
		fprintf(stderr, "det: setenv: %s\n", strerror(errno));
		goto out;
	}
	fflush(NULL);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "det: fork: %s\n", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		execvp("ssh", (char *const *)argv);
		fprintf(stderr, "det: ssh: %s\n", strerror(errno));
		_exit(127);
	}
	/* Told to end while ssh runs: ssh ends too, and the key files still go. */
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			goto out;
		else
			kill(pid, SIGTERM);
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
	unlink(key);
	unlink(known);
	rmdir(dir);
	free(argv);
	free(o_proxy);
	free(q);
	return rc;
}

int cli_shell_open(struct cli_ctx *ctx, int argc, char **argv)
{
	char path[96];
	json_t *out = NULL;

	if (argc < 2 || (argc > 2 && strcmp(argv[2], "--"))) {
		fprintf(stderr, "usage: det shell open ID [-- CMD...]\n");
		return CLI_EXIT_USAGE;
	}
	long long id = cli_parse_id("shell id", argv[1]);
	if (id < 0)
		return CLI_EXIT_USAGE;
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	snprintf(path, sizeof(path), "/api/v1/tasks/%lld/ssh-key", id);
	int rc = cli_call(c, "GET", path, NULL, &out);
	http_client_free(c);
	if (rc)
		return rc;
	rc = run_ssh(ctx, id, out, argc > 2 ? argc - 3 : 0, argv + 3);
	json_decref(out);
	return rc;
}

/* A connection to the master (unix:/PATH, http:// or https://, with the CLI's TLS
 * settings): the client, or NULL after printing why. */
static struct http_client *master_connect(const char *master)
{
	char err[512];
	struct http_client *c = http_client_new(master, NULL, err, sizeof(err));

	if (!c || http_client_raw_connect(c, err, sizeof(err))) {
		fprintf(stderr, "det: shell proxy: %s\n", err);
		http_client_free(c);
		return NULL;
	}
	return c;
}

/* Wait until c's socket is ready for events (POLLIN or POLLOUT): 0, or -1. */
static int wait_ready(struct http_client *c, short events)
{
	struct pollfd p = {.fd = http_client_raw_fd(c), .events = events};
	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* Send all n bytes of buf to the master: 0, or -1. */
static int send_all(struct http_client *c, const char *buf, size_t n)
{
	while (n) {
		long w = http_client_raw_send(c, buf, n);
		if (w == HTTP_CLIENT_RAW_AGAIN) {
			if (wait_ready(c, POLLOUT))
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Send the det-tcp upgrade for task id and read the answer's head: its status (101:
 * relayed from now on), or -1 after printing why. head gets the answer's text. */
static int tunnel_open(struct http_client *c, long long id, const char *auth, char *head,
                       size_t cap)
{
	char *req = NULL;
	size_t n = 0;
	int status = -1;

	if (asprintf(&req,
	             "GET /proxy/%lld/ HTTP/1.1\r\nHost: det-master\r\nConnection: Upgrade\r\n"
	             "Upgrade: det-tcp\r\n%s%s%s\r\n",
	             id, *auth ? "Authorization: " : "", auth, *auth ? "\r\n" : "") < 0) {
		fprintf(stderr, "det: out of memory\n");
		return -1;
	}
	if (send_all(c, req, strlen(req)))
		goto io_fail;
	/* One byte at a time: nothing after the head may be read here (it is sshd's). */
	while (n + 1 < cap) {
		long r = http_client_raw_recv(c, head + n, 1);
		if (r == HTTP_CLIENT_RAW_AGAIN) {
			if (wait_ready(c, POLLIN))
				goto io_fail;
			continue;
		}
		if (r <= 0)
			break;
		n++;
		head[n] = '\0';
		if (n >= 4 && !memcmp(head + n - 4, "\r\n\r\n", 4))
			break;
	}
	head[n] = '\0';
	if (sscanf(head, "HTTP/%*d.%*d %d", &status) != 1) {
		fprintf(stderr, "det: shell proxy: the master did not answer\n");
		status = -1;
	}
	free(req);
	return status;
io_fail:
	fprintf(stderr, "det: shell proxy: the connection to the master failed\n");
	free(req);
	return -1;
}

/* Bytes both ways between stdin/stdout and the master until the master's side closes. */
static int relay(struct http_client *c)
{
	char buf[16384];
	int fd = http_client_raw_fd(c);
	struct pollfd p[2] = {{.fd = 0, .events = POLLIN}, {.fd = fd, .events = POLLIN}};

	for (;;) {
		/* All the master sent: TLS may hold bytes the socket no longer shows. */
		for (;;) {
			long n = http_client_raw_recv(c, buf, sizeof(buf));
			if (n == HTTP_CLIENT_RAW_AGAIN)
				break;
			if (n <= 0)
				return n == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
			if (fdio_write_all(1, buf, (size_t)n, 0))
				return CLI_EXIT_FAILURE;
		}
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return CLI_EXIT_FAILURE;
		}
		if (!p[0].revents)
			continue;
		ssize_t n = read(0, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			shutdown(fd, SHUT_WR); /* ssh is done sending */
			p[0].fd = -1;
			continue;
		}
		if (send_all(c, buf, (size_t)n))
			return CLI_EXIT_FAILURE;
	}
}

int cli_shell_proxy(struct cli_ctx *ctx, int argc, char **argv)
{
	char auth[4200], head[SHELL_HEAD_MAX];
	int rc = CLI_EXIT_FAILURE;

	if (argc != 2) {
		fprintf(stderr, "usage: det shell proxy ID\n");
		return CLI_EXIT_USAGE;
	}
	long long id = cli_parse_id("shell id", argv[1]);
	if (id < 0)
		return CLI_EXIT_USAGE;
	/* 502: not running or not registered yet; the sshd registers once it listens.
	 * A fresh credential for every try: munged refuses a MUNGE one used twice. */
	for (int i = 0; i < SHELL_WAIT_S * 2; i++) {
		if (cli_auth_value(ctx, auth, sizeof(auth)))
			break;
		struct http_client *c = master_connect(ctx->master);
		if (!c)
			break;
		int status = tunnel_open(c, id, auth, head, sizeof(head));
		if (status == 101) {
			rc = relay(c);
			http_client_free(c);
			break;
		}
		http_client_free(c);
		if (status != 502) {
			if (status > 0)
				fprintf(stderr, "det: shell %lld: the master answered %d\n", id,
				        status);
			break;
		}
		sleep_ms(500);
	}
	explicit_bzero(auth, sizeof(auth));
	return rc;
}

int cli_shell_list(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	return cli_task_kind_list(ctx, argc, "shell");
}

int cli_shell_kill(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_task_kill(ctx, argc, argv);
}
