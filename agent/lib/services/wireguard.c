/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>

#include "json-util.h"
#include "services-internal.h"
#include "services-render.h"

/* Routing table of a Warp tunnel: wg-quick puts the tunnel's routes there
 * instead of into the main table, and rules send forwarded traffic to it. */
#define WARP_TABLE 51820U
/* Priorities of those rules: before the main table (32766). */
#define WARP_RULE_PREF 20000U
/* The container's interface on the OVS bridge (Proxmox names net0 eth0). */
#define WARP_DEFAULT_FORWARD_FROM "eth0"

typedef struct WgPeer {
        const char *public_key;
        const char **allowed_ips;     /* CIDR values */
        size_t n_allowed_ips;
        const char *endpoint;         /* HOST:PORT; NULL: the peer connects to us */
        int64_t keepalive;            /* seconds; -1: not set */
} WgPeer;

/* config.wg0: the WireGuard gateway that clients connect to. */
typedef struct WgGateway {
        const char **addresses;       /* CIDR values */
        size_t n_addresses;
        int64_t listen_port;
        const char *private_key_file; /* inside the container */
        int64_t mtu;                  /* -1: wg-quick's default */
        bool forward;                 /* forward and masquerade the clients' IPv4 traffic */
        WgPeer *peers;
        size_t n_peers;
} WgGateway;

/* config.wg-quick: the WireGuard tunnel to Cloudflare Warp. */
typedef struct WgWarp {
        const char *interface;
        const char **addresses;       /* CIDR values */
        size_t n_addresses;
        const char *private_key_file; /* inside the container; registered with Warp */
        const char *endpoint;
        const char *public_key;       /* Warp's public key */
        int64_t mtu;                  /* -1: wg-quick's default */
        int64_t keepalive;            /* -1: not set */
        bool forward;                 /* route traffic forwarded from forward_from through the tunnel */
        const char *forward_from;
} WgWarp;

static void wg_gateway_done(WgGateway *g) {
        free(g->addresses);
        for (size_t i = 0; i < g->n_peers; i++)
                free(g->peers[i].allowed_ips);
        free(g->peers);
}

static void wg_warp_done(WgWarp *w) {
        free(w->addresses);
}

/* Optional integer with a default. */
static int get_int_default(json_object *o, const char *path, const char *key, int64_t min, int64_t max,
                           int64_t def, int64_t *ret, Diag *d) {
        int r = json_get_int(o, path, key, false, min, max, ret, d);

        if (r == 0)
                *ret = def;
        return r;
}

static int parse_peer(json_object *o, const char *path, WgPeer *p, Diag *d) {
        static const char *const keys[] = {
                "public_key", "allowed_ips", "endpoint", "persistent_keepalive", NULL
        };
        int ret = 0;

        if (!json_expect_object(o, path, d))
                return -EINVAL;
        if (json_check_keys(o, path, keys, d) > 0)
                ret = -EINVAL;
        SVC_GATHER(ret, svc_required(svc_get_checked(o, path, "public_key", true, svc_check_wg_key, &p->public_key, d)));
        SVC_GATHER(ret, svc_required(svc_get_strv(o, path, "allowed_ips", true, false, svc_check_cidr,
                                                  &p->allowed_ips, &p->n_allowed_ips, d)));
        SVC_GATHER(ret, svc_get_checked(o, path, "endpoint", false, svc_check_endpoint, &p->endpoint, d));
        SVC_GATHER(ret, get_int_default(o, path, "persistent_keepalive", 0, 65535, -1, &p->keepalive, d));
        return ret < 0 ? ret : 0;
}

/* WireGuard refuses nothing here, but a second peer with the same key
 * silently replaces the first. */
static void check_duplicate_peers(const WgGateway *g, const char *path, Diag *d) {
        for (size_t i = 1; i < g->n_peers; i++)
                for (size_t j = 0; j < i; j++) {
                        const char *a = g->peers[i].public_key, *b = g->peers[j].public_key;
                        _cleanup_(freep) char *p = NULL;

                        if (!a || !b || !streq(a, b) || svc_is_placeholder(a))
                                continue;
                        if (asprintf(&p, "%s.peers[%zu].public_key", path, i) >= 0)
                                diag_error(d, p, "same public key as peers[%zu]", j);
                        break;
                }
}

static int parse_peers(json_object *o, const char *path, WgGateway *g, Diag *d) {
        _cleanup_(freep) char *pp = json_path_key(path, "peers");
        json_object *a;
        int ret = 0, r;

        if (!pp)
                return -ENOMEM;
        r = json_get_array(o, path, "peers", false, &a, d);
        if (r <= 0)
                return r;
        g->n_peers = json_object_array_length(a);
        g->peers = calloc(g->n_peers ?: 1, sizeof *g->peers);
        if (!g->peers)
                return -ENOMEM;
        for (size_t i = 0; i < g->n_peers; i++) {
                _cleanup_(freep) char *ep = json_path_index(pp, i);

                if (!ep)
                        return -ENOMEM;
                SVC_GATHER(ret, parse_peer(json_object_array_get_idx(a, i), ep, &g->peers[i], d));
        }
        check_duplicate_peers(g, path, d);
        return ret;
}

static int parse_gateway(json_object *o, const char *path, WgGateway *g, Diag *d) {
        static const char *const keys[] = {
                "address", "listen_port", "private_key_file", "peers", "mtu", "forward", NULL
        };
        int ret = 0;

        g->forward = true;
        if (json_check_keys(o, path, keys, d) > 0)
                ret = -EINVAL;
        SVC_GATHER(ret, svc_required(svc_get_strv(o, path, "address", true, true, svc_check_cidr,
                                                  &g->addresses, &g->n_addresses, d)));
        SVC_GATHER(ret, get_int_default(o, path, "listen_port", 1, 65535, 51820, &g->listen_port, d));
        SVC_GATHER(ret, svc_required(svc_get_checked(o, path, "private_key_file", true, svc_check_path, &g->private_key_file, d)));
        SVC_GATHER(ret, get_int_default(o, path, "mtu", 576, 65535, -1, &g->mtu, d));
        SVC_GATHER(ret, json_get_bool(o, path, "forward", &g->forward, d));
        SVC_GATHER(ret, parse_peers(o, path, g, d));
        return ret < 0 ? ret : 0;
}

/* The IPv4 networks of the addresses ("10.99.0.1/24" -> "10.99.0.0/24"),
 * separated by ", "; NULL when there are none. *ret_placeholders: some
 * address was a placeholder. */
static char *ipv4_networks(const char *const *addresses, size_t n, bool *ret_placeholders) {
        _cleanup_(strbuf_done) StrBuf b = {};
        bool any = false;

        *ret_placeholders = false;
        for (size_t i = 0; i < n; i++) {
                char buf[INET_ADDRSTRLEN];
                SvcCidr c;

                if (!svc_parse_cidr(addresses[i], &c)) {
                        *ret_placeholders = true;
                        continue;
                }
                if (c.family != AF_INET)
                        continue;
                if (c.prefixlen < 32)
                        c.addr.in.s_addr &= htonl(~(UINT32_MAX >> c.prefixlen));
                strbuf_printf(&b, "%s%s/%u", any ? ", " : "", inet_ntop(AF_INET, &c.addr.in, buf, sizeof buf),
                              c.prefixlen);
                any = true;
        }
        return any ? strbuf_take(&b) : NULL;
}

/* The [Interface] lines both kinds of tunnel share; listen_port -1: none. */
static void put_interface(StrBuf *b, const char *const *addresses, size_t n, int64_t listen_port, int64_t mtu,
                          const char *key_file) {
        strbuf_puts(b, "# " SERVICES_GENERATED_NOTE "\n[Interface]\nAddress = ");
        svc_put_list(b, addresses, n);
        strbuf_putc(b, '\n');
        if (listen_port >= 0)
                strbuf_printf(b, "ListenPort = %" PRIi64 "\n", listen_port);
        if (mtu >= 0)
                strbuf_printf(b, "MTU = %" PRIi64 "\n", mtu);
        strbuf_printf(b, "# The private key stays in %s; wg-quick loads it once the interface exists.\n"
                      "PostUp = wg set %%i private-key %s\n", key_file, key_file);
}

/* An nft script that (re)creates the table "op-dbus-IFACE" with the given
 * chains, and the hooks that load and remove it. */
static char *nft_script(const char *iface, const char *chains) {
        _cleanup_(strbuf_done) StrBuf b = {};

        strbuf_printf(&b, "#!/usr/sbin/nft -f\n# " SERVICES_GENERATED_NOTE "\n"
                      "# Loaded by wg-quick when %s comes up (PostUp), removed when it goes down.\n"
                      "table ip op-dbus-%s\ndelete table ip op-dbus-%s\n"
                      "table ip op-dbus-%s {\n%s}\n", iface, iface, iface, iface, chains);
        return strbuf_take(&b);
}

static void put_nft_hooks(StrBuf *b, const char *iface) {
        strbuf_printf(b, "PostUp = nft -f /etc/wireguard/%s.nft\n"
                      "PostDown = nft delete table ip op-dbus-%s\n", iface, iface);
}

static void put_peer(StrBuf *b, const char *public_key, const char *const *allowed_ips, size_t n,
                     const char *endpoint, int64_t keepalive) {
        strbuf_printf(b, "\n[Peer]\nPublicKey = %s\nAllowedIPs = ", public_key);
        svc_put_list(b, allowed_ips, n);
        strbuf_putc(b, '\n');
        if (endpoint)
                strbuf_printf(b, "Endpoint = %s\n", endpoint);
        if (keepalive >= 0)
                strbuf_printf(b, "PersistentKeepalive = %" PRIi64 "\n", keepalive);
}

/* The tunnel's configuration file and the packages it needs. */
static int add_tunnel(ServiceFiles *out, const char *iface, char *conf, char *nft,
                      const char *key_file, ServiceInputKind key_kind, const char *key_path) {
        _cleanup_(freep) char *c = conf, *n = nft, *cp = NULL, *np = NULL;
        int r;

        if (!c || asprintf(&cp, "/etc/wireguard/%s.conf", iface) < 0)
                return -ENOMEM;
        r = service_files_add_file(out, cp, TAKE_PTR(c), 0600, false);
        if (r >= 0 && n) {
                if (asprintf(&np, "/etc/wireguard/%s.nft", iface) < 0)
                        return -ENOMEM;
                r = service_files_add_file(out, np, TAKE_PTR(n), 0600, false);
                SVC_GATHER(r, service_files_add_package(out, "nftables"));
                SVC_GATHER(r, service_files_add_package(out, "procps"));
        }
        SVC_GATHER(r, service_files_add_input(out, key_file, key_kind, true, key_path));
        SVC_GATHER(r, service_files_add_package(out, "wireguard-tools"));
        return r;
}

static char *render_gateway(const WgGateway *g, const char *networks) {
        _cleanup_(strbuf_done) StrBuf b = {};

        put_interface(&b, g->addresses, g->n_addresses, g->listen_port, g->mtu, g->private_key_file);
        if (networks) {
                strbuf_puts(&b, "# The clients' traffic is forwarded to the other interfaces, masqueraded (wg0.nft).\n"
                            "PostUp = sysctl -q -w net.ipv4.ip_forward=1\n");
                put_nft_hooks(&b, "wg0");
        }
        for (size_t i = 0; i < g->n_peers; i++)
                put_peer(&b, g->peers[i].public_key, g->peers[i].allowed_ips, g->peers[i].n_allowed_ips,
                         g->peers[i].endpoint, g->peers[i].keepalive);
        return strbuf_take(&b);
}

int wireguard_render_gateway(json_object *block, const char *path, ServiceFiles *out, Diag *d) {
        _cleanup_(wg_gateway_done) WgGateway g = {};
        _cleanup_(freep) char *networks = NULL, *chains = NULL, *kp = json_path_key(path, "private_key_file");
        bool placeholders;
        int r;

        if (!kp)
                return -ENOMEM;
        r = parse_gateway(block, path, &g, d);
        if (r < 0)
                return r;

        if (g.forward) {
                networks = ipv4_networks(g.addresses, g.n_addresses, &placeholders);
                if (!networks && !placeholders)
                        diag_warning(d, path, "no IPv4 address: op-dbus forwards and masquerades the clients' IPv4 traffic only, so nothing is forwarded");
        }
        if (networks && asprintf(&chains,
                                 "        chain postrouting {\n"
                                 "                type nat hook postrouting priority srcnat; policy accept;\n"
                                 "                ip saddr { %s } oifname != \"wg0\" masquerade\n"
                                 "        }\n", networks) < 0)
                return -ENOMEM;
        return add_tunnel(out, "wg0", render_gateway(&g, networks), chains ? nft_script("wg0", chains) : NULL,
                          g.private_key_file, SERVICE_INPUT_WIREGUARD_KEY, kp);
}

/* ---- Warp ------------------------------------------------------------------ */

const char *wireguard_warp_interface(json_object *block) {
        json_object *v;

        if (!json_object_is_type(block, json_type_object) ||
            !json_object_object_get_ex(block, "interface", &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static void warn_post_up(json_object *o, const char *path, const WgWarp *w, Diag *d) {
        _cleanup_(freep) char *p = NULL;

        if (!json_object_object_get_ex(o, "post_up", NULL))
                return;
        p = json_path_key(path, "post_up");
        diag_warning(d, p ?: path,
                     "ignored: there is no Open vSwitch inside an unprivileged container, so the tunnel cannot "
                     "be added to a bridge from here; op-dbus connects the container to the bridge through its "
                     "own port and %s",
                     w->forward ? "routes the traffic forwarded from the container's interface through the tunnel"
                                : "leaves routing into the tunnel to you (forward is false)");
}

static int parse_warp(json_object *o, const char *path, WgWarp *w, Diag *d) {
        static const char *const keys[] = {
                "interface", "address", "private_key_file", "endpoint", "public_key", "post_up",
                "mtu", "persistent_keepalive", "forward", "forward_from", NULL
        };
        int ret = 0;

        w->forward = true;
        w->forward_from = WARP_DEFAULT_FORWARD_FROM;
        if (json_check_keys(o, path, keys, d) > 0)
                ret = -EINVAL;
        SVC_GATHER(ret, svc_required(json_get_ifname(o, path, "interface", true, &w->interface, d)));
        SVC_GATHER(ret, svc_required(svc_get_strv(o, path, "address", true, true, svc_check_cidr,
                                                  &w->addresses, &w->n_addresses, d)));
        SVC_GATHER(ret, svc_required(svc_get_checked(o, path, "private_key_file", true, svc_check_path, &w->private_key_file, d)));
        SVC_GATHER(ret, svc_required(svc_get_checked(o, path, "endpoint", true, svc_check_endpoint, &w->endpoint, d)));
        SVC_GATHER(ret, svc_required(svc_get_checked(o, path, "public_key", true, svc_check_wg_key, &w->public_key, d)));
        SVC_GATHER(ret, get_int_default(o, path, "mtu", 576, 65535, -1, &w->mtu, d));
        SVC_GATHER(ret, get_int_default(o, path, "persistent_keepalive", 0, 65535, -1, &w->keepalive, d));
        SVC_GATHER(ret, json_get_bool(o, path, "forward", &w->forward, d));
        SVC_GATHER(ret, json_get_ifname(o, path, "forward_from", false, &w->forward_from, d));
        if (w->interface && streq(w->forward_from, w->interface)) {
                _cleanup_(freep) char *p = json_path_key(path, "forward_from");

                diag_error(d, p ?: path, "is the tunnel itself; name the container's interface on the bridge (eth0)");
                ret = -EINVAL;
        }
        warn_post_up(o, path, w, d);
        return ret < 0 ? ret : 0;
}

/* Traffic forwarded from forward_from goes through the tunnel or nowhere:
 * destinations that the main table routes other than by its default route
 * (the local networks) keep that route; everything else is looked up in
 * WARP_TABLE, where the tunnel's default route is backed by a blackhole
 * route that stays when the tunnel is down. The rules stay too. */
static void put_warp_routing(StrBuf *b, const WgWarp *w) {
        const char *from = w->forward_from;

        strbuf_printf(b, "# Only traffic forwarded from %s uses the tunnel: its routes go to table %u, not to\n"
                      "# the main table, so the tunnel's own packets to the endpoint still leave through %s.\n"
                      "# While the tunnel is down, a blackhole route drops that traffic instead of leaking it.\n"
                      "Table = %u\n"
                      "PostUp = sysctl -q -w net.ipv4.ip_forward=1\n"
                      "PostUp = ip -4 route replace blackhole default metric 4294967295 table %u\n",
                      from, WARP_TABLE, from, WARP_TABLE, WARP_TABLE);
        /* Deleted first so that repeated ups leave one rule of each; "|| true"
         * because wg-quick runs hooks with errexit. */
        strbuf_printf(b, "PostUp = ip -4 rule del pref %u iif %s lookup main suppress_prefixlength 0 2>/dev/null || true; "
                      "ip -4 rule add pref %u iif %s lookup main suppress_prefixlength 0\n",
                      WARP_RULE_PREF, from, WARP_RULE_PREF, from);
        strbuf_printf(b, "PostUp = ip -4 rule del pref %u iif %s lookup %u 2>/dev/null || true; "
                      "ip -4 rule add pref %u iif %s lookup %u\n",
                      WARP_RULE_PREF + 1, from, WARP_TABLE, WARP_RULE_PREF + 1, from, WARP_TABLE);
        put_nft_hooks(b, w->interface);
}

static char *render_warp(const WgWarp *w) {
        static const char *const all[] = { "0.0.0.0/0", "::/0" };
        _cleanup_(strbuf_done) StrBuf b = {};

        put_interface(&b, w->addresses, w->n_addresses, -1, w->mtu, w->private_key_file);
        if (w->forward)
                put_warp_routing(&b, w);
        else
                strbuf_puts(&b, "# forward is false: wg-quick adds no routes; route into the tunnel yourself.\n"
                            "Table = off\n");
        put_peer(&b, w->public_key, all, ELEMENTSOF(all), w->endpoint, w->keepalive);
        return strbuf_take(&b);
}

int wireguard_render_warp(json_object *block, const char *path, ServiceFiles *out, Diag *d) {
        _cleanup_(wg_warp_done) WgWarp w = {};
        _cleanup_(freep) char *chains = NULL, *kp = json_path_key(path, "private_key_file");
        int r;

        if (!kp)
                return -ENOMEM;
        r = parse_warp(block, path, &w, d);
        if (r < 0)
                return r;

        if (w.forward && asprintf(&chains,
                                  "        chain postrouting {\n"
                                  "                type nat hook postrouting priority srcnat; policy accept;\n"
                                  "                oifname \"%s\" masquerade\n"
                                  "        }\n"
                                  "        chain forward {\n"
                                  "                type filter hook forward priority mangle; policy accept;\n"
                                  "                oifname \"%s\" tcp flags syn tcp option maxseg size set rt mtu\n"
                                  "        }\n", w.interface, w.interface) < 0)
                return -ENOMEM;
        return add_tunnel(out, w.interface, render_warp(&w), chains ? nft_script(w.interface, chains) : NULL,
                          w.private_key_file, SERVICE_INPUT_PROVIDED, kp);
}
