/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "ovs-netns.h"

void ovs_netdevs_done(OvsNetdevs *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->names[i]);
        free(l->names);
        *l = (OvsNetdevs) {};
}

bool ovs_netdevs_has(const OvsNetdevs *l, const char *name) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->names[i], name))
                        return true;
        return false;
}

/* The pid of the running ovs-vswitchd, or 0. */
static long vswitchd_pid(const char *ovs_rundir) {
        char path[4096], comm[32] = "";
        long pid = 0;
        FILE *f;

        if (!ovs_rundir || snprintf(path, sizeof path, "%s/ovs-vswitchd.pid", ovs_rundir) >= (int) sizeof path)
                return 0;
        f = fopen(path, "re");
        if (!f)
                return 0;
        if (fscanf(f, "%ld", &pid) != 1)
                pid = 0;
        fclose(f);
        if (pid <= 0)
                return 0;
        /* a pid file left behind may name another process by now */
        snprintf(path, sizeof path, "/proc/%ld/comm", pid);
        f = fopen(path, "re");
        if (!f)
                return 0;
        if (!fgets(comm, sizeof comm, f))
                comm[0] = 0;
        fclose(f);
        return startswith(comm, "ovs-vswitchd") ? pid : 0;
}

static int cmp_name(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int ovs_netdevs_read(const char *ovs_rundir, OvsNetdevs *ret) {
        _cleanup_(ovs_netdevs_done) OvsNetdevs l = {};
        _cleanup_(freep) char *line = NULL;
        long pid = vswitchd_pid(ovs_rundir);
        size_t size = 0, allocated = 0;
        char path[64];
        FILE *f;
        int r = 0;

        if (pid > 0)
                snprintf(path, sizeof path, "/proc/%ld/net/dev", pid);
        else
                snprintf(path, sizeof path, "/proc/self/net/dev");
        f = fopen(path, "re");
        if (!f)
                return -errno;
        /* two header lines, then "  name: counters..." */
        for (unsigned n = 0; getline(&line, &size, f) >= 0; n++) {
                char *name = line + strspn(line, " "), *colon = strchr(name, ':');

                if (n < 2 || !colon)
                        continue;
                *colon = 0;
                if (l.n == allocated) {
                        char **t = reallocarray(l.names, allocated * 2 + 8, sizeof(char *));

                        if (!t) {
                                r = -ENOMEM;
                                break;
                        }
                        l.names = t;
                        allocated = allocated * 2 + 8;
                }
                if (!(l.names[l.n] = strdup(name))) {
                        r = -ENOMEM;
                        break;
                }
                l.n++;
        }
        fclose(f);
        if (r < 0)
                return r;
        if (l.n > 0)
                qsort(l.names, l.n, sizeof(char *), cmp_name);
        *ret = l;
        l = (OvsNetdevs) {};
        return 0;
}
