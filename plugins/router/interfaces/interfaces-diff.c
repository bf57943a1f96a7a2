/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The interfaces section against the dumps and the ledger: the changes,
 * each with its plan action, and the owned objects as a section. Pure. */
#include <arpa/inet.h>
#include <assert.h>
#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <stdarg.h>
#include <stdio.h>

#include "interfaces.h"
#include "json-util.h"
#include "router.h"

void if_live_done(IfLive *l) {
        free(l->links);
        free(l->addrs);
        free(l->vlans);
        if_ledger_done(&l->ledger);
        *l = (IfLive) {};
}

void if_changes_done(IfChanges *c) {
        free(c->ops);
        *c = (IfChanges) {};
}

void if_addr_format(const RtnlAddr *a, char buf[static 64]) {
        char text[INET6_ADDRSTRLEN];

        if (!inet_ntop(a->family, &a->address, text, sizeof text))
                snprintf(text, sizeof text, "?");
        snprintf(buf, 64, "%s/%u", text, a->prefixlen);
}

static const RtnlLink *live_link(const IfLive *l, const char *name) {
        for (size_t i = 0; i < l->n_links; i++)
                if (streq(l->links[i].name, name))
                        return &l->links[i];
        return NULL;
}

static const RtnlLink *live_link_by_index(const IfLive *l, int ifindex) {
        for (size_t i = 0; i < l->n_links; i++)
                if (l->links[i].ifindex == ifindex)
                        return &l->links[i];
        return NULL;
}

/* A link being made without any alias is one op-router was stopped from
 * labelling (the alias is a second request): its own, and the next apply
 * labels it. */
bool if_link_owned(const IfLive *l, const RtnlLink *link) {
        if (streq(link->alias, IF_ALIAS))
                return if_ledger_has_link(&l->ledger, link->name) || if_ledger_creating(&l->ledger, link->name);
        return !link->alias[0] && if_ledger_creating(&l->ledger, link->name);
}

bool if_addr_owned(const IfLive *l, const RtnlAddr *a) {
        const RtnlLink *link = live_link_by_index(l, a->ifindex);
        char text[64];

        if (a->protocol == RTNL_PROTO_OPDBUS)
                return true;
        if (!link)
                return false;
        if_addr_format(a, text);
        return if_ledger_has_address(&l->ledger, link->name, text);
}

static const char *kind_word(IfKind k) {
        return k == IF_BRIDGE ? "bridge" : k == IF_VLAN ? "vlan" : k == IF_MACVLAN ? "macvlan" :
               k == IF_WIREGUARD ? "wireguard" : "link";
}

typedef struct Builder {
        const IfConfig *c;
        const IfLive *live;
        IfChanges *out;
        Plan *plan;
        Diag *d;
} Builder;

static int push(Builder *b, const IfOp *op) {
        IfOp *t = realloc(b->out->ops, (b->out->n_ops + 1) * sizeof(IfOp));

        if (!t)
                return -ENOMEM;
        b->out->ops = t;
        b->out->ops[b->out->n_ops++] = *op;
        return 0;
}

_printf_(6, 7)
static int action(Builder *b, ActionKind kind, Impact impact, const char *outage, const char *path,
                  const char *fmt, ...) {
        char detail[256];
        va_list ap;
        int k;

        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
        k = plan_add(b->plan, "interfaces", kind, impact, path, "%s", detail);
        if (k >= 0 && outage)
                k = plan_set_outage(b->plan, "%s", outage);
        return k;
}

/* ---- links ---------------------------------------------------------------------------- */

static bool wanted_kind(const IfLink *l, const RtnlLink *live) {
        return streq(live->kind, kind_word(l->kind));
}

/* The attributes the section sets: one IF_SET_LINK (after a creation, the
 * new link's; "up" is the default of what op-router creates). */
static int diff_settings(Builder *b, const IfLink *l, const RtnlLink *have) {
        IfOp op = { .type = IF_SET_LINK };
        char path[64], what[160] = "";
        int up = l->up >= 0 ? l->up : l->kind != IF_LINK ? 1 : -1;

        snprintf(op.name, sizeof op.name, "%s", l->name);
        if (l->mtu && (!have || have->mtu != l->mtu)) {
                op.mtu = l->mtu;
                snprintf(what + strlen(what), sizeof what - strlen(what), " mtu %u", l->mtu);
        }
        if (l->has_mac && (!have || !have->has_hwaddr || memcmp(have->hwaddr, l->mac, RTNL_HWADDR_LEN) != 0)) {
                op.has_mac = true;
                memcpy(op.mac, l->mac, RTNL_HWADDR_LEN);
                snprintf(what + strlen(what), sizeof what - strlen(what), " mac %02x:%02x:%02x:%02x:%02x:%02x",
                         l->mac[0], l->mac[1], l->mac[2], l->mac[3], l->mac[4], l->mac[5]);
        }
        if (up >= 0 && (!have || have->up != (up == 1))) {
                op.admin = up ? RTNL_ADMIN_UP : RTNL_ADMIN_DOWN;
                snprintf(what + strlen(what), sizeof what - strlen(what), " %s", up ? "up" : "down");
        }
        if (have && l->kind != IF_LINK && !have->alias[0]) {
                op.set_alias = true;
                snprintf(what + strlen(what), sizeof what - strlen(what), " alias " IF_ALIAS);
        }
        if (!what[0])
                return 0;
        if (!have) {
                /* a new link: its settings go with its creation, the
                 * change pushed right before */
                IfOp *create = &b->out->ops[b->out->n_ops - 1];

                assert(create->type == IF_CREATE_LINK && streq(create->name, l->name));
                create->mtu = op.mtu;
                create->has_mac = op.has_mac;
                memcpy(create->mac, op.mac, RTNL_HWADDR_LEN);
                create->admin = op.admin;
                return 0;
        }
        snprintf(path, sizeof path, "%s/%s", kind_word(l->kind), l->name);
        if (push(b, &op) < 0)
                return -ENOMEM;
        return action(b, ACTION_MODIFY, IMPACT_LAN_OUTAGE, op.admin == RTNL_ADMIN_DOWN ? "take it down" : NULL, path,
                      "set%s", what);
}

static int diff_ports(Builder *b, const IfLink *l, const RtnlLink *have) {
        char path[64];
        int k = 0;

        for (size_t i = 0; i < l->n_ports && k >= 0; i++) {
                const RtnlLink *port = live_link(b->live, l->ports[i]);
                const IfLink *declared = if_config_find(b->c, l->ports[i]);
                IfOp op = { .type = IF_ENSLAVE };

                if (!port && !(declared && declared->kind != IF_LINK && declared->kind != IF_BRIDGE)) {
                        _cleanup_(freep) char *pp = json_path_key(l->path, "ports"), *p = pp ? json_path_index(pp, i) : NULL;

                        diag_error(b->d, p ?: l->path, "interface %s is not on this router, and no section of the "
                                   "state creates it", l->ports[i]);
                        k = -EINVAL;
                        continue;
                }
                if (port && have && port->master == have->ifindex)
                        continue;
                /* a port carries traffic when it is up: it is brought up
                 * as it joins, unless the section says otherwise */
                if (!(declared && declared->up == 0) && !(port && port->up))
                        op.admin = RTNL_ADMIN_UP;
                snprintf(op.name, sizeof op.name, "%s", l->ports[i]);
                snprintf(op.other, sizeof op.other, "%s", l->name);
                snprintf(path, sizeof path, "port/%s/%s", l->name, l->ports[i]);
                if (push(b, &op) < 0)
                        return -ENOMEM;
                k = action(b, ACTION_CREATE, IMPACT_LAN_OUTAGE, NULL, path, "make %s a port of %s", l->ports[i],
                           l->name);
        }
        /* ports of an owned bridge the section does not name leave it */
        for (size_t i = 0; have && i < b->live->n_links && k >= 0; i++) {
                const RtnlLink *port = &b->live->links[i];
                bool named = false;
                IfOp op = { .type = IF_RELEASE_PORT };

                if (port->master != have->ifindex)
                        continue;
                for (size_t p = 0; p < l->n_ports; p++)
                        named = named || streq(l->ports[p], port->name);
                if (named)
                        continue;
                snprintf(op.name, sizeof op.name, "%s", port->name);
                snprintf(path, sizeof path, "port/%s/%s", l->name, port->name);
                if (push(b, &op) < 0)
                        return -ENOMEM;
                k = action(b, ACTION_DELETE, IMPACT_LAN_OUTAGE, NULL, path, "take %s out of %s", port->name, l->name);
        }
        return k;
}

/* ---- VLANs of bridge ports ------------------------------------------------------------ */

static const RtnlBridgeVlans *live_vlans(const IfLive *live, int ifindex) {
        for (size_t i = 0; i < live->n_vlans; i++)
                if (live->vlans[i].ifindex == ifindex)
                        return &live->vlans[i];
        return NULL;
}

static void vlans_default(RtnlBridgeVlans *v) {
        *v = (RtnlBridgeVlans) { .pvid = IF_DEFAULT_PVID };
        rtnl_vlan_set_add(v->member, IF_DEFAULT_PVID);
        rtnl_vlan_set_add(v->untagged, IF_DEFAULT_PVID);
}

/* What the section wants: exactly its VLANs, or the kernel's default. */
static void vlans_wanted(const IfVlans *want, RtnlBridgeVlans *ret) {
        if (!want->given) {
                vlans_default(ret);
                return;
        }
        *ret = (RtnlBridgeVlans) { .pvid = want->pvid };
        if (want->pvid) {
                rtnl_vlan_set_add(ret->member, want->pvid);
                rtnl_vlan_set_add(ret->untagged, want->pvid);
        }
        for (size_t i = 0; i < want->n_tagged; i++)
                rtnl_vlan_set_add(ret->member, want->tagged[i]);
}

/* What a port (or the bridge itself, port == NULL) has: the dump's when it
 * is in the bridge already; what the kernel gives it when it joins (or
 * the bridge is made) in this apply. */
static void vlans_live(const Builder *b, const RtnlLink *bridge, const char *port, RtnlBridgeVlans *ret) {
        const RtnlLink *link = port ? live_link(b->live, port) : bridge;
        const RtnlBridgeVlans *v;

        if (!bridge || !bridge->vlan_filtering || !link || (port && link->master != bridge->ifindex)) {
                vlans_default(ret);
                return;
        }
        v = live_vlans(b->live, link->ifindex);
        if (v)
                *ret = *v;
        else
                *ret = (RtnlBridgeVlans) {};
}

static int vlan_op(Builder *b, const IfLink *bridge, const char *port, IfOpType type, uint16_t vid, uint16_t flags,
                   Impact impact, bool modify, const char *what) {
        IfOp op = { .type = type, .vlan_id = vid, .vlan_flags = flags, .self = !port };
        char path[96];

        snprintf(op.name, sizeof op.name, "%s", port ?: bridge->name);
        snprintf(op.other, sizeof op.other, "%s", bridge->name);
        if (port)
                snprintf(path, sizeof path, "port/%s/%s/vlan/%u", bridge->name, port, vid);
        else
                snprintf(path, sizeof path, "bridge/%s/vlan/%u", bridge->name, vid);
        if (push(b, &op) < 0)
                return -ENOMEM;
        return action(b, type == IF_DELETE_VLAN ? ACTION_DELETE : modify ? ACTION_MODIFY : ACTION_CREATE, impact, NULL,
                      path, "%s%s: %s", port ?: bridge->name, port ? "" : " (the bridge itself)", what);
}

/* One port's (or the bridge's own) VLANs: the pvid first (its frames
 * move to it before the old one goes), then the tagged ones, then what
 * the section does not have. */
static int diff_port_vlans(Builder *b, const IfLink *l, const RtnlLink *have, const char *port, const IfVlans *want) {
        RtnlBridgeVlans is, should;
        char what[128];
        int k = 0;

        vlans_live(b, have, port, &is);
        vlans_wanted(want, &should);
        if (should.pvid && (is.pvid != should.pvid || !rtnl_vlan_set_has(is.untagged, should.pvid))) {
                if (is.pvid && is.pvid != should.pvid)
                        snprintf(what, sizeof what, "VLAN %u as pvid, untagged (untagged frames were in VLAN %u)",
                                 should.pvid, is.pvid);
                else
                        snprintf(what, sizeof what, "VLAN %u as pvid, untagged", should.pvid);
                k = vlan_op(b, l, port, IF_SET_VLAN, should.pvid, BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED,
                            is.pvid != should.pvid ? IMPACT_LAN_OUTAGE : IMPACT_NONE,
                            rtnl_vlan_set_has(is.member, should.pvid), what);
        }
        for (unsigned vid = 1; vid <= 4094 && k >= 0; vid++) {
                bool tagged = rtnl_vlan_set_has(should.member, vid) && vid != should.pvid;
                bool member = rtnl_vlan_set_has(is.member, vid);

                if (!tagged || (member && !rtnl_vlan_set_has(is.untagged, vid) && is.pvid != vid))
                        continue;
                snprintf(what, sizeof what, member ? "VLAN %u tagged (was untagged)" : "VLAN %u tagged", vid);
                k = vlan_op(b, l, port, IF_SET_VLAN, (uint16_t) vid, 0, member ? IMPACT_LAN_OUTAGE : IMPACT_NONE,
                            member, what);
        }
        for (unsigned vid = 1; vid <= 4094 && k >= 0; vid++) {
                if (!rtnl_vlan_set_has(is.member, vid) || rtnl_vlan_set_has(should.member, vid))
                        continue;
                snprintf(what, sizeof what, vid == is.pvid ? "VLAN %u removed (the pvid: untagged frames are dropped)" :
                         "VLAN %u removed", vid);
                k = vlan_op(b, l, port, IF_DELETE_VLAN, (uint16_t) vid, 0, IMPACT_LAN_OUTAGE, false, what);
        }
        return k;
}

/* A filtering bridge's VLANs: each port's and its own. */
static int diff_bridge_vlans(Builder *b, const IfLink *l, const RtnlLink *have) {
        int k = 0;

        if (!l->vlan_filtering)
                return 0;
        for (size_t i = 0; i < l->n_ports && k >= 0; i++)
                k = diff_port_vlans(b, l, have, l->ports[i], &l->port_vlans[i]);
        if (k >= 0)
                k = diff_port_vlans(b, l, have, NULL, &l->self_vlans);
        return k;
}

/* A VLAN's or macvlan's parent, id and mode as the section says. */
static bool same_parent(const IfLive *live, const IfLink *l, const RtnlLink *have) {
        const RtnlLink *parent = live_link_by_index(live, have->link);

        if (l->kind != IF_VLAN && l->kind != IF_MACVLAN)
                return true;
        return parent && streq(parent->name, l->parent) &&
               (l->kind == IF_VLAN ? have->vlan_id == l->vlan_id : have->macvlan_mode == l->macvlan_mode);
}

static int diff_link(Builder *b, const IfLink *l, const RtnlLink **ret_have) {
        const RtnlLink *have = live_link(b->live, l->name);
        bool remade = false;
        char path[64];
        int k;

        *ret_have = NULL;
        snprintf(path, sizeof path, "%s/%s", kind_word(l->kind), l->name);
        if (l->kind == IF_LINK) {
                if (!have) {
                        _cleanup_(freep) char *p = json_path_key(l->path, "name");

                        diag_error(b->d, p ?: l->path, "interface %s is not on this router (links are existing "
                                   "devices; op-router creates bridges, vlans and macvlans)", l->name);
                        return -EINVAL;
                }
        } else if (have && !if_link_owned(b->live, have)) {
                _cleanup_(freep) char *p = json_path_key(l->path, "name");

                diag_error(b->d, p ?: l->path, "%s exists and is not op-router's (it did not create it): op-router "
                           "does not take it over; choose another name, or delete it", l->name);
                return -EINVAL;
        } else if (have && (!wanted_kind(l, have) || !same_parent(b->live, l, have) ||
                            (l->kind == IF_BRIDGE && have->vlan_filtering != l->vlan_filtering))) {
                /* made anew: its addresses go with it */
                k = push(b, &(IfOp) { .type = IF_DELETE_LINK });
                if (k < 0)
                        return k;
                snprintf(b->out->ops[b->out->n_ops - 1].name, RTNL_IFNAME_SIZE, "%s", l->name);
                have = NULL;
                remade = true;
                k = action(b, ACTION_RECREATE, l->kind == IF_WIREGUARD ? IMPACT_TUNNEL_RESTART : IMPACT_LAN_OUTAGE,
                           "delete and create it anew", path, "%s made anew", l->name);
                if (k < 0)
                        return k;
        }
        if (l->kind != IF_LINK && !have) {
                IfOp op = { .type = IF_CREATE_LINK, .kind = l->kind, .vlan_id = l->vlan_id,
                            .macvlan_mode = l->macvlan_mode, .vlan_filtering = l->vlan_filtering };

                if (l->parent && !live_link(b->live, l->parent) && !if_config_find(b->c, l->parent)) {
                        _cleanup_(freep) char *p = json_path_key(l->path, "link");

                        diag_error(b->d, p ?: l->path, "interface %s is not on this router, and no section of the "
                                   "state creates it", l->parent);
                        return -EINVAL;
                }
                snprintf(op.name, sizeof op.name, "%s", l->name);
                snprintf(op.other, sizeof op.other, "%s", l->parent ?: "");
                k = push(b, &op);
                if (k >= 0 && !remade)
                        k = action(b, ACTION_CREATE, IMPACT_NONE, NULL, path, "create %s %s%s", kind_word(l->kind),
                                   l->name, l->kind == IF_BRIDGE && l->vlan_filtering ? " (vlan filtering)" : "");
                if (k < 0)
                        return k;
        }
        *ret_have = have;
        return diff_settings(b, l, have);
}

/* ---- addresses ---------------------------------------------------------------------- */

static bool desired_address(const IfConfig *c, const char *ifname, const char *text) {
        const IfLink *l = if_config_find(c, ifname);

        for (size_t i = 0; l && i < l->n_addresses; i++)
                if (streq(l->addresses[i].text, text))
                        return true;
        return false;
}

static int diff_addresses(Builder *b, const IfLink *l, const RtnlLink *have) {
        int k = 0;

        for (size_t i = 0; i < l->n_addresses && k >= 0; i++) {
                const IfAddress *x = &l->addresses[i];
                IfOp op = { .type = IF_ADD_ADDRESS };
                char path[128];
                bool there = false;

                for (size_t j = 0; have && j < b->live->n_addrs && !there; j++) {
                        const RtnlAddr *a = &b->live->addrs[j];
                        char text[64];

                        if (a->ifindex != have->ifindex || a->family != x->family)
                                continue;
                        if_addr_format(a, text);
                        if (!streq(text, x->text))
                                continue;
                        there = true;
                        if (!if_addr_owned(b->live, a)) {
                                diag_error(b->d, x->path, "%s is on %s already and is not op-router's (protocol %u): "
                                           "op-router does not take it over", x->text, l->name, a->protocol);
                                k = -EINVAL;
                        }
                }
                if (there)
                        continue;
                op.addr = (RtnlAddr) { .family = x->family, .address = x->addr, .prefixlen = x->prefixlen,
                                       .protocol = RTNL_PROTO_OPDBUS };
                if (x->family == AF_INET)
                        rtnl_address_set_broadcast(&op.addr);
                else
                        op.addr.flags = IFA_F_NODAD;
                snprintf(op.name, sizeof op.name, "%s", l->name);
                snprintf(op.addr_text, sizeof op.addr_text, "%s", x->text);
                snprintf(path, sizeof path, "address/%s/%s", l->name, x->text);
                if (push(b, &op) < 0)
                        return -ENOMEM;
                k = action(b, ACTION_CREATE, IMPACT_NONE, NULL, path, "add %s to %s", x->text, l->name);
        }
        return k;
}

/* Does the state say what link has (WireGuard links: the wireguard
 * section; the others: the interfaces section)? */
static bool governed(const Builder *b, const RtnlLink *link) {
        return streq(link->kind, "wireguard") ? b->c->wg_present : b->c->present;
}

/* Owned addresses and links the sections do not have. */
static int diff_leftovers(Builder *b) {
        int k = 0;

        for (size_t j = 0; j < b->live->n_addrs && k >= 0; j++) {
                const RtnlAddr *a = &b->live->addrs[j];
                const RtnlLink *link = live_link_by_index(b->live, a->ifindex);
                IfOp op = { .type = IF_DELETE_ADDRESS, .addr = *a };
                char text[64], path[128];

                if (!link || !if_addr_owned(b->live, a) || !governed(b, link))
                        continue;
                if_addr_format(a, text);
                if (desired_address(b->c, link->name, text))
                        continue;
                snprintf(op.name, sizeof op.name, "%s", link->name);
                snprintf(op.addr_text, sizeof op.addr_text, "%s", text);
                snprintf(path, sizeof path, "address/%s/%s", link->name, text);
                if (push(b, &op) < 0)
                        return -ENOMEM;
                k = action(b, ACTION_DELETE, IMPACT_LAN_OUTAGE, NULL, path, "delete %s from %s", text, link->name);
        }
        for (size_t j = 0; j < b->live->n_links && k >= 0; j++) {
                const RtnlLink *link = &b->live->links[j];
                IfOp op = { .type = IF_DELETE_LINK };
                char path[64];

                if (!if_link_owned(b->live, link) || if_config_find(b->c, link->name) || !governed(b, link))
                        continue;
                snprintf(op.name, sizeof op.name, "%s", link->name);
                snprintf(path, sizeof path, "%s/%s", link->kind, link->name);
                if (push(b, &op) < 0)
                        return -ENOMEM;
                if (streq(link->kind, "wireguard"))
                        k = action(b, ACTION_DELETE, IMPACT_TUNNEL_RESTART, NULL, path, "delete %s", link->name);
                else
                        k = action(b, ACTION_DELETE, IMPACT_LAN_OUTAGE, "cut off the hosts it connects", path,
                                   "delete %s", link->name);
        }
        return k;
}

static int cmp_ops(const void *a, const void *b) {
        return (int) ((const IfOp *) a)->type - (int) ((const IfOp *) b)->type;
}

int if_diff(const IfConfig *c, const IfLive *live, IfChanges *ret, Plan *plan, Diag *d) {
        IfChanges out = {};
        Builder b = { .c = c, .live = live, .out = &out, .plan = plan, .d = d };
        int r = 0, k;

        for (size_t i = 0; i < c->n_links; i++) {
                const RtnlLink *have;

                k = diff_link(&b, &c->links[i], &have);
                if (k >= 0 && c->links[i].kind == IF_BRIDGE)
                        k = diff_ports(&b, &c->links[i], have);
                if (k >= 0 && c->links[i].kind == IF_BRIDGE)
                        k = diff_bridge_vlans(&b, &c->links[i], have);
                if (k >= 0)
                        k = diff_addresses(&b, &c->links[i], have);
                if (k == -ENOMEM) {
                        if_changes_done(&out);
                        return k;
                }
                RET_GATHER(r, k);
        }
        if (c->present || c->wg_present) {
                k = diff_leftovers(&b);
                if (k == -ENOMEM) {
                        if_changes_done(&out);
                        return k;
                }
                RET_GATHER(r, k);
        }
        if (r < 0) {
                if_changes_done(&out);
                return r;
        }
        /* stable: insertion sort by kind of change */
        for (size_t i = 1; i < out.n_ops; i++)
                for (size_t j = i; j > 0 && cmp_ops(&out.ops[j - 1], &out.ops[j]) > 0; j--) {
                        IfOp t = out.ops[j];

                        out.ops[j] = out.ops[j - 1];
                        out.ops[j - 1] = t;
                }
        *ret = out;
        return 0;
}

/* ---- as a section ------------------------------------------------------------------------ */

static json_object *owned_addresses(const IfLive *live, const RtnlLink *link) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && i < live->n_addrs; i++) {
                char text[64];

                if (live->addrs[i].ifindex != link->ifindex || !if_addr_owned(live, &live->addrs[i]))
                        continue;
                if_addr_format(&live->addrs[i], text);
                if (json_array_append_take(a, json_object_new_string(text)) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

static bool has_owned_address(const IfLive *live, const RtnlLink *link) {
        for (size_t i = 0; i < live->n_addrs; i++)
                if (live->addrs[i].ifindex == link->ifindex && if_addr_owned(live, &live->addrs[i]))
                        return true;
        return false;
}

static bool named(char *const *names, const char *name) {
        for (; names && *names; names++)
                if (streq(*names, name))
                        return true;
        return false;
}

/* {"pvid": 10, "tagged": [20, 30]}: every VLAN but the pvid as tagged (a
 * VLAN leaving untagged that is not the pvid is not something the section
 * can say). */
static json_object *vlans_json(const RtnlBridgeVlans *v) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *tagged = json_object_new_array();
        int k = o && tagged ? 0 : -ENOMEM;

        if (k >= 0 && v && v->pvid)
                k = json_object_add_take(o, "pvid", json_object_new_int(v->pvid));
        for (unsigned vid = 1; v && k >= 0 && vid <= 4094; vid++)
                if (rtnl_vlan_set_has(v->member, vid) && vid != v->pvid)
                        k = json_array_append_take(tagged, json_object_new_int((int) vid));
        if (k >= 0)
                k = json_object_add_take(o, "tagged", json_object_get(tagged));
        return k >= 0 ? json_object_get(o) : NULL;
}

/* A port as the section names it: with its VLANs on a filtering bridge. */
static json_object *port_json(const IfLive *live, const RtnlLink *bridge, const RtnlLink *port) {
        _cleanup_(json_object_putp) json_object *o = NULL;

        if (!bridge->vlan_filtering)
                return json_object_new_string(port->name);
        o = json_object_new_object();
        if (!o || json_object_add_take(o, "name", json_object_new_string(port->name)) < 0 ||
            json_object_add_take(o, "vlans", vlans_json(live_vlans(live, port->ifindex))) < 0)
                return NULL;
        return json_object_get(o);
}

static int bridge_json(const IfLive *live, const RtnlLink *link, json_object *o) {
        json_object *ports = json_object_new_array();
        int k = 0;

        for (size_t i = 0; ports && i < live->n_links; i++)
                if (live->links[i].master == link->ifindex &&
                    json_array_append_take(ports, port_json(live, link, &live->links[i])) < 0) {
                        json_object_put(ports);
                        ports = NULL;
                }
        k = json_object_add_take(o, "ports", ports);
        if (k >= 0 && link->vlan_filtering)
                k = json_object_add_take(o, "vlan_filtering", json_object_new_boolean(true));
        if (k >= 0 && link->vlan_filtering)
                k = json_object_add_take(o, "vlans", vlans_json(live_vlans(live, link->ifindex)));
        return k;
}

static json_object *link_json(const IfLive *live, const RtnlLink *link, bool settings) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        char mac[32];
        int k;

        if (!o)
                return NULL;
        k = json_object_add_take(o, "name", json_object_new_string(link->name));
        if (k >= 0 && settings) {
                k = json_object_add_take(o, "mtu", json_object_new_int64(link->mtu));
                if (k >= 0)
                        k = json_object_add_take(o, "up", json_object_new_boolean(link->up));
                if (k >= 0 && link->has_hwaddr) {
                        snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", link->hwaddr[0], link->hwaddr[1],
                                 link->hwaddr[2], link->hwaddr[3], link->hwaddr[4], link->hwaddr[5]);
                        k = json_object_add_take(o, "mac", json_object_new_string(mac));
                }
        }
        /* what op-router made: made again with the same MAC address */
        if (k >= 0 && !settings)
                k = json_object_add_take(o, "up", json_object_new_boolean(link->up));
        if (k >= 0 && !settings && link->has_hwaddr && if_link_owned(live, link)) {
                snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", link->hwaddr[0], link->hwaddr[1],
                         link->hwaddr[2], link->hwaddr[3], link->hwaddr[4], link->hwaddr[5]);
                k = json_object_add_take(o, "mac", json_object_new_string(mac));
        }
        if (k >= 0 && streq(link->kind, "bridge") && if_link_owned(live, link))
                k = bridge_json(live, link, o);
        if (k >= 0 && (streq(link->kind, "vlan") || streq(link->kind, "macvlan")) && if_link_owned(live, link)) {
                const RtnlLink *parent = live_link_by_index(live, link->link);

                k = json_object_add_take(o, "link", json_object_new_string(parent ? parent->name : "?"));
                if (k >= 0 && streq(link->kind, "vlan"))
                        k = json_object_add_take(o, "id", json_object_new_int(link->vlan_id));
                if (k >= 0 && streq(link->kind, "macvlan"))
                        k = json_object_add_take(o, "mode", json_object_new_string(link->macvlan_mode == MACVLAN_MODE_PRIVATE ? "private" :
                                                                  link->macvlan_mode == MACVLAN_MODE_VEPA ? "vepa" :
                                                                  link->macvlan_mode == MACVLAN_MODE_PASSTHRU ? "passthru" :
                                                                  "bridge"));
        }
        if (k >= 0)
                k = json_object_add_take(o, "addresses", owned_addresses(live, link));
        return k >= 0 ? json_object_get(o) : NULL;
}

int if_live_to_json(const IfLive *live, char *const *names, json_object **ret) {
        _cleanup_(json_object_putp) json_object *s = json_object_new_object(), *links = json_object_new_array(),
                *bridges = json_object_new_array(), *vlans = json_object_new_array(),
                *macvlans = json_object_new_array();
        int k = s && links && bridges && vlans && macvlans ? 0 : -ENOMEM;

        for (size_t i = 0; k >= 0 && i < live->n_links; i++) {
                const RtnlLink *link = &live->links[i];

                if (if_link_owned(live, link) && streq(link->kind, "wireguard"))
                        continue;  /* the wireguard section's */
                if (if_link_owned(live, link))
                        k = json_array_append_take(streq(link->kind, "vlan") ? vlans :
                                                   streq(link->kind, "macvlan") ? macvlans : bridges,
                                                   link_json(live, link, false));
                else if (named(names, link->name) || has_owned_address(live, link))
                        k = json_array_append_take(links, link_json(live, link, named(names, link->name)));
        }
        if (k >= 0)
                k = json_object_add_take(s, "links", json_object_get(links));
        if (k >= 0)
                k = json_object_add_take(s, "bridges", json_object_get(bridges));
        if (k >= 0)
                k = json_object_add_take(s, "vlans", json_object_get(vlans));
        if (k >= 0)
                k = json_object_add_take(s, "macvlans", json_object_get(macvlans));
        if (k < 0)
                return k;
        *ret = json_object_get(s);
        return 0;
}
