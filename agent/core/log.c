/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "log.h"

static int max_level = LOG_INFO;
static int prefix_levels = -1; /* -1: decide from $JOURNAL_STREAM */
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

/* systemd sets $JOURNAL_STREAM to "DEVICE:INODE" of the stream it connects
 * stdout/stderr to the journal with. Only while stderr is that very stream
 * does journald read a "<N>" prefix as the priority; inherited by a child
 * whose stderr goes elsewhere (a pipe, a file, a terminal), the variable
 * no longer matches. */
bool log_stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        char *end;

        if (!e || !*e)
                return false;
        errno = 0;
        dev = strtoull(e, &end, 10);
        if (errno || end == e || *end != ':')
                return false;
        e = end + 1;
        ino = strtoull(e, &end, 10);
        if (errno || end == e || *end)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

/* "PROGRAM: error: " and so on; the program's name as it was started. */
static void print_level_prefix(int level) {
        fputs(program_invocation_short_name, stderr);
        fputs(level <= LOG_ERR ? ": error: " :
              level == LOG_WARNING ? ": warning: " :
              level == LOG_DEBUG ? ": debug: " : ": ", stderr);
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

        /* Everything that may touch errno happens before it is set for %m. */
        if (prefix_levels < 0)
                prefix_levels = log_stderr_is_journal();
        if (prefix_levels)
                fprintf(stderr, "<%d>", level);
        if (timestamps)
                print_timestamp(stderr);
        if (!prefix_levels)
                print_level_prefix(level);

        /* %m in fmt must print the error we were given, not a stale errno. */
        errno = error;
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);

        errno = saved;
        return -error;
}
