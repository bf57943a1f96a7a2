/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ovn plugin without a database: the section's model, and the plan
 * and the transactions one walk makes from a live state set by hand (the
 * guards every northbound transaction carries, the ownership rules).
 * tests/integration/test_ovn.py runs it against a real OVN cluster. */
#include "json-util.h"
#include "ovn.h"
#include "ovsdb-txn.h"
#include "tests.h"

static const char doc_json[] =
        "{\"version\": 1, \"plugins\": {\"ovn\": {"
        " \"chassis\": {\"system_id\": \"pve1\", \"northbound\": \"tcp:10.10.10.1:6641\","
        "  \"southbound\": \"tcp:10.10.10.1:6642\", \"encap_ip\": \"10.10.10.11\"},"
        " \"switches\": [{\"name\": \"ls-web\", \"subnet\": \"10.1.0.0/24\", \"dhcp\": {\"router\": \"10.1.0.1\"}}],"
        " \"ports\": [{\"name\": \"ct101-eth0\", \"switch\": \"ls-web\", \"mac\": \"02:AB:00:00:01:01\","
        "  \"ip\": \"10.1.0.11\", \"interface\": \"veth101i0\"}]}}}";

static Plugin *parsed(const char *json, StateDoc **ret_doc) {
        _cleanup_(diag_done) Diag d = {};
        static PluginContext ctx = { .timeout_ms = 1000 };
        Plugin *p = NULL;

        ASSERT_EQ(state_doc_parse(json, strlen(json), "test", ret_doc, &d), 0);
        ASSERT_EQ(plugin_new(&ovn_plugin_vtable, &ctx, &p), 0);
        ASSERT_EQ(p->vtable->parse(p, *ret_doc, state_doc_section(*ret_doc, "ovn"), &d), 1);
        ASSERT_EQ(d.n_entries, 0);
        return p;
}

static char *xstrdup(const char *s) {
        char *c = s ? strdup(s) : NULL;

        ASSERT_TRUE(!s || c);
        return c;
}

static OvnSwitch *live_switch(OvnPlugin *o, const char *name, const char *uuid, const char *ids_json) {
        OvnSwitch *s;

        o->have.switches = reallocarray(o->have.switches, o->have.n_switches + 1, sizeof(OvnSwitch));
        ASSERT_TRUE(o->have.switches);
        s = memset(&o->have.switches[o->have.n_switches++], 0, sizeof(OvnSwitch));
        s->name = xstrdup(name);
        s->uuid = xstrdup(uuid);
        s->subnet = xstrdup("10.1.0.0/24");
        s->owned = true;
        s->raw_ids = json_tokener_parse(ids_json);
        s->raw_ports = json_tokener_parse("[\"set\", []]");
        return s;
}

static OvnPort *live_port(OvnPlugin *o, const char *name, const char *sw, const char *node) {
        OvnPort *p;
        char uuid[64];

        o->have.ports = reallocarray(o->have.ports, o->have.n_ports + 1, sizeof(OvnPort));
        ASSERT_TRUE(o->have.ports);
        p = memset(&o->have.ports[o->have.n_ports++], 0, sizeof(OvnPort));
        snprintf(uuid, sizeof(uuid), "00000000-0000-0000-0000-%012zx", o->have.n_ports);
        p->name = xstrdup(name);
        p->uuid = xstrdup(uuid);
        p->sw = xstrdup(sw);
        p->sw_uuid = xstrdup(sw ? ovn_find_switch(&o->have, sw)->uuid : NULL);
        p->address = xstrdup("02:ab:00:00:01:01 10.1.0.11");
        p->security = xstrdup(p->address);
        p->owned = node != NULL;
        p->node = xstrdup(node);
        return p;
}

static const char *op_name(const OvsdbTxn *t, size_t i) {
        json_object *op = json_object_array_get_idx(t->ops, i), *v;

        return op && json_object_object_get_ex(op, "op", &v) ? json_object_get_string(v) : "(none)";
}

static const char *op_table(const OvsdbTxn *t, size_t i) {
        json_object *op = json_object_array_get_idx(t->ops, i), *v;

        return op && json_object_object_get_ex(op, "table", &v) ? json_object_get_string(v) : "(none)";
}

static const char *op_text(const OvsdbTxn *t, size_t i) {
        return json_object_to_json_string_ext(json_object_array_get_idx(t->ops, i), JSON_C_TO_STRING_PLAIN);
}

TEST(test_parse) {
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;
        _cleanup_(plugin_freep) Plugin *p = parsed(doc_json, &doc);
        OvnPlugin *o = (OvnPlugin *) p;

        ASSERT_STREQ(o->chassis.encap_type, "geneve");
        ASSERT_STREQ(o->chassis.bridge, "br-int");
        ASSERT_EQ(o->want.n_ports, 1);
        /* the MAC as OVN writes it: lower case */
        ASSERT_STREQ(o->want.ports[0].address, "02:ab:00:00:01:01 10.1.0.11");
        ASSERT_STREQ(json_object_to_json_string_ext(o->want.switches[0].dhcp, JSON_C_TO_STRING_PLAIN),
                     "{\"server_id\":\"10.1.0.1\",\"server_mac\":\"02:00:00:00:00:fe\",\"lease_time\":\"3600\","
                     "\"router\":\"10.1.0.1\"}");
}

/* Nothing there yet: everything is created, each creation guarded by the
 * absence of what it creates. */
TEST(test_create) {
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;
        _cleanup_(plugin_freep) Plugin *p = parsed(doc_json, &doc);
        _cleanup_(ovsdb_txn_done) OvsdbTxn nb = {}, ovs = {};
        _cleanup_(plan_done) Plan plan = {};
        _cleanup_(diag_done) Diag d = {};
        OvnPlugin *o = (OvnPlugin *) p;

        o->ovs_uuid = xstrdup("00000000-0000-0000-0000-0000000000a1");
        o->ovs_ids = json_object_new_object();
        o->ifaces = calloc(1, sizeof(OvnIface));
        ASSERT_TRUE(o->ifaces);
        o->n_ifaces = 1;
        o->ifaces[0] = (OvnIface) { .name = xstrdup("veth101i0"), .uuid = xstrdup("00000000-0000-0000-0000-0000000000a2"),
                                    .bridge = xstrdup("br-int") };

        ASSERT_EQ(p->vtable->diff(p, &plan, &d), 0);
        ASSERT_EQ(d.n_entries, 0);
        ASSERT_EQ(plan.n_actions, 5);
        ASSERT_STREQ(plan.actions[0].path, "chassis");
        ASSERT_CONTAINS(plan.actions[0].detail, "system-id (unset) -> pve1");
        ASSERT_STREQ(plan.actions[1].path, "interface/veth101i0");
        ASSERT_STREQ(plan.actions[2].path, "switch/ls-web");
        ASSERT_EQ(plan.actions[2].kind, ACTION_CREATE);
        ASSERT_STREQ(plan.actions[3].path, "dhcp/ls-web");
        ASSERT_STREQ(plan.actions[4].path, "port/ct101-eth0");

        ASSERT_EQ(ovsdb_txn_init(&nb), 0);
        ASSERT_EQ(ovsdb_txn_init(&ovs), 0);
        ASSERT_EQ(ovn_walk(o, NULL, &nb, &ovs, &d), 0);
        ASSERT_EQ(nb.error, 0);
        ASSERT_EQ(ovs.error, 0);
        ASSERT_EQ(json_object_array_length(nb.ops), 6);
        ASSERT_STREQ(op_name(&nb, 0), "wait");
        ASSERT_CONTAINS(op_text(&nb, 0), "\"where\":[[\"name\",\"==\",\"ls-web\"]]");
        ASSERT_CONTAINS(op_text(&nb, 0), "\"rows\":[]");
        ASSERT_STREQ(op_name(&nb, 1), "insert");
        ASSERT_CONTAINS(op_text(&nb, 1), "[\"op-dbus-node-pve1\",\"declared\"]");
        ASSERT_STREQ(op_name(&nb, 2), "wait");
        ASSERT_STREQ(op_table(&nb, 2), "DHCP_Options");
        ASSERT_STREQ(op_name(&nb, 3), "insert");
        ASSERT_STREQ(op_table(&nb, 4), "Logical_Switch_Port");
        ASSERT_CONTAINS(op_text(&nb, 4), "[\"op-dbus-node\",\"pve1\"]");
        ASSERT_CONTAINS(op_text(&nb, 4), "\"port_security\":[\"set\",[\"02:ab:00:00:01:01 10.1.0.11\"]]");
        ASSERT_CONTAINS(op_text(&nb, 4), "\"dhcpv4_options\":[\"named-uuid\"");
        ASSERT_STREQ(op_name(&nb, 5), "mutate");
        /* the chassis keys (5) and the interface (guard and two keys) */
        ASSERT_EQ(json_object_array_length(ovs.ops), 8);
        ASSERT_CONTAINS(op_text(&ovs, 7), "\"op-dbus-ovn-port\"");

        /* an interface on another bridge: ovn-controller would never bind it */
        free(o->ifaces[0].bridge);
        o->ifaces[0].bridge = xstrdup("vmbr0");
        plan_done(&plan);
        ASSERT_EQ(p->vtable->diff(p, &plan, &d), -EINVAL);
        ASSERT_STREQ(d.entries[0].path, "plugins.ovn.ports[0].interface");
        ASSERT_CONTAINS(d.entries[0].message, "is on bridge vmbr0, not on the integration bridge br-int");
}

/* Rows of other nodes and rows made by hand are never changed; this node
 * leaves a switch another node still declares by taking its key away,
 * guarded by the declarers it read; as the last one, it deletes the
 * switch, an outage for the ports of others on it. */
TEST(test_ownership) {
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;
        _cleanup_(plugin_freep) Plugin *p = parsed(doc_json, &doc);
        _cleanup_(ovsdb_txn_done) OvsdbTxn nb = {}, ovs = {};
        _cleanup_(plan_done) Plan plan = {};
        _cleanup_(diag_done) Diag d = {};
        OvnPlugin *o = (OvnPlugin *) p;
        OvnSwitch *old;

        o->ovs_uuid = xstrdup("00000000-0000-0000-0000-0000000000a1");
        o->ovs_ids = json_tokener_parse("{\"ovn-remote\": \"tcp:10.10.10.1:6642\", \"ovn-encap-type\": \"geneve\","
                                        " \"ovn-encap-ip\": \"10.10.10.11\", \"system-id\": \"pve1\","
                                        " \"ovn-bridge\": \"br-int\"}");
        o->ifaces = calloc(1, sizeof(OvnIface));
        ASSERT_TRUE(o->ifaces);
        o->n_ifaces = 1;
        o->ifaces[0] = (OvnIface) { .name = xstrdup("veth101i0"), .uuid = xstrdup("00000000-0000-0000-0000-0000000000a2"),
                                    .iface_id = xstrdup("ct101-eth0"), .tag = xstrdup("ct101-eth0"),
                                    .bridge = xstrdup("br-int") };
        live_switch(o, "ls-web", "00000000-0000-0000-0000-0000000000b1", "[\"map\", [[\"op-dbus-owner\", \"op-dbus\"]]]")->declared = true;
        o->have.switches[0].n_declarers = 1;
        live_port(o, "ct101-eth0", "ls-web", "pve2");
        ASSERT_EQ(p->vtable->diff(p, &plan, &d), -EINVAL);
        ASSERT_EQ(d.n_entries, 1);
        ASSERT_STREQ(d.entries[0].path, "plugins.ovn.ports[0]");
        ASSERT_CONTAINS(d.entries[0].message, "belongs to node pve2");
        diag_done(&d);
        plan_done(&plan);

        o->have.ports[0].owned = false;
        ASSERT_EQ(p->vtable->diff(p, &plan, &d), -EINVAL);
        ASSERT_CONTAINS(d.entries[0].message, "was not created by op-dbus");
        diag_done(&d);
        plan_done(&plan);

        /* this node's port, and a switch it no longer declares */
        free(o->have.ports[0].node);
        o->have.ports[0].node = xstrdup("pve1");
        o->have.ports[0].owned = true;
        old = live_switch(o, "ls-old", "00000000-0000-0000-0000-0000000000b2",
                          "[\"map\", [[\"op-dbus-node-pve1\", \"declared\"], [\"op-dbus-node-pve2\", \"declared\"],"
                          " [\"op-dbus-owner\", \"op-dbus\"]]]");
        old->declared = true;
        old->n_declarers = 2;
        ASSERT_EQ(p->vtable->diff(p, &plan, &d), 0);
        ASSERT_EQ(d.n_entries, 0);
        ASSERT_STREQ(plan.actions[plan.n_actions - 1].path, "switch/ls-old");
        ASSERT_EQ(plan.actions[plan.n_actions - 1].kind, ACTION_MODIFY);
        ASSERT_TRUE(!plan.actions[plan.n_actions - 1].outage);
        ASSERT_EQ(ovsdb_txn_init(&nb), 0);
        ASSERT_EQ(ovsdb_txn_init(&ovs), 0);
        ASSERT_EQ(ovn_walk(o, NULL, &nb, &ovs, &d), 0);
        {
                size_t n = json_object_array_length(nb.ops);

                /* the guard holds every declarer read */
                ASSERT_STREQ(op_name(&nb, n - 2), "wait");
                ASSERT_CONTAINS(op_text(&nb, n - 2), "op-dbus-node-pve2");
                ASSERT_STREQ(op_name(&nb, n - 1), "mutate");
        }
        ovsdb_txn_done(&nb);
        ovsdb_txn_done(&ovs);
        plan_done(&plan);

        /* the last declarer: deleted, an outage for a port made by hand on it */
        old->n_declarers = 1;
        live_port(o, "by-hand", "ls-old", NULL);
        ASSERT_EQ(p->vtable->diff(p, &plan, &d), 0);
        ASSERT_STREQ(plan.actions[plan.n_actions - 1].path, "switch/ls-old");
        ASSERT_EQ(plan.actions[plan.n_actions - 1].kind, ACTION_DELETE);
        ASSERT_CONTAINS(plan.actions[plan.n_actions - 1].outage, "by-hand (not op-dbus's)");
}

int main(void) {
        RUN(test_parse);
        RUN(test_create);
        RUN(test_ownership);
        return 0;
}
