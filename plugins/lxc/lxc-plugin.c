/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "json-util.h"
#include "lxc.h"
#include "net-ledger.h"

/* Marks the containers whose bridge plugins.net of the same document
 * declares (the net plugin creates it before the containers). */
static void mark_net_bridges(LxcConfig *c, const StateDoc *doc) {
        json_object *net = state_doc_section(doc, "net"), *bridges, *v;

        if (!net || !json_object_object_get_ex(net, "bridges", &bridges) ||
            !json_object_is_type(bridges, json_type_array))
                return;
        for (size_t k = 0; k < c->n_containers; k++)
                for (size_t i = 0; i < json_object_array_length(bridges); i++)
                        if (json_object_object_get_ex(json_object_array_get_idx(bridges, i), "name", &v) &&
                            streq_ptr(json_object_get_string(v), c->containers[k].network.bridge))
                                c->containers[k].network.bridge_declared = true;
}

/* A container cannot stay plugged into a bridge that the net section
 * applied with it deletes. */
static int check_deleted_bridges(const LxcConfig *c, const StateDoc *doc, const char *state_dir, Diag *d) {
        int ret = 0;

        for (size_t k = 0; k < c->n_containers; k++) {
                const LxcContainer *ct = &c->containers[k];
                _cleanup_(freep) char *bp = NULL;

                if (!ct->has_network || !ct->network.bridge || ct->network.bridge_declared ||
                    !net_deletes_bridge(doc, state_dir, ct->network.bridge))
                        continue;
                bp = json_path_key(ct->path, "network.bridge");
                if (!bp)
                        return -ENOMEM;
                diag_error(d, bp, "bridge \"%s\" is one op-dbus created and plugins.net no longer declares it: "
                           "this apply deletes it, and the container loses its network", ct->network.bridge);
                ret = -EINVAL;
        }
        return ret;
}

static int lxc_plugin_parse(Plugin *p, const StateDoc *doc, json_object *section, Diag *d) {
        LxcPlugin *l = (LxcPlugin *) p;
        int r;

        if (!section)
                return 0;
        r = lxc_parse(&l->want, section, d);
        if (r >= 0)
                mark_net_bridges(&l->want, doc);
        if (r >= 0)
                r = check_deleted_bridges(&l->want, doc, p->ctx->state_dir, d);
        return r < 0 ? r : 1;
}

static int lxc_plugin_query(Plugin *p, Diag *d) {
        return lxc_query((LxcPlugin *) p, d);
}

/* The diff, then what the backend cannot carry out of it. */
static int lxc_plugin_diff(Plugin *p, Plan *plan, Diag *d) {
        LxcPlugin *l = (LxcPlugin *) p;
        int r;

        r = lxc_diff(l, plan, d);
        if (r != -ENOMEM && l->backend && l->backend->check && l->have_queried)
                RET_GATHER(r, l->backend->check(l, d));
        return r;
}

static int lxc_plugin_apply(Plugin *p, ApplyCounts *counts, Diag *d) {
        return lxc_apply((LxcPlugin *) p, counts, d);
}

static int lxc_plugin_live_to_json(Plugin *p, json_object **ret) {
        return lxc_live_to_json((LxcPlugin *) p, ret);
}

static void lxc_plugin_done(Plugin *p) {
        LxcPlugin *l = (LxcPlugin *) p;

        lxc_specs_done(l);
        free(l->changes);
        lxc_live_set_done(l);
        lxc_config_done(&l->want);
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
