/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The OpenFlow match fields and set_field targets op-dbus knows: for each,
 * the values it takes, what the same match must also name for Open
 * vSwitch to keep it (its prerequisites), and how Open vSwitch encodes it
 * in OpenFlow 1.4. Used on op-dbus's own flow model when a state is
 * validated (so no value reaches the switch unchecked, and none lacks its
 * prerequisites), when the flows are encoded, and when the flows Open
 * vSwitch reports are compared with the ones meant. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "ofp-msg.h"
#include "openflow.h"
#include "strbuf.h"

typedef enum OfFieldType {
        OF_FT_PROTOCOL,      /* ip, tcp, ...: names a protocol, takes no value */
        OF_FT_PORT,          /* in_port */
        OF_FT_INT,           /* an unsigned integer of `bits` bits */
        OF_FT_MAC,
        OF_FT_IPV4,
        OF_FT_IPV6,
        OF_FT_CT_STATE,      /* +trk+est..., or an integer */
        OF_FT_TCP_FLAGS,     /* +syn-ack..., or an integer */
} OfFieldType;

/* What the same match must name for a field to count. */
typedef enum OfPrereq {
        OF_PRE_NONE,
        OF_PRE_IP,           /* ip or ipv6 */
        OF_PRE_IPV4,
        OF_PRE_IPV6,
        OF_PRE_IPV4_ARP,     /* ip, arp or rarp */
        OF_PRE_ARP,          /* arp or rarp */
        OF_PRE_L4,           /* tcp, udp or sctp (over ip or ipv6) */
        OF_PRE_TCP,
        OF_PRE_ICMP,         /* icmp or icmp6 */
        OF_PRE_ND,           /* icmp6 with icmp_type 135 or 136 */
        OF_PRE_ND_NS,        /* icmp6 with icmp_type 135 */
        OF_PRE_ND_NA,        /* icmp6 with icmp_type 136 */
} OfPrereq;

/* The fields, in the order of the table in of-fields.c. */
typedef enum OfFieldId {
        OF_F_IP, OF_F_IPV6, OF_F_ICMP, OF_F_ICMP6, OF_F_TCP, OF_F_TCP6, OF_F_UDP, OF_F_UDP6, OF_F_SCTP, OF_F_SCTP6,
        OF_F_ARP, OF_F_RARP,
        OF_F_IN_PORT, OF_F_DL_SRC, OF_F_DL_DST, OF_F_DL_TYPE, OF_F_DL_VLAN, OF_F_DL_VLAN_PCP,
        OF_F_NW_SRC, OF_F_NW_DST, OF_F_NW_PROTO, OF_F_NW_TOS, OF_F_IP_DSCP, OF_F_NW_ECN, OF_F_NW_TTL,
        OF_F_TP_SRC, OF_F_TP_DST, OF_F_TCP_FLAGS, OF_F_ICMP_TYPE, OF_F_ICMP_CODE,
        OF_F_ARP_OP, OF_F_ARP_SPA, OF_F_ARP_TPA, OF_F_ARP_SHA, OF_F_ARP_THA,
        OF_F_IPV6_SRC, OF_F_IPV6_DST, OF_F_IPV6_LABEL, OF_F_ND_TARGET, OF_F_ND_SLL, OF_F_ND_TLL,
        OF_F_METADATA, OF_F_TUN_ID, OF_F_PKT_MARK, OF_F_CT_STATE, OF_F_CT_ZONE, OF_F_CT_MARK,
        OF_F_REG0,
        _OF_F_MAX = OF_F_REG0 + 16,
} OfFieldId;

struct OfField {
        OfFieldId id;
        const char *name;
        OfFieldType type;
        uint8_t bits;                /* OF_FT_INT: width; otherwise the value's */
        bool maskable;               /* a match may give value/mask */
        bool settable;               /* set_field may write it */
        OfPrereq prereq;
        uint16_t dl_type;            /* OF_FT_PROTOCOL: the EtherType it names */
        uint8_t nw_proto;            /* OF_FT_PROTOCOL: the IP protocol (0: none) */
        uint16_t oxm_class;          /* OpenFlow 1.4 encoding (0: depends on the match) */
        uint8_t oxm_field;
};


const OfField *of_field_find(const char *name);
const OfField *of_field(OfFieldId id) _pure_;

/* Parses the value of field f as written in a flow; false, with *ret_why
 * saying what would be right, when it is not one f takes. masked: the
 * value may carry a mask (a match of a maskable field). */
bool of_field_parse(const OfField *f, const char *s, bool masked, OfParsedValue *ret, const char **ret_why);

/* What a match names about the protocols: from the protocol shorthands
 * and dl_type, nw_proto and icmp_type. */
typedef struct OfMatchContext {
        uint16_t dl_types[2];        /* possible EtherTypes (0: unused slot) */
        int nw_proto;                /* -1: not named */
        int icmp_type;               /* -1: not named */
} OfMatchContext;

/* Whether ctx satisfies p; false with *ret_need saying what is missing. */
bool of_prereq_met(OfPrereq p, const OfMatchContext *ctx, const char **ret_need);

/* A match string of a policy ("tcp,tp_dst=80,in_port=3"), split into
 * fields: a bare name has an OF_VALUE_NONE value. -EINVAL for an empty
 * item or one with a second '='. */
int of_match_split(const char *text, OfMatchField **ret, size_t *ret_n);

/* Fills ctx from the protocol fields of a parsed match (fields and their
 * values, n of them); -EINVAL when two of them disagree, with *ret_bad
 * the index of the later one. */
int of_match_context(const OfField *const *fields, const OfParsedValue *values, size_t n,
                     OfMatchContext *ctx, size_t *ret_bad);

/* ---- a match as the switch holds it (of-oxm.c) ---------------------------------------------
 * Fields of the table with their values, in any order; encoded as Open
 * vSwitch encodes the match in OpenFlow 1.4. */
#define OF_MATCH_MAX (_OF_F_MAX + 4)
#define OF_OXM_MAX (2 * OF_MATCH_MAX * OFP_OXM_FIELD_MAX)

typedef struct OfMatch {
        size_t n;
        const OfField *field[OF_MATCH_MAX];
        OfParsedValue value[OF_MATCH_MAX];
} OfMatch;

/* Appending a field: -E2BIG when the match is full. */
int of_match_add(OfMatch *m, const OfField *f, const OfParsedValue *v);
int of_match_add_proto(OfMatch *m, OfFieldId id);
int of_match_add_u(OfMatch *m, OfFieldId id, uint64_t v);
int of_match_add_masked(OfMatch *m, OfFieldId id, uint64_t v, uint64_t mask);
/* An address (len bytes) matched on its first prefix bits. */
int of_match_add_bytes(OfMatch *m, OfFieldId id, const void *bytes, size_t len, unsigned prefix);

/* The OXM fields of the match into out (OF_OXM_MAX bytes): in Open
 * vSwitch's order, each field once. Returns their length; -EINVAL, with
 * *ret_bad the index of the field at fault, when two fields disagree (on
 * the protocol, or on the value of one field of the switch, such as
 * nw_tos and ip_dscp) or a port is a name not resolved. */
int of_match_encode(const OfMatch *m, uint8_t *out, size_t *ret_bad);

/* The OXM field and length set_field writes f with, in a flow whose match
 * names ctx; and a value's bytes for it. */
void of_field_set_oxm(const OfField *f, const OfMatchContext *ctx, uint16_t *ret_class, uint8_t *ret_field,
                      size_t *ret_len);
void of_field_value_bytes(const OfParsedValue *v, size_t len, uint8_t *out);

/* A digest of OXM fields that does not depend on their order: equal
 * digests, equal matches. 0: malformed. */
uint64_t of_oxm_digest(const uint8_t *oxm, size_t len);
/* The same of the match of a flow-stats body the switch reported. */
uint64_t of_reported_match_digest(const uint8_t *body, size_t len);
/* OXM fields as text, for messages ("in_port=1,dl_type=0x0800,..."). */
void of_oxm_format(const uint8_t *oxm, size_t len, StrBuf *b);
