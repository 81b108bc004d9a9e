/*
 * textplot.h: a chart in plain text, for a terminal or a log: several
 * series of (x, y) points on one grid of characters, each series drawn with
 * its own symbol, with the y axis labelled on the left, the x range below
 * and a legend. Points that fall in one column are averaged, so a long time
 * series fits the width; where two series meet, the later one's symbol
 * shows. Used by `triglav-sim report --series` and `--sweep`.
 */
#ifndef AN_TEXTPLOT_H
#define AN_TEXTPLOT_H

#include <stddef.h>
#include <stdio.h>

struct an_textplot_series {
    const char *name;
    const double *x, *y;  /* n points; a NaN y is a gap */
    size_t n;
    const double *lo, *hi; /* optional (NULL): an interval drawn as ':' above and below */
};

/* Draw the series (at most 16) on a grid `width` x `height` characters
 * (clamped to 20..160 x 5..40). xlabel and ylabel name the axes. */
void an_textplot(FILE *f, const struct an_textplot_series *s, size_t n, const char *xlabel,
                 const char *ylabel, int width, int height);

#endif
