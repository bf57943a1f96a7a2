/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The model: rulesets, tables, chains, sets and rules; names, families,
 * hooks; rule digests and userdata; how objects are named in messages. */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <netinet/in.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "hash.h"
#include "macro.h"
#include "nft-internal.h"
#include "sha256.h"
#include "strbuf.h"

/* ---- names ---------------------------------------------------------------- */

static const struct {
        int family;
        const char *name;
} families[] = {
        { NFT_FAMILY_INET, "inet" },
        { NFT_FAMILY_IPV4, "ip" },
        { NFT_FAMILY_IPV6, "ip6" },
        { NFT_FAMILY_ARP, "arp" },
        { NFT_FAMILY_BRIDGE, "bridge" },
        { NFT_FAMILY_NETDEV, "netdev" },
};

const char *nft_family_to_string(int family) {
        for (size_t i = 0; i < ELEMENTSOF(families); i++)
                if (families[i].family == family)
                        return families[i].name;
        return NULL;
}

int nft_family_from_string(const char *s) {
        for (size_t i = 0; s && i < ELEMENTSOF(families); i++)
                if (streq(families[i].name, s))
                        return families[i].family;
        return -EINVAL;
}

static const char *const hook_names[_NFT_HOOK_MAX] = {
        [NFT_HOOK_PREROUTING] = "prerouting",
        [NFT_HOOK_INPUT] = "input",
        [NFT_HOOK_FORWARD] = "forward",
        [NFT_HOOK_OUTPUT] = "output",
        [NFT_HOOK_POSTROUTING] = "postrouting",
        [NFT_HOOK_INGRESS] = "ingress",
};

const char *nft_hook_to_string(NftHook h) {
        return h >= 0 && h < _NFT_HOOK_MAX ? hook_names[h] : NULL;
}

NftHook nft_hook_from_string(const char *s) {
        for (NftHook h = 0; s && h < _NFT_HOOK_MAX; h++)
                if (streq(hook_names[h], s))
                        return h;
        return _NFT_HOOK_INVALID;
}

/* The kernel's hook number of h in family, or UINT32_MAX where it has
 * none. */
uint32_t hook_to_kernel(int family, NftHook h) {
        switch (family) {
        case NFT_FAMILY_INET:
        case NFT_FAMILY_IPV4:
        case NFT_FAMILY_IPV6:
        case NFT_FAMILY_BRIDGE:
                return h >= NFT_HOOK_PREROUTING && h <= NFT_HOOK_POSTROUTING ? (uint32_t) h : UINT32_MAX;
        case NFT_FAMILY_ARP:
                return h == NFT_HOOK_INPUT ? 0 : h == NFT_HOOK_OUTPUT ? 1 : h == NFT_HOOK_FORWARD ? 2 : UINT32_MAX;
        case NFT_FAMILY_NETDEV:
                return h == NFT_HOOK_INGRESS ? 0 : UINT32_MAX;
        }
        return UINT32_MAX;
}

NftHook hook_from_kernel(int family, uint32_t hooknum) {
        for (NftHook h = 0; h < _NFT_HOOK_MAX; h++)
                if (hook_to_kernel(family, h) == hooknum)
                        return h;
        return _NFT_HOOK_INVALID;
}

/* ipv4_addr and the others: the kernel's type number and length, the byte
 * order nft records with the set. */
static const KeyTypeInfo key_types[_NFT_KEY_MAX] = {
        [NFT_KEY_IPV4_ADDR] = { "ipv4_addr", 7, 4, 2, true },
        [NFT_KEY_IPV6_ADDR] = { "ipv6_addr", 8, 16, 2, true },
        [NFT_KEY_INET_SERVICE] = { "inet_service", 13, 2, 2, true },
        [NFT_KEY_INET_PROTO] = { "inet_proto", 12, 1, 0, false },
        [NFT_KEY_MARK] = { "mark", 19, 4, 1, false },
        [NFT_KEY_IFNAME] = { "ifname", 41, 16, 1, false },
        [NFT_KEY_ETHER_ADDR] = { "ether_addr", 9, 6, 2, true },
};

const KeyTypeInfo *key_type_info(NftKeyType k) {
        return k >= 0 && k < _NFT_KEY_MAX ? &key_types[k] : NULL;
}

NftKeyType key_type_by_id(uint32_t type_id, uint32_t len) {
        for (NftKeyType k = 0; k < _NFT_KEY_MAX; k++)
                if (key_types[k].type_id == type_id && key_types[k].len == len)
                        return k;
        return NFT_KEY_OTHER;
}

const char *nft_key_type_to_string(NftKeyType k) {
        return k >= 0 && k < _NFT_KEY_MAX ? key_types[k].name : NULL;
}

NftKeyType nft_key_type_from_string(const char *s) {
        for (NftKeyType k = 0; s && k < _NFT_KEY_MAX; k++)
                if (streq(key_types[k].name, s))
                        return k;
        return _NFT_KEY_INVALID;
}

/* Table, chain and set names: what nft accepts as an identifier, so that
 * its listings can be read back. */
int name_check(const char *name) {
        size_t n;

        if (!name)
                return -EINVAL;
        n = strlen(name);
        if (n == 0)
                return -EINVAL;
        if (n > NFT_NAME_MAX)
                return -ENAMETOOLONG;
        if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') || name[0] == '_'))
                return -EINVAL;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '_' || *p == '-' || *p == '.' || *p == '/'))
                        return -EINVAL;
        return 0;
}

/* Rule names and comments: printable, no control characters. */
static int text_check(const char *s, size_t max) {
        size_t n;

        if (!s)
                return -EINVAL;
        n = strlen(s);
        if (n == 0)
                return -EINVAL;
        if (n > max)
                return -ENAMETOOLONG;
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        return -EINVAL;
        return 0;
}

/* ---- construction ------------------------------------------------------------ */

int nft_ruleset_new(NftRuleset **ret) {
        NftRuleset *rs = calloc(1, sizeof *rs);

        if (!rs)
                return -ENOMEM;
        *ret = rs;
        return 0;
}

static void rule_free(NftRule *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->n_exprs; i++)
                expr_done(&r->exprs[i]);
        free(r->exprs);
        free(r->name);
        free(r->comment);
        free(r);
}

static void chain_free(NftChain *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->n_rules; i++)
                rule_free(c->rules[i]);
        free(c->rules);
        free(c->name);
        free(c->type);
        free(c->device);
        free(c);
}

static void set_free(NftSet *s) {
        if (!s)
                return;
        free(s->name);
        free(s->elems);
        free(s->kelems);
        free(s);
}

static void table_free(NftTable *t) {
        if (!t)
                return;
        for (size_t i = 0; i < t->n_chains; i++)
                chain_free(t->chains[i]);
        for (size_t i = 0; i < t->n_sets; i++)
                set_free(t->sets[i]);
        free(t->chains);
        free(t->sets);
        free(t->name);
        free(t);
}

NftRuleset *nft_ruleset_free(NftRuleset *rs) {
        if (!rs)
                return NULL;
        for (size_t i = 0; i < rs->n_tables; i++)
                table_free(rs->tables[i]);
        free(rs->tables);
        free(rs);
        return NULL;
}

/* Without checks: also for dumped tables. */
int table_new(NftRuleset *rs, int family, const char *name, bool present, NftTable **ret) {
        NftTable *t;

        if (greedy_realloc((void **) &rs->tables, &rs->allocated, rs->n_tables + 1, sizeof *rs->tables) < 0)
                return -ENOMEM;
        t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        t->name = strdup(name);
        if (!t->name) {
                free(t);
                return -ENOMEM;
        }
        t->ruleset = rs;
        t->family = family;
        t->present = present;
        rs->tables[rs->n_tables++] = t;
        if (ret)
                *ret = t;
        return 0;
}

static int table_add(NftRuleset *rs, int family, const char *name, bool present, NftTable **ret) {
        int r;

        if (!rs || !nft_family_to_string(family))
                return -EINVAL;
        r = name_check(name);
        if (r < 0)
                return r;
        if (nft_ruleset_find_table(rs, family, name))
                return -EEXIST;
        return table_new(rs, family, name, present, ret);
}

int nft_table_add(NftRuleset *rs, int family, const char *name, NftTable **ret) {
        return table_add(rs, family, name, true, ret);
}

int nft_table_add_absent(NftRuleset *rs, int family, const char *name) {
        return table_add(rs, family, name, false, NULL);
}

int chain_new(NftTable *t, const char *name, NftChain **ret) {
        NftChain *c;

        if (greedy_realloc((void **) &t->chains, &t->allocated_chains, t->n_chains + 1, sizeof *t->chains) < 0)
                return -ENOMEM;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->name = strdup(name);
        if (!c->name) {
                free(c);
                return -ENOMEM;
        }
        c->table = t;
        t->chains[t->n_chains++] = c;
        *ret = c;
        return 0;
}

static int chain_spec_check(const NftTable *t, const NftChainSpec *spec) {
        uint32_t hooknum = hook_to_kernel(t->family, spec->hook);

        if (!spec->type || !(streq(spec->type, "filter") || streq(spec->type, "nat") || streq(spec->type, "route")))
                return -EINVAL;
        if (hooknum == UINT32_MAX)
                return -EINVAL;
        if (spec->policy != NFT_POLICY_ACCEPT && spec->policy != NFT_POLICY_DROP)
                return -EINVAL;
        if ((t->family == NFT_FAMILY_NETDEV) != !!spec->device)
                return -EINVAL;
        if (spec->device && (strlen(spec->device) == 0 || strlen(spec->device) >= 16))
                return -EINVAL;
        return 0;
}

int nft_chain_add(NftTable *t, const char *name, const NftChainSpec *spec, NftChain **ret) {
        _cleanup_(freep) char *type = NULL, *device = NULL;
        NftChain *c;
        int r;

        if (!t || !t->present)
                return -EINVAL;
        r = name_check(name);
        if (r < 0)
                return r;
        if (nft_table_find_chain(t, name))
                return -EEXIST;
        if (spec) {
                r = chain_spec_check(t, spec);
                if (r < 0)
                        return r;
                type = strdup(spec->type);
                device = spec->device ? strdup(spec->device) : NULL;
                if (!type || (spec->device && !device))
                        return -ENOMEM;
        }

        r = chain_new(t, name, &c);
        if (r < 0)
                return r;
        if (spec) {
                c->base = true;
                c->type = TAKE_PTR(type);
                c->device = TAKE_PTR(device);
                c->hooknum = hook_to_kernel(t->family, spec->hook);
                c->priority = spec->priority;
                c->policy = spec->policy;
        }
        if (ret)
                *ret = c;
        return 0;
}

int set_new(NftTable *t, const char *name, NftSet **ret) {
        NftSet *s;

        if (greedy_realloc((void **) &t->sets, &t->allocated_sets, t->n_sets + 1, sizeof *t->sets) < 0)
                return -ENOMEM;
        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->name = strdup(name);
        if (!s->name) {
                free(s);
                return -ENOMEM;
        }
        s->table = t;
        t->sets[t->n_sets++] = s;
        *ret = s;
        return 0;
}

int nft_set_add(NftTable *t, const char *name, NftKeyType key, unsigned flags, NftSet **ret) {
        const KeyTypeInfo *info = key_type_info(key);
        NftSet *s;
        int r;

        if (!t || !t->present || !info || (flags & ~(unsigned) (NFT_SETFLAG_INTERVAL | NFT_SETFLAG_CONSTANT)))
                return -EINVAL;
        r = name_check(name);
        if (r < 0)
                return r;
        if (nft_table_find_set(t, name))
                return -EEXIST;
        if ((flags & NFT_SETFLAG_INTERVAL) && !info->interval)
                return -EOPNOTSUPP;

        r = set_new(t, name, &s);
        if (r < 0)
                return r;
        s->key = key;
        s->key_type_id = info->type_id;
        s->key_len = info->len;
        s->kflags = (flags & NFT_SETFLAG_INTERVAL ? NFT_SET_INTERVAL : 0) |
                    (flags & NFT_SETFLAG_CONSTANT ? NFT_SET_CONSTANT : 0);
        if (ret)
                *ret = s;
        return 0;
}

int nft_set_add_element(NftSet *s, const char *value) {
        NftElem e = {};
        bool range;
        int r;

        if (!s || !value || s->key == NFT_KEY_OTHER)
                return -EINVAL;
        r = value_parse_key(s->key, value, e.lo, e.hi, &range);
        if (r < 0)
                return r;
        if (range && !(s->kflags & NFT_SET_INTERVAL))
                return -EINVAL;
        if (greedy_realloc((void **) &s->elems, &s->allocated, s->n_elems + 1, sizeof *s->elems) < 0)
                return -ENOMEM;
        s->elems[s->n_elems++] = e;
        s->checked = false;
        return 0;
}

int rule_new(NftChain *c, NftRule **ret) {
        NftRule *r;

        if (greedy_realloc((void **) &c->rules, &c->allocated, c->n_rules + 1, sizeof *c->rules) < 0)
                return -ENOMEM;
        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->chain = c;
        c->rules[c->n_rules++] = r;
        *ret = r;
        return 0;
}

int nft_rule_add(NftChain *c, NftRule **ret) {
        NftRule *r;
        int k;

        if (!c || !ret)
                return -EINVAL;
        k = rule_new(c, &r);
        if (k < 0)
                return k;
        /* ip and ip6 tables see one network protocol only. */
        if (c->table->family == NFT_FAMILY_IPV4 || c->table->family == NFT_FAMILY_IPV6)
                r->ctx_nfproto = (uint8_t) c->table->family;
        *ret = r;
        return 0;
}

int nft_rule_set_name(NftRule *r, const char *name) {
        uint64_t h;
        char *n;
        int k;

        if (!r)
                return -EINVAL;
        k = text_check(name, NFT_NAME_MAX);
        if (k < 0)
                return k;
        /* every rule of the chain: compare the hashes, the names only
         * when they are equal (a chain of a thousand rules is built
         * without a million string comparisons) */
        h = hash64(name, strlen(name));
        for (size_t i = 0; i < r->chain->n_rules; i++) {
                const NftRule *o = r->chain->rules[i];

                if (o != r && o->name && o->name_hash == h && streq(o->name, name))
                        return -EEXIST;
        }
        n = strdup(name);
        if (!n)
                return -ENOMEM;
        free(r->name);
        r->name = n;
        r->name_hash = h;
        return 0;
}

int nft_rule_set_comment(NftRule *r, const char *comment) {
        char *c;
        int k;

        if (!r)
                return -EINVAL;
        k = text_check(comment, NFT_COMMENT_MAX);
        if (k < 0)
                return k;
        c = strdup(comment);
        if (!c)
                return -ENOMEM;
        free(r->comment);
        r->comment = c;
        r->has_digest = false;
        return 0;
}

static int rule_grow(NftRule *r) {
        if (r->n_exprs >= RULE_MAX_EXPRS)
                return -E2BIG;
        return greedy_realloc((void **) &r->exprs, &r->allocated, r->n_exprs + 1, sizeof *r->exprs);
}

int rule_append_expr(NftRule *r, NftExpr *e) {
        int k = rule_grow(r);

        if (k < 0) {
                expr_done(e);
                return k;
        }
        r->exprs[r->n_exprs++] = *e;
        *e = (NftExpr) {};
        r->has_digest = false;
        return 0;
}

int rule_insert_expr(NftRule *r, size_t at, NftExpr *e) {
        int k = rule_grow(r);

        if (k < 0) {
                expr_done(e);
                return k;
        }
        memmove(r->exprs + at + 1, r->exprs + at, (r->n_exprs - at) * sizeof *r->exprs);
        r->exprs[at] = *e;
        r->n_exprs++;
        *e = (NftExpr) {};
        r->has_digest = false;
        return 0;
}

/* ---- reading ------------------------------------------------------------------- */

size_t nft_ruleset_n_tables(const NftRuleset *rs) {
        return rs->n_tables;
}

NftTable *nft_ruleset_table(const NftRuleset *rs, size_t i) {
        return i < rs->n_tables ? rs->tables[i] : NULL;
}

NftTable *nft_ruleset_find_table(const NftRuleset *rs, int family, const char *name) {
        for (size_t i = 0; rs && i < rs->n_tables; i++)
                if (rs->tables[i]->family == family && streq(rs->tables[i]->name, name))
                        return rs->tables[i];
        return NULL;
}

int nft_table_family(const NftTable *t) {
        return t->family;
}

const char *nft_table_name(const NftTable *t) {
        return t->name;
}

bool nft_table_present(const NftTable *t) {
        return t->present;
}

size_t nft_table_n_chains(const NftTable *t) {
        return t->n_chains;
}

NftChain *nft_table_chain(const NftTable *t, size_t i) {
        return i < t->n_chains ? t->chains[i] : NULL;
}

NftChain *nft_table_find_chain(const NftTable *t, const char *name) {
        for (size_t i = 0; t && i < t->n_chains; i++)
                if (streq(t->chains[i]->name, name))
                        return t->chains[i];
        return NULL;
}

size_t nft_table_n_sets(const NftTable *t) {
        return t->n_sets;
}

NftSet *nft_table_set(const NftTable *t, size_t i) {
        return i < t->n_sets ? t->sets[i] : NULL;
}

NftSet *nft_table_find_set(const NftTable *t, const char *name) {
        for (size_t i = 0; t && i < t->n_sets; i++)
                if (streq(t->sets[i]->name, name))
                        return t->sets[i];
        return NULL;
}

const char *nft_chain_name(const NftChain *c) {
        return c->name;
}

int nft_chain_spec(const NftChain *c, NftChainSpec *ret) {
        if (!c->base)
                return -ENODATA;
        *ret = (NftChainSpec) {
                .type = c->type,
                .hook = hook_from_kernel(c->table->family, c->hooknum),
                .priority = c->priority,
                .policy = c->policy,
                .device = c->device,
        };
        return 0;
}

size_t nft_chain_n_rules(const NftChain *c) {
        return c->n_rules;
}

NftRule *nft_chain_rule(const NftChain *c, size_t i) {
        return i < c->n_rules ? c->rules[i] : NULL;
}

const char *nft_set_name(const NftSet *s) {
        return s->name;
}

NftKeyType nft_set_key_type(const NftSet *s) {
        return s->key;
}

unsigned nft_set_flags(const NftSet *s) {
        return (s->kflags & NFT_SET_INTERVAL ? NFT_SETFLAG_INTERVAL : 0) |
               (s->kflags & NFT_SET_CONSTANT ? NFT_SETFLAG_CONSTANT : 0);
}

size_t nft_set_n_elements(const NftSet *s) {
        return s->n_elems;
}

int nft_set_element_to_string(const NftSet *s, size_t i, char **ret) {
        if (i >= s->n_elems)
                return -ERANGE;
        return value_format_key(s->key, s->key_len, s->elems[i].lo, s->elems[i].hi, ret);
}

uint64_t nft_rule_handle(const NftRule *r) {
        return r->handle;
}

const char *nft_rule_name(const NftRule *r) {
        return r->name;
}

const char *nft_rule_comment(const NftRule *r) {
        return r->comment;
}

const char *nft_rule_digest(NftRule *r) {
        return rule_compute_digest(r) < 0 ? NULL : r->digest_hex;
}

const char *nft_rule_identity(NftRule *r) {
        if (r->handle != 0)
                return r->has_identity ? r->identity_hex : NULL;
        return nft_rule_digest(r);
}

int nft_rule_counters(const NftRule *r, uint64_t *ret_packets, uint64_t *ret_bytes) {
        uint64_t packets = 0, bytes = 0;
        bool any = false;

        for (size_t i = 0; i < r->n_exprs; i++)
                if (r->exprs[i].kind == EXPR_COUNTER) {
                        packets += r->exprs[i].num[COUNTER_PACKETS];
                        bytes += r->exprs[i].num[COUNTER_BYTES];
                        any = true;
                }
        if (!any)
                return -ENODATA;
        if (ret_packets)
                *ret_packets = packets;
        if (ret_bytes)
                *ret_bytes = bytes;
        return 0;
}

int nft_rule_to_string(const NftRule *r, char **ret) {
        StrBuf b = {};

        for (size_t i = 0; i < r->n_exprs; i++) {
                if (i > 0)
                        strbuf_putc(&b, ' ');
                expr_format(&r->exprs[i], &b);
        }
        *ret = strbuf_take(&b);
        return *ret ? 0 : -ENOMEM;
}

/* ---- identity ---------------------------------------------------------------- */

static void hex(const uint8_t *d, size_t n, char *out) {
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[d[i] >> 4];
                out[2 * i + 1] = digits[d[i] & 15];
        }
        out[2 * n] = 0;
}

/* SHA-256 over the family, table, chain, comment and expressions. The
 * name is not part of it: a named rule whose digest changed is the same
 * rule, changed. */
int rule_compute_digest(NftRule *r) {
        _cleanup_(freep) uint8_t *buf = NULL;
        size_t len = 0, allocated = 0;
        uint8_t h[SHA256_SIZE];
        const NftTable *t = r->chain->table;
        const char *parts[] = { t->name, r->chain->name, r->comment ?: "" };
        uint8_t family = (uint8_t) t->family;
        int k;

        if (r->has_digest)
                return 0;
        if (greedy_realloc((void **) &buf, &allocated, 256, 1) < 0)
                return -ENOMEM;
        buf[len++] = family;
        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                size_t n = strlen(parts[i]) + 1;

                if (greedy_realloc((void **) &buf, &allocated, len + n, 1) < 0)
                        return -ENOMEM;
                memcpy(buf + len, parts[i], n);
                len += n;
        }
        for (size_t i = 0; i < r->n_exprs; i++) {
                k = expr_serialize(&r->exprs[i], &buf, &len, &allocated);
                if (k < 0)
                        return k;
        }
        sha256(buf, len, h);
        memcpy(r->digest, h, NFT_DIGEST_SIZE);
        hex(r->digest, NFT_DIGEST_SIZE, r->digest_hex);
        r->has_digest = true;
        return 0;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_udata_buf *, nftnl_udata_buf_free);

int rule_udata_build(NftRule *r, void **ret, size_t *ret_len) {
        _cleanup_(nftnl_udata_buf_freep) struct nftnl_udata_buf *u = NULL;
        void *data;
        int k;

        k = rule_compute_digest(r);
        if (k < 0)
                return k;
        u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
        if (!u)
                return -ENOMEM;
        if ((r->comment && !nftnl_udata_put_strz(u, UDATA_RULE_COMMENT, r->comment)) ||
            (r->name && !nftnl_udata_put_strz(u, UDATA_RULE_NAME, r->name)) ||
            !nftnl_udata_put(u, UDATA_RULE_DIGEST, NFT_DIGEST_SIZE, r->digest))
                return -E2BIG;
        data = malloc(nftnl_udata_buf_len(u));
        if (!data)
                return -ENOMEM;
        memcpy(data, nftnl_udata_buf_data(u), nftnl_udata_buf_len(u));
        *ret = data;
        *ret_len = nftnl_udata_buf_len(u);
        return 0;
}

/* A string record: NUL-terminated inside its length. */
static char *udata_strdup(const uint8_t *v, uint8_t n) {
        if (n == 0 || v[n - 1] != '\0')
                return NULL;
        return strdup((const char *) v);
}

/* Userdata others wrote may be anything: records are read only as far as
 * they lie inside it (libnftnl's parser does not check), and what does
 * not parse is no identity. */
int rule_udata_parse(NftRule *r, const void *data, size_t len) {
        const uint8_t *d = data;

        for (size_t pos = 0; pos + 2 <= len;) {
                uint8_t type = d[pos], n = d[pos + 1];
                const uint8_t *v = d + pos + 2;

                if (pos + 2 + n > len) {
                        r->has_identity = false;
                        return 0;
                }
                switch (type) {
                case UDATA_RULE_COMMENT:
                        free(r->comment);
                        r->comment = udata_strdup(v, n);
                        break;
                case UDATA_RULE_NAME:
                        free(r->name);
                        r->name = udata_strdup(v, n);
                        r->name_hash = r->name ? hash64(r->name, strlen(r->name)) : 0;
                        break;
                case UDATA_RULE_DIGEST:
                        if (n != NFT_DIGEST_SIZE)
                                break;
                        memcpy(r->identity, v, NFT_DIGEST_SIZE);
                        hex(r->identity, NFT_DIGEST_SIZE, r->identity_hex);
                        r->has_identity = true;
                        break;
                }
                pos += 2 + (size_t) n;
        }
        return 0;
}

/* ---- describing objects ------------------------------------------------------ */

int error_set(NftError *e, int error, char *object, const char *detail_fmt, ...) {
        if (!e) {
                free(object);
                return error;
        }
        nft_error_done(e);
        e->error = error;
        e->object = object;
        if (detail_fmt) {
                va_list ap;

                va_start(ap, detail_fmt);
                if (vasprintf(&e->detail, detail_fmt, ap) < 0)
                        e->detail = NULL;
                va_end(ap);
        }
        return error;
}

void nft_error_done(NftError *e) {
        if (!e)
                return;
        free(e->object);
        free(e->detail);
        *e = (NftError) {};
}

static char *format(const char *fmt, ...) _printf_(1, 2);
static char *format(const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        return s;
}

char *describe_table(const NftTable *t) {
        return format("table %s %s", nft_family_to_string(t->family), t->name);
}

char *describe_chain(const NftChain *c) {
        return format("chain %s %s %s", nft_family_to_string(c->table->family), c->table->name, c->name);
}

char *describe_set(const NftSet *s) {
        return format("set %s %s %s", nft_family_to_string(s->table->family), s->table->name, s->name);
}

char *describe_rule(const NftRule *r) {
        const NftChain *c = r->chain;
        _cleanup_(freep) char *name = NULL, *where = NULL;

        if (r->name) {
                name = str_quote(r->name);
                if (!name)
                        return NULL;
        }
        if (r->handle != 0)
                where = format("handle %" PRIu64, r->handle);
        else
                for (size_t i = 0; i < c->n_rules; i++)
                        if (c->rules[i] == r)
                                where = format("#%zu", i + 1);
        if (!where)
                return NULL;
        return format("rule %s %s %s %s%s%s", nft_family_to_string(c->table->family), c->table->name, c->name,
                      where, name ? " " : "", name ?: "");
}

/* A rule as a dump of it reads: its expressions, and the identity its
 * userdata carries. */
static int rule_as_dumped(NftChain *c, const NftRule *r, uint64_t handle) {
        _cleanup_(freep) void *udata = NULL;
        NftRule *lr;
        size_t len;
        int k;

        k = rule_new(c, &lr);
        for (size_t e = 0; k >= 0 && e < r->n_exprs; e++) {
                NftExpr copy;

                k = expr_copy(&copy, &r->exprs[e]);
                if (k >= 0)
                        k = rule_append_expr(lr, &copy);
        }
        if (k >= 0)
                k = rule_udata_build((NftRule *) r, &udata, &len);
        if (k >= 0)
                k = rule_udata_parse(lr, udata, len);
        lr->handle = handle;
        return k;
}

static int chain_as_dumped(NftTable *lt, const NftChain *c, uint64_t *handle) {
        NftChain *lc;
        int k;

        k = chain_new(lt, c->name, &lc);
        if (k < 0)
                return k;
        lc->base = c->base;
        lc->type = c->type ? strdup(c->type) : NULL;
        if (c->type && !lc->type)
                return -ENOMEM;
        lc->hooknum = c->hooknum;
        lc->priority = c->priority;
        lc->policy = c->policy;
        if (c->device && !(lc->device = strdup(c->device)))
                return -ENOMEM;
        for (size_t i = 0; k >= 0 && i < c->n_rules; i++)
                k = rule_as_dumped(lc, c->rules[i], (*handle)++);
        return k;
}

int nft_ruleset_as_dumped(NftRuleset *desired, NftRuleset **ret) {
        NftRuleset *live;
        uint64_t handle = 1;
        int k;

        k = nft_ruleset_new(&live);
        for (size_t i = 0; k >= 0 && i < desired->n_tables; i++) {
                NftTable *t = desired->tables[i], *lt;

                if (!t->present)
                        continue;
                k = table_new(live, t->family, t->name, true, &lt);
                for (size_t j = 0; k >= 0 && j < t->n_sets; j++) {
                        NftSet *s = t->sets[j], *ls;

                        k = set_new(lt, s->name, &ls);
                        if (k < 0)
                                break;
                        ls->key = s->key;
                        ls->key_type_id = s->key_type_id;
                        ls->key_len = s->key_len;
                        ls->kflags = s->kflags;
                        k = set_check_elements(s, NULL);
                        if (k >= 0)
                                k = set_kernel_elements(s, &ls->kelems, &ls->n_kelems);
                        if (k >= 0)
                                k = set_elements_from_kernel(ls);
                }
                for (size_t j = 0; k >= 0 && j < t->n_chains; j++)
                        k = chain_as_dumped(lt, t->chains[j], &handle);
        }
        if (k < 0) {
                nft_ruleset_free(live);
                return k;
        }
        live->has_genid = true;
        live->genid = 1;
        *ret = live;
        return 0;
}
