/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pure part of the lxc plugin: the state's containers against the
 * node's, into changes and plan actions with their impact. No I/O here. */
#include <inttypes.h>
#include <stdio.h>

#include "host.h"
#include "json-util.h"
#include "lxc-backend.h"
#include "lxc-containers.h"
#include "lxc-offload.h"
#include "lxc-ovsdb.h"
#include "lxc-services.h"
#include "lxc-socket.h"
#include "strbuf.h"

/* What one container's update does, collected field by field. */
typedef struct Detail {
        StrBuf text;         /* "field old -> new, ..." */
        int rank;            /* highest impact rank seen */
        int rank_live;       /* ... of the changes made while the container runs (not at a restart) */
        bool replug;         /* the NIC is unplugged (or re-created) and plugged again */
        unsigned flags;      /* LXC_DO_* */
} Detail;

/* Impacts ordered by how much they disturb. */
static const Impact impact_rank[] = {
        IMPACT_NONE, IMPACT_PORT_FLAP, IMPACT_PORT_REMOVED, IMPACT_CONTAINER_RESTART, IMPACT_CONTAINER_LOSS,
};
enum { RANK_NONE, RANK_FLAP, RANK_REMOVED, RANK_RESTART, RANK_LOSS };

static void detail_done(Detail *t) {
        strbuf_done(&t->text);
}

static void detail_add(Detail *t, int rank, const char *field, const char *old, const char *new) {
        strbuf_printf(&t->text, "%s%s %s -> %s", t->text.len ? ", " : "", field,
                      old && *old ? old : "(unset)", new && *new ? new : "(unset)");
        t->rank = MAX(t->rank, rank);
        if (rank != RANK_RESTART)
                t->rank_live = MAX(t->rank_live, rank);
}

static void detail_int(Detail *t, int rank, const char *field, int64_t old, int64_t new) {
        char a[32] = "", b[32] = "";

        if (old >= 0)
                snprintf(a, sizeof a, "%" PRIi64, old);
        if (new >= 0)
                snprintf(b, sizeof b, "%" PRIi64, new);
        detail_add(t, rank, field, a, b);
}

void lxc_specs_done(LxcPlugin *l) {
        for (size_t i = 0; i < l->n_specs; i++)
                lxc_spec_done(&l->specs[i]);
        free(l->specs);
        l->specs = NULL;
        l->n_specs = 0;
        l->n_changes = 0;
}

static int add_change(LxcPlugin *l, LxcChangeKind kind, unsigned flags, const LxcContainer *c,
                      const LxcSpec *want, const LxcLive *have) {
        int r;

        r = greedy_realloc((void **) &l->changes, &l->allocated_changes, l->n_changes + 1, sizeof(LxcChange));
        if (r < 0)
                return r;
        l->changes[l->n_changes++] = (LxcChange) {
                .kind = kind, .flags = flags, .want_ct = c, .want = want, .have = have,
        };
        return 0;
}

static void action_path(uint32_t id, char ret[static 32]) {
        snprintf(ret, 32, "container/%" PRIu32, id);
}

/* net0 key by key: how Proxmox applies each change on a running
 * container (pct-contract §5). */
static void diff_net0(const LxcSpec *w, const LxcSpec *h, Detail *t) {
        static const char *const replug[] = { "name", "hwaddr", "bridge", "tag", "firewall", "link_down", NULL };
        static const char *const live[] = { "ip", "gw", "ip6", "gw6", "rate", NULL };
        _cleanup_(lxc_props_done) LxcProps keys = {};

        if (!w->has_net0 || !h->has_net0) {
                _cleanup_(freep) char *a = lxc_props_format(&h->net0, "name"), *b = lxc_props_format(&w->net0, "name");

                detail_add(t, w->has_net0 ? RANK_NONE : RANK_REMOVED, "net0", a, b);
                return;
        }
        for (size_t i = 0; i < w->net0.n; i++)
                (void) lxc_props_set(&keys, w->net0.items[i].key, "");
        for (size_t i = 0; i < h->net0.n; i++)
                if (!streq(h->net0.items[i].key, "hwaddr") || lxc_props_get(&w->net0, "hwaddr"))
                        (void) lxc_props_set(&keys, h->net0.items[i].key, "");

        for (size_t i = 0; i < keys.n; i++) {
                const char *k = keys.items[i].key, *a = lxc_props_get(&h->net0, k), *b = lxc_props_get(&w->net0, k);
                _cleanup_(freep) char *field = NULL;
                int rank = RANK_RESTART;

                if (streq_ptr(a, b) || asprintf(&field, "net0.%s", k) < 0)
                        continue;
                for (size_t j = 0; replug[j]; j++)
                        if (streq(k, replug[j])) {
                                rank = RANK_FLAP;
                                t->replug = true;
                        }
                for (size_t j = 0; live[j]; j++)
                        if (streq(k, live[j]))
                                rank = RANK_NONE;
                if (rank == RANK_RESTART)
                        t->flags |= LXC_DO_RESTART;
                detail_add(t, rank, field, a, b);
        }
}

static void diff_props(Detail *t, int rank, const char *field, const LxcProps *a, const LxcProps *b) {
        _cleanup_(freep) char *x = lxc_props_format(a, NULL), *y = lxc_props_format(b, NULL);

        detail_add(t, rank, field, x, y);
}

/* Proxmox unplugs only net0..net9 from a running container
 * (vmconfig_hotplug_pending: ^net(\d)$); the deletion of net10 and above
 * stays pending until the next start. */
static bool net_unplugged_at_once(const char *key) {
        return strlen(key) == strlen("net0");
}

static void diff_extra_nets(const LxcSpec *h, bool next_start_rules, Detail *t) {
        for (size_t i = 0; i < h->n_extra_nets; i++) {
                bool later = next_start_rules && !net_unplugged_at_once(h->extra_nets[i]);

                detail_add(t, later ? RANK_RESTART : RANK_REMOVED, h->extra_nets[i], "(set)",
                           later ? "(removed: op-dbus manages net0 only; Proxmox removes net10 and above at the next start)" :
                           "(removed: op-dbus manages net0 only)");
                if (later)
                        t->flags |= LXC_DO_RESTART;
        }
}

/* Options pct set changes. Ranks are for a running container; the ones
 * Proxmox keeps pending until the next start need a restart (with pct a
 * new hostname too: Proxmox sets it in the configuration, the container
 * gets it when it starts). */
static void diff_options(const LxcSpec *w, const LxcSpec *h, bool next_start_rules, Detail *t) {
        if (lxc_spec_field_differs(w, h, LXC_FIELD_HOSTNAME))
                detail_add(t, next_start_rules ? RANK_RESTART : RANK_NONE, "hostname", h->hostname, w->hostname);
        if (lxc_spec_field_differs(w, h, LXC_FIELD_MEMORY))
                detail_int(t, RANK_NONE, "memory", h->memory, w->memory);
        if (lxc_spec_field_differs(w, h, LXC_FIELD_SWAP))
                detail_int(t, RANK_NONE, "swap", h->swap, w->swap);
        if (lxc_spec_field_differs(w, h, LXC_FIELD_CORES))
                detail_int(t, RANK_NONE, "cores", h->cores, w->cores);
        if (lxc_spec_field_differs(w, h, LXC_FIELD_ONBOOT))
                detail_add(t, RANK_NONE, "onboot", h->onboot ? "1" : "0", w->onboot ? "1" : "0");
        if (lxc_spec_field_differs(w, h, LXC_FIELD_TAGS))
                detail_add(t, RANK_NONE, "tags", h->tags, w->tags);
        if (!streq_ptr(w->template, h->template))
                /* a new name for the same file, or no record yet: only the record changes */
                detail_add(t, RANK_NONE, "template record", h->template ?: "(none)", w->template);
        else if (lxc_spec_field_differs(w, h, LXC_FIELD_DESCRIPTION))
                detail_add(t, RANK_NONE, "description", "(edited)", "(op-dbus's record)");
        if (lxc_spec_field_differs(w, h, LXC_FIELD_FEATURES))
                diff_props(t, RANK_RESTART, "features", &h->features, &w->features);
        if (lxc_spec_field_differs(w, h, LXC_FIELD_NAMESERVER))
                detail_add(t, RANK_RESTART, "nameserver", h->nameserver, w->nameserver);
        if (lxc_spec_field_differs(w, h, LXC_FIELD_SEARCHDOMAIN))
                detail_add(t, RANK_RESTART, "searchdomain", h->searchdomain, w->searchdomain);
        if (t->rank >= RANK_RESTART)
                t->flags |= LXC_DO_RESTART;
        if (lxc_spec_field_differs(w, h, LXC_FIELD_NET0))
                diff_net0(w, h, t);
        diff_extra_nets(h, next_start_rules, t);
        if (t->text.len)
                t->flags |= LXC_DO_SET;
}

/* Everything an update changes, for a container that exists. */
static void diff_update(const LxcPlugin *l, const LxcContainer *c, const LxcSpec *w, const LxcLive *h, Detail *t) {
        bool after = lxc_runs_after(c, h);

        diff_options(w, &h->spec, l->backend->next_start_rules, t);
        if (w->rootfs_mib > h->spec.rootfs_mib && h->spec.rootfs_mib >= 0) {
                detail_int(t, RANK_NONE, "rootfs size (MiB)", h->spec.rootfs_mib, w->rootfs_mib);
                t->flags |= LXC_DO_RESIZE;
        }
        if (w->tun != h->spec.tun || h->spec.tun_partial) {
                detail_add(t, RANK_RESTART, "TUN device", h->spec.tun ? "on" : h->spec.tun_partial ? "partly" : "off",
                           w->tun ? "on" : "off");
                t->flags |= LXC_DO_RAW | LXC_DO_RESTART;
        }
        /* Changes to a container that is not running disturb nothing. */
        if (!h->running || !after) {
                t->rank = RANK_NONE;
                t->replug = false;
                t->flags &= ~LXC_DO_RESTART;
        }
        if (h->running && !after) {
                detail_add(t, RANK_RESTART, "state", "running", "stopped");
                t->flags |= LXC_DO_STOP_FIRST;
        } else if (!h->running && after) {
                detail_add(t, RANK_NONE, "state", "stopped", "running");
                t->flags |= LXC_DO_START;
        }
        if (h->ha_managed && (t->flags & LXC_DO_RESTART)) {
                /* HA decides when it starts: op-dbus does not restart it */
                t->flags &= ~LXC_DO_RESTART;
                t->rank = t->rank_live;
                strbuf_puts(&t->text, "; takes effect when the container starts again, which is up to Proxmox HA");
        }
        if (t->flags & LXC_DO_RESTART)
                strbuf_puts(&t->text, "; restarts the container for it");
}

/* A container Proxmox HA manages: whether it runs is HA's to decide (pct
 * start/shutdown would only queue a request with HA and return), so a
 * state that wants it otherwise only gets a warning with the command that
 * asks HA. */
static void warn_ha_run_state(const LxcContainer *c, const LxcLive *h, Diag *d) {
        bool want_running = c->state == LXC_RUN_STATE_RUNNING;

        if (!h->ha_managed || c->state == LXC_RUN_STATE_UNSET || want_running == h->running)
                return;
        diag_warning(d, c->path, "container %" PRIu32 " is managed by Proxmox HA, which decides whether it runs: it is %s, "
                     "the state says %s; op-dbus leaves it to HA (`ha-manager set ct:%" PRIu32 " --state %s`)",
                     c->id, h->running ? "running" : "stopped", want_running ? "running" : "stopped", c->id,
                     want_running ? "started" : "stopped");
}

/* Why the container has to be destroyed and created again, if it does. */
static int recreate_reasons(const LxcSpec *w, const LxcLive *h, StrBuf *why) {
        const LxcSpec *hs = &h->spec;

        if (w->unprivileged != hs->unprivileged)
                strbuf_printf(why, "%sunprivileged %d -> %d", why->len ? ", " : "", hs->unprivileged, w->unprivileged);
        if (w->storage && hs->storage && !streq(w->storage, hs->storage))
                strbuf_printf(why, "%srootfs storage %s -> %s", why->len ? ", " : "", hs->storage, w->storage);
        if (w->template && hs->template && !streq(w->template, hs->template) && !streq_ptr(w->volume, hs->volume))
                strbuf_printf(why, "%stemplate %s -> %s", why->len ? ", " : "", hs->template, w->template);
        return why->error;
}

/* Proxmox grows volumes but never shrinks them, and destroying a container
 * to get a smaller disk would lose its data (a rollback after a resize
 * would do exactly that): a smaller rootfs_size leaves the disk as it is. */
static void warn_shrink(const LxcContainer *c, const LxcSpec *w, const LxcLive *h, Diag *d) {
        _cleanup_(freep) char *sp = NULL;

        if (w->rootfs_mib < 0 || h->spec.rootfs_mib < 0 || w->rootfs_mib >= h->spec.rootfs_mib)
                return;
        sp = json_path_key(c->path, "properties.rootfs_size");
        diag_warning(d, sp ?: c->path, "the root file system of container %" PRIu32 " has %" PRIi64 " MiB, more than the "
                     "%" PRIi64 " MiB the state asks for; a volume is never shrunk, so it stays as it is",
                     c->id, h->spec.rootfs_mib, w->rootfs_mib);
}

static void warn_privileged(const LxcContainer *c, Diag *d) {
        if (c->properties.unprivileged != LXC_FALSE)
                return;
        diag_warning(d, c->path, "container %" PRIu32 " is created privileged: its root user is root on the host, "
                     "so a process that escapes it (through a kernel or LXC flaw, a writable /proc or /sys file, "
                     "a device node or a bind mount) controls the whole node and every other guest on it",
                     c->id);
}

static int hold(Plan *plan, ActionKind kind, Impact impact, const char *path, const char *detail) {
        int r = plan_add(plan, "lxc", kind, impact, path, "%s (drift: report, left as it is)", detail);

        if (r >= 0)
                plan_hold_last(plan);
        return r;
}

static int diff_existing(LxcPlugin *l, const LxcContainer *c, const LxcSpec *w, const LxcLive *h,
                         Plan *plan, Diag *d) {
        _cleanup_(strbuf_done) StrBuf why = {};
        _cleanup_(detail_done) Detail t = {};
        char path[32];
        int r;

        action_path(c->id, path);
        warn_ha_run_state(c, h, d);
        warn_shrink(c, w, h, d);
        r = recreate_reasons(w, h, &why);
        if (r < 0)
                return r;
        if (why.len > 0 && h->ha_managed) {
                diag_error(d, c->path, "container %" PRIu32 " would have to be destroyed and created again (%s), but Proxmox HA "
                           "manages it, and destroying it would remove it from HA; remove it from HA first "
                           "(`ha-manager remove ct:%" PRIu32 "`), or keep its settings",
                           c->id, why.s, c->id);
                return -EINVAL;
        }
        if (why.len == 0) {
                diff_update(l, c, w, h, &t);
                if (t.text.error)
                        return t.text.error;
                if (t.text.len == 0)
                        return 0;
        }
        if (h->lock) {
                diag_error(d, c->path, "container %" PRIu32 " is locked (%s) and cannot be changed now; try again when the lock is gone",
                           c->id, h->lock);
                return -EINVAL;
        }
        if (lxc_held(l, c))
                return hold(plan, why.len ? ACTION_RECREATE : t.replug ? ACTION_REPLUG : ACTION_MODIFY,
                            why.len ? IMPACT_CONTAINER_LOSS : impact_rank[t.rank], path, why.len ? why.s : t.text.s);
        if (why.len == 0) {
                r = add_change(l, LXC_CHANGE_UPDATE, t.flags, c, w, h);
                if (r < 0)
                        return r;
                return plan_add(plan, "lxc", t.replug ? ACTION_REPLUG : ACTION_MODIFY, impact_rank[t.rank], path,
                                "%s", t.text.s);
        }
        if (!w->volume) {
                diag_error(d, c->path, "container %" PRIu32 " has to be created again (%s), which needs its template",
                           c->id, why.s);
                return -EINVAL;
        }
        warn_privileged(c, d);
        r = add_change(l, LXC_CHANGE_RECREATE, lxc_runs_after(c, h) ? LXC_DO_START : 0, c, w, h);
        if (r >= 0)
                r = plan_add(plan, "lxc", ACTION_RECREATE, IMPACT_CONTAINER_LOSS, path,
                             "%s: destroyed and created again from %s%s%s, its data is lost", why.s, w->volume,
                             w->storage ? " on storage " : "", w->storage ?: "");
        if (r >= 0)
                r = plan_set_outage(plan, "destroy container %" PRIu32 "%s and the data on its disks",
                                    c->id, h->running ? " (running)" : "");
        return r;
}

static int diff_new(LxcPlugin *l, const LxcContainer *c, const LxcSpec *w, Plan *plan, Diag *d) {
        bool start = lxc_runs_after(c, NULL);
        char path[32];
        int r;

        action_path(c->id, path);
        if (!w->volume) {
                _cleanup_(freep) char *tp = json_path_key(c->path, "template");

                diag_error(d, tp ?: c->path, "container %" PRIu32 " does not exist; creating it needs a template, such as \"debian-12\"",
                           c->id);
                return -EINVAL;
        }
        warn_privileged(c, d);
        r = add_change(l, LXC_CHANGE_CREATE, start ? LXC_DO_START : 0, c, w, NULL);
        if (r < 0)
                return r;
        return plan_add(plan, "lxc", ACTION_CREATE, IMPACT_NONE, path, "from %s%s%s%s", w->volume,
                        w->storage ? " on storage " : "", w->storage ?: "", start ? ", then started" : "");
}

/* The container id is free for op-dbus, or ours. */
static int check_conflicts(const LxcPlugin *l, const LxcContainer *c, const LxcLive *h, Diag *d) {
        if (h && !h->owned) {
                diag_error(d, c->path, "container %" PRIu32 " already exists and was not created by op-dbus (%s); "
                           "op-dbus does not take over containers it did not create: use another id, or remove the existing container",
                           c->id, l->backend->not_owned);
                return -EINVAL;
        }
        for (size_t i = 0; !h && i < l->n_taken; i++)
                if (l->taken[i].id == c->id) {
                        diag_error(d, c->path, "id %" PRIu32 " is already used by a %s on node %s; container ids are unique in the cluster",
                                   c->id, streq(l->taken[i].what, "VM") ? "virtual machine" : "container", l->taken[i].node);
                        return -EINVAL;
                }
        return 0;
}

/* Network settings Proxmox cannot carry out as written. */
static int check_network(const PluginContext *ctx, const LxcContainer *c, Diag *d) {
        _cleanup_(freep) char *np = json_path_key(c->path, "network"), *pp = NULL;
        const LxcNetwork *n = &c->network;
        char port[16];

        if (!np)
                return -ENOMEM;
        if (!c->has_network)
                return 0;
        if (n->socket_networking == LXC_TRUE)
                return lxc_socket_check(ctx, c, d) < 0 ? -EINVAL : 0;
        if (n->veth == LXC_TRUE && !n->bridge) {
                diag_error(d, np, "a veth interface needs \"bridge\"");
                return -EINVAL;
        }
        if (!lxc_container_has_veth(c) || !n->port_name)
                return 0;
        lxc_veth_port_name(c->id, n->firewall == LXC_TRUE, port);
        if (streq(n->port_name, port))
                return 0;
        pp = json_path_key(np, "port_name");
        diag_error(d, pp ?: np, "Proxmox names this container's port on %s \"%s\"%s; set port_name to that or leave it out",
                   n->bridge, port, n->firewall == LXC_TRUE ? " (the firewall bridge's link)" : "");
        return -EINVAL;
}

/* The template volume the container is created from, if it has to be
 * resolved: for a new container, or a changed template name. */
static int resolve_template(const LxcPlugin *l, const LxcContainer *c, const LxcLive *h, char **ret, Diag *d) {
        const char *req = lxc_requested_template(c);
        _cleanup_(freep) char *hint = NULL, *tp = json_path_key(c->path, c->template ? "template" : "properties.template");
        int r;

        *ret = NULL;
        if (c->template && c->properties.template && !streq(c->template, c->properties.template)) {
                _cleanup_(freep) char *pp = json_path_key(c->path, "properties.template");

                diag_warning(d, pp ?: c->path, "\"%s\" is ignored: the container's \"template\" (\"%s\") is used",
                             c->properties.template, c->template);
        }
        if (!req)
                return 0;
        if (h && streq_ptr(h->spec.template, req) && h->spec.volume)
                return (*ret = strdup(h->spec.volume)) ? 0 : -ENOMEM;
        r = lxc_template_resolve(&l->templates, req, ret, &hint);
        if (r == 0 && !h) {
                diag_error(d, tp ?: c->path, "%s", hint);
                return -EINVAL;
        }
        if (r == 0)
                diag_note(d, tp ?: c->path, "%s (needed only if the container has to be created again)", hint);
        return r < 0 ? r : 0;
}

static bool ct_storage_listed(const LxcPlugin *l, const char *storage) {
        for (size_t i = 0; i < l->n_ct_storages; i++)
                if (streq(l->ct_storages[i], storage))
                        return true;
        return false;
}

static char *ct_storage_list(const LxcPlugin *l) {
        StrBuf b = {};

        for (size_t i = 0; i < l->n_ct_storages; i++)
                strbuf_printf(&b, "%s%s", i ? ", " : "", l->ct_storages[i]);
        if (l->n_ct_storages == 0)
                strbuf_puts(&b, "none");
        return strbuf_take(&b);
}

/* The storage a container is created on (pct): the one the state names,
 * which must be able to hold containers, else the node's only storage that
 * can (`pvesm status --content rootdir`); with several the state has to
 * say. *ret: the chosen one, NULL when the state or the live container
 * decides (or the backend has no storages). */
static int choose_storage(const LxcPlugin *l, const LxcContainer *c, const LxcLive *h, const char **ret, Diag *d) {
        const char *named = c->properties.storage;
        _cleanup_(freep) char *sp = json_path_key(c->path, "properties.storage"), *list = NULL;

        *ret = NULL;
        if (!l->backend->ct_storages || (h && (!named || streq_ptr(named, h->spec.storage))))
                return 0; /* nothing is created on a storage */
        if (!sp)
                return -ENOMEM;
        if (!l->ct_storages_read && named)
                return 0; /* cannot be checked: pct create will tell */
        if (!l->ct_storages_read) {
                diag_error(d, sp, "cannot tell which storage to create container %" PRIu32 " on (%s); name it in \"storage\"",
                           c->id, strna(l->ct_storages_error));
                return -EINVAL;
        }
        if (!(list = ct_storage_list(l)))
                return -ENOMEM;
        if (named && !ct_storage_listed(l, named)) {
                diag_error(d, sp, "storage \"%s\" cannot hold containers on this node; `pvesm status --content rootdir` lists %s",
                           named, list);
                return -EINVAL;
        }
        if (named)
                return 0;
        if (l->n_ct_storages == 1) {
                *ret = l->ct_storages[0];
                return 0;
        }
        if (l->n_ct_storages == 0)
                diag_error(d, sp, "no storage of this node can hold containers (`pvesm status --content rootdir` lists none); "
                           "add one with content \"rootdir\" (pvesm set <storage> --content rootdir,...)");
        else
                diag_error(d, sp, "this node has %zu storages that can hold containers (%s); name the one for container %" PRIu32 " in \"storage\"",
                           l->n_ct_storages, list, c->id);
        return -EINVAL;
}

/* The container's bridge exists (an Open vSwitch bridge or a Linux
 * bridge) or the same document's net section declares it: otherwise the
 * plan would only fail when Proxmox starts the container. */
static int check_bridge(const LxcPlugin *l, const LxcContainer *c, Diag *d) {
        _cleanup_(freep) char *bp = NULL, *bridges = NULL;
        const char *bridge = c->has_network ? c->network.bridge : NULL;
        int r;

        if (!bridge || c->network.bridge_declared)
                return 0;
        r = lxc_bridge_exists(l, bridge, &bridges);
        if (r == -ENODATA || r > 0)
                return 0; /* exists, or nothing to tell */
        if (r < 0)
                return r;
        bp = json_path_key(c->path, "network.bridge");
        diag_error(d, bp ?: c->path, "bridge \"%s\" does not exist (neither an Open vSwitch bridge nor a network "
                   "device of this host) and plugins.net does not declare it; %s%s", bridge,
                   bridges && bridges[0] ? "the Open vSwitch bridges here are: " : "there are no Open vSwitch bridges here",
                   bridges ?: "");
        return -EINVAL;
}

static int diff_container(LxcPlugin *l, size_t i, Plan *plan, Diag *d) {
        const LxcContainer *c = &l->want.containers[i];
        const LxcLive *h = lxc_find_live(l, c->id);
        _cleanup_(freep) char *volume = NULL;
        const char *storage = NULL;
        int r, ret;

        ret = check_conflicts(l, c, h, d);
        RET_GATHER(ret, check_network(l->plugin.ctx, c, d));
        RET_GATHER(ret, choose_storage(l, c, h, &storage, d));
        if (ret == -ENOMEM)
                return ret;
        r = check_bridge(l, c, d);
        if (r == -ENOMEM)
                return r;
        RET_GATHER(ret, r);
        r = resolve_template(l, c, h, &volume, d);
        if (r == -ENOMEM)
                return r;
        RET_GATHER(ret, r);
        if (ret < 0)
                return ret;

        r = lxc_spec_from_container(c, h, volume, storage, &l->specs[i]);
        if (r < 0)
                return r;
        return h ? diff_existing(l, c, &l->specs[i], h, plan, d) : diff_new(l, c, &l->specs[i], plan, d);
}

/* Containers op-dbus created that the state no longer lists. */
static int diff_unlisted(LxcPlugin *l, Plan *plan, Diag *d) {
        int r;

        for (size_t i = 0; i < l->n_have; i++) {
                const LxcLive *h = &l->have[i];
                char path[32];

                if (!h->owned || lxc_config_find(&l->want, h->id))
                        continue;
                if (l->want.prune && h->ha_managed) {
                        diag_warning(d, "plugins.lxc.containers", "container %" PRIu32 " (%s) was created by op-dbus and is no longer in the state, "
                                     "but Proxmox HA manages it; it is left as it is (remove it from HA, `ha-manager remove ct:%" PRIu32 "`, "
                                     "for prune to destroy it)", h->id, h->spec.hostname, h->id);
                        continue;
                }
                if (!l->want.prune) {
                        diag_warning(d, "plugins.lxc.containers", "container %" PRIu32 " (%s) was created by op-dbus and is no longer in the state; "
                                     "it is left as it is (set \"prune\": true to destroy it)", h->id, h->spec.hostname);
                        continue;
                }
                action_path(h->id, path);
                r = add_change(l, LXC_CHANGE_DELETE, 0, NULL, NULL, h);
                if (r >= 0)
                        r = plan_add(plan, "lxc", ACTION_DELETE, IMPACT_CONTAINER_LOSS, path,
                                     "no longer in the state (prune): destroyed%s", h->running ? ", after it is stopped" : "");
                if (r >= 0)
                        r = plan_set_outage(plan, "destroy container %" PRIu32 "%s and the data on its disks",
                                            h->id, h->running ? " (running)" : "");
                if (r < 0)
                        return r;
        }
        return 0;
}

int lxc_diff(LxcPlugin *l, Plan *plan, Diag *d) {
        int r, ret = 0;

        lxc_specs_done(l);
        if (!l->backend) {
                if (l->want.n_containers == 0 && !l->want.prune)
                        return 0;
                diag_error(d, "plugins.lxc.backend", "%s", strna(l->backend_missing));
                return -EINVAL;
        }
        if (!l->have_queried)
                return -ESTALE;

        l->specs = calloc(l->want.n_containers + 1, sizeof(LxcSpec));
        if (!l->specs)
                return -ENOMEM;
        l->n_specs = l->want.n_containers;
        for (size_t i = 0; i < l->want.n_containers; i++) {
                r = diff_container(l, i, plan, d);
                if (r == -ENOMEM)
                        return r;
                RET_GATHER(ret, r);
        }
        RET_GATHER(ret, diff_unlisted(l, plan, d));
        r = lxc_socket_diff(l, plan, d);
        if (r == -ENOMEM)
                return r;
        RET_GATHER(ret, r);
        if (ret < 0)
                return ret;
        r = lxc_offload_diff(l, plan, d);
        if (r < 0)
                return r;
        return lxc_services_diff(l, plan, d);
}
