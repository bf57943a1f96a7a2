/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The OVS internal ports of socket networking, through OVSDB: read them,
 * add one (Interface + Port + the bridge's reference, one transaction),
 * take one off its bridge, change its VLAN tag. Every change bumps
 * next_cfg and waits until ovs-vswitchd has applied it, so the port's
 * device exists (or is gone) when a call returns. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "json-util.h"
#include "lxc-ovsdb.h"

static void port_done(LxcOvsPort *p) {
        free(p->name);
        free(p->uuid);
        free(p->bridge);
        free(p->bridge_uuid);
        free(p->owner);
}

void lxc_ovs_view_done(LxcOvsView *v) {
        for (size_t i = 0; i < v->n_bridges; i++) {
                free(v->bridges[i].name);
                free(v->bridges[i].uuid);
        }
        free(v->bridges);
        for (size_t i = 0; i < v->n_ports; i++)
                port_done(&v->ports[i]);
        free(v->ports);
        *v = (LxcOvsView) {};
}

const LxcOvsPort *lxc_ovs_find_port(const LxcOvsView *v, const char *name) {
        for (size_t i = 0; i < v->n_ports; i++)
                if (streq(v->ports[i].name, name))
                        return &v->ports[i];
        return NULL;
}

const LxcOvsBridge *lxc_ovs_find_bridge(const LxcOvsView *v, const char *name) {
        for (size_t i = 0; i < v->n_bridges; i++)
                if (streq(v->bridges[i].name, name))
                        return &v->bridges[i];
        return NULL;
}

/* ---- building operations ------------------------------------------------ */

static json_object *op_new(json_object *ops, const char *op, const char *table) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "op", json_object_new_string(op));
        json_object_object_add(o, "table", json_object_new_string(table));
        json_object_array_add(ops, o);
        return o;
}

static json_object *string_array(const char *const *s) {
        json_object *a = json_object_new_array();

        for (; *s; s++)
                json_object_array_add(a, json_object_new_string(*s));
        return a;
}

/* [[column, "==", value]] (value consumed). */
static json_object *where_eq(const char *column, json_object *value) {
        json_object *w = json_object_new_array(), *c = json_object_new_array();

        json_object_array_add(c, json_object_new_string(column));
        json_object_array_add(c, json_object_new_string("=="));
        json_object_array_add(c, value);
        json_object_array_add(w, c);
        return w;
}

static void add_select(json_object *ops, const char *table, const char *const *columns) {
        json_object *o = op_new(ops, "select", table);

        json_object_object_add(o, "where", json_object_new_array());
        json_object_object_add(o, "columns", string_array(columns));
}

/* A mutation of one column: [column, mutator, value] (value consumed). */
static void add_mutate(json_object *ops, const char *table, json_object *where, const char *column,
                       const char *mutator, json_object *value) {
        json_object *o = op_new(ops, "mutate", table), *mutations = json_object_new_array(),
                *m = json_object_new_array();

        json_object_object_add(o, "where", where);
        json_object_array_add(m, json_object_new_string(column));
        json_object_array_add(m, json_object_new_string(mutator));
        json_object_array_add(m, value);
        json_object_array_add(mutations, m);
        json_object_object_add(o, "mutations", mutations);
}

/* Asks ovs-vswitchd to reconfigure and reads back the target. */
static void add_bump_next_cfg(json_object *ops) {
        static const char *const cols[] = { "next_cfg", NULL };
        json_object *o;

        add_mutate(ops, "Open_vSwitch", json_object_new_array(), "next_cfg", "+=", json_object_new_int(1));
        o = op_new(ops, "select", "Open_vSwitch");
        json_object_object_add(o, "where", json_object_new_array());
        json_object_object_add(o, "columns", string_array(cols));
}

/* ["set", [atom]] */
static json_object *set_of(json_object *atom) {
        json_object *a = json_object_new_array();

        json_object_array_add(a, atom);
        return ovsdb_set(a);
}

static json_object *owned_ids(uint32_t id) {
        _cleanup_(json_object_putp) json_object *m = json_object_new_object();
        char s[16];

        snprintf(s, sizeof s, "%" PRIu32, id);
        json_object_object_add(m, LXC_SOCKET_OWNER_KEY, json_object_new_string(LXC_SOCKET_OWNER));
        json_object_object_add(m, LXC_SOCKET_CONTAINER_KEY, json_object_new_string(s));
        return ovsdb_map_from_object(m);
}

/* ---- reading -------------------------------------------------------------- */

static json_object *column(json_object *row, const char *name) {
        json_object *v = NULL;

        (void) json_object_object_get_ex(row, name, &v);
        return v;
}

static int64_t opt_int(json_object *row, const char *name) {
        json_object *v = column(row, name);

        return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
}

/* bridges: Bridge rows by the uuids of their ports; ifaces: Interface
 * rows by uuid. */
static int read_port(LxcOvsPort *p, json_object *row, const OvsdbRowIndex *bridges, const OvsdbRowIndex *ifaces) {
        _cleanup_(json_object_putp) json_object *ids = ovsdb_map_to_object(column(row, "external_ids"));
        json_object *set = column(row, "interfaces"), *iface, *b, *v;
        const char *end;

        p->name = strdup(json_object_get_string(column(row, "name")) ?: "");
        p->uuid = strdup_or_null(ovsdb_uuid_string(column(row, "_uuid")));
        if (!p->name || !p->uuid)
                return -ENOMEM;
        p->tag = opt_int(row, "tag");
        p->ofport = -1;
        if (ids && json_object_object_get_ex(ids, LXC_SOCKET_OWNER_KEY, &v)) {
                p->owner = strdup(json_object_get_string(v));
                if (!p->owner)
                        return -ENOMEM;
                p->owned = streq(p->owner, LXC_SOCKET_OWNER);
        }
        if (ids && json_object_object_get_ex(ids, LXC_SOCKET_CONTAINER_KEY, &v) &&
            (!lxc_id_parse(json_object_get_string(v), &end, &p->container) || *end))
                p->container = 0;

        b = ovsdb_row_index_find(bridges, p->uuid);
        if (b && (!(p->bridge = strdup(json_object_get_string(column(b, "name")) ?: "")) ||
                  !(p->bridge_uuid = strdup_or_null(ovsdb_uuid_string(column(b, "_uuid"))))))
                return -ENOMEM;

        /* One interface: ours always have one (a bond is no socket port). */
        iface = ovsdb_set_length(set) == 1 ?
                ovsdb_row_index_find(ifaces, ovsdb_uuid_string(ovsdb_set_get(set, 0))) : NULL;
        if (iface)
                p->ofport = opt_int(iface, "ofport");
        return 0;
}

static int read_bridges(LxcOvsView *v, json_object *rows) {
        size_t n = json_object_array_length(rows);

        v->bridges = calloc(n + 1, sizeof(LxcOvsBridge));
        if (!v->bridges)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *row = json_object_array_get_idx(rows, i);
                LxcOvsBridge *b = &v->bridges[v->n_bridges++];

                b->name = strdup(json_object_get_string(column(row, "name")) ?: "");
                b->uuid = strdup_or_null(ovsdb_uuid_string(column(row, "_uuid")));
                b->userspace = streq_ptr(json_object_get_string(column(row, "datapath_type")), "netdev");
                if (!b->name || !b->uuid)
                        return -ENOMEM;
        }
        return 0;
}

static int read_ports(LxcOvsView *v, json_object *rows, json_object *bridges, json_object *ifaces) {
        _cleanup_(ovsdb_row_index_done) OvsdbRowIndex by_port = {}, by_uuid = {};
        size_t n = json_object_array_length(rows);
        int r;

        r = ovsdb_row_index_build(bridges, "ports", &by_port);
        if (r >= 0)
                r = ovsdb_row_index_build(ifaces, "_uuid", &by_uuid);
        if (r < 0)
                return r;
        v->ports = calloc(n + 1, sizeof(LxcOvsPort));
        if (!v->ports)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = read_port(&v->ports[v->n_ports++], json_object_array_get_idx(rows, i), &by_port, &by_uuid);
                if (r < 0)
                        return r;
        }
        return 0;
}

int lxc_ovs_read(OvsdbClient *c, LxcOvsView *ret, Diag *d) {
        static const char *const bridge_cols[] = { "_uuid", "name", "ports", "datapath_type", NULL };
        static const char *const port_cols[] = { "_uuid", "name", "interfaces", "external_ids", "tag", NULL };
        static const char *const iface_cols[] = { "_uuid", "ofport", NULL };
        _cleanup_(json_object_putp) json_object *results = NULL;
        _cleanup_(lxc_ovs_view_done) LxcOvsView v = {};
        _cleanup_(freep) char *err = NULL;
        json_object *ops = json_object_new_array(), *bridges, *ports, *ifaces;
        int r;

        add_select(ops, "Bridge", bridge_cols);
        add_select(ops, "Port", port_cols);
        add_select(ops, "Interface", iface_cols);
        r = ovsdb_client_transact(c, "Open_vSwitch", ops, &results, &err);
        if (r < 0) {
                diag_error(d, "", "reading the socket networking ports from OVSDB failed: %s", err ?: strerror(-r));
                return r;
        }
        bridges = ovsdb_result_rows(results, 0);
        ports = ovsdb_result_rows(results, 1);
        ifaces = ovsdb_result_rows(results, 2);
        if (!bridges || !ports || !ifaces) {
                diag_error(d, "", "OVSDB answered the query of socket networking ports with an unexpected result");
                return -EBADMSG;
        }
        r = read_bridges(&v, bridges);
        if (r >= 0)
                r = read_ports(&v, ports, bridges, ifaces);
        if (r < 0)
                return r;
        *ret = v;
        v = (LxcOvsView) {};
        return 0;
}

/* ---- writing -------------------------------------------------------------- */

static int64_t result_next_cfg(json_object *results) {
        size_t n = json_object_array_length(results);
        json_object *rows, *v;

        rows = n > 0 ? ovsdb_result_rows(results, n - 1) : NULL;
        if (!rows || json_object_array_length(rows) != 1 ||
            !json_object_object_get_ex(json_object_array_get_idx(rows, 0), "next_cfg", &v))
                return -1;
        return json_object_get_int64(v);
}

/* Waits until ovs-vswitchd has applied configuration target. */
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

/* Sends ops (consumed), which end with add_bump_next_cfg(); *ret_target
 * is the configuration ovs-vswitchd is to reach. */
static int transact_cfg(OvsdbClient *c, json_object *ops, int64_t *ret_target, char **ret_err) {
        _cleanup_(json_object_putp) json_object *results = NULL;
        int r;

        r = ovsdb_client_transact(c, "Open_vSwitch", ops, &results, ret_err);
        if (r < 0)
                return r;
        *ret_target = result_next_cfg(results);
        return *ret_target < 0 ? -EBADMSG : 0;
}

/* Fails the transaction at once unless the bridge exists. */
static void add_bridge_guard(json_object *ops, const char *bridge) {
        static const char *const cols[] = { "name", NULL };
        json_object *o = op_new(ops, "wait", "Bridge"), *rows = json_object_new_array(), *row = json_object_new_object();

        json_object_object_add(o, "where", where_eq("name", json_object_new_string(bridge)));
        json_object_object_add(o, "columns", string_array(cols));
        json_object_object_add(o, "until", json_object_new_string("=="));
        json_object_object_add(row, "name", json_object_new_string(bridge));
        json_object_array_add(rows, row);
        json_object_object_add(o, "rows", rows);
        json_object_object_add(o, "timeout", json_object_new_int(0));
}

static json_object *opt_tag(unsigned tag) {
        return tag > 0 ? json_object_new_int64(tag) : ovsdb_set(json_object_new_array());
}

static void add_insert_port(json_object *ops, const char *name, uint32_t id, unsigned tag, int64_t ofport_request) {
        json_object *o, *row;

        o = op_new(ops, "insert", "Interface");
        row = json_object_new_object();
        json_object_object_add(row, "name", json_object_new_string(name));
        json_object_object_add(row, "type", json_object_new_string("internal"));
        if (ofport_request > 0)
                json_object_object_add(row, "ofport_request", json_object_new_int64(ofport_request));
        json_object_object_add(row, "external_ids", owned_ids(id));
        json_object_object_add(o, "row", row);
        json_object_object_add(o, "uuid-name", json_object_new_string("iface"));

        o = op_new(ops, "insert", "Port");
        row = json_object_new_object();
        json_object_object_add(row, "name", json_object_new_string(name));
        json_object_object_add(row, "interfaces", set_of(ovsdb_named_uuid("iface")));
        json_object_object_add(row, "tag", opt_tag(tag));
        json_object_object_add(row, "external_ids", owned_ids(id));
        json_object_object_add(o, "row", row);
        json_object_object_add(o, "uuid-name", json_object_new_string("port"));
}

int lxc_ovs_add_port(OvsdbClient *c, const char *bridge, const char *name, uint32_t id,
                     unsigned tag, int64_t ofport_request, int timeout_ms, unsigned *writes, Diag *d) {
        json_object *ops = json_object_new_array();
        _cleanup_(freep) char *err = NULL;
        int64_t target;
        int r;

        if (!ops)
                return -ENOMEM;
        add_bridge_guard(ops, bridge);
        add_insert_port(ops, name, id, tag, ofport_request);
        add_mutate(ops, "Bridge", where_eq("name", json_object_new_string(bridge)), "ports", "insert",
                   set_of(ovsdb_named_uuid("port")));
        add_bump_next_cfg(ops);
        *writes += 4;

        r = transact_cfg(c, ops, &target, &err);
        if (r == -ETIMEDOUT)
                diag_error(d, "", "cannot add port %s: bridge %s does not exist", name, bridge);
        else if (r == -EEXIST)
                diag_error(d, "", "cannot add port %s to bridge %s: a port or interface of that name exists already",
                           name, bridge);
        else if (r < 0)
                diag_error(d, "", "adding port %s to bridge %s failed: %s", name, bridge, err ?: strerror(-r));
        if (r < 0)
                return r;
        return wait_cur_cfg(c, target, timeout_ms, d);
}

int lxc_ovs_del_port(OvsdbClient *c, const LxcOvsPort *p, int timeout_ms, unsigned *writes, Diag *d) {
        _cleanup_(freep) char *err = NULL;
        json_object *ops;
        int64_t target;
        int r;

        if (!p->bridge_uuid)
                return 0; /* on no bridge: OVSDB has removed it already */
        ops = json_object_new_array();
        if (!ops)
                return -ENOMEM;
        add_mutate(ops, "Bridge", where_eq("_uuid", ovsdb_uuid(p->bridge_uuid)), "ports", "delete",
                   set_of(ovsdb_uuid(p->uuid)));
        add_bump_next_cfg(ops);
        *writes += 2;

        r = transact_cfg(c, ops, &target, &err);
        if (r < 0) {
                diag_error(d, "", "removing port %s from bridge %s failed: %s", p->name, p->bridge, err ?: strerror(-r));
                return r;
        }
        return wait_cur_cfg(c, target, timeout_ms, d);
}

int lxc_ovs_set_tag(OvsdbClient *c, const LxcOvsPort *p, unsigned tag, unsigned *writes, Diag *d) {
        _cleanup_(json_object_putp) json_object *results = NULL;
        _cleanup_(freep) char *err = NULL;
        json_object *ops = json_object_new_array(), *o, *row = json_object_new_object();
        int r;

        o = op_new(ops, "update", "Port");
        json_object_object_add(o, "where", where_eq("_uuid", ovsdb_uuid(p->uuid)));
        json_object_object_add(row, "tag", opt_tag(tag));
        json_object_object_add(o, "row", row);
        *writes += 1;
        r = ovsdb_client_transact(c, "Open_vSwitch", ops, &results, &err);
        if (r < 0)
                diag_error(d, "", "setting the VLAN tag of port %s: OVSDB rejected the transaction: %s",
                           p->name, err ?: strerror(-r));
        return r;
}
