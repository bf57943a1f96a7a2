/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* WireGuard without a kernel: the generic netlink messages byte by byte
 * (WG_CMD_SET_DEVICE with one peer: its flags, allowed IPs, endpoint;
 * never WGDEVICE_F_REPLACE_PEERS), a dump parsed back (a peer split over
 * two messages), keys and endpoints as text; the section parsed (every
 * error at its JSON path, keys only by reference) and the diff (one
 * message per peer; a key or port change is a tunnel restart). The kernel:
 * tests/vm/scenarios/wireguard.sh, in the aarch64 virtual machine. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/wireguard.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json-util.h"
#include "router.h"
#include "router-tests.h"
#include "wireguard.h"
#include "wg.h"

/* The expected bytes, written out independently of wg-msg.c. */
typedef struct Bytes {
        uint8_t b[1024];
        size_t n;
} Bytes;

static void raw(Bytes *x, const void *p, size_t n) {
        memcpy(x->b + x->n, p, n);
        x->n += n;
        while (x->n % 4)
                x->b[x->n++] = 0;
}

static size_t attr(Bytes *x, uint16_t type, const void *p, size_t n) {
        uint16_t h[2] = { (uint16_t) (4 + n), type };
        size_t at = x->n;

        memcpy(x->b + x->n, h, 4);
        x->n += 4;
        if (n)
                raw(x, p, n);
        return at;
}

static void close_nest(Bytes *x, size_t at) {
        uint16_t len = (uint16_t) (x->n - at);

        memcpy(x->b + at, &len, 2);
}

static void fill(uint8_t k[static WG_KEY_SIZE], uint8_t first) {
        for (unsigned i = 0; i < WG_KEY_SIZE; i++)
                k[i] = (uint8_t) (first + i);
}

static WgPeer example_peer(void) {
        static WgAllowedIp ips[2];
        WgPeer p = { .keepalive = 25, .allowed_ips = ips, .n_allowed_ips = 2,
                     .endpoint = { .family = AF_INET, .port = 51820 } };

        ips[0] = (WgAllowedIp) { .family = AF_INET, .cidr = 24 };
        inet_pton(AF_INET, "10.0.0.0", ips[0].addr);
        ips[1] = (WgAllowedIp) { .family = AF_INET6, .cidr = 64 };
        inet_pton(AF_INET6, "fd00::", ips[1].addr);
        inet_pton(AF_INET, "192.0.2.1", p.endpoint.addr);
        fill(p.public_key, 0x40);
        return p;
}

TEST(test_set_device_one_peer) {
        _cleanup_(wg_msg_done) WgMsg m = {};
        uint8_t priv[WG_KEY_SIZE], zero[WG_KEY_SIZE] = {};
        WgPeer p = example_peer();
        WgPeerChange pc = { .op = WG_PEER_SET, .peer = &p };
        WgDeviceChange c = { .private_key = priv, .listen_port = 51820, .peers = &pc, .n_peers = 1 };
        struct nlmsghdr h = { .nlmsg_type = 0x1d, .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = 7 };
        struct genlmsghdr g = { .cmd = WG_CMD_SET_DEVICE, .version = 1 };
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(51820) };
        uint16_t port = 51820, keepalive = 25, fam4 = AF_INET, fam6 = AF_INET6;
        uint32_t flags = WGPEER_F_REPLACE_ALLOWEDIPS;
        uint8_t cidr24 = 24, cidr64 = 64;
        Bytes x = {};
        size_t peers, peer, ips, ip;

        fill(priv, 1);
        inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
        ASSERT_EQ(wg_msg_set_device(0x1d, 7, "wg0", &c, &m), 0);

        raw(&x, &h, sizeof h);
        raw(&x, &g, sizeof g);
        attr(&x, WGDEVICE_A_IFNAME, "wg0", 4);
        attr(&x, WGDEVICE_A_PRIVATE_KEY, priv, 32);
        attr(&x, WGDEVICE_A_LISTEN_PORT, &port, 2);
        peers = attr(&x, WGDEVICE_A_PEERS | NLA_F_NESTED, NULL, 0);
        peer = attr(&x, 0 | NLA_F_NESTED, NULL, 0);
        attr(&x, WGPEER_A_PUBLIC_KEY, p.public_key, 32);
        attr(&x, WGPEER_A_FLAGS, &flags, 4);
        attr(&x, WGPEER_A_PRESHARED_KEY, zero, 32);      /* none: all zeros */
        attr(&x, WGPEER_A_ENDPOINT, &sin, sizeof sin);
        attr(&x, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, &keepalive, 2);
        ips = attr(&x, WGPEER_A_ALLOWEDIPS | NLA_F_NESTED, NULL, 0);
        ip = attr(&x, 0 | NLA_F_NESTED, NULL, 0);
        attr(&x, WGALLOWEDIP_A_FAMILY, &fam4, 2);
        attr(&x, WGALLOWEDIP_A_IPADDR, p.allowed_ips[0].addr, 4);
        attr(&x, WGALLOWEDIP_A_CIDR_MASK, &cidr24, 1);
        close_nest(&x, ip);
        ip = attr(&x, 0 | NLA_F_NESTED, NULL, 0);
        attr(&x, WGALLOWEDIP_A_FAMILY, &fam6, 2);
        attr(&x, WGALLOWEDIP_A_IPADDR, p.allowed_ips[1].addr, 16);
        attr(&x, WGALLOWEDIP_A_CIDR_MASK, &cidr64, 1);
        close_nest(&x, ip);
        close_nest(&x, ips);
        close_nest(&x, peer);
        close_nest(&x, peers);
        ((struct nlmsghdr *) x.b)->nlmsg_len = (uint32_t) x.n;

        ASSERT_EQ(m.len, x.n);
        for (size_t i = 0; i < x.n; i++)
                if (m.buf[i] != x.b[i])
                        TEST_FAIL("byte %zu: 0x%02x, expected 0x%02x", i, m.buf[i], x.b[i]);
}

/* Removing one peer names only it: no WGDEVICE_A_FLAGS (so never
 * WGDEVICE_F_REPLACE_PEERS), no key, no port. */
TEST(test_remove_peer) {
        _cleanup_(wg_msg_done) WgMsg m = {};
        WgPeer p = example_peer();
        WgPeerChange pc = { .op = WG_PEER_REMOVE, .peer = &p };
        WgDeviceChange c = { .listen_port = -1, .peers = &pc, .n_peers = 1 };
        uint32_t flags = WGPEER_F_REMOVE_ME;
        Bytes x = {};
        size_t peers, peer;

        ASSERT_EQ(wg_msg_set_device(0x1d, 8, "wg1", &c, &m), 0);
        x.n = NLMSG_HDRLEN + GENL_HDRLEN;
        attr(&x, WGDEVICE_A_IFNAME, "wg1", 4);
        peers = attr(&x, WGDEVICE_A_PEERS | NLA_F_NESTED, NULL, 0);
        peer = attr(&x, NLA_F_NESTED, NULL, 0);
        attr(&x, WGPEER_A_PUBLIC_KEY, p.public_key, 32);
        attr(&x, WGPEER_A_FLAGS, &flags, 4);
        close_nest(&x, peer);
        close_nest(&x, peers);
        ASSERT_EQ(m.len, x.n);
        ASSERT_TRUE(memcmp(m.buf + NLMSG_HDRLEN + GENL_HDRLEN, x.b + NLMSG_HDRLEN + GENL_HDRLEN,
                           x.n - NLMSG_HDRLEN - GENL_HDRLEN) == 0);
}

TEST(test_get_family_and_device) {
        _cleanup_(wg_msg_done) WgMsg f = {}, g = {};
        const struct nlmsghdr *h;
        uint8_t answer[64] = {};
        struct nlmsghdr *ah = (struct nlmsghdr *) answer;
        uint16_t id;

        ASSERT_EQ(wg_msg_get_family(1, &f), 0);
        h = (const struct nlmsghdr *) f.buf;
        ASSERT_EQ(h->nlmsg_type, GENL_ID_CTRL);
        ASSERT_EQ(((const struct genlmsghdr *) (f.buf + NLMSG_HDRLEN))->cmd, CTRL_CMD_GETFAMILY);
        ASSERT_EQ(f.len, NLMSG_HDRLEN + GENL_HDRLEN + 4 + 12);   /* "wireguard\0", padded */
        ASSERT_STREQ((const char *) f.buf + NLMSG_HDRLEN + GENL_HDRLEN + 4, "wireguard");

        ASSERT_EQ(wg_msg_get_device(0x1d, 2, "wg0", &g), 0);
        h = (const struct nlmsghdr *) g.buf;
        ASSERT_EQ(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP);
        ASSERT_EQ(((const struct genlmsghdr *) (g.buf + NLMSG_HDRLEN))->cmd, WG_CMD_GET_DEVICE);
        ASSERT_EQ(wg_msg_get_device(0x1d, 2, "a-name-too-long0", &g), -EINVAL);

        /* the controller's answer: CTRL_ATTR_FAMILY_ID */
        ah->nlmsg_type = GENL_ID_CTRL;
        ah->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + 8;
        answer[NLMSG_HDRLEN + GENL_HDRLEN] = 6;
        answer[NLMSG_HDRLEN + GENL_HDRLEN + 2] = CTRL_ATTR_FAMILY_ID;
        answer[NLMSG_HDRLEN + GENL_HDRLEN + 4] = 0x22;
        ASSERT_EQ(wg_parse_family(answer, sizeof answer, &id), 0);
        ASSERT_EQ(id, 0x22);
        /* no such family: the module is missing */
        memset(answer, 0, sizeof answer);
        ah->nlmsg_type = NLMSG_ERROR;
        ah->nlmsg_len = NLMSG_LENGTH(sizeof(struct nlmsgerr));
        ((struct nlmsgerr *) NLMSG_DATA(ah))->error = -ENOENT;
        ASSERT_EQ(wg_parse_family(answer, sizeof answer, &id), -ENOENT);
}

/* A dump answer has the peers' layout of a change: parsed back, and a
 * peer the kernel continues in a second message is one peer. */
TEST(test_parse_dump) {
        _cleanup_(wg_msg_done) WgMsg m = {}, m2 = {};
        _cleanup_(wg_device_done) WgDevice dev = {};
        WgPeer p = example_peer(), q = example_peer();
        WgPeerChange pc = { .op = WG_PEER_SET, .peer = &p }, qc = { .op = WG_PEER_SET, .peer = &q };
        uint8_t priv[WG_KEY_SIZE];
        WgDeviceChange c = { .private_key = priv, .listen_port = 51820, .peers = &pc, .n_peers = 1 };
        WgDeviceChange c2 = { .listen_port = -1, .peers = &qc, .n_peers = 1 };
        char text[64];

        fill(priv, 9);
        p.has_preshared_key = true;
        fill(p.preshared_key, 0x70);
        ASSERT_EQ(wg_msg_set_device(0x1d, 1, "wg0", &c, &m), 0);
        ASSERT_EQ(wg_parse_device(m.buf + NLMSG_HDRLEN, m.len - NLMSG_HDRLEN, &dev), 0);
        ASSERT_STREQ(dev.ifname, "wg0");
        ASSERT_TRUE(dev.has_private_key && wg_key_equal(dev.private_key, priv));
        ASSERT_EQ(dev.listen_port, 51820);
        ASSERT_EQ(dev.n_peers, 1);
        ASSERT_TRUE(dev.peers[0].has_preshared_key && wg_key_equal(dev.peers[0].preshared_key, p.preshared_key));
        ASSERT_EQ(dev.peers[0].keepalive, 25);
        wg_endpoint_format(&dev.peers[0].endpoint, text);
        ASSERT_STREQ(text, "192.0.2.1:51820");
        ASSERT_EQ(dev.peers[0].n_allowed_ips, 2);
        ASSERT_EQ(dev.peers[0].allowed_ips[1].family, AF_INET6);
        ASSERT_EQ(dev.peers[0].allowed_ips[1].cidr, 64);

        /* the same peer again: its allowed IPs continue */
        ASSERT_EQ(wg_msg_set_device(0x1d, 1, "wg0", &c2, &m2), 0);
        ASSERT_EQ(wg_parse_device(m2.buf + NLMSG_HDRLEN, m2.len - NLMSG_HDRLEN, &dev), 0);
        ASSERT_EQ(dev.n_peers, 1);
        ASSERT_EQ(dev.peers[0].n_allowed_ips, 4);

        /* truncated: refused, not read past */
        ASSERT_EQ(wg_parse_device(m.buf + NLMSG_HDRLEN, 30, &dev), -EBADMSG);
}

TEST(test_text) {
        uint8_t k[WG_KEY_SIZE], back[WG_KEY_SIZE];
        char b[45];
        WgEndpoint e;

        fill(k, 200);
        wg_key_to_base64(k, b);
        ASSERT_EQ(strlen(b), 44);
        ASSERT_EQ(wg_key_from_base64(b, back), 0);
        ASSERT_TRUE(wg_key_equal(k, back));
        ASSERT_EQ(wg_key_from_base64("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=", back), 0);
        ASSERT_EQ(back[0], 0xc8);
        ASSERT_EQ(wg_key_from_base64("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk", back), -EINVAL);   /* 43 */
        ASSERT_EQ(wg_key_from_base64("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk==", back), -EINVAL);
        ASSERT_EQ(wg_key_from_base64("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBm!=", back), -EINVAL);
        ASSERT_EQ(wg_key_from_base64("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmn=", back), -EINVAL); /* bits left */
        ASSERT_EQ(wg_key_from_base64("c2hvcnQ=", back), -EINVAL);

        ASSERT_EQ(wg_endpoint_parse("198.51.100.7:51820", &e), 0);
        ASSERT_EQ(e.family, AF_INET);
        ASSERT_EQ(e.port, 51820);
        ASSERT_EQ(wg_endpoint_parse("[2001:db8::7]:1", &e), 0);
        ASSERT_EQ(e.family, AF_INET6);
        ASSERT_EQ(wg_endpoint_parse("vpn.example.com:51820", &e), -EINVAL);
        ASSERT_EQ(wg_endpoint_parse("198.51.100.7", &e), -EINVAL);
        ASSERT_EQ(wg_endpoint_parse("198.51.100.7:0", &e), -EINVAL);
        ASSERT_EQ(wg_endpoint_parse("198.51.100.7:65536", &e), -EINVAL);
        ASSERT_EQ(wg_endpoint_parse("2001:db8::7:51820", &e), -EINVAL);
}

/* ---- the section ------------------------------------------------------------------- */

#define KEY_A "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#define KEY_B "GI6EdUSo0N4CF8ahsKn5NkRnPEVobCo2/qDr9YxY2n8="
#define PUB_1 "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
#define PUB_2 "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0="
#define PUB_3 "gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA="

static char secrets_dir[] = "/tmp/test-wireguard-XXXXXX";
static char secrets_file[64];

static void write_secrets(const char *text, mode_t mode) {
        int fd;

        snprintf(secrets_file, sizeof secrets_file, "%s/secrets.json", secrets_dir);
        fd = open(secrets_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        ASSERT_EQ(fchmod(fd, mode), 0);
        close(fd);
}

static int parse(WgConfig *c, const char *section, Diag *d) {
        _cleanup_(json_object_putp) json_object *o = json_from_text(section);

        return wg_parse(c, o, secrets_file, d);
}

static bool diag_mentions(const Diag *d, const char *text) {
        for (size_t i = 0; i < d->n_entries; i++)
                if (strstr(d->entries[i].message, text))
                        return true;
        return false;
}

TEST(test_parse_errors) {
        _cleanup_(wg_config_done) WgConfig c = {};
        _cleanup_(diag_done) Diag d = {};

        write_secrets("{\"wg0\": \"" KEY_A "\", \"short\": \"c2hvcnQ=\"}", 0600);
        ASSERT_EQ(parse(&c, "{\"interfaces\": [{\"name\": \"wg0\", \"private_key\": \"" KEY_A "\","
                             " \"peers\": [{\"public_key\": \"nope\", \"endpoint\": \"vpn.example.com:1\","
                             " \"allowed_ips\": [\"10.0.0.1/24\"], \"preshared_key\": \"" KEY_B "\"},"
                             " {\"public_key\": \"" PUB_1 "\", \"persistent_keepalive\": 70000}]},"
                             " {\"name\": \"wg1\", \"private_key_secret\": \"short\", \"listen_port\": 51820,"
                             "  \"peers\": [{\"public_key\": \"" PUB_1 "\", \"allowed_ips\": [\"10.1.0.0/16\"]},"
                             "  {\"public_key\": \"" PUB_2 "\", \"allowed_ips\": [\"10.2.0.0/16\", \"10.1.0.0/16\"]}]},"
                             " {\"name\": \"wg2\", \"private_key_secret\": \"missing\", \"listen_port\": 0},"
                             " {\"name\": \"wg3\", \"private_key_secret\": \"wg0\", \"listen_port\": 51820}], \"x\": 1}", &d),
                  -EINVAL);
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.wireguard.x"));
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.wireguard.interfaces[0].private_key"));
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.wireguard.interfaces[0].private_key_secret"));   /* required */
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.wireguard.interfaces[0].peers[0].public_key"));
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.wireguard.interfaces[0].peers[0].endpoint"));
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.wireguard.interfaces[0].peers[0].allowed_ips[0]"));
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.wireguard.interfaces[0].peers[0].preshared_key"));
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.wireguard.interfaces[0].peers[1].persistent_keepalive"));
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.wireguard.interfaces[1].private_key_secret"));
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.wireguard.interfaces[2].private_key_secret"));
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.wireguard.interfaces[2].listen_port"));
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.wireguard.interfaces[1].peers[1].allowed_ips[1]"));
        ASSERT_TRUE(!diag_has_error_at(&d, "plugins.wireguard.interfaces[1].peers[1].allowed_ips[0]"));
        ASSERT_TRUE(diag_has_error_at(&d, "plugins.wireguard.interfaces[3].listen_port"));
        ASSERT_TRUE(diag_mentions(&d, "move it into the secrets file"));
        ASSERT_TRUE(diag_mentions(&d, "\"private_key_secret\": \"wg0\""));
        /* no key is ever quoted */
        for (size_t i = 0; i < d.n_entries; i++) {
                ASSERT_TRUE(!strstr(d.entries[i].message, KEY_A) && !strstr(d.entries[i].message, KEY_B));
                ASSERT_TRUE(!strstr(d.entries[i].message, "c2hvcnQ"));
        }
}

TEST(test_secrets_file_refused) {
        _cleanup_(wg_config_done) WgConfig c = {};
        _cleanup_(diag_done) Diag d = {}, d2 = {};

        if (geteuid() != 0)
                return;  /* the owner must be root: the integration tests prove it as root */
        write_secrets("{\"wg0\": \"" KEY_A "\"}", 0640);
        ASSERT_EQ(parse(&c, "{\"interfaces\": [{\"name\": \"wg0\", \"private_key_secret\": \"wg0\"},"
                             " {\"name\": \"wg1\", \"private_key_secret\": \"wg0\"}]}", &d), -EINVAL);
        ASSERT_EQ(diag_count(&d, DIAG_ERROR), 1);   /* said once */
        ASSERT_TRUE(diag_mentions(&d, secrets_file));
        ASSERT_TRUE(diag_mentions(&d, "0600"));
        write_secrets("{\"wg0\": \"" KEY_A "\"", 0600);
        ASSERT_EQ(parse(&c, "{\"interfaces\": [{\"name\": \"wg0\", \"private_key_secret\": \"wg0\"}]}", &d2), -EINVAL);
        ASSERT_TRUE(diag_mentions(&d2, "is not a JSON object"));
        ASSERT_TRUE(!diag_mentions(&d2, KEY_A));
}

static const WgPeerChange *op_peer(const WgChanges *ch, size_t i) {
        return ch->ops[i].peer.peer ? &ch->ops[i].peer : NULL;
}

TEST(test_diff_peer_by_peer) {
        _cleanup_(wg_config_done) WgConfig c = {};
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(plan_done) Plan plan = {}, plan2 = {};
        _cleanup_(wg_changes_done) WgChanges ch = {}, ch2 = {};
        WgDevice live = {};
        WgPeer peers[2] = {};
        WgAllowedIp ip1 = { .family = AF_INET, .cidr = 32 };
        bool has = true;

        if (geteuid() != 0)
                return;
        write_secrets("{\"wg0\": \"" KEY_A "\", \"wg0-new\": \"" KEY_B "\"}", 0600);
        ASSERT_EQ(parse(&c, "{\"interfaces\": [{\"name\": \"wg0\", \"listen_port\": 51820, \"private_key_secret\": \"wg0\","
                             " \"peers\": [{\"public_key\": \"" PUB_1 "\", \"allowed_ips\": [\"10.9.0.1/32\"]},"
                             " {\"public_key\": \"" PUB_2 "\", \"allowed_ips\": [\"10.9.0.2/32\"],"
                             " \"persistent_keepalive\": 25}]}]}", &d), 0);
        /* the kernel: peer 1 as wanted, peer 3 that goes; peer 2 is new */
        snprintf(live.ifname, sizeof live.ifname, "wg0");
        ASSERT_EQ(wg_key_from_base64(KEY_A, live.private_key), 0);
        live.has_private_key = true;
        live.listen_port = 51820;
        inet_pton(AF_INET, "10.9.0.1", ip1.addr);
        ASSERT_EQ(wg_key_from_base64(PUB_1, peers[0].public_key), 0);
        peers[0].allowed_ips = &ip1;
        peers[0].n_allowed_ips = 1;
        ASSERT_EQ(wg_key_from_base64(PUB_3, peers[1].public_key), 0);
        live.peers = peers;
        live.n_peers = 2;

        ASSERT_EQ(wg_diff(&c, &live, &has, &ch, &plan, &d), 0);
        ASSERT_EQ(ch.n_ops, 2);                        /* one message per peer, none for peer 1 */
        ASSERT_TRUE(op_peer(&ch, 0) && op_peer(&ch, 0)->op == WG_PEER_SET);
        ASSERT_TRUE(memcmp(op_peer(&ch, 0)->peer->public_key, c.ifs[0].peers[1].peer.public_key, 32) == 0);
        ASSERT_TRUE(ch.ops[0].private_key == NULL && ch.ops[0].listen_port == -1);
        ASSERT_TRUE(op_peer(&ch, 1) && op_peer(&ch, 1)->op == WG_PEER_REMOVE);
        ASSERT_EQ(plan.n_actions, 2);
        for (size_t i = 0; i < plan.n_actions; i++)
                ASSERT_TRUE(plan.actions[i].impact == IMPACT_NONE);

        /* a new private key (and port): a tunnel restart, named by its secret */
        free(c.ifs[0].key_secret);
        c.ifs[0].key_secret = strdup("wg0-new");
        ASSERT_EQ(wg_key_from_base64(KEY_B, c.ifs[0].private_key), 0);
        c.ifs[0].listen_port = 51821;
        live.n_peers = 0;
        ASSERT_EQ(wg_diff(&c, &live, &has, &ch2, &plan2, &d), 0);
        ASSERT_TRUE(ch2.ops[0].private_key && ch2.ops[0].listen_port == 51821 && !op_peer(&ch2, 0));
        ASSERT_TRUE(plan2.actions[0].impact == IMPACT_TUNNEL_RESTART);
        ASSERT_CONTAINS(plan2.actions[0].detail, "wg0-new");
        ASSERT_TRUE(!strstr(plan2.actions[0].detail, KEY_B));
}

int main(void) {
        ASSERT_TRUE(mkdtemp(secrets_dir));
        snprintf(secrets_file, sizeof secrets_file, "%s/secrets.json", secrets_dir);
        RUN(test_set_device_one_peer);
        RUN(test_remove_peer);
        RUN(test_get_family_and_device);
        RUN(test_parse_dump);
        RUN(test_text);
        RUN(test_parse_errors);
        RUN(test_secrets_file_refused);
        RUN(test_diff_peer_by_peer);
        unlink(secrets_file);
        rmdir(secrets_dir);
        return 0;
}
