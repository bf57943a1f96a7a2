/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The mechanics of --help and help [COMMAND]: one table of a program's
 * commands (its docs list the same; the tests compare). */
#include <stdio.h>

#include "cli.h"
#include "log.h"

static const CliVerbHelp *find_verb(const CliVerbHelp *verbs, size_t n, const char *verb) {
        for (size_t i = 0; i < n; i++)
                if (streq(verbs[i].verb, verb))
                        return &verbs[i];
        return NULL;
}

static void print_summary(const CliVerbHelp *v) {
        fputs(v->summary, stdout);
        if (v->summary_more)
                v->summary_more();
}

static void print_entry(const CliVerbHelp *v) {
        int width = (int) (strlen(v->verb) + (v->usage[0] ? 1 + strlen(v->usage) : 0));

        printf("  %s%s%s", v->verb, v->usage[0] ? " " : "", v->usage);
        if (width <= 30)
                printf("%*s", 31 - width, "");
        else
                printf("\n%33s", "");
        print_summary(v);
        putchar('\n');
}

void cli_help_commands(const CliVerbHelp *verbs, size_t n) {
        for (size_t i = 0; i < n; i++)
                print_entry(&verbs[i]);
}

int cli_verb_help(const char *program, const char *docs, const CliVerbHelp *verbs, size_t n, const char *verb,
                  void (*help)(void)) {
        const CliVerbHelp *v;

        if (!verb) {
                help();
                return EXIT_OK;
        }
        v = find_verb(verbs, n, verb);
        if (!v) {
                log_error("help: unknown command \"%s\"; '%s help' lists them.", verb, program);
                return EXIT_INVALID;
        }
        printf("Usage: %s [OPTIONS] %s%s%s\n\n", program, v->verb, v->usage[0] ? " " : "", v->usage);
        print_summary(v);
        printf(".\n\n%s\n\nThe options of '%s --help' apply; 'man %s' and %s have the details.\n", v->details, program,
               program, docs);
        return EXIT_OK;
}
