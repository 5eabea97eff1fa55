/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det-launch's addresses for multi-node trials: MASTER_ADDR is srun's
 * address when this host holds it (else the host name), and the interface
 * that holds an address or routes toward one.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "launch_net.h"

/* A fake interface list: lo 127.0.0.1, eth0 192.0.2.7, ib0 2001:db8::5. */
struct fake_ifs {
	struct ifaddrs ifa[4];
	struct sockaddr_in lo, eth0;
	struct sockaddr_in6 ib0;
};

static void fake_init(struct fake_ifs *f)
{
	memset(f, 0, sizeof(*f));
	f->lo.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &f->lo.sin_addr);
	f->eth0.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", &f->eth0.sin_addr);
	f->ib0.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::5", &f->ib0.sin6_addr);
	f->ifa[0].ifa_name = "lo";
	f->ifa[0].ifa_addr = (struct sockaddr *)&f->lo;
	f->ifa[1].ifa_name = "eth0";
	f->ifa[1].ifa_addr = NULL; /* an interface without an address (AF_PACKET-like) */
	f->ifa[2].ifa_name = "eth0";
	f->ifa[2].ifa_addr = (struct sockaddr *)&f->eth0;
	f->ifa[3].ifa_name = "ib0";
	f->ifa[3].ifa_addr = (struct sockaddr *)&f->ib0;
	for (int i = 0; i < 3; i++)
		f->ifa[i].ifa_next = &f->ifa[i + 1];
}

static void test_ifname_of_finds_the_interface_holding_an_address(void **state)
{
	struct fake_ifs f;
	char name[16];
	fake_init(&f);
	assert_int_equal(launch_net_ifname_of(f.ifa, "192.0.2.7", name, sizeof(name)), 0);
	assert_string_equal(name, "eth0");
	assert_int_equal(launch_net_ifname_of(f.ifa, "2001:db8::5", name, sizeof(name)), 0);
	assert_string_equal(name, "ib0");
	assert_int_equal(launch_net_ifname_of(f.ifa, "127.0.0.1", name, sizeof(name)), 0);
	assert_string_equal(name, "lo");
	assert_int_equal(launch_net_ifname_of(f.ifa, "192.0.2.8", name, sizeof(name)), 1);
	assert_int_equal(launch_net_ifname_of(f.ifa, "node7", name, sizeof(name)), -1);
	assert_int_equal(launch_net_ifname_of(NULL, "192.0.2.7", name, sizeof(name)), 1);
}

static void test_master_addr_is_sruns_address_when_it_is_ours(void **state)
{
	struct fake_ifs f;
	char addr[256], err[256];
	char *env[] = {"SLURM_LAUNCH_NODE_IPADDR=192.0.2.7", NULL};
	fake_init(&f);
	assert_int_equal(launch_net_master_addr(env, f.ifa, addr, sizeof(addr), err, sizeof(err)),
	                 0);
	assert_string_equal(addr, "192.0.2.7");
}

static void test_master_addr_falls_back_to_the_host_name(void **state)
{
	struct fake_ifs f;
	char addr[256], err[256], host[256] = "";
	char *elsewhere[] = {"SLURM_LAUNCH_NODE_IPADDR=198.51.100.1", NULL};
	char *bogus[] = {"SLURM_LAUNCH_NODE_IPADDR=not-an-address", NULL};
	char *none[] = {"HOME=/root", NULL};
	char **envs[] = {elsewhere, bogus, none};
	fake_init(&f);
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
		assert_int_equal(
		    launch_net_master_addr(envs[i], f.ifa, addr, sizeof(addr), err, sizeof(err)),
		    0);
		assert_string_equal(addr, host);
	}
	/* no interface list at all (getifaddrs failed): the host name too */
	assert_int_equal(
	    launch_net_master_addr(elsewhere, NULL, addr, sizeof(addr), err, sizeof(err)), 0);
	assert_string_equal(addr, host);
}

static void test_route_toward_loopback_is_lo(void **state)
{
	char name[64], err[256];
	assert_int_equal(launch_net_route_ifname("127.0.0.1", name, sizeof(name), err, sizeof(err)),
	                 0);
	assert_string_equal(name, "lo");
}

static void test_step_port_from_spank(void **state)
{
	char *none[] = {"PATH=/bin", NULL};
	char *set[] = {"DET_RENDEZVOUS_PORT=29914", NULL};
	char *bad[][2] = {{"DET_RENDEZVOUS_PORT=65535", NULL},
	                  {"DET_RENDEZVOUS_PORT=0", NULL},
	                  {"DET_RENDEZVOUS_PORT=12x", NULL}};
	char err[256];
	int port = 0;
	assert_int_equal(launch_net_step_port(none, &port, err, sizeof(err)), 0);
	assert_int_equal(launch_net_step_port(set, &port, err, sizeof(err)), 1);
	assert_int_equal(port, 29914);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(launch_net_step_port(bad[i], &port, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ifname_of_finds_the_interface_holding_an_address),
	    cmocka_unit_test(test_master_addr_is_sruns_address_when_it_is_ours),
	    cmocka_unit_test(test_master_addr_falls_back_to_the_host_name),
	    cmocka_unit_test(test_route_toward_loopback_is_lo),
	    cmocka_unit_test(test_step_port_from_spank),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
