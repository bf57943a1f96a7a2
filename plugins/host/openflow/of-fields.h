/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The OpenFlow match fields and set_field targets op-dbus knows: for each,
 * the values it takes, what the same match must also name for Open
 * vSwitch to keep it (its prerequisites), and how Open vSwitch encodes it
 * in OpenFlow 1.4. Used on op-dbus's own flow model when a state is
 * validated (so a value never reaches a flow's text unchecked, and no
 * field can be dropped by Open vSwitch's normalisation), and when the
 * flows Open vSwitch reports are compared with the ones meant. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "openflow.h"

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

typedef struct OfField {
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
} OfField;

/* A value as Open vSwitch holds it, with a mask when one was given:
 * integers (ports, flags too) in u and umask, addresses as big-endian
 * bytes. */
typedef struct OfParsedValue {
        uint64_t u, umask;
        uint8_t bytes[16], bmask[16];
        size_t len;                  /* addresses: bytes used */
        bool has_mask;
        bool symbolic;               /* in_port by name: known after the ports are */
} OfParsedValue;

const OfField *of_field_find(const char *name);

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

/* The flow text of a match ("tcp,tp_dst=80,in_port=3"), split into
 * fields: a bare name has an OF_VALUE_NONE value. -EINVAL for an empty
 * item or one with a second '='. */
int of_match_split(const char *text, OfMatchField **ret, size_t *ret_n);

/* Fills ctx from the protocol fields of a parsed match (fields and their
 * values, n of them); -EINVAL when two of them disagree, with *ret_bad
 * the index of the later one. */
int of_match_context(const OfField *const *fields, const OfParsedValue *values, size_t n,
                     OfMatchContext *ctx, size_t *ret_bad);
