/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <stdio.h>

#include "json-util.h"
#include "services-internal.h"

/* The configuration blocks of "config" that op-dbus renders. */
typedef enum Block {
        BLOCK_WG0,                    /* "wg0": WireGuard gateway */
        BLOCK_WARP,                   /* "wg-quick": WireGuard client to Cloudflare Warp */
        BLOCK_XRAY,                   /* "xray": Xray client or server */
        _BLOCK_MAX,
} Block;

static const char *const block_keys[_BLOCK_MAX] = {
        [BLOCK_WG0] = "wg0",
        [BLOCK_WARP] = "wg-quick",
        [BLOCK_XRAY] = "xray",
};

/* The entry of "services" that selects each block, for messages. */
static const char *const block_services[_BLOCK_MAX] = {
        [BLOCK_WG0] = "\"wireguard\"",
        [BLOCK_WARP] = "\"wg-quick@INTERFACE\"",
        [BLOCK_XRAY] = "\"xray\"",
};

typedef int (*RenderFunc)(json_object *block, const char *path, ServiceFiles *out, Diag *d);

static const RenderFunc block_render[_BLOCK_MAX] = {
        [BLOCK_WG0] = wireguard_render_gateway,
        [BLOCK_WARP] = wireguard_render_warp,
        [BLOCK_XRAY] = xray_render,
};

static void strv_free_n(char **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(l[i]);
        free(l);
}

void service_files_done(ServiceFiles *f) {
        for (size_t i = 0; i < f->n_files; i++) {
                free(f->files[i].path);
                free(f->files[i].content);
        }
        free(f->files);
        for (size_t i = 0; i < f->n_inputs; i++) {
                free(f->inputs[i].path);
                free(f->inputs[i].json_path);
        }
        free(f->inputs);
        strv_free_n(f->units, f->n_units);
        strv_free_n(f->packages, f->n_packages);
        *f = (ServiceFiles) {};
}

const char *service_input_kind_to_string(ServiceInputKind k) {
        switch (k) {
        case SERVICE_INPUT_WIREGUARD_KEY: return "wireguard-key";
        case SERVICE_INPUT_PROVIDED:      return "provided";
        default:                          return NULL;
        }
}

/* Grows *array of *n elements of size elsize by one zeroed element. */
static void *append_slot(void **array, size_t *n, size_t elsize) {
        char *a = reallocarray(*array, *n + 1, elsize);

        if (!a)
                return NULL;
        *array = a;
        memset(a + *n * elsize, 0, elsize);
        return a + (*n)++ * elsize;
}

int service_files_add_file(ServiceFiles *f, const char *path, char *content, mode_t mode, bool secret) {
        _cleanup_(freep) char *c = content, *p = strdup(path);
        ServiceFile *s;

        if (!c || !p)
                return -ENOMEM;
        s = append_slot((void **) &f->files, &f->n_files, sizeof *s);
        if (!s)
                return -ENOMEM;
        *s = (ServiceFile) { .path = TAKE_PTR(p), .content = TAKE_PTR(c), .mode = mode, .secret = secret };
        return 0;
}

int service_files_add_input(ServiceFiles *f, const char *path, ServiceInputKind kind, bool secret,
                            const char *json_path) {
        _cleanup_(freep) char *p = strdup(path), *j = strdup(json_path);
        ServiceInput *s;

        if (!p || !j)
                return -ENOMEM;
        s = append_slot((void **) &f->inputs, &f->n_inputs, sizeof *s);
        if (!s)
                return -ENOMEM;
        *s = (ServiceInput) { .path = TAKE_PTR(p), .kind = kind, .secret = secret, .json_path = TAKE_PTR(j) };
        return 0;
}

static int strv_add_unique(char ***l, size_t *n, const char *s) {
        _cleanup_(freep) char *c = NULL;
        char **slot;

        for (size_t i = 0; i < *n; i++)
                if (streq((*l)[i], s))
                        return 0;
        c = strdup(s);
        if (!c)
                return -ENOMEM;
        slot = append_slot((void **) l, n, sizeof *slot);
        if (!slot)
                return -ENOMEM;
        *slot = TAKE_PTR(c);
        return 0;
}

int service_files_add_unit(ServiceFiles *f, const char *unit) {
        return strv_add_unique(&f->units, &f->n_units, unit);
}

int service_files_add_package(ServiceFiles *f, const char *package) {
        return strv_add_unique(&f->packages, &f->n_packages, package);
}

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

/* ---- dispatch ------------------------------------------------------------- */

/* Which blocks the services select, in the order of first use. */
typedef struct Selection {
        bool used[_BLOCK_MAX];
        Block order[_BLOCK_MAX];
        size_t n_order;
} Selection;

static void select_block(Selection *s, Block b) {
        if (s->used[b])
                return;
        s->used[b] = true;
        s->order[s->n_order++] = b;
}

static json_object *config_block(json_object *config, Block b) {
        json_object *v = NULL;

        if (config)
                (void) json_object_object_get_ex(config, block_keys[b], &v);
        return v;
}

/* "services" asks for block b, but config does not have it. */
static void missing_block(const char *cpath, Block b, const char *service, Diag *d) {
        _cleanup_(freep) char *p = json_path_key(cpath, block_keys[b]);

        diag_error(d, p ?: cpath, "required field is missing: the service \"%s\" is configured from it", service);
}

/* "wg-quick@IFACE": the wg-quick block for that interface, or wg0. */
static int select_wg_quick(json_object *config, const char *iface, const char *spath, const char *cpath,
                           Selection *sel, Diag *d) {
        json_object *warp = config_block(config, BLOCK_WARP);
        const char *wi = warp ? wireguard_warp_interface(warp) : NULL;

        if (!json_check_ifname(iface, spath, d))
                return -EINVAL;
        if (wi && streq(wi, iface)) {
                select_block(sel, BLOCK_WARP);
                return 0;
        }
        if (streq(iface, "wg0") && config_block(config, BLOCK_WG0)) {
                select_block(sel, BLOCK_WG0);
                return 0;
        }
        diag_error(d, spath, "no configuration for \"wg-quick@%s\": expected %s.wg-quick with \"interface\": \"%s\"%s",
                   iface, cpath, iface, streq(iface, "wg0") ? ", or config.wg0" : "");
        return -EINVAL;
}

/* A unit name with ".service" added unless it ends in a unit type
 * (".socket", ".timer", ...). */
static char *unit_name(const char *name) {
        static const char *const types[] = {
                ".socket", ".target", ".timer", ".path", ".mount", ".automount", ".swap", ".slice", NULL
        };
        size_t n = strlen(name);
        char *u;

        for (const char *const *t = types; *t; t++)
                if (n > strlen(*t) && streq(name + n - strlen(*t), *t))
                        return strdup(name);
        if (asprintf(&u, "%s.service", name) < 0)
                return NULL;
        return u;
}

/* Adds the unit of one entry of "services" and selects its block. name is
 * the entry without a ".service" suffix. */
static int select_service(json_object *config, const char *name, const char *spath, const char *cpath,
                          Selection *sel, ServiceFiles *f, Diag *d) {
        _cleanup_(freep) char *unit = NULL;
        Block b;

        if (!svc_check_unit_name(name, spath, d))
                return -EINVAL;
        if (streq(name, "wireguard") || streq(name, "xray")) {
                b = streq(name, "xray") ? BLOCK_XRAY : BLOCK_WG0;
                if (!config_block(config, b)) {
                        missing_block(cpath, b, name, d);
                        return -EINVAL;
                }
                select_block(sel, b);
                return service_files_add_unit(f, b == BLOCK_XRAY ? "xray.service" : "wg-quick@wg0.service");
        }
        if (startswith(name, "wg-quick@") &&
            select_wg_quick(config, name + strlen("wg-quick@"), spath, cpath, sel, d) < 0)
                return -EINVAL;
        unit = unit_name(name);
        if (!unit)
                return -ENOMEM;
        return service_files_add_unit(f, unit);
}

/* Each entry of "services"; the name without a ".service" suffix. */
static int select_services(json_object *config, char *const *services, size_t n_services,
                           const char *path, const char *cpath, Selection *sel, ServiceFiles *f, Diag *d) {
        for (size_t i = 0; i < n_services; i++) {
                _cleanup_(freep) char *sp = NULL, *name = strdup(services[i]);
                size_t n;
                int r;

                if (!name || asprintf(&sp, "%s%sservices[%zu]", path, *path ? "." : "", i) < 0)
                        return -ENOMEM;
                n = strlen(name);
                if (n > strlen(".service") && streq(name + n - strlen(".service"), ".service"))
                        name[n - strlen(".service")] = 0;
                r = select_service(config, name, sp, cpath, sel, f, d);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

/* Blocks of config that no service uses, and keys that are no block. */
static void warn_unused(json_object *config, const char *cpath, const Selection *sel, Diag *d) {
        json_object_object_foreach(config, key, val) {
                _cleanup_(freep) char *p = json_path_key(cpath, key);
                Block b;

                (void) val;
                for (b = 0; b < _BLOCK_MAX; b++)
                        if (streq(key, block_keys[b]))
                                break;
                if (b == _BLOCK_MAX)
                        diag_warning(d, p ?: cpath, "not a service configuration op-dbus renders (wg0, wg-quick, xray); ignored");
                else if (!sel->used[b])
                        diag_warning(d, p ?: cpath, "not rendered: no entry of services selects it (%s)", block_services[b]);
        }
}

/* Two blocks may not render the same file. */
static void check_conflicts(json_object *config, const char *cpath, const Selection *sel, Diag *d) {
        const char *wi;

        if (!sel->used[BLOCK_WG0] || !sel->used[BLOCK_WARP])
                return;
        wi = wireguard_warp_interface(config_block(config, BLOCK_WARP));
        if (wi && streq(wi, "wg0")) {
                _cleanup_(freep) char *p = json_path_key(cpath, "wg-quick.interface");

                diag_error(d, p ?: cpath, "\"wg0\" is the interface of config.wg0 already; choose another name");
        }
}

int services_render(json_object *config, char *const *services, size_t n_services,
                    const char *path, ServiceFiles *out, Diag *d) {
        _cleanup_(service_files_done) ServiceFiles f = {};
        _cleanup_(freep) char *cpath = json_path_key(path ?: "", "config");
        size_t errors = diag_count(d, DIAG_ERROR);
        Selection sel = {};
        int r;

        if (!cpath)
                return -ENOMEM;
        if (config && !json_expect_object(config, cpath, d))
                return -EINVAL;

        r = select_services(config, services, n_services, path ?: "", cpath, &sel, &f, d);
        if (r < 0)
                return r;
        if (config) {
                warn_unused(config, cpath, &sel, d);
                check_conflicts(config, cpath, &sel, d);
        }

        for (size_t i = 0; i < sel.n_order; i++) {
                Block b = sel.order[i];
                _cleanup_(freep) char *bp = json_path_key(cpath, block_keys[b]);

                if (!bp)
                        return -ENOMEM;
                if (!json_expect_object(config_block(config, b), bp, d))
                        continue;
                r = block_render[b](config_block(config, b), bp, &f, d);
                if (r == -ENOMEM)
                        return r;
        }

        if (diag_count(d, DIAG_ERROR) > errors)
                return -EINVAL;
        *out = f;
        f = (ServiceFiles) {};
        return 0;
}
