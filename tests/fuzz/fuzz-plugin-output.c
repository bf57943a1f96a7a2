/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What other programs print, as the plugins read it: the Proxmox tools,
 * LXC's tools, the scripts run inside containers (whose root may print
 * anything) and the files the node holds. The first line names the
 * parser; the rest is the text it reads:
 *
 *   pct list, pct config, pct status, pveam list, pveam available
 *   pct conf edit       the raw-key edit of /etc/pve/lxc/<id>.conf
 *   lxc services        the lxc plugin's services inspection script
 *   lxc tool error      what a failed LXC tool printed
 *   netmaker conf       /etc/pve/lxc/<id>.conf as the pct backend reads it for the netmaker plugin
 *   netmaker inspect    the netmaker plugin's inspection script
 *   pct mount           `pct mount` as the pct backend reads it
 *   netmaker token      the enrollment token file, and a redaction with it */
#include <stdio.h>

#include "fuzz.h"
#include "plain.h"
#include "lxc-backend.h"
#include "lxc-containers.h"
#include "lxc-services.h"
#include "netmaker.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(LxcServiceLive *, lxc_service_live_free);

static void run_pct_list(const uint8_t *data, size_t size) {
        _cleanup_(freep) char *text = fuzz_strndup(data, size);
        _cleanup_(diag_done) Diag d = {};
        LxcLive *live = NULL;
        size_t n = 0;

        if (lxc_pct_list_parse(text, &live, &n, &d) < 0) {
                FUZZ_CHECK(diag_count(&d, DIAG_ERROR) > 0);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                FUZZ_CHECK(live[i].id >= PVE_VMID_MIN && live[i].id <= PVE_VMID_MAX);
                lxc_live_done(&live[i]);
        }
        free(live);
}

/* pct config prints NUL bytes (the env: option's separators): read by length. */
static void run_pct_config(const uint8_t *data, size_t size) {
        _cleanup_(freep) char *text = malloc(size + 1), *lock = NULL, *net0 = NULL, *features = NULL;
        _cleanup_(lxc_spec_done) LxcSpec spec = { .id = 100 };

        if (!text)
                return;
        memcpy(text, data, size);
        text[size] = 0;
        if (lxc_conf_parse(text, size, &spec, &lock) < 0)
                return;
        /* What `pct set` would be given back. */
        net0 = lxc_spec_net0_string(&spec, &spec);
        features = lxc_props_format(&spec.features, NULL);
        FUZZ_CHECK(features);
        FUZZ_CHECK(spec.hostname);
}

/* Adding the raw lines twice changes the file once; removing them from
 * the result gives a file from which removing changes nothing. */
static void run_pct_conf_edit(const uint8_t *data, size_t size) {
        _cleanup_(freep) char *text = fuzz_strndup(data, size), *added = NULL, *again = NULL,
                *removed = NULL, *none = NULL;
        bool changed;

        FUZZ_CHECK(lxc_conf_edit_raw(text, lxc_tun_lines, true, &added, &changed) >= 0);
        FUZZ_CHECK(lxc_conf_edit_raw(added, lxc_tun_lines, true, &again, &changed) >= 0);
        FUZZ_CHECK(!changed && streq(added, again));
        FUZZ_CHECK(lxc_conf_edit_raw(added, lxc_tun_lines, false, &removed, &changed) >= 0);
        FUZZ_CHECK(lxc_conf_edit_raw(removed, lxc_tun_lines, false, &none, &changed) >= 0);
        FUZZ_CHECK(!changed && streq(removed, none));
}

static void run_pct_status(const uint8_t *data, size_t size) {
        _cleanup_(freep) char *text = fuzz_strndup(data, size);
        pid_t pid = 0;

        if (lxc_pct_status_pid(text, &pid))
                FUZZ_CHECK(pid > 0);
}

static void run_words(const uint8_t *data, size_t size, size_t column, const char *header) {
        _cleanup_(freep) char *text = fuzz_strndup(data, size);
        char **words = NULL;
        size_t n = 0;

        FUZZ_CHECK(lxc_pveam_words(text, column, header, &words, &n) >= 0);
        for (size_t i = 0; i < n; i++) {
                FUZZ_CHECK(words[i] && *words[i]);
                free(words[i]);
        }
        free(words);
}

static void run_pveam_list(const uint8_t *data, size_t size) {
        run_words(data, size, 0, "NAME");
}

static void run_pveam_available(const uint8_t *data, size_t size) {
        run_words(data, size, 1, "");
}

static void run_lxc_services(const uint8_t *data, size_t size) {
        static ServiceFile files[3] = {
                { .path = (char *) "/etc/wireguard/wg0.conf", .content = (char *) "", .mode = 0600 },
                { .path = (char *) "/etc/xray/config.json", .content = (char *) "", .mode = 0600 },
                { .path = (char *) "/etc/systemd/system/x.service", .content = (char *) "", .mode = 0644 },
        };
        static ServiceInput inputs[2] = {
                { .path = (char *) "/etc/wireguard/wg0.key" },
                { .path = (char *) "/etc/xray/id" },
        };
        static char *units[2] = { (char *) "wg-quick@wg0.service", (char *) "x.service" };
        static char *packages[2] = { (char *) "wireguard-tools", (char *) "xray" };
        static const ServiceFiles f = {
                .files = files, .n_files = ELEMENTSOF(files),
                .inputs = inputs, .n_inputs = ELEMENTSOF(inputs),
                .units = units, .n_units = ELEMENTSOF(units),
                .packages = packages, .n_packages = ELEMENTSOF(packages),
        };
        _cleanup_(lxc_service_live_freep) LxcServiceLive *s = lxc_service_live_new();
        _cleanup_(freep) char *text = fuzz_strndup(data, size);

        FUZZ_CHECK(s);
        FUZZ_CHECK(lxc_services_parse_inspection(text, &f, s) >= 0);
}

static void run_lxc_tool_error(const uint8_t *data, size_t size) {
        _cleanup_(freep) char *text = fuzz_strndup(data, size), *a = NULL, *b = NULL;

        a = plain_failure_text(text, "");
        b = plain_failure_text("", text);
        FUZZ_CHECK(a && b && streq(a, b));
}

static void run_netmaker_conf(const uint8_t *data, size_t size) {
        _cleanup_(freep) char *text = fuzz_strndup(data, size);
        LxcContainerInfo info;

        lxc_conf_info(text, &info);
        FUZZ_CHECK(info.exists);
}

static void run_netmaker_inspect(const uint8_t *data, size_t size) {
        _cleanup_(freep) char *text = fuzz_strndup(data, size);
        static const uint8_t hash[SHA256_SIZE] = { 0x12, 0x34 };
        NetmakerTarget t = { .id = 100 };

        netmaker_parse_inspect(text, &t, hash);
        FUZZ_CHECK(!t.token_current || t.token_present);
        FUZZ_CHECK(!t.unit_current || t.unit_present);
}

static void run_pct_mount(const uint8_t *data, size_t size) {
        _cleanup_(freep) char *text = fuzz_strndup(data, size), *path = lxc_pct_mounted_path(text);

        FUZZ_CHECK(!path || path[0] == '/');
}

/* A secret is shown nowhere once redacted (unless it is made of the
 * marker's own characters). */
static void check_redacted(const char *text, const char *secret) {
        if (!secret || strlen(secret) < 6 || strpbrk(secret, "<>") || strstr(NETMAKER_REDACTED, secret))
                return;
        FUZZ_CHECK(!strstr(text, secret));
}

static void run_netmaker_token(const uint8_t *data, size_t size) {
        _cleanup_(netmaker_token_done) NetmakerToken t = {};
        _cleanup_(freep) char *redacted = NULL, *text = fuzz_strndup(data, size);
        _cleanup_(diag_done) Diag d = {};
        char *token = NULL;
        int r;

        r = netmaker_env_parse((const char *) data, size, "fuzz.env", "plugins.netmaker.token_file", &token, &d);
        if (r < 0) {
                FUZZ_CHECK(diag_count(&d, DIAG_ERROR) > 0);
                return;
        }
        r = netmaker_token_decode(token, "fuzz.env", "plugins.netmaker.token_file", &t, &d);
        if (r < 0) {
                FUZZ_CHECK(diag_count(&d, DIAG_ERROR) > 0);
                return;
        }
        FUZZ_CHECK(netmaker_server_valid(t.server));
        redacted = netmaker_redact(text, &t);
        FUZZ_CHECK(redacted);
        check_redacted(redacted, t.token);
        check_redacted(redacted, t.key);
        /* The messages never quote the token. */
        for (size_t i = 0; i < d.n_entries; i++)
                check_redacted(d.entries[i].message, t.token);
}

static const FuzzCase cases[] = {
        { "pct list", run_pct_list },
        { "pct config", run_pct_config },
        { "pct conf edit", run_pct_conf_edit },
        { "pct status", run_pct_status },
        { "pveam list", run_pveam_list },
        { "pveam available", run_pveam_available },
        { "lxc services", run_lxc_services },
        { "lxc tool error", run_lxc_tool_error },
        { "netmaker conf", run_netmaker_conf },
        { "netmaker inspect", run_netmaker_inspect },
        { "pct mount", run_pct_mount },
        { "netmaker token", run_netmaker_token },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        fuzz_run_case(cases, ELEMENTSOF(cases), data, size);
        return 0;
}
