/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Turns the net plugin's changes into one OVSDB transaction, guarded by
 * "wait" operations on every existing row it touches, then waits until
 * ovs-vswitchd has applied it (cur_cfg reaches next_cfg). */
#include <inttypes.h>
#include <stdio.h>

#include "host.h"
#include "json-util.h"
#include "net.h"
#include "ovsdb-client.h"

/* Port references to add to and remove from one bridge's "ports". */
typedef struct BridgeEdit {
        const char *name;
        const char *uuid;       /* NULL: created in this transaction */
        json_object *row;       /* the Bridge insert op's row, for created bridges */
        json_object *insert;    /* array of uuid atoms */
        json_object *delete;
} BridgeEdit;

typedef struct Txn {
        json_object *ops;
        unsigned writes;
        unsigned named;
        BridgeEdit *edits;
        size_t n_edits, allocated_edits;
        uint64_t generation;
} Txn;

static void txn_done(Txn *t) {
        json_object_put(t->ops);
        for (size_t i = 0; i < t->n_edits; i++) {
                json_object_put(t->edits[i].insert);
                json_object_put(t->edits[i].delete);
        }
        free(t->edits);
}

static json_object *op_new(Txn *t, const char *op, const char *table, bool write) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "op", json_object_new_string(op));
        json_object_object_add(o, "table", json_object_new_string(table));
        json_object_array_add(t->ops, o);
        t->writes += write;
        return o;
}

static json_object *where_uuid(const char *uuid) {
        json_object *w = json_object_new_array(), *c = json_object_new_array();

        json_object_array_add(c, json_object_new_string("_uuid"));
        json_object_array_add(c, json_object_new_string("=="));
        json_object_array_add(c, ovsdb_uuid(uuid));
        json_object_array_add(w, c);
        return w;
}

static json_object *empty_set(void) {
        return ovsdb_set(json_object_new_array());
}

/* external_ids for a row we own: the user's keys plus our tags. */
static json_object *owned_ids(Txn *t, json_object *user) {
        _cleanup_(json_object_putp) json_object *m = NULL;
        char gen[32];

        if (user ? json_copy(user, &m) < 0 : !(m = json_object_new_object()))
                return NULL;
        snprintf(gen, sizeof gen, "%" PRIu64, t->generation);
        json_object_object_add(m, NET_OWNER_KEY, json_object_new_string(NET_OWNER_VALUE));
        json_object_object_add(m, NET_GENERATION_KEY, json_object_new_string(gen));
        return ovsdb_map_from_object(m);
}

static char *next_name(Txn *t, const char *prefix) {
        char *s;

        if (asprintf(&s, "%s%u", prefix, t->named++) < 0)
                return NULL;
        return s;
}

/* The guard: fails the transaction at once if the row is gone or renamed
 * since it was read. */
static void guard_row(Txn *t, const char *table, const char *uuid, const char *name) {
        json_object *o = op_new(t, "wait", table, false), *cols = json_object_new_array();
        json_object *rows = json_object_new_array(), *row = json_object_new_object();

        json_object_object_add(o, "where", where_uuid(uuid));
        json_object_array_add(cols, json_object_new_string("name"));
        json_object_object_add(o, "columns", cols);
        json_object_object_add(o, "until", json_object_new_string("=="));
        json_object_object_add(row, "name", json_object_new_string(name));
        json_object_array_add(rows, row);
        json_object_object_add(o, "rows", rows);
        json_object_object_add(o, "timeout", json_object_new_int(0));
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

static json_object *opt_int(int64_t v) {
        return v >= 0 ? json_object_new_int64(v) : empty_set();
}

static json_object *opt_str(const char *s) {
        return s ? json_object_new_string(s) : empty_set();
}

static void port_row_columns(Txn *t, json_object *row, const NetPort *w) {
        json_object_object_add(row, "tag", opt_int(w->tag));
        json_object_object_add(row, "trunks", trunks_set(w));
        json_object_object_add(row, "vlan_mode", opt_str(w->vlan_mode));
        json_object_object_add(row, "external_ids", owned_ids(t, w->external_ids));
}

static void iface_row_columns(Txn *t, json_object *row, const NetPort *w) {
        json_object_object_add(row, "type", json_object_new_string(w->type));
        json_object_object_add(row, "options", ovsdb_map_from_object(w->options));
        json_object_object_add(row, "mtu_request", opt_int(w->mtu_request));
        json_object_object_add(row, "external_ids", owned_ids(t, NULL));
}

/* Inserts Interface + Port rows; returns the Port's named-uuid atom. */
static json_object *insert_port(Txn *t, const NetPort *w) {
        _cleanup_(freep) char *iname = next_name(t, "iface"), *pname = next_name(t, "port");
        json_object *o, *row, *ifaces;

        if (!iname || !pname)
                return NULL;

        o = op_new(t, "insert", "Interface", true);
        row = json_object_new_object();
        json_object_object_add(row, "name", json_object_new_string(w->name));
        iface_row_columns(t, row, w);
        json_object_object_add(o, "row", row);
        json_object_object_add(o, "uuid-name", json_object_new_string(iname));

        o = op_new(t, "insert", "Port", true);
        row = json_object_new_object();
        ifaces = json_object_new_array();
        json_object_array_add(ifaces, ovsdb_named_uuid(iname));
        json_object_object_add(row, "name", json_object_new_string(w->name));
        json_object_object_add(row, "interfaces", ovsdb_set(ifaces));
        port_row_columns(t, row, w);
        json_object_object_add(o, "row", row);
        json_object_object_add(o, "uuid-name", json_object_new_string(pname));

        return ovsdb_named_uuid(pname);
}

static void update_row(Txn *t, const char *table, const char *uuid, json_object *row) {
        json_object *o = op_new(t, "update", table, true);

        json_object_object_add(o, "where", where_uuid(uuid));
        json_object_object_add(o, "row", row);
}

static void update_port(Txn *t, const NetPort *w, const NetPort *h) {
        json_object *row;

        if (w->tag != h->tag || !net_trunks_equal(w, h) || !streq_ptr(w->vlan_mode, h->vlan_mode) ||
            !json_object_equal(w->external_ids, h->external_ids) || h->tags_missing) {
                row = json_object_new_object();
                port_row_columns(t, row, w);
                update_row(t, "Port", h->uuid, row);
        }
        if (w->mtu_request != h->mtu_request || !json_object_equal(w->options, h->options) || h->tags_missing) {
                row = json_object_new_object();
                json_object_object_add(row, "options", ovsdb_map_from_object(w->options));
                json_object_object_add(row, "mtu_request", opt_int(w->mtu_request));
                json_object_object_add(row, "external_ids", owned_ids(t, NULL));
                update_row(t, "Interface", h->iface_uuid, row);
        }
}

static json_object *bridge_columns(Txn *t, const NetBridge *w, const char *datapath) {
        json_object *row = json_object_new_object();

        json_object_object_add(row, "datapath_type", json_object_new_string(datapath));
        json_object_object_add(row, "fail_mode", opt_str(w->fail_mode));
        json_object_object_add(row, "stp_enable", json_object_new_boolean(w->stp_enable));
        json_object_object_add(row, "rstp_enable", json_object_new_boolean(w->rstp_enable));
        json_object_object_add(row, "other_config", ovsdb_map_from_object(w->other_config));
        json_object_object_add(row, "external_ids", owned_ids(t, w->external_ids));
        return row;
}

/* A new bridge with its local internal port, registered in Open_vSwitch. */
static int create_bridge(Txn *t, const NetPlugin *n, const NetBridge *w) {
        _cleanup_(freep) char *bname = next_name(t, "bridge");
        NetPort local = { .name = w->name, .type = (char *) "internal", .tag = -1, .mtu_request = -1 };
        json_object *o, *row, *set, *mut, *mutations;
        BridgeEdit *e;

        local.options = json_object_new_object();
        local.external_ids = json_object_new_object();
        set = insert_port(t, &local);
        json_object_put(local.options);
        json_object_put(local.external_ids);

        e = bridge_edit(t, w->name, NULL);
        if (!bname || !set || !e)
                return -ENOMEM;
        json_object_array_add(e->insert, set);

        o = op_new(t, "insert", "Bridge", true);
        row = bridge_columns(t, w, streq(w->datapath_type, "auto") ? n->auto_datapath : w->datapath_type);
        json_object_object_add(row, "name", json_object_new_string(w->name));
        json_object_object_add(o, "row", row);
        json_object_object_add(o, "uuid-name", json_object_new_string(bname));
        e->row = row;

        o = op_new(t, "mutate", "Open_vSwitch", true);
        json_object_object_add(o, "where", json_object_new_array());
        mutations = json_object_new_array();
        mut = json_object_new_array();
        set = json_object_new_array();
        json_object_array_add(set, ovsdb_named_uuid(bname));
        json_object_array_add(mut, json_object_new_string("bridges"));
        json_object_array_add(mut, json_object_new_string("insert"));
        json_object_array_add(mut, ovsdb_set(set));
        json_object_array_add(mutations, mut);
        json_object_object_add(o, "mutations", mutations);
        return 0;
}

static void delete_bridge(Txn *t, const NetBridge *h) {
        json_object *o, *mutations, *mut, *set;

        guard_row(t, "Bridge", h->uuid, h->name);
        o = op_new(t, "mutate", "Open_vSwitch", true);
        json_object_object_add(o, "where", json_object_new_array());
        mutations = json_object_new_array();
        mut = json_object_new_array();
        set = json_object_new_array();
        json_object_array_add(set, ovsdb_uuid(h->uuid));
        json_object_array_add(mut, json_object_new_string("bridges"));
        json_object_array_add(mut, json_object_new_string("delete"));
        json_object_array_add(mut, ovsdb_set(set));
        json_object_array_add(mutations, mut);
        json_object_object_add(o, "mutations", mutations);
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

static void add_mutation(json_object *mutations, const char *mutator, json_object *atoms) {
        json_object *m = json_object_new_array();

        json_object_array_add(m, json_object_new_string("ports"));
        json_object_array_add(m, json_object_new_string(mutator));
        json_object_array_add(m, ovsdb_set(json_object_get(atoms)));
        json_object_array_add(mutations, m);
}

/* One mutate per existing bridge; created bridges get their ports in the
 * insert itself. */
static void flush_bridge_edits(Txn *t) {
        for (size_t i = 0; i < t->n_edits; i++) {
                BridgeEdit *e = &t->edits[i];
                json_object *o, *mutations;

                if (!e->uuid) {
                        json_object_object_add(e->row, "ports", ovsdb_set(json_object_get(e->insert)));
                        continue;
                }
                if (json_object_array_length(e->insert) == 0 && json_object_array_length(e->delete) == 0)
                        continue;

                o = op_new(t, "mutate", "Bridge", true);
                json_object_object_add(o, "where", where_uuid(e->uuid));
                mutations = json_object_new_array();
                if (json_object_array_length(e->delete) > 0)
                        add_mutation(mutations, "delete", e->delete);
                if (json_object_array_length(e->insert) > 0)
                        add_mutation(mutations, "insert", e->insert);
                json_object_object_add(o, "mutations", mutations);
        }
}

/* Asks ovs-vswitchd to reconfigure and reads back the target. */
static void bump_next_cfg(Txn *t) {
        json_object *o = op_new(t, "mutate", "Open_vSwitch", true), *mutations, *m, *cols;

        json_object_object_add(o, "where", json_object_new_array());
        mutations = json_object_new_array();
        m = json_object_new_array();
        json_object_array_add(m, json_object_new_string("next_cfg"));
        json_object_array_add(m, json_object_new_string("+="));
        json_object_array_add(m, json_object_new_int(1));
        json_object_array_add(mutations, m);
        json_object_object_add(o, "mutations", mutations);

        o = op_new(t, "select", "Open_vSwitch", false);
        json_object_object_add(o, "where", json_object_new_array());
        cols = json_object_new_array();
        json_object_array_add(cols, json_object_new_string("next_cfg"));
        json_object_object_add(o, "columns", cols);
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
                        update_row(t, "Bridge", c->have_bridge->uuid,
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
        bump_next_cfg(t);
        return 0;
}

/* Waits until ovs-vswitchd has caught up with next_cfg. */
static int wait_cur_cfg(OvsdbClient *c, int64_t target, int timeout_ms, Diag *d) {
        _cleanup_(freep) char *err = NULL;
        int64_t cur = -1;
        int r;

        r = ovsdb_wait_cur_cfg(c, target, timeout_ms, &cur, &err);
        if (r == -ETIMEDOUT)
                diag_error(d, "", "ovs-vswitchd did not apply configuration %" PRId64 " in time (it is at %" PRId64
                           "); is it running?", target, cur);
        else if (r < 0)
                diag_error(d, "", "waiting for ovs-vswitchd failed: %s", err ?: strerror(-r));
        return r;
}

static int64_t result_next_cfg(json_object *results) {
        size_t n = json_object_array_length(results);
        json_object *rows, *row, *v;

        for (size_t i = n; i > 0; i--)
                if ((rows = ovsdb_result_rows(results, i - 1)) &&
                    json_object_array_length(rows) == 1 &&
                    (row = json_object_array_get_idx(rows, 0)) &&
                    json_object_object_get_ex(row, "next_cfg", &v))
                        return json_object_get_int64(v);
        return -1;
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
        int64_t target;
        int r;

        for (unsigned attempt = 0;; attempt++) {
                _cleanup_(txn_done) Txn t = { .generation = ctx->generation };
                _cleanup_(json_object_putp) json_object *results = NULL;
                _cleanup_(freep) char *err = NULL;

                if (n->n_changes == 0)
                        return 0;

                t.ops = json_object_new_array();
                if (!t.ops)
                        return -ENOMEM;
                r = build_txn(&t, n);
                if (r < 0)
                        return r;

                apply_counts_write(counts, COUNT_OVSDB_OPS, t.writes);
                r = ovsdb_client_transact(n->ovsdb, "Open_vSwitch", json_object_get(t.ops), &results, &err);
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
                target = result_next_cfg(results);
                if (target < 0) {
                        diag_error(d, "", "OVSDB did not report next_cfg");
                        return -EBADMSG;
                }
                return wait_cur_cfg(n->ovsdb, target, ctx->timeout_ms, d);
        }
}
