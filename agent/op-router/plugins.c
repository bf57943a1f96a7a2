/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "macro.h"
#include "plugins.h"
#include "router.h"

extern const PluginVTable firewall_plugin_vtable;

static const PluginVTable *const plugins[] = {
        &firewall_plugin_vtable,
};

const Product oprouter_product = {
        .name = "op-router",
        .plugins = plugins,
        .n_plugins = ELEMENTSOF(plugins),
        .count_kinds = router_count_kinds,
        .allow_outage_hint = "--allow-outage",
};
