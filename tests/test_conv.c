/* test_conv.c: conv2d and conv_transpose2d (forward, input, weight and bias
 * gradients) on every backend against a direct double-precision
 * convolution over 200 random geometries each, and finite-difference
 * gradient checks of conv2d, conv_transpose2d and training-mode batchnorm
 * on the CPU backend and, when a device exists, on OpenCL; the same ops and
 * the batchnorm layer against values PyTorch computed
 * (tests/torch_reference.txt, written by tests/torch_reference.py), and the
 * DCGAN stacks' layer shapes against PyTorch's for every supported size. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/gan.h"
#include "nn/layer.h"
#include "testutil.h"
#include "train/train_internal.h"

#define U (1.0 / 16777216.0)

static uint64_t rs_i;
static uint32_t rnd(void)
{
    return clgan_philox_u32(777, 5, rs_i++);
}
static float unif(void)
{
    return -1.0f + 2.0f * (float)(rnd() >> 8) / 16777216.0f;
}

/* The tap relation both kinds share: output (or for the transposed conv
 * input) position q of the small side, kernel tap (i, j), and the big-side
 * position it touches. Calls f for every (x index, w index, y index). */
struct geo {
    struct clgan_conv2d p;
    int tr;
    size_t oh, ow;
};

#define FOR_TAPS(G, XI, WI, YI, BODY)                                                         \
    do {                                                                                      \
        const struct clgan_conv2d *P_ = &(G)->p;                                              \
        long sh_ = (long)((G)->tr ? P_->in_h : (G)->oh), sw_ = (long)((G)->tr ? P_->in_w : (G)->ow); \
        long bh_ = (long)((G)->tr ? (G)->oh : P_->in_h), bw_ = (long)((G)->tr ? (G)->ow : P_->in_w); \
        for (size_t n_ = 0; n_ < P_->batch; n_++)                                             \
            for (size_t ci_ = 0; ci_ < P_->in_channels; ci_++)                                \
                for (size_t co_ = 0; co_ < P_->out_channels; co_++)                           \
                    for (long i_ = 0; i_ < (long)P_->kernel_h; i_++)                          \
                        for (long j_ = 0; j_ < (long)P_->kernel_w; j_++)                      \
                            for (long a_ = 0; a_ < sh_; a_++)                                 \
                                for (long b_ = 0; b_ < sw_; b_++) {                           \
                                    long y_ = a_ * (long)P_->stride_h - (long)P_->pad_h + i_; \
                                    long x_ = b_ * (long)P_->stride_w - (long)P_->pad_w + j_; \
                                    if (y_ < 0 || y_ >= bh_ || x_ < 0 || x_ >= bw_)           \
                                        continue;                                             \
                                    size_t sm_ = (size_t)(a_ * sw_ + b_), bg_ = (size_t)(y_ * bw_ + x_); \
                                    size_t XI = (n_ * P_->in_channels + ci_) *               \
                                                    ((G)->tr ? (size_t)(sh_ * sw_) : (size_t)(bh_ * bw_)) + \
                                                ((G)->tr ? sm_ : bg_);                        \
                                    size_t YI = (n_ * P_->out_channels + co_) *               \
                                                    ((G)->tr ? (size_t)(bh_ * bw_) : (size_t)(sh_ * sw_)) + \
                                                ((G)->tr ? bg_ : sm_);                        \
                                    size_t WI = (((G)->tr ? ci_ * P_->out_channels + co_      \
                                                          : co_ * P_->in_channels + ci_) *    \
                                                     P_->kernel_h + (size_t)i_) * P_->kernel_w + (size_t)j_; \
                                    BODY;                                                     \
                                }                                                             \
    } while (0)

/* Exact values and the K-term bound sum|terms| of y, dx, dw, db. */
struct ref {
    double *y, *ya, *dx, *dxa, *dw, *dwa, *db, *dba;
};

static void reference(const struct geo *g, const float *x, const float *w, const float *b,
                      const float *dy, size_t nx, size_t nw, size_t ny, size_t co, struct ref *r)
{
    r->y = calloc(ny, 8), r->ya = calloc(ny, 8), r->dx = calloc(nx, 8), r->dxa = calloc(nx, 8);
    r->dw = calloc(nw, 8), r->dwa = calloc(nw, 8), r->db = calloc(co, 8), r->dba = calloc(co, 8);
    FOR_TAPS(g, xi, wi, yi, {
        r->y[yi] += (double)w[wi] * x[xi];
        r->ya[yi] += fabs((double)w[wi] * x[xi]);
        r->dx[xi] += (double)w[wi] * dy[yi];
        r->dxa[xi] += fabs((double)w[wi] * dy[yi]);
        r->dw[wi] += (double)x[xi] * dy[yi];
        r->dwa[wi] += fabs((double)x[xi] * dy[yi]);
    });
    size_t sp = ny / (g->p.batch * co);
    for (size_t i = 0; i < ny; i++) {
        size_t c = (i / sp) % co;
        r->y[i] += b[c];
        r->ya[i] += fabs((double)b[c]);
        r->db[c] += dy[i];
        r->dba[c] += fabs((double)dy[i]);
    }
}

static void free_ref(struct ref *r)
{
    free(r->y), free(r->ya), free(r->dx), free(r->dxa), free(r->dw), free(r->dwa), free(r->db),
        free(r->dba);
}

/* got vs exact with the README's rule: 1e-5 + 1e-4|e| + 2(K+2)u sum|terms|. */
static size_t n_bad(const float *got, const double *e, const double *ea, size_t n, size_t k,
                    size_t *worst)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if (!(fabs(got[i] - e[i]) <= 1e-5 + 1e-4 * fabs(e[i]) + 2.0 * (double)(k + 2) * U * ea[i])) {
            if (!bad)
                *worst = i;
            bad++;
        }
    return bad;
}

static struct clgan_tensor tens(clgan_backend *be, size_t n, const float *v)
{
    struct clgan_tensor t;
    ck_assert_ok(clgan_tensor_alloc(&t, be, CLGAN_DTYPE_F32, 1, &n, "t"));
    if (v)
        ck_assert_ok(clgan_tensor_write(&t, v, n));
    return t;
}

static float *fresh(size_t n)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = unif();
    return p;
}

/* Runs forward, backward data and backward weight (+bias) of g on be. */
static void run_conv(clgan_backend *be, const struct geo *g, const float *x, const float *w,
                     const float *b, const float *dy, float *y, float *dx, float *dw, float *db,
                     size_t scratch_imgs)
{
    const struct clgan_conv2d *p = &g->p;
    size_t nx = p->batch * p->in_channels * p->in_h * p->in_w;
    size_t ny = p->batch * p->out_channels * g->oh * g->ow;
    size_t nw = p->in_channels * p->out_channels * p->kernel_h * p->kernel_w;
    struct clgan_tensor tx = tens(be, nx, x), tw = tens(be, nw, w), tb = tens(be, p->out_channels, b);
    struct clgan_tensor tdy = tens(be, ny, dy), ty = tens(be, ny, NULL), tdx = tens(be, nx, NULL);
    struct clgan_tensor tdw = tens(be, nw, NULL), tdb = tens(be, p->out_channels, NULL);
    struct clgan_tensor ts = tens(be, clgan_conv2d_scratch(p, g->tr) * scratch_imgs, NULL);
    if (g->tr) {
        ck_assert_ok(clgan_conv_transpose2d_forward(p, &tx, &tw, &tb, &ts, &ty));
        ck_assert_ok(clgan_conv_transpose2d_backward_data(p, &tdy, &tw, &ts, &tdx));
        ck_assert_ok(clgan_conv_transpose2d_backward_weight(p, &tx, &tdy, 0.0f, &ts, &tdw, &tdb));
    } else {
        ck_assert_ok(clgan_conv2d_forward(p, &tx, &tw, &tb, &ts, &ty));
        ck_assert_ok(clgan_conv2d_backward_data(p, &tdy, &tw, &ts, &tdx));
        ck_assert_ok(clgan_conv2d_backward_weight(p, &tx, &tdy, 0.0f, &ts, &tdw, &tdb));
    }
    ck_assert_ok(clgan_tensor_read(&ty, y, ny));
    ck_assert_ok(clgan_tensor_read(&tdx, dx, nx));
    ck_assert_ok(clgan_tensor_read(&tdw, dw, nw));
    ck_assert_ok(clgan_tensor_read(&tdb, db, p->out_channels));
    if (g->tr) {
        /* both backward passes at once: the same bits as one by one */
        float *dx2 = malloc(nx * 4), *dw2 = malloc(nw * 4), *db2 = malloc(p->out_channels * 4);
        ck_assert_ok(clgan_fill(&tdx, 7.0f));
        ck_assert_ok(clgan_conv_transpose2d_backward(p, &tx, &tdy, &tw, 0.0f, &ts, &tdx, &tdw, &tdb));
        ck_assert_ok(clgan_tensor_read(&tdx, dx2, nx));
        ck_assert_ok(clgan_tensor_read(&tdw, dw2, nw));
        ck_assert_ok(clgan_tensor_read(&tdb, db2, p->out_channels));
        ck_assert_msg(!memcmp(dx, dx2, nx * 4) && !memcmp(dw, dw2, nw * 4) &&
                          !memcmp(db, db2, p->out_channels * 4),
                      "conv_transpose2d_backward differs from its two passes one by one");
        ck_assert_ok(clgan_conv_transpose2d_backward(p, &tx, &tdy, NULL, 0.0f, &ts, NULL, &tdw, NULL));
        ck_assert_status(clgan_conv_transpose2d_backward(p, &tx, &tdy, NULL, 0.0f, &ts, &tdx, &tdw, NULL),
                         CLGAN_ENULL);
        free(dx2), free(dw2), free(db2);
    }
    struct clgan_tensor *all[] = {&tx, &tw, &tb, &tdy, &ty, &tdx, &tdw, &tdb, &ts};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        clgan_tensor_release(all[i]);
}

/* A random geometry: batch 1..17, channels 1..65, sizes 1..33, kernels
 * 1..5, strides 1..3, paddings 0..2, the work capped. */
static void random_geo(struct geo *g, int tr)
{
    struct clgan_conv2d *p = &g->p;
    for (;;) {
        *p = (struct clgan_conv2d){1 + rnd() % 17, 1 + rnd() % 65, 1 + rnd() % 65, 1 + rnd() % 33,
                                   0, 1 + rnd() % 5, 0, 1 + rnd() % 3, 0, rnd() % 3, 0, 0, 0};
        p->in_w = rnd() % 2 ? p->in_h : 1 + rnd() % 33;
        p->kernel_w = rnd() % 2 ? p->kernel_h : 1 + rnd() % 5;
        p->stride_w = rnd() % 2 ? p->stride_h : 1 + rnd() % 3;
        p->pad_w = rnd() % 3;
        if (tr) {
            p->in_h = 1 + p->in_h / 3, p->in_w = 1 + p->in_w / 3; /* outputs grow by the stride */
            p->out_pad_h = rnd() % p->stride_h;
            p->out_pad_w = rnd() % p->stride_w;
        }
        g->tr = tr;
        if (clgan_conv2d_out_size(p, tr, &g->oh, &g->ow) != CLGAN_OK)
            continue;
        size_t big = tr ? g->oh * g->ow : p->in_h * p->in_w;
        while ((p->in_channels * p->out_channels * p->kernel_h * p->kernel_w * big * p->batch >
                (1u << 20)) && (p->batch > 1 || p->in_channels > 1 || p->out_channels > 1)) {
            size_t *m = p->batch >= p->in_channels && p->batch >= p->out_channels ? &p->batch
                        : p->in_channels >= p->out_channels                      ? &p->in_channels
                                                                                 : &p->out_channels;
            *m = (*m + 1) / 2;
        }
        return;
    }
}

static void check_backend(clgan_backend *be, int tr, int cases)
{
    rs_i = (uint64_t)tr << 40;
    for (int cs = 0; cs < cases; cs++) {
        struct geo g;
        random_geo(&g, tr);
        const struct clgan_conv2d *p = &g.p;
        size_t nx = p->batch * p->in_channels * p->in_h * p->in_w;
        size_t ny = p->batch * p->out_channels * g.oh * g.ow;
        size_t nw = p->in_channels * p->out_channels * p->kernel_h * p->kernel_w;
        float *x = fresh(nx), *w = fresh(nw), *b = fresh(p->out_channels), *dy = fresh(ny);
        float *y = malloc(ny * 4), *dx = malloc(nx * 4), *dw = malloc(nw * 4);
        float *db = malloc(p->out_channels * 4);
        run_conv(be, &g, x, w, b, dy, y, dx, dw, db, 1 + rnd() % 3);
        struct ref r;
        reference(&g, x, w, b, dy, nx, nw, ny, p->out_channels, &r);
        size_t kk = p->kernel_h * p->kernel_w, wst = 0;
        size_t by = n_bad(y, r.y, r.ya, ny, p->in_channels * kk + 1, &wst);
        size_t bx = n_bad(dx, r.dx, r.dxa, nx, p->out_channels * kk, &wst);
        size_t bw = n_bad(dw, r.dw, r.dwa, nw, p->batch * ny / p->out_channels, &wst);
        size_t bb = n_bad(db, r.db, r.dba, p->out_channels, ny / p->out_channels, &wst);
        ck_assert_msg(by + bx + bw + bb == 0,
                      "%s %s case %d: N=%zu Cin=%zu Cout=%zu %zux%zu k=%zux%zu s=%zux%zu p=%zux%zu "
                      "op=%zux%zu: bad y %zu dx %zu dw %zu db %zu",
                      clgan_backend_name(be), tr ? "conv_transpose2d" : "conv2d", cs, p->batch,
                      p->in_channels, p->out_channels, p->in_h, p->in_w, p->kernel_h, p->kernel_w,
                      p->stride_h, p->stride_w, p->pad_h, p->pad_w, p->out_pad_h, p->out_pad_w, by,
                      bx, bw, bb);
        free_ref(&r);
        free(x), free(w), free(b), free(dy), free(y), free(dx), free(dw), free(db);
    }
}

/* One CPU and one OpenCL backend for the whole suite (no fork: pocl's
 * threads do not survive one, and CLBlast compiles its kernels once). */
static clgan_backend *cpu_be, *ocl_be;
static size_t ocl_cases;

static clgan_backend *open_be(int ocl)
{
    if (ocl && ocl_be)
        ocl_cases++;
    return ocl ? ocl_be : cpu_be;
}

START_TEST(test_conv_vs_reference)
{
    /* _i: bit 0 transposed, bit 1 OpenCL */
    clgan_backend *be = open_be(_i >> 1);
    if (!be)
        return; /* no OpenCL device: nothing to check */
    check_backend(be, _i & 1, 200);
    if (be == ocl_be)
        ocl_cases += 199; /* open_be counted one */
}
END_TEST

/* ---- finite differences ----------------------------------------------- */

/* L = sum r*y for the conv of g, in double from the float output. */
static double conv_loss(clgan_backend *be, const struct geo *g, const float *x, const float *w,
                        const float *b, const float *r, size_t nx, size_t nw, size_t ny)
{
    float *y = malloc(ny * 4), *dx = malloc(nx * 4), *dw = malloc(nw * 4);
    float *db = malloc(g->p.out_channels * 4);
    run_conv(be, g, x, w, b, r, y, dx, dw, db, 2);
    double l = 0;
    for (size_t i = 0; i < ny; i++)
        l += (double)r[i] * y[i];
    free(y), free(dx), free(dw), free(db);
    return l;
}

static void fd_check(const char *what, float *v, size_t n, const float *ana,
                     double (*loss)(void *), void *ctx)
{
    const float h = 1e-2f;
    for (size_t i = 0; i < n; i++) {
        float keep = v[i];
        v[i] = keep + h;
        double lp = loss(ctx);
        v[i] = keep - h;
        double lm = loss(ctx);
        v[i] = keep;
        double num = (lp - lm) / (2.0 * h);
        ck_assert_msg(fabs(num - ana[i]) <= 5e-3 + 1e-2 * fabs(ana[i]),
                      "%s element %zu: finite difference %.6g, backward %.6g", what, i, num, ana[i]);
    }
}

struct conv_fd {
    clgan_backend *be;
    struct geo g;
    float *x, *w, *b, *r;
    size_t nx, nw, ny;
};

static double conv_fd_loss(void *ctx)
{
    struct conv_fd *c = ctx;
    return conv_loss(c->be, &c->g, c->x, c->w, c->b, c->r, c->nx, c->nw, c->ny);
}

START_TEST(test_conv_finite_differences)
{
    clgan_backend *be = open_be(_i >> 1);
    if (!be)
        return;
    struct conv_fd c = {.be = be};
    c.g.tr = _i & 1;
    c.g.p = c.g.tr ? (struct clgan_conv2d){2, 3, 2, 3, 3, 4, 4, 2, 2, 1, 1, 1, 0}
                   : (struct clgan_conv2d){2, 3, 4, 5, 6, 3, 3, 2, 2, 1, 1, 0, 0};
    ck_assert_ok(clgan_conv2d_out_size(&c.g.p, c.g.tr, &c.g.oh, &c.g.ow));
    c.nx = 2 * 3 * c.g.p.in_h * c.g.p.in_w;
    c.nw = 3 * c.g.p.out_channels * c.g.p.kernel_h * c.g.p.kernel_w;
    c.ny = 2 * c.g.p.out_channels * c.g.oh * c.g.ow;
    c.x = fresh(c.nx), c.w = fresh(c.nw), c.b = fresh(c.g.p.out_channels), c.r = fresh(c.ny);
    float *y = malloc(c.ny * 4), *dx = malloc(c.nx * 4), *dw = malloc(c.nw * 4), db[8];
    run_conv(be, &c.g, c.x, c.w, c.b, c.r, y, dx, dw, db, 1);
    fd_check("dx", c.x, c.nx, dx, conv_fd_loss, &c);
    fd_check("dw", c.w, c.nw, dw, conv_fd_loss, &c);
    fd_check("db", c.b, c.g.p.out_channels, db, conv_fd_loss, &c);
    free(c.x), free(c.w), free(c.b), free(c.r), free(y), free(dx), free(dw);
}
END_TEST

struct bn_fd {
    clgan_backend *be;
    size_t n, c, s;
    float *x, *g, *b, *r;
};

/* Training-mode batchnorm: stats of x, normalise; optionally the backward
 * with dy = r. Returns L = sum r*y. */
static double bn_run(struct bn_fd *f, float *dx, float *dg, float *db)
{
    size_t tot = f->n * f->c * f->s;
    struct clgan_tensor tx = tens(f->be, tot, f->x), tg = tens(f->be, f->c, f->g);
    struct clgan_tensor tb = tens(f->be, f->c, f->b), tr = tens(f->be, tot, f->r);
    struct clgan_tensor ts = tens(f->be, 2 * f->c, NULL), ty = tens(f->be, tot, NULL);
    ck_assert_ok(clgan_batchnorm_stats(&tx, f->s, &ts));
    ck_assert_ok(clgan_batchnorm(&tx, &ts, &tg, &tb, f->s, 1e-5f, &ty));
    float *y = malloc(tot * 4);
    ck_assert_ok(clgan_tensor_read(&ty, y, tot));
    if (dx) {
        struct clgan_tensor tdx = tens(f->be, tot, NULL), tdg = tens(f->be, f->c, NULL);
        struct clgan_tensor tdb = tens(f->be, f->c, NULL);
        ck_assert_ok(clgan_batchnorm_backward(&tx, &ts, &tg, &tr, f->s, 1e-5f, 0.0f, &tdx, &tdg, &tdb));
        ck_assert_ok(clgan_tensor_read(&tdx, dx, tot));
        ck_assert_ok(clgan_tensor_read(&tdg, dg, f->c));
        ck_assert_ok(clgan_tensor_read(&tdb, db, f->c));
        clgan_tensor_release(&tdx), clgan_tensor_release(&tdg), clgan_tensor_release(&tdb);
    }
    double l = 0;
    for (size_t i = 0; i < tot; i++)
        l += (double)f->r[i] * y[i];
    free(y);
    struct clgan_tensor *all[] = {&tx, &tg, &tb, &tr, &ts, &ty};
    for (size_t i = 0; i < 6; i++)
        clgan_tensor_release(all[i]);
    return l;
}

static double bn_fd_loss(void *ctx)
{
    return bn_run(ctx, NULL, NULL, NULL);
}

START_TEST(test_batchnorm_finite_differences)
{
    clgan_backend *be = open_be(_i >> 1);
    if (!be)
        return;
    /* _i & 1: flat features [6, 4]; else feature maps [3, 4, 5]. */
    struct bn_fd f = {be, (_i & 1) ? 6 : 3, 4, (_i & 1) ? 1 : 5, NULL, NULL, NULL, NULL};
    size_t tot = f.n * f.c * f.s;
    f.x = fresh(tot), f.g = fresh(f.c), f.b = fresh(f.c), f.r = fresh(tot);
    float *dx = malloc(tot * 4), dg[4], db[4];
    bn_run(&f, dx, dg, db);
    fd_check("bn dx", f.x, tot, dx, bn_fd_loss, &f);
    fd_check("bn dgamma", f.g, f.c, dg, bn_fd_loss, &f);
    fd_check("bn dbeta", f.b, f.c, db, bn_fd_loss, &f);
    free(f.x), free(f.g), free(f.b), free(f.r), free(dx);
}
END_TEST


/* ---- PyTorch's values ------------------------------------------------- */

/* tests/torch_reference.txt (written by tests/torch_reference.py): cases of
 * named float arrays, and the DCGAN layer shapes. */
#define REF_MAX_ARRAYS 16
struct tref {
    char kind[32];
    size_t n, c, h, w, co, k, s, p, op, bias;
    char name[REF_MAX_ARRAYS][16];
    float *v[REF_MAX_ARRAYS];
    size_t len[REF_MAX_ARRAYS], count;
};

static FILE *open_ref(void)
{
    const char *src = getenv("CLGAN_SRCDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/torch_reference.txt", src && *src ? src : ".");
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s (set CLGAN_SRCDIR)", path);
    return f;
}

static size_t kv(const char *line, const char *key)
{
    char pat[16];
    snprintf(pat, sizeof pat, " %s=", key);
    const char *p = strstr(line, pat);
    return p ? (size_t)strtoul(p + strlen(pat), NULL, 10) : 0;
}

/* Reads the next case; 0 at the end of the cases. */
static int next_case(FILE *f, struct tref *r)
{
    static char line[1 << 16];
    memset(r, 0, sizeof *r);
    while (fscanf(f, "%15s", line) == 1) {
        if (!strcmp(line, "shapes"))
            return 0;
        if (!strcmp(line, "case")) {
            ck_assert_int_eq(fscanf(f, "%31s", r->kind), 1);
            ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
            r->n = kv(line, "n"), r->c = kv(line, "c"), r->h = kv(line, "h"), r->w = kv(line, "w");
            r->co = kv(line, "co"), r->k = kv(line, "k"), r->s = kv(line, "s"), r->p = kv(line, "p");
            r->op = kv(line, "op"), r->bias = kv(line, "bias");
            continue;
        }
        if (!strcmp(line, "end"))
            return 1;
        ck_assert_uint_lt(r->count, REF_MAX_ARRAYS);
        size_t i = r->count++, n;
        snprintf(r->name[i], sizeof r->name[i], "%.15s", line);
        ck_assert_int_eq(fscanf(f, "%zu", &n), 1);
        r->len[i] = n;
        r->v[i] = malloc((n ? n : 1) * sizeof(float));
        for (size_t j = 0; j < n; j++)
            ck_assert_int_eq(fscanf(f, "%f", &r->v[i][j]), 1);
    }
    return 0;
}

static const float *ref_arr(const struct tref *r, const char *name, size_t want)
{
    for (size_t i = 0; i < r->count; i++)
        if (!strcmp(r->name[i], name)) {
            ck_assert_msg(r->len[i] == want, "%s %s: %zu values, want %zu", r->kind, name, r->len[i], want);
            return r->v[i];
        }
    ck_abort_msg("%s: no array %s", r->kind, name);
    return NULL;
}

static void free_case(struct tref *r)
{
    for (size_t i = 0; i < r->count; i++)
        free(r->v[i]);
}

/* clgan against PyTorch: |a - t| <= 1e-4 + 1e-4 |t| (float32 both, sums of
 * at most a few hundred O(1) terms in different orders). */
static void near_torch(const char *what, const struct tref *r, const char *name, const float *got,
                       size_t n, clgan_backend *be)
{
    const float *t = ref_arr(r, name, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabsf(got[i] - t[i]) <= 1e-4f + 1e-4f * fabsf(t[i]),
                      "%s on %s: %s[%zu] clgan %.9g, PyTorch %.9g", what, clgan_backend_name(be), name,
                      i, (double)got[i], (double)t[i]);
}

static void torch_conv(clgan_backend *be, const struct tref *r)
{
    struct geo g = {.tr = !strcmp(r->kind, "conv_transpose2d")};
    g.p = (struct clgan_conv2d){r->n, r->c, r->co, r->h, r->w, r->k, r->k, r->s, r->s, r->p, r->p, r->op, r->op};
    ck_assert_ok(clgan_conv2d_out_size(&g.p, g.tr, &g.oh, &g.ow));
    size_t nx = r->n * r->c * r->h * r->w, nw = r->c * r->co * r->k * r->k;
    size_t ny = r->n * r->co * g.oh * g.ow;
    float *zero = calloc(r->co, sizeof *zero);
    const float *b = r->bias ? ref_arr(r, "b", r->co) : zero;
    float *y = malloc(ny * 4), *dx = malloc(nx * 4), *dw = malloc(nw * 4), *db = malloc(r->co * 4);
    run_conv(be, &g, ref_arr(r, "x", nx), ref_arr(r, "w", nw), b, ref_arr(r, "dy", ny), y, dx, dw, db, 1);
    near_torch(r->kind, r, "y", y, ny, be);
    near_torch(r->kind, r, "dx", dx, nx, be);
    near_torch(r->kind, r, "dw", dw, nw, be);
    if (r->bias)
        near_torch(r->kind, r, "db", db, r->co, be);
    free(zero), free(y), free(dx), free(dw), free(db);
}

/* The batchnorm layer as a model of one layer: training forward (batch
 * statistics, then the running averages after one step), backward, and an
 * evaluation forward with the running averages. */
static void torch_bn(clgan_backend *be, const struct tref *r)
{
    const size_t C = r->c, tot = r->n * C * r->h * r->w, dim = tot / r->n;
    struct clgan_layer_spec spec = {.kind = CLGAN_LAYER_BATCHNORM};
    spec.in_shape[0] = C, spec.in_shape[1] = r->h, spec.in_shape[2] = r->w;
    clgan_model *m;
    ck_assert_ok(clgan_model_new(be, dim, &spec, 1, r->n, 1, 0, &m));
    ck_assert_uint_eq(clgan_model_tensor_count(m), 4);
    struct clgan_tensor p[4], gr[4];
    for (size_t i = 0; i < 4; i++)
        ck_assert_ok(clgan_model_tensor(m, i, &p[i], &gr[i]));
    ck_assert_str_eq(p[2].name, "l0.running_mean");
    ck_assert_ok(clgan_tensor_write(&p[0], ref_arr(r, "gamma", C), C));
    ck_assert_ok(clgan_tensor_write(&p[1], ref_arr(r, "beta", C), C));
    struct clgan_tensor x = tens(be, tot, ref_arr(r, "x", tot)), dy = tens(be, tot, ref_arr(r, "dy", tot));
    struct clgan_tensor dx = tens(be, tot, NULL), y;
    float *h = malloc(tot * sizeof *h);
    ck_assert_ok(clgan_model_forward(m, &x, 1, &y));
    ck_assert_ok(clgan_tensor_read(&y, h, tot));
    near_torch("batchnorm (training)", r, "y", h, tot, be);
    ck_assert_ok(clgan_model_backward(m, &dy, &dx));
    ck_assert_ok(clgan_tensor_read(&dx, h, tot));
    near_torch("batchnorm backward", r, "dx", h, tot, be);
    static const char *const names[4] = {"dgamma", "dbeta", "running_mean", "running_var"};
    for (size_t i = 0; i < 4; i++) {
        ck_assert_ok(clgan_tensor_read(i < 2 ? &gr[i] : &p[i], h, C));
        near_torch("batchnorm", r, names[i], h, C, be);
    }
    ck_assert_ok(clgan_model_forward(m, &x, 0, &y));
    ck_assert_ok(clgan_tensor_read(&y, h, tot));
    near_torch("batchnorm (evaluation)", r, "y_eval", h, tot, be);
    free(h);
    clgan_tensor_release(&x), clgan_tensor_release(&dy), clgan_tensor_release(&dx);
    clgan_model_free(m);
}

START_TEST(test_against_torch)
{
    clgan_backend *be = open_be(_i);
    if (!be)
        return;
    FILE *f = open_ref();
    struct tref r;
    size_t cases = 0;
    while (next_case(f, &r)) {
        if (!strcmp(r.kind, "batchnorm"))
            torch_bn(be, &r);
        else
            torch_conv(be, &r);
        free_case(&r);
        cases++;
    }
    fclose(f);
    ck_assert_uint_eq(cases, 8);
}
END_TEST

/* Our DCGAN stacks against PyTorch's layer by layer: the output shape of
 * every linear and convolution layer, for sizes 28, 32, 64 and 1 or 3
 * channels. */
START_TEST(test_dcgan_shapes_torch)
{
    FILE *f = open_ref();
    struct tref r;
    while (next_case(f, &r))
        free_case(&r);
    size_t S, C, checked = 0;
    char net[4], line[1024];
    /* next_case consumed the first "shapes" word */
    while (fscanf(f, "%zu %zu %3s", &S, &C, net) == 3) {
        ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
        struct clgan_train_config cfg;
        ck_assert_ok(clgan_train_config_defaults(&cfg, "fashion-mnist"));
        cfg.model = CLGAN_MODEL_DCGAN;
        cfg.image_channels = C;
        const size_t dim = C * S * S;
        const int is_g = net[0] == 'G';
        struct clgan_layer_spec spec[TRAIN_MAX_LAYERS];
        struct nn_layer lay[TRAIN_MAX_LAYERS];
        size_t n, in, rows;
        ck_assert_ok(train_model_spec(&cfg, dim, is_g, spec, &n, &in, &rows));
        ck_assert_ok(nn_layers_plan(in, spec, n, lay));
        char ours[1024] = "";
        for (size_t i = 0; i < n; i++) {
            enum clgan_layer_kind k = spec[i].kind;
            if (k != CLGAN_LAYER_LINEAR && k != CLGAN_LAYER_CONV2D && k != CLGAN_LAYER_CONV_TRANSPOSE2D)
                continue;
            size_t at = strlen(ours);
            snprintf(ours + at, sizeof ours - at, " %zux%zux%zu", lay[i].out_shape[0], lay[i].out_shape[1],
                     lay[i].out_shape[2]);
        }
        nn_layers_free(lay, n);
        size_t shape[3];
        ck_assert_ok(clgan_model_spec_shape(in, spec, n, shape));
        ck_assert_uint_eq(shape[0] * shape[1] * shape[2], is_g ? dim : 1);
        line[strcspn(line, "\n")] = 0;
        ck_assert_msg(!strcmp(ours, line), "DCGAN %zux%zu, %zu channels, %s: clgan%s, PyTorch%s", S, S, C,
                      net, ours, line);
        checked++;
        if (fscanf(f, "%15s", line) != 1)
            break; /* the next "shapes" */
    }
    fclose(f);
    ck_assert_uint_eq(checked, 12);
    /* a reshape that does not hold the input, and NULLs */
    struct clgan_layer_spec bad = {.kind = CLGAN_LAYER_CONV2D, .units = 2, .kernel = 3, .stride = 1};
    bad.in_shape[0] = 3, bad.in_shape[1] = 5, bad.in_shape[2] = 5;
    size_t shape[3];
    ck_assert_status(clgan_model_spec_shape(74, &bad, 1, shape), CLGAN_ESHAPE);
    ck_assert_ok(clgan_model_spec_shape(75, &bad, 1, shape));
    ck_assert_uint_eq(shape[0], 2);
    ck_assert_uint_eq(shape[1], 3);
    ck_assert_uint_eq(shape[2], 3);
    ck_assert_status(clgan_model_spec_shape(75, NULL, 1, shape), CLGAN_ENULL);
    ck_assert_status(clgan_model_spec_shape(75, &bad, 0, shape), CLGAN_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conv");
    TCase *core = tcase_create("Core");
    tcase_set_timeout(core, 600);
    /* 0, 1: CPU conv2d / transposed; 2, 3: the same on OpenCL (when a
     * device exists, else they pass vacuously and say so below). */
    tcase_add_loop_test(core, test_conv_vs_reference, 0, 4);
    tcase_add_loop_test(core, test_conv_finite_differences, 0, 4);
    tcase_add_loop_test(core, test_batchnorm_finite_differences, 0, 4);
    tcase_add_loop_test(core, test_against_torch, 0, 2);
    tcase_add_test(core, test_dcgan_shapes_torch);
    suite_add_tcase(s, core);
    if (clgan_backend_open("cpu", &cpu_be) != CLGAN_OK) {
        printf("test_conv: cannot open the CPU backend: %s\n", clgan_last_error());
        return 1;
    }
    ocl_be = testutil_open_opencl();
    if (!ocl_be && testutil_skip_status() != 77)
        return 1;
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    printf("conv: %zu OpenCL cases ran (%s)\n", ocl_cases,
           ocl_be ? "conv2d and conv_transpose2d x 200 geometries, finite differences" : "no OpenCL device");
    clgan_backend_free(ocl_be);
    clgan_backend_free(cpu_be);
    return failed ? 1 : 0;
}
