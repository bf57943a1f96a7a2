/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The OpenFlow 1.4 messages that change a switch's flows, encoded the way
 * Open vSwitch's own ovs-ofctl encodes them (byte for byte: checked in
 * tests/unit/test-ofp-encode.c against what ovs-ofctl sends):
 *
 *   OFPT_FLOW_MOD            match as OXM fields, instructions holding
 *                            OpenFlow and Nicira (Open vSwitch) actions
 *   OFPT_BUNDLE_ADD_MESSAGE  one flow mod for a bundle
 *   OFPT_BUNDLE_CONTROL      open, commit, discard
 *   OFPT_BARRIER_REQUEST
 *
 * Messages are appended to an OfpBuf; an allocation failure sticks in the
 * buffer (b->error) and the later calls do nothing. Nothing here does I/O
 * or logs. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OFP14_VERSION 0x05
#define OFP_HEADER_LEN 8

/* Message types */
#define OFPT_HELLO 0
#define OFPT_ERROR 1
#define OFPT_ECHO_REQUEST 2
#define OFPT_ECHO_REPLY 3
#define OFPT_FLOW_MOD 14
#define OFPT_MULTIPART_REQUEST 18
#define OFPT_MULTIPART_REPLY 19
#define OFPT_BARRIER_REQUEST 20
#define OFPT_BARRIER_REPLY 21
#define OFPT_BUNDLE_CONTROL 33
#define OFPT_BUNDLE_ADD_MESSAGE 34

/* Flow mod commands */
#define OFPFC_ADD 0
#define OFPFC_DELETE_STRICT 4

/* Bundle control types and flags */
#define OFPBCT_OPEN_REQUEST 0
#define OFPBCT_OPEN_REPLY 1
#define OFPBCT_COMMIT_REQUEST 4
#define OFPBCT_COMMIT_REPLY 5
#define OFPBCT_DISCARD_REQUEST 6
#define OFPBCT_DISCARD_REPLY 7
#define OFPBF_ATOMIC 1
#define OFPBF_ORDERED 2

/* Ports */
#define OFPP_MAX 0xffffff00U
#define OFPP_IN_PORT 0xfffffff8U
#define OFPP_NORMAL 0xfffffffaU
#define OFPP_LOCAL 0xfffffffeU
#define OFPP_ANY 0xffffffffU

/* OXM classes */
#define OFP_OXM_NXM0 0x0000          /* Nicira, the fields of OpenFlow 1.0 */
#define OFP_OXM_NXM1 0x0001          /* Nicira extensions: registers, conntrack, ... */
#define OFP_OXM_OF 0x8000            /* OpenFlow basic */
#define OFP_OXM_EXPERIMENTER 0xffff  /* followed by an experimenter id */
#define OFP_ONF_EXPERIMENTER 0x4f4e4600

/* The longest OXM field: header, experimenter id, 16-byte value and mask. */
#define OFP_OXM_FIELD_MAX (4 + 4 + 2 * 16)

typedef struct OfpBuf {
        uint8_t *data;
        size_t len;
        size_t allocated;
        int error;                   /* first allocation failure, sticky */
} OfpBuf;

void ofp_buf_done(OfpBuf *b);
/* n zero bytes at the end of b; NULL after an allocation failure. */
uint8_t *ofp_buf_put_zeros(OfpBuf *b, size_t n);
void ofp_buf_put(OfpBuf *b, const void *p, size_t n);

/* Big-endian stores into and loads from bytes. */
void ofp_store16(uint8_t *p, uint16_t v);
void ofp_store32(uint8_t *p, uint32_t v);
void ofp_store64(uint8_t *p, uint64_t v);
uint16_t ofp_load16(const uint8_t *p);
uint32_t ofp_load32(const uint8_t *p);
uint64_t ofp_load64(const uint8_t *p);

/* One OXM field into out (at least OFP_OXM_FIELD_MAX bytes): class,
 * field, n bytes of value and, unless mask is NULL, of mask; a field of
 * the experimenter class carries the ONF experimenter id. Returns its
 * length. */
size_t ofp_oxm_put(uint8_t *out, uint16_t oxm_class, uint8_t field, const uint8_t *value, const uint8_t *mask,
                   size_t n);

/* ---- actions ------------------------------------------------------------------- */
void ofp_put_output(OfpBuf *b, uint32_t port);
/* OFPAT_SET_NW_TTL (ovs-ofctl's mod_nw_ttl) */
void ofp_put_set_nw_ttl(OfpBuf *b, uint8_t ttl);
/* OFPAT_SET_FIELD of one OXM field (no mask). */
void ofp_put_set_field(OfpBuf *b, uint16_t oxm_class, uint8_t field, const uint8_t *value, size_t n);
/* Nicira resubmit(,table): look the packet up again in table. */
void ofp_put_resubmit(OfpBuf *b, uint8_t table);
/* Nicira ct(): commit; zone (0 is the default zone); table < 0: none. */
void ofp_put_ct(OfpBuf *b, bool commit, uint16_t zone, int table);
/* Nicira reg_load (ovs-ofctl's load:VALUE->FIELD[ofs..ofs+n_bits-1])
 * into the NXM field with header nxm_header (class << 16 | field << 9 |
 * length). */
void ofp_put_reg_load(OfpBuf *b, uint32_t nxm_header, unsigned ofs, unsigned n_bits, uint64_t value);

/* An OFPIT_APPLY_ACTIONS instruction around the actions put between
 * begin and end; end takes out an instruction without actions (drop). */
size_t ofp_apply_actions_begin(OfpBuf *b);
void ofp_apply_actions_end(OfpBuf *b, size_t start);

/* ---- messages ------------------------------------------------------------------ */
typedef struct OfpFlowMod {
        uint8_t command;             /* OFPFC_* */
        uint8_t table;
        uint16_t priority;
        uint16_t idle_timeout;
        uint16_t hard_timeout;
        uint16_t flags;
        uint64_t cookie;
        uint64_t cookie_mask;        /* deletes: which bits of cookie must match (all ones: exactly it) */
        const uint8_t *match;        /* OXM fields */
        size_t match_len;
        const uint8_t *instructions;
        size_t instructions_len;
} OfpFlowMod;

void ofp_put_flow_mod(OfpBuf *b, uint32_t xid, const OfpFlowMod *fm);
void ofp_put_bundle_control(OfpBuf *b, uint32_t xid, uint32_t bundle_id, uint16_t type, uint16_t flags);
/* A flow mod in an OFPT_BUNDLE_ADD_MESSAGE; both carry xid. */
void ofp_put_bundle_flow_mod(OfpBuf *b, uint32_t xid, uint32_t bundle_id, uint16_t flags, const OfpFlowMod *fm);
void ofp_put_barrier_request(OfpBuf *b, uint32_t xid);

/* The OXM fields of the ofp_match at the start of p (len bytes: a flow
 * stats entry's body) into *ret and *ret_len; -EBADMSG when it is not
 * one. */
int ofp_match_fields(const uint8_t *p, size_t len, const uint8_t **ret, size_t *ret_len);

/* Whether a flow stats entry's body (len bytes: its match, then its
 * instructions) drops what it matches: no instruction, or only action
 * instructions without an action. 1 drops, 0 does not, -EBADMSG when it
 * is not a flow's body. */
int ofp_instructions_drop(const uint8_t *p, size_t len);

/* The name of an OpenFlow error (type and code, as OFPT_ERROR carries
 * them) and what it means, e.g. "OFPFMFC_TABLE_FULL (the table is
 * full)"; NULL when op-dbus does not know it. */
const char *ofp_error_name(uint16_t type, uint16_t code);
