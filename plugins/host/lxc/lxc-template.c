/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Templates: what the state names ("debian-12", a file name, a volume id
 * or a path) resolved against the storages' template caches, which query
 * read. No I/O here. */
#include <stdio.h>
#include <string.h>
#include "lxc-containers.h"


static void strv_free_n(char **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(l[i]);
        free(l);
}

void lxc_templates_done(LxcTemplates *t) {
        for (size_t i = 0; i < t->n_caches; i++) {
                free(t->caches[i].storage);
                strv_free_n(t->caches[i].volumes, t->caches[i].n_volumes);
                free(t->caches[i].error);
        }
        free(t->caches);
        strv_free_n(t->available, t->n_available);
        strv_free_n(t->paths, t->n_paths);
        *t = (LxcTemplates) {};
}

static bool has_archive_suffix(const char *s) {
        static const char *const suffixes[] = { ".tar", ".tar.gz", ".tar.xz", ".tar.zst", ".tar.bz2", NULL };
        size_t n = strlen(s);

        for (const char *const *x = suffixes; *x; x++)
                if (n > strlen(*x) && streq(s + n - strlen(*x), *x))
                        return true;
        return false;
}

int lxc_template_storage(const char *requested, char **ret) {
        const char *colon = strchr(requested, ':');

        if (requested[0] == '/') {
                *ret = NULL;
                return 0;
        }
        *ret = colon ? strndup(requested, (size_t) (colon - requested)) : strdup(LXC_TEMPLATE_STORAGE);
        return *ret ? 0 : -ENOMEM;
}

static const LxcTemplateCache *find_cache(const LxcTemplates *t, const char *storage) {
        for (size_t i = 0; i < t->n_caches; i++)
                if (streq(t->caches[i].storage, storage))
                        return &t->caches[i];
        return NULL;
}

static const char *volume_file(const char *volume) {
        const char *s = strstr(volume, ":vztmpl/");

        return s ? s + strlen(":vztmpl/") : volume;
}

/* A file for a short name such as "debian-12": the name followed by '-'
 * or '_' ("debian-12-standard_12.7-1_amd64.tar.zst"), the newest by
 * version order. Returns an index into names or -1. */
static ssize_t best_match(char *const *names, size_t n, const char *name, bool volumes) {
        size_t len = strlen(name);
        ssize_t best = -1;

        for (size_t i = 0; i < n; i++) {
                const char *f = volumes ? volume_file(names[i]) : names[i];

                if (strncmp(f, name, len) != 0 || (f[len] != '-' && f[len] != '_') || !has_archive_suffix(f))
                        continue;
                if (best < 0 || strverscmp(f, volumes ? volume_file(names[best]) : names[best]) > 0)
                        best = (ssize_t) i;
        }
        return best;
}

static ssize_t exact_match(char *const *names, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(names[i], name))
                        return (ssize_t) i;
        return -1;
}

/* What to do when a template is not in the cache. */
static int not_found(const LxcTemplates *t, const char *requested, const char *storage, const char *file,
                     char **ret_hint) {
        const LxcTemplateCache *c = find_cache(t, storage);
        ssize_t i;
        int k;

        if (c && c->error)
                k = asprintf(ret_hint, "template \"%s\" cannot be looked up: listing the template cache of storage %s failed: %s",
                             requested, storage, c->error);
        else if ((i = file ? exact_match(t->available, t->n_available, file) :
                  best_match(t->available, t->n_available, requested, false)) >= 0)
                k = asprintf(ret_hint, "template \"%s\" is not in the template cache of storage %s; "
                             "`pveam download %s %s` fetches it", requested, storage, storage, t->available[i]);
        else
                k = asprintf(ret_hint, "template \"%s\" is not in the template cache of storage %s, and `pveam available` "
                             "does not offer it either; run `pveam update`, pick a template from `pveam available --section system` "
                             "and fetch it with `pveam download %s <template>`", requested, storage, storage);
        return k < 0 ? -ENOMEM : 0;
}

int lxc_template_resolve(const LxcTemplates *t, const char *requested, char **ret, char **ret_hint) {
        _cleanup_(freep) char *storage = NULL, *volume = NULL;
        const LxcTemplateCache *c;
        ssize_t i = -1;
        int r;

        if (t->resolve)
                return t->resolve(t, requested, ret, ret_hint);
        *ret = *ret_hint = NULL;
        if (requested[0] == '/') {
                if (exact_match(t->paths, t->n_paths, requested) >= 0)
                        return (*ret = strdup(requested)) ? 1 : -ENOMEM;
                return asprintf(ret_hint, "template file %s does not exist", requested) < 0 ? -ENOMEM : 0;
        }

        r = lxc_template_storage(requested, &storage);
        if (r < 0)
                return r;
        if (strchr(requested, ':'))
                volume = strdup(requested);
        else if (has_archive_suffix(requested))
                r = asprintf(&volume, "%s:vztmpl/%s", storage, requested);
        if (r < 0 || (strchr(requested, ':') && !volume))
                return -ENOMEM;

        c = find_cache(t, storage);
        if (c && !c->error)
                i = volume ? exact_match(c->volumes, c->n_volumes, volume) : best_match(c->volumes, c->n_volumes, requested, true);
        if (i >= 0)
                return (*ret = strdup(c->volumes[i])) ? 1 : -ENOMEM;
        r = not_found(t, requested, storage, volume ? volume_file(volume) : NULL, ret_hint);
        return r < 0 ? r : 0;
}
