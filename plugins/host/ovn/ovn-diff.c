/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "json-util.h"
#include "ovn.h"
#include "ovsdb-txn.h"
#include "strbuf.h"

const ImpactClass impact_switch_outage = { 50, "logical switch outage" };

/* One walk over desired and live state: the plan's actions (plan), or the
 * northbound and local transactions carrying them out (nb, ovs). */
typedef struct Walk {
        OvnPlugin *o;
        Plan *plan;
        OvsdbTxn *nb, *ovs;
        Diag *d;
        json_object **new_switch;     /* per desired switch: its named-uuid when created */
        json_object **new_dhcp;       /* per desired switch: its DHCP_Options' named-uuid when created */
        int ret;
} Walk;

_printf_(5, 6)
static void act(Walk *w, ActionKind kind, Impact impact, const char *path, const char *fmt, ...) {
        _cleanup_(freep) char *detail = NULL;
        va_list ap;

        if (!w->plan)
                return;
        va_start(ap, fmt);
        if (vasprintf(&detail, fmt, ap) < 0)
                detail = NULL;
        va_end(ap);
        if (!detail || plan_add(w->plan, "ovn", kind, impact, path, "%s", detail) < 0)
                w->ret = -ENOMEM;
}

/* The OVSDB map of m (consumed). */
static json_object *map_of(json_object *m) {
        _cleanup_(json_object_putp) json_object *obj = m;

        return ovsdb_map_from_object(obj);
}

static json_object *map2(const char *k1, const char *v1, const char *k2, const char *v2) {
        json_object *m = json_object_new_object();

        if (!m)
                return NULL;
        json_object_object_add(m, k1, json_object_new_string(v1));
        if (k2)
                json_object_object_add(m, k2, json_object_new_string(v2));
        return map_of(m);
}

/* [row] (row consumed) */
static json_object *rows1(json_object *row) {
        json_object *rows = row ? json_object_new_array() : NULL;

        if (!rows || json_object_array_add(rows, row) < 0) {
                json_object_put(rows);
                json_object_put(row);
                return NULL;
        }
        return rows;
}

/* "switch/NAME", "port/NAME", ...: the objects of the plan (static buffer: one at a time) */
static const char *obj(const char *kind, const char *name) {
        static char buf[128];

        snprintf(buf, sizeof buf, "%s/%s", kind, name);
        return buf;
}

static char *declarer_key(const OvnPlugin *o) {
        char *k;

        return asprintf(&k, OVN_DECLARER_PREFIX "%s", o->chassis.system_id) < 0 ? NULL : k;
}

static size_t count_named(const OvnModel *m, const char *name) {
        size_t n = 0;

        for (size_t i = 0; i < m->n_switches; i++)
                n += streq(m->switches[i].name, name);
        return n;
}

/* A live switch this apply deletes: op-dbus's, declared by this node only,
 * and no longer by it. */
static bool switch_goes(const OvnPlugin *o, const OvnSwitch *h) {
        return h->owned && h->declared && h->n_declarers <= 1 && !ovn_find_switch(&o->want, h->name);
}

static void create_switch(Walk *w, const OvnSwitch *s, size_t i) {
        static const char *const name_col[] = { "name", NULL };
        _cleanup_(freep) char *key = declarer_key(w->o);
        json_object *row;

        act(w, ACTION_CREATE, IMPACT_NONE, obj("switch", s->name), "subnet %s", s->subnet);
        if (!w->nb)
                return;
        if (!key) {
                w->ret = -ENOMEM;
                return;
        }
        /* still absent: the name is no index of Logical_Switch */
        ovsdb_txn_wait(w->nb, "Logical_Switch", ovsdb_where_name(s->name), name_col, "==",
                       json_object_new_array(), 0);
        row = json_object_new_object();
        if (row) {
                json_object_object_add(row, "name", json_object_new_string(s->name));
                json_object_object_add(row, "external_ids", map2(OVSDB_OWNER_KEY, OVN_OWNER_VALUE, key, "declared"));
                json_object_object_add(row, "other_config", map2("subnet", s->subnet, NULL, NULL));
        }
        w->new_switch[i] = ovsdb_txn_insert(w->nb, "Logical_Switch", row);
}

static bool same_options(json_object *a, json_object *b) {
        if (!a || !b)
                return !a && !b;
        if (json_object_object_length(a) != json_object_object_length(b))
                return false;
        json_object_object_foreach(a, k, v) {
                json_object *bv;

                if (!json_object_object_get_ex(b, k, &bv) || !streq(json_object_get_string(v), json_object_get_string(bv)))
                        return false;
        }
        return true;
}

/* The row still there (and still for this subnet), for an update or a delete. */
static void guard_dhcp(Walk *w, const OvnSwitch *h) {
        static const char *const cidr_col[] = { "cidr", NULL };

        ovsdb_txn_wait(w->nb, "DHCP_Options", ovsdb_where_uuid(h->dhcp_uuid), cidr_col, "==",
                       ovsdb_rows1("cidr", json_object_new_string(h->dhcp_cidr)), 0);
}

static void delete_dhcp(Walk *w, const OvnSwitch *h) {
        if (!w->nb || !h->dhcp_uuid)
                return;
        /* the ports' dhcpv4_options are weak references: they are cleared */
        guard_dhcp(w, h);
        ovsdb_txn_delete(w->nb, "DHCP_Options", ovsdb_where_uuid(h->dhcp_uuid));
}

/* DHCP of a declared switch (h: the live switch, or NULL when it is created). */
static void walk_dhcp(Walk *w, const OvnSwitch *s, const OvnSwitch *h, size_t i) {
        static const char *const cidr_col[] = { "cidr", NULL };
        json_object *row, *match;

        if (!s->dhcp) {
                if (h && h->dhcp_uuid) {
                        act(w, ACTION_MODIFY, IMPACT_FLOW_CHANGE, obj("switch", s->name), "DHCP off");
                        delete_dhcp(w, h);
                }
                return;
        }
        if (h && h->dhcp_uuid) {
                if (streq(h->dhcp_cidr, s->subnet) && same_options(h->dhcp, s->dhcp))
                        return;
                act(w, ACTION_MODIFY, IMPACT_FLOW_CHANGE, obj("switch", s->name), "DHCP options changed");
                if (!w->nb)
                        return;
                row = json_object_new_object();
                if (row) {
                        json_object_object_add(row, "cidr", json_object_new_string(s->subnet));
                        json_object_object_add(row, "options", ovsdb_map_from_object(s->dhcp));
                }
                guard_dhcp(w, h);
                ovsdb_txn_update(w->nb, "DHCP_Options", ovsdb_where_uuid(h->dhcp_uuid), row);
                return;
        }
        act(w, ACTION_CREATE, IMPACT_NONE, obj("dhcp", s->name), "DHCP on logical switch %s", s->name);
        if (!w->nb)
                return;
        /* its switch still there (a node that deleted it meanwhile would
         * leave the row to nobody), the row still absent: another node
         * may be creating it */
        if (h)
                ovsdb_txn_guard_name(w->nb, "Logical_Switch", ovsdb_where_uuid(h->uuid), h->name);
        match = json_object_new_object();
        if (match)
                json_object_object_add(match, OVN_SWITCH_KEY, json_object_new_string(s->name));
        ovsdb_txn_wait(w->nb, "DHCP_Options", ovsdb_where("external_ids", "includes", map_of(match)), cidr_col, "==",
                       json_object_new_array(), 0);
        row = json_object_new_object();
        if (row) {
                json_object_object_add(row, "cidr", json_object_new_string(s->subnet));
                json_object_object_add(row, "options", ovsdb_map_from_object(s->dhcp));
                json_object_object_add(row, "external_ids", map2(OVSDB_OWNER_KEY, OVN_OWNER_VALUE, OVN_SWITCH_KEY, s->name));
        }
        w->new_dhcp[i] = ovsdb_txn_insert(w->nb, "DHCP_Options", row);
}

static void walk_switches(Walk *w) {
        OvnPlugin *o = w->o;
        _cleanup_(freep) char *key = declarer_key(o);

        if (!key) {
                w->ret = -ENOMEM;
                return;
        }
        for (size_t i = 0; i < o->want.n_switches; i++) {
                const OvnSwitch *s = &o->want.switches[i];
                const OvnSwitch *h = ovn_find_switch(&o->have, s->name);

                if (!h) {
                        create_switch(w, s, i);
                        walk_dhcp(w, s, NULL, i);
                        continue;
                }
                if (count_named(&o->have, s->name) > 1) {
                        diag_error(w->d, s->path, "the northbound database has several logical switches named \"%s\": "
                                   "remove all but one (ovn-nbctl ls-del UUID)", s->name);
                        w->ret = -EINVAL;
                        continue;
                }
                if (!h->owned) {
                        diag_error(w->d, s->path, "logical switch \"%s\" exists in the northbound database and was not "
                                   "created by op-dbus: op-dbus does not take it over; choose another name", s->name);
                        w->ret = -EINVAL;
                        continue;
                }
                if (!h->declared) {
                        act(w, ACTION_MODIFY, IMPACT_NONE, obj("switch", s->name), "declared by %s too",
                            o->chassis.system_id);
                        if (w->nb) {
                                ovsdb_txn_guard_name(w->nb, "Logical_Switch", ovsdb_where_uuid(h->uuid), h->name);
                                ovsdb_txn_mutate_map_key(w->nb, "Logical_Switch", ovsdb_where_uuid(h->uuid),
                                                         "external_ids", key, "declared");
                        }
                }
                if (!h->subnet || !streq(h->subnet, s->subnet)) {
                        act(w, ACTION_MODIFY, IMPACT_NONE, obj("switch", s->name), "subnet %s -> %s",
                            h->subnet ?: "(none)", s->subnet);
                        if (w->nb) {
                                ovsdb_txn_guard_name(w->nb, "Logical_Switch", ovsdb_where_uuid(h->uuid), h->name);
                                ovsdb_txn_mutate_map_key(w->nb, "Logical_Switch", ovsdb_where_uuid(h->uuid),
                                                         "other_config", "subnet", s->subnet);
                        }
                }
                walk_dhcp(w, s, h, i);
        }
}

static bool mine(const OvnPlugin *o, const OvnPort *h) {
        return h->owned && h->node && streq(h->node, o->chassis.system_id);
}

/* The ports a switch deletion cuts off: not this node's, which the plan
 * removes anyway (they cannot be declared on a switch that is not), but
 * other nodes' and those made by hand. */
static void ports_on(const OvnPlugin *o, const OvnSwitch *h, StrBuf *b) {
        for (size_t i = 0; i < o->have.n_ports; i++) {
                const OvnPort *p = &o->have.ports[i];

                if (p->sw_uuid && streq(p->sw_uuid, h->uuid) && !mine(o, p))
                        strbuf_printf(b, "%s%s (%s)", b->len > 0 ? ", " : "", p->name, p->node ?: "not op-dbus's");
        }
}

/* Switches this node declared and no longer does: its key goes; the last
 * declarer deletes the switch, guarded by the declarers and ports read. */
static void walk_old_switches(Walk *w) {
        static const char *const cols[] = { "external_ids", "ports", NULL };
        static const char *const ids_col[] = { "external_ids", NULL };
        OvnPlugin *o = w->o;
        _cleanup_(freep) char *key = declarer_key(o);

        for (size_t i = 0; key && i < o->have.n_switches; i++) {
                const OvnSwitch *h = &o->have.switches[i];
                char path[128];

                if (!h->owned || !h->declared || ovn_find_switch(&o->want, h->name))
                        continue;
                snprintf(path, sizeof path, "switch/%s", h->name);
                if (!switch_goes(o, h)) {
                        act(w, ACTION_MODIFY, IMPACT_NONE, path, "no longer declared by %s "
                            "(%zu other node(s) still declare it)", o->chassis.system_id, h->n_declarers - 1);
                        if (w->nb) {
                                /* the declarers read: two nodes leaving at once
                                 * must not both think another one stays */
                                ovsdb_txn_wait(w->nb, "Logical_Switch", ovsdb_where_uuid(h->uuid), ids_col, "==",
                                               ovsdb_rows1("external_ids", json_object_get(h->raw_ids)), 0);
                                ovsdb_txn_mutate_map_key(w->nb, "Logical_Switch", ovsdb_where_uuid(h->uuid),
                                                         "external_ids", key, NULL);
                        }
                        continue;
                }
                if (w->plan) {
                        _cleanup_(strbuf_done) StrBuf ports = {};

                        ports_on(o, h, &ports);
                        act(w, ACTION_DELETE, &impact_switch_outage, path, "no longer declared by any node; removed%s%s",
                            ports.len ? " with the ports " : "", ports.len ? ports.s : "");
                        if (ports.len && plan_set_outage(w->plan, "cut off the traffic of the logical switch "
                                                         "ports %s on every node", ports.s) < 0)
                                w->ret = -ENOMEM;
                }
                if (w->nb) {
                        json_object *row = json_object_new_object();

                        if (row) {
                                json_object_object_add(row, "external_ids", json_object_get(h->raw_ids));
                                json_object_object_add(row, "ports", json_object_get(h->raw_ports));
                        }
                        ovsdb_txn_wait(w->nb, "Logical_Switch", ovsdb_where_uuid(h->uuid), cols, "==",
                                       rows1(row), 0);
                        ovsdb_txn_delete(w->nb, "Logical_Switch", ovsdb_where_uuid(h->uuid));
                        delete_dhcp(w, h);
                }
        }
        if (!key)
                w->ret = -ENOMEM;
}

static json_object *string_set(const char *s) {
        json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        json_object_array_add(a, json_object_new_string(s));
        return ovsdb_set(a);
}

/* The where clause of a port's switch, and the guard that it is still
 * there: an existing switch by uuid, one this transaction creates by its
 * named-uuid. */
static json_object *switch_where(Walk *w, const char *name) {
        const OvnSwitch *h = ovn_find_switch(&w->o->have, name);

        if (h) {
                ovsdb_txn_guard_name(w->nb, "Logical_Switch", ovsdb_where_uuid(h->uuid), h->name);
                return ovsdb_where_uuid(h->uuid);
        }
        for (size_t i = 0; i < w->o->want.n_switches; i++)
                if (streq(w->o->want.switches[i].name, name) && w->new_switch[i])
                        return ovsdb_where("_uuid", "==", json_object_get(w->new_switch[i]));
        return NULL;
}

/* The DHCP_Options a port of switch name refers to: ["uuid", ...] or
 * ["named-uuid", ...] (new references), or NULL for none. */
static json_object *dhcp_ref(Walk *w, const char *name) {
        const OvnSwitch *h = ovn_find_switch(&w->o->have, name);

        for (size_t i = 0; i < w->o->want.n_switches; i++) {
                const OvnSwitch *s = &w->o->want.switches[i];

                if (!streq(s->name, name) || !s->dhcp)
                        continue;
                if (w->new_dhcp[i])
                        return json_object_get(w->new_dhcp[i]);
                return h && h->dhcp_uuid ? ovsdb_uuid(h->dhcp_uuid) : NULL;
        }
        return NULL;
}

/* Whether a live port's dhcpv4_options is what its switch's DHCP asks for. */
static bool dhcp_matches(const OvnPlugin *o, const OvnPort *p, const OvnPort *h) {
        const OvnSwitch *s = ovn_find_switch(&o->want, p->sw), *hs = ovn_find_switch(&o->have, p->sw);

        if (!s || !s->dhcp)
                return !h->dhcp_uuid;
        return h->dhcp_uuid && hs && hs->dhcp_uuid && streq(h->dhcp_uuid, hs->dhcp_uuid);
}

/* [atom] (consumed) */
static json_object *uuid_list(json_object *atom) {
        json_object *a = json_object_new_array();

        if (a)
                json_object_array_add(a, atom);
        else
                json_object_put(atom);
        return a;
}

static json_object *uuid_array(const char *uuid) {
        json_object *a = json_object_new_array();

        if (a)
                json_object_array_add(a, ovsdb_uuid(uuid));
        return a;
}

static void create_port(Walk *w, const OvnPort *p) {
        json_object *row, *ref, *ins, *dhcp;

        act(w, ACTION_CREATE, IMPACT_NONE, obj("port", p->name), "on logical switch %s, %s, port security on",
            p->sw, p->address);
        if (!w->nb)
                return;
        row = json_object_new_object();
        if (row) {
                json_object_object_add(row, "name", json_object_new_string(p->name));
                json_object_object_add(row, "addresses", string_set(p->address));
                json_object_object_add(row, "port_security", string_set(p->address));
                json_object_object_add(row, "external_ids", map2(OVSDB_OWNER_KEY, OVN_OWNER_VALUE,
                                                                 OVN_NODE_KEY, w->o->chassis.system_id));
                dhcp = dhcp_ref(w, p->sw);
                if (dhcp)
                        json_object_object_add(row, "dhcpv4_options", dhcp);
        }
        ref = ovsdb_txn_insert(w->nb, "Logical_Switch_Port", row);
        ins = json_object_new_array();
        if (ins && ref)
                json_object_array_add(ins, ref);
        else
                json_object_put(ref);
        ovsdb_txn_mutate_set(w->nb, "Logical_Switch", switch_where(w, p->sw), "ports", NULL, ins);
}

static void change_port(Walk *w, const OvnPort *p, const OvnPort *h) {
        if (!streq(h->address, p->address) || !streq(h->security, p->address)) {
                act(w, ACTION_MODIFY, IMPACT_FLOW_CHANGE, obj("port", p->name),
                    "addresses %s -> %s, port security %s -> %s", h->address[0] ? h->address : "(none)", p->address,
                    h->security[0] ? h->security : "(off)", p->address);
                if (w->nb) {
                        json_object *row = json_object_new_object();

                        if (row) {
                                json_object_object_add(row, "addresses", string_set(p->address));
                                json_object_object_add(row, "port_security", string_set(p->address));
                        }
                        ovsdb_txn_guard_name(w->nb, "Logical_Switch_Port", ovsdb_where_uuid(h->uuid), h->name);
                        ovsdb_txn_update(w->nb, "Logical_Switch_Port", ovsdb_where_uuid(h->uuid), row);
                }
        }
        if (!dhcp_matches(w->o, p, h)) {
                json_object *dhcp = NULL;

                if (ovn_find_switch(&w->o->want, p->sw)->dhcp)
                        act(w, ACTION_MODIFY, IMPACT_FLOW_CHANGE, obj("port", p->name), "DHCP from logical switch %s",
                            p->sw);
                else
                        act(w, ACTION_MODIFY, IMPACT_FLOW_CHANGE, obj("port", p->name), "DHCP off");
                if (w->nb) {
                        json_object *row = json_object_new_object();

                        dhcp = dhcp_ref(w, p->sw);
                        if (row)
                                json_object_object_add(row, "dhcpv4_options",
                                                       dhcp ? ovsdb_set(uuid_list(dhcp)) : ovsdb_empty_set());
                        ovsdb_txn_guard_name(w->nb, "Logical_Switch_Port", ovsdb_where_uuid(h->uuid), h->name);
                        ovsdb_txn_update(w->nb, "Logical_Switch_Port", ovsdb_where_uuid(h->uuid), row);
                }
        }
        if (!h->sw || !streq(h->sw, p->sw)) {
                act(w, ACTION_MODIFY, IMPACT_PORT_FLAP, obj("port", p->name), "logical switch %s -> %s",
                    h->sw ?: "(none)", p->sw);
                if (w->nb) {
                        ovsdb_txn_guard_name(w->nb, "Logical_Switch_Port", ovsdb_where_uuid(h->uuid), h->name);
                        if (h->sw_uuid)
                                ovsdb_txn_mutate_set(w->nb, "Logical_Switch", switch_where(w, h->sw), "ports",
                                                     uuid_array(h->uuid), NULL);
                        ovsdb_txn_mutate_set(w->nb, "Logical_Switch", switch_where(w, p->sw), "ports", NULL,
                                             uuid_array(h->uuid));
                }
        }
}

static void walk_ports(Walk *w) {
        OvnPlugin *o = w->o;

        for (size_t i = 0; i < o->want.n_ports; i++) {
                const OvnPort *p = &o->want.ports[i];
                const OvnPort *h = ovn_find_port(&o->have, p->name);

                if (!h)
                        create_port(w, p);
                else if (!mine(o, h)) {
                        diag_error(w->d, p->path, "logical switch port \"%s\" exists in the northbound database and %s%s%s: "
                                   "op-dbus changes only this node's ports; choose another name", p->name,
                                   h->owned ? "belongs to node " : "was not created by op-dbus",
                                   h->owned ? (h->node ?: "(unknown)") : "", "");
                        w->ret = -EINVAL;
                } else
                        change_port(w, p, h);
        }
        for (size_t i = 0; i < o->have.n_ports; i++) {
                const OvnPort *h = &o->have.ports[i];
                const OvnSwitch *hs;

                if (!mine(o, h) || ovn_find_port(&o->want, h->name))
                        continue;
                act(w, ACTION_DELETE, IMPACT_PORT_REMOVED, obj("port", h->name),
                    "no longer in the state; removed from logical switch %s", h->sw ?: "(none)");
                hs = h->sw ? ovn_find_switch(&o->have, h->sw) : NULL;
                if (w->nb && hs && !switch_goes(o, hs)) {
                        ovsdb_txn_guard_name(w->nb, "Logical_Switch_Port", ovsdb_where_uuid(h->uuid), h->name);
                        ovsdb_txn_mutate_set(w->nb, "Logical_Switch", switch_where(w, h->sw), "ports",
                                             uuid_array(h->uuid), NULL);
                }
        }
}

/* ---- the local Open vSwitch database ---- */

static void walk_chassis(Walk *w) {
        OvnPlugin *o = w->o;
        const char *keys[5], *values[5];
        size_t n = ovn_chassis_keys(&o->chassis, keys, values);
        _cleanup_(strbuf_done) StrBuf detail = {};

        for (size_t i = 0; i < n; i++) {
                json_object *v;
                const char *cur = json_object_object_get_ex(o->ovs_ids, keys[i], &v) ? json_object_get_string(v) : NULL;

                if (cur && streq(cur, values[i]))
                        continue;
                strbuf_printf(&detail, "%s%s %s -> %s", detail.len ? ", " : "", keys[i], cur ?: "(unset)", values[i]);
                if (w->ovs)
                        ovsdb_txn_mutate_map_key(w->ovs, "Open_vSwitch", ovsdb_where_uuid(o->ovs_uuid), "external_ids",
                                                 keys[i], values[i]);
        }
        if (detail.len)
                act(w, ACTION_MODIFY, IMPACT_FLOW_CHANGE, "chassis", "%s", detail.s);
        if (detail.error)
                w->ret = -ENOMEM;
}

static void set_iface(Walk *w, const OvnIface *f, const char *port) {
        if (!w->ovs)
                return;
        ovsdb_txn_guard_name(w->ovs, "Interface", ovsdb_where_uuid(f->uuid), f->name);
        if (port || (f->iface_id && f->tag && streq(f->iface_id, f->tag)))
                ovsdb_txn_mutate_map_key(w->ovs, "Interface", ovsdb_where_uuid(f->uuid), "external_ids", "iface-id", port);
        ovsdb_txn_mutate_map_key(w->ovs, "Interface", ovsdb_where_uuid(f->uuid), "external_ids", OVN_IFACE_TAG, port);
}

static void walk_ifaces(Walk *w) {
        OvnPlugin *o = w->o;

        for (size_t i = 0; i < o->want.n_ports; i++) {
                const OvnPort *p = &o->want.ports[i];
                const OvnIface *f;

                if (!p->interface)
                        continue;
                f = ovn_find_iface(o, p->interface);
                if (!f) {
                        if (w->plan)
                                diag_warning(w->d, p->path, "interface \"%s\" is not in Open vSwitch (yet): logical switch "
                                             "port \"%s\" is bound to it by the next apply after it appears",
                                             p->interface, p->name);
                        continue;
                }
                if (!f->bridge || !streq(f->bridge, o->chassis.bridge)) {
                        _cleanup_(freep) char *ip = json_path_key(p->path, "interface");

                        diag_error(w->d, ip, "interface \"%s\" is on bridge %s, not on the integration bridge %s: "
                                   "ovn-controller binds only the ports of %s", p->interface, f->bridge ?: "(none)",
                                   o->chassis.bridge, o->chassis.bridge);
                        w->ret = -EINVAL;
                        continue;
                }
                if (f->iface_id && f->tag && streq(f->iface_id, p->name) && streq(f->tag, p->name))
                        continue;
                act(w, ACTION_MODIFY, IMPACT_PORT_FLAP, obj("interface", f->name), "bound to logical switch port %s "
                    "(external_ids:iface-id %s -> %s)", p->name, f->iface_id ?: "(unset)", p->name);
                set_iface(w, f, p->name);
        }
        for (size_t i = 0; i < o->n_ifaces; i++) {
                const OvnIface *f = &o->ifaces[i];
                const OvnPort *p;

                if (!f->tag)
                        continue;
                p = ovn_find_port(&o->want, f->tag);
                if (p && p->interface && streq(p->interface, f->name))
                        continue;
                act(w, ACTION_MODIFY, IMPACT_PORT_FLAP, obj("interface", f->name), "no longer bound to logical switch "
                    "port %s", f->tag);
                set_iface(w, f, NULL);
        }
}

int ovn_walk(OvnPlugin *o, Plan *plan, OvsdbTxn *nb, OvsdbTxn *ovs, Diag *d) {
        _cleanup_(freep) json_object **new_switch = calloc(o->want.n_switches + 1, sizeof(json_object *));
        _cleanup_(freep) json_object **new_dhcp = calloc(o->want.n_switches + 1, sizeof(json_object *));
        Walk w = { .o = o, .plan = plan, .nb = nb, .ovs = ovs, .d = d, .new_switch = new_switch,
                   .new_dhcp = new_dhcp };

        if (!new_switch || !new_dhcp)
                return -ENOMEM;
        if (!o->present)
                return 0;
        walk_chassis(&w);
        walk_ifaces(&w);
        walk_switches(&w);
        walk_ports(&w);
        /* last: its guard holds the ports the walk above leaves to it */
        walk_old_switches(&w);
        for (size_t i = 0; i < o->want.n_switches; i++) {
                json_object_put(new_switch[i]);
                json_object_put(new_dhcp[i]);
        }
        return w.ret;
}

/* ---- apply ---- */

static bool txn_empty(const OvsdbTxn *t) {
        return json_object_array_length(t->ops) == 0;
}

/* A guard failed (another writer changed what the plan read) or a name
 * was taken in between (the index of Logical_Switch_Port). */
static bool is_conflict(int r) {
        return r == -ETIMEDOUT || r == -EEXIST;
}

static void backoff(unsigned attempt) {
        struct timespec ts = { 0, (long) (((unsigned) getpid() * 7919u + attempt * 104729u) % 20 + 5 * attempt) * 1000000L };

        (void) nanosleep(&ts, NULL);
}

static int commit(OvsdbClient *c, const OvsdbTxn *t, const char *what, Diag *d) {
        _cleanup_(freep) char *err = NULL;
        int r = ovsdb_txn_commit(c, t, NULL, &err);

        if (r < 0 && !is_conflict(r))
                diag_error(d, "plugins.ovn", "%s transaction failed: %s", what, err ?: strerror(-r));
        return r;
}

/* After a conflict the plan is made again from what the other writer
 * left; the caller allowed the outages of the first plan only. A new one
 * (ports made by hand on a switch the other nodes have just left) stops
 * the apply. */
static int check_replan(const Plan *p, unsigned attempt, Diag *d) {
        for (size_t i = 0; attempt > 0 && i < p->n_actions; i++)
                if (p->actions[i].outage) {
                        diag_error(d, p->actions[i].path, "the northbound database changed while applying, and the plan "
                                   "made again would %s; apply again to see the new plan", p->actions[i].outage);
                        return -EAGAIN;
                }
        return 0;
}

int ovn_apply(OvnPlugin *o, ApplyCounts *counts, Diag *d) {
        int r;

        o->conflicts = 0;
        for (unsigned attempt = 0;; attempt++) {
                _cleanup_(ovsdb_txn_done) OvsdbTxn nb = {}, ovs = {};
                _cleanup_(diag_done) Diag scratch = {};

                if (ovsdb_txn_init(&nb) < 0 || ovsdb_txn_init(&ovs) < 0)
                        return -ENOMEM;
                nb.db = OVN_NB_DB;
                _cleanup_(plan_done) Plan replan = {};

                if (attempt > 0) {
                        r = ovn_query(o, d);
                        if (r < 0)
                                return r;
                }
                r = ovn_walk(o, &replan, &nb, &ovs, &scratch);
                if (r < 0) {
                        (void) diag_move(d, &scratch);
                        return r;
                }
                r = check_replan(&replan, attempt, d);
                if (r < 0)
                        return r;
                r = 0;
                if (!txn_empty(&ovs)) {
                        r = commit(o->ovs, &ovs, "Open vSwitch", d);
                        if (r < 0 && !is_conflict(r))
                                return r;
                        if (r >= 0)
                                apply_counts_write(counts, COUNT_OVSDB_OPS, ovs.writes);
                }
                if (r >= 0 && !txn_empty(&nb)) {
                        r = commit(o->nb, &nb, "northbound", d);
                        if (r < 0 && !is_conflict(r))
                                return r;
                        if (r >= 0)
                                apply_counts_write(counts, COUNT_OVSDB_OPS, nb.writes);
                }
                if (r >= 0)
                        break;
                o->conflicts++;
                if (attempt + 1 >= OVN_CONFLICT_RETRIES) {
                        diag_error(d, "plugins.ovn", "the northbound database changed under each of %u attempts "
                                   "(other nodes applying at the same time); nothing of the last attempt was written",
                                   OVN_CONFLICT_RETRIES);
                        return -EAGAIN;
                }
                backoff(attempt + 1);
        }
        if (o->conflicts > 0)
                diag_warning(d, "plugins.ovn", "the northbound database changed between reading and writing "
                             "(another node applying at the same time): read again and retried %u time%s",
                             o->conflicts, o->conflicts == 1 ? "" : "s");
        return 0;
}
