/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "reconcile.h"

/* op-router, the router agent: its plugins. The command line, the tests
 * and the fuzzers all set up their reconcilers from this one description. */
extern const Product oprouter_product;
