/* clgan.h: the public C API of libclgan.
 * Backends (CPU, OpenCL), buffers and tensors, validated tensor operations,
 * the Philox random number generator and the comparison helpers that the
 * tests, `clgan selftest` and `clgan compare` share.
 * Every call that can fail returns a clgan_status; the detail of the last
 * failure on this thread is in clgan_last_error(). The library never exits. */
#ifndef CLGAN_H
#define CLGAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CLGAN_VERSION_STRING "0.1.0"

/* ---------------------------------------------------------------- status */

/* XX(NAME, value, "message"). Ranges: 0 ok, 1xx environment, 2xx arguments,
 * 3xx unsupported, 4xx OpenCL/CLBlast, 5xx file formats, 6xx training.
 * Never renumbered. */
#define CLGAN_STATUS_MAP(XX)                                              \
    XX(OK, 0, "success")                                                  \
    XX(ENOMEM, 100, "out of memory")                                      \
    XX(EIO, 101, "input/output error")                                    \
    XX(ENOENT, 102, "no such file or directory")                          \
    XX(EINTERNAL, 103, "internal error")                                  \
    XX(EINVAL, 200, "invalid argument")                                   \
    XX(ENULL, 201, "required argument is NULL")                           \
    XX(ESHAPE, 202, "tensor shapes do not fit the operation")             \
    XX(ERANGE, 203, "value or size out of range")                         \
    XX(EBACKEND, 204, "tensors belong to different backends")             \
    XX(EDTYPE, 205, "unsupported data type for this operation")           \
    XX(ESPEC, 206, "malformed backend specification")                     \
    XX(ENOTSUP, 300, "operation not supported by this backend")           \
    XX(ENOOPENCL, 301, "this build of clgan has no OpenCL support")       \
    XX(ENOPLATFORM, 400, "no OpenCL platform found")                      \
    XX(ENODEVICE, 401, "no matching OpenCL device")                       \
    XX(ECL, 402, "OpenCL call failed")                                    \
    XX(EBUILD, 403, "OpenCL program build failed")                        \
    XX(ECLBLAST, 404, "CLBlast call failed")                              \
    XX(ETOOBIG, 405, "allocation larger than the device allows")          \
    XX(EFORMAT, 500, "malformed file")                                    \
    XX(ECRC, 501, "checksum mismatch")                                    \
    XX(ENONFINITE, 600, "non-finite value (NaN or Inf) in training")

typedef enum {
#define CLGAN_XX_ENUM(name, value, msg) CLGAN_##name = value,
    CLGAN_STATUS_MAP(CLGAN_XX_ENUM)
#undef CLGAN_XX_ENUM
} clgan_status;

/* "CLGAN_EINVAL"; "CLGAN_UNKNOWN" for values not in the table. Static strings. */
const char *clgan_status_name(clgan_status s);
/* The table's message for s. Static string. */
const char *clgan_status_str(clgan_status s);
/* Detail of the most recent failure on the calling thread (file, offset,
 * CL_* error name, build log...). Never NULL; "" when nothing failed.
 * Valid until the next failing call on this thread. */
const char *clgan_last_error(void);

/* ---------------------------------------------------------------- backends */

typedef struct clgan_backend clgan_backend;
typedef struct clgan_buffer clgan_buffer;

/* Opens a backend. spec: "auto", "cpu", "opencl", "opencl:P" or "opencl:P:D",
 * where P and D are an index or a case-insensitive substring of the platform
 * or device name. NULL means the environment variable CLGAN_BACKEND, else
 * "auto". "auto" takes the first OpenCL GPU or accelerator, else the CPU
 * backend; clgan_backend_note() says what it picked and why.
 * On success *out owns a backend to release with clgan_backend_free().
 * Errors: CLGAN_ESPEC, CLGAN_ENOOPENCL, CLGAN_ENOPLATFORM, CLGAN_ENODEVICE,
 * CLGAN_ECL, CLGAN_EBUILD, CLGAN_ENOMEM. */
clgan_status clgan_backend_open(const char *spec, clgan_backend **out);
/* Releases the backend. Every buffer made on it must be freed first.
 * Accepts NULL. */
void clgan_backend_free(clgan_backend *be);
/* "cpu" or "opencl". */
const char *clgan_backend_name(const clgan_backend *be);
/* One line: which device, e.g. "cpu (2 threads, AVX-512)". Owned by be. */
const char *clgan_backend_description(const clgan_backend *be);
/* For "auto" (and fallbacks): one line saying what was picked and why; ""
 * when the spec named the backend. Owned by be. */
const char *clgan_backend_note(const clgan_backend *be);
/* Waits until every queued operation has finished. */
clgan_status clgan_backend_sync(clgan_backend *be);

/* What the CPU backend runs with. simd: static string such as "AVX-512". */
void clgan_cpu_info(int *threads, const char **simd);

/* One OpenCL device as `clgan devices` lists it. */
struct clgan_device_info {
    int platform_index;
    int device_index;
    char platform_name[128];
    char device_name[128];
    char type[32];            /* "GPU", "CPU", "accelerator", "other" */
    char device_version[128];
    char driver_version[128];
    char opencl_c_version[128];
    char backend_spec[32];    /* exact string for --backend: "opencl:0:1" */
    unsigned compute_units;
    uint64_t global_mem_bytes;
    uint64_t max_alloc_bytes;
    size_t max_work_group_size;
    int has_fp64;
    int has_fp32_denormals;   /* CL_DEVICE_SINGLE_FP_CONFIG has CL_FP_DENORM */
};

/* Lists every OpenCL device of every platform. *out is malloc'd (free with
 * free()); *n may be 0. Returns CLGAN_ENOOPENCL in a CPU-only build and
 * CLGAN_ENOPLATFORM when the ICD loader finds no platform. */
clgan_status clgan_opencl_devices(struct clgan_device_info **out, size_t *n);

/* ---------------------------------------------------------------- buffers */

/* Device (or host, for the CPU backend) memory of `bytes` bytes, > 0.
 * Contents are undefined. Errors: CLGAN_ENOMEM, CLGAN_ETOOBIG, CLGAN_ECL. */
clgan_status clgan_buffer_new(clgan_backend *be, size_t bytes, clgan_buffer **out);
/* Accepts NULL. Tensors that borrow the buffer must not be used afterwards. */
void clgan_buffer_free(clgan_buffer *buf);
size_t clgan_buffer_size(const clgan_buffer *buf);
clgan_backend *clgan_buffer_backend(const clgan_buffer *buf);
/* Blocking copies between host memory and [offset, offset+bytes) of buf.
 * They also wait for queued operations that touch the buffer. */
clgan_status clgan_buffer_write(clgan_buffer *buf, size_t offset, const void *src, size_t bytes);
clgan_status clgan_buffer_read(const clgan_buffer *buf, size_t offset, void *dst, size_t bytes);

/* ---------------------------------------------------------------- tensors */

enum clgan_dtype {
    CLGAN_DTYPE_F32 = 0,
    CLGAN_DTYPE_U32 = 1 /* raw random bits only */
};

#define CLGAN_MAX_DIMS 4

/* A view on a buffer: contiguous, row-major (NCHW for images). Borrows the
 * buffer; plain data, may be copied. */
struct clgan_tensor {
    enum clgan_dtype dtype;
    int ndim;
    size_t dims[CLGAN_MAX_DIMS];
    clgan_buffer *buffer;
    size_t offset;  /* in bytes, a multiple of the element size */
    char name[32];
};

/* Sets t to view buf at byte offset `offset` with the given shape (1..4 dims,
 * each > 0). Errors: CLGAN_ENULL, CLGAN_ERANGE (does not fit the buffer, bad
 * ndim, zero dim, misaligned offset), CLGAN_EDTYPE. name may be NULL. */
clgan_status clgan_tensor_init(struct clgan_tensor *t, clgan_buffer *buf, size_t offset,
                               enum clgan_dtype dtype, int ndim, const size_t *dims,
                               const char *name);
/* Convenience: a fresh buffer of exactly the tensor's size, owned by the
 * tensor; release with clgan_tensor_release(). */
clgan_status clgan_tensor_alloc(struct clgan_tensor *t, clgan_backend *be, enum clgan_dtype dtype,
                                int ndim, const size_t *dims, const char *name);
/* Frees the buffer of a tensor made by clgan_tensor_alloc; accepts NULL. */
void clgan_tensor_release(struct clgan_tensor *t);
size_t clgan_tensor_numel(const struct clgan_tensor *t);
size_t clgan_tensor_bytes(const struct clgan_tensor *t);
/* Blocking copies of the whole tensor (count must equal numel). */
clgan_status clgan_tensor_write(struct clgan_tensor *t, const void *src, size_t count);
clgan_status clgan_tensor_read(const struct clgan_tensor *t, void *dst, size_t count);

/* ---------------------------------------------------------------- ops */

/* Every op a backend can run; clgan_op_name() gives "gemm", "add", ... */
#define CLGAN_OP_MAP(XX)                                                  \
    XX(GEMM, "gemm")                                                      \
    XX(ADD, "add")                                                        \
    XX(SUB, "sub")                                                        \
    XX(MUL, "mul")                                                        \
    XX(SCALE, "scale")                                                    \
    XX(AXPY, "axpy")                                                      \
    XX(FILL, "fill")                                                      \
    XX(COPY, "copy")                                                      \
    XX(ADD_ROW, "add_row")                                                \
    XX(RELU, "relu")                                                      \
    XX(RELU_BACKWARD, "relu_backward")                                    \
    XX(LEAKY_RELU, "leaky_relu")                                          \
    XX(LEAKY_RELU_BACKWARD, "leaky_relu_backward")                        \
    XX(TANH, "tanh")                                                      \
    XX(TANH_BACKWARD, "tanh_backward")                                    \
    XX(SIGMOID, "sigmoid")                                                \
    XX(SIGMOID_BACKWARD, "sigmoid_backward")                              \
    XX(SUM_ROWS, "sum_rows")                                              \
    XX(SUM_COLS, "sum_cols")                                              \
    XX(MEAN, "mean")                                                      \
    XX(SUMSQ, "sumsq")                                                    \
    XX(BCE_LOGITS, "bce_logits")                                          \
    XX(BCE_LOGITS_BACKWARD, "bce_logits_backward")                        \
    XX(ADAM, "adam")                                                      \
    XX(SGD_MOMENTUM, "sgd_momentum")                                      \
    XX(RAND_BITS, "rand_bits")                                            \
    XX(RAND_UNIFORM, "rand_uniform")                                      \
    XX(RAND_NORMAL, "rand_normal")                                        \
    XX(IM2COL, "im2col")                                                  \
    XX(COL2IM, "col2im")                                                  \
    XX(CHANNEL_BIAS, "channel_bias")                                      \
    XX(CHANNEL_SUM, "channel_sum")                                        \
    XX(BATCHNORM_STATS, "batchnorm_stats")                                \
    XX(BATCHNORM, "batchnorm")                                            \
    XX(BATCHNORM_BACKWARD, "batchnorm_backward")

enum clgan_op_kind {
#define CLGAN_XX_OP(name, str) CLGAN_OP_##name,
    CLGAN_OP_MAP(CLGAN_XX_OP)
#undef CLGAN_XX_OP
    CLGAN_OP_COUNT
};

/* "gemm", ...; "unknown" when out of range. */
const char *clgan_op_name(enum clgan_op_kind kind);
/* Nonzero when be runs `kind`. */
int clgan_backend_supports(const clgan_backend *be, enum clgan_op_kind kind);

/* All ops below are queued on the tensors' backend and return without
 * waiting for the device. All tensors of one call must share a backend
 * (else CLGAN_EBACKEND) and be float32 (else CLGAN_EDTYPE; rand_bits wants
 * uint32). Output tensors may alias inputs only where stated. Shapes are
 * checked before anything runs: CLGAN_ESHAPE / CLGAN_ERANGE / CLGAN_ENULL. */

/* C = alpha * op(A) * op(B) + beta * C, row-major, BLAS semantics:
 * op(A) is m x k, op(B) is k x n, C is m x n; lda/ldb/ldc are row strides
 * in elements of the stored (untransposed) matrices. Every element that the
 * leading dimensions reach must lie inside the tensor. */
clgan_status clgan_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                        const struct clgan_tensor *a, size_t lda, const struct clgan_tensor *b,
                        size_t ldb, float beta, struct clgan_tensor *c, size_t ldc);
/* count products at once (a strided batch, CLBlast's SgemmStridedBatched):
 * C_i = alpha op(A_i) op(B_i) + beta C_i for i < count, with A_i, B_i and C_i
 * starting at element i * stride_a, i * stride_b, i * stride_c of a, b, c
 * (and laid out as clgan_gemm's). The C_i must not overlap each other
 * (stride_c at least one C's span when count > 1) nor A or B. Each product
 * is computed as clgan_gemm would (the same bits on the CPU backend); the
 * CPU backend runs the products in parallel, OpenCL in one CLBlast call.
 * Errors as clgan_gemm, CLGAN_ERANGE for count 0. */
clgan_status clgan_gemm_batched(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                                const struct clgan_tensor *a, size_t lda, size_t stride_a,
                                const struct clgan_tensor *b, size_t ldb, size_t stride_b, float beta,
                                struct clgan_tensor *c, size_t ldc, size_t stride_c, size_t count);

/* Elementwise over equal element counts; out may alias a or b. */
clgan_status clgan_add(const struct clgan_tensor *a, const struct clgan_tensor *b,
                       struct clgan_tensor *out);
clgan_status clgan_sub(const struct clgan_tensor *a, const struct clgan_tensor *b,
                       struct clgan_tensor *out);
clgan_status clgan_mul(const struct clgan_tensor *a, const struct clgan_tensor *b,
                       struct clgan_tensor *out);
/* out = alpha * x */
clgan_status clgan_scale(const struct clgan_tensor *x, float alpha, struct clgan_tensor *out);
/* y += alpha * x */
clgan_status clgan_axpy(float alpha, const struct clgan_tensor *x, struct clgan_tensor *y);
clgan_status clgan_fill(struct clgan_tensor *t, float value);
clgan_status clgan_copy(const struct clgan_tensor *src, struct clgan_tensor *dst);
/* x is viewed as [rows, cols] with cols = numel(row); out = x + row on every
 * row (bias). out may alias x. */
clgan_status clgan_add_row(const struct clgan_tensor *x, const struct clgan_tensor *row,
                           struct clgan_tensor *out);

/* Activations. Forward: out = f(x), out may alias x. */
clgan_status clgan_relu(const struct clgan_tensor *x, struct clgan_tensor *out);
clgan_status clgan_leaky_relu(const struct clgan_tensor *x, float slope, struct clgan_tensor *out);
clgan_status clgan_tanh(const struct clgan_tensor *x, struct clgan_tensor *out);
clgan_status clgan_sigmoid(const struct clgan_tensor *x, struct clgan_tensor *out);
/* Backward: dx = dy * f'(.). relu/leaky take the forward input x; tanh and
 * sigmoid take the forward output y. dx may alias dy. */
clgan_status clgan_relu_backward(const struct clgan_tensor *x, const struct clgan_tensor *dy,
                                 struct clgan_tensor *dx);
clgan_status clgan_leaky_relu_backward(const struct clgan_tensor *x, const struct clgan_tensor *dy,
                                       float slope, struct clgan_tensor *dx);
clgan_status clgan_tanh_backward(const struct clgan_tensor *y, const struct clgan_tensor *dy,
                                 struct clgan_tensor *dx);
clgan_status clgan_sigmoid_backward(const struct clgan_tensor *y, const struct clgan_tensor *dy,
                                    struct clgan_tensor *dx);

/* Reductions over x viewed as [rows, cols], cols = numel(out) for sum_rows
 * and rows = numel(out) for sum_cols:
 *   sum_rows: out[j] = beta*out[j] + sum_i x[i][j]   (bias gradient of a
 *             row-major batch)
 *   sum_cols: out[i] = beta*out[i] + sum_j x[i][j]
 * Fixed summation order: deterministic for a given device. */
clgan_status clgan_sum_rows(const struct clgan_tensor *x, float beta, struct clgan_tensor *out);
clgan_status clgan_sum_cols(const struct clgan_tensor *x, float beta, struct clgan_tensor *out);
/* out (1 element) = mean(x) / sum(x*x). */
clgan_status clgan_mean(const struct clgan_tensor *x, struct clgan_tensor *out);
clgan_status clgan_sumsq(const struct clgan_tensor *x, struct clgan_tensor *out);

/* Binary cross-entropy with logits, stable form
 * l = max(x,0) - x*t + log1p(exp(-|x|)), targets t in [0,1].
 * Forward: out (1 element) = mean over all elements.
 * Backward: dx = scale * (sigmoid(x) - t); scale = 1/n gives the gradient
 * of the mean. */
clgan_status clgan_bce_logits(const struct clgan_tensor *x, const struct clgan_tensor *t,
                              struct clgan_tensor *out);
clgan_status clgan_bce_logits_backward(const struct clgan_tensor *x, const struct clgan_tensor *t,
                                       float scale, struct clgan_tensor *dx);

/* Adam, step >= 1 (PyTorch's form):
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *   p -= lr * (m / (1-b1^step)) / (sqrt(v / (1-b2^step)) + eps)
 * lr > 0, 0 <= b1,b2 < 1, eps > 0. */
clgan_status clgan_adam(struct clgan_tensor *param, const struct clgan_tensor *grad,
                        struct clgan_tensor *m, struct clgan_tensor *v, float lr, float beta1,
                        float beta2, float eps, uint64_t step);
/* SGD with momentum: vel = momentum*vel + g;  p -= lr * vel. */
clgan_status clgan_sgd_momentum(struct clgan_tensor *param, const struct clgan_tensor *grad,
                                struct clgan_tensor *vel, float lr, float momentum);

/* Random fills from Philox4x32-10: element i of t takes the random number of
 * index (offset + i) of stream `stream` under key `seed` (see clgan_philox_*),
 * so the values never depend on threads or work-group sizes.
 * rand_bits wants a uint32 tensor and is bit-identical on every backend;
 * uniform in [lo, hi) is too; normal (Box-Muller) agrees to rounding. */
clgan_status clgan_rand_bits(struct clgan_tensor *t, uint64_t seed, uint64_t stream, uint64_t offset);
clgan_status clgan_rand_uniform(struct clgan_tensor *t, uint64_t seed, uint64_t stream,
                                uint64_t offset, float lo, float hi);
clgan_status clgan_rand_normal(struct clgan_tensor *t, uint64_t seed, uint64_t stream,
                               uint64_t offset, float mean, float stddev);

/* ---------------------------------------------------------------- convolution ops */

/* The geometry of im2col / col2im: images [batch, channels, height, width]
 * (NCHW) and a kernel window sliding with a stride over the zero-padded
 * image. The column matrix of one image is [channels*kernel_h*kernel_w,
 * out_h*out_w], row (c, i, j) holding x[c][oy*stride_h - pad_h + i]
 * [ox*stride_w - pad_w + j] (0 outside the image), with
 * out = (in + 2 pad - kernel) / stride + 1 (clgan_conv_out_size). */
struct clgan_conv_geom {
    size_t batch, channels, height, width;
    size_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
};

/* (in + 2 pad - kernel) / stride + 1, or 0 when the window does not fit. */
size_t clgan_conv_out_size(size_t in, size_t kernel, size_t stride, size_t pad);

/* im2col of images first .. first+count-1 of x (numel batch*C*H*W): col
 * receives `count` column matrices one after another (col needs at least
 * count*C*KH*KW*OH*OW elements; the rest is left alone). Sizes > 0,
 * stride >= 1, pad < kernel. */
clgan_status clgan_im2col(const struct clgan_tensor *x, const struct clgan_conv_geom *g,
                          size_t first, size_t count, struct clgan_tensor *col);
/* The adjoint: images first .. first+count-1 of x become beta*x plus the sum
 * of every column entry that im2col would have read from that pixel. Each
 * pixel gathers its terms in a fixed order (no atomics): deterministic. */
clgan_status clgan_col2im(const struct clgan_tensor *col, const struct clgan_conv_geom *g,
                          size_t first, size_t count, float beta, struct clgan_tensor *x);
/* x viewed as [N, C, spatial] with C = numel(bias): out = x + bias[c]
 * (conv bias). out may alias x. */
clgan_status clgan_channel_bias(const struct clgan_tensor *x, const struct clgan_tensor *bias,
                                size_t spatial, struct clgan_tensor *out);
/* out[c] = beta*out[c] + sum over n and the spatial index of x[n][c][s]
 * (bias gradient); C = numel(out). Fixed order. */
clgan_status clgan_channel_sum(const struct clgan_tensor *x, size_t spatial, float beta,
                               struct clgan_tensor *out);

/* Batch normalisation over x viewed as [N, C, spatial] (spatial = H*W for
 * feature maps, 1 for flat features [N, C]); statistics per channel over N
 * and the spatial index. stats holds [2*C]: mean, then the biased variance.
 *   batchnorm_stats: stats of x (fixed-order sums).
 *   batchnorm: y = gamma (x - mean) / sqrt(var + eps) + beta with the given
 *     stats (the batch's in training, the running averages in evaluation);
 *     y may alias x.
 *   batchnorm_backward (training mode, stats of this batch):
 *     dx = gamma/sqrt(var+eps) (dy - mean(dy) - xhat mean(dy xhat)),
 *     dgamma = acc*dgamma + sum dy xhat, dbeta = acc*dbeta + sum dy. */
clgan_status clgan_batchnorm_stats(const struct clgan_tensor *x, size_t spatial,
                                   struct clgan_tensor *stats);
clgan_status clgan_batchnorm(const struct clgan_tensor *x, const struct clgan_tensor *stats,
                             const struct clgan_tensor *gamma, const struct clgan_tensor *beta,
                             size_t spatial, float eps, struct clgan_tensor *y);
clgan_status clgan_batchnorm_backward(const struct clgan_tensor *x, const struct clgan_tensor *stats,
                                      const struct clgan_tensor *gamma, const struct clgan_tensor *dy,
                                      size_t spatial, float eps, float acc, struct clgan_tensor *dx,
                                      struct clgan_tensor *dgamma, struct clgan_tensor *dbeta);

/* ---------------------------------------------------------------- convolution layers */

/* A 2-D convolution or transposed convolution on NCHW float32, built on
 * im2col / col2im and clgan_gemm (src/nn/conv.c). Weights as PyTorch keeps
 * them: conv2d [out_channels, in_channels, kernel_h, kernel_w];
 * conv_transpose2d [in_channels, out_channels, kernel_h, kernel_w]. Output
 * sizes: conv2d (in + 2 pad - kernel) / stride + 1; conv_transpose2d
 * (in - 1) stride - 2 pad + kernel + out_pad, out_pad < stride (out_pad is
 * ignored by conv2d). pad < kernel. */
struct clgan_conv2d {
    size_t batch, in_channels, out_channels, in_h, in_w;
    size_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, out_pad_h, out_pad_w;
};

/* Output height and width of p (transposed: nonzero for conv_transpose2d);
 * CLGAN_ERANGE when the geometry is invalid. */
clgan_status clgan_conv2d_out_size(const struct clgan_conv2d *p, int transposed, size_t *out_h,
                                   size_t *out_w);
/* Scratch elements one image needs (the column matrix); a scratch tensor of
 * k times this lets the functions below treat k images per im2col. */
size_t clgan_conv2d_scratch(const struct clgan_conv2d *p, int transposed);

/* y = conv(x, w) + bias (bias [out_channels] or NULL). scratch: a float32
 * tensor of at least clgan_conv2d_scratch() elements on the same backend,
 * overwritten. Errors as the ops they queue, CLGAN_ESHAPE for wrong sizes. */
clgan_status clgan_conv2d_forward(const struct clgan_conv2d *p, const struct clgan_tensor *x,
                                  const struct clgan_tensor *w, const struct clgan_tensor *bias,
                                  struct clgan_tensor *scratch, struct clgan_tensor *y);
/* dx = the input gradient of dy (overwritten). */
clgan_status clgan_conv2d_backward_data(const struct clgan_conv2d *p, const struct clgan_tensor *dy,
                                        const struct clgan_tensor *w, struct clgan_tensor *scratch,
                                        struct clgan_tensor *dx);
/* dw = beta*dw + weight gradient; dbias (may be NULL) = beta*dbias + bias
 * gradient. beta 1 accumulates, 0 overwrites. */
clgan_status clgan_conv2d_backward_weight(const struct clgan_conv2d *p, const struct clgan_tensor *x,
                                          const struct clgan_tensor *dy, float beta,
                                          struct clgan_tensor *scratch, struct clgan_tensor *dw,
                                          struct clgan_tensor *dbias);
/* The same three for the transposed convolution. */
clgan_status clgan_conv_transpose2d_forward(const struct clgan_conv2d *p,
                                            const struct clgan_tensor *x,
                                            const struct clgan_tensor *w,
                                            const struct clgan_tensor *bias,
                                            struct clgan_tensor *scratch, struct clgan_tensor *y);
clgan_status clgan_conv_transpose2d_backward_data(const struct clgan_conv2d *p,
                                                  const struct clgan_tensor *dy,
                                                  const struct clgan_tensor *w,
                                                  struct clgan_tensor *scratch,
                                                  struct clgan_tensor *dx);
clgan_status clgan_conv_transpose2d_backward_weight(const struct clgan_conv2d *p,
                                                    const struct clgan_tensor *x,
                                                    const struct clgan_tensor *dy, float beta,
                                                    struct clgan_tensor *scratch,
                                                    struct clgan_tensor *dw,
                                                    struct clgan_tensor *dbias);
/* Both backward passes of the transposed convolution at once (they share
 * the im2col of dy, done once): dw, dbias as _backward_weight, and dx (may
 * be NULL; then w may be NULL too) as _backward_data, with the same bits. */
clgan_status clgan_conv_transpose2d_backward(const struct clgan_conv2d *p, const struct clgan_tensor *x,
                                             const struct clgan_tensor *dy, const struct clgan_tensor *w,
                                             float beta, struct clgan_tensor *scratch,
                                             struct clgan_tensor *dx, struct clgan_tensor *dw,
                                             struct clgan_tensor *dbias);

/* ---------------------------------------------------------------- random */

/* One Philox4x32-10 block: 10 rounds on counter ctr under key. */
void clgan_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);
/* Random number `index` of (seed, stream): block index/4, lane index%4 of
 * counter {block lo, block hi, stream lo, stream hi}, key {seed lo, seed hi}. */
uint32_t clgan_philox_u32(uint64_t seed, uint64_t stream, uint64_t index);
/* (u32 >> 8) * 2^-24: in [0, 1), exact in float. */
float clgan_philox_uniform(uint64_t seed, uint64_t stream, uint64_t index);
/* Box-Muller on numbers 2*index and 2*index+1 of the stream. */
float clgan_philox_normal(uint64_t seed, uint64_t stream, uint64_t index);

/* ---------------------------------------------------------------- checking */

/* Comparison of a result `a` with a reference `b` under the pass rule
 * |a-b| <= atol + rtol*|b| per element (tol_extra[i], when given, is added to
 * element i's bound: a K-dependent bound for GEMM and reductions) and
 * NMSE = sum (a-b)^2 / sum b^2 <= nmse_max. Non-finite values must match in
 * class (NaN with NaN, +inf with +inf, -inf with -inf). */
struct clgan_compare_result {
    size_t n;
    size_t n_bad;          /* elements outside the per-element bound */
    size_t n_class;        /* elements whose finiteness class differs */
    double max_abs;
    double max_rel;
    double nmse;
    size_t worst_index;    /* element with the largest bound excess */
    double worst_a, worst_b;
    int pass;
};

void clgan_compare_f32(const float *a, const float *b, const double *tol_extra, size_t n,
                       double atol, double rtol, double nmse_max,
                       struct clgan_compare_result *res);

/* The arbiter: when backends a and b disagree on a case, both results are
 * held against the double-precision reference (the exact value, to within
 * double rounding) to say which side is wrong. */
enum clgan_arbiter_verdict {
    CLGAN_ARBITER_NONE = 0, /* not judged: no case failed, or b was NULL */
    CLGAN_ARBITER_A,        /* a is closer to the exact values */
    CLGAN_ARBITER_B,        /* b is closer */
    CLGAN_ARBITER_TIE       /* equally close */
};

struct clgan_arbiter {
    enum clgan_arbiter_verdict verdict;
    /* At the worst element of the worst failing case (worst_output,
     * worst.worst_index): the exact value and each side's distance from it
     * (INFINITY when the finiteness classes differ, 0 when both are the same
     * NaN/inf). */
    double exact;
    double err_a, err_b;
    /* Over that whole case: elements outside the tolerance around the exact
     * values, and canaries each side touched. The verdict goes to the side
     * with fewer of both together, then to the one nearer at the worst
     * element. */
    size_t off_a, off_b;
    size_t canary_a, canary_b;
};

/* Cross-checking ops: runs `cases` seeded random cases of op `kind` on
 * backend `a` and compares each with backend `b`, or, when b is NULL, with
 * a double-precision reference computed on the host. Shapes include 1, 7,
 * 17, 33, 63, 65, 127, 129, 257, 784, 1024 and odd sizes; output buffers
 * carry canaries that must stay untouched. `res` accumulates the worst case
 * (the first failing one, else the one with the largest NMSE) and maxima
 * over all cases; when a case fails and b is not NULL, the arbiter judges
 * the worst one. The same (kind, seed, case index) always gives the same
 * case. Returns an error status only when a case could not run;
 * disagreement is reported in res->pass. */
struct clgan_opcheck_result {
    enum clgan_op_kind kind;
    size_t cases;
    size_t failed;
    size_t canary_failures;
    struct clgan_compare_result worst; /* the worst case, see above */
    char worst_case[160];              /* "m=17 n=129 k=1 ta=1 tb=0 ..." */
    int pass;
    int worst_output;   /* output of the worst case holding worst.worst_index
                           (0 but for Adam: 0 p, 1 m, 2 v; SGD: 0 p, 1 vel) */
    double max_abs;     /* largest abs(a-b) over every case and output */
    double max_rel;     /* largest abs(a-b)/abs(b) over every case and output */
    double max_nmse;    /* largest NMSE over every case and output */
    /* Where max_abs occurred (finite values only): output, element, both
     * values. For a passing op the most telling element to show. */
    int max_abs_output;
    size_t max_abs_index;
    double max_abs_a, max_abs_b;
    struct clgan_arbiter arbiter;
};

clgan_status clgan_opcheck(clgan_backend *a, clgan_backend *b, enum clgan_op_kind kind,
                           size_t cases, uint64_t seed, struct clgan_opcheck_result *res);

/* The rule clgan_opcheck applies to op `kind` (vs_backend: nonzero when b is
 * a backend, 0 against the reference): per element abs(a-b) <= atol +
 * rtol*abs(b), plus for GEMM and the reductions the K-dependent bound of the
 * README's table, and NMSE <= nmse_max. All three 0: bit-identical. */
void clgan_opcheck_tolerance(enum clgan_op_kind kind, int vs_backend, double *atol, double *rtol,
                             double *nmse_max);

/* Test builds only. Nonzero when the library was configured with
 * --enable-fault-injection: then the environment variable
 * CLGAN_FAULT=OP[:BACKEND] (read at every op) adds 1e-3 to element 0 of the
 * first output of every run of op OP ("sigmoid") on backends named BACKEND
 * ("cpu", "opencl"; all when omitted), so that `clgan compare` can be shown
 * to fail. *active (may be NULL) receives $CLGAN_FAULT when it is set and
 * honoured, else NULL. */
int clgan_fault_injection(const char **active);

#ifdef __cplusplus
}
#endif

/* Topic headers: data sets, metrics and pictures; models and training. */
#include "clgan/data.h"
#include "clgan/gan.h"
#include "clgan/images.h"
#include "clgan/checkpoint.h"

#endif /* CLGAN_H */
