/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container services: puts what agent/lib/services renders for a container
 * into it and enables its units, through the backend's exec and push.
 *
 * query looks into every running container of the state that has
 * services, with one shell command: the SHA-256, mode and owner of each
 * file, whether the key and input files exist, the units' enablement, the
 * installed packages (dpkg's status file). diff compares that with the
 * rendering and plans one action per container. apply looks again right
 * before it changes anything (the container may have started in this very
 * apply), writes the files that differ, creates missing WireGuard keys,
 * enables the units and restarts those whose files changed; then it looks
 * a third time to check that everything landed.
 *
 * Nothing secret is read back or shown: files are compared by digests
 * computed inside the container, keys are created on the host from the
 * kernel's random source and handed to the container as a 0600 file. */
#include <inttypes.h>
#include <stdio.h>
#include <sys/random.h>

#include "host.h"
#include "lxc-backend.h"
#include "lxc-services.h"
#include "sha256.h"
#include "strbuf.h"

/* Scripts run in the container do not depend on the PATH they inherit. */
#define CT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH; "
#define DPKG_STATUS "/var/lib/dpkg/status"
/* How long to wait for a container's systemd to finish booting: 450
 * times 0.2 s. Until then `systemctl` may not answer at all. */
#define BOOT_WAIT_TICKS "450"

typedef enum UnitState {
        UNIT_MISSING,                 /* systemd does not know it (package not installed) */
        UNIT_DISABLED,
        UNIT_ENABLED,
        UNIT_MASKED,                  /* the administrator's choice: left alone */
} UnitState;

typedef enum UnitActivity {
        UNIT_INACTIVE,
        UNIT_ACTIVE,                  /* active, activating, reloading */
        UNIT_FAILED,
} UnitActivity;

/* What one container holds (LxcPlugin.services, one per container of the
 * state). */
struct LxcServiceLive {
        bool inspected;               /* it ran and was looked into */
        bool pending;                 /* the diff planned an action */
        bool systemd;                 /* systemd is its init */
        bool dpkg;                    /* it has dpkg's status file */
        char **files;                 /* per file: "<sha256> <mode> <uid>"; NULL: not a regular file */
        size_t n_files;
        bool *inputs;                 /* per input: exists and is not empty */
        UnitState *units;
        UnitActivity *activity;
        bool *packages;               /* per package: installed */
};

/* What has to change in one container. */
typedef struct Delta {
        bool *write;                  /* per file */
        bool *genkey;                 /* per input */
        bool *enable;                 /* per unit: enable (and start) */
        bool *restart;                /* per unit: enabled, and its files change */
        bool *start;                  /* per unit: enabled and inactive */
        size_t n_write, n_genkey, n_enable, n_restart, n_start;
        bool inputs_missing;          /* a provided input is missing: nothing is started */
} Delta;

static void delta_done(Delta *x) {
        free(x->write);
        free(x->genkey);
        free(x->enable);
        free(x->restart);
        free(x->start);
}

static void live_done(LxcServiceLive *s) {
        for (size_t i = 0; s->files && i < s->n_files; i++)
                free(s->files[i]);
        free(s->files);
        free(s->inputs);
        free(s->units);
        free(s->activity);
        free(s->packages);
        *s = (LxcServiceLive) {};
}

void lxc_services_done(LxcPlugin *l) {
        for (size_t i = 0; l->services && i < l->n_services; i++)
                live_done(&l->services[i]);
        free(l->services);
        l->services = NULL;
        l->n_services = 0;
}

static bool has_services(const LxcContainer *c) {
        const ServiceFiles *f = &c->rendered;

        return f->n_files + f->n_inputs + f->n_units > 0;
}

/* ---- looking into a container -------------------------------------------- */

/* One command that prints a line per file ("f <i> <sha256> <mode> <uid>"
 * or "f <i> -"), input ("i <i> 0|1"), unit ("u <i> <is-enabled>/<is-active>"), and
 * package ("p <i> 0|1"), plus "systemd 0|1" and "dpkg 0|1". Paths and unit
 * names are restricted by the renderer to characters that need no quoting;
 * the commands are busybox's as well as coreutils'. */
static char *inspect_script(const ServiceFiles *f) {
        _cleanup_(strbuf_done) StrBuf b = {};

        strbuf_puts(&b, CT_PATH
                    "ck() { if [ -f \"$2\" ] && [ ! -L \"$2\" ]; then m=$(stat -c '%a %u' \"$2\"); "
                    "set -- \"$1\" $(sha256sum \"$2\"); echo \"f $1 $2 $m\"; else echo \"f $1 -\"; fi; }; ");
        for (size_t i = 0; i < f->n_files; i++)
                strbuf_printf(&b, "ck %zu %s; ", i, f->files[i].path);
        for (size_t i = 0; i < f->n_inputs; i++)
                strbuf_printf(&b, "if [ -s %s ]; then echo 'i %zu 1'; else echo 'i %zu 0'; fi; ",
                              f->inputs[i].path, i, i);
        /* A container that has just started may still be booting: its
         * units' state is known once systemd is up. */
        strbuf_puts(&b, "if [ \"$(cat /proc/1/comm 2>/dev/null)\" = systemd ] && command -v systemctl >/dev/null 2>&1; "
                        "then n=0; while [ $n -lt " BOOT_WAIT_TICKS " ]; do "
                                "case \"$(systemctl is-system-running 2>/dev/null)\" in "
                                "running|degraded|maintenance|stopping) break;; esac; sleep 0.2; n=$((n+1)); done; "
                        "echo 'systemd 1'; ");
        for (size_t i = 0; i < f->n_units; i++)
                strbuf_printf(&b, "echo \"u %zu $(systemctl is-enabled %s 2>/dev/null)/$(systemctl is-active %s 2>/dev/null)\"; ",
                              i, f->units[i], f->units[i]);
        strbuf_puts(&b, "else echo 'systemd 0'; fi; ");
        if (f->n_packages == 0) {
                strbuf_puts(&b, "echo 'dpkg 0'");
                return strbuf_take(&b);
        }
        /* grep and sh only (awk is not everywhere); dpkg writes Status
         * right after Package. */
        strbuf_puts(&b, "if [ -f " DPKG_STATUS " ]; then echo 'dpkg 1'; ok=' '; "
                        "while read -r k v; do case \"$k\" in Package:) p=$v;; "
                        "Status:) case \"$v\" in *' installed') ok=\"$ok$p \";; esac;; esac; "
                        "done <<EOF\n$(grep -E '^(Package|Status):' " DPKG_STATUS ")\nEOF\n");
        for (size_t i = 0; i < f->n_packages; i++)
                strbuf_printf(&b, "case \"$ok\" in *' %s '*) echo 'p %zu 1';; *) echo 'p %zu 0';; esac; ",
                              f->packages[i], i, i);
        strbuf_puts(&b, "else echo 'dpkg 0'; fi");
        return strbuf_take(&b);
}

static UnitActivity unit_activity(const char *word) {
        if (streq(word, "active") || streq(word, "activating") || streq(word, "reloading"))
                return UNIT_ACTIVE;
        return streq(word, "failed") ? UNIT_FAILED : UNIT_INACTIVE;
}

static UnitState unit_state(const char *word) {
        if (startswith(word, "enabled") || streq(word, "static") || streq(word, "indirect") ||
            streq(word, "generated") || streq(word, "alias"))
                return UNIT_ENABLED;
        if (startswith(word, "masked"))
                return UNIT_MASKED;
        if (streq(word, "disabled") || streq(word, "linked") || startswith(word, "linked-"))
                return UNIT_DISABLED;
        return UNIT_MISSING;
}

LxcServiceLive *lxc_service_live_new(void) {
        return calloc(1, sizeof(LxcServiceLive));
}

LxcServiceLive *lxc_service_live_free(LxcServiceLive *s) {
        if (s)
                live_done(s);
        free(s);
        return NULL;
}

/* Reads "<letter> <index> <rest>" lines into s. */
int lxc_services_parse_inspection(char *out, const ServiceFiles *f, LxcServiceLive *s) {
        live_done(s);
        s->files = calloc(f->n_files + 1, sizeof(char *));
        s->n_files = f->n_files;
        s->inputs = calloc(f->n_inputs + 1, sizeof(bool));
        s->units = calloc(f->n_units + 1, sizeof(UnitState));
        s->activity = calloc(f->n_units + 1, sizeof(UnitActivity));
        s->packages = calloc(f->n_packages + 1, sizeof(bool));
        if (!s->files || !s->inputs || !s->units || !s->activity || !s->packages)
                return -ENOMEM;
        for (char *line = out, *eol; line && *line; line = eol ? eol + 1 : NULL) {
                char kind = 0;
                size_t i;
                int n = 0;

                eol = strchr(line, '\n');
                if (eol)
                        *eol = 0;
                if (streq(line, "systemd 1") || streq(line, "dpkg 1")) {
                        *(line[0] == 's' ? &s->systemd : &s->dpkg) = true;
                        continue;
                }
                if (sscanf(line, "%c %zu %n", &kind, &i, &n) < 2 || n == 0)
                        continue;
                line += n;
                if (kind == 'f' && i < f->n_files) {
                        /* The container prints what it wants: a line for
                         * the same file again replaces the earlier one. */
                        free(s->files[i]);
                        s->files[i] = NULL;
                        if (!streq(line, "-") && !(s->files[i] = strdup(line)))
                                return -ENOMEM;
                } else if (kind == 'i' && i < f->n_inputs)
                        s->inputs[i] = streq(line, "1");
                else if (kind == 'u' && i < f->n_units) {
                        char *slash = strchr(line, '/');

                        if (slash) {
                                *slash = 0;
                                s->activity[i] = unit_activity(slash + 1);
                        }
                        s->units[i] = unit_state(line);
                }
                else if (kind == 'p' && i < f->n_packages)
                        s->packages[i] = streq(line, "1");
        }
        return 0;
}

static int inspect(LxcPlugin *l, const LxcContainer *c, LxcServiceLive *s, Diag *d) {
        const ServiceFiles *f = &c->rendered;
        _cleanup_(freep) char *script = inspect_script(f), *out = NULL;
        int r;

        live_done(s);
        if (!script)
                return -ENOMEM;
        r = l->backend->exec(l, c->id, script, NULL, false, &out, d);
        if (r < 0) {
                diag_error(d, c->path, "cannot look at the services of container %" PRIu32, c->id);
                return r;
        }
        r = lxc_services_parse_inspection(out, f, s);
        if (r < 0)
                return r;
        s->inspected = true;
        return 0;
}

int lxc_services_query(LxcPlugin *l, Diag *d) {
        int r;

        lxc_services_done(l);
        l->services = calloc(l->want.n_containers + 1, sizeof(LxcServiceLive));
        if (!l->services)
                return -ENOMEM;
        l->n_services = l->want.n_containers;
        if (!l->backend->exec)
                return 0;
        for (size_t i = 0; i < l->want.n_containers; i++) {
                const LxcContainer *c = &l->want.containers[i];
                const LxcLive *h = lxc_find_live(l, c->id);

                if (!has_services(c) || !h || !h->owned || !h->running)
                        continue;
                r = inspect(l, c, &l->services[i], d);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- what differs --------------------------------------------------------- */

/* "<sha256> <mode> <uid>" as the inspect script prints it for a file. */
static void file_want(const ServiceFile *sf, char ret[static SHA256_HEX_SIZE + 16]) {
        uint8_t h[SHA256_SIZE];
        char hex[SHA256_HEX_SIZE];

        sha256(sf->content, strlen(sf->content), h);
        sha256_hex(h, hex);
        snprintf(ret, SHA256_HEX_SIZE + 16, "%s %o 0", hex, (unsigned) (sf->mode & 07777));
}

/* Whether the unit's own file is one op-dbus writes (xray.service). */
static bool unit_file_rendered(const ServiceFiles *f, const char *unit) {
        for (size_t i = 0; i < f->n_files; i++) {
                const char *slash = strrchr(f->files[i].path, '/');

                if (startswith(f->files[i].path, "/etc/systemd/system/") && streq(slash + 1, unit))
                        return true;
        }
        return false;
}

/* s NULL: the container is not running yet, so everything is planned. */
static int compute_delta(const ServiceFiles *f, const LxcServiceLive *s, Delta *x) {
        x->write = calloc(f->n_files + 1, sizeof(bool));
        x->genkey = calloc(f->n_inputs + 1, sizeof(bool));
        x->enable = calloc(f->n_units + 1, sizeof(bool));
        x->restart = calloc(f->n_units + 1, sizeof(bool));
        x->start = calloc(f->n_units + 1, sizeof(bool));
        if (!x->write || !x->genkey || !x->enable || !x->restart || !x->start)
                return -ENOMEM;
        for (size_t i = 0; i < f->n_files; i++) {
                char want[SHA256_HEX_SIZE + 16];

                file_want(&f->files[i], want);
                x->write[i] = !s || !s->files[i] || !streq(s->files[i], want);
                x->n_write += x->write[i];
        }
        for (size_t i = 0; i < f->n_inputs; i++) {
                bool missing = !s || !s->inputs[i];

                x->genkey[i] = missing && f->inputs[i].kind == SERVICE_INPUT_WIREGUARD_KEY;
                x->n_genkey += x->genkey[i];
                x->inputs_missing |= s && missing && f->inputs[i].kind == SERVICE_INPUT_PROVIDED;
        }
        for (size_t i = 0; s && s->systemd && i < f->n_units; i++) {
                UnitState u = s->units[i];

                if (u == UNIT_MISSING && unit_file_rendered(f, f->units[i]))
                        u = UNIT_DISABLED;
                x->enable[i] = u == UNIT_DISABLED;
                x->restart[i] = u == UNIT_ENABLED && x->n_write + x->n_genkey > 0 && !x->inputs_missing;
                x->start[i] = u == UNIT_ENABLED && !x->restart[i] && s->activity[i] == UNIT_INACTIVE &&
                              !x->inputs_missing;
                x->n_enable += x->enable[i];
                x->n_restart += x->restart[i];
                x->n_start += x->start[i];
        }
        return 0;
}

static bool delta_empty(const Delta *x) {
        return x->n_write + x->n_genkey + x->n_enable + x->n_start == 0;
}

/* The plan's text: file and unit names only, never content. */
static void describe(const ServiceFiles *f, const LxcServiceLive *s, const Delta *x, StrBuf *b) {
        for (size_t i = 0; i < f->n_files; i++)
                if (x->write[i])
                        strbuf_printf(b, "%swrite %s (%04o)", b->len ? ", " : "", f->files[i].path,
                                      (unsigned) f->files[i].mode);
        for (size_t i = 0; i < f->n_inputs; i++)
                if (x->genkey[i])
                        strbuf_printf(b, "%screate the WireGuard key %s%s", b->len ? ", " : "", f->inputs[i].path,
                                      s ? "" : " unless it exists");
        for (size_t i = 0; i < f->n_units; i++) {
                if (x->enable[i])
                        strbuf_printf(b, "%senable %s%s", b->len ? ", " : "", f->units[i],
                                      x->inputs_missing ? "" : " and start it");
                if (x->restart[i])
                        strbuf_printf(b, "%srestart %s", b->len ? ", " : "", f->units[i]);
                if (x->start[i])
                        strbuf_printf(b, "%sstart %s", b->len ? ", " : "", f->units[i]);
        }
        if (!s && f->n_units > 0)
                strbuf_printf(b, "%senable and start the units where installed", b->len ? ", " : "");
}

/* What the operator has to do: packages, provided files, systemd. */
static void report(const LxcContainer *c, const LxcServiceLive *s, Diag *d) {
        const ServiceFiles *f = &c->rendered;
        _cleanup_(strbuf_done) StrBuf pk = {};

        for (size_t i = 0; s->dpkg && i < f->n_packages; i++)
                if (!s->packages[i])
                        strbuf_printf(&pk, "%s%s", pk.len ? " " : "", f->packages[i]);
        if (pk.len > 0)
                diag_note(d, c->path, "container %" PRIu32 " needs the Debian package(s) %s for its services: "
                          "pct exec %" PRIu32 " -- apt-get install --no-install-recommends %s",
                          c->id, pk.s, c->id, pk.s);
        else if (!s->dpkg && f->n_packages > 0)
                diag_note(d, c->path, "container %" PRIu32 " has no %s, so op-dbus cannot tell whether its services' "
                          "packages are installed", c->id, DPKG_STATUS);
        for (size_t i = 0; i < f->n_inputs; i++)
                if (f->inputs[i].kind == SERVICE_INPUT_PROVIDED && !s->inputs[i])
                        diag_warning(d, f->inputs[i].json_path, "%s does not exist in container %" PRIu32
                                     ": put it there (pct push %" PRIu32 " FILE %s --perms 0600); until then its "
                                     "services are not started", f->inputs[i].path, c->id, c->id, f->inputs[i].path);
        if (!s->systemd && f->n_units > 0)
                diag_note(d, c->path, "container %" PRIu32 " does not run systemd: op-dbus writes its services' "
                          "files but cannot enable %s", c->id, f->units[0]);
        for (size_t i = 0; s->systemd && i < f->n_units; i++)
                if (s->units[i] == UNIT_MASKED)
                        diag_warning(d, c->path, "%s is masked in container %" PRIu32 ": left alone",
                                     f->units[i], c->id);
                else if (s->activity[i] == UNIT_FAILED)
                        diag_warning(d, c->path, "%s failed in container %" PRIu32 ": see pct exec %" PRIu32
                                     " -- journalctl -u %s", f->units[i], c->id, c->id, f->units[i]);
}

static int diff_one(LxcPlugin *l, size_t i, Plan *plan, Diag *d) {
        const LxcContainer *c = &l->want.containers[i];
        const LxcLive *h = lxc_find_live(l, c->id);
        LxcServiceLive *s = &l->services[i];
        _cleanup_(delta_done) Delta x = {};
        _cleanup_(strbuf_done) StrBuf b = {};
        char path[48];
        int r;

        if (!has_services(c))
                return 0;
        if (!lxc_runs_after(c, h)) {
                diag_note(d, c->path, "container %" PRIu32 " is not running: its services are put in place when it runs",
                          c->id);
                return 0;
        }
        /* A container created again in this apply has none of its files. */
        if (s->inspected && !lxc_change_recreates(l, c->id)) {
                r = compute_delta(&c->rendered, s, &x);
                if (r >= 0)
                        report(c, s, d);
        } else
                r = compute_delta(&c->rendered, NULL, &x);
        if (r < 0)
                return r;
        if (delta_empty(&x))
                return 0;
        describe(&c->rendered, s->inspected ? s : NULL, &x, &b);
        if (b.error)
                return b.error;
        snprintf(path, sizeof path, "container/%" PRIu32 "/services", c->id);
        r = plan_add(plan, "lxc", ACTION_MODIFY, x.n_restart > 0 ? IMPACT_PORT_FLAP : IMPACT_NONE, path, "%s", b.s);
        if (r < 0)
                return r;
        if (l->plugin.ctx->healing && c->drift == LXC_DRIFT_REPORT)
                plan_hold_last(plan);
        else
                s->pending = true;
        return 0;
}

int lxc_services_diff(LxcPlugin *l, Plan *plan, Diag *d) {
        int ret = 0;

        for (size_t i = 0; i < l->n_services; i++) {
                int r;

                l->services[i].pending = false;
                r = diff_one(l, i, plan, d);
                if (r == -ENOMEM)
                        return r;
                RET_GATHER(ret, r);
        }
        return ret;
}

bool lxc_services_pending(const LxcPlugin *l) {
        for (size_t i = 0; i < l->n_services; i++)
                if (l->services[i].pending)
                        return true;
        return false;
}

/* ---- carrying it out ------------------------------------------------------ */

/* A WireGuard private key as "wg genkey" makes it: 32 random bytes,
 * clamped for Curve25519, base64 with a newline. */
static int wireguard_key(char ret[static 46]) {
        static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        uint8_t k[33] = {};
        size_t o = 0;

        if (getrandom(k, 32, 0) != 32)
                return -EIO;
        k[0] &= 248;
        k[31] = (uint8_t) ((k[31] & 127) | 64);
        for (size_t i = 0; i < 33; i += 3) {
                uint32_t v = (uint32_t) k[i] << 16 | (uint32_t) k[i + 1] << 8 | (i + 2 < 33 ? k[i + 2] : 0);

                ret[o++] = b64[v >> 18 & 63];
                ret[o++] = b64[v >> 12 & 63];
                ret[o++] = b64[v >> 6 & 63];
                ret[o++] = b64[v & 63];
        }
        /* 32 bytes are 43 characters and one '=' */
        ret[43] = '=';
        ret[44] = '\n';
        ret[45] = 0;
        explicit_bzero(k, sizeof k);
        return 0;
}

/* mkdir -p for the directories of the files and keys to write. */
static char *mkdir_script(const ServiceFiles *f, const Delta *x) {
        _cleanup_(strbuf_done) StrBuf b = {};

        strbuf_puts(&b, CT_PATH "umask 022; mkdir -p");
        for (size_t i = 0; i < f->n_files; i++)
                if (x->write[i])
                        strbuf_printf(&b, " %.*s", (int) (strrchr(f->files[i].path, '/') - f->files[i].path),
                                      f->files[i].path);
        for (size_t i = 0; i < f->n_inputs; i++)
                if (x->genkey[i])
                        strbuf_printf(&b, " %.*s", (int) (strrchr(f->inputs[i].path, '/') - f->inputs[i].path),
                                      f->inputs[i].path);
        return strbuf_take(&b);
}

/* daemon-reload after new files, then enable, start and restart. */
static char *systemd_script(const ServiceFiles *f, const Delta *x) {
        _cleanup_(strbuf_done) StrBuf b = {};

        strbuf_puts(&b, CT_PATH "set -e; ");
        if (x->n_write + x->n_genkey > 0)
                strbuf_puts(&b, "if command -v systemd-sysusers >/dev/null 2>&1; then systemd-sysusers; fi; "
                                "systemctl daemon-reload; ");
        for (size_t i = 0; i < f->n_units; i++) {
                if (x->enable[i])
                        strbuf_printf(&b, "systemctl enable %s%s; ", x->inputs_missing ? "" : "--now ", f->units[i]);
                if (x->restart[i])
                        strbuf_printf(&b, "systemctl restart %s; ", f->units[i]);
                if (x->start[i])
                        strbuf_printf(&b, "systemctl start %s; ", f->units[i]);
        }
        return strbuf_take(&b);
}

static int write_files(LxcPlugin *l, const LxcContainer *c, const Delta *x, Diag *d) {
        const ServiceFiles *f = &c->rendered;
        int r = 0;

        for (size_t i = 0; r >= 0 && i < f->n_files; i++)
                if (x->write[i])
                        r = l->backend->push(l, c->id, f->files[i].content, strlen(f->files[i].content),
                                             f->files[i].path, f->files[i].mode, d);
        for (size_t i = 0; r >= 0 && i < f->n_inputs; i++) {
                char key[46];

                if (!x->genkey[i])
                        continue;
                r = wireguard_key(key);
                if (r >= 0)
                        r = l->backend->push(l, c->id, key, strlen(key), f->inputs[i].path, 0600, d);
                explicit_bzero(key, sizeof key);
        }
        return r;
}

/* After the changes: the files are there with their content, mode and
 * owner, the keys exist and the units are enabled. */
static int check_landed(LxcPlugin *l, const LxcContainer *c, LxcServiceLive *s, Diag *d) {
        _cleanup_(delta_done) Delta x = {};
        const ServiceFiles *f = &c->rendered;
        int r;

        r = inspect(l, c, s, d);
        if (r >= 0)
                r = compute_delta(f, s, &x);
        if (r < 0)
                return r;
        for (size_t i = 0; i < f->n_files; i++)
                if (x.write[i])
                        diag_error(d, c->path, "%s in container %" PRIu32 " %s after it was written", f->files[i].path,
                                   c->id, s->files[i] ? "does not have op-dbus's content, mode or owner" : "is missing");
        for (size_t i = 0; i < f->n_inputs; i++)
                if (x.genkey[i])
                        diag_error(d, f->inputs[i].json_path, "the WireGuard key %s in container %" PRIu32 " is missing after it was created",
                                   f->inputs[i].path, c->id);
        for (size_t i = 0; i < f->n_units; i++)
                if (x.enable[i] || x.start[i])
                        diag_error(d, c->path, "%s in container %" PRIu32 " is not %s after `systemctl %s`",
                                   f->units[i], c->id, x.enable[i] ? "enabled" : "active",
                                   x.enable[i] ? "enable" : "start");
        return delta_empty(&x) ? 0 : -EIO;
}

static int apply_one(LxcPlugin *l, const LxcContainer *c, LxcServiceLive *s, Diag *d) {
        _cleanup_(delta_done) Delta x = {};
        _cleanup_(freep) char *mk = NULL, *sd = NULL;
        bool looked = s->inspected;
        int r;

        r = inspect(l, c, s, d);
        if (r >= 0)
                r = compute_delta(&c->rendered, s, &x);
        if (r < 0)
                return r;
        if (!looked)
                report(c, s, d);
        if (delta_empty(&x))
                return 0;
        plugin_progress(&l->plugin, "putting the services of container %" PRIu32 " in place (%zu files, %zu keys, "
                        "%zu units)", c->id, x.n_write, x.n_genkey, x.n_enable + x.n_start);
        mk = mkdir_script(&c->rendered, &x);
        sd = systemd_script(&c->rendered, &x);
        if (!mk || !sd)
                return -ENOMEM;
        if (x.n_write + x.n_genkey > 0)
                r = l->backend->exec(l, c->id, mk, NULL, true, NULL, d);
        if (r >= 0)
                r = write_files(l, c, &x, d);
        if (r >= 0 && s->systemd && x.n_write + x.n_genkey + x.n_enable + x.n_start > 0)
                r = l->backend->exec(l, c->id, sd, NULL, true, NULL, d);
        if (r >= 0)
                r = check_landed(l, c, s, d);
        if (r < 0)
                diag_error(d, c->path, "putting the services of container %" PRIu32 " in place failed", c->id);
        return r;
}

int lxc_services_apply(LxcPlugin *l, Diag *d) {
        for (size_t i = 0; i < l->n_services; i++) {
                int r;

                if (!l->services[i].pending)
                        continue;
                r = apply_one(l, &l->want.containers[i], &l->services[i], d);
                if (r < 0)
                        return r;
                l->services[i].pending = false;
        }
        return 0;
}
