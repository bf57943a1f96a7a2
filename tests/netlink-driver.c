/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Command line front end of agent/lib/rtnl for the integration tests
 * (tests/integration/test_netlink.py). Not installed.
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
 * With --sandbox first, the driver runs under the built-in seccomp filter
 * (tests/driver-sandbox.h), which has no setns and no clone: PID 0 only.
 * PID 0 is the driver's own network namespace. On failure the driver
 * prints "error: <errno name>: <message>" on stderr and exits 1; usage
 * errors exit 2. */

#include <arpa/inet.h>
#include <netinet/ether.h>
#include <stdio.h>

#include "driver-sandbox.h"
#include "macro.h"
#include "nl-link.h"

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

static int parse_hwaddr(const char *s, NlLinkConfig *c) {
        struct ether_addr e;

        if (unset(s))
                return 0;
        if (!ether_aton_r(s, &e))
                return -EINVAL;
        memcpy(c->hwaddr, e.ether_addr_octet, sizeof c->hwaddr);
        c->has_hwaddr = true;
        return 0;
}

static int parse_ipv4_prefix(const char *s, NlLinkConfig *c) {
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
        c->ipv4_prefixlen = prefixlen;
        c->has_ipv4 = true;
        return 0;
}

static int parse_gateway(const char *s, NlLinkConfig *c) {
        if (unset(s))
                return 0;
        if (inet_pton(AF_INET, s, &c->gateway) != 1)
                return -EINVAL;
        c->has_gateway = true;
        return 0;
}

/* configure PID IFNAME NEWNAME MAC ADDR/PREFIX GATEWAY [MTU] [exclusive] */
static int parse_config(int argc, char **argv, pid_t *pid, NlLinkConfig *c) {
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
                c->mtu = (int) mtu;
        }
        if (argc == 10) {
                if (!streq(argv[9], "exclusive"))
                        return -EINVAL;
                c->exclusive_ipv4 = true;
        }
        return 0;
}

static int print_info(pid_t pid, const char *ifname) {
        NlLinkInfo info;
        int r;

        r = nl_link_get_in_netns(pid, ifname, &info);
        if (r < 0)
                return r;
        printf("ifindex=%d\nname=%s\nkind=%s\nmtu=%u\nup=%d\nlower_up=%d\n",
               info.ifindex, info.name, info.kind, info.mtu, info.up, info.lower_up);
        if (info.has_hwaddr)
                printf("hwaddr=%02x:%02x:%02x:%02x:%02x:%02x\n",
                       info.hwaddr[0], info.hwaddr[1], info.hwaddr[2],
                       info.hwaddr[3], info.hwaddr[4], info.hwaddr[5]);
        return 0;
}

static int run(int argc, char **argv) {
        const char *verb = argv[1];
        NlLinkConfig config = {};
        pid_t pid;
        int r;

        if (streq(verb, "configure")) {
                if (parse_config(argc, argv, &pid, &config) < 0)
                        return -EDOM;
                r = nl_link_configure_in_netns(pid, argv[3], &config);
                if (r >= 0)
                        puts(r > 0 ? "changed" : "unchanged");
                return r;
        }
        if (streq(verb, "txcsum") && argc == 5) {
                if (parse_pid(argv[2], &pid) < 0 || !(streq(argv[4], "on") || streq(argv[4], "off")))
                        return -EDOM;
                r = nl_link_set_tx_checksum_in_netns(pid, argv[3], streq(argv[4], "on"));
                if (r >= 0)
                        puts(r > 0 ? "changed" : "unchanged");
                return r;
        }
        if (argc != 4)
                return -EDOM;
        /* move and find take IFNAME PID, the others PID IFNAME */
        if (parse_pid(streq(verb, "move") || streq(verb, "find") ? argv[3] : argv[2], &pid) < 0)
                return -EDOM;

        if (streq(verb, "move")) {
                r = nl_link_move_to_netns(argv[2], pid);
                if (r >= 0)
                        puts(r > 0 ? "moved" : "unchanged");
        } else if (streq(verb, "find")) {
                static const char *const where[] = { "none", "caller", "target", "both" };

                r = nl_link_find_netns(argv[2], pid);
                if (r >= 0)
                        puts(where[r & 3]);
        } else if (streq(verb, "exists")) {
                r = nl_link_exists_in_netns(pid, argv[3]);
                if (r >= 0)
                        puts(r > 0 ? "yes" : "no");
        } else if (streq(verb, "info"))
                r = print_info(pid, argv[3]);
        else if (streq(verb, "txcsum")) {
                r = nl_link_get_tx_checksum_in_netns(pid, argv[3]);
                if (r >= 0)
                        puts(r > 0 ? "on" : "off");
        } else if (streq(verb, "delete")) {
                r = nl_link_delete_in_netns(pid, argv[3]);
                if (r >= 0)
                        puts(r > 0 ? "deleted" : "unchanged");
        } else
                r = -EDOM;
        return r;
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
