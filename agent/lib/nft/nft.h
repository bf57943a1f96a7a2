/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* nftables over netlink (libnftnl): a declarative model of the caller's
 * own tables, a diff against what the kernel holds, and one transaction
 * that turns the one into the other.
 *
 *   model     NftRuleset > NftTable > NftChain (base or regular) > NftRule,
 *             and NftTable > NftSet (typed keys, elements, ranges). Rules
 *             are built from small builder functions that emit the same
 *             bytecode `nft` emits for the same text.
 *   dump      nft_dump() reads the tables a ruleset names back into the
 *             same model (chains, sets with elements, rules with handles,
 *             identities and counters). No other table is read.
 *   plan      nft_plan_new() compares a desired and a live ruleset: a list
 *             of operations on tables, chains, sets, set elements and rules.
 *             Unchanged rules are not touched, sets change element by
 *             element.
 *   apply     nft_apply() sends a plan as ONE nfnetlink batch: the kernel
 *             applies all of it or nothing. A failure names the object the
 *             kernel refused and its errno.
 *   monitor   an fd that becomes readable on nftables changes, and a
 *             function that says whether one of the caller's tables was
 *             changed by someone else.
 *
 * Ownership: the caller names its tables. Every table a desired ruleset
 * holds (nft_table_add) or disowns (nft_table_add_absent) is the caller's,
 * whole: what the kernel has in it and the model lacks is deleted. Tables
 * the ruleset does not name are never dumped, changed or flushed.
 *
 * Rule identity: every rule carries in its userdata the SHA-256 digest
 * (128 bits) of its family, table, chain, expressions and comment, and,
 * if the caller gave one, its name. A live rule with the identity of a
 * desired rule is that rule: it is left alone (its counters go on
 * counting). A named rule whose digest changed is replaced; an unnamed
 * rule that changed is a new rule (added where it belongs) and the old one
 * is deleted.
 *
 * Every function returns a negative errno on failure and never logs. The
 * netlink socket belongs to the network namespace of the thread that
 * created the context; CAP_NET_ADMIN is needed for dumps and changes.
 * Functions on one context or monitor must not run concurrently. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- names and constants ----------------------------------------------- */

/* Families are the kernel's NFPROTO_* numbers. */
enum {
        NFT_FAMILY_INET = 1,
        NFT_FAMILY_IPV4 = 2,
        NFT_FAMILY_ARP = 3,
        NFT_FAMILY_NETDEV = 5,
        NFT_FAMILY_BRIDGE = 7,
        NFT_FAMILY_IPV6 = 10,
};

/* "inet", "ip", "ip6", "arp", "bridge", "netdev"; NULL if unknown. */
const char *nft_family_to_string(int family);
/* -EINVAL if unknown. */
int nft_family_from_string(const char *s);

/* Longest table, chain, set and rule name the library accepts, in bytes
 * (the kernel takes up to 255). */
#define NFT_NAME_MAX 64
/* Longest rule comment and log prefix, in bytes. */
#define NFT_COMMENT_MAX 127

typedef enum NftHook {
        NFT_HOOK_PREROUTING,
        NFT_HOOK_INPUT,
        NFT_HOOK_FORWARD,
        NFT_HOOK_OUTPUT,
        NFT_HOOK_POSTROUTING,
        NFT_HOOK_INGRESS,               /* netdev family, with a device */
        _NFT_HOOK_MAX,
        _NFT_HOOK_INVALID = -EINVAL,
} NftHook;

const char *nft_hook_to_string(NftHook h);
NftHook nft_hook_from_string(const char *s);

typedef enum NftPolicy {
        NFT_POLICY_ACCEPT,
        NFT_POLICY_DROP,
} NftPolicy;

/* A base chain: where packets enter. */
typedef struct NftChainSpec {
        const char *type;               /* "filter", "nat" or "route" */
        NftHook hook;
        int32_t priority;               /* e.g. 0 filter, -100 dstnat, 100 srcnat */
        NftPolicy policy;
        const char *device;             /* netdev ingress: the interface; else NULL */
} NftChainSpec;

/* Set key types (the kernel's data type numbers, as nft names them). */
typedef enum NftKeyType {
        NFT_KEY_IPV4_ADDR,              /* ipv4_addr: 10.0.0.1, 10.0.0.0/8, 10.0.0.1-10.0.0.9 */
        NFT_KEY_IPV6_ADDR,              /* ipv6_addr: fd00::1, fd00::/64, fd00::1-fd00::9 */
        NFT_KEY_INET_SERVICE,           /* inet_service: 22, 1000-2000 */
        NFT_KEY_INET_PROTO,             /* inet_proto: 6, tcp, udp, icmp, icmpv6 */
        NFT_KEY_MARK,                   /* mark: 0x10, 16 */
        NFT_KEY_IFNAME,                 /* ifname: lan1 */
        NFT_KEY_ETHER_ADDR,             /* ether_addr: 02:00:00:00:00:01 */
        _NFT_KEY_MAX,
        NFT_KEY_OTHER = _NFT_KEY_MAX,   /* a dumped set of a type the library does not model */
        _NFT_KEY_INVALID = -EINVAL,
} NftKeyType;

const char *nft_key_type_to_string(NftKeyType k);
NftKeyType nft_key_type_from_string(const char *s);

/* Set flags. */
enum {
        NFT_SETFLAG_INTERVAL = 1 << 0,  /* ranges and prefixes (address and port keys) */
        NFT_SETFLAG_CONSTANT = 1 << 1,  /* elements fixed: a change recreates the set */
};

/* What a match compares. Address fields take an address, a prefix
 * ("10.0.0.0/8") or a range ("10.0.0.1-10.0.0.9"); port fields a port or a
 * range ("1000-2000"); ifname fields a name, or a prefix with a trailing
 * '*' ("wg*"); the others a number (l4proto and nfproto also take tcp,
 * udp, icmp, icmpv6, ipv4, ipv6; icmp types their nft names such as
 * echo-request). The protocol a field needs is matched first unless the
 * rule already does (meta nfproto in inet tables, meta l4proto), as nft
 * does. */
typedef enum NftField {
        NFT_FIELD_IIFNAME,              /* meta iifname */
        NFT_FIELD_OIFNAME,              /* meta oifname */
        NFT_FIELD_IIF,                  /* meta iif (interface index) */
        NFT_FIELD_OIF,                  /* meta oif */
        NFT_FIELD_NFPROTO,              /* meta nfproto */
        NFT_FIELD_L4PROTO,              /* meta l4proto */
        NFT_FIELD_MARK,                 /* meta mark */
        NFT_FIELD_IP_SADDR,
        NFT_FIELD_IP_DADDR,
        NFT_FIELD_IP6_SADDR,
        NFT_FIELD_IP6_DADDR,
        NFT_FIELD_TH_SPORT,             /* transport header, any protocol */
        NFT_FIELD_TH_DPORT,
        NFT_FIELD_TCP_SPORT,
        NFT_FIELD_TCP_DPORT,
        NFT_FIELD_UDP_SPORT,
        NFT_FIELD_UDP_DPORT,
        NFT_FIELD_ICMP_TYPE,
        NFT_FIELD_ICMPV6_TYPE,
        NFT_FIELD_ETHER_SADDR,          /* set lookups only */
        _NFT_FIELD_MAX,
        _NFT_FIELD_INVALID = -EINVAL,
} NftField;

const char *nft_field_to_string(NftField f);     /* "ip saddr", "tcp dport", ... */
NftField nft_field_from_string(const char *s);

/* Connection tracking states and status bits (the kernel's). */
enum {
        NFT_CTSTATE_INVALID = 1 << 0,
        NFT_CTSTATE_ESTABLISHED = 1 << 1,
        NFT_CTSTATE_RELATED = 1 << 2,
        NFT_CTSTATE_NEW = 1 << 3,
        NFT_CTSTATE_UNTRACKED = 1 << 6,
};
enum {
        NFT_CTSTATUS_EXPECTED = 1 << 0,
        NFT_CTSTATUS_SEEN_REPLY = 1 << 1,
        NFT_CTSTATUS_ASSURED = 1 << 2,
        NFT_CTSTATUS_CONFIRMED = 1 << 3,
        NFT_CTSTATUS_SNAT = 1 << 4,
        NFT_CTSTATUS_DNAT = 1 << 5,
        NFT_CTSTATUS_DYING = 1 << 9,
};

typedef enum NftVerdict {
        NFT_VERDICT_ACCEPT,
        NFT_VERDICT_DROP,
        NFT_VERDICT_RETURN,
} NftVerdict;

typedef enum NftRejectWith {
        NFT_REJECTWITH_DEFAULT,         /* port unreachable in the packet's own ICMP */
        NFT_REJECTWITH_TCP_RESET,
        NFT_REJECTWITH_ICMPX,           /* code: 0 no-route, 1 port-, 2 host-unreachable, 3 admin-prohibited */
        NFT_REJECTWITH_ICMP,            /* code: an ICMP destination-unreachable code (IPv4) */
        NFT_REJECTWITH_ICMPV6,          /* code: an ICMPv6 destination-unreachable code */
} NftRejectWith;

typedef enum NftRateUnit {
        NFT_PER_SECOND,
        NFT_PER_MINUTE,
        NFT_PER_HOUR,
        NFT_PER_DAY,
} NftRateUnit;

typedef struct NftLimit {
        uint64_t rate;                  /* packets (or bytes) per unit, > 0 */
        NftRateUnit unit;
        uint32_t burst;                 /* 0: nft's default (5 packets; 0 bytes) */
        bool bytes;                     /* rate counts bytes, not packets */
        bool over;                      /* match when over the rate ("limit rate over") */
} NftLimit;

/* ---- the model ------------------------------------------------------------ */

typedef struct NftRuleset NftRuleset;
typedef struct NftTable NftTable;
typedef struct NftChain NftChain;
typedef struct NftSet NftSet;
typedef struct NftRule NftRule;

int nft_ruleset_new(NftRuleset **ret);
NftRuleset *nft_ruleset_free(NftRuleset *rs);

/* A table of the caller, with its content. -EEXIST if the ruleset names it
 * already, -EINVAL for a bad family or name, -ENAMETOOLONG. */
int nft_table_add(NftRuleset *rs, int family, const char *name, NftTable **ret);
/* A table of the caller that must not exist: applying deletes it. */
int nft_table_add_absent(NftRuleset *rs, int family, const char *name);

/* A chain: a base chain with spec, a regular one (a jump target) with
 * spec NULL. -EEXIST, -EINVAL (bad name, hook not of this family, no
 * device for netdev ingress, a device elsewhere), -ENAMETOOLONG. */
int nft_chain_add(NftTable *t, const char *name, const NftChainSpec *spec, NftChain **ret);

/* A named set. flags: NFT_SETFLAG_*; intervals only for address and port
 * keys (-EOPNOTSUPP otherwise). */
int nft_set_add(NftTable *t, const char *name, NftKeyType key, unsigned flags, NftSet **ret);
/* Adds an element in the text form of the key type; ranges and prefixes
 * need NFT_SETFLAG_INTERVAL. -EINVAL for bad text. Duplicates and
 * overlapping ranges are found when the set is compared (-EEXIST). */
int nft_set_add_element(NftSet *s, const char *value);

/* A rule at the end of the chain. Build it with the functions below, in
 * the order nft would evaluate the same text. */
int nft_rule_add(NftChain *c, NftRule **ret);
/* A name, unique in the chain, that identifies the rule across changes:
 * a named rule whose content changes is replaced in place. Not shown by
 * nft. -EEXIST if another rule of the chain has it. */
int nft_rule_set_name(NftRule *r, const char *name);
/* A comment, shown by nft ("comment \"...\""); part of the digest. */
int nft_rule_set_comment(NftRule *r, const char *comment);

/* Matches. -EINVAL for bad values or a field that contradicts the rule so
 * far (ip6 after ip, udp after tcp), -EOPNOTSUPP for packet fields in
 * tables other than inet, ip and ip6. */
int nft_rule_match(NftRule *r, NftField f, bool negate, const char *value);
/* A lookup in a set of the same table ("ip saddr @blocked", negated:
 * "ip saddr != @blocked"). */
int nft_rule_match_set(NftRule *r, NftField f, bool negate, const char *set);
/* ct state: any of the NFT_CTSTATE_* bits. */
int nft_rule_match_ct_state(NftRule *r, unsigned states);
/* ct status: any of the NFT_CTSTATUS_* bits. */
int nft_rule_match_ct_status(NftRule *r, unsigned status);

/* Statements. */
int nft_rule_counter(NftRule *r);
int nft_rule_limit(NftRule *r, const NftLimit *limit);
/* prefix may be NULL; level 0..7 (syslog), or -1 for the kernel's default. */
int nft_rule_log(NftRule *r, const char *prefix, int level);
int nft_rule_verdict(NftRule *r, NftVerdict v);
/* To a regular chain of the same table. */
int nft_rule_jump(NftRule *r, const char *chain);
int nft_rule_goto(NftRule *r, const char *chain);
/* code: for ICMPX, ICMP and ICMPV6 only. */
int nft_rule_reject(NftRule *r, NftRejectWith with, unsigned code);
int nft_rule_masquerade(NftRule *r);
/* to: "10.0.0.2", "10.0.0.2:80", "fd00::2", "[fd00::2]:22". A port needs a
 * tcp or udp match before. */
int nft_rule_snat(NftRule *r, const char *to);
int nft_rule_dnat(NftRule *r, const char *to);
/* tcp flags syn tcp option maxseg size set rt mtu */
int nft_rule_mss_clamp_pmtu(NftRule *r);

/* ---- reading a model ------------------------------------------------------- */

size_t nft_ruleset_n_tables(const NftRuleset *rs);
NftTable *nft_ruleset_table(const NftRuleset *rs, size_t i);
NftTable *nft_ruleset_find_table(const NftRuleset *rs, int family, const char *name);

int nft_table_family(const NftTable *t);
const char *nft_table_name(const NftTable *t);
/* False for a table added with nft_table_add_absent(). */
bool nft_table_present(const NftTable *t);
size_t nft_table_n_chains(const NftTable *t);
NftChain *nft_table_chain(const NftTable *t, size_t i);
NftChain *nft_table_find_chain(const NftTable *t, const char *name);
size_t nft_table_n_sets(const NftTable *t);
NftSet *nft_table_set(const NftTable *t, size_t i);
NftSet *nft_table_find_set(const NftTable *t, const char *name);

const char *nft_chain_name(const NftChain *c);
/* The spec of a base chain (its strings belong to the chain); -ENODATA
 * for a regular chain. */
int nft_chain_spec(const NftChain *c, NftChainSpec *ret);
size_t nft_chain_n_rules(const NftChain *c);
NftRule *nft_chain_rule(const NftChain *c, size_t i);

const char *nft_set_name(const NftSet *s);
NftKeyType nft_set_key_type(const NftSet *s);
unsigned nft_set_flags(const NftSet *s);
size_t nft_set_n_elements(const NftSet *s);
/* Element i in text form (prefixes where a range is one), sorted once the
 * set was compared or dumped; a new string. */
int nft_set_element_to_string(const NftSet *s, size_t i, char **ret);

/* Dumped rules: the kernel's handle (0 in a desired model). */
uint64_t nft_rule_handle(const NftRule *r);
const char *nft_rule_name(const NftRule *r);
const char *nft_rule_comment(const NftRule *r);
/* 32 hex digits: the digest of the rule as the model holds it. */
const char *nft_rule_digest(NftRule *r);
/* The digest the rule's userdata carries: for a dumped rule, what was
 * written when it was added (NULL if none: not added by this library);
 * for a desired rule, its digest. */
const char *nft_rule_identity(NftRule *r);
/* Sum of the rule's counter statements; -ENODATA if it has none. */
int nft_rule_counters(const NftRule *r, uint64_t *ret_packets, uint64_t *ret_bytes);
/* The rule's expressions as text, one "[ ... ]" each, in the manner of
 * nft --debug=netlink; a new string. */
int nft_rule_to_string(const NftRule *r, char **ret);

/* A copy of desired as a dump of a kernel holding it would read it: rules
 * with handles from 1 on and the identities their userdata carries, sets'
 * elements as the kernel holds them, a generation. For the tests of
 * callers, which plan against it without a kernel. Sorts desired's set
 * elements. */
int nft_ruleset_as_dumped(NftRuleset *desired, NftRuleset **ret);

/* ---- plan ---------------------------------------------------------------- */

typedef enum NftOpType {
        NFT_OP_ADD,
        NFT_OP_DELETE,
        NFT_OP_REPLACE,                 /* a rule, in place */
        NFT_OP_UPDATE,                  /* a base chain's policy */
} NftOpType;

typedef enum NftObjKind {
        NFT_KIND_TABLE,
        NFT_KIND_CHAIN,
        NFT_KIND_SET,
        NFT_KIND_ELEMENTS,              /* elements of one set */
        NFT_KIND_RULE,
} NftObjKind;

/* The object an operation or an error concerns. */
typedef struct NftError {
        int error;                      /* negative errno; 0: none */
        char *object;                   /* "rule inet t input #3 \"ssh\"", ... (owned) */
        char *detail;                   /* what is wrong, or NULL (owned) */
} NftError;

void nft_error_done(NftError *e);

typedef struct NftPlan NftPlan;

/* Compares desired with live (a dump of the tables desired names; NULL:
 * nothing exists). Checks the desired model first: unknown jump targets
 * and sets (-ENOENT), duplicate or overlapping set elements (-EEXIST);
 * reterr (may be NULL) then names the object. Sorts desired's set
 * elements. The plan refers to both rulesets, which must outlive it and
 * not change. An empty plan: nothing to do. */
int nft_plan_new(NftRuleset *desired, const NftRuleset *live, NftPlan **ret, NftError *reterr);
/* The check of desired nft_plan_new() starts with, alone: a desired model
 * it passes is planned against anything (but for memory). Sorts desired's
 * set elements and computes its rules' digests, which later plans keep. */
int nft_ruleset_check(NftRuleset *desired, NftError *reterr);
NftPlan *nft_plan_free(NftPlan *p);

size_t nft_plan_n_ops(const NftPlan *p);
NftOpType nft_plan_op_type(const NftPlan *p, size_t i);
NftObjKind nft_plan_op_kind(const NftPlan *p, size_t i);
/* Number of set elements of an elements operation (as the kernel holds
 * them: a range is a start and an end element), else 1. */
size_t nft_plan_op_count(const NftPlan *p, size_t i);
/* "add rule inet t input #3 \"ssh\"", "delete 2 elements from set inet t
 * blocked", ...; a new string. */
int nft_plan_op_describe(const NftPlan *p, size_t i, char **ret);
/* The objects an operation concerns, NULL where it has none: the chain of
 * a chain or rule operation, the set of a set or elements operation, the
 * rule of a rule operation. Additions, replacements and updates: the
 * desired objects; deletions: the live ones (a chain deleted goes with
 * its rules, which have no operations of their own). */
const NftChain *nft_plan_op_chain(const NftPlan *p, size_t i);
const NftSet *nft_plan_op_set(const NftPlan *p, size_t i);
const NftRule *nft_plan_op_rule(const NftPlan *p, size_t i);

/* ---- the kernel ------------------------------------------------------------ */

typedef struct NftContext NftContext;

/* Opens a netlink socket in the calling thread's network namespace. */
int nft_context_new(NftContext **ret);
NftContext *nft_context_free(NftContext *ctx);

/* What a context has sent so far. */
typedef struct NftCounters {
        uint64_t batches;               /* transactions sent */
        uint64_t messages;              /* messages in them (writes) */
        uint64_t changes;               /* tables, chains, sets and rules changed */
        uint64_t elements;              /* set elements added or deleted */
} NftCounters;

void nft_context_counters(const NftContext *ctx, NftCounters *ret);

/* Reads the tables owned names (present or absent) that exist into a new
 * ruleset: chains, sets with their elements, rules in order with handles,
 * identities and counters. Consistent: a dump that a change interrupted
 * is read again (-EAGAIN after several tries). */
int nft_dump(NftContext *ctx, const NftRuleset *owned, NftRuleset **ret);

/* The generation of the namespace's whole ruleset (anyone's tables): the
 * kernel counts it up with every transaction. Cheap: a caller that kept
 * the generation of a dump it verified knows, when it is still the same,
 * that nothing changed since, without dumping again. */
int nft_generation(NftContext *ctx, uint32_t *ret);
/* The network namespace of the context's socket, as the kernel numbers
 * namespaces while it runs (SO_NETNS_COOKIE: never given to another
 * namespace before the next boot; Linux 5.14 and later, -ENOPROTOOPT
 * before). With the boot's id, it says whose generation a number kept
 * from an earlier run is. */
int nft_namespace_cookie(NftContext *ctx, uint64_t *ret);
/* The generation a dumped ruleset was read at; -ENODATA for a ruleset
 * that was not dumped. */
int nft_ruleset_generation(const NftRuleset *rs, uint32_t *ret);

typedef struct NftResult {
        unsigned messages;              /* messages in the batch, without begin and end */
        unsigned changes;               /* tables, chains, sets and rules changed */
        unsigned elements;              /* set elements added or deleted */
        NftError error;                 /* on failure: the object the kernel refused */
} NftResult;

void nft_result_done(NftResult *r);

/* Sends the plan as one batch. Nothing is sent for an empty plan. On
 * failure the kernel has changed nothing; ret->error names the first
 * object it refused, with its errno (also the return value). -ERESTART:
 * the tables changed since live was dumped (nothing applied); dump again. */
int nft_apply(NftContext *ctx, const NftPlan *plan, NftResult *ret);

/* Dump, plan and apply, again while the kernel reports -ERESTART (at most
 * a few times). ret->messages is 0 when nothing had to change. */
int nft_sync(NftContext *ctx, NftRuleset *desired, NftResult *ret);

/* ---- change notifications --------------------------------------------------- */

typedef struct NftMonitor NftMonitor;

/* Subscribes to nftables change notifications in the calling thread's
 * network namespace. Changes sent through ctx (may be NULL) do not count
 * as changes. */
int nft_monitor_new(NftContext *ctx, NftMonitor **ret);
NftMonitor *nft_monitor_free(NftMonitor *m);
/* The tables to watch: those owned names (replacing the previous ones). */
int nft_monitor_watch(NftMonitor *m, const NftRuleset *owned);
/* Readable when notifications are waiting. */
int nft_monitor_fd(const NftMonitor *m);
/* Reads every waiting notification without blocking. Returns 1 if one of
 * the watched tables (or something in it) was added, changed or deleted
 * by anyone but ctx, or if notifications were lost (the socket overflowed),
 * 0 if not. */
int nft_monitor_drain(NftMonitor *m);
