/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Human and JSON rendering of results. */
#include <stdio.h>

#include "cli.h"
#include "json-util.h"

void print_json(json_object *o) {
        _cleanup_(freep) char *s = json_to_string_pretty(o);

        puts(s ?: "null");
}

static void print_actions(const Plan *p, const char *heading) {
        if (p->n_actions == 0)
                return;
        printf("%s\n", heading);
        for (size_t i = 0; i < p->n_actions; i++) {
                const PlanAction *a = &p->actions[i];

                printf("  %-9s %-8s %-36s [%s] %s\n", action_kind_to_string(a->kind), a->plugin, a->path,
                       impact_to_string(a->impact), a->detail);
        }
}

static void print_diag(const Diag *d) {
        diag_print(d, stderr, "");
}

static void print_counts(const ReconcileResult *res) {
        printf("  ovsdb_ops=%u flow_mods=%u commands=%u\n",
               res->counts.ovsdb_ops, res->counts.flow_mods, res->counts.commands);
}

void print_result(const Cli *cli, const char *verb, const char *origin, const ReconcileResult *res) {
        if (cli->json) {
                _cleanup_(json_object_putp) json_object *o = reconcile_result_to_json(res);

                print_json(o);
                return;
        }

        print_diag(&res->diag);

        if (streq(verb, "validate")) {
                if (res->status == RECONCILE_OK)
                        printf("%s: valid\n", origin);
                else
                        fprintf(stderr, "%s: %zu error%s\n", origin, diag_count(&res->diag, DIAG_ERROR),
                                diag_count(&res->diag, DIAG_ERROR) == 1 ? "" : "s");
                return;
        }
        if (res->status == RECONCILE_INVALID || res->status == RECONCILE_BUSY ||
            res->status == RECONCILE_UNAVAILABLE)
                return;

        if (res->dry_run || streq(verb, "plan")) {
                if (res->plan.n_actions == 0)
                        printf("No changes: the host matches %s.\n", origin);
                print_actions(&res->plan, "Planned changes:");
                return;
        }
        if (streq(verb, "verify")) {
                if (res->status == RECONCILE_OK)
                        printf("%s: the host matches (generation %llu).\n", origin,
                               (unsigned long long) res->generation);
                return;
        }

        print_actions(&res->plan, res->status == RECONCILE_OK ? "Applied:" : "Attempted:");
        if (res->rolled_back)
                print_actions(&res->rollback_plan, "Rolled back:");
        if (res->status == RECONCILE_OK) {
                if (res->changed)
                        printf("Applied %zu change%s; generation %llu.\n", res->plan.n_actions,
                               res->plan.n_actions == 1 ? "" : "s", (unsigned long long) res->generation);
                else
                        printf("No changes: the host matches %s (generation %llu).\n", origin,
                               (unsigned long long) res->generation);
        } else if (res->status == RECONCILE_FAILED)
                fprintf(stderr, "Apply failed; every change was rolled back.\n");
        else
                fprintf(stderr, "Apply failed and the rollback failed too; check the errors above.\n");
        print_counts(res);
}

void print_diff(const Cli *cli, const char *origin, const ReconcileResult *res) {
        static const char sign[_ACTION_KIND_MAX] = {
                [ACTION_CREATE] = '+', [ACTION_MODIFY] = '~', [ACTION_REPLUG] = '~',
                [ACTION_RECREATE] = '~', [ACTION_DELETE] = '-',
        };

        if (cli->json) {
                print_result(cli, "diff", origin, res);
                return;
        }
        print_diag(&res->diag);
        for (size_t i = 0; i < res->plan.n_actions; i++) {
                const PlanAction *a = &res->plan.actions[i];

                printf("%c %s/%s: %s\n", sign[a->kind], a->plugin, a->path, a->detail);
        }
}
