/* cpu_ops.c: every op of the CPU backend in plain C, threaded with OpenMP
 * where the work is large enough to pay for it. Reductions accumulate in
 * double over fixed chunks, so results do not depend on the thread count. */
#include "config.h"

#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "backend/cpu/cpu_internal.h"

/* Below this many elements the OpenMP fork costs more than the loop. */
#define PAR_MIN 32768
/* Chunk of a full reduction: partial sums per chunk, then summed in order. */
#define RED_CHUNK 4096

/* Loops i over [0, n) for a local `n`, threaded when n is large. */
#define FOR_EACH_N \
    _Pragma("omp parallel for schedule(static) if (n > PAR_MIN)") for (size_t i = 0; i < n; i++)

CLGAN_FAMILY_SWITCH_BEGIN
static void elementwise(const struct clgan_op *op)
{
    const size_t n = op->n;
    const float *a = op->in[0] ? clgan_cpu_f32(op->in[0]) : NULL;
    const float *b = op->in[1] ? clgan_cpu_f32(op->in[1]) : NULL;
    float *o = clgan_cpu_f32(op->out[0]);
    const float f0 = op->f[0];

    switch (op->kind) {
    case CLGAN_OP_ADD:
        FOR_EACH_N o[i] = a[i] + b[i];
        break;
    case CLGAN_OP_SUB:
        FOR_EACH_N o[i] = a[i] - b[i];
        break;
    case CLGAN_OP_MUL:
        FOR_EACH_N o[i] = a[i] * b[i];
        break;
    case CLGAN_OP_SCALE:
        FOR_EACH_N o[i] = f0 * a[i];
        break;
    case CLGAN_OP_AXPY:
        FOR_EACH_N o[i] = o[i] + f0 * a[i];
        break;
    case CLGAN_OP_FILL:
        FOR_EACH_N o[i] = f0;
        break;
    case CLGAN_OP_COPY:
        if (o != a)
            memmove(o, a, n * sizeof *o);
        break;
    case CLGAN_OP_RELU:
        FOR_EACH_N o[i] = a[i] > 0.0f ? a[i] : 0.0f;
        break;
    case CLGAN_OP_RELU_BACKWARD:
        FOR_EACH_N o[i] = a[i] > 0.0f ? b[i] : 0.0f;
        break;
    case CLGAN_OP_LEAKY_RELU:
        FOR_EACH_N o[i] = a[i] > 0.0f ? a[i] : f0 * a[i];
        break;
    case CLGAN_OP_LEAKY_RELU_BACKWARD:
        FOR_EACH_N o[i] = a[i] > 0.0f ? b[i] : f0 * b[i];
        break;
    case CLGAN_OP_TANH:
        FOR_EACH_N o[i] = tanhf(a[i]);
        break;
    case CLGAN_OP_TANH_BACKWARD:
        FOR_EACH_N o[i] = b[i] * (1.0f - a[i] * a[i]);
        break;
    case CLGAN_OP_SIGMOID:
        FOR_EACH_N o[i] = 1.0f / (1.0f + expf(-a[i]));
        break;
    case CLGAN_OP_SIGMOID_BACKWARD:
        FOR_EACH_N o[i] = b[i] * a[i] * (1.0f - a[i]);
        break;
    case CLGAN_OP_BCE_LOGITS_BACKWARD:
        FOR_EACH_N o[i] = f0 * (1.0f / (1.0f + expf(-a[i])) - b[i]);
        break;
    default:
        break;
    }
}
CLGAN_FAMILY_SWITCH_END

static void add_row(const struct clgan_op *op)
{
    const float *x = clgan_cpu_f32(op->in[0]), *row = clgan_cpu_f32(op->in[1]);
    float *o = clgan_cpu_f32(op->out[0]);
    const size_t m = op->m, n = op->n;
#pragma omp parallel for schedule(static) if (m * n > PAR_MIN)
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++)
            o[i * n + j] = x[i * n + j] + row[j];
}

static void sum_rows(const struct clgan_op *op)
{
    const float *x = clgan_cpu_f32(op->in[0]);
    float *o = clgan_cpu_f32(op->out[0]);
    const size_t m = op->m, n = op->n;
    const float beta = op->f[0];
    enum { BLK = 64 };
    const size_t nblk = (n + BLK - 1) / BLK;
#pragma omp parallel for schedule(static) if (m * n > PAR_MIN)
    for (size_t bj = 0; bj < nblk; bj++) {
        double acc[BLK] = {0};
        size_t j0 = bj * BLK, w = n - j0 < BLK ? n - j0 : BLK;
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < w; j++)
                acc[j] += x[i * n + j0 + j];
        for (size_t j = 0; j < w; j++)
            o[j0 + j] = (float)(beta == 0.0f ? acc[j] : beta * (double)o[j0 + j] + acc[j]);
    }
}

static void sum_cols(const struct clgan_op *op)
{
    const float *x = clgan_cpu_f32(op->in[0]);
    float *o = clgan_cpu_f32(op->out[0]);
    const size_t m = op->m, n = op->n;
    const float beta = op->f[0];
#pragma omp parallel for schedule(static) if (m * n > PAR_MIN)
    for (size_t i = 0; i < m; i++) {
        double acc = 0;
        for (size_t j = 0; j < n; j++)
            acc += x[i * n + j];
        o[i] = (float)(beta == 0.0f ? acc : beta * (double)o[i] + acc);
    }
}

static double bce_term(float x, float t)
{
    return (double)(fmaxf(x, 0.0f) - x * t + log1pf(expf(-fabsf(x))));
}

/* Sum over all n elements of in[0] (and in[1] for BCE), chunked. */
CLGAN_FAMILY_SWITCH_BEGIN
static double full_sum(const struct clgan_op *op)
{
    const float *x = clgan_cpu_f32(op->in[0]);
    const float *t = op->in[1] ? clgan_cpu_f32(op->in[1]) : NULL;
    const size_t n = op->n, nch = (n + RED_CHUNK - 1) / RED_CHUNK;
    double total = 0;
#pragma omp parallel for ordered schedule(static) if (n > PAR_MIN)
    for (size_t c = 0; c < nch; c++) {
        size_t i0 = c * RED_CHUNK, i1 = i0 + RED_CHUNK < n ? i0 + RED_CHUNK : n;
        double acc = 0;
        switch (op->kind) {
        case CLGAN_OP_MEAN:
            for (size_t i = i0; i < i1; i++)
                acc += x[i];
            break;
        case CLGAN_OP_SUMSQ:
            for (size_t i = i0; i < i1; i++)
                acc += (double)x[i] * x[i];
            break;
        case CLGAN_OP_BCE_LOGITS:
            for (size_t i = i0; i < i1; i++)
                acc += bce_term(x[i], t[i]);
            break;
        default:
            break;
        }
#pragma omp ordered
        total += acc;
    }
    return total;
}
CLGAN_FAMILY_SWITCH_END

static void adam(const struct clgan_op *op)
{
    float *p = clgan_cpu_f32(op->out[0]), *m = clgan_cpu_f32(op->out[1]);
    float *v = clgan_cpu_f32(op->out[2]);
    const float *g = clgan_cpu_f32(op->in[0]);
    const float lr = op->f[0], b1 = op->f[1], b2 = op->f[2], eps = op->f[3];
    const float bc1 = op->f[4], bc2 = op->f[5];
    const size_t n = op->n;
    FOR_EACH_N
    {
        float mi = b1 * m[i] + (1.0f - b1) * g[i];
        float vi = b2 * v[i] + (1.0f - b2) * (g[i] * g[i]);
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] - lr * (mi / bc1) / (sqrtf(vi / bc2) + eps);
    }
}

static void sgd_momentum(const struct clgan_op *op)
{
    float *p = clgan_cpu_f32(op->out[0]), *vel = clgan_cpu_f32(op->out[1]);
    const float *g = clgan_cpu_f32(op->in[0]);
    const float lr = op->f[0], mu = op->f[1];
    const size_t n = op->n;
    FOR_EACH_N
    {
        float vi = mu * vel[i] + g[i];
        vel[i] = vi;
        p[i] = p[i] - lr * vi;
    }
}

static void random_fill(const struct clgan_op *op)
{
    const uint64_t seed = op->seed, stream = op->stream, off = op->offset;
    const float f0 = op->f[0], f1 = op->f[1];
    const size_t n = op->n;
    if (op->kind == CLGAN_OP_RAND_BITS) {
        uint32_t *o = (uint32_t *)clgan_cpu_f32(op->out[0]);
        FOR_EACH_N o[i] = clgan_philox_u32(seed, stream, off + i);
        return;
    }
    float *o = clgan_cpu_f32(op->out[0]);
    if (op->kind == CLGAN_OP_RAND_UNIFORM) {
        FOR_EACH_N o[i] = f0 + (f1 - f0) * clgan_philox_uniform(seed, stream, off + i);
    } else {
        FOR_EACH_N o[i] = f0 + f1 * clgan_philox_normal(seed, stream, off + i);
    }
}

/* One product, or a batch of them: with at least as many products as
 * threads, each thread computes whole products (the GEMM's own parallel
 * region then runs on one thread); otherwise one after another on all
 * threads. The kernel's result does not depend on the thread count, so
 * both give the same bits. */
static void gemm_batch(const struct clgan_op *op)
{
    const float *a = clgan_cpu_f32(op->in[0]), *b = clgan_cpu_f32(op->in[1]);
    float *c = clgan_cpu_f32(op->out[0]);
    const size_t count = op->batch ? op->batch : 1;
#ifdef _OPENMP
    const size_t threads = (size_t)omp_get_max_threads();
#else
    const size_t threads = 1;
#endif
    const int outer = count > 1 && threads > 1 && count >= threads;
#pragma omp parallel for schedule(dynamic, 1) if (outer)
    for (size_t i = 0; i < count; i++)
        clgan_cpu_sgemm(op->trans_a, op->trans_b, op->m, op->n, op->k, op->f[0], a + i * op->stride_a,
                        op->lda, b + i * op->stride_b, op->ldb, op->f[1], c + i * op->stride_c, op->ldc);
}

clgan_status clgan_cpu_exec(clgan_backend *be, const struct clgan_op *op)
{
    switch (op->kind) {
    case CLGAN_OP_GEMM:
        gemm_batch(op);
        return CLGAN_OK;
    case CLGAN_OP_ADD:
    case CLGAN_OP_SUB:
    case CLGAN_OP_MUL:
    case CLGAN_OP_SCALE:
    case CLGAN_OP_AXPY:
    case CLGAN_OP_FILL:
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
        elementwise(op);
        return CLGAN_OK;
    case CLGAN_OP_ADD_ROW:
        add_row(op);
        return CLGAN_OK;
    case CLGAN_OP_SUM_ROWS:
        sum_rows(op);
        return CLGAN_OK;
    case CLGAN_OP_SUM_COLS:
        sum_cols(op);
        return CLGAN_OK;
    case CLGAN_OP_MEAN:
    case CLGAN_OP_BCE_LOGITS:
        *clgan_cpu_f32(op->out[0]) = (float)(full_sum(op) / (double)op->n);
        return CLGAN_OK;
    case CLGAN_OP_SUMSQ:
        *clgan_cpu_f32(op->out[0]) = (float)full_sum(op);
        return CLGAN_OK;
    case CLGAN_OP_ADAM:
        adam(op);
        return CLGAN_OK;
    case CLGAN_OP_SGD_MOMENTUM:
        sgd_momentum(op);
        return CLGAN_OK;
    case CLGAN_OP_RAND_BITS:
    case CLGAN_OP_RAND_UNIFORM:
    case CLGAN_OP_RAND_NORMAL:
        random_fill(op);
        return CLGAN_OK;
    case CLGAN_OP_IM2COL:
    case CLGAN_OP_COL2IM:
    case CLGAN_OP_CHANNEL_BIAS:
    case CLGAN_OP_CHANNEL_SUM:
    case CLGAN_OP_BATCHNORM_STATS:
    case CLGAN_OP_BATCHNORM:
    case CLGAN_OP_BATCHNORM_BACKWARD:
        return clgan_cpu_conv_exec(op);
    case CLGAN_OP_COUNT:
        break;
    }
    return clgan_set_error(CLGAN_ENOTSUP, "cpu: op %d has no implementation", (int)op->kind);
}
