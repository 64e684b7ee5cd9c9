/* compare.c: the one comparison rule shared by the test suite, `clgan
 * selftest` and `clgan compare`: a per-element bound atol + rtol*|ref|
 * (+ an optional per-element extra, e.g. a K-dependent GEMM bound), an NMSE
 * bound over the whole output, and matching classes of non-finite values. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "clgan.h"

static int fclass(double x)
{
    if (isnan(x))
        return 1;
    if (isinf(x))
        return x > 0 ? 2 : 3;
    return 0;
}

void clgan_compare_f32(const float *a, const float *b, const double *tol_extra, size_t n,
                       double atol, double rtol, double nmse_max,
                       struct clgan_compare_result *res)
{
    memset(res, 0, sizeof *res);
    res->n = n;
    double num = 0, den = 0, worst_excess = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double x = a[i], y = b[i];
        int cx = fclass(x), cy = fclass(y);
        if (cx != cy || cx != 0) {
            if (cx != cy) {
                res->n_class++;
                if (worst_excess < INFINITY) {
                    worst_excess = INFINITY;
                    res->worst_index = i;
                    res->worst_a = x;
                    res->worst_b = y;
                }
            }
            continue;
        }
        double d = fabs(x - y);
        double bound = atol + rtol * fabs(y) + (tol_extra ? tol_extra[i] : 0.0);
        num += d * d;
        den += y * y;
        if (d > res->max_abs)
            res->max_abs = d;
        double rel = d / (fabs(y) > 1e-30 ? fabs(y) : 1e-30);
        if (d > 0 && rel > res->max_rel)
            res->max_rel = rel;
        if (d > bound)
            res->n_bad++;
        if (d - bound > worst_excess) {
            worst_excess = d - bound;
            res->worst_index = i;
            res->worst_a = x;
            res->worst_b = y;
        }
    }
    /* An all-zero reference has no scale for NMSE: the per-element bound rules. */
    res->nmse = den > 0 ? num / den : 0.0;
    res->pass = res->n_bad == 0 && res->n_class == 0 && res->nmse <= nmse_max;
}
