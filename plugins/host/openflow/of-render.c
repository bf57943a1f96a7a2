/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The model's matches and actions in ovs-ofctl syntax. Port names are
 * resolved to OpenFlow port numbers here, so the flows do not depend on
 * ovs-ofctl resolving names. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <strings.h>

#include "json-util.h"
#include "of-engine.h"
#include "pve-id.h"
#include "strbuf.h"

char *of_substitute(const OfRenderContext *rc, const char *s) {
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

static int port_number(const OfRenderContext *rc, const char *name, const char *path,
                       const OfPort **ret_port, int64_t *ret, Diag *d) {
        const OfPort *p;

        *ret_port = NULL;
        if (all_digits(name)) {
                *ret = strtoll(name, NULL, 10);
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
        *ret = p->ofport;
        return 0;
}

/* The value as text, placeholders replaced. A value that had one is
 * checked again now that they are: {container_id} of a large id can make
 * an address out of range. */
static char *value_text(const OfRenderContext *rc, const char *field, const OfValue *v, bool masked,
                        const char *path, Diag *d, int *error) {
        char *s = NULL;

        switch (v->type) {
        case OF_VALUE_INT64:
                if (asprintf(&s, "%" PRId64, v->i64) < 0)
                        s = NULL;
                break;
        case OF_VALUE_UINT64:
                if (asprintf(&s, "%" PRIu64, v->u64) < 0)
                        s = NULL;
                break;
        case OF_VALUE_STRING:
                s = of_substitute(rc, v->string);
                if (s && strchr(v->string, '{'))
                        RET_GATHER(*error, of_field_value_check(field, s, masked, path, d));
                break;
        case OF_VALUE_NONE:
                s = strdup("");
                break;
        }
        if (!s)
                RET_GATHER(*error, -ENOMEM);
        return s;
}

/* in_port: a number, LOCAL, or a port of the bridge by name. */
static int render_in_port(StrBuf *f, const OfRenderContext *rc, const OfValue *v, Diag *d) {
        _cleanup_(freep) char *name = NULL;
        const OfPort *p;
        int64_t no = 0;
        int r;

        if (v->type != OF_VALUE_STRING) {
                no = v->type == OF_VALUE_INT64 ? v->i64 : (int64_t) v->u64;
        } else {
                name = of_substitute(rc, v->string);
                if (!name)
                        return -ENOMEM;
                if (streq(name, "LOCAL")) {
                        strbuf_puts(f, name);
                        return 0;
                }
                r = port_number(rc, name, rc->path, &p, &no, d);
                if (r < 0)
                        return r;
        }
        if (rc->subject && no != rc->subject->ofport) {
                diag_error(d, rc->path, "the match names in_port %s, but the policy applies to the port it selects, %s "
                           "(OpenFlow port %" PRId64 "); leave in_port out", name ?: "given", rc->subject->name,
                           rc->subject->ofport);
                return -EINVAL;
        }
        strbuf_printf(f, "%" PRId64, no);
        return 0;
}

int of_render_match(const OfRenderContext *rc, const OfMatchField *m, size_t n, char **ret, Diag *d) {
        _cleanup_(strbuf_done) StrBuf sb = {};
        StrBuf *f = &sb;
        int r = 0;

        for (size_t i = 0; i < n; i++) {
                _cleanup_(freep) char *s = NULL;

                strbuf_printf(f, "%s%s", i ? "," : "", m[i].name);
                if (m[i].value.type == OF_VALUE_NONE)
                        continue;
                strbuf_putc(f, '=');
                if (streq(m[i].name, "in_port")) {
                        RET_GATHER(r, render_in_port(f, rc, &m[i].value, d));
                        continue;
                }
                s = value_text(rc, m[i].name, &m[i].value, true, rc->path, d, &r);
                strbuf_puts(f, s ?: "");
        }
        if (r < 0)
                return r;
        *ret = strbuf_take(f);
        return *ret ? 0 : -ENOMEM;
}

static int render_output(StrBuf *f, const OfRenderContext *rc, const char *port, const char *path, Diag *d) {
        _cleanup_(freep) char *name = of_substitute(rc, port);
        const OfPort *p;
        int64_t no;
        int r;

        r = port_number(rc, name ?: "", path, &p, &no, d);
        if (r < 0)
                return r;
        /* Steering to a container: make its kernel accept the frames. */
        if (p && p->container_id && p->sock && p->sock->has_hwaddr)
                strbuf_printf(f, "mod_dl_dst:%02x:%02x:%02x:%02x:%02x:%02x,", p->sock->hwaddr[0], p->sock->hwaddr[1],
                        p->sock->hwaddr[2], p->sock->hwaddr[3], p->sock->hwaddr[4], p->sock->hwaddr[5]);
        else if (p && p->container_id)
                diag_warning(d, path, "the MAC address of container %" PRIu32 " is not known (set hwaddr on its socket port); "
                             "frames are output to %s unchanged", p->container_id, p->name);
        strbuf_printf(f, "output:%" PRId64, no);
        return 0;
}

static int render_one(StrBuf *f, const OfRenderContext *rc, const OfAction *a, bool in_pipeline,
                      const char *path, Diag *d) {
        switch (a->type) {
        case OF_ACTION_OUTPUT:
                return render_output(f, rc, a->output.port, path, d);
        case OF_ACTION_NORMAL:
                /* In a policy, "normal" continues to the forwarding table,
                 * where level 3 confinement still applies. */
                if (in_pipeline)
                        strbuf_printf(f, "resubmit(,%d)", OF_TABLE_OUT);
                else
                        strbuf_puts(f, "NORMAL");
                return 0;
        case OF_ACTION_RESUBMIT:
                strbuf_printf(f, "resubmit(,%u)", a->resubmit.table);
                return 0;
        case OF_ACTION_SET_FIELD: {
                _cleanup_(freep) char *s = NULL;
                int r = 0;

                s = value_text(rc, a->set_field.field, &a->set_field.value, false, path, d, &r);
                strbuf_printf(f, "set_field:%s->%s", s ?: "", a->set_field.field);
                return r;
        }
        case OF_ACTION_MOD_DL_DST:
                strbuf_printf(f, "mod_dl_dst:%02x:%02x:%02x:%02x:%02x:%02x", a->mod_dl_dst.mac[0], a->mod_dl_dst.mac[1],
                        a->mod_dl_dst.mac[2], a->mod_dl_dst.mac[3], a->mod_dl_dst.mac[4], a->mod_dl_dst.mac[5]);
                return 0;
        case OF_ACTION_CT:
                strbuf_printf(f, "ct(%s", a->ct.commit ? "commit" : "");
                if (a->ct.table >= 0)
                        strbuf_printf(f, "%stable=%d", a->ct.commit ? "," : "", a->ct.table);
                if (a->ct.zone >= 0)
                        strbuf_printf(f, "%szone=%d", a->ct.commit || a->ct.table >= 0 ? "," : "", a->ct.zone);
                strbuf_putc(f, ')');
                return 0;
        case OF_ACTION_LOAD_REGISTER:
                strbuf_printf(f, "load:%" PRIu32 "->NXM_NX_REG%u[]", a->load_register.value, a->load_register.reg);
                return 0;
        case OF_ACTION_CONTROLLER:
                diag_error(d, path, "there is no OpenFlow controller on this host; use normal, output or drop");
                return -EINVAL;
        default:
                return -EINVAL;
        }
}

int of_render_actions(const OfRenderContext *rc, const OfAction *a, size_t n, char **ret, Diag *d) {
        bool in_pipeline = rc->subject != NULL;
        _cleanup_(strbuf_done) StrBuf sb = {};
        StrBuf *f = &sb;
        int r = 0;

        for (size_t i = 0; i < n; i++)
                if (a[i].type == OF_ACTION_DROP)
                        return (*ret = strdup("drop")) ? 0 : -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                char ap[JSON_PATH_MAX];

                snprintf(ap, sizeof ap, "%s.actions[%zu]", rc->path, i);
                if (i > 0)
                        strbuf_putc(f, ',');
                RET_GATHER(r, render_one(f, rc, &a[i], in_pipeline, ap, d));
        }
        if (r < 0)
                return r;
        *ret = strbuf_take(f);
        return *ret ? 0 : -ENOMEM;
}
