/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the files of the nftables library share: the model's structures,
 * the expression representation, the plan. Not for callers. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nft.h"

struct nftnl_expr;
struct nftnl_rule;

/* ---- expressions ------------------------------------------------------------ */

/* The kernel's expressions the builders emit (and the dump decodes); one
 * NftExpr is one expression of the rule's bytecode. */
typedef enum ExprKind {
        EXPR_META,
        EXPR_PAYLOAD,
        EXPR_CMP,
        EXPR_BITWISE,
        EXPR_RANGE,
        EXPR_LOOKUP,
        EXPR_CT,
        EXPR_COUNTER,
        EXPR_LIMIT,
        EXPR_LOG,
        EXPR_IMMEDIATE,
        EXPR_REJECT,
        EXPR_MASQ,
        EXPR_NAT,
        EXPR_RT,
        EXPR_BYTEORDER,
        EXPR_EXTHDR,
        _EXPR_KIND_MAX,
        EXPR_OTHER = _EXPR_KIND_MAX,    /* dumped, of a kind not modelled: str is its name */
} ExprKind;

#define EXPR_FIELDS_MAX 8
/* The kernel's limit of expressions in a rule. */
#define RULE_MAX_EXPRS 128
#define EXPR_DATA_MAX 16

/* Field i of the kind's descriptor (nft-expr.c) is set when bit i of
 * present is: integers in num[i], data in data[slot], the string in str. */
typedef struct NftExpr {
        ExprKind kind;
        uint32_t present;
        uint64_t num[EXPR_FIELDS_MAX];
        uint8_t data[2][EXPR_DATA_MAX];
        uint8_t data_len[2];
        char *str;
} NftExpr;

/* Field indexes, per kind, in descriptor order. */
enum { META_KEY, META_DREG };
enum { PAYLOAD_DREG, PAYLOAD_BASE, PAYLOAD_OFFSET, PAYLOAD_LEN };
enum { CMP_SREG, CMP_OP, CMP_DATA };
enum { BITWISE_SREG, BITWISE_DREG, BITWISE_LEN, BITWISE_MASK, BITWISE_XOR };
enum { RANGE_SREG, RANGE_OP, RANGE_FROM, RANGE_TO };
enum { LOOKUP_SREG, LOOKUP_SET, LOOKUP_FLAGS };
enum { CT_DREG, CT_KEY, CT_DIR };
enum { COUNTER_PACKETS, COUNTER_BYTES };
enum { LIMIT_RATE, LIMIT_UNIT, LIMIT_BURST, LIMIT_TYPE, LIMIT_FLAGS };
enum { LOG_PREFIX, LOG_LEVEL };
enum { IMM_DREG, IMM_DATA, IMM_VERDICT, IMM_CHAIN };
enum { REJECT_TYPE, REJECT_CODE };
enum { MASQ_FLAGS, MASQ_PROTO_MIN, MASQ_PROTO_MAX };
enum { NAT_TYPE, NAT_FAMILY, NAT_ADDR_MIN, NAT_ADDR_MAX, NAT_PROTO_MIN, NAT_PROTO_MAX, NAT_FLAGS };
enum { RT_KEY, RT_DREG };
enum { BYTEORDER_DREG, BYTEORDER_SREG, BYTEORDER_OP, BYTEORDER_LEN, BYTEORDER_SIZE };
enum { EXTHDR_DREG, EXTHDR_TYPE, EXTHDR_OFFSET, EXTHDR_LEN, EXTHDR_FLAGS, EXTHDR_OP, EXTHDR_SREG };

void expr_done(NftExpr *e);
int expr_copy(NftExpr *dst, const NftExpr *src);
void expr_set_num(NftExpr *e, unsigned field, uint64_t v);
void expr_set_data(NftExpr *e, unsigned field, const void *data, size_t len);
int expr_set_str(NftExpr *e, unsigned field, const char *s);
bool expr_has(const NftExpr *e, unsigned field);
const char *expr_kind_name(ExprKind k);

/* To libnftnl and back. */
int expr_to_nftnl(const NftExpr *e, struct nftnl_expr **ret);
int expr_from_nftnl(const struct nftnl_expr *ne, NftExpr *ret);
/* What identifies an expression (counters' values are not part of it),
 * appended to buf. */
int expr_serialize(const NftExpr *e, uint8_t **buf, size_t *len, size_t *allocated);
/* "[ meta load iifname => reg 1 ]" style text, appended. */
struct StrBuf;
void expr_format(const NftExpr *e, struct StrBuf *b);

/* ---- the model ----------------------------------------------------------- */

#define NFT_DIGEST_SIZE 16
#define NFT_DIGEST_HEX (2 * NFT_DIGEST_SIZE + 1)

/* Rule userdata: nft's comment, and the library's own records, of types
 * nft ignores. */
enum {
        UDATA_RULE_COMMENT = 0,         /* NFTNL_UDATA_RULE_COMMENT */
        UDATA_RULE_NAME = 0xd0,
        UDATA_RULE_DIGEST = 0xd1,
};

struct NftRule {
        NftChain *chain;
        NftExpr *exprs;
        size_t n_exprs, allocated;
        char *name;
        uint64_t name_hash;             /* hash64() of name: compared first when names are */
        char *comment;
        uint64_t handle;                /* dumped rules */
        bool has_digest;                /* digest[] is current */
        uint8_t digest[NFT_DIGEST_SIZE];
        char digest_hex[NFT_DIGEST_HEX];
        bool has_identity;              /* dumped rules: the userdata's digest */
        uint8_t identity[NFT_DIGEST_SIZE];
        char identity_hex[NFT_DIGEST_HEX];
        /* building: the protocols the rule has matched so far (0: none) */
        uint8_t ctx_nfproto;
        uint8_t ctx_l4proto;
};

struct NftChain {
        NftTable *table;
        char *name;
        bool base;
        char *type;
        uint32_t hooknum;               /* the kernel's hook number */
        int32_t priority;
        NftPolicy policy;
        char *device;
        uint64_t handle;
        NftRule **rules;
        size_t n_rules, allocated;
};

/* An element of the model: [lo, hi] (lo == hi for a single key). */
typedef struct NftElem {
        uint8_t lo[EXPR_DATA_MAX];
        uint8_t hi[EXPR_DATA_MAX];
} NftElem;

/* An element as the kernel holds it. Interval sets hold a start element
 * per range and an end element (flag NFT_SET_ELEM_INTERVAL_END) at the
 * first key after it. */
typedef struct KElem {
        uint8_t key[EXPR_DATA_MAX];
        uint32_t flags;
} KElem;

struct NftSet {
        NftTable *table;
        char *name;
        NftKeyType key;
        uint32_t key_type_id;           /* the kernel's data type */
        uint32_t key_len;
        uint32_t kflags;                /* the kernel's NFT_SET_* flags */
        uint64_t handle;
        NftElem *elems;
        size_t n_elems, allocated;
        bool checked;                   /* elems sorted, no duplicates or overlaps */
        KElem *kelems;                  /* dumped: the kernel's elements, sorted */
        size_t n_kelems, allocated_kelems;
        bool dumped;
};

struct NftTable {
        NftRuleset *ruleset;
        int family;
        char *name;
        bool present;
        uint32_t flags;
        uint64_t handle;
        NftChain **chains;
        size_t n_chains, allocated_chains;
        NftSet **sets;
        size_t n_sets, allocated_sets;
};

struct NftRuleset {
        NftTable **tables;
        size_t n_tables, allocated;
        bool has_genid;                 /* dumped: the generation it was read at */
        uint32_t genid;
};

/* Key types: the kernel's data type, length, and the byte order nft
 * records in the set's userdata. */
typedef struct KeyTypeInfo {
        const char *name;
        uint32_t type_id;
        uint32_t len;
        uint32_t byteorder;             /* 0 none, 1 host, 2 big endian */
        bool interval;                  /* ranges make sense (big-endian values) */
} KeyTypeInfo;

const KeyTypeInfo *key_type_info(NftKeyType k);
NftKeyType key_type_by_id(uint32_t type_id, uint32_t len);

/* Model helpers. */
int name_check(const char *name);
int table_new(NftRuleset *rs, int family, const char *name, bool present, NftTable **ret);
int chain_new(NftTable *t, const char *name, NftChain **ret);
int set_new(NftTable *t, const char *name, NftSet **ret);
int rule_new(NftChain *c, NftRule **ret);
int rule_append_expr(NftRule *r, NftExpr *e);   /* takes over e's string */
int rule_insert_expr(NftRule *r, size_t at, NftExpr *e);
int rule_compute_digest(NftRule *r);
uint32_t hook_to_kernel(int family, NftHook h);
NftHook hook_from_kernel(int family, uint32_t hooknum);

/* A value in text form, parsed (nft-value.c). */
typedef struct Value {
        uint8_t lo[EXPR_DATA_MAX];
        uint8_t hi[EXPR_DATA_MAX];      /* range: the last value */
        unsigned len;                   /* bytes of lo (and hi) */
        int prefix;                     /* address with a prefix length, else -1 */
        bool range;                     /* lo-hi, or a prefix shorter than the address */
} Value;

int value_parse(NftKeyType k, const char *text, Value *ret);

/* Element handling (nft-value.c). */
int value_parse_key(NftKeyType k, const char *text, uint8_t *lo, uint8_t *hi, bool *ret_range);
int value_format_key(NftKeyType k, uint32_t len, const uint8_t *lo, const uint8_t *hi, char **ret);
int set_check_elements(NftSet *s, NftError *reterr);
int set_kernel_elements(const NftSet *s, KElem **ret, size_t *ret_n);
int set_elements_from_kernel(NftSet *s);
int kelem_compare(const void *a, const void *b, void *len);
int interval_diff(const NftSet *want, const NftSet *have, KElem **ret_add, size_t *ret_nadd,
                  KElem **ret_del, size_t *ret_ndel);

/* Parse helpers shared by the builders. */
int parse_ipv4(const char *s, uint8_t out[4]);
int parse_ipv6(const char *s, uint8_t out[16]);
int parse_uint(const char *s, uint64_t max, uint64_t *ret);

/* Userdata of a rule. */
int rule_udata_build(NftRule *r, void **ret, size_t *ret_len);
int rule_udata_parse(NftRule *r, const void *data, size_t len);

/* Error helpers. */
int error_set(NftError *e, int error, char *object, const char *detail_fmt, ...) _printf_(4, 5);
char *describe_table(const NftTable *t);
char *describe_chain(const NftChain *c);
char *describe_set(const NftSet *s);
char *describe_rule(const NftRule *r);

/* ---- plan ---------------------------------------------------------------- */

typedef struct NftOp {
        NftOpType type;
        NftObjKind kind;
        const NftTable *table;          /* adds: desired; deletes: live */
        const NftChain *chain;
        const NftSet *set;
        const NftRule *rule;            /* adds, replaces: desired; deletes: live */
        uint64_t handle;                /* rule delete/replace: the live rule; add: insert
                                         * before this rule (0: append) */
        KElem *elems;                   /* elements ops (owned) */
        size_t n_elems;
} NftOp;

char *describe_op_object(const NftOp *op);

struct NftPlan {
        NftOp *ops;
        size_t n_ops, allocated;
        bool has_genid;
        uint32_t genid;
};

/* The batch of a plan (nft-batch.c): message i has sequence number
 * first + i and belongs to operation op_of[i] (for elements, to its
 * chunk chunk_of[i]); errors[i] is the kernel's answer to it. */
#include "nft-netlink.h"

typedef struct Batch {
        NftBuf buf;
        uint32_t begin_seq, first;
        size_t n;
        size_t *op_of;
        size_t *chunk_of;
        int *errors;
} Batch;

size_t plan_messages(const NftPlan *p);
int batch_build(const NftPlan *p, uint32_t begin_seq, Batch *b);
void batch_done(Batch *b);
/* The first failed message of b, as an error naming its object. */
int batch_failure(const NftPlan *p, const Batch *b, NftError *e);

/* The request of a get or a dump (nft-dump.c). */
int dump_request_build(NftBuf *b, uint16_t type, int family, const char *table, const char *set, uint32_t seq);

/* The parsers of a dump's answers (nft-dump.c), exposed for the fuzz target
 * (tests/fuzz/fuzz-nft-dump.c). Each is called with every data message of
 * the answer to its request, as nft_nl_request() hands them over (whole
 * messages; errors, NLMSG_DONE and no-ops are not passed), and a Reading:
 * table is the table being read (present, family and name set; the
 * messages of other tables are skipped, and a rule's chain must already be
 * among its chains), set the set whose elements are read (with the key
 * type, length and kernel flags of the set's dump). After the answer's
 * last message, done (where not NULL) makes the model of what was read. */
typedef struct Reading {
        NftTable *table;
        NftSet *set;
} Reading;

typedef enum NftDumpParserKind {
        NFT_DUMP_TABLE,
        NFT_DUMP_CHAIN,
        NFT_DUMP_SET,
        NFT_DUMP_ELEMENTS,
        NFT_DUMP_RULE,
        _NFT_DUMP_MAX,
} NftDumpParserKind;

typedef struct NftDumpParser {
        const char *name;
        uint16_t request;               /* NFT_MSG_GET* */
        NftNlHandler parse;             /* userdata: a Reading */
        bool needs_set;                 /* Reading.set must be set */
        int (*done)(NftSet *set);
} NftDumpParser;

extern const NftDumpParser nft_dump_parsers[_NFT_DUMP_MAX];

/* Checks a message of type NFT_MSG_NEW{TABLE,CHAIN,SET,SETELEM,RULE,GEN}
 * before libnftnl parses it (nft-check.c): -EBADMSG for one it would end
 * the process on (an attribute shorter than its type) or read past (a
 * string without its NUL). */
int nft_msg_check(const struct nlmsghdr *nlh, uint16_t type);

/* A context's netlink socket, for dumps and batches. */
struct NftNl;
struct NftNl *context_netlink(NftContext *ctx);
