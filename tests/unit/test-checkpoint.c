/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <stdio.h>

#include "audit.h"
#include "checkpoint.h"
#include "json-util.h"
#include "tests.h"

static char dir[] = "/tmp/test-checkpoint.XXXXXX";

static size_t count_files(void) {
        char path[256];
        struct dirent *de;
        size_t n = 0;
        DIR *d;

        snprintf(path, sizeof path, "%s/checkpoints", dir);
        d = opendir(path);
        ASSERT_TRUE(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

TEST(test_save_prune_list_load) {
        CheckpointInfo *list = NULL;
        size_t n = 0;
        uint64_t latest;

        ASSERT_EQ(checkpoint_latest(dir, &latest), 0);
        ASSERT_EQ(latest, 0);

        for (int g = 1; g <= 7; g++) {
                _cleanup_(json_object_putp) json_object *s = json_object_new_object();

                json_object_object_add(s, "g", json_object_new_int(g));
                ASSERT_EQ(checkpoint_save(dir, (uint64_t) g, s, NULL, 5), 0);
        }
        /* only the newest five remain, and no temporary files */
        ASSERT_EQ(count_files(), 5);
        ASSERT_EQ(checkpoint_list(dir, &list, &n), 0);
        ASSERT_EQ(n, 5);
        ASSERT_EQ(list[0].generation, 3);
        ASSERT_EQ(list[4].generation, 7);
        ASSERT_TRUE(list[4].created && strlen(list[4].created) == 20);
        checkpoint_info_array_free(list, n);

        ASSERT_EQ(checkpoint_latest(dir, &latest), 0);
        ASSERT_EQ(latest, 7);

        {
                _cleanup_(json_object_putp) json_object *s = NULL;
                json_object *g;

                ASSERT_EQ(checkpoint_load(dir, 4, &s), 0);
                ASSERT_TRUE(json_object_object_get_ex(s, "g", &g));
                ASSERT_EQ(json_object_get_int(g), 4);
                ASSERT_EQ(checkpoint_load(dir, 1, &s), -ENOENT);
        }
}

/* A checkpoint is read as strictly as a state file: its state is applied
 * by a rollback. */
TEST(test_corrupt_checkpoint_is_reported) {
        static const char *const texts[] = {
                "{not json",
                "{\"generation\": 99, \"state\": {\"plugins\": {}, /* edited */ \"version\": 1}}",
                "{\"generation\": 99, \"state\": {\"version\": 1, \"plugins\": {},}}",
                "{\"generation\": 99, \"state\": {\"version\": 1, \"plugins\": {\"net\": {}}, \"plugins\": {}}}",
        };
        char path[256];

        snprintf(path, sizeof path, "%s/checkpoints/gen-%020d.json", dir, 99);
        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                json_object *s = NULL;
                FILE *f = fopen(path, "w");

                ASSERT_TRUE(f);
                fputs(texts[i], f);
                fclose(f);
                ASSERT_EQ(checkpoint_load(dir, 99, &s), -EBADMSG);
        }
        ASSERT_EQ(unlink(path), 0);
}

/* The names of a checkpoint's sections can be read without its state. */
TEST(test_sections_read_alone) {
        _cleanup_(json_object_putp) json_object *state = json_tokener_parse(
                "{\"version\": 1, \"plugins\": {\"net\": {\"bridges\": []}, \"openflow\": {}}}");
        char path[256];
        FILE *f;

        ASSERT_EQ(checkpoint_save(dir, 100, state, NULL, 5), 0);
        {
                _cleanup_(json_object_putp) json_object *names = NULL;

                ASSERT_EQ(checkpoint_load_sections(dir, 100, &names), 0);
                ASSERT_STREQ(json_object_to_json_string_ext(names, JSON_C_TO_STRING_PLAIN), "[\"net\",\"openflow\"]");
        }
        /* a checkpoint written before the names were: read in full */
        snprintf(path, sizeof path, "%s/checkpoints/gen-%020d.json", dir, 100);
        f = fopen(path, "w");
        ASSERT_TRUE(f);
        fputs("{\n  \"generation\": 100,\n  \"digest\": \"0000000000000001\",\n  \"state\": {\"version\": 1, \"plugins\": {}}\n}\n", f);
        fclose(f);
        {
                _cleanup_(json_object_putp) json_object *names = NULL;

                ASSERT_EQ(checkpoint_load_sections(dir, 100, &names), -EBADMSG);
        }
        ASSERT_EQ(unlink(path), 0);
}

/* The audit record: who, from what, why; the carried-out actions counted
 * per kind and the first AUDIT_ACTIONS_MAX named; stored with the
 * checkpoint and listed; the sections and digest still read alone. */
TEST(test_audit_record) {
        const ApplyOrigin origin = { .reason = "apply", .source = "/etc/x/state.json", .uid = 0, .pid = 42,
                                     .process = "tool" };
        _cleanup_(json_object_putp) json_object *state = json_tokener_parse("{\"version\": 1, \"plugins\": {\"a\": {}}}");
        _cleanup_(json_object_putp) json_object *record = NULL, *list = NULL;
        _cleanup_(plan_done) Plan plan = {};
        json_object *v, *c;
        uint64_t digest;

        for (int i = 0; i < AUDIT_ACTIONS_MAX + 3; i++)
                ASSERT_EQ(plan_add(&plan, "a", i % 2 ? ACTION_DELETE : ACTION_CREATE, IMPACT_NONE, "obj", "n %d", i), 0);
        ASSERT_EQ(plan_add(&plan, "a", ACTION_MODIFY, IMPACT_NONE, "held", "drift left alone"), 0);
        plan_hold_last(&plan);
        record = audit_record_new(&origin, &plan, 1);
        ASSERT_TRUE(record);
        ASSERT_STREQ(json_member_string(record, "reason"), "apply");
        ASSERT_STREQ(json_member_string(record, "source"), "/etc/x/state.json");
        ASSERT_STREQ(json_member_string(record, "process"), "tool");
        ASSERT_TRUE(json_object_object_get_ex(record, "changes", &c));
        ASSERT_STREQ(json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN), "{\"total\":23,\"create\":12,\"delete\":11}");
        ASSERT_TRUE(json_object_object_get_ex(record, "actions", &v));
        ASSERT_EQ(json_object_array_length(v), AUDIT_ACTIONS_MAX);
        ASSERT_STREQ(json_object_get_string(json_object_array_get_idx(v, 1)), "delete a obj: n 1");
        ASSERT_TRUE(json_object_object_get_ex(record, "more_actions", &v));
        ASSERT_EQ(json_object_get_int(v), 3);

        ASSERT_EQ(checkpoint_save(dir, 200, state, record, 5), 0);
        ASSERT_EQ(checkpoint_load_digest(dir, 200, &digest), 0);
        ASSERT_EQ(digest, checkpoint_digest(state));
        ASSERT_EQ(checkpoint_list_json(dir, &list), 0);
        v = json_object_array_get_idx(list, json_object_array_length(list) - 1);
        ASSERT_TRUE(json_object_object_get_ex(v, "record", &c));
        ASSERT_TRUE(json_object_equal(c, record));

        /* nothing known about the caller: only the reason */
        json_object_put(record);
        record = audit_record_new(NULL, NULL, 0);
        ASSERT_STREQ(json_object_to_json_string_ext(record, JSON_C_TO_STRING_PLAIN),
                     "{\"reason\":\"apply\",\"changes\":{\"total\":0},\"actions\":[]}");
}

/* The digest is the tree's: formatting does not matter, content does. */
TEST(test_digest) {
        static const char *const same[] = { "{\"a\": [1, \"x\", true, null], \"b\": {\"c\": 1.5}}",
                                            "{\"a\":[1,\"x\",true,null],\"b\":{\"c\":1.5}}" };
        static const char *const differ[] = {
                "{\"a\": [1, \"x\", true, null], \"b\": {\"c\": 2.5}}",
                "{\"a\": [\"1\", \"x\", true, null], \"b\": {\"c\": 1.5}}",
                "{\"a\": [1, \"x\", false, null], \"b\": {\"c\": 1.5}}",
                "{\"a\": [1, \"x\", true], \"b\": {\"c\": 1.5}}",
                "{\"ab\": [1, \"x\", true, null], \"\": {\"c\": 1.5}}",
                "{\"a\": 18446744073709551615}",
                "{\"a\": 18446744073709551614}",
        };
        uint64_t ref, seen[ELEMENTSOF(differ)];

        for (size_t i = 0; i < ELEMENTSOF(same); i++) {
                json_object *o = json_tokener_parse(same[i]);

                ASSERT_TRUE(o);
                if (i == 0)
                        ref = checkpoint_digest(o);
                ASSERT_EQ(checkpoint_digest(o), ref);
                json_object_put(o);
        }
        for (size_t i = 0; i < ELEMENTSOF(differ); i++) {
                json_object *o = json_tokener_parse(differ[i]);

                ASSERT_TRUE(o);
                seen[i] = checkpoint_digest(o);
                ASSERT_TRUE(seen[i] != ref);
                for (size_t k = 0; k < i; k++)
                        ASSERT_TRUE(seen[k] != seen[i]);
                json_object_put(o);
        }
}

/* prepare writes the pending checkpoint, which is no generation yet;
 * commit makes it one, discard removes it. */
TEST(test_prepare_commit_discard) {
        _cleanup_(json_object_putp) json_object *s = json_object_new_object(), *back = NULL;
        uint64_t latest = 0, before = 0, gen = 0, avail = 0, needed = 0;
        json_object *v;

        ASSERT_EQ(checkpoint_latest(dir, &before), 0);
        json_object_object_add(s, "pending", json_object_new_int(1));
        ASSERT_EQ(checkpoint_prepare(dir, before + 1, s, NULL, &avail, &needed), 0);
        ASSERT_TRUE(needed > CHECKPOINT_MARGIN && avail >= needed);
        ASSERT_EQ(checkpoint_latest(dir, &latest), 0);
        ASSERT_EQ(latest, before);
        ASSERT_EQ(checkpoint_load_pending(dir, &gen, &back), 0);
        ASSERT_EQ(gen, before + 1);
        ASSERT_TRUE(json_object_object_get_ex(back, "pending", &v));

        ASSERT_EQ(checkpoint_commit(dir, before + 1), 0);
        ASSERT_EQ(checkpoint_latest(dir, &latest), 0);
        ASSERT_EQ(latest, before + 1);
        ASSERT_EQ(checkpoint_load_pending(dir, &gen, &back), -ENOENT);

        ASSERT_EQ(checkpoint_prepare(dir, before + 2, s, NULL, &avail, &needed), 0);
        checkpoint_discard(dir);
        ASSERT_EQ(checkpoint_load_pending(dir, &gen, &back), -ENOENT);
        ASSERT_EQ(checkpoint_commit(dir, before + 2), -ENOENT);
        ASSERT_EQ(checkpoint_latest(dir, &latest), 0);
        ASSERT_EQ(latest, before + 1);
}

int main(void) {
        ASSERT_TRUE(mkdtemp(dir));
        RUN(test_save_prune_list_load);
        RUN(test_corrupt_checkpoint_is_reported);
        RUN(test_sections_read_alone);
        RUN(test_audit_record);
        RUN(test_digest);
        RUN(test_prepare_commit_discard);
        {
                char cmd[300];

                snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
                return system(cmd) == 0 ? 0 : 1;
        }
}
