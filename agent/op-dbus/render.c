/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op-dbus render --container ID [FILE]: the files op-dbus would push into
 * a container for its services, rendered from the state file as apply
 * renders them (services_render()), with every secret of the state shown
 * as <redacted>. Reads the state file only; changes nothing. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json-compare.h"
#include "json-util.h"
#include "log.h"
#include "op-dbus.h"
#include "plugins.h"
#include "services.h"
#include "strbuf.h"

/* The container with id vmid in the document's lxc section, and its
 * JSON path. */
static json_object *find_container(const StateDoc *doc, uint32_t vmid, char **ret_path) {
        json_object *plugins, *lxc, *containers, *id;

        if (!json_object_object_get_ex(doc->root, "plugins", &plugins) ||
            !json_object_object_get_ex(plugins, "lxc", &lxc) ||
            !json_object_object_get_ex(lxc, "containers", &containers) ||
            !json_object_is_type(containers, json_type_array))
                return NULL;
        for (size_t i = 0; i < json_object_array_length(containers); i++) {
                json_object *c = json_object_array_get_idx(containers, i);

                if (json_object_object_get_ex(c, "id", &id) && json_object_is_type(id, json_type_int) &&
                    json_object_get_int64(id) == vmid) {
                        *ret_path = json_path_index("plugins.lxc.containers", i);
                        return c;
                }
        }
        return NULL;
}

/* The secret values of the lxc section: what its plugin's redact()
 * replaces (the "from" of each difference it makes). */
static json_object *secrets_of(const StateDoc *doc) {
        _cleanup_(json_object_putp) json_object *copy = NULL, *changes = NULL;
        json_object *plugins, *lxc, *out = json_object_new_array();
        const PluginVTable *vt = NULL;

        for (size_t i = 0; i < opdbus_product.n_plugins; i++)
                if (streq(opdbus_product.plugins[i]->name, "lxc"))
                        vt = opdbus_product.plugins[i];
        if (!out || !vt || !vt->redact || !json_object_object_get_ex(doc->root, "plugins", &plugins) ||
            !json_object_object_get_ex(plugins, "lxc", &lxc))
                return out;
        if (json_copy(lxc, &copy) < 0)
                return json_object_put(out), NULL;
        vt->redact(copy);
        if (json_compare(lxc, copy, &changes) < 0)
                return json_object_put(out), NULL;
        for (size_t i = 0; i < json_object_array_length(changes); i++) {
                json_object *from;

                if (json_object_object_get_ex(json_object_array_get_idx(changes, i), "from", &from) &&
                    json_object_is_type(from, json_type_string) && json_object_get_string_len(from) > 0)
                        json_object_array_add(out, json_object_get(from));
        }
        return out;
}

/* content with every secret of the list replaced. */
static char *redact(const char *content, json_object *secrets) {
        _cleanup_(strbuf_done) StrBuf b = {};
        const char *p = content;

        while (*p) {
                size_t best = 0;

                for (size_t i = 0; i < json_object_array_length(secrets); i++) {
                        const char *s = json_object_get_string(json_object_array_get_idx(secrets, i));
                        size_t n = strlen(s);

                        if (n > best && strncmp(p, s, n) == 0)
                                best = n;
                }
                if (best > 0) {
                        strbuf_puts(&b, PLUGIN_REDACTED);
                        p += best;
                } else
                        strbuf_printf(&b, "%c", *p++);
        }
        return strbuf_take(&b) ?: strdup("");
}

static json_object *rendered_json(uint32_t vmid, const ServiceFiles *f, json_object *secrets) {
        json_object *o = json_object_new_object(), *files = json_object_new_array(), *inputs = json_object_new_array(),
                    *units = json_object_new_array(), *packages = json_object_new_array();

        if (!o || !files || !inputs || !units || !packages) {
                json_object_put(o), json_object_put(files), json_object_put(inputs), json_object_put(units);
                json_object_put(packages);
                return NULL;
        }
        for (size_t i = 0; i < f->n_files; i++) {
                json_object *e = json_object_new_object();
                _cleanup_(freep) char *content = redact(f->files[i].content, secrets);
                char mode[8];

                snprintf(mode, sizeof mode, "%04o", (unsigned) f->files[i].mode);
                json_object_object_add(e, "path", json_object_new_string(f->files[i].path));
                json_object_object_add(e, "mode", json_object_new_string(mode));
                json_object_object_add(e, "secret", json_object_new_boolean(f->files[i].secret));
                json_object_object_add(e, "content", json_object_new_string(content ?: ""));
                json_object_array_add(files, e);
        }
        for (size_t i = 0; i < f->n_inputs; i++) {
                json_object *e = json_object_new_object();

                json_object_object_add(e, "path", json_object_new_string(f->inputs[i].path));
                json_object_object_add(e, "kind", json_object_new_string(service_input_kind_to_string(f->inputs[i].kind)));
                json_object_array_add(inputs, e);
        }
        for (size_t i = 0; i < f->n_units; i++)
                json_object_array_add(units, json_object_new_string(f->units[i]));
        for (size_t i = 0; i < f->n_packages; i++)
                json_object_array_add(packages, json_object_new_string(f->packages[i]));
        json_object_object_add(o, "container", json_object_new_int64(vmid));
        json_object_object_add(o, "files", files);
        json_object_object_add(o, "inputs", inputs);
        json_object_object_add(o, "units", units);
        json_object_object_add(o, "packages", packages);
        return o;
}

static void print_rendered(json_object *r) {
        json_object *files = json_member_array(r, "files");

        for (size_t i = 0; files && i < json_object_array_length(files); i++) {
                json_object *f = json_object_array_get_idx(files, i);
                const char *content = json_member_string(f, "content");

                printf("%s# %s (mode %s%s)\n%s%s", i ? "\n" : "", json_member_string(f, "path"),
                       json_member_string(f, "mode"), json_member_bool(f, "secret") ? ", secret values redacted" : "",
                       content, content[0] && content[strlen(content) - 1] != '\n' ? "\n" : "");
        }
        printf("\n# files the services use, not rendered:\n");
        json_object *inputs = json_member_array(r, "inputs");
        for (size_t i = 0; inputs && i < json_object_array_length(inputs); i++)
                printf("#   %s (%s)\n", json_member_string(json_object_array_get_idx(inputs, i), "path"),
                       json_member_string(json_object_array_get_idx(inputs, i), "kind"));
        printf("# units enabled and started:");
        json_object *units = json_member_array(r, "units");
        for (size_t i = 0; units && i < json_object_array_length(units); i++)
                printf(" %s", json_object_get_string(json_object_array_get_idx(units, i)));
        printf("\n# packages installed:");
        json_object *packages = json_member_array(r, "packages");
        for (size_t i = 0; packages && i < json_object_array_length(packages); i++)
                printf(" %s", json_object_get_string(json_object_array_get_idx(packages, i)));
        printf("\n");
}

int verb_render(Cli *cli, const char *file) {
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;
        _cleanup_(service_files_done) ServiceFiles f = {};
        _cleanup_(json_object_putp) json_object *secrets = NULL, *out = NULL;
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(freep) char *path = NULL;
        _cleanup_(freep) char **services = NULL;
        json_object *c, *config = NULL, *list = NULL;
        size_t n = 0;
        int r;

        r = state_doc_load(file, &doc, &d);
        if (r >= 0 && !(c = find_container(doc, cli->container, &path))) {
                log_error("render: %s has no container %" PRIu32 " in plugins.lxc.containers.", file, cli->container);
                return EXIT_INVALID;
        }
        if (r >= 0) {
                (void) json_object_object_get_ex(c, "config", &config);
                (void) json_object_object_get_ex(c, "services", &list);
                n = list && json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
                services = calloc(n + 1, sizeof(char *));
                if (!services)
                        return log_error_errno(-ENOMEM, "Out of memory."), EXIT_UNAVAILABLE;
                /* borrowed from the document */
                for (size_t i = 0; i < n; i++)
                        services[i] = (char *) json_object_get_string(json_object_array_get_idx(list, i));
                r = services_render(config, services, n, path, &f, &d);
        }
        diag_print(&d, stderr, "");
        if (r < 0)
                return r == -ENOMEM ? EXIT_UNAVAILABLE : EXIT_INVALID;
        secrets = secrets_of(doc);
        out = secrets ? rendered_json(cli->container, &f, secrets) : NULL;
        if (!out)
                return log_error_errno(-ENOMEM, "Out of memory."), EXIT_UNAVAILABLE;
        if (cli->c.json)
                print_json(out);
        else
                print_rendered(out);
        return EXIT_OK;
}
