/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Proxmox VE backend: pct and pveam, run without a shell, with the
 * options their contract documents. Every call is checked by exit code
 * and standard error: a failure is an error carrying pct's own message,
 * text on standard error of a successful call is passed on as a
 * warning. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "exec.h"
#include "fileio.h"
#include "host.h"
#include "json-util.h"
#include "lxc-backend.h"
#include "lxc-containers.h"
#include "strbuf.h"

/* Upper bounds for Proxmox's worker commands, which may take much longer
 * than a query (a create unpacks a template). */
#define TIMEOUT_SET_MS (60 * 1000)
#define TIMEOUT_POWER_MS (5 * 60 * 1000)
#define TIMEOUT_CREATE_MS (10 * 60 * 1000)
/* How long a stop waits for a clean shutdown before it kills. */
#define SHUTDOWN_TIMEOUT_S "30"

static int timeout_for(const LxcPlugin *l, int base_ms) {
        return MAX(l->plugin.ctx->timeout_ms, base_ms);
}

/* pct's message for a failure: standard error (newlines as spaces), or
 * the last line of standard output when standard error is empty. */
static char *failure_text(const ExecResult *res) {
        _cleanup_(freep) char *out = strdup(res->out);
        const char *text = res->err;
        char *s, *nl;

        if (!out)
                return NULL;
        strstrip_newline(out);
        if (!*strstrip_newline(res->err))
                text = (nl = strrchr(out, '\n')) ? nl + 1 : out;
        s = strdup(*text ? text : "no message");
        for (char *c = s; c && *c; c++)
                if (*c == '\n')
                        *c = ' ';
        return s;
}

/* How a command is run and judged. */
typedef struct RunOpts {
        const char *input;            /* standard input; NULL: none */
        bool changes;                 /* changes the host: counted, even when it fails */
        bool stderr_fails;            /* text on standard error is a failure, whatever the exit code */
        int timeout_ms;
} RunOpts;

/* Runs argv; *ret_out gets standard output, *ret_out_len (may be NULL)
 * its length. */
static int run_full(LxcPlugin *l, const Argv *a, const RunOpts *o, char **ret_out, size_t *ret_out_len, Diag *d) {
        _cleanup_(exec_result_done) ExecResult res = {};
        _cleanup_(freep) char *what = NULL;
        int r;

        if (a->error)
                return a->error;
        if (asprintf(&what, "%s %s%s%s", a->v[0], a->v[1], a->n > 2 ? " " : "", a->n > 2 ? a->v[2] : "") < 0)
                return -ENOMEM;
        if (o->changes)
                lxc_count_command(l);

        r = exec_capture(a->v, o->input, o->input ? strlen(o->input) : 0, timeout_for(l, o->timeout_ms), &res);
        if (r < 0) {
                diag_error(d, "", "cannot run `%s`: %s", what,
                           r == -ENOENT ? "not found in PATH (is this a Proxmox VE node?)" : strerror(-r));
                return r;
        }
        if (res.status != 0 || (o->stderr_fails && *strstrip_newline(res.err))) {
                _cleanup_(freep) char *msg = failure_text(&res);

                diag_error(d, "", "`%s` failed (exit code %d): %s", what, res.status, strna(msg));
                return -EIO;
        }
        if (*strstrip_newline(res.err))
                diag_warning(d, "", "`%s`: %s", what, res.err);
        if (ret_out_len)
                *ret_out_len = res.out_len;
        if (ret_out)
                *ret_out = TAKE_PTR(res.out);
        return 0;
}

static int run_input(LxcPlugin *l, const Argv *a, const char *input, bool changes, int timeout_ms,
                     char **ret_out, Diag *d) {
        return run_full(l, a, &(RunOpts) { .input = input, .changes = changes, .timeout_ms = timeout_ms },
                        ret_out, NULL, d);
}

static int run(LxcPlugin *l, const Argv *a, bool changes, int timeout_ms, char **ret_out, Diag *d) {
        return run_input(l, a, NULL, changes, timeout_ms, ret_out, d);
}

static bool has_tag(const char *tags, const char *tag) {
        size_t n = strlen(tag);

        for (const char *t = tags; t && *t;) {
                size_t k = strcspn(t, ";");

                if (k == n && strncmp(t, tag, n) == 0)
                        return true;
                t += k + (t[k] == ';');
        }
        return false;
}

/* `pct config --current`, read to its end: the output may hold NUL bytes
 * (the env option), and what follows them counts (tags, net0, ...). A
 * container Proxmox HA manages is read with its pending changes: op-dbus
 * does not restart it, so what it has asked for is done once set. */
static int read_config(LxcPlugin *l, LxcLive *c, Diag *d) {
        _cleanup_(lxc_argv_done) Argv a = {};
        _cleanup_(freep) char *out = NULL;
        size_t len = 0;
        int r;

        lxc_argv_add(&a, "pct");
        lxc_argv_add(&a, "config");
        lxc_argv_addf(&a, "%" PRIu32, c->id);
        if (!c->ha_managed)
                lxc_argv_add(&a, "--current");
        r = run_full(l, &a, &(RunOpts) {}, &out, &len, d);
        if (r < 0)
                return r;
        r = lxc_conf_parse(out, len, &c->spec, &c->lock);
        if (r < 0)
                return r;
        c->owned = has_tag(c->spec.tags, LXC_OWNER_TAG);
        return 0;
}

/* Which containers Proxmox HA manages (<pve_dir>/ha/resources.cfg). */
static int mark_ha(LxcPlugin *l, LxcLive *live, size_t n) {
        _cleanup_(freep) char *res_path = NULL, *status_path = NULL, *resources = NULL, *status = NULL;
        const char *dir = host_settings(l->plugin.ctx)->pve_dir;
        int r;

        if (asprintf(&res_path, "%s/ha/resources.cfg", dir) < 0 ||
            asprintf(&status_path, "%s/ha/manager_status", dir) < 0)
                return -ENOMEM;
        r = read_optional_file(res_path, &resources);
        if (r == -ENOMEM)
                return r;
        if (r <= 0)
                return 0; /* no HA resources (or none readable) */
        r = read_optional_file(status_path, &status);
        if (r == -ENOMEM)
                return r;
        for (size_t i = 0; i < n; i++)
                live[i].ha_managed = lxc_ha_managed(resources, status, live[i].id);
        return 0;
}

static void live_free(LxcLive *live, size_t n) {
        for (size_t i = 0; i < n; i++)
                lxc_live_done(&live[i]);
        free(live);
}

/* `pct list`: "VMID Status Lock Name" rows; Lock may be empty and Name
 * has no whitespace, so the fields are the words of the row. */
int lxc_pct_list_parse(const char *out, LxcLive **ret, size_t *ret_n, Diag *d) {
        _cleanup_(freep) char *copy = strdup(out);
        _cleanup_(freep) LxcLive *live = NULL;
        size_t n = 0, allocated = 0;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char vmid[16], status[16];
                const char *end;
                uint32_t id;

                if (sscanf(line, "%15s %15s", vmid, status) != 2 || streq(vmid, "VMID"))
                        continue;
                if (!pve_vmid_parse(vmid, &end, &id) || *end) {
                        diag_error(d, "", "`pct list` printed an unexpected line: %s", line);
                        return -EBADMSG;
                }
                /* One element per row, however short the rows are. */
                if (greedy_realloc((void **) &live, &allocated, n + 1, sizeof(LxcLive)) < 0)
                        return -ENOMEM;
                live[n++] = (LxcLive) { .id = id, .running = streq(status, "running"), .spec.id = id };
        }
        *ret = TAKE_PTR(live);
        *ret_n = n;
        return 0;
}

/* Every container with its configuration. */
static int pct_list(LxcPlugin *l, LxcLive **ret, size_t *ret_n, Diag *d) {
        _cleanup_(lxc_argv_done) Argv a = {};
        _cleanup_(freep) char *out = NULL;
        LxcLive *live = NULL;
        size_t n = 0;
        int r;

        lxc_argv_add(&a, "pct");
        lxc_argv_add(&a, "list");
        r = run(l, &a, false, 0, &out, d);
        if (r < 0)
                return r;
        r = lxc_pct_list_parse(out, &live, &n, d);
        if (r < 0)
                return r;
        r = mark_ha(l, live, n);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = read_config(l, &live[i], d);
        if (r < 0) {
                live_free(live, n);
                return r;
        }
        *ret = live;
        *ret_n = n;
        return 0;
}

/* Word column (0 or 1) of every line but the header. */
int lxc_pveam_words(const char *out, size_t column, const char *header, char ***ret, size_t *ret_n) {
        _cleanup_(freep) char *copy = strdup(out);
        char **l = NULL, *save = NULL;
        size_t n = 0;

        if (!copy || !(l = calloc(strlen(out) / 2 + 2, sizeof(char *))))
                return -ENOMEM;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char w[2][512] = {};

                if (sscanf(line, "%511s %511s", w[0], w[1]) < (int) column + 1 || streq(w[0], header))
                        continue;
                if (!(l[n++] = strdup(w[column]))) {
                        for (size_t i = 0; i < n; i++)
                                free(l[i]);
                        free(l);
                        return -ENOMEM;
                }
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

/* Runs a listing command (NULL-terminated words) and returns one column
 * of its rows (see words()). */
static int listing(LxcPlugin *l, const char *const *cmd, size_t column, const char *header, char ***ret,
                   size_t *ret_n, Diag *d) {
        _cleanup_(lxc_argv_done) Argv a = {};
        _cleanup_(freep) char *out = NULL;
        int r;

        for (; *cmd; cmd++)
                lxc_argv_add(&a, *cmd);
        r = run(l, &a, false, 0, &out, d);
        return r < 0 ? r : lxc_pveam_words(out, column, header, ret, ret_n);
}

static int pct_templates(LxcPlugin *l, const char *storage, char ***ret, size_t *ret_n, Diag *d) {
        return listing(l, (const char *const[]) { "pveam", "list", storage, NULL }, 0, "NAME", ret, ret_n, d);
}

/* `pvesm status --content rootdir`: the storages of this node, enabled,
 * that may hold containers; the first column after the header. */
static int pct_ct_storages(LxcPlugin *l, char ***ret, size_t *ret_n, Diag *d) {
        return listing(l, (const char *const[]) { "pvesm", "status", "--content", "rootdir", NULL }, 0, "Name",
                       ret, ret_n, d);
}

static int pct_available(LxcPlugin *l, char ***ret, size_t *ret_n, Diag *d) {
        return listing(l, (const char *const[]) { "pveam", "available", "--section", "system", NULL }, 1, "",
                       ret, ret_n, d);
}

static void add_features(Argv *a, const LxcSpec *want) {
        _cleanup_(freep) char *f = lxc_props_format(&want->features, NULL);

        if (!f)
                a->error = -ENOMEM;
        else if (*f) {
                lxc_argv_add(a, "--features");
                lxc_argv_add(a, f);
        }
}

static void add_opt(Argv *a, const char *option, const char *value) {
        if (!value)
                return;
        lxc_argv_add(a, option);
        lxc_argv_add(a, value);
}

static int pct_create(LxcPlugin *l, const LxcSpec *want, Diag *d) {
        _cleanup_(lxc_argv_done) Argv a = {};
        _cleanup_(freep) char *net0 = want->has_net0 ? lxc_spec_net0_string(want, NULL) : NULL;

        if ((want->has_net0 && !net0) || !want->volume || !want->storage)
                return want->volume && want->storage ? -ENOMEM : -EINVAL;
        lxc_argv_add(&a, "pct");
        lxc_argv_add(&a, "create");
        lxc_argv_addf(&a, "%" PRIu32, want->id);
        lxc_argv_add(&a, want->volume);
        add_opt(&a, "--unprivileged", want->unprivileged ? "1" : "0");
        lxc_argv_add(&a, "--rootfs");
        lxc_argv_addf(&a, "%s:%" PRIi64, want->storage, (want->rootfs_mib + 1023) / 1024);
        add_opt(&a, "--hostname", want->hostname);
        lxc_argv_add(&a, "--memory");
        lxc_argv_addf(&a, "%" PRIi64, want->memory);
        lxc_argv_add(&a, "--swap");
        lxc_argv_addf(&a, "%" PRIi64, want->swap);
        if (want->cores > 0) {
                lxc_argv_add(&a, "--cores");
                lxc_argv_addf(&a, "%" PRIi64, want->cores);
        }
        add_opt(&a, "--onboot", want->onboot ? "1" : "0");
        add_opt(&a, "--tags", want->tags);
        add_opt(&a, "--description", want->description);
        add_features(&a, want);
        add_opt(&a, "--nameserver", want->nameserver);
        add_opt(&a, "--searchdomain", want->searchdomain);
        add_opt(&a, "--net0", net0);
        return run(l, &a, true, TIMEOUT_CREATE_MS, NULL, d);
}

static int power(LxcPlugin *l, const char *verb, uint32_t id, Diag *d) {
        _cleanup_(lxc_argv_done) Argv a = {};

        lxc_argv_add(&a, "pct");
        lxc_argv_add(&a, verb);
        lxc_argv_addf(&a, "%" PRIu32, id);
        if (streq(verb, "shutdown")) {
                /* A clean shutdown, killed if it takes too long. */
                add_opt(&a, "--timeout", SHUTDOWN_TIMEOUT_S);
                add_opt(&a, "--forceStop", "1");
        } else if (streq(verb, "destroy")) {
                lxc_argv_add(&a, "--force");
                lxc_argv_add(&a, "--purge");
        }
        return run(l, &a, true, streq(verb, "destroy") ? TIMEOUT_CREATE_MS : TIMEOUT_POWER_MS, NULL, d);
}

static int pct_start(LxcPlugin *l, uint32_t id, Diag *d) {
        return power(l, "start", id, d);
}

static int pct_stop(LxcPlugin *l, uint32_t id, Diag *d) {
        return power(l, "shutdown", id, d);
}

static int pct_destroy(LxcPlugin *l, uint32_t id, Diag *d) {
        return power(l, "destroy", id, d);
}

/* Options to change, and the ones to delete (Proxmox's default then). */
static void set_options(Argv *a, StrBuf *del, const LxcSpec *w, const LxcSpec *h) {
        if (lxc_spec_field_differs(w, h, LXC_FIELD_HOSTNAME))
                add_opt(a, "--hostname", w->hostname);
        if (lxc_spec_field_differs(w, h, LXC_FIELD_MEMORY)) {
                lxc_argv_add(a, "--memory");
                lxc_argv_addf(a, "%" PRIi64, w->memory);
        }
        if (lxc_spec_field_differs(w, h, LXC_FIELD_SWAP)) {
                lxc_argv_add(a, "--swap");
                lxc_argv_addf(a, "%" PRIi64, w->swap);
        }
        if (lxc_spec_field_differs(w, h, LXC_FIELD_CORES) && w->cores > 0) {
                lxc_argv_add(a, "--cores");
                lxc_argv_addf(a, "%" PRIi64, w->cores);
        } else if (lxc_spec_field_differs(w, h, LXC_FIELD_CORES))
                strbuf_puts(del, ",cores");
        if (lxc_spec_field_differs(w, h, LXC_FIELD_ONBOOT))
                add_opt(a, "--onboot", w->onboot ? "1" : "0");
        if (lxc_spec_field_differs(w, h, LXC_FIELD_TAGS))
                add_opt(a, "--tags", w->tags);
        if (lxc_spec_field_differs(w, h, LXC_FIELD_DESCRIPTION))
                add_opt(a, "--description", w->description);
        if (lxc_spec_field_differs(w, h, LXC_FIELD_FEATURES)) {
                if (w->features.n > 0)
                        add_features(a, w);
                else
                        strbuf_puts(del, ",features");
        }
        if (lxc_spec_field_differs(w, h, LXC_FIELD_NAMESERVER) && !w->nameserver)
                strbuf_puts(del, ",nameserver");
        else if (lxc_spec_field_differs(w, h, LXC_FIELD_NAMESERVER))
                add_opt(a, "--nameserver", w->nameserver);
        if (lxc_spec_field_differs(w, h, LXC_FIELD_SEARCHDOMAIN) && !w->searchdomain)
                strbuf_puts(del, ",searchdomain");
        else if (lxc_spec_field_differs(w, h, LXC_FIELD_SEARCHDOMAIN))
                add_opt(a, "--searchdomain", w->searchdomain);
        for (size_t i = 0; i < h->n_extra_nets; i++)
                strbuf_printf(del, ",%s", h->extra_nets[i]);
}

static int pct_set(LxcPlugin *l, const LxcSpec *want, const LxcSpec *have, Diag *d) {
        _cleanup_(lxc_argv_done) Argv a = {};
        _cleanup_(freep) char *dels = NULL;
        StrBuf del = {};

        lxc_argv_add(&a, "pct");
        lxc_argv_add(&a, "set");
        lxc_argv_addf(&a, "%" PRIu32, want->id);
        set_options(&a, &del, want, have);
        if (lxc_spec_field_differs(want, have, LXC_FIELD_NET0)) {
                _cleanup_(freep) char *net0 = want->has_net0 ? lxc_spec_net0_string(want, have) : NULL;

                if (want->has_net0 && !net0)
                        return -ENOMEM;
                if (net0)
                        add_opt(&a, "--net0", net0);
                else
                        strbuf_puts(&del, ",net0");
        }
        dels = strbuf_take(&del);
        if (!dels)
                return -ENOMEM;
        if (*dels)
                add_opt(&a, "--delete", dels + 1);
        if (a.n == 3)
                return 0;
        return run(l, &a, true, TIMEOUT_SET_MS, NULL, d);
}

/* Warnings the resize worker printed in its output (standard output). */
static void resize_warnings(const char *out, Diag *d) {
        static const char prefix[] = "Failed to update the container's filesystem";

        for (const char *line = out; line && *line;) {
                const char *end = strchrnul(line, '\n');

                if (startswith(line, prefix))
                        diag_warning(d, "", "`pct resize`: %.*s", (int) (end - line), line);
                line = *end ? end + 1 : end;
        }
}

/* pct resize runs a worker, but pct.pm has no exit handler for it: when
 * the worker fails (lvextend, zfs set) the error goes to standard error
 * and the exit code is 0. So standard error is a failure, and the size is
 * read back. */
static int pct_resize(LxcPlugin *l, uint32_t id, int64_t mib, Diag *d) {
        _cleanup_(lxc_argv_done) Argv a = {};
        _cleanup_(lxc_live_done) LxcLive now = { .id = id, .spec.id = id };
        _cleanup_(freep) char *out = NULL;
        int r;

        lxc_argv_add(&a, "pct");
        lxc_argv_add(&a, "resize");
        lxc_argv_addf(&a, "%" PRIu32, id);
        lxc_argv_add(&a, "rootfs");
        lxc_argv_addf(&a, "%" PRIi64 "M", mib);
        r = run_full(l, &a, &(RunOpts) { .changes = true, .stderr_fails = true, .timeout_ms = TIMEOUT_SET_MS },
                     &out, NULL, d);
        if (r < 0)
                return r;
        resize_warnings(out, d);
        r = read_config(l, &now, d);
        if (r < 0)
                return r;
        if (now.spec.rootfs_mib < mib) {
                diag_error(d, "", "`pct resize %" PRIu32 " rootfs %" PRIi64 "M` reported success, but the root filesystem "
                           "is %" PRIi64 " MiB", id, mib, now.spec.rootfs_mib);
                return -EIO;
        }
        return 0;
}

/* Raw lxc.* keys cannot be set through pct: the configuration file is
 * edited (see lxc_conf_file_edit_raw). */
static int pct_set_raw(LxcPlugin *l, uint32_t id, const char *const *lines, bool present, Diag *d) {
        bool changed = false;
        int r;

        r = lxc_conf_file_edit_raw(host_settings(l->plugin.ctx)->pve_dir, id, lines, present,
                                   timeout_for(l, 10 * 1000), &changed);
        if (changed)
                lxc_count_command(l);
        if (r < 0)
                diag_error(d, "", "cannot edit %s/lxc/%" PRIu32 ".conf: %s", host_settings(l->plugin.ctx)->pve_dir, id,
                           r == -EBUSY ? "its configuration lock is held (a pct command is running)" : strerror(-r));
        return r;
}

bool lxc_pct_status_pid(const char *out, pid_t *ret) {
        const char *p = strstr(out, "\npid: ");

        return p && sscanf(p, "\npid: %d", ret) == 1 && *ret > 0;
}

static int pct_pid(LxcPlugin *l, uint32_t id, pid_t *ret, Diag *d) {
        _cleanup_(lxc_argv_done) Argv a = {};
        _cleanup_(freep) char *out = NULL;
        int r;

        lxc_argv_add(&a, "pct");
        lxc_argv_add(&a, "status");
        lxc_argv_addf(&a, "%" PRIu32, id);
        lxc_argv_add(&a, "--verbose");
        r = run(l, &a, false, 0, &out, d);
        if (r < 0)
                return r;
        if (!lxc_pct_status_pid(out, ret)) {
                diag_error(d, "", "`pct status %" PRIu32 " --verbose` reports no process id; is the container running?", id);
                return -ESRCH;
        }
        return 0;
}

static bool pct_exists(LxcPlugin *l, uint32_t id) {
        _cleanup_(freep) char *path = NULL;

        if (asprintf(&path, "%s/lxc/%" PRIu32 ".conf", host_settings(l->plugin.ctx)->pve_dir, id) < 0)
                return true; /* assume the worst: a destroy is attempted */
        return access(path, F_OK) == 0;
}

static int pct_exec(LxcPlugin *l, uint32_t id, const char *script, const char *input, bool changes,
                    char **ret_out, Diag *d) {
        _cleanup_(lxc_argv_done) Argv a = {};

        lxc_argv_add(&a, "pct");
        lxc_argv_add(&a, "exec");
        lxc_argv_addf(&a, "%" PRIu32, id);
        lxc_argv_add(&a, "--");
        lxc_argv_add(&a, "/bin/sh");
        lxc_argv_add(&a, "-c");
        lxc_argv_add(&a, script);
        return run_input(l, &a, input, changes, TIMEOUT_SET_MS, ret_out, d);
}

/* pct push reads a file on the host: a private temporary one. */
static int pct_push(LxcPlugin *l, uint32_t id, const char *data, size_t len, const char *dest, mode_t mode,
                    Diag *d) {
        _cleanup_(unlink_freep) char *src = NULL;
        _cleanup_(lxc_argv_done) Argv a = {};
        const char *dir = l->plugin.ctx->run_dir ?: "/run";
        int r;

        r = write_temp_file(dir, data, len, &src);
        if (r < 0) {
                diag_error(d, "", "cannot write a temporary file in %s for pct push: %s", dir, strerror(-r));
                return r;
        }
        lxc_argv_add(&a, "pct");
        lxc_argv_add(&a, "push");
        lxc_argv_addf(&a, "%" PRIu32, id);
        lxc_argv_add(&a, src);
        lxc_argv_add(&a, dest);
        lxc_argv_add(&a, "--perms");
        lxc_argv_addf(&a, "%04o", (unsigned) mode);
        lxc_argv_add(&a, "--user");
        lxc_argv_add(&a, "0");
        lxc_argv_add(&a, "--group");
        lxc_argv_add(&a, "0");
        return run(l, &a, true, TIMEOUT_SET_MS, NULL, d);
}

/* ---- one container, for other plugins (lxc-access.h) ---------------------- */

/* Its configuration file says whether it exists, is op-dbus's and whose
 * ids its root has; `pct status` whether it runs. */
static int pct_inspect(LxcPlugin *l, uint32_t id, LxcContainerInfo *ret, Diag *d) {
        const char *dir = host_settings(l->plugin.ctx)->pve_dir;
        _cleanup_(lxc_argv_done) Argv a = {};
        _cleanup_(freep) char *path = NULL, *text = NULL, *out = NULL;
        int r;

        if (asprintf(&path, "%s/lxc/%" PRIu32 ".conf", dir, id) < 0)
                return -ENOMEM;
        r = read_optional_file(path, &text);
        if (r < 0) {
                diag_error(d, "", "cannot read the configuration of container %" PRIu32 " in %s: %s", id, dir,
                           strerror(-r));
                return r;
        }
        if (r == 0)
                return 0;
        lxc_conf_info(text, ret);
        if (!ret->owned)
                return 0; /* not op-dbus's: not even looked at */
        lxc_argv_add(&a, "pct");
        lxc_argv_add(&a, "status");
        lxc_argv_addf(&a, "%" PRIu32, id);
        r = run(l, &a, false, 0, &out, d);
        if (r < 0)
                return r;
        ret->running = strstr(out, "status: running") != NULL;
        return 0;
}

char *lxc_pct_mounted_path(const char *out) {
        const char *a = strstr(out, " in '"), *b;

        if (!a)
                return NULL;
        a += 5;
        b = strchr(a, '\'');
        return b && *a == '/' ? strndup(a, (size_t) (b - a)) : NULL;
}

/* `pct mount`, which also locks the container ("mounted"). */
static int pct_mount(LxcPlugin *l, uint32_t id, char **ret_path, Diag *d) {
        _cleanup_(lxc_argv_done) Argv a = {};
        _cleanup_(freep) char *out = NULL;
        int r;

        lxc_argv_add(&a, "pct");
        lxc_argv_add(&a, "mount");
        lxc_argv_addf(&a, "%" PRIu32, id);
        r = run(l, &a, true, 0, &out, d);
        if (r < 0)
                return r;
        *ret_path = lxc_pct_mounted_path(out);
        if (!*ret_path) {
                diag_error(d, "", "`pct mount %" PRIu32 "` did not say where the root file system is (%s)", id,
                           strstrip_newline(out));
                return -EIO;
        }
        return 0;
}

static int pct_unmount(LxcPlugin *l, uint32_t id, Diag *d) {
        _cleanup_(lxc_argv_done) Argv a = {};

        lxc_argv_add(&a, "pct");
        lxc_argv_add(&a, "unmount");
        lxc_argv_addf(&a, "%" PRIu32, id);
        return run(l, &a, true, 0, NULL, d);
}

/* `pct status --verbose` prints the init pid as "pid: N". */
static int pct_pid_expression(uint32_t id, char **ret) {
        return asprintf(ret, "$(pct status %" PRIu32 " --verbose | sed -n 's/^pid: //p')", id) < 0 ? -ENOMEM : 0;
}

const LxcBackendOps lxc_pct_backend = {
        .name = "pct",
        .not_owned = "it lacks the Proxmox tag \"" LXC_OWNER_TAG "\"",
        .next_start_rules = true,
        .pid_expression = pct_pid_expression,
        .list = pct_list,
        .templates = pct_templates,
        .ct_storages = pct_ct_storages,
        .available = pct_available,
        .create = pct_create,
        .start = pct_start,
        .stop = pct_stop,
        .destroy = pct_destroy,
        .set = pct_set,
        .resize = pct_resize,
        .set_raw = pct_set_raw,
        .pid = pct_pid,
        .exists = pct_exists,
        .exec = pct_exec,
        .push = pct_push,
        .inspect = pct_inspect,
        .mount = pct_mount,
        .unmount = pct_unmount,
        .mount_how = "pct mount",
        .push_how = "pct push",
};
