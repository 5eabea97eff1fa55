/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det-master(8): reads its configuration, opens the store, loads users and
 * experiments, starts the resource manager, the scheduler and the HTTP
 * listeners, then waits for SIGTERM/SIGINT. Signals are taken with
 * sigwait() in the main thread (blocked everywhere else), so shutdown runs
 * in ordinary code: stop listening, finish queued writes, close the store;
 * trials keep running and the next master adopts them.
 * det-master --backup DEST only copies the store (online backup) and exits.
 * Heap arenas are capped at one per CPU: with glibc's default (8 per CPU)
 * each of the many HTTP workers kept its own arena of freed report buffers,
 * which doubled the RSS right after a burst of reports.
 * The state directory is made mode 0700 before anything is opened in it
 * (the database there holds password and token hashes).
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "task_shell.h"

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: det-master [--config FILE] [--listen HOST:PORT] [--socket PATH]\n"
	        "                  [--db PATH] [--state-dir DIR] [--rm local|slurm]\n"
	        "                  [--launcher PATH] [--log-level LEVEL] [--munge-socket PATH]\n"
	        "                  [--webui-dir DIR] [--tls-cert FILE --tls-key FILE]\n"
	        "                  [--storage-root DIR]...\n"
	        "       det-master [--config FILE] [--db PATH | --state-dir DIR] --backup DEST\n"
	        "The det-slurm master: REST API, experiment store and scheduler.\n"
	        "  -c, --config FILE     YAML configuration (see det-master(8))\n"
	        "  -l, --listen H:P      TCP address (\"\" for none; port 0 picks one)\n"
	        "  -s, --socket PATH     Unix socket (\"\" for none)\n"
	        "  -d, --db PATH         SQLite database (default STATE_DIR/master.db)\n"
	        "  -S, --state-dir DIR   state directory\n"
	        "  -r, --rm NAME         resource manager: local or slurm\n"
	        "  -L, --launcher PATH   det-launch for the local resource manager\n"
	        "  -v, --log-level L     error, warn, info or debug\n"
	        "  -M, --munge-socket P  munged's socket for Munge credentials\n"
	        "  -w, --webui-dir DIR   web UI files served at /\n"
	        "  -C, --tls-cert FILE   serve HTTPS with this PEM certificate (chain)\n"
	        "  -K, --tls-key FILE    the certificate's PEM private key\n"
	        "  -R, --storage-root D  where checkpoint storage may be (repeatable; the first\n"
	        "                        replaces the config's storage_roots; ~ = owner's home)\n"
	        "  -B, --backup DEST     copy the database to the new file DEST and exit\n"
	        "                        (consistent while a master runs; never overwrites)\n"
	        "  -h, --help            this help\n");
}

static int parse_args(int argc, char **argv, struct master_config *c, const char **backup,
                      char *err, size_t errlen)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"listen", required_argument, NULL, 'l'},
	    {"socket", required_argument, NULL, 's'},
	    {"db", required_argument, NULL, 'd'},
	    {"state-dir", required_argument, NULL, 'S'},
	    {"rm", required_argument, NULL, 'r'},
	    {"launcher", required_argument, NULL, 'L'},
	    {"log-level", required_argument, NULL, 'v'},
	    {"munge-socket", required_argument, NULL, 'M'},
	    {"webui-dir", required_argument, NULL, 'w'},
	    {"tls-cert", required_argument, NULL, 'C'},
	    {"tls-key", required_argument, NULL, 'K'},
	    {"storage-root", required_argument, NULL, 'R'},
	    {"backup", required_argument, NULL, 'B'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch, roots_given = 0;
	/* The config file first, so that every other option overrides it. */
	for (int i = 1; i < argc - 1; i++)
		if (!strcmp(argv[i], "--config") || !strcmp(argv[i], "-c"))
			if (master_config_load(c, argv[i + 1], err, errlen))
				return -1;
	while ((ch = getopt_long(argc, argv, "c:l:s:d:S:r:L:v:M:w:C:K:R:B:h", opts, NULL)) != -1) {
		int rc = 0;
		switch (ch) {
		case 'c':
			break;
		case 'l':
			c->listen_given = 1;
			if (!*optarg)
				rc = master_config_set_str(&c->listen_host, "");
			else
				rc = master_config_set_listen(c, optarg, err, errlen);
			break;
		case 's':
			rc = master_config_set_str(&c->socket_path, optarg);
			break;
		case 'd':
			rc = master_config_set_str(&c->db_path, optarg);
			break;
		case 'S':
			rc = master_config_set_str(&c->state_dir, optarg);
			break;
		case 'r':
			rc = master_config_set_str(&c->rm, optarg);
			break;
		case 'L':
			rc = master_config_set_str(&c->launcher, optarg);
			break;
		case 'M':
			rc = master_config_set_str(&c->munge_socket, optarg);
			break;
		case 'w':
			rc = master_config_set_str(&c->webui_dir, optarg);
			break;
		case 'C':
			rc = master_config_set_str(&c->tls_cert, optarg);
			break;
		case 'K':
			rc = master_config_set_str(&c->tls_key, optarg);
			break;
		case 'R':
			rc = master_config_add_root(c, optarg, !roots_given++, err, errlen);
			break;
		case 'B':
			if (!*optarg) {
				snprintf(err, errlen, "--backup: expected a file name");
				rc = -1;
			}
			*backup = optarg;
			break;
		case 'v':
			if (log_level_parse(optarg, &c->log_level)) {
				snprintf(err, errlen,
				         "--log-level %s: expected error|warn|info|debug", optarg);
				rc = -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
		if (rc) {
			if (!*err)
				snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument %s", argv[optind]);
		return -1;
	}
	return master_config_finish(c, err, errlen);
}

/* The state directory, created or narrowed to mode 0700. 0 or -1 with err. */
static int secure_state_dir(const char *dir, char *err, size_t errlen)
{
	struct stat sb;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return -1;
	}
	if ((sb.st_mode & 07777) != 0700 && chmod(dir, 0700) != 0) {
		snprintf(err, errlen, "%s: chmod 0700: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* The built-in checkpoint directory (STATE_DIR-checkpoints), when the config
 * names none: created like /tmp (1777) by a root master, whose trials run as
 * their owners and write their own checkpoint directories there; 0700 for a
 * master that serves only its own user. An existing directory is left as the
 * admin made it. 0 or -1 with err. */
static int default_checkpoint_dir(const struct master_config *c, char *err, size_t errlen)
{
	const char *dir = json_string_value(json_object_get(c->checkpoint_storage, "host_path"));
	mode_t mode = geteuid() == 0 ? 01777 : 0700;

	if (!c->checkpoint_default || !dir)
		return 0;
	if (mkdir(dir, mode) != 0) {
		if (errno == EEXIST)
			return 0;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (chmod(dir, mode) != 0) { /* mkdir applies the umask */
		snprintf(err, errlen, "%s: chmod: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct master_config cfg;
	struct app app;
	char err[4096] = "";
	const char *backup = NULL;
	sigset_t sigs;
	int sig, rv = 1;

	if (argc > 1 && !strcmp(argv[1], RM_LOCAL_RUN_COMMAND))
		return rm_local_run_command(argc - 2, argv + 2);
	if (argc == 2 && !strcmp(argv[1], TASK_SHELL_SERVE))
		return task_shell_serve();
	memset(&app, 0, sizeof(app));
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	mallopt(M_ARENA_MAX, ncpu > 2 ? (int)ncpu : 2);
	if (master_config_defaults(&cfg, err, sizeof(err)) ||
	    parse_args(argc, argv, &cfg, &backup, err, sizeof(err))) {
		fprintf(stderr, "det-master: %s\n", err);
		master_config_free(&cfg);
		return 2;
	}
	if (backup) {
		rv = store_backup(cfg.db_path, backup, err, sizeof(err));
		if (rv)
			fprintf(stderr, "det-master: backup: %s\n", err);
		else
			printf("det-master: %s copied to %s\n", cfg.db_path, backup);
		master_config_free(&cfg);
		return rv ? 1 : 0;
	}
	/* Every thread started from here on inherits the blocked set. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (secure_state_dir(cfg.state_dir, err, sizeof(err)) ||
	    default_checkpoint_dir(&cfg, err, sizeof(err)) ||
	    app_open(&app, &cfg, 1, err, sizeof(err)))
		goto fail;
	/* Tests and scripts read the port from this line. */
	printf("det-master: listening on port %d\n", http_server_port(app.http));
	fflush(stdout);
	do {
		if (sigwait(&sigs, &sig) != 0)
			break;
	} while (sig == SIGHUP);
	log_msg(&app.log, LOG_LEVEL_INFO, "signal %d: shutting down", sig);
	rv = 0;
fail:
	if (rv)
		fprintf(stderr, "det-master: %s\n", err);
	app_close(&app);
	master_config_free(&cfg);
	return rv;
}
