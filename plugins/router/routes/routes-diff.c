/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The routes section against the dumps: the changes to make, each with
 * its plan action, and the owned routes and rules as a section. Pure. */
#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdio.h>

#include "json-util.h"
#include "router.h"
#include "routes.h"
#include "strbuf.h"

void rt_live_done(RtLive *l) {
        free(l->links);
        free(l->routes);
        free(l->rules);
        *l = (RtLive) {};
}

void rt_changes_done(RtChanges *c) {
        free(c->ops);
        *c = (RtChanges) {};
}

static const char *link_name(const RtLive *live, int ifindex) {
        for (size_t i = 0; i < live->n_links; i++)
                if (live->links[i].ifindex == ifindex)
                        return live->links[i].name;
        return NULL;
}

static const RtnlLink *link_by_name(const RtLive *live, const char *name) {
        for (size_t i = 0; i < live->n_links; i++)
                if (streq(live->links[i].name, name))
                        return &live->links[i];
        return NULL;
}

static void addr_text(int family, const RtnlInAddr *a, char buf[static INET6_ADDRSTRLEN]) {
        if (!inet_ntop(family, a, buf, INET6_ADDRSTRLEN))
                snprintf(buf, INET6_ADDRSTRLEN, "?");
}

static const char *type_name(uint8_t type) {
        switch (type) {
        case RTN_BLACKHOLE:   return "blackhole";
        case RTN_UNREACHABLE: return "unreachable";
        case RTN_PROHIBIT:    return "prohibit";
        default:              return "unicast";
        }
}

/* "10.1.0.0/16" or "default" (IPv6: "default6" is not a word: "::/0") */
static void dst_text(const RtnlRoute *r, char buf[static INET6_ADDRSTRLEN + 8]) {
        char a[INET6_ADDRSTRLEN];

        if (r->dst_len == 0 && r->family == AF_INET) {
                snprintf(buf, INET6_ADDRSTRLEN + 8, "default");
                return;
        }
        addr_text(r->family, &r->dst, a);
        snprintf(buf, INET6_ADDRSTRLEN + 8, "%s/%u", a, r->dst_len);
}

char *rt_route_describe(const RtnlRoute *r, const RtLive *live) {
        _cleanup_(strbuf_done) StrBuf b = {};
        char dst[INET6_ADDRSTRLEN + 8], gw[INET6_ADDRSTRLEN];
        const char *dev = r->oif ? link_name(live, r->oif) : NULL;

        dst_text(r, dst);
        strbuf_printf(&b, "%s%s%s", r->type != RTN_UNICAST ? type_name(r->type) : "",
                      r->type != RTN_UNICAST ? " " : "", dst);
        if (r->has_gateway) {
                addr_text(r->family, &r->gateway, gw);
                strbuf_printf(&b, " via %s", gw);
        }
        if (r->oif)
                strbuf_printf(&b, " dev %s", dev ?: "?");
        if (r->table != RT_TABLE_MAIN)
                strbuf_printf(&b, " table %" PRIu32, r->table);
        if (r->priority)
                strbuf_printf(&b, " metric %" PRIu32, r->priority);
        return strbuf_take(&b);
}

char *rt_rule_describe(const RtnlRule *r) {
        _cleanup_(strbuf_done) StrBuf b = {};
        char a[INET6_ADDRSTRLEN];

        strbuf_printf(&b, "%" PRIu32 ": %s", r->priority, r->family == AF_INET ? "ipv4" : "ipv6");
        if (r->src_len) {
                addr_text(r->family, &r->src, a);
                strbuf_printf(&b, " from %s/%u", a, r->src_len);
        }
        if (r->dst_len) {
                addr_text(r->family, &r->dst, a);
                strbuf_printf(&b, " to %s/%u", a, r->dst_len);
        }
        if (r->iif[0])
                strbuf_printf(&b, " iif %s", r->iif);
        if (r->has_fwmark)
                strbuf_printf(&b, " fwmark 0x%" PRIx32 "/0x%" PRIx32, r->fwmark, r->fwmask ?: UINT32_MAX);
        strbuf_printf(&b, " lookup %" PRIu32, r->table);
        return strbuf_take(&b);
}

/* ---- routes ---------------------------------------------------------------------- */

static bool declared(const RtConfig *c, const char *name) {
        for (char **n = c->declared; n && *n; n++)
                if (streq(*n, name))
                        return true;
        return false;
}


/* Does a live route carry what the desired one says? (Without "dev",
 * the kernel chooses the interface of the gateway's subnet.) */
static bool route_same(const RtnlRoute *want, const RtnlRoute *have) {
        return want->type == have->type && want->has_gateway == have->has_gateway &&
               (!want->has_gateway || memcmp(&want->gateway, &have->gateway, sizeof want->gateway) == 0) &&
               (!want->oif || want->oif == have->oif) && !have->multipath;
}

static int push(RtChanges *c, const RtOp *op) {
        RtOp *t = realloc(c->ops, (c->n_ops + 1) * sizeof(RtOp));

        if (!t)
                return -ENOMEM;
        c->ops = t;
        c->ops[c->n_ops++] = *op;
        return 0;
}

/* A route's impact: the default route is the way out of every network
 * behind the router; another route, the way to the networks it names. */
static Impact route_impact(const RtnlRoute *r) {
        return r->dst_len == 0 ? IMPACT_WAN_OUTAGE : IMPACT_LAN_OUTAGE;
}

static int plan_route(Plan *plan, ActionKind kind, const RtnlRoute *r, const RtnlRoute *old, const RtLive *live) {
        _cleanup_(freep) char *what = rt_route_describe(r, live), *was = old ? rt_route_describe(old, live) : NULL;
        char dst[INET6_ADDRSTRLEN + 8];
        int k;

        if (!what || (old && !was))
                return -ENOMEM;
        dst_text(r, dst);
        k = plan_add(plan, "routes", kind, kind == ACTION_CREATE ? IMPACT_NONE : route_impact(r), what, "%s%s%s",
                     kind == ACTION_CREATE ? "add route" : kind == ACTION_DELETE ? "delete route" : "change route",
                     was ? ", was " : "", was ?: "");
        if (k >= 0 && kind == ACTION_DELETE && r->dst_len == 0 && r->table == RT_TABLE_MAIN)
                k = plan_set_outage(plan, "take away the router's default route (%s)", what);
        return k;
}

/* The first live route (in the dump's order) with want's key that is not
 * a local or broadcast route, or NULL. */
static const RtnlRoute *find_live(const RtLive *live, const RtKeyIndex *x, const RtnlRoute *want) {
        size_t first = SIZE_MAX;

        for (size_t s = rt_key_slot(x, want); x->slots[s]; s = (s + 1) & x->mask) {
                const RtnlRoute *h = &live->routes[x->slots[s] - 1];

                if (x->slots[s] - 1 < first && rt_route_key_equal(want, h) && h->type != RTN_LOCAL &&
                    h->type != RTN_BROADCAST)
                        first = x->slots[s] - 1;
        }
        return first == SIZE_MAX ? NULL : &live->routes[first];
}

static int diff_routes(const RtConfig *c, const RtLive *live, RtChanges *out, Plan *plan, Diag *d) {
        _cleanup_(rt_key_index_done) RtKeyIndex keys = {};
        bool *wanted = calloc(live->n_routes + 1, sizeof(bool));
        int ret = 0, k = 0;

        if (!wanted || rt_key_index_init(&keys, live->n_routes) < 0) {
                free(wanted);
                return -ENOMEM;
        }
        for (size_t j = 0; j < live->n_routes; j++)
                rt_key_index_add(&keys, &live->routes[j], j);
        for (size_t i = 0; i < c->n_routes && k >= 0; i++) {
                RtnlRoute want = c->routes[i].r;
                const RtnlRoute *have = NULL;

                if (c->routes[i].dev) {
                        const RtnlLink *l = link_by_name(live, c->routes[i].dev);

                        if (!l && declared(c, c->routes[i].dev)) {
                                /* made by the interfaces section of this apply */
                                RtOp op = { .type = RT_ADD_ROUTE, .route = want };

                                snprintf(op.dev, sizeof op.dev, "%s", c->routes[i].dev);
                                k = push(out, &op);
                                if (k >= 0)
                                        k = plan_route(plan, ACTION_CREATE, &want, NULL, live);
                                continue;
                        }
                        if (!l) {
                                _cleanup_(freep) char *p = json_path_key(c->routes[i].path, "dev");

                                diag_error(d, p ?: c->routes[i].path, "interface %s is not on this router",
                                           c->routes[i].dev);
                                ret = -EINVAL;
                                continue;
                        }
                        want.oif = l->ifindex;
                }
                have = find_live(live, &keys, &want);
                if (have)
                        wanted[have - live->routes] = true;
                if (have && have->protocol != RTNL_PROTO_OPDBUS) {
                        _cleanup_(freep) char *what = rt_route_describe(have, live);

                        diag_error(d, c->routes[i].path, "the route %s (protocol %u) is not op-router's: it has the "
                                   "same destination, table and metric; op-router does not take it over (give this "
                                   "route another metric, or delete that one)", strna(what), have->protocol);
                        ret = -EINVAL;
                        continue;
                }
                if (have && route_same(&want, have))
                        continue;
                k = push(out, &(RtOp) { .type = have ? RT_REPLACE_ROUTE : RT_ADD_ROUTE, .route = want });
                if (k >= 0)
                        k = plan_route(plan, have ? ACTION_MODIFY : ACTION_CREATE, &want, have, live);
        }
        /* owned routes the section does not have go, when it is there */
        for (size_t j = 0; c->present && j < live->n_routes && k >= 0; j++)
                if (!wanted[j] && live->routes[j].protocol == RTNL_PROTO_OPDBUS) {
                        k = push(out, &(RtOp) { .type = RT_DELETE_ROUTE, .route = live->routes[j] });
                        if (k >= 0)
                                k = plan_route(plan, ACTION_DELETE, &live->routes[j], NULL, live);
                }
        free(wanted);
        return k < 0 ? k : ret;
}

/* ---- rules ------------------------------------------------------------------------ */

static bool rule_equal(const RtnlRule *a, const RtnlRule *b) {
        return a->family == b->family && a->priority == b->priority && a->src_len == b->src_len &&
               a->dst_len == b->dst_len && memcmp(&a->src, &b->src, sizeof a->src) == 0 &&
               memcmp(&a->dst, &b->dst, sizeof a->dst) == 0 && streq(a->iif, b->iif) && streq(a->oif, b->oif) &&
               a->has_fwmark == b->has_fwmark &&
               (!a->has_fwmark || (a->fwmark == b->fwmark && (a->fwmask ?: UINT32_MAX) == (b->fwmask ?: UINT32_MAX))) &&
               a->table == b->table && (a->action ?: FR_ACT_TO_TBL) == (b->action ?: FR_ACT_TO_TBL) &&
               a->flags == b->flags;
}

static int plan_rule(Plan *plan, ActionKind kind, const RtnlRule *r) {
        _cleanup_(freep) char *what = rt_rule_describe(r);

        if (!what)
                return -ENOMEM;
        return plan_add(plan, "routes", kind, kind == ACTION_CREATE ? IMPACT_NONE : IMPACT_LAN_OUTAGE, what, "%s",
                        kind == ACTION_CREATE ? "add rule" : "delete rule");
}

static int diff_rules(const RtConfig *c, const RtLive *live, RtChanges *out, Plan *plan, Diag *d) {
        bool *wanted = calloc(live->n_rules + 1, sizeof(bool));
        int ret = 0, k = 0;

        if (!wanted)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_rules && k >= 0; i++) {
                const RtnlRule *want = &c->rules[i].r;
                bool found = false;

                for (size_t j = 0; j < live->n_rules && !found; j++) {
                        if (!rule_equal(want, &live->rules[j]))
                                continue;
                        found = true;
                        wanted[j] = true;
                        if (live->rules[j].protocol != RTNL_PROTO_OPDBUS) {
                                _cleanup_(freep) char *what = rt_rule_describe(want);

                                diag_error(d, c->rules[i].path, "the rule %s exists and is not op-router's "
                                           "(protocol %u): op-router does not take it over", strna(what),
                                           live->rules[j].protocol);
                                ret = -EINVAL;
                        }
                }
                if (found)
                        continue;
                k = push(out, &(RtOp) { .type = RT_ADD_RULE, .rule = *want });
                if (k >= 0)
                        k = plan_rule(plan, ACTION_CREATE, want);
        }
        for (size_t j = 0; c->present && j < live->n_rules && k >= 0; j++)
                if (!wanted[j] && live->rules[j].protocol == RTNL_PROTO_OPDBUS) {
                        k = push(out, &(RtOp) { .type = RT_DELETE_RULE, .rule = live->rules[j] });
                        if (k >= 0)
                                k = plan_rule(plan, ACTION_DELETE, &live->rules[j]);
                }
        free(wanted);
        return k < 0 ? k : ret;
}

static int op_rank(const RtOp *o) {
        return (int) o->type;
}

static int cmp_ops(const void *a, const void *b) {
        return op_rank(a) - op_rank(b);
}

int rt_diff(const RtConfig *c, const RtLive *live, RtChanges *ret, Plan *plan, Diag *d) {
        RtChanges out = {};
        int r;

        /* every conflict reported, the routes' and the rules' */
        r = diff_routes(c, live, &out, plan, d);
        if (r != -ENOMEM) {
                int k = diff_rules(c, live, &out, plan, d);

                r = k == -ENOMEM ? k : r < 0 ? r : k;
        }
        if (r < 0) {
                rt_changes_done(&out);
                return r;
        }
        /* deletions first (a rule before the routes of its table), then
         * replacements and additions (routes before the rules that lead
         * to them); stable within a kind */
        for (size_t i = 1; i < out.n_ops; i++)
                for (size_t j = i; j > 0 && cmp_ops(&out.ops[j - 1], &out.ops[j]) > 0; j--) {
                        RtOp t = out.ops[j];

                        out.ops[j] = out.ops[j - 1];
                        out.ops[j - 1] = t;
                }
        *ret = out;
        return 0;
}

/* ---- the owned routes and rules as a section ------------------------------------------ */

static int add_string(json_object *o, const char *key, const char *value) {
        json_object *v = json_object_new_string(value);

        return v && json_object_object_add(o, key, v) == 0 ? 0 : (json_object_put(v), -ENOMEM);
}

static int add_int(json_object *o, const char *key, int64_t value) {
        json_object *v = json_object_new_int64(value);

        return v && json_object_object_add(o, key, v) == 0 ? 0 : (json_object_put(v), -ENOMEM);
}

static json_object *route_to_json(const RtnlRoute *r, const RtLive *live) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        char dst[INET6_ADDRSTRLEN + 8], gw[INET6_ADDRSTRLEN];
        const char *dev = r->oif ? link_name(live, r->oif) : NULL;
        int k;

        if (!o)
                return NULL;
        dst_text(r, dst);
        k = add_string(o, "to", dst);
        if (k >= 0 && r->has_gateway) {
                addr_text(r->family, &r->gateway, gw);
                k = add_string(o, "via", gw);
        }
        if (k >= 0 && dev)
                k = add_string(o, "dev", dev);
        if (k >= 0 && r->table != RT_TABLE_MAIN)
                k = add_int(o, "table", r->table);
        if (k >= 0)
                k = add_int(o, "metric", r->priority);
        if (k >= 0 && r->type != RTN_UNICAST)
                k = add_string(o, "type", type_name(r->type));
        return k >= 0 ? json_object_get(o) : NULL;
}

static json_object *rule_to_json(const RtnlRule *r) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        char a[INET6_ADDRSTRLEN + 8], buf[32];
        int k;

        if (!o)
                return NULL;
        k = add_int(o, "priority", r->priority);
        if (k >= 0)
                k = add_string(o, "family", r->family == AF_INET ? "ipv4" : "ipv6");
        if (k >= 0 && r->src_len) {
                addr_text(r->family, &r->src, a);
                snprintf(a + strlen(a), 8, "/%u", r->src_len);
                k = add_string(o, "from", a);
        }
        if (k >= 0 && r->dst_len) {
                addr_text(r->family, &r->dst, a);
                snprintf(a + strlen(a), 8, "/%u", r->dst_len);
                k = add_string(o, "to", a);
        }
        if (k >= 0 && r->iif[0])
                k = add_string(o, "iif", r->iif);
        if (k >= 0 && r->has_fwmark) {
                snprintf(buf, sizeof buf, "0x%" PRIx32 "/0x%" PRIx32, r->fwmark, r->fwmask ?: UINT32_MAX);
                k = add_string(o, "fwmark", buf);
        }
        if (k >= 0)
                k = r->table == RT_TABLE_MAIN ? add_string(o, "table", "main") : add_int(o, "table", r->table);
        return k >= 0 ? json_object_get(o) : NULL;
}

int rt_live_to_json(const RtLive *live, json_object **ret) {
        _cleanup_(json_object_putp) json_object *s = json_object_new_object(), *routes = json_object_new_array(),
                *rules = json_object_new_array();
        int k = s && routes && rules ? 0 : -ENOMEM;

        for (size_t i = 0; k >= 0 && i < live->n_routes; i++)
                if (live->routes[i].protocol == RTNL_PROTO_OPDBUS)
                        k = json_array_append_take(routes, route_to_json(&live->routes[i], live));
        for (size_t i = 0; k >= 0 && i < live->n_rules; i++)
                if (live->rules[i].protocol == RTNL_PROTO_OPDBUS)
                        k = json_array_append_take(rules, rule_to_json(&live->rules[i]));
        if (k >= 0)
                k = json_object_object_add(s, "routes", json_object_get(routes)) == 0 &&
                    json_object_object_add(s, "rules", json_object_get(rules)) == 0 ? 0 : -ENOMEM;
        if (k < 0)
                return k;
        *ret = json_object_get(s);
        return 0;
}
