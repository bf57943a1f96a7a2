/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>

#include "checkpoint.h"
#include "fileio.h"
#include "json-util.h"
#include "log.h"
#include "reconcile.h"
#include "strbuf.h"

#define LOCK_TIMEOUT_MS_DEFAULT (30 * 1000)

/* One instance per registered plugin, in dependency order, for one
 * document. Plugins filtered out by "only" have no instance. */
typedef struct Session {
        Plugin **plugins;
        bool *active;
        Plan *plans;        /* each plugin's actions, from its last diff */
        Diag *diags;        /* each plugin's warnings and notes from that diff */
        size_t n;
        bool allow_outage;  /* actions that cut traffic off may be carried out */
        const char *outage_hint; /* how a caller allows them (Product.allow_outage_hint) */
        StateDoc *merged;   /* what the applied state becomes: the applied state with
                             * the sections the document applies replaced */
        uint64_t base;      /* generation of the applied state it was built on (0: none) */
} Session;

static void session_done(Session *s) {
        for (size_t i = 0; i < s->n; i++) {
                plugin_free(s->plugins[i]);
                if (s->plans)
                        plan_done(&s->plans[i]);
                if (s->diags)
                        diag_done(&s->diags[i]);
        }
        free(s->plugins);
        free(s->active);
        free(s->plans);
        free(s->diags);
        state_doc_free(s->merged);
        *s = (Session) {};
}

/* Milliseconds since start (now_usec()), for the -v log. */
static double ms_since(uint64_t start) {
        return (double) (now_usec() - start) / 1000.0;
}

static size_t session_count_actions(const Session *s) {
        size_t n = 0;

        for (size_t i = 0; i < s->n; i++)
                n += plan_count_active(&s->plans[i]);
        return n;
}

/* Moves every plugin's actions and diff messages, in plugin order, to the
 * end of out and d. */
static int session_take_plans(Session *s, Plan *out, Diag *d) {
        int r;

        for (size_t i = 0; i < s->n; i++) {
                r = plan_move(out, &s->plans[i]);
                if (r >= 0)
                        r = diag_move(d, &s->diags[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static const char *const status_table[_RECONCILE_STATUS_MAX] = {
        [RECONCILE_OK] = "ok",
        [RECONCILE_INVALID] = "invalid",
        [RECONCILE_BUSY] = "busy",
        [RECONCILE_UNAVAILABLE] = "unavailable",
        [RECONCILE_FAILED] = "failed",
        [RECONCILE_ROLLBACK_FAILED] = "rollback-failed",
        [RECONCILE_DRIFT] = "drift",
};

const char *reconcile_status_to_string(ReconcileStatus s) {
        return s >= 0 && s < _RECONCILE_STATUS_MAX ? status_table[s] : NULL;
}

void reconciler_init(Reconciler *rc, const PluginContext *ctx) {
        *rc = (Reconciler) {
                .program = program_invocation_short_name,   /* until a product names it */
                .allow_outage_hint = "--allow-outage",
                .ctx = *ctx,
                .keep_checkpoints = CHECKPOINTS_KEEP_DEFAULT,
                .lock_timeout_ms = LOCK_TIMEOUT_MS_DEFAULT,
        };
}

void reconciler_done(Reconciler *rc) {
        plugin_registry_done(&rc->registry);
}

int reconciler_register(Reconciler *rc, const PluginVTable *const *vtables, size_t n) {
        plugin_registry_done(&rc->registry);
        return plugin_registry_init(&rc->registry, vtables, n);
}

int reconciler_use_product(Reconciler *rc, const Product *product) {
        rc->program = product->name;
        if (product->allow_outage_hint)
                rc->allow_outage_hint = product->allow_outage_hint;
        rc->placeholders = product->placeholders;
        rc->count_kinds = product->count_kinds;
        return reconciler_register(rc, product->plugins, product->n_plugins);
}

void reconcile_result_done(ReconcileResult *res) {
        plan_done(&res->plan);
        plan_done(&res->rollback_plan);
        diag_done(&res->diag);
        json_object_put(res->snapshot);
        *res = (ReconcileResult) {};
}

static int fail(ReconcileResult *res, ReconcileStatus status, int error) {
        res->status = status;
        if (res->error == 0)
                res->error = error < 0 ? error : -EINVAL;
        return res->error;
}

/* Every result reports the product's kinds of writes, even at 0. */
static void result_start(Reconciler *rc, ReconcileResult *res) {
        if (res->counts.n_kinds == 0 && res->counts.writes == 0 && res->counts.commands == 0)
                apply_counts_init(&res->counts, rc->count_kinds);
}

static bool name_selected(char **only, const char *name) {
        if (!only)
                return true;
        for (char **o = only; *o; o++)
                if (streq(*o, name))
                        return true;
        return false;
}

/* Reports plugin sections no registered plugin owns, and --plugin names
 * that are unknown. */
static int check_sections(Reconciler *rc, const StateDoc *doc, char **only, Diag *d) {
        _cleanup_(freep) char *names = plugin_registry_names(&rc->registry);
        int ret = 0;

        json_object_object_foreach(state_doc_plugins(doc), key, val) {
                _cleanup_(freep) char *path = doc->bare ? strdup(key) : state_section_path(key);

                if (plugin_registry_find(&rc->registry, key)) {
                        if (!val) { /* json-c reads null as a missing member */
                                _cleanup_(freep) char *sp = state_section_path(key);

                                diag_error(d, sp ?: key, "expected an object, got null");
                                ret = -EINVAL;
                        }
                        continue;
                }
                diag_error(d, path ?: key, "unknown plugin section, expected one of: %s", strna(names));
                ret = -EINVAL;
        }

        RET_GATHER(ret, reconcile_check_plugins(rc, only, d));
        return ret;
}

int reconcile_check_plugins(Reconciler *rc, char **only, Diag *d) {
        _cleanup_(freep) char *names = NULL;
        int ret = 0;

        for (char **o = only; o && *o; o++)
                if (!plugin_registry_find(&rc->registry, *o)) {
                        if (!names)
                                names = plugin_registry_names(&rc->registry);
                        diag_error(d, "", "unknown plugin \"%s\", expected one of: %s", *o, strna(names));
                        ret = -EINVAL;
                }
        return ret;
}

/* A caller who may only plan names no host file, path in a container or
 * server that the applied state does not name: each plugin compares its
 * section with the applied state's (the newest checkpoint; when there is
 * none or it cannot be read, nothing counts as named by it). */
static int session_check_restricted(Reconciler *rc, Session *s, Diag *d) {
        _cleanup_(json_object_putp) json_object *applied = NULL;
        json_object *plugins = NULL;
        uint64_t latest = 0;
        int ret = 0;

        if (checkpoint_latest(rc->ctx.state_dir, &latest) >= 0 && latest > 0 &&
            checkpoint_load(rc->ctx.state_dir, latest, &applied) >= 0)
                (void) json_object_object_get_ex(applied, "plugins", &plugins);
        if (!json_object_is_type(plugins, json_type_object))
                plugins = NULL;
        for (size_t i = 0; i < s->n; i++) {
                const PluginVTable *vt = rc->registry.sorted[i];
                json_object *section = NULL;

                if (!s->active[i] || !vt->check_restricted)
                        continue;
                if (plugins)
                        (void) json_object_object_get_ex(plugins, vt->name, &section);
                RET_GATHER(ret, vt->check_restricted(s->plugins[i], section, d));
        }
        log_debug("check of what a restricted caller names: %s", ret < 0 ? "refused" : "passed");
        return ret;
}

/* Whether the apply replaces every section of generation latest: then
 * none of it is kept, and it need not be read (the names of the sections
 * are at the start of its file). */
static bool replaces_all(Reconciler *rc, const StateDoc *doc, char **only, uint64_t latest) {
        _cleanup_(json_object_putp) json_object *names = NULL;

        if (checkpoint_load_sections(rc->ctx.state_dir, latest, &names) < 0)
                return false;
        for (size_t i = 0; i < json_object_array_length(names); i++) {
                const char *name = json_object_get_string(json_object_array_get_idx(names, i));

                if (!name || !name_selected(only, name) || !state_doc_section(doc, name))
                        return false;
        }
        return true;
}

/* The applied state of the newest generation as a document, or NULL (and
 * a warning when it exists but cannot be read; *ret_deferred when the
 * apply replaces all of it, which is then not read). */
static int load_applied(Reconciler *rc, const StateDoc *doc, char **only, uint64_t *ret_latest, StateDoc **ret,
                        bool *ret_deferred, Diag *d) {
        _cleanup_(diag_done) Diag scratch = {};
        json_object *state = NULL;
        int r;

        *ret = NULL;
        *ret_deferred = false;
        r = checkpoint_latest(rc->ctx.state_dir, ret_latest);
        if (r < 0) {
                *ret_latest = 0;
                diag_warning(d, "", "cannot read the applied state in %s (%s): the document is taken on its own",
                             rc->ctx.state_dir, strerror(-r));
                return 0;
        }
        if (*ret_latest == 0)
                return 0;
        if (replaces_all(rc, doc, only, *ret_latest)) {
                *ret_deferred = true;
                return 0;
        }
        r = checkpoint_load(rc->ctx.state_dir, *ret_latest, &state);
        if (r >= 0)
                r = state_doc_from_json(state, "applied state", ret, &scratch);
        if (r < 0) {
                *ret = NULL;
                diag_warning(d, "", "the newest checkpoint (generation %" PRIu64 ") cannot be read (%s): the "
                             "document is taken on its own, and the next checkpoint holds only its sections",
                             *ret_latest, strerror(r == -EINVAL ? EBADMSG : -r));
        }
        return r == -ENOMEM ? r : 0;
}

/* The document this apply makes the applied state: the newest checkpoint
 * with the sections the apply applies replaced. A section is applied when
 * the document has it and the plugin filter (if any) selects it; every
 * other section of the newest checkpoint is kept as it is (and marked so),
 * so that what an earlier apply put on the host stays part of the applied
 * state until an apply of that section says otherwise. The document's
 * sections are shared, not copied. */
static int session_merge(Reconciler *rc, const StateDoc *doc, char **only, Session *s, Diag *d) {
        _cleanup_(state_doc_freep) StateDoc *merged = NULL;
        json_object *plugins;
        bool deferred;
        int r;

        r = load_applied(rc, doc, only, &s->base, &merged, &deferred, d);
        if (r < 0)
                return r;
        if (!merged) {
                r = state_doc_new_empty(doc->origin, &merged);
                if (r < 0)
                        return r;
        }
        merged->applied_generation = s->base;
        merged->applied_deferred = deferred;
        if (deferred) {
                merged->applied_dir = strdup(rc->ctx.state_dir);
                if (!merged->applied_dir)
                        return -ENOMEM;
        }
        merged->bare = doc->bare;

        /* A copy of the object, sharing the sections. */
        plugins = state_doc_plugins(merged);
        merged->applied = json_object_new_object();
        if (!merged->applied)
                return -ENOMEM;
        json_object_object_foreach(plugins, key, val)
                if (json_object_object_add(merged->applied, key, json_object_get(val)) < 0)
                        return -ENOMEM;

        json_object_object_foreach(state_doc_plugins(doc), name, section) {
                if (!name_selected(only, name))
                        continue;
                r = state_doc_set_section(merged, name, json_object_get(section));
                if (r < 0)
                        return r;
        }
        s->merged = TAKE_PTR(merged);
        return 0;
}

/* A section the apply keeps is checked with the others, since what the
 * apply changes can break it (a bridge it names is deleted, a port it
 * sends to is gone). Its errors say where it comes from and how to
 * change it; its warnings were given when it was applied. */
static int parse_kept(Session *s, size_t i, const StateDoc *doc, Diag *d) {
        Plugin *p = s->plugins[i];
        const char *name = p->vtable->name;
        _cleanup_(diag_done) Diag scratch = {};
        int r;

        r = p->vtable->parse(p, s->merged, state_doc_section(s->merged, name), &scratch);
        for (size_t k = 0; k < scratch.n_entries; k++) {
                if (scratch.entries[k].level != DIAG_ERROR)
                        continue;
                if (state_doc_section(doc, name))
                        diag_error(d, scratch.entries[k].path, "%s; plugins.%s is kept from the applied state "
                                   "(generation %" PRIu64 ") because --plugin leaves the document's %s section "
                                   "out: to change it, apply that section too (--plugin %s), for example without "
                                   "this or empty", scratch.entries[k].message, name, s->base, name, name);
                else
                        diag_error(d, scratch.entries[k].path, "%s; plugins.%s is kept from the applied state "
                                   "(generation %" PRIu64 ") because the document has no %s section: to change "
                                   "it, include one, for example without this or an empty one",
                                   scratch.entries[k].message, name, s->base, name);
        }
        log_debug("validate %s: %s", name, r < 0 ? "kept from the applied state, invalid" :
                  "kept from the applied state, left alone");
        return MIN(r, 0);
}

/* Is the plugin's section kept from the applied state, and none of the
 * other sections it acts on applied by this document? */
static bool plugin_kept(const StateDoc *merged, const PluginVTable *vt) {
        if (!state_doc_section_kept(merged, vt->name))
                return false;
        for (const char *const *o = vt->also_reads; o && *o; o++)
                if (state_doc_section(merged, *o) && !state_doc_section_kept(merged, *o))
                        return false;
        return true;
}

/* Validates the document as part of the applied state it makes: each
 * plugin parses the merged document, so references across sections are
 * checked against what the applied state will be. The plugins of the
 * sections the apply applies take part; those of kept sections are only
 * checked (with check_kept), never queried or applied. */
static int session_parse(Reconciler *rc, const StateDoc *doc, char **only, bool check_kept, Session *s, Diag *d) {
        uint64_t start = now_usec();
        int r, ret;

        ret = check_sections(rc, doc, only, d);
        if (state_doc_check_placeholders(doc, rc->placeholders, d) > 0)
                ret = -EINVAL;

        s->n = rc->registry.n;
        s->outage_hint = rc->allow_outage_hint;
        s->plugins = calloc(s->n + 1, sizeof(Plugin *));
        s->active = calloc(s->n + 1, sizeof(bool));
        s->plans = calloc(s->n + 1, sizeof(Plan));
        s->diags = calloc(s->n + 1, sizeof(Diag));
        if (!s->plugins || !s->active || !s->plans || !s->diags)
                return -ENOMEM;
        r = session_merge(rc, doc, only, s, d);
        if (r < 0)
                return r;

        for (size_t i = 0; i < s->n; i++) {
                const PluginVTable *vt = rc->registry.sorted[i];
                bool kept = plugin_kept(s->merged, vt);

                if (kept ? !check_kept : !name_selected(only, vt->name))
                        continue;
                r = plugin_new(vt, &rc->ctx, &s->plugins[i]);
                if (r < 0)
                        return r;
                if (kept) {
                        RET_GATHER(ret, parse_kept(s, i, doc, d));
                        continue;
                }
                r = vt->parse(s->plugins[i], s->merged, state_doc_section(s->merged, vt->name), d);
                if (r < 0)
                        RET_GATHER(ret, r);
                s->active[i] = r > 0;
                log_debug("validate %s: %s", vt->name, r < 0 ? "invalid" : r > 0 ? "takes part" : "no section, left alone");
        }
        if (ret >= 0 && rc->ctx.restricted)
                ret = session_check_restricted(rc, s, d);
        log_debug("validate: %s in %.1f ms", ret < 0 ? "invalid" : "valid", ms_since(start));
        return ret;
}

/* Lets the active plugins from index first on send their slow requests. */
static void session_prefetch(Session *s, size_t first) {
        for (size_t i = first; i < s->n; i++)
                if (s->active[i] && s->plugins[i]->vtable->prefetch)
                        s->plugins[i]->vtable->prefetch(s->plugins[i]);
}

/* Plugin i reads the live state; a failure is reported with its name. */
static int session_query_one(Session *s, size_t i, Diag *d) {
        Plugin *p = s->plugins[i];
        uint64_t start = now_usec();
        int r;

        r = p->vtable->query(p, d);
        if (r < 0)
                diag_error(d, "", "%s: cannot read the live state: %s", p->vtable->name, strerror(-r));
        log_debug("query %s: %s in %.1f ms", p->vtable->name, r < 0 ? "failed" : "read", ms_since(start));
        return r;
}

static int session_query(Session *s, Diag *d) {
        session_prefetch(s, 0);
        for (size_t i = 0; i < s->n; i++) {
                int r;

                if (!s->active[i])
                        continue;
                r = session_query_one(s, i, d);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Actions that cut traffic off (the plugin says which, and what they cut)
 * are carried out only with the caller's consent. Without it each is
 * reported, as an error when refusing or as a warning on a plan; returns
 * how many there are. */
static size_t report_outages(const Plan *plan, const char *hint, bool refuse, Diag *d) {
        size_t n = 0;

        for (size_t i = 0; i < plan->n_actions; i++) {
                const PlanAction *a = &plan->actions[i];

                if (a->held || !a->outage)
                        continue;
                n++;
                if (refuse)
                        diag_error(d, a->path, "%s would %s; refused, nothing was changed (to accept the outage: %s)",
                                   action_kind_to_string(a->kind), a->outage, hint);
                else
                        diag_warning(d, a->path, "%s would %s; apply refuses it without %s",
                                     action_kind_to_string(a->kind), a->outage, hint);
        }
        return n;
}

static size_t session_report_outages(const Session *s, bool refuse, Diag *d) {
        size_t n = 0;

        for (size_t i = 0; i < s->n; i++)
                if (s->active[i])
                        n += report_outages(&s->plans[i], s->outage_hint, refuse, d);
        return n;
}

/* Plugin i's diff into its own plan and messages, replacing the last. */
static int session_diff_one(Session *s, size_t i) {
        int r;

        plan_done(&s->plans[i]);
        diag_done(&s->diags[i]);
        r = s->plugins[i]->vtable->diff(s->plugins[i], &s->plans[i], &s->diags[i]);
        log_debug("diff %s: %zu action%s", s->plugins[i]->vtable->name, plan_count_active(&s->plans[i]),
                  plan_count_active(&s->plans[i]) == 1 ? "" : "s");
        return r;
}

/* Every active plugin's diff. */
static int session_diff(Session *s) {
        int ret = 0;

        for (size_t i = 0; i < s->n; i++)
                if (s->active[i])
                        RET_GATHER(ret, session_diff_one(s, i));
        return ret;
}

/* "ovsdb_ops 2, flow_mods 0": the writes of each kind since before. */
static char *counts_since(const ApplyCounts *now, const ApplyCounts *before) {
        _cleanup_(strbuf_done) StrBuf b = {};

        for (size_t k = 0; k < now->n_kinds; k++)
                strbuf_printf(&b, "%s%s %u", k ? ", " : "", now->kinds[k].kind,
                              now->kinds[k].n - apply_counts_get(before, now->kinds[k].kind));
        return b.len > 0 ? strbuf_take(&b) : strdup("none by kind");
}

/* The test aid "<plugin>:stop": after that plugin's apply, the process
 * stops itself (SIGSTOP) and, once continued, goes on to the next plugin
 * and the verification; a test changes the host in between. */
static bool fault_stops(const char *fault, const char *name) {
        size_t n = strlen(name);

        return strncmp(fault, name, n) == 0 && streq(fault + n, ":stop");
}

/* Applies plugin by plugin in dependency order. Once a plugin has changed
 * the host, every later plugin reads the host again and recomputes its
 * plan before applying: it may depend on what was just created (objects in
 * something an earlier plugin just made).
 *
 * fault: name of a plugin after whose apply a failure is simulated (the
 * programs' test aid, Reconciler.fault_after; never during a rollback),
 * or NULL. */
static int session_apply(Session *s, const char *fault, ApplyCounts *counts, Diag *d) {
        bool changed = false;

        for (size_t i = 0; i < s->n; i++) {
                Plugin *p = s->plugins[i];
                ApplyCounts before;
                uint64_t start;
                int r;

                if (!s->active[i])
                        continue;
                if (changed) {
                        start = now_usec();
                        r = p->vtable->query(p, d);
                        log_debug("query %s again, after the changes before it: %s in %.1f ms", p->vtable->name,
                                  r < 0 ? "failed" : "read", ms_since(start));
                        if (r >= 0)
                                r = session_diff_one(s, i);
                        if (r < 0) {
                                (void) diag_move(d, &s->diags[i]);
                                diag_error(d, "", "%s: cannot plan after the changes before it: %s",
                                           p->vtable->name, strerror(-r));
                                return r;
                        }
                }
                if (plan_count_active(&s->plans[i]) == 0)
                        continue;
                /* Planned again after earlier plugins changed the host: the
                 * consent rule holds for what the new plan does too. */
                if (!s->allow_outage && report_outages(&s->plans[i], s->outage_hint, true, d) > 0)
                        return -EPERM;
                changed = true;
                before = *counts;
                start = now_usec();
                r = p->vtable->apply(p, counts, d);
                if (log_get_max_level() >= LOG_DEBUG) {
                        _cleanup_(freep) char *kinds = counts_since(counts, &before);

                        log_debug("apply %s: %zu action%s, %u writes (%s), %u commands, %s in %.1f ms",
                                  p->vtable->name, plan_count_active(&s->plans[i]),
                                  plan_count_active(&s->plans[i]) == 1 ? "" : "s", counts->writes - before.writes,
                                  strna(kinds), counts->commands - before.commands, r < 0 ? "failed" : "done",
                                  ms_since(start));
                }
                if (r < 0) {
                        diag_error(d, "", "%s: apply failed: %s", p->vtable->name, strerror(-r));
                        return r;
                }
                /* Test aid: fail after a plugin has written its changes. */
                if (fault && streq(fault, p->vtable->name)) {
                        diag_error(d, "", "%s: fault injected after apply", p->vtable->name);
                        return -EIO;
                }
                if (fault && fault_stops(fault, p->vtable->name))
                        (void) raise(SIGSTOP);
        }
        return 0;
}

/* Re-reads the live state of every active plugin from index first on:
 * its plan must now be empty and its health check must pass. Plugins
 * before the first one that changed anything were read just before the
 * apply and nothing in it touched them. */
static int session_verify(Session *s, size_t first, Diag *d) {
        _cleanup_(plan_done) Plan again = {};
        uint64_t start = now_usec();
        int r;

        session_prefetch(s, first);
        for (size_t i = first; i < s->n; i++) {
                Plugin *p = s->plugins[i];
                _cleanup_(diag_done) Diag scratch = {};

                if (!s->active[i])
                        continue;
                r = session_query_one(s, i, d);
                if (r < 0)
                        return r;
                /* The plan's warnings were reported already; only errors count here. */
                r = p->vtable->diff(p, &again, &scratch);
                for (size_t k = 0; k < scratch.n_entries; k++)
                        if (scratch.entries[k].level == DIAG_ERROR)
                                diag_error(d, scratch.entries[k].path, "%s", scratch.entries[k].message);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < again.n_actions; i++)
                if (!again.actions[i].held)
                        diag_error(d, again.actions[i].path, "verification failed: still needs %s (%s)",
                                   action_kind_to_string(again.actions[i].kind), again.actions[i].detail);
        if (plan_count_active(&again) > 0) {
                log_debug("verify: %zu action%s still needed after %.1f ms", plan_count_active(&again),
                          plan_count_active(&again) == 1 ? "" : "s", ms_since(start));
                return -EIO;
        }

        for (size_t i = first; i < s->n; i++) {
                Plugin *p = s->plugins[i];

                if (!s->active[i] || !p->vtable->verify)
                        continue;
                r = p->vtable->verify(p, d);
                if (r < 0)
                        return r;
        }
        log_debug("verify: the host matches, in %.1f ms", ms_since(start));
        return 0;
}

/* Index of the first plugin with something to do (s->n if none). */
static size_t session_first_change(const Session *s) {
        for (size_t i = 0; i < s->n; i++)
                if (s->active[i] && plan_count_active(&s->plans[i]) > 0)
                        return i;
        return s->n;
}

/* The owned live state of the active plugins, as a document. With
 * deferred set, plugins whose snapshot is the newest checkpoint are
 * skipped (complete_snapshot adds them if a rollback needs them). */
static int session_snapshot(Session *s, bool deferred, StateDoc **ret) {
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;
        int r;

        r = state_doc_new_empty("snapshot", &doc);
        if (r < 0)
                return r;

        for (size_t i = 0; i < s->n; i++) {
                Plugin *p = s->plugins[i];
                json_object *section = NULL;

                if (!s->active[i] || p->vtable->snapshot_from_checkpoint != deferred)
                        continue;
                r = p->vtable->live_to_json(p, &section);
                if (r < 0)
                        return r;
                if (!section)
                        continue;
                r = state_doc_set_section(doc, p->vtable->name, section);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(doc);
        return 0;
}

/* Adds the deferred sections to the snapshot before a rollback. */
static int complete_snapshot(Session *s, StateDoc *snapshot) {
        _cleanup_(state_doc_freep) StateDoc *rest = NULL;
        int r;

        r = session_snapshot(s, true, &rest);
        if (r < 0)
                return r;
        json_object_object_foreach(state_doc_plugins(rest), key, val) {
                r = state_doc_set_section(snapshot, key, json_object_get(val));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int take_lock(Reconciler *rc, int *ret_fd, ReconcileResult *res) {
        _cleanup_(freep) char *path = NULL;
        uint64_t start;
        int r;

        r = mkdir_p(rc->ctx.run_dir, 0755);
        if (r < 0) {
                diag_error(&res->diag, "", "cannot create run directory %s: %s", rc->ctx.run_dir, strerror(-r));
                return fail(res, RECONCILE_UNAVAILABLE, r);
        }
        if (asprintf(&path, "%s/apply.lock", rc->ctx.run_dir) < 0)
                return fail(res, RECONCILE_UNAVAILABLE, -ENOMEM);

        start = now_usec();
        r = lock_file_acquire(path, rc->lock_timeout_ms, ret_fd);
        log_debug("lock %s: %s after %.1f ms", path, r < 0 ? "not taken" : "taken", ms_since(start));
        if (r == -EBUSY) {
                diag_error(&res->diag, "", "another apply is running (%s is locked); gave up after %d ms",
                           path, rc->lock_timeout_ms);
                return fail(res, RECONCILE_BUSY, r);
        }
        if (r < 0) {
                diag_error(&res->diag, "", "cannot lock %s: %s", path, strerror(-r));
                return fail(res, RECONCILE_UNAVAILABLE, r);
        }
        return 0;
}

/* Validate, optionally lock, query and diff into res->plan. */
static int session_prepare(Reconciler *rc, const StateDoc *doc, const ReconcileOptions *o,
                           bool lock, Session *s, int *lock_fd, ReconcileResult *res) {
        _cleanup_(diag_done) Diag parsed = {};
        int r;

        r = session_parse(rc, doc, o->only, true, s, &parsed);
        if (r < 0) {
                (void) diag_move(&res->diag, &parsed);
                return fail(res, RECONCILE_INVALID, r);
        }

        if (lock) {
                uint64_t latest = 0;

                r = take_lock(rc, lock_fd, res);
                if (r < 0)
                        return r;
                (void) checkpoint_latest(rc->ctx.state_dir, &latest);
                if (o->applied_generation && latest != *o->applied_generation) {
                        diag_error(&res->diag, "", "the applied state changed (generation %" PRIu64 " to %" PRIu64
                                   ") while this waited for the lock", *o->applied_generation, latest);
                        return fail(res, RECONCILE_BUSY, -ESTALE);
                }
                /* Another apply came first: the document now joins its state. */
                if (latest != s->base) {
                        diag_done(&parsed);
                        session_done(s);
                        r = session_parse(rc, doc, o->only, true, s, &parsed);
                        if (r < 0) {
                                (void) diag_move(&res->diag, &parsed);
                                return fail(res, RECONCILE_INVALID, r);
                        }
                }
        }
        r = diag_move(&res->diag, &parsed);
        if (r < 0)
                return fail(res, RECONCILE_UNAVAILABLE, r);
        s->allow_outage = o->allow_outage;

        r = session_query(s, &res->diag);
        if (r < 0)
                return fail(res, RECONCILE_UNAVAILABLE, r);

        r = session_diff(s);
        if (r < 0) {
                (void) session_take_plans(s, &res->plan, &res->diag);
                return fail(res, RECONCILE_INVALID, r);
        }
        return 0;
}

int reconcile_validate(Reconciler *rc, const StateDoc *doc, const ReconcileOptions *o, ReconcileResult *res) {
        _cleanup_(session_done) Session s = {};
        int r;

        result_start(rc, res);

        r = session_parse(rc, doc, o->only, true, &s, &res->diag);
        if (r < 0)
                return fail(res, RECONCILE_INVALID, r);
        res->status = RECONCILE_OK;
        return 0;
}

int reconcile_plan(Reconciler *rc, const StateDoc *doc, const ReconcileOptions *o, ReconcileResult *res) {
        _cleanup_(session_done) Session s = {};
        int r;

        result_start(rc, res);

        res->dry_run = true;
        r = session_prepare(rc, doc, o, false, &s, NULL, res);
        if (r >= 0 && !o->allow_outage)
                (void) session_report_outages(&s, false, &res->diag);
        (void) session_take_plans(&s, &res->plan, &res->diag);
        if (r < 0)
                return r;
        (void) checkpoint_latest(rc->ctx.state_dir, &res->generation);
        res->status = RECONCILE_OK;
        return 0;
}

int reconcile_verify(Reconciler *rc, const StateDoc *doc, const ReconcileOptions *o, ReconcileResult *res) {
        _cleanup_(session_done) Session s = {};
        int r;

        result_start(rc, res);

        r = session_prepare(rc, doc, o, false, &s, NULL, res);
        (void) session_take_plans(&s, &res->plan, &res->diag);
        if (r < 0)
                return r;
        (void) checkpoint_latest(rc->ctx.state_dir, &res->generation);

        for (size_t i = 0; i < res->plan.n_actions; i++)
                diag_error(&res->diag, res->plan.actions[i].path, "differs: needs %s (%s)",
                           action_kind_to_string(res->plan.actions[i].kind), res->plan.actions[i].detail);
        if (res->plan.n_actions > 0)
                return fail(res, RECONCILE_DRIFT, -EIO);

        for (size_t i = 0; i < s.n; i++) {
                Plugin *p = s.plugins[i];

                if (!s.active[i] || !p->vtable->verify)
                        continue;
                r = p->vtable->verify(p, &res->diag);
                if (r < 0)
                        return fail(res, RECONCILE_DRIFT, r);
        }
        res->status = RECONCILE_OK;
        return 0;
}

/* Restores the snapshot taken before the apply. */
static int rollback_to_snapshot(Reconciler *rc, const StateDoc *snapshot, int cause, ReconcileResult *res) {
        _cleanup_(session_done) Session s = {};
        _cleanup_(diag_done) Diag d = {};
        size_t first = 0;
        int r;

        res->rolled_back = true;
        log_warning("Apply failed (%s); rolling back to the state before the apply.", strerror(-cause));

        /* Restored objects carry the generation of the state they return to. */
        (void) checkpoint_latest(rc->ctx.state_dir, &rc->ctx.generation);
        res->generation = rc->ctx.generation;

        /* The sections kept by the failed apply are not checked again:
         * they are not touched, and nothing may stop the way back. */
        rc->ctx.restoring = true;
        r = session_parse(rc, snapshot, NULL, false, &s, &d);
        /* Putting back the state from before is never refused. */
        s.allow_outage = true;
        if (r >= 0)
                r = session_query(&s, &d);
        if (r >= 0) {
                r = session_diff(&s);
                first = session_first_change(&s);
        }
        if (r >= 0)
                r = session_apply(&s, NULL, &res->counts, &d);
        (void) session_take_plans(&s, &res->rollback_plan, &d);
        if (r >= 0)
                r = session_verify(&s, first, &d);
        rc->ctx.restoring = false;

        for (size_t i = 0; i < d.n_entries; i++) {
                _cleanup_(freep) char *msg = strdup(d.entries[i].message);

                diag_add(&res->diag, d.entries[i].level, d.entries[i].path, "rollback: %s", strna(msg));
        }
        if (r < 0) {
                diag_error(&res->diag, "", "rollback failed: %s; the host may be partially changed", strerror(-r));
                return fail(res, RECONCILE_ROLLBACK_FAILED, cause);
        }
        return fail(res, RECONCILE_FAILED, cause);
}

/* A size in the units people read. */
static const char *format_bytes(uint64_t n, char buf[static 32]) {
        if (n >= 10u << 20)
                snprintf(buf, 32, "%" PRIu64 " MiB", n >> 20);
        else if (n >= 10u << 10)
                snprintf(buf, 32, "%" PRIu64 " KiB", n >> 10);
        else
                snprintf(buf, 32, "%" PRIu64 " bytes", n);
        return buf;
}

/* Writes the checkpoint the apply will store (not yet as a generation)
 * before anything is touched: a state directory that is read-only, full
 * or missing fails the apply while the host is as it was. */
static int prepare_checkpoint(Reconciler *rc, Session *s, ReconcileResult *res) {
        uint64_t avail = 0, needed = 0;
        char a[32], n[32];
        int r;

        _cleanup_(json_object_putp) json_object *record = audit_record_new(rc->origin, s->plans, s->n);

        if (!record)
                return fail(res, RECONCILE_UNAVAILABLE, -ENOMEM);
        r = checkpoint_prepare(rc->ctx.state_dir, s->base + 1, s->merged->root, record, &avail, &needed);
        if (r == -ENOSPC && needed > 0)
                diag_error(&res->diag, "", "the state directory %s has %s free, and this apply needs about %s there "
                           "(its checkpoint and %s's records); nothing was changed", rc->ctx.state_dir,
                           format_bytes(avail, a), format_bytes(needed, n), rc->program);
        else if (r < 0)
                diag_error(&res->diag, "", "cannot write the checkpoint of this apply in %s/checkpoints: %s; "
                           "nothing was changed", rc->ctx.state_dir, strerror(-r));
        if (r < 0)
                return fail(res, RECONCILE_UNAVAILABLE, r);
        log_debug("checkpoint: generation %" PRIu64 " prepared (%s free)", s->base + 1, format_bytes(avail, a));
        return 0;
}

/* Makes the prepared checkpoint the new generation: the apply is done. */
static int commit_checkpoint(Reconciler *rc, Session *s, ReconcileResult *res) {
        int r;

        r = checkpoint_commit(rc->ctx.state_dir, s->base + 1);
        if (r < 0) {
                diag_error(&res->diag, "", "the changes were verified, but their checkpoint cannot be stored in "
                           "%s/checkpoints: %s; rolling them back, since %s would not know what the host has",
                           rc->ctx.state_dir, strerror(-r), rc->program);
                return r;
        }
        res->generation = s->base + 1;
        log_debug("checkpoint: stored generation %" PRIu64, res->generation);
        r = checkpoint_prune(rc->ctx.state_dir, MAX(rc->keep_checkpoints, 1u));
        if (r < 0)
                diag_warning(&res->diag, "", "cannot remove old checkpoints in %s/checkpoints: %s",
                             rc->ctx.state_dir, strerror(-r));
        return 0;
}

/* An apply that changed nothing on the host may still change the applied
 * state (a section it applies differs in what makes no change, or is
 * new): stored as a new generation unless it equals the newest. */
static int record_unchanged(Reconciler *rc, Session *s, ReconcileResult *res) {
        _cleanup_(json_object_putp) json_object *record = NULL;
        json_object *merged = s->merged->root;
        uint64_t stored;
        int r;

        res->generation = s->base;
        if (s->base > 0 && checkpoint_load_digest(rc->ctx.state_dir, s->base, &stored) >= 0 &&
            stored == checkpoint_digest(merged)) {
                log_debug("checkpoint: the state is generation %" PRIu64 "'s, nothing stored", s->base);
                return 0;
        }
        record = audit_record_new(rc->origin, NULL, 0);
        if (!record)
                return fail(res, RECONCILE_UNAVAILABLE, -ENOMEM);
        r = checkpoint_save(rc->ctx.state_dir, s->base + 1, merged, record, rc->keep_checkpoints);
        if (r < 0) {
                diag_error(&res->diag, "", "the host matches, but the new applied state cannot be stored in "
                           "%s/checkpoints: %s; nothing was changed", rc->ctx.state_dir, strerror(-r));
                return fail(res, RECONCILE_UNAVAILABLE, r);
        }
        res->generation = s->base + 1;
        log_debug("checkpoint: stored generation %" PRIu64, res->generation);
        return 0;
}

/* Snapshot, apply, verify, store the checkpoint (with o->record); on
 * failure roll back to the snapshot. */
static int apply_changes(Reconciler *rc, Session *s, const ReconcileOptions *o, ReconcileResult *res) {
        _cleanup_(state_doc_freep) StateDoc *snapshot = NULL;
        size_t first;
        int r, k;

        r = session_snapshot(s, false, &snapshot);
        if (r >= 0 && o->keep_snapshot) {
                r = complete_snapshot(s, snapshot);
                if (r >= 0)
                        res->snapshot = json_object_get(snapshot->root);
        }
        if (r < 0) {
                diag_error(&res->diag, "", "cannot snapshot the live state: %s", strerror(-r));
                return fail(res, RECONCILE_UNAVAILABLE, r);
        }
        if (o->record) {
                r = prepare_checkpoint(rc, s, res);
                if (r < 0)
                        return r;
        }

        /* Objects carry the generation of the state they belong to: the
         * new one, or for a repair the applied state it puts back. */
        rc->ctx.generation = o->record ? s->base + 1 : s->base;
        res->generation = s->base;
        res->changed = true;

        first = session_first_change(s);
        r = session_apply(s, rc->fault_after, &res->counts, &res->diag);
        (void) session_take_plans(s, &res->plan, &res->diag);
        if (r >= 0)
                r = session_verify(s, first, &res->diag);
        if (r >= 0 && o->record)
                r = commit_checkpoint(rc, s, res);
        if (r >= 0)
                return 0;

        if (o->record)
                checkpoint_discard(rc->ctx.state_dir);
        k = complete_snapshot(s, snapshot);
        if (k < 0)
                diag_error(&res->diag, "", "cannot complete the snapshot: %s", strerror(-k));
        return rollback_to_snapshot(rc, snapshot, r, res);
}

int reconcile_apply(Reconciler *rc, const StateDoc *doc, const ReconcileOptions *o, ReconcileResult *res) {
        _cleanup_(session_done) Session s = {};
        _cleanup_(closep) int lock_fd = -EBADF;
        int r;

        result_start(rc, res);

        if (o->dry_run)
                return reconcile_plan(rc, doc, o, res);
        if (rc->ctx.restricted) {
                diag_error(&res->diag, "", "only root may change the host");
                return fail(res, RECONCILE_INVALID, -EACCES);
        }

        r = session_prepare(rc, doc, o, true, &s, &lock_fd, res);
        if (r < 0)
                return r;

        if (!o->allow_outage && session_report_outages(&s, true, &res->diag) > 0) {
                (void) session_take_plans(&s, &res->plan, &res->diag);
                return fail(res, RECONCILE_INVALID, -EPERM);
        }

        if (session_count_actions(&s) > 0) {
                r = apply_changes(rc, &s, o, res);
                if (r < 0)
                        return r;
        } else {
                /* Nothing to change; a caller that keeps the state from
                 * before (confirmed apply) still gets it. */
                if (o->keep_snapshot) {
                        _cleanup_(state_doc_freep) StateDoc *snapshot = NULL;

                        if (session_snapshot(&s, false, &snapshot) >= 0 && complete_snapshot(&s, snapshot) >= 0)
                                res->snapshot = json_object_get(snapshot->root);
                }
                (void) session_take_plans(&s, &res->plan, &res->diag);
                res->generation = s.base;
                if (o->record) {
                        r = record_unchanged(rc, &s, res);
                        if (r < 0)
                                return r;
                }
        }
        res->status = RECONCILE_OK;
        return 0;
}

int reconcile_rollback(Reconciler *rc, uint64_t to, bool allow_outage, ReconcileResult *res) {
        _cleanup_(json_object_putp) json_object *state = NULL;
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;
        CheckpointInfo *list = NULL;
        ReconcileOptions o = { .record = true, .allow_outage = allow_outage };
        uint64_t oldest = 0, newest = 0;
        size_t n = 0;
        char origin[64];
        int r;

        result_start(rc, res);

        r = checkpoint_list(rc->ctx.state_dir, &list, &n);
        if (r < 0) {
                diag_error(&res->diag, "", "cannot list checkpoints in %s: %s", rc->ctx.state_dir, strerror(-r));
                return fail(res, RECONCILE_UNAVAILABLE, r);
        }
        if (to == 0 && n >= 2)
                to = list[n - 2].generation;
        if (n > 0) {
                oldest = list[0].generation;
                newest = list[n - 1].generation;
        }
        checkpoint_info_array_free(list, n);
        if (to == 0) {
                diag_error(&res->diag, "", "there is no earlier checkpoint to roll back to (%zu stored)", n);
                return fail(res, RECONCILE_INVALID, -ENOENT);
        }

        r = checkpoint_load(rc->ctx.state_dir, to, &state);
        if (r == -ENOENT) {
                if (n == 0)
                        diag_error(&res->diag, "", "there is no checkpoint %" PRIu64 ": none is stored", to);
                else
                        diag_error(&res->diag, "", "there is no checkpoint %" PRIu64 ": the stored ones are %" PRIu64
                                   "..%" PRIu64 " (%s checkpoints lists them)", to, oldest, newest, rc->program);
                return fail(res, RECONCILE_INVALID, r);
        }
        if (r < 0) {
                diag_error(&res->diag, "", "checkpoint %" PRIu64 " cannot be loaded: %s", to, strerror(-r));
                return fail(res, RECONCILE_INVALID, r);
        }
        snprintf(origin, sizeof origin, "checkpoint %" PRIu64, to);
        r = state_doc_from_json(TAKE_PTR(state), origin, &doc, &res->diag);
        if (r < 0)
                return fail(res, RECONCILE_INVALID, r);

        diag_note(&res->diag, "", "rolling back to the state of generation %" PRIu64, to);
        /* The record names the checkpoint; the caller stays who asked. */
        ApplyOrigin by = rc->origin ? *rc->origin : (ApplyOrigin) { .uid = -1, .pid = -1 };
        const ApplyOrigin *saved = rc->origin;

        by.reason = "rollback";
        by.source = doc->origin;
        rc->origin = &by;
        r = reconcile_apply(rc, doc, &o, res);
        rc->origin = saved;
        return r;
}

int reconcile_applied_state(Reconciler *rc, StateDoc **ret, uint64_t *ret_generation, ReconcileResult *res) {
        _cleanup_(json_object_putp) json_object *state = NULL;
        uint64_t latest = 0;
        int r;

        result_start(rc, res);

        r = checkpoint_latest(rc->ctx.state_dir, &latest);
        *ret_generation = latest;
        if (r >= 0 && latest == 0)
                r = -ENOENT;
        if (r >= 0)
                r = checkpoint_load(rc->ctx.state_dir, latest, &state);
        if (r < 0) {
                diag_error(&res->diag, "", "no applied state to work from in %s", rc->ctx.state_dir);
                return fail(res, RECONCILE_INVALID, -ENOENT);
        }
        r = state_doc_from_json(TAKE_PTR(state), "applied state", ret, &res->diag);
        if (r < 0)
                return fail(res, RECONCILE_INVALID, r);
        return 0;
}

int reconcile_query(Reconciler *rc, char **only, json_object **ret, Diag *d) {
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;
        int r;

        r = reconcile_check_plugins(rc, only, d);
        if (r < 0)
                return r;
        r = state_doc_new_empty("query", &doc);
        if (r < 0)
                return r;

        for (size_t i = 0; i < rc->registry.n; i++) {
                const PluginVTable *vt = rc->registry.sorted[i];
                _cleanup_(plugin_freep) Plugin *p = NULL;
                json_object *section = NULL;

                if (!name_selected(only, vt->name))
                        continue;
                r = plugin_new(vt, &rc->ctx, &p);
                if (r < 0)
                        return r;
                r = vt->query(p, d);
                if (r < 0) {
                        diag_error(d, "", "%s: cannot read the live state: %s", vt->name, strerror(-r));
                        return r;
                }
                r = vt->live_to_json(p, &section);
                if (r < 0)
                        return r;
                if (!section)
                        continue; /* nothing of this plugin's on the host */
                r = state_doc_set_section(doc, vt->name, section);
                if (r < 0)
                        return r;
        }

        *ret = json_object_get(doc->root);
        return 0;
}

json_object *reconcile_result_to_json(const ReconcileResult *res) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "ok", json_object_new_boolean(res->status == RECONCILE_OK));
        json_object_object_add(o, "status", json_object_new_string(reconcile_status_to_string(res->status)));
        json_object_object_add(o, "generation", json_object_new_int64((int64_t) res->generation));
        json_object_object_add(o, "dry_run", json_object_new_boolean(res->dry_run));
        json_object_object_add(o, "changed", json_object_new_boolean(res->changed));
        json_object_object_add(o, "has_changes", json_object_new_boolean(res->plan.n_actions > 0));
        json_object_object_add(o, "changes", plan_to_json(&res->plan));
        json_object_object_add(o, "rolled_back", json_object_new_boolean(res->rolled_back));
        json_object_object_add(o, "rollback_changes", plan_to_json(&res->rollback_plan));
        json_object_object_add(o, "errors", diag_to_json(&res->diag, DIAG_ERROR));
        json_object_object_add(o, "warnings", diag_to_json(&res->diag, DIAG_WARNING));
        json_object_object_add(o, "notes", diag_to_json(&res->diag, DIAG_NOTE));
        json_object_object_add(o, "counts", apply_counts_to_json(&res->counts));
        return o;
}
