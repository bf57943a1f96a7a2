/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The value formats of service configurations and the checked field
 * accessors the renderers read their blocks with. */
#include <arpa/inet.h>

#include "json-util.h"
#include "services-internal.h"

/* ---- formats ---------------------------------------------------------- */

bool svc_is_placeholder(const char *s) {
        if (!(s[0] >= 'A' && s[0] <= 'Z') || !s[1])
                return false;
        for (const char *c = s + 1; *c; c++)
                if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_'))
                        return false;
        return true;
}

static bool in_set(char c, const char *set) {
        return c != 0 && strchr(set, c);
}

#define DIGITS "0123456789"
#define HEXDIGITS DIGITS "abcdefABCDEF"
#define ALNUM DIGITS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

bool svc_check_wg_key(const char *s, const char *path, Diag *d) {
        size_t n = strlen(s);
        bool ok;

        if (svc_is_placeholder(s))
                return true;
        /* 32 bytes: 43 characters and one '='; the last character before
         * it carries only 4 bits, so its 2 low bits are zero. */
        ok = n == 44 && s[43] == '=' && in_set(s[42], "AEIMQUYcgkosw048");
        for (size_t i = 0; ok && i < 42; i++)
                ok = in_set(s[i], ALNUM "+/");
        if (!ok)
                /* The value is not quoted: it might be a private key put
                 * in the wrong place. */
                diag_error(d, path, "the value (%zu characters) is not a WireGuard public key (44 base64 characters)", n);
        return ok;
}

bool svc_check_uuid(const char *s, const char *path, Diag *d) {
        bool ok = strlen(s) == 36;

        if (svc_is_placeholder(s))
                return true;
        for (size_t i = 0; ok && i < 36; i++)
                ok = (i == 8 || i == 13 || i == 18 || i == 23) ? s[i] == '-' : in_set(s[i], HEXDIGITS);
        if (!ok)
                /* Not quoted: the VMess id is a secret. */
                diag_error(d, path, "the value is not a UUID (8-4-4-4-12 hexadecimal digits, as printed by uuidgen)");
        return ok;
}

/* A decimal number without leading zeros, at most max. */
static bool parse_number(const char *s, unsigned max, unsigned *ret) {
        unsigned v = 0;

        if (!in_set(*s, DIGITS) || (s[0] == '0' && s[1]))
                return false;
        for (; *s; s++) {
                if (!in_set(*s, DIGITS))
                        return false;
                v = v * 10 + (unsigned) (*s - '0');
                if (v > max)
                        return false;
        }
        *ret = v;
        return true;
}

bool svc_parse_cidr(const char *s, SvcCidr *ret) {
        char buf[INET6_ADDRSTRLEN];
        const char *slash = strchr(s, '/');
        size_t n;

        if (!slash || (n = (size_t) (slash - s)) >= sizeof buf)
                return false;
        memcpy(buf, s, n);
        buf[n] = 0;
        if (inet_pton(AF_INET, buf, &ret->addr.in) == 1)
                ret->family = AF_INET;
        else if (inet_pton(AF_INET6, buf, &ret->addr.in6) == 1)
                ret->family = AF_INET6;
        else
                return false;
        return parse_number(slash + 1, ret->family == AF_INET ? 32 : 128, &ret->prefixlen);
}

bool svc_check_cidr(const char *s, const char *path, Diag *d) {
        SvcCidr c;

        if (svc_is_placeholder(s) || svc_parse_cidr(s, &c))
                return true;
        diag_error(d, path, "\"%s\" is not an address with a prefix length, such as 10.99.0.1/24 or fd00::1/64", s);
        return false;
}

/* An empty, "." or ".." component, or a trailing '/'. */
static bool has_bad_component(const char *s) {
        for (const char *c = s; *c; c++) {
                size_t n;

                if (*c != '/')
                        continue;
                n = strcspn(c + 1, "/");
                if (n == 0 || (n == 1 && c[1] == '.') || (n == 2 && c[1] == '.' && c[2] == '.'))
                        return true;
        }
        return false;
}

bool svc_check_path(const char *s, const char *path, Diag *d) {
        const char *why = NULL;

        if (svc_is_placeholder(s))
                return true;
        if (s[0] != '/' || !s[1])
                why = "is not an absolute path to a file";
        else if (strlen(s) > 4095)
                why = "is longer than 4095 bytes";
        else if (has_bad_component(s))
                why = "must not contain empty, \".\" or \"..\" components or end in '/'";
        else
                for (const char *c = s; *c && !why; c++)
                        if (!in_set(*c, ALNUM "._+@-/"))
                                why = "may only contain letters, digits and \"._+@-/\"";
        if (why)
                diag_error(d, path, "path %s", why);
        return !why;
}

/* A DNS name: dot-separated labels of 1..63 letters, digits and '-', not
 * starting or ending with '-'; at most 253 bytes. */
static bool is_dns_name(const char *s) {
        size_t label = 0, n = strlen(s);

        if (n == 0 || n > 253)
                return false;
        for (const char *c = s;; c++) {
                if (*c == '.' || *c == 0) {
                        if (label == 0 || label > 63 || c[-1] == '-')
                                return false;
                        if (*c == 0)
                                return true;
                        label = 0;
                        continue;
                }
                if (!in_set(*c, ALNUM "-") || (label == 0 && *c == '-'))
                        return false;
                label++;
        }
}

static bool is_ip_address(const char *s, int family) {
        struct in6_addr a;

        return inet_pton(family, s, &a) == 1;
}

bool svc_check_host(const char *s, const char *path, Diag *d) {
        if (svc_is_placeholder(s) || is_ip_address(s, AF_INET) || is_ip_address(s, AF_INET6) || is_dns_name(s))
                return true;
        diag_error(d, path, "\"%s\" is not a host name, an IPv4 address or an IPv6 address", s);
        return false;
}

bool svc_check_ip(const char *s, const char *path, Diag *d) {
        if (svc_is_placeholder(s) || is_ip_address(s, AF_INET) || is_ip_address(s, AF_INET6))
                return true;
        diag_error(d, path, "\"%s\" is not an IPv4 or IPv6 address", s);
        return false;
}

bool svc_check_endpoint(const char *s, const char *path, Diag *d) {
        char host[256];
        const char *colon;
        unsigned port;
        bool ok;
        size_t n;

        if (svc_is_placeholder(s))
                return true;
        colon = strrchr(s, ':');
        n = colon ? (size_t) (colon - s) : 0;
        ok = colon && n > 0 && n < sizeof host && parse_number(colon + 1, 65535, &port) && port > 0;
        if (ok && s[0] == '[') {
                ok = n > 2 && s[n - 1] == ']';
                if (ok) {
                        memcpy(host, s + 1, n - 2);
                        host[n - 2] = 0;
                        ok = is_ip_address(host, AF_INET6);
                }
        } else if (ok) {
                memcpy(host, s, n);
                host[n] = 0;
                ok = !strchr(host, ':') &&
                        (svc_is_placeholder(host) || is_ip_address(host, AF_INET) || is_dns_name(host));
        }
        if (!ok)
                diag_error(d, path, "\"%s\" is not HOST:PORT (port 1..65535; an IPv6 address in brackets, "
                           "as in [2001:db8::1]:51820)", s);
        return ok;
}

bool svc_check_unit_name(const char *s, const char *path, Diag *d) {
        bool ok = s[0] && s[0] != '.' && s[0] != '-' && strlen(s) <= 250;

        for (const char *c = s; ok && *c; c++)
                ok = in_set(*c, ALNUM ":-_.@");
        if (!ok)
                diag_error(d, path, "\"%s\" is not a systemd unit name (letters, digits and \":-_.@\")", s);
        return ok;
}

void svc_put_list(StrBuf *b, const char *const *l, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        strbuf_puts(b, ", ");
                strbuf_puts(b, l[i]);
        }
}

/* ---- field access ------------------------------------------------------- */

int svc_get_checked(json_object *o, const char *path, const char *key, bool required,
                    SvcCheckFunc check, const char **ret, Diag *d) {
        _cleanup_(freep) char *p = NULL;
        const char *s;
        int r;

        r = json_get_string_nonul(o, path, key, required, &s, d);
        if (r <= 0)
                return r;
        p = json_path_key(path, key);
        if (!p)
                return -ENOMEM;
        if (!check(s, p, d))
                return -EINVAL;
        *ret = s;
        return 1;
}

/* Checks one element of a list; returns it or NULL (error recorded). */
static const char *strv_element(json_object *v, const char *p, SvcCheckFunc check, Diag *d) {
        const char *s;

        if (!json_object_is_type(v, json_type_string)) {
                diag_error(d, p, "expected a string, got %s", json_type_name(json_object_get_type(v)));
                return NULL;
        }
        s = json_object_get_string(v);
        if (strlen(s) != (size_t) json_object_get_string_len(v)) {
                diag_error(d, p, "contains a NUL character (\\u0000), which is not allowed here");
                return NULL;
        }
        return check(s, p, d) ? s : NULL;
}

int svc_get_strv(json_object *o, const char *path, const char *key, bool required, bool allow_single,
                 SvcCheckFunc check, const char ***ret, size_t *ret_n, Diag *d) {
        _cleanup_(freep) char *p = json_path_key(path, key);
        _cleanup_(freep) const char **l = NULL;
        json_object *v;
        size_t n;
        bool bad = false;

        if (!p)
                return -ENOMEM;
        if (json_member(o, key, p, required, &v, d) == 0)
                return 0;
        if (allow_single && json_object_is_type(v, json_type_string)) {
                l = calloc(1, sizeof *l);
                if (!l)
                        return -ENOMEM;
                l[0] = strv_element(v, p, check, d);
                if (!l[0])
                        return -EINVAL;
                *ret = TAKE_PTR(l);
                *ret_n = 1;
                return 1;
        }
        if (!json_object_is_type(v, json_type_array)) {
                diag_error(d, p, "expected %s, got %s",
                           allow_single ? "a string or an array of strings" : "an array of strings",
                           json_type_name(json_object_get_type(v)));
                return -EINVAL;
        }
        n = json_object_array_length(v);
        if (n == 0) {
                diag_error(d, p, "must not be empty");
                return -EINVAL;
        }
        l = calloc(n, sizeof *l);
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(freep) char *ep = json_path_index(p, i);

                if (!ep)
                        return -ENOMEM;
                l[i] = strv_element(json_object_array_get_idx(v, i), ep, check, d);
                bad = bad || !l[i];
        }
        if (bad)
                return -EINVAL;
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 1;
}
