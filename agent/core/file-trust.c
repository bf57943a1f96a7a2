/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "file-trust.h"
#include "macro.h"

static const char *file_kind(mode_t m) {
        switch (m & S_IFMT) {
        case S_IFDIR:  return "a directory";
        case S_IFIFO:  return "a FIFO";
        case S_IFCHR:  return "a character device";
        case S_IFBLK:  return "a block device";
        case S_IFSOCK: return "a socket";
        default:       return "not a file";
        }
}

/* "root" or "root or by you (uid N)". */
static void owners(const FileTrust *t, char buf[static 64]) {
        uid_t me = geteuid();

        if (t->caller_may_own && me != 0)
                snprintf(buf, 64, "root or by you (uid %u)", (unsigned) me);
        else
                snprintf(buf, 64, "root");
}

static bool owner_ok(const FileTrust *t, uid_t uid) {
        return uid == 0 || (t->caller_may_own && uid == geteuid());
}

/* name: the file as messages name it; target: the file the commands
 * that fix it are given. */
static int check_file(const struct stat *st, const char *name, const char *target, const FileTrust *t,
                      const char *path, Diag *d) {
        char who[64];
        int ret = 0;

        if (!S_ISREG(st->st_mode)) {
                diag_error(d, path, "%s %s is not a regular file (it is %s)", t->what, name, file_kind(st->st_mode));
                return -EINVAL;
        }
        if (st->st_mode & t->forbidden_mode) {
                diag_error(d, path, "%s %s has mode %04o: it must not be %s (chmod %s %s)",
                           t->what, name, (unsigned) (st->st_mode & 07777), t->mode_rule, t->chmod, target);
                ret = -EPERM;
        }
        if (!owner_ok(t, st->st_uid)) {
                owners(t, who);
                diag_error(d, path, "%s %s is owned by uid %u: it must be owned by %s (chown root: %s)",
                           t->what, name, (unsigned) st->st_uid, who, target);
                ret = -EPERM;
        }
        return ret;
}

int file_trust_check_stat(const struct stat *st, const char *file, const FileTrust *t, const char *path, Diag *d) {
        return check_file(st, file, file, t, path, d);
}

/* The path of the file open at fd, symbolic links resolved. */
static char *real_path(int fd, const char *file) {
        char link[64], buf[PATH_MAX];
        ssize_t n;

        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        n = readlink(link, buf, sizeof buf - 1);
        if (n > 0 && buf[0] == '/') {
                buf[n] = 0;
                return strdup(buf);
        }
        return realpath(file, NULL);
}

static int check_dir(const char *dir, const char *file, const FileTrust *t, const char *path, Diag *d) {
        struct stat st;
        char who[64];
        int ret = 0;

        if (stat(dir, &st) < 0)
                return negative_errno();
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
                diag_error(d, path, "%s %s is in %s, which has mode %04o: no directory on the way to it may be "
                           "writable by group or others, unless it is sticky like /tmp (chmod go-w %s)",
                           t->what, file, dir, (unsigned) (st.st_mode & 07777), dir);
                ret = -EPERM;
        }
        if (!owner_ok(t, st.st_uid)) {
                owners(t, who);
                diag_error(d, path, "%s %s is in %s, which is owned by uid %u: every directory on the way to it "
                           "must be owned by %s (chown root: %s)", t->what, file, dir, (unsigned) st.st_uid, who, dir);
                ret = -EPERM;
        }
        return ret;
}

/* "file", or "file (a link to real)" when file is a symbolic link. */
static char *display_name(const char *file, const char *real) {
        struct stat st;
        char *s;

        if (lstat(file, &st) < 0 || !S_ISLNK(st.st_mode) || asprintf(&s, "%s (a link to %s)", file, real) < 0)
                return strdup(file);
        return s;
}

int file_trust_check(int fd, const struct stat *st, const char *file, const FileTrust *t, const char *path, Diag *d) {
        _cleanup_(freep) char *real = real_path(fd, file), *name = NULL;
        int ret;

        if (!real || !(name = display_name(file, real)))
                return -ENOMEM;
        ret = check_file(st, name, real, t, path, d);
        if (ret == -EINVAL)
                return ret; /* not a regular file: nothing more to say */

        /* Every directory from the file's own up to "/". */
        for (char *slash = strrchr(real, '/'); slash; slash = strrchr(real, '/')) {
                int r;

                if (slash == real)
                        slash[1] = 0;
                else
                        *slash = 0;
                r = check_dir(real, name, t, path, d);
                if (r < 0 && r != -EPERM)
                        return r;
                RET_GATHER(ret, r);
                if (slash == real)
                        break;
        }
        return ret;
}
