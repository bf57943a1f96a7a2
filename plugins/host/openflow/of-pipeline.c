/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The flows one bridge should have: the table layout, the security levels,
 * the flow policies and the explicit flows. docs/flows.md describes the
 * result; this file is the one place that decides it. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

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

static void flow(Builder *B, uint64_t cookie, uint8_t table, uint16_t prio, const char *actions,
                 const char *match_fmt, ...) _printf_(6, 7);

static void flow(Builder *B, uint64_t cookie, uint8_t table, uint16_t prio, const char *actions,
                 const char *match_fmt, ...) {
        char match[512];
        va_list ap;
        int r;

        va_start(ap, match_fmt);
        vsnprintf(match, sizeof match, match_fmt, ap);
        va_end(ap);
        r = of_flow_set_add(B->out, cookie, table, prio, 0, 0, match, actions);
        RET_GATHER(B->error, r);
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
        char next[32];

#define BASE(rule) of_cookie(OF_CLASS_PIPELINE, rule, 0, 0)
        snprintf(next, sizeof next, "resubmit(,%d)", OF_TABLE_SANITY);
        flow(B, BASE(1), OF_TABLE_ADMIT, 1, next, "%s", "");
        snprintf(next, sizeof next, "resubmit(,%d)", OF_TABLE_CT);
        flow(B, BASE(2), OF_TABLE_SANITY, 1, next, "%s", "");
        flow(B, BASE(3), OF_TABLE_CT, 10, "ct(table=5)", "ip");
        flow(B, BASE(4), OF_TABLE_CT, 10, "ct(table=5)", "ipv6");
        /* Neighbour discovery and MLD are not connections: conntrack would
         * call them invalid (and level 1 would drop them). */
        snprintf(next, sizeof next, "resubmit(,%d)", OF_TABLE_HIDE);
        for (unsigned i = 0; i < ELEMENTSOF(icmp6_control); i++)
                flow(B, of_cookie(OF_CLASS_PIPELINE, 15, i, 0), OF_TABLE_CT, 20, next, "icmp6,icmp_type=%u",
                     icmp6_control[i]);
        snprintf(next, sizeof next, "resubmit(,%d)", OF_TABLE_HIDE);
        flow(B, BASE(5), OF_TABLE_CT, 1, next, "%s", "");
        flow(B, BASE(6), OF_TABLE_CT_STATE, 20, "load:1->NXM_NX_REG0[0],resubmit(,8)", "ct_state=+rpl+trk");
        flow(B, BASE(7), OF_TABLE_CT_STATE, 10, "ct(commit),resubmit(,8)", "ct_state=+new+trk,ip");
        flow(B, BASE(8), OF_TABLE_CT_STATE, 10, "ct(commit),resubmit(,8)", "ct_state=+new+trk,ipv6");
        flow(B, BASE(9), OF_TABLE_CT_STATE, 1, next, "%s", "");
        snprintf(next, sizeof next, "resubmit(,%d)", OF_TABLE_LEAK);
        flow(B, BASE(10), OF_TABLE_HIDE, 1, next, "%s", "");
        snprintf(next, sizeof next, "resubmit(,%d)", OF_TABLE_POLICY);
        flow(B, BASE(11), OF_TABLE_LEAK, 1, next, "%s", "");
        snprintf(next, sizeof next, "resubmit(,%d)", OF_TABLE_OUT);
        flow(B, BASE(12), OF_TABLE_POLICY, 1, next, "%s", "");
        flow(B, BASE(13), OF_TABLE_OUT, 1, "NORMAL", "%s", "");
        /* Replies to connections a container opened are never steered or confined. */
        flow(B, BASE(14), OF_TABLE_OUT, 30, "NORMAL", "%s", OF_REPLY_MATCH_YES);
#undef BASE
}

/* Level 1, for the whole bridge. */
static void security_global(Builder *B) {
#define SEC(rule) of_cookie(OF_CLASS_SECURITY, rule, 0, 0)
        flow(B, SEC(1), OF_TABLE_SANITY, 300, "drop", "tcp,tcp_flags=0");
        flow(B, SEC(2), OF_TABLE_SANITY, 300, "drop", "tcp,tcp_flags=+fin+psh+urg");
        flow(B, SEC(3), OF_TABLE_SANITY, 300, "drop", "tcp,tcp_flags=+syn+fin");
        flow(B, SEC(4), OF_TABLE_SANITY, 300, "drop", "ip,nw_src=0.0.0.0/8");
        /* ... except DHCP clients, which have no address yet. */
        flow(B, SEC(5), OF_TABLE_SANITY, 310, "resubmit(,3)",
             "udp,nw_src=0.0.0.0,nw_dst=255.255.255.255,tp_src=68,tp_dst=67");
        flow(B, SEC(6), OF_TABLE_SANITY, 300, "drop", "ip,nw_src=224.0.0.0/4");
        flow(B, SEC(7), OF_TABLE_SANITY, 300, "drop", "ip,nw_src=240.0.0.0/4");
        flow(B, SEC(8), OF_TABLE_SANITY, 300, "drop", "dl_src=01:00:00:00:00:00/01:00:00:00:00:00");
        flow(B, SEC(9), OF_TABLE_CT_STATE, 100, "drop", "ct_state=+inv+trk");
#undef SEC
}

/* Level 1, per container port: its frames must carry its own MAC and IPv4
 * address; it may not act as a DHCP server or IPv6 router unless allowed. */
static void security_port(Builder *B, const OfPort *p) {
        const OfSocketPort *s = p->sock;
        uint32_t id = subject_of(p);
        int64_t n = p->ofport;
        char mac[18], ip[INET_ADDRSTRLEN];

#define SEC(rule) of_cookie(OF_CLASS_SECURITY, rule, p->index, id)
        if (s && s->has_hwaddr) {
                snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", s->hwaddr[0], s->hwaddr[1],
                         s->hwaddr[2], s->hwaddr[3], s->hwaddr[4], s->hwaddr[5]);
                if (s->has_ipv4) {
                        inet_ntop(AF_INET, &s->ipv4, ip, sizeof ip);
                        flow(B, SEC(20), OF_TABLE_ADMIT, 400, "resubmit(,2)", "ip,in_port=%" PRId64 ",dl_src=%s,nw_src=%s", n, mac, ip);
                        flow(B, SEC(21), OF_TABLE_ADMIT, 400, "resubmit(,2)",
                             "arp,in_port=%" PRId64 ",dl_src=%s,arp_spa=%s,arp_sha=%s", n, mac, ip, mac);
                        flow(B, SEC(22), OF_TABLE_ADMIT, 400, "resubmit(,2)",
                             "udp,in_port=%" PRId64 ",dl_src=%s,nw_src=0.0.0.0,tp_src=68,tp_dst=67", n, mac);
                        flow(B, SEC(23), OF_TABLE_ADMIT, 400, "resubmit(,2)", "ipv6,in_port=%" PRId64 ",dl_src=%s", n, mac);
                        flow(B, SEC(24), OF_TABLE_ADMIT, 400, "resubmit(,2)",
                             "arp,in_port=%" PRId64 ",dl_src=%s,arp_spa=0.0.0.0,arp_sha=%s", n, mac, mac);
                } else
                        flow(B, SEC(20), OF_TABLE_ADMIT, 400, "resubmit(,2)", "in_port=%" PRId64 ",dl_src=%s", n, mac);
                flow(B, SEC(25), OF_TABLE_ADMIT, 390, "drop", "in_port=%" PRId64, n);
        } else
                diag_warning(B->d, B->b->path, "port %s of container %" PRIu32 ": no hwaddr/ipv4 declared in socket_ports, "
                             "so its source addresses are not checked", p->name, p->container_id);

        if (!s || !s->allow_dhcp_server) {
                flow(B, SEC(26), OF_TABLE_SANITY, 350, "drop", "udp,in_port=%" PRId64 ",tp_src=67", n);
                flow(B, SEC(27), OF_TABLE_SANITY, 350, "drop", "udp6,in_port=%" PRId64 ",tp_src=547", n);
        }
        if (!s || !s->allow_router_advertisements)
                flow(B, SEC(28), OF_TABLE_SANITY, 350, "drop", "icmp6,in_port=%" PRId64 ",icmp_type=134", n);
#undef SEC
}

/* Level 2: what leaves a container looks the same whoever sent it. */
static void hiding_port(Builder *B, const OfPort *p) {
        static const char *const normalise = "mod_nw_ttl:64,mod_nw_tos:0,mod_nw_ecn:0,resubmit(,9)";

        flow(B, of_cookie(OF_CLASS_HIDING, 1, p->index, subject_of(p)), OF_TABLE_HIDE, 10, normalise,
             "ip,in_port=%" PRId64, p->ofport);
        flow(B, of_cookie(OF_CLASS_HIDING, 2, p->index, subject_of(p)), OF_TABLE_HIDE, 10, normalise,
             "ipv6,in_port=%" PRId64, p->ofport);
}

/* Level 3, per chain member: DNS only to the resolver, no IPv6, and a
 * member with a container next hop sends nowhere else. */
static void leak_port(Builder *B, const OfPort *p, bool steered) {
        uint32_t id = subject_of(p);
        int64_t n = p->ofport;

#define LEAK(rule) of_cookie(OF_CLASS_LEAK, rule, p->index, id)
        if (B->c->has_dns_resolver) {
                char ip[INET_ADDRSTRLEN];

                inet_ntop(AF_INET, &B->c->dns_resolver, ip, sizeof ip);
                flow(B, LEAK(1), OF_TABLE_LEAK, 110, "resubmit(,10)", "udp,in_port=%" PRId64 ",nw_dst=%s,tp_dst=53", n, ip);
                flow(B, LEAK(2), OF_TABLE_LEAK, 110, "resubmit(,10)", "tcp,in_port=%" PRId64 ",nw_dst=%s,tp_dst=53", n, ip);
        }
        flow(B, LEAK(3), OF_TABLE_LEAK, 100, "drop", "udp,in_port=%" PRId64 ",tp_dst=53", n);
        flow(B, LEAK(4), OF_TABLE_LEAK, 100, "drop", "tcp,in_port=%" PRId64 ",tp_dst=53", n);
        flow(B, LEAK(5), OF_TABLE_LEAK, 100, "drop", "udp6,in_port=%" PRId64 ",tp_dst=53", n);
        flow(B, LEAK(6), OF_TABLE_LEAK, 100, "drop", "tcp6,in_port=%" PRId64 ",tp_dst=53", n);
        if (!p->sock || !p->sock->allow_ipv6)
                flow(B, LEAK(7), OF_TABLE_LEAK, 90, "drop", "ipv6,in_port=%" PRId64, n);
        if (steered) {
                flow(B, LEAK(8), OF_TABLE_OUT, 10, "drop", "in_port=%" PRId64, n);
                flow(B, LEAK(9), OF_TABLE_OUT, 20, "NORMAL", "arp,in_port=%" PRId64, n);
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
        OfRenderContext rc = { .ports = B->ports, .bridge = B->b->name, .subject = src, .path = pol->path };

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

static int template_match(Builder *B, const OfRenderContext *rc, const OfFlowTemplate *t, char **ret) {
        if (t->n_match == 0) {
                *ret = strdup("");
                return *ret ? 0 : -ENOMEM;
        }
        return of_render_match(rc, t->match, t->n_match, ret, B->d);
}

static void policy_flows(Builder *B, size_t k, const OfPort *p) {
        const OfFlowPolicy *pol = &B->c->flow_policies[k];
        const OfFlowTemplate *t = &pol->template;
        _cleanup_(freep) char *tpath = NULL, *actions = NULL, *extra = NULL;
        OfRenderContext rc = { .ports = B->ports, .bridge = B->b->name, .subject = p };
        unsigned variant = (p->index & 0x3f) << 2;
        uint32_t id = subject_of(p);
        int r;

        if (asprintf(&tpath, "%s.template", pol->path) < 0)
                return (void) RET_GATHER(B->error, -ENOMEM);
        rc.path = tpath;
        r = of_render_actions(&rc, t->actions, t->n_actions, &actions, B->d);
        if (r >= 0)
                r = template_match(B, &rc, t, &extra);
        if (r < 0)
                return (void) RET_GATHER(B->error, r);

        /* Steering without an explicit match moves IP traffic; ARP stays
         * local so the containers can still find each other. */
        if (!extra[0] && has_output(t)) {
                flow(B, of_cookie(OF_CLASS_POLICY, k, variant | 1, id), t->table, t->priority, actions,
                     "ip,in_port=%" PRId64 ",%s", p->ofport, OF_REPLY_MATCH_NO);
                flow(B, of_cookie(OF_CLASS_POLICY, k, variant | 2, id), t->table, t->priority, actions,
                     "ipv6,in_port=%" PRId64 ",%s", p->ofport, OF_REPLY_MATCH_NO);
        } else
                flow(B, of_cookie(OF_CLASS_POLICY, k, variant, id), t->table, t->priority, actions,
                     "in_port=%" PRId64 ",%s%s%s", p->ofport, OF_REPLY_MATCH_NO, extra[0] ? "," : "", extra);
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

static uint64_t identity_hash(uint8_t table, uint16_t priority, const char *match) {
        uint64_t h = 0xcbf29ce484222325ULL;
        char head[16];

        snprintf(head, sizeof head, "%u/%u/", table, priority);
        for (const char *c = head; *c; c++)
                h = (h ^ (unsigned char) *c) * 0x100000001b3ULL;
        for (const char *c = match; *c; c++)
                h = (h ^ (unsigned char) *c) * 0x100000001b3ULL;
        return h;
}

static void user_flows(Builder *B) {
        for (size_t i = 0; i < B->b->n_flows; i++) {
                const OfFlow *f = &B->b->flows[i];
                OfRenderContext rc = { .ports = B->ports, .bridge = B->b->name, .path = f->path };
                _cleanup_(freep) char *match = NULL, *actions = NULL;
                uint64_t cookie = 0;
                int r;

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
                r = of_render_match(&rc, f->match, f->n_match, &match, B->d);
                /* Without a cookie, the flow's identity names it, so adding
                 * or removing other flows leaves it alone. */
                if (r >= 0 && !f->has_cookie)
                        cookie = OF_CLASS_USER << OF_CLASS_SHIFT | (identity_hash(f->table, f->priority, match) & 0xffffffffffffULL);
                if (r >= 0)
                        r = of_render_actions(&rc, f->actions, f->n_actions, &actions, B->d);
                if (r >= 0)
                        r = of_flow_set_add(B->out, cookie, f->table, f->priority, f->idle_timeout,
                                            f->hard_timeout, match, actions);
                RET_GATHER(B->error, r);
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
