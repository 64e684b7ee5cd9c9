/* ops.c: the public tensor operations. Each validates its arguments (NULLs,
 * dtypes, shapes, bounds, one backend for all tensors), fills a struct
 * clgan_op and hands it to the backend's exec(). Nothing here knows which
 * backend runs. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "backend/backend_impl.h"
#include "core/fault.h"

static const char *const op_names[] = {
#define XX(name, str) str,
    CLGAN_OP_MAP(XX)
#undef XX
};
_Static_assert(sizeof op_names / sizeof op_names[0] == CLGAN_OP_COUNT,
               "op name table out of step with enum clgan_op_kind");

const char *clgan_op_name(enum clgan_op_kind kind)
{
    if ((int)kind < 0 || kind >= CLGAN_OP_COUNT)
        return "unknown";
    return op_names[kind];
}

int clgan_backend_supports(const clgan_backend *be, enum clgan_op_kind kind)
{
    if (!be || (int)kind < 0 || kind >= CLGAN_OP_COUNT)
        return 0;
    return be->vt->supports(be, kind);
}

/* Checks that every tensor is non-NULL, has a buffer, the wanted dtype, and
 * that all share one backend; returns that backend in *be. */
static clgan_status check_tensors(enum clgan_op_kind kind, const struct clgan_tensor *const *ts,
                                  int n, enum clgan_dtype dtype, clgan_backend **be)
{
    const char *op = clgan_op_name(kind);
    *be = NULL;
    for (int i = 0; i < n; i++) {
        const struct clgan_tensor *t = ts[i];
        if (!t || !t->buffer)
            return clgan_set_error(CLGAN_ENULL, "%s: tensor argument %d is NULL or has no buffer", op,
                                   i + 1);
        if (t->ndim < 1 || t->ndim > CLGAN_MAX_DIMS || clgan_tensor_numel(t) == 0)
            return clgan_set_error(CLGAN_ERANGE, "%s: tensor '%s' has a bad shape", op, t->name);
        if (t->dtype != dtype)
            return clgan_set_error(CLGAN_EDTYPE, "%s: tensor '%s' has dtype %d, the op wants %d", op,
                                   t->name, (int)t->dtype, (int)dtype);
        if (t->offset > t->buffer->size || clgan_tensor_bytes(t) > t->buffer->size - t->offset)
            return clgan_set_error(CLGAN_ERANGE, "%s: tensor '%s' reaches past its buffer", op, t->name);
        if (*be && t->buffer->backend != *be)
            return clgan_set_error(CLGAN_EBACKEND, "%s: tensor '%s' belongs to backend %s, not %s", op,
                                   t->name, t->buffer->backend->vt->name, (*be)->vt->name);
        *be = t->buffer->backend;
    }
    if (!(*be)->vt->supports(*be, kind))
        return clgan_set_error(CLGAN_ENOTSUP, "%s: the %s backend does not run this op", op,
                               (*be)->vt->name);
    return CLGAN_OK;
}

static clgan_status same_count(enum clgan_op_kind kind, const struct clgan_tensor *a,
                               const struct clgan_tensor *b)
{
    if (clgan_tensor_numel(a) != clgan_tensor_numel(b))
        return clgan_set_error(CLGAN_ESHAPE, "%s: tensor '%s' has %zu elements, '%s' has %zu",
                               clgan_op_name(kind), a->name, clgan_tensor_numel(a), b->name,
                               clgan_tensor_numel(b));
    return CLGAN_OK;
}

static clgan_status run(clgan_backend *be, const struct clgan_op *op)
{
    clgan_clear_error();
    clgan_status s = be->vt->exec(be, op);
    /* Test builds only (--enable-fault-injection); empty otherwise. */
    return s == CLGAN_OK ? clgan_fault_apply(be, op) : s;
}

/* ---------------------------------------------------------------- GEMM */

/* Elements spanned by a rows x cols row-major matrix with leading dim ld. */
static int span_fits(size_t rows, size_t cols, size_t ld, size_t numel)
{
    if (ld < cols)
        return 0;
    if (rows - 1 > (SIZE_MAX - cols) / ld)
        return 0;
    return (rows - 1) * ld + cols <= numel;
}

/* Offset count-1 strides past the start, plus one matrix's span, within
 * numel (no overflow). */
static int batch_fits(size_t rows, size_t cols, size_t ld, size_t stride, size_t count, size_t numel)
{
    if (!span_fits(rows, cols, ld, numel))
        return 0;
    size_t span = (rows - 1) * ld + cols;
    return count <= 1 || (stride <= (numel - span) / (count - 1));
}

clgan_status clgan_gemm_batched(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                                const struct clgan_tensor *a, size_t lda, size_t stride_a,
                                const struct clgan_tensor *b, size_t ldb, size_t stride_b, float beta,
                                struct clgan_tensor *c, size_t ldc, size_t stride_c, size_t count)
{
    const struct clgan_tensor *ts[3] = {a, b, c};
    clgan_backend *be;
    clgan_status s = check_tensors(CLGAN_OP_GEMM, ts, 3, CLGAN_DTYPE_F32, &be);
    if (s != CLGAN_OK)
        return s;
    if (m == 0 || n == 0 || k == 0 || count == 0)
        return clgan_set_error(CLGAN_ERANGE, "gemm: m=%zu n=%zu k=%zu and the count %zu must all be > 0",
                               m, n, k, count);
    if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX || lda > INT32_MAX || ldb > INT32_MAX ||
        ldc > INT32_MAX || count > INT32_MAX)
        return clgan_set_error(CLGAN_ERANGE, "gemm: sizes above 2^31-1 are not supported");
    size_t ar = trans_a ? k : m, ac = trans_a ? m : k;
    size_t br = trans_b ? n : k, bc = trans_b ? k : n;
    if (!batch_fits(ar, ac, lda, stride_a, count, clgan_tensor_numel(a)))
        return clgan_set_error(CLGAN_ESHAPE, "gemm: A (%zu x %zu, lda %zu, %zu of them %zu apart) does not fit tensor '%s' of %zu elements",
                               ar, ac, lda, count, stride_a, a->name, clgan_tensor_numel(a));
    if (!batch_fits(br, bc, ldb, stride_b, count, clgan_tensor_numel(b)))
        return clgan_set_error(CLGAN_ESHAPE, "gemm: B (%zu x %zu, ldb %zu, %zu of them %zu apart) does not fit tensor '%s' of %zu elements",
                               br, bc, ldb, count, stride_b, b->name, clgan_tensor_numel(b));
    if (!batch_fits(m, n, ldc, stride_c, count, clgan_tensor_numel(c)))
        return clgan_set_error(CLGAN_ESHAPE, "gemm: C (%zu x %zu, ldc %zu, %zu of them %zu apart) does not fit tensor '%s' of %zu elements",
                               m, n, ldc, count, stride_c, c->name, clgan_tensor_numel(c));
    if (count > 1 && stride_c < (m - 1) * ldc + n)
        return clgan_set_error(CLGAN_EINVAL, "gemm: the %zu C matrices of '%s' overlap (stride %zu)", count,
                               c->name, stride_c);
    /* Overlap of C with A or B is undefined in BLAS; refuse it. */
    if (clgan_tensors_overlap(c, a) || clgan_tensors_overlap(c, b))
        return clgan_set_error(CLGAN_EINVAL, "gemm: C '%s' overlaps an input", c->name);
    struct clgan_op op = {.kind = CLGAN_OP_GEMM, .in = {a, b}, .out = {c}, .m = m, .n = n, .k = k,
                          .lda = lda, .ldb = ldb, .ldc = ldc, .trans_a = !!trans_a,
                          .trans_b = !!trans_b, .f = {alpha, beta}, .batch = count,
                          .stride_a = stride_a, .stride_b = stride_b, .stride_c = stride_c};
    return run(be, &op);
}

clgan_status clgan_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                        const struct clgan_tensor *a, size_t lda, const struct clgan_tensor *b,
                        size_t ldb, float beta, struct clgan_tensor *c, size_t ldc)
{
    return clgan_gemm_batched(trans_a, trans_b, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1);
}

/* ---------------------------------------------------------------- elementwise */

static clgan_status binary(enum clgan_op_kind kind, const struct clgan_tensor *a,
                           const struct clgan_tensor *b, struct clgan_tensor *out, float f0)
{
    const struct clgan_tensor *ts[3] = {a, b, out};
    clgan_backend *be;
    clgan_status s = check_tensors(kind, ts, 3, CLGAN_DTYPE_F32, &be);
    if (s == CLGAN_OK)
        s = same_count(kind, a, out);
    if (s == CLGAN_OK)
        s = same_count(kind, b, out);
    if (s != CLGAN_OK)
        return s;
    struct clgan_op op = {.kind = kind, .in = {a, b}, .out = {out}, .n = clgan_tensor_numel(out),
                          .f = {f0}};
    return run(be, &op);
}

static clgan_status unary(enum clgan_op_kind kind, const struct clgan_tensor *x,
                          struct clgan_tensor *out, float f0)
{
    const struct clgan_tensor *ts[2] = {x, out};
    clgan_backend *be;
    clgan_status s = check_tensors(kind, ts, 2, CLGAN_DTYPE_F32, &be);
    if (s == CLGAN_OK)
        s = same_count(kind, x, out);
    if (s != CLGAN_OK)
        return s;
    struct clgan_op op = {.kind = kind, .in = {x}, .out = {out}, .n = clgan_tensor_numel(out),
                          .f = {f0}};
    return run(be, &op);
}

static clgan_status finite_param(enum clgan_op_kind kind, const char *what, float v)
{
    if (!isfinite(v))
        return clgan_set_error(CLGAN_EINVAL, "%s: %s must be finite", clgan_op_name(kind), what);
    return CLGAN_OK;
}

clgan_status clgan_add(const struct clgan_tensor *a, const struct clgan_tensor *b, struct clgan_tensor *out)
{
    return binary(CLGAN_OP_ADD, a, b, out, 0);
}

clgan_status clgan_sub(const struct clgan_tensor *a, const struct clgan_tensor *b, struct clgan_tensor *out)
{
    return binary(CLGAN_OP_SUB, a, b, out, 0);
}

clgan_status clgan_mul(const struct clgan_tensor *a, const struct clgan_tensor *b, struct clgan_tensor *out)
{
    return binary(CLGAN_OP_MUL, a, b, out, 0);
}

clgan_status clgan_scale(const struct clgan_tensor *x, float alpha, struct clgan_tensor *out)
{
    return unary(CLGAN_OP_SCALE, x, out, alpha);
}

clgan_status clgan_axpy(float alpha, const struct clgan_tensor *x, struct clgan_tensor *y)
{
    return unary(CLGAN_OP_AXPY, x, y, alpha);
}

clgan_status clgan_copy(const struct clgan_tensor *src, struct clgan_tensor *dst)
{
    return unary(CLGAN_OP_COPY, src, dst, 0);
}

clgan_status clgan_fill(struct clgan_tensor *t, float value)
{
    const struct clgan_tensor *ts[1] = {t};
    clgan_backend *be;
    clgan_status s = check_tensors(CLGAN_OP_FILL, ts, 1, CLGAN_DTYPE_F32, &be);
    if (s != CLGAN_OK)
        return s;
    struct clgan_op op = {.kind = CLGAN_OP_FILL, .out = {t}, .n = clgan_tensor_numel(t), .f = {value}};
    return run(be, &op);
}

clgan_status clgan_add_row(const struct clgan_tensor *x, const struct clgan_tensor *row,
                           struct clgan_tensor *out)
{
    const struct clgan_tensor *ts[3] = {x, row, out};
    clgan_backend *be;
    clgan_status s = check_tensors(CLGAN_OP_ADD_ROW, ts, 3, CLGAN_DTYPE_F32, &be);
    if (s == CLGAN_OK)
        s = same_count(CLGAN_OP_ADD_ROW, x, out);
    if (s != CLGAN_OK)
        return s;
    size_t cols = clgan_tensor_numel(row), total = clgan_tensor_numel(x);
    if (total % cols)
        return clgan_set_error(CLGAN_ESHAPE, "add_row: row of %zu does not divide '%s' of %zu elements",
                               cols, x->name, total);
    struct clgan_op op = {.kind = CLGAN_OP_ADD_ROW, .in = {x, row}, .out = {out},
                          .m = total / cols, .n = cols};
    return run(be, &op);
}

clgan_status clgan_relu(const struct clgan_tensor *x, struct clgan_tensor *out)
{
    return unary(CLGAN_OP_RELU, x, out, 0);
}

clgan_status clgan_leaky_relu(const struct clgan_tensor *x, float slope, struct clgan_tensor *out)
{
    clgan_status s = finite_param(CLGAN_OP_LEAKY_RELU, "slope", slope);
    return s != CLGAN_OK ? s : unary(CLGAN_OP_LEAKY_RELU, x, out, slope);
}

clgan_status clgan_tanh(const struct clgan_tensor *x, struct clgan_tensor *out)
{
    return unary(CLGAN_OP_TANH, x, out, 0);
}

clgan_status clgan_sigmoid(const struct clgan_tensor *x, struct clgan_tensor *out)
{
    return unary(CLGAN_OP_SIGMOID, x, out, 0);
}

clgan_status clgan_relu_backward(const struct clgan_tensor *x, const struct clgan_tensor *dy,
                                 struct clgan_tensor *dx)
{
    return binary(CLGAN_OP_RELU_BACKWARD, x, dy, dx, 0);
}

clgan_status clgan_leaky_relu_backward(const struct clgan_tensor *x, const struct clgan_tensor *dy,
                                       float slope, struct clgan_tensor *dx)
{
    clgan_status s = finite_param(CLGAN_OP_LEAKY_RELU_BACKWARD, "slope", slope);
    return s != CLGAN_OK ? s : binary(CLGAN_OP_LEAKY_RELU_BACKWARD, x, dy, dx, slope);
}

clgan_status clgan_tanh_backward(const struct clgan_tensor *y, const struct clgan_tensor *dy,
                                 struct clgan_tensor *dx)
{
    return binary(CLGAN_OP_TANH_BACKWARD, y, dy, dx, 0);
}

clgan_status clgan_sigmoid_backward(const struct clgan_tensor *y, const struct clgan_tensor *dy,
                                    struct clgan_tensor *dx)
{
    return binary(CLGAN_OP_SIGMOID_BACKWARD, y, dy, dx, 0);
}

/* ---------------------------------------------------------------- reductions */

static clgan_status reduce_2d(enum clgan_op_kind kind, const struct clgan_tensor *x, float beta,
                              struct clgan_tensor *out)
{
    const struct clgan_tensor *ts[2] = {x, out};
    clgan_backend *be;
    clgan_status s = check_tensors(kind, ts, 2, CLGAN_DTYPE_F32, &be);
    if (s != CLGAN_OK)
        return s;
    if ((s = finite_param(kind, "beta", beta)) != CLGAN_OK)
        return s;
    size_t total = clgan_tensor_numel(x), r = clgan_tensor_numel(out);
    if (total % r)
        return clgan_set_error(CLGAN_ESHAPE, "%s: output of %zu does not divide '%s' of %zu elements",
                               clgan_op_name(kind), r, x->name, total);
    if (clgan_tensors_overlap(x, out))
        return clgan_set_error(CLGAN_EINVAL, "%s: output overlaps the input", clgan_op_name(kind));
    struct clgan_op op = {.kind = kind, .in = {x}, .out = {out}, .f = {beta}};
    if (kind == CLGAN_OP_SUM_ROWS) {
        op.n = r;
        op.m = total / r;
    } else {
        op.m = r;
        op.n = total / r;
    }
    return run(be, &op);
}

clgan_status clgan_sum_rows(const struct clgan_tensor *x, float beta, struct clgan_tensor *out)
{
    return reduce_2d(CLGAN_OP_SUM_ROWS, x, beta, out);
}

clgan_status clgan_sum_cols(const struct clgan_tensor *x, float beta, struct clgan_tensor *out)
{
    return reduce_2d(CLGAN_OP_SUM_COLS, x, beta, out);
}

static clgan_status reduce_all(enum clgan_op_kind kind, const struct clgan_tensor *x,
                               const struct clgan_tensor *t, struct clgan_tensor *out)
{
    const struct clgan_tensor *ts[3] = {x, out, t};
    clgan_backend *be;
    clgan_status s = check_tensors(kind, ts, t ? 3 : 2, CLGAN_DTYPE_F32, &be);
    if (s == CLGAN_OK && t)
        s = same_count(kind, x, t);
    if (s != CLGAN_OK)
        return s;
    if (clgan_tensor_numel(out) != 1)
        return clgan_set_error(CLGAN_ESHAPE, "%s: output '%s' must have exactly 1 element",
                               clgan_op_name(kind), out->name);
    struct clgan_op op = {.kind = kind, .in = {x, t}, .out = {out}, .n = clgan_tensor_numel(x)};
    return run(be, &op);
}

clgan_status clgan_mean(const struct clgan_tensor *x, struct clgan_tensor *out)
{
    return reduce_all(CLGAN_OP_MEAN, x, NULL, out);
}

clgan_status clgan_sumsq(const struct clgan_tensor *x, struct clgan_tensor *out)
{
    return reduce_all(CLGAN_OP_SUMSQ, x, NULL, out);
}

clgan_status clgan_bce_logits(const struct clgan_tensor *x, const struct clgan_tensor *t,
                              struct clgan_tensor *out)
{
    if (!t)
        return clgan_set_error(CLGAN_ENULL, "bce_logits: targets must not be NULL");
    return reduce_all(CLGAN_OP_BCE_LOGITS, x, t, out);
}

clgan_status clgan_bce_logits_backward(const struct clgan_tensor *x, const struct clgan_tensor *t,
                                       float scale, struct clgan_tensor *dx)
{
    clgan_status s = finite_param(CLGAN_OP_BCE_LOGITS_BACKWARD, "scale", scale);
    return s != CLGAN_OK ? s : binary(CLGAN_OP_BCE_LOGITS_BACKWARD, x, t, dx, scale);
}

/* ---------------------------------------------------------------- optimizers */

clgan_status clgan_adam(struct clgan_tensor *param, const struct clgan_tensor *grad,
                        struct clgan_tensor *m, struct clgan_tensor *v, float lr, float beta1,
                        float beta2, float eps, uint64_t step)
{
    const struct clgan_tensor *ts[4] = {param, grad, m, v};
    clgan_backend *be;
    clgan_status s = check_tensors(CLGAN_OP_ADAM, ts, 4, CLGAN_DTYPE_F32, &be);
    for (int i = 1; s == CLGAN_OK && i < 4; i++)
        s = same_count(CLGAN_OP_ADAM, param, ts[i]);
    if (s != CLGAN_OK)
        return s;
    if (!(lr > 0) || !isfinite(lr) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) ||
        !(eps > 0) || !isfinite(eps))
        return clgan_set_error(CLGAN_EINVAL,
                               "adam: need lr > 0, 0 <= beta1, beta2 < 1, eps > 0 (got %g %g %g %g)",
                               lr, beta1, beta2, eps);
    if (step < 1)
        return clgan_set_error(CLGAN_ERANGE, "adam: step counts from 1");
    double bc1 = 1.0 - pow(beta1, (double)step), bc2 = 1.0 - pow(beta2, (double)step);
    struct clgan_op op = {.kind = CLGAN_OP_ADAM, .in = {grad}, .out = {param, m, v},
                          .n = clgan_tensor_numel(param),
                          .f = {lr, beta1, beta2, eps, (float)bc1, (float)bc2}};
    return run(be, &op);
}

clgan_status clgan_sgd_momentum(struct clgan_tensor *param, const struct clgan_tensor *grad,
                                struct clgan_tensor *vel, float lr, float momentum)
{
    const struct clgan_tensor *ts[3] = {param, grad, vel};
    clgan_backend *be;
    clgan_status s = check_tensors(CLGAN_OP_SGD_MOMENTUM, ts, 3, CLGAN_DTYPE_F32, &be);
    if (s == CLGAN_OK)
        s = same_count(CLGAN_OP_SGD_MOMENTUM, param, grad);
    if (s == CLGAN_OK)
        s = same_count(CLGAN_OP_SGD_MOMENTUM, param, vel);
    if (s != CLGAN_OK)
        return s;
    if (!(lr > 0) || !isfinite(lr) || !(momentum >= 0 && momentum < 1))
        return clgan_set_error(CLGAN_EINVAL, "sgd_momentum: need lr > 0 and 0 <= momentum < 1");
    struct clgan_op op = {.kind = CLGAN_OP_SGD_MOMENTUM, .in = {grad}, .out = {param, vel},
                          .n = clgan_tensor_numel(param), .f = {lr, momentum}};
    return run(be, &op);
}

/* ---------------------------------------------------------------- random */

static clgan_status rand_op(enum clgan_op_kind kind, struct clgan_tensor *t, enum clgan_dtype dt,
                            uint64_t seed, uint64_t stream, uint64_t offset, float a, float b)
{
    const struct clgan_tensor *ts[1] = {t};
    clgan_backend *be;
    clgan_status s = check_tensors(kind, ts, 1, dt, &be);
    if (s != CLGAN_OK)
        return s;
    if (offset > UINT64_MAX / 2 - clgan_tensor_numel(t))
        return clgan_set_error(CLGAN_ERANGE, "%s: offset %llu too large", clgan_op_name(kind),
                               (unsigned long long)offset);
    struct clgan_op op = {.kind = kind, .out = {t}, .n = clgan_tensor_numel(t), .seed = seed,
                          .stream = stream, .offset = offset, .f = {a, b}};
    return run(be, &op);
}

clgan_status clgan_rand_bits(struct clgan_tensor *t, uint64_t seed, uint64_t stream, uint64_t offset)
{
    return rand_op(CLGAN_OP_RAND_BITS, t, CLGAN_DTYPE_U32, seed, stream, offset, 0, 0);
}

clgan_status clgan_rand_uniform(struct clgan_tensor *t, uint64_t seed, uint64_t stream,
                                uint64_t offset, float lo, float hi)
{
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
        return clgan_set_error(CLGAN_EINVAL, "rand_uniform: need finite lo < hi (got %g, %g)", lo, hi);
    return rand_op(CLGAN_OP_RAND_UNIFORM, t, CLGAN_DTYPE_F32, seed, stream, offset, lo, hi);
}

clgan_status clgan_rand_normal(struct clgan_tensor *t, uint64_t seed, uint64_t stream,
                               uint64_t offset, float mean, float stddev)
{
    if (!isfinite(mean) || !isfinite(stddev) || stddev < 0)
        return clgan_set_error(CLGAN_EINVAL, "rand_normal: need finite mean and stddev >= 0");
    return rand_op(CLGAN_OP_RAND_NORMAL, t, CLGAN_DTYPE_F32, seed, stream, offset, mean, stddev);
}
