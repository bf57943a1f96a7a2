/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "router.h"

const ImpactClass impact_firewall_change = { 10, "firewall change" };
const ImpactClass impact_tunnel_restart = { 20, "tunnel restart" };
const ImpactClass impact_lan_outage = { 30, "lan outage" };
const ImpactClass impact_wan_outage = { 40, "wan outage" };

const char *const router_count_kinds[] = { COUNT_RTNL_MESSAGES, COUNT_NFT_MESSAGES, NULL };
