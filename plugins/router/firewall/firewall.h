/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The firewall plugin (section "firewall", docs/router.md): zones of
 * interfaces with their policies, forwardings between zones, rules, sets,
 * port forwards and kill switches, compiled into one nftables table of
 * op-router's own (inet op-router) and applied in one transaction through
 * agent/lib/nft.
 *
 *   parse     section -> FwConfig, every error with its JSON path (no I/O);
 *             the compiled ruleset is checked too (names, set elements)
 *   query     the table as the kernel holds it, the interfaces and their
 *             addresses (FwHost)
 *   diff      what needs the host (interfaces no section declares and the
 *             host lacks, port forwards to addresses no zone covers), then
 *             the compiled ruleset against the dump: one plan action per
 *             table, chain, set and rule operation, with its impact
 *   apply     the plan as one nftables batch */

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <json-c/json.h>

#include "diag.h"
#include "nft.h"
#include "plan.h"
#include "plugin.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(NftRuleset *, nft_ruleset_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(NftPlan *, nft_plan_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(NftContext *, nft_context_free);

#define FW_TABLE "op-router"
#define FW_FAMILY NFT_FAMILY_INET
/* Zone names are part of chain and rule names: short, like interface names. */
#define FW_ZONE_NAME_MAX 15
/* Rules, sets and port forwards: their names are part of rule names. */
#define FW_NAME_MAX 24

typedef enum FwVerdict {
        FW_ACCEPT,
        FW_DROP,
        FW_REJECT,
        _FW_VERDICT_MAX,
} FwVerdict;

const char *fw_verdict_to_string(FwVerdict v) _pure_;

/* Protocols of a rule or port forward (a bitmask; 0: any). */
enum {
        FW_PROTO_TCP = 1 << 0,
        FW_PROTO_UDP = 1 << 1,
        FW_PROTO_ICMP = 1 << 2,
        FW_PROTO_ICMPV6 = 1 << 3,
        _FW_PROTO_ALL = (1 << 4) - 1,
};

/* An address or prefix as written (host bits clear), and what it is. */
typedef struct FwPrefix {
        char *text;                  /* "10.0.0.0/8", "fd00::1" */
        int family;                  /* AF_INET or AF_INET6 */
        uint8_t addr[16];
        unsigned prefixlen;          /* 32 or 128 for an address */
} FwPrefix;

typedef struct FwZone {
        char *name;
        char *path;                  /* plugins.firewall.zones[i] */
        char **interfaces;           /* names; one ending in '*' matches a prefix */
        size_t n_interfaces;
        FwVerdict input, forward, output;
        bool masquerade;             /* IPv4 leaving through the zone's interfaces takes their address */
        FwPrefix *subnets;           /* networks behind the zone, besides its interfaces' addresses */
        size_t n_subnets;
        int kill_switch;             /* index in FwConfig.kill_switches, or -1 */
} FwZone;

typedef struct FwForwarding {
        char *path;
        int from, to;                /* zone indices */
} FwForwarding;

typedef struct FwSet {
        char *name;
        char *path;
        NftKeyType type;             /* ipv4_addr, ipv6_addr or inet_service */
        char **elements;
        size_t n_elements;
} FwSet;

typedef struct FwRule {
        char *name;
        char *path;
        bool enabled;
        int from, to;                /* zone indices; -1: the router itself */
        int family;                  /* 0 (both), AF_INET or AF_INET6 */
        unsigned protos;             /* FW_PROTO_*; 0: any */
        FwPrefix *src, *dest;        /* or NULL */
        int src_set, dest_set;       /* set indices, or -1 */
        char *src_port, *dest_port;  /* "22" or "1000-2000", or NULL */
        char *icmp_type;             /* a number or nft's name, or NULL */
        FwVerdict action;
        bool has_limit;
        NftLimit limit;
        bool log;
        bool counter;
} FwRule;

typedef struct FwPortForward {
        char *name;
        char *path;
        int from;                    /* zone index */
        unsigned protos;             /* FW_PROTO_TCP and/or FW_PROTO_UDP */
        char *external_port;         /* "8080" or "8000-8099" */
        FwPrefix to;                 /* the internal address */
        char *to_port;               /* or NULL: the external port */
        bool reflection;             /* hosts inside reach it through the external address too */
} FwPortForward;

typedef struct FwKillSwitch {
        char *path;
        int zone;                    /* zone index */
        char *tunnel;                /* the only interface the zone's traffic may leave through */
        FwPrefix *dns;               /* resolver behind the tunnel DNS to the router goes to, or NULL */
} FwKillSwitch;

typedef struct FwConfig {
        bool present;                /* the section has content: the table exists */
        FwVerdict defaults[3];       /* input, forward, output of interfaces in no zone */
        FwZone *zones;
        size_t n_zones;
        FwForwarding *forwardings;
        size_t n_forwardings;
        FwSet *sets;
        size_t n_sets;
        FwRule *rules;
        size_t n_rules;
        FwPortForward *port_forwards;
        size_t n_port_forwards;
        FwKillSwitch *kill_switches;
        size_t n_kill_switches;
} FwConfig;

enum { FW_INPUT, FW_FORWARD, FW_OUTPUT };

void fw_config_done(FwConfig *c);
/* section: the plugin's section (NULL: absent). The JSON paths start at
 * plugins.firewall. */
int fw_parse(FwConfig *c, json_object *section, Diag *d);
int fw_zone_find(const FwConfig *c, const char *name);
/* Parses an address or prefix ("10.0.0.0/8", "fd00::1"); -EINVAL for
 * anything else, -EDOM for a prefix with host bits set. */
int fw_prefix_parse(const char *s, FwPrefix *ret);
void fw_prefix_done(FwPrefix *p);
bool fw_prefix_contains(const FwPrefix *net, const FwPrefix *addr) _pure_;
/* Does interface name ifname match a zone's interface pattern? */
bool fw_ifname_matches(const char *pattern, const char *ifname) _pure_;

/* ---- what the host has ---------------------------------------------------- */

typedef struct FwHostInterface {
        char *name;
        FwPrefix *addresses;         /* with their prefix lengths (networks: host bits cleared) */
        FwPrefix *local;             /* the addresses themselves (/32, /128) */
        size_t n_addresses;
} FwHostInterface;

typedef struct FwHost {
        FwHostInterface *interfaces;
        size_t n_interfaces;
} FwHost;

void fw_host_done(FwHost *h);
/* The interfaces of the calling thread's network namespace and their
 * addresses (link-local IPv6 addresses left out). */
int fw_host_query(FwHost *h);
const FwHostInterface *fw_host_find(const FwHost *h, const char *name);
/* Adds to h an address ("192.168.1.1/24") another section of the state
 * puts on interface ifname: what the host will have when the firewall is
 * applied after that section. -EINVAL for anything else. */
int fw_host_add_declared(FwHost *h, const char *ifname, const char *cidr);

/* ---- compiling --------------------------------------------------------------- */

/* What the compiled ruleset depends on besides the configuration: for
 * each port forward, the zone covering its internal address (-1: none),
 * and the addresses its zone "from" has on the host (for reflection). */
typedef struct FwFacts {
        const FwHost *host;          /* NULL: no host facts (validation) */
        int *cover;                  /* per port forward */
} FwFacts;

/* Where each compiled rule comes from: rule name -> JSON path. */
typedef struct FwOrigin {
        char *chain;
        char *rule;
        const char *path;            /* borrowed from the configuration */
        const char *zone;            /* for impact: the zone the rule concerns, or NULL */
} FwOrigin;

typedef struct FwCompiled {
        NftRuleset *ruleset;
        FwOrigin *origins;
        size_t n_origins;
} FwCompiled;

void fw_compiled_done(FwCompiled *c);
/* The table the configuration makes (or, when !c->present, the table
 * disowned). Errors (a name the library refuses, a bad element) are
 * recorded at the JSON path they come from: -EINVAL. */
int fw_compile(const FwConfig *c, const FwFacts *facts, FwCompiled *ret, Diag *d);
/* The JSON path of the rule named in an error of the library ("rule inet
 * op-router input #3 \"rule:ssh\""), or the section's. */
const char *fw_compiled_path(const FwCompiled *c, const char *object);
/* The ruleset naming op-router's table, to dump it. */
int fw_owned_ruleset(NftRuleset **ret);

/* ---- the plan ---------------------------------------------------------------- */

/* Checks that need the host: zone interfaces that exist nowhere (declared:
 * the names other sections declare, NULL-terminated), port
 * forwards to addresses no zone covers (fills facts->cover). */
int fw_check_host(const FwConfig *c, char *const *declared, FwFacts *facts, Diag *d);
/* One plan action per operation of plan, with its impact (desired: the
 * configuration, live: the dump the plan was made against). */
int fw_plan_actions(const NftPlan *plan, const FwConfig *desired, const NftRuleset *live, Plan *out);
