/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plugin: which containers need the token (parse), what they hold and
 * whether the server answers (query), what to do (diff), doing it (apply),
 * and what op-dbus put where (live_to_json, for query). */
#include <stdio.h>

#include "json-util.h"
#include "netmaker.h"
#include "strbuf.h"

#define TOKEN_FILE_PATH "plugins.netmaker.token_file"

static int netmaker_plugin_parse(Plugin *p, const StateDoc *doc, json_object *section, Diag *d) {
        NetmakerPlugin *n = (NetmakerPlugin *) p;
        int r;

        r = netmaker_containers_from_doc(doc, &n->containers, &n->n_containers, &n->lxc_backend);
        if (r < 0)
                return r;
        if (!section) {
                if (n->n_containers > 0)
                        diag_warning(d, n->containers[0].path,
                                     "network_type is \"netmaker\", but the state has no plugins.netmaker section: no enrollment token is injected");
                return 0;
        }
        r = netmaker_parse(&n->want, section, d);
        if (r < 0)
                return r;
        n->parsed = true;
        if (!n->want.enabled && n->n_containers > 0)
                diag_warning(d, "plugins.netmaker.enabled",
                             "%zu container(s) have network_type \"netmaker\", but the integration is not enabled: no enrollment token is injected",
                             n->n_containers);
        return 1;
}

/* A caller who may only plan names the token file and the endpoint of the
 * applied state, or the default token file: the token file is read as
 * root (its existence, type, mode and owner show in the plan), and the
 * endpoint would be asked over HTTPS. */
static int netmaker_plugin_check_restricted(Plugin *p, json_object *applied, Diag *d) {
        NetmakerPlugin *n = (NetmakerPlugin *) p;
        _cleanup_(netmaker_config_done) NetmakerConfig a = {};
        _cleanup_(diag_done) Diag scratch = {};
        int ret = 0;

        if (!n->parsed || !n->want.enabled || n->n_containers == 0)
                return 0; /* neither is used */
        if (applied && netmaker_parse(&a, applied, &scratch) == -ENOMEM)
                return -ENOMEM;
        if (!streq(n->want.token_file, NETMAKER_TOKEN_FILE_DEFAULT) && !streq_ptr(n->want.token_file, a.token_file)) {
                diag_error(d, TOKEN_FILE_PATH, "not the token file of the applied state: op-dbus would read it as root; "
                           PLUGIN_RESTRICTED_HINT);
                ret = -EACCES;
        }
        if (n->want.api_endpoint && !streq_ptr(n->want.api_endpoint, a.api_endpoint)) {
                diag_error(d, "plugins.netmaker.api_endpoint", "not the endpoint of the applied state: op-dbus would "
                           "send a request to it; " PLUGIN_RESTRICTED_HINT);
                ret = -EACCES;
        }
        return ret;
}

static void live_done(NetmakerPlugin *n) {
        free(n->targets);
        n->targets = NULL;
        n->n_targets = 0;
        netmaker_ledger_done(&n->ledger);
        netmaker_token_done(&n->token);
        n->token_loaded = false;
        explicit_bzero(n->token_hash, sizeof n->token_hash);
        diag_done(&n->problems);
        n->access = lxc_access_free(n->access);
}

static NetmakerTarget *target_get(NetmakerPlugin *n, uint32_t id) {
        NetmakerTarget *a;

        for (size_t i = 0; i < n->n_targets; i++)
                if (n->targets[i].id == id)
                        return &n->targets[i];
        a = realloc(n->targets, (n->n_targets + 1) * sizeof(NetmakerTarget));
        if (!a)
                return NULL;
        n->targets = a;
        a[n->n_targets] = (NetmakerTarget) { .id = id };
        return &a[n->n_targets++];
}

/* The ledger's containers, and the state's when the integration is on. */
static int collect_targets(NetmakerPlugin *n) {
        for (size_t i = 0; i < n->ledger.n_entries; i++) {
                NetmakerTarget *t = target_get(n, n->ledger.entries[i].id);

                if (!t)
                        return -ENOMEM;
                t->recorded = true;
        }
        if (!n->parsed || !n->want.enabled)
                return 0;
        for (size_t i = 0; i < n->n_containers; i++) {
                NetmakerTarget *t = target_get(n, n->containers[i].id);

                if (!t)
                        return -ENOMEM;
                t->wanted = true;
        }
        return 0;
}

/* Reads the token file; what is wrong with it goes to n->problems. */
static int load_token(NetmakerPlugin *n) {
        _cleanup_(freep) char *content = NULL;
        size_t len = 0;
        int r;

        r = netmaker_token_load(n->want.token_file, TOKEN_FILE_PATH, &n->token, &n->problems);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        content = netmaker_token_content(&n->token, &len);
        if (!content)
                return -ENOMEM;
        sha256(content, len, n->token_hash);
        explicit_bzero(content, len);
        n->token_loaded = true;
        return 0;
}

/* A stopped container is not looked into: the ledger says whether op-dbus
 * put the current token into it; once it runs it is checked. */
static bool target_converged(const NetmakerTarget *t) {
        if (t->exists && !t->running)
                return t->recorded_current;
        return t->inspected && t->token_current && t->unit_current && t->unit_enabled;
}

/* Will an apply write into this container? */
static bool target_needs_injection(const NetmakerTarget *t) {
        return t->wanted && !target_converged(t) && (!t->exists || t->owned);
}

static bool endpoint_is_http(const NetmakerConfig *c) {
        return c->api_endpoint && startswith(c->api_endpoint, "http://");
}

/* Before anything is injected, the server the token names must answer;
 * checked once per instance (the re-queries of an apply reuse it). */
static int check_server(NetmakerPlugin *n, Diag *d) {
        _cleanup_(freep) char *url = NULL;
        bool needed = false;
        int r;

        if (!n->token_loaded || n->server_healthy || endpoint_is_http(&n->want))
                return 0; /* nothing to check with, checked already, or refused by diff */
        for (size_t i = 0; i < n->n_targets; i++)
                needed = needed || target_needs_injection(&n->targets[i]);
        if (!needed)
                return 0;
        if (n->plugin.ctx->restricted) {
                diag_note(d, n->want.api_endpoint ? "plugins.netmaker.api_endpoint" : TOKEN_FILE_PATH,
                          "the Netmaker server was not checked: a plan asked for by a caller other than root makes "
                          "no network requests (root's plans and every apply check it)");
                return 0;
        }

        url = netmaker_health_url(n->want.api_endpoint, n->token.server);
        if (!url)
                return -ENOMEM;
        r = netmaker_health_check(url, n->want.api_endpoint ? "plugins.netmaker.api_endpoint" : TOKEN_FILE_PATH, d);
        if (r < 0)
                return r;
        n->server_healthy = true;
        return 0;
}

static int netmaker_plugin_query(Plugin *p, Diag *d) {
        NetmakerPlugin *n = (NetmakerPlugin *) p;
        char hex[SHA256_HEX_SIZE] = "";
        int r;

        live_done(n);
        r = netmaker_ledger_load(&n->ledger, p->ctx->state_dir);
        if (r < 0) {
                diag_error(d, "", "cannot read the record of injected containers in %s: %s",
                           p->ctx->state_dir, strerror(-r));
                return r;
        }
        r = collect_targets(n);
        if (r >= 0 && n->parsed && n->want.enabled && n->n_containers > 0)
                r = load_token(n);
        if (r < 0)
                return r;

        if (n->token_loaded)
                sha256_hex(n->token_hash, hex);
        if (n->n_targets > 0) {
                _cleanup_(diag_done) Diag scratch = {};
                bool wanted = false;

                for (size_t i = 0; i < n->n_targets; i++)
                        wanted |= n->targets[i].wanted;
                /* Containers only the ledger names are reported as far as they can be. */
                r = lxc_access_open(p->ctx, n->lxc_backend, &n->access, wanted ? d : &scratch);
                if (r < 0)
                        return wanted ? r : check_server(n, d);
        }
        for (size_t i = 0; i < n->n_targets; i++) {
                NetmakerTarget *t = &n->targets[i];
                const NetmakerLedgerEntry *e = netmaker_ledger_find(&n->ledger, t->id);
                _cleanup_(diag_done) Diag scratch = {};

                t->recorded_current = n->token_loaded && e && streq(e->digest, hex);
                r = netmaker_container_inspect(n->access, t, n->token_loaded ? n->token_hash : NULL, &n->token,
                                               t->wanted ? d : &scratch);
                if (r < 0 && t->wanted)
                        return r;
        }
        return check_server(n, d);
}

/* Everything about the configuration that makes a plan impossible. */
static int check_config(NetmakerPlugin *n, Diag *d) {
        int ret = 0;

        for (size_t i = 0; i < n->n_containers; i++) {
                _cleanup_(freep) char *path = NULL;

                if (n->containers[i].bridge_declared)
                        continue;
                if (asprintf(&path, "%s.network.bridge", n->containers[i].path) < 0)
                        return -ENOMEM;
                diag_error(d, path, "bridge \"%s\" is not declared in plugins.net; add it to plugins.net.bridges "
                           "so that op-dbus creates it for the Netmaker mesh (or name an existing bridge "
                           "in plugins.openflow.bridges)",
                           n->containers[i].bridge);
                ret = -EINVAL;
        }
        if (endpoint_is_http(&n->want)) {
                diag_error(d, "plugins.netmaker.api_endpoint", "\"%s\" is not https: the Netmaker server is checked over "
                           "HTTPS with certificate verification, use https://", n->want.api_endpoint);
                ret = -EINVAL;
        }
        for (size_t i = 0; i < n->problems.n_entries; i++) {
                const DiagEntry *e = &n->problems.entries[i];

                diag_add(d, e->level, e->path, "%s", e->message);
                if (e->level == DIAG_ERROR)
                        ret = -EINVAL;
        }
        return ret;
}

/* The endpoint's host[:port] differs from the token's server: netclient
 * will talk to the token's server, not to the endpoint checked. */
static void check_endpoint_matches(const NetmakerPlugin *n, Diag *d) {
        const char *host;
        size_t len;

        if (!n->token_loaded || !n->want.api_endpoint || !startswith(n->want.api_endpoint, "https://"))
                return;
        host = n->want.api_endpoint + strlen("https://");
        len = strcspn(host, "/?#");
        if (len == strlen(n->token.server) && strncmp(host, n->token.server, len) == 0)
                return;
        diag_warning(d, "plugins.netmaker.api_endpoint", "the endpoint names %.*s, the enrollment token names %s: "
                     "the check asks the endpoint, netclient joins through the token's server",
                     (int) len, host, n->token.server);
}

/* "replace the enrollment token; install the first-boot unit; ..." */
static char *describe_changes(const NetmakerTarget *t) {
        _cleanup_(strbuf_done) StrBuf b = {};

        if (!t->token_present && !t->unit_present)
                return strdup("inject the enrollment token and the first-boot unit");
        if (!t->token_current)
                strbuf_puts(&b, t->token_present ? "replace the enrollment token (content, mode or owner differs)"
                                                 : "inject the enrollment token");
        if (!t->unit_current)
                strbuf_printf(&b, "%s%s", b.len ? "; " : "",
                              t->unit_present ? "replace the first-boot unit" : "install the first-boot unit");
        if (!t->unit_enabled)
                strbuf_printf(&b, "%s%s", b.len ? "; " : "", "enable the first-boot unit");
        return strbuf_take(&b);
}

static const char *container_path(const NetmakerPlugin *n, uint32_t id) {
        for (size_t i = 0; i < n->n_containers; i++)
                if (n->containers[i].id == id)
                        return n->containers[i].path;
        return "plugins.lxc.containers";
}

static int plan_target(const NetmakerPlugin *n, const NetmakerTarget *t, Plan *plan, Diag *d) {
        _cleanup_(freep) char *detail = NULL;
        char path[64];

        if (target_converged(t))
                return 0;
        if (t->exists && !t->owned) {
                diag_error(d, container_path(n, t->id), "container %u exists but was not created by op-dbus (%s): "
                           "op-dbus puts enrollment tokens only into containers it manages",
                           t->id, n->access ? lxc_access_not_owned(n->access) : "");
                return -EINVAL;
        }
        snprintf(path, sizeof path, "netmaker/container/%u", t->id);
        if (!t->exists)
                return plan_add(plan, "netmaker", ACTION_CREATE, IMPACT_NONE, path,
                                "inject the enrollment token and the first-boot unit once container %u exists", t->id);
        if (!t->running)
                return plan_add(plan, "netmaker", t->recorded ? ACTION_MODIFY : ACTION_CREATE, IMPACT_NONE, path,
                                "inject the enrollment token and the first-boot unit into the stopped container's "
                                "root file system (%s)", n->access ? lxc_access_mount_how(n->access) : "");
        detail = describe_changes(t);
        if (!detail)
                return -ENOMEM;
        return plan_add(plan, "netmaker", t->token_present || t->unit_present ? ACTION_MODIFY : ACTION_CREATE,
                        IMPACT_NONE, path, "%s", detail);
}

static int netmaker_plugin_diff(Plugin *p, Plan *plan, Diag *d) {
        NetmakerPlugin *n = (NetmakerPlugin *) p;
        int r;

        if (!n->parsed || !n->want.enabled)
                return 0;
        r = check_config(n, d);
        if (r < 0)
                return r;
        check_endpoint_matches(n, d);

        for (size_t i = 0; i < n->n_targets; i++)
                if (n->targets[i].wanted)
                        RET_GATHER(r, plan_target(n, &n->targets[i], plan, d));
        return r;
}

static int record_injected(NetmakerPlugin *n, uint32_t id, Diag *d) {
        const char *dir = n->plugin.ctx->state_dir;
        char hex[SHA256_HEX_SIZE];
        int r;

        sha256_hex(n->token_hash, hex);
        r = netmaker_ledger_add(&n->ledger, id, hex);
        if (r >= 0 && !streq_ptr(n->ledger.token_file, n->want.token_file)) {
                free(n->ledger.token_file);
                n->ledger.token_file = strdup(n->want.token_file);
                r = n->ledger.token_file ? 1 : -ENOMEM;
        }
        if (r > 0)
                r = netmaker_ledger_save(&n->ledger, dir);
        if (r < 0)
                diag_warning(d, "", "cannot record the injection into container %u in %s: %s", id, strna(dir), strerror(-r));
        return 0;
}

static int netmaker_plugin_apply(Plugin *p, ApplyCounts *counts, Diag *d) {
        NetmakerPlugin *n = (NetmakerPlugin *) p;
        int r;

        for (size_t i = 0; i < n->n_targets; i++) {
                NetmakerTarget *t = &n->targets[i];
                char path[64];

                if (!target_needs_injection(t))
                        continue;
                snprintf(path, sizeof path, "netmaker/container/%u", t->id);
                if (!n->token_loaded || !n->server_healthy) {
                        diag_error(d, path, "the enrollment token was not loaded and checked; nothing injected");
                        return -EINVAL;
                }
                if (!t->exists) {
                        diag_error(d, path, "container %u does not exist (plugins.lxc creates it); cannot inject its enrollment token", t->id);
                        return -ENOENT;
                }
                if (t->running)
                        r = netmaker_container_inject(n->access, t->id, &n->token, n->token_hash, counts, d);
                else
                        r = netmaker_container_inject_stopped(n->access, t->id, &n->token, n->token_hash, counts, d);
                if (r < 0)
                        return r;
                (void) record_injected(n, t->id, d);
        }
        return 0;
}

static int target_cmp(const void *a, const void *b) {
        uint32_t x = ((const NetmakerTarget *) a)->id, y = ((const NetmakerTarget *) b)->id;

        return x < y ? -1 : x > y;
}

static json_object *target_to_json(const NetmakerTarget *t) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "id", json_object_new_int64(t->id));
        json_object_object_add(o, "running", json_object_new_boolean(t->running));
        if (t->inspected) {
                json_object_object_add(o, "token", json_object_new_boolean(t->token_present));
                json_object_object_add(o, "unit", json_object_new_boolean(t->unit_present && t->unit_enabled));
        }
        return o;
}

/* What op-dbus put into containers: the containers it injected into, and
 * the state's containers that hold a token or the unit. Never the token. */
static int netmaker_plugin_live_to_json(Plugin *p, json_object **ret) {
        NetmakerPlugin *n = (NetmakerPlugin *) p;
        _cleanup_(json_object_putp) json_object *section = NULL, *injected = NULL;

        *ret = NULL;
        if (n->n_targets > 1)
                qsort(n->targets, n->n_targets, sizeof(NetmakerTarget), target_cmp);
        injected = json_object_new_array();
        if (!injected)
                return -ENOMEM;
        for (size_t i = 0; i < n->n_targets; i++) {
                const NetmakerTarget *t = &n->targets[i];

                if (t->exists && (t->recorded || t->token_present || t->unit_present))
                        json_object_array_add(injected, target_to_json(t));
        }
        if (json_object_array_length(injected) == 0)
                return 0; /* nothing of op-dbus's in any container */

        section = json_object_new_object();
        if (!section)
                return -ENOMEM;
        json_object_object_add(section, "enabled", json_object_new_boolean(true));
        json_object_object_add(section, "token_file", json_object_new_string(
                n->ledger.token_file ?: n->want.token_file ?: NETMAKER_TOKEN_FILE_DEFAULT));
        json_object_object_add(section, "injected", TAKE_PTR(injected));
        *ret = TAKE_PTR(section);
        return 0;
}

static void netmaker_plugin_done(Plugin *p) {
        NetmakerPlugin *n = (NetmakerPlugin *) p;

        live_done(n);
        netmaker_config_done(&n->want);
        netmaker_containers_free(n->containers, n->n_containers);
        free(n->lxc_backend);
}

const PluginVTable netmaker_plugin_vtable = {
        .name = "netmaker",
        .after = (const char *const[]) { "lxc", NULL },
        .object_size = sizeof(NetmakerPlugin),
        .parse = netmaker_plugin_parse,
        .check_restricted = netmaker_plugin_check_restricted,
        .query = netmaker_plugin_query,
        .diff = netmaker_plugin_diff,
        .apply = netmaker_plugin_apply,
        .live_to_json = netmaker_plugin_live_to_json,
        .done = netmaker_plugin_done,
};
