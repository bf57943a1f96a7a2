/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Socket networking: instead of a veth from Proxmox, the container gets an
 * OVS internal port (network.port_name on network.bridge) moved into its
 * network namespace after every start. The netlink part is not in this
 * build: both hooks refuse, so a plan that needs them is refused before
 * anything is changed. */
#include <inttypes.h>

#include "json-util.h"
#include "lxc.h"

int lxc_socket_check(const PluginContext *ctx, const LxcContainer *c, Diag *d) {
        _cleanup_(freep) char *p = json_path_key(c->path, "network.socket_networking");

        diag_error(d, p ?: c->path, "socket networking (an OVS internal port moved into container %" PRIu32 ") "
                   "is not available in this build yet; attach the container with a veth (\"veth\": true) instead",
                   c->id);
        return -EOPNOTSUPP;
}

int lxc_socket_attach(const PluginContext *ctx, const LxcContainer *c, pid_t pid, Diag *d) {
        diag_error(d, c->path, "cannot attach container %" PRIu32 " (pid %d) through socket networking: "
                   "not available in this build yet", c->id, (int) pid);
        return -EOPNOTSUPP;
}
