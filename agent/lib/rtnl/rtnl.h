/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* rtnetlink: dumps of links, addresses, routes and rules into plain
 * structs, and one primitive per change (create, delete, set, move; add,
 * replace, delete), in the caller's network namespace or another one.
 *
 * The library reads and changes; it does not compare. A caller dumps what
 * it needs, computes its own diff against what it wants, and calls the
 * primitives for the differences. Every primitive is one rtnetlink request
 * (rtnl_create_link() with an alias is two) and returns the kernel's answer
 * unchanged: 0, or the kernel's negative errno (-EEXIST, -ENODEV,
 * -EADDRNOTAVAIL, -ESRCH for a route that is not there, ...).
 *
 * Ownership marks, where the kernel has one (docs/rtnl.md):
 *   routes     rtm_protocol: RTNL_PROTO_OPDBUS
 *   rules      FRA_PROTOCOL: RTNL_PROTO_OPDBUS (Linux 4.17 and later)
 *   addresses  IFA_PROTO: RTNL_PROTO_OPDBUS (Linux 6.1 and later; older
 *              kernels ignore it and dump 0: keep a ledger)
 *   links      IFLA_IFALIAS: a text the caller chooses
 * A dump reports every object with its mark, the caller's and everyone
 * else's; the caller changes only what carries its own.
 *
 * Namespaces. An Rtnl is one rtnetlink socket bound to one network
 * namespace: the caller's, that of a process (/proc/PID/ns/net), an open
 * namespace file descriptor, or a namespace file ("/run/netns/NAME").
 * The calling thread never changes namespace: a short-lived helper thread
 * enters the namespace only to create the socket, and a netlink socket
 * stays bound to the namespace it was created in.
 *
 * Functions return a negative errno on failure and never log. An Rtnl must
 * not be used by two threads at once. Changes need CAP_NET_ADMIN, opening
 * another namespace also CAP_SYS_ADMIN.
 *
 * Note on names: libnl-route-3 names its functions rtnl_<object>_<verb>
 * (rtnl_link_add); this library's are rtnl_<verb>_<object>
 * (rtnl_create_link) and its types Rtnl*. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* IFNAMSIZ, without <net/if.h> (which clashes with <linux/if.h>) */
#define RTNL_IFNAME_SIZE 16
/* Ethernet addresses only: links with another kind of hardware address
 * (none for WireGuard, 20 bytes for InfiniBand) report has_hwaddr false. */
#define RTNL_HWADDR_LEN 6
#define RTNL_KIND_SIZE 32
/* IFALIASZ: an alias is at most 255 bytes */
#define RTNL_ALIAS_SIZE 256

/* The ownership mark of op-dbus's routes, rules and addresses: not in
 * Debian's /etc/iproute2/rt_protos, not a kernel RTPROT_* value, not used
 * by the common routing and network daemons (docs/rtnl.md says which). */
#define RTNL_PROTO_OPDBUS 217

/* ---- connections ---------------------------------------------------------- */

typedef struct Rtnl Rtnl;

/* In the calling thread's namespace. */
int rtnl_open(Rtnl **ret);
/* In the namespace of a process (pid 0: the caller's); -ESRCH when the
 * process is gone. */
int rtnl_open_pid(pid_t pid, Rtnl **ret);
/* In the namespace an open file descriptor refers to (an nsfs file such
 * as /proc/PID/ns/net or /run/netns/NAME); the caller keeps fd. */
int rtnl_open_netns_fd(int fd, Rtnl **ret);
/* In the namespace of a namespace file ("/run/netns/NAME"); -ENOENT if
 * there is none. */
int rtnl_open_netns_path(const char *path, Rtnl **ret);
Rtnl *rtnl_close(Rtnl *r);
void rtnl_closep(Rtnl **r);

/* 1 if both are bound to the same namespace, else 0. */
int rtnl_same_netns(const Rtnl *a, const Rtnl *b);

/* Counters of what went through this connection: the requests that
 * change something (every primitive) and the dumps. */
typedef struct RtnlCounts {
        unsigned writes;
        unsigned dumps;
} RtnlCounts;

RtnlCounts rtnl_counts(const Rtnl *r);

/* ---- addresses in structs ----------------------------------------------- */

/* An IPv4 or IPv6 address; the family is that of the object holding it. */
typedef union RtnlInAddr {
        struct in_addr in;
        struct in6_addr in6;
        uint8_t bytes[16];
} RtnlInAddr;

/* ---- links ------------------------------------------------------------------ */

typedef struct RtnlLink {
        int ifindex;
        char name[RTNL_IFNAME_SIZE];
        char kind[RTNL_KIND_SIZE];      /* IFLA_INFO_KIND: "veth", "bridge", "vlan", "tun"
                                         * (an OVS internal port of the userspace datapath),
                                         * "openvswitch", ...; "" for a device without one */
        bool has_hwaddr;
        uint8_t hwaddr[RTNL_HWADDR_LEN]; /* if has_hwaddr */
        uint32_t mtu;
        uint32_t flags;                 /* IFF_* as the kernel reports them */
        bool up;                        /* IFF_UP: administratively up */
        bool lower_up;                  /* IFF_LOWER_UP: carrier */
        int master;                     /* IFLA_MASTER: the bridge it is a port of; 0: none */
        int link;                       /* IFLA_LINK: a VLAN's or macvlan's parent, a veth's
                                         * peer; 0: none (the index may be in another
                                         * namespace when link_netnsid >= 0) */
        int link_netnsid;               /* IFLA_LINK_NETNSID, -1 if absent */
        uint16_t vlan_id;               /* kind "vlan": IFLA_VLAN_ID; else 0 */
        uint16_t vlan_protocol;         /* kind "vlan": ETH_P_8021Q or ETH_P_8021AD (host order) */
        uint32_t macvlan_mode;          /* kind "macvlan": MACVLAN_MODE_*; else 0 */
        bool vlan_filtering;            /* kind "bridge": IFLA_BR_VLAN_FILTERING; else false */
        char alias[RTNL_ALIAS_SIZE];    /* IFLA_IFALIAS; "" if none */
} RtnlLink;

/* Every link of the namespace, in the kernel's order; *ret is one array to
 * free(). */
int rtnl_dump_links(Rtnl *r, RtnlLink **ret, size_t *ret_n);
/* One link by name, or by index; -ENODEV if there is none. */
int rtnl_get_link(Rtnl *r, const char *ifname, RtnlLink *ret);
int rtnl_get_link_by_index(Rtnl *r, int ifindex, RtnlLink *ret);
/* The index of the link named ifname (> 0); -ENODEV if there is none.
 * Cheaper than rtnl_get_link(), which makes the kernel settle the link's
 * pending state changes first. */
int rtnl_ifindex(Rtnl *r, const char *ifname);

typedef enum RtnlLinkKind {
        RTNL_LINK_VETH,
        RTNL_LINK_BRIDGE,
        RTNL_LINK_MACVLAN,
        RTNL_LINK_VLAN,                 /* 802.1Q/802.1ad (module 8021q) */
        RTNL_LINK_DUMMY,
        RTNL_LINK_WIREGUARD,            /* the link only: keys and peers are generic netlink */
        _RTNL_LINK_KIND_MAX,
} RtnlLinkKind;

/* "veth", "bridge", ...: the kernel's IFLA_INFO_KIND; NULL if unknown. */
const char *rtnl_kind_to_string(RtnlLinkKind k);

/* A link to create. Zero means "the kernel's default" for every field. */
typedef struct RtnlLinkSpec {
        RtnlLinkKind kind;
        const char *name;               /* required */
        bool has_hwaddr;
        uint8_t hwaddr[RTNL_HWADDR_LEN];
        uint32_t mtu;
        int master;                     /* a bridge's ifindex to make it a port of */
        bool up;                        /* created up (IFF_UP) */
        const char *alias;              /* IFLA_IFALIAS, set by a second request: the
                                         * kernel ignores it on creation */
        int link;                       /* VLAN, macvlan: the parent's ifindex (required) */
        uint16_t vlan_id;               /* VLAN: 1..4094 */
        uint16_t vlan_protocol;         /* VLAN: 0 (802.1Q), ETH_P_8021Q or ETH_P_8021AD */
        uint32_t macvlan_mode;          /* macvlan: MACVLAN_MODE_*; 0: the kernel's (vepa) */
        bool has_vlan_filtering;        /* bridge: set IFLA_BR_VLAN_FILTERING ... */
        bool vlan_filtering;            /* ... to this */
        const char *peer;               /* veth: the peer's name (required) */
        const Rtnl *peer_netns;         /* veth: create the peer in that connection's
                                         * namespace; NULL: here */
} RtnlLinkSpec;

/* RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL: -EEXIST when the name is taken,
 * -EOPNOTSUPP when the kernel lacks the kind. Then, with an alias, one
 * RTM_NEWLINK setting it (by name). */
int rtnl_create_link(Rtnl *r, const RtnlLinkSpec *spec);
/* RTM_DELLINK; -ENODEV if there is none. A veth takes its peer along. */
int rtnl_delete_link(Rtnl *r, int ifindex);

typedef enum RtnlAdmin {
        RTNL_ADMIN_KEEP,
        RTNL_ADMIN_UP,
        RTNL_ADMIN_DOWN,
} RtnlAdmin;

/* RtnlLinkChange.master: take the link out of its bridge. */
#define RTNL_NO_MASTER (-1)

/* What rtnl_set_link() changes; zero fields are left as they are. */
typedef struct RtnlLinkChange {
        const char *name;               /* rename (older kernels rename only links that are down) */
        bool has_hwaddr;
        uint8_t hwaddr[RTNL_HWADDR_LEN];
        uint32_t mtu;
        RtnlAdmin admin;                /* up or down */
        int master;                     /* a bridge's ifindex, or RTNL_NO_MASTER */
        const char *alias;              /* "" removes it */
} RtnlLinkChange;

/* One RTM_NEWLINK; the kernel applies MTU, address, name, alias and master
 * before the up/down flag. */
int rtnl_set_link(Rtnl *r, int ifindex, const RtnlLinkChange *change);
/* RTM_NEWLINK with IFLA_NET_NS_FD: moves the link into the namespace of
 * `to` (the kernel takes it down on the way). -EEXIST when `to` has a link
 * of that name, -EINVAL for a link that cannot move (loopback, a
 * bridge). */
int rtnl_move_link(Rtnl *r, int ifindex, const Rtnl *to);

/* Transmit checksum offload (`ethtool -K IFNAME tx on|off`, the
 * ETHTOOL_GTXCSUM/ETHTOOL_STXCSUM ioctls on a socket of the connection's
 * namespace). get: 1 on, 0 off. set: 0, or -EOPNOTSUPP when the setting
 * did not take effect (a tap cannot turn it on). */
int rtnl_get_tx_checksum(Rtnl *r, const char *ifname);
int rtnl_set_tx_checksum(Rtnl *r, const char *ifname, bool on);

/* ---- VLANs of bridge ports ---------------------------------------------------- */

/* One bit per VLAN id (0..4095; 1..4094 are valid). */
#define RTNL_VLAN_SET_SIZE (4096 / 8)

/* The VLANs of a bridge port, or of a bridge device itself (its own port,
 * `bridge vlan ... self`), as a filtering bridge holds them. */
typedef struct RtnlBridgeVlans {
        int ifindex;                    /* the port, or the bridge */
        int master;                     /* IFLA_MASTER: the bridge (a bridge reports itself) */
        bool self;                      /* the bridge device itself */
        uint16_t pvid;                  /* the port's pvid (BRIDGE_VLAN_INFO_PVID); 0: none */
        uint8_t member[RTNL_VLAN_SET_SIZE];     /* the VLANs of the port */
        uint8_t untagged[RTNL_VLAN_SET_SIZE];   /* those leaving it untagged (BRIDGE_VLAN_INFO_UNTAGGED) */
} RtnlBridgeVlans;

static inline bool rtnl_vlan_set_has(const uint8_t set[RTNL_VLAN_SET_SIZE], unsigned vid) {
        return vid < 4096 && (set[vid / 8] & (1u << (vid % 8)));
}

static inline void rtnl_vlan_set_add(uint8_t set[RTNL_VLAN_SET_SIZE], unsigned vid) {
        if (vid < 4096)
                set[vid / 8] |= (uint8_t) (1u << (vid % 8));
}

/* RTM_GETLINK of family AF_BRIDGE with IFLA_EXT_MASK
 * RTEXT_FILTER_BRVLAN_COMPRESSED: one entry for every bridge port and
 * every bridge of the namespace; a kernel without bridge VLAN filtering
 * (CONFIG_BRIDGE_VLAN_FILTERING) reports them without VLANs. */
int rtnl_dump_bridge_vlans(Rtnl *r, RtnlBridgeVlans **ret, size_t *ret_n);

/* A change of the VLANs of a port, or of a bridge itself. */
typedef struct RtnlBridgeVlan {
        int ifindex;                    /* the port, or the bridge with self */
        bool self;                      /* the bridge's own VLANs: IFLA_BRIDGE_FLAGS BRIDGE_FLAGS_SELF */
        uint16_t vid;                   /* 1..4094 */
        uint16_t vid_end;               /* 0, or the last VLAN of the range vid..vid_end (not with a pvid) */
        uint16_t flags;                 /* add: BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED */
} RtnlBridgeVlan;

/* RTM_SETLINK / RTM_DELLINK of family AF_BRIDGE with IFLA_AF_SPEC (as
 * `bridge vlan add|del dev IFNAME vid VID [pvid] [untagged] [self]`).
 * Adding a VLAN the port has changes its flags: a pvid moves to it, a pvid
 * re-added without BRIDGE_VLAN_INFO_PVID is none any more. -EOPNOTSUPP
 * from a kernel without bridge VLAN filtering; -ENOENT on delete of a VLAN
 * the port does not have. */
int rtnl_add_bridge_vlan(Rtnl *r, const RtnlBridgeVlan *v);
int rtnl_delete_bridge_vlan(Rtnl *r, const RtnlBridgeVlan *v);

/* ---- addresses -------------------------------------------------------------- */

typedef struct RtnlAddr {
        int family;                     /* AF_INET, AF_INET6 */
        int ifindex;
        RtnlInAddr address;             /* IFA_LOCAL, or IFA_ADDRESS without one */
        unsigned prefixlen;
        bool has_peer;                  /* a point-to-point peer (IFA_ADDRESS != IFA_LOCAL) */
        RtnlInAddr peer;
        bool has_broadcast;             /* IPv4: IFA_BROADCAST */
        struct in_addr broadcast;
        uint32_t flags;                 /* IFA_F_* (IFA_FLAGS, else ifa_flags) */
        uint8_t scope;                  /* RT_SCOPE_*: 0 universe, 253 link, 254 host */
        uint8_t protocol;               /* IFA_PROTO: the ownership mark, 0 if none */
} RtnlAddr;

/* family: AF_INET, AF_INET6 or AF_UNSPEC (both). */
int rtnl_dump_addresses(Rtnl *r, int family, RtnlAddr **ret, size_t *ret_n);
/* RTM_NEWADDR with NLM_F_CREATE|NLM_F_EXCL (-EEXIST if the link has it)
 * and RTM_DELADDR (-EADDRNOTAVAIL if not). Sent: family, ifindex, address,
 * prefixlen, peer, broadcast, flags, scope and protocol (when not 0). */
int rtnl_add_address(Rtnl *r, const RtnlAddr *a);
int rtnl_delete_address(Rtnl *r, const RtnlAddr *a);

/* The broadcast address `ip addr add ... brd +` gives an IPv4 address:
 * has_broadcast set for prefixes up to /30. */
void rtnl_address_set_broadcast(RtnlAddr *a);

/* ---- routes ------------------------------------------------------------------- */

typedef struct RtnlRoute {
        int family;                     /* AF_INET, AF_INET6 */
        uint32_t table;                 /* RTA_TABLE; 0 on add: main (254) */
        RtnlInAddr dst;                 /* with dst_len 0: the default route */
        unsigned dst_len;
        bool has_gateway;
        RtnlInAddr gateway;             /* RTA_GATEWAY, same family */
        bool has_prefsrc;
        RtnlInAddr prefsrc;             /* RTA_PREFSRC */
        int oif;                        /* RTA_OIF; 0 none */
        uint32_t priority;              /* RTA_PRIORITY, the metric */
        uint8_t protocol;               /* RTPROT_*, or an ownership mark */
        uint8_t scope;                  /* RT_SCOPE_*; 0: universe */
        uint8_t type;                   /* RTN_*: RTN_UNICAST (1), RTN_BLACKHOLE (6),
                                         * RTN_UNREACHABLE (7), RTN_PROHIBIT (8), RTN_LOCAL, ... */
        uint32_t flags;                 /* rtm_flags: RTNH_F_ONLINK, ... */
        bool multipath;                 /* dump: more than one next hop (RTA_MULTIPATH); the
                                         * gateway and oif fields hold none of them */
} RtnlRoute;

/* Every route of every table (main, local, others) of a family: AF_INET,
 * AF_INET6 or AF_UNSPEC (both); cached clones are left out. */
int rtnl_dump_routes(Rtnl *r, int family, RtnlRoute **ret, size_t *ret_n);
/* RTM_NEWROUTE with NLM_F_CREATE|NLM_F_EXCL (add: -EEXIST when the table
 * has a route to that destination with that metric) or
 * NLM_F_CREATE|NLM_F_REPLACE (replace), and RTM_DELROUTE (-ESRCH if there
 * is no such route). type 0 is sent as RTN_UNICAST. On delete, the kernel
 * matches the fields that are set: dst/dst_len and table always, protocol,
 * type, gateway, oif and priority when not 0 (priority 0 matches any
 * metric, as with `ip route del`); the scope is not compared. */
int rtnl_add_route(Rtnl *r, const RtnlRoute *route);
int rtnl_replace_route(Rtnl *r, const RtnlRoute *route);
int rtnl_delete_route(Rtnl *r, const RtnlRoute *route);

/* ---- rules ---------------------------------------------------------------------- */

typedef struct RtnlRule {
        int family;                     /* AF_INET, AF_INET6 */
        uint32_t priority;              /* FRA_PRIORITY; add: 0 lets the kernel choose */
        RtnlInAddr src;                 /* from, with src_len > 0 */
        unsigned src_len;
        RtnlInAddr dst;                 /* to, with dst_len > 0 */
        unsigned dst_len;
        char iif[RTNL_IFNAME_SIZE];     /* FRA_IIFNAME; "" any */
        char oif[RTNL_IFNAME_SIZE];     /* FRA_OIFNAME; "" any */
        bool has_fwmark;
        uint32_t fwmark;                /* FRA_FWMARK ... */
        uint32_t fwmask;                /* ... and FRA_FWMASK; 0 on add: 0xffffffff */
        uint32_t table;                 /* FRA_TABLE */
        uint8_t protocol;               /* FRA_PROTOCOL: the ownership mark */
        uint8_t action;                 /* FR_ACT_*: 1 table (FR_ACT_TO_TBL), 6 blackhole,
                                         * 7 unreachable, 8 prohibit; 0 on add: 1 */
        uint32_t flags;                 /* FIB_RULE_INVERT ("not") */
} RtnlRule;

int rtnl_dump_rules(Rtnl *r, int family, RtnlRule **ret, size_t *ret_n);
/* RTM_NEWRULE (with NLM_F_EXCL: -EEXIST for an identical rule) and
 * RTM_DELRULE (-ENOENT if there is none). The kernel matches a delete on
 * the fields that are set. */
int rtnl_add_rule(Rtnl *r, const RtnlRule *rule);
int rtnl_delete_rule(Rtnl *r, const RtnlRule *rule);

/* ---- helpers -------------------------------------------------------------------- */

/* True if s is usable as an interface name (1..15 bytes, no '/', ':' or
 * white space, not "." or ".."). */
bool rtnl_ifname_valid(const char *s);

/* A libnl error code (NLE_*, either sign) as a negative errno; 0 stays 0. */
int rtnl_nl_errno(int nle);
