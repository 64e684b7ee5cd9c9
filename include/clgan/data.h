/* clgan/data.h: built-in toy data sets (the seed's gray pixels, the ring and
 * grid Gaussian mixtures), the metrics that say how well a generator learned
 * them, and the pictures (PNG writer, scatter plots, pixel swatches, CSV
 * curves) a run folder holds. Included by clgan.h; usable on its own. */
#ifndef CLGAN_DATA_H
#define CLGAN_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "clgan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- data sets */

/* n points of dim floats, row-major. The struct owns x and modes; release
 * them with clgan_dataset_free(). */
struct clgan_dataset {
    char name[32];
    size_t n, dim;        /* n points of dim floats, row-major, owned */
    float *x;
    size_t n_modes;       /* mixtures: the means (n_modes x dim), else 0 */
    float *modes;
    float sigma;          /* mixtures: the standard deviation, else 0 */
    float lo, hi;         /* plotting/clamping range of the values */
    /* image sets (clgan/images.h): each point is height x width x channels
     * values, channel-last; 0 for the point sets */
    size_t height, width, channels;
    uint8_t *labels;      /* n class labels when the source had them, else NULL; owned */
};

/* Largest n a built-in data set accepts (CLGAN_ERANGE above it). */
#define CLGAN_DATASET_MAX_POINTS ((size_t)1 << 26)

/* Builds a built-in data set, a pure function of (name, seed, n): every
 * number comes from the library's Philox streams, so the same seed gives the
 * same bits on every machine. Recipes:
 *  "gray-pixels" dim 3, n = 0 means the seed's 50. Per pixel a gray level
 *                g ~ U(0.35, 0.65); each of R, G, B = g + N(0, 0.03),
 *                clamped to [0, 1]. lo = 0, hi = 1; no modes.
 *  "ring8"       dim 2, n = 0 means 100000. Mode k ~ uniform on 0..7, mean
 *                (cos 2 pi k/8, sin 2 pi k/8), sigma 0.01 (PacGAN's
 *                setting). lo = -1.5, hi = 1.5.
 *  "grid25"      dim 2, n = 0 means 100000. Mode uniform over the 25 means
 *                {-4,-2,0,2,4}^2, sigma 0.05 (PacGAN). lo = -6, hi = 6.
 * On success *out owns the arrays (any previous contents are overwritten,
 * not freed). On failure *out is zeroed.
 * Errors: CLGAN_ENULL, CLGAN_EINVAL (unknown name; the message lists the
 * names), CLGAN_ERANGE (n > CLGAN_DATASET_MAX_POINTS), CLGAN_ENOMEM. */
clgan_status clgan_dataset_builtin(const char *name, uint64_t seed, size_t n,
                                   struct clgan_dataset *out);

/* "gray-pixels, ring8, grid25": the built-in names, for help texts. */
const char *clgan_dataset_builtin_names(void);

/* A fresh draw of ds's recipe from another Philox stream (a held-out set):
 * disjoint from the training draw even when seed equals the training seed.
 * n = 0 means ds->n. Only built-in data sets have a recipe.
 * Errors: CLGAN_ENULL, CLGAN_EINVAL (ds is not a built-in set),
 * CLGAN_ERANGE, CLGAN_ENOMEM. */
clgan_status clgan_dataset_heldout(const struct clgan_dataset *ds, uint64_t seed, size_t n,
                                   struct clgan_dataset *out);

/* Frees the arrays and zeroes the struct; accepts NULL and zeroed structs. */
void clgan_dataset_free(struct clgan_dataset *ds);

/* ---------------------------------------------------------------- metrics */

/* Mode coverage of samples from a Gaussian mixture (PacGAN's measures):
 * a sample is high quality when its Euclidean distance to the nearest mean
 * is <= 3 sigma; a mode is captured when at least one high-quality sample
 * has it as nearest mean. q_k = share of the high-quality samples nearest
 * mode k; reverse_kl = KL(q || uniform) = sum over q_k > 0 of
 * q_k log(q_k K), in nats: 0 when all K modes get equal shares, log K when
 * every high-quality sample sits at one mode. NaN when no sample is high
 * quality (q is undefined then). Non-finite samples are never high quality. */
struct clgan_mode_metrics {
    size_t modes_total, modes_captured;
    double high_quality_frac, reverse_kl;
};

/* samples: n x ds->dim floats, n >= 1. ds must be a mixture (n_modes > 0,
 * sigma > 0). Errors: CLGAN_ENULL, CLGAN_EINVAL. */
clgan_status clgan_metrics_modes(const struct clgan_dataset *ds, const float *samples, size_t n,
                                 struct clgan_mode_metrics *out);

/* Pixel statistics (all sets are n x 3 floats, RGB):
 *  mean_*: per-channel means; cov_*: 3x3 sample covariances (divisor n-1),
 *  row-major; max_mean_err / max_cov_err: the largest absolute difference
 *  between the generated and the real (training) entries;
 *  energy_*: Szekely's energy distance 2 E|X-Y| - E|X-X'| - E|Y-Y'| with
 *  Euclidean norms, each expectation the plain mean over all pairs (the
 *  V-statistic: exactly 0 for a set against itself, never negative),
 *  between the generated set and the held-out set, and, as the yardstick a
 *  perfect generator would reach, between the training and held-out sets.
 * n_train >= 2 and n_gen >= 2. heldout may be NULL with n_heldout = 0: both
 * energies are then NaN. Each set holds at most CLGAN_METRICS_MAX_POINTS
 * points (the energy distance is quadratic). Non-finite values make the
 * affected outputs NaN. Errors: CLGAN_ENULL, CLGAN_EINVAL, CLGAN_ERANGE. */
#define CLGAN_METRICS_MAX_POINTS ((size_t)50000)
struct clgan_pixel_metrics {
    double mean_real[3], mean_gen[3], cov_real[9], cov_gen[9];
    double max_mean_err, max_cov_err;
    double energy_gen_heldout, energy_train_heldout;
};
clgan_status clgan_metrics_pixels(const float *train, size_t n_train, const float *gen,
                                  size_t n_gen, const float *heldout, size_t n_heldout,
                                  struct clgan_pixel_metrics *out);

/* Energy distance (as above) between two sets of dim-vectors. */
clgan_status clgan_energy_distance(const float *a, size_t na, const float *b, size_t nb,
                                   size_t dim, double *out);

/* ---------------------------------------------------------------- pictures */

/* Writes an 8-bit PNG: channels 1 (gray), 2 (gray + alpha), 3 (RGB) or 4
 * (RGBA); pixels are row-major, width*channels bytes a row, no padding.
 * Written to "<path>.tmp", flushed and fsync'd, then renamed over path, so a
 * reader never sees half a file. 1 <= width, height <= 65535 and the raw
 * image at most 1 GiB. Errors: CLGAN_ENULL, CLGAN_EINVAL (channels),
 * CLGAN_ERANGE (sizes), CLGAN_ENOMEM, CLGAN_EIO (the message names the file
 * and the system's reason). */
clgan_status clgan_png_write(const char *path, const uint8_t *pixels, size_t width, size_t height,
                             int channels);

/* Scatter plot of a 2-D data set on [lo, hi]^2 (the set's range): up to
 * 2,500 real points (an even subsample of larger sets) in blue, the n_gen
 * generated points (n_gen x 2 floats) in orange on top, mode centers as
 * black crosses, axes with tick labels, a legend that counts generated
 * points outside the frame. gen may be NULL when n_gen is 0; title may be
 * NULL. Errors: CLGAN_ENULL, CLGAN_EINVAL (dim != 2, empty range), and
 * clgan_png_write's. */
clgan_status clgan_plot_scatter(const char *path, const struct clgan_dataset *ds, const float *gen,
                                size_t n_gen, const char *title);

/* The gray-pixels picture: rows of swatches (each pixel a small square in its
 * own color; up to 60 real, then up to 60 generated) and three projections
 * (R-G, R-B, G-B) of both clouds on [0,1]^2, real in blue drawn over the
 * generated in orange. real/gen are n x 3 floats in [0, 1] (clamped for drawing).
 * n_real >= 1; gen may be NULL when n_gen is 0. Errors as plot_scatter. */
clgan_status clgan_plot_pixels(const char *path, const float *real, size_t n_real,
                               const float *gen, size_t n_gen, const char *title);

/* Reads the CSV log and draws the named columns against column "step".
 * The log: a header row of column names, then rows of numbers separated by
 * commas; an empty field, "nan" or "inf" leaves a gap in the curve. A final
 * line without its newline (a log still being written) is ignored.
 * One panel per entry of columns (1 to 8 entries); an entry "a+b" overlays
 * columns a and b in one panel. Each panel shows its y range, first/last
 * step and the minimum and maximum of every curve.
 * Errors: CLGAN_ENULL, CLGAN_EINVAL (no columns, unknown column: the
 * message lists the header), CLGAN_ENOENT / CLGAN_EIO (reading),
 * CLGAN_EFORMAT (no "step" column, a row with the wrong field count or a
 * field that is not a number: file and line are named), CLGAN_ENOMEM,
 * and clgan_png_write's. */
clgan_status clgan_plot_csv(const char *path, const char *csv_path, const char *const *columns,
                            size_t n_columns, const char *title);

#ifdef __cplusplus
}
#endif
#endif /* CLGAN_DATA_H */
