/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The wireguard section -> WgConfig: every error with its JSON path, the
 * keys it names read from the secrets file. Name, MTU and addresses are
 * checked by the interfaces plugin, which makes the links. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file-trust.h"
#include "fileio.h"
#include "json-util.h"
#include "router.h"
#include "wireguard.h"

#define SECTION "plugins.wireguard"
#define SECRETS_FILE_MAX (1u << 20)

static void peer_done(WgConfPeer *p) {
        free(p->path);
        free(p->psk_secret);
        wg_peer_done(&p->peer);
}

static void if_done(WgConfIf *i) {
        free(i->name);
        free(i->path);
        free(i->key_secret);
        explicit_bzero(i->private_key, sizeof i->private_key);
        for (size_t k = 0; k < i->n_peers; k++)
                peer_done(&i->peers[k]);
        free(i->peers);
}

void wg_config_done(WgConfig *c) {
        for (size_t i = 0; i < c->n_ifs; i++)
                if_done(&c->ifs[i]);
        free(c->ifs);
        json_object_put(c->secrets);
        *c = (WgConfig) {};
}

const char *wg_secret_name_of(const WgConfig *c, const uint8_t key[static WG_KEY_SIZE]) {
        if (!c->secrets)
                return NULL;
        json_object_object_foreach(c->secrets, name, value) {
                uint8_t k[WG_KEY_SIZE];
                bool same;

                if (!json_object_is_type(value, json_type_string) ||
                    wg_key_from_base64(json_object_get_string(value), k) < 0)
                        continue;
                same = wg_key_equal(k, key);
                explicit_bzero(k, sizeof k);
                if (same)
                        return name;
        }
        return NULL;
}

/* ---- the secrets file -------------------------------------------------------------- */

/* Only root may have written it, and only root may read it. */
static const FileTrust secrets_trust = {
        .what = "the secrets file",
        .forbidden_mode = 077,
        .mode_rule = "accessible to group or others, expected 0600",
        .chmod = "0600",
        .caller_may_own = false,
};

static void erase_freep(char **s) {
        if (*s)
                explicit_bzero(*s, strlen(*s));
        free(*s);
}

int router_secrets_load(const char *file, json_object **ret, Diag *d) {
        _cleanup_(closep) int fd = -EBADF;
        _cleanup_(erase_freep) char *text = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        enum json_tokener_error e = json_tokener_success;
        struct stat st;
        size_t len;
        int r;

        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = negative_errno();
                if (r == -ENOENT)
                        diag_error(d, "", "the secrets file %s does not exist: the state names keys in it; create it "
                                   "(a JSON object of names and base64 keys), mode 0600, owner root", file);
                else
                        diag_error(d, "", "cannot open the secrets file %s: %s", file, strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0)
                return negative_errno();
        r = file_trust_check(fd, &st, file, &secrets_trust, "", d);
        if (r < 0)
                return r;
        r = read_fd_bounded(fd, SECRETS_FILE_MAX, &text, &len);
        if (r < 0) {
                diag_error(d, "", "cannot read the secrets file %s: %s", file,
                           r == -EFBIG ? "it is over 1 MiB" : strerror(-r));
                return r;
        }
        o = json_tokener_parse_verbose(text, &e);
        /* not quoted: the text is secret */
        if (!o || !json_object_is_type(o, json_type_object)) {
                diag_error(d, "", "the secrets file %s is not a JSON object of names and base64 keys "
                           "({\"wg0\": \"<base64 of 32 bytes>\"})", file);
                return -EINVAL;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

int router_secret_key(json_object *secrets, const char *file, const char *name, const char *ref_path,
                      uint8_t ret[static WG_KEY_SIZE], Diag *d) {
        _cleanup_(freep) char *q = str_quote(name);
        json_object *v;

        if (!q)
                return -ENOMEM;
        if (!json_object_object_get_ex(secrets, name, &v)) {
                diag_error(d, ref_path, "the secrets file %s has no secret %s: add \"%s\": \"<base64 key>\" to it",
                           file, q, name);
                return -EINVAL;
        }
        if (!json_object_is_type(v, json_type_string) || wg_key_from_base64(json_object_get_string(v), ret) < 0) {
                diag_error(d, ref_path, "the secrets file %s: the secret %s is not a WireGuard key (base64 of 32 bytes, 44 characters "
                           "ending in '=', as `wg genkey` prints)", file, q);
                return -EINVAL;
        }
        return 0;
}

/* ---- the section ------------------------------------------------------------------- */

static const char *const section_keys[] = { "interfaces", NULL };
/* an interface's keys, name, mtu and addresses: checked by the interfaces
 * plugin (interfaces-parse.c), which makes the links */
static const char *const peer_keys[] = { "public_key", "endpoint", "allowed_ips", "persistent_keepalive",
                                         "preshared_key_secret", "preshared_key", NULL };

/* A key written into the state: refused, with where it belongs. */
static int refuse_inline(json_object *o, const char *path, const char *key, const char *ref_key,
                         const char *suggest, const char *secrets_file, Diag *d) {
        _cleanup_(freep) char *p = json_path_key(path, key);

        if (!json_object_object_get_ex(o, key, NULL))
                return 0;
        diag_error(d, p ?: path, "a key is never written into the state (its checkpoints and plans are not secret): "
                   "move it into the secrets file %s as \"%s\": \"<base64 key>\" and write \"%s\": \"%s\" here instead",
                   secrets_file, suggest, ref_key, suggest);
        return -EINVAL;
}

/* The secret named by o.key (required or not) into key. */
static int secret_ref(WgConfig *c, json_object *o, const char *path, const char *key, bool required,
                      const char *secrets_file, char **ret_name, uint8_t ret_key[static WG_KEY_SIZE], Diag *d) {
        _cleanup_(freep) char *p = json_path_key(path, key);
        const char *name;
        int k;

        if (!p)
                return -ENOMEM;
        k = json_get_string_nonul(o, path, key, required, &name, d);
        if (k <= 0)
                return k < 0 ? k : required ? -EINVAL : 0;
        if (!*name) {
                diag_error(d, p, "expected the name of a secret in %s", secrets_file);
                return -EINVAL;
        }
        *ret_name = strdup(name);
        if (!*ret_name)
                return -ENOMEM;
        if (c->secrets_failed)
                return -EINVAL;
        if (!c->secrets) {
                k = router_secrets_load(secrets_file, &c->secrets, d);
                c->secrets_failed = k < 0;
                if (k < 0)
                        return k == -ENOMEM ? k : -EINVAL;
        }
        k = router_secret_key(c->secrets, secrets_file, name, p, ret_key, d);
        return k < 0 ? k : 1;
}

static int parse_allowed_ips(WgConfPeer *cp, json_object *o, Diag *d) {
        _cleanup_(freep) char *ap = json_path_key(cp->path, "allowed_ips");
        json_object *a;
        int ret = 0, k;

        if (!ap)
                return -ENOMEM;
        k = json_get_array(o, cp->path, "allowed_ips", false, &a, d);
        if (k <= 0)
                return k;
        cp->peer.allowed_ips = calloc(json_object_array_length(a) + 1, sizeof(WgAllowedIp));
        if (!cp->peer.allowed_ips)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *v = json_object_array_get_idx(a, i);
                _cleanup_(freep) char *p = json_path_index(ap, i);
                WgAllowedIp *x = &cp->peer.allowed_ips[cp->peer.n_allowed_ips];
                unsigned len;
                int r;

                if (!p)
                        return -ENOMEM;
                r = json_object_is_type(v, json_type_string) ?
                        router_prefix_parse(json_object_get_string(v), false, &x->family, x->addr, &len) : -EINVAL;
                if (r < 0) {
                        diag_error(d, p, r == -EDOM ? "host bits are set: write the network, such as 10.0.0.0/24" :
                                   "expected a network with its prefix length, such as 10.0.0.0/24, fd00::/64 or 0.0.0.0/0");
                        ret = -EINVAL;
                        continue;
                }
                x->cidr = (uint8_t) len;
                for (size_t j = 0; j < cp->peer.n_allowed_ips; j++)
                        if (cp->peer.allowed_ips[j].family == x->family && cp->peer.allowed_ips[j].cidr == x->cidr &&
                            memcmp(cp->peer.allowed_ips[j].addr, x->addr, 16) == 0) {
                                diag_error(d, p, "%s is given twice", json_object_get_string(v));
                                ret = -EINVAL;
                        }
                if (ret >= 0)
                        cp->peer.n_allowed_ips++;
        }
        return ret;
}

static int parse_peer(WgConfig *c, WgConfPeer *cp, json_object *o, const char *secrets_file, Diag *d) {
        const char *s;
        int64_t v;
        int ret = 0, k;

        if (!json_expect_object(o, cp->path, d))
                return -EINVAL;
        RET_GATHER(ret, refuse_inline(o, cp->path, "preshared_key", "preshared_key_secret", "psk-<peer>",
                                      secrets_file, d));
        if (json_check_keys(o, cp->path, peer_keys, d) > 0)
                ret = -EINVAL;
        k = json_get_string_nonul(o, cp->path, "public_key", true, &s, d);
        if (k > 0 && wg_key_from_base64(s, cp->peer.public_key) < 0) {
                _cleanup_(freep) char *p = json_path_key(cp->path, "public_key");

                diag_error(d, p ?: cp->path, "expected a WireGuard public key (base64 of 32 bytes, 44 characters "
                           "ending in '=', as `wg pubkey` prints)");
                k = -EINVAL;
        }
        RET_GATHER(ret, k <= 0 ? -EINVAL : 0);
        k = json_get_string_nonul(o, cp->path, "endpoint", false, &s, d);
        if (k > 0 && wg_endpoint_parse(s, &cp->peer.endpoint) < 0) {
                _cleanup_(freep) char *p = json_path_key(cp->path, "endpoint");

                diag_error(d, p ?: cp->path, "expected an address and a port, such as 198.51.100.7:51820 or "
                           "[2001:db8::7]:51820 (no host names: op-router resolves nothing)");
                k = -EINVAL;
        }
        cp->has_endpoint = k > 0;
        RET_GATHER(ret, k);
        k = json_get_int(o, cp->path, "persistent_keepalive", false, 0, 65535, &v, d);
        cp->peer.keepalive = k > 0 ? (uint16_t) v : 0;
        RET_GATHER(ret, k);
        k = parse_allowed_ips(cp, o, d);
        if (k == -ENOMEM)
                return k;
        RET_GATHER(ret, k);
        k = secret_ref(c, o, cp->path, "preshared_key_secret", false, secrets_file, &cp->psk_secret,
                       cp->peer.preshared_key, d);
        if (k == -ENOMEM)
                return k;
        cp->peer.has_preshared_key = k > 0;
        RET_GATHER(ret, k);
        return ret;
}

static int parse_peers(WgConfig *c, WgConfIf *ci, json_object *o, const char *secrets_file, Diag *d) {
        _cleanup_(freep) char *pp = json_path_key(ci->path, "peers");
        json_object *a;
        int ret = 0, k;

        if (!pp)
                return -ENOMEM;
        k = json_get_array(o, ci->path, "peers", false, &a, d);
        if (k <= 0)
                return k;
        ci->peers = calloc(json_object_array_length(a) + 1, sizeof(WgConfPeer));
        if (!ci->peers)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                WgConfPeer *cp = &ci->peers[ci->n_peers++];

                cp->path = json_path_index(pp, i);
                if (!cp->path)
                        return -ENOMEM;
                k = parse_peer(c, cp, json_object_array_get_idx(a, i), secrets_file, d);
                if (k == -ENOMEM)
                        return k;
                RET_GATHER(ret, k);
                for (size_t j = 0; k >= 0 && j + 1 < ci->n_peers; j++) {
                        const WgPeer *other = &ci->peers[j].peer;

                        if (memcmp(other->public_key, cp->peer.public_key, WG_KEY_SIZE) == 0) {
                                diag_error(d, cp->path, "this peer's public key is %s's too", ci->peers[j].path);
                                ret = -EINVAL;
                        }
                        /* the kernel gives an allowed IP to one peer: the last one set */
                        for (size_t m = 0; m < cp->peer.n_allowed_ips; m++)
                                for (size_t q = 0; q < other->n_allowed_ips; q++)
                                        if (other->allowed_ips[q].family == cp->peer.allowed_ips[m].family &&
                                            other->allowed_ips[q].cidr == cp->peer.allowed_ips[m].cidr &&
                                            memcmp(other->allowed_ips[q].addr, cp->peer.allowed_ips[m].addr, 16) == 0) {
                                                _cleanup_(freep) char *ap = json_path_key(cp->path, "allowed_ips");
                                                _cleanup_(freep) char *ip = ap ? json_path_index(ap, m) : NULL;

                                                diag_error(d, ip ?: cp->path, "%s's allowed IPs have it too: an "
                                                           "allowed IP belongs to one peer of an interface",
                                                           ci->peers[j].path);
                                                ret = -EINVAL;
                                        }
                }
        }
        return ret;
}

static int parse_if(WgConfig *c, WgConfIf *ci, json_object *o, const char *secrets_file, Diag *d) {
        _cleanup_(diag_done) Diag scratch = {};
        const char *name;
        int64_t port;
        int ret = 0, k;

        if (!json_object_is_type(o, json_type_object))
                return -EINVAL;  /* the interfaces plugin says so */
        if (json_get_ifname(o, ci->path, "name", true, &name, &scratch) > 0) {
                ci->name = strdup(name);
                if (!ci->name)
                        return -ENOMEM;
        }
        RET_GATHER(ret, refuse_inline(o, ci->path, "private_key", "private_key_secret", ci->name ?: "wg0",
                                      secrets_file, d));
        ci->listen_port = -1;
        k = json_get_int(o, ci->path, "listen_port", false, 1, 65535, &port, d);
        if (k > 0)
                ci->listen_port = (int) port;
        RET_GATHER(ret, k);
        k = secret_ref(c, o, ci->path, "private_key_secret", true, secrets_file, &ci->key_secret, ci->private_key, d);
        if (k == -ENOMEM)
                return k;
        RET_GATHER(ret, k);
        k = parse_peers(c, ci, o, secrets_file, d);
        if (k == -ENOMEM)
                return k;
        RET_GATHER(ret, k);
        return ret;
}

int wg_parse(WgConfig *c, json_object *section, const char *secrets_file, Diag *d) {
        json_object *a;
        int ret = 0, k;

        wg_config_done(c);
        if (!section)
                return 0;
        c->present = true;
        if (!json_expect_object(section, SECTION, d))
                return -EINVAL;
        if (json_check_keys(section, SECTION, section_keys, d) > 0)
                ret = -EINVAL;
        /* an "interfaces" that is no array: the interfaces plugin says so */
        if (!json_object_object_get_ex(section, "interfaces", &a) || !json_object_is_type(a, json_type_array))
                return ret;
        c->ifs = calloc(json_object_array_length(a) + 1, sizeof(WgConfIf));
        if (!c->ifs)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                WgConfIf *ci = &c->ifs[c->n_ifs++];
                _cleanup_(freep) char *ip = json_path_key(SECTION, "interfaces");

                ci->path = ip ? json_path_index(ip, i) : NULL;
                if (!ci->path)
                        return -ENOMEM;
                k = parse_if(c, ci, json_object_array_get_idx(a, i), secrets_file, d);
                if (k == -ENOMEM)
                        return k;
                RET_GATHER(ret, k);
                for (size_t j = 0; ci->listen_port > 0 && j + 1 < c->n_ifs; j++)
                        if (c->ifs[j].listen_port == ci->listen_port) {
                                _cleanup_(freep) char *p = json_path_key(ci->path, "listen_port");

                                diag_error(d, p ?: ci->path, "%s listens on port %d too", c->ifs[j].path,
                                           ci->listen_port);
                                ret = -EINVAL;
                        }
        }
        return ret;
}
