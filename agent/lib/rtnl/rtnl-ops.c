/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The public dumps and primitives: each builds its message (rtnl-msg.c),
 * sends it on the connection (rtnl-socket.c) and returns the kernel's
 * answer. */
#include <stdio.h>
#include <sys/ioctl.h>
#include <linux/ethtool.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

#include <netlink/msg.h>
#include <netlink/socket.h>

#include "macro.h"
#include "rtnl-internal.h"

_Static_assert(RTNL_IFNAME_SIZE == IFNAMSIZ, "interface name size");
_Static_assert(RTNL_ALIAS_SIZE == IFALIASZ, "alias size");

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_msg *, nlmsg_free);

static bool family_valid(int family) {
        return family == AF_UNSPEC || family == AF_INET || family == AF_INET6;
}

/* Builds with build's result r and msg, then sends. */
static int send_built(Rtnl *r, int built, struct nl_msg *msg) {
        _cleanup_(nlmsg_freep) struct nl_msg *m = msg;

        if (!r)
                return -EINVAL;
        return built < 0 ? built : rtnl_request(r, m);
}

/* ---- dumps --------------------------------------------------------------------- */

int rtnl_dump_links(Rtnl *r, RtnlLink **ret, size_t *ret_n) {
        return rtnl_dump(r, rtnl_msg_dump_links, AF_UNSPEC, rtnl_parse_link, sizeof(RtnlLink), (void **) ret, ret_n);
}

int rtnl_dump_addresses(Rtnl *r, int family, RtnlAddr **ret, size_t *ret_n) {
        if (!family_valid(family))
                return -EINVAL;
        return rtnl_dump(r, rtnl_msg_dump_addresses, family, rtnl_parse_address, sizeof(RtnlAddr), (void **) ret, ret_n);
}

int rtnl_dump_routes(Rtnl *r, int family, RtnlRoute **ret, size_t *ret_n) {
        if (!family_valid(family))
                return -EINVAL;
        return rtnl_dump(r, rtnl_msg_dump_routes, family, rtnl_parse_route, sizeof(RtnlRoute), (void **) ret, ret_n);
}

int rtnl_dump_rules(Rtnl *r, int family, RtnlRule **ret, size_t *ret_n) {
        if (!family_valid(family))
                return -EINVAL;
        return rtnl_dump(r, rtnl_msg_dump_rules, family, rtnl_parse_rule, sizeof(RtnlRule), (void **) ret, ret_n);
}

int rtnl_dump_bridge_vlans(Rtnl *r, RtnlBridgeVlans **ret, size_t *ret_n) {
        return rtnl_dump(r, rtnl_msg_dump_bridge_vlans, AF_BRIDGE, rtnl_parse_bridge_vlans, sizeof(RtnlBridgeVlans),
                         (void **) ret, ret_n);
}

static int get_link(Rtnl *r, int ifindex, const char *ifname, RtnlLink *ret) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
        int k;

        if (!r || !ret)
                return -EINVAL;
        k = rtnl_msg_get_link(ifindex, ifname, &msg);
        if (k < 0)
                return k;
        return rtnl_get_one(r, msg, rtnl_parse_link, ret, sizeof *ret);
}

int rtnl_get_link(Rtnl *r, const char *ifname, RtnlLink *ret) {
        if (!ifname)
                return -EINVAL;
        return get_link(r, 0, ifname, ret);
}

int rtnl_get_link_by_index(Rtnl *r, int ifindex, RtnlLink *ret) {
        return get_link(r, ifindex, NULL, ret);
}

/* SIOCGIFINDEX on the connection's socket answers for the devices of its
 * namespace. Unlike RTM_GETLINK, it does not make the kernel first run
 * the link's pending state changes (linkwatch_sync_dev, which waits for
 * an RCU grace period on a link just created): an apply that names
 * hundreds of new links by name saves that wait on each. */
int rtnl_ifindex(Rtnl *r, const char *ifname) {
        struct ifreq ifr = {};

        if (!r || !rtnl_ifname_valid(ifname))
                return -EINVAL;
        (void) snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
        if (ioctl(nl_socket_get_fd(r->sk), SIOCGIFINDEX, &ifr) < 0)
                return negative_errno();
        return ifr.ifr_ifindex;
}

/* ---- links ------------------------------------------------------------------------ */

int rtnl_create_link(Rtnl *r, const RtnlLinkSpec *spec) {
        struct nl_msg *msg = NULL;
        int k;

        if (!spec)
                return -EINVAL;
        k = rtnl_msg_create_link(spec, spec->peer_netns ? spec->peer_netns->netns_fd : -EBADF, &msg);
        k = send_built(r, k, msg);
        if (k < 0 || !spec->alias || !*spec->alias)
                return k;
        msg = NULL;
        k = rtnl_msg_set_alias(spec->name, spec->alias, &msg);
        return send_built(r, k, msg);
}

int rtnl_delete_link(Rtnl *r, int ifindex) {
        struct nl_msg *msg = NULL;
        int k = rtnl_msg_delete_link(ifindex, &msg);

        return send_built(r, k, msg);
}

int rtnl_set_link(Rtnl *r, int ifindex, const RtnlLinkChange *change) {
        struct nl_msg *msg = NULL;
        int k = rtnl_msg_set_link(ifindex, change, &msg);

        return send_built(r, k, msg);
}

int rtnl_move_link(Rtnl *r, int ifindex, const Rtnl *to) {
        struct nl_msg *msg = NULL;
        int k;

        if (!to)
                return -EINVAL;
        k = rtnl_msg_move_link(ifindex, to->netns_fd, &msg);
        return send_built(r, k, msg);
}

int rtnl_add_bridge_vlan(Rtnl *r, const RtnlBridgeVlan *v) {
        struct nl_msg *msg = NULL;
        int k = rtnl_msg_bridge_vlan(RTM_SETLINK, v, &msg);

        return send_built(r, k, msg);
}

int rtnl_delete_bridge_vlan(Rtnl *r, const RtnlBridgeVlan *v) {
        struct nl_msg *msg = NULL;
        int k = rtnl_msg_bridge_vlan(RTM_DELLINK, v, &msg);

        return send_built(r, k, msg);
}

/* ---- addresses, routes, rules ---------------------------------------------------- */

int rtnl_add_address(Rtnl *r, const RtnlAddr *a) {
        struct nl_msg *msg = NULL;
        int k = rtnl_msg_address(RTM_NEWADDR, a, &msg);

        return send_built(r, k, msg);
}

int rtnl_delete_address(Rtnl *r, const RtnlAddr *a) {
        struct nl_msg *msg = NULL;
        int k = rtnl_msg_address(RTM_DELADDR, a, &msg);

        return send_built(r, k, msg);
}

int rtnl_add_route(Rtnl *r, const RtnlRoute *route) {
        struct nl_msg *msg = NULL;
        int k = rtnl_msg_route(RTM_NEWROUTE, NLM_F_EXCL, route, &msg);

        return send_built(r, k, msg);
}

int rtnl_replace_route(Rtnl *r, const RtnlRoute *route) {
        struct nl_msg *msg = NULL;
        int k = rtnl_msg_route(RTM_NEWROUTE, NLM_F_REPLACE, route, &msg);

        return send_built(r, k, msg);
}

int rtnl_delete_route(Rtnl *r, const RtnlRoute *route) {
        struct nl_msg *msg = NULL;
        int k = rtnl_msg_route(RTM_DELROUTE, 0, route, &msg);

        return send_built(r, k, msg);
}

int rtnl_add_rule(Rtnl *r, const RtnlRule *rule) {
        struct nl_msg *msg = NULL;
        int k = rtnl_msg_rule(RTM_NEWRULE, rule, &msg);

        return send_built(r, k, msg);
}

int rtnl_delete_rule(Rtnl *r, const RtnlRule *rule) {
        struct nl_msg *msg = NULL;
        int k = rtnl_msg_rule(RTM_DELRULE, rule, &msg);

        return send_built(r, k, msg);
}

/* ---- transmit checksum offload ---------------------------------------------------- */

/* One ETHTOOL_[GS]TXCSUM ioctl on the connection's socket: any socket
 * answers SIOCETHTOOL for the devices of its namespace. */
static int ethtool_txcsum(Rtnl *r, const char *ifname, uint32_t cmd, uint32_t *data) {
        struct ethtool_value v = { .cmd = cmd, .data = *data };
        struct ifreq ifr = { .ifr_data = (void *) &v };

        (void) snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
        if (ioctl(nl_socket_get_fd(r->sk), SIOCETHTOOL, &ifr) < 0)
                return negative_errno();
        *data = v.data;
        return 0;
}

int rtnl_get_tx_checksum(Rtnl *r, const char *ifname) {
        uint32_t on = 0;
        int k;

        if (!r || !rtnl_ifname_valid(ifname))
                return -EINVAL;
        k = ethtool_txcsum(r, ifname, ETHTOOL_GTXCSUM, &on);
        return k < 0 ? k : on != 0;
}

int rtnl_set_tx_checksum(Rtnl *r, const char *ifname, bool on) {
        uint32_t want = on, now = 0;
        int k;

        if (!r || !rtnl_ifname_valid(ifname))
                return -EINVAL;
        r->counts.writes++;
        k = ethtool_txcsum(r, ifname, ETHTOOL_STXCSUM, &want);
        if (k < 0)
                return k;
        /* The kernel keeps a setting the device's other features forbid
         * as wanted, not active: read back what took effect. */
        k = ethtool_txcsum(r, ifname, ETHTOOL_GTXCSUM, &now);
        if (k < 0)
                return k;
        return (now != 0) == on ? 0 : -EOPNOTSUPP;
}
