/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Human and JSON rendering of results. Everything is rendered from the
 * result JSON, so a result computed here and one returned by the daemon
 * print the same. */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "json-util.h"

int exit_code_for(ReconcileStatus s) {
        switch (s) {
        case RECONCILE_OK:              return EXIT_OK;
        case RECONCILE_FAILED:          return EXIT_APPLY_FAILED;
        case RECONCILE_INVALID:         return EXIT_INVALID;
        case RECONCILE_DRIFT:           return EXIT_DRIFT;
        case RECONCILE_BUSY:            return EXIT_BUSY;
        case RECONCILE_UNAVAILABLE:     return EXIT_UNAVAILABLE;
        case RECONCILE_ROLLBACK_FAILED: return EXIT_ROLLBACK_FAILED;
        default:                        return EXIT_APPLY_FAILED;
        }
}

void print_json(json_object *o) {
        _cleanup_(freep) char *s = json_to_string_pretty(o);

        puts(s ?: "null");
}

static size_t array_length(json_object *a) {
        return a ? json_object_array_length(a) : 0;
}

/* plan and diff in colour: only when standard output is a terminal, and
 * never with NO_COLOR set (to any value) or TERM=dumb (docs/cli.md). */
static bool use_colour(void) {
        const char *term = getenv("TERM");

        return !getenv("NO_COLOR") && !(term && streq(term, "dumb")) && isatty(STDOUT_FILENO) == 1;
}

#define COLOUR_OFF "\033[0m"

/* Green what is added, red what is removed, yellow what changes. */
static const char *action_colour(const char *action) {
        if (streq(action, "create"))
                return "\033[32m";
        if (streq(action, "delete"))
                return "\033[31m";
        return "\033[33m";
}

static void print_actions_coloured(json_object *changes, const char *heading, bool colour) {
        if (array_length(changes) == 0)
                return;
        printf("%s\n", heading);
        for (size_t i = 0; i < array_length(changes); i++) {
                json_object *a = json_object_array_get_idx(changes, i);
                const char *action = json_member_string(a, "action");

                printf("%s  %-9s %-8s %-36s [%s] %s%s\n", colour ? action_colour(action) : "", action,
                       json_member_string(a, "plugin"), json_member_string(a, "path"),
                       json_member_string(a, "impact"), json_member_string(a, "detail"), colour ? COLOUR_OFF : "");
        }
}

static void print_actions(json_object *changes, const char *heading) {
        print_actions_coloured(changes, heading, false);
}

/* errors, warnings and notes to standard error */
static void print_messages(json_object *res) {
        static const char *const kinds[] = { "errors", "warnings", "notes" };
        static const char *const labels[] = { "error", "warning", "note" };

        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                json_object *a = json_member_array(res, kinds[k]);

                for (size_t i = 0; i < array_length(a); i++)
                        fprintf(stderr, "%s: %s\n", labels[k], json_object_get_string(json_object_array_get_idx(a, i)));
        }
}

static void print_counts(json_object *res) {
        json_object *c;

        if (!json_object_object_get_ex(res, "counts", &c))
                return;
        printf(" ");
        json_object_object_foreach(c, key, val)
                printf(" %s=%s", key, json_object_get_string(val));
        printf("\n");
}

/* An apply that waits for confirmation: until when, and what confirms it. */
static void print_confirm(json_object *res) {
        json_object *c, *v;
        char when[64] = "";
        struct tm tm;
        time_t t;

        if (!json_object_object_get_ex(res, "confirm", &c))
                return;
        if (json_object_object_get_ex(c, "deadline_unix", &v)) {
                t = (time_t) json_object_get_int64(v);
                if (localtime_r(&t, &tm))
                        (void) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", &tm);
        }
        printf("Not confirmed yet: run '%s' before %s (within %s s), or the daemon rolls this apply back.\n",
               json_member_string(c, "command"), when[0] ? when : json_member_string(c, "deadline"),
               json_member_string(c, "seconds"));
}

static void print_applied(json_object *res, const char *origin, const char *status) {
        json_object *changes = json_member_array(res, "changes");
        const char *generation = json_member_string(res, "generation");

        print_actions(changes, streq(status, "ok") ? "Applied:" : "Attempted:");
        if (json_member_bool(res, "rolled_back"))
                print_actions(json_member_array(res, "rollback_changes"), "Rolled back:");
        if (streq(status, "ok")) {
                if (json_member_bool(res, "changed"))
                        printf("Applied %zu change%s; generation %s.\n", array_length(changes),
                               array_length(changes) == 1 ? "" : "s", generation);
                else
                        printf("No changes: the host matches %s (generation %s).\n", origin, generation);
                print_confirm(res);
        } else if (streq(status, "failed"))
                fprintf(stderr, "Apply failed; every change was rolled back.\n");
        else
                fprintf(stderr, "Apply failed and the rollback failed too; check the errors above.\n");
        print_counts(res);
}

void print_result(bool json, const char *verb, const char *origin, json_object *res) {
        const char *status = json_member_string(res, "status");

        if (json) {
                print_json(res);
                return;
        }
        print_messages(res);

        if (streq(verb, "validate")) {
                size_t n = array_length(json_member_array(res, "errors"));

                if (streq(status, "ok"))
                        printf("%s: valid\n", origin);
                else
                        fprintf(stderr, "%s: %zu error%s\n", origin, n, n == 1 ? "" : "s");
                return;
        }
        if (streq(status, "invalid") || streq(status, "busy") || streq(status, "unavailable"))
                return;

        if (json_member_bool(res, "dry_run") || streq(verb, "plan")) {
                if (array_length(json_member_array(res, "changes")) == 0)
                        printf("No changes: the host matches %s.\n", origin);
                print_actions_coloured(json_member_array(res, "changes"), "Planned changes:", use_colour());
                return;
        }
        if (streq(verb, "verify")) {
                if (streq(status, "ok"))
                        printf("%s: the host matches (generation %s).\n", origin, json_member_string(res, "generation"));
                return;
        }
        print_applied(res, origin, status);
}

void print_diff(bool json, const char *origin, json_object *res) {
        json_object *changes = json_member_array(res, "changes");
        bool colour;

        if (json) {
                print_json(res);
                return;
        }
        print_messages(res);
        colour = use_colour();
        for (size_t i = 0; i < array_length(changes); i++) {
                json_object *a = json_object_array_get_idx(changes, i);
                const char *action = json_member_string(a, "action");
                char sign = streq(action, "create") ? '+' : streq(action, "delete") ? '-' : '~';

                printf("%s%c %s/%s: %s%s\n", colour ? action_colour(action) : "", sign, json_member_string(a, "plugin"),
                       json_member_string(a, "path"), json_member_string(a, "detail"), colour ? COLOUR_OFF : "");
        }
}

/* diff --from N --to M: one line per difference, as diff's signs are:
 * "~ PATH: FROM -> TO", "+ PATH: TO", "- PATH: FROM" (compact JSON). */
void print_generation_diff(json_object *changes) {
        bool colour = use_colour();

        for (size_t i = 0; i < array_length(changes); i++) {
                json_object *c = json_object_array_get_idx(changes, i), *from = NULL, *to = NULL;
                const char *change = json_member_string(c, "change");
                const char *action = streq(change, "added") ? "create" : streq(change, "removed") ? "delete" : "modify";

                (void) json_object_object_get_ex(c, "from", &from);
                (void) json_object_object_get_ex(c, "to", &to);
                printf("%s%c %s: %s%s%s%s\n", colour ? action_colour(action) : "",
                       streq(action, "create") ? '+' : streq(action, "delete") ? '-' : '~', json_member_string(c, "path"),
                       from ? json_object_to_json_string_ext(from, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "",
                       from && to ? " -> " : "", to ? json_object_to_json_string_ext(to, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "",
                       colour ? COLOUR_OFF : "");
        }
}

int exit_code_for_json(json_object *res) {
        static const struct {
                const char *status;
                int code;
        } table[] = {
                { "ok", EXIT_OK }, { "failed", EXIT_APPLY_FAILED }, { "invalid", EXIT_INVALID },
                { "drift", EXIT_DRIFT }, { "busy", EXIT_BUSY }, { "unavailable", EXIT_UNAVAILABLE },
                { "rollback-failed", EXIT_ROLLBACK_FAILED },
        };
        const char *status = json_member_string(res, "status");

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(status, table[i].status))
                        return table[i].code;
        return EXIT_APPLY_FAILED;
}

/* "uid 0, busctl[812]" from an audit record; "" when it has none. */
static void format_caller(json_object *record, char *buf, size_t size) {
        json_object *uid = NULL, *pid = NULL, *process = NULL;
        int n = 0;

        buf[0] = 0;
        if (!record)
                return;
        (void) json_object_object_get_ex(record, "uid", &uid);
        (void) json_object_object_get_ex(record, "pid", &pid);
        (void) json_object_object_get_ex(record, "process", &process);
        if (uid)
                n = snprintf(buf, size, "uid %" PRId64, json_object_get_int64(uid));
        if (process && n >= 0 && (size_t) n < size)
                n += snprintf(buf + n, size - n, "%s%s", n > 0 ? ", " : "", json_object_get_string(process));
        if (pid && n >= 0 && (size_t) n < size)
                (void) snprintf(buf + n, size - n, "[%" PRId64 "]", json_object_get_int64(pid));
}

/* One line per generation: when, why, how much, by whom, from what
 * (the audit record; "-" for a checkpoint without one), then its
 * actions, indented. */
void print_checkpoints_table(json_object *list) {
        printf("%-10s %-20s %-15s %-7s %-24s %s\n", "GENERATION", "CREATED", "REASON", "CHANGES", "BY", "SOURCE");
        for (size_t i = 0; i < array_length(list); i++) {
                json_object *c = json_object_array_get_idx(list, i), *record = NULL, *changes = NULL,
                            *total = NULL, *actions = NULL, *more = NULL;
                char by[96];

                (void) json_object_object_get_ex(c, "record", &record);
                (void) json_object_object_get_ex(record, "changes", &changes);
                (void) json_object_object_get_ex(changes, "total", &total);
                format_caller(record, by, sizeof by);
                printf("%-10s %-20s %-15s %-7s %-24s %s\n", json_member_string(c, "generation"),
                       json_member_string(c, "created"), record ? json_member_string(record, "reason") : "-",
                       total ? json_object_get_string(total) : "-", by[0] ? by : "-",
                       record && json_member_string(record, "source")[0] ? json_member_string(record, "source") : "-");
                (void) json_object_object_get_ex(record, "actions", &actions);
                for (size_t k = 0; k < array_length(actions); k++)
                        printf("           %s\n", json_object_get_string(json_object_array_get_idx(actions, k)));
                if (json_object_object_get_ex(record, "more_actions", &more))
                        printf("           ... and %s more\n", json_object_get_string(more));
        }
}
