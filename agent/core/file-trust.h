/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Files a program acts on (a state it applies, a secret it hands on)
 * must be files nobody else could have written: a regular
 * file (a FIFO or a device is refused before it is read), owned by root
 * (or by the user the program runs as, where that is allowed), without the
 * permission bits the kind of file forbids; and every directory on the
 * way to it, symbolic links followed to their targets, owned the same
 * way and writable by nobody else, unless it is sticky (as /tmp is:
 * then only an entry's owner can replace it). */

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "diag.h"

typedef struct FileTrust {
        const char *what;            /* "the state file", "the enrollment token file" */
        mode_t forbidden_mode;       /* e.g. 022 (writable by others) or 077 (a secret) */
        const char *mode_rule;       /* "writable by group or others" */
        const char *chmod;           /* the chmod argument that fixes it: "go-w", "0600" */
        bool caller_may_own;         /* the effective user may own it, besides root */
} FileTrust;

/* Checks the file's own status (st, from fstat of the opened file named
 * file). Errors are recorded at path: -EINVAL when it is not a regular
 * file, -EPERM for its owner or mode. */
int file_trust_check_stat(const struct stat *st, const char *file, const FileTrust *t, const char *path, Diag *d);
/* All of it for the file open at fd (st from fstat of it, file its name
 * as given): the file itself, then every directory on the way to the
 * file the name leads to. -EINVAL when it is not a regular file (the
 * directories are not looked at then), -EPERM for an owner or a mode. */
int file_trust_check(int fd, const struct stat *st, const char *file, const FileTrust *t, const char *path, Diag *d);
