/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pure parts of the lxc plugin: Proxmox configuration text, the raw
 * key edit, property strings, template resolution and the diff's actions
 * and impact classes. */
#include <stdio.h>

#include "json-util.h"
#include "host.h"
#include "lxc-backend.h"
#include "lxc-containers.h"
#include "lxc-services.h"
#include "tests.h"

#define TUN1 "lxc.cgroup2.devices.allow: c 10:200 rwm\n"
#define TUN2 "lxc.mount.entry: /dev/net/tun dev/net/tun none bind,create=file\n"

static char *edit(const char *text, bool present, bool *changed) {
        char *out = NULL;

        ASSERT_EQ(lxc_conf_edit_raw(text, lxc_tun_lines, present, &out, changed), 0);
        return out;
}

TEST(test_edit_raw) {
        const char *snap = "#note\narch: amd64\nparent: snap1\n\n[snap1]\narch: amd64\n" TUN1;
        _cleanup_(freep) char *a = NULL, *b = NULL, *c = NULL, *e = NULL, *f = NULL;
        bool changed;

        /* before the first section, even if a snapshot has the lines */
        a = edit(snap, true, &changed);
        ASSERT_TRUE(changed);
        ASSERT_STREQ(a, "#note\narch: amd64\nparent: snap1\n" TUN1 TUN2 "\n[snap1]\narch: amd64\n" TUN1);
        b = edit(a, true, &changed);
        ASSERT_TRUE(!changed);
        ASSERT_STREQ(b, a);
        c = edit(a, false, &changed);
        ASSERT_TRUE(changed);
        ASSERT_STREQ(c, snap);

        /* no trailing newline, no section; the "k = v" spelling counts */
        e = edit("arch: amd64\nlxc.cgroup2.devices.allow = c 10:200 rwm", true, &changed);
        ASSERT_STREQ(e, "arch: amd64\nlxc.cgroup2.devices.allow = c 10:200 rwm\n" TUN2);
        f = edit("", true, &changed);
        ASSERT_STREQ(f, TUN1 TUN2);
}

TEST(test_conf_parse) {
        const char *text =
                "arch: amd64\n"
                "description: Managed by op-dbus%3A x%0Aop-dbus template%3A debian-12%0Aop-dbus volume%3A local%3Avztmpl/d.tar.zst%0A\n"
                "features: nesting=1,keyctl=0\n"
                "hostname: web\n"
                "lock: backup\n"
                "memory: 256\n"
                "net0: name=eth0,bridge=vmbr0,firewall=0,hwaddr=bc:24:11:00:00:01,ip=10.0.0.1/24,type=veth\n"
                "net1: name=eth1,bridge=vmbr1\n"
                "rootfs: local-lvm:vm-100-disk-0,size=1536M\n"
                "tags: op-dbus;web\n"
                "unprivileged: 1\n"
                TUN1;
        _cleanup_(lxc_spec_done) LxcSpec s = { .id = 100 };
        _cleanup_(freep) char *lock = NULL, *net0 = NULL;

        ASSERT_EQ(lxc_conf_parse(text, strlen(text), &s, &lock), 0);
        ASSERT_STREQ(lock, "backup");
        ASSERT_STREQ(s.hostname, "web");
        ASSERT_EQ(s.memory, 256);
        ASSERT_EQ(s.swap, 0); /* no swap line: no swap (LXC.pm) */
        ASSERT_EQ(s.cores, -1);
        ASSERT_TRUE(s.unprivileged && !s.onboot);
        ASSERT_EQ(s.features.n, 1);
        ASSERT_STREQ(s.tags, "op-dbus;web");
        ASSERT_STREQ(s.storage, "local-lvm");
        ASSERT_EQ(s.rootfs_mib, 1536);
        ASSERT_STREQ(s.template, "debian-12");
        ASSERT_STREQ(s.volume, "local:vztmpl/d.tar.zst");
        ASSERT_TRUE(!s.tun && s.tun_partial);
        ASSERT_EQ(s.n_extra_nets, 1);
        net0 = lxc_props_format(&s.net0, "name");
        ASSERT_STREQ(net0, "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=10.0.0.1/24");
}

TEST(test_conf_parse_env_nul) {
        /* pct config since pve-container 6.0.15: "env" with NUL bytes */
        static const char text[] = "arch: amd64\n"
                "env: A=1\0B=2\0C=3\n"
                "hostname: web\n"
                "memory: 256\n"
                "tags: op-dbus\n";
        _cleanup_(lxc_spec_done) LxcSpec s = { .id = 100 };
        _cleanup_(freep) char *lock = NULL;

        ASSERT_EQ(lxc_conf_parse(text, sizeof text - 1, &s, &lock), 0);
        ASSERT_STREQ(s.hostname, "web");
        ASSERT_EQ(s.memory, 256);
        ASSERT_STREQ(s.tags, "op-dbus");
}

TEST(test_ha_managed) {
        const char *res = "vm: 100\n\tstate started\n\n"
                "ct: 101\n\tgroup g\n\tstate started\n\n"
                "CT:102\n\tstate ignored\n\n"
                "ct:  103  \n\tmax_restart 1\n";

        ASSERT_TRUE(!lxc_ha_managed(res, NULL, 100)); /* a VM's */
        ASSERT_TRUE(lxc_ha_managed(res, NULL, 101));
        ASSERT_TRUE(!lxc_ha_managed(res, NULL, 102)); /* ignored */
        ASSERT_TRUE(lxc_ha_managed(res, NULL, 103)); /* no state: started */
        ASSERT_TRUE(!lxc_ha_managed(res, NULL, 104));
        ASSERT_TRUE(!lxc_ha_managed(NULL, NULL, 101));
        ASSERT_TRUE(!lxc_ha_managed(res, "{\"disarm\": {\"mode\": \"ignore\", \"state\": \"disarmed\"}}", 101));
        ASSERT_TRUE(lxc_ha_managed(res, "{\"disarm\": {\"mode\": \"freeze\"}}", 101));
}

TEST(test_lists) {
        _cleanup_(freep) char *tags = NULL, *ns = NULL, *none = NULL;

        ASSERT_EQ(lxc_list_normalize("Web,prod; op-dbus web", true, &tags), 0);
        ASSERT_STREQ(tags, "op-dbus;prod;web");
        ASSERT_EQ(lxc_list_normalize("1.1.1.1,8.8.8.8", false, &ns), 0);
        ASSERT_STREQ(ns, "1.1.1.1 8.8.8.8");
        ASSERT_EQ(lxc_list_normalize(" ", false, &none), 0);
        ASSERT_TRUE(!none);
}

TEST(test_template_resolve) {
        char *local[] = { "local:vztmpl/debian-12-standard_12.2-1_amd64.tar.zst",
                          "local:vztmpl/debian-12-standard_12.12-1_amd64.tar.zst",
                          "local:vztmpl/debian-13-standard_13.6-1_amd64.tar.zst" };
        char *available[] = { "alpine-3.22-default_20250617_amd64.tar.xz" };
        LxcTemplateCache cache = { .storage = (char *) "local", .volumes = local, .n_volumes = 3 };
        LxcTemplates t = { .caches = &cache, .n_caches = 1, .available = available, .n_available = 1 };
        char *v, *hint;

        ASSERT_EQ(lxc_template_resolve(&t, "debian-12", &v, &hint), 1);
        ASSERT_STREQ(v, "local:vztmpl/debian-12-standard_12.12-1_amd64.tar.zst");
        free(v);
        ASSERT_EQ(lxc_template_resolve(&t, "debian-13-standard_13.6-1_amd64.tar.zst", &v, &hint), 1);
        free(v);
        ASSERT_EQ(lxc_template_resolve(&t, "debian-1", &v, &hint), 0);
        ASSERT_CONTAINS(hint, "does not offer it either");
        free(hint);
        ASSERT_EQ(lxc_template_resolve(&t, "alpine-3.22", &v, &hint), 0);
        ASSERT_CONTAINS(hint, "`pveam download local alpine-3.22-default_20250617_amd64.tar.xz` fetches it");
        free(hint);
        ASSERT_EQ(lxc_template_resolve(&t, "/nonexistent.tar.gz", &v, &hint), 0);
        free(hint);
}

/* A plugin with the state's section and live containers given as `pct
 * config` text, diffed. */
typedef struct Fixture {
        PluginContext ctx;
        LxcPlugin l;
        Plan plan;
        Diag d;
} Fixture;

static void fixture_done(Fixture *f) {
        lxc_specs_done(&f->l);
        free(f->l.changes);
        lxc_live_set_done(&f->l);
        lxc_config_done(&f->l.want);
        plan_done(&f->plan);
        diag_done(&f->d);
}

static void add_live(Fixture *f, uint32_t id, bool running, const char *conf) {
        LxcLive *h;

        f->l.have = realloc(f->l.have, (f->l.n_have + 1) * sizeof(LxcLive));
        ASSERT_TRUE(f->l.have);
        h = &f->l.have[f->l.n_have++];
        *h = (LxcLive) { .id = id, .running = running, .spec.id = id };
        ASSERT_EQ(lxc_conf_parse(conf, strlen(conf), &h->spec, &h->lock), 0);
        h->owned = strstr(conf, "tags: op-dbus") != NULL;
}

static int diff(Fixture *f, const char *section) {
        _cleanup_(json_object_putp) json_object *o = json_tokener_parse(section);

        ASSERT_TRUE(o);
        ASSERT_EQ(lxc_parse(&f->l.want, o, &f->d), 0);
        /* the local template cache has debian-12 */
        f->l.templates.caches = calloc(1, sizeof(LxcTemplateCache));
        ASSERT_TRUE(f->l.templates.caches);
        f->l.templates.n_caches = 1;
        f->l.templates.caches[0].storage = strdup("local");
        f->l.templates.caches[0].volumes = calloc(2, sizeof(char *));
        ASSERT_TRUE(f->l.templates.caches[0].volumes);
        f->l.templates.caches[0].volumes[0] = strdup("local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst");
        f->l.templates.caches[0].n_volumes = 1;
        f->l.plugin.ctx = &f->ctx;
        f->l.backend = &lxc_pct_backend;
        f->l.have_queried = true;
        return lxc_diff(&f->l, &f->plan, &f->d);
}

#define OWNED "tags: op-dbus\nmemory: 256\nswap: 0\nunprivileged: 1\nhostname: ct%d\n" \
        "description: Managed by op-dbus%%3A changes made here are undone by its next apply.%%0Aop-dbus template%%3A debian-12%%0Aop-dbus volume%%3A local%%3Avztmpl/debian-12-standard_12.7-1_amd64.tar.zst\n" \
        "net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=10.0.0.%d/24,type=veth\n" \
        "rootfs: local-lvm:vm-%d-disk-0,size=4G\n"

static void owned(Fixture *f, uint32_t id, bool running) {
        char conf[1024];

        snprintf(conf, sizeof conf, OWNED, id, id % 100, id);
        add_live(f, id, running, conf);
}

/* Container 101 (ct101, 10.0.0.1) as OWNED describes it, with extra
 * properties and network keys. */
static void ct(char *buf, size_t size, const char *extra_props, const char *extra_net) {
        snprintf(buf, size, "{\"containers\": [{\"id\": 101, \"name\": \"ct101\", \"template\": \"debian-12\", "
                 "\"network\": {\"bridge\": \"vmbr0\", \"ipv4\": \"10.0.0.1/24\"%s}, "
                 "\"properties\": {\"memory\": 256, \"swap\": 0%s}}]}", extra_net, extra_props);
}

static void check_action(const char *props, const char *net, ActionKind kind, Impact impact, const char *detail) {
        _cleanup_(fixture_done) Fixture f = {};
        char section[2048];

        ct(section, sizeof section, props, net);
        owned(&f, 101, true);
        if (diff(&f, section) < 0)
                TEST_FAIL("%s: %s", props, f.d.n_entries ? f.d.entries[0].message : "?");
        ASSERT_EQ(f.plan.n_actions, 1);
        ASSERT_EQ(f.plan.actions[0].kind, kind);
        ASSERT_EQ(f.plan.actions[0].impact, impact);
        ASSERT_CONTAINS(f.plan.actions[0].detail, detail);
}

TEST(test_diff_actions) {
        _cleanup_(fixture_done) Fixture same = {}, stopped = {};
        char section[2048];

        ct(section, sizeof section, "", "");
        owned(&same, 101, true);
        ASSERT_EQ(diff(&same, section), 0);
        if (same.plan.n_actions > 0)
                TEST_FAIL("unexpected action: %s", same.plan.actions[0].detail);

        check_action(", \"memory\": 512", "", ACTION_MODIFY, IMPACT_NONE, "memory 256 -> 512");
        check_action("", ", \"tag\": 7", ACTION_REPLUG, IMPACT_PORT_FLAP, "net0.tag (unset) -> 7");
        check_action("", ", \"hwaddr\": \"02:00:00:00:00:01\"", ACTION_REPLUG, IMPACT_PORT_FLAP, "net0.hwaddr");
        check_action("", ", \"ipv4\": \"10.0.0.9/24\"", ACTION_MODIFY, IMPACT_NONE, "net0.ip");
        check_action(", \"features\": \"nesting=1\"", "", ACTION_MODIFY, IMPACT_CONTAINER_RESTART, "restarts");
        check_action("", ", \"wg_tunnel\": true", ACTION_MODIFY, IMPACT_CONTAINER_RESTART, "TUN device off -> on");
        check_action(", \"rootfs_size\": 8", "", ACTION_MODIFY, IMPACT_NONE, "rootfs size");
        check_action(", \"unprivileged\": false, \"allow_privileged\": true", "", ACTION_RECREATE,
                     IMPACT_CONTAINER_LOSS, "unprivileged 1 -> 0");

        /* a smaller rootfs_size never destroys the container for it */
        {
                _cleanup_(fixture_done) Fixture shrink = {};

                ct(section, sizeof section, ", \"rootfs_size\": 2", "");
                owned(&shrink, 101, true);
                ASSERT_EQ(diff(&shrink, section), 0);
                ASSERT_EQ(shrink.plan.n_actions, 0);
                ASSERT_EQ(shrink.d.n_entries, 1);
                ASSERT_EQ(shrink.d.entries[0].level, DIAG_WARNING);
                ASSERT_STREQ(shrink.d.entries[0].path, "plugins.lxc.containers[0].properties.rootfs_size");
                ASSERT_CONTAINS(shrink.d.entries[0].message, "a volume is never shrunk");
        }

        /* on a stopped container nothing is disturbed */
        ct(section, sizeof section, ", \"features\": \"nesting=1\"", ", \"tag\": 7");
        owned(&stopped, 101, false);
        ASSERT_EQ(diff(&stopped, section), 0);
        ASSERT_EQ(stopped.plan.n_actions, 1);
        ASSERT_EQ(stopped.plan.actions[0].impact, IMPACT_NONE);
        ASSERT_EQ(stopped.l.changes[0].flags, LXC_DO_SET);
}

TEST(test_diff_ownership_and_prune) {
        _cleanup_(fixture_done) Fixture f = {}, g = {};
        char section[2048];

        /* a container op-dbus did not create is refused; one it did, not
         * listed, is only destroyed with prune */
        add_live(&f, 101, false, "hostname: mine\nmemory: 512\n");
        owned(&f, 102, false);
        ct(section, sizeof section, "", "");
        ASSERT_EQ(diff(&f, section), -EINVAL);
        ASSERT_STREQ(f.d.entries[0].path, "plugins.lxc.containers[0]");
        ASSERT_CONTAINS(f.d.entries[0].message, "was not created by op-dbus");
        ASSERT_CONTAINS(f.d.entries[1].message, "container 102 (ct102) was created by op-dbus");

        owned(&g, 102, true);
        ASSERT_EQ(diff(&g, "{\"prune\": true}"), 0);
        ASSERT_EQ(g.plan.n_actions, 1);
        ASSERT_EQ(g.plan.actions[0].kind, ACTION_DELETE);
        ASSERT_EQ(g.plan.actions[0].impact, IMPACT_CONTAINER_LOSS);
}

int main(void) {
        RUN(test_edit_raw);
        RUN(test_conf_parse);
        RUN(test_conf_parse_env_nul);
        RUN(test_ha_managed);
        RUN(test_lists);
        RUN(test_template_resolve);
        RUN(test_diff_actions);
        RUN(test_diff_ownership_and_prune);
        return 0;
}
