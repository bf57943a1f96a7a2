/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "checkpoint.h"
#include "json-util.h"
#include "state.h"
#include "strbuf.h"
#include "tests.h"

static StateDoc *parse_ok(const char *text) {
        _cleanup_(diag_done) Diag d = {};
        StateDoc *doc = NULL;

        if (state_doc_parse(text, strlen(text), "t.json", &doc, &d) < 0)
                TEST_FAIL("unexpected parse failure for %s", text);
        ASSERT_EQ(d.n_entries, 0);
        return doc;
}

static char *first_error(const char *text) {
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;

        ASSERT_TRUE(state_doc_parse(text, strlen(text), "t.json", &doc, &d) < 0);
        ASSERT_TRUE(d.n_entries > 0);
        return diag_entry_format(&d.entries[0]);
}

TEST(test_bare_equals_canonical) {
        _cleanup_(state_doc_freep) StateDoc *a = parse_ok("{\"net\": {\"bridges\": []}}");
        _cleanup_(state_doc_freep) StateDoc *b =
                parse_ok("{\"version\": 1, \"plugins\": {\"net\": {\"bridges\": []}}}");

        ASSERT_TRUE(a->bare);
        ASSERT_TRUE(!b->bare);
        ASSERT_TRUE(json_object_equal(a->root, b->root));
        ASSERT_TRUE(state_doc_section(a, "net"));
        ASSERT_TRUE(!state_doc_section(a, "lxc"));
}

TEST(test_version_rules) {
        _cleanup_(freep) char *e1 = first_error("{\"version\": 2, \"plugins\": {}}");
        _cleanup_(freep) char *e2 = first_error("{\"plugins\": {}}");
        _cleanup_(freep) char *e3 = first_error("{\"version\": 1, \"plugins\": [], \"x\": 1}");

        ASSERT_CONTAINS(e1, "version: 2 is out of range");
        ASSERT_CONTAINS(e2, "version: required field is missing");
        ASSERT_CONTAINS(e3, "x: unknown key");
}

TEST(test_syntax_error_position) {
        _cleanup_(freep) char *e = first_error("{\n  \"net\": {\n    \"bridges\": [,]\n  }\n}\n");

        /* line 3, column of the stray comma */
        ASSERT_CONTAINS(e, "t.json:3:");
        ASSERT_CONTAINS(e, "invalid JSON");
}

TEST(test_truncated_and_trailing) {
        _cleanup_(freep) char *e1 = first_error("{\"net\": {");
        _cleanup_(freep) char *e2 = first_error("{} {}");
        _cleanup_(freep) char *e3 = first_error("[]");

        ASSERT_CONTAINS(e1, "t.json:1:10: invalid JSON: the text ends inside an object");
        ASSERT_CONTAINS(e2, "t.json:1:4");
        ASSERT_CONTAINS(e3, "expected an object");
}

/* Parse errors name the path as the canonical form reads it, also for a
 * document in the bare form. */
TEST(test_parse_error_paths_in_both_forms) {
        static const struct {
                const char *text;
                const char *error;
        } cases[] = {
                { "{\"net\": {\"bridges\": [1,]}}", "plugins.net.bridges: t.json:1:24: invalid JSON: a comma before ']'" },
                { "{\"version\": 1, \"plugins\": {\"net\": {\"bridges\": [1,]}}}",
                  "plugins.net.bridges: t.json:1:50: invalid JSON: a comma before ']'" },
                { "{\"plugins\": {\"net\": {\"bridges\": [1,]}}}", "plugins.net.bridges: t.json:1:36: invalid JSON" },
                { "{\"net\": {}, \"net\": {\"bridges\": []}}",
                  "plugins.net: this key is given twice in one object, at t.json:1:2 and at t.json:1:13" },
                { "{\"version\": 1, \"version\": 1, \"plugins\": {}}",
                  "version: this key is given twice in one object, at t.json:1:2 and at t.json:1:16" },
                { "{\"net\": {\"x\": 18446744073709551616}}", "plugins.net.x: 18446744073709551616 is out of range" },
                { "{\"net\": {}} x", "t.json:1:13: invalid JSON: 'x' after the end of the document" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *e = first_error(cases[i].text);

                ASSERT_TRUE(startswith(e, cases[i].error));
        }
}

/* A bare document whose container config nests `levels` levels in the
 * canonical form: {"lxc": {"containers": [{"id": 100, "config": {"a":
 * ... {}}}]}}, every level below "config" an object {"a": ...}. */
static char *deep_state(unsigned levels) {
        StrBuf b = {};

        /* canonical levels: 1 top, 2 plugins, 3 lxc, 4 containers, 5 the
         * container, 6 config */
        strbuf_puts(&b, "{\"lxc\": {\"containers\": [{\"id\": 100, \"config\": ");
        for (unsigned i = 6; i < levels; i++)
                strbuf_puts(&b, "{\"a\": ");
        strbuf_puts(&b, "{}");
        for (unsigned i = 6; i < levels; i++)
                strbuf_putc(&b, '}');
        strbuf_puts(&b, "}]}}");
        return strbuf_take(&b);
}

/* One limit for what is validated, stored and read back: a state at the
 * limit survives a checkpoint; one level more is an error at its path. */
TEST(test_depth_limit) {
        _cleanup_(freep) char *at = deep_state(STATE_MAX_DEPTH), *over = deep_state(STATE_MAX_DEPTH + 1);
        _cleanup_(freep) char *e = first_error(over);
        _cleanup_(state_doc_freep) StateDoc *doc = parse_ok(at);
        _cleanup_(json_object_putp) json_object *back = NULL;
        char dir[] = "/tmp/test-state.XXXXXX", cmd[64];
        StrBuf want = {};

        strbuf_puts(&want, "plugins.lxc.containers[0].config");
        for (unsigned i = 6; i <= STATE_MAX_DEPTH; i++)
                strbuf_puts(&want, ".a");
        strbuf_puts(&want, ": nested 33 levels deep: a state may nest at most 32 levels");
        ASSERT_CONTAINS(e, want.s);
        strbuf_done(&want);

        ASSERT_TRUE(mkdtemp(dir));
        ASSERT_EQ(checkpoint_save(dir, 1, doc->root, 5), 0);
        ASSERT_EQ(checkpoint_load(dir, 1, &back), 0);
        ASSERT_TRUE(json_object_equal(back, doc->root));
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        ASSERT_EQ(system(cmd), 0);
}

TEST(test_set_section) {
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;

        ASSERT_EQ(state_doc_new_empty("x", &doc), 0);
        ASSERT_EQ(state_doc_set_section(doc, "net", json_object_new_object()), 0);
        ASSERT_TRUE(state_doc_section(doc, "net"));
        ASSERT_EQ(state_doc_set_section(doc, "net", NULL), 0);
        ASSERT_TRUE(!state_doc_section(doc, "net"));
}

int main(void) {
        RUN(test_bare_equals_canonical);
        RUN(test_version_rules);
        RUN(test_syntax_error_position);
        RUN(test_truncated_and_trailing);
        RUN(test_parse_error_paths_in_both_forms);
        RUN(test_depth_limit);
        RUN(test_set_section);
        return 0;
}
