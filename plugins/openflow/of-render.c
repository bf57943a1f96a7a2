/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The model's matches and actions in ovs-ofctl syntax. Port names are
 * resolved to OpenFlow port numbers here, so the flows do not depend on
 * ovs-ofctl resolving names. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <strings.h>

#include "json-util.h"
#include "lxc.h"
#include "of-engine.h"
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
        if (!lxc_id_parse(name + strlen("container:"), &end, &id) || *end)
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

static void value_render(StrBuf *f, const OfRenderContext *rc, const OfValue *v) {
        _cleanup_(freep) char *s = NULL;

        switch (v->type) {
        case OF_VALUE_INT64:
                strbuf_printf(f, "%" PRId64, v->i64);
                break;
        case OF_VALUE_UINT64:
                strbuf_printf(f, "%" PRIu64, v->u64);
                break;
        case OF_VALUE_STRING:
                s = of_substitute(rc, v->string);
                strbuf_puts(f, s ?: "");
                break;
        }
}

/* OpenFlow's reserved ports, which ovs-ofctl knows without names. */
static bool reserved_port(const char *s) {
        static const char *const names[] = { "LOCAL", "IN_PORT", "ANY", "NONE", "NORMAL", "FLOOD", "ALL",
                                             "CONTROLLER", "TABLE", NULL };

        for (size_t i = 0; names[i]; i++)
                if (strcasecmp(s, names[i]) == 0)
                        return true;
        return false;
}

int of_render_match_string(const OfRenderContext *rc, const char *s, char **ret, Diag *d) {
        _cleanup_(freep) char *text = of_substitute(rc, s), *copy = NULL;
        _cleanup_(strbuf_done) StrBuf f = {};
        char *save = NULL;
        int r = 0;

        if (!text || !(copy = strdup(text)))
                return -ENOMEM;
        if (!strstr(text, "in_port=")) {
                *ret = TAKE_PTR(text);
                return 0;
        }
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                const char *name = startswith(tok, "in_port=") ? tok + strlen("in_port=") : NULL;
                const OfPort *p;
                int64_t no = 0;

                strbuf_puts(&f, f.len ? "," : "");
                if (!name || all_digits(name) || reserved_port(name)) {
                        strbuf_puts(&f, tok);
                        continue;
                }
                RET_GATHER(r, port_number(rc, name, rc->path, &p, &no, d));
                strbuf_printf(&f, "in_port=%" PRId64, no);
        }
        if (r < 0)
                return r;
        *ret = strbuf_take(&f);
        return *ret ? 0 : -ENOMEM;
}

int of_render_match(const OfRenderContext *rc, const OfMatchField *m, size_t n, char **ret, Diag *d) {
        _cleanup_(strbuf_done) StrBuf sb = {};
        StrBuf *f = &sb;
        int r = 0;

        for (size_t i = 0; i < n; i++) {
                strbuf_printf(f, "%s%s=", i ? "," : "", m[i].name);
                if (streq(m[i].name, "in_port") && m[i].value.type == OF_VALUE_STRING) {
                        _cleanup_(freep) char *name = of_substitute(rc, m[i].value.string);
                        const OfPort *p;
                        int64_t no = 0;

                        r = RET_GATHER(r, port_number(rc, name ?: "", rc->path, &p, &no, d));
                        strbuf_printf(f, "%" PRId64, no);
                } else
                        value_render(f, rc, &m[i].value);
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
        case OF_ACTION_SET_FIELD:
                strbuf_puts(f, "set_field:");
                value_render(f, rc, &a->set_field.value);
                strbuf_printf(f, "->%s", a->set_field.field);
                return 0;
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
