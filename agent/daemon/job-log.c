/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's account of what it changes: one line for each job that
 * changes (or was asked to change) the host, saying who asked (start-up,
 * a reload, a method call with the caller's uid and pid, a drift repair,
 * an audit, a confirm timeout), the generation, the objects changed, and how
 * it ended (rolled back or not, the errors). Jobs the daemon starts by
 * itself are logged only when they changed something or failed. */
#include <inttypes.h>
#include <stdio.h>

#include "job.h"
#include "json-util.h"
#include "log.h"
#include "reconcile.h"
#include "strbuf.h"

/* Objects named in one line; the rest are counted. */
#define MAX_OBJECTS 64

/* "create <plugin>/<path>, delete ..." of the actions in a; held
 * 1: only those held (reported, left as found), 0: only the others, -1:
 * all. Returns how many there are. */
static size_t put_actions(StrBuf *b, json_object *a, int held) {
        size_t n = a ? json_object_array_length(a) : 0, shown = 0, total = 0;

        for (size_t i = 0; i < n; i++) {
                json_object *c = json_object_array_get_idx(a, i);

                if (held >= 0 && json_member_bool(c, "held") != held)
                        continue;
                total++;
                if (shown++ >= MAX_OBJECTS)
                        continue;
                strbuf_printf(b, "%s%s %s/%s", shown > 1 ? ", " : "", json_member_string(c, "action"),
                              json_member_string(c, "plugin"), json_member_string(c, "path"));
        }
        if (total > MAX_OBJECTS)
                strbuf_printf(b, " and %zu more", total - MAX_OBJECTS);
        return total;
}

/* The errors of the result, on one line. */
static void put_errors(StrBuf *b, json_object *res, const Job *j) {
        json_object *errors = json_member_array(res, "errors");
        size_t n = errors ? json_object_array_length(errors) : 0;

        for (size_t i = 0; i < n; i++)
                strbuf_printf(b, "%s%s", i ? "; " : "", json_object_get_string(json_object_array_get_idx(errors, i)));
        if (n == 0)
                strbuf_puts(b, j->error_text ?: j->error < 0 ? strerror(-j->error) : "unknown error");
}

static size_t changes_count(json_object *res) {
        json_object *a = json_member_array(res, "changes");

        return a ? json_object_array_length(a) : 0;
}

/* An apply that went through. */
static void put_success(StrBuf *b, const Job *j, json_object *res) {
        size_t n = changes_count(res);
        json_object *confirm;

        switch (j->kind) {
        case JOB_HEAL: {
                _cleanup_(strbuf_done) StrBuf held = {};
                size_t repaired, left;

                strbuf_puts(b, "repaired ");
                repaired = put_actions(b, j->drift, 0);
                left = put_actions(&held, j->drift, 1);
                if (repaired == 0)
                        strbuf_puts(b, "nothing");
                if (left > 0)
                        strbuf_printf(b, "; left as found (drift: report): %s", held.s);
                return;
        }
        case JOB_RESTORE:
                if (j->restore_noun)
                        strbuf_printf(b, "restored %u %s: ", job_restored(j), j->restore_noun[job_restored(j) != 1]);
                else
                        strbuf_puts(b, "restored: ");
                (void) put_actions(b, json_member_array(res, "changes"), -1);
                return;
        case JOB_CONFIRM_ROLLBACK:
                strbuf_printf(b, "put the state from before it back as generation %" PRIu64 ", %zu change%s: ",
                              j->generation, n, n == 1 ? "" : "s");
                (void) put_actions(b, json_member_array(res, "changes"), -1);
                strbuf_puts(b, "; verified");
                return;
        default:
                break;
        }
        if (j->changed) {
                strbuf_printf(b, "applied generation %" PRIu64 ", %zu change%s: ", j->generation, n, n == 1 ? "" : "s");
                (void) put_actions(b, json_member_array(res, "changes"), -1);
        } else
                strbuf_printf(b, "no changes, the host matches (generation %" PRIu64 ")", j->generation);
        if (json_object_object_get_ex(res, "confirm", &confirm))
                strbuf_printf(b, "; rolled back at %s unless confirmed ('%s')", json_member_string(confirm, "deadline"),
                              json_member_string(confirm, "command"));
}

char *job_log_line(const Job *j) {
        _cleanup_(json_object_putp) json_object *res = j->result_json ? json_tokener_parse(j->result_json) : NULL;
        _cleanup_(strbuf_done) StrBuf b = {};

        if (!job_changes_host(j))
                return NULL;
        /* The daemon's own jobs: only when they did something, or failed. */
        if (j->automatic && !j->busy && j->status == RECONCILE_OK &&
            !(j->changed || (j->kind == JOB_HEAL && j->drift)))
                return NULL;
        if (j->automatic && !j->busy && j->status == RECONCILE_UNAVAILABLE)
                return NULL; /* the daemon is degraded and says so once */

        strbuf_printf(&b, "%s: ", j->requester ?: "(unknown)");
        if (j->busy) {
                strbuf_puts(&b, "not run: another apply did not finish within the lock timeout");
                return strbuf_take(&b);
        }
        switch (j->status) {
        case RECONCILE_OK:
                put_success(&b, j, res);
                break;
        case RECONCILE_FAILED:
                strbuf_puts(&b, "failed and was rolled back: ");
                put_errors(&b, res, j);
                strbuf_puts(&b, "; attempted: ");
                (void) put_actions(&b, json_member_array(res, "changes"), -1);
                strbuf_puts(&b, "; undone: ");
                (void) put_actions(&b, json_member_array(res, "rollback_changes"), -1);
                strbuf_printf(&b, "; the host is back at generation %" PRIu64 " (verified)", j->generation);
                break;
        case RECONCILE_ROLLBACK_FAILED:
                strbuf_puts(&b, "failed, and so did the rollback: ");
                put_errors(&b, res, j);
                strbuf_puts(&b, "; attempted: ");
                (void) put_actions(&b, json_member_array(res, "changes"), -1);
                break;
        case RECONCILE_INVALID:
                strbuf_puts(&b, "refused, nothing changed: ");
                put_errors(&b, res, j);
                break;
        default:
                strbuf_puts(&b, "not run, nothing changed: ");
                put_errors(&b, res, j);
                break;
        }
        return strbuf_take(&b);
}

void job_log(const Job *j, const char *line) {
        int level = j->busy ? LOG_WARNING :
                    j->status == RECONCILE_OK ? LOG_NOTICE :
                    j->status == RECONCILE_ROLLBACK_FAILED ? LOG_ERR : LOG_WARNING;

        if (line)
                log_full_errno(level, 0, "%s", line);
}
