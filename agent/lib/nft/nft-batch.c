/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* A plan as one nfnetlink batch (libnftnl builds each message), sent
 * through the context's socket; the kernel's answers mapped back to the
 * operations by sequence number. */

#include <stdio.h>
#include <netinet/in.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "macro.h"
#include "nft-internal.h"
#include "nft-netlink.h"

/* Set element messages stay well below the 64 KiB an attribute nest can
 * hold. */
#define ELEMENTS_BYTES 60000u

struct NftContext {
        NftNl *nl;
        NftCounters counters;
};

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_table *, nftnl_table_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_chain *, nftnl_chain_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_set *, nftnl_set_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_rule *, nftnl_rule_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_udata_buf *, nftnl_udata_buf_free);

int nft_context_new(NftContext **ret) {
        NftContext *ctx;
        int r;

        ctx = calloc(1, sizeof *ctx);
        if (!ctx)
                return -ENOMEM;
        r = nft_nl_open(0, &ctx->nl);
        if (r < 0) {
                free(ctx);
                return r;
        }
        *ret = ctx;
        return 0;
}

NftContext *nft_context_free(NftContext *ctx) {
        if (!ctx)
                return NULL;
        nft_nl_close(ctx->nl);
        free(ctx);
        return NULL;
}

NftNl *context_netlink(NftContext *ctx) {
        return ctx->nl;
}

void nft_context_counters(const NftContext *ctx, NftCounters *ret) {
        *ret = ctx->counters;
}

void nft_result_done(NftResult *r) {
        if (r)
                nft_error_done(&r->error);
}

/* ---- messages ------------------------------------------------------------ */

/* A message header at the end of the buffer. */
static int begin(NftBuf *b, uint16_t type, int family, uint16_t flags, uint32_t seq, struct nlmsghdr **ret) {
        char *p;
        int r;

        r = nft_buf_room(b, &p);
        if (r < 0)
                return r;
        *ret = nftnl_nlmsg_build_hdr(p, type, (uint16_t) family, flags | NLM_F_ACK, seq);
        return 0;
}

static int table_message(NftBuf *b, const NftOp *op, uint32_t seq) {
        _cleanup_(nftnl_table_freep) struct nftnl_table *t = nftnl_table_alloc();
        const NftTable *tt = op->table;
        struct nlmsghdr *nlh;
        uint16_t type = op->type == NFT_OP_DELETE ? NFT_MSG_DELTABLE : NFT_MSG_NEWTABLE;
        uint16_t flags = op->type == NFT_OP_ADD ? NLM_F_CREATE | NLM_F_EXCL : 0;
        int r;

        if (!t)
                return -ENOMEM;
        nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, (uint32_t) tt->family);
        if (nftnl_table_set_str(t, NFTNL_TABLE_NAME, tt->name) < 0)
                return -ENOMEM;
        if (op->type != NFT_OP_DELETE)
                nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
        r = begin(b, type, tt->family, flags, seq, &nlh);
        if (r < 0)
                return r;
        nftnl_table_nlmsg_build_payload(nlh, t);
        nft_buf_commit(b, nlh);
        return 0;
}

static int chain_message(NftBuf *b, const NftOp *op, uint32_t seq) {
        _cleanup_(nftnl_chain_freep) struct nftnl_chain *c = nftnl_chain_alloc();
        const NftChain *cc = op->chain;
        int family = cc->table->family;
        struct nlmsghdr *nlh;
        uint16_t type = op->type == NFT_OP_DELETE ? NFT_MSG_DELCHAIN : NFT_MSG_NEWCHAIN;
        uint16_t flags = op->type == NFT_OP_ADD ? NLM_F_CREATE | NLM_F_EXCL : 0;
        int r;

        if (!c)
                return -ENOMEM;
        nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, (uint32_t) family);
        if (nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, cc->table->name) < 0 ||
            nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, cc->name) < 0)
                return -ENOMEM;
        if (op->type == NFT_OP_ADD && cc->base) {
                if (nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, cc->type) < 0 ||
                    (cc->device && nftnl_chain_set_str(c, NFTNL_CHAIN_DEV, cc->device) < 0))
                        return -ENOMEM;
                nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, cc->hooknum);
                nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, cc->priority);
        }
        if (op->type != NFT_OP_DELETE && cc->base)
                nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, cc->policy == NFT_POLICY_DROP ? NF_DROP : NF_ACCEPT);
        r = begin(b, type, family, flags, seq, &nlh);
        if (r < 0)
                return r;
        nftnl_chain_nlmsg_build_payload(nlh, c);
        nft_buf_commit(b, nlh);
        return 0;
}

static int set_base(struct nftnl_set *s, const NftSet *ss) {
        nftnl_set_set_u32(s, NFTNL_SET_FAMILY, (uint32_t) ss->table->family);
        if (nftnl_set_set_str(s, NFTNL_SET_TABLE, ss->table->name) < 0 ||
            nftnl_set_set_str(s, NFTNL_SET_NAME, ss->name) < 0)
                return -ENOMEM;
        return 0;
}

static int set_message(NftBuf *b, const NftOp *op, uint32_t seq) {
        _cleanup_(nftnl_set_freep) struct nftnl_set *s = nftnl_set_alloc();
        _cleanup_(nftnl_udata_buf_freep) struct nftnl_udata_buf *u = NULL;
        const NftSet *ss = op->set;
        struct nlmsghdr *nlh;
        int r;

        if (!s)
                return -ENOMEM;
        r = set_base(s, ss);
        if (r < 0)
                return r;
        if (op->type == NFT_OP_ADD) {
                const KeyTypeInfo *info = key_type_info(ss->key);

                /* The kernel wants an id, unique in the batch, for every new set. */
                nftnl_set_set_u32(s, NFTNL_SET_ID, seq);
                nftnl_set_set_u32(s, NFTNL_SET_FLAGS, ss->kflags);
                nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, ss->key_type_id);
                nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, ss->key_len);
                if (ss->kflags & NFT_SET_CONSTANT)
                        nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, (uint32_t) ss->n_elems);
                /* As nft records it, for its listings. */
                u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
                if (!u || !nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER, info ? info->byteorder : 0))
                        return -ENOMEM;
                if (nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(u), nftnl_udata_buf_len(u)) < 0)
                        return -ENOMEM;
        }
        r = begin(b, op->type == NFT_OP_ADD ? NFT_MSG_NEWSET : NFT_MSG_DELSET, ss->table->family,
                  op->type == NFT_OP_ADD ? NLM_F_CREATE | NLM_F_EXCL : 0, seq, &nlh);
        if (r < 0)
                return r;
        nftnl_set_nlmsg_build_payload(nlh, s);
        nft_buf_commit(b, nlh);
        return 0;
}

static size_t elements_per_message(const NftSet *s) {
        /* element nest, key nest, key data, flags */
        size_t each = 4 + 4 + 4 + NLMSG_ALIGN(s->key_len) + 8;

        return ELEMENTS_BYTES / each;
}

static size_t elements_messages(const NftOp *op) {
        size_t per = elements_per_message(op->set);

        return (op->n_elems + per - 1) / per;
}

/* Message chunk of an elements operation. */
static int elements_message(NftBuf *b, const NftOp *op, size_t chunk, uint32_t seq) {
        _cleanup_(nftnl_set_freep) struct nftnl_set *s = nftnl_set_alloc();
        const NftSet *ss = op->set;
        size_t per = elements_per_message(ss), from = chunk * per, to = MIN(from + per, op->n_elems);
        struct nlmsghdr *nlh;
        int r;

        if (!s)
                return -ENOMEM;
        r = set_base(s, ss);
        if (r < 0)
                return r;
        for (size_t i = from; i < to; i++) {
                struct nftnl_set_elem *e = nftnl_set_elem_alloc();

                if (!e)
                        return -ENOMEM;
                if (nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, op->elems[i].key, ss->key_len) < 0) {
                        nftnl_set_elem_free(e);
                        return -ENOMEM;
                }
                if (op->elems[i].flags)
                        nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, op->elems[i].flags);
                nftnl_set_elem_add(s, e);
        }
        r = begin(b, op->type == NFT_OP_ADD ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, ss->table->family,
                  op->type == NFT_OP_ADD ? NLM_F_CREATE | NLM_F_EXCL : 0, seq, &nlh);
        if (r < 0)
                return r;
        nftnl_set_elems_nlmsg_build_payload(nlh, s);
        nft_buf_commit(b, nlh);
        return 0;
}

static int rule_message(NftBuf *b, const NftOp *op, uint32_t seq) {
        _cleanup_(nftnl_rule_freep) struct nftnl_rule *nr = nftnl_rule_alloc();
        const NftRule *rr = op->rule;
        const NftChain *c = rr->chain;
        struct nlmsghdr *nlh;
        uint16_t type = NFT_MSG_NEWRULE, flags = 0;
        int r;

        if (!nr)
                return -ENOMEM;
        nftnl_rule_set_u32(nr, NFTNL_RULE_FAMILY, (uint32_t) c->table->family);
        if (nftnl_rule_set_str(nr, NFTNL_RULE_TABLE, c->table->name) < 0 ||
            nftnl_rule_set_str(nr, NFTNL_RULE_CHAIN, c->name) < 0)
                return -ENOMEM;

        if (op->type == NFT_OP_DELETE) {
                type = NFT_MSG_DELRULE;
                nftnl_rule_set_u64(nr, NFTNL_RULE_HANDLE, op->handle);
        } else {
                _cleanup_(freep) void *udata = NULL;
                size_t len;

                for (size_t i = 0; i < rr->n_exprs; i++) {
                        struct nftnl_expr *e;

                        r = expr_to_nftnl(&rr->exprs[i], &e);
                        if (r < 0)
                                return r;
                        nftnl_rule_add_expr(nr, e);
                }
                r = rule_udata_build((NftRule *) rr, &udata, &len);
                if (r < 0)
                        return r;
                if (nftnl_rule_set_data(nr, NFTNL_RULE_USERDATA, udata, (uint32_t) len) < 0)
                        return -ENOMEM;
                if (op->type == NFT_OP_REPLACE) {
                        flags = NLM_F_REPLACE;
                        nftnl_rule_set_u64(nr, NFTNL_RULE_HANDLE, op->handle);
                } else if (op->handle != 0) {
                        flags = NLM_F_CREATE;   /* before the rule with this handle */
                        nftnl_rule_set_u64(nr, NFTNL_RULE_POSITION, op->handle);
                } else
                        flags = NLM_F_CREATE | NLM_F_APPEND;
        }
        r = begin(b, type, c->table->family, flags, seq, &nlh);
        if (r < 0)
                return r;
        nftnl_rule_nlmsg_build_payload(nlh, nr);
        nft_buf_commit(b, nlh);
        return 0;
}

static size_t op_messages(const NftOp *op) {
        return op->kind == NFT_KIND_ELEMENTS ? elements_messages(op) : 1;
}

static int op_message(NftBuf *b, const NftOp *op, size_t chunk, uint32_t seq) {
        switch (op->kind) {
        case NFT_KIND_TABLE:
                return table_message(b, op, seq);
        case NFT_KIND_CHAIN:
                return chain_message(b, op, seq);
        case NFT_KIND_SET:
                return set_message(b, op, seq);
        case NFT_KIND_ELEMENTS:
                return elements_message(b, op, chunk, seq);
        case NFT_KIND_RULE:
                return rule_message(b, op, seq);
        }
        return -EINVAL;
}

void batch_done(Batch *b) {
        nft_buf_done(&b->buf);
        free(b->op_of);
        free(b->chunk_of);
        free(b->errors);
}

size_t plan_messages(const NftPlan *p) {
        size_t n = 0;

        for (size_t i = 0; i < p->n_ops; i++)
                n += op_messages(&p->ops[i]);
        return n;
}

int batch_build(const NftPlan *p, uint32_t begin_seq, Batch *b) {
        size_t n = plan_messages(p), m = 0;
        int r;

        b->op_of = calloc(MAX(n, (size_t) 1), sizeof *b->op_of);
        b->chunk_of = calloc(MAX(n, (size_t) 1), sizeof *b->chunk_of);
        b->errors = calloc(MAX(n, (size_t) 1), sizeof *b->errors);
        if (!b->op_of || !b->chunk_of || !b->errors)
                return -ENOMEM;
        b->n = n;
        b->begin_seq = begin_seq;
        b->first = begin_seq + 1;

        r = nft_buf_batch_begin(&b->buf, begin_seq, p->has_genid, p->genid);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n_ops; i++)
                for (size_t c = 0; c < op_messages(&p->ops[i]); c++, m++) {
                        b->op_of[m] = i;
                        b->chunk_of[m] = c;
                        r = op_message(&b->buf, &p->ops[i], c, b->first + (uint32_t) m);
                        if (r < 0)
                                return r;
                }
        return nft_buf_batch_end(&b->buf, b->first + (uint32_t) n);
}

/* The failure of message i: its operation, and for elements the first of
 * the chunk. */
static int batch_error(const NftPlan *p, const Batch *b, size_t i, NftError *e) {
        const NftOp *op = &p->ops[b->op_of[i]];
        _cleanup_(freep) char *what = NULL, *first = NULL;

        (void) nft_plan_op_describe(p, b->op_of[i], &what);
        if (op->kind == NFT_KIND_ELEMENTS) {
                const KElem *k = &op->elems[b->chunk_of[i] * elements_per_message(op->set)];

                (void) value_format_key(op->set->key, op->set->key_len, k->key, k->key, &first);
                return error_set(e, b->errors[i], describe_op_object(op), "%s (the message from element %s)",
                                 strna(what), strna(first));
        }
        return error_set(e, b->errors[i], describe_op_object(op), "%s", strna(what));
}

int batch_failure(const NftPlan *p, const Batch *b, NftError *e) {
        for (size_t i = 0; i < b->n; i++)
                if (b->errors[i] < 0)
                        return batch_error(p, b, i, e);
        return error_set(e, -EIO, NULL, "the kernel reported a failure without naming a message");
}

int nft_apply(NftContext *ctx, const NftPlan *plan, NftResult *ret) {
        _cleanup_(batch_done) Batch b = {};
        int r;

        if (!ctx || !plan || !ret)
                return -EINVAL;
        *ret = (NftResult) {};
        if (plan->n_ops == 0)
                return 0;

        r = batch_build(plan, nft_nl_seq(ctx->nl, (uint32_t) plan_messages(plan) + 2), &b);
        if (r < 0)
                return r;

        r = nft_nl_batch(ctx->nl, &b.buf, b.begin_seq, b.first, b.n, b.errors);
        ctx->counters.batches++;
        ctx->counters.messages += b.n;
        ret->messages = (unsigned) b.n;
        if (r == -EIO)
                return batch_failure(plan, &b, &ret->error);
        if (r < 0)
                return error_set(&ret->error, r, NULL,
                                 r == -ERESTART ? "the ruleset changed since it was read" : "the batch was refused");

        for (size_t i = 0; i < plan->n_ops; i++)
                if (plan->ops[i].kind == NFT_KIND_ELEMENTS)
                        ret->elements += (unsigned) plan->ops[i].n_elems;
                else
                        ret->changes++;
        ctx->counters.changes += ret->changes;
        ctx->counters.elements += ret->elements;
        return 0;
}

#define SYNC_TRIES 5

int nft_sync(NftContext *ctx, NftRuleset *desired, NftResult *ret) {
        int r = -ERESTART;

        if (!ctx || !desired || !ret)
                return -EINVAL;
        *ret = (NftResult) {};
        for (unsigned i = 0; i < SYNC_TRIES && r == -ERESTART; i++) {
                NftRuleset *live = NULL;
                NftPlan *plan = NULL;

                nft_result_done(ret);
                r = nft_dump(ctx, desired, &live);
                if (r >= 0)
                        r = nft_plan_new(desired, live, &plan, &ret->error);
                if (r >= 0)
                        r = nft_apply(ctx, plan, ret);
                nft_plan_free(plan);
                nft_ruleset_free(live);
        }
        return r;
}
