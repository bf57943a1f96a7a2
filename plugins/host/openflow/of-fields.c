/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The match fields and set_field targets op-dbus knows, their values and
 * prerequisites (see of-fields.h). The names and the syntax of the values
 * are ovs-ofctl's (ovs-fields(7)); the values op-dbus accepts are a
 * subset of what ovs-ofctl reads, with nothing Open vSwitch would cut,
 * round or drop: a value either means exactly one thing or is refused. */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>

#include "json-util.h"
#include "of-fields.h"

#define OXM_OF 0x8000        /* OpenFlow basic */
#define NXM_1  0x0001        /* Nicira extensions */

/* Field entries: id, name, type, bits, maskable, settable, prerequisite,
 * and the OpenFlow 1.4 class and field (class 0: it depends on the match). */
#define FIELD(i, n, t, b, m, s, p, c, f) \
        [i] = { .id = i, .name = n, .type = t, .bits = b, .maskable = m, .settable = s, .prereq = p, \
                .oxm_class = c, .oxm_field = f }
#define PROTO(i, n, e, ip) \
        [i] = { .id = i, .name = n, .type = OF_FT_PROTOCOL, .dl_type = e, .nw_proto = ip }
#define REG(i) FIELD(OF_F_REG0 + i, "reg" #i, OF_FT_INT, 32, true, true, OF_PRE_NONE, NXM_1, i)

static const OfField fields[_OF_F_MAX] = {
        PROTO(OF_F_IP, "ip", 0x0800, 0),
        PROTO(OF_F_IPV6, "ipv6", 0x86dd, 0),
        PROTO(OF_F_ICMP, "icmp", 0x0800, 1),
        PROTO(OF_F_ICMP6, "icmp6", 0x86dd, 58),
        PROTO(OF_F_TCP, "tcp", 0x0800, 6),
        PROTO(OF_F_TCP6, "tcp6", 0x86dd, 6),
        PROTO(OF_F_UDP, "udp", 0x0800, 17),
        PROTO(OF_F_UDP6, "udp6", 0x86dd, 17),
        PROTO(OF_F_SCTP, "sctp", 0x0800, 132),
        PROTO(OF_F_SCTP6, "sctp6", 0x86dd, 132),
        PROTO(OF_F_ARP, "arp", 0x0806, 0),
        PROTO(OF_F_RARP, "rarp", 0x8035, 0),

        FIELD(OF_F_IN_PORT, "in_port", OF_FT_PORT, 32, false, false, OF_PRE_NONE, OXM_OF, 0),
        FIELD(OF_F_DL_SRC, "dl_src", OF_FT_MAC, 48, true, true, OF_PRE_NONE, OXM_OF, 4),
        FIELD(OF_F_DL_DST, "dl_dst", OF_FT_MAC, 48, true, true, OF_PRE_NONE, OXM_OF, 3),
        FIELD(OF_F_DL_TYPE, "dl_type", OF_FT_INT, 16, false, false, OF_PRE_NONE, OXM_OF, 5),
        FIELD(OF_F_DL_VLAN, "dl_vlan", OF_FT_INT, 12, false, false, OF_PRE_NONE, OXM_OF, 6),
        FIELD(OF_F_DL_VLAN_PCP, "dl_vlan_pcp", OF_FT_INT, 3, false, false, OF_PRE_NONE, OXM_OF, 7),
        FIELD(OF_F_NW_SRC, "nw_src", OF_FT_IPV4, 32, true, true, OF_PRE_IPV4_ARP, 0, 0),
        FIELD(OF_F_NW_DST, "nw_dst", OF_FT_IPV4, 32, true, true, OF_PRE_IPV4_ARP, 0, 0),
        FIELD(OF_F_NW_PROTO, "nw_proto", OF_FT_INT, 8, false, false, OF_PRE_IP, OXM_OF, 10),
        FIELD(OF_F_NW_TOS, "nw_tos", OF_FT_INT, 8, false, true, OF_PRE_IP, OXM_OF, 8),
        FIELD(OF_F_IP_DSCP, "ip_dscp", OF_FT_INT, 6, false, true, OF_PRE_IP, OXM_OF, 8),
        FIELD(OF_F_NW_ECN, "nw_ecn", OF_FT_INT, 2, false, true, OF_PRE_IP, OXM_OF, 9),
        FIELD(OF_F_NW_TTL, "nw_ttl", OF_FT_INT, 8, false, true, OF_PRE_IP, NXM_1, 29),
        FIELD(OF_F_TP_SRC, "tp_src", OF_FT_INT, 16, true, true, OF_PRE_L4, 0, 0),
        FIELD(OF_F_TP_DST, "tp_dst", OF_FT_INT, 16, true, true, OF_PRE_L4, 0, 0),
        FIELD(OF_F_TCP_FLAGS, "tcp_flags", OF_FT_TCP_FLAGS, 12, true, false, OF_PRE_TCP, 0xffff, 42),
        FIELD(OF_F_ICMP_TYPE, "icmp_type", OF_FT_INT, 8, false, true, OF_PRE_ICMP, 0, 0),
        FIELD(OF_F_ICMP_CODE, "icmp_code", OF_FT_INT, 8, false, true, OF_PRE_ICMP, 0, 0),
        FIELD(OF_F_ARP_OP, "arp_op", OF_FT_INT, 8, false, true, OF_PRE_ARP, OXM_OF, 21),
        FIELD(OF_F_ARP_SPA, "arp_spa", OF_FT_IPV4, 32, true, true, OF_PRE_ARP, OXM_OF, 22),
        FIELD(OF_F_ARP_TPA, "arp_tpa", OF_FT_IPV4, 32, true, true, OF_PRE_ARP, OXM_OF, 23),
        FIELD(OF_F_ARP_SHA, "arp_sha", OF_FT_MAC, 48, true, true, OF_PRE_ARP, OXM_OF, 24),
        FIELD(OF_F_ARP_THA, "arp_tha", OF_FT_MAC, 48, true, true, OF_PRE_ARP, OXM_OF, 25),
        FIELD(OF_F_IPV6_SRC, "ipv6_src", OF_FT_IPV6, 128, true, true, OF_PRE_IPV6, OXM_OF, 26),
        FIELD(OF_F_IPV6_DST, "ipv6_dst", OF_FT_IPV6, 128, true, true, OF_PRE_IPV6, OXM_OF, 27),
        FIELD(OF_F_IPV6_LABEL, "ipv6_label", OF_FT_INT, 20, false, true, OF_PRE_IPV6, OXM_OF, 28),
        FIELD(OF_F_ND_TARGET, "nd_target", OF_FT_IPV6, 128, false, true, OF_PRE_ND, OXM_OF, 31),
        FIELD(OF_F_ND_SLL, "nd_sll", OF_FT_MAC, 48, false, true, OF_PRE_ND_NS, OXM_OF, 32),
        FIELD(OF_F_ND_TLL, "nd_tll", OF_FT_MAC, 48, false, true, OF_PRE_ND_NA, OXM_OF, 33),
        FIELD(OF_F_METADATA, "metadata", OF_FT_INT, 64, true, true, OF_PRE_NONE, OXM_OF, 2),
        FIELD(OF_F_TUN_ID, "tun_id", OF_FT_INT, 64, true, true, OF_PRE_NONE, OXM_OF, 38),
        FIELD(OF_F_PKT_MARK, "pkt_mark", OF_FT_INT, 32, true, true, OF_PRE_NONE, NXM_1, 33),
        FIELD(OF_F_CT_STATE, "ct_state", OF_FT_CT_STATE, 32, true, false, OF_PRE_NONE, NXM_1, 105),
        FIELD(OF_F_CT_ZONE, "ct_zone", OF_FT_INT, 16, false, false, OF_PRE_NONE, NXM_1, 106),
        FIELD(OF_F_CT_MARK, "ct_mark", OF_FT_INT, 32, true, false, OF_PRE_NONE, NXM_1, 107),
        REG(0), REG(1), REG(2), REG(3), REG(4), REG(5), REG(6), REG(7),
        REG(8), REG(9), REG(10), REG(11), REG(12), REG(13), REG(14), REG(15),
};

const OfField *of_field(OfFieldId id) {
        return &fields[id];
}

const OfField *of_field_find(const char *name) {
        /* The first letter first: 10,000 flows look up 20,000 names. */
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (fields[i].name[0] == name[0] && streq(fields[i].name, name))
                        return &fields[i];
        return NULL;
}

/* ---- values ----------------------------------------------------------------- */

/* A decimal number without leading zeros, or 0x and 1..16 hex digits, at
 * most max; advances *s. */
static bool parse_uint(const char **s, uint64_t max, uint64_t *ret) {
        const char *c = *s;
        uint64_t v = 0;
        size_t n = 0;

        if (c[0] == '0' && c[1] == 'x') {
                for (c += 2; unhexchar(*c) >= 0; c++, n++) {
                        if (n == 16)
                                return false;
                        v = v << 4 | (uint64_t) unhexchar(*c);
                }
        } else {
                if (c[0] == '0' && isdigit((unsigned char) c[1]))
                        return false;
                for (; isdigit((unsigned char) *c); c++, n++) {
                        unsigned digit = (unsigned) (*c - '0');

                        if (v > (UINT64_MAX - digit) / 10)
                                return false;
                        v = v * 10 + digit;
                }
        }
        if (n == 0 || v > max)
                return false;
        *s = c;
        *ret = v;
        return true;
}

static uint64_t max_of(unsigned bits) {
        return bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
}

/* value[/mask] of integers of the given width. */
static bool parse_int(const char *s, unsigned bits, bool masked, OfParsedValue *ret) {
        if (!parse_uint(&s, max_of(bits), &ret->u))
                return false;
        if (*s == '/' && masked) {
                s++;
                if (!parse_uint(&s, max_of(bits), &ret->umask))
                        return false;
                ret->has_mask = true;
        }
        return *s == 0;
}

static bool parse_mac_at(const char **s, uint8_t out[static 6]) {
        const char *c = *s;

        for (size_t i = 0; i < 6; i++, c += 3) {
                int hi = unhexchar(c[0]), lo = hi < 0 ? -1 : unhexchar(c[1]);

                if (lo < 0 || (i < 5 && c[2] != ':'))
                        return false;
                out[i] = (uint8_t) (hi << 4 | lo);
        }
        *s = c - 1;
        return true;
}

static bool parse_mac(const char *s, bool masked, OfParsedValue *ret) {
        ret->len = 6;
        if (!parse_mac_at(&s, ret->bytes))
                return false;
        if (*s == '/' && masked) {
                s++;
                if (!parse_mac_at(&s, ret->bmask))
                        return false;
                ret->has_mask = true;
        }
        return *s == 0;
}

static bool parse_ipv4_at(const char **s, uint8_t out[static 4]) {
        for (size_t i = 0; i < 4; i++) {
                uint64_t octet;

                if (i > 0 && *(*s)++ != '.')
                        return false;
                if ((*s)[0] == '0' && (*s)[1] == 'x')
                        return false;
                if (!parse_uint(s, 255, &octet))
                        return false;
                out[i] = (uint8_t) octet;
        }
        return true;
}

/* A prefix length as a mask of len bytes. */
static void prefix_mask(unsigned prefix, uint8_t *mask, size_t len) {
        for (size_t i = 0; i < len; i++, prefix = prefix > 8 ? prefix - 8 : 0)
                mask[i] = prefix >= 8 ? 0xff : (uint8_t) (0xff << (8 - prefix));
}

static bool parse_ipv4(const char *s, bool masked, OfParsedValue *ret) {
        uint64_t prefix;

        ret->len = 4;
        if (!parse_ipv4_at(&s, ret->bytes))
                return false;
        if (*s == '/' && masked) {
                const char *m = ++s;

                ret->has_mask = true;
                if (parse_ipv4_at(&m, ret->bmask) && *m == 0)
                        return true;
                if (startswith(s, "0x") || !parse_uint(&s, 32, &prefix))
                        return false;
                prefix_mask((unsigned) prefix, ret->bmask, 4);
        }
        return *s == 0;
}

static bool parse_ipv6_text(const char *s, size_t n, uint8_t out[static 16]) {
        char buf[INET6_ADDRSTRLEN];

        if (n == 0 || n >= sizeof buf)
                return false;
        memcpy(buf, s, n);
        buf[n] = 0;
        return inet_pton(AF_INET6, buf, out) == 1;
}

static bool parse_ipv6(const char *s, bool masked, OfParsedValue *ret) {
        const char *slash = strchr(s, '/');
        uint64_t prefix;

        ret->len = 16;
        if (!parse_ipv6_text(s, slash ? (size_t) (slash - s) : strlen(s), ret->bytes))
                return false;
        if (!slash)
                return true;
        if (!masked)
                return false;
        ret->has_mask = true;
        s = slash + 1;
        if (strchr(s, ':'))
                return parse_ipv6_text(s, strlen(s), ret->bmask);
        if (startswith(s, "0x") || !parse_uint(&s, 128, &prefix) || *s)
                return false;
        prefix_mask((unsigned) prefix, ret->bmask, 16);
        return true;
}

/* +flag-flag... (each flag once) or an integer with an optional mask. */
static bool parse_flags(const char *s, const char *const *names, unsigned bits, OfParsedValue *ret) {
        if (*s != '+' && *s != '-')
                return parse_int(s, bits, true, ret);
        ret->has_mask = true;
        while (*s) {
                bool on = *s == '+';
                size_t i;

                if (*s != '+' && *s != '-')
                        return false;
                s++;
                for (i = 0; names[i]; i++) {
                        size_t n = strlen(names[i]);

                        if (strncmp(s, names[i], n) == 0 && (s[n] == 0 || s[n] == '+' || s[n] == '-'))
                                break;
                }
                if (!names[i] || (ret->umask & (UINT64_C(1) << i)))
                        return false;
                ret->umask |= UINT64_C(1) << i;
                if (on)
                        ret->u |= UINT64_C(1) << i;
                s += strlen(names[i]);
        }
        return true;
}

static const char *const ct_flags[] = { "new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat", NULL };
static const char *const tcp_flags[] = { "fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns", NULL };

/* A port: a name as a flow's state gives it (resolved to a number later),
 * container:N, LOCAL, or an OpenFlow port number. */
static bool parse_port(const char *s, OfParsedValue *ret) {
        const char *c = s;

        if (streq(s, "LOCAL")) {
                ret->u = 0xfffffffe;
                return true;
        }
        if (isdigit((unsigned char) *s))
                return parse_uint(&c, OF_OFPORT_MAX, &ret->u) && *c == 0 && ret->u > 0;
        if (startswith(s, "container:")) {
                c = s + strlen("container:");
                ret->symbolic = true;
                return parse_uint(&c, UINT32_MAX, &ret->u) && *c == 0;
        }
        ret->symbolic = true;
        return json_check_ifname(s, NULL, NULL);
}

static const char *int_why(const OfField *f, bool masked) {
        static char buf[128];

        if (streq(f->name, "nw_tos"))
                return "a multiple of 4 from 0 to 252 (the DSCP bits; ip_dscp takes 0..63 and nw_ecn the low two bits)";
        snprintf(buf, sizeof buf, "an integer 0..%" PRIu64 ", decimal or 0x hex%s", max_of(f->bits),
                 masked && f->maskable ? ", optionally with a /mask" : "");
        return buf;
}

bool of_field_parse(const OfField *f, const char *s, bool masked, OfParsedValue *ret, const char **ret_why) {
        bool ok = false;

        *ret = (OfParsedValue) {};
        masked = masked && f->maskable;
        switch (f->type) {
        case OF_FT_PROTOCOL:
                *ret_why = "nothing: it names a protocol and takes no value";
                return !s || !*s;
        case OF_FT_PORT:
                *ret_why = "a port name, container:N, LOCAL or an OpenFlow port number 1..65279";
                return parse_port(s, ret);
        case OF_FT_INT:
                ok = parse_int(s, f->bits, masked, ret);
                if (ok && streq(f->name, "nw_tos"))
                        ok = (ret->u & 3) == 0;
                /* The message is formatted only for a value refused. */
                *ret_why = ok ? "" : int_why(f, masked);
                return ok;
        case OF_FT_MAC:
                *ret_why = masked ? "a MAC address such as 02:00:00:00:00:01, optionally with a /mask such as /ff:ff:ff:00:00:00"
                                  : "a MAC address such as 02:00:00:00:00:01";
                return parse_mac(s, masked, ret);
        case OF_FT_IPV4:
                *ret_why = masked ? "an IPv4 address such as 10.0.0.1, optionally with a prefix length (/24) or a mask (/255.255.255.0)"
                                  : "an IPv4 address such as 10.0.0.1";
                return parse_ipv4(s, masked, ret);
        case OF_FT_IPV6:
                *ret_why = masked ? "an IPv6 address such as fd00::1, optionally with a prefix length (/64) or a mask"
                                  : "an IPv6 address such as fd00::1";
                return parse_ipv6(s, masked, ret);
        case OF_FT_CT_STATE:
                *ret_why = "conntrack flags such as +trk+est or +trk-new (new, est, rel, rpl, inv, trk, snat, dnat; each once), "
                           "or an integer with an optional /mask";
                return masked && parse_flags(s, ct_flags, 32, ret);
        case OF_FT_TCP_FLAGS:
                *ret_why = "TCP flags such as +syn-ack (fin, syn, rst, psh, ack, urg, ece, cwr, ns; each once), "
                           "or an integer 0..4095 with an optional /mask";
                return masked && parse_flags(s, tcp_flags, 12, ret);
        }
        return false;
}

/* ---- prerequisites ------------------------------------------------------------ */

static bool ctx_all(const OfMatchContext *ctx, bool (*pred)(uint16_t t, const OfMatchContext *ctx)) {
        bool any = false;

        for (size_t i = 0; i < ELEMENTSOF(ctx->dl_types); i++)
                if (ctx->dl_types[i]) {
                        if (!pred(ctx->dl_types[i], ctx))
                                return false;
                        any = true;
                }
        return any;
}

static bool is_ip(uint16_t t, const OfMatchContext *c) { (void) c; return t == 0x0800 || t == 0x86dd; }
static bool is_ipv4(uint16_t t, const OfMatchContext *c) { (void) c; return t == 0x0800; }
static bool is_ipv6(uint16_t t, const OfMatchContext *c) { (void) c; return t == 0x86dd; }
static bool is_arp(uint16_t t, const OfMatchContext *c) { (void) c; return t == 0x0806 || t == 0x8035; }
static bool is_ipv4_arp(uint16_t t, const OfMatchContext *c) { return is_ipv4(t, c) || is_arp(t, c); }
static bool is_l4(uint16_t t, const OfMatchContext *c) {
        return is_ip(t, c) && (c->nw_proto == 6 || c->nw_proto == 17 || c->nw_proto == 132);
}
static bool is_tcp(uint16_t t, const OfMatchContext *c) { return is_ip(t, c) && c->nw_proto == 6; }
static bool is_icmp(uint16_t t, const OfMatchContext *c) {
        return (t == 0x0800 && c->nw_proto == 1) || (t == 0x86dd && c->nw_proto == 58);
}
static bool is_icmp6(uint16_t t, const OfMatchContext *c) { return t == 0x86dd && c->nw_proto == 58; }

bool of_prereq_met(OfPrereq p, const OfMatchContext *ctx, const char **ret_need) {
        switch (p) {
        case OF_PRE_NONE:
                return true;
        case OF_PRE_IP:
                *ret_need = "ip or ipv6 (or a protocol over them: tcp, udp6, ...)";
                return ctx_all(ctx, is_ip);
        case OF_PRE_IPV4:
                *ret_need = "ip (or tcp, udp, sctp, icmp)";
                return ctx_all(ctx, is_ipv4);
        case OF_PRE_IPV6:
                *ret_need = "ipv6 (or tcp6, udp6, sctp6, icmp6)";
                return ctx_all(ctx, is_ipv6);
        case OF_PRE_IPV4_ARP:
                *ret_need = "ip (or tcp, udp, sctp, icmp), arp or rarp";
                return ctx_all(ctx, is_ipv4_arp);
        case OF_PRE_ARP:
                *ret_need = "arp or rarp";
                return ctx_all(ctx, is_arp);
        case OF_PRE_L4:
                *ret_need = "tcp, udp or sctp (or tcp6, udp6, sctp6)";
                return ctx_all(ctx, is_l4);
        case OF_PRE_TCP:
                *ret_need = "tcp or tcp6";
                return ctx_all(ctx, is_tcp);
        case OF_PRE_ICMP:
                *ret_need = "icmp or icmp6";
                return ctx_all(ctx, is_icmp);
        case OF_PRE_ND:
                *ret_need = "icmp6 with icmp_type 135 or 136 (neighbour solicitation or advertisement)";
                return ctx_all(ctx, is_icmp6) && (ctx->icmp_type == 135 || ctx->icmp_type == 136);
        case OF_PRE_ND_NS:
                *ret_need = "icmp6 with icmp_type 135 (neighbour solicitation)";
                return ctx_all(ctx, is_icmp6) && ctx->icmp_type == 135;
        case OF_PRE_ND_NA:
                *ret_need = "icmp6 with icmp_type 136 (neighbour advertisement)";
                return ctx_all(ctx, is_icmp6) && ctx->icmp_type == 136;
        }
        return false;
}

int of_match_context(const OfField *const *f, const OfParsedValue *v, size_t n, OfMatchContext *ctx, size_t *ret_bad) {
        *ctx = (OfMatchContext) { .nw_proto = -1, .icmp_type = -1 };

        for (size_t i = 0; i < n; i++) {
                int dl_type = -1, nw_proto = -1;

                if (!f[i])
                        continue;
                if (f[i]->type == OF_FT_PROTOCOL) {
                        dl_type = f[i]->dl_type;
                        nw_proto = f[i]->nw_proto ?: -1;
                } else if (streq(f[i]->name, "dl_type"))
                        dl_type = (int) v[i].u;
                else if (streq(f[i]->name, "nw_proto"))
                        nw_proto = (int) v[i].u;
                else if (streq(f[i]->name, "icmp_type"))
                        ctx->icmp_type = (int) v[i].u;

                if ((dl_type >= 0 && ctx->dl_types[0] && ctx->dl_types[0] != dl_type) ||
                    (nw_proto >= 0 && ctx->nw_proto >= 0 && ctx->nw_proto != nw_proto)) {
                        *ret_bad = i;
                        return -EINVAL;
                }
                if (dl_type >= 0)
                        ctx->dl_types[0] = (uint16_t) dl_type;
                if (nw_proto >= 0)
                        ctx->nw_proto = nw_proto;
        }
        return 0;
}

/* ---- match text ------------------------------------------------------------------ */

int of_match_split(const char *text, OfMatchField **ret, size_t *ret_n) {
        OfMatchField *m;
        size_t n = 1, k = 0;
        int r = 0;

        for (const char *c = text; *c; c++)
                n += *c == ',';
        m = calloc(n + 1, sizeof(OfMatchField));
        if (!m)
                return -ENOMEM;
        for (const char *c = text; *text && r >= 0;) {
                const char *end = strchrnul(c, ','), *eq = memchr(c, '=', (size_t) (end - c));
                OfMatchField *f = &m[k];

                if (end == c || eq == c || (eq && memchr(eq + 1, '=', (size_t) (end - eq - 1)))) {
                        r = -EINVAL;
                        break;
                }
                k++;
                f->name = strndup(c, (size_t) ((eq ?: end) - c));
                f->value.type = eq ? OF_VALUE_STRING : OF_VALUE_NONE;
                if (eq)
                        f->value.string = strndup(eq + 1, (size_t) (end - eq - 1));
                if (!f->name || (eq && !f->value.string))
                        r = -ENOMEM;
                if (!*end)
                        break;
                c = end + 1;
        }
        if (r < 0) {
                of_match_free(m, k);
                return r;
        }
        *ret = m;
        *ret_n = k;
        return 0;
}
