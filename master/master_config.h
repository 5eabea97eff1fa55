/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det-master's configuration: the YAML file (etc/master.yaml) plus
 * command-line overrides.
 */
#ifndef DET_MASTER_CONFIG_H
#define DET_MASTER_CONFIG_H

#include <jansson.h>

#include "log.h"

/* Limits on what clients may cost the master (the "limits" section, doc/limits.md);
 * 0 means unlimited for the rates and quotas. */
struct master_limits {
	unsigned max_connections;         /* per listener */
	unsigned max_connections_per_ip;  /* TCP connections per client address */
	unsigned idle_timeout_seconds;    /* idle connection closed while reading */
	unsigned header_timeout_seconds;  /* most time to receive a request head */
	unsigned request_timeout_seconds; /* most time to receive one request */
	unsigned login_failures_per_minute_per_address;
	unsigned login_failures_per_minute_per_user;
	unsigned login_max_concurrent;     /* password hashes computed at once */
	unsigned user_requests_per_second; /* per user credential */
	unsigned user_request_burst;       /* requests above the rate allowed at once */
	unsigned max_active_experiments;   /* per user: experiments not yet ended */
	unsigned max_active_trials;        /* per user: running trials (new experiments wait) */
	int exempt_admins;                 /* admins are not rate limited nor quota'd */

	unsigned body_mib_in_flight_per_user; /* request bodies one user may have in flight */
	unsigned body_mib_in_flight;          /* request bodies of everyone in flight */

	unsigned checkpoint_download_max_mib;     /* file bytes of one checkpoint tarball */
	unsigned checkpoint_download_max_entries; /* files and directories in one tarball */
};

struct master_config {
	char *listen_host; /* "" = no TCP listener */
	int listen_port;
	int listen_given;  /* listen set by the file or a flag (else: loopback unless TLS) */
	char *socket_path; /* "" = no Unix socket */
	char *db_path;     /* default state_dir/master.db */
	char *state_dir;
	char *rm; /* "local" or "slurm" */
	enum log_level log_level;
	int log_syslog;
	unsigned http_threads;
	char *launcher;             /* det-launch path (local RM) */
	int slots;                  /* local RM slots; 0 = detect */
	int grace_seconds;          /* SIGTERM → SIGKILL delay */
	json_t *checkpoint_storage; /* default checkpoint storage (object) */
	int checkpoint_default;     /* its host_path is the built-in STATE_DIR-checkpoints */
	char *munge_socket;         /* munged's socket for "Munge" credentials; "" = default */
	char *webui_dir;            /* web UI files served at / */
	char *chartjs_dir;          /* Chart.js files served at /vendor/chart.js/ */
	char *slurm_launcher;       /* det-launch on compute nodes; "" = launcher */
	char *slurm_output;         /* task output file pattern; "" = /dev/null */
	char *slurm_work_dir;       /* working directory of master-submitted jobs */
	int slurm_poll_ms;          /* how often the slurm RM asks slurmctld */
	int slurm_usr1_lead_s;      /* walltime SIGUSR1 lead (s); 0 = none */
	int slurm_baseline;         /* bench only: per-task polling too */
	json_t *admin_uids;         /* Unix uids whose det users are admins (integers) */
	long token_lifetime_s;      /* user tokens expire this long after login */
	char *tls_cert;             /* PEM certificate (chain) for HTTPS; "" = plain HTTP */
	char *tls_key;              /* PEM private key of tls_cert; "" = none */
	char *tls_ca_file;          /* CA file the tasks verify the master with; "" = tls_cert */
	struct master_limits limits;
	json_t *storage_roots;       /* checkpoint storage roots (array; "~": owner's home) */
	char *image_cache_dir;       /* image tarballs (doc/containers.md); "" = STATE_DIR-images */
	unsigned long image_max_mib; /* det image import refuses a larger tarball */
	char
	    *container_runtime; /* auto, podman, oci (a bare OCI bundle), enroot, apptainer, none */
	char *container_oci_runtime; /* podman --runtime, or the "oci" runtime's program (runc,
	                                crun, a path) */
	char *notebook_launcher;     /* what a notebook task runs (det-notebook-launch) */
	long notebook_idle_s;        /* a notebook's default idle timeout (s); 0 = never */
};

/* Fill defaults. 0 or -1 (no memory). */
int master_config_defaults(struct master_config *c, char *err, size_t errlen);

/* Read a YAML file over the current values. 0, or -1 with "file:line:col: why". */
int master_config_load(struct master_config *c, const char *path, char *err, size_t errlen);

/* Parse "HOST:PORT" into the listen fields. 0 or -1 with err. */
int master_config_set_listen(struct master_config *c, const char *hostport, char *err,
                             size_t errlen);

/* Add a storage root (absolute, or "~" / "~/..." for the owner's home; no ".."),
 * after emptying the list when fresh. 0, or -1 with err. */
int master_config_add_root(struct master_config *c, const char *path, int fresh, char *err,
                           size_t errlen);

/* Replace a string field's value (copy). 0 or -1. */
int master_config_set_str(char **field, const char *value);

/* Fill derived values (db path from state dir) and check consistency. 0 or -1 with err. */
int master_config_finish(struct master_config *c, char *err, size_t errlen);

/* Release memory. */
void master_config_free(struct master_config *c);

#endif
