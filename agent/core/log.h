/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Logging to standard error: with a syslog level prefix ("<3>") when
 * stderr is the journal (systemd's $JOURNAL_STREAM names it), otherwise
 * (a terminal, a pipe, a file) as "PROGRAM: error: ...", PROGRAM being
 * the name the program was started as.
 * Only the reconcile driver and the programs log; libraries return
 * errors. The log_*_errno() helpers return the (negative) error passed in
 * so they can be used as `return log_error_errno(r, "...: %m");` — %m
 * prints strerror of that error. */

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

void log_set_max_level(int level);
int log_get_max_level(void);
/* Force the "<N>" prefix on (1) or off (0) instead of deciding it from
 * log_stderr_is_journal(). */
void log_set_prefix_levels(int enable);
/* Whether stderr is the stream systemd connected to the journal. */
bool log_stderr_is_journal(void);
/* Start each line with the local time (ISO 8601, with the offset): for a
 * log that does not go to the journal, which has its own timestamps. */
void log_set_timestamps(bool enable);

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) _printf_(5, 6);

#define log_full_errno(level, error, ...) \
        log_internal((level), (error), __FILE__, __LINE__, __VA_ARGS__)

#define log_debug(...)   log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)    log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)  log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)   log_full_errno(LOG_ERR, 0, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, (e), __VA_ARGS__)
