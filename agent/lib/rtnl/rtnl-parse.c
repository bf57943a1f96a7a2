/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsing what the kernel reports into the plain structs of rtnl.h. Every
 * attribute's length is checked before it is read: a short one makes the
 * whole message -EBADMSG. */
#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "macro.h"
#include "rtnl-internal.h"

static size_t family_addr_len(int family) {
        return family == AF_INET ? sizeof(struct in_addr) : family == AF_INET6 ? sizeof(struct in6_addr) : 0;
}

/* The attributes after a fixed header of hdrlen bytes, into tb[0..max]. */
static int parse_attrs(const struct nlmsghdr *nlh, int hdrlen, struct nlattr **tb, int max) {
        if (nlh->nlmsg_len < NLMSG_LENGTH((size_t) hdrlen))
                return -EBADMSG;
        return nlmsg_parse((struct nlmsghdr *) nlh, hdrlen, tb, max, NULL) < 0 ? -EBADMSG : 0;
}

static int get_u8(const struct nlattr *a, uint8_t *ret) {
        if (!a)
                return 0;
        if (nla_len(a) < (int) sizeof(uint8_t))
                return -EBADMSG;
        *ret = nla_get_u8(a);
        return 1;
}

static int get_u16(const struct nlattr *a, uint16_t *ret) {
        if (!a)
                return 0;
        if (nla_len(a) < (int) sizeof(uint16_t))
                return -EBADMSG;
        *ret = nla_get_u16(a);
        return 1;
}

static int get_u32(const struct nlattr *a, uint32_t *ret) {
        if (!a)
                return 0;
        if (nla_len(a) < (int) sizeof(uint32_t))
                return -EBADMSG;
        *ret = nla_get_u32(a);
        return 1;
}

static int get_index(const struct nlattr *a, int *ret) {
        uint32_t v = 0;
        int r = get_u32(a, &v);

        if (r > 0) {
                if (v > INT32_MAX)
                        return -EBADMSG;
                *ret = (int) v;
        }
        return r;
}

/* A string attribute into a buffer of size bytes (cut if longer). */
static int get_string(const struct nlattr *a, char *ret, size_t size) {
        if (!a)
                return 0;
        (void) nla_strlcpy(ret, a, size);
        return 1;
}

/* An address of the family's length. */
static int get_inaddr(const struct nlattr *a, int family, RtnlInAddr *ret) {
        size_t len = family_addr_len(family);

        if (!a)
                return 0;
        if (len == 0 || nla_len(a) != (int) len)
                return -EBADMSG;
        memcpy(ret, nla_data(a), len);
        return 1;
}

/* ---- links ------------------------------------------------------------------ */

/* IFLA_INFO_DATA of the kinds whose data the struct holds. */
static int parse_bridge_data(struct nlattr *data, RtnlLink *l) {
        struct nlattr *tb[IFLA_BR_MAX + 1] = {};
        uint8_t on = 0;
        int r;

        if (nla_parse_nested(tb, IFLA_BR_MAX, data, NULL) < 0)
                return -EBADMSG;
        r = get_u8(tb[IFLA_BR_VLAN_FILTERING], &on);
        l->vlan_filtering = on;
        return r < 0 ? r : 0;
}

static int parse_info_data(struct nlattr *data, RtnlLink *l) {
        struct nlattr *tb[(IFLA_VLAN_MAX > IFLA_MACVLAN_MAX ? IFLA_VLAN_MAX : IFLA_MACVLAN_MAX) + 1] = {};
        uint16_t proto = 0;
        int r;

        if (!data)
                return 0;
        if (streq(l->kind, "bridge"))
                return parse_bridge_data(data, l);
        if (streq(l->kind, "vlan")) {
                if (nla_parse_nested(tb, IFLA_VLAN_MAX, data, NULL) < 0)
                        return -EBADMSG;
                r = get_u16(tb[IFLA_VLAN_ID], &l->vlan_id);
                if (r >= 0)
                        r = get_u16(tb[IFLA_VLAN_PROTOCOL], &proto);
                l->vlan_protocol = ntohs(proto);
                return r < 0 ? r : 0;
        }
        if (streq(l->kind, "macvlan")) {
                if (nla_parse_nested(tb, IFLA_MACVLAN_MAX, data, NULL) < 0)
                        return -EBADMSG;
                r = get_u32(tb[IFLA_MACVLAN_MODE], &l->macvlan_mode);
                return r < 0 ? r : 0;
        }
        return 0;
}

static int parse_link_info(struct nlattr *info, RtnlLink *l) {
        struct nlattr *tb[IFLA_INFO_MAX + 1] = {};

        if (!info)
                return 0;
        if (nla_parse_nested(tb, IFLA_INFO_MAX, info, NULL) < 0)
                return -EBADMSG;
        (void) get_string(tb[IFLA_INFO_KIND], l->kind, sizeof l->kind);
        return parse_info_data(tb[IFLA_INFO_DATA], l);
}

int rtnl_parse_link(const struct nlmsghdr *nlh, void *ret) {
        struct nlattr *tb[IFLA_MAX + 1] = {};
        const struct ifinfomsg *ifi;
        RtnlLink *l = ret;
        uint32_t netnsid;
        int r;

        if (nlh->nlmsg_type != RTM_NEWLINK)
                return 0;
        r = parse_attrs(nlh, sizeof(struct ifinfomsg), tb, IFLA_MAX);
        if (r < 0)
                return r;
        ifi = nlmsg_data(nlh);
        *l = (RtnlLink) {
                .ifindex = ifi->ifi_index,
                .flags = ifi->ifi_flags,
                .up = ifi->ifi_flags & IFF_UP,
                .lower_up = ifi->ifi_flags & IFF_LOWER_UP,
                .link_netnsid = -1,
        };
        if (!tb[IFLA_IFNAME] || l->ifindex <= 0)
                return -EBADMSG;
        (void) get_string(tb[IFLA_IFNAME], l->name, sizeof l->name);
        (void) get_string(tb[IFLA_IFALIAS], l->alias, sizeof l->alias);
        if (tb[IFLA_ADDRESS] && nla_len(tb[IFLA_ADDRESS]) == RTNL_HWADDR_LEN) {
                l->has_hwaddr = true;
                memcpy(l->hwaddr, nla_data(tb[IFLA_ADDRESS]), RTNL_HWADDR_LEN);
        }
        if ((r = get_u32(tb[IFLA_MTU], &l->mtu)) < 0 ||
            (r = get_index(tb[IFLA_MASTER], &l->master)) < 0 ||
            (r = get_index(tb[IFLA_LINK], &l->link)) < 0 ||
            (r = get_u32(tb[IFLA_LINK_NETNSID], &netnsid)) < 0)
                return r;
        if (r > 0)
                l->link_netnsid = (int32_t) netnsid;
        r = parse_link_info(tb[IFLA_LINKINFO], l);
        return r < 0 ? r : 1;
}

/* ---- addresses -------------------------------------------------------------- */

int rtnl_parse_address(const struct nlmsghdr *nlh, void *ret) {
        struct nlattr *tb[IFA_MAX + 1] = {};
        const struct ifaddrmsg *ifa;
        RtnlAddr *a = ret;
        RtnlInAddr local = { .bytes = {} };   /* all 16 bytes, not only the first member */
        int r, has_local;

        if (nlh->nlmsg_type != RTM_NEWADDR)
                return 0;
        r = parse_attrs(nlh, sizeof(struct ifaddrmsg), tb, IFA_MAX);
        if (r < 0)
                return r;
        ifa = nlmsg_data(nlh);
        if (family_addr_len(ifa->ifa_family) == 0)
                return 0;
        *a = (RtnlAddr) {
                .family = ifa->ifa_family,
                .ifindex = (int) ifa->ifa_index,
                .prefixlen = ifa->ifa_prefixlen,
                .flags = ifa->ifa_flags,
                .scope = ifa->ifa_scope,
        };
        if ((has_local = get_inaddr(tb[IFA_LOCAL], a->family, &local)) < 0 ||
            (r = get_inaddr(tb[IFA_ADDRESS], a->family, &a->address)) < 0)
                return -EBADMSG;
        if (has_local == 0 && r == 0)
                return -EBADMSG;
        /* IFA_ADDRESS is the peer of a point-to-point address, else the same */
        if (has_local > 0) {
                if (r > 0 && memcmp(&local, &a->address, family_addr_len(a->family)) != 0) {
                        a->has_peer = true;
                        a->peer = a->address;
                }
                a->address = local;
        }
        if (a->family == AF_INET && tb[IFA_BROADCAST]) {
                RtnlInAddr b;

                if (get_inaddr(tb[IFA_BROADCAST], AF_INET, &b) < 0)
                        return -EBADMSG;
                a->has_broadcast = true;
                a->broadcast = b.in;
        }
        if ((r = get_u32(tb[IFA_FLAGS], &a->flags)) < 0 || (r = get_u8(tb[IFA_PROTO], &a->protocol)) < 0)
                return r;
        return 1;
}

/* ---- routes ------------------------------------------------------------------- */

int rtnl_parse_route(const struct nlmsghdr *nlh, void *ret) {
        struct nlattr *tb[RTA_MAX + 1] = {};
        const struct rtmsg *rtm;
        RtnlRoute *rt = ret;
        int r;

        if (nlh->nlmsg_type != RTM_NEWROUTE)
                return 0;
        r = parse_attrs(nlh, sizeof(struct rtmsg), tb, RTA_MAX);
        if (r < 0)
                return r;
        rtm = nlmsg_data(nlh);
        if (family_addr_len(rtm->rtm_family) == 0 || (rtm->rtm_flags & RTM_F_CLONED))
                return 0;
        *rt = (RtnlRoute) {
                .family = rtm->rtm_family,
                .table = rtm->rtm_table,
                .dst_len = rtm->rtm_dst_len,
                .protocol = rtm->rtm_protocol,
                .scope = rtm->rtm_scope,
                .type = rtm->rtm_type,
                .flags = rtm->rtm_flags,
                .multipath = tb[RTA_MULTIPATH],
        };
        if ((r = get_u32(tb[RTA_TABLE], &rt->table)) < 0 ||
            (r = get_inaddr(tb[RTA_DST], rt->family, &rt->dst)) < 0 ||
            (r = get_inaddr(tb[RTA_PREFSRC], rt->family, &rt->prefsrc)) < 0)
                return r;
        rt->has_prefsrc = r > 0;
        if ((r = get_inaddr(tb[RTA_GATEWAY], rt->family, &rt->gateway)) < 0)
                return r;
        rt->has_gateway = r > 0;
        if ((r = get_index(tb[RTA_OIF], &rt->oif)) < 0 || (r = get_u32(tb[RTA_PRIORITY], &rt->priority)) < 0)
                return r;
        return 1;
}

/* ---- rules ---------------------------------------------------------------------- */

int rtnl_parse_rule(const struct nlmsghdr *nlh, void *ret) {
        struct nlattr *tb[FRA_MAX + 1] = {};
        const struct fib_rule_hdr *frh;
        RtnlRule *rule = ret;
        int r;

        if (nlh->nlmsg_type != RTM_NEWRULE)
                return 0;
        r = parse_attrs(nlh, sizeof(struct fib_rule_hdr), tb, FRA_MAX);
        if (r < 0)
                return r;
        frh = nlmsg_data(nlh);
        if (family_addr_len(frh->family) == 0)
                return 0;
        *rule = (RtnlRule) {
                .family = frh->family,
                .src_len = frh->src_len,
                .dst_len = frh->dst_len,
                .table = frh->table,
                .action = frh->action,
                .flags = frh->flags,
        };
        (void) get_string(tb[FRA_IIFNAME], rule->iif, sizeof rule->iif);
        (void) get_string(tb[FRA_OIFNAME], rule->oif, sizeof rule->oif);
        if ((r = get_u32(tb[FRA_PRIORITY], &rule->priority)) < 0 ||
            (r = get_u32(tb[FRA_TABLE], &rule->table)) < 0 ||
            (r = get_u8(tb[FRA_PROTOCOL], &rule->protocol)) < 0 ||
            (r = get_inaddr(tb[FRA_SRC], rule->family, &rule->src)) < 0 ||
            (r = get_inaddr(tb[FRA_DST], rule->family, &rule->dst)) < 0 ||
            (r = get_u32(tb[FRA_FWMASK], &rule->fwmask)) < 0 ||
            (r = get_u32(tb[FRA_FWMARK], &rule->fwmark)) < 0)
                return r;
        /* the kernel leaves out a mark of 0 (and reports its mask) */
        rule->has_fwmark = tb[FRA_FWMARK] || tb[FRA_FWMASK];
        return 1;
}

/* ---- VLANs of bridge ports ---------------------------------------------------- */

/* One IFLA_BRIDGE_VLAN_INFO; *range_begin: the first VLAN of an open
 * range (0: none). */
static int parse_vlan_info(const struct nlattr *a, RtnlBridgeVlans *v, uint16_t *range_begin) {
        const struct bridge_vlan_info *info;
        uint16_t first;

        if (nla_len(a) < (int) sizeof *info)
                return -EBADMSG;
        info = nla_data(a);
        if (info->vid < 1 || info->vid > 4094)
                return -EBADMSG;
        if (info->flags & BRIDGE_VLAN_INFO_RANGE_BEGIN) {
                if (*range_begin || (info->flags & BRIDGE_VLAN_INFO_RANGE_END))
                        return -EBADMSG;
                *range_begin = info->vid;
                return 0;
        }
        first = info->vid;
        if (info->flags & BRIDGE_VLAN_INFO_RANGE_END) {
                if (!*range_begin || *range_begin >= info->vid)
                        return -EBADMSG;
                first = *range_begin;
        } else if (*range_begin)
                return -EBADMSG;
        *range_begin = 0;
        if ((info->flags & BRIDGE_VLAN_INFO_PVID) && (first != info->vid || v->pvid))
                return -EBADMSG;
        if (info->flags & BRIDGE_VLAN_INFO_PVID)
                v->pvid = info->vid;
        for (unsigned vid = first; vid <= info->vid; vid++) {
                rtnl_vlan_set_add(v->member, vid);
                if (info->flags & BRIDGE_VLAN_INFO_UNTAGGED)
                        rtnl_vlan_set_add(v->untagged, vid);
        }
        return 0;
}

int rtnl_parse_bridge_vlans(const struct nlmsghdr *nlh, void *ret) {
        struct nlattr *tb[IFLA_MAX + 1] = {};
        const struct ifinfomsg *ifi;
        RtnlBridgeVlans *v = ret;
        struct nlattr *a;
        uint16_t range_begin = 0;
        int r, rem;

        if (nlh->nlmsg_type != RTM_NEWLINK)
                return 0;
        r = parse_attrs(nlh, sizeof(struct ifinfomsg), tb, IFLA_MAX);
        if (r < 0)
                return r;
        ifi = nlmsg_data(nlh);
        if (ifi->ifi_family != AF_BRIDGE)
                return 0;
        *v = (RtnlBridgeVlans) { .ifindex = ifi->ifi_index };
        if (v->ifindex <= 0 || (r = get_index(tb[IFLA_MASTER], &v->master)) < 0)
                return -EBADMSG;
        /* a bridge reports itself as its master; older kernels none */
        v->self = v->master == 0 || v->master == v->ifindex;
        if (!tb[IFLA_AF_SPEC])
                return 1;
        nla_for_each_nested(a, tb[IFLA_AF_SPEC], rem) {
                if (nla_type(a) != IFLA_BRIDGE_VLAN_INFO)
                        continue;
                r = parse_vlan_info(a, v, &range_begin);
                if (r < 0)
                        return r;
        }
        return range_begin ? -EBADMSG : 1;
}
