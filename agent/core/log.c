/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>

#include "log.h"

static int max_level = LOG_INFO;
static int prefix_levels = -1; /* -1: decide from isatty(stderr) */
static bool timestamps;

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_prefix_levels(int enable) {
        prefix_levels = enable;
}

void log_set_timestamps(bool enable) {
        timestamps = enable;
}

static void print_timestamp(FILE *f) {
        char buf[ISO8601_MAX];
        struct timeval tv;

        (void) gettimeofday(&tv, NULL);
        fprintf(f, "%s ", format_iso8601((uint64_t) tv.tv_sec * 1000000ULL + (uint64_t) tv.tv_usec, true,
                                         buf, sizeof buf));
}

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) {
        int saved = errno;
        va_list ap;

        if (error < 0)
                error = -error;

        if (level > max_level) {
                errno = saved;
                return -error;
        }

        /* %m in fmt must print the error we were given, not a stale errno. */
        errno = error;

        if (prefix_levels < 0)
                prefix_levels = !isatty(STDERR_FILENO);

        if (prefix_levels)
                fprintf(stderr, "<%d>", level);
        if (timestamps)
                print_timestamp(stderr);
        if (!prefix_levels)
                fputs(level <= LOG_ERR ? "op-dbus: error: " :
                      level == LOG_WARNING ? "op-dbus: warning: " : "op-dbus: ", stderr);

        errno = error; /* the time functions may have set it */
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);

        if (max_level >= LOG_DEBUG)
                fprintf(stderr, " (%s:%d)", file, line);
        fputc('\n', stderr);

        errno = saved;
        return -error;
}
