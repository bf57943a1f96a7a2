/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The netmaker plugin without containers: the token file and the token,
 * the server check against a closed port, the unit, and the plan the
 * plugin makes from what containers hold. The HTTPS cases (a healthy
 * server, bad certificates, timeouts) are in
 * tests/integration/test_netmaker.py, which runs its own TLS server. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "json-util.h"
#include "netmaker.h"
#include "tests.h"

static const char token_json[] = "{\"server\":\"api.netmaker.example.org\",\"value\":\"K3yV4lu3S3cr3tK3yV4lu3S3cr3t0000\"}";
/* base64 of token_json */
static const char token_b64[] =
        "eyJzZXJ2ZXIiOiJhcGkubmV0bWFrZXIuZXhhbXBsZS5vcmciLCJ2YWx1ZSI6IkszeVY0bHUzUzNjcjN0SzN5VjRsdTNTM2NyM3QwMDAwIn0=";

/* No message of d may contain s. */
static void assert_not_in_diag(const Diag *d, const char *s) {
        for (size_t i = 0; i < d->n_entries; i++)
                if (strstr(d->entries[i].message, s) || strstr(d->entries[i].path, s))
                        TEST_FAIL("the secret appears in: %s: %s", d->entries[i].path, d->entries[i].message);
}

static const char *first_message(const Diag *d) {
        return d->n_entries > 0 ? d->entries[0].message : "(none)";
}

TEST(test_sha256) {
        static const struct {
                size_t len;
                char fill;
                const char *hex;
        } vectors[] = {
                { 0, 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
                { 55, 'a', "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
                { 56, 'a', "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
                { 64, 'a', "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
                { 119, 'a', "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb" },
                { 200, 'a', "c2a908d98f5df987ade41b5fce213067efbcc21ef2240212a41e54b5e7c28ae5" },
        };
        uint8_t h[SHA256_SIZE];
        char hex[2 * SHA256_SIZE + 1], buf[256];

        sha256("abc", 3, h);
        sha256_hex(h, hex);
        ASSERT_STREQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, h);
        sha256_hex(h, hex);
        ASSERT_STREQ(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        for (size_t i = 0; i < ELEMENTSOF(vectors); i++) {
                memset(buf, vectors[i].fill, vectors[i].len);
                sha256(buf, vectors[i].len, h);
                sha256_hex(h, hex);
                ASSERT_STREQ(hex, vectors[i].hex);
        }
}

TEST(test_base64) {
        uint8_t *out = NULL;
        size_t n = 0;

        ASSERT_EQ(netmaker_base64_decode("aGVsbG8=", &out, &n), 0);
        ASSERT_EQ(n, 5);
        ASSERT_STREQ((char *) out, "hello");
        free(out);
        ASSERT_EQ(netmaker_base64_decode("aGVsbG8", &out, &n), 0); /* padding optional */
        ASSERT_STREQ((char *) out, "hello");
        free(out);
        ASSERT_EQ(netmaker_base64_decode("aGVsbA==", &out, &n), 0);
        ASSERT_STREQ((char *) out, "hell");
        free(out);
        ASSERT_EQ(netmaker_base64_decode("+/+/", &out, &n), 0);
        ASSERT_EQ(n, 3);
        free(out);

        ASSERT_EQ(netmaker_base64_decode("", &out, &n), -EINVAL);
        ASSERT_EQ(netmaker_base64_decode("aGVsb", &out, &n), -EINVAL);       /* 4k+1 characters */
        ASSERT_EQ(netmaker_base64_decode("aGVs bG8=", &out, &n), -EINVAL);   /* whitespace */
        ASSERT_EQ(netmaker_base64_decode("aGVsbG8-", &out, &n), -EINVAL);    /* URL alphabet */
        ASSERT_EQ(netmaker_base64_decode("aGVsbA=", &out, &n), -EINVAL);     /* wrong padding */
        ASSERT_EQ(netmaker_base64_decode("a===", &out, &n), -EINVAL);
}

TEST(test_server_valid) {
        ASSERT_TRUE(netmaker_server_valid("api.netmaker.example.org"));
        ASSERT_TRUE(netmaker_server_valid("api.example.org:443"));
        ASSERT_TRUE(netmaker_server_valid("127.0.0.1:8443"));
        ASSERT_TRUE(netmaker_server_valid("[2001:db8::1]:443"));
        ASSERT_TRUE(netmaker_server_valid("[::1]"));
        ASSERT_TRUE(netmaker_server_valid("localhost"));

        ASSERT_TRUE(!netmaker_server_valid(""));
        ASSERT_TRUE(!netmaker_server_valid("https://api.example.org"));
        ASSERT_TRUE(!netmaker_server_valid("api.example.org/path"));
        ASSERT_TRUE(!netmaker_server_valid("user@api.example.org"));
        ASSERT_TRUE(!netmaker_server_valid("api.example.org:0"));
        ASSERT_TRUE(!netmaker_server_valid("api.example.org:65536"));
        ASSERT_TRUE(!netmaker_server_valid("api.example.org:"));
        ASSERT_TRUE(!netmaker_server_valid("api example.org"));
        ASSERT_TRUE(!netmaker_server_valid("[fe80::1"));
        ASSERT_TRUE(!netmaker_server_valid("[not-v6]:1"));
        ASSERT_TRUE(!netmaker_server_valid("-bad.example.org"));
}

static int env(const char *text, char **ret, Diag *d) {
        return netmaker_env_parse(text, strlen(text), "/etc/op-dbus/netmaker.env", "plugins.netmaker.token_file", ret, d);
}

TEST(test_env_parse) {
        static const char *const good[] = {
                "NETMAKER_TOKEN=\"abcdefgh\"\n",
                "NETMAKER_TOKEN='abcdefgh'",
                "NETMAKER_TOKEN=abcdefgh\n",
                "# comment\n\nexport NETMAKER_TOKEN=\"abcdefgh\"  # why\n",
                "NETMAKER_TOKEN_FILE=/x\nOTHER=1\nNETMAKER_TOKEN=\"abcdefgh\"\r\n",
                "NETMAKER_TOKEN=\"old-old\"\nNETMAKER_TOKEN=\"abcdefgh\"\n", /* the last one wins */
                "  \tNETMAKER_TOKEN=\"abcdefgh\"",
        };
        static const char *const bad[] = {
                "NETMAKER_TOKEN=\"abcdefgh\n",
                "NETMAKER_TOKEN=\"\"\n",
                "NETMAKER_TOKEN = \"abcdefgh\"\n",
                "NETMAKER_TOKEN=\"abcdefgh\" trailing\n",
                "NETMAKER_TOKEN=\"abc$HOMEdefgh\"\n",
                "NETMAKER_TOKEN=abc\\defgh\n",
                "NETMAKER_TOKEN: abcdefgh\n",
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_(diag_done) Diag d = {};
                _cleanup_(freep) char *t = NULL;

                if (env(good[i], &t, &d) != 0)
                        TEST_FAIL("good[%zu] rejected: %s", i, first_message(&d));
                ASSERT_STREQ(t, "abcdefgh");
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(diag_done) Diag d = {};
                _cleanup_(freep) char *t = NULL;

                if (env(bad[i], &t, &d) != -EBADMSG)
                        TEST_FAIL("bad[%zu] accepted", i);
                ASSERT_EQ(d.n_entries, 1);
                ASSERT_STREQ(d.entries[0].path, "plugins.netmaker.token_file");
                ASSERT_CONTAINS(d.entries[0].message, "line ");
                assert_not_in_diag(&d, "abcdefgh");
                assert_not_in_diag(&d, "abc");
        }

        {
                _cleanup_(diag_done) Diag d = {};
                _cleanup_(freep) char *t = NULL;

                ASSERT_EQ(env("OTHER=1\n", &t, &d), -ENOENT);
                ASSERT_CONTAINS(first_message(&d), "does not set NETMAKER_TOKEN");
                ASSERT_EQ(netmaker_env_parse("NETMAKER_TOKEN=a\0b", 18, "f", "p", &t, &d), -EBADMSG);
        }
}

static int decode(const char *token, NetmakerToken *ret, Diag *d) {
        char *copy = strdup(token);

        ASSERT_TRUE(copy);
        return netmaker_token_decode(copy, "/etc/op-dbus/netmaker.env", "plugins.netmaker.token_file", ret, d);
}

/* base64 of s (for the test's own tokens) */
static char *b64(const char *s) {
        static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t n = strlen(s), k = 0;
        char *out = calloc(n / 3 * 4 + 5, 1);

        ASSERT_TRUE(out);
        for (size_t i = 0; i < n; i += 3) {
                unsigned v = (unsigned char) s[i] << 16 | (i + 1 < n ? (unsigned char) s[i + 1] << 8 : 0) |
                             (i + 2 < n ? (unsigned char) s[i + 2] : 0);

                out[k++] = a[v >> 18 & 63];
                out[k++] = a[v >> 12 & 63];
                out[k++] = i + 1 < n ? a[v >> 6 & 63] : '=';
                out[k++] = i + 2 < n ? a[v & 63] : '=';
        }
        return out;
}

TEST(test_token_decode) {
        _cleanup_(netmaker_token_done) NetmakerToken t = {};
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(freep) char *mine = b64(token_json);

        ASSERT_STREQ(mine, token_b64);
        ASSERT_EQ(decode(token_b64, &t, &d), 0);
        ASSERT_STREQ(t.server, "api.netmaker.example.org");
        ASSERT_STREQ(t.key, "K3yV4lu3S3cr3tK3yV4lu3S3cr3t0000");
        ASSERT_STREQ(t.token, token_b64);
        netmaker_token_done(&t);

        /* older access keys: apiconnstring */
        {
                _cleanup_(freep) char *old = b64("{\"apiconnstring\":\"api.example.org:443\",\"network\":\"n\",\"key\":\"abcdefgh\"}");

                ASSERT_EQ(decode(old, &t, &d), 0);
                ASSERT_STREQ(t.server, "api.example.org:443");
                ASSERT_STREQ(t.key, "abcdefgh");
                netmaker_token_done(&t);
        }
        /* "server" wins over "apiconnstring" */
        {
                _cleanup_(freep) char *both = b64("{\"apiconnstring\":\"old.example.org:443\",\"server\":\"new.example.org\"}");

                ASSERT_EQ(decode(both, &t, &d), 0);
                ASSERT_STREQ(t.server, "new.example.org");
                ASSERT_TRUE(!t.key);
                netmaker_token_done(&t);
        }
        ASSERT_EQ(d.n_entries, 0);
}

TEST(test_token_decode_malformed) {
        static const struct {
                const char *json;      /* base64-encoded by the test; NULL: token used as is */
                const char *token;
                const char *message;
        } cases[] = {
                { NULL, "not base64 at all!", "it is not base64" },
                { NULL, "abcde", "it is not base64" },
                { "secret-but-not-json", NULL, "not of a JSON object" },
                { "[\"server\", \"x\"]", NULL, "not of a JSON object" },
                { "{\"server\":\"a.example.org\"} trailing", NULL, "not of a JSON object" },
                { "{\"value\":\"abcdefghijkl\"}", NULL, "names no Netmaker server" },
                { "{\"server\":\"\",\"value\":\"abcdefghijkl\"}", NULL, "names no Netmaker server" },
                { "{\"server\":42}", NULL, "names no Netmaker server" },
                { "{\"server\":\"evil.example.org/x?abcdefghijkl\"}", NULL, "not a host name or host:port" },
                { "{\"server\":\"https://api.example.org\"}", NULL, "not a host name or host:port" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(netmaker_token_done) NetmakerToken t = {};
                _cleanup_(diag_done) Diag d = {};
                _cleanup_(freep) char *token = cases[i].json ? b64(cases[i].json) : strdup(cases[i].token);

                if (decode(token, &t, &d) != -EBADMSG)
                        TEST_FAIL("case %zu accepted", i);
                ASSERT_EQ(d.n_entries, 1);
                ASSERT_STREQ(d.entries[0].path, "plugins.netmaker.token_file");
                ASSERT_CONTAINS(d.entries[0].message, cases[i].message);
                ASSERT_CONTAINS(d.entries[0].message, "/etc/op-dbus/netmaker.env");
                assert_not_in_diag(&d, token);
                assert_not_in_diag(&d, "abcdefghijkl");
                assert_not_in_diag(&d, "secret");
        }
}

TEST(test_check_stat) {
        struct stat st = { .st_mode = S_IFREG | 0600, .st_uid = 0 };
        _cleanup_(diag_done) Diag d = {};

        ASSERT_EQ(netmaker_token_check_stat(&st, "/etc/op-dbus/netmaker.env", "p", &d), 0);
        st.st_mode = S_IFREG | 0400;
        ASSERT_EQ(netmaker_token_check_stat(&st, "/etc/op-dbus/netmaker.env", "p", &d), 0);
        ASSERT_EQ(d.n_entries, 0);

        st.st_mode = S_IFREG | 0644;
        ASSERT_EQ(netmaker_token_check_stat(&st, "/etc/op-dbus/netmaker.env", "p", &d), -EPERM);
        ASSERT_CONTAINS(first_message(&d), "/etc/op-dbus/netmaker.env has mode 0644");
        diag_done(&d);

        st.st_mode = S_IFREG | 0600;
        st.st_uid = 1000;
        ASSERT_EQ(netmaker_token_check_stat(&st, "/etc/op-dbus/netmaker.env", "p", &d), -EPERM);
        ASSERT_CONTAINS(first_message(&d), "owned by uid 1000");
        diag_done(&d);

        st.st_mode = S_IFDIR | 0700;
        st.st_uid = 0;
        ASSERT_EQ(netmaker_token_check_stat(&st, "/etc/op-dbus", "p", &d), -EINVAL);
        ASSERT_CONTAINS(first_message(&d), "not a regular file");
}

TEST(test_token_load) {
        char dir[] = "/tmp/test-netmaker.XXXXXX", file[64];
        _cleanup_(netmaker_token_done) NetmakerToken t = {};
        _cleanup_(diag_done) Diag d = {};
        FILE *f;

        ASSERT_TRUE(mkdtemp(dir));
        snprintf(file, sizeof file, "%s/netmaker.env", dir);
        ASSERT_EQ(netmaker_token_load(file, "p", &t, &d), -ENOENT);
        ASSERT_CONTAINS(first_message(&d), "does not exist");
        diag_done(&d);

        f = fopen(file, "we");
        ASSERT_TRUE(f);
        fprintf(f, "NETMAKER_TOKEN=\"%s\"\n", token_b64);
        fclose(f);
        ASSERT_EQ(chmod(file, 0644), 0);
        if (geteuid() == 0) {
                ASSERT_EQ(netmaker_token_load(file, "p", &t, &d), -EPERM);
                ASSERT_CONTAINS(first_message(&d), "mode 0644");
                diag_done(&d);
                ASSERT_EQ(chmod(file, 0600), 0);
                ASSERT_EQ(netmaker_token_load(file, "p", &t, &d), 0);
                ASSERT_STREQ(t.server, "api.netmaker.example.org");
        }
        assert_not_in_diag(&d, token_b64);
        ASSERT_EQ(unlink(file), 0);
        ASSERT_EQ(rmdir(dir), 0);
}

TEST(test_redact) {
        NetmakerToken t = { .token = (char *) "TOKENVALUE123", .key = (char *) "KEY4567" };
        _cleanup_(freep) char *a = netmaker_redact("x TOKENVALUE123 y KEY4567 z TOKENVALUE123", &t);
        _cleanup_(freep) char *b = netmaker_redact("nothing here", &t);
        _cleanup_(freep) char *c = netmaker_redact("short", NULL);

        ASSERT_STREQ(a, "x <redacted> y <redacted> z <redacted>");
        ASSERT_STREQ(b, "nothing here");
        ASSERT_STREQ(c, "short");
}

TEST(test_health_url) {
        _cleanup_(freep) char *a = netmaker_health_url(NULL, "api.example.org:8443");
        _cleanup_(freep) char *b = netmaker_health_url("https://nm.example.org/", "ignored");
        _cleanup_(freep) char *c = netmaker_health_url("https://nm.example.org/base", "ignored");

        ASSERT_STREQ(a, "https://api.example.org:8443/api/server/health");
        ASSERT_STREQ(b, "https://nm.example.org/api/server/health");
        ASSERT_STREQ(c, "https://nm.example.org/base/api/server/health");
}

/* A local port where nothing listens. */
static unsigned closed_port(void) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof a;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(bind(fd, (struct sockaddr *) &a, sizeof a), 0);
        ASSERT_EQ(getsockname(fd, (struct sockaddr *) &a, &len), 0);
        close(fd);
        return ntohs(a.sin_port);
}

TEST(test_health_refused) {
        _cleanup_(diag_done) Diag d = {};
        char url[128];

        snprintf(url, sizeof url, "https://127.0.0.1:%u/api/server/health", closed_port());
        ASSERT_EQ(netmaker_health_check(url, "plugins.netmaker.token_file", &d), -ECONNREFUSED);
        ASSERT_EQ(d.n_entries, 1);
        ASSERT_STREQ(d.entries[0].path, "plugins.netmaker.token_file");
        ASSERT_CONTAINS(d.entries[0].message, url);
        ASSERT_CONTAINS(d.entries[0].message, "connection refused");
        diag_done(&d);

        /* plain http is refused by the check itself */
        snprintf(url, sizeof url, "http://127.0.0.1:%u/api/server/health", closed_port());
        ASSERT_EQ(netmaker_health_check(url, "p", &d), -EPROTO);
}

TEST(test_unit_text) {
        const char *u = netmaker_unit_text();

        ASSERT_CONTAINS(u, "\nType=oneshot\n");
        ASSERT_CONTAINS(u, "\nConditionPathExists=!/var/lib/netmaker/joined\n");
        ASSERT_CONTAINS(u, "\nExecStart=/bin/sh -c 'netclient join -t \"$(cat /etc/netmaker/enrollment-token)\" && "
                           "mkdir -p /var/lib/netmaker && touch /var/lib/netmaker/joined'\n");
        ASSERT_CONTAINS(u, "\n[Install]\nWantedBy=multi-user.target\n");
}

static const char doc_json[] =
        "{\"version\": 1, \"plugins\": {"
        " \"net\": {\"bridges\": [{\"name\": \"mesh\"}]},"
        " \"openflow\": {\"bridges\": [{\"name\": \"ofmesh\"}]},"
        " \"lxc\": {\"containers\": ["
        "   {\"id\": 100, \"properties\": {\"network_type\": \"bridge\"}},"
        "   {\"id\": 104, \"properties\": {\"network_type\": \"netmaker\"}},"
        "   {\"id\": \"105\", \"network\": {\"bridge\": \"ofmesh\"}, \"properties\": {\"network_type\": \"netmaker\"}},"
        "   {\"id\": 106, \"network\": {\"bridge\": \"nowhere\"}, \"properties\": {\"network_type\": \"netmaker\"}},"
        "   {\"id\": \"bad\", \"properties\": {\"network_type\": \"netmaker\"}}]},"
        " \"netmaker\": {\"enabled\": true, \"token_file\": \"/nonexistent/netmaker.env\"}}}";

TEST(test_containers_from_doc) {
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;
        _cleanup_(diag_done) Diag d = {};
        NetmakerContainer *c = NULL;
        size_t n = 0;
        _cleanup_(freep) char *lxc_backend = NULL;

        ASSERT_EQ(state_doc_parse(doc_json, strlen(doc_json), "test", &doc, &d), 0);
        ASSERT_EQ(netmaker_containers_from_doc(doc, &c, &n, &lxc_backend), 0);
        ASSERT_EQ(n, 3);
        ASSERT_TRUE(!lxc_backend); /* not given: "auto" */
        ASSERT_EQ(c[0].id, 104);
        ASSERT_STREQ(c[0].path, "plugins.lxc.containers[1]");
        ASSERT_STREQ(c[0].bridge, "mesh");
        ASSERT_TRUE(c[0].bridge_declared);
        ASSERT_EQ(c[1].id, 105);
        ASSERT_STREQ(c[1].bridge, "ofmesh");
        ASSERT_TRUE(c[1].bridge_declared);
        ASSERT_EQ(c[2].id, 106);
        ASSERT_TRUE(!c[2].bridge_declared);
        netmaker_containers_free(c, n);
}

/* The plan the plugin makes from what the containers hold (set by hand
 * instead of a query), after parsing doc_json. */
TEST(test_diff) {
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;
        _cleanup_(plugin_freep) Plugin *p = NULL;
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(plan_done) Plan plan = {};
        PluginContext ctx = {};
        NetmakerPlugin *n;

        ASSERT_EQ(state_doc_parse(doc_json, strlen(doc_json), "test", &doc, &d), 0);
        ASSERT_EQ(plugin_new(&netmaker_plugin_vtable, &ctx, &p), 0);
        ASSERT_EQ(p->vtable->parse(p, doc, state_doc_section(doc, "netmaker"), &d), 1);
        ASSERT_EQ(d.n_entries, 0);
        n = (NetmakerPlugin *) p;

        /* an undeclared bridge makes the plan impossible */
        ASSERT_EQ(p->vtable->diff(p, &plan, &d), -EINVAL);
        ASSERT_EQ(d.n_entries, 1);
        ASSERT_STREQ(d.entries[0].path, "plugins.lxc.containers[3].network.bridge");
        ASSERT_CONTAINS(d.entries[0].message, "bridge \"nowhere\" is not declared in plugins.net");
        diag_done(&d);

        n->containers[2].bridge_declared = true; /* as if 106's bridge were declared */
        /* the containers through pct, as a query on a Proxmox VE node finds them */
        ASSERT_EQ(lxc_access_open(p->ctx, "pct", &n->access, &d), 0);
        n->targets = calloc(4, sizeof(NetmakerTarget));
        ASSERT_TRUE(n->targets);
        n->n_targets = 3;
        n->targets[0] = (NetmakerTarget) { .id = 104, .wanted = true, .exists = true, .owned = true, .running = true,
                                           .inspected = true, .token_present = true, .token_current = true, .unit_present = true,
                                           .unit_current = true, .unit_enabled = true };
        n->targets[1] = (NetmakerTarget) { .id = 105, .wanted = true, .exists = true, .owned = true, .running = true,
                                           .inspected = true };
        n->targets[2] = (NetmakerTarget) { .id = 107, .wanted = true, .exists = true, .owned = true };
        ASSERT_EQ(p->vtable->diff(p, &plan, &d), 0);
        ASSERT_EQ(plan.n_actions, 2);
        ASSERT_STREQ(plan.actions[0].path, "netmaker/container/105");
        ASSERT_EQ(plan.actions[0].kind, ACTION_CREATE);
        ASSERT_EQ(plan.actions[0].impact, IMPACT_NONE);
        ASSERT_STREQ(plan.actions[0].detail, "inject the enrollment token and the first-boot unit");
        ASSERT_TRUE(!plan.actions[0].held);
        ASSERT_STREQ(plan.actions[1].path, "netmaker/container/107");
        ASSERT_TRUE(!plan.actions[1].held); /* stopped: through its root file system */
        ASSERT_CONTAINS(plan.actions[1].detail, "stopped container's root file system (pct mount)");
        ASSERT_EQ(d.n_entries, 0);
        plan_done(&plan);

        /* stopped, and the ledger records the current token for it: nothing */
        n->targets[2].recorded = n->targets[2].recorded_current = true;
        ASSERT_EQ(p->vtable->diff(p, &plan, &d), 0);
        ASSERT_EQ(plan.n_actions, 1);
        ASSERT_STREQ(plan.actions[0].path, "netmaker/container/105");
        plan_done(&plan);
        /* ... recorded with another token: injected again */
        n->targets[2].recorded_current = false;
        ASSERT_EQ(p->vtable->diff(p, &plan, &d), 0);
        ASSERT_EQ(plan.n_actions, 2);
        ASSERT_EQ(plan.actions[1].kind, ACTION_MODIFY);
        plan_done(&plan);
        diag_done(&d);

        /* a rotated token: modify */
        n->targets[1] = n->targets[0];
        n->targets[1].id = 105;
        n->targets[1].token_current = false;
        n->n_targets = 2;
        ASSERT_EQ(p->vtable->diff(p, &plan, &d), 0);
        ASSERT_EQ(plan.n_actions, 1);
        ASSERT_EQ(plan.actions[0].kind, ACTION_MODIFY);
        ASSERT_CONTAINS(plan.actions[0].detail, "replace the enrollment token");
        plan_done(&plan);

        /* a container op-dbus did not create is not touched */
        n->targets[1].owned = false;
        ASSERT_EQ(p->vtable->diff(p, &plan, &d), -EINVAL);
        ASSERT_EQ(diag_count(&d, DIAG_ERROR), 1);
        ASSERT_STREQ(d.entries[0].path, "plugins.lxc.containers[2]");
        ASSERT_CONTAINS(d.entries[0].message, "lacks the Proxmox tag \"op-dbus\"");
}

int main(void) {
        /* the server checks go to 127.0.0.1 directly */
        static const char *const proxies[] = { "http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY",
                                               "HTTPS_PROXY", "ALL_PROXY" };

        for (size_t i = 0; i < ELEMENTSOF(proxies); i++)
                (void) unsetenv(proxies[i]);
        RUN(test_sha256);
        RUN(test_base64);
        RUN(test_server_valid);
        RUN(test_env_parse);
        RUN(test_token_decode);
        RUN(test_token_decode_malformed);
        RUN(test_check_stat);
        RUN(test_token_load);
        RUN(test_redact);
        RUN(test_health_url);
        RUN(test_health_refused);
        RUN(test_unit_text);
        RUN(test_containers_from_doc);
        RUN(test_diff);
        return 0;
}
