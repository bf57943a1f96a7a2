/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* When the daemon runs, the commands that change the host (and a few that
 * read it) go to it over D-Bus, so they queue behind its own work; the
 * output is the same either way because both print the result JSON. */
#include <stdio.h>

#include "op-dbus.h"
#include "json-util.h"
#include "log.h"
#include "settings.h"

#define CALL_TIMEOUT_USEC (10ULL * 60 * 1000000)

/* The daemon's settings against the ones this command was given (options,
 * environment, defaults): 1 when they agree, 0 after saying on standard
 * error that the command runs without the daemon. A caller who may not
 * read them may not call the daemon either; the call says so. */
static int settings_agree(const Cli *cli, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(json_object_putp) json_object *mine = NULL, *theirs = NULL;
        _cleanup_(freep) char *text = NULL;
        const char *name, *here, *there;
        int r;

        r = sd_bus_get_property_string(bus, BUS_NAME, OBJECT_PATH, INTERFACE, "Settings", &e, &text);
        if (r < 0 && (sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED) ||
                      sd_bus_error_has_name(&e, "org.opdbus.Error.AccessDenied")))
                return 1;
        if (r < 0) {
                log_notice("The daemon does not tell its settings (%s): running without the daemon.",
                           e.message ?: strerror(-r));
                return 0;
        }
        theirs = json_tokener_parse(text);
        mine = settings_to_json(cli);
        if (!mine)
                return log_error_errno(-ENOMEM, "Out of memory.");
        if (settings_difference(mine, theirs, &name, &here, &there) == 0)
                return 1;
        log_notice("%s is %s here but %s for the daemon: running without the daemon.", name, here, there);
        return 0;
}

int client_connect(const Cli *cli, sd_bus **ret) {
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
        if (cli) {
                r = settings_agree(cli, bus);
                if (r <= 0)
                        return r;
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

static int exit_code_for_error(const sd_bus_error *e) {
        for (size_t i = 0; i < ELEMENTSOF(error_codes); i++)
                if (streq(e->name, error_codes[i].name))
                        return error_codes[i].code;
        return EXIT_UNAVAILABLE;
}

/* A daemon error: its message holds the error lines and, after
 * "\nresult: ", the result JSON when there is one. A refusal keeps its
 * own exit code whatever the result's status. */
static int handle_error(const Cli *cli, const char *verb, const char *origin, const sd_bus_error *e) {
        const char *json = e->message ? strstr(e->message, "\nresult: ") : NULL;
        json_object *res;

        if (json && (res = json_tokener_parse(json + strlen("\nresult: ")))) {
                int code = exit_code_for_error(e) == EXIT_DENIED ? EXIT_DENIED : exit_code_for_json(res);

                print_result(cli->c.json, verb, origin, res);
                json_object_put(res);
                return code;
        }
        fprintf(stderr, "error: %s\n", e->message ?: e->name);
        return exit_code_for_error(e);
}

/* Sends msg; *ret is the JSON it returns (NULL for methods without a
 * result, or a JSON null). A failed call is printed; returns the exit
 * code. */
int client_call(const Cli *cli, sd_bus *bus, sd_bus_message *msg, const char *verb, const char *origin,
                json_object **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        enum json_tokener_error jerr;
        const char *text;
        int r;

        *ret = NULL;
        r = sd_bus_call(bus, msg, CALL_TIMEOUT_USEC, &e, &reply);
        if (r < 0)
                return handle_error(cli, verb, origin, &e);
        if (sd_bus_message_is_empty(reply))
                return EXIT_OK;
        r = sd_bus_message_read(reply, "s", &text);
        if (r >= 0)
                *ret = json_tokener_parse_verbose(text, &jerr);
        if (r < 0 || jerr != json_tokener_success) {
                log_error("The daemon answered %s with something that is not JSON.", verb);
                return EXIT_UNAVAILABLE;
        }
        return EXIT_OK;
}

/* Sends msg and prints the JSON it returns (or nothing, for methods
 * without a result). Returns the exit code. */
int client_send(const Cli *cli, sd_bus *bus, sd_bus_message *msg, const char *verb, const char *origin) {
        _cleanup_(json_object_putp) json_object *res = NULL;
        int r;

        r = client_call(cli, bus, msg, verb, origin, &res);
        if (r != EXIT_OK || !res)
                return r;
        if (streq(verb, "query") || streq(verb, "checkpoints")) {
                if (streq(verb, "checkpoints") && !cli->c.json)
                        print_checkpoints_table(res);
                else
                        print_json(res);
                return EXIT_OK;
        }
        print_result(cli->c.json, verb, origin, res);
        return exit_code_for_json(res);
}

int client_new_call(sd_bus *bus, const char *method, sd_bus_message **ret) {
        return sd_bus_message_new_method_call(bus, ret, BUS_NAME, OBJECT_PATH, INTERFACE, method);
}
