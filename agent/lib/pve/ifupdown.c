/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "ifupdown.h"
#include "json-util.h"
#include "macro.h"

bool ifupdown_declares_ovs_bridge(const char *text, const char *bridge) {
        const char *p = text;

        while ((p = strstr(p, "iface "))) {
                const char *name = p + strlen("iface "), *end, *next;
                size_t len = strcspn(name, " \t\n");

                p = name;
                if (len != strlen(bridge) || strncmp(name, bridge, len) != 0)
                        continue;
                next = strstr(name, "\niface ");
                end = next ?: name + strlen(name);
                for (const char *q = strstr(name, "ovs_type"); q && q < end; q = strstr(q + 1, "ovs_type"))
                        if (strncmp(q + strspn(q + 8, " \t") + 8, "OVSBridge", 9) == 0)
                                return true;
        }
        return false;
}

void ifupdown_check_port(const char *interfaces_path, const char *bridge, const char *port,
                         const char *json_path, Diag *d) {
        static const char *const condoned[] = { "tap", "veth", "fwln" };
        _cleanup_(freep) char *text = NULL;

        if (!interfaces_path || !bridge || !port)
                return;
        for (size_t k = 0; k < ELEMENTSOF(condoned); k++)
                if (startswith(port, condoned[k]))
                        return;
        if (read_full_file(interfaces_path, &text, NULL) < 0 || !ifupdown_declares_ovs_bridge(text, bridge))
                return;
        diag_warning(d, json_path, "bridge %s is declared in %s: \"ifreload -a\" (Apply Configuration in the "
                     "Proxmox web UI) deletes its OVS ports unless their names start with tap, veth or fwln, "
                     "so port \"%s\" is removed on every reload (the op-dbus daemon puts it back); "
                     "prefer a bridge op-dbus creates", bridge, interfaces_path, port);
}
