/* opcheck.c: seeded random cases of every op, run on one backend and checked
 * against another backend or the double-precision reference, with canary
 * elements around every output; when two backends disagree, an arbiter holds
 * both against the reference. One implementation serves the test suite,
 * `clgan selftest` and `clgan compare`. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/reference.h"

#define CANARY 16
static const uint32_t canary_bits = 0x7fa5a5a5u; /* a NaN no op produces */

static const size_t special_sizes[] = {1, 7, 17, 33, 63, 65, 127, 129, 257, 784, 1024};
#define N_SPECIAL (sizeof special_sizes / sizeof special_sizes[0])

/* A counter-based host random source for case generation. */
struct rs {
    uint64_t seed, stream, i;
};

static uint32_t rnd(struct rs *r)
{
    return clgan_philox_u32(r->seed, r->stream, r->i++);
}

static uint64_t rnd64(struct rs *r)
{
    uint64_t hi = rnd(r);
    return hi << 32 | rnd(r);
}

static float unif(struct rs *r, float lo, float hi)
{
    return lo + (hi - lo) * (float)(rnd(r) >> 8) * (1.0f / 16777216.0f);
}

static size_t pick_size(struct rs *r, size_t maxrand)
{
    if (rnd(r) & 1)
        return special_sizes[rnd(r) % N_SPECIAL];
    return 1 + rnd(r) % maxrand;
}

struct ocase {
    struct clgan_ref_case rc;
    float *in[4];
    float *out_init[3];
    enum clgan_dtype out_dtype;
};

static void free_case(struct ocase *oc)
{
    for (int i = 0; i < 4; i++)
        free(oc->in[i]);
    for (int i = 0; i < 3; i++)
        free(oc->out_init[i]);
}

static float *fill_new(struct rs *r, size_t n, float lo, float hi)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (p)
        for (size_t i = 0; i < n; i++)
            p[i] = unif(r, lo, hi);
    return p;
}

static void sprinkle_specials(struct rs *r, float *p, size_t n)
{
    static const float sp[] = {NAN, INFINITY, -INFINITY, 0.0f, 1e4f, -1e4f};
    for (size_t i = 0; i < n; i++)
        if (rnd(r) % 20 == 0)
            p[i] = sp[rnd(r) % 6];
}

CLGAN_FAMILY_SWITCH_BEGIN
static int is_elementwise(enum clgan_op_kind k)
{
    switch (k) {
    case CLGAN_OP_ADD: case CLGAN_OP_SUB: case CLGAN_OP_MUL: case CLGAN_OP_SCALE:
    case CLGAN_OP_AXPY: case CLGAN_OP_FILL: case CLGAN_OP_COPY: case CLGAN_OP_RELU:
    case CLGAN_OP_RELU_BACKWARD: case CLGAN_OP_LEAKY_RELU: case CLGAN_OP_LEAKY_RELU_BACKWARD:
    case CLGAN_OP_TANH: case CLGAN_OP_TANH_BACKWARD: case CLGAN_OP_SIGMOID:
    case CLGAN_OP_SIGMOID_BACKWARD: case CLGAN_OP_BCE_LOGITS_BACKWARD:
        return 1;
    default:
        return 0;
    }
}
CLGAN_FAMILY_SWITCH_END

CLGAN_FAMILY_SWITCH_BEGIN
static int n_inputs(enum clgan_op_kind k)
{
    switch (k) {
    case CLGAN_OP_ADD: case CLGAN_OP_SUB: case CLGAN_OP_MUL: case CLGAN_OP_RELU_BACKWARD:
    case CLGAN_OP_LEAKY_RELU_BACKWARD: case CLGAN_OP_TANH_BACKWARD:
    case CLGAN_OP_SIGMOID_BACKWARD: case CLGAN_OP_BCE_LOGITS_BACKWARD: case CLGAN_OP_GEMM:
    case CLGAN_OP_ADD_ROW: case CLGAN_OP_BCE_LOGITS: case CLGAN_OP_CHANNEL_BIAS:
        return 2;
    case CLGAN_OP_BATCHNORM: case CLGAN_OP_BATCHNORM_BACKWARD:
        return 4;
    case CLGAN_OP_FILL: case CLGAN_OP_RAND_BITS: case CLGAN_OP_RAND_UNIFORM:
    case CLGAN_OP_RAND_NORMAL:
        return 0;
    default:
        return 1;
    }
}
CLGAN_FAMILY_SWITCH_END

/* A random im2col / col2im geometry (batch 1..17, channels 1..65, sizes
 * 1..33, kernels 1..5, strides 1..3, paddings 0..2 below the kernel) with
 * its image range, the work capped so that a case stays small. */
static void gen_conv(struct rs *r, struct clgan_ref_case *c, char *desc, size_t desc_cap)
{
    struct clgan_op_conv *cv = &c->conv;
    struct clgan_conv_geom *g = &cv->g;
    memset(cv, 0, sizeof *cv);
    g->batch = 1 + rnd(r) % 17;
    g->channels = 1 + rnd(r) % 65;
    g->height = 1 + rnd(r) % 33;
    g->width = rnd(r) % 4 == 0 ? g->height : 1 + rnd(r) % 33;
    g->kernel_h = 1 + rnd(r) % 5;
    g->kernel_w = rnd(r) % 2 ? g->kernel_h : 1 + rnd(r) % 5;
    g->stride_h = 1 + rnd(r) % 3;
    g->stride_w = rnd(r) % 2 ? g->stride_h : 1 + rnd(r) % 3;
    g->pad_h = rnd(r) % 3;
    g->pad_w = rnd(r) % 2 ? g->pad_h : rnd(r) % 3;
    if (g->pad_h >= g->kernel_h)
        g->pad_h = g->kernel_h - 1;
    if (g->pad_w >= g->kernel_w)
        g->pad_w = g->kernel_w - 1;
    /* The kernel must fit the padded image. */
    while (g->height + 2 * g->pad_h < g->kernel_h)
        g->kernel_h--, g->pad_h = g->pad_h >= g->kernel_h ? g->kernel_h - 1 : g->pad_h;
    while (g->width + 2 * g->pad_w < g->kernel_w)
        g->kernel_w--, g->pad_w = g->pad_w >= g->kernel_w ? g->kernel_w - 1 : g->pad_w;
    cv->out_h = clgan_conv_out_size(g->height, g->kernel_h, g->stride_h, g->pad_h);
    cv->out_w = clgan_conv_out_size(g->width, g->kernel_w, g->stride_w, g->pad_w);
    cv->first = rnd(r) % g->batch;
    cv->count = 1 + rnd(r) % (g->batch - cv->first);
    size_t colimg = g->kernel_h * g->kernel_w * cv->out_h * cv->out_w;
    while (g->channels > 1 && (cv->count * g->channels * colimg > ((size_t)1 << 18) ||
                               g->batch * g->channels * g->height * g->width > ((size_t)1 << 18)))
        g->channels = g->channels / 2;
    while (cv->count * g->channels * colimg > ((size_t)1 << 18) ||
           g->batch * g->channels * g->height * g->width > ((size_t)1 << 18)) {
        g->batch = g->batch / 2 + 1;
        cv->first = cv->first % g->batch;
        cv->count = cv->count < g->batch - cv->first ? cv->count : g->batch - cv->first;
    }
    size_t img = g->batch * g->channels * g->height * g->width;
    size_t col = cv->count * g->channels * colimg;
    int to_col = c->kind == CLGAN_OP_IM2COL;
    /* A few spare column elements check that nothing past the range is written. */
    c->in_len[0] = to_col ? img : col + rnd(r) % 3;
    c->out_len[0] = to_col ? col + rnd(r) % 3 : img;
    static const float betas[] = {0.0f, 1.0f, 0.5f};
    c->f[0] = to_col ? 0.0f : betas[rnd(r) % 3];
    snprintf(desc, desc_cap,
             "N=%zu C=%zu H=%zu W=%zu k=%zux%zu s=%zux%zu p=%zux%zu images %zu+%zu%s%.0g", g->batch,
             g->channels, g->height, g->width, g->kernel_h, g->kernel_w, g->stride_h, g->stride_w,
             g->pad_h, g->pad_w, cv->first, cv->count, to_col ? "" : " beta=", (double)c->f[0]);
}

/* Builds case `idx` of op `kind` under `seed`; desc gets its one-line shape. */
CLGAN_FAMILY_SWITCH_BEGIN
static clgan_status gen_case(enum clgan_op_kind kind, uint64_t seed, size_t idx, struct ocase *oc,
                             char *desc, size_t desc_cap)
{
    struct rs r = {seed, ((uint64_t)kind << 32) | idx, 0};
    struct clgan_ref_case *c = &oc->rc;
    memset(oc, 0, sizeof *oc);
    c->kind = kind;
    c->n_in = n_inputs(kind);
    c->n_out = kind == CLGAN_OP_ADAM || kind == CLGAN_OP_BATCHNORM_BACKWARD ? 3
               : kind == CLGAN_OP_SGD_MOMENTUM                             ? 2
                                                                           : 1;
    oc->out_dtype = kind == CLGAN_OP_RAND_BITS ? CLGAN_DTYPE_U32 : CLGAN_DTYPE_F32;
    int specials = idx % 8 == 7;
    float lo0 = -2, hi0 = 2, lo1 = -2, hi1 = 2;
    size_t n = (rnd(&r) % 10 == 0) ? 70001 : pick_size(&r, 5000);
    c->n = n;
    c->f[0] = unif(&r, -3, 3);

    switch (kind) {
    case CLGAN_OP_GEMM: {
        size_t m = pick_size(&r, 300), nn = pick_size(&r, 300), k = pick_size(&r, 300);
        while (m * nn * k > ((size_t)1 << 22)) {
            size_t *big = m >= nn && m >= k ? &m : nn >= k ? &nn : &k;
            *big = *big / 3 + 1;
        }
        c->m = m, c->n = nn, c->k = k;
        c->trans_a = rnd(&r) & 1;
        c->trans_b = rnd(&r) & 1;
        size_t ac = c->trans_a ? m : k, ar = c->trans_a ? k : m;
        size_t bc = c->trans_b ? k : nn, br = c->trans_b ? nn : k;
        c->lda = ac + (rnd(&r) % 4 == 0 ? rnd(&r) % 5 : 0);
        c->ldb = bc + (rnd(&r) % 4 == 0 ? rnd(&r) % 5 : 0);
        c->ldc = nn + (rnd(&r) % 4 == 0 ? rnd(&r) % 5 : 0);
        static const float alphas[] = {1.0f, -0.5f, 2.5f, 0.75f}, betas[] = {0.0f, 1.0f, 0.5f, -1.0f};
        c->f[0] = alphas[rnd(&r) % 4];
        c->f[1] = betas[rnd(&r) % 4];
        size_t sa = (ar - 1) * c->lda + ac, sb = (br - 1) * c->ldb + bc, sc = (m - 1) * c->ldc + nn;
        /* One case in four a strided batch of 2..5 products (strides at
         * least one matrix's span, sometimes with a gap; A or B sometimes
         * shared by all: stride 0). */
        c->batch = 1;
        if (rnd(&r) % 4 == 1) {
            c->batch = 2 + rnd(&r) % 4;
            while (c->batch > 1 && c->batch * m * nn * k > ((size_t)1 << 22))
                c->batch--;
            c->stride_a = rnd(&r) % 5 == 0 ? 0 : sa + rnd(&r) % 3;
            c->stride_b = rnd(&r) % 5 == 0 ? 0 : sb + rnd(&r) % 3;
            c->stride_c = sc + rnd(&r) % 3;
        }
        c->in_len[0] = (c->batch - 1) * c->stride_a + sa;
        c->in_len[1] = (c->batch - 1) * c->stride_b + sb;
        c->out_len[0] = (c->batch - 1) * c->stride_c + sc;
        snprintf(desc, desc_cap, "m=%zu n=%zu k=%zu ta=%d tb=%d lda=%zu ldb=%zu ldc=%zu alpha=%g beta=%g batch=%zu strides=%zu,%zu,%zu",
                 m, nn, k, c->trans_a, c->trans_b, c->lda, c->ldb, c->ldc, c->f[0], c->f[1],
                 c->batch, c->stride_a, c->stride_b, c->stride_c);
        break;
    }
    case CLGAN_OP_ADD_ROW:
    case CLGAN_OP_SUM_ROWS:
    case CLGAN_OP_SUM_COLS: {
        size_t m = pick_size(&r, 300), nn = pick_size(&r, 300);
        while (m * nn > ((size_t)1 << 20))
            m = m / 2 + 1;
        c->m = m, c->n = nn;
        c->in_len[0] = m * nn;
        c->in_len[1] = nn;
        c->out_len[0] = kind == CLGAN_OP_ADD_ROW ? m * nn : kind == CLGAN_OP_SUM_ROWS ? nn : m;
        static const float betas[] = {0.0f, 1.0f, 0.5f};
        c->f[0] = betas[rnd(&r) % 3];
        snprintf(desc, desc_cap, "rows=%zu cols=%zu beta=%g", m, nn, c->f[0]);
        break;
    }
    case CLGAN_OP_MEAN:
    case CLGAN_OP_SUMSQ:
    case CLGAN_OP_BCE_LOGITS:
        c->in_len[0] = c->in_len[1] = n;
        c->out_len[0] = 1;
        if (kind == CLGAN_OP_BCE_LOGITS)
            lo0 = -6, hi0 = 6, lo1 = 0, hi1 = 1;
        snprintf(desc, desc_cap, "n=%zu", n);
        break;
    case CLGAN_OP_ADAM: {
        static const float lrs[] = {1e-3f, 2e-4f}, b1s[] = {0.9f, 0.5f};
        c->f[0] = lrs[rnd(&r) % 2];
        c->f[1] = b1s[rnd(&r) % 2];
        c->f[2] = 0.999f;
        c->f[3] = 1e-8f;
        c->step = 1 + rnd(&r) % 1000;
        c->in_len[0] = c->out_len[0] = c->out_len[1] = c->out_len[2] = n;
        lo0 = -1, hi0 = 1;
        specials = 0;
        snprintf(desc, desc_cap, "n=%zu lr=%g beta1=%g step=%llu", n, c->f[0], c->f[1],
                 (unsigned long long)c->step);
        break;
    }
    case CLGAN_OP_SGD_MOMENTUM:
        c->f[0] = 0.01f;
        c->f[1] = 0.9f;
        c->in_len[0] = c->out_len[0] = c->out_len[1] = n;
        specials = 0;
        snprintf(desc, desc_cap, "n=%zu lr=0.01 momentum=0.9", n);
        break;
    case CLGAN_OP_RAND_BITS:
    case CLGAN_OP_RAND_UNIFORM:
    case CLGAN_OP_RAND_NORMAL:
        c->seed = rnd64(&r);
        c->stream = rnd(&r) % 4;
        c->offset = rnd(&r) % 3 == 0 ? rnd64(&r) >> 20 : rnd(&r) % 1000;
        c->f[0] = kind == CLGAN_OP_RAND_NORMAL ? 0.0f : (rnd(&r) & 1 ? -1.0f : 0.0f);
        c->f[1] = kind == CLGAN_OP_RAND_NORMAL ? (rnd(&r) & 1 ? 1.0f : 0.02f) : 1.0f;
        c->out_len[0] = n;
        specials = 0;
        snprintf(desc, desc_cap, "n=%zu seed=%llu stream=%llu offset=%llu", n,
                 (unsigned long long)c->seed, (unsigned long long)c->stream,
                 (unsigned long long)c->offset);
        break;
    case CLGAN_OP_IM2COL:
    case CLGAN_OP_COL2IM:
        gen_conv(&r, c, desc, desc_cap);
        specials = 0;
        break;
    case CLGAN_OP_CHANNEL_BIAS:
    case CLGAN_OP_CHANNEL_SUM:
    case CLGAN_OP_BATCHNORM_STATS:
    case CLGAN_OP_BATCHNORM:
    case CLGAN_OP_BATCHNORM_BACKWARD: {
        /* [N, C, S]: batch 1..17, channels 1..65, S = H*W of 1..33 squared,
         * or 1 (flat features) */
        size_t nb = 1 + rnd(&r) % 17, ch = 1 + rnd(&r) % 65, hw = 1 + rnd(&r) % 33;
        size_t sp = rnd(&r) % 4 == 0 ? 1 : hw * (1 + rnd(&r) % 33);
        while (nb * ch * sp > ((size_t)1 << 18))
            sp = sp / 2 + 1;
        c->m = nb, c->n = ch, c->k = sp;
        size_t total = nb * ch * sp;
        c->in_len[0] = total;
        c->f[0] = 1e-5f;
        if (kind == CLGAN_OP_CHANNEL_BIAS) {
            c->in_len[1] = ch;
            c->out_len[0] = total;
        } else if (kind == CLGAN_OP_CHANNEL_SUM) {
            static const float betas[] = {0.0f, 1.0f, 0.5f};
            c->f[0] = betas[rnd(&r) % 3];
            c->out_len[0] = ch;
        } else if (kind == CLGAN_OP_BATCHNORM_STATS) {
            c->out_len[0] = 2 * ch;
            specials = 0;
        } else {
            c->in_len[1] = 2 * ch;
            c->in_len[2] = ch;
            c->in_len[3] = kind == CLGAN_OP_BATCHNORM ? ch : total;
            c->out_len[0] = total;
            if (kind == CLGAN_OP_BATCHNORM_BACKWARD) {
                c->out_len[1] = c->out_len[2] = ch;
                c->f[1] = rnd(&r) & 1 ? 1.0f : 0.0f;
                specials = 0;
            }
        }
        snprintf(desc, desc_cap, "N=%zu C=%zu spatial=%zu%s%s", nb, ch, sp,
                 kind == CLGAN_OP_BATCHNORM_BACKWARD && c->f[1] != 0 ? " accumulate" : "",
                 specials ? " with NaN/inf/0/1e4 inputs" : "");
        break;
    }
    default: /* elementwise */
        c->in_len[0] = c->in_len[1] = c->out_len[0] = n;
        if (kind == CLGAN_OP_TANH_BACKWARD)
            lo0 = -1, hi0 = 1;
        if (kind == CLGAN_OP_SIGMOID_BACKWARD)
            lo0 = 0, hi0 = 1;
        if (kind == CLGAN_OP_BCE_LOGITS_BACKWARD)
            lo0 = -6, hi0 = 6, lo1 = 0, hi1 = 1, c->f[0] = 1.0f / (float)n;
        if (kind == CLGAN_OP_LEAKY_RELU || kind == CLGAN_OP_LEAKY_RELU_BACKWARD)
            c->f[0] = rnd(&r) & 1 ? 0.2f : 0.01f;
        snprintf(desc, desc_cap, "n=%zu%s", n, specials ? " with NaN/inf/0/1e4 inputs" : "");
        break;
    }
    if (specials && kind == CLGAN_OP_GEMM)
        strncat(desc, " with NaN/inf/0/1e4 inputs", desc_cap - strlen(desc) - 1);

    for (int i = 0; i < c->n_in; i++) {
        oc->in[i] = fill_new(&r, c->in_len[i], i ? lo1 : lo0, i ? hi1 : hi0);
        if (!oc->in[i])
            return clgan_set_error(CLGAN_ENOMEM, "opcheck: out of host memory");
        /* Targets of BCE stay in [0,1]: only logits get special values. */
        int targets = i == 1 && (kind == CLGAN_OP_BCE_LOGITS || kind == CLGAN_OP_BCE_LOGITS_BACKWARD);
        /* Batch-norm statistics: a mean in [-0.5, 0.5], a variance in
         * [0.05, 2]. */
        if (i == 1 && (kind == CLGAN_OP_BATCHNORM || kind == CLGAN_OP_BATCHNORM_BACKWARD))
            for (size_t j = 0; j < c->in_len[1]; j++)
                oc->in[1][j] = j < c->n ? 0.25f * oc->in[1][j] : 0.05f + 0.5f * fabsf(oc->in[1][j]) * 1.95f;
        if (specials && !targets && (is_elementwise(kind) || kind == CLGAN_OP_GEMM ||
                                     kind == CLGAN_OP_CHANNEL_BIAS || kind == CLGAN_OP_CHANNEL_SUM ||
                                     kind == CLGAN_OP_IM2COL || (kind == CLGAN_OP_BATCHNORM && i == 0) ||
                                     kind == CLGAN_OP_SUM_ROWS || kind == CLGAN_OP_SUM_COLS ||
                                     kind == CLGAN_OP_MEAN || kind == CLGAN_OP_SUMSQ ||
                                     kind == CLGAN_OP_BCE_LOGITS || kind == CLGAN_OP_ADD_ROW))
            sprinkle_specials(&r, oc->in[i], c->in_len[i]);
        c->in[i] = oc->in[i];
    }
    for (int i = 0; i < c->n_out; i++) {
        float lo = -1, hi = 1;
        if (kind == CLGAN_OP_ADAM && i == 1)
            lo = -0.1f, hi = 0.1f;
        if (kind == CLGAN_OP_ADAM && i == 2)
            lo = 0.0f, hi = 0.01f;
        oc->out_init[i] = fill_new(&r, c->out_len[i], lo, hi);
        if (!oc->out_init[i])
            return clgan_set_error(CLGAN_ENOMEM, "opcheck: out of host memory");
        c->out_init[i] = oc->out_init[i];
    }
    return CLGAN_OK;
}
CLGAN_FAMILY_SWITCH_END

static clgan_status call_op(const struct clgan_ref_case *c, struct clgan_tensor *ti,
                            struct clgan_tensor *to)
{
    switch (c->kind) {
    case CLGAN_OP_GEMM:
        if (c->batch > 1)
            return clgan_gemm_batched(c->trans_a, c->trans_b, c->m, c->n, c->k, c->f[0], &ti[0],
                                      c->lda, c->stride_a, &ti[1], c->ldb, c->stride_b, c->f[1],
                                      &to[0], c->ldc, c->stride_c, c->batch);
        return clgan_gemm(c->trans_a, c->trans_b, c->m, c->n, c->k, c->f[0], &ti[0], c->lda,
                          &ti[1], c->ldb, c->f[1], &to[0], c->ldc);
    case CLGAN_OP_ADD: return clgan_add(&ti[0], &ti[1], &to[0]);
    case CLGAN_OP_SUB: return clgan_sub(&ti[0], &ti[1], &to[0]);
    case CLGAN_OP_MUL: return clgan_mul(&ti[0], &ti[1], &to[0]);
    case CLGAN_OP_SCALE: return clgan_scale(&ti[0], c->f[0], &to[0]);
    case CLGAN_OP_AXPY: return clgan_axpy(c->f[0], &ti[0], &to[0]);
    case CLGAN_OP_FILL: return clgan_fill(&to[0], c->f[0]);
    case CLGAN_OP_COPY: return clgan_copy(&ti[0], &to[0]);
    case CLGAN_OP_ADD_ROW: return clgan_add_row(&ti[0], &ti[1], &to[0]);
    case CLGAN_OP_RELU: return clgan_relu(&ti[0], &to[0]);
    case CLGAN_OP_RELU_BACKWARD: return clgan_relu_backward(&ti[0], &ti[1], &to[0]);
    case CLGAN_OP_LEAKY_RELU: return clgan_leaky_relu(&ti[0], c->f[0], &to[0]);
    case CLGAN_OP_LEAKY_RELU_BACKWARD:
        return clgan_leaky_relu_backward(&ti[0], &ti[1], c->f[0], &to[0]);
    case CLGAN_OP_TANH: return clgan_tanh(&ti[0], &to[0]);
    case CLGAN_OP_TANH_BACKWARD: return clgan_tanh_backward(&ti[0], &ti[1], &to[0]);
    case CLGAN_OP_SIGMOID: return clgan_sigmoid(&ti[0], &to[0]);
    case CLGAN_OP_SIGMOID_BACKWARD: return clgan_sigmoid_backward(&ti[0], &ti[1], &to[0]);
    case CLGAN_OP_SUM_ROWS: return clgan_sum_rows(&ti[0], c->f[0], &to[0]);
    case CLGAN_OP_SUM_COLS: return clgan_sum_cols(&ti[0], c->f[0], &to[0]);
    case CLGAN_OP_MEAN: return clgan_mean(&ti[0], &to[0]);
    case CLGAN_OP_SUMSQ: return clgan_sumsq(&ti[0], &to[0]);
    case CLGAN_OP_BCE_LOGITS: return clgan_bce_logits(&ti[0], &ti[1], &to[0]);
    case CLGAN_OP_BCE_LOGITS_BACKWARD:
        return clgan_bce_logits_backward(&ti[0], &ti[1], c->f[0], &to[0]);
    case CLGAN_OP_ADAM:
        return clgan_adam(&to[0], &ti[0], &to[1], &to[2], c->f[0], c->f[1], c->f[2], c->f[3], c->step);
    case CLGAN_OP_SGD_MOMENTUM:
        return clgan_sgd_momentum(&to[0], &ti[0], &to[1], c->f[0], c->f[1]);
    case CLGAN_OP_RAND_BITS: return clgan_rand_bits(&to[0], c->seed, c->stream, c->offset);
    case CLGAN_OP_RAND_UNIFORM:
        return clgan_rand_uniform(&to[0], c->seed, c->stream, c->offset, c->f[0], c->f[1]);
    case CLGAN_OP_RAND_NORMAL:
        return clgan_rand_normal(&to[0], c->seed, c->stream, c->offset, c->f[0], c->f[1]);
    case CLGAN_OP_IM2COL:
        return clgan_im2col(&ti[0], &c->conv.g, c->conv.first, c->conv.count, &to[0]);
    case CLGAN_OP_COL2IM:
        return clgan_col2im(&ti[0], &c->conv.g, c->conv.first, c->conv.count, c->f[0], &to[0]);
    case CLGAN_OP_CHANNEL_BIAS: return clgan_channel_bias(&ti[0], &ti[1], c->k, &to[0]);
    case CLGAN_OP_CHANNEL_SUM: return clgan_channel_sum(&ti[0], c->k, c->f[0], &to[0]);
    case CLGAN_OP_BATCHNORM_STATS: return clgan_batchnorm_stats(&ti[0], c->k, &to[0]);
    case CLGAN_OP_BATCHNORM:
        return clgan_batchnorm(&ti[0], &ti[1], &ti[2], &ti[3], c->k, c->f[0], &to[0]);
    case CLGAN_OP_BATCHNORM_BACKWARD:
        return clgan_batchnorm_backward(&ti[0], &ti[1], &ti[2], &ti[3], c->k, c->f[0], c->f[1],
                                        &to[0], &to[1], &to[2]);
    case CLGAN_OP_COUNT:
        break;
    }
    return clgan_set_error(CLGAN_EINVAL, "opcheck: not an op");
}

/* Runs the case on `be`; res[i] receives output i (out_len[i] floats).
 * *canary_bad counts touched canaries (and GEMM's ldc gaps). */
static clgan_status run_case(clgan_backend *be, const struct ocase *oc, float *res[3],
                             size_t *canary_bad)
{
    const struct clgan_ref_case *c = &oc->rc;
    struct clgan_tensor ti[4], to[3];
    clgan_buffer *ob[3] = {NULL, NULL, NULL};
    float *host[3] = {NULL, NULL, NULL};
    int n_ti = 0;
    clgan_status s = CLGAN_OK;
    for (int i = 0; i < c->n_in && s == CLGAN_OK; i++) {
        size_t len = c->in_len[i];
        s = clgan_tensor_alloc(&ti[i], be, CLGAN_DTYPE_F32, 1, &len, "input");
        if (s == CLGAN_OK) {
            n_ti++;
            s = clgan_tensor_write(&ti[i], c->in[i], len);
        }
    }
    for (int i = 0; i < c->n_out && s == CLGAN_OK; i++) {
        size_t len = c->out_len[i], total = len + 2 * CANARY;
        host[i] = malloc(total * sizeof(float));
        if (!host[i]) {
            s = clgan_set_error(CLGAN_ENOMEM, "opcheck: out of host memory");
            break;
        }
        for (size_t j = 0; j < CANARY; j++) {
            memcpy(&host[i][j], &canary_bits, 4);
            memcpy(&host[i][CANARY + len + j], &canary_bits, 4);
        }
        memcpy(host[i] + CANARY, c->out_init[i], len * sizeof(float));
        s = clgan_buffer_new(be, total * sizeof(float), &ob[i]);
        if (s == CLGAN_OK)
            s = clgan_buffer_write(ob[i], 0, host[i], total * sizeof(float));
        if (s == CLGAN_OK)
            s = clgan_tensor_init(&to[i], ob[i], CANARY * sizeof(float), oc->out_dtype, 1, &len,
                                  "output");
    }
    if (s == CLGAN_OK)
        s = call_op(c, ti, to);
    for (int i = 0; i < c->n_out && s == CLGAN_OK; i++) {
        size_t len = c->out_len[i], total = len + 2 * CANARY;
        float *back = malloc(total * sizeof(float));
        if (!back) {
            s = clgan_set_error(CLGAN_ENOMEM, "opcheck: out of host memory");
            break;
        }
        s = clgan_buffer_read(ob[i], 0, back, total * sizeof(float));
        if (s == CLGAN_OK) {
            for (size_t j = 0; j < CANARY; j++) {
                *canary_bad += memcmp(&back[j], &canary_bits, 4) != 0;
                *canary_bad += memcmp(&back[CANARY + len + j], &canary_bits, 4) != 0;
            }
            if (c->kind == CLGAN_OP_GEMM) {
                /* the gaps: past n in a row, and between the batch's C */
                const size_t span = (c->m - 1) * c->ldc + c->n;
                for (size_t j = 0; j < len; j++) {
                    size_t in_c = c->batch > 1 ? j % c->stride_c : j;
                    if (in_c >= span || in_c % c->ldc >= c->n)
                        *canary_bad += memcmp(&back[CANARY + j], &c->out_init[0][j], 4) != 0;
                }
            }
            memcpy(res[i], back + CANARY, len * sizeof(float));
        }
        free(back);
    }
    for (int i = 0; i < n_ti; i++)
        clgan_tensor_release(&ti[i]);
    for (int i = 0; i < 3; i++) {
        clgan_buffer_free(ob[i]);
        free(host[i]);
    }
    return s;
}

/* Per-element rule of the op family (see the README's tolerance table). */
static void tolerances(enum clgan_op_kind k, int vs_backend, double *atol, double *rtol,
                       double *nmse)
{
    *atol = 1e-5;
    *rtol = 1e-4;
    *nmse = 1e-7;
    if (vs_backend && (k == CLGAN_OP_RAND_BITS || k == CLGAN_OP_RAND_UNIFORM)) {
        *atol = *rtol = *nmse = 0; /* bit-identical across backends */
    }
}

/* Distance of a float32 result x from the exact value e. The same NaN/inf
 * class is no distance; a different class is infinitely far. */
static double dist_exact(double x, double e)
{
    if (isnan(x) || isnan(e))
        return isnan(x) && isnan(e) ? 0.0 : INFINITY;
    if (isinf(x) || isinf(e))
        return x == e ? 0.0 : INFINITY;
    return fabs(x - e);
}

/* Output element j of case c as a double: rand_bits results are raw bits. */
static double value_of(const struct ocase *oc, const float *v, size_t j)
{
    if (oc->out_dtype == CLGAN_DTYPE_U32) {
        uint32_t u;
        memcpy(&u, &v[j], 4);
        return u;
    }
    return v[j];
}

/* Elements of every output outside the reference tolerance around the exact
 * values. */
static size_t count_off(const struct ocase *oc, float *const r[3], double *const ref[3],
                        double *const bound[3])
{
    const struct clgan_ref_case *c = &oc->rc;
    double atol, rtol, nmse;
    tolerances(c->kind, 0, &atol, &rtol, &nmse);
    size_t off = 0;
    for (int i = 0; i < c->n_out; i++)
        for (size_t j = 0; j < c->out_len[i]; j++) {
            double e = ref[i][j], d = dist_exact(value_of(oc, r[i], j), e);
            double lim = isfinite(e) ? atol + rtol * fabs(e) + bound[i][j] : 0.0;
            if (oc->out_dtype == CLGAN_DTYPE_U32)
                lim = 0.0;
            off += d > lim;
        }
    return off;
}

/* Records where output i of a case reaches res->max_abs. */
static void note_max_abs(const struct ocase *oc, const float *ra, const float *rb, int i,
                         struct clgan_opcheck_result *res)
{
    double best = -1;
    for (size_t j = 0; j < oc->rc.out_len[i]; j++) {
        double x = value_of(oc, ra, j), y = value_of(oc, rb, j);
        if (isfinite(x) && isfinite(y) && fabs(x - y) > best) {
            best = fabs(x - y);
            res->max_abs_output = i;
            res->max_abs_index = j;
            res->max_abs_a = x;
            res->max_abs_b = y;
        }
    }
}

/* The arbiter on a failed case: both sides against the exact values. */
static void arbitrate(const struct ocase *oc, float *const ra[3], float *const rb[3],
                      double *const ref[3], double *const bound[3], int out, size_t idx,
                      size_t canary_a, size_t canary_b, struct clgan_arbiter *arb)
{
    memset(arb, 0, sizeof *arb);
    arb->exact = ref[out][idx];
    arb->err_a = dist_exact(value_of(oc, ra[out], idx), arb->exact);
    arb->err_b = dist_exact(value_of(oc, rb[out], idx), arb->exact);
    arb->off_a = count_off(oc, ra, ref, bound);
    arb->off_b = count_off(oc, rb, ref, bound);
    arb->canary_a = canary_a;
    arb->canary_b = canary_b;
    size_t score_a = arb->off_a + canary_a, score_b = arb->off_b + canary_b;
    if (score_a != score_b)
        arb->verdict = score_a < score_b ? CLGAN_ARBITER_A : CLGAN_ARBITER_B;
    else if (arb->err_a != arb->err_b)
        arb->verdict = arb->err_a < arb->err_b ? CLGAN_ARBITER_A : CLGAN_ARBITER_B;
    else
        arb->verdict = CLGAN_ARBITER_TIE;
}

void clgan_opcheck_tolerance(enum clgan_op_kind kind, int vs_backend, double *atol, double *rtol,
                             double *nmse_max)
{
    double x, y, z;
    tolerances(kind, vs_backend, atol ? atol : &x, rtol ? rtol : &y, nmse_max ? nmse_max : &z);
}

clgan_status clgan_opcheck(clgan_backend *a, clgan_backend *b, enum clgan_op_kind kind,
                           size_t cases, uint64_t seed, struct clgan_opcheck_result *res)
{
    if (!a || !res)
        return clgan_set_error(CLGAN_ENULL, "clgan_opcheck: backend and result must not be NULL");
    if ((int)kind < 0 || kind >= CLGAN_OP_COUNT)
        return clgan_set_error(CLGAN_EINVAL, "clgan_opcheck: op %d does not exist", (int)kind);
    memset(res, 0, sizeof *res);
    res->kind = kind;
    res->pass = 1;
    res->worst.nmse = -1;
    int worst_failed = 0;
    clgan_status s = CLGAN_OK;
    for (size_t idx = 0; idx < cases && s == CLGAN_OK; idx++) {
        struct ocase oc;
        char desc[160];
        float *ra[3] = {NULL, NULL, NULL}, *rb[3] = {NULL, NULL, NULL};
        double *ref[3] = {NULL, NULL, NULL}, *bound[3] = {NULL, NULL, NULL};
        s = gen_case(kind, seed, idx, &oc, desc, sizeof desc);
        const struct clgan_ref_case *c = &oc.rc;
        for (int i = 0; i < c->n_out && s == CLGAN_OK; i++) {
            size_t len = c->out_len[i];
            ra[i] = malloc(len * sizeof(float));
            rb[i] = malloc(len * sizeof(float));
            ref[i] = malloc(len * sizeof(double));
            bound[i] = malloc(len * sizeof(double));
            if (!ra[i] || !rb[i] || !ref[i] || !bound[i])
                s = clgan_set_error(CLGAN_ENOMEM, "opcheck: out of host memory");
        }
        size_t canary_a = 0, canary_b = 0;
        if (s == CLGAN_OK)
            s = run_case(a, &oc, ra, &canary_a);
        if (s == CLGAN_OK)
            s = clgan_ref_run(c, ref, bound);
        if (s == CLGAN_OK && b)
            s = run_case(b, &oc, rb, &canary_b);
        if (s == CLGAN_OK && !b && kind == CLGAN_OP_RAND_BITS) {
            /* Raw bits would not survive a trip through double (NaN payloads). */
            for (size_t j = 0; j < c->out_len[0]; j++) {
                uint32_t u = clgan_philox_u32(c->seed, c->stream, c->offset + j);
                memcpy(&rb[0][j], &u, 4);
            }
        } else if (s == CLGAN_OK && !b) {
            for (int i = 0; i < c->n_out; i++)
                for (size_t j = 0; j < c->out_len[i]; j++)
                    rb[i][j] = (float)ref[i][j];
        }
        int case_pass = 1, wo = 0;
        struct clgan_compare_result cr_worst = {0};
        cr_worst.nmse = -1;
        for (int i = 0; i < c->n_out && s == CLGAN_OK; i++) {
            struct clgan_compare_result cr;
            double atol, rtol, nmse;
            tolerances(kind, b != NULL, &atol, &rtol, &nmse);
            if (kind == CLGAN_OP_RAND_BITS) {
                memset(&cr, 0, sizeof cr);
                cr.n = c->out_len[i];
                for (size_t j = 0; j < cr.n; j++) {
                    double x = value_of(&oc, ra[i], j), y = value_of(&oc, rb[i], j);
                    if (x == y)
                        continue;
                    /* The integers' distance, for the tables; any differing
                     * bit fails. */
                    double d = fabs(x - y), rel = d / (y > 0 ? y : 1.0);
                    cr.max_abs = d > cr.max_abs ? d : cr.max_abs;
                    cr.max_rel = rel > cr.max_rel ? rel : cr.max_rel;
                    if (!cr.n_bad++) {
                        cr.worst_index = j;
                        cr.worst_a = x;
                        cr.worst_b = y;
                    }
                }
                cr.pass = cr.n_bad == 0;
            } else {
                clgan_compare_f32(ra[i], rb[i], (atol == 0 && rtol == 0) ? NULL : bound[i],
                                  c->out_len[i], atol, rtol, nmse, &cr);
            }
            if (cr.max_abs > res->max_abs) {
                res->max_abs = cr.max_abs;
                note_max_abs(&oc, ra[i], rb[i], i, res);
            }
            if (cr.max_rel > res->max_rel)
                res->max_rel = cr.max_rel;
            if (cr.nmse > res->max_nmse)
                res->max_nmse = cr.nmse;
            if (!cr.pass)
                case_pass = 0;
            if (!cr.pass || cr.nmse > cr_worst.nmse)
                if (cr_worst.nmse < 0 || cr_worst.pass || !cr.pass) {
                    cr_worst = cr;
                    wo = i;
                }
        }
        if (s == CLGAN_OK) {
            res->cases++;
            res->canary_failures += canary_a + canary_b;
            if (canary_a + canary_b)
                case_pass = 0;
            if (!case_pass)
                res->failed++;
            int take = (!case_pass && !worst_failed) ||
                       (case_pass == !worst_failed && cr_worst.nmse > res->worst.nmse);
            if (take) {
                res->worst = cr_worst;
                res->worst_output = wo;
                snprintf(res->worst_case, sizeof res->worst_case, "%s", desc);
                worst_failed = !case_pass;
                if (!case_pass && b)
                    arbitrate(&oc, ra, rb, ref, bound, wo, cr_worst.worst_index, canary_a,
                              canary_b, &res->arbiter);
            }
        }
        for (int i = 0; i < 3; i++) {
            free(ra[i]);
            free(rb[i]);
            free(ref[i]);
            free(bound[i]);
        }
        free_case(&oc);
    }
    if (res->worst.nmse < 0)
        res->worst.nmse = 0;
    res->pass = res->failed == 0 && res->canary_failures == 0;
    return s;
}
