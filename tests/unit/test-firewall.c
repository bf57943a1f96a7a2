/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The router's firewall plugin without a kernel: the section parsed (every
 * error at its JSON path, all of them), the table it compiles to (the
 * baseline before anything else, masquerade scoped to the zone's
 * interfaces, the kill switch before established flows), the checks that
 * need the host, and the plan against a table as a dump reads it (nothing
 * for the same section; rule-level actions with the impact a router
 * operator reads). What the kernel does with it: tests/integration/
 * test_router_firewall.py. */
#include <arpa/inet.h>
#include <stdio.h>

#include "firewall.h"
#include "json-util.h"
#include "router.h"
#include "router-tests.h"

static int parse(FwConfig *c, const char *section, Diag *d) {
        _cleanup_(json_object_putp) json_object *o = json_from_text(section);

        return fw_parse(c, o, d);
}

static void parse_ok(FwConfig *c, const char *section) {
        _cleanup_(diag_done) Diag d = {};

        if (parse(c, section, &d) < 0 || diag_count(&d, DIAG_ERROR) > 0) {
                diag_print(&d, stderr, "  ");
                TEST_FAIL("refused: %s", section);
        }
}

#define ZONES "\"zones\": [{\"name\": \"lan\", \"interfaces\": [\"lan1\", \"lan2\"], \"input\": \"accept\", \"forward\": \"accept\"}," \
              " {\"name\": \"wan\", \"interfaces\": [\"eth1\"], \"masquerade\": true}," \
              " {\"name\": \"guest\", \"interfaces\": [\"lan5\"]}," \
              " {\"name\": \"vpn\", \"interfaces\": [\"wg0\"], \"masquerade\": true}]"

TEST(test_parse_defaults) {
        FwConfig c = {};

        parse_ok(&c, "{\"zones\": [{\"name\": \"lan\", \"interfaces\": [\"br-lan\", \"wg*\"]}]}");
        ASSERT_TRUE(c.present);
        ASSERT_EQ(c.defaults[FW_INPUT], FW_DROP);
        ASSERT_EQ(c.defaults[FW_FORWARD], FW_DROP);
        ASSERT_EQ(c.defaults[FW_OUTPUT], FW_ACCEPT);
        ASSERT_EQ(c.n_zones, 1);
        ASSERT_EQ(c.zones[0].input, FW_DROP);
        ASSERT_EQ(c.zones[0].forward, FW_DROP);
        ASSERT_EQ(c.zones[0].output, FW_ACCEPT);
        ASSERT_TRUE(!c.zones[0].masquerade);
        ASSERT_EQ(c.zones[0].kill_switch, -1);
        ASSERT_TRUE(fw_ifname_matches("wg*", "wg0") && !fw_ifname_matches("wg*", "eth1"));
        fw_config_done(&c);

        /* an empty section owns nothing: the table goes */
        parse_ok(&c, "{}");
        ASSERT_TRUE(!c.present);
        fw_config_done(&c);
}

TEST(test_parse_rule_model) {
        FwConfig c = {};
        const FwRule *r;

        parse_ok(&c, "{" ZONES ", \"sets\": [{\"name\": \"admins\", \"type\": \"ipv6_addr\", \"elements\": [\"fd00::/64\"]},"
                     " {\"name\": \"web\", \"type\": \"inet_service\", \"elements\": [80, \"8000-8099\"]}],"
                     " \"rules\": [{\"name\": \"ssh\", \"from\": \"wan\", \"proto\": [\"tcp\", \"udp\"], \"dest_port\": \"22-23\","
                     "  \"src_set\": \"admins\", \"action\": \"reject\", \"limit\": {\"rate\": 10, \"per\": \"minute\", \"burst\": 5},"
                     "  \"log\": true, \"counter\": true},"
                     " {\"name\": \"ping\", \"from\": \"wan\", \"proto\": \"icmp\", \"icmp_type\": \"echo-request\", \"action\": \"accept\"},"
                     " {\"name\": \"out\", \"to\": \"wan\", \"dest\": \"10.0.0.1/32\", \"action\": \"drop\", \"enabled\": false}]}");
        r = &c.rules[0];
        ASSERT_STREQ(r->path, "plugins.firewall.rules[0]");
        ASSERT_EQ(r->from, 1);
        ASSERT_EQ(r->to, -1);
        ASSERT_EQ(r->protos, FW_PROTO_TCP | FW_PROTO_UDP);
        ASSERT_STREQ(r->dest_port, "22-23");
        ASSERT_EQ(r->src_set, 0);
        ASSERT_EQ(r->family, AF_INET6);
        ASSERT_EQ(r->action, FW_REJECT);
        ASSERT_TRUE(r->has_limit && r->limit.rate == 10 && r->limit.unit == NFT_PER_MINUTE && r->limit.burst == 5);
        ASSERT_TRUE(r->log && r->counter && r->enabled);
        r = &c.rules[1];
        ASSERT_EQ(r->family, AF_INET);
        ASSERT_STREQ(r->icmp_type, "echo-request");
        r = &c.rules[2];
        ASSERT_EQ(r->from, -1);
        ASSERT_EQ(r->to, 1);
        ASSERT_STREQ(r->dest->text, "10.0.0.1");
        ASSERT_TRUE(!r->enabled);
        ASSERT_EQ(c.sets[1].n_elements, 2);
        ASSERT_STREQ(c.sets[1].elements[0], "80");
        fw_config_done(&c);
}

/* Each document is refused, with an error at the path given (and all its
 * errors on that path's branch). */
TEST(test_parse_errors) {
        static const struct {
                const char *section, *path;
        } cases[] = {
                { "{\"zone\": []}", "plugins.firewall.zone" },
                { "{\"zones\": {}}", "plugins.firewall.zones" },
                { "{\"zones\": [{\"name\": \"lan\", \"colour\": \"red\"}]}", "plugins.firewall.zones[0].colour" },
                { "{\"zones\": [{\"name\": \"lan\", \"interfaces\": [\"averyveryverylong\"]}]}",
                  "plugins.firewall.zones[0].interfaces[0]" },
                { "{\"zones\": [{\"name\": \"lan\", \"interfaces\": [7]}]}", "plugins.firewall.zones[0].interfaces[0]" },
                { "{\"zones\": [{\"name\": \"lan\", \"input\": \"acept\"}]}", "plugins.firewall.zones[0].input" },
                { "{\"zones\": [{\"name\": \"lan\", \"masquerade\": \"yes\"}]}", "plugins.firewall.zones[0].masquerade" },
                { "{\"zones\": [{\"name\": \"a:b\"}]}", "plugins.firewall.zones[0].name" },
                { "{\"zones\": [{\"name\": \"lan\"}, {\"name\": \"lan\"}]}", "plugins.firewall.zones[1].name" },
                { "{\"zones\": [{\"name\": \"lan\", \"subnets\": [\"10.0.1.1/24\"]}]}", "plugins.firewall.zones[0].subnets[0]" },
                { "{\"zones\": [{\"name\": \"a\", \"interfaces\": [\"eth1\"]}, {\"name\": \"b\", \"interfaces\": [\"eth1\"]}]}",
                  "plugins.firewall.zones[1].interfaces[0]" },
                { "{" ZONES ", \"forwardings\": [{\"from\": \"lan\", \"to\": \"dmz\"}]}", "plugins.firewall.forwardings[0].to" },
                { "{" ZONES ", \"forwardings\": [{\"from\": \"lan\", \"to\": \"lan\"}]}", "plugins.firewall.forwardings[0]" },
                { "{" ZONES ", \"forwardings\": [{\"from\": \"lan\", \"to\": \"wan\"}, {\"from\": \"lan\", \"to\": \"wan\"}]}",
                  "plugins.firewall.forwardings[1]" },
                { "{" ZONES ", \"rules\": [{\"name\": \"x\", \"from\": \"dmz\", \"action\": \"accept\"}]}",
                  "plugins.firewall.rules[0].from" },
                { "{" ZONES ", \"rules\": [{\"name\": \"x\", \"action\": \"accept\"}]}", "plugins.firewall.rules[0]" },
                { "{" ZONES ", \"rules\": [{\"name\": \"x\", \"from\": \"lan\"}]}", "plugins.firewall.rules[0].action" },
                { "{" ZONES ", \"rules\": [{\"name\": \"x\", \"from\": \"lan\", \"dest\": \"10.0.0.0/33\", \"action\": \"drop\"}]}",
                  "plugins.firewall.rules[0].dest" },
                { "{" ZONES ", \"rules\": [{\"name\": \"x\", \"from\": \"lan\", \"src\": \"10.1.2.3/8\", \"action\": \"drop\"}]}",
                  "plugins.firewall.rules[0].src" },
                { "{" ZONES ", \"rules\": [{\"name\": \"x\", \"from\": \"lan\", \"dest_port\": 22, \"action\": \"drop\"}]}",
                  "plugins.firewall.rules[0].dest_port" },
                { "{" ZONES ", \"rules\": [{\"name\": \"x\", \"from\": \"lan\", \"proto\": \"tcp\", \"dest_port\": 70000, \"action\": \"drop\"}]}",
                  "plugins.firewall.rules[0].dest_port" },
                { "{" ZONES ", \"rules\": [{\"name\": \"x\", \"from\": \"lan\", \"proto\": \"tcp\", \"icmp_type\": 8, \"action\": \"drop\"}]}",
                  "plugins.firewall.rules[0].icmp_type" },
                { "{" ZONES ", \"rules\": [{\"name\": \"x\", \"from\": \"lan\", \"src\": \"10.0.0.1\", \"dest\": \"fd00::1\", \"action\": \"drop\"}]}",
                  "plugins.firewall.rules[0].dest" },
                { "{" ZONES ", \"rules\": [{\"name\": \"x\", \"from\": \"lan\", \"proto\": \"sctp\", \"action\": \"drop\"}]}",
                  "plugins.firewall.rules[0].proto" },
                { "{" ZONES ", \"rules\": [{\"name\": \"x\", \"from\": \"lan\", \"src_set\": \"none\", \"action\": \"drop\"}]}",
                  "plugins.firewall.rules[0].src_set" },
                { "{" ZONES ", \"rules\": [{\"name\": \"x\", \"from\": \"lan\", \"action\": \"drop\"}, {\"name\": \"x\", \"from\": \"lan\", \"action\": \"drop\"}]}",
                  "plugins.firewall.rules[1].name" },
                { "{" ZONES ", \"rules\": [{\"name\": \"x\", \"from\": \"lan\", \"limit\": {\"rate\": 0, \"per\": \"second\"}, \"action\": \"drop\"}]}",
                  "plugins.firewall.rules[0].limit.rate" },
                { "{\"sets\": [{\"name\": \"s\", \"type\": \"ipv4_addr\", \"elements\": [\"fd00::1\"]}]}",
                  "plugins.firewall.sets[0].elements[0]" },
                { "{\"sets\": [{\"name\": \"s\", \"type\": \"mac\"}]}", "plugins.firewall.sets[0].type" },
                { "{\"sets\": [{\"name\": \"s\", \"type\": \"ipv4_addr\"}, {\"name\": \"s\", \"type\": \"ipv4_addr\"}]}",
                  "plugins.firewall.sets[1].name" },
                { "{" ZONES ", \"port_forwards\": [{\"name\": \"w\", \"from\": \"wan\", \"proto\": \"tcp\", \"external_port\": 80, \"to\": \"10.0.0.300:80\"}]}",
                  "plugins.firewall.port_forwards[0].to" },
                { "{" ZONES ", \"port_forwards\": [{\"name\": \"w\", \"from\": \"wan\", \"proto\": \"icmp\", \"external_port\": 80, \"to\": \"10.0.0.3\"}]}",
                  "plugins.firewall.port_forwards[0].proto" },
                { "{" ZONES ", \"port_forwards\": [{\"name\": \"w\", \"from\": \"wan\", \"proto\": \"tcp\", \"external_port\": \"80-90\", \"to\": \"10.0.0.3:80\"}]}",
                  "plugins.firewall.port_forwards[0].to" },
                { "{" ZONES ", \"port_forwards\": [{\"name\": \"w\", \"from\": \"mars\", \"proto\": \"tcp\", \"external_port\": 80, \"to\": \"10.0.0.3\"}]}",
                  "plugins.firewall.port_forwards[0].from" },
                { "{" ZONES ", \"kill_switch\": [{\"zone\": \"guest\", \"tunnel\": \"lan5\"}]}", "plugins.firewall.kill_switch[0].tunnel" },
                { "{" ZONES ", \"kill_switch\": [{\"zone\": \"guest\", \"tunnel\": \"wg0\", \"dns\": \"10.0.0.0/8\"}]}",
                  "plugins.firewall.kill_switch[0].dns" },
                { "{" ZONES ", \"kill_switch\": [{\"zone\": \"guest\", \"tunnel\": \"wg0\"}, {\"zone\": \"guest\", \"tunnel\": \"wg1\"}]}",
                  "plugins.firewall.kill_switch[1]" },
                /* the contradiction: a kill switch, and a way out of the WAN */
                { "{" ZONES ", \"forwardings\": [{\"from\": \"guest\", \"to\": \"vpn\"}, {\"from\": \"guest\", \"to\": \"wan\"}],"
                  " \"kill_switch\": [{\"zone\": \"guest\", \"tunnel\": \"wg0\"}]}", "plugins.firewall.forwardings[1]" },
                { "{" ZONES ", \"rules\": [{\"name\": \"leak\", \"from\": \"guest\", \"to\": \"wan\", \"action\": \"accept\"}],"
                  " \"kill_switch\": [{\"zone\": \"guest\", \"tunnel\": \"wg0\"}]}", "plugins.firewall.rules[0]" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(diag_done) Diag d = {};
                FwConfig c = {};
                bool found = false;

                if (parse(&c, cases[i].section, &d) >= 0) {
                        fw_config_done(&c);
                        TEST_FAIL("accepted: %s", cases[i].section);
                }
                for (size_t k = 0; k < d.n_entries; k++) {
                        if (d.entries[k].level != DIAG_ERROR)
                                continue;
                        if (streq(d.entries[k].path, cases[i].path))
                                found = true;
                        else if (!startswith(cases[i].path, d.entries[k].path)) {
                                diag_print(&d, stderr, "  ");
                                TEST_FAIL("%s: a stray error, expected one at %s", cases[i].section, cases[i].path);
                        }
                }
                if (!found) {
                        diag_print(&d, stderr, "  ");
                        TEST_FAIL("%s: no error at %s", cases[i].section, cases[i].path);
                }
                fw_config_done(&c);
        }
}

/* Every error at once. */
TEST(test_parse_reports_every_error) {
        _cleanup_(diag_done) Diag d = {};
        FwConfig c = {};

        ASSERT_EQ(parse(&c, "{\"zones\": [{\"name\": \"lan\", \"input\": 1, \"bogus\": 2}], \"rules\": [{\"name\": \"r\", "
                        "\"from\": \"x\", \"action\": \"maybe\"}]}", &d), -EINVAL);
        ASSERT_EQ(diag_count(&d, DIAG_ERROR), 4);
        fw_config_done(&c);
}

/* ---- compiling ------------------------------------------------------------------ */

static NftChain *chain(const FwCompiled *out, const char *name) {
        NftTable *t = nft_ruleset_find_table(out->ruleset, FW_FAMILY, FW_TABLE);
        NftChain *c = t ? nft_table_find_chain(t, name) : NULL;

        if (!c)
                TEST_FAIL("no chain %s", name);
        return c;
}

static const char *rule_name(const FwCompiled *out, const char *ch, size_t i) {
        NftChain *c = chain(out, ch);

        if (i >= nft_chain_n_rules(c))
                TEST_FAIL("chain %s has %zu rules, not %zu", ch, nft_chain_n_rules(c), i + 1);
        return nft_rule_name(nft_chain_rule(c, i));
}

static ssize_t rule_index(const FwCompiled *out, const char *ch, const char *name) {
        NftChain *c = chain(out, ch);

        for (size_t i = 0; i < nft_chain_n_rules(c); i++)
                if (streq_ptr(nft_rule_name(nft_chain_rule(c, i)), name))
                        return (ssize_t) i;
        return -1;
}

static char *rule_text(const FwCompiled *out, const char *ch, const char *name) {
        static char buf[2048];
        _cleanup_(freep) char *s = NULL;
        ssize_t i = rule_index(out, ch, name);

        if (i < 0)
                TEST_FAIL("no rule %s in chain %s", name, ch);
        ASSERT_EQ(nft_rule_to_string(nft_chain_rule(chain(out, ch), (size_t) i), &s), 0);
        snprintf(buf, sizeof buf, "%s", s);
        return buf;
}

static void compile_ok(const FwConfig *c, const FwFacts *facts, FwCompiled *out) {
        _cleanup_(diag_done) Diag d = {};

        if (fw_compile(c, facts, out, &d) < 0) {
                diag_print(&d, stderr, "  ");
                TEST_FAIL("does not compile");
        }
}

#define KILL_SWITCH "{" ZONES ", \"forwardings\": [{\"from\": \"lan\", \"to\": \"wan\"}, {\"from\": \"guest\", \"to\": \"vpn\"}]," \
                    " \"kill_switch\": [{\"zone\": \"guest\", \"tunnel\": \"wg0\", \"dns\": \"192.0.2.53\"}]}"

TEST(test_compile_baseline_first) {
        FwConfig c = {};
        FwCompiled out = {};
        NftChainSpec spec;

        parse_ok(&c, KILL_SWITCH);
        compile_ok(&c, NULL, &out);

        /* the drop policies and the baseline are in the same table, made
         * by the same batch */
        ASSERT_EQ(nft_chain_spec(chain(&out, "input"), &spec), 0);
        ASSERT_EQ(spec.policy, NFT_POLICY_DROP);
        ASSERT_EQ(nft_chain_spec(chain(&out, "forward"), &spec), 0);
        ASSERT_EQ(spec.policy, NFT_POLICY_DROP);
        ASSERT_EQ(spec.hook, NFT_HOOK_FORWARD);
        ASSERT_EQ(spec.priority, 0);
        ASSERT_EQ(nft_chain_spec(chain(&out, "output"), &spec), 0);
        ASSERT_EQ(spec.policy, NFT_POLICY_ACCEPT);

        /* input: the kill switch's DNS refusals, loopback, ICMPv6 that IPv6
         * needs, established, invalid; then the zones */
        ASSERT_STREQ(rule_name(&out, "input", 0), "dns:lan5:tcp:53");
        ASSERT_TRUE(rule_index(&out, "input", "base:lo") < rule_index(&out, "input", "base:icmpv6:nd-neighbor-solicit"));
        ASSERT_TRUE(rule_index(&out, "input", "base:icmpv6:nd-neighbor-solicit") < rule_index(&out, "input", "base:established"));
        ASSERT_TRUE(rule_index(&out, "input", "base:icmpv6:mld2-listener-report") >= 0);
        ASSERT_TRUE(rule_index(&out, "input", "base:established") < rule_index(&out, "input", "base:invalid"));
        ASSERT_TRUE(rule_index(&out, "input", "base:invalid") < rule_index(&out, "input", "zone:lan:lan1"));

        /* forward: the kill switch before anything lets a packet through,
         * established flows included; the MSS clamp before established */
        ASSERT_STREQ(rule_name(&out, "forward", 0), "kill:lan5");
        ASSERT_CONTAINS(rule_text(&out, "forward", "kill:lan5"), "op 1 data 0x77673000");      /* oifname != "wg0" */
        ASSERT_TRUE(rule_index(&out, "forward", "base:icmpv6:packet-too-big") == 1);
        ASSERT_TRUE(rule_index(&out, "forward", "base:mss-clamp") < rule_index(&out, "forward", "base:established"));
        ASSERT_TRUE(rule_index(&out, "forward", "base:established") < rule_index(&out, "forward", "zone:guest:lan5"));

        /* masquerade: IPv4, and only out of the zone's interfaces */
        ASSERT_EQ(nft_chain_n_rules(chain(&out, "srcnat")), 2);
        ASSERT_STREQ(rule_name(&out, "srcnat", 0), "masq:eth1");
        ASSERT_CONTAINS(rule_text(&out, "srcnat", "masq:eth1"),
                        "[ meta key 7 dreg 1 ] [ cmp sreg 1 op 0 data 0x65746831"); /* oifname "eth1" */
        ASSERT_CONTAINS(rule_text(&out, "srcnat", "masq:eth1"),
                        "[ meta key 15 dreg 1 ] [ cmp sreg 1 op 0 data 0x02 ] [ masq ]"); /* IPv4 */
        ASSERT_STREQ(rule_name(&out, "srcnat", 1), "masq:wg0");

        /* the zones: forwardings, then the policy between the zone's own interfaces */
        ASSERT_STREQ(rule_name(&out, "forward_lan", 0), "fwd:wan:eth1");
        ASSERT_STREQ(rule_name(&out, "forward_lan", 1), "policy:lan1");
        ASSERT_STREQ(rule_name(&out, "input_lan", 0), "policy");
        ASSERT_STREQ(nft_rule_comment(nft_chain_rule(chain(&out, "input_lan"), 0)), "lan: input accept");
        /* DNS of the kill-switched zone goes to its resolver behind the tunnel */
        ASSERT_TRUE(rule_index(&out, "dstnat", "dns:lan5:udp") >= 0);
        ASSERT_TRUE(rule_index(&out, "forward_guest", "dns:udp") >= 0);

        fw_compiled_done(&out);
        fw_config_done(&c);

        /* no section content: the table is disowned */
        parse_ok(&c, "{}");
        compile_ok(&c, NULL, &out);
        ASSERT_TRUE(!nft_table_present(nft_ruleset_find_table(out.ruleset, FW_FAMILY, FW_TABLE)));
        fw_compiled_done(&out);
        fw_config_done(&c);
}

TEST(test_compile_rules_and_port_forwards) {
        FwConfig c = {};
        FwCompiled out = {};
        FwHostInterface wan = { .name = (char *) "eth1", .n_addresses = 1 };
        FwPrefix local = {}, net = {};
        FwHost host = { .interfaces = &wan, .n_interfaces = 1 };
        int cover[] = { 0 };
        FwFacts facts = { .host = &host, .cover = cover };

        ASSERT_EQ(fw_prefix_parse("198.51.100.1", &local), 0);
        ASSERT_EQ(fw_prefix_parse("198.51.100.0/24", &net), 0);
        wan.local = &local;
        wan.addresses = &net;
        parse_ok(&c, "{" ZONES ", \"rules\": [{\"name\": \"dns\", \"from\": \"lan\", \"to\": \"wan\", \"proto\": [\"tcp\", \"udp\"],"
                     " \"dest_port\": 53, \"action\": \"drop\"}],"
                     " \"port_forwards\": [{\"name\": \"web\", \"from\": \"wan\", \"proto\": \"tcp\", \"external_port\": 8080,"
                     " \"to\": \"10.0.1.10:80\", \"reflection\": true}]}");
        compile_ok(&c, &facts, &out);
        /* one rule per interface of the zone it goes to and per protocol */
        ASSERT_STREQ(rule_name(&out, "forward_lan", 0), "rule:dns:eth1:tcp");
        ASSERT_STREQ(rule_name(&out, "forward_lan", 1), "rule:dns:eth1:udp");
        ASSERT_STREQ(rule_name(&out, "forward_lan", 2), "pf:web:tcp");   /* reflection: lan reaches it */
        ASSERT_STREQ(rule_name(&out, "dstnat", 0), "pf:web:eth1:tcp");
        ASSERT_STREQ(rule_name(&out, "dstnat", 1), "reflect:web:lan1:tcp:0");
        ASSERT_CONTAINS(rule_text(&out, "dstnat", "reflect:web:lan1:tcp:0"), "0xc6336401 ]");   /* 198.51.100.1 */
        ASSERT_STREQ(rule_name(&out, "srcnat", 0), "reflect:web:lan1:tcp");
        ASSERT_STREQ(rule_name(&out, "forward_wan", 0), "pf:web:tcp");
        ASSERT_STREQ(fw_compiled_path(&out, "rule inet op-router forward_lan #1 \"rule:dns:eth1:tcp\""),
                     "plugins.firewall.rules[0]");
        ASSERT_STREQ(fw_compiled_path(&out, "chain inet op-router x"), "plugins.firewall");
        fw_compiled_done(&out);
        fw_config_done(&c);
        fw_prefix_done(&local);
        fw_prefix_done(&net);
}

/* ---- what needs the host ------------------------------------------------------ */

TEST(test_check_host) {
        FwConfig c = {};
        FwHostInterface ifs[3] = { { .name = (char *) "lan1" }, { .name = (char *) "eth1" }, { .name = (char *) "lan5" } };
        FwPrefix local = {}, net = {};
        FwHost host = { .interfaces = ifs, .n_interfaces = 3 };
        FwFacts facts = { .host = &host };
        char *declared[] = { (char *) "br-lan", NULL };
        _cleanup_(diag_done) Diag d = {};

        ASSERT_EQ(fw_prefix_parse("10.0.1.1", &local), 0);
        ASSERT_EQ(fw_prefix_parse("10.0.1.0/24", &net), 0);
        ifs[0].local = &local;
        ifs[0].addresses = &net;
        ifs[0].n_addresses = 1;
        /* lan2 and wg0 are not on the host: wg0 is a kill switch's tunnel,
         * which comes and goes; br-lan is created by another section */
        parse_ok(&c, "{\"zones\": [{\"name\": \"lan\", \"interfaces\": [\"lan1\", \"lan2\", \"br-lan\", \"veth*\"]},"
                     " {\"name\": \"wan\", \"interfaces\": [\"eth1\"], \"masquerade\": true},"
                     " {\"name\": \"guest\", \"interfaces\": [\"lan5\"], \"subnets\": [\"10.0.5.0/24\"]},"
                     " {\"name\": \"vpn\", \"interfaces\": [\"wg0\"], \"masquerade\": true}],"
                     " \"port_forwards\": [{\"name\": \"a\", \"from\": \"wan\", \"proto\": \"tcp\", \"external_port\": 1, \"to\": \"10.0.1.7\"},"
                     " {\"name\": \"b\", \"from\": \"wan\", \"proto\": \"tcp\", \"external_port\": 2, \"to\": \"10.0.9.7\"},"
                     " {\"name\": \"c\", \"from\": \"wan\", \"proto\": \"tcp\", \"external_port\": 3, \"to\": \"10.0.5.7\"}],"
                     " \"kill_switch\": [{\"zone\": \"guest\", \"tunnel\": \"wg0\"}]}");
        ASSERT_EQ(fw_check_host(&c, declared, &facts, &d), -EINVAL);
        ASSERT_EQ(diag_count(&d, DIAG_ERROR), 3);
        ASSERT_STREQ(d.entries[0].path, "plugins.firewall.zones[0].interfaces[1]");
        ASSERT_CONTAINS(d.entries[0].message, "interface lan2 is not on this router");
        ASSERT_CONTAINS(d.entries[0].message, "this router has: lan1, eth1, lan5");
        ASSERT_STREQ(d.entries[1].path, "plugins.firewall.port_forwards[1].to");
        ASSERT_STREQ(d.entries[2].path, "plugins.firewall.port_forwards[2].to");
        ASSERT_CONTAINS(d.entries[2].message, "the answers to zone wan would be dropped");
        ASSERT_EQ(facts.cover[0], 0);
        ASSERT_EQ(facts.cover[1], -1);
        ASSERT_EQ(facts.cover[2], 2);
        free(facts.cover);
        fw_config_done(&c);
        fw_prefix_done(&local);
        fw_prefix_done(&net);
}

/* ---- the plan ------------------------------------------------------------------ */

static void plan_of(const char *before, const char *after, Plan *out) {
        _cleanup_(nft_ruleset_freep) NftRuleset *live = NULL;
        _cleanup_(nft_plan_freep) NftPlan *plan = NULL;
        FwConfig a = {}, b = {};
        FwCompiled ca = {}, cb = {};
        NftError e = {};

        parse_ok(&a, before);
        parse_ok(&b, after);
        compile_ok(&a, NULL, &ca);
        compile_ok(&b, NULL, &cb);
        ASSERT_EQ(nft_ruleset_as_dumped(ca.ruleset, &live), 0);
        if (nft_plan_new(cb.ruleset, live, &plan, &e) < 0)
                TEST_FAIL("no plan: %s %s", strna(e.object), strna(e.detail));
        ASSERT_EQ(fw_plan_actions(plan, &b, live, out), 0);
        plan = nft_plan_free(plan);
        fw_compiled_done(&ca);
        fw_compiled_done(&cb);
        fw_config_done(&a);
        fw_config_done(&b);
}

static const PlanAction *action(const Plan *p, const char *path) {
        for (size_t i = 0; i < p->n_actions; i++)
                if (streq(p->actions[i].path, path))
                        return &p->actions[i];
        TEST_FAIL("no action at %s", path);
}

#define FORWARDING "{" ZONES ", \"forwardings\": [{\"from\": \"lan\", \"to\": \"wan\"}]}"

TEST(test_plan) {
        _cleanup_(plan_done) Plan same = {}, cut = {}, tighter = {}, added = {};
        const PlanAction *a;

        /* the same section: nothing to do */
        plan_of(FORWARDING, FORWARDING, &same);
        ASSERT_EQ(same.n_actions, 0);

        /* a forwarding to a masquerading zone goes: the LAN loses the WAN */
        plan_of(FORWARDING, "{" ZONES "}", &cut);
        ASSERT_EQ(cut.n_actions, 1);
        a = action(&cut, "rule/forward_lan/fwd:wan:eth1");
        ASSERT_EQ(a->kind, ACTION_DELETE);
        ASSERT_TRUE(a->impact == IMPACT_WAN_OUTAGE);
        ASSERT_STREQ(a->outage, "cut zone lan off from zone wan (out of eth1)");
        ASSERT_CONTAINS(a->detail, "lan -> wan: accept");

        /* the LAN's input policy closes: the LAN loses the router; the
         * same for the WAN is a firewall change */
        plan_of(FORWARDING, "{\"zones\": [{\"name\": \"lan\", \"interfaces\": [\"lan1\", \"lan2\"], \"input\": \"drop\", \"forward\": \"accept\"},"
                " {\"name\": \"wan\", \"interfaces\": [\"eth1\"], \"masquerade\": true, \"input\": \"reject\"},"
                " {\"name\": \"guest\", \"interfaces\": [\"lan5\"]}, {\"name\": \"vpn\", \"interfaces\": [\"wg0\"], \"masquerade\": true}],"
                " \"forwardings\": [{\"from\": \"lan\", \"to\": \"wan\"}]}", &tighter);
        ASSERT_EQ(tighter.n_actions, 2);
        a = action(&tighter, "rule/input_lan/policy");
        ASSERT_EQ(a->kind, ACTION_MODIFY);
        ASSERT_TRUE(a->impact == IMPACT_LAN_OUTAGE);
        ASSERT_STREQ(a->outage, "cut zone lan off from the router (input accept -> drop)");
        a = action(&tighter, "rule/input_wan/policy");
        ASSERT_TRUE(a->impact == IMPACT_FIREWALL_CHANGE && !a->outage);

        /* a rule more: one action, nothing else touched */
        plan_of(FORWARDING, "{" ZONES ", \"forwardings\": [{\"from\": \"lan\", \"to\": \"wan\"}],"
                " \"rules\": [{\"name\": \"ssh\", \"from\": \"wan\", \"proto\": \"tcp\", \"dest_port\": 22, \"action\": \"accept\"}]}",
                &added);
        ASSERT_EQ(added.n_actions, 1);
        a = action(&added, "rule/input_wan/rule:ssh:tcp");
        ASSERT_EQ(a->kind, ACTION_CREATE);
        ASSERT_TRUE(a->impact == IMPACT_FIREWALL_CHANGE && !a->outage);
        ASSERT_STREQ(a->plugin, "firewall");
}

int main(void) {
        RUN(test_parse_defaults);
        RUN(test_parse_rule_model);
        RUN(test_parse_errors);
        RUN(test_parse_reports_every_error);
        RUN(test_compile_baseline_first);
        RUN(test_compile_rules_and_port_forwards);
        RUN(test_check_host);
        RUN(test_plan);
        return 0;
}
