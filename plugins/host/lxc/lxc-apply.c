/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Carries out the changes the diff decided on, through the backend:
 * updates and creations first, then the destructive recreations and
 * deletions. The first failure ends the apply (the driver rolls back);
 * a container this apply was creating is destroyed again at once. */
#include <inttypes.h>
#include <stdio.h>
#include "lxc-backend.h"
#include "lxc-containers.h"
#include "lxc-offload.h"
#include "lxc-services.h"
#include "lxc-socket.h"


/* Starts the container and attaches what only exists while it runs. */
static int start(LxcPlugin *l, const LxcChange *ch, Diag *d) {
        const LxcBackendOps *b = l->backend;
        pid_t pid;
        int r;

        plugin_progress(&l->plugin, "starting container %" PRIu32, ch->want->id);
        r = b->start(l, ch->want->id, d);
        if (r < 0 || !ch->want_ct || ch->want_ct->network.socket_networking != LXC_TRUE)
                return r;
        r = b->pid(l, ch->want->id, &pid, d);
        if (r < 0)
                return r;
        return lxc_socket_attach(l, ch->want_ct, pid, d);
}

/* A creation that failed half-way leaves nothing behind. */
static int undo_create(LxcPlugin *l, uint32_t id, int cause, Diag *d) {
        _cleanup_(diag_done) Diag scratch = {};
        int r;

        if (!l->backend->exists(l, id))
                return cause;
        r = l->backend->destroy(l, id, &scratch);
        if (r < 0) {
                diag_error(d, "", "container %" PRIu32 " could not be removed after its creation failed: %s", id,
                           scratch.n_entries > 0 ? scratch.entries[0].message : strerror(-r));
                return cause;
        }
        diag_note(d, "", "container %" PRIu32 " was destroyed again because its creation failed", id);
        return cause;
}

static int create(LxcPlugin *l, const LxcChange *ch, Diag *d) {
        const LxcBackendOps *b = l->backend;
        const LxcSpec *w = ch->want;
        int r;

        if (!w->unprivileged)
                diag_warning(d, ch->want_ct->path, "creating privileged container %" PRIu32 ": root inside it is root on the host",
                             w->id);
        plugin_progress(&l->plugin, "creating container %" PRIu32 " (%s)", w->id, strna(ch->want_ct ? ch->want_ct->name : NULL));
        r = b->create(l, w, d);
        if (r >= 0 && w->tun)
                r = b->set_raw(l, w->id, lxc_tun_lines, true, d);
        if (r >= 0 && (ch->flags & LXC_DO_START))
                r = start(l, ch, d);
        if (r < 0) {
                diag_error(d, ch->want_ct->path, "creating container %" PRIu32 " failed", w->id);
                return undo_create(l, w->id, r, d);
        }
        return 0;
}

static int update(LxcPlugin *l, const LxcChange *ch, Diag *d) {
        const LxcBackendOps *b = l->backend;
        const LxcSpec *w = ch->want, *h = &ch->have->spec;
        int r = 0;

        if (ch->flags & LXC_DO_STOP_FIRST)
                r = b->stop(l, w->id, d);
        if (r >= 0 && (ch->flags & LXC_DO_SET))
                r = b->set(l, w, h, d);
        if (r >= 0 && (ch->flags & LXC_DO_RESIZE))
                r = b->resize(l, w->id, w->rootfs_mib, d);
        if (r >= 0 && (ch->flags & LXC_DO_RAW))
                r = b->set_raw(l, w->id, lxc_tun_lines, w->tun, d);
        if (r >= 0 && (ch->flags & LXC_DO_RESTART))
                r = b->stop(l, w->id, d);
        if (r >= 0 && (ch->flags & (LXC_DO_RESTART | LXC_DO_START)))
                r = start(l, ch, d);
        if (r < 0)
                diag_error(d, ch->want_ct->path, "changing container %" PRIu32 " failed", w->id);
        return r;
}

static int apply_one(LxcPlugin *l, const LxcChange *ch, Diag *d) {
        int r;

        switch (ch->kind) {
        case LXC_CHANGE_CREATE:
                return create(l, ch, d);
        case LXC_CHANGE_UPDATE:
                return update(l, ch, d);
        case LXC_CHANGE_RECREATE:
                r = l->backend->destroy(l, ch->have->id, d);
                if (r < 0) {
                        diag_error(d, ch->want_ct->path, "destroying container %" PRIu32 " to create it again failed",
                                   ch->have->id);
                        return r;
                }
                return create(l, ch, d);
        case LXC_CHANGE_DELETE:
                return l->backend->destroy(l, ch->have->id, d);
        default:
                return -EINVAL;
        }
}

int lxc_apply(LxcPlugin *l, ApplyCounts *counts, Diag *d) {
        int r = 0;

        if (l->n_changes == 0 && !lxc_socket_pending(l) && !lxc_services_pending(l) && !lxc_offload_pending(l))
                return 0;
        if (!l->backend)
                return -EOPNOTSUPP;

        l->counts = counts;
        /* Socket ports no longer used go first: a veth may take the name. */
        r = lxc_socket_apply(l, true, d);
        /* Nothing is destroyed before everything else has worked. */
        for (int destructive = 0; r >= 0 && destructive <= 1; destructive++)
                for (size_t i = 0; r >= 0 && i < l->n_changes; i++) {
                        const LxcChange *ch = &l->changes[i];

                        if ((ch->kind == LXC_CHANGE_RECREATE || ch->kind == LXC_CHANGE_DELETE) == destructive)
                                r = apply_one(l, ch, d);
                }
        if (r >= 0)
                r = lxc_offload_apply(l, d);
        if (r >= 0)
                r = lxc_socket_apply(l, false, d);
        if (r >= 0)
                r = lxc_services_apply(l, d);
        l->counts = NULL;
        return r;
}
