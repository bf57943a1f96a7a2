/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "macro.h"
#include "registry.h"

extern const PluginVTable net_plugin_vtable;
extern const PluginVTable lxc_plugin_vtable;
extern const PluginVTable openflow_plugin_vtable;
extern const PluginVTable netmaker_plugin_vtable;

const PluginVTable *const builtin_plugins[] = {
        &net_plugin_vtable,
        &lxc_plugin_vtable,
        &openflow_plugin_vtable,
        &netmaker_plugin_vtable,
};

const size_t n_builtin_plugins = ELEMENTSOF(builtin_plugins);
