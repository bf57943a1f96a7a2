/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which OVS port serves which container: the state's socket_ports first,
 * then the names Proxmox and op-dbus give container ports. Ports are read
 * from OVSDB; nothing is renamed or taken over. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>

#include "host.h"
#include "json-util.h"
#include "of-engine.h"
#include "ovsdb-txn.h"
#include "pve-id.h"


void of_ports_done(OfPorts *p) {
        for (size_t i = 0; i < p->n; i++) {
                free(p->ports[i].name);
                free(p->ports[i].bridge);
        }
        free(p->ports);
        for (size_t i = 0; i < p->n_bridges; i++)
                free(p->bridges[i]);
        free(p->bridges);
        for (size_t i = 0; i < p->n_modes; i++) {
                free(p->modes[i].name);
                free(p->modes[i].fail_mode);
                free(p->modes[i].uuid);
                free(p->modes[i].mark);
        }
        free(p->modes);
        *p = (OfPorts) {};
}

bool of_ports_has_bridge(const OfPorts *p, const char *name) {
        for (size_t i = 0; i < p->n_bridges; i++)
                if (streq(p->bridges[i], name))
                        return true;
        return false;
}

uint32_t of_port_name_container(const char *name, unsigned *ret_index) {
        static const struct {
                const char *prefix;
                char sep;            /* 0: the id ends the name */
        } patterns[] = {
                { "veth", 'i' },     /* Proxmox: veth<vmid>i<n> */
                { "fwln", 'o' },     /* Proxmox firewall on OVS: fwln<vmid>o<n> */
                { "internal_", 0 },  /* op-dbus socket networking */
                { "vi", 0 },         /* earlier op-dbus naming */
        };

        for (size_t i = 0; i < ELEMENTSOF(patterns); i++) {
                const char *p;
                uint32_t id;
                unsigned n = 0;

                if (!startswith(name, patterns[i].prefix))
                        continue;
                if (!pve_vmid_parse(name + strlen(patterns[i].prefix), &p, &id))
                        continue;
                if (patterns[i].sep) {
                        if (*p++ != patterns[i].sep || !*p)
                                continue;
                        for (; *p >= '0' && *p <= '9'; p++)
                                n = n * 10 + (unsigned) (*p - '0');
                }
                if (*p)
                        continue;
                if (ret_index)
                        *ret_index = n;
                return id;
        }
        return 0;
}

const OfPort *of_ports_find(const OfPorts *p, const char *bridge, const char *name) {
        for (size_t i = 0; i < p->n; i++)
                if (streq(p->ports[i].name, name) && (!bridge || streq(p->ports[i].bridge, bridge)))
                        return &p->ports[i];
        return NULL;
}

static const OfSocketPort *find_socket_port(const OpenflowConfig *c, const char *name) {
        for (size_t b = 0; b < c->n_bridges; b++)
                for (size_t i = 0; i < c->bridges[b].n_socket_ports; i++)
                        if (streq_ptr(c->bridges[b].socket_ports[i].name, name))
                                return &c->bridges[b].socket_ports[i];
        return NULL;
}

static bool bridge_wanted(const OpenflowConfig *c, const char *name) {
        for (size_t b = 0; b < c->n_bridges; b++)
                if (streq_ptr(c->bridges[b].name, name))
                        return true;
        return false;
}

static json_object *row_column(json_object *row, const char *name) {
        json_object *v = NULL;

        (void) json_object_object_get_ex(row, name, &v);
        return v;
}

typedef struct Extra {
        const OfSocketPort *ports;
        size_t n;
} Extra;

static const OfSocketPort *find_extra(const Extra *x, const char *name, uint32_t id) {
        for (size_t i = 0; i < x->n; i++)
                if (x->ports[i].name ? streq(x->ports[i].name, name) : x->ports[i].container_id == id)
                        return &x->ports[i];
        return NULL;
}

static int add_port(OfPorts *p, const OpenflowConfig *c, const Extra *x, const char *bridge, json_object *port,
                    const OvsdbRowIndex *ifaces) {
        json_object *set = row_column(port, "interfaces"), *iface, *ofport;
        const char *name = json_object_get_string(row_column(port, "name"));
        OfPort *o;
        int r;

        if (!name || streq(name, bridge) || ovsdb_set_length(set) != 1)
                return 0; /* the bridge's local port, or a bond */
        iface = ovsdb_row_index_find(ifaces, ovsdb_uuid_string(ovsdb_set_get(set, 0)));
        ofport = iface ? row_column(iface, "ofport") : NULL;

        r = greedy_realloc((void **) &p->ports, &p->allocated, p->n + 1, sizeof(OfPort));
        if (r < 0)
                return r;
        o = &p->ports[p->n];
        *o = (OfPort) {
                .name = strdup(name),
                .bridge = strdup(bridge),
                .ofport = json_object_is_type(ofport, json_type_int) ? json_object_get_int64(ofport) : -1,
                .sock = find_socket_port(c, name),
        };
        if (!o->name || !o->bridge)
                return -ENOMEM;
        p->n++;
        if (!o->sock)
                o->sock = find_extra(x, name, 0);
        if (o->sock)
                o->container_id = o->sock->container_id;
        else {
                o->container_id = of_port_name_container(name, &o->index);
                if (o->container_id && o->index == 0)
                        o->sock = find_extra(x, "", o->container_id);
        }
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int add_bridge_names(OfPorts *p, json_object *bridges) {
        size_t n = json_object_array_length(bridges);

        p->bridges = calloc(n + 1, sizeof(char *));
        if (!p->bridges)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *name = json_object_get_string(row_column(json_object_array_get_idx(bridges, i), "name"));

                if (!name)
                        continue;
                if (!(p->bridges[p->n_bridges] = strdup(name)))
                        return -ENOMEM;
                p->n_bridges++;
        }
        qsort(p->bridges, p->n_bridges, sizeof(char *), cmp_str);
        return 0;
}

const OfBridgeMode *of_ports_bridge_mode(const OfPorts *p, const char *name) {
        for (size_t i = 0; i < p->n_modes; i++)
                if (streq(p->modes[i].name, name))
                        return &p->modes[i];
        return NULL;
}

static int add_bridge_mode(OfPorts *p, json_object *b, const char *name) {
        json_object *fm = row_column(b, "fail_mode"), *mark;
        _cleanup_(json_object_putp) json_object *ids = ovsdb_map_to_object(row_column(b, "external_ids"));
        OfBridgeMode *m;

        if (!p->modes) {
                p->modes = calloc(p->n_bridges + 1, sizeof(OfBridgeMode));
                if (!p->modes)
                        return -ENOMEM;
        }
        if (p->n_modes >= p->n_bridges)
                return 0; /* a name twice: OVSDB's index forbids it */
        m = &p->modes[p->n_modes++];
        /* An unset optional column comes back as an empty set. */
        if (json_object_is_type(fm, json_type_string) && !(m->fail_mode = strdup(json_object_get_string(fm))))
                return -ENOMEM;
        m->n_controllers = ovsdb_set_length(row_column(b, "controller"));
        if (ids && json_object_object_get_ex(ids, OF_FAIL_MODE_MARK, &mark) &&
            !(m->mark = strdup(json_object_get_string(mark))))
                return -ENOMEM;
        m->name = strdup(name);
        m->uuid = strdup_or_null(ovsdb_uuid_string(row_column(b, "_uuid")));
        return m->name && m->uuid ? 0 : -ENOMEM;
}

static int wait_vswitchd(OvsdbClient *client, const PluginContext *ctx, Diag *d) {
        _cleanup_(freep) char *err = NULL;
        int64_t cur, next;
        int r;

        r = ovsdb_read_cfg(client, &cur, &next, &err);
        if (r >= 0 && cur < next)
                r = ovsdb_wait_cur_cfg(client, next, ctx->timeout_ms, &cur, &err);
        if (r == -ETIMEDOUT)
                diag_error(d, "", "ovs-vswitchd has not carried out the configuration OVSDB holds (it is at "
                           "configuration %" PRId64 " of %" PRId64 "), so bridges in OVSDB may have no OpenFlow "
                           "connection yet; it did not catch up within %d s: is ovs-vswitchd running?", cur, next,
                           ctx->timeout_ms / 1000);
        else if (r < 0)
                diag_error(d, "", "OVSDB query failed: %s", err ?: strerror(-r));
        return r;
}

/* Whether ovs-vswitchd has carried out the configuration OVSDB holds
 * (cur_cfg = next_cfg of the Open_vSwitch row). */
static bool vswitchd_caught_up(json_object *rows) {
        json_object *row = json_object_array_length(rows) == 1 ? json_object_array_get_idx(rows, 0) : NULL;
        json_object *cur = row ? row_column(row, "cur_cfg") : NULL, *next = row ? row_column(row, "next_cfg") : NULL;

        return cur && next && json_object_is_type(cur, json_type_int) && json_object_is_type(next, json_type_int) &&
               json_object_get_int64(cur) >= json_object_get_int64(next);
}

int of_ports_query(OfPorts *p, const PluginContext *ctx, const OpenflowConfig *c,
                   const OfSocketPort *extra, size_t n_extra, Diag *d) {
        Extra x = { .ports = extra, .n = n_extra };
        static const char *const bcols[] = { "_uuid", "name", "ports", "fail_mode", "controller", "external_ids", NULL };
        static const char *const pcols[] = { "_uuid", "name", "interfaces", NULL };
        static const char *const icols[] = { "_uuid", "ofport", NULL };
        static const char *const ocols[] = { "cur_cfg", "next_cfg", NULL };
        static const char *const tables[] = { "Bridge", "Port", "Interface", "Open_vSwitch" };
        static const char *const *const columns[] = { bcols, pcols, icols, ocols };
        _cleanup_(ovsdb_client_freep) OvsdbClient *client = NULL;
        _cleanup_(json_object_putp) json_object *res = NULL;
        _cleanup_(ovsdb_row_index_done) OvsdbRowIndex port_index = {}, iface_index = {};
        _cleanup_(freep) char *err = NULL;
        json_object *rows[4], *bridges, *ports, *ifaces;
        int r;

        r = ovsdb_client_connect(host_settings(ctx)->ovsdb_address, ctx->timeout_ms, &client);
        if (r < 0) {
                diag_error(d, "", "cannot connect to OVSDB at %s: %s", host_settings(ctx)->ovsdb_address, strerror(-r));
                return r;
        }
        /* ovs-vswitchd may not have carried out what OVSDB holds yet (an
         * apply was interrupted before it waited for that): bridges without
         * a management socket, ports without a number. Read with the
         * configuration numbers; when it is behind, wait for it and read
         * again. */
        r = ovsdb_read_tables(client, tables, columns, 4, &res, rows, &err);
        if (r >= 0 && !vswitchd_caught_up(rows[3])) {
                json_object_put(TAKE_PTR(res));
                r = wait_vswitchd(client, ctx, d);
                if (r < 0)
                        return r;
                r = ovsdb_read_tables(client, tables, columns, 4, &res, rows, &err);
        }
        if (r == -EBADMSG && !err) {
                diag_error(d, "", "OVSDB answered the query of the bridges' ports with an unexpected result");
                return r;
        }
        if (r < 0) {
                diag_error(d, "", "OVSDB query failed: %s", err ?: strerror(-r));
                return r;
        }
        bridges = rows[0];
        ports = rows[1];
        ifaces = rows[2];

        of_ports_done(p);
        r = add_bridge_names(p, bridges);
        if (r >= 0)
                r = ovsdb_row_index_build(ports, "_uuid", &port_index);
        if (r >= 0)
                r = ovsdb_row_index_build(ifaces, "_uuid", &iface_index);
        if (r < 0)
                return r;
        for (size_t i = 0; i < json_object_array_length(bridges); i++) {
                json_object *b = json_object_array_get_idx(bridges, i), *set = row_column(b, "ports");
                const char *bname = json_object_get_string(row_column(b, "name"));

                if (bname && (r = add_bridge_mode(p, b, bname)) < 0)
                        return r;
                if (!bname || !bridge_wanted(c, bname))
                        continue;
                for (size_t j = 0; j < ovsdb_set_length(set); j++) {
                        json_object *port = ovsdb_row_index_find(&port_index, ovsdb_uuid_string(ovsdb_set_get(set, j)));

                        if (port && (r = add_port(p, c, &x, bname, port, &iface_index)) < 0)
                                return r;
                }
        }
        return 0;
}

void of_socket_ports_free(OfSocketPort *a, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(a[i].name);
        free(a);
}

static bool parse_mac(const char *s, uint8_t mac[static 6]) {
        unsigned v[6];
        char end;

        if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6)
                return false;
        for (int i = 0; i < 6; i++)
                mac[i] = (uint8_t) v[i];
        return true;
}

static bool parse_ipv4(const char *s, struct in_addr *ret) {
        char buf[INET_ADDRSTRLEN];
        size_t n = s ? strcspn(s, "/") : 0;

        if (n == 0 || n >= sizeof buf)
                return false;
        memcpy(buf, s, n);
        buf[n] = 0;
        return inet_pton(AF_INET, buf, ret) == 1;
}

/* Reads the lxc section as JSON: its validation belongs to the lxc plugin,
 * so anything malformed is just skipped here. */
int of_ports_from_lxc(const StateDoc *doc, OfSocketPort **ret, size_t *ret_n) {
        json_object *lxc = state_doc_section(doc, "lxc"), *containers, *c, *v, *net;
        OfSocketPort *a = NULL;
        size_t n = 0;

        *ret = NULL;
        *ret_n = 0;
        if (!lxc || !json_object_object_get_ex(lxc, "containers", &containers) ||
            !json_object_is_type(containers, json_type_array))
                return 0;
        a = calloc(json_object_array_length(containers) + 1, sizeof(OfSocketPort));
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(containers); i++) {
                OfSocketPort *s = &a[n];
                const char *end;

                c = json_object_array_get_idx(containers, i);
                if (!json_object_object_get_ex(c, "id", &v) ||
                    !pve_vmid_parse(json_object_get_string(v), &end, &s->container_id) || *end ||
                    !json_object_object_get_ex(c, "network", &net))
                        continue;
                if (json_object_object_get_ex(net, "hwaddr", &v))
                        s->has_hwaddr = parse_mac(json_object_get_string(v), s->hwaddr);
                if (json_object_object_get_ex(net, "ipv4", &v))
                        s->has_ipv4 = parse_ipv4(json_object_get_string(v), &s->ipv4);
                if (json_object_object_get_ex(net, "port_name", &v) &&
                    !(s->name = strdup(json_object_get_string(v)))) {
                        of_socket_ports_free(a, n);
                        return -ENOMEM;
                }
                n++;
        }
        *ret = a;
        *ret_n = n;
        return 0;
}
