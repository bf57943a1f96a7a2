/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op-dbus show: reads the node the way the plugins do (OVSDB, the
 * bridges' flows over their management sockets, the lxc plugin's
 * containers) and puts it together with the applied state into one view
 * (show.h). Reads only: nothing is written, no lock is taken. */
#include <inttypes.h>
#include <stdio.h>

#include "checkpoint.h"
#include "exec.h"
#include "json-util.h"
#include "log.h"
#include "lxc-ovsdb.h"
#include "of-engine.h"
#include "ovsdb-txn.h"
#include "show.h"
#include "strbuf.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(OfpClient *, ofp_client_free);

static json_object *string_or_null(const char *s) {
        return s ? json_object_new_string(s) : NULL;
}

/* An optional OVSDB column: its atom, or NULL for an empty set. */
static json_object *atom(json_object *row, const char *column) {
        json_object *v = show_member(row, column);

        return ovsdb_set_length(v) == 1 ? ovsdb_set_get(v, 0) : NULL;
}

/* ---- ports and containers ---------------------------------------------------- */

/* The container a port serves: op-dbus's socket port mark, the applied
 * state's socket_ports, then the names Proxmox and op-dbus give container
 * ports (docs/flows.md#which-ports-are-containers); 0: none. */
static uint32_t port_container(json_object *ids, const char *name, json_object *socket_ports, unsigned *ret_index) {
        const char *mark = show_string(ids, LXC_SOCKET_CONTAINER_KEY);

        *ret_index = 0;
        if (mark && streq_ptr(show_string(ids, OVSDB_OWNER_KEY), LXC_SOCKET_OWNER))
                return (uint32_t) strtoul(mark, NULL, 10);
        for (size_t i = 0; i < show_len(socket_ports); i++) {
                json_object *sp = json_object_array_get_idx(socket_ports, i);

                if (streq_ptr(show_string(sp, "name"), name))
                        return (uint32_t) json_object_get_int64(show_member(sp, "container_id"));
        }
        return of_port_name_container(name, ret_index);
}

/* The interface a container sees for its port: a socket port is moved in
 * as eth0; Proxmox's veth<id>i<n> is the container's net<n>. */
static json_object *container_interface(const char *name, uint32_t id, unsigned index, bool socket) {
        char buf[32];

        if (id == 0)
                return NULL;
        if (socket)
                return json_object_new_string("eth0");
        if (startswith(name, "veth") || startswith(name, "fwln")) {
                snprintf(buf, sizeof buf, "net%u", index);
                return json_object_new_string(buf);
        }
        return NULL;
}

/* The applied state's socket_ports of bridge (an empty array when none). */
static json_object *socket_ports_of(json_object *openflow, const char *bridge) {
        json_object *bridges = show_member(openflow, "bridges");

        for (size_t i = 0; i < show_len(bridges); i++) {
                json_object *b = json_object_array_get_idx(bridges, i);

                if (streq_ptr(show_string(b, "name"), bridge) && show_member(b, "socket_ports"))
                        return show_member(b, "socket_ports");
        }
        return NULL;
}

static json_object *port_to_json(json_object *port, const OvsdbRowIndex *ifaces, json_object *socket_ports) {
        _cleanup_(json_object_putp) json_object *ids = ovsdb_map_to_object(show_member(port, "external_ids"));
        json_object *o = json_object_new_object(), *iface = NULL, *v;
        const char *name = show_string(port, "name") ?: "", *owner, *type = NULL;
        unsigned index;
        uint32_t id;

        if (!o)
                return NULL;
        if (ovsdb_set_length(show_member(port, "interfaces")) > 0)
                iface = ovsdb_row_index_find(ifaces, ovsdb_uuid_string(ovsdb_set_get(show_member(port, "interfaces"), 0)));
        owner = show_string(ids, OVSDB_OWNER_KEY);
        id = port_container(ids, name, socket_ports, &index);
        if (iface)
                type = show_string(iface, "type");
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "type", json_object_new_string(type && *type ? type : "system"));
        v = iface ? atom(iface, "ofport") : NULL;
        json_object_object_add(o, "ofport", json_object_is_type(v, json_type_int) ? json_object_get(v) : NULL);
        v = atom(port, "tag");
        json_object_object_add(o, "tag", json_object_is_type(v, json_type_int) ? json_object_get(v) : NULL);
        json_object_object_add(o, "owner", string_or_null(owner));
        json_object_object_add(o, "container", id ? json_object_new_int64(id) : NULL);
        json_object_object_add(o, "container_interface",
                               container_interface(name, id, index, streq_ptr(owner, LXC_SOCKET_OWNER) ||
                                                   startswith(name, "internal_")));
        return o;
}

static int cmp_by_name(const void *a, const void *b) {
        json_object *const *x = a, *const *y = b;

        return strcmp(show_string(*x, "name") ?: "", show_string(*y, "name") ?: "");
}

/* An OVSDB string column that may be empty: its value, or dflt. */
static const char *string_column(json_object *row, const char *column, const char *dflt) {
        json_object *v = atom(row, column);
        const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;

        return s && *s ? s : dflt;
}

/* A Bridge row with its ports (rows of the indexes), by name. */
static json_object *bridge_to_json(json_object *row, const OvsdbRowIndex *port_index, const OvsdbRowIndex *iface_index,
                                   json_object *openflow) {
        _cleanup_(json_object_putp) json_object *ids = ovsdb_map_to_object(show_member(row, "external_ids"));
        _cleanup_(json_object_putp) json_object *b = json_object_new_object();
        json_object *ports_set = show_member(row, "ports"), *ports = json_object_new_array();
        const char *name = show_string(row, "name") ?: "";

        if (!b || !ports) {
                json_object_put(ports);
                return NULL;
        }
        json_object_object_add(b, "name", json_object_new_string(name));
        json_object_object_add(b, "datapath_type", json_object_new_string(string_column(row, "datapath_type", "system")));
        json_object_object_add(b, "fail_mode", json_object_new_string(string_column(row, "fail_mode", "standalone")));
        json_object_object_add(b, "owner", string_or_null(show_string(ids, OVSDB_OWNER_KEY)));
        json_object_object_add(b, "ports", ports);
        for (size_t j = 0; j < ovsdb_set_length(ports_set); j++) {
                const char *uuid = ovsdb_uuid_string(ovsdb_set_get(ports_set, j));
                json_object *port = ovsdb_row_index_find(port_index, uuid), *p;

                if (!port)
                        continue;
                p = port_to_json(port, iface_index, socket_ports_of(openflow, name));
                if (!p)
                        return NULL;
                json_object_array_add(ports, p);
        }
        json_object_array_sort(ports, cmp_by_name);
        return TAKE_PTR(b);
}

/* Every bridge of OVSDB with its ports, like ovs-vsctl show. */
static int read_bridges(const Cli *cli, json_object *openflow, json_object *out) {
        static const char *const bcols[] = { "_uuid", "name", "ports", "datapath_type", "fail_mode", "external_ids", NULL };
        static const char *const pcols[] = { "_uuid", "name", "interfaces", "tag", "external_ids", NULL };
        static const char *const icols[] = { "_uuid", "name", "type", "ofport", NULL };
        static const char *const tables[] = { "Bridge", "Port", "Interface" };
        static const char *const *const columns[] = { bcols, pcols, icols };
        _cleanup_(ovsdb_client_freep) OvsdbClient *client = NULL;
        _cleanup_(json_object_putp) json_object *res = NULL;
        _cleanup_(ovsdb_row_index_done) OvsdbRowIndex port_index = {}, iface_index = {};
        _cleanup_(freep) char *err = NULL;
        json_object *rows[3];
        int r;

        r = ovsdb_client_connect(cli->host.ovsdb_address, cli->c.ctx.timeout_ms, &client);
        if (r < 0)
                return log_error_errno(r, "show: cannot connect to OVSDB at %s: %m", cli->host.ovsdb_address);
        r = ovsdb_read_tables(client, tables, columns, 3, &res, rows, &err);
        if (r < 0)
                return log_error_errno(r, "show: cannot read the bridges from OVSDB: %s", err ?: strerror(-r));
        r = ovsdb_row_index_build(rows[1], "_uuid", &port_index);
        if (r >= 0)
                r = ovsdb_row_index_build(rows[2], "_uuid", &iface_index);
        if (r < 0)
                return log_error_errno(-ENOMEM, "Out of memory.");

        for (size_t i = 0; i < show_len(rows[0]); i++) {
                json_object *b = bridge_to_json(json_object_array_get_idx(rows[0], i), &port_index, &iface_index,
                                                openflow);

                if (!b)
                        return log_error_errno(-ENOMEM, "Out of memory.");
                json_object_array_add(out, b);
        }
        json_object_array_sort(out, cmp_by_name);
        return 0;
}

/* The containers the lxc plugin reads (those op-dbus owns), with where
 * they are attached. */
static int read_containers(Reconciler *rc, json_object *view, Diag *notes) {
        _cleanup_(json_object_putp) json_object *state = NULL;
        _cleanup_(diag_done) Diag d = {};
        char *only[] = { (char *) "lxc", NULL };
        json_object *list, *out = show_member(view, "containers");
        int r;

        if (!plugin_registry_find(&rc->registry, "lxc"))
                return 0;
        r = reconcile_query(rc, only, &state, &d);
        if (r < 0) {
                diag_note(notes, "", "the containers cannot be read (%s)",
                         d.n_entries > 0 ? d.entries[0].message : strerror(-r));
                return 0;
        }
        list = show_member(show_member(show_member(state, "plugins"), "lxc"), "containers");
        for (size_t i = 0; i < show_len(list); i++) {
                json_object *c = json_object_array_get_idx(list, i), *net = show_member(c, "network");
                json_object *o = json_object_new_object();
                json_object *sock = show_member(net, "socket_networking");

                if (!o)
                        return -ENOMEM;
                json_object_array_add(out, o);
                json_object_object_add(o, "id", json_object_get(show_member(c, "id")));
                json_object_object_add(o, "name", string_or_null(show_string(c, "name")));
                json_object_object_add(o, "state", string_or_null(show_string(c, "state")));
                json_object_object_add(o, "bridge", string_or_null(show_string(net, "bridge")));
                json_object_object_add(o, "port", string_or_null(show_string(net, "port_name")));
                json_object_object_add(o, "socket_networking", json_object_new_boolean(json_object_get_boolean(sock)));
        }
        return 0;
}

/* ---- flows ------------------------------------------------------------------- */

static const struct {
        unsigned table;
        const char *name;
} pipeline_tables[] = {
        { OF_TABLE_ADMIT, "admission" },
        { OF_TABLE_SANITY, "sanity" },
        { OF_TABLE_CT, "conntrack" },
        { OF_TABLE_CT_STATE, "ct verdict" },
        { OF_TABLE_HIDE, "hiding" },
        { OF_TABLE_LEAK, "leak guard" },
        { OF_TABLE_POLICY, "policies" },
        { OF_TABLE_OUT, "forwarding" },
};

static const char *table_name(unsigned table) {
        for (size_t i = 0; i < ELEMENTSOF(pipeline_tables); i++)
                if (pipeline_tables[i].table == table)
                        return pipeline_tables[i].name;
        return "explicit flows";
}

/* Per table: op-dbus's flows, their packets, and the packets of those
 * that drop. */
static json_object *tables_to_json(const OfpFlowList *flows) {
        uint64_t n[256] = {}, packets[256] = {}, drops[256] = {}, drop_flows[256] = {};
        json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        for (size_t i = 0; i < flows->n; i++) {
                const OfpFlow *f = &flows->flows[i];

                n[f->table]++;
                packets[f->table] += f->packets;
                if (ofp_instructions_drop(f->body, f->body_len) > 0) {
                        drop_flows[f->table]++;
                        drops[f->table] += f->packets;
                }
        }
        for (unsigned t = 0; t < 256; t++) {
                json_object *o;

                if (n[t] == 0)
                        continue;
                o = json_object_new_object();
                if (!o)
                        break;
                json_object_array_add(a, o);
                json_object_object_add(o, "table", json_object_new_int(t));
                json_object_object_add(o, "name", json_object_new_string(table_name(t)));
                json_object_object_add(o, "flows", json_object_new_int64((int64_t) n[t]));
                json_object_object_add(o, "packets", json_object_new_int64((int64_t) packets[t]));
                json_object_object_add(o, "drop_flows", json_object_new_int64((int64_t) drop_flows[t]));
                json_object_object_add(o, "drops", json_object_new_int64((int64_t) drops[t]));
        }
        return a;
}

/* The port of bridge b a policy flow's cookie names: 0x80000000 | ofport,
 * or a container id and the port's index within the container. */
static const char *subject_port(json_object *b, uint64_t cookie) {
        uint32_t subject = (uint32_t) cookie;
        unsigned index = (unsigned) (cookie >> 34) & 0x3f;
        json_object *ports = show_member(b, "ports");

        for (size_t i = 0; i < show_len(ports); i++) {
                json_object *p = json_object_array_get_idx(ports, i);
                const char *name = show_string(p, "name");
                unsigned pindex = 0;

                if (subject & OF_SUBJECT_PORT) {
                        if (show_member(p, "ofport") &&
                            json_object_get_int64(show_member(p, "ofport")) == (int64_t) (subject & ~OF_SUBJECT_PORT))
                                return name;
                        continue;
                }
                if (json_object_get_int64(show_member(p, "container")) != (int64_t) subject)
                        continue;
                (void) of_port_name_container(name, &pindex);
                if (pindex == index)
                        return name;
        }
        return NULL;
}

/* Where a policy sends what it matches: a port ("container:N": that
 * container's first port on the bridge), NORMAL, a table, or drop. */
static char *policy_target(json_object *b, json_object *policy) {
        json_object *actions = show_member(show_member(policy, "template"), "actions");
        char *s = NULL;

        for (size_t i = 0; i < show_len(actions); i++) {
                json_object *a = json_object_array_get_idx(actions, i);
                const char *type = show_string(a, "type"), *port = show_string(a, "port");
                json_object *ports = show_member(b, "ports");
                uint32_t id;

                if (streq_ptr(type, "normal"))
                        return strdup("NORMAL");
                if (streq_ptr(type, "resubmit")) {
                        if (asprintf(&s, "table %" PRId64, json_object_get_int64(show_member(a, "table"))) < 0)
                                return NULL;
                        return s;
                }
                if (!streq_ptr(type, "output"))
                        continue;
                if (port && startswith(port, "container:") && (id = (uint32_t) strtoul(port + 10, NULL, 10)) > 0)
                        for (size_t j = 0; j < show_len(ports); j++) {
                                json_object *p = json_object_array_get_idx(ports, j);

                                if (json_object_get_int64(show_member(p, "container")) == (int64_t) id)
                                        return strdup(show_string(p, "name"));
                        }
                /* a port name, or its number */
                return strdup(port ?: json_object_get_string(show_member(a, "port")) ?: "?");
        }
        return strdup("drop");
}

static int add_steering(json_object *s, const char *policy, unsigned table, const char *from,
                        const char *to, uint64_t packets) {
        json_object *o;

        for (size_t i = 0; i < show_len(s); i++) {
                o = json_object_array_get_idx(s, i);
                if (streq_ptr(show_string(o, "policy"), policy) && streq_ptr(show_string(o, "from"), from)) {
                        json_object_object_add(o, "packets", json_object_new_int64(
                                        json_object_get_int64(show_member(o, "packets")) + (int64_t) packets));
                        return 0;
                }
        }
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_array_add(s, o);
        json_object_object_add(o, "policy", json_object_new_string(policy));
        json_object_object_add(o, "table", json_object_new_int(table));
        json_object_object_add(o, "from", string_or_null(from));
        json_object_object_add(o, "to", json_object_new_string(to));
        json_object_object_add(o, "packets", json_object_new_int64((int64_t) packets));
        return 0;
}

/* The flow policies of the applied state as the flows on bridge b carry
 * them out: one entry per policy and port it selected, with the packets
 * its flows matched (the policy's flows carry its index in their cookie). */
static int steering_to_json(Diag *notes, json_object *b, json_object *openflow, const OfpFlowList *flows) {
        json_object *policies = show_member(openflow, "flow_policies"), *s = json_object_new_array();
        int r;

        if (!s)
                return -ENOMEM;
        json_object_object_add(b, "steering", s);
        for (size_t k = 0; k < show_len(policies); k++) {
                json_object *pol = json_object_array_get_idx(policies, k);
                _cleanup_(freep) char *to = policy_target(b, pol);
                const char *name = show_string(pol, "name") ?: "(unnamed)";
                bool any = false;

                if (!to)
                        return -ENOMEM;
                for (size_t i = 0; i < flows->n; i++) {
                        const OfpFlow *f = &flows->flows[i];

                        if (of_cookie_class(f->cookie) != OF_CLASS_POLICY || ((f->cookie >> 40) & 0xff) != k)
                                continue;
                        any = true;
                        r = add_steering(s, name, f->table, subject_port(b, f->cookie), to, f->packets);
                        if (r < 0)
                                return r;
                }
                if (!any)
                        diag_note(notes, "", "bridge %s: flow policy %s has no flows (it selects no port there)",
                                 show_string(b, "name"), name);
        }
        return 0;
}

/* Reads op-dbus's flows of bridge b (a bridge of the applied openflow
 * section): the pipeline's counters and the steering. */
static int read_flows(const Cli *cli, Diag *notes, json_object *b, json_object *openflow) {
        _cleanup_(ofp_client_freep) OfpClient *client = NULL;
        _cleanup_(ofp_flow_list_done) OfpFlowList all = {}, ours = {};
        _cleanup_(freep) char *address = NULL;
        const char *name = show_string(b, "name");
        json_object *level = show_member(openflow, "obfuscation_level");
        json_object *sec = show_member(openflow, "enable_security_flows"), *pipeline;
        int r;

        if (asprintf(&address, "unix:%s/%s.mgmt", cli->host.ovs_rundir, name) < 0)
                return -ENOMEM;
        r = ofp_client_connect(address, cli->c.ctx.timeout_ms, &client);
        if (r >= 0)
                r = ofp_client_dump_flows(client, 0, 0, &all);
        if (r < 0) {
                diag_note(notes, "", "bridge %s: cannot read its flows: %s", name, strerror(-r));
                return 0;
        }
        for (size_t i = 0; i < all.n; i++) {
                OfpFlow *f;

                if (!of_cookie_is_ours(all.flows[i].cookie))
                        continue;
                if (ours.n == ours.allocated) {
                        size_t n = ours.allocated ? ours.allocated * 2 : 64;
                        OfpFlow *p = reallocarray(ours.flows, n, sizeof(OfpFlow));

                        if (!p)
                                return -ENOMEM;
                        ours.flows = p;
                        ours.allocated = n;
                }
                f = &ours.flows[ours.n++];
                *f = all.flows[i];
                all.flows[i].body = NULL;      /* moved */
        }
        pipeline = json_object_new_object();
        if (!pipeline)
                return -ENOMEM;
        json_object_object_add(b, "pipeline", pipeline);
        /* the defaults of the openflow section (docs/state.md) */
        json_object_object_add(pipeline, "obfuscation_level", json_object_new_int(level ? json_object_get_int(level) : 1));
        json_object_object_add(pipeline, "security_flows",
                               json_object_new_boolean(sec ? json_object_get_boolean(sec) : true));
        json_object_object_add(pipeline, "tables", tables_to_json(&ours));
        return steering_to_json(notes, b, openflow, &ours);
}

static bool bridge_programmed(json_object *openflow, const char *name) {
        json_object *bridges = show_member(openflow, "bridges");

        for (size_t i = 0; i < show_len(bridges); i++)
                if (streq_ptr(show_string(json_object_array_get_idx(bridges, i), "name"), name))
                        return true;
        return false;
}

int show_collect(Cli *cli, json_object **ret) {
        _cleanup_(reconciler_done) Reconciler rc = {};
        _cleanup_(json_object_putp) json_object *view = NULL, *applied = NULL;
        _cleanup_(diag_done) Diag notes = {};
        json_object *bridges = NULL, *containers = NULL, *openflow = NULL;
        uint64_t latest = 0;
        int r;

        if (cli_setup_reconciler(&cli->c, cli->c.product, &rc) < 0)
                return EXIT_UNAVAILABLE;
        if (checkpoint_latest(cli->c.ctx.state_dir, &latest) >= 0 && latest > 0 &&
            checkpoint_load(cli->c.ctx.state_dir, latest, &applied) >= 0)
                openflow = show_member(show_member(applied, "plugins"), "openflow");
        else
                diag_note(&notes, "", "no state has been applied on this node (no checkpoint in %s)",
                          cli->c.ctx.state_dir);

        view = json_object_new_object();
        if (view) {
                json_object_object_add(view, "generation", json_object_new_int64((int64_t) (applied ? latest : 0)));
                json_object_object_add(view, "bridges", bridges = json_object_new_array());
                json_object_object_add(view, "containers", containers = json_object_new_array());
        }
        if (!view || !bridges || !containers)
                return log_error_errno(-ENOMEM, "Out of memory."), EXIT_UNAVAILABLE;

        if (read_bridges(cli, openflow, bridges) < 0)
                return EXIT_UNAVAILABLE;
        r = read_containers(&rc, view, &notes);
        for (size_t i = 0; r >= 0 && i < show_len(bridges); i++) {
                json_object *b = json_object_array_get_idx(bridges, i);

                if (bridge_programmed(openflow, show_string(b, "name")))
                        r = read_flows(cli, &notes, b, openflow);
        }
        if (r < 0)
                return log_error_errno(-ENOMEM, "Out of memory."), EXIT_UNAVAILABLE;
        json_object_object_add(view, "notes", diag_to_json(&notes, DIAG_NOTE));
        *ret = TAKE_PTR(view);
        return EXIT_OK;
}

/* --format svg: Graphviz's dot draws the source. */
static int print_svg(const Cli *cli, const char *dot) {
        _cleanup_(exec_result_done) ExecResult res = {};
        char *argv[] = { (char *) "dot", (char *) "-Tsvg", NULL };
        int r;

        if (!exec_in_path("dot")) {
                log_error("show --format svg: Graphviz's dot is not installed; install it (apt-get install graphviz), "
                          "or print the source with --format dot.");
                return EXIT_UNAVAILABLE;
        }
        r = exec_capture(argv, dot, strlen(dot), cli->c.ctx.timeout_ms, &res);
        if (r < 0)
                return log_error_errno(r, "show --format svg: cannot run dot: %m"), EXIT_UNAVAILABLE;
        if (res.status != 0) {
                log_error("show --format svg: dot failed (exit status %d): %s", res.status, res.err ?: "");
                return EXIT_UNAVAILABLE;
        }
        fwrite(res.out, 1, res.out_len, stdout);
        return EXIT_OK;
}

int verb_show(Cli *cli) {
        _cleanup_(json_object_putp) json_object *view = NULL;
        const char *format = cli->format ?: "text";
        _cleanup_(freep) char *dot = NULL;
        int r;

        if (!streq(format, "text") && !streq(format, "dot") && !streq(format, "svg")) {
                log_error("show: --format %s is not one op-dbus draws; use text, dot or svg (or --json).", format);
                return EXIT_INVALID;
        }
        if (cli->c.json && cli->format) {
                log_error("show: --json and --format do not go together: --json is the view as JSON.");
                return EXIT_INVALID;
        }
        r = show_collect(cli, &view);
        if (r != EXIT_OK)
                return r;
        if (cli->c.json) {
                print_json(view);
                return EXIT_OK;
        }
        if (streq(format, "text")) {
                show_render_text(view, stdout);
                return EXIT_OK;
        }
        dot = show_render_dot(view);
        if (!dot)
                return log_error_errno(-ENOMEM, "Out of memory."), EXIT_UNAVAILABLE;
        if (streq(format, "dot")) {
                fputs(dot, stdout);
                return EXIT_OK;
        }
        return print_svg(cli, dot);
}
