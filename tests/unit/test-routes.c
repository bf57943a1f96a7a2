/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The router's routes plugin without a kernel: the section parsed (every
 * error at its JSON path), and the diff against dumps made up here: only
 * routes and rules with protocol 217 are changed, someone else's at the
 * same key is a conflict, the changes come in the order the kernel needs,
 * and the owned objects written back as a section diff to nothing. What
 * the kernel does: tests/integration/test_router_routes.py. */
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <stdio.h>

#include "json-util.h"
#include "router.h"
#include "routes.h"
#include "router-tests.h"

static int parse(RtConfig *c, const char *section, Diag *d) {
        _cleanup_(json_object_putp) json_object *o = json_from_text(section);

        return rt_parse(c, o, d);
}

static void parse_ok(RtConfig *c, const char *section) {
        _cleanup_(diag_done) Diag d = {};

        if (parse(c, section, &d) < 0 || diag_count(&d, DIAG_ERROR) > 0) {
                diag_print(&d, stderr, "  ");
                TEST_FAIL("refused: %s", section);
        }
}

static RtnlInAddr a4(const char *s) {
        RtnlInAddr a = { .bytes = {} };

        ASSERT_EQ(inet_pton(AF_INET, s, &a.in), 1);
        return a;
}

TEST(test_parse_model) {
        RtConfig c = {};

        parse_ok(&c, "{\"routes\": [{\"to\": \"default\", \"via\": \"198.51.100.1\"},"
                     " {\"to\": \"fd00:1::/64\", \"dev\": \"lan1\"},"
                     " {\"to\": \"default\", \"type\": \"blackhole\", \"table\": 100, \"metric\": 7}],"
                     " \"rules\": [{\"priority\": 100, \"iif\": \"lan5\", \"table\": 100},"
                     " {\"priority\": 200, \"from\": \"10.1.0.0/16\", \"fwmark\": \"0x10/0xff\"}]}");
        ASSERT_TRUE(c.present);
        ASSERT_EQ(c.n_routes, 3);
        ASSERT_EQ(c.routes[0].r.family, AF_INET);
        ASSERT_EQ(c.routes[0].r.dst_len, 0);
        ASSERT_EQ(c.routes[0].r.table, RT_TABLE_MAIN);
        ASSERT_EQ(c.routes[0].r.protocol, RTNL_PROTO_OPDBUS);
        ASSERT_TRUE(c.routes[0].r.has_gateway);
        ASSERT_EQ(c.routes[1].r.family, AF_INET6);
        ASSERT_EQ(c.routes[1].r.priority, RT_METRIC_IPV6_DEFAULT);
        ASSERT_STREQ(c.routes[1].dev, "lan1");
        ASSERT_EQ(c.routes[2].r.type, RTN_BLACKHOLE);
        ASSERT_EQ(c.routes[2].r.table, 100);
        ASSERT_EQ(c.routes[2].r.priority, 7);
        /* a rule without addresses is one per family */
        ASSERT_EQ(c.n_rules, 3);
        ASSERT_EQ(c.rules[0].r.family, AF_INET);
        ASSERT_EQ(c.rules[1].r.family, AF_INET6);
        ASSERT_STREQ(c.rules[1].path, "plugins.routes.rules[0]");
        ASSERT_STREQ(c.rules[0].r.iif, "lan5");
        ASSERT_EQ(c.rules[2].r.family, AF_INET);
        ASSERT_EQ(c.rules[2].r.fwmark, 0x10);
        ASSERT_EQ(c.rules[2].r.fwmask, 0xff);
        ASSERT_EQ(c.rules[2].r.table, RT_TABLE_MAIN);
        ASSERT_EQ(c.rules[2].r.protocol, RTNL_PROTO_OPDBUS);
        rt_config_done(&c);

        /* absent: nothing is managed */
        ASSERT_EQ(rt_parse(&c, NULL, NULL), 0);
        ASSERT_TRUE(!c.present);
}

TEST(test_parse_errors) {
        static const struct {
                const char *section, *path;
        } cases[] = {
                { "{\"route\": []}", "plugins.routes.route" },
                { "{\"routes\": {}}", "plugins.routes.routes" },
                { "{\"routes\": [{\"via\": \"10.0.0.1\"}]}", "plugins.routes.routes[0]" },
                { "{\"routes\": [{\"to\": \"10.0.0.0/33\", \"via\": \"10.0.0.1\"}]}", "plugins.routes.routes[0].to" },
                { "{\"routes\": [{\"to\": \"10.0.0.1/8\", \"via\": \"10.0.0.1\"}]}", "plugins.routes.routes[0].to" },
                { "{\"routes\": [{\"to\": \"default\", \"via\": \"10.0.0.0/8\"}]}", "plugins.routes.routes[0].via" },
                { "{\"routes\": [{\"to\": \"default\"}]}", "plugins.routes.routes[0]" },
                { "{\"routes\": [{\"to\": \"fd00::/8\", \"via\": \"10.0.0.1\"}]}", "plugins.routes.routes[0]" },
                { "{\"routes\": [{\"to\": \"default\", \"dev\": \"an-interface-name\"}]}", "plugins.routes.routes[0].dev" },
                { "{\"routes\": [{\"to\": \"default\", \"dev\": \"eth1\", \"table\": 255}]}", "plugins.routes.routes[0].table" },
                { "{\"routes\": [{\"to\": \"default\", \"dev\": \"eth1\", \"metric\": -1}]}", "plugins.routes.routes[0].metric" },
                { "{\"routes\": [{\"to\": \"default\", \"dev\": \"eth1\", \"type\": \"nat\"}]}", "plugins.routes.routes[0].type" },
                { "{\"routes\": [{\"to\": \"default\", \"dev\": \"eth1\", \"type\": \"blackhole\"}]}", "plugins.routes.routes[0]" },
                { "{\"routes\": [{\"to\": \"default\", \"dev\": \"eth1\", \"colour\": 1}]}", "plugins.routes.routes[0].colour" },
                { "{\"routes\": [{\"to\": \"default\", \"dev\": \"eth1\"}, {\"to\": \"0.0.0.0/0\", \"via\": \"10.0.0.1\"}]}",
                  "plugins.routes.routes[1]" },
                { "{\"rules\": [{\"table\": 100}]}", "plugins.routes.rules[0].priority" },
                { "{\"rules\": [{\"priority\": 32766, \"table\": 100}]}", "plugins.routes.rules[0].priority" },
                { "{\"rules\": [{\"priority\": 5, \"from\": \"10.0.0.0/8\", \"to\": \"fd00::/8\"}]}", "plugins.routes.rules[0]" },
                { "{\"rules\": [{\"priority\": 5, \"from\": \"10.0.0.0/8\", \"family\": \"ipv6\"}]}",
                  "plugins.routes.rules[0].family" },
                { "{\"rules\": [{\"priority\": 5, \"fwmark\": \"0x10/0\"}]}", "plugins.routes.rules[0].fwmark" },
                { "{\"rules\": [{\"priority\": 5, \"fwmark\": \"mark\"}]}", "plugins.routes.rules[0].fwmark" },
                { "{\"rules\": [{\"priority\": 5, \"iif\": \"a/b\"}]}", "plugins.routes.rules[0].iif" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(diag_done) Diag d = {};
                RtConfig c = {};

                if (parse(&c, cases[i].section, &d) != -EINVAL || !diag_has_error_at(&d, cases[i].path)) {
                        diag_print(&d, stderr, "  ");
                        TEST_FAIL("%s: no error at %s", cases[i].section, cases[i].path);
                }
                rt_config_done(&c);
        }
}

/* A namespace with eth1 (2) and lan1 (3); routes and rules as given. */
static RtLive live_with(const RtnlRoute *routes, size_t n_routes, const RtnlRule *rules, size_t n_rules) {
        RtLive l = {};

        l.links = calloc(2, sizeof(RtnlLink));
        ASSERT_TRUE(l.links != NULL);
        l.links[0] = (RtnlLink) { .ifindex = 2, .name = "eth1" };
        l.links[1] = (RtnlLink) { .ifindex = 3, .name = "lan1" };
        l.n_links = 2;
        l.routes = calloc(n_routes + 1, sizeof(RtnlRoute));
        l.rules = calloc(n_rules + 1, sizeof(RtnlRule));
        ASSERT_TRUE(l.routes && l.rules);
        if (n_routes > 0)
                memcpy(l.routes, routes, n_routes * sizeof(RtnlRoute));
        if (n_rules > 0)
                memcpy(l.rules, rules, n_rules * sizeof(RtnlRule));
        l.n_routes = n_routes;
        l.n_rules = n_rules;
        return l;
}

TEST(test_diff_owned_only) {
        const RtnlRoute routes[] = {
                /* the kernel's connected route, netifd's default route in table 100, someone's static */
                { .family = AF_INET, .table = RT_TABLE_MAIN, .dst = a4("198.51.100.0"), .dst_len = 24, .oif = 2,
                  .protocol = RTPROT_KERNEL, .scope = RT_SCOPE_LINK, .type = RTN_UNICAST },
                { .family = AF_INET, .table = 100, .has_gateway = true, .gateway = a4("198.51.100.1"), .oif = 2,
                  .protocol = RTPROT_STATIC, .type = RTN_UNICAST },
                /* op-router's: one as wanted, one with another gateway, one no longer wanted */
                { .family = AF_INET, .table = RT_TABLE_MAIN, .has_gateway = true, .gateway = a4("198.51.100.1"),
                  .oif = 2, .protocol = RTNL_PROTO_OPDBUS, .type = RTN_UNICAST },
                { .family = AF_INET, .table = RT_TABLE_MAIN, .dst = a4("10.60.0.0"), .dst_len = 16, .priority = 5,
                  .has_gateway = true, .gateway = a4("198.51.100.8"), .oif = 2, .protocol = RTNL_PROTO_OPDBUS,
                  .type = RTN_UNICAST },
                { .family = AF_INET, .table = RT_TABLE_MAIN, .dst = a4("10.70.0.0"), .dst_len = 16, .oif = 3,
                  .protocol = RTNL_PROTO_OPDBUS, .scope = RT_SCOPE_LINK, .type = RTN_UNICAST },
        };
        const RtnlRule rules[] = {
                { .family = AF_INET, .priority = 50, .table = 100, .iif = "eth1", .protocol = RTNL_PROTO_OPDBUS,
                  .action = 1 },
                { .family = AF_INET, .priority = 60, .table = 100, .protocol = RTPROT_STATIC, .action = 1 },
        };
        _cleanup_(rt_live_done) RtLive live = live_with(routes, ELEMENTSOF(routes), rules, ELEMENTSOF(rules));
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(plan_done) Plan plan = {};
        _cleanup_(rt_changes_done) RtChanges ch = {};
        RtConfig c = {};

        parse_ok(&c, "{\"routes\": [{\"to\": \"default\", \"via\": \"198.51.100.1\"},"
                     " {\"to\": \"10.60.0.0/16\", \"via\": \"198.51.100.9\", \"metric\": 5},"
                     " {\"to\": \"10.80.0.0/16\", \"dev\": \"lan1\", \"table\": 100}],"
                     " \"rules\": [{\"priority\": 70, \"iif\": \"lan1\", \"table\": 100, \"family\": \"ipv4\"}]}");
        ASSERT_EQ(rt_diff(&c, &live, &ch, &plan, &d), 0);
        ASSERT_EQ(diag_count(&d, DIAG_ERROR), 0);
        /* deletions of rules, of routes, replacements, additions of routes, of rules */
        ASSERT_EQ(ch.n_ops, 5);
        ASSERT_EQ(ch.ops[0].type, RT_DELETE_RULE);
        ASSERT_EQ(ch.ops[0].rule.priority, 50);
        ASSERT_EQ(ch.ops[1].type, RT_DELETE_ROUTE);
        ASSERT_EQ(ch.ops[1].route.dst.bytes[1], 70);
        ASSERT_EQ(ch.ops[2].type, RT_REPLACE_ROUTE);
        ASSERT_EQ(ch.ops[2].route.gateway.bytes[3], 9);
        ASSERT_EQ(ch.ops[3].type, RT_ADD_ROUTE);
        ASSERT_EQ(ch.ops[3].route.oif, 3);
        ASSERT_EQ(ch.ops[3].route.scope, RT_SCOPE_LINK);
        ASSERT_EQ(ch.ops[3].route.protocol, RTNL_PROTO_OPDBUS);
        ASSERT_EQ(ch.ops[4].type, RT_ADD_RULE);
        ASSERT_EQ(plan.n_actions, 5);
        ASSERT_STREQ(plan.actions[0].path, "10.60.0.0/16 via 198.51.100.9 metric 5");
        ASSERT_TRUE(plan.actions[0].kind == ACTION_MODIFY);
        ASSERT_STREQ(plan.actions[0].detail, "change route, was 10.60.0.0/16 via 198.51.100.8 dev eth1 metric 5");
        ASSERT_TRUE(plan.actions[0].impact == IMPACT_LAN_OUTAGE);

        /* without the section nothing is managed; with an empty one the
         * owned routes and rules go, and the default route's removal is
         * an outage */
        rt_changes_done(&ch);
        plan_done(&plan);
        parse_ok(&c, "{}");
        ASSERT_EQ(rt_diff(&c, &live, &ch, &plan, &d), 0);
        ASSERT_EQ(ch.n_ops, 4);
        for (size_t i = 0; i < ch.n_ops; i++)
                ASSERT_TRUE(ch.ops[i].type == RT_DELETE_ROUTE ? ch.ops[i].route.protocol == RTNL_PROTO_OPDBUS :
                            ch.ops[i].type == RT_DELETE_RULE && ch.ops[i].rule.protocol == RTNL_PROTO_OPDBUS);
        ASSERT_STREQ(plan.actions[0].path, "default via 198.51.100.1 dev eth1");
        ASSERT_TRUE(plan.actions[0].outage != NULL && plan.actions[0].impact == IMPACT_WAN_OUTAGE);
        ASSERT_TRUE(plan.actions[1].outage == NULL);
        rt_changes_done(&ch);
        plan_done(&plan);
        rt_config_done(&c);
        ASSERT_EQ(rt_diff(&c, &live, &ch, &plan, &d), 0);
        ASSERT_EQ(ch.n_ops, 0);
}

TEST(test_diff_conflicts) {
        const RtnlRoute routes[] = {
                { .family = AF_INET, .table = 100, .has_gateway = true, .gateway = a4("198.51.100.1"), .oif = 2,
                  .protocol = RTPROT_STATIC, .type = RTN_UNICAST },
        };
        const RtnlRule rules[] = {
                { .family = AF_INET, .priority = 60, .table = 100, .iif = "lan1", .protocol = RTPROT_STATIC,
                  .action = 1 },
        };
        _cleanup_(rt_live_done) RtLive live = live_with(routes, ELEMENTSOF(routes), rules, ELEMENTSOF(rules));
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(plan_done) Plan plan = {};
        _cleanup_(rt_changes_done) RtChanges ch = {};
        RtConfig c = {};

        parse_ok(&c, "{\"routes\": [{\"to\": \"default\", \"via\": \"198.51.100.2\", \"table\": 100},"
                     " {\"to\": \"10.1.0.0/16\", \"dev\": \"wg0\"}],"
                     " \"rules\": [{\"priority\": 60, \"iif\": \"lan1\", \"table\": 100, \"family\": \"ipv4\"}]}");
        ASSERT_EQ(rt_diff(&c, &live, &ch, &plan, &d), -EINVAL);
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.routes.routes[0]"));
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.routes.routes[1].dev"));
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.routes.rules[0]"));
        ASSERT_CONTAINS(d.entries[0].message, "(protocol 4) is not op-router's");
        rt_config_done(&c);
}

TEST(test_diff_declared_link) {
        _cleanup_(rt_live_done) RtLive live = live_with(NULL, 0, NULL, 0);
        _cleanup_(json_object_putp) json_object *ifs = json_from_text("{\"bridges\": [{\"name\": \"br-lan\"}]}");
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(plan_done) Plan plan = {};
        _cleanup_(rt_changes_done) RtChanges ch = {};
        RtConfig c = {};

        /* a link the interfaces section makes: named, looked up when sent */
        parse_ok(&c, "{\"routes\": [{\"to\": \"10.8.0.0/16\", \"dev\": \"br-lan\"}]}");
        ASSERT_EQ(rt_config_declare(&c, ifs), 0);
        ASSERT_EQ(rt_diff(&c, &live, &ch, &plan, &d), 0);
        ASSERT_EQ(ch.n_ops, 1);
        ASSERT_EQ(ch.ops[0].type, RT_ADD_ROUTE);
        ASSERT_STREQ(ch.ops[0].dev, "br-lan");
        ASSERT_EQ(ch.ops[0].route.oif, 0);
        rt_changes_done(&ch);
        plan_done(&plan);
        /* without it: not on this router */
        parse_ok(&c, "{\"routes\": [{\"to\": \"10.8.0.0/16\", \"dev\": \"br-lan\"}]}");
        ASSERT_EQ(rt_diff(&c, &live, &ch, &plan, &d), -EINVAL);
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.routes.routes[0].dev"));
        rt_config_done(&c);
}

TEST(test_live_as_section_diffs_to_nothing) {
        const RtnlRoute routes[] = {
                { .family = AF_INET, .table = RT_TABLE_MAIN, .has_gateway = true, .gateway = a4("198.51.100.1"),
                  .oif = 2, .protocol = RTNL_PROTO_OPDBUS, .type = RTN_UNICAST },
                { .family = AF_INET, .table = 100, .priority = 9, .protocol = RTNL_PROTO_OPDBUS, .type = RTN_BLACKHOLE },
                { .family = AF_INET, .table = 100, .dst = a4("10.70.0.0"), .dst_len = 24, .oif = 3,
                  .protocol = RTNL_PROTO_OPDBUS, .scope = RT_SCOPE_LINK, .type = RTN_UNICAST },
                { .family = AF_INET, .table = RT_TABLE_MAIN, .dst = a4("10.9.0.0"), .dst_len = 16, .oif = 3,
                  .protocol = RTPROT_BOOT, .scope = RT_SCOPE_LINK, .type = RTN_UNICAST },
        };
        const RtnlRule rules[] = {
                { .family = AF_INET, .priority = 50, .table = 100, .iif = "eth1", .src = a4("10.1.0.0"), .src_len = 16,
                  .has_fwmark = true, .fwmark = 16, .fwmask = 255, .protocol = RTNL_PROTO_OPDBUS, .action = 1 },
        };
        _cleanup_(rt_live_done) RtLive live = live_with(routes, ELEMENTSOF(routes), rules, ELEMENTSOF(rules));
        _cleanup_(json_object_putp) json_object *section = NULL;
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(plan_done) Plan plan = {};
        _cleanup_(rt_changes_done) RtChanges ch = {};
        RtConfig c = {};

        ASSERT_EQ(rt_live_to_json(&live, &section), 0);
        ASSERT_EQ(json_object_array_length(json_object_object_get(section, "routes")), 3);
        ASSERT_EQ(rt_parse(&c, section, &d), 0);
        ASSERT_EQ(rt_diff(&c, &live, &ch, &plan, &d), 0);
        ASSERT_EQ(ch.n_ops, 0);
        ASSERT_EQ(diag_count(&d, DIAG_ERROR), 0);
        rt_config_done(&c);
}

int main(void) {
        RUN(test_parse_model);
        RUN(test_parse_errors);
        RUN(test_diff_owned_only);
        RUN(test_diff_conflicts);
        RUN(test_diff_declared_link);
        RUN(test_live_as_section_diffs_to_nothing);
        return 0;
}
