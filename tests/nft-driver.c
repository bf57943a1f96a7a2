/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Command line front end of agent/lib/nft for the integration tests
 * (tests/integration/test_nft.py) and the benchmark (bench/nft). Not
 * installed. It works in the network namespace it runs in.
 *
 *   nft-driver apply FILE     applies the ruleset; prints a JSON result:
 *                             {"ok", "messages", "changes", "elements"} and,
 *                             on failure, "errno", "object", "detail"
 *   nft-driver plan FILE      prints the operations, one per line
 *   nft-driver dump FILE      prints the tables FILE names, as read back
 *   nft-driver generation     prints the ruleset's generation
 *   nft-driver watch FILE     reads commands from stdin, one per line:
 *                               drain      "changed" or "unchanged"
 *                               apply FILE as above, through the context the
 *                                          monitor ignores
 *                               plan FILE  dumps and plans, keeps the plan;
 *                                          prints the number of operations
 *                               commit     applies the kept plan as it is
 *                                          (the result as for apply)
 *                             prints "ready" first
 *
 * FILE is JSON:
 *   {"tables": [{"family": "inet", "name": "t", "absent": false,
 *                "sets": [{"name", "type", "flags": ["interval", "constant"],
 *                          "elements": ["10.0.0.0/8", ...]}],
 *                "chains": [{"name", "type", "hook", "priority", "policy",
 *                            "device", "rules": [{"name", "comment",
 *                            "exprs": [EXPR, ...]}]}]}]}
 * EXPR: ["match", FIELD, ["!=",] VALUE], ["set", FIELD, ["!=",] SET],
 *   ["ct state", NAME...], ["ct status", NAME...], ["counter"],
 *   ["limit", {"rate", "unit", "burst", "bytes", "over"}],
 *   ["log", PREFIX or null, LEVEL or -1], ["accept"], ["drop"], ["return"],
 *   ["jump", CHAIN], ["goto", CHAIN], ["reject"], ["reject", "tcp reset"],
 *   ["reject", "icmpx"|"icmp"|"icmpv6", CODE], ["masquerade"],
 *   ["snat", TO], ["dnat", TO], ["mss clamp"]
 * With --sandbox first (nft-driver --sandbox apply FILE), the driver runs
 * under the built-in seccomp filter (tests/driver-sandbox.h).
 * Usage errors exit 2, failures 1 ("error: <errno name>: <what>" on
 * stderr, or the JSON result with "ok": false). */

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <json-c/json.h>

#include "driver-sandbox.h"
#include "macro.h"
#include "nft.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(NftRuleset *, nft_ruleset_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(NftContext *, nft_context_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(NftMonitor *, nft_monitor_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(NftPlan *, nft_plan_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

/* What failed while reading FILE. */
static const char *bad;

static int fail(const char *what, int r) {
        bad = what;
        return r;
}

static const char *str_of(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static json_object *array_of(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
                return NULL;
        return v;
}

static const char *arg(json_object *e, size_t i) {
        json_object *v = json_object_array_get_idx(e, i);

        return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static unsigned bits_of(json_object *e, const char *const *names, const unsigned *values, size_t n) {
        unsigned bits = 0;

        for (size_t i = 1; i < json_object_array_length(e); i++)
                for (size_t j = 0; j < n; j++)
                        if (streq_ptr(arg(e, i), names[j]))
                                bits |= values[j];
        return bits;
}

static int build_limit(NftRule *r, json_object *o) {
        static const char *const units[] = { "second", "minute", "hour", "day" };
        NftLimit l = {};
        json_object *v;

        if (!o || !json_object_is_type(o, json_type_object))
                return -EINVAL;
        if (json_object_object_get_ex(o, "rate", &v))
                l.rate = (uint64_t) json_object_get_int64(v);
        if (json_object_object_get_ex(o, "burst", &v))
                l.burst = (uint32_t) json_object_get_int(v);
        if (json_object_object_get_ex(o, "bytes", &v))
                l.bytes = json_object_get_boolean(v);
        if (json_object_object_get_ex(o, "over", &v))
                l.over = json_object_get_boolean(v);
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (streq_ptr(str_of(o, "unit"), units[i]))
                        l.unit = (NftRateUnit) i;
        return nft_rule_limit(r, &l);
}

static int build_reject(NftRule *r, json_object *e) {
        const char *with = arg(e, 1);
        unsigned code = (unsigned) json_object_get_int(json_object_array_get_idx(e, 2));

        if (!with)
                return nft_rule_reject(r, NFT_REJECTWITH_DEFAULT, 0);
        if (streq(with, "tcp reset"))
                return nft_rule_reject(r, NFT_REJECTWITH_TCP_RESET, 0);
        if (streq(with, "icmpx"))
                return nft_rule_reject(r, NFT_REJECTWITH_ICMPX, code);
        if (streq(with, "icmp"))
                return nft_rule_reject(r, NFT_REJECTWITH_ICMP, code);
        if (streq(with, "icmpv6"))
                return nft_rule_reject(r, NFT_REJECTWITH_ICMPV6, code);
        return -EINVAL;
}

static int build_expr(NftRule *r, json_object *e) {
        static const char *const states[] = { "invalid", "established", "related", "new", "untracked" };
        static const unsigned state_bits[] = { NFT_CTSTATE_INVALID, NFT_CTSTATE_ESTABLISHED, NFT_CTSTATE_RELATED,
                                               NFT_CTSTATE_NEW, NFT_CTSTATE_UNTRACKED };
        static const char *const statuses[] = { "expected", "seen-reply", "assured", "confirmed", "snat", "dnat", "dying" };
        static const unsigned status_bits[] = { NFT_CTSTATUS_EXPECTED, NFT_CTSTATUS_SEEN_REPLY, NFT_CTSTATUS_ASSURED,
                                                NFT_CTSTATUS_CONFIRMED, NFT_CTSTATUS_SNAT, NFT_CTSTATUS_DNAT,
                                                NFT_CTSTATUS_DYING };
        const char *what = arg(e, 0);

        if (!json_object_is_type(e, json_type_array) || !what)
                return -EINVAL;
        if (streq(what, "match") || streq(what, "set")) {
                bool negate = streq_ptr(arg(e, 2), "!=");
                NftField f = nft_field_from_string(arg(e, 1));
                const char *v = arg(e, negate ? 3 : 2);

                if (f < 0)
                        return -EINVAL;
                return streq(what, "match") ? nft_rule_match(r, f, negate, v) : nft_rule_match_set(r, f, negate, v);
        }
        if (streq(what, "ct state"))
                return nft_rule_match_ct_state(r, bits_of(e, states, state_bits, ELEMENTSOF(states)));
        if (streq(what, "ct status"))
                return nft_rule_match_ct_status(r, bits_of(e, statuses, status_bits, ELEMENTSOF(statuses)));
        if (streq(what, "counter"))
                return nft_rule_counter(r);
        if (streq(what, "limit"))
                return build_limit(r, json_object_array_get_idx(e, 1));
        if (streq(what, "log"))
                return nft_rule_log(r, arg(e, 1), json_object_get_int(json_object_array_get_idx(e, 2)));
        if (streq(what, "accept"))
                return nft_rule_verdict(r, NFT_VERDICT_ACCEPT);
        if (streq(what, "drop"))
                return nft_rule_verdict(r, NFT_VERDICT_DROP);
        if (streq(what, "return"))
                return nft_rule_verdict(r, NFT_VERDICT_RETURN);
        if (streq(what, "jump"))
                return nft_rule_jump(r, arg(e, 1));
        if (streq(what, "goto"))
                return nft_rule_goto(r, arg(e, 1));
        if (streq(what, "reject"))
                return build_reject(r, e);
        if (streq(what, "masquerade"))
                return nft_rule_masquerade(r);
        if (streq(what, "snat"))
                return nft_rule_snat(r, arg(e, 1));
        if (streq(what, "dnat"))
                return nft_rule_dnat(r, arg(e, 1));
        if (streq(what, "mss clamp"))
                return nft_rule_mss_clamp_pmtu(r);
        return -EINVAL;
}

static int build_rule(NftChain *c, json_object *o) {
        json_object *exprs = array_of(o, "exprs");
        NftRule *r;
        int k;

        k = nft_rule_add(c, &r);
        if (k < 0)
                return k;
        if (str_of(o, "name") && (k = nft_rule_set_name(r, str_of(o, "name"))) < 0)
                return fail("rule name", k);
        if (str_of(o, "comment") && (k = nft_rule_set_comment(r, str_of(o, "comment"))) < 0)
                return fail("rule comment", k);
        for (size_t i = 0; exprs && i < json_object_array_length(exprs); i++) {
                json_object *e = json_object_array_get_idx(exprs, i);

                k = build_expr(r, e);
                if (k < 0)
                        return fail(json_object_to_json_string(e), k);
        }
        return 0;
}

static int build_chain(NftTable *t, json_object *o) {
        json_object *rules = array_of(o, "rules"), *v;
        NftChainSpec spec = {};
        NftChain *c;
        int k;

        if (str_of(o, "hook")) {
                spec.type = str_of(o, "type") ?: "filter";
                spec.hook = nft_hook_from_string(str_of(o, "hook"));
                if (json_object_object_get_ex(o, "priority", &v))
                        spec.priority = json_object_get_int(v);
                spec.policy = streq_ptr(str_of(o, "policy"), "drop") ? NFT_POLICY_DROP : NFT_POLICY_ACCEPT;
                spec.device = str_of(o, "device");
        }
        k = nft_chain_add(t, str_of(o, "name"), str_of(o, "hook") ? &spec : NULL, &c);
        if (k < 0)
                return fail(strna(str_of(o, "name")), k);
        for (size_t i = 0; rules && i < json_object_array_length(rules); i++) {
                k = build_rule(c, json_object_array_get_idx(rules, i));
                if (k < 0)
                        return k;
        }
        return 0;
}

static int build_set(NftTable *t, json_object *o) {
        json_object *flags = array_of(o, "flags"), *elements = array_of(o, "elements");
        unsigned f = 0;
        NftSet *s;
        int k;

        for (size_t i = 0; flags && i < json_object_array_length(flags); i++) {
                const char *flag = json_object_get_string(json_object_array_get_idx(flags, i));

                f |= streq_ptr(flag, "interval") ? NFT_SETFLAG_INTERVAL : streq_ptr(flag, "constant") ? NFT_SETFLAG_CONSTANT : 0;
        }
        k = nft_set_add(t, str_of(o, "name"), nft_key_type_from_string(str_of(o, "type")), f, &s);
        if (k < 0)
                return fail(strna(str_of(o, "name")), k);
        for (size_t i = 0; elements && i < json_object_array_length(elements); i++) {
                const char *e = json_object_get_string(json_object_array_get_idx(elements, i));

                k = nft_set_add_element(s, e);
                if (k < 0)
                        return fail(strna(e), k);
        }
        return 0;
}

static int load(const char *path, NftRuleset **ret) {
        _cleanup_(json_object_putp) json_object *doc = json_object_from_file(path);
        _cleanup_(nft_ruleset_freep) NftRuleset *rs = NULL;
        json_object *tables;
        int k;

        if (!doc)
                return fail(path, -EINVAL);
        tables = array_of(doc, "tables");
        if (!tables)
                return fail("tables", -EINVAL);
        k = nft_ruleset_new(&rs);
        if (k < 0)
                return k;
        for (size_t i = 0; i < json_object_array_length(tables); i++) {
                json_object *o = json_object_array_get_idx(tables, i), *v, *sets, *chains;
                int family = nft_family_from_string(str_of(o, "family"));
                NftTable *t;

                if (json_object_object_get_ex(o, "absent", &v) && json_object_get_boolean(v)) {
                        k = nft_table_add_absent(rs, family, str_of(o, "name"));
                        if (k < 0)
                                return fail(strna(str_of(o, "name")), k);
                        continue;
                }
                k = nft_table_add(rs, family, str_of(o, "name"), &t);
                if (k < 0)
                        return fail(strna(str_of(o, "name")), k);
                sets = array_of(o, "sets");
                for (size_t j = 0; sets && j < json_object_array_length(sets); j++) {
                        k = build_set(t, json_object_array_get_idx(sets, j));
                        if (k < 0)
                                return k;
                }
                chains = array_of(o, "chains");
                for (size_t j = 0; chains && j < json_object_array_length(chains); j++) {
                        k = build_chain(t, json_object_array_get_idx(chains, j));
                        if (k < 0)
                                return k;
                }
        }
        *ret = TAKE_PTR(rs);
        return 0;
}

/* ---- output ------------------------------------------------------------------ */

static void print_result(int r, const NftResult *res) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "ok", json_object_new_boolean(r >= 0));
        json_object_object_add(o, "messages", json_object_new_int64(res->messages));
        json_object_object_add(o, "changes", json_object_new_int64(res->changes));
        json_object_object_add(o, "elements", json_object_new_int64(res->elements));
        if (r < 0) {
                json_object_object_add(o, "errno", json_object_new_string(strerrorname_np(-r) ?: "?"));
                if (res->error.object)
                        json_object_object_add(o, "object", json_object_new_string(res->error.object));
                if (res->error.detail)
                        json_object_object_add(o, "detail", json_object_new_string(res->error.detail));
        }
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        fflush(stdout);
        json_object_put(o);
}

static int apply(NftContext *ctx, const char *path) {
        _cleanup_(nft_ruleset_freep) NftRuleset *rs = NULL;
        NftResult res = {};
        int r;

        r = load(path, &rs);
        if (r < 0)
                return r;
        r = nft_sync(ctx, rs, &res);
        print_result(r, &res);
        nft_result_done(&res);
        return r < 0 ? -ECANCELED : 0;
}

static int plan(NftContext *ctx, const char *path) {
        _cleanup_(nft_ruleset_freep) NftRuleset *rs = NULL, *live = NULL;
        _cleanup_(nft_plan_freep) NftPlan *p = NULL;
        NftError e = {};
        int r;

        r = load(path, &rs);
        if (r < 0)
                return r;
        r = nft_dump(ctx, rs, &live);
        if (r < 0)
                return fail("dump", r);
        r = nft_plan_new(rs, live, &p, &e);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", strna(e.object), strna(e.detail));
                nft_error_done(&e);
                return fail("plan", r);
        }
        for (size_t i = 0; i < nft_plan_n_ops(p); i++) {
                _cleanup_(freep) char *s = NULL;

                r = nft_plan_op_describe(p, i, &s);
                if (r < 0)
                        return r;
                puts(s);
        }
        return 0;
}

static json_object *rule_json(NftRule *r) {
        json_object *o = json_object_new_object();
        _cleanup_(freep) char *text = NULL;
        uint64_t packets, bytes;

        json_object_object_add(o, "handle", json_object_new_int64((int64_t) nft_rule_handle(r)));
        if (nft_rule_name(r))
                json_object_object_add(o, "name", json_object_new_string(nft_rule_name(r)));
        if (nft_rule_comment(r))
                json_object_object_add(o, "comment", json_object_new_string(nft_rule_comment(r)));
        if (nft_rule_identity(r))
                json_object_object_add(o, "identity", json_object_new_string(nft_rule_identity(r)));
        json_object_object_add(o, "digest", json_object_new_string(strna(nft_rule_digest(r))));
        if (nft_rule_counters(r, &packets, &bytes) >= 0) {
                json_object_object_add(o, "packets", json_object_new_int64((int64_t) packets));
                json_object_object_add(o, "bytes", json_object_new_int64((int64_t) bytes));
        }
        if (nft_rule_to_string(r, &text) >= 0)
                json_object_object_add(o, "exprs", json_object_new_string(text));
        return o;
}

static json_object *chain_json(const NftChain *c) {
        json_object *o = json_object_new_object(), *rules = json_object_new_array();
        NftChainSpec spec;

        json_object_object_add(o, "name", json_object_new_string(nft_chain_name(c)));
        if (nft_chain_spec(c, &spec) >= 0) {
                json_object_object_add(o, "type", json_object_new_string(spec.type));
                json_object_object_add(o, "hook", json_object_new_string(strna(nft_hook_to_string(spec.hook))));
                json_object_object_add(o, "priority", json_object_new_int(spec.priority));
                json_object_object_add(o, "policy", json_object_new_string(spec.policy == NFT_POLICY_DROP ? "drop" : "accept"));
                if (spec.device)
                        json_object_object_add(o, "device", json_object_new_string(spec.device));
        }
        for (size_t i = 0; i < nft_chain_n_rules(c); i++)
                json_object_array_add(rules, rule_json(nft_chain_rule(c, i)));
        json_object_object_add(o, "rules", rules);
        return o;
}

static json_object *set_json(const NftSet *s) {
        json_object *o = json_object_new_object(), *elements = json_object_new_array(), *flags = json_object_new_array();

        json_object_object_add(o, "name", json_object_new_string(nft_set_name(s)));
        json_object_object_add(o, "type", json_object_new_string(strna(nft_key_type_to_string(nft_set_key_type(s)))));
        if (nft_set_flags(s) & NFT_SETFLAG_INTERVAL)
                json_object_array_add(flags, json_object_new_string("interval"));
        if (nft_set_flags(s) & NFT_SETFLAG_CONSTANT)
                json_object_array_add(flags, json_object_new_string("constant"));
        json_object_object_add(o, "flags", flags);
        for (size_t i = 0; i < nft_set_n_elements(s); i++) {
                _cleanup_(freep) char *e = NULL;

                if (nft_set_element_to_string(s, i, &e) >= 0)
                        json_object_array_add(elements, json_object_new_string(e));
        }
        json_object_object_add(o, "elements", elements);
        return o;
}

static int dump(NftContext *ctx, const char *path) {
        _cleanup_(nft_ruleset_freep) NftRuleset *rs = NULL, *live = NULL;
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        json_object *tables = json_object_new_array();
        int r;

        r = load(path, &rs);
        if (r < 0)
                return r;
        r = nft_dump(ctx, rs, &live);
        if (r < 0)
                return fail("dump", r);
        for (size_t i = 0; i < nft_ruleset_n_tables(live); i++) {
                const NftTable *t = nft_ruleset_table(live, i);
                json_object *to = json_object_new_object(), *chains = json_object_new_array(), *sets = json_object_new_array();

                json_object_object_add(to, "family", json_object_new_string(nft_family_to_string(nft_table_family(t))));
                json_object_object_add(to, "name", json_object_new_string(nft_table_name(t)));
                for (size_t j = 0; j < nft_table_n_chains(t); j++)
                        json_object_array_add(chains, chain_json(nft_table_chain(t, j)));
                for (size_t j = 0; j < nft_table_n_sets(t); j++)
                        json_object_array_add(sets, set_json(nft_table_set(t, j)));
                json_object_object_add(to, "chains", chains);
                json_object_object_add(to, "sets", sets);
                json_object_array_add(tables, to);
        }
        json_object_object_add(o, "tables", tables);
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
        return 0;
}

/* A plan kept between the watch commands plan and commit, with the
 * rulesets it refers to. */
typedef struct Kept {
        NftRuleset *desired, *live;
        NftPlan *plan;
} Kept;

static void kept_done(Kept *k) {
        k->plan = nft_plan_free(k->plan);
        k->live = nft_ruleset_free(k->live);
        k->desired = nft_ruleset_free(k->desired);
}

static int keep_plan(NftContext *ctx, const char *path, Kept *k) {
        int r;

        kept_done(k);
        r = load(path, &k->desired);
        if (r >= 0)
                r = nft_dump(ctx, k->desired, &k->live);
        if (r >= 0)
                r = nft_plan_new(k->desired, k->live, &k->plan, NULL);
        if (r < 0)
                return fail("plan", r);
        printf("%zu\n", nft_plan_n_ops(k->plan));
        return 0;
}

static int commit(NftContext *ctx, const Kept *k) {
        NftResult res = {};
        int r;

        if (!k->plan)
                return -EDOM;
        r = nft_apply(ctx, k->plan, &res);
        print_result(r, &res);
        nft_result_done(&res);
        return 0;
}

static int watch(NftContext *ctx, const char *path) {
        _cleanup_(nft_ruleset_freep) NftRuleset *rs = NULL;
        _cleanup_(nft_monitor_freep) NftMonitor *m = NULL;
        _cleanup_(kept_done) Kept kept = {};
        char line[4096];
        int r;

        r = load(path, &rs);
        if (r < 0)
                return r;
        r = nft_monitor_new(ctx, &m);
        if (r >= 0)
                r = nft_monitor_watch(m, rs);
        if (r < 0)
                return fail("monitor", r);
        puts("ready");
        fflush(stdout);
        while (fgets(line, sizeof line, stdin)) {
                (void) strstrip_newline(line);
                if (streq(line, "drain")) {
                        r = nft_monitor_drain(m);
                        if (r < 0)
                                return fail("drain", r);
                        puts(r > 0 ? "changed" : "unchanged");
                } else if (startswith(line, "apply ")) {
                        r = apply(ctx, line + 6);
                        if (r < 0 && r != -ECANCELED)
                                return r;
                } else if (startswith(line, "plan ")) {
                        r = keep_plan(ctx, line + 5, &kept);
                        if (r < 0)
                                return r;
                } else if (streq(line, "commit")) {
                        r = commit(ctx, &kept);
                        if (r < 0)
                                return r;
                } else
                        return -EDOM;
                fflush(stdout);
        }
        return 0;
}

int main(int argc, char **argv) {
        _cleanup_(nft_context_freep) NftContext *ctx = NULL;
        int r;

        if (driver_sandbox("nft-driver", &argc, &argv))
                return 1;
        if (!(argc == 3 || (argc == 2 && streq(argv[1], "generation")))) {
                fprintf(stderr, "usage: nft-driver [--sandbox] apply|plan|dump|watch FILE, nft-driver [--sandbox] generation\n");
                return 2;
        }
        r = nft_context_new(&ctx);
        if (r < 0) {
                fprintf(stderr, "error: %s: opening the netlink socket\n", strerrorname_np(-r) ?: "?");
                return 1;
        }
        if (argc == 2) {
                uint32_t gen;

                r = nft_generation(ctx, &gen);
                if (r >= 0)
                        printf("%" PRIu32 "\n", gen);
        } else if (streq(argv[1], "apply"))
                r = apply(ctx, argv[2]);
        else if (streq(argv[1], "plan"))
                r = plan(ctx, argv[2]);
        else if (streq(argv[1], "dump"))
                r = dump(ctx, argv[2]);
        else if (streq(argv[1], "watch"))
                r = watch(ctx, argv[2]);
        else
                r = -EDOM;
        if (r == -EDOM) {
                fprintf(stderr, "nft-driver: invalid arguments for '%s'\n", argv[1]);
                return 2;
        }
        if (r == -ECANCELED)
                return 1;
        if (r < 0) {
                fprintf(stderr, "error: %s: %s\n", strerrorname_np(-r) ?: "?", strna(bad));
                return 1;
        }
        return 0;
}
