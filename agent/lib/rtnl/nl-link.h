/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Network interfaces in other network namespaces, over rtnetlink (libnl-3).
 *
 * Socket networking gives a container an Open vSwitch internal port
 * instead of a veth: the port is moved into the network namespace of the
 * container's init process and configured there (name, MAC address, MTU,
 * IPv4 address, default route).
 *
 * A namespace is named by a process id: its /proc/PID/ns/net. pid 0 means
 * the calling thread's own namespace. The calling thread never changes
 * namespace: for another namespace a short-lived helper thread enters it
 * with setns() only to create the rtnetlink socket and then exits. A
 * netlink socket stays bound to the namespace it was created in, so every
 * request is then sent from the calling thread.
 *
 * Functions return a negative errno on failure (kernel errors as the
 * kernel reported them, libnl errors translated with nl_errno()), do not
 * log, and need CAP_NET_ADMIN and CAP_SYS_ADMIN. A pid whose process is
 * gone gives -ESRCH, an interface that does not exist -ENODEV. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define NL_LINK_HWADDR_LEN 6
/* IFNAMSIZ, without <net/if.h> (which clashes with <linux/if.h>) */
#define NL_LINK_IFNAME_SIZE 16

/* Translates a libnl error code (NLE_*, either sign) to a negative errno;
 * 0 stays 0. */
int nl_errno(int nle);

/* Moves the interface ifname from the calling thread's namespace into the
 * namespace of pid. The kernel takes the link down on the way. Returns 1
 * when it was moved, 0 when there is no ifname here but the namespace of
 * pid has one (moved before), -ENODEV when neither has it, -EEXIST when
 * the namespace of pid already has another interface of that name,
 * -EINVAL when pid shares the caller's namespace (a container without a
 * network namespace of its own). */
int nl_link_move_to_netns(const char *ifname, pid_t pid);

/* Where nl_link_find_netns() found an interface: a bit mask. */
typedef enum NlLinkNetns {
        NL_LINK_NETNS_CALLER = 1 << 0,  /* in the calling thread's namespace */
        NL_LINK_NETNS_TARGET = 1 << 1,  /* in the namespace of pid */
} NlLinkNetns;

/* Looks for ifname in the caller's namespace and in that of pid; returns
 * the NlLinkNetns bits where it exists (0: nowhere). */
int nl_link_find_netns(const char *ifname, pid_t pid);

/* The desired configuration of an interface inside a namespace. Unset
 * fields leave that property as it is. */
typedef struct NlLinkConfig {
        const char *name;               /* rename to this (e.g. "eth0"); NULL: keep */
        bool has_hwaddr;
        uint8_t hwaddr[NL_LINK_HWADDR_LEN]; /* MAC address, if has_hwaddr */
        int mtu;                        /* > 0: set the MTU; <= 0: keep */
        bool has_ipv4;
        struct in_addr ipv4;            /* address, if has_ipv4 ... */
        unsigned ipv4_prefixlen;        /* ... and its prefix length 0..32 */
        bool exclusive_ipv4;            /* with has_ipv4: delete the link's other IPv4 addresses */
        bool has_gateway;
        struct in_addr gateway;         /* default route (main table, metric 0) via this */
} NlLinkConfig;

/* Configures an interface in the namespace of pid: finds ifname there (or,
 * when it was renamed before, config->name), renames it (taking it down
 * first if needed), sets MAC address and MTU, sets it up, adds the IPv4
 * address and makes the metric-0 default route of the main table go via
 * the gateway on this link. Idempotent: returns 1 if something was
 * changed, 0 if everything was already so. */
int nl_link_configure_in_netns(pid_t pid, const char *ifname, const NlLinkConfig *config);

/* What nl_link_get_in_netns() reports about an interface. */
typedef struct NlLinkInfo {
        int ifindex;                    /* index inside its namespace */
        char name[NL_LINK_IFNAME_SIZE];  /* current name */
        char kind[32];                  /* rtnetlink link kind: "tun" (OVS netdev datapath
                                         * port), "openvswitch" (system datapath internal
                                         * port), "veth", ...; "" if the driver has none */
        bool has_hwaddr;
        uint8_t hwaddr[NL_LINK_HWADDR_LEN]; /* MAC address, if has_hwaddr */
        unsigned mtu;
        bool up;                        /* administratively up (IFF_UP) */
        bool lower_up;                  /* carrier (IFF_LOWER_UP) */
} NlLinkInfo;

/* Reads an interface of the namespace of pid; -ENODEV if there is none. */
int nl_link_get_in_netns(pid_t pid, const char *ifname, NlLinkInfo *ret);

/* Returns 1 if the namespace of pid has an interface ifname, 0 if not. */
int nl_link_exists_in_netns(pid_t pid, const char *ifname);

/* Deletes the interface ifname in the namespace of pid. Returns 1 when it
 * was deleted, 0 when there was none. */
int nl_link_delete_in_netns(pid_t pid, const char *ifname);

/* Transmit checksum offload of an interface in the namespace of pid: the
 * NIC (or the veth's peer) computes the TCP/UDP checksums of what the
 * kernel sends, and the packet leaves without them. Open vSwitch's
 * userspace datapath reads such packets from a veth as they are and
 * forwards them with the checksum never filled in, so the receiver drops
 * them: a container on a veth needs it off on its side. `ethtool -K IFNAME
 * tx on|off` changes the same setting (every checksum feature; the legacy
 * ETHTOOL_GTXCSUM/ETHTOOL_STXCSUM ioctls, sent on a socket of that
 * namespace).
 *
 * nl_link_get_tx_checksum_in_netns() returns 1 when it is on, 0 when off
 * (a tap device, which has none). nl_link_set_tx_checksum_in_netns()
 * returns 1 when it changed it, 0 when it already was so, -EOPNOTSUPP when
 * the driver cannot turn it on. */
int nl_link_get_tx_checksum_in_netns(pid_t pid, const char *ifname);
int nl_link_set_tx_checksum_in_netns(pid_t pid, const char *ifname, bool on);

/* True if s is usable as an interface name (1..15 bytes, no '/', ':' or
 * white space, not "." or ".."). */
bool nl_ifname_valid(const char *s);
