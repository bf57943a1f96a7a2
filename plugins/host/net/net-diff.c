/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pure part of the net plugin: desired vs live into changes and plan
 * actions. No I/O here. */
#include <stdio.h>

#include "host.h"
#include "json-util.h"
#include "net.h"

/* Collects "field old -> new" fragments for one object. */
typedef struct Detail {
        FILE *f;
        char *buf;
        size_t len;
        int n;
        int rank;            /* highest impact rank seen */
} Detail;

/* Impacts ordered by how much they disturb traffic. */
static const Impact impact_rank[] = { IMPACT_NONE, IMPACT_FLOW_CHANGE, IMPACT_PORT_FLAP, IMPACT_BRIDGE_OUTAGE };

static int detail_open(Detail *t) {
        *t = (Detail) {};
        t->f = open_memstream(&t->buf, &t->len);
        return t->f ? 0 : -ENOMEM;
}

static void detail_done(Detail *t) {
        if (t->f)
                fclose(t->f);
        free(t->buf);
}

static void detail_add(Detail *t, int rank, const char *field, const char *old, const char *new) {
        fprintf(t->f, "%s%s %s -> %s", t->n++ ? ", " : "", field, old, new);
        t->rank = MAX(t->rank, rank);
}

static const char *detail_text(Detail *t) {
        fflush(t->f);
        return t->buf ?: "";
}

static const char *str_or_unset(const char *s) {
        return s && s[0] ? s : "(unset)";
}

static void detail_str(Detail *t, int rank, const char *field, const char *old, const char *new) {
        if (!streq_ptr(old, new))
                detail_add(t, rank, field, str_or_unset(old), str_or_unset(new));
}

static void detail_int(Detail *t, int rank, const char *field, int64_t old, int64_t new) {
        char a[32] = "(unset)", b[32] = "(unset)";

        if (old == new)
                return;
        if (old >= 0)
                snprintf(a, sizeof a, "%lld", (long long) old);
        if (new >= 0)
                snprintf(b, sizeof b, "%lld", (long long) new);
        detail_add(t, rank, field, a, b);
}

static void detail_bool(Detail *t, int rank, const char *field, bool old, bool new) {
        if (old != new)
                detail_add(t, rank, field, old ? "true" : "false", new ? "true" : "false");
}

static void detail_map(Detail *t, int rank, const char *field, json_object *old, json_object *new) {
        if (!json_object_equal(old, new))
                detail_add(t, rank, field, json_object_to_json_string(old), json_object_to_json_string(new));
}

static int add_change(NetPlugin *n, NetChangeKind kind, const NetBridge *wb, const NetBridge *hb,
                      const NetPort *wp, const NetPort *hp) {
        int r;

        r = greedy_realloc((void **) &n->changes, &n->allocated_changes, n->n_changes + 1, sizeof(NetChange));
        if (r < 0)
                return r;
        n->changes[n->n_changes++] = (NetChange) {
                .kind = kind, .want_bridge = wb, .have_bridge = hb, .want_port = wp, .have_port = hp,
        };
        return 0;
}

/* While healing, drift on an object whose policy is "report" is listed
 * (held) but not repaired. */
static bool held(const NetPlugin *n, const NetPort *w, const NetBridge *wb) {
        int policy = w ? w->drift : NET_DRIFT_UNSET;

        if (!n->plugin.ctx->healing)
                return false;
        if (policy == NET_DRIFT_UNSET && wb)
                policy = wb->drift;
        return policy == NET_DRIFT_REPORT;
}

static int hold(Plan *plan, ActionKind kind, Impact impact, const char *path, const char *detail) {
        int r = plan_add(plan, "net", kind, impact, path, "%s (drift: report, left as it is)", detail);

        if (r >= 0)
                plan_hold_last(plan);
        return r;
}

static const char *effective_datapath(const NetPlugin *n, const char *want) {
        return streq(want, "auto") ? n->auto_datapath : want;
}

static int diff_bridge_settings(const NetPlugin *n, const NetBridge *w, const NetBridge *h, Detail *t) {
        const char *have_dp = h->datapath_type[0] ? h->datapath_type : "system";

        if (!streq(w->datapath_type, "auto"))
                detail_str(t, 3, "datapath_type", have_dp, w->datapath_type);
        detail_str(t, 1, "fail_mode", h->fail_mode, w->fail_mode);
        detail_bool(t, 1, "stp_enable", h->stp_enable, w->stp_enable);
        detail_bool(t, 1, "rstp_enable", h->rstp_enable, w->rstp_enable);
        detail_map(t, 1, "other_config", h->other_config, w->other_config);
        detail_map(t, 0, "external_ids", h->external_ids, w->external_ids);
        return t->n;
}

static int cmp_name(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Sorts the n names and writes them ", "-separated into t, the first max
 * of them and then "and N more". */
static void detail_names(Detail *t, const char **names, size_t n, size_t max) {
        qsort(names, n, sizeof(char *), cmp_name);
        for (size_t i = 0; i < n && i < max; i++)
                fprintf(t->f, "%s%s", i ? ", " : "", names[i]);
        if (n > max)
                fprintf(t->f, " and %zu more", n - max);
}

/* A bridge is also a network device of its name: one that exists already
 * and is no Open vSwitch bridge or port (a NIC such as eth0, a Linux
 * bridge) cannot be one, and is most likely a slip of the pen. */
static int netdev_clash(const NetPlugin *n, const NetBridge *w, Diag *d) {
        _cleanup_(freep) const char **names = calloc(n->have.n_bridges + 1, sizeof(char *));
        _cleanup_(freep) char *np = json_path_key(w->path, "name");
        _cleanup_(detail_done) Detail t = {};
        int r;

        if (!names)
                return -ENOMEM;
        r = detail_open(&t);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n->have.n_bridges; i++)
                names[i] = n->have.bridges[i].name;
        detail_names(&t, names, n->have.n_bridges, SIZE_MAX);
        diag_error(d, np ?: w->path, "\"%s\" is a network device of this host that is not an Open vSwitch bridge "
                   "(a NIC, a Linux bridge, ...): a bridge cannot have its name; %s%s", w->name,
                   n->have.n_bridges > 0 ? "the Open vSwitch bridges here are: " : "there are no Open vSwitch bridges here",
                   detail_text(&t));
        return -EINVAL;
}

static int diff_bridge(NetPlugin *n, const NetBridge *w, Plan *plan, Diag *d) {
        const NetBridge *h = net_model_find_bridge(&n->have, w->name);
        _cleanup_(detail_done) Detail t = {};
        char path[64];
        int r;

        if (w->keep_only)
                return 0; /* the openflow plugin reports one that does not exist */
        snprintf(path, sizeof path, "bridge/%s", w->name);
        if (!h) {
                const NetPort *clash = net_model_find_port(&n->have, w->name);

                if (clash) {
                        diag_error(d, w->path, "cannot create bridge \"%s\": a port of that name exists on bridge %s",
                                   w->name, clash->bridge);
                        return -EINVAL;
                }
                if (ovs_netdevs_has(&n->netdevs, w->name))
                        return netdev_clash(n, w, d);
                if (streq(w->datapath_type, "auto"))
                        diag_note(d, w->path, "datapath_type auto: using %s (%s)", n->auto_datapath,
                                  streq(n->auto_datapath, "system") ? "the kernel datapath is available" :
                                  "the kernel datapath is not available");
                r = add_change(n, NET_BRIDGE_CREATE, w, NULL, NULL, NULL);
                if (r < 0)
                        return r;
                return plan_add(plan, "net", ACTION_CREATE, IMPACT_NONE, path, "datapath_type %s",
                                effective_datapath(n, w->datapath_type));
        }

        r = detail_open(&t);
        if (r < 0)
                return r;
        if (h->tags_missing)
                detail_add(&t, 0, "ownership tags", "(wiped)", "restored");
        if (diff_bridge_settings(n, w, h, &t) == 0)
                return 0;

        if (h->owned && held(n, NULL, w))
                return hold(plan, ACTION_MODIFY, impact_rank[t.rank], path, detail_text(&t));
        if (!h->owned) {
                if (w->has_settings)
                        diag_warning(d, w->path, "bridge \"%s\" was not created by op-dbus; its settings are left as they are (%s)",
                                     w->name, detail_text(&t));
                return 0;
        }
        r = add_change(n, NET_BRIDGE_MODIFY, w, h, NULL, NULL);
        if (r < 0)
                return r;
        return plan_add(plan, "net", ACTION_MODIFY, impact_rank[t.rank], path, "%s", detail_text(&t));
}

#define OUTAGE_PORTS_LISTED 8

/* Deleting a bridge removes its ports: any port but the bridge's own local
 * one (op-dbus's, or a guest's veth/tap, or one made by hand) carries
 * traffic that the deletion cuts off, which needs the caller's consent. */
static int delete_bridge(NetPlugin *n, const NetBridge *h, Plan *plan) {
        _cleanup_(freep) const char **names = calloc(n->have.n_ports + 1, sizeof(char *));
        _cleanup_(detail_done) Detail t = {};
        size_t ports = 0;
        char path[64];
        int r;

        if (!names)
                return -ENOMEM;
        r = detail_open(&t);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n->have.n_ports; i++)
                if (streq(n->have.ports[i].bridge, h->name))
                        names[ports++] = n->have.ports[i].name;
        detail_names(&t, names, ports, OUTAGE_PORTS_LISTED);

        snprintf(path, sizeof path, "bridge/%s", h->name);
        r = add_change(n, NET_BRIDGE_DELETE, NULL, h, NULL, NULL);
        if (r >= 0)
                r = plan_add(plan, "net", ACTION_DELETE, IMPACT_BRIDGE_OUTAGE, path,
                             "no longer in the state; removed with its %zu port%s", ports, ports == 1 ? "" : "s");
        if (r >= 0 && ports > 0)
                r = plan_set_outage(plan, "cut off the traffic of its port%s %s", ports == 1 ? "" : "s",
                                    detail_text(&t));
        return r;
}

static int diff_port_columns(const NetPort *w, const NetPort *h, Detail *t) {
        _cleanup_(freep) char *ht = net_trunks_to_string(h), *wt = net_trunks_to_string(w);

        detail_str(t, 2, "type", h->type[0] ? h->type : "system", w->type[0] ? w->type : "system");
        detail_int(t, 1, "tag", h->tag, w->tag);
        if (!net_trunks_equal(h, w))
                detail_add(t, 1, "trunks", ht ?: "?", wt ?: "?");
        detail_str(t, 1, "vlan_mode", h->vlan_mode, w->vlan_mode);
        detail_int(t, 2, "mtu_request", h->mtu_request, w->mtu_request);
        detail_map(t, 2, "options", h->options, w->options);
        detail_map(t, 0, "external_ids", h->external_ids, w->external_ids);
        return t->n;
}

static int port_conflict(const NetPlugin *n, const NetPort *w, const NetPort *h, Diag *d) {
        if (h && !h->owned) {
                diag_error(d, w->path, "port \"%s\" already exists on bridge %s and was not created by op-dbus; "
                           "op-dbus does not take over ports it does not own (rename the port in the state or remove the existing one)",
                           w->name, h->bridge);
                return -EINVAL;
        }
        if (!h && net_model_find_bridge(&n->have, w->name)) {
                diag_error(d, w->path, "cannot create port \"%s\": a bridge of that name exists", w->name);
                return -EINVAL;
        }
        return 0;
}

static int diff_port(NetPlugin *n, const NetPort *w, Plan *plan, Diag *d) {
        const NetPort *h = net_model_find_port(&n->have, w->name);
        const NetBridge *hb = net_model_find_bridge(&n->have, w->bridge);
        _cleanup_(detail_done) Detail t = {};
        NetChangeKind kind;
        ActionKind action;
        char path[96];
        int r;

        r = port_conflict(n, w, h, d);
        if (r < 0)
                return r;

        snprintf(path, sizeof path, "bridge/%s/port/%s", w->bridge, w->name);
        if (!h && held(n, w, net_model_find_bridge(&n->want, w->bridge)))
                return hold(plan, ACTION_CREATE, IMPACT_NONE, path, "missing");
        if (!h) {
                r = add_change(n, NET_PORT_CREATE, NULL, hb, w, NULL);
                if (r < 0)
                        return r;
                return plan_add(plan, "net", ACTION_CREATE, IMPACT_NONE, path, "type %s",
                                w->type[0] ? w->type : "system");
        }

        r = detail_open(&t);
        if (r < 0)
                return r;
        if (h->tags_missing)
                detail_add(&t, 0, "ownership tags", "(wiped)", "restored");
        diff_port_columns(w, h, &t);

        if (!streq(h->bridge, w->bridge)) {
                kind = streq(h->type, w->type) ? NET_PORT_REPLUG : NET_PORT_RECREATE;
                action = streq(h->type, w->type) ? ACTION_REPLUG : ACTION_RECREATE;
                r = add_change(n, kind, NULL, hb, w, h);
                if (r < 0)
                        return r;
                return plan_add(plan, "net", action, IMPACT_PORT_FLAP, path, "moves from bridge %s%s%s",
                                h->bridge, t.n ? "; " : "", detail_text(&t));
        }
        if (t.n == 0)
                return 0;
        if (held(n, w, net_model_find_bridge(&n->want, w->bridge)))
                return hold(plan, ACTION_MODIFY, impact_rank[t.rank], path, detail_text(&t));

        kind = streq(h->type, w->type) ? NET_PORT_MODIFY : NET_PORT_RECREATE;
        action = kind == NET_PORT_MODIFY ? ACTION_MODIFY : ACTION_RECREATE;
        r = add_change(n, kind, NULL, hb, w, h);
        if (r < 0)
                return r;
        return plan_add(plan, "net", action, impact_rank[t.rank], path, "%s", detail_text(&t));
}

static bool bridge_deleted(const NetPlugin *n, const char *name) {
        for (size_t i = 0; i < n->n_changes; i++)
                if (n->changes[i].kind == NET_BRIDGE_DELETE && streq(n->changes[i].have_bridge->name, name))
                        return true;
        return false;
}

static int delete_port(NetPlugin *n, const NetPort *h, Plan *plan) {
        const NetBridge *hb = net_model_find_bridge(&n->have, h->bridge);
        char path[96];
        int r;

        snprintf(path, sizeof path, "bridge/%s/port/%s", h->bridge, h->name);
        r = add_change(n, NET_PORT_DELETE, NULL, hb, NULL, h);
        if (r < 0)
                return r;
        return plan_add(plan, "net", ACTION_DELETE, IMPACT_PORT_REMOVED, path, "no longer in the state");
}

int net_diff(NetPlugin *n, Plan *plan, Diag *d) {
        int r, ret = 0;

        n->n_changes = 0;

        for (size_t i = 0; i < n->want.n_bridges; i++) {
                r = diff_bridge(n, &n->want.bridges[i], plan, d);
                if (r == -ENOMEM)
                        return r;
                RET_GATHER(ret, r);
        }
        for (size_t i = 0; i < n->have.n_bridges; i++) {
                const NetBridge *h = &n->have.bridges[i];

                if (!h->owned || net_model_find_bridge(&n->want, h->name))
                        continue;
                r = delete_bridge(n, h, plan);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < n->want.n_ports; i++) {
                r = diff_port(n, &n->want.ports[i], plan, d);
                if (r == -ENOMEM)
                        return r;
                RET_GATHER(ret, r);
        }
        for (size_t i = 0; i < n->have.n_ports; i++) {
                const NetPort *h = &n->have.ports[i];

                if (!h->owned || net_model_find_port(&n->want, h->name) || bridge_deleted(n, h->bridge))
                        continue;
                r = delete_port(n, h, plan);
                if (r < 0)
                        return r;
        }
        return ret;
}
