/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Proxmox's /etc/network/interfaces (ifupdown2). On "ifreload -a" (Apply
 * Configuration in the web UI) ifupdown2 deletes the OVS ports of the
 * bridges declared there unless their names start with tap, veth or fwln. */

#include <stdbool.h>

#include "diag.h"

/* Whether text declares bridge as an Open vSwitch bridge ("iface NAME"
 * with "ovs_type OVSBridge" in its stanza). */
bool ifupdown_declares_ovs_bridge(const char *text, const char *bridge);

/* Warns at json_path when the interfaces file at interfaces_path (NULL or
 * unreadable: no check) declares bridge and a reload would delete port. */
void ifupdown_check_port(const char *interfaces_path, const char *bridge, const char *port,
                         const char *json_path, Diag *d);
