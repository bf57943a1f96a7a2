/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The diff: desired against live, as operations in the order one batch
 * must carry them (deletions first, so that nothing still refers to what
 * goes; then additions, referred-to objects before what refers to them). */

#include <inttypes.h>
#include <stdio.h>
#include <linux/netfilter/nf_tables.h>

#include "macro.h"
#include "nft-internal.h"

typedef enum Phase {
        PHASE_DEL_RULE,
        PHASE_DEL_ELEMENTS,
        PHASE_DEL_CHAIN,
        PHASE_DEL_SET,
        PHASE_DEL_TABLE,
        PHASE_ADD_TABLE,
        PHASE_ADD_CHAIN,
        PHASE_ADD_SET,                  /* each new set followed by its elements */
        PHASE_ADD_ELEMENTS,
        PHASE_ADD_RULE,
        PHASE_REPLACE_RULE,
        _PHASE_MAX,
} Phase;

typedef struct OpList {
        NftOp *ops;
        size_t n, allocated;
} OpList;

typedef struct Differ {
        OpList phases[_PHASE_MAX];
        NftError *error;
} Differ;

static void op_done(NftOp *op) {
        free(op->elems);
}

static void differ_done(Differ *d) {
        for (size_t p = 0; p < _PHASE_MAX; p++) {
                for (size_t i = 0; i < d->phases[p].n; i++)
                        op_done(&d->phases[p].ops[i]);
                free(d->phases[p].ops);
        }
}

static int push(Differ *d, Phase p, const NftOp *op) {
        OpList *l = &d->phases[p];

        if (greedy_realloc((void **) &l->ops, &l->allocated, l->n + 1, sizeof *l->ops) < 0)
                return -ENOMEM;
        l->ops[l->n++] = *op;
        return 0;
}

/* ---- validation ------------------------------------------------------------- */

static int rule_check_references(const NftRule *r, NftError *reterr) {
        const NftTable *t = r->chain->table;

        for (size_t i = 0; i < r->n_exprs; i++) {
                const NftExpr *e = &r->exprs[i];

                if (e->kind == EXPR_LOOKUP && !nft_table_find_set(t, e->str))
                        return error_set(reterr, -ENOENT, describe_rule(r), "no set \"%s\" in the table", e->str);
                if (e->kind == EXPR_IMMEDIATE && e->str) {
                        const NftChain *c = nft_table_find_chain(t, e->str);

                        if (!c)
                                return error_set(reterr, -ENOENT, describe_rule(r), "no chain \"%s\" in the table",
                                                 e->str);
                        if (c->base)
                                return error_set(reterr, -EINVAL, describe_rule(r),
                                                 "chain \"%s\" is a base chain, not a jump target", e->str);
                }
        }
        return 0;
}

static int desired_check(NftRuleset *desired, NftError *reterr) {
        int r;

        for (size_t i = 0; i < desired->n_tables; i++) {
                NftTable *t = desired->tables[i];

                for (size_t j = 0; j < t->n_sets; j++) {
                        r = set_check_elements(t->sets[j], reterr);
                        if (r < 0)
                                return r;
                }
                for (size_t j = 0; j < t->n_chains; j++)
                        for (size_t k = 0; k < t->chains[j]->n_rules; k++) {
                                NftRule *rule = t->chains[j]->rules[k];

                                r = rule_check_references(rule, reterr);
                                if (r < 0)
                                        return r;
                                r = rule_compute_digest(rule);
                                if (r < 0)
                                        return r;
                        }
        }
        return 0;
}

/* ---- sets ---------------------------------------------------------------- */

static bool kelems_equal(const KElem *a, size_t na, const KElem *b, size_t nb, uint32_t len) {
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++)
                if (kelem_compare(&a[i], &b[i], &len) != 0)
                        return false;
        return true;
}

static int add_set(Differ *d, const NftSet *s) {
        KElem *k = NULL;
        size_t n;
        int r;

        r = push(d, PHASE_ADD_SET, &(NftOp) { .type = NFT_OP_ADD, .kind = NFT_KIND_SET, .table = s->table, .set = s });
        if (r < 0)
                return r;
        r = set_kernel_elements(s, &k, &n);
        if (r < 0)
                return r;
        if (n == 0) {
                free(k);
                return 0;
        }
        r = push(d, PHASE_ADD_SET, &(NftOp) { .type = NFT_OP_ADD, .kind = NFT_KIND_ELEMENTS, .table = s->table,
                                              .set = s, .elems = k, .n_elems = n });
        if (r < 0)
                free(k);
        return r;
}

/* Elements in a but not in b (both sorted). */
static int kelems_minus(const KElem *a, size_t na, const KElem *b, size_t nb, uint32_t len,
                        KElem **ret, size_t *ret_n) {
        size_t i = 0, j = 0, n = 0;
        KElem *out;

        out = calloc(MAX(na, (size_t) 1), sizeof *out);
        if (!out)
                return -ENOMEM;
        while (i < na) {
                int c = j < nb ? kelem_compare(&a[i], &b[j], &len) : -1;

                if (c < 0)
                        out[n++] = a[i++];
                else if (c > 0)
                        j++;
                else
                        i++, j++;
        }
        *ret = out;
        *ret_n = n;
        return 0;
}

static int diff_elements(Differ *d, const NftSet *want, const NftSet *have, const KElem *k, size_t nk) {
        const NftTable *lt = have->table;
        KElem *del = NULL, *add = NULL;
        size_t ndel, nadd;
        int r;

        if (want->kflags & NFT_SET_INTERVAL) {
                r = interval_diff(want, have, &add, &nadd, &del, &ndel);
                if (r < 0)
                        return r;
        } else {
                r = kelems_minus(have->kelems, have->n_kelems, k, nk, want->key_len, &del, &ndel);
                if (r < 0)
                        return r;
                r = kelems_minus(k, nk, have->kelems, have->n_kelems, want->key_len, &add, &nadd);
                if (r < 0) {
                        free(del);
                        return r;
                }
        }
        if (ndel > 0) {
                r = push(d, PHASE_DEL_ELEMENTS, &(NftOp) { .type = NFT_OP_DELETE, .kind = NFT_KIND_ELEMENTS,
                                                           .table = lt, .set = have, .elems = del, .n_elems = ndel });
                if (r < 0)
                        goto fail;
        } else
                free(del);
        del = NULL;
        if (nadd > 0) {
                r = push(d, PHASE_ADD_ELEMENTS, &(NftOp) { .type = NFT_OP_ADD, .kind = NFT_KIND_ELEMENTS,
                                                           .table = want->table, .set = want,
                                                           .elems = add, .n_elems = nadd });
                if (r < 0)
                        goto fail;
        } else
                free(add);
        return 0;
fail:
        free(del);
        free(add);
        return r;
}

/* Sets of a table both sides have. Names of the sets recreated go to
 * *recreated (they are referred to by name). */
static int diff_sets(Differ *d, const NftTable *want, const NftTable *have, bool *recreated) {
        int r;

        for (size_t i = 0; i < have->n_sets; i++)
                if (!nft_table_find_set(want, have->sets[i]->name)) {
                        r = push(d, PHASE_DEL_SET, &(NftOp) { .type = NFT_OP_DELETE, .kind = NFT_KIND_SET,
                                                              .table = have, .set = have->sets[i] });
                        if (r < 0)
                                return r;
                }

        for (size_t i = 0; i < want->n_sets; i++) {
                const NftSet *s = want->sets[i], *l = nft_table_find_set(have, s->name);
                _cleanup_(freep) KElem *k = NULL;
                size_t nk;

                recreated[i] = false;
                if (!l) {
                        r = add_set(d, s);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = set_kernel_elements(s, &k, &nk);
                if (r < 0)
                        return r;
                if (s->key_type_id != l->key_type_id || s->key_len != l->key_len || s->kflags != l->kflags ||
                    ((s->kflags & NFT_SET_CONSTANT) && !kelems_equal(k, nk, l->kelems, l->n_kelems, s->key_len))) {
                        recreated[i] = true;
                        r = push(d, PHASE_DEL_SET, &(NftOp) { .type = NFT_OP_DELETE, .kind = NFT_KIND_SET,
                                                              .table = have, .set = l });
                        if (r >= 0)
                                r = add_set(d, s);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = diff_elements(d, s, l, k, nk);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- rules ----------------------------------------------------------------- */

static bool chain_differs(const NftChain *a, const NftChain *b) {
        if (a->base != b->base)
                return true;
        if (!a->base)
                return false;
        return !streq_ptr(a->type, b->type) || a->hooknum != b->hooknum || a->priority != b->priority ||
               !streq_ptr(a->device, b->device);
}

static int add_rule(Differ *d, const NftRule *r, uint64_t before) {
        return push(d, PHASE_ADD_RULE, &(NftOp) { .type = NFT_OP_ADD, .kind = NFT_KIND_RULE,
                                                  .table = r->chain->table, .chain = r->chain, .rule = r,
                                                  .handle = before });
}

static int delete_rule(Differ *d, const NftRule *r) {
        return push(d, PHASE_DEL_RULE, &(NftOp) { .type = NFT_OP_DELETE, .kind = NFT_KIND_RULE,
                                                  .table = r->chain->table, .chain = r->chain, .rule = r,
                                                  .handle = r->handle });
}

/* Does the rule refer to a set or chain that is recreated? */
static bool rule_refers_to(const NftRule *r, const NftTable *want, const bool *sets_recreated,
                           const bool *chains_recreated) {
        for (size_t i = 0; i < r->n_exprs; i++) {
                const NftExpr *e = &r->exprs[i];

                if (!e->str)
                        continue;
                if (e->kind == EXPR_LOOKUP)
                        for (size_t j = 0; j < want->n_sets; j++)
                                if (sets_recreated[j] && streq(want->sets[j]->name, e->str))
                                        return true;
                if (e->kind == EXPR_IMMEDIATE)
                        for (size_t j = 0; j < want->n_chains; j++)
                                if (chains_recreated[j] && streq(want->chains[j]->name, e->str))
                                        return true;
        }
        return false;
}

/* What matches a live rule to a desired one: the name, else the digest. */
typedef struct RuleKey {
        const char *key;
        char kind;                      /* 'N' name, 'D' digest */
        size_t index;                   /* in the desired chain */
        bool used;
} RuleKey;

static int rule_key_compare(const void *a, const void *b) {
        const RuleKey *x = a, *y = b;
        int c = x->kind - y->kind;

        if (c == 0)
                c = strcmp(x->key, y->key);
        if (c == 0)
                c = x->index < y->index ? -1 : x->index > y->index;
        return c;
}

/* The first unused desired rule with this key; SIZE_MAX if none. */
static size_t rule_key_take(RuleKey *keys, size_t n, char kind, const char *key) {
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = kind - keys[mid].kind;

                if (c == 0)
                        c = strcmp(key, keys[mid].key);
                if (c > 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (size_t i = lo; i < n && keys[i].kind == kind && streq(keys[i].key, key); i++)
                if (!keys[i].used) {
                        keys[i].used = true;
                        return keys[i].index;
                }
        return SIZE_MAX;
}

/* keep[i] for the pairs forming a longest run whose desired positions
 * increase: those stay where they are. */
static int longest_increasing(const size_t *seq, size_t n, bool *keep) {
        _cleanup_(freep) size_t *tails = NULL, *prev = NULL;
        size_t len = 0;

        if (n == 0)
                return 0;
        tails = calloc(n, sizeof *tails);
        prev = calloc(n, sizeof *prev);
        if (!tails || !prev)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                size_t lo = 0, hi = len;

                while (lo < hi) {
                        size_t mid = lo + (hi - lo) / 2;

                        if (seq[tails[mid]] < seq[i])
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                prev[i] = lo > 0 ? tails[lo - 1] : SIZE_MAX;
                tails[lo] = i;
                if (lo == len)
                        len++;
        }
        for (size_t k = tails[len - 1]; k != SIZE_MAX; k = prev[k])
                keep[k] = true;
        return 0;
}

typedef struct RuleDiff {
        RuleKey *keys;                  /* of the desired rules, sorted */
        size_t *pair_live, *pair_want;  /* matched rules, in live order */
        size_t npairs;
        bool *keep;                     /* per pair */
        const NftRule **kept;           /* per desired rule: the live rule it stays as */
        uint64_t *before;               /* per new desired rule: the handle to insert before */
} RuleDiff;

static void rule_diff_done(RuleDiff *rd) {
        free(rd->keys);
        free(rd->pair_live);
        free(rd->pair_want);
        free(rd->keep);
        free(rd->kept);
        free(rd->before);
}

/* Pairs each live rule with the desired rule of its identity (the name,
 * else the digest; the k-th live rule of an identity with the k-th
 * desired one), in live order; rules forced out are not paired. */
static int rule_diff_pair(RuleDiff *rd, const NftChain *want, const NftChain *have,
                          bool (*forced)(const NftRule *, void *), void *userdata) {
        size_t nw = want->n_rules, nh = have->n_rules;

        rd->keys = calloc(MAX(nw, (size_t) 1), sizeof *rd->keys);
        rd->pair_live = calloc(MAX(nh, (size_t) 1), sizeof *rd->pair_live);
        rd->pair_want = calloc(MAX(nh, (size_t) 1), sizeof *rd->pair_want);
        rd->keep = calloc(MAX(nh, (size_t) 1), sizeof *rd->keep);
        rd->kept = calloc(MAX(nw, (size_t) 1), sizeof *rd->kept);
        rd->before = calloc(MAX(nw, (size_t) 1), sizeof *rd->before);
        if (!rd->keys || !rd->pair_live || !rd->pair_want || !rd->keep || !rd->kept || !rd->before)
                return -ENOMEM;

        for (size_t i = 0; i < nw; i++) {
                NftRule *w = want->rules[i];

                rd->keys[i] = (RuleKey) { .kind = w->name ? 'N' : 'D', .key = w->name ?: w->digest_hex, .index = i };
        }
        qsort(rd->keys, nw, sizeof *rd->keys, rule_key_compare);

        for (size_t i = 0; i < nh; i++) {
                const NftRule *h = have->rules[i];
                size_t j;

                if (forced(h, userdata))
                        continue;
                if (h->name)
                        j = rule_key_take(rd->keys, nw, 'N', h->name);
                else if (h->has_identity)
                        j = rule_key_take(rd->keys, nw, 'D', h->identity_hex);
                else
                        continue;
                if (j == SIZE_MAX)
                        continue;
                rd->pair_live[rd->npairs] = i;
                rd->pair_want[rd->npairs] = j;
                rd->npairs++;
        }
        return 0;
}

static int diff_rules(Differ *d, const NftChain *want, const NftChain *have, bool (*forced)(const NftRule *, void *),
                      void *userdata) {
        _cleanup_(rule_diff_done) RuleDiff rd = {};
        size_t nw = want->n_rules, nh = have->n_rules, npairs;
        uint64_t before = 0;
        int r;

        r = rule_diff_pair(&rd, want, have, forced, userdata);
        if (r < 0)
                return r;
        npairs = rd.npairs;
        r = longest_increasing(rd.pair_want, npairs, rd.keep);
        if (r < 0)
                return r;

        for (size_t p = 0, i = 0; i < nh; i++) {
                bool kept = p < npairs && rd.pair_live[p] == i && rd.keep[p];

                if (p < npairs && rd.pair_live[p] == i) {
                        if (kept)
                                rd.kept[rd.pair_want[p]] = have->rules[i];
                        p++;
                }
                if (!kept) {
                        r = delete_rule(d, have->rules[i]);
                        if (r < 0)
                                return r;
                }
        }

        /* New rules go before the next rule that stays; walking backwards
         * finds it. Pushed in chain order: consecutive inserts before the
         * same rule land in that order. */
        for (size_t i = nw; i > 0; i--) {
                if (rd.kept[i - 1])
                        before = rd.kept[i - 1]->handle;
                else
                        rd.before[i - 1] = before;
        }
        for (size_t i = 0; i < nw; i++) {
                const NftRule *w = want->rules[i], *l = rd.kept[i];

                if (!l) {
                        r = add_rule(d, w, rd.before[i]);
                        if (r < 0)
                                return r;
                        continue;
                }
                /* A named rule whose content changed: replaced in place. */
                if (w->name && (!l->has_identity || memcmp(l->identity, w->digest, NFT_DIGEST_SIZE) != 0)) {
                        r = push(d, PHASE_REPLACE_RULE, &(NftOp) { .type = NFT_OP_REPLACE, .kind = NFT_KIND_RULE,
                                                                   .table = want->table, .chain = want, .rule = w,
                                                                   .handle = l->handle });
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

typedef struct Recreated {
        const NftTable *want;
        const bool *sets;
        const bool *chains;
} Recreated;

static bool rule_forced(const NftRule *r, void *userdata) {
        const Recreated *rc = userdata;

        return rule_refers_to(r, rc->want, rc->sets, rc->chains);
}

/* ---- tables and chains --------------------------------------------------- */

static int add_chain_with_rules(Differ *d, const NftChain *c) {
        int r;

        r = push(d, PHASE_ADD_CHAIN, &(NftOp) { .type = NFT_OP_ADD, .kind = NFT_KIND_CHAIN, .table = c->table, .chain = c });
        for (size_t i = 0; r >= 0 && i < c->n_rules; i++)
                r = add_rule(d, c->rules[i], 0);
        return r;
}

static int add_table(Differ *d, const NftTable *t) {
        int r;

        r = push(d, PHASE_ADD_TABLE, &(NftOp) { .type = NFT_OP_ADD, .kind = NFT_KIND_TABLE, .table = t });
        for (size_t i = 0; r >= 0 && i < t->n_sets; i++)
                r = add_set(d, t->sets[i]);
        for (size_t i = 0; r >= 0 && i < t->n_chains; i++)
                r = add_chain_with_rules(d, t->chains[i]);
        return r;
}

static int diff_table(Differ *d, const NftTable *want, const NftTable *have) {
        _cleanup_(freep) bool *sets_recreated = NULL, *chains_recreated = NULL;
        Recreated rc;
        int r;

        if (have->flags & NFT_TABLE_F_DORMANT) {
                r = push(d, PHASE_ADD_TABLE, &(NftOp) { .type = NFT_OP_UPDATE, .kind = NFT_KIND_TABLE, .table = want });
                if (r < 0)
                        return r;
        }
        sets_recreated = calloc(MAX(want->n_sets, (size_t) 1), sizeof(bool));
        chains_recreated = calloc(MAX(want->n_chains, (size_t) 1), sizeof(bool));
        if (!sets_recreated || !chains_recreated)
                return -ENOMEM;

        r = diff_sets(d, want, have, sets_recreated);
        if (r < 0)
                return r;

        for (size_t i = 0; i < have->n_chains; i++)
                if (!nft_table_find_chain(want, have->chains[i]->name)) {
                        r = push(d, PHASE_DEL_CHAIN, &(NftOp) { .type = NFT_OP_DELETE, .kind = NFT_KIND_CHAIN,
                                                                .table = have, .chain = have->chains[i] });
                        if (r < 0)
                                return r;
                }
        for (size_t i = 0; i < want->n_chains; i++) {
                const NftChain *c = want->chains[i], *l = nft_table_find_chain(have, c->name);

                if (!l) {
                        r = add_chain_with_rules(d, c);
                        if (r < 0)
                                return r;
                } else if (chain_differs(c, l)) {
                        chains_recreated[i] = true;
                        r = push(d, PHASE_DEL_CHAIN, &(NftOp) { .type = NFT_OP_DELETE, .kind = NFT_KIND_CHAIN,
                                                                .table = have, .chain = l });
                        if (r >= 0)
                                r = add_chain_with_rules(d, c);
                        if (r < 0)
                                return r;
                } else if (c->base && c->policy != l->policy) {
                        r = push(d, PHASE_ADD_CHAIN, &(NftOp) { .type = NFT_OP_UPDATE, .kind = NFT_KIND_CHAIN,
                                                                .table = want, .chain = c });
                        if (r < 0)
                                return r;
                }
        }

        rc = (Recreated) { .want = want, .sets = sets_recreated, .chains = chains_recreated };
        for (size_t i = 0; i < want->n_chains; i++) {
                const NftChain *c = want->chains[i], *l = nft_table_find_chain(have, c->name);

                if (!l || chains_recreated[i])
                        continue;
                r = diff_rules(d, c, l, rule_forced, &rc);
                if (r < 0)
                        return r;
        }
        return 0;
}

int nft_ruleset_check(NftRuleset *desired, NftError *reterr) {
        if (!desired)
                return -EINVAL;
        return desired_check(desired, reterr);
}

int nft_plan_new(NftRuleset *desired, const NftRuleset *live, NftPlan **ret, NftError *reterr) {
        _cleanup_(differ_done) Differ d = { .error = reterr };
        NftPlan *p;
        size_t n = 0;
        int r;

        if (!desired || !ret)
                return -EINVAL;
        r = desired_check(desired, reterr);
        if (r < 0)
                return r;

        for (size_t i = 0; i < desired->n_tables; i++) {
                const NftTable *t = desired->tables[i];
                const NftTable *l = live ? nft_ruleset_find_table(live, t->family, t->name) : NULL;

                if (!t->present)
                        r = l ? push(&d, PHASE_DEL_TABLE, &(NftOp) { .type = NFT_OP_DELETE, .kind = NFT_KIND_TABLE,
                                                                     .table = l })
                              : 0;
                else if (!l)
                        r = add_table(&d, t);
                else
                        r = diff_table(&d, t, l);
                if (r < 0)
                        return r;
        }

        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        for (size_t ph = 0; ph < _PHASE_MAX; ph++)
                n += d.phases[ph].n;
        p->ops = calloc(MAX(n, (size_t) 1), sizeof *p->ops);
        if (!p->ops) {
                free(p);
                return -ENOMEM;
        }
        for (size_t ph = 0; ph < _PHASE_MAX; ph++) {
                if (d.phases[ph].n > 0)
                        memcpy(p->ops + p->n_ops, d.phases[ph].ops, d.phases[ph].n * sizeof *p->ops);
                p->n_ops += d.phases[ph].n;
                d.phases[ph].n = 0;     /* the plan owns their elements now */
        }
        p->allocated = n;
        if (live && live->has_genid) {
                p->has_genid = true;
                p->genid = live->genid;
        }
        *ret = p;
        return 0;
}

NftPlan *nft_plan_free(NftPlan *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_ops; i++)
                op_done(&p->ops[i]);
        free(p->ops);
        free(p);
        return NULL;
}

size_t nft_plan_n_ops(const NftPlan *p) {
        return p->n_ops;
}

NftOpType nft_plan_op_type(const NftPlan *p, size_t i) {
        return p->ops[i].type;
}

NftObjKind nft_plan_op_kind(const NftPlan *p, size_t i) {
        return p->ops[i].kind;
}

const NftChain *nft_plan_op_chain(const NftPlan *p, size_t i) {
        return p->ops[i].kind == NFT_KIND_CHAIN || p->ops[i].kind == NFT_KIND_RULE ? p->ops[i].chain : NULL;
}

const NftSet *nft_plan_op_set(const NftPlan *p, size_t i) {
        return p->ops[i].kind == NFT_KIND_SET || p->ops[i].kind == NFT_KIND_ELEMENTS ? p->ops[i].set : NULL;
}

const NftRule *nft_plan_op_rule(const NftPlan *p, size_t i) {
        return p->ops[i].kind == NFT_KIND_RULE ? p->ops[i].rule : NULL;
}

size_t nft_plan_op_count(const NftPlan *p, size_t i) {
        return p->ops[i].kind == NFT_KIND_ELEMENTS ? p->ops[i].n_elems : 1;
}

/* "table inet t", "rule inet t input #3 \"ssh\"", ... */
char *describe_op_object(const NftOp *op) {
        switch (op->kind) {
        case NFT_KIND_TABLE:
                return describe_table(op->table);
        case NFT_KIND_CHAIN:
                return describe_chain(op->chain);
        case NFT_KIND_SET:
        case NFT_KIND_ELEMENTS:
                return describe_set(op->set);
        case NFT_KIND_RULE:
                return describe_rule(op->rule);
        }
        return NULL;
}

int nft_plan_op_describe(const NftPlan *p, size_t i, char **ret) {
        static const char *const verbs[] = {
                [NFT_OP_ADD] = "add", [NFT_OP_DELETE] = "delete",
                [NFT_OP_REPLACE] = "replace", [NFT_OP_UPDATE] = "update",
        };
        const NftOp *op;
        _cleanup_(freep) char *object = NULL;
        int n;

        if (i >= p->n_ops)
                return -ERANGE;
        op = &p->ops[i];
        object = describe_op_object(op);
        if (!object)
                return -ENOMEM;
        if (op->kind == NFT_KIND_ELEMENTS)
                n = asprintf(ret, "%s %zu element%s %s %s", verbs[op->type], op->n_elems, op->n_elems == 1 ? "" : "s",
                             op->type == NFT_OP_ADD ? "to" : "from", object);
        else if (op->type == NFT_OP_REPLACE)
                n = asprintf(ret, "replace %s (handle %" PRIu64 ")", object, op->handle);
        else if (op->type == NFT_OP_UPDATE && op->kind == NFT_KIND_CHAIN)
                n = asprintf(ret, "update %s: policy %s", object,
                             op->chain->policy == NFT_POLICY_DROP ? "drop" : "accept");
        else
                n = asprintf(ret, "%s %s", verbs[op->type], object);
        return n < 0 ? -ENOMEM : 0;
}
