/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Services in containers (lxc-services.c): the files and units of a
 * container's services (see agent/lib/services), put into it once it
 * runs. */

#include <stdbool.h>

#include "diag.h"
#include "lxc-plugin.h"
#include "plan.h"
#include "services.h"

/* At the end of lxc_query: looks into the running containers. */
int lxc_services_query(LxcPlugin *l, Diag *d);
void lxc_services_done(LxcPlugin *l);
/* After the containers' diff: one action per container at
 * container/<id>/services. */
int lxc_services_diff(LxcPlugin *l, Plan *plan, Diag *d);
bool lxc_services_pending(const LxcPlugin *l);
/* Last in an apply, when the containers run and are attached. */
int lxc_services_apply(LxcPlugin *l, Diag *d);
/* What the inspection script printed in a container with the services'
 * files f (out is modified), into s, which it replaces. */
int lxc_services_parse_inspection(char *out, const ServiceFiles *f, LxcServiceLive *s);
LxcServiceLive *lxc_service_live_new(void);
LxcServiceLive *lxc_service_live_free(LxcServiceLive *s);
