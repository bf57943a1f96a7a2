/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a flow's match looks like in OpenFlow 1.4, as Open vSwitch encodes
 * it (OXM: one TLV per field, a mask only when it is not all ones, no TLV
 * for a field whose mask is all zeros), computed from the flow's text; and
 * the same for what the switch reports. Equal digests mean Open vSwitch
 * installed the match that was meant: nothing dropped for a missing
 * prerequisite, nothing cut to fit. */
#include <stdlib.h>

#include "hash.h"
#include "of-engine.h"
#include "of-fields.h"

#define OXM_OF 0x8000
#define OXM_EXPERIMENTER 0xffff
#define ONF_EXPERIMENTER_ID 0x4f4e4600

typedef struct Tlv {
        size_t len;
        uint8_t b[4 + 4 + 2 * 16];   /* header, experimenter id, value and mask */
} Tlv;

typedef struct Tlvs {
        Tlv *t;
        size_t n, allocated;
} Tlvs;

static void put_be(uint8_t *p, uint64_t v, size_t n) {
        for (size_t i = 0; i < n; i++)
                p[i] = (uint8_t) (v >> (8 * (n - 1 - i)));
}

static bool all_ones(const uint8_t *m, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (m[i] != 0xff)
                        return false;
        return true;
}

static bool all_zeros(const uint8_t *m, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (m[i])
                        return false;
        return true;
}

/* One TLV of n value bytes; mask NULL: exact. */
static int add(Tlvs *l, uint16_t class, uint8_t field, const uint8_t *value, const uint8_t *mask, size_t n) {
        uint8_t v[16], m[16];
        size_t off = 4, body;
        Tlv *t;
        int r;

        memcpy(v, value, n);
        if (mask) {
                memcpy(m, mask, n);
                if (all_zeros(m, n))
                        return 0; /* matches anything: Open vSwitch leaves it out */
                for (size_t i = 0; i < n; i++)
                        v[i] &= m[i];
                if (all_ones(m, n))
                        mask = NULL;
        }
        r = greedy_realloc((void **) &l->t, &l->allocated, l->n + 1, sizeof(Tlv));
        if (r < 0)
                return r;
        t = &l->t[l->n++];
        *t = (Tlv) {};
        body = n * (mask ? 2 : 1) + (class == OXM_EXPERIMENTER ? 4 : 0);
        put_be(t->b, class, 2);
        t->b[2] = (uint8_t) (field << 1 | (mask ? 1 : 0));
        t->b[3] = (uint8_t) body;
        if (class == OXM_EXPERIMENTER) {
                put_be(t->b + 4, ONF_EXPERIMENTER_ID, 4);
                off += 4;
        }
        memcpy(t->b + off, v, n);
        if (mask)
                memcpy(t->b + off + n, m, n);
        t->len = 4 + body;
        return 0;
}

static int add_int(Tlvs *l, uint16_t class, uint8_t field, uint64_t value, const OfParsedValue *pv, size_t n) {
        uint8_t v[8], m[8];

        put_be(v, value, n);
        if (pv && pv->has_mask)
                put_be(m, pv->umask, n);
        return add(l, class, field, v, pv && pv->has_mask ? m : NULL, n);
}

static int add_bytes(Tlvs *l, uint16_t class, uint8_t field, const OfParsedValue *pv) {
        return add(l, class, field, pv->bytes, pv->has_mask ? pv->bmask : NULL, pv->len);
}

static bool has(const OfField *const *f, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (f[i] && streq(f[i]->name, name))
                        return true;
        return false;
}

/* The TLV(s) of field i of the match. */
static int encode(Tlvs *l, const OfField *const *fs, const OfParsedValue *vs, size_t n, size_t i,
                  const OfMatchContext *ctx) {
        const OfField *f = fs[i];
        const OfParsedValue *v = &vs[i];
        uint16_t dl_type = ctx->dl_types[0];
        bool arp = dl_type == 0x0806 || dl_type == 0x8035, v4 = dl_type == 0x0800;
        int r;

        switch (f->type) {
        case OF_FT_PROTOCOL:
                r = add_int(l, OXM_OF, 5, f->dl_type, NULL, 2);
                if (r >= 0 && f->nw_proto)
                        r = add_int(l, OXM_OF, 10, f->nw_proto, NULL, 1);
                return r;
        case OF_FT_PORT:
                return v->symbolic ? -EINVAL : add_int(l, OXM_OF, 0, v->u, NULL, 4);
        case OF_FT_MAC:
        case OF_FT_IPV6:
                return add_bytes(l, f->oxm_class, f->oxm_field, v);
        case OF_FT_IPV4:
                if (f->oxm_class)
                        return add_bytes(l, f->oxm_class, f->oxm_field, v);
                /* nw_src and nw_dst are arp_spa and arp_tpa in an ARP match */
                return add_bytes(l, OXM_OF, (uint8_t) ((arp ? 22 : 11) + streq(f->name, "nw_dst")), v);
        case OF_FT_TCP_FLAGS:
                return add_int(l, OXM_EXPERIMENTER, 42, v->u, v, 2);
        case OF_FT_CT_STATE:
                return add_int(l, f->oxm_class, f->oxm_field, v->u, v, 4);
        case OF_FT_INT:
                break;
        }

        if (streq(f->name, "dl_vlan"))
                return add_int(l, OXM_OF, 6, 0x1000 | v->u, NULL, 2);
        if (streq(f->name, "dl_vlan_pcp")) {
                /* "any VLAN tag": Open vSwitch adds the tag's present bit */
                if (!has(fs, n, "dl_vlan")) {
                        OfParsedValue present = { .umask = 0x1000, .has_mask = true };

                        r = add_int(l, OXM_OF, 6, 0x1000, &present, 2);
                        if (r < 0)
                                return r;
                }
                return add_int(l, OXM_OF, 7, v->u, NULL, 1);
        }
        if (streq(f->name, "nw_tos"))
                return add_int(l, OXM_OF, 8, v->u >> 2, NULL, 1);
        if (streq(f->name, "tp_src") || streq(f->name, "tp_dst")) {
                uint8_t base = ctx->nw_proto == 6 ? 13 : ctx->nw_proto == 17 ? 15 : 17;

                return add_int(l, OXM_OF, (uint8_t) (base + streq(f->name, "tp_dst")), v->u, v, 2);
        }
        if (streq(f->name, "icmp_type") || streq(f->name, "icmp_code"))
                return add_int(l, OXM_OF, (uint8_t) ((v4 ? 19 : 29) + streq(f->name, "icmp_code")), v->u, NULL, 1);
        if (streq(f->name, "dl_type"))
                return add_int(l, OXM_OF, 5, v->u, NULL, 2);
        if (streq(f->name, "nw_proto"))
                return add_int(l, OXM_OF, 10, v->u, NULL, 1);
        if (streq(f->name, "arp_op"))
                return add_int(l, OXM_OF, 21, v->u, NULL, 2);
        if (streq(f->name, "ct_zone"))
                return add_int(l, f->oxm_class, f->oxm_field, v->u, NULL, 2);
        if (streq(f->name, "ipv6_label") || f->bits == 32)
                return add_int(l, f->oxm_class, f->oxm_field, v->u, v, 4);
        if (f->bits == 64)
                return add_int(l, f->oxm_class, f->oxm_field, v->u, v, 8);
        /* the one-byte fields: ip_dscp, nw_ecn, nw_ttl */
        return add_int(l, f->oxm_class, f->oxm_field, v->u, NULL, 1);
}

static int cmp_tlv(const void *a, const void *b) {
        const Tlv *x = a, *y = b;

        if (x->len != y->len)
                return x->len < y->len ? -1 : 1;
        return memcmp(x->b, y->b, x->len);
}

/* The digest of a set of TLVs: sorted, each once. */
static uint64_t digest(Tlvs *l) {
        uint64_t h = HASH64_INIT;

        if (l->n > 1)
                qsort(l->t, l->n, sizeof(Tlv), cmp_tlv);
        for (size_t i = 0; i < l->n; i++) {
                if (i > 0 && cmp_tlv(&l->t[i - 1], &l->t[i]) == 0)
                        continue;
                h = hash64_update(h, &l->t[i].len, sizeof l->t[i].len);
                h = hash64_update(h, l->t[i].b, l->t[i].len);
        }
        return h ?: 1;
}

uint64_t of_match_digest(const char *text) {
        OfMatchField *m = NULL;
        const OfField **fs = NULL;
        OfParsedValue *vs = NULL;
        OfMatchContext ctx;
        Tlvs l = {};
        size_t n = 0, bad;
        uint64_t h = 0;
        int r;

        r = of_match_split(text, &m, &n);
        fs = calloc(n + 1, sizeof(OfField *));
        vs = calloc(n + 1, sizeof(OfParsedValue));
        for (size_t i = 0; r >= 0 && fs && vs && i < n; i++) {
                const char *why;

                fs[i] = of_field_find(m[i].name);
                if (!fs[i] || !of_field_parse(fs[i], m[i].value.type == OF_VALUE_STRING ? m[i].value.string : NULL,
                                              true, &vs[i], &why))
                        r = -EINVAL;
        }
        if (r >= 0 && fs && vs)
                r = of_match_context(fs, vs, n, &ctx, &bad);
        for (size_t i = 0; r >= 0 && fs && vs && i < n; i++)
                r = encode(&l, fs, vs, n, i, &ctx);
        if (r >= 0 && fs && vs)
                h = digest(&l);
        of_match_free(m, n);
        free(fs);
        free(vs);
        free(l.t);
        return h;
}

uint64_t of_reported_match_digest(const uint8_t *body, size_t len) {
        Tlvs l = {};
        size_t end;
        uint64_t h = 0;

        if (len < 4 || (body[0] << 8 | body[1]) != 1)
                return 0;
        end = (size_t) (body[2] << 8 | body[3]);
        if (end < 4 || end > len)
                return 0;
        for (size_t off = 4; off + 4 <= end;) {
                size_t n = 4 + body[off + 3];

                if (off + n > end || n > sizeof(((Tlv *) NULL)->b) ||
                    greedy_realloc((void **) &l.t, &l.allocated, l.n + 1, sizeof(Tlv)) < 0) {
                        free(l.t);
                        return 0;
                }
                l.t[l.n] = (Tlv) { .len = n };
                memcpy(l.t[l.n++].b, body + off, n);
                off += n;
        }
        h = digest(&l);
        free(l.t);
        return h;
}
