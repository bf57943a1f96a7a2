/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "host.h"
#include "json-util.h"
#include "net.h"

static json_object *column(json_object *row, const char *name) {
        json_object *v = NULL;

        (void) json_object_object_get_ex(row, name, &v);
        return v;
}

/* An optional string column: "x" or ["set", []]. */
static char *opt_string(json_object *row, const char *name) {
        json_object *v = column(row, name);

        if (json_object_is_type(v, json_type_string))
                return strdup(json_object_get_string(v));
        return NULL;
}

static int64_t opt_int(json_object *row, const char *name) {
        json_object *v = column(row, name);

        return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
}

/* Splits external_ids into user keys and our ownership flag. */
static int read_external_ids(json_object *row, json_object **user, bool *owned) {
        _cleanup_(json_object_putp) json_object *all = ovsdb_map_to_object(column(row, "external_ids"));
        json_object *v;

        *owned = false;
        if (!all)
                return 0;
        if (json_object_object_get_ex(all, OVSDB_OWNER_KEY, &v) &&
            streq(json_object_get_string(v), NET_OWNER_VALUE))
                *owned = true;

        json_object_object_foreach(all, k, val)
                if (!startswith(k, OVSDB_TAG_PREFIX))
                        json_object_object_add(*user, k, json_object_get(val));
        return 0;
}

static int replace_map(json_object **dst, json_object *value) {
        json_object *m = ovsdb_map_to_object(value);

        if (!m)
                return 0;
        json_object_put(*dst);
        *dst = m;
        return 0;
}

/* Every row has its "name" and "_uuid"; -EBADMSG when not. */
static int row_identity(json_object *row, char **ret_name, char **ret_uuid) {
        json_object *name = column(row, "name");
        const char *uuid = ovsdb_uuid_string(column(row, "_uuid"));

        if (!json_object_is_type(name, json_type_string) || !uuid)
                return -EBADMSG;
        *ret_name = strdup(json_object_get_string(name));
        *ret_uuid = strdup(uuid);
        return *ret_name && *ret_uuid ? 0 : -ENOMEM;
}

static int read_port(NetModel *m, const char *bridge, json_object *port, const OvsdbRowIndex *ifaces) {
        json_object *iface_set = column(port, "interfaces"), *iface, *trunks = column(port, "trunks");
        NetPort *p;
        int r;

        r = net_model_add_port(m, &p);
        if (r < 0)
                return r;
        r = row_identity(port, &p->name, &p->uuid);
        if (r < 0)
                return r;
        p->bridge = strdup(bridge);
        if (!p->bridge)
                return -ENOMEM;
        p->tag = opt_int(port, "tag");
        p->vlan_mode = opt_string(port, "vlan_mode");
        read_external_ids(port, &p->external_ids, &p->owned);

        p->n_trunks = ovsdb_set_length(trunks);
        p->trunks = calloc(p->n_trunks + 1, sizeof(int64_t));
        if (!p->trunks)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_trunks; i++)
                p->trunks[i] = json_object_get_int64(ovsdb_set_get(trunks, i));

        /* Bonds have several interfaces; op-dbus creates one per port. */
        iface = ovsdb_set_length(iface_set) == 1 ?
                ovsdb_row_index_find(ifaces, ovsdb_uuid_string(ovsdb_set_get(iface_set, 0))) : NULL;
        if (!iface) {
                p->owned = false;
                p->type = strdup("bond");
                return p->type ? 0 : -ENOMEM;
        }
        p->iface_uuid = strdup_or_null(ovsdb_uuid_string(column(iface, "_uuid")));
        p->type = strdup(json_object_get_string(column(iface, "type")) ?: "");
        p->mtu_request = opt_int(iface, "mtu_request");
        p->error = opt_string(iface, "error");
        replace_map(&p->options, column(iface, "options"));
        if (!p->iface_uuid || !p->type)
                return -ENOMEM;
        return 0;
}

static int read_bridge(NetModel *m, json_object *row, const OvsdbRowIndex *ports, const OvsdbRowIndex *ifaces) {
        json_object *port_set = column(row, "ports");
        NetBridge *b;
        int r;

        r = net_model_add_bridge(m, &b);
        if (r < 0)
                return r;
        r = row_identity(row, &b->name, &b->uuid);
        if (r < 0)
                return r;
        b->datapath_type = strdup(json_object_get_string(column(row, "datapath_type")) ?: "");
        if (!b->datapath_type)
                return -ENOMEM;
        b->fail_mode = opt_string(row, "fail_mode");
        /* ovs-vswitchd writes datapath_id once it has set the bridge's
         * datapath up (in the transaction that advances cur_cfg); a bridge
         * whose datapath could not be created keeps it empty. */
        {
                json_object *dpid = column(row, "datapath_id");

                b->has_datapath = json_object_is_type(dpid, json_type_string) && json_object_get_string_len(dpid) > 0;
        }
        b->stp_enable = json_object_get_boolean(column(row, "stp_enable"));
        b->rstp_enable = json_object_get_boolean(column(row, "rstp_enable"));
        replace_map(&b->other_config, column(row, "other_config"));
        read_external_ids(row, &b->external_ids, &b->owned);
        b->n_port_uuids = ovsdb_set_length(port_set);

        for (size_t i = 0; i < b->n_port_uuids; i++) {
                json_object *port = ovsdb_row_index_find(ports, ovsdb_uuid_string(ovsdb_set_get(port_set, i)));
                char *bridge_name = m->bridges[m->n_bridges - 1].name;

                if (!port || streq_ptr(json_object_get_string(column(port, "name")), bridge_name))
                        continue; /* the bridge's local port */
                r = read_port(m, bridge_name, port, ifaces);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* "auto": the kernel datapath when vswitchd offers it and the module is
 * loaded, else the userspace one. */
static int resolve_auto_datapath(NetPlugin *n, json_object *ovs_row) {
        json_object *types = column(ovs_row, "datapath_types");
        bool system = false, netdev = false;

        for (size_t i = 0; i < ovsdb_set_length(types); i++) {
                const char *t = json_object_get_string(ovsdb_set_get(types, i));

                system |= streq_ptr(t, "system");
                netdev |= streq_ptr(t, "netdev");
        }
        if (system && access("/sys/module/openvswitch", F_OK) < 0)
                system = false;

        free(n->auto_datapath);
        n->auto_datapath = strdup(system ? "system" : netdev ? "netdev" : "system");
        return n->auto_datapath ? 0 : -ENOMEM;
}

static int ensure_connected(NetPlugin *n) {
        OvsdbClient *c = NULL;
        int r;

        if (n->ovsdb)
                return 0;
        r = ovsdb_client_connect(host_settings(n->plugin.ctx)->ovsdb_address, n->plugin.ctx->timeout_ms, &c);
        if (r < 0)
                return r;
        n->ovsdb = c;
        return 0;
}

/* ovs-vswitchd carries out what OVSDB holds some time after it is
 * written: after an apply that was interrupted before it waited for that
 * (killed), or a change made with ovs-vsctl --no-wait, OVSDB may have
 * bridges and ports that do not exist yet. Reading the host then would
 * show them as there when they are not (no datapath, no OpenFlow
 * connection, no port numbers); so wait until ovs-vswitchd has caught up.
 * Returns 1 when it had to (read again), 0 when it had not. */
static int wait_vswitchd(NetPlugin *n, json_object *ovs_row, Diag *d) {
        _cleanup_(freep) char *err = NULL;
        json_object *v;
        int64_t cur, cur0, next;
        int r;

        cur = cur0 = json_object_object_get_ex(ovs_row, "cur_cfg", &v) ? json_object_get_int64(v) : 0;
        next = json_object_object_get_ex(ovs_row, "next_cfg", &v) ? json_object_get_int64(v) : 0;
        if (cur >= next)
                return 0;
        r = ovsdb_wait_cur_cfg(n->ovsdb, next, n->plugin.ctx->timeout_ms, &cur, &err);
        if (r == -ETIMEDOUT) {
                diag_error(d, "", "ovs-vswitchd has not carried out the configuration OVSDB holds (it is at "
                           "configuration %" PRId64 " of %" PRId64 "): an earlier change, such as one of an apply "
                           "that was interrupted, is still pending, so bridges and ports in OVSDB may not exist "
                           "yet; it did not catch up within %d s: is ovs-vswitchd running?", cur, next,
                           n->plugin.ctx->timeout_ms / 1000);
                return r;
        }
        if (r < 0) {
                diag_error(d, "", "waiting for ovs-vswitchd failed: %s", err ?: strerror(-r));
                return r;
        }
        diag_note(d, "", "ovs-vswitchd had not carried out the configuration OVSDB holds (configuration %" PRId64
                  " of %" PRId64 "); waited for it to catch up", cur0, next);
        return 1;
}

int net_query(NetPlugin *n, Diag *d) {
        static const char *const ovs_cols[] = { "_uuid", "datapath_types", "cur_cfg", "next_cfg", NULL };
        static const char *const bridge_cols[] = {
                "_uuid", "name", "datapath_type", "datapath_id", "fail_mode", "stp_enable", "rstp_enable",
                "other_config", "external_ids", "ports", NULL
        };
        static const char *const port_cols[] = {
                "_uuid", "name", "interfaces", "tag", "trunks", "vlan_mode", "external_ids", NULL
        };
        static const char *const iface_cols[] = {
                "_uuid", "name", "type", "options", "mtu_request", "error", NULL
        };
        static const char *const tables[] = { "Open_vSwitch", "Bridge", "Port", "Interface" };
        static const char *const *const columns[] = { ovs_cols, bridge_cols, port_cols, iface_cols };
        _cleanup_(json_object_putp) json_object *results = NULL;
        _cleanup_(ovsdb_row_index_done) OvsdbRowIndex port_index = {}, iface_index = {};
        _cleanup_(freep) char *err = NULL;
        json_object *rows[4], *ovs, *bridges, *ports, *ifaces;
        int r;

        r = ensure_connected(n);
        if (r < 0) {
                diag_error(d, "", "cannot connect to OVSDB at %s: %s", host_settings(n->plugin.ctx)->ovsdb_address, strerror(-r));
                return r;
        }

again:
        r = ovsdb_read_tables(n->ovsdb, tables, columns, 4, &results, rows, &err);
        if (r < 0 && (r != -EBADMSG || err)) {
                diag_error(d, "", "OVSDB query failed: %s", err ?: strerror(-r));
                return r;
        }
        if (r < 0 || json_object_array_length(rows[0]) != 1) {
                diag_error(d, "", "OVSDB answered the query with an unexpected result");
                return -EBADMSG;
        }
        ovs = rows[0];
        bridges = rows[1];
        ports = rows[2];
        ifaces = rows[3];
        r = wait_vswitchd(n, json_object_array_get_idx(ovs, 0), d);
        if (r < 0)
                return r;
        if (r > 0) {
                json_object_put(TAKE_PTR(results));
                goto again;
        }

        net_model_done(&n->have);
        r = ovsdb_row_index_build(ports, "_uuid", &port_index);
        if (r >= 0)
                r = ovsdb_row_index_build(ifaces, "_uuid", &iface_index);
        if (r >= 0)
                r = resolve_auto_datapath(n, json_object_array_get_idx(ovs, 0));
        for (size_t i = 0; r >= 0 && i < json_object_array_length(bridges); i++)
                r = read_bridge(&n->have, json_object_array_get_idx(bridges, i), &port_index, &iface_index);
        if (r == -EBADMSG)
                diag_error(d, "", "OVSDB answered the query with a row without its name or uuid");
        if (r >= 0 && n->plugin.ctx->state_dir)
                r = net_ledger_apply(&n->have, n->plugin.ctx->state_dir);
        if (r < 0)
                return r;
        /* For the names of new bridges; when they cannot be read, the
         * check is skipped rather than the plan refused. */
        ovs_netdevs_done(&n->netdevs);
        (void) ovs_netdevs_read(host_settings(n->plugin.ctx)->ovs_rundir, &n->netdevs);
        n->have_queried = true;
        return 0;
}
