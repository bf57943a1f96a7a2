/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a renderer produces: the files, inputs, units and packages of a
 * container's services (ServiceFiles). */
#include "services-internal.h"

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
