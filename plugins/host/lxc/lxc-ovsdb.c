/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The OVS internal ports of socket networking, through OVSDB: read them,
 * add one (Interface + Port + the bridge's reference, one transaction),
 * take one off its bridge, change its VLAN tag. Every change bumps
 * next_cfg and waits until ovs-vswitchd has applied it, so the port's
 * device exists (or is gone) when a call returns. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "host.h"
#include "json-util.h"
#include "lxc-ovsdb.h"
#include "ovs-netns.h"
#include "pve-id.h"
#include "strbuf.h"

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
        for (size_t i = 0; v && i < v->n_ports; i++)
                if (streq(v->ports[i].name, name))
                        return &v->ports[i];
        return NULL;
}

const LxcOvsBridge *lxc_ovs_find_bridge(const LxcOvsView *v, const char *name) {
        for (size_t i = 0; v && i < v->n_bridges; i++)
                if (streq(v->bridges[i].name, name))
                        return &v->bridges[i];
        return NULL;
}

static json_object *owned_ids(uint32_t id) {
        char s[16];

        snprintf(s, sizeof s, "%" PRIu32, id);
        return ovsdb_owned_ids(NULL, LXC_SOCKET_OWNER, (const char *const[]) { LXC_SOCKET_CONTAINER_KEY, s, NULL });
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
        if (ids && json_object_object_get_ex(ids, OVSDB_OWNER_KEY, &v)) {
                p->owner = strdup(json_object_get_string(v));
                if (!p->owner)
                        return -ENOMEM;
                p->owned = streq(p->owner, LXC_SOCKET_OWNER);
        }
        if (ids && json_object_object_get_ex(ids, LXC_SOCKET_CONTAINER_KEY, &v) &&
            (!pve_vmid_parse(json_object_get_string(v), &end, &p->container) || *end))
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
        static const char *const tables[] = { "Bridge", "Port", "Interface" };
        static const char *const *const columns[] = { bridge_cols, port_cols, iface_cols };
        _cleanup_(json_object_putp) json_object *results = NULL;
        _cleanup_(lxc_ovs_view_done) LxcOvsView v = {};
        _cleanup_(freep) char *err = NULL;
        json_object *rows[3], *bridges, *ports, *ifaces;
        int r;

        r = ovsdb_read_tables(c, tables, columns, 3, &results, rows, &err);
        if (r == -EBADMSG && !err) {
                diag_error(d, "", "OVSDB answered the query of socket networking ports with an unexpected result");
                return r;
        }
        if (r < 0) {
                diag_error(d, "", "reading the socket networking ports from OVSDB failed: %s", err ?: strerror(-r));
                return r;
        }
        bridges = rows[0];
        ports = rows[1];
        ifaces = rows[2];
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

/* Sends t, which ends with ovsdb_txn_bump_next_cfg(), and waits until
 * ovs-vswitchd has carried it out. what: the change, for messages;
 * guard: what a failed guard means (-ETIMEDOUT), NULL: report nothing. */
static int commit(OvsdbClient *c, OvsdbTxn *t, int timeout_ms, unsigned *writes, const char *what,
                  const char *guard, Diag *d) {
        _cleanup_(json_object_putp) json_object *results = NULL;
        _cleanup_(freep) char *err = NULL;
        int r;

        *writes += t->writes;
        r = ovsdb_txn_commit(c, t, &results, &err);
        if (r >= 0) {
                r = ovsdb_wait_applied(c, results, timeout_ms, &err);
                if (r < 0)
                        diag_error(d, "", "%s", err ?: strerror(-r));
                return r;
        }
        if (r == -ETIMEDOUT && guard)
                diag_error(d, "", "%s", guard);
        else if (r == -EEXIST)
                diag_error(d, "", "cannot %s: a port or interface of that name exists already", what);
        else if (r != -ETIMEDOUT)
                diag_error(d, "", "cannot %s: %s", what, err ?: strerror(-r));
        return r;
}

int lxc_ovs_add_port(OvsdbClient *c, const char *bridge, const char *name, uint32_t id,
                     unsigned tag, int64_t ofport_request, int timeout_ms, unsigned *writes, Diag *d) {
        _cleanup_(ovsdb_txn_done) OvsdbTxn t = {};
        _cleanup_(freep) char *what = NULL, *guard = NULL;
        json_object *iface, *port, *ins;
        int r;

        r = ovsdb_txn_init(&t);
        if (r < 0)
                return r;
        if (asprintf(&what, "add port %s to bridge %s", name, bridge) < 0 ||
            asprintf(&guard, "cannot add port %s: bridge %s does not exist", name, bridge) < 0)
                return -ENOMEM;
        ovsdb_txn_guard_name(&t, "Bridge", ovsdb_where_name(bridge), bridge);
        iface = json_object_new_object();
        json_object_object_add(iface, "type", json_object_new_string("internal"));
        if (ofport_request > 0)
                json_object_object_add(iface, "ofport_request", json_object_new_int64(ofport_request));
        json_object_object_add(iface, "external_ids", owned_ids(id));
        port = json_object_new_object();
        json_object_object_add(port, "tag", ovsdb_opt_int(tag > 0 ? (int64_t) tag : -1));
        json_object_object_add(port, "external_ids", owned_ids(id));
        ins = json_object_new_array();
        json_object_array_add(ins, ovsdb_txn_insert_port(&t, name, iface, port));
        ovsdb_txn_mutate_set(&t, "Bridge", ovsdb_where_name(bridge), "ports", NULL, ins);
        ovsdb_txn_bump_next_cfg(&t);
        return commit(c, &t, timeout_ms, writes, what, guard, d);
}

/* Whether the Port row uuid exists: 1 or 0. */
static int port_exists(OvsdbClient *c, const char *uuid) {
        static const char *const columns[] = { "name", NULL };
        _cleanup_(json_object_putp) json_object *results = NULL;
        _cleanup_(ovsdb_txn_done) OvsdbTxn t = {};
        json_object *rows;
        int r;

        r = ovsdb_txn_init(&t);
        if (r < 0)
                return r;
        ovsdb_txn_select(&t, "Port", ovsdb_where_uuid(uuid), columns);
        r = ovsdb_txn_commit(c, &t, &results, NULL);
        if (r < 0)
                return r;
        rows = ovsdb_result_rows(results, 0);
        return rows ? json_object_array_length(rows) > 0 : -EBADMSG;
}

int lxc_ovs_del_port(OvsdbClient *c, const LxcOvsPort *p, int timeout_ms, unsigned *writes, Diag *d) {
        _cleanup_(ovsdb_txn_done) OvsdbTxn t = {};
        _cleanup_(freep) char *what = NULL;
        int r;

        if (!p->bridge_uuid)
                return 0; /* on no bridge: OVSDB has removed it already */
        r = ovsdb_txn_init(&t);
        if (r < 0)
                return r;
        if (asprintf(&what, "remove port %s from bridge %s", p->name, p->bridge) < 0)
                return -ENOMEM;
        ovsdb_txn_remove_port(&t, ovsdb_where_uuid(p->bridge_uuid), p->uuid, p->name);
        ovsdb_txn_bump_next_cfg(&t);
        r = commit(c, &t, timeout_ms, writes, what, NULL, d);
        if (r != -ETIMEDOUT)
                return r;
        /* the guard: the port is gone since it was read (what was asked), or renamed */
        r = port_exists(c, p->uuid);
        if (r == 0)
                return 0;
        diag_error(d, "", "cannot %s: the port changed since it was read%s", what, r < 0 ? "" : " (renamed)");
        return r < 0 ? r : -ESTALE;
}

/* A port for the network device name on bridge, as LXC makes one for a
 * container's veth: an access port of VLAN tag (0: none), without
 * op-dbus's tags (the port is the container's). A port of that name (p,
 * may be NULL) is taken off its bridge in the same transaction. */
static int plug_port(OvsdbClient *c, const LxcOvsPort *p, const char *bridge, const char *name, unsigned tag,
                     int timeout_ms, unsigned *writes, Diag *d) {
        _cleanup_(ovsdb_txn_done) OvsdbTxn t = {};
        _cleanup_(freep) char *what = NULL, *guard = NULL;
        json_object *port, *ins;
        int r;

        r = ovsdb_txn_init(&t);
        if (r < 0)
                return r;
        if (asprintf(&what, "add port %s to bridge %s", name, bridge) < 0 ||
            asprintf(&guard, "cannot add port %s: bridge %s does not exist, or port %s changed since it was read",
                     name, bridge, name) < 0)
                return -ENOMEM;
        if (p && p->bridge_uuid)
                ovsdb_txn_remove_port(&t, ovsdb_where_uuid(p->bridge_uuid), p->uuid, p->name);
        ovsdb_txn_guard_name(&t, "Bridge", ovsdb_where_name(bridge), bridge);
        port = json_object_new_object();
        if (tag > 0) {
                json_object_object_add(port, "tag", json_object_new_int64(tag));
                json_object_object_add(port, "vlan_mode", json_object_new_string("access"));
        }
        ins = json_object_new_array();
        json_object_array_add(ins, ovsdb_txn_insert_port(&t, name, NULL, port));
        ovsdb_txn_mutate_set(&t, "Bridge", ovsdb_where_name(bridge), "ports", NULL, ins);
        ovsdb_txn_bump_next_cfg(&t);
        return commit(c, &t, timeout_ms, writes, what, guard, d);
}

int lxc_ovs_set_tag(OvsdbClient *c, const LxcOvsPort *p, unsigned tag, unsigned *writes, Diag *d) {
        _cleanup_(json_object_putp) json_object *results = NULL;
        _cleanup_(ovsdb_txn_done) OvsdbTxn t = {};
        _cleanup_(freep) char *err = NULL;
        json_object *row = json_object_new_object();
        int r;

        r = ovsdb_txn_init(&t);
        if (r < 0) {
                json_object_put(row);
                return r;
        }
        json_object_object_add(row, "tag", ovsdb_opt_int(tag > 0 ? (int64_t) tag : -1));
        ovsdb_txn_update(&t, "Port", ovsdb_where_uuid(p->uuid), row);
        *writes += t.writes;
        r = ovsdb_txn_commit(c, &t, &results, &err);
        if (r < 0)
                diag_error(d, "", "setting the VLAN tag of port %s: OVSDB rejected the transaction: %s",
                           p->name, err ?: strerror(-r));
        return r;
}

/* ---- the plugin's view ------------------------------------------------------- */

/* What the plugin knows of the node's Open vSwitch (LxcPlugin.ovs). */
struct LxcOvs {
        OvsdbClient *client;
        LxcOvsView view;              /* the node's bridges and ports, as query read them */
        bool view_read;               /* ... if OVSDB answered */
        OvsNetdevs netdevs;           /* network devices of the namespace ovs-vswitchd runs in */
        bool netdevs_read;
};

void lxc_ovs_done(LxcPlugin *l) {
        LxcOvs *o = l->ovs;

        if (!o)
                return;
        lxc_ovs_view_done(&o->view);
        ovs_netdevs_done(&o->netdevs);
        ovsdb_client_free(o->client);
        free(o);
        l->ovs = NULL;
}

static int ovs_new(LxcPlugin *l) {
        if (!l->ovs)
                l->ovs = calloc(1, sizeof(LxcOvs));
        return l->ovs ? 0 : -ENOMEM;
}

static int ovs_connect(LxcPlugin *l) {
        const PluginContext *ctx = l->plugin.ctx;
        int r;

        r = ovs_new(l);
        if (r < 0 || l->ovs->client)
                return r;
        return ovsdb_client_connect(host_settings(ctx)->ovsdb_address, ctx->timeout_ms, &l->ovs->client);
}

int lxc_ovs_client(LxcPlugin *l, OvsdbClient **ret, Diag *d) {
        int r;

        r = ovs_connect(l);
        if (r < 0) {
                if (r != -ENOMEM)
                        diag_error(d, "", "cannot connect to OVSDB at %s: %s",
                                   host_settings(l->plugin.ctx)->ovsdb_address, strerror(-r));
                return r;
        }
        *ret = l->ovs->client;
        return 0;
}

int lxc_ovs_query(LxcPlugin *l, Diag *d) {
        _cleanup_(diag_done) Diag scratch = {};
        size_t wanted = 0;
        int r;

        lxc_ovs_done(l);
        r = ovs_new(l);
        if (r < 0)
                return r;
        /* Only socket networking cannot do without OVSDB. */
        for (size_t i = 0; i < l->want.n_containers; i++)
                wanted += lxc_uses_socket(&l->want.containers[i]);
        r = ovs_connect(l);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && wanted > 0)
                diag_error(d, "", "cannot connect to OVSDB at %s (socket networking needs it): %s",
                           host_settings(l->plugin.ctx)->ovsdb_address, strerror(-r));
        if (r >= 0) {
                r = lxc_ovs_read(l->ovs->client, &l->ovs->view, wanted > 0 ? d : &scratch);
                l->ovs->view_read = r >= 0;
        }
        l->ovs->netdevs_read = ovs_netdevs_read(host_settings(l->plugin.ctx)->ovs_rundir, &l->ovs->netdevs) >= 0;
        return r < 0 && wanted > 0 ? r : 0;
}

const LxcOvsView *lxc_ovs_view(const LxcPlugin *l) {
        return l->ovs && l->ovs->view_read ? &l->ovs->view : NULL;
}

int lxc_ovs_read_view(LxcPlugin *l, LxcOvsView *ret, Diag *d) {
        OvsdbClient *c;
        int r;

        r = lxc_ovs_client(l, &c, d);
        if (r < 0)
                return r;
        return lxc_ovs_read(c, ret, d);
}

static int cmp_name(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

int lxc_bridge_exists(const LxcPlugin *l, const char *name, char **ret_ovs_bridges) {
        const LxcOvs *o = l->ovs;

        if (!o || (!o->view_read && !o->netdevs_read))
                return -ENODATA;
        if (ret_ovs_bridges) {
                _cleanup_(freep) const char **sorted = calloc(o->view.n_bridges + 1, sizeof(char *));
                _cleanup_(strbuf_done) StrBuf b = {};

                if (!sorted)
                        return -ENOMEM;
                for (size_t i = 0; i < o->view.n_bridges; i++)
                        sorted[i] = o->view.bridges[i].name;
                qsort(sorted, o->view.n_bridges, sizeof(char *), cmp_name);
                for (size_t i = 0; i < o->view.n_bridges; i++)
                        strbuf_printf(&b, "%s%s", i ? ", " : "", sorted[i]);
                if (b.error)
                        return b.error;
                *ret_ovs_bridges = b.len > 0 ? strbuf_take(&b) : strdup("");
                if (!*ret_ovs_bridges)
                        return -ENOMEM;
        }
        return lxc_ovs_find_bridge(&o->view, name) || ovs_netdevs_has(&o->netdevs, name);
}

static void count_writes(LxcPlugin *l, unsigned writes) {
        if (l->counts && writes > 0)
                apply_counts_write(l->counts, COUNT_OVSDB_OPS, writes);
}

int lxc_ovs_unplug(LxcPlugin *l, const char *name, Diag *d) {
        _cleanup_(lxc_ovs_view_done) LxcOvsView view = {};
        unsigned writes = 0;
        OvsdbClient *c;
        int r;

        if (!lxc_ovs_view(l))
                return 0; /* no Open vSwitch here: nothing plugged into it */
        r = lxc_ovs_client(l, &c, d);
        if (r >= 0)
                r = lxc_ovs_read(c, &view, d);
        if (r < 0 || !lxc_ovs_find_port(&view, name))
                return r;
        r = lxc_ovs_del_port(c, lxc_ovs_find_port(&view, name), l->plugin.ctx->timeout_ms, &writes, d);
        count_writes(l, writes);
        return r;
}

int lxc_ovs_plug(LxcPlugin *l, const char *bridge, const char *name, unsigned tag, Diag *d) {
        _cleanup_(lxc_ovs_view_done) LxcOvsView view = {};
        unsigned writes = 0;
        OvsdbClient *c;
        int r;

        r = lxc_ovs_client(l, &c, d);
        if (r >= 0)
                r = lxc_ovs_read(c, &view, d);
        if (r < 0)
                return r;
        r = plug_port(c, lxc_ovs_find_port(&view, name), bridge, name, tag, l->plugin.ctx->timeout_ms, &writes, d);
        count_writes(l, writes);
        return r;
}
