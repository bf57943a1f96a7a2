/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fields and values of the openflow section, checked on op-dbus's own
 * flow model before anything is encoded: each match field and set_field
 * target is one op-dbus knows, with a value that means exactly one thing
 * (a set_field value "1->reg0,output:CONTROLLER" or a match key
 * "nw_src=1,tp_dst" is no value and no field), and with what it needs in
 * the same match: the error names the JSON path, instead of Open vSwitch
 * refusing the flow at apply time. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "json-util.h"
#include "of-fields.h"
#include "pve-id.h"
#include "strbuf.h"

/* A value as text: a string as it is, an integer in decimal. */
static const char *value_text(const OfValue *v, char buf[static 24]) {
        switch (v->type) {
        case OF_VALUE_INT64:
                snprintf(buf, 24, "%" PRId64, v->i64);
                return buf;
        case OF_VALUE_UINT64:
                snprintf(buf, 24, "%" PRIu64, v->u64);
                return buf;
        case OF_VALUE_STRING:
                return v->string;
        default:
                return NULL;
        }
}

/* A template's value with its placeholders replaced by values of their
 * kind, to check it before the real ones are known. */
static char *sample(const char *s) {
        StrBuf b = {};

        while (*s) {
                if (startswith(s, "{container_id}")) {
                        strbuf_puts(&b, "100");
                        s += strlen("{container_id}");
                } else if (startswith(s, "{port_name}")) {
                        strbuf_puts(&b, "port0");
                        s += strlen("{port_name}");
                } else if (startswith(s, "{bridge}")) {
                        strbuf_puts(&b, "br0");
                        s += strlen("{bridge}");
                } else
                        strbuf_putc(&b, *s++);
        }
        return strbuf_take(&b);
}

static char *field_names(bool settable) {
        StrBuf b = {};

        for (const char *const *n = (const char *const[]) {
                     "ip", "ipv6", "icmp", "icmp6", "tcp", "tcp6", "udp", "udp6", "sctp", "sctp6", "arp", "rarp",
                     "in_port", "dl_src", "dl_dst", "dl_type", "dl_vlan", "dl_vlan_pcp", "nw_src", "nw_dst", "nw_proto",
                     "nw_tos", "ip_dscp", "nw_ecn", "nw_ttl", "tp_src", "tp_dst", "tcp_flags", "icmp_type", "icmp_code",
                     "arp_op", "arp_spa", "arp_tpa", "arp_sha", "arp_tha", "ipv6_src", "ipv6_dst", "ipv6_label",
                     "nd_target", "nd_sll", "nd_tll", "metadata", "tun_id", "pkt_mark", "ct_state", "ct_zone", "ct_mark",
                     "reg0", NULL };
             *n; n++) {
                const OfField *f = of_field_find(*n);

                if (!f || (settable && !f->settable))
                        continue;
                if (b.len > 0)
                        strbuf_puts(&b, ", ");
                strbuf_puts(&b, streq(*n, "reg0") ? "reg0..reg15" : *n);
        }
        return strbuf_take(&b);
}

/* Where a match's errors go: at the field of an object; at the match
 * itself for a match string, naming the item. */
typedef struct MatchErr {
        const OfFlowCheck *c;
        Diag *d;
} MatchErr;

_printf_(3, 4)
static void match_error(const MatchErr *e, const OfMatchField *m, const char *fmt, ...) {
        _cleanup_(freep) char *what = NULL, *fp = NULL, *item = NULL;
        char buf[24];
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (r < 0)
                return;
        if (!e->c->match_text) {
                fp = json_path_key(e->c->match_path, m->name);
                diag_error(e->d, fp ?: e->c->match_path, "%s", what);
                return;
        }
        if (m->value.type == OF_VALUE_NONE)
                item = str_quote(m->name);
        else if (asprintf(&fp, "%s=%s", m->name, value_text(&m->value, buf)) >= 0)
                item = str_quote(fp);
        diag_error(e->d, e->c->match_path, "%s in the match %s: %s", item ?: "?", e->c->match_text, what);
}

/* One field: known, given once, a value it takes. */
static const OfField *check_field(const MatchErr *e, const OfMatchField *m, const OfField *const *before, size_t n_before,
                                  OfParsedValue *ret, bool *ret_placeholder) {
        _cleanup_(freep) char *name = NULL, *list = NULL, *shown = NULL, *sampled = NULL;
        const OfField *f = of_field_find(m->name);
        const char *text, *why;
        char buf[24];

        *ret_placeholder = false;
        if (!f) {
                list = field_names(false);
                name = str_quote(m->name);
                match_error(e, m, "%s is not a match field op-dbus knows; it knows %s", name ?: "?", list ?: "?");
                return NULL;
        }
        for (size_t j = 0; j < n_before; j++)
                if (before[j] == f) {
                        match_error(e, m, "%s is given twice in this match; give it once", f->name);
                        return NULL;
                }
        if (f->type == OF_FT_PROTOCOL) {
                if (m->value.type == OF_VALUE_NONE || (m->value.type == OF_VALUE_STRING && !m->value.string[0])) {
                        *ret = (OfParsedValue) {};
                        return f;
                }
                match_error(e, m, "%s names a protocol and takes no value: write %s", f->name,
                            e->c->match_text ? f->name : "\"\" as its value");
                return NULL;
        }
        text = value_text(&m->value, buf);
        if (!text) {
                match_error(e, m, "%s needs a value: write %s=VALUE", f->name, f->name);
                return NULL;
        }
        if (e->c->template && strchr(text, '{')) {
                sampled = sample(text);
                if (!sampled)
                        return NULL;
                *ret_placeholder = true;
        }
        if (of_field_parse(f, sampled ?: text, true, ret, &why))
                return f;
        shown = m->value.type == OF_VALUE_STRING ? str_quote(text) : strdup(text);
        match_error(e, m, "%s is not a valid %s: expected %s", shown ?: "?", f->name, why);
        return NULL;
}

/* Every field of a match, and what they need; ctx gets the protocols it
 * names. A field whose value has no placeholder keeps its parsed value. */
static int check_match(OfMatchField *m, size_t n, const OfFlowCheck *c, OfMatchContext *ctx, Diag *d) {
        MatchErr e = { .c = c, .d = d };
        OfMatch parsed;
        size_t bad;
        int ret = 0;

        if (n > OF_MATCH_MAX) {
                diag_error(d, c->match_path, "%zu fields: a match names at most %d", n, OF_MATCH_MAX);
                return -EINVAL;
        }
        parsed.n = n;
        for (size_t i = 0; i < n; i++) {
                bool placeholder;

                parsed.field[i] = check_field(&e, &m[i], parsed.field, i, &parsed.value[i], &placeholder);
                m[i].field = parsed.field[i];
                m[i].compiled = parsed.field[i] && !placeholder;
                if (m[i].compiled)
                        m[i].parsed = parsed.value[i];
                if (!parsed.field[i])
                        ret = -EINVAL;
        }
        if (of_match_context(parsed.field, parsed.value, n, ctx, &bad) < 0) {
                match_error(&e, &m[bad], "%s contradicts the protocol named before it in this match: "
                            "a flow matches one protocol (give each its own flow)", m[bad].name);
                return -EINVAL;
        }
        if (c->implicit_ip && !ctx->dl_types[0]) {
                ctx->dl_types[0] = 0x0800;
                ctx->dl_types[1] = 0x86dd;
        }
        for (size_t i = 0; i < n; i++) {
                const char *need;

                if (!parsed.field[i] || of_prereq_met(parsed.field[i]->prereq, ctx, &need))
                        continue;
                match_error(&e, &m[i], "%s needs %s in the same match: without it Open vSwitch drops %s "
                            "and the flow matches more than it says", parsed.field[i]->name, need, parsed.field[i]->name);
                ret = -EINVAL;
        }
        return ret;
}

static bool port_ok(const char *s) {
        const char *e;
        uint32_t id;
        uint64_t n = 0;

        if (startswith(s, "container:"))
                return pve_vmid_parse(s + strlen("container:"), &e, &id) && !*e;
        if (*s >= '0' && *s <= '9') {
                for (e = s; *e >= '0' && *e <= '9' && n <= OF_OFPORT_MAX; e++)
                        n = n * 10 + (uint64_t) (*e - '0');
                return !*e && n >= 1 && n <= OF_OFPORT_MAX && !(s[0] == '0');
        }
        return json_check_ifname(s, NULL, NULL);
}

static int check_output(const OfAction *a, const char *ap, const OfFlowCheck *c, Diag *d) {
        _cleanup_(freep) char *pp = NULL, *sampled = NULL, *shown = NULL;

        if (c->template && strchr(a->output.port, '{')) {
                sampled = sample(a->output.port);
                if (!sampled)
                        return -ENOMEM;
        }
        if (port_ok(sampled ?: a->output.port))
                return 0;
        pp = json_path_key(ap, "port");
        shown = str_quote(a->output.port);
        diag_error(d, pp ?: ap, "%s is not a port: expected a port name on the bridge, container:N or an OpenFlow port number 1..%d",
                   shown ?: "?", OF_OFPORT_MAX);
        return -EINVAL;
}

static int check_set_field(OfAction *a, const char *ap, const OfFlowCheck *c, const OfMatchContext *ctx, Diag *d) {
        _cleanup_(freep) char *fp = NULL, *vp = NULL, *list = NULL, *name = NULL, *shown = NULL, *sampled = NULL;
        const OfField *f = of_field_find(a->set_field.field);
        const char *text, *why, *need;
        OfParsedValue v;
        char buf[24];

        if (!f || !f->settable) {
                fp = json_path_key(ap, "field");
                list = field_names(true);
                name = str_quote(a->set_field.field);
                diag_error(d, fp ?: ap, "%s is not a field set_field can write; it writes %s", name ?: "?", list ?: "?");
                return -EINVAL;
        }
        text = value_text(&a->set_field.value, buf);
        if (c->template && strchr(text, '{')) {
                sampled = sample(text);
                if (!sampled)
                        return -ENOMEM;
        }
        if (!of_field_parse(f, sampled ?: text, false, &v, &why)) {
                vp = json_path_key(ap, "value");
                shown = a->set_field.value.type == OF_VALUE_STRING ? str_quote(text) : strdup(text);
                diag_error(d, vp ?: ap, "%s is not a value set_field can write to %s: expected %s", shown ?: "?", f->name, why);
                return -EINVAL;
        }
        if (!of_prereq_met(f->prereq, ctx, &need)) {
                fp = json_path_key(ap, "field");
                diag_error(d, fp ?: ap, "set_field writes %s, which needs %s in the flow's match (Open vSwitch refuses the flow otherwise)",
                           f->name, need);
                return -EINVAL;
        }
        a->set_field.f = f;
        a->set_field.compiled = !sampled;
        if (!sampled)
                a->set_field.parsed = v;
        return 0;
}

int of_flow_check(OfMatchField *m, size_t n_match, OfAction *a, size_t n_actions,
                  const OfFlowCheck *c, Diag *d) {
        OfMatchContext ctx;
        bool match_ok;
        int r, ret;

        ret = check_match(m, n_match, c, &ctx, d);
        if (ret == -ENOMEM)
                return ret;
        match_ok = ret >= 0;
        for (size_t i = 0; i < n_actions; i++) {
                char ap[JSON_PATH_MAX];

                if (a[i].type == OF_ACTION_OUTPUT && a[i].output.port) {
                        of_path(ap, sizeof ap, c->path, "actions", i);
                        r = check_output(&a[i], ap, c, d);
                } else if (a[i].type == OF_ACTION_SET_FIELD && a[i].set_field.field && match_ok) {
                        of_path(ap, sizeof ap, c->path, "actions", i);
                        r = check_set_field(&a[i], ap, c, &ctx, d);
                } else
                        continue;
                if (r == -ENOMEM)
                        return r;
                RET_GATHER(ret, r);
        }
        return ret;
}

int of_match_parse_text(const char *text, const char *path, OfMatchField **ret, size_t *ret_n, Diag *d) {
        _cleanup_(freep) char *shown = NULL;
        int r;

        r = of_match_split(text, ret, ret_n);
        if (r != -EINVAL)
                return r;
        shown = str_quote(text);
        diag_error(d, path, "%s is not a match string: expected fields separated by commas, each NAME=VALUE or a protocol "
                   "such as tcp (e.g. \"tcp,tp_dst=80\")", shown ?: "?");
        return r;
}

int of_field_value_check(const char *name, const char *value, bool masked, const char *path, Diag *d) {
        _cleanup_(freep) char *shown = NULL;
        const OfField *f = of_field_find(name);
        OfParsedValue v;
        const char *why;

        if (!f || of_field_parse(f, value, masked, &v, &why))
                return 0;
        shown = str_quote(value);
        diag_error(d, path, "%s becomes %s here, which is not a valid %s: expected %s", name, shown ?: "?", name, why);
        return -EINVAL;
}
