/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "host.h"
#include "json-util.h"
#include "net.h"
#include "ovsdb-client.h"

static int net_plugin_parse(Plugin *p, const StateDoc *doc, json_object *section, Diag *d) {
        NetPlugin *n = (NetPlugin *) p;
        int r;

        r = net_parse(&n->want, doc, section, d);
        if (r > 0)
                net_check_interfaces_file(&n->want, host_settings(p->ctx)->interfaces_path, d);
        return r;
}

static int net_plugin_query(Plugin *p, Diag *d) {
        return net_query((NetPlugin *) p, d);
}

static int net_plugin_diff(Plugin *p, Plan *plan, Diag *d) {
        return net_diff((NetPlugin *) p, plan, d);
}

static int net_plugin_apply(Plugin *p, ApplyCounts *counts, Diag *d) {
        return net_apply((NetPlugin *) p, counts, d);
}

/* A declared bridge that Open vSwitch holds in its database but for which
 * ovs-vswitchd has no datapath (datapath_type "system" without the
 * kernel module, say) forwards nothing: it is an error, not a match. */
static int check_datapaths(const NetPlugin *n, Diag *d) {
        int ret = 0;

        for (size_t i = 0; i < n->want.n_bridges; i++) {
                const NetBridge *w = &n->want.bridges[i];
                const NetBridge *h = net_model_find_bridge(&n->have, w->name);
                const char *type;

                if (!h || h->has_datapath)
                        continue;
                type = h->datapath_type[0] ? h->datapath_type : "system";
                diag_error(d, w->path, "Open vSwitch has no datapath for bridge \"%s\" (datapath_type %s): "
                           "ovs-vswitchd reports no datapath_id, so it forwards nothing%s", w->name, type,
                           streq(type, "system") ? "; the kernel datapath needs the openvswitch kernel module "
                           "(\"auto\" picks the userspace datapath without it)" : "");
                ret = -EIO;
        }
        return ret;
}

/* Open vSwitch accepted the rows but may have failed to set up a bridge's
 * datapath or an interface (a missing uplink, a bad tunnel option): that
 * is a failed apply, not a success. */
static int net_plugin_verify(Plugin *p, Diag *d) {
        NetPlugin *n = (NetPlugin *) p;
        int r, ret;

        /* After a write, remember what op-dbus owns in case the tags go. */
        if (n->applied && p->ctx->state_dir) {
                r = net_ledger_save(&n->have, p->ctx->state_dir);
                if (r < 0)
                        diag_warning(d, "", "cannot record owned objects in %s: %s", p->ctx->state_dir, strerror(-r));
                n->applied = false;
        }

        ret = check_datapaths(n, d);
        for (size_t i = 0; i < n->want.n_ports; i++) {
                const NetPort *w = &n->want.ports[i];
                const NetPort *h = net_model_find_port(&n->have, w->name);

                if (h && h->error && h->error[0]) {
                        diag_error(d, w->path, "Open vSwitch could not set up port \"%s\": %s", w->name, h->error);
                        ret = -EIO;
                }
        }
        return ret;
}

static json_object *map_or_null(json_object *m) {
        return json_object_object_length(m) > 0 ? json_object_get(m) : NULL;
}

static void add_if(json_object *o, const char *key, json_object *v) {
        if (v)
                json_object_object_add(o, key, v);
}

static json_object *port_to_json(const NetPort *p) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "name", json_object_new_string(p->name));
        json_object_object_add(o, "type", json_object_new_string(p->type[0] ? p->type : "system"));
        if (p->tag >= 0)
                json_object_object_add(o, "tag", json_object_new_int64(p->tag));
        if (p->n_trunks > 0) {
                json_object *a = json_object_new_array();

                for (size_t i = 0; i < p->n_trunks; i++)
                        json_object_array_add(a, json_object_new_int64(p->trunks[i]));
                json_object_object_add(o, "trunks", a);
        }
        if (p->vlan_mode)
                json_object_object_add(o, "vlan_mode", json_object_new_string(p->vlan_mode));
        if (p->mtu_request >= 0)
                json_object_object_add(o, "mtu_request", json_object_new_int64(p->mtu_request));
        add_if(o, "options", map_or_null(p->options));
        add_if(o, "external_ids", map_or_null(p->external_ids));
        return o;
}

static int cmp_port_name(const void *a, const void *b) {
        return strcmp((*(const NetPort *const *) a)->name, (*(const NetPort *const *) b)->name);
}

static json_object *bridge_to_json(const NetModel *have, const NetBridge *b) {
        json_object *o = json_object_new_object(), *ports = json_object_new_array();
        _cleanup_(freep) const NetPort **sorted = calloc(have->n_ports + 1, sizeof(NetPort *));
        size_t n = 0;

        if (!o || !ports || !sorted) {
                json_object_put(o);
                json_object_put(ports);
                return NULL;
        }

        json_object_object_add(o, "name", json_object_new_string(b->name));
        if (b->owned) {
                json_object_object_add(o, "datapath_type",
                                       json_object_new_string(b->datapath_type[0] ? b->datapath_type : "system"));
                if (b->fail_mode)
                        json_object_object_add(o, "fail_mode", json_object_new_string(b->fail_mode));
                json_object_object_add(o, "stp_enable", json_object_new_boolean(b->stp_enable));
                json_object_object_add(o, "rstp_enable", json_object_new_boolean(b->rstp_enable));
                add_if(o, "other_config", map_or_null(b->other_config));
                add_if(o, "external_ids", map_or_null(b->external_ids));
        }
        for (size_t i = 0; i < have->n_ports; i++)
                if (have->ports[i].owned && streq(have->ports[i].bridge, b->name))
                        sorted[n++] = &have->ports[i];
        qsort(sorted, n, sizeof(NetPort *), cmp_port_name);
        for (size_t i = 0; i < n; i++)
                json_object_array_add(ports, port_to_json(sorted[i]));
        json_object_object_add(o, "ports", ports);
        return o;
}

static bool bridge_has_owned_port(const NetModel *have, const NetBridge *b) {
        for (size_t i = 0; i < have->n_ports; i++)
                if (have->ports[i].owned && streq(have->ports[i].bridge, b->name))
                        return true;
        return false;
}

static int cmp_bridge_name(const void *a, const void *b) {
        return strcmp((*(const NetBridge *const *) a)->name, (*(const NetBridge *const *) b)->name);
}

/* Owned bridges, and foreign bridges that carry owned ports (with only
 * those ports), sorted by name. */
int net_live_to_json(const NetModel *have, json_object **ret) {
        _cleanup_(freep) const NetBridge **sorted = calloc(have->n_bridges + 1, sizeof(NetBridge *));
        json_object *section, *bridges;
        size_t n = 0;

        if (!sorted)
                return -ENOMEM;
        for (size_t i = 0; i < have->n_bridges; i++)
                if (have->bridges[i].owned || bridge_has_owned_port(have, &have->bridges[i]))
                        sorted[n++] = &have->bridges[i];
        qsort(sorted, n, sizeof(NetBridge *), cmp_bridge_name);

        section = json_object_new_object();
        bridges = json_object_new_array();
        if (!section || !bridges) {
                json_object_put(section);
                json_object_put(bridges);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                json_object_array_add(bridges, bridge_to_json(have, sorted[i]));
        json_object_object_add(section, "bridges", bridges);
        *ret = section;
        return 0;
}

static int net_plugin_live_to_json(Plugin *p, json_object **ret) {
        return net_live_to_json(&((NetPlugin *) p)->have, ret);
}

static void net_plugin_done(Plugin *p) {
        NetPlugin *n = (NetPlugin *) p;

        net_model_done(&n->want);
        net_model_done(&n->have);
        free(n->auto_datapath);
        ovs_netdevs_done(&n->netdevs);
        free(n->changes);
        ovsdb_client_free(n->ovsdb);
}

const PluginVTable net_plugin_vtable = {
        .name = "net",
        .after = NULL,
        .object_size = sizeof(NetPlugin),
        .parse = net_plugin_parse,
        .query = net_plugin_query,
        .diff = net_plugin_diff,
        .apply = net_plugin_apply,
        .verify = net_plugin_verify,
        .live_to_json = net_plugin_live_to_json,
        .watch = &net_watch_vtable,
        .done = net_plugin_done,
};
