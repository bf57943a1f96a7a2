/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The confirm window of a confirmed apply: the state from before the
 * apply and the deadline, kept in <state-dir>/confirm.json so that they
 * survive a crash or a reboot. If the apply is not confirmed by the
 * deadline, the daemon applies that state again (a JOB_CONFIRM_ROLLBACK);
 * a deadline found passed at start-up rolls back at once. The daemon's
 * loop owns the timer; this is the record and its rules. */

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "job.h"

typedef struct ConfirmWindow {
        char *path;                   /* <state-dir>/confirm.json */
        char *state_dir;
        uint64_t deadline;            /* CLOCK_REALTIME usec; 0: no window open */
        uint64_t generation;          /* the apply that waits */
        json_object *state;           /* what to restore if it runs out */
} ConfirmWindow;

int confirm_window_init(ConfirmWindow *c, const char *state_dir);
void confirm_window_done(ConfirmWindow *c);
bool confirm_window_pending(const ConfirmWindow *c);
uint64_t now_realtime_usec(void);
/* Seconds left at now (CLOCK_REALTIME usec), rounded up; 0 when passed. */
unsigned confirm_window_seconds_left(const ConfirmWindow *c, uint64_t now);
/* Opens the window of the confirmed apply j, which finished: keeps its
 * snapshot and the deadline, and adds "confirm" (deadline, command) to
 * its result, or a warning that says why there is no window. Returns
 * whether a window is open. */
bool confirm_window_open(ConfirmWindow *c, Job *j, const char *command);
/* The window left open by an earlier run: 1 when there is one. */
int confirm_window_load(ConfirmWindow *c);
/* Confirmed: the apply stays; the record goes. -ENOENT when no window is
 * open. */
int confirm_window_confirm(ConfirmWindow *c);
/* The rollback the deadline calls for. */
Job *confirm_window_rollback_job(const ConfirmWindow *c);
/* That rollback finished; ok: the window closes (else the record stays,
 * and the next start tries again). */
void confirm_window_rolled_back(ConfirmWindow *c, bool ok);
