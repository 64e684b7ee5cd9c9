/* test_nn.c: finite-difference gradient checks of every layer, every GAN
 * loss and the full D and G objectives, on the CPU backend and, when one
 * opens, on OpenCL; plus dropout masks (exact 0/1 scaling, bit-identical
 * across backends) and the error paths of the model API.
 * Method: central differences (f(p+eps) - f(p-eps)) / (2 eps) in float32
 * parameters with the objective summed in double on the host, eps = 1e-2;
 * pass when |fd - analytic| <= 3e-3 + 3e-2 |analytic|. Piecewise-linear
 * layers (ReLU, leaky ReLU, hinge) may put a kink within eps of a point; up
 * to 3% of the checked elements may then miss (smooth layers: none). */
#include "config.h"

#include <math.h>

#include "clgan/gan.h"
#include "gan/gan.h"
#include "gan/loss.h"
#include "testutil.h"

#define FD_EPS 1e-2
#define FD_ATOL 3e-3
#define FD_RTOL 3e-2

static clgan_backend *backends[2];
static int n_backends;
static int opencl_checks;

static void open_backends(void)
{
    if (n_backends)
        return;
    ck_assert_ok(clgan_backend_open("cpu", &backends[0]));
    n_backends = 1;
    clgan_backend *cl = NULL;
    const char *spec = getenv("CLGAN_TEST_OPENCL");
    clgan_status s = clgan_backend_open(spec && *spec ? spec : "opencl", &cl);
    if (s == CLGAN_OK)
        backends[n_backends++] = cl;
    else
        printf("test_nn: OpenCL gradient checks skipped: %s (%s)\n", clgan_status_name(s),
               clgan_last_error());
}

static float rnd(uint64_t seed, uint64_t i)
{
    return clgan_philox_normal(seed, 77, i);
}

/* A caller-owned 1-D tensor filled from the seeded normal stream (scaled). */
static void tensor_rand(struct clgan_tensor *t, clgan_backend *be, size_t n, uint64_t seed, float scale,
                        float away_from_zero)
{
    ck_assert_ok(clgan_tensor_alloc(t, be, CLGAN_DTYPE_F32, 1, &n, "t"));
    float *h = malloc(n * sizeof *h);
    for (size_t i = 0; i < n; i++) {
        float v = scale * rnd(seed, i);
        if (away_from_zero > 0 && fabsf(v) < away_from_zero)
            v = v < 0 ? v - away_from_zero : v + away_from_zero;
        h[i] = v;
    }
    ck_assert_ok(clgan_tensor_write(t, h, n));
    free(h);
}

/* ------------------------------------------------------------ FD machinery */

typedef double (*objective_fn)(void *ctx);

/* Compares the analytic gradient `an` (n elements, of tensor x) with central
 * differences of f, on up to max_checks evenly spread elements. */
static void fd_check(const char *what, objective_fn f, void *ctx, struct clgan_tensor *x,
                     const float *an, size_t max_checks, double bad_frac_allowed)
{
    size_t n = clgan_tensor_numel(x);
    float *h = malloc(n * sizeof *h);
    ck_assert_ok(clgan_tensor_read(x, h, n));
    size_t stride = n > max_checks ? n / max_checks : 1, checked = 0, bad = 0;
    double worst = 0;
    size_t worst_i = 0;
    double worst_fd = 0;
    for (size_t i = 0; i < n; i += stride) {
        float keep = h[i];
        h[i] = keep + (float)FD_EPS;
        ck_assert_ok(clgan_tensor_write(x, h, n));
        double fp = f(ctx);
        h[i] = keep - (float)FD_EPS;
        ck_assert_ok(clgan_tensor_write(x, h, n));
        double fm = f(ctx);
        h[i] = keep;
        double step = (double)(keep + (float)FD_EPS) - (double)(keep - (float)FD_EPS);
        double fd = (fp - fm) / step;
        double err = fabs(fd - an[i]), bound = FD_ATOL + FD_RTOL * fabs(an[i]);
        if (err > bound)
            bad++;
        if (err - bound > worst) {
            worst = err - bound;
            worst_i = i;
            worst_fd = fd;
        }
        checked++;
    }
    ck_assert_ok(clgan_tensor_write(x, h, n));
    free(h);
    /* a kink may catch one element even in a small tensor */
    double allowed = bad_frac_allowed > 0 ? fmax(1.0, bad_frac_allowed * (double)checked) : 0.0;
    ck_assert_msg((double)bad <= allowed,
                  "%s: %zu of %zu elements off; worst element %zu: analytic %g, finite difference %g",
                  what, bad, checked, worst_i, an[worst_i], worst_fd);
}

/* ------------------------------------------------------------ models */

struct model_obj {
    clgan_model *m;
    struct clgan_tensor *in;
    float *r;       /* weights of the scalar objective sum r_i y_i */
    float *y;
    uint64_t fwd;   /* dropout: replay the same masks */
};

static double model_objective(void *ctx)
{
    struct model_obj *o = ctx;
    struct clgan_tensor y;
    clgan_model_set_forward_count(o->m, o->fwd);
    ck_assert_ok(clgan_model_forward(o->m, o->in, 1, &y));
    size_t n = clgan_tensor_numel(&y);
    ck_assert_ok(clgan_tensor_read(&y, o->y, n));
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)o->r[i] * o->y[i];
    return s;
}

/* Checks input and parameter gradients of a model built from specs. */
static void check_model(clgan_backend *be, const char *what, const struct clgan_layer_spec *specs,
                        size_t n_specs, size_t in_dim, size_t rows, double bad_frac, float away)
{
    clgan_model *m;
    ck_assert_ok(clgan_model_new(be, in_dim, specs, n_specs, rows, 5, 0x100, &m));
    struct clgan_tensor in, din, dout;
    tensor_rand(&in, be, rows * in_dim, 11, 1.0f, away);
    size_t out_n = rows * clgan_model_out_dim(m);
    struct model_obj o = {.m = m, .in = &in, .r = malloc(out_n * sizeof(float)),
                          .y = malloc(out_n * sizeof(float)), .fwd = 3};
    for (size_t i = 0; i < out_n; i++)
        o.r[i] = rnd(12, i);
    ck_assert_ok(clgan_tensor_alloc(&dout, be, CLGAN_DTYPE_F32, 1, &out_n, "dout"));
    ck_assert_ok(clgan_tensor_write(&dout, o.r, out_n));
    size_t in_n = rows * in_dim;
    ck_assert_ok(clgan_tensor_alloc(&din, be, CLGAN_DTYPE_F32, 1, &in_n, "din"));

    model_objective(&o);
    ck_assert_ok(clgan_model_zero_grad(m));
    ck_assert_ok(clgan_model_backward(m, &dout, &din));
    float *g = malloc(in_n * sizeof *g);
    ck_assert_ok(clgan_tensor_read(&din, g, in_n));
    char label[160];
    snprintf(label, sizeof label, "%s on %s: input gradient", what, clgan_backend_name(be));
    fd_check(label, model_objective, &o, &in, g, 64, bad_frac);
    free(g);
    for (size_t k = 0; k < clgan_model_tensor_count(m); k++) {
        struct clgan_tensor p, pg;
        ck_assert_ok(clgan_model_tensor(m, k, &p, &pg));
        size_t n = clgan_tensor_numel(&p);
        float *a = malloc(n * sizeof *a);
        ck_assert_ok(clgan_tensor_read(&pg, a, n));
        snprintf(label, sizeof label, "%s on %s: %s", what, clgan_backend_name(be), p.name);
        fd_check(label, model_objective, &o, &p, a, 48, bad_frac);
        free(a);
    }
    if (strcmp(clgan_backend_name(be), "cpu"))
        opencl_checks++;
    free(o.r);
    free(o.y);
    clgan_tensor_release(&in);
    clgan_tensor_release(&din);
    clgan_tensor_release(&dout);
    clgan_model_free(m);
}

#define LIN(u, i) {.kind = CLGAN_LAYER_LINEAR, .units = (u), .init = (i)}

START_TEST(test_layers_fd)
{
    open_backends();
    for (int b = 0; b < n_backends; b++) {
        clgan_backend *be = backends[b];
        const struct clgan_layer_spec lin_n[] = {LIN(5, CLGAN_INIT_NORMAL)};
        const struct clgan_layer_spec lin_g[] = {LIN(4, CLGAN_INIT_GLOROT)};
        const struct clgan_layer_spec lin_h[] = {LIN(6, CLGAN_INIT_HE)};
        /* normal(0, 0.02) weights give tiny gradients wrt the input; fine. */
        check_model(be, "linear normal", lin_n, 1, 7, 3, 0, 0);
        check_model(be, "linear glorot", lin_g, 1, 3, 5, 0, 0);
        check_model(be, "linear he", lin_h, 1, 9, 2, 0, 0);
        const struct clgan_layer_spec relu[] = {{.kind = CLGAN_LAYER_RELU}};
        const struct clgan_layer_spec leaky[] = {{.kind = CLGAN_LAYER_LEAKY_RELU, .arg = 0.2f}};
        const struct clgan_layer_spec th[] = {{.kind = CLGAN_LAYER_TANH}};
        const struct clgan_layer_spec sg[] = {{.kind = CLGAN_LAYER_SIGMOID}};
        const struct clgan_layer_spec dr[] = {{.kind = CLGAN_LAYER_DROPOUT, .arg = 0.3f}};
        /* Inputs kept 0.05 away from the kinks of ReLU and leaky ReLU. */
        check_model(be, "relu", relu, 1, 6, 4, 0, 0.05f);
        check_model(be, "leaky relu", leaky, 1, 6, 4, 0, 0.05f);
        check_model(be, "tanh", th, 1, 6, 4, 0, 0);
        check_model(be, "sigmoid", sg, 1, 6, 4, 0, 0);
        check_model(be, "dropout", dr, 1, 6, 4, 0, 0);
        const struct clgan_layer_spec stack[] = {
            LIN(16, CLGAN_INIT_HE), {.kind = CLGAN_LAYER_LEAKY_RELU, .arg = 0.2f},
            {.kind = CLGAN_LAYER_DROPOUT, .arg = 0.25f}, LIN(8, CLGAN_INIT_GLOROT),
            {.kind = CLGAN_LAYER_TANH}, LIN(8, CLGAN_INIT_HE), {.kind = CLGAN_LAYER_RELU},
            LIN(3, CLGAN_INIT_GLOROT), {.kind = CLGAN_LAYER_SIGMOID}};
        check_model(be, "sequential", stack, sizeof stack / sizeof stack[0], 5, 6, 0.03, 0);
    }
}
END_TEST

/* ------------------------------------------------------------ losses */

struct loss_obj {
    struct gan_loss *l;
    struct clgan_tensor *logits, *dl, *stats;
    int d;          /* D objective (else G) */
};

static double loss_objective(void *ctx)
{
    struct loss_obj *o = ctx;
    float st[GAN_STATS];
    if (o->d)
        ck_assert_ok(gan_loss_d(o->l, o->logits, o->dl, o->stats));
    else
        ck_assert_ok(gan_loss_g(o->l, o->logits, o->dl, o->stats));
    ck_assert_ok(clgan_tensor_read(o->stats, st, GAN_STATS));
    return o->d ? (double)st[GAN_STAT_D_REAL] + st[GAN_STAT_D_FAKE] : (double)st[GAN_STAT_G];
}

START_TEST(test_losses_fd)
{
    open_backends();
    const size_t rows = 7;
    for (int b = 0; b < n_backends; b++) {
        clgan_backend *be = backends[b];
        for (int kind = CLGAN_LOSS_NS; kind <= CLGAN_LOSS_HINGE; kind++) {
            for (int d = 0; d <= 1; d++) {
                struct gan_loss l;
                ck_assert_ok(gan_loss_init(&l, be, (enum clgan_loss)kind, d ? 0.1f : 0.0f, rows));
                struct clgan_tensor logits, dl, stats;
                size_t n = d ? 2 * rows : rows, ns = GAN_STATS;
                /* hinge: logits kept 0.1 away from its kinks at +-1 */
                tensor_rand(&logits, be, n, 21 + kind, 1.5f, 0);
                if (kind == CLGAN_LOSS_HINGE) {
                    float h[14];
                    ck_assert_ok(clgan_tensor_read(&logits, h, n));
                    for (size_t i = 0; i < n; i++)
                        if (fabsf(fabsf(h[i]) - 1.0f) < 0.1f)
                            h[i] *= 1.3f;
                    ck_assert_ok(clgan_tensor_write(&logits, h, n));
                }
                ck_assert_ok(clgan_tensor_alloc(&dl, be, CLGAN_DTYPE_F32, 1, &n, "dl"));
                ck_assert_ok(clgan_tensor_alloc(&stats, be, CLGAN_DTYPE_F32, 1, &ns, "stats"));
                struct loss_obj o = {.l = &l, .logits = &logits, .dl = &dl, .stats = &stats, .d = d};
                loss_objective(&o);
                float an[14];
                ck_assert_ok(clgan_tensor_read(&dl, an, n));
                char label[96];
                snprintf(label, sizeof label, "%s loss of %s on %s", clgan_loss_name(kind), d ? "D" : "G",
                         clgan_backend_name(be));
                fd_check(label, loss_objective, &o, &logits, an, 64, 0);
                if (b)
                    opencl_checks++;
                clgan_tensor_release(&logits);
                clgan_tensor_release(&dl);
                clgan_tensor_release(&stats);
                gan_loss_release(&l);
            }
        }
    }
}
END_TEST

/* ------------------------------------------------------------ full objectives */

struct gan_obj {
    struct gan *g;
    struct clgan_tensor *real, *z;
    int d;
};

static double gan_objective(void *ctx)
{
    struct gan_obj *o = ctx;
    double st[GAN_STATS];
    clgan_model_set_forward_count(o->g->G, 0);
    clgan_model_set_forward_count(o->g->D, 0);
    ck_assert_ok(gan_d_pass(o->g, o->real, o->z));
    if (!o->d)
        ck_assert_ok(gan_g_pass(o->g));
    /* the accumulators hold exactly this pass */
    o->g->acc_d = o->g->acc_g = 0;
    ck_assert_ok(clgan_fill(&o->g->acc, 0.0f));
    ck_assert_ok(clgan_axpy(1.0f, &o->g->stats, &o->g->acc));
    o->g->acc_d = o->g->acc_g = 1;
    ck_assert_ok(gan_read_stats(o->g, st));
    return o->d ? st[GAN_STAT_D_REAL] + st[GAN_STAT_D_FAKE] : st[GAN_STAT_G];
}

/* Checks every parameter gradient of D's (d) or G's objective of g. */
static void check_objective(struct gan *g, struct clgan_tensor *real, struct clgan_tensor *z, int d,
                            const char *what)
{
    struct gan_obj o = {.g = g, .real = real, .z = z, .d = d};
    clgan_model *net = d ? g->D : g->G;
    for (size_t k = 0; k < clgan_model_tensor_count(net); k++) {
        struct clgan_tensor p, pg;
        ck_assert_ok(clgan_model_tensor(net, k, &p, &pg));
        size_t n = clgan_tensor_numel(&p);
        float *a = malloc(n * sizeof *a);
        gan_objective(&o); /* gradients of the unperturbed point */
        ck_assert_ok(clgan_tensor_read(&pg, a, n));
        char label[160];
        snprintf(label, sizeof label, "%s objective of %s: %s", d ? "D" : "G", what, p.name);
        fd_check(label, gan_objective, &o, &p, a, 24, 0.03);
        free(a);
    }
}

START_TEST(test_gan_objectives_fd)
{
    open_backends();
    const size_t batch = 6, pack = 2, dim = 2, zd = 3;
    for (int b = 0; b < n_backends; b++) {
        clgan_backend *be = backends[b];
        for (int kind = CLGAN_LOSS_NS; kind <= CLGAN_LOSS_HINGE; kind++) {
            const struct clgan_layer_spec gs[] = {LIN(8, CLGAN_INIT_HE), {.kind = CLGAN_LAYER_TANH},
                                                  LIN(dim, CLGAN_INIT_GLOROT)};
            const struct clgan_layer_spec ds[] = {LIN(8, CLGAN_INIT_HE),
                                                  {.kind = CLGAN_LAYER_LEAKY_RELU, .arg = 0.2f},
                                                  LIN(1, CLGAN_INIT_GLOROT)};
            clgan_model *G, *D;
            ck_assert_ok(clgan_model_new(be, zd, gs, 3, batch, 9, 0x100, &G));
            ck_assert_ok(clgan_model_new(be, pack * dim, ds, 3, 2 * batch / pack, 9, 0x200, &D));
            struct gan g;
            ck_assert_ok(gan_init(&g, G, D, NULL, NULL, (enum clgan_loss)kind, 0.0f, batch, pack));
            struct clgan_tensor real, z;
            tensor_rand(&real, be, batch * dim, 31, 1.0f, 0);
            tensor_rand(&z, be, batch * zd, 32, 1.0f, 0);
            for (int d = 1; d >= 0; d--) {
                char what[96];
                snprintf(what, sizeof what, "%s loss on %s", clgan_loss_name(kind), clgan_backend_name(be));
                check_objective(&g, &real, &z, d, what);
                if (b)
                    opencl_checks++;
            }
            clgan_tensor_release(&real);
            clgan_tensor_release(&z);
            gan_release(&g);
            clgan_model_free(G);
            clgan_model_free(D);
        }
    }
}
END_TEST


/* ------------------------------------------------------------ conv layers */

/* He init: with N(0, 0.02) weights a step of eps = 1e-2 before a batch norm
 * (which divides the weights' scale out) is no longer small. */
#define CONV(k_, u_, ker, st, pd, op, nb)                                                       \
    {.kind = (k_), .units = (u_), .init = CLGAN_INIT_HE, .kernel = (ker), .stride = (st), .pad = (pd), \
     .out_pad = (op), .no_bias = (nb)}

START_TEST(test_conv_layers_fd)
{
    open_backends();
    for (int b = 0; b < n_backends; b++) {
        clgan_backend *be = backends[b];
        /* rows are images [2, 5, 4] (40 values) */
        struct clgan_layer_spec c2[] = {CONV(CLGAN_LAYER_CONV2D, 3, 3, 2, 1, 0, 0)};
        c2[0].in_shape[0] = 2, c2[0].in_shape[1] = 5, c2[0].in_shape[2] = 4;
        check_model(be, "conv2d", c2, 1, 40, 3, 0, 0);
        struct clgan_layer_spec ct[] = {CONV(CLGAN_LAYER_CONV_TRANSPOSE2D, 2, 4, 2, 1, 1, 0)};
        ct[0].in_shape[0] = 2, ct[0].in_shape[1] = 5, ct[0].in_shape[2] = 4;
        check_model(be, "conv_transpose2d", ct, 1, 40, 2, 0, 0);
        struct clgan_layer_spec bn2[] = {{.kind = CLGAN_LAYER_BATCHNORM}};
        bn2[0].in_shape[0] = 2, bn2[0].in_shape[1] = 5, bn2[0].in_shape[2] = 4;
        check_model(be, "batchnorm (feature maps)", bn2, 1, 40, 3, 0, 0);
        const struct clgan_layer_spec bn1[] = {LIN(6, CLGAN_INIT_HE), {.kind = CLGAN_LAYER_BATCHNORM}};
        check_model(be, "linear + batchnorm (flat)", bn1, 2, 5, 4, 0, 0);
        /* linear -> image -> BN -> tanh -> transposed conv without bias ->
         * conv -> BN -> flatten -> linear */
        struct clgan_layer_spec st[] = {
            LIN(18, CLGAN_INIT_HE), CONV(CLGAN_LAYER_CONV_TRANSPOSE2D, 3, 4, 2, 1, 0, 1),
            {.kind = CLGAN_LAYER_BATCHNORM}, {.kind = CLGAN_LAYER_TANH},
            CONV(CLGAN_LAYER_CONV2D, 2, 3, 2, 0, 0, 0), {.kind = CLGAN_LAYER_BATCHNORM},
            LIN(2, CLGAN_INIT_GLOROT)};
        st[0].no_bias = 1;
        st[1].in_shape[0] = 2, st[1].in_shape[1] = st[1].in_shape[2] = 3;
        check_model(be, "conv stack", st, sizeof st / sizeof st[0], 4, 5, 0, 0);
    }
}
END_TEST

START_TEST(test_dcgan_objectives_fd)
{
    /* A small DCGAN: G z(3) -> linear 18 (no bias) -> BN -> tanh ->
     * [2, 3, 3] -> transposed conv 4x4/2 -> [1, 6, 6] -> tanh; D [1, 6, 6]
     * -> conv 4x4/2 (no bias) -> [2, 3, 3] -> BN -> tanh -> conv 3x3 ->
     * logit. tanh where DCGAN has (leaky) ReLU: after a batch norm many
     * values sit near the kink, and central differences across a kink miss
     * (the ReLU family is checked on its own above). */
    open_backends();
    const size_t batch = 6, dim = 36, zd = 3;
    for (int b = 0; b < n_backends; b++) {
        clgan_backend *be = backends[b];
        struct clgan_layer_spec gs[] = {LIN(18, CLGAN_INIT_HE), {.kind = CLGAN_LAYER_BATCHNORM},
                                        {.kind = CLGAN_LAYER_TANH},
                                        CONV(CLGAN_LAYER_CONV_TRANSPOSE2D, 1, 4, 2, 1, 0, 1),
                                        {.kind = CLGAN_LAYER_TANH}};
        gs[0].no_bias = 1;
        gs[3].in_shape[0] = 2, gs[3].in_shape[1] = gs[3].in_shape[2] = 3;
        struct clgan_layer_spec ds[] = {CONV(CLGAN_LAYER_CONV2D, 2, 4, 2, 1, 0, 1),
                                        {.kind = CLGAN_LAYER_BATCHNORM},
                                        {.kind = CLGAN_LAYER_TANH},
                                        CONV(CLGAN_LAYER_CONV2D, 1, 3, 1, 0, 0, 1)};
        ds[0].in_shape[0] = 1, ds[0].in_shape[1] = ds[0].in_shape[2] = 6;
        clgan_model *G, *D;
        ck_assert_ok(clgan_model_new(be, zd, gs, 5, batch, 9, 0x100, &G));
        ck_assert_ok(clgan_model_new(be, dim, ds, 4, 2 * batch, 9, 0x200, &D));
        ck_assert_uint_eq(clgan_model_out_dim(G), dim);
        ck_assert_uint_eq(clgan_model_out_dim(D), 1);
        struct gan g;
        ck_assert_ok(gan_init(&g, G, D, NULL, NULL, CLGAN_LOSS_NS, 0.0f, batch, 1));
        struct clgan_tensor real, z;
        tensor_rand(&real, be, batch * dim, 41, 1.0f, 0);
        tensor_rand(&z, be, batch * zd, 42, 1.0f, 0);
        for (int d = 1; d >= 0; d--) {
            char what[96];
            snprintf(what, sizeof what, "a DCGAN on %s", clgan_backend_name(be));
            check_objective(&g, &real, &z, d, what);
            if (b)
                opencl_checks++;
        }
        /* D has batch norm: the D pass judges the real and the fake half
         * each as a batch of its own. Its mean D(x) must be D's output on
         * the real batch alone (a mixed batch would normalise with the
         * statistics of both). */
        double st[GAN_STATS];
        clgan_model_set_forward_count(G, 0);
        ck_assert_ok(gan_d_pass(&g, &real, &z));
        g.acc_d = 1, g.acc_g = 0;
        ck_assert_ok(clgan_fill(&g.acc, 0.0f));
        ck_assert_ok(clgan_axpy(1.0f, &g.stats, &g.acc));
        ck_assert_ok(gan_read_stats(&g, st));
        struct clgan_tensor lr;
        float lg[6];
        ck_assert_ok(clgan_model_forward(D, &real, 1, &lr));
        ck_assert_ok(clgan_tensor_read(&lr, lg, batch));
        double p_real = 0;
        for (size_t i = 0; i < batch; i++)
            p_real += 1.0 / (1.0 + exp(-(double)lg[i])) / (double)batch;
        ck_assert_msg(fabs(p_real - st[GAN_STAT_P_REAL]) < 1e-5, "D(x) of the pass %g, of the real batch alone %g",
                      st[GAN_STAT_P_REAL], p_real);
        clgan_tensor_release(&real);
        clgan_tensor_release(&z);
        gan_release(&g);
        clgan_model_free(G);
        clgan_model_free(D);
    }
}
END_TEST

/* ------------------------------------------------------------ dropout masks */

START_TEST(test_dropout_masks)
{
    open_backends();
    const size_t rows = 64, w = 33;
    const struct clgan_layer_spec dr[] = {{.kind = CLGAN_LAYER_DROPOUT, .arg = 0.25f}};
    float *ref = NULL;
    for (int b = 0; b < n_backends; b++) {
        clgan_model *m;
        ck_assert_ok(clgan_model_new(backends[b], w, dr, 1, rows, 42, 0x300, &m));
        struct clgan_tensor in, y;
        size_t n = rows * w;
        ck_assert_ok(clgan_tensor_alloc(&in, backends[b], CLGAN_DTYPE_F32, 1, &n, "ones"));
        ck_assert_ok(clgan_fill(&in, 1.0f));
        ck_assert_ok(clgan_model_forward(m, &in, 1, &y));
        float *h = malloc(n * sizeof *h);
        ck_assert_ok(clgan_tensor_read(&y, h, n));
        size_t kept = 0;
        for (size_t i = 0; i < n; i++) {
            ck_assert_msg(h[i] == 0.0f || h[i] == 1.0f / 0.75f, "mask value %g", h[i]);
            kept += h[i] != 0.0f;
        }
        /* 2112 draws at p = 0.25: the kept share lies within 5 sigma of 0.75 */
        ck_assert_msg(fabs((double)kept / n - 0.75) < 0.05, "kept %zu of %zu", kept, n);
        /* evaluation mode: identity */
        ck_assert_ok(clgan_model_forward(m, &in, 0, &y));
        float v;
        struct clgan_tensor y0 = y;
        y0.dims[0] = 1;
        y0.dims[1] = 1;
        ck_assert_ok(clgan_tensor_read(&y0, &v, 1));
        ck_assert(v == 1.0f);
        if (!ref)
            ref = h;
        else {
            ck_assert_msg(!memcmp(ref, h, n * sizeof *h), "dropout masks differ between CPU and OpenCL");
            opencl_checks++;
            free(h);
        }
        clgan_tensor_release(&in);
        clgan_model_free(m);
    }
    free(ref);
}
END_TEST

/* ------------------------------------------------------------ limits and errors */

START_TEST(test_model_limits)
{
    open_backends();
    clgan_backend *be = backends[0];
    const struct clgan_layer_spec s[] = {LIN(1, CLGAN_INIT_NORMAL)};
    clgan_model *m;
    /* width 1, batch 1 */
    ck_assert_ok(clgan_model_new(be, 1, s, 1, 1, 0, 0, &m));
    ck_assert_uint_eq(clgan_model_param_count(m), 2);
    struct clgan_tensor x, y;
    size_t one = 1;
    ck_assert_ok(clgan_tensor_alloc(&x, be, CLGAN_DTYPE_F32, 1, &one, "x"));
    ck_assert_ok(clgan_fill(&x, 2.0f));
    ck_assert_ok(clgan_model_forward(m, &x, 1, &y));
    float p[2], v;
    ck_assert_ok(clgan_model_read_params(m, p, 2));
    ck_assert_ok(clgan_tensor_read(&y, &v, 1));
    ck_assert(v == 2.0f * p[0] + p[1]);
    ck_assert(p[1] == 0.0f);
    /* same seed: same bits; the normal init has std 0.02 */
    clgan_model *m2;
    ck_assert_ok(clgan_model_new(be, 1, s, 1, 1, 0, 0, &m2));
    float p2[2];
    ck_assert_ok(clgan_model_read_params(m2, p2, 2));
    ck_assert(!memcmp(p, p2, sizeof p));
    clgan_model_free(m2);
    clgan_tensor_release(&x);
    clgan_model_free(m);
    /* Optimizers: one Adam step moves each parameter by about lr. */
    const struct clgan_layer_spec s3[] = {LIN(3, CLGAN_INIT_GLOROT)};
    ck_assert_ok(clgan_model_new(be, 2, s3, 1, 4, 1, 0, &m));
    struct clgan_tensor params, grads;
    ck_assert_ok(clgan_model_buffers(m, &params, &grads));
    ck_assert_uint_eq(clgan_tensor_numel(&params), 9);
    float before[9], after[9];
    ck_assert_ok(clgan_model_read_params(m, before, 9));
    ck_assert_ok(clgan_fill(&grads, 0.5f));
    clgan_optimizer *o;
    struct clgan_optim_config oc = {.kind = CLGAN_OPTIM_ADAM, .lr = 0.01f, .beta1 = 0.5f,
                                    .beta2 = 0.999f, .eps = 1e-8f};
    ck_assert_ok(clgan_optimizer_new(m, &oc, &o));
    ck_assert_ok(clgan_optimizer_step(o));
    ck_assert_ok(clgan_model_read_params(m, after, 9));
    for (int i = 0; i < 9; i++)
        ck_assert_msg(fabsf(before[i] - after[i] - 0.01f) < 1e-5f, "adam moved %g", before[i] - after[i]);
    ck_assert_uint_eq(clgan_optimizer_steps(o), 1);
    clgan_optimizer_free(o);
    oc.kind = CLGAN_OPTIM_SGD;
    oc.momentum = 0.9f;
    ck_assert_ok(clgan_optimizer_new(m, &oc, &o));
    ck_assert_ok(clgan_optimizer_step(o));
    ck_assert_ok(clgan_optimizer_step(o)); /* velocity 0.5, then 0.95 */
    ck_assert_ok(clgan_model_read_params(m, before, 9));
    for (int i = 0; i < 9; i++)
        ck_assert_msg(fabsf(after[i] - before[i] - 0.01f * 1.45f) < 1e-5f, "sgd moved %g", after[i] - before[i]);
    clgan_optimizer_free(o);
    clgan_model_free(m);
}
END_TEST

START_TEST(test_model_errors)
{
    open_backends();
    clgan_backend *be = backends[0];
    clgan_model *m = NULL;
    const struct clgan_layer_spec s[] = {LIN(3, CLGAN_INIT_NORMAL)};
    ck_assert_status(clgan_model_new(NULL, 2, s, 1, 4, 0, 0, &m), CLGAN_ENULL);
    ck_assert_status(clgan_model_new(be, 2, s, 0, 4, 0, 0, &m), CLGAN_EINVAL);
    ck_assert_status(clgan_model_new(be, 0, s, 1, 4, 0, 0, &m), CLGAN_ERANGE);
    ck_assert_status(clgan_model_new(be, 2, s, 1, 0, 0, 0, &m), CLGAN_ERANGE);
    const struct clgan_layer_spec bad_units[] = {LIN(0, CLGAN_INIT_NORMAL)};
    ck_assert_status(clgan_model_new(be, 2, bad_units, 1, 4, 0, 0, &m), CLGAN_ERANGE);
    const struct clgan_layer_spec bad_drop[] = {{.kind = CLGAN_LAYER_DROPOUT, .arg = 1.0f}};
    ck_assert_status(clgan_model_new(be, 2, bad_drop, 1, 4, 0, 0, &m), CLGAN_EINVAL);
    const struct clgan_layer_spec bad_kind[] = {{.kind = (enum clgan_layer_kind)99}};
    ck_assert_status(clgan_model_new(be, 2, bad_kind, 1, 4, 0, 0, &m), CLGAN_EINVAL);
    ck_assert_ptr_null(m);
    ck_assert_ok(clgan_model_new(be, 2, s, 1, 4, 0, 0, &m));
    struct clgan_tensor x, y, d;
    size_t n5 = 5, n10 = 10, n8 = 8;
    ck_assert_ok(clgan_tensor_alloc(&x, be, CLGAN_DTYPE_F32, 1, &n5, "x5"));
    ck_assert_status(clgan_model_forward(m, &x, 1, &y), CLGAN_ESHAPE);
    clgan_tensor_release(&x);
    ck_assert_ok(clgan_tensor_alloc(&x, be, CLGAN_DTYPE_F32, 1, &n10, "x10"));
    ck_assert_status(clgan_model_forward(m, &x, 1, &y), CLGAN_ERANGE); /* 5 rows > 4 */
    ck_assert_ok(clgan_tensor_alloc(&d, be, CLGAN_DTYPE_F32, 1, &n8, "d8"));
    ck_assert_status(clgan_model_backward(m, &d, NULL), CLGAN_EINVAL); /* no forward yet */
    struct clgan_tensor x8 = d;
    ck_assert_ok(clgan_fill(&x8, 1.0f));
    ck_assert_ok(clgan_model_forward(m, &x8, 1, &y)); /* 4 rows */
    ck_assert_status(clgan_model_backward(m, &d, NULL), CLGAN_ESHAPE); /* want 12 */
    struct clgan_tensor big, alias;
    size_t n20 = 20;
    ck_assert_ok(clgan_tensor_alloc(&big, be, CLGAN_DTYPE_F32, 1, &n20, "big"));
    struct clgan_tensor d12 = big;
    d12.dims[0] = 12;
    alias = big;
    alias.dims[0] = 8;
    alias.offset = 4 * sizeof(float); /* overlaps d12 */
    ck_assert_status(clgan_model_backward(m, &d12, &alias), CLGAN_EINVAL);
    alias.offset = 12 * sizeof(float);
    ck_assert_ok(clgan_model_backward(m, &d12, &alias));
    clgan_tensor_release(&big);
    ck_assert_status(clgan_model_tensor(m, 2, NULL, NULL), CLGAN_ERANGE);
    ck_assert_status(clgan_model_read_params(m, (float[7]){0}, 7), CLGAN_ESHAPE);
    clgan_optimizer *o = NULL;
    struct clgan_optim_config oc = {.kind = CLGAN_OPTIM_ADAM, .lr = 0.0f, .beta1 = 0.5f,
                                    .beta2 = 0.999f, .eps = 1e-8f};
    ck_assert_status(clgan_optimizer_new(m, &oc, &o), CLGAN_EINVAL);
    oc.lr = 1e-3f;
    oc.beta1 = 1.0f;
    ck_assert_status(clgan_optimizer_new(m, &oc, &o), CLGAN_EINVAL);
    ck_assert_ptr_null(o);
    enum clgan_loss l;
    ck_assert_status(clgan_loss_parse("wgan", &l), CLGAN_EINVAL);
    ck_assert_ok(clgan_loss_parse("hinge", &l));
    ck_assert_int_eq(l, CLGAN_LOSS_HINGE);
    ck_assert_str_eq(clgan_loss_name(CLGAN_LOSS_LSGAN), "lsgan");
    clgan_tensor_release(&x);
    clgan_tensor_release(&d);
    clgan_model_free(m);
    clgan_model_free(NULL);
    clgan_optimizer_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn");
    TCase *core = tcase_create("Core");
    tcase_set_timeout(core, 400);
    tcase_add_test(core, test_layers_fd);
    tcase_add_test(core, test_losses_fd);
    tcase_add_test(core, test_gan_objectives_fd);
    tcase_add_test(core, test_conv_layers_fd);
    tcase_add_test(core, test_dcgan_objectives_fd);
    tcase_add_test(core, test_dropout_masks);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("Limits");
    tcase_add_test(lim, test_model_limits);
    suite_add_tcase(s, lim);
    TCase *err = tcase_create("Errors");
    tcase_add_test(err, test_model_errors);
    suite_add_tcase(s, err);
    /* One process: the OpenCL count below covers every test. */
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    printf("test_nn: %d OpenCL gradient/mask checks ran%s\n", opencl_checks,
           n_backends > 1 ? "" : " (no OpenCL device)");
    for (int b = 0; b < n_backends; b++)
        clgan_backend_free(backends[b]);
    return failed ? 1 : 0;
}
