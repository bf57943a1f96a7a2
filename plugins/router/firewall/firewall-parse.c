/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The firewall section -> FwConfig. Every problem is recorded with its
 * JSON path, all of them (nothing stops at the first); no I/O. */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>

#include "firewall.h"
#include "hash.h"
#include "json-util.h"
#include "router.h"

#define SECTION "plugins.firewall"

static const char *const verdict_names[] = { "accept", "drop", "reject", NULL };
static const char *const family_names[] = { "any", "ipv4", "ipv6", NULL };
static const char *const proto_names[] = { "tcp", "udp", "icmp", "icmpv6", NULL };
static const char *const set_type_names[] = { "ipv4_addr", "ipv6_addr", "inet_service", NULL };
static const char *const per_names[] = { "second", "minute", "hour", "day", NULL };

const char *fw_verdict_to_string(FwVerdict v) {
        return v >= 0 && v < _FW_VERDICT_MAX ? verdict_names[v] : NULL;
}

/* ---- addresses ----------------------------------------------------------------- */

void fw_prefix_done(FwPrefix *p) {
        free(p->text);
        *p = (FwPrefix) {};
}

static bool parse_prefixlen(const char *s, unsigned max, unsigned *ret) {
        unsigned v = 0;

        if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 3)
                return false;
        for (; *s; s++) {
                if (!isdigit((unsigned char) *s))
                        return false;
                v = v * 10 + (unsigned) (*s - '0');
        }
        if (v > max)
                return false;
        *ret = v;
        return true;
}

int fw_prefix_parse(const char *s, FwPrefix *ret) {
        char text[INET6_ADDRSTRLEN];
        FwPrefix p = {};
        int r;

        r = router_prefix_parse(s, false, &p.family, p.addr, &p.prefixlen);
        if (r < 0)
                return r;
        if (!inet_ntop(p.family, p.addr, text, sizeof text))
                return -EINVAL;
        if (p.prefixlen != (p.family == AF_INET ? 32u : 128u)) {
                if (asprintf(&p.text, "%s/%u", text, p.prefixlen) < 0)
                        return -ENOMEM;
        } else if (!(p.text = strdup(text)))
                return -ENOMEM;
        *ret = p;
        return 0;
}

bool fw_prefix_contains(const FwPrefix *net, const FwPrefix *addr) {
        if (net->family != addr->family || addr->prefixlen < net->prefixlen)
                return false;
        for (unsigned i = 0; i * 8 < net->prefixlen; i++) {
                unsigned bits = MIN(net->prefixlen - i * 8, 8u);
                uint8_t mask = (uint8_t) (0xff00 >> bits);

                if ((net->addr[i] ^ addr->addr[i]) & mask)
                        return false;
        }
        return true;
}

/* The network of an address with host bits: "10.0.1.1/24" names 10.0.1.0/24. */
static int prefix_network(const char *s, FwPrefix *ret) {
        char buf[INET6_ADDRSTRLEN + 8];
        const char *slash = strchr(s, '/');
        FwPrefix host = {};
        unsigned len;
        int r;

        if (!slash || strlen(s) >= sizeof buf)
                return fw_prefix_parse(s, ret);
        memcpy(buf, s, (size_t) (slash - s));
        buf[slash - s] = 0;
        r = fw_prefix_parse(buf, &host);
        if (r < 0)
                return r;
        if (!parse_prefixlen(slash + 1, host.prefixlen, &len)) {
                fw_prefix_done(&host);
                return -EINVAL;
        }
        for (unsigned i = 0; i < 16; i++) {
                unsigned bits = len > i * 8 ? MIN(len - i * 8, 8u) : 0;

                host.addr[i] &= (uint8_t) (0xff00 >> bits);
        }
        if (!inet_ntop(host.family, host.addr, buf, sizeof buf)) {
                fw_prefix_done(&host);
                return -EINVAL;
        }
        fw_prefix_done(&host);
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "/%u", len);
        return fw_prefix_parse(buf, ret);
}

/* s, found at path, as an address or prefix; records what is wrong. */
static int prefix_at(const char *s, const char *path, FwPrefix **ret, Diag *d) {
        _cleanup_(freep) FwPrefix *pf = calloc(1, sizeof(FwPrefix));
        FwPrefix net = {};
        int r;

        if (!pf)
                return -ENOMEM;
        r = fw_prefix_parse(s, pf);
        if (r == -EDOM && prefix_network(s, &net) >= 0) {
                diag_error(d, path, "\"%s\" has host bits set: the network is %s", s, net.text);
                fw_prefix_done(&net);
                return -EINVAL;
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                _cleanup_(freep) char *q = str_quote(s);

                diag_error(d, path, "%s is not an IPv4 or IPv6 address or prefix, such as 192.168.1.0/24 or fd00::/64",
                           strna(q));
                return -EINVAL;
        }
        *ret = TAKE_PTR(pf);
        return 1;
}

/* An address or prefix field (absent: 0). */
static int get_prefix(json_object *o, const char *path, const char *key, bool required, FwPrefix **ret, Diag *d) {
        _cleanup_(freep) char *p = json_path_key(path, key);
        const char *s;
        int r;

        r = json_get_string_nonul(o, path, key, required, &s, d);
        if (r <= 0)
                return r;
        if (!p)
                return -ENOMEM;
        return prefix_at(s, p, ret, d);
}

/* ---- names ------------------------------------------------------------------- */

static bool check_name(const char *s, size_t max, const char *what, const char *path, Diag *d) {
        _cleanup_(freep) char *q = str_quote(s);
        size_t len = strlen(s);

        if (len == 0 || len > max) {
                diag_error(d, path, "%s %s must be 1 to %zu bytes long", what, strna(q), max);
                return false;
        }
        if (!isalnum((unsigned char) s[0])) {
                diag_error(d, path, "%s %s must start with a letter or a digit", what, strna(q));
                return false;
        }
        for (const char *c = s; *c; c++)
                if (!isascii(*c) || !(isalnum(*c) || strchr("_.-", *c))) {
                        diag_error(d, path, "%s %s contains '%c': use letters, digits, '_', '.' and '-'", what,
                                   strna(q), isprint(*c) ? *c : '?');
                        return false;
                }
        return true;
}

static int get_name(json_object *o, const char *path, size_t max, const char *what, char **ret, Diag *d) {
        _cleanup_(freep) char *p = json_path_key(path, "name");
        const char *s;
        int r;

        r = json_get_string_nonul(o, path, "name", true, &s, d);
        if (r <= 0)
                return r < 0 ? r : -EINVAL;
        if (!p)
                return -ENOMEM;
        if (!check_name(s, max, what, p, d))
                return -EINVAL;
        *ret = strdup(s);
        return *ret ? 1 : -ENOMEM;
}

/* An interface name, or with allow_wildcard a prefix followed by '*'. */
static bool check_ifname(const char *s, bool allow_wildcard, const char *path, Diag *d) {
        size_t len = strlen(s);
        char buf[32];

        if (allow_wildcard && len > 1 && len <= 15 && s[len - 1] == '*') {
                memcpy(buf, s, len - 1);
                buf[len - 1] = 0;
                return json_check_ifname(buf, path, d);
        }
        return json_check_ifname(s, path, d);
}

/* A zone named by field key of o; its index, or -1 after an error (or
 * when absent and not required: -2). */
static int get_zone_ref(const FwConfig *c, json_object *o, const char *path, const char *key, bool required,
                        Diag *d) {
        _cleanup_(freep) char *p = json_path_key(path, key);
        const char *s;
        int r, z;

        r = json_get_string_nonul(o, path, key, required, &s, d);
        if (r < 0 || (r == 0 && required))
                return -1;
        if (r == 0)
                return -2;
        z = fw_zone_find(c, s);
        if (z < 0) {
                _cleanup_(freep) char *q = str_quote(s);

                diag_error(d, p ?: path, "no zone %s: the zones are those of plugins.firewall.zones", strna(q));
                return -1;
        }
        return z;
}

int fw_zone_find(const FwConfig *c, const char *name) {
        for (size_t i = 0; i < c->n_zones; i++)
                if (c->zones[i].name && streq(c->zones[i].name, name))
                        return (int) i;
        return -1;
}

bool fw_ifname_matches(const char *pattern, const char *ifname) {
        size_t len = strlen(pattern);

        if (len > 0 && pattern[len - 1] == '*')
                return strncmp(pattern, ifname, len - 1) == 0;
        return streq(pattern, ifname);
}

/* The array member key of o, each element's path made by the caller; an
 * absent member is an empty array. */
static int get_array(json_object *o, const char *path, const char *key, json_object **ret, size_t *ret_n, Diag *d) {
        int r;

        *ret = NULL;
        *ret_n = 0;
        r = json_get_array(o, path, key, false, ret, d);
        if (r > 0)
                *ret_n = json_object_array_length(*ret);
        return r;
}

/* A string element of an array (NUL bytes refused). */
static const char *array_string(json_object *a, size_t i, const char *path, Diag *d) {
        json_object *v = json_object_array_get_idx(a, i);

        if (!json_object_is_type(v, json_type_string)) {
                diag_error(d, path, "expected a string, got %s", json_type_name(json_object_get_type(v)));
                return NULL;
        }
        if (strlen(json_object_get_string(v)) != (size_t) json_object_get_string_len(v)) {
                diag_error(d, path, "contains a NUL character (\\u0000), which is not allowed here");
                return NULL;
        }
        return json_object_get_string(v);
}

static int get_verdict(json_object *o, const char *path, const char *key, FwVerdict *v, Diag *d) {
        int i = (int) *v, r;

        r = json_get_enum(o, path, key, verdict_names, &i, d);
        *v = (FwVerdict) i;
        return r;
}

/* ---- zones ------------------------------------------------------------------- */

static const char *const zone_keys[] = {
        "name", "interfaces", "input", "forward", "output", "masquerade", "subnets", NULL
};

static int parse_zone_interfaces(FwZone *z, json_object *o, Diag *d) {
        json_object *a;
        size_t n;
        int ret;

        ret = get_array(o, z->path, "interfaces", &a, &n, d);
        if (ret <= 0)
                return ret;
        z->interfaces = calloc(n + 1, sizeof(char *));
        if (!z->interfaces)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(freep) char *p = NULL, *ap = json_path_key(z->path, "interfaces");
                const char *s;

                p = json_path_index(ap, i);
                if (!p)
                        return -ENOMEM;
                s = array_string(a, i, p, d);
                if (!s || !check_ifname(s, true, p, d)) {
                        ret = -EINVAL;
                        continue;
                }
                for (size_t k = 0; k < z->n_interfaces; k++)
                        if (streq(z->interfaces[k], s)) {
                                diag_error(d, p, "interface \"%s\" is named twice in this zone", s);
                                ret = -EINVAL;
                        }
                z->interfaces[z->n_interfaces] = strdup(s);
                if (!z->interfaces[z->n_interfaces++])
                        return -ENOMEM;
        }
        return ret;
}

static int parse_zone_subnets(FwZone *z, json_object *o, Diag *d) {
        _cleanup_(freep) char *ap = json_path_key(z->path, "subnets");
        json_object *a;
        size_t n;
        int ret;

        ret = get_array(o, z->path, "subnets", &a, &n, d);
        if (ret <= 0)
                return ret;
        z->subnets = calloc(n + 1, sizeof(FwPrefix));
        if (!z->subnets || !ap)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(freep) char *p = json_path_index(ap, i);
                FwPrefix *pf = NULL;
                const char *s;
                int r;

                if (!p)
                        return -ENOMEM;
                s = array_string(a, i, p, d);
                r = s ? prefix_at(s, p, &pf, d) : -EINVAL;
                if (r == -ENOMEM)
                        return r;
                if (r <= 0) {
                        ret = -EINVAL;
                        continue;
                }
                z->subnets[z->n_subnets++] = *pf;
                free(pf);
        }
        return ret;
}

static int parse_zone(FwConfig *c, FwZone *z, json_object *o, Diag *d) {
        int ret = 0;

        z->input = FW_DROP;
        z->forward = FW_DROP;
        z->output = FW_ACCEPT;
        z->kill_switch = -1;
        if (!json_expect_object(o, z->path, d))
                return -EINVAL;
        if (json_check_keys(o, z->path, zone_keys, d) > 0)
                ret = -EINVAL;
        RET_GATHER(ret, get_name(o, z->path, FW_ZONE_NAME_MAX, "zone name", &z->name, d));
        RET_GATHER(ret, parse_zone_interfaces(z, o, d));
        RET_GATHER(ret, get_verdict(o, z->path, "input", &z->input, d));
        RET_GATHER(ret, get_verdict(o, z->path, "forward", &z->forward, d));
        RET_GATHER(ret, get_verdict(o, z->path, "output", &z->output, d));
        RET_GATHER(ret, json_get_bool(o, z->path, "masquerade", &z->masquerade, d));
        RET_GATHER(ret, parse_zone_subnets(z, o, d));
        return ret;
}

/* ---- defaults, forwardings, sets ----------------------------------------------- */

static const char *const defaults_keys[] = { "input", "forward", "output", NULL };

static int parse_defaults(FwConfig *c, json_object *section, Diag *d) {
        const char *path = SECTION ".defaults";
        json_object *o;
        int ret = 0;

        c->defaults[FW_INPUT] = FW_DROP;
        c->defaults[FW_FORWARD] = FW_DROP;
        c->defaults[FW_OUTPUT] = FW_ACCEPT;
        if (json_member(section, "defaults", path, false, &o, d) <= 0)
                return 0;
        if (!json_expect_object(o, path, d))
                return -EINVAL;
        if (json_check_keys(o, path, defaults_keys, d) > 0)
                ret = -EINVAL;
        for (int i = FW_INPUT; i <= FW_OUTPUT; i++)
                RET_GATHER(ret, get_verdict(o, path, defaults_keys[i], &c->defaults[i], d));
        return ret;
}

static const char *const forwarding_keys[] = { "from", "to", NULL };

static int parse_forwardings(FwConfig *c, json_object *section, Diag *d) {
        json_object *a;
        size_t n;
        int ret;

        ret = get_array(section, SECTION, "forwardings", &a, &n, d);
        if (ret <= 0)
                return ret;
        c->forwardings = calloc(n + 1, sizeof(FwForwarding));
        if (!c->forwardings)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                FwForwarding *f = &c->forwardings[c->n_forwardings++];
                json_object *o = json_object_array_get_idx(a, i);

                f->path = json_path_index(SECTION ".forwardings", i);
                if (!f->path)
                        return -ENOMEM;
                f->from = f->to = -1;
                if (!json_expect_object(o, f->path, d)) {
                        ret = -EINVAL;
                        continue;
                }
                if (json_check_keys(o, f->path, forwarding_keys, d) > 0)
                        ret = -EINVAL;
                f->from = get_zone_ref(c, o, f->path, "from", true, d);
                f->to = get_zone_ref(c, o, f->path, "to", true, d);
                if (f->from < 0 || f->to < 0) {
                        ret = -EINVAL;
                        continue;
                }
                if (f->from == f->to) {
                        diag_error(d, f->path, "a forwarding from zone %s to itself: traffic between the zone's "
                                   "interfaces follows the zone's \"forward\" policy instead", c->zones[f->from].name);
                        ret = -EINVAL;
                }
                for (size_t k = 0; k + 1 < c->n_forwardings; k++)
                        if (c->forwardings[k].from == f->from && c->forwardings[k].to == f->to) {
                                diag_error(d, f->path, "the same forwarding as %s", c->forwardings[k].path);
                                ret = -EINVAL;
                        }
        }
        return ret;
}

static const char *const set_keys[] = { "name", "type", "elements", NULL };

/* Each element as the nftables library reads it, in a set of its own. */
static int check_elements(FwSet *s, json_object *a, size_t n, Diag *d) {
        _cleanup_(nft_ruleset_freep) NftRuleset *rs = NULL;
        _cleanup_(freep) char *ap = json_path_key(s->path, "elements");
        NftTable *t;
        NftSet *set;
        int r, ret = 0;

        if (!ap || nft_ruleset_new(&rs) < 0 || nft_table_add(rs, FW_FAMILY, "check", &t) < 0 ||
            nft_set_add(t, "check", s->type, NFT_SETFLAG_INTERVAL, &set) < 0)
                return -ENOMEM;
        s->elements = calloc(n + 1, sizeof(char *));
        if (!s->elements)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(freep) char *p = json_path_index(ap, i), *text = NULL;
                json_object *v = json_object_array_get_idx(a, i);
                const char *e;

                if (!p)
                        return -ENOMEM;
                if (s->type == NFT_KEY_INET_SERVICE && json_object_is_type(v, json_type_int)) {
                        if (asprintf(&text, "%" PRId64, json_object_get_int64(v)) < 0)
                                return -ENOMEM;
                        e = text;
                } else if (!(e = array_string(a, i, p, d))) {
                        ret = -EINVAL;
                        continue;
                }
                r = nft_set_add_element(set, e);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        _cleanup_(freep) char *q = str_quote(e);

                        diag_error(d, p, "%s is not %s", strna(q),
                                   s->type == NFT_KEY_IPV4_ADDR ? "an IPv4 address, prefix (10.0.0.0/8) or range "
                                   "(10.0.0.1-10.0.0.9) without host bits" :
                                   s->type == NFT_KEY_IPV6_ADDR ? "an IPv6 address, prefix (fd00::/64) or range "
                                   "(fd00::1-fd00::9) without host bits" :
                                   "a port (22) or a range of ports (1000-2000)");
                        ret = -EINVAL;
                        continue;
                }
                s->elements[s->n_elements] = strdup(e);
                if (!s->elements[s->n_elements++])
                        return -ENOMEM;
        }
        return ret;
}

static int parse_sets(FwConfig *c, json_object *section, Diag *d) {
        json_object *a;
        size_t n;
        int ret;

        ret = get_array(section, SECTION, "sets", &a, &n, d);
        if (ret <= 0)
                return ret;
        c->sets = calloc(n + 1, sizeof(FwSet));
        if (!c->sets)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                FwSet *s = &c->sets[c->n_sets++];
                json_object *o = json_object_array_get_idx(a, i), *elements;
                size_t m;
                int type = -1, r;

                s->path = json_path_index(SECTION ".sets", i);
                if (!s->path)
                        return -ENOMEM;
                if (!json_expect_object(o, s->path, d)) {
                        ret = -EINVAL;
                        continue;
                }
                if (json_check_keys(o, s->path, set_keys, d) > 0)
                        ret = -EINVAL;
                RET_GATHER(ret, get_name(o, s->path, FW_NAME_MAX, "set name", &s->name, d));
                r = json_get_enum(o, s->path, "type", set_type_names, &type, d);
                if (r == 0) {
                        _cleanup_(freep) char *p = json_path_key(s->path, "type");

                        diag_error(d, p ?: s->path, "required field is missing");
                }
                if (r <= 0) {
                        ret = -EINVAL;
                        continue;
                }
                s->type = type == 0 ? NFT_KEY_IPV4_ADDR : type == 1 ? NFT_KEY_IPV6_ADDR : NFT_KEY_INET_SERVICE;
                r = get_array(o, s->path, "elements", &elements, &m, d);
                if (r > 0)
                        r = check_elements(s, elements, m, d);
                if (r == -ENOMEM)
                        return r;
                RET_GATHER(ret, r);
                for (size_t k = 0; s->name && k + 1 < c->n_sets; k++)
                        if (c->sets[k].name && streq(c->sets[k].name, s->name)) {
                                _cleanup_(freep) char *p = json_path_key(s->path, "name");

                                diag_error(d, p ?: s->path, "duplicate set name \"%s\" (also %s)", s->name,
                                           c->sets[k].path);
                                ret = -EINVAL;
                        }
        }
        return ret;
}

static int find_set(const FwConfig *c, const char *name) {
        for (size_t i = 0; i < c->n_sets; i++)
                if (c->sets[i].name && streq(c->sets[i].name, name))
                        return (int) i;
        return -1;
}

/* ---- rules -------------------------------------------------------------------- */

static int proto_bit(const char *s) {
        for (int j = 0; proto_names[j]; j++)
                if (streq(proto_names[j], s))
                        return 1 << j;
        return -1;
}

/* "proto": "tcp" or ["tcp", "udp"]: *ret the FW_PROTO_* bits (0: absent). */
static int get_protos(json_object *o, const char *path, bool required, unsigned *ret, Diag *d) {
        _cleanup_(freep) char *p = json_path_key(path, "proto");
        json_object *v;
        int r, bit;

        *ret = 0;
        if (!p)
                return -ENOMEM;
        r = json_member(o, "proto", p, required, &v, d);
        if (r <= 0)
                return r < 0 ? r : required ? -EINVAL : 0;
        if (json_object_is_type(v, json_type_string)) {
                bit = proto_bit(json_object_get_string(v));
                if (bit < 0) {
                        _cleanup_(freep) char *q = str_quote(json_object_get_string(v));

                        diag_error(d, p, "%s is not valid, expected tcp, udp, icmp, icmpv6 or a list of them",
                                   strna(q));
                        return -EINVAL;
                }
                *ret = (unsigned) bit;
                return 1;
        }
        if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0) {
                diag_error(d, p, "expected tcp, udp, icmp, icmpv6 or a non-empty list of them, got %s",
                           json_type_name(json_object_get_type(v)));
                return -EINVAL;
        }
        r = 1;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                _cleanup_(freep) char *ep = json_path_index(p, i), *q = NULL;
                const char *s;

                if (!ep)
                        return -ENOMEM;
                s = array_string(v, i, ep, d);
                bit = s ? proto_bit(s) : -1;
                if (s && bit < 0) {
                        q = str_quote(s);
                        diag_error(d, ep, "%s is not valid, expected one of: tcp, udp, icmp, icmpv6", strna(q));
                }
                if (bit < 0)
                        r = -EINVAL;
                else if (*ret & (unsigned) bit) {
                        diag_error(d, ep, "\"%s\" is listed twice", s);
                        r = -EINVAL;
                } else
                        *ret |= (unsigned) bit;
        }
        return r;
}

/* "22" or "1000-2000" (1..65535, A <= B, no leading zeros): *ret its
 * text ("1000-1000" is "1000"); -EINVAL for anything else. */
static int port_text(const char *s, char **ret) {
        unsigned long a, b;
        char *end;

        if (!isdigit((unsigned char) s[0]) || s[0] == '0')
                return -EINVAL;
        errno = 0;
        a = b = strtoul(s, &end, 10);
        if (*end == '-') {
                if (!isdigit((unsigned char) end[1]) || end[1] == '0')
                        return -EINVAL;
                b = strtoul(end + 1, &end, 10);
        }
        if (errno || *end || a < 1 || b > 65535 || a > b)
                return -EINVAL;
        if (a == b)
                return asprintf(ret, "%lu", a) < 0 ? -ENOMEM : 0;
        return asprintf(ret, "%lu-%lu", a, b) < 0 ? -ENOMEM : 0;
}

/* A port (1..65535) or a range "A-B" (A <= B); *ret its text. */
static int get_port(json_object *o, const char *path, const char *key, bool required, char **ret, Diag *d) {
        _cleanup_(freep) char *p = json_path_key(path, key);
        json_object *v;
        int r;

        if (!p)
                return -ENOMEM;
        r = json_member(o, key, p, required, &v, d);
        if (r <= 0)
                return r < 0 ? r : required ? -EINVAL : 0;
        if (json_object_is_type(v, json_type_int)) {
                int64_t i = json_object_get_int64(v);

                if (i < 1 || i > 65535) {
                        diag_error(d, p, "%" PRId64 " is out of range, expected a port 1..65535", i);
                        return -EINVAL;
                }
                return asprintf(ret, "%" PRId64, i) < 0 ? -ENOMEM : 1;
        }
        r = json_object_is_type(v, json_type_string) ? port_text(json_object_get_string(v), ret) : -EINVAL;
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                diag_error(d, p, "expected a port 1..65535 (22) or a range of them (\"1000-2000\")");
                return -EINVAL;
        }
        return 1;
}

static const char *const limit_keys[] = { "rate", "per", "burst", NULL };

static int parse_limit(FwRule *rule, json_object *o, Diag *d) {
        _cleanup_(freep) char *path = json_path_key(rule->path, "limit");
        json_object *l;
        int64_t rate = 0, burst = 0;
        int per = 0, ret = 0, r;

        if (!path)
                return -ENOMEM;
        if (json_member(o, "limit", path, false, &l, d) <= 0)
                return 0;
        if (!json_expect_object(l, path, d))
                return -EINVAL;
        if (json_check_keys(l, path, limit_keys, d) > 0)
                ret = -EINVAL;
        r = json_get_int(l, path, "rate", true, 1, UINT32_MAX, &rate, d);
        if (r <= 0)
                ret = -EINVAL;
        r = json_get_enum(l, path, "per", per_names, &per, d);
        if (r == 0) {
                _cleanup_(freep) char *p = json_path_key(path, "per");

                diag_error(d, p ?: path, "required field is missing");
        }
        if (r <= 0)
                ret = -EINVAL;
        RET_GATHER(ret, json_get_int(l, path, "burst", false, 0, UINT32_MAX, &burst, d));
        rule->has_limit = true;
        rule->limit = (NftLimit) {
                .rate = (uint64_t) rate,
                .unit = (NftRateUnit) per,
                .burst = (uint32_t) burst,
        };
        return ret;
}

/* icmp_type: a number 0..255 or a name nft knows (echo-request, ...). */
static int parse_icmp_type(FwRule *rule, json_object *o, Diag *d) {
        _cleanup_(freep) char *p = json_path_key(rule->path, "icmp_type");
        json_object *v;

        if (!p)
                return -ENOMEM;
        if (json_member(o, "icmp_type", p, false, &v, d) <= 0)
                return 0;
        if (json_object_is_type(v, json_type_int)) {
                int64_t i = json_object_get_int64(v);

                if (i < 0 || i > 255) {
                        diag_error(d, p, "%" PRId64 " is out of range, expected an ICMP type 0..255", i);
                        return -EINVAL;
                }
                return asprintf(&rule->icmp_type, "%" PRId64, i) < 0 ? -ENOMEM : 1;
        }
        if (!json_object_is_type(v, json_type_string) || !json_object_get_string_len(v)) {
                diag_error(d, p, "expected an ICMP type: a number or a name such as echo-request");
                return -EINVAL;
        }
        rule->icmp_type = strdup(json_object_get_string(v));
        return rule->icmp_type ? 1 : -ENOMEM;
}

static int get_set_ref(const FwConfig *c, json_object *o, const char *path, const char *key, int *ret, Diag *d) {
        _cleanup_(freep) char *p = json_path_key(path, key);
        const char *s;
        int r;

        *ret = -1;
        r = json_get_string_nonul(o, path, key, false, &s, d);
        if (r <= 0)
                return r;
        *ret = find_set(c, s);
        if (*ret < 0) {
                _cleanup_(freep) char *q = str_quote(s);

                diag_error(d, p ?: path, "no set %s: the sets are those of plugins.firewall.sets", strna(q));
                return -EINVAL;
        }
        return 1;
}

static const char *const rule_keys[] = {
        "name", "enabled", "from", "to", "family", "proto", "src", "dest", "src_set", "dest_set", "src_port",
        "dest_port", "icmp_type", "action", "limit", "log", "counter", NULL
};

/* The family an address, a set or an ICMP protocol asks for (0: none)
 * against the one the rule has so far; records a contradiction. */
static int merge_family(FwRule *rule, int family, const char *key, Diag *d) {
        _cleanup_(freep) char *p = json_path_key(rule->path, key);

        if (family == 0 || rule->family == family) {
                if (family)
                        rule->family = family;
                return 0;
        }
        if (rule->family != 0) {
                diag_error(d, p ?: rule->path, "is %s, but the rule is %s by what comes before", 
                           family == AF_INET ? "IPv4" : "IPv6", rule->family == AF_INET ? "IPv4" : "IPv6");
                return -EINVAL;
        }
        rule->family = family;
        return 0;
}

static int set_family(const FwSet *s) {
        return s->type == NFT_KEY_IPV4_ADDR ? AF_INET : s->type == NFT_KEY_IPV6_ADDR ? AF_INET6 : 0;
}

/* What the fields ask of each other: ports need TCP or UDP, ICMP types
 * ICMP, addresses and sets one family, a set its kind of key. */
static int check_rule(const FwConfig *c, FwRule *rule, Diag *d) {
        bool ports_ok = rule->protos && !(rule->protos & ~(FW_PROTO_TCP | FW_PROTO_UDP));
        int ret = 0;

        if (rule->src && rule->src_set >= 0) {
                diag_error(d, rule->path, "src and src_set together: give one of them");
                ret = -EINVAL;
        }
        if (rule->dest && rule->dest_set >= 0) {
                diag_error(d, rule->path, "dest and dest_set together: give one of them");
                ret = -EINVAL;
        }
        if (rule->src)
                RET_GATHER(ret, merge_family(rule, rule->src->family, "src", d));
        if (rule->dest)
                RET_GATHER(ret, merge_family(rule, rule->dest->family, "dest", d));
        for (int k = 0; k < 2; k++) {
                int si = k ? rule->dest_set : rule->src_set;
                const char *key = k ? "dest_set" : "src_set";
                _cleanup_(freep) char *p = json_path_key(rule->path, key);

                if (si < 0)
                        continue;
                if (c->sets[si].type == NFT_KEY_INET_SERVICE && !ports_ok) {
                        diag_error(d, p ?: rule->path, "set %s holds ports: the rule needs proto tcp or udp",
                                   c->sets[si].name);
                        ret = -EINVAL;
                }
                if (c->sets[si].type == NFT_KEY_INET_SERVICE && (k ? rule->dest_port : rule->src_port)) {
                        diag_error(d, p ?: rule->path, "set %s holds ports, and the rule has %s too: give one of them",
                                   c->sets[si].name, k ? "dest_port" : "src_port");
                        ret = -EINVAL;
                }
                RET_GATHER(ret, merge_family(rule, set_family(&c->sets[si]), key, d));
        }
        if ((rule->src_port || rule->dest_port) && !ports_ok) {
                _cleanup_(freep) char *p = json_path_key(rule->path, rule->dest_port ? "dest_port" : "src_port");

                diag_error(d, p ?: rule->path, "ports need proto tcp, udp or both");
                ret = -EINVAL;
        }
        if (rule->protos & FW_PROTO_ICMP)
                RET_GATHER(ret, merge_family(rule, AF_INET, "proto", d));
        if (rule->protos & FW_PROTO_ICMPV6)
                RET_GATHER(ret, merge_family(rule, AF_INET6, "proto", d));
        if (rule->icmp_type && rule->protos != FW_PROTO_ICMP && rule->protos != FW_PROTO_ICMPV6) {
                _cleanup_(freep) char *p = json_path_key(rule->path, "icmp_type");

                diag_error(d, p ?: rule->path, "an ICMP type needs proto icmp or icmpv6 (one of them)");
                ret = -EINVAL;
        }
        if (rule->from < 0 && rule->to < 0) {
                diag_error(d, rule->path, "a rule needs from (traffic to the router), to (traffic from the router) "
                           "or both (traffic the router forwards)");
                ret = -EINVAL;
        }
        return ret;
}

static int parse_rule(FwConfig *c, FwRule *rule, json_object *o, Diag *d) {
        int family = 0, action = -1, ret = 0, r;

        rule->enabled = true;
        rule->from = rule->to = -1;
        rule->src_set = rule->dest_set = -1;
        if (!json_expect_object(o, rule->path, d))
                return -EINVAL;
        if (json_check_keys(o, rule->path, rule_keys, d) > 0)
                ret = -EINVAL;
        RET_GATHER(ret, get_name(o, rule->path, FW_NAME_MAX, "rule name", &rule->name, d));
        RET_GATHER(ret, json_get_bool(o, rule->path, "enabled", &rule->enabled, d));
        rule->from = get_zone_ref(c, o, rule->path, "from", false, d);
        rule->to = get_zone_ref(c, o, rule->path, "to", false, d);
        if (rule->from == -1 || rule->to == -1)
                ret = -EINVAL;
        rule->from = MAX(rule->from, -1);
        rule->to = MAX(rule->to, -1);
        if (rule->from == -2)
                rule->from = -1;
        if (rule->to == -2)
                rule->to = -1;
        RET_GATHER(ret, json_get_enum(o, rule->path, "family", family_names, &family, d));
        rule->family = family == 1 ? AF_INET : family == 2 ? AF_INET6 : 0;
        RET_GATHER(ret, get_protos(o, rule->path, false, &rule->protos, d));
        RET_GATHER(ret, get_prefix(o, rule->path, "src", false, &rule->src, d));
        RET_GATHER(ret, get_prefix(o, rule->path, "dest", false, &rule->dest, d));
        RET_GATHER(ret, get_set_ref(c, o, rule->path, "src_set", &rule->src_set, d));
        RET_GATHER(ret, get_set_ref(c, o, rule->path, "dest_set", &rule->dest_set, d));
        RET_GATHER(ret, get_port(o, rule->path, "src_port", false, &rule->src_port, d));
        RET_GATHER(ret, get_port(o, rule->path, "dest_port", false, &rule->dest_port, d));
        RET_GATHER(ret, parse_icmp_type(rule, o, d));
        r = json_get_enum(o, rule->path, "action", verdict_names, &action, d);
        if (r == 0) {
                _cleanup_(freep) char *p = json_path_key(rule->path, "action");

                diag_error(d, p ?: rule->path, "required field is missing");
        }
        if (r <= 0)
                ret = -EINVAL;
        rule->action = action < 0 ? FW_DROP : (FwVerdict) action;
        RET_GATHER(ret, parse_limit(rule, o, d));
        RET_GATHER(ret, json_get_bool(o, rule->path, "log", &rule->log, d));
        RET_GATHER(ret, json_get_bool(o, rule->path, "counter", &rule->counter, d));
        if (ret >= 0)
                ret = check_rule(c, rule, d);
        return ret;
}

static int parse_rules(FwConfig *c, json_object *section, Diag *d) {
        _cleanup_(freep) uint64_t *hashes = NULL;   /* of the names: compared before the names are */
        json_object *a;
        size_t n;
        int ret;

        ret = get_array(section, SECTION, "rules", &a, &n, d);
        if (ret <= 0)
                return ret;
        c->rules = calloc(n + 1, sizeof(FwRule));
        hashes = calloc(n + 1, sizeof(uint64_t));
        if (!c->rules || !hashes)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                FwRule *rule = &c->rules[c->n_rules++];
                int r;

                rule->path = json_path_index(SECTION ".rules", i);
                if (!rule->path)
                        return -ENOMEM;
                r = parse_rule(c, rule, json_object_array_get_idx(a, i), d);
                if (r == -ENOMEM)
                        return r;
                RET_GATHER(ret, r);
                if (rule->name)
                        hashes[i] = hash64(rule->name, strlen(rule->name));
                for (size_t k = 0; rule->name && k + 1 < c->n_rules; k++)
                        if (c->rules[k].name && hashes[k] == hashes[i] && streq(c->rules[k].name, rule->name)) {
                                _cleanup_(freep) char *p = json_path_key(rule->path, "name");

                                diag_error(d, p ?: rule->path, "duplicate rule name \"%s\" (also %s)", rule->name,
                                           c->rules[k].path);
                                ret = -EINVAL;
                        }
        }
        return ret;
}

/* ---- port forwards ----------------------------------------------------------------- */

static const char *const port_forward_keys[] = {
        "name", "from", "proto", "external_port", "to", "reflection", NULL
};

/* "10.0.0.2", "10.0.0.2:80", "fd00::2", "[fd00::2]:80". */
static int parse_target(FwPortForward *pf, const char *s, const char *path, Diag *d) {
        char buf[INET6_ADDRSTRLEN + 16], *host = buf, *port = NULL;
        int r;

        if (strlen(s) >= sizeof buf)
                goto bad;
        strcpy(buf, s);
        if (buf[0] == '[') {
                char *close = strchr(buf, ']');

                if (!close || (close[1] && close[1] != ':'))
                        goto bad;
                *close = 0;
                host = buf + 1;
                port = close[1] ? close + 2 : NULL;
        } else if (strchr(buf, ':') && strchr(buf, ':') == strrchr(buf, ':')) {
                port = strchr(buf, ':');
                *port++ = 0;
        }
        if (fw_prefix_parse(host, &pf->to) < 0 || pf->to.prefixlen != (pf->to.family == AF_INET ? 32u : 128u) ||
            (buf[0] == '[' && pf->to.family != AF_INET6))
                goto bad;
        if (port) {
                r = port_text(port, &pf->to_port);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || strchr(pf->to_port, '-'))
                        goto bad;
        }
        return 1;
bad:
        {
                _cleanup_(freep) char *q = str_quote(s);

                diag_error(d, path, "%s is not an internal address with an optional port: expected 192.168.1.10, "
                           "192.168.1.10:80 or [fd00::10]:80", strna(q));
        }
        return -EINVAL;
}

static int parse_port_forward(FwConfig *c, FwPortForward *pf, json_object *o, Diag *d) {
        _cleanup_(freep) char *to_path = json_path_key(pf->path, "to");
        const char *to;
        int ret = 0, r;

        if (!to_path)
                return -ENOMEM;
        if (!json_expect_object(o, pf->path, d))
                return -EINVAL;
        if (json_check_keys(o, pf->path, port_forward_keys, d) > 0)
                ret = -EINVAL;
        RET_GATHER(ret, get_name(o, pf->path, FW_NAME_MAX, "port forward name", &pf->name, d));
        pf->from = get_zone_ref(c, o, pf->path, "from", true, d);
        if (pf->from < 0)
                ret = -EINVAL;
        r = get_protos(o, pf->path, true, &pf->protos, d);
        if (r > 0 && (pf->protos & ~(FW_PROTO_TCP | FW_PROTO_UDP))) {
                _cleanup_(freep) char *p = json_path_key(pf->path, "proto");

                diag_error(d, p ?: pf->path, "a port forward is for tcp, udp or both");
                r = -EINVAL;
        }
        RET_GATHER(ret, r);
        RET_GATHER(ret, get_port(o, pf->path, "external_port", true, &pf->external_port, d));
        r = json_get_string_nonul(o, pf->path, "to", true, &to, d);
        if (r > 0)
                r = parse_target(pf, to, to_path, d);
        if (r <= 0)
                ret = -EINVAL;
        if (r > 0 && pf->to_port && pf->external_port && strchr(pf->external_port, '-')) {
                diag_error(d, to_path, "external_port is a range, whose ports are forwarded as they are: leave "
                           "the port out of to");
                ret = -EINVAL;
        }
        RET_GATHER(ret, json_get_bool(o, pf->path, "reflection", &pf->reflection, d));
        return ret;
}

static int parse_port_forwards(FwConfig *c, json_object *section, Diag *d) {
        json_object *a;
        size_t n;
        int ret;

        ret = get_array(section, SECTION, "port_forwards", &a, &n, d);
        if (ret <= 0)
                return ret;
        c->port_forwards = calloc(n + 1, sizeof(FwPortForward));
        if (!c->port_forwards)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                FwPortForward *pf = &c->port_forwards[c->n_port_forwards++];
                int r;

                pf->from = -1;
                pf->path = json_path_index(SECTION ".port_forwards", i);
                if (!pf->path)
                        return -ENOMEM;
                r = parse_port_forward(c, pf, json_object_array_get_idx(a, i), d);
                if (r == -ENOMEM)
                        return r;
                RET_GATHER(ret, r);
                for (size_t k = 0; pf->name && k + 1 < c->n_port_forwards; k++)
                        if (c->port_forwards[k].name && streq(c->port_forwards[k].name, pf->name)) {
                                _cleanup_(freep) char *p = json_path_key(pf->path, "name");

                                diag_error(d, p ?: pf->path, "duplicate port forward name \"%s\" (also %s)",
                                           pf->name, c->port_forwards[k].path);
                                ret = -EINVAL;
                        }
        }
        return ret;
}

/* ---- kill switches -------------------------------------------------------------- */

static const char *const kill_switch_keys[] = { "zone", "tunnel", "dns", NULL };

static int parse_kill_switch(FwConfig *c, FwKillSwitch *k, size_t index, json_object *o, Diag *d) {
        const char *tunnel;
        int ret = 0, r;

        if (!json_expect_object(o, k->path, d))
                return -EINVAL;
        if (json_check_keys(o, k->path, kill_switch_keys, d) > 0)
                ret = -EINVAL;
        k->zone = get_zone_ref(c, o, k->path, "zone", true, d);
        if (k->zone < 0)
                ret = -EINVAL;
        r = json_get_ifname(o, k->path, "tunnel", true, &tunnel, d);
        if (r > 0) {
                k->tunnel = strdup(tunnel);
                if (!k->tunnel)
                        return -ENOMEM;
        } else
                ret = -EINVAL;
        RET_GATHER(ret, get_prefix(o, k->path, "dns", false, &k->dns, d));
        if (k->dns && k->dns->prefixlen != (k->dns->family == AF_INET ? 32u : 128u)) {
                _cleanup_(freep) char *p = json_path_key(k->path, "dns");

                diag_error(d, p ?: k->path, "expected the address of one resolver, not a prefix");
                ret = -EINVAL;
        }
        if (k->zone < 0)
                return ret;
        if (c->zones[k->zone].kill_switch >= 0) {
                diag_error(d, k->path, "zone %s has a kill switch already (%s)", c->zones[k->zone].name,
                           c->kill_switches[c->zones[k->zone].kill_switch].path);
                return -EINVAL;
        }
        c->zones[k->zone].kill_switch = (int) index;
        for (size_t i = 0; k->tunnel && i < c->zones[k->zone].n_interfaces; i++)
                if (fw_ifname_matches(c->zones[k->zone].interfaces[i], k->tunnel)) {
                        _cleanup_(freep) char *p = json_path_key(k->path, "tunnel");

                        diag_error(d, p ?: k->path, "%s is an interface of zone %s itself: the tunnel is the way out "
                                   "of the zone, in a zone of its own (one that masquerades)", k->tunnel,
                                   c->zones[k->zone].name);
                        ret = -EINVAL;
                }
        return ret;
}

static int parse_kill_switches(FwConfig *c, json_object *section, Diag *d) {
        json_object *a;
        size_t n;
        int ret;

        ret = get_array(section, SECTION, "kill_switch", &a, &n, d);
        if (ret <= 0)
                return ret;
        c->kill_switches = calloc(n + 1, sizeof(FwKillSwitch));
        if (!c->kill_switches)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                FwKillSwitch *k = &c->kill_switches[c->n_kill_switches++];
                int r;

                k->zone = -1;
                k->path = json_path_index(SECTION ".kill_switch", i);
                if (!k->path)
                        return -ENOMEM;
                r = parse_kill_switch(c, k, i, json_object_array_get_idx(a, i), d);
                if (r == -ENOMEM)
                        return r;
                RET_GATHER(ret, r);
        }
        return ret;
}

/* ---- across the section ---------------------------------------------------------- */

static bool zone_has_interface(const FwZone *z, const char *ifname) {
        for (size_t i = 0; i < z->n_interfaces; i++)
                if (fw_ifname_matches(z->interfaces[i], ifname))
                        return true;
        return false;
}

/* A zone with a kill switch sends traffic only through its tunnel: a
 * forwarding (or a rule accepting traffic) to a zone the tunnel is not in
 * contradicts it. */
static int check_kill_switch_exits(const FwConfig *c, int from, int to, const char *path, const char *what,
                                   Diag *d) {
        const FwKillSwitch *k;
        const FwZone *z;

        if (from < 0 || to < 0 || c->zones[from].kill_switch < 0)
                return 0;
        k = &c->kill_switches[c->zones[from].kill_switch];
        z = &c->zones[to];
        if (!k->tunnel || zone_has_interface(z, k->tunnel))
                return 0;
        if (z->masquerade)
                diag_error(d, path, "%s zone %s to zone %s, which masquerades out of %s%s: zone %s has a kill switch "
                           "(%s), so its traffic may leave only through %s; the two contradict each other: remove "
                           "one of them", what, c->zones[from].name, z->name,
                           z->n_interfaces ? z->interfaces[0] : "its interfaces", z->n_interfaces > 1 ? " and others" : "",
                           c->zones[from].name, k->path, k->tunnel);
        else
                diag_error(d, path, "%s zone %s to zone %s, but zone %s has a kill switch (%s): its traffic may leave "
                           "only through %s, which is not in zone %s, so the kill switch would drop it",
                           what, c->zones[from].name, z->name, c->zones[from].name, k->path, k->tunnel, z->name);
        return -EINVAL;
}

static int check_across(FwConfig *c, Diag *d) {
        int ret = 0;

        /* one zone per interface */
        for (size_t i = 0; i < c->n_zones; i++)
                for (size_t k = 0; k < c->zones[i].n_interfaces; k++)
                        for (size_t j = 0; j < i; j++)
                                for (size_t m = 0; m < c->zones[j].n_interfaces; m++) {
                                        _cleanup_(freep) char *ap = NULL, *p = NULL;

                                        if (!streq(c->zones[i].interfaces[k], c->zones[j].interfaces[m]))
                                                continue;
                                        ap = json_path_key(c->zones[i].path, "interfaces");
                                        p = ap ? json_path_index(ap, k) : NULL;
                                        diag_error(d, p ?: c->zones[i].path, "interface %s is in zone %s already: "
                                                   "an interface belongs to one zone", c->zones[i].interfaces[k],
                                                   c->zones[j].name);
                                        ret = -EINVAL;
                                }
        for (size_t i = 0; i < c->n_forwardings; i++)
                RET_GATHER(ret, check_kill_switch_exits(c, c->forwardings[i].from, c->forwardings[i].to,
                                                        c->forwardings[i].path, "forwards", d));
        for (size_t i = 0; i < c->n_rules; i++)
                if (c->rules[i].enabled && c->rules[i].action == FW_ACCEPT)
                        RET_GATHER(ret, check_kill_switch_exits(c, c->rules[i].from, c->rules[i].to, c->rules[i].path,
                                                                "accepts traffic from", d));
        return ret;
}

static const char *const firewall_keys[] = {
        "defaults", "zones", "forwardings", "rules", "sets", "port_forwards", "kill_switch", NULL
};

static int parse_zones(FwConfig *c, json_object *section, Diag *d) {
        json_object *a;
        size_t n;
        int ret;

        ret = get_array(section, SECTION, "zones", &a, &n, d);
        if (ret <= 0)
                return ret;
        c->zones = calloc(n + 1, sizeof(FwZone));
        if (!c->zones)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                FwZone *z = &c->zones[c->n_zones++];
                int r;

                z->path = json_path_index(SECTION ".zones", i);
                if (!z->path)
                        return -ENOMEM;
                r = parse_zone(c, z, json_object_array_get_idx(a, i), d);
                if (r == -ENOMEM)
                        return r;
                RET_GATHER(ret, r);
                for (size_t k = 0; z->name && k + 1 < c->n_zones; k++)
                        if (c->zones[k].name && streq(c->zones[k].name, z->name)) {
                                _cleanup_(freep) char *p = json_path_key(z->path, "name");

                                diag_error(d, p ?: z->path, "duplicate zone name \"%s\" (also %s)", z->name,
                                           c->zones[k].path);
                                ret = -EINVAL;
                        }
        }
        return ret;
}

int fw_parse(FwConfig *c, json_object *section, Diag *d) {
        int ret = 0;

        *c = (FwConfig) { .defaults = { FW_DROP, FW_DROP, FW_ACCEPT } };
        if (!section)
                return 0;
        if (!json_expect_object(section, SECTION, d))
                return -EINVAL;
        c->present = json_object_object_length(section) > 0;
        if (json_check_keys(section, SECTION, firewall_keys, d) > 0)
                ret = -EINVAL;
        RET_GATHER(ret, parse_defaults(c, section, d));
        RET_GATHER(ret, parse_zones(c, section, d));
        RET_GATHER(ret, parse_sets(c, section, d));
        RET_GATHER(ret, parse_forwardings(c, section, d));
        RET_GATHER(ret, parse_rules(c, section, d));
        RET_GATHER(ret, parse_port_forwards(c, section, d));
        RET_GATHER(ret, parse_kill_switches(c, section, d));
        if (ret == -ENOMEM)
                return ret;
        RET_GATHER(ret, check_across(c, d));
        return ret;
}

static void strv_free(char **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(l[i]);
        free(l);
}

static void prefix_free(FwPrefix *p) {
        if (p)
                fw_prefix_done(p);
        free(p);
}

void fw_config_done(FwConfig *c) {
        for (size_t i = 0; i < c->n_zones; i++) {
                FwZone *z = &c->zones[i];

                free(z->name);
                free(z->path);
                strv_free(z->interfaces, z->n_interfaces);
                for (size_t k = 0; k < z->n_subnets; k++)
                        fw_prefix_done(&z->subnets[k]);
                free(z->subnets);
        }
        free(c->zones);
        for (size_t i = 0; i < c->n_forwardings; i++)
                free(c->forwardings[i].path);
        free(c->forwardings);
        for (size_t i = 0; i < c->n_sets; i++) {
                free(c->sets[i].name);
                free(c->sets[i].path);
                strv_free(c->sets[i].elements, c->sets[i].n_elements);
        }
        free(c->sets);
        for (size_t i = 0; i < c->n_rules; i++) {
                FwRule *r = &c->rules[i];

                free(r->name);
                free(r->path);
                prefix_free(r->src);
                prefix_free(r->dest);
                free(r->src_port);
                free(r->dest_port);
                free(r->icmp_type);
        }
        free(c->rules);
        for (size_t i = 0; i < c->n_port_forwards; i++) {
                FwPortForward *pf = &c->port_forwards[i];

                free(pf->name);
                free(pf->path);
                free(pf->external_port);
                fw_prefix_done(&pf->to);
                free(pf->to_port);
        }
        free(c->port_forwards);
        for (size_t i = 0; i < c->n_kill_switches; i++) {
                free(c->kill_switches[i].path);
                free(c->kill_switches[i].tunnel);
                prefix_free(c->kill_switches[i].dns);
        }
        free(c->kill_switches);
        *c = (FwConfig) {};
}
