/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>

#include "audit.h"
#include "json-util.h"
#include "macro.h"

static int add_origin(json_object *o, const ApplyOrigin *origin) {
        const ApplyOrigin none = { .uid = -1, .pid = -1 };
        int r = 0;

        if (!origin)
                origin = &none;
        RET_GATHER(r, json_object_object_add(o, "reason", json_object_new_string(origin->reason ?: "apply")));
        if (origin->source)
                RET_GATHER(r, json_object_object_add(o, "source", json_object_new_string(origin->source)));
        if (origin->uid >= 0)
                RET_GATHER(r, json_object_object_add(o, "uid", json_object_new_int64(origin->uid)));
        if (origin->pid > 0)
                RET_GATHER(r, json_object_object_add(o, "pid", json_object_new_int64(origin->pid)));
        if (origin->process)
                RET_GATHER(r, json_object_object_add(o, "process", json_object_new_string(origin->process)));
        return r < 0 ? -ENOMEM : 0;
}

/* One line per action: "create net bridge/br0: mtu 9000". */
static json_object *action_line(const PlanAction *a) {
        char *s;

        if (asprintf(&s, "%s %s %s%s%s", action_kind_to_string(a->kind), a->plugin, a->path,
                     a->detail && a->detail[0] ? ": " : "", a->detail ?: "") < 0)
                return NULL;
        json_object *o = json_object_new_string(s);
        free(s);
        return o;
}

json_object *audit_record_new(const ApplyOrigin *origin, const Plan *plans, size_t n_plans) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(),
                *changes = json_object_new_object(), *actions = json_object_new_array();
        unsigned per_kind[_ACTION_KIND_MAX] = {}, total = 0;
        int r;

        if (!o || !changes || !actions || add_origin(o, origin) < 0)
                return NULL;
        for (size_t p = 0; p < n_plans; p++)
                for (size_t i = 0; i < plans[p].n_actions; i++) {
                        const PlanAction *a = &plans[p].actions[i];

                        if (a->held)
                                continue;
                        total++;
                        if (a->kind >= 0 && a->kind < _ACTION_KIND_MAX)
                                per_kind[a->kind]++;
                        if (json_object_array_length(actions) < AUDIT_ACTIONS_MAX &&
                            json_array_append_take(actions, action_line(a)) < 0)
                                return NULL;
                }
        r = json_object_object_add(changes, "total", json_object_new_int64(total));
        for (ActionKind k = 0; k < _ACTION_KIND_MAX; k++)
                if (per_kind[k] > 0)
                        RET_GATHER(r, json_object_object_add(changes, action_kind_to_string(k),
                                                             json_object_new_int64(per_kind[k])));
        RET_GATHER(r, json_object_object_add(o, "changes", TAKE_PTR(changes)));
        RET_GATHER(r, json_object_object_add(o, "actions", TAKE_PTR(actions)));
        if (total > AUDIT_ACTIONS_MAX)
                RET_GATHER(r, json_object_object_add(o, "more_actions",
                                                     json_object_new_int64(total - AUDIT_ACTIONS_MAX)));
        return r < 0 ? NULL : TAKE_PTR(o);
}
