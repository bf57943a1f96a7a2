/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

typedef struct Profile {
        const char *name;   /* file name without .json */
        const char *json;   /* the document */
} Profile;

/* Terminated by an entry with name NULL. */
extern const Profile builtin_profiles[];
