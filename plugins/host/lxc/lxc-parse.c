/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <strings.h>

#include "json-util.h"
#include "lxc-containers.h"
#include "services.h"

static const char *const backends[] = { "auto", "pct", "lxc", NULL };
static const char *const run_states[] = { "running", "stopped", NULL };
static const char *const drift_policies[] = { "heal", "report", NULL };
static const char *const network_types[] = { "bridge", "netmaker", NULL };

static void strv_free_n(char **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(l[i]);
        free(l);
}

static void lxc_network_done(LxcNetwork *n) {
        free(n->bridge);
        free(n->port_name);
        free(n->public_ip);
}

static void lxc_properties_done(LxcProperties *p) {
        free(p->template);
        free(p->storage);
        free(p->features_string);
        for (size_t i = 0; i < p->n_features; i++)
                free(p->features[i].name);
        free(p->features);
        free(p->nameserver);
        free(p->searchdomain);
        strv_free_n(p->tags, p->n_tags);
}

static void lxc_container_done(LxcContainer *c) {
        free(c->name);
        free(c->template);
        lxc_network_done(&c->network);
        strv_free_n(c->services, c->n_services);
        json_object_put(c->config);
        service_files_done(&c->rendered);
        lxc_properties_done(&c->properties);
        free(c->path);
}

void lxc_config_done(LxcConfig *c) {
        for (size_t i = 0; i < c->n_containers; i++)
                lxc_container_done(&c->containers[i]);
        free(c->containers);
        free(c->container_profile);
        *c = (LxcConfig) {};
}

static int get_ifname_dup(json_object *o, const char *path, const char *key, char **ret, Diag *d) {
        const char *s;
        int r;

        r = json_get_ifname(o, path, key, false, &s, d);
        if (r <= 0)
                return r;
        *ret = strdup(s);
        return *ret ? 1 : -ENOMEM;
}

static int get_tristate(json_object *o, const char *path, const char *key, LxcTristate *ret, Diag *d) {
        bool b;
        int r;

        r = json_get_bool(o, path, key, &b, d);
        if (r > 0)
                *ret = b ? LXC_TRUE : LXC_FALSE;
        return r;
}

/* An array of strings; the list is owned by *ret as soon as it exists. */
static int get_string_list(json_object *o, const char *path, const char *key,
                           char ***ret, size_t *ret_n, Diag *d) {
        _cleanup_(freep) char *lp = json_path_key(path, key);
        json_object *a;
        size_t n;
        int r;

        r = json_get_array(o, path, key, false, &a, d);
        if (r <= 0)
                return r;
        n = json_object_array_length(a);
        if (!lp || !(*ret = calloc(n + 1, sizeof(char *))))
                return -ENOMEM;
        *ret_n = n;

        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(a, i);

                if (!json_object_is_type(v, json_type_string)) {
                        _cleanup_(freep) char *ip = json_path_index(lp, i);

                        diag_error(d, ip ?: lp, "expected a string, got %s", json_type_name(json_object_get_type(v)));
                        r = -EINVAL;
                        continue;
                }
                (*ret)[i] = strdup(json_object_get_string(v));
                if (!(*ret)[i])
                        return -ENOMEM;
        }
        return r;
}

static bool ascii_alnum(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A host name label: letters, digits and '-', not starting or ending
 * with '-'. */
static bool hostname_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!ascii_alnum(s[i]) && !(s[i] == '-' && i > 0 && i < n - 1))
                        return false;
        return true;
}

static const char *const network_keys[] = {
        "bridge", "veth", "socket_networking", "port_name", "ipv4", "gateway", "hwaddr",
        "tag", "firewall", "wg_tunnel", "public_ip", NULL
};

static int parse_network(LxcNetwork *n, json_object *o, const char *path, Diag *d) {
        int64_t i;
        int r, ret = 0;

        if (!json_expect_object(o, path, d))
                return -EINVAL;
        if (json_check_keys(o, path, network_keys, d) > 0)
                ret = -EINVAL;

        RET_GATHER(ret, get_ifname_dup(o, path, "bridge", &n->bridge, d));
        RET_GATHER(ret, get_tristate(o, path, "veth", &n->veth, d));
        RET_GATHER(ret, get_tristate(o, path, "socket_networking", &n->socket_networking, d));
        RET_GATHER(ret, get_ifname_dup(o, path, "port_name", &n->port_name, d));

        r = json_get_ipv4(o, path, "ipv4", false, &n->ipv4, &n->ipv4_prefixlen, d);
        n->has_ipv4 = r > 0;
        RET_GATHER(ret, r);
        r = json_get_ipv4(o, path, "gateway", false, &n->gateway, NULL, d);
        n->has_gateway = r > 0;
        RET_GATHER(ret, r);
        r = json_get_mac(o, path, "hwaddr", false, n->hwaddr, d);
        n->has_hwaddr = r > 0;
        RET_GATHER(ret, r);

        r = json_get_int(o, path, "tag", false, 1, 4094, &i, d);
        if (r > 0)
                n->tag = (unsigned) i;
        RET_GATHER(ret, r);

        RET_GATHER(ret, get_tristate(o, path, "firewall", &n->firewall, d));
        RET_GATHER(ret, get_tristate(o, path, "wg_tunnel", &n->wg_tunnel, d));
        RET_GATHER(ret, json_get_string_dup(o, path, "public_ip", false, &n->public_ip, d));
        return ret;
}

/* "features": a pct string, or an object of booleans. */
static int parse_features(LxcProperties *p, json_object *o, const char *path, Diag *d) {
        _cleanup_(freep) char *fp = json_path_key(path, "features");
        json_object *v;
        int ret = 0;

        if (!fp)
                return -ENOMEM;
        if (!json_object_object_get_ex(o, "features", &v))
                return 0;
        if (json_object_is_type(v, json_type_string)) {
                p->features_string = strdup(json_object_get_string(v));
                return p->features_string ? 1 : -ENOMEM;
        }
        if (!json_object_is_type(v, json_type_object)) {
                diag_error(d, fp, "expected a string such as \"nesting=1,keyctl=1\" or an object of booleans such as {\"nesting\": true}, got %s",
                           json_type_name(json_object_get_type(v)));
                return -EINVAL;
        }

        p->features = calloc(json_object_object_length(v) + 1, sizeof(LxcFeature));
        if (!p->features)
                return -ENOMEM;
        json_object_object_foreach(v, name, enabled) {
                LxcFeature *f = &p->features[p->n_features];

                if (!json_object_is_type(enabled, json_type_boolean)) {
                        _cleanup_(freep) char *kp = json_path_key(fp, name);

                        diag_error(d, kp ?: fp, "expected true or false, got %s",
                                   json_type_name(json_object_get_type(enabled)));
                        ret = -EINVAL;
                        continue;
                }
                f->name = strdup(name);
                if (!f->name)
                        return -ENOMEM;
                f->enabled = json_object_get_boolean(enabled);
                p->n_features++;
        }
        return ret < 0 ? ret : 1;
}

/* The values that go to pct (or lxc-create) as they are: checked for
 * what they are, so that a newline or an option cannot ride along. */

/* A template name, file, volume or path: no whitespace or control
 * characters. */
static bool template_valid(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if ((unsigned char) *s <= 0x20 || *s == 0x7f)
                        return false;
        return true;
}

static bool address_valid(const char *s) {
        unsigned char buf[16];

        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* A DNS name: labels of letters, digits and '-' (not at either end),
 * joined by '.', at most 253 bytes. */
static bool domain_valid(const char *s) {
        size_t label = 0, n = strlen(s);

        if (n == 0 || n > 253)
                return false;
        for (size_t i = 0; i <= n; i++) {
                if (i == n || s[i] == '.') {
                        if (label == 0 || label > 63 || s[i - 1] == '-')
                                return false;
                        label = 0;
                } else if (isascii(s[i]) && (isalnum(s[i]) || (s[i] == '-' && label > 0)))
                        label++;
                else
                        return false;
        }
        return true;
}

/* s: items each valid by item_valid, separated by spaces, commas or ';'. */
static bool list_valid(const char *s, bool (*item_valid)(const char *)) {
        char item[256];
        size_t n = 0;

        for (;;) {
                size_t k = strcspn(s, " ,;");

                if (k > 0) {
                        if (k >= sizeof item)
                                return false;
                        memcpy(item, s, k);
                        item[k] = 0;
                        if (!item_valid(item))
                                return false;
                        n++;
                }
                s += k;
                if (!*s)
                        return n > 0;
                s++;
        }
}

static int get_checked_dup(json_object *o, const char *path, const char *key, bool (*valid)(const char *),
                           const char *expected, char **ret, Diag *d) {
        _cleanup_(freep) char *kp = NULL, *shown = NULL;
        const char *s;
        int r;

        r = json_get_string_nonul(o, path, key, false, &s, d);
        if (r <= 0)
                return r;
        if (!valid(s)) {
                kp = json_path_key(path, key);
                shown = str_quote(s);
                diag_error(d, kp ?: path, "%s is not %s", shown ?: "the value", expected);
                return -EINVAL;
        }
        *ret = strdup(s);
        return *ret ? 1 : -ENOMEM;
}

static bool nameservers_valid(const char *s) {
        return list_valid(s, address_valid);
}

static bool searchdomains_valid(const char *s) {
        return list_valid(s, domain_valid);
}

static int get_template(json_object *o, const char *path, char **ret, Diag *d) {
        return get_checked_dup(o, path, "template", template_valid,
                               "a template: a name, file name, volume id or path, without whitespace or control characters",
                               ret, d);
}

static const char *const property_keys[] = {
        "network_type", "template", "memory", "swap", "cores", "storage", "rootfs_size",
        "unprivileged", "allow_privileged", "features", "onboot", "nameserver", "searchdomain",
        "tags", NULL
};

static int parse_properties(LxcProperties *p, json_object *o, const char *path, Diag *d) {
        int r, e, ret = 0;

        if (!json_expect_object(o, path, d))
                return -EINVAL;
        if (json_check_keys(o, path, property_keys, d) > 0)
                ret = -EINVAL;

        r = json_get_enum(o, path, "network_type", network_types, &e, d);
        if (r > 0)
                p->network_type = (LxcNetworkType) e;
        RET_GATHER(ret, r);
        RET_GATHER(ret, get_template(o, path, &p->template, d));
        RET_GATHER(ret, json_get_int(o, path, "memory", false, 16, INT64_MAX, &p->memory, d));
        RET_GATHER(ret, json_get_int(o, path, "swap", false, 0, INT64_MAX, &p->swap, d));
        RET_GATHER(ret, json_get_int(o, path, "cores", false, 1, 8192, &p->cores, d));
        RET_GATHER(ret, json_get_string_dup(o, path, "storage", false, &p->storage, d));
        RET_GATHER(ret, json_get_int(o, path, "rootfs_size", false, 1, INT64_MAX, &p->rootfs_size, d));
        RET_GATHER(ret, get_tristate(o, path, "unprivileged", &p->unprivileged, d));
        RET_GATHER(ret, get_tristate(o, path, "allow_privileged", &p->allow_privileged, d));
        RET_GATHER(ret, parse_features(p, o, path, d));
        RET_GATHER(ret, get_tristate(o, path, "onboot", &p->onboot, d));
        RET_GATHER(ret, get_checked_dup(o, path, "nameserver", nameservers_valid,
                                        "a list of DNS server addresses: expected IPv4 or IPv6 addresses separated by spaces, "
                                        "commas or ';', such as \"1.1.1.1 9.9.9.9\"", &p->nameserver, d));
        RET_GATHER(ret, get_checked_dup(o, path, "searchdomain", searchdomains_valid,
                                        "a list of search domains: expected DNS names separated by spaces, commas or ';', "
                                        "such as \"example.org lan\"", &p->searchdomain, d));
        RET_GATHER(ret, get_string_list(o, path, "tags", &p->tags, &p->n_tags, d));
        return ret;
}

static int parse_name(LxcContainer *c, json_object *o, const char *path, Diag *d) {
        const char *s;
        int r;

        r = json_get_string_nonul(o, path, "name", false, &s, d);
        if (r <= 0)
                return r;
        if (!hostname_valid(s)) {
                _cleanup_(freep) char *np = json_path_key(path, "name");

                diag_error(d, np ?: path, "\"%s\" is not a valid host name, expected letters, digits and '-', starting and ending with a letter or digit",
                           s);
                return -EINVAL;
        }
        c->name = strdup(s);
        return c->name ? 1 : -ENOMEM;
}

/* "network", "config" and "properties": objects of their own. */
static int parse_container_objects(LxcContainer *c, json_object *o, const char *path, Diag *d) {
        _cleanup_(freep) char *np = json_path_key(path, "network"), *cp = json_path_key(path, "config"),
                *pp = json_path_key(path, "properties");
        json_object *v;
        int ret = 0;

        if (!np || !cp || !pp)
                return -ENOMEM;

        if (json_object_object_get_ex(o, "network", &v)) {
                c->has_network = true;
                RET_GATHER(ret, parse_network(&c->network, v, np, d));
        }
        if (json_object_object_get_ex(o, "config", &v)) {
                if (json_expect_object(v, cp, d))
                        c->config = json_object_get(v);
                else
                        RET_GATHER(ret, -EINVAL);
        }
        if (json_object_object_get_ex(o, "properties", &v))
                RET_GATHER(ret, parse_properties(&c->properties, v, pp, d));
        return ret;
}

static const char *const boolean_features[] = { "nesting", "keyctl", "fuse", "mknod", "force_rw_sys", NULL };

static bool is_boolean_feature(const char *name) {
        for (const char *const *f = boolean_features; *f; f++)
                if (streq(*f, name))
                        return true;
        return false;
}

static bool boolean_value(const char *v) {
        static const char *const words[] = { "0", "1", "on", "off", "yes", "no", "true", "false", NULL };

        for (const char *const *w = words; *w; w++)
                if (strcasecmp(*w, v) == 0)
                        return true;
        return false;
}

/* Proxmox's features: the booleans above and mount=FS;FS. */
static int check_features(const LxcProperties *p, const char *path, Diag *d) {
        _cleanup_(freep) char *fp = json_path_key(path, "features");
        _cleanup_(lxc_props_done) LxcProps props = {};
        int ret = 0;

        if (!fp)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_features; i++)
                if (!is_boolean_feature(p->features[i].name)) {
                        diag_error(d, fp, "unknown feature \"%s\", expected one of nesting, keyctl, fuse, mknod, force_rw_sys",
                                   p->features[i].name);
                        ret = -EINVAL;
                }
        if (!p->features_string)
                return ret;
        if (lxc_props_parse(p->features_string, NULL, &props) < 0) {
                diag_error(d, fp, "\"%s\" is not a feature list, expected e.g. \"nesting=1,keyctl=1\"", p->features_string);
                return -EINVAL;
        }
        for (size_t i = 0; i < props.n; i++) {
                const LxcProp *f = &props.items[i];

                if (streq(f->key, "mount") || (is_boolean_feature(f->key) && boolean_value(f->value)))
                        continue;
                diag_error(d, fp, is_boolean_feature(f->key) ? "feature \"%s\" expects 0 or 1, got \"%s\"" :
                           "unknown feature \"%s\" (=%s), expected nesting, keyctl, fuse, mknod, force_rw_sys or mount",
                           f->key, f->value);
                ret = -EINVAL;
        }
        return ret;
}

/* A Proxmox storage id. */
static bool storage_id_valid(const char *s) {
        size_t n = strlen(s);

        if (n < 2 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')) || !ascii_alnum(s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!ascii_alnum(s[i]) && !strchr("._-", s[i]))
                        return false;
        return true;
}

/* Rules between fields of one container. */
static int check_container(const LxcContainer *c, Diag *d) {
        const LxcProperties *p = &c->properties;
        _cleanup_(freep) char *pp = json_path_key(c->path, "properties"), *np = json_path_key(c->path, "network"),
                *up = NULL, *tp = NULL, *sp = NULL;
        int ret = 0;

        if (!pp || !np || !(up = json_path_key(pp, "unprivileged")) || !(tp = json_path_key(pp, "tags")) ||
            !(sp = json_path_key(pp, "storage")))
                return -ENOMEM;

        if (p->unprivileged == LXC_FALSE && p->allow_privileged != LXC_TRUE) {
                diag_error(d, up, "a privileged container (unprivileged: false) needs \"allow_privileged\": true; "
                           "its root user is root on the host");
                ret = -EINVAL;
        }
        if (c->network.veth == LXC_TRUE && c->network.socket_networking == LXC_TRUE) {
                diag_error(d, np, "\"veth\" and \"socket_networking\" cannot both be true");
                ret = -EINVAL;
        }
        for (size_t i = 0; i < p->n_tags; i++)
                if (p->tags[i] && !pve_tag_valid(p->tags[i])) {
                        _cleanup_(freep) char *ip = json_path_index(tp, i);

                        diag_error(d, ip ?: tp, "\"%s\" is not a Proxmox tag, expected letters, digits and _ + . - (not starting with + . -)",
                                   p->tags[i]);
                        ret = -EINVAL;
                }
        if (p->storage && !storage_id_valid(p->storage)) {
                diag_error(d, sp, "\"%s\" is not a Proxmox storage id, expected e.g. \"local-lvm\"", p->storage);
                ret = -EINVAL;
        }
        RET_GATHER(ret, check_features(p, pp, d));
        return ret;
}

static const char *const container_keys[] = {
        "id", "name", "template", "autostart", "state", "drift", "network", "services",
        "config", "properties", NULL
};

/* The services' configuration renders (docs/services.md): its mistakes are
 * reported with their paths when the state is validated. Without "config"
 * the services are the container's own business (set up by hand). */
/* Renders the services now: a mistake is reported before anything changes. */
static int render_services(LxcContainer *c, const char *path, Diag *d) {
        if (!c->config)
                return 0;
        return services_render(c->config, c->services, c->n_services, path, &c->rendered, d);
}

static int parse_container(LxcContainer *c, json_object *o, const char *path, Diag *d) {
        int r, e, ret = 0;

        if (!json_expect_object(o, path, d))
                return -EINVAL;
        if (json_check_keys(o, path, container_keys, d) > 0)
                ret = -EINVAL;

        r = pve_get_vmid(o, path, "id", true, &c->id, d);
        if (r <= 0)
                RET_GATHER(ret, r < 0 ? r : -EINVAL);
        RET_GATHER(ret, parse_name(c, o, path, d));
        RET_GATHER(ret, get_template(o, path, &c->template, d));
        RET_GATHER(ret, get_tristate(o, path, "autostart", &c->autostart, d));

        r = json_get_enum(o, path, "state", run_states, &e, d);
        if (r > 0)
                c->state = (LxcRunState) e;
        RET_GATHER(ret, r);
        r = json_get_enum(o, path, "drift", drift_policies, &e, d);
        if (r > 0)
                c->drift = (LxcDrift) e;
        RET_GATHER(ret, r);

        RET_GATHER(ret, get_string_list(o, path, "services", &c->services, &c->n_services, d));
        RET_GATHER(ret, parse_container_objects(c, o, path, d));
        if (ret == -ENOMEM)
                return ret;
        RET_GATHER(ret, check_container(c, d));
        RET_GATHER(ret, render_services(c, path, d));
        return ret;
}

static int parse_containers(LxcConfig *c, json_object *a, Diag *d) {
        size_t n = json_object_array_length(a);
        int ret = 0;

        c->containers = calloc(n + 1, sizeof(LxcContainer));
        if (!c->containers)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                LxcContainer *ct = &c->containers[i];
                int r;

                *ct = (LxcContainer) {
                        .autostart = LXC_UNSET,
                        .state = LXC_RUN_STATE_UNSET,
                        .drift = LXC_DRIFT_HEAL,
                        .network = {
                                .veth = LXC_UNSET,
                                .socket_networking = LXC_UNSET,
                                .firewall = LXC_UNSET,
                                .wg_tunnel = LXC_UNSET,
                        },
                        .properties = {
                                .network_type = LXC_NETWORK_TYPE_UNSET,
                                .memory = -1,
                                .swap = -1,
                                .cores = -1,
                                .rootfs_size = -1,
                                .unprivileged = LXC_UNSET,
                                .allow_privileged = LXC_UNSET,
                                .onboot = LXC_UNSET,
                        },
                        .path = json_path_index("plugins.lxc.containers", i),
                };
                c->n_containers++;
                if (!ct->path)
                        return -ENOMEM;

                r = parse_container(ct, json_object_array_get_idx(a, i), ct->path, d);
                if (r == -ENOMEM)
                        return r;
                RET_GATHER(ret, r);
        }
        return ret;
}

/* Container ids are unique: reported at the later container. */
static int check_unique_ids(const LxcConfig *c, Diag *d) {
        int ret = 0;

        for (size_t i = 0; i < c->n_containers; i++)
                for (size_t j = 0; c->containers[i].id != 0 && j < i; j++)
                        if (c->containers[j].id == c->containers[i].id) {
                                diag_error(d, c->containers[i].path, "container %u is already declared at %s; container ids are unique",
                                           c->containers[i].id, c->containers[j].path);
                                ret = -EINVAL;
                                break;
                        }
        return ret;
}

static const char *const lxc_keys[] = { "backend", "prune", "container_profile", "containers", NULL };

int lxc_parse(LxcConfig *c, json_object *section, Diag *d) {
        const char *path = "plugins.lxc";
        json_object *a;
        int r, e, ret = 0;

        if (!json_expect_object(section, path, d))
                return -EINVAL;
        if (json_check_keys(section, path, lxc_keys, d) > 0)
                ret = -EINVAL;

        r = json_get_enum(section, path, "backend", backends, &e, d);
        if (r > 0)
                c->backend = (LxcBackend) e;
        RET_GATHER(ret, r);
        RET_GATHER(ret, json_get_bool(section, path, "prune", &c->prune, d));
        RET_GATHER(ret, json_get_string_dup(section, path, "container_profile", false,
                                                &c->container_profile, d));

        r = json_get_array(section, path, "containers", false, &a, d);
        RET_GATHER(ret, r);
        if (r > 0) {
                r = parse_containers(c, a, d);
                if (r == -ENOMEM)
                        return r;
                RET_GATHER(ret, r);
        }

        RET_GATHER(ret, check_unique_ids(c, d));
        return ret;
}
