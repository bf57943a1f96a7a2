/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "reconcile.h"

/* op-dbus, the Proxmox VE host agent: its plugins (net, lxc, openflow,
 * netmaker) and the placeholders of its profiles. The CLI, the daemon, the
 * tests and the fuzzers all set up their reconcilers from this one
 * description. */
extern const Product opdbus_product;
