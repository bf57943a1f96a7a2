/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>

#include "json-util.h"
#include "ovn.h"

#define SECTION "plugins.ovn"

static const char *const section_keys[] = { "chassis", "switches", "ports", NULL };
static const char *const chassis_keys[] = {
        "system_id", "northbound", "southbound", "encap_type", "encap_ip", "bridge", NULL
};
static const char *const switch_keys[] = { "name", "subnet", "dhcp", NULL };
static const char *const dhcp_keys[] = { "router", "dns", "lease_time", NULL };
static const char *const port_keys[] = { "name", "switch", "mac", "ip", "interface", NULL };
static const char *const encap_types[] = { "geneve", NULL };

/* Names of OVN rows and system-ids: what survives in logs, external_ids
 * keys and ovn-nbctl's command line without quoting. */
static bool check_name(const char *s, const char *path, const char *what, Diag *d) {
        size_t n = strlen(s);

        if (n == 0 || n > 63 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n) {
                diag_error(d, path, "expected %s: 1 to 63 letters, digits, '.', '_' or '-'", what);
                return false;
        }
        return true;
}

static int get_name(json_object *o, const char *path, const char *key, const char *what, char **ret, Diag *d) {
        _cleanup_(freep) char *kp = json_path_key(path, key);
        const char *s = NULL;
        int r;

        r = json_get_string_nonul(o, path, key, true, &s, d);
        if (r <= 0)
                return -EINVAL;
        /* kept when refused, so that what refers to it finds it */
        *ret = strdup(s);
        if (!*ret)
                return -ENOMEM;
        return check_name(s, kp, what, d) ? 0 : -EINVAL;
}

/* op-dbus's client speaks OVSDB over unix sockets and plain TCP. */
static int get_remote(json_object *o, const char *path, const char *key, bool local, char **ret, Diag *d) {
        _cleanup_(freep) char *kp = json_path_key(path, key);
        const char *s = NULL;
        int r;

        r = json_get_string_nonul(o, path, key, true, &s, d);
        if (r <= 0)
                return -EINVAL;
        if (local && !startswith(s, "unix:/") && !(startswith(s, "tcp:") && ovn_tcp_remote_valid(s))) {
                diag_error(d, kp, "expected the northbound database as \"tcp:IP:PORT\" or \"unix:/PATH\" "
                           "(op-dbus's client has no SSL: on another host, use tcp: on a trusted network)");
                return -EINVAL;
        }
        if (!local && !startswith(s, "unix:/") && !startswith(s, "tcp:") && !startswith(s, "ssl:")) {
                diag_error(d, kp, "expected an OVSDB remote for ovn-controller: \"tcp:IP:PORT\", "
                           "\"ssl:IP:PORT\" or \"unix:/PATH\"");
                return -EINVAL;
        }
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* "tcp:IP:PORT" or "tcp:[IPv6]:PORT" with a numeric address, as the
 * client takes it. */
bool ovn_tcp_remote_valid(const char *s) {
        char host[INET6_ADDRSTRLEN + 1], buf[16];
        const char *a = s + strlen("tcp:"), *port, *end;
        size_t l;

        if (a[0] == '[') {
                end = strchr(a, ']');
                if (!end || end[1] != ':')
                        return false;
                l = (size_t) (end - a - 1);
                a++;
                port = end + 2;
        } else {
                end = strrchr(a, ':');
                if (!end)
                        return false;
                l = (size_t) (end - a);
                port = end + 1;
        }
        if (l == 0 || l >= sizeof host || strlen(port) == 0 || strlen(port) > 5 ||
            strspn(port, "0123456789") != strlen(port) || atoi(port) < 1 || atoi(port) > 65535)
                return false;
        memcpy(host, a, l);
        host[l] = 0;
        return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int parse_chassis(OvnChassis *c, json_object *section, Diag *d) {
        static const char path[] = SECTION ".chassis";
        json_object *o = NULL;
        const char *s;
        struct in_addr a;
        int r, e = -1, ret = 0;

        r = json_member(section, "chassis", path, true, &o, d);
        if (r <= 0)
                return -EINVAL;
        if (!json_expect_object(o, path, d))
                return -EINVAL;
        if (json_check_keys(o, path, chassis_keys, d) > 0)
                ret = -EINVAL;
        RET_GATHER(ret, get_name(o, path, "system_id", "a system-id", &c->system_id, d));
        RET_GATHER(ret, get_remote(o, path, "northbound", true, &c->northbound, d));
        RET_GATHER(ret, get_remote(o, path, "southbound", false, &c->southbound, d));
        r = json_get_enum(o, path, "encap_type", encap_types, &e, d);
        if (r < 0)
                ret = r;
        c->encap_type = strdup(e >= 0 ? encap_types[e] : "geneve");
        r = json_get_ipv4(o, path, "encap_ip", true, &a, NULL, d);
        if (r > 0)
                c->encap_ip = strdup(inet_ntoa(a));
        else
                ret = -EINVAL;
        s = NULL;
        r = json_get_ifname(o, path, "bridge", false, &s, d);
        if (r < 0)
                ret = r;
        c->bridge = strdup(s ?: "br-int");
        if (!c->encap_type || !c->bridge || (r > 0 && !c->encap_ip))
                return -ENOMEM;
        return ret;
}

static int add_switch(OvnModel *m, OvnSwitch **ret) {
        OvnSwitch *n = reallocarray(m->switches, m->n_switches + 1, sizeof(OvnSwitch));

        if (!n)
                return -ENOMEM;
        m->switches = n;
        *ret = memset(&n[m->n_switches++], 0, sizeof(OvnSwitch));
        return 0;
}

static int add_port(OvnModel *m, OvnPort **ret) {
        OvnPort *n = reallocarray(m->ports, m->n_ports + 1, sizeof(OvnPort));

        if (!n)
                return -ENOMEM;
        m->ports = n;
        *ret = memset(&n[m->n_ports++], 0, sizeof(OvnPort));
        return 0;
}

static bool in_subnet(const OvnSwitch *s, struct in_addr ip) {
        uint32_t mask = s->prefix == 0 ? 0 : htonl(~UINT32_C(0) << (32 - s->prefix));
        uint32_t host = ntohl(ip.s_addr & ~mask);

        return (ip.s_addr & mask) == s->net.s_addr && host != 0 && host != ~ntohl(mask);
}

static void put(json_object *o, const char *key, const char *value) {
        json_object_object_add(o, key, json_object_new_string(value));
}

/* The DHCP_Options.options of a switch: OVN answers DHCP requests itself,
 * from server_mac and server_id (the router, or the subnet's first
 * address). */
static int parse_dhcp(OvnSwitch *s, json_object *sw, const char *path, Diag *d) {
        _cleanup_(freep) char *dp = json_path_key(path, "dhcp");
        char buf[INET_ADDRSTRLEN + 2], lease[24];
        struct in_addr router = {}, dns, first;
        json_object *o = NULL;
        int64_t lease_time = 3600;
        int r, rr, ret = 0;

        r = json_member(sw, "dhcp", dp, false, &o, d);
        if (r <= 0)
                return r;
        if (!json_expect_object(o, dp, d))
                return -EINVAL;
        if (json_check_keys(o, dp, dhcp_keys, d) > 0)
                ret = -EINVAL;
        rr = json_get_ipv4(o, dp, "router", false, &router, NULL, d);
        if (rr > 0 && !in_subnet(s, router)) {
                _cleanup_(freep) char *rp = json_path_key(dp, "router");

                diag_error(d, rp, "%s is not a host address of the subnet %s", inet_ntoa(router), s->subnet);
                ret = -EINVAL;
        }
        if (rr < 0)
                ret = rr;
        r = json_get_int(o, dp, "lease_time", false, 60, UINT32_MAX, &lease_time, d);
        if (r < 0)
                ret = r;
        s->dhcp = json_object_new_object();
        if (!s->dhcp)
                return -ENOMEM;
        first.s_addr = htonl(ntohl(s->net.s_addr) + 1);
        put(s->dhcp, "server_id", inet_ntoa(rr > 0 ? router : first));
        put(s->dhcp, "server_mac", OVN_DHCP_SERVER_MAC);
        snprintf(lease, sizeof lease, "%" PRId64, lease_time);
        put(s->dhcp, "lease_time", lease);
        if (rr > 0)
                put(s->dhcp, "router", inet_ntoa(router));
        r = json_get_ipv4(o, dp, "dns", false, &dns, NULL, d);
        if (r < 0)
                ret = r;
        if (r > 0) {
                snprintf(buf, sizeof buf, "%s", inet_ntoa(dns));
                put(s->dhcp, "dns_server", buf);
        }
        return ret;
}

static int parse_switch(OvnModel *m, json_object *o, const char *path, Diag *d) {
        _cleanup_(freep) char *sp = json_path_key(path, "subnet");
        char buf[INET_ADDRSTRLEN + 4];
        struct in_addr a;
        unsigned prefix = 0;
        OvnSwitch *s;
        uint32_t mask;
        int r, ret = 0;

        if (!json_expect_object(o, path, d))
                return -EINVAL;
        if (json_check_keys(o, path, switch_keys, d) > 0)
                ret = -EINVAL;
        r = add_switch(m, &s);
        if (r < 0)
                return r;
        s->path = strdup(path);
        if (!s->path)
                return -ENOMEM;
        RET_GATHER(ret, get_name(o, path, "name", "a logical switch name", &s->name, d));
        r = json_get_ipv4(o, path, "subnet", true, &a, &prefix, d);
        if (r <= 0)
                return -EINVAL;
        mask = prefix == 0 ? 0 : htonl(~UINT32_C(0) << (32 - prefix));
        if ((a.s_addr & ~mask) != 0) {
                struct in_addr n = { a.s_addr & mask };

                diag_error(d, sp, "%s/%u is not a network address: expected %s/%u", inet_ntoa(a), prefix,
                           inet_ntop(AF_INET, &n, buf, sizeof buf), prefix);
                return -EINVAL;
        }
        if (prefix > 30) {
                diag_error(d, sp, "expected a subnet of at least 4 addresses (a prefix length up to 30)");
                return -EINVAL;
        }
        s->net = a;
        s->prefix = prefix;
        snprintf(buf, sizeof buf, "%s/%u", inet_ntoa(a), prefix);
        s->subnet = strdup(buf);
        if (!s->subnet)
                return -ENOMEM;
        RET_GATHER(ret, parse_dhcp(s, o, path, d));
        return ret;
}

static int parse_port(OvnModel *m, json_object *o, const char *path, Diag *d) {
        _cleanup_(freep) char *swp = json_path_key(path, "switch"), *ipp = json_path_key(path, "ip");
        uint8_t mac[6];
        struct in_addr ip;
        const char *iface = NULL;
        OvnSwitch *sw;
        OvnPort *p;
        int r, ret = 0, rm, ri;

        if (!json_expect_object(o, path, d))
                return -EINVAL;
        if (json_check_keys(o, path, port_keys, d) > 0)
                ret = -EINVAL;
        r = add_port(m, &p);
        if (r < 0)
                return r;
        p->path = strdup(path);
        if (!p->path)
                return -ENOMEM;
        RET_GATHER(ret, get_name(o, path, "name", "a logical switch port name", &p->name, d));
        RET_GATHER(ret, get_name(o, path, "switch", "a logical switch name", &p->sw, d));
        rm = json_get_mac(o, path, "mac", true, mac, d);
        ri = json_get_ipv4(o, path, "ip", true, &ip, NULL, d);
        r = json_get_ifname(o, path, "interface", false, &iface, d);
        if (r < 0)
                ret = r;
        if (r > 0 && !(p->interface = strdup(iface)))
                return -ENOMEM;
        if (rm <= 0 || ri <= 0)
                return -EINVAL;
        if (mac[0] & 1) {
                _cleanup_(freep) char *mp = json_path_key(path, "mac");

                diag_error(d, mp, "expected a unicast MAC address (the low bit of the first byte clear)");
                ret = -EINVAL;
        }
        if (asprintf(&p->address, "%02x:%02x:%02x:%02x:%02x:%02x %s", mac[0], mac[1], mac[2], mac[3],
                     mac[4], mac[5], inet_ntoa(ip)) < 0) {
                p->address = NULL;
                return -ENOMEM;
        }
        if (ret < 0 || !p->sw)
                return -EINVAL;
        sw = ovn_find_switch(m, p->sw);
        if (!sw) {
                diag_error(d, swp, "unknown logical switch \"%s\": expected one of plugins.ovn.switches", p->sw);
                return -EINVAL;
        }
        if (sw->subnet && !in_subnet(sw, ip)) {
                diag_error(d, ipp, "%s is not a host address of the subnet %s of logical switch \"%s\"",
                           inet_ntoa(ip), sw->subnet, sw->name);
                return -EINVAL;
        }
        return 0;
}

static int check_unique(const OvnModel *m, Diag *d) {
        int ret = 0;

        for (size_t i = 0; i < m->n_switches; i++)
                for (size_t j = 0; j < i; j++)
                        if (m->switches[i].name && m->switches[j].name &&
                            streq(m->switches[i].name, m->switches[j].name)) {
                                diag_error(d, m->switches[i].path, "logical switch \"%s\" is declared twice (also at %s)",
                                           m->switches[i].name, m->switches[j].path);
                                ret = -EINVAL;
                        }
        for (size_t i = 0; i < m->n_ports; i++)
                for (size_t j = 0; j < i; j++) {
                        const OvnPort *a = &m->ports[i], *b = &m->ports[j];

                        if (a->name && b->name && streq(a->name, b->name)) {
                                diag_error(d, a->path, "logical switch port \"%s\" is declared twice (also at %s)",
                                           a->name, b->path);
                                ret = -EINVAL;
                        } else if (a->interface && b->interface && streq(a->interface, b->interface)) {
                                diag_error(d, a->path, "interface \"%s\" is bound to two ports (also at %s)",
                                           a->interface, b->path);
                                ret = -EINVAL;
                        }
                }
        return ret;
}

static int parse_array(OvnModel *m, json_object *section, const char *key,
                       int (*one)(OvnModel *, json_object *, const char *, Diag *), Diag *d) {
        json_object *a = NULL;
        int r, ret = 0;

        r = json_get_array(section, SECTION, key, false, &a, d);
        if (r <= 0)
                return r;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                _cleanup_(freep) char *kp = json_path_key(SECTION, key);
                _cleanup_(freep) char *path = kp ? json_path_index(kp, i) : NULL;

                if (!path)
                        return -ENOMEM;
                r = one(m, json_object_array_get_idx(a, i), path, d);
                if (r == -ENOMEM)
                        return r;
                RET_GATHER(ret, r);
        }
        return ret;
}

int ovn_parse(OvnPlugin *o, json_object *section, Diag *d) {
        int r, ret = 0;

        if (!section)
                return 0;
        if (!json_expect_object(section, SECTION, d))
                return -EINVAL;
        if (json_check_keys(section, SECTION, section_keys, d) > 0)
                ret = -EINVAL;
        r = parse_chassis(&o->chassis, section, d);
        if (r == -ENOMEM)
                return r;
        RET_GATHER(ret, r);
        r = parse_array(&o->want, section, "switches", parse_switch, d);
        if (r == -ENOMEM)
                return r;
        RET_GATHER(ret, r);
        r = parse_array(&o->want, section, "ports", parse_port, d);
        if (r == -ENOMEM)
                return r;
        RET_GATHER(ret, r);
        RET_GATHER(ret, check_unique(&o->want, d));
        o->present = true;
        return ret < 0 ? ret : 1;
}

OvnSwitch *ovn_find_switch(const OvnModel *m, const char *name) {
        for (size_t i = 0; i < m->n_switches; i++)
                if (m->switches[i].name && streq(m->switches[i].name, name))
                        return &m->switches[i];
        return NULL;
}

OvnPort *ovn_find_port(const OvnModel *m, const char *name) {
        for (size_t i = 0; i < m->n_ports; i++)
                if (m->ports[i].name && streq(m->ports[i].name, name))
                        return &m->ports[i];
        return NULL;
}

const OvnIface *ovn_find_iface(const OvnPlugin *o, const char *name) {
        for (size_t i = 0; i < o->n_ifaces; i++)
                if (streq(o->ifaces[i].name, name))
                        return &o->ifaces[i];
        return NULL;
}

size_t ovn_chassis_keys(const OvnChassis *c, const char *keys[static 5], const char *values[static 5]) {
        keys[0] = "ovn-remote", values[0] = c->southbound;
        keys[1] = "ovn-encap-type", values[1] = c->encap_type;
        keys[2] = "ovn-encap-ip", values[2] = c->encap_ip;
        keys[3] = "system-id", values[3] = c->system_id;
        keys[4] = "ovn-bridge", values[4] = c->bridge;
        return 5;
}

void ovn_model_done(OvnModel *m) {
        for (size_t i = 0; i < m->n_switches; i++) {
                OvnSwitch *s = &m->switches[i];

                free(s->name);
                free(s->subnet);
                free(s->path);
                free(s->uuid);
                free(s->dhcp_uuid);
                free(s->dhcp_cidr);
                json_object_put(s->dhcp);
                json_object_put(s->raw_ids);
                json_object_put(s->raw_ports);
        }
        for (size_t i = 0; i < m->n_ports; i++) {
                OvnPort *p = &m->ports[i];

                free(p->name);
                free(p->sw);
                free(p->address);
                free(p->interface);
                free(p->path);
                free(p->uuid);
                free(p->sw_uuid);
                free(p->security);
                free(p->dhcp_uuid);
                free(p->node);
        }
        free(m->switches);
        free(m->ports);
        *m = (OvnModel) {};
}

void ovn_chassis_done(OvnChassis *c) {
        free(c->system_id);
        free(c->northbound);
        free(c->southbound);
        free(c->encap_type);
        free(c->encap_ip);
        free(c->bridge);
        *c = (OvnChassis) {};
}

void ovn_ifaces_free(OvnPlugin *o) {
        for (size_t i = 0; i < o->n_ifaces; i++) {
                free(o->ifaces[i].name);
                free(o->ifaces[i].uuid);
                free(o->ifaces[i].iface_id);
                free(o->ifaces[i].tag);
                free(o->ifaces[i].bridge);
        }
        free(o->ifaces);
        o->ifaces = NULL;
        o->n_ifaces = 0;
}
