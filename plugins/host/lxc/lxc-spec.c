/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The normalised container configuration both sides of the diff use, and
 * the desired one built from the state. No I/O here. */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <strings.h>

#include "lxc-containers.h"
#include "strbuf.h"

const char *const lxc_tun_lines[] = {
        "lxc.cgroup2.devices.allow: c 10:200 rwm",
        "lxc.mount.entry: /dev/net/tun dev/net/tun none bind,create=file",
        NULL
};

/* Services that need /dev/net/tun: userspace VPNs, and WireGuard, whose
 * wg-quick falls back to wireguard-go (TUN) when the container cannot
 * create a kernel WireGuard interface. Matched before any "@instance". */
static const char *const tun_services[] = {
        "wireguard", "wireguard-go", "wg-quick", "openvpn", "tailscale", "tailscaled", NULL
};

/* Property keys whose values are booleans (net0 and features). */
static const char *const boolean_keys[] = {
        "firewall", "link_down", "nesting", "keyctl", "fuse", "mknod", "force_rw_sys", NULL
};

void lxc_props_done(LxcProps *p) {
        for (size_t i = 0; i < p->n; i++) {
                free(p->items[i].key);
                free(p->items[i].value);
        }
        free(p->items);
        *p = (LxcProps) {};
}

static bool is_boolean_key(const char *key) {
        for (const char *const *k = boolean_keys; *k; k++)
                if (streq(*k, key))
                        return true;
        return false;
}

/* 1: true, 0: false, -1: not a boolean word. */
static int parse_boolean(const char *v) {
        static const char *const yes[] = { "1", "on", "yes", "true", NULL }, *const no[] = { "0", "off", "no", "false", NULL };

        for (size_t i = 0; yes[i]; i++) {
                if (strcasecmp(v, yes[i]) == 0)
                        return 1;
                if (strcasecmp(v, no[i]) == 0)
                        return 0;
        }
        return -1;
}

const char *lxc_props_get(const LxcProps *p, const char *key) {
        for (size_t i = 0; i < p->n; i++)
                if (streq(p->items[i].key, key))
                        return p->items[i].value;
        return NULL;
}

void lxc_props_unset(LxcProps *p, const char *key) {
        for (size_t i = 0; i < p->n; i++)
                if (streq(p->items[i].key, key)) {
                        free(p->items[i].key);
                        free(p->items[i].value);
                        memmove(&p->items[i], &p->items[i + 1], (p->n - i - 1) * sizeof(LxcProp));
                        p->n--;
                        return;
                }
}

/* Sets key (kept sorted); booleans normalised as described at LxcProps (lxc-plugin.h). */
int lxc_props_set(LxcProps *p, const char *key, const char *value) {
        _cleanup_(freep) char *k = strdup(key), *v = NULL;
        LxcProp *items;
        size_t at = 0;

        if (is_boolean_key(key) && parse_boolean(value) >= 0)
                value = parse_boolean(value) ? "1" : NULL;
        lxc_props_unset(p, key);
        if (!value)
                return 0;
        v = strdup(value);
        if (!k || !v)
                return -ENOMEM;
        if (streq(key, "hwaddr"))
                for (char *c = v; *c; c++)
                        *c = (char) toupper((unsigned char) *c);

        items = realloc(p->items, (p->n + 1) * sizeof(LxcProp));
        if (!items)
                return -ENOMEM;
        p->items = items;
        while (at < p->n && strcmp(p->items[at].key, key) < 0)
                at++;
        memmove(&p->items[at + 1], &p->items[at], (p->n - at) * sizeof(LxcProp));
        p->items[at] = (LxcProp) { .key = TAKE_PTR(k), .value = TAKE_PTR(v) };
        p->n++;
        return 0;
}

int lxc_props_parse(const char *s, const char *default_key, LxcProps *ret) {
        _cleanup_(freep) char *copy = strdup(s);
        _cleanup_(lxc_props_done) LxcProps p = {};
        char *save = NULL;
        int r;

        if (!copy)
                return -ENOMEM;
        for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(item, '=');

                if (!eq && !default_key)
                        return -EINVAL;
                if (eq)
                        *eq = 0;
                if (eq && (!item[0] || strspn(item, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(item)))
                        return -EINVAL;
                r = lxc_props_set(&p, eq ? item : default_key, eq ? eq + 1 : item);
                if (r < 0)
                        return r;
        }
        lxc_props_done(ret);
        *ret = p;
        p = (LxcProps) {};
        return 0;
}

char *lxc_props_format(const LxcProps *p, const char *first) {
        StrBuf b = {};
        const char *v = first ? lxc_props_get(p, first) : NULL;

        if (v)
                strbuf_printf(&b, "%s=%s", first, v);
        for (size_t i = 0; i < p->n; i++)
                if (!first || !streq(p->items[i].key, first))
                        strbuf_printf(&b, "%s%s=%s", b.len ? "," : "", p->items[i].key, p->items[i].value);
        return strbuf_take(&b);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

int lxc_list_normalize(const char *s, bool tags, char **ret) {
        _cleanup_(freep) char *copy = strdup(s ?: "");
        _cleanup_(freep) char **words = NULL;
        char *save = NULL;
        size_t n = 0;
        StrBuf b = {};

        if (!copy || !(words = calloc(strlen(copy) / 2 + 2, sizeof(char *))))
                return -ENOMEM;
        for (char *w = strtok_r(copy, ",; \t\n", &save); w; w = strtok_r(NULL, ",; \t\n", &save)) {
                if (tags)
                        for (char *c = w; *c; c++)
                                *c = (char) tolower((unsigned char) *c);
                words[n++] = w;
        }
        *ret = NULL;
        if (n == 0)
                return 0;
        if (tags)
                qsort(words, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++)
                if (!tags || i == 0 || !streq(words[i], words[i - 1]))
                        strbuf_printf(&b, "%s%s", b.len ? (tags ? ";" : " ") : "", words[i]);
        *ret = strbuf_take(&b);
        return *ret ? 0 : -ENOMEM;
}

void lxc_spec_done(LxcSpec *s) {
        free(s->hostname);
        lxc_props_done(&s->features);
        free(s->nameserver);
        free(s->searchdomain);
        free(s->tags);
        lxc_props_done(&s->net0);
        for (size_t i = 0; i < s->n_extra_nets; i++)
                free(s->extra_nets[i]);
        free(s->extra_nets);
        free(s->storage);
        free(s->template);
        free(s->volume);
        free(s->description);
        *s = (LxcSpec) {};
}

void lxc_live_done(LxcLive *l) {
        free(l->lock);
        lxc_spec_done(&l->spec);
        *l = (LxcLive) {};
}

#define DESCRIPTION_HEAD "Managed by op-dbus: changes made here are undone by its next apply."
#define DESCRIPTION_TEMPLATE "op-dbus template: "
#define DESCRIPTION_VOLUME "op-dbus volume: "

char *lxc_description_build(const char *template, const char *volume) {
        StrBuf b = {};

        strbuf_puts(&b, DESCRIPTION_HEAD);
        if (template)
                strbuf_printf(&b, "\n" DESCRIPTION_TEMPLATE "%s", template);
        if (volume)
                strbuf_printf(&b, "\n" DESCRIPTION_VOLUME "%s", volume);
        return strbuf_take(&b);
}

static int description_field(const char *description, const char *prefix, char **ret) {
        for (const char *line = description; line && *line;) {
                const char *end = strchrnul(line, '\n');

                if (startswith(line, prefix)) {
                        free(*ret);
                        *ret = strndup(line + strlen(prefix), (size_t) (end - line) - strlen(prefix));
                        return *ret ? 1 : -ENOMEM;
                }
                line = *end ? end + 1 : end;
        }
        return 0;
}

int lxc_description_parse(const char *description, char **ret_template, char **ret_volume) {
        int r;

        r = description_field(description, DESCRIPTION_TEMPLATE, ret_template);
        if (r >= 0)
                r = description_field(description, DESCRIPTION_VOLUME, ret_volume);
        return r;
}

bool lxc_container_wants_tun(const LxcContainer *c) {
        if (c->network.wg_tunnel == LXC_TRUE)
                return true;
        for (size_t i = 0; i < c->n_services; i++) {
                const char *s = c->services[i];
                size_t n = s ? strcspn(s, "@") : 0;

                for (const char *const *t = tun_services; s && *t; t++)
                        if (strlen(*t) == n && strncasecmp(s, *t, n) == 0)
                                return true;
        }
        return false;
}

bool lxc_container_has_veth(const LxcContainer *c) {
        return c->has_network && c->network.bridge && c->network.veth != LXC_FALSE &&
                c->network.socket_networking != LXC_TRUE;
}

void lxc_veth_port_name(uint32_t id, bool firewall, char ret[static 16]) {
        snprintf(ret, 16, firewall ? "fwln%" PRIu32 "o0" : "veth%" PRIu32 "i0", id);
}

static int spec_net0(const LxcContainer *c, LxcProps *net0) {
        const LxcNetwork *n = &c->network;
        char buf[INET_ADDRSTRLEN + 8], addr[INET_ADDRSTRLEN];
        int r;

        r = lxc_props_set(net0, "name", "eth0");
        if (r >= 0)
                r = lxc_props_set(net0, "bridge", n->bridge);
        if (r >= 0 && n->has_hwaddr) {
                snprintf(buf, sizeof buf, "%02X:%02X:%02X:%02X:%02X:%02X", n->hwaddr[0], n->hwaddr[1],
                         n->hwaddr[2], n->hwaddr[3], n->hwaddr[4], n->hwaddr[5]);
                r = lxc_props_set(net0, "hwaddr", buf);
        }
        if (r >= 0 && n->has_ipv4) {
                inet_ntop(AF_INET, &n->ipv4, addr, sizeof addr);
                snprintf(buf, sizeof buf, "%s/%u", addr, n->ipv4_prefixlen);
                r = lxc_props_set(net0, "ip", buf);
        }
        if (r >= 0 && n->has_gateway)
                r = lxc_props_set(net0, "gw", inet_ntop(AF_INET, &n->gateway, addr, sizeof addr));
        if (r >= 0 && n->tag > 0) {
                snprintf(buf, sizeof buf, "%u", n->tag);
                r = lxc_props_set(net0, "tag", buf);
        }
        if (r >= 0)
                r = lxc_props_set(net0, "firewall", n->firewall == LXC_TRUE ? "1" : "0");
        return r;
}

static int spec_features(const LxcProperties *p, LxcProps *ret) {
        int r = 0;

        if (p->features_string)
                return lxc_props_parse(p->features_string, NULL, ret);
        for (size_t i = 0; r >= 0 && i < p->n_features; i++)
                r = lxc_props_set(ret, p->features[i].name, p->features[i].enabled ? "1" : "0");
        return r;
}

static int spec_tags(const LxcProperties *p, char **ret) {
        _cleanup_(freep) char *joined = NULL;
        StrBuf b = {};

        strbuf_puts(&b, LXC_OWNER_TAG);
        for (size_t i = 0; i < p->n_tags; i++)
                strbuf_printf(&b, ";%s", p->tags[i]);
        joined = strbuf_take(&b);
        return joined ? lxc_list_normalize(joined, true, ret) : -ENOMEM;
}

/* Creation settings the state leaves open keep the live value. */
static int spec_creation(const LxcContainer *c, const LxcLive *have, const char *volume, const char *chosen,
                         LxcSpec *s) {
        const LxcProperties *p = &c->properties;
        const char *requested = c->template ?: p->template;
        const char *storage = p->storage ?: have ? have->spec.storage : chosen;

        s->storage = strdup_or_null(storage);
        s->rootfs_mib = p->rootfs_size > 0 ? p->rootfs_size * 1024 :
                have ? have->spec.rootfs_mib : LXC_DEFAULT_ROOTFS_GIB * 1024;
        if (requested) {
                s->template = strdup(requested);
                s->volume = strdup_or_null(volume);
        } else if (have) {
                s->template = strdup_or_null(have->spec.template);
                s->volume = strdup_or_null(have->spec.volume);
        }
        s->description = lxc_description_build(s->template, s->volume);
        if ((storage && !s->storage) || (requested && !s->template) || (volume && !s->volume) || !s->description)
                return -ENOMEM;
        return 0;
}

int lxc_spec_from_container(const LxcContainer *c, const LxcLive *have, const char *volume, const char *storage,
                            LxcSpec *ret) {
        const LxcProperties *p = &c->properties;
        _cleanup_(lxc_spec_done) LxcSpec s = {
                .id = c->id,
                .memory = p->memory >= 0 ? p->memory : LXC_DEFAULT_MEMORY,
                .swap = p->swap >= 0 ? p->swap : LXC_DEFAULT_SWAP,
                .cores = p->cores,
                .onboot = p->onboot == LXC_TRUE,
                .unprivileged = p->unprivileged != LXC_FALSE,
                .tun = lxc_container_wants_tun(c),
        };
        int r;

        if (c->name)
                s.hostname = strdup(c->name);
        else if (asprintf(&s.hostname, "CT%" PRIu32, c->id) < 0)
                s.hostname = NULL;
        if (!s.hostname)
                return -ENOMEM;
        r = spec_tags(p, &s.tags);
        if (r >= 0)
                r = lxc_list_normalize(p->nameserver, false, &s.nameserver);
        if (r >= 0)
                r = lxc_list_normalize(p->searchdomain, false, &s.searchdomain);
        if (r >= 0)
                r = spec_features(p, &s.features);
        if (r < 0)
                return r;
        s.has_net0 = lxc_container_has_veth(c);
        if (s.has_net0) {
                r = spec_net0(c, &s.net0);
                if (r < 0)
                        return r;
        }
        r = spec_creation(c, have, volume, storage, &s);
        if (r < 0)
                return r;
        *ret = s;
        s = (LxcSpec) {};
        return 0;
}

/* net0 equal, ignoring hwaddr when want does not name one. */
static bool net0_equal(const LxcSpec *want, const LxcSpec *have) {
        const LxcProps *w = &want->net0, *h = &have->net0;
        bool any_mac = !lxc_props_get(w, "hwaddr");

        if (want->has_net0 != have->has_net0)
                return false;
        for (size_t i = 0; i < w->n; i++)
                if (!streq_ptr(w->items[i].value, lxc_props_get(h, w->items[i].key)))
                        return false;
        for (size_t i = 0; i < h->n; i++)
                if (!lxc_props_get(w, h->items[i].key) && !(any_mac && streq(h->items[i].key, "hwaddr")))
                        return false;
        return true;
}

static bool props_equal(const LxcProps *a, const LxcProps *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (!streq(a->items[i].key, b->items[i].key) || !streq(a->items[i].value, b->items[i].value))
                        return false;
        return true;
}

bool lxc_spec_field_differs(const LxcSpec *want, const LxcSpec *have, LxcField f) {
        switch (f) {
        case LXC_FIELD_HOSTNAME:
                return !streq_ptr(want->hostname, have->hostname);
        case LXC_FIELD_MEMORY:
                return want->memory != have->memory;
        case LXC_FIELD_SWAP:
                return want->swap != have->swap;
        case LXC_FIELD_CORES:
                return want->cores != have->cores;
        case LXC_FIELD_ONBOOT:
                return want->onboot != have->onboot;
        case LXC_FIELD_TAGS:
                return !streq_ptr(want->tags, have->tags);
        case LXC_FIELD_DESCRIPTION:
                return !streq_ptr(want->description, have->description);
        case LXC_FIELD_FEATURES:
                return !props_equal(&want->features, &have->features);
        case LXC_FIELD_NAMESERVER:
                return !streq_ptr(want->nameserver, have->nameserver);
        case LXC_FIELD_SEARCHDOMAIN:
                return !streq_ptr(want->searchdomain, have->searchdomain);
        case LXC_FIELD_NET0:
                return !net0_equal(want, have);
        case LXC_FIELD_EXTRA_NETS:
                return want->n_extra_nets != have->n_extra_nets;
        default:
                return false;
        }
}

char *lxc_spec_net0_string(const LxcSpec *want, const LxcSpec *have) {
        _cleanup_(lxc_props_done) LxcProps p = {};
        const char *mac = have ? lxc_props_get(&have->net0, "hwaddr") : NULL;

        for (size_t i = 0; i < want->net0.n; i++)
                if (lxc_props_set(&p, want->net0.items[i].key, want->net0.items[i].value) < 0)
                        return NULL;
        if (!lxc_props_get(&p, "hwaddr") && mac && lxc_props_set(&p, "hwaddr", mac) < 0)
                return NULL;
        /* Booleans that are off were dropped: Proxmox needs no "=0". */
        return lxc_props_format(&p, "name");
}
