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
    const float *a = c->in[0], *b = c->in[1];
    const double alpha = c->f[0], beta = c->f[1];
    for (size_t i = 0; i < c->m; i++)
        for (size_t j = 0; j < c->n; j++) {
            double s = 0, sa = 0;
            for (size_t p = 0; p < c->k; p++) {
                double x = c->trans_a ? a[p * c->lda + i] : a[i * c->lda + p];
                double y = c->trans_b ? b[j * c->ldb + p] : b[p * c->ldb + j];
                s += x * y;
                sa += fabs(x * y);
            }
            size_t idx = i * c->ldc + j;
            double cin = c->out_init[0][idx];
            o[idx] = alpha * s + (beta == 0 ? 0.0 : beta * cin);
            bd[idx] = 2.0 * (double)(c->k + 2) * CLGAN_REF_U *
                      (fabs(alpha) * sa + (beta == 0 ? 0.0 : fabs(beta * cin)));
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
    case CLGAN_OP_COUNT:
        return clgan_set_error(CLGAN_EINVAL, "reference: op count is not an op");
    }
    return CLGAN_OK;
}
