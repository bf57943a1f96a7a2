/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The C validator against the state fixtures, with the built-in plugins:
 * every document in valid/ passes, every document in invalid/ and
 * invalid-semantic/ fails with an error at the path its expected.json
 * names (and only errors on that path's branch). Then a few checks that
 * the parsed models hold the typed values.
 *
 * Usage: test-validate FIXTURES_DIR */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>

#include "json-util.h"
#include "lxc-containers.h"
#include "netmaker.h"
#include "openflow.h"
#include "reconcile.h"
#include "plugins.h"
#include "tests.h"

static const char *fixtures;

static void validate_file(const char *path, ReconcileResult *res) {
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;
        _cleanup_(reconciler_done) Reconciler rc = {};
        PluginContext ctx = {};
        ReconcileOptions o = {};

        reconciler_init(&rc, &ctx);
        ASSERT_EQ(reconciler_use_product(&rc, &opdbus_product), 0);
        /* The fixtures keep the design document's placeholders: the
         * plugins' validation is what is tested here. */
        rc.placeholders = NULL;
        if (state_doc_load(path, &doc, &res->diag) < 0) {
                res->status = RECONCILE_INVALID;
                return;
        }
        (void) reconcile_validate(&rc, doc, &o, res);
}

static void print_errors(const Diag *d) {
        diag_print(d, stderr, "    ");
}

/* The *.json files of a directory, sorted, without expected.json. */
static int list_fixtures(const char *dir, struct dirent ***ret) {
        struct dirent **l;
        int n, k = 0;

        n = scandir(dir, &l, NULL, alphasort);
        if (n < 0)
                TEST_FAIL("cannot read %s: %m", dir);
        for (int i = 0; i < n; i++) {
                size_t len = strlen(l[i]->d_name);

                if (len > 5 && streq(l[i]->d_name + len - 5, ".json") && !streq(l[i]->d_name, "expected.json"))
                        l[k++] = l[i];
                else
                        free(l[i]);
        }
        *ret = l;
        return k;
}

TEST(test_valid_fixtures) {
        char dir[PATH_MAX];
        struct dirent **l;
        int n;

        snprintf(dir, sizeof dir, "%s/valid", fixtures);
        n = list_fixtures(dir, &l);
        ASSERT_TRUE(n >= 5);

        for (int i = 0; i < n; i++) {
                _cleanup_(reconcile_result_done) ReconcileResult res = {};
                char path[PATH_MAX * 2];

                snprintf(path, sizeof path, "%s/%s", dir, l[i]->d_name);
                validate_file(path, &res);
                if (res.status != RECONCILE_OK || diag_count(&res.diag, DIAG_ERROR) > 0) {
                        print_errors(&res.diag);
                        TEST_FAIL("valid/%s is rejected", l[i]->d_name);
                }
                free(l[i]);
        }
        free(l);
}

/* p is expected, an ancestor of it or one of its descendants. */
static bool on_branch(const char *p, const char *expected) {
        const char *longer = strlen(p) > strlen(expected) ? p : expected;
        const char *shorter = longer == p ? expected : p;
        size_t n = strlen(shorter);

        return strncmp(longer, shorter, n) == 0 &&
               (longer[n] == '\0' || longer[n] == '.' || longer[n] == '[');
}

static bool names_path(const char *p, const char *expected) {
        return on_branch(p, expected) && strlen(p) >= strlen(expected);
}

static void check_rejected(const char *dir, const char *name, const char *expected) {
        _cleanup_(reconcile_result_done) ReconcileResult res = {};
        char path[PATH_MAX * 2];
        bool found = false;

        snprintf(path, sizeof path, "%s/%s", dir, name);
        validate_file(path, &res);
        if (res.status != RECONCILE_INVALID) {
                print_errors(&res.diag);
                TEST_FAIL("%s is not rejected (status %s)", name, reconcile_status_to_string(res.status));
        }

        for (size_t i = 0; i < res.diag.n_entries; i++) {
                const DiagEntry *e = &res.diag.entries[i];
                _cleanup_(freep) char *s = diag_entry_format(e);

                if (e->level != DIAG_ERROR)
                        continue;
                ASSERT_TRUE(s);
                if (!on_branch(e->path, expected)) {
                        print_errors(&res.diag);
                        TEST_FAIL("%s: stray error \"%s\", expected errors only on %s", name, s, expected);
                }
                if (names_path(e->path, expected) && startswith(s, e->path))
                        found = true;
        }
        if (!found) {
                print_errors(&res.diag);
                TEST_FAIL("%s: no error at %s", name, expected);
        }
}

static void test_rejected_dir(const char *sub) {
        _cleanup_(json_object_putp) json_object *expected = NULL;
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(freep) char *buf = NULL;
        char dir[PATH_MAX], path[PATH_MAX * 2];
        struct dirent **l;
        size_t len;
        int n;

        snprintf(dir, sizeof dir, "%s/%s", fixtures, sub);
        snprintf(path, sizeof path, "%s/expected.json", dir);
        ASSERT_EQ(read_full_file(path, &buf, &len), 0);
        ASSERT_EQ(json_parse_located(buf, len, path, &expected, &d), 0);

        n = list_fixtures(dir, &l);
        ASSERT_TRUE(n >= 3);
        ASSERT_EQ(json_object_object_length(expected), n);

        for (int i = 0; i < n; i++) {
                json_object *p;

                if (!json_object_object_get_ex(expected, l[i]->d_name, &p) ||
                    !json_object_is_type(p, json_type_string))
                        TEST_FAIL("%s/%s has no entry in expected.json", sub, l[i]->d_name);
                check_rejected(dir, l[i]->d_name, json_object_get_string(p));
                free(l[i]);
        }
        free(l);
}

TEST(test_invalid_fixtures) {
        test_rejected_dir("invalid");
}

TEST(test_semantic_fixtures) {
        test_rejected_dir("invalid-semantic");
}

static json_object *section_of(const char *text, const char *name) {
        json_object *root = json_tokener_parse(text), *s = NULL;

        ASSERT_TRUE(root);
        ASSERT_TRUE(json_object_object_get_ex(root, name, &s));
        json_object_get(s);
        json_object_put(root);
        return s;
}

TEST(test_openflow_model) {
        _cleanup_(json_object_putp) json_object *s = section_of(
                "{\"openflow\": {\"obfuscation_level\": 0, \"bridges\": [{\"name\": \"br0\", \"flows\": ["
                "  {\"actions\": [], \"cookie\": \"0xFFFFFFFFFFFFFFFF\"},"
                "  {\"table\": 3, \"priority\": 7, \"cookie\": 100, \"match_fields\": {\"in_port\": \"p\", \"tp_dst\": 443,"
                "   \"metadata\": 18446744073709551615, \"tcp\": \"\"},"
                "   \"actions\": [{\"type\": \"ct\", \"zone\": 5}, {\"type\": \"set_field\", \"field\": \"nw_ttl\", \"value\": 64},"
                "   {\"type\": \"mod_dl_dst\", \"mac\": \"02:00:00:0a:0B:ff\"}, {\"type\": \"load_register\", \"register\": 15, \"value\": 4294967295}]}],"
                " \"socket_ports\": [{\"name\": \"internal_100\", \"container_id\": \"100\", \"ofport\": 10}]}],"
                " \"flow_policies\": ["
                "  {\"name\": \"a\", \"selector\": \"container:100-199\", \"template\": {\"table\": 1, \"priority\": 2, \"match\": \"ip\", \"actions\": []}},"
                "  {\"name\": \"b\", \"selector\": \"port:internal_*\", \"template\": {\"table\": 1, \"priority\": 2, \"match\": {\"ip_dscp\": \"10\", \"ip\": \"\"}, \"actions\": []}},"
                "  {\"name\": \"c\", \"selector\": \"port:*\", \"template\": {\"table\": 1, \"priority\": 2, \"actions\": []}},"
                "  {\"name\": \"d\", \"selector\": \"container:*\", \"template\": {\"table\": 1, \"priority\": 2, \"actions\": []}}]}}",
                "openflow");
        _cleanup_(diag_done) Diag d = {};
        OpenflowConfig c = {};
        const OfFlow *f;

        ASSERT_EQ(openflow_parse(&c, s, &d), 0);
        ASSERT_EQ(d.n_entries, 0);
        ASSERT_TRUE(c.enable_security_flows && c.auto_discover_containers && !c.has_dns_resolver);
        ASSERT_EQ(c.obfuscation_level, 0);
        ASSERT_EQ(c.n_bridges, 1);
        ASSERT_STREQ(c.bridges[0].name, "br0");

        f = &c.bridges[0].flows[0];
        ASSERT_TRUE(f->has_cookie && f->cookie == UINT64_MAX);
        ASSERT_EQ(f->table, 0);
        ASSERT_EQ(f->priority, OF_PRIORITY_DEFAULT);
        ASSERT_STREQ(f->path, "plugins.openflow.bridges[0].flows[0]");

        f = &c.bridges[0].flows[1];
        ASSERT_TRUE(f->has_cookie && f->cookie == 100);
        ASSERT_EQ(f->table, 3);
        ASSERT_EQ(f->priority, 7);
        ASSERT_EQ(f->n_match, 4);
        ASSERT_STREQ(f->match[0].name, "in_port");
        ASSERT_EQ(f->match[0].value.type, OF_VALUE_STRING);
        ASSERT_STREQ(f->match[0].value.string, "p");
        ASSERT_EQ(f->match[1].value.type, OF_VALUE_INT64);
        ASSERT_EQ(f->match[1].value.i64, 443);
        ASSERT_EQ(f->match[2].value.type, OF_VALUE_UINT64);
        ASSERT_TRUE(f->match[2].value.u64 == UINT64_MAX);
        ASSERT_EQ(f->match[3].value.type, OF_VALUE_STRING);
        ASSERT_STREQ(f->match[3].value.string, "");
        ASSERT_EQ(f->n_actions, 4);
        ASSERT_EQ(f->actions[0].type, OF_ACTION_CT);
        ASSERT_EQ(f->actions[0].ct.zone, 5);
        ASSERT_EQ(f->actions[0].ct.table, -1);
        ASSERT_EQ(f->actions[1].type, OF_ACTION_SET_FIELD);
        ASSERT_STREQ(f->actions[1].set_field.field, "nw_ttl");
        ASSERT_EQ(f->actions[1].set_field.value.i64, 64);
        ASSERT_EQ(f->actions[2].mod_dl_dst.mac[3], 0x0a);
        ASSERT_EQ(f->actions[2].mod_dl_dst.mac[4], 0x0b);
        ASSERT_EQ(f->actions[2].mod_dl_dst.mac[5], 0xff);
        ASSERT_EQ(f->actions[3].load_register.reg, 15);
        ASSERT_TRUE(f->actions[3].load_register.value == UINT32_MAX);

        ASSERT_EQ(c.bridges[0].socket_ports[0].container_id, 100);
        ASSERT_EQ(c.bridges[0].socket_ports[0].ofport, 10);

        ASSERT_EQ(c.n_flow_policies, 4);
        ASSERT_EQ(c.flow_policies[0].selector.kind, OF_SELECT_CONTAINER_RANGE);
        ASSERT_EQ(c.flow_policies[0].selector.first_id, 100);
        ASSERT_EQ(c.flow_policies[0].selector.last_id, 199);
        ASSERT_EQ(c.flow_policies[0].template.n_match, 1);
        ASSERT_STREQ(c.flow_policies[0].template.match[0].name, "ip");
        ASSERT_EQ(c.flow_policies[0].template.match[0].value.type, OF_VALUE_NONE);
        ASSERT_EQ(c.flow_policies[1].selector.kind, OF_SELECT_PORT_PREFIX);
        ASSERT_STREQ(c.flow_policies[1].selector.port, "internal_");
        ASSERT_EQ(c.flow_policies[1].template.n_match, 2);
        ASSERT_EQ(c.flow_policies[2].selector.kind, OF_SELECT_PORT_PREFIX);
        ASSERT_STREQ(c.flow_policies[2].selector.port, "");
        ASSERT_EQ(c.flow_policies[3].selector.kind, OF_SELECT_CONTAINER_ALL);
        openflow_config_done(&c);
}

TEST(test_lxc_model) {
        _cleanup_(json_object_putp) json_object *s = section_of(
                "{\"lxc\": {\"backend\": \"pct\", \"containers\": ["
                "  {\"id\": \"999999999\", \"state\": \"stopped\", \"network\": {\"ipv4\": \"10.0.0.5/24\", \"tag\": 7},"
                "   \"config\": {\"x\": [1]}, \"properties\": {\"features\": {\"nesting\": true, \"keyctl\": false}, \"memory\": 512}},"
                "  {\"id\": 100}]}}",
                "lxc");
        _cleanup_(diag_done) Diag d = {};
        LxcConfig c = {};
        const LxcContainer *ct;

        ASSERT_EQ(lxc_parse(&c, s, &d), 0);
        /* config.x is no service configuration op-dbus renders */
        ASSERT_EQ(d.n_entries, 1);
        ASSERT_EQ(d.entries[0].level, DIAG_WARNING);
        ASSERT_STREQ(d.entries[0].path, "plugins.lxc.containers[0].config.x");
        ASSERT_EQ(c.backend, LXC_BACKEND_PCT);
        ASSERT_EQ(c.n_containers, 2);

        ct = &c.containers[0];
        ASSERT_EQ(ct->id, 999999999);
        ASSERT_EQ(ct->state, LXC_RUN_STATE_STOPPED);
        ASSERT_EQ(ct->autostart, LXC_UNSET);
        ASSERT_TRUE(ct->has_network && ct->network.has_ipv4);
        ASSERT_EQ(ntohl(ct->network.ipv4.s_addr), 0x0a000005);
        ASSERT_EQ(ct->network.ipv4_prefixlen, 24);
        ASSERT_EQ(ct->network.tag, 7);
        ASSERT_EQ(ct->network.veth, LXC_UNSET);
        ASSERT_TRUE(json_object_is_type(ct->config, json_type_object));
        ASSERT_EQ(ct->properties.n_features, 2);
        ASSERT_STREQ(ct->properties.features[1].name, "keyctl");
        ASSERT_TRUE(!ct->properties.features[1].enabled);
        ASSERT_EQ(ct->properties.memory, 512);
        ASSERT_EQ(ct->properties.swap, -1);

        ct = &c.containers[1];
        ASSERT_EQ(ct->id, 100);
        ASSERT_EQ(ct->state, LXC_RUN_STATE_UNSET);
        ASSERT_EQ(ct->drift, LXC_DRIFT_HEAL);
        ASSERT_TRUE(!ct->has_network && !ct->config);
        ASSERT_EQ(ct->properties.network_type, LXC_NETWORK_TYPE_UNSET);
        lxc_config_done(&c);
}

TEST(test_netmaker_model) {
        _cleanup_(json_object_putp) json_object *s = section_of("{\"netmaker\": {\"default_network\": \"mesh\"}}", "netmaker");
        _cleanup_(diag_done) Diag d = {};
        NetmakerConfig c = {};

        ASSERT_EQ(netmaker_parse(&c, s, &d), 0);
        ASSERT_TRUE(!c.enabled);
        ASSERT_STREQ(c.token_file, NETMAKER_TOKEN_FILE_DEFAULT);
        ASSERT_STREQ(c.default_network, "mesh");
        ASSERT_TRUE(!c.api_endpoint);
        netmaker_config_done(&c);
}

/* Every error of a document is reported, not just the first. */
TEST(test_all_errors_reported) {
        _cleanup_(json_object_putp) json_object *s = section_of(
                "{\"lxc\": {\"backend\": 1, \"bogus\": 2, \"containers\": [{\"id\": 5, \"name\": \"-x\"}, {\"id\": 100, \"network\": {\"tag\": 0}}]}}",
                "lxc");
        _cleanup_(diag_done) Diag d = {};
        LxcConfig c = {};

        ASSERT_EQ(lxc_parse(&c, s, &d), -EINVAL);
        ASSERT_EQ(diag_count(&d, DIAG_ERROR), 5);
        lxc_config_done(&c);
}

int main(int argc, char *argv[]) {
        if (argc != 2) {
                fprintf(stderr, "usage: %s FIXTURES_DIR\n", argv[0]);
                return 1;
        }
        fixtures = argv[1];

        RUN(test_valid_fixtures);
        RUN(test_invalid_fixtures);
        RUN(test_semantic_fixtures);
        RUN(test_openflow_model);
        RUN(test_lxc_model);
        RUN(test_netmaker_model);
        RUN(test_all_errors_reported);
        return 0;
}
