/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The model's matches and actions (policy templates, explicit flows) as
 * OpenFlow 1.4: match fields for of-oxm.c, actions as ofp-msg.h encodes
 * them. Port names are resolved to OpenFlow port numbers here. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>

#include "json-util.h"
#include "of-engine.h"
#include "pve-id.h"
#include "strbuf.h"

char *of_substitute(const OfEncodeContext *rc, const char *s) {
        StrBuf f = {};
        char id[16] = "";

        if (!strchr(s, '{'))
                return strdup(s);
        if (rc->subject && rc->subject->container_id)
                snprintf(id, sizeof id, "%" PRIu32, rc->subject->container_id);

        while (*s) {
                if (startswith(s, "{container_id}")) {
                        strbuf_puts(&f, id);
                        s += strlen("{container_id}");
                } else if (startswith(s, "{port_name}")) {
                        strbuf_puts(&f, rc->subject ? rc->subject->name : "");
                        s += strlen("{port_name}");
                } else if (startswith(s, "{bridge}")) {
                        strbuf_puts(&f, rc->bridge);
                        s += strlen("{bridge}");
                } else
                        strbuf_putc(&f, *s++);
        }
        return strbuf_take(&f);
}

static bool all_digits(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!isdigit((unsigned char) *s))
                        return false;
        return true;
}

const OfPort *of_resolve_port(const OfPorts *ports, const char *bridge, const char *name) {
        const char *end;
        uint32_t id;

        if (!startswith(name, "container:"))
                return of_ports_find(ports, bridge, name);
        if (!pve_vmid_parse(name + strlen("container:"), &end, &id) || *end)
                return NULL;
        for (size_t i = 0; i < ports->n; i++) {
                const OfPort *p = &ports->ports[i];

                if (p->container_id == id && p->index == 0 && streq(p->bridge, bridge))
                        return p;
        }
        return NULL;
}

/* A port as a flow names it: a number, LOCAL, IN_PORT (outputs only), or a
 * port of the bridge by name or as container:N. */
static int port_number(const OfEncodeContext *rc, const char *name, bool output, const char *path,
                       const OfPort **ret_port, uint32_t *ret, Diag *d) {
        const OfPort *p;

        *ret_port = NULL;
        if (all_digits(name)) {
                *ret = (uint32_t) strtoul(name, NULL, 10);
                return 0;
        }
        if (streq(name, "LOCAL")) {
                *ret = OFPP_LOCAL;
                return 0;
        }
        if (output && streq(name, "IN_PORT")) {
                *ret = OFPP_IN_PORT;
                return 0;
        }
        p = of_resolve_port(rc->ports, rc->bridge, name);
        if (!p) {
                diag_error(d, path, "port \"%s\" is not on bridge %s", name, rc->bridge);
                return -EINVAL;
        }
        if (p->ofport < 0) {
                diag_error(d, path, "port \"%s\" on bridge %s has no OpenFlow port number", name, rc->bridge);
                return -EINVAL;
        }
        *ret_port = p;
        *ret = (uint32_t) p->ofport;
        return 0;
}

/* in_port: a number, LOCAL, or a port of the bridge by name. */
static int in_port_value(const OfEncodeContext *rc, const OfValue *v, OfParsedValue *ret, Diag *d) {
        _cleanup_(freep) char *name = NULL;
        const OfPort *p;
        uint32_t no = 0;
        int r;

        if (v->type != OF_VALUE_STRING)
                no = (uint32_t) (v->type == OF_VALUE_INT64 ? (uint64_t) v->i64 : v->u64);
        else {
                name = of_substitute(rc, v->string);
                if (!name)
                        return -ENOMEM;
                r = port_number(rc, name, false, rc->path, &p, &no, d);
                if (r < 0)
                        return r;
        }
        if (rc->subject && no != (uint32_t) rc->subject->ofport) {
                diag_error(d, rc->path, "the match names in_port %s, but the policy applies to the port it selects, %s "
                           "(OpenFlow port %" PRId64 "); leave in_port out", name ?: "given", rc->subject->name,
                           rc->subject->ofport);
                return -EINVAL;
        }
        *ret = (OfParsedValue) { .u = no };
        return 0;
}

/* A value of the model as the field takes it, placeholders replaced. A
 * value that had one is checked again now that they are: {container_id}
 * of a large id can make an address out of range. */
static int field_value(const OfEncodeContext *rc, const OfField *f, const OfValue *v, bool masked, const char *path,
                       OfParsedValue *ret, Diag *d) {
        _cleanup_(freep) char *s = NULL, *shown = NULL;
        const char *why;

        switch (v->type) {
        case OF_VALUE_INT64:
        case OF_VALUE_UINT64:
                /* validated: an integer of the field's width */
                *ret = (OfParsedValue) { .u = v->type == OF_VALUE_INT64 ? (uint64_t) v->i64 : v->u64 };
                return 0;
        case OF_VALUE_NONE:
                *ret = (OfParsedValue) {};
                return 0;
        case OF_VALUE_STRING:
                break;
        }
        s = of_substitute(rc, v->string);
        if (!s)
                return -ENOMEM;
        if (of_field_parse(f, s, masked, ret, &why))
                return 0;
        shown = str_quote(s);
        diag_error(d, path, "%s becomes %s here, which is not a valid %s: expected %s", f->name, shown ?: "?", f->name, why);
        return -EINVAL;
}

int of_match_from_model(const OfEncodeContext *rc, const OfMatchField *mf, size_t n, OfMatch *m, Diag *d) {
        int r, ret = 0;

        for (size_t i = 0; i < n; i++) {
                const OfField *f = mf[i].field;
                OfParsedValue v;

                if (!f)
                        return -EINVAL;      /* refused when the state was validated */
                if (f->id == OF_F_IN_PORT)
                        r = in_port_value(rc, &mf[i].value, &v, d);
                else if (mf[i].compiled) {
                        v = mf[i].parsed;
                        r = 0;
                } else
                        r = field_value(rc, f, &mf[i].value, true, rc->path, &v, d);
                if (r >= 0)
                        r = of_match_add(m, f, &v);
                if (r == -ENOMEM)
                        return r;
                RET_GATHER(ret, r);
        }
        return ret;
}

static int encode_output(const OfEncodeContext *rc, const char *port, const char *path, OfpBuf *b, Diag *d) {
        _cleanup_(freep) char *name = of_substitute(rc, port);
        const OfPort *p;
        uint32_t no;
        int r;

        if (!name)
                return -ENOMEM;
        r = port_number(rc, name, true, path, &p, &no, d);
        if (r < 0)
                return r;
        /* Steering to a container: make its kernel accept the frames. */
        if (p && p->container_id && p->sock && p->sock->has_hwaddr)
                ofp_put_set_field(b, OFP_OXM_OF, 3, p->sock->hwaddr, 6);
        else if (p && p->container_id)
                diag_warning(d, path, "the MAC address of container %" PRIu32 " is not known (set hwaddr on its socket port); "
                             "frames are output to %s unchanged", p->container_id, p->name);
        ofp_put_output(b, no);
        return 0;
}

static int encode_set_field(const OfEncodeContext *rc, const OfAction *a, const OfMatchContext *ctx, const char *path,
                            OfpBuf *b, Diag *d) {
        const OfField *f = a->set_field.f;
        uint8_t value[16];
        uint16_t oxm_class;
        OfParsedValue v;
        uint8_t field;
        size_t len;
        int r;

        if (!f)
                return -EINVAL;      /* refused when the state was validated */
        if (a->set_field.compiled)
                v = a->set_field.parsed;
        else if ((r = field_value(rc, f, &a->set_field.value, false, path, &v, d)) < 0)
                return r;
        of_field_set_oxm(f, ctx, &oxm_class, &field, &len);
        of_field_value_bytes(&v, len, value);
        ofp_put_set_field(b, oxm_class, field, value, len);
        return 0;
}

static int encode_one(const OfEncodeContext *rc, const OfAction *a, const OfMatchContext *ctx, const char *path,
                      OfpBuf *b, Diag *d) {
        switch (a->type) {
        case OF_ACTION_OUTPUT:
                return encode_output(rc, a->output.port, path, b, d);
        case OF_ACTION_NORMAL:
                /* In a policy, "normal" continues to the forwarding table,
                 * where level 3 confinement still applies. */
                if (rc->subject)
                        ofp_put_resubmit(b, OF_TABLE_OUT);
                else
                        ofp_put_output(b, OFPP_NORMAL);
                return 0;
        case OF_ACTION_RESUBMIT:
                ofp_put_resubmit(b, a->resubmit.table);
                return 0;
        case OF_ACTION_SET_FIELD:
                return encode_set_field(rc, a, ctx, path, b, d);
        case OF_ACTION_MOD_DL_DST:
                ofp_put_set_field(b, OFP_OXM_OF, 3, a->mod_dl_dst.mac, 6);
                return 0;
        case OF_ACTION_CT:
                ofp_put_ct(b, a->ct.commit, (uint16_t) MAX(a->ct.zone, 0), a->ct.table);
                return 0;
        case OF_ACTION_LOAD_REGISTER:
                ofp_put_reg_load(b, OF_NXM_REG(a->load_register.reg), 0, 32, a->load_register.value);
                return 0;
        case OF_ACTION_CONTROLLER:
                diag_error(d, path, "there is no OpenFlow controller on this host; use normal, output or drop");
                return -EINVAL;
        default:
                return -EINVAL;
        }
}

int of_actions_encode(const OfEncodeContext *rc, const OfAction *a, size_t n, const OfMatch *m, OfpBuf *b, Diag *d) {
        OfMatchContext ctx;
        size_t bad;
        int r = 0;

        for (size_t i = 0; i < n; i++)
                if (a[i].type == OF_ACTION_DROP)
                        return 0;    /* no actions */
        if (of_match_context(m->field, m->value, m->n, &ctx, &bad) < 0)
                return -EINVAL;      /* the match was refused already */

        for (size_t i = 0; i < n; i++) {
                char ap[JSON_PATH_MAX];

                of_path(ap, sizeof ap, rc->path, "actions", i);
                RET_GATHER(r, encode_one(rc, &a[i], &ctx, ap, b, d));
        }
        return r < 0 ? r : b->error;
}
