/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Inside agent/lib/rtnl: the connection, the message builders and the
 * parsers. The builders and parsers are pure (no socket), so that the
 * unit tests can compare what they build with what `ip` sends and feed
 * the parsers messages of their own. */

#include <linux/netlink.h>

#include "rtnl.h"

struct nl_msg;
struct nl_sock;

struct Rtnl {
        struct nl_sock *sk;             /* bound to the namespace ... */
        int netns_fd;                   /* ... this refers to */
        RtnlCounts counts;
};

/* Sends one request and waits for the kernel's acknowledgement; returns
 * the kernel's errno (libnl would fold many into NLE_FAILURE). */
int rtnl_request(Rtnl *r, struct nl_msg *msg);

/* Called with each message of a dump; returns 1 if it filled *ret, 0 to
 * skip the message, or a negative errno. */
typedef int (*RtnlParser)(const struct nlmsghdr *nlh, void *ret);

/* Sends a dump request and parses every answer into a growing array of
 * elements of elsize bytes. A dump the kernel marks as interrupted
 * (NLM_F_DUMP_INTR) is read again, a few times, then -EAGAIN. */
int rtnl_dump(Rtnl *r, struct nl_msg *(*build)(int family), int family,
              RtnlParser parse, size_t elsize, void **ret, size_t *ret_n);

/* Sends a request answered with one object (RTM_GETLINK) and parses it
 * into *ret; -ENODEV when the kernel sends none. */
int rtnl_get_one(Rtnl *r, struct nl_msg *msg, RtnlParser parse, void *ret, size_t elsize);

/* ---- messages (rtnl-msg.c) ---------------------------------------------- */

/* Each builds one request without NLM_F_REQUEST/NLM_F_ACK (added when it
 * is sent) and with sequence number and port 0; -EINVAL for arguments the
 * kernel would refuse anyway, -ENOBUFS if it does not fit. */
int rtnl_msg_create_link(const RtnlLinkSpec *spec, int peer_netns_fd, struct nl_msg **ret);
int rtnl_msg_set_alias(const char *ifname, const char *alias, struct nl_msg **ret);
int rtnl_msg_set_link(int ifindex, const RtnlLinkChange *c, struct nl_msg **ret);
int rtnl_msg_move_link(int ifindex, int netns_fd, struct nl_msg **ret);
int rtnl_msg_delete_link(int ifindex, struct nl_msg **ret);
int rtnl_msg_get_link(int ifindex, const char *ifname, struct nl_msg **ret);
/* type RTM_NEWADDR or RTM_DELADDR */
int rtnl_msg_address(int type, const RtnlAddr *a, struct nl_msg **ret);
/* type RTM_NEWROUTE (flags NLM_F_EXCL or NLM_F_REPLACE) or RTM_DELROUTE */
int rtnl_msg_route(int type, int flags, const RtnlRoute *route, struct nl_msg **ret);
/* type RTM_NEWRULE or RTM_DELRULE */
int rtnl_msg_rule(int type, const RtnlRule *rule, struct nl_msg **ret);

/* type RTM_SETLINK or RTM_DELLINK */
int rtnl_msg_bridge_vlan(int type, const RtnlBridgeVlan *v, struct nl_msg **ret);

/* Dump requests; NULL when out of memory. */
struct nl_msg *rtnl_msg_dump_links(int family);
struct nl_msg *rtnl_msg_dump_addresses(int family);
struct nl_msg *rtnl_msg_dump_routes(int family);
struct nl_msg *rtnl_msg_dump_rules(int family);
/* family is not used: always AF_BRIDGE */
struct nl_msg *rtnl_msg_dump_bridge_vlans(int family);

/* ---- parsers (rtnl-parse.c) ------------------------------------------------ */

/* RtnlParser for RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE, RTM_NEWRULE:
 * -EBADMSG for a malformed message; 0 for messages the dump leaves out
 * (another family, a cached route, another message type). */
int rtnl_parse_link(const struct nlmsghdr *nlh, void *ret);
int rtnl_parse_address(const struct nlmsghdr *nlh, void *ret);
int rtnl_parse_route(const struct nlmsghdr *nlh, void *ret);
int rtnl_parse_rule(const struct nlmsghdr *nlh, void *ret);
/* RtnlParser for the RTM_NEWLINK messages of an AF_BRIDGE dump (others: 0):
 * IFLA_AF_SPEC's IFLA_BRIDGE_VLAN_INFO, single VLANs and ranges. */
int rtnl_parse_bridge_vlans(const struct nlmsghdr *nlh, void *ret);
