/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Proxmox container configuration: `pct config` output into the
 * normalised spec, and the raw lxc.* lines of /etc/pve/lxc/<vmid>.conf,
 * which only a file edit can change. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>

#include "fileio.h"
#include "json-util.h"
#include "lxc-containers.h"
#include "strbuf.h"

/* m MiB rounded, or -1 when that does not fit. */
static int64_t mib_round(double m) {
        return m + 0.5 < (double) INT64_MAX ? (int64_t) (m + 0.5) : -1;
}

/* "1G", "512M", "1.5T", "1073741824" (bytes) in MiB; -1 if malformed. */
static int64_t size_to_mib(const char *s) {
        static const char units[] = "KMGT";
        double v, scale = 1.0 / (1024.0 * 1024.0);
        char *end = NULL;

        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || end == s || !(v >= 0 && v < 1e18))
                return -1;
        for (int i = 0; *end && units[i]; i++) {
                scale *= 1024.0;
                if (*end == units[i] && (end[1] == 0 || streq(end + 1, "iB")))
                        return mib_round(v * scale);
        }
        return *end ? -1 : mib_round(v * scale);
}

static void percent_decode(char *s) {
        char *w = s;

        for (const char *r = s; *r; r++) {
                unsigned v;

                if (r[0] == '%' && sscanf(r + 1, "%2x", &v) == 1 && r[1] && r[2]) {
                        *w++ = (char) v;
                        r += 2;
                } else
                        *w++ = *r;
        }
        *w = 0;
}

/* Splits a raw line "lxc.k: v" or "lxc.k = v" into trimmed key and value
 * (pointers into buf). */
static bool split_raw(char *buf, char **key, char **value) {
        char *sep = buf + strcspn(buf, ":=");
        char *e;

        if (!*sep)
                return false;
        *sep = 0;
        *value = sep + 1 + strspn(sep + 1, " \t");
        e = *value + strlen(*value);
        while (e > *value && strchr(" \t\r\n", e[-1]))
                *--e = 0;
        for (e = sep; e > buf && strchr(" \t", e[-1]);)
                *--e = 0;
        *key = buf;
        return startswith(buf, "lxc.");
}

/* Whether a configuration line is the raw line want (either spelling). */
static bool raw_line_equal(const char *line, size_t len, const char *want) {
        _cleanup_(freep) char *a = strndup(line, len), *b = strdup(want);
        char *ak, *av, *bk, *bv;

        if (!a || !b)
                return false;
        return split_raw(a, &ak, &av) && split_raw(b, &bk, &bv) && streq(ak, bk) && streq(av, bv);
}

static int parse_rootfs(const char *value, LxcSpec *spec) {
        _cleanup_(lxc_props_done) LxcProps p = {};
        const char *volume, *size, *colon;
        int r;

        r = lxc_props_parse(value, "volume", &p);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        volume = lxc_props_get(&p, "volume");
        size = lxc_props_get(&p, "size");
        colon = volume ? strchr(volume, ':') : NULL;
        free(spec->storage);  /* a repeated key: the last one counts */
        spec->storage = NULL;
        if (colon && !(spec->storage = strndup(volume, (size_t) (colon - volume))))
                return -ENOMEM;
        spec->rootfs_mib = size ? size_to_mib(size) : -1;
        return 0;
}

static bool is_extra_net(const char *key) {
        size_t n;

        if (!startswith(key, "net"))
                return false;
        n = strspn(key + 3, "0123456789");
        return n > 0 && key[3 + n] == 0 && !streq(key, "net0");
}

static int add_extra_net(LxcSpec *spec, const char *key) {
        char **l = realloc(spec->extra_nets, (spec->n_extra_nets + 1) * sizeof(char *));

        if (!l)
                return -ENOMEM;
        spec->extra_nets = l;
        l[spec->n_extra_nets] = strdup(key);
        if (!l[spec->n_extra_nets])
                return -ENOMEM;
        spec->n_extra_nets++;
        return 0;
}

static int dup_field(char **dst, const char *value) {
        free(*dst);
        *dst = strdup(value);
        return *dst ? 0 : -ENOMEM;
}

/* A list option (a repeated key replaces the earlier value). */
static int list_field(char **dst, const char *value, bool tags) {
        char *s;
        int r;

        r = lxc_list_normalize(value, tags, &s);
        if (r < 0)
                return r;
        free(*dst);
        *dst = s;
        return 0;
}

static int parse_description(const char *value, LxcSpec *spec) {
        size_t n;
        int r;

        r = dup_field(&spec->description, value);
        if (r < 0)
                return r;
        percent_decode(spec->description);
        n = strlen(spec->description);
        while (n > 0 && spec->description[n - 1] == '\n')
                spec->description[--n] = 0;
        return lxc_description_parse(spec->description, &spec->template, &spec->volume);
}

static int parse_option(const char *key, const char *value, LxcSpec *spec, char **ret_lock) {
        int64_t i = strtoll(value, NULL, 10);

        if (streq(key, "hostname"))
                return dup_field(&spec->hostname, value);
        if (streq(key, "memory"))
                spec->memory = i;
        else if (streq(key, "swap"))
                spec->swap = i;
        else if (streq(key, "cores"))
                spec->cores = i;
        else if (streq(key, "onboot"))
                spec->onboot = i != 0;
        else if (streq(key, "unprivileged"))
                spec->unprivileged = i != 0;
        else if (streq(key, "features"))
                return lxc_props_parse(value, NULL, &spec->features) == -ENOMEM ? -ENOMEM : 0;
        else if (streq(key, "nameserver"))
                return list_field(&spec->nameserver, value, false);
        else if (streq(key, "searchdomain"))
                return list_field(&spec->searchdomain, value, false);
        else if (streq(key, "tags"))
                return list_field(&spec->tags, value, true);
        else if (streq(key, "net0")) {
                spec->has_net0 = true;
                return lxc_props_parse(value, NULL, &spec->net0) == -ENOMEM ? -ENOMEM : 0;
        } else if (is_extra_net(key))
                return add_extra_net(spec, key);
        else if (streq(key, "rootfs"))
                return parse_rootfs(value, spec);
        else if (streq(key, "description"))
                return parse_description(value, spec);
        else if (streq(key, "lock"))
                return dup_field(ret_lock, value);
        return 0;
}

/* One line of `pct config` output (a copy, without its newline). */
static int parse_line(char *line, LxcSpec *spec, char **ret_lock, unsigned *tun) {
        char *value;

        if (startswith(line, "lxc.")) {
                for (size_t i = 0; lxc_tun_lines[i]; i++)
                        if (raw_line_equal(line, strlen(line), lxc_tun_lines[i]))
                                *tun |= 1U << i;
                return 0;
        }
        value = strstr(line, ": ");
        if (!value)
                return 0;
        *value = 0;
        return parse_option(line, strstrip_newline(value + 2), spec, ret_lock);
}

int lxc_conf_parse(const char *text, size_t len, LxcSpec *spec, char **ret_lock) {
        unsigned tun = 0;
        int r;

        /* What Proxmox uses when the configuration leaves a key out
         * (PVE::LXC update_lxc_config, vmstatus): 512 MiB of memory, but no
         * swap, although pct create writes "swap: 512" by default. */
        spec->memory = LXC_DEFAULT_MEMORY;
        spec->swap = 0;
        spec->cores = -1;
        spec->rootfs_mib = -1;

        for (size_t at = 0; at < len;) {
                const char *line = text + at, *nl = memchr(line, '\n', len - at);
                size_t n = nl ? (size_t) (nl - line) : len - at;
                _cleanup_(freep) char *copy = NULL;

                at += n + 1;
                /* Values with NUL bytes: "env" (pve-container >= 6.0.15
                 * prints its lxc.environment.runtime entries NUL-joined),
                 * which op-dbus does not read; the lines after it count. */
                if (n == 0 || memchr(line, 0, n))
                        continue;
                copy = strndup(line, n);
                if (!copy)
                        return -ENOMEM;
                r = parse_line(copy, spec, ret_lock, &tun);
                if (r < 0)
                        return r;
        }
        lxc_props_unset(&spec->net0, "type");
        spec->tun = tun == 3;
        spec->tun_partial = tun != 0 && tun != 3;
        if (!spec->hostname && asprintf(&spec->hostname, "CT%" PRIu32, spec->id) < 0)
                return -ENOMEM;
        return 0;
}

/* HA disarmed in "ignore" mode: resources are managed directly. */
static bool ha_ignored_cluster_wide(const char *manager_status) {
        _cleanup_(json_object_putp) json_object *o = manager_status ? json_tokener_parse(manager_status) : NULL;
        json_object *disarm, *mode;

        return o && json_object_object_get_ex(o, "disarm", &disarm) &&
                json_object_object_get_ex(disarm, "mode", &mode) && json_object_is_type(mode, json_type_string) &&
                streq(json_object_get_string(mode), "ignore");
}

/* A section header "ct: <id>" (SectionConfig: "type:" and the name, any
 * blanks; the type in any case). */
static bool ha_header_is(const char *line, uint32_t id) {
        const char *end;
        uint32_t v;

        if (strncasecmp(line, "ct:", 3) != 0)
                return false;
        line += 3 + strspn(line + 3, " \t");
        return pve_vmid_parse(line, &end, &v) && v == id && end[strspn(end, " \t")] == 0;
}

bool lxc_ha_managed(const char *resources, const char *manager_status, uint32_t id) {
        bool in_section = false, managed = false;

        if (!resources || ha_ignored_cluster_wide(manager_status))
                return false;
        for (const char *at = resources; *at;) {
                const char *nl = strchrnul(at, '\n');
                _cleanup_(freep) char *line = strndup(at, (size_t) (nl - at));
                char key[16], value[16];

                at = *nl ? nl + 1 : nl;
                if (!line)
                        return false;
                if (*line && !strchr(" \t#", *line)) {
                        in_section = ha_header_is(line, id);
                        managed |= in_section;
                } else if (in_section && sscanf(line, " %15s %15s", key, value) == 2 && streq(key, "state"))
                        managed = !streq(value, "ignored");
        }
        return managed;
}

/* Length of the main section: everything before the first "[section]". */
static size_t main_section_length(const char *text) {
        for (const char *line = text; *line;) {
                const char *end = strchrnul(line, '\n');

                if (*line == '[')
                        return (size_t) (line - text);
                line = *end ? end + 1 : end;
        }
        return strlen(text);
}

/* Whether the main section (text, len) has the line. */
static bool main_has_line(const char *text, size_t len, const char *want) {
        for (const char *line = text; line < text + len;) {
                const char *end = memchr(line, '\n', (size_t) (text + len - line));
                size_t n = end ? (size_t) (end - line) : (size_t) (text + len - line);

                if (raw_line_equal(line, n, want))
                        return true;
                line += n + 1;
        }
        return false;
}

/* Offset after the main section's last non-blank line. */
static size_t insert_offset(const char *text, size_t len) {
        size_t at = 0;

        for (size_t i = 0; i < len;) {
                size_t n = strcspn(text + i, "\n");
                bool blank = strspn(text + i, " \t\r") >= n;

                if (i + n > len)
                        n = len - i;
                if (!blank)
                        at = i + n + (i + n < len);
                i += n + 1;
        }
        return at;
}

static void add_lines(const char *text, size_t len, const char *const *lines, StrBuf *b, bool *changed) {
        size_t at = insert_offset(text, len);

        strbuf_append(b, text, at);
        if (at > 0 && text[at - 1] != '\n')
                strbuf_putc(b, '\n');
        for (size_t i = 0; lines[i]; i++)
                if (!main_has_line(text, len, lines[i])) {
                        strbuf_printf(b, "%s\n", lines[i]);
                        *changed = true;
                }
        strbuf_puts(b, text + at);
}

static void remove_lines(const char *text, size_t len, const char *const *lines, StrBuf *b, bool *changed) {
        for (size_t i = 0; i < len;) {
                size_t n = MIN(strcspn(text + i, "\n"), len - i);
                bool drop = false;

                for (size_t k = 0; lines[k] && !drop; k++)
                        drop = raw_line_equal(text + i, n, lines[k]);
                if (drop)
                        *changed = true;
                else
                        strbuf_append(b, text + i, MIN(n + 1, strlen(text + i)));
                i += n + 1;
        }
        if (len < strlen(text))
                strbuf_puts(b, text + len);
}

int lxc_conf_edit_raw(const char *text, const char *const *lines, bool present, char **ret, bool *ret_changed) {
        size_t len = main_section_length(text);
        StrBuf b = {};

        *ret_changed = false;
        if (present)
                add_lines(text, len, lines, &b, ret_changed);
        else
                remove_lines(text, len, lines, &b, ret_changed);
        *ret = strbuf_take(&b);
        return *ret ? 0 : -ENOMEM;
}

/* Proxmox's config lock, /run/lock/lxc/pve-config-<vmid>.lock, on the node
 * whose /etc/pve is pve_dir (a test root keeps both below one directory). */
static int config_lock_path(const char *pve_dir, uint32_t id, char **ret) {
        size_t n = strlen(pve_dir);
        int root = streq(pve_dir, "/etc/pve") ? 0 :
                n > strlen("/etc/pve") && streq(pve_dir + n - strlen("/etc/pve"), "/etc/pve") ?
                (int) (n - strlen("/etc/pve")) : 0;

        return asprintf(ret, "%.*s/run/lock/lxc/pve-config-%" PRIu32 ".lock", root, pve_dir, id) < 0 ? -ENOMEM : 0;
}

/* Writes through a temporary file and rename(), without the fsyncs of
 * write_file_atomic: pmxcfs commits every write itself and does not
 * implement fsync on directories. */
static int replace_conf(const char *path, const char *text) {
        struct stat st;

        if (stat(path, &st) < 0)
                return negative_errno();
        return write_file_replace(path, text, strlen(text), st.st_mode & 07777);
}

int lxc_conf_file_edit_raw(const char *pve_dir, uint32_t id, const char *const *lines, bool present,
                           int timeout_ms, bool *ret_changed) {
        _cleanup_(freep) char *path = NULL, *lock = NULL, *text = NULL, *edited = NULL;
        _cleanup_(closep) int fd = -EBADF;
        size_t len;
        int r;

        if (asprintf(&path, "%s/lxc/%" PRIu32 ".conf", pve_dir, id) < 0)
                return -ENOMEM;
        r = config_lock_path(pve_dir, id, &lock);
        if (r < 0)
                return r;
        *strrchr(lock, '/') = 0;
        r = mkdir_p(lock, 0755);
        lock[strlen(lock)] = '/';
        if (r >= 0)
                r = lock_file_acquire(lock, timeout_ms, &fd);
        if (r < 0)
                return r;

        r = read_full_file(path, &text, &len);
        if (r < 0)
                return r;
        if (strlen(text) != len)
                return -EBADMSG;
        r = lxc_conf_edit_raw(text, lines, present, &edited, ret_changed);
        if (r < 0 || !*ret_changed)
                return r;
        return replace_conf(path, edited);
}

/* Does a "tags: a;b" value hold LXC_OWNER_TAG? Proxmox separates tags with
 * ';', ',' or spaces and compares them in lower case. */
static bool tags_have_owner(const char *v) {
        size_t n = strlen(LXC_OWNER_TAG);

        for (const char *t = v; *t; ) {
                size_t len = strcspn(t, ";, \t");

                if (len == n && strncasecmp(t, LXC_OWNER_TAG, n) == 0)
                        return true;
                t += len;
                t += strspn(t, ";, \t");
        }
        return false;
}

void lxc_conf_info(char *text, LxcContainerInfo *ret) {
        unsigned long uid = 0, gid = 0;

        *ret = (LxcContainerInfo) { .exists = true };
        for (char *line = text, *eol; line && *line != '['; line = eol ? eol + 1 : NULL) {
                unsigned long inside, host;
                char kind;

                eol = strchr(line, '\n');
                if (eol)
                        *eol = 0;
                if (startswith(line, "tags:") && tags_have_owner(line + 5))
                        ret->owned = true;
                else if (streq(line, "unprivileged: 1") && uid == 0 && gid == 0)
                        uid = gid = 100000;
                else if (sscanf(line, "lxc.idmap: %c %lu %lu", &kind, &inside, &host) == 3 && inside == 0)
                        *(kind == 'u' ? &uid : &gid) = host;
        }
        ret->root_uid = (uid_t) uid;
        ret->root_gid = (gid_t) gid;
}
