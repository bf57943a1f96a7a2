/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container services renderer: the configuration blocks of the
 * privacy-client and privacy-vps profiles, rendered and checked line by
 * line, and the errors for bad input with their paths.
 *
 * With SERVICES_OUT set, every rendered example is also written below
 * $SERVICES_OUT/<example>/ (files at their container paths, with their
 * modes, and manifest.json), for tests/integration/test_services.py to check
 * with wg-quick, nft and v2ray. "test-services --render DIR" renders
 * {"config": ..., "services": [...]} from standard input into DIR the same
 * way (exit status 0, or 2 with the errors on standard error). */

#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fileio.h"
#include "json-util.h"
#include "services.h"
#include "tests.h"

#define CPATH "plugins.lxc.containers[0]"

/* Valid stand-ins for the profiles' placeholders. */
#define CLIENT_KEY "NtMMQt2C9R+oxQ/CphmuHQVxlzYq0ogmeDqcRjvYg0s="
#define CLIENT2_KEY "cln6xkrTEy0V5Zo18SD1Rl5eXN68wfTsgD+6mo76yjg="
#define WARP_KEY "bmXOC+F1FxEMF9dyiK2H5/1SUtzH0JuVo51h2wPfgyo="
#define VMESS_ID "cf26aea6-495e-4eff-8277-c959086d6673"
#define VPS_ADDRESS "203.0.113.10"

/* The "config" blocks of docs profiles 2 and 3, as written there; %s marks
 * where a placeholder stands. */
#define GATEWAY_CONFIG                                                        \
        "{\"wg0\": {\"address\": \"10.99.0.1/24\", \"listen_port\": 51820,"   \
        " \"private_key_file\": \"/etc/wireguard/private.key\","              \
        " \"peers\": [{\"public_key\": \"%s\", \"allowed_ips\": [\"10.99.0.0/24\"]}]}}"
#define WARP_CONFIG                                                           \
        "{\"wg-quick\": {\"interface\": \"wg-warp\", \"address\": \"10.99.1.2/32\","       \
        " \"private_key_file\": \"/etc/wireguard/warp-private.key\","          \
        " \"endpoint\": \"engage.cloudflareclient.com:2408\", \"public_key\": \"%s\","      \
        " \"post_up\": \"ovs-vsctl add-port ovsbr0 wg-warp\"}}"
#define XRAY_CLIENT_CONFIG                                                    \
        "{\"xray\": {\"inbound\": {\"port\": 1080, \"protocol\": \"socks\"},"  \
        " \"outbound\": {\"protocol\": \"vmess\", \"server\": \"%s\", \"port\": 443,"      \
        " \"id\": \"%s\", \"alterId\": 0, \"security\": \"auto\"%s}}}"
#define XRAY_SERVER_CONFIG                                                    \
        "{\"xray\": {\"inbound\": {\"port\": 443, \"protocol\": \"vmess\","    \
        " \"settings\": {\"clients\": [{\"id\": \"%s\", \"alterId\": 0}]},"    \
        " \"streamSettings\": {\"network\": \"tcp\", \"security\": \"tls\","   \
        " \"tlsSettings\": {\"certificates\": [{\"certificateFile\": \"/etc/xray/cert.pem\","  \
        " \"keyFile\": \"/etc/xray/key.pem\"}]}}},"                            \
        " \"outbound\": {\"protocol\": \"freedom\"}}}"
#define CLIENT_TLS ", \"streamSettings\": {\"security\": \"tls\", \"tlsSettings\": {\"serverName\": \"vps.example.net\"}}"

/* ---- helpers ---------------------------------------------------------------- */

static json_object *parse(const char *text) {
        json_object *o = json_tokener_parse(text);

        if (!o)
                TEST_FAIL("not JSON: %s", text);
        return o;
}

static char *fmt(const char *f, ...) _printf_(1, 2);
static char *fmt(const char *f, ...) {
        va_list ap;
        char *s;

        va_start(ap, f);
        ASSERT_TRUE(vasprintf(&s, f, ap) >= 0);
        va_end(ap);
        return s;
}

static int render(const char *config, const char *const *services, ServiceFiles *out, Diag *d) {
        _cleanup_(json_object_putp) json_object *c = config ? parse(config) : NULL;
        size_t n = 0;

        while (services[n])
                n++;
        return services_render(c, (char *const *) services, n, CPATH, out, d);
}

static const ServiceFile *file(const ServiceFiles *f, const char *path) {
        for (size_t i = 0; i < f->n_files; i++)
                if (streq(f->files[i].path, path))
                        return &f->files[i];
        TEST_FAIL("no rendered file %s", path);
}

static bool strv_has(char *const *l, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

/* True if text has line as one whole line. */
static bool has_line(const char *text, const char *line) {
        size_t n = strlen(line);

        for (const char *p = text; (p = strstr(p, line)); p++)
                if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0))
                        return true;
        return false;
}

#define ASSERT_LINE(text, line)                                                 \
        do {                                                                    \
                if (!has_line((text), (line)))                                  \
                        TEST_FAIL("no line \"%s\" in:\n%s", (line), (text));    \
        } while (0)

/* The entry "path: message" of the given level that contains needle. */
static bool diag_has(const Diag *d, DiagLevel level, const char *needle) {
        for (size_t i = 0; i < d->n_entries; i++) {
                _cleanup_(freep) char *s = NULL;

                if (d->entries[i].level != level)
                        continue;
                s = diag_entry_format(&d->entries[i]);
                if (s && strstr(s, needle))
                        return true;
        }
        return false;
}

#define ASSERT_DIAG(d, level, needle)                                           \
        do {                                                                    \
                if (!diag_has((d), (level), (needle))) {                        \
                        diag_print((d), stderr, "  ");                          \
                        TEST_FAIL("no %s containing \"%s\"", diag_level_to_string(level), (needle)); \
                }                                                               \
        } while (0)

/* A member of o by a path such as "outbounds[0].settings.vnext[0].port". */
static json_object *jget(json_object *o, const char *path) {
        _cleanup_(freep) char *p = strdup(path);
        char *save = NULL;

        ASSERT_TRUE(p);
        for (char *tok = strtok_r(p, ".", &save); tok && o; tok = strtok_r(NULL, ".", &save)) {
                char *br = strchr(tok, '[');

                if (br)
                        *br = 0;
                if (*tok && !json_object_object_get_ex(o, tok, &o))
                        return NULL;
                for (; br; br = strchr(br + 1, '['))
                        o = json_object_array_get_idx(o, (size_t) atoi(br + 1));
        }
        return o;
}

static const char *jstr(json_object *o, const char *path) {
        json_object *v = jget(o, path);

        if (!v)
                TEST_FAIL("no %s in %s", path, json_object_to_json_string(o));
        return json_object_get_string(v);
}

/* ---- SERVICES_OUT ---------------------------------------------------------------- */

static json_object *manifest(const ServiceFiles *f, const Diag *d) {
        json_object *m = json_object_new_object(), *files = json_object_new_array(), *inputs = json_object_new_array(),
                *units = json_object_new_array(), *packages = json_object_new_array();

        for (size_t i = 0; i < f->n_files; i++) {
                json_object *e = json_object_new_object();

                json_object_object_add(e, "path", json_object_new_string(f->files[i].path));
                json_object_object_add(e, "mode", json_object_new_int((int) f->files[i].mode));
                json_object_object_add(e, "secret", json_object_new_boolean(f->files[i].secret));
                json_object_array_add(files, e);
        }
        for (size_t i = 0; i < f->n_inputs; i++) {
                json_object *e = json_object_new_object();

                json_object_object_add(e, "path", json_object_new_string(f->inputs[i].path));
                json_object_object_add(e, "kind", json_object_new_string(service_input_kind_to_string(f->inputs[i].kind)));
                json_object_object_add(e, "secret", json_object_new_boolean(f->inputs[i].secret));
                json_object_object_add(e, "json_path", json_object_new_string(f->inputs[i].json_path));
                json_object_array_add(inputs, e);
        }
        for (size_t i = 0; i < f->n_units; i++)
                json_object_array_add(units, json_object_new_string(f->units[i]));
        for (size_t i = 0; i < f->n_packages; i++)
                json_object_array_add(packages, json_object_new_string(f->packages[i]));
        json_object_object_add(m, "files", files);
        json_object_object_add(m, "inputs", inputs);
        json_object_object_add(m, "units", units);
        json_object_object_add(m, "packages", packages);
        json_object_object_add(m, "warnings", diag_to_json(d, DIAG_WARNING));
        return m;
}

/* Writes the files of f below dir at their container paths. */
static void write_tree(const char *dir, const ServiceFiles *f, const Diag *d) {
        _cleanup_(json_object_putp) json_object *m = manifest(f, d);
        _cleanup_(freep) char *mp = fmt("%s/manifest.json", dir), *mtext = json_to_string_pretty(m);

        for (size_t i = 0; i < f->n_files; i++) {
                _cleanup_(freep) char *p = fmt("%s%s", dir, f->files[i].path), *parent = strdup(p);

                ASSERT_EQ(mkdir_p(dirname(parent), 0755), 0);
                ASSERT_EQ(write_file_atomic(p, f->files[i].content, strlen(f->files[i].content), f->files[i].mode), 0);
        }
        ASSERT_EQ(mkdir_p(dir, 0755), 0);
        ASSERT_EQ(write_file_atomic(mp, mtext, strlen(mtext), 0644), 0);
}

static void save_example(const char *name, const ServiceFiles *f, const Diag *d) {
        const char *out = getenv("SERVICES_OUT");
        _cleanup_(freep) char *dir = NULL;

        if (!out || !*out)
                return;
        dir = fmt("%s/%s", out, name);
        write_tree(dir, f, d);
}

/* ---- the profiles' blocks ----------------------------------------------------------- */

TEST(test_gateway) {
        _cleanup_(freep) char *config = fmt(GATEWAY_CONFIG, CLIENT_KEY);
        _cleanup_(service_files_done) ServiceFiles f = {};
        _cleanup_(diag_done) Diag d = {};
        const ServiceFile *conf, *nft;

        ASSERT_EQ(render(config, (const char *[]) { "wireguard", NULL }, &f, &d), 0);
        ASSERT_EQ(d.n_entries, 0);
        ASSERT_EQ(f.n_files, 2);
        conf = file(&f, "/etc/wireguard/wg0.conf");
        ASSERT_EQ(conf->mode, 0600);
        ASSERT_TRUE(!conf->secret);
        ASSERT_LINE(conf->content, "[Interface]");
        ASSERT_LINE(conf->content, "Address = 10.99.0.1/24");
        ASSERT_LINE(conf->content, "ListenPort = 51820");
        ASSERT_LINE(conf->content, "PostUp = wg set %i private-key /etc/wireguard/private.key");
        ASSERT_LINE(conf->content, "PostUp = sysctl -q -w net.ipv4.ip_forward=1");
        ASSERT_LINE(conf->content, "PostUp = nft -f /etc/wireguard/wg0.nft");
        ASSERT_LINE(conf->content, "PostDown = nft delete table ip op-dbus-wg0");
        ASSERT_LINE(conf->content, "[Peer]");
        ASSERT_LINE(conf->content, "PublicKey = " CLIENT_KEY);
        ASSERT_LINE(conf->content, "AllowedIPs = 10.99.0.0/24");
        ASSERT_TRUE(!strstr(conf->content, "PrivateKey"));
        ASSERT_TRUE(!strstr(conf->content, "Endpoint"));

        nft = file(&f, "/etc/wireguard/wg0.nft");
        ASSERT_EQ(nft->mode, 0600);
        ASSERT_LINE(nft->content, "                ip saddr { 10.99.0.0/24 } oifname != \"wg0\" masquerade");

        ASSERT_EQ(f.n_units, 1);
        ASSERT_STREQ(f.units[0], "wg-quick@wg0.service");
        ASSERT_TRUE(strv_has(f.packages, f.n_packages, "wireguard-tools"));
        ASSERT_TRUE(strv_has(f.packages, f.n_packages, "nftables"));
        ASSERT_EQ(f.n_inputs, 1);
        ASSERT_STREQ(f.inputs[0].path, "/etc/wireguard/private.key");
        ASSERT_EQ(f.inputs[0].kind, SERVICE_INPUT_WIREGUARD_KEY);
        ASSERT_TRUE(f.inputs[0].secret);
        ASSERT_STREQ(f.inputs[0].json_path, CPATH ".config.wg0.private_key_file");
        save_example("gateway", &f, &d);
}

TEST(test_gateway_options) {
        static const char *const config =
                "{\"wg0\": {\"address\": [\"10.99.0.1/24\", \"fd99::1/64\", \"10.98.0.1/16\"],"
                " \"private_key_file\": \"/etc/wireguard/private.key\", \"mtu\": 1420,"
                " \"peers\": [{\"public_key\": \"" CLIENT_KEY "\", \"allowed_ips\": [\"10.99.0.2/32\", \"fd99::2/128\"],"
                "   \"endpoint\": \"[2001:db8::7]:51820\", \"persistent_keepalive\": 25},"
                "  {\"public_key\": \"" CLIENT2_KEY "\", \"allowed_ips\": [\"10.99.0.3/32\"],"
                "   \"endpoint\": \"client.example.net:4500\"}]}}";
        _cleanup_(service_files_done) ServiceFiles f = {}, g = {};
        _cleanup_(diag_done) Diag d = {};
        const ServiceFile *conf;

        /* "wg-quick@wg0" selects config.wg0 as well; the unit is listed once. */
        ASSERT_EQ(render(config, (const char *[]) { "wireguard", "wg-quick@wg0.service", NULL }, &f, &d), 0);
        ASSERT_EQ(d.n_entries, 0);
        ASSERT_EQ(f.n_units, 1);
        conf = file(&f, "/etc/wireguard/wg0.conf");
        ASSERT_LINE(conf->content, "Address = 10.99.0.1/24, fd99::1/64, 10.98.0.1/16");
        ASSERT_LINE(conf->content, "ListenPort = 51820");
        ASSERT_LINE(conf->content, "MTU = 1420");
        ASSERT_LINE(conf->content, "AllowedIPs = 10.99.0.2/32, fd99::2/128");
        ASSERT_LINE(conf->content, "Endpoint = [2001:db8::7]:51820");
        ASSERT_LINE(conf->content, "PersistentKeepalive = 25");
        ASSERT_LINE(conf->content, "Endpoint = client.example.net:4500");
        ASSERT_LINE(file(&f, "/etc/wireguard/wg0.nft")->content,
                    "                ip saddr { 10.99.0.0/24, 10.98.0.0/16 } oifname != \"wg0\" masquerade");
        save_example("gateway-options", &f, &d);

        /* Without forwarding: no NAT table, no sysctl. */
        ASSERT_EQ(render("{\"wg0\": {\"address\": \"10.99.0.1/24\", \"forward\": false,"
                         " \"private_key_file\": \"/etc/wireguard/private.key\"}}",
                         (const char *[]) { "wireguard", NULL }, &g, &d), 0);
        ASSERT_EQ(g.n_files, 1);
        ASSERT_TRUE(!strstr(g.files[0].content, "sysctl"));
        ASSERT_TRUE(!strv_has(g.packages, g.n_packages, "nftables"));
}

TEST(test_placeholders_are_left_alone) {
        _cleanup_(freep) char *gw = fmt(GATEWAY_CONFIG, "CLIENT_PUBLIC_KEY"), *warp = fmt(WARP_CONFIG, "WARP_PUBLIC_KEY"),
                *xray = fmt(XRAY_CLIENT_CONFIG, "VPS_IP", "UUID", "");
        _cleanup_(service_files_done) ServiceFiles a = {}, b = {}, c = {};
        _cleanup_(diag_done) Diag d = {};

        ASSERT_EQ(render(gw, (const char *[]) { "wireguard", NULL }, &a, &d), 0);
        ASSERT_LINE(file(&a, "/etc/wireguard/wg0.conf")->content, "PublicKey = CLIENT_PUBLIC_KEY");
        ASSERT_EQ(render(warp, (const char *[]) { "wg-quick@wg-warp", NULL }, &b, &d), 0);
        ASSERT_EQ(render(xray, (const char *[]) { "xray", NULL }, &c, &d), 0);
        ASSERT_EQ(diag_count(&d, DIAG_ERROR), 0);
        /* Only the warnings of the blocks themselves (post_up, plain TCP). */
        ASSERT_EQ(diag_count(&d, DIAG_WARNING), 2);
}

TEST(test_warp) {
        _cleanup_(freep) char *config = fmt(WARP_CONFIG, WARP_KEY);
        _cleanup_(service_files_done) ServiceFiles f = {};
        _cleanup_(diag_done) Diag d = {};
        const ServiceFile *conf, *nft;

        ASSERT_EQ(render(config, (const char *[]) { "wg-quick@wg-warp", NULL }, &f, &d), 0);
        /* The design's post_up is not rendered, with a warning at its path. */
        ASSERT_EQ(d.n_entries, 1);
        ASSERT_DIAG(&d, DIAG_WARNING, CPATH ".config.wg-quick.post_up: ignored: there is no Open vSwitch inside an unprivileged container");
        ASSERT_EQ(f.n_files, 2);
        conf = file(&f, "/etc/wireguard/wg-warp.conf");
        ASSERT_EQ(conf->mode, 0600);
        ASSERT_TRUE(!strstr(conf->content, "ovs-vsctl"));
        ASSERT_TRUE(!strstr(conf->content, "PrivateKey"));
        ASSERT_LINE(conf->content, "Address = 10.99.1.2/32");
        ASSERT_LINE(conf->content, "PostUp = wg set %i private-key /etc/wireguard/warp-private.key");
        ASSERT_LINE(conf->content, "Table = 51820");
        ASSERT_LINE(conf->content, "PostUp = ip -4 route replace blackhole default metric 4294967295 table 51820");
        ASSERT_LINE(conf->content, "PostUp = ip -4 rule del pref 20000 iif eth0 lookup main suppress_prefixlength 0 2>/dev/null || true; "
                    "ip -4 rule add pref 20000 iif eth0 lookup main suppress_prefixlength 0");
        ASSERT_LINE(conf->content, "PostUp = ip -4 rule del pref 20001 iif eth0 lookup 51820 2>/dev/null || true; "
                    "ip -4 rule add pref 20001 iif eth0 lookup 51820");
        ASSERT_LINE(conf->content, "PostUp = nft -f /etc/wireguard/wg-warp.nft");
        ASSERT_LINE(conf->content, "PostDown = nft delete table ip op-dbus-wg-warp");
        ASSERT_LINE(conf->content, "PublicKey = " WARP_KEY);
        ASSERT_LINE(conf->content, "AllowedIPs = 0.0.0.0/0, ::/0");
        ASSERT_LINE(conf->content, "Endpoint = engage.cloudflareclient.com:2408");

        nft = file(&f, "/etc/wireguard/wg-warp.nft");
        ASSERT_LINE(nft->content, "                oifname \"wg-warp\" masquerade");
        ASSERT_LINE(nft->content, "table ip op-dbus-wg-warp {");

        ASSERT_EQ(f.n_units, 1);
        ASSERT_STREQ(f.units[0], "wg-quick@wg-warp.service");
        ASSERT_EQ(f.n_inputs, 1);
        ASSERT_EQ(f.inputs[0].kind, SERVICE_INPUT_PROVIDED);
        ASSERT_TRUE(f.inputs[0].secret);
        save_example("warp", &f, &d);
}

TEST(test_warp_without_forwarding) {
        static const char *const config =
                "{\"wg-quick\": {\"interface\": \"wg-warp\", \"address\": [\"172.16.0.2/32\", \"2606:4700:110:8a36::2/128\"],"
                " \"private_key_file\": \"/etc/wireguard/warp-private.key\", \"mtu\": 1280,"
                " \"endpoint\": \"162.159.192.1:2408\", \"public_key\": \"" WARP_KEY "\","
                " \"persistent_keepalive\": 25, \"forward\": false}}";
        _cleanup_(service_files_done) ServiceFiles f = {};
        _cleanup_(diag_done) Diag d = {};
        const ServiceFile *conf;

        ASSERT_EQ(render(config, (const char *[]) { "wg-quick@wg-warp", NULL }, &f, &d), 0);
        ASSERT_EQ(d.n_entries, 0);
        ASSERT_EQ(f.n_files, 1);
        conf = file(&f, "/etc/wireguard/wg-warp.conf");
        ASSERT_LINE(conf->content, "Table = off");
        ASSERT_LINE(conf->content, "MTU = 1280");
        ASSERT_LINE(conf->content, "PersistentKeepalive = 25");
        ASSERT_TRUE(!strstr(conf->content, "sysctl"));
        ASSERT_TRUE(!strstr(conf->content, "ip -4 rule"));
        save_example("warp-no-forward", &f, &d);
}

TEST(test_xray_client) {
        _cleanup_(freep) char *config = fmt(XRAY_CLIENT_CONFIG, VPS_ADDRESS, VMESS_ID, "");
        _cleanup_(service_files_done) ServiceFiles f = {};
        _cleanup_(json_object_putp) json_object *j = NULL;
        _cleanup_(diag_done) Diag d = {};
        const ServiceFile *conf, *unit;

        ASSERT_EQ(render(config, (const char *[]) { "xray", NULL }, &f, &d), 0);
        /* Without TLS it works, but not against the privacy-vps server. */
        ASSERT_EQ(d.n_entries, 1);
        ASSERT_DIAG(&d, DIAG_WARNING, CPATH ".config.xray.outbound: VMess runs over plain TCP");
        conf = file(&f, "/usr/local/etc/xray/config.json");
        ASSERT_EQ(conf->mode, 0600);
        ASSERT_TRUE(conf->secret);
        j = parse(conf->content);
        ASSERT_STREQ(jstr(j, "log.access"), "none");
        ASSERT_STREQ(jstr(j, "inbounds[0].protocol"), "socks");
        ASSERT_STREQ(jstr(j, "inbounds[0].listen"), "0.0.0.0");
        ASSERT_EQ(json_object_get_int(jget(j, "inbounds[0].port")), 1080);
        ASSERT_STREQ(jstr(j, "inbounds[0].settings.auth"), "noauth");
        ASSERT_STREQ(jstr(j, "outbounds[0].protocol"), "vmess");
        ASSERT_STREQ(jstr(j, "outbounds[0].settings.vnext[0].address"), VPS_ADDRESS);
        ASSERT_EQ(json_object_get_int(jget(j, "outbounds[0].settings.vnext[0].port")), 443);
        ASSERT_STREQ(jstr(j, "outbounds[0].settings.vnext[0].users[0].id"), VMESS_ID);
        ASSERT_EQ(json_object_get_int(jget(j, "outbounds[0].settings.vnext[0].users[0].alterId")), 0);
        ASSERT_STREQ(jstr(j, "outbounds[0].settings.vnext[0].users[0].security"), "auto");
        ASSERT_TRUE(!jget(j, "outbounds[0].streamSettings"));

        unit = file(&f, "/etc/systemd/system/xray.service");
        ASSERT_EQ(unit->mode, 0644);
        ASSERT_TRUE(!unit->secret);
        ASSERT_LINE(unit->content, "User=xray");
        ASSERT_LINE(file(&f, "/etc/sysusers.d/op-dbus-xray.conf")->content, "u xray - \"Xray proxy (op-dbus)\"");
        ASSERT_LINE(unit->content, "LoadCredential=config.json:/usr/local/etc/xray/config.json");
        ASSERT_LINE(unit->content, "ExecStart=/usr/local/bin/xray run -config %d/config.json");
        ASSERT_EQ(f.n_units, 1);
        ASSERT_STREQ(f.units[0], "xray.service");
        ASSERT_EQ(f.n_inputs, 1);
        ASSERT_STREQ(f.inputs[0].path, "/usr/local/bin/xray");
        ASSERT_EQ(f.inputs[0].kind, SERVICE_INPUT_PROVIDED);
        save_example("xray-client", &f, &d);
}

TEST(test_xray_client_tls) {
        _cleanup_(freep) char *config = fmt(XRAY_CLIENT_CONFIG, "vps.example.net", VMESS_ID, CLIENT_TLS);
        _cleanup_(service_files_done) ServiceFiles f = {};
        _cleanup_(json_object_putp) json_object *j = NULL;
        _cleanup_(diag_done) Diag d = {};

        ASSERT_EQ(render(config, (const char *[]) { "xray.service", NULL }, &f, &d), 0);
        ASSERT_EQ(d.n_entries, 0);
        j = parse(file(&f, "/usr/local/etc/xray/config.json")->content);
        ASSERT_STREQ(jstr(j, "outbounds[0].streamSettings.network"), "tcp");
        ASSERT_STREQ(jstr(j, "outbounds[0].streamSettings.security"), "tls");
        ASSERT_STREQ(jstr(j, "outbounds[0].streamSettings.tlsSettings.serverName"), "vps.example.net");
        ASSERT_TRUE(strv_has(f.packages, f.n_packages, "ca-certificates"));
        save_example("xray-client-tls", &f, &d);
}

TEST(test_xray_server) {
        _cleanup_(freep) char *config = fmt(XRAY_SERVER_CONFIG, VMESS_ID);
        _cleanup_(service_files_done) ServiceFiles f = {};
        _cleanup_(json_object_putp) json_object *j = NULL;
        _cleanup_(diag_done) Diag d = {};
        const ServiceFile *conf, *unit;

        ASSERT_EQ(render(config, (const char *[]) { "xray", NULL }, &f, &d), 0);
        ASSERT_EQ(d.n_entries, 0);
        conf = file(&f, "/usr/local/etc/xray/config.json");
        ASSERT_EQ(conf->mode, 0600);
        ASSERT_TRUE(conf->secret);
        j = parse(conf->content);
        ASSERT_STREQ(jstr(j, "inbounds[0].protocol"), "vmess");
        ASSERT_EQ(json_object_get_int(jget(j, "inbounds[0].port")), 443);
        ASSERT_STREQ(jstr(j, "inbounds[0].settings.clients[0].id"), VMESS_ID);
        ASSERT_STREQ(jstr(j, "inbounds[0].streamSettings.security"), "tls");
        /* The TLS files reach the service as credentials. */
        ASSERT_STREQ(jstr(j, "inbounds[0].streamSettings.tlsSettings.certificates[0].certificateFile"),
                     "/run/credentials/xray.service/tls-0.crt");
        ASSERT_STREQ(jstr(j, "inbounds[0].streamSettings.tlsSettings.certificates[0].keyFile"),
                     "/run/credentials/xray.service/tls-0.key");
        ASSERT_STREQ(jstr(j, "outbounds[0].protocol"), "freedom");

        unit = file(&f, "/etc/systemd/system/xray.service");
        ASSERT_LINE(unit->content, "LoadCredential=tls-0.crt:/etc/xray/cert.pem");
        ASSERT_LINE(unit->content, "LoadCredential=tls-0.key:/etc/xray/key.pem");
        ASSERT_LINE(unit->content, "AmbientCapabilities=CAP_NET_BIND_SERVICE");
        ASSERT_EQ(f.n_inputs, 3);
        ASSERT_STREQ(f.inputs[1].path, "/etc/xray/cert.pem");
        ASSERT_TRUE(!f.inputs[1].secret);
        ASSERT_STREQ(f.inputs[2].path, "/etc/xray/key.pem");
        ASSERT_TRUE(f.inputs[2].secret);
        ASSERT_STREQ(f.inputs[2].json_path, CPATH ".config.xray.inbound.streamSettings.tlsSettings.certificates[0].keyFile");
        save_example("xray-server", &f, &d);
}

/* All three services of one container, in the order of "services". */
TEST(test_several_services) {
        _cleanup_(freep) char *config = fmt(
                "{\"wg0\": {\"address\": \"10.99.0.1/24\", \"private_key_file\": \"/etc/wireguard/private.key\"},"
                " \"wg-quick\": {\"interface\": \"wg-warp\", \"address\": \"10.99.1.2/32\","
                "  \"private_key_file\": \"/etc/wireguard/warp-private.key\","
                "  \"endpoint\": \"engage.cloudflareclient.com:2408\", \"public_key\": \"%s\"},"
                " \"xray\": {\"inbound\": {\"port\": 1080, \"protocol\": \"socks\", \"settings\": {\"udp\": true}},"
                "  \"outbound\": {\"protocol\": \"freedom\"}}}", WARP_KEY);
        _cleanup_(service_files_done) ServiceFiles f = {};
        _cleanup_(diag_done) Diag d = {};

        ASSERT_EQ(render(config, (const char *[]) { "xray", "nginx", "wg-quick@wg-warp", "wireguard", "x.timer", NULL },
                         &f, &d), 0);
        ASSERT_EQ(d.n_entries, 0);
        ASSERT_EQ(f.n_units, 5);
        ASSERT_STREQ(f.units[0], "xray.service");
        ASSERT_STREQ(f.units[1], "nginx.service");
        ASSERT_STREQ(f.units[2], "wg-quick@wg-warp.service");
        ASSERT_STREQ(f.units[3], "wg-quick@wg0.service");
        ASSERT_STREQ(f.units[4], "x.timer");
        ASSERT_STREQ(f.files[0].path, "/usr/local/etc/xray/config.json");
        /* socks to freedom: no VMess id, nothing secret. */
        ASSERT_TRUE(!f.files[0].secret);
        ASSERT_STREQ(f.files[3].path, "/etc/wireguard/wg-warp.conf");
        ASSERT_STREQ(f.files[5].path, "/etc/wireguard/wg0.conf");
        ASSERT_EQ(f.n_packages, 3);
}

/* ---- errors --------------------------------------------------------------------------- */

static void expect_errors(const char *config, const char *const *services, const char *const *errors) {
        _cleanup_(service_files_done) ServiceFiles f = {};
        _cleanup_(diag_done) Diag d = {};
        size_t n = 0;

        ASSERT_EQ(render(config, services, &f, &d), -EINVAL);
        ASSERT_EQ(f.n_files + f.n_units + f.n_inputs + f.n_packages, 0);
        for (; errors[n]; n++)
                ASSERT_DIAG(&d, DIAG_ERROR, errors[n]);
        if (diag_count(&d, DIAG_ERROR) != n) {
                diag_print(&d, stderr, "  ");
                TEST_FAIL("%zu errors, expected %zu", diag_count(&d, DIAG_ERROR), n);
        }
        /* No message may show a secret. */
        for (size_t i = 0; i < d.n_entries; i++)
                ASSERT_TRUE(!strstr(d.entries[i].message, "deadbeef"));
}

#define W CPATH ".config.wg0."
#define Q CPATH ".config.wg-quick."
#define X CPATH ".config.xray."

TEST(test_wireguard_errors) {
        expect_errors("{\"wg0\": {\"listen_port\": 70000, \"private_key_file\": \"etc/key\", \"mtu\": 1.5, \"dns\": \"1.1.1.1\","
                      " \"peers\": [{\"public_key\": \"abc\", \"allowed_ips\": \"10.0.0.0/24\", \"endpoint\": \"host\"},"
                      "  {\"public_key\": \"" CLIENT_KEY "\", \"allowed_ips\": [\"10.99.0.2\", 7], \"persistent_keepalive\": -1},"
                      "  {\"public_key\": \"" CLIENT_KEY "\", \"allowed_ips\": []},"
                      "  {\"public_key\": \"NtMMQt2C9R+oxQ/CphmuHQVxlzYq0ogmeDqcRjvYg0t=\", \"allowed_ips\": [\"::/0\"]},"
                      "  \"peer\"]}}",
                      (const char *[]) { "wireguard", NULL },
                      (const char *[]) {
                              W "dns: unknown key, expected one of: address, listen_port,",
                              W "address: required field is missing",
                              W "listen_port: 70000 is out of range, expected 1..65535",
                              W "private_key_file: path is not an absolute path to a file",
                              W "mtu: expected an integer, got a number with a fraction",
                              W "peers[0].public_key: the value (3 characters) is not a WireGuard public key (44 base64 characters)",
                              W "peers[0].allowed_ips: expected an array of strings, got a string",
                              W "peers[0].endpoint: \"host\" is not HOST:PORT",
                              W "peers[1].allowed_ips[0]: \"10.99.0.2\" is not an address with a prefix length",
                              W "peers[1].allowed_ips[1]: expected a string, got an integer",
                              W "peers[1].persistent_keepalive: -1 is out of range, expected 0..65535",
                              W "peers[2].allowed_ips: must not be empty",
                              W "peers[2].public_key: same public key as peers[1]",
                              /* 44 characters, but not 32 bytes: the last bits must be zero */
                              W "peers[3].public_key: the value (44 characters) is not a WireGuard public key",
                              W "peers[4]: expected an object, got a string",
                              NULL });
        expect_errors("{\"wg0\": {\"address\": \"10.99.0.1/33\", \"private_key_file\": \"/etc/wireguard/../key\","
                      " \"forward\": \"yes\", \"peers\": {}}}",
                      (const char *[]) { "wireguard", NULL },
                      (const char *[]) {
                              W "address: \"10.99.0.1/33\" is not an address with a prefix length",
                              W "private_key_file: path must not contain empty, \".\" or \"..\" components",
                              W "forward: expected true or false",
                              W "peers: expected an array, got an object",
                              NULL });
        expect_errors("{\"wg0\": {\"address\": \"10.99.0.1/24\", \"private_key_file\": \"/etc/wireguard/key;reboot\"}}",
                      (const char *[]) { "wireguard", NULL },
                      (const char *[]) { W "private_key_file: path may only contain letters, digits and \"._+@-/\"", NULL });
}

TEST(test_warp_errors) {
        expect_errors("{\"wg-quick\": {\"interface\": \"wg-warp\", \"address\": \"10.99.1.2/32\", \"endpoint\": \"[::1]\","
                      " \"public_key\": \"" CLIENT_KEY "x\", \"forward_from\": \"eth0:1\", \"persistent_keepalive\": 65536}}",
                      (const char *[]) { "wg-quick@wg-warp", NULL },
                      (const char *[]) {
                              Q "private_key_file: required field is missing",
                              Q "endpoint: \"[::1]\" is not HOST:PORT",
                              Q "public_key: the value (45 characters) is not a WireGuard public key",
                              Q "forward_from: \"eth0:1\" contains ':'",
                              Q "persistent_keepalive: 65536 is out of range",
                              NULL });
        expect_errors("{\"wg-quick\": {\"interface\": \"wg-warp\", \"address\": \"10.99.1.2/32\", \"private_key_file\": \"/k\","
                      " \"endpoint\": \"1.2.3.4:2408\", \"public_key\": \"" WARP_KEY "\", \"forward_from\": \"wg-warp\"}}",
                      (const char *[]) { "wg-quick@wg-warp", NULL },
                      (const char *[]) { Q "forward_from: is the tunnel itself", NULL });
        /* The service names an interface the block does not have. */
        expect_errors("{\"wg-quick\": {\"interface\": \"wg-warp\"}}",
                      (const char *[]) { "wg-quick@wg-cf", "wg-quick@", "wg-quick@wg0", NULL },
                      (const char *[]) {
                              CPATH ".services[0]: no configuration for \"wg-quick@wg-cf\": expected " CPATH
                              ".config.wg-quick with \"interface\": \"wg-cf\"",
                              CPATH ".services[1]: interface names must not be empty",
                              CPATH ".services[2]: no configuration for \"wg-quick@wg0\"",
                              NULL });
        expect_errors("{\"wg0\": {\"address\": \"10.99.0.1/24\", \"private_key_file\": \"/k\"},"
                      " \"wg-quick\": {\"interface\": \"wg0\", \"address\": \"10.99.1.2/32\", \"private_key_file\": \"/k2\","
                      " \"endpoint\": \"1.2.3.4:2408\", \"public_key\": \"" WARP_KEY "\"}}",
                      (const char *[]) { "wireguard", "wg-quick@wg0", NULL },
                      (const char *[]) { Q "interface: \"wg0\" is the interface of config.wg0 already", NULL });
}

TEST(test_xray_errors) {
        /* The ids contain "deadbeef": expect_errors checks that no message shows them. */
        expect_errors("{\"xray\": {\"inbound\": {\"port\": 0, \"protocol\": \"socks\", \"streamSettings\": {},"
                      " \"settings\": {\"auth\": \"password\"}, \"listen\": \"any\"},"
                      " \"outbound\": {\"protocol\": \"vmess\", \"server\": \"bad host!\", \"port\": 443,"
                      " \"id\": \"deadbeef-0000-0000-0000-00000000000g\", \"alterId\": 64, \"security\": \"aes\","
                      " \"streamSettings\": {\"network\": \"ws\", \"security\": \"tls\","
                      "  \"tlsSettings\": {\"certificates\": []}}}, \"routing\": {}}}",
                      (const char *[]) { "xray", NULL },
                      (const char *[]) {
                              X "routing: unknown key, expected one of: inbound, outbound",
                              X "inbound.port: 0 is out of range, expected 1..65535",
                              X "inbound.listen: \"any\" is not an IPv4 or IPv6 address",
                              X "inbound.settings.auth: \"password\" is not valid, expected one of: noauth",
                              X "inbound.streamSettings: only valid with \"protocol\": \"vmess\"",
                              X "outbound.server: \"bad host!\" is not a host name",
                              X "outbound.id: the value is not a UUID (8-4-4-4-12 hexadecimal digits",
                              X "outbound.alterId: 64 selects the legacy VMess authentication",
                              X "outbound.security: \"aes\" is not valid, expected one of: auto,",
                              X "outbound.streamSettings.network: \"ws\" is not valid, expected one of: tcp",
                              NULL });
        expect_errors("{\"xray\": {\"inbound\": {\"port\": 443, \"protocol\": \"vmess\","
                      " \"settings\": {\"clients\": [{\"id\": \"deadbeef\"}, {\"alterId\": 0}]},"
                      " \"streamSettings\": {\"security\": \"tls\"}},"
                      " \"outbound\": {\"protocol\": \"freedom\", \"server\": \"1.2.3.4\", \"id\": \"x\"}}}",
                      (const char *[]) { "xray", NULL },
                      (const char *[]) {
                              X "inbound.settings.clients[0].id: the value is not a UUID",
                              X "inbound.settings.clients[1].id: required field is missing",
                              X "inbound.streamSettings.tlsSettings: required field is missing",
                              X "outbound.server: only valid with \"protocol\": \"vmess\"",
                              X "outbound.id: only valid with \"protocol\": \"vmess\"",
                              NULL });
        expect_errors("{\"xray\": {\"inbound\": {\"port\": 443, \"protocol\": \"vless\"},"
                      " \"outbound\": {\"protocol\": \"vmess\", \"server\": \"vps.example.net\", \"port\": 443,"
                      " \"id\": \"" VMESS_ID "\", \"streamSettings\": {\"security\": \"tls\","
                      "  \"tlsSettings\": {\"certificates\": [{}]}}}}}",
                      (const char *[]) { "xray", NULL },
                      (const char *[]) {
                              X "inbound.protocol: \"vless\" is not valid, expected one of: socks, vmess",
                              X "outbound.streamSettings.tlsSettings.certificates: unknown key, expected one of: serverName, allowInsecure",
                              NULL });
        expect_errors("{\"xray\": {\"inbound\": {\"port\": 443, \"protocol\": \"vmess\", \"settings\": {\"clients\": []},"
                      " \"streamSettings\": {\"security\": \"tls\", \"tlsSettings\": {\"certificates\": [{\"keyFile\": \"k\"}]}}},"
                      " \"outbound\": {}}}",
                      (const char *[]) { "xray", NULL },
                      (const char *[]) {
                              X "inbound.settings.clients: must not be empty",
                              X "inbound.streamSettings.tlsSettings.certificates[0].certificateFile: required field is missing",
                              X "inbound.streamSettings.tlsSettings.certificates[0].keyFile: path is not an absolute path",
                              X "outbound.protocol: required field is missing",
                              NULL });
}

TEST(test_allow_insecure_warns) {
        _cleanup_(freep) char *config = fmt(XRAY_CLIENT_CONFIG, VPS_ADDRESS, VMESS_ID,
                                            ", \"streamSettings\": {\"security\": \"tls\", \"tlsSettings\": {\"allowInsecure\": true}}");
        _cleanup_(service_files_done) ServiceFiles f = {};
        _cleanup_(diag_done) Diag d = {};

        ASSERT_EQ(render(config, (const char *[]) { "xray", NULL }, &f, &d), 0);
        ASSERT_EQ(d.n_entries, 1);
        ASSERT_DIAG(&d, DIAG_WARNING, X "outbound.streamSettings.tlsSettings.allowInsecure: the server's certificate is not checked");
        ASSERT_TRUE(!strv_has(f.packages, f.n_packages, "ca-certificates"));
}

TEST(test_selection) {
        _cleanup_(service_files_done) ServiceFiles f = {}, g = {};
        _cleanup_(diag_done) Diag d = {};

        /* A service without its block; a block without its service; an
         * unknown block; an unknown service is just a unit. */
        expect_errors("{\"dns\": {}}", (const char *[]) { "wireguard", "xray", "bad name", NULL },
                      (const char *[]) {
                              CPATH ".config.wg0: required field is missing: the service \"wireguard\" is configured from it",
                              CPATH ".config.xray: required field is missing: the service \"xray\" is configured from it",
                              CPATH ".services[2]: \"bad name\" is not a systemd unit name",
                              NULL });
        expect_errors(NULL, (const char *[]) { "xray", NULL },
                      (const char *[]) { CPATH ".config.xray: required field is missing", NULL });
        expect_errors("[]", (const char *[]) { NULL },
                      (const char *[]) { CPATH ".config: expected an object, got an array", NULL });
        expect_errors("{\"wg0\": 5}", (const char *[]) { "wireguard", NULL },
                      (const char *[]) { CPATH ".config.wg0: expected an object, got an integer", NULL });

        ASSERT_EQ(render("{\"wg0\": {}, \"dns\": {}}", (const char *[]) { "sshd", NULL }, &f, &d), 0);
        ASSERT_EQ(f.n_files, 0);
        ASSERT_EQ(f.n_units, 1);
        ASSERT_STREQ(f.units[0], "sshd.service");
        ASSERT_DIAG(&d, DIAG_WARNING, CPATH ".config.wg0: not rendered: no entry of services selects it (\"wireguard\")");
        ASSERT_DIAG(&d, DIAG_WARNING, CPATH ".config.dns: not a service configuration op-dbus renders");
        ASSERT_EQ(d.n_entries, 2);

        /* No config and no services: nothing to do. */
        ASSERT_EQ(services_render(NULL, NULL, 0, "", &g, &d), 0);
        ASSERT_EQ(g.n_files + g.n_units, 0);
}

/* ---- --render ---------------------------------------------------------------------------- */

static int render_stdin(const char *dir) {
        _cleanup_(json_object_putp) json_object *in = NULL;
        _cleanup_(service_files_done) ServiceFiles f = {};
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(freep) char *text = NULL, **services = NULL;
        json_object *config = NULL, *list = NULL;
        size_t len, n = 0;
        int r;

        if (read_full_file("-", &text, &len) < 0 || json_parse_located(text, len, "stdin", &in, &d) < 0) {
                diag_print(&d, stderr, "");
                return 1;
        }
        (void) json_object_object_get_ex(in, "config", &config);
        if (json_object_object_get_ex(in, "services", &list))
                n = json_object_array_length(list);
        services = calloc(n + 1, sizeof *services);
        ASSERT_TRUE(services);
        for (size_t i = 0; i < n; i++)
                services[i] = (char *) json_object_get_string(json_object_array_get_idx(list, i));

        r = services_render(config, services, n, CPATH, &f, &d);
        diag_print(&d, stderr, "");
        if (r < 0)
                return 2;
        write_tree(dir, &f, &d);
        return 0;
}

int main(int argc, char *argv[]) {
        if (argc == 3 && streq(argv[1], "--render"))
                return render_stdin(argv[2]);

        RUN(test_gateway);
        RUN(test_gateway_options);
        RUN(test_placeholders_are_left_alone);
        RUN(test_warp);
        RUN(test_warp_without_forwarding);
        RUN(test_xray_client);
        RUN(test_xray_client_tls);
        RUN(test_xray_server);
        RUN(test_several_services);
        RUN(test_wireguard_errors);
        RUN(test_warp_errors);
        RUN(test_xray_errors);
        RUN(test_allow_insecure_warns);
        RUN(test_selection);
        return 0;
}
