/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What changed between two stored generations (diff --from N --to M). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "checkpoint.h"
#include "json-compare.h"
#include "json-util.h"
#include "reconcile.h"

/* Stored generation gen, its secrets redacted by their plugins. */
static int load_redacted(Reconciler *rc, uint64_t gen, json_object **ret, Diag *d) {
        _cleanup_(json_object_putp) json_object *state = NULL;
        json_object *plugins;
        int r;

        r = checkpoint_load(rc->ctx.state_dir, gen, &state);
        if (r == -ENOENT)
                diag_error(d, "", "there is no checkpoint %" PRIu64 " in %s (%s checkpoints lists the stored ones)",
                           gen, rc->ctx.state_dir, rc->program);
        else if (r < 0)
                diag_error(d, "", "checkpoint %" PRIu64 " cannot be loaded: %s", gen, strerror(-r));
        if (r < 0)
                return r;
        if (json_object_object_get_ex(state, "plugins", &plugins) && json_object_is_type(plugins, json_type_object)) {
                json_object_object_foreach(plugins, name, section) {
                        const PluginVTable *vt = plugin_registry_find(&rc->registry, name);

                        if (vt && vt->redact && section)
                                vt->redact(section);
                }
        }
        *ret = TAKE_PTR(state);
        return 0;
}

int reconcile_compare_generations(Reconciler *rc, uint64_t from, uint64_t to, json_object **ret, Diag *d) {
        _cleanup_(json_object_putp) json_object *a = NULL, *b = NULL;
        int r;

        if (to == 0) {
                r = checkpoint_latest(rc->ctx.state_dir, &to);
                if (r >= 0 && to == 0)
                        r = -ENOENT;
                if (r < 0) {
                        diag_error(d, "", "no checkpoint is stored in %s", rc->ctx.state_dir);
                        return r;
                }
        }
        r = load_redacted(rc, from, &a, d);
        if (r >= 0)
                r = load_redacted(rc, to, &b, d);
        if (r < 0)
                return r;
        return json_compare(a, b, ret);
}
