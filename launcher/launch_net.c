/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Addresses for a trial whose ranks run on several nodes. A host name is a
 * poor MASTER_ADDR: Debian's default /etc/hosts maps it to 127.0.1.1, and
 * torch.distributed's gloo binds whatever a rank's own host name resolves
 * to, so ranks on other nodes cannot connect. Rank 0 therefore publishes
 * the address srun was reached at (SLURM_LAUNCH_NODE_IPADDR, which every
 * node's slurmstepd has connected to) when that address is its own, and
 * every rank gives gloo the interface it routes through to MASTER_ADDR.
 * The choices are pure functions of an interface list; only
 * launch_net_route_ifname touches the network stack.
 */
#include "launch_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "launch_rank.h"

/* Does ifa hold the address a (of family fam, 4 or 16 bytes)? */
static int holds(const struct ifaddrs *ifa, int fam, const void *a)
{
	const struct sockaddr *sa = ifa->ifa_addr;
	if (!sa || sa->sa_family != fam)
		return 0;
	if (fam == AF_INET)
		return !memcmp(&((const struct sockaddr_in *)(const void *)sa)->sin_addr, a, 4);
	return !memcmp(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, a, 16);
}

int launch_net_ifname_of(const struct ifaddrs *ifs, const char *addr, char *out, size_t outlen)
{
	unsigned char buf[16];
	int fam = AF_INET;
	if (inet_pton(AF_INET, addr, buf) != 1) {
		fam = AF_INET6;
		if (inet_pton(AF_INET6, addr, buf) != 1)
			return -1;
	}
	for (const struct ifaddrs *ifa = ifs; ifa; ifa = ifa->ifa_next) {
		if (ifa->ifa_name && holds(ifa, fam, buf) &&
		    snprintf(out, outlen, "%s", ifa->ifa_name) < (int)outlen)
			return 0;
	}
	return 1;
}

int launch_net_master_addr(char *const envp[], const struct ifaddrs *ifs, char *out, size_t outlen,
                           char *err, size_t errlen)
{
	char ifname[64];
	const char *ip = launch_env_lookup(envp, "SLURM_LAUNCH_NODE_IPADDR");
	if (ip && *ip && launch_net_ifname_of(ifs, ip, ifname, sizeof(ifname)) == 0) {
		if (snprintf(out, outlen, "%s", ip) >= (int)outlen) {
			snprintf(err, errlen, "SLURM_LAUNCH_NODE_IPADDR: too long");
			return -1;
		}
		return 0;
	}
	if (outlen < 2 || gethostname(out, outlen - 1) < 0) {
		snprintf(err, errlen, "gethostname: %s", strerror(errno));
		return -1;
	}
	out[outlen - 1] = '\0';
	return 0;
}

int launch_net_route_ifname(const char *host, char *out, size_t outlen, char *err, size_t errlen)
{
	int rv = -1, fd = -1;
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai = NULL;
	struct ifaddrs *ifs = NULL;
	struct sockaddr_storage me;
	socklen_t melen = sizeof(me);
	char addr[INET6_ADDRSTRLEN];
	int gai = getaddrinfo(host, "9", &hints, &ai);
	if (gai) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(gai));
		goto fail;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    getsockname(fd, (struct sockaddr *)&me, &melen) < 0) {
		snprintf(err, errlen, "no route to %s: %s", host, strerror(errno));
		goto fail;
	}
	const void *a = me.ss_family == AF_INET
	                    ? (const void *)&((struct sockaddr_in *)&me)->sin_addr
	                    : (const void *)&((struct sockaddr_in6 *)&me)->sin6_addr;
	if (!inet_ntop(me.ss_family, a, addr, sizeof(addr)) || getifaddrs(&ifs) < 0) {
		snprintf(err, errlen, "local address toward %s: %s", host, strerror(errno));
		goto fail;
	}
	if (launch_net_ifname_of(ifs, addr, out, outlen) != 0) {
		snprintf(err, errlen, "no interface holds %s (the address toward %s)", addr, host);
		goto fail;
	}
	rv = 0;
fail:
	if (ifs)
		freeifaddrs(ifs);
	if (fd >= 0)
		close(fd);
	if (ai)
		freeaddrinfo(ai);
	return rv;
}

int launch_net_step_port(char *const envp[], int *port, char *err, size_t errlen)
{
	const char *v = launch_env_lookup(envp, "DET_RENDEZVOUS_PORT");
	char *end;
	long p;
	if (!v || !*v)
		return 0;
	errno = 0;
	p = strtol(v, &end, 10);
	if (errno || *end || p < 1 || p > 65534) {
		snprintf(err, errlen, "DET_RENDEZVOUS_PORT '%s' is not a port in 1..65534", v);
		return -1;
	}
	*port = (int)p;
	return 1;
}
