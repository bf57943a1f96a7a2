/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json-util.h"
#include "openflow.h"
#include "pve-id.h"

static void of_flow_done(OfFlow *f) {
        of_match_free(f->match, f->n_match);
        of_actions_free(f->actions, f->n_actions);
        free(f->path);
}

static void of_bridge_done(OfBridge *b) {
        for (size_t i = 0; i < b->n_flows; i++)
                of_flow_done(&b->flows[i]);
        free(b->flows);
        for (size_t i = 0; i < b->n_socket_ports; i++) {
                free(b->socket_ports[i].name);
                free(b->socket_ports[i].path);
        }
        free(b->socket_ports);
        free(b->name);
        free(b->path);
}

static void of_flow_policy_done(OfFlowPolicy *p) {
        free(p->name);
        free(p->selector.port);
        of_match_free(p->template.match, p->template.n_match);
        of_actions_free(p->template.actions, p->template.n_actions);
        free(p->path);
}

void openflow_config_done(OpenflowConfig *c) {
        for (size_t i = 0; i < c->n_bridges; i++)
                of_bridge_done(&c->bridges[i]);
        free(c->bridges);
        for (size_t i = 0; i < c->n_flow_policies; i++)
                of_flow_policy_done(&c->flow_policies[i]);
        free(c->flow_policies);
        *c = (OpenflowConfig) {};
}

static size_t path_put(char *buf, size_t at, size_t size, const char *s, size_t len) {
        size_t n = at + len < size ? len : size - 1 - at;

        memcpy(buf + at, s, n);
        return at + n;
}

void of_path(char *buf, size_t size, const char *parent, const char *key, size_t index) {
        size_t at = 0;

        assert(size > 0);
        at = path_put(buf, at, size, parent, strlen(parent));
        if (key) {
                at = path_put(buf, at, size, ".", 1);
                at = path_put(buf, at, size, key, strlen(key));
        }
        if (index != SIZE_MAX) {
                char digits[24];
                size_t n = sizeof digits;

                digits[--n] = ']';
                do
                        digits[--n] = (char) ('0' + index % 10);
                while ((index /= 10) > 0);
                digits[--n] = '[';
                at = path_put(buf, at, size, digits + n, sizeof digits - n);
        }
        buf[at] = 0;
}

int openflow_parse_array(json_object *o, const char *path, const char *key, bool required,
                         size_t elem_size, void **ret, size_t *ret_n, OfParseItem parse, Diag *d) {
        _cleanup_(freep) char *ap = json_path_key(path, key);
        json_object *a;
        size_t n;
        int r, ret_r = 1;

        r = json_get_array(o, path, key, required, &a, d);
        if (r <= 0)
                return r < 0 || !required ? r : -EINVAL;
        n = json_object_array_length(a);
        if (!ap || !(*ret = calloc(n + 1, elem_size)))
                return -ENOMEM;
        *ret_n = n;

        for (size_t i = 0; i < n; i++) {
                char ip[JSON_PATH_MAX];

                of_path(ip, sizeof ip, ap, NULL, i);
                r = parse((char *) *ret + i * elem_size, json_object_array_get_idx(a, i), ip, d);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        ret_r = r;
        }
        return ret_r;
}

static int get_ifname_dup(json_object *o, const char *path, const char *key, char **ret, Diag *d) {
        const char *s;
        int r;

        r = json_get_ifname(o, path, key, true, &s, d);
        if (r <= 0)
                return r < 0 ? r : -EINVAL;
        *ret = strdup(s);
        return *ret ? 1 : -ENOMEM;
}

/* "0x" and 1..16 hex digits, or an integer 0..UINT64_MAX. */
static int parse_cookie(OfFlow *f, json_object *o, const char *path, Diag *d) {
        char cp[JSON_PATH_MAX];
        json_object *v;
        const char *s;
        size_t len;

        if (!json_object_object_get_ex(o, "cookie", &v))
                return 0;
        of_path(cp, sizeof cp, path, "cookie", SIZE_MAX);

        switch (json_object_get_type(v)) {
        case json_type_int:
                if (json_object_get_int64(v) < 0) {
                        diag_error(d, cp, "%s is out of range, expected 0..%" PRIu64 " or a hex string such as \"0x64\"",
                                   json_object_to_json_string(v), UINT64_MAX);
                        return -EINVAL;
                }
                f->cookie = json_object_get_uint64(v);
                break;
        case json_type_string:
                s = json_object_get_string(v);
                len = (size_t) json_object_get_string_len(v);
                if (!startswith(s, "0x") || len < 3 || len > 18 || strspn(s + 2, "0123456789abcdefABCDEF") != len - 2) {
                        diag_error(d, cp, "\"%s\" is not a valid cookie, expected \"0x\" and 1 to 16 hex digits, such as \"0x64\"", s);
                        return -EINVAL;
                }
                f->cookie = strtoull(s + 2, NULL, 16);
                break;
        default:
                diag_error(d, cp, "expected a cookie (\"0x\" and 1 to 16 hex digits, or an integer), got %s",
                           json_type_name(json_object_get_type(v)));
                return -EINVAL;
        }
        f->has_cookie = true;
        return 1;
}

static const char *const flow_keys[] = {
        "table", "priority", "match_fields", "actions", "cookie", "idle_timeout", "hard_timeout", NULL
};

static int parse_flow(void *item, json_object *o, const char *path, Diag *d) {
        char mp[JSON_PATH_MAX];
        OfFlow *f = item;
        json_object *m;
        int64_t i;
        int r, ret = 0;

        f->priority = OF_PRIORITY_DEFAULT;
        of_path(mp, sizeof mp, path, "match_fields", SIZE_MAX);
        if (!(f->path = strdup(path)))
                return -ENOMEM;
        if (!json_expect_object(o, path, d))
                return -EINVAL;
        if (json_check_keys(o, path, flow_keys, d) > 0)
                ret = -EINVAL;

        if ((r = json_get_int(o, path, "table", false, 0, OF_TABLE_MAX, &i, d)) > 0)
                f->table = (uint8_t) i;
        RET_GATHER(ret, r);
        if ((r = json_get_int(o, path, "priority", false, 0, UINT16_MAX, &i, d)) > 0)
                f->priority = (uint16_t) i;
        RET_GATHER(ret, r);
        if (json_object_object_get_ex(o, "match_fields", &m))
                RET_GATHER(ret, of_match_parse(m, mp, false, &f->match, &f->n_match, d));
        RET_GATHER(ret, openflow_parse_array(o, path, "actions", true, sizeof(OfAction),
                                                 (void **) &f->actions, &f->n_actions, of_action_parse, d));
        if (ret == -ENOMEM)
                return ret;
        r = of_flow_check(f->match, f->n_match, f->actions, f->n_actions,
                          &(OfFlowCheck) { .path = path, .match_path = mp }, d);
        if (r == -ENOMEM)
                return r;
        RET_GATHER(ret, r);
        RET_GATHER(ret, parse_cookie(f, o, path, d));
        if ((r = json_get_int(o, path, "idle_timeout", false, 0, UINT16_MAX, &i, d)) > 0)
                f->idle_timeout = (uint16_t) i;
        RET_GATHER(ret, r);
        if ((r = json_get_int(o, path, "hard_timeout", false, 0, UINT16_MAX, &i, d)) > 0)
                f->hard_timeout = (uint16_t) i;
        RET_GATHER(ret, r);
        return ret;
}

static const char *const socket_port_keys[] = {
        "name", "container_id", "ofport", "hwaddr", "ipv4",
        "allow_dhcp_server", "allow_router_advertisements", "allow_ipv6", NULL
};

static int parse_socket_port(void *item, json_object *o, const char *path, Diag *d) {
        OfSocketPort *s = item;
        int64_t i;
        int r, ret = 0;

        if (!(s->path = strdup(path)))
                return -ENOMEM;
        if (!json_expect_object(o, path, d))
                return -EINVAL;
        if (json_check_keys(o, path, socket_port_keys, d) > 0)
                ret = -EINVAL;

        RET_GATHER(ret, get_ifname_dup(o, path, "name", &s->name, d));
        r = pve_get_vmid(o, path, "container_id", true, &s->container_id, d);
        if (r <= 0)
                RET_GATHER(ret, r < 0 ? r : -EINVAL);
        if ((r = json_get_int(o, path, "ofport", false, 1, OF_OFPORT_MAX, &i, d)) > 0)
                s->ofport = (uint16_t) i;
        RET_GATHER(ret, r);
        r = json_get_mac(o, path, "hwaddr", false, s->hwaddr, d);
        s->has_hwaddr = r > 0;
        RET_GATHER(ret, r);
        r = json_get_ipv4(o, path, "ipv4", false, &s->ipv4, NULL, d);
        s->has_ipv4 = r > 0;
        RET_GATHER(ret, r);
        RET_GATHER(ret, json_get_bool(o, path, "allow_dhcp_server", &s->allow_dhcp_server, d));
        RET_GATHER(ret, json_get_bool(o, path, "allow_router_advertisements",
                                      &s->allow_router_advertisements, d));
        RET_GATHER(ret, json_get_bool(o, path, "allow_ipv6", &s->allow_ipv6, d));
        return ret;
}

static const char *const bridge_keys[] = { "name", "flows", "socket_ports", NULL };

static int parse_bridge(void *item, json_object *o, const char *path, Diag *d) {
        OfBridge *b = item;
        int ret = 0;

        if (!(b->path = strdup(path)))
                return -ENOMEM;
        if (!json_expect_object(o, path, d))
                return -EINVAL;
        if (json_check_keys(o, path, bridge_keys, d) > 0)
                ret = -EINVAL;

        RET_GATHER(ret, get_ifname_dup(o, path, "name", &b->name, d));
        RET_GATHER(ret, openflow_parse_array(o, path, "flows", false, sizeof(OfFlow),
                                                 (void **) &b->flows, &b->n_flows, parse_flow, d));
        RET_GATHER(ret, openflow_parse_array(o, path, "socket_ports", false, sizeof(OfSocketPort),
                                                 (void **) &b->socket_ports, &b->n_socket_ports,
                                                 parse_socket_port, d));
        return ret;
}

/* port:NAME or port:PREFIX* (PREFIX: 0..14 interface name characters). */
static int parse_port_selector(OfSelector *sel, const char *v, const char *path, Diag *d) {
        size_t len = strlen(v);

        if (len == 0 || v[len - 1] != '*') {
                if (!json_check_ifname(v, path, d))
                        return -EINVAL;
                sel->kind = OF_SELECT_PORT_EXACT;
                sel->port = strdup(v);
                return sel->port ? 1 : -ENOMEM;
        }

        len--;
        if (len > 14 || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != len) {
                diag_error(d, path, "\"port:%s\" is not a valid port prefix, expected up to 14 of A-Z a-z 0-9 '_' '.' '-' before the '*'",
                           v);
                return -EINVAL;
        }
        sel->kind = OF_SELECT_PORT_PREFIX;
        sel->port = strndup(v, len);
        return sel->port ? 1 : -ENOMEM;
}

/* container:N, container:A-B (A <= B) or container:*. */
static bool parse_container_selector(OfSelector *sel, const char *v) {
        const char *e;

        if (streq(v, "*")) {
                sel->kind = OF_SELECT_CONTAINER_ALL;
                return true;
        }
        if (!pve_vmid_parse(v, &e, &sel->first_id))
                return false;
        sel->last_id = sel->first_id;
        sel->kind = OF_SELECT_CONTAINER_ID;
        if (*e == '\0')
                return true;
        sel->kind = OF_SELECT_CONTAINER_RANGE;
        return *e == '-' && pve_vmid_parse(e + 1, &e, &sel->last_id) && *e == '\0';
}

static int parse_selector(OfSelector *sel, json_object *o, const char *path, Diag *d) {
        _cleanup_(freep) char *sp = json_path_key(path, "selector");
        const char *s;
        int r;

        if (!sp)
                return -ENOMEM;
        r = json_get_string_nonul(o, path, "selector", true, &s, d);
        if (r <= 0)
                return r < 0 ? r : -EINVAL;

        if (startswith(s, "port:"))
                return parse_port_selector(sel, s + 5, sp, d);
        if (!startswith(s, "container:") || !parse_container_selector(sel, s + 10)) {
                diag_error(d, sp, "\"%s\" is not a valid selector, expected container:N, container:A-B, container:*, port:NAME or port:PREFIX* (container ids %u..%u)",
                           s, PVE_VMID_MIN, PVE_VMID_MAX);
                return -EINVAL;
        }
        if (sel->first_id > sel->last_id) {
                diag_error(d, sp, "\"%s\" is an empty range, write the lower id first: container:%u-%u",
                           s, sel->last_id, sel->first_id);
                return -EINVAL;
        }
        return 1;
}

static const char *const template_keys[] = { "table", "priority", "match", "actions", NULL };

static bool has_output(const OfAction *a, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (a[i].type == OF_ACTION_OUTPUT)
                        return true;
        return false;
}

/* The flows of a policy match in_port of the selected port and reg0 bit 0
 * (not a conntrack reply) before the template's own match: the template
 * may not name them again. */
static int check_template_reserved(const OfFlowTemplate *t, const char *mp, bool text, Diag *d) {
        int ret = 0;

        for (size_t i = 0; i < t->n_match; i++) {
                _cleanup_(freep) char *fp = NULL;

                if (!streq(t->match[i].name, "reg0"))
                        continue;
                fp = text ? strdup(mp) : json_path_key(mp, "reg0");
                if (!fp)
                        return -ENOMEM;
                diag_error(d, fp, "reg0 is not for policies: its bit 0 marks conntrack replies, which every policy flow "
                           "already excludes; use another register");
                ret = -EINVAL;
        }
        return ret;
}

static int check_template(const OfFlowTemplate *t, json_object *m, const char *path, const char *mp, Diag *d) {
        const char *text = json_object_is_type(m, json_type_string) ? json_object_get_string(m) : NULL;
        int r;

        r = check_template_reserved(t, mp, text, d);
        if (r == -ENOMEM)
                return r;
        return RET_GATHER(r, of_flow_check(t->match, t->n_match, t->actions, t->n_actions,
                                           &(OfFlowCheck) {
                                                   .path = path,
                                                   .match_path = mp,
                                                   .match_text = text,
                                                   .template = true,
                                                   .implicit_ip = t->n_match == 0 && has_output(t->actions, t->n_actions),
                                           }, d));
}

static int parse_template(OfFlowTemplate *t, json_object *o, const char *path, Diag *d) {
        _cleanup_(freep) char *mp = json_path_key(path, "match");
        json_object *m = NULL;
        int64_t i;
        int r, ret = 0;

        if (!mp)
                return -ENOMEM;
        if (!json_expect_object(o, path, d))
                return -EINVAL;
        if (json_check_keys(o, path, template_keys, d) > 0)
                ret = -EINVAL;

        if ((r = json_get_int(o, path, "table", true, 0, OF_TABLE_MAX, &i, d)) > 0)
                t->table = (uint8_t) i;
        else
                ret = -EINVAL;
        if ((r = json_get_int(o, path, "priority", true, 0, UINT16_MAX, &i, d)) > 0)
                t->priority = (uint16_t) i;
        else
                ret = -EINVAL;

        if (json_object_object_get_ex(o, "match", &m)) {
                if (json_object_is_type(m, json_type_string))
                        RET_GATHER(ret, of_match_parse_text(json_object_get_string(m), mp, &t->match, &t->n_match, d));
                else if (json_object_is_type(m, json_type_object))
                        RET_GATHER(ret, of_match_parse(m, mp, true, &t->match, &t->n_match, d));
                else {
                        diag_error(d, mp, "expected an object of strings or an ovs-ofctl match string such as \"ip,nw_dst=10.0.0.0/24\", got %s",
                                   json_type_name(json_object_get_type(m)));
                        ret = -EINVAL;
                }
        }
        RET_GATHER(ret, openflow_parse_array(o, path, "actions", true, sizeof(OfAction),
                                                 (void **) &t->actions, &t->n_actions, of_action_parse, d));
        if (ret == -ENOMEM)
                return ret;
        r = check_template(t, m, path, mp, d);
        return r == -ENOMEM ? r : RET_GATHER(ret, r);
}

static const char *const policy_keys[] = { "name", "selector", "template", NULL };

static int parse_flow_policy(void *item, json_object *o, const char *path, Diag *d) {
        _cleanup_(freep) char *tp = json_path_key(path, "template");
        OfFlowPolicy *p = item;
        json_object *t;
        int r, ret = 0;

        if (!tp || !(p->path = strdup(path)))
                return -ENOMEM;
        if (!json_expect_object(o, path, d))
                return -EINVAL;
        if (json_check_keys(o, path, policy_keys, d) > 0)
                ret = -EINVAL;

        r = json_get_string_dup(o, path, "name", true, &p->name, d);
        if (r <= 0)
                RET_GATHER(ret, r < 0 ? r : -EINVAL);
        RET_GATHER(ret, parse_selector(&p->selector, o, path, d));
        if (json_object_object_get_ex(o, "template", &t))
                RET_GATHER(ret, parse_template(&p->template, t, tp, d));
        else {
                diag_error(d, tp, "required field is missing");
                ret = -EINVAL;
        }
        return ret;
}

/* Names that must be unique, reported at the later object. */
static int check_unique(const OpenflowConfig *c, Diag *d) {
        int ret = 0;

        for (size_t i = 0; i < c->n_bridges; i++)
                for (size_t j = 0; c->bridges[i].name && j < i; j++)
                        if (streq_ptr(c->bridges[i].name, c->bridges[j].name)) {
                                diag_error(d, c->bridges[i].path, "bridge \"%s\" is already listed at %s; list each bridge once",
                                           c->bridges[i].name, c->bridges[j].path);
                                ret = -EINVAL;
                                break;
                        }

        for (size_t i = 0; i < c->n_flow_policies; i++)
                for (size_t j = 0; c->flow_policies[i].name && j < i; j++)
                        if (streq_ptr(c->flow_policies[i].name, c->flow_policies[j].name)) {
                                diag_error(d, c->flow_policies[i].path, "flow policy \"%s\" is already declared at %s; policy names are unique",
                                           c->flow_policies[i].name, c->flow_policies[j].path);
                                ret = -EINVAL;
                                break;
                        }
        return ret;
}

/* The first socket port called name that comes before port i of bridge b. */
static const OfSocketPort *find_socket_port_before(const OpenflowConfig *c, const char *name, size_t b, size_t i) {
        for (size_t ob = 0; ob <= b; ob++)
                for (size_t j = 0; j < (ob == b ? i : c->bridges[ob].n_socket_ports); j++)
                        if (streq_ptr(c->bridges[ob].socket_ports[j].name, name))
                                return &c->bridges[ob].socket_ports[j];
        return NULL;
}

/* Socket port names are unique across all bridges: each is one OVS port. */
static int check_socket_ports(const OpenflowConfig *c, Diag *d) {
        int ret = 0;

        for (size_t b = 0; b < c->n_bridges; b++)
                for (size_t i = 0; i < c->bridges[b].n_socket_ports; i++) {
                        const OfSocketPort *s = &c->bridges[b].socket_ports[i], *o;

                        if (!s->name || !(o = find_socket_port_before(c, s->name, b, i)))
                                continue;
                        diag_error(d, s->path, "socket port \"%s\" is already declared at %s; port names are unique on the host",
                                   s->name, o->path);
                        ret = -EINVAL;
                }
        return ret;
}

static const char *const openflow_keys[] = {
        "enable_security_flows", "obfuscation_level", "auto_discover_containers", "dns_resolver",
        "bridges", "flow_policies", NULL
};

int openflow_parse(OpenflowConfig *c, json_object *section, Diag *d) {
        const char *path = "plugins.openflow";
        int64_t level;
        int r, ret = 0;

        c->enable_security_flows = true;
        c->obfuscation_level = 1;
        c->auto_discover_containers = true;

        if (!json_expect_object(section, path, d))
                return -EINVAL;
        if (json_check_keys(section, path, openflow_keys, d) > 0)
                ret = -EINVAL;

        RET_GATHER(ret, json_get_bool(section, path, "enable_security_flows", &c->enable_security_flows, d));
        if ((r = json_get_int(section, path, "obfuscation_level", false, 0, OF_OBFUSCATION_LEVEL_MAX, &level, d)) > 0)
                c->obfuscation_level = (unsigned) level;
        RET_GATHER(ret, r);
        RET_GATHER(ret, json_get_bool(section, path, "auto_discover_containers", &c->auto_discover_containers, d));
        r = json_get_ipv4(section, path, "dns_resolver", false, &c->dns_resolver, NULL, d);
        c->has_dns_resolver = r > 0;
        RET_GATHER(ret, r);

        r = openflow_parse_array(section, path, "bridges", false, sizeof(OfBridge),
                                 (void **) &c->bridges, &c->n_bridges, parse_bridge, d);
        if (r == -ENOMEM)
                return r;
        RET_GATHER(ret, r);
        r = openflow_parse_array(section, path, "flow_policies", false, sizeof(OfFlowPolicy),
                                 (void **) &c->flow_policies, &c->n_flow_policies, parse_flow_policy, d);
        if (r == -ENOMEM)
                return r;
        RET_GATHER(ret, r);

        RET_GATHER(ret, check_unique(c, d));
        RET_GATHER(ret, check_socket_ports(c, d));
        return ret;
}
