/* test_data.c: the toy data sets (reproducible, right statistics), the mode
 * and pixel metrics on inputs whose answers are worked out by hand, and the
 * PNG pictures, read back by a decoder written here on zlib alone.
 * Set CLGAN_TEST_OUTDIR to keep the pictures for a look. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "clgan.h"
#include "clgan/data.h"
#include "testutil.h"

static char outdir[512];
static int keep_outputs;

static void out_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", outdir, name);
}

/* ---------------------------------------------------------------- a PNG reader */

struct png_image {
    unsigned w, h;
    int channels;
    uint8_t *px;
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads an 8-bit non-interlaced PNG whose lines all use filter 0 (what our
 * writer promises), checking the signature, every chunk's CRC, the IHDR
 * fields, the chunk order and the inflated length. Returns NULL on success,
 * else what was wrong. */
static const char *png_read(const char *path, struct png_image *img)
{
    static char why[256];
    memset(img, 0, sizeof *img);
    FILE *f = fopen(path, "rb");
    if (!f)
        return "cannot open";
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)size);
    size_t got = fread(buf, 1, (size_t)size, f);
    fclose(f);
    if (got != (size_t)size) {
        free(buf);
        return "short read";
    }
    static const uint8_t sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    if (size < 8 || memcmp(buf, sig, 8)) {
        free(buf);
        return "bad signature";
    }
    uint8_t *idat = NULL;
    size_t idat_len = 0, pos = 8;
    int seen_ihdr = 0, seen_iend = 0, nchunk = 0;
    const char *err = NULL;
    while (!err && pos + 12 <= (size_t)size) {
        uint32_t len = be32(buf + pos);
        if (pos + 12 + len > (size_t)size) {
            err = "chunk runs past the end";
            break;
        }
        const uint8_t *type = buf + pos + 4, *data = buf + pos + 8;
        uLong crc = crc32(crc32(0L, Z_NULL, 0), type, 4 + len);
        if (crc != be32(data + len)) {
            snprintf(why, sizeof why, "CRC mismatch in chunk %.4s", (const char *)type);
            err = why;
            break;
        }
        if (nchunk == 0 && memcmp(type, "IHDR", 4))
            err = "first chunk is not IHDR";
        else if (!memcmp(type, "IHDR", 4)) {
            if (len != 13 || data[8] != 8 || data[10] || data[11] || data[12])
                err = "unexpected IHDR";
            img->w = be32(data);
            img->h = be32(data + 4);
            switch (data[9]) {
            case 0: img->channels = 1; break;
            case 4: img->channels = 2; break;
            case 2: img->channels = 3; break;
            case 6: img->channels = 4; break;
            default: err = "bad color type";
            }
            seen_ihdr = 1;
        } else if (!memcmp(type, "IDAT", 4)) {
            idat = realloc(idat, idat_len + len + 1);
            memcpy(idat + idat_len, data, len);
            idat_len += len;
        } else if (!memcmp(type, "IEND", 4)) {
            seen_iend = 1;
            if (len != 0 || pos + 12 != (size_t)size)
                err = "IEND is not the empty last chunk";
        }
        pos += 12 + len;
        nchunk++;
    }
    if (!err && (!seen_ihdr || !seen_iend || !idat))
        err = "missing IHDR, IDAT or IEND";
    if (!err) {
        size_t row = (size_t)img->w * img->channels;
        uLongf raw_len = (uLongf)((row + 1) * img->h);
        uint8_t *raw = malloc(raw_len + 1);
        uLongf out_len = raw_len + 1; /* one spare byte catches overlong data */
        if (uncompress(raw, &out_len, idat, idat_len) != Z_OK || out_len != raw_len) {
            err = "IDAT does not inflate to the image size";
        } else {
            img->px = malloc(row * img->h);
            for (unsigned y = 0; y < img->h && !err; y++) {
                if (raw[y * (row + 1)] != 0)
                    err = "filter type is not 0";
                memcpy(img->px + y * row, raw + y * (row + 1) + 1, row);
            }
        }
        free(raw);
    }
    free(idat);
    free(buf);
    if (err) {
        free(img->px);
        img->px = NULL;
    }
    return err;
}

/* Pixels of an RGB image that have exactly color (r, g, b). */
static size_t count_color(const struct png_image *img, uint8_t r, uint8_t g, uint8_t b)
{
    size_t n = 0;
    for (size_t i = 0; i < (size_t)img->w * img->h; i++)
        n += img->px[3 * i] == r && img->px[3 * i + 1] == g && img->px[3 * i + 2] == b;
    return n;
}

static void remove_output(const char *path)
{
    if (!keep_outputs)
        remove(path);
}

/* ---------------------------------------------------------------- data sets */

static const char *const names[] = {"gray-pixels", "ring8", "grid25"};

START_TEST(test_reproducible)
{
    const char *name = names[_i];
    struct clgan_dataset a, b, c, h1, h2;
    ck_assert_ok(clgan_dataset_builtin(name, 42, 1000, &a));
    ck_assert_ok(clgan_dataset_builtin(name, 42, 1000, &b));
    ck_assert_ok(clgan_dataset_builtin(name, 43, 1000, &c));
    ck_assert_str_eq(a.name, name);
    ck_assert_uint_eq(a.n, 1000);
    size_t bytes = a.n * a.dim * sizeof(float);
    ck_assert(memcmp(a.x, b.x, bytes) == 0);
    ck_assert(memcmp(a.x, c.x, bytes) != 0);
    /* The held-out draw is another stream even under the same seed, and is
     * itself reproducible. */
    ck_assert_ok(clgan_dataset_heldout(&a, 42, 0, &h1));
    ck_assert_ok(clgan_dataset_heldout(&a, 42, 0, &h2));
    ck_assert_uint_eq(h1.n, a.n);
    ck_assert_uint_eq(h1.dim, a.dim);
    ck_assert(memcmp(h1.x, h2.x, bytes) == 0);
    ck_assert(memcmp(h1.x, a.x, bytes) != 0);
    /* A prefix property: n only says how many points of the stream to take. */
    struct clgan_dataset small;
    ck_assert_ok(clgan_dataset_builtin(name, 42, 10, &small));
    ck_assert(memcmp(small.x, a.x, 10 * a.dim * sizeof(float)) == 0);
    clgan_dataset_free(&small);
    clgan_dataset_free(&a);
    clgan_dataset_free(&b);
    clgan_dataset_free(&c);
    clgan_dataset_free(&h1);
    clgan_dataset_free(&h2);
    ck_assert_ptr_null(a.x);
    ck_assert_uint_eq(a.n, 0);
}
END_TEST

START_TEST(test_gray_pixels)
{
    struct clgan_dataset ds;
    ck_assert_ok(clgan_dataset_builtin("gray-pixels", 7, 0, &ds));
    ck_assert_uint_eq(ds.n, 50);
    ck_assert_uint_eq(ds.dim, 3);
    ck_assert_uint_eq(ds.n_modes, 0);
    ck_assert(ds.lo == 0.0f && ds.hi == 1.0f);
    for (size_t i = 0; i < 150; i++)
        ck_assert(ds.x[i] >= 0.0f && ds.x[i] <= 1.0f);
    clgan_dataset_free(&ds);

    /* Many pixels: the level is U(0.35, 0.65) (mean 0.5, sd 0.0866); the
     * channel noise N(0, 0.03) makes R-G have sd 0.03*sqrt(2) = 0.0424. */
    const size_t n = 40000;
    ck_assert_ok(clgan_dataset_builtin("gray-pixels", 7, n, &ds));
    double sum = 0, sumsq = 0, dsum = 0, dsumsq = 0, lmin = 1, lmax = 0;
    for (size_t i = 0; i < n; i++) {
        const float *p = ds.x + 3 * i;
        double level = (p[0] + p[1] + p[2]) / 3.0;
        sum += level;
        sumsq += level * level;
        lmin = fmin(lmin, level);
        lmax = fmax(lmax, level);
        double d = (double)p[0] - p[1];
        dsum += d;
        dsumsq += d * d;
    }
    double mean = sum / n, sd = sqrt(sumsq / n - mean * mean);
    double dmean = dsum / n, dsd = sqrt(dsumsq / n - dmean * dmean);
    /* sd of the channel mean: sqrt(0.0866^2 + 0.03^2/3) = 0.0883 */
    ck_assert_msg(fabs(mean - 0.5) < 0.003, "mean level %g", mean);
    ck_assert_msg(fabs(sd - 0.0883) < 0.003, "sd of level %g", sd);
    ck_assert_msg(fabs(dmean) < 0.002, "mean R-G %g", dmean);
    ck_assert_msg(fabs(dsd - 0.0424) < 0.0015, "sd of R-G %g", dsd);
    ck_assert(lmin > 0.25 && lmax < 0.75);
    clgan_dataset_free(&ds);
}
END_TEST

/* Each point's nearest mean, the share of points per mode and the residual
 * spread must match the recipe: equal shares, sd sigma per coordinate. */
static void check_mixture(const char *name, size_t K, float sigma, float lo, float hi)
{
    struct clgan_dataset ds;
    ck_assert_ok(clgan_dataset_builtin(name, 2024, 0, &ds));
    ck_assert_uint_eq(ds.n, 100000);
    ck_assert_uint_eq(ds.dim, 2);
    ck_assert_uint_eq(ds.n_modes, K);
    ck_assert(ds.sigma == sigma && ds.lo == lo && ds.hi == hi);
    size_t count[32] = {0};
    double rs[2] = {0, 0}, rss[2] = {0, 0};
    for (size_t i = 0; i < ds.n; i++) {
        size_t best = 0;
        double bd = INFINITY;
        for (size_t k = 0; k < K; k++) {
            double dx = ds.x[2 * i] - ds.modes[2 * k], dy = ds.x[2 * i + 1] - ds.modes[2 * k + 1];
            if (dx * dx + dy * dy < bd) {
                bd = dx * dx + dy * dy;
                best = k;
            }
        }
        count[best]++;
        for (int d = 0; d < 2; d++) {
            double r = ds.x[2 * i + d] - ds.modes[2 * best + d];
            rs[d] += r;
            rss[d] += r * r;
        }
        ck_assert(ds.x[2 * i] > lo && ds.x[2 * i] < hi);
    }
    double expect = (double)ds.n / K;
    for (size_t k = 0; k < K; k++)
        ck_assert_msg(fabs(count[k] - expect) < 5 * sqrt(expect), "%s mode %zu: %zu points", name,
                      k, count[k]);
    for (int d = 0; d < 2; d++) {
        double m = rs[d] / ds.n, sd = sqrt(rss[d] / ds.n - m * m);
        ck_assert_msg(fabs(m) < 0.02 * sigma, "%s residual mean %g", name, m);
        ck_assert_msg(fabs(sd / sigma - 1) < 0.02, "%s residual sd %g", name, sd);
    }
    clgan_dataset_free(&ds);
}

START_TEST(test_ring8)
{
    check_mixture("ring8", 8, 0.01f, -1.5f, 1.5f);
    struct clgan_dataset ds;
    ck_assert_ok(clgan_dataset_builtin("ring8", 1, 1, &ds));
    for (int k = 0; k < 8; k++) {
        ck_assert_float_eq_tol(ds.modes[2 * k], cos(2 * M_PI * k / 8), 1e-6);
        ck_assert_float_eq_tol(ds.modes[2 * k + 1], sin(2 * M_PI * k / 8), 1e-6);
    }
    clgan_dataset_free(&ds);
}
END_TEST

START_TEST(test_grid25)
{
    check_mixture("grid25", 25, 0.05f, -6.0f, 6.0f);
    struct clgan_dataset ds;
    ck_assert_ok(clgan_dataset_builtin("grid25", 1, 1, &ds));
    /* every point of {-4,-2,0,2,4}^2 is a mean exactly once */
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) {
            int found = 0;
            for (int k = 0; k < 25; k++)
                found += ds.modes[2 * k] == -4.0f + 2 * i && ds.modes[2 * k + 1] == -4.0f + 2 * j;
            ck_assert_int_eq(found, 1);
        }
    clgan_dataset_free(&ds);
}
END_TEST

/* ---------------------------------------------------------------- metrics */

START_TEST(test_modes_by_hand)
{
    struct clgan_dataset ds;
    struct clgan_mode_metrics m;
    ck_assert_ok(clgan_dataset_builtin("ring8", 3, 100, &ds));
    float s[2 * 80];

    /* 10 samples exactly on each of the 8 means: all captured, all high
     * quality, an even histogram: KL = 0. */
    for (int i = 0; i < 80; i++) {
        s[2 * i] = ds.modes[2 * (i % 8)];
        s[2 * i + 1] = ds.modes[2 * (i % 8) + 1];
    }
    ck_assert_ok(clgan_metrics_modes(&ds, s, 80, &m));
    ck_assert_uint_eq(m.modes_total, 8);
    ck_assert_uint_eq(m.modes_captured, 8);
    ck_assert_double_eq(m.high_quality_frac, 1.0);
    ck_assert_double_eq_tol(m.reverse_kl, 0.0, 1e-12);

    /* All at mode 3: q = (0,0,0,1,0,...): KL = 1 * log(1 * 8) = log 8. */
    for (int i = 0; i < 80; i++) {
        s[2 * i] = ds.modes[6];
        s[2 * i + 1] = ds.modes[7];
    }
    ck_assert_ok(clgan_metrics_modes(&ds, s, 80, &m));
    ck_assert_uint_eq(m.modes_captured, 1);
    ck_assert_double_eq(m.high_quality_frac, 1.0);
    ck_assert_double_eq_tol(m.reverse_kl, log(8.0), 1e-12);

    /* 20 at mode 0, 20 at mode 1 (2.9 sigma off along x), 40 far away:
     * 2 captured, half high quality, q = (1/2, 1/2): KL = log(8/2) = log 4. */
    for (int i = 0; i < 80; i++) {
        if (i < 20) {
            s[2 * i] = ds.modes[0];
            s[2 * i + 1] = ds.modes[1];
        } else if (i < 40) {
            s[2 * i] = ds.modes[2] + 2.9f * ds.sigma;
            s[2 * i + 1] = ds.modes[3];
        } else {
            s[2 * i] = 5.0f;
            s[2 * i + 1] = -5.0f;
        }
    }
    ck_assert_ok(clgan_metrics_modes(&ds, s, 80, &m));
    ck_assert_uint_eq(m.modes_captured, 2);
    ck_assert_double_eq(m.high_quality_frac, 0.5);
    ck_assert_double_eq_tol(m.reverse_kl, log(4.0), 1e-12);

    /* 3.1 sigma from every mean: not high quality, nothing captured, and
     * the histogram of no samples has no KL. */
    for (int i = 0; i < 80; i++) {
        s[2 * i] = ds.modes[0] + 3.1f * ds.sigma;
        s[2 * i + 1] = ds.modes[1];
    }
    ck_assert_ok(clgan_metrics_modes(&ds, s, 80, &m));
    ck_assert_uint_eq(m.modes_captured, 0);
    ck_assert_double_eq(m.high_quality_frac, 0.0);
    ck_assert(isnan(m.reverse_kl));
    clgan_dataset_free(&ds);

    /* grid25: the whole training set covers every mode, almost all high
     * quality (3 sigma in 2-D holds 98.9%), KL near 0. */
    ck_assert_ok(clgan_dataset_builtin("grid25", 3, 2500, &ds));
    ck_assert_ok(clgan_metrics_modes(&ds, ds.x, ds.n, &m));
    ck_assert_uint_eq(m.modes_total, 25);
    ck_assert_uint_eq(m.modes_captured, 25);
    ck_assert_msg(fabs(m.high_quality_frac - 0.9889) < 0.01, "hq %g", m.high_quality_frac);
    ck_assert_msg(m.reverse_kl < 0.02, "kl %g", m.reverse_kl);
    clgan_dataset_free(&ds);
}
END_TEST

START_TEST(test_energy_by_hand)
{
    double e;
    /* One point each, 5 apart: 2*5 - 0 - 0 = 10. */
    const float p[3] = {0, 0, 0}, q[3] = {3, 4, 0};
    ck_assert_ok(clgan_energy_distance(p, 1, q, 1, 3, &e));
    ck_assert_double_eq_tol(e, 10.0, 1e-12);
    /* 1-D {0,1} vs {2,3}: E|X-Y| = (2+3+1+2)/4 = 2, E|X-X'| = E|Y-Y'| =
     * (0+1+1+0)/4 = 0.5: 4 - 1 = 3. */
    const float a[2] = {0, 1}, b[2] = {2, 3};
    ck_assert_ok(clgan_energy_distance(a, 2, b, 2, 1, &e));
    ck_assert_double_eq_tol(e, 3.0, 1e-12);
    ck_assert_ok(clgan_energy_distance(a, 2, a, 2, 1, &e));
    ck_assert_double_eq(e, 0.0);

    /* A gray-pixel set against itself is 0; shifted, clearly positive and
     * growing with the shift. */
    struct clgan_dataset ds;
    ck_assert_ok(clgan_dataset_builtin("gray-pixels", 5, 300, &ds));
    float *shift = malloc(ds.n * 3 * sizeof *shift);
    ck_assert_ok(clgan_energy_distance(ds.x, ds.n, ds.x, ds.n, 3, &e));
    ck_assert_double_eq(e, 0.0);
    double prev = 0;
    for (int k = 1; k <= 3; k++) {
        for (size_t i = 0; i < ds.n * 3; i++)
            shift[i] = ds.x[i] + 0.05f * k;
        ck_assert_ok(clgan_energy_distance(ds.x, ds.n, shift, ds.n, 3, &e));
        ck_assert_msg(e > prev && e > 0.01, "shift %d: %g", k, e);
        prev = e;
    }
    free(shift);
    clgan_dataset_free(&ds);
}
END_TEST

START_TEST(test_pixels_by_hand)
{
    /* Real: (0,0,0) (1,1,1) (2,2,2): mean 1, every covariance entry
     * (1+0+1)/2 = 1. Generated: twice that: mean 2, covariance 4. */
    const float real[9] = {0, 0, 0, 1, 1, 1, 2, 2, 2};
    const float gen[9] = {0, 0, 0, 2, 2, 2, 4, 4, 4};
    struct clgan_pixel_metrics m;
    ck_assert_ok(clgan_metrics_pixels(real, 3, gen, 3, real, 3, &m));
    for (int c = 0; c < 3; c++) {
        ck_assert_double_eq(m.mean_real[c], 1.0);
        ck_assert_double_eq(m.mean_gen[c], 2.0);
    }
    for (int c = 0; c < 9; c++) {
        ck_assert_double_eq(m.cov_real[c], 1.0);
        ck_assert_double_eq(m.cov_gen[c], 4.0);
    }
    ck_assert_double_eq(m.max_mean_err, 1.0);
    ck_assert_double_eq(m.max_cov_err, 3.0);
    ck_assert_double_eq(m.energy_train_heldout, 0.0); /* held-out == train here */
    ck_assert(m.energy_gen_heldout > 0.0);

    /* No held-out set: energies are NaN, the moments still come out. */
    ck_assert_ok(clgan_metrics_pixels(real, 3, gen, 3, NULL, 0, &m));
    ck_assert(isnan(m.energy_gen_heldout) && isnan(m.energy_train_heldout));
    ck_assert_double_eq(m.max_cov_err, 3.0);
}
END_TEST

START_TEST(test_pixels_on_data)
{
    /* A fresh draw of the recipe stands in for a perfect generator: its
     * errors are small and its energy distance is of the order of the
     * train/held-out yardstick; a generator off by 0.1 in every channel is
     * many times further. */
    struct clgan_dataset tr, ho, perfect;
    ck_assert_ok(clgan_dataset_builtin("gray-pixels", 11, 0, &tr));
    ck_assert_ok(clgan_dataset_heldout(&tr, 11, 500, &ho));
    ck_assert_ok(clgan_dataset_heldout(&tr, 12, 500, &perfect));
    struct clgan_pixel_metrics good, bad;
    ck_assert_ok(clgan_metrics_pixels(tr.x, tr.n, perfect.x, perfect.n, ho.x, ho.n, &good));
    for (size_t i = 0; i < perfect.n * 3; i++)
        perfect.x[i] = fminf(1.0f, perfect.x[i] + 0.1f);
    ck_assert_ok(clgan_metrics_pixels(tr.x, tr.n, perfect.x, perfect.n, ho.x, ho.n, &bad));
    ck_assert_msg(good.max_mean_err < 0.05, "mean err %g", good.max_mean_err);
    ck_assert_msg(good.max_cov_err < 0.003, "cov err %g", good.max_cov_err);
    ck_assert(good.energy_train_heldout > 0.0);
    ck_assert_msg(good.energy_gen_heldout < 2 * good.energy_train_heldout + 0.002, "good %g vs %g",
                  good.energy_gen_heldout, good.energy_train_heldout);
    ck_assert_msg(bad.energy_gen_heldout > 5 * good.energy_gen_heldout, "bad %g good %g",
                  bad.energy_gen_heldout, good.energy_gen_heldout);
    ck_assert(bad.max_mean_err > 0.09);
    /* the diagonal covariance is the level variance plus noise: 0.0075 + 0.0009 */
    for (int c = 0; c < 3; c++)
        ck_assert_msg(fabs(good.cov_gen[4 * c] - 0.0084) < 0.002, "var %g", good.cov_gen[4 * c]);
    clgan_dataset_free(&tr);
    clgan_dataset_free(&ho);
    clgan_dataset_free(&perfect);
}
END_TEST

/* ---------------------------------------------------------------- pictures */

START_TEST(test_png_roundtrip)
{
    char path[600];
    for (int channels = 1; channels <= 4; channels++) {
        const unsigned w = 13 + channels, h = 7;
        uint8_t *px = malloc(w * h * channels);
        for (unsigned i = 0; i < w * h * channels; i++)
            px[i] = (uint8_t)(i * 37 + channels);
        char name[32];
        snprintf(name, sizeof name, "roundtrip%d.png", channels);
        out_path(path, sizeof path, name);
        ck_assert_ok(clgan_png_write(path, px, w, h, channels));
        struct png_image img;
        const char *err = png_read(path, &img);
        ck_assert_msg(err == NULL, "%s: %s", path, err);
        ck_assert_uint_eq(img.w, w);
        ck_assert_uint_eq(img.h, h);
        ck_assert_int_eq(img.channels, channels);
        ck_assert(memcmp(img.px, px, w * h * channels) == 0);
        /* the temporary file was renamed away */
        char tmp[620];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        ck_assert_int_eq(access(tmp, F_OK), -1);
        free(img.px);
        free(px);
        remove_output(path);
    }
}
END_TEST

START_TEST(test_plot_scatter)
{
    char path[600];
    struct clgan_dataset ds, gen;
    ck_assert_ok(clgan_dataset_builtin("ring8", 1, 0, &ds));
    ck_assert_ok(clgan_dataset_heldout(&ds, 1, 2500, &gen));
    /* a few generated points out of the frame are counted, not drawn */
    gen.x[0] = 9.0f;
    gen.x[3] = NAN;
    out_path(path, sizeof path, "scatter_ring8.png");
    ck_assert_ok(clgan_plot_scatter(path, &ds, gen.x, gen.n, "ring8 real vs held-out"));
    struct png_image img;
    const char *err = png_read(path, &img);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert_int_eq(img.channels, 3);
    /* both clouds and the black mode crosses are there (the real cloud
     * mostly under the generated one, as it should be here) */
    ck_assert(count_color(&img, 31, 119, 180) > 20);
    ck_assert(count_color(&img, 255, 127, 14) > 8 * 40);
    ck_assert(count_color(&img, 0, 0, 0) > 8 * 20);
    free(img.px);
    remove_output(path);
    clgan_dataset_free(&gen);
    clgan_dataset_free(&ds);

    ck_assert_ok(clgan_dataset_builtin("grid25", 1, 0, &ds));
    ck_assert_ok(clgan_dataset_heldout(&ds, 1, 2500, &gen));
    for (size_t i = 0; i < gen.n * 2; i++) /* a generator that learned too little spread */
        gen.x[i] *= 0.5f;
    out_path(path, sizeof path, "scatter_grid25.png");
    ck_assert_ok(clgan_plot_scatter(path, &ds, gen.x, gen.n, NULL));
    ck_assert_msg((err = png_read(path, &img)) == NULL, "%s", err);
    free(img.px);
    remove_output(path);
    /* no generated points: real only */
    out_path(path, sizeof path, "scatter_grid25_real.png");
    ck_assert_ok(clgan_plot_scatter(path, &ds, NULL, 0, "real only"));
    ck_assert_msg((err = png_read(path, &img)) == NULL, "%s", err);
    ck_assert_uint_eq(count_color(&img, 255, 127, 14), 7 * 7); /* the legend key only */
    ck_assert(count_color(&img, 31, 119, 180) > 2000);
    free(img.px);
    remove_output(path);
    clgan_dataset_free(&gen);
    clgan_dataset_free(&ds);
}
END_TEST

START_TEST(test_plot_pixels)
{
    char path[600];
    struct clgan_dataset ds, gen;
    ck_assert_ok(clgan_dataset_builtin("gray-pixels", 1, 0, &ds));
    ck_assert_ok(clgan_dataset_heldout(&ds, 1, 200, &gen));
    /* make the "generated" pixels a little too blue so the picture shows it */
    for (size_t i = 0; i < gen.n; i++)
        gen.x[3 * i + 2] = fminf(1.0f, gen.x[3 * i + 2] + 0.08f);
    out_path(path, sizeof path, "pixels.png");
    ck_assert_ok(clgan_plot_pixels(path, ds.x, ds.n, gen.x, gen.n, "gray pixels: real vs generated"));
    struct png_image img;
    const char *err = png_read(path, &img);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert(count_color(&img, 31, 119, 180) > 100);
    ck_assert(count_color(&img, 255, 127, 14) > 100);
    /* the first real swatch is filled with that pixel's own color */
    {
        uint8_t want[3];
        for (int c = 0; c < 3; c++)
            want[c] = (uint8_t)lroundf(ds.x[c] * 255.0f);
        ck_assert(count_color(&img, want[0], want[1], want[2]) >= 20 * 20);
    }
    free(img.px);
    remove_output(path);
    clgan_dataset_free(&gen);
    clgan_dataset_free(&ds);
}
END_TEST

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_plot_csv)
{
    char csv[600], path[600];
    out_path(csv, sizeof csv, "log.csv");
    FILE *f = fopen(csv, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "step,loss_d,loss_g,modes,backend_ms\n");
    for (int s = 0; s <= 2000; s += 20) {
        double d = 1.386 * exp(-s / 900.0) + 0.5 + 0.05 * sin(s / 37.0);
        double g = 0.69 + 1.2 * (1 - exp(-s / 400.0)) + 0.08 * cos(s / 23.0);
        if (s == 1000)
            fprintf(f, "%d,nan,%g,,3.5\n", s, g); /* gaps */
        else
            fprintf(f, "%d,%g,%g,%d,3.5\n", s, d, g, s < 1500 ? s / 200 : 8);
    }
    fprintf(f, "2020,0.7,1."); /* a row still being written: ignored */
    fclose(f);
    out_path(path, sizeof path, "curves.png");
    const char *cols[] = {"loss_d+loss_g", "modes"};
    ck_assert_ok(clgan_plot_csv(path, csv, cols, 2, "losses and modes"));
    struct png_image img;
    const char *err = png_read(path, &img);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert(count_color(&img, 31, 119, 180) > 300);  /* loss_d, and modes */
    ck_assert(count_color(&img, 255, 127, 14) > 300);  /* loss_g */
    free(img.px);
    remove_output(path);

    /* one row and a constant column still draw */
    out_path(path, sizeof path, "curves_one_row.png");
    write_file(csv, "step,x\n5,1\n");
    const char *one[] = {"x"};
    ck_assert_ok(clgan_plot_csv(path, csv, one, 1, NULL));
    ck_assert_msg((err = png_read(path, &img)) == NULL, "%s", err);
    free(img.px);
    remove_output(path);
    /* a header only: empty panels */
    out_path(path, sizeof path, "curves_no_rows.png");
    write_file(csv, "step,x\n");
    ck_assert_ok(clgan_plot_csv(path, csv, one, 1, NULL));
    remove_output(path);
    remove(csv);
}
END_TEST

/* ---------------------------------------------------------------- limits */

START_TEST(test_limits)
{
    struct clgan_dataset ds;
    ck_assert_status(clgan_dataset_builtin("ring8", 1, CLGAN_DATASET_MAX_POINTS + 1, &ds),
                     CLGAN_ERANGE);
    ck_assert_ptr_null(ds.x);
    ck_assert_ok(clgan_dataset_builtin("grid25", 1, 1, &ds));
    ck_assert_uint_eq(ds.n, 1);
    struct clgan_dataset h;
    ck_assert_ok(clgan_dataset_heldout(&ds, 1, 3, &h));
    ck_assert_uint_eq(h.n, 3);
    ck_assert_uint_eq(h.n_modes, 25);
    clgan_dataset_free(&h);
    clgan_dataset_free(&ds);
    clgan_dataset_free(&ds); /* twice is fine: the struct is zeroed */
    clgan_dataset_free(NULL);

    /* 1x1 picture; sides of 65535 are the limit */
    char path[600];
    out_path(path, sizeof path, "one.png");
    const uint8_t px[3] = {1, 2, 3};
    ck_assert_ok(clgan_png_write(path, px, 1, 1, 3));
    struct png_image img;
    const char *err = png_read(path, &img);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert(img.w == 1 && img.h == 1 && memcmp(img.px, px, 3) == 0);
    free(img.px);
    remove(path);
    ck_assert_status(clgan_png_write(path, px, 0, 1, 3), CLGAN_ERANGE);
    ck_assert_status(clgan_png_write(path, px, 65536, 1, 1), CLGAN_ERANGE);
    ck_assert_status(clgan_png_write(path, px, 40000, 40000, 1), CLGAN_ERANGE); /* 1.6 GB */

    /* NaN and infinite samples are never high quality */
    ck_assert_ok(clgan_dataset_builtin("ring8", 1, 10, &ds));
    float s[6] = {NAN, 0, 1, INFINITY, 1, 0};
    struct clgan_mode_metrics m;
    ck_assert_ok(clgan_metrics_modes(&ds, s, 3, &m));
    ck_assert_uint_eq(m.modes_captured, 1);
    ck_assert_double_eq_tol(m.high_quality_frac, 1.0 / 3, 1e-12);
    ck_assert_double_eq_tol(m.reverse_kl, log(8.0), 1e-12);
    clgan_dataset_free(&ds);

    /* a NaN generated pixel shows in the errors rather than hiding */
    const float real[6] = {0, 0, 0, 1, 1, 1};
    const float gen[6] = {0, NAN, 0, 1, 1, 1};
    struct clgan_pixel_metrics pm;
    ck_assert_ok(clgan_metrics_pixels(real, 2, gen, 2, real, 2, &pm));
    ck_assert(isnan(pm.max_mean_err) && isnan(pm.max_cov_err) && isnan(pm.energy_gen_heldout));
    ck_assert_status(clgan_metrics_pixels(real, 1, gen, 2, NULL, 0, &pm), CLGAN_EINVAL);
    ck_assert_status(clgan_metrics_pixels(real, CLGAN_METRICS_MAX_POINTS + 1, gen, 2, NULL, 0, &pm),
                     CLGAN_ERANGE);
    double e;
    ck_assert_status(clgan_energy_distance(real, 0, gen, 2, 3, &e), CLGAN_EINVAL);

    /* 8 panels at most */
    const char *cols[9] = {"a", "a", "a", "a", "a", "a", "a", "a", "a"};
    ck_assert_status(clgan_plot_csv(path, "x.csv", cols, 9, NULL), CLGAN_EINVAL);
    ck_assert_status(clgan_plot_csv(path, "x.csv", cols, 0, NULL), CLGAN_EINVAL);
}
END_TEST

/* ---------------------------------------------------------------- errors */

START_TEST(test_errors_data)
{
    struct clgan_dataset ds;
    ck_assert_status(clgan_dataset_builtin("mnist-ish", 1, 0, &ds), CLGAN_EINVAL);
    ck_assert_ptr_nonnull(strstr(clgan_last_error(), "mnist-ish"));
    ck_assert_ptr_nonnull(strstr(clgan_last_error(), "ring8"));
    ck_assert_status(clgan_dataset_builtin(NULL, 1, 0, &ds), CLGAN_ENULL);
    ck_assert_status(clgan_dataset_builtin("ring8", 1, 0, NULL), CLGAN_ENULL);
    ck_assert_status(clgan_dataset_heldout(NULL, 1, 0, &ds), CLGAN_ENULL);

    /* a data set that is not built in has no recipe to draw again from */
    struct clgan_dataset custom = {.name = "my-points", .n = 2, .dim = 2};
    float pts[4] = {0, 0, 1, 1};
    custom.x = pts;
    ck_assert_status(clgan_dataset_heldout(&custom, 1, 0, &ds), CLGAN_EINVAL);
    ck_assert_status(clgan_dataset_heldout(&custom, 1, 0, &custom), CLGAN_EINVAL);

    /* mode metrics need a mixture */
    struct clgan_mode_metrics m;
    ck_assert_ok(clgan_dataset_builtin("gray-pixels", 1, 0, &ds));
    ck_assert_status(clgan_metrics_modes(&ds, ds.x, ds.n, &m), CLGAN_EINVAL);
    ck_assert_status(clgan_metrics_modes(&ds, NULL, 3, &m), CLGAN_ENULL);
    ck_assert_status(clgan_metrics_modes(NULL, ds.x, 3, &m), CLGAN_ENULL);
    struct clgan_pixel_metrics pm;
    ck_assert_status(clgan_metrics_pixels(NULL, 3, ds.x, 3, NULL, 0, &pm), CLGAN_ENULL);
    ck_assert_status(clgan_metrics_pixels(ds.x, 3, ds.x, 3, NULL, 5, &pm), CLGAN_ENULL);
    ck_assert_status(clgan_metrics_pixels(ds.x, 3, ds.x, 3, NULL, 0, NULL), CLGAN_ENULL);
    clgan_dataset_free(&ds);
    ck_assert_ok(clgan_dataset_builtin("ring8", 1, 10, &ds));
    ck_assert_status(clgan_metrics_modes(&ds, ds.x, 0, &m), CLGAN_EINVAL);
    clgan_dataset_free(&ds);
}
END_TEST

START_TEST(test_errors_pictures)
{
    const uint8_t px[12] = {0};
    /* unwritable: a folder that does not exist */
    char bad[600];
    out_path(bad, sizeof bad, "no-such-folder/x.png");
    ck_assert_status(clgan_png_write(bad, px, 2, 2, 3), CLGAN_EIO);
    ck_assert_ptr_nonnull(strstr(clgan_last_error(), "no-such-folder/x.png.tmp"));
    ck_assert_ptr_nonnull(strstr(clgan_last_error(), strerror(ENOENT)));
    /* a folder in the way of the rename */
    char dir[600];
    out_path(dir, sizeof dir, "a-folder.png");
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_status(clgan_png_write(dir, px, 2, 2, 3), CLGAN_EIO);
    char tmp[620];
    snprintf(tmp, sizeof tmp, "%s.tmp", dir);
    ck_assert_int_eq(access(tmp, F_OK), -1); /* cleaned up */
    rmdir(dir);
    ck_assert_status(clgan_png_write(NULL, px, 2, 2, 3), CLGAN_ENULL);
    ck_assert_status(clgan_png_write("x.png", NULL, 2, 2, 3), CLGAN_ENULL);
    ck_assert_status(clgan_png_write("x.png", px, 2, 2, 0), CLGAN_EINVAL);
    ck_assert_status(clgan_png_write("x.png", px, 2, 2, 5), CLGAN_EINVAL);

    struct clgan_dataset ds;
    ck_assert_ok(clgan_dataset_builtin("gray-pixels", 1, 0, &ds));
    ck_assert_status(clgan_plot_scatter("x.png", &ds, NULL, 0, NULL), CLGAN_EINVAL); /* dim 3 */
    ck_assert_status(clgan_plot_scatter(NULL, &ds, NULL, 0, NULL), CLGAN_ENULL);
    ck_assert_status(clgan_plot_pixels("x.png", ds.x, ds.n, NULL, 5, NULL), CLGAN_ENULL);
    ck_assert_status(clgan_plot_pixels("x.png", ds.x, 0, NULL, 0, NULL), CLGAN_EINVAL);
    ck_assert_status(clgan_plot_pixels(bad, ds.x, ds.n, NULL, 0, NULL), CLGAN_EIO);
    clgan_dataset_free(&ds);
    ck_assert_ok(clgan_dataset_builtin("ring8", 1, 10, &ds));
    ck_assert_status(clgan_plot_scatter("x.png", &ds, NULL, 4, NULL), CLGAN_ENULL);
    ck_assert_status(clgan_plot_scatter(bad, &ds, NULL, 0, NULL), CLGAN_EIO);
    ds.hi = ds.lo;
    ck_assert_status(clgan_plot_scatter("x.png", &ds, NULL, 0, NULL), CLGAN_EINVAL);
    clgan_dataset_free(&ds);
}
END_TEST

START_TEST(test_errors_csv)
{
    char csv[600], path[600];
    out_path(csv, sizeof csv, "bad.csv");
    out_path(path, sizeof path, "bad.png");
    const char *one[] = {"loss"};
    char missing[600];
    out_path(missing, sizeof missing, "missing.csv");
    ck_assert_status(clgan_plot_csv(path, missing, one, 1, NULL), CLGAN_ENOENT);
    ck_assert_ptr_nonnull(strstr(clgan_last_error(), "missing.csv"));

    write_file(csv, "step,loss\n1,2\n");
    const char *unknown[] = {"loss_q"};
    ck_assert_status(clgan_plot_csv(path, csv, unknown, 1, NULL), CLGAN_EINVAL);
    ck_assert_ptr_nonnull(strstr(clgan_last_error(), "loss_q"));
    const char *empty_part[] = {"loss+"};
    ck_assert_status(clgan_plot_csv(path, csv, empty_part, 1, NULL), CLGAN_EINVAL);
    const char *null_col[] = {NULL};
    ck_assert_status(clgan_plot_csv(path, csv, null_col, 1, NULL), CLGAN_EINVAL);
    ck_assert_status(clgan_plot_csv(path, csv, NULL, 1, NULL), CLGAN_ENULL);

    write_file(csv, "iter,loss\n1,2\n");
    ck_assert_status(clgan_plot_csv(path, csv, one, 1, NULL), CLGAN_EFORMAT);
    write_file(csv, "step,loss\n1,2\n2,3,4\n");
    ck_assert_status(clgan_plot_csv(path, csv, one, 1, NULL), CLGAN_EFORMAT);
    ck_assert_ptr_nonnull(strstr(clgan_last_error(), "bad.csv:3"));
    write_file(csv, "step,loss\n1,2\n2,abc\n");
    ck_assert_status(clgan_plot_csv(path, csv, one, 1, NULL), CLGAN_EFORMAT);
    ck_assert_ptr_nonnull(strstr(clgan_last_error(), "abc"));
    write_file(csv, "");
    ck_assert_status(clgan_plot_csv(path, csv, one, 1, NULL), CLGAN_EFORMAT);
    write_file(csv, "step,loss\n1,2\n");
    char bad[600];
    out_path(bad, sizeof bad, "no-such-folder/c.png");
    ck_assert_status(clgan_plot_csv(bad, csv, one, 1, NULL), CLGAN_EIO);
    remove(csv);
    ck_assert_int_eq(access(path, F_OK), -1); /* nothing was written on failure */
}
END_TEST

int main(void)
{
    const char *keep = getenv("CLGAN_TEST_OUTDIR");
    if (keep && *keep) {
        snprintf(outdir, sizeof outdir, "%s", keep);
        mkdir(outdir, 0700);
        keep_outputs = 1;
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(outdir, sizeof outdir, "%s/clgan-test-data-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(outdir)) {
            printf("cannot make a scratch folder %s: %s\n", outdir, strerror(errno));
            return 1;
        }
    }

    Suite *s = suite_create("data");
    TCase *core = tcase_create("Core");
    tcase_set_timeout(core, 60);
    tcase_add_loop_test(core, test_reproducible, 0, 3);
    tcase_add_test(core, test_gray_pixels);
    tcase_add_test(core, test_ring8);
    tcase_add_test(core, test_grid25);
    tcase_add_test(core, test_modes_by_hand);
    tcase_add_test(core, test_energy_by_hand);
    tcase_add_test(core, test_pixels_by_hand);
    tcase_add_test(core, test_pixels_on_data);
    tcase_add_test(core, test_png_roundtrip);
    tcase_add_test(core, test_plot_scatter);
    tcase_add_test(core, test_plot_pixels);
    tcase_add_test(core, test_plot_csv);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("Limits");
    tcase_add_test(limits, test_limits);
    suite_add_tcase(s, limits);
    TCase *errors = tcase_create("Errors");
    tcase_add_test(errors, test_errors_data);
    tcase_add_test(errors, test_errors_pictures);
    tcase_add_test(errors, test_errors_csv);
    suite_add_tcase(s, errors);
    int rc = testutil_run(s);
    if (!keep_outputs)
        rmdir(outdir); /* empty unless a failing test left something to look at */
    return rc;
}
