/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verbs every program runs in-process against a Reconciler: those
 * that take a state FILE, query, checkpoints and rollback. Each prints
 * the result JSON as output.c renders it and returns the exit code, so a
 * result computed here prints as one a daemon returns. */
#include <assert.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdio.h>
#include <unistd.h>

#include "checkpoint.h"
#include "cli.h"
#include "json-util.h"
#include "log.h"

CliReconcileFn cli_file_verb(const char *verb) {
        static const struct {
                const char *verb;
                CliReconcileFn fn;
        } table[] = {
                { "validate", reconcile_validate },
                { "plan",     reconcile_plan },
                { "apply",    reconcile_apply },
                { "diff",     reconcile_plan },
                { "verify",   reconcile_verify },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(verb, table[i].verb))
                        return table[i].fn;
        return NULL;
}

/* The default state file, when it is there; else NULL after saying how
 * to make one or name another. */
static const char *default_state_file(const CliCommon *c, const char *verb) {
        if (access(c->state_file, F_OK) < 0 && errno == ENOENT) {
                log_error("%s: no FILE given, and the default state file %s does not exist: name a FILE, "
                          "or set $%s to one.", verb, c->state_file, c->state_env);
                return NULL;
        }
        return c->state_file;
}

const char *cli_need_file(const CliCommon *c, int argc, char **argv, const char *verb) {
        if (optind + 1 >= argc) {
                if (c->state_file && !streq(verb, "validate"))
                        return default_state_file(c, verb);
                log_error("%s: missing FILE (use '-' for standard input).", verb);
                return NULL;
        }
        if (optind + 2 < argc) {
                log_error("%s: unexpected argument \"%s\".", verb, argv[optind + 2]);
                return NULL;
        }
        return argv[optind + 1];
}

int cli_optional_arg(int argc, char **argv, const char *verb, const char **ret) {
        *ret = NULL;
        if (optind + 2 < argc) {
                log_error("%s: unexpected argument \"%s\".", verb, argv[optind + 2]);
                return -EINVAL;
        }
        if (optind + 1 < argc)
                *ret = argv[optind + 1];
        return 0;
}

bool cli_no_args(int argc, char **argv, const char *verb) {
        if (optind + 1 < argc) {
                log_error("%s: unexpected argument \"%s\".", verb, argv[optind + 1]);
                return false;
        }
        return true;
}

const char *cli_origin(const char *file) {
        return streq(file, "-") ? "<stdin>" : file;
}

const char *cli_source(const char *file, char **buf) {
        if (streq(file, "-"))
                return "standard input";
        *buf = realpath(file, NULL);
        return *buf ?: file;
}

ApplyOrigin cli_apply_origin(const CliCommon *c, const char *reason, const char *source) {
        return (ApplyOrigin) {
                .reason = reason,
                .source = source,
                .uid = getuid(),
                .pid = getpid(),
                .process = c->program,
        };
}

/* PluginContext.progress on a terminal: one line per long step. */
static void print_progress(void *userdata, const char *plugin, const char *what) {
        const CliCommon *c = userdata;

        fprintf(stderr, "%s: %s: %s...\n", c->program, plugin, what);
}

int cli_setup_reconciler(const CliCommon *c, const Product *product, Reconciler *rc) {
        int r;

        reconciler_init(rc, &c->ctx);
        if (!c->json && isatty(STDERR_FILENO) == 1) {
                rc->ctx.progress = print_progress;
                rc->ctx.progress_userdata = (void *) c;
        }
        rc->keep_checkpoints = c->keep_checkpoints;
        rc->lock_timeout_ms = c->lock_timeout_ms;
        r = reconciler_use_product(rc, product);
        rc->fault_after = c->fault_env ? getenv(c->fault_env) : NULL;
        if (r < 0)
                return log_error_errno(r, "Cannot order the built-in plugins: %m");
        return 0;
}

int cli_finish(const CliCommon *c, const char *verb, const char *origin, ReconcileResult *res) {
        _cleanup_(json_object_putp) json_object *o = NULL;

        /* A difference diff finds is drift, as for verify: the JSON and the
         * exit status say the same. */
        if (streq(verb, "diff") && res->status == RECONCILE_OK && res->plan.n_actions > 0)
                res->status = RECONCILE_DRIFT;
        o = reconcile_result_to_json(res);
        if (!o)
                return log_error_errno(-ENOMEM, "Out of memory."), EXIT_UNAVAILABLE;
        if (streq(verb, "diff"))
                print_diff(c->json, origin, o);
        else
                print_result(c->json, verb, origin, o);
        return exit_code_for(res->status);
}

#if defined(__SANITIZE_ADDRESS__)
#  define FREE_AT_EXIT 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define FREE_AT_EXIT 1
#  endif
#endif

/* The state document, left to the end of the process: a large state's
 * JSON tree (1.5 MB of flows is some 100,000 allocations) took a fifth
 * of a no-op apply to free, memory the kernel takes back at once. Built
 * with AddressSanitizer, it is freed, so that leak checks keep their
 * meaning. */
static void keep_until_exit(StateDoc **doc) {
#ifdef FREE_AT_EXIT
        (void) doc;
#else
        static StateDoc *kept;

        kept = TAKE_PTR(*doc);
        (void) kept;
#endif
}

int cli_run_file_verb(const CliCommon *c, Reconciler *rc, const char *verb, const char *file) {
        _cleanup_(reconcile_result_done) ReconcileResult res = {};
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;
        CliReconcileFn fn = cli_file_verb(verb);
        _cleanup_(freep) char *abs = NULL;
        ApplyOrigin origin = cli_apply_origin(c, "apply", cli_source(file, &abs));
        ReconcileOptions o = {
                .dry_run = c->dry_run,
                .only = c->only,
                .record = true,
                .allow_outage = c->allow_outage,
        };
        int r;

        assert(fn);
        rc->origin = &origin;
        r = state_doc_load(file, &doc, &res.diag);
        if (r < 0) {
                res.status = RECONCILE_INVALID;
                res.error = r;
        } else
                (void) fn(rc, doc, &o, &res);
        keep_until_exit(&doc);
        return cli_finish(c, verb, cli_origin(file), &res);
}

int cli_run_query(const CliCommon *c, Reconciler *rc) {
        _cleanup_(json_object_putp) json_object *state = NULL;
        _cleanup_(diag_done) Diag d = {};
        int r;

        r = reconcile_query(rc, c->only, &state, &d);
        diag_print(&d, stderr, "");
        if (r < 0)
                return r == -EINVAL ? EXIT_INVALID : EXIT_UNAVAILABLE;
        print_json(state);
        return EXIT_OK;
}

int cli_run_checkpoints(const CliCommon *c) {
        _cleanup_(json_object_putp) json_object *a = NULL;
        int r;

        r = checkpoint_list_json(c->ctx.state_dir, &a);
        if (r < 0) {
                log_error_errno(r, "Cannot list checkpoints in %s: %m", c->ctx.state_dir);
                return EXIT_UNAVAILABLE;
        }
        if (c->json)
                print_json(a);
        else
                print_checkpoints_table(a);
        return EXIT_OK;
}

bool cli_generation_diff_args(const CliCommon *c, int argc, char **argv, const char *verb) {
        if (!streq(verb, "diff")) {
                log_error("%s: --from goes with diff only ('%s diff --from N [--to M]').", verb, c->program);
                return false;
        }
        if (optind + 1 < argc) {
                log_error("diff --from compares two stored generations and takes no FILE.");
                return false;
        }
        return true;
}

int cli_run_generation_diff(const CliCommon *c, Reconciler *rc) {
        _cleanup_(json_object_putp) json_object *changes = NULL;
        _cleanup_(diag_done) Diag d = {};
        int r;

        r = reconcile_compare_generations(rc, c->from, c->to, &changes, &d);
        diag_print(&d, stderr, "");
        if (r == -ENOMEM)
                return log_error_errno(r, "Out of memory."), EXIT_UNAVAILABLE;
        if (r < 0)
                return EXIT_INVALID;
        if (c->json)
                print_json(changes);
        else
                print_generation_diff(changes);
        return json_object_array_length(changes) > 0 ? EXIT_DRIFT : EXIT_OK;
}

int cli_run_rollback(const CliCommon *c, Reconciler *rc) {
        _cleanup_(reconcile_result_done) ReconcileResult res = {};
        ApplyOrigin origin = cli_apply_origin(c, "rollback", NULL);

        rc->origin = &origin;
        (void) reconcile_rollback(rc, c->to, c->allow_outage, &res);
        return cli_finish(c, "rollback", "the checkpoint", &res);
}
