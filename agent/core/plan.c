/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "plan.h"

static const char *const action_kind_table[_ACTION_KIND_MAX] = {
        [ACTION_CREATE] = "create",
        [ACTION_MODIFY] = "modify",
        [ACTION_REPLUG] = "replug",
        [ACTION_RECREATE] = "recreate",
        [ACTION_DELETE] = "delete",
};

const ImpactClass impact_none = { 0, "no traffic impact" };

const char *action_kind_to_string(ActionKind k) {
        return k >= 0 && k < _ACTION_KIND_MAX ? action_kind_table[k] : NULL;
}

const char *impact_to_string(Impact i) {
        return i ? i->label : NULL;
}

void plan_done(Plan *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_actions; i++) {
                free(p->actions[i].path);
                free(p->actions[i].detail);
                free(p->actions[i].outage);
        }
        free(p->actions);
        *p = (Plan) {};
}

int plan_add(Plan *p, const char *plugin, ActionKind kind, Impact impact,
             const char *path, const char *detail_fmt, ...) {
        _cleanup_(freep) char *path_copy = NULL, *detail = NULL;
        va_list ap;
        int r;

        path_copy = strdup(path);
        if (!path_copy)
                return -ENOMEM;

        va_start(ap, detail_fmt);
        r = vasprintf(&detail, detail_fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;

        r = greedy_realloc((void **) &p->actions, &p->allocated, p->n_actions + 1, sizeof(PlanAction));
        if (r < 0)
                return r;

        p->actions[p->n_actions++] = (PlanAction) {
                .plugin = plugin,
                .kind = kind,
                .impact = impact,
                .path = TAKE_PTR(path_copy),
                .detail = TAKE_PTR(detail),
        };
        return 0;
}

int plan_move(Plan *dst, Plan *src) {
        int r;

        r = greedy_realloc((void **) &dst->actions, &dst->allocated,
                           dst->n_actions + src->n_actions, sizeof(PlanAction));
        if (r < 0)
                return r;
        if (src->n_actions > 0) /* both may be NULL when empty */
                memcpy(dst->actions + dst->n_actions, src->actions, src->n_actions * sizeof(PlanAction));
        dst->n_actions += src->n_actions;
        free(src->actions);
        *src = (Plan) {};
        return 0;
}

void plan_hold_last(Plan *p) {
        if (p->n_actions > 0)
                p->actions[p->n_actions - 1].held = true;
}

int plan_set_outage(Plan *p, const char *fmt, ...) {
        PlanAction *a;
        va_list ap;
        int r;

        if (p->n_actions == 0)
                return -EINVAL;
        a = &p->actions[p->n_actions - 1];
        free(a->outage);
        a->outage = NULL;
        va_start(ap, fmt);
        r = vasprintf(&a->outage, fmt, ap);
        va_end(ap);
        if (r < 0) {
                a->outage = NULL;
                return -ENOMEM;
        }
        return 0;
}

size_t plan_count_active(const Plan *p) {
        size_t n = 0;

        for (size_t i = 0; i < p->n_actions; i++)
                n += !p->actions[i].held;
        return n;
}

json_object *plan_action_to_json(const PlanAction *a) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "plugin", json_object_new_string(a->plugin));
        json_object_object_add(o, "action", json_object_new_string(action_kind_to_string(a->kind)));
        json_object_object_add(o, "path", json_object_new_string(a->path));
        json_object_object_add(o, "impact", json_object_new_string(impact_to_string(a->impact)));
        json_object_object_add(o, "detail", json_object_new_string(a->detail));
        if (a->held)
                json_object_object_add(o, "held", json_object_new_boolean(true));
        if (a->outage)
                json_object_object_add(o, "outage", json_object_new_string(a->outage));
        return o;
}

json_object *plan_to_json(const Plan *p) {
        json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        for (size_t i = 0; i < p->n_actions; i++) {
                json_object *o = plan_action_to_json(&p->actions[i]);

                if (!o || json_object_array_add(a, o) < 0) {
                        json_object_put(o);
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

static unsigned *count_of(ApplyCounts *c, const char *kind) {
        for (size_t i = 0; i < c->n_kinds; i++)
                if (streq(c->kinds[i].kind, kind))
                        return &c->kinds[i].n;
        if (c->n_kinds >= APPLY_COUNT_KINDS_MAX)
                return NULL;
        c->kinds[c->n_kinds].kind = kind;
        c->kinds[c->n_kinds].n = 0;
        return &c->kinds[c->n_kinds++].n;
}

void apply_counts_init(ApplyCounts *c, const char *const *kinds) {
        *c = (ApplyCounts) {};
        for (; kinds && *kinds; kinds++)
                (void) count_of(c, *kinds);
}

void apply_counts_write(ApplyCounts *c, const char *kind, unsigned n) {
        unsigned *k = count_of(c, kind);

        c->writes += n;
        if (k)
                *k += n;
}

unsigned apply_counts_get(const ApplyCounts *c, const char *kind) {
        for (size_t i = 0; i < c->n_kinds; i++)
                if (streq(c->kinds[i].kind, kind))
                        return c->kinds[i].n;
        return 0;
}

json_object *apply_counts_to_json(const ApplyCounts *c) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "writes", json_object_new_int64(c->writes));
        for (size_t i = 0; i < c->n_kinds; i++)
                json_object_object_add(o, c->kinds[i].kind, json_object_new_int64(c->kinds[i].n));
        json_object_object_add(o, "commands", json_object_new_int64(c->commands));
        return o;
}
