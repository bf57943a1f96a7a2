/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small, dependency-free helpers shared by every module: cleanup
 * attributes, ownership transfer and a few arithmetic conveniences. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((__cleanup__(f)))
#define _unused_ __attribute__((__unused__))
#define _printf_(a, b) __attribute__((__format__(printf, a, b)))
#define _warn_unused_result_ __attribute__((__warn_unused_result__))
#define _pure_ __attribute__((__pure__))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
/* MIN/MAX evaluate each argument exactly once; the temporaries get unique
 * names so nested uses do not shadow each other. */
#define CONCATENATE_(a, b) a##b
#define CONCATENATE(a, b) CONCATENATE_(a, b)
#define UNIQ_T(x, uniq) CONCATENATE(_uniq_, CONCATENATE(x, uniq))
#define MIN_(aq, a, bq, b)                                              \
        ({                                                              \
                const typeof(a) UNIQ_T(A, aq) = (a);                    \
                const typeof(b) UNIQ_T(B, bq) = (b);                    \
                UNIQ_T(A, aq) < UNIQ_T(B, bq) ? UNIQ_T(A, aq) : UNIQ_T(B, bq); \
        })
#define MAX_(aq, a, bq, b)                                              \
        ({                                                              \
                const typeof(a) UNIQ_T(A, aq) = (a);                    \
                const typeof(b) UNIQ_T(B, bq) = (b);                    \
                UNIQ_T(A, aq) > UNIQ_T(B, bq) ? UNIQ_T(A, aq) : UNIQ_T(B, bq); \
        })
#define MIN(a, b) MIN_(__COUNTER__, a, __COUNTER__, b)
#define MAX(a, b) MAX_(__COUNTER__, a, __COUNTER__, b)

/* Hand ownership of a pointer to the caller: returns it and clears the
 * variable so its _cleanup_ handler does nothing. */
#define TAKE_PTR(p)                        \
        ({                                 \
                typeof(p) _p_ = (p);       \
                (p) = NULL;                \
                _p_;                       \
        })

#define TAKE_FD(fd)                        \
        ({                                 \
                int _fd_ = (fd);           \
                (fd) = -EBADF;             \
                _fd_;                      \
        })

static inline void freep(void *p) {
        free(*(void **) p);
}

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                (void) close(*fd);
                errno = saved;
        }
}

/* Declares fnp(type *p) that calls fn(*p) when *p is set. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, fn)     \
        static inline void fn##p(type *p) {       \
                if (*p)                           \
                        (void) fn(*p);            \
        }

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

static inline bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static inline const char *strna(const char *s) {
        return s ?: "n/a";
}

/* Returns -errno from the current errno, never 0 (falls back to -EIO). */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

/* Keep the first error: used in teardown paths that must run every step. */
#define RET_GATHER(ret, r)                            \
        ({                                            \
                int _r_ = (r);                        \
                if ((ret) >= 0 && _r_ < 0)            \
                        (ret) = _r_;                  \
                (ret);                                \
        })

char *strdup_or_null(const char *s);
/* The value of a hex digit, or -1. */
int unhexchar(char c) _pure_;
/* usec since the epoch as ISO 8601 local time with its offset,
 * "2026-01-31T14:03:25+01:00" ("...25.123+01:00" with millis) into buf
 * (ISO8601_MAX bytes); "" if the time cannot be converted. */
#define ISO8601_MAX 40
const char *format_iso8601(uint64_t usec, bool millis, char *buf, size_t size);
/* Removes trailing whitespace in place; returns s ("" for NULL). */
char *strstrip_newline(char *s);
/* s in double quotes for a message: at most 64 bytes of it ("..." after
 * the quote when cut), control characters and quotes shown as '?'; NULL
 * when out of memory. */
char *str_quote(const char *s);
/* Grow *array (element size elsize) so it holds at least need elements. */
int greedy_realloc(void **array, size_t *allocated, size_t need, size_t elsize);
