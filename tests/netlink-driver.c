/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Command line front end of socket networking's steps inside a container
 * (plugins/host/lxc/lxc-link.c, on agent/lib/rtnl) for the integration
 * tests (tests/integration/test_netlink.py). Not installed.
 *
 *   netlink-driver move IFNAME PID              prints "moved" or "unchanged"
 *   netlink-driver configure PID IFNAME NEWNAME MAC ADDR/PREFIX GATEWAY [MTU] [exclusive]
 *                                               "-" leaves a field unset;
 *                                               prints "changed" or "unchanged"
 *   netlink-driver find IFNAME PID              prints "caller", "target", "both" or "none"
 *   netlink-driver exists PID IFNAME            prints "yes" or "no"
 *   netlink-driver info PID IFNAME              prints key=value lines
 *   netlink-driver delete PID IFNAME            prints "deleted" or "unchanged"
 *   netlink-driver txcsum PID IFNAME            prints "on" or "off"
 *   netlink-driver txcsum PID IFNAME on|off     prints "changed" or "unchanged"
 *
 * "exclusive" deletes the link's other IPv4 addresses that carry op-dbus's
 * mark. With --sandbox first, the driver runs under the built-in seccomp
 * filter (tests/driver-sandbox.h), which has no setns and no clone: PID 0
 * only. PID 0 is the driver's own network namespace. On failure the driver
 * prints "error: <errno name>: <message>" on stderr and exits 1; usage
 * errors exit 2. */

#include <arpa/inet.h>
#include <netinet/ether.h>
#include <stdio.h>

#include "driver-sandbox.h"
#include "lxc-link.h"
#include "macro.h"
#include "rtnl.h"

static int parse_pid(const char *s, pid_t *ret) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end || v < 0 || v > INT32_MAX)
                return -EINVAL;
        *ret = (pid_t) v;
        return 0;
}

static bool unset(const char *s) {
        return streq(s, "-");
}

static int parse_hwaddr(const char *s, LxcLinkWant *c) {
        struct ether_addr e;

        if (unset(s))
                return 0;
        if (!ether_aton_r(s, &e))
                return -EINVAL;
        memcpy(c->hwaddr, e.ether_addr_octet, sizeof c->hwaddr);
        c->has_hwaddr = true;
        return 0;
}

static int parse_ipv4_prefix(const char *s, LxcLinkWant *c) {
        char buf[INET_ADDRSTRLEN + 4], *slash, *end;
        unsigned long prefixlen;

        if (unset(s))
                return 0;
        if (strlen(s) >= sizeof buf)
                return -EINVAL;
        strcpy(buf, s);
        slash = strchr(buf, '/');
        if (!slash)
                return -EINVAL;
        *slash = '\0';
        errno = 0;
        prefixlen = strtoul(slash + 1, &end, 10);
        if (errno != 0 || end == slash + 1 || *end || prefixlen > 32)
                return -EINVAL;
        if (inet_pton(AF_INET, buf, &c->ipv4) != 1)
                return -EINVAL;
        c->prefixlen = prefixlen;
        c->has_ipv4 = true;
        return 0;
}

static int parse_gateway(const char *s, LxcLinkWant *c) {
        if (unset(s))
                return 0;
        if (inet_pton(AF_INET, s, &c->gateway) != 1)
                return -EINVAL;
        c->has_gateway = true;
        return 0;
}

/* configure PID IFNAME NEWNAME MAC ADDR/PREFIX GATEWAY [MTU] [exclusive] */
static int parse_config(int argc, char **argv, pid_t *pid, LxcLinkWant *c) {
        if (argc < 8 || argc > 10)
                return -EINVAL;
        if (parse_pid(argv[2], pid) < 0 || parse_hwaddr(argv[5], c) < 0 ||
            parse_ipv4_prefix(argv[6], c) < 0 || parse_gateway(argv[7], c) < 0)
                return -EINVAL;
        if (!unset(argv[4]))
                c->name = argv[4];
        if (argc >= 9 && !unset(argv[8])) {
                char *end;
                long mtu = strtol(argv[8], &end, 10);

                if (end == argv[8] || *end || mtu <= 0 || mtu > INT32_MAX)
                        return -EINVAL;
                c->mtu = (uint32_t) mtu;
        }
        if (argc == 10) {
                if (!streq(argv[9], "exclusive"))
                        return -EINVAL;
                c->exclusive = true;
        }
        return 0;
}

static int open_pid(const char *arg, Rtnl **ret) {
        pid_t pid;

        if (parse_pid(arg, &pid) < 0)
                return -EDOM;
        return rtnl_open_pid(pid, ret);
}

static int print_info(Rtnl *r, const char *ifname) {
        RtnlLink link;
        int k;

        k = rtnl_get_link(r, ifname, &link);
        if (k < 0)
                return k;
        printf("ifindex=%d\nname=%s\nkind=%s\nmtu=%u\nup=%d\nlower_up=%d\n",
               link.ifindex, link.name, link.kind, link.mtu, link.up, link.lower_up);
        if (link.has_hwaddr)
                printf("hwaddr=%02x:%02x:%02x:%02x:%02x:%02x\n",
                       link.hwaddr[0], link.hwaddr[1], link.hwaddr[2],
                       link.hwaddr[3], link.hwaddr[4], link.hwaddr[5]);
        return 0;
}

static int configure(int argc, char **argv) {
        _cleanup_(rtnl_closep) Rtnl *r = NULL;
        LxcLinkWant want = {};
        pid_t pid;
        int k;

        if (parse_config(argc, argv, &pid, &want) < 0)
                return -EDOM;
        k = rtnl_open_pid(pid, &r);
        if (k >= 0)
                k = lxc_link_configure(r, argv[3], &want);
        if (k >= 0)
                puts(k > 0 ? "changed" : "unchanged");
        return k;
}

static int txcsum(char **argv) {
        pid_t pid;
        int k;

        if (parse_pid(argv[2], &pid) < 0 || !(streq(argv[4], "on") || streq(argv[4], "off")))
                return -EDOM;
        k = lxc_link_set_tx_checksum(pid, argv[3], streq(argv[4], "on"));
        if (k >= 0)
                puts(k > 0 ? "changed" : "unchanged");
        return k;
}

/* move and find: IFNAME PID, from the driver's namespace */
static int move_find(const char *verb, const char *ifname, const char *pid) {
        _cleanup_(rtnl_closep) Rtnl *here = NULL, *there = NULL;
        static const char *const where[] = { "none", "caller", "target", "both" };
        RtnlLink link;
        int k, mask = 0;

        if (streq(pid, "0") || !rtnl_ifname_valid(ifname))
                return -EINVAL;
        k = open_pid(pid, &there);
        if (k >= 0)
                k = rtnl_open(&here);
        if (k < 0)
                return k;
        if (streq(verb, "move")) {
                k = lxc_link_move(here, there, ifname);
                if (k >= 0)
                        puts(k > 0 ? "moved" : "unchanged");
                return k;
        }
        for (int i = 0; i < 2; i++) {
                k = rtnl_get_link(i == 0 ? here : there, ifname, &link);
                if (k < 0 && k != -ENODEV)
                        return k;
                mask |= k >= 0 ? 1 << i : 0;
        }
        puts(where[mask]);
        return 0;
}

static int run(int argc, char **argv) {
        _cleanup_(rtnl_closep) Rtnl *r = NULL;
        const char *verb = argv[1];
        RtnlLink link;
        int k;

        if (streq(verb, "configure"))
                return configure(argc, argv);
        if (streq(verb, "txcsum") && argc == 5)
                return txcsum(argv);
        if (argc != 4)
                return -EDOM;
        if (streq(verb, "move") || streq(verb, "find"))
                return move_find(verb, argv[2], argv[3]);

        /* the others take PID IFNAME */
        k = open_pid(argv[2], &r);
        if (k < 0)
                return k;
        if (streq(verb, "exists")) {
                k = rtnl_get_link(r, argv[3], &link);
                if (k >= 0 || k == -ENODEV)
                        puts(k >= 0 ? "yes" : "no");
                return k == -ENODEV ? 0 : k;
        }
        if (streq(verb, "info"))
                return print_info(r, argv[3]);
        if (streq(verb, "txcsum")) {
                k = rtnl_get_tx_checksum(r, argv[3]);
                if (k >= 0)
                        puts(k > 0 ? "on" : "off");
                return k;
        }
        if (streq(verb, "delete")) {
                k = lxc_link_delete(r, argv[3]);
                if (k >= 0)
                        puts(k > 0 ? "deleted" : "unchanged");
                return k;
        }
        return -EDOM;
}

int main(int argc, char **argv) {
        int r;

        if (driver_sandbox("netlink-driver", &argc, &argv))
                return 1;
        if (argc < 2) {
                fprintf(stderr, "usage: netlink-driver [--sandbox] move|configure|find|exists|info|delete|txcsum ARGS...\n");
                return 2;
        }

        r = run(argc, argv);
        if (r == -EDOM) {
                fprintf(stderr, "netlink-driver: invalid arguments for '%s'\n", argv[1]);
                return 2;
        }
        if (r < 0) {
                fprintf(stderr, "error: %s: %s\n", strerrorname_np(-r) ?: "?", strerror(-r));
                return 1;
        }
        return 0;
}
