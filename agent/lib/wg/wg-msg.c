/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* WireGuard's generic netlink messages, built and parsed without a
 * socket: the layout linux/wireguard.h describes, nests flagged
 * NLA_F_NESTED as the kernel's strict parser wants them. */
#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/wireguard.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "wg.h"

#define ALIGN4(n) (((n) + 3u) & ~(size_t) 3u)

static void erase(void *p, size_t n) {
        volatile uint8_t *v = p;

        while (n--)
                *v++ = 0;
}

void wg_peer_done(WgPeer *p) {
        free(p->allowed_ips);
        erase(p, sizeof *p);
}

void wg_device_done(WgDevice *d) {
        for (size_t i = 0; i < d->n_peers; i++)
                wg_peer_done(&d->peers[i]);
        free(d->peers);
        erase(d, sizeof *d);
}

void wg_msg_done(WgMsg *m) {
        if (m->buf)
                erase(m->buf, m->size);
        free(m->buf);
        *m = (WgMsg) {};
}

bool wg_key_equal(const uint8_t a[static WG_KEY_SIZE], const uint8_t b[static WG_KEY_SIZE]) {
        uint8_t x = 0;

        for (size_t i = 0; i < WG_KEY_SIZE; i++)
                x |= a[i] ^ b[i];
        return x == 0;
}

/* ---- building ---------------------------------------------------------------------- */

/* Room for n more bytes (zeroed); NULL when out of memory. Grows by
 * copying into a new buffer and erasing the old one (it may hold a key). */
static void *reserve(WgMsg *m, size_t n) {
        size_t need = m->len + ALIGN4(n);
        void *p;

        if (need > m->size) {
                size_t size = MAX(need, 2 * m->size);
                uint8_t *b = calloc(1, MAX(size, (size_t) 256));

                if (!b)
                        return NULL;
                if (m->buf) {
                        memcpy(b, m->buf, m->len);
                        erase(m->buf, m->size);
                        free(m->buf);
                }
                m->buf = b;
                m->size = MAX(size, (size_t) 256);
        }
        p = m->buf + m->len;
        memset(p, 0, ALIGN4(n));
        m->len = need;
        ((struct nlmsghdr *) m->buf)->nlmsg_len = (uint32_t) m->len;
        return p;
}

static int put(WgMsg *m, uint16_t type, const void *data, size_t len) {
        struct nlattr *a = reserve(m, NLA_HDRLEN + len);

        if (!a)
                return -ENOMEM;
        a->nla_type = type;
        a->nla_len = (uint16_t) (NLA_HDRLEN + len);
        if (len)
                memcpy((uint8_t *) a + NLA_HDRLEN, data, len);
        return 0;
}

static int put_u8(WgMsg *m, uint16_t type, uint8_t v) { return put(m, type, &v, sizeof v); }
static int put_u16(WgMsg *m, uint16_t type, uint16_t v) { return put(m, type, &v, sizeof v); }
static int put_u32(WgMsg *m, uint16_t type, uint32_t v) { return put(m, type, &v, sizeof v); }

/* Opens a nest: its offset in *ret (the buffer may move). */
static int nest_start(WgMsg *m, uint16_t type, size_t *ret) {
        *ret = m->len;
        return put(m, type | NLA_F_NESTED, NULL, 0);
}

static void nest_end(WgMsg *m, size_t start) {
        ((struct nlattr *) (m->buf + start))->nla_len = (uint16_t) (m->len - start);
}

static int header(WgMsg *m, uint16_t type, uint16_t flags, uint32_t seq, uint8_t cmd, uint8_t version) {
        struct nlmsghdr *h;
        struct genlmsghdr *g;

        *m = (WgMsg) {};
        h = reserve(m, NLMSG_HDRLEN);
        if (!h)
                return -ENOMEM;
        h->nlmsg_type = type;
        h->nlmsg_flags = flags;
        h->nlmsg_seq = seq;
        g = reserve(m, GENL_HDRLEN);
        if (!g) {
                wg_msg_done(m);
                return -ENOMEM;
        }
        g->cmd = cmd;
        g->version = version;
        return 0;
}

int wg_msg_get_family(uint32_t seq, WgMsg *ret) {
        int r = header(ret, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, seq, CTRL_CMD_GETFAMILY, 1);

        if (r >= 0)
                r = put(ret, CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME, sizeof WG_GENL_NAME);
        if (r < 0)
                wg_msg_done(ret);
        return r;
}

int wg_msg_get_device(uint16_t family, uint32_t seq, const char *ifname, WgMsg *ret) {
        int r;

        if (strlen(ifname) >= WG_IFNAME_SIZE)
                return -EINVAL;
        r = header(ret, family, NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP, seq, WG_CMD_GET_DEVICE, WG_GENL_VERSION);
        if (r >= 0)
                r = put(ret, WGDEVICE_A_IFNAME, ifname, strlen(ifname) + 1);
        if (r < 0)
                wg_msg_done(ret);
        return r;
}

static int put_endpoint(WgMsg *m, const WgEndpoint *e) {
        if (e->family == AF_INET) {
                struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(e->port) };

                memcpy(&sin.sin_addr, e->addr, 4);
                return put(m, WGPEER_A_ENDPOINT, &sin, sizeof sin);
        }
        if (e->family == AF_INET6) {
                struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(e->port) };

                memcpy(&sin6.sin6_addr, e->addr, 16);
                return put(m, WGPEER_A_ENDPOINT, &sin6, sizeof sin6);
        }
        return 0;
}

static int put_allowed_ips(WgMsg *m, const WgPeer *p) {
        size_t list, one;
        int r;

        r = nest_start(m, WGPEER_A_ALLOWEDIPS, &list);
        for (size_t i = 0; r >= 0 && i < p->n_allowed_ips; i++) {
                const WgAllowedIp *a = &p->allowed_ips[i];

                r = nest_start(m, 0, &one);
                if (r >= 0)
                        r = put_u16(m, WGALLOWEDIP_A_FAMILY, (uint16_t) a->family);
                if (r >= 0)
                        r = put(m, WGALLOWEDIP_A_IPADDR, a->addr, a->family == AF_INET ? 4 : 16);
                if (r >= 0)
                        r = put_u8(m, WGALLOWEDIP_A_CIDR_MASK, a->cidr);
                if (r >= 0)
                        nest_end(m, one);
        }
        if (r >= 0)
                nest_end(m, list);
        return r;
}

/* One entry of WGDEVICE_A_PEERS. A peer set has all its settings: a
 * preshared key of zeros and a keepalive of 0 take away the old ones. */
static int put_peer(WgMsg *m, const WgPeerChange *c) {
        static const uint8_t zero[WG_KEY_SIZE];
        const WgPeer *p = c->peer;
        size_t nest;
        int r;

        r = nest_start(m, 0, &nest);
        if (r >= 0)
                r = put(m, WGPEER_A_PUBLIC_KEY, p->public_key, WG_KEY_SIZE);
        if (r >= 0)
                r = put_u32(m, WGPEER_A_FLAGS, c->op == WG_PEER_REMOVE ? WGPEER_F_REMOVE_ME :
                                                                      WGPEER_F_REPLACE_ALLOWEDIPS);
        if (r >= 0 && c->op == WG_PEER_SET) {
                r = put(m, WGPEER_A_PRESHARED_KEY, p->has_preshared_key ? p->preshared_key : zero, WG_KEY_SIZE);
                if (r >= 0)
                        r = put_endpoint(m, &p->endpoint);
                if (r >= 0)
                        r = put_u16(m, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, p->keepalive);
                if (r >= 0)
                        r = put_allowed_ips(m, p);
        }
        if (r >= 0)
                nest_end(m, nest);
        return r;
}

int wg_msg_set_device(uint16_t family, uint32_t seq, const char *ifname, const WgDeviceChange *c, WgMsg *ret) {
        size_t peers;
        int r;

        if (strlen(ifname) >= WG_IFNAME_SIZE || c->listen_port > 65535)
                return -EINVAL;
        r = header(ret, family, NLM_F_REQUEST | NLM_F_ACK, seq, WG_CMD_SET_DEVICE, WG_GENL_VERSION);
        if (r >= 0)
                r = put(ret, WGDEVICE_A_IFNAME, ifname, strlen(ifname) + 1);
        if (r >= 0 && c->private_key)
                r = put(ret, WGDEVICE_A_PRIVATE_KEY, c->private_key, WG_KEY_SIZE);
        if (r >= 0 && c->listen_port >= 0)
                r = put_u16(ret, WGDEVICE_A_LISTEN_PORT, (uint16_t) c->listen_port);
        if (r >= 0 && c->n_peers > 0) {
                r = nest_start(ret, WGDEVICE_A_PEERS, &peers);
                for (size_t i = 0; r >= 0 && i < c->n_peers; i++)
                        r = put_peer(ret, &c->peers[i]);
                if (r >= 0)
                        nest_end(ret, peers);
        }
        if (r < 0)
                wg_msg_done(ret);
        return r;
}

/* ---- parsing ----------------------------------------------------------------------- */

/* Attributes of [p, p + len) by type (nested flag masked), up to max. */
static int attrs(const uint8_t *p, size_t len, const struct nlattr **tb, size_t max) {
        memset(tb, 0, (max + 1) * sizeof *tb);
        while (len >= NLA_HDRLEN) {
                const struct nlattr *a = (const struct nlattr *) p;
                uint16_t type = a->nla_type & NLA_TYPE_MASK;
                size_t step;

                if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
                        return -EBADMSG;
                if (type <= max)
                        tb[type] = a;
                step = ALIGN4(a->nla_len);
                if (step >= len)
                        break;
                p += step;
                len -= step;
        }
        return 0;
}

static const uint8_t *payload(const struct nlattr *a) {
        return (const uint8_t *) a + NLA_HDRLEN;
}

static size_t payload_len(const struct nlattr *a) {
        return a->nla_len - NLA_HDRLEN;
}

/* The next attribute nested in a after x (NULL: the first); NULL at the end. */
static const struct nlattr *nested_next(const struct nlattr *a, const struct nlattr *x) {
        const uint8_t *end = payload(a) + payload_len(a), *p;

        p = x ? (const uint8_t *) x + ALIGN4(x->nla_len) : payload(a);
        if (p + NLA_HDRLEN > end)
                return NULL;
        x = (const struct nlattr *) p;
        if (x->nla_len < NLA_HDRLEN || p + x->nla_len > end)
                return NULL;
        return x;
}

#define FOREACH_NESTED(a, x) for (const struct nlattr *x = nested_next(a, NULL); x; x = nested_next(a, x))

int wg_parse_family(const void *buf, size_t len, uint16_t *ret) {
        const struct nlmsghdr *h = buf;
        const struct nlattr *tb[CTRL_ATTR_FAMILY_ID + 1];

        if (len < NLMSG_HDRLEN || h->nlmsg_len > len || h->nlmsg_len < NLMSG_HDRLEN)
                return -EBADMSG;
        if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);

                if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e))
                        return -EBADMSG;
                return e->error == -ENOENT ? -ENOENT : -EBADMSG;
        }
        if (h->nlmsg_type != GENL_ID_CTRL || h->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
                return -EBADMSG;
        if (attrs((const uint8_t *) buf + NLMSG_HDRLEN + GENL_HDRLEN, h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, tb,
                  CTRL_ATTR_FAMILY_ID) < 0 ||
            !tb[CTRL_ATTR_FAMILY_ID] || payload_len(tb[CTRL_ATTR_FAMILY_ID]) < 2)
                return -EBADMSG;
        memcpy(ret, payload(tb[CTRL_ATTR_FAMILY_ID]), 2);
        return 0;
}

static int parse_allowed_ip(const struct nlattr *a, WgPeer *p) {
        const struct nlattr *tb[WGALLOWEDIP_A_MAX + 1];
        WgAllowedIp ip = {};
        uint16_t family;
        WgAllowedIp *t;

        if (attrs(payload(a), payload_len(a), tb, WGALLOWEDIP_A_MAX) < 0 || !tb[WGALLOWEDIP_A_FAMILY] ||
            !tb[WGALLOWEDIP_A_IPADDR] || !tb[WGALLOWEDIP_A_CIDR_MASK] || payload_len(tb[WGALLOWEDIP_A_FAMILY]) < 2)
                return -EBADMSG;
        memcpy(&family, payload(tb[WGALLOWEDIP_A_FAMILY]), 2);
        ip.family = family;
        if ((family != AF_INET && family != AF_INET6) ||
            payload_len(tb[WGALLOWEDIP_A_IPADDR]) != (family == AF_INET ? 4u : 16u))
                return -EBADMSG;
        memcpy(ip.addr, payload(tb[WGALLOWEDIP_A_IPADDR]), payload_len(tb[WGALLOWEDIP_A_IPADDR]));
        ip.cidr = *payload(tb[WGALLOWEDIP_A_CIDR_MASK]);
        t = realloc(p->allowed_ips, (p->n_allowed_ips + 1) * sizeof *t);
        if (!t)
                return -ENOMEM;
        p->allowed_ips = t;
        t[p->n_allowed_ips++] = ip;
        return 0;
}

static void parse_endpoint(const struct nlattr *a, WgEndpoint *e) {
        struct sockaddr_in6 sin6;
        struct sockaddr_in sin;

        if (payload_len(a) >= sizeof sin6 && ((const struct sockaddr *) payload(a))->sa_family == AF_INET6) {
                memcpy(&sin6, payload(a), sizeof sin6);
                *e = (WgEndpoint) { .family = AF_INET6, .port = ntohs(sin6.sin6_port) };
                memcpy(e->addr, &sin6.sin6_addr, 16);
        } else if (payload_len(a) >= sizeof sin && ((const struct sockaddr *) payload(a))->sa_family == AF_INET) {
                memcpy(&sin, payload(a), sizeof sin);
                *e = (WgEndpoint) { .family = AF_INET, .port = ntohs(sin.sin_port) };
                memcpy(e->addr, &sin.sin_addr, 4);
        }
}

/* One peer of a dump; the one before when the dump continues its allowed IPs. */
static int parse_peer(const struct nlattr *a, WgDevice *dev) {
        static const uint8_t zero[WG_KEY_SIZE];
        const struct nlattr *tb[WGPEER_A_MAX + 1];
        WgPeer *p;
        int r;

        if (attrs(payload(a), payload_len(a), tb, WGPEER_A_MAX) < 0 || !tb[WGPEER_A_PUBLIC_KEY] ||
            payload_len(tb[WGPEER_A_PUBLIC_KEY]) != WG_KEY_SIZE)
                return -EBADMSG;
        if (dev->n_peers > 0 &&
            memcmp(dev->peers[dev->n_peers - 1].public_key, payload(tb[WGPEER_A_PUBLIC_KEY]), WG_KEY_SIZE) == 0)
                p = &dev->peers[dev->n_peers - 1];
        else {
                WgPeer *t = realloc(dev->peers, (dev->n_peers + 1) * sizeof *t);

                if (!t)
                        return -ENOMEM;
                dev->peers = t;
                p = &t[dev->n_peers++];
                *p = (WgPeer) {};
                memcpy(p->public_key, payload(tb[WGPEER_A_PUBLIC_KEY]), WG_KEY_SIZE);
        }
        if (tb[WGPEER_A_PRESHARED_KEY] && payload_len(tb[WGPEER_A_PRESHARED_KEY]) == WG_KEY_SIZE) {
                memcpy(p->preshared_key, payload(tb[WGPEER_A_PRESHARED_KEY]), WG_KEY_SIZE);
                p->has_preshared_key = !wg_key_equal(p->preshared_key, zero);
        }
        if (tb[WGPEER_A_ENDPOINT])
                parse_endpoint(tb[WGPEER_A_ENDPOINT], &p->endpoint);
        if (tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL] && payload_len(tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL]) >= 2)
                memcpy(&p->keepalive, payload(tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL]), 2);
        if (tb[WGPEER_A_LAST_HANDSHAKE_TIME] && payload_len(tb[WGPEER_A_LAST_HANDSHAKE_TIME]) >= 8)
                memcpy(&p->last_handshake_sec, payload(tb[WGPEER_A_LAST_HANDSHAKE_TIME]), 8);
        if (tb[WGPEER_A_RX_BYTES] && payload_len(tb[WGPEER_A_RX_BYTES]) >= 8)
                memcpy(&p->rx_bytes, payload(tb[WGPEER_A_RX_BYTES]), 8);
        if (tb[WGPEER_A_TX_BYTES] && payload_len(tb[WGPEER_A_TX_BYTES]) >= 8)
                memcpy(&p->tx_bytes, payload(tb[WGPEER_A_TX_BYTES]), 8);
        if (tb[WGPEER_A_ALLOWEDIPS])
                FOREACH_NESTED(tb[WGPEER_A_ALLOWEDIPS], x) {
                        r = parse_allowed_ip(x, p);
                        if (r < 0)
                                return r;
                }
        return 0;
}

int wg_parse_device(const void *buf, size_t len, WgDevice *dev) {
        const struct nlattr *tb[WGDEVICE_A_MAX + 1];
        int r;

        if (len < GENL_HDRLEN || attrs((const uint8_t *) buf + GENL_HDRLEN, len - GENL_HDRLEN, tb, WGDEVICE_A_MAX) < 0)
                return -EBADMSG;
        if (tb[WGDEVICE_A_IFINDEX] && payload_len(tb[WGDEVICE_A_IFINDEX]) >= 4)
                memcpy(&dev->ifindex, payload(tb[WGDEVICE_A_IFINDEX]), 4);
        if (tb[WGDEVICE_A_IFNAME])
                snprintf(dev->ifname, sizeof dev->ifname, "%.*s", (int) strnlen((const char *) payload(tb[WGDEVICE_A_IFNAME]),
                         MIN(payload_len(tb[WGDEVICE_A_IFNAME]), sizeof dev->ifname - 1)),
                         (const char *) payload(tb[WGDEVICE_A_IFNAME]));
        if (tb[WGDEVICE_A_PRIVATE_KEY] && payload_len(tb[WGDEVICE_A_PRIVATE_KEY]) == WG_KEY_SIZE) {
                static const uint8_t zero[WG_KEY_SIZE];

                memcpy(dev->private_key, payload(tb[WGDEVICE_A_PRIVATE_KEY]), WG_KEY_SIZE);
                dev->has_private_key = !wg_key_equal(dev->private_key, zero);
        }
        if (tb[WGDEVICE_A_LISTEN_PORT] && payload_len(tb[WGDEVICE_A_LISTEN_PORT]) >= 2)
                memcpy(&dev->listen_port, payload(tb[WGDEVICE_A_LISTEN_PORT]), 2);
        if (tb[WGDEVICE_A_PEERS])
                FOREACH_NESTED(tb[WGDEVICE_A_PEERS], x) {
                        r = parse_peer(x, dev);
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* ---- text -------------------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c) {
        const char *p = c ? strchr(b64, c) : NULL;

        return p ? (int) (p - b64) : -1;
}

int wg_key_from_base64(const char *s, uint8_t ret[static WG_KEY_SIZE]) {
        uint8_t key[WG_KEY_SIZE];
        uint32_t acc = 0;
        size_t o = 0;

        if (strlen(s) != 44 || s[43] != '=')
                return -EINVAL;
        for (size_t i = 0; i < 43; i++) {
                int v = b64_value(s[i]);

                if (v < 0) {
                        erase(key, sizeof key);
                        return -EINVAL;
                }
                acc = (acc << 6) | (uint32_t) v;
                if (i % 4 == 3) {
                        key[o++] = (uint8_t) (acc >> 16);
                        key[o++] = (uint8_t) (acc >> 8);
                        key[o++] = (uint8_t) acc;
                        acc = 0;
                }
        }
        /* 43 characters: 10 groups of 4 and 3 more, 18 bits: 2 bytes and 2 bits that must be 0 */
        if (acc & 3) {
                erase(key, sizeof key);
                return -EINVAL;
        }
        key[o++] = (uint8_t) (acc >> 10);
        key[o++] = (uint8_t) (acc >> 2);
        memcpy(ret, key, WG_KEY_SIZE);
        erase(key, sizeof key);
        return 0;
}

void wg_key_to_base64(const uint8_t key[static WG_KEY_SIZE], char ret[static 45]) {
        size_t o = 0, i;

        for (i = 0; i + 3 <= WG_KEY_SIZE; i += 3) {
                uint32_t v = (uint32_t) key[i] << 16 | (uint32_t) key[i + 1] << 8 | key[i + 2];

                ret[o++] = b64[v >> 18 & 63];
                ret[o++] = b64[v >> 12 & 63];
                ret[o++] = b64[v >> 6 & 63];
                ret[o++] = b64[v & 63];
        }
        {
                uint32_t v = (uint32_t) key[i] << 16 | (uint32_t) key[i + 1] << 8;

                ret[o++] = b64[v >> 18 & 63];
                ret[o++] = b64[v >> 12 & 63];
                ret[o++] = b64[v >> 6 & 63];
                ret[o++] = '=';
        }
        ret[o] = 0;
}

int wg_endpoint_parse(const char *s, WgEndpoint *ret) {
        char host[INET6_ADDRSTRLEN + 2];
        const char *colon, *port;
        WgEndpoint e = {};
        unsigned long v;
        char *end;

        if (s[0] == '[') {
                const char *close = strchr(s, ']');

                if (!close || close[1] != ':' || (size_t) (close - s - 1) >= sizeof host)
                        return -EINVAL;
                snprintf(host, sizeof host, "%.*s", (int) (close - s - 1), s + 1);
                port = close + 2;
                e.family = AF_INET6;
        } else {
                colon = strchr(s, ':');
                if (!colon || strchr(colon + 1, ':') || (size_t) (colon - s) >= sizeof host)
                        return -EINVAL;
                snprintf(host, sizeof host, "%.*s", (int) (colon - s), s);
                port = colon + 1;
                e.family = AF_INET;
        }
        if (inet_pton(e.family, host, e.addr) != 1)
                return -EINVAL;
        if (*port < '1' || *port > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(port, &end, 10);
        if (errno || *end || v == 0 || v > 65535)
                return -EINVAL;
        e.port = (uint16_t) v;
        *ret = e;
        return 0;
}

void wg_endpoint_format(const WgEndpoint *e, char ret[static 64]) {
        char host[INET6_ADDRSTRLEN];

        if (e->family != AF_INET && e->family != AF_INET6) {
                ret[0] = 0;
                return;
        }
        inet_ntop(e->family, e->addr, host, sizeof host);
        snprintf(ret, 64, e->family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, e->port);
}
