/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "fileio.h"

uint64_t now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_(freep) char *p = strdup(path);

        if (!p)
                return -ENOMEM;

        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return negative_errno();
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}

static int write_all(int fd, const char *data, size_t len) {
        while (len > 0) {
                ssize_t k = write(fd, data, len);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                data += k;
                len -= (size_t) k;
        }
        return 0;
}

static int fsync_directory_of(const char *path) {
        _cleanup_(freep) char *copy = strdup(path);
        _cleanup_(closep) int dfd = -EBADF;

        if (!copy)
                return -ENOMEM;
        dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return negative_errno();
        if (fsync(dfd) < 0)
                return negative_errno();
        return 0;
}

/* Writes a temporary file next to path and moves it into place: renamed
 * over path, or with noreplace linked (never over an existing file). */
static int write_via_temp(const char *path, const char *data, size_t len, mode_t mode, bool sync, bool noreplace) {
        _cleanup_(freep) char *tmp = NULL;
        _cleanup_(closep) int fd = -EBADF;
        int r;

        if (asprintf(&tmp, "%s.tmp.%d", path, (int) getpid()) < 0)
                return -ENOMEM;

        fd = open(tmp, O_WRONLY | O_CREAT | (noreplace ? O_EXCL : O_TRUNC) | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return negative_errno();

        r = write_all(fd, data, len);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = negative_errno();
        if (r >= 0 && sync && fsync(fd) < 0)
                r = negative_errno();
        if (r >= 0 && (noreplace ? link(tmp, path) : rename(tmp, path)) < 0)
                r = negative_errno();
        if (r < 0 || noreplace)
                (void) unlink(tmp);
        if (r < 0)
                return r;
        return sync ? fsync_directory_of(path) : 0;
}

int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode) {
        return write_via_temp(path, data, len, mode, true, false);
}

int write_file_replace(const char *path, const char *data, size_t len, mode_t mode) {
        return write_via_temp(path, data, len, mode, false, false);
}

int write_file_new(const char *path, const char *data, size_t len, mode_t mode) {
        return write_via_temp(path, data, len, mode, true, true);
}

/* Moves the n bytes of *buf into a new buffer of size bytes, erasing the
 * old one (realloc would leave a copy of a secret behind). */
static int grow_erasing(char **buf, size_t n, size_t size) {
        char *q = malloc(size);

        if (!q)
                return -ENOMEM;
        if (*buf) {
                memcpy(q, *buf, n);
                explicit_bzero(*buf, n);
                free(*buf);
        }
        *buf = q;
        return 0;
}

int read_fd_bounded(int fd, size_t max, char **ret, size_t *ret_len) {
        char *buf = NULL;
        size_t n = 0, size = 0;         /* size: allocated, the NUL included */
        int r = 0;

        for (;;) {
                ssize_t k;

                /* Room for max + 1 bytes at most: one more than max tells
                 * that there is more. */
                if (n + 1 >= size) {
                        size_t next = MIN(MAX(size * 2, (size_t) 4096), max + 2);

                        r = grow_erasing(&buf, n, next);
                        if (r < 0)
                                break;
                        size = next;
                }
                k = read(fd, buf + n, size - 1 - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = negative_errno();
                        break;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > max) {
                        r = -EFBIG;
                        break;
                }
        }
        if (r < 0) {
                if (buf)
                        explicit_bzero(buf, n);
                free(buf);
                return r;
        }
        buf[n] = 0;
        *ret = buf;
        *ret_len = n;
        return 0;
}

void unlink_freep(char **path) {
        if (*path) {
                (void) unlink(*path);
                free(*path);
                *path = NULL;
        }
}

int write_temp_file(const char *dir, const char *data, size_t len, char **ret) {
        _cleanup_(unlink_freep) char *p = NULL;
        _cleanup_(closep) int fd = -EBADF;
        int r;

        if (asprintf(&p, "%s/op-dbus-tmp.XXXXXX", dir) < 0)
                return -ENOMEM;
        fd = mkostemp(p, O_CLOEXEC); /* mode 0600 */
        if (fd < 0) {
                r = negative_errno();
                free(TAKE_PTR(p));
                return r;
        }
        r = write_all(fd, data, len);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

int lock_file_acquire(const char *path, int timeout_ms, int *ret_fd) {
        _cleanup_(closep) int fd = -EBADF;
        uint64_t deadline = now_usec() + (uint64_t) MAX(timeout_ms, 0) * 1000ULL;

        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return negative_errno();

        for (;;) {
                if (flock(fd, LOCK_EX | LOCK_NB) >= 0)
                        break;
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return negative_errno();
                if (now_usec() >= deadline)
                        return -EBUSY;
                (void) usleep(20 * 1000);
        }

        *ret_fd = TAKE_FD(fd);
        return 0;
}
