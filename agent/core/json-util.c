/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>

#include "json-util.h"

char *json_path_key(const char *parent, const char *key) {
        size_t a = parent ? strlen(parent) : 0, b = strlen(key);
        char *s = malloc(a + b + 2);

        if (!s)
                return NULL;
        memcpy(s, parent, a);
        s[a] = '.';
        memcpy(s + a + (a > 0), key, b + 1);
        return s;
}

/* "parent.key" into a stack buffer, cut to fit: the path of a field is
 * built on every lookup, so it must cost next to nothing. */
static const char *path_join(char buf[static JSON_PATH_MAX], const char *parent, const char *key) {
        size_t a = parent ? strnlen(parent, JSON_PATH_MAX / 2) : 0;
        size_t b = strnlen(key, JSON_PATH_MAX - a - 2);

        memcpy(buf, parent, a);
        buf[a] = '.';
        memcpy(buf + a + (a > 0), key, b);
        buf[a + (a > 0) + b] = 0;
        return buf;
}

char *json_path_index(const char *parent, size_t i) {
        char *s;

        if (asprintf(&s, "%s[%zu]", parent ?: "", i) < 0)
                return NULL;
        return s;
}

const char *json_type_name(json_type t) {
        switch (t) {
        case json_type_null:    return "null";
        case json_type_boolean: return "a boolean";
        case json_type_double:  return "a number with a fraction";
        case json_type_int:     return "an integer";
        case json_type_object:  return "an object";
        case json_type_array:   return "an array";
        case json_type_string:  return "a string";
        }
        return "an unknown type";
}

bool json_expect_object(json_object *o, const char *path, Diag *d) {
        if (json_object_is_type(o, json_type_object))
                return true;
        diag_error(d, path, "expected an object, got %s", json_type_name(json_object_get_type(o)));
        return false;
}

static bool strv_contains(const char *const *l, const char *s) {
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

static char *strv_join(const char *const *l) {
        size_t n = 1;
        char *s, *p;

        for (const char *const *i = l; *i; i++)
                n += strlen(*i) + 2;
        s = p = malloc(n);
        if (!s)
                return NULL;
        *p = 0;
        for (const char *const *i = l; *i; i++)
                p = stpcpy(stpcpy(p, i == l ? "" : ", "), *i);
        return s;
}

size_t json_check_keys(json_object *o, const char *path, const char *const *allowed, Diag *d) {
        size_t n = 0;

        json_object_object_foreach(o, key, val) {
                _cleanup_(freep) char *p = NULL, *list = NULL;

                (void) val;
                if (strv_contains(allowed, key))
                        continue;
                p = json_path_key(path, key);
                list = strv_join(allowed);
                diag_error(d, p ?: key, "unknown key, expected one of: %s", list ?: "?");
                n++;
        }
        return n;
}

/* Looks up key; returns 1 with *ret set, or 0 if absent (recording an
 * error when required). */
int json_member(json_object *o, const char *key, const char *member_path, bool required,
                json_object **ret, Diag *d) {
        if (!json_object_object_get_ex(o, key, ret)) {
                if (required)
                        diag_error(d, member_path, "required field is missing");
                return 0;
        }
        return 1;
}

static int lookup(json_object *o, const char *path, const char *key, bool required,
                  json_object **ret, char p[static JSON_PATH_MAX], Diag *d) {
        path_join(p, path, key);
        return json_member(o, key, p, required, ret, d);
}

static int wrong_type(const char *p, const char *expected, json_object *v, Diag *d) {
        diag_error(d, p, "expected %s, got %s", expected, json_type_name(json_object_get_type(v)));
        return -EINVAL;
}

int json_get_string(json_object *o, const char *path, const char *key, bool required,
                    const char **ret, Diag *d) {
        char p[JSON_PATH_MAX];
        json_object *v;
        int r;

        r = lookup(o, path, key, required, &v, p, d);
        if (r <= 0)
                return r;
        if (!json_object_is_type(v, json_type_string))
                return wrong_type(p, "a string", v, d);
        *ret = json_object_get_string(v);
        return 1;
}

int json_get_bool(json_object *o, const char *path, const char *key, bool *ret, Diag *d) {
        char p[JSON_PATH_MAX];
        json_object *v;
        int r;

        r = lookup(o, path, key, false, &v, p, d);
        if (r <= 0)
                return r;
        if (!json_object_is_type(v, json_type_boolean))
                return wrong_type(p, "true or false", v, d);
        *ret = json_object_get_boolean(v);
        return 1;
}

int json_get_int(json_object *o, const char *path, const char *key, bool required,
                 int64_t min, int64_t max, int64_t *ret, Diag *d) {
        char p[JSON_PATH_MAX];
        json_object *v;
        int64_t i;
        int r;

        r = lookup(o, path, key, required, &v, p, d);
        if (r <= 0)
                return r;
        if (!json_object_is_type(v, json_type_int))
                return wrong_type(p, "an integer", v, d);
        i = json_object_get_int64(v);
        if (i < min || i > max) {
                diag_error(d, p, "%" PRId64 " is out of range, expected %" PRId64 "..%" PRId64, i, min, max);
                return -EINVAL;
        }
        *ret = i;
        return 1;
}

int json_get_enum(json_object *o, const char *path, const char *key,
                  const char *const *values, int *ret, Diag *d) {
        _cleanup_(freep) char *list = NULL;
        char p[JSON_PATH_MAX];
        json_object *v;
        const char *s;
        int r;

        r = lookup(o, path, key, false, &v, p, d);
        if (r <= 0)
                return r;
        if (!json_object_is_type(v, json_type_string))
                return wrong_type(p, "a string", v, d);
        s = json_object_get_string(v);
        for (int i = 0; values[i]; i++)
                if (streq(values[i], s)) {
                        *ret = i;
                        return 1;
                }
        list = strv_join(values);
        diag_error(d, p, "\"%s\" is not valid, expected one of: %s", s, list ?: "?");
        return -EINVAL;
}

int json_get_array(json_object *o, const char *path, const char *key, bool required,
                   json_object **ret, Diag *d) {
        char p[JSON_PATH_MAX];
        json_object *v;
        int r;

        r = lookup(o, path, key, required, &v, p, d);
        if (r <= 0)
                return r;
        if (!json_object_is_type(v, json_type_array))
                return wrong_type(p, "an array", v, d);
        *ret = v;
        return 1;
}

int json_get_string_map(json_object *o, const char *path, const char *key,
                        const char *reserved_prefix, json_object **ret, Diag *d) {
        char p[JSON_PATH_MAX];
        json_object *v;
        int r, bad = 0;

        r = lookup(o, path, key, false, &v, p, d);
        if (r <= 0)
                return r;
        if (!json_object_is_type(v, json_type_object))
                return wrong_type(p, "an object of strings", v, d);

        json_object_object_foreach(v, k, val) {
                _cleanup_(freep) char *kp = json_path_key(p, k);

                if (!json_object_is_type(val, json_type_string)) {
                        wrong_type(kp ?: p, "a string", val, d);
                        bad = 1;
                } else if (reserved_prefix && startswith(k, reserved_prefix)) {
                        diag_error(d, kp ?: p, "keys starting with \"%s\" are reserved for ownership tags",
                                   reserved_prefix);
                        bad = 1;
                }
        }
        if (bad)
                return -EINVAL;
        *ret = v;
        return 1;
}

#define IFNAME_MAX 15

bool json_check_ifname(const char *s, const char *path, Diag *d) {
        size_t len = strlen(s);

        if (len == 0) {
                diag_error(d, path, "interface names must not be empty");
                return false;
        }
        if (len > IFNAME_MAX) {
                diag_error(d, path, "\"%s\" is %zu bytes, interface names are at most %d", s, len, IFNAME_MAX);
                return false;
        }
        if (streq(s, ".") || streq(s, "..")) {
                diag_error(d, path, "\"%s\" is not a valid interface name", s);
                return false;
        }
        for (const char *c = s; *c; c++)
                if (!isascii(*c) || !(isalnum(*c) || strchr("_.-", *c))) {
                        diag_error(d, path, "\"%s\" contains '%c'; interface names may use letters, digits, '_', '.' and '-'",
                                   s, isprint(*c) ? *c : '?');
                        return false;
                }
        return true;
}

/* A string field for a format check: like json_get_string, and NUL bytes
 * are refused. p receives the field's path. */
static int get_format_string(json_object *o, const char *path, const char *key, bool required,
                             const char **ret, char p[static JSON_PATH_MAX], Diag *d) {
        json_object *v;
        int r;

        r = lookup(o, path, key, required, &v, p, d);
        if (r <= 0)
                return r;
        if (!json_object_is_type(v, json_type_string))
                return wrong_type(p, "a string", v, d);
        if (strlen(json_object_get_string(v)) != (size_t) json_object_get_string_len(v)) {
                diag_error(d, p, "contains a NUL character (\\u0000), which is not allowed here");
                return -EINVAL;
        }
        *ret = json_object_get_string(v);
        return 1;
}

int json_get_string_nonul(json_object *o, const char *path, const char *key, bool required,
                          const char **ret, Diag *d) {
        char p[JSON_PATH_MAX];

        return get_format_string(o, path, key, required, ret, p, d);
}

int json_get_string_dup(json_object *o, const char *path, const char *key, bool required,
                        char **ret, Diag *d) {
        const char *s;
        char *c;
        int r;

        r = json_get_string(o, path, key, required, &s, d);
        if (r <= 0)
                return r;
        c = strdup(s);
        if (!c)
                return -ENOMEM;
        *ret = c;
        return 1;
}

int json_get_ifname(json_object *o, const char *path, const char *key, bool required,
                    const char **ret, Diag *d) {
        char p[JSON_PATH_MAX];
        const char *s;
        int r;

        r = get_format_string(o, path, key, required, &s, p, d);
        if (r <= 0)
                return r;
        if (!json_check_ifname(s, p, d))
                return -EINVAL;
        *ret = s;
        return 1;
}

/* A decimal number without leading zeros, at most max; advances *s. */
static bool parse_decimal(const char **s, unsigned max, unsigned *ret) {
        const char *c = *s;
        unsigned v = 0;

        if (*c < '0' || *c > '9' || (c[0] == '0' && c[1] >= '0' && c[1] <= '9'))
                return false;
        for (; *c >= '0' && *c <= '9'; c++) {
                v = v * 10 + (unsigned) (*c - '0');
                if (v > max)
                        return false;
        }
        *s = c;
        *ret = v;
        return true;
}

/* Parses the dotted quad at the start of s; *end points after it. */
static bool parse_ipv4(const char *s, const char **end, struct in_addr *ret) {
        uint32_t a = 0;

        for (int i = 0; i < 4; i++) {
                unsigned octet;

                if (i > 0 && *s++ != '.')
                        return false;
                if (!parse_decimal(&s, 255, &octet))
                        return false;
                a = a << 8 | octet;
        }
        *end = s;
        ret->s_addr = htonl(a);
        return true;
}

int json_get_ipv4(json_object *o, const char *path, const char *key, bool required,
                  struct in_addr *ret, unsigned *ret_prefixlen, Diag *d) {
        char p[JSON_PATH_MAX];
        struct in_addr a;
        const char *s, *e;
        unsigned prefixlen = 0;
        int r;

        r = get_format_string(o, path, key, required, &s, p, d);
        if (r <= 0)
                return r;

        if (!parse_ipv4(s, &e, &a) || (*e && !(ret_prefixlen && *e == '/'))) {
                diag_error(d, p, "\"%s\" is not a valid IPv4 address, expected a dotted quad such as %s",
                           s, ret_prefixlen ? "10.0.0.100/24" : "10.0.0.1");
                return -EINVAL;
        }
        if (ret_prefixlen && !*e) {
                diag_error(d, p, "\"%s\" has no prefix length, expected an address with a prefix length 0..32 such as %s/24",
                           s, s);
                return -EINVAL;
        }
        if (ret_prefixlen) {
                e++;
                if (!parse_decimal(&e, 32, &prefixlen) || *e) {
                        diag_error(d, p, "\"%s\" has an invalid prefix length, expected 0..32 as in 10.0.0.100/24", s);
                        return -EINVAL;
                }
                *ret_prefixlen = prefixlen;
        }
        *ret = a;
        return 1;
}

int json_get_mac(json_object *o, const char *path, const char *key, bool required,
                 uint8_t ret[static 6], Diag *d) {
        char p[JSON_PATH_MAX];
        uint8_t mac[6];
        const char *s;
        int r;

        r = get_format_string(o, path, key, required, &s, p, d);
        if (r <= 0)
                return r;

        for (size_t i = 0; i < 6; i++) {
                const char *c = s + i * 3;
                int hi, lo;

                /* Stop at the terminator: never read past it. */
                if ((hi = unhexchar(c[0])) < 0 || (lo = unhexchar(c[1])) < 0 ||
                    c[2] != (i < 5 ? ':' : '\0')) {
                        diag_error(d, p, "\"%s\" is not a MAC address, expected six colon-separated pairs of hex digits such as 02:00:00:00:00:01",
                                   s);
                        return -EINVAL;
                }
                mac[i] = (uint8_t) (hi << 4 | lo);
        }
        memcpy(ret, mac, sizeof mac);
        return 1;
}

int read_optional_file(const char *path, char **ret) {
        int r;

        *ret = NULL;
        r = read_full_file(path, ret, NULL);
        if (r == -ENOENT)
                return 0;
        return r < 0 ? r : 1;
}

int read_full_file(const char *path, char **ret, size_t *ret_len) {
        _cleanup_(closep) int fd = -EBADF;
        _cleanup_(freep) char *buf = NULL;
        size_t n = 0, allocated = 0;
        int r;

        if (streq(path, "-"))
                fd = dup(STDIN_FILENO);
        else
                fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();

        for (;;) {
                ssize_t k;

                r = greedy_realloc((void **) &buf, &allocated, n + 4096, 1);
                if (r < 0)
                        return r;
                k = read(fd, buf + n, allocated - n - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        if (!buf && !(buf = calloc(1, 1)))
                return -ENOMEM;
        buf[n] = 0;

        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = n;
        return 0;
}

int json_copy(json_object *src, json_object **ret) {
        json_object *c = NULL;

        if (json_object_deep_copy(src, &c, NULL) < 0)
                return -ENOMEM;
        *ret = c;
        return 0;
}

char *json_to_string_pretty(json_object *o) {
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                          JSON_C_TO_STRING_SPACED |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE);
        return strdup_or_null(s);
}
