/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The containers op-dbus owns as an lxc section of a state document.
 * Applying it reproduces them: the driver's rollback does, so "prune" is
 * true (a container created by the failed apply is not listed, and goes)
 * and every setting the state can express is written out, with the
 * template the container was created from. */
#include <arpa/inet.h>
#include <stdio.h>

#include "json-util.h"
#include "lxc-backend.h"
#include "lxc-containers.h"
#include "lxc-socket.h"

static const char *const known_features[] = { "nesting", "keyctl", "fuse", "mknod", "force_rw_sys", "mount", NULL };

static void add_str(json_object *o, const char *key, const char *value) {
        if (value)
                json_object_object_add(o, key, json_object_new_string(value));
}

static bool label_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || s[0] == '-' || s[n - 1] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", s[i]))
                        return false;
        return true;
}

/* "10.0.0.1/24", the only form of ip the state can express. */
static bool ipv4_cidr(const char *s) {
        char addr[INET_ADDRSTRLEN];
        struct in_addr a;
        unsigned len;
        char tail;

        return s && sscanf(s, "%15[0-9.]/%u%c", addr, &len, &tail) == 2 && len <= 32 &&
                inet_pton(AF_INET, addr, &a) == 1;
}

static json_object *network_to_json(const LxcLive *h) {
        const LxcProps *n = &h->spec.net0;
        const char *bridge = lxc_props_get(n, "bridge"), *ip = lxc_props_get(n, "ip"), *gw = lxc_props_get(n, "gw");
        const char *tag = lxc_props_get(n, "tag");
        bool firewall = streq_ptr(lxc_props_get(n, "firewall"), "1");
        json_object *o = json_object_new_object();
        char port[16];

        if (!o)
                return NULL;
        if (h->spec.has_net0 && bridge) {
                add_str(o, "bridge", bridge);
                lxc_veth_port_name(h->id, firewall, port);
                add_str(o, "port_name", port);
                add_str(o, "hwaddr", lxc_props_get(n, "hwaddr"));
                if (ipv4_cidr(ip))
                        add_str(o, "ipv4", ip);
                if (gw && strchr(gw, '.'))
                        add_str(o, "gateway", gw);
                if (tag)
                        json_object_object_add(o, "tag", json_object_new_int64(strtoll(tag, NULL, 10)));
                json_object_object_add(o, "firewall", json_object_new_boolean(firewall));
        }
        if (h->spec.tun)
                json_object_object_add(o, "wg_tunnel", json_object_new_boolean(true));
        return o;
}

static char *features_string(const LxcProps *f) {
        _cleanup_(lxc_props_done) LxcProps known = {};

        for (size_t i = 0; i < f->n; i++)
                for (const char *const *k = known_features; *k; k++)
                        if (streq(*k, f->items[i].key) && lxc_props_set(&known, *k, f->items[i].value) < 0)
                                return NULL;
        return lxc_props_format(&known, NULL);
}

static json_object *tags_to_json(const char *tags) {
        json_object *a = json_object_new_array();

        for (const char *t = tags; a && t && *t;) {
                size_t k = strcspn(t, ";");

                if (!(k == strlen(LXC_OWNER_TAG) && strncmp(t, LXC_OWNER_TAG, k) == 0))
                        json_object_array_add(a, json_object_new_string_len(t, (int) k));
                t += k + (t[k] == ';');
        }
        return a;
}

static json_object *properties_to_json(const LxcSpec *s) {
        json_object *o = json_object_new_object();
        _cleanup_(freep) char *features = features_string(&s->features);

        if (!o || !features) {
                json_object_put(o);
                return NULL;
        }
        json_object_object_add(o, "memory", json_object_new_int64(s->memory));
        json_object_object_add(o, "swap", json_object_new_int64(s->swap));
        if (s->cores > 0)
                json_object_object_add(o, "cores", json_object_new_int64(s->cores));
        add_str(o, "storage", s->storage);
        if (s->rootfs_mib >= 1024 && s->rootfs_mib % 1024 == 0)
                json_object_object_add(o, "rootfs_size", json_object_new_int64(s->rootfs_mib / 1024));
        json_object_object_add(o, "unprivileged", json_object_new_boolean(s->unprivileged));
        if (!s->unprivileged)
                json_object_object_add(o, "allow_privileged", json_object_new_boolean(true));
        if (*features)
                add_str(o, "features", features);
        json_object_object_add(o, "onboot", json_object_new_boolean(s->onboot));
        add_str(o, "nameserver", s->nameserver);
        add_str(o, "searchdomain", s->searchdomain);
        json_object_object_add(o, "tags", tags_to_json(s->tags));
        return o;
}

static json_object *container_to_json(const LxcLive *h) {
        json_object *o = json_object_new_object(), *net = network_to_json(h), *props = properties_to_json(&h->spec);

        if (!o || !net || !props) {
                json_object_put(o);
                json_object_put(net);
                json_object_put(props);
                return NULL;
        }
        json_object_object_add(o, "id", json_object_new_int64(h->id));
        if (h->spec.hostname && label_valid(h->spec.hostname))
                add_str(o, "name", h->spec.hostname);
        add_str(o, "template", h->spec.template);
        add_str(o, "state", h->running ? "running" : "stopped");
        if (json_object_object_length(net) > 0)
                json_object_object_add(o, "network", net);
        else
                json_object_put(net);
        json_object_object_add(o, "properties", props);
        return o;
}

int lxc_live_to_json(const LxcPlugin *l, json_object **ret) {
        _cleanup_(json_object_putp) json_object *section = NULL;
        json_object *containers;

        *ret = NULL;
        if (!l->backend || !l->have_queried)
                return 0; /* nothing of this plugin's can be read on this host */

        section = json_object_new_object();
        containers = json_object_new_array();
        if (!section || !containers) {
                json_object_put(containers);
                return -ENOMEM;
        }
        json_object_object_add(section, "backend", json_object_new_string(l->backend->name));
        json_object_object_add(section, "prune", json_object_new_boolean(true));
        json_object_object_add(section, "containers", containers);
        for (size_t i = 0; i < l->n_have; i++) {
                json_object *c;

                if (!l->have[i].owned)
                        continue;
                c = container_to_json(&l->have[i]);
                if (!c)
                        return -ENOMEM;
                json_object_array_add(containers, c);
                if (lxc_socket_network_to_json(l, l->have[i].id, c) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(section);
        return 0;
}
