/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The view of op-dbus show (show.h) as text and as Graphviz source. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "show.h"
#include "strbuf.h"

#define OFPORT_LOCAL 65534


static int64_t num(json_object *o, const char *key) {
        return json_object_get_int64(show_member(o, key));
}


static json_object *at(json_object *a, size_t i) {
        return json_object_array_get_idx(a, i);
}

static json_object *find_container(json_object *view, int64_t id) {
        json_object *list = show_member(view, "containers");

        for (size_t i = 0; i < show_len(list); i++)
                if (num(at(list, i), "id") == id)
                        return at(list, i);
        return NULL;
}

static void ofport_text(json_object *port, char *buf, size_t n) {
        if (!show_member(port, "ofport"))
                snprintf(buf, n, "no ofport");
        else if (num(port, "ofport") == OFPORT_LOCAL)
                snprintf(buf, n, "ofport LOCAL");
        else
                snprintf(buf, n, "ofport %" PRId64, num(port, "ofport"));
}

/* ---- text ---------------------------------------------------------------------- */

static void text_port(json_object *view, json_object *p, FILE *f) {
        json_object *c;
        char ofport[32];

        ofport_text(p, ofport, sizeof ofport);
        fprintf(f, "        Port %s: %s, %s", show_string(p, "name"), show_string(p, "type"), ofport);
        if (show_member(p, "tag"))
                fprintf(f, ", tag %" PRId64, num(p, "tag"));
        if (show_string(p, "owner"))
                fprintf(f, ", owner %s", show_string(p, "owner"));
        fputc('\n', f);
        if (!show_member(p, "container"))
                return;
        c = find_container(view, num(p, "container"));
        fprintf(f, "            Container %" PRId64, num(p, "container"));
        if (c)
                fprintf(f, " %s (%s)", show_string(c, "name") ?: "(no name)", show_string(c, "state") ?: "state unknown");
        else
                fputs(" (not op-dbus's)", f);
        if (show_string(p, "container_interface"))
                fprintf(f, ", %s inside", show_string(p, "container_interface"));
        fputc('\n', f);
}

static void text_pipeline(json_object *b, FILE *f) {
        json_object *pl = show_member(b, "pipeline"), *tables = show_member(pl, "tables"), *s = show_member(b, "steering");

        if (!pl)
                return;
        if (show_len(s) > 0)
                fputs("        Steering (flow policies):\n", f);
        for (size_t i = 0; i < show_len(s); i++) {
                json_object *e = at(s, i);

                fprintf(f, "            %s: %s -> %s, table %" PRId64 ", %" PRId64 " packet%s\n", show_string(e, "policy"),
                        show_string(e, "from") ?: "?", show_string(e, "to"), num(e, "table"), num(e, "packets"),
                        num(e, "packets") == 1 ? "" : "s");
        }
        fprintf(f, "        Pipeline (security flows %s, level %" PRId64 "):\n",
                json_object_get_boolean(show_member(pl, "security_flows")) ? "on" : "off", num(pl, "obfuscation_level"));
        fprintf(f, "            %-5s %-14s %6s %12s %12s\n", "TABLE", "NAME", "FLOWS", "PACKETS", "DROPPED");
        for (size_t i = 0; i < show_len(tables); i++) {
                json_object *t = at(tables, i);
                char drops[24] = "-";

                if (num(t, "drop_flows") > 0)
                        snprintf(drops, sizeof drops, "%" PRId64, num(t, "drops"));
                fprintf(f, "            %-5" PRId64 " %-14s %6" PRId64 " %12" PRId64 " %12s\n", num(t, "table"),
                        show_string(t, "name"), num(t, "flows"), num(t, "packets"), drops);
        }
}

void show_render_text(json_object *view, FILE *f) {
        json_object *bridges = show_member(view, "bridges"), *containers = show_member(view, "containers");
        json_object *notes = show_member(view, "notes");
        bool socket_heading = false;

        if (num(view, "generation") > 0)
                fprintf(f, "Applied generation %" PRId64 "\n", num(view, "generation"));
        else
                fputs("No state applied\n", f);
        for (size_t i = 0; i < show_len(bridges); i++) {
                json_object *b = at(bridges, i), *ports = show_member(b, "ports");

                fprintf(f, "    Bridge %s: datapath %s, fail_mode %s", show_string(b, "name"),
                        show_string(b, "datapath_type"), show_string(b, "fail_mode"));
                if (show_string(b, "owner"))
                        fprintf(f, ", owner %s", show_string(b, "owner"));
                fputc('\n', f);
                for (size_t j = 0; j < show_len(ports); j++)
                        text_port(view, at(ports, j), f);
                text_pipeline(b, f);
        }
        if (show_len(bridges) == 0)
                fputs("    No bridges\n", f);

        fputs("    Containers:\n", f);
        for (size_t i = 0; i < show_len(containers); i++) {
                json_object *c = at(containers, i);

                fprintf(f, "        %" PRId64 " %s: %s", num(c, "id"), show_string(c, "name") ?: "(no name)",
                        show_string(c, "state") ?: "state unknown");
                if (show_string(c, "bridge"))
                        fprintf(f, ", on %s", show_string(c, "bridge"));
                if (show_string(c, "port"))
                        fprintf(f, " port %s", show_string(c, "port"));
                fputc('\n', f);
        }
        if (show_len(containers) == 0)
                fputs("        none of op-dbus's\n", f);

        for (size_t i = 0; i < show_len(containers); i++) {
                json_object *c = at(containers, i);

                if (!json_object_get_boolean(show_member(c, "socket_networking")))
                        continue;
                if (!socket_heading)
                        fputs("    Socket ports:\n", f);
                socket_heading = true;
                fprintf(f, "        %s on %s: eth0 of container %" PRId64 "\n", show_string(c, "port") ?: "?",
                        show_string(c, "bridge") ?: "?", num(c, "id"));
        }
        for (size_t i = 0; i < show_len(notes); i++)
                fprintf(f, "Note: %s\n", json_object_get_string(at(notes, i)));
}

/* ---- Graphviz ---------------------------------------------------------------- */

/* s between double quotes, with what DOT would read otherwise escaped. */
static void quote(StrBuf *b, const char *s) {
        strbuf_putc(b, '"');
        for (; s && *s; s++) {
                if (*s == '"' || *s == '\\')
                        strbuf_putc(b, '\\');
                strbuf_putc(b, *s);
        }
        strbuf_putc(b, '"');
}

static void quotef(StrBuf *b, const char *fmt, ...) _printf_(2, 3);
static void quotef(StrBuf *b, const char *fmt, ...) {
        _cleanup_(freep) char *s = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                b->error = -ENOMEM;
        else
                quote(b, s);
}

/* A label: its lines are joined by DOT's \n, each escaped. */
static void label(StrBuf *b, const char *line1, const char *line2) {
        StrBuf l = {};

        strbuf_puts(&l, line1);
        if (line2) {
                strbuf_putc(&l, '\x01');
                strbuf_puts(&l, line2);
        }
        if (l.error) {
                b->error = l.error;
                return;
        }
        strbuf_putc(b, '"');
        for (const char *s = l.s; s && *s; s++) {
                if (*s == '\x01') {
                        strbuf_puts(b, "\\n");
                        continue;
                }
                if (*s == '"' || *s == '\\')
                        strbuf_putc(b, '\\');
                strbuf_putc(b, *s);
        }
        strbuf_putc(b, '"');
        strbuf_done(&l);
}

static void dot_port(StrBuf *b, json_object *br, json_object *p) {
        char ofport[32], *line = NULL;

        ofport_text(p, ofport, sizeof ofport);
        if (asprintf(&line, "%s, %s", show_string(p, "type"), ofport) < 0) {
                b->error = -ENOMEM;
                return;
        }
        strbuf_puts(b, "    ");
        quotef(b, "port/%s/%s", show_string(br, "name"), show_string(p, "name"));
        strbuf_puts(b, " [shape=box, style=rounded, label=");
        label(b, show_string(p, "name"), line);
        strbuf_puts(b, "];\n    ");
        quotef(b, "bridge/%s", show_string(br, "name"));
        strbuf_puts(b, " -> ");
        quotef(b, "port/%s/%s", show_string(br, "name"), show_string(p, "name"));
        strbuf_puts(b, " [dir=none];\n");
        free(line);
}

/* The tables of op-dbus's pipeline on a bridge, one under the other in a
 * column of their own (the same rank of the left-to-right graph), each
 * with its counters, tinted when it dropped packets. The edges between
 * them are drawn from the next table back to the one before, so that dot
 * puts the first table on top. */
static void dot_pipeline(StrBuf *b, json_object *br) {
        json_object *pl = show_member(br, "pipeline"), *tables = show_member(pl, "tables");
        const char *name = show_string(br, "name");

        if (!pl)
                return;
        strbuf_puts(b, "  subgraph ");
        quotef(b, "cluster_pipeline/%s", name);
        strbuf_puts(b, " {\n    label=");
        quotef(b, "%s: op-dbus's pipeline, security level %" PRId64, name, num(pl, "obfuscation_level"));
        strbuf_puts(b, ";\n    style=dashed;\n    { rank=same;\n");
        for (size_t i = 0; i < show_len(tables); i++) {
                json_object *t = at(tables, i);
                _cleanup_(freep) char *head = NULL, *counts = NULL;
                int n;

                n = asprintf(&head, "table %" PRId64 " %s", num(t, "table"), show_string(t, "name"));
                if (n >= 0)
                        n = num(t, "drop_flows") > 0 ?
                                asprintf(&counts, "%" PRId64 " flows, %" PRId64 " packets, %" PRId64 " dropped",
                                         num(t, "flows"), num(t, "packets"), num(t, "drops")) :
                                asprintf(&counts, "%" PRId64 " flows, %" PRId64 " packets", num(t, "flows"),
                                         num(t, "packets"));
                if (n < 0) {
                        b->error = -ENOMEM;
                        return;
                }
                strbuf_puts(b, "      ");
                quotef(b, "table/%s/%" PRId64, name, num(t, "table"));
                strbuf_puts(b, " [shape=box, style=filled, fillcolor=");
                strbuf_puts(b, num(t, "drops") > 0 ? "mistyrose" : "aliceblue");
                strbuf_puts(b, ", label=");
                label(b, head, counts);
                strbuf_puts(b, "];\n");
        }
        strbuf_puts(b, "    }\n");
        for (size_t i = 1; i < show_len(tables); i++) {
                strbuf_puts(b, "    ");
                quotef(b, "table/%s/%" PRId64, name, num(at(tables, i), "table"));
                strbuf_puts(b, " -> ");
                quotef(b, "table/%s/%" PRId64, name, num(at(tables, i - 1), "table"));
                strbuf_puts(b, " [dir=back];\n");
        }
        strbuf_puts(b, "  }\n");
}

/* The node a steering policy sends to: a port of the bridge, or NORMAL,
 * drop or a table, drawn as a node of their own. */
static void dot_target(StrBuf *b, json_object *br, const char *to, bool declare) {
        const char *name = show_string(br, "name");
        json_object *ports = show_member(br, "ports");

        for (size_t i = 0; i < show_len(ports); i++)
                if (streq_ptr(show_string(at(ports, i), "name"), to)) {
                        if (!declare)
                                quotef(b, "port/%s/%s", name, to);
                        return;
                }
        if (declare)
                strbuf_puts(b, "  ");
        quotef(b, "target/%s/%s", name, to);
        if (declare) {
                strbuf_puts(b, " [shape=doubleoctagon, label=");
                label(b, to, NULL);
                strbuf_puts(b, "];\n");
        }
}

static void dot_steering(StrBuf *b, json_object *br) {
        json_object *s = show_member(br, "steering");

        for (size_t i = 0; i < show_len(s); i++) {
                json_object *e = at(s, i);
                _cleanup_(freep) char *packets = NULL;

                if (!show_string(e, "from"))
                        continue;
                if (asprintf(&packets, "%" PRId64 " packet%s", num(e, "packets"), num(e, "packets") == 1 ? "" : "s") < 0) {
                        b->error = -ENOMEM;
                        return;
                }
                dot_target(b, br, show_string(e, "to"), true);
                strbuf_puts(b, "  ");
                quotef(b, "port/%s/%s", show_string(br, "name"), show_string(e, "from"));
                strbuf_puts(b, " -> ");
                dot_target(b, br, show_string(e, "to"), false);
                strbuf_puts(b, " [color=firebrick, fontcolor=firebrick, penwidth=2, label=");
                label(b, show_string(e, "policy"), packets);
                strbuf_puts(b, "];\n");
        }
}

static void dot_container(StrBuf *b, json_object *view, int64_t id) {
        json_object *c = find_container(view, id);
        _cleanup_(freep) char *head = NULL;

        if (asprintf(&head, "container %" PRId64 " %s", id, c ? show_string(c, "name") ?: "" : "") < 0) {
                b->error = -ENOMEM;
                return;
        }
        strbuf_puts(b, "  ");
        quotef(b, "container/%" PRId64, id);
        strbuf_puts(b, " [shape=component, style=filled, fillcolor=");
        strbuf_puts(b, !c ? "white" : streq_ptr(show_string(c, "state"), "running") ? "palegreen" : "lightgrey");
        strbuf_puts(b, ", label=");
        label(b, head, c ? show_string(c, "state") ?: "state unknown" : "not op-dbus's");
        strbuf_puts(b, "];\n");
}

/* Every container once: op-dbus's, then those that ports name. */
static void dot_containers(StrBuf *b, json_object *view) {
        json_object *containers = show_member(view, "containers"), *bridges = show_member(view, "bridges");

        for (size_t i = 0; i < show_len(containers); i++)
                dot_container(b, view, num(at(containers, i), "id"));
        for (size_t i = 0; i < show_len(bridges); i++) {
                json_object *ports = show_member(at(bridges, i), "ports");

                for (size_t j = 0; j < show_len(ports); j++) {
                        json_object *p = at(ports, j);

                        if (!show_member(p, "container"))
                                continue;
                        if (!find_container(view, num(p, "container")))
                                dot_container(b, view, num(p, "container"));
                        strbuf_puts(b, "  ");
                        quotef(b, "port/%s/%s", show_string(at(bridges, i), "name"), show_string(p, "name"));
                        strbuf_puts(b, " -> ");
                        quotef(b, "container/%" PRId64, num(p, "container"));
                        strbuf_puts(b, " [dir=none, style=dashed, label=");
                        label(b, show_string(p, "container_interface") ?: "", NULL);
                        strbuf_puts(b, "];\n");
                }
        }
}

/* Invisible edges from every other node of bridge br (its ports, the
 * containers they serve, the targets of its steering) to its first table:
 * dot puts the pipeline in a column to the right of them. */
static void dot_pipeline_aside(StrBuf *b, json_object *br) {
        json_object *tables = show_member(show_member(br, "pipeline"), "tables");
        json_object *ports = show_member(br, "ports"), *s = show_member(br, "steering");
        const char *name = show_string(br, "name");
        StrBuf first = {};

        if (show_len(tables) == 0)
                return;
        strbuf_puts(&first, " -> ");
        quotef(&first, "table/%s/%" PRId64, name, num(at(tables, 0), "table"));
        strbuf_puts(&first, " [style=invis];\n");
        for (size_t i = 0; i < show_len(ports) && !first.error; i++) {
                json_object *p = at(ports, i);

                strbuf_puts(b, "  ");
                quotef(b, "port/%s/%s", name, show_string(p, "name"));
                strbuf_puts(b, first.s);
                if (!show_member(p, "container"))
                        continue;
                strbuf_puts(b, "  ");
                quotef(b, "container/%" PRId64, num(p, "container"));
                strbuf_puts(b, first.s);
        }
        for (size_t i = 0; i < show_len(s) && !first.error; i++) {
                strbuf_puts(b, "  ");
                dot_target(b, br, show_string(at(s, i), "to"), false);
                strbuf_puts(b, first.s);
        }
        if (first.error)
                b->error = first.error;
        strbuf_done(&first);
}

char *show_render_dot(json_object *view) {
        json_object *bridges = show_member(view, "bridges");
        StrBuf b = {};

        strbuf_puts(&b, "digraph \"op-dbus\" {\n"
                        "  graph [rankdir=LR, fontname=\"sans-serif\", labelloc=t, label=");
        if (num(view, "generation") > 0)
                quotef(&b, "op-dbus show: applied generation %" PRId64, num(view, "generation"));
        else
                quote(&b, "op-dbus show: no state applied");
        strbuf_puts(&b, "];\n"
                        "  node [fontname=\"sans-serif\", fontsize=10];\n"
                        "  edge [fontname=\"sans-serif\", fontsize=9];\n");
        for (size_t i = 0; i < show_len(bridges); i++) {
                json_object *br = at(bridges, i), *ports = show_member(br, "ports");
                _cleanup_(freep) char *line = NULL;

                if (asprintf(&line, "datapath %s, fail_mode %s", show_string(br, "datapath_type"),
                             show_string(br, "fail_mode")) < 0)
                        b.error = -ENOMEM;
                strbuf_puts(&b, "  subgraph ");
                quotef(&b, "cluster_bridge/%s", show_string(br, "name"));
                strbuf_puts(&b, " {\n    label=");
                quotef(&b, "bridge %s", show_string(br, "name"));
                strbuf_puts(&b, ";\n    ");
                quotef(&b, "bridge/%s", show_string(br, "name"));
                strbuf_puts(&b, " [shape=box3d, style=filled, fillcolor=lightyellow, label=");
                label(&b, show_string(br, "name"), line);
                strbuf_puts(&b, "];\n");
                for (size_t j = 0; j < show_len(ports); j++)
                        dot_port(&b, br, at(ports, j));
                strbuf_puts(&b, "  }\n");
                dot_steering(&b, br);
                dot_pipeline(&b, br);
        }
        dot_containers(&b, view);
        for (size_t i = 0; i < show_len(bridges); i++)
                dot_pipeline_aside(&b, at(bridges, i));
        strbuf_puts(&b, "}\n");
        return strbuf_take(&b);
}
