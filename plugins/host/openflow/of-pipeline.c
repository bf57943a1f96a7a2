/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The flows one bridge should have: the table layout, the security levels,
 * the flow policies and the explicit flows. docs/flows.md describes the
 * result; this file is the one place that decides it. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "json-util.h"
#include "of-engine.h"

typedef struct Builder {
        const OpenflowConfig *c;
        const OfBridge *b;
        const OfPorts *ports;
        OfFlowSet *out;
        Diag *d;
        unsigned level;              /* effective obfuscation level */
        bool *member;                /* per port: level-3 chain member */
        bool *steered;               /* per port: steered to a container next hop */
        int error;
} Builder;

/* A flow is written in three steps: its match (an OfMatch on the stack,
 * with only the fields named), begin, its actions into acts(B), end. */
#define MATCH(m) \
        OfMatch m;  \
        m.n = 0

static bool begin(Builder *B, const OfMatch *m, OfFlowStart *fs) {
        size_t bad;
        int r;

        r = of_flow_set_begin(B->out, m, fs, &bad);
        RET_GATHER(B->error, r);
        return r >= 0;
}

static OfpBuf *acts(Builder *B) {
        return &B->out->bytes;
}

static void end(Builder *B, const OfFlowStart *fs, uint64_t cookie, uint8_t table, uint16_t prio) {
        RET_GATHER(B->error, of_flow_set_end(B->out, fs, cookie, table, prio, 0, 0, NULL));
}

/* The flows whose actions are one resubmit, NORMAL, or nothing. */
static void resubmit_flow(Builder *B, const OfMatch *m, uint64_t cookie, uint8_t table, uint16_t prio, uint8_t next) {
        OfFlowStart fs;

        if (!begin(B, m, &fs))
                return;
        ofp_put_resubmit(acts(B), next);
        end(B, &fs, cookie, table, prio);
}

static void normal_flow(Builder *B, const OfMatch *m, uint64_t cookie, uint8_t table, uint16_t prio) {
        OfFlowStart fs;

        if (!begin(B, m, &fs))
                return;
        ofp_put_output(acts(B), OFPP_NORMAL);
        end(B, &fs, cookie, table, prio);
}

static void drop_flow(Builder *B, const OfMatch *m, uint64_t cookie, uint8_t table, uint16_t prio) {
        OfFlowStart fs;

        if (begin(B, m, &fs))
                end(B, &fs, cookie, table, prio);
}

static uint32_t subject_of(const OfPort *p) {
        return p->container_id ? p->container_id : OF_SUBJECT_PORT | (uint32_t) p->ofport;
}

static bool usable(const OfPort *p, const char *bridge) {
        return streq(p->bridge, bridge) && p->ofport >= 0;
}

/* ICMPv6 control messages: MLD (130-132, 143), router and neighbour
 * discovery (133-137). */
static const unsigned icmp6_control[] = { 130, 131, 132, 133, 134, 135, 136, 137, 143 };

/* The fixed table layout: every table ends in a real action. */
static void base_pipeline(Builder *B) {
        OfFlowStart fs;
        MATCH(any);

#define BASE(rule) of_cookie(OF_CLASS_PIPELINE, rule, 0, 0)
        resubmit_flow(B, &any, BASE(1), OF_TABLE_ADMIT, 1, OF_TABLE_SANITY);
        resubmit_flow(B, &any, BASE(2), OF_TABLE_SANITY, 1, OF_TABLE_CT);
        for (unsigned v6 = 0; v6 <= 1; v6++) {
                MATCH(m);

                of_match_add_proto(&m, v6 ? OF_F_IPV6 : OF_F_IP);
                if (begin(B, &m, &fs)) {
                        ofp_put_ct(acts(B), false, 0, OF_TABLE_CT_STATE);
                        end(B, &fs, BASE(3 + v6), OF_TABLE_CT, 10);
                }
        }
        /* Neighbour discovery and MLD are not connections: conntrack would
         * call them invalid (and level 1 would drop them). */
        for (unsigned i = 0; i < ELEMENTSOF(icmp6_control); i++) {
                MATCH(m);

                of_match_add_proto(&m, OF_F_ICMP6);
                of_match_add_u(&m, OF_F_ICMP_TYPE, icmp6_control[i]);
                resubmit_flow(B, &m, of_cookie(OF_CLASS_PIPELINE, 15, i, 0), OF_TABLE_CT, 20, OF_TABLE_HIDE);
        }
        resubmit_flow(B, &any, BASE(5), OF_TABLE_CT, 1, OF_TABLE_HIDE);
        {
                MATCH(m);

                /* ct_state=+rpl+trk: mark the reply in reg0 bit 0 */
                of_match_add_masked(&m, OF_F_CT_STATE, 0x28, 0x28);
                if (begin(B, &m, &fs)) {
                        ofp_put_reg_load(acts(B), OF_NXM_REG(OF_REPLY_REG), 0, 1, 1);
                        ofp_put_resubmit(acts(B), OF_TABLE_HIDE);
                        end(B, &fs, BASE(6), OF_TABLE_CT_STATE, 20);
                }
        }
        for (unsigned v6 = 0; v6 <= 1; v6++) {
                MATCH(m);

                /* ct_state=+new+trk */
                of_match_add_masked(&m, OF_F_CT_STATE, 0x21, 0x21);
                of_match_add_proto(&m, v6 ? OF_F_IPV6 : OF_F_IP);
                if (begin(B, &m, &fs)) {
                        ofp_put_ct(acts(B), true, 0, -1);
                        ofp_put_resubmit(acts(B), OF_TABLE_HIDE);
                        end(B, &fs, BASE(7 + v6), OF_TABLE_CT_STATE, 10);
                }
        }
        resubmit_flow(B, &any, BASE(9), OF_TABLE_CT_STATE, 1, OF_TABLE_HIDE);
        resubmit_flow(B, &any, BASE(10), OF_TABLE_HIDE, 1, OF_TABLE_LEAK);
        resubmit_flow(B, &any, BASE(11), OF_TABLE_LEAK, 1, OF_TABLE_POLICY);
        resubmit_flow(B, &any, BASE(12), OF_TABLE_POLICY, 1, OF_TABLE_OUT);
        normal_flow(B, &any, BASE(13), OF_TABLE_OUT, 1);
        {
                MATCH(m);

                /* Replies to connections a container opened are never steered or confined. */
                of_match_add_masked(&m, OF_F_REG0 + OF_REPLY_REG, OF_REPLY_BIT, OF_REPLY_BIT);
                normal_flow(B, &m, BASE(14), OF_TABLE_OUT, 30);
        }
#undef BASE
}

/* Level 1, for the whole bridge. */
static void security_global(Builder *B) {
        static const struct {
                unsigned rule;
                uint64_t flags, mask;
        } tcp_flags[] = {
                { 1, 0, 0xfff },        /* tcp_flags=0: no flags at all */
                { 2, 0x029, 0x029 },    /* +fin+psh+urg: xmas */
                { 3, 0x003, 0x003 },    /* +syn+fin */
        };
        static const struct {
                unsigned rule;
                uint8_t addr[4];
                unsigned prefix;
        } sources[] = {
                { 4, { 0, 0, 0, 0 }, 8 },
                { 6, { 224, 0, 0, 0 }, 4 },
                { 7, { 240, 0, 0, 0 }, 4 },
        };

#define SEC(rule) of_cookie(OF_CLASS_SECURITY, rule, 0, 0)
        for (size_t i = 0; i < ELEMENTSOF(tcp_flags); i++) {
                MATCH(m);

                of_match_add_proto(&m, OF_F_TCP);
                if (tcp_flags[i].flags == 0)
                        of_match_add_u(&m, OF_F_TCP_FLAGS, 0);
                else
                        of_match_add_masked(&m, OF_F_TCP_FLAGS, tcp_flags[i].flags, tcp_flags[i].mask);
                drop_flow(B, &m, SEC(tcp_flags[i].rule), OF_TABLE_SANITY, 300);
        }
        for (size_t i = 0; i < ELEMENTSOF(sources); i++) {
                MATCH(m);

                of_match_add_proto(&m, OF_F_IP);
                of_match_add_bytes(&m, OF_F_NW_SRC, sources[i].addr, 4, sources[i].prefix);
                drop_flow(B, &m, SEC(sources[i].rule), OF_TABLE_SANITY, 300);
        }
        {
                /* ... except DHCP clients, which have no address yet. */
                static const uint8_t zero[4] = {}, broadcast[4] = { 255, 255, 255, 255 };
                MATCH(m);

                of_match_add_proto(&m, OF_F_UDP);
                of_match_add_bytes(&m, OF_F_NW_SRC, zero, 4, 32);
                of_match_add_bytes(&m, OF_F_NW_DST, broadcast, 4, 32);
                of_match_add_u(&m, OF_F_TP_SRC, 68);
                of_match_add_u(&m, OF_F_TP_DST, 67);
                resubmit_flow(B, &m, SEC(5), OF_TABLE_SANITY, 310, OF_TABLE_CT);
        }
        {
                MATCH(m);

                /* a multicast (or broadcast) source: the group bit */
                of_match_add(&m, of_field(OF_F_DL_SRC),
                             &(OfParsedValue) { .len = 6, .has_mask = true, .bytes = { 1 }, .bmask = { 1 } });
                drop_flow(B, &m, SEC(8), OF_TABLE_SANITY, 300);
        }
        {
                MATCH(m);

                /* ct_state=+inv+trk */
                of_match_add_masked(&m, OF_F_CT_STATE, 0x30, 0x30);
                drop_flow(B, &m, SEC(9), OF_TABLE_CT_STATE, 100);
        }
#undef SEC
}

/* A match of the port's frames: in_port, then a protocol (or none). */
static void port_match(OfMatch *m, const OfPort *p, int proto) {
        m->n = 0;
        if (proto >= 0)
                of_match_add_proto(m, (OfFieldId) proto);
        of_match_add_u(m, OF_F_IN_PORT, (uint64_t) p->ofport);
}

/* Level 1, per container port: its frames must carry its own MAC and IPv4
 * address; it may not act as a DHCP server or IPv6 router unless allowed. */
static void security_port(Builder *B, const OfPort *p) {
        static const uint8_t zero[4] = {};
        const OfSocketPort *s = p->sock;
        uint32_t id = subject_of(p);
        OfMatch m;

#define SEC(rule) of_cookie(OF_CLASS_SECURITY, rule, p->index, id)
        if (s && s->has_hwaddr) {
                if (s->has_ipv4) {
                        port_match(&m, p, OF_F_IP);
                        of_match_add_bytes(&m, OF_F_DL_SRC, s->hwaddr, 6, 48);
                        of_match_add_bytes(&m, OF_F_NW_SRC, &s->ipv4, 4, 32);
                        resubmit_flow(B, &m, SEC(20), OF_TABLE_ADMIT, 400, OF_TABLE_SANITY);

                        /* ARP with its own sender address, or 0.0.0.0 (probes) */
                        for (unsigned probe = 0; probe <= 1; probe++) {
                                port_match(&m, p, OF_F_ARP);
                                of_match_add_bytes(&m, OF_F_DL_SRC, s->hwaddr, 6, 48);
                                of_match_add_bytes(&m, OF_F_ARP_SPA, probe ? (const void *) zero : (const void *) &s->ipv4, 4, 32);
                                of_match_add_bytes(&m, OF_F_ARP_SHA, s->hwaddr, 6, 48);
                                resubmit_flow(B, &m, SEC(probe ? 24 : 21), OF_TABLE_ADMIT, 400, OF_TABLE_SANITY);
                        }

                        port_match(&m, p, OF_F_UDP);
                        of_match_add_bytes(&m, OF_F_DL_SRC, s->hwaddr, 6, 48);
                        of_match_add_bytes(&m, OF_F_NW_SRC, zero, 4, 32);
                        of_match_add_u(&m, OF_F_TP_SRC, 68);
                        of_match_add_u(&m, OF_F_TP_DST, 67);
                        resubmit_flow(B, &m, SEC(22), OF_TABLE_ADMIT, 400, OF_TABLE_SANITY);

                        port_match(&m, p, OF_F_IPV6);
                        of_match_add_bytes(&m, OF_F_DL_SRC, s->hwaddr, 6, 48);
                        resubmit_flow(B, &m, SEC(23), OF_TABLE_ADMIT, 400, OF_TABLE_SANITY);
                } else {
                        port_match(&m, p, -1);
                        of_match_add_bytes(&m, OF_F_DL_SRC, s->hwaddr, 6, 48);
                        resubmit_flow(B, &m, SEC(20), OF_TABLE_ADMIT, 400, OF_TABLE_SANITY);
                }
                port_match(&m, p, -1);
                drop_flow(B, &m, SEC(25), OF_TABLE_ADMIT, 390);
        } else
                diag_warning(B->d, B->b->path, "port %s of container %" PRIu32 ": no hwaddr/ipv4 declared in socket_ports, "
                             "so its source addresses are not checked", p->name, p->container_id);

        if (!s || !s->allow_dhcp_server) {
                port_match(&m, p, OF_F_UDP);
                of_match_add_u(&m, OF_F_TP_SRC, 67);
                drop_flow(B, &m, SEC(26), OF_TABLE_SANITY, 350);
                port_match(&m, p, OF_F_UDP6);
                of_match_add_u(&m, OF_F_TP_SRC, 547);
                drop_flow(B, &m, SEC(27), OF_TABLE_SANITY, 350);
        }
        if (!s || !s->allow_router_advertisements) {
                port_match(&m, p, OF_F_ICMP6);
                of_match_add_u(&m, OF_F_ICMP_TYPE, 134);
                drop_flow(B, &m, SEC(28), OF_TABLE_SANITY, 350);
        }
#undef SEC
}

/* Level 2: what leaves a container looks the same whoever sent it: TTL
 * (hop limit) 64, DSCP 0, ECN 0. */
static void hiding_port(Builder *B, const OfPort *p) {
        static const uint8_t zero = 0;
        OfFlowStart fs;
        OfMatch m;

        for (unsigned v6 = 0; v6 <= 1; v6++) {
                port_match(&m, p, v6 ? OF_F_IPV6 : OF_F_IP);
                if (!begin(B, &m, &fs))
                        return;
                ofp_put_set_nw_ttl(acts(B), 64);
                ofp_put_set_field(acts(B), OFP_OXM_OF, 8, &zero, 1);   /* ip_dscp */
                ofp_put_set_field(acts(B), OFP_OXM_OF, 9, &zero, 1);   /* ip_ecn */
                ofp_put_resubmit(acts(B), OF_TABLE_LEAK);
                end(B, &fs, of_cookie(OF_CLASS_HIDING, 1 + v6, p->index, subject_of(p)), OF_TABLE_HIDE, 10);
        }
}

/* Level 3, per chain member: DNS only to the resolver, no IPv6, and a
 * member with a container next hop sends nowhere else. */
static void leak_port(Builder *B, const OfPort *p, bool steered) {
        static const OfFieldId dns[] = { OF_F_UDP, OF_F_TCP, OF_F_UDP6, OF_F_TCP6 };
        uint32_t id = subject_of(p);
        OfMatch m;

#define LEAK(rule) of_cookie(OF_CLASS_LEAK, rule, p->index, id)
        for (unsigned i = 0; B->c->has_dns_resolver && i < 2; i++) {
                port_match(&m, p, dns[i]);
                of_match_add_bytes(&m, OF_F_NW_DST, &B->c->dns_resolver, 4, 32);
                of_match_add_u(&m, OF_F_TP_DST, 53);
                resubmit_flow(B, &m, LEAK(1 + i), OF_TABLE_LEAK, 110, OF_TABLE_POLICY);
        }
        for (unsigned i = 0; i < ELEMENTSOF(dns); i++) {
                port_match(&m, p, dns[i]);
                of_match_add_u(&m, OF_F_TP_DST, 53);
                drop_flow(B, &m, LEAK(3 + i), OF_TABLE_LEAK, 100);
        }
        if (!p->sock || !p->sock->allow_ipv6) {
                port_match(&m, p, OF_F_IPV6);
                drop_flow(B, &m, LEAK(7), OF_TABLE_LEAK, 90);
        }
        if (steered) {
                port_match(&m, p, -1);
                drop_flow(B, &m, LEAK(8), OF_TABLE_OUT, 10);
                port_match(&m, p, OF_F_ARP);
                normal_flow(B, &m, LEAK(9), OF_TABLE_OUT, 20);
        }
#undef LEAK
}

static bool policy_selects(const OfFlowPolicy *pol, const OfPort *p) {
        const OfSelector *s = &pol->selector;

        switch (s->kind) {
        case OF_SELECT_CONTAINER_ID:
        case OF_SELECT_CONTAINER_RANGE:
                return p->container_id >= s->first_id && p->container_id <= s->last_id && p->container_id;
        case OF_SELECT_CONTAINER_ALL:
                return p->container_id != 0;
        case OF_SELECT_PORT_EXACT:
                return streq(p->name, s->port);
        case OF_SELECT_PORT_PREFIX:
                return startswith(p->name, s->port);
        }
        return false;
}

/* The port a policy's output action sends to, if it is a container port. */
static const OfPort *steering_target(Builder *B, const OfFlowPolicy *pol, const OfPort *src) {
        OfEncodeContext rc = { .ports = B->ports, .bridge = B->b->name, .subject = src, .path = pol->path };

        for (size_t i = 0; i < pol->template.n_actions; i++) {
                const OfAction *a = &pol->template.actions[i];
                _cleanup_(freep) char *name = NULL;
                const OfPort *t;

                if (a->type != OF_ACTION_OUTPUT)
                        continue;
                name = of_substitute(&rc, a->output.port);
                t = name ? of_resolve_port(B->ports, B->b->name, name) : NULL;
                if (t && t != src && t->container_id)
                        return t;
        }
        return NULL;
}

/* Level 3 chain: a container steered to another container is a member
 * confined to its next hop; the next hop is a member too. */
static void analyse_chain(Builder *B) {
        for (size_t k = 0; k < B->c->n_flow_policies; k++)
                for (size_t i = 0; i < B->ports->n; i++) {
                        const OfPort *p = &B->ports->ports[i], *t;

                        if (!usable(p, B->b->name) || !policy_selects(&B->c->flow_policies[k], p))
                                continue;
                        t = steering_target(B, &B->c->flow_policies[k], p);
                        if (!t)
                                continue;
                        B->steered[i] = B->member[i] = true;
                        B->member[t - B->ports->ports] = true;
                }
}

static bool has_output(const OfFlowTemplate *t) {
        for (size_t i = 0; i < t->n_actions; i++)
                if (t->actions[i].type == OF_ACTION_OUTPUT)
                        return true;
        return false;
}

/* Where a match of the state turned out to name one field of the switch
 * twice with different values (nw_tos and ip_dscp, nw_src and arp_spa in
 * an ARP match). */
static void conflict(Builder *B, const OfMatch *m, size_t bad, const char *path) {
        diag_error(B->d, path, "%s sets what another field of the match already sets (Open vSwitch holds them as one "
                   "field), to another value; give one of them", bad < m->n ? m->field[bad]->name : "a field");
}

/* One flow of the model: the match m, to which the model's match mf is
 * added, and the actions a. */
static void model_flow(Builder *B, const OfEncodeContext *rc, OfMatch *m, const OfMatchField *mf, size_t n_mf,
                       const OfAction *a, size_t n_a, bool cookie_given, uint64_t cookie, uint8_t table,
                       uint16_t priority, uint16_t idle, uint16_t hard, const char *path) {
        OfFlowStart fs;
        size_t bad;
        int r;

        r = of_match_from_model(rc, mf, n_mf, m, B->d);
        if (r < 0)
                return (void) RET_GATHER(B->error, r);
        r = of_flow_set_begin(B->out, m, &fs, &bad);
        if (r == -EINVAL)
                conflict(B, m, bad, rc->path);
        if (r < 0)
                return (void) RET_GATHER(B->error, r);
        /* Without a cookie, the flow's identity names it, so adding or
         * removing other flows leaves it alone. */
        if (!cookie_given)
                cookie = OF_CLASS_USER << OF_CLASS_SHIFT | (of_flow_set_identity(B->out, &fs, table, priority) & 0xffffffffffffULL);
        r = of_actions_encode(rc, a, n_a, m, &B->out->bytes, B->d);
        if (r >= 0)
                r = of_flow_set_end(B->out, &fs, cookie, table, priority, idle, hard, path);
        if (r < 0) {
                of_flow_set_abort(B->out, &fs);
                RET_GATHER(B->error, r);
        }
}

static void policy_flows(Builder *B, size_t k, const OfPort *p) {
        const OfFlowPolicy *pol = &B->c->flow_policies[k];
        const OfFlowTemplate *t = &pol->template;
        char tpath[JSON_PATH_MAX];
        OfEncodeContext rc = { .ports = B->ports, .bridge = B->b->name, .subject = p, .path = tpath };
        unsigned variant = (p->index & 0x3f) << 2;
        /* Steering without an explicit match moves IP traffic (variants 1
         * and 2); ARP stays local so the containers can still find each
         * other. */
        bool ip_only = t->n_match == 0 && has_output(t);
        uint32_t id = subject_of(p);
        OfMatch m;

        of_path(tpath, sizeof tpath, pol->path, "template", SIZE_MAX);
        for (unsigned v = ip_only ? 1 : 0; v <= (ip_only ? 2u : 0u); v++) {
                port_match(&m, p, v == 0 ? -1 : v == 1 ? (int) OF_F_IP : (int) OF_F_IPV6);
                /* not a conntrack reply */
                of_match_add_masked(&m, OF_F_REG0 + OF_REPLY_REG, 0, OF_REPLY_BIT);
                model_flow(B, &rc, &m, t->match, t->n_match, t->actions, t->n_actions, true,
                           of_cookie(OF_CLASS_POLICY, k, variant | v, id), t->table, t->priority, 0, 0, pol->path);
        }
}

static void policies(Builder *B, size_t *hits) {
        for (size_t k = 0; k < B->c->n_flow_policies; k++) {
                const OfFlowPolicy *pol = &B->c->flow_policies[k];

                if (k > 0xff) {
                        diag_error(B->d, pol->path, "at most 256 flow policies are supported");
                        RET_GATHER(B->error, -EINVAL);
                        return;
                }
                for (size_t i = 0; i < B->ports->n; i++) {
                        const OfPort *p = &B->ports->ports[i];

                        if (!usable(p, B->b->name) || !policy_selects(pol, p))
                                continue;
                        hits[k]++;
                        policy_flows(B, k, p);
                }
        }
}

static void user_flows(Builder *B) {
        for (size_t i = 0; i < B->b->n_flows; i++) {
                const OfFlow *f = &B->b->flows[i];
                OfEncodeContext rc = { .ports = B->ports, .bridge = B->b->name, .path = f->path };
                uint64_t cookie = 0;
                OfMatch m;

                if (f->has_cookie) {
                        if (of_cookie_class(f->cookie) == 0)
                                cookie = f->cookie | OF_CLASS_USER << OF_CLASS_SHIFT;
                        else if (of_cookie_class(f->cookie) == OF_CLASS_USER)
                                cookie = f->cookie;
                        else {
                                diag_error(B->d, f->path, "cookie 0x%016" PRIx64 " is outside the class of explicit flows "
                                           "(0xface............); give the low 48 bits only", f->cookie);
                                RET_GATHER(B->error, -EINVAL);
                                continue;
                        }
                }
                m.n = 0;
                model_flow(B, &rc, &m, f->match, f->n_match, f->actions, f->n_actions, f->has_cookie, cookie,
                           f->table, f->priority, f->idle_timeout, f->hard_timeout, f->path);
        }
}

int of_pipeline_build(const OpenflowConfig *c, const OfBridge *b, const OfPorts *ports,
                      OfFlowSet *out, size_t *policy_hits, Diag *d) {
        _cleanup_(freep) bool *member = calloc(ports->n + 1, sizeof(bool));
        _cleanup_(freep) bool *steered = calloc(ports->n + 1, sizeof(bool));
        Builder B = {
                .c = c, .b = b, .ports = ports, .out = out, .d = d,
                .level = c->enable_security_flows ? c->obfuscation_level : 0,
                .member = member, .steered = steered,
        };
        uint64_t dup;

        if (!member || !steered)
                return -ENOMEM;

        base_pipeline(&B);
        if (B.level >= 1)
                security_global(&B);
        analyse_chain(&B);
        for (size_t i = 0; i < ports->n; i++) {
                const OfPort *p = &ports->ports[i];

                if (!usable(p, b->name) || !p->container_id)
                        continue;
                if (B.level >= 1)
                        security_port(&B, p);
                if (B.level >= 2)
                        hiding_port(&B, p);
                if (B.level >= 3 && member[i])
                        leak_port(&B, p, steered[i]);
        }
        if (B.level >= 3 && !c->has_dns_resolver)
                diag_warning(d, "plugins.openflow", "obfuscation_level 3 without dns_resolver: "
                             "chain members cannot send DNS anywhere");
        policies(&B, policy_hits);
        user_flows(&B);
        if (B.error < 0)
                return B.error;

        if (of_flow_set_sort(out, &dup) < 0) {
                diag_error(d, b->path, "two flows on bridge %s have cookie 0x%016" PRIx64 "; give one of them "
                           "another cookie (or another table, priority or match)", b->name, dup);
                return -EINVAL;
        }
        return 0;
}
