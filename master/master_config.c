/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det-master configuration file. The YAML document is first turned into a
 * tree of JSON strings/objects (every scalar kept as text with its position),
 * then each known key is read and checked; an unknown key is an error that
 * names its line, so a typo never silently falls back to a default.
 */
#include "master_config.h"
#include "task_notebook.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define CONFIG_MAX_BYTES (256 * 1024)

int master_config_set_str(char **field, const char *value)
{
	char *v = strdup(value ? value : "");
	if (!v)
		return -1;
	free(*field);
	*field = v;
	return 0;
}

int master_config_defaults(struct master_config *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->listen_port = 8080;
	c->log_level = LOG_LEVEL_INFO;
	c->http_threads = 16;
	c->grace_seconds = 10;
	c->slurm_poll_ms = 1000;
	c->slurm_usr1_lead_s = 120;
	c->token_lifetime_s = 7 * 24 * 3600;
	c->image_max_mib = 8192;
	c->limits = (struct master_limits){.max_connections = 4096,
	                                   .max_connections_per_ip = 256,
	                                   .idle_timeout_seconds = 30,
	                                   .header_timeout_seconds = 30,
	                                   .request_timeout_seconds = 300,
	                                   .login_failures_per_minute_per_address = 30,
	                                   .login_failures_per_minute_per_user = 10,
	                                   .login_max_concurrent = 2,
	                                   .user_requests_per_second = 50,
	                                   .user_request_burst = 200,
	                                   .max_active_experiments = 0,
	                                   .max_active_trials = 0,
	                                   .exempt_admins = 1,
	                                   .body_mib_in_flight_per_user = 192,
	                                   .body_mib_in_flight = 512,
	                                   .checkpoint_download_max_mib = 4096,
	                                   .checkpoint_download_max_entries = 100000};
	if (master_config_set_str(&c->tls_cert, "") || master_config_set_str(&c->tls_key, "") ||
	    master_config_set_str(&c->tls_ca_file, "") ||
	    master_config_set_str(&c->listen_host, "127.0.0.1") ||
	    master_config_set_str(&c->socket_path, "/run/det-slurm/master.sock") ||
	    master_config_set_str(&c->state_dir, "/var/lib/det-slurm") ||
	    master_config_set_str(&c->db_path, "") || master_config_set_str(&c->rm, "local") ||
	    master_config_set_str(&c->launcher, BINDIR "/det-launch") ||
	    master_config_set_str(&c->munge_socket, "") ||
	    master_config_set_str(&c->slurm_launcher, "") ||
	    master_config_set_str(&c->slurm_output, "") ||
	    master_config_set_str(&c->slurm_work_dir, "/tmp") ||
	    master_config_set_str(&c->webui_dir, DET_PKGDATADIR "/webui") ||
	    master_config_set_str(&c->chartjs_dir, "/usr/share/javascript/chart.js") ||
	    master_config_set_str(&c->image_cache_dir, "") ||
	    master_config_set_str(&c->container_runtime, "auto") ||
	    master_config_set_str(&c->container_oci_runtime, "runc") ||
	    master_config_set_str(&c->notebook_launcher, DET_PKGDATADIR "/det-notebook-launch")) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->checkpoint_storage = json_object();
	c->admin_uids = json_array();
	c->storage_roots = json_pack("[s]", "~");
	return c->checkpoint_storage && c->admin_uids && c->storage_roots ? 0 : -1;
}

int master_config_add_root(struct master_config *c, const char *path, int fresh, char *err,
                           size_t errlen)
{
	int home = path[0] == '~' && (path[1] == '\0' || path[1] == '/');
	const char *p;

	if (!home && path[0] != '/') {
		snprintf(err, errlen, "storage root %s: expected an absolute path or ~", path);
		return -1;
	}
	for (p = path; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/')) {
			snprintf(err, errlen, "storage root %s: '..' is not allowed", path);
			return -1;
		}
	if (fresh)
		json_array_clear(c->storage_roots);
	if (json_array_append_new(c->storage_roots, json_string(path))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int master_config_set_listen(struct master_config *c, const char *hostport, char *err,
                             size_t errlen)
{
	const char *colon = strrchr(hostport, ':');
	char *end;
	long port;

	if (!colon) {
		snprintf(err, errlen, "listen %s: expected HOST:PORT", hostport);
		return -1;
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 0 || port > 65535) {
		snprintf(err, errlen, "listen %s: bad port", hostport);
		return -1;
	}
	char *host = strndup(hostport, (size_t)(colon - hostport));
	if (!host)
		return -1;
	free(c->listen_host);
	c->listen_host = host;
	c->listen_port = (int)port;
	c->listen_given = 1;
	return 0;
}

/* YAML node → JSON (strings, objects, arrays); "__line" kept per scalar in a side object. */
static json_t *node_to_json(yaml_document_t *doc, yaml_node_t *n, int depth)
{
	json_t *out = NULL;

	if (!n || depth > 16)
		return NULL;
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return json_stringn((const char *)n->data.scalar.value, n->data.scalar.length);
	case YAML_SEQUENCE_NODE:
		out = json_array();
		for (yaml_node_item_t *i = n->data.sequence.items.start;
		     out && i < n->data.sequence.items.top; i++) {
			json_t *v = node_to_json(doc, yaml_document_get_node(doc, *i), depth + 1);
			if (!v || json_array_append_new(out, v)) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	case YAML_MAPPING_NODE:
		out = json_object();
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     out && p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(doc, p->key);
			json_t *v =
			    node_to_json(doc, yaml_document_get_node(doc, p->value), depth + 1);
			if (!k || k->type != YAML_SCALAR_NODE || !v ||
			    json_object_set_new(out, (const char *)k->data.scalar.value, v)) {
				json_decref(v);
				json_decref(out);
				return NULL;
			}
		}
		return out;
	default:
		return NULL;
	}
}

static int line_of(yaml_document_t *doc, const char *key)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return (int)k->start_mark.line + 1;
	}
	return 0;
}

static int get_int(json_t *v, long lo, long hi, long *out)
{
	char *end;
	long x;
	if (!json_is_string(v))
		return -1;
	errno = 0;
	x = strtol(json_string_value(v), &end, 10);
	if (errno || *end || end == json_string_value(v) || x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

static int get_bool(json_t *v, int *out)
{
	const char *s = json_string_value(v);
	if (!s)
		return -1;
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
		*out = 1;
	else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
		*out = 0;
	else
		return -1;
	return 0;
}

static int apply_local(struct master_config *c, json_t *local, const char *where, char *err,
                       size_t errlen)
{
	const char *k;
	json_t *v;
	long x;

	if (!json_is_object(local)) {
		snprintf(err, errlen, "%s: local: expected a mapping", where);
		return -1;
	}
	json_object_foreach (local, k, v) {
		if (!strcmp(k, "launcher") && json_is_string(v)) {
			if (master_config_set_str(&c->launcher, json_string_value(v)))
				return -1;
		} else if (!strcmp(k, "slots") && get_int(v, 0, 100000, &x) == 0) {
			c->slots = (int)x;
		} else if (!strcmp(k, "grace_seconds") && get_int(v, 0, 3600, &x) == 0) {
			c->grace_seconds = (int)x;
		} else {
			snprintf(err, errlen, "%s: local.%s: unknown key or bad value", where, k);
			return -1;
		}
	}
	return 0;
}

static int apply_slurm(struct master_config *c, json_t *slurm, const char *where, char *err,
                       size_t errlen)
{
	const char *k;
	json_t *v;
	long x;

	if (!json_is_object(slurm)) {
		snprintf(err, errlen, "%s: slurm: expected a mapping", where);
		return -1;
	}
	json_object_foreach (slurm, k, v) {
		const char *s = json_string_value(v);
		char **field = !strcmp(k, "launcher")   ? &c->slurm_launcher
		               : !strcmp(k, "output")   ? &c->slurm_output
		               : !strcmp(k, "work_dir") ? &c->slurm_work_dir
		                                        : NULL;
		if (field && s && (!*s || *s == '/' || field == &c->slurm_launcher)) {
			if (master_config_set_str(field, s))
				return -1;
		} else if (!strcmp(k, "poll_ms") && get_int(v, 50, 600000, &x) == 0) {
			c->slurm_poll_ms = (int)x;
		} else if (!strcmp(k, "walltime_signal_seconds") && get_int(v, 0, 65535, &x) == 0) {
			c->slurm_usr1_lead_s = (int)x;
		} else if (!strcmp(k, "baseline_per_task_polling") &&
		           get_bool(v, &c->slurm_baseline) == 0) {
			/* Undocumented: bench/slurm_rpc.sh's baseline. */
		} else {
			snprintf(err, errlen, "%s: slurm.%s: unknown key or bad value", where, k);
			return -1;
		}
	}
	return 0;
}

/* admins: a list of uids or account names, each resolved to a uid now. */
static int apply_admins(struct master_config *c, json_t *list, const char *where, char *err,
                        size_t errlen)
{
	char buf[16384];
	struct passwd pw, *res;
	size_t i;
	json_t *v;
	long uid;

	if (!json_is_array(list)) {
		snprintf(err, errlen, "%s: admins: expected a list of uids or account names",
		         where);
		return -1;
	}
	json_array_clear(c->admin_uids);
	json_array_foreach (list, i, v) {
		const char *s = json_string_value(v);
		res = NULL;
		if (get_int(v, 0, 0x7fffffff, &uid) == 0) {
			/* a number is a uid, with or without an account */
		} else if (s && getpwnam_r(s, &pw, buf, sizeof(buf), &res) == 0 && res) {
			uid = (long)res->pw_uid;
		} else {
			snprintf(err, errlen, "%s: admins[%zu]: %.64s%s", where, i, s ? s : "?",
			         s ? ": no such account (expected a uid or an account name)"
			           : ": expected a uid or an account name");
			return -1;
		}
		if (json_array_append_new(c->admin_uids, json_integer(uid)))
			return -1;
	}
	return 0;
}

/* tls: {cert: PATH, key: PATH, ca_file: PATH}, all absolute. */
static int apply_tls(struct master_config *c, json_t *tls, const char *where, char *err,
                     size_t errlen)
{
	const char *k;
	json_t *v;

	if (!json_is_object(tls)) {
		snprintf(err, errlen, "%s: tls: expected a mapping with cert and key", where);
		return -1;
	}
	json_object_foreach (tls, k, v) {
		const char *s = json_string_value(v);
		char **field = !strcmp(k, "cert")      ? &c->tls_cert
		               : !strcmp(k, "key")     ? &c->tls_key
		               : !strcmp(k, "ca_file") ? &c->tls_ca_file
		                                       : NULL;
		if (!field || !s || *s != '/') {
			snprintf(err, errlen, "%s: tls.%s: unknown key or not an absolute path",
			         where, k);
			return -1;
		}
		if (master_config_set_str(field, s)) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

static int apply_limits(struct master_config *c, json_t *limits, const char *where, char *err,
                        size_t errlen)
{
	struct master_limits *m = &c->limits;
	const struct {
		const char *key;
		unsigned *field;
		long lo, hi;
	} keys[] = {
	    {"max_connections", &m->max_connections, 16, 1000000},
	    {"max_connections_per_ip", &m->max_connections_per_ip, 4, 1000000},
	    {"idle_timeout_seconds", &m->idle_timeout_seconds, 1, 86400},
	    {"header_timeout_seconds", &m->header_timeout_seconds, 1, 86400},
	    {"request_timeout_seconds", &m->request_timeout_seconds, 1, 86400},
	    {"login_failures_per_minute_per_address", &m->login_failures_per_minute_per_address, 0,
	     1000000},
	    {"login_failures_per_minute_per_user", &m->login_failures_per_minute_per_user, 0,
	     1000000},
	    {"login_max_concurrent", &m->login_max_concurrent, 1, 1024},
	    {"user_requests_per_second", &m->user_requests_per_second, 0, 1000000},
	    {"user_request_burst", &m->user_request_burst, 1, 1000000},
	    {"max_active_experiments", &m->max_active_experiments, 0, 1000000},
	    {"max_active_trials", &m->max_active_trials, 0, 1000000},
	    {"body_mib_in_flight_per_user", &m->body_mib_in_flight_per_user, 0, 1048576},
	    {"body_mib_in_flight", &m->body_mib_in_flight, 0, 1048576},
	    {"checkpoint_download_max_mib", &m->checkpoint_download_max_mib, 1, 1048576},
	    {"checkpoint_download_max_entries", &m->checkpoint_download_max_entries, 1, 100000000},
	};
	const char *k;
	json_t *v;
	long x;

	if (!json_is_object(limits)) {
		snprintf(err, errlen, "%s: limits: expected a mapping", where);
		return -1;
	}
	json_object_foreach (limits, k, v) {
		size_t i;
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcmp(k, keys[i].key))
				break;
		if (i < sizeof(keys) / sizeof(keys[0]) &&
		    get_int(v, keys[i].lo, keys[i].hi, &x) == 0) {
			*keys[i].field = (unsigned)x;
		} else if (!strcmp(k, "exempt_admins") && get_bool(v, &m->exempt_admins) == 0) {
			continue;
		} else {
			snprintf(err, errlen, "%s: limits.%s: unknown key or bad value", where, k);
			return -1;
		}
	}
	return 0;
}

static int apply(struct master_config *c, json_t *root, yaml_document_t *doc, const char *path,
                 char *err, size_t errlen)
{
	const char *k;
	json_t *v;
	char where[PATH_MAX + 32];
	long x;

	json_object_foreach (root, k, v) {
		const char *s = json_string_value(v);
		snprintf(where, sizeof(where), "%s:%d:1", path, line_of(doc, k));
		if (!strcmp(k, "listen") && s) {
			if (master_config_set_listen(c, s, err, errlen))
				goto bad;
		} else if (!strcmp(k, "socket") && s) {
			if (master_config_set_str(&c->socket_path, s))
				return -1;
		} else if (!strcmp(k, "db") && s) {
			if (master_config_set_str(&c->db_path, s))
				return -1;
		} else if (!strcmp(k, "state_dir") && s) {
			if (master_config_set_str(&c->state_dir, s))
				return -1;
		} else if (!strcmp(k, "munge_socket") && s) {
			if (master_config_set_str(&c->munge_socket, s))
				return -1;
		} else if (!strcmp(k, "resource_manager") && s) {
			if (master_config_set_str(&c->rm, s))
				return -1;
		} else if (!strcmp(k, "log_level") && s) {
			if (log_level_parse(s, &c->log_level))
				goto bad;
		} else if (!strcmp(k, "log_syslog")) {
			if (get_bool(v, &c->log_syslog))
				goto bad;
		} else if (!strcmp(k, "http_threads")) {
			if (get_int(v, 1, 1024, &x))
				goto bad;
			c->http_threads = (unsigned)x;
		} else if (!strcmp(k, "image_max_mib")) {
			if (get_int(v, 1, 1L << 30, &x))
				goto bad;
			c->image_max_mib = (unsigned long)x;
		} else if (!strcmp(k, "token_lifetime_seconds")) {
			if (get_int(v, 1, 10L * 365 * 24 * 3600, &x))
				goto bad;
			c->token_lifetime_s = x;
		} else if (!strcmp(k, "tls")) {
			if (apply_tls(c, v, where, err, errlen))
				return -1;
		} else if (!strcmp(k, "checkpoint_storage") && json_is_object(v)) {
			json_decref(c->checkpoint_storage);
			c->checkpoint_storage = json_incref(v);
		} else if (!strcmp(k, "storage_roots") && json_is_array(v)) {
			size_t i;
			json_t *r;
			json_array_foreach (v, i, r) {
				if (!json_string_value(r)) {
					snprintf(err, errlen,
					         "%s: storage_roots[%zu]: expected a path", where,
					         i);
					return -1;
				}
				char why[PATH_MAX + 64];
				if (master_config_add_root(c, json_string_value(r), i == 0, why,
				                           sizeof(why))) {
					snprintf(err, errlen, "%s: storage_roots[%zu]: %s", where,
					         i, why);
					return -1;
				}
			}
			if (json_array_size(v) == 0)
				json_array_clear(c->storage_roots);
		} else if (!strcmp(k, "notebook_launcher") && s && s[0] == '/') {
			if (master_config_set_str(&c->notebook_launcher, s))
				return -1;
		} else if (!strcmp(k, "notebook_idle_timeout")) {
			char why[128];
			if (task_notebook_idle_parse(v, &c->notebook_idle_s, why, sizeof(why))) {
				snprintf(err, errlen, "%s: notebook_%s", where, why);
				return -1;
			}
		} else if (!strcmp(k, "webui_dir") && s) {
			if (master_config_set_str(&c->webui_dir, s))
				return -1;
		} else if (!strcmp(k, "chartjs_dir") && s) {
			if (master_config_set_str(&c->chartjs_dir, s))
				return -1;
		} else if (!strcmp(k, "image_cache_dir") && s && s[0] == '/') {
			if (master_config_set_str(&c->image_cache_dir, s))
				return -1;
		} else if (!strcmp(k, "container_runtime") && s) {
			if (strcmp(s, "auto") && strcmp(s, "podman") && strcmp(s, "none") &&
			    strcmp(s, "oci") && strcmp(s, "crun") && strcmp(s, "enroot") &&
			    strcmp(s, "apptainer")) {
				snprintf(
				    err, errlen,
				    "%s: container_runtime: expected auto, podman, oci (or crun) "
				    "or "
				    "none, got \"%s\" (the OCI runtime that runs the container, "
				    "runc or crun: container_oci_runtime)",
				    where, s);
				return -1;
			}
			/* crun: the bare OCI-bundle runtime's other name (its OCI runtime may be
			 * runc) */
			if (master_config_set_str(&c->container_runtime,
			                          strcmp(s, "crun") ? s : "oci"))
				return -1;
		} else if (!strcmp(k, "container_oci_runtime") && s && *s && s[0] != '-') {
			if (master_config_set_str(&c->container_oci_runtime, s))
				return -1;
		} else if (!strcmp(k, "local")) {
			if (apply_local(c, v, where, err, errlen))
				return -1;
		} else if (!strcmp(k, "slurm")) {
			if (apply_slurm(c, v, where, err, errlen))
				return -1;
		} else if (!strcmp(k, "admins")) {
			if (apply_admins(c, v, where, err, errlen))
				return -1;
		} else if (!strcmp(k, "limits")) {
			if (apply_limits(c, v, where, err, errlen))
				return -1;
		} else {
			goto bad;
		}
		continue;
	bad:
		snprintf(err, errlen, "%s: %s: unknown key or bad value", where, k);
		return -1;
	}
	return 0;
}

int master_config_load(struct master_config *c, const char *path, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	FILE *f = NULL;
	json_t *root = NULL;
	int rv = -1, have_parser = 0, have_doc = 0;
	long size;

	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > CONFIG_MAX_BYTES) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, CONFIG_MAX_BYTES);
		goto fail;
	}
	rewind(f);
	if (!yaml_parser_initialize(&parser))
		goto fail;
	have_parser = 1;
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%zu:%zu: %s", path, parser.problem_mark.line + 1,
		         parser.problem_mark.column + 1,
		         parser.problem ? parser.problem : "invalid YAML");
		goto fail;
	}
	have_doc = 1;
	yaml_node_t *top = yaml_document_get_root_node(&doc);
	if (!top) { /* empty file: all defaults */
		rv = 0;
		goto fail;
	}
	if (top->type != YAML_MAPPING_NODE) {
		snprintf(err, errlen, "%s:1:1: expected a mapping of settings", path);
		goto fail;
	}
	root = node_to_json(&doc, top, 0);
	if (!root) {
		snprintf(err, errlen, "%s: unsupported YAML (keys must be plain scalars)", path);
		goto fail;
	}
	rv = apply(c, root, &doc, path, err, errlen);
fail:
	json_decref(root);
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&parser);
	fclose(f);
	return rv;
}

int master_config_finish(struct master_config *c, char *err, size_t errlen)
{
	if (strcmp(c->rm, "local") && strcmp(c->rm, "slurm")) {
		snprintf(err, errlen, "resource manager %s: expected local or slurm", c->rm);
		return -1;
	}
	if (!*c->tls_cert != !*c->tls_key) {
		snprintf(err, errlen, "tls: both a certificate and a key are needed");
		return -1;
	}
	/* Off loopback only with TLS, unless the admin says where to listen. */
	if (!c->listen_given && *c->tls_cert && master_config_set_str(&c->listen_host, "0.0.0.0"))
		return -1;
	if (!*c->db_path) {
		char *p;
		if (asprintf(&p, "%s/master.db", c->state_dir) < 0)
			return -1;
		free(c->db_path);
		c->db_path = p;
	}
	if (!json_object_get(c->checkpoint_storage, "host_path")) {
		/* Beside the state directory, not in it: that one is private (0700) and
		 * trials write their checkpoints as their owners. */
		char *p;
		size_t n = strlen(c->state_dir);
		while (n > 1 && c->state_dir[n - 1] == '/')
			n--;
		if (asprintf(&p, "%.*s-checkpoints", (int)n, c->state_dir) < 0)
			return -1;
		c->checkpoint_default = 1;
		json_object_set_new(c->checkpoint_storage, "type", json_string("shared_fs"));
		json_object_set_new(c->checkpoint_storage, "host_path", json_string(p));
		free(p);
	}
	if (!*c->image_cache_dir) {
		/* Beside the state directory too: the nodes read it (podman import). */
		char *p;
		size_t n = strlen(c->state_dir);
		while (n > 1 && c->state_dir[n - 1] == '/')
			n--;
		if (asprintf(&p, "%.*s-images", (int)n, c->state_dir) < 0)
			return -1;
		free(c->image_cache_dir);
		c->image_cache_dir = p;
	}
	return 0;
}

void master_config_free(struct master_config *c)
{
	free(c->listen_host);
	free(c->socket_path);
	free(c->db_path);
	free(c->state_dir);
	free(c->rm);
	free(c->launcher);
	free(c->munge_socket);
	free(c->webui_dir);
	free(c->chartjs_dir);
	free(c->slurm_launcher);
	free(c->slurm_output);
	free(c->slurm_work_dir);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->tls_ca_file);
	json_decref(c->checkpoint_storage);
	json_decref(c->admin_uids);
	json_decref(c->storage_roots);
	free(c->image_cache_dir);
	free(c->container_runtime);
	free(c->container_oci_runtime);
	free(c->notebook_launcher);
	memset(c, 0, sizeof(*c));
}
