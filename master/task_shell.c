/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shell tasks: key generation on the master's side and the launcher on the task's.
 * The master makes two ed25519 key pairs per task with ssh-keygen (argv, no shell):
 * the owner's (the private half is kept for the owner to fetch, the public half is
 * the sshd's only authorized key) and the sshd's host key (the CLI pins its public
 * half in a known_hosts of its own). The launcher runs as the owner, so the sshd it
 * starts can only log the owner in.
 * Non-obvious decision: the keys reach the launcher in its environment (readable by
 * the owner and root only), so nothing is written to a shared file system.
 */
#include "task_shell.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "http_client.h"

#define SHELL_KEY_MAX_BYTES 16384
#define SHELL_SSHD "/usr/sbin/sshd"
#define SHELL_KEYGEN "ssh-keygen"
#define SHELL_READY_WAIT_S 60
#define SHELL_PRIVSEP_DIR "/run/sshd"

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void task_shell_keys_free(struct task_shell_keys *k)
{
	wipe_free(k->client_private);
	wipe_free(k->client_public);
	wipe_free(k->host_private);
	wipe_free(k->host_public);
	memset(k, 0, sizeof(*k));
}

/* Run argv (PATH looked up), stdin/stdout /dev/null: 0 when it exits 0, else -1 with err. */
static int run_quiet(char *const argv[], char *err, size_t errlen)
{
	int status = 0;
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, errlen, "%s: %s", argv[0], strerror(errno));
			return -1;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(err, errlen, "%s failed (wait status %d%s)", argv[0], status,
		         WIFEXITED(status) && WEXITSTATUS(status) == 127 ? ": not installed?" : "");
		return -1;
	}
	return 0;
}

/* The whole of file path (at most SHELL_KEY_MAX_BYTES) as a string: owned, or NULL. */
static char *read_text(const char *path, char *err, size_t errlen)
{
	char *buf = calloc(1, SHELL_KEY_MAX_BYTES + 1);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n = fd >= 0 && buf ? read(fd, buf, SHELL_KEY_MAX_BYTES) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		snprintf(err, errlen, "%s: %s", path, n == 0 ? "empty" : strerror(errno));
		free(buf);
		return NULL;
	}
	return buf;
}

/* One key pair into dir/name and dir/name.pub, read into *priv and *pub; files removed. */
static int keygen_one(const char *dir, const char *name, char **priv, char **pub, char *err,
                      size_t errlen)
{
	char path[4096], path_pub[4112];
	int rv = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(path_pub, sizeof(path_pub), "%s.pub", path);
	char *argv[] = {SHELL_KEYGEN, "-q",        "-t", "ed25519", "-N", "",
	                "-C",         "det-shell", "-f", path,      NULL};
	if (run_quiet(argv, err, errlen))
		goto fail;
	if (!(*priv = read_text(path, err, errlen)) || !(*pub = read_text(path_pub, err, errlen)))
		goto fail;
	rv = 0;
fail:
	unlink(path);
	unlink(path_pub);
	return rv;
}

int task_shell_keygen(const char *dir, struct task_shell_keys *k, char *err, size_t errlen)
{
	char tmp[4096];
	int rv = -1;

	memset(k, 0, sizeof(*k));
	if (snprintf(tmp, sizeof(tmp), "%s/shell-XXXXXX", dir) >= (int)sizeof(tmp) ||
	    !mkdtemp(tmp)) {
		snprintf(err, errlen, "%s: cannot make a key directory: %s", dir, strerror(errno));
		return -1;
	}
	if (keygen_one(tmp, "client", &k->client_private, &k->client_public, err, errlen) ||
	    keygen_one(tmp, "host", &k->host_private, &k->host_public, err, errlen))
		goto fail;
	rv = 0;
fail:
	rmdir(tmp);
	if (rv)
		task_shell_keys_free(k);
	return rv;
}

/* ---- the launcher (runs as the owner) -------------------------------------- */

/* Write text to dir/name with mode 0600: 0, or -1 with a message on stderr. */
static int write_private(const char *dir, const char *name, const char *text)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	size_t n = strlen(text);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n || close(fd)) {
		fprintf(stderr, "det shell: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* A TCP port that is free now (the kernel's pick), or -1. */
static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int port = -1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* 1 once 127.0.0.1:port accepts a connection. */
static int port_open(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ok = fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Tell the master the port: 0, or -1 with a message on stderr. */
static int register_port(int port)
{
	const char *master = getenv("DET_MASTER"), *id = getenv("DET_TASK_ID");
	const char *tok = getenv("DET_TASK_TOKEN");
	char auth[512], path[128], err[512];
	json_t *body = json_pack("{s:i}", "port", port), *out = NULL;
	long status = 0;
	int rv = -1;
	struct http_client *c = NULL;

	if (!master || !id || !tok || strlen(tok) > 400 || strspn(id, "0123456789") != strlen(id)) {
		fprintf(stderr, "det shell: DET_MASTER, DET_TASK_ID or DET_TASK_TOKEN missing\n");
		goto fail;
	}
	snprintf(auth, sizeof(auth), "Bearer %s", tok);
	snprintf(path, sizeof(path), "/api/v1/tasks/%s/register", id);
	if (!body || !(c = http_client_new(master, auth, err, sizeof(err))) ||
	    http_client_json(c, "POST", path, body, &out, &status, err, sizeof(err))) {
		fprintf(stderr, "det shell: registering port %d: %s\n", port,
		        body ? err : "out of memory");
		goto fail;
	}
	rv = 0;
fail:
	explicit_bzero(auth, sizeof(auth));
	json_decref(body);
	json_decref(out);
	http_client_free(c);
	return rv;
}

/* The variables a session inherits from the task's own environment (sshd starts
 * sessions with a fresh one): where it runs and what it was given. */
static const char *const session_vars[] = {
    "DET_MASTER",   "DET_TASK_ID",        "SLURMD_NODENAME",      "SLURM_JOB_ID",
    "SLURM_NODEID", "SLURM_JOB_NODELIST", "CUDA_VISIBLE_DEVICES", "SLURM_JOB_PARTITION",
};

/* "SetEnv NAME=VALUE ..." for the session_vars that are set with plain values (no
 * spaces, quotes or control characters: sshd_config has no way to escape them). */
static char *session_setenv(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	int n = 0;

	if (!f)
		return NULL;
	for (size_t i = 0; i < sizeof(session_vars) / sizeof(session_vars[0]); i++) {
		const char *v = getenv(session_vars[i]);
		int plain = v && *v && strlen(v) < 1024;
		for (const char *p = v; plain && *p; p++)
			plain = *p > ' ' && *p < 0x7f && *p != '"' && *p != '\'' && *p != '\\';
		if (plain)
			fprintf(f, "%s%s=%s", n++ ? " " : "SetEnv ", session_vars[i], v);
	}
	if (n)
		fputc('\n', f);
	if (fclose(f)) {
		free(out);
		return NULL;
	}
	return out;
}

/* The sshd_config for the task's directory dir, port and user. */
static int write_config(const char *dir, int port, const char *user)
{
	char *text = NULL, *setenv_line = session_setenv();
	int rv = -1;
	/* StrictModes no: the files live in a 0700 directory of the owner, under /tmp,
	 * which sshd's ownership walk would refuse (sticky, world-writable). */
	if (asprintf(&text,
	             "Port %d\n"
	             "HostKey %s/host_key\n"
	             "AuthorizedKeysFile %s/authorized_keys\n"
	             "PidFile none\n"
	             "PasswordAuthentication no\n"
	             "KbdInteractiveAuthentication no\n"
	             "PubkeyAuthentication yes\n"
	             "UsePAM no\n"
	             "StrictModes no\n"
	             "AllowUsers %s\n"
	             "PermitRootLogin prohibit-password\n"
	             "X11Forwarding no\n"
	             "PrintMotd no\n"
	             "Subsystem sftp internal-sftp\n"
	             "%s",
	             port, dir, dir, user, setenv_line ? setenv_line : "") < 0)
		text = NULL;
	if (text)
		rv = write_private(dir, "sshd_config", text);
	free(text);
	free(setenv_line);
	return rv;
}

static void on_term(int sig)
{
	(void)sig;
}

/* Start sshd with dir's config, wait until its port answers and register it; then
 * wait for sshd. Its exit status. */
static int run_sshd(const char *dir, int port)
{
	char config[4096];
	int status = 0, registered = 0;
	struct sigaction sa = {.sa_handler = on_term};

	snprintf(config, sizeof(config), "%s/sshd_config", dir);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "det shell: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		char *argv[] = {SHELL_SSHD, "-D", "-e", "-f", config, NULL};
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		/* sshd needs none of these: they are in its files or the launcher's alone. */
		unsetenv("DET_SHELL_HOST_KEY");
		unsetenv("DET_SHELL_AUTHORIZED_KEY");
		unsetenv("DET_TASK_TOKEN");
		execv(argv[0], argv);
		fprintf(stderr, "det shell: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	for (int i = 0; i < SHELL_READY_WAIT_S * 10 && !registered; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			goto ended;
		if (port_open(port)) {
			if (register_port(port)) {
				kill(pid, SIGTERM);
				break;
			}
			registered = 1;
			fprintf(stderr, "det shell: sshd listens on port %d\n", port);
		} else {
			struct timespec ts = {0, 100000000};
			nanosleep(&ts, NULL);
		}
	}
	if (!registered) {
		kill(pid, SIGTERM);
		fprintf(stderr, "det shell: sshd did not start\n");
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
		else
			kill(pid, SIGTERM); /* we were told to end: so is sshd */
ended:
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int task_shell_serve(void)
{
	const char *host_key = getenv("DET_SHELL_HOST_KEY");
	const char *auth_key = getenv("DET_SHELL_AUTHORIZED_KEY");
	char dir[] = "/tmp/det-shell-XXXXXX", buf[4096];
	struct passwd pw, *res = NULL;
	int rv = 1, port;

	if (!host_key || !auth_key) {
		fprintf(stderr,
		        "det shell: DET_SHELL_HOST_KEY or DET_SHELL_AUTHORIZED_KEY missing\n");
		return 1;
	}
	if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) || !res) {
		fprintf(stderr, "det shell: uid %d has no user name\n", (int)getuid());
		return 1;
	}
	/* Run as root, sshd wants its privilege separation directory (made by the system
	 * ssh service, which a det shell host need not run). */
	if (getuid() == 0 && mkdir(SHELL_PRIVSEP_DIR, 0755) && errno != EEXIST) {
		fprintf(stderr, "det shell: %s: %s\n", SHELL_PRIVSEP_DIR, strerror(errno));
		return 1;
	}
	if (!mkdtemp(dir)) {
		fprintf(stderr, "det shell: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if ((port = free_port()) < 0) {
		fprintf(stderr, "det shell: no free port\n");
		goto fail;
	}
	if (write_private(dir, "host_key", host_key) ||
	    write_private(dir, "authorized_keys", auth_key) || write_config(dir, port, pw.pw_name))
		goto fail;
	rv = run_sshd(dir, port);
fail:
	for (const char *const *f =
	         (const char *const[]){"host_key", "authorized_keys", "sshd_config", NULL};
	     *f; f++) {
		char path[4200];
		snprintf(path, sizeof(path), "%s/%s", dir, *f);
		unlink(path);
	}
	rmdir(dir);
	return rv;
}
