/*
 * textplot.c: charts in plain text (textplot.h).
 */
#include "textplot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SERIES 16
static const char symbols[MAX_SERIES] = "o+x*#@%&=~^$vABC";

/* A number in at most 9 characters. */
static void fmt(char *o, size_t cap, double v)
{
    double a = fabs(v);
    if (a != 0 && (a >= 1e6 || a < 1e-3))
        snprintf(o, cap, "%.2e", v);
    else if (a >= 1000)
        snprintf(o, cap, "%.0f", v);
    else if (a >= 10)
        snprintf(o, cap, "%.1f", v);
    else
        snprintf(o, cap, "%.3g", v);
}

void an_textplot(FILE *f, const struct an_textplot_series *s, size_t n, const char *xlabel,
                 const char *ylabel, int width, int height)
{
    int w = width < 20 ? 20 : width > 160 ? 160 : width;
    int h = height < 5 ? 5 : height > 40 ? 40 : height;
    if (n > MAX_SERIES)
        n = MAX_SERIES;
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < s[k].n; i++) {
            double x = s[k].x[i], y = s[k].y[i];
            if (!isfinite(x) || !isfinite(y))
                continue;
            xmin = fmin(xmin, x);
            xmax = fmax(xmax, x);
            double lo = s[k].lo && isfinite(s[k].lo[i]) ? s[k].lo[i] : y;
            double hi = s[k].hi && isfinite(s[k].hi[i]) ? s[k].hi[i] : y;
            ymin = fmin(ymin, fmin(y, lo));
            ymax = fmax(ymax, fmax(y, hi));
        }
    if (!isfinite(xmin) || !isfinite(ymin)) {
        fprintf(f, "  (nothing to draw: no values)\n");
        return;
    }
    if (ymin > 0 && ymin < ymax * 0.5)
        ymin = 0; /* from 0 when the data come near it anyway */
    if (ymax - ymin < 1e-12) {
        ymax = ymin + (ymin != 0 ? fabs(ymin) * 0.1 : 1);
        ymin -= ymin != 0 ? fabs(ymin) * 0.1 : 0;
    }
    if (xmax - xmin < 1e-12)
        xmax = xmin + 1;
    char *grid = malloc((size_t)w * (size_t)h);
    double *sum = malloc((size_t)w * sizeof *sum);
    double *lo = malloc((size_t)w * sizeof *lo), *hi = malloc((size_t)w * sizeof *hi);
    size_t *cnt = malloc((size_t)w * sizeof *cnt);
    if (!grid || !sum || !lo || !hi || !cnt) {
        fprintf(f, "  (out of memory for the chart)\n");
        goto out;
    }
    memset(grid, ' ', (size_t)w * (size_t)h);
#define ROW(v) ((int)lround((ymax - (v)) / (ymax - ymin) * (h - 1)))
    for (size_t k = 0; k < n; k++) {
        for (int c = 0; c < w; c++) {
            sum[c] = 0;
            cnt[c] = 0;
            lo[c] = hi[c] = NAN;
        }
        for (size_t i = 0; i < s[k].n; i++) {
            double x = s[k].x[i], y = s[k].y[i];
            if (!isfinite(x) || !isfinite(y))
                continue;
            int c = (int)lround((x - xmin) / (xmax - xmin) * (w - 1));
            sum[c] += y;
            cnt[c]++;
            if (s[k].lo && isfinite(s[k].lo[i]))
                lo[c] = s[k].lo[i];
            if (s[k].hi && isfinite(s[k].hi[i]))
                hi[c] = s[k].hi[i];
        }
        for (int c = 0; c < w; c++) {
            if (cnt[c] == 0)
                continue;
            int r = ROW(sum[c] / (double)cnt[c]);
            if (isfinite(lo[c]) && isfinite(hi[c]))
                for (int q = ROW(hi[c]); q <= ROW(lo[c]); q++)
                    if (q != r && q >= 0 && q < h && grid[q * w + c] == ' ')
                        grid[q * w + c] = ':';
            if (r >= 0 && r < h)
                grid[r * w + c] = symbols[k];
        }
    }
#undef ROW
    fprintf(f, "  %s\n", ylabel);
    for (int r = 0; r < h; r++) {
        char lab[32] = "";
        if (r == 0 || r == h - 1 || r == (h - 1) / 2)
            fmt(lab, sizeof lab, ymax - (ymax - ymin) * r / (h - 1));
        fprintf(f, "%10s |%.*s\n", lab, w, grid + r * w);
    }
    fprintf(f, "%10s +", "");
    for (int c = 0; c < w; c++)
        fputc('-', f);
    char a[32], b[32], m[32];
    fmt(a, sizeof a, xmin);
    fmt(m, sizeof m, (xmin + xmax) / 2);
    fmt(b, sizeof b, xmax);
    int gap = (w - (int)strlen(a) - (int)strlen(m) - (int)strlen(b)) / 2;
    if (gap < 1)
        gap = 1;
    fprintf(f, "\n%10s  %s%*s%s%*s%s\n", "", a, gap, "", m, gap, "", b);
    fprintf(f, "%10s  %s\n", "", xlabel);
    for (size_t k = 0; k < n; k++)
        fprintf(f, "%12c %s\n", symbols[k], s[k].name);
out:
    free(grid);
    free(sum);
    free(lo);
    free(hi);
    free(cnt);
}
