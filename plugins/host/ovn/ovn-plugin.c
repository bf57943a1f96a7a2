/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <time.h>

#include "host.h"
#include "json-util.h"
#include "ovn.h"
#include "ovsdb-txn.h"

/* How long verify waits for ovn-controller to claim the ports. */
#define OVN_BIND_WAIT_MS 10000

static int ovn_plugin_parse(Plugin *p, const StateDoc *doc, json_object *section, Diag *d) {
        (void) doc;
        return ovn_parse((OvnPlugin *) p, section, d);
}

/* The chassis' remote key of the applied section, or NULL. */
static const char *applied_remote(json_object *applied, const char *key) {
        json_object *c, *v;

        if (!applied || !json_object_object_get_ex(applied, "chassis", &c) ||
            !json_object_object_get_ex(c, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

/* op-dbus connects to the northbound database (plan, apply) and to the
 * southbound one (verify), as root: a caller other than root names only
 * those of the applied state. */
static int ovn_plugin_check_restricted(Plugin *p, json_object *applied, Diag *d) {
        OvnPlugin *o = (OvnPlugin *) p;
        static const char *const keys[] = { "northbound", "southbound" };
        const char *want[] = { o->chassis.northbound, o->chassis.southbound };
        int ret = 0;

        if (!o->present)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const char *a = applied_remote(applied, keys[i]);
                char path[64];

                if (want[i] && a && streq(want[i], a))
                        continue;
                snprintf(path, sizeof path, "plugins.ovn.chassis.%s", keys[i]);
                diag_error(d, path, "not the %s database of the applied state: op-dbus would connect to it; "
                           PLUGIN_RESTRICTED_HINT, keys[i]);
                ret = -EACCES;
        }
        return ret;
}

static int ovn_plugin_query(Plugin *p, Diag *d) {
        return ovn_query((OvnPlugin *) p, d);
}

static int ovn_plugin_diff(Plugin *p, Plan *plan, Diag *d) {
        return ovn_walk((OvnPlugin *) p, plan, NULL, NULL, d);
}

static int ovn_plugin_apply(Plugin *p, ApplyCounts *counts, Diag *d) {
        return ovn_apply((OvnPlugin *) p, counts, d);
}

static json_object *column(json_object *row, const char *name) {
        json_object *v = NULL;

        (void) json_object_object_get_ex(row, name, &v);
        return v;
}

/* The chassis each port of the state with a local interface is bound to,
 * from the southbound database: NULL (unbound) or the Chassis name. */
typedef struct Binding {
        const OvnPort *port;
        const char *chassis;
} Binding;

static int read_bindings(OvsdbClient *sb, Binding *b, size_t n, json_object **ret_results, char **err) {
        static const char *const tables[] = { "Chassis", "Port_Binding" };
        static const char *const ch_cols[] = { "_uuid", "name", NULL };
        static const char *const pb_cols[] = { "logical_port", "chassis", NULL };
        static const char *const *const columns[] = { ch_cols, pb_cols };
        _cleanup_(ovsdb_row_index_done) OvsdbRowIndex chassis = {};
        json_object *rows[2];
        int r;

        r = ovsdb_read_tables_db(sb, OVN_SB_DB, tables, columns, 2, ret_results, rows, err);
        if (r < 0)
                return r;
        r = ovsdb_row_index_build(rows[0], "_uuid", &chassis);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                b[i].chassis = NULL;
                for (size_t j = 0; j < json_object_array_length(rows[1]); j++) {
                        json_object *row = json_object_array_get_idx(rows[1], j);
                        json_object *lp = column(row, "logical_port");
                        const char *uuid;
                        json_object *ch;

                        if (!streq(json_object_get_string(lp) ?: "", b[i].port->name))
                                continue;
                        uuid = ovsdb_set_length(column(row, "chassis")) == 1 ?
                                ovsdb_uuid_string(ovsdb_set_get(column(row, "chassis"), 0)) : NULL;
                        ch = uuid ? ovsdb_row_index_find(&chassis, uuid) : NULL;
                        b[i].chassis = ch ? json_object_get_string(column(ch, "name")) : NULL;
                }
        }
        return 0;
}

static bool all_bound(const OvnPlugin *o, const Binding *b, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!b[i].chassis || !streq(b[i].chassis, o->chassis.system_id))
                        return false;
        return true;
}

/* ovn-controller claims a port once its interface carries the iface-id:
 * the southbound Port_Binding then names this chassis. A port claimed by
 * another chassis is an error; one not claimed in time a warning (an
 * ovn-controller that is not running, or slow). */
static int verify_bindings(OvnPlugin *o, Diag *d) {
        _cleanup_(freep) Binding *b = calloc(o->want.n_ports + 1, sizeof(Binding));
        _cleanup_(ovsdb_client_freep) OvsdbClient *sb = NULL;
        _cleanup_(json_object_putp) json_object *results = NULL;
        int wait_ms = o->plugin.ctx->timeout_ms < OVN_BIND_WAIT_MS ? o->plugin.ctx->timeout_ms : OVN_BIND_WAIT_MS;
        size_t n = 0;
        int r, ret = 0;

        if (!b)
                return -ENOMEM;
        for (size_t i = 0; i < o->want.n_ports; i++)
                if (o->want.ports[i].interface && ovn_find_iface(o, o->want.ports[i].interface))
                        b[n++].port = &o->want.ports[i];
        /* op-dbus's client speaks no SSL */
        if (n == 0 || startswith(o->chassis.southbound, "ssl:"))
                return 0;
        r = ovsdb_client_connect(o->chassis.southbound, o->plugin.ctx->timeout_ms, &sb);
        if (r < 0) {
                diag_warning(d, "plugins.ovn.chassis.southbound", "cannot read the port bindings from %s: %s",
                             o->chassis.southbound, strerror(-r));
                return 0;
        }
        for (int waited = 0;; waited += 100) {
                _cleanup_(freep) char *err = NULL;
                struct timespec ts = { 0, 100 * 1000000L };

                json_object_put(results);
                results = NULL;
                r = read_bindings(sb, b, n, &results, &err);
                if (r < 0) {
                        diag_warning(d, "plugins.ovn.chassis.southbound", "cannot read the port bindings: %s",
                                     err ?: strerror(-r));
                        return 0;
                }
                if (all_bound(o, b, n) || waited >= wait_ms)
                        break;
                (void) nanosleep(&ts, NULL);
        }
        for (size_t i = 0; i < n; i++) {
                if (b[i].chassis && streq(b[i].chassis, o->chassis.system_id))
                        continue;
                if (b[i].chassis) {
                        diag_error(d, b[i].port->path, "logical switch port \"%s\" is bound to chassis %s, not to this "
                                   "node (%s): its interface is bound there too", b[i].port->name, b[i].chassis,
                                   o->chassis.system_id);
                        ret = -EIO;
                } else
                        diag_warning(d, b[i].port->path, "logical switch port \"%s\" is not bound to this chassis (%s) "
                                     "yet: is ovn-controller running and connected to %s?", b[i].port->name,
                                     o->chassis.system_id, o->chassis.southbound);
        }
        return ret;
}

static int ovn_plugin_verify(Plugin *p, Diag *d) {
        OvnPlugin *o = (OvnPlugin *) p;

        if (!o->present)
                return 0;
        return verify_bindings(o, d);
}

/* ---- the snapshot ---- */

static void add_str(json_object *o, const char *key, const char *v) {
        if (v)
                json_object_object_add(o, key, json_object_new_string(v));
}

static json_object *chassis_to_json(const OvnPlugin *o) {
        json_object *c = json_object_new_object();
        const char *keys[5], *values[5];
        size_t n = ovn_chassis_keys(&o->chassis, keys, values);
        static const char *const names[] = { "southbound", "encap_type", "encap_ip", "system_id", "bridge" };

        if (!c)
                return NULL;
        add_str(c, "northbound", o->chassis.northbound);
        for (size_t i = 0; i < n; i++) {
                json_object *v;

                /* a key that was not set: the state's (a rollback leaves it) */
                add_str(c, names[i], json_object_object_get_ex(o->ovs_ids, keys[i], &v) ?
                        json_object_get_string(v) : values[i]);
        }
        /* the system-id names the node's rows: it is this state's */
        json_object_object_add(c, "system_id", json_object_new_string(o->chassis.system_id));
        return c;
}

/* The section's dhcp of a DHCP_Options.options (server_id and server_mac
 * follow from the rest). */
static json_object *dhcp_to_json(json_object *options) {
        json_object *j = json_object_new_object(), *v;

        if (!j)
                return NULL;
        if (json_object_object_get_ex(options, "router", &v))
                add_str(j, "router", json_object_get_string(v));
        if (json_object_object_get_ex(options, "dns_server", &v))
                add_str(j, "dns", json_object_get_string(v));
        if (json_object_object_get_ex(options, "lease_time", &v))
                json_object_object_add(j, "lease_time", json_object_new_int64(strtoll(json_object_get_string(v), NULL, 10)));
        return j;
}

static bool switch_in_snapshot(const OvnPlugin *o, const OvnSwitch *h) {
        if (!h->owned)
                return false;
        if (h->declared)
                return true;
        for (size_t i = 0; i < o->have.n_ports; i++) {
                const OvnPort *p = &o->have.ports[i];

                if (p->owned && p->node && streq(p->node, o->chassis.system_id) && p->sw && streq(p->sw, h->name))
                        return true;
        }
        return false;
}

static json_object *port_to_json(const OvnPlugin *o, const OvnPort *p) {
        json_object *j = json_object_new_object();
        char mac[18] = "", ip[16] = "";

        if (!j)
                return NULL;
        (void) sscanf(p->address, "%17s %15s", mac, ip);
        add_str(j, "name", p->name);
        add_str(j, "switch", p->sw);
        add_str(j, "mac", mac);
        add_str(j, "ip", ip);
        for (size_t i = 0; i < o->n_ifaces; i++)
                if (o->ifaces[i].tag && streq(o->ifaces[i].tag, p->name))
                        add_str(j, "interface", o->ifaces[i].name);
        return j;
}

static int ovn_plugin_live_to_json(Plugin *p, json_object **ret) {
        OvnPlugin *o = (OvnPlugin *) p;
        _cleanup_(json_object_putp) json_object *s = NULL;
        json_object *switches, *ports;

        /* without a section op-dbus knows no northbound database: nothing to show */
        *ret = NULL;
        if (!o->present)
                return 0;
        s = json_object_new_object();
        switches = json_object_new_array();
        ports = json_object_new_array();
        if (!s || !switches || !ports) {
                json_object_put(switches);
                json_object_put(ports);
                return -ENOMEM;
        }
        json_object_object_add(s, "switches", switches);
        json_object_object_add(s, "ports", ports);
        json_object_object_add(s, "chassis", chassis_to_json(o));
        for (size_t i = 0; i < o->have.n_switches; i++) {
                const OvnSwitch *h = &o->have.switches[i];
                json_object *j;

                if (!switch_in_snapshot(o, h))
                        continue;
                j = json_object_new_object();
                if (!j)
                        return -ENOMEM;
                add_str(j, "name", h->name);
                add_str(j, "subnet", h->subnet);
                if (h->dhcp_uuid)
                        json_object_object_add(j, "dhcp", dhcp_to_json(h->dhcp));
                json_object_array_add(switches, j);
        }
        for (size_t i = 0; i < o->have.n_ports; i++) {
                const OvnPort *h = &o->have.ports[i];

                if (h->owned && h->node && streq(h->node, o->chassis.system_id) && h->sw)
                        json_object_array_add(ports, port_to_json(o, h));
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static void ovn_plugin_done(Plugin *p) {
        OvnPlugin *o = (OvnPlugin *) p;

        ovn_model_done(&o->want);
        ovn_model_done(&o->have);
        ovn_chassis_done(&o->chassis);
        ovn_ifaces_free(o);
        free(o->ovs_uuid);
        json_object_put(o->ovs_ids);
        ovsdb_client_free(o->nb);
        ovsdb_client_free(o->ovs);
}

static const char *const ovn_after[] = { "net", "lxc", NULL };

const PluginVTable ovn_plugin_vtable = {
        .name = "ovn",
        .after = ovn_after,
        .object_size = sizeof(OvnPlugin),
        .parse = ovn_plugin_parse,
        .check_restricted = ovn_plugin_check_restricted,
        .query = ovn_plugin_query,
        .diff = ovn_plugin_diff,
        .apply = ovn_plugin_apply,
        .verify = ovn_plugin_verify,
        .live_to_json = ovn_plugin_live_to_json,
        .done = ovn_plugin_done,
};
