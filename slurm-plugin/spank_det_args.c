/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Parser for spank_det's plugstack arguments into struct det_spank_args.
 * Non-obvious decision: required_master=yes without master= is refused at
 * init, because it would otherwise fail every det step at run time.
 */
#include "spank_det_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void det_spank_args_init(struct det_spank_args *args)
{
	memset(args, 0, sizeof(*args));
	args->timeout_ms = 2000;
	args->auth_munge = 1;
	snprintf(args->tmpdir_base, sizeof(args->tmpdir_base), "/tmp");
	args->port_lo = 29500;
	args->port_hi = 30499;
}

static int parse_bool(const char *v, int *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1"))
		*out = 1;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

static int copy_value(char *dst, size_t dstlen, const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n >= dstlen)
		return -1;
	memcpy(dst, v, n + 1);
	return 0;
}

static int parse_master(struct det_spank_args *args, const char *v)
{
	if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8) && strncmp(v, "unix:/", 6))
		return -1;
	return copy_value(args->master, sizeof(args->master), v);
}

static int parse_timeout(struct det_spank_args *args, const char *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 1 || n > 60000)
		return -1;
	args->timeout_ms = n;
	return 0;
}

/* "LO-HI" with 1024 <= LO < HI <= 65535: room for at least one port pair. */
static int parse_port_range(struct det_spank_args *args, const char *v)
{
	char *end, *end2;
	long lo, hi;

	errno = 0;
	lo = strtol(v, &end, 10);
	if (errno || end == v || *end != '-')
		return -1;
	hi = strtol(end + 1, &end2, 10);
	if (errno || end2 == end + 1 || *end2 || lo < 1024 || hi > 65535 || hi <= lo)
		return -1;
	args->port_lo = (int)lo;
	args->port_hi = (int)hi;
	return 0;
}

static int parse_one(struct det_spank_args *args, const char *key, const char *v)
{
	if (!strcmp(key, "master"))
		return parse_master(args, v);
	if (!strcmp(key, "required_master"))
		return parse_bool(v, &args->required_master);
	if (!strcmp(key, "timeout_ms"))
		return parse_timeout(args, v);
	if (!strcmp(key, "munge_socket"))
		return v[0] == '/' ? copy_value(args->munge_socket, sizeof(args->munge_socket), v)
		                   : -1;
	if (!strcmp(key, "tmpdir_base"))
		return v[0] == '/' ? copy_value(args->tmpdir_base, sizeof(args->tmpdir_base), v)
		                   : -1;
	if (!strcmp(key, "port_range"))
		return parse_port_range(args, v);
	if (!strcmp(key, "auth")) {
		if (!strcmp(v, "munge"))
			args->auth_munge = 1;
		else if (!strcmp(v, "none"))
			args->auth_munge = 0;
		else
			return -1;
		return 0;
	}
	return -2;
}

int det_spank_args_parse(struct det_spank_args *args, int argc, char **argv, char *err,
                         size_t errlen)
{
	char key[32];

	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		size_t klen = eq ? (size_t)(eq - argv[i]) : 0;
		int rc;

		if (!eq || klen == 0 || klen >= sizeof(key)) {
			snprintf(err, errlen, "argument '%s' is not key=value", argv[i]);
			return -1;
		}
		memcpy(key, argv[i], klen);
		key[klen] = '\0';
		rc = parse_one(args, key, eq + 1);
		if (rc == -2) {
			snprintf(
			    err, errlen,
			    "unknown argument '%s' (known: master, required_master, timeout_ms, "
			    "auth, munge_socket, tmpdir_base, port_range)",
			    key);
			return -1;
		}
		if (rc < 0) {
			snprintf(err, errlen, "bad value in argument '%s'", argv[i]);
			return -1;
		}
	}
	if (args->required_master && !args->master[0]) {
		snprintf(err, errlen, "required_master=yes needs master=URL");
		return -1;
	}
	return 0;
}
