/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Building rtnetlink requests. Attributes come in the order `ip` (iproute2)
 * puts them, so that tests/unit/test-rtnl.c can compare the link creation
 * messages with what `ip link add` sends, byte for byte. */
#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "macro.h"
#include "rtnl-internal.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_msg *, nlmsg_free);

static const char *const kinds[_RTNL_LINK_KIND_MAX] = {
        [RTNL_LINK_VETH] = "veth",
        [RTNL_LINK_BRIDGE] = "bridge",
        [RTNL_LINK_MACVLAN] = "macvlan",
        [RTNL_LINK_VLAN] = "vlan",
        [RTNL_LINK_DUMMY] = "dummy",
        [RTNL_LINK_WIREGUARD] = "wireguard",
};

const char *rtnl_kind_to_string(RtnlLinkKind k) {
        return k >= 0 && k < _RTNL_LINK_KIND_MAX ? kinds[k] : NULL;
}

static size_t family_addr_len(int family) {
        return family == AF_INET ? sizeof(struct in_addr) : family == AF_INET6 ? sizeof(struct in6_addr) : 0;
}

static unsigned family_max_prefix(int family) {
        return family_addr_len(family) * 8;
}

/* A message with its fixed header. */
static int msg_new(int type, int flags, const void *hdr, size_t len, struct nl_msg **ret) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;

        msg = nlmsg_alloc_simple(type, flags);
        if (!msg)
                return -ENOMEM;
        if (nlmsg_append(msg, (void *) hdr, len, NLMSG_ALIGNTO) < 0)
                return -ENOBUFS;
        *ret = TAKE_PTR(msg);
        return 0;
}

/* ---- links ------------------------------------------------------------------ */

/* A nested attribute as `ip` starts one: without NLA_F_NESTED (libnl sets
 * it; the kernel takes either). */
static struct nlattr *nest_start(struct nl_msg *msg, int type) {
        struct nlattr *a = nla_nest_start(msg, type);

        if (a)
                a->nla_type &= ~NLA_F_NESTED;
        return a;
}

/* A string attribute as `ip` puts a link's kind: without the terminating
 * NUL. */
static int put_kind(struct nl_msg *msg, const char *kind) {
        return nla_put(msg, IFLA_INFO_KIND, (int) strlen(kind), kind);
}

/* IFLA_INFO_DATA of a kind that has some; nothing for the others, as `ip`. */
static int put_info_data(struct nl_msg *msg, const RtnlLinkSpec *s, int peer_netns_fd) {
        struct ifinfomsg peer = { .ifi_family = AF_UNSPEC };
        struct nlattr *data, *p;

        switch (s->kind) {
        case RTNL_LINK_VETH:
                if (!(data = nest_start(msg, IFLA_INFO_DATA)) || !(p = nest_start(msg, VETH_INFO_PEER)) ||
                    nlmsg_append(msg, &peer, sizeof peer, NLMSG_ALIGNTO) < 0)
                        return -ENOBUFS;
                if (nla_put_string(msg, IFLA_IFNAME, s->peer) < 0 ||
                    (peer_netns_fd >= 0 && nla_put_u32(msg, IFLA_NET_NS_FD, peer_netns_fd) < 0))
                        return -ENOBUFS;
                nla_nest_end(msg, p);
                break;
        case RTNL_LINK_VLAN:
                if (!(data = nest_start(msg, IFLA_INFO_DATA)) ||
                    (s->vlan_protocol && nla_put_u16(msg, IFLA_VLAN_PROTOCOL, htons(s->vlan_protocol)) < 0) ||
                    nla_put_u16(msg, IFLA_VLAN_ID, s->vlan_id) < 0)
                        return -ENOBUFS;
                break;
        case RTNL_LINK_MACVLAN:
                if (s->macvlan_mode == 0)
                        return 0;
                if (!(data = nest_start(msg, IFLA_INFO_DATA)) ||
                    nla_put_u32(msg, IFLA_MACVLAN_MODE, s->macvlan_mode) < 0)
                        return -ENOBUFS;
                break;
        case RTNL_LINK_BRIDGE:
                if (!s->has_vlan_filtering)
                        return 0;
                if (!(data = nest_start(msg, IFLA_INFO_DATA)) ||
                    nla_put_u8(msg, IFLA_BR_VLAN_FILTERING, s->vlan_filtering) < 0)
                        return -ENOBUFS;
                break;
        default:
                return 0;
        }
        nla_nest_end(msg, data);
        return 0;
}

static bool spec_valid(const RtnlLinkSpec *s) {
        if (!s || !rtnl_kind_to_string(s->kind) || !rtnl_ifname_valid(s->name) || s->master < 0)
                return false;
        if (s->alias && strlen(s->alias) >= RTNL_ALIAS_SIZE)
                return false;
        switch (s->kind) {
        case RTNL_LINK_VETH:
                return rtnl_ifname_valid(s->peer);
        case RTNL_LINK_VLAN:
                return s->link > 0 && s->vlan_id >= 1 && s->vlan_id <= 4094 &&
                        (s->vlan_protocol == 0 || s->vlan_protocol == ETH_P_8021Q || s->vlan_protocol == ETH_P_8021AD);
        case RTNL_LINK_MACVLAN:
                return s->link > 0;
        default:
                return true;
        }
}

int rtnl_msg_create_link(const RtnlLinkSpec *s, int peer_netns_fd, struct nl_msg **ret) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
        struct ifinfomsg ifi = {
                .ifi_family = AF_UNSPEC,
                .ifi_flags = s && s->up ? IFF_UP : 0,
                .ifi_change = s && s->up ? IFF_UP : 0,
        };
        struct nlattr *info;
        int r;

        if (!spec_valid(s))
                return -EINVAL;
        r = msg_new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi, &msg);
        if (r < 0)
                return r;
        if ((s->has_hwaddr && nla_put(msg, IFLA_ADDRESS, RTNL_HWADDR_LEN, s->hwaddr) < 0) ||
            (s->mtu > 0 && nla_put_u32(msg, IFLA_MTU, s->mtu) < 0) ||
            (s->master > 0 && nla_put_u32(msg, IFLA_MASTER, s->master) < 0) ||
            ((s->kind == RTNL_LINK_VLAN || s->kind == RTNL_LINK_MACVLAN) && nla_put_u32(msg, IFLA_LINK, s->link) < 0) ||
            nla_put_string(msg, IFLA_IFNAME, s->name) < 0 ||
            !(info = nest_start(msg, IFLA_LINKINFO)) ||
            put_kind(msg, rtnl_kind_to_string(s->kind)) < 0)
                return -ENOBUFS;
        r = put_info_data(msg, s, peer_netns_fd);
        if (r < 0)
                return r;
        nla_nest_end(msg, info);

        *ret = TAKE_PTR(msg);
        return 0;
}

/* Sent without the terminating NUL, as `ip`; an empty alias (no payload)
 * removes it. */
static int put_alias(struct nl_msg *msg, const char *alias) {
        size_t n = strlen(alias);

        if (n >= RTNL_ALIAS_SIZE)
                return -EINVAL;
        return nla_put(msg, IFLA_IFALIAS, (int) n, alias) < 0 ? -ENOBUFS : 0;
}

int rtnl_msg_set_alias(const char *ifname, const char *alias, struct nl_msg **ret) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
        int r;

        if (!rtnl_ifname_valid(ifname) || !alias)
                return -EINVAL;
        r = msg_new(RTM_NEWLINK, 0, &ifi, sizeof ifi, &msg);
        if (r < 0)
                return r;
        if (nla_put_string(msg, IFLA_IFNAME, ifname) < 0)
                return -ENOBUFS;
        r = put_alias(msg, alias);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(msg);
        return 0;
}

int rtnl_msg_set_link(int ifindex, const RtnlLinkChange *c, struct nl_msg **ret) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
        struct ifinfomsg ifi = {
                .ifi_family = AF_UNSPEC,
                .ifi_index = ifindex,
        };
        int r;

        if (ifindex <= 0 || !c || (c->name && !rtnl_ifname_valid(c->name)) ||
            c->master < RTNL_NO_MASTER || c->admin > RTNL_ADMIN_DOWN)
                return -EINVAL;
        if (c->admin != RTNL_ADMIN_KEEP) {
                ifi.ifi_change = IFF_UP;
                ifi.ifi_flags = c->admin == RTNL_ADMIN_UP ? IFF_UP : 0;
        }
        r = msg_new(RTM_NEWLINK, 0, &ifi, sizeof ifi, &msg);
        if (r < 0)
                return r;
        if ((c->has_hwaddr && nla_put(msg, IFLA_ADDRESS, RTNL_HWADDR_LEN, c->hwaddr) < 0) ||
            (c->mtu > 0 && nla_put_u32(msg, IFLA_MTU, c->mtu) < 0) ||
            (c->name && nla_put_string(msg, IFLA_IFNAME, c->name) < 0) ||
            (c->master != 0 && nla_put_u32(msg, IFLA_MASTER, c->master > 0 ? (uint32_t) c->master : 0) < 0))
                return -ENOBUFS;
        if (c->alias) {
                r = put_alias(msg, c->alias);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(msg);
        return 0;
}

int rtnl_msg_move_link(int ifindex, int netns_fd, struct nl_msg **ret) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
        int r;

        if (ifindex <= 0 || netns_fd < 0)
                return -EINVAL;
        r = msg_new(RTM_NEWLINK, 0, &ifi, sizeof ifi, &msg);
        if (r < 0)
                return r;
        if (nla_put_u32(msg, IFLA_NET_NS_FD, (uint32_t) netns_fd) < 0)
                return -ENOBUFS;
        *ret = TAKE_PTR(msg);
        return 0;
}

int rtnl_msg_delete_link(int ifindex, struct nl_msg **ret) {
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };

        if (ifindex <= 0)
                return -EINVAL;
        return msg_new(RTM_DELLINK, 0, &ifi, sizeof ifi, ret);
}

int rtnl_msg_get_link(int ifindex, const char *ifname, struct nl_msg **ret) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
        int r;

        if (ifname ? !rtnl_ifname_valid(ifname) : ifindex <= 0)
                return -EINVAL;
        r = msg_new(RTM_GETLINK, 0, &ifi, sizeof ifi, &msg);
        if (r < 0)
                return r;
        if (nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0 ||
            (ifname && nla_put_string(msg, IFLA_IFNAME, ifname) < 0))
                return -ENOBUFS;
        *ret = TAKE_PTR(msg);
        return 0;
}

/* ---- addresses -------------------------------------------------------------- */

void rtnl_address_set_broadcast(RtnlAddr *a) {
        uint32_t mask;

        if (!a || a->family != AF_INET || a->prefixlen > 30)
                return;
        mask = a->prefixlen == 0 ? 0 : UINT32_MAX << (32 - a->prefixlen);
        a->broadcast.s_addr = a->address.in.s_addr | htonl(~mask);
        a->has_broadcast = true;
}

int rtnl_msg_address(int type, const RtnlAddr *a, struct nl_msg **ret) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
        struct ifaddrmsg ifa;
        size_t len;
        int r;

        if (!a || (len = family_addr_len(a->family)) == 0 || a->ifindex <= 0 ||
            a->prefixlen > family_max_prefix(a->family) || (type != RTM_NEWADDR && type != RTM_DELADDR))
                return -EINVAL;
        ifa = (struct ifaddrmsg) {
                .ifa_family = a->family,
                .ifa_prefixlen = a->prefixlen,
                .ifa_flags = a->flags & 0xff,
                .ifa_scope = a->scope,
                .ifa_index = a->ifindex,
        };
        r = msg_new(type, type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0, &ifa, sizeof ifa, &msg);
        if (r < 0)
                return r;
        if (nla_put(msg, IFA_LOCAL, len, &a->address) < 0 ||
            nla_put(msg, IFA_ADDRESS, len, a->has_peer ? &a->peer : &a->address) < 0)
                return -ENOBUFS;
        if (type == RTM_NEWADDR &&
            ((a->family == AF_INET && a->has_broadcast && nla_put(msg, IFA_BROADCAST, 4, &a->broadcast) < 0) ||
             (a->flags > 0xff && nla_put_u32(msg, IFA_FLAGS, a->flags) < 0) ||
             (a->protocol != 0 && nla_put_u8(msg, IFA_PROTO, a->protocol) < 0)))
                return -ENOBUFS;
        *ret = TAKE_PTR(msg);
        return 0;
}

/* ---- routes ------------------------------------------------------------------- */

int rtnl_msg_route(int type, int flags, const RtnlRoute *rt, struct nl_msg **ret) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
        bool add = type == RTM_NEWROUTE;
        uint32_t table;
        struct rtmsg rtm;
        size_t len;
        int r;

        if (!rt || (len = family_addr_len(rt->family)) == 0 || rt->dst_len > family_max_prefix(rt->family) ||
            rt->oif < 0 || (!add && type != RTM_DELROUTE))
                return -EINVAL;
        table = rt->table ?: RT_TABLE_MAIN;
        rtm = (struct rtmsg) {
                .rtm_family = rt->family,
                .rtm_dst_len = rt->dst_len,
                .rtm_table = table < 256 ? table : RT_TABLE_UNSPEC,
                .rtm_protocol = rt->protocol,
                /* a delete matches any scope, as `ip route del` */
                .rtm_scope = add ? rt->scope : RT_SCOPE_NOWHERE,
                .rtm_type = add && rt->type == 0 ? RTN_UNICAST : rt->type,
                .rtm_flags = rt->flags,
        };
        r = msg_new(type, add ? NLM_F_CREATE | flags : 0, &rtm, sizeof rtm, &msg);
        if (r < 0)
                return r;
        if (nla_put_u32(msg, RTA_TABLE, table) < 0 ||
            (rt->dst_len > 0 && nla_put(msg, RTA_DST, len, &rt->dst) < 0) ||
            (rt->has_prefsrc && nla_put(msg, RTA_PREFSRC, len, &rt->prefsrc) < 0) ||
            (rt->has_gateway && nla_put(msg, RTA_GATEWAY, len, &rt->gateway) < 0) ||
            (rt->oif > 0 && nla_put_u32(msg, RTA_OIF, (uint32_t) rt->oif) < 0) ||
            (rt->priority > 0 && nla_put_u32(msg, RTA_PRIORITY, rt->priority) < 0))
                return -ENOBUFS;
        *ret = TAKE_PTR(msg);
        return 0;
}

/* ---- rules ---------------------------------------------------------------------- */

int rtnl_msg_rule(int type, const RtnlRule *rule, struct nl_msg **ret) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
        bool add = type == RTM_NEWRULE;
        struct fib_rule_hdr frh;
        size_t len;
        int r;

        if (!rule || (len = family_addr_len(rule->family)) == 0 ||
            rule->src_len > family_max_prefix(rule->family) || rule->dst_len > family_max_prefix(rule->family) ||
            (rule->iif[0] && !rtnl_ifname_valid(rule->iif)) || (rule->oif[0] && !rtnl_ifname_valid(rule->oif)) ||
            (!add && type != RTM_DELRULE))
                return -EINVAL;
        frh = (struct fib_rule_hdr) {
                .family = rule->family,
                .dst_len = rule->dst_len,
                .src_len = rule->src_len,
                .table = rule->table < 256 ? rule->table : RT_TABLE_UNSPEC,
                .action = add && rule->action == 0 ? FR_ACT_TO_TBL : rule->action,
                .flags = rule->flags,
        };
        r = msg_new(type, add ? NLM_F_CREATE | NLM_F_EXCL : 0, &frh, sizeof frh, &msg);
        if (r < 0)
                return r;
        if ((rule->priority > 0 && nla_put_u32(msg, FRA_PRIORITY, rule->priority) < 0) ||
            (rule->src_len > 0 && nla_put(msg, FRA_SRC, len, &rule->src) < 0) ||
            (rule->dst_len > 0 && nla_put(msg, FRA_DST, len, &rule->dst) < 0) ||
            (rule->iif[0] && nla_put_string(msg, FRA_IIFNAME, rule->iif) < 0) ||
            (rule->oif[0] && nla_put_string(msg, FRA_OIFNAME, rule->oif) < 0) ||
            (rule->has_fwmark && nla_put_u32(msg, FRA_FWMARK, rule->fwmark) < 0) ||
            (rule->has_fwmark && nla_put_u32(msg, FRA_FWMASK, rule->fwmask ?: UINT32_MAX) < 0) ||
            (rule->table > 0 && nla_put_u32(msg, FRA_TABLE, rule->table) < 0) ||
            (rule->protocol != 0 && nla_put_u8(msg, FRA_PROTOCOL, rule->protocol) < 0))
                return -ENOBUFS;
        *ret = TAKE_PTR(msg);
        return 0;
}

/* ---- VLANs of bridge ports ---------------------------------------------------- */

static bool bridge_vlan_valid(int type, const RtnlBridgeVlan *v) {
        if (!v || v->ifindex <= 0 || (type != RTM_SETLINK && type != RTM_DELLINK))
                return false;
        if (v->vid < 1 || v->vid > 4094 || (v->flags & ~(BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED)))
                return false;
        /* a range has no pvid: a port has one */
        return v->vid_end == 0 ||
               (v->vid_end > v->vid && v->vid_end <= 4094 && !(v->flags & BRIDGE_VLAN_INFO_PVID));
}

static int put_vlan_info(struct nl_msg *msg, uint16_t flags, uint16_t vid) {
        struct bridge_vlan_info info = { .flags = flags, .vid = vid };

        return nla_put(msg, IFLA_BRIDGE_VLAN_INFO, sizeof info, &info) < 0 ? -ENOBUFS : 0;
}

/* As `bridge vlan add|del dev IFNAME vid VID[-END] [pvid] [untagged] [self]`
 * builds it: IFLA_AF_SPEC (not marked nested), IFLA_BRIDGE_FLAGS only for
 * self, then one IFLA_BRIDGE_VLAN_INFO, or two for a range; a delete
 * carries no flags but the range's. */
int rtnl_msg_bridge_vlan(int type, const RtnlBridgeVlan *v, struct nl_msg **ret) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
        struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE };
        uint16_t flags;
        struct nlattr *spec;
        int r;

        if (!bridge_vlan_valid(type, v))
                return -EINVAL;
        ifi.ifi_index = v->ifindex;
        flags = type == RTM_SETLINK ? v->flags : 0;
        r = msg_new(type, 0, &ifi, sizeof ifi, &msg);
        if (r < 0)
                return r;
        if (!(spec = nest_start(msg, IFLA_AF_SPEC)) ||
            (v->self && nla_put_u16(msg, IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_SELF) < 0))
                return -ENOBUFS;
        if (v->vid_end == 0)
                r = put_vlan_info(msg, flags, v->vid);
        else {
                r = put_vlan_info(msg, flags | BRIDGE_VLAN_INFO_RANGE_BEGIN, v->vid);
                if (r >= 0)
                        r = put_vlan_info(msg, flags | BRIDGE_VLAN_INFO_RANGE_END, v->vid_end);
        }
        if (r < 0)
                return r;
        nla_nest_end(msg, spec);
        *ret = TAKE_PTR(msg);
        return 0;
}

/* ---- dump requests -------------------------------------------------------------- */

static struct nl_msg *dump_new(int type, const void *hdr, size_t len) {
        struct nl_msg *msg = NULL;

        return msg_new(type, NLM_F_DUMP, hdr, len, &msg) < 0 ? NULL : msg;
}

struct nl_msg *rtnl_msg_dump_links(int family) {
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
        struct nl_msg *msg = dump_new(RTM_GETLINK, &ifi, sizeof ifi);

        if (msg && nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0)
                return nlmsg_free(msg), NULL;
        return msg;
}

struct nl_msg *rtnl_msg_dump_addresses(int family) {
        struct ifaddrmsg ifa = { .ifa_family = family };

        return dump_new(RTM_GETADDR, &ifa, sizeof ifa);
}

struct nl_msg *rtnl_msg_dump_routes(int family) {
        struct rtmsg rtm = { .rtm_family = family };

        return dump_new(RTM_GETROUTE, &rtm, sizeof rtm);
}

struct nl_msg *rtnl_msg_dump_rules(int family) {
        struct fib_rule_hdr frh = { .family = family };

        return dump_new(RTM_GETRULE, &frh, sizeof frh);
}

struct nl_msg *rtnl_msg_dump_bridge_vlans(int family) {
        struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE };
        struct nl_msg *msg = dump_new(RTM_GETLINK, &ifi, sizeof ifi);

        (void) family;
        if (msg && nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_BRVLAN_COMPRESSED) < 0)
                return nlmsg_free(msg), NULL;
        return msg;
}
