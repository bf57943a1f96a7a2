/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>

#include "checkpoint.h"
#include "hash.h"
#include "host.h"
#include "json-util.h"
#include "net-ledger.h"
#include "of-sync.h"
#include "openflow.h"
#include "pve-id.h"

typedef struct OpenflowPlugin {
        Plugin plugin;
        OpenflowConfig want;
        OfPorts ports;               /* ports of the wanted bridges */
        OfBridgeSync *bridges;       /* wanted bridges, then recorded ones */
        size_t n_bridges;
        size_t *policy_hits;         /* ports each policy selected */
        OfFlowSet *desired;          /* per wanted bridge, built for the ports above */
        size_t n_desired;
        bool sent;                   /* this instance applied flows not yet confirmed */
        OfSocketPort *lxc_ports;     /* addresses the lxc section declares */
        size_t n_lxc_ports;
        OfConnection *conns;         /* per bridge: one connection reads and writes its flows */
        size_t n_conns;

        bool parsed;
        json_object *section;        /* the section wanted, and its digest once computed */
        uint64_t section_digest;
        uint64_t lxc_digest;         /* of the lxc section (its addresses go into the flows); 0: none */
        bool noisy;                  /* building the desired flows said something (a warning) */
        json_object *applied;        /* the applied state's section, of applied_generation */
        uint64_t applied_generation;
        bool applied_deferred;       /* not read yet (StateDoc.applied_deferred): applied_section() */
        /* What the installed flows were made from, when it is not the
         * applied state's section (an interrupted apply): checked at the
         * first query, before anything changes them. */
        bool snapshot_checked;
        json_object *snapshot;       /* the section of the interrupted apply */
        bool snapshot_unknown;       /* not stored anywhere */
} OpenflowPlugin;

static OfConnection *conn_for(OpenflowPlugin *o, const char *bridge) {
        OfConnection *c;

        for (size_t i = 0; i < o->n_conns; i++)
                if (streq(o->conns[i].bridge, bridge))
                        return &o->conns[i];
        c = reallocarray(o->conns, o->n_conns + 1, sizeof(OfConnection));
        if (!c)
                return NULL;
        o->conns = c;
        c = &o->conns[o->n_conns];
        *c = (OfConnection) { .bridge = strdup(bridge) };
        if (!c->bridge)
                return NULL;
        o->n_conns++;
        return c;
}

static void conns_done(OpenflowPlugin *o) {
        for (size_t i = 0; i < o->n_conns; i++)
                of_connection_done(&o->conns[i]);
        free(o->conns);
        o->conns = NULL;
        o->n_conns = 0;
}

static const OfFlowSet empty_flow_set = {};

static void desired_done(OpenflowPlugin *o) {
        for (size_t i = 0; i < o->n_desired; i++)
                of_flow_set_done(&o->desired[i]);
        free(o->desired);
        o->desired = NULL;
        o->n_desired = 0;
        o->noisy = false;
}

static bool ports_equal(const OfPorts *a, const OfPorts *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (!streq(a->ports[i].name, b->ports[i].name) || !streq(a->ports[i].bridge, b->ports[i].bridge) ||
                    a->ports[i].ofport != b->ports[i].ofport || a->ports[i].container_id != b->ports[i].container_id)
                        return false;
        return true;
}

static void bridges_done(OpenflowPlugin *o) {
        for (size_t i = 0; i < o->n_bridges; i++)
                of_bridge_sync_done(&o->bridges[i]);
        free(o->bridges);
        o->bridges = NULL;
        o->n_bridges = 0;
}

/* Does the state declare a port of this name (net ports, socket ports,
 * container port names), or is it a name Proxmox gives container ports? */
static bool port_declared(const OpenflowConfig *c, const StateDoc *doc, const char *name) {
        json_object *net = state_doc_section(doc, "net"), *lxc = state_doc_section(doc, "lxc");
        json_object *bridges, *ports, *containers, *network, *v;

        if (of_port_name_container(name, NULL) || streq(name, "LOCAL") || streq(name, "IN_PORT"))
                return true;
        for (size_t b = 0; b < c->n_bridges; b++) {
                if (streq_ptr(c->bridges[b].name, name))
                        return true;
                for (size_t i = 0; i < c->bridges[b].n_socket_ports; i++)
                        if (streq_ptr(c->bridges[b].socket_ports[i].name, name))
                                return true;
        }
        if (net && json_object_object_get_ex(net, "bridges", &bridges))
                for (size_t b = 0; b < json_object_array_length(bridges); b++) {
                        json_object *br = json_object_array_get_idx(bridges, b);

                        if (json_object_object_get_ex(br, "name", &v) && streq_ptr(json_object_get_string(v), name))
                                return true;
                        if (!json_object_object_get_ex(br, "ports", &ports))
                                continue;
                        for (size_t i = 0; i < json_object_array_length(ports); i++)
                                if (json_object_object_get_ex(json_object_array_get_idx(ports, i), "name", &v) &&
                                    streq_ptr(json_object_get_string(v), name))
                                        return true;
                }
        if (lxc && json_object_object_get_ex(lxc, "containers", &containers))
                for (size_t i = 0; i < json_object_array_length(containers); i++)
                        if (json_object_object_get_ex(json_object_array_get_idx(containers, i), "network", &network) &&
                            json_object_object_get_ex(network, "port_name", &v) &&
                            streq_ptr(json_object_get_string(v), name))
                                return true;
        return false;
}

/* "container:N" names a container the state knows (lxc or socket_ports). */
static bool container_declared(const OpenflowConfig *c, const StateDoc *doc, uint32_t id) {
        json_object *lxc = state_doc_section(doc, "lxc"), *containers, *v;

        for (size_t b = 0; b < c->n_bridges; b++)
                for (size_t i = 0; i < c->bridges[b].n_socket_ports; i++)
                        if (c->bridges[b].socket_ports[i].container_id == id)
                                return true;
        if (lxc && json_object_object_get_ex(lxc, "containers", &containers))
                for (size_t i = 0; i < json_object_array_length(containers); i++) {
                        const char *end;
                        uint32_t cid;

                        if (!json_object_object_get_ex(json_object_array_get_idx(containers, i), "id", &v))
                                continue;
                        if (pve_vmid_parse(json_object_get_string(v), &end, &cid) && !*end && cid == id)
                                return true;
                }
        return false;
}

static int check_outputs(const OpenflowConfig *c, const StateDoc *doc, const OfAction *a, size_t n,
                         const char *path, Diag *d) {
        int ret = 0;

        for (size_t i = 0; i < n; i++) {
                const char *port = a[i].output.port, *end;
                _cleanup_(freep) char *ap = NULL;
                uint32_t id;

                if (a[i].type != OF_ACTION_OUTPUT || strchr(port, '{') || port[strspn(port, "0123456789")] == 0)
                        continue;
                if (startswith(port, "container:") ? pve_vmid_parse(port + strlen("container:"), &end, &id) && !*end &&
                                                     container_declared(c, doc, id)
                                                   : port_declared(c, doc, port))
                        continue;
                if (asprintf(&ap, "%s.actions[%zu].port", path, i) < 0)
                        return -ENOMEM;
                diag_error(d, ap, "\"%s\" is not a port or container this state declares (net ports, "
                           "socket_ports, lxc containers) nor a Proxmox container port name", port);
                ret = -EINVAL;
        }
        return ret;
}

static int check_port_references(const OpenflowConfig *c, const StateDoc *doc, Diag *d) {
        int ret = 0;

        for (size_t k = 0; k < c->n_flow_policies; k++) {
                _cleanup_(freep) char *tp = NULL;

                if (asprintf(&tp, "%s.template", c->flow_policies[k].path) < 0)
                        return -ENOMEM;
                RET_GATHER(ret, check_outputs(c, doc, c->flow_policies[k].template.actions,
                                              c->flow_policies[k].template.n_actions, tp, d));
        }
        for (size_t b = 0; b < c->n_bridges; b++)
                for (size_t i = 0; i < c->bridges[b].n_flows; i++)
                        RET_GATHER(ret, check_outputs(c, doc, c->bridges[b].flows[i].actions,
                                                      c->bridges[b].flows[i].n_actions,
                                                      c->bridges[b].flows[i].path, d));
        return ret;
}

/* Marks the bridges that plugins.net of the same document declares: the
 * net plugin creates those; every other one must exist already. */
static void mark_net_bridges(OpenflowConfig *c, const StateDoc *doc) {
        json_object *net = state_doc_section(doc, "net"), *bridges, *v;

        if (!net || !json_object_object_get_ex(net, "bridges", &bridges) ||
            !json_object_is_type(bridges, json_type_array))
                return;
        for (size_t b = 0; b < c->n_bridges; b++)
                for (size_t i = 0; i < json_object_array_length(bridges); i++)
                        if (json_object_object_get_ex(json_object_array_get_idx(bridges, i), "name", &v) &&
                            streq_ptr(json_object_get_string(v), c->bridges[b].name))
                                c->bridges[b].declared_in_net = true;
}

/* Flows cannot stay on a bridge that the net section applied with them
 * deletes. (Only an openflow section kept from the applied state can name
 * one: the net plugin keeps the bridges an applied one names.) */
static int check_deleted_bridges(const OpenflowConfig *c, const StateDoc *doc, const char *state_dir, Diag *d) {
        int ret = 0;

        for (size_t b = 0; b < c->n_bridges; b++) {
                const OfBridge *br = &c->bridges[b];
                _cleanup_(freep) char *np = NULL;

                if (br->declared_in_net || !br->name || !net_deletes_bridge(doc, state_dir, br->name))
                        continue;
                if (asprintf(&np, "%s.name", br->path) < 0)
                        return -ENOMEM;
                diag_error(d, np, "bridge \"%s\" is one op-dbus created and plugins.net no longer declares it: "
                           "this apply deletes it, and the flows for it with it", br->name);
                ret = -EINVAL;
        }
        return ret;
}

static const OfBridge *wanted_bridge(const OpenflowPlugin *o, const char *name) {
        for (size_t i = 0; i < o->want.n_bridges; i++)
                if (streq_ptr(o->want.bridges[i].name, name))
                        return &o->want.bridges[i];
        return NULL;
}

/* The scope of a restore (restore-flows --bridge B) is a bridge: B must
 * be one the state puts flows on, or the restore would do nothing and say
 * all is well. */
static int check_bridge_filter(const OpenflowPlugin *o, Diag *d) {
        const char *filter = o->plugin.ctx->scope;
        _cleanup_(freep) char *names = NULL;
        size_t len = 0;
        FILE *f;

        if (!filter || wanted_bridge(o, filter))
                return 0;
        f = open_memstream(&names, &len);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < o->want.n_bridges; i++)
                fprintf(f, "%s%s", i > 0 ? ", " : "", o->want.bridges[i].name);
        if (fclose(f) < 0)
                return -ENOMEM;
        diag_error(d, "plugins.openflow.bridges", "no bridge \"%s\" among those the applied state puts flows on (%s)",
                   filter, len > 0 ? names : "none");
        return -EINVAL;
}

static int openflow_plugin_parse(Plugin *p, const StateDoc *doc, json_object *section, Diag *d) {
        OpenflowPlugin *o = (OpenflowPlugin *) p;
        int r;

        o->parsed = true;
        /* A deferred applied state is read only if a snapshot needs it
         * (applied_section()): the document would read it all now. */
        o->applied_generation = doc->applied_generation;
        o->applied_deferred = doc->applied_deferred;
        if (!o->applied_deferred)
                o->applied = json_object_get(state_doc_applied_section(doc, "openflow"));
        if (!section)
                return check_bridge_filter(o, d);
        o->section = json_object_get(section);
        r = openflow_parse(&o->want, section, d);
        if (r >= 0)
                mark_net_bridges(&o->want, doc);
        if (r >= 0)
                r = check_deleted_bridges(&o->want, doc, p->ctx->state_dir, d);
        if (r >= 0)
                r = check_port_references(&o->want, doc, d);
        if (r >= 0)
                r = of_ports_from_lxc(doc, &o->lxc_ports, &o->n_lxc_ports);
        if (r >= 0 && state_doc_section(doc, "lxc"))
                o->lxc_digest = checkpoint_digest(state_doc_section(doc, "lxc")) ?: 1;
        if (r >= 0)
                r = check_bridge_filter(o, d);
        return r < 0 ? r : 1;
}

static int add_bridge(OpenflowPlugin *o, const char *name) {
        const char *filter = o->plugin.ctx->scope;
        OfBridgeSync *b;

        if (filter && !streq(filter, name))
                return 0;
        for (size_t i = 0; i < o->n_bridges; i++)
                if (streq(o->bridges[i].name, name))
                        return 0;
        b = reallocarray(o->bridges, o->n_bridges + 1, sizeof(OfBridgeSync));
        if (!b)
                return -ENOMEM;
        o->bridges = b;
        b = &o->bridges[o->n_bridges++];
        *b = (OfBridgeSync) { .name = strdup(name) };
        return b->name ? 0 : -ENOMEM;
}

/* Bridges op-dbus has put flows on before (records under <state>/flows):
 * their flows go when the state no longer names them. */
static int add_recorded_bridges(OpenflowPlugin *o) {
        _cleanup_(freep) char *dir = NULL;
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (asprintf(&dir, "%s/flows", o->plugin.ctx->state_dir) < 0)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : negative_errno();
        while (r >= 0 && (de = readdir(d)))
                if (de->d_name[0] != '.' && json_check_ifname(de->d_name, NULL, NULL))
                        r = add_bridge(o, de->d_name);
        closedir(d);
        return r;
}

static int query_bridge(OpenflowPlugin *o, OfBridgeSync *b) {
        const PluginContext *ctx = o->plugin.ctx;
        OfConnection *c = conn_for(o, b->name);
        int r;

        if (!c)
                return -ENOMEM;
        r = of_connection_collect(c, ctx, &b->have);
        /* The bridge may have changed since the dump was asked for (by
         * prefetch): ovs-vswitchd was behind OVSDB (the query waited for it
         * to catch up) and has created it, or deleted it, or an earlier
         * plugin created it. Ask again, on a new connection. */
        if (r < 0 && r != -ETIMEDOUT && r != -ENOMEM) {
                of_connection_reset(c);
                r = of_connection_collect(c, ctx, &b->have);
        }
        b->reachable = r >= 0;
        if (r < 0 && r != -ENOENT && r != -ECONNREFUSED)
                return r;
        return of_record_load(ctx->state_dir, b->name, &b->record);
}

/* Asks each wanted bridge for its flows now: Open vSwitch prepares the
 * (large) answer while the plugins before this one query. */
static void openflow_plugin_prefetch(Plugin *p) {
        OpenflowPlugin *o = (OpenflowPlugin *) p;

        for (size_t i = 0; i < o->want.n_bridges; i++) {
                OfConnection *c = conn_for(o, o->want.bridges[i].name);

                if (c)      /* otherwise query reads the flows itself */
                        of_connection_request_flows(c, p->ctx);
        }
}

static uint64_t section_digest(OpenflowPlugin *o) {
        if (o->section && o->section_digest == 0)
                o->section_digest = checkpoint_digest(o->section);
        return o->section_digest;
}

/* The applied state's openflow section (NULL: it has none), read from
 * its checkpoint when the apply did not read that (it replaces every
 * section) and a snapshot needs it. */
static json_object *applied_section(OpenflowPlugin *o) {
        _cleanup_(json_object_putp) json_object *state = NULL;
        json_object *plugins, *section;

        if (!o->applied_deferred)
                return o->applied;
        o->applied_deferred = false;
        if (checkpoint_load(o->plugin.ctx->state_dir, o->applied_generation, &state) >= 0 &&
            json_object_object_get_ex(state, "plugins", &plugins) &&
            json_object_object_get_ex(plugins, "openflow", &section))
                o->applied = json_object_get(section);
        return o->applied;
}

/* Is the applied state's section what the installed flows were made
 * from? Normally it is: every apply that sends flows stores its
 * checkpoint, or rolls them back. An apply interrupted in between (killed)
 * leaves flows that no checkpoint describes; its state is the pending
 * checkpoint (checkpoint_prepare()). Restoring the applied state's flows
 * in a rollback would then put back flows the host did not have. */
static void check_snapshot(OpenflowPlugin *o, Diag *d) {
        _cleanup_(json_object_putp) json_object *pending = NULL;
        json_object *plugins, *section;
        uint64_t applied = 0, generation = 0;
        const OfBridgeSync *stale = NULL;

        o->snapshot_checked = true;
        for (size_t i = 0; i < o->n_bridges && !stale; i++) {
                const OfRecord *rec = &o->bridges[i].record;

                if (rec->section == 0 || rec->generation == o->applied_generation)
                        continue;
                if (applied == 0)
                        applied = applied_section(o) ? checkpoint_digest(o->applied) : 1;
                if (rec->section != applied)
                        stale = &o->bridges[i];
        }
        if (!stale)
                return;
        if (checkpoint_load_pending(o->plugin.ctx->state_dir, &generation, &pending) >= 0 &&
            generation == stale->record.generation && json_object_object_get_ex(pending, "plugins", &plugins) &&
            json_object_object_get_ex(plugins, "openflow", &section) &&
            checkpoint_digest(section) == stale->record.section) {
                o->snapshot = json_object_get(section);
                diag_note(d, "", "the flows on bridge %s are those of an apply that did not finish (generation %" PRIu64
                          "), not those of the applied state", stale->name, generation);
                return;
        }
        o->snapshot_unknown = true;
        diag_warning(d, "", "the flows on bridge %s are those of an apply that did not finish (generation %" PRIu64
                     ") and whose state is not stored; if this apply fails, its rollback leaves op-dbus's flows "
                     "as it finds them", stale->name, stale->record.generation);
}

static int openflow_plugin_query(Plugin *p, Diag *d) {
        OpenflowPlugin *o = (OpenflowPlugin *) p;
        OfPorts previous = o->ports;
        int r;

        bridges_done(o);
        o->ports = (OfPorts) {};
        r = of_ports_query(&o->ports, p->ctx, &o->want, o->lxc_ports, o->n_lxc_ports, d);
        /* The desired flows depend only on the configuration and the ports. */
        if (r < 0 || !ports_equal(&previous, &o->ports))
                desired_done(o);
        of_ports_done(&previous);
        if (r < 0)
                return r;
        for (size_t i = 0; i < o->want.n_bridges; i++)
                if ((r = add_bridge(o, o->want.bridges[i].name)) < 0)
                        return r;
        r = add_recorded_bridges(o);
        for (size_t i = 0; r >= 0 && i < o->n_bridges; i++) {
                r = query_bridge(o, &o->bridges[i]);
                if (r == -ETIMEDOUT)
                        diag_error(d, "", "bridge %s: cannot read its flows: ovs-vswitchd did not answer within %d s; "
                                   "is it running?", o->bridges[i].name, p->ctx->timeout_ms / 1000);
                else if (r < 0)
                        diag_error(d, "", "bridge %s: cannot read its flows: %s", o->bridges[i].name, strerror(-r));
        }
        if (r >= 0 && o->parsed && !o->snapshot_checked && !p->ctx->restoring)
                check_snapshot(o, d);
        return r;
}

static unsigned class_count(const OfBridgeSync *b, uint64_t class) {
        unsigned n = 0;

        for (size_t i = 0; i < b->want->n; i++)
                n += of_cookie_class(b->want->flows[i].cookie) == class;
        return n;
}

static int plan_bridge(const OfBridgeSync *b, Plan *plan) {
        char path[64];
        ActionKind kind = b->have.n == 0 ? ACTION_CREATE : b->want->n == 0 ? ACTION_DELETE : ACTION_MODIFY;

        snprintf(path, sizeof path, "bridge/%s/flows", b->name);
        return plan_add(plan, "openflow", kind, IMPACT_FLOW_CHANGE, path,
                        "+%u ~%u -%u flows (%zu wanted: security %u, hiding %u, leak %u, pipeline %u, policy %u, explicit %u)",
                        b->n_added, b->n_changed, b->n_deleted, b->want->n,
                        class_count(b, OF_CLASS_SECURITY), class_count(b, OF_CLASS_HIDING),
                        class_count(b, OF_CLASS_LEAK), class_count(b, OF_CLASS_PIPELINE),
                        class_count(b, OF_CLASS_POLICY), class_count(b, OF_CLASS_USER));
}

/* The bridge's desired flows, built once for the current ports. */
static int desired_for(OpenflowPlugin *o, const char *name, const OfBridge *want, Diag *d,
                       const OfFlowSet **ret) {
        OfFlowSet *set;
        size_t n_diag;
        int r;

        for (size_t i = 0; i < o->n_desired; i++)
                if (streq(o->desired[i].bridge, name)) {
                        *ret = &o->desired[i];
                        return 0;
                }

        /* One slot per wanted bridge, allocated once: the bridges' diffs
         * keep pointers to the sets (a realloc here would move them). */
        if (!o->desired) {
                o->desired = calloc(o->want.n_bridges + 1, sizeof(OfFlowSet));
                if (!o->desired)
                        return -ENOMEM;
        }
        if (o->n_desired >= o->want.n_bridges)
                return -EINVAL; /* bridge names are unique: cannot happen */
        set = &o->desired[o->n_desired];
        *set = (OfFlowSet) { .bridge = strdup(name) };
        if (!set->bridge)
                return -ENOMEM;
        o->n_desired++;

        n_diag = d->n_entries;
        r = of_pipeline_build(&o->want, want, &o->ports, set, o->policy_hits, d);
        if (d->n_entries != n_diag)
                o->noisy = true;
        if (r < 0) {
                of_flow_set_done(set);
                o->n_desired--;
                return r;
        }
        *ret = set;
        return 0;
}

static bool security_flows(const OpenflowPlugin *o) {
        return o->want.enable_security_flows && o->want.obfuscation_level >= 1;
}

/* A bridge op-dbus programs has no controller (one would take its flows
 * over), and one with security flows fails closed: fail_mode "secure",
 * so that while its flows are missing (ovs-vswitchd just started) it
 * forwards nothing instead of everything. plugins.net sets the fail_mode
 * of the bridges it declares itself. The fail_mode a bridge had before is
 * kept in its external_ids and put back when its security flows go. */
static OfModeChange mode_wanted(const OpenflowPlugin *o, const OfBridge *want, const OfBridgeMode *m) {
        OfModeChange ch = { .drop_controllers = want && m->n_controllers > 0 };
        bool secure = want && security_flows(o) && !want->declared_in_net;

        if (secure && !streq_ptr(m->fail_mode, "secure")) {
                ch.set_fail_mode = true;
                ch.fail_mode = "secure";
                if (!m->mark) {
                        ch.mark = OF_MARK_SET;
                        ch.mark_value = m->fail_mode ?: "";
                }
        } else if (!secure && m->mark) {
                /* What it was before; on a bridge plugins.net declares,
                 * the net plugin sets it, and only the mark goes. */
                ch.set_fail_mode = !(want && want->declared_in_net) && !streq(m->mark, m->fail_mode ?: "");
                ch.fail_mode = m->mark;
                ch.mark = OF_MARK_REMOVE;
        }
        return ch;
}

static int diff_bridge_mode(const OpenflowPlugin *o, OfBridgeSync *b, const OfBridge *want, Plan *plan) {
        const OfBridgeMode *m = of_ports_bridge_mode(&o->ports, b->name);
        char path[96];
        int r;

        b->mode_change = false;
        if (!m)
                return 0;
        b->mode = mode_wanted(o, want, m);
        b->mode_change = b->mode.set_fail_mode || b->mode.drop_controllers || b->mode.mark != OF_MARK_KEEP;
        if (b->mode.set_fail_mode) {
                snprintf(path, sizeof path, "bridge/%s/fail_mode", b->name);
                r = plan_add(plan, "openflow", ACTION_MODIFY, IMPACT_FLOW_CHANGE, path, "fail_mode %s -> %s (%s)",
                             m->fail_mode ?: "(unset)", b->mode.fail_mode[0] ? b->mode.fail_mode : "(unset)",
                             streq(b->mode.fail_mode, "secure") ?
                             "the bridge carries security flows: without them it must forward nothing" :
                             "as before op-dbus put security flows on it");
                if (r < 0)
                        return r;
        }
        if (b->mode.drop_controllers) {
                snprintf(path, sizeof path, "bridge/%s/controller", b->name);
                r = plan_add(plan, "openflow", ACTION_DELETE, IMPACT_FLOW_CHANGE, path,
                             "%zu controller%s set on a bridge op-dbus programs: removed (a controller would "
                             "take its flows over)", m->n_controllers, m->n_controllers == 1 ? "" : "s");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int diff_bridge(OpenflowPlugin *o, OfBridgeSync *b, Plan *plan, Diag *d) {
        const OfBridge *want = wanted_bridge(o, b->name);
        char path[64];
        int r;

        r = diff_bridge_mode(o, b, want, plan);
        if (r < 0)
                return r;
        b->want = &empty_flow_set;
        if (want && !b->reachable) {
                /* Created by an earlier plugin in this apply; planned again then. */
                snprintf(path, sizeof path, "bridge/%s/flows", b->name);
                return plan_add(plan, "openflow", ACTION_CREATE, IMPACT_FLOW_CHANGE, path,
                                "flows are computed once the bridge exists");
        }
        if (want) {
                r = desired_for(o, b->name, want, d, &b->want);
                if (r < 0)
                        return r;
        }
        r = of_bridge_diff(b, o->sent, d);
        if (r < 0 && r != -EPROTO)
                return r;
        if (r < 0) {
                /* a flow the switch changed: the plan shows it as one to send again */
                RET_GATHER(r, b->n_send + b->n_remove > 0 ? plan_bridge(b, plan) : 0);
                return r;
        }
        if (b->n_send + b->n_remove == 0)
                return 0;
        return plan_bridge(b, plan);
}

/* Every wanted bridge exists in Open vSwitch or is declared in plugins.net
 * (which creates it): a misspelt name would otherwise plan flows on a
 * bridge nobody creates and remove them from the one meant. */
static int check_bridges_exist(const OpenflowPlugin *o, Diag *d) {
        const OfPorts *ports = &o->ports;
        int ret = 0;

        for (size_t i = 0; i < o->want.n_bridges; i++) {
                const OfBridge *b = &o->want.bridges[i];
                _cleanup_(freep) char *np = NULL, *names = NULL;
                size_t len = 0;
                FILE *f;

                if (b->declared_in_net || !b->name || of_ports_has_bridge(ports, b->name))
                        continue;
                f = open_memstream(&names, &len);
                if (!f)
                        return -ENOMEM;
                for (size_t k = 0; k < ports->n_bridges; k++)
                        fprintf(f, "%s%s", k ? ", " : "", ports->bridges[k]);
                fclose(f);
                if (asprintf(&np, "%s.name", b->path) < 0)
                        return -ENOMEM;
                diag_error(d, np, "bridge \"%s\" does not exist and plugins.net does not declare it; %s%s "
                           "(declare it in plugins.net to have op-dbus create it)", b->name,
                           ports->n_bridges > 0 ? "the bridges here are: " : "there are no bridges here",
                           ports->n_bridges > 0 ? names : "");
                ret = -EINVAL;
        }
        return ret;
}

static uint64_t hash_string(uint64_t h, const char *s) {
        size_t n = s ? strlen(s) + 1 : 0;

        h = hash64_update(h, &n, sizeof n);
        return hash64_update(h, s, n);
}

/* Everything the bridge's desired flows are built from (desired_for()):
 * the code that builds them, the openflow section, the lxc section's
 * addresses, which bridges plugins.net declares, and the ports Open
 * vSwitch has (name, bridge, number); what of_pipeline_build() derives
 * from these (containers, socket ports) follows from them. 0: unknown
 * (no build ID). */
static uint64_t inputs_digest(OpenflowPlugin *o, const char *bridge) {
        static const char version[] = "openflow inputs 1";
        uint64_t h, id = of_build_id();

        if (id == 0)
                return 0;
        h = hash64_update(HASH64_INIT, version, sizeof version);
        h = hash64_update(h, &id, sizeof id);
        h = hash_string(h, bridge);
        h = hash64_update(h, &(uint64_t[]) { section_digest(o), o->lxc_digest }, 2 * sizeof(uint64_t));
        for (size_t i = 0; i < o->want.n_bridges; i++) {
                h = hash_string(h, o->want.bridges[i].name);
                h = hash64_update(h, &o->want.bridges[i].declared_in_net, sizeof(bool));
        }
        for (size_t i = 0; i < o->ports.n; i++) {
                const OfPort *port = &o->ports.ports[i];

                h = hash_string(h, port->name);
                h = hash_string(h, port->bridge);
                h = hash64_update(h, &port->ofport, sizeof port->ofport);
        }
        return h ?: 1;
}

/* Nothing to change on any bridge, known without building the desired
 * flows: each is a wanted bridge whose fail_mode and controllers are as
 * wanted, whose inputs are those of the record of its last verified
 * apply, and on which the switch reports exactly the recorded flows. The
 * flows built from the same inputs by the same code are the ones recorded,
 * so the full comparison would find nothing to send either. */
static bool unchanged_since_verified(OpenflowPlugin *o) {
        if (o->sent || o->n_bridges == 0)
                return false;
        for (size_t i = 0; i < o->n_bridges; i++) {
                const OfBridgeSync *b = &o->bridges[i];
                const OfBridge *want = wanted_bridge(o, b->name);
                const OfBridgeMode *m = of_ports_bridge_mode(&o->ports, b->name);

                if (!want || !b->reachable || b->record.inputs == 0)
                        return false;
                if (m) {
                        OfModeChange ch = mode_wanted(o, want, m);

                        if (ch.set_fail_mode || ch.drop_controllers || ch.mark != OF_MARK_KEEP)
                                return false;
                }
                if (b->record.inputs != inputs_digest(o, b->name) || !of_record_holds(&b->record, &b->have))
                        return false;
        }
        return true;
}

static int openflow_plugin_diff(Plugin *p, Plan *plan, Diag *d) {
        OpenflowPlugin *o = (OpenflowPlugin *) p;
        bool unknown = false;
        size_t n_diag = d->n_entries;
        int r, ret = 0;

        r = check_bridges_exist(o, d);
        if (r < 0)
                return r;
        if (unchanged_since_verified(o)) {
                for (size_t i = 0; i < o->n_bridges; i++) {
                        o->bridges[i].want = &empty_flow_set;
                        o->bridges[i].n_send = o->bridges[i].n_remove = 0;
                }
                return 0;
        }

        if (!o->policy_hits) {
                o->policy_hits = calloc(o->want.n_flow_policies + 1, sizeof(size_t));
                if (!o->policy_hits)
                        return -ENOMEM;
        }
        if (o->n_desired == 0)
                memset(o->policy_hits, 0, (o->want.n_flow_policies + 1) * sizeof(size_t));

        for (size_t i = 0; i < o->n_bridges; i++) {
                r = diff_bridge(o, &o->bridges[i], plan, d);
                if (r == -ENOMEM)
                        return r;
                RET_GATHER(ret, r);
                /* Its flows are computed once it can be reached: whether a
                 * policy selects a port there is not known yet. */
                if (!o->bridges[i].reachable && wanted_bridge(o, o->bridges[i].name))
                        unknown = true;
        }
        for (size_t k = 0; k < o->want.n_flow_policies && !unknown; k++)
                if (o->policy_hits[k] == 0)
                        diag_warning(d, o->want.flow_policies[k].path,
                                     "selector selects no port on any bridge in openflow.bridges; the policy installs nothing");
        if (d->n_entries != n_diag)
                o->noisy = true;
        return ret;
}

/* Changes the bridge's OVSDB row first: Open vSwitch then deletes every
 * flow of the bridge, so they are read and compared again. */
static int apply_bridge_mode(OpenflowPlugin *o, OfBridgeSync *b, OfpClient *client, ApplyCounts *counts, Diag *d) {
        const OfBridgeMode *m = of_ports_bridge_mode(&o->ports, b->name);
        const OfFlowSet *want = b->want;
        int r;

        if (!m || !b->mode_change)
                return 0;
        r = of_bridge_change_mode(o->plugin.ctx, client, b->name, m->uuid, &b->mode, d);
        if (r < 0)
                return r;
        apply_counts_write(counts, COUNT_OVSDB_OPS, (unsigned) r);
        b->mode_change = false;
        ofp_flow_list_done(&b->have);
        of_record_done(&b->record);
        r = query_bridge(o, b);
        if (r < 0) {
                diag_error(d, "", "bridge %s: cannot read its flows: %s", b->name, strerror(-r));
                return r;
        }
        b->want = want;
        r = of_bridge_diff(b, o->sent, d);
        return r == -EPROTO ? 0 : r;
}

static int apply_bridge(OpenflowPlugin *o, OfBridgeSync *b, ApplyCounts *counts, Diag *d) {
        OfConnection *c = conn_for(o, b->name);
        OfpClient *client;
        int r = 0;

        if (b->n_send + b->n_remove == 0 && !b->mode_change)
                return 0;
        if (!c)
                return -ENOMEM;
        client = of_connection_client(c, o->plugin.ctx, &r);
        if (!client) {
                diag_error(d, "", "bridge %s: cannot connect to its management socket: %s", b->name, strerror(-r));
                return r;
        }
        r = apply_bridge_mode(o, b, client, counts, d);
        if (r < 0) {
                of_connection_reset(c);
                return r;
        }
        if (b->n_send + b->n_remove == 0)
                return 0;
        r = of_bridge_apply(b, client, o->plugin.ctx, counts, d);
        if (r < 0 && r != -EPROTO)
                of_connection_reset(c);      /* in an unknown state: start afresh */
        return r;
}

static int openflow_plugin_apply(Plugin *p, ApplyCounts *counts, Diag *d) {
        OpenflowPlugin *o = (OpenflowPlugin *) p;
        int r;

        for (size_t i = 0; i < o->n_bridges; i++) {
                OfBridgeSync *b = &o->bridges[i];

                if (!b->reachable && wanted_bridge(o, b->name)) {
                        diag_error(d, "", "bridge %s cannot be reached: Open vSwitch has no management socket for it", b->name);
                        return -ENOENT;
                }
                b->section = section_digest(o);
                r = apply_bridge(o, b, counts, d);
                if (r < 0)
                        return r;
                o->sent = o->sent || b->n_send + b->n_remove > 0;
        }
        return 0;
}

/* Runs after the re-read and re-diff found nothing left to do: the flows
 * the switch reports now are the ones sent. Their digests become the
 * reference for the next apply. */
static int openflow_plugin_verify(Plugin *p, Diag *d) {
        OpenflowPlugin *o = (OpenflowPlugin *) p;
        int r;

        if (!o->sent)
                return 0;
        for (size_t i = 0; i < o->n_bridges; i++) {
                OfBridgeSync *b = &o->bridges[i];

                b->section = section_digest(o);
                /* A later apply with the same inputs may skip building the
                 * flows (unchanged_since_verified()), unless building them
                 * said something it would then not say again. */
                b->inputs = !o->noisy && wanted_bridge(o, b->name) ? inputs_digest(o, b->name) : 0;
                r = of_bridge_confirm(b, p->ctx);
                if (r < 0) {
                        diag_error(d, "", "bridge %s: cannot record the flows: %s", o->bridges[i].name, strerror(-r));
                        return r;
                }
        }
        o->sent = false;
        return 0;
}

/* The openflow section whose flows are installed: the one of the applied
 * state (the newest checkpoint), or of the interrupted apply that
 * installed them (check_snapshot()); none when that is not stored.
 * Without an applied state, a section that removes op-dbus's flows from
 * every bridge it has programmed. */
static int openflow_plugin_live_to_json(Plugin *p, json_object **ret) {
        OpenflowPlugin *o = (OpenflowPlugin *) p;
        _cleanup_(json_object_putp) json_object *state = NULL;
        json_object *plugins, *section = NULL;
        uint64_t latest = 0;

        if (o->snapshot_unknown) {
                *ret = NULL;
                return 0;
        }
        if (o->snapshot)
                section = o->snapshot;
        else if (o->parsed)
                section = applied_section(o);
        else if (checkpoint_latest(p->ctx->state_dir, &latest) >= 0 && latest > 0 &&
                 checkpoint_load(p->ctx->state_dir, latest, &state) >= 0 &&
                 json_object_object_get_ex(state, "plugins", &plugins))
                (void) json_object_object_get_ex(plugins, "openflow", &section);
        if (section)
                return json_copy(section, ret);

        if (o->n_bridges == 0) {
                *ret = NULL;
                return 0;
        }
        section = json_object_new_object();
        if (!section)
                return -ENOMEM;
        json_object_object_add(section, "enable_security_flows", json_object_new_boolean(false));
        json_object_object_add(section, "obfuscation_level", json_object_new_int(0));
        *ret = section;
        return 0;
}

static void openflow_plugin_done(Plugin *p) {
        OpenflowPlugin *o = (OpenflowPlugin *) p;

        bridges_done(o);
        desired_done(o);
        conns_done(o);
        of_ports_done(&o->ports);
        of_socket_ports_free(o->lxc_ports, o->n_lxc_ports);
        free(o->policy_hits);
        openflow_config_done(&o->want);
        json_object_put(o->section);
        json_object_put(o->applied);
        json_object_put(o->snapshot);
}

const PluginVTable openflow_plugin_vtable = {
        .name = "openflow",
        .after = (const char *const[]) { "net", "lxc", NULL },
        .object_size = sizeof(OpenflowPlugin),
        .parse = openflow_plugin_parse,
        .prefetch = openflow_plugin_prefetch,
        .query = openflow_plugin_query,
        .diff = openflow_plugin_diff,
        .apply = openflow_plugin_apply,
        .verify = openflow_plugin_verify,
        .live_to_json = openflow_plugin_live_to_json,
        .snapshot_from_checkpoint = true,
        .watch = &openflow_watch_vtable,
        .done = openflow_plugin_done,
};

const OpenflowConfig *openflow_plugin_want(const Plugin *p) {
        return &((const OpenflowPlugin *) p)->want;
}
