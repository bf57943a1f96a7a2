/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The nftables library without a kernel: the bytecode the builders emit,
 * rule identities, set elements as the kernel holds them, the diff (rules
 * kept, moved, replaced; sets element by element), the batch a plan
 * becomes and the mapping of the kernel's errors back to objects. The
 * "live" side is a copy of a desired ruleset made as a dump would make it.
 * What the kernel does with all this: tests/integration/test_nft.py. */

#include <arpa/inet.h>
#include <stdio.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "macro.h"
#include "nft-internal.h"
#include "nft-netlink.h"
#include "nft.h"
#include "tests.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(NftRuleset *, nft_ruleset_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(NftPlan *, nft_plan_free);

/* ---- helpers ------------------------------------------------------------------ */

static NftRuleset *ruleset(void) {
        NftRuleset *rs;

        ASSERT_EQ(nft_ruleset_new(&rs), 0);
        return rs;
}

static NftTable *table(NftRuleset *rs, int family, const char *name) {
        NftTable *t;

        ASSERT_EQ(nft_table_add(rs, family, name, &t), 0);
        return t;
}

static NftChain *base_chain(NftTable *t, const char *name, const char *type, NftHook hook, int prio, NftPolicy policy) {
        NftChainSpec spec = { .type = type, .hook = hook, .priority = prio, .policy = policy };
        NftChain *c;

        ASSERT_EQ(nft_chain_add(t, name, &spec, &c), 0);
        return c;
}

static NftRule *rule(NftChain *c) {
        NftRule *r;

        ASSERT_EQ(nft_rule_add(c, &r), 0);
        return r;
}

static char *text_of(NftRule *r) {
        static char buf[4096];
        _cleanup_(freep) char *s = NULL;

        ASSERT_EQ(nft_rule_to_string(r, &s), 0);
        snprintf(buf, sizeof buf, "%s", s);
        return buf;
}

/* A copy of desired as a dump of a kernel holding it would read: handles
 * from 1 on, each rule's identity as its userdata carries it, the sets'
 * elements as the kernel holds them. */
static NftRuleset *live_from(NftRuleset *desired) {
        NftRuleset *live;

        ASSERT_EQ(nft_ruleset_as_dumped(desired, &live), 0);
        return live;
}

static NftPlan *plan(NftRuleset *desired, const NftRuleset *live) {
        NftError e = {};
        NftPlan *p;
        int r;

        r = nft_plan_new(desired, live, &p, &e);
        if (r < 0)
                TEST_FAIL("plan: %d %s: %s", r, strna(e.object), strna(e.detail));
        return p;
}

static char *describe(const NftPlan *p, size_t i) {
        static char buf[512];
        _cleanup_(freep) char *s = NULL;

        ASSERT_EQ(nft_plan_op_describe(p, i, &s), 0);
        snprintf(buf, sizeof buf, "%s", s);
        return buf;
}

/* ---- builders ------------------------------------------------------------------- */

TEST(test_builders_bytecode) {
        _cleanup_(nft_ruleset_freep) NftRuleset *rs = ruleset();
        NftTable *t = table(rs, NFT_FAMILY_INET, "t");
        NftChain *c = base_chain(t, "input", "filter", NFT_HOOK_INPUT, 0, NFT_POLICY_DROP);
        NftRule *r;

        /* tcp dport 22 accept: the transport protocol first */
        r = rule(c);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_TCP_DPORT, false, "22"), 0);
        ASSERT_EQ(nft_rule_verdict(r, NFT_VERDICT_ACCEPT), 0);
        ASSERT_STREQ(text_of(r), "[ meta key 16 dreg 1 ] [ cmp sreg 1 op 0 data 0x06 ] "
                                 "[ payload dreg 1 base 2 offset 2 len 2 ] [ cmp sreg 1 op 0 data 0x0016 ] "
                                 "[ immediate dreg 0 verdict 1 ]");

        /* meta l4proto tcp tcp dport 22: the protocol once */
        r = rule(c);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_L4PROTO, false, "tcp"), 0);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_TCP_DPORT, false, "22"), 0);
        ASSERT_EQ((long long) r->n_exprs, 4);

        /* ip saddr 10.0.0.0/8: the network protocol, one byte loaded */
        r = rule(c);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_IP_SADDR, false, "10.0.0.0/8"), 0);
        ASSERT_STREQ(text_of(r), "[ meta key 15 dreg 1 ] [ cmp sreg 1 op 0 data 0x02 ] "
                                 "[ payload dreg 1 base 1 offset 12 len 1 ] [ cmp sreg 1 op 0 data 0x0a ]");

        /* ip saddr != 10.0.0.0/9: the whole address under a mask */
        r = rule(c);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_IP_SADDR, true, "10.0.0.0/9"), 0);
        ASSERT_CONTAINS(text_of(r), "[ payload dreg 1 base 1 offset 12 len 4 ] "
                                    "[ bitwise sreg 1 dreg 1 len 4 mask 0xff800000 xor 0x00000000 ] "
                                    "[ cmp sreg 1 op 1 data 0x0a000000 ]");

        /* a port range: two comparisons; negated: a range expression */
        r = rule(c);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_TH_DPORT, false, "1000-2000"), 0);
        ASSERT_STREQ(text_of(r), "[ payload dreg 1 base 2 offset 2 len 2 ] [ cmp sreg 1 op 5 data 0x03e8 ] "
                                 "[ cmp sreg 1 op 3 data 0x07d0 ]");
        r = rule(c);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_TH_DPORT, true, "1000-2000"), 0);
        ASSERT_STREQ(text_of(r), "[ payload dreg 1 base 2 offset 2 len 2 ] "
                                 "[ range sreg 1 op 1 from 0x03e8 to 0x07d0 ]");

        /* an interface name prefix compares only the prefix */
        r = rule(c);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_OIFNAME, false, "wg*"), 0);
        ASSERT_STREQ(text_of(r), "[ meta key 7 dreg 1 ] [ cmp sreg 1 op 0 data 0x7767 ]");

        /* reject with tcp reset puts its dependency first, as nft does */
        r = rule(c);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_IIFNAME, false, "x"), 0);
        ASSERT_EQ(nft_rule_reject(r, NFT_REJECTWITH_TCP_RESET, 0), 0);
        ASSERT_TRUE(startswith(text_of(r), "[ meta key 16 dreg 1 ] [ cmp sreg 1 op 0 data 0x06 ] [ meta key 6 "));
        ASSERT_CONTAINS(text_of(r), "[ reject type 1 ]");

        /* the default reject follows the rule's network protocol */
        r = rule(c);
        ASSERT_EQ(nft_rule_reject(r, NFT_REJECTWITH_DEFAULT, 0), 0);
        ASSERT_STREQ(text_of(r), "[ reject type 2 code 1 ]");
        r = rule(c);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_IP_SADDR, false, "1.2.3.4"), 0);
        ASSERT_EQ(nft_rule_reject(r, NFT_REJECTWITH_DEFAULT, 0), 0);
        ASSERT_CONTAINS(text_of(r), "[ reject type 0 code 3 ]");

        /* the MSS clamp */
        r = rule(c);
        ASSERT_EQ(nft_rule_mss_clamp_pmtu(r), 0);
        ASSERT_CONTAINS(text_of(r), "[ rt key 3 dreg 1 ] [ byteorder dreg 1 sreg 1 op 1 len 2 size 2 ] "
                                    "[ exthdr type 2 offset 2 len 2 op 1 sreg 1 ]");

        /* dnat to address and port */
        r = rule(c);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_TCP_DPORT, false, "8080"), 0);
        ASSERT_EQ(nft_rule_dnat(r, "10.0.0.2:80"), 0);
        ASSERT_CONTAINS(text_of(r), "[ immediate dreg 1 data 0x0a000002 ] [ immediate dreg 2 data 0x0050 ] "
                                    "[ nat type 1 family 2 addr_min 1 addr_max 1 proto_min 2 proto_max 2 flags 3 ]");
}

TEST(test_builders_refuse) {
        _cleanup_(nft_ruleset_freep) NftRuleset *rs = ruleset();
        NftTable *t = table(rs, NFT_FAMILY_INET, "t"), *t4 = table(rs, NFT_FAMILY_IPV4, "t4");
        NftTable *nd = table(rs, NFT_FAMILY_NETDEV, "n");
        NftChain *c = base_chain(t, "c", "filter", NFT_HOOK_INPUT, 0, NFT_POLICY_ACCEPT), *c4, *cn;
        NftChainSpec ingress = { .type = "filter", .hook = NFT_HOOK_INGRESS, .device = "lo" };
        NftRule *r;

        ASSERT_EQ(nft_chain_add(t4, "c", NULL, &c4), 0);
        ASSERT_EQ(nft_chain_add(nd, "c", &ingress, &cn), 0);

        /* contradictions: nothing could match */
        r = rule(c);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_IP_SADDR, false, "1.2.3.4"), 0);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_IP6_SADDR, false, "::1"), -EINVAL);
        r = rule(c);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_TCP_DPORT, false, "22"), 0);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_UDP_DPORT, false, "53"), -EINVAL);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_L4PROTO, false, "udp"), -EINVAL);
        /* in an ip table there is nothing but IPv4, without a match for it */
        r = rule(c4);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_IP6_DADDR, false, "::1"), -EINVAL);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_IP_DADDR, false, "1.2.3.4"), 0);
        ASSERT_TRUE(startswith(text_of(r), "[ payload"));
        /* packet fields in a netdev table would need other dependencies */
        r = rule(cn);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_IP_SADDR, false, "1.2.3.4"), -EOPNOTSUPP);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_MARK, false, "1"), 0);

        /* bad values */
        r = rule(c);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_IP_SADDR, false, "10.0.0.1/24"), -EINVAL);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_IP_SADDR, false, "10.0.0.0/33"), -EINVAL);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_IP_SADDR, false, "0.0.0.0/0"), -EINVAL);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_IP_SADDR, false, "10.0.0.9-10.0.0.1"), -EINVAL);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_TCP_DPORT, false, "65536"), -EINVAL);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_TCP_DPORT, false, "22x"), -EINVAL);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_IIFNAME, false, "abcdefghijklmnop"), -EINVAL);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_MARK, false, "1-2"), -EINVAL);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_ICMP_TYPE, false, "no-such-type"), -EINVAL);
        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_TCP_DPORT, false, NULL), -EINVAL);
        ASSERT_EQ(nft_rule_match_set(r, NFT_FIELD_IIF, false, "s"), -EOPNOTSUPP);
        ASSERT_EQ(nft_rule_match_set(r, NFT_FIELD_TCP_DPORT, false, "bad name"), -EINVAL);
        ASSERT_EQ(nft_rule_log(r, NULL, 8), -EINVAL);
        ASSERT_EQ(nft_rule_log(r, "a\"b", -1), -EINVAL);
        ASSERT_EQ(nft_rule_limit(r, &(NftLimit) { .rate = 0 }), -EINVAL);
        ASSERT_EQ(nft_rule_match_ct_state(r, 0), -EINVAL);
        ASSERT_EQ(nft_rule_reject(r, NFT_REJECTWITH_ICMPX, 4), -EINVAL);
        /* NAT to a port needs a transport protocol, as in nft */
        ASSERT_EQ(nft_rule_dnat(r, "10.0.0.2:80"), -EINVAL);
        ASSERT_EQ(nft_rule_dnat(r, "10.0.0.2:0"), -EINVAL);
        ASSERT_EQ(nft_rule_dnat(r, "[10.0.0.2]:80"), -EINVAL);
        ASSERT_EQ(nft_rule_snat(r, "not-an-address"), -EINVAL);
        ASSERT_EQ(nft_rule_dnat(rule(c4), "fd00::1"), -EINVAL);

        /* names */
        ASSERT_EQ(nft_table_add(rs, NFT_FAMILY_INET, "t", NULL), -EEXIST);
        ASSERT_EQ(nft_table_add(rs, NFT_FAMILY_INET, "bad name", NULL), -EINVAL);
        ASSERT_EQ(nft_table_add(rs, 99, "x", NULL), -EINVAL);
        ASSERT_EQ(nft_table_add(rs, NFT_FAMILY_INET, "a1234567890123456789012345678901234567890123456789012345678901234", NULL),
                  -ENAMETOOLONG);
        ASSERT_EQ(nft_chain_add(t, "c", NULL, NULL), -EEXIST);
        ASSERT_EQ(nft_chain_add(t, "x", &(NftChainSpec) { .type = "filter", .hook = NFT_HOOK_INGRESS }, NULL), -EINVAL);
        ASSERT_EQ(nft_chain_add(t, "x", &(NftChainSpec) { .type = "bogus", .hook = NFT_HOOK_INPUT }, NULL), -EINVAL);
        ASSERT_EQ(nft_chain_add(nd, "x", &(NftChainSpec) { .type = "filter", .hook = NFT_HOOK_INGRESS }, NULL), -EINVAL);
        ASSERT_EQ(nft_set_add(t, "s", NFT_KEY_IFNAME, NFT_SETFLAG_INTERVAL, NULL), -EOPNOTSUPP);
        r = rule(c);
        ASSERT_EQ(nft_rule_set_name(r, "one"), 0);
        ASSERT_EQ(nft_rule_set_name(rule(c), "one"), -EEXIST);
        ASSERT_EQ(nft_rule_set_comment(r, "line\nbreak"), -EINVAL);
}

/* ---- identities ------------------------------------------------------------- */

static NftRule *ssh_rule(NftChain *c, const char *port) {
        NftRule *r = rule(c);

        ASSERT_EQ(nft_rule_match(r, NFT_FIELD_TCP_DPORT, false, port), 0);
        ASSERT_EQ(nft_rule_counter(r), 0);
        ASSERT_EQ(nft_rule_verdict(r, NFT_VERDICT_ACCEPT), 0);
        return r;
}

TEST(test_identity) {
        _cleanup_(nft_ruleset_freep) NftRuleset *rs = ruleset();
        NftTable *t = table(rs, NFT_FAMILY_INET, "t");
        NftChain *c = base_chain(t, "input", "filter", NFT_HOOK_INPUT, 0, NFT_POLICY_DROP);
        NftChain *o = base_chain(t, "output", "filter", NFT_HOOK_OUTPUT, 0, NFT_POLICY_DROP);
        NftRule *a = ssh_rule(c, "22"), *b = ssh_rule(c, "22"), *d = ssh_rule(c, "23"), *e = ssh_rule(o, "22");
        NftRule *live;
        char digest[NFT_DIGEST_HEX];
        void *udata;
        size_t len;

        /* the same rule, the same digest; another port, chain or comment,
         * another; a name is not part of it */
        snprintf(digest, sizeof digest, "%s", nft_rule_digest(a));
        ASSERT_EQ((long long) strlen(digest), 32);
        ASSERT_STREQ(nft_rule_digest(b), digest);
        ASSERT_TRUE(!streq(nft_rule_digest(d), digest));
        ASSERT_TRUE(!streq(nft_rule_digest(e), digest));
        ASSERT_EQ(nft_rule_set_name(b, "ssh"), 0);
        ASSERT_STREQ(nft_rule_digest(b), digest);
        ASSERT_EQ(nft_rule_set_comment(b, "ssh from anywhere"), 0);
        ASSERT_TRUE(!streq(nft_rule_digest(b), digest));
        /* a counter's value is not part of it */
        ASSERT_EQ(a->exprs[4].kind, EXPR_COUNTER);
        expr_set_num(&a->exprs[4], COUNTER_PACKETS, 7);
        expr_set_num(&a->exprs[4], COUNTER_BYTES, 700);
        a->has_digest = false;
        ASSERT_STREQ(nft_rule_digest(a), digest);
        ASSERT_EQ(nft_rule_counters(a, NULL, NULL), 0);
        ASSERT_EQ(nft_rule_counters(rule(c), NULL, NULL), -ENODATA);

        /* the userdata carries comment, name and digest, and nothing else
         * would read as an identity */
        ASSERT_EQ(rule_udata_build(b, &udata, &len), 0);
        ASSERT_EQ(rule_new(c, &live), 0);
        live->handle = 9;
        ASSERT_EQ(rule_udata_parse(live, udata, len), 0);
        free(udata);
        ASSERT_STREQ(nft_rule_identity(live), nft_rule_digest(b));
        ASSERT_STREQ(nft_rule_name(live), "ssh");
        ASSERT_STREQ(nft_rule_comment(live), "ssh from anywhere");
        ASSERT_EQ(rule_new(c, &live), 0);
        live->handle = 10;
        /* a record longer than the userdata holding it */
        ASSERT_EQ(rule_udata_parse(live, "\xd1\x10" "0123456789abcd", 16), 0);
        ASSERT_TRUE(nft_rule_identity(live) == NULL);
        ASSERT_EQ(rule_udata_parse(live, "\x00\x03" "ab", 4), 0);
        ASSERT_TRUE(nft_rule_comment(live) == NULL);
}

/* ---- set elements -------------------------------------------------------------- */

static void add_elements(NftSet *s, const char *const *v) {
        for (; *v; v++)
                if (nft_set_add_element(s, *v) < 0)
                        TEST_FAIL("element %s", *v);
}

TEST(test_interval_elements) {
        _cleanup_(nft_ruleset_freep) NftRuleset *rs = ruleset();
        NftTable *t = table(rs, NFT_FAMILY_INET, "t");
        NftSet *s, *bad;
        _cleanup_(freep) KElem *k = NULL;
        size_t n;
        NftError e = {};
        static const struct {
                const char *key;
                bool end;
        } want[] = {
                { "0.0.0.0", true }, { "10.0.0.0", false }, { "10.0.1.0", true }, { "10.0.1.0", false },
                { "10.0.2.0", true }, { "172.16.0.1", false }, { "172.16.0.10", true },
                { "255.255.255.0", false },
        };

        ASSERT_EQ(nft_set_add(t, "s", NFT_KEY_IPV4_ADDR, NFT_SETFLAG_INTERVAL, &s), 0);
        add_elements(s, (const char *const[]) { "255.255.255.0/24", "10.0.1.0/24", "172.16.0.1-172.16.0.9",
                                                "10.0.0.0/24", NULL });
        ASSERT_EQ(set_check_elements(s, NULL), 0);
        ASSERT_EQ(set_kernel_elements(s, &k, &n), 0);
        /* nft's encoding: an end element at zero first, an end after each
         * range (adjacent ranges: end, then start, at the same key), none
         * after a range that runs to the last address */
        ASSERT_EQ((long long) n, (long long) ELEMENTSOF(want));
        for (size_t i = 0; i < n; i++) {
                char a[INET_ADDRSTRLEN];

                inet_ntop(AF_INET, k[i].key, a, sizeof a);
                ASSERT_STREQ(a, want[i].key);
                ASSERT_EQ(!!(k[i].flags & NFT_SET_ELEM_INTERVAL_END), want[i].end);
        }

        /* and back, as a dump reads it */
        {
                NftSet back = { .key = NFT_KEY_IPV4_ADDR, .key_len = 4, .kflags = NFT_SET_INTERVAL,
                                .kelems = k, .n_kelems = n };
                char *str;

                ASSERT_EQ(set_elements_from_kernel(&back), 0);
                ASSERT_EQ((long long) back.n_elems, 4);
                ASSERT_EQ(nft_set_element_to_string(&back, 0, &str), 0);
                ASSERT_STREQ(str, "10.0.0.0/24");
                free(str);
                ASSERT_EQ(nft_set_element_to_string(&back, 2, &str), 0);
                ASSERT_STREQ(str, "172.16.0.1-172.16.0.9");
                free(str);
                ASSERT_EQ(nft_set_element_to_string(&back, 3, &str), 0);
                ASSERT_STREQ(str, "255.255.255.0/24");
                free(str);
                free(back.elems);
        }

        /* overlaps and duplicates are named */
        ASSERT_EQ(nft_set_add(t, "bad", NFT_KEY_IPV4_ADDR, NFT_SETFLAG_INTERVAL, &bad), 0);
        add_elements(bad, (const char *const[]) { "10.0.0.0/16", "10.0.3.0/24", NULL });
        ASSERT_EQ(set_check_elements(bad, &e), -EEXIST);
        ASSERT_STREQ(e.object, "set inet t bad");
        ASSERT_STREQ(e.detail, "elements 10.0.0.0/16 and 10.0.3.0/24 overlap");
        nft_error_done(&e);
        ASSERT_EQ(nft_set_add(t, "dup", NFT_KEY_INET_SERVICE, 0, &bad), 0);
        add_elements(bad, (const char *const[]) { "80", "22", "80", NULL });
        ASSERT_EQ(set_check_elements(bad, &e), -EEXIST);
        ASSERT_STREQ(e.detail, "element 80 is given twice");
        nft_error_done(&e);
        /* ranges need an interval set */
        ASSERT_EQ(nft_set_add_element(bad, "1000-2000"), -EINVAL);
        ASSERT_EQ(nft_set_add_element(bad, "http"), -EINVAL);
}

/* A plain set of n IPv4 addresses 10.x.y.z. */
static NftSet *big_set(NftTable *t, const char *name, size_t n, size_t skip) {
        NftSet *s;

        ASSERT_EQ(nft_set_add(t, name, NFT_KEY_IPV4_ADDR, 0, &s), 0);
        for (size_t i = 0; i < n; i++) {
                char a[32];

                if (i == skip)
                        continue;
                snprintf(a, sizeof a, "10.%zu.%zu.%zu", i >> 16 & 255, i >> 8 & 255, i & 255);
                ASSERT_EQ(nft_set_add_element(s, a), 0);
        }
        return s;
}

TEST(test_element_diff) {
        _cleanup_(nft_ruleset_freep) NftRuleset *desired = ruleset(), *live = NULL, *more = ruleset();
        _cleanup_(nft_ruleset_freep) NftRuleset *fewer = ruleset();
        _cleanup_(nft_plan_freep) NftPlan *same = NULL, *add = NULL, *del = NULL;
        _cleanup_(batch_done) Batch b = {};

        big_set(table(desired, NFT_FAMILY_INET, "t"), "s", 10000, 5000);   /* 9,999 elements */
        live = live_from(desired);
        same = plan(desired, live);
        ASSERT_EQ((long long) nft_plan_n_ops(same), 0);

        /* one element more: one element, in one message */
        big_set(table(more, NFT_FAMILY_INET, "t"), "s", 10000, SIZE_MAX);
        add = plan(more, live);
        ASSERT_EQ((long long) nft_plan_n_ops(add), 1);
        ASSERT_EQ(nft_plan_op_kind(add, 0), NFT_KIND_ELEMENTS);
        ASSERT_EQ(nft_plan_op_type(add, 0), NFT_OP_ADD);
        ASSERT_EQ((long long) nft_plan_op_count(add, 0), 1);
        ASSERT_STREQ(describe(add, 0), "add 1 element to set inet t s");
        ASSERT_EQ((long long) plan_messages(add), 1);
        ASSERT_EQ(batch_build(add, 100, &b), 0);
        ASSERT_EQ((long long) b.n, 1);

        /* one fewer: one deletion */
        big_set(table(fewer, NFT_FAMILY_INET, "t"), "s", 9999, 5000);
        del = plan(fewer, live);
        ASSERT_EQ((long long) nft_plan_n_ops(del), 1);
        ASSERT_STREQ(describe(del, 0), "delete 1 element from set inet t s");
}

TEST(test_interval_split) {
        _cleanup_(nft_ruleset_freep) NftRuleset *desired = ruleset(), *live = NULL, *next = ruleset();
        _cleanup_(nft_plan_freep) NftPlan *p = NULL;
        NftSet *s;

        ASSERT_EQ(nft_set_add(table(desired, NFT_FAMILY_INET, "t"), "n", NFT_KEY_IPV4_ADDR, NFT_SETFLAG_INTERVAL,
                              &s), 0);
        add_elements(s, (const char *const[]) { "10.0.0.0/23", "192.168.0.0/24", NULL });
        live = live_from(desired);

        /* A range split in three: the kernel refuses an element inside a
         * range it holds, so the old range goes whole (start and end) and
         * the new ones come whole; the range that stays is not touched. */
        ASSERT_EQ(nft_set_add(table(next, NFT_FAMILY_INET, "t"), "n", NFT_KEY_IPV4_ADDR, NFT_SETFLAG_INTERVAL, &s), 0);
        add_elements(s, (const char *const[]) { "10.0.0.0/25", "10.0.0.128/25", "10.0.1.0/24", "192.168.0.0/24",
                                                NULL });
        p = plan(next, live);
        ASSERT_EQ((long long) nft_plan_n_ops(p), 2);
        ASSERT_STREQ(describe(p, 0), "delete 2 elements from set inet t n");
        ASSERT_STREQ(describe(p, 1), "add 6 elements to set inet t n");
}

TEST(test_set_recreated) {
        _cleanup_(nft_ruleset_freep) NftRuleset *desired = ruleset(), *live = NULL, *changed = ruleset();
        _cleanup_(nft_plan_freep) NftPlan *p = NULL;
        NftTable *t = table(desired, NFT_FAMILY_INET, "t"), *t2 = table(changed, NFT_FAMILY_INET, "t");
        NftSet *s;
        NftRule *r;

        ASSERT_EQ(nft_set_add(t, "ports", NFT_KEY_INET_SERVICE, NFT_SETFLAG_CONSTANT, &s), 0);
        add_elements(s, (const char *const[]) { "22", "80", NULL });
        r = rule(base_chain(t, "input", "filter", NFT_HOOK_INPUT, 0, NFT_POLICY_DROP));
        ASSERT_EQ(nft_rule_match_set(r, NFT_FIELD_TCP_DPORT, false, "ports"), 0);
        ASSERT_EQ(nft_rule_verdict(r, NFT_VERDICT_ACCEPT), 0);
        live = live_from(desired);

        /* a constant set whose elements change is made anew, and the rule
         * that refers to it must let go of it first */
        ASSERT_EQ(nft_set_add(t2, "ports", NFT_KEY_INET_SERVICE, NFT_SETFLAG_CONSTANT, &s), 0);
        add_elements(s, (const char *const[]) { "22", "443", NULL });
        r = rule(base_chain(t2, "input", "filter", NFT_HOOK_INPUT, 0, NFT_POLICY_DROP));
        ASSERT_EQ(nft_rule_match_set(r, NFT_FIELD_TCP_DPORT, false, "ports"), 0);
        ASSERT_EQ(nft_rule_verdict(r, NFT_VERDICT_ACCEPT), 0);
        p = plan(changed, live);
        ASSERT_EQ((long long) nft_plan_n_ops(p), 5);
        ASSERT_STREQ(describe(p, 0), "delete rule inet t input handle 1");
        ASSERT_STREQ(describe(p, 1), "delete set inet t ports");
        ASSERT_STREQ(describe(p, 2), "add set inet t ports");
        ASSERT_STREQ(describe(p, 3), "add 2 elements to set inet t ports");
        ASSERT_STREQ(describe(p, 4), "add rule inet t input #1");
}

/* ---- rules -------------------------------------------------------------------- */

static NftRule *port_rule(NftChain *c, const char *port, const char *name) {
        NftRule *r = ssh_rule(c, port);

        if (name)
                ASSERT_EQ(nft_rule_set_name(r, name), 0);
        return r;
}

TEST(test_rule_diff) {
        _cleanup_(nft_ruleset_freep) NftRuleset *desired = ruleset(), *live = NULL, *next = ruleset();
        _cleanup_(nft_plan_freep) NftPlan *p = NULL;
        NftChain *c = base_chain(table(desired, NFT_FAMILY_INET, "t"), "input", "filter", NFT_HOOK_INPUT, 0,
                                 NFT_POLICY_DROP);
        NftChain *n = base_chain(table(next, NFT_FAMILY_INET, "t"), "input", "filter", NFT_HOOK_INPUT, 0,
                                 NFT_POLICY_DROP);
        const NftOp *op;

        /* live: 1 2 3 named:4 5 (handles 1..5) */
        port_rule(c, "1", NULL);
        port_rule(c, "2", NULL);
        port_rule(c, "3", NULL);
        port_rule(c, "4", "four");
        port_rule(c, "5", NULL);
        live = live_from(desired);

        /* desired: 0 1 3 new four(changed) 5 5 */
        port_rule(n, "100", NULL);
        port_rule(n, "1", NULL);
        port_rule(n, "3", NULL);
        port_rule(n, "33", NULL);
        port_rule(n, "44", "four");
        port_rule(n, "5", NULL);
        port_rule(n, "5", NULL);
        p = plan(next, live);
        ASSERT_EQ((long long) nft_plan_n_ops(p), 5);
        /* deletions first: rule 2 */
        ASSERT_STREQ(describe(p, 0), "delete rule inet t input handle 2");
        /* new rules before the next rule that stays */
        ASSERT_STREQ(describe(p, 1), "add rule inet t input #1");
        op = &p->ops[1];
        ASSERT_EQ((long long) op->handle, 1);
        op = &p->ops[2];
        ASSERT_EQ(op->rule, n->rules[3]);
        ASSERT_EQ((long long) op->handle, 4);          /* before "four" */
        op = &p->ops[3];
        ASSERT_EQ(op->rule, n->rules[6]);
        ASSERT_EQ((long long) op->handle, 0);          /* the second 5: appended */
        /* the named rule changed in place, last */
        ASSERT_STREQ(describe(p, 4), "replace rule inet t input #5 \"four\" (handle 4)");

        /* the objects of the operations: deletions the live ones, the
         * others the desired ones */
        ASSERT_TRUE(nft_plan_op_rule(p, 0) == live->tables[0]->chains[0]->rules[1]);
        ASSERT_TRUE(nft_plan_op_chain(p, 0) == live->tables[0]->chains[0]);
        ASSERT_TRUE(nft_plan_op_rule(p, 4) == n->rules[4]);
        ASSERT_STREQ(nft_rule_name(nft_plan_op_rule(p, 4)), "four");
        ASSERT_TRUE(nft_plan_op_chain(p, 4) == n);
        ASSERT_TRUE(nft_plan_op_set(p, 4) == NULL);
}

TEST(test_rule_moved) {
        _cleanup_(nft_ruleset_freep) NftRuleset *desired = ruleset(), *live = NULL, *next = ruleset();
        _cleanup_(nft_plan_freep) NftPlan *p = NULL;
        NftChain *c = base_chain(table(desired, NFT_FAMILY_INET, "t"), "input", "filter", NFT_HOOK_INPUT, 0,
                                 NFT_POLICY_DROP);
        NftChain *n = base_chain(table(next, NFT_FAMILY_INET, "t"), "input", "filter", NFT_HOOK_INPUT, 0,
                                 NFT_POLICY_DROP);

        for (int i = 1; i <= 5; i++) {
                char port[8];

                snprintf(port, sizeof port, "%d", i);
                port_rule(c, port, NULL);
        }
        live = live_from(desired);
        /* 5 moved to the front: the longest run in order stays (1..4),
         * 5 goes and comes back before 1 */
        port_rule(n, "5", NULL);
        for (int i = 1; i <= 4; i++) {
                char port[8];

                snprintf(port, sizeof port, "%d", i);
                port_rule(n, port, NULL);
        }
        p = plan(next, live);
        ASSERT_EQ((long long) nft_plan_n_ops(p), 2);
        ASSERT_STREQ(describe(p, 0), "delete rule inet t input handle 5");
        ASSERT_STREQ(describe(p, 1), "add rule inet t input #1");
        ASSERT_EQ((long long) p->ops[1].handle, 1);
}

TEST(test_chains_and_tables) {
        _cleanup_(nft_ruleset_freep) NftRuleset *desired = ruleset(), *live = NULL, *next = ruleset();
        _cleanup_(nft_plan_freep) NftPlan *p = NULL;
        NftTable *t = table(desired, NFT_FAMILY_INET, "t"), *t2 = table(next, NFT_FAMILY_INET, "t");
        NftChain *c;

        c = base_chain(t, "input", "filter", NFT_HOOK_INPUT, 0, NFT_POLICY_DROP);
        port_rule(c, "22", NULL);
        c = base_chain(t, "forward", "filter", NFT_HOOK_FORWARD, 0, NFT_POLICY_DROP);
        port_rule(c, "22", NULL);
        ASSERT_EQ(nft_chain_add(t, "gone", NULL, NULL), 0);
        ASSERT_EQ(nft_table_add(desired, NFT_FAMILY_IPV4, "old", NULL), 0);
        live = live_from(desired);

        /* policy: updated in place; priority: the chain is made anew with
         * its rules; a chain no longer wanted goes; a disowned table goes */
        c = base_chain(t2, "input", "filter", NFT_HOOK_INPUT, 0, NFT_POLICY_ACCEPT);
        port_rule(c, "22", NULL);
        c = base_chain(t2, "forward", "filter", NFT_HOOK_FORWARD, 10, NFT_POLICY_DROP);
        port_rule(c, "22", NULL);
        ASSERT_EQ(nft_table_add_absent(next, NFT_FAMILY_IPV4, "old"), 0);
        ASSERT_EQ(nft_table_add_absent(next, NFT_FAMILY_IPV4, "never"), 0);
        p = plan(next, live);
        ASSERT_EQ((long long) nft_plan_n_ops(p), 6);
        ASSERT_STREQ(describe(p, 0), "delete chain inet t gone");
        ASSERT_STREQ(describe(p, 1), "delete chain inet t forward");
        ASSERT_STREQ(describe(p, 2), "delete table ip old");
        ASSERT_STREQ(describe(p, 3), "update chain inet t input: policy accept");
        ASSERT_STREQ(describe(p, 4), "add chain inet t forward");
        ASSERT_STREQ(describe(p, 5), "add rule inet t forward #1");
}

TEST(test_references_checked) {
        _cleanup_(nft_ruleset_freep) NftRuleset *rs = ruleset();
        NftTable *t = table(rs, NFT_FAMILY_INET, "t");
        NftChain *c = base_chain(t, "input", "filter", NFT_HOOK_INPUT, 0, NFT_POLICY_DROP);
        NftPlan *p = NULL;
        NftError e = {};
        NftRule *r = rule(c);

        ASSERT_EQ(nft_rule_set_name(r, "to-nowhere"), 0);
        ASSERT_EQ(nft_rule_jump(r, "nowhere"), 0);
        ASSERT_EQ(nft_plan_new(rs, NULL, &p, &e), -ENOENT);
        ASSERT_STREQ(e.object, "rule inet t input #1 \"to-nowhere\"");
        ASSERT_STREQ(e.detail, "no chain \"nowhere\" in the table");
        nft_error_done(&e);
        /* the check alone finds the same */
        ASSERT_EQ(nft_ruleset_check(rs, &e), -ENOENT);
        ASSERT_STREQ(e.object, "rule inet t input #1 \"to-nowhere\"");
        ASSERT_STREQ(e.detail, "no chain \"nowhere\" in the table");
        nft_error_done(&e);
        ASSERT_EQ(nft_ruleset_check(NULL, &e), -EINVAL);
        ASSERT_EQ(nft_chain_add(t, "nowhere", NULL, NULL), 0);
        r = rule(c);
        ASSERT_EQ(nft_rule_jump(r, "input"), 0);
        ASSERT_EQ(nft_plan_new(rs, NULL, &p, &e), -EINVAL);
        ASSERT_STREQ(e.object, "rule inet t input #2");
        nft_error_done(&e);
        for (size_t i = 0; i < r->n_exprs; i++)
                expr_done(&r->exprs[i]);
        r->n_exprs = 0;
        ASSERT_EQ(nft_rule_match_set(r, NFT_FIELD_IP_SADDR, true, "blocked"), 0);
        r->has_digest = false;
        ASSERT_EQ(nft_plan_new(rs, NULL, &p, &e), -ENOENT);
        ASSERT_STREQ(e.detail, "no set \"blocked\" in the table");
        nft_error_done(&e);
        ASSERT_TRUE(p == NULL);
        ASSERT_EQ(nft_set_add(t, "blocked", NFT_KEY_IPV4_ADDR, 0, NULL), 0);
        ASSERT_EQ(nft_ruleset_check(rs, &e), 0);
}

/* ---- the batch -------------------------------------------------------------------- */

TEST(test_batch) {
        _cleanup_(nft_ruleset_freep) NftRuleset *rs = ruleset(), *live = ruleset();
        _cleanup_(nft_plan_freep) NftPlan *p = NULL;
        _cleanup_(batch_done) Batch b = {};
        NftTable *t = table(rs, NFT_FAMILY_INET, "t");
        NftChain *c = base_chain(t, "input", "filter", NFT_HOOK_INPUT, 0, NFT_POLICY_DROP);
        static const uint16_t types[] = {
                NFNL_MSG_BATCH_BEGIN, NFT_MSG_NEWTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWSET,
                NFT_MSG_NEWSETELEM, NFT_MSG_NEWSETELEM, NFT_MSG_NEWSETELEM, NFT_MSG_NEWSETELEM,
                NFT_MSG_NEWRULE, NFT_MSG_NEWRULE, NFNL_MSG_BATCH_END,
        };
        size_t i = 0;

        big_set(t, "s", 10000, SIZE_MAX);
        port_rule(c, "22", "ssh");
        ASSERT_EQ(nft_rule_match_set(rule(c), NFT_FIELD_IP_SADDR, false, "s"), 0);
        /* an empty live ruleset read at generation 7 */
        live->has_genid = true;
        live->genid = 7;
        p = plan(rs, live);
        ASSERT_EQ(batch_build(p, 1000, &b), 0);
        ASSERT_EQ((long long) b.n, (long long) ELEMENTSOF(types) - 2);
        ASSERT_EQ((long long) plan_messages(p), (long long) b.n);

        for (const uint8_t *q = b.buf.data; q < b.buf.data + b.buf.len; i++) {
                const struct nlmsghdr *nlh = (const struct nlmsghdr *) q;
                uint16_t type = i == 0 || i == b.n + 1 ? nlh->nlmsg_type : NFNL_MSG_TYPE(nlh->nlmsg_type);

                ASSERT_TRUE(i < ELEMENTSOF(types));
                ASSERT_EQ(type, types[i]);
                ASSERT_EQ(nlh->nlmsg_seq, 1000 + i);
                ASSERT_TRUE(nlh->nlmsg_len < 64 * 1024);
                if (i == 0) {
                        /* begin: for nftables, with the generation it was computed against */
                        const struct nfgenmsg *g = NLMSG_DATA(nlh);
                        const struct nlattr *a = (const struct nlattr *) ((const char *) g + NLMSG_ALIGN(sizeof *g));

                        ASSERT_EQ(ntohs(g->res_id), NFNL_SUBSYS_NFTABLES);
                        ASSERT_EQ(a->nla_type, NFNL_BATCH_GENID);
                        ASSERT_EQ(ntohl(*(const uint32_t *) ((const char *) a + NLA_HDRLEN)), 7);
                } else if (i <= b.n) {
                        ASSERT_EQ(NFNL_SUBSYS_ID(nlh->nlmsg_type), NFNL_SUBSYS_NFTABLES);
                        ASSERT_TRUE(nlh->nlmsg_flags & NLM_F_ACK);
                        ASSERT_EQ(b.op_of[i - 1] < nft_plan_n_ops(p), true);
                }
                q += NLMSG_ALIGN(nlh->nlmsg_len);
        }
        ASSERT_EQ((long long) i, (long long) ELEMENTSOF(types));
}

TEST(test_error_mapping) {
        _cleanup_(nft_ruleset_freep) NftRuleset *rs = ruleset();
        _cleanup_(nft_plan_freep) NftPlan *p = NULL;
        _cleanup_(batch_done) Batch b = {};
        NftTable *t = table(rs, NFT_FAMILY_INET, "t");
        NftChain *c = base_chain(t, "input", "filter", NFT_HOOK_INPUT, 0, NFT_POLICY_DROP);
        NftError e = {};
        size_t rule_msg = SIZE_MAX, second_chunk = SIZE_MAX;

        big_set(t, "s", 10000, SIZE_MAX);
        port_rule(c, "22", NULL);
        port_rule(c, "23", "telnet");
        p = plan(rs, NULL);
        ASSERT_EQ(batch_build(p, 1, &b), 0);
        for (size_t i = 0; i < b.n; i++) {
                const NftOp *op = &p->ops[b.op_of[i]];

                if (op->kind == NFT_KIND_RULE && op->rule == c->rules[1])
                        rule_msg = i;
                if (op->kind == NFT_KIND_ELEMENTS && b.chunk_of[i] == 1)
                        second_chunk = i;
        }
        ASSERT_TRUE(rule_msg != SIZE_MAX && second_chunk != SIZE_MAX);

        /* the kernel's errno, on the object of the first message it refused */
        b.errors[rule_msg] = -EOPNOTSUPP;
        ASSERT_EQ(batch_failure(p, &b, &e), -EOPNOTSUPP);
        ASSERT_EQ(e.error, -EOPNOTSUPP);
        ASSERT_STREQ(e.object, "rule inet t input #2 \"telnet\"");
        ASSERT_STREQ(e.detail, "add rule inet t input #2 \"telnet\"");
        nft_error_done(&e);

        /* elements: the set, and where in it the refused message started */
        b.errors[second_chunk] = -EEXIST;
        ASSERT_EQ(batch_failure(p, &b, &e), -EEXIST);
        ASSERT_STREQ(e.object, "set inet t s");
        ASSERT_CONTAINS(e.detail, "add 10000 elements to set inet t s (the message from element 10.0.");
        nft_error_done(&e);
}

/* The value of a string attribute type in a request, or NULL. */
static const char *attr_str(const NftBuf *b, uint16_t type) {
        const struct nlmsghdr *nlh = (const struct nlmsghdr *) b->data;
        size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));

        while (off + NLA_HDRLEN <= nlh->nlmsg_len) {
                const struct nlattr *a = (const struct nlattr *) (b->data + off);

                if (a->nla_type == type)
                        return (const char *) a + NLA_HDRLEN;
                off += NLA_ALIGN(a->nla_len);
        }
        return NULL;
}

TEST(test_dump_requests) {
        /* rules, sets and elements are asked for by table: the kernel sends
         * nothing of the others; chains cannot be (no such filter) */
        static const struct {
                uint16_t type;
                uint16_t table_attr;
                uint16_t flags;
        } cases[] = {
                { NFT_MSG_GETTABLE, NFTA_TABLE_NAME, NLM_F_ACK },
                { NFT_MSG_GETSET, NFTA_SET_TABLE, NLM_F_DUMP },
                { NFT_MSG_GETSETELEM, NFTA_SET_ELEM_LIST_TABLE, NLM_F_DUMP },
                { NFT_MSG_GETRULE, NFTA_RULE_TABLE, NLM_F_DUMP },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(nft_buf_done) NftBuf b = {};

                ASSERT_EQ(dump_request_build(&b, cases[i].type, NFT_FAMILY_INET, "mine", "s", 5), 0);
                ASSERT_STREQ(attr_str(&b, cases[i].table_attr), "mine");
                ASSERT_EQ(((const struct nlmsghdr *) b.data)->nlmsg_flags & (NLM_F_ACK | NLM_F_DUMP), cases[i].flags);
        }
        {
                _cleanup_(nft_buf_done) NftBuf b = {};

                ASSERT_EQ(dump_request_build(&b, NFT_MSG_GETSETELEM, NFT_FAMILY_INET, "mine", "s", 5), 0);
                ASSERT_STREQ(attr_str(&b, NFTA_SET_ELEM_LIST_SET), "s");
        }
}

TEST(test_strings) {
        ASSERT_STREQ(nft_family_to_string(NFT_FAMILY_IPV6), "ip6");
        ASSERT_EQ(nft_family_from_string("netdev"), NFT_FAMILY_NETDEV);
        ASSERT_EQ(nft_family_from_string("ipx"), -EINVAL);
        ASSERT_EQ(nft_hook_from_string("postrouting"), NFT_HOOK_POSTROUTING);
        ASSERT_EQ(nft_hook_from_string("x"), _NFT_HOOK_INVALID);
        ASSERT_EQ(nft_key_type_from_string("inet_service"), NFT_KEY_INET_SERVICE);
        ASSERT_EQ(nft_field_from_string("udp dport"), NFT_FIELD_UDP_DPORT);
        ASSERT_STREQ(nft_field_to_string(NFT_FIELD_ICMPV6_TYPE), "icmpv6 type");
        for (NftField f = 0; f < _NFT_FIELD_MAX; f++)
                ASSERT_EQ(nft_field_from_string(nft_field_to_string(f)), f);
}

int main(void) {
        RUN(test_builders_bytecode);
        RUN(test_builders_refuse);
        RUN(test_identity);
        RUN(test_interval_elements);
        RUN(test_element_diff);
        RUN(test_interval_split);
        RUN(test_set_recreated);
        RUN(test_rule_diff);
        RUN(test_rule_moved);
        RUN(test_chains_and_tables);
        RUN(test_references_checked);
        RUN(test_batch);
        RUN(test_error_mapping);
        RUN(test_dump_requests);
        RUN(test_strings);
        return 0;
}
