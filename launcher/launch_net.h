/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Addresses for a trial on several nodes: what rank 0 publishes as
 * MASTER_ADDR, and the interface each rank's torch.distributed (gloo) uses.
 */
#ifndef DET_LAUNCH_NET_H
#define DET_LAUNCH_NET_H

#include <ifaddrs.h>
#include <stddef.h>

/* Rank 0's MASTER_ADDR into out: SLURM_LAUNCH_NODE_IPADDR from envp (the
 * address at which every node's slurmstepd reached srun) when ifs (this
 * host's interfaces) holds it, else this host's name. 0, or -1 with err. */
int launch_net_master_addr(char *const envp[], const struct ifaddrs *ifs, char *out, size_t outlen,
                           char *err, size_t errlen);

/* The name of the interface in ifs that holds the numeric address addr
 * (IPv4 or IPv6) into out. 0, 1 when none does, -1 when addr is not numeric. */
int launch_net_ifname_of(const struct ifaddrs *ifs, const char *addr, char *out, size_t outlen);

/* The interface this host sends from to reach host (a name or an address)
 * into out, found by routing a UDP socket there (nothing is sent). 0, or -1
 * with err. */
int launch_net_route_ifname(const char *host, char *out, size_t outlen, char *err, size_t errlen);

/* The port pair the SPANK plugin reserved for this step: DET_RENDEZVOUS_PORT
 * in envp (P, with P+1 for the Core API). 1 with *port = P when it is a
 * number in 1..65534, 0 when unset, -1 with err when malformed. */
int launch_net_step_port(char *const envp[], int *port, char *err, size_t errlen);

#endif
