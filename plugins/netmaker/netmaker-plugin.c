/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "json-util.h"
#include "netmaker.h"

static int netmaker_plugin_parse(Plugin *p, const StateDoc *doc, json_object *section, Diag *d) {
        NetmakerPlugin *n = (NetmakerPlugin *) p;
        int r;

        if (!section)
                return 0;
        r = netmaker_parse(&n->want, section, d);
        return r < 0 ? r : 1;
}

/* Nothing of this plugin's exists on the host yet: there is nothing to read. */
static int netmaker_plugin_query(Plugin *p, Diag *d) {
        return 0;
}

/* "enabled": true asks for more than this build can do: refuse the plan. */
static int netmaker_plugin_diff(Plugin *p, Plan *plan, Diag *d) {
        NetmakerPlugin *n = (NetmakerPlugin *) p;

        if (!n->want.enabled)
                return 0;
        diag_error(d, "plugins.netmaker.enabled",
                   "the Netmaker integration is not supported by this build yet; set enabled to false");
        return -EINVAL;
}

static int netmaker_plugin_apply(Plugin *p, ApplyCounts *counts, Diag *d) {
        return 0;
}

static int netmaker_plugin_live_to_json(Plugin *p, json_object **ret) {
        *ret = NULL;
        return 0;
}

static void netmaker_plugin_done(Plugin *p) {
        netmaker_config_done(&((NetmakerPlugin *) p)->want);
}

const PluginVTable netmaker_plugin_vtable = {
        .name = "netmaker",
        .after = (const char *const[]) { "lxc", NULL },
        .object_size = sizeof(NetmakerPlugin),
        .parse = netmaker_plugin_parse,
        .query = netmaker_plugin_query,
        .diff = netmaker_plugin_diff,
        .apply = netmaker_plugin_apply,
        .live_to_json = netmaker_plugin_live_to_json,
        .done = netmaker_plugin_done,
};
