/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "macro.h"
#include "plugins.h"
#include "router.h"

extern const PluginVTable firewall_plugin_vtable;
extern const PluginVTable interfaces_plugin_vtable;
extern const PluginVTable routes_plugin_vtable;
extern const PluginVTable wireguard_plugin_vtable;

/* Applied in the order of their "after": links (WireGuard's too) and
 * addresses, routes and rules, WireGuard's keys and peers, the firewall. */
static const PluginVTable *const plugins[] = {
        &interfaces_plugin_vtable,
        &routes_plugin_vtable,
        &wireguard_plugin_vtable,
        &firewall_plugin_vtable,
};

const Product oprouter_product = {
        .name = "op-router",
        .plugins = plugins,
        .n_plugins = ELEMENTSOF(plugins),
        .count_kinds = router_count_kinds,
};
