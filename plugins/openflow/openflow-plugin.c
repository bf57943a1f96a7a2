/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "json-util.h"
#include "openflow.h"

static int openflow_plugin_parse(Plugin *p, const StateDoc *doc, json_object *section, Diag *d) {
        OpenflowPlugin *o = (OpenflowPlugin *) p;
        int r;

        if (!section)
                return 0;
        r = openflow_parse(&o->want, section, d);
        return r < 0 ? r : 1;
}

/* No flows of ours exist on the host yet: there is nothing to read. */
static int openflow_plugin_query(Plugin *p, Diag *d) {
        return 0;
}

static int unsupported(Diag *d, const char *path, const char *key, const char *what) {
        _cleanup_(freep) char *p = json_path_key(path, key);

        diag_error(d, p ?: path, "%s are not supported by this build yet; leave %s empty", what, key);
        return -EINVAL;
}

/* A valid section may ask for more than this build can do: refuse the
 * plan with one error at what to change. The bridges alone are fine: the
 * net plugin ensures them. */
static int openflow_plugin_diff(Plugin *p, Plan *plan, Diag *d) {
        const OpenflowConfig *c = &((OpenflowPlugin *) p)->want;

        if (c->enable_security_flows && c->obfuscation_level > 0) {
                diag_error(d, "plugins.openflow.obfuscation_level",
                           "security flows are not supported by this build yet; set enable_security_flows to false or obfuscation_level to 0");
                return -EINVAL;
        }
        for (size_t i = 0; i < c->n_bridges; i++) {
                if (c->bridges[i].n_flows > 0)
                        return unsupported(d, c->bridges[i].path, "flows", "static flows");
                if (c->bridges[i].n_socket_ports > 0)
                        return unsupported(d, c->bridges[i].path, "socket_ports", "socket ports");
        }
        if (c->n_flow_policies > 0)
                return unsupported(d, "plugins.openflow", "flow_policies", "flow policies");
        return 0;
}

static int openflow_plugin_apply(Plugin *p, ApplyCounts *counts, Diag *d) {
        return 0;
}

static int openflow_plugin_live_to_json(Plugin *p, json_object **ret) {
        *ret = NULL;
        return 0;
}

static void openflow_plugin_done(Plugin *p) {
        openflow_config_done(&((OpenflowPlugin *) p)->want);
}

const PluginVTable openflow_plugin_vtable = {
        .name = "openflow",
        .after = (const char *const[]) { "net", "lxc", NULL },
        .object_size = sizeof(OpenflowPlugin),
        .parse = openflow_plugin_parse,
        .query = openflow_plugin_query,
        .diff = openflow_plugin_diff,
        .apply = openflow_plugin_apply,
        .live_to_json = openflow_plugin_live_to_json,
        .done = openflow_plugin_done,
};
