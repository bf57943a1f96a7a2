/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Socket networking's interface inside a container: the comparisons and
 * the primitives of agent/lib/rtnl that make it what the state says (see
 * lxc-link.h and docs/socket-networking.md). */
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>

#include "lxc-link.h"
#include "macro.h"

static in_addr_t ipv4_netmask(unsigned prefixlen) {
        return prefixlen == 0 ? 0 : htonl(UINT32_MAX << (32 - prefixlen));
}

static bool want_valid(const LxcLinkWant *w) {
        return w && (!w->name || rtnl_ifname_valid(w->name)) && (!w->has_ipv4 || w->prefixlen <= 32);
}

/* ---- what the container has ------------------------------------------------ */

static bool is_want_address(const RtnlAddr *a, int ifindex, const LxcLinkWant *w) {
        return a->family == AF_INET && a->ifindex == ifindex && a->prefixlen == w->prefixlen &&
                a->address.in.s_addr == w->ipv4.s_addr;
}

/* The route the kernel adds for an address's subnet (prefixes 1..31). */
static bool is_subnet_route(const RtnlRoute *rt, int ifindex, const LxcLinkWant *w) {
        in_addr_t mask = ipv4_netmask(w->prefixlen);

        return rt->family == AF_INET && rt->table == RT_TABLE_MAIN && rt->oif == ifindex && !rt->multipath &&
                rt->dst_len == w->prefixlen && rt->dst.in.s_addr == (w->ipv4.s_addr & mask);
}

/* The metric-0 IPv4 default route of the main table goes via the gateway
 * on ifindex. */
static bool is_default_route(const RtnlRoute *rt, int ifindex, struct in_addr gateway) {
        return rt->family == AF_INET && rt->table == RT_TABLE_MAIN && rt->type == RTN_UNICAST &&
                rt->priority == 0 && rt->dst_len == 0 && !rt->multipath && rt->oif == ifindex &&
                rt->has_gateway && rt->gateway.in.s_addr == gateway.s_addr;
}

int lxc_link_check(Rtnl *inside, int ifindex, const LxcLinkWant *w, bool *ret_ipv4_ok, bool *ret_gateway_ok) {
        _cleanup_(freep) RtnlAddr *addrs = NULL;
        _cleanup_(freep) RtnlRoute *routes = NULL;
        bool address = false, subnet, gateway = false;
        size_t n_addrs = 0, n_routes = 0;
        int r;

        if (!inside || ifindex <= 0 || !want_valid(w) || !ret_ipv4_ok || !ret_gateway_ok)
                return -EINVAL;
        if (w->has_ipv4) {
                r = rtnl_dump_addresses(inside, AF_INET, &addrs, &n_addrs);
                if (r < 0)
                        return r;
        }
        if (w->has_ipv4 || w->has_gateway) {
                r = rtnl_dump_routes(inside, AF_INET, &routes, &n_routes);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n_addrs; i++)
                address |= is_want_address(&addrs[i], ifindex, w);
        /* an address with a prefix of 1..31 comes with its subnet's route */
        subnet = w->prefixlen == 0 || w->prefixlen == 32;
        for (size_t i = 0; i < n_routes; i++) {
                subnet |= w->has_ipv4 && is_subnet_route(&routes[i], ifindex, w);
                gateway |= w->has_gateway && is_default_route(&routes[i], ifindex, w->gateway);
        }
        *ret_ipv4_ok = !w->has_ipv4 || (address && subnet);
        *ret_gateway_ok = !w->has_gateway || gateway;
        return 0;
}

/* ---- making it so -------------------------------------------------------------- */

/* Name, MAC address, MTU and up. Returns 1 if something changed. */
static int link_sync(Rtnl *inside, const RtnlLink *link, const LxcLinkWant *w) {
        RtnlLinkChange change = { .admin = RTNL_ADMIN_UP };
        int r;

        if (w->name && !streq(link->name, w->name))
                change.name = w->name;
        if (w->has_hwaddr && (!link->has_hwaddr || memcmp(link->hwaddr, w->hwaddr, RTNL_HWADDR_LEN) != 0)) {
                change.has_hwaddr = true;
                memcpy(change.hwaddr, w->hwaddr, RTNL_HWADDR_LEN);
        }
        if (w->mtu > 0 && link->mtu != w->mtu)
                change.mtu = w->mtu;

        if (link->up && !change.name && !change.has_hwaddr && change.mtu == 0)
                return 0;

        /* Older kernels rename only links that are down, and many drivers
         * change the MAC address only then. */
        if (link->up && (change.name || change.has_hwaddr)) {
                r = rtnl_set_link(inside, link->ifindex, &(RtnlLinkChange) { .admin = RTNL_ADMIN_DOWN });
                if (r < 0)
                        return r;
        }

        /* The kernel applies name, address and MTU before the flags. */
        r = rtnl_set_link(inside, link->ifindex, &change);
        return r < 0 ? r : 1;
}

/* Adds the address (and with exclusive deletes op-dbus's other IPv4
 * addresses of the link first: deleting a primary address also deletes
 * the secondaries of its subnet, which the new one may be). Returns 1 if
 * something changed. */
static int addr_sync(Rtnl *inside, int ifindex, const LxcLinkWant *w) {
        _cleanup_(freep) RtnlAddr *addrs = NULL;
        RtnlAddr want = {
                .family = AF_INET,
                .ifindex = ifindex,
                .address.in = w->ipv4,
                .prefixlen = w->prefixlen,
                .protocol = RTNL_PROTO_OPDBUS,
        };
        bool found = false;
        int changed = 0, r;
        size_t n = 0;

        r = rtnl_dump_addresses(inside, AF_INET, &addrs, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                const RtnlAddr *a = &addrs[i];

                if (is_want_address(a, ifindex, w)) {
                        found = true;
                        continue;
                }
                if (!w->exclusive || a->ifindex != ifindex || a->protocol != RTNL_PROTO_OPDBUS)
                        continue;
                r = rtnl_delete_address(inside, a);
                if (r < 0 && r != -EADDRNOTAVAIL) /* gone with its primary */
                        return r;
                changed = 1;
        }

        if (found && !changed)
                return 0;
        rtnl_address_set_broadcast(&want);
        r = rtnl_add_address(inside, &want);
        if (r == -EEXIST)
                return changed;
        return r < 0 ? r : 1;
}

/* Returns 1 if the default route was replaced, 0 if it was already so. */
static int route_sync(Rtnl *inside, int ifindex, struct in_addr gateway) {
        _cleanup_(freep) RtnlRoute *routes = NULL;
        size_t n = 0;
        int r;

        r = rtnl_dump_routes(inside, AF_INET, &routes, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (is_default_route(&routes[i], ifindex, gateway))
                        return 0;

        r = rtnl_replace_route(inside, &(RtnlRoute) {
                .family = AF_INET,
                .table = RT_TABLE_MAIN,
                .has_gateway = true,
                .gateway.in = gateway,
                .oif = ifindex,
                .protocol = RTNL_PROTO_OPDBUS,
                .type = RTN_UNICAST,
        });
        return r < 0 ? r : 1;
}

int lxc_link_configure(Rtnl *inside, const char *ifname, const LxcLinkWant *w) {
        RtnlLink link;
        int changed, r;

        if (!inside || !rtnl_ifname_valid(ifname) || !want_valid(w))
                return -EINVAL;
        r = rtnl_get_link(inside, ifname, &link);
        if (r == -ENODEV && w->name)
                r = rtnl_get_link(inside, w->name, &link);
        if (r < 0)
                return r;

        changed = link_sync(inside, &link, w);
        if (changed < 0)
                return changed;
        if (w->has_ipv4) {
                r = addr_sync(inside, link.ifindex, w);
                if (r < 0)
                        return r;
                changed |= r;
        }
        if (w->has_gateway) {
                r = route_sync(inside, link.ifindex, w->gateway);
                if (r < 0)
                        return r;
                changed |= r;
        }
        return changed;
}

/* ---- moving and deleting ------------------------------------------------------- */

int lxc_link_move(Rtnl *here, Rtnl *to, const char *ifname) {
        RtnlLink link;
        int r;

        if (!here || !to || !rtnl_ifname_valid(ifname))
                return -EINVAL;
        r = rtnl_same_netns(here, to);
        if (r != 0)
                return r < 0 ? r : -EINVAL;

        r = rtnl_get_link(here, ifname, &link);
        if (r == -ENODEV) {
                r = rtnl_get_link(to, ifname, &link);
                return r == -ENODEV ? r : r < 0 ? r : 0;
        }
        if (r < 0)
                return r;
        r = rtnl_move_link(here, link.ifindex, to);
        return r < 0 ? r : 1;
}

int lxc_link_delete(Rtnl *r, const char *ifname) {
        RtnlLink link;
        int k;

        k = rtnl_get_link(r, ifname, &link);
        if (k == -ENODEV)
                return 0;
        if (k < 0)
                return k;
        k = rtnl_delete_link(r, link.ifindex);
        if (k == -ENODEV)
                return 0;   /* went away meanwhile */
        return k < 0 ? k : 1;
}

/* ---- transmit checksum offload ------------------------------------------------- */

int lxc_link_get_tx_checksum(pid_t pid, const char *ifname) {
        _cleanup_(rtnl_closep) Rtnl *r = NULL;
        int k;

        if (!rtnl_ifname_valid(ifname) || pid < 0)
                return -EINVAL;
        k = rtnl_open_pid(pid, &r);
        return k < 0 ? k : rtnl_get_tx_checksum(r, ifname);
}

int lxc_link_set_tx_checksum(pid_t pid, const char *ifname, bool on) {
        _cleanup_(rtnl_closep) Rtnl *r = NULL;
        int k;

        if (!rtnl_ifname_valid(ifname) || pid < 0)
                return -EINVAL;
        k = rtnl_open_pid(pid, &r);
        if (k >= 0)
                k = rtnl_get_tx_checksum(r, ifname);
        if (k < 0 || k == on)
                return k < 0 ? k : 0;
        k = rtnl_set_tx_checksum(r, ifname, on);
        return k < 0 ? k : 1;
}
