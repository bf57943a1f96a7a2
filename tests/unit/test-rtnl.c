/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The parts of agent/lib/rtnl that need no namespace of their own: error
 * translation, argument checks, the messages the primitives build and the
 * parsers of what the kernel reports. The kernel's answers are tested by
 * tests/integration/test_rtnl.py and test_netlink.py.
 *
 * The link creation messages are compared, byte for byte, with what `ip`
 * (iproute2 6.1) sends for the same link. They were captured with
 *
 *     unshare -n sh -c 'ip link add vx0 type veth peer name vx1
 *         strace -e trace=sendmsg -e write=3 -qq ip link add ...'
 *
 * which shows the request even where the kernel lacks the kind (no 8021q,
 * dummy or wireguard module here: it answers "Unknown device type"). The
 * netlink header (length, type, flags, sequence number, port) is compared
 * field by field, the rest as bytes. vx0 has ifindex 3 in those captures. */

#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>

#include "macro.h"
#include "rtnl-internal.h"
#include "tests.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_msg *, nlmsg_free);

/* ---- helpers ------------------------------------------------------------------ */

/* Hex digits (white space ignored) into bytes; returns the count. */
static size_t unhex(const char *s, uint8_t *out, size_t size) {
        size_t n = 0;

        for (; *s; s++) {
                int hi, lo;

                if (*s == ' ' || *s == '\n')
                        continue;
                hi = unhexchar(s[0]);
                lo = s[1] ? unhexchar(s[1]) : -1;
                if (hi < 0 || lo < 0 || n >= size)
                        TEST_FAIL("bad hex at \"%.8s\"", s);
                out[n++] = (uint8_t) (hi << 4 | lo);
                s++;
        }
        return n;
}

/* msg is what `ip` sent: a RTM_NEWLINK request with NLM_F_REQUEST,
 * NLM_F_ACK, NLM_F_EXCL and NLM_F_CREATE, and after the header (16 bytes)
 * the given payload. */
static void assert_ip_request(struct nl_msg *msg, const char *payload_hex) {
        const struct nlmsghdr *h = nlmsg_hdr(msg);
        uint8_t want[512];
        size_t n = unhex(payload_hex, want, sizeof want);

        if (h->nlmsg_len != NLMSG_HDRLEN + n)
                for (size_t i = NLMSG_HDRLEN; i < h->nlmsg_len; i++)
                        fprintf(stderr, "%02x%s", ((const uint8_t *) h)[i], i % 4 == 3 ? " " : "");
        ASSERT_EQ(h->nlmsg_len, NLMSG_HDRLEN + n);
        ASSERT_EQ(h->nlmsg_type, RTM_NEWLINK);
        /* libnl adds NLM_F_REQUEST and NLM_F_ACK when it sends */
        ASSERT_EQ(h->nlmsg_flags | NLM_F_REQUEST | NLM_F_ACK, 0x0605);
        ASSERT_EQ(h->nlmsg_seq, 0);
        ASSERT_EQ(h->nlmsg_pid, 0);
        for (size_t i = 0; i < n; i++)
                if (((const uint8_t *) h)[NLMSG_HDRLEN + i] != want[i])
                        TEST_FAIL("byte %zu of the payload: 0x%02x, ip sends 0x%02x", i,
                                  ((const uint8_t *) h)[NLMSG_HDRLEN + i], want[i]);
}

static struct nl_msg *create(const RtnlLinkSpec *spec) {
        struct nl_msg *msg = NULL;

        ASSERT_EQ(rtnl_msg_create_link(spec, -EBADF, &msg), 0);
        return msg;
}

/* An empty ifinfomsg (family, type, index, flags, change all 0). */
#define IFI0 "00000000 00000000 00000000 00000000"

/* ---- link creation, compared with ip ------------------------------------------- */

TEST(test_create_vlan) {
        _cleanup_(nlmsg_freep) struct nl_msg *a = NULL, *b = NULL, *c = NULL;

        /* ip link add name vx0.10 link vx0 type vlan id 10 */
        a = create(&(RtnlLinkSpec) { .kind = RTNL_LINK_VLAN, .name = "vx0.10", .link = 3, .vlan_id = 10 });
        assert_ip_request(a, IFI0
                          "08000500 03000000"                   /* IFLA_LINK 3 */
                          "0b000300 7678302e 31300000"          /* IFLA_IFNAME "vx0.10" */
                          "18001200 08000100 766c616e"          /* IFLA_LINKINFO: KIND "vlan" */
                          "0c000200 06000100 0a000000");        /* DATA: IFLA_VLAN_ID 10 */

        /* ip link add name vx0.20 link vx0 type vlan protocol 802.1ad id 20 */
        b = create(&(RtnlLinkSpec) { .kind = RTNL_LINK_VLAN, .name = "vx0.20", .link = 3, .vlan_id = 20,
                                     .vlan_protocol = ETH_P_8021AD });
        assert_ip_request(b, IFI0
                          "08000500 03000000"
                          "0b000300 7678302e 32300000"
                          "20001200 08000100 766c616e"
                          "14000200 06000500 88a80000"          /* IFLA_VLAN_PROTOCOL, big endian */
                          "06000100 14000000");

        /* ip link add address 02:00:5e:00:00:01 mtu 1400 name vx0.10 link vx0 type vlan id 10 */
        c = create(&(RtnlLinkSpec) { .kind = RTNL_LINK_VLAN, .name = "vx0.10", .link = 3, .vlan_id = 10,
                                     .has_hwaddr = true, .hwaddr = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x01 },
                                     .mtu = 1400 });
        assert_ip_request(c, IFI0
                          "0a000100 02005e00 00010000"          /* IFLA_ADDRESS */
                          "08000400 78050000"                   /* IFLA_MTU 1400 */
                          "08000500 03000000"
                          "0b000300 7678302e 31300000"
                          "18001200 08000100 766c616e"
                          "0c000200 06000100 0a000000");
}

TEST(test_create_dummy_wireguard) {
        _cleanup_(nlmsg_freep) struct nl_msg *a = NULL, *b = NULL, *c = NULL;

        /* ip link add dm0 type dummy */
        a = create(&(RtnlLinkSpec) { .kind = RTNL_LINK_DUMMY, .name = "dm0" });
        assert_ip_request(a, IFI0 "08000300 646d3000 10001200 09000100 64756d6d 79000000");

        /* ip link add dm0 up type dummy: ifi_flags and ifi_change IFF_UP */
        b = create(&(RtnlLinkSpec) { .kind = RTNL_LINK_DUMMY, .name = "dm0", .up = true });
        assert_ip_request(b, "00000000 00000000 01000000 01000000"
                          "08000300 646d3000 10001200 09000100 64756d6d 79000000");

        /* ip link add wg0 type wireguard */
        c = create(&(RtnlLinkSpec) { .kind = RTNL_LINK_WIREGUARD, .name = "wg0" });
        assert_ip_request(c, IFI0 "08000300 77673000 14001200 0d000100 77697265 67756172 64000000");
}

TEST(test_create_veth_macvlan_bridge) {
        _cleanup_(nlmsg_freep) struct nl_msg *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;

        /* ip link add name va type veth peer name vb */
        a = create(&(RtnlLinkSpec) { .kind = RTNL_LINK_VETH, .name = "va", .peer = "vb" });
        assert_ip_request(a, IFI0
                          "07000300 76610000"
                          "2c001200 08000100 76657468"
                          "20000200 1c000100" IFI0              /* DATA: VETH_INFO_PEER: ifinfomsg ... */
                          "07000300 76620000");                 /* ... IFLA_IFNAME "vb" */

        /* ip link add name mv0 link vx0 type macvlan mode bridge */
        b = create(&(RtnlLinkSpec) { .kind = RTNL_LINK_MACVLAN, .name = "mv0", .link = 3, .macvlan_mode = 4 });
        assert_ip_request(b, IFI0
                          "08000500 03000000 08000300 6d763000"
                          "1c001200 0b000100 6d616376 6c616e00"
                          "0c000200 08000100 04000000");        /* IFLA_MACVLAN_MODE bridge */

        /* ip link add name mv0 link vx0 type macvlan: no IFLA_INFO_DATA */
        c = create(&(RtnlLinkSpec) { .kind = RTNL_LINK_MACVLAN, .name = "mv0", .link = 3 });
        assert_ip_request(c, IFI0 "08000500 03000000 08000300 6d763000 10001200 0b000100 6d616376 6c616e00");

        /* ip link add br0 type bridge */
        d = create(&(RtnlLinkSpec) { .kind = RTNL_LINK_BRIDGE, .name = "br0" });
        assert_ip_request(d, IFI0 "08000300 62723000 10001200 0a000100 62726964 67650000");

        /* ip link add br1 type bridge vlan_filtering 1 */
        e = create(&(RtnlLinkSpec) { .kind = RTNL_LINK_BRIDGE, .name = "br1", .has_vlan_filtering = true,
                                     .vlan_filtering = true });
        assert_ip_request(e, IFI0
                          "08000300 62723100 1c001200 0a000100 62726964 67650000"
                          "0c000200 05000700 01000000");        /* IFLA_BR_VLAN_FILTERING 1 */
}

TEST(test_create_invalid) {
        struct nl_msg *msg = NULL;
        char alias[RTNL_ALIAS_SIZE + 1];

        memset(alias, 'a', sizeof alias - 1);
        alias[sizeof alias - 1] = '\0';
        /* refused before anything is built */
        ASSERT_EQ(rtnl_msg_create_link(NULL, -EBADF, &msg), -EINVAL);
        ASSERT_EQ(rtnl_msg_create_link(&(RtnlLinkSpec) { .kind = RTNL_LINK_DUMMY }, -EBADF, &msg), -EINVAL);
        ASSERT_EQ(rtnl_msg_create_link(&(RtnlLinkSpec) { .kind = RTNL_LINK_DUMMY, .name = "0123456789abcdef" },
                                       -EBADF, &msg), -EINVAL);
        ASSERT_EQ(rtnl_msg_create_link(&(RtnlLinkSpec) { .kind = _RTNL_LINK_KIND_MAX, .name = "x" }, -EBADF, &msg),
                  -EINVAL);
        ASSERT_EQ(rtnl_msg_create_link(&(RtnlLinkSpec) { .kind = RTNL_LINK_VETH, .name = "x" }, -EBADF, &msg),
                  -EINVAL);
        ASSERT_EQ(rtnl_msg_create_link(&(RtnlLinkSpec) { .kind = RTNL_LINK_VETH, .name = "x", .peer = "a/b" },
                                       -EBADF, &msg), -EINVAL);
        for (unsigned id = 0; id <= 4096; id += 4095) /* 0 and 4095 are reserved */
                ASSERT_EQ(rtnl_msg_create_link(&(RtnlLinkSpec) { .kind = RTNL_LINK_VLAN, .name = "v", .link = 3,
                                                                .vlan_id = id }, -EBADF, &msg), -EINVAL);
        ASSERT_EQ(rtnl_msg_create_link(&(RtnlLinkSpec) { .kind = RTNL_LINK_VLAN, .name = "v", .vlan_id = 5 },
                                       -EBADF, &msg), -EINVAL);
        ASSERT_EQ(rtnl_msg_create_link(&(RtnlLinkSpec) { .kind = RTNL_LINK_VLAN, .name = "v", .link = 3,
                                                        .vlan_id = 5, .vlan_protocol = 0x0800 }, -EBADF, &msg),
                  -EINVAL);
        ASSERT_EQ(rtnl_msg_create_link(&(RtnlLinkSpec) { .kind = RTNL_LINK_MACVLAN, .name = "m" }, -EBADF, &msg),
                  -EINVAL);
        ASSERT_EQ(rtnl_msg_create_link(&(RtnlLinkSpec) { .kind = RTNL_LINK_DUMMY, .name = "d", .alias = alias },
                                       -EBADF, &msg), -EINVAL);
        ASSERT_TRUE(msg == NULL);
        ASSERT_STREQ(rtnl_kind_to_string(RTNL_LINK_WIREGUARD), "wireguard");
        ASSERT_TRUE(rtnl_kind_to_string(_RTNL_LINK_KIND_MAX) == NULL);
}

/* ---- other link requests --------------------------------------------------------- */

/* The attributes of a built RTM_*LINK request. */
static const struct ifinfomsg *link_attrs(struct nl_msg *msg, struct nlattr **tb) {
        ASSERT_EQ(nlmsg_parse(nlmsg_hdr(msg), sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL), 0);
        return nlmsg_data(nlmsg_hdr(msg));
}

TEST(test_set_link) {
        _cleanup_(nlmsg_freep) struct nl_msg *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;
        struct nlattr *tb[IFLA_MAX + 1];
        const struct ifinfomsg *ifi;

        /* nothing to change: the flags are left alone (ifi_change 0) */
        ASSERT_EQ(rtnl_msg_set_link(7, &(RtnlLinkChange) {}, &a), 0);
        ifi = link_attrs(a, tb);
        ASSERT_EQ(ifi->ifi_index, 7);
        ASSERT_EQ(ifi->ifi_change, 0);
        ASSERT_TRUE(!tb[IFLA_IFNAME] && !tb[IFLA_MTU] && !tb[IFLA_ADDRESS] && !tb[IFLA_MASTER] && !tb[IFLA_IFALIAS]);
        ASSERT_EQ(nlmsg_hdr(a)->nlmsg_flags, 0); /* no NLM_F_CREATE: only an existing link */

        ASSERT_EQ(rtnl_msg_set_link(7, &(RtnlLinkChange) { .name = "eth0", .mtu = 1400, .admin = RTNL_ADMIN_UP,
                                                           .has_hwaddr = true, .hwaddr = { 2, 0, 0, 0, 0, 9 },
                                                           .master = 4, .alias = "op-dbus" }, &b), 0);
        ifi = link_attrs(b, tb);
        ASSERT_EQ(ifi->ifi_flags, IFF_UP);
        ASSERT_EQ(ifi->ifi_change, IFF_UP);
        ASSERT_STREQ(nla_get_string(tb[IFLA_IFNAME]), "eth0");
        ASSERT_EQ(nla_get_u32(tb[IFLA_MTU]), 1400);
        ASSERT_EQ(nla_get_u32(tb[IFLA_MASTER]), 4);
        ASSERT_EQ(nla_len(tb[IFLA_ADDRESS]), 6);
        ASSERT_EQ(((uint8_t *) nla_data(tb[IFLA_ADDRESS]))[5], 9);
        /* as `ip link set ... alias`: without the terminating NUL */
        ASSERT_EQ(nla_len(tb[IFLA_IFALIAS]), 7);
        ASSERT_TRUE(memcmp(nla_data(tb[IFLA_IFALIAS]), "op-dbus", 7) == 0);

        /* down; out of its bridge (IFLA_MASTER 0); alias removed (empty attribute) */
        ASSERT_EQ(rtnl_msg_set_link(7, &(RtnlLinkChange) { .admin = RTNL_ADMIN_DOWN, .master = RTNL_NO_MASTER,
                                                           .alias = "" }, &c), 0);
        ifi = link_attrs(c, tb);
        ASSERT_EQ(ifi->ifi_flags, 0);
        ASSERT_EQ(ifi->ifi_change, IFF_UP);
        ASSERT_EQ(nla_get_u32(tb[IFLA_MASTER]), 0);
        ASSERT_EQ(nla_len(tb[IFLA_IFALIAS]), 0);

        /* a move names the target namespace by file descriptor */
        ASSERT_EQ(rtnl_msg_move_link(7, 12, &d), 0);
        link_attrs(d, tb);
        ASSERT_EQ(nla_get_u32(tb[IFLA_NET_NS_FD]), 12);

        /* the alias after a creation, by name */
        ASSERT_EQ(rtnl_msg_set_alias("wg0", "op-dbus:wan", &e), 0);
        ifi = link_attrs(e, tb);
        ASSERT_EQ(ifi->ifi_index, 0);
        ASSERT_STREQ(nla_get_string(tb[IFLA_IFNAME]), "wg0");
        ASSERT_EQ(nla_len(tb[IFLA_IFALIAS]), 11);

        ASSERT_EQ(rtnl_msg_set_link(0, &(RtnlLinkChange) {}, &a), -EINVAL);
        ASSERT_EQ(rtnl_msg_set_link(7, &(RtnlLinkChange) { .name = "a b" }, &a), -EINVAL);
        ASSERT_EQ(rtnl_msg_set_link(7, &(RtnlLinkChange) { .master = -2 }, &a), -EINVAL);
        ASSERT_EQ(rtnl_msg_set_link(7, NULL, &a), -EINVAL);
        ASSERT_EQ(rtnl_msg_move_link(7, -1, &a), -EINVAL);
        ASSERT_EQ(rtnl_msg_delete_link(0, &a), -EINVAL);
        ASSERT_EQ(rtnl_msg_get_link(0, NULL, &a), -EINVAL);
}

/* ---- addresses, routes, rules: built, then parsed back ------------------------------ */

static void in4(const char *s, RtnlInAddr *ret) {
        ASSERT_EQ(inet_pton(AF_INET, s, &ret->in), 1);
}

static void in6(const char *s, RtnlInAddr *ret) {
        ASSERT_EQ(inet_pton(AF_INET6, s, &ret->in6), 1);
}

TEST(test_address_messages) {
        _cleanup_(nlmsg_freep) struct nl_msg *a = NULL, *b = NULL, *c = NULL;
        RtnlAddr want = { .family = AF_INET, .ifindex = 5, .prefixlen = 24, .protocol = RTNL_PROTO_OPDBUS }, got;
        struct nlattr *tb[IFA_MAX + 1];
        const struct ifaddrmsg *ifa;

        in4("10.1.2.3", &want.address);
        rtnl_address_set_broadcast(&want);
        ASSERT_TRUE(want.has_broadcast);
        ASSERT_EQ(ntohl(want.broadcast.s_addr), 0x0a0102ff);

        ASSERT_EQ(rtnl_msg_address(RTM_NEWADDR, &want, &a), 0);
        ASSERT_EQ(nlmsg_hdr(a)->nlmsg_flags, NLM_F_CREATE | NLM_F_EXCL);
        ASSERT_EQ(rtnl_parse_address(nlmsg_hdr(a), &got), 1);
        ASSERT_EQ(got.family, AF_INET);
        ASSERT_EQ(got.ifindex, 5);
        ASSERT_EQ(got.prefixlen, 24);
        ASSERT_TRUE(got.address.in.s_addr == want.address.in.s_addr && !got.has_peer);
        ASSERT_TRUE(got.has_broadcast && got.broadcast.s_addr == want.broadcast.s_addr);
        ASSERT_EQ(got.protocol, RTNL_PROTO_OPDBUS);

        /* a delete names the address only: no broadcast, flags or mark */
        ASSERT_EQ(rtnl_msg_address(RTM_DELADDR, &want, &b), 0);
        ASSERT_EQ(nlmsg_parse(nlmsg_hdr(b), sizeof *ifa, tb, IFA_MAX, NULL), 0);
        ASSERT_TRUE(tb[IFA_LOCAL] && tb[IFA_ADDRESS] && !tb[IFA_BROADCAST] && !tb[IFA_PROTO]);

        /* IPv6, flags beyond the 8 bits of ifa_flags go in IFA_FLAGS */
        want = (RtnlAddr) { .family = AF_INET6, .ifindex = 5, .prefixlen = 64,
                            .flags = IFA_F_NODAD | IFA_F_NOPREFIXROUTE };
        in6("fd00::1", &want.address);
        rtnl_address_set_broadcast(&want);
        ASSERT_TRUE(!want.has_broadcast);
        ASSERT_EQ(rtnl_msg_address(RTM_NEWADDR, &want, &c), 0);
        ifa = nlmsg_data(nlmsg_hdr(c));
        ASSERT_EQ(ifa->ifa_flags, IFA_F_NODAD);
        ASSERT_EQ(rtnl_parse_address(nlmsg_hdr(c), &got), 1);
        ASSERT_EQ(got.flags, IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
        ASSERT_TRUE(memcmp(&got.address.in6, &want.address.in6, 16) == 0);
        ASSERT_EQ(got.protocol, 0);

        want.prefixlen = 129;
        ASSERT_EQ(rtnl_msg_address(RTM_NEWADDR, &want, &a), -EINVAL);
        want = (RtnlAddr) { .family = AF_PACKET, .ifindex = 5 };
        ASSERT_EQ(rtnl_msg_address(RTM_NEWADDR, &want, &a), -EINVAL);
        want = (RtnlAddr) { .family = AF_INET };
        ASSERT_EQ(rtnl_msg_address(RTM_NEWADDR, &want, &a), -EINVAL); /* no link */
}

TEST(test_route_messages) {
        _cleanup_(nlmsg_freep) struct nl_msg *a = NULL, *b = NULL, *c = NULL, *d = NULL;
        RtnlRoute want = { .family = AF_INET, .dst_len = 16, .table = 1000, .protocol = RTNL_PROTO_OPDBUS,
                           .type = RTN_BLACKHOLE }, got;
        const struct rtmsg *rtm;

        /* a blackhole route in a table above 255: RTA_TABLE holds it */
        in4("10.9.0.0", &want.dst);
        ASSERT_EQ(rtnl_msg_route(RTM_NEWROUTE, NLM_F_EXCL, &want, &a), 0);
        ASSERT_EQ(nlmsg_hdr(a)->nlmsg_flags, NLM_F_CREATE | NLM_F_EXCL);
        rtm = nlmsg_data(nlmsg_hdr(a));
        ASSERT_EQ(rtm->rtm_table, RT_TABLE_UNSPEC);
        ASSERT_EQ(rtnl_parse_route(nlmsg_hdr(a), &got), 1);
        ASSERT_EQ(got.table, 1000);
        ASSERT_EQ(got.type, RTN_BLACKHOLE);
        ASSERT_EQ(got.protocol, RTNL_PROTO_OPDBUS);
        ASSERT_EQ(got.dst_len, 16);
        ASSERT_TRUE(got.dst.in.s_addr == want.dst.in.s_addr && !got.has_gateway && got.oif == 0);

        /* a default route via a gateway, replaced: table 0 is main, type 0 unicast */
        want = (RtnlRoute) { .family = AF_INET6, .oif = 3, .priority = 100, .has_gateway = true };
        in6("fe80::1", &want.gateway);
        ASSERT_EQ(rtnl_msg_route(RTM_NEWROUTE, NLM_F_REPLACE, &want, &b), 0);
        ASSERT_EQ(nlmsg_hdr(b)->nlmsg_flags, NLM_F_CREATE | NLM_F_REPLACE);
        ASSERT_EQ(rtnl_parse_route(nlmsg_hdr(b), &got), 1);
        ASSERT_EQ(got.table, RT_TABLE_MAIN);
        ASSERT_EQ(got.type, RTN_UNICAST);
        ASSERT_EQ(got.dst_len, 0);
        ASSERT_TRUE(got.has_gateway && memcmp(&got.gateway, &want.gateway, 16) == 0);
        ASSERT_EQ(got.oif, 3);
        ASSERT_EQ(got.priority, 100);

        /* a delete matches any scope and, with type 0, any type */
        ASSERT_EQ(rtnl_msg_route(RTM_DELROUTE, 0, &want, &c), 0);
        rtm = nlmsg_data(nlmsg_hdr(c));
        ASSERT_EQ(rtm->rtm_scope, RT_SCOPE_NOWHERE);
        ASSERT_EQ(rtm->rtm_type, 0);
        ASSERT_EQ(nlmsg_hdr(c)->nlmsg_flags, 0);

        /* a cached clone is not a route of the table */
        ASSERT_EQ(rtnl_msg_route(RTM_NEWROUTE, NLM_F_EXCL, &want, &d), 0);
        ((struct rtmsg *) nlmsg_data(nlmsg_hdr(d)))->rtm_flags |= RTM_F_CLONED;
        ASSERT_EQ(rtnl_parse_route(nlmsg_hdr(d), &got), 0);

        want.dst_len = 129;
        ASSERT_EQ(rtnl_msg_route(RTM_NEWROUTE, NLM_F_EXCL, &want, &a), -EINVAL);
        want = (RtnlRoute) { .family = AF_UNSPEC };
        ASSERT_EQ(rtnl_msg_route(RTM_NEWROUTE, NLM_F_EXCL, &want, &a), -EINVAL);
}

TEST(test_rule_messages) {
        _cleanup_(nlmsg_freep) struct nl_msg *a = NULL, *b = NULL;
        RtnlRule want = { .family = AF_INET, .priority = 500, .src_len = 24, .iif = "lan1", .has_fwmark = true,
                          .fwmark = 0x10, .table = 100, .protocol = RTNL_PROTO_OPDBUS }, got;
        const struct fib_rule_hdr *frh;

        in4("10.1.0.0", &want.src);
        ASSERT_EQ(rtnl_msg_rule(RTM_NEWRULE, &want, &a), 0);
        ASSERT_EQ(nlmsg_hdr(a)->nlmsg_flags, NLM_F_CREATE | NLM_F_EXCL);
        frh = nlmsg_data(nlmsg_hdr(a));
        ASSERT_EQ(frh->action, FR_ACT_TO_TBL);
        ASSERT_EQ(frh->table, 100);
        ASSERT_EQ(rtnl_parse_rule(nlmsg_hdr(a), &got), 1);
        ASSERT_EQ(got.priority, 500);
        ASSERT_EQ(got.src_len, 24);
        ASSERT_TRUE(got.src.in.s_addr == want.src.in.s_addr);
        ASSERT_EQ(got.dst_len, 0);
        ASSERT_STREQ(got.iif, "lan1");
        ASSERT_STREQ(got.oif, "");
        ASSERT_TRUE(got.has_fwmark);
        ASSERT_EQ(got.fwmark, 0x10);
        ASSERT_EQ(got.fwmask, 0xffffffff);      /* a mark without a mask matches all bits */
        ASSERT_EQ(got.table, 100);
        ASSERT_EQ(got.protocol, RTNL_PROTO_OPDBUS);
        ASSERT_EQ(got.action, FR_ACT_TO_TBL);

        /* a blackhole rule; the delete leaves the action as it is */
        want = (RtnlRule) { .family = AF_INET6, .priority = 900, .oif = "wg0", .action = FR_ACT_BLACKHOLE };
        ASSERT_EQ(rtnl_msg_rule(RTM_DELRULE, &want, &b), 0);
        ASSERT_EQ(nlmsg_hdr(b)->nlmsg_flags, 0);
        ASSERT_EQ(((const struct fib_rule_hdr *) nlmsg_data(nlmsg_hdr(b)))->action, FR_ACT_BLACKHOLE);

        want.oif[0] = '/';
        ASSERT_EQ(rtnl_msg_rule(RTM_NEWRULE, &want, &a), -EINVAL);
        want = (RtnlRule) { .family = AF_INET, .src_len = 33 };
        ASSERT_EQ(rtnl_msg_rule(RTM_NEWRULE, &want, &a), -EINVAL);
}

/* ---- VLANs of bridge ports, compared with bridge ------------------------------------ */

/* msg is what `bridge vlan` sent (captured with strace -xx as above; the
 * kernel here answers "Operation not supported"): type, NLM_F_REQUEST and
 * NLM_F_ACK only, and the payload after the header. */
static void assert_payload(struct nl_msg *msg, const char *payload_hex) {
        const struct nlmsghdr *h = nlmsg_hdr(msg);
        uint8_t want[128];
        size_t n = unhex(payload_hex, want, sizeof want);

        ASSERT_EQ(h->nlmsg_len, NLMSG_HDRLEN + n);
        for (size_t i = 0; i < n; i++)
                if (((const uint8_t *) h)[NLMSG_HDRLEN + i] != want[i])
                        TEST_FAIL("byte %zu of the payload: 0x%02x, bridge sends 0x%02x", i,
                                  ((const uint8_t *) h)[NLMSG_HDRLEN + i], want[i]);
}

static void assert_bridge_request(struct nl_msg *msg, int type, const char *payload_hex) {
        ASSERT_EQ(nlmsg_hdr(msg)->nlmsg_type, type);
        ASSERT_EQ(nlmsg_hdr(msg)->nlmsg_flags | NLM_F_REQUEST | NLM_F_ACK, NLM_F_REQUEST | NLM_F_ACK);
        assert_payload(msg, payload_hex);
}

TEST(test_bridge_vlan_messages) {
        _cleanup_(nlmsg_freep) struct nl_msg *a = NULL, *b = NULL, *c = NULL, *d = NULL;
        struct nl_msg *msg = NULL;

        /* bridge vlan add dev vx0 vid 10 pvid untagged (vx0: ifindex 4) */
        ASSERT_EQ(rtnl_msg_bridge_vlan(RTM_SETLINK, &(RtnlBridgeVlan) { .ifindex = 4, .vid = 10,
                  .flags = BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED }, &a), 0);
        assert_bridge_request(a, RTM_SETLINK,
                              "07000000 04000000 00000000 00000000"     /* AF_BRIDGE, index 4 */
                              "0c001a00 08000200 0600 0a00");           /* IFLA_AF_SPEC: VLAN_INFO pvid untagged 10 */
        /* bridge vlan add dev br0 vid 20 self (br0: ifindex 2) */
        ASSERT_EQ(rtnl_msg_bridge_vlan(RTM_SETLINK, &(RtnlBridgeVlan) { .ifindex = 2, .self = true, .vid = 20 },
                                       &b), 0);
        assert_bridge_request(b, RTM_SETLINK,
                              "07000000 02000000 00000000 00000000"
                              "14001a00 06000000 0200 0000"             /* IFLA_BRIDGE_FLAGS SELF (2) */
                              "08000200 0000 1400");                    /* VLAN_INFO 20 */
        /* bridge vlan del dev vx0 vid 20-30 */
        ASSERT_EQ(rtnl_msg_bridge_vlan(RTM_DELLINK, &(RtnlBridgeVlan) { .ifindex = 4, .vid = 20, .vid_end = 30 },
                                       &c), 0);
        assert_bridge_request(c, RTM_DELLINK,
                              "07000000 04000000 00000000 00000000"
                              "14001a00 08000200 0800 1400"             /* RANGE_BEGIN 20 */
                              "08000200 1000 1e00");                    /* RANGE_END 30 */
        /* a delete sends no flags: bridge vlan del dev vx0 vid 10 */
        ASSERT_EQ(rtnl_msg_bridge_vlan(RTM_DELLINK, &(RtnlBridgeVlan) { .ifindex = 4, .vid = 10,
                  .flags = BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED }, &d), 0);
        assert_bridge_request(d, RTM_DELLINK, "07000000 04000000 00000000 00000000 0c001a00 08000200 0000 0a00");

        /* what the kernel would refuse */
        ASSERT_EQ(rtnl_msg_bridge_vlan(RTM_SETLINK, &(RtnlBridgeVlan) { .ifindex = 4, .vid = 0 }, &msg), -EINVAL);
        ASSERT_EQ(rtnl_msg_bridge_vlan(RTM_SETLINK, &(RtnlBridgeVlan) { .ifindex = 4, .vid = 4095 }, &msg), -EINVAL);
        ASSERT_EQ(rtnl_msg_bridge_vlan(RTM_SETLINK, &(RtnlBridgeVlan) { .ifindex = 0, .vid = 5 }, &msg), -EINVAL);
        ASSERT_EQ(rtnl_msg_bridge_vlan(RTM_SETLINK, &(RtnlBridgeVlan) { .ifindex = 4, .vid = 5, .vid_end = 5 },
                                       &msg), -EINVAL);
        ASSERT_EQ(rtnl_msg_bridge_vlan(RTM_SETLINK, &(RtnlBridgeVlan) { .ifindex = 4, .vid = 5, .vid_end = 9,
                  .flags = BRIDGE_VLAN_INFO_PVID }, &msg), -EINVAL);
        ASSERT_EQ(rtnl_msg_bridge_vlan(RTM_SETLINK, &(RtnlBridgeVlan) { .ifindex = 4, .vid = 5,
                  .flags = BRIDGE_VLAN_INFO_MASTER }, &msg), -EINVAL);
        ASSERT_EQ(rtnl_msg_bridge_vlan(RTM_NEWLINK, &(RtnlBridgeVlan) { .ifindex = 4, .vid = 5 }, &msg), -EINVAL);
        ASSERT_TRUE(msg == NULL);

        /* the dump request: as `bridge vlan show` sends it (AF_BRIDGE, NLM_F_DUMP), with
         * IFLA_EXT_MASK RTEXT_FILTER_BRVLAN_COMPRESSED (4) for RTEXT_FILTER_BRVLAN (2) */
        msg = rtnl_msg_dump_bridge_vlans(AF_UNSPEC);
        ASSERT_TRUE(msg);
        ASSERT_EQ(nlmsg_hdr(msg)->nlmsg_type, RTM_GETLINK);
        ASSERT_EQ(nlmsg_hdr(msg)->nlmsg_flags, NLM_F_DUMP);
        assert_payload(msg, "07000000 00000000 00000000 00000000 08001d00 04000000");
        nlmsg_free(msg);
}

/* ---- parsing what the kernel sends ------------------------------------------------- */

TEST(test_parse_link) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = NULL, *bad = NULL;
        struct ifinfomsg ifi = { .ifi_index = 7, .ifi_flags = IFF_UP | IFF_LOWER_UP | IFF_BROADCAST };
        const uint8_t mac[6] = { 0x02, 0, 0x5e, 0, 0, 0x10 };
        struct nlattr *info, *data;
        RtnlLink l;

        /* what the kernel reports of an 802.1ad VLAN with an alias, in a bridge */
        ASSERT_TRUE(msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_MULTI));
        ASSERT_EQ(nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO), 0);
        ASSERT_EQ(nla_put_string(msg, IFLA_IFNAME, "lan.10"), 0);
        ASSERT_EQ(nla_put(msg, IFLA_ADDRESS, 6, mac), 0);
        ASSERT_EQ(nla_put_u32(msg, IFLA_MTU, 1496), 0);
        ASSERT_EQ(nla_put_u32(msg, IFLA_LINK, 3), 0);
        ASSERT_EQ(nla_put_u32(msg, IFLA_MASTER, 9), 0);
        ASSERT_EQ(nla_put_string(msg, IFLA_IFALIAS, "op-dbus:lan"), 0);
        ASSERT_TRUE(info = nla_nest_start(msg, IFLA_LINKINFO));
        ASSERT_EQ(nla_put_string(msg, IFLA_INFO_KIND, "vlan"), 0);
        ASSERT_TRUE(data = nla_nest_start(msg, IFLA_INFO_DATA));
        ASSERT_EQ(nla_put_u16(msg, IFLA_VLAN_PROTOCOL, htons(ETH_P_8021AD)), 0);
        ASSERT_EQ(nla_put_u16(msg, IFLA_VLAN_ID, 10), 0);
        nla_nest_end(msg, data);
        nla_nest_end(msg, info);

        ASSERT_EQ(rtnl_parse_link(nlmsg_hdr(msg), &l), 1);
        ASSERT_EQ(l.ifindex, 7);
        ASSERT_STREQ(l.name, "lan.10");
        ASSERT_STREQ(l.kind, "vlan");
        ASSERT_TRUE(l.has_hwaddr && memcmp(l.hwaddr, mac, 6) == 0);
        ASSERT_EQ(l.mtu, 1496);
        ASSERT_TRUE(l.up && l.lower_up);
        ASSERT_EQ(l.master, 9);
        ASSERT_EQ(l.link, 3);
        ASSERT_EQ(l.link_netnsid, -1);
        ASSERT_EQ(l.vlan_id, 10);
        ASSERT_EQ(l.vlan_protocol, ETH_P_8021AD);
        ASSERT_STREQ(l.alias, "op-dbus:lan");

        /* a short attribute makes the message malformed; so does a link without a name */
        ASSERT_TRUE(bad = nlmsg_alloc_simple(RTM_NEWLINK, 0));
        ASSERT_EQ(nlmsg_append(bad, &ifi, sizeof ifi, NLMSG_ALIGNTO), 0);
        ASSERT_EQ(rtnl_parse_link(nlmsg_hdr(bad), &l), -EBADMSG);
        ASSERT_EQ(nla_put_string(bad, IFLA_IFNAME, "x"), 0);
        ASSERT_EQ(nla_put_u16(bad, IFLA_MTU, 1500), 0);
        ASSERT_EQ(rtnl_parse_link(nlmsg_hdr(bad), &l), -EBADMSG);

        /* another message type is skipped */
        nlmsg_hdr(bad)->nlmsg_type = RTM_DELLINK;
        ASSERT_EQ(rtnl_parse_link(nlmsg_hdr(bad), &l), 0);
}

/* An AF_BRIDGE RTM_NEWLINK as the kernel sends it in a dump with
 * RTEXT_FILTER_BRVLAN_COMPRESSED: index, master, and VLAN infos (flags,
 * vid) in IFLA_AF_SPEC; n 0: no IFLA_AF_SPEC. */
static struct nl_msg *bridge_dump_msg(int family, int ifindex, int master, const struct bridge_vlan_info *infos,
                                      size_t n) {
        struct ifinfomsg ifi = { .ifi_family = family, .ifi_index = ifindex };
        struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_MULTI);
        struct nlattr *spec;

        ASSERT_TRUE(msg);
        ASSERT_EQ(nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO), 0);
        ASSERT_EQ(nla_put_string(msg, IFLA_IFNAME, "lan1"), 0);
        if (master)
                ASSERT_EQ(nla_put_u32(msg, IFLA_MASTER, master), 0);
        if (n == 0)
                return msg;
        ASSERT_TRUE(spec = nla_nest_start(msg, IFLA_AF_SPEC));
        ASSERT_EQ(nla_put_u16(msg, IFLA_BRIDGE_FLAGS, 0), 0);   /* not a VLAN: skipped */
        for (size_t i = 0; i < n; i++)
                ASSERT_EQ(nla_put(msg, IFLA_BRIDGE_VLAN_INFO, sizeof infos[i], &infos[i]), 0);
        nla_nest_end(msg, spec);
        return msg;
}

TEST(test_parse_bridge_vlans) {
        enum { P = BRIDGE_VLAN_INFO_PVID, U = BRIDGE_VLAN_INFO_UNTAGGED,
               B = BRIDGE_VLAN_INFO_RANGE_BEGIN, E = BRIDGE_VLAN_INFO_RANGE_END };
        const struct bridge_vlan_info port[] = { { P | U, 10 }, { B, 20 }, { E, 22 }, { U, 30 } };
        const struct bridge_vlan_info self[] = { { P | U, 1 } };
        const struct {
                struct bridge_vlan_info infos[3];
                size_t n;
        } bad[] = {
                { { { 0, 0 } }, 1 },                          /* VLAN 0 */
                { { { 0, 4095 } }, 1 },                       /* VLAN 4095 */
                { { { E, 20 } }, 1 },                         /* an end without a beginning */
                { { { B, 20 } }, 1 },                         /* a beginning without an end */
                { { { B, 20 }, { B, 21 } }, 2 },              /* two beginnings */
                { { { B, 20 }, { E, 20 } }, 2 },              /* an empty range */
                { { { B, 20 }, { 0, 21 } }, 2 },              /* a single VLAN inside a range */
                { { { P, 20 }, { P, 21 } }, 2 },              /* two pvids */
                { { { B | E, 20 } }, 1 },                     /* both */
                { { { B, 20 }, { E | P, 22 } }, 2 },          /* a pvid range */
        };
        _cleanup_(nlmsg_freep) struct nl_msg *a = NULL, *b = NULL, *c = NULL, *d = NULL;
        RtnlBridgeVlans v;

        a = bridge_dump_msg(AF_BRIDGE, 5, 2, port, ELEMENTSOF(port));
        ASSERT_EQ(rtnl_parse_bridge_vlans(nlmsg_hdr(a), &v), 1);
        ASSERT_EQ(v.ifindex, 5);
        ASSERT_EQ(v.master, 2);
        ASSERT_TRUE(!(v.self));
        ASSERT_EQ(v.pvid, 10);
        for (unsigned vid = 0; vid < 4096; vid++) {
                bool member = vid == 10 || (vid >= 20 && vid <= 22) || vid == 30, untagged = vid == 10 || vid == 30;

                if (rtnl_vlan_set_has(v.member, vid) != member || rtnl_vlan_set_has(v.untagged, vid) != untagged)
                        TEST_FAIL("VLAN %u: member %d untagged %d", vid, rtnl_vlan_set_has(v.member, vid),
                                  rtnl_vlan_set_has(v.untagged, vid));
        }

        /* the bridge itself reports itself as its master */
        b = bridge_dump_msg(AF_BRIDGE, 2, 2, self, 1);
        ASSERT_EQ(rtnl_parse_bridge_vlans(nlmsg_hdr(b), &v), 1);
        ASSERT_TRUE(v.self);
        ASSERT_EQ(v.pvid, 1);
        ASSERT_TRUE(rtnl_vlan_set_has(v.member, 1) && rtnl_vlan_set_has(v.untagged, 1));

        /* a port of a kernel without VLAN filtering: no IFLA_AF_SPEC */
        c = bridge_dump_msg(AF_BRIDGE, 5, 2, NULL, 0);
        ASSERT_EQ(rtnl_parse_bridge_vlans(nlmsg_hdr(c), &v), 1);
        ASSERT_EQ(v.pvid, 0);
        ASSERT_TRUE(!(rtnl_vlan_set_has(v.member, 1)));

        /* another family is not the bridge's */
        d = bridge_dump_msg(AF_UNSPEC, 5, 2, port, ELEMENTSOF(port));
        ASSERT_EQ(rtnl_parse_bridge_vlans(nlmsg_hdr(d), &v), 0);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(nlmsg_freep) struct nl_msg *m = bridge_dump_msg(AF_BRIDGE, 5, 2, bad[i].infos, bad[i].n);

                if (rtnl_parse_bridge_vlans(nlmsg_hdr(m), &v) != -EBADMSG)
                        TEST_FAIL("case %zu is taken", i);
        }
}

TEST(test_parse_bridge_vlans_short) {
        _cleanup_(nlmsg_freep) struct nl_msg *m = NULL;
        struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE, .ifi_index = 5 };
        struct nlattr *spec;
        uint16_t half = 10;
        RtnlBridgeVlans v;

        /* a VLAN info of 2 bytes */
        ASSERT_TRUE(m = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_MULTI));
        ASSERT_EQ(nlmsg_append(m, &ifi, sizeof ifi, NLMSG_ALIGNTO), 0);
        ASSERT_TRUE(spec = nla_nest_start(m, IFLA_AF_SPEC));
        ASSERT_EQ(nla_put(m, IFLA_BRIDGE_VLAN_INFO, sizeof half, &half), 0);
        nla_nest_end(m, spec);
        ASSERT_EQ(rtnl_parse_bridge_vlans(nlmsg_hdr(m), &v), -EBADMSG);
        /* an index of 0 */
        nlmsg_free(TAKE_PTR(m));
        ifi.ifi_index = 0;
        ASSERT_TRUE(m = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_MULTI));
        ASSERT_EQ(nlmsg_append(m, &ifi, sizeof ifi, NLMSG_ALIGNTO), 0);
        ASSERT_EQ(rtnl_parse_bridge_vlans(nlmsg_hdr(m), &v), -EBADMSG);
}

TEST(test_parse_rule_mark_zero) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
        struct fib_rule_hdr frh = { .family = AF_INET, .action = FR_ACT_TO_TBL, .table = RT_TABLE_MAIN };
        RtnlRule rule;

        /* `fwmark 0/0x1`: the kernel reports the mask, not the mark 0 */
        ASSERT_TRUE(msg = nlmsg_alloc_simple(RTM_NEWRULE, NLM_F_MULTI));
        ASSERT_EQ(nlmsg_append(msg, &frh, sizeof frh, NLMSG_ALIGNTO), 0);
        ASSERT_EQ(nla_put_u32(msg, FRA_FWMASK, 1), 0);
        ASSERT_EQ(rtnl_parse_rule(nlmsg_hdr(msg), &rule), 1);
        ASSERT_TRUE(rule.has_fwmark);
        ASSERT_EQ(rule.fwmark, 0);
        ASSERT_EQ(rule.fwmask, 1);
        ASSERT_EQ(rule.table, RT_TABLE_MAIN);
        ASSERT_EQ(rule.priority, 0);

        ((struct fib_rule_hdr *) nlmsg_data(nlmsg_hdr(msg)))->family = 128; /* RTNL_FAMILY_IPMR */
        ASSERT_EQ(rtnl_parse_rule(nlmsg_hdr(msg), &rule), 0);
}

/* ---- the rest ------------------------------------------------------------------------- */

TEST(test_nl_errno) {
        ASSERT_EQ(rtnl_nl_errno(0), 0);
        ASSERT_EQ(rtnl_nl_errno(-NLE_EXIST), -EEXIST);
        ASSERT_EQ(rtnl_nl_errno(NLE_EXIST), -EEXIST);
        ASSERT_EQ(rtnl_nl_errno(-NLE_NODEV), -ENODEV);
        ASSERT_EQ(rtnl_nl_errno(-NLE_OBJ_NOTFOUND), -ENOENT);
        ASSERT_EQ(rtnl_nl_errno(-NLE_NOMEM), -ENOMEM);
        ASSERT_EQ(rtnl_nl_errno(-NLE_PERM), -EPERM);
        ASSERT_EQ(rtnl_nl_errno(-NLE_BUSY), -EBUSY);
        ASSERT_EQ(rtnl_nl_errno(-NLE_DUMP_INTR), -EAGAIN);
        ASSERT_EQ(rtnl_nl_errno(-NLE_FAILURE), -EIO);
        ASSERT_EQ(rtnl_nl_errno(-NLE_MAX - 1), -EIO);
        ASSERT_EQ(rtnl_nl_errno(INT32_MIN), -EIO);

        /* every code maps to a negative errno */
        for (int i = 1; i <= NLE_MAX; i++)
                ASSERT_TRUE(rtnl_nl_errno(-i) < 0);
}

TEST(test_ifname_valid) {
        ASSERT_TRUE(rtnl_ifname_valid("eth0"));
        ASSERT_TRUE(rtnl_ifname_valid("internal_100"));
        ASSERT_TRUE(rtnl_ifname_valid("abcdefghijklmno"));      /* 15 bytes */
        ASSERT_TRUE(!rtnl_ifname_valid("abcdefghijklmnop"));    /* 16 bytes */
        ASSERT_TRUE(!rtnl_ifname_valid(""));
        ASSERT_TRUE(!rtnl_ifname_valid(NULL));
        ASSERT_TRUE(!rtnl_ifname_valid("."));
        ASSERT_TRUE(!rtnl_ifname_valid(".."));
        ASSERT_TRUE(!rtnl_ifname_valid("a/b"));
        ASSERT_TRUE(!rtnl_ifname_valid("a:b"));
        ASSERT_TRUE(!rtnl_ifname_valid("a b"));
        ASSERT_TRUE(!rtnl_ifname_valid("a\tb"));
}

TEST(test_invalid_arguments) {
        Rtnl *r = NULL;
        RtnlLink *links = NULL, l;
        size_t n;

        /* refused before any socket or namespace is touched */
        ASSERT_EQ(rtnl_open(NULL), -EINVAL);
        ASSERT_EQ(rtnl_open_pid(-1, &r), -EINVAL);
        ASSERT_EQ(rtnl_open_netns_fd(-1, &r), -EINVAL);
        ASSERT_EQ(rtnl_open_netns_path("", &r), -EINVAL);
        ASSERT_EQ(rtnl_open_netns_path(NULL, &r), -EINVAL);
        ASSERT_TRUE(r == NULL);
        ASSERT_EQ(rtnl_dump_links(NULL, &links, &n), -EINVAL);
        ASSERT_EQ(rtnl_get_link(NULL, "lo", &l), -EINVAL);
        ASSERT_EQ(rtnl_ifindex(NULL, "lo"), -EINVAL);
        ASSERT_EQ(rtnl_delete_link(NULL, 1), -EINVAL);
        ASSERT_EQ(rtnl_set_tx_checksum(NULL, "eth0", false), -EINVAL);
        ASSERT_TRUE(rtnl_close(NULL) == NULL);
}

TEST(test_own_namespace) {
        _cleanup_(rtnl_closep) Rtnl *r = NULL, *again = NULL;
        _cleanup_(freep) RtnlLink *links = NULL;
        RtnlLink lo;
        size_t n = 0;
        bool found = false;

        /* every namespace has a loopback; reading needs no privilege */
        ASSERT_EQ(rtnl_open(&r), 0);
        ASSERT_EQ(rtnl_open_pid(0, &again), 0);
        ASSERT_EQ(rtnl_same_netns(r, again), 1);
        ASSERT_EQ(rtnl_dump_links(r, &links, &n), 0);
        for (size_t i = 0; i < n; i++)
                found |= streq(links[i].name, "lo") && links[i].ifindex == 1;
        ASSERT_TRUE(found);
        ASSERT_EQ(rtnl_get_link(r, "lo", &lo), 0);
        ASSERT_EQ(lo.ifindex, 1);
        ASSERT_EQ(rtnl_get_link(r, "nosuchlink0", &lo), -ENODEV);
        ASSERT_EQ(rtnl_ifindex(r, "lo"), 1);
        ASSERT_EQ(rtnl_ifindex(r, "nosuchlink0"), -ENODEV);
        ASSERT_EQ(rtnl_ifindex(r, "bad/name"), -EINVAL);
        ASSERT_EQ(rtnl_get_link_by_index(r, 1, &lo), 0);
        ASSERT_STREQ(lo.name, "lo");
        ASSERT_EQ(rtnl_dump_routes(r, AF_PACKET, NULL, &n), -EINVAL);
        ASSERT_EQ(rtnl_counts(r).writes, 0);
        ASSERT_EQ(rtnl_counts(r).dumps, 4);
}

int main(void) {
        RUN(test_create_vlan);
        RUN(test_create_dummy_wireguard);
        RUN(test_create_veth_macvlan_bridge);
        RUN(test_create_invalid);
        RUN(test_set_link);
        RUN(test_address_messages);
        RUN(test_route_messages);
        RUN(test_rule_messages);
        RUN(test_parse_link);
        RUN(test_bridge_vlan_messages);
        RUN(test_parse_bridge_vlans);
        RUN(test_parse_bridge_vlans_short);
        RUN(test_parse_rule_mark_zero);
        RUN(test_nl_errno);
        RUN(test_ifname_valid);
        RUN(test_invalid_arguments);
        RUN(test_own_namespace);
        return 0;
}
