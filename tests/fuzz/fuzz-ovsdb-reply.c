/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What ovsdb-server sends, as the OVSDB client and the plugins read it.
 * The first line names the reader; the rest is every byte the server
 * sends on the connection (replies carry the id of the client's first
 * request, 1, to be taken as its answer):
 *
 *   client     a "transact" through the client: echo requests,
 *              notifications, the reply and its per-operation errors
 *   net        the net plugin's query of bridges, ports and interfaces,
 *              then its diff against a desired state and its live state
 *              as a state section
 *   lxc        the lxc plugin's view of bridges and ports
 *   openflow   the openflow plugin's ports of the bridges, and the flows
 *              built from them */
#include "fuzz.h"
#include "host.h"
#include "json-util.h"
#include "lxc-ovsdb.h"
#include "of-engine.h"
#include "openflow.h"
#include "ovsdb-client.h"
#include "plan.h"
#include "plugin.h"

extern const PluginVTable net_plugin_vtable;

/* The desired state the plugins compare the server's rows with. */
static const char desired[] =
        "{\"version\": 1, \"plugins\": {"
        " \"net\": {\"bridges\": [{\"name\": \"ovsbr0\", \"datapath_type\": \"auto\", \"ports\": ["
        "  {\"name\": \"uplink0\", \"type\": \"internal\", \"tag\": 10},"
        "  {\"name\": \"trunk0\", \"type\": \"internal\", \"vlan_mode\": \"trunk\", \"trunks\": [10, 20]},"
        "  {\"name\": \"vx0\", \"type\": \"vxlan\", \"options\": {\"remote_ip\": \"192.0.2.1\"}}]},"
        "  {\"name\": \"ovsbr1\", \"other_config\": {\"mac-aging-time\": \"300\"}, \"external_ids\": {\"site\": \"a\"}}]},"
        " \"lxc\": {\"containers\": [{\"id\": 100, \"network\": {\"bridge\": \"ovsbr0\", \"port_name\": \"internal_100\","
        "  \"hwaddr\": \"02:00:00:00:01:00\", \"ipv4\": \"10.0.0.100/24\"}}]},"
        " \"openflow\": {\"obfuscation_level\": 3, \"dns_resolver\": \"1.1.1.1\", \"bridges\": ["
        "  {\"name\": \"ovsbr0\", \"socket_ports\": [{\"name\": \"internal_100\", \"container_id\": 100}],"
        "   \"flows\": [{\"table\": 0, \"priority\": 100, \"match_fields\": {\"in_port\": \"internal_100\"},"
        "     \"actions\": [{\"type\": \"output\", \"port\": \"container:100\"}]}]}],"
        "  \"flow_policies\": [{\"name\": \"all\", \"selector\": \"container:*\","
        "   \"template\": {\"table\": 10, \"priority\": 100, \"match\": {\"in_port\": \"{port_name}\"},"
        "    \"actions\": [{\"type\": \"normal\"}]}},"
        "   {\"name\": \"ports\", \"selector\": \"port:veth*\","
        "    \"template\": {\"table\": 0, \"priority\": 5, \"actions\": [{\"type\": \"drop\"}]}}]}}}";

static StateDoc *desired_doc(void) {
        static StateDoc *doc;
        Diag d = {};

        if (!doc)
                FUZZ_CHECK(state_doc_parse(desired, strlen(desired), "desired", &doc, &d) >= 0);
        diag_done(&d);
        return doc;
}

/* The plugins' context, with host settings (in *host) that point at the
 * peer and otherwise nowhere. */
static PluginContext context(const FuzzPeer *peer, HostSettings *host) {
        *host = (HostSettings) {
                .ovsdb_address = fuzz_peer_address(peer),
                .ovs_rundir = "/nonexistent/opdbus-fuzz/run/openvswitch",
                .pve_dir = "/nonexistent/opdbus-fuzz/etc/pve",
                .interfaces_path = "/nonexistent/opdbus-fuzz/interfaces",
        };
        return (PluginContext) {
                .state_dir = "/nonexistent/opdbus-fuzz/state",
                .run_dir = "/nonexistent/opdbus-fuzz/run",
                .timeout_ms = 5000,
                .settings = host,
        };
}

static json_object *select_all(const char *table) {
        json_object *op = json_object_new_object();

        json_object_object_add(op, "op", json_object_new_string("select"));
        json_object_object_add(op, "table", json_object_new_string(table));
        json_object_object_add(op, "where", json_object_new_array());
        return op;
}

static void run_client(const uint8_t *data, size_t size) {
        _cleanup_(fuzz_peer_endp) FuzzPeer *peer = fuzz_peer_begin(data, size);
        _cleanup_(ovsdb_client_freep) OvsdbClient *c = NULL;
        _cleanup_(json_object_putp) json_object *results = NULL;
        _cleanup_(freep) char *err = NULL;
        json_object *ops = json_object_new_array(), *note;

        FUZZ_CHECK(ovsdb_client_connect(fuzz_peer_address(peer), 5000, &c) >= 0);
        json_object_array_add(ops, select_all("Bridge"));
        json_object_array_add(ops, select_all("Port"));
        if (ovsdb_client_transact(c, "Open_vSwitch", ops, &results, &err) >= 0)
                FUZZ_CHECK(json_object_is_type(results, json_type_array) && json_object_array_length(results) >= 2);
        while (ovsdb_client_pop_notification(c, &note) > 0)
                json_object_put(note);
}

static void run_net(const uint8_t *data, size_t size) {
        _cleanup_(fuzz_peer_endp) FuzzPeer *peer = fuzz_peer_begin(data, size);
        HostSettings host;
        PluginContext ctx = context(peer, &host);
        const StateDoc *doc = desired_doc();
        _cleanup_(plugin_freep) Plugin *p = NULL;
        _cleanup_(json_object_putp) json_object *live = NULL;
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(plan_done) Plan plan = {};

        FUZZ_CHECK(plugin_new(&net_plugin_vtable, &ctx, &p) >= 0);
        FUZZ_CHECK(p->vtable->parse(p, doc, state_doc_section(doc, "net"), &d) > 0);
        if (p->vtable->query(p, &d) < 0)
                return;
        (void) p->vtable->diff(p, &plan, &d);
        if (p->vtable->live_to_json(p, &live) >= 0)
                FUZZ_CHECK(json_object_to_json_string(live));
}

static void run_lxc(const uint8_t *data, size_t size) {
        _cleanup_(fuzz_peer_endp) FuzzPeer *peer = fuzz_peer_begin(data, size);
        _cleanup_(ovsdb_client_freep) OvsdbClient *c = NULL;
        _cleanup_(lxc_ovs_view_done) LxcOvsView v = {};
        _cleanup_(diag_done) Diag d = {};

        FUZZ_CHECK(ovsdb_client_connect(fuzz_peer_address(peer), 5000, &c) >= 0);
        if (lxc_ovs_read(c, &v, &d) < 0)
                return;
        for (size_t i = 0; i < v.n_ports; i++)
                if (v.ports[i].name)
                        FUZZ_CHECK(lxc_ovs_find_port(&v, v.ports[i].name));
        for (size_t i = 0; i < v.n_bridges; i++)
                if (v.bridges[i].name)
                        FUZZ_CHECK(lxc_ovs_find_bridge(&v, v.bridges[i].name));
}

static void run_openflow(const uint8_t *data, size_t size) {
        _cleanup_(fuzz_peer_endp) FuzzPeer *peer = fuzz_peer_begin(data, size);
        HostSettings host;
        PluginContext ctx = context(peer, &host);
        const StateDoc *doc = desired_doc();
        _cleanup_(openflow_config_done) OpenflowConfig c = {};
        _cleanup_(of_ports_done) OfPorts ports = {};
        _cleanup_(diag_done) Diag d = {};
        OfSocketPort *extra = NULL;
        size_t n_extra = 0;

        FUZZ_CHECK(openflow_parse(&c, state_doc_section(doc, "openflow"), &d) >= 0);
        FUZZ_CHECK(of_ports_from_lxc(doc, &extra, &n_extra) >= 0);
        if (of_ports_query(&ports, &ctx, &c, extra, n_extra, &d) >= 0)
                for (size_t i = 0; i < c.n_bridges; i++) {
                        _cleanup_(of_flow_set_done) OfFlowSet set = {};
                        size_t hits[16] = {};

                        FUZZ_CHECK(c.n_flow_policies <= ELEMENTSOF(hits));
                        (void) of_pipeline_build(&c, &c.bridges[i], &ports, &set, hits, &d);
                }
        of_socket_ports_free(extra, n_extra);
}

static const FuzzCase cases[] = {
        { "client", run_client },
        { "net", run_net },
        { "lxc", run_lxc },
        { "openflow", run_openflow },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        fuzz_run_case(cases, ELEMENTSOF(cases), data, size);
        return 0;
}
