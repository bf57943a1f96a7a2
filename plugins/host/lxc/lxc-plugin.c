/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "json-util.h"
#include "lxc-backend.h"
#include "lxc-containers.h"
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

static bool names_template(const LxcConfig *c, const char *template) {
        for (size_t i = 0; i < c->n_containers; i++)
                if (streq_ptr(lxc_requested_template(&c->containers[i]), template))
                        return true;
        return false;
}

static bool names_input(const LxcContainer *c, const char *path) {
        for (size_t i = 0; c && i < c->rendered.n_inputs; i++)
                if (streq(c->rendered.inputs[i].path, path))
                        return true;
        return false;
}

/* A caller who may only plan names no template file and no input of a
 * container's services (key files, provided files) that the applied state
 * does not name: op-dbus looks for the template on the host and for the
 * inputs in the container, as root, and the plan shows what it found. */
static int lxc_plugin_check_restricted(Plugin *p, json_object *applied, Diag *d) {
        LxcPlugin *l = (LxcPlugin *) p;
        _cleanup_(lxc_config_done) LxcConfig a = {};
        _cleanup_(diag_done) Diag scratch = {};
        int ret = 0;

        if (applied && lxc_parse(&a, applied, &scratch) == -ENOMEM)
                return -ENOMEM;
        for (size_t i = 0; i < l->want.n_containers; i++) {
                const LxcContainer *c = &l->want.containers[i];
                const char *template = lxc_requested_template(c);

                if (template && template[0] == '/' && !names_template(&a, template)) {
                        _cleanup_(freep) char *path = NULL;

                        if (asprintf(&path, "%s.%s", c->path, c->template ? "template" : "properties.template") < 0)
                                return -ENOMEM;
                        diag_error(d, path, "not a template file of the applied state: op-dbus would look for it as root; "
                                   PLUGIN_RESTRICTED_HINT);
                        ret = -EACCES;
                }
                for (size_t k = 0; k < c->rendered.n_inputs; k++) {
                        if (names_input(lxc_config_find(&a, c->id), c->rendered.inputs[k].path))
                                continue;
                        diag_error(d, c->rendered.inputs[k].json_path, "not a file of container %" PRIu32 " in the "
                                   "applied state: op-dbus would look for it in the container; " PLUGIN_RESTRICTED_HINT,
                                   c->id);
                        ret = -EACCES;
                }
        }
        return ret;
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

/* Every "id" below o (the VMess ids of an Xray configuration). */
static void redact_ids(json_object *o) {
        if (json_object_is_type(o, json_type_array))
                for (size_t i = 0; i < json_object_array_length(o); i++)
                        redact_ids(json_object_array_get_idx(o, i));
        if (!json_object_is_type(o, json_type_object))
                return;
        json_object_object_foreach(o, key, value) {
                if (streq(key, "id") && json_object_is_type(value, json_type_string))
                        (void) json_object_object_add(o, key, json_object_new_string(PLUGIN_REDACTED));
                else
                        redact_ids(value);
        }
}

/* The secrets a stored section holds: the Xray ids of the containers'
 * service configurations (docs/services.md, "Secrets"). */
static void lxc_plugin_redact(json_object *section) {
        json_object *containers, *config, *xray;

        if (!json_object_object_get_ex(section, "containers", &containers) ||
            !json_object_is_type(containers, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(containers); i++)
                if (json_object_object_get_ex(json_object_array_get_idx(containers, i), "config", &config) &&
                    json_object_object_get_ex(config, "xray", &xray))
                        redact_ids(xray);
}

const PluginVTable lxc_plugin_vtable = {
        .name = "lxc",
        .after = (const char *const[]) { "net", NULL },
        .object_size = sizeof(LxcPlugin),
        .parse = lxc_plugin_parse,
        .check_restricted = lxc_plugin_check_restricted,
        .query = lxc_plugin_query,
        .diff = lxc_plugin_diff,
        .apply = lxc_plugin_apply,
        .live_to_json = lxc_plugin_live_to_json,
        .redact = lxc_plugin_redact,
        .watch = &lxc_watch_vtable,
        .done = lxc_plugin_done,
};
