/* cli.c: see cli.h. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *sim_cmd_name = "triglav-sim";

int sim_usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", sim_cmd_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help'.\n", sim_cmd_name);
    return 2;
}

int sim_opt_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        sim_usage_error("%s: missing value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}
