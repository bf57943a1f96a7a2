/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Command line front end of agent/lib/rtnl for the integration tests
 * (tests/integration/test_rtnl.py): one dump or one primitive per run.
 * Not installed.
 *
 *   rtnl-driver dump NETNS links|addresses|routes|rules [inet|inet6]
 *                                               prints a JSON array
 *   rtnl-driver link-add NETNS KIND NAME [OPTION VALUE]... [up]
 *       KIND veth|bridge|macvlan|vlan|dummy|wireguard; options: peer NAME,
 *       peer-netns NETNS, link IFNAME, id N, protocol 802.1q|802.1ad,
 *       mode private|vepa|bridge|passthru|source, vlan_filtering 0|1,
 *       address MAC, mtu N, master IFNAME, alias TEXT
 *   rtnl-driver link-set NETNS IFNAME [name N] [address MAC] [mtu N]
 *       [up|down] [master IFNAME|nomaster] [alias TEXT]
 *   rtnl-driver link-del NETNS IFNAME
 *   rtnl-driver link-move NETNS IFNAME TO-NETNS
 *   rtnl-driver addr-add|addr-del NETNS IFNAME ADDR/LEN [peer ADDR]
 *       [brd +] [proto N] [nodad]
 *   rtnl-driver route-add|route-replace|route-del NETNS DST/LEN|default
 *       [inet6] [via GW] [dev IFNAME] [table N] [metric N] [proto N]
 *       [type unicast|blackhole|unreachable|prohibit] [scope N] [src ADDR]
 *   rtnl-driver rule-add|rule-del NETNS [inet6] [from P/LEN] [to P/LEN]
 *       [iif N] [oif N] [fwmark M[/MASK]] [table N] [priority N] [proto N]
 *       [action table|blackhole|unreachable|prohibit] [not]
 *   rtnl-driver same NETNS NETNS                prints "yes" or "no"
 *   rtnl-driver txcsum NETNS IFNAME [on|off]    prints "on" or "off"
 *
 * NETNS: "-" (the driver's own), a process id, a namespace file
 * (/run/netns/NAME), or fd:PATH (the file opened, then passed as a file
 * descriptor). A change prints "ok" and the connection's counters
 * ("writes=N dumps=N"). On failure the driver prints "error: <errno name>:
 * <message>" on stderr and exits 1; usage errors exit 2. */

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/ether.h>
#include <stdio.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <json-c/json.h>

#include "macro.h"
#include "rtnl.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

/* ---- arguments ------------------------------------------------------------------ */

static int open_netns(const char *arg, Rtnl **ret) {
        _cleanup_(closep) int fd = -EBADF;
        char *end;
        long pid;

        if (streq(arg, "-"))
                return rtnl_open(ret);
        if (startswith(arg, "fd:")) {
                fd = open(arg + 3, O_RDONLY | O_CLOEXEC);
                return fd < 0 ? negative_errno() : rtnl_open_netns_fd(fd, ret);
        }
        if (arg[0] == '/')
                return rtnl_open_netns_path(arg, ret);
        errno = 0;
        pid = strtol(arg, &end, 10);
        if (errno != 0 || end == arg || *end || pid < 0 || pid > INT32_MAX)
                return -EDOM;
        return rtnl_open_pid((pid_t) pid, ret);
}

static int parse_u32(const char *s, uint32_t *ret) {
        unsigned long long v;
        char *end;

        errno = 0;
        v = strtoull(s, &end, 0);
        if (errno != 0 || end == s || *end || v > UINT32_MAX)
                return -EDOM;
        *ret = (uint32_t) v;
        return 0;
}

/* "ADDR/LEN" (or "ADDR": the full length) of family (AF_UNSPEC: either). */
static int parse_prefix(const char *s, int *family, RtnlInAddr *ret, unsigned *ret_len) {
        char buf[INET6_ADDRSTRLEN + 5], *slash;
        uint32_t len = UINT32_MAX;

        if (strlen(s) >= sizeof buf)
                return -EDOM;
        strcpy(buf, s);
        slash = strchr(buf, '/');
        if (slash) {
                *slash = '\0';
                if (parse_u32(slash + 1, &len) < 0)
                        return -EDOM;
        }
        if (*family != AF_INET6 && inet_pton(AF_INET, buf, &ret->in) == 1)
                *family = AF_INET;
        else if (*family != AF_INET && inet_pton(AF_INET6, buf, &ret->in6) == 1)
                *family = AF_INET6;
        else
                return -EDOM;
        *ret_len = len != UINT32_MAX ? len : *family == AF_INET ? 32 : 128;
        return 0;
}

static int parse_hwaddr(const char *s, uint8_t ret[static RTNL_HWADDR_LEN]) {
        struct ether_addr e;

        if (!ether_aton_r(s, &e))
                return -EDOM;
        memcpy(ret, e.ether_addr_octet, RTNL_HWADDR_LEN);
        return 0;
}

static int ifindex_of(Rtnl *r, const char *name, int *ret) {
        RtnlLink link;
        int k = rtnl_get_link(r, name, &link);

        if (k >= 0)
                *ret = link.ifindex;
        return k;
}

/* Option pairs after argv[first]: name value, or the flags listed in
 * flags (which take no value). */
typedef int (*OptionFn)(const char *name, const char *value, void *userdata);

static int parse_options(int argc, char **argv, int first, const char *const *flags, OptionFn fn, void *userdata) {
        for (int i = first; i < argc; i++) {
                bool flag = false;
                int k;

                for (const char *const *f = flags; f && *f; f++)
                        flag |= streq(argv[i], *f);
                if (!flag && i + 1 >= argc)
                        return -EDOM;
                k = fn(argv[i], flag ? NULL : argv[i + 1], userdata);
                if (k < 0)
                        return k;
                i += !flag;
        }
        return 0;
}

/* ---- dumps as JSON -------------------------------------------------------------------- */

static const char *family_name(int family) {
        return family == AF_INET ? "inet" : "inet6";
}

static json_object *ip_json(int family, const RtnlInAddr *a) {
        char buf[INET6_ADDRSTRLEN];

        return json_object_new_string(inet_ntop(family, a, buf, sizeof buf) ?: "?");
}

static void add(json_object *o, const char *key, json_object *v) {
        json_object_object_add(o, key, v);
}

static json_object *link_json(const RtnlLink *l) {
        json_object *o = json_object_new_object();
        char mac[18];

        add(o, "ifindex", json_object_new_int(l->ifindex));
        add(o, "ifname", json_object_new_string(l->name));
        add(o, "kind", json_object_new_string(l->kind));
        if (l->has_hwaddr) {
                snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", l->hwaddr[0], l->hwaddr[1],
                         l->hwaddr[2], l->hwaddr[3], l->hwaddr[4], l->hwaddr[5]);
                add(o, "address", json_object_new_string(mac));
        }
        add(o, "mtu", json_object_new_int64(l->mtu));
        add(o, "flags", json_object_new_int64(l->flags));
        add(o, "up", json_object_new_boolean(l->up));
        add(o, "lower_up", json_object_new_boolean(l->lower_up));
        add(o, "master", json_object_new_int(l->master));
        add(o, "link", json_object_new_int(l->link));
        add(o, "link_netnsid", json_object_new_int(l->link_netnsid));
        add(o, "vlan_id", json_object_new_int(l->vlan_id));
        add(o, "vlan_protocol", json_object_new_int(l->vlan_protocol));
        add(o, "macvlan_mode", json_object_new_int64(l->macvlan_mode));
        add(o, "alias", json_object_new_string(l->alias));
        return o;
}

static json_object *addr_json(const RtnlAddr *a) {
        json_object *o = json_object_new_object();

        add(o, "family", json_object_new_string(family_name(a->family)));
        add(o, "ifindex", json_object_new_int(a->ifindex));
        add(o, "local", ip_json(a->family, &a->address));
        add(o, "prefixlen", json_object_new_int(a->prefixlen));
        if (a->has_peer)
                add(o, "peer", ip_json(a->family, &a->peer));
        if (a->has_broadcast)
                add(o, "broadcast", ip_json(AF_INET, &(RtnlInAddr) { .in = a->broadcast }));
        add(o, "flags", json_object_new_int64(a->flags));
        add(o, "scope", json_object_new_int(a->scope));
        add(o, "protocol", json_object_new_int(a->protocol));
        return o;
}

static json_object *route_json(const RtnlRoute *rt) {
        json_object *o = json_object_new_object();

        add(o, "family", json_object_new_string(family_name(rt->family)));
        add(o, "table", json_object_new_int64(rt->table));
        add(o, "dst", ip_json(rt->family, &rt->dst));
        add(o, "dst_len", json_object_new_int(rt->dst_len));
        if (rt->has_gateway)
                add(o, "gateway", ip_json(rt->family, &rt->gateway));
        if (rt->has_prefsrc)
                add(o, "prefsrc", ip_json(rt->family, &rt->prefsrc));
        add(o, "oif", json_object_new_int(rt->oif));
        add(o, "metric", json_object_new_int64(rt->priority));
        add(o, "protocol", json_object_new_int(rt->protocol));
        add(o, "scope", json_object_new_int(rt->scope));
        add(o, "type", json_object_new_int(rt->type));
        add(o, "flags", json_object_new_int64(rt->flags));
        add(o, "multipath", json_object_new_boolean(rt->multipath));
        return o;
}

static json_object *rule_json(const RtnlRule *rule) {
        json_object *o = json_object_new_object();

        add(o, "family", json_object_new_string(family_name(rule->family)));
        add(o, "priority", json_object_new_int64(rule->priority));
        add(o, "src", ip_json(rule->family, &rule->src));
        add(o, "src_len", json_object_new_int(rule->src_len));
        add(o, "dst", ip_json(rule->family, &rule->dst));
        add(o, "dst_len", json_object_new_int(rule->dst_len));
        add(o, "iif", json_object_new_string(rule->iif));
        add(o, "oif", json_object_new_string(rule->oif));
        if (rule->has_fwmark) {
                add(o, "fwmark", json_object_new_int64(rule->fwmark));
                add(o, "fwmask", json_object_new_int64(rule->fwmask));
        }
        add(o, "table", json_object_new_int64(rule->table));
        add(o, "protocol", json_object_new_int(rule->protocol));
        add(o, "action", json_object_new_int(rule->action));
        add(o, "flags", json_object_new_int64(rule->flags));
        return o;
}

static int dump(Rtnl *r, const char *what, const char *family_arg) {
        _cleanup_(json_object_putp) json_object *array = json_object_new_array();
        int family = !family_arg ? AF_UNSPEC : streq(family_arg, "inet") ? AF_INET :
                streq(family_arg, "inet6") ? AF_INET6 : -1;
        size_t n = 0;
        void *items = NULL;
        int k;

        if (family < 0 || !array)
                return family < 0 ? -EDOM : -ENOMEM;
        if (streq(what, "links"))
                k = rtnl_dump_links(r, (RtnlLink **) &items, &n);
        else if (streq(what, "addresses"))
                k = rtnl_dump_addresses(r, family, (RtnlAddr **) &items, &n);
        else if (streq(what, "routes"))
                k = rtnl_dump_routes(r, family, (RtnlRoute **) &items, &n);
        else if (streq(what, "rules"))
                k = rtnl_dump_rules(r, family, (RtnlRule **) &items, &n);
        else
                return -EDOM;
        if (k < 0)
                return k;
        for (size_t i = 0; i < n; i++)
                json_object_array_add(array,
                        streq(what, "links") ? link_json((RtnlLink *) items + i) :
                        streq(what, "addresses") ? addr_json((RtnlAddr *) items + i) :
                        streq(what, "routes") ? route_json((RtnlRoute *) items + i) :
                        rule_json((RtnlRule *) items + i));
        free(items);
        puts(json_object_to_json_string_ext(array, JSON_C_TO_STRING_PLAIN));
        return 0;
}

/* ---- links -------------------------------------------------------------------------------- */

typedef struct LinkArgs {
        Rtnl *r;
        RtnlLinkSpec spec;
        RtnlLinkChange change;
        Rtnl *peer_netns;
} LinkArgs;

static int link_kind(const char *s, RtnlLinkKind *ret) {
        for (RtnlLinkKind k = 0; k < _RTNL_LINK_KIND_MAX; k++)
                if (streq(s, rtnl_kind_to_string(k))) {
                        *ret = k;
                        return 0;
                }
        return -EDOM;
}

static int macvlan_mode(const char *s, uint32_t *ret) {
        static const char *const modes[] = { "private", "vepa", "bridge", "passthru", "source" };

        for (size_t i = 0; i < ELEMENTSOF(modes); i++)
                if (streq(s, modes[i])) {
                        *ret = 1u << i;
                        return 0;
                }
        return -EDOM;
}

static int link_add_option(const char *name, const char *value, void *userdata) {
        LinkArgs *a = userdata;
        RtnlLinkSpec *s = &a->spec;
        uint32_t v;

        if (streq(name, "up"))
                s->up = true;
        else if (streq(name, "peer"))
                s->peer = value;
        else if (streq(name, "peer-netns")) {
                int k = open_netns(value, &a->peer_netns);

                if (k < 0)
                        return k;
                s->peer_netns = a->peer_netns;
        } else if (streq(name, "link"))
                return ifindex_of(a->r, value, &s->link);
        else if (streq(name, "master"))
                return ifindex_of(a->r, value, &s->master);
        else if (streq(name, "id") && parse_u32(value, &v) >= 0 && v <= UINT16_MAX)
                s->vlan_id = (uint16_t) v;
        else if (streq(name, "protocol") && (streq(value, "802.1q") || streq(value, "802.1ad")))
                s->vlan_protocol = streq(value, "802.1q") ? ETH_P_8021Q : ETH_P_8021AD;
        else if (streq(name, "mode"))
                return macvlan_mode(value, &s->macvlan_mode);
        else if (streq(name, "vlan_filtering") && (streq(value, "0") || streq(value, "1"))) {
                s->has_vlan_filtering = true;
                s->vlan_filtering = streq(value, "1");
        } else if (streq(name, "address")) {
                s->has_hwaddr = true;
                return parse_hwaddr(value, s->hwaddr);
        } else if (streq(name, "mtu"))
                return parse_u32(value, &s->mtu);
        else if (streq(name, "alias"))
                s->alias = value;
        else
                return -EDOM;
        return 0;
}

static int link_set_option(const char *name, const char *value, void *userdata) {
        LinkArgs *a = userdata;
        RtnlLinkChange *c = &a->change;

        if (streq(name, "up") || streq(name, "down"))
                c->admin = streq(name, "up") ? RTNL_ADMIN_UP : RTNL_ADMIN_DOWN;
        else if (streq(name, "nomaster"))
                c->master = RTNL_NO_MASTER;
        else if (streq(name, "master"))
                return ifindex_of(a->r, value, &c->master);
        else if (streq(name, "name"))
                c->name = value;
        else if (streq(name, "address")) {
                c->has_hwaddr = true;
                return parse_hwaddr(value, c->hwaddr);
        } else if (streq(name, "mtu"))
                return parse_u32(value, &c->mtu);
        else if (streq(name, "alias"))
                c->alias = value;
        else
                return -EDOM;
        return 0;
}

static int link_verb(Rtnl *r, const char *verb, int argc, char **argv) {
        static const char *const add_flags[] = { "up", NULL }, *const set_flags[] = { "up", "down", "nomaster", NULL };
        _cleanup_(rtnl_closep) Rtnl *to = NULL;
        LinkArgs a = { .r = r };
        int ifindex, k;

        if (streq(verb, "link-add")) {
                if (argc < 5 || link_kind(argv[3], &a.spec.kind) < 0)
                        return -EDOM;
                a.spec.name = argv[4];
                k = parse_options(argc, argv, 5, add_flags, link_add_option, &a);
                if (k >= 0)
                        k = rtnl_create_link(r, &a.spec);
                rtnl_close(a.peer_netns);
                return k;
        }
        if (argc < 4)
                return -EDOM;
        if (streq(verb, "link-set")) {
                k = parse_options(argc, argv, 4, set_flags, link_set_option, &a);
                if (k >= 0)
                        k = ifindex_of(r, argv[3], &ifindex);
                return k < 0 ? k : rtnl_set_link(r, ifindex, &a.change);
        }
        k = ifindex_of(r, argv[3], &ifindex);
        if (k < 0)
                return k;
        if (streq(verb, "link-del") && argc == 4)
                return rtnl_delete_link(r, ifindex);
        if (streq(verb, "link-move") && argc == 5) {
                k = open_netns(argv[4], &to);
                return k < 0 ? k : rtnl_move_link(r, ifindex, to);
        }
        return -EDOM;
}

/* ---- addresses, routes, rules ---------------------------------------------------------------- */

typedef struct RouteArgs {
        Rtnl *r;
        RtnlAddr addr;
        RtnlRoute route;
        RtnlRule rule;
} RouteArgs;

static int addr_option(const char *name, const char *value, void *userdata) {
        RouteArgs *a = userdata;
        uint32_t v;
        unsigned len;

        if (streq(name, "nodad"))
                a->addr.flags |= IFA_F_NODAD;
        else if (streq(name, "brd") && streq(value, "+"))
                rtnl_address_set_broadcast(&a->addr);
        else if (streq(name, "peer")) {
                a->addr.has_peer = true;
                return parse_prefix(value, &a->addr.family, &a->addr.peer, &len);
        }
        else if (streq(name, "proto") && parse_u32(value, &v) >= 0 && v <= UINT8_MAX)
                a->addr.protocol = (uint8_t) v;
        else
                return -EDOM;
        return 0;
}

static int route_type(const char *s, uint8_t *ret) {
        static const struct { const char *name; uint8_t type; } types[] = {
                { "unicast", RTN_UNICAST }, { "blackhole", RTN_BLACKHOLE },
                { "unreachable", RTN_UNREACHABLE }, { "prohibit", RTN_PROHIBIT },
        };

        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                if (streq(s, types[i].name)) {
                        *ret = types[i].type;
                        return 0;
                }
        return -EDOM;
}

static int route_option(const char *name, const char *value, void *userdata) {
        RouteArgs *a = userdata;
        RtnlRoute *rt = &a->route;
        uint32_t v;
        unsigned len;

        if (streq(name, "inet6"))
                return 0;
        if (streq(name, "via")) {
                rt->has_gateway = true;
                return parse_prefix(value, &rt->family, &rt->gateway, &len);
        }
        if (streq(name, "src")) {
                rt->has_prefsrc = true;
                return parse_prefix(value, &rt->family, &rt->prefsrc, &len);
        }
        if (streq(name, "dev"))
                return ifindex_of(a->r, value, &rt->oif);
        if (streq(name, "type"))
                return route_type(value, &rt->type);
        if (parse_u32(value, &v) < 0)
                return -EDOM;
        if (streq(name, "table"))
                rt->table = v;
        else if (streq(name, "metric"))
                rt->priority = v;
        else if (streq(name, "proto") && v <= UINT8_MAX)
                rt->protocol = (uint8_t) v;
        else if (streq(name, "scope") && v <= UINT8_MAX)
                rt->scope = (uint8_t) v;
        else
                return -EDOM;
        return 0;
}

static int rule_option(const char *name, const char *value, void *userdata) {
        RouteArgs *a = userdata;
        RtnlRule *rule = &a->rule;
        static const char *const actions[] = {
                [FR_ACT_TO_TBL] = "table", [FR_ACT_BLACKHOLE] = "blackhole",
                [FR_ACT_UNREACHABLE] = "unreachable", [FR_ACT_PROHIBIT] = "prohibit",
        };
        uint32_t v;
        char *slash;

        if (streq(name, "inet6"))
                return 0;
        if (streq(name, "not")) {
                rule->flags |= FIB_RULE_INVERT;
                return 0;
        }
        if (streq(name, "from") || streq(name, "to"))
                return streq(name, "from") ? parse_prefix(value, &rule->family, &rule->src, &rule->src_len) :
                        parse_prefix(value, &rule->family, &rule->dst, &rule->dst_len);
        if (streq(name, "iif") || streq(name, "oif")) {
                if (strlen(value) >= RTNL_IFNAME_SIZE)
                        return -EDOM;
                strcpy(streq(name, "iif") ? rule->iif : rule->oif, value);
                return 0;
        }
        if (streq(name, "action")) {
                for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                        if (actions[i] && streq(value, actions[i])) {
                                rule->action = (uint8_t) i;
                                return 0;
                        }
                return -EDOM;
        }
        if (streq(name, "fwmark")) {
                char buf[32];

                if (strlen(value) >= sizeof buf)
                        return -EDOM;
                strcpy(buf, value);
                slash = strchr(buf, '/');
                if (slash)
                        *slash++ = '\0';
                rule->has_fwmark = true;
                return parse_u32(buf, &rule->fwmark) < 0 || (slash && parse_u32(slash, &rule->fwmask) < 0) ? -EDOM : 0;
        }
        if (parse_u32(value, &v) < 0)
                return -EDOM;
        if (streq(name, "table"))
                rule->table = v;
        else if (streq(name, "priority"))
                rule->priority = v;
        else if (streq(name, "proto") && v <= UINT8_MAX)
                rule->protocol = (uint8_t) v;
        else
                return -EDOM;
        return 0;
}

/* AF_INET6 if an argument list says "inet6", else AF_UNSPEC: the
 * addresses decide, or AF_INET when there are none. */
static int family_of(int argc, char **argv, int first) {
        for (int i = first; i < argc; i++)
                if (streq(argv[i], "inet6"))
                        return AF_INET6;
        return AF_UNSPEC;
}

static int route_verb(Rtnl *r, const char *verb, int argc, char **argv) {
        static const char *const addr_flags[] = { "nodad", NULL }, *const family_flags[] = { "inet6", "not", NULL };
        RouteArgs a = { .r = r };
        int k;

        if (startswith(verb, "addr-")) {
                if (argc < 5 || parse_prefix(argv[4], &a.addr.family, &a.addr.address, &a.addr.prefixlen) < 0)
                        return -EDOM;
                k = ifindex_of(r, argv[3], &a.addr.ifindex);
                if (k >= 0)
                        k = parse_options(argc, argv, 5, addr_flags, addr_option, &a);
                if (k < 0)
                        return k;
                return streq(verb, "addr-add") ? rtnl_add_address(r, &a.addr) :
                        streq(verb, "addr-del") ? rtnl_delete_address(r, &a.addr) : -EDOM;
        }
        if (startswith(verb, "route-")) {
                if (argc < 4)
                        return -EDOM;
                a.route.family = family_of(argc, argv, 3);
                if (!streq(argv[3], "default") &&
                    parse_prefix(argv[3], &a.route.family, &a.route.dst, &a.route.dst_len) < 0)
                        return -EDOM;
                k = parse_options(argc, argv, 4, family_flags, route_option, &a);
                if (k < 0)
                        return k;
                if (a.route.family == AF_UNSPEC)
                        a.route.family = AF_INET;
                return streq(verb, "route-add") ? rtnl_add_route(r, &a.route) :
                        streq(verb, "route-replace") ? rtnl_replace_route(r, &a.route) :
                        streq(verb, "route-del") ? rtnl_delete_route(r, &a.route) : -EDOM;
        }
        a.rule.family = family_of(argc, argv, 3);
        k = parse_options(argc, argv, 3, family_flags, rule_option, &a);
        if (k < 0)
                return k;
        if (a.rule.family == AF_UNSPEC)
                a.rule.family = AF_INET;
        return streq(verb, "rule-add") ? rtnl_add_rule(r, &a.rule) :
                streq(verb, "rule-del") ? rtnl_delete_rule(r, &a.rule) : -EDOM;
}

/* ---- main ---------------------------------------------------------------------------------------- */

static int run(int argc, char **argv) {
        _cleanup_(rtnl_closep) Rtnl *r = NULL, *other = NULL;
        const char *verb = argv[1];
        RtnlCounts counts;
        int k;

        if (argc < 3)
                return -EDOM;
        k = open_netns(argv[2], &r);
        if (k < 0)
                return k;
        if (streq(verb, "dump"))
                return argc == 4 || argc == 5 ? dump(r, argv[3], argc == 5 ? argv[4] : NULL) : -EDOM;
        if (streq(verb, "same") && argc == 4) {
                k = open_netns(argv[3], &other);
                if (k >= 0)
                        k = rtnl_same_netns(r, other);
                if (k >= 0)
                        puts(k > 0 ? "yes" : "no");
                return k;
        }
        if (streq(verb, "txcsum") && (argc == 4 || argc == 5)) {
                if (argc == 5 && !streq(argv[4], "on") && !streq(argv[4], "off"))
                        return -EDOM;
                k = argc == 5 ? rtnl_set_tx_checksum(r, argv[3], streq(argv[4], "on")) : 0;
                if (k >= 0)
                        k = rtnl_get_tx_checksum(r, argv[3]);
                if (k >= 0)
                        puts(k > 0 ? "on" : "off");
                return k;
        }
        if (startswith(verb, "link-"))
                k = link_verb(r, verb, argc, argv);
        else if (startswith(verb, "addr-") || startswith(verb, "route-") || startswith(verb, "rule-"))
                k = route_verb(r, verb, argc, argv);
        else
                return -EDOM;
        if (k < 0)
                return k;
        counts = rtnl_counts(r);
        printf("ok writes=%u dumps=%u\n", counts.writes, counts.dumps);
        return 0;
}

int main(int argc, char **argv) {
        int r;

        if (argc < 2) {
                fprintf(stderr, "usage: rtnl-driver dump|link-*|addr-*|route-*|rule-*|same|txcsum NETNS ARGS...\n");
                return 2;
        }
        r = run(argc, argv);
        if (r == -EDOM) {
                fprintf(stderr, "rtnl-driver: invalid arguments for '%s'\n", argv[1]);
                return 2;
        }
        if (r < 0) {
                fprintf(stderr, "error: %s: %s\n", strerrorname_np(-r) ?: "?", strerror(-r));
                return 1;
        }
        return 0;
}
