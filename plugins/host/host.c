/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host.h"

const ImpactClass impact_flow_change = { 10, "forwarding change" };
const ImpactClass impact_port_flap = { 20, "port flap" };
const ImpactClass impact_port_removed = { 30, "port removed" };
const ImpactClass impact_container_restart = { 40, "container restart" };
const ImpactClass impact_bridge_outage = { 50, "bridge outage" };
const ImpactClass impact_container_loss = { 60, "container destroyed" };

const char *const host_count_kinds[] = { COUNT_OVSDB_OPS, COUNT_FLOW_MODS, NULL };
