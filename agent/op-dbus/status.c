/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op-dbus status: the screen an operator reads first. What the state
 * directory and the state file say (status_from_files()), whether the
 * daemon runs and what it does, whether Open vSwitch and Proxmox answer,
 * and warnings. Changes nothing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "json-util.h"
#include "log.h"
#include "op-dbus.h"
#include "ovsdb-client.h"
#include "plugins.h"
#include "status.h"

static int add(json_object *o, const char *key, json_object *v) {
        return v && json_object_object_add(o, key, v) >= 0 ? 0 : -ENOMEM;
}

/* {"running", "status", "generation", "start"} from the bus. */
static json_object *daemon_status(void) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(freep) char *status = NULL;
        json_object *o = json_object_new_object();
        uint64_t generation = 0;

        if (!o)
                return NULL;
        if (client_connect(NULL, &bus) <= 0) {
                json_object_object_add(o, "running", json_object_new_boolean(false));
                json_object_object_add(o, "start", json_object_new_string(
                        access("/run/systemd/system", F_OK) >= 0 ? "systemctl start op-dbus" : "op-dbus run"));
                /* what only a running daemon knows */
                json_object_object_add(o, "unknown", json_object_new_string(
                        "whether an apply runs now, and drift since the last repair (nothing watches for it)"));
                return o;
        }
        json_object_object_add(o, "running", json_object_new_boolean(true));
        if (sd_bus_get_property_string(bus, BUS_NAME, OBJECT_PATH, INTERFACE, "Status", NULL, &status) >= 0)
                json_object_object_add(o, "status", json_object_new_string(status));
        if (sd_bus_get_property_trivial(bus, BUS_NAME, OBJECT_PATH, INTERFACE, "Generation", NULL, 't',
                                        &generation) >= 0)
                json_object_object_add(o, "generation", json_object_new_int64((int64_t) generation));
        return o;
}

/* The first directory of $PATH with an executable name, or NULL. */
static char *find_program(const char *name) {
        const char *path = getenv("PATH") ?: "/usr/sbin:/usr/bin:/sbin:/bin";

        for (const char *p = path; *p;) {
                size_t n = strcspn(p, ":");
                char *f;

                if (n > 0 && asprintf(&f, "%.*s/%s", (int) n, p, name) >= 0) {
                        if (access(f, X_OK) >= 0)
                                return f;
                        free(f);
                }
                p += n + (p[n] == ':');
        }
        return NULL;
}

static json_object *services_status(const Cli *cli) {
        _cleanup_(ovsdb_client_freep) OvsdbClient *db = NULL;
        _cleanup_(freep) char *pct = find_program("pct");
        json_object *o = json_object_new_object(), *ovs = json_object_new_object(), *pve = json_object_new_object();
        struct stat st;
        int r;

        if (!o || !ovs || !pve) {
                json_object_put(o), json_object_put(ovs), json_object_put(pve);
                return NULL;
        }
        r = ovsdb_client_connect(cli->host.ovsdb_address, MIN(cli->c.ctx.timeout_ms, 2000), &db);
        if (r >= 0) {
                json_object *result = NULL;

                r = ovsdb_client_call(db, "list_dbs", json_object_new_array(), &result, NULL);
                json_object_put(result);
        }
        json_object_object_add(ovs, "address", json_object_new_string(cli->host.ovsdb_address));
        json_object_object_add(ovs, "reachable", json_object_new_boolean(r >= 0));
        if (r < 0)
                json_object_object_add(ovs, "error", json_object_new_string(strerror(-r)));
        json_object_object_add(o, "openvswitch", ovs);

        if (pct)
                json_object_object_add(pve, "pct", json_object_new_string(pct));
        json_object_object_add(pve, "pve_dir", json_object_new_string(cli->host.pve_dir));
        json_object_object_add(pve, "pve_dir_present",
                               json_object_new_boolean(stat(cli->host.pve_dir, &st) >= 0 && S_ISDIR(st.st_mode)));
        json_object_object_add(o, "proxmox", pve);
        return o;
}

static void warn(json_object *warnings, const char *fmt, ...) _printf_(2, 3);
static void warn(json_object *warnings, const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) >= 0) {
                json_object_array_add(warnings, json_object_new_string(s));
                free(s);
        }
        va_end(ap);
}

/* Bridges of the applied state on Open vSwitch's userspace datapath. */
static void warn_netdev(json_object *warnings, const char *state_dir) {
        _cleanup_(json_object_putp) json_object *state = NULL;
        json_object *plugins, *net, *bridges;
        uint64_t latest = 0;

        if (checkpoint_latest(state_dir, &latest) < 0 || latest == 0 || checkpoint_load(state_dir, latest, &state) < 0)
                return;
        if (!json_object_object_get_ex(state, "plugins", &plugins) || !json_object_object_get_ex(plugins, "net", &net) ||
            !json_object_object_get_ex(net, "bridges", &bridges) || !json_object_is_type(bridges, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(bridges); i++) {
                json_object *b = json_object_array_get_idx(bridges, i);

                if (streq(json_member_string(b, "datapath_type"), "netdev"))
                        warn(warnings, "bridge %s uses Open vSwitch's userspace datapath (netdev): it forwards in "
                             "ovs-vswitchd, slower than the kernel's datapath, and kernel TCP through it needs "
                             "checksum offload off on its veth ports", json_member_string(b, "name"));
        }
}

/* A template the state file's containers need that no storage has: the
 * lxc plugin's plan of the state file says so (nothing else of that plan
 * is shown here: 'op-dbus plan' is for that). */
static void warn_templates(const Cli *cli, json_object *warnings) {
        _cleanup_(reconciler_done) Reconciler rc = {};
        _cleanup_(reconcile_result_done) ReconcileResult res = {};
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;
        char *only[] = { (char *) "lxc", NULL };
        ReconcileOptions o = { .only = only };

        if (access(cli->c.state_file, F_OK) < 0 || state_doc_load(cli->c.state_file, &doc, &res.diag) < 0 ||
            !state_doc_section(doc, "lxc") || cli_setup_reconciler(&cli->c, &opdbus_product, &rc) < 0)
                return;
        (void) reconcile_plan(&rc, doc, &o, &res);
        for (size_t i = 0; i < res.diag.n_entries; i++)
                if (res.diag.entries[i].level == DIAG_ERROR && strstr(res.diag.entries[i].message, "template"))
                        warn(warnings, "%s: %s", res.diag.entries[i].path, res.diag.entries[i].message);
}

static json_object *warnings_of(const Cli *cli, json_object *st) {
        json_object *w = json_object_new_array(), *daemon = NULL, *f, *a;

        if (!w)
                return NULL;
        (void) json_object_object_get_ex(st, "daemon", &daemon);
        if (json_member_bool(st, "interrupted"))
                warn(w, "an apply was interrupted before it finished (%s/checkpoints/pending.json): the next apply "
                     "completes or replaces it", cli->c.ctx.state_dir);
        if (json_object_object_get_ex(st, "confirm", &f) && f && !json_member_bool(daemon, "running"))
                warn(w, "generation %s waits for confirmation and no daemon keeps the timer: it is reverted when "
                     "the daemon starts, unless 'op-dbus confirm' comes first", json_member_string(f, "generation"));
        if (json_object_object_get_ex(st, "state_file", &f)) {
                a = json_member_array(f, "placeholders");
                for (size_t i = 0; a && i < json_object_array_length(a); i++)
                        warn(w, "placeholder left in %s: %s", json_member_string(f, "path"),
                             json_object_get_string(json_object_array_get_idx(a, i)));
                if (!json_member_bool(f, "exists"))
                        warn(w, "no state file at %s ('op-dbus init --profile NAME -o %s' writes one)",
                             json_member_string(f, "path"), json_member_string(f, "path"));
        }
        warn_netdev(w, cli->c.ctx.state_dir);
        warn_templates(cli, w);
        return w;
}

/* "2 bridges, 5 ports" */
static void print_counts(json_object *counts) {
        bool first = true;

        json_object_object_foreach(counts, key, n) {
                printf("%s%s %s", first ? "" : ", ", json_object_get_string(n), key);
                first = false;
        }
        if (first)
                printf("nothing");
}

static void print_applied(json_object *st) {
        json_object *a = NULL, *r = NULL, *changes = NULL, *f = NULL, *c = NULL;

        (void) json_object_object_get_ex(st, "applied", &a);
        if (!a)
                printf("     Applied: nothing yet\n");
        else {
                printf("     Applied: generation %s at %s\n", json_member_string(a, "generation"),
                       json_member_string(a, "created"));
                if (json_object_object_get_ex(a, "record", &r)) {
                        (void) json_object_object_get_ex(r, "changes", &changes);
                        printf("              %s of %s by uid %s, %s[%s]: %s changes\n", json_member_string(r, "reason"),
                               json_member_string(r, "source")[0] ? json_member_string(r, "source") : "-",
                               json_member_string(r, "uid"), json_member_string(r, "process"),
                               json_member_string(r, "pid"), json_member_string(changes, "total"));
                }
        }
        if (json_object_object_get_ex(st, "state_file", &f)) {
                json_object *differs = json_member_array(f, "differs");

                if (!json_member_bool(f, "exists"))
                        printf("  State file: %s: missing\n", json_member_string(f, "path"));
                else if (json_object_object_get_ex(f, "error", NULL))
                        printf("  State file: %s: %s\n", json_member_string(f, "path"), json_member_string(f, "error"));
                else if (json_member_bool(f, "applied"))
                        printf("  State file: %s: applied\n", json_member_string(f, "path"));
                else {
                        printf("  State file: %s: not applied yet (", json_member_string(f, "path"));
                        for (size_t i = 0; differs && i < json_object_array_length(differs); i++)
                                printf("%s%s", i ? ", " : "", json_object_get_string(json_object_array_get_idx(differs, i)));
                        printf("): 'op-dbus plan' shows what apply would change\n");
                }
        }
        if (json_object_object_get_ex(st, "confirm", &c) && c)
                printf("     Confirm: generation %s is rolled back at %s unless 'op-dbus confirm' comes first\n",
                       json_member_string(c, "generation"), json_member_string(c, "deadline"));
        else
                printf("     Confirm: none pending\n");
}

static void print_status(json_object *st) {
        json_object *d = NULL, *svc = NULL, *ovs = NULL, *pve = NULL, *repairs, *objects = NULL, *warnings;

        (void) json_object_object_get_ex(st, "daemon", &d);
        printf("op-dbus %s\n", json_member_string(st, "version"));
        if (json_member_bool(d, "running"))
                printf("      Daemon: running (org.opdbus on the system bus): %s, generation %s\n",
                       json_member_string(d, "status"), json_member_string(d, "generation"));
        else
                printf("      Daemon: not running; start it: %s\n"
                       "              without it, not known: %s\n", json_member_string(d, "start"),
                       json_member_string(d, "unknown"));
        print_applied(st);
        repairs = json_member_array(st, "repairs");
        if (!repairs || json_object_array_length(repairs) == 0)
                printf("     Repairs: none recorded\n");
        for (size_t i = 0; repairs && i < json_object_array_length(repairs); i++) {
                json_object *e = json_object_array_get_idx(repairs, i), *l = json_member_array(e, "repaired");

                printf("%s%s (generation %s):", i ? "              " : "     Repairs: ", json_member_string(e, "time"),
                       json_member_string(e, "generation"));
                for (size_t k = 0; l && k < json_object_array_length(l); k++)
                        printf("%s %s", k ? ";" : "", json_object_get_string(json_object_array_get_idx(l, k)));
                printf("\n");
        }
        (void) json_object_object_get_ex(st, "services", &svc);
        (void) json_object_object_get_ex(svc, "openvswitch", &ovs);
        (void) json_object_object_get_ex(svc, "proxmox", &pve);
        if (json_member_bool(ovs, "reachable"))
                printf("Open vSwitch: reachable at %s\n", json_member_string(ovs, "address"));
        else
                printf("Open vSwitch: not reachable at %s: %s\n", json_member_string(ovs, "address"),
                       json_member_string(ovs, "error"));
        if (json_object_object_get_ex(pve, "pct", NULL))
                printf("     Proxmox: pct at %s; %s %s\n", json_member_string(pve, "pct"), json_member_string(pve, "pve_dir"),
                       json_member_bool(pve, "pve_dir_present") ? "present" : "missing (is pve-cluster running?)");
        else
                printf("     Proxmox: no pct in PATH: containers through plain LXC\n");
        (void) json_object_object_get_ex(st, "objects", &objects);
        printf("     Objects:");
        {
                bool any = false;

                json_object_object_foreach(objects, plugin, counts) {
                        printf("%s %s: ", any ? ";" : "", plugin);
                        print_counts(counts);
                        any = true;
                }
                printf("%s\n", any ? "" : " none applied");
        }
        warnings = json_member_array(st, "warnings");
        if (!warnings || json_object_array_length(warnings) == 0)
                printf("    Warnings: none\n");
        for (size_t i = 0; warnings && i < json_object_array_length(warnings); i++)
                printf("%s%s\n", i ? "              " : "    Warnings: ",
                       json_object_get_string(json_object_array_get_idx(warnings, i)));
}

int verb_status(Cli *cli) {
        _cleanup_(json_object_putp) json_object *st = json_object_new_object();
        json_object *files = NULL;
        int r;

        if (!st)
                return log_error_errno(-ENOMEM, "Out of memory."), EXIT_UNAVAILABLE;
        r = status_from_files(&opdbus_product, cli->c.ctx.state_dir, cli->c.state_file, &files);
        if (r < 0)
                return log_error_errno(r, "Cannot read %s: %m", cli->c.ctx.state_dir), EXIT_UNAVAILABLE;
        r = add(st, "version", json_object_new_string(PACKAGE_VERSION));
        if (r >= 0)
                r = add(st, "daemon", daemon_status());
        json_object_object_foreach(files, key, value)
                if (r >= 0)
                        r = json_object_object_add(st, key, json_object_get(value)) < 0 ? -ENOMEM : 0;
        json_object_put(files);
        if (r >= 0)
                r = add(st, "services", services_status(cli));
        if (r >= 0)
                r = add(st, "warnings", warnings_of(cli, st));
        if (r < 0)
                return log_error_errno(r, "Out of memory."), EXIT_UNAVAILABLE;
        if (cli->c.json)
                print_json(st);
        else
                print_status(st);
        return EXIT_OK;
}
