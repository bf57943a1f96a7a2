/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "plugin.h"

/* Every plugin built into the host programs. Their order here does not
 * matter: the registry orders them by their declared dependencies. */
extern const PluginVTable *const builtin_plugins[];
extern const size_t n_builtin_plugins;

/* The placeholders the profiles use (terminated by word NULL). */
extern const Placeholder builtin_placeholders[];
