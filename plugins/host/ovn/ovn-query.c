/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "host.h"
#include "json-util.h"
#include "ovn.h"
#include "ovsdb-txn.h"

static json_object *column(json_object *row, const char *name) {
        json_object *v = NULL;

        (void) json_object_object_get_ex(row, name, &v);
        return v;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static char *dup_string(json_object *v) {
        return json_object_is_type(v, json_type_string) ? strdup(json_object_get_string(v)) : NULL;
}

/* A set of strings as one string: its elements, sorted, joined by ", ". */
static char *set_string(json_object *v) {
        size_t n = ovsdb_set_length(v);
        _cleanup_(freep) const char **s = calloc(n + 1, sizeof(char *));
        char *out = NULL;
        size_t len = 0;

        if (!s)
                return NULL;
        for (size_t i = 0; i < n; i++)
                s[i] = json_object_get_string(ovsdb_set_get(v, i)) ?: "";
        qsort(s, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++)
                len += strlen(s[i]) + 2;
        out = calloc(len + 1, 1);
        for (size_t i = 0; out && i < n; i++) {
                if (i > 0)
                        strcat(out, ", ");
                strcat(out, s[i]);
        }
        return out;
}

static int connect_nb(OvnPlugin *o, Diag *d) {
        int r;

        if (o->nb)
                return 0;
        r = ovsdb_client_connect(o->chassis.northbound, o->plugin.ctx->timeout_ms, &o->nb);
        if (r < 0)
                diag_error(d, "plugins.ovn.chassis.northbound", "cannot connect to the OVN northbound database %s: %s",
                           o->chassis.northbound, strerror(-r));
        return r;
}

static int connect_ovs(OvnPlugin *o, Diag *d) {
        const char *address = host_settings(o->plugin.ctx)->ovsdb_address;
        int r;

        if (o->ovs)
                return 0;
        r = ovsdb_client_connect(address, o->plugin.ctx->timeout_ms, &o->ovs);
        if (r < 0)
                diag_error(d, "plugins.ovn", "cannot connect to Open vSwitch at %s: %s", address, strerror(-r));
        return r;
}

static int read_switch(OvnPlugin *o, json_object *row) {
        _cleanup_(json_object_putp) json_object *ids = ovsdb_map_to_object(column(row, "external_ids"));
        _cleanup_(json_object_putp) json_object *oc = ovsdb_map_to_object(column(row, "other_config"));
        OvnModel *m = &o->have;
        json_object *v;
        OvnSwitch *s;

        s = reallocarray(m->switches, m->n_switches + 1, sizeof(OvnSwitch));
        if (!s)
                return -ENOMEM;
        m->switches = s;
        s = memset(&s[m->n_switches++], 0, sizeof(OvnSwitch));
        s->name = dup_string(column(row, "name"));
        s->uuid = strdup(ovsdb_uuid_string(column(row, "_uuid")) ?: "");
        if (!s->name || !s->uuid)
                return -ENOMEM;
        s->raw_ids = json_object_get(column(row, "external_ids"));
        s->raw_ports = json_object_get(column(row, "ports"));
        if (oc && json_object_object_get_ex(oc, "subnet", &v))
                s->subnet = strdup(json_object_get_string(v));
        if (!ids)
                return 0;
        s->owned = json_object_object_get_ex(ids, OVSDB_OWNER_KEY, &v) &&
                streq(json_object_get_string(v), OVN_OWNER_VALUE);
        json_object_object_foreach(ids, k, val) {
                (void) val;
                if (!startswith(k, OVN_DECLARER_PREFIX))
                        continue;
                s->n_declarers++;
                if (streq(k + strlen(OVN_DECLARER_PREFIX), o->chassis.system_id))
                        s->declared = true;
        }
        return 0;
}

static int read_port(OvnPlugin *o, json_object *row, const OvsdbRowIndex *by_port) {
        _cleanup_(json_object_putp) json_object *ids = ovsdb_map_to_object(column(row, "external_ids"));
        OvnModel *m = &o->have;
        json_object *v, *sw;
        OvnPort *p;

        p = reallocarray(m->ports, m->n_ports + 1, sizeof(OvnPort));
        if (!p)
                return -ENOMEM;
        m->ports = p;
        p = memset(&p[m->n_ports++], 0, sizeof(OvnPort));
        p->name = dup_string(column(row, "name"));
        p->uuid = strdup(ovsdb_uuid_string(column(row, "_uuid")) ?: "");
        p->address = set_string(column(row, "addresses"));
        p->security = set_string(column(row, "port_security"));
        if (ovsdb_set_length(column(row, "dhcpv4_options")) == 1 &&
            !(p->dhcp_uuid = strdup(ovsdb_uuid_string(ovsdb_set_get(column(row, "dhcpv4_options"), 0)) ?: "")))
                return -ENOMEM;
        if (!p->name || !p->uuid || !p->address || !p->security)
                return -ENOMEM;
        sw = ovsdb_row_index_find(by_port, p->uuid);
        if (sw) {
                p->sw = dup_string(column(sw, "name"));
                p->sw_uuid = strdup(ovsdb_uuid_string(column(sw, "_uuid")) ?: "");
                if (!p->sw || !p->sw_uuid)
                        return -ENOMEM;
        }
        if (ids) {
                p->owned = json_object_object_get_ex(ids, OVSDB_OWNER_KEY, &v) &&
                        streq(json_object_get_string(v), OVN_OWNER_VALUE);
                if (json_object_object_get_ex(ids, OVN_NODE_KEY, &v) && !(p->node = strdup(json_object_get_string(v))))
                        return -ENOMEM;
        }
        return 0;
}

/* op-dbus's DHCP_Options row of a switch: its options go with the switch
 * (the first op-dbus row, should there be several). */
static int read_dhcp(OvnPlugin *o, json_object *row) {
        _cleanup_(json_object_putp) json_object *ids = ovsdb_map_to_object(column(row, "external_ids"));
        json_object *v, *sw_name;
        OvnSwitch *s;

        if (!ids || !json_object_object_get_ex(ids, OVSDB_OWNER_KEY, &v) ||
            !streq(json_object_get_string(v), OVN_OWNER_VALUE) ||
            !json_object_object_get_ex(ids, OVN_SWITCH_KEY, &sw_name))
                return 0;
        s = ovn_find_switch(&o->have, json_object_get_string(sw_name));
        if (!s || s->dhcp_uuid)
                return 0;
        s->dhcp_uuid = strdup(ovsdb_uuid_string(column(row, "_uuid")) ?: "");
        s->dhcp_cidr = dup_string(column(row, "cidr"));
        s->dhcp = ovsdb_map_to_object(column(row, "options")) ?: json_object_new_object();
        return s->dhcp_uuid && s->dhcp_cidr && s->dhcp ? 0 : -ENOMEM;
}

static int query_nb(OvnPlugin *o, Diag *d) {
        static const char *const tables[] = { "Logical_Switch", "Logical_Switch_Port", "DHCP_Options" };
        static const char *const ls_columns[] = { "_uuid", "name", "ports", "external_ids", "other_config", NULL };
        static const char *const lsp_columns[] = {
                "_uuid", "name", "addresses", "port_security", "dhcpv4_options", "external_ids", NULL
        };
        static const char *const dhcp_columns[] = { "_uuid", "cidr", "options", "external_ids", NULL };
        static const char *const *const columns[] = { ls_columns, lsp_columns, dhcp_columns };
        _cleanup_(json_object_putp) json_object *results = NULL;
        _cleanup_(freep) char *err = NULL;
        _cleanup_(ovsdb_row_index_done) OvsdbRowIndex by_port = {};
        json_object *rows[3];
        int r;

        r = connect_nb(o, d);
        if (r < 0)
                return r;
        r = ovsdb_read_tables_db(o->nb, OVN_NB_DB, tables, columns, 3, &results, rows, &err);
        if (r < 0) {
                diag_error(d, "plugins.ovn.chassis.northbound", "cannot read the OVN northbound database: %s",
                           err ?: strerror(-r));
                o->nb = ovsdb_client_free(o->nb);
                return r;
        }
        r = ovsdb_row_index_build(rows[0], "ports", &by_port);
        if (r < 0)
                return r;
        for (size_t i = 0; i < json_object_array_length(rows[0]); i++) {
                r = read_switch(o, json_object_array_get_idx(rows[0], i));
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < json_object_array_length(rows[1]); i++) {
                r = read_port(o, json_object_array_get_idx(rows[1], i), &by_port);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < json_object_array_length(rows[2]); i++) {
                r = read_dhcp(o, json_object_array_get_idx(rows[2], i));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* An interface, and the bridge its port is on (by_iface: Port rows by
 * their interfaces, by_port: Bridge rows by their ports). */
static int read_iface(OvnPlugin *o, json_object *row, const OvsdbRowIndex *by_iface, const OvsdbRowIndex *by_port) {
        _cleanup_(json_object_putp) json_object *ids = ovsdb_map_to_object(column(row, "external_ids"));
        json_object *v, *port, *bridge;
        OvnIface *f;

        f = reallocarray(o->ifaces, o->n_ifaces + 1, sizeof(OvnIface));
        if (!f)
                return -ENOMEM;
        o->ifaces = f;
        f = memset(&f[o->n_ifaces++], 0, sizeof(OvnIface));
        f->name = dup_string(column(row, "name"));
        f->uuid = strdup(ovsdb_uuid_string(column(row, "_uuid")) ?: "");
        if (!f->name || !f->uuid)
                return -ENOMEM;
        port = ovsdb_row_index_find(by_iface, f->uuid);
        bridge = port ? ovsdb_row_index_find(by_port, ovsdb_uuid_string(column(port, "_uuid")) ?: "") : NULL;
        if (bridge && !(f->bridge = dup_string(column(bridge, "name"))))
                return -ENOMEM;
        if (ids && json_object_object_get_ex(ids, "iface-id", &v) && !(f->iface_id = dup_string(v)))
                return -ENOMEM;
        if (ids && json_object_object_get_ex(ids, OVN_IFACE_TAG, &v) && !(f->tag = dup_string(v)))
                return -ENOMEM;
        return 0;
}

static int query_ovs(OvnPlugin *o, Diag *d) {
        static const char *const tables[] = { "Open_vSwitch", "Interface", "Port", "Bridge" };
        static const char *const ovs_columns[] = { "_uuid", "external_ids", NULL };
        static const char *const if_columns[] = { "_uuid", "name", "external_ids", NULL };
        static const char *const port_columns[] = { "_uuid", "interfaces", NULL };
        static const char *const br_columns[] = { "name", "ports", NULL };
        static const char *const *const columns[] = { ovs_columns, if_columns, port_columns, br_columns };
        _cleanup_(json_object_putp) json_object *results = NULL;
        _cleanup_(freep) char *err = NULL;
        _cleanup_(ovsdb_row_index_done) OvsdbRowIndex by_iface = {}, by_port = {};
        json_object *rows[4], *row;
        int r;

        r = connect_ovs(o, d);
        if (r < 0)
                return r;
        r = ovsdb_read_tables(o->ovs, tables, columns, 4, &results, rows, &err);
        if (r < 0) {
                diag_error(d, "plugins.ovn", "cannot read the Open vSwitch database: %s", err ?: strerror(-r));
                o->ovs = ovsdb_client_free(o->ovs);
                return r;
        }
        row = json_object_array_get_idx(rows[0], 0);
        if (!row) {
                diag_error(d, "plugins.ovn", "the Open vSwitch database has no Open_vSwitch row");
                return -ENOENT;
        }
        o->ovs_uuid = strdup(ovsdb_uuid_string(column(row, "_uuid")) ?: "");
        o->ovs_ids = ovsdb_map_to_object(column(row, "external_ids")) ?: json_object_new_object();
        if (!o->ovs_uuid || !o->ovs_ids)
                return -ENOMEM;
        r = ovsdb_row_index_build(rows[2], "interfaces", &by_iface);
        if (r >= 0)
                r = ovsdb_row_index_build(rows[3], "ports", &by_port);
        if (r < 0)
                return r;
        for (size_t i = 0; i < json_object_array_length(rows[1]); i++) {
                r = read_iface(o, json_object_array_get_idx(rows[1], i), &by_iface, &by_port);
                if (r < 0)
                        return r;
        }
        return 0;
}

int ovn_query(OvnPlugin *o, Diag *d) {
        int r;

        ovn_model_done(&o->have);
        ovn_ifaces_free(o);
        free(o->ovs_uuid);
        o->ovs_uuid = NULL;
        json_object_put(o->ovs_ids);
        o->ovs_ids = NULL;
        if (!o->present)
                return 0;
        r = query_ovs(o, d);
        if (r < 0)
                return r;
        return query_nb(o, d);
}
