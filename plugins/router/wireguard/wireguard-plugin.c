/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The wireguard plugin's vtable: the devices' dumps, one WG_CMD_SET_DEVICE
 * per change. Which WireGuard links are op-router's is the interfaces
 * plugin's ledger and alias (if_link_owned). */
#include <stdio.h>

#include "json-util.h"
#include "router.h"
#include "state.h"
#include "wireguard.h"

typedef struct WireguardPlugin {
        Plugin plugin;
        WgConfig want;
        Rtnl *rtnl;
        Wg *wg;
        IfLive links;                /* links, addresses, the interfaces ledger */
        WgDevice *live;              /* per want.ifs: its device */
        bool *has_live;
        WgDevice *owned;             /* every WireGuard link op-router made */
        size_t n_owned;
        WgChanges changes;
} WireguardPlugin;

static void live_free(WireguardPlugin *wp) {
        for (size_t i = 0; wp->live && i < wp->want.n_ifs; i++)
                wg_device_done(&wp->live[i]);
        free(wp->live);
        free(wp->has_live);
        for (size_t i = 0; i < wp->n_owned; i++)
                wg_device_done(&wp->owned[i]);
        free(wp->owned);
        wp->live = NULL;
        wp->has_live = NULL;
        wp->owned = NULL;
        wp->n_owned = 0;
        if_live_done(&wp->links);
}

static int wireguard_parse(Plugin *p, const StateDoc *doc, json_object *section, Diag *d) {
        WireguardPlugin *wp = (WireguardPlugin *) p;
        const char *secrets = router_settings(p->ctx)->secrets_path ?: "/etc/op-router/secrets.json";
        int r;

        live_free(wp);
        r = wg_parse(&wp->want, section, secrets, d);
        if (r < 0)
                return r == -ENOMEM ? r : -EINVAL;
        return section ? 1 : 0;
}

static const RtnlLink *link_named(const IfLive *l, const char *name) {
        for (size_t i = 0; i < l->n_links; i++)
                if (streq(l->links[i].name, name))
                        return &l->links[i];
        return NULL;
}

/* The device of a WireGuard link (false: none, or not WireGuard). */
static int get_device(WireguardPlugin *wp, const char *name, WgDevice *ret, Diag *d) {
        const RtnlLink *link = link_named(&wp->links, name);
        int r;

        if (!link || !streq(link->kind, "wireguard"))
                return 0;
        if (!wp->wg) {
                r = wg_open(&wp->wg);
                if (r < 0) {
                        diag_error(d, "plugins.wireguard", "cannot talk to WireGuard's generic netlink: %s",
                                   r == -EOPNOTSUPP ? "the kernel has no WireGuard" : strerror(-r));
                        return r;
                }
        }
        r = wg_get_device(wp->wg, name, ret);
        if (r == -ENODEV)
                return 0;
        if (r < 0) {
                diag_error(d, "plugins.wireguard", "cannot read WireGuard interface %s: %s", name, strerror(-r));
                return r;
        }
        return 1;
}

static int wireguard_query(Plugin *p, Diag *d) {
        WireguardPlugin *wp = (WireguardPlugin *) p;
        int r;

        live_free(wp);
        wg_changes_done(&wp->changes);
        r = if_live_query(&wp->rtnl, p->ctx->state_dir, "plugins.wireguard", &wp->links, d);
        if (r < 0)
                return r;
        wp->live = calloc(wp->want.n_ifs + 1, sizeof(WgDevice));
        wp->has_live = calloc(wp->want.n_ifs + 1, sizeof(bool));
        wp->owned = calloc(wp->links.n_links + 1, sizeof(WgDevice));
        if (!wp->live || !wp->has_live || !wp->owned)
                return -ENOMEM;
        for (size_t i = 0; i < wp->want.n_ifs; i++) {
                const RtnlLink *link = wp->want.ifs[i].name ? link_named(&wp->links, wp->want.ifs[i].name) : NULL;

                /* someone else's: the interfaces plugin refuses it */
                if (!link || !if_link_owned(&wp->links, link))
                        continue;
                r = get_device(wp, link->name, &wp->live[i], d);
                if (r < 0)
                        return r;
                wp->has_live[i] = r > 0;
        }
        for (size_t i = 0; i < wp->links.n_links; i++) {
                const RtnlLink *link = &wp->links.links[i];

                if (!streq(link->kind, "wireguard") || !if_link_owned(&wp->links, link))
                        continue;
                r = get_device(wp, link->name, &wp->owned[wp->n_owned], d);
                if (r < 0)
                        return r;
                wp->n_owned += r > 0;
        }
        return 0;
}

static int wireguard_diff(Plugin *p, Plan *plan, Diag *d) {
        WireguardPlugin *wp = (WireguardPlugin *) p;

        wg_changes_done(&wp->changes);
        if (!wp->live)
                return 0;
        return wg_diff(&wp->want, wp->live, wp->has_live, &wp->changes, plan, d);
}

static int send_op(WireguardPlugin *wp, const WgOp *op) {
        WgDeviceChange c = {
                .private_key = op->private_key,
                .listen_port = op->listen_port,
                .peers = op->peer.peer ? &op->peer : NULL,
                .n_peers = op->peer.peer ? 1 : 0,
        };
        int r;

        if (!wp->wg) {
                r = wg_open(&wp->wg);
                if (r < 0)
                        return r;
        }
        return wg_set_device(wp->wg, op->ifname, &c);
}

static int wireguard_apply(Plugin *p, ApplyCounts *counts, Diag *d) {
        WireguardPlugin *wp = (WireguardPlugin *) p;
        unsigned before = wg_writes(wp->wg);
        int r = 0;

        for (size_t i = 0; i < wp->changes.n_ops && r >= 0; i++) {
                const WgOp *op = &wp->changes.ops[i];

                r = send_op(wp, op);
                if (r < 0 && op->peer.peer) {
                        char key[45];

                        wg_key_to_base64(op->peer.peer->public_key, key);
                        diag_error(d, "plugins.wireguard", "the kernel refused to %s peer %s of %s: %s",
                                   op->peer.op == WG_PEER_REMOVE ? "remove" : "set", key, op->ifname,
                                   r == -EOPNOTSUPP ? "the kernel has no WireGuard" : strerror(-r));
                } else if (r < 0)
                        diag_error(d, "plugins.wireguard", "the kernel refused the private key or listen port of %s: %s",
                                   op->ifname, r == -EOPNOTSUPP ? "the kernel has no WireGuard" : strerror(-r));
        }
        apply_counts_write(counts, COUNT_GENL_MESSAGES, wg_writes(wp->wg) - before);
        return r;
}

static int wireguard_live_to_json(Plugin *p, json_object **ret) {
        WireguardPlugin *wp = (WireguardPlugin *) p;

        return wg_live_to_json(&wp->want, wp->owned, wp->n_owned, &wp->links, ret);
}

static void wireguard_done(Plugin *p) {
        WireguardPlugin *wp = (WireguardPlugin *) p;

        live_free(wp);
        wg_changes_done(&wp->changes);
        wg_config_done(&wp->want);
        wg_close(wp->wg);
        rtnl_close(wp->rtnl);
}

static const char *const wireguard_after[] = { "interfaces", "routes", NULL };

const PluginVTable wireguard_plugin_vtable = {
        .name = "wireguard",
        .after = wireguard_after,
        .object_size = sizeof(WireguardPlugin),
        .parse = wireguard_parse,
        .query = wireguard_query,
        .diff = wireguard_diff,
        .apply = wireguard_apply,
        .live_to_json = wireguard_live_to_json,
        .done = wireguard_done,
};
