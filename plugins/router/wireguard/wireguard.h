/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The wireguard plugin (section "wireguard", docs/router.md): the keys,
 * listen port and peers of the WireGuard interfaces op-router makes, over
 * agent/lib/wg (generic netlink). The links themselves, their MTU and
 * addresses are the interfaces plugin's (IF_WIREGUARD links, made and
 * recorded in its ledger like bridges), applied before the routes; this
 * plugin comes after the routes and before the firewall.
 *
 * Keys are never in the state: it names them ("private_key_secret",
 * "preshared_key_secret"), and the secrets file (mode 0600, owner root)
 * holds them, base64 of 32 bytes. Nothing here prints a key: a plan, a
 * message, a query say the name, or "<redacted>".
 *
 *   parse   section -> WgConfig, the secrets it names read and checked
 *   query   WG_CMD_GET_DEVICE of each interface of the section and each
 *           WireGuard link op-router made
 *   diff    per interface: the key and the port (a tunnel restart), then
 *           one message per peer added, changed or removed
 *   apply   the messages, in order */

#include <json-c/json.h>

#include "diag.h"
#include "interfaces.h"
#include "plan.h"
#include "wg.h"

#define WG_REDACTED "<redacted>"

typedef struct WgConfPeer {
        char *path;                  /* plugins.wireguard.interfaces[i].peers[j] */
        char *psk_secret;            /* NULL: none */
        bool has_endpoint;
        WgPeer peer;
} WgConfPeer;

typedef struct WgConfIf {
        char *name;
        char *path;
        int listen_port;             /* -1: the kernel's choice */
        char *key_secret;
        uint8_t private_key[WG_KEY_SIZE];
        WgConfPeer *peers;
        size_t n_peers;
} WgConfIf;

typedef struct WgConfig {
        bool present;
        WgConfIf *ifs;
        size_t n_ifs;
        json_object *secrets;        /* the secrets file, when the section names one */
        bool secrets_failed;         /* ... and it could not be read (said once) */
} WgConfig;

void wg_config_done(WgConfig *c);
/* secrets_file: where the secrets are (for reading and for messages). */
int wg_parse(WgConfig *c, json_object *section, const char *secrets_file, Diag *d);
/* The name of the secret whose key is key, or NULL. */
const char *wg_secret_name_of(const WgConfig *c, const uint8_t key[static WG_KEY_SIZE]);

/* ---- the secrets file ---- */

/* Reads the secrets file: a regular file, mode 0600 (nothing for group or
 * others), owned by root; a JSON object of names and base64 keys. Every
 * error names the file. */
int router_secrets_load(const char *file, json_object **ret, Diag *d);
/* The key named name (ref_path: where the state names it). The errors
 * name the secret in the file, never its value. */
int router_secret_key(json_object *secrets, const char *file, const char *name, const char *ref_path,
                      uint8_t ret[static WG_KEY_SIZE], Diag *d);

/* ---- the diff ---- */

typedef struct WgOp {
        char ifname[WG_IFNAME_SIZE];
        const uint8_t *private_key;  /* into the config */
        int listen_port;
        WgPeerChange peer;           /* peer.peer NULL: none */
} WgOp;

typedef struct WgChanges {
        WgOp *ops;
        size_t n_ops;
} WgChanges;

void wg_changes_done(WgChanges *c);
/* live[i]: the device of c->ifs[i] (has_device[i] false: none yet). */
int wg_diff(const WgConfig *c, const WgDevice *live, const bool *has_device, WgChanges *ret, Plan *plan, Diag *d);
/* The live devices as a section (keys by the name of the secret that
 * holds them, or WG_REDACTED). names/mtus/addresses from the links. */
int wg_live_to_json(const WgConfig *c, const WgDevice *devs, size_t n, const IfLive *links, json_object **ret);
