/* metrics.c: how well generated samples match a toy data set. Mixtures get
 * PacGAN's mode coverage (modes captured, high-quality share, reverse KL of
 * the mode histogram); gray pixels get moment errors and Szekely's energy
 * distance to a held-out draw. All sums run in double, in a fixed order. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_impl.h"
#include "clgan/data.h"

clgan_status clgan_metrics_modes(const struct clgan_dataset *ds, const float *samples, size_t n,
                                 struct clgan_mode_metrics *out)
{
    if (!ds || !samples || !out)
        return clgan_set_error(CLGAN_ENULL, "clgan_metrics_modes: ds, samples and out must not be NULL");
    if (ds->n_modes == 0 || !ds->modes || ds->dim == 0 || !(ds->sigma > 0.0f))
        return clgan_set_error(CLGAN_EINVAL,
                               "clgan_metrics_modes: '%s' is not a Gaussian mixture (needs modes and sigma > 0)",
                               ds->name);
    if (n == 0)
        return clgan_set_error(CLGAN_EINVAL, "clgan_metrics_modes: no samples");

    const size_t K = ds->n_modes, dim = ds->dim;
    size_t *count = calloc(K, sizeof *count);
    if (!count)
        return clgan_set_error(CLGAN_ENOMEM, "clgan_metrics_modes: no memory for %zu modes", K);
    /* Compare squared distances so the nearest-mean search needs no sqrt;
     * the threshold is squared in double to avoid rounding at the edge. */
    const double thr = 3.0 * (double)ds->sigma, thr2 = thr * thr;
    size_t hq = 0;
    for (size_t i = 0; i < n; i++) {
        const float *s = samples + i * dim;
        int finite = 1;
        for (size_t d = 0; d < dim; d++)
            finite &= isfinite(s[d]) != 0;
        if (!finite)
            continue;
        size_t best = 0;
        double best_d2 = INFINITY;
        for (size_t k = 0; k < K; k++) {
            double d2 = 0.0;
            for (size_t d = 0; d < dim; d++) {
                double e = (double)s[d] - (double)ds->modes[k * dim + d];
                d2 += e * e;
            }
            if (d2 < best_d2) {
                best_d2 = d2;
                best = k;
            }
        }
        if (best_d2 <= thr2) {
            count[best]++;
            hq++;
        }
    }

    out->modes_total = K;
    out->modes_captured = 0;
    out->high_quality_frac = (double)hq / (double)n;
    double kl = 0.0;
    for (size_t k = 0; k < K; k++) {
        if (!count[k])
            continue;
        out->modes_captured++;
        double q = (double)count[k] / (double)hq;
        kl += q * log(q * (double)K);
    }
    /* Rounding can leave a tiny negative sum for a perfectly even histogram;
     * KL is never negative. */
    out->reverse_kl = hq ? fmax(kl, 0.0) : NAN;
    free(count);
    return CLGAN_OK;
}

/* Mean of |a_i - b_j| over all pairs (i, j), i from a, j from b. */
static double mean_pair_dist(const float *a, size_t na, const float *b, size_t nb, size_t dim)
{
    double total = 0.0;
    for (size_t i = 0; i < na; i++) {
        double row = 0.0;
        for (size_t j = 0; j < nb; j++) {
            double d2 = 0.0;
            for (size_t d = 0; d < dim; d++) {
                double e = (double)a[i * dim + d] - (double)b[j * dim + d];
                d2 += e * e;
            }
            row += sqrt(d2);
        }
        total += row / (double)nb;
    }
    return total / (double)na;
}

/* The V-statistic form 2 E|X-Y| - E|X-X'| - E|Y-Y'|, pairs (i, i) included:
 * it is the squared energy distance between the two empirical distributions,
 * so it is 0 for a set against itself and never negative (up to rounding,
 * which is clipped). The U-statistic would be unbiased but can go negative
 * and is not 0 for identical sets, which reads badly in a log. */
static double energy(const float *a, size_t na, const float *b, size_t nb, size_t dim)
{
    double ab = mean_pair_dist(a, na, b, nb, dim);
    double aa = mean_pair_dist(a, na, a, na, dim);
    double bb = mean_pair_dist(b, nb, b, nb, dim);
    double e = 2.0 * ab - aa - bb;
    return isnan(e) ? e : fmax(e, 0.0);
}

clgan_status clgan_energy_distance(const float *a, size_t na, const float *b, size_t nb,
                                   size_t dim, double *out)
{
    if (!a || !b || !out)
        return clgan_set_error(CLGAN_ENULL, "clgan_energy_distance: a, b and out must not be NULL");
    if (na == 0 || nb == 0 || dim == 0)
        return clgan_set_error(CLGAN_EINVAL, "clgan_energy_distance: empty set (na=%zu nb=%zu dim=%zu)",
                               na, nb, dim);
    if (na > CLGAN_METRICS_MAX_POINTS || nb > CLGAN_METRICS_MAX_POINTS)
        return clgan_set_error(CLGAN_ERANGE,
                               "clgan_energy_distance: %zu and %zu points; at most %zu each (the cost is quadratic)",
                               na, nb, CLGAN_METRICS_MAX_POINTS);
    *out = energy(a, na, b, nb, dim);
    return CLGAN_OK;
}

static void moments(const float *x, size_t n, double mean[3], double cov[9])
{
    for (int c = 0; c < 3; c++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++)
            s += x[3 * i + c];
        mean[c] = s / (double)n;
    }
    /* Two-pass (centred) covariance: the one-pass sum of products loses
     * digits when the spread is small against the mean, as for gray pixels. */
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) {
            double s = 0.0;
            for (size_t i = 0; i < n; i++)
                s += ((double)x[3 * i + r] - mean[r]) * ((double)x[3 * i + c] - mean[c]);
            cov[3 * r + c] = s / (double)(n - 1);
        }
}

clgan_status clgan_metrics_pixels(const float *train, size_t n_train, const float *gen,
                                  size_t n_gen, const float *heldout, size_t n_heldout,
                                  struct clgan_pixel_metrics *out)
{
    if (!train || !gen || !out || (!heldout && n_heldout))
        return clgan_set_error(CLGAN_ENULL,
                               "clgan_metrics_pixels: train, gen and out must not be NULL (heldout only when n_heldout is 0)");
    if (n_train < 2 || n_gen < 2)
        return clgan_set_error(CLGAN_EINVAL,
                               "clgan_metrics_pixels: covariances need at least 2 points (train %zu, gen %zu)",
                               n_train, n_gen);
    if (n_train > CLGAN_METRICS_MAX_POINTS || n_gen > CLGAN_METRICS_MAX_POINTS ||
        n_heldout > CLGAN_METRICS_MAX_POINTS)
        return clgan_set_error(CLGAN_ERANGE,
                               "clgan_metrics_pixels: at most %zu points per set (train %zu, gen %zu, heldout %zu)",
                               CLGAN_METRICS_MAX_POINTS, n_train, n_gen, n_heldout);

    struct clgan_pixel_metrics m;
    memset(&m, 0, sizeof m);
    moments(train, n_train, m.mean_real, m.cov_real);
    moments(gen, n_gen, m.mean_gen, m.cov_gen);
    for (int c = 0; c < 3; c++)
        m.max_mean_err = fmax(m.max_mean_err, fabs(m.mean_gen[c] - m.mean_real[c]));
    for (int c = 0; c < 9; c++)
        m.max_cov_err = fmax(m.max_cov_err, fabs(m.cov_gen[c] - m.cov_real[c]));
    /* fmax drops NaN; a non-finite input must not hide behind it. */
    for (int c = 0; c < 3; c++)
        if (isnan(m.mean_gen[c] - m.mean_real[c]))
            m.max_mean_err = NAN;
    for (int c = 0; c < 9; c++)
        if (isnan(m.cov_gen[c] - m.cov_real[c]))
            m.max_cov_err = NAN;
    if (n_heldout) {
        m.energy_gen_heldout = energy(gen, n_gen, heldout, n_heldout, 3);
        m.energy_train_heldout = energy(train, n_train, heldout, n_heldout, 3);
    } else {
        m.energy_gen_heldout = NAN;
        m.energy_train_heldout = NAN;
    }
    *out = m;
    return CLGAN_OK;
}
