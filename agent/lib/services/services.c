/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "json-util.h"
#include "services-internal.h"
#include "services-render.h"

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
