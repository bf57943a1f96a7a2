/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "json-util.h"
#include "services-internal.h"
#include "services-render.h"

#define XRAY_CONFIG "/usr/local/etc/xray/config.json"
#define XRAY_BINARY "/usr/local/bin/xray"
#define XRAY_UNIT "/etc/systemd/system/xray.service"
/* Creates the system user "xray" (systemd-sysusers). */
#define XRAY_SYSUSERS "/etc/sysusers.d/op-dbus-xray.conf"
/* Where systemd puts the service's credentials (LoadCredential=). */
#define XRAY_CREDENTIALS "/run/credentials/xray.service"

/* A TLS certificate of the server and its key, as configured. */
typedef struct XrayCert {
        const char *certificate_file; /* inside the container */
        const char *key_file;
} XrayCert;

/* What the configuration needs beyond its JSON. */
typedef struct XrayCtx {
        bool secret;                  /* holds a VMess id */
        bool verifies_server;         /* a TLS client: needs the CA certificates */
        XrayCert *certs;
        size_t n_certs;
        Diag *d;
} XrayCtx;

static const char *const vmess_securities[] = {
        "auto", "aes-128-gcm", "chacha20-poly1305", "none", "zero", NULL
};

/* An error for each of keys present in o: they belong to another kind. */
static int refuse_keys(json_object *o, const char *path, const char *const *keys, const char *why, Diag *d) {
        int ret = 0;

        for (const char *const *k = keys; *k; k++) {
                _cleanup_(freep) char *p = NULL;

                if (!json_object_object_get_ex(o, *k, NULL))
                        continue;
                p = json_path_key(path, *k);
                diag_error(d, p ?: path, "only valid %s", why);
                ret = -EINVAL;
        }
        return ret;
}

/* An optional "alterId": Xray speaks VMess AEAD only, which is alterId 0. */
static int get_alter_id(json_object *o, const char *path, Diag *d) {
        _cleanup_(freep) char *p = NULL;
        int64_t v;
        int r;

        r = json_get_int(o, path, "alterId", false, 0, 65535, &v, d);
        if (r <= 0 || v == 0)
                return r < 0 ? r : 0;
        p = json_path_key(path, "alterId");
        diag_error(d, p ?: path, "%" PRIi64 " selects the legacy VMess authentication, which Xray no longer accepts; use 0 (VMess AEAD)", v);
        return -EINVAL;
}

static int get_object(json_object *o, const char *path, const char *key, bool required,
                      json_object **ret, char **ret_path, Diag *d) {
        _cleanup_(freep) char *p = json_path_key(path, key);
        json_object *v;

        if (!p)
                return -ENOMEM;
        if (json_member(o, key, p, required, &v, d) == 0)
                return 0;
        if (!json_expect_object(v, p, d))
                return -EINVAL;
        *ret = v;
        *ret_path = TAKE_PTR(p);
        return 1;
}

/* json_get_enum for a required field. */
static int get_enum_required(json_object *o, const char *path, const char *key, const char *const *values,
                             int *ret, Diag *d) {
        _cleanup_(freep) char *p = NULL;
        int r;

        r = json_get_enum(o, path, key, values, ret, d);
        if (r != 0)
                return r;
        p = json_path_key(path, key);
        diag_error(d, p ?: path, "required field is missing");
        return -EINVAL;
}

/* ---- streamSettings ------------------------------------------------------- */

/* One server certificate; its files reach the service as credentials. */
static int build_certificate(json_object *o, const char *path, XrayCtx *ctx, json_object **ret) {
        static const char *const keys[] = { "certificateFile", "keyFile", NULL };
        _cleanup_(json_object_putp) json_object *c = json_object_new_object();
        XrayCert cert = {}, *a;
        char buf[sizeof(XRAY_CREDENTIALS) + 32];
        int r = 0;

        if (!c)
                return -ENOMEM;
        if (!json_expect_object(o, path, ctx->d))
                return -EINVAL;
        if (json_check_keys(o, path, keys, ctx->d) > 0)
                r = -EINVAL;
        SVC_GATHER(r, svc_required(svc_get_checked(o, path, "certificateFile", true, svc_check_path, &cert.certificate_file, ctx->d)));
        SVC_GATHER(r, svc_required(svc_get_checked(o, path, "keyFile", true, svc_check_path, &cert.key_file, ctx->d)));
        if (r < 0)
                return r;

        a = reallocarray(ctx->certs, ctx->n_certs + 1, sizeof *a);
        if (!a)
                return -ENOMEM;
        ctx->certs = a;
        snprintf(buf, sizeof buf, XRAY_CREDENTIALS "/tls-%zu.crt", ctx->n_certs);
        r = json_object_add_take(c, "certificateFile", json_object_new_string(buf));
        snprintf(buf, sizeof buf, XRAY_CREDENTIALS "/tls-%zu.key", ctx->n_certs);
        SVC_GATHER(r, json_object_add_take(c, "keyFile", json_object_new_string(buf)));
        if (r < 0)
                return r;
        ctx->certs[ctx->n_certs++] = cert;
        *ret = TAKE_PTR(c);
        return 0;
}

static int build_certificates(json_object *o, const char *path, XrayCtx *ctx, json_object *tls) {
        _cleanup_(freep) char *cp = json_path_key(path, "certificates");
        _cleanup_(json_object_putp) json_object *out = json_object_new_array();
        json_object *a;
        size_t n;
        int r, ret = 0;

        if (!cp || !out)
                return -ENOMEM;
        r = json_get_array(o, path, "certificates", true, &a, ctx->d);
        if (r <= 0)
                return r < 0 ? r : -EINVAL;
        n = json_object_array_length(a);
        if (n == 0) {
                diag_error(ctx->d, cp, "must not be empty: a TLS server needs a certificate");
                return -EINVAL;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_(freep) char *ep = json_path_index(cp, i);
                json_object *c = NULL;

                if (!ep)
                        return -ENOMEM;
                r = build_certificate(json_object_array_get_idx(a, i), ep, ctx, &c);
                SVC_GATHER(ret, r < 0 ? r : json_array_append_take(out, c));
        }
        if (ret < 0)
                return ret;
        return json_object_add_take(tls, "certificates", TAKE_PTR(out));
}

/* tlsSettings of a client (t may be NULL): the name to verify, or no
 * verification. */
static int build_client_tls(json_object *t, const char *path, XrayCtx *ctx, json_object *tls) {
        static const char *const keys[] = { "serverName", "allowInsecure", NULL };
        const char *name = NULL;
        bool insecure = false;
        int r = 0;

        if (t) {
                if (json_check_keys(t, path, keys, ctx->d) > 0)
                        r = -EINVAL;
                SVC_GATHER(r, svc_get_checked(t, path, "serverName", false, svc_check_host, &name, ctx->d));
                SVC_GATHER(r, json_get_bool(t, path, "allowInsecure", &insecure, ctx->d));
                if (r < 0)
                        return r;
        }
        if (insecure) {
                _cleanup_(freep) char *p = json_path_key(path, "allowInsecure");

                diag_warning(ctx->d, p ?: path, "the server's certificate is not checked: anyone on the way can "
                             "impersonate the server and read the traffic");
        } else
                ctx->verifies_server = true;
        if (name)
                r = json_object_add_take(tls, "serverName", json_object_new_string(name));
        if (insecure)
                SVC_GATHER(r, json_object_add_take(tls, "allowInsecure", json_object_new_boolean(true)));
        return r;
}

/* tlsSettings: certificates for a server, verification for a client. */
static int build_tls(json_object *o, const char *path, bool server, XrayCtx *ctx, json_object *stream) {
        static const char *const server_keys[] = { "certificates", NULL };
        _cleanup_(json_object_putp) json_object *tls = json_object_new_object();
        _cleanup_(freep) char *tp = NULL;
        json_object *t = NULL;
        int r;

        if (!tls)
                return -ENOMEM;
        r = get_object(o, path, "tlsSettings", server, &t, &tp, ctx->d);
        if (r < 0 || (r == 0 && server))
                return r < 0 ? r : -EINVAL;
        if (server) {
                r = json_check_keys(t, tp, server_keys, ctx->d) > 0 ? -EINVAL : 0;
                SVC_GATHER(r, build_certificates(t, tp, ctx, tls));
        } else
                r = build_client_tls(t, tp ?: path, ctx, tls);
        if (r < 0)
                return r;
        return json_object_add_take(stream, "tlsSettings", TAKE_PTR(tls));
}

/* streamSettings: VMess over TCP, with or without TLS. *ret_tls: TLS is on. */
static int build_stream(json_object *o, const char *path, bool server, XrayCtx *ctx,
                        json_object **ret, bool *ret_tls) {
        static const char *const keys[] = { "network", "security", "tlsSettings", NULL };
        static const char *const networks[] = { "tcp", NULL };
        static const char *const securities[] = { "none", "tls", NULL };
        _cleanup_(json_object_putp) json_object *s = json_object_new_object();
        int network = 0, security = 0, r = 0;

        if (!s)
                return -ENOMEM;
        if (json_check_keys(o, path, keys, ctx->d) > 0)
                r = -EINVAL;
        SVC_GATHER(r, json_get_enum(o, path, "network", networks, &network, ctx->d));
        SVC_GATHER(r, json_get_enum(o, path, "security", securities, &security, ctx->d));
        if (r < 0)
                return r;
        r = json_object_add_take(s, "network", json_object_new_string(networks[network]));
        SVC_GATHER(r, json_object_add_take(s, "security", json_object_new_string(securities[security])));
        if (r < 0)
                return r;
        if (security == 1)
                r = build_tls(o, path, server, ctx, s);
        else
                r = refuse_keys(o, path, (const char *const[]) { "tlsSettings", NULL },
                                "with \"security\": \"tls\"", ctx->d);
        if (r < 0)
                return r;
        *ret_tls = security == 1;
        *ret = TAKE_PTR(s);
        return 0;
}

/* ---- inbound ---------------------------------------------------------------- */

static int build_socks_settings(json_object *o, const char *path, XrayCtx *ctx, json_object **ret) {
        static const char *const keys[] = { "auth", "udp", "ip", NULL };
        static const char *const auths[] = { "noauth", NULL };
        _cleanup_(json_object_putp) json_object *s = json_object_new_object();
        _cleanup_(freep) char *sp = NULL;
        json_object *in = NULL;
        const char *ip = NULL;
        bool udp = false;
        int auth = 0, r;

        if (!s)
                return -ENOMEM;
        r = get_object(o, path, "settings", false, &in, &sp, ctx->d);
        if (r > 0) {
                r = json_check_keys(in, sp, keys, ctx->d) > 0 ? -EINVAL : 0;
                SVC_GATHER(r, json_get_enum(in, sp, "auth", auths, &auth, ctx->d));
                SVC_GATHER(r, json_get_bool(in, sp, "udp", &udp, ctx->d));
                SVC_GATHER(r, svc_get_checked(in, sp, "ip", false, svc_check_ip, &ip, ctx->d));
        }
        SVC_GATHER(r, refuse_keys(o, path, (const char *const[]) { "streamSettings", NULL },
                                  "with \"protocol\": \"vmess\"", ctx->d));
        if (r < 0)
                return r;
        r = json_object_add_take(s, "auth", json_object_new_string(auths[auth]));
        SVC_GATHER(r, json_object_add_take(s, "udp", json_object_new_boolean(udp)));
        if (ip)
                SVC_GATHER(r, json_object_add_take(s, "ip", json_object_new_string(ip)));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

static int build_vmess_client(json_object *o, const char *path, XrayCtx *ctx, json_object **ret) {
        static const char *const keys[] = { "id", "alterId", "email", NULL };
        _cleanup_(json_object_putp) json_object *c = json_object_new_object();
        const char *id = NULL, *email = NULL;
        int r = 0;

        if (!c)
                return -ENOMEM;
        if (!json_expect_object(o, path, ctx->d))
                return -EINVAL;
        if (json_check_keys(o, path, keys, ctx->d) > 0)
                r = -EINVAL;
        SVC_GATHER(r, svc_required(svc_get_checked(o, path, "id", true, svc_check_uuid, &id, ctx->d)));
        SVC_GATHER(r, get_alter_id(o, path, ctx->d));
        SVC_GATHER(r, json_get_string_nonul(o, path, "email", false, &email, ctx->d));
        if (r < 0)
                return r;
        r = json_object_add_take(c, "id", json_object_new_string(id));
        SVC_GATHER(r, json_object_add_take(c, "alterId", json_object_new_int(0)));
        if (email)
                SVC_GATHER(r, json_object_add_take(c, "email", json_object_new_string(email)));
        if (r < 0)
                return r;
        ctx->secret = true;
        *ret = TAKE_PTR(c);
        return 0;
}

static int build_vmess_settings(json_object *o, const char *path, XrayCtx *ctx, json_object **ret) {
        static const char *const keys[] = { "clients", NULL };
        _cleanup_(json_object_putp) json_object *s = json_object_new_object(), *clients = json_object_new_array();
        _cleanup_(freep) char *sp = NULL, *cp = NULL;
        json_object *in = NULL, *a;
        int r, ret_r = 0;

        if (!s || !clients)
                return -ENOMEM;
        r = get_object(o, path, "settings", true, &in, &sp, ctx->d);
        if (r <= 0)
                return r < 0 ? r : -EINVAL;
        if (json_check_keys(in, sp, keys, ctx->d) > 0)
                ret_r = -EINVAL;
        r = json_get_array(in, sp, "clients", true, &a, ctx->d);
        if (r <= 0)
                return r < 0 ? r : -EINVAL;
        cp = json_path_key(sp, "clients");
        if (!cp)
                return -ENOMEM;
        if (json_object_array_length(a) == 0) {
                diag_error(ctx->d, cp, "must not be empty: nobody could connect");
                return -EINVAL;
        }
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                _cleanup_(freep) char *ep = json_path_index(cp, i);
                json_object *c = NULL;

                if (!ep)
                        return -ENOMEM;
                r = build_vmess_client(json_object_array_get_idx(a, i), ep, ctx, &c);
                SVC_GATHER(ret_r, r < 0 ? r : json_array_append_take(clients, c));
        }
        if (ret_r < 0)
                return ret_r;
        r = json_object_add_take(s, "clients", TAKE_PTR(clients));
        if (r >= 0)
                *ret = TAKE_PTR(s);
        return r;
}

static int build_inbound(json_object *o, const char *path, XrayCtx *ctx, json_object **ret) {
        static const char *const keys[] = { "port", "protocol", "listen", "settings", "streamSettings", NULL };
        static const char *const protocols[] = { "socks", "vmess", NULL };
        _cleanup_(json_object_putp) json_object *in = json_object_new_object(), *settings = NULL, *stream = NULL;
        _cleanup_(freep) char *stp = NULL;
        const char *listen = "0.0.0.0";
        json_object *st;
        int64_t port = 0;
        int protocol = -1, r = 0;
        bool tls = false;

        if (!in)
                return -ENOMEM;
        if (json_check_keys(o, path, keys, ctx->d) > 0)
                r = -EINVAL;
        SVC_GATHER(r, svc_required(json_get_int(o, path, "port", true, 1, 65535, &port, ctx->d)));
        SVC_GATHER(r, get_enum_required(o, path, "protocol", protocols, &protocol, ctx->d));
        SVC_GATHER(r, svc_get_checked(o, path, "listen", false, svc_check_ip, &listen, ctx->d));
        if (protocol == 0)
                SVC_GATHER(r, build_socks_settings(o, path, ctx, &settings));
        else if (protocol == 1) {
                int k = get_object(o, path, "streamSettings", false, &st, &stp, ctx->d);

                SVC_GATHER(r, build_vmess_settings(o, path, ctx, &settings));
                SVC_GATHER(r, k > 0 ? build_stream(st, stp, true, ctx, &stream, &tls) : k);
        }
        if (r < 0 || protocol < 0)
                return r < 0 ? r : -EINVAL;

        r = json_object_add_take(in, "listen", json_object_new_string(listen));
        SVC_GATHER(r, json_object_add_take(in, "port", json_object_new_int((int) port)));
        SVC_GATHER(r, json_object_add_take(in, "protocol", json_object_new_string(protocols[protocol])));
        SVC_GATHER(r, json_object_add_take(in, "settings", TAKE_PTR(settings)));
        if (stream)
                SVC_GATHER(r, json_object_add_take(in, "streamSettings", TAKE_PTR(stream)));
        if (r >= 0)
                *ret = TAKE_PTR(in);
        return r;
}

/* ---- outbound ---------------------------------------------------------------- */

/* settings.vnext of a VMess outbound. */
static int build_vnext(json_object *o, const char *path, XrayCtx *ctx, json_object **ret) {
        _cleanup_(json_object_putp) json_object *s = json_object_new_object(), *server = json_object_new_object(),
                *user = json_object_new_object(), *users = json_object_new_array(), *vnext = json_object_new_array();
        const char *address = NULL, *id = NULL;
        int64_t port = 0;
        int security = 0, r = 0;

        if (!s || !server || !user || !users || !vnext)
                return -ENOMEM;
        SVC_GATHER(r, svc_required(svc_get_checked(o, path, "server", true, svc_check_host, &address, ctx->d)));
        SVC_GATHER(r, svc_required(json_get_int(o, path, "port", true, 1, 65535, &port, ctx->d)));
        SVC_GATHER(r, svc_required(svc_get_checked(o, path, "id", true, svc_check_uuid, &id, ctx->d)));
        SVC_GATHER(r, get_alter_id(o, path, ctx->d));
        SVC_GATHER(r, json_get_enum(o, path, "security", vmess_securities, &security, ctx->d));
        if (r < 0 || !address || !id || port == 0)
                return r < 0 ? r : -EINVAL;
        ctx->secret = true;

        r = json_object_add_take(user, "id", json_object_new_string(id));
        SVC_GATHER(r, json_object_add_take(user, "alterId", json_object_new_int(0)));
        SVC_GATHER(r, json_object_add_take(user, "security", json_object_new_string(vmess_securities[security])));
        SVC_GATHER(r, json_array_append_take(users, TAKE_PTR(user)));
        SVC_GATHER(r, json_object_add_take(server, "address", json_object_new_string(address)));
        SVC_GATHER(r, json_object_add_take(server, "port", json_object_new_int((int) port)));
        SVC_GATHER(r, json_object_add_take(server, "users", TAKE_PTR(users)));
        SVC_GATHER(r, json_array_append_take(vnext, TAKE_PTR(server)));
        SVC_GATHER(r, json_object_add_take(s, "vnext", TAKE_PTR(vnext)));
        if (r >= 0)
                *ret = TAKE_PTR(s);
        return r;
}

static int build_vmess_outbound(json_object *o, const char *path, XrayCtx *ctx, json_object *out) {
        _cleanup_(json_object_putp) json_object *settings = NULL, *stream = NULL;
        _cleanup_(freep) char *stp = NULL;
        json_object *st;
        bool tls = false;
        int r, k;

        r = build_vnext(o, path, ctx, &settings);
        k = get_object(o, path, "streamSettings", false, &st, &stp, ctx->d);
        SVC_GATHER(r, k > 0 ? build_stream(st, stp, false, ctx, &stream, &tls) : k);
        if (r < 0)
                return r;
        if (!tls)
                diag_warning(ctx->d, path, "VMess runs over plain TCP: without streamSettings "
                             "{\"security\": \"tls\"} the connection does not look like HTTPS, and a server "
                             "set up with TLS (as in the privacy-vps profile) refuses it");
        r = json_object_add_take(out, "settings", TAKE_PTR(settings));
        if (stream)
                SVC_GATHER(r, json_object_add_take(out, "streamSettings", TAKE_PTR(stream)));
        return r;
}

static int build_outbound(json_object *o, const char *path, XrayCtx *ctx, json_object **ret) {
        static const char *const keys[] = {
                "protocol", "server", "port", "id", "alterId", "security", "streamSettings", NULL
        };
        static const char *const protocols[] = { "vmess", "freedom", NULL };
        _cleanup_(json_object_putp) json_object *out = json_object_new_object();
        int protocol = -1, r = 0;

        if (!out)
                return -ENOMEM;
        if (json_check_keys(o, path, keys, ctx->d) > 0)
                r = -EINVAL;
        SVC_GATHER(r, get_enum_required(o, path, "protocol", protocols, &protocol, ctx->d));
        if (protocol < 0)
                return r;

        SVC_GATHER(r, json_object_add_take(out, "protocol", json_object_new_string(protocols[protocol])));
        if (protocol == 0)
                SVC_GATHER(r, build_vmess_outbound(o, path, ctx, out));
        else {
                /* keys + 1: everything but "protocol" */
                SVC_GATHER(r, refuse_keys(o, path, keys + 1, "with \"protocol\": \"vmess\"", ctx->d));
                SVC_GATHER(r, json_object_add_take(out, "settings", json_object_new_object()));
        }
        if (r >= 0)
                *ret = TAKE_PTR(out);
        return r;
}

/* ---- files ------------------------------------------------------------------------ */

static char *render_unit(const XrayCtx *ctx) {
        _cleanup_(strbuf_done) StrBuf b = {};

        strbuf_puts(&b, "# " SERVICES_GENERATED_NOTE "\n"
                    "[Unit]\n"
                    "Description=Xray proxy (configured by op-dbus)\n"
                    "Documentation=https://xtls.github.io/\n"
                    "After=network-online.target nss-lookup.target\n"
                    "Wants=network-online.target\n"
                    "\n[Service]\n"
                    "# Xray runs as its own user (" XRAY_SYSUSERS "). Its configuration (it holds\n"
                    "# the VMess id) and the TLS files stay readable by root only: systemd hands\n"
                    "# copies to the service in its credentials directory, " XRAY_CREDENTIALS " (%d).\n"
                    "User=xray\n"
                    "Group=xray\n"
                    "LoadCredential=config.json:" XRAY_CONFIG "\n");
        for (size_t i = 0; i < ctx->n_certs; i++)
                strbuf_printf(&b, "LoadCredential=tls-%zu.crt:%s\nLoadCredential=tls-%zu.key:%s\n",
                              i, ctx->certs[i].certificate_file, i, ctx->certs[i].key_file);
        strbuf_puts(&b, "ExecStart=" XRAY_BINARY " run -config %d/config.json\n"
                    "AmbientCapabilities=CAP_NET_BIND_SERVICE\n"
                    "CapabilityBoundingSet=CAP_NET_BIND_SERVICE\n"
                    "NoNewPrivileges=yes\n"
                    "Restart=on-failure\n"
                    "LimitNOFILE=65536\n"
                    "\n[Install]\n"
                    "WantedBy=multi-user.target\n");
        return strbuf_take(&b);
}

static char *render_config(json_object *in, json_object *out) {
        _cleanup_(json_object_putp) json_object *c = json_object_new_object(), *log = json_object_new_object(),
                *ins = json_object_new_array(), *outs = json_object_new_array();
        int r;

        if (!c || !log || !ins || !outs)
                return NULL;
        /* No access log: it would record every destination. */
        r = json_object_add_take(log, "loglevel", json_object_new_string("warning"));
        SVC_GATHER(r, json_object_add_take(log, "access", json_object_new_string("none")));
        SVC_GATHER(r, json_object_add_take(c, "log", TAKE_PTR(log)));
        SVC_GATHER(r, json_array_append_take(ins, json_object_get(in)));
        SVC_GATHER(r, json_object_add_take(c, "inbounds", TAKE_PTR(ins)));
        SVC_GATHER(r, json_array_append_take(outs, json_object_get(out)));
        SVC_GATHER(r, json_object_add_take(c, "outbounds", TAKE_PTR(outs)));
        if (r < 0)
                return NULL;
        _cleanup_(freep) char *text = json_to_string_pretty(c);
        char *t;

        if (!text || asprintf(&t, "%s\n", text) < 0)
                return NULL;
        return t;
}

static int add_inputs(ServiceFiles *out, const char *path, const XrayCtx *ctx) {
        _cleanup_(freep) char *cp = json_path_key(path, "inbound.streamSettings.tlsSettings.certificates");
        int r;

        if (!cp)
                return -ENOMEM;
        r = service_files_add_input(out, XRAY_BINARY, SERVICE_INPUT_PROVIDED, false, path);
        for (size_t i = 0; i < ctx->n_certs && r >= 0; i++) {
                _cleanup_(freep) char *c = NULL, *k = NULL;

                if (asprintf(&c, "%s[%zu].certificateFile", cp, i) < 0 || asprintf(&k, "%s[%zu].keyFile", cp, i) < 0)
                        return -ENOMEM;
                r = service_files_add_input(out, ctx->certs[i].certificate_file, SERVICE_INPUT_PROVIDED, false, c);
                SVC_GATHER(r, service_files_add_input(out, ctx->certs[i].key_file, SERVICE_INPUT_PROVIDED, true, k));
        }
        if (ctx->verifies_server)
                SVC_GATHER(r, service_files_add_package(out, "ca-certificates"));
        return r;
}

int xray_render(json_object *block, const char *path, ServiceFiles *out, Diag *d) {
        static const char *const keys[] = { "inbound", "outbound", NULL };
        _cleanup_(json_object_putp) json_object *in = NULL, *outb = NULL;
        _cleanup_(freep) char *ip = NULL, *op = NULL;
        _cleanup_(freep) XrayCert *certs = NULL;
        XrayCtx ctx = { .d = d };
        json_object *i = NULL, *o = NULL;
        int r = 0;

        if (json_check_keys(block, path, keys, d) > 0)
                r = -EINVAL;
        if (get_object(block, path, "inbound", true, &i, &ip, d) > 0)
                SVC_GATHER(r, build_inbound(i, ip, &ctx, &in));
        else
                r = -EINVAL;
        if (get_object(block, path, "outbound", true, &o, &op, d) > 0)
                SVC_GATHER(r, build_outbound(o, op, &ctx, &outb));
        else
                r = -EINVAL;
        certs = ctx.certs;
        if (r < 0)
                return r;

        r = service_files_add_file(out, XRAY_CONFIG, render_config(in, outb), 0600, ctx.secret);
        SVC_GATHER(r, service_files_add_file(out, XRAY_UNIT, render_unit(&ctx), 0644, false));
        SVC_GATHER(r, service_files_add_file(out, XRAY_SYSUSERS,
                                             strdup("# " SERVICES_GENERATED_NOTE "\n"
                                                    "# The system user xray.service runs as.\n"
                                                    "u xray - \"Xray proxy (op-dbus)\"\n"), 0644, false));
        SVC_GATHER(r, add_inputs(out, path, &ctx));
        return r;
}
