/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "router.h"

const ImpactClass impact_firewall_change = { 10, "firewall change" };
const ImpactClass impact_tunnel_restart = { 20, "tunnel restart" };
const ImpactClass impact_lan_outage = { 30, "lan outage" };
const ImpactClass impact_wan_outage = { 40, "wan outage" };

const char *const router_count_kinds[] = { COUNT_RTNL_MESSAGES, COUNT_GENL_MESSAGES, COUNT_NFT_MESSAGES, NULL };

int router_prefix_parse(const char *s, bool host_bits, int *ret_family, uint8_t ret_addr[static 16],
                        unsigned *ret_len) {
        char buf[INET6_ADDRSTRLEN + 8], *slash;
        uint8_t addr[16] = {};
        unsigned max, len = 0;
        int family;

        if (strlen(s) >= sizeof buf)
                return -EINVAL;
        strcpy(buf, s);
        slash = strchr(buf, '/');
        if (slash)
                *slash++ = 0;
        if (inet_pton(AF_INET, buf, addr) == 1)
                family = AF_INET, max = 32;
        else if (inet_pton(AF_INET6, buf, addr) == 1)
                family = AF_INET6, max = 128;
        else
                return -EINVAL;
        if (!slash)
                len = max;
        else {
                if (!*slash || strlen(slash) > 3 || (slash[0] == '0' && slash[1]))
                        return -EINVAL;
                for (const char *p = slash; *p; p++) {
                        if (!isdigit((unsigned char) *p))
                                return -EINVAL;
                        len = len * 10 + (unsigned) (*p - '0');
                }
                if (len > max)
                        return -EINVAL;
        }
        for (unsigned bit = len; !host_bits && bit < max; bit++)
                if (addr[bit / 8] & (0x80 >> (bit % 8)))
                        return -EDOM;
        *ret_family = family;
        memcpy(ret_addr, addr, 16);
        *ret_len = len;
        return 0;
}
