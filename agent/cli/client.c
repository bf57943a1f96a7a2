/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* When the daemon runs, the commands that change the host (and a few that
 * read it) go to it over D-Bus, so they queue behind its own work; the
 * output is the same either way because both print the result JSON. */
#include <stdio.h>

#include "cli.h"
#include "json-util.h"
#include "log.h"

#define BUS_NAME "org.opdbus"
#define OBJECT_PATH "/org/opdbus/state"
#define INTERFACE "org.opdbus.StateManager"
#define CALL_TIMEOUT_USEC (10ULL * 60 * 1000000)

int client_connect(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *e = getenv("OPDBUS_NO_DAEMON");
        int r;

        if (e && streq(e, "1"))
                return 0;
        if (sd_bus_open_system(&bus) < 0)
                return 0;
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                int has = 0;

                r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner", NULL, &reply, "s", BUS_NAME);
                if (r < 0 || sd_bus_message_read(reply, "b", &has) < 0 || !has)
                        return 0;
        }
        *ret = TAKE_PTR(bus);
        return 1;
}

static const struct {
        const char *name;
        int code;
} error_codes[] = {
        { "org.opdbus.Error.InvalidState", EXIT_INVALID },
        { "org.opdbus.Error.NoCheckpoint", EXIT_INVALID },
        { "org.opdbus.Error.NotPending", EXIT_INVALID },
        { "org.opdbus.Error.Busy", EXIT_BUSY },
        { "org.opdbus.Error.Unavailable", EXIT_UNAVAILABLE },
        { "org.opdbus.Error.ApplyFailed", EXIT_APPLY_FAILED },
        { "org.opdbus.Error.AccessDenied", EXIT_DENIED },
        { "org.freedesktop.DBus.Error.AccessDenied", EXIT_DENIED },
};

/* A daemon error: its message holds the error lines and, after
 * "\nresult: ", the result JSON when there is one. */
static int handle_error(const Cli *cli, const char *verb, const char *origin, const sd_bus_error *e) {
        const char *json = e->message ? strstr(e->message, "\nresult: ") : NULL;
        json_object *res;

        if (json && (res = json_tokener_parse(json + strlen("\nresult: ")))) {
                int code = exit_code_for_json(res);

                print_result(cli, verb, origin, res);
                json_object_put(res);
                return code;
        }
        fprintf(stderr, "error: %s\n", e->message ?: e->name);
        for (size_t i = 0; i < ELEMENTSOF(error_codes); i++)
                if (streq(e->name, error_codes[i].name))
                        return error_codes[i].code;
        return EXIT_UNAVAILABLE;
}

static bool strv_has(char **l, const char *s) {
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

/* Keeps only the plugin sections named in only (all when NULL) of a state
 * document, in their order there. */
static int keep_sections(json_object *doc, char **only) {
        json_object *plugins, *kept;

        if (!only || !json_object_object_get_ex(doc, "plugins", &plugins))
                return 0;
        kept = json_object_new_object();
        if (!kept)
                return -ENOMEM;
        json_object_object_foreach(plugins, name, section)
                if (strv_has(only, name) && json_object_object_add(kept, name, json_object_get(section)) < 0) {
                        json_object_put(section);
                        json_object_put(kept);
                        return -ENOMEM;
                }
        if (json_object_object_add(doc, "plugins", kept) < 0) {
                json_object_put(kept);
                return -ENOMEM;
        }
        return 0;
}

/* Sends msg and prints the JSON it returns (or nothing, for methods
 * without a result). Returns the exit code. */
int client_send(const Cli *cli, sd_bus *bus, sd_bus_message *msg, const char *verb, const char *origin) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(json_object_putp) json_object *res = NULL;
        const char *text;
        int r;

        r = sd_bus_call(bus, msg, CALL_TIMEOUT_USEC, &e, &reply);
        if (r < 0)
                return handle_error(cli, verb, origin, &e);
        if (sd_bus_message_is_empty(reply))
                return EXIT_OK;
        r = sd_bus_message_read(reply, "s", &text);
        if (r < 0 || !(res = json_tokener_parse(text))) {
                log_error("The daemon answered %s with something that is not JSON.", verb);
                return EXIT_UNAVAILABLE;
        }
        if (streq(verb, "query") || streq(verb, "checkpoints")) {
                if (streq(verb, "checkpoints") && !cli->json)
                        print_checkpoints_table(res);
                else {
                        if (streq(verb, "query") && keep_sections(res, cli->only) < 0)
                                return log_error_errno(-ENOMEM, "Out of memory."), EXIT_UNAVAILABLE;
                        print_json(res);
                }
                return EXIT_OK;
        }
        print_result(cli, verb, origin, res);
        return exit_code_for_json(res);
}

int client_new_call(sd_bus *bus, const char *method, sd_bus_message **ret) {
        return sd_bus_message_new_method_call(bus, ret, BUS_NAME, OBJECT_PATH, INTERFACE, method);
}
