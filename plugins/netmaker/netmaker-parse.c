/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>

#include "json-util.h"
#include "netmaker.h"

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

                diag_error(d, p ?: path, "\"%s\" is not an absolute path, expected a path starting with '/' such as %s",
                           s, NETMAKER_TOKEN_FILE_DEFAULT);
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

static const char *const netmaker_keys[] = {
        "enabled", "token_file", "default_network", "api_endpoint", NULL
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
        return ret;
}
