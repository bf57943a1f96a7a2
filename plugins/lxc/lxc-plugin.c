/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "json-util.h"
#include "lxc.h"

static int lxc_plugin_parse(Plugin *p, const StateDoc *doc, json_object *section, Diag *d) {
        LxcPlugin *l = (LxcPlugin *) p;
        int r;

        if (!section)
                return 0;
        r = lxc_parse(&l->want, section, d);
        return r < 0 ? r : 1;
}

/* Nothing of this plugin's exists on the host yet: there is nothing to read. */
static int lxc_plugin_query(Plugin *p, Diag *d) {
        return 0;
}

/* A valid section that lists containers asks for more than this build
 * can do: refuse the plan, once, at the list. "prune" alone asks for
 * nothing, as no container was created by op-dbus. */
static int lxc_plugin_diff(Plugin *p, Plan *plan, Diag *d) {
        LxcPlugin *l = (LxcPlugin *) p;

        if (l->want.n_containers == 0)
                return 0;
        diag_error(d, "plugins.lxc.containers",
                   "container management is not supported by this build yet; leave the list empty to plan and apply the other sections");
        return -EINVAL;
}

static int lxc_plugin_apply(Plugin *p, ApplyCounts *counts, Diag *d) {
        return 0;
}

static int lxc_plugin_live_to_json(Plugin *p, json_object **ret) {
        *ret = NULL;
        return 0;
}

static void lxc_plugin_done(Plugin *p) {
        lxc_config_done(&((LxcPlugin *) p)->want);
}

const PluginVTable lxc_plugin_vtable = {
        .name = "lxc",
        .after = (const char *const[]) { "net", NULL },
        .object_size = sizeof(LxcPlugin),
        .parse = lxc_plugin_parse,
        .query = lxc_plugin_query,
        .diff = lxc_plugin_diff,
        .apply = lxc_plugin_apply,
        .live_to_json = lxc_plugin_live_to_json,
        .done = lxc_plugin_done,
};
