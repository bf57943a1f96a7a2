/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The firewall plugin's vtable: the table inet op-router, read with one
 * dump, changed with one nftables batch. */
#include <inttypes.h>
#include <stdio.h>

#include "checkpoint.h"
#include "fileio.h"
#include "firewall.h"
#include "json-util.h"
#include "router.h"
#include "sha256.h"
#include "strbuf.h"

typedef struct FirewallPlugin {
        Plugin plugin;
        FwConfig want;
        bool parsed;
        char **declared;             /* interfaces other sections of the state create */
        json_object *interfaces;     /* the state's interfaces section: the addresses it declares */
        json_object *wireguard;      /* ... and its wireguard section's */
        json_object *applied;        /* the applied state's section (parse) */

        json_object *section;        /* the section want was parsed from */
        /* want compiled without the host's facts (parse). A section
         * without port forwards compiles to the same ruleset whatever
         * the host has: then every diff plans with this one, whose rule
         * digests and sorted set elements are computed once. */
        FwCompiled checked;
        bool host_free;

        NftContext *nft;             /* in the namespace of the first query */
        NftRuleset *live;            /* the last dump of the table */
        FwHost host;                 /* and of the interfaces */
        FwFacts facts;
        FwCompiled compiled;         /* of the last diff, when it depends on the host */
        const FwCompiled *use;       /* what the last diff planned with: &checked or &compiled */
        NftPlan *plan;               /* of the last diff (or of the query's check, against live) */
        const NftRuleset *plan_live; /* the dump plan was made against */

        /* A batch the kernel took whole, in a transaction that made
         * generation committed_gen (the dump's plus one: the batch names
         * the dump's generation, and the kernel refuses it when the
         * ruleset changed since). The next query, the verification, reads
         * only the generation: when it is still that one, no one changed
         * any table since the dump but this batch, and the table is what
         * the plan makes. */
        bool committed;
        uint32_t committed_gen;
        bool proven;                 /* that query found so: the next diff plans nothing */

        /* What the table was made from when first read: the section a
         * rollback puts back (and query shows). */
        bool snapshot_decided;
        json_object *snapshot;       /* NULL: no table (or unknown) */
        bool snapshot_unknown;
} FirewallPlugin;

static void strv_free(char **l) {
        for (char **i = l; i && *i; i++)
                free(*i);
        free(l);
}

static void last_diff_done(FirewallPlugin *f) {
        f->plan = nft_plan_free(f->plan);
        f->plan_live = NULL;
        f->use = NULL;
        fw_compiled_done(&f->compiled);
}

/* ---- parse ---------------------------------------------------------------------- */

static int push_name(char ***l, size_t *n, const char *name) {
        char **t = realloc(*l, (*n + 2) * sizeof(char *));

        if (!t)
                return -ENOMEM;
        *l = t;
        t[*n] = strdup(name);
        if (!t[*n])
                return -ENOMEM;
        t[++*n] = NULL;
        return 0;
}

/* The names of the interfaces the state's other sections create: links,
 * bridges, VLANs and macvlans of "interfaces", tunnels of "wireguard". Read as they
 * are: those sections' plugins validate them. */
static int declared_interfaces(const StateDoc *doc, char ***ret) {
        static const struct {
                const char *section, *list;
        } lists[] = {
                { "interfaces", "links" }, { "interfaces", "bridges" }, { "interfaces", "vlans" },
                { "interfaces", "macvlans" },
                { "wireguard", "interfaces" },
        };
        char **names = NULL;
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
                json_object *s = state_doc_section(doc, lists[i].section), *a, *name;

                if (!json_object_is_type(s, json_type_object) || !json_object_object_get_ex(s, lists[i].list, &a) ||
                    !json_object_is_type(a, json_type_array))
                        continue;
                for (size_t k = 0; k < json_object_array_length(a); k++)
                        if (json_object_object_get_ex(json_object_array_get_idx(a, k), "name", &name) &&
                            json_object_is_type(name, json_type_string) &&
                            push_name(&names, &n, json_object_get_string(name)) < 0) {
                                strv_free(names);
                                return -ENOMEM;
                        }
        }
        *ret = names;
        return 0;
}

/* What the library refuses of the compiled table (set elements given
 * twice or overlapping), at the path it comes from. The compiled table is
 * kept in *compiled. */
static int check_compiled(const FwConfig *c, FwCompiled *compiled, Diag *d) {
        NftError err = {};
        int r;

        r = fw_compile(c, NULL, compiled, d);
        if (r < 0)
                return r;
        r = nft_ruleset_check(compiled->ruleset, &err);
        if (r < 0 && r != -ENOMEM)
                diag_error(d, fw_compiled_path(compiled, err.object), "%s: %s", strna(err.detail),
                           strna(err.object));
        nft_error_done(&err);
        return r < 0 ? (r == -ENOMEM ? r : -EINVAL) : 0;
}

/* A section this apply neither has nor changes: absent, or kept from the
 * applied state. */
static bool section_unchanged(const StateDoc *doc, const char *name) {
        return !state_doc_section(doc, name) || state_doc_section_kept(doc, name);
}

static int firewall_parse(Plugin *p, const StateDoc *doc, json_object *section, Diag *d) {
        FirewallPlugin *f = (FirewallPlugin *) p;
        int r;

        last_diff_done(f);
        fw_config_done(&f->want);
        fw_compiled_done(&f->checked);
        f->host_free = false;
        strv_free(f->declared);
        f->declared = NULL;
        json_object_put(f->section);
        f->section = json_object_get(section);
        json_object_put(f->applied);
        f->applied = json_object_get(state_doc_applied_section(doc, "firewall"));
        json_object_put(f->interfaces);
        f->interfaces = json_object_get(state_doc_section(doc, "interfaces"));
        json_object_put(f->wireguard);
        f->wireguard = json_object_get(state_doc_section(doc, "wireguard"));
        /* The section's checks concern the section and the interfaces it
         * names (what the host has is checked at diff): a section kept
         * from the applied state was checked when it was applied, and
         * stays right while this apply changes neither the interfaces nor
         * the wireguard section. */
        if (state_doc_section_kept(doc, "firewall") && section_unchanged(doc, "interfaces") &&
            section_unchanged(doc, "wireguard"))
                return section ? 1 : 0;
        r = fw_parse(&f->want, section, d);
        if (r >= 0)
                r = check_compiled(&f->want, &f->checked, d);
        /* the host's facts reach the compiled rules through port forwards only */
        f->host_free = r >= 0 && f->checked.ruleset && f->want.n_port_forwards == 0;
        if (r >= 0)
                r = declared_interfaces(doc, &f->declared);
        if (r < 0)
                return r == -ENOMEM ? r : -EINVAL;
        f->parsed = true;
        return section ? 1 : 0;
}

/* ---- the record of the last verification ------------------------------------------ */

/* What the table was last seen to be made of, in the state directory:
 * "<boot id> <namespace cookie> <generation> <digest>\n", the digest being
 * that of the section and of what it compiles to (the rules' digests, the
 * chains' hooks and policies, the sets' types and sizes: a build that
 * compiles the same section otherwise is not fooled). The kernel counts the
 * generation up with every transaction in the namespace, so while it is
 * the recorded one the table is still what it was: a re-apply of the same
 * section then reads the generation instead of the table. A cache: lost,
 * stale or unreadable, the table is read. */
#define FW_RECORD "firewall.verified"

static void digest_compiled(const NftRuleset *rs, StrBuf *b) {
        for (size_t t = 0; t < nft_ruleset_n_tables(rs); t++) {
                const NftTable *table = nft_ruleset_table(rs, t);

                strbuf_printf(b, "table %d %s\n", nft_table_family(table), nft_table_name(table));
                for (size_t c = 0; c < nft_table_n_chains(table); c++) {
                        const NftChain *chain = nft_table_chain(table, c);
                        NftChainSpec spec = {};

                        (void) nft_chain_spec(chain, &spec);
                        strbuf_printf(b, "chain %s %s %d %" PRId32 " %d %s\n", nft_chain_name(chain), strna(spec.type),
                                      (int) spec.hook, spec.priority, (int) spec.policy, strna(spec.device));
                        for (size_t r = 0; r < nft_chain_n_rules(chain); r++)
                                strbuf_printf(b, "%s\n", strna(nft_rule_digest(nft_chain_rule(chain, r))));
                }
                for (size_t i = 0; i < nft_table_n_sets(table); i++) {
                        const NftSet *set = nft_table_set(table, i);

                        strbuf_printf(b, "set %s %d %u %zu\n", nft_set_name(set), (int) nft_set_key_type(set),
                                      nft_set_flags(set), nft_set_n_elements(set));
                }
        }
}

static int record_line(FirewallPlugin *f, uint32_t generation, char **ret) {
        _cleanup_(strbuf_done) StrBuf b = {};
        _cleanup_(freep) char *boot = NULL;
        char hex[SHA256_SIZE * 2 + 1];
        uint8_t h[SHA256_SIZE];
        uint64_t cookie;
        size_t len;
        int r;

        r = read_full_file("/proc/sys/kernel/random/boot_id", &boot, &len);
        if (r < 0)
                return r;
        boot[strcspn(boot, "\n ")] = 0;
        r = nft_namespace_cookie(f->nft, &cookie);
        if (r < 0)
                return r;
        strbuf_printf(&b, "%s\n", json_object_to_json_string_ext(f->section, JSON_C_TO_STRING_PLAIN));
        digest_compiled(f->checked.ruleset, &b);
        if (b.error < 0 || !b.s)
                return -ENOMEM;
        sha256(b.s, b.len, h);
        sha256_hex(h, hex);
        hex[sizeof hex - 1] = 0;
        return asprintf(ret, "%s %" PRIx64 " %" PRIu32 " %s\n", boot, cookie, generation, hex) < 0 ? -ENOMEM : 0;
}

static char *record_path(FirewallPlugin *f) {
        char *path;

        return asprintf(&path, "%s/%s", f->plugin.ctx->state_dir, FW_RECORD) < 0 ? NULL : path;
}

/* The table is made of the section being applied, at this generation. */
static void record_verified(FirewallPlugin *f, uint32_t generation) {
        _cleanup_(freep) char *path = record_path(f), *line = NULL;

        if (path && record_line(f, generation, &line) >= 0)
                (void) write_file_replace(path, line, strlen(line), 0600);
}

/* Is the table still what the record says, and that the section being
 * applied, which is the applied state's? */
static bool recorded_unchanged(FirewallPlugin *f) {
        _cleanup_(freep) char *path = NULL, *line = NULL, *stored = NULL;
        uint32_t now;
        size_t len;

        if (!f->host_free || f->plugin.ctx->restoring || !f->applied || !json_object_equal(f->applied, f->section))
                return false;
        path = record_path(f);
        return path && read_full_file(path, &stored, &len) >= 0 && nft_generation(f->nft, &now) >= 0 &&
               record_line(f, now, &line) >= 0 && streq(line, stored);
}

/* ---- query ------------------------------------------------------------------------ */

/* Does the live table hold exactly what section makes? For the section
 * being applied, when it compiles without the host, that is what the
 * diff plans: the plan is kept for it. */
static bool made_from(FirewallPlugin *f, json_object *section) {
        _cleanup_(diag_done) Diag scratch = {};
        _cleanup_(nft_plan_freep) NftPlan *plan = NULL;
        FwConfig c = {};
        FwFacts facts = { .host = &f->host };
        FwCompiled compiled = {};
        uint32_t generation;
        bool same = false;

        if (f->parsed && f->host_free && f->section && json_object_equal(section, f->section)) {
                last_diff_done(f);
                if (nft_plan_new(f->checked.ruleset, f->live, &f->plan, NULL) < 0)
                        return false;
                f->plan_live = f->live;
                f->use = &f->checked;
                if (nft_plan_n_ops(f->plan) > 0 || nft_ruleset_generation(f->live, &generation) < 0)
                        return false;
                record_verified(f, generation);
                return true;
        }
        if (fw_parse(&c, section, &scratch) >= 0 && c.present) {
                (void) fw_check_host(&c, f->declared, &facts, &scratch);
                if (fw_compile(&c, &facts, &compiled, &scratch) >= 0 &&
                    nft_plan_new(compiled.ruleset, f->live, &plan, NULL) >= 0)
                        same = nft_plan_n_ops(plan) == 0;
        }
        plan = nft_plan_free(plan);
        fw_compiled_done(&compiled);
        free(facts.cover);
        fw_config_done(&c);
        return same;
}

static json_object *section_of(json_object *state) {
        json_object *plugins, *section;

        if (json_object_object_get_ex(state, "plugins", &plugins) &&
            json_object_object_get_ex(plugins, "firewall", &section))
                return section;
        return NULL;
}

/* What the table was made from: the applied state's section, or the one
 * of an apply that did not finish (the pending checkpoint). A table that
 * is neither was changed by someone else: the applied state's section
 * puts back what op-router made. */
static int decide_snapshot(FirewallPlugin *f, Diag *d) {
        _cleanup_(json_object_putp) json_object *latest = NULL, *pending = NULL;
        const char *state_dir = f->plugin.ctx->state_dir;
        json_object *applied = f->applied;
        uint64_t generation = 0;

        f->snapshot_decided = true;
        if (!nft_ruleset_find_table(f->live, FW_FAMILY, FW_TABLE)) {
                /* Nothing of the firewall's: a rollback removes what an
                 * apply made; a query shows no section. */
                f->snapshot = f->parsed ? json_object_new_object() : NULL;
                return f->parsed && !f->snapshot ? -ENOMEM : 0;
        }
        if (!f->parsed && checkpoint_latest(state_dir, &generation) >= 0 && generation > 0 &&
            checkpoint_load(state_dir, generation, &latest) >= 0)
                applied = section_of(latest);
        if (applied && made_from(f, applied)) {
                f->snapshot = json_object_get(applied);
                return 0;
        }
        if (checkpoint_load_pending(state_dir, &generation, &pending) >= 0 && section_of(pending) &&
            made_from(f, section_of(pending))) {
                f->snapshot = json_object_get(section_of(pending));
                diag_note(d, "plugins.firewall", "table inet " FW_TABLE " is what an apply that did not finish made "
                          "(generation %" PRIu64 "), not what the applied state makes", generation);
                return 0;
        }
        if (applied) {
                f->snapshot = json_object_get(applied);
                diag_warning(d, "plugins.firewall", "table inet " FW_TABLE " was changed by someone else since "
                             "op-router applied it; what op-router applied is what it shows and puts back");
                return 0;
        }
        f->snapshot_unknown = true;
        diag_warning(d, "plugins.firewall", "table inet " FW_TABLE " was not made from a state op-router stored; "
                     "if this apply fails, its rollback leaves the firewall as it finds it");
        return 0;
}

/* The addresses the interfaces and wireguard sections put on links, added
 * to what the host has: the firewall is applied after those sections, and
 * its zones cover those networks then (read as they are: their plugins
 * validate them). */
static int add_declared_addresses(FirewallPlugin *f) {
        static const struct {
                bool wireguard;
                const char *list;
        } lists[] = { { false, "links" }, { false, "bridges" }, { false, "vlans" }, { false, "macvlans" },
                      { true, "interfaces" } };
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(lists) && r >= 0; i++) {
                json_object *section = lists[i].wireguard ? f->wireguard : f->interfaces;
                json_object *a = json_object_is_type(section, json_type_object) ?
                        json_member_array(section, lists[i].list) : NULL;

                for (size_t k = 0; a && k < json_object_array_length(a) && r >= 0; k++) {
                        json_object *link = json_object_array_get_idx(a, k), *name, *addrs;

                        if (!json_object_object_get_ex(link, "name", &name) ||
                            !json_object_is_type(name, json_type_string) ||
                            !(addrs = json_member_array(link, "addresses")))
                                continue;
                        for (size_t m = 0; m < json_object_array_length(addrs) && r >= 0; m++) {
                                json_object *v = json_object_array_get_idx(addrs, m);

                                if (json_object_is_type(v, json_type_string))
                                        r = fw_host_add_declared(&f->host, json_object_get_string(name),
                                                                 json_object_get_string(v));
                                if (r == -EINVAL)
                                        r = 0;
                        }
                }
        }
        return r;
}

/* The query after a batch the kernel took: is the generation still the
 * one that batch made? Then the table is what the plan makes, and only
 * the interfaces are read again (below). Anything else (someone's
 * transaction since, even in another table; the generation not
 * readable) reads the table again. */
static bool batch_proven(FirewallPlugin *f) {
        uint32_t now;

        if (!f->committed)
                return false;
        f->committed = false;
        return f->host_free && !f->plugin.ctx->restoring && f->live &&
               nft_generation(f->nft, &now) >= 0 && now == f->committed_gen;
}

static int firewall_query(Plugin *p, Diag *d) {
        FirewallPlugin *f = (FirewallPlugin *) p;
        _cleanup_(nft_ruleset_freep) NftRuleset *owned = NULL;
        int r;

        last_diff_done(f);
        f->proven = batch_proven(f);
        if (f->proven) {
                record_verified(f, f->committed_gen);
                goto host;
        }
        f->live = nft_ruleset_free(f->live);
        if (!f->nft) {
                r = nft_context_new(&f->nft);
                if (r < 0) {
                        diag_error(d, "plugins.firewall", "cannot talk to nftables: %s", strerror(-r));
                        return r;
                }
        }
        if (!f->snapshot_decided && recorded_unchanged(f)) {
                /* a re-apply: the table is what the applied state makes */
                f->snapshot_decided = f->proven = true;
                f->snapshot = json_object_get(f->applied);
                goto host;
        }
        r = fw_owned_ruleset(&owned);
        if (r >= 0)
                r = nft_dump(f->nft, owned, &f->live);
        if (r < 0) {
                diag_error(d, "plugins.firewall", "cannot read table inet " FW_TABLE ": %s", strerror(-r));
                return r;
        }
host:
        r = fw_host_query(&f->host);
        if (r >= 0)
                r = add_declared_addresses(f);
        if (r < 0) {
                diag_error(d, "plugins.firewall", "cannot read the interfaces and their addresses: %s", strerror(-r));
                return r;
        }
        if (!f->snapshot_decided && !p->ctx->restoring)
                return decide_snapshot(f, d);
        return 0;
}

/* ---- diff and apply ------------------------------------------------------------------ */

static int firewall_diff(Plugin *p, Plan *plan, Diag *d) {
        FirewallPlugin *f = (FirewallPlugin *) p;
        NftError err = {};
        int r;

        /* planned already, against this dump, by the query's check */
        bool planned = f->plan && f->plan_live == f->live && f->use == &f->checked;

        if (!planned)
                last_diff_done(f);
        free(f->facts.cover);
        f->facts = (FwFacts) { .host = &f->host };
        r = fw_check_host(&f->want, f->declared, &f->facts, d);
        if (r < 0)
                return r == -ENOMEM ? r : -EINVAL;
        if (f->proven) {
                /* the verification of a batch the kernel took, and no
                 * transaction since: the table is what was planned */
                f->proven = false;
                return 0;
        }
        if (planned)
                return fw_plan_actions(f->plan, &f->want, f->live, plan);
        if (f->host_free)
                f->use = &f->checked;
        else {
                r = fw_compile(&f->want, &f->facts, &f->compiled, d);
                if (r < 0)
                        return r == -ENOMEM ? r : -EINVAL;
                f->use = &f->compiled;
        }
        r = nft_plan_new(f->use->ruleset, f->live, &f->plan, &err);
        if (r < 0) {
                if (r != -ENOMEM)
                        diag_error(d, fw_compiled_path(f->use, err.object), "%s: %s", strna(err.detail),
                                   strna(err.object));
                nft_error_done(&err);
                return r == -ENOMEM ? r : -EINVAL;
        }
        f->plan_live = f->live;
        return fw_plan_actions(f->plan, &f->want, f->live, plan);
}

/* The plan as one batch. When the kernel's ruleset changed since the
 * dump (someone else's transaction), the whole batch is refused and
 * nothing applied: read, plan and send again, a few times at most. */
static int firewall_apply(Plugin *p, ApplyCounts *counts, Diag *d) {
        FirewallPlugin *f = (FirewallPlugin *) p;
        NftResult res = {};
        int r;

        f->committed = false;
        for (unsigned attempt = 0;; attempt++) {
                _cleanup_(nft_ruleset_freep) NftRuleset *owned = NULL;

                nft_result_done(&res);
                r = nft_apply(f->nft, f->plan, &res);
                if (r != -ERESTART || attempt >= 3)
                        break;
                f->plan = nft_plan_free(f->plan);
                f->live = nft_ruleset_free(f->live);
                r = fw_owned_ruleset(&owned);
                if (r >= 0)
                        r = nft_dump(f->nft, owned, &f->live);
                if (r >= 0)
                        r = nft_plan_new(f->use->ruleset, f->live, &f->plan, NULL);
                f->plan_live = f->live;
                if (r < 0)
                        break;
        }
        if (r >= 0 && res.messages > 0 && nft_ruleset_generation(f->live, &f->committed_gen) >= 0) {
                /* the kernel counts generations up by one per transaction, skipping 0 */
                f->committed_gen = f->committed_gen + 1 ?: 1;
                f->committed = true;
        }
        if (r >= 0)
                apply_counts_write(counts, COUNT_NFT_MESSAGES, res.messages);
        else if (res.error.object)
                diag_error(d, fw_compiled_path(f->use, res.error.object), "the kernel refused %s: %s%s%s",
                           res.error.object, strerror(-r), res.error.detail ? "; " : "", res.error.detail ?: "");
        nft_result_done(&res);
        return r;
}

static int firewall_live_to_json(Plugin *p, json_object **ret) {
        FirewallPlugin *f = (FirewallPlugin *) p;

        *ret = NULL;
        if (f->snapshot_unknown || !f->snapshot)
                return 0;
        return json_copy(f->snapshot, ret);
}

static void firewall_done(Plugin *p) {
        FirewallPlugin *f = (FirewallPlugin *) p;

        last_diff_done(f);
        fw_config_done(&f->want);
        fw_compiled_done(&f->checked);
        json_object_put(f->section);
        strv_free(f->declared);
        json_object_put(f->applied);
        json_object_put(f->interfaces);
        json_object_put(f->wireguard);
        nft_ruleset_free(f->live);
        nft_context_free(f->nft);
        fw_host_done(&f->host);
        free(f->facts.cover);
        json_object_put(f->snapshot);
}

/* the firewall names interfaces the other sections make */
static const char *const firewall_after[] = { "interfaces", "wireguard", "routes", NULL };

const PluginVTable firewall_plugin_vtable = {
        .name = "firewall",
        .after = firewall_after,
        .object_size = sizeof(FirewallPlugin),
        .parse = firewall_parse,
        .query = firewall_query,
        .diff = firewall_diff,
        .apply = firewall_apply,
        .live_to_json = firewall_live_to_json,
        .done = firewall_done,
};
