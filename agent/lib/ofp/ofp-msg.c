/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OpenFlow 1.4 flow mods, bundles and the Nicira actions Open vSwitch
 * offers, encoded as ovs-ofctl encodes them (see ofp-msg.h). */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "ofp-msg.h"

#define OFPAT_OUTPUT 0
#define OFPAT_SET_NW_TTL 23
#define OFPAT_SET_FIELD 25
#define OFPAT_EXPERIMENTER 0xffff
#define OFPIT_APPLY_ACTIONS 4
#define NX_VENDOR_ID 0x00002320
#define NXAST_REG_LOAD 7
#define NXAST_RESUBMIT_TABLE 14
#define NXAST_CT 35
#define NX_CT_F_COMMIT 1
#define NX_CT_RECIRC_NONE 0xff
#define OFP_NO_BUFFER 0xffffffffU
#define OFPG_ANY 0xffffffffU
#define OFP_FLOW_MOD_FIXED_LEN 48    /* header included, up to the match */
#define OFP_BUNDLE_ADD_FIXED_LEN 16

void ofp_buf_done(OfpBuf *b) {
        free(b->data);
        *b = (OfpBuf) {};
}

uint8_t *ofp_buf_put_zeros(OfpBuf *b, size_t n) {
        uint8_t *p;

        if (b->error < 0)
                return NULL;
        if (b->len + n > b->allocated || !b->data) {
                size_t want = MAX(b->allocated * 2, b->len + n);

                want = MAX(want, (size_t) 256);
                p = realloc(b->data, want);
                if (!p) {
                        b->error = -ENOMEM;
                        return NULL;
                }
                b->data = p;
                b->allocated = want;
        }
        p = b->data + b->len;
        memset(p, 0, n);
        b->len += n;
        return p;
}

void ofp_buf_put(OfpBuf *b, const void *data, size_t n) {
        uint8_t *p = ofp_buf_put_zeros(b, n);

        if (p && n > 0)
                memcpy(p, data, n);
}

void ofp_store16(uint8_t *p, uint16_t v) {
        v = htobe16(v);
        memcpy(p, &v, 2);
}

void ofp_store32(uint8_t *p, uint32_t v) {
        v = htobe32(v);
        memcpy(p, &v, 4);
}

void ofp_store64(uint8_t *p, uint64_t v) {
        v = htobe64(v);
        memcpy(p, &v, 8);
}

uint16_t ofp_load16(const uint8_t *p) {
        uint16_t v;

        memcpy(&v, p, 2);
        return be16toh(v);
}

uint32_t ofp_load32(const uint8_t *p) {
        uint32_t v;

        memcpy(&v, p, 4);
        return be32toh(v);
}

uint64_t ofp_load64(const uint8_t *p) {
        uint64_t v;

        memcpy(&v, p, 8);
        return be64toh(v);
}

static size_t pad8(size_t n) {
        return (n + 7) / 8 * 8;
}

size_t ofp_oxm_put(uint8_t *out, uint16_t oxm_class, uint8_t field, const uint8_t *value, const uint8_t *mask,
                   size_t n) {
        size_t off = 4;

        ofp_store16(out, oxm_class);
        out[2] = (uint8_t) (field << 1 | (mask ? 1 : 0));
        out[3] = (uint8_t) (n * (mask ? 2 : 1) + (oxm_class == OFP_OXM_EXPERIMENTER ? 4 : 0));
        if (oxm_class == OFP_OXM_EXPERIMENTER) {
                ofp_store32(out + 4, OFP_ONF_EXPERIMENTER);
                off += 4;
        }
        memcpy(out + off, value, n);
        if (mask)
                memcpy(out + off + n, mask, n);
        return off + n * (mask ? 2 : 1);
}

/* ---- actions ------------------------------------------------------------------- */

/* A Nicira action of len bytes: its header is filled in, the rest zero. */
static uint8_t *put_nx_action(OfpBuf *b, uint16_t subtype, size_t len) {
        uint8_t *p = ofp_buf_put_zeros(b, len);

        if (!p)
                return NULL;
        ofp_store16(p, OFPAT_EXPERIMENTER);
        ofp_store16(p + 2, (uint16_t) len);
        ofp_store32(p + 4, NX_VENDOR_ID);
        ofp_store16(p + 8, subtype);
        return p;
}

void ofp_put_output(OfpBuf *b, uint32_t port) {
        uint8_t *p = ofp_buf_put_zeros(b, 16);

        if (!p)
                return;
        ofp_store16(p, OFPAT_OUTPUT);
        ofp_store16(p + 2, 16);
        ofp_store32(p + 4, port);
        /* max_len: only for output to a controller, which op-dbus never does */
}

void ofp_put_set_nw_ttl(OfpBuf *b, uint8_t ttl) {
        uint8_t *p = ofp_buf_put_zeros(b, 8);

        if (!p)
                return;
        ofp_store16(p, OFPAT_SET_NW_TTL);
        ofp_store16(p + 2, 8);
        p[4] = ttl;
}

void ofp_put_set_field(OfpBuf *b, uint16_t oxm_class, uint8_t field, const uint8_t *value, size_t n) {
        uint8_t oxm[OFP_OXM_FIELD_MAX];
        size_t len = ofp_oxm_put(oxm, oxm_class, field, value, NULL, n);
        uint8_t *p = ofp_buf_put_zeros(b, pad8(4 + len));

        if (!p)
                return;
        ofp_store16(p, OFPAT_SET_FIELD);
        ofp_store16(p + 2, (uint16_t) pad8(4 + len));
        memcpy(p + 4, oxm, len);
}

void ofp_put_resubmit(OfpBuf *b, uint8_t table) {
        uint8_t *p = put_nx_action(b, NXAST_RESUBMIT_TABLE, 16);

        if (!p)
                return;
        ofp_store16(p + 10, (uint16_t) OFPP_IN_PORT);   /* in_port: the packet's own */
        p[12] = table;
}

void ofp_put_ct(OfpBuf *b, bool commit, uint16_t zone, int table) {
        uint8_t *p = put_nx_action(b, NXAST_CT, 24);

        if (!p)
                return;
        ofp_store16(p + 10, commit ? NX_CT_F_COMMIT : 0);
        /* zone_src 0: the zone is the immediate value that follows */
        ofp_store16(p + 16, zone);
        p[18] = table < 0 ? NX_CT_RECIRC_NONE : (uint8_t) table;
}

void ofp_put_reg_load(OfpBuf *b, uint32_t nxm_header, unsigned ofs, unsigned n_bits, uint64_t value) {
        uint8_t *p = put_nx_action(b, NXAST_REG_LOAD, 24);

        if (!p)
                return;
        ofp_store16(p + 10, (uint16_t) (ofs << 6 | (n_bits - 1)));
        ofp_store32(p + 12, nxm_header);
        ofp_store64(p + 16, value);
}

size_t ofp_apply_actions_begin(OfpBuf *b) {
        size_t start = b->len;
        uint8_t *p = ofp_buf_put_zeros(b, 8);

        if (p)
                ofp_store16(p, OFPIT_APPLY_ACTIONS);
        return start;
}

void ofp_apply_actions_end(OfpBuf *b, size_t start) {
        if (b->error < 0)
                return;
        if (b->len == start + 8) {
                b->len = start;      /* no actions: no instruction */
                return;
        }
        ofp_store16(b->data + start + 2, (uint16_t) (b->len - start));
}

/* ---- messages ------------------------------------------------------------------ */

static void header(uint8_t *p, uint8_t type, size_t len, uint32_t xid) {
        p[0] = OFP14_VERSION;
        p[1] = type;
        ofp_store16(p + 2, (uint16_t) len);
        ofp_store32(p + 4, xid);
}

static size_t flow_mod_len(const OfpFlowMod *fm) {
        return OFP_FLOW_MOD_FIXED_LEN + pad8(4 + fm->match_len) + fm->instructions_len;
}

/* The flow mod into p (flow_mod_len bytes, zeroed). */
static void encode_flow_mod(uint8_t *p, uint32_t xid, const OfpFlowMod *fm) {
        size_t len = flow_mod_len(fm);

        header(p, OFPT_FLOW_MOD, len, xid);
        ofp_store64(p + 8, fm->cookie);
        ofp_store64(p + 16, fm->cookie_mask);
        p[24] = fm->table;
        p[25] = fm->command;
        ofp_store16(p + 26, fm->idle_timeout);
        ofp_store16(p + 28, fm->hard_timeout);
        ofp_store16(p + 30, fm->priority);
        ofp_store32(p + 32, OFP_NO_BUFFER);
        ofp_store32(p + 36, OFPP_ANY);      /* out_port: any */
        ofp_store32(p + 40, OFPG_ANY);      /* out_group: any */
        ofp_store16(p + 44, fm->flags);
        /* importance 0 */
        ofp_store16(p + 48, 1);             /* OFPMT_OXM */
        ofp_store16(p + 50, (uint16_t) (4 + fm->match_len));
        if (fm->match_len > 0)
                memcpy(p + 52, fm->match, fm->match_len);
        if (fm->instructions_len > 0)
                memcpy(p + OFP_FLOW_MOD_FIXED_LEN + pad8(4 + fm->match_len), fm->instructions, fm->instructions_len);
}

void ofp_put_flow_mod(OfpBuf *b, uint32_t xid, const OfpFlowMod *fm) {
        uint8_t *p = ofp_buf_put_zeros(b, flow_mod_len(fm));

        if (p)
                encode_flow_mod(p, xid, fm);
}

void ofp_put_bundle_control(OfpBuf *b, uint32_t xid, uint32_t bundle_id, uint16_t type, uint16_t flags) {
        uint8_t *p = ofp_buf_put_zeros(b, 16);

        if (!p)
                return;
        header(p, OFPT_BUNDLE_CONTROL, 16, xid);
        ofp_store32(p + 8, bundle_id);
        ofp_store16(p + 12, type);
        ofp_store16(p + 14, flags);
}

void ofp_put_bundle_flow_mod(OfpBuf *b, uint32_t xid, uint32_t bundle_id, uint16_t flags, const OfpFlowMod *fm) {
        size_t inner = flow_mod_len(fm);
        uint8_t *p = ofp_buf_put_zeros(b, OFP_BUNDLE_ADD_FIXED_LEN + inner);

        if (!p)
                return;
        header(p, OFPT_BUNDLE_ADD_MESSAGE, OFP_BUNDLE_ADD_FIXED_LEN + inner, xid);
        ofp_store32(p + 8, bundle_id);
        ofp_store16(p + 14, flags);
        encode_flow_mod(p + OFP_BUNDLE_ADD_FIXED_LEN, xid, fm);
}

void ofp_put_barrier_request(OfpBuf *b, uint32_t xid) {
        uint8_t *p = ofp_buf_put_zeros(b, OFP_HEADER_LEN);

        if (p)
                header(p, OFPT_BARRIER_REQUEST, OFP_HEADER_LEN, xid);
}

int ofp_match_fields(const uint8_t *p, size_t len, const uint8_t **ret, size_t *ret_len) {
        size_t n;

        if (len < 4 || ofp_load16(p) != 1)
                return -EBADMSG;
        n = ofp_load16(p + 2);
        if (n < 4 || n > len)
                return -EBADMSG;
        *ret = p + 4;
        *ret_len = n - 4;
        return 0;
}

/* Instruction types (OpenFlow 1.4, 7.2.4), besides apply-actions. */
#define OFPIT_WRITE_ACTIONS 3
#define OFPIT_CLEAR_ACTIONS 5
#define OFP_INSTRUCTION_ACTIONS_LEN 8  /* type, len, pad: the actions follow */

int ofp_instructions_drop(const uint8_t *p, size_t len) {
        const uint8_t *oxm;
        size_t oxm_len, off;
        int r;

        r = ofp_match_fields(p, len, &oxm, &oxm_len);
        if (r < 0)
                return r;
        off = (oxm_len + 4 + 7) / 8 * 8;   /* the match is padded to 8 bytes */
        if (off > len)
                return -EBADMSG;
        while (off < len) {
                uint16_t type, n;

                if (len - off < 4)
                        return -EBADMSG;
                type = ofp_load16(p + off);
                n = ofp_load16(p + off + 2);
                if (n < 4 || n > len - off)
                        return -EBADMSG;
                switch (type) {
                case OFPIT_WRITE_ACTIONS:
                case OFPIT_APPLY_ACTIONS:
                        if (n > OFP_INSTRUCTION_ACTIONS_LEN)
                                return 0;   /* an action: the packet goes somewhere */
                        break;
                case OFPIT_CLEAR_ACTIONS:
                        break;
                default:                    /* goto-table, meter, experimenter: it continues */
                        return 0;
                }
                off += n;
        }
        return 1;
}

/* ---- errors ---------------------------------------------------------------------- */

typedef struct ErrorNames {
        uint16_t type;
        const char *const *codes;
        size_t n;
} ErrorNames;

static const char *const bad_request[] = {
        "OFPBRC_BAD_VERSION", "OFPBRC_BAD_TYPE", "OFPBRC_BAD_MULTIPART", "OFPBRC_BAD_EXPERIMENTER",
        "OFPBRC_BAD_EXP_TYPE", "OFPBRC_EPERM (not permitted)", "OFPBRC_BAD_LEN", "OFPBRC_BUFFER_EMPTY",
        "OFPBRC_BUFFER_UNKNOWN", "OFPBRC_BAD_TABLE_ID (no such table)", "OFPBRC_IS_SLAVE", "OFPBRC_BAD_PORT",
        "OFPBRC_BAD_PACKET",
};
static const char *const bad_action[] = {
        "OFPBAC_BAD_TYPE (an action the switch does not know)", "OFPBAC_BAD_LEN", "OFPBAC_BAD_EXPERIMENTER",
        "OFPBAC_BAD_EXP_TYPE", "OFPBAC_BAD_OUT_PORT (no such output port)", "OFPBAC_BAD_ARGUMENT",
        "OFPBAC_EPERM", "OFPBAC_TOO_MANY", "OFPBAC_BAD_QUEUE", "OFPBAC_BAD_OUT_GROUP",
        "OFPBAC_MATCH_INCONSISTENT (an action needs what the match does not name)", "OFPBAC_UNSUPPORTED_ORDER",
        "OFPBAC_BAD_TAG", "OFPBAC_BAD_SET_TYPE (a field set_field cannot write)", "OFPBAC_BAD_SET_LEN",
        "OFPBAC_BAD_SET_ARGUMENT (a value set_field cannot write)",
};
static const char *const bad_instruction[] = {
        "OFPBIC_UNKNOWN_INST", "OFPBIC_UNSUP_INST", "OFPBIC_BAD_TABLE_ID", "OFPBIC_UNSUP_METADATA",
        "OFPBIC_UNSUP_METADATA_MASK", "OFPBIC_BAD_EXPERIMENTER", "OFPBIC_BAD_EXP_TYPE", "OFPBIC_BAD_LEN",
        "OFPBIC_EPERM",
};
static const char *const bad_match[] = {
        "OFPBMC_BAD_TYPE", "OFPBMC_BAD_LEN", "OFPBMC_BAD_TAG", "OFPBMC_BAD_DL_ADDR_MASK",
        "OFPBMC_BAD_NW_ADDR_MASK", "OFPBMC_BAD_WILDCARDS", "OFPBMC_BAD_FIELD (a match field the switch does not know)",
        "OFPBMC_BAD_VALUE (a match value out of range)", "OFPBMC_BAD_MASK",
        "OFPBMC_BAD_PREREQ (a match field without the protocol it needs)", "OFPBMC_DUP_FIELD", "OFPBMC_EPERM",
};
static const char *const flow_mod_failed[] = {
        "OFPFMFC_UNKNOWN", "OFPFMFC_TABLE_FULL (the table is full)", "OFPFMFC_BAD_TABLE_ID (no such table)",
        "OFPFMFC_OVERLAP", "OFPFMFC_EPERM (the table is read-only)", "OFPFMFC_BAD_TIMEOUT", "OFPFMFC_BAD_COMMAND",
        "OFPFMFC_BAD_FLAGS",
};
static const char *const bundle_failed[] = {
        "OFPBFC_UNKNOWN", "OFPBFC_EPERM", "OFPBFC_BAD_ID", "OFPBFC_BUNDLE_EXIST", "OFPBFC_BUNDLE_CLOSED",
        "OFPBFC_OUT_OF_BUNDLES", "OFPBFC_BAD_TYPE", "OFPBFC_BAD_FLAGS", "OFPBFC_MSG_BAD_LEN",
        "OFPBFC_MSG_BAD_XID", "OFPBFC_MSG_UNSUP", "OFPBFC_MSG_CONFLICT", "OFPBFC_MSG_TOO_MANY",
        "OFPBFC_MSG_FAILED (a message of the bundle failed)", "OFPBFC_TIMEOUT", "OFPBFC_BUNDLE_IN_PROGRESS",
};

static const ErrorNames error_names[] = {
        { 1, bad_request, ELEMENTSOF(bad_request) },
        { 2, bad_action, ELEMENTSOF(bad_action) },
        { 3, bad_instruction, ELEMENTSOF(bad_instruction) },
        { 4, bad_match, ELEMENTSOF(bad_match) },
        { 5, flow_mod_failed, ELEMENTSOF(flow_mod_failed) },
        { 17, bundle_failed, ELEMENTSOF(bundle_failed) },
};

const char *ofp_error_name(uint16_t type, uint16_t code) {
        for (size_t i = 0; i < ELEMENTSOF(error_names); i++)
                if (error_names[i].type == type)
                        return code < error_names[i].n ? error_names[i].codes[code] : NULL;
        return NULL;
}
