/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state document as `op-dbus validate` reads it: the parser, then
 * every plugin's validation, then the result as the command prints it.
 * Nothing is queried or written; the plugins that read local files while
 * validating (the net plugin: /etc/network/interfaces) find none.
 *
 * Each product (a set of plugins) validates every input: op-dbus's and,
 * where it is built, op-router's. */
#include "fuzz.h"
#include "host.h"
#include "json-util.h"
#include "reconcile.h"
#include "plugins.h"
#if HAVE_ROUTER
#include "router.h"

/* agent/op-router/plugins.h has the name of op-dbus's. */
extern const Product oprouter_product;

static const RouterSettings router_nowhere = {
        .secrets_path = "/nonexistent/opdbus-fuzz/secrets.json",
};
#endif

/* Places no plugin may find anything in. */
static const HostSettings host_nowhere = {
        .ovsdb_address = "unix:/nonexistent/opdbus-fuzz/db.sock",
        .ovs_rundir = "/nonexistent/opdbus-fuzz/run/openvswitch",
        .pve_dir = "/nonexistent/opdbus-fuzz/etc/pve",
        .interfaces_path = "/nonexistent/opdbus-fuzz/interfaces",
};

/* Every product's validation, with its settings pointing nowhere; a
 * product joins with a line here. */
static const struct {
        const Product *product;
        const void *settings;
} products[] = {
        { &opdbus_product, &host_nowhere },
#if HAVE_ROUTER
        { &oprouter_product, &router_nowhere },
#endif
};

static void validate(const Product *p, const void *settings, const uint8_t *data, size_t size) {
        _cleanup_(reconcile_result_done) ReconcileResult res = {};
        _cleanup_(reconciler_done) Reconciler rc = {};
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;
        _cleanup_(json_object_putp) json_object *out = NULL;
        PluginContext context = {
                .state_dir = "/nonexistent/opdbus-fuzz/state",
                .run_dir = "/nonexistent/opdbus-fuzz/run",
                .timeout_ms = 100,
                .settings = settings,
        };
        ReconcileOptions o = {};

        reconciler_init(&rc, &context);
        FUZZ_CHECK(reconciler_use_product(&rc, p) >= 0);

        if (state_doc_parse((const char *) data, size, "fuzz.json", &doc, &res.diag) < 0)
                res.status = RECONCILE_INVALID;
        else
                (void) reconcile_validate(&rc, doc, &o, &res);

        /* A document is valid exactly when no error was recorded. */
        FUZZ_CHECK((res.status == RECONCILE_OK) == (diag_count(&res.diag, DIAG_ERROR) == 0));

        out = reconcile_result_to_json(&res);
        FUZZ_CHECK(out);
        FUZZ_CHECK(json_object_to_json_string(out));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > FUZZ_MAX_INPUT)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(products); i++)
                validate(products[i].product, products[i].settings, data, size);
        return 0;
}
