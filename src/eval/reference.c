/* reference.c: naive double-precision implementations of every op, written
 * for clarity, not speed, independent of the backends' code. They define
 * what each op means (including NaN/inf behaviour) and how far a float32
 * result may stray (Higham: |fl(sum) - sum| <= K*u*sum|terms|). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/reference.h"

static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

static void gemm(const struct clgan_ref_case *c, double *o, double *bd)
{
    const double alpha = c->f[0], beta = c->f[1];
    const size_t count = c->batch ? c->batch : 1;
    for (size_t q = 0; q < count; q++) {
        const float *a = c->in[0] + q * c->stride_a, *b = c->in[1] + q * c->stride_b;
        for (size_t i = 0; i < c->m; i++)
            for (size_t j = 0; j < c->n; j++) {
                double s = 0, sa = 0;
                for (size_t p = 0; p < c->k; p++) {
                    double x = c->trans_a ? a[p * c->lda + i] : a[i * c->lda + p];
                    double y = c->trans_b ? b[j * c->ldb + p] : b[p * c->ldb + j];
                    s += x * y;
                    sa += fabs(x * y);
                }
                size_t idx = q * c->stride_c + i * c->ldc + j;
                double cin = c->out_init[0][idx];
                o[idx] = alpha * s + (beta == 0 ? 0.0 : beta * cin);
                bd[idx] = 2.0 * (double)(c->k + 2) * CLGAN_REF_U *
                          (fabs(alpha) * sa + (beta == 0 ? 0.0 : fabs(beta * cin)));
            }
    }
}

CLGAN_FAMILY_SWITCH_BEGIN
static double elem(enum clgan_op_kind kind, double x, double y, double f0)
{
    switch (kind) {
    case CLGAN_OP_ADD:
        return x + y;
    case CLGAN_OP_SUB:
        return x - y;
    case CLGAN_OP_MUL:
        return x * y;
    case CLGAN_OP_SCALE:
        return f0 * x;
    case CLGAN_OP_RELU:
        return x > 0 ? x : 0.0;
    case CLGAN_OP_RELU_BACKWARD:
        return x > 0 ? y : 0.0;
    case CLGAN_OP_LEAKY_RELU:
        return x > 0 ? x : f0 * x;
    case CLGAN_OP_LEAKY_RELU_BACKWARD:
        return x > 0 ? y : f0 * y;
    case CLGAN_OP_TANH:
        return tanh(x);
    case CLGAN_OP_TANH_BACKWARD:
        return y * (1.0 - x * x);
    case CLGAN_OP_SIGMOID:
        return sigmoid(x);
    case CLGAN_OP_SIGMOID_BACKWARD:
        return y * x * (1.0 - x);
    case CLGAN_OP_BCE_LOGITS_BACKWARD:
        return f0 * (sigmoid(x) - y);
    case CLGAN_OP_COPY:
        return x;
    default:
        return NAN;
    }
}
CLGAN_FAMILY_SWITCH_END

static double bce_term(double x, double t)
{
    return fmax(x, 0.0) - x * t + log1p(exp(-fabs(x)));
}

/* im2col by its definition, with signed coordinates. */
static void ref_im2col(const struct clgan_ref_case *c, double *o)
{
    const struct clgan_op_conv *cv = &c->conv;
    const struct clgan_conv_geom *g = &cv->g;
    long C = (long)g->channels, H = (long)g->height, W = (long)g->width;
    long KH = (long)g->kernel_h, KW = (long)g->kernel_w, OH = (long)cv->out_h, OW = (long)cv->out_w;
    size_t idx = 0;
    for (long n = 0; n < (long)cv->count; n++)
        for (long ch = 0; ch < C; ch++)
            for (long i = 0; i < KH; i++)
                for (long j = 0; j < KW; j++)
                    for (long oy = 0; oy < OH; oy++)
                        for (long ox = 0; ox < OW; ox++) {
                            long y = oy * (long)g->stride_h - (long)g->pad_h + i;
                            long x = ox * (long)g->stride_w - (long)g->pad_w + j;
                            long img = (long)cv->first + n;
                            o[idx++] = (y >= 0 && y < H && x >= 0 && x < W)
                                           ? c->in[0][((img * C + ch) * H + y) * W + x]
                                           : 0.0;
                        }
}

/* col2im as the scatter that im2col's adjoint is (the backends gather):
 * every column entry is added to the pixel it came from. */
static void ref_col2im(const struct clgan_ref_case *c, double *o, double *bd)
{
    const struct clgan_op_conv *cv = &c->conv;
    const struct clgan_conv_geom *g = &cv->g;
    long C = (long)g->channels, H = (long)g->height, W = (long)g->width;
    long KH = (long)g->kernel_h, KW = (long)g->kernel_w, OH = (long)cv->out_h, OW = (long)cv->out_w;
    size_t plane = (size_t)(C * H * W), first = cv->first * plane, len = cv->count * plane;
    double *sa = calloc(len, sizeof *sa);
    for (size_t e = 0; e < len; e++) {
        double init = c->f[0] == 0 ? 0.0 : (double)c->f[0] * c->out_init[0][first + e];
        o[first + e] = init;
        if (sa)
            sa[e] = fabs(init);
    }
    size_t idx = 0;
    for (long n = 0; n < (long)cv->count; n++)
        for (long ch = 0; ch < C; ch++)
            for (long i = 0; i < KH; i++)
                for (long j = 0; j < KW; j++)
                    for (long oy = 0; oy < OH; oy++)
                        for (long ox = 0; ox < OW; ox++, idx++) {
                            long y = oy * (long)g->stride_h - (long)g->pad_h + i;
                            long x = ox * (long)g->stride_w - (long)g->pad_w + j;
                            if (y < 0 || y >= H || x < 0 || x >= W)
                                continue;
                            size_t e = (size_t)(((n * C + ch) * H + y) * W + x);
                            o[first + e] += c->in[0][idx];
                            if (sa)
                                sa[e] += fabs((double)c->in[0][idx]);
                        }
    size_t K = (size_t)(KH * KW) + 1;
    for (size_t e = 0; e < len; e++)
        bd[first + e] = sa ? 2.0 * (double)(K + 2) * CLGAN_REF_U * sa[e] : INFINITY;
    free(sa);
}

/* Batch norm: [N, C, S] = [m, n, k]; stats in[1] = mean, var. */
static void ref_batchnorm(const struct clgan_ref_case *c, double *out[3], double *bound[3])
{
    const size_t N = c->m, C = c->n, S = c->k;
    const double M = (double)(N * S), eps = c->f[0];
    const float *x = c->in[0];
    for (size_t ch = 0; ch < C; ch++) {
        if (c->kind == CLGAN_OP_BATCHNORM_STATS) {
            double s = 0, sa = 0, q = 0, qa = 0;
            for (size_t nn = 0; nn < N; nn++)
                for (size_t e = 0; e < S; e++) {
                    s += x[(nn * C + ch) * S + e];
                    sa += fabs((double)x[(nn * C + ch) * S + e]);
                }
            double mean = s / M;
            for (size_t nn = 0; nn < N; nn++)
                for (size_t e = 0; e < S; e++) {
                    double d = x[(nn * C + ch) * S + e] - mean;
                    q += d * d;
                    qa += fabs(d) * (fabs(d) + 2.0 * (M + 2) * CLGAN_REF_U * sa / M);
                }
            out[0][ch] = mean;
            out[0][C + ch] = q / M;
            bound[0][ch] = 2.0 * (M + 2) * CLGAN_REF_U * sa / M;
            /* the sum of squares, plus the float mean's error entering each
             * deviation (both sides compute the deviations in float) */
            bound[0][C + ch] = 4.0 * (M + 4) * CLGAN_REF_U * qa / M;
            continue;
        }
        const double mean = c->in[1][ch], var = c->in[1][C + ch], g = c->in[2][ch];
        const double inv = 1.0 / sqrt(var + eps);
        if (c->kind == CLGAN_OP_BATCHNORM) {
            const double b = c->in[3][ch];
            for (size_t nn = 0; nn < N; nn++)
                for (size_t e = 0; e < S; e++) {
                    size_t i = (nn * C + ch) * S + e;
                    double t = g * (x[i] - mean) * inv;
                    out[0][i] = t + b;
                    bound[0][i] = 8.0 * CLGAN_REF_U * (fabs(t) + fabs(b) + fabs(g * mean * inv));
                }
            continue;
        }
        /* backward */
        const float *dy = c->in[3];
        double sdy = 0, sdyx = 0, ady = 0, adyx = 0;
        for (size_t nn = 0; nn < N; nn++)
            for (size_t e = 0; e < S; e++) {
                size_t i = (nn * C + ch) * S + e;
                double xh = (x[i] - mean) * inv;
                sdy += dy[i];
                sdyx += dy[i] * xh;
                ady += fabs((double)dy[i]);
                adyx += fabs(dy[i] * xh) + fabs(dy[i] * mean * inv);
            }
        const double acc = c->f[1];
        double ig = acc == 0 ? 0.0 : acc * c->out_init[1][ch];
        double ib = acc == 0 ? 0.0 : acc * c->out_init[2][ch];
        out[1][ch] = ig + sdyx;
        out[2][ch] = ib + sdy;
        bound[1][ch] = 2.0 * (M + 8) * CLGAN_REF_U * (adyx + fabs(ig));
        bound[2][ch] = 2.0 * (M + 2) * CLGAN_REF_U * (ady + fabs(ib));
        const double k = g * inv;
        for (size_t nn = 0; nn < N; nn++)
            for (size_t e = 0; e < S; e++) {
                size_t i = (nn * C + ch) * S + e;
                double xh = (x[i] - mean) * inv;
                out[0][i] = k * (dy[i] - sdy / M - xh * sdyx / M);
                bound[0][i] = fabs(k) * (8.0 * CLGAN_REF_U * (fabs((double)dy[i]) + ady / M +
                                                               fabs(xh) * adyx / M) +
                                         fabs(xh) * bound[1][ch] / M + bound[2][ch] / M) +
                              8.0 * CLGAN_REF_U * fabs(out[0][i]);
            }
    }
}

clgan_status clgan_ref_run(const struct clgan_ref_case *c, double *out[3], double *bound[3])
{
    for (int i = 0; i < c->n_out; i++) {
        for (size_t j = 0; j < c->out_len[i]; j++) {
            out[i][j] = c->out_init[i][j];
            bound[i][j] = 0;
        }
    }
    const float *x = c->in[0], *y = c->in[1];
    double *o = out[0], *bd = bound[0];
    const double f0 = c->f[0];
    switch (c->kind) {
    case CLGAN_OP_GEMM:
        gemm(c, o, bd);
        break;
    case CLGAN_OP_ADD:
    case CLGAN_OP_SUB:
    case CLGAN_OP_MUL:
    case CLGAN_OP_SCALE:
    case CLGAN_OP_COPY:
    case CLGAN_OP_RELU:
    case CLGAN_OP_RELU_BACKWARD:
    case CLGAN_OP_LEAKY_RELU:
    case CLGAN_OP_LEAKY_RELU_BACKWARD:
    case CLGAN_OP_TANH:
    case CLGAN_OP_TANH_BACKWARD:
    case CLGAN_OP_SIGMOID:
    case CLGAN_OP_SIGMOID_BACKWARD:
    case CLGAN_OP_BCE_LOGITS_BACKWARD:
        for (size_t i = 0; i < c->n; i++)
            o[i] = elem(c->kind, x[i], y ? y[i] : 0.0, f0);
        break;
    case CLGAN_OP_AXPY:
        for (size_t i = 0; i < c->n; i++)
            o[i] = (double)c->out_init[0][i] + f0 * x[i];
        break;
    case CLGAN_OP_FILL:
        for (size_t i = 0; i < c->n; i++)
            o[i] = f0;
        break;
    case CLGAN_OP_ADD_ROW:
        for (size_t i = 0; i < c->m; i++)
            for (size_t j = 0; j < c->n; j++)
                o[i * c->n + j] = (double)x[i * c->n + j] + y[j];
        break;
    case CLGAN_OP_SUM_ROWS:
    case CLGAN_OP_SUM_COLS: {
        int rows = c->kind == CLGAN_OP_SUM_ROWS;
        size_t nout = rows ? c->n : c->m, nred = rows ? c->m : c->n;
        for (size_t j = 0; j < nout; j++) {
            double s = 0, sa = 0;
            for (size_t i = 0; i < nred; i++) {
                double v = rows ? x[i * c->n + j] : x[j * c->n + i];
                s += v;
                sa += fabs(v);
            }
            double init = c->f[0] == 0 ? 0.0 : c->f[0] * (double)c->out_init[0][j];
            o[j] = init + s;
            bd[j] = 2.0 * (double)(nred + 2) * CLGAN_REF_U * (sa + fabs(init));
        }
        break;
    }
    case CLGAN_OP_MEAN:
    case CLGAN_OP_SUMSQ:
    case CLGAN_OP_BCE_LOGITS: {
        double s = 0, sa = 0;
        for (size_t i = 0; i < c->n; i++) {
            double v = c->kind == CLGAN_OP_MEAN    ? x[i]
                       : c->kind == CLGAN_OP_SUMSQ ? (double)x[i] * x[i]
                                                   : bce_term(x[i], y[i]);
            s += v;
            sa += fabs(v);
        }
        double scale = c->kind == CLGAN_OP_SUMSQ ? 1.0 : 1.0 / (double)c->n;
        o[0] = s * scale;
        /* BCE terms are each computed with a few ulps of error too. */
        bd[0] = 2.0 * (double)(c->n + 8) * CLGAN_REF_U * sa * scale;
        break;
    }
    case CLGAN_OP_ADAM: {
        const double lr = c->f[0], b1 = c->f[1], b2 = c->f[2], eps = c->f[3];
        const double bc1 = 1.0 - pow(b1, (double)c->step), bc2 = 1.0 - pow(b2, (double)c->step);
        for (size_t i = 0; i < c->n; i++) {
            double g = x[i];
            double m = b1 * c->out_init[1][i] + (1.0 - b1) * g;
            double v = b2 * c->out_init[2][i] + (1.0 - b2) * g * g;
            double step = lr * (m / bc1) / (sqrt(v / bc2) + eps);
            out[1][i] = m;
            out[2][i] = v;
            out[0][i] = c->out_init[0][i] - step;
            /* float rounding of the step itself: a few ulps of lr*ratio. */
            bound[0][i] = 16.0 * CLGAN_REF_U * fabs(step);
        }
        break;
    }
    case CLGAN_OP_SGD_MOMENTUM:
        for (size_t i = 0; i < c->n; i++) {
            double v = c->f[1] * c->out_init[1][i] + x[i];
            out[1][i] = v;
            out[0][i] = c->out_init[0][i] - c->f[0] * v;
        }
        break;
    case CLGAN_OP_RAND_BITS:
        /* The value as a number; the op checker compares the raw bits. */
        for (size_t i = 0; i < c->n; i++)
            o[i] = clgan_philox_u32(c->seed, c->stream, c->offset + i);
        break;
    case CLGAN_OP_RAND_UNIFORM:
        for (size_t i = 0; i < c->n; i++) {
            uint32_t u = clgan_philox_u32(c->seed, c->stream, c->offset + i);
            o[i] = c->f[0] + ((double)c->f[1] - c->f[0]) * ((double)(u >> 8) / 16777216.0);
        }
        break;
    case CLGAN_OP_RAND_NORMAL:
        for (size_t i = 0; i < c->n; i++) {
            uint32_t a = clgan_philox_u32(c->seed, c->stream, 2 * (c->offset + i));
            uint32_t b = clgan_philox_u32(c->seed, c->stream, 2 * (c->offset + i) + 1);
            double u1 = ((double)(a >> 8) + 1.0) / 16777216.0, u2 = (double)(b >> 8) / 16777216.0;
            double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
            o[i] = c->f[0] + c->f[1] * z;
            /* float log/cos near their poles: allow a few ulps of |z|*std */
            bd[i] = 64.0 * CLGAN_REF_U * fabs(c->f[1]) * (fabs(z) + 1.0);
        }
        break;
    case CLGAN_OP_IM2COL:
        ref_im2col(c, o);
        break;
    case CLGAN_OP_COL2IM:
        ref_col2im(c, o, bd);
        break;
    case CLGAN_OP_CHANNEL_BIAS:
        for (size_t i = 0; i < c->m * c->n; i++)
            for (size_t e = 0; e < c->k; e++)
                o[i * c->k + e] = (double)x[i * c->k + e] + y[i % c->n];
        break;
    case CLGAN_OP_CHANNEL_SUM:
        for (size_t ch = 0; ch < c->n; ch++) {
            double s = 0, sa = 0;
            for (size_t nn = 0; nn < c->m; nn++)
                for (size_t e = 0; e < c->k; e++) {
                    double v = x[(nn * c->n + ch) * c->k + e];
                    s += v;
                    sa += fabs(v);
                }
            double init = c->f[0] == 0 ? 0.0 : c->f[0] * (double)c->out_init[0][ch];
            o[ch] = init + s;
            bd[ch] = 2.0 * (double)(c->m * c->k + 2) * CLGAN_REF_U * (sa + fabs(init));
        }
        break;
    case CLGAN_OP_BATCHNORM_STATS:
    case CLGAN_OP_BATCHNORM:
    case CLGAN_OP_BATCHNORM_BACKWARD:
        ref_batchnorm(c, out, bound);
        break;
    case CLGAN_OP_COUNT:
        return clgan_set_error(CLGAN_EINVAL, "reference: op count is not an op");
    }
    return CLGAN_OK;
}
