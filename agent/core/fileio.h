/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* Creates path and its missing parents. */
int mkdir_p(const char *path, mode_t mode);
/* Writes a file so that readers see either the old or the new content:
 * temporary file, fsync, rename, fsync of the directory. */
int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode);
/* Like write_file_atomic, for a file that must not exist yet: -EEXIST
 * (and nothing written) when path exists. */
int write_file_new(const char *path, const char *data, size_t len, mode_t mode);
/* Like write_file_atomic without the fsyncs: readers still see the old or
 * the new content, but a crash may lose the new one. For caches. */
int write_file_replace(const char *path, const char *data, size_t len, mode_t mode);
/* A new file of mode 0600 in dir holding data, to hand to a tool that
 * reads files; *ret is its path. */
int write_temp_file(const char *dir, const char *data, size_t len, char **ret);
/* Reads what is left of fd into a NUL-terminated buffer of at most max
 * bytes: -EFBIG (and nothing kept) when there is more. What was read is
 * erased before a failure returns, so it may be a secret. */
int read_fd_bounded(int fd, size_t max, char **ret, size_t *ret_len);
/* Removes the file and frees its path (for _cleanup_). */
void unlink_freep(char **path);
/* Takes an exclusive flock on path (created 0600), retrying until
 * timeout_ms has passed: -EBUSY then. Returns the locked fd. */
int lock_file_acquire(const char *path, int timeout_ms, int *ret_fd);
/* Monotonic clock in microseconds. */
uint64_t now_usec(void);
