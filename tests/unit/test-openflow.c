/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The openflow section's field and value checks (openflow-check.c,
 * of-fields.c): what would inject into the flow text ovs-ofctl reads, or
 * be dropped or cut by Open vSwitch, is refused at its JSON path; and the
 * OpenFlow 1.4 encoding op-dbus expects of a match (of-oxm.c) is the one
 * Open vSwitch 3.1 reports. */
#include <inttypes.h>
#include <stdio.h>

#include "json-util.h"
#include "of-engine.h"
#include "of-fields.h"
#include "of-sync.h"
#include "openflow.h"
#include "tests.h"

static int parse(const char *section, Diag *d) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        OpenflowConfig c = {};
        int r;

        ASSERT_EQ(json_parse_located(section, strlen(section), "t.json", &o, d), 0);
        r = openflow_parse(&c, o, d);
        openflow_config_done(&c);
        return r;
}

/* An explicit flow on br0 with the given match_fields and actions. */
static char *flow(const char *match, const char *actions) {
        char *s;

        ASSERT_TRUE(asprintf(&s, "{\"bridges\": [{\"name\": \"br0\", \"flows\": [{\"match_fields\": %s, \"actions\": %s}]}]}",
                             match, actions) > 0);
        return s;
}

/* A policy with the given template match (an object or a string) and actions. */
static char *policy(const char *match, const char *actions) {
        char *s;

        ASSERT_TRUE(asprintf(&s, "{\"flow_policies\": [{\"name\": \"p\", \"selector\": \"container:*\", \"template\": "
                             "{\"table\": 10, \"priority\": 5, \"match\": %s, \"actions\": %s}}]}", match, actions) > 0);
        return s;
}

#define F "plugins.openflow.bridges[0].flows[0]"
#define P "plugins.openflow.flow_policies[0].template"

TEST(test_refused) {
        static const struct {
                bool policy;
                const char *match, *actions;
                const char *path, *message;
        } cases[] = {
                /* injections into the flow text */
                { false, "{\"ip\": \"\"}", "[{\"type\": \"set_field\", \"field\": \"reg1\", \"value\": \"1->reg0,output:CONTROLLER\"}]",
                  F ".actions[0].value", "\"1->reg0,output:CONTROLLER\" is not a value set_field can write to reg1: expected an integer 0..4294967295" },
                { false, "{\"ip\": \"\"}", "[{\"type\": \"set_field\", \"field\": \"nw_ttl->reg0,controller,set_field:1\", \"value\": 1}]",
                  F ".actions[0].field", "\"nw_ttl->reg0,controller,set_field:1\" is not a field set_field can write; it writes dl_src," },
                { false, "{\"nw_src=10.0.0.1,tp_dst\": \"80\"}", "[]",
                  F ".match_fields.nw_src=10.0.0.1,tp_dst", "\"nw_src=10.0.0.1,tp_dst\" is not a match field op-dbus knows; it knows ip, ipv6," },
                { false, "{\"ip\": \"\", \"nw_dst\": \"10.0.0.1,actions=controller\"}", "[]",
                  F ".match_fields.nw_dst", "\"10.0.0.1,actions=controller\" is not a valid nw_dst: expected an IPv4 address" },
                { false, "{\"tcp\": \",tp_dst=22\"}", "[]",
                  F ".match_fields.tcp", "tcp names a protocol and takes no value: write \"\" as its value" },
                { false, "{\"in_port\": \"p0,ip\"}", "[]",
                  F ".match_fields.in_port", "\"p0,ip\" is not a valid in_port: expected a port name, container:N, LOCAL or an OpenFlow port number 1..65279" },
                { false, "{}", "[{\"type\": \"output\", \"port\": \"1,output:CONTROLLER\"}]",
                  F ".actions[0].port", "\"1,output:CONTROLLER\" is not a port: expected a port name on the bridge, container:N or an OpenFlow port number 1..65279" },
                { false, "{\"reg3\": \"1\\n,ip\"}", "[]",
                  F ".match_fields.reg3", "\"1?,ip\" is not a valid reg3" },
                { true, "\"tcp,tp_dst=80,actions=output:CONTROLLER\"", "[]",
                  P ".match", "\"actions=output:CONTROLLER\" in the match tcp,tp_dst=80,actions=output:CONTROLLER: \"actions\" is not a match field op-dbus knows" },
                { true, "\"tcp,,tp_dst=80\"", "[]",
                  P ".match", "\"tcp,,tp_dst=80\" is not a match string: expected fields separated by commas" },
                { true, "\"tcp,tp_dst=80=81\"", "[]",
                  P ".match", "\"tcp,tp_dst=80=81\" is not a match string" },
                /* prerequisites: without them Open vSwitch drops the field */
                { false, "{\"tp_dst\": 443}", "[]",
                  F ".match_fields.tp_dst", "tp_dst needs tcp, udp or sctp (or tcp6, udp6, sctp6) in the same match: without it Open vSwitch drops tp_dst" },
                { false, "{\"ip\": \"\", \"tp_dst\": 443}", "[]", F ".match_fields.tp_dst", "tp_dst needs tcp, udp or sctp" },
                { false, "{\"dl_type\": \"0x0800\", \"nw_proto\": 1, \"tp_src\": 68}", "[]", F ".match_fields.tp_src", "tp_src needs tcp, udp or sctp" },
                { false, "{\"nw_src\": \"10.0.0.1\"}", "[]", F ".match_fields.nw_src", "nw_src needs ip (or tcp, udp, sctp, icmp), arp or rarp" },
                { false, "{\"ipv6\": \"\", \"nw_dst\": \"10.0.0.1\"}", "[]", F ".match_fields.nw_dst", "nw_dst needs ip" },
                { false, "{\"nw_ttl\": 5}", "[]", F ".match_fields.nw_ttl", "nw_ttl needs ip or ipv6" },
                { false, "{\"tcp\": \"\", \"icmp_type\": 3}", "[]", F ".match_fields.icmp_type", "icmp_type needs icmp or icmp6" },
                { false, "{\"udp\": \"\", \"tcp_flags\": \"+syn\"}", "[]", F ".match_fields.tcp_flags", "tcp_flags needs tcp or tcp6" },
                { false, "{\"ip\": \"\", \"ipv6_src\": \"fd00::1\"}", "[]", F ".match_fields.ipv6_src", "ipv6_src needs ipv6" },
                { false, "{\"icmp6\": \"\", \"nd_target\": \"fd00::1\"}", "[]", F ".match_fields.nd_target", "nd_target needs icmp6 with icmp_type 135 or 136" },
                { false, "{\"ip\": \"\", \"arp_spa\": \"10.0.0.1\"}", "[]", F ".match_fields.arp_spa", "arp_spa needs arp or rarp" },
                { true, "\"tp_dst=80\"", "[]", P ".match", "\"tp_dst=80\" in the match tp_dst=80: tp_dst needs tcp, udp or sctp" },
                { false, "{\"ip\": \"\"}", "[{\"type\": \"set_field\", \"field\": \"tp_dst\", \"value\": 80}]",
                  F ".actions[0].field", "set_field writes tp_dst, which needs tcp, udp or sctp (or tcp6, udp6, sctp6) in the flow's match" },
                { true, "{}", "[{\"type\": \"set_field\", \"field\": \"nw_src\", \"value\": \"10.0.0.1\"}, {\"type\": \"output\", \"port\": \"p1\"}]",
                  P ".actions[0].field", "set_field writes nw_src, which needs ip (or tcp, udp, sctp, icmp), arp or rarp" },
                /* contradictions */
                { false, "{\"ip\": \"\", \"ipv6\": \"\"}", "[]", F ".match_fields.ipv6", "ipv6 contradicts the protocol named before it" },
                { false, "{\"tcp\": \"\", \"dl_type\": \"0x86dd\"}", "[]", F ".match_fields.dl_type", "dl_type contradicts" },
                { false, "{\"udp\": \"\", \"nw_proto\": 6}", "[]", F ".match_fields.nw_proto", "nw_proto contradicts" },
                { true, "\"tcp,tp_dst=80,tp_dst=81\"", "[]", P ".match", "tp_dst is given twice in this match" },
                /* values Open vSwitch would cut to fit */
                { false, "{\"ip\": \"\", \"nw_src\": \"300.1.1.1\"}", "[]", F ".match_fields.nw_src", "\"300.1.1.1\" is not a valid nw_src" },
                { false, "{\"ip\": \"\", \"nw_src\": \"10.0.0.1/33\"}", "[]", F ".match_fields.nw_src", "\"10.0.0.1/33\" is not a valid nw_src" },
                { false, "{\"dl_vlan\": 5000}", "[]", F ".match_fields.dl_vlan", "5000 is not a valid dl_vlan: expected an integer 0..4095" },
                { false, "{\"tcp\": \"\", \"tp_dst\": 65536}", "[]", F ".match_fields.tp_dst", "65536 is not a valid tp_dst: expected an integer 0..65535, decimal or 0x hex, optionally with a /mask" },
                { false, "{\"tcp\": \"\", \"tp_dst\": -1}", "[]", F ".match_fields.tp_dst", "-1 is not a valid tp_dst" },
                { false, "{\"ip\": \"\", \"nw_tos\": 3}", "[]", F ".match_fields.nw_tos", "3 is not a valid nw_tos: expected a multiple of 4" },
                { false, "{\"dl_src\": \"02:00:00:00:00:1\"}", "[]", F ".match_fields.dl_src", "is not a valid dl_src: expected a MAC address" },
                { false, "{\"ct_state\": \"+trk+trk\"}", "[]", F ".match_fields.ct_state", "is not a valid ct_state: expected conntrack flags" },
                { false, "{\"ct_state\": \"+trk+bogus\"}", "[]", F ".match_fields.ct_state", "is not a valid ct_state" },
                { false, "{\"reg1\": \"08\"}", "[]", F ".match_fields.reg1", "\"08\" is not a valid reg1" },
                { false, "{\"ip\": \"\"}", "[{\"type\": \"set_field\", \"field\": \"nw_ttl\", \"value\": 256}]",
                  F ".actions[0].value", "256 is not a value set_field can write to nw_ttl: expected an integer 0..255" },
                { false, "{\"ip\": \"\"}", "[{\"type\": \"set_field\", \"field\": \"reg1\", \"value\": \"1/1\"}]",
                  F ".actions[0].value", "\"1/1\" is not a value set_field can write to reg1: expected an integer 0..4294967295, decimal or 0x hex" },
                { false, "{\"dl_vlan\": 5}", "[{\"type\": \"set_field\", \"field\": \"dl_vlan\", \"value\": 6}]",
                  F ".actions[0].field", "\"dl_vlan\" is not a field set_field can write" },
                /* unknown names, placeholders where they cannot stand */
                { false, "{\"nw_foo\": 1}", "[]", F ".match_fields.nw_foo", "\"nw_foo\" is not a match field op-dbus knows" },
                { true, "{\"ip\": \"\", \"nw_src\": \"{port_name}\"}", "[]", P ".match.nw_src", "\"{port_name}\" is not a valid nw_src" },
                { false, "{\"in_port\": \"{port_name}\"}", "[]", F ".match_fields.in_port", "\"{port_name}\" is not a valid in_port" },
                { true, "{\"reg0\": \"1/1\"}", "[]", P ".match.reg0", "reg0 is not for policies" },
                { true, "\"ip,reg0=1/1\"", "[]", P ".match", "reg0 is not for policies" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *section = cases[i].policy ? policy(cases[i].match, cases[i].actions)
                                                                 : flow(cases[i].match, cases[i].actions);
                _cleanup_(diag_done) Diag d = {};
                bool found = false;

                if (parse(section, &d) != -EINVAL)
                        TEST_FAIL("case %zu accepted: %s", i, section);
                for (size_t k = 0; k < d.n_entries; k++)
                        if (streq(d.entries[k].path, cases[i].path) && strstr(d.entries[k].message, cases[i].message))
                                found = true;
                if (!found) {
                        diag_print(&d, stderr, "  ");
                        TEST_FAIL("case %zu (%s): no error at %s containing \"%s\"", i, section, cases[i].path,
                                  cases[i].message);
                }
        }
}

TEST(test_accepted) {
        static const struct {
                bool policy;
                const char *match, *actions;
        } cases[] = {
                { false, "{\"tcp\": \"\", \"tp_dst\": 443, \"nw_dst\": \"10.0.0.0/255.255.255.0\"}", "[{\"type\": \"normal\"}]" },
                { false, "{\"dl_type\": \"0x0800\", \"nw_proto\": 17, \"tp_src\": \"0x44/0xfff0\"}", "[]" },
                { false, "{\"udp6\": \"\", \"tp_dst\": 547, \"ipv6_src\": \"fe80::/10\"}", "[]" },
                { false, "{\"icmp6\": \"\", \"icmp_type\": 135, \"nd_target\": \"fe80::1\", \"nd_sll\": \"02:00:00:00:00:01\"}", "[]" },
                { false, "{\"arp\": \"\", \"arp_op\": 1, \"nw_src\": \"10.0.0.1\", \"arp_sha\": \"02:00:00:00:00:01\"}", "[]" },
                { false, "{\"ct_state\": \"+trk-new+est\", \"ct_zone\": 5, \"ct_mark\": \"1/1\", \"reg7\": \"0x10/0xf0\"}", "[]" },
                { false, "{\"tcp\": \"\", \"tcp_flags\": \"+syn-ack\", \"in_port\": \"LOCAL\"}", "[]" },
                { false, "{\"ip\": \"\", \"nw_tos\": 8, \"nw_ecn\": 1, \"nw_ttl\": 1, \"dl_vlan\": 10, \"dl_vlan_pcp\": 3}",
                  "[{\"type\": \"set_field\", \"field\": \"nw_ttl\", \"value\": 64}, {\"type\": \"set_field\", \"field\": \"dl_dst\", \"value\": \"02:00:00:00:00:02\"}]" },
                { false, "{\"metadata\": 18446744073709551615, \"tun_id\": \"0x10\", \"pkt_mark\": 3, \"in_port\": 7}",
                  "[{\"type\": \"output\", \"port\": \"container:100\"}, {\"type\": \"output\", \"port\": \"65279\"}]" },
                { true, "\"tcp,tp_dst=80\"", "[{\"type\": \"set_field\", \"field\": \"tp_dst\", \"value\": \"8080\"}]" },
                { true, "\"\"", "[{\"type\": \"normal\"}]" },
                { true, "{\"ip\": \"\", \"nw_src\": \"10.0.{container_id}.0/24\", \"in_port\": \"{port_name}\"}",
                  "[{\"type\": \"set_field\", \"field\": \"reg1\", \"value\": \"{container_id}\"}, {\"type\": \"output\", \"port\": \"{port_name}\"}]" },
                { true, "{}", "[{\"type\": \"set_field\", \"field\": \"nw_ttl\", \"value\": 64}, {\"type\": \"output\", \"port\": \"p1\"}]" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *section = cases[i].policy ? policy(cases[i].match, cases[i].actions)
                                                                 : flow(cases[i].match, cases[i].actions);
                _cleanup_(diag_done) Diag d = {};

                if (parse(section, &d) < 0) {
                        diag_print(&d, stderr, "  ");
                        TEST_FAIL("case %zu refused: %s", i, section);
                }
        }
}

/* Validation keeps what it parsed: a value without a placeholder is not
 * parsed again when the flows are built. */
TEST(test_values_parsed_once) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(diag_done) Diag d = {};
        const char *text =
                "{\"bridges\": [{\"name\": \"br0\", \"flows\": [{\"match_fields\": {\"tcp\": \"\", \"tp_dst\": 443}, "
                "\"actions\": [{\"type\": \"set_field\", \"field\": \"nw_ttl\", \"value\": 9}]}]}], "
                "\"flow_policies\": [{\"name\": \"p\", \"selector\": \"container:*\", \"template\": {\"table\": 10, "
                "\"priority\": 5, \"match\": {\"ip\": \"\", \"nw_dst\": \"10.{container_id}.0.0/16\"}, "
                "\"actions\": [{\"type\": \"set_field\", \"field\": \"reg1\", \"value\": \"{container_id}\"}]}}]}";
        OpenflowConfig c = {};
        const OfFlow *f;
        const OfFlowTemplate *t;

        ASSERT_EQ(json_parse_located(text, strlen(text), "t.json", &o, &d), 0);
        ASSERT_TRUE(openflow_parse(&c, o, &d) >= 0);
        f = &c.bridges[0].flows[0];
        ASSERT_EQ(f->n_match, 2);
        ASSERT_TRUE(f->match[0].compiled && f->match[0].field == of_field(OF_F_TCP));
        ASSERT_TRUE(f->match[1].compiled && f->match[1].field == of_field(OF_F_TP_DST));
        ASSERT_EQ(f->match[1].parsed.u, 443);
        ASSERT_TRUE(f->actions[0].set_field.compiled && f->actions[0].set_field.f == of_field(OF_F_NW_TTL));
        ASSERT_EQ(f->actions[0].set_field.parsed.u, 9);
        /* a placeholder's value is known only for each port */
        t = &c.flow_policies[0].template;
        ASSERT_TRUE(t->match[0].compiled);
        ASSERT_TRUE(!t->match[1].compiled && t->match[1].field == of_field(OF_F_NW_DST));
        ASSERT_TRUE(!t->actions[0].set_field.compiled && t->actions[0].set_field.f == of_field(OF_F_REG0 + 1));
        openflow_config_done(&c);
}

/* Table 254 is Open vSwitch's own: it refuses flows there (OFPBRC_EPERM)
 * and would fail the whole bundle at apply time. */
TEST(test_table_254_refused) {
        static const char *const sections[] = {
                "{\"bridges\": [{\"name\": \"br0\", \"flows\": [{\"table\": 254, \"actions\": [{\"type\": \"drop\"}]}]}]}",
                "{\"bridges\": [{\"name\": \"br0\", \"flows\": [{\"actions\": [{\"type\": \"resubmit\", \"table\": 254}]}]}]}",
                ("{\"flow_policies\": [{\"name\": \"p\", \"selector\": \"container:*\", "
                 "\"template\": {\"table\": 254, \"priority\": 5, \"actions\": [{\"type\": \"normal\"}]}}]}"),
        };
        static const char *const paths[] = {
                F ".table", F ".actions[0].table", P ".table",
        };

        for (size_t i = 0; i < ELEMENTSOF(sections); i++) {
                _cleanup_(diag_done) Diag d = {};
                bool found = false;

                ASSERT_EQ(parse(sections[i], &d), -EINVAL);
                for (size_t k = 0; k < d.n_entries; k++)
                        found = found || (streq(d.entries[k].path, paths[i]) &&
                                          strstr(d.entries[k].message, "254 is out of range, expected 0..253"));
                if (!found) {
                        diag_print(&d, stderr, "  ");
                        TEST_FAIL("case %zu: no error at %s", i, paths[i]);
                }
        }
}

static size_t unhex(const char *s, uint8_t *out) {
        size_t n = 0;

        for (; s[0] && s[1]; s += 2)
                out[n++] = (uint8_t) (unhexchar(s[0]) << 4 | unhexchar(s[1]));
        return n;
}

/* A flow-stats body's match (OXM) from TLVs written class:field[/m]:value,
 * as Open vSwitch 3.1 reported them for these matches. */
static size_t body_of(const char *tlvs, uint8_t *b) {
        _cleanup_(freep) char *copy = strdup(tlvs);
        size_t n = 4;
        char *save = NULL;

        for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
                unsigned class, field;
                char hm[3] = "", value[128];
                size_t len;

                if (sscanf(t, "%x:%u%2[/m]:%127s", &class, &field, hm, value) != 4 &&
                    sscanf(t, "%x:%u:%127s", &class, &field, value) != 3)
                        TEST_FAIL("bad TLV %s", t);
                len = unhex(value, b + n + 4);
                b[n] = (uint8_t) (class >> 8);
                b[n + 1] = (uint8_t) class;
                b[n + 2] = (uint8_t) (field << 1 | (hm[0] == '/'));
                b[n + 3] = (uint8_t) len;
                n += 4 + len;
        }
        b[0] = 0;
        b[1] = 1;
        b[2] = (uint8_t) (n >> 8);
        b[3] = (uint8_t) n;
        return n;
}

/* The digest of the match op-dbus encodes for a match string. */
static uint64_t of_match_digest(const char *text) {
        OfMatchField *mf = NULL;
        uint8_t oxm[OF_OXM_MAX];
        size_t n = 0, bad;
        OfMatch m = {};
        int len;

        ASSERT_EQ(of_match_split(text, &mf, &n), 0);
        for (size_t i = 0; i < n; i++) {
                const OfField *f = of_field_find(mf[i].name);
                OfParsedValue v;
                const char *why;

                ASSERT_TRUE(f);
                ASSERT_TRUE(of_field_parse(f, mf[i].value.type == OF_VALUE_STRING ? mf[i].value.string : NULL, true, &v, &why));
                ASSERT_EQ(of_match_add(&m, f, &v), 0);
        }
        of_match_free(mf, n);
        len = of_match_encode(&m, oxm, &bad);
        ASSERT_TRUE(len >= 0);
        return of_oxm_digest(oxm, (size_t) len);
}

TEST(test_match_digest_is_what_ovs_reports) {
        static const struct {
                const char *match, *reported;
        } cases[] = {
                { "", "" },
                { "ip", "8000:5:0800" },
                { "tcp,tp_dst=80", "8000:5:0800 8000:10:06 8000:14:0050" },
                { "udp6,tp_src=547", "8000:5:86dd 8000:10:11 8000:15:0223" },
                { "sctp,tp_dst=1/0xf", "8000:5:0800 8000:10:84 8000:18/m:0001000f" },
                { "in_port=1", "8000:0:00000001" },
                { "in_port=LOCAL", "8000:0:fffffffe" },
                { "dl_vlan=10", "8000:6:100a" },
                { "dl_vlan_pcp=3", "8000:6/m:10001000 8000:7:03" },
                { "tcp,tcp_flags=0", "8000:5:0800 8000:10:06 ffff:42:4f4e46000000" },
                { "tcp,tcp_flags=+syn-ack", "8000:5:0800 8000:10:06 ffff:42/m:4f4e460000020012" },
                { "ct_state=+inv+trk", "0001:105/m:0000003000000030" },
                { "reg0=0x1/0x1", "0001:0/m:0000000100000001" },
                { "reg5=7", "0001:5:00000007" },
                { "ip,nw_src=10.0.0.1/8", "8000:5:0800 8000:11/m:0a000000ff000000" },
                { "ip,nw_src=0.0.0.0", "8000:5:0800 8000:11:00000000" },
                { "ip,nw_src=0.0.0.0/0", "8000:5:0800" },
                { "arp,arp_spa=1.2.3.4,arp_sha=02:00:00:00:00:01,arp_op=1",
                  "8000:5:0806 8000:21:0001 8000:22:01020304 8000:24:020000000001" },
                { "ip,nw_tos=8", "8000:5:0800 8000:8:02" },
                { "ip,nw_ecn=1", "8000:5:0800 8000:9:01" },
                { "ip,nw_ttl=5", "8000:5:0800 0001:29:05" },
                { "icmp,icmp_type=3,icmp_code=1", "8000:5:0800 8000:10:01 8000:19:03 8000:20:01" },
                { "icmp6,icmp_type=135,nd_target=fe80::1", "8000:5:86dd 8000:10:3a 8000:29:87 8000:31:fe800000000000000000000000000001" },
                { "icmp6,icmp_type=136,nd_tll=02:00:00:00:00:02", "8000:5:86dd 8000:10:3a 8000:29:88 8000:33:020000000002" },
                { "ipv6,ipv6_src=fe80::/64,ipv6_label=5",
                  "8000:5:86dd 8000:26/m:fe800000000000000000000000000000ffffffffffffffff0000000000000000 8000:28:00000005" },
                { "dl_src=01:00:00:00:00:00/01:00:00:00:00:00", "8000:4/m:010000000000010000000000" },
                { "metadata=0x5/0xff", "8000:2/m:000000000000000500000000000000ff" },
                { "pkt_mark=3", "0001:33:00000003" },
                { "ct_mark=1/1", "0001:107/m:0000000100000001" },
                { "ct_zone=5", "0001:106:0005" },
                { "tun_id=0x10", "8000:38:0000000000000010" },
                { "ip,nw_proto=6", "8000:5:0800 8000:10:06" },
                { "arp,nw_src=1.2.3.4", "8000:5:0806 8000:22:01020304" },
                { "dl_type=0x0800", "8000:5:0800" },
                { "ip,ip_dscp=3", "8000:5:0800 8000:8:03" },
                { "dl_dst=02:00:00:00:00:01", "8000:3:020000000001" },
                /* a policy flow: in_port given twice, once by the pipeline */
                { "in_port=3,reg0=0/0x1,icmp,in_port=3", "8000:0:00000003 0001:0/m:0000000000000001 8000:5:0800 8000:10:01" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint8_t body[512];
                size_t n = body_of(cases[i].reported, body);
                uint64_t want = of_match_digest(cases[i].match), have = of_reported_match_digest(body, n);

                if (want == 0 || want != have)
                        TEST_FAIL("case %zu (%s): expected digest %016" PRIx64 ", reported %016" PRIx64,
                                  i, cases[i].match, want, have);
        }

        /* what normalisation leaves of "ip,tp_dst=80" is another match */
        {
                uint8_t body[64];
                size_t n = body_of("8000:5:0800", body);

                ASSERT_TRUE(of_match_digest("tcp,tp_dst=80") != of_reported_match_digest(body, n));
                ASSERT_TRUE(of_match_digest("ip,nw_src=10.0.0.1") != of_reported_match_digest(body, n));
        }
}

/* of_path() builds what snprintf("%s.%s[%zu]") would, and cuts alike. */
TEST(test_path_like_snprintf) {
        static const size_t indexes[] = { 0, 7, 10, 9986, SIZE_MAX - 1 };
        char long_parent[JSON_PATH_MAX + 40];
        char got[JSON_PATH_MAX], want[JSON_PATH_MAX + 64];

        for (size_t i = 0; i < ELEMENTSOF(indexes); i++) {
                of_path(got, sizeof got, "plugins.openflow.bridges[0]", "flows", indexes[i]);
                snprintf(want, sizeof want, "plugins.openflow.bridges[0].flows[%zu]", indexes[i]);
                ASSERT_STREQ(got, want);
        }
        of_path(got, sizeof got, "a", NULL, 3);
        ASSERT_STREQ(got, "a[3]");
        of_path(got, sizeof got, "a", "match_fields", SIZE_MAX);
        ASSERT_STREQ(got, "a.match_fields");
        memset(long_parent, 'x', sizeof long_parent - 1);
        long_parent[sizeof long_parent - 1] = 0;
        for (size_t cut = JSON_PATH_MAX - 45; cut < sizeof long_parent; cut++) {
                long_parent[cut] = 0;
                of_path(got, sizeof got, long_parent, "actions", 12);
                snprintf(want, sizeof want, "%s.actions[12]", long_parent);
                want[JSON_PATH_MAX - 1] = 0;     /* where snprintf(got) would cut */
                ASSERT_STREQ(got, want);
                long_parent[cut] = 'x';
        }
        of_path(got, 6, "abc", "de", 1);
        ASSERT_STREQ(got, "abc.d");
}

/* The record holds when the switch reports each recorded cookie once,
 * with the confirmed digest, and no other op-dbus flow. */
TEST(test_record_holds) {
        OfRecordEntry e[] = { { .cookie = 1, .digest = 11, .spec_hash = 5 }, { .cookie = 2, .digest = 22, .spec_hash = 6 } };
        OfRecord rec = { .entries = e, .n = 2 };
        OfpFlow f[3] = { { .cookie = 1, .digest = 11 }, { .cookie = 2, .digest = 22 }, { .cookie = 3, .digest = 33 } };
        OfpFlowList have = { .flows = f, .n = 2 };

        ASSERT_TRUE(of_record_holds(&rec, &have));
        f[1].digest = 23;                    /* changed by hand */
        ASSERT_TRUE(!of_record_holds(&rec, &have));
        f[1].digest = 22;
        have.n = 3;                          /* one more op-dbus flow */
        ASSERT_TRUE(!of_record_holds(&rec, &have));
        have.n = 1;                          /* one missing */
        ASSERT_TRUE(!of_record_holds(&rec, &have));
        f[1] = (OfpFlow) { .cookie = 1, .digest = 11 };    /* a cookie twice, another missing */
        have.n = 2;
        ASSERT_TRUE(!of_record_holds(&rec, &have));
        f[1] = (OfpFlow) { .cookie = 2, .digest = 22 };
        e[1].digest = 0;                     /* sent, never confirmed */
        ASSERT_TRUE(!of_record_holds(&rec, &have));
        /* the program has a build ID: the inputs of its flows can be recorded */
        ASSERT_TRUE(of_build_id() != 0);
        ASSERT_EQ(of_build_id(), of_build_id());
}

int main(void) {
        RUN(test_refused);
        RUN(test_accepted);
        RUN(test_table_254_refused);
        RUN(test_values_parsed_once);
        RUN(test_match_digest_is_what_ovs_reports);
        RUN(test_path_like_snprintf);
        RUN(test_record_holds);
        return 0;
}
