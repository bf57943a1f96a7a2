/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The reconcile driver against two in-memory plugins whose "host" is a
 * JSON object: ordering, plan-empty invariant, verify, rollback, dry run,
 * checkpoints. */
#include <stdio.h>

#include "checkpoint.h"
#include "fileio.h"
#include "json-util.h"
#include "reconcile.h"
#include "tests.h"

/* The simulated host: per plugin, a map of item -> value. */
static json_object *host;
static char calls[1024];
/* Failure knobs. */
static const char *fail_apply_in;   /* apply writes, then fails */
static const char *corrupt_in;      /* apply writes a wrong value (verify fails) */
static const char *outage_in;       /* every change of this plugin cuts traffic off */

typedef struct KvPlugin {
        Plugin plugin;
        json_object *want;   /* items */
        json_object *have;
} KvPlugin;

static void record(const char *what, const Plugin *p) {
        size_t l = strlen(calls);

        snprintf(calls + l, sizeof calls - l, "%s%s:%s", l ? " " : "", what, p->vtable->name);
}

static json_object *host_items(const char *name) {
        json_object *o;

        if (!json_object_object_get_ex(host, name, &o)) {
                o = json_object_new_object();
                json_object_object_add(host, name, o);
        }
        return o;
}

static int kv_parse(Plugin *p, const StateDoc *doc, json_object *section, Diag *d) {
        KvPlugin *k = (KvPlugin *) p;
        json_object *items;

        if (!section)
                return 0;
        if (!json_object_object_get_ex(section, "items", &items)) {
                diag_error(d, "plugins.x.items", "required field is missing");
                return -EINVAL;
        }
        k->want = json_object_get(items);
        return 1;
}

static int kv_query(Plugin *p, Diag *d) {
        KvPlugin *k = (KvPlugin *) p;

        record("query", p);
        json_object_put(k->have);
        return json_copy(host_items(p->vtable->name), &k->have);
}

static int kv_diff(Plugin *p, Plan *plan, Diag *d) {
        KvPlugin *k = (KvPlugin *) p;

        int r = 0;

        if (!json_object_equal(k->want, k->have))
                r = plan_add(plan, p->vtable->name, ACTION_MODIFY, IMPACT_NONE, "items", "%s",
                             json_object_to_json_string(k->want));
        if (r >= 0 && plan->n_actions > 0 && outage_in && streq(outage_in, p->vtable->name))
                r = plan_set_outage(plan, "cut off everything of %s", p->vtable->name);
        return r;
}

static int kv_apply(Plugin *p, ApplyCounts *counts, Diag *d) {
        KvPlugin *k = (KvPlugin *) p;
        json_object *copy = NULL;

        record("apply", p);
        counts->commands++;
        json_copy(k->want, &copy);
        /* Each knob fires once, so the rollback itself succeeds. */
        if (corrupt_in && streq(corrupt_in, p->vtable->name)) {
                json_object_object_add(copy, "corrupt", json_object_new_int(1));
                corrupt_in = NULL;
        }
        json_object_object_add(host, p->vtable->name, copy);
        if (fail_apply_in && streq(fail_apply_in, p->vtable->name)) {
                fail_apply_in = NULL;
                return -EIO;
        }
        return 0;
}

static int kv_live_to_json(Plugin *p, json_object **ret) {
        KvPlugin *k = (KvPlugin *) p;
        json_object *o = json_object_new_object(), *items = NULL;

        json_copy(k->have, &items);
        json_object_object_add(o, "items", items);
        *ret = o;
        return 0;
}

static void kv_done(Plugin *p) {
        KvPlugin *k = (KvPlugin *) p;

        json_object_put(k->want);
        json_object_put(k->have);
}

#define KV_VTABLE(n, deps)                                                   \
        { .name = n, .after = deps, .object_size = sizeof(KvPlugin),         \
          .parse = kv_parse, .query = kv_query, .diff = kv_diff,             \
          .apply = kv_apply, .live_to_json = kv_live_to_json, .done = kv_done }

/* A restricted caller may name only the "file" of the applied state's items. */
static int kv_check_restricted(Plugin *p, json_object *applied, Diag *d) {
        KvPlugin *k = (KvPlugin *) p;
        json_object *items = NULL, *want = NULL, *have = NULL;

        record("check", p);
        if (!json_object_object_get_ex(k->want, "file", &want))
                return 0;
        if (applied && json_object_object_get_ex(applied, "items", &items))
                (void) json_object_object_get_ex(items, "file", &have);
        if (have && json_object_equal(want, have))
                return 0;
        diag_error(d, "plugins.first.items.file", "not the file of the applied state");
        return -EACCES;
}

static const PluginVTable vt_first = KV_VTABLE("first", NULL);
static const PluginVTable vt_second = KV_VTABLE("second", ((const char *const[]) { "first", NULL }));
/* Registered in the "wrong" order on purpose. */
static const PluginVTable *const vtables[] = { &vt_second, &vt_first };

static char state_dir[] = "/tmp/test-reconcile.XXXXXX";

static void setup(Reconciler *rc) {
        PluginContext ctx = { .state_dir = state_dir, .run_dir = state_dir, .timeout_ms = 1000 };

        reconciler_init(rc, &ctx);
        rc->lock_timeout_ms = 100;
        ASSERT_EQ(reconciler_register(rc, vtables, 2), 0);
        calls[0] = 0;
}

static StateDoc *doc(const char *text) {
        _cleanup_(diag_done) Diag d = {};
        StateDoc *s = NULL;

        ASSERT_EQ(state_doc_parse(text, strlen(text), "t", &s, &d), 0);
        return s;
}

static void apply(const char *text, ReconcileStatus expect, ReconcileResult *res) {
        _cleanup_(reconciler_done) Reconciler rc = {};
        _cleanup_(state_doc_freep) StateDoc *s = doc(text);
        ReconcileOptions o = { .record = true };

        setup(&rc);
        reconcile_apply(&rc, s, &o, res);
        if (res->status != expect) {
                diag_print(&res->diag, stderr, "  ");
                TEST_FAIL("status %s, expected %s", reconcile_status_to_string(res->status),
                          reconcile_status_to_string(expect));
        }
}

#define DOC_A "{\"first\": {\"items\": {\"a\": 1}}, \"second\": {\"items\": {\"b\": 2}}}"
#define DOC_B "{\"first\": {\"items\": {\"a\": 9}}, \"second\": {\"items\": {\"b\": 8}}}"

TEST(test_dependency_order_and_idempotence) {
        ReconcileResult res = {};

        apply(DOC_A, RECONCILE_OK, &res);
        /* first before second; second reads the host again after first
         * changed it; then verification re-queries both */
        ASSERT_STREQ(calls, "query:first query:second apply:first query:second apply:second "
                            "query:first query:second");
        ASSERT_EQ(res.plan.n_actions, 2);
        ASSERT_EQ(res.generation, 1);
        ASSERT_TRUE(res.changed);
        reconcile_result_done(&res);

        /* the plan after a successful apply is empty: nothing is applied */
        apply(DOC_A, RECONCILE_OK, &res);
        ASSERT_STREQ(calls, "query:first query:second");
        ASSERT_EQ(res.plan.n_actions, 0);
        ASSERT_EQ(res.counts.commands, 0);
        ASSERT_EQ(res.generation, 1);
        reconcile_result_done(&res);
}

TEST(test_apply_failure_rolls_back) {
        _cleanup_(json_object_putp) json_object *before = NULL;
        ReconcileResult res = {};

        json_copy(host, &before);
        fail_apply_in = "second";
        apply(DOC_B, RECONCILE_FAILED, &res);

        ASSERT_TRUE(res.rolled_back);
        ASSERT_EQ(res.error, -EIO);
        ASSERT_EQ(res.rollback_plan.n_actions, 2);
        ASSERT_TRUE(json_object_equal(host, before));
        /* the generation is unchanged and no checkpoint was recorded */
        ASSERT_EQ(res.generation, 1);
        {
                uint64_t latest;

                ASSERT_EQ(checkpoint_latest(state_dir, &latest), 0);
                ASSERT_EQ(latest, 1);
        }
        reconcile_result_done(&res);
}

TEST(test_verify_failure_rolls_back) {
        _cleanup_(json_object_putp) json_object *before = NULL;
        ReconcileResult res = {};
        bool found = false;

        json_copy(host, &before);
        corrupt_in = "first";
        apply(DOC_B, RECONCILE_FAILED, &res);

        ASSERT_TRUE(res.rolled_back);
        ASSERT_TRUE(json_object_equal(host, before));
        for (size_t i = 0; i < res.diag.n_entries; i++)
                found |= strstr(res.diag.entries[i].message, "verification failed") != NULL;
        ASSERT_TRUE(found);
        reconcile_result_done(&res);
}

TEST(test_dry_run_changes_nothing) {
        _cleanup_(reconciler_done) Reconciler rc = {};
        _cleanup_(state_doc_freep) StateDoc *s = doc(DOC_B);
        _cleanup_(json_object_putp) json_object *before = NULL;
        ReconcileOptions o = { .dry_run = true, .record = true };
        ReconcileResult res = {};

        json_copy(host, &before);
        setup(&rc);
        ASSERT_EQ(reconcile_apply(&rc, s, &o, &res), 0);
        ASSERT_EQ(res.plan.n_actions, 2);
        ASSERT_TRUE(res.dry_run);
        ASSERT_TRUE(json_object_equal(host, before));
        reconcile_result_done(&res);
}

TEST(test_invalid_and_unknown_sections) {
        ReconcileResult res = {};

        apply("{\"first\": {}, \"bogus\": {}}", RECONCILE_INVALID, &res);
        ASSERT_EQ(res.diag.n_entries, 2);
        ASSERT_STREQ(res.diag.entries[0].path, "bogus");
        ASSERT_CONTAINS(res.diag.entries[0].message, "expected one of: first, second");
        ASSERT_STREQ(calls, "");
        reconcile_result_done(&res);
}

TEST(test_plugin_filter_and_rollback_command) {
        _cleanup_(reconciler_done) Reconciler rc = {};
        ReconcileResult res = {};
        json_object *v;

        apply(DOC_B, RECONCILE_OK, &res);
        ASSERT_EQ(res.generation, 2);
        reconcile_result_done(&res);

        setup(&rc);
        ASSERT_EQ(reconcile_rollback(&rc, 0, false, &res), 0);
        ASSERT_EQ(res.generation, 3);
        ASSERT_TRUE(json_object_object_get_ex(host_items("first"), "a", &v));
        ASSERT_EQ(json_object_get_int(v), 1);
        reconcile_result_done(&res);
}

/* items.<key> of a section of the newest checkpoint; -1 when absent. */
static int checkpointed(const char *section, const char *key) {
        _cleanup_(json_object_putp) json_object *state = NULL;
        json_object *plugins, *sec, *items, *v;
        uint64_t latest = 0;

        ASSERT_EQ(checkpoint_latest(state_dir, &latest), 0);
        ASSERT_EQ(checkpoint_load(state_dir, latest, &state), 0);
        if (!json_object_object_get_ex(state, "plugins", &plugins) ||
            !json_object_object_get_ex(plugins, section, &sec) ||
            !json_object_object_get_ex(sec, "items", &items) ||
            !json_object_object_get_ex(items, key, &v))
                return -1;
        return json_object_get_int(v);
}

/* The applied state is section-wise cumulative: an apply replaces the
 * sections it applied and keeps the others, so that nothing an earlier
 * apply put on the host drops out of it. */
TEST(test_partial_applies_are_cumulative) {
        _cleanup_(reconciler_done) Reconciler rc = {};
        ReconcileResult res = {};

        apply(DOC_A, RECONCILE_OK, &res);
        reconcile_result_done(&res);
        ASSERT_EQ(checkpointed("first", "a"), 1);
        ASSERT_EQ(checkpointed("second", "b"), 2);

        /* a document without "second" leaves it in the applied state */
        apply("{\"first\": {\"items\": {\"a\": 5}}}", RECONCILE_OK, &res);
        reconcile_result_done(&res);
        ASSERT_EQ(checkpointed("first", "a"), 5);
        ASSERT_EQ(checkpointed("second", "b"), 2);

        /* a filter naming a section the document lacks changes nothing */
        {
                _cleanup_(state_doc_freep) StateDoc *s = doc("{\"first\": {\"items\": {\"a\": 6}}}");
                char *only[] = { (char *) "second", NULL };
                ReconcileOptions o = { .record = true, .only = only };

                setup(&rc);
                ASSERT_EQ(reconcile_apply(&rc, s, &o, &res), 0);
                ASSERT_EQ(res.plan.n_actions, 0);
                reconcile_result_done(&res);
        }
        ASSERT_EQ(checkpointed("first", "a"), 5);
        ASSERT_EQ(checkpointed("second", "b"), 2);

        /* re-applying the applied state (what a heal does) changes nothing */
        {
                _cleanup_(json_object_putp) json_object *state = NULL;
                _cleanup_(state_doc_freep) StateDoc *s = NULL;
                _cleanup_(diag_done) Diag d = {};
                ReconcileOptions o = {};
                uint64_t latest = 0;

                ASSERT_EQ(checkpoint_latest(state_dir, &latest), 0);
                ASSERT_EQ(checkpoint_load(state_dir, latest, &state), 0);
                ASSERT_EQ(state_doc_from_json(TAKE_PTR(state), "applied", &s, &d), 0);
                ASSERT_EQ(reconcile_apply(&rc, s, &o, &res), 0);
                ASSERT_EQ(res.plan.n_actions, 0);
                reconcile_result_done(&res);
        }
}

/* Spoils the state of the newest checkpoint, keeping the lines before it
 * (generation, digest, sections). */
static void spoil_newest_checkpoint(void) {
        _cleanup_(freep) char *buf = NULL;
        CheckpointInfo *list = NULL;
        size_t len, n = 0;
        char *p;
        FILE *f;

        ASSERT_EQ(checkpoint_list(state_dir, &list, &n), 0);
        ASSERT_TRUE(n > 0);
        ASSERT_EQ(read_full_file(list[n - 1].path, &buf, &len), 0);
        p = strstr(buf, "\"state\": ");
        ASSERT_TRUE(p);
        strcpy(p, "\"state\": {broken\n");
        f = fopen(list[n - 1].path, "w");
        ASSERT_TRUE(f);
        fputs(buf, f);
        fclose(f);
        checkpoint_info_array_free(list, n);
}

static bool has_message(const Diag *d, DiagLevel level, const char *needle);

/* An apply that replaces every section of the applied state keeps nothing
 * of it, so it does not read it back (the names of its sections are at
 * the start of the checkpoint); one that keeps a section does. */
TEST(test_apply_of_every_section_does_not_read_the_applied_state) {
        ReconcileResult res = {};
        uint64_t before = 0, after = 0;

        apply(DOC_A, RECONCILE_OK, &res);
        reconcile_result_done(&res);
        spoil_newest_checkpoint();
        apply(DOC_B, RECONCILE_OK, &res);
        ASSERT_TRUE(!has_message(&res.diag, DIAG_WARNING, "cannot be read"));
        reconcile_result_done(&res);
        ASSERT_EQ(checkpointed("first", "a"), 9);
        ASSERT_EQ(checkpointed("second", "b"), 8);

        /* unchanged: no new generation */
        ASSERT_EQ(checkpoint_latest(state_dir, &before), 0);
        apply(DOC_B, RECONCILE_OK, &res);
        reconcile_result_done(&res);
        ASSERT_EQ(checkpoint_latest(state_dir, &after), 0);
        ASSERT_EQ(after, before);

        /* "second" is kept from the applied state: it must be read */
        spoil_newest_checkpoint();
        apply("{\"first\": {\"items\": {\"a\": 3}}}", RECONCILE_OK, &res);
        ASSERT_TRUE(has_message(&res.diag, DIAG_WARNING, "cannot be read"));
        reconcile_result_done(&res);
}

static bool has_message(const Diag *d, DiagLevel level, const char *needle) {
        for (size_t i = 0; i < d->n_entries; i++)
                if (d->entries[i].level == level && strstr(d->entries[i].message, needle))
                        return true;
        return false;
}

/* An action that cuts traffic off is carried out only with allow_outage;
 * the rollback of a failed apply is never refused. */
TEST(test_outages_need_consent) {
        _cleanup_(json_object_putp) json_object *before = NULL;
        _cleanup_(reconciler_done) Reconciler rc = {};
        _cleanup_(state_doc_freep) StateDoc *s = doc("{\"first\": {\"items\": {\"a\": 77}}}");
        ReconcileOptions o = { .record = true };
        ReconcileResult res = {};
        uint64_t latest = 0, after = 0;

        json_copy(host, &before);
        (void) checkpoint_latest(state_dir, &latest);
        outage_in = "first";
        setup(&rc);

        /* the plan says so */
        o.dry_run = true;
        ASSERT_EQ(reconcile_apply(&rc, s, &o, &res), 0);
        ASSERT_TRUE(res.plan.actions[0].outage != NULL);
        ASSERT_TRUE(has_message(&res.diag, DIAG_WARNING, "apply refuses it without --allow-outage"));
        reconcile_result_done(&res);

        /* the apply is refused; nothing is touched */
        o.dry_run = false;
        calls[0] = 0;
        ASSERT_EQ(reconcile_apply(&rc, s, &o, &res), -EPERM);
        ASSERT_EQ(res.status, RECONCILE_INVALID);
        ASSERT_TRUE(has_message(&res.diag, DIAG_ERROR, "modify would cut off everything of first; refused"));
        ASSERT_TRUE(has_message(&res.diag, DIAG_ERROR, "--allow-outage"));
        ASSERT_EQ(strstr(calls, "apply:") == NULL, true);
        ASSERT_TRUE(json_object_equal(host, before));
        ASSERT_EQ(checkpoint_latest(state_dir, &after), 0);
        ASSERT_EQ(after, latest);
        reconcile_result_done(&res);

        /* with consent it is applied; the failed apply's rollback, which
         * cuts off as much, is carried out all the same */
        o.allow_outage = true;
        fail_apply_in = "first";
        ASSERT_EQ(reconcile_apply(&rc, s, &o, &res), -EIO);
        ASSERT_EQ(res.status, RECONCILE_FAILED);
        ASSERT_TRUE(json_object_equal(host, before));
        reconcile_result_done(&res);

        ASSERT_EQ(reconcile_apply(&rc, s, &o, &res), 0);
        ASSERT_EQ(res.status, RECONCILE_OK);
        ASSERT_EQ(res.generation, latest + 1);
        reconcile_result_done(&res);

        /* a rollback to the state before is an apply like any other */
        ASSERT_EQ(reconcile_rollback(&rc, 0, false, &res), -EPERM);
        ASSERT_EQ(res.status, RECONCILE_INVALID);
        reconcile_result_done(&res);
        ASSERT_EQ(reconcile_rollback(&rc, 0, true, &res), 0);
        ASSERT_TRUE(json_object_equal(host, before));
        reconcile_result_done(&res);
        outage_in = NULL;
}

TEST(test_restricted_caller_names_only_what_is_applied) {
        static const PluginVTable vt_checked = {
                .name = "first", .object_size = sizeof(KvPlugin), .parse = kv_parse,
                .check_restricted = kv_check_restricted, .query = kv_query, .diff = kv_diff,
                .apply = kv_apply, .live_to_json = kv_live_to_json, .done = kv_done,
        };
        static const PluginVTable *const checked[] = { &vt_checked, &vt_second };
        ReconcileResult res = {};

        apply("{\"first\": {\"items\": {\"file\": \"/etc/a\"}}, \"second\": {\"items\": {}}}", RECONCILE_OK, &res);
        reconcile_result_done(&res);

        for (int i = 0; i < 4; i++) {
                static const char *const docs[] = {
                        "{\"first\": {\"items\": {\"file\": \"/etc/b\"}}}",      /* not the applied file */
                        "{\"first\": {\"items\": {\"file\": \"/etc/a\", \"x\": 1}}}", /* the applied file */
                        "{\"second\": {\"items\": {\"file\": \"/etc/b\"}}}",     /* a plugin without the check */
                        "{\"first\": {\"items\": {\"file\": \"/etc/b\"}}}",      /* not restricted */
                };
                _cleanup_(reconciler_done) Reconciler rc = {};
                _cleanup_(state_doc_freep) StateDoc *s = doc(docs[i]);
                ReconcileOptions o = { .dry_run = true };

                setup(&rc);
                ASSERT_EQ(reconciler_register(&rc, checked, 2), 0);
                rc.ctx.restricted = i < 3;
                reconcile_plan(&rc, s, &o, &res);
                if (i == 0) {
                        /* Refused before anything was read. */
                        ASSERT_EQ(res.status, RECONCILE_INVALID);
                        ASSERT_EQ(res.error, -EACCES);
                        ASSERT_STREQ(calls, "check:first");
                        ASSERT_STREQ(res.diag.entries[0].path, "plugins.first.items.file");
                } else {
                        ASSERT_EQ(res.status, RECONCILE_OK);
                        ASSERT_STREQ(calls, i == 1 ? "check:first query:first" : i == 2 ? "query:second" : "query:first");
                }
                reconcile_result_done(&res);
        }

        /* A restricted caller never applies, whatever the document. */
        {
                _cleanup_(reconciler_done) Reconciler rc = {};
                _cleanup_(state_doc_freep) StateDoc *s = doc(DOC_A);
                ReconcileOptions o = { .record = true };

                setup(&rc);
                rc.ctx.restricted = true;
                reconcile_apply(&rc, s, &o, &res);
                ASSERT_EQ(res.status, RECONCILE_INVALID);
                ASSERT_EQ(res.error, -EACCES);
                ASSERT_STREQ(calls, "");
                reconcile_result_done(&res);
        }
}

TEST(test_lock_is_exclusive) {
        _cleanup_(reconciler_done) Reconciler rc = {};
        _cleanup_(state_doc_freep) StateDoc *s = doc(DOC_A);
        ReconcileOptions o = { .record = true };
        ReconcileResult res = {};
        char path[256];
        int fd = -1;

        snprintf(path, sizeof path, "%s/apply.lock", state_dir);
        ASSERT_EQ(lock_file_acquire(path, 0, &fd), 0);
        setup(&rc);
        reconcile_apply(&rc, s, &o, &res);
        ASSERT_EQ(res.status, RECONCILE_BUSY);
        ASSERT_CONTAINS(res.diag.entries[0].message, "another apply is running");
        close(fd);
        reconcile_result_done(&res);
}

int main(void) {
        ASSERT_TRUE(mkdtemp(state_dir));
        host = json_object_new_object();

        RUN(test_dependency_order_and_idempotence);
        RUN(test_apply_failure_rolls_back);
        RUN(test_verify_failure_rolls_back);
        RUN(test_dry_run_changes_nothing);
        RUN(test_invalid_and_unknown_sections);
        RUN(test_plugin_filter_and_rollback_command);
        RUN(test_partial_applies_are_cumulative);
        RUN(test_apply_of_every_section_does_not_read_the_applied_state);
        RUN(test_outages_need_consent);
        RUN(test_restricted_caller_names_only_what_is_applied);
        RUN(test_lock_is_exclusive);

        json_object_put(host);
        {
                char cmd[300];

                snprintf(cmd, sizeof cmd, "rm -rf '%s'", state_dir);
                return system(cmd) == 0 ? 0 : 1;
        }
}
