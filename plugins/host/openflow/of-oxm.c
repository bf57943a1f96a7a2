/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A flow's match in OpenFlow 1.4, as Open vSwitch encodes it: one OXM
 * field per field of the switch, in the order Open vSwitch writes them
 * (so that what op-dbus sends is what ovs-ofctl would send, and what the
 * switch reports back), values masked, a mask only when it is not all
 * ones, no field whose mask is all zeros. The same mapping gives the
 * fields set_field writes. Digests of encoded matches tell whether the
 * switch holds the match that was meant; a text form is for messages. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "hash.h"
#include "of-engine.h"
#include "of-fields.h"
#include "ofp-msg.h"

/* ---- building a match ---------------------------------------------------------- */

int of_match_add(OfMatch *m, const OfField *f, const OfParsedValue *v) {
        if (m->n >= OF_MATCH_MAX)
                return -E2BIG;
        m->field[m->n] = f;
        m->value[m->n++] = *v;
        return 0;
}

int of_match_add_masked(OfMatch *m, OfFieldId id, uint64_t v, uint64_t mask) {
        return of_match_add(m, of_field(id), &(OfParsedValue) { .u = v, .umask = mask, .has_mask = true });
}

int of_match_add_u(OfMatch *m, OfFieldId id, uint64_t v) {
        return of_match_add(m, of_field(id), &(OfParsedValue) { .u = v });
}

int of_match_add_proto(OfMatch *m, OfFieldId id) {
        return of_match_add(m, of_field(id), &(OfParsedValue) {});
}

int of_match_add_bytes(OfMatch *m, OfFieldId id, const void *bytes, size_t len, unsigned prefix) {
        OfParsedValue v = { .len = len, .has_mask = prefix < len * 8 };

        memcpy(v.bytes, bytes, len);
        for (size_t i = 0; v.has_mask && i < len; i++, prefix = prefix > 8 ? prefix - 8 : 0)
                v.bmask[i] = prefix >= 8 ? 0xff : (uint8_t) (0xff << (8 - prefix));
        return of_match_add(m, of_field(id), &v);
}

/* ---- where a field goes ---------------------------------------------------------- */

typedef struct Oxm {
        uint16_t oxm_class;
        uint8_t field;
        uint8_t len;                 /* value bytes */
} Oxm;

/* tp_src and tp_dst by the IP protocol (TCP, UDP, SCTP), and ICMP type and
 * code by the IP version: the first of each pair. */
static uint8_t l4_base(const OfMatchContext *ctx, bool icmp) {
        if (icmp)
                return ctx->dl_types[0] == 0x86dd ? 29 : 19;
        return ctx->nw_proto == 6 ? 13 : ctx->nw_proto == 17 ? 15 : 17;
}

static bool arp(const OfMatchContext *ctx) {
        return ctx->dl_types[0] == 0x0806 || ctx->dl_types[0] == 0x8035;
}

/* The OXM field a field of the table is, in a flow whose match names ctx.
 * set: as set_field writes it (nw_tos differs). */
static Oxm oxm_of(const OfField *f, const OfMatchContext *ctx, bool set) {
        switch (f->id) {
        case OF_F_NW_SRC:
        case OF_F_NW_DST:
                return (Oxm) { OFP_OXM_OF, (uint8_t) ((arp(ctx) ? 22 : 11) + (f->id == OF_F_NW_DST)), 4 };
        case OF_F_TP_SRC:
        case OF_F_TP_DST:
                return (Oxm) { OFP_OXM_OF, (uint8_t) (l4_base(ctx, false) + (f->id == OF_F_TP_DST)), 2 };
        case OF_F_ICMP_TYPE:
        case OF_F_ICMP_CODE:
                return (Oxm) { OFP_OXM_OF, (uint8_t) (l4_base(ctx, true) + (f->id == OF_F_ICMP_CODE)), 1 };
        case OF_F_NW_TOS:
                /* set_field: Nicira's NXM_OF_IP_TOS, the whole byte; a match: the DSCP bits */
                return set ? (Oxm) { OFP_OXM_NXM0, 5, 1 } : (Oxm) { OFP_OXM_OF, 8, 1 };
        case OF_F_TCP_FLAGS:
                return (Oxm) { OFP_OXM_EXPERIMENTER, 42, 2 };
        case OF_F_DL_TYPE:
        case OF_F_DL_VLAN:
        case OF_F_ARP_OP:
        case OF_F_CT_ZONE:
                return (Oxm) { f->oxm_class, f->oxm_field, 2 };
        case OF_F_IPV6_LABEL:
                return (Oxm) { f->oxm_class, f->oxm_field, 4 };
        default:
                break;
        }
        switch (f->type) {
        case OF_FT_MAC:
                return (Oxm) { f->oxm_class, f->oxm_field, 6 };
        case OF_FT_IPV4:
        case OF_FT_PORT:
        case OF_FT_CT_STATE:
                return (Oxm) { f->oxm_class, f->oxm_field, 4 };
        case OF_FT_IPV6:
                return (Oxm) { f->oxm_class, f->oxm_field, 16 };
        default:
                return (Oxm) { f->oxm_class, f->oxm_field, (uint8_t) (f->bits > 32 ? 8 : f->bits > 16 ? 4 : f->bits > 8 ? 2 : 1) };
        }
}

static void put_be(uint8_t *p, uint64_t v, size_t n) {
        for (size_t i = 0; i < n; i++)
                p[i] = (uint8_t) (v >> (8 * (n - 1 - i)));
}

void of_field_set_oxm(const OfField *f, const OfMatchContext *ctx, uint16_t *ret_class, uint8_t *ret_field,
                      size_t *ret_len) {
        Oxm o = oxm_of(f, ctx, true);

        *ret_class = o.oxm_class;
        *ret_field = o.field;
        *ret_len = o.len;
}

void of_field_value_bytes(const OfParsedValue *v, size_t len, uint8_t *out) {
        if (v->len > 0)
                memcpy(out, v->bytes, MIN(len, v->len));
        else
                put_be(out, v->u, len);
}

/* ---- encoding ------------------------------------------------------------------- */

/* Open vSwitch's order of the fields (lib/nx-match.c, nx_put_raw): port,
 * Ethernet, VLAN, L3 and L4 (IP or ARP), tunnel, registers, mark,
 * conntrack, metadata. 0: not a field op-dbus writes. */
static unsigned rank(uint16_t oxm_class, uint8_t field) {
        static const uint8_t of_rank[40] = {
                [0] = 1, [4] = 2, [3] = 3, [5] = 4, [6] = 5, [7] = 6,
                [11] = 7, [26] = 7, [12] = 8, [27] = 8, [8] = 9, [9] = 10, [28] = 12, [10] = 13,
                [13] = 14, [15] = 14, [17] = 14, [19] = 14, [29] = 14,
                [14] = 15, [16] = 15, [18] = 15, [20] = 15, [30] = 15,
                [31] = 17, [32] = 18, [33] = 18,
                [21] = 19, [22] = 20, [23] = 21, [24] = 22, [25] = 23,
                [38] = 24, [2] = 50,
        };

        switch (oxm_class) {
        case OFP_OXM_OF:
                return field < ELEMENTSOF(of_rank) ? of_rank[field] : 0;
        case OFP_OXM_EXPERIMENTER:
                return field == 42 ? 16 : 0;              /* tcp_flags */
        case OFP_OXM_NXM1:
                if (field < 16)
                        return 25 + field;                /* registers */
                return field == 29 ? 11 : field == 33 ? 41 : field >= 105 && field <= 107 ? 42u + field - 105 : 0;
        default:
                return 0;
        }
}

typedef struct Tlv {
        unsigned rank;
        size_t src;                  /* the match field it comes from */
        size_t len;
        uint8_t b[OFP_OXM_FIELD_MAX];
} Tlv;

typedef struct Tlvs {
        Tlv t[2 * OF_MATCH_MAX];
        size_t n;
} Tlvs;

/* One field of n bytes, value masked by mask (NULL: exact). */
static void add(Tlvs *l, size_t src, Oxm o, const uint8_t *value, const uint8_t *mask) {
        uint8_t v[16], m[16];
        bool exact = true, any = true;
        Tlv *t;

        memcpy(v, value, o.len);
        if (mask) {
                for (size_t i = 0; i < o.len; i++) {
                        m[i] = mask[i];
                        v[i] &= m[i];
                        exact = exact && m[i] == 0xff;
                        any = any && m[i] == 0;
                }
                if (any)
                        return;      /* matches anything: Open vSwitch leaves it out */
        }
        t = &l->t[l->n++];
        t->rank = rank(o.oxm_class, o.field);
        t->src = src;
        t->len = ofp_oxm_put(t->b, o.oxm_class, o.field, v, mask && !exact ? m : NULL, o.len);
}

static void add_int(Tlvs *l, size_t src, Oxm o, uint64_t value, const OfParsedValue *pv) {
        uint8_t v[8], m[8];

        put_be(v, value, o.len);
        if (pv && pv->has_mask)
                put_be(m, pv->umask, o.len);
        add(l, src, o, v, pv && pv->has_mask ? m : NULL);
}

static bool has_field(const OfMatch *m, OfFieldId id) {
        for (size_t i = 0; i < m->n; i++)
                if (m->field[i]->id == id)
                        return true;
        return false;
}

/* The OXM field(s) of field i. */
static int encode_field(Tlvs *l, const OfMatch *m, size_t i, const OfMatchContext *ctx) {
        const OfField *f = m->field[i];
        const OfParsedValue *v = &m->value[i];
        Oxm o = oxm_of(f, ctx, false);

        switch (f->type) {
        case OF_FT_PROTOCOL:
                add_int(l, i, (Oxm) { OFP_OXM_OF, 5, 2 }, f->dl_type, NULL);
                if (f->nw_proto)
                        add_int(l, i, (Oxm) { OFP_OXM_OF, 10, 1 }, f->nw_proto, NULL);
                return 0;
        case OF_FT_PORT:
                if (v->symbolic)
                        return -EINVAL;
                add_int(l, i, o, v->u, NULL);
                return 0;
        case OF_FT_MAC:
        case OF_FT_IPV4:
        case OF_FT_IPV6:
                add(l, i, o, v->bytes, v->has_mask ? v->bmask : NULL);
                return 0;
        case OF_FT_TCP_FLAGS:
        case OF_FT_CT_STATE:
                add_int(l, i, o, v->u, v);
                return 0;
        case OF_FT_INT:
                break;
        }

        switch (f->id) {
        case OF_F_DL_VLAN:
                add_int(l, i, o, 0x1000 | v->u, NULL);       /* with the tag's present bit */
                return 0;
        case OF_F_DL_VLAN_PCP:
                /* "any VLAN tag": Open vSwitch adds the tag's present bit */
                if (!has_field(m, OF_F_DL_VLAN))
                        add_int(l, i, (Oxm) { OFP_OXM_OF, 6, 2 }, 0x1000,
                                &(OfParsedValue) { .umask = 0x1000, .has_mask = true });
                add_int(l, i, o, v->u, NULL);
                return 0;
        case OF_F_NW_TOS:
                add_int(l, i, o, v->u >> 2, NULL);
                return 0;
        default:
                add_int(l, i, o, v->u, f->maskable ? v : NULL);
                return 0;
        }
}

int of_match_encode(const OfMatch *m, uint8_t *out, size_t *ret_bad) {
        Tlvs tlvs, *l = &tlvs;
        OfMatchContext ctx;
        size_t len = 0;
        int r;

        r = of_match_context(m->field, m->value, m->n, &ctx, ret_bad);
        if (r < 0)
                return r;
        l->n = 0;
        for (size_t i = 0; i < m->n; i++) {
                r = encode_field(l, m, i, &ctx);
                if (r < 0) {
                        *ret_bad = i;
                        return r;
                }
        }

        /* In Open vSwitch's order (insertion sort: a match has few fields). */
        for (size_t i = 1; i < l->n; i++)
                for (size_t j = i; j > 0 && l->t[j - 1].rank > l->t[j].rank; j--) {
                        Tlv t = l->t[j];

                        l->t[j] = l->t[j - 1];
                        l->t[j - 1] = t;
                }
        for (size_t i = 0; i < l->n; i++) {
                const Tlv *t = &l->t[i];

                /* The same field twice: once is enough, if it is the same. */
                if (i > 0 && t->rank == l->t[i - 1].rank && memcmp(t->b, l->t[i - 1].b, 3) == 0) {
                        if (t->len != l->t[i - 1].len || memcmp(t->b, l->t[i - 1].b, t->len) != 0) {
                                *ret_bad = MAX(t->src, l->t[i - 1].src);
                                return -EINVAL;
                        }
                        continue;
                }
                memcpy(out + len, t->b, t->len);
                len += t->len;
        }
        return (int) len;
}

/* ---- digests ----------------------------------------------------------------------- */

typedef struct Field {
        const uint8_t *p;
        size_t len;
} Field;

static int cmp_field(const void *a, const void *b) {
        const Field *x = a, *y = b;

        if (x->len != y->len)
                return x->len < y->len ? -1 : 1;
        return memcmp(x->p, y->p, x->len);
}

uint64_t of_oxm_digest(const uint8_t *oxm, size_t len) {
        Field f[2 * OF_MATCH_MAX];
        uint64_t h = HASH64_INIT;
        size_t n = 0;

        for (size_t off = 0; off + 4 <= len;) {
                size_t k = 4 + oxm[off + 3];

                if (off + k > len || n == ELEMENTSOF(f))
                        return 0;
                f[n++] = (Field) { oxm + off, k };
                off += k;
        }
        if (n > 1)
                qsort(f, n, sizeof(Field), cmp_field);
        for (size_t i = 0; i < n; i++) {
                if (i > 0 && cmp_field(&f[i - 1], &f[i]) == 0)
                        continue;
                h = hash64_update(h, &f[i].len, sizeof f[i].len);
                h = hash64_update(h, f[i].p, f[i].len);
        }
        return h ?: 1;
}

uint64_t of_reported_match_digest(const uint8_t *body, size_t len) {
        const uint8_t *oxm;
        size_t n;

        if (ofp_match_fields(body, len, &oxm, &n) < 0)
                return 0;
        return of_oxm_digest(oxm, n);
}

/* ---- text, for messages ------------------------------------------------------------- */

static const char *oxm_name(uint16_t oxm_class, uint8_t field) {
        static const char *const of_names[40] = {
                [0] = "in_port", [2] = "metadata", [3] = "dl_dst", [4] = "dl_src", [5] = "dl_type", [6] = "vlan_tci",
                [7] = "dl_vlan_pcp", [8] = "ip_dscp", [9] = "nw_ecn", [10] = "nw_proto", [11] = "nw_src", [12] = "nw_dst",
                [13] = "tcp_src", [14] = "tcp_dst", [15] = "udp_src", [16] = "udp_dst", [17] = "sctp_src",
                [18] = "sctp_dst", [19] = "icmp_type", [20] = "icmp_code", [21] = "arp_op", [22] = "arp_spa",
                [23] = "arp_tpa", [24] = "arp_sha", [25] = "arp_tha", [26] = "ipv6_src", [27] = "ipv6_dst",
                [28] = "ipv6_label", [29] = "icmpv6_type", [30] = "icmpv6_code", [31] = "nd_target", [32] = "nd_sll",
                [33] = "nd_tll", [38] = "tun_id",
        };
        static char reg[8];

        if (oxm_class == OFP_OXM_OF && field < ELEMENTSOF(of_names) && of_names[field])
                return of_names[field];
        if (oxm_class == OFP_OXM_EXPERIMENTER && field == 42)
                return "tcp_flags";
        if (oxm_class == OFP_OXM_NXM0 && field == 5)
                return "nw_tos";
        if (oxm_class == OFP_OXM_NXM1) {
                if (field < 16) {
                        snprintf(reg, sizeof reg, "reg%u", field);
                        return reg;
                }
                switch (field) {
                case 29: return "nw_ttl";
                case 33: return "pkt_mark";
                case 105: return "ct_state";
                case 106: return "ct_zone";
                case 107: return "ct_mark";
                }
        }
        return NULL;
}

/* A value: an address as such, an integer in decimal (hex when masked,
 * and the EtherType). */
static void format_value(StrBuf *b, const char *name, const uint8_t *v, size_t n, bool hex) {
        char text[INET6_ADDRSTRLEN];
        uint64_t u = 0;

        if (n == 6) {
                strbuf_printf(b, "%02x:%02x:%02x:%02x:%02x:%02x", v[0], v[1], v[2], v[3], v[4], v[5]);
                return;
        }
        if (n == 16 && inet_ntop(AF_INET6, v, text, sizeof text)) {
                strbuf_puts(b, text);
                return;
        }
        if (n == 4 && (strstr(name, "nw_") == name || strstr(name, "arp_") == name) &&
            inet_ntop(AF_INET, v, text, sizeof text)) {
                strbuf_puts(b, text);
                return;
        }
        for (size_t i = 0; i < n && i < 8; i++)
                u = u << 8 | v[i];
        if (streq(name, "dl_type"))
                strbuf_printf(b, "0x%04" PRIx64, u);
        else if (hex)
                strbuf_printf(b, "0x%" PRIx64, u);
        else
                strbuf_printf(b, "%" PRIu64, u);
}

void of_oxm_format(const uint8_t *oxm, size_t len, StrBuf *b) {
        size_t start = b->len;

        for (size_t off = 0; off + 4 <= len;) {
                uint16_t oxm_class = ofp_load16(oxm + off);
                uint8_t field = oxm[off + 2] >> 1;
                bool masked = oxm[off + 2] & 1;
                size_t k = oxm[off + 3], skip = oxm_class == OFP_OXM_EXPERIMENTER ? 4 : 0, n;
                const char *name = oxm_name(oxm_class, field);

                if (off + 4 + k > len || k < skip)
                        break;
                n = (k - skip) / (masked ? 2 : 1);
                if (b->len > start)
                        strbuf_putc(b, ',');
                if (name)
                        strbuf_printf(b, "%s=", name);
                else
                        strbuf_printf(b, "%04x:%u=", oxm_class, field);
                format_value(b, name ?: "", oxm + off + 4 + skip, n, masked);
                if (masked) {
                        strbuf_putc(b, '/');
                        format_value(b, name ?: "", oxm + off + 4 + skip + n, n, true);
                }
                off += 4 + k;
        }
}
