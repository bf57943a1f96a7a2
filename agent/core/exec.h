/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Running external programs without a shell: argv
 * is passed as is, standard input comes from a buffer, standard output
 * and standard error are captured. */

#include <stdbool.h>
#include <stddef.h>

typedef struct ExecResult {
        int status;      /* exit code, or 128 + signal number */
        char *out;       /* captured standard output (NUL-terminated) */
        size_t out_len;  /* its length: output may itself contain NUL bytes */
        char *err;       /* captured standard error (NUL-terminated) */
} ExecResult;

void exec_result_done(ExecResult *r);

/* Runs argv[0] (looked up in PATH) with input on standard input (may be
 * NULL) and waits up to timeout_ms (<= 0: no limit; on timeout the child
 * is killed and -ETIMEDOUT returned). Returns 0 when the program ran (its
 * exit status is in ret->status) or a negative errno when it could not be
 * started or waited for. */
int exec_capture(char *const argv[], const char *input, size_t input_len, int timeout_ms, ExecResult *ret);
/* Whether an executable of this name is in PATH (the default path when
 * PATH is unset). */
bool exec_in_path(const char *name);
