/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>

#include "json-util.h"
#include "netmaker.h"
#include "pve-id.h"

void netmaker_config_done(NetmakerConfig *c) {
        free(c->token_file);
        free(c->default_network);
        free(c->api_endpoint);
        *c = (NetmakerConfig) {};
}

/* Decodes the UTF-8 character at s (one byte of an invalid sequence at a
 * time); *len is its length. Reads no further than a NUL. */
static uint32_t utf8_next(const char *s, size_t *len) {
        const unsigned char *u = (const unsigned char *) s;

        if ((u[0] & 0xe0) == 0xc0 && (u[1] & 0xc0) == 0x80) {
                *len = 2;
                return (uint32_t) (u[0] & 0x1f) << 6 | (u[1] & 0x3f);
        }
        if ((u[0] & 0xf0) == 0xe0 && (u[1] & 0xc0) == 0x80 && (u[2] & 0xc0) == 0x80) {
                *len = 3;
                return (uint32_t) (u[0] & 0x0f) << 12 | (uint32_t) (u[1] & 0x3f) << 6 | (u[2] & 0x3f);
        }
        *len = 1;
        return u[0]; /* ASCII, or a byte no whitespace starts with */
}

/* ECMAScript's \s: schema patterns are ECMA-262 regular expressions. */
static bool ecma_space(uint32_t c) {
        return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0xa0 || c == 0x1680 ||
               (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
               c == 0x205f || c == 0x3000 || c == 0xfeff;
}

/* The schema's ^https?://[^\s/?#]+([/?#]\S*)?$ : a scheme, a non-empty
 * host part, and no whitespace anywhere. */
static bool url_valid(const char *s) {
        const char *rest;
        size_t len;

        if (startswith(s, "http://"))
                rest = s + 7;
        else if (startswith(s, "https://"))
                rest = s + 8;
        else
                return false;
        if (!*rest || strchr("/?#", *rest))
                return false;
        for (const char *c = rest; *c; c += len)
                if (ecma_space(utf8_next(c, &len)))
                        return false;
        return true;
}

static int parse_token_file(NetmakerConfig *c, json_object *o, const char *path, Diag *d) {
        const char *s;
        int r;

        r = json_get_string_nonul(o, path, "token_file", false, &s, d);
        if (r < 0)
                return r;
        if (r > 0 && s[0] != '/') {
                _cleanup_(freep) char *p = json_path_key(path, "token_file");

                /* not quoted: a token pasted here instead of a path would be shown */
                diag_error(d, p ?: path, "not an absolute path: expected a path starting with '/' such as %s "
                           "(the value is not shown, in case it is the token itself)", NETMAKER_TOKEN_FILE_DEFAULT);
                return -EINVAL;
        }
        c->token_file = strdup(r > 0 ? s : NETMAKER_TOKEN_FILE_DEFAULT);
        return c->token_file ? r : -ENOMEM;
}

static int parse_api_endpoint(NetmakerConfig *c, json_object *o, const char *path, Diag *d) {
        const char *s;
        int r;

        r = json_get_string_nonul(o, path, "api_endpoint", false, &s, d);
        if (r <= 0)
                return r;
        if (!url_valid(s)) {
                _cleanup_(freep) char *p = json_path_key(path, "api_endpoint");

                diag_error(d, p ?: path, "\"%s\" is not a valid API URL, expected http:// or https:// followed by a host and no whitespace, such as https://api.netmaker.example.org",
                           s);
                return -EINVAL;
        }
        c->api_endpoint = strdup(s);
        return c->api_endpoint ? 1 : -ENOMEM;
}

/* "injected" is what "op-dbus query" reports; it is accepted, so that a
 * query's output is a valid state, and otherwise ignored. */
static int parse_injected(json_object *o, const char *path, Diag *d) {
        json_object *v;
        int r;

        r = json_get_array(o, path, "injected", false, &v, d);
        return r < 0 ? r : 0;
}

static const char *const netmaker_keys[] = {
        "enabled", "token_file", "default_network", "api_endpoint", "injected", NULL
};

int netmaker_parse(NetmakerConfig *c, json_object *section, Diag *d) {
        const char *path = "plugins.netmaker";
        int ret = 0;

        if (!json_expect_object(section, path, d))
                return -EINVAL;
        if (json_check_keys(section, path, netmaker_keys, d) > 0)
                ret = -EINVAL;

        RET_GATHER(ret, json_get_bool(section, path, "enabled", &c->enabled, d));
        RET_GATHER(ret, parse_token_file(c, section, path, d));
        RET_GATHER(ret, json_get_string_dup(section, path, "default_network", false,
                                                &c->default_network, d));
        RET_GATHER(ret, parse_api_endpoint(c, section, path, d));
        RET_GATHER(ret, parse_injected(section, path, d));
        return ret;
}

void netmaker_containers_free(NetmakerContainer *c, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(c[i].path);
                free(c[i].bridge);
        }
        free(c);
}

/* A string member of o, or NULL. */
static const char *string_member(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

/* Is name a bridge of plugins.net.bridges or plugins.openflow.bridges?
 * Those are the bridges op-dbus creates. */
static bool bridge_declared(const StateDoc *doc, const char *name) {
        static const char *const sections[] = { "net", "openflow" };

        for (size_t s = 0; s < ELEMENTSOF(sections); s++) {
                json_object *section = state_doc_section(doc, sections[s]), *bridges;

                if (!section || !json_object_object_get_ex(section, "bridges", &bridges) ||
                    !json_object_is_type(bridges, json_type_array))
                        continue;
                for (size_t i = 0; i < json_object_array_length(bridges); i++)
                        if (streq_ptr(string_member(json_object_array_get_idx(bridges, i), "name"), name))
                                return true;
        }
        return false;
}

static bool is_netmaker(json_object *c) {
        json_object *props;

        return json_object_object_get_ex(c, "properties", &props) &&
               streq_ptr(string_member(props, "network_type"), "netmaker");
}

/* Fills one container from the i-th entry c of plugins.lxc.containers;
 * 0 when the entry is not a netmaker container with a valid id. */
static int container_from_json(const StateDoc *doc, json_object *c, size_t i, NetmakerContainer *ret) {
        json_object *v, *net;
        const char *end, *bridge = NULL;
        uint32_t id;

        if (!is_netmaker(c) || !json_object_object_get_ex(c, "id", &v) ||
            !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_string)) ||
            !pve_vmid_parse(json_object_get_string(v), &end, &id) || *end)
                return 0;
        if (json_object_object_get_ex(c, "network", &net))
                bridge = string_member(net, "bridge");

        *ret = (NetmakerContainer) {
                .id = id,
                .path = json_path_index("plugins.lxc.containers", i),
                .bridge = strdup(bridge ?: NETMAKER_DEFAULT_BRIDGE),
        };
        if (!ret->path || !ret->bridge)
                return -ENOMEM;
        ret->bridge_declared = bridge_declared(doc, ret->bridge);
        return 1;
}

int netmaker_containers_from_doc(const StateDoc *doc, NetmakerContainer **ret, size_t *ret_n,
                                 char **ret_backend) {
        json_object *lxc = state_doc_section(doc, "lxc"), *containers;
        NetmakerContainer *a;
        size_t n = 0;

        *ret = NULL;
        *ret_n = 0;
        *ret_backend = NULL;
        if (lxc && string_member(lxc, "backend") && !(*ret_backend = strdup(string_member(lxc, "backend"))))
                return -ENOMEM;
        if (!lxc || !json_object_object_get_ex(lxc, "containers", &containers) ||
            !json_object_is_type(containers, json_type_array))
                return 0;

        a = calloc(json_object_array_length(containers) + 1, sizeof(NetmakerContainer));
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(containers); i++) {
                int r = container_from_json(doc, json_object_array_get_idx(containers, i), i, &a[n]);

                if (r < 0) {
                        netmaker_containers_free(a, n + 1);
                        return r;
                }
                n += r;
        }
        *ret = a;
        *ret_n = n;
        return 0;
}
