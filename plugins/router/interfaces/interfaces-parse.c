/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The interfaces section -> IfConfig (every error with its JSON path, no
 * I/O), and the ledger of what op-router made. */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>

#include "fileio.h"
#include "interfaces.h"
#include "json-util.h"
#include "router.h"

#define SECTION "plugins.interfaces"

static void strv_free_n(char **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(l[i]);
        free(l);
}

static void vlans_done(IfVlans *v) {
        free(v->path);
        free(v->tagged);
        *v = (IfVlans) {};
}

static void if_link_free_contents(IfLink *l) {
        /* the arrays have room for one more: a port whose parsing stopped
         * half-way */
        for (size_t k = 0; l->port_vlans && k <= l->n_ports; k++)
                vlans_done(&l->port_vlans[k]);
        free(l->port_vlans);
        vlans_done(&l->self_vlans);
        free(l->name);
        free(l->path);
        for (size_t k = 0; k < l->n_addresses; k++) {
                free(l->addresses[k].text);
                free(l->addresses[k].path);
        }
        free(l->addresses);
        strv_free_n(l->ports, l->n_ports);
        free(l->parent);
}

void if_config_done(IfConfig *c) {
        for (size_t i = 0; i < c->n_links; i++)
                if_link_free_contents(&c->links[i]);
        free(c->links);
        *c = (IfConfig) {};
}

const IfLink *if_config_find(const IfConfig *c, const char *name) {
        for (size_t i = 0; i < c->n_links; i++)
                if (streq(c->links[i].name, name))
                        return &c->links[i];
        return NULL;
}

/* "192.168.1.1/24", "fd00::1/64": an interface address with its prefix
 * length (host bits are the address). */
static int cidr_parse(const char *s, IfAddress *a) {
        if (!strchr(s, '/') || router_prefix_parse(s, true, &a->family, a->addr.bytes, &a->prefixlen) < 0 ||
            a->prefixlen == 0)
                return -EINVAL;
        return 0;
}

static int parse_addresses(IfLink *l, json_object *o, Diag *d) {
        _cleanup_(freep) char *ap = json_path_key(l->path, "addresses");
        json_object *a;
        int ret = 0, k;

        if (!ap)
                return -ENOMEM;
        k = json_get_array(o, l->path, "addresses", false, &a, d);
        if (k <= 0)
                return k;
        l->addresses_given = true;
        l->addresses = calloc(json_object_array_length(a) + 1, sizeof(IfAddress));
        if (!l->addresses)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *v = json_object_array_get_idx(a, i);
                IfAddress *x = &l->addresses[l->n_addresses];
                _cleanup_(freep) char *p = json_path_index(ap, i);
                char canon[64];

                if (!p)
                        return -ENOMEM;
                if (!json_object_is_type(v, json_type_string) || cidr_parse(json_object_get_string(v), x) < 0) {
                        _cleanup_(freep) char *q = json_object_is_type(v, json_type_string) ?
                                str_quote(json_object_get_string(v)) : NULL;

                        diag_error(d, p, "%s is not an interface address with its prefix length, such as "
                                   "192.168.1.1/24 or fd00::1/64", q ?: "this");
                        ret = -EINVAL;
                        continue;
                }
                if_addr_format(&(RtnlAddr) { .family = x->family, .address = x->addr, .prefixlen = x->prefixlen },
                               canon);
                for (size_t j = 0; j < l->n_addresses; j++)
                        if (streq(l->addresses[j].text, canon)) {
                                diag_error(d, p, "%s is given twice (also %s)", canon, l->addresses[j].path);
                                ret = -EINVAL;
                        }
                if (ret < 0)
                        continue;
                x->text = strdup(canon);
                x->path = TAKE_PTR(p);
                if (!x->text)
                        return -ENOMEM;
                l->n_addresses++;
        }
        return ret;
}

static const char *const vlans_keys[] = { "pvid", "tagged", NULL };
static const char *const port_keys[] = { "name", "vlans", NULL };

/* "vlans": {"pvid": 10, "tagged": [20, 30]} of a port or a bridge, at
 * path; absent: v->given stays false. */
static int parse_vlans(json_object *parent, const char *parent_path, IfVlans *v, Diag *d) {
        _cleanup_(freep) char *tp = NULL;
        json_object *o, *a;
        int64_t pvid = 0;
        int ret = 0, k;

        v->path = json_path_key(parent_path, "vlans");
        if (!v->path)
                return -ENOMEM;
        if (!json_object_object_get_ex(parent, "vlans", &o))
                return 0;
        v->given = true;
        if (!json_expect_object(o, v->path, d))
                return -EINVAL;
        if (json_check_keys(o, v->path, vlans_keys, d) > 0)
                ret = -EINVAL;
        k = json_get_int(o, v->path, "pvid", false, 1, 4094, &pvid, d);
        RET_GATHER(ret, k);
        v->pvid = k > 0 ? (uint16_t) pvid : 0;
        k = json_get_array(o, v->path, "tagged", false, &a, d);
        if (k <= 0)
                return k < 0 ? k : ret;
        tp = json_path_key(v->path, "tagged");
        v->tagged = calloc(json_object_array_length(a) + 1, sizeof(uint16_t));
        if (!tp || !v->tagged)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *e = json_object_array_get_idx(a, i);
                _cleanup_(freep) char *p = json_path_index(tp, i);
                int64_t id = json_object_is_type(e, json_type_int) ? json_object_get_int64(e) : 0;

                if (!p)
                        return -ENOMEM;
                if (id < 1 || id > 4094) {
                        diag_error(d, p, "expected a VLAN id, an integer from 1 to 4094");
                        ret = -EINVAL;
                        continue;
                }
                if (id == v->pvid) {
                        diag_error(d, p, "VLAN %" PRId64 " is the pvid already (untagged): a VLAN is listed once, "
                                   "as pvid or as tagged", id);
                        ret = -EINVAL;
                        continue;
                }
                for (size_t j = 0; j < v->n_tagged; j++)
                        if (v->tagged[j] == id) {
                                diag_error(d, p, "VLAN %" PRId64 " is listed twice", id);
                                ret = -EINVAL;
                        }
                if (ret >= 0)
                        v->tagged[v->n_tagged++] = (uint16_t) id;
        }
        return ret;
}

/* A port: its name, or {"name": ..., "vlans": {...}}. */
static int parse_port(IfLink *l, json_object *v, const char *p, Diag *d) {
        const char *name;
        int ret = 0, k;

        if (json_object_is_type(v, json_type_string)) {
                if (!json_check_ifname(json_object_get_string(v), p, d))
                        return -EINVAL;
                name = json_object_get_string(v);
        } else if (json_object_is_type(v, json_type_object)) {
                if (json_check_keys(v, p, port_keys, d) > 0)
                        ret = -EINVAL;
                k = json_get_ifname(v, p, "name", true, &name, d);
                if (k <= 0)
                        return -EINVAL;
                k = parse_vlans(v, p, &l->port_vlans[l->n_ports], d);
                if (k == -ENOMEM)
                        return k;
                RET_GATHER(ret, k);
        } else {
                diag_error(d, p, "expected an interface name, or an object with \"name\" and \"vlans\"");
                return -EINVAL;
        }
        l->ports[l->n_ports] = strdup(name);
        if (!l->ports[l->n_ports])
                return -ENOMEM;
        l->n_ports++;
        return ret;
}

static int parse_ports(IfLink *l, json_object *o, Diag *d) {
        _cleanup_(freep) char *ap = json_path_key(l->path, "ports");
        json_object *a;
        int ret = 0, k;

        if (!ap)
                return -ENOMEM;
        k = json_get_array(o, l->path, "ports", false, &a, d);
        if (k <= 0)
                return k;
        l->ports = calloc(json_object_array_length(a) + 1, sizeof(char *));
        l->port_vlans = calloc(json_object_array_length(a) + 1, sizeof(IfVlans));
        if (!l->ports || !l->port_vlans)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                _cleanup_(freep) char *p = json_path_index(ap, i);

                if (!p)
                        return -ENOMEM;
                k = parse_port(l, json_object_array_get_idx(a, i), p, d);
                if (k == -ENOMEM)
                        return k;
                RET_GATHER(ret, k);
        }
        return ret;
}

/* VLANs of a bridge's ports, or its own, only where it filters by them. */
static int check_bridge_vlans(const IfLink *l, Diag *d) {
        int ret = 0;

        if (l->vlan_filtering)
                return 0;
        for (size_t i = 0; i <= l->n_ports; i++) {
                const IfVlans *v = i < l->n_ports ? &l->port_vlans[i] : &l->self_vlans;

                if (!v->given)
                        continue;
                diag_error(d, v->path, "VLANs of %s need \"vlan_filtering\": true on bridge %s (without it the "
                           "bridge forwards every frame whatever its tag)", i < l->n_ports ? l->ports[i] :
                           "the bridge itself", l->name ?: "?");
                ret = -EINVAL;
        }
        return ret;
}

static const char *const link_keys[] = { "name", "mtu", "up", "mac", "addresses", NULL };
static const char *const bridge_keys[] = { "name", "mtu", "up", "mac", "addresses", "ports", "vlan_filtering",
                                           "vlans", NULL };
static const char *const vlan_keys[] = { "name", "mtu", "up", "mac", "addresses", "link", "id", NULL };
static const char *const macvlan_keys[] = { "name", "mtu", "up", "mac", "addresses", "link", "mode", NULL };
/* the wireguard section's interfaces: the plugin "wireguard" checks all
 * but name, mtu and addresses (and refuses an inline private_key) */
static const char *const wireguard_keys[] = { "name", "mtu", "addresses", "listen_port", "private_key_secret",
                                              "private_key", "peers", NULL };
static const char *const macvlan_modes[] = { "private", "vepa", "bridge", "passthru", NULL };

static int parse_link(IfLink *l, json_object *o, Diag *d) {
        const char *const *keys = l->kind == IF_LINK ? link_keys : l->kind == IF_BRIDGE ? bridge_keys :
                                  l->kind == IF_VLAN ? vlan_keys : l->kind == IF_WIREGUARD ? wireguard_keys :
                                  macvlan_keys;
        int mode = 2;
        const char *name, *parent;
        int64_t mtu = 0, id = 0;
        bool up = false;
        int ret = 0, k;

        if (!json_expect_object(o, l->path, d))
                return -EINVAL;
        if (json_check_keys(o, l->path, keys, d) > 0)
                ret = -EINVAL;
        k = json_get_ifname(o, l->path, "name", true, &name, d);
        if (k > 0 && !(l->name = strdup(name)))
                return -ENOMEM;
        RET_GATHER(ret, k <= 0 ? -EINVAL : 0);
        RET_GATHER(ret, json_get_int(o, l->path, "mtu", false, 68, 65535, &mtu, d));
        l->mtu = (uint32_t) mtu;
        l->up = -1;
        k = l->kind == IF_WIREGUARD ? 0 : json_get_bool(o, l->path, "up", &up, d);
        if (k > 0)
                l->up = up;
        RET_GATHER(ret, k);
        k = l->kind == IF_WIREGUARD ? 0 : json_get_mac(o, l->path, "mac", false, l->mac, d);
        l->has_mac = k > 0;
        RET_GATHER(ret, k);
        k = parse_addresses(l, o, d);
        if (k == -ENOMEM)
                return k;
        RET_GATHER(ret, k);
        if (l->kind == IF_BRIDGE) {
                k = parse_ports(l, o, d);
                if (k == -ENOMEM)
                        return k;
                RET_GATHER(ret, k);
                RET_GATHER(ret, json_get_bool(o, l->path, "vlan_filtering", &l->vlan_filtering, d));
                k = parse_vlans(o, l->path, &l->self_vlans, d);
                if (k == -ENOMEM)
                        return k;
                RET_GATHER(ret, k);
                RET_GATHER(ret, check_bridge_vlans(l, d));
        }
        if (l->kind == IF_VLAN || l->kind == IF_MACVLAN) {
                k = json_get_ifname(o, l->path, "link", true, &parent, d);
                if (k > 0 && !(l->parent = strdup(parent)))
                        return -ENOMEM;
                RET_GATHER(ret, k <= 0 ? -EINVAL : 0);
        }
        if (l->kind == IF_VLAN) {
                k = json_get_int(o, l->path, "id", true, 1, 4094, &id, d);
                RET_GATHER(ret, k <= 0 ? -EINVAL : 0);
                l->vlan_id = (uint16_t) id;
        }
        if (l->kind == IF_MACVLAN) {
                /* private 1, vepa 2, bridge 4 (the default), passthru 8 */
                RET_GATHER(ret, json_get_enum(o, l->path, "mode", macvlan_modes, &mode, d));
                l->macvlan_mode = 1u << mode;
        }
        return ret;
}

static int parse_list_at(IfConfig *c, json_object *section, const char *at, const char *key, IfKind kind, Diag *d) {
        _cleanup_(freep) char *lp = json_path_key(at, key);
        json_object *a;
        int ret = 0, k;

        if (!lp)
                return -ENOMEM;
        k = json_get_array(section, at, key, false, &a, d);
        if (k <= 0)
                return k;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                IfLink *t = realloc(c->links, (c->n_links + 1) * sizeof(IfLink));

                if (!t)
                        return -ENOMEM;
                c->links = t;
                t = &c->links[c->n_links++];
                *t = (IfLink) { .kind = kind, .path = json_path_index(lp, i) };
                if (!t->path)
                        return -ENOMEM;
                k = parse_link(t, json_object_array_get_idx(a, i), d);
                if (k == -ENOMEM)
                        return k;
                RET_GATHER(ret, k);
        }
        return ret;
}

static int parse_list(IfConfig *c, json_object *section, const char *key, IfKind kind, Diag *d) {
        return parse_list_at(c, section, SECTION, key, kind, d);
}

static const char *const section_keys[] = { "links", "bridges", "vlans", "macvlans", NULL };

/* Names unique across the lists; a port in one bridge, not a bridge or
 * VLAN of the section, and not a bridge itself. */
static int check_across(const IfConfig *c, Diag *d) {
        int ret = 0;

        for (size_t i = 0; i < c->n_links; i++) {
                const IfLink *l = &c->links[i];

                for (size_t j = 0; l->name && j < i; j++)
                        if (c->links[j].name && streq(c->links[j].name, l->name)) {
                                diag_error(d, l->path, "%s is named twice (also %s)", l->name, c->links[j].path);
                                ret = -EINVAL;
                        }
                for (size_t p = 0; p < l->n_ports; p++) {
                        const IfLink *o = if_config_find(c, l->ports[p]);
                        _cleanup_(freep) char *pp = json_path_key(l->path, "ports"), *q = pp ? json_path_index(pp, p) : NULL;

                        if (o && o->kind == IF_BRIDGE) {
                                diag_error(d, q ?: l->path, "%s is a bridge: a bridge is no port of another",
                                           l->ports[p]);
                                ret = -EINVAL;
                        }
                        for (size_t j = 0; j < c->n_links; j++)
                                for (size_t m = 0; m < c->links[j].n_ports && (j < i || (j == i && m < p)); m++)
                                        if (streq(c->links[j].ports[m], l->ports[p])) {
                                                diag_error(d, q ?: l->path, "%s is a port of %s already",
                                                           l->ports[p], c->links[j].name);
                                                ret = -EINVAL;
                                        }
                }
        }
        return ret;
}

int if_parse(IfConfig *c, json_object *section, Diag *d) {
        int ret = 0, k;

        if_config_done(c);
        if (!section)
                return 0;
        c->present = true;
        if (!json_expect_object(section, SECTION, d))
                return -EINVAL;
        if (json_check_keys(section, SECTION, section_keys, d) > 0)
                ret = -EINVAL;
        k = parse_list(c, section, "links", IF_LINK, d);
        if (k == -ENOMEM)
                return k;
        RET_GATHER(ret, k);
        k = parse_list(c, section, "bridges", IF_BRIDGE, d);
        if (k == -ENOMEM)
                return k;
        RET_GATHER(ret, k);
        k = parse_list(c, section, "vlans", IF_VLAN, d);
        if (k == -ENOMEM)
                return k;
        RET_GATHER(ret, k);
        k = parse_list(c, section, "macvlans", IF_MACVLAN, d);
        if (k == -ENOMEM)
                return k;
        RET_GATHER(ret, k);
        if (ret >= 0)
                ret = check_across(c, d);
        return ret;
}

int if_parse_wireguard(IfConfig *c, json_object *section, Diag *d) {
        int k;

        c->wg_present = true;
        if (!section || !json_object_is_type(section, json_type_object))
                return 0;  /* the wireguard plugin says what is wrong with it */
        k = parse_list_at(c, section, "plugins.wireguard", "interfaces", IF_WIREGUARD, d);
        if (k < 0)
                return k;
        return check_across(c, d);
}

/* ---- the ledger -------------------------------------------------------------------- */

void if_ledger_done(IfLedger *l) {
        strv_free_n(l->links, l->n_links);
        strv_free_n(l->addresses, l->n_addresses);
        strv_free_n(l->creating, l->n_creating);
        *l = (IfLedger) {};
}

int if_ledger_add(char ***list, size_t *n, const char *entry) {
        char **t;

        for (size_t i = 0; i < *n; i++)
                if (streq((*list)[i], entry))
                        return 0;
        t = realloc(*list, (*n + 1) * sizeof(char *));
        if (!t)
                return -ENOMEM;
        *list = t;
        t[*n] = strdup(entry);
        if (!t[*n])
                return -ENOMEM;
        (*n)++;
        return 0;
}

void if_ledger_remove(char **list, size_t *n, const char *entry) {
        for (size_t i = 0; i < *n; i++)
                if (streq(list[i], entry)) {
                        free(list[i]);
                        memmove(&list[i], &list[i + 1], (*n - i - 1) * sizeof(char *));
                        (*n)--;
                        return;
                }
}

bool if_ledger_has_link(const IfLedger *l, const char *name) {
        for (size_t i = 0; i < l->n_links; i++)
                if (streq(l->links[i], name))
                        return true;
        return false;
}

void if_ledger_made(IfLedger *l) {
        strv_free_n(l->creating, l->n_creating);
        l->creating = NULL;
        l->n_creating = 0;
}

bool if_ledger_creating(const IfLedger *l, const char *name) {
        for (size_t i = 0; i < l->n_creating; i++)
                if (streq(l->creating[i], name))
                        return true;
        return false;
}

bool if_ledger_has_address(const IfLedger *l, const char *ifname, const char *addr) {
        char entry[RTNL_IFNAME_SIZE + 72];

        snprintf(entry, sizeof entry, "%s %s", ifname, addr);
        for (size_t i = 0; i < l->n_addresses; i++)
                if (streq(l->addresses[i], entry))
                        return true;
        return false;
}

static int load_list(json_object *o, const char *key, char ***list, size_t *n) {
        json_object *a;
        int k = 0;

        if (!json_object_object_get_ex(o, key, &a) || !json_object_is_type(a, json_type_array))
                return 0;
        for (size_t i = 0; k >= 0 && i < json_object_array_length(a); i++)
                if (json_object_is_type(json_object_array_get_idx(a, i), json_type_string))
                        k = if_ledger_add(list, n, json_object_get_string(json_object_array_get_idx(a, i)));
        return k;
}

int if_ledger_load(const char *path, IfLedger *ret) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        IfLedger l = {};
        int k;

        if (access(path, F_OK) < 0) {
                *ret = l;
                return errno == ENOENT ? 0 : -errno;
        }
        o = json_object_from_file(path);
        if (!o)
                return -EBADMSG;
        k = load_list(o, "links", &l.links, &l.n_links);
        if (k >= 0)
                k = load_list(o, "addresses", &l.addresses, &l.n_addresses);
        if (k >= 0)
                k = load_list(o, "creating", &l.creating, &l.n_creating);
        if (k < 0) {
                if_ledger_done(&l);
                return k;
        }
        *ret = l;
        return 0;
}

static json_object *list_json(char *const *list, size_t n) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_take(a, json_object_new_string(list[i])) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        return a;
}

int if_ledger_save(const char *path, const IfLedger *l) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        json_object *links = list_json(l->links, l->n_links), *addrs = list_json(l->addresses, l->n_addresses);
        json_object *creating = l->n_creating > 0 ? list_json(l->creating, l->n_creating) : NULL;
        const char *text;

        if (!o || !links || !addrs || (l->n_creating > 0 && !creating)) {
                json_object_put(links);
                json_object_put(addrs);
                json_object_put(creating);
                return -ENOMEM;
        }
        json_object_object_add(o, "links", links);
        json_object_object_add(o, "addresses", addrs);
        if (creating)
                json_object_object_add(o, "creating", creating);
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
        if (!text)
                return -ENOMEM;
        return write_file_atomic(path, text, strlen(text), 0600);
}
