/*
 * plot.h: running gnuplot for a report's SVG figures (analysis/, DESIGN.md
 * §1). gnuplot is optional: when it is not installed, or TG_GNUPLOT=none
 * says not to use it, a report has its tables and a note instead of plots.
 * The script goes to gnuplot's standard input (fork + exec, no shell), data
 * inline as datablocks, so no temporary files are written.
 *
 * Not here: what the plots show (report.c writes the scripts).
 */
#ifndef AN_PLOT_H
#define AN_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Find gnuplot: `program` when not NULL, else $TG_GNUPLOT, else "gnuplot";
 * a name without '/' is looked up in $PATH. "none" (either way) turns
 * plots off. Returns true with the program's path in prog[cap], or false
 * with the reason for people in why[whylen] ("gnuplot is not installed (not
 * found in PATH)", "TG_GNUPLOT=none"). */
bool an_plot_find(const char *program, char *prog, size_t cap, char *why, size_t whylen);

/* Run gnuplot `prog` with `script` on its standard input and wait for it.
 * Returns 0 when it exited with status 0, or -1 (err: how it failed). */
int an_plot_run(const char *prog, const char *script, size_t len, char *err, size_t errlen);

/* Write s to f as a gnuplot single-quoted string ('' for a quote). */
void an_plot_quote(FILE *f, const char *s);

#endif
