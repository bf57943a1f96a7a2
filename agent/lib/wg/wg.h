/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* WireGuard's generic netlink (family "wireguard", linux/wireguard.h):
 * the messages op-router sends written here, over a plain NETLINK_GENERIC
 * socket (docs/router.md, "WireGuard").
 *
 *   wg-msg.c     the messages, built and parsed without a socket (pure)
 *   wg-socket.c  the socket: the family's id, a device's dump, a change
 *
 * A device is changed peer by peer: wg_msg_set_device() names the peers
 * it adds, changes (WGPEER_F_REPLACE_ALLOWEDIPS: the peer's allowed IPs
 * are the message's) or removes (WGPEER_F_REMOVE_ME); the peers it does
 * not name are left as they are. Keys are 32 bytes; what holds one is
 * erased before it is freed. Functions return a negative errno. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define WG_KEY_SIZE 32
#define WG_IFNAME_SIZE 16

typedef struct WgAllowedIp {
        int family;                    /* AF_INET, AF_INET6 */
        uint8_t addr[16];
        uint8_t cidr;
} WgAllowedIp;

typedef struct WgEndpoint {
        int family;                    /* 0: none */
        uint8_t addr[16];
        uint16_t port;                 /* host order */
} WgEndpoint;

typedef struct WgPeer {
        uint8_t public_key[WG_KEY_SIZE];
        bool has_preshared_key;        /* set: this key; live: the kernel's is not all zeros */
        uint8_t preshared_key[WG_KEY_SIZE];
        WgEndpoint endpoint;
        uint16_t keepalive;            /* seconds, 0: off */
        WgAllowedIp *allowed_ips;
        size_t n_allowed_ips;
        /* live only */
        int64_t last_handshake_sec;    /* 0: never */
        uint64_t rx_bytes, tx_bytes;
} WgPeer;

typedef struct WgDevice {
        char ifname[WG_IFNAME_SIZE];
        int ifindex;
        bool has_private_key;
        uint8_t private_key[WG_KEY_SIZE];
        uint16_t listen_port;
        WgPeer *peers;
        size_t n_peers;
} WgDevice;

/* Erases the keys, frees the lists. */
void wg_peer_done(WgPeer *p);
void wg_device_done(WgDevice *d);

/* What one WG_CMD_SET_DEVICE changes. */
typedef enum WgPeerOp {
        WG_PEER_SET,                   /* add or change: WGPEER_F_REPLACE_ALLOWEDIPS */
        WG_PEER_REMOVE,                /* WGPEER_F_REMOVE_ME */
} WgPeerOp;

typedef struct WgPeerChange {
        WgPeerOp op;
        const WgPeer *peer;
} WgPeerChange;

typedef struct WgDeviceChange {
        const uint8_t *private_key;    /* NULL: as it is */
        int listen_port;               /* -1: as it is */
        const WgPeerChange *peers;
        size_t n_peers;
} WgDeviceChange;

/* A netlink message being built (erased when freed: it may hold a key). */
typedef struct WgMsg {
        uint8_t *buf;
        size_t len, size;
} WgMsg;

void wg_msg_done(WgMsg *m);

/* CTRL_CMD_GETFAMILY for "wireguard" (GENL_ID_CTRL). */
int wg_msg_get_family(uint32_t seq, WgMsg *ret);
/* The family id in an answer to it: -ENOENT when it is an error saying
 * there is no such family, -EBADMSG for anything else. */
int wg_parse_family(const void *buf, size_t len, uint16_t *ret);
/* WG_CMD_GET_DEVICE (a dump) of the device named ifname. */
int wg_msg_get_device(uint16_t family, uint32_t seq, const char *ifname, WgMsg *ret);
/* WG_CMD_SET_DEVICE of ifname (never WGDEVICE_F_REPLACE_PEERS). */
int wg_msg_set_device(uint16_t family, uint32_t seq, const char *ifname, const WgDeviceChange *c, WgMsg *ret);
/* Adds what one message of a WG_CMD_GET_DEVICE dump says (the device's
 * attributes, its peers, and the allowed IPs of a peer the dump split
 * over messages) to dev. -EBADMSG for a malformed message. */
int wg_parse_device(const void *payload, size_t len, WgDevice *dev);

/* ---- the socket ---- */

typedef struct Wg Wg;

/* -EOPNOTSUPP when the kernel has no WireGuard (no such family). */
int wg_open(Wg **ret);
void wg_close(Wg *w);
/* The device named ifname as the kernel reports it; -ENODEV when there is
 * no such WireGuard device. */
int wg_get_device(Wg *w, const char *ifname, WgDevice *ret);
/* Sends one WG_CMD_SET_DEVICE and waits for its answer. */
int wg_set_device(Wg *w, const char *ifname, const WgDeviceChange *c);
/* Messages sent that change something (wg_set_device). */
unsigned wg_writes(const Wg *w);

/* ---- text ---- */

/* Standard base64 of exactly 32 bytes (44 characters, one '='): -EINVAL
 * for anything else. */
int wg_key_from_base64(const char *s, uint8_t ret[static WG_KEY_SIZE]);
/* 45 bytes with the NUL. */
void wg_key_to_base64(const uint8_t key[static WG_KEY_SIZE], char ret[static 45]);
/* "198.51.100.1:51820", "[2001:db8::1]:51820": numeric only (no names:
 * op-router resolves nothing). -EINVAL otherwise. */
int wg_endpoint_parse(const char *s, WgEndpoint *ret);
void wg_endpoint_format(const WgEndpoint *e, char ret[static 64]);
/* Constant time, for keys. */
bool wg_key_equal(const uint8_t a[static WG_KEY_SIZE], const uint8_t b[static WG_KEY_SIZE]);
