/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Containers' veths on bridges of Open vSwitch's userspace datapath
 * (datapath_type netdev, what "auto" picks without the kernel module).
 *
 * A container's kernel sends TCP and UDP with the checksum left to the
 * device when its interface offers transmit checksum offload, as a veth
 * does. The userspace datapath reads such a packet from the veth's other
 * end as it is and forwards it with the checksum never filled in: the
 * receiver drops it, so no TCP connection comes about and no UDP datagram
 * arrives. The offload has to be off on the container's side (the bridge's
 * side changes nothing). An OVS internal port (socket networking) is a tap
 * device without the offload and needs nothing.
 *
 * The plain LXC backend makes the veth from op-dbus's configuration, so
 * op-dbus turns the offload off itself (agent/lib/rtnl), after every start
 * and whenever a query finds it on again. Proxmox makes its containers'
 * veths itself: the plan warns, naming the port and the command that turns
 * it off. Only net0 is looked at: the interface op-dbus manages. */
#include <inttypes.h>
#include <stdio.h>

#include "lxc-backend.h"
#include "lxc-containers.h"
#include "lxc-link.h"
#include "lxc-offload.h"
#include "lxc-ovsdb.h"

typedef struct OffloadFound {
        uint32_t id;
        pid_t pid;
        char ifname[RTNL_IFNAME_SIZE];  /* in the container */
        char port[RTNL_IFNAME_SIZE];    /* on the bridge */
        char *bridge;
} OffloadFound;

struct LxcOffload {
        OffloadFound *found;          /* net0 of running containers with the offload on */
        size_t n_found;
        bool pending;                 /* the diff planned to turn it off somewhere */
};

void lxc_offload_done(LxcPlugin *l) {
        LxcOffload *o = l->offload;

        if (!o)
                return;
        for (size_t i = 0; i < o->n_found; i++)
                free(o->found[i].bridge);
        free(o->found);
        free(o);
        l->offload = NULL;
}

/* The bridge of a container's net0 when it is a userspace bridge. */
static const char *userspace_bridge(const LxcOvsView *v, const LxcProps *net0) {
        const char *name = lxc_props_get(net0, "bridge");
        const LxcOvsBridge *b = name && v ? lxc_ovs_find_bridge(v, name) : NULL;

        return b && b->userspace ? b->name : NULL;
}

/* ---- query ---------------------------------------------------------------- */

static int query_container(LxcPlugin *l, const LxcOvsView *v, const LxcLive *h) {
        _cleanup_(diag_done) Diag scratch = {};
        LxcOffload *o = l->offload;
        const char *bridge = userspace_bridge(v, &h->spec.net0);
        const char *ifname = lxc_props_get(&h->spec.net0, "name") ?: "eth0";
        OffloadFound *f;
        pid_t pid;
        int r;

        if (!h->running || !h->spec.has_net0 || !bridge || !rtnl_ifname_valid(ifname))
                return 0;
        /* A container that stopped meanwhile, or has no such interface,
         * sends nothing. */
        r = l->backend->pid(l, h->id, &pid, &scratch);
        if (r >= 0)
                r = lxc_link_get_tx_checksum(pid, ifname);
        if (r <= 0)
                return r == -ENOMEM ? r : 0;

        f = &o->found[o->n_found];
        *f = (OffloadFound) { .id = h->id, .pid = pid, .bridge = strdup(bridge) };
        if (!f->bridge)
                return -ENOMEM;
        o->n_found++;
        (void) snprintf(f->ifname, sizeof f->ifname, "%s", ifname);
        lxc_veth_port_name(h->id, streq_ptr(lxc_props_get(&h->spec.net0, "firewall"), "1"), f->port);
        return 0;
}

int lxc_offload_query(LxcPlugin *l, Diag *d) {
        const LxcOvsView *v = lxc_ovs_view(l);
        int r = 0;

        lxc_offload_done(l);
        l->offload = calloc(1, sizeof(LxcOffload));
        if (!l->offload || !(l->offload->found = calloc(l->n_have + 1, sizeof(OffloadFound))))
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < l->n_have; i++)
                r = query_container(l, v, &l->have[i]);
        return r;
}

/* ---- diff ----------------------------------------------------------------- */

/* The command an operator runs to turn the offload off in container id. */
static int fix_command(const LxcPlugin *l, uint32_t id, pid_t pid, const char *ifname, char **ret) {
        _cleanup_(freep) char *target = NULL;
        int r;

        if (l->backend->pid_expression)
                r = l->backend->pid_expression(id, &target);
        else
                r = asprintf(&target, "%d", (int) pid) < 0 ? -ENOMEM : 0;
        if (r < 0)
                return r;
        return asprintf(ret, "nsenter -t \"%s\" -n ethtool -K %s tx off", target, ifname) < 0 ? -ENOMEM : 0;
}

static int warn_found(const LxcPlugin *l, const OffloadFound *f, const LxcContainer *c, Diag *d) {
        _cleanup_(freep) char *cmd = NULL;
        int r;

        r = fix_command(l, f->id, f->pid, f->ifname, &cmd);
        if (r < 0)
                return r;
        diag_warning(d, c ? c->path : "plugins.lxc",
                     "container %" PRIu32 ": %s is on bridge %s, which uses Open vSwitch's userspace datapath, and %s "
                     "in the container sends with transmit checksum offload, so its TCP and UDP traffic through the "
                     "bridge is lost; turn the offload off (again after every start of the container): %s",
                     f->id, f->port, f->bridge, f->ifname, cmd);
        return 0;
}

/* Whether the apply starts the container (again): its veth is a new one. */
static bool starts(const LxcChange *ch, const LxcLive *h) {
        if (!ch || !(ch->flags & (LXC_DO_START | LXC_DO_RESTART)))
                return false;
        return !h || !h->running || (ch->flags & LXC_DO_RESTART) || ch->kind == LXC_CHANGE_RECREATE;
}

/* A Proxmox container this apply starts (or restarts) on a userspace
 * bridge: its new veth will send with the offload on. */
static int warn_start(const LxcPlugin *l, const LxcContainer *c, Diag *d) {
        const LxcChange *ch = lxc_find_change(l, c->id);
        const LxcLive *h = lxc_find_live(l, c->id);
        const LxcSpec *w = ch ? ch->want : NULL;
        _cleanup_(freep) char *cmd = NULL;
        const char *bridge;
        char port[RTNL_IFNAME_SIZE];
        int r;

        if (!w || !w->has_net0 || !starts(ch, h))
                return 0;
        bridge = userspace_bridge(lxc_ovs_view(l), &w->net0);
        if (!bridge || !l->backend->pid_expression)
                return 0;
        r = fix_command(l, c->id, 0, "eth0", &cmd);
        if (r < 0)
                return r;
        lxc_veth_port_name(c->id, streq_ptr(lxc_props_get(&w->net0, "firewall"), "1"), port);
        diag_warning(d, c->path,
                     "container %" PRIu32 " starts with %s on bridge %s, which uses Open vSwitch's userspace datapath: "
                     "its TCP and UDP traffic through the bridge is lost while eth0 in the container sends with "
                     "transmit checksum offload; once it runs, turn the offload off (again after every start): %s",
                     c->id, port, bridge, cmd);
        return 0;
}

int lxc_offload_diff(LxcPlugin *l, Plan *plan, Diag *d) {
        LxcOffload *o = l->offload;
        int r = 0;

        if (!o)
                return 0;
        o->pending = false;
        for (size_t i = 0; r >= 0 && i < o->n_found; i++) {
                const OffloadFound *f = &o->found[i];
                const LxcContainer *c = lxc_config_find(&l->want, f->id);
                const LxcLive *h = lxc_find_live(l, f->id);
                const LxcChange *ch = lxc_find_change(l, f->id);
                char path[64];

                /* gone or stopped after this apply: nothing to say */
                if ((ch && ch->kind == LXC_CHANGE_DELETE) || (c && !lxc_runs_after(c, h)))
                        continue;
                if (!l->backend->makes_veths || !c || !h || !h->owned || !lxc_container_has_veth(c)) {
                        /* restarted by this apply: warn_start() says it */
                        if (!starts(ch, h) || l->backend->makes_veths)
                                r = warn_found(l, f, c, d);
                        continue;
                }
                /* A container this apply stops, restarts or replaces: what
                 * runs afterwards is seen to after its start. */
                if (ch && (ch->kind != LXC_CHANGE_UPDATE || (ch->flags & (LXC_DO_STOP_FIRST | LXC_DO_RESTART))))
                        continue;
                (void) snprintf(path, sizeof path, "container/%" PRIu32 "/offload", f->id);
                r = plan_add(plan, "lxc", ACTION_MODIFY, IMPACT_NONE, path,
                             "%s: transmit checksum offload on -> off (bridge %s uses the userspace datapath)",
                             f->ifname, f->bridge);
                o->pending |= r >= 0;
        }
        for (size_t i = 0; r >= 0 && !l->backend->makes_veths && i < l->want.n_containers; i++)
                r = warn_start(l, &l->want.containers[i], d);
        return r;
}

bool lxc_offload_pending(const LxcPlugin *l) {
        return l->offload && l->offload->pending;
}

/* ---- apply ---------------------------------------------------------------- */

/* Whether c is one of op-dbus's plain LXC containers with net0 that runs
 * once the containers' changes are made. */
static bool runs_with_veth(const LxcPlugin *l, const LxcContainer *c) {
        const LxcLive *h = lxc_find_live(l, c->id);
        const LxcChange *ch = lxc_find_change(l, c->id);

        if (!lxc_container_has_veth(c) || (h && !h->owned && !(ch && ch->kind == LXC_CHANGE_RECREATE)))
                return false;
        return lxc_runs_after(c, h);
}

int lxc_offload_apply(LxcPlugin *l, Diag *d) {
        _cleanup_(lxc_ovs_view_done) LxcOvsView v = {};
        bool read = false;
        int r;

        if (!l->backend->makes_veths)
                return 0;
        for (size_t i = 0; i < l->want.n_containers; i++) {
                const LxcContainer *c = &l->want.containers[i];
                const LxcOvsBridge *b;
                pid_t pid;

                if (!runs_with_veth(l, c))
                        continue;
                /* Read now: the net plugin may just have made the bridge. */
                if (!read) {
                        r = lxc_ovs_read_view(l, &v, d);
                        if (r < 0)
                                return r;
                        read = true;
                }
                b = lxc_ovs_find_bridge(&v, c->network.bridge);
                if (!b || !b->userspace)
                        continue;
                r = l->backend->pid(l, c->id, &pid, d);
                if (r >= 0)
                        r = lxc_link_set_tx_checksum(pid, "eth0", false);
                if (r < 0) {
                        diag_error(d, c->path, "turning transmit checksum offload off on eth0 in container %" PRIu32
                                   " (bridge %s uses the userspace datapath) failed: %s", c->id, b->name, strerror(-r));
                        return r;
                }
                if (r > 0)
                        lxc_count_command(l);
        }
        return 0;
}
