/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plain LXC backend, for hosts without Proxmox VE: LXC's own tools
 * (lxc-create, lxc-start, lxc-stop, lxc-destroy, lxc-ls, lxc-info,
 * lxc-attach, lxc-cgroup) on one lxcpath, run without a shell.
 *
 * A container is named by its id, as Proxmox names its LXC containers.
 * Its settings are keys of its LXC configuration, written as one block at
 * the end of <lxcpath>/<id>/config; op-dbus's record (the ownership mark,
 * the template, the tags) is <lxcpath>/<id>/op-dbus.json. LXC plugs the
 * veth into the bridge itself (lxc.net.0.link): into an Open vSwitch bridge
 * with its own call of Open vSwitch's tool, and it removes the port when
 * the container stops; op-dbus moves and removes such ports through OVSDB
 * (lxc-ovsdb.c) and deletes what is left of a veth over rtnetlink. Changes to a running container that Proxmox makes live are made
 * live here as well (cgroup limits, host name, the NIC), so the plan means
 * the same with both backends. See docs/containers.md, "Plain LXC". */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "exec.h"
#include "fileio.h"
#include "json-util.h"
#include "lxc-backend.h"
#include "lxc-containers.h"
#include "lxc-link.h"
#include "lxc-ovsdb.h"
#include "plain.h"
#include "strbuf.h"

/* ---- templates ------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Templates that only work with arguments op-dbus does not pass. */
static bool needs_arguments(const char *name, size_t len) {
        return (len == 5 && strncmp(name, "local", 5) == 0) || (len == 3 && strncmp(name, "oci", 3) == 0);
}

static bool has_archive_suffix(const char *s) {
        static const char *const suffixes[] = { ".tar", ".tar.gz", ".tgz", ".tar.xz", ".tar.zst", ".tar.bz2", NULL };
        size_t n = strlen(s);

        for (const char *const *x = suffixes; *x; x++)
                if (n > strlen(*x) && streq(s + n - strlen(*x), *x))
                        return true;
        return false;
}

static int strv_add(char ***l, size_t *n, const char *s) {
        char **v = realloc(*l, (*n + 2) * sizeof(char *));

        if (!v)
                return -ENOMEM;
        *l = v;
        v[*n] = strdup(s);
        v[*n + 1] = NULL;
        return v[(*n)++] ? 0 : -ENOMEM;
}

/* The templates LXC has: LXC_TEMPLATE_DIR/lxc-<name>. */
static int plain_templates(LxcPlugin *l, const char *storage, char ***ret, size_t *ret_n, Diag *d) {
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        DIR *dir;
        int r = 0;

        dir = opendir(LXC_TEMPLATE_DIR);
        while (dir && r >= 0 && (de = readdir(dir))) {
                _cleanup_(freep) char *path = NULL;

                if (!startswith(de->d_name, "lxc-") || !de->d_name[4] ||
                    asprintf(&path, LXC_TEMPLATE_DIR "/%s", de->d_name) < 0 || access(path, X_OK) < 0)
                        continue;
                r = strv_add(&names, &n, de->d_name + 4);
        }
        if (dir)
                closedir(dir);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        free(names[i]);
                free(names);
                return r;
        }
        if (n > 0)
                qsort(names, n, sizeof(char *), cmp_str);
        *ret = names;
        *ret_n = n;
        return 0;
}

/* Nothing is downloaded by op-dbus (the download template fetches images
 * itself when a container is created). */
static int plain_available(LxcPlugin *l, char ***ret, size_t *ret_n, Diag *d) {
        *ret = NULL;
        *ret_n = 0;
        return 0;
}

static bool strv_contains(char *const *l, size_t n, const char *s, size_t len) {
        for (size_t i = 0; i < n; i++)
                if (strlen(l[i]) == len && strncmp(l[i], s, len) == 0)
                        return true;
        return false;
}

/* Why a template cannot be used: returns 0 ("not found") or -ENOMEM. */
static int hint(char **ret, const char *fmt, ...) _printf_(2, 3);
static int hint(char **ret, const char *fmt, ...) {
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(ret, fmt, ap);
        va_end(ap);
        if (k < 0)
                *ret = NULL;
        return k < 0 ? -ENOMEM : 0;
}

static int not_found(const LxcTemplates *t, const char *requested, char **ret_hint) {
        _cleanup_(strbuf_done) StrBuf b = {};

        for (size_t i = 0; i < t->n_available; i++)
                if (!needs_arguments(t->available[i], strlen(t->available[i])))
                        strbuf_printf(&b, "%s%s", b.len ? ", " : "", t->available[i]);
        if (b.error)
                return -ENOMEM;
        return hint(ret_hint, "template \"%s\" is neither one of LXC's templates (%s/lxc-<name>: %s) nor the absolute path of "
                    "a root file system archive (.tar, .tar.gz, .tar.xz, .tar.zst)", requested, LXC_TEMPLATE_DIR,
                    b.len ? b.s : "none installed");
}

/* A template name ("busybox"; "download:<dist>:<release>[:<arch>]") or
 * the absolute path of a root file system archive. The "volume" is the
 * request itself. Pure: t holds what plain_query_templates read. */
static int plain_resolve(const LxcTemplates *t, const char *requested, char **ret, char **ret_hint) {
        size_t name_len = strcspn(requested, ":"), colons = 0;
        bool download = name_len == 8 && strncmp(requested, "download", 8) == 0, found = false;

        *ret = *ret_hint = NULL;
        if (requested[0] == '/') {
                for (size_t i = 0; i < t->n_paths; i++)
                        found |= streq(t->paths[i], requested);
                if (found && has_archive_suffix(requested))
                        return (*ret = strdup(requested)) ? 1 : -ENOMEM;
                return hint(ret_hint, found ? "template file %s is not a root file system archive (.tar, .tar.gz, .tar.xz, .tar.zst)" :
                            "template file %s does not exist or cannot be read", requested);
        }
        if (!strv_contains(t->available, t->n_available, requested, name_len))
                return not_found(t, requested, ret_hint);
        if (needs_arguments(requested, name_len))
                return hint(ret_hint, "LXC's \"%.*s\" template needs arguments op-dbus does not pass; use a root file system "
                            "archive instead", (int) name_len, requested);
        for (const char *c = requested; *c; c++)
                colons += *c == ':';
        if (download && (colons < 2 || colons > 3 || strstr(requested, "::") || requested[strlen(requested) - 1] == ':'))
                return hint(ret_hint, "the download template needs a distribution and a release, and optionally an "
                            "architecture: \"download:debian:bookworm\" or \"download:debian:bookworm:amd64\"");
        if (!download && colons > 0)
                return hint(ret_hint, "template \"%s\": only the download template takes arguments", requested);
        return (*ret = strdup(requested)) ? 1 : -ENOMEM;
}

/* What the state's templates resolve against: LXC's template names and the
 * archives that exist. */
static int plain_query_templates(LxcPlugin *l, Diag *d) {
        LxcTemplates *t = &l->templates;
        int r;

        t->resolve = plain_resolve;
        r = plain_templates(l, NULL, &t->available, &t->n_available, d);
        for (size_t i = 0; r >= 0 && i < l->want.n_containers; i++) {
                const LxcContainer *c = &l->want.containers[i];
                const char *req = lxc_requested_template(c);
                struct stat st;

                if (req && req[0] == '/' && stat(req, &st) >= 0 && S_ISREG(st.st_mode) && access(req, R_OK) >= 0)
                        r = strv_add(&t->paths, &t->n_paths, req);
        }
        return r;
}

/* ---- writing the configuration ------------------------------------------- */

static bool managed_line(const ConfLine *c) {
        static const char *const keys[] = {
                "lxc.uts.name", "lxc.start.auto",
                "lxc.cgroup2.memory.max", "lxc.cgroup.memory.limit_in_bytes",
                "lxc.cgroup2.memory.swap.max", "lxc.cgroup.memory.memsw.limit_in_bytes",
                "lxc.cgroup2.cpu.max", "lxc.cgroup.cpu.cfs_quota_us", "lxc.cgroup.cpu.cfs_period_us",
                NULL
        };

        if (!c->key)
                return streq(c->text, CONF_HEADER);
        if (startswith(c->key, "lxc.net."))
                return true;
        if (streq(c->key, "lxc.include"))
                return streq(c->value, NESTING_CONF);
        for (const char *const *k = keys; *k; k++)
                if (streq(c->key, *k))
                        return true;
        return false;
}

static void render_limits(StrBuf *b, const LxcSpec *w, const PlainHost *h) {
        int64_t mem = w->memory * MIB, swap = w->swap * MIB;

        if (h->memory == CGROUP_V2)
                strbuf_printf(b, "lxc.cgroup2.memory.max = %" PRIi64 "\n", mem);
        else if (h->memory == CGROUP_V1)
                strbuf_printf(b, "lxc.cgroup.memory.limit_in_bytes = %" PRIi64 "\n", mem);
        if (h->swap == CGROUP_V2)
                strbuf_printf(b, "lxc.cgroup2.memory.swap.max = %" PRIi64 "\n", swap);
        else if (h->swap == CGROUP_V1)
                strbuf_printf(b, "lxc.cgroup.memory.memsw.limit_in_bytes = %" PRIi64 "\n", mem + swap);
        if (w->cores > 0 && h->cpu == CGROUP_V2)
                strbuf_printf(b, "lxc.cgroup2.cpu.max = %" PRIi64 " %d\n", w->cores * CPU_PERIOD_US, CPU_PERIOD_US);
        else if (w->cores > 0 && h->cpu == CGROUP_V1)
                strbuf_printf(b, "lxc.cgroup.cpu.cfs_period_us = %d\nlxc.cgroup.cpu.cfs_quota_us = %" PRIi64 "\n",
                              CPU_PERIOD_US, w->cores * CPU_PERIOD_US);
}

/* net0 as it is to be (empty without one): want's, keeping have's hwaddr
 * when the state gives none, else a new locally administered one, which
 * the configuration keeps (as Proxmox generates one; LXC would pick
 * another at every start). */
static int target_net0(const LxcSpec *want, const LxcSpec *have, LxcProps *ret) {
        _cleanup_(freep) char *s = NULL;
        uint8_t mac[6];
        char buf[18];
        int r;

        if (!want->has_net0)
                return 0;
        s = lxc_spec_net0_string(want, have);
        r = s ? lxc_props_parse(s, NULL, ret) : -ENOMEM;
        if (r < 0 || lxc_props_get(ret, "hwaddr"))
                return r;
        if (getrandom(mac, sizeof mac, 0) != sizeof mac)
                return -EIO;
        snprintf(buf, sizeof buf, "%02X:%02X:%02X:%02X:%02X:%02X", (mac[0] & 0xfc) | 0x02, mac[1], mac[2], mac[3],
                 mac[4], mac[5]);
        return lxc_props_set(ret, "hwaddr", buf);
}

static void render_net0(StrBuf *b, uint32_t id, const LxcProps *net0) {
        char port[16];

        if (net0->n == 0) {
                strbuf_puts(b, "lxc.net.0.type = empty\n");
                return;
        }
        lxc_veth_port_name(id, false, port);
        strbuf_printf(b, "lxc.net.0.type = veth\nlxc.net.0.veth.pair = %s\nlxc.net.0.flags = up\n", port);
        for (size_t i = 0; plain_net_keys[i].prop; i++) {
                const char *v = lxc_props_get(net0, plain_net_keys[i].prop);

                if (v)
                        strbuf_printf(b, "lxc.net.0.%s = %s\n", plain_net_keys[i].key, v);
        }
}

/* The configuration with op-dbus's block (want's settings) at the end:
 * every other line stays as it is, extra lines (may be NULL) go before
 * the block. */
static int render(const Conf *c, const LxcSpec *want, const LxcProps *net0, const PlainHost *h,
                  const char *extra, char **ret) {
        _cleanup_(strbuf_done) StrBuf b = {};

        for (size_t i = 0; i < c->n; i++)
                if (!managed_line(&c->lines[i]))
                        strbuf_printf(&b, "%s\n", c->lines[i].text);
        while (b.len > 0 && b.s[b.len - 1] == '\n' && (b.len == 1 || b.s[b.len - 2] == '\n'))
                b.s[--b.len] = 0;
        strbuf_puts(&b, extra ?: "");
        strbuf_printf(&b, "%s" CONF_HEADER "\n", b.len ? "\n" : "");
        strbuf_printf(&b, "lxc.uts.name = %s\n", want->hostname);
        render_limits(&b, want, h);
        if (want->onboot)
                strbuf_puts(&b, "lxc.start.auto = 1\n");
        if (streq_ptr(lxc_props_get(&want->features, "nesting"), "1"))
                strbuf_puts(&b, "lxc.include = " NESTING_CONF "\n");
        render_net0(&b, want->id, net0);
        *ret = strbuf_take(&b);
        return *ret ? 0 : -ENOMEM;
}

static int write_conf(const PlainHost *h, uint32_t id, const char *text) {
        _cleanup_(freep) char *path = NULL;
        struct stat st;
        int r;

        r = plain_path_of(h, id, "config", &path);
        if (r < 0)
                return r;
        return write_file_atomic(path, text, strlen(text), stat(path, &st) >= 0 ? st.st_mode & 07777 : 0640);
}

/* Writes want's settings (with net0 as target_net0 made it) into the
 * configuration, and op-dbus's record. */
static int write_settings(LxcPlugin *l, const LxcSpec *want, const LxcProps *net0, const char *extra, Diag *d) {
        const PlainHost *h = plain_host_of(l);
        _cleanup_(plain_conf_done) Conf c = {};
        _cleanup_(freep) char *text = NULL;
        int r;

        r = plain_conf_read(h, want->id, &c);
        if (r >= 0)
                r = render(&c, want, net0, h, extra, &text);
        if (r >= 0)
                r = write_conf(h, want->id, text);
        if (r >= 0)
                r = plain_record_write(l, want);
        if (r < 0 && r != -ENOMEM)
                diag_error(d, "", "cannot write the configuration of container %" PRIu32 " in %s/%" PRIu32 ": %s",
                           want->id, h->lxcpath, want->id, strerror(-r));
        return r;
}

/* ---- creating ------------------------------------------------------------- */

/* The keys lxc-create starts from (-f): the id map of an unprivileged
 * container, so that the template writes files owned by its root; for an
 * archive, LXC's common configuration as well. */
static int create_conf(const PlainHost *h, const LxcSpec *want, bool archive, char **ret_path) {
        _cleanup_(freep) char *path = NULL;
        StrBuf b = {};
        char *text;
        int r;

        if (asprintf(&path, "%s/.op-dbus-create-%" PRIu32 ".conf", h->lxcpath, want->id) < 0)
                return -ENOMEM;
        if (archive)
                strbuf_puts(&b, "lxc.include = " LXC_CONFIG_DIR "/common.conf\n");
        if (archive && want->unprivileged)
                strbuf_puts(&b, "lxc.include = " LXC_CONFIG_DIR "/userns.conf\n");
        if (want->unprivileged)
                strbuf_printf(&b, "lxc.idmap = u 0 %u %u\nlxc.idmap = g 0 %u %u\n",
                              IDMAP_BASE, IDMAP_COUNT, IDMAP_BASE, IDMAP_COUNT);
        text = strbuf_take(&b);
        if (!text)
                return -ENOMEM;
        r = write_file_atomic(path, text, strlen(text), 0600);
        free(text);
        if (r < 0)
                return r;
        *ret_path = TAKE_PTR(path);
        return 0;
}

/* lxc-create from a template (with the download template's arguments),
 * or an empty container (-t none) an archive is unpacked into. */
static int lxc_create(LxcPlugin *l, const LxcSpec *want, const char *conf, Diag *d) {
        _cleanup_(lxc_argv_done) Argv a = {};
        _cleanup_(freep) char *copy = strdup(want->volume);
        static const char *const download_options[] = { "--dist", "--release", "--arch" };
        char *save = NULL, *name;

        if (!copy)
                return -ENOMEM;
        plain_argv_tool(&a, "lxc-create", plain_host_of(l), want->id);
        lxc_argv_add(&a, "-f");
        lxc_argv_add(&a, conf);
        lxc_argv_add(&a, "-t");
        if (want->volume[0] == '/') {
                lxc_argv_add(&a, "none");
                return plain_run(l, &a, TIMEOUT_CREATE_MS, NULL, d);
        }
        name = strtok_r(copy, ":", &save);
        lxc_argv_add(&a, name);
        if (streq(name, "download")) {
                lxc_argv_add(&a, "--");
                for (size_t i = 0; i < ELEMENTSOF(download_options); i++) {
                        const char *v = strtok_r(NULL, ":", &save);

                        if (!v)
                                break;
                        lxc_argv_add(&a, download_options[i]);
                        lxc_argv_add(&a, v);
                }
        }
        return plain_run(l, &a, TIMEOUT_CREATE_MS, NULL, d);
}

/* tar into the new root file system; for an unprivileged container in
 * its user namespace, so the files belong to its root (uid 100000). */
static int unpack(LxcPlugin *l, const LxcSpec *want, const char *rootfs, Diag *d) {
        _cleanup_(lxc_argv_done) Argv a = {};

        if (mkdir(rootfs, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        if (want->unprivileged && chown(rootfs, IDMAP_BASE, IDMAP_BASE) < 0)
                return negative_errno();
        if (want->unprivileged) {
                lxc_argv_add(&a, "lxc-usernsexec");
                lxc_argv_add(&a, "-m");
                lxc_argv_addf(&a, "u:0:%u:%u", IDMAP_BASE, IDMAP_COUNT);
                lxc_argv_add(&a, "-m");
                lxc_argv_addf(&a, "g:0:%u:%u", IDMAP_BASE, IDMAP_COUNT);
                lxc_argv_add(&a, "--");
        }
        lxc_argv_add(&a, "tar");
        lxc_argv_add(&a, "-x");
        lxc_argv_add(&a, "-p");
        lxc_argv_add(&a, "--numeric-owner");
        lxc_argv_add(&a, "--one-file-system");
        lxc_argv_add(&a, "--anchored");
        lxc_argv_add(&a, "--exclude=./dev/*");
        lxc_argv_add(&a, "-f");
        lxc_argv_add(&a, want->volume);
        lxc_argv_add(&a, "-C");
        lxc_argv_add(&a, rootfs);
        return plain_run(l, &a, TIMEOUT_CREATE_MS, NULL, d);
}

/* busybox init halts on SIGUSR1 and ignores LXC's default SIGPWR. Looked
 * at without following links out of the container's tree. */
static bool busybox_init(const char *rootfs) {
        _cleanup_(freep) char *init = NULL, *busybox = NULL;
        struct stat a, b;
        char target[256];
        ssize_t n;

        if (asprintf(&init, "%s/sbin/init", rootfs) < 0 || asprintf(&busybox, "%s/bin/busybox", rootfs) < 0 ||
            lstat(init, &a) < 0)
                return false;
        if (S_ISLNK(a.st_mode)) {
                n = readlink(init, target, sizeof target - 1);
                if (n <= 0)
                        return false;
                target[n] = 0;
                return streq(strrchr(target, '/') ? strrchr(target, '/') + 1 : target, "busybox");
        }
        return lstat(busybox, &b) >= 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The lines an archive's container needs beyond LXC's common ones. */
static int archive_lines(const char *rootfs, char **ret) {
        return asprintf(ret, "lxc.rootfs.path = dir:%s\n%s", rootfs,
                        busybox_init(rootfs) ? "lxc.signal.halt = SIGUSR1\n" : "") < 0 ? -ENOMEM : 0;
}

static int plain_create(LxcPlugin *l, const LxcSpec *want, Diag *d) {
        const PlainHost *h = plain_host_of(l);
        _cleanup_(freep) char *conf = NULL, *rootfs = NULL, *extra = NULL;
        _cleanup_(lxc_props_done) LxcProps net0 = {};
        bool archive;
        int r;

        if (!want->volume)
                return -EINVAL;
        archive = want->volume[0] == '/';
        lxc_count_command(l);
        r = mkdir_p(h->lxcpath, 0755);
        if (r >= 0)
                r = create_conf(h, want, archive, &conf);
        if (r < 0) {
                diag_error(d, "", "cannot prepare the creation of container %" PRIu32 " in %s: %s", want->id,
                           h->lxcpath, strerror(-r));
                return r;
        }
        r = lxc_create(l, want, conf, d);
        (void) unlink(conf);
        if (r >= 0 && archive) {
                r = plain_path_of(h, want->id, "rootfs", &rootfs);
                if (r >= 0)
                        r = unpack(l, want, rootfs, d);
                if (r >= 0)
                        r = archive_lines(rootfs, &extra);
        }
        if (r >= 0)
                r = target_net0(want, NULL, &net0);
        if (r >= 0)
                r = write_settings(l, want, &net0, extra, d);
        return r;
}

/* ---- running containers -------------------------------------------------- */

/* `lxc-info -n ID <flag> -H`: one value, without its label. */
static int lxc_info(LxcPlugin *l, uint32_t id, const char *flag, char **ret_out, Diag *d) {
        _cleanup_(lxc_argv_done) Argv a = {};

        plain_argv_tool(&a, "lxc-info", plain_host_of(l), id);
        lxc_argv_add(&a, flag);
        lxc_argv_add(&a, "-H");
        return plain_run(l, &a, 0, ret_out, d);
}

static int container_state(LxcPlugin *l, uint32_t id, bool *ret_running, Diag *d) {
        _cleanup_(freep) char *out = NULL;
        int r;

        r = lxc_info(l, id, "-s", &out, d);
        if (r < 0)
                return r;
        *ret_running = !streq(strstrip_newline(out), "STOPPED");
        return 0;
}

static int plain_pid(LxcPlugin *l, uint32_t id, pid_t *ret, Diag *d) {
        _cleanup_(freep) char *out = NULL;
        int r;

        r = lxc_info(l, id, "-p", &out, d);
        if (r < 0)
                return r;
        if (sscanf(out, "%d", ret) != 1 || *ret <= 0) {
                diag_error(d, "", "`lxc-info -n %" PRIu32 " -p` reports no process id; is the container running?", id);
                return -ESRCH;
        }
        return 0;
}

/* Removes what is left of net0 while the container does not run: the
 * port veth<id>i0 in Open vSwitch (LXC adds it with a plain add-port,
 * which fails while an earlier one is left: a failed start, a crash, a NIC
 * moved live) and a host end LXC did not create (a NIC added live). */
static int unplug(LxcPlugin *l, uint32_t id, Diag *d) {
        _cleanup_(rtnl_closep) Rtnl *here = NULL;
        char port[16];
        int r;

        lxc_veth_port_name(id, false, port);
        r = lxc_ovs_unplug(l, port, d);
        if (r < 0)
                return r;
        r = rtnl_open(&here);
        if (r >= 0)
                r = lxc_link_delete(here, port);
        if (r < 0)
                diag_error(d, "", "cannot delete network device %s: %s", port, strerror(-r));
        return r < 0 ? r : 0;
}

static void unplug_stale(LxcPlugin *l, uint32_t id) {
        _cleanup_(diag_done) Diag scratch = {};

        (void) unplug(l, id, &scratch);
}

/* What lxc-start logged (-o) when it failed: the messages of its ERROR
 * lines, without the generic ones. */
static char *start_log_text(const char *path) {
        static const char *const generic[] = {
                "Unsupported config key", "The container failed to start", "To get more details",
                "Additional information can be obtained", "Received container state", "Failed to spawn container",
                "An error occurred in another process", NULL
        };
        _cleanup_(freep) char *text = NULL;
        StrBuf b = {};
        char *save = NULL;
        size_t len;

        if (read_full_file(path, &text, &len) < 0)
                return NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *m = strstr(line, " ERROR ");
                bool skip = false;

                if (!m || !(m = strstr(m, " - ")) || !(m = strstr(m + 3, " - ")))
                        continue;
                for (size_t i = 0; generic[i]; i++)
                        skip |= strstr(m, generic[i]) != NULL;
                if (!skip)
                        strbuf_printf(&b, "%s%s", b.len ? "; " : "", m + 3);
        }
        if (b.len == 0) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_take(&b);
}

static int plain_start(LxcPlugin *l, uint32_t id, Diag *d) {
        _cleanup_(exec_result_done) ExecResult res = {};
        _cleanup_(lxc_argv_done) Argv a = {};
        _cleanup_(freep) char *log = NULL, *msg = NULL;
        int r;

        lxc_count_command(l);
        unplug_stale(l, id);
        r = plain_path_of(plain_host_of(l), id, START_LOG, &log);
        if (r < 0)
                return r;
        (void) unlink(log);  /* LXC appends */
        plain_argv_tool(&a, "lxc-start", plain_host_of(l), id);
        lxc_argv_add(&a, "-d");
        lxc_argv_add(&a, "-o");
        lxc_argv_add(&a, log);
        lxc_argv_add(&a, "-l");
        lxc_argv_add(&a, "ERROR");
        if (a.error)
                return a.error;
        r = exec_capture(a.v, NULL, 0, plain_timeout_for(l, TIMEOUT_POWER_MS), &res);
        if (r < 0) {
                diag_error(d, "", "cannot run `lxc-start -n %" PRIu32 "`: %s", id,
                           r == -ENOENT ? "not found in PATH (the plain LXC backend needs the lxc package)" : strerror(-r));
                return r;
        }
        if (res.status == 0)
                return 0;
        msg = start_log_text(log) ?: plain_failure_text(res.err, res.out);
        diag_error(d, "", "`lxc-start %" PRIu32 "` failed (exit code %d): %s", id, res.status, strna(msg));
        unplug_stale(l, id);
        return -EIO;
}

/* A clean shutdown (lxc.signal.halt), killed after 30 seconds. */
static int plain_stop(LxcPlugin *l, uint32_t id, Diag *d) {
        _cleanup_(lxc_argv_done) Argv a = {};
        int r;

        lxc_count_command(l);
        plain_argv_tool(&a, "lxc-stop", plain_host_of(l), id);
        lxc_argv_add(&a, "-t");
        lxc_argv_add(&a, SHUTDOWN_TIMEOUT_S);
        r = plain_run(l, &a, TIMEOUT_POWER_MS, NULL, d);
        unplug_stale(l, id);
        return r;
}

/* What is left of a creation that failed before LXC wrote a configuration:
 * lxc-destroy does not know such a container. */
static int remove_leftover(LxcPlugin *l, uint32_t id, Diag *d) {
        _cleanup_(lxc_argv_done) Argv a = {};
        _cleanup_(freep) char *dir = NULL;

        if (plain_path_of(plain_host_of(l), id, NULL, &dir) < 0)
                return -ENOMEM;
        lxc_argv_add(&a, "rm");
        lxc_argv_add(&a, "-r");
        lxc_argv_add(&a, "-f");
        lxc_argv_add(&a, "--one-file-system");
        lxc_argv_add(&a, "--");
        lxc_argv_add(&a, dir);
        return plain_run(l, &a, TIMEOUT_CREATE_MS, NULL, d);
}

static int plain_destroy(LxcPlugin *l, uint32_t id, Diag *d) {
        _cleanup_(lxc_argv_done) Argv a = {};
        _cleanup_(freep) char *conf = NULL;
        int r;

        lxc_count_command(l);
        r = plain_path_of(plain_host_of(l), id, "config", &conf);
        if (r < 0)
                return r;
        if (access(conf, F_OK) < 0)
                return remove_leftover(l, id, d);
        plain_argv_tool(&a, "lxc-destroy", plain_host_of(l), id);
        lxc_argv_add(&a, "-f");
        r = plain_run(l, &a, TIMEOUT_CREATE_MS, NULL, d);
        unplug_stale(l, id);
        return r;
}

static bool plain_exists(LxcPlugin *l, uint32_t id) {
        _cleanup_(freep) char *dir = NULL;
        struct stat st;

        if (plain_path_of(plain_host_of(l), id, NULL, &dir) < 0)
                return true;  /* assume the worst: a destroy is attempted */
        return lstat(dir, &st) >= 0;
}

/* A directory root file system has no size. */
static int plain_resize(LxcPlugin *l, uint32_t id, int64_t mib, Diag *d) {
        diag_error(d, "", "container %" PRIu32 ": the plain LXC backend cannot resize a root file system", id);
        return -EOPNOTSUPP;
}

/* ---- changing a running container live ----------------------------------- */

/* Runs cmd in the container, in its namespaces ns ("NETWORK", ...; NULL:
 * all of them), with input on its standard input (may be NULL). */
static int attach_full(LxcPlugin *l, uint32_t id, const char *ns, const char *input, const char *const *cmd,
                       char **ret_out, Diag *d) {
        _cleanup_(lxc_argv_done) Argv a = {};

        plain_argv_tool(&a, "lxc-attach", plain_host_of(l), id);
        if (ns) {
                lxc_argv_add(&a, "-s");
                lxc_argv_add(&a, ns);
        }
        lxc_argv_add(&a, "--clear-env");
        lxc_argv_add(&a, "--");
        for (size_t i = 0; cmd[i]; i++)
                lxc_argv_add(&a, cmd[i]);
        return plain_run_input(l, &a, input, 0, ret_out, d);
}

static int attach(LxcPlugin *l, uint32_t id, const char *ns, const char *input, const char *const *cmd, Diag *d) {
        return attach_full(l, id, ns, input, cmd, NULL, d);
}

static int cgroup_set(LxcPlugin *l, uint32_t id, Diag *d, const char *key, const char *fmt, ...) _printf_(5, 6);
static int cgroup_set(LxcPlugin *l, uint32_t id, Diag *d, const char *key, const char *fmt, ...) {
        _cleanup_(lxc_argv_done) Argv a = {};
        _cleanup_(freep) char *value = NULL;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&value, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        plain_argv_tool(&a, "lxc-cgroup", plain_host_of(l), id);
        lxc_argv_add(&a, key);
        lxc_argv_add(&a, value);
        return plain_run(l, &a, 0, NULL, d);
}

/* The limits of a running container, in an order the kernel accepts: in
 * cgroup v1, memory+swap may never be below memory. */
static int set_limits(LxcPlugin *l, const LxcSpec *w, const LxcSpec *hv, Diag *d) {
        const PlainHost *h = plain_host_of(l);
        int64_t mem = w->memory * MIB, swap = w->swap * MIB;
        bool grows = hv->memory < 0 || w->memory >= hv->memory;
        int r = 0;

        if (h->memory == CGROUP_V2 && w->memory != hv->memory)
                r = cgroup_set(l, w->id, d, "memory.max", "%" PRIi64, mem);
        if (r >= 0 && h->swap == CGROUP_V2 && w->swap != hv->swap)
                r = cgroup_set(l, w->id, d, "memory.swap.max", "%" PRIi64, swap);
        if (r >= 0 && h->memory == CGROUP_V1 && (w->memory != hv->memory || w->swap != hv->swap)) {
                if (grows && h->swap == CGROUP_V1)
                        r = cgroup_set(l, w->id, d, "memory.memsw.limit_in_bytes", "%" PRIi64, mem + swap);
                if (r >= 0)
                        r = cgroup_set(l, w->id, d, "memory.limit_in_bytes", "%" PRIi64, mem);
                if (r >= 0 && !grows && h->swap == CGROUP_V1)
                        r = cgroup_set(l, w->id, d, "memory.memsw.limit_in_bytes", "%" PRIi64, mem + swap);
        }
        if (r >= 0 && w->cores != hv->cores && h->cpu == CGROUP_V2) {
                if (w->cores > 0)
                        r = cgroup_set(l, w->id, d, "cpu.max", "%" PRIi64 " %d", w->cores * CPU_PERIOD_US, CPU_PERIOD_US);
                else
                        r = cgroup_set(l, w->id, d, "cpu.max", "max %d", CPU_PERIOD_US);
        } else if (r >= 0 && w->cores != hv->cores && h->cpu == CGROUP_V1) {
                r = cgroup_set(l, w->id, d, "cpu.cfs_period_us", "%d", CPU_PERIOD_US);
                if (r >= 0)
                        r = cgroup_set(l, w->id, d, "cpu.cfs_quota_us", "%" PRIi64, w->cores > 0 ? w->cores * CPU_PERIOD_US : -1);
        }
        return r;
}

static int host_ip(LxcPlugin *l, Diag *d, const char *const *cmd) {
        _cleanup_(lxc_argv_done) Argv a = {};

        lxc_argv_add(&a, "ip");
        for (size_t i = 0; cmd[i]; i++)
                lxc_argv_add(&a, cmd[i]);
        return plain_run(l, &a, 0, NULL, d);
}

/* Moves the host end of net0 to the bridge (OVS), with the VLAN tag as
 * LXC sets it (an access port), and brings it up: Open vSwitch puts a
 * device back into the state it found it in when the port goes, and LXC
 * adds the port before it brings the device up. */
static int replug(LxcPlugin *l, uint32_t id, const LxcProps *p, Diag *d) {
        const char *tag = lxc_props_get(p, "tag");
        char port[16];
        unsigned vlan = 0;
        int r;

        lxc_veth_port_name(id, false, port);
        if (tag && sscanf(tag, "%u", &vlan) != 1)
                vlan = 0;
        r = lxc_ovs_plug(l, lxc_props_get(p, "bridge") ?: "", port, vlan, d);
        return r < 0 ? r : host_ip(l, d, (const char *const[]) { "link", "set", "dev", port, "up", NULL });
}

/* The commands (`ip -batch`) that turn the container's interface old into
 * new inside its network namespace. from: its current name. */
static void inside_batch(const LxcProps *old, const LxcProps *new, const char *from, StrBuf *b) {
        const char *name = lxc_props_get(new, "name") ?: "eth0", *mac = lxc_props_get(new, "hwaddr");
        const char *ip = lxc_props_get(new, "ip"), *gw = lxc_props_get(new, "gw");
        const char *old_ip = old ? lxc_props_get(old, "ip") : NULL, *old_gw = old ? lxc_props_get(old, "gw") : NULL;
        bool relink = !old || !streq(from, name) || !streq_ptr(lxc_props_get(old, "hwaddr"), mac);

        if (relink) {
                /* a port flap: the link goes down, and with it the routes through it */
                strbuf_printf(b, "link set dev %s down\n", from);
                if (mac && (!old || !streq_ptr(lxc_props_get(old, "hwaddr"), mac)))
                        strbuf_printf(b, "link set dev %s address %s\n", from, mac);
                if (!streq(from, name))
                        strbuf_printf(b, "link set dev %s name %s\n", from, name);
        }
        strbuf_printf(b, "link set dev %s up\n", name);
        if (!streq_ptr(old_ip, ip) && old_ip)
                strbuf_printf(b, "addr del %s dev %s\n", old_ip, name);
        if (!streq_ptr(old_ip, ip) && ip)
                strbuf_printf(b, "addr add %s dev %s\n", ip, name);
        if (gw && (relink || !streq_ptr(old_gw, gw) || !streq_ptr(old_ip, ip)))
                strbuf_printf(b, "route replace default via %s dev %s onlink\n", gw, name);
        else if (!gw && old_gw && !relink)
                strbuf_printf(b, "route del default via %s dev %s\n", old_gw, name);
}

static int run_inside(LxcPlugin *l, uint32_t id, StrBuf *batch, Diag *d) {
        static const char *const ip[] = { "ip", "-batch", "-", NULL };
        _cleanup_(freep) char *text = strbuf_take(batch);

        return text ? attach(l, id, "NETWORK", text, ip, d) : -ENOMEM;
}

/* A NIC for a running container that has none: a veth pair whose peer is
 * moved into the container, as Proxmox hot-plugs one. */
static int hot_add(LxcPlugin *l, uint32_t id, const LxcProps *p, Diag *d) {
        _cleanup_(strbuf_done) StrBuf b = {};
        char port[16], peer[16], pid_s[16];
        pid_t pid;
        int r;

        lxc_veth_port_name(id, false, port);
        snprintf(peer, sizeof peer, "veth%" PRIu32 "t0", id);
        r = plain_pid(l, id, &pid, d);
        if (r < 0)
                return r;
        snprintf(pid_s, sizeof pid_s, "%d", (int) pid);
        r = host_ip(l, d, (const char *const[]) { "link", "add", "name", port, "type", "veth", "peer", "name", peer, NULL });
        if (r >= 0)
                r = host_ip(l, d, (const char *const[]) { "link", "set", "dev", peer, "netns", pid_s, NULL });
        if (r >= 0)
                r = replug(l, id, p, d);
        if (r < 0)
                return r;
        inside_batch(NULL, p, peer, &b);
        return run_inside(l, id, &b, d);
}

/* net0 of a running container as Proxmox changes it live: a NIC added or
 * removed, re-plugged (bridge, tag), re-created (hwaddr, name: here the
 * interface is changed in place, with its link down and up again), or
 * its addresses changed. */
static int live_net0(LxcPlugin *l, uint32_t id, const LxcProps *target, const LxcSpec *have, Diag *d) {
        _cleanup_(lxc_props_done) LxcProps p = {};
        _cleanup_(strbuf_done) StrBuf b = {};
        _cleanup_(freep) char *s = NULL;
        static const char *const inside_keys[] = { "name", "hwaddr", "ip", "gw", "link_down", NULL };
        bool inside = false;
        int r;

        if (target->n == 0)
                return have->has_net0 ? unplug(l, id, d) : 0;  /* extra NICs go with the next start */
        if (!have->has_net0)
                return hot_add(l, id, target, d);
        s = lxc_props_format(target, NULL);
        r = s ? lxc_props_parse(s, NULL, &p) : -ENOMEM;
        if (r < 0)
                return r;
        /* a MAC generated now (the configuration had none) waits for the next start */
        if (!lxc_props_get(&have->net0, "hwaddr"))
                lxc_props_unset(&p, "hwaddr");
        if (!streq_ptr(lxc_props_get(&p, "bridge"), lxc_props_get(&have->net0, "bridge")) ||
            !streq_ptr(lxc_props_get(&p, "tag"), lxc_props_get(&have->net0, "tag"))) {
                r = replug(l, id, &p, d);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; inside_keys[i]; i++)
                inside |= !streq_ptr(lxc_props_get(&p, inside_keys[i]), lxc_props_get(&have->net0, inside_keys[i]));
        if (!inside)
                return 0;
        inside_batch(&have->net0, &p, lxc_props_get(&have->net0, "name") ?: "eth0", &b);
        return run_inside(l, id, &b, d);
}

/* What Proxmox changes on a running container at once. The rest takes
 * effect at the next start; the diff plans a restart for it. */
static int apply_live(LxcPlugin *l, const LxcSpec *want, const LxcSpec *have, const LxcProps *net0, Diag *d) {
        int r = 0;

        if (lxc_spec_field_differs(want, have, LXC_FIELD_HOSTNAME))
                r = attach(l, want->id, "UTS", NULL, (const char *const[]) { "hostname", want->hostname, NULL }, d);
        if (r >= 0 && (lxc_spec_field_differs(want, have, LXC_FIELD_MEMORY) ||
                       lxc_spec_field_differs(want, have, LXC_FIELD_SWAP) ||
                       lxc_spec_field_differs(want, have, LXC_FIELD_CORES)))
                r = set_limits(l, want, have, d);
        if (r >= 0 && (lxc_spec_field_differs(want, have, LXC_FIELD_NET0) || have->n_extra_nets > 0))
                r = live_net0(l, want->id, net0, have, d);
        return r;
}

static int plain_set(LxcPlugin *l, const LxcSpec *want, const LxcSpec *have, Diag *d) {
        _cleanup_(lxc_props_done) LxcProps net0 = {};
        bool running;
        int r;

        lxc_count_command(l);
        r = target_net0(want, have, &net0);
        if (r >= 0)
                r = write_settings(l, want, &net0, NULL, d);
        if (r >= 0)
                r = container_state(l, want->id, &running, d);
        if (r < 0 || !running)
                return r;
        return apply_live(l, want, have, &net0, d);
}

/* ---- raw configuration lines ---------------------------------------------- */

/* A raw line ("lxc.cgroup2.devices.allow: c 10:200 rwm") in LXC's
 * spelling, with the device rule for the host's devices controller. */
static char *raw_to_lxc(const PlainHost *h, const char *raw) {
        _cleanup_(freep) char *copy = strdup(raw);
        char *k, *v, *s;

        if (!copy || !plain_split_line(copy, &k, &v))
                return NULL;
        if (h->devices == CGROUP_V1 && startswith(k, "lxc.cgroup2.devices."))
                return asprintf(&s, "lxc.cgroup.%s = %s", plain_devices_alias(k), v) < 0 ? NULL : s;
        return asprintf(&s, "%s = %s", k, v) < 0 ? NULL : s;
}

static int edit_raw(const PlainHost *h, const Conf *c, const char *const *lines, bool present, StrBuf *b, bool *changed) {
        for (size_t i = 0; i < c->n; i++) {
                bool drop = false;

                for (size_t k = 0; !present && lines[k]; k++)
                        drop |= plain_is_raw_line(&c->lines[i], lines[k]);
                if (!drop)
                        strbuf_printf(b, "%s\n", c->lines[i].text);
                *changed |= drop;
        }
        for (size_t k = 0; present && lines[k]; k++) {
                _cleanup_(freep) char *line = NULL;
                bool found = false;

                for (size_t i = 0; i < c->n; i++)
                        found |= plain_is_raw_line(&c->lines[i], lines[k]);
                if (found)
                        continue;
                line = raw_to_lxc(h, lines[k]);
                if (!line)
                        return -ENOMEM;
                strbuf_printf(b, "%s\n", line);
                *changed = true;
        }
        return b->error;
}

static int plain_set_raw(LxcPlugin *l, uint32_t id, const char *const *lines, bool present, Diag *d) {
        const PlainHost *h = plain_host_of(l);
        _cleanup_(strbuf_done) StrBuf b = {};
        _cleanup_(plain_conf_done) Conf c = {};
        bool changed = false;
        int r;

        r = plain_conf_read(h, id, &c);
        if (r >= 0)
                r = edit_raw(h, &c, lines, present, &b, &changed);
        if (r >= 0 && changed) {
                lxc_count_command(l);
                r = write_conf(h, id, b.s);
        }
        if (r < 0 && r != -ENOMEM)
                diag_error(d, "", "cannot edit %s/%" PRIu32 "/config: %s", h->lxcpath, id, strerror(-r));
        return r;
}

/* ---- what this backend cannot do (plan time, pure) ----------------------- */

static void error_at(Diag *d, const char *path, const char *key, const char *fmt, ...) _printf_(4, 5);
static void error_at(Diag *d, const char *path, const char *key, const char *fmt, ...) {
        _cleanup_(freep) char *p = json_path_key(path, key), *msg = NULL;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&msg, fmt, ap);
        va_end(ap);
        diag_error(d, p ?: path, "%s", k < 0 ? "out of memory" : msg);
}

static int check_features(const LxcContainer *c, Diag *d) {
        _cleanup_(lxc_props_done) LxcProps f = {};
        int r, ret = 0;

        if (c->properties.features_string) {
                r = lxc_props_parse(c->properties.features_string, NULL, &f);
                if (r == -ENOMEM)
                        return r;
        }
        for (size_t i = 0; i < c->properties.n_features; i++)
                if (c->properties.features[i].enabled && lxc_props_set(&f, c->properties.features[i].name, "1") < 0)
                        return -ENOMEM;
        for (size_t i = 0; i < f.n; i++)
                if (!streq(f.items[i].key, "nesting")) {
                        error_at(d, c->path, "properties.features", "feature \"%s\" has no equivalent with the plain LXC "
                                 "backend (only \"nesting\" has: it includes LXC's nesting.conf); remove it, or use the pct backend",
                                 f.items[i].key);
                        ret = -EINVAL;
                }
        return ret;
}

static int check_limits(const PlainHost *h, const LxcContainer *c, Diag *d) {
        int ret = 0;

        if (h->memory == CGROUP_NONE || h->swap == CGROUP_NONE) {
                error_at(d, c->path, "properties", "%s", h->memory == CGROUP_NONE ?
                         "this host has no memory cgroup controller, so the container's memory cannot be limited" :
                         "this host cannot limit swap (cgroup v1 without swap accounting: boot with swapaccount=1)");
                ret = -EINVAL;
        }
        if (c->properties.cores > 0 && h->cpu == CGROUP_NONE) {
                error_at(d, c->path, "properties.cores", "%s", "this host has no cpu cgroup controller to limit the container to its cores");
                ret = -EINVAL;
        }
        if (lxc_container_wants_tun(c) && h->devices == CGROUP_NONE) {
                error_at(d, c->path, "services", "%s", "the container needs /dev/net/tun, but this host has no device cgroup to allow it");
                ret = -EINVAL;
        }
        return ret;
}

static int check_container(const LxcPlugin *l, const LxcContainer *c, Diag *d) {
        const PlainHost *h = plain_host_of(l);
        const LxcProperties *p = &c->properties;
        const LxcLive *have = lxc_find_live(l, c->id);
        bool unpriv = p->unprivileged != LXC_FALSE;
        int ret = 0;

        RET_GATHER(ret, check_features(c, d));
        RET_GATHER(ret, check_limits(h, c, d));
        if (ret == -ENOMEM)
                return ret;
        if (c->network.firewall == LXC_TRUE) {
                error_at(d, c->path, "network.firewall", "%s", "the Proxmox firewall does not exist with the plain LXC backend; remove \"firewall\"");
                ret = -EINVAL;
        }
        if (p->nameserver || p->searchdomain) {
                error_at(d, c->path, p->nameserver ? "properties.nameserver" : "properties.searchdomain",
                         "%s", "LXC does not configure a container's resolver; configure it inside the container (or use the pct backend)");
                ret = -EINVAL;
        }
        if (unpriv && h->idmap_problem && (!have || !have->spec.unprivileged)) {
                error_at(d, c->path, "properties.unprivileged", "%s", h->idmap_problem);
                ret = -EINVAL;
        }
        return ret;
}

static void warn_ignored(const LxcPlugin *l, const LxcContainer *c, Diag *d) {
        _cleanup_(freep) char *sp = json_path_key(c->path, "properties.storage"),
                *rp = json_path_key(c->path, "properties.rootfs_size");

        if (c->properties.storage)
                diag_warning(d, sp ?: c->path, "ignored by the plain LXC backend: the root file system is the directory %s/%" PRIu32 "/rootfs",
                             plain_host_of(l)->lxcpath, c->id);
        if (c->properties.rootfs_size > 0)
                diag_warning(d, rp ?: c->path, "ignored by the plain LXC backend: a directory root file system has no size");
}

static int plain_check(LxcPlugin *l, Diag *d) {
        bool veth = false;
        int ret = 0;

        if (!plain_host_of(l))
                return 0;
        for (size_t i = 0; i < l->want.n_containers; i++) {
                const LxcContainer *c = &l->want.containers[i];

                RET_GATHER(ret, check_container(l, c, d));
                warn_ignored(l, c, d);
                veth |= lxc_container_has_veth(c);
        }
        if (veth && plain_host_of(l)->ovsdb_problem)
                diag_warning(d, "plugins.lxc", "%s", plain_host_of(l)->ovsdb_problem);
        return ret;
}

/* ---- files and commands inside a running container ------------------------ */

static int plain_exec(LxcPlugin *l, uint32_t id, const char *script, const char *input, bool changes,
                      char **ret_out, Diag *d) {
        if (changes)
                lxc_count_command(l);
        return attach_full(l, id, NULL, input, (const char *const[]) { "/bin/sh", "-c", script, NULL }, ret_out, d);
}

/* LXC has no push: the data goes through the standard input of a shell
 * in the container, into a new file that replaces dest. */
static int plain_push(LxcPlugin *l, uint32_t id, const char *data, size_t len, const char *dest, mode_t mode,
                      Diag *d) {
        _cleanup_(freep) char *script = NULL;

        if (strlen(data) != len) {
                diag_error(d, "", "container %" PRIu32 ": %s cannot be written through lxc-attach (it holds a NUL byte)",
                           id, dest);
                return -EINVAL;
        }
        if (asprintf(&script, "umask 077; t='%1$s.op-dbus-new'; cat > \"$t\" && chown 0:0 \"$t\" && "
                     "chmod %2$04o \"$t\" && mv -f \"$t\" '%1$s'", dest, (unsigned) mode) < 0)
                return -ENOMEM;
        return plain_exec(l, id, script, data, true, NULL, d);
}

/* ---- one container, for other plugins (lxc-access.h) ---------------------- */

/* "u 0 100000 65536": the host id of the container's root, for kind. */
static void idmap_root(const char *value, char kind, unsigned long *ret) {
        unsigned long inside, host;
        char k;

        if (sscanf(value, "%c %lu %lu", &k, &inside, &host) == 3 && k == kind && inside == 0)
                *ret = host;
}

static int plain_inspect(LxcPlugin *l, uint32_t id, LxcContainerInfo *ret, Diag *d) {
        const PlainHost *h = plain_host_of(l);
        _cleanup_(plain_conf_done) Conf conf = {};
        unsigned long uid = 0, gid = 0;
        int r;

        if (!plain_exists(l, id))
                return 0;
        r = plain_conf_read(h, id, &conf);
        if (r == -ENOENT)
                return 0;
        if (r >= 0)
                r = plain_owned(h, id);
        if (r < 0) {
                diag_error(d, "", "cannot read container %" PRIu32 " in %s: %s", id, h->lxcpath, strerror(-r));
                return r;
        }
        ret->exists = true;
        ret->owned = r > 0;
        for (size_t i = 0; i < conf.n; i++)
                if (conf.lines[i].key && streq(conf.lines[i].key, "lxc.idmap")) {
                        idmap_root(conf.lines[i].value, 'u', &uid);
                        idmap_root(conf.lines[i].value, 'g', &gid);
                }
        ret->root_uid = (uid_t) uid;
        ret->root_gid = (gid_t) gid;
        return ret->owned ? container_state(l, id, &ret->running, d) : 0;
}

/* A directory root file system (lxc.rootfs.path, "dir:" or a plain path)
 * is there on the host: nothing is mounted or locked. */
static int plain_mount(LxcPlugin *l, uint32_t id, char **ret_path, Diag *d) {
        const PlainHost *h = plain_host_of(l);
        _cleanup_(plain_conf_done) Conf conf = {};
        const char *rootfs = NULL;
        bool running;
        int r;

        r = container_state(l, id, &running, d);
        if (r < 0)
                return r;
        if (running) {
                diag_error(d, "", "container %" PRIu32 " runs: its root file system is not written from the host", id);
                return -EBUSY;
        }
        r = plain_conf_read(h, id, &conf);
        if (r < 0) {
                diag_error(d, "", "cannot read the configuration of container %" PRIu32 ": %s", id, strerror(-r));
                return r;
        }
        for (size_t i = 0; i < conf.n; i++)
                if (conf.lines[i].key && streq(conf.lines[i].key, "lxc.rootfs.path"))
                        rootfs = conf.lines[i].value;
        if (rootfs && startswith(rootfs, "dir:"))
                rootfs += strlen("dir:");
        if (!rootfs || rootfs[0] != '/') {
                diag_error(d, "", "the root file system of container %" PRIu32 " is not a directory (lxc.rootfs.path = %s)",
                           id, strna(rootfs));
                return -EOPNOTSUPP;
        }
        *ret_path = strdup(rootfs);
        return *ret_path ? 0 : -ENOMEM;
}

static int plain_unmount(LxcPlugin *l, uint32_t id, Diag *d) {
        return 0;
}

const LxcBackendOps lxc_lxc_backend = {
        .name = "lxc",
        .not_owned = "it has no " RECORD_FILE " record",
        .makes_veths = true,
        .list = plain_list,
        .templates = plain_templates,
        .available = plain_available,
        .query_templates = plain_query_templates,
        .create = plain_create,
        .start = plain_start,
        .stop = plain_stop,
        .destroy = plain_destroy,
        .set = plain_set,
        .resize = plain_resize,
        .set_raw = plain_set_raw,
        .pid = plain_pid,
        .exists = plain_exists,
        .exec = plain_exec,
        .push = plain_push,
        .check = plain_check,
        .free_data = plain_host_free,
        .open = plain_open,
        .inspect = plain_inspect,
        .mount = plain_mount,
        .unmount = plain_unmount,
        .mount_how = "lxc.rootfs.path",
        .push_how = "lxc-attach",
};
