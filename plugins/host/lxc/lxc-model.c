/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "lxc-plugin.h"
/* Lookups over what the plugin holds: the state's containers, the node's
 * containers as query found them, and the changes the diff decided on.
 * Every part of the plugin (containers, socket networking, services,
 * offloads, the backends) reads them; this file calls none of them. */

const LxcContainer *lxc_config_find(const LxcConfig *c, uint32_t id) {
        for (size_t i = 0; c && i < c->n_containers; i++)
                if (c->containers[i].id == id)
                        return &c->containers[i];
        return NULL;
}

const LxcLive *lxc_find_live(const LxcPlugin *l, uint32_t id) {
        for (size_t i = 0; i < l->n_have; i++)
                if (l->have[i].id == id)
                        return &l->have[i];
        return NULL;
}

const LxcChange *lxc_find_change(const LxcPlugin *l, uint32_t id) {
        for (size_t i = 0; i < l->n_changes; i++) {
                const LxcChange *ch = &l->changes[i];

                if ((ch->want && ch->want->id == id) || (ch->have && ch->have->id == id))
                        return ch;
        }
        return NULL;
}

bool lxc_runs_after(const LxcContainer *c, const LxcLive *have) {
        if (have && have->ha_managed)
                return have->running; /* HA's to decide */
        if (c->state != LXC_RUN_STATE_UNSET)
                return c->state == LXC_RUN_STATE_RUNNING;
        return have ? have->running : c->autostart == LXC_TRUE;
}

bool lxc_change_recreates(const LxcPlugin *l, uint32_t id) {
        const LxcChange *ch = lxc_find_change(l, id);

        return ch && ch->kind == LXC_CHANGE_RECREATE;
}

bool lxc_held(const LxcPlugin *l, const LxcContainer *c) {
        return l->plugin.ctx->healing && c && c->drift == LXC_DRIFT_REPORT;
}

bool lxc_uses_socket(const LxcContainer *c) {
        return c->has_network && c->network.socket_networking == LXC_TRUE;
}
