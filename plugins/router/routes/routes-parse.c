/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The routes section -> RtConfig. Every problem is recorded with its JSON
 * path, all of them; no I/O. */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdio.h>

#include "hash.h"
#include "json-util.h"
#include "router.h"
#include "routes.h"

#define SECTION "plugins.routes"

void rt_config_done(RtConfig *c) {
        for (size_t i = 0; i < c->n_routes; i++) {
                free(c->routes[i].path);
                free(c->routes[i].dev);
        }
        free(c->routes);
        for (size_t i = 0; i < c->n_rules; i++)
                free(c->rules[i].path);
        free(c->rules);
        for (char **n = c->declared; n && *n; n++)
                free(*n);
        free(c->declared);
        *c = (RtConfig) {};
}

static int prefix_parse(const char *s, int *family, RtnlInAddr *addr, unsigned *len) {
        return router_prefix_parse(s, false, family, addr->bytes, len);
}

/* A prefix at key of o: 1 when there, 0 when absent, -EINVAL (recorded). */
static int get_prefix(json_object *o, const char *path, const char *key, bool allow_default, int *family,
                      RtnlInAddr *addr, unsigned *len, Diag *d) {
        _cleanup_(freep) char *p = json_path_key(path, key), *q = NULL;
        const char *s;
        int r;

        if (!p)
                return -ENOMEM;
        r = json_get_string_nonul(o, path, key, false, &s, d);
        if (r <= 0)
                return r;
        if (allow_default && streq(s, "default")) {
                *family = AF_UNSPEC;
                memset(addr, 0, sizeof *addr);  /* all 16 bytes: {} may set only the union's first member */
                *len = 0;
                return 1;
        }
        r = prefix_parse(s, family, addr, len);
        if (r >= 0)
                return 1;
        q = str_quote(s);
        if (r == -EDOM)
                diag_error(d, p, "%s has host bits set: write the network (e.g. 10.1.0.0/16)", strna(q));
        else
                diag_error(d, p, "%s is not %s", strna(q), allow_default ?
                           "a destination: an IPv4 or IPv6 prefix (10.1.0.0/16, fd00:1::/64) or \"default\"" :
                           "an IPv4 or IPv6 prefix such as 10.1.0.0/16 or fd00:1::/64");
        return -EINVAL;
}

static int get_table(json_object *o, const char *path, uint32_t *ret, Diag *d) {
        _cleanup_(freep) char *p = json_path_key(path, "table");
        json_object *v;
        int r;

        *ret = RT_TABLE_MAIN;
        r = json_member(o, "table", p, false, &v, d);
        if (r <= 0)
                return r;
        if (json_object_is_type(v, json_type_string) && streq(json_object_get_string(v), "main"))
                return 1;
        if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 1 &&
            json_object_get_int64(v) <= UINT32_MAX && json_object_get_int64(v) != RT_TABLE_LOCAL &&
            json_object_get_int64(v) != RT_TABLE_DEFAULT) {
                *ret = (uint32_t) json_object_get_int64(v);
                return 1;
        }
        diag_error(d, p, "expected a routing table: \"main\" or a number 1..4294967295 other than 253 (default) "
                   "and 255 (local)");
        return -EINVAL;
}

static const char *const route_keys[] = { "to", "via", "dev", "table", "metric", "type", NULL };
static const char *const route_types[] = { "unicast", "blackhole", "unreachable", "prohibit", NULL };
static const uint8_t route_type_values[] = { RTN_UNICAST, RTN_BLACKHOLE, RTN_UNREACHABLE, RTN_PROHIBIT };

static int parse_route(RtRoute *rt, json_object *o, Diag *d) {
        RtnlRoute *r = &rt->r;
        int to_family = AF_UNSPEC, via_family = AF_UNSPEC, type = 0, ret = 0, k;
        unsigned via_len = 0;
        int64_t metric = -1;
        const char *dev;

        if (!json_expect_object(o, rt->path, d))
                return -EINVAL;
        if (json_check_keys(o, rt->path, route_keys, d) > 0)
                ret = -EINVAL;
        *r = (RtnlRoute) { .protocol = RTNL_PROTO_OPDBUS, .type = RTN_UNICAST };
        k = get_prefix(o, rt->path, "to", true, &to_family, &r->dst, &r->dst_len, d);
        if (k == 0)
                diag_error(d, rt->path, "a route needs \"to\": a prefix or \"default\"");
        if (k <= 0)
                ret = k < 0 && k != -EINVAL ? k : -EINVAL;
        k = get_prefix(o, rt->path, "via", false, &via_family, &r->gateway, &via_len, d);
        if (k > 0 && via_len != (via_family == AF_INET ? 32u : 128u)) {
                _cleanup_(freep) char *p = json_path_key(rt->path, "via");

                diag_error(d, p ?: rt->path, "expected the gateway's address, not a prefix");
                k = -EINVAL;
        }
        RET_GATHER(ret, k < 0 ? k : 0);
        r->has_gateway = k > 0;
        k = json_get_ifname(o, rt->path, "dev", false, &dev, d);
        if (k > 0 && !(rt->dev = strdup(dev)))
                return -ENOMEM;
        RET_GATHER(ret, k < 0 ? k : 0);
        RET_GATHER(ret, get_table(o, rt->path, &r->table, d));
        RET_GATHER(ret, json_get_int(o, rt->path, "metric", false, 0, UINT32_MAX, &metric, d));
        RET_GATHER(ret, json_get_enum(o, rt->path, "type", route_types, &type, d));
        if (ret < 0)
                return ret;
        r->type = route_type_values[type];

        if (to_family == AF_UNSPEC)
                to_family = via_family != AF_UNSPEC ? via_family : AF_INET;
        if (via_family != AF_UNSPEC && via_family != to_family) {
                diag_error(d, rt->path, "\"to\" and \"via\" are of different families (IPv4 and IPv6)");
                return -EINVAL;
        }
        r->family = to_family;
        if (r->type == RTN_UNICAST && !r->has_gateway && !rt->dev) {
                diag_error(d, rt->path, "a route needs \"via\" (a gateway), \"dev\" (an interface) or both, or a "
                           "type that needs neither (blackhole, unreachable, prohibit)");
                return -EINVAL;
        }
        if (r->type != RTN_UNICAST && (r->has_gateway || rt->dev)) {
                diag_error(d, rt->path, "a %s route has no \"via\" and no \"dev\"", route_types[type]);
                return -EINVAL;
        }
        /* as the kernel reports them: IPv6's default metric, link scope
         * for a route straight out of an interface */
        r->priority = metric >= 0 ? (uint32_t) metric : to_family == AF_INET6 ? RT_METRIC_IPV6_DEFAULT : 0;
        r->scope = r->type == RTN_UNICAST && !r->has_gateway && to_family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
        return 0;
}

static const char *const rule_keys[] = { "priority", "from", "to", "iif", "fwmark", "table", "family", NULL };
static const char *const family_names[] = { "any", "ipv4", "ipv6", NULL };

/* "fwmark": a number, or "0xMARK/0xMASK". */
static int get_fwmark(json_object *o, const char *path, RtnlRule *r, Diag *d) {
        _cleanup_(freep) char *p = json_path_key(path, "fwmark");
        unsigned long long mark, mask = UINT32_MAX;
        json_object *v;
        char *end;
        int k;

        k = json_member(o, "fwmark", p, false, &v, d);
        if (k <= 0)
                return k;
        if (json_object_is_type(v, json_type_int)) {
                if (json_object_get_int64(v) < 0 || json_object_get_int64(v) > UINT32_MAX)
                        goto bad;
                mark = (unsigned long long) json_object_get_int64(v);
        } else if (json_object_is_type(v, json_type_string)) {
                const char *s = json_object_get_string(v);

                errno = 0;
                mark = strtoull(s, &end, 0);
                if (end == s || !isdigit((unsigned char) *s))
                        goto bad;
                if (*end == '/') {
                        s = end + 1;
                        mask = strtoull(s, &end, 0);
                        if (end == s || !isdigit((unsigned char) *s))
                                goto bad;
                }
                if (errno || *end || mark > UINT32_MAX || mask > UINT32_MAX || mask == 0)
                        goto bad;
        } else
                goto bad;
        r->has_fwmark = true;
        r->fwmark = (uint32_t) mark;
        r->fwmask = (uint32_t) mask;
        return 1;
bad:
        diag_error(d, p ?: path, "expected a firewall mark: a number 0..4294967295 or \"0xMARK/0xMASK\" (a mask not 0)");
        return -EINVAL;
}

/* One rule (two with family any) appended to c. */
static int parse_rule(RtConfig *c, const char *path, json_object *o, Diag *d) {
        RtnlRule r = { .protocol = RTNL_PROTO_OPDBUS, .action = FR_ACT_TO_TBL };
        int from_family = AF_UNSPEC, to_family = AF_UNSPEC, family = 0, ret = 0, k;
        int64_t priority = 0;
        const char *iif;
        int fams[2], n = 0;

        if (!json_expect_object(o, path, d))
                return -EINVAL;
        if (json_check_keys(o, path, rule_keys, d) > 0)
                ret = -EINVAL;
        k = json_get_int(o, path, "priority", true, 1, RT_RULE_PRIORITY_MAX, &priority, d);
        RET_GATHER(ret, k <= 0 ? -EINVAL : 0);
        RET_GATHER(ret, get_prefix(o, path, "from", false, &from_family, &r.src, &r.src_len, d) < 0 ? -EINVAL : 0);
        RET_GATHER(ret, get_prefix(o, path, "to", false, &to_family, &r.dst, &r.dst_len, d) < 0 ? -EINVAL : 0);
        k = json_get_ifname(o, path, "iif", false, &iif, d);
        if (k > 0)
                snprintf(r.iif, sizeof r.iif, "%s", iif);
        RET_GATHER(ret, k < 0 ? k : 0);
        RET_GATHER(ret, get_fwmark(o, path, &r, d));
        k = get_table(o, path, &r.table, d);
        RET_GATHER(ret, k < 0 ? k : 0);
        RET_GATHER(ret, json_get_enum(o, path, "family", family_names, &family, d));
        if (ret < 0)
                return ret;
        r.priority = (uint32_t) priority;
        if (from_family != AF_UNSPEC && to_family != AF_UNSPEC && from_family != to_family) {
                diag_error(d, path, "\"from\" and \"to\" are of different families (IPv4 and IPv6)");
                return -EINVAL;
        }
        if (from_family == AF_UNSPEC)
                from_family = to_family;
        if (from_family != AF_UNSPEC && family != 0 && from_family != (family == 1 ? AF_INET : AF_INET6)) {
                _cleanup_(freep) char *p = json_path_key(path, "family");

                diag_error(d, p ?: path, "the rule's addresses are %s", from_family == AF_INET ? "IPv4" : "IPv6");
                return -EINVAL;
        }
        if (from_family != AF_UNSPEC)
                fams[n++] = from_family;
        else if (family == 1 || family == 2)
                fams[n++] = family == 1 ? AF_INET : AF_INET6;
        else
                fams[n++] = AF_INET, fams[n++] = AF_INET6;
        for (int i = 0; i < n; i++) {
                RtRule *t = realloc(c->rules, (c->n_rules + 1) * sizeof(RtRule));

                if (!t)
                        return -ENOMEM;
                c->rules = t;
                t = &c->rules[c->n_rules];
                *t = (RtRule) { .path = strdup(path), .r = r };
                if (!t->path)
                        return -ENOMEM;
                t->r.family = fams[i];
                c->n_rules++;
        }
        return 0;
}

static const char *const section_keys[] = { "routes", "rules", NULL };

bool rt_route_key_equal(const RtnlRoute *a, const RtnlRoute *b) {
        return a->family == b->family && a->table == b->table && a->dst_len == b->dst_len &&
               a->priority == b->priority && memcmp(&a->dst, &b->dst, sizeof a->dst) == 0;
}

static uint64_t route_key_hash(const RtnlRoute *r) {
        uint64_t h = HASH64_INIT;

        h = hash64_update(h, &r->family, sizeof r->family);
        h = hash64_update(h, &r->table, sizeof r->table);
        h = hash64_update(h, &r->dst_len, sizeof r->dst_len);
        h = hash64_update(h, &r->priority, sizeof r->priority);
        return hash64_update(h, &r->dst, sizeof r->dst);
}

int rt_key_index_init(RtKeyIndex *x, size_t n) {
        size_t size = 16;

        while (size < 2 * n)
                size *= 2;
        x->slots = calloc(size, sizeof(size_t));
        x->mask = size - 1;
        return x->slots ? 0 : -ENOMEM;
}

void rt_key_index_done(RtKeyIndex *x) {
        free(x->slots);
        *x = (RtKeyIndex) {};
}

size_t rt_key_slot(const RtKeyIndex *x, const RtnlRoute *r) {
        return (size_t) route_key_hash(r) & x->mask;
}

void rt_key_index_add(RtKeyIndex *x, const RtnlRoute *r, size_t i) {
        size_t s = rt_key_slot(x, r);

        while (x->slots[s])
                s = (s + 1) & x->mask;
        x->slots[s] = i + 1;
}

/* Does an earlier route of c have rt's key? */
static bool key_taken(const RtConfig *c, const RtKeyIndex *x, const RtnlRoute *rt) {
        for (size_t s = rt_key_slot(x, rt); x->slots[s]; s = (s + 1) & x->mask)
                if (rt_route_key_equal(&c->routes[x->slots[s] - 1].r, rt))
                        return true;
        return false;
}

int rt_parse(RtConfig *c, json_object *section, Diag *d) {
        json_object *a;
        int ret = 0, k;

        rt_config_done(c);
        if (!section)
                return 0;
        c->present = true;
        if (!json_expect_object(section, SECTION, d))
                return -EINVAL;
        if (json_check_keys(section, SECTION, section_keys, d) > 0)
                ret = -EINVAL;
        k = json_get_array(section, SECTION, "routes", false, &a, d);
        if (k > 0) {
                size_t n = json_object_array_length(a);

                _cleanup_(rt_key_index_done) RtKeyIndex keys = {};

                c->routes = calloc(n + 1, sizeof(RtRoute));
                if (!c->routes || rt_key_index_init(&keys, n) < 0)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        RtRoute *rt = &c->routes[c->n_routes++];

                        rt->path = json_path_index(SECTION ".routes", i);
                        if (!rt->path)
                                return -ENOMEM;
                        k = parse_route(rt, json_object_array_get_idx(a, i), d);
                        if (k == -ENOMEM)
                                return k;
                        RET_GATHER(ret, k);
                        /* the index finds a clash; the list names every earlier one, in order */
                        if (k >= 0 && rt->r.family && key_taken(c, &keys, &rt->r))
                                for (size_t j = 0; j < i; j++)
                                        if (c->routes[j].r.family && rt_route_key_equal(&c->routes[j].r, &rt->r)) {
                                                diag_error(d, rt->path, "the same destination, table and metric as "
                                                           "%s: the kernel keeps one route of the two; give them "
                                                           "different metrics", c->routes[j].path);
                                                ret = -EINVAL;
                                        }
                        if (rt->r.family)
                                rt_key_index_add(&keys, &rt->r, i);
                }
        } else
                RET_GATHER(ret, k);
        k = json_get_array(section, SECTION, "rules", false, &a, d);
        if (k > 0)
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        _cleanup_(freep) char *path = json_path_index(SECTION ".rules", i);

                        if (!path)
                                return -ENOMEM;
                        k = parse_rule(c, path, json_object_array_get_idx(a, i), d);
                        if (k == -ENOMEM)
                                return k;
                        RET_GATHER(ret, k);
                }
        else
                RET_GATHER(ret, k);
        return ret;
}

int rt_config_declare(RtConfig *c, json_object *interfaces) {
        static const char *const lists[] = { "bridges", "vlans", "macvlans" };
        size_t n = 0;

        for (char **i = c->declared; i && *i; i++)
                n++;
        for (size_t l = 0; l < ELEMENTSOF(lists); l++) {
                json_object *a = json_member_array(interfaces, lists[l]);

                for (size_t i = 0; a && i < json_object_array_length(a); i++) {
                        const char *name = json_member_string(json_object_array_get_idx(a, i), "name");
                        char **t;

                        if (!*name)
                                continue;
                        t = realloc(c->declared, (n + 2) * sizeof(char *));
                        if (!t)
                                return -ENOMEM;
                        c->declared = t;
                        t[n] = strdup(name);
                        if (!t[n])
                                return -ENOMEM;
                        t[++n] = NULL;
                }
        }
        return 0;
}
