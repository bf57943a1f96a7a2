/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading the node: the backend's containers, container ids taken
 * elsewhere in the cluster, and the template caches the state's
 * templates are looked up in. */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "exec.h"
#include "host.h"
#include "lxc-backend.h"
#include "lxc-containers.h"
#include "lxc-offload.h"
#include "lxc-ovsdb.h"
#include "lxc-services.h"
#include "lxc-socket.h"

void lxc_live_set_done(LxcPlugin *l) {
        for (size_t i = 0; i < l->n_have; i++)
                lxc_live_done(&l->have[i]);
        free(l->have);
        l->have = NULL;
        l->n_have = 0;
        for (size_t i = 0; i < l->n_taken; i++) {
                free(l->taken[i].what);
                free(l->taken[i].node);
        }
        free(l->taken);
        l->taken = NULL;
        l->n_taken = 0;
        lxc_templates_done(&l->templates);
        for (size_t i = 0; i < l->n_ct_storages; i++)
                free(l->ct_storages[i]);
        free(l->ct_storages);
        free(l->ct_storages_error);
        l->ct_storages = NULL;
        l->n_ct_storages = 0;
        l->ct_storages_read = false;
        l->ct_storages_error = NULL;
        lxc_socket_done(l);
        lxc_ovs_done(l);
        lxc_services_done(l);
        lxc_offload_done(l);
        if (l->backend && l->backend->free_data)
                l->backend->free_data(l->backend_data);
        l->backend_data = NULL;
}

void lxc_choose_backend(LxcPlugin *l) {
        LxcBackend b = l->want.backend;

        if (b == LXC_BACKEND_AUTO)
                b = exec_in_path("pct") ? LXC_BACKEND_PCT : LXC_BACKEND_LXC;
        l->backend = b == LXC_BACKEND_PCT ? &lxc_pct_backend : exec_in_path("lxc-start") ? &lxc_lxc_backend : NULL;
        l->backend_missing = l->backend ? NULL : l->want.backend == LXC_BACKEND_AUTO ?
                "pct was not found, so backend \"auto\" chose plain LXC, but LXC's tools are not installed either (lxc-start is not in PATH)" :
                "the plain LXC backend needs LXC's tools, and lxc-start is not in PATH (install the lxc package)";
}

static int add_taken(LxcPlugin *l, uint32_t id, const char *what, const char *node) {
        LxcTakenId *t = realloc(l->taken, (l->n_taken + 1) * sizeof(LxcTakenId));

        if (!t)
                return -ENOMEM;
        l->taken = t;
        t[l->n_taken] = (LxcTakenId) { .id = id, .what = strdup(what), .node = strdup(node) };
        l->n_taken++;
        if (!t[l->n_taken - 1].what || !t[l->n_taken - 1].node)
                return -ENOMEM;
        return 0;
}

/* Container ids share one namespace with VMs, cluster-wide: a declared id
 * that pct list does not show may still be a VM's or another node's. */
static int scan_taken(LxcPlugin *l, uint32_t id) {
        _cleanup_(freep) char *nodes = NULL;
        DIR *dir;
        struct dirent *de;
        int r = 0;

        if (asprintf(&nodes, "%s/nodes", host_settings(l->plugin.ctx)->pve_dir) < 0)
                return -ENOMEM;
        dir = opendir(nodes);
        if (!dir)
                return 0;
        while (r >= 0 && (de = readdir(dir))) {
                static const char *const kinds[][2] = { { "qemu-server", "VM" }, { "lxc", "CT" } };

                if (de->d_name[0] == '.')
                        continue;
                for (size_t k = 0; r >= 0 && k < ELEMENTSOF(kinds); k++) {
                        _cleanup_(freep) char *f = NULL;

                        if (asprintf(&f, "%s/%s/%s/%" PRIu32 ".conf", nodes, de->d_name, kinds[k][0], id) < 0)
                                r = -ENOMEM;
                        else if (access(f, F_OK) == 0)
                                r = add_taken(l, id, kinds[k][1], de->d_name);
                }
        }
        closedir(dir);
        return r;
}

static bool cache_listed(const LxcPlugin *l, const char *storage) {
        for (size_t i = 0; i < l->templates.n_caches; i++)
                if (streq(l->templates.caches[i].storage, storage))
                        return true;
        return false;
}

/* Lists one storage's template cache; a failure is kept for the diff,
 * which reports it only if a template from there is needed. */
static int list_cache(LxcPlugin *l, const char *storage) {
        _cleanup_(diag_done) Diag scratch = {};
        LxcTemplates *t = &l->templates;
        LxcTemplateCache *c;
        int r;

        c = realloc(t->caches, (t->n_caches + 1) * sizeof(LxcTemplateCache));
        if (!c)
                return -ENOMEM;
        t->caches = c;
        c = &t->caches[t->n_caches++];
        *c = (LxcTemplateCache) { .storage = strdup(storage) };
        if (!c->storage)
                return -ENOMEM;
        r = l->backend->templates(l, storage, &c->volumes, &c->n_volumes, &scratch);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                c->error = strdup(scratch.n_entries > 0 ? scratch.entries[scratch.n_entries - 1].message : strerror(-r));
        return r < 0 && !c->error ? -ENOMEM : 0;
}

static int add_path(LxcTemplates *t, const char *path) {
        char **p;

        if (access(path, R_OK) < 0)
                return 0;
        p = realloc(t->paths, (t->n_paths + 1) * sizeof(char *));
        if (!p)
                return -ENOMEM;
        t->paths = p;
        p[t->n_paths] = strdup(path);
        return p[t->n_paths++] ? 0 : -ENOMEM;
}

/* The caches of every storage the state's templates name; what
 * `pveam available` offers when one of them is not there. */
static int query_templates(LxcPlugin *l) {
        bool missing = false;
        int r;

        for (size_t i = 0; i < l->want.n_containers; i++) {
                const char *req = lxc_requested_template(&l->want.containers[i]);
                _cleanup_(freep) char *storage = NULL, *volume = NULL, *hint = NULL;

                if (!req)
                        continue;
                r = lxc_template_storage(req, &storage);
                if (r >= 0 && !storage)
                        r = add_path(&l->templates, req);
                else if (r >= 0 && !cache_listed(l, storage))
                        r = list_cache(l, storage);
                if (r >= 0)
                        r = lxc_template_resolve(&l->templates, req, &volume, &hint);
                if (r < 0)
                        return r;
                missing |= r == 0 && storage;
        }
        if (missing) {
                _cleanup_(diag_done) Diag scratch = {};

                /* Only for a better message: a failure is no error. */
                r = l->backend->available(l, &l->templates.available, &l->templates.n_available, &scratch);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

/* Whether the state may have a container created: one that does not exist
 * or names another storage than its own. */
static bool may_create(const LxcPlugin *l) {
        for (size_t i = 0; i < l->want.n_containers; i++) {
                const LxcContainer *c = &l->want.containers[i];
                const LxcLive *h = lxc_find_live(l, c->id);

                if (!h || (c->properties.storage && !streq_ptr(c->properties.storage, h->spec.storage)))
                        return true;
        }
        return false;
}

/* The storages a container can be created on, when one may be; a failure
 * is kept for the diff, which reports it only if it needs the list. */
static int query_ct_storages(LxcPlugin *l) {
        _cleanup_(diag_done) Diag scratch = {};
        int r;

        if (!l->backend->ct_storages || !may_create(l))
                return 0;
        r = l->backend->ct_storages(l, &l->ct_storages, &l->n_ct_storages, &scratch);
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                l->ct_storages_read = true;
                return 0;
        }
        l->ct_storages_error = strdup(scratch.n_entries > 0 ? scratch.entries[scratch.n_entries - 1].message :
                                      strerror(-r));
        return l->ct_storages_error ? 0 : -ENOMEM;
}

int lxc_query(LxcPlugin *l, Diag *d) {
        int r;

        lxc_live_set_done(l);
        l->have_queried = false;
        lxc_choose_backend(l);
        if (!l->backend)
                return 0;

        r = l->backend->list(l, &l->have, &l->n_have, d);
        for (size_t i = 0; r >= 0 && i < l->want.n_containers; i++)
                if (!lxc_find_live(l, l->want.containers[i].id))
                        r = scan_taken(l, l->want.containers[i].id);
        if (r >= 0)
                r = query_ct_storages(l);
        if (r >= 0)
                r = l->backend->query_templates ? l->backend->query_templates(l, d) : query_templates(l);
        if (r >= 0)
                r = lxc_ovs_query(l, d);
        if (r >= 0)
                r = lxc_socket_query(l, d);
        if (r >= 0)
                r = lxc_offload_query(l, d);
        if (r >= 0)
                r = lxc_services_query(l, d);
        if (r < 0)
                return r;
        l->have_queried = true;
        return 0;
}
