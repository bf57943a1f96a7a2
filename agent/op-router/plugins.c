/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "macro.h"
#include "plugins.h"
#include "router.h"

static const PluginVTable *const plugins[] = {
        NULL,
};

const Product oprouter_product = {
        .name = "op-router",
        .plugins = plugins,
        .n_plugins = 0,
        .count_kinds = router_count_kinds,
};
