/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What libnftnl reads of a message, checked before it reads it. libnftnl
 * checks each attribute it knows against the type the kernel gives it
 * and, when one is not of its type's size, prints "nf_tables kernel ABI
 * is broken" and ends the whole process (exit()); it also copies string
 * attributes with strdup(), reading past an attribute (and past the
 * buffer) that has no NUL. A dump's message is checked here first, with
 * the same types, so that such a message is refused (-EBADMSG) and the
 * caller lives on: a length aligned as the kernel's messages are (libmnl
 * reads to the aligned end), integers of their type's size, strings not
 * empty and ending inside their attribute, nested attributes empty or
 * holding an attribute header, no attribute of an element that libnftnl
 * would store past its table (it takes them up to NFTA_SET_MAX), no
 * expression without a name (libnftnl looks its kind up with a NULL
 * name), no verdict without its code or a jump without its chain
 * (libnftnl reads them from a table it does not clear), down every level
 * libnftnl descends (a chain's hook, counters and devices; a set's
 * description and expressions; an element's key, data and expressions; a
 * rule's expressions, each with the attributes of its kind, its data
 * registers and verdicts, the expressions inside an expression).
 *
 * The tables below are the attribute types of linux/netfilter/nf_tables.h
 * that libnftnl (1.2) validates, per object and per expression kind. */

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>

#include <stdio.h>
#include <libnftnl/expr.h>

#include "macro.h"
#include "nft-internal.h"

enum { A_NONE, A_U8, A_U16, A_U32, A_U64, A_STRING, A_NUL_STRING, A_NESTED, A_BINARY };

/* How deep expressions may nest in expressions (dynset): the
 * kernel allows one level. */
#define EXPR_DEPTH_MAX 4

typedef struct ExprPolicy {
        const char *name;
        const uint8_t *types;
        size_t n;
} ExprPolicy;

static const uint8_t p_table[] = {
        [NFTA_TABLE_FLAGS] = A_U32,
        [NFTA_TABLE_HANDLE] = A_U64,
        [NFTA_TABLE_NAME] = A_STRING,
        [NFTA_TABLE_OWNER] = A_U32,
        [NFTA_TABLE_USE] = A_U32,
        [NFTA_TABLE_USERDATA] = A_BINARY,
};
static const uint8_t p_chain[] = {
        [NFTA_CHAIN_COUNTERS] = A_NESTED,
        [NFTA_CHAIN_FLAGS] = A_U32,
        [NFTA_CHAIN_HANDLE] = A_U64,
        [NFTA_CHAIN_HOOK] = A_NESTED,
        [NFTA_CHAIN_ID] = A_U32,
        [NFTA_CHAIN_NAME] = A_STRING,
        [NFTA_CHAIN_POLICY] = A_U32,
        [NFTA_CHAIN_TABLE] = A_STRING,
        [NFTA_CHAIN_TYPE] = A_STRING,
        [NFTA_CHAIN_USE] = A_U32,
        [NFTA_CHAIN_USERDATA] = A_BINARY,
};
static const uint8_t p_hook[] = {
        [NFTA_HOOK_DEV] = A_STRING,
        [NFTA_HOOK_HOOKNUM] = A_U32,
        [NFTA_HOOK_PRIORITY] = A_U32,
};
static const uint8_t p_counters[] = {
        [NFTA_COUNTER_BYTES] = A_U64,
        [NFTA_COUNTER_PACKETS] = A_U64,
};
static const uint8_t p_set[] = {
        [NFTA_SET_DATA_LEN] = A_U32,
        [NFTA_SET_DATA_TYPE] = A_U32,
        [NFTA_SET_DESC] = A_NESTED,
        [NFTA_SET_EXPR] = A_NESTED,
        [NFTA_SET_EXPRESSIONS] = A_NESTED,
        [NFTA_SET_FLAGS] = A_U32,
        [NFTA_SET_GC_INTERVAL] = A_U32,
        [NFTA_SET_HANDLE] = A_U64,
        [NFTA_SET_ID] = A_U32,
        [NFTA_SET_KEY_LEN] = A_U32,
        [NFTA_SET_KEY_TYPE] = A_U32,
        [NFTA_SET_NAME] = A_STRING,
        [NFTA_SET_POLICY] = A_U32,
        [NFTA_SET_TABLE] = A_STRING,
        [NFTA_SET_TIMEOUT] = A_U64,
        [NFTA_SET_USERDATA] = A_BINARY,
};
static const uint8_t p_set_desc[] = {
        [NFTA_SET_DESC_SIZE] = A_U32,
};
static const uint8_t p_elem_list[] = {
        [NFTA_SET_ELEM_LIST_ELEMENTS] = A_NESTED,
        [NFTA_SET_ELEM_LIST_SET] = A_STRING,
        [NFTA_SET_ELEM_LIST_TABLE] = A_STRING,
};
static const uint8_t p_elem[] = {
        [NFTA_SET_ELEM_OBJREF] = A_STRING,     /* not checked by libnftnl, but strdup()ed */
        [NFTA_SET_ELEM_DATA] = A_NESTED,
        [NFTA_SET_ELEM_EXPIRATION] = A_U64,
        [NFTA_SET_ELEM_EXPR] = A_NESTED,
        [NFTA_SET_ELEM_EXPRESSIONS] = A_NESTED,
        [NFTA_SET_ELEM_FLAGS] = A_U32,
        [NFTA_SET_ELEM_KEY] = A_NESTED,
        [NFTA_SET_ELEM_KEY_END] = A_NESTED,
        [NFTA_SET_ELEM_TIMEOUT] = A_U64,
        [NFTA_SET_ELEM_USERDATA] = A_BINARY,
};
static const uint8_t p_rule[] = {
        [NFTA_RULE_CHAIN] = A_STRING,
        [NFTA_RULE_COMPAT] = A_NESTED,
        [NFTA_RULE_HANDLE] = A_U64,
        [NFTA_RULE_ID] = A_U32,
        [NFTA_RULE_POSITION] = A_U64,
        [NFTA_RULE_POSITION_ID] = A_U32,
        [NFTA_RULE_TABLE] = A_STRING,
        [NFTA_RULE_USERDATA] = A_BINARY,
};
static const uint8_t p_compat[] = {
        [NFTA_RULE_COMPAT_FLAGS] = A_U32,
        [NFTA_RULE_COMPAT_PROTO] = A_U32,
};
static const uint8_t p_expr[] = {
        [NFTA_EXPR_DATA] = A_NESTED,
        [NFTA_EXPR_NAME] = A_STRING,
};
static const uint8_t p_data[] = {
        [NFTA_DATA_VALUE] = A_BINARY,
        [NFTA_DATA_VERDICT] = A_NESTED,
};
static const uint8_t p_verdict[] = {
        [NFTA_VERDICT_CHAIN] = A_STRING,
        [NFTA_VERDICT_CHAIN_ID] = A_U32,
        [NFTA_VERDICT_CODE] = A_U32,
};
static const uint8_t p_gen[] = {
        [NFTA_GEN_ID] = A_U32,
};
static const uint8_t e_bitwise[] = {
        [NFTA_BITWISE_DATA] = A_BINARY,
        [NFTA_BITWISE_DREG] = A_U32,
        [NFTA_BITWISE_LEN] = A_U32,
        [NFTA_BITWISE_MASK] = A_BINARY,
        [NFTA_BITWISE_OP] = A_U32,
        [NFTA_BITWISE_SREG] = A_U32,
        [NFTA_BITWISE_XOR] = A_BINARY,
};
static const uint8_t e_byteorder[] = {
        [NFTA_BYTEORDER_DREG] = A_U32,
        [NFTA_BYTEORDER_LEN] = A_U32,
        [NFTA_BYTEORDER_OP] = A_U32,
        [NFTA_BYTEORDER_SIZE] = A_U32,
        [NFTA_BYTEORDER_SREG] = A_U32,
};
static const uint8_t e_cmp[] = {
        [NFTA_CMP_DATA] = A_BINARY,
        [NFTA_CMP_OP] = A_U32,
        [NFTA_CMP_SREG] = A_U32,
};
static const uint8_t e_connlimit[] = {
        [NFTA_CONNLIMIT_COUNT] = A_U32,
        [NFTA_CONNLIMIT_FLAGS] = A_U32,
};
static const uint8_t e_counter[] = {
        [NFTA_COUNTER_BYTES] = A_U64,
        [NFTA_COUNTER_PACKETS] = A_U64,
};
static const uint8_t e_ct[] = {
        [NFTA_CT_DIRECTION] = A_U8,
        [NFTA_CT_DREG] = A_U32,
        [NFTA_CT_KEY] = A_U32,
        [NFTA_CT_SREG] = A_U32,
};
static const uint8_t e_dup[] = {
        [NFTA_DUP_SREG_ADDR] = A_U32,
        [NFTA_DUP_SREG_DEV] = A_U32,
};
static const uint8_t e_dynset[] = {
        [NFTA_DYNSET_EXPR] = A_NESTED,
        [NFTA_DYNSET_EXPRESSIONS] = A_NESTED,
        [NFTA_DYNSET_FLAGS] = A_U32,
        [NFTA_DYNSET_OP] = A_U32,
        [NFTA_DYNSET_SET_ID] = A_U32,
        [NFTA_DYNSET_SET_NAME] = A_STRING,
        [NFTA_DYNSET_SREG_DATA] = A_U32,
        [NFTA_DYNSET_SREG_KEY] = A_U32,
        [NFTA_DYNSET_TIMEOUT] = A_U64,
};
static const uint8_t e_exthdr[] = {
        [NFTA_EXTHDR_DREG] = A_U32,
        [NFTA_EXTHDR_FLAGS] = A_U32,
        [NFTA_EXTHDR_LEN] = A_U32,
        [NFTA_EXTHDR_OFFSET] = A_U32,
        [NFTA_EXTHDR_OP] = A_U32,
        [NFTA_EXTHDR_SREG] = A_U32,
        [NFTA_EXTHDR_TYPE] = A_U8,
};
static const uint8_t e_fib[] = {
        [NFTA_FIB_DREG] = A_U32,
        [NFTA_FIB_FLAGS] = A_U32,
        [NFTA_FIB_RESULT] = A_U32,
};
static const uint8_t e_flow_offload[] = {
        [NFTA_FLOW_TABLE_NAME] = A_STRING,
};
static const uint8_t e_fwd[] = {
        [NFTA_FWD_NFPROTO] = A_U32,
        [NFTA_FWD_SREG_ADDR] = A_U32,
        [NFTA_FWD_SREG_DEV] = A_U32,
};
static const uint8_t e_hash[] = {
        [NFTA_HASH_DREG] = A_U32,
        [NFTA_HASH_LEN] = A_U32,
        [NFTA_HASH_MODULUS] = A_U32,
        [NFTA_HASH_OFFSET] = A_U32,
        [NFTA_HASH_SEED] = A_U32,
        [NFTA_HASH_SREG] = A_U32,
        [NFTA_HASH_TYPE] = A_U32,
};
static const uint8_t e_immediate[] = {
        [NFTA_IMMEDIATE_DATA] = A_BINARY,
        [NFTA_IMMEDIATE_DREG] = A_U32,
};
static const uint8_t e_last[] = {
        [NFTA_LAST_MSECS] = A_U64,
        [NFTA_LAST_SET] = A_U32,
};
static const uint8_t e_limit[] = {
        [NFTA_LIMIT_BURST] = A_U32,
        [NFTA_LIMIT_FLAGS] = A_U32,
        [NFTA_LIMIT_RATE] = A_U64,
        [NFTA_LIMIT_TYPE] = A_U32,
        [NFTA_LIMIT_UNIT] = A_U64,
};
static const uint8_t e_log[] = {
        [NFTA_LOG_FLAGS] = A_U32,
        [NFTA_LOG_GROUP] = A_U16,
        [NFTA_LOG_LEVEL] = A_U32,
        [NFTA_LOG_PREFIX] = A_STRING,
        [NFTA_LOG_QTHRESHOLD] = A_U16,
        [NFTA_LOG_SNAPLEN] = A_U32,
};
static const uint8_t e_lookup[] = {
        [NFTA_LOOKUP_DREG] = A_U32,
        [NFTA_LOOKUP_FLAGS] = A_U32,
        [NFTA_LOOKUP_SET] = A_STRING,
        [NFTA_LOOKUP_SET_ID] = A_U32,
        [NFTA_LOOKUP_SREG] = A_U32,
};
static const uint8_t e_masq[] = {
        [NFTA_MASQ_FLAGS] = A_U32,
        [NFTA_MASQ_REG_PROTO_MAX] = A_U32,
        [NFTA_MASQ_REG_PROTO_MIN] = A_U32,
};
static const uint8_t e_match[] = {
        [NFTA_MATCH_INFO] = A_BINARY,
        [NFTA_MATCH_NAME] = A_NUL_STRING,
        [NFTA_MATCH_REV] = A_U32,
};
static const uint8_t e_meta[] = {
        [NFTA_META_DREG] = A_U32,
        [NFTA_META_KEY] = A_U32,
        [NFTA_META_SREG] = A_U32,
};
static const uint8_t e_nat[] = {
        [NFTA_NAT_FAMILY] = A_U32,
        [NFTA_NAT_FLAGS] = A_U32,
        [NFTA_NAT_REG_ADDR_MAX] = A_U32,
        [NFTA_NAT_REG_ADDR_MIN] = A_U32,
        [NFTA_NAT_REG_PROTO_MAX] = A_U32,
        [NFTA_NAT_REG_PROTO_MIN] = A_U32,
        [NFTA_NAT_TYPE] = A_U32,
};
static const uint8_t e_numgen[] = {
        [NFTA_NG_DREG] = A_U32,
        [NFTA_NG_MODULUS] = A_U32,
        [NFTA_NG_OFFSET] = A_U32,
        [NFTA_NG_TYPE] = A_U32,
};
static const uint8_t e_objref[] = {
        [NFTA_OBJREF_IMM_NAME] = A_STRING,
        [NFTA_OBJREF_IMM_TYPE] = A_U32,
        [NFTA_OBJREF_SET_ID] = A_U32,
        [NFTA_OBJREF_SET_NAME] = A_STRING,
        [NFTA_OBJREF_SET_SREG] = A_U32,
};
static const uint8_t e_osf[] = {
        [NFTNL_EXPR_OSF_DREG] = A_U32,
        [NFTNL_EXPR_OSF_FLAGS] = A_U32,
        [NFTNL_EXPR_OSF_TTL] = A_U8,
};
static const uint8_t e_payload[] = {
        [NFTA_PAYLOAD_BASE] = A_U32,
        [NFTA_PAYLOAD_CSUM_FLAGS] = A_U32,
        [NFTA_PAYLOAD_CSUM_OFFSET] = A_U32,
        [NFTA_PAYLOAD_CSUM_TYPE] = A_U32,
        [NFTA_PAYLOAD_DREG] = A_U32,
        [NFTA_PAYLOAD_LEN] = A_U32,
        [NFTA_PAYLOAD_OFFSET] = A_U32,
        [NFTA_PAYLOAD_SREG] = A_U32,
};
static const uint8_t e_queue[] = {
        [NFTA_QUEUE_FLAGS] = A_U16,
        [NFTA_QUEUE_NUM] = A_U16,
        [NFTA_QUEUE_SREG_QNUM] = A_U32,
        [NFTA_QUEUE_TOTAL] = A_U16,
};
static const uint8_t e_quota[] = {
        [NFTA_QUOTA_BYTES] = A_U64,
        [NFTA_QUOTA_CONSUMED] = A_U64,
        [NFTA_QUOTA_FLAGS] = A_U32,
};
static const uint8_t e_range[] = {
        [NFTA_RANGE_FROM_DATA] = A_BINARY,
        [NFTA_RANGE_OP] = A_U32,
        [NFTA_RANGE_SREG] = A_U32,
        [NFTA_RANGE_TO_DATA] = A_BINARY,
};
static const uint8_t e_redir[] = {
        [NFTA_REDIR_FLAGS] = A_U32,
        [NFTA_REDIR_REG_PROTO_MAX] = A_U32,
        [NFTA_REDIR_REG_PROTO_MIN] = A_U32,
};
static const uint8_t e_reject[] = {
        [NFTA_REJECT_ICMP_CODE] = A_U8,
        [NFTA_REJECT_TYPE] = A_U32,
};
static const uint8_t e_rt[] = {
        [NFTA_RT_DREG] = A_U32,
        [NFTA_RT_KEY] = A_U32,
};
static const uint8_t e_socket[] = {
        [NFTA_SOCKET_DREG] = A_U32,
        [NFTA_SOCKET_KEY] = A_U32,
        [NFTA_SOCKET_LEVEL] = A_U32,
};
static const uint8_t e_synproxy[] = {
        [NFTNL_EXPR_SYNPROXY_FLAGS] = A_U32,
        [NFTNL_EXPR_SYNPROXY_MSS] = A_U16,
        [NFTNL_EXPR_SYNPROXY_WSCALE] = A_U8,
};
static const uint8_t e_target[] = {
        [NFTA_TARGET_INFO] = A_BINARY,
        [NFTA_TARGET_NAME] = A_NUL_STRING,
        [NFTA_TARGET_REV] = A_U32,
};
static const uint8_t e_tproxy[] = {
        [NFTA_TPROXY_FAMILY] = A_U32,
        [NFTA_TPROXY_REG_ADDR] = A_U32,
        [NFTA_TPROXY_REG_PORT] = A_U32,
};
static const uint8_t e_tunnel[] = {
        [NFTA_TUNNEL_DREG] = A_U32,
        [NFTA_TUNNEL_KEY] = A_U32,
};
static const uint8_t e_xfrm[] = {
        [NFTA_XFRM_DIR] = A_U8,
        [NFTA_XFRM_DREG] = A_U32,
        [NFTA_XFRM_KEY] = A_U32,
        [NFTA_XFRM_SPNUM] = A_U32,
};
static const ExprPolicy expr_policies[] = {
        { "bitwise", e_bitwise, ELEMENTSOF(e_bitwise) },
        { "byteorder", e_byteorder, ELEMENTSOF(e_byteorder) },
        { "cmp", e_cmp, ELEMENTSOF(e_cmp) },
        { "connlimit", e_connlimit, ELEMENTSOF(e_connlimit) },
        { "counter", e_counter, ELEMENTSOF(e_counter) },
        { "ct", e_ct, ELEMENTSOF(e_ct) },
        { "dup", e_dup, ELEMENTSOF(e_dup) },
        { "dynset", e_dynset, ELEMENTSOF(e_dynset) },
        { "exthdr", e_exthdr, ELEMENTSOF(e_exthdr) },
        { "fib", e_fib, ELEMENTSOF(e_fib) },
        { "flow_offload", e_flow_offload, ELEMENTSOF(e_flow_offload) },
        { "fwd", e_fwd, ELEMENTSOF(e_fwd) },
        { "hash", e_hash, ELEMENTSOF(e_hash) },
        { "immediate", e_immediate, ELEMENTSOF(e_immediate) },
        { "last", e_last, ELEMENTSOF(e_last) },
        { "limit", e_limit, ELEMENTSOF(e_limit) },
        { "log", e_log, ELEMENTSOF(e_log) },
        { "lookup", e_lookup, ELEMENTSOF(e_lookup) },
        { "masq", e_masq, ELEMENTSOF(e_masq) },
        { "match", e_match, ELEMENTSOF(e_match) },
        { "meta", e_meta, ELEMENTSOF(e_meta) },
        { "nat", e_nat, ELEMENTSOF(e_nat) },
        { "numgen", e_numgen, ELEMENTSOF(e_numgen) },
        { "objref", e_objref, ELEMENTSOF(e_objref) },
        { "osf", e_osf, ELEMENTSOF(e_osf) },
        { "payload", e_payload, ELEMENTSOF(e_payload) },
        { "queue", e_queue, ELEMENTSOF(e_queue) },
        { "quota", e_quota, ELEMENTSOF(e_quota) },
        { "range", e_range, ELEMENTSOF(e_range) },
        { "redir", e_redir, ELEMENTSOF(e_redir) },
        { "reject", e_reject, ELEMENTSOF(e_reject) },
        { "rt", e_rt, ELEMENTSOF(e_rt) },
        { "socket", e_socket, ELEMENTSOF(e_socket) },
        { "synproxy", e_synproxy, ELEMENTSOF(e_synproxy) },
        { "target", e_target, ELEMENTSOF(e_target) },
        { "tproxy", e_tproxy, ELEMENTSOF(e_tproxy) },
        { "tunnel", e_tunnel, ELEMENTSOF(e_tunnel) },
        { "xfrm", e_xfrm, ELEMENTSOF(e_xfrm) },
};

static const uint8_t p_field[] = {
        [NFTA_SET_FIELD_LEN] = A_U32,
};

typedef enum Level {
        LV_NONE,
        LV_TABLE,
        LV_CHAIN,
        LV_HOOK,
        LV_DEVICES,              /* list of NFTA_DEVICE_NAME */
        LV_COUNTERS,
        LV_SET,
        LV_SET_DESC,
        LV_CONCAT,               /* list of fields */
        LV_FIELD,
        LV_ELEM_LIST,
        LV_ELEMS,                /* list of elements */
        LV_ELEM,
        LV_RULE,
        LV_COMPAT,
        LV_EXPRS,                /* list of expressions */
        LV_EXPR,
        LV_EXPR_DATA,            /* the attributes of one kind */
        LV_DATA,
        LV_VERDICT,
        LV_GEN,
} Level;

static const struct {
        const uint8_t *types;
        size_t n;
} policies[] = {
        [LV_TABLE] = { p_table, ELEMENTSOF(p_table) },
        [LV_CHAIN] = { p_chain, ELEMENTSOF(p_chain) },
        [LV_HOOK] = { p_hook, ELEMENTSOF(p_hook) },
        [LV_COUNTERS] = { p_counters, ELEMENTSOF(p_counters) },
        [LV_SET] = { p_set, ELEMENTSOF(p_set) },
        [LV_SET_DESC] = { p_set_desc, ELEMENTSOF(p_set_desc) },
        [LV_FIELD] = { p_field, ELEMENTSOF(p_field) },
        [LV_ELEM_LIST] = { p_elem_list, ELEMENTSOF(p_elem_list) },
        [LV_ELEM] = { p_elem, ELEMENTSOF(p_elem) },
        [LV_RULE] = { p_rule, ELEMENTSOF(p_rule) },
        [LV_COMPAT] = { p_compat, ELEMENTSOF(p_compat) },
        [LV_EXPR] = { p_expr, ELEMENTSOF(p_expr) },
        [LV_DATA] = { p_data, ELEMENTSOF(p_data) },
        [LV_VERDICT] = { p_verdict, ELEMENTSOF(p_verdict) },
        [LV_GEN] = { p_gen, ELEMENTSOF(p_gen) },
};

static const ExprPolicy *expr_policy(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(expr_policies); i++)
                if (streq(expr_policies[i].name, name))
                        return &expr_policies[i];
        return NULL;
}

/* What an attribute of the level holds, where libnftnl descends into it. */
static Level child_level(Level level, const ExprPolicy *e, uint16_t type) {
        switch (level) {
        case LV_CHAIN:
                return type == NFTA_CHAIN_HOOK ? LV_HOOK : type == NFTA_CHAIN_COUNTERS ? LV_COUNTERS : LV_NONE;
        case LV_HOOK:
                return type == NFTA_HOOK_DEVS ? LV_DEVICES : LV_NONE;
        case LV_SET:
                return type == NFTA_SET_DESC ? LV_SET_DESC : type == NFTA_SET_EXPR ? LV_EXPR :
                        type == NFTA_SET_EXPRESSIONS ? LV_EXPRS : LV_NONE;
        case LV_SET_DESC:
                return type == NFTA_SET_DESC_CONCAT ? LV_CONCAT : LV_NONE;
        case LV_CONCAT:
                return LV_FIELD;
        case LV_ELEM_LIST:
                return type == NFTA_SET_ELEM_LIST_ELEMENTS ? LV_ELEMS : LV_NONE;
        case LV_ELEMS:
                return LV_ELEM;
        case LV_ELEM:
                if (type == NFTA_SET_ELEM_KEY || type == NFTA_SET_ELEM_KEY_END || type == NFTA_SET_ELEM_DATA)
                        return LV_DATA;
                return type == NFTA_SET_ELEM_EXPR ? LV_EXPR : type == NFTA_SET_ELEM_EXPRESSIONS ? LV_EXPRS : LV_NONE;
        case LV_RULE:
                return type == NFTA_RULE_COMPAT ? LV_COMPAT : type == NFTA_RULE_EXPRESSIONS ? LV_EXPRS : LV_NONE;
        case LV_EXPRS:
                return LV_EXPR;
        case LV_DATA:
                return type == NFTA_DATA_VERDICT ? LV_VERDICT : LV_NONE;
        case LV_EXPR_DATA:
                if (streq(e->name, "cmp"))
                        return type == NFTA_CMP_DATA ? LV_DATA : LV_NONE;
                if (streq(e->name, "bitwise"))
                        return type == NFTA_BITWISE_MASK || type == NFTA_BITWISE_XOR || type == NFTA_BITWISE_DATA ?
                                LV_DATA : LV_NONE;
                if (streq(e->name, "immediate"))
                        return type == NFTA_IMMEDIATE_DATA ? LV_DATA : LV_NONE;
                if (streq(e->name, "range"))
                        return type == NFTA_RANGE_FROM_DATA || type == NFTA_RANGE_TO_DATA ? LV_DATA : LV_NONE;
                if (streq(e->name, "dynset"))
                        return type == NFTA_DYNSET_EXPR ? LV_EXPR : type == NFTA_DYNSET_EXPRESSIONS ? LV_EXPRS : LV_NONE;
                return LV_NONE;
        default:
                return LV_NONE;
        }
}

static bool leaf_ok(uint8_t type, const uint8_t *v, size_t len) {
        switch (type) {
        /* libmnl wants integers of their size exactly */
        case A_U8:
                return len == 1;
        case A_U16:
                return len == 2;
        case A_U32:
                return len == 4;
        case A_U64:
                return len == 8;
        case A_STRING:
                /* libnftnl wants it not empty, and strdup()s it */
                return len > 0 && memchr(v, 0, len);
        case A_NUL_STRING:
                return len > 0 && v[len - 1] == '\0';
        case A_NESTED:
                return len == 0 || len >= NLA_HDRLEN;
        default:
                return true;
        }
}

/* The attributes of an expression named by NFTA_EXPR_NAME (the last, as
 * libnftnl takes it): its name, then its data with the kind's types. */
static bool attrs_ok(Level level, const ExprPolicy *e, const uint8_t *p, size_t len, unsigned depth);

static bool expr_ok(const uint8_t *p, size_t len, unsigned depth) {
        const ExprPolicy *e = NULL;
        bool named = false;
        size_t off = 0;

        if (depth > EXPR_DEPTH_MAX || !attrs_ok(LV_EXPR, NULL, p, len, depth))
                return false;
        /* attrs_ok() checked that the name ends inside its attribute */
        while (len - off >= NLA_HDRLEN) {
                const struct nlattr *a = (const struct nlattr *) (p + off);

                if (a->nla_len < NLA_HDRLEN || a->nla_len > len - off)
                        break;
                if ((a->nla_type & NLA_TYPE_MASK) == NFTA_EXPR_NAME) {
                        e = expr_policy((const char *) a + NLA_HDRLEN);
                        named = true;
                }
                if ((size_t) NLA_ALIGN(a->nla_len) >= len - off)
                        break;
                off += NLA_ALIGN(a->nla_len);
        }
        if (!named)
                return false;           /* libnftnl looks the kind up by a NULL name */
        if (!e)
                return true;            /* a kind libnftnl does not know: it refuses the message */
        for (off = 0; len - off >= NLA_HDRLEN;) {
                const struct nlattr *a = (const struct nlattr *) (p + off);

                if (a->nla_len < NLA_HDRLEN || a->nla_len > len - off)
                        break;
                if ((a->nla_type & NLA_TYPE_MASK) == NFTA_EXPR_DATA &&
                    !attrs_ok(LV_EXPR_DATA, e, p + off + NLA_HDRLEN, a->nla_len - NLA_HDRLEN, depth))
                        return false;
                if ((size_t) NLA_ALIGN(a->nla_len) >= len - off)
                        break;
                off += NLA_ALIGN(a->nla_len);
        }
        return true;
}

/* libnftnl reads a verdict into a table it does not clear: the code must
 * be there, and the chain of a jump or goto. */
static bool verdict_ok(const uint8_t *p, size_t len) {
        bool has_code = false, has_chain = false;
        uint32_t code = 0;

        for (size_t off = 0; len - off >= NLA_HDRLEN;) {
                const struct nlattr *a = (const struct nlattr *) (p + off);
                uint16_t type = a->nla_type & NLA_TYPE_MASK;

                if (a->nla_len < NLA_HDRLEN || a->nla_len > len - off)
                        break;
                if (type == NFTA_VERDICT_CODE && a->nla_len == NLA_HDRLEN + sizeof code) {
                        memcpy(&code, p + off + NLA_HDRLEN, sizeof code);
                        has_code = true;
                } else if (type == NFTA_VERDICT_CHAIN)
                        has_chain = true;
                if ((size_t) NLA_ALIGN(a->nla_len) >= len - off)
                        break;
                off += NLA_ALIGN(a->nla_len);
        }
        code = ntohl(code);
        return has_code && (has_chain || ((int32_t) code != NFT_JUMP && (int32_t) code != NFT_GOTO));
}

static bool attrs_ok(Level level, const ExprPolicy *e, const uint8_t *p, size_t len, unsigned depth) {
        const uint8_t *types = level == LV_EXPR_DATA ? e->types : policies[level].types;
        size_t n = level == LV_EXPR_DATA ? e->n : policies[level].n;

        for (size_t off = 0; len - off >= NLA_HDRLEN;) {
                const struct nlattr *a = (const struct nlattr *) (p + off);
                uint16_t type = a->nla_type & NLA_TYPE_MASK;
                const uint8_t *v = p + off + NLA_HDRLEN;
                size_t vlen;
                Level child;

                /* where libmnl stops walking */
                if (a->nla_len < NLA_HDRLEN || a->nla_len > len - off)
                        break;
                vlen = a->nla_len - NLA_HDRLEN;
                /* libnftnl takes an element's attributes up to NFTA_SET_MAX
                 * into a table of NFTA_SET_ELEM_MAX + 1: past it, on the stack */
                if (level == LV_ELEM && type > NFTA_SET_ELEM_MAX && type <= NFTA_SET_MAX)
                        return false;
                if (level == LV_DEVICES) {
                        if (!leaf_ok(A_STRING, v, vlen))
                                return false;
                } else if (types && type < n && !leaf_ok(types[type], v, vlen))
                        return false;
                child = child_level(level, e, type);
                if (child == LV_EXPR) {
                        if (!expr_ok(v, vlen, depth + 1))
                                return false;
                } else if (child != LV_NONE && !attrs_ok(child, NULL, v, vlen, depth))
                        return false;
                if (child == LV_VERDICT && !verdict_ok(v, vlen))
                        return false;
                if ((size_t) NLA_ALIGN(a->nla_len) >= len - off)
                        break;
                off += NLA_ALIGN(a->nla_len);
        }
        return true;
}

int nft_msg_check(const struct nlmsghdr *nlh, uint16_t type) {
        static const Level levels[] = {
                [NFT_MSG_NEWTABLE] = LV_TABLE,
                [NFT_MSG_NEWCHAIN] = LV_CHAIN,
                [NFT_MSG_NEWSET] = LV_SET,
                [NFT_MSG_NEWSETELEM] = LV_ELEM_LIST,
                [NFT_MSG_NEWRULE] = LV_RULE,
                [NFT_MSG_NEWGEN] = LV_GEN,
        };
        size_t head = NLMSG_LENGTH(sizeof(struct nfgenmsg));

        if (type >= ELEMENTSOF(levels) || levels[type] == LV_NONE)
                return -EINVAL;
        /* libnftnl reads the nfgenmsg of every message, and libmnl walks
         * the attributes to the message's aligned end: the kernel's
         * nftables messages end there */
        if (nlh->nlmsg_len < head || NLMSG_ALIGN(nlh->nlmsg_len) != nlh->nlmsg_len)
                return -EBADMSG;
        if (!attrs_ok(levels[type], NULL, (const uint8_t *) nlh + NLMSG_ALIGN(head),
                      nlh->nlmsg_len - MIN((size_t) nlh->nlmsg_len, (size_t) NLMSG_ALIGN(head)), 0))
                return -EBADMSG;
        return 0;
}
