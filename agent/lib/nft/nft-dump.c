/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Reading the caller's tables back: one get per table, the chains of the
 * family (the kernel cannot filter those by table: the others are skipped
 * unread), the table's sets and each set's elements, the table's rules.
 * The generation before and after must agree, else it is read again. */

#include <netinet/in.h>
#include <sys/socket.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "macro.h"
#include "nft-internal.h"
#include "nft-netlink.h"

#define DUMP_TRIES 8

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_table *, nftnl_table_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_chain *, nftnl_chain_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_set *, nftnl_set_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_set_elems_iter *, nftnl_set_elems_iter_destroy);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_rule *, nftnl_rule_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_gen *, nftnl_gen_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(NftRuleset *, nft_ruleset_free);

/* The request of a get or a dump: GETGEN, GETTABLE (table), GETCHAIN
 * (the family: the kernel has no table filter for chains), GETSET (table),
 * GETSETELEM (table, set), GETRULE (table). */
int dump_request_build(NftBuf *b, uint16_t type, int family, const char *table, const char *set, uint32_t seq) {
        struct nlmsghdr *nlh;
        uint16_t flags = type == NFT_MSG_GETGEN || type == NFT_MSG_GETTABLE ? NLM_F_ACK : NLM_F_DUMP;
        char *p;
        int r;

        r = nft_buf_room(b, &p);
        if (r < 0)
                return r;
        nlh = nftnl_nlmsg_build_hdr(p, type, (uint16_t) family, flags, seq);
        switch (type) {
        case NFT_MSG_GETGEN:
        case NFT_MSG_GETCHAIN:
                break;
        case NFT_MSG_GETTABLE: {
                _cleanup_(nftnl_table_freep) struct nftnl_table *t = nftnl_table_alloc();

                if (!t || nftnl_table_set_str(t, NFTNL_TABLE_NAME, table) < 0)
                        return -ENOMEM;
                nftnl_table_nlmsg_build_payload(nlh, t);
                break;
        }
        case NFT_MSG_GETSET:
        case NFT_MSG_GETSETELEM: {
                _cleanup_(nftnl_set_freep) struct nftnl_set *s = nftnl_set_alloc();

                if (!s || nftnl_set_set_str(s, NFTNL_SET_TABLE, table) < 0 ||
                    (set && nftnl_set_set_str(s, NFTNL_SET_NAME, set) < 0))
                        return -ENOMEM;
                if (type == NFT_MSG_GETSET)
                        nftnl_set_nlmsg_build_payload(nlh, s);
                else
                        nftnl_set_elems_nlmsg_build_payload(nlh, s);
                break;
        }
        case NFT_MSG_GETRULE: {
                _cleanup_(nftnl_rule_freep) struct nftnl_rule *nr = nftnl_rule_alloc();

                if (!nr || nftnl_rule_set_str(nr, NFTNL_RULE_TABLE, table) < 0)
                        return -ENOMEM;
                nftnl_rule_nlmsg_build_payload(nlh, nr);
                break;
        }
        default:
                return -EINVAL;
        }
        nft_buf_commit(b, nlh);
        return 0;
}

/* Sends a request and reads the answer. */
static int request(NftNl *nl, uint16_t type, int family, const char *table, const char *set,
                   NftNlHandler handler, void *userdata) {
        _cleanup_(nft_buf_done) NftBuf b = {};
        int r;

        r = dump_request_build(&b, type, family, table, set, nft_nl_seq(nl, 1));
        if (r < 0)
                return r;
        return nft_nl_request(nl, (const struct nlmsghdr *) b.data, handler, userdata);
}

/* ---- generation ----------------------------------------------------------- */

static int on_gen(const struct nlmsghdr *nlh, void *userdata) {
        _cleanup_(nftnl_gen_freep) struct nftnl_gen *g = nftnl_gen_alloc();

        if (!g)
                return -ENOMEM;
        if (nft_msg_check(nlh, NFT_MSG_NEWGEN) < 0 || nftnl_gen_nlmsg_parse(nlh, g) < 0 ||
            !nftnl_gen_is_set(g, NFTNL_GEN_ID))
                return -EBADMSG;
        *(uint32_t *) userdata = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
        return 0;
}

static int get_genid(NftNl *nl, uint32_t *ret) {
        return request(nl, NFT_MSG_GETGEN, AF_UNSPEC, NULL, NULL, on_gen, ret);
}

/* ---- tables and chains ------------------------------------------------------- */

static int on_table(const struct nlmsghdr *nlh, void *userdata) {
        _cleanup_(nftnl_table_freep) struct nftnl_table *t = nftnl_table_alloc();
        Reading *rd = userdata;

        if (!t)
                return -ENOMEM;
        if (nft_msg_check(nlh, NFT_MSG_NEWTABLE) < 0 || nftnl_table_nlmsg_parse(nlh, t) < 0)
                return -EBADMSG;
        rd->table->flags = nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS);
        rd->table->handle = nftnl_table_get_u64(t, NFTNL_TABLE_HANDLE);
        return 0;
}

static int on_chain(const struct nlmsghdr *nlh, void *userdata) {
        _cleanup_(nftnl_chain_freep) struct nftnl_chain *c = nftnl_chain_alloc();
        Reading *rd = userdata;
        const char *table, *name;
        NftChain *chain;
        int r;

        if (!c)
                return -ENOMEM;
        if (nft_msg_check(nlh, NFT_MSG_NEWCHAIN) < 0 || nftnl_chain_nlmsg_parse(nlh, c) < 0)
                return -EBADMSG;
        table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
        name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
        if (!table || !name)
                return -EBADMSG;
        if (!streq(table, rd->table->name))
                return 0;               /* another table's: not ours to read */

        r = chain_new(rd->table, name, &chain);
        if (r < 0)
                return r;
        chain->handle = nftnl_chain_get_u64(c, NFTNL_CHAIN_HANDLE);
        if (!nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM))
                return 0;
        chain->base = true;
        chain->hooknum = nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM);
        chain->priority = nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO);
        chain->policy = nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_DROP ? NFT_POLICY_DROP : NFT_POLICY_ACCEPT;
        chain->type = strdup(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE) ?: "");
        if (!chain->type)
                return -ENOMEM;
        if (nftnl_chain_is_set(c, NFTNL_CHAIN_DEV)) {
                chain->device = strdup(nftnl_chain_get_str(c, NFTNL_CHAIN_DEV));
                if (!chain->device)
                        return -ENOMEM;
        }
        return 0;
}

/* ---- sets ---------------------------------------------------------------------- */

static int on_set(const struct nlmsghdr *nlh, void *userdata) {
        _cleanup_(nftnl_set_freep) struct nftnl_set *s = nftnl_set_alloc();
        Reading *rd = userdata;
        const char *table, *name;
        NftSet *set;
        int r;

        if (!s)
                return -ENOMEM;
        if (nft_msg_check(nlh, NFT_MSG_NEWSET) < 0 || nftnl_set_nlmsg_parse(nlh, s) < 0)
                return -EBADMSG;
        table = nftnl_set_get_str(s, NFTNL_SET_TABLE);
        name = nftnl_set_get_str(s, NFTNL_SET_NAME);
        if (!table || !name)
                return -EBADMSG;
        if (!streq(table, rd->table->name))
                return 0;
        /* Anonymous sets belong to the rules that use them. */
        if (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS)
                return 0;

        r = set_new(rd->table, name, &set);
        if (r < 0)
                return r;
        set->kflags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
        set->key_type_id = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE);
        set->key_len = MIN(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), (uint32_t) EXPR_DATA_MAX);
        set->key = key_type_by_id(set->key_type_id, set->key_len);
        set->handle = nftnl_set_get_u64(s, NFTNL_SET_HANDLE);
        set->dumped = true;
        return 0;
}

static int on_elements(const struct nlmsghdr *nlh, void *userdata) {
        _cleanup_(nftnl_set_freep) struct nftnl_set *s = nftnl_set_alloc();
        _cleanup_(nftnl_set_elems_iter_destroyp) struct nftnl_set_elems_iter *it = NULL;
        NftSet *set = ((Reading *) userdata)->set;
        struct nftnl_set_elem *e;

        if (!s)
                return -ENOMEM;
        if (nft_msg_check(nlh, NFT_MSG_NEWSETELEM) < 0 || nftnl_set_elems_nlmsg_parse(nlh, s) < 0)
                return -EBADMSG;
        it = nftnl_set_elems_iter_create(s);
        if (!it)
                return -ENOMEM;
        while ((e = nftnl_set_elems_iter_next(it))) {
                const void *key;
                uint32_t len = 0;
                KElem k = {};

                key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
                if (!key)
                        continue;
                memcpy(k.key, key, MIN(len, (uint32_t) EXPR_DATA_MAX));
                if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
                        k.flags = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END;
                if (greedy_realloc((void **) &set->kelems, &set->allocated_kelems, set->n_kelems + 1,
                                   sizeof *set->kelems) < 0)
                        return -ENOMEM;
                set->kelems[set->n_kelems++] = k;
        }
        return 0;
}

/* The kernel's elements, all read: sorted, and the model's made of them. */
static int elements_done(NftSet *set) {
        if (set->n_kelems > 0)
                qsort_r(set->kelems, set->n_kelems, sizeof *set->kelems, kelem_compare, &set->key_len);
        return set_elements_from_kernel(set);
}

static int read_elements(NftNl *nl, Reading *rd, NftSet *set) {
        int r;

        rd->set = set;
        r = request(nl, NFT_MSG_GETSETELEM, rd->table->family, rd->table->name, set->name, on_elements, rd);
        rd->set = NULL;
        if (r < 0)
                return r;
        return elements_done(set);
}

/* ---- rules --------------------------------------------------------------------- */

static int on_expr(struct nftnl_expr *ne, void *userdata) {
        NftRule *r = userdata;
        NftExpr e;
        int k;

        k = expr_from_nftnl(ne, &e);
        if (k < 0)
                return k;
        return rule_append_expr(r, &e);
}

static int on_rule(const struct nlmsghdr *nlh, void *userdata) {
        _cleanup_(nftnl_rule_freep) struct nftnl_rule *nr = nftnl_rule_alloc();
        Reading *rd = userdata;
        const char *table, *chain;
        const void *udata;
        uint32_t len;
        NftChain *c;
        NftRule *r;
        int k;

        if (!nr)
                return -ENOMEM;
        if (nft_msg_check(nlh, NFT_MSG_NEWRULE) < 0 || nftnl_rule_nlmsg_parse(nlh, nr) < 0)
                return -EBADMSG;
        table = nftnl_rule_get_str(nr, NFTNL_RULE_TABLE);
        chain = nftnl_rule_get_str(nr, NFTNL_RULE_CHAIN);
        if (!table || !chain)
                return -EBADMSG;
        if (!streq(table, rd->table->name))
                return 0;
        c = nft_table_find_chain(rd->table, chain);
        if (!c)
                return -EAGAIN;         /* added after the chains were read */

        k = rule_new(c, &r);
        if (k < 0)
                return k;
        r->handle = nftnl_rule_get_u64(nr, NFTNL_RULE_HANDLE);
        udata = nftnl_rule_get_data(nr, NFTNL_RULE_USERDATA, &len);
        if (udata) {
                k = rule_udata_parse(r, udata, len);
                if (k < 0)
                        return k;
        }
        return nftnl_expr_foreach(nr, on_expr, r);
}

const NftDumpParser nft_dump_parsers[_NFT_DUMP_MAX] = {
        [NFT_DUMP_TABLE] = { "table", NFT_MSG_GETTABLE, on_table, false, NULL },
        [NFT_DUMP_CHAIN] = { "chain", NFT_MSG_GETCHAIN, on_chain, false, NULL },
        [NFT_DUMP_SET] = { "set", NFT_MSG_GETSET, on_set, false, NULL },
        [NFT_DUMP_ELEMENTS] = { "elements", NFT_MSG_GETSETELEM, on_elements, true, elements_done },
        [NFT_DUMP_RULE] = { "rule", NFT_MSG_GETRULE, on_rule, false, NULL },
};

/* ---- one table ------------------------------------------------------------- */

static int read_table(NftNl *nl, NftRuleset *rs, const NftTable *owned) {
        Reading rd = {};
        NftTable probe = { .family = owned->family, .name = owned->name };
        int family = owned->family, r;

        rd.table = &probe;
        r = request(nl, NFT_MSG_GETTABLE, family, owned->name, NULL, on_table, &rd);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = table_new(rs, family, owned->name, true, &rd.table);
        if (r < 0)
                return r;
        rd.table->flags = probe.flags;
        rd.table->handle = probe.handle;

        r = request(nl, NFT_MSG_GETCHAIN, family, NULL, NULL, on_chain, &rd);
        if (r < 0)
                return r;
        r = request(nl, NFT_MSG_GETSET, family, owned->name, NULL, on_set, &rd);
        if (r < 0)
                return r;
        for (size_t i = 0; i < rd.table->n_sets; i++) {
                r = read_elements(nl, &rd, rd.table->sets[i]);
                if (r < 0)
                        return r;
        }

        return request(nl, NFT_MSG_GETRULE, family, owned->name, NULL, on_rule, &rd);
}

static int dump_once(NftNl *nl, const NftRuleset *owned, NftRuleset **ret) {
        _cleanup_(nft_ruleset_freep) NftRuleset *rs = NULL;
        uint32_t before, after;
        int r;

        r = get_genid(nl, &before);
        if (r < 0)
                return r;
        r = nft_ruleset_new(&rs);
        if (r < 0)
                return r;
        for (size_t i = 0; i < owned->n_tables; i++) {
                r = read_table(nl, rs, owned->tables[i]);
                if (r < 0)
                        return r;
        }
        r = get_genid(nl, &after);
        if (r < 0)
                return r;
        if (before != after)
                return -EAGAIN;
        rs->has_genid = true;
        rs->genid = before;
        *ret = TAKE_PTR(rs);
        return 0;
}

int nft_dump(NftContext *ctx, const NftRuleset *owned, NftRuleset **ret) {
        int r = -EAGAIN;

        if (!ctx || !owned || !ret)
                return -EINVAL;
        for (unsigned i = 0; i < DUMP_TRIES && r == -EAGAIN; i++)
                r = dump_once(context_netlink(ctx), owned, ret);
        return r;
}

int nft_generation(NftContext *ctx, uint32_t *ret) {
        if (!ctx || !ret)
                return -EINVAL;
        return get_genid(context_netlink(ctx), ret);
}

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

int nft_namespace_cookie(NftContext *ctx, uint64_t *ret) {
        uint64_t cookie = 0;
        socklen_t len = sizeof cookie;

        if (!ctx || !ret)
                return -EINVAL;
        if (getsockopt(nft_nl_fd(context_netlink(ctx)), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0)
                return negative_errno();
        if (len != sizeof cookie)
                return -EBADMSG;
        *ret = cookie;
        return 0;
}

int nft_ruleset_generation(const NftRuleset *rs, uint32_t *ret) {
        if (!rs || !ret)
                return -EINVAL;
        if (!rs->has_genid)
                return -ENODATA;
        *ret = rs->genid;
        return 0;
}
