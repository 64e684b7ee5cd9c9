/* cl_ops.c: queues the validated ops (src/core/ops.c) as kernels of the
 * backend's program. Every launch only enqueues on the one in-order queue;
 * nothing here waits for the device. Arguments are a buffer plus an element
 * offset per tensor, because tensors are views into shared buffers. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>

#include "backend/opencl/cl_internal.h"

/* One kernel argument: clSetKernelArg's size and value (value NULL with a
 * size reserves local memory). The compound literals live until the end of
 * the enclosing block, i.e. across the launch. */
struct karg {
    size_t size;
    const void *value;
};

#define ARG_MEM(t) {sizeof(cl_mem), &(cl_mem){clgan_cl_mem(t)}}
#define ARG_OFF(t) {sizeof(cl_ulong), &(cl_ulong){(cl_ulong)clgan_tensor_eoff(t)}}
#define ARG_BUF(m) {sizeof(cl_mem), &(cl_mem){(m)}}
#define ARG_U64(v) {sizeof(cl_ulong), &(cl_ulong){(cl_ulong)(v)}}
#define ARG_F32(v) {sizeof(cl_float), &(cl_float){(v)}}
#define ARG_LOCAL(bytes) {(bytes), NULL}
#define NARGS(a) (sizeof(a) / sizeof((a)[0]))

/* Sets the arguments and queues a grid of dims dimensions, items[d] work-
 * items along each (the first rounded up to a multiple of the kernel's
 * work-group size, the others in groups of one; kernels guard their index).
 * `op` names the op in error messages. */
static clgan_status launch_grid(struct clgan_cl *cl, enum clgan_cl_kernel_id id, const char *op,
                                cl_uint dims, const size_t *items, const struct karg *args,
                                size_t nargs)
{
    cl_kernel k = cl->kernels[id];
    for (size_t i = 0; i < nargs; i++) {
        cl_int err = clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].value);
        if (err != CL_SUCCESS) {
            char what[96];
            snprintf(what, sizeof what, "%s: %s argument %zu", op, clgan_cl_kernel_name(id), i);
            return clgan_cl_fail(err, "clSetKernelArg", what);
        }
    }
    size_t local[3] = {cl->local[id], 1, 1}, global[3];
    if (items[0] > SIZE_MAX - local[0])
        return clgan_set_error(CLGAN_ERANGE, "%s: %zu work-items are too many to launch", op, items[0]);
    global[0] = (items[0] + local[0] - 1) / local[0] * local[0];
    for (cl_uint d = 1; d < dims; d++)
        global[d] = items[d];
    /* A first dimension under half a group (a few dozen pixels) would leave
     * most of a rounded-up group idle: there the exact grid goes out and the
     * driver picks the group shape (on pocl 2.5-3x faster for the DCGAN's
     * im2col than groups of 64 or 256 along the pixels). */
    const int exact = dims > 1 && items[0] < local[0] / 2;
    if (exact)
        global[0] = items[0];
    CLGAN_CL_TRY(clEnqueueNDRangeKernel(cl->queue, k, dims, NULL, global, exact ? NULL : local, 0, NULL,
                                        NULL),
                 "clEnqueueNDRangeKernel", op);
    return CLGAN_OK;
}

/* One dimension of `items` work-items. */
static clgan_status launch(struct clgan_cl *cl, enum clgan_cl_kernel_id id, const char *op,
                           size_t items, const struct karg *args, size_t nargs)
{
    return launch_grid(cl, id, op, 1, &items, args, nargs);
}

#define LAUNCH(cl, id, op, items, ...)                                     \
    do {                                                                   \
        const struct karg args_[] = {__VA_ARGS__};                         \
        return launch((cl), (id), (op), (items), args_, NARGS(args_));     \
    } while (0)

/* ---------------------------------------------------------------- elementwise */

/* in[0], in[1] -> out[0] over n elements (arithmetic, activation backward). */
static clgan_status binary(struct clgan_cl *cl, enum clgan_cl_kernel_id id, const struct clgan_op *op,
                           const char *name)
{
    LAUNCH(cl, id, name, op->n, ARG_MEM(op->in[0]), ARG_OFF(op->in[0]), ARG_MEM(op->in[1]),
           ARG_OFF(op->in[1]), ARG_MEM(op->out[0]), ARG_OFF(op->out[0]), ARG_U64(op->n));
}

/* As binary, with the op's f[0] (slope, scale) before n. */
static clgan_status binary_f(struct clgan_cl *cl, enum clgan_cl_kernel_id id,
                             const struct clgan_op *op, const char *name)
{
    LAUNCH(cl, id, name, op->n, ARG_MEM(op->in[0]), ARG_OFF(op->in[0]), ARG_MEM(op->in[1]),
           ARG_OFF(op->in[1]), ARG_MEM(op->out[0]), ARG_OFF(op->out[0]), ARG_F32(op->f[0]),
           ARG_U64(op->n));
}

/* in[0] -> out[0] over n elements. */
static clgan_status unary(struct clgan_cl *cl, enum clgan_cl_kernel_id id, const struct clgan_op *op,
                          const char *name)
{
    LAUNCH(cl, id, name, op->n, ARG_MEM(op->in[0]), ARG_OFF(op->in[0]), ARG_MEM(op->out[0]),
           ARG_OFF(op->out[0]), ARG_U64(op->n));
}

/* As unary, with f[0] (alpha, slope) before n; AXPY too (out[0] is y). */
static clgan_status unary_f(struct clgan_cl *cl, enum clgan_cl_kernel_id id,
                            const struct clgan_op *op, const char *name)
{
    LAUNCH(cl, id, name, op->n, ARG_MEM(op->in[0]), ARG_OFF(op->in[0]), ARG_MEM(op->out[0]),
           ARG_OFF(op->out[0]), ARG_F32(op->f[0]), ARG_U64(op->n));
}

static clgan_status fill(struct clgan_cl *cl, const struct clgan_op *op, const char *name)
{
    LAUNCH(cl, CLGAN_CL_K_FILL, name, op->n, ARG_MEM(op->out[0]), ARG_OFF(op->out[0]),
           ARG_F32(op->f[0]), ARG_U64(op->n));
}

static clgan_status add_row(struct clgan_cl *cl, const struct clgan_op *op, const char *name)
{
    size_t total = op->m * op->n;
    LAUNCH(cl, CLGAN_CL_K_ADD_ROW, name, total, ARG_MEM(op->in[0]), ARG_OFF(op->in[0]),
           ARG_MEM(op->in[1]), ARG_OFF(op->in[1]), ARG_MEM(op->out[0]), ARG_OFF(op->out[0]),
           ARG_U64(op->n), ARG_U64(total));
}

/* ---------------------------------------------------------------- reductions */

/* out[o] = beta*out[o] + sum_k x[o*ostride + k*estride], k < len, o < nout.
 * Short segments or many outputs: one work-item per output; long segments
 * and few outputs: one work-group per output. The choice depends on the
 * shape only, so a result stays a fixed function of shape and device. */
static clgan_status segsum(struct clgan_cl *cl, const struct clgan_op *op, size_t nout,
                           size_t ostride, size_t estride, size_t len, const char *name)
{
    if (len > 256 && nout < 4096) {
        size_t r = cl->reduce_local;
        LAUNCH(cl, CLGAN_CL_K_SEGSUM_GROUP, name, nout * r, ARG_MEM(op->in[0]), ARG_OFF(op->in[0]),
               ARG_U64(ostride), ARG_U64(estride), ARG_U64(len), ARG_MEM(op->out[0]),
               ARG_OFF(op->out[0]), ARG_F32(op->f[0]), ARG_LOCAL(r * sizeof(cl_float)));
    }
    LAUNCH(cl, CLGAN_CL_K_SEGSUM_SERIAL, name, nout, ARG_MEM(op->in[0]), ARG_OFF(op->in[0]),
           ARG_U64(ostride), ARG_U64(estride), ARG_U64(len), ARG_U64(nout), ARG_MEM(op->out[0]),
           ARG_OFF(op->out[0]), ARG_F32(op->f[0]));
}

/* One pass of a chunked sum kernel (k_reduce_sum, k_reduce_sumsq,
 * k_bce_logits_partial): `groups` work-groups, group g over elements
 * [g*chunk, (g+1)*chunk) of n, writing sum/divisor to dst[doff + g]. t is
 * the second input of the BCE kernel, NULL otherwise. */
static clgan_status chunked(struct clgan_cl *cl, enum clgan_cl_kernel_id id, const char *name,
                            cl_mem x, size_t xoff, const struct clgan_tensor *t, size_t n,
                            size_t groups, cl_mem dst, size_t doff, float divisor)
{
    size_t r = cl->reduce_local;
    size_t chunk = (n + groups - 1) / groups;
    if (t)
        LAUNCH(cl, id, name, groups * r, ARG_BUF(x), ARG_U64(xoff), ARG_MEM(t), ARG_OFF(t),
               ARG_U64(n), ARG_U64(chunk), ARG_BUF(dst), ARG_U64(doff), ARG_F32(divisor),
               ARG_LOCAL(r * sizeof(cl_float)));
    LAUNCH(cl, id, name, groups * r, ARG_BUF(x), ARG_U64(xoff), ARG_U64(n), ARG_U64(chunk),
           ARG_BUF(dst), ARG_U64(doff), ARG_F32(divisor), ARG_LOCAL(r * sizeof(cl_float)));
}

/* A whole-tensor reduction to out[0] (1 element), value sum/divisor. Small
 * inputs take one work-group; larger ones write per-group partials to the
 * backend's scratch buffer, then one group adds them (the in-order queue
 * keeps the scratch of consecutive ops apart). */
static clgan_status reduce_all(struct clgan_cl *cl, enum clgan_cl_kernel_id id,
                               const struct clgan_op *op, float divisor, const char *name)
{
    const struct clgan_tensor *x = op->in[0], *out = op->out[0];
    const struct clgan_tensor *t = id == CLGAN_CL_K_BCE_PARTIAL ? op->in[1] : NULL;
    size_t n = op->n, per_group = cl->reduce_local * 64;
    size_t groups = n / per_group + (n % per_group != 0);
    if (groups > CLGAN_CL_MAX_PARTIALS)
        groups = CLGAN_CL_MAX_PARTIALS;
    if (groups <= 1)
        return chunked(cl, id, name, clgan_cl_mem(x), clgan_tensor_eoff(x), t, n, 1,
                       clgan_cl_mem(out), clgan_tensor_eoff(out), divisor);
    clgan_status s = chunked(cl, id, name, clgan_cl_mem(x), clgan_tensor_eoff(x), t, n, groups,
                             cl->partials, 0, 1.0f);
    if (s != CLGAN_OK)
        return s;
    return chunked(cl, CLGAN_CL_K_REDUCE_SUM, name, cl->partials, 0, NULL, groups, 1,
                   clgan_cl_mem(out), clgan_tensor_eoff(out), divisor);
}

/* ---------------------------------------------------------------- optimizers */

static clgan_status adam(struct clgan_cl *cl, const struct clgan_op *op, const char *name)
{
    LAUNCH(cl, CLGAN_CL_K_ADAM, name, op->n, ARG_MEM(op->out[0]), ARG_OFF(op->out[0]),
           ARG_MEM(op->in[0]), ARG_OFF(op->in[0]), ARG_MEM(op->out[1]), ARG_OFF(op->out[1]),
           ARG_MEM(op->out[2]), ARG_OFF(op->out[2]), ARG_F32(op->f[0]), ARG_F32(op->f[1]),
           ARG_F32(op->f[2]), ARG_F32(op->f[3]), ARG_F32(op->f[4]), ARG_F32(op->f[5]),
           ARG_U64(op->n));
}

static clgan_status sgd_momentum(struct clgan_cl *cl, const struct clgan_op *op, const char *name)
{
    LAUNCH(cl, CLGAN_CL_K_SGD_MOMENTUM, name, op->n, ARG_MEM(op->out[0]), ARG_OFF(op->out[0]),
           ARG_MEM(op->in[0]), ARG_OFF(op->in[0]), ARG_MEM(op->out[1]), ARG_OFF(op->out[1]),
           ARG_F32(op->f[0]), ARG_F32(op->f[1]), ARG_U64(op->n));
}

/* ---------------------------------------------------------------- random */

/* A work-item per Philox block that feeds the indices offset .. offset+n-1:
 * 2^shift indices share a block (4 for bits and uniform; 2 for normal, which
 * takes two numbers per element). */
static clgan_status rand_fill(struct clgan_cl *cl, enum clgan_cl_kernel_id id,
                              const struct clgan_op *op, unsigned shift, const char *name)
{
    uint64_t first = op->offset >> shift, last = (op->offset + op->n - 1) >> shift;
    uint64_t blocks = last - first + 1;
    if (blocks > SIZE_MAX)
        return clgan_set_error(CLGAN_ERANGE, "%s: %llu work-items are too many to launch", name,
                               (unsigned long long)blocks);
    if (id == CLGAN_CL_K_RAND_BITS)
        LAUNCH(cl, id, name, (size_t)blocks, ARG_MEM(op->out[0]), ARG_OFF(op->out[0]),
               ARG_U64(op->n), ARG_U64(op->offset), ARG_U64(op->seed), ARG_U64(op->stream));
    LAUNCH(cl, id, name, (size_t)blocks, ARG_MEM(op->out[0]), ARG_OFF(op->out[0]), ARG_U64(op->n),
           ARG_U64(op->offset), ARG_U64(op->seed), ARG_U64(op->stream), ARG_F32(op->f[0]),
           ARG_F32(op->f[1]));
}

/* ---------------------------------------------------------------- convolution, batch norm */

/* im2col (one item per column element) and col2im (one per pixel: a
 * gather), in launches of whole images below 2^31 items each, so that the
 * kernels' index arithmetic is 32-bit. */
static clgan_status conv_cols(struct clgan_cl *cl, const struct clgan_op *op, const char *name)
{
    const struct clgan_op_conv *cv = &op->conv;
    const struct clgan_conv_geom *g = &cv->g;
    const int to_col = op->kind == CLGAN_OP_IM2COL;
    const size_t colimg = g->channels * g->kernel_h * g->kernel_w * cv->out_h * cv->out_w;
    const size_t pix = g->channels * g->height * g->width;
    const size_t per = to_col ? colimg : pix, limit = (size_t)INT32_MAX;
    if (per > limit || g->kernel_h * g->kernel_w > limit / (cv->out_h * cv->out_w))
        return clgan_set_error(CLGAN_ERANGE, "%s: one image has %zu items, more than one launch takes (2^31)",
                               name, per);
    const size_t step = limit / per;
    for (size_t n0 = 0; n0 < cv->count; n0 += step) {
        const size_t cnt = cv->count - n0 < step ? cv->count - n0 : step, total = cnt * per;
        const size_t first = cv->first + n0;
        const cl_ulong coff = clgan_tensor_eoff(to_col ? op->out[0] : op->in[0]) + n0 * colimg;
        clgan_status s;
        if (to_col) {
            const struct karg args[] = {
                ARG_MEM(op->in[0]), ARG_OFF(op->in[0]), ARG_MEM(op->out[0]), ARG_U64(coff),
                ARG_U64(g->channels), ARG_U64(g->height), ARG_U64(g->width), ARG_U64(g->kernel_h),
                ARG_U64(g->kernel_w), ARG_U64(g->stride_h), ARG_U64(g->stride_w), ARG_U64(g->pad_h),
                ARG_U64(g->pad_w), ARG_U64(cv->out_h), ARG_U64(cv->out_w), ARG_U64(first)};
            /* (output pixel, kernel row (c, i, j), image) */
            const size_t grid[3] = {cv->out_h * cv->out_w, g->channels * g->kernel_h * g->kernel_w, cnt};
            s = launch_grid(cl, CLGAN_CL_K_IM2COL, name, 3, grid, args, NARGS(args));
        } else {
            const struct karg args[] = {
                ARG_MEM(op->in[0]), ARG_U64(coff), ARG_MEM(op->out[0]), ARG_OFF(op->out[0]),
                ARG_U64(g->channels), ARG_U64(g->height), ARG_U64(g->width), ARG_U64(g->kernel_h),
                ARG_U64(g->kernel_w), ARG_U64(g->stride_h), ARG_U64(g->stride_w), ARG_U64(g->pad_h),
                ARG_U64(g->pad_w), ARG_U64(cv->out_h), ARG_U64(cv->out_w), ARG_U64(first),
                ARG_U64(total), ARG_F32(op->f[0])};
            s = launch(cl, CLGAN_CL_K_COL2IM, name, total, args, NARGS(args));
        }
        if (s != CLGAN_OK)
            return s;
    }
    return CLGAN_OK;
}

/* Per-channel ops on [N, C, S] = [m, n, k]. The reductions run one
 * work-group per channel. */
CLGAN_FAMILY_SWITCH_BEGIN
static clgan_status channel_op(struct clgan_cl *cl, const struct clgan_op *op, const char *name)
{
    size_t total = op->m * op->n * op->k, r = cl->reduce_local;
    switch (op->kind) {
    case CLGAN_OP_CHANNEL_BIAS:
        LAUNCH(cl, CLGAN_CL_K_CHANNEL_BIAS, name, total, ARG_MEM(op->in[0]), ARG_OFF(op->in[0]),
               ARG_MEM(op->in[1]), ARG_OFF(op->in[1]), ARG_MEM(op->out[0]), ARG_OFF(op->out[0]),
               ARG_U64(op->n), ARG_U64(op->k), ARG_U64(total));
    case CLGAN_OP_CHANNEL_SUM:
        LAUNCH(cl, CLGAN_CL_K_CHANNEL_SUM, name, op->n * r, ARG_MEM(op->in[0]), ARG_OFF(op->in[0]),
               ARG_MEM(op->out[0]), ARG_OFF(op->out[0]), ARG_U64(op->m), ARG_U64(op->n),
               ARG_U64(op->k), ARG_F32(op->f[0]), ARG_LOCAL(r * sizeof(cl_float)));
    case CLGAN_OP_BATCHNORM_STATS:
        LAUNCH(cl, CLGAN_CL_K_BN_STATS, name, op->n * r, ARG_MEM(op->in[0]), ARG_OFF(op->in[0]),
               ARG_MEM(op->out[0]), ARG_OFF(op->out[0]), ARG_U64(op->m), ARG_U64(op->n),
               ARG_U64(op->k), ARG_LOCAL(r * sizeof(cl_float)));
    case CLGAN_OP_BATCHNORM:
        LAUNCH(cl, CLGAN_CL_K_BN_APPLY, name, total, ARG_MEM(op->in[0]), ARG_OFF(op->in[0]),
               ARG_MEM(op->in[1]), ARG_OFF(op->in[1]), ARG_MEM(op->in[2]), ARG_OFF(op->in[2]),
               ARG_MEM(op->in[3]), ARG_OFF(op->in[3]), ARG_MEM(op->out[0]), ARG_OFF(op->out[0]),
               ARG_U64(op->n), ARG_U64(op->k), ARG_U64(total), ARG_F32(op->f[0]));
    case CLGAN_OP_BATCHNORM_BACKWARD:
        LAUNCH(cl, CLGAN_CL_K_BN_BACKWARD, name, op->n * r, ARG_MEM(op->in[0]), ARG_OFF(op->in[0]),
               ARG_MEM(op->in[1]), ARG_OFF(op->in[1]), ARG_MEM(op->in[2]), ARG_OFF(op->in[2]),
               ARG_MEM(op->in[3]), ARG_OFF(op->in[3]), ARG_MEM(op->out[0]), ARG_OFF(op->out[0]),
               ARG_MEM(op->out[1]), ARG_OFF(op->out[1]), ARG_MEM(op->out[2]), ARG_OFF(op->out[2]),
               ARG_U64(op->m), ARG_U64(op->n), ARG_U64(op->k), ARG_F32(op->f[0]),
               ARG_F32(op->f[1]), ARG_LOCAL(r * sizeof(cl_float)));
    default:
        break;
    }
    return clgan_set_error(CLGAN_EINTERNAL, "opencl backend: %s is not a channel op", name);
}
CLGAN_FAMILY_SWITCH_END

/* ---------------------------------------------------------------- dispatch */

clgan_status clgan_cl_exec(clgan_backend *be, const struct clgan_op *op)
{
    struct clgan_cl *cl = clgan_cl_of(be);
    const char *name = clgan_op_name(op->kind);
    switch (op->kind) {
    case CLGAN_OP_GEMM:
        return clgan_cl_gemm(cl, op);
    case CLGAN_OP_ADD:
        return binary(cl, CLGAN_CL_K_ADD, op, name);
    case CLGAN_OP_SUB:
        return binary(cl, CLGAN_CL_K_SUB, op, name);
    case CLGAN_OP_MUL:
        return binary(cl, CLGAN_CL_K_MUL, op, name);
    case CLGAN_OP_SCALE:
        return unary_f(cl, CLGAN_CL_K_SCALE, op, name);
    case CLGAN_OP_AXPY:
        return unary_f(cl, CLGAN_CL_K_AXPY, op, name);
    case CLGAN_OP_FILL:
        return fill(cl, op, name);
    case CLGAN_OP_COPY:
        return unary(cl, CLGAN_CL_K_COPY, op, name);
    case CLGAN_OP_ADD_ROW:
        return add_row(cl, op, name);
    case CLGAN_OP_RELU:
        return unary(cl, CLGAN_CL_K_RELU, op, name);
    case CLGAN_OP_RELU_BACKWARD:
        return binary(cl, CLGAN_CL_K_RELU_BACKWARD, op, name);
    case CLGAN_OP_LEAKY_RELU:
        return unary_f(cl, CLGAN_CL_K_LEAKY_RELU, op, name);
    case CLGAN_OP_LEAKY_RELU_BACKWARD:
        return binary_f(cl, CLGAN_CL_K_LEAKY_RELU_BACKWARD, op, name);
    case CLGAN_OP_TANH:
        return unary(cl, CLGAN_CL_K_TANH, op, name);
    case CLGAN_OP_TANH_BACKWARD:
        return binary(cl, CLGAN_CL_K_TANH_BACKWARD, op, name);
    case CLGAN_OP_SIGMOID:
        return unary(cl, CLGAN_CL_K_SIGMOID, op, name);
    case CLGAN_OP_SIGMOID_BACKWARD:
        return binary(cl, CLGAN_CL_K_SIGMOID_BACKWARD, op, name);
    case CLGAN_OP_SUM_ROWS: /* x [m,n] -> out [n]: column j sums x[i*n + j] */
        return segsum(cl, op, op->n, 1, op->n, op->m, name);
    case CLGAN_OP_SUM_COLS: /* x [m,n] -> out [m]: row i sums x[i*n + j] */
        return segsum(cl, op, op->m, op->n, 1, op->n, name);
    case CLGAN_OP_MEAN:
        return reduce_all(cl, CLGAN_CL_K_REDUCE_SUM, op, (float)op->n, name);
    case CLGAN_OP_SUMSQ:
        return reduce_all(cl, CLGAN_CL_K_REDUCE_SUMSQ, op, 1.0f, name);
    case CLGAN_OP_BCE_LOGITS:
        return reduce_all(cl, CLGAN_CL_K_BCE_PARTIAL, op, (float)op->n, name);
    case CLGAN_OP_BCE_LOGITS_BACKWARD:
        return binary_f(cl, CLGAN_CL_K_BCE_BACKWARD, op, name);
    case CLGAN_OP_ADAM:
        return adam(cl, op, name);
    case CLGAN_OP_SGD_MOMENTUM:
        return sgd_momentum(cl, op, name);
    case CLGAN_OP_RAND_BITS:
        return rand_fill(cl, CLGAN_CL_K_RAND_BITS, op, 2, name);
    case CLGAN_OP_RAND_UNIFORM:
        return rand_fill(cl, CLGAN_CL_K_RAND_UNIFORM, op, 2, name);
    case CLGAN_OP_RAND_NORMAL:
        return rand_fill(cl, CLGAN_CL_K_RAND_NORMAL, op, 1, name);
    case CLGAN_OP_IM2COL:
    case CLGAN_OP_COL2IM:
        return conv_cols(cl, op, name);
    case CLGAN_OP_CHANNEL_BIAS:
    case CLGAN_OP_CHANNEL_SUM:
    case CLGAN_OP_BATCHNORM_STATS:
    case CLGAN_OP_BATCHNORM:
    case CLGAN_OP_BATCHNORM_BACKWARD:
        return channel_op(cl, op, name);
    case CLGAN_OP_COUNT:
        break;
    }
    return clgan_set_error(CLGAN_EINTERNAL, "opencl backend: op kind %d has no implementation",
                           (int)op->kind);
}
