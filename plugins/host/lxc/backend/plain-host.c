/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plain LXC backend: running its tools, what the host offers, LXC
 * configuration files, op-dbus's record and listing the containers. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "exec.h"
#include "fileio.h"
#include "host.h"
#include "json-util.h"
#include "lxc-backend.h"
#include "lxc-containers.h"
#include "plain.h"
#include "strbuf.h"
PlainHost *plain_host_of(const LxcPlugin *l) {
        return l->backend_data;
}

void plain_host_free(void *p) {
        PlainHost *h = p;

        if (!h)
                return;
        free(h->lxcpath);
        free(h->idmap_problem);
        free(h->ovsdb_problem);
        free(h);
}

/* ---- running the tools ------------------------------------------------ */





/* "<tool> -P <lxcpath> -n <id>" */
void plain_argv_tool(Argv *a, const char *tool, const PlainHost *h, uint32_t id) {
        lxc_argv_add(a, tool);
        lxc_argv_add(a, "-P");
        lxc_argv_add(a, h->lxcpath);
        lxc_argv_add(a, "-n");
        lxc_argv_addf(a, "%" PRIu32, id);
}

int plain_timeout_for(const LxcPlugin *l, int base_ms) {
        return MAX(l->plugin.ctx->timeout_ms, base_ms);
}

/* LXC's tools print "lxc-start: 301: ../src/lxc/tools/lxc_start.c: main:
 * 306 The container failed to start": the message follows the source
 * position. Other lines are taken as they are. */
static const char *tool_message(const char *line) {
        const char *p = line;
        size_t digits;

        for (int i = 0; i < 4; i++) {
                p = strstr(p, ": ");
                if (!p)
                        return line;
                p += 2;
        }
        digits = strspn(p, "0123456789");
        return digits > 0 && p[digits] == ' ' ? p + digits + 1 : line;
}

/* The tool's message: the lines of standard error (else standard output)
 * joined with "; ". */
char *plain_failure_text(const char *err, const char *out) {
        _cleanup_(freep) char *copy = strdup(*err ? err : out);
        StrBuf b = {};
        char *save = NULL;

        if (!copy)
                return NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                if (*strstrip_newline(line))
                        strbuf_printf(&b, "%s%s", b.len ? "; " : "", tool_message(line));
        if (b.len == 0)
                strbuf_puts(&b, "no message");
        return strbuf_take(&b);
}

/* "lxc-start 301": the tool and the container (or the first argument). */
static char *command_name(const Argv *a) {
        const char *arg = a->n > 1 ? a->v[1] : "";
        char *s;

        for (size_t i = 1; i + 1 < a->n; i++)
                if (streq(a->v[i], "-n"))
                        arg = a->v[i + 1];
        return asprintf(&s, "%s%s%s", a->v[0], *arg ? " " : "", arg) < 0 ? NULL : s;
}

/* Runs argv (with input on standard input, may be NULL); *ret_out gets
 * standard output. A failure is an error with the tool's message; text
 * on standard error of a successful call is passed on as a warning. */
int plain_run_input(LxcPlugin *l, const Argv *a, const char *input, int timeout_ms, char **ret_out, Diag *d) {
        _cleanup_(exec_result_done) ExecResult res = {};
        _cleanup_(freep) char *what = NULL;
        int r;

        if (a->error)
                return a->error;
        what = command_name(a);
        if (!what)
                return -ENOMEM;
        r = exec_capture(a->v, input, input ? strlen(input) : 0, plain_timeout_for(l, timeout_ms), &res);
        if (r < 0) {
                diag_error(d, "", "cannot run `%s`: %s", what, r != -ENOENT ? strerror(-r) :
                           startswith(a->v[0], "lxc-") ? "not found in PATH (the plain LXC backend needs the lxc package)" :
                           "not found in PATH");
                return r;
        }
        if (res.status != 0) {
                _cleanup_(freep) char *msg = plain_failure_text(res.err, res.out);

                diag_error(d, "", "`%s` failed (exit code %d): %s", what, res.status, strna(msg));
                return -EIO;
        }
        if (*strstrip_newline(res.err)) {
                _cleanup_(freep) char *msg = plain_failure_text(res.err, "");

                diag_warning(d, "", "`%s`: %s", what, strna(msg));
        }
        if (ret_out)
                *ret_out = TAKE_PTR(res.out);
        return 0;
}

int plain_run(LxcPlugin *l, const Argv *a, int timeout_ms, char **ret_out, Diag *d) {
        return plain_run_input(l, a, NULL, timeout_ms, ret_out, d);
}

/* ---- the host ------------------------------------------------------------ */


/* $OPDBUS_LXC_PATH, else LXC's own default (`lxc-config lxc.lxcpath`). */
static int find_lxcpath(LxcPlugin *l, char **ret, Diag *d) {
        const char *e = getenv("OPDBUS_LXC_PATH");
        _cleanup_(lxc_argv_done) Argv a = {};
        _cleanup_(freep) char *out = NULL;
        size_t n;
        int r;

        if (e && *e) {
                if (e[0] != '/') {
                        diag_error(d, "", "OPDBUS_LXC_PATH=%s is not an absolute path", e);
                        return -EINVAL;
                }
                out = strdup(e);
        } else {
                lxc_argv_add(&a, "lxc-config");
                lxc_argv_add(&a, "lxc.lxcpath");
                r = plain_run(l, &a, 0, &out, d);
                if (r < 0)
                        return r;
                if (strstrip_newline(out)[0] != '/') {
                        diag_error(d, "", "`lxc-config lxc.lxcpath` printed \"%s\", not an absolute path", out);
                        return -EBADMSG;
                }
        }
        if (!out)
                return -ENOMEM;
        n = strlen(out);
        while (n > 1 && out[n - 1] == '/')
                out[--n] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

static bool is_cgroup2(const char *path) {
        struct statfs s;

        return statfs(path, &s) >= 0 && s.f_type == CGROUP2_SUPER_MAGIC;
}

/* Whether the unified hierarchy at root offers the controller. */
static bool v2_has(const char *root, const char *controller) {
        _cleanup_(freep) char *path = NULL, *text = NULL;
        char *save = NULL;
        size_t len;

        if (!root || asprintf(&path, "%s/cgroup.controllers", root) < 0 || read_full_file(path, &text, &len) < 0)
                return false;
        for (char *w = strtok_r(text, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
                if (streq(w, controller))
                        return true;
        return false;
}

/* Which hierarchy limits what: LXC writes lxc.cgroup2.* keys to the
 * unified hierarchy and lxc.cgroup.* keys to the v1 controllers of a
 * hybrid layout. */
static void detect_cgroups(PlainHost *h) {
        const char *v2 = is_cgroup2("/sys/fs/cgroup") ? "/sys/fs/cgroup" :
                is_cgroup2("/sys/fs/cgroup/unified") ? "/sys/fs/cgroup/unified" : NULL;

        h->memory = v2_has(v2, "memory") ? CGROUP_V2 :
                access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0 ? CGROUP_V1 : CGROUP_NONE;
        h->swap = h->memory == CGROUP_V2 ? CGROUP_V2 :
                h->memory == CGROUP_V1 && access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0 ?
                CGROUP_V1 : CGROUP_NONE;
        h->cpu = v2_has(v2, "cpu") ? CGROUP_V2 :
                access("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", F_OK) == 0 ? CGROUP_V1 : CGROUP_NONE;
        h->devices = access("/sys/fs/cgroup/devices/devices.allow", F_OK) == 0 ? CGROUP_V1 :
                v2 ? CGROUP_V2 : CGROUP_NONE;
}

/* Whether an /etc/subuid-style file gives root the ids of IDMAP_BASE. */
static bool has_root_range(const char *file) {
        _cleanup_(freep) char *text = NULL;
        char *save = NULL;
        size_t len;

        if (read_full_file(file, &text, &len) < 0)
                return false;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char name[64];
                unsigned long long start, count;

                if (sscanf(line, "%63[^:]:%llu:%llu", name, &start, &count) == 3 &&
                    (streq(name, "root") || streq(name, "0")) &&
                    start <= IDMAP_BASE && start + count >= (unsigned long long) IDMAP_BASE + IDMAP_COUNT)
                        return true;
        }
        return false;
}

/* With shadow's newuidmap installed, LXC maps ids through it, which only
 * grants the ranges /etc/subuid and /etc/subgid give root. Without it,
 * root writes the maps itself. */
static int check_idmap(PlainHost *h) {
        const char *missing;

        if (!exec_in_path("newuidmap") && !exec_in_path("newgidmap"))
                return 0;
        missing = !has_root_range("/etc/subuid") ? "/etc/subuid" : !has_root_range("/etc/subgid") ? "/etc/subgid" : NULL;
        if (!missing)
                return 0;
        return asprintf(&h->idmap_problem, "unprivileged containers map their ids to %u-%u, and because newuidmap is installed, "
                        "LXC maps them through it, which needs that range for root in /etc/subuid and /etc/subgid; %s has none: "
                        "add the line \"root:%u:%u\" to both files", IDMAP_BASE, IDMAP_BASE + IDMAP_COUNT - 1, missing,
                        IDMAP_BASE, IDMAP_COUNT) < 0 ? -ENOMEM : 0;
}

/* LXC runs plain `ovs-vsctl`, which uses unix:$OVS_RUNDIR/db.sock. */
static int check_ovsdb(const PluginContext *ctx, PlainHost *h) {
        const char *addr = host_settings(ctx)->ovsdb_address ?: "";
        _cleanup_(freep) char *lxc_db = NULL, *a = NULL, *b = NULL;

        if (asprintf(&lxc_db, "%s/db.sock", host_settings(ctx)->ovs_rundir ?: "/var/run/openvswitch") < 0)
                return -ENOMEM;
        if (startswith(addr, "unix:")) {
                a = realpath(addr + 5, NULL);
                b = realpath(lxc_db, NULL);
                if (streq(a ?: addr + 5, b ?: lxc_db))
                        return 0;
        }
        return asprintf(&h->ovsdb_problem, "LXC plugs the containers' veths into Open vSwitch with ovs-vsctl, which uses "
                        "unix:%s ($OVS_RUNDIR), while op-dbus uses %s; both must be the same Open vSwitch",
                        lxc_db, addr) < 0 ? -ENOMEM : 0;
}

/* Reads what the plan depends on; kept in l->backend_data until the next
 * query. */
static int host_query(LxcPlugin *l, PlainHost **ret, Diag *d) {
        PlainHost *h = calloc(1, sizeof(PlainHost));
        int r;

        if (!h)
                return -ENOMEM;
        plain_host_free(l->backend_data);
        l->backend_data = h;
        r = find_lxcpath(l, &h->lxcpath, d);
        if (r < 0)
                return r;
        detect_cgroups(h);
        r = check_idmap(h);
        if (r >= 0)
                r = check_ovsdb(l->plugin.ctx, h);
        if (r < 0)
                return r;
        *ret = h;
        return 0;
}

int plain_open(LxcPlugin *l, Diag *d) {
        PlainHost *h;

        return host_query(l, &h, d);
}

/* ---- configuration files ------------------------------------------------- */


void plain_conf_done(Conf *c) {
        for (size_t i = 0; i < c->n; i++) {
                free(c->lines[i].text);
                free(c->lines[i].key);
                free(c->lines[i].value);
        }
        free(c->lines);
        *c = (Conf) {};
}

static char *trim(char *s) {
        char *e;

        s += strspn(s, " \t\r");
        e = s + strlen(s);
        while (e > s && strchr(" \t\r", e[-1]))
                *--e = 0;
        return s;
}

/* LXC drops the quotes of lxc.uts.name = "ct301". */
static char *dequote(char *s) {
        size_t n = strlen(s);

        if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
                s[n - 1] = 0;
                return s + 1;
        }
        return s;
}

/* Splits "key = value" (LXC's form) or "key: value" (Proxmox's, as
 * lxc_tun_lines has them) into trimmed parts, in place. */
bool plain_split_line(char *s, char **ret_key, char **ret_value) {
        char *k = trim(s), *sep = k + strcspn(k, "=:");

        if (!*k || *k == '#' || !*sep)
                return false;
        *sep = 0;
        *ret_key = trim(k);
        *ret_value = dequote(trim(sep + 1));
        return true;
}

static int conf_add(Conf *c, const char *line, size_t len) {
        _cleanup_(freep) char *copy = strndup(line, len);
        ConfLine *lines, *e;
        char *k, *v;

        if (!copy)
                return -ENOMEM;
        lines = realloc(c->lines, (c->n + 1) * sizeof(ConfLine));
        if (!lines)
                return -ENOMEM;
        c->lines = lines;
        e = &c->lines[c->n++];
        *e = (ConfLine) { .text = strndup(line, len) };
        if (!e->text)
                return -ENOMEM;
        if (!plain_split_line(copy, &k, &v))
                return 0;
        e->key = strdup(k);
        e->value = strdup(v);
        return e->key && e->value ? 0 : -ENOMEM;
}

static int conf_parse(const char *text, Conf *ret) {
        _cleanup_(plain_conf_done) Conf c = {};
        int r;

        for (const char *line = text; *line;) {
                size_t n = strcspn(line, "\n");

                r = conf_add(&c, line, n);
                if (r < 0)
                        return r;
                line += n + (line[n] == '\n');
        }
        *ret = c;
        c = (Conf) {};
        return 0;
}

/* The value of the last line with this key. */
static const char *conf_get(const Conf *c, const char *key) {
        for (size_t i = c->n; i > 0; i--)
                if (c->lines[i - 1].key && streq(c->lines[i - 1].key, key))
                        return c->lines[i - 1].value;
        return NULL;
}

int plain_path_of(const PlainHost *h, uint32_t id, const char *file, char **ret) {
        return asprintf(ret, "%s/%" PRIu32 "%s%s", h->lxcpath, id, file ? "/" : "", file ?: "") < 0 ? -ENOMEM : 0;
}

int plain_conf_read(const PlainHost *h, uint32_t id, Conf *ret) {
        _cleanup_(freep) char *path = NULL, *text = NULL;
        size_t len;
        int r;

        r = plain_path_of(h, id, "config", &path);
        if (r >= 0)
                r = read_full_file(path, &text, &len);
        return r < 0 ? r : conf_parse(text, ret);
}

/* ---- the configuration as a spec (what list reads) ----------------------- */

/* "268435456", "256M", "1G" in MiB; -1 for "max", "-1" or garbage. */
static int64_t mib_value(const char *s) {
        static const char units[] = "KMGT";
        unsigned long long v;
        double scale = 1.0 / MIB;
        char *end = NULL;

        if (!s || !(*s >= '0' && *s <= '9'))
                return -1;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0)
                return -1;
        for (int i = 0; *end && units[i]; i++) {
                scale *= 1024.0;
                if ((*end == units[i] || *end == units[i] + 32) && end[1] == 0)
                        return (int64_t) ((double) v * scale + 0.5);
        }
        return *end ? -1 : (int64_t) ((double) v * scale + 0.5);
}

/* Cores as a CPU time quota: "200000 100000" (v2) or quota and period (v1). */
static int64_t cores_value(const Conf *c, const PlainHost *h) {
        const char *max = conf_get(c, "lxc.cgroup2.cpu.max"), *quota = conf_get(c, "lxc.cgroup.cpu.cfs_quota_us");
        const char *period = conf_get(c, "lxc.cgroup.cpu.cfs_period_us");
        long long q = -1, p = CPU_PERIOD_US;

        if (h->cpu == CGROUP_V2 && max && sscanf(max, "%lld %lld", &q, &p) < 1)
                q = -1;
        else if (h->cpu != CGROUP_V2 && quota) {
                q = strtoll(quota, NULL, 10);
                if (period)
                        p = strtoll(period, NULL, 10);
        }
        if (q <= 0 || p <= 0)
                return -1;
        return (q + p - 1) / p;
}

/* The limits as LXC applies them on this host: keys for the other cgroup
 * version count as unset, so they are written again in this host's form. */
static void spec_limits(const Conf *c, const PlainHost *h, LxcSpec *s) {
        const char *memsw = conf_get(c, "lxc.cgroup.memory.memsw.limit_in_bytes");

        s->memory = mib_value(conf_get(c, h->memory == CGROUP_V2 ? "lxc.cgroup2.memory.max" : "lxc.cgroup.memory.limit_in_bytes"));
        s->swap = -1;
        if (h->swap == CGROUP_V2)
                s->swap = mib_value(conf_get(c, "lxc.cgroup2.memory.swap.max"));
        else if (memsw && s->memory >= 0 && mib_value(memsw) >= s->memory)
                s->swap = mib_value(memsw) - s->memory;
        s->cores = cores_value(c, h);
        s->onboot = streq_ptr(conf_get(c, "lxc.start.auto"), "1");
        s->rootfs_mib = -1;
}

/* lxc.cgroup.devices.* and lxc.cgroup2.devices.* are the same rule. */
const char *plain_devices_alias(const char *key) {
        return startswith(key, "lxc.cgroup.devices.") ? key + strlen("lxc.cgroup.") : startswith(key, "lxc.cgroup2.devices.") ?
                key + strlen("lxc.cgroup2.") : key;
}

/* Whether a configuration line is the raw line (in either spelling). */
bool plain_is_raw_line(const ConfLine *c, const char *raw) {
        _cleanup_(freep) char *copy = strdup(raw);
        char *k, *v;

        return c->key && copy && plain_split_line(copy, &k, &v) && streq(plain_devices_alias(c->key), plain_devices_alias(k)) &&
                streq(c->value, v);
}

static int spec_flags(const Conf *c, LxcSpec *s) {
        unsigned tun = 0;
        int r;

        for (size_t i = 0; i < c->n; i++) {
                const ConfLine *e = &c->lines[i];

                if (!e->key)
                        continue;
                if (streq(e->key, "lxc.idmap"))
                        s->unprivileged = true;
                if (streq(e->key, "lxc.include") && streq(e->value, NESTING_CONF)) {
                        r = lxc_props_set(&s->features, "nesting", "1");
                        if (r < 0)
                                return r;
                }
                for (size_t k = 0; lxc_tun_lines[k]; k++)
                        if (plain_is_raw_line(e, lxc_tun_lines[k]))
                                tun |= 1U << k;
        }
        s->tun = tun == 3;
        s->tun_partial = tun != 0 && tun != 3;
        return 0;
}

const PlainNetKey plain_net_keys[] = {
        { "name",   "name" },
        { "bridge", "link" },
        { "hwaddr", "hwaddr" },
        { "ip",     "ipv4.address" },
        { "gw",     "ipv4.gateway" },
        { "tag",    "veth.vlan.id" },
        { "mtu",    "mtu" },
        { "ip6",    "ipv6.address" },
        { "gw6",    "ipv6.gateway" },
        { NULL, NULL },
};

/* One lxc.net.0.<key> line into net0's properties. */
static int net0_key(LxcProps *p, const char *key, const char *value) {
        for (size_t i = 0; plain_net_keys[i].prop; i++)
                if (streq(key, plain_net_keys[i].key)) {
                        _cleanup_(freep) char *v = strndup(value, strcspn(value, " \t"));

                        /* "10.0.0.1/24 10.0.0.255": the broadcast address is not kept */
                        return v ? lxc_props_set(p, plain_net_keys[i].prop, v) : -ENOMEM;
                }
        return 0;
}

static int add_extra_net(LxcSpec *s, unsigned index) {
        char name[16], **l;

        snprintf(name, sizeof name, "net%u", index);
        for (size_t i = 0; i < s->n_extra_nets; i++)
                if (streq(s->extra_nets[i], name))
                        return 0;
        l = realloc(s->extra_nets, (s->n_extra_nets + 1) * sizeof(char *));
        if (!l)
                return -ENOMEM;
        s->extra_nets = l;
        l[s->n_extra_nets] = strdup(name);
        return l[s->n_extra_nets++] ? 0 : -ENOMEM;
}

/* What of net0 differs from op-dbus's own form shows up as a property
 * the state never has, so the diff changes it back. */
static int net0_finish(LxcSpec *s, const char *type, const char *pair, const char *flags) {
        char port[16];
        int r = 0;

        s->has_net0 = type && !streq(type, "empty") && !streq(type, "none");
        if (!s->has_net0) {
                lxc_props_done(&s->net0);
                return 0;
        }
        lxc_veth_port_name(s->id, false, port);
        if (!streq(type, "veth"))
                r = lxc_props_set(&s->net0, "type", type);
        else if (!streq_ptr(pair, port))
                r = lxc_props_set(&s->net0, "veth.pair", pair ?: "(generated)");
        if (r >= 0 && !streq_ptr(flags, "up"))
                r = lxc_props_set(&s->net0, "link_down", "1");
        return r;
}

static int spec_nets(const Conf *c, LxcSpec *s) {
        const char *type = NULL, *pair = NULL, *flags = NULL;
        int r = 0;

        for (size_t i = 0; r >= 0 && i < c->n; i++) {
                const ConfLine *e = &c->lines[i];
                char *end = NULL;
                unsigned long index;

                if (!e->key || !startswith(e->key, "lxc.net."))
                        continue;
                index = strtoul(e->key + strlen("lxc.net."), &end, 10);
                if (!end || *end != '.')
                        continue;
                if (index != 0)
                        r = add_extra_net(s, (unsigned) index);
                else if (streq(end + 1, "type"))
                        type = e->value;
                else if (streq(end + 1, "veth.pair"))
                        pair = e->value;
                else if (streq(end + 1, "flags"))
                        flags = e->value;
                else
                        r = net0_key(&s->net0, end + 1, e->value);
        }
        return r < 0 ? r : net0_finish(s, type, pair, flags);
}

static int spec_from_conf(const Conf *c, const PlainHost *h, uint32_t id, LxcSpec *s) {
        const char *name = conf_get(c, "lxc.uts.name");
        int r;

        s->id = id;
        if (name)
                s->hostname = strdup(name);
        else if (asprintf(&s->hostname, "%" PRIu32, id) < 0)
                s->hostname = NULL;  /* LXC's default: the container's name */
        if (!s->hostname)
                return -ENOMEM;
        spec_limits(c, h, s);
        r = spec_flags(c, s);
        return r < 0 ? r : spec_nets(c, s);
}

/* ---- op-dbus's record ---------------------------------------------------- */

static int record_string(json_object *o, const char *key, char **ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return 0;
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

/* <lxcpath>/<id>/op-dbus.json: the mark of a container op-dbus created,
 * the template it was created from and its tags. */
static int record_read(const PlainHost *h, LxcLive *c) {
        _cleanup_(freep) char *path = NULL, *text = NULL, *tags = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_object *v;
        size_t len;
        int r;

        r = plain_path_of(h, c->id, RECORD_FILE, &path);
        if (r < 0)
                return r;
        r = read_full_file(path, &text, &len);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        o = json_tokener_parse(text);
        if (!o || !json_object_is_type(o, json_type_object) ||
            !json_object_object_get_ex(o, "managed_by", &v) || !streq(json_object_get_string(v) ?: "", OWNER_MARK) ||
            !json_object_object_get_ex(o, "id", &v) || json_object_get_int64(v) != c->id)
                return 0;
        c->owned = true;
        r = record_string(o, "template", &c->spec.template);
        if (r >= 0)
                r = record_string(o, "volume", &c->spec.volume);
        if (r >= 0)
                r = record_string(o, "tags", &tags);
        if (r >= 0)
                r = lxc_list_normalize(tags, true, &c->spec.tags);
        if (r >= 0 && (c->spec.template || c->spec.volume) &&
            !(c->spec.description = lxc_description_build(c->spec.template, c->spec.volume)))
                r = -ENOMEM;
        return r;
}

int plain_owned(const PlainHost *h, uint32_t id) {
        _cleanup_(lxc_live_done) LxcLive c = { .id = id, .spec.id = id };
        int r;

        r = record_read(h, &c);
        return r < 0 ? r : c.owned;
}

static void add_string(json_object *o, const char *key, const char *value) {
        if (value)
                json_object_object_add(o, key, json_object_new_string(value));
}

int plain_record_write(LxcPlugin *l, const LxcSpec *want) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        _cleanup_(freep) char *path = NULL;
        const char *text;
        int r;

        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "managed_by", json_object_new_string(OWNER_MARK));
        json_object_object_add(o, "id", json_object_new_int64(want->id));
        add_string(o, "template", want->template);
        add_string(o, "volume", want->volume);
        add_string(o, "tags", want->tags);
        json_object_object_add(o, "generation", json_object_new_int64((int64_t) l->plugin.ctx->generation));
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        r = plain_path_of(plain_host_of(l), want->id, RECORD_FILE, &path);
        return r < 0 ? r : write_file_atomic(path, text, strlen(text), 0640);
}

/* ---- listing ------------------------------------------------------------- */

static int cmp_id(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

        return x < y ? -1 : x > y;
}

/* Containers named by an id; others are not op-dbus's and cannot be. */
static int scan_ids(const PlainHost *h, uint32_t **ret, size_t *ret_n) {
        _cleanup_(freep) uint32_t *ids = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;
        DIR *dir;
        int r = 0;

        *ret = NULL;
        *ret_n = 0;
        dir = opendir(h->lxcpath);
        if (!dir)
                return errno == ENOENT ? 0 : negative_errno();
        while (r >= 0 && (de = readdir(dir))) {
                _cleanup_(freep) char *conf = NULL;
                const char *end;
                uint32_t id;

                if (!pve_vmid_parse(de->d_name, &end, &id) || *end ||
                    asprintf(&conf, "%s/%s/config", h->lxcpath, de->d_name) < 0 || access(conf, F_OK) < 0)
                        continue;
                r = greedy_realloc((void **) &ids, &allocated, n + 1, sizeof(uint32_t));
                if (r >= 0)
                        ids[n++] = id;
        }
        closedir(dir);
        if (r < 0)
                return r;
        if (n > 0)
                qsort(ids, n, sizeof(uint32_t), cmp_id);
        *ret = TAKE_PTR(ids);
        *ret_n = n;
        return 0;
}

static bool word_listed(const char *text, const char *word) {
        size_t n = strlen(word);

        for (const char *line = text; *line;) {
                size_t k = strcspn(line, "\n");

                if (k == n && strncmp(line, word, n) == 0)
                        return true;
                line += k + (line[k] == '\n');
        }
        return false;
}

static int read_container(const PlainHost *h, uint32_t id, const char *active, LxcLive *c) {
        _cleanup_(plain_conf_done) Conf conf = {};
        char name[16];
        int r;

        snprintf(name, sizeof name, "%" PRIu32, id);
        *c = (LxcLive) { .id = id, .running = word_listed(active, name), .spec.id = id };
        r = plain_conf_read(h, id, &conf);
        if (r >= 0)
                r = spec_from_conf(&conf, h, id, &c->spec);
        if (r >= 0)
                r = record_read(h, c);
        return r;
}

int plain_list(LxcPlugin *l, LxcLive **ret, size_t *ret_n, Diag *d) {
        _cleanup_(lxc_argv_done) Argv a = {};
        _cleanup_(freep) char *active = NULL;
        _cleanup_(freep) uint32_t *ids = NULL;
        LxcLive *live;
        PlainHost *h;
        size_t n;
        int r;

        r = host_query(l, &h, d);
        if (r >= 0)
                r = scan_ids(h, &ids, &n);
        if (r < 0)
                return r;
        if (n > 0) {
                /* running and frozen containers */
                lxc_argv_add(&a, "lxc-ls");
                lxc_argv_add(&a, "-P");
                lxc_argv_add(&a, h->lxcpath);
                lxc_argv_add(&a, "--active");
                lxc_argv_add(&a, "-1");
                r = plain_run(l, &a, 0, &active, d);
                if (r < 0)
                        return r;
        }
        live = calloc(n + 1, sizeof(LxcLive));
        if (!live)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = read_container(h, ids[i], active ?: "", &live[i]);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        lxc_live_done(&live[i]);
                free(live);
                diag_error(d, "", "cannot read the containers in %s: %s", h->lxcpath, strerror(-r));
                return r;
        }
        *ret = live;
        *ret_n = n;
        return 0;
}
