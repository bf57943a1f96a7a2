/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "json-util.h"
#include "tests.h"

static json_object *obj(const char *text) {
        json_object *o = json_tokener_parse(text);

        ASSERT_TRUE(o);
        return o;
}

static const char *msg(const Diag *d, size_t i) {
        static char buf[512];
        char *s = diag_entry_format(&d->entries[i]);

        snprintf(buf, sizeof buf, "%s", s);
        free(s);
        return buf;
}

TEST(test_paths) {
        _cleanup_(freep) char *a = json_path_key("", "plugins");
        _cleanup_(freep) char *b = json_path_key("plugins", "net");
        _cleanup_(freep) char *c = json_path_index("plugins.net.bridges", 3);

        ASSERT_STREQ(a, "plugins");
        ASSERT_STREQ(b, "plugins.net");
        ASSERT_STREQ(c, "plugins.net.bridges[3]");
}

TEST(test_getters_report_every_error) {
        _cleanup_(json_object_putp) json_object *o =
                obj("{\"s\": 1, \"b\": \"yes\", \"i\": 4096, \"e\": \"kernel\", \"a\": {}, \"m\": {\"k\": 1}, \"zz\": 0}");
        static const char *const keys[] = { "s", "b", "i", "e", "a", "m", NULL };
        static const char *const values[] = { "auto", "system", NULL };
        _cleanup_(diag_done) Diag d = {};
        const char *s;
        bool b;
        int64_t i;
        int e;
        json_object *a;

        ASSERT_EQ(json_check_keys(o, "p", keys, &d), 1);
        ASSERT_EQ(json_get_string(o, "p", "s", true, &s, &d), -EINVAL);
        ASSERT_EQ(json_get_bool(o, "p", "b", &b, &d), -EINVAL);
        ASSERT_EQ(json_get_int(o, "p", "i", false, 0, 4095, &i, &d), -EINVAL);
        ASSERT_EQ(json_get_enum(o, "p", "e", values, &e, &d), -EINVAL);
        ASSERT_EQ(json_get_array(o, "p", "a", false, &a, &d), -EINVAL);
        ASSERT_EQ(json_get_string_map(o, "p", "m", NULL, &a, &d), -EINVAL);
        ASSERT_EQ(json_get_string(o, "p", "missing", true, &s, &d), 0);
        ASSERT_EQ(json_get_string(o, "p", "missing2", false, &s, &d), 0);

        ASSERT_EQ(d.n_entries, 8);
        ASSERT_CONTAINS(msg(&d, 0), "p.zz: unknown key, expected one of: s, b, i, e, a, m");
        ASSERT_CONTAINS(msg(&d, 1), "p.s: expected a string, got an integer");
        ASSERT_CONTAINS(msg(&d, 2), "p.b: expected true or false");
        ASSERT_CONTAINS(msg(&d, 3), "p.i: 4096 is out of range, expected 0..4095");
        ASSERT_CONTAINS(msg(&d, 4), "p.e: \"kernel\" is not valid, expected one of: auto, system");
        ASSERT_CONTAINS(msg(&d, 5), "p.a: expected an array, got an object");
        ASSERT_CONTAINS(msg(&d, 6), "p.m.k: expected a string");
        ASSERT_CONTAINS(msg(&d, 7), "p.missing: required field is missing");
}

TEST(test_reserved_prefix) {
        _cleanup_(json_object_putp) json_object *o = obj("{\"m\": {\"op-dbus-owner\": \"x\", \"ok\": \"y\"}}");
        _cleanup_(diag_done) Diag d = {};
        json_object *m;

        ASSERT_EQ(json_get_string_map(o, "p", "m", "op-dbus-", &m, &d), -EINVAL);
        ASSERT_CONTAINS(msg(&d, 0), "p.m.op-dbus-owner: keys starting with \"op-dbus-\" are reserved");
}

TEST(test_double_is_not_integer) {
        _cleanup_(json_object_putp) json_object *o = obj("{\"i\": 1.0}");
        _cleanup_(diag_done) Diag d = {};
        int64_t i;

        ASSERT_EQ(json_get_int(o, "", "i", true, 0, 10, &i, &d), -EINVAL);
        ASSERT_CONTAINS(msg(&d, 0), "i: expected an integer, got a number with a fraction");
}

/* Integers json-c would silently clamp, and numbers beyond a double, are
 * errors at their path; every one is reported. */
TEST(test_number_range) {
        static const struct {
                const char *text;
                const char *error;          /* NULL: in range */
        } cases[] = {
                { "{\"a\": 18446744073709551615, \"b\": -9223372036854775808, \"c\": 1e308, \"d\": -0.5, \"e\": 1e-400}", NULL },
                { "{\"s\": \"99999999999999999999 \\\" 1\", \"k\": [0, 0]}", NULL },
                { "{\"a\": 18446744073709551616}", "a: 18446744073709551616 is out of range" },
                { "{\"a\": -9223372036854775809}", "a: -9223372036854775809 is out of range" },
                { "{\"a\": [1, {\"b\": 2}, [3, 100000000000000000000]]}", "a[2][1]: 100000000000000000000 is out" },
                { "[{\"k\\\"q\": 1, \"n\": {\"m\": 123456789012345678901234}}]", "[0].n.m: 123456789012345678901234" },
                { "{\"c\": 1e400}", "c: 1e400 is out of range: numbers must lie within" },
                { "{\"c\": -2.5E+999}", "c: -2.5E+999 is out of range" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(json_object_putp) json_object *o = NULL;
                _cleanup_(diag_done) Diag d = {};
                int r = json_parse_located(cases[i].text, strlen(cases[i].text), "f.json", &o, &d);

                if (!cases[i].error) {
                        ASSERT_EQ(r, 0);
                        ASSERT_EQ(d.n_entries, 0);
                        continue;
                }
                ASSERT_EQ(r, -EINVAL);
                ASSERT_TRUE(!o);
                ASSERT_EQ(d.n_entries, 1);
                ASSERT_CONTAINS(msg(&d, 0), cases[i].error);
                ASSERT_CONTAINS(msg(&d, 0), "(f.json:1:");
        }
}

TEST(test_every_value_error_is_reported) {
        static const char text[] = "{\"a\": 18446744073709551616,\n \"b\": [1e400, -9223372036854775809]}";
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(diag_done) Diag d = {};

        ASSERT_EQ(json_parse_located(text, strlen(text), "f.json", &o, &d), -EINVAL);
        ASSERT_EQ(d.n_entries, 3);
        ASSERT_CONTAINS(msg(&d, 0), "a: 18446744073709551616 is out of range: integers must lie in "
                        "-9223372036854775808..18446744073709551615 (f.json:1:7)");
        ASSERT_CONTAINS(msg(&d, 1), "b[0]: 1e400 is out of range");
        ASSERT_CONTAINS(msg(&d, 1), "(f.json:2:8)");
        ASSERT_CONTAINS(msg(&d, 2), "b[1]: -9223372036854775809 is out of range");
        ASSERT_CONTAINS(msg(&d, 2), "(f.json:2:15)");
}

/* Everything RFC 8259 does not allow is a syntax error at its line and
 * column (in characters), under the JSON path where it was found. */
TEST(test_not_json) {
        static const struct {
                const char *text;
                const char *error;          /* the whole formatted error */
        } cases[] = {
                /* comments */
                { "{\"a\": 1, // note\n \"b\": 2}", "f.json:1:10: invalid JSON: a comment: JSON has no comments" },
                { "{\"a\": [1 /* x */]}", "a[0]: f.json:1:10: invalid JSON: a comment: JSON has no comments" },
                { "{\"a\": /* x */ 1}", "a: f.json:1:7: invalid JSON: a comment: JSON has no comments" },
                { "[1] # x", "f.json:1:5: invalid JSON: '#' after the end of the document: only whitespace may follow it" },
                /* trailing commas */
                { "{\"a\": [1, 2,]}", "a: f.json:1:13: invalid JSON: a comma before ']': JSON allows none after the last element" },
                { "{\"a\": {\"b\": 1,}}", "a: f.json:1:15: invalid JSON: a comma before '}': JSON allows none after the last member" },
                { "{\"a\": 1,\n}", "f.json:2:1: invalid JSON: a comma before '}': JSON allows none after the last member" },
                { "[,]", "[0]: f.json:1:2: invalid JSON: expected a value, found ','" },
                /* quotes */
                { "{'a': 1}", "f.json:1:2: invalid JSON: a key in single quotes: JSON strings take double quotes" },
                { "{\"a\": 'x'}", "a: f.json:1:7: invalid JSON: a string in single quotes: JSON strings take double quotes" },
                { "{a: 1}", "f.json:1:2: invalid JSON: the key a has no quotes: JSON keys are strings in double quotes" },
                { "[br0]", "[0]: f.json:1:2: invalid JSON: br0 is not a JSON value: strings take double quotes (\"br0\")" },
                /* words and numbers */
                { "[True]", "[0]: f.json:1:2: invalid JSON: True is not JSON: its words are true, false and null, in lower case" },
                { "[NaN]", "[0]: f.json:1:2: invalid JSON: NaN is not a JSON number" },
                { "[-Infinity]", "[0]: f.json:1:2: invalid JSON: -Infinity is not a JSON number (numbers are decimal: -12, 3.5, 1e3)" },
                { "[07]", "[0]: f.json:1:2: invalid JSON: 07 is not a JSON number: JSON numbers have no leading zeros" },
                { "[-01]", "[0]: f.json:1:2: invalid JSON: -01 is not a JSON number: JSON numbers have no leading zeros" },
                { "[.5]", "[0]: f.json:1:2: invalid JSON: .5 is not a JSON number (numbers are decimal: -12, 3.5, 1e3)" },
                { "[+1]", "[0]: f.json:1:2: invalid JSON: +1 is not a JSON number (numbers are decimal: -12, 3.5, 1e3)" },
                { "[1.]", "[0]: f.json:1:2: invalid JSON: 1. is not a JSON number: a digit must follow the '.'" },
                { "[1e+]", "[0]: f.json:1:2: invalid JSON: 1e+ is not a JSON number: the exponent has no digits" },
                { "[0x1F]", "[0]: f.json:1:2: invalid JSON: 0x1F is not a JSON number (numbers are decimal: -12, 3.5, 1e3)" },
                { "[1.2.3]", "[0]: f.json:1:2: invalid JSON: 1.2.3 is not a JSON number (numbers are decimal: -12, 3.5, 1e3)" },
                /* strings */
                { "[\"a\tb\"]", "[0]: f.json:1:4: invalid JSON: a tab inside a string: write it as \\t" },
                { "{\"a\": \"x\ny\"}", "a: f.json:1:9: invalid JSON: a line break inside a string: "
                                       "end the string with '\"' before it, or write the line break as \\n" },
                { "[\"\x1b[0m\"]", "[0]: f.json:1:3: invalid JSON: control character U+001B inside a string: write it as \\u001B" },
                { "[\"\\x41\"]", "[0]: f.json:1:3: invalid JSON: \\x is not an escape JSON knows: use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX" },
                { "[\"\\'\"]", "[0]: f.json:1:3: invalid JSON: \\' is not an escape JSON knows: use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX" },
                { "[\"\\u12\"]", "[0]: f.json:1:3: invalid JSON: \\u must be followed by four hex digits" },
                { "[\"\\ud83d\"]", "[0]: f.json:1:3: invalid JSON: \\uD83D is the first half of a UTF-16 surrogate pair: "
                                   "its second half (\\uDC00..\\uDFFF) must follow" },
                { "[\"\\ude00\"]", "[0]: f.json:1:3: invalid JSON: \\uDE00 is the second half of a UTF-16 surrogate pair, without the first" },
                { "{\"\\u0000\": 1}", "f.json:1:2: invalid JSON: a key with \\u0000 in it, which op-dbus cannot hold" },
                { "[\"abc", "[0]: f.json:1:2: invalid JSON: a string that does not end: its closing '\"' is missing" },
                /* not UTF-8 */
                { "[\"\xff\"]", "[0]: f.json:1:3: invalid JSON: byte 0xFF is not UTF-8: JSON text must be UTF-8" },
                { "[\"\xc0\xaf\"]", "[0]: f.json:1:3: invalid JSON: byte 0xC0 is not UTF-8: JSON text must be UTF-8" },
                { "[\"\xed\xa0\x80\"]", "[0]: f.json:1:3: invalid JSON: byte 0xED is not UTF-8: JSON text must be UTF-8" },
                { "[\"\xf4\x90\x80\x80\"]", "[0]: f.json:1:3: invalid JSON: byte 0xF4 is not UTF-8: JSON text must be UTF-8" },
                { "[\"\xe2\x82\"]", "[0]: f.json:1:3: invalid JSON: byte 0xE2 is not UTF-8: JSON text must be UTF-8" },
                { "\xef\xbb\xbf{}", "f.json:1:1: invalid JSON: the text starts with a byte order mark (EF BB BF), "
                                     "which JSON does not allow: save it as UTF-8 without one" },
                /* structure */
                { "", "f.json:1:1: invalid JSON: the text is empty: expected a JSON document" },
                { " \n  ", "f.json:2:3: invalid JSON: the text is empty: expected a JSON document" },
                { "{\"a\": 1", "a: f.json:1:8: invalid JSON: the text ends inside an object: ',' or '}' should follow" },
                { "{\"a\":", "a: f.json:1:6: invalid JSON: the text ends where a value should follow" },
                { "{} {}", "f.json:1:4: invalid JSON: '{' after the end of the document: only whitespace may follow it" },
                { "{\"a\" 1}", "a: f.json:1:6: invalid JSON: expected ':' after the key, found '1'" },
                { "{\"a\": }", "a: f.json:1:7: invalid JSON: expected a value, found '}'" },
                { "[1 2]", "[0]: f.json:1:4: invalid JSON: expected ',' or ']' after this value, found '2'" },
                { "{\"a\": 1 \"b\": 2}", "a: f.json:1:9: invalid JSON: expected ',' or '}' after this value, found '\"'" },
                { "[1}", "[0]: f.json:1:3: invalid JSON: expected ',' or ']' after this value, found '}'" },
                { "{\"a\": 1]", "a: f.json:1:8: invalid JSON: expected ',' or '}' after this value, found ']'" },
                { "[\x01]", "[0]: f.json:1:2: invalid JSON: expected a value, found byte 0x01" },
                /* positions: lines, and columns in characters */
                { "{\n  \"net\": {\n    \"bridges\": [1,]\n  }\n}\n",
                  "net.bridges: f.json:3:19: invalid JSON: a comma before ']': JSON allows none after the last element" },
                { "{\"\xc3\xa9\": 'x'}", "\xc3\xa9: f.json:1:7: invalid JSON: a string in single quotes: JSON strings take double quotes" },
                { "{\"a\\\"b\": [1,]}", "a\"b: f.json:1:13: invalid JSON: a comma before ']': JSON allows none after the last element" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(json_object_putp) json_object *o = NULL;
                _cleanup_(diag_done) Diag d = {};
                int r = json_parse_located(cases[i].text, strlen(cases[i].text), "f.json", &o, &d);

                if (r != -EBADMSG || d.n_entries != 1) {
                        diag_print(&d, stderr, "  ");
                        TEST_FAIL("case %zu (%s): r=%d, %zu errors", i, cases[i].text, r, d.n_entries);
                }
                ASSERT_TRUE(!o);
                ASSERT_STREQ(msg(&d, 0), cases[i].error);
        }
}

/* What a message quotes from a state or a tool cannot break its line or
 * send escape sequences to a terminal. */
TEST(test_messages_are_one_printable_line) {
        _cleanup_(diag_done) Diag d = {};

        diag_error(&d, "a.b\nerror: c", "\"x\ty\r\nz\x1b[31m\x7f\" is not valid");
        ASSERT_STREQ(msg(&d, 0), "a.b error: c: \"x y  z?[31m?\" is not valid");
}

/* An escaped NUL would silently cut a C string: "relp\u0000; x" would be
 * the port "relp". Every one is an error at its path and position. */
TEST(test_nul_in_strings) {
        static const char text[] = "{\"ports\": [\"ok\", \"relp\\u0000; x\"],\n \"b\": {\"c\": \"\\u0000\"}, \"d\": \"a\\\\u0000\"}";
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(diag_done) Diag d = {};

        ASSERT_EQ(json_parse_located(text, strlen(text), "f.json", &o, &d), -EINVAL);
        ASSERT_TRUE(!o);
        ASSERT_EQ(d.n_entries, 2);
        ASSERT_STREQ(msg(&d, 0), "ports[1]: this string has \\u0000 (a NUL character) in it (f.json:1:18): "
                     "op-dbus accepts no NUL in strings, since everything after it would be lost; remove it");
        ASSERT_CONTAINS(msg(&d, 1), "b.c: this string has \\u0000 (a NUL character) in it (f.json:2:13)");
}

TEST(test_nesting_limit) {
        char text[2 * (JSON_MAX_DEPTH + 1) + 1];
        _cleanup_(diag_done) Diag d = {};
        json_object *o = NULL;

        for (size_t depth = JSON_MAX_DEPTH; depth <= JSON_MAX_DEPTH + 1; depth++) {
                memset(text, '[', depth);
                memset(text + depth, ']', depth);
                text[2 * depth] = 0;
                if (depth == JSON_MAX_DEPTH) {
                        ASSERT_EQ(json_parse_located(text, strlen(text), "f.json", &o, &d), 0);
                        json_object_put(o);
                } else
                        ASSERT_EQ(json_parse_located(text, strlen(text), "f.json", &o, &d), -EBADMSG);
        }
        ASSERT_EQ(d.n_entries, 1);
        ASSERT_CONTAINS(msg(&d, 0), "f.json:1:65: invalid JSON: nested deeper than 64 levels");
}

/* A key given twice is an error naming both places (json-c keeps the
 * last and drops the first without a word). */
TEST(test_duplicate_keys) {
        static const char text[] =
                "{\n"
                " \"a\": 1,\n"
                " \"b\": {\"c\": 1, \"c\": [2]},\n"
                " \"a\": 3,\n"
                " \"d\": [{\"x\": 1, \"\\u0078\": 2}],\n"
                " \"e\": {\"x\": 1}, \"f\": {\"x\": 1}\n"
                "}";
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(diag_done) Diag d = {};

        ASSERT_EQ(json_parse_located(text, strlen(text), "f.json", &o, &d), -EINVAL);
        ASSERT_TRUE(!o);
        ASSERT_EQ(d.n_entries, 3);
        ASSERT_STREQ(msg(&d, 0), "b.c: this key is given twice in one object, at f.json:3:8 and at f.json:3:16: "
                     "keys must be unique (only the last would count)");
        ASSERT_STREQ(msg(&d, 1), "a: this key is given twice in one object, at f.json:2:2 and at f.json:4:2: "
                     "keys must be unique (only the last would count)");
        ASSERT_STREQ(msg(&d, 2), "d[0].x: this key is given twice in one object, at f.json:5:9 and at f.json:5:17: "
                     "keys must be unique (only the last would count)");
}

/* On what RFC 8259 allows, the objects are those json-c's parser builds. */
TEST(test_same_objects_as_json_c) {
        static const char *const texts[] = {
                "{}", "[]", "0", "-0", "\"\"", "null", "true", "false", " [ ] ",
                "{\"version\": 1, \"plugins\": {\"net\": {\"bridges\": [{\"name\": \"ovsbr0\", \"ports\": []}]}}}",
                "[0, -1, 1, 9223372036854775807, 9223372036854775808, 18446744073709551615, -9223372036854775808]",
                "[1.5, 1.50, -0.0, 1e5, 1E+2, 2.5e-3, 0.1, 123456789.123456789, 1e308, 1e-400]",
                "[\"a\\u00e9\\ud83d\\ude00\", \"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\", \"\\u0001x\", \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"]",
                "{\"\\u0061\": {\"b\": [[], {}, [null, true, false]]}, \"c\": \"d\"}",
                "\t\r\n{\r\n\t\"k\" :\t[ 1 , 2 ]\n}\n",
        };

        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                _cleanup_(json_object_putp) json_object *mine = NULL, *theirs = json_tokener_parse(texts[i]);
                _cleanup_(diag_done) Diag d = {};
                const char *a, *b;

                if (json_parse_located(texts[i], strlen(texts[i]), "f.json", &mine, &d) < 0) {
                        diag_print(&d, stderr, "  ");
                        TEST_FAIL("refused: %s", texts[i]);
                }
                ASSERT_TRUE(theirs || streq(texts[i], "null"));
                ASSERT_TRUE(json_object_equal(mine, theirs));
                a = json_object_to_json_string_ext(mine, JSON_C_TO_STRING_PLAIN);
                b = json_object_to_json_string_ext(theirs, JSON_C_TO_STRING_PLAIN);
                ASSERT_STREQ(a, b);
                ASSERT_EQ(json_object_get_type(mine), json_object_get_type(theirs));
        }
}

TEST(test_top_level_key) {
        static const char broken[] = "{\"plugins\": {\"net\": [1,]}";

        ASSERT_EQ(json_text_has_top_level_key(" {\"a\": {\"b\": 1}, \"c\": [\"}\", 2]}", 31, "c"), 1);
        ASSERT_EQ(json_text_has_top_level_key("{\"a\": {\"c\": 1}}", 15, "c"), 0);
        ASSERT_EQ(json_text_has_top_level_key("{\"\\u0063\": 1}", 13, "c"), 1);
        ASSERT_EQ(json_text_has_top_level_key("[{\"c\": 1}]", 10, "c"), -1);
        ASSERT_EQ(json_text_has_top_level_key(broken, strlen(broken), "plugins"), 1);
        ASSERT_EQ(json_text_has_top_level_key("{'c': 1}", 8, "c"), 0);
        ASSERT_EQ(json_text_has_top_level_key("{\"a\": 1 \"c\": 2}", 15, "c"), 0);
}

int main(void) {
        RUN(test_paths);
        RUN(test_number_range);
        RUN(test_every_value_error_is_reported);
        RUN(test_not_json);
        RUN(test_messages_are_one_printable_line);
        RUN(test_nul_in_strings);
        RUN(test_nesting_limit);
        RUN(test_duplicate_keys);
        RUN(test_same_objects_as_json_c);
        RUN(test_top_level_key);
        RUN(test_getters_report_every_error);
        RUN(test_reserved_prefix);
        RUN(test_double_is_not_integer);
        return 0;
}
