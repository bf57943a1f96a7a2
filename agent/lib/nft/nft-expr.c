/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Expressions: one table describes, for each kind the library emits, the
 * libnftnl attributes it carries. Encoding, decoding, the identity bytes
 * and the text form all walk that table, so what is sent and what is read
 * back are the same fields by construction. */

#include <inttypes.h>
#include <stdio.h>
#include <libnftnl/expr.h>

#include "macro.h"
#include "nft-internal.h"
#include "strbuf.h"

typedef enum FieldType {
        F_U8,
        F_U32,
        F_U64,
        F_DATA,
        F_STR,
} FieldType;

typedef struct ExprField {
        const char *name;
        uint16_t attr;                  /* NFTNL_EXPR_* */
        uint8_t type;                   /* FieldType */
        uint8_t slot;                   /* F_DATA: data[slot] */
        bool volatile_value;            /* not part of the identity (counter values) */
        bool has_default;               /* the kernel reports def when it was not sent: */
        uint64_t def;                   /* the same as unset */
} ExprField;

typedef struct ExprDesc {
        const char *name;               /* libnftnl's name of the expression */
        unsigned n_fields;
        ExprField fields[EXPR_FIELDS_MAX];
} ExprDesc;

#define U8(n, a) { .name = n, .attr = a, .type = F_U8 }
#define U32(n, a) { .name = n, .attr = a, .type = F_U32 }
#define U32D(n, a, d) { .name = n, .attr = a, .type = F_U32, .has_default = true, .def = d }
#define U8D(n, a, d) { .name = n, .attr = a, .type = F_U8, .has_default = true, .def = d }
#define U64(n, a) { .name = n, .attr = a, .type = F_U64 }
#define U64V(n, a) { .name = n, .attr = a, .type = F_U64, .volatile_value = true }
#define DATA(n, a, s) { .name = n, .attr = a, .type = F_DATA, .slot = s }
#define STR(n, a) { .name = n, .attr = a, .type = F_STR }

static const ExprDesc descs[_EXPR_KIND_MAX] = {
        [EXPR_META] = { "meta", 2, {
                U32("key", NFTNL_EXPR_META_KEY),
                U32("dreg", NFTNL_EXPR_META_DREG),
        } },
        [EXPR_PAYLOAD] = { "payload", 4, {
                U32("dreg", NFTNL_EXPR_PAYLOAD_DREG),
                U32("base", NFTNL_EXPR_PAYLOAD_BASE),
                U32("offset", NFTNL_EXPR_PAYLOAD_OFFSET),
                U32("len", NFTNL_EXPR_PAYLOAD_LEN),
        } },
        [EXPR_CMP] = { "cmp", 3, {
                U32("sreg", NFTNL_EXPR_CMP_SREG),
                U32("op", NFTNL_EXPR_CMP_OP),
                DATA("data", NFTNL_EXPR_CMP_DATA, 0),
        } },
        [EXPR_BITWISE] = { "bitwise", 5, {
                U32("sreg", NFTNL_EXPR_BITWISE_SREG),
                U32("dreg", NFTNL_EXPR_BITWISE_DREG),
                U32("len", NFTNL_EXPR_BITWISE_LEN),
                DATA("mask", NFTNL_EXPR_BITWISE_MASK, 0),
                DATA("xor", NFTNL_EXPR_BITWISE_XOR, 1),
        } },
        [EXPR_RANGE] = { "range", 4, {
                U32("sreg", NFTNL_EXPR_RANGE_SREG),
                U32("op", NFTNL_EXPR_RANGE_OP),
                DATA("from", NFTNL_EXPR_RANGE_FROM_DATA, 0),
                DATA("to", NFTNL_EXPR_RANGE_TO_DATA, 1),
        } },
        [EXPR_LOOKUP] = { "lookup", 3, {
                U32("sreg", NFTNL_EXPR_LOOKUP_SREG),
                STR("set", NFTNL_EXPR_LOOKUP_SET),
                U32D("flags", NFTNL_EXPR_LOOKUP_FLAGS, 0),
        } },
        [EXPR_CT] = { "ct", 3, {
                U32("dreg", NFTNL_EXPR_CT_DREG),
                U32("key", NFTNL_EXPR_CT_KEY),
                U8("dir", NFTNL_EXPR_CT_DIR),
        } },
        [EXPR_COUNTER] = { "counter", 2, {
                U64V("packets", NFTNL_EXPR_CTR_PACKETS),
                U64V("bytes", NFTNL_EXPR_CTR_BYTES),
        } },
        [EXPR_LIMIT] = { "limit", 5, {
                U64("rate", NFTNL_EXPR_LIMIT_RATE),
                U64("unit", NFTNL_EXPR_LIMIT_UNIT),
                U32("burst", NFTNL_EXPR_LIMIT_BURST),
                U32("type", NFTNL_EXPR_LIMIT_TYPE),
                U32D("flags", NFTNL_EXPR_LIMIT_FLAGS, 0),
        } },
        [EXPR_LOG] = { "log", 2, {
                STR("prefix", NFTNL_EXPR_LOG_PREFIX),
                U32D("level", NFTNL_EXPR_LOG_LEVEL, 4),  /* warning */
        } },
        [EXPR_IMMEDIATE] = { "immediate", 4, {
                U32("dreg", NFTNL_EXPR_IMM_DREG),
                DATA("data", NFTNL_EXPR_IMM_DATA, 0),
                U32("verdict", NFTNL_EXPR_IMM_VERDICT),
                STR("chain", NFTNL_EXPR_IMM_CHAIN),
        } },
        [EXPR_REJECT] = { "reject", 2, {
                U32("type", NFTNL_EXPR_REJECT_TYPE),
                U8D("code", NFTNL_EXPR_REJECT_CODE, 0),
        } },
        [EXPR_MASQ] = { "masq", 3, {
                U32D("flags", NFTNL_EXPR_MASQ_FLAGS, 0),
                U32("proto_min", NFTNL_EXPR_MASQ_REG_PROTO_MIN),
                U32("proto_max", NFTNL_EXPR_MASQ_REG_PROTO_MAX),
        } },
        [EXPR_NAT] = { "nat", 7, {
                U32("type", NFTNL_EXPR_NAT_TYPE),
                U32("family", NFTNL_EXPR_NAT_FAMILY),
                U32("addr_min", NFTNL_EXPR_NAT_REG_ADDR_MIN),
                U32("addr_max", NFTNL_EXPR_NAT_REG_ADDR_MAX),
                U32("proto_min", NFTNL_EXPR_NAT_REG_PROTO_MIN),
                U32("proto_max", NFTNL_EXPR_NAT_REG_PROTO_MAX),
                U32D("flags", NFTNL_EXPR_NAT_FLAGS, 0),
        } },
        [EXPR_RT] = { "rt", 2, {
                U32("key", NFTNL_EXPR_RT_KEY),
                U32("dreg", NFTNL_EXPR_RT_DREG),
        } },
        [EXPR_BYTEORDER] = { "byteorder", 5, {
                U32("dreg", NFTNL_EXPR_BYTEORDER_DREG),
                U32("sreg", NFTNL_EXPR_BYTEORDER_SREG),
                U32("op", NFTNL_EXPR_BYTEORDER_OP),
                U32("len", NFTNL_EXPR_BYTEORDER_LEN),
                U32("size", NFTNL_EXPR_BYTEORDER_SIZE),
        } },
        [EXPR_EXTHDR] = { "exthdr", 7, {
                U32("dreg", NFTNL_EXPR_EXTHDR_DREG),
                U8("type", NFTNL_EXPR_EXTHDR_TYPE),
                U32("offset", NFTNL_EXPR_EXTHDR_OFFSET),
                U32("len", NFTNL_EXPR_EXTHDR_LEN),
                U32D("flags", NFTNL_EXPR_EXTHDR_FLAGS, 0),
                U32("op", NFTNL_EXPR_EXTHDR_OP),
                U32("sreg", NFTNL_EXPR_EXTHDR_SREG),
        } },
};

const char *expr_kind_name(ExprKind k) {
        return k < _EXPR_KIND_MAX ? descs[k].name : "other";
}

static const ExprField *field_of(const NftExpr *e, unsigned i) {
        return e->kind < _EXPR_KIND_MAX && i < descs[e->kind].n_fields ? &descs[e->kind].fields[i] : NULL;
}

void expr_done(NftExpr *e) {
        free(e->str);
        e->str = NULL;
}

int expr_copy(NftExpr *dst, const NftExpr *src) {
        *dst = *src;
        dst->str = NULL;
        if (src->str) {
                dst->str = strdup(src->str);
                if (!dst->str)
                        return -ENOMEM;
        }
        return 0;
}

bool expr_has(const NftExpr *e, unsigned field) {
        return e->present & (1u << field);
}

void expr_set_num(NftExpr *e, unsigned field, uint64_t v) {
        e->num[field] = v;
        e->present |= 1u << field;
}

void expr_set_data(NftExpr *e, unsigned field, const void *data, size_t len) {
        const ExprField *f = field_of(e, field);
        size_t n = MIN(len, (size_t) EXPR_DATA_MAX);

        memcpy(e->data[f->slot], data, n);
        e->data_len[f->slot] = (uint8_t) n;
        e->present |= 1u << field;
}

int expr_set_str(NftExpr *e, unsigned field, const char *s) {
        char *c = strdup(s);

        if (!c)
                return -ENOMEM;
        free(e->str);
        e->str = c;
        e->present |= 1u << field;
        return 0;
}

/* ---- libnftnl ------------------------------------------------------------ */

int expr_to_nftnl(const NftExpr *e, struct nftnl_expr **ret) {
        struct nftnl_expr *ne;

        if (e->kind >= _EXPR_KIND_MAX)
                return -EINVAL;
        ne = nftnl_expr_alloc(descs[e->kind].name);
        if (!ne)
                return -ENOMEM;
        for (unsigned i = 0; i < descs[e->kind].n_fields; i++) {
                const ExprField *f = &descs[e->kind].fields[i];
                int r = 0;

                if (!expr_has(e, i))
                        continue;
                switch (f->type) {
                case F_U8:
                        nftnl_expr_set_u8(ne, f->attr, (uint8_t) e->num[i]);
                        break;
                case F_U32:
                        nftnl_expr_set_u32(ne, f->attr, (uint32_t) e->num[i]);
                        break;
                case F_U64:
                        nftnl_expr_set_u64(ne, f->attr, e->num[i]);
                        break;
                case F_DATA:
                        r = nftnl_expr_set(ne, f->attr, e->data[f->slot], e->data_len[f->slot]);
                        break;
                case F_STR:
                        r = nftnl_expr_set_str(ne, f->attr, e->str);
                        break;
                }
                if (r < 0) {
                        nftnl_expr_free(ne);
                        return -ENOMEM;
                }
        }
        *ret = ne;
        return 0;
}

static ExprKind kind_by_name(const char *name) {
        for (ExprKind k = 0; k < _EXPR_KIND_MAX; k++)
                if (streq(descs[k].name, name))
                        return k;
        return EXPR_OTHER;
}

/* An expression of a kind (or with data) the model does not hold. */
static int expr_other(const char *name, NftExpr *ret) {
        *ret = (NftExpr) { .kind = EXPR_OTHER };
        ret->str = strdup(name);
        return ret->str ? 0 : -ENOMEM;
}

int expr_from_nftnl(const struct nftnl_expr *ne, NftExpr *ret) {
        const char *name = nftnl_expr_get_str(ne, NFTNL_EXPR_NAME);
        NftExpr e = {};
        ExprKind k;

        if (!name)
                return -EBADMSG;
        k = kind_by_name(name);
        if (k == EXPR_OTHER)
                return expr_other(name, ret);

        e.kind = k;
        for (unsigned i = 0; i < descs[k].n_fields; i++) {
                const ExprField *f = &descs[k].fields[i];
                const void *p;
                uint32_t len;

                if (!nftnl_expr_is_set(ne, f->attr))
                        continue;
                switch (f->type) {
                case F_U8:
                        expr_set_num(&e, i, nftnl_expr_get_u8(ne, f->attr));
                        break;
                case F_U32:
                        expr_set_num(&e, i, nftnl_expr_get_u32(ne, f->attr));
                        break;
                case F_U64:
                        expr_set_num(&e, i, nftnl_expr_get_u64(ne, f->attr));
                        break;
                case F_DATA:
                        p = nftnl_expr_get(ne, f->attr, &len);
                        if (!p || len > EXPR_DATA_MAX) {
                                expr_done(&e);
                                return expr_other(name, ret);
                        }
                        expr_set_data(&e, i, p, len);
                        break;
                case F_STR:
                        p = nftnl_expr_get_str(ne, f->attr);
                        if (p && expr_set_str(&e, i, p) < 0) {
                                expr_done(&e);
                                return -ENOMEM;
                        }
                        break;
                }
        }
        *ret = e;
        return 0;
}

/* ---- identity and text -------------------------------------------------- */

static int put(uint8_t **buf, size_t *len, size_t *allocated, const void *p, size_t n) {
        if (greedy_realloc((void **) buf, allocated, *len + n, 1) < 0)
                return -ENOMEM;
        memcpy(*buf + *len, p, n);
        *len += n;
        return 0;
}

int expr_serialize(const NftExpr *e, uint8_t **buf, size_t *len, size_t *allocated) {
        uint8_t k = (uint8_t) e->kind;
        int r;

        r = put(buf, len, allocated, &k, 1);
        if (r < 0)
                return r;
        if (e->kind == EXPR_OTHER) {
                uint16_t n = (uint16_t) strlen(e->str);

                r = put(buf, len, allocated, &n, sizeof n);
                return r < 0 ? r : put(buf, len, allocated, e->str, n);
        }
        for (unsigned i = 0; i < descs[e->kind].n_fields; i++) {
                const ExprField *f = &descs[e->kind].fields[i];
                uint8_t tag = (uint8_t) i;

                if (!expr_has(e, i) || f->volatile_value)
                        continue;
                if (f->has_default && e->num[i] == f->def)
                        continue;
                r = put(buf, len, allocated, &tag, 1);
                if (r < 0)
                        return r;
                switch (f->type) {
                case F_U8:
                case F_U32:
                case F_U64: {
                        uint8_t v[8];

                        for (unsigned j = 0; j < 8; j++)
                                v[j] = (uint8_t) (e->num[i] >> (8 * j));
                        r = put(buf, len, allocated, v, sizeof v);
                        break;
                }
                case F_DATA:
                        r = put(buf, len, allocated, &e->data_len[f->slot], 1);
                        if (r >= 0)
                                r = put(buf, len, allocated, e->data[f->slot], e->data_len[f->slot]);
                        break;
                case F_STR: {
                        uint16_t n = e->str ? (uint16_t) strlen(e->str) : 0;

                        r = put(buf, len, allocated, &n, sizeof n);
                        if (r >= 0 && n > 0)
                                r = put(buf, len, allocated, e->str, n);
                        break;
                }
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

void expr_format(const NftExpr *e, StrBuf *b) {
        strbuf_puts(b, "[ ");
        strbuf_puts(b, e->kind == EXPR_OTHER ? e->str : descs[e->kind].name);
        for (unsigned i = 0; e->kind != EXPR_OTHER && i < descs[e->kind].n_fields; i++) {
                const ExprField *f = &descs[e->kind].fields[i];

                if (!expr_has(e, i))
                        continue;
                strbuf_printf(b, " %s ", f->name);
                switch (f->type) {
                case F_U8:
                case F_U32:
                case F_U64:
                        if (f->type == F_U32 && e->num[i] > INT32_MAX)
                                strbuf_printf(b, "%" PRIi32, (int32_t) e->num[i]);
                        else
                                strbuf_uint(b, e->num[i]);
                        break;
                case F_DATA:
                        strbuf_puts(b, "0x");
                        for (unsigned j = 0; j < e->data_len[f->slot]; j++)
                                strbuf_printf(b, "%02x", e->data[f->slot][j]);
                        break;
                case F_STR:
                        strbuf_printf(b, "\"%s\"", strna(e->str));
                        break;
                }
        }
        strbuf_puts(b, " ]");
}
