/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the router product's plugins share: the program's settings for
 * them (PluginContext.settings), the impact classes of their actions and
 * the kinds of writes they count. */

#include "plan.h"
#include "plugin.h"

typedef struct RouterSettings {
        const char *secrets_path;    /* the secrets file, for messages: /etc/op-router/secrets.json */
} RouterSettings;

/* The context's router settings; all unset when the program gave none. */
static inline const RouterSettings *router_settings(const PluginContext *ctx) {
        static const RouterSettings none = {};

        return ctx->settings ?: &none;
}

/* Impact classes, by rank: what a router operator sees of a change. */
extern const ImpactClass impact_firewall_change;   /* what the firewall lets through changes */
extern const ImpactClass impact_tunnel_restart;    /* a tunnel goes down and up again */
extern const ImpactClass impact_lan_outage;        /* hosts on a LAN lose the router or each other */
extern const ImpactClass impact_wan_outage;        /* a network loses its way out */
#define IMPACT_FIREWALL_CHANGE (&impact_firewall_change)
#define IMPACT_TUNNEL_RESTART (&impact_tunnel_restart)
#define IMPACT_LAN_OUTAGE (&impact_lan_outage)
#define IMPACT_WAN_OUTAGE (&impact_wan_outage)

/* An IPv4 or IPv6 address with an optional prefix length ("10.0.0.0/8",
 * "fd00::1/64", "10.0.0.1": /32, /128), as the router's sections write
 * them: family, the 16 bytes, the length. Host bits set: -EDOM unless
 * host_bits (an interface's address). -EINVAL for anything else (a
 * length with a leading zero or over the family's). */
int router_prefix_parse(const char *s, bool host_bits, int *ret_family, uint8_t ret_addr[static 16],
                        unsigned *ret_len);

/* Kinds of writes (ApplyCounts): nftables messages, rtnetlink requests,
 * generic netlink (WireGuard) requests. */
#define COUNT_NFT_MESSAGES "nft_messages"
#define COUNT_RTNL_MESSAGES "rtnl_messages"
#define COUNT_GENL_MESSAGES "genl_messages"
extern const char *const router_count_kinds[];
