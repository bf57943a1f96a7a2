/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "net.h"

static void net_port_done(NetPort *p) {
        free(p->name);
        free(p->bridge);
        free(p->type);
        free(p->trunks);
        free(p->vlan_mode);
        json_object_put(p->options);
        json_object_put(p->external_ids);
        free(p->path);
        free(p->uuid);
        free(p->iface_uuid);
        free(p->error);
}

static void net_bridge_done(NetBridge *b) {
        free(b->name);
        free(b->datapath_type);
        free(b->fail_mode);
        json_object_put(b->other_config);
        json_object_put(b->external_ids);
        free(b->path);
        free(b->uuid);
}

void net_model_done(NetModel *m) {
        for (size_t i = 0; i < m->n_bridges; i++)
                net_bridge_done(&m->bridges[i]);
        for (size_t i = 0; i < m->n_ports; i++)
                net_port_done(&m->ports[i]);
        free(m->bridges);
        free(m->ports);
        *m = (NetModel) {};
}

int net_model_add_bridge(NetModel *m, NetBridge **ret) {
        NetBridge *b;
        int r;

        r = greedy_realloc((void **) &m->bridges, &m->allocated_bridges, m->n_bridges + 1, sizeof(NetBridge));
        if (r < 0)
                return r;
        b = &m->bridges[m->n_bridges];
        *b = (NetBridge) {
                .other_config = json_object_new_object(),
                .external_ids = json_object_new_object(),
        };
        if (!b->other_config || !b->external_ids) {
                net_bridge_done(b);
                return -ENOMEM;
        }
        m->n_bridges++;
        *ret = b;
        return 0;
}

int net_model_add_port(NetModel *m, NetPort **ret) {
        NetPort *p;
        int r;

        r = greedy_realloc((void **) &m->ports, &m->allocated_ports, m->n_ports + 1, sizeof(NetPort));
        if (r < 0)
                return r;
        p = &m->ports[m->n_ports];
        *p = (NetPort) {
                .tag = -1,
                .mtu_request = -1,
                .options = json_object_new_object(),
                .external_ids = json_object_new_object(),
        };
        if (!p->options || !p->external_ids) {
                net_port_done(p);
                return -ENOMEM;
        }
        m->n_ports++;
        *ret = p;
        return 0;
}

NetBridge *net_model_find_bridge(const NetModel *m, const char *name) {
        for (size_t i = 0; i < m->n_bridges; i++)
                if (streq(m->bridges[i].name, name))
                        return &m->bridges[i];
        return NULL;
}

NetPort *net_model_find_port(const NetModel *m, const char *name) {
        for (size_t i = 0; i < m->n_ports; i++)
                if (streq(m->ports[i].name, name))
                        return &m->ports[i];
        return NULL;
}

bool net_trunks_equal(const NetPort *a, const NetPort *b) {
        return a->n_trunks == b->n_trunks &&
               (a->n_trunks == 0 || memcmp(a->trunks, b->trunks, a->n_trunks * sizeof(int64_t)) == 0);
}

char *net_trunks_to_string(const NetPort *p) {
        size_t len = 3 + p->n_trunks * 6;
        char *s = malloc(len), *q;

        if (!s)
                return NULL;
        q = s;
        *q++ = '[';
        for (size_t i = 0; i < p->n_trunks; i++)
                q += snprintf(q, len - (size_t) (q - s), "%s%" PRId64, i ? "," : "", p->trunks[i]);
        *q++ = ']';
        *q = 0;
        return s;
}
