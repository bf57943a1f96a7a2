/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the firewall's plan needs beyond the configuration (interfaces and
 * networks of the host), and the plan itself: one action per operation on
 * the table, its chains, sets and rules, with what it means for traffic.
 * Pure: the host comes in FwFacts, the live table in a dump. */
#include <inttypes.h>
#include <stdio.h>

#include "firewall.h"
#include "json-util.h"
#include "router.h"
#include "strbuf.h"

static bool declared(char *const *names, const char *ifname) {
        for (; names && *names; names++)
                if (streq(*names, ifname))
                        return true;
        return false;
}

static bool is_tunnel(const FwConfig *c, const char *ifname) {
        for (size_t i = 0; i < c->n_kill_switches; i++)
                if (c->kill_switches[i].tunnel && streq(c->kill_switches[i].tunnel, ifname))
                        return true;
        return false;
}

static char *host_names(const FwHost *h) {
        _cleanup_(strbuf_done) StrBuf b = {};

        for (size_t i = 0; i < h->n_interfaces; i++)
                strbuf_printf(&b, "%s%s", i ? ", " : "", h->interfaces[i].name);
        return b.len ? strbuf_take(&b) : strdup("none");
}

/* A zone's interface that is not on the host and that no section
 * creates: a typo, or a card that is not there. Wildcards and tunnels are
 * exempt: a tunnel comes and goes, and its kill switch holds meanwhile. */
static int check_interfaces(const FwConfig *c, char *const *names, const FwHost *h, Diag *d) {
        int ret = 0;

        for (size_t i = 0; i < c->n_zones; i++)
                for (size_t k = 0; k < c->zones[i].n_interfaces; k++) {
                        const char *ifname = c->zones[i].interfaces[k];
                        _cleanup_(freep) char *ap = NULL, *p = NULL, *have = NULL;

                        if (strchr(ifname, '*') || is_tunnel(c, ifname) || declared(names, ifname) ||
                            fw_host_find(h, ifname))
                                continue;
                        ap = json_path_key(c->zones[i].path, "interfaces");
                        p = ap ? json_path_index(ap, k) : NULL;
                        have = host_names(h);
                        diag_error(d, p ?: c->zones[i].path, "interface %s is not on this router, and no section of "
                                   "the state creates it (this router has: %s)", ifname, strna(have));
                        ret = -EINVAL;
                }
        return ret;
}

/* Does zone z cover addr: one of its subnets, or the network of an
 * address its interfaces have? */
static bool zone_covers(const FwZone *z, const FwHost *h, const FwPrefix *addr) {
        for (size_t i = 0; i < z->n_subnets; i++)
                if (fw_prefix_contains(&z->subnets[i], addr))
                        return true;
        for (size_t i = 0; h && i < h->n_interfaces; i++) {
                bool mine = false;

                for (size_t k = 0; k < z->n_interfaces; k++)
                        mine = mine || fw_ifname_matches(z->interfaces[k], h->interfaces[i].name);
                for (size_t a = 0; mine && a < h->interfaces[i].n_addresses; a++)
                        if (fw_prefix_contains(&h->interfaces[i].addresses[a], addr))
                                return true;
        }
        return false;
}

static int check_port_forwards(const FwConfig *c, FwFacts *facts, Diag *d) {
        int ret = 0;

        for (size_t i = 0; i < c->n_port_forwards; i++) {
                const FwPortForward *pf = &c->port_forwards[i];
                _cleanup_(freep) char *p = json_path_key(pf->path, "to");
                int cover = -1;

                if (pf->from < 0 || !pf->to.text)
                        continue;
                for (size_t z = 0; z < c->n_zones && cover < 0; z++)
                        if ((int) z != pf->from && zone_covers(&c->zones[z], facts->host, &pf->to))
                                cover = (int) z;
                facts->cover[i] = cover;
                if (cover < 0) {
                        diag_error(d, p ?: pf->path, "%s is in no zone's networks (their subnets, and the networks "
                                   "of their interfaces' addresses): the forwarded traffic would have nowhere to "
                                   "go; check the address, or add the network to a zone's subnets", pf->to.text);
                        ret = -EINVAL;
                        continue;
                }
                if (c->zones[cover].kill_switch >= 0) {
                        const FwKillSwitch *k = &c->kill_switches[c->zones[cover].kill_switch];

                        diag_error(d, p ?: pf->path, "%s is in zone %s, whose traffic may leave only through %s "
                                   "(kill switch %s): the answers to zone %s would be dropped", pf->to.text,
                                   c->zones[cover].name, k->tunnel, k->path, c->zones[pf->from].name);
                        ret = -EINVAL;
                }
        }
        return ret;
}

int fw_check_host(const FwConfig *c, char *const *names, FwFacts *facts, Diag *d) {
        int ret;

        free(facts->cover);
        facts->cover = calloc(c->n_port_forwards + 1, sizeof(int));
        if (!facts->cover)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_port_forwards; i++)
                facts->cover[i] = -1;
        ret = check_interfaces(c, names, facts->host, d);
        RET_GATHER(ret, check_port_forwards(c, facts, d));
        return ret;
}

/* ---- the plan ---------------------------------------------------------------------- */

/* "<zone>" of a chain named "<kind>_<zone>", or NULL. */
static const char *chain_zone(const char *chain, const char *kind) {
        size_t n = strlen(kind);

        return strncmp(chain, kind, n) == 0 && chain[n] == '_' ? chain + n + 1 : NULL;
}

static const FwZone *find_zone(const FwConfig *c, const char *name) {
        int z = name ? fw_zone_find(c, name) : -1;

        return z >= 0 ? &c->zones[z] : NULL;
}

/* Does the live table masquerade out of ifname? */
static bool live_masquerades(const NftRuleset *live, const char *ifname) {
        const NftTable *t = live ? nft_ruleset_find_table(live, FW_FAMILY, FW_TABLE) : NULL;
        const NftChain *ch = t ? nft_table_find_chain(t, "srcnat") : NULL;
        char name[NFT_NAME_MAX];

        snprintf(name, sizeof name, "masq:%s", ifname);
        for (size_t i = 0; ch && i < nft_chain_n_rules(ch); i++)
                if (streq_ptr(nft_rule_name(nft_chain_rule(ch, i)), name))
                        return true;
        return false;
}

/* A live rule of a chain of op-router's table, by name. */
static const NftRule *live_rule(const NftRuleset *live, const char *chain, const char *name) {
        const NftTable *t = live ? nft_ruleset_find_table(live, FW_FAMILY, FW_TABLE) : NULL;
        const NftChain *ch = t ? nft_table_find_chain(t, chain) : NULL;

        for (size_t i = 0; ch && i < nft_chain_n_rules(ch); i++)
                if (streq_ptr(nft_rule_name(nft_chain_rule(ch, i)), name))
                        return nft_chain_rule(ch, i);
        return NULL;
}

typedef struct ImpactOf {
        Impact class;
        char *outage;           /* what the action cuts off, or NULL */
} ImpactOf;

/* A forwarding rule ("fwd:<to>:<ifname>") of zone from that goes away:
 * the zone loses the way to zone to through that interface. */
static void forwarding_lost(const FwConfig *desired, const NftRuleset *live, const char *from, const char *rule,
                            ImpactOf *ret) {
        char to[64];
        const char *colon, *ifname;
        const FwZone *z;
        bool wan;

        colon = strchr(rule + 4, ':');
        if (!colon || (size_t) (colon - rule - 4) >= sizeof to)
                return;
        memcpy(to, rule + 4, (size_t) (colon - rule - 4));
        to[colon - rule - 4] = 0;
        ifname = colon + 1;
        z = find_zone(desired, to);
        wan = (z && z->masquerade) || live_masquerades(live, ifname);
        ret->class = wan ? IMPACT_WAN_OUTAGE : IMPACT_LAN_OUTAGE;
        (void) asprintf(&ret->outage, "cut zone %s off from zone %s (out of %s)", from, to, ifname);
}

/* The verdict a rule's comment names last ("lan: input accept"). */
static bool comment_accepts(const NftRule *r) {
        const char *c = r ? nft_rule_comment(r) : NULL;

        return c && strlen(c) >= 7 && streq(c + strlen(c) - 7, " accept");
}

static void classify_rule(const NftPlan *plan, size_t i, const FwConfig *desired, const NftRuleset *live,
                          ImpactOf *ret) {
        const NftChain *ch = nft_plan_op_chain(plan, i);
        const NftRule *r = nft_plan_op_rule(plan, i);
        const char *chain = ch ? nft_chain_name(ch) : "", *name = r ? nft_rule_name(r) : NULL, *zone;
        NftOpType type = nft_plan_op_type(plan, i);
        const FwZone *z;

        if (!name)
                return;
        if (type == NFT_OP_DELETE && (zone = chain_zone(chain, "forward")) && startswith(name, "fwd:")) {
                forwarding_lost(desired, live, zone, name, ret);
                return;
        }
        if (type == NFT_OP_DELETE && streq(chain, "srcnat") && startswith(name, "masq:")) {
                ret->class = IMPACT_WAN_OUTAGE;
                (void) asprintf(&ret->outage, "stop masquerading out of %s: the hosts behind the router lose their "
                                "way out through it", name + 5);
                return;
        }
        if (type != NFT_OP_REPLACE || !comment_accepts(live_rule(live, chain, name)))
                return;
        if ((zone = chain_zone(chain, "input")) && streq(name, "policy") && (z = find_zone(desired, zone)) &&
            z->input != FW_ACCEPT && !z->masquerade) {
                ret->class = IMPACT_LAN_OUTAGE;
                (void) asprintf(&ret->outage, "cut zone %s off from the router (input accept -> %s)", zone,
                                fw_verdict_to_string(z->input));
        } else if ((zone = chain_zone(chain, "forward")) && startswith(name, "policy:") &&
                   (z = find_zone(desired, zone)) && z->forward != FW_ACCEPT) {
                ret->class = IMPACT_LAN_OUTAGE;
                (void) asprintf(&ret->outage, "cut the hosts of zone %s off from each other (forward accept -> %s)",
                                zone, fw_verdict_to_string(z->forward));
        }
}

/* A zone's forward chain that goes away takes its forwardings along. */
static void classify_chain(const NftPlan *plan, size_t i, const FwConfig *desired, const NftRuleset *live,
                           ImpactOf *ret) {
        const NftChain *ch = nft_plan_op_chain(plan, i);
        const char *zone = ch ? chain_zone(nft_chain_name(ch), "forward") : NULL;

        if (nft_plan_op_type(plan, i) != NFT_OP_DELETE || !zone)
                return;
        for (size_t k = 0; k < nft_chain_n_rules(ch); k++) {
                const char *name = nft_rule_name(nft_chain_rule(ch, k));

                if (name && startswith(name, "fwd:")) {
                        ImpactOf lost = { IMPACT_FIREWALL_CHANGE };

                        forwarding_lost(desired, live, zone, name, &lost);
                        if (lost.class->rank > ret->class->rank) {
                                free(ret->outage);
                                *ret = lost;
                        } else
                                free(lost.outage);
                }
        }
}

static char *op_path(const NftPlan *plan, size_t i) {
        const NftChain *ch = nft_plan_op_chain(plan, i);
        const NftSet *set = nft_plan_op_set(plan, i);
        const NftRule *r = nft_plan_op_rule(plan, i);
        char *s = NULL;

        switch (nft_plan_op_kind(plan, i)) {
        case NFT_KIND_TABLE:
                s = strdup("table/inet " FW_TABLE);
                break;
        case NFT_KIND_CHAIN:
                (void) asprintf(&s, "chain/%s", nft_chain_name(ch));
                break;
        case NFT_KIND_SET:
        case NFT_KIND_ELEMENTS:
                (void) asprintf(&s, "set/%s", nft_set_name(set));
                break;
        case NFT_KIND_RULE:
                if (nft_rule_name(r))
                        (void) asprintf(&s, "rule/%s/%s", nft_chain_name(ch), nft_rule_name(r));
                else
                        (void) asprintf(&s, "rule/%s/handle-%" PRIu64, nft_chain_name(ch), nft_rule_handle(r));
                break;
        }
        return s;
}

static ActionKind op_action(const NftPlan *plan, size_t i) {
        if (nft_plan_op_kind(plan, i) == NFT_KIND_ELEMENTS)
                return ACTION_MODIFY;
        switch (nft_plan_op_type(plan, i)) {
        case NFT_OP_ADD:
                return ACTION_CREATE;
        case NFT_OP_DELETE:
                return ACTION_DELETE;
        default:
                return ACTION_MODIFY;
        }
}

int fw_plan_actions(const NftPlan *plan, const FwConfig *desired, const NftRuleset *live, Plan *out) {
        for (size_t i = 0; i < nft_plan_n_ops(plan); i++) {
                _cleanup_(freep) char *path = op_path(plan, i), *what = NULL;
                const NftRule *r = nft_plan_op_rule(plan, i);
                ImpactOf impact = { IMPACT_FIREWALL_CHANGE };
                int k;

                if (!path || nft_plan_op_describe(plan, i, &what) < 0)
                        return -ENOMEM;
                if (nft_plan_op_kind(plan, i) == NFT_KIND_RULE)
                        classify_rule(plan, i, desired, live, &impact);
                else if (nft_plan_op_kind(plan, i) == NFT_KIND_CHAIN)
                        classify_chain(plan, i, desired, live, &impact);
                if (r && nft_rule_comment(r))
                        k = plan_add(out, "firewall", op_action(plan, i), impact.class, path, "%s (%s)", what,
                                     nft_rule_comment(r));
                else
                        k = plan_add(out, "firewall", op_action(plan, i), impact.class, path, "%s", what);
                if (k >= 0 && impact.outage)
                        k = plan_set_outage(out, "%s", impact.outage);
                free(impact.outage);
                if (k < 0)
                        return k;
        }
        return 0;
}
