/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host.h"
#include "macro.h"
#include "plugins.h"

extern const PluginVTable net_plugin_vtable;
extern const PluginVTable lxc_plugin_vtable;
extern const PluginVTable openflow_plugin_vtable;
extern const PluginVTable netmaker_plugin_vtable;
extern const PluginVTable ovn_plugin_vtable;

static const PluginVTable *const plugins[] = {
        &net_plugin_vtable,
        &lxc_plugin_vtable,
        &openflow_plugin_vtable,
        &netmaker_plugin_vtable,
        &ovn_plugin_vtable,
};

static const Placeholder placeholders[] = {
        { "VPS_IP", "vps_ip", "the public IPv4 address of your VPS" },
        { "VPS_PUBLIC_IP", "vps_public_ip", "this VPS's public IPv4 address" },
        { "UUID", "uuid", "the VMess user id shared by client and server (cat /proc/sys/kernel/random/uuid)" },
        { "CLIENT_PUBLIC_KEY", "client_public_key", "the WireGuard public key of the client device (wg pubkey)" },
        { "WARP_PUBLIC_KEY", "warp_public_key", "the Cloudflare Warp peer's public key (from wgcf generate)" },
        {}
};

const Product opdbus_product = {
        .name = "op-dbus",
        .plugins = plugins,
        .n_plugins = ELEMENTSOF(plugins),
        .placeholders = placeholders,
        .count_kinds = host_count_kinds,
        .allow_outage_hint = "--allow-outage, or the D-Bus option allow_outage",
};
