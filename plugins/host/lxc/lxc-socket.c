/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Socket networking: instead of a veth from Proxmox, the container gets an
 * OVS internal port (network.port_name, default internal_<id>, on
 * network.bridge), which op-dbus creates through OVSDB (tagged
 * op-dbus-owner=op-dbus-lxc), moves into the running container's network
 * namespace and configures there as eth0 (lxc-link.c, on agent/lib/rtnl).
 *
 * query reads the ports from OVSDB and, for every socket container that
 * exists, where the port's device is: still in op-dbus's namespace, in
 * the container (renamed or not, carrying traffic or stale), or nowhere
 * (it went with a container's old namespace). The diff plans one action
 * per container at container/<id>/socket; apply carries it out by looking
 * again and doing what is still needed, so it is idempotent and also
 * serves as the hook after every start of such a container. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "host.h"
#include "ifupdown.h"
#include "json-util.h"
#include "lxc-backend.h"
#include "lxc-link.h"
#include "lxc-ovsdb.h"
#include "lxc-socket.h"
#include "strbuf.h"

/* The port's name inside the container. */
#define LXC_SOCKET_IFNAME "eth0"

/* How long apply waits for a new port's device to appear. */
#define DEVICE_WAIT_MS 5000
#define DEVICE_POLL_MS 20

typedef enum SocketChangeKind {
        SOCKET_ENSURE,                /* the container's port exists on its bridge, attached if it runs */
        SOCKET_DELETE,                /* a port no container uses any more */
} SocketChangeKind;

typedef struct SocketChange {
        SocketChangeKind kind;
        const LxcContainer *c;        /* ENSURE */
        bool runs;                    /* ENSURE: the container runs after the apply */
        char *port;                   /* DELETE: the port */
} SocketChange;

/* Where a socket container's port is, seen from op-dbus. */
typedef struct LxcSocketLive {
        uint32_t id;
        pid_t pid;                    /* the running container's init; 0: not running */
        bool here;                    /* the port's device is in op-dbus's namespace (not moved) */
        bool inside_port;             /* the container has it under the port's name (not renamed yet) */
        bool has_inside;              /* the container has an interface LXC_SOCKET_IFNAME ... */
        RtnlLink inside;              /* ... this one */
        bool ipv4_ok;                 /* the container has the state's address on it */
        bool gateway_ok;              /* ... and its default route */
} LxcSocketLive;

struct LxcSocket {
        LxcSocketLive *live;          /* one per socket container that exists */
        size_t n_live;
        SocketChange *changes;
        size_t n_changes, allocated_changes;
};

/* The port's name: port_name, or internal_<id>; -ENAMETOOLONG when that
 * does not fit an interface name. */
static int port_name(const LxcContainer *c, char ret[static RTNL_IFNAME_SIZE]) {
        int n;

        if (c->network.port_name)
                n = snprintf(ret, RTNL_IFNAME_SIZE, "%s", c->network.port_name);
        else
                n = snprintf(ret, RTNL_IFNAME_SIZE, "internal_%" PRIu32, c->id);
        return n < 0 || n >= RTNL_IFNAME_SIZE ? -ENAMETOOLONG : 0;
}

/* The kinds of interface a socket port is inside a container: a tap of
 * the userspace datapath, an internal device of the kernel datapath. */
static bool kind_is_port(const char *kind) {
        return streq(kind, "tun") || streq(kind, "openvswitch");
}

/* An interface of ours in the container that no longer carries traffic:
 * the port's device is back in op-dbus's namespace (ovs-vswitchd made a
 * new one), or it is a tap that is up but has lost its carrier (no process
 * holds it any more). */
static bool inside_stale(const LxcSocketLive *v) {
        if (!v->has_inside || !kind_is_port(v->inside.kind))
                return false;
        return v->here || (streq(v->inside.kind, "tun") && v->inside.up && !v->inside.lower_up);
}

/* The port is in the container and carries traffic (possibly not
 * configured yet). */
static bool attached(const LxcSocketLive *v) {
        return v->inside_port ||
                (v->has_inside && kind_is_port(v->inside.kind) && !inside_stale(v));
}

static void socket_changes_done(LxcSocket *s) {
        for (size_t i = 0; i < s->n_changes; i++)
                free(s->changes[i].port);
        s->n_changes = 0;
}

void lxc_socket_done(LxcPlugin *l) {
        LxcSocket *s = l->socket;

        if (!s)
                return;
        socket_changes_done(s);
        free(s->changes);
        free(s->live);
        free(s);
        l->socket = NULL;
}

/* ---- validation ----------------------------------------------------------- */

int lxc_socket_check(const PluginContext *ctx, const LxcContainer *c, Diag *d) {
        _cleanup_(freep) char *np = json_path_key(c->path, "network"), *fp = NULL, *pp = NULL;
        char name[RTNL_IFNAME_SIZE];
        int ret = 0;

        if (!np || !(fp = json_path_key(np, "firewall")) || !(pp = json_path_key(np, "port_name")))
                return -ENOMEM;
        if (!c->network.bridge) {
                diag_error(d, np, "socket networking needs \"bridge\": the OVS bridge the container's port is added to");
                ret = -EINVAL;
        }
        if (c->network.firewall == LXC_TRUE) {
                diag_error(d, fp, "the Proxmox firewall works on a veth only; filter a socket networking port with "
                           "the openflow plugin's flows instead");
                ret = -EINVAL;
        }
        if (port_name(c, name) < 0) {
                diag_error(d, pp, "the default port name internal_%" PRIu32 " is longer than an interface name "
                           "may be (15 bytes); set port_name", c->id);
                ret = -EINVAL;
        } else
                ifupdown_check_port(host_settings(ctx)->interfaces_path, c->network.bridge, name, np, d);
        return ret;
}

/* ---- query ---------------------------------------------------------------- */

/* What the state wants of the port inside the container. */
static void socket_want(const LxcNetwork *n, LxcLinkWant *ret) {
        *ret = (LxcLinkWant) {
                .name = LXC_SOCKET_IFNAME,
                .has_hwaddr = n->has_hwaddr,
                .has_ipv4 = n->has_ipv4,
                .ipv4 = n->ipv4,
                .prefixlen = n->ipv4_prefixlen,
                .exclusive = true,
                .has_gateway = n->has_gateway,
                .gateway = n->gateway,
        };
        memcpy(ret->hwaddr, n->hwaddr, sizeof ret->hwaddr);
}

/* Whether there is a link ifname: 1 or 0. */
static int link_exists(Rtnl *r, const char *ifname) {
        RtnlLink link;
        int k = rtnl_get_link(r, ifname, &link);

        return k == -ENODEV ? 0 : k < 0 ? k : 1;
}

/* Where the port's device is: here, and with v->pid set, in the
 * container; for an interface there that is a port, whether it has the
 * state's address and default route. Only read. */
static int inspect_device(const LxcContainer *c, const char *name, LxcSocketLive *v) {
        _cleanup_(rtnl_closep) Rtnl *here = NULL, *inside = NULL;
        LxcLinkWant want;
        int r;

        r = rtnl_open(&here);
        if (r >= 0)
                r = link_exists(here, name);
        if (r < 0)
                return r;
        v->here = r > 0;
        if (v->pid <= 0)
                return 0;
        r = rtnl_open_pid(v->pid, &inside);
        if (r < 0)
                return r;
        if (!streq(name, LXC_SOCKET_IFNAME)) {
                r = link_exists(inside, name);
                if (r < 0)
                        return r;
                v->inside_port = r > 0;
        }
        r = rtnl_get_link(inside, LXC_SOCKET_IFNAME, &v->inside);
        if (r == -ENODEV)
                return 0;
        if (r < 0)
                return r;
        v->has_inside = true;
        if (!kind_is_port(v->inside.kind))
                return 0;
        socket_want(&c->network, &want);
        return lxc_link_check(inside, v->inside.ifindex, &want, &v->ipv4_ok, &v->gateway_ok);
}

static int query_container(LxcPlugin *l, const LxcContainer *c, const LxcLive *h, Diag *d) {
        LxcSocketLive *v = &l->socket->live[l->socket->n_live];
        char name[RTNL_IFNAME_SIZE];
        int r;

        if (port_name(c, name) < 0)
                return 0; /* refused by the plan */
        *v = (LxcSocketLive) { .id = c->id };
        if (h->running) {
                r = l->backend->pid(l, c->id, &v->pid, d);
                if (r < 0)
                        return r;
        }
        r = inspect_device(c, name, v);
        if (r < 0) {
                diag_error(d, c->path, "cannot look for port %s of container %" PRIu32 " (pid %d): %s",
                           name, c->id, (int) v->pid, strerror(-r));
                return r;
        }
        l->socket->n_live++;
        return 0;
}

int lxc_socket_query(LxcPlugin *l, Diag *d) {
        LxcSocket *s;
        int r = 0;

        lxc_socket_done(l);
        s = l->socket = calloc(1, sizeof(LxcSocket));
        if (!s || !(s->live = calloc(l->want.n_containers + 1, sizeof(LxcSocketLive))))
                return -ENOMEM;
        if (!lxc_ovs_view(l))
                return 0; /* no OVS here, or not answering: nothing of socket networking to manage */
        for (size_t i = 0; r >= 0 && i < l->want.n_containers; i++) {
                const LxcContainer *c = &l->want.containers[i];
                const LxcLive *h = lxc_find_live(l, c->id);

                if (lxc_uses_socket(c) && h && h->owned)
                        r = query_container(l, c, h, d);
        }
        return r;
}

static const LxcSocketLive *find_socket_live(const LxcSocket *s, uint32_t id) {
        for (size_t i = 0; i < s->n_live; i++)
                if (s->live[i].id == id)
                        return &s->live[i];
        return NULL;
}

/* ---- diff (pure) ------------------------------------------------------------ */

/* What the container's own change does to it in this apply. */
typedef enum Fate {
        FATE_STOPPED,                 /* does not run, before or after */
        FATE_STOPS,                   /* runs now and is stopped (or destroyed) */
        FATE_STARTS,                  /* is (re)started: the start hook attaches the port */
        FATE_RUNS,                    /* runs and keeps running */
} Fate;

static Fate container_fate(const LxcLive *h, const LxcChange *ch) {
        bool running = h && h->running;

        if (ch && (ch->kind == LXC_CHANGE_CREATE || ch->kind == LXC_CHANGE_RECREATE))
                return ch->flags & LXC_DO_START ? FATE_STARTS : running ? FATE_STOPS : FATE_STOPPED;
        if (ch && (ch->flags & (LXC_DO_RESTART | LXC_DO_START)))
                return FATE_STARTS;
        if (ch && (ch->flags & LXC_DO_STOP_FIRST))
                return running ? FATE_STOPS : FATE_STOPPED;
        return running ? FATE_RUNS : FATE_STOPPED;
}

/* "eth0 (10.0.0.2/24, gateway 10.0.0.1, MAC 02:00:00:00:00:01)" */
static void describe_inside(StrBuf *b, const LxcNetwork *n) {
        char addr[INET_ADDRSTRLEN] = "", gw[INET_ADDRSTRLEN] = "";
        const char *sep = " (";

        strbuf_puts(b, LXC_SOCKET_IFNAME);
        if (n->has_ipv4 && inet_ntop(AF_INET, &n->ipv4, addr, sizeof addr)) {
                strbuf_printf(b, "%s%s/%u", sep, addr, n->ipv4_prefixlen);
                sep = ", ";
        }
        if (n->has_gateway && inet_ntop(AF_INET, &n->gateway, gw, sizeof gw)) {
                strbuf_printf(b, "%sgateway %s", sep, gw);
                sep = ", ";
        }
        if (n->has_hwaddr) {
                strbuf_printf(b, "%sMAC %02x:%02x:%02x:%02x:%02x:%02x", sep, n->hwaddr[0], n->hwaddr[1],
                              n->hwaddr[2], n->hwaddr[3], n->hwaddr[4], n->hwaddr[5]);
                sep = ", ";
        }
        if (!streq(sep, " ("))
                strbuf_putc(b, ')');
}

/* One planned action. */
typedef struct Step {
        bool needed;
        ActionKind kind;
        Impact impact;
        StrBuf text;
} Step;

static void step_done(Step *t) {
        strbuf_done(&t->text);
}

static void step_set(Step *t, ActionKind kind, Impact impact, const char *text) {
        t->needed = true;
        t->kind = kind;
        t->impact = impact;
        strbuf_puts(&t->text, text);
}

/* The interface in the running container is ours and carries traffic:
 * what differs from the state. */
static void diff_inside(const LxcNetwork *n, const LxcSocketLive *v, Step *t) {
        const uint8_t *a = v->inside.hwaddr, *b = n->hwaddr;
        const char *sep = "";

        if (v->inside_port) {
                step_set(t, ACTION_REPLUG, IMPACT_PORT_FLAP, "in the container but not configured: configured as ");
                describe_inside(&t->text, n);
                return;
        }
        if (n->has_hwaddr && (!v->inside.has_hwaddr || memcmp(a, b, 6) != 0)) {
                step_set(t, ACTION_MODIFY, IMPACT_PORT_FLAP, "");
                strbuf_printf(&t->text, "MAC %02x:%02x:%02x:%02x:%02x:%02x -> %02x:%02x:%02x:%02x:%02x:%02x",
                              a[0], a[1], a[2], a[3], a[4], a[5], b[0], b[1], b[2], b[3], b[4], b[5]);
                sep = ", ";
        }
        if (!v->inside.up) {
                step_set(t, ACTION_MODIFY, t->needed ? t->impact : IMPACT_NONE, "");
                strbuf_printf(&t->text, "%s%s down -> up", sep, LXC_SOCKET_IFNAME);
                sep = ", ";
        }
        /* a link that is down has lost its routes: setting it up is what is missing */
        if (v->inside.up && (!v->ipv4_ok || !v->gateway_ok)) {
                step_set(t, ACTION_MODIFY, t->needed ? t->impact : IMPACT_NONE, "");
                strbuf_printf(&t->text, "%s%s%s%s missing", sep, !v->ipv4_ok ? "address" : "",
                              !v->ipv4_ok && !v->gateway_ok ? " and " : "", !v->gateway_ok ? "default route" : "");
        }
        if (t->needed) {
                strbuf_puts(&t->text, ": configured again as ");
                describe_inside(&t->text, n);
        }
}

/* The container runs now and keeps running. */
static void diff_running(const LxcNetwork *n, const LxcSocketLive *v, Step *t) {
        if (attached(v)) {
                diff_inside(n, v, t);
                return;
        }
        if (v->here) {
                step_set(t, ACTION_REPLUG, IMPACT_PORT_FLAP, "");
                if (inside_stale(v))
                        strbuf_puts(&t->text, "ovs-vswitchd made a new device: the stale one in the container is deleted and ");
                strbuf_puts(&t->text, "the port is moved into the container as ");
        } else
                step_set(t, ACTION_RECREATE, IMPACT_PORT_FLAP,
                         "the port's device is gone (it went with the container's previous network namespace): "
                         "the port is deleted and added again, then moved into the container as ");
        describe_inside(&t->text, n);
}

/* The step for a port that exists on the right bridge. */
static void diff_existing(const LxcNetwork *n, Fate fate, const LxcSocketLive *v, Step *t) {
        switch (fate) {
        case FATE_STARTS:
                step_set(t, ACTION_REPLUG, IMPACT_NONE, "moved into the container as ");
                describe_inside(&t->text, n);
                strbuf_puts(&t->text, " after its start (added again first if its device went with an old network namespace)");
                return;
        case FATE_STOPS:
                if (v && !v->here)
                        step_set(t, ACTION_RECREATE, IMPACT_NONE,
                                 "the container stops and the port's device goes with its network namespace: "
                                 "the port is deleted and added again");
                return;
        case FATE_STOPPED:
                if (v && !v->here)
                        step_set(t, ACTION_RECREATE, IMPACT_NONE,
                                 "the port's device went with the stopped container's network namespace: "
                                 "the port is deleted and added again");
                return;
        case FATE_RUNS:
                if (v)
                        diff_running(n, v, t);
                return;
        }
}

static void diff_step(const LxcContainer *c, const char *name, const LxcOvsPort *p, Fate fate,
                      const LxcSocketLive *v, Step *t) {
        const LxcNetwork *n = &c->network;
        int64_t tag = n->tag > 0 ? (int64_t) n->tag : -1;

        if (!p || !streq_ptr(p->bridge, n->bridge)) {
                step_set(t, p ? ACTION_RECREATE : ACTION_CREATE, p && fate == FATE_RUNS ? IMPACT_PORT_FLAP : IMPACT_NONE, "");
                if (p)
                        strbuf_printf(&t->text, "moves from bridge %s: ", strna(p->bridge));
                strbuf_printf(&t->text, "OVS internal port %s on %s", name, n->bridge);
                if (tag > 0)
                        strbuf_printf(&t->text, " (tag %u)", n->tag);
                if (fate == FATE_RUNS || fate == FATE_STARTS) {
                        strbuf_puts(&t->text, fate == FATE_RUNS ? ", then moved into the container as " :
                                    ", moved into the container after its start as ");
                        describe_inside(&t->text, n);
                }
                return;
        }
        diff_existing(n, fate, v, t);
        if (p->tag != tag) {
                char a[24] = "(none)", b[24] = "(none)";

                if (p->tag >= 0)
                        snprintf(a, sizeof a, "%" PRIi64, p->tag);
                if (tag >= 0)
                        snprintf(b, sizeof b, "%" PRIi64, tag);
                if (!t->needed)
                        step_set(t, ACTION_MODIFY, IMPACT_NONE, "");
                else
                        strbuf_puts(&t->text, "; ");
                strbuf_printf(&t->text, "tag %s -> %s", a, b);
        }
}

/* The port of that name is free, or this container's. */
static int check_port(const LxcOvsView *view, const LxcContainer *c, const char *name, const LxcOvsPort *p, Diag *d) {
        _cleanup_(freep) char *pp = json_path_key(c->path, "network.port_name");

        if (!pp)
                return -ENOMEM;
        if (p && !p->owned) {
                diag_error(d, pp, "port \"%s\" already exists on bridge %s and was not created by op-dbus for a container%s%s%s; "
                           "op-dbus does not take over ports it does not own: set another port_name, or remove the port",
                           name, strna(p->bridge), p->owner ? " (its owner is \"" : "", p->owner ?: "", p->owner ? "\")" : "");
                return -EINVAL;
        }
        if (p && p->container != c->id) {
                if (p->container > 0)
                        diag_error(d, pp, "port \"%s\" is the port of container %" PRIu32 "; set another port_name",
                                   name, p->container);
                else
                        diag_error(d, pp, "port \"%s\" was created by op-dbus but names no container (external_ids:%s "
                                   "is missing); remove the port", name, LXC_SOCKET_CONTAINER_KEY);
                return -EINVAL;
        }
        if (!p && lxc_ovs_find_bridge(view, name)) {
                diag_error(d, pp, "cannot create port \"%s\": a bridge of that name exists", name);
                return -EINVAL;
        }
        return 0;
}

/* Two containers of the state with the same port: reported at the later. */
static int check_unique(const LxcPlugin *l, size_t i, const char *name, Diag *d) {
        const LxcContainer *c = &l->want.containers[i];

        for (size_t j = 0; j < i; j++) {
                const LxcContainer *o = &l->want.containers[j];
                char other[RTNL_IFNAME_SIZE];
                _cleanup_(freep) char *pp = NULL;

                if (!lxc_uses_socket(o) || port_name(o, other) < 0 || !streq(name, other))
                        continue;
                pp = json_path_key(c->path, "network.port_name");
                diag_error(d, pp ?: c->path, "port \"%s\" is already the port of container %" PRIu32 " (%s)",
                           name, o->id, o->path);
                return -EINVAL;
        }
        return 0;
}

static void socket_path(uint32_t id, const char *name, char ret[static 64]) {
        if (id > 0)
                snprintf(ret, 64, "container/%" PRIu32 "/socket", id);
        else
                snprintf(ret, 64, "socket/%s", name);
}

static int add_socket_change(LxcSocket *s, SocketChangeKind kind, const LxcContainer *c, bool runs, const char *port) {
        SocketChange *ch;
        int r;

        r = greedy_realloc((void **) &s->changes, &s->allocated_changes, s->n_changes + 1, sizeof(SocketChange));
        if (r < 0)
                return r;
        ch = &s->changes[s->n_changes];
        *ch = (SocketChange) { .kind = kind, .c = c, .runs = runs };
        if (port && !(ch->port = strdup(port)))
                return -ENOMEM;
        s->n_changes++;
        return 0;
}

static int add_action(LxcPlugin *l, const LxcContainer *c, const char *path, const Step *t, Plan *plan) {
        int r;

        if (t->text.error)
                return t->text.error;
        if (!lxc_held(l, c))
                return plan_add(plan, "lxc", t->kind, t->impact, path, "%s", t->text.s);
        r = plan_add(plan, "lxc", t->kind, t->impact, path, "%s (drift: report, left as it is)", t->text.s);
        if (r >= 0)
                plan_hold_last(plan);
        return r;
}

static int diff_container(LxcPlugin *l, size_t i, Plan *plan, Diag *d) {
        const LxcContainer *c = &l->want.containers[i];
        const LxcLive *h = lxc_find_live(l, c->id);
        _cleanup_(step_done) Step t = {};
        char name[RTNL_IFNAME_SIZE], path[64];
        const LxcSocketLive *v;
        const LxcOvsPort *p;
        Fate fate;
        int r;

        if ((h && !h->owned) || port_name(c, name) < 0 || !c->network.bridge)
                return 0; /* refused by the container's own checks */
        p = lxc_ovs_find_port(lxc_ovs_view(l), name);
        r = check_port(lxc_ovs_view(l), c, name, p, d);
        RET_GATHER(r, check_unique(l, i, name, d));
        if (r < 0)
                return r;

        fate = container_fate(h, lxc_find_change(l, c->id));
        v = find_socket_live(l->socket, c->id);
        if (fate == FATE_RUNS && v && v->has_inside && !kind_is_port(v->inside.kind) && !h->spec.has_net0) {
                diag_error(d, c->path, "container %" PRIu32 " has an interface %s (kind %s) that is not its OVS port; "
                           "remove it so that the port can take its name", c->id, LXC_SOCKET_IFNAME,
                           v->inside.kind[0] ? v->inside.kind : "unknown");
                return -EINVAL;
        }
        diff_step(c, name, p, fate, v, &t);
        if (!t.needed)
                return 0;
        socket_path(c->id, name, path);
        if (!lxc_held(l, c)) {
                r = add_socket_change(l->socket, SOCKET_ENSURE, c, fate == FATE_RUNS || fate == FATE_STARTS, NULL);
                if (r < 0)
                        return r;
        }
        return add_action(l, c, path, &t, plan);
}

/* Why an owned port is no longer needed; NULL: it is (or is left alone). */
static const char *unused_reason(const LxcPlugin *l, const LxcOvsPort *p) {
        const LxcContainer *c = lxc_config_find(&l->want, p->container);
        const LxcLive *h = p->container > 0 ? lxc_find_live(l, p->container) : NULL;
        const LxcChange *ch = h ? lxc_find_change(l, h->id) : NULL;
        char name[RTNL_IFNAME_SIZE];

        if (c && lxc_uses_socket(c) && port_name(c, name) >= 0 && streq(name, p->name))
                return NULL;
        if (c)
                return lxc_uses_socket(c) ? "the container has another port_name now" : "the container no longer uses socket networking";
        if (!h)
                return "its container no longer exists";
        if (ch && ch->kind == LXC_CHANGE_DELETE)
                return "its container is destroyed (prune)";
        return NULL; /* an unlisted container op-dbus leaves alone keeps its port */
}

/* Ports op-dbus created that no container uses any more. */
static int diff_unused(LxcPlugin *l, Plan *plan) {
        const LxcOvsView *view = lxc_ovs_view(l);
        LxcSocket *s = l->socket;
        int r;

        for (size_t i = 0; view && i < view->n_ports; i++) {
                const LxcOvsPort *p = &view->ports[i];
                const LxcContainer *c = lxc_config_find(&l->want, p->container);
                const char *why;
                Step t = {};
                char path[64];

                if (!p->owned || !(why = unused_reason(l, p)))
                        continue;
                socket_path(p->container, p->name, path);
                step_set(&t, ACTION_DELETE, IMPACT_PORT_REMOVED, "");
                strbuf_printf(&t.text, "port %s removed from bridge %s: %s", p->name, strna(p->bridge), why);
                r = lxc_held(l, c) ? 0 : add_socket_change(s, SOCKET_DELETE, NULL, false, p->name);
                if (r >= 0)
                        r = add_action(l, c, path, &t, plan);
                step_done(&t);
                if (r < 0)
                        return r;
        }
        return 0;
}

int lxc_socket_diff(LxcPlugin *l, Plan *plan, Diag *d) {
        int r, ret = 0;

        if (!l->socket)
                return 0;
        socket_changes_done(l->socket);
        for (size_t i = 0; i < l->want.n_containers; i++) {
                if (!lxc_uses_socket(&l->want.containers[i]))
                        continue;
                r = diff_container(l, i, plan, d);
                if (r == -ENOMEM)
                        return r;
                RET_GATHER(ret, r);
        }
        RET_GATHER(ret, diff_unused(l, plan));
        return ret;
}

/* ---- apply -------------------------------------------------------------------- */

static void count_command(LxcPlugin *l) {
        if (l->counts)
                l->counts->commands++;
}

static void count_writes(LxcPlugin *l, unsigned writes) {
        if (l->counts)
                apply_counts_write(l->counts, COUNT_OVSDB_OPS, writes);
}

/* Waits until OVS has made the port's device in op-dbus's namespace. */
static int wait_device(const LxcContainer *c, const char *name, Diag *d) {
        const struct timespec pause = { .tv_nsec = DEVICE_POLL_MS * 1000000L };
        _cleanup_(rtnl_closep) Rtnl *here = NULL;
        int r;

        r = rtnl_open(&here);
        for (int waited = 0;; waited += DEVICE_POLL_MS) {
                if (r >= 0)
                        r = link_exists(here, name);
                if (r > 0)
                        return 0;
                if (r < 0) {
                        diag_error(d, c->path, "cannot look for port %s: %s", name, strerror(-r));
                        return r;
                }
                if (waited >= DEVICE_WAIT_MS) {
                        diag_error(d, c->path, "Open vSwitch did not create the device of port %s in op-dbus's network namespace "
                                   "within %d ms; op-dbus has to run in the network namespace of ovs-vswitchd", name, DEVICE_WAIT_MS);
                        return -ETIMEDOUT;
                }
                (void) nanosleep(&pause, NULL);
        }
}

/* Makes the port exist on its bridge with a device that is alive: added
 * when missing, added again when it is on another bridge or its device is
 * gone (the userspace datapath needs the removal and the addition in two
 * transactions). v: where the device is. */
static int ensure_port(LxcPlugin *l, const LxcContainer *c, const char *name, const LxcOvsPort *p,
                       LxcSocketLive *v, Diag *d) {
        const PluginContext *ctx = l->plugin.ctx;
        int64_t ofport = -1;
        unsigned writes = 0;
        OvsdbClient *ovsdb;
        int r;

        r = lxc_ovs_client(l, &ovsdb, d);
        if (r < 0)
                return r;

        if (p && streq_ptr(p->bridge, c->network.bridge) && (v->here || attached(v))) {
                if (p->tag != (c->network.tag > 0 ? (int64_t) c->network.tag : -1))
                        r = lxc_ovs_set_tag(ovsdb, p, c->network.tag, &writes, d);
                count_writes(l, writes);
                return r;
        }
        if (p) {
                /* keep the OpenFlow port number on the same bridge */
                ofport = streq_ptr(p->bridge, c->network.bridge) ? p->ofport : -1;
                r = lxc_ovs_del_port(ovsdb, p, ctx->timeout_ms, &writes, d);
        }
        if (r >= 0)
                r = lxc_ovs_add_port(ovsdb, c->network.bridge, name, c->id, c->network.tag, ofport,
                                     ctx->timeout_ms, &writes, d);
        count_writes(l, writes);
        if (r >= 0)
                r = wait_device(c, name, d);
        if (r < 0)
                return r;
        v->here = true;
        v->inside_port = false;
        return 0;
}

/* Moves the port into the running container and configures it there; a
 * stale interface of an earlier device goes first. */
static int attach_port(LxcPlugin *l, const LxcContainer *c, const char *name, const LxcSocketLive *v, Diag *d) {
        _cleanup_(rtnl_closep) Rtnl *here = NULL, *inside = NULL;
        const char *step = "entering its network namespace";
        LxcLinkWant want;
        int r;

        socket_want(&c->network, &want);
        r = rtnl_open(&here);
        if (r >= 0)
                r = rtnl_open_pid(v->pid, &inside);
        if (r >= 0 && inside_stale(v)) {
                step = "deleting the stale interface " LXC_SOCKET_IFNAME;
                r = lxc_link_delete(inside, LXC_SOCKET_IFNAME);
                if (r > 0)
                        count_command(l);
        }
        if (r >= 0 && v->here) {
                step = "moving the port into it";
                r = lxc_link_move(here, inside, name);
                if (r > 0)
                        count_command(l);
        }
        if (r >= 0) {
                step = "configuring the port";
                r = lxc_link_configure(inside, name, &want);
                if (r > 0)
                        count_command(l);
        }
        if (r < 0)
                diag_error(d, c->path, "attaching port %s to container %" PRIu32 " (pid %d): %s failed: %s%s", name, c->id,
                           (int) v->pid, step, strerror(-r),
                           r == -EEXIST ? " (the container has another interface of that name)" :
                           r == -EINVAL && v->here ? " (the container has no network namespace of its own?)" : "");
        return r < 0 ? r : 0;
}

/* Looks again and does what is still needed: the port on its bridge and,
 * with pid, moved into the container and configured. */
static int socket_ensure(LxcPlugin *l, const LxcContainer *c, pid_t pid, Diag *d) {
        _cleanup_(lxc_ovs_view_done) LxcOvsView view = {};
        LxcSocketLive v = { .id = c->id, .pid = pid };
        char name[RTNL_IFNAME_SIZE];
        const LxcOvsPort *p;
        int r;

        if (port_name(c, name) < 0 || !c->network.bridge)
                return -EINVAL;
        r = lxc_ovs_read_view(l, &view, d);
        if (r < 0)
                return r;
        p = lxc_ovs_find_port(&view, name);
        r = check_port(&view, c, name, p, d);
        if (r < 0)
                return r;
        r = inspect_device(c, name, &v);
        if (r < 0) {
                diag_error(d, c->path, "cannot look for port %s of container %" PRIu32 " (pid %d): %s",
                           name, c->id, (int) pid, strerror(-r));
                return r;
        }
        if (v.has_inside && !kind_is_port(v.inside.kind)) {
                diag_error(d, c->path, "container %" PRIu32 " has an interface %s (kind %s) that is not its OVS port",
                           c->id, LXC_SOCKET_IFNAME, v.inside.kind);
                return -EEXIST;
        }
        r = ensure_port(l, c, name, p, &v, d);
        if (r < 0 || pid <= 0)
                return r;
        return attach_port(l, c, name, &v, d);
}

int lxc_socket_attach(LxcPlugin *l, const LxcContainer *c, pid_t pid, Diag *d) {
        if (!l->socket && !(l->socket = calloc(1, sizeof(LxcSocket))))
                return -ENOMEM;
        return socket_ensure(l, c, pid, d);
}

static int socket_delete(LxcPlugin *l, const char *name, Diag *d) {
        _cleanup_(lxc_ovs_view_done) LxcOvsView view = {};
        const LxcOvsPort *p;
        unsigned writes = 0;
        OvsdbClient *ovsdb;
        int r;

        r = lxc_ovs_client(l, &ovsdb, d);
        if (r >= 0)
                r = lxc_ovs_read(ovsdb, &view, d);
        if (r < 0)
                return r;
        p = lxc_ovs_find_port(&view, name);
        if (!p || !p->owned)
                return 0; /* gone meanwhile */
        r = lxc_ovs_del_port(ovsdb, p, l->plugin.ctx->timeout_ms, &writes, d);
        count_writes(l, writes);
        return r;
}

bool lxc_socket_pending(const LxcPlugin *l) {
        return l->socket && l->socket->n_changes > 0;
}

int lxc_socket_apply(LxcPlugin *l, bool deletions, Diag *d) {
        LxcSocket *s = l->socket;
        int r = 0;

        for (size_t i = 0; s && r >= 0 && i < s->n_changes; i++) {
                const SocketChange *ch = &s->changes[i];
                pid_t pid = 0;

                if ((ch->kind == SOCKET_DELETE) != deletions)
                        continue;
                if (ch->kind == SOCKET_DELETE) {
                        r = socket_delete(l, ch->port, d);
                        continue;
                }
                if (ch->runs)
                        r = l->backend->pid(l, ch->c->id, &pid, d);
                if (r >= 0)
                        r = socket_ensure(l, ch->c, pid, d);
        }
        return r;
}

/* ---- live state --------------------------------------------------------------- */

int lxc_socket_network_to_json(const LxcPlugin *l, uint32_t id, json_object *container) {
        const LxcOvsView *view = lxc_ovs_view(l);
        const LxcOvsPort *p = NULL;
        json_object *net;

        for (size_t i = 0; view && !p && i < view->n_ports; i++)
                if (view->ports[i].owned && view->ports[i].container == id && view->ports[i].bridge)
                        p = &view->ports[i];
        if (!p)
                return 0;
        if (!json_object_object_get_ex(container, "network", &net)) {
                net = json_object_new_object();
                if (!net || json_object_object_add(container, "network", net) < 0) {
                        json_object_put(net);
                        return -ENOMEM;
                }
        }
        if (json_object_object_get_ex(net, "bridge", NULL))
                return 0; /* it has a veth (net0) as well: the port is on its way out */
        json_object_object_add(net, "bridge", json_object_new_string(p->bridge));
        json_object_object_add(net, "socket_networking", json_object_new_boolean(true));
        json_object_object_add(net, "port_name", json_object_new_string(p->name));
        if (p->tag > 0)
                json_object_object_add(net, "tag", json_object_new_int64(p->tag));
        return 0;
}
