/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "ifupdown.h"
#include "json-util.h"
#include "net-ledger.h"
#include "net.h"

static const char *const datapath_types[] = { "auto", "system", "netdev", NULL };
static const char *const fail_modes[] = { "standalone", "secure", NULL };
static const char *const port_types[] = { "system", "internal", "patch", "vxlan", "gre", "geneve", "tap", NULL };
static const char *const vlan_modes[] = {
        "access", "trunk", "native-tagged", "native-untagged", "dot1q-tunnel", NULL
};
static const char *const drift_policies[] = { "heal", "report", NULL };

static int copy_map(json_object *src, json_object **dst) {
        json_object *c = NULL;

        if (!src)
                return 0;
        if (json_copy(src, &c) < 0)
                return -ENOMEM;
        json_object_put(*dst);
        *dst = c;
        return 0;
}

static int parse_trunks(NetPort *p, json_object *o, const char *path, Diag *d) {
        _cleanup_(freep) char *tp = json_path_key(path, "trunks");
        json_object *a = NULL;
        size_t n;
        int r;

        r = json_get_array(o, path, "trunks", false, &a, d);
        if (r <= 0)
                return r;
        n = json_object_array_length(a);
        p->trunks = calloc(n + 1, sizeof(int64_t));
        if (!p->trunks)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                _cleanup_(freep) char *ip = json_path_index(tp, i);
                json_object *v = json_object_array_get_idx(a, i);
                int64_t t;

                if (!json_object_is_type(v, json_type_int) ||
                    (t = json_object_get_int64(v)) < 0 || t > 4095) {
                        diag_error(d, ip, "expected a VLAN id, an integer 0..4095");
                        return -EINVAL;
                }
                for (size_t j = 0; j < p->n_trunks; j++)
                        if (p->trunks[j] == t) {
                                diag_error(d, ip, "VLAN %" PRId64 " is listed twice", t);
                                return -EINVAL;
                        }
                /* insertion sort: lists are short */
                size_t k = p->n_trunks++;
                for (; k > 0 && p->trunks[k - 1] > t; k--)
                        p->trunks[k] = p->trunks[k - 1];
                p->trunks[k] = t;
        }
        return 1;
}

static const char *const port_keys[] = {
        "name", "type", "tag", "trunks", "vlan_mode", "mtu_request", "options", "external_ids", "drift", NULL
};

/* Checks the options a port type needs. */
static bool check_port_options(const NetPort *p, const char *path, Diag *d) {
        _cleanup_(freep) char *op = json_path_key(path, "options");
        const char *need = NULL;
        bool ok = true;

        if (streq(p->type, "patch"))
                need = "peer";
        else if (streq(p->type, "vxlan") || streq(p->type, "gre") || streq(p->type, "geneve"))
                need = "remote_ip";
        if (need && !json_object_object_get_ex(p->options, need, NULL)) {
                diag_error(d, op, "a %s port needs options.%s", p->type, need);
                ok = false;
        }
        if (p->vlan_mode && streq(p->vlan_mode, "access") && p->n_trunks > 0) {
                diag_error(d, path, "vlan_mode \"access\" cannot carry trunks; use \"trunk\" or a native mode");
                ok = false;
        }
        return ok;
}

static int parse_port(NetModel *m, const char *bridge, json_object *o, const char *path, Diag *d) {
        const char *name = NULL;
        json_object *map;
        NetPort *p;
        int64_t i;
        int r, e, ret = 0;

        if (!json_expect_object(o, path, d))
                return -EINVAL;
        if (json_check_keys(o, path, port_keys, d) > 0)
                ret = -EINVAL;

        r = net_model_add_port(m, &p);
        if (r < 0)
                return r;
        p->path = strdup(path);
        p->bridge = strdup(bridge);
        if (!p->path || !p->bridge)
                return -ENOMEM;

        r = json_get_string(o, path, "name", true, &name, d);
        if (r > 0) {
                _cleanup_(freep) char *np = json_path_key(path, "name");

                if (!json_check_ifname(name, np, d))
                        ret = -EINVAL;
        } else
                ret = -EINVAL;
        p->name = strdup(name ?: "");

        e = 0;
        r = json_get_enum(o, path, "type", port_types, &e, d);
        RET_GATHER(ret, r);
        p->type = strdup(e == 0 ? "" : port_types[e]);

        if (json_get_int(o, path, "tag", false, 0, 4095, &i, d) > 0)
                p->tag = i;
        else if (json_object_object_get_ex(o, "tag", NULL))
                ret = -EINVAL;

        RET_GATHER(ret, parse_trunks(p, o, path, d));

        r = json_get_enum(o, path, "vlan_mode", vlan_modes, &e, d);
        if (r > 0)
                p->vlan_mode = strdup(vlan_modes[e]);
        RET_GATHER(ret, r);

        r = json_get_int(o, path, "mtu_request", false, 68, 65535, &i, d);
        if (r > 0)
                p->mtu_request = i;
        RET_GATHER(ret, r);

        if ((r = json_get_string_map(o, path, "options", NULL, &map, d)) > 0)
                RET_GATHER(ret, copy_map(map, &p->options));
        RET_GATHER(ret, r);
        if ((r = json_get_string_map(o, path, "external_ids", OVSDB_TAG_PREFIX, &map, d)) > 0)
                RET_GATHER(ret, copy_map(map, &p->external_ids));
        RET_GATHER(ret, r);

        r = json_get_enum(o, path, "drift", drift_policies, &e, d);
        if (r > 0)
                p->drift = e + NET_DRIFT_HEAL;
        RET_GATHER(ret, r);

        if (!p->name || !p->type)
                return -ENOMEM;
        if (!check_port_options(p, path, d))
                ret = -EINVAL;
        return ret;
}

static const char *const bridge_keys[] = {
        "name", "datapath_type", "fail_mode", "stp_enable", "rstp_enable",
        "other_config", "external_ids", "ports", "drift", NULL
};

static int parse_bridge_settings(NetBridge *b, json_object *o, const char *path, Diag *d) {
        json_object *map;
        int r, e = 0, ret = 0;

        r = json_get_enum(o, path, "datapath_type", datapath_types, &e, d);
        RET_GATHER(ret, r);
        b->datapath_type = strdup(datapath_types[r > 0 ? e : 0]);
        if (!b->datapath_type)
                return -ENOMEM;

        r = json_get_enum(o, path, "fail_mode", fail_modes, &e, d);
        if (r > 0 && !(b->fail_mode = strdup(fail_modes[e])))
                return -ENOMEM;
        RET_GATHER(ret, r);

        RET_GATHER(ret, json_get_bool(o, path, "stp_enable", &b->stp_enable, d));
        RET_GATHER(ret, json_get_bool(o, path, "rstp_enable", &b->rstp_enable, d));
        if (b->stp_enable && b->rstp_enable) {
                diag_error(d, path, "stp_enable and rstp_enable cannot both be true; pick one");
                ret = -EINVAL;
        }

        if ((r = json_get_string_map(o, path, "other_config", NULL, &map, d)) > 0)
                RET_GATHER(ret, copy_map(map, &b->other_config));
        RET_GATHER(ret, r);
        if ((r = json_get_string_map(o, path, "external_ids", OVSDB_TAG_PREFIX, &map, d)) > 0)
                RET_GATHER(ret, copy_map(map, &b->external_ids));
        RET_GATHER(ret, r);
        r = json_get_enum(o, path, "drift", drift_policies, &e, d);
        if (r > 0)
                b->drift = e + NET_DRIFT_HEAL;
        RET_GATHER(ret, r);

        json_object_object_foreach(o, key, val) {
                (void) val;
                if (!streq(key, "name") && !streq(key, "ports") && !streq(key, "drift"))
                        b->has_settings = true;
        }
        return ret;
}

static int parse_bridge(NetModel *m, json_object *o, const char *path, Diag *d) {
        _cleanup_(freep) char *pp = json_path_key(path, "ports");
        const char *name = NULL;
        json_object *ports = NULL;
        NetBridge *b;
        int r, ret = 0;

        if (!json_expect_object(o, path, d))
                return -EINVAL;
        if (json_check_keys(o, path, bridge_keys, d) > 0)
                ret = -EINVAL;

        r = json_get_string(o, path, "name", true, &name, d);
        if (r > 0) {
                _cleanup_(freep) char *np = json_path_key(path, "name");

                if (!json_check_ifname(name, np, d))
                        ret = -EINVAL;
        } else
                ret = -EINVAL;

        r = net_model_add_bridge(m, &b);
        if (r < 0)
                return r;
        b->name = strdup(name ?: "");
        b->path = strdup(path);
        if (!b->name || !b->path)
                return -ENOMEM;

        RET_GATHER(ret, parse_bridge_settings(b, o, path, d));

        r = json_get_array(o, path, "ports", false, &ports, d);
        RET_GATHER(ret, r);
        for (size_t i = 0; r > 0 && i < json_object_array_length(ports); i++) {
                _cleanup_(freep) char *ip = json_path_index(pp, i);

                if (!ip)
                        return -ENOMEM;
                RET_GATHER(ret, parse_port(m, name ?: "", json_object_array_get_idx(ports, i), ip, d));
        }
        return ret;
}

/* Bridges named in plugins.openflow.bridges[] but not in the net section:
 * op-dbus does not create them (the openflow plugin requires them to exist)
 * and keeps them as they are, so that an owned one is not deleted while
 * flows are wanted on it. Their section is validated by the openflow
 * plugin; here only well-formed names count. An openflow section kept
 * from the applied state does not keep a bridge: the net section applied
 * now says which bridges stay (net_deletes_bridge() lets the openflow
 * plugin refuse flows on one it deletes). */
static int add_openflow_bridges(NetModel *m, const StateDoc *doc) {
        json_object *of = state_doc_section(doc, "openflow"), *bridges, *name;
        int r;

        if (!of || state_doc_section_kept(doc, "openflow") || !json_object_is_type(of, json_type_object) ||
            !json_object_object_get_ex(of, "bridges", &bridges) ||
            !json_object_is_type(bridges, json_type_array))
                return 0;

        for (size_t i = 0; i < json_object_array_length(bridges); i++) {
                json_object *b = json_object_array_get_idx(bridges, i);
                NetBridge *nb;
                char path[96];

                if (!json_object_is_type(b, json_type_object) ||
                    !json_object_object_get_ex(b, "name", &name) ||
                    !json_object_is_type(name, json_type_string) ||
                    !json_check_ifname(json_object_get_string(name), NULL, NULL))
                        continue;
                if (net_model_find_bridge(m, json_object_get_string(name)))
                        continue;

                snprintf(path, sizeof path, "plugins.openflow.bridges[%zu]", i);
                r = net_model_add_bridge(m, &nb);
                if (r < 0)
                        return r;
                nb->name = strdup(json_object_get_string(name));
                nb->datapath_type = strdup("auto");
                nb->path = strdup(path);
                nb->keep_only = true;
                if (!nb->name || !nb->datapath_type || !nb->path)
                        return -ENOMEM;
        }
        return 0;
}

/* A declared bridge with security flows gets fail_mode "secure" unless it
 * says otherwise; "standalone" there is refused: it would forward every
 * packet while the flows are missing. */
static int secure_openflow_bridges(NetModel *m, const StateDoc *doc, Diag *d) {
        int ret = 0;

        for (size_t i = 0; i < m->n_bridges; i++) {
                NetBridge *b = &m->bridges[i];
                _cleanup_(freep) char *fp = NULL;

                if (b->keep_only || !b->name || !net_openflow_secures_bridge(doc, b->name))
                        continue;
                if (!b->fail_mode) {
                        b->fail_mode = strdup("secure");
                        if (!b->fail_mode)
                                return -ENOMEM;
                        continue;
                }
                if (streq(b->fail_mode, "secure"))
                        continue;
                if (asprintf(&fp, "%s.fail_mode", b->path) < 0)
                        return -ENOMEM;
                diag_error(d, fp, "bridge \"%s\" carries op-dbus security flows (plugins.openflow, level 1 and up), "
                           "so its fail_mode must be \"secure\" (or unset, which means secure here): \"%s\" would "
                           "forward unfiltered traffic while the flows are missing", b->name, b->fail_mode);
                ret = -EINVAL;
        }
        return ret;
}

/* Rules across objects: unique names in the shared interface namespace. */
static int check_names(const NetModel *m, Diag *d) {
        int ret = 0;

        for (size_t i = 0; i < m->n_bridges; i++)
                for (size_t j = 0; j < i; j++)
                        if (streq(m->bridges[i].name, m->bridges[j].name)) {
                                diag_error(d, m->bridges[i].path, "bridge \"%s\" is already declared at %s",
                                           m->bridges[i].name, m->bridges[j].path);
                                ret = -EINVAL;
                        }

        for (size_t i = 0; i < m->n_ports; i++) {
                const NetPort *p = &m->ports[i];
                const NetBridge *b = net_model_find_bridge(m, p->name);

                if (!p->name[0])
                        continue;
                if (b) {
                        diag_error(d, p->path, "port \"%s\" has the name of bridge %s; every bridge already has a local port of its own name",
                                   p->name, b->path);
                        ret = -EINVAL;
                }
                for (size_t j = 0; j < i; j++)
                        if (streq(p->name, m->ports[j].name)) {
                                diag_error(d, p->path, "port \"%s\" is already declared at %s; port names are unique on the host",
                                           p->name, m->ports[j].path);
                                ret = -EINVAL;
                        }
        }
        return ret;
}

/* Without a net section the plugin is inactive: a document that has only
 * other sections (openflow among them) leaves every bridge and port as it
 * is. */
int net_parse(NetModel *want, const StateDoc *doc, json_object *section, Diag *d) {
        static const char *const keys[] = { "bridges", NULL };
        json_object *bridges = NULL;
        int r, ret = 0;

        if (!section)
                return 0;
        if (!json_expect_object(section, "plugins.net", d))
                return -EINVAL;
        if (json_check_keys(section, "plugins.net", keys, d) > 0)
                ret = -EINVAL;
        r = json_get_array(section, "plugins.net", "bridges", false, &bridges, d);
        RET_GATHER(ret, r);
        for (size_t i = 0; r > 0 && i < json_object_array_length(bridges); i++) {
                _cleanup_(freep) char *path = json_path_index("plugins.net.bridges", i);

                if (!path)
                        return -ENOMEM;
                RET_GATHER(ret, parse_bridge(want, json_object_array_get_idx(bridges, i), path, d));
        }

        r = secure_openflow_bridges(want, doc, d);
        if (r == -ENOMEM)
                return r;
        RET_GATHER(ret, r);
        r = add_openflow_bridges(want, doc);
        if (r < 0)
                return r;

        RET_GATHER(ret, check_names(want, d));
        return ret < 0 ? ret : 1;
}

void net_check_interfaces_file(const NetModel *want, const char *path, Diag *d) {
        for (size_t i = 0; i < want->n_ports; i++)
                ifupdown_check_port(path, want->ports[i].bridge, want->ports[i].name, want->ports[i].path, d);
}
