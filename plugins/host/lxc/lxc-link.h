/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The interface a socket networking port becomes inside a container, over
 * agent/lib/rtnl: what the container has, compared with what the state
 * says, and the primitives that close the difference. The library only
 * dumps and changes; every comparison is here.
 *
 * Ownership: the address and the default route op-dbus sets carry the
 * protocol mark RTNL_PROTO_OPDBUS. Of the link's other IPv4 addresses only
 * those with the mark are deleted: an address the container adds itself
 * stays. (Kernels before 6.1 keep no mark on addresses: there an address
 * op-dbus set earlier stays as well.) The metric-0 default route of the
 * main table is replaced whatever its origin: a table has one.
 *
 * Self-contained (rtnl.h only), so that tests/netlink-driver can drive it.
 * Functions return a negative errno on failure and never log. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "rtnl.h"

/* What the state wants of the interface in the container. */
typedef struct LxcLinkWant {
        const char *name;               /* its name there ("eth0"); NULL: keep */
        bool has_hwaddr;
        uint8_t hwaddr[RTNL_HWADDR_LEN];
        uint32_t mtu;                   /* 0: keep */
        bool has_ipv4;
        struct in_addr ipv4;            /* the address ... */
        unsigned prefixlen;             /* ... and its prefix length 0..32 */
        bool exclusive;                 /* with has_ipv4: delete the link's other IPv4
                                         * addresses that carry op-dbus's mark */
        bool has_gateway;
        struct in_addr gateway;         /* the metric-0 default route of the main table via it */
} LxcLinkWant;

/* Whether the link ifindex has want's address with its subnet's route,
 * and whether the metric-0 default route of the main table goes via the
 * gateway on it (each true when not wanted). */
int lxc_link_check(Rtnl *inside, int ifindex, const LxcLinkWant *want, bool *ret_ipv4_ok, bool *ret_gateway_ok);

/* Makes the link ifname (or, when that is gone, want->name: renamed
 * before) what want says: renamed (taken down first if up), MAC address
 * and MTU, up, the address (deleting others as above), the default route.
 * Returns 1 if something changed, 0 if everything already was so. */
int lxc_link_configure(Rtnl *inside, const char *ifname, const LxcLinkWant *want);

/* Moves ifname from here into the namespace of `to`: 1 moved, 0 when here
 * has none and `to` has one (moved before), -ENODEV when neither has it,
 * -EEXIST when `to` has another link of that name, -EINVAL when both are
 * one namespace (a container without a network namespace of its own). */
int lxc_link_move(Rtnl *here, Rtnl *to, const char *ifname);

/* Deletes the link ifname: 1 deleted, 0 there was none. */
int lxc_link_delete(Rtnl *r, const char *ifname);

/* Transmit checksum offload of ifname in the namespace of pid (0: the
 * caller's). get: 1 on, 0 off. set: 1 changed, 0 already so, -EOPNOTSUPP
 * when the device cannot (a tap cannot turn it on). */
int lxc_link_get_tx_checksum(pid_t pid, const char *ifname);
int lxc_link_set_tx_checksum(pid_t pid, const char *ifname, bool on);
