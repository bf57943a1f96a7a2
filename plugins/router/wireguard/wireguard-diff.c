/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The wireguard plugin's diff (pure): per interface, its key and port,
 * then one message per peer that is added, changed or removed; and the
 * live devices as a section, keys by name. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>

#include "json-util.h"
#include "router.h"
#include "wireguard.h"

void wg_changes_done(WgChanges *c) {
        free(c->ops);
        *c = (WgChanges) {};
}

static int push(WgChanges *c, const WgOp *op) {
        WgOp *t = realloc(c->ops, (c->n_ops + 1) * sizeof *t);

        if (!t)
                return -ENOMEM;
        c->ops = t;
        t[c->n_ops++] = *op;
        return 0;
}

/* A peer by its public key, for messages: its first 8 base64 characters,
 * as `wg` shortens them (a public key is no secret). */
static void peer_short(const uint8_t key[static WG_KEY_SIZE], char ret[static 12]) {
        char b[45];

        wg_key_to_base64(key, b);
        snprintf(ret, 12, "%.8s…", b);
}

static bool same_ip(const WgAllowedIp *a, const WgAllowedIp *b) {
        return a->family == b->family && a->cidr == b->cidr && memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

static bool same_allowed_ips(const WgPeer *a, const WgPeer *b) {
        if (a->n_allowed_ips != b->n_allowed_ips)
                return false;
        for (size_t i = 0; i < a->n_allowed_ips; i++) {
                bool found = false;

                for (size_t j = 0; j < b->n_allowed_ips && !found; j++)
                        found = same_ip(&a->allowed_ips[i], &b->allowed_ips[j]);
                if (!found)
                        return false;
        }
        return true;
}

/* What differs between the desired peer and the kernel's ("" when nothing). */
static void peer_changes(const WgConfPeer *want, const WgPeer *have, char *buf, size_t size) {
        static const uint8_t zero[WG_KEY_SIZE];

        buf[0] = 0;
        if (!same_allowed_ips(&want->peer, have))
                snprintf(buf + strlen(buf), size - strlen(buf), ", allowed IPs");
        if (want->has_endpoint && (have->endpoint.family != want->peer.endpoint.family ||
                                   have->endpoint.port != want->peer.endpoint.port ||
                                   memcmp(have->endpoint.addr, want->peer.endpoint.addr, 16) != 0))
                snprintf(buf + strlen(buf), size - strlen(buf), ", endpoint");
        if (have->keepalive != want->peer.keepalive)
                snprintf(buf + strlen(buf), size - strlen(buf), ", persistent keepalive");
        if (!wg_key_equal(want->peer.has_preshared_key ? want->peer.preshared_key : zero,
                          have->has_preshared_key ? have->preshared_key : zero))
                snprintf(buf + strlen(buf), size - strlen(buf), ", preshared key");
}

static const WgPeer *live_peer(const WgDevice *dev, const uint8_t key[static WG_KEY_SIZE]) {
        for (size_t i = 0; dev && i < dev->n_peers; i++)
                if (memcmp(dev->peers[i].public_key, key, WG_KEY_SIZE) == 0)
                        return &dev->peers[i];
        return NULL;
}

static bool wanted_peer(const WgConfIf *ci, const uint8_t key[static WG_KEY_SIZE]) {
        for (size_t i = 0; i < ci->n_peers; i++)
                if (memcmp(ci->peers[i].peer.public_key, key, WG_KEY_SIZE) == 0)
                        return true;
        return false;
}

static int diff_peers(const WgConfIf *ci, const WgDevice *have, WgChanges *out, Plan *plan) {
        int k = 0;

        for (size_t i = 0; i < ci->n_peers && k >= 0; i++) {
                const WgConfPeer *cp = &ci->peers[i];
                const WgPeer *hp = live_peer(have, cp->peer.public_key);
                WgOp op = { .listen_port = -1, .peer = { .op = WG_PEER_SET, .peer = &cp->peer } };
                char what[128], path[64], name[12];

                peer_short(cp->peer.public_key, name);
                snprintf(path, sizeof path, "wireguard/%s/peer/%s", ci->name, name);
                if (hp) {
                        peer_changes(cp, hp, what, sizeof what);
                        if (!what[0])
                                continue;
                }
                snprintf(op.ifname, sizeof op.ifname, "%s", ci->name);
                k = push(out, &op);
                if (k >= 0 && hp)
                        k = plan_add(plan, "wireguard", ACTION_MODIFY, IMPACT_NONE, path, "peer %s of %s: %s", name,
                                     ci->name, what + 2);
                else if (k >= 0)
                        k = plan_add(plan, "wireguard", ACTION_CREATE, IMPACT_NONE, path, "add peer %s to %s", name,
                                     ci->name);
        }
        for (size_t i = 0; have && i < have->n_peers && k >= 0; i++) {
                const WgPeer *hp = &have->peers[i];
                WgOp op = { .listen_port = -1, .peer = { .op = WG_PEER_REMOVE, .peer = hp } };
                char path[64], name[12];

                if (wanted_peer(ci, hp->public_key))
                        continue;
                peer_short(hp->public_key, name);
                snprintf(path, sizeof path, "wireguard/%s/peer/%s", ci->name, name);
                snprintf(op.ifname, sizeof op.ifname, "%s", ci->name);
                k = push(out, &op);
                if (k >= 0)
                        k = plan_add(plan, "wireguard", ACTION_DELETE, IMPACT_NONE, path, "remove peer %s from %s",
                                     name, ci->name);
        }
        return k;
}

/* The key and the port: a tunnel restart (every session is made anew). */
static int diff_device(const WgConfIf *ci, const WgDevice *have, WgChanges *out, Plan *plan) {
        WgOp op = { .listen_port = -1 };
        bool key = !have || !have->has_private_key || !wg_key_equal(have->private_key, ci->private_key);
        bool port = ci->listen_port >= 0 && (!have || have->listen_port != ci->listen_port);
        char path[64];
        int k;

        if (!key && !port)
                return 0;
        snprintf(op.ifname, sizeof op.ifname, "%s", ci->name);
        op.private_key = key ? ci->private_key : NULL;
        op.listen_port = port ? ci->listen_port : -1;
        k = push(out, &op);
        if (k < 0)
                return k;
        snprintf(path, sizeof path, "wireguard/%s", ci->name);
        if (!have)
                /* a new interface: its creation is the interfaces plugin's action */
                return ci->listen_port >= 0 ?
                        plan_add(plan, "wireguard", ACTION_CREATE, IMPACT_NONE, path,
                                 "set up %s: private key from secret %s, listen port %d", ci->name, ci->key_secret,
                                 ci->listen_port) :
                        plan_add(plan, "wireguard", ACTION_CREATE, IMPACT_NONE, path,
                                 "set up %s: private key from secret %s, listen port chosen by the kernel", ci->name,
                                 ci->key_secret);
        if (key && port)
                return plan_add(plan, "wireguard", ACTION_MODIFY, IMPACT_TUNNEL_RESTART, path,
                                "%s: private key from secret %s and listen port %d", ci->name, ci->key_secret,
                                ci->listen_port);
        if (key)
                return plan_add(plan, "wireguard", ACTION_MODIFY, IMPACT_TUNNEL_RESTART, path,
                                "%s: private key from secret %s", ci->name, ci->key_secret);
        return plan_add(plan, "wireguard", ACTION_MODIFY, IMPACT_TUNNEL_RESTART, path, "%s: listen port %u -> %d",
                        ci->name, have->listen_port, ci->listen_port);
}

int wg_diff(const WgConfig *c, const WgDevice *live, const bool *has_device, WgChanges *ret, Plan *plan, Diag *d) {
        WgChanges out = {};
        int k = 0;

        (void) d;
        for (size_t i = 0; i < c->n_ifs && k >= 0; i++) {
                const WgDevice *have = has_device[i] ? &live[i] : NULL;

                if (!c->ifs[i].name)
                        continue;
                k = diff_device(&c->ifs[i], have, &out, plan);
                if (k >= 0)
                        k = diff_peers(&c->ifs[i], have, &out, plan);
        }
        if (k < 0) {
                wg_changes_done(&out);
                return k;
        }
        *ret = out;
        return 0;
}

/* ---- as a section -------------------------------------------------------------------- */

static json_object *peer_json(const WgConfig *c, const WgPeer *p) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *ips = json_object_new_array();
        char key[45], endpoint[64];
        int k = o && ips ? 0 : -ENOMEM;

        wg_key_to_base64(p->public_key, key);
        if (k >= 0)
                k = json_object_add_take(o, "public_key", json_object_new_string(key));
        wg_endpoint_format(&p->endpoint, endpoint);
        if (k >= 0 && endpoint[0])
                k = json_object_add_take(o, "endpoint", json_object_new_string(endpoint));
        for (size_t i = 0; k >= 0 && i < p->n_allowed_ips; i++) {
                char text[INET6_ADDRSTRLEN + 8], a[INET6_ADDRSTRLEN];

                inet_ntop(p->allowed_ips[i].family, p->allowed_ips[i].addr, a, sizeof a);
                snprintf(text, sizeof text, "%s/%u", a, p->allowed_ips[i].cidr);
                k = json_array_append_take(ips, json_object_new_string(text));
        }
        if (k >= 0)
                k = json_object_add_take(o, "allowed_ips", json_object_get(ips));
        if (k >= 0 && p->keepalive)
                k = json_object_add_take(o, "persistent_keepalive", json_object_new_int(p->keepalive));
        if (k >= 0 && p->has_preshared_key) {
                const char *name = wg_secret_name_of(c, p->preshared_key);

                k = json_object_add_take(o, "preshared_key_secret", json_object_new_string(name ?: WG_REDACTED));
        }
        return k >= 0 ? json_object_get(o) : NULL;
}

static const RtnlLink *link_named(const IfLive *links, const char *name) {
        for (size_t i = 0; links && i < links->n_links; i++)
                if (streq(links->links[i].name, name))
                        return &links->links[i];
        return NULL;
}

static json_object *device_json(const WgConfig *c, const WgDevice *dev, const IfLive *links) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *peers = json_object_new_array(),
                *addrs = json_object_new_array();
        const RtnlLink *link = link_named(links, dev->ifname);
        const char *name = dev->has_private_key ? wg_secret_name_of(c, dev->private_key) : NULL;
        int k = o && peers && addrs ? 0 : -ENOMEM;

        if (k >= 0)
                k = json_object_add_take(o, "name", json_object_new_string(dev->ifname));
        if (k >= 0 && link)
                k = json_object_add_take(o, "mtu", json_object_new_int64(link->mtu));
        for (size_t i = 0; k >= 0 && link && i < links->n_addrs; i++) {
                char text[64];

                if (links->addrs[i].ifindex != link->ifindex || !if_addr_owned(links, &links->addrs[i]))
                        continue;
                if_addr_format(&links->addrs[i], text);
                k = json_array_append_take(addrs, json_object_new_string(text));
        }
        if (k >= 0)
                k = json_object_add_take(o, "addresses", json_object_get(addrs));
        if (k >= 0)
                k = json_object_add_take(o, "listen_port", json_object_new_int(dev->listen_port));
        if (k >= 0)
                k = json_object_add_take(o, "private_key_secret", json_object_new_string(name ?: WG_REDACTED));
        for (size_t i = 0; k >= 0 && i < dev->n_peers; i++)
                k = json_array_append_take(peers, peer_json(c, &dev->peers[i]));
        if (k >= 0)
                k = json_object_add_take(o, "peers", json_object_get(peers));
        return k >= 0 ? json_object_get(o) : NULL;
}

int wg_live_to_json(const WgConfig *c, const WgDevice *devs, size_t n, const IfLive *links, json_object **ret) {
        _cleanup_(json_object_putp) json_object *s = json_object_new_object(), *ifs = json_object_new_array();
        int k = s && ifs ? 0 : -ENOMEM;

        for (size_t i = 0; k >= 0 && i < n; i++)
                k = json_array_append_take(ifs, device_json(c, &devs[i], links));
        if (k >= 0)
                k = json_object_add_take(s, "interfaces", json_object_get(ifs));
        if (k < 0)
                return k;
        *ret = json_object_get(s);
        return 0;
}
