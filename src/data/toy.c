/* toy.c: the built-in toy data sets (gray pixels from the seed, PacGAN's
 * ring of 8 and grid of 25 Gaussians) drawn from Philox streams, so a data
 * set is a pure function of (name, seed, n) and a held-out draw of the same
 * recipe comes from a disjoint stream. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_impl.h"
#include "clgan/data.h"

/* Stream numbering: (set tag << 8) | (draw << 4) | component. draw 0 is the
 * training set, 1 the held-out set; components separate the numbers for
 * choosing a level or mode from the Gaussian noise, so no index is used
 * twice. The tags are arbitrary but fixed forever: changing one changes
 * every data set users have seen for their seed. */
enum { COMP_CHOICE = 0, COMP_NOISE = 1 };
enum { DRAW_TRAIN = 0, DRAW_HELDOUT = 1 };

struct recipe {
    const char *name;
    uint64_t tag;
    size_t dim;
    size_t default_n;
    float lo, hi;
    /* Fills ds->x (allocated, n x dim; modes and sigma already set). */
    void (*draw)(struct clgan_dataset *ds, uint64_t seed, uint64_t stream_base);
    /* Mixtures only (else 0, 0, NULL): K, sigma, and the function that
     * fills the K x dim means. */
    size_t n_modes;
    float sigma;
    void (*means)(float *modes);
};

static uint64_t stream_of(uint64_t tag, int draw, int comp)
{
    return (tag << 8) | ((uint64_t)draw << 4) | (uint64_t)comp;
}

static float clamp01(float v)
{
    return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}

/* Gray pixels: the seed's "50 pixels, all some kind of gray". A shared level
 * per pixel plus small independent channel noise gives a thin cloud along
 * the gray diagonal of the RGB cube: the structure a GAN must find. */
static void draw_gray(struct clgan_dataset *ds, uint64_t seed, uint64_t base)
{
    for (size_t i = 0; i < ds->n; i++) {
        float g = 0.35f + 0.30f * clgan_philox_uniform(seed, base | COMP_CHOICE, i);
        for (size_t c = 0; c < 3; c++) {
            float e = 0.03f * clgan_philox_normal(seed, base | COMP_NOISE, 3 * i + c);
            ds->x[3 * i + c] = clamp01(g + e);
        }
    }
}

/* Mixtures: the mode index comes from the top bits of a 32-bit number times
 * K (exact integer arithmetic, unlike floor(u * K) in float, which can round
 * up to K), then mean + sigma * N(0, 1) per coordinate. */
static void draw_mixture(struct clgan_dataset *ds, uint64_t seed, uint64_t base)
{
    for (size_t i = 0; i < ds->n; i++) {
        uint32_t r = clgan_philox_u32(seed, base | COMP_CHOICE, i);
        size_t k = (size_t)(((uint64_t)r * ds->n_modes) >> 32);
        for (size_t d = 0; d < ds->dim; d++) {
            float e = clgan_philox_normal(seed, base | COMP_NOISE, ds->dim * i + d);
            ds->x[ds->dim * i + d] = ds->modes[ds->dim * k + d] + ds->sigma * e;
        }
    }
}

static void means_ring8(float *m)
{
    for (int k = 0; k < 8; k++) {
        double a = 2.0 * 3.14159265358979323846 * k / 8.0;
        m[2 * k] = (float)cos(a);
        m[2 * k + 1] = (float)sin(a);
    }
}

static void means_grid25(float *m)
{
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) {
            m[2 * (5 * i + j)] = -4.0f + 2.0f * (float)i;
            m[2 * (5 * i + j) + 1] = -4.0f + 2.0f * (float)j;
        }
}

static const struct recipe recipes[] = {
    {.name = "gray-pixels", .tag = 0x67726179, .dim = 3, .default_n = 50, .lo = 0.0f,
     .hi = 1.0f, .draw = draw_gray, .n_modes = 0, .sigma = 0.0f, .means = NULL},
    {.name = "ring8", .tag = 0x72696e67, .dim = 2, .default_n = 100000, .lo = -1.5f,
     .hi = 1.5f, .draw = draw_mixture, .n_modes = 8, .sigma = 0.01f, .means = means_ring8},
    {.name = "grid25", .tag = 0x67726964, .dim = 2, .default_n = 100000, .lo = -6.0f,
     .hi = 6.0f, .draw = draw_mixture, .n_modes = 25, .sigma = 0.05f, .means = means_grid25},
};
#define N_RECIPES (sizeof recipes / sizeof recipes[0])

const char *clgan_dataset_builtin_names(void)
{
    return "gray-pixels, ring8, grid25";
}

static const struct recipe *find_recipe(const char *name)
{
    for (size_t i = 0; i < N_RECIPES; i++)
        if (!strcmp(recipes[i].name, name))
            return &recipes[i];
    return NULL;
}

static clgan_status make(const struct recipe *r, uint64_t seed, int draw, size_t n,
                         struct clgan_dataset *out, const char *fn)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        n = r->default_n;
    if (n > CLGAN_DATASET_MAX_POINTS)
        return clgan_set_error(CLGAN_ERANGE, "%s: %zu points of '%s' is more than the %zu allowed",
                               fn, n, r->name, CLGAN_DATASET_MAX_POINTS);
    struct clgan_dataset ds = {0};
    snprintf(ds.name, sizeof ds.name, "%s", r->name);
    ds.n = n;
    ds.dim = r->dim;
    ds.lo = r->lo;
    ds.hi = r->hi;
    ds.x = malloc(n * r->dim * sizeof *ds.x);
    if (!ds.x)
        goto fail;
    if (r->n_modes) {
        ds.modes = malloc(r->n_modes * r->dim * sizeof *ds.modes);
        if (!ds.modes)
            goto fail;
        ds.n_modes = r->n_modes;
        ds.sigma = r->sigma;
        r->means(ds.modes);
    }
    r->draw(&ds, seed, stream_of(r->tag, draw, 0));
    *out = ds;
    return CLGAN_OK;
fail:
    clgan_dataset_free(&ds);
    return clgan_set_error(CLGAN_ENOMEM, "%s: no memory for %zu points of '%s'", fn, n, r->name);
}

clgan_status clgan_dataset_builtin(const char *name, uint64_t seed, size_t n,
                                   struct clgan_dataset *out)
{
    if (!out)
        return clgan_set_error(CLGAN_ENULL, "clgan_dataset_builtin: out must not be NULL");
    memset(out, 0, sizeof *out);
    if (!name)
        return clgan_set_error(CLGAN_ENULL, "clgan_dataset_builtin: name must not be NULL");
    const struct recipe *r = find_recipe(name);
    if (!r)
        return clgan_set_error(CLGAN_EINVAL, "unknown data set '%s' (built-in: %s)", name,
                               clgan_dataset_builtin_names());
    return make(r, seed, DRAW_TRAIN, n, out, "clgan_dataset_builtin");
}

clgan_status clgan_dataset_heldout(const struct clgan_dataset *ds, uint64_t seed, size_t n,
                                   struct clgan_dataset *out)
{
    if (!out)
        return clgan_set_error(CLGAN_ENULL, "clgan_dataset_heldout: out must not be NULL");
    if (!ds) {
        memset(out, 0, sizeof *out);
        return clgan_set_error(CLGAN_ENULL, "clgan_dataset_heldout: ds must not be NULL");
    }
    if (ds == out)
        return clgan_set_error(CLGAN_EINVAL, "clgan_dataset_heldout: out must not be ds");
    char name[sizeof ds->name];
    memcpy(name, ds->name, sizeof name);
    name[sizeof name - 1] = '\0';
    size_t ds_n = ds->n;
    memset(out, 0, sizeof *out);
    const struct recipe *r = find_recipe(name);
    if (!r || ds->dim != r->dim) {
        return clgan_set_error(CLGAN_EINVAL,
                               "clgan_dataset_heldout: '%s' is not a built-in data set (%s), so "
                               "it has no recipe to draw from",
                               name, clgan_dataset_builtin_names());
    }
    return make(r, seed, DRAW_HELDOUT, n ? n : ds_n, out, "clgan_dataset_heldout");
}

void clgan_dataset_free(struct clgan_dataset *ds)
{
    if (!ds)
        return;
    free(ds->x);
    free(ds->modes);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}
