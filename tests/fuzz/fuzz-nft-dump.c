/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the kernel answers to the dumps agent/lib/nft reads op-router's
 * table with (nft_dump()): the first byte picks the parser (table, chain,
 * set, elements, rule: nft_dump_parsers[], nft-internal.h), the rest is a
 * run of netlink messages as one read of a dump delivers them. Only whole
 * messages reach a parser, as nft_nl_request() hands them over: an error
 * or NLMSG_DONE ends the answer, no-ops are skipped, and after a parser's
 * error no message reaches it; what is inside them is anything.
 *
 * The parsers read into op-router's table (inet op-router) with its base
 * chains and a set already there, as when the chains and sets were read
 * before the rules and the elements: rules reach libnftnl's expressions,
 * rule_udata_parse(), expr_from_nftnl() and rule_append_expr(), elements
 * set_elements_from_kernel(). Each parser checks a message with
 * nft_msg_check() before libnftnl reads it: what libnftnl would end the
 * process on, or crash on, is refused. For the elements the first byte
 * also picks the set's key type and flags (its value divided by the
 * number of parsers). */
#include <string.h>
#include <linux/netfilter/nf_tables.h>

#include "fuzz.h"
#include "nft-internal.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(NftRuleset *, nft_ruleset_free);

/* op-router's (plugins/router/firewall/firewall.h) */
#define TABLE "op-router"
static const char *const chains[] = { "input", "forward", "output", "prerouting", "postrouting" };

/* The sets the elements are read into: what nft_set_add() makes. */
static const struct {
        NftKeyType key;
        uint32_t kflags;
} sets[] = {
        { NFT_KEY_IPV4_ADDR, NFT_SET_INTERVAL },
        { NFT_KEY_IPV6_ADDR, 0 },
        { NFT_KEY_INET_SERVICE, NFT_SET_INTERVAL },
        { NFT_KEY_INET_SERVICE, NFT_SET_CONSTANT },
        { NFT_KEY_IFNAME, 0 },
        { NFT_KEY_MARK, 0 },
        { NFT_KEY_INET_PROTO, 0 },
        { NFT_KEY_ETHER_ADDR, 0 },
        { NFT_KEY_IPV6_ADDR, NFT_SET_INTERVAL },
};

static NftTable *table_of(NftRuleset *rs, unsigned shape) {
        const KeyTypeInfo *info = key_type_info(sets[shape].key);
        NftTable *t;
        NftChain *c;
        NftSet *s;

        FUZZ_CHECK(table_new(rs, NFT_FAMILY_INET, TABLE, true, &t) == 0);
        for (size_t i = 0; i < ELEMENTSOF(chains); i++)
                FUZZ_CHECK(chain_new(t, chains[i], &c) == 0);
        FUZZ_CHECK(set_new(t, "s", &s) == 0);
        s->key = sets[shape].key;
        s->key_type_id = info->type_id;
        s->key_len = info->len;
        s->kflags = sets[shape].kflags;
        s->dumped = true;
        return t;
}

/* What was read holds together. */
static void check_table(const NftTable *t, size_t chains_before, size_t sets_before) {
        FUZZ_CHECK(t->n_chains >= chains_before && t->n_sets >= sets_before);
        for (size_t i = 0; i < t->n_chains; i++) {
                const NftChain *c = t->chains[i];

                FUZZ_CHECK(c->table == t && c->name);
                FUZZ_CHECK(!c->base || c->type);
                for (size_t j = 0; j < c->n_rules; j++) {
                        const NftRule *r = c->rules[j];

                        FUZZ_CHECK(r->chain == c && r->n_exprs <= r->allocated);
                        for (size_t k = 0; k < r->n_exprs; k++)
                                FUZZ_CHECK(r->exprs[k].kind <= EXPR_OTHER);
                }
        }
        for (size_t i = 0; i < t->n_sets; i++) {
                const NftSet *s = t->sets[i];

                FUZZ_CHECK(s->table == t && s->name && s->key_len <= EXPR_DATA_MAX);
        }
}

/* The elements, as the firewall's query prints them. */
static void check_elements(NftSet *s) {
        FUZZ_CHECK(s->n_elems <= s->n_kelems + 1);
        for (size_t i = 0; i < nft_set_n_elements(s); i++) {
                _cleanup_(freep) char *text = NULL;
                int r = nft_set_element_to_string(s, i, &text);

                FUZZ_CHECK(r <= 0 && (r < 0 || text));
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(nft_ruleset_freep) NftRuleset *rs = NULL;
        _cleanup_(freep) uint8_t *buf = NULL;
        const NftDumpParser *p;
        size_t len, n_chains, n_sets;
        int failed = 0;
        Reading rd;

        if (size < 1 || size > FUZZ_MAX_INPUT)
                return 0;
        p = &nft_dump_parsers[data[0] % _NFT_DUMP_MAX];
        len = size - 1;
        /* a copy aligned as a receive buffer is, and of the input's size
         * exactly, so that a read past a message is seen */
        buf = malloc(len ?: 1);
        FUZZ_CHECK(buf);
        memcpy(buf, data + 1, len);

        FUZZ_CHECK(nft_ruleset_new(&rs) == 0);
        rd = (Reading) { .table = table_of(rs, data[0] / _NFT_DUMP_MAX % ELEMENTSOF(sets)) };
        if (p->needs_set)
                rd.set = rd.table->sets[0];
        n_chains = rd.table->n_chains;
        n_sets = rd.table->n_sets;

        for (size_t off = 0; len - off >= sizeof(struct nlmsghdr);) {
                const struct nlmsghdr *nlh = (const struct nlmsghdr *) (buf + off);
                size_t step;

                if (nlh->nlmsg_len < sizeof *nlh || nlh->nlmsg_len > len - off)
                        break;
                if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE)
                        break;
                if (nlh->nlmsg_type != NLMSG_NOOP && nlh->nlmsg_type != NLMSG_OVERRUN) {
                        int r = p->parse(nlh, &rd);

                        FUZZ_CHECK(r <= 0);
                        if (r < 0) {
                                failed = r;
                                break;
                        }
                }
                step = NLMSG_ALIGN(nlh->nlmsg_len);
                if (step > len - off)
                        break;
                off += step;
        }
        if (failed == 0 && p->done)
                FUZZ_CHECK(p->done(rd.set) <= 0);
        check_table(rd.table, n_chains, n_sets);
        if (failed == 0 && p->done)
                check_elements(rd.set);
        return 0;
}
