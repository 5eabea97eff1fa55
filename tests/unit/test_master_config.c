/* SPDX-License-Identifier: GPL-2.0-or-later */
/* det-master's configuration file: the shipped example, overrides, errors with lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "master/master_config.h"

static char path[64];

static void write_file(const char *text)
{
	snprintf(path, sizeof(path), "/tmp/det-master-conf.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int load(struct master_config *c, const char *text, char *err, size_t errlen)
{
	write_file(text);
	int rc = master_config_load(c, path, err, errlen);
	unlink(path);
	return rc;
}

static void test_shipped_example_loads(void **state)
{
	struct master_config c;
	char err[512] = "", file[4096];
	const char *top = getenv("top_srcdir");
	snprintf(file, sizeof(file), "%s/etc/master.yaml", top ? top : "../..");
	assert_int_equal(master_config_defaults(&c, err, sizeof(err)), 0);
	if (master_config_load(&c, file, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(master_config_finish(&c, err, sizeof(err)), 0);
	assert_string_equal(c.rm, "local");
	assert_int_equal(c.listen_port, 8080);
	assert_string_equal(c.listen_host, "127.0.0.1");
	assert_int_equal(c.token_lifetime_s, 7 * 24 * 3600);
	assert_int_equal(c.grace_seconds, 10);
	assert_string_equal(c.db_path, "/var/lib/det-slurm/master.db");
	master_config_free(&c);
}

static void test_values_and_overrides(void **state)
{
	struct master_config c;
	char err[512] = "";
	master_config_defaults(&c, err, sizeof(err));
	assert_int_equal(load(&c,
	                      "listen: 127.0.0.1:9000\nstate_dir: /x\nlog_level: debug\n"
	                      "local: {slots: 3, launcher: /bin/l}\n",
	                      err, sizeof(err)),
	                 0);
	assert_int_equal(master_config_set_listen(&c, "0.0.0.0:1234", err, sizeof(err)), 0);
	assert_int_equal(master_config_finish(&c, err, sizeof(err)), 0);
	assert_int_equal(c.listen_port, 1234);
	assert_int_equal(c.slots, 3);
	assert_string_equal(c.launcher, "/bin/l");
	assert_string_equal(c.db_path, "/x/master.db");
	assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
	master_config_free(&c);
}

/* Loopback unless TLS is configured; an explicit listen wins; tls needs both files. */
static void test_tls_and_token_lifetime(void **state)
{
	struct master_config c;
	char err[512] = "";
	master_config_defaults(&c, err, sizeof(err));
	assert_int_equal(load(&c,
	                      "tls: {cert: /etc/c.pem, key: /etc/k.pem}\n"
	                      "token_lifetime_seconds: 60\n",
	                      err, sizeof(err)),
	                 0);
	assert_int_equal(master_config_finish(&c, err, sizeof(err)), 0);
	assert_string_equal(c.listen_host, "0.0.0.0");
	assert_string_equal(c.tls_cert, "/etc/c.pem");
	assert_string_equal(c.tls_key, "/etc/k.pem");
	assert_int_equal(c.token_lifetime_s, 60);
	master_config_free(&c);

	master_config_defaults(&c, err, sizeof(err));
	assert_int_equal(
	    load(&c, "listen: 127.0.0.1:9\ntls: {cert: /c, key: /k}\n", err, sizeof(err)), 0);
	assert_int_equal(master_config_finish(&c, err, sizeof(err)), 0);
	assert_string_equal(c.listen_host, "127.0.0.1");
	master_config_free(&c);

	master_config_defaults(&c, err, sizeof(err));
	assert_int_equal(load(&c, "tls: {cert: /c}\n", err, sizeof(err)), 0);
	assert_int_equal(master_config_finish(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "tls"));
	master_config_free(&c);

	master_config_defaults(&c, err, sizeof(err));
	assert_int_equal(load(&c, "tls: {cert: relative.pem, key: /k}\n", err, sizeof(err)), -1);
	master_config_free(&c);
	master_config_defaults(&c, err, sizeof(err));
	assert_int_equal(load(&c, "token_lifetime_seconds: 0\n", err, sizeof(err)), -1);
	master_config_free(&c);
}

static void test_slurm_section(void **state)
{
	struct master_config c;
	char err[512] = "";
	(void)state;
	master_config_defaults(&c, err, sizeof(err));
	assert_int_equal(c.slurm_poll_ms, 1000);
	assert_string_equal(c.slurm_work_dir, "/tmp");
	assert_int_equal(load(&c,
	                      "resource_manager: slurm\nslurm: {launcher: det-launch, output: "
	                      "/x/%A_%a.log, work_dir: /w, poll_ms: 250}\n",
	                      err, sizeof(err)),
	                 0);
	assert_string_equal(c.rm, "slurm");
	assert_string_equal(c.slurm_launcher, "det-launch");
	assert_string_equal(c.slurm_output, "/x/%A_%a.log");
	assert_string_equal(c.slurm_work_dir, "/w");
	assert_int_equal(c.slurm_poll_ms, 250);
	assert_int_equal(c.slurm_usr1_lead_s, 120);
	assert_int_equal(load(&c, "slurm: {walltime_signal_seconds: 30}\n", err, sizeof(err)), 0);
	assert_int_equal(c.slurm_usr1_lead_s, 30);
	assert_int_equal(load(&c, "slurm: {walltime_signal_seconds: 65536}\n", err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "slurm.walltime_signal_seconds"));
	assert_int_equal(load(&c, "slurm: {poll_ms: 10}\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "slurm.poll_ms"));
	assert_int_equal(load(&c, "slurm: {work_dir: relative}\n", err, sizeof(err)), -1);
	assert_int_equal(load(&c, "slurm: {partition: gpu}\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "slurm.partition"));
	assert_int_equal(load(&c, "slurm: [a]\n", err, sizeof(err)), -1);
	master_config_free(&c);
}

static void test_limits_section(void **state)
{
	struct master_config c;
	char err[512] = "";
	(void)state;
	master_config_defaults(&c, err, sizeof(err));
	assert_int_equal(c.limits.max_connections_per_ip, 256);
	assert_int_equal(c.limits.idle_timeout_seconds, 30);
	assert_int_equal(c.limits.header_timeout_seconds, 30);
	assert_int_equal(c.limits.login_max_concurrent, 2);
	assert_int_equal(c.limits.max_active_experiments, 0);
	assert_true(c.limits.exempt_admins);
	assert_int_equal(c.limits.body_mib_in_flight_per_user, 192);
	assert_int_equal(c.limits.body_mib_in_flight, 512);
	assert_int_equal(load(&c,
	                      "limits: {max_connections_per_ip: 8, idle_timeout_seconds: 5, "
	                      "user_requests_per_second: 0, max_active_trials: 3, "
	                      "exempt_admins: false}\n",
	                      err, sizeof(err)),
	                 0);
	assert_int_equal(c.limits.max_connections_per_ip, 8);
	assert_int_equal(c.limits.idle_timeout_seconds, 5);
	assert_int_equal(c.limits.user_requests_per_second, 0);
	assert_int_equal(c.limits.max_active_trials, 3);
	assert_false(c.limits.exempt_admins);
	assert_int_equal(c.limits.max_connections, 4096); /* untouched keys keep defaults */
	assert_int_equal(load(&c, "limits: {idle_timeout_seconds: 0}\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "limits.idle_timeout_seconds"));
	assert_int_equal(load(&c, "limits: {max_sessions: 3}\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "limits.max_sessions"));
	assert_int_equal(load(&c, "limits: {login_max_concurrent: -1}\n", err, sizeof(err)), -1);
	assert_int_equal(load(&c, "limits: 5\n", err, sizeof(err)), -1);
	assert_int_equal(load(&c,
	                      "limits: {body_mib_in_flight_per_user: 64, body_mib_in_flight: 0}\n",
	                      err, sizeof(err)),
	                 0);
	assert_int_equal(c.limits.body_mib_in_flight_per_user, 64);
	assert_int_equal(c.limits.body_mib_in_flight, 0);
	assert_int_equal(load(&c, "limits: {body_mib_in_flight: -1}\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "limits.body_mib_in_flight"));
	master_config_free(&c);
}

static void test_storage_roots(void **state)
{
	struct master_config c;
	char err[512] = "";
	master_config_defaults(&c, err, sizeof(err));
	assert_int_equal(json_array_size(c.storage_roots), 1);
	assert_string_equal(json_string_value(json_array_get(c.storage_roots, 0)), "~");
	assert_int_equal(load(&c, "storage_roots: [/scratch, \"~/ckpt\"]\n", err, sizeof(err)), 0);
	assert_int_equal(json_array_size(c.storage_roots), 2);
	assert_string_equal(json_string_value(json_array_get(c.storage_roots, 1)), "~/ckpt");
	/* the command line's first root replaces the list, later ones add */
	assert_int_equal(master_config_add_root(&c, "/a", 1, err, sizeof(err)), 0);
	assert_int_equal(master_config_add_root(&c, "/b", 0, err, sizeof(err)), 0);
	assert_int_equal(json_array_size(c.storage_roots), 2);
	assert_string_equal(json_string_value(json_array_get(c.storage_roots, 0)), "/a");
	assert_int_equal(master_config_add_root(&c, "relative", 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "absolute"));
	assert_int_equal(master_config_add_root(&c, "/a/../etc", 0, err, sizeof(err)), -1);
	assert_int_equal(load(&c, "\nstorage_roots: [/ok, /x/..]\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2:1: storage_roots[1]"));
	assert_int_equal(load(&c, "storage_roots: []\n", err, sizeof(err)), 0);
	assert_int_equal(json_array_size(c.storage_roots), 0);
	master_config_free(&c);
}

static void test_errors_name_the_line(void **state)
{
	struct master_config c;
	char err[512] = "";
	master_config_defaults(&c, err, sizeof(err));
	assert_int_equal(load(&c, "listen: 1.2.3.4:80\nlisten_prot: 9\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2:"));
	assert_non_null(strstr(err, "listen_prot"));
	assert_int_equal(load(&c, "local: {slots: many}\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "local.slots"));
	assert_int_equal(load(&c, "listen: [unclosed\n", err, sizeof(err)), -1);
	assert_int_equal(load(&c, "- a\n- b\n", err, sizeof(err)), -1);
	assert_int_equal(master_config_set_listen(&c, "nohostport", err, sizeof(err)), -1);
	assert_int_equal(master_config_set_listen(&c, "h:99999", err, sizeof(err)), -1);
	master_config_set_str(&c.rm, "kubernetes");
	assert_int_equal(master_config_finish(&c, err, sizeof(err)), -1);
	master_config_free(&c);
}

/* admins: uids and account names, each resolved to a uid at load; an unknown name is
 * an error that names it. */
static void test_admins_resolve_to_uids(void **state)
{
	struct master_config c;
	char err[512] = "";
	master_config_defaults(&c, err, sizeof(err));
	assert_int_equal(json_array_size(c.admin_uids), 0);
	if (load(&c, "admins: [root, 1234, \"0\"]\n", err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(json_array_size(c.admin_uids), 3);
	assert_int_equal(json_integer_value(json_array_get(c.admin_uids, 0)), 0);
	assert_int_equal(json_integer_value(json_array_get(c.admin_uids, 1)), 1234);
	assert_int_equal(json_integer_value(json_array_get(c.admin_uids, 2)), 0);
	assert_int_equal(load(&c, "admins: [no-such-account-x9]\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "admins[0]: no-such-account-x9: no such account"));
	assert_int_equal(load(&c, "admins: root\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "admins: expected a list"));
	master_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shipped_example_loads),
	    cmocka_unit_test(test_values_and_overrides),
	    cmocka_unit_test(test_errors_name_the_line),
	    cmocka_unit_test(test_tls_and_token_lifetime),
	    cmocka_unit_test(test_slurm_section),
	    cmocka_unit_test(test_admins_resolve_to_uids),
	    cmocka_unit_test(test_limits_section),
	    cmocka_unit_test(test_storage_roots),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
