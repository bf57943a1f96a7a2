/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The drivers' --sandbox option: given first, the built-in seccomp filter
 * of agent/lib/sandbox is loaded before the driver does anything else, so
 * that its work runs as the router's would (docs/router.md, "The seccomp
 * sandbox"). Builds without libseccomp refuse the option. */

#include <stdio.h>
#include <string.h>

#include "macro.h"
#ifdef HAVE_SANDBOX
#include "sandbox.h"
#endif

/* Takes --sandbox off the front of argv; returns 0, or 1 after printing
 * why the filter could not be loaded (the driver exits 1). */
static inline int driver_sandbox(const char *prog, int *argc, char ***argv) {
        int r = -EOPNOTSUPP;

        if (*argc < 2 || !streq((*argv)[1], "--sandbox"))
                return 0;
        (*argv)[1] = (*argv)[0];
        (*argc)--;
        (*argv)++;
#ifdef HAVE_SANDBOX
        r = sandbox_enter(NULL, NULL);
        if (r >= 0)
                return 0;
#endif
        fprintf(stderr, "%s: --sandbox: %s: %s\n", prog, strerrorname_np(-r) ?: "?", strerror(-r));
        return 1;
}
