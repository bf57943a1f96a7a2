/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The interfaces plugin's vtable: dumps of links and addresses, one
 * rtnetlink request per change, the ledger of what op-router made. */
#include <linux/if_link.h>
#include <stdio.h>

#include "interfaces.h"
#include "json-util.h"
#include "router.h"
#include "state.h"

typedef struct InterfacesPlugin {
        Plugin plugin;
        IfConfig want;
        char **names;                /* links the desired and the applied sections name */
        size_t n_names;
        Rtnl *rtnl;
        IfLive live;
        IfChanges changes;
} InterfacesPlugin;

static void names_free(InterfacesPlugin *ip) {
        for (size_t i = 0; i < ip->n_names; i++)
                free(ip->names[i]);
        free(ip->names);
        ip->names = NULL;
        ip->n_names = 0;
}

/* The names of the existing links a section names (links[].name). */
static int collect_names(InterfacesPlugin *ip, json_object *section) {
        json_object *a, *name;
        int k = 0;

        if (!json_object_object_get_ex(section, "links", &a) || !json_object_is_type(a, json_type_array))
                return 0;
        for (size_t i = 0; k >= 0 && i < json_object_array_length(a); i++)
                if (json_object_object_get_ex(json_object_array_get_idx(a, i), "name", &name) &&
                    json_object_is_type(name, json_type_string)) {
                        char **t;

                        k = if_ledger_add(&ip->names, &ip->n_names, json_object_get_string(name));
                        if (k < 0)
                                break;
                        t = realloc(ip->names, (ip->n_names + 1) * sizeof(char *));  /* NULL-terminated */
                        if (!t)
                                return -ENOMEM;
                        ip->names = t;
                        t[ip->n_names] = NULL;
                }
        return k;
}

static int interfaces_parse(Plugin *p, const StateDoc *doc, json_object *section, Diag *d) {
        InterfacesPlugin *ip = (InterfacesPlugin *) p;
        json_object *wg;
        int r;

        names_free(ip);
        r = if_parse(&ip->want, section, d);
        if (r < 0)
                return r == -ENOMEM ? r : -EINVAL;
        wg = state_doc_section(doc, "wireguard");
        if (wg) {
                r = if_parse_wireguard(&ip->want, wg, d);
                if (r < 0)
                        return r == -ENOMEM ? r : -EINVAL;
        }
        r = collect_names(ip, section);
        if (r >= 0)
                r = collect_names(ip, state_doc_applied_section(doc, "interfaces"));
        if (r < 0)
                return r;
        return section || ip->want.wg_present ? 1 : 0;
}

static char *ledger_path(InterfacesPlugin *ip) {
        char *path;

        return asprintf(&path, "%s/%s", ip->plugin.ctx->state_dir, IF_LEDGER) < 0 ? NULL : path;
}

int if_live_query(Rtnl **rtnl, const char *state_dir, const char *section, IfLive *ret, Diag *d) {
        _cleanup_(freep) char *ledger = NULL;
        int r;

        if_live_done(ret);
        if (asprintf(&ledger, "%s/%s", state_dir, IF_LEDGER) < 0)
                return -ENOMEM;
        if (!*rtnl) {
                r = rtnl_open(rtnl);
                if (r < 0) {
                        diag_error(d, section, "cannot talk to rtnetlink: %s", strerror(-r));
                        return r;
                }
        }
        r = if_ledger_load(ledger, &ret->ledger);
        if (r < 0) {
                diag_error(d, section, "cannot read %s: %s", ledger, strerror(-r));
                return r;
        }
        r = rtnl_dump_links(*rtnl, &ret->links, &ret->n_links);
        if (r >= 0)
                r = rtnl_dump_addresses(*rtnl, AF_UNSPEC, &ret->addrs, &ret->n_addrs);
        if (r >= 0)
                r = rtnl_dump_bridge_vlans(*rtnl, &ret->vlans, &ret->n_vlans);
        if (r < 0)
                diag_error(d, section, "cannot read the links, addresses and bridge VLANs: %s", strerror(-r));
        return r;
}

static int interfaces_query(Plugin *p, Diag *d) {
        InterfacesPlugin *ip = (InterfacesPlugin *) p;

        if_changes_done(&ip->changes);
        return if_live_query(&ip->rtnl, p->ctx->state_dir, "plugins.interfaces", &ip->live, d);
}

static int interfaces_diff(Plugin *p, Plan *plan, Diag *d) {
        InterfacesPlugin *ip = (InterfacesPlugin *) p;
        int r;

        if_changes_done(&ip->changes);
        r = if_diff(&ip->want, &ip->live, &ip->changes, plan, d);
        return r < 0 ? (r == -ENOMEM ? r : -EINVAL) : 0;
}

static int ifindex_of(Rtnl *rtnl, const char *name) {
        return rtnl_ifindex(rtnl, name);
}

/* A new link is made down and without its alias (the kernel ignores
 * one on creation); label_link() labels it and brings it up once the
 * other changes are sent (its addresses among them), in one request: a
 * link that comes up with its addresses in place costs the kernel less
 * than one that gets them while up (a third of the time of 200 macvlans
 * with an address each), and as many requests are sent. */
static int create_link(Rtnl *rtnl, const IfOp *op) {
        RtnlLinkSpec spec = {
                .kind = op->kind == IF_BRIDGE ? RTNL_LINK_BRIDGE : op->kind == IF_VLAN ? RTNL_LINK_VLAN :
                        op->kind == IF_WIREGUARD ? RTNL_LINK_WIREGUARD : RTNL_LINK_MACVLAN,
                .name = op->name,
                .vlan_id = op->vlan_id,
                .macvlan_mode = op->macvlan_mode,
                .mtu = op->mtu,
                .has_hwaddr = op->has_mac,
                .has_vlan_filtering = op->kind == IF_BRIDGE && op->vlan_filtering,
                .vlan_filtering = op->vlan_filtering,
        };

        memcpy(spec.hwaddr, op->mac, RTNL_HWADDR_LEN);
        if (op->kind == IF_VLAN || op->kind == IF_MACVLAN) {
                spec.link = ifindex_of(rtnl, op->other);
                if (spec.link < 0)
                        return spec.link;
        }
        return rtnl_create_link(rtnl, &spec);
}

static int label_link(Rtnl *rtnl, const IfOp *op) {
        RtnlLinkChange change = {
                .alias = IF_ALIAS,
                .admin = op->admin == RTNL_ADMIN_UP ? RTNL_ADMIN_UP : RTNL_ADMIN_KEEP,
        };
        int index = ifindex_of(rtnl, op->name);

        return index < 0 ? index : rtnl_set_link(rtnl, index, &change);
}

/* Sends one change and records in the ledger what it made or removed. */
static int send_op(Rtnl *rtnl, const IfOp *op, IfLedger *ledger) {
        char entry[RTNL_IFNAME_SIZE + 72];
        RtnlLinkChange change = {};
        RtnlAddr addr = op->addr;
        int index = 0, r;

        if (op->type != IF_CREATE_LINK) {
                index = ifindex_of(rtnl, op->name);
                /* a VLAN or macvlan goes with its parent: deleted already */
                if (index == -ENODEV && op->type == IF_DELETE_LINK)
                        index = 0;
                else if (index < 0)
                        return index;
        }
        snprintf(entry, sizeof entry, "%s %s", op->name, op->addr_text);
        switch (op->type) {
        case IF_DELETE_ADDRESS:
        case IF_ADD_ADDRESS:
                addr.ifindex = index;
                r = op->type == IF_ADD_ADDRESS ? rtnl_add_address(rtnl, &addr) : rtnl_delete_address(rtnl, &addr);
                if (r >= 0 && op->type == IF_ADD_ADDRESS)
                        r = if_ledger_add(&ledger->addresses, &ledger->n_addresses, entry);
                else if (r >= 0)
                        if_ledger_remove(ledger->addresses, &ledger->n_addresses, entry);
                return r;
        case IF_DELETE_LINK:
                r = index > 0 ? rtnl_delete_link(rtnl, index) : 0;
                if (r >= 0) {
                        size_t len = strlen(op->name);

                        if_ledger_remove(ledger->links, &ledger->n_links, op->name);
                        for (size_t i = ledger->n_addresses; i > 0; i--)
                                if (strncmp(ledger->addresses[i - 1], op->name, len) == 0 &&
                                    ledger->addresses[i - 1][len] == ' ')
                                        if_ledger_remove(ledger->addresses, &ledger->n_addresses,
                                                         ledger->addresses[i - 1]);
                }
                return r;
        case IF_CREATE_LINK:
                /* being made since record_creations() */
                r = create_link(rtnl, op);
                return r < 0 ? r : if_ledger_add(&ledger->links, &ledger->n_links, op->name);
        case IF_RELEASE_PORT:
                change.master = RTNL_NO_MASTER;
                return rtnl_set_link(rtnl, index, &change);
        case IF_ENSLAVE:
                change.admin = op->admin;
                change.master = ifindex_of(rtnl, op->other);
                return change.master < 0 ? change.master : rtnl_set_link(rtnl, index, &change);
        case IF_SET_VLAN:
                return rtnl_add_bridge_vlan(rtnl, &(RtnlBridgeVlan) { .ifindex = index, .self = op->self,
                                                                      .vid = op->vlan_id, .flags = op->vlan_flags });
        case IF_DELETE_VLAN:
                return rtnl_delete_bridge_vlan(rtnl, &(RtnlBridgeVlan) { .ifindex = index, .self = op->self,
                                                                         .vid = op->vlan_id });
        case IF_SET_LINK:
                change.mtu = op->mtu;
                change.admin = op->admin;
                change.has_hwaddr = op->has_mac;
                memcpy(change.hwaddr, op->mac, RTNL_HWADDR_LEN);
                change.alias = op->set_alias ? IF_ALIAS : NULL;
                r = rtnl_set_link(rtnl, index, &change);
                /* a link made by an apply that was stopped: now labelled */
                return r < 0 || !op->set_alias ? r : if_ledger_add(&ledger->links, &ledger->n_links, op->name);
        }
        return -EINVAL;
}

static const char *op_words(IfOpType t) {
        switch (t) {
        case IF_DELETE_ADDRESS: return "delete the address";
        case IF_DELETE_LINK:    return "delete";
        case IF_RELEASE_PORT:   return "take out of its bridge";
        case IF_CREATE_LINK:    return "create";
        case IF_SET_LINK:       return "change";
        case IF_ENSLAVE:        return "make a bridge port of";
        case IF_SET_VLAN:       return "set the VLAN of";
        case IF_DELETE_VLAN:    return "remove the VLAN of";
        case IF_ADD_ADDRESS:    return "add the address";
        }
        return "change";
}

/* The links this apply makes enter the ledger as being made, on disk,
 * before the first is sent: an op-router killed in the middle of them
 * leaves links that the next apply takes as its own (with the alias, or
 * without any: the alias is a second request) instead of refusing them as
 * someone else's. A name whose link was never made is dropped at the end
 * of the next apply that changes interfaces. */
static int record_creations(InterfacesPlugin *ip, const char *ledger, Diag *d) {
        IfLedger *l = &ip->live.ledger;
        bool any = false;
        int r;

        /* what a stopped apply made and labelled is made: in the ledger
         * (those it did not label are, once this apply labels them) */
        for (size_t i = 0; i < ip->live.n_links; i++) {
                const RtnlLink *link = &ip->live.links[i];

                if (streq(link->alias, IF_ALIAS) && if_ledger_creating(l, link->name)) {
                        r = if_ledger_add(&l->links, &l->n_links, link->name);
                        if (r < 0)
                                return r;
                        any = true;
                }
        }
        for (size_t i = 0; i < ip->changes.n_ops; i++)
                if (ip->changes.ops[i].type == IF_CREATE_LINK) {
                        r = if_ledger_add(&l->creating, &l->n_creating, ip->changes.ops[i].name);
                        if (r < 0)
                                return r;
                        any = true;
                }
        if (!any)
                return 0;
        r = if_ledger_save(ledger, l);
        if (r < 0)
                diag_error(d, "plugins.interfaces", "cannot write %s: %s", ledger,
                           strerror(-r));
        return r;
}

static int interfaces_apply(Plugin *p, ApplyCounts *counts, Diag *d) {
        InterfacesPlugin *ip = (InterfacesPlugin *) p;
        _cleanup_(freep) char *ledger = ledger_path(ip);
        unsigned before = rtnl_counts(ip->rtnl).writes;
        bool failed;
        size_t sent;
        int r = 0, k;

        if (!ledger)
                return -ENOMEM;
        r = record_creations(ip, ledger, d);
        if (r < 0)
                return r;
        for (sent = 0; sent < ip->changes.n_ops && r >= 0; sent++) {
                const IfOp *op = &ip->changes.ops[sent];

                r = send_op(ip->rtnl, op, &ip->live.ledger);
                if (r < 0 && (op->type == IF_SET_VLAN || op->type == IF_DELETE_VLAN))
                        diag_error(d, "plugins.interfaces", "the kernel refused to %s %s%s (VLAN %u, bridge %s): %s%s",
                                   op_words(op->type), op->name, op->self ? " itself" : "", op->vlan_id, op->other,
                                   strerror(-r), r == -EOPNOTSUPP ? " (this kernel has no bridge VLAN filtering: "
                                   "CONFIG_BRIDGE_VLAN_FILTERING)" : "");
                else if (r < 0)
                        diag_error(d, "plugins.interfaces", "the kernel refused to %s %s%s%s: %s%s", op_words(op->type),
                                   op->type == IF_ADD_ADDRESS || op->type == IF_DELETE_ADDRESS ? op->addr_text : op->name,
                                   op->type == IF_ADD_ADDRESS || op->type == IF_DELETE_ADDRESS ? " on " : "",
                                   op->type == IF_ADD_ADDRESS || op->type == IF_DELETE_ADDRESS ? op->name : "",
                                   strerror(-r),
                                   op->type == IF_CREATE_LINK && op->kind == IF_BRIDGE && op->vlan_filtering &&
                                   r == -EOPNOTSUPP ? " (a bridge with vlan_filtering: this kernel has no bridge VLAN "
                                   "filtering, CONFIG_BRIDGE_VLAN_FILTERING)" : "");
        }
        /* every link made is labelled, also after a failure: the rollback
         * takes it for op-router's and removes it */
        failed = r < 0;
        for (size_t i = 0; i < sent; i++) {
                const IfOp *op = &ip->changes.ops[i];

                if (op->type != IF_CREATE_LINK || (failed && i + 1 == sent))
                        continue;
                k = label_link(ip->rtnl, op);
                if (k < 0)
                        diag_error(d, "plugins.interfaces", "the kernel refused to label %s: %s", op->name,
                                   strerror(-k));
                RET_GATHER(r, k);
        }
        /* what was made is in the ledger, even when a later change failed:
         * the rollback removes it; nothing is being made any more */
        if_ledger_made(&ip->live.ledger);
        if (ip->changes.n_ops > 0) {
                k = if_ledger_save(ledger, &ip->live.ledger);
                if (k < 0)
                        diag_error(d, "plugins.interfaces", "cannot write %s: %s", ledger, strerror(-k));
                RET_GATHER(r, k);
        }
        apply_counts_write(counts, COUNT_RTNL_MESSAGES, rtnl_counts(ip->rtnl).writes - before);
        return r;
}

static int interfaces_live_to_json(Plugin *p, json_object **ret) {
        InterfacesPlugin *ip = (InterfacesPlugin *) p;

        return if_live_to_json(&ip->live, ip->names, ret);
}

static void interfaces_done(Plugin *p) {
        InterfacesPlugin *ip = (InterfacesPlugin *) p;

        if_config_done(&ip->want);
        names_free(ip);
        if_live_done(&ip->live);
        if_changes_done(&ip->changes);
        rtnl_close(ip->rtnl);
}

/* the WireGuard links are made here */
static const char *const interfaces_also_reads[] = { "wireguard", NULL };

const PluginVTable interfaces_plugin_vtable = {
        .name = "interfaces",
        .also_reads = interfaces_also_reads,
        .object_size = sizeof(InterfacesPlugin),
        .parse = interfaces_parse,
        .query = interfaces_query,
        .diff = interfaces_diff,
        .apply = interfaces_apply,
        .live_to_json = interfaces_live_to_json,
        .done = interfaces_done,
};
