/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "json-util.h"
#include "state.h"
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

        ASSERT_CONTAINS(e1, "unexpected end of input");
        ASSERT_CONTAINS(e2, "t.json:1:4");
        ASSERT_CONTAINS(e3, "expected an object");
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
        RUN(test_set_section);
        return 0;
}
