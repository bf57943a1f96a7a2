/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "macro.h"

#include "settings.h"

/* Each setting: its key in the JSON object and how an operator sets it. */
static const struct {
        const char *key;
        const char *name;
        const char *env;          /* read from this variable, not from ctx */
} settings_table[] = {
        { "ovsdb",            "--ovsdb ($OPDBUS_OVSDB)",             NULL },
        { "ovs_rundir",       "$OVS_RUNDIR",                         NULL },
        { "state_dir",        "--state-dir ($OPDBUS_STATE_DIR)",     NULL },
        { "run_dir",          "--run-dir ($OPDBUS_RUN_DIR)",         NULL },
        { "pve_dir",          "--pve-dir ($OPDBUS_PVE_DIR)",         NULL },
        { "interfaces",       "--interfaces ($OPDBUS_INTERFACES)",   NULL },
        { "timeout_ms",       "--timeout",                           NULL },
        { "lock_timeout_ms",  "--lock-timeout",                      NULL },
        { "keep_checkpoints", "--keep-checkpoints",                  NULL },
        { "lxc_path",         "$OPDBUS_LXC_PATH",                    "OPDBUS_LXC_PATH" },
        { "ca_file",          "$OPDBUS_CA_FILE",                     "OPDBUS_CA_FILE" },
        { "fault_inject",     "$OPDBUS_FAULT_INJECT",                "OPDBUS_FAULT_INJECT" },
};

static json_object *string_or_empty(const char *s) {
        return json_object_new_string(s ?: "");
}

json_object *settings_to_json(const Cli *cli) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "ovsdb", string_or_empty(cli->host.ovsdb_address));
        json_object_object_add(o, "ovs_rundir", string_or_empty(cli->host.ovs_rundir));
        json_object_object_add(o, "state_dir", string_or_empty(cli->c.ctx.state_dir));
        json_object_object_add(o, "run_dir", string_or_empty(cli->c.ctx.run_dir));
        json_object_object_add(o, "pve_dir", string_or_empty(cli->host.pve_dir));
        json_object_object_add(o, "interfaces", string_or_empty(cli->host.interfaces_path));
        json_object_object_add(o, "timeout_ms", json_object_new_int(cli->c.ctx.timeout_ms));
        json_object_object_add(o, "lock_timeout_ms", json_object_new_int(cli->c.lock_timeout_ms));
        json_object_object_add(o, "keep_checkpoints", json_object_new_int64(cli->c.keep_checkpoints));
        for (size_t i = 0; i < ELEMENTSOF(settings_table); i++)
                if (settings_table[i].env)
                        json_object_object_add(o, settings_table[i].key, string_or_empty(getenv(settings_table[i].env)));
        return o;
}

int settings_difference(json_object *mine, json_object *theirs, const char **ret_name,
                        const char **ret_mine, const char **ret_theirs) {
        for (size_t i = 0; i < ELEMENTSOF(settings_table); i++) {
                json_object *a = NULL, *b = NULL;

                (void) json_object_object_get_ex(mine, settings_table[i].key, &a);
                (void) json_object_object_get_ex(theirs, settings_table[i].key, &b);
                if (json_object_equal(a, b))
                        continue;
                *ret_name = settings_table[i].name;
                *ret_mine = json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
                *ret_theirs = json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
                return 1;
        }
        return 0;
}
