/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The router's interfaces plugin without a kernel: the section parsed
 * (every error at its JSON path), the diff against made-up dumps and a
 * ledger (only what op-router made is deleted, someone else's bridge or
 * address is a conflict, VLANs are created over their parent), and the
 * owned objects written back as a section diff to nothing. The kernel:
 * tests/integration/test_router_interfaces.py (VLANs need 8021q, which the
 * test machines lack: their messages are test-rtnl's). */
#include <arpa/inet.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <stdio.h>

#include "interfaces.h"
#include "json-util.h"
#include "router.h"
#include "router-tests.h"

static int parse(IfConfig *c, const char *section, Diag *d) {
        _cleanup_(json_object_putp) json_object *o = json_from_text(section);

        return if_parse(c, o, d);
}

static void parse_ok(IfConfig *c, const char *section) {
        _cleanup_(diag_done) Diag d = {};

        if (parse(c, section, &d) < 0 || diag_count(&d, DIAG_ERROR) > 0) {
                diag_print(&d, stderr, "  ");
                TEST_FAIL("refused: %s", section);
        }
}

TEST(test_parse) {
        IfConfig c = {};

        parse_ok(&c, "{\"links\": [{\"name\": \"eth1\", \"mtu\": 1400, \"up\": true, \"mac\": \"02:00:00:00:00:01\","
                     " \"addresses\": [\"198.51.100.2/24\", \"2001:db8::2/64\"]}],"
                     " \"bridges\": [{\"name\": \"br-lan\", \"ports\": [\"lan1\", \"lan2\"], \"vlan_filtering\": true}],"
                     " \"vlans\": [{\"name\": \"br-lan.10\", \"link\": \"br-lan\", \"id\": 10}],"
                     " \"macvlans\": [{\"name\": \"mv0\", \"link\": \"eth1\"}, {\"name\": \"mv1\", \"link\": \"eth1\", \"mode\": \"private\"}]}");
        ASSERT_EQ(c.n_links, 5);
        ASSERT_EQ(c.links[3].kind, IF_MACVLAN);
        ASSERT_STREQ(c.links[3].parent, "eth1");
        ASSERT_EQ(c.links[3].macvlan_mode, MACVLAN_MODE_BRIDGE);
        ASSERT_EQ(c.links[4].macvlan_mode, MACVLAN_MODE_PRIVATE);
        ASSERT_EQ(c.links[0].kind, IF_LINK);
        ASSERT_EQ(c.links[0].mtu, 1400);
        ASSERT_EQ(c.links[0].up, 1);
        ASSERT_TRUE(c.links[0].has_mac);
        ASSERT_EQ(c.links[0].n_addresses, 2);
        ASSERT_STREQ(c.links[0].addresses[1].text, "2001:db8::2/64");
        ASSERT_EQ(c.links[1].kind, IF_BRIDGE);
        ASSERT_EQ(c.links[1].n_ports, 2);
        ASSERT_TRUE(c.links[1].vlan_filtering);
        ASSERT_EQ(c.links[1].up, -1);
        ASSERT_EQ(c.links[2].kind, IF_VLAN);
        ASSERT_STREQ(c.links[2].parent, "br-lan");
        ASSERT_EQ(c.links[2].vlan_id, 10);
        if_config_done(&c);
}

TEST(test_parse_errors) {
        static const struct {
                const char *section, *path;
        } cases[] = {
                { "{\"link\": []}", "plugins.interfaces.link" },
                { "{\"links\": [{\"name\": \"an-interface-name\"}]}", "plugins.interfaces.links[0].name" },
                { "{\"links\": [{\"name\": \"eth1\", \"ports\": []}]}", "plugins.interfaces.links[0].ports" },
                { "{\"links\": [{\"name\": \"eth1\", \"mtu\": 10}]}", "plugins.interfaces.links[0].mtu" },
                { "{\"links\": [{\"name\": \"eth1\", \"mac\": \"02:00\"}]}", "plugins.interfaces.links[0].mac" },
                { "{\"links\": [{\"name\": \"eth1\", \"addresses\": [\"10.0.0.1\"]}]}",
                  "plugins.interfaces.links[0].addresses[0]" },
                { "{\"links\": [{\"name\": \"eth1\", \"addresses\": [\"10.0.0.1/33\"]}]}",
                  "plugins.interfaces.links[0].addresses[0]" },
                { "{\"links\": [{\"name\": \"eth1\", \"addresses\": [\"10.0.0.1/8\", \"10.0.0.1/8\"]}]}",
                  "plugins.interfaces.links[0].addresses[1]" },
                { "{\"vlans\": [{\"name\": \"v0\", \"link\": \"eth1\", \"id\": 0}]}", "plugins.interfaces.vlans[0].id" },
                { "{\"vlans\": [{\"name\": \"v0\", \"link\": \"eth1\", \"id\": 4095}]}", "plugins.interfaces.vlans[0].id" },
                { "{\"vlans\": [{\"name\": \"v0\", \"id\": 5}]}", "plugins.interfaces.vlans[0].link" },
                { "{\"macvlans\": [{\"name\": \"m0\", \"link\": \"eth1\", \"mode\": \"source\"}]}",
                  "plugins.interfaces.macvlans[0].mode" },
                { "{\"macvlans\": [{\"name\": \"m0\", \"link\": \"eth1\", \"id\": 5}]}", "plugins.interfaces.macvlans[0].id" },
                { "{\"links\": [{\"name\": \"x\"}], \"bridges\": [{\"name\": \"x\"}]}", "plugins.interfaces.bridges[0]" },
                { "{\"bridges\": [{\"name\": \"a\", \"ports\": [\"p\"]}, {\"name\": \"b\", \"ports\": [\"p\"]}]}",
                  "plugins.interfaces.bridges[1].ports[0]" },
                { "{\"bridges\": [{\"name\": \"a\", \"ports\": [\"b\"]}, {\"name\": \"b\"}]}",
                  "plugins.interfaces.bridges[0].ports[0]" },
                /* VLANs of bridge ports */
#define BR(x) "{\"bridges\": [{\"name\": \"br0\", \"vlan_filtering\": true, \"ports\": [" x "]}]}"
#define P0 "plugins.interfaces.bridges[0].ports[0]"
                { BR("{\"name\": \"lan1\", \"vlans\": {\"pvid\": 0}}"), P0 ".vlans.pvid" },
                { BR("{\"name\": \"lan1\", \"vlans\": {\"pvid\": 4095}}"), P0 ".vlans.pvid" },
                { BR("{\"name\": \"lan1\", \"vlans\": {\"pvid\": \"10\"}}"), P0 ".vlans.pvid" },
                { BR("{\"name\": \"lan1\", \"vlans\": {\"tagged\": [20, 4095]}}"), P0 ".vlans.tagged[1]" },
                { BR("{\"name\": \"lan1\", \"vlans\": {\"tagged\": [0]}}"), P0 ".vlans.tagged[0]" },
                { BR("{\"name\": \"lan1\", \"vlans\": {\"tagged\": [\"20\"]}}"), P0 ".vlans.tagged[0]" },
                { BR("{\"name\": \"lan1\", \"vlans\": {\"pvid\": 10, \"tagged\": [20, 10]}}"), P0 ".vlans.tagged[1]" },
                { BR("{\"name\": \"lan1\", \"vlans\": {\"tagged\": [20, 30, 20]}}"), P0 ".vlans.tagged[2]" },
                { BR("{\"name\": \"lan1\", \"vlans\": {\"pvid\": 10, \"untagged\": [20]}}"), P0 ".vlans.untagged" },
                { BR("{\"name\": \"lan1\", \"vlans\": [10]}"), P0 ".vlans" },
                { BR("{\"name\": \"lan1\", \"pvid\": 10}"), P0 ".pvid" },
                { BR("{\"vlans\": {\"pvid\": 10}}"), P0 ".name" },
                { BR("{\"name\": \"a-much-too-long-name\"}"), P0 ".name" },
                { BR("10"), P0 },
                { "{\"bridges\": [{\"name\": \"br0\", \"ports\": [{\"name\": \"lan1\", \"vlans\": {\"pvid\": 10}}]}]}",
                  P0 ".vlans" },
                { "{\"bridges\": [{\"name\": \"br0\", \"vlan_filtering\": false, \"vlans\": {\"pvid\": 10}}]}",
                  "plugins.interfaces.bridges[0].vlans" },
                { "{\"bridges\": [{\"name\": \"br0\", \"vlan_filtering\": true, \"vlans\": {\"tagged\": [1, 1]}}]}",
                  "plugins.interfaces.bridges[0].vlans.tagged[1]" },
                { "{\"bridges\": [{\"name\": \"a\", \"vlan_filtering\": true, \"ports\": [{\"name\": \"p\"}]},"
                  " {\"name\": \"b\", \"ports\": [\"p\"]}]}", "plugins.interfaces.bridges[1].ports[0]" },
#undef P0
#undef BR
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(diag_done) Diag d = {};
                IfConfig c = {};

                if (parse(&c, cases[i].section, &d) != -EINVAL || !diag_has_error_at(&d, cases[i].path)) {
                        diag_print(&d, stderr, "  ");
                        TEST_FAIL("%s: no error at %s", cases[i].section, cases[i].path);
                }
                if_config_done(&c);
        }
}

TEST(test_parse_port_vlans) {
        IfConfig c = {};
        const IfLink *br;

        parse_ok(&c, "{\"bridges\": [{\"name\": \"br-lan\", \"vlan_filtering\": true, \"vlans\": {\"tagged\": [10]},"
                     " \"ports\": [\"lan1\", {\"name\": \"lan2\", \"vlans\": {\"pvid\": 10}},"
                     " {\"name\": \"lan3\", \"vlans\": {\"tagged\": [10, 20]}}, {\"name\": \"lan4\"},"
                     " {\"name\": \"lan5\", \"vlans\": {}}]}]}");
        br = &c.links[0];
        ASSERT_EQ(br->n_ports, 5);
        ASSERT_STREQ(br->ports[1], "lan2");
        ASSERT_TRUE(!br->port_vlans[0].given && !br->port_vlans[3].given);
        ASSERT_TRUE(br->port_vlans[1].given);
        ASSERT_EQ(br->port_vlans[1].pvid, 10);
        ASSERT_EQ(br->port_vlans[1].n_tagged, 0);
        ASSERT_EQ(br->port_vlans[2].pvid, 0);
        ASSERT_EQ(br->port_vlans[2].n_tagged, 2);
        ASSERT_EQ(br->port_vlans[2].tagged[1], 20);
        ASSERT_TRUE(br->port_vlans[4].given && br->port_vlans[4].pvid == 0 && br->port_vlans[4].n_tagged == 0);
        ASSERT_TRUE(br->self_vlans.given);
        ASSERT_EQ(br->self_vlans.tagged[0], 10);
        if_config_done(&c);
}

static RtnlAddr addr4(int ifindex, const char *s, unsigned len, uint8_t protocol) {
        RtnlAddr a = { .family = AF_INET, .ifindex = ifindex, .prefixlen = len, .protocol = protocol };

        ASSERT_EQ(inet_pton(AF_INET, s, &a.address.in), 1);
        return a;
}

/* eth1 (2), lan1 (3), lan2 (4), br-lan (5, op-router's), br-x (6, someone else's) */
static void live_init(IfLive *l) {
        static const RtnlLink links[] = {
                { .ifindex = 2, .name = "eth1", .kind = "veth", .mtu = 1500, .up = true },
                { .ifindex = 3, .name = "lan1", .kind = "veth", .mtu = 1500, .master = 5 },
                { .ifindex = 4, .name = "lan2", .kind = "veth", .mtu = 1500, .master = 5 },
                { .ifindex = 5, .name = "br-lan", .kind = "bridge", .mtu = 1500, .up = true, .alias = IF_ALIAS },
                { .ifindex = 6, .name = "br-x", .kind = "bridge", .mtu = 1500, .up = true },
        };

        *l = (IfLive) {};
        l->links = malloc(sizeof links);
        l->addrs = calloc(4, sizeof(RtnlAddr));
        ASSERT_TRUE(l->links && l->addrs);
        memcpy(l->links, links, sizeof links);
        l->n_links = ELEMENTSOF(links);
        l->addrs[0] = addr4(2, "198.51.100.2", 24, RTNL_PROTO_OPDBUS);
        l->addrs[1] = addr4(2, "198.51.100.3", 24, 0);                 /* someone else's */
        l->addrs[2] = addr4(5, "192.168.1.1", 24, 0);                  /* ours by the ledger */
        l->addrs[3] = addr4(6, "10.9.9.9", 24, 0);
        l->n_addrs = 4;
        ASSERT_EQ(if_ledger_add(&l->ledger.links, &l->ledger.n_links, "br-lan"), 0);
        ASSERT_EQ(if_ledger_add(&l->ledger.links, &l->ledger.n_links, "br-x"), 0);   /* but no alias */
        ASSERT_EQ(if_ledger_add(&l->ledger.addresses, &l->ledger.n_addresses, "br-lan 192.168.1.1/24"), 0);
}

TEST(test_diff) {
        _cleanup_(if_live_done) IfLive live = {};
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(plan_done) Plan plan = {};
        _cleanup_(if_changes_done) IfChanges ch = {};
        IfConfig c = {};

        live_init(&live);
        ASSERT_TRUE(if_link_owned(&live, &live.links[3]));
        ASSERT_TRUE(!if_link_owned(&live, &live.links[4]));
        ASSERT_TRUE(if_addr_owned(&live, &live.addrs[0]) && if_addr_owned(&live, &live.addrs[2]));
        ASSERT_TRUE(!if_addr_owned(&live, &live.addrs[1]));
        /* being made by an apply that was stopped before its alias */
        ASSERT_EQ(if_ledger_add(&live.ledger.creating, &live.ledger.n_creating, "br-x"), 0);
        ASSERT_TRUE(if_link_owned(&live, &live.links[4]));
        if_ledger_made(&live.ledger);
        ASSERT_TRUE(!if_link_owned(&live, &live.links[4]));

        /* the same: nothing */
        parse_ok(&c, "{\"links\": [{\"name\": \"eth1\", \"addresses\": [\"198.51.100.2/24\"]}],"
                     " \"bridges\": [{\"name\": \"br-lan\", \"ports\": [\"lan1\", \"lan2\"], \"addresses\": [\"192.168.1.1/24\"]}]}");
        ASSERT_EQ(if_diff(&c, &live, &ch, &plan, &d), 0);
        ASSERT_EQ(ch.n_ops, 0);

        /* lan2 leaves, a VLAN over the bridge, eth1's address goes, the MTU changes */
        parse_ok(&c, "{\"links\": [{\"name\": \"eth1\", \"mtu\": 1400}],"
                     " \"bridges\": [{\"name\": \"br-lan\", \"ports\": [\"lan1\"], \"addresses\": [\"192.168.1.1/24\"]}],"
                     " \"vlans\": [{\"name\": \"br-lan.7\", \"link\": \"br-lan\", \"id\": 7, \"addresses\": [\"10.7.0.1/24\"]}]}");
        ASSERT_EQ(if_diff(&c, &live, &ch, &plan, &d), 0);
        ASSERT_EQ(diag_count(&d, DIAG_ERROR), 0);
        ASSERT_EQ(ch.n_ops, 5);
        ASSERT_EQ(ch.ops[0].type, IF_DELETE_ADDRESS);
        ASSERT_STREQ(ch.ops[0].addr_text, "198.51.100.2/24");
        ASSERT_EQ(ch.ops[1].type, IF_RELEASE_PORT);
        ASSERT_STREQ(ch.ops[1].name, "lan2");
        /* the existing links' settings first: a VLAN made up needs its parent up */
        ASSERT_EQ(ch.ops[2].type, IF_SET_LINK);
        ASSERT_EQ(ch.ops[2].mtu, 1400);
        ASSERT_EQ(ch.ops[3].type, IF_CREATE_LINK);           /* the new VLAN, made up at once */
        ASSERT_EQ(ch.ops[3].kind, IF_VLAN);
        ASSERT_STREQ(ch.ops[3].other, "br-lan");
        ASSERT_EQ(ch.ops[3].admin, RTNL_ADMIN_UP);
        ASSERT_EQ(ch.ops[4].type, IF_ADD_ADDRESS);
        ASSERT_EQ(ch.ops[4].addr.protocol, RTNL_PROTO_OPDBUS);
        if_changes_done(&ch);
        plan_done(&plan);

        /* an empty section: what op-router made goes, nothing else */
        parse_ok(&c, "{}");
        ASSERT_EQ(if_diff(&c, &live, &ch, &plan, &d), 0);
        ASSERT_EQ(ch.n_ops, 3);
        ASSERT_EQ(ch.ops[0].type, IF_DELETE_ADDRESS);
        ASSERT_EQ(ch.ops[1].type, IF_DELETE_ADDRESS);
        ASSERT_EQ(ch.ops[2].type, IF_DELETE_LINK);
        ASSERT_STREQ(ch.ops[2].name, "br-lan");
        ASSERT_TRUE(plan.actions[2].outage != NULL);
        if_changes_done(&ch);
        plan_done(&plan);
        if_config_done(&c);
}

TEST(test_diff_conflicts) {
        _cleanup_(if_live_done) IfLive live = {};
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(plan_done) Plan plan = {};
        _cleanup_(if_changes_done) IfChanges ch = {};
        IfConfig c = {};

        live_init(&live);
        parse_ok(&c, "{\"links\": [{\"name\": \"eth1\", \"addresses\": [\"198.51.100.3/24\"]}, {\"name\": \"eth9\"}],"
                     " \"bridges\": [{\"name\": \"br-x\"}, {\"name\": \"br-new\", \"ports\": [\"lan7\"]}],"
                     " \"vlans\": [{\"name\": \"v1\", \"link\": \"eth8\", \"id\": 1}]}");
        ASSERT_EQ(if_diff(&c, &live, &ch, &plan, &d), -EINVAL);
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.interfaces.links[0].addresses[0]"));
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.interfaces.links[1].name"));
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.interfaces.bridges[0].name"));
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.interfaces.bridges[1].ports[0]"));
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.interfaces.vlans[0].link"));
        if_config_done(&c);
}

TEST(test_live_as_section_diffs_to_nothing) {
        _cleanup_(if_live_done) IfLive live = {};
        _cleanup_(json_object_putp) json_object *section = NULL;
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(plan_done) Plan plan = {};
        _cleanup_(if_changes_done) IfChanges ch = {};
        char *names[] = { (char *) "eth1", NULL };
        IfConfig c = {};

        live_init(&live);
        ASSERT_EQ(if_live_to_json(&live, names, &section), 0);
        ASSERT_EQ(json_object_array_length(json_object_object_get(section, "bridges")), 1);
        ASSERT_EQ(if_parse(&c, section, &d), 0);
        ASSERT_EQ(if_diff(&c, &live, &ch, &plan, &d), 0);
        ASSERT_EQ(ch.n_ops, 0);
        if_config_done(&c);
}

/* br-lan (5) filters VLANs: lan1 and lan2 have the kernel's default
 * (VLAN 1, pvid, untagged), the bridge itself too; lan3 (7) is outside. */
static void live_filtering(IfLive *l) {
        RtnlLink *t;

        live_init(l);
        l->links[3].vlan_filtering = true;
        t = realloc(l->links, (l->n_links + 1) * sizeof(RtnlLink));
        ASSERT_TRUE(t);
        l->links = t;
        l->links[l->n_links++] = (RtnlLink) { .ifindex = 7, .name = "lan3", .kind = "veth", .mtu = 1500, .up = true };
        l->vlans = calloc(3, sizeof(RtnlBridgeVlans));
        ASSERT_TRUE(l->vlans);
        for (int i = 0; i < 3; i++) {
                l->vlans[i] = (RtnlBridgeVlans) { .ifindex = i < 2 ? 3 + i : 5, .master = 5, .self = i == 2, .pvid = 1 };
                rtnl_vlan_set_add(l->vlans[i].member, 1);
                rtnl_vlan_set_add(l->vlans[i].untagged, 1);
        }
        l->n_vlans = 3;
}

/* the section's start: eth1 keeps its address */
#define ETH1 "{\"links\": [{\"name\": \"eth1\", \"addresses\": [\"198.51.100.2/24\"]}], "

TEST(test_diff_port_vlans) {
        _cleanup_(if_live_done) IfLive live = {};
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(plan_done) Plan plan = {};
        _cleanup_(if_changes_done) IfChanges ch = {};
        IfConfig c = {};

        live_filtering(&live);
        /* plain names on a filtering bridge: the kernel's default, as it is */
        parse_ok(&c, ETH1 "\"bridges\": [{\"name\": \"br-lan\", \"vlan_filtering\": true, \"ports\": [\"lan1\", \"lan2\"],"
                     " \"addresses\": [\"192.168.1.1/24\"]}]}");
        ASSERT_EQ(if_diff(&c, &live, &ch, &plan, &d), 0);
        ASSERT_EQ(ch.n_ops, 0);

        /* lan1: pvid 10; lan2: tagged 10 and 20; lan3 joins with pvid 20
         * (the kernel gives it VLAN 1 as it joins); the bridge itself in 10 */
        parse_ok(&c, ETH1 "\"bridges\": [{\"name\": \"br-lan\", \"vlan_filtering\": true, \"vlans\": {\"pvid\": 10},"
                     " \"ports\": [{\"name\": \"lan1\", \"vlans\": {\"pvid\": 10}},"
                     " {\"name\": \"lan2\", \"vlans\": {\"tagged\": [20, 10]}}, {\"name\": \"lan3\", \"vlans\": {\"pvid\": 20}}],"
                     " \"addresses\": [\"192.168.1.1/24\"]}]}");
        ASSERT_EQ(if_diff(&c, &live, &ch, &plan, &d), 0);
        ASSERT_EQ(diag_count(&d, DIAG_ERROR), 0);
        {
                static const struct {
                        IfOpType type;
                        const char *name;
                        uint16_t vid, flags;
                        bool self;
                } want[] = {
                        { IF_ENSLAVE, "lan3", 0, 0, false },
                        { IF_SET_VLAN, "lan1", 10, BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED, false },
                        { IF_SET_VLAN, "lan2", 10, 0, false },
                        { IF_SET_VLAN, "lan2", 20, 0, false },
                        { IF_SET_VLAN, "lan3", 20, BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED, false },
                        { IF_SET_VLAN, "br-lan", 10, BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED, true },
                        { IF_DELETE_VLAN, "lan1", 1, 0, false },
                        { IF_DELETE_VLAN, "lan2", 1, 0, false },
                        { IF_DELETE_VLAN, "lan3", 1, 0, false },
                        { IF_DELETE_VLAN, "br-lan", 1, 0, true },
                };

                ASSERT_EQ(ch.n_ops, ELEMENTSOF(want));
                for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                        const IfOp *op = &ch.ops[i];

                        if (op->type != want[i].type || !streq(op->name, want[i].name) ||
                            (op->type != IF_ENSLAVE && (op->vlan_id != want[i].vid || op->vlan_flags != want[i].flags ||
                                                         op->self != want[i].self || !streq(op->other, "br-lan"))))
                                TEST_FAIL("change %zu: type %d %s VLAN %u flags %u self %d", i, op->type, op->name,
                                          op->vlan_id, op->vlan_flags, op->self);
                }
        }
        /* the plan: a port losing its pvid is a LAN outage, a new tagged VLAN none */
        {
                bool lost = false, added = false;

                for (size_t i = 0; i < plan.n_actions; i++) {
                        lost |= streq(plan.actions[i].path, "port/br-lan/lan1/vlan/10") &&
                                plan.actions[i].impact == IMPACT_LAN_OUTAGE;
                        added |= streq(plan.actions[i].path, "port/br-lan/lan2/vlan/20") &&
                                 plan.actions[i].impact == IMPACT_NONE;
                }
                ASSERT_TRUE(lost && added);
        }
        if_changes_done(&ch);
        plan_done(&plan);

        /* a pvid that stays as a tagged VLAN: re-added without the flags */
        parse_ok(&c, ETH1 "\"bridges\": [{\"name\": \"br-lan\", \"vlan_filtering\": true,"
                     " \"ports\": [{\"name\": \"lan1\", \"vlans\": {\"tagged\": [1]}}, \"lan2\"],"
                     " \"addresses\": [\"192.168.1.1/24\"]}]}");
        ASSERT_EQ(if_diff(&c, &live, &ch, &plan, &d), 0);
        ASSERT_EQ(ch.n_ops, 1);
        ASSERT_EQ(ch.ops[0].type, IF_SET_VLAN);
        ASSERT_EQ(ch.ops[0].vlan_id, 1);
        ASSERT_EQ(ch.ops[0].vlan_flags, 0);
        if_changes_done(&ch);
        plan_done(&plan);

        /* the bridge without vlan_filtering in the section: made anew */
        parse_ok(&c, ETH1 "\"bridges\": [{\"name\": \"br-lan\", \"ports\": [\"lan1\", \"lan2\"],"
                     " \"addresses\": [\"192.168.1.1/24\"]}]}");
        ASSERT_EQ(if_diff(&c, &live, &ch, &plan, &d), 0);
        ASSERT_EQ(ch.ops[0].type, IF_DELETE_LINK);
        ASSERT_EQ(plan.actions[0].kind, ACTION_RECREATE);
        if_changes_done(&ch);
        plan_done(&plan);
        if_config_done(&c);
}

/* The snapshot of a filtering bridge holds its ports' VLANs: applied
 * again, it changes nothing. */
TEST(test_live_vlans_as_section) {
        _cleanup_(if_live_done) IfLive live = {};
        _cleanup_(json_object_putp) json_object *section = NULL;
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(plan_done) Plan plan = {};
        _cleanup_(if_changes_done) IfChanges ch = {};
        IfConfig c = {};
        const char *text;

        live_filtering(&live);
        /* lan1: pvid 10, tagged 30; lan2: tagged 20 only; the bridge: tagged 10 */
        memset(&live.vlans[0], 0, sizeof live.vlans[0]);
        live.vlans[0] = (RtnlBridgeVlans) { .ifindex = 3, .master = 5, .pvid = 10 };
        rtnl_vlan_set_add(live.vlans[0].member, 10);
        rtnl_vlan_set_add(live.vlans[0].untagged, 10);
        rtnl_vlan_set_add(live.vlans[0].member, 30);
        live.vlans[1] = (RtnlBridgeVlans) { .ifindex = 4, .master = 5 };
        rtnl_vlan_set_add(live.vlans[1].member, 20);
        live.vlans[2] = (RtnlBridgeVlans) { .ifindex = 5, .master = 5, .self = true };
        rtnl_vlan_set_add(live.vlans[2].member, 10);
        ASSERT_EQ(if_live_to_json(&live, NULL, &section), 0);
        text = json_object_to_json_string_ext(json_object_array_get_idx(json_object_object_get(section, "bridges"), 0),
                                              JSON_C_TO_STRING_PLAIN);
        ASSERT_TRUE(strstr(text, "\"ports\":[{\"name\":\"lan1\",\"vlans\":{\"pvid\":10,\"tagged\":[30]}},"
                                 "{\"name\":\"lan2\",\"vlans\":{\"tagged\":[20]}}],\"vlan_filtering\":true,"
                                 "\"vlans\":{\"tagged\":[10]}") != NULL);
        ASSERT_EQ(if_parse(&c, section, &d), 0);
        ASSERT_EQ(if_diff(&c, &live, &ch, &plan, &d), 0);
        ASSERT_EQ(ch.n_ops, 0);
        if_config_done(&c);
}

/* The wireguard section's links: made here, kept out of the interfaces
 * section's list, removed only by a present wireguard section, and made
 * anew or removed as a tunnel restart (no outage to allow). */
TEST(test_wireguard_links) {
        static const RtnlLink wg = { .ifindex = 7, .name = "wg0", .kind = "wireguard", .mtu = 1420, .up = true,
                                     .alias = IF_ALIAS };
        _cleanup_(if_live_done) IfLive live = {};
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(plan_done) Plan plan = {};
        _cleanup_(if_changes_done) IfChanges ch = {};
        _cleanup_(json_object_putp) json_object *section = NULL, *json = NULL, *empty = NULL, *bad = NULL;
        IfConfig c = {};
        RtnlLink *t;

        live_init(&live);
        t = realloc(live.links, (live.n_links + 1) * sizeof *t);
        ASSERT_TRUE(t);
        live.links = t;
        live.links[live.n_links++] = wg;
        ASSERT_EQ(if_ledger_add(&live.ledger.links, &live.ledger.n_links, "wg0"), 0);

        /* as it is: nothing; with another MTU: one change */
        section = json_from_text("{\"interfaces\": [{\"name\": \"wg0\", \"mtu\": 1400, \"private_key_secret\": \"k\","
                                 " \"peers\": [{\"public_key\": \"x\"}]}]}");
        parse_ok(&c, "{\"links\": [{\"name\": \"eth1\", \"addresses\": [\"198.51.100.2/24\"]}],"
                     " \"bridges\": [{\"name\": \"br-lan\", \"ports\": [\"lan1\", \"lan2\"], \"addresses\": [\"192.168.1.1/24\"]}]}");
        ASSERT_EQ(if_parse_wireguard(&c, section, &d), 0);
        ASSERT_EQ(diag_count(&d, DIAG_ERROR), 0);
        ASSERT_EQ(if_diff(&c, &live, &ch, &plan, &d), 0);
        ASSERT_EQ(ch.n_ops, 1);
        ASSERT_EQ(ch.ops[0].type, IF_SET_LINK);
        ASSERT_EQ(ch.ops[0].mtu, 1400);
        if_changes_done(&ch);
        plan_done(&plan);

        /* the interfaces section's view of the host leaves it to the wireguard section */
        ASSERT_EQ(if_live_to_json(&live, NULL, &json), 0);
        ASSERT_TRUE(!strstr(json_object_to_json_string(json), "wg0"));

        /* the wireguard section without it: deleted, a tunnel restart */
        empty = json_from_text("{\"interfaces\": []}");
        parse_ok(&c, "{\"links\": [{\"name\": \"eth1\", \"addresses\": [\"198.51.100.2/24\"]}],"
                     " \"bridges\": [{\"name\": \"br-lan\", \"ports\": [\"lan1\", \"lan2\"], \"addresses\": [\"192.168.1.1/24\"]}]}");
        ASSERT_EQ(if_parse_wireguard(&c, empty, &d), 0);
        ASSERT_EQ(if_diff(&c, &live, &ch, &plan, &d), 0);
        ASSERT_EQ(ch.n_ops, 1);
        ASSERT_EQ(ch.ops[0].type, IF_DELETE_LINK);
        ASSERT_STREQ(ch.ops[0].name, "wg0");
        ASSERT_TRUE(plan.actions[0].impact == IMPACT_TUNNEL_RESTART && plan.actions[0].outage == NULL);
        if_changes_done(&ch);
        plan_done(&plan);

        /* no wireguard section: left alone */
        parse_ok(&c, "{\"links\": [{\"name\": \"eth1\", \"addresses\": [\"198.51.100.2/24\"]}],"
                     " \"bridges\": [{\"name\": \"br-lan\", \"ports\": [\"lan1\", \"lan2\"], \"addresses\": [\"192.168.1.1/24\"]}]}");
        ASSERT_EQ(if_diff(&c, &live, &ch, &plan, &d), 0);
        ASSERT_EQ(ch.n_ops, 0);

        /* a name both sections give */
        bad = json_from_text("{\"interfaces\": [{\"name\": \"br-lan\", \"private_key_secret\": \"k\"}]}");
        ASSERT_EQ(if_parse_wireguard(&c, bad, &d), -EINVAL);
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.wireguard.interfaces[0]"));
        if_config_done(&c);
}

int main(void) {
        RUN(test_parse);
        RUN(test_parse_errors);
        RUN(test_parse_port_vlans);
        RUN(test_diff);
        RUN(test_diff_conflicts);
        RUN(test_live_as_section_diffs_to_nothing);
        RUN(test_diff_port_vlans);
        RUN(test_live_vlans_as_section);
        RUN(test_wireguard_links);
        return 0;
}
