/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Argument vectors for the tools the backends run, and finding a tool. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lxc-backend.h"
#include "macro.h"

void lxc_argv_done(Argv *a) {
        for (size_t i = 0; i < a->n; i++)
                free(a->v[i]);
        free(a->v);
        *a = (Argv) {};
}

void lxc_argv_add(Argv *a, const char *s) {
        char **v;

        if (a->error)
                return;
        v = realloc(a->v, (a->n + 2) * sizeof(char *));
        if (!v || !(v[a->n] = strdup(s))) {
                if (v)
                        a->v = v;
                a->error = -ENOMEM;
                return;
        }
        a->v = v;
        a->v[++a->n] = NULL;
}

void lxc_argv_addf(Argv *a, const char *fmt, ...) {
        _cleanup_(freep) char *s = NULL;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (k < 0)
                a->error = -ENOMEM;
        else
                lxc_argv_add(a, s);
}
