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

/* Integers json-c would silently clamp are errors at their path. */
TEST(test_integer_range) {
        static const struct {
                const char *text;
                const char *error;          /* NULL: in range */
        } cases[] = {
                { "{\"a\": 18446744073709551615, \"b\": -9223372036854775808, \"c\": 1e400, \"d\": -0.5}", NULL },
                { "{\"s\": \"99999999999999999999 \\\" 1\", \"k\": [0, 0]}", NULL },
                { "{\"a\": 18446744073709551616}", "x.a: 18446744073709551616 is out of range" },
                { "{\"a\": -9223372036854775809}", "x.a: -9223372036854775809 is out of range" },
                { "{\"a\": [1, {\"b\": 2}, [3, 100000000000000000000]]}", "x.a[2][1]: 100000000000000000000 is out" },
                { "[{\"k\\\"q\": 1, \"n\": {\"m\": 123456789012345678901234}}]", "x[0].n.m: 123456789012345678901234" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(diag_done) Diag d = {};
                int r = json_check_integer_range(cases[i].text, strlen(cases[i].text), "f.json", "x", &d);

                if (!cases[i].error) {
                        ASSERT_EQ(r, 0);
                        ASSERT_EQ(d.n_entries, 0);
                        continue;
                }
                ASSERT_EQ(r, -EINVAL);
                ASSERT_EQ(d.n_entries, 1);
                ASSERT_CONTAINS(msg(&d, 0), cases[i].error);
                ASSERT_CONTAINS(msg(&d, 0), "(f.json:1:");
        }
}

int main(void) {
        RUN(test_paths);
        RUN(test_integer_range);
        RUN(test_getters_report_every_error);
        RUN(test_reserved_prefix);
        RUN(test_double_is_not_integer);
        return 0;
}
