/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Turns the net plugin's changes into one OVSDB transaction, guarded by
 * "wait" operations on every existing row it touches, then waits until
 * ovs-vswitchd has applied it (cur_cfg reaches next_cfg). */
#include <inttypes.h>
#include <stdio.h>

#include "host.h"
#include "json-util.h"
#include "net.h"
#include "ovsdb-txn.h"

/* Port references to add to and remove from one bridge's "ports". */
typedef struct BridgeEdit {
        const char *name;
        const char *uuid;       /* NULL: created in this transaction */
        json_object *row;       /* the Bridge insert op's row, for created bridges */
        json_object *insert;    /* array of uuid atoms */
        json_object *delete;
} BridgeEdit;

typedef struct Txn {
        OvsdbTxn ops;
        BridgeEdit *edits;
        size_t n_edits, allocated_edits;
        char generation[32];
} Txn;

static void txn_done(Txn *t) {
        ovsdb_txn_done(&t->ops);
        for (size_t i = 0; i < t->n_edits; i++) {
                json_object_put(t->edits[i].insert);
                json_object_put(t->edits[i].delete);
        }
        free(t->edits);
}

/* external_ids for a row we own: the user's keys plus our tags. */
static json_object *owned_ids(Txn *t, json_object *user) {
        return ovsdb_owned_ids(user, NET_OWNER_VALUE, (const char *const[]) { OVSDB_GENERATION_KEY, t->generation, NULL });
}

/* The guard: fails the transaction at once if the row is gone or renamed
 * since it was read. */
static void guard_row(Txn *t, const char *table, const char *uuid, const char *name) {
        ovsdb_txn_guard_name(&t->ops, table, ovsdb_where_uuid(uuid), name);
}

static BridgeEdit *bridge_edit(Txn *t, const char *name, const char *uuid) {
        BridgeEdit *e;

        for (size_t i = 0; i < t->n_edits; i++)
                if (streq(t->edits[i].name, name))
                        return &t->edits[i];
        if (greedy_realloc((void **) &t->edits, &t->allocated_edits, t->n_edits + 1, sizeof(BridgeEdit)) < 0)
                return NULL;
        e = &t->edits[t->n_edits++];
        *e = (BridgeEdit) {
                .name = name,
                .uuid = uuid,
                .insert = json_object_new_array(),
                .delete = json_object_new_array(),
        };
        if (uuid)
                guard_row(t, "Bridge", uuid, name);
        return e;
}

static json_object *trunks_set(const NetPort *p) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; i < p->n_trunks; i++)
                json_object_array_add(a, json_object_new_int64(p->trunks[i]));
        return ovsdb_set(a);
}

static json_object *port_columns(Txn *t, const NetPort *w) {
        json_object *row = json_object_new_object();

        json_object_object_add(row, "tag", ovsdb_opt_int(w->tag));
        json_object_object_add(row, "trunks", trunks_set(w));
        json_object_object_add(row, "vlan_mode", ovsdb_opt_string(w->vlan_mode));
        json_object_object_add(row, "external_ids", owned_ids(t, w->external_ids));
        return row;
}

static json_object *iface_columns(Txn *t, const NetPort *w, bool type) {
        json_object *row = json_object_new_object();

        if (type)
                json_object_object_add(row, "type", json_object_new_string(w->type));
        json_object_object_add(row, "options", ovsdb_map_from_object(w->options));
        json_object_object_add(row, "mtu_request", ovsdb_opt_int(w->mtu_request));
        json_object_object_add(row, "external_ids", owned_ids(t, NULL));
        return row;
}

/* Inserts Interface + Port rows; returns the Port's named-uuid atom. */
static json_object *insert_port(Txn *t, const NetPort *w) {
        return ovsdb_txn_insert_port(&t->ops, w->name, iface_columns(t, w, true), port_columns(t, w));
}

static void update_port(Txn *t, const NetPort *w, const NetPort *h) {
        if (w->tag != h->tag || !net_trunks_equal(w, h) || !streq_ptr(w->vlan_mode, h->vlan_mode) ||
            !json_object_equal(w->external_ids, h->external_ids) || h->tags_missing)
                ovsdb_txn_update(&t->ops, "Port", ovsdb_where_uuid(h->uuid), port_columns(t, w));
        if (w->mtu_request != h->mtu_request || !json_object_equal(w->options, h->options) || h->tags_missing)
                ovsdb_txn_update(&t->ops, "Interface", ovsdb_where_uuid(h->iface_uuid), iface_columns(t, w, false));
}

static json_object *bridge_columns(Txn *t, const NetBridge *w, const char *datapath) {
        json_object *row = json_object_new_object();

        json_object_object_add(row, "datapath_type", json_object_new_string(datapath));
        json_object_object_add(row, "fail_mode", ovsdb_opt_string(w->fail_mode));
        json_object_object_add(row, "stp_enable", json_object_new_boolean(w->stp_enable));
        json_object_object_add(row, "rstp_enable", json_object_new_boolean(w->rstp_enable));
        json_object_object_add(row, "other_config", ovsdb_map_from_object(w->other_config));
        json_object_object_add(row, "external_ids", owned_ids(t, w->external_ids));
        return row;
}

/* A change of Open_vSwitch.bridges (mutator "insert" or "delete"). */
static void root_bridges(Txn *t, const char *mutator, json_object *atom) {
        json_object *set = json_object_new_array();

        json_object_array_add(set, atom);
        ovsdb_txn_mutate(&t->ops, "Open_vSwitch", json_object_new_array(), "bridges", mutator, ovsdb_set(set));
}

/* A new bridge with its local internal port, registered in Open_vSwitch. */
static int create_bridge(Txn *t, const NetPlugin *n, const NetBridge *w) {
        NetPort local = { .name = w->name, .type = (char *) "internal", .tag = -1, .mtu_request = -1 };
        json_object *port, *row, *bridge;
        BridgeEdit *e;

        local.options = json_object_new_object();
        local.external_ids = json_object_new_object();
        port = insert_port(t, &local);
        json_object_put(local.options);
        json_object_put(local.external_ids);

        e = bridge_edit(t, w->name, NULL);
        if (!port || !e)
                return -ENOMEM;
        json_object_array_add(e->insert, port);

        row = bridge_columns(t, w, streq(w->datapath_type, "auto") ? n->auto_datapath : w->datapath_type);
        json_object_object_add(row, "name", json_object_new_string(w->name));
        e->row = row;
        bridge = ovsdb_txn_insert(&t->ops, "Bridge", row);
        if (!bridge)
                return -ENOMEM;
        root_bridges(t, "insert", bridge);
        return 0;
}

static void delete_bridge(Txn *t, const NetBridge *h) {
        guard_row(t, "Bridge", h->uuid, h->name);
        root_bridges(t, "delete", ovsdb_uuid(h->uuid));
}

static BridgeEdit *edit_for(Txn *t, const NetModel *have, const char *bridge) {
        const NetBridge *hb = net_model_find_bridge(have, bridge);

        return bridge_edit(t, bridge, hb ? hb->uuid : NULL);
}

static int apply_port_change(Txn *t, const NetPlugin *n, const NetChange *c) {
        const NetPort *w = c->want_port, *h = c->have_port;
        BridgeEdit *from = NULL, *to = NULL;
        json_object *atom;

        if (h) {
                guard_row(t, "Port", h->uuid, h->name);
                from = edit_for(t, &n->have, h->bridge);
                if (!from)
                        return -ENOMEM;
        }
        if (w) {
                to = edit_for(t, &n->have, w->bridge);
                if (!to)
                        return -ENOMEM;
        }

        switch (c->kind) {
        case NET_PORT_CREATE:
                atom = insert_port(t, w);
                if (!atom)
                        return -ENOMEM;
                json_object_array_add(to->insert, atom);
                return 0;
        case NET_PORT_MODIFY:
                update_port(t, w, h);
                return 0;
        case NET_PORT_REPLUG:
                update_port(t, w, h);
                json_object_array_add(from->delete, ovsdb_uuid(h->uuid));
                json_object_array_add(to->insert, ovsdb_uuid(h->uuid));
                return 0;
        case NET_PORT_RECREATE:
                json_object_array_add(from->delete, ovsdb_uuid(h->uuid));
                atom = insert_port(t, w);
                if (!atom)
                        return -ENOMEM;
                json_object_array_add(to->insert, atom);
                return 0;
        case NET_PORT_DELETE:
                json_object_array_add(from->delete, ovsdb_uuid(h->uuid));
                return 0;
        default:
                return -EINVAL;
        }
}

/* One mutate per existing bridge; created bridges get their ports in the
 * insert itself. */
static void flush_bridge_edits(Txn *t) {
        for (size_t i = 0; i < t->n_edits; i++) {
                BridgeEdit *e = &t->edits[i];

                if (!e->uuid)
                        json_object_object_add(e->row, "ports", ovsdb_set(json_object_get(e->insert)));
                else
                        ovsdb_txn_mutate_set(&t->ops, "Bridge", ovsdb_where_uuid(e->uuid), "ports",
                                             json_object_get(e->delete), json_object_get(e->insert));
        }
}

static int build_txn(Txn *t, const NetPlugin *n) {
        int r;

        for (size_t i = 0; i < n->n_changes; i++) {
                const NetChange *c = &n->changes[i];

                switch (c->kind) {
                case NET_BRIDGE_CREATE:
                        r = create_bridge(t, n, c->want_bridge);
                        break;
                case NET_BRIDGE_MODIFY:
                        guard_row(t, "Bridge", c->have_bridge->uuid, c->have_bridge->name);
                        ovsdb_txn_update(&t->ops, "Bridge", ovsdb_where_uuid(c->have_bridge->uuid),
                                         bridge_columns(t, c->want_bridge,
                                                        streq(c->want_bridge->datapath_type, "auto") ?
                                                        c->have_bridge->datapath_type : c->want_bridge->datapath_type));
                        r = 0;
                        break;
                case NET_BRIDGE_DELETE:
                        delete_bridge(t, c->have_bridge);
                        r = 0;
                        break;
                default:
                        r = apply_port_change(t, n, c);
                }
                if (r < 0)
                        return r;
        }
        flush_bridge_edits(t);
        ovsdb_txn_bump_next_cfg(&t->ops);
        return t->ops.error;
}

/* The database changed between query and transaction (a guard failed or a
 * name was taken): read it again and recompute the changes. */
static int replan(NetPlugin *n, Diag *d) {
        _cleanup_(plan_done) Plan scratch = {};
        _cleanup_(diag_done) Diag sd = {};
        int r;

        r = net_query(n, &sd);
        if (r >= 0)
                r = net_diff(n, &scratch, &sd);
        if (r < 0)
                (void) diag_move(d, &sd);
        return r;
}

int net_apply(NetPlugin *n, ApplyCounts *counts, Diag *d) {
        const PluginContext *ctx = n->plugin.ctx;
        int r;

        for (unsigned attempt = 0;; attempt++) {
                _cleanup_(txn_done) Txn t = {};
                _cleanup_(json_object_putp) json_object *results = NULL;
                _cleanup_(freep) char *err = NULL;

                if (n->n_changes == 0)
                        return 0;

                snprintf(t.generation, sizeof t.generation, "%" PRIu64, ctx->generation);
                r = ovsdb_txn_init(&t.ops);
                if (r >= 0)
                        r = build_txn(&t, n);
                if (r < 0)
                        return r;

                apply_counts_write(counts, COUNT_OVSDB_OPS, t.ops.writes);
                r = ovsdb_txn_commit(n->ovsdb, &t.ops, &results, &err);
                if ((r == -ETIMEDOUT || r == -EEXIST) && err && attempt == 0) {
                        diag_note(d, "", "Open vSwitch changed while planning (%s); planning again", err);
                        r = replan(n, d);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (r < 0 && err)
                        diag_error(d, "", "OVSDB rejected the transaction: %s", err);
                else if (r < 0)
                        diag_error(d, "", "lost the connection to OVSDB during the transaction (%s): ovsdb-server "
                                   "stopped or did not answer, so whether it was carried out is not known",
                                   strerror(-r));
                if (r < 0)
                        return r;

                n->applied = true;
                r = ovsdb_wait_applied(n->ovsdb, results, ctx->timeout_ms, &err);
                if (r < 0)
                        diag_error(d, "", "%s", err ?: strerror(-r));
                return r;
        }
}
