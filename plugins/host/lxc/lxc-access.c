/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lxc plugin's containers for other plugins (lxc-access.h): a plugin
 * instance of its own that holds only the backend, chosen as the lxc
 * plugin chooses it, and calls the backend's operations for one
 * container at a time. */
#include "lxc-access.h"
#include "lxc-backend.h"
#include "lxc-containers.h"

struct LxcAccess {
        LxcPlugin l;
};

LxcAccess *lxc_access_free(LxcAccess *a) {
        if (!a)
                return NULL;
        if (a->l.backend && a->l.backend->free_data)
                a->l.backend->free_data(a->l.backend_data);
        free(a);
        return NULL;
}

int lxc_access_open(const PluginContext *ctx, const char *backend, LxcAccess **ret, Diag *d) {
        static const char *const names[_LXC_BACKEND_MAX] = {
                [LXC_BACKEND_AUTO] = "auto", [LXC_BACKEND_PCT] = "pct", [LXC_BACKEND_LXC] = "lxc",
        };
        LxcAccess *a;
        int b, r;

        for (b = 0; b < _LXC_BACKEND_MAX; b++)
                if (streq(names[b], backend ?: "auto"))
                        break;
        if (b == _LXC_BACKEND_MAX) {
                diag_error(d, "plugins.lxc.backend", "unknown backend \"%s\"", backend);
                return -EINVAL;
        }
        a = calloc(1, sizeof(LxcAccess));
        if (!a)
                return -ENOMEM;
        a->l.plugin.ctx = ctx;
        a->l.want.backend = b;
        lxc_choose_backend(&a->l);
        if (!a->l.backend) {
                diag_error(d, "plugins.lxc.backend", "%s", strna(a->l.backend_missing));
                lxc_access_free(a);
                return -EOPNOTSUPP;
        }
        r = a->l.backend->open ? a->l.backend->open(&a->l, d) : 0;
        if (r < 0) {
                lxc_access_free(a);
                return r;
        }
        *ret = a;
        return 0;
}

const char *lxc_access_not_owned(const LxcAccess *a) {
        return a->l.backend->not_owned;
}

const char *lxc_access_mount_how(const LxcAccess *a) {
        return a->l.backend->mount_how;
}

const char *lxc_access_push_how(const LxcAccess *a) {
        return a->l.backend->push_how;
}

int lxc_access_inspect(LxcAccess *a, uint32_t id, LxcContainerInfo *ret, Diag *d) {
        *ret = (LxcContainerInfo) {};
        return a->l.backend->inspect(&a->l, id, ret, d);
}

/* Runs op with the apply's counters. */
#define COUNTED(a, counts, op)                          \
        ({                                              \
                int _r_;                                \
                (a)->l.counts = (counts);               \
                _r_ = (op);                             \
                (a)->l.counts = NULL;                   \
                _r_;                                    \
        })

int lxc_access_exec(LxcAccess *a, uint32_t id, const char *script, bool changes, char **ret_out,
                    ApplyCounts *counts, Diag *d) {
        return COUNTED(a, counts, a->l.backend->exec(&a->l, id, script, NULL, changes, ret_out, d));
}

int lxc_access_push(LxcAccess *a, uint32_t id, const char *data, size_t len, const char *dest, mode_t mode,
                    ApplyCounts *counts, Diag *d) {
        return COUNTED(a, counts, a->l.backend->push(&a->l, id, data, len, dest, mode, d));
}

int lxc_access_mount(LxcAccess *a, uint32_t id, char **ret_path, ApplyCounts *counts, Diag *d) {
        return COUNTED(a, counts, a->l.backend->mount(&a->l, id, ret_path, d));
}

int lxc_access_unmount(LxcAccess *a, uint32_t id, ApplyCounts *counts, Diag *d) {
        return COUNTED(a, counts, a->l.backend->unmount(&a->l, id, d));
}
