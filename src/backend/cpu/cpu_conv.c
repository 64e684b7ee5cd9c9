/* cpu_conv.c: the CPU backend's convolution and batch-normalisation ops:
 * im2col, col2im (every pixel adds its column entries in tap order, in
 * float as on OpenCL), per-channel bias and sums, batchnorm statistics,
 * apply, backward. Sums run in a fixed order (channel sums and batch norm in
 * double), so results do not depend on the thread count. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu_internal.h"

#define PAR_MIN 32768

/* The taps ox of one kernel column j that land inside the image: x = ox *
 * stride + j - pad in [0, W). Sets [*lo, *hi). */
static void tap_range(size_t out, size_t in, size_t stride, size_t pad, size_t j, size_t *lo,
                      size_t *hi)
{
    /* first ox with ox * stride + j >= pad */
    size_t l = j >= pad ? 0 : (pad - j + stride - 1) / stride;
    /* last ox with ox * stride + j - pad <= in - 1 */
    size_t h = in - 1 + pad >= j ? (in - 1 + pad - j) / stride + 1 : 0;
    *lo = l < out ? l : out;
    *hi = h < out ? h : out;
    if (*hi < *lo)
        *hi = *lo;
}

static void im2col(const struct clgan_op *op)
{
    const struct clgan_op_conv *cv = &op->conv;
    const struct clgan_conv_geom *g = &cv->g;
    const float *x = clgan_cpu_f32(op->in[0]);
    float *col = clgan_cpu_f32(op->out[0]);
    const size_t C = g->channels, H = g->height, W = g->width, KH = g->kernel_h, KW = g->kernel_w;
    const size_t OH = cv->out_h, OW = cv->out_w, rows = cv->count * C * KH * KW;
#pragma omp parallel for schedule(static) if (rows * OH * OW > PAR_MIN)
    for (size_t r = 0; r < rows; r++) {
        size_t j = r % KW, i = (r / KW) % KH, c = (r / (KW * KH)) % C, n = r / (KW * KH * C);
        const float *img = x + ((cv->first + n) * C + c) * H * W;
        float *dst = col + r * OH * OW;
        size_t ox0, ox1;
        tap_range(OW, W, g->stride_w, g->pad_w, j, &ox0, &ox1);
        for (size_t oy = 0; oy < OH; oy++) {
            /* Unsigned wrap-around makes a negative row fail the < H test. */
            size_t iy = oy * g->stride_h + i - g->pad_h;
            float *d = dst + oy * OW;
            if (iy >= H || ox0 == ox1) {
                for (size_t ox = 0; ox < OW; ox++)
                    d[ox] = 0.0f;
                continue;
            }
            const float *src = img + iy * W + (ox0 * g->stride_w + j - g->pad_w);
            for (size_t ox = 0; ox < ox0; ox++)
                d[ox] = 0.0f;
            if (g->stride_w == 1)
                memcpy(d + ox0, src, (ox1 - ox0) * sizeof *d);
            else
                for (size_t q = 0; q < ox1 - ox0; q++)
                    d[ox0 + q] = src[q * g->stride_w];
            for (size_t ox = ox1; ox < OW; ox++)
                d[ox] = 0.0f;
        }
    }
}

/* Every pixel sums the column entries that came from it in tap order (i, j
 * ascending) in float, as the OpenCL kernel does. With beta 0 (the layers'
 * case) the sums are built in place, tap by tap over contiguous rows of the
 * column matrix; otherwise pixel by pixel (beta x + the sum). No scratch:
 * nothing is allocated in the training step. */
static void col2im(const struct clgan_op *op)
{
    const struct clgan_op_conv *cv = &op->conv;
    const struct clgan_conv_geom *g = &cv->g;
    const float *col = clgan_cpu_f32(op->in[0]);
    float *x = clgan_cpu_f32(op->out[0]);
    const size_t C = g->channels, H = g->height, W = g->width, KH = g->kernel_h, KW = g->kernel_w;
    const size_t OH = cv->out_h, OW = cv->out_w, planes = cv->count * C, HW = H * W;
    const float beta = op->f[0];
#pragma omp parallel for schedule(static) if (planes * HW > PAR_MIN)
    for (size_t p = 0; p < planes; p++) {
        size_t c = p % C, n = p / C;
        float *img = x + ((cv->first + n) * C + c) * HW;
        const float *src = col + p * KH * KW * OH * OW;
        if (beta != 0.0f) {
            for (size_t e = 0; e < HW; e++) {
                size_t y = e / W, xx = e % W;
                float sum = 0.0f;
                for (size_t i = 0; i < KH; i++)
                    for (size_t j = 0; j < KW; j++) {
                        size_t ty = y + g->pad_h - i, tx = xx + g->pad_w - j;
                        if (ty > y + g->pad_h || ty % g->stride_h || ty / g->stride_h >= OH ||
                            tx > xx + g->pad_w || tx % g->stride_w || tx / g->stride_w >= OW)
                            continue;
                        sum += src[(i * KW + j) * OH * OW + (ty / g->stride_h) * OW + tx / g->stride_w];
                    }
                img[e] = beta * img[e] + sum;
            }
            continue;
        }
        for (size_t e = 0; e < HW; e++)
            img[e] = 0.0f;
        for (size_t i = 0; i < KH; i++) {
            size_t oy0, oy1;
            tap_range(OH, H, g->stride_h, g->pad_h, i, &oy0, &oy1);
            for (size_t j = 0; j < KW; j++) {
                size_t ox0, ox1;
                tap_range(OW, W, g->stride_w, g->pad_w, j, &ox0, &ox1);
                if (ox0 == ox1)
                    continue;
                const float *t = src + (i * KW + j) * OH * OW;
                const size_t x0 = ox0 * g->stride_w + j - g->pad_w; /* >= 0 by tap_range */
                for (size_t oy = oy0; oy < oy1; oy++) {
                    float *row = img + (oy * g->stride_h + i - g->pad_h) * W + x0;
                    const float *tr = t + oy * OW + ox0;
                    for (size_t q = 0; q < ox1 - ox0; q++)
                        row[q * g->stride_w] += tr[q];
                }
            }
        }
    }
}

static void channel_bias(const struct clgan_op *op)
{
    const float *x = clgan_cpu_f32(op->in[0]), *b = clgan_cpu_f32(op->in[1]);
    float *o = clgan_cpu_f32(op->out[0]);
    const size_t planes = op->m * op->n, S = op->k;
#pragma omp parallel for schedule(static) if (planes * S > PAR_MIN)
    for (size_t p = 0; p < planes; p++) {
        float v = b[p % op->n];
        for (size_t s = 0; s < S; s++)
            o[p * S + s] = x[p * S + s] + v;
    }
}

/* Sum over n and s of f(x[n][c][s]) for channel c, in that order. */
static double chan_sum(const float *x, size_t N, size_t C, size_t S, size_t c, double shift,
                       int square)
{
    double acc = 0;
    for (size_t n = 0; n < N; n++) {
        const float *p = x + (n * C + c) * S;
        for (size_t s = 0; s < S; s++) {
            double v = (double)p[s] - shift;
            acc += square ? v * v : v;
        }
    }
    return acc;
}

static void channel_sum(const struct clgan_op *op)
{
    const float *x = clgan_cpu_f32(op->in[0]);
    float *o = clgan_cpu_f32(op->out[0]);
    const size_t N = op->m, C = op->n, S = op->k;
    const float beta = op->f[0];
#pragma omp parallel for schedule(static) if (N * C * S > PAR_MIN)
    for (size_t c = 0; c < C; c++) {
        double s = chan_sum(x, N, C, S, c, 0.0, 0);
        o[c] = (float)(beta == 0.0f ? s : (double)beta * o[c] + s);
    }
}

static void bn_stats(const struct clgan_op *op)
{
    const float *x = clgan_cpu_f32(op->in[0]);
    float *st = clgan_cpu_f32(op->out[0]);
    const size_t N = op->m, C = op->n, S = op->k;
    const double M = (double)(N * S);
#pragma omp parallel for schedule(static) if (N * C * S > PAR_MIN)
    for (size_t c = 0; c < C; c++) {
        /* Two passes: the variance from deviations, not E[x^2] - mean^2. */
        double mean = chan_sum(x, N, C, S, c, 0.0, 0) / M;
        double var = chan_sum(x, N, C, S, c, mean, 1) / M;
        st[c] = (float)mean;
        st[C + c] = (float)var;
    }
}

static void bn_apply(const struct clgan_op *op)
{
    const float *x = clgan_cpu_f32(op->in[0]), *st = clgan_cpu_f32(op->in[1]);
    const float *gam = clgan_cpu_f32(op->in[2]), *bet = clgan_cpu_f32(op->in[3]);
    float *y = clgan_cpu_f32(op->out[0]);
    const size_t planes = op->m * op->n, C = op->n, S = op->k;
    const float eps = op->f[0];
#pragma omp parallel for schedule(static) if (planes * S > PAR_MIN)
    for (size_t p = 0; p < planes; p++) {
        size_t c = p % C;
        /* The same float expressions as the OpenCL kernel. */
        float mean = st[c], inv = 1.0f / sqrtf(st[C + c] + eps), g = gam[c], b = bet[c];
        for (size_t s = 0; s < S; s++)
            y[p * S + s] = g * ((x[p * S + s] - mean) * inv) + b;
    }
}

static void bn_backward(const struct clgan_op *op)
{
    const float *x = clgan_cpu_f32(op->in[0]), *st = clgan_cpu_f32(op->in[1]);
    const float *gam = clgan_cpu_f32(op->in[2]), *dy = clgan_cpu_f32(op->in[3]);
    float *dx = clgan_cpu_f32(op->out[0]), *dg = clgan_cpu_f32(op->out[1]);
    float *db = clgan_cpu_f32(op->out[2]);
    const size_t N = op->m, C = op->n, S = op->k;
    const float eps = op->f[0], acc = op->f[1];
    const float M = (float)(N * S);
#pragma omp parallel for schedule(static) if (N * C * S > PAR_MIN)
    for (size_t c = 0; c < C; c++) {
        float mean = st[c], inv = 1.0f / sqrtf(st[C + c] + eps);
        double sdy = 0, sdyx = 0;
        for (size_t n = 0; n < N; n++)
            for (size_t s = 0; s < S; s++) {
                size_t e = (n * C + c) * S + s;
                float xh = (x[e] - mean) * inv;
                sdy += dy[e];
                sdyx += (double)dy[e] * xh;
            }
        float mdy = (float)sdy / M, mdyx = (float)sdyx / M, k = gam[c] * inv;
        for (size_t n = 0; n < N; n++)
            for (size_t s = 0; s < S; s++) {
                size_t e = (n * C + c) * S + s;
                float xh = (x[e] - mean) * inv;
                dx[e] = k * (dy[e] - mdy - xh * mdyx);
            }
        dg[c] = (float)(acc == 0.0f ? sdyx : (double)acc * dg[c] + sdyx);
        db[c] = (float)(acc == 0.0f ? sdy : (double)acc * db[c] + sdy);
    }
}

CLGAN_FAMILY_SWITCH_BEGIN
clgan_status clgan_cpu_conv_exec(const struct clgan_op *op)
{
    switch (op->kind) {
    case CLGAN_OP_IM2COL:
        im2col(op);
        break;
    case CLGAN_OP_COL2IM:
        col2im(op);
        break;
    case CLGAN_OP_CHANNEL_BIAS:
        channel_bias(op);
        break;
    case CLGAN_OP_CHANNEL_SUM:
        channel_sum(op);
        break;
    case CLGAN_OP_BATCHNORM_STATS:
        bn_stats(op);
        break;
    case CLGAN_OP_BATCHNORM:
        bn_apply(op);
        break;
    case CLGAN_OP_BATCHNORM_BACKWARD:
        bn_backward(op);
        break;
    default:
        return clgan_set_error(CLGAN_EINTERNAL, "cpu: op %d is not a convolution op",
                               (int)op->kind);
    }
    return CLGAN_OK;
}
CLGAN_FAMILY_SWITCH_END
