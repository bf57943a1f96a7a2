/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The routes plugin's vtable: dumps of links, routes and rules, one
 * rtnetlink request per change. */
#include <stdio.h>

#include "json-util.h"
#include "router.h"
#include "routes.h"

typedef struct RoutesPlugin {
        Plugin plugin;
        RtConfig want;
        Rtnl *rtnl;                  /* in the namespace of the first query */
        RtLive live;
        RtChanges changes;           /* of the last diff */
} RoutesPlugin;

static int routes_parse(Plugin *p, const StateDoc *doc, json_object *section, Diag *d) {
        RoutesPlugin *rp = (RoutesPlugin *) p;
        int r;

        r = rt_parse(&rp->want, section, d);
        if (r >= 0)
                r = rt_config_declare(&rp->want, state_doc_section(doc, "interfaces"));
        if (r < 0)
                return r == -ENOMEM ? r : -EINVAL;
        return section ? 1 : 0;
}

static int routes_query(Plugin *p, Diag *d) {
        RoutesPlugin *rp = (RoutesPlugin *) p;
        int r;

        rt_live_done(&rp->live);
        rt_changes_done(&rp->changes);
        if (!rp->rtnl) {
                r = rtnl_open(&rp->rtnl);
                if (r < 0) {
                        diag_error(d, "plugins.routes", "cannot talk to rtnetlink: %s", strerror(-r));
                        return r;
                }
        }
        r = rtnl_dump_links(rp->rtnl, &rp->live.links, &rp->live.n_links);
        if (r >= 0)
                r = rtnl_dump_routes(rp->rtnl, AF_UNSPEC, &rp->live.routes, &rp->live.n_routes);
        if (r >= 0)
                r = rtnl_dump_rules(rp->rtnl, AF_UNSPEC, &rp->live.rules, &rp->live.n_rules);
        if (r < 0)
                diag_error(d, "plugins.routes", "cannot read the links, routes and rules: %s", strerror(-r));
        return r;
}

static int routes_diff(Plugin *p, Plan *plan, Diag *d) {
        RoutesPlugin *rp = (RoutesPlugin *) p;
        int r;

        rt_changes_done(&rp->changes);
        r = rt_diff(&rp->want, &rp->live, &rp->changes, plan, d);
        return r < 0 ? (r == -ENOMEM ? r : -EINVAL) : 0;
}

static int send_op(Rtnl *rtnl, const RtOp *op) {
        if (op->dev[0]) {
                RtOp resolved = *op;
                int r = rtnl_ifindex(rtnl, op->dev);

                if (r < 0)
                        return r;
                resolved.route.oif = r;
                resolved.dev[0] = 0;
                return send_op(rtnl, &resolved);
        }
        switch (op->type) {
        case RT_DELETE_RULE:   return rtnl_delete_rule(rtnl, &op->rule);
        case RT_DELETE_ROUTE:  return rtnl_delete_route(rtnl, &op->route);
        case RT_REPLACE_ROUTE: return rtnl_replace_route(rtnl, &op->route);
        case RT_ADD_ROUTE:     return rtnl_add_route(rtnl, &op->route);
        case RT_ADD_RULE:      return rtnl_add_rule(rtnl, &op->rule);
        }
        return -EINVAL;
}

static int routes_apply(Plugin *p, ApplyCounts *counts, Diag *d) {
        RoutesPlugin *rp = (RoutesPlugin *) p;
        unsigned before = rtnl_counts(rp->rtnl).writes;
        int r = 0;

        for (size_t i = 0; i < rp->changes.n_ops && r >= 0; i++) {
                const RtOp *op = &rp->changes.ops[i];

                r = send_op(rp->rtnl, op);
                if (r < 0) {
                        bool rule = op->type == RT_DELETE_RULE || op->type == RT_ADD_RULE;
                        _cleanup_(freep) char *what = rule ? rt_rule_describe(&op->rule) :
                                                             rt_route_describe(&op->route, &rp->live);

                        diag_error(d, "plugins.routes", "the kernel refused to %s %s %s: %s",
                                   op->type == RT_DELETE_RULE || op->type == RT_DELETE_ROUTE ? "delete" :
                                   op->type == RT_REPLACE_ROUTE ? "change" : "add", rule ? "rule" : "route",
                                   strna(what), strerror(-r));
                }
        }
        apply_counts_write(counts, COUNT_RTNL_MESSAGES, rtnl_counts(rp->rtnl).writes - before);
        return r;
}

static int routes_live_to_json(Plugin *p, json_object **ret) {
        RoutesPlugin *rp = (RoutesPlugin *) p;

        return rt_live_to_json(&rp->live, ret);
}

static void routes_done(Plugin *p) {
        RoutesPlugin *rp = (RoutesPlugin *) p;

        rt_config_done(&rp->want);
        rt_live_done(&rp->live);
        rt_changes_done(&rp->changes);
        rtnl_close(rp->rtnl);
}

static const char *const routes_after[] = { "interfaces", NULL };

const PluginVTable routes_plugin_vtable = {
        .name = "routes",
        .after = routes_after,
        .object_size = sizeof(RoutesPlugin),
        .parse = routes_parse,
        .query = routes_query,
        .diff = routes_diff,
        .apply = routes_apply,
        .live_to_json = routes_live_to_json,
        .done = routes_done,
};
