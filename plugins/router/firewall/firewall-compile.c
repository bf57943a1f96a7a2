/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* FwConfig -> the table inet op-router (docs/router.md, "What the
 * firewall is made of"). Pure: what the host has comes in FwFacts.
 *
 * Every rule is named (its identity across applies: a rule whose content
 * changes is replaced in place, keeping its counters' handle) and carries
 * a comment that says where it comes from. Names are built from the
 * configuration's names, joined by ':' (which they cannot contain). */
#include <stdarg.h>
#include <stdio.h>

#include "firewall.h"
#include "json-util.h"

#define CHAIN_REJECT "handle_reject"

/* ICMPv6 that IPv6 needs to work at all, accepted before anything else
 * can drop it: neighbour discovery, MLD, path MTU discovery. */
static const char *const icmpv6_needed[] = {
        "packet-too-big", "mld-listener-query", "mld-listener-report", "mld-listener-done",
        "nd-router-solicit", "nd-router-advert", "nd-neighbor-solicit", "nd-neighbor-advert",
        "mld2-listener-report", NULL
};

typedef struct Builder {
        const FwConfig *c;
        const FwFacts *facts;
        NftTable *t;
        FwCompiled *out;
        Diag *d;
        int error;              /* the first failure */
} Builder;

void fw_compiled_done(FwCompiled *c) {
        nft_ruleset_free(c->ruleset);
        for (size_t i = 0; i < c->n_origins; i++) {
                free(c->origins[i].chain);
                free(c->origins[i].rule);
        }
        free(c->origins);
        *c = (FwCompiled) {};
}

static int fail(Builder *b, const char *path, int r, const char *what) {
        if (r == -ENOMEM || b->error == 0)
                b->error = r;
        if (r != -ENOMEM)
                diag_error(b->d, path ?: "plugins.firewall", "cannot be made into nftables %s: %s", what, strerror(-r));
        return r;
}

static int record_origin(Builder *b, const char *chain, const char *rule, const char *path, const char *zone) {
        FwOrigin *o;

        o = realloc(b->out->origins, (b->out->n_origins + 1) * sizeof(FwOrigin));
        if (!o)
                return -ENOMEM;
        b->out->origins = o;
        o = &o[b->out->n_origins];
        *o = (FwOrigin) { .chain = strdup(chain ?: ""), .rule = strdup(rule), .path = path, .zone = zone };
        if (!o->chain || !o->rule) {
                free(o->chain);
                free(o->rule);
                return -ENOMEM;
        }
        b->out->n_origins++;
        return 0;
}

/* A new named rule at the end of chain; NULL after a failure (recorded). */
_printf_(6, 7)
static NftRule *rule_new(Builder *b, const char *chain, const char *path, const char *zone, const char *comment,
                         const char *name_fmt, ...) {
        char name[NFT_NAME_MAX + 16];
        NftChain *ch = nft_table_find_chain(b->t, chain);
        NftRule *r = NULL;
        va_list ap;
        int k;

        if (b->error < 0 && b->error != -EINVAL)
                return NULL;
        va_start(ap, name_fmt);
        vsnprintf(name, sizeof name, name_fmt, ap);
        va_end(ap);
        k = ch ? nft_rule_add(ch, &r) : -ENOENT;
        if (k >= 0)
                k = nft_rule_set_name(r, name);
        if (k >= 0 && comment)
                k = nft_rule_set_comment(r, comment);
        if (k >= 0)
                k = record_origin(b, chain, name, path, zone);
        if (k < 0) {
                fail(b, path, k, "rules");
                return NULL;
        }
        return r;
}

/* Records a builder's failure; true when it succeeded. */
static bool ok(Builder *b, const char *path, int k) {
        if (k >= 0)
                return true;
        fail(b, path, k, "rules");
        return false;
}

static int verdict(NftRule *r, FwVerdict v) {
        switch (v) {
        case FW_ACCEPT:
                return nft_rule_verdict(r, NFT_VERDICT_ACCEPT);
        case FW_DROP:
                return nft_rule_verdict(r, NFT_VERDICT_DROP);
        default:
                return nft_rule_jump(r, CHAIN_REJECT);
        }
}

static const char *family_word(int family) {
        return family == AF_INET ? "ipv4" : "ipv6";
}

static const char *proto_word(unsigned bit) {
        switch (bit) {
        case FW_PROTO_TCP:    return "tcp";
        case FW_PROTO_UDP:    return "udp";
        case FW_PROTO_ICMP:   return "icmp";
        default:              return "icmpv6";
        }
}

static NftField port_field(unsigned proto, bool dest) {
        if (proto == FW_PROTO_TCP)
                return dest ? NFT_FIELD_TCP_DPORT : NFT_FIELD_TCP_SPORT;
        return dest ? NFT_FIELD_UDP_DPORT : NFT_FIELD_UDP_SPORT;
}

static NftField addr_field(int family, bool dest) {
        if (family == AF_INET)
                return dest ? NFT_FIELD_IP_DADDR : NFT_FIELD_IP_SADDR;
        return dest ? NFT_FIELD_IP6_DADDR : NFT_FIELD_IP6_SADDR;
}

/* ---- chains and sets ------------------------------------------------------------- */

static int add_chain(Builder *b, const char *name, const char *type, NftHook hook, int32_t priority,
                     FwVerdict policy) {
        NftChainSpec spec = {
                .type = type,
                .hook = hook,
                .priority = priority,
                .policy = policy == FW_ACCEPT ? NFT_POLICY_ACCEPT : NFT_POLICY_DROP,
        };
        int k;

        k = nft_chain_add(b->t, name, type ? &spec : NULL, NULL);
        return k < 0 ? fail(b, NULL, k, "chains") : 0;
}

static bool needs_dstnat(const FwConfig *c) {
        if (c->n_port_forwards > 0)
                return true;
        for (size_t i = 0; i < c->n_kill_switches; i++)
                if (c->kill_switches[i].dns)
                        return true;
        return false;
}

static bool needs_srcnat(const FwConfig *c) {
        for (size_t i = 0; i < c->n_zones; i++)
                if (c->zones[i].masquerade)
                        return true;
        for (size_t i = 0; i < c->n_port_forwards; i++)
                if (c->port_forwards[i].reflection)
                        return true;
        return false;
}

static void add_chains(Builder *b) {
        const FwConfig *c = b->c;
        char name[NFT_NAME_MAX];

        add_chain(b, "input", "filter", NFT_HOOK_INPUT, 0, c->defaults[FW_INPUT]);
        add_chain(b, "forward", "filter", NFT_HOOK_FORWARD, 0, c->defaults[FW_FORWARD]);
        add_chain(b, "output", "filter", NFT_HOOK_OUTPUT, 0, c->defaults[FW_OUTPUT]);
        if (needs_dstnat(c))
                add_chain(b, "dstnat", "nat", NFT_HOOK_PREROUTING, -100, FW_ACCEPT);
        if (needs_srcnat(c))
                add_chain(b, "srcnat", "nat", NFT_HOOK_POSTROUTING, 100, FW_ACCEPT);
        add_chain(b, CHAIN_REJECT, NULL, 0, 0, FW_ACCEPT);
        for (size_t i = 0; i < c->n_zones; i++) {
                static const char *const kinds[] = { "input", "forward", "output" };

                for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                        snprintf(name, sizeof name, "%s_%s", kinds[k], c->zones[i].name);
                        add_chain(b, name, NULL, 0, 0, FW_ACCEPT);
                }
        }
}

static void add_sets(Builder *b) {
        for (size_t i = 0; i < b->c->n_sets; i++) {
                const FwSet *s = &b->c->sets[i];
                NftSet *set;
                int k;

                k = nft_set_add(b->t, s->name, s->type, NFT_SETFLAG_INTERVAL, &set);
                for (size_t e = 0; k >= 0 && e < s->n_elements; e++)
                        k = nft_set_add_element(set, s->elements[e]);
                if (k >= 0)
                        k = record_origin(b, NULL, s->name, s->path, NULL);
                if (k < 0)
                        fail(b, s->path, k, "sets");
        }
}

/* ---- the baseline ------------------------------------------------------------------- */

static void add_icmpv6_needed(Builder *b, const char *chain, bool forward) {
        for (size_t i = 0; icmpv6_needed[i]; i++) {
                NftRule *r;

                if (forward && i > 0)
                        break; /* only packet-too-big is ever forwarded */
                r = rule_new(b, chain, NULL, NULL, "op-router: IPv6 needs this", "base:icmpv6:%s", icmpv6_needed[i]);
                if (r)
                        (void) (ok(b, NULL, nft_rule_match(r, NFT_FIELD_ICMPV6_TYPE, false, icmpv6_needed[i])) &&
                                ok(b, NULL, nft_rule_verdict(r, NFT_VERDICT_ACCEPT)));
        }
}

/* Replies and related traffic pass; packets conntrack calls invalid do
 * not (with drop_invalid: not in output, where the router's own are). */
static void add_conntrack(Builder *b, const char *chain, bool drop_invalid) {
        NftRule *r;

        r = rule_new(b, chain, NULL, NULL, "op-router: replies and related traffic", "base:established");
        if (r)
                (void) (ok(b, NULL, nft_rule_match_ct_state(r, NFT_CTSTATE_ESTABLISHED | NFT_CTSTATE_RELATED)) &&
                        ok(b, NULL, nft_rule_verdict(r, NFT_VERDICT_ACCEPT)));
        if (!drop_invalid)
                return;
        r = rule_new(b, chain, NULL, NULL, "op-router: invalid packets", "base:invalid");
        if (r)
                (void) (ok(b, NULL, nft_rule_match_ct_state(r, NFT_CTSTATE_INVALID)) &&
                        ok(b, NULL, nft_rule_verdict(r, NFT_VERDICT_DROP)));
}

static void add_loopback(Builder *b, const char *chain, NftField field) {
        NftRule *r = rule_new(b, chain, NULL, NULL, "op-router: loopback", "base:lo");

        if (r)
                (void) (ok(b, NULL, nft_rule_match(r, field, false, "lo")) &&
                        ok(b, NULL, nft_rule_verdict(r, NFT_VERDICT_ACCEPT)));
}

static void add_reject_chain(Builder *b) {
        NftRule *r;

        r = rule_new(b, CHAIN_REJECT, NULL, NULL, "op-router: reject TCP with a reset", "base:tcp-reset");
        if (r)
                (void) ok(b, NULL, nft_rule_reject(r, NFT_REJECTWITH_TCP_RESET, 0));
        r = rule_new(b, CHAIN_REJECT, NULL, NULL, "op-router: reject the rest as unreachable", "base:unreachable");
        if (r)
                (void) ok(b, NULL, nft_rule_reject(r, NFT_REJECTWITH_ICMPX, 1));
}

/* The zones' jumps in a base chain (field: iifname or oifname), then the
 * default for interfaces in no zone when it is reject. */
static void add_zone_jumps(Builder *b, const char *chain, NftField field, int which) {
        char target[NFT_NAME_MAX];

        for (size_t i = 0; i < b->c->n_zones; i++) {
                const FwZone *z = &b->c->zones[i];

                snprintf(target, sizeof target, "%s_%s", chain, z->name);
                for (size_t k = 0; k < z->n_interfaces; k++) {
                        NftRule *r = rule_new(b, chain, z->path, z->name, z->name, "zone:%s:%s", z->name,
                                              z->interfaces[k]);

                        if (r)
                                (void) (ok(b, z->path, nft_rule_match(r, field, false, z->interfaces[k])) &&
                                        ok(b, z->path, nft_rule_jump(r, target)));
                }
        }
        if (b->c->defaults[which] == FW_REJECT) {
                NftRule *r = rule_new(b, chain, "plugins.firewall.defaults", NULL, "op-router: interfaces in no zone",
                                      "default:reject");

                if (r)
                        (void) ok(b, NULL, verdict(r, FW_REJECT));
        }
}

/* ---- kill switches -------------------------------------------------------------------- */

/* forward: the zone's traffic leaves through the tunnel or not at all
 * (whatever routing says, IPv6 included, before established flows are
 * let through: a flow that started through the tunnel must not go on
 * through the WAN when the tunnel is gone). */
static void add_kill_switch_forward(Builder *b, const FwKillSwitch *k) {
        const FwZone *z = &b->c->zones[k->zone];
        char comment[NFT_COMMENT_MAX];

        snprintf(comment, sizeof comment, "%s: leaves only through %s (kill switch)", z->name, k->tunnel);
        for (size_t i = 0; i < z->n_interfaces; i++) {
                NftRule *r = rule_new(b, "forward", k->path, z->name, comment, "kill:%s", z->interfaces[i]);

                if (r)
                        (void) (ok(b, k->path, nft_rule_match(r, NFT_FIELD_IIFNAME, false, z->interfaces[i])) &&
                                ok(b, k->path, nft_rule_match(r, NFT_FIELD_OIFNAME, true, k->tunnel)) &&
                                ok(b, k->path, nft_rule_counter(r)) &&
                                ok(b, k->path, nft_rule_verdict(r, NFT_VERDICT_DROP)));
        }
}

/* input: the router's own resolver asks its upstream through the WAN, so
 * it answers no zone with a kill switch: DNS (53) and DNS over TLS or
 * QUIC (853) to the router are refused. With "dns", queries to port 53
 * go to that resolver behind the tunnel instead (dstnat). */
static void add_kill_switch_dns(Builder *b, const FwKillSwitch *k) {
        static const unsigned protos[] = { FW_PROTO_TCP, FW_PROTO_UDP };
        static const char *const ports[] = { "53", "853" };
        const FwZone *z = &b->c->zones[k->zone];
        char comment[NFT_COMMENT_MAX];

        snprintf(comment, sizeof comment, "%s: no DNS through the router (kill switch)", z->name);
        for (size_t i = 0; i < z->n_interfaces; i++)
                for (size_t p = 0; p < ELEMENTSOF(protos); p++)
                        for (size_t n = 0; n < ELEMENTSOF(ports); n++) {
                                NftRule *r = rule_new(b, "input", k->path, z->name, comment, "dns:%s:%s:%s",
                                                      z->interfaces[i], proto_word(protos[p]), ports[n]);

                                if (r)
                                        (void) (ok(b, k->path, nft_rule_match(r, NFT_FIELD_IIFNAME, false,
                                                                              z->interfaces[i])) &&
                                                ok(b, k->path, nft_rule_match(r, port_field(protos[p], true), false,
                                                                              ports[n])) &&
                                                ok(b, k->path, verdict(r, FW_REJECT)));
                        }
}

static void add_kill_switch_dnat(Builder *b, const FwKillSwitch *k) {
        static const unsigned protos[] = { FW_PROTO_TCP, FW_PROTO_UDP };
        const FwZone *z = &b->c->zones[k->zone];
        char comment[NFT_COMMENT_MAX], forward[NFT_NAME_MAX];

        if (!k->dns)
                return;
        snprintf(comment, sizeof comment, "%s: DNS to %s through %s (kill switch)", z->name, k->dns->text, k->tunnel);
        snprintf(forward, sizeof forward, "forward_%s", z->name);
        for (size_t p = 0; p < ELEMENTSOF(protos); p++) {
                NftRule *r;

                for (size_t i = 0; i < z->n_interfaces; i++) {
                        r = rule_new(b, "dstnat", k->path, z->name, comment, "dns:%s:%s", z->interfaces[i],
                                     proto_word(protos[p]));
                        if (r)
                                (void) (ok(b, k->path, nft_rule_match(r, NFT_FIELD_IIFNAME, false, z->interfaces[i])) &&
                                        ok(b, k->path, nft_rule_match(r, NFT_FIELD_NFPROTO, false,
                                                                      family_word(k->dns->family))) &&
                                        ok(b, k->path, nft_rule_match(r, port_field(protos[p], true), false, "53")) &&
                                        ok(b, k->path, nft_rule_dnat(r, k->dns->text)));
                }
                /* what was sent there passes, forwardings or not */
                r = rule_new(b, forward, k->path, z->name, comment, "dns:%s", proto_word(protos[p]));
                if (r)
                        (void) (ok(b, k->path, nft_rule_match(r, NFT_FIELD_OIFNAME, false, k->tunnel)) &&
                                ok(b, k->path, nft_rule_match(r, addr_field(k->dns->family, true), false,
                                                              k->dns->text)) &&
                                ok(b, k->path, nft_rule_match(r, port_field(protos[p], true), false, "53")) &&
                                ok(b, k->path, nft_rule_match_ct_status(r, NFT_CTSTATUS_DNAT)) &&
                                ok(b, k->path, nft_rule_verdict(r, NFT_VERDICT_ACCEPT)));
        }
}

/* ---- rules ------------------------------------------------------------------------ */

/* An address or prefix match; a /0 matches the family alone. */
static int match_prefix(NftRule *r, const FwPrefix *p, bool dest) {
        if (p->prefixlen == 0)
                return nft_rule_match(r, NFT_FIELD_NFPROTO, false, family_word(p->family));
        return nft_rule_match(r, addr_field(p->family, dest), false, p->text);
}

static int match_set(const FwConfig *c, NftRule *r, int set, unsigned proto, bool dest) {
        const FwSet *s = &c->sets[set];

        if (s->type == NFT_KEY_INET_SERVICE)
                return nft_rule_match_set(r, port_field(proto, dest), false, s->name);
        return nft_rule_match_set(r, addr_field(s->type == NFT_KEY_IPV4_ADDR ? AF_INET : AF_INET6, dest), false,
                                  s->name);
}

static bool is_port_set(const FwConfig *c, int set) {
        return set >= 0 && c->sets[set].type == NFT_KEY_INET_SERVICE;
}

/* The matches of a user rule for one protocol (0: any): the family when
 * no address says it, addresses, the protocol when no port says it,
 * ports, the ICMP type. */
static int rule_matches(const FwConfig *c, const FwRule *u, NftRule *r, unsigned proto) {
        bool addresses = u->src || u->dest || (u->src_set >= 0 && !is_port_set(c, u->src_set)) ||
                         (u->dest_set >= 0 && !is_port_set(c, u->dest_set));
        bool ports = u->src_port || u->dest_port || is_port_set(c, u->src_set) || is_port_set(c, u->dest_set);
        int k = 0;

        if (u->family && !addresses)
                k = nft_rule_match(r, NFT_FIELD_NFPROTO, false, family_word(u->family));
        if (k >= 0 && u->src)
                k = match_prefix(r, u->src, false);
        if (k >= 0 && u->dest)
                k = match_prefix(r, u->dest, true);
        if (k >= 0 && u->src_set >= 0 && !is_port_set(c, u->src_set))
                k = match_set(c, r, u->src_set, proto, false);
        if (k >= 0 && u->dest_set >= 0 && !is_port_set(c, u->dest_set))
                k = match_set(c, r, u->dest_set, proto, true);
        if (k >= 0 && proto && !ports && !u->icmp_type)
                k = nft_rule_match(r, NFT_FIELD_L4PROTO, false, proto_word(proto));
        if (k >= 0 && u->src_port)
                k = nft_rule_match(r, port_field(proto, false), false, u->src_port);
        if (k >= 0 && u->dest_port)
                k = nft_rule_match(r, port_field(proto, true), false, u->dest_port);
        if (k >= 0 && is_port_set(c, u->src_set))
                k = match_set(c, r, u->src_set, proto, false);
        if (k >= 0 && is_port_set(c, u->dest_set))
                k = match_set(c, r, u->dest_set, proto, true);
        if (k >= 0 && u->icmp_type)
                k = nft_rule_match(r, proto == FW_PROTO_ICMP ? NFT_FIELD_ICMP_TYPE : NFT_FIELD_ICMPV6_TYPE, false,
                                   u->icmp_type);
        return k;
}

static int rule_statements(const FwRule *u, NftRule *r) {
        char prefix[NFT_COMMENT_MAX];
        int k = 0;

        if (u->has_limit)
                k = nft_rule_limit(r, &u->limit);
        if (k >= 0 && u->counter)
                k = nft_rule_counter(r);
        if (k >= 0 && u->log) {
                snprintf(prefix, sizeof prefix, "op-router %s: ", u->name);
                k = nft_rule_log(r, prefix, -1);
        }
        if (k >= 0)
                k = verdict(r, u->action);
        return k;
}

/* One nftables rule per interface of the zone it goes to (forwarded
 * traffic) and per protocol. */
static void add_rule(Builder *b, const FwRule *u) {
        const FwConfig *c = b->c;
        bool forwarded = u->from >= 0 && u->to >= 0;
        const FwZone *to = u->to >= 0 ? &c->zones[u->to] : NULL;
        const char *zone = u->from >= 0 ? c->zones[u->from].name : to->name;
        char chain[NFT_NAME_MAX], comment[NFT_COMMENT_MAX], ifpart[32], protopart[16];
        size_t n_oifs = forwarded ? to->n_interfaces : 1, n_protos = 0;
        unsigned protos[4];

        if (!u->enabled)
                return;
        if (!u->protos)
                protos[n_protos++] = 0;
        for (unsigned bit = FW_PROTO_TCP; bit <= FW_PROTO_ICMPV6; bit <<= 1)
                if (u->protos & bit)
                        protos[n_protos++] = bit;
        snprintf(chain, sizeof chain, "%s_%s", forwarded ? "forward" : u->from >= 0 ? "input" : "output", zone);
        snprintf(comment, sizeof comment, "rule %s", u->name);
        for (size_t i = 0; i < n_oifs; i++)
                for (size_t p = 0; p < n_protos; p++) {
                        NftRule *r;
                        int k = 0;

                        snprintf(ifpart, sizeof ifpart, "%s%s", forwarded ? ":" : "", forwarded ? to->interfaces[i] : "");
                        snprintf(protopart, sizeof protopart, "%s%s", protos[p] ? ":" : "",
                                 protos[p] ? proto_word(protos[p]) : "");
                        r = rule_new(b, chain, u->path, zone, comment, "rule:%s%s%s", u->name, ifpart, protopart);
                        if (!r)
                                return;
                        if (forwarded)
                                k = nft_rule_match(r, NFT_FIELD_OIFNAME, false, to->interfaces[i]);
                        if (k >= 0)
                                k = rule_matches(c, u, r, protos[p]);
                        if (k >= 0)
                                k = rule_statements(u, r);
                        if (!ok(b, u->path, k))
                                return;
                }
}

/* ---- zones: forwardings and policies ----------------------------------------------- */

static void add_forwardings(Builder *b, size_t zone) {
        const FwConfig *c = b->c;
        char chain[NFT_NAME_MAX], comment[NFT_COMMENT_MAX];

        snprintf(chain, sizeof chain, "forward_%s", c->zones[zone].name);
        for (size_t i = 0; i < c->n_forwardings; i++) {
                const FwForwarding *f = &c->forwardings[i];
                const FwZone *to;

                if (f->from != (int) zone)
                        continue;
                to = &c->zones[f->to];
                snprintf(comment, sizeof comment, "%s -> %s: accept", c->zones[zone].name, to->name);
                for (size_t k = 0; k < to->n_interfaces; k++) {
                        NftRule *r = rule_new(b, chain, f->path, c->zones[zone].name, comment, "fwd:%s:%s", to->name,
                                              to->interfaces[k]);

                        if (r)
                                (void) (ok(b, f->path, nft_rule_match(r, NFT_FIELD_OIFNAME, false, to->interfaces[k])) &&
                                        ok(b, f->path, nft_rule_verdict(r, NFT_VERDICT_ACCEPT)));
                }
        }
}

/* The end of a zone's chains: its policies (forward: between the
 * zone's own interfaces; what goes elsewhere falls back to the base
 * chain, and so to the defaults). */
static void add_policies(Builder *b, const FwZone *z) {
        char chain[NFT_NAME_MAX], comment[NFT_COMMENT_MAX];
        NftRule *r;

        snprintf(chain, sizeof chain, "input_%s", z->name);
        snprintf(comment, sizeof comment, "%s: input %s", z->name, fw_verdict_to_string(z->input));
        r = rule_new(b, chain, z->path, z->name, comment, "policy");
        if (r)
                (void) ok(b, z->path, verdict(r, z->input));

        snprintf(chain, sizeof chain, "output_%s", z->name);
        snprintf(comment, sizeof comment, "%s: output %s", z->name, fw_verdict_to_string(z->output));
        r = rule_new(b, chain, z->path, z->name, comment, "policy");
        if (r)
                (void) ok(b, z->path, verdict(r, z->output));

        snprintf(chain, sizeof chain, "forward_%s", z->name);
        snprintf(comment, sizeof comment, "%s: forward %s", z->name, fw_verdict_to_string(z->forward));
        for (size_t i = 0; i < z->n_interfaces; i++) {
                r = rule_new(b, chain, z->path, z->name, comment, "policy:%s", z->interfaces[i]);
                if (r)
                        (void) (ok(b, z->path, nft_rule_match(r, NFT_FIELD_OIFNAME, false, z->interfaces[i])) &&
                                ok(b, z->path, verdict(r, z->forward)));
        }
}

static void add_masquerade(Builder *b, const FwZone *z) {
        char comment[NFT_COMMENT_MAX];

        if (!z->masquerade)
                return;
        snprintf(comment, sizeof comment, "%s: masquerade", z->name);
        for (size_t i = 0; i < z->n_interfaces; i++) {
                NftRule *r = rule_new(b, "srcnat", z->path, z->name, comment, "masq:%s", z->interfaces[i]);

                if (r)
                        (void) (ok(b, z->path, nft_rule_match(r, NFT_FIELD_OIFNAME, false, z->interfaces[i])) &&
                                ok(b, z->path, nft_rule_match(r, NFT_FIELD_NFPROTO, false, "ipv4")) &&
                                ok(b, z->path, nft_rule_masquerade(r)));
        }
}

/* ---- port forwards ------------------------------------------------------------------ */

/* "10.0.0.2:80", "[fd00::2]:80", or the address alone. */
static void dnat_target(const FwPortForward *pf, char buf[static 64]) {
        if (!pf->to_port)
                snprintf(buf, 64, "%s", pf->to.text);
        else if (pf->to.family == AF_INET6)
                snprintf(buf, 64, "[%s]:%s", pf->to.text, pf->to_port);
        else
                snprintf(buf, 64, "%s:%s", pf->to.text, pf->to_port);
}

/* What the port forward sends on: accepted where it is forwarded from. */
static void add_port_forward_accept(Builder *b, const FwPortForward *pf, const FwZone *z, unsigned proto,
                                    const char *comment) {
        char chain[NFT_NAME_MAX];
        NftRule *r;

        snprintf(chain, sizeof chain, "forward_%s", z->name);
        r = rule_new(b, chain, pf->path, z->name, comment, "pf:%s:%s", pf->name, proto_word(proto));
        if (r)
                (void) (ok(b, pf->path, nft_rule_match(r, addr_field(pf->to.family, true), false, pf->to.text)) &&
                        ok(b, pf->path, nft_rule_match(r, port_field(proto, true), false,
                                                       pf->to_port ?: pf->external_port)) &&
                        ok(b, pf->path, nft_rule_match_ct_status(r, NFT_CTSTATUS_DNAT)) &&
                        ok(b, pf->path, nft_rule_verdict(r, NFT_VERDICT_ACCEPT)));
}

/* The addresses the zone's interfaces have on the host, of a family. */
static size_t zone_addresses(const FwFacts *facts, const FwZone *z, int family, const FwPrefix **ret, size_t max) {
        size_t n = 0;

        for (size_t i = 0; facts->host && i < facts->host->n_interfaces; i++) {
                const FwHostInterface *h = &facts->host->interfaces[i];
                bool mine = false;

                for (size_t k = 0; k < z->n_interfaces; k++)
                        mine = mine || fw_ifname_matches(z->interfaces[k], h->name);
                for (size_t a = 0; mine && a < h->n_addresses && n < max; a++)
                        if (h->local[a].family == family)
                                ret[n++] = &h->local[a];
        }
        return n;
}

/* Reflection: hosts of the zone the internal address is in reach the
 * port forward through the external addresses too. Their connections are
 * masqueraded, so that the answers come back through the router. */
static void add_reflection(Builder *b, const FwPortForward *pf, unsigned proto, const char *target,
                           const char *comment) {
        const FwConfig *c = b->c;
        const FwPrefix *addrs[16];
        const FwZone *inside;
        size_t n;
        int cover = b->facts->cover ? b->facts->cover[pf - c->port_forwards] : -1;

        if (!pf->reflection || cover < 0)
                return;
        inside = &c->zones[cover];
        n = zone_addresses(b->facts, &c->zones[pf->from], pf->to.family, addrs, ELEMENTSOF(addrs));
        for (size_t i = 0; i < inside->n_interfaces; i++) {
                NftRule *r;

                for (size_t a = 0; a < n; a++) {
                        r = rule_new(b, "dstnat", pf->path, inside->name, comment, "reflect:%s:%s:%s:%zu", pf->name,
                                     inside->interfaces[i], proto_word(proto), a);
                        if (r)
                                (void) (ok(b, pf->path, nft_rule_match(r, NFT_FIELD_IIFNAME, false,
                                                                       inside->interfaces[i])) &&
                                        ok(b, pf->path, nft_rule_match(r, addr_field(pf->to.family, true), false,
                                                                       addrs[a]->text)) &&
                                        ok(b, pf->path, nft_rule_match(r, port_field(proto, true), false,
                                                                       pf->external_port)) &&
                                        ok(b, pf->path, nft_rule_dnat(r, target)));
                }
                r = rule_new(b, "srcnat", pf->path, inside->name, comment, "reflect:%s:%s:%s", pf->name,
                             inside->interfaces[i], proto_word(proto));
                if (r)
                        (void) (ok(b, pf->path, nft_rule_match(r, NFT_FIELD_IIFNAME, false, inside->interfaces[i])) &&
                                ok(b, pf->path, nft_rule_match(r, addr_field(pf->to.family, true), false,
                                                               pf->to.text)) &&
                                ok(b, pf->path, nft_rule_match(r, port_field(proto, true), false,
                                                               pf->to_port ?: pf->external_port)) &&
                                ok(b, pf->path, nft_rule_match_ct_status(r, NFT_CTSTATUS_DNAT)) &&
                                ok(b, pf->path, nft_rule_masquerade(r)));
        }
        if (cover != pf->from)
                add_port_forward_accept(b, pf, inside, proto, comment);
}

static void add_port_forward(Builder *b, const FwPortForward *pf) {
        const FwZone *from = &b->c->zones[pf->from];
        char comment[NFT_COMMENT_MAX], target[64];

        dnat_target(pf, target);
        snprintf(comment, sizeof comment, "port forward %s", pf->name);
        for (unsigned proto = FW_PROTO_TCP; proto <= FW_PROTO_UDP; proto <<= 1) {
                if (!(pf->protos & proto))
                        continue;
                for (size_t i = 0; i < from->n_interfaces; i++) {
                        NftRule *r = rule_new(b, "dstnat", pf->path, from->name, comment, "pf:%s:%s:%s", pf->name,
                                              from->interfaces[i], proto_word(proto));

                        if (r)
                                (void) (ok(b, pf->path, nft_rule_match(r, NFT_FIELD_IIFNAME, false,
                                                                       from->interfaces[i])) &&
                                        ok(b, pf->path, nft_rule_match(r, NFT_FIELD_NFPROTO, false,
                                                                       family_word(pf->to.family))) &&
                                        ok(b, pf->path, nft_rule_match(r, port_field(proto, true), false,
                                                                       pf->external_port)) &&
                                        ok(b, pf->path, nft_rule_dnat(r, target)));
                }
                add_port_forward_accept(b, pf, from, proto, comment);
                add_reflection(b, pf, proto, target, comment);
        }
}

/* ---- the table ---------------------------------------------------------------------- */

static void add_base_chains(Builder *b) {
        const FwConfig *c = b->c;
        NftRule *r;

        /* input */
        for (size_t i = 0; i < c->n_kill_switches; i++)
                if (c->kill_switches[i].zone >= 0)
                        add_kill_switch_dns(b, &c->kill_switches[i]);
        add_loopback(b, "input", NFT_FIELD_IIFNAME);
        add_icmpv6_needed(b, "input", false);
        add_conntrack(b, "input", true);
        add_zone_jumps(b, "input", NFT_FIELD_IIFNAME, FW_INPUT);

        /* forward */
        for (size_t i = 0; i < c->n_kill_switches; i++)
                if (c->kill_switches[i].zone >= 0)
                        add_kill_switch_forward(b, &c->kill_switches[i]);
        add_icmpv6_needed(b, "forward", true);
        r = rule_new(b, "forward", NULL, NULL, "op-router: TCP MSS to the path MTU", "base:mss-clamp");
        if (r)
                (void) ok(b, NULL, nft_rule_mss_clamp_pmtu(r));
        add_conntrack(b, "forward", true);
        add_zone_jumps(b, "forward", NFT_FIELD_IIFNAME, FW_FORWARD);

        /* output */
        add_loopback(b, "output", NFT_FIELD_OIFNAME);
        add_icmpv6_needed(b, "output", false);
        add_conntrack(b, "output", false);
        add_zone_jumps(b, "output", NFT_FIELD_OIFNAME, FW_OUTPUT);

        add_reject_chain(b);
}

int fw_owned_ruleset(NftRuleset **ret) {
        NftRuleset *rs;
        int k;

        k = nft_ruleset_new(&rs);
        if (k < 0)
                return k;
        k = nft_table_add_absent(rs, FW_FAMILY, FW_TABLE);
        if (k < 0) {
                nft_ruleset_free(rs);
                return k;
        }
        *ret = rs;
        return 0;
}

int fw_compile(const FwConfig *c, const FwFacts *facts, FwCompiled *ret, Diag *d) {
        static const FwFacts none = {};
        FwCompiled out = {};
        Builder b = { .c = c, .facts = facts ?: &none, .out = &out, .d = d };
        int k;

        k = nft_ruleset_new(&out.ruleset);
        if (k < 0)
                return k;
        if (!c->present)
                k = nft_table_add_absent(out.ruleset, FW_FAMILY, FW_TABLE);
        else
                k = nft_table_add(out.ruleset, FW_FAMILY, FW_TABLE, &b.t);
        if (k < 0 || !c->present) {
                *ret = out;
                return k;
        }

        add_chains(&b);
        add_sets(&b);
        add_base_chains(&b);
        for (size_t i = 0; i < c->n_kill_switches; i++)
                if (c->kill_switches[i].zone >= 0)
                        add_kill_switch_dnat(&b, &c->kill_switches[i]);
        for (size_t i = 0; i < c->n_rules; i++)
                add_rule(&b, &c->rules[i]);
        for (size_t i = 0; i < c->n_port_forwards; i++)
                add_port_forward(&b, &c->port_forwards[i]);
        for (size_t i = 0; i < c->n_zones; i++) {
                add_forwardings(&b, i);
                add_policies(&b, &c->zones[i]);
                add_masquerade(&b, &c->zones[i]);
        }
        if (b.error < 0) {
                fw_compiled_done(&out);
                return b.error;
        }
        *ret = out;
        return 0;
}

const char *fw_compiled_path(const FwCompiled *c, const char *object) {
        const char *q1, *q2, *name;
        char buf[NFT_NAME_MAX + 1];
        size_t len;

        if (!object)
                return "plugins.firewall";
        q2 = strrchr(object, '"');
        q1 = q2 && q2 > object ? memrchr(object, '"', (size_t) (q2 - object)) : NULL;
        if (q1 && (len = (size_t) (q2 - q1 - 1)) <= NFT_NAME_MAX) {
                memcpy(buf, q1 + 1, len);
                buf[len] = 0;
                name = buf;
        } else if (startswith(object, "set "))
                name = strrchr(object, ' ') + 1;
        else
                return "plugins.firewall";
        for (size_t i = 0; i < c->n_origins; i++)
                if (streq(c->origins[i].rule, name) && c->origins[i].path)
                        return c->origins[i].path;
        return "plugins.firewall";
}
