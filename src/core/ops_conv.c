/* ops_conv.c: the validated public wrappers of the convolution and batch
 * normalisation ops (im2col, col2im, per-channel bias and sum, batchnorm).
 * Like ops.c they check NULLs, dtypes, one backend, element counts and
 * geometry before handing a struct clgan_op to the backend. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "backend/backend_impl.h"
#include "core/fault.h"

/* Non-NULL float32 tensors with a buffer, inside it, all on one backend that
 * runs `kind`. */
static clgan_status check(enum clgan_op_kind kind, const struct clgan_tensor *const *ts, int n,
                          clgan_backend **be)
{
    const char *op = clgan_op_name(kind);
    *be = NULL;
    for (int i = 0; i < n; i++) {
        const struct clgan_tensor *t = ts[i];
        if (!t || !t->buffer)
            return clgan_set_error(CLGAN_ENULL, "%s: tensor argument %d is NULL or has no buffer",
                                   op, i + 1);
        if (t->ndim < 1 || t->ndim > CLGAN_MAX_DIMS || clgan_tensor_numel(t) == 0)
            return clgan_set_error(CLGAN_ERANGE, "%s: tensor '%s' has a bad shape", op, t->name);
        if (t->dtype != CLGAN_DTYPE_F32)
            return clgan_set_error(CLGAN_EDTYPE, "%s: tensor '%s' is not float32", op, t->name);
        if (t->offset > t->buffer->size || clgan_tensor_bytes(t) > t->buffer->size - t->offset)
            return clgan_set_error(CLGAN_ERANGE, "%s: tensor '%s' reaches past its buffer", op,
                                   t->name);
        if (*be && t->buffer->backend != *be)
            return clgan_set_error(CLGAN_EBACKEND, "%s: tensor '%s' belongs to backend %s, not %s",
                                   op, t->name, t->buffer->backend->vt->name, (*be)->vt->name);
        *be = t->buffer->backend;
    }
    if (!(*be)->vt->supports(*be, kind))
        return clgan_set_error(CLGAN_ENOTSUP, "%s: the %s backend does not run this op", op,
                               (*be)->vt->name);
    return CLGAN_OK;
}

static clgan_status run(clgan_backend *be, const struct clgan_op *op)
{
    clgan_clear_error();
    clgan_status s = be->vt->exec(be, op);
    return s == CLGAN_OK ? clgan_fault_apply(be, op) : s;
}

/* a*b*... without overflow; 0 on overflow. */
static size_t mul_sz(size_t a, size_t b)
{
    if (a && b > SIZE_MAX / a)
        return 0;
    return a * b;
}

size_t clgan_conv_out_size(size_t in, size_t kernel, size_t stride, size_t pad)
{
    if (stride == 0 || kernel == 0 || in > SIZE_MAX / 4 || pad > SIZE_MAX / 4 ||
        in + 2 * pad < kernel)
        return 0;
    return (in + 2 * pad - kernel) / stride + 1;
}

/* Geometry checks shared by im2col and col2im; fills op->conv and returns
 * the element counts of the images and of the columns of `count` images. */
static clgan_status conv_geom(enum clgan_op_kind kind, const struct clgan_conv_geom *g,
                              size_t first, size_t count, struct clgan_op *op, size_t *x_len,
                              size_t *col_len)
{
    const char *name = clgan_op_name(kind);
    if (!g)
        return clgan_set_error(CLGAN_ENULL, "%s: geometry must not be NULL", name);
    if (!g->batch || !g->channels || !g->height || !g->width || !g->kernel_h || !g->kernel_w ||
        !g->stride_h || !g->stride_w)
        return clgan_set_error(CLGAN_ERANGE, "%s: sizes, kernel and stride must be > 0", name);
    if (g->pad_h >= g->kernel_h || g->pad_w >= g->kernel_w)
        return clgan_set_error(CLGAN_ERANGE, "%s: padding %zux%zu must be below the kernel %zux%zu",
                               name, g->pad_h, g->pad_w, g->kernel_h, g->kernel_w);
    size_t oh = clgan_conv_out_size(g->height, g->kernel_h, g->stride_h, g->pad_h);
    size_t ow = clgan_conv_out_size(g->width, g->kernel_w, g->stride_w, g->pad_w);
    if (!oh || !ow)
        return clgan_set_error(CLGAN_ERANGE, "%s: kernel %zux%zu does not fit the padded %zux%zu image",
                               name, g->kernel_h, g->kernel_w, g->height, g->width);
    if (count == 0 || first >= g->batch || count > g->batch - first)
        return clgan_set_error(CLGAN_ERANGE, "%s: images %zu..+%zu outside a batch of %zu", name,
                               first, count, g->batch);
    size_t img = mul_sz(mul_sz(g->channels, g->height), g->width);
    size_t colimg = mul_sz(mul_sz(mul_sz(g->channels, g->kernel_h), g->kernel_w), mul_sz(oh, ow));
    *x_len = mul_sz(img, g->batch);
    *col_len = mul_sz(colimg, count);
    if (!*x_len || !*col_len || *x_len > INT32_MAX || *col_len > INT32_MAX)
        return clgan_set_error(CLGAN_ERANGE, "%s: sizes above 2^31-1 elements are not supported",
                               name);
    op->conv.g = *g;
    op->conv.out_h = oh;
    op->conv.out_w = ow;
    op->conv.first = first;
    op->conv.count = count;
    return CLGAN_OK;
}

clgan_status clgan_im2col(const struct clgan_tensor *x, const struct clgan_conv_geom *g,
                          size_t first, size_t count, struct clgan_tensor *col)
{
    const struct clgan_tensor *ts[2] = {x, col};
    clgan_backend *be;
    clgan_status s = check(CLGAN_OP_IM2COL, ts, 2, &be);
    if (s != CLGAN_OK)
        return s;
    struct clgan_op op = {.kind = CLGAN_OP_IM2COL, .in = {x}, .out = {col}};
    size_t xl, cl;
    if ((s = conv_geom(CLGAN_OP_IM2COL, g, first, count, &op, &xl, &cl)) != CLGAN_OK)
        return s;
    if (clgan_tensor_numel(x) != xl || clgan_tensor_numel(col) < cl)
        return clgan_set_error(CLGAN_ESHAPE, "im2col: x '%s' must have %zu elements (has %zu) and col '%s' at least %zu (has %zu)",
                               x->name, xl, clgan_tensor_numel(x), col->name, cl,
                               clgan_tensor_numel(col));
    if (clgan_tensors_overlap(x, col))
        return clgan_set_error(CLGAN_EINVAL, "im2col: col overlaps x");
    return run(be, &op);
}

clgan_status clgan_col2im(const struct clgan_tensor *col, const struct clgan_conv_geom *g,
                          size_t first, size_t count, float beta, struct clgan_tensor *x)
{
    const struct clgan_tensor *ts[2] = {col, x};
    clgan_backend *be;
    clgan_status s = check(CLGAN_OP_COL2IM, ts, 2, &be);
    if (s != CLGAN_OK)
        return s;
    if (!isfinite(beta))
        return clgan_set_error(CLGAN_EINVAL, "col2im: beta must be finite");
    struct clgan_op op = {.kind = CLGAN_OP_COL2IM, .in = {col}, .out = {x}, .f = {beta}};
    size_t xl, cl;
    if ((s = conv_geom(CLGAN_OP_COL2IM, g, first, count, &op, &xl, &cl)) != CLGAN_OK)
        return s;
    if (clgan_tensor_numel(x) != xl || clgan_tensor_numel(col) < cl)
        return clgan_set_error(CLGAN_ESHAPE, "col2im: x '%s' must have %zu elements (has %zu) and col '%s' at least %zu (has %zu)",
                               x->name, xl, clgan_tensor_numel(x), col->name, cl,
                               clgan_tensor_numel(col));
    if (clgan_tensors_overlap(x, col))
        return clgan_set_error(CLGAN_EINVAL, "col2im: x overlaps col");
    return run(be, &op);
}

/* x = [N, C, spatial]: N from the counts; sets m n k of op. */
static clgan_status nchw(enum clgan_op_kind kind, const struct clgan_tensor *x, size_t c,
                         size_t spatial, struct clgan_op *op)
{
    size_t total = clgan_tensor_numel(x), cs = mul_sz(c, spatial);
    if (spatial == 0 || cs == 0 || total % cs)
        return clgan_set_error(CLGAN_ESHAPE, "%s: '%s' of %zu elements is not [N, %zu, %zu]",
                               clgan_op_name(kind), x->name, total, c, spatial);
    if (total > INT32_MAX)
        return clgan_set_error(CLGAN_ERANGE, "%s: sizes above 2^31-1 elements are not supported",
                               clgan_op_name(kind));
    op->m = total / cs;
    op->n = c;
    op->k = spatial;
    return CLGAN_OK;
}

static clgan_status need_count(enum clgan_op_kind kind, const struct clgan_tensor *t, size_t n)
{
    if (clgan_tensor_numel(t) != n)
        return clgan_set_error(CLGAN_ESHAPE, "%s: tensor '%s' has %zu elements, the op wants %zu",
                               clgan_op_name(kind), t->name, clgan_tensor_numel(t), n);
    return CLGAN_OK;
}

clgan_status clgan_channel_bias(const struct clgan_tensor *x, const struct clgan_tensor *bias,
                                size_t spatial, struct clgan_tensor *out)
{
    const struct clgan_tensor *ts[3] = {x, bias, out};
    clgan_backend *be;
    clgan_status s = check(CLGAN_OP_CHANNEL_BIAS, ts, 3, &be);
    struct clgan_op op = {.kind = CLGAN_OP_CHANNEL_BIAS, .in = {x, bias}, .out = {out}};
    if (s == CLGAN_OK)
        s = nchw(CLGAN_OP_CHANNEL_BIAS, x, clgan_tensor_numel(bias), spatial, &op);
    if (s == CLGAN_OK)
        s = need_count(CLGAN_OP_CHANNEL_BIAS, out, clgan_tensor_numel(x));
    if (s != CLGAN_OK)
        return s;
    if (clgan_tensors_overlap(bias, out))
        return clgan_set_error(CLGAN_EINVAL, "channel_bias: out overlaps the bias");
    return run(be, &op);
}

clgan_status clgan_channel_sum(const struct clgan_tensor *x, size_t spatial, float beta,
                               struct clgan_tensor *out)
{
    const struct clgan_tensor *ts[2] = {x, out};
    clgan_backend *be;
    clgan_status s = check(CLGAN_OP_CHANNEL_SUM, ts, 2, &be);
    struct clgan_op op = {.kind = CLGAN_OP_CHANNEL_SUM, .in = {x}, .out = {out}, .f = {beta}};
    if (s == CLGAN_OK)
        s = nchw(CLGAN_OP_CHANNEL_SUM, x, clgan_tensor_numel(out), spatial, &op);
    if (s != CLGAN_OK)
        return s;
    if (!isfinite(beta))
        return clgan_set_error(CLGAN_EINVAL, "channel_sum: beta must be finite");
    if (clgan_tensors_overlap(x, out))
        return clgan_set_error(CLGAN_EINVAL, "channel_sum: output overlaps the input");
    return run(be, &op);
}

clgan_status clgan_batchnorm_stats(const struct clgan_tensor *x, size_t spatial,
                                   struct clgan_tensor *stats)
{
    const struct clgan_tensor *ts[2] = {x, stats};
    clgan_backend *be;
    clgan_status s = check(CLGAN_OP_BATCHNORM_STATS, ts, 2, &be);
    struct clgan_op op = {.kind = CLGAN_OP_BATCHNORM_STATS, .in = {x}, .out = {stats}};
    if (s == CLGAN_OK && clgan_tensor_numel(stats) % 2)
        s = clgan_set_error(CLGAN_ESHAPE, "batchnorm_stats: stats '%s' must hold 2*C elements",
                            stats->name);
    if (s == CLGAN_OK)
        s = nchw(CLGAN_OP_BATCHNORM_STATS, x, clgan_tensor_numel(stats) / 2, spatial, &op);
    if (s != CLGAN_OK)
        return s;
    if (clgan_tensors_overlap(x, stats))
        return clgan_set_error(CLGAN_EINVAL, "batchnorm_stats: stats overlap the input");
    return run(be, &op);
}

/* The shared checks of batchnorm and its backward: C from gamma. */
static clgan_status bn_common(enum clgan_op_kind kind, const struct clgan_tensor *x,
                              const struct clgan_tensor *stats, const struct clgan_tensor *gamma,
                              size_t spatial, float eps, struct clgan_op *op)
{
    size_t c = clgan_tensor_numel(gamma);
    clgan_status s = nchw(kind, x, c, spatial, op);
    if (s == CLGAN_OK)
        s = need_count(kind, stats, 2 * c);
    if (s == CLGAN_OK && (!(eps > 0) || !isfinite(eps)))
        s = clgan_set_error(CLGAN_EINVAL, "%s: eps must be finite and > 0", clgan_op_name(kind));
    return s;
}

clgan_status clgan_batchnorm(const struct clgan_tensor *x, const struct clgan_tensor *stats,
                             const struct clgan_tensor *gamma, const struct clgan_tensor *beta,
                             size_t spatial, float eps, struct clgan_tensor *y)
{
    const struct clgan_tensor *ts[5] = {x, stats, gamma, beta, y};
    clgan_backend *be;
    clgan_status s = check(CLGAN_OP_BATCHNORM, ts, 5, &be);
    struct clgan_op op = {.kind = CLGAN_OP_BATCHNORM, .in = {x, stats, gamma, beta}, .out = {y},
                          .f = {eps}};
    if (s == CLGAN_OK)
        s = bn_common(CLGAN_OP_BATCHNORM, x, stats, gamma, spatial, eps, &op);
    if (s == CLGAN_OK)
        s = need_count(CLGAN_OP_BATCHNORM, beta, clgan_tensor_numel(gamma));
    if (s == CLGAN_OK)
        s = need_count(CLGAN_OP_BATCHNORM, y, clgan_tensor_numel(x));
    if (s != CLGAN_OK)
        return s;
    if (clgan_tensors_overlap(y, stats) || clgan_tensors_overlap(y, gamma) || clgan_tensors_overlap(y, beta))
        return clgan_set_error(CLGAN_EINVAL, "batchnorm: y overlaps the statistics or parameters");
    return run(be, &op);
}

clgan_status clgan_batchnorm_backward(const struct clgan_tensor *x, const struct clgan_tensor *stats,
                                      const struct clgan_tensor *gamma, const struct clgan_tensor *dy,
                                      size_t spatial, float eps, float acc, struct clgan_tensor *dx,
                                      struct clgan_tensor *dgamma, struct clgan_tensor *dbeta)
{
    const struct clgan_tensor *ts[7] = {x, stats, gamma, dy, dx, dgamma, dbeta};
    clgan_backend *be;
    clgan_status s = check(CLGAN_OP_BATCHNORM_BACKWARD, ts, 7, &be);
    struct clgan_op op = {.kind = CLGAN_OP_BATCHNORM_BACKWARD, .in = {x, stats, gamma, dy},
                          .out = {dx, dgamma, dbeta}, .f = {eps, acc}};
    if (s == CLGAN_OK)
        s = bn_common(CLGAN_OP_BATCHNORM_BACKWARD, x, stats, gamma, spatial, eps, &op);
    if (s == CLGAN_OK)
        s = need_count(CLGAN_OP_BATCHNORM_BACKWARD, dy, clgan_tensor_numel(x));
    if (s == CLGAN_OK)
        s = need_count(CLGAN_OP_BATCHNORM_BACKWARD, dx, clgan_tensor_numel(x));
    if (s == CLGAN_OK)
        s = need_count(CLGAN_OP_BATCHNORM_BACKWARD, dgamma, clgan_tensor_numel(gamma));
    if (s == CLGAN_OK)
        s = need_count(CLGAN_OP_BATCHNORM_BACKWARD, dbeta, clgan_tensor_numel(gamma));
    if (s != CLGAN_OK)
        return s;
    if (!isfinite(acc))
        return clgan_set_error(CLGAN_EINVAL, "batchnorm_backward: acc must be finite");
    /* dx is written while x and dy are still being read by other channels'
     * sums on a device: no overlap with any input or other output. */
    const struct clgan_tensor *outs[3] = {dx, dgamma, dbeta};
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 4; j++)
            if (clgan_tensors_overlap(outs[i], op.in[j]))
                return clgan_set_error(CLGAN_EINVAL, "batchnorm_backward: an output overlaps an input");
        for (int j = i + 1; j < 3; j++)
            if (clgan_tensors_overlap(outs[i], outs[j]))
                return clgan_set_error(CLGAN_EINVAL, "batchnorm_backward: outputs overlap");
    }
    return run(be, &op);
}
