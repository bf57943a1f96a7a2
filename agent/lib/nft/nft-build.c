/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Rule builders: each emits the expressions nft emits for the same text
 * (nft 1.0: "tcp dport 22" is meta l4proto, then the payload; a prefix of
 * whole bytes loads only those bytes; a range is two comparisons, its
 * negation a range expression; dependencies of reject are put first). */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>

#include "macro.h"
#include "nft-internal.h"

/* Where a field's value comes from and what it needs. */
typedef struct FieldInfo {
        const char *name;
        NftKeyType type;                /* value syntax; the set key type for lookups */
        bool meta;                      /* meta key, else a payload */
        uint32_t key;                   /* NFT_META_* */
        uint32_t base, offset, len;     /* payload */
        uint8_t nfproto;                /* network protocol it needs (inet tables) */
        uint8_t l4proto;                /* transport protocol it needs */
        bool ranges;                    /* ranges (and prefixes, for addresses) */
        bool lookup;                    /* set lookups */
} FieldInfo;

#define META(n, t, k, l, lk) { .name = n, .type = t, .meta = true, .key = k, .len = l, .lookup = lk }
#define NET(n, t, o, l, nf) { .name = n, .type = t, .base = NFT_PAYLOAD_NETWORK_HEADER, .offset = o, \
                              .len = l, .nfproto = nf, .ranges = true, .lookup = true }
#define TH(n, o, l4) { .name = n, .type = NFT_KEY_INET_SERVICE, .base = NFT_PAYLOAD_TRANSPORT_HEADER, \
                       .offset = o, .len = 2, .l4proto = l4, .ranges = true, .lookup = true }

static const FieldInfo fields[_NFT_FIELD_MAX] = {
        [NFT_FIELD_IIFNAME] = META("iifname", NFT_KEY_IFNAME, NFT_META_IIFNAME, 16, true),
        [NFT_FIELD_OIFNAME] = META("oifname", NFT_KEY_IFNAME, NFT_META_OIFNAME, 16, true),
        [NFT_FIELD_IIF] = META("iif", NFT_KEY_MARK, NFT_META_IIF, 4, false),
        [NFT_FIELD_OIF] = META("oif", NFT_KEY_MARK, NFT_META_OIF, 4, false),
        [NFT_FIELD_NFPROTO] = META("meta nfproto", NFT_KEY_INET_PROTO, NFT_META_NFPROTO, 1, false),
        [NFT_FIELD_L4PROTO] = META("meta l4proto", NFT_KEY_INET_PROTO, NFT_META_L4PROTO, 1, true),
        [NFT_FIELD_MARK] = META("meta mark", NFT_KEY_MARK, NFT_META_MARK, 4, true),
        [NFT_FIELD_IP_SADDR] = NET("ip saddr", NFT_KEY_IPV4_ADDR, 12, 4, NFPROTO_IPV4),
        [NFT_FIELD_IP_DADDR] = NET("ip daddr", NFT_KEY_IPV4_ADDR, 16, 4, NFPROTO_IPV4),
        [NFT_FIELD_IP6_SADDR] = NET("ip6 saddr", NFT_KEY_IPV6_ADDR, 8, 16, NFPROTO_IPV6),
        [NFT_FIELD_IP6_DADDR] = NET("ip6 daddr", NFT_KEY_IPV6_ADDR, 24, 16, NFPROTO_IPV6),
        [NFT_FIELD_TH_SPORT] = TH("th sport", 0, 0),
        [NFT_FIELD_TH_DPORT] = TH("th dport", 2, 0),
        [NFT_FIELD_TCP_SPORT] = TH("tcp sport", 0, IPPROTO_TCP),
        [NFT_FIELD_TCP_DPORT] = TH("tcp dport", 2, IPPROTO_TCP),
        [NFT_FIELD_UDP_SPORT] = TH("udp sport", 0, IPPROTO_UDP),
        [NFT_FIELD_UDP_DPORT] = TH("udp dport", 2, IPPROTO_UDP),
        [NFT_FIELD_ICMP_TYPE] = { .name = "icmp type", .type = NFT_KEY_INET_PROTO, .base = NFT_PAYLOAD_TRANSPORT_HEADER,
                                  .offset = 0, .len = 1, .nfproto = NFPROTO_IPV4, .l4proto = IPPROTO_ICMP },
        [NFT_FIELD_ICMPV6_TYPE] = { .name = "icmpv6 type", .type = NFT_KEY_INET_PROTO, .base = NFT_PAYLOAD_TRANSPORT_HEADER,
                                    .offset = 0, .len = 1, .nfproto = NFPROTO_IPV6, .l4proto = IPPROTO_ICMPV6 },
        [NFT_FIELD_ETHER_SADDR] = { .name = "ether saddr", .type = NFT_KEY_ETHER_ADDR, .base = NFT_PAYLOAD_LL_HEADER,
                                    .offset = 6, .len = 6, .lookup = true },
};

const char *nft_field_to_string(NftField f) {
        return f >= 0 && f < _NFT_FIELD_MAX ? fields[f].name : NULL;
}

NftField nft_field_from_string(const char *s) {
        for (NftField f = 0; s && f < _NFT_FIELD_MAX; f++)
                if (streq(fields[f].name, s))
                        return f;
        return _NFT_FIELD_INVALID;
}

/* ---- emitting expressions --------------------------------------------------- */

/* Appends e, or inserts it at *at (then advanced). */
static int emit(NftRule *r, size_t *at, NftExpr *e) {
        if (!at)
                return rule_append_expr(r, e);
        return rule_insert_expr(r, (*at)++, e);
}

static int emit_meta(NftRule *r, size_t *at, uint32_t key) {
        NftExpr e = { .kind = EXPR_META };

        expr_set_num(&e, META_KEY, key);
        expr_set_num(&e, META_DREG, NFT_REG_1);
        return emit(r, at, &e);
}

static int emit_payload(NftRule *r, uint32_t base, uint32_t offset, uint32_t len) {
        NftExpr e = { .kind = EXPR_PAYLOAD };

        expr_set_num(&e, PAYLOAD_DREG, NFT_REG_1);
        expr_set_num(&e, PAYLOAD_BASE, base);
        expr_set_num(&e, PAYLOAD_OFFSET, offset);
        expr_set_num(&e, PAYLOAD_LEN, len);
        return emit(r, NULL, &e);
}

static int emit_cmp(NftRule *r, size_t *at, uint32_t op, const void *data, size_t len) {
        NftExpr e = { .kind = EXPR_CMP };

        expr_set_num(&e, CMP_SREG, NFT_REG_1);
        expr_set_num(&e, CMP_OP, op);
        expr_set_data(&e, CMP_DATA, data, len);
        return emit(r, at, &e);
}

static int emit_bitwise(NftRule *r, const void *mask, size_t len) {
        static const uint8_t zero[EXPR_DATA_MAX] = {};
        NftExpr e = { .kind = EXPR_BITWISE };

        expr_set_num(&e, BITWISE_SREG, NFT_REG_1);
        expr_set_num(&e, BITWISE_DREG, NFT_REG_1);
        expr_set_num(&e, BITWISE_LEN, len);
        expr_set_data(&e, BITWISE_MASK, mask, len);
        expr_set_data(&e, BITWISE_XOR, zero, len);
        return emit(r, NULL, &e);
}

static int emit_immediate_data(NftRule *r, uint32_t reg, const void *data, size_t len) {
        NftExpr e = { .kind = EXPR_IMMEDIATE };

        expr_set_num(&e, IMM_DREG, reg);
        expr_set_data(&e, IMM_DATA, data, len);
        return emit(r, NULL, &e);
}

/* "meta KEY VALUE" of one byte (nfproto, l4proto), at *at or appended. */
static int emit_meta_u8(NftRule *r, size_t *at, uint32_t key, uint8_t value) {
        int k = emit_meta(r, at, key);

        return k < 0 ? k : emit_cmp(r, at, NFT_CMP_EQ, &value, 1);
}

/* Payload fields outside inet, ip and ip6 tables would need other
 * dependencies (meta protocol) than these builders emit. */
static bool family_has_l3(const NftRule *r) {
        int f = r->chain->table->family;

        return f == NFT_FAMILY_INET || f == NFT_FAMILY_IPV4 || f == NFT_FAMILY_IPV6;
}

/* The network protocol nfproto, matched first if the rule does not yet. */
static int need_nfproto(NftRule *r, size_t *at, uint8_t nfproto) {
        int k;

        if (r->ctx_nfproto == nfproto)
                return 0;
        if (r->ctx_nfproto != 0)
                return -EINVAL;         /* ip6 after ip: nothing could match */
        k = emit_meta_u8(r, at, NFT_META_NFPROTO, nfproto);
        if (k < 0)
                return k;
        r->ctx_nfproto = nfproto;
        return 0;
}

static int need_l4proto(NftRule *r, size_t *at, uint8_t l4proto) {
        int k;

        if (r->ctx_l4proto == l4proto)
                return 0;
        if (r->ctx_l4proto != 0)
                return -EINVAL;
        k = emit_meta_u8(r, at, NFT_META_L4PROTO, l4proto);
        if (k < 0)
                return k;
        r->ctx_l4proto = l4proto;
        return 0;
}

static int field_dependencies(NftRule *r, const FieldInfo *fi) {
        int k;

        if (fi->meta)
                return 0;
        if (!family_has_l3(r))
                return -EOPNOTSUPP;
        if (fi->base == NFT_PAYLOAD_LL_HEADER) {
                uint16_t ether = 1;     /* ARPHRD_ETHER */

                k = emit_meta(r, NULL, NFT_META_IIFTYPE);
                return k < 0 ? k : emit_cmp(r, NULL, NFT_CMP_EQ, &ether, sizeof ether);
        }
        if (fi->nfproto) {
                k = need_nfproto(r, NULL, fi->nfproto);
                if (k < 0)
                        return k;
        }
        if (fi->l4proto) {
                k = need_l4proto(r, NULL, fi->l4proto);
                if (k < 0)
                        return k;
        }
        return 0;
}

static int field_load(NftRule *r, const FieldInfo *fi, uint32_t len) {
        if (fi->meta)
                return emit_meta(r, NULL, fi->key);
        return emit_payload(r, fi->base, fi->offset, len);
}

/* ---- values of fields ----------------------------------------------------- */

static const struct {
        const char *name;
        uint8_t type;
} icmp_types[] = {
        { "echo-reply", ICMP_ECHOREPLY }, { "destination-unreachable", ICMP_DEST_UNREACH },
        { "source-quench", ICMP_SOURCE_QUENCH }, { "redirect", ICMP_REDIRECT },
        { "echo-request", ICMP_ECHO }, { "router-advertisement", 9 }, { "router-solicitation", 10 },
        { "time-exceeded", ICMP_TIME_EXCEEDED }, { "parameter-problem", ICMP_PARAMETERPROB },
        { "timestamp-request", ICMP_TIMESTAMP }, { "timestamp-reply", ICMP_TIMESTAMPREPLY },
        { "info-request", ICMP_INFO_REQUEST }, { "info-reply", ICMP_INFO_REPLY },
        { "address-mask-request", ICMP_ADDRESS }, { "address-mask-reply", ICMP_ADDRESSREPLY },
}, icmpv6_types[] = {
        { "destination-unreachable", ICMPV6_DEST_UNREACH }, { "packet-too-big", ICMPV6_PKT_TOOBIG },
        { "time-exceeded", ICMPV6_TIME_EXCEED }, { "parameter-problem", ICMPV6_PARAMPROB },
        { "echo-request", ICMPV6_ECHO_REQUEST }, { "echo-reply", ICMPV6_ECHO_REPLY },
        { "mld-listener-query", 130 }, { "mld-listener-report", 131 }, { "mld-listener-done", 132 },
        { "mld-listener-reduction", 132 }, { "nd-router-solicit", 133 }, { "nd-router-advert", 134 },
        { "nd-neighbor-solicit", 135 }, { "nd-neighbor-advert", 136 }, { "nd-redirect", 137 },
        { "router-renumbering", 138 }, { "ind-neighbor-solicit", 141 }, { "ind-neighbor-advert", 142 },
        { "mld2-listener-report", 143 },
};

static int parse_icmp_type(NftField f, const char *text, uint8_t *ret) {
        uint64_t v;

        if (f == NFT_FIELD_ICMP_TYPE) {
                for (size_t i = 0; i < ELEMENTSOF(icmp_types); i++)
                        if (streq(icmp_types[i].name, text))
                                return *ret = icmp_types[i].type, 0;
        } else
                for (size_t i = 0; i < ELEMENTSOF(icmpv6_types); i++)
                        if (streq(icmpv6_types[i].name, text))
                                return *ret = icmpv6_types[i].type, 0;
        if (parse_uint(text, UINT8_MAX, &v) < 0)
                return -EINVAL;
        *ret = (uint8_t) v;
        return 0;
}

/* The value of a match on field f; *ret_cmp_len is how much of it a
 * comparison looks at (an ifname with a trailing '*': the prefix). */
static int field_value(NftField f, const char *text, Value *v, size_t *ret_cmp_len) {
        const FieldInfo *fi = &fields[f];
        size_t n;

        *v = (Value) { .prefix = -1 };
        switch (f) {
        case NFT_FIELD_IIFNAME:
        case NFT_FIELD_OIFNAME:
                n = text ? strlen(text) : 0;
                if (n >= 2 && text[n - 1] == '*' && n - 1 < 16 && !memchr(text, '*', n - 1) && !strchr(text, '/')) {
                        v->len = 16;
                        memcpy(v->lo, text, n - 1);
                        *ret_cmp_len = n - 1;
                        return 0;
                }
                break;
        case NFT_FIELD_NFPROTO:
                v->len = 1;
                *ret_cmp_len = 1;
                if (streq_ptr(text, "ipv4"))
                        v->lo[0] = NFPROTO_IPV4;
                else if (streq_ptr(text, "ipv6"))
                        v->lo[0] = NFPROTO_IPV6;
                else {
                        uint64_t x;

                        if (parse_uint(text, UINT8_MAX, &x) < 0)
                                return -EINVAL;
                        v->lo[0] = (uint8_t) x;
                }
                return 0;
        case NFT_FIELD_ICMP_TYPE:
        case NFT_FIELD_ICMPV6_TYPE:
                v->len = 1;
                *ret_cmp_len = 1;
                return text ? parse_icmp_type(f, text, &v->lo[0]) : -EINVAL;
        default:
                break;
        }
        if (value_parse(fi->type, text, v) < 0)
                return -EINVAL;
        if (v->range && !fi->ranges)
                return -EINVAL;
        *ret_cmp_len = v->len;
        return 0;
}

/* ---- matches -------------------------------------------------------------- */

static const FieldInfo *field_info(const NftRule *r, NftField f) {
        if (!r || f < 0 || f >= _NFT_FIELD_MAX)
                return NULL;
        return &fields[f];
}

/* ip saddr 10.0.0.0/8 and the like: whole bytes load only those bytes,
 * other prefixes the whole address under a mask. */
static int match_prefix(NftRule *r, const FieldInfo *fi, uint32_t op, const Value *v) {
        uint8_t mask[EXPR_DATA_MAX] = {};
        int k;

        if (v->prefix % 8 == 0) {
                k = field_load(r, fi, (uint32_t) v->prefix / 8);
                return k < 0 ? k : emit_cmp(r, NULL, op, v->lo, (size_t) v->prefix / 8);
        }
        for (int i = 0; i < v->prefix; i++)
                mask[i / 8] |= (uint8_t) (0x80 >> (i % 8));
        k = field_load(r, fi, fi->len);
        if (k >= 0)
                k = emit_bitwise(r, mask, fi->len);
        return k < 0 ? k : emit_cmp(r, NULL, op, v->lo, fi->len);
}

static int match_range(NftRule *r, const FieldInfo *fi, bool negate, const Value *v) {
        NftExpr e = { .kind = EXPR_RANGE };
        int k;

        k = field_load(r, fi, fi->len);
        if (k < 0)
                return k;
        if (!negate) {
                k = emit_cmp(r, NULL, NFT_CMP_GTE, v->lo, v->len);
                return k < 0 ? k : emit_cmp(r, NULL, NFT_CMP_LTE, v->hi, v->len);
        }
        expr_set_num(&e, RANGE_SREG, NFT_REG_1);
        expr_set_num(&e, RANGE_OP, NFT_RANGE_NEQ);
        expr_set_data(&e, RANGE_FROM, v->lo, v->len);
        expr_set_data(&e, RANGE_TO, v->hi, v->len);
        return rule_append_expr(r, &e);
}

int nft_rule_match(NftRule *r, NftField f, bool negate, const char *value) {
        const FieldInfo *fi = field_info(r, f);
        uint32_t op = negate ? NFT_CMP_NEQ : NFT_CMP_EQ;
        size_t cmp_len;
        Value v;
        int k;

        if (!fi)
                return -EINVAL;
        k = field_value(f, value, &v, &cmp_len);
        if (k < 0)
                return k;
        if (v.prefix == 0)
                return -EINVAL;         /* matches everything: say so by not matching */
        /* An explicit protocol match that contradicts the rule so far. */
        if (!negate && f == NFT_FIELD_NFPROTO && r->ctx_nfproto && r->ctx_nfproto != v.lo[0])
                return -EINVAL;
        if (!negate && f == NFT_FIELD_L4PROTO && r->ctx_l4proto && r->ctx_l4proto != v.lo[0])
                return -EINVAL;
        k = field_dependencies(r, fi);
        if (k < 0)
                return k;

        if (v.prefix > 0 && v.range)
                k = match_prefix(r, fi, op, &v);
        else if (v.range)
                k = match_range(r, fi, negate, &v);
        else {
                k = field_load(r, fi, fi->len);
                if (k >= 0)
                        k = emit_cmp(r, NULL, op, v.lo, cmp_len);
        }
        if (k < 0)
                return k;

        if (!negate && f == NFT_FIELD_NFPROTO)
                r->ctx_nfproto = v.lo[0];
        if (!negate && f == NFT_FIELD_L4PROTO)
                r->ctx_l4proto = v.lo[0];
        return 0;
}

int nft_rule_match_set(NftRule *r, NftField f, bool negate, const char *set) {
        const FieldInfo *fi = field_info(r, f);
        NftExpr e = { .kind = EXPR_LOOKUP };
        int k;

        if (!fi)
                return -EINVAL;
        if (!fi->lookup)
                return -EOPNOTSUPP;
        k = name_check(set);
        if (k < 0)
                return k;
        k = field_dependencies(r, fi);
        if (k >= 0)
                k = field_load(r, fi, fi->len);
        if (k < 0)
                return k;
        expr_set_num(&e, LOOKUP_SREG, NFT_REG_1);
        k = expr_set_str(&e, LOOKUP_SET, set);
        if (k < 0)
                return k;
        if (negate)
                expr_set_num(&e, LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
        return rule_append_expr(r, &e);
}

/* ct KEY & bits != 0 */
static int match_ct_bits(NftRule *r, uint32_t key, uint32_t bits) {
        NftExpr e = { .kind = EXPR_CT };
        uint32_t zero = 0;
        int k;

        if (!r || bits == 0)
                return -EINVAL;
        expr_set_num(&e, CT_DREG, NFT_REG_1);
        expr_set_num(&e, CT_KEY, key);
        k = rule_append_expr(r, &e);
        if (k >= 0)
                k = emit_bitwise(r, &bits, sizeof bits);
        return k < 0 ? k : emit_cmp(r, NULL, NFT_CMP_NEQ, &zero, sizeof zero);
}

int nft_rule_match_ct_state(NftRule *r, unsigned states) {
        if (states & ~(unsigned) (NFT_CTSTATE_INVALID | NFT_CTSTATE_ESTABLISHED | NFT_CTSTATE_RELATED |
                                  NFT_CTSTATE_NEW | NFT_CTSTATE_UNTRACKED))
                return -EINVAL;
        return match_ct_bits(r, NFT_CT_STATE, states);
}

int nft_rule_match_ct_status(NftRule *r, unsigned status) {
        if (status & ~(unsigned) (NFT_CTSTATUS_EXPECTED | NFT_CTSTATUS_SEEN_REPLY | NFT_CTSTATUS_ASSURED |
                                  NFT_CTSTATUS_CONFIRMED | NFT_CTSTATUS_SNAT | NFT_CTSTATUS_DNAT |
                                  NFT_CTSTATUS_DYING))
                return -EINVAL;
        return match_ct_bits(r, NFT_CT_STATUS, status);
}

/* ---- statements -------------------------------------------------------------- */

int nft_rule_counter(NftRule *r) {
        NftExpr e = { .kind = EXPR_COUNTER };

        if (!r)
                return -EINVAL;
        return rule_append_expr(r, &e);
}

int nft_rule_limit(NftRule *r, const NftLimit *l) {
        static const uint64_t seconds[] = {
                [NFT_PER_SECOND] = 1, [NFT_PER_MINUTE] = 60, [NFT_PER_HOUR] = 3600, [NFT_PER_DAY] = 86400,
        };
        NftExpr e = { .kind = EXPR_LIMIT };

        if (!r || !l || l->rate == 0 || l->unit < 0 || (size_t) l->unit >= ELEMENTSOF(seconds))
                return -EINVAL;
        expr_set_num(&e, LIMIT_RATE, l->rate);
        expr_set_num(&e, LIMIT_UNIT, seconds[l->unit]);
        expr_set_num(&e, LIMIT_BURST, l->burst != 0 ? l->burst : l->bytes ? 0 : 5);
        expr_set_num(&e, LIMIT_TYPE, l->bytes ? NFT_LIMIT_PKT_BYTES : NFT_LIMIT_PKTS);
        expr_set_num(&e, LIMIT_FLAGS, l->over ? NFT_LIMIT_F_INV : 0);
        return rule_append_expr(r, &e);
}

int nft_rule_log(NftRule *r, const char *prefix, int level) {
        NftExpr e = { .kind = EXPR_LOG };
        int k;

        if (!r || level < -1 || level > 7)
                return -EINVAL;
        if (prefix) {
                size_t n = strlen(prefix);

                if (n == 0 || n > NFT_COMMENT_MAX)
                        return -EINVAL;
                for (const char *p = prefix; *p; p++)
                        if ((unsigned char) *p < ' ' || *p == '"' || *p == 0x7f)
                                return -EINVAL;
                k = expr_set_str(&e, LOG_PREFIX, prefix);
                if (k < 0)
                        return k;
        }
        if (level >= 0)
                expr_set_num(&e, LOG_LEVEL, (uint32_t) level);
        return rule_append_expr(r, &e);
}

static int emit_verdict(NftRule *r, int32_t verdict, const char *chain) {
        NftExpr e = { .kind = EXPR_IMMEDIATE };
        int k;

        expr_set_num(&e, IMM_DREG, NFT_REG_VERDICT);
        expr_set_num(&e, IMM_VERDICT, (uint32_t) verdict);
        if (chain) {
                k = expr_set_str(&e, IMM_CHAIN, chain);
                if (k < 0)
                        return k;
        }
        return rule_append_expr(r, &e);
}

int nft_rule_verdict(NftRule *r, NftVerdict v) {
        static const int32_t verdicts[] = {
                [NFT_VERDICT_ACCEPT] = NF_ACCEPT, [NFT_VERDICT_DROP] = NF_DROP, [NFT_VERDICT_RETURN] = NFT_RETURN,
        };

        if (!r || v < 0 || (size_t) v >= ELEMENTSOF(verdicts))
                return -EINVAL;
        return emit_verdict(r, verdicts[v], NULL);
}

int nft_rule_jump(NftRule *r, const char *chain) {
        if (!r || name_check(chain) < 0)
                return -EINVAL;
        return emit_verdict(r, NFT_JUMP, chain);
}

int nft_rule_goto(NftRule *r, const char *chain) {
        if (!r || name_check(chain) < 0)
                return -EINVAL;
        return emit_verdict(r, NFT_GOTO, chain);
}

/* The network protocol a reject needs, put first in the rule as nft does. */
static int reject_nfproto(NftRule *r, uint8_t nfproto) {
        size_t at = 0;

        return need_nfproto(r, &at, nfproto);
}

int nft_rule_reject(NftRule *r, NftRejectWith with, unsigned code) {
        NftExpr e = { .kind = EXPR_REJECT };
        uint32_t type;
        uint8_t c = 0;
        int k = 0;

        if (!r)
                return -EINVAL;
        if (!family_has_l3(r))
                return -EOPNOTSUPP;
        switch (with) {
        case NFT_REJECTWITH_DEFAULT:
                if (r->ctx_nfproto == NFPROTO_IPV4)
                        type = NFT_REJECT_ICMP_UNREACH, c = ICMP_PORT_UNREACH;
                else if (r->ctx_nfproto == NFPROTO_IPV6)
                        type = NFT_REJECT_ICMP_UNREACH, c = ICMPV6_PORT_UNREACH;
                else
                        type = NFT_REJECT_ICMPX_UNREACH, c = NFT_REJECT_ICMPX_PORT_UNREACH;
                break;
        case NFT_REJECTWITH_TCP_RESET: {
                size_t at = 0;

                type = NFT_REJECT_TCP_RST;
                k = need_l4proto(r, &at, IPPROTO_TCP);
                break;
        }
        case NFT_REJECTWITH_ICMPX:
                if (code > NFT_REJECT_ICMPX_ADMIN_PROHIBITED)
                        return -EINVAL;
                type = NFT_REJECT_ICMPX_UNREACH, c = (uint8_t) code;
                break;
        case NFT_REJECTWITH_ICMP:
        case NFT_REJECTWITH_ICMPV6:
                if (code > UINT8_MAX)
                        return -EINVAL;
                type = NFT_REJECT_ICMP_UNREACH, c = (uint8_t) code;
                k = reject_nfproto(r, with == NFT_REJECTWITH_ICMP ? NFPROTO_IPV4 : NFPROTO_IPV6);
                break;
        default:
                return -EINVAL;
        }
        if (k < 0)
                return k;
        expr_set_num(&e, REJECT_TYPE, type);
        if (type != NFT_REJECT_TCP_RST)
                expr_set_num(&e, REJECT_CODE, c);
        return rule_append_expr(r, &e);
}

int nft_rule_masquerade(NftRule *r) {
        NftExpr e = { .kind = EXPR_MASQ };

        if (!r)
                return -EINVAL;
        if (!family_has_l3(r))
                return -EOPNOTSUPP;
        return rule_append_expr(r, &e);
}

/* "addr", "addr:port", "v6addr", "[v6addr]:port". */
static int parse_nat_target(const char *to, uint8_t *ret_family, uint8_t addr[16], bool *ret_port, uint16_t *ret_p) {
        char buf[INET6_ADDRSTRLEN + 16], *host = buf, *port = NULL;
        uint64_t p;

        if (!to || strlen(to) >= sizeof buf)
                return -EINVAL;
        strcpy(buf, to);
        if (buf[0] == '[') {
                char *close = strchr(buf, ']');

                if (!close)
                        return -EINVAL;
                *close = 0;
                host = buf + 1;
                if (close[1] == ':')
                        port = close + 2;
                else if (close[1] != 0)
                        return -EINVAL;
        } else if (strchr(buf, ':') == strrchr(buf, ':') && strchr(buf, ':')) {
                port = strchr(buf, ':');
                *port++ = 0;
        }
        if (parse_ipv4(host, addr) == 0)
                *ret_family = NFPROTO_IPV4;
        else if (parse_ipv6(host, addr) == 0)
                *ret_family = NFPROTO_IPV6;
        else
                return -EINVAL;
        if (buf[0] == '[' && *ret_family != NFPROTO_IPV6)
                return -EINVAL;
        *ret_port = port != NULL;
        if (port) {
                if (parse_uint(port, UINT16_MAX, &p) < 0 || p == 0)
                        return -EINVAL;
                *ret_p = htons((uint16_t) p);
        }
        return 0;
}

static int rule_nat(NftRule *r, uint32_t type, const char *to) {
        NftExpr e = { .kind = EXPR_NAT };
        uint8_t family, addr[16];
        bool has_port;
        uint16_t port = 0;
        int k;

        if (!r)
                return -EINVAL;
        if (!family_has_l3(r))
                return -EOPNOTSUPP;
        k = parse_nat_target(to, &family, addr, &has_port, &port);
        if (k < 0)
                return k;
        if (r->chain->table->family != NFT_FAMILY_INET && r->chain->table->family != family)
                return -EINVAL;
        /* nft: "transport protocol mapping is only valid after transport
         * protocol match" */
        if (has_port && r->ctx_l4proto != IPPROTO_TCP && r->ctx_l4proto != IPPROTO_UDP)
                return -EINVAL;

        k = emit_immediate_data(r, NFT_REG_1, addr, family == NFPROTO_IPV4 ? 4 : 16);
        if (k >= 0 && has_port)
                k = emit_immediate_data(r, NFT_REG_2, &port, sizeof port);
        if (k < 0)
                return k;
        /* What the kernel reports back: the registers of both ends of
         * the ranges, and the flags it derives from them. */
        expr_set_num(&e, NAT_TYPE, type);
        expr_set_num(&e, NAT_FAMILY, family);
        expr_set_num(&e, NAT_ADDR_MIN, NFT_REG_1);
        expr_set_num(&e, NAT_ADDR_MAX, NFT_REG_1);
        if (has_port) {
                expr_set_num(&e, NAT_PROTO_MIN, NFT_REG_2);
                expr_set_num(&e, NAT_PROTO_MAX, NFT_REG_2);
        }
        expr_set_num(&e, NAT_FLAGS, NF_NAT_RANGE_MAP_IPS | (has_port ? NF_NAT_RANGE_PROTO_SPECIFIED : 0));
        return rule_append_expr(r, &e);
}

int nft_rule_snat(NftRule *r, const char *to) {
        return rule_nat(r, NFT_NAT_SNAT, to);
}

int nft_rule_dnat(NftRule *r, const char *to) {
        return rule_nat(r, NFT_NAT_DNAT, to);
}

/* tcp flags syn tcp option maxseg size set rt mtu */
int nft_rule_mss_clamp_pmtu(NftRule *r) {
        uint8_t syn = 0x02, zero = 0;
        NftExpr rt = { .kind = EXPR_RT }, bo = { .kind = EXPR_BYTEORDER }, ex = { .kind = EXPR_EXTHDR };
        int k;

        if (!r)
                return -EINVAL;
        if (!family_has_l3(r))
                return -EOPNOTSUPP;
        k = need_l4proto(r, NULL, IPPROTO_TCP);
        if (k >= 0)
                k = emit_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1);
        if (k >= 0)
                k = emit_bitwise(r, &syn, 1);
        if (k >= 0)
                k = emit_cmp(r, NULL, NFT_CMP_NEQ, &zero, 1);
        if (k < 0)
                return k;

        expr_set_num(&rt, RT_KEY, NFT_RT_TCPMSS);
        expr_set_num(&rt, RT_DREG, NFT_REG_1);
        k = rule_append_expr(r, &rt);
        if (k < 0)
                return k;
        expr_set_num(&bo, BYTEORDER_DREG, NFT_REG_1);
        expr_set_num(&bo, BYTEORDER_SREG, NFT_REG_1);
        expr_set_num(&bo, BYTEORDER_OP, NFT_BYTEORDER_HTON);
        expr_set_num(&bo, BYTEORDER_LEN, 2);
        expr_set_num(&bo, BYTEORDER_SIZE, 2);
        k = rule_append_expr(r, &bo);
        if (k < 0)
                return k;
        expr_set_num(&ex, EXTHDR_TYPE, 2);      /* TCPOPT_MAXSEG */
        expr_set_num(&ex, EXTHDR_OFFSET, 2);
        expr_set_num(&ex, EXTHDR_LEN, 2);
        expr_set_num(&ex, EXTHDR_OP, NFT_EXTHDR_OP_TCPOPT);
        expr_set_num(&ex, EXTHDR_SREG, NFT_REG_1);
        return rule_append_expr(r, &ex);
}
