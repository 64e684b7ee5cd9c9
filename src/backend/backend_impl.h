/* backend_impl.h: what a backend implements (the vtable) and the op record
 * that the validated wrappers in src/core/ops.c hand to it.
 * Backends may trust every field: shapes, bounds, dtypes and backend
 * ownership were checked before exec() is called. Internal header. */
#ifndef CLGAN_BACKEND_IMPL_H
#define CLGAN_BACKEND_IMPL_H

#include "clgan.h"

/* One operation. Offsets are in elements (the tensor's byte offset / 4);
 * sizes in elements. Which fields an op uses:
 *  GEMM                 in[0]=A in[1]=B out[0]=C; m n k lda ldb ldc trans_a
 *                       trans_b; f[0]=alpha f[1]=beta; batch stride_a stride_b
 *                       stride_c (a strided batch when batch > 1)
 *  ADD SUB MUL          in[0] in[1] -> out[0]; n
 *  SCALE                in[0] -> out[0]; f[0]=alpha; n
 *  AXPY                 in[0]=x, out[0]=y (read and written); f[0]=alpha; n
 *  FILL                 out[0]; f[0]=value; n
 *  COPY                 in[0] -> out[0]; n
 *  ADD_ROW              in[0]=x [m,n], in[1]=row [n] -> out[0] [m,n]
 *  RELU TANH SIGMOID    in[0] -> out[0]; n
 *  LEAKY_RELU           in[0] -> out[0]; f[0]=slope; n
 *  *_BACKWARD (act.)    in[0]=x or y, in[1]=dy -> out[0]=dx; f[0]=slope; n
 *  SUM_ROWS             in[0]=x [m,n] -> out[0] [n]; f[0]=beta
 *  SUM_COLS             in[0]=x [m,n] -> out[0] [m]; f[0]=beta
 *  MEAN SUMSQ           in[0] (n elements) -> out[0] (1 element)
 *  BCE_LOGITS           in[0]=x in[1]=t -> out[0] (1 element); n
 *  BCE_LOGITS_BACKWARD  in[0]=x in[1]=t -> out[0]=dx; f[0]=scale; n
 *  ADAM                 out[0]=p in[0]=g out[1]=m out[2]=v; f[0]=lr f[1]=b1
 *                       f[2]=b2 f[3]=eps f[4]=1-b1^t f[5]=1-b2^t; n
 *  SGD_MOMENTUM         out[0]=p in[0]=g out[1]=vel; f[0]=lr f[1]=momentum; n
 *  RAND_BITS            out[0] (u32); seed stream offset; n
 *  RAND_UNIFORM         out[0]; seed stream offset; f[0]=lo f[1]=hi; n
 *  RAND_NORMAL          out[0]; seed stream offset; f[0]=mean f[1]=std; n
 *  IM2COL               in[0]=x -> out[0]=col; conv (first, count)
 *  COL2IM               in[0]=col -> out[0]=x; conv (first, count); f[0]=beta
 *  CHANNEL_BIAS         in[0]=x in[1]=bias -> out[0]; m=N n=C k=spatial
 *  CHANNEL_SUM          in[0]=x -> out[0] [C]; m=N n=C k=spatial; f[0]=beta
 *  BATCHNORM_STATS      in[0]=x -> out[0]=stats [2C]; m n k as above
 *  BATCHNORM            in[0]=x in[1]=stats in[2]=gamma in[3]=beta -> out[0];
 *                       m n k; f[0]=eps
 *  BATCHNORM_BACKWARD   in[0]=x in[1]=stats in[2]=gamma in[3]=dy -> out[0]=dx
 *                       out[1]=dgamma out[2]=dbeta; m n k; f[0]=eps f[1]=acc
 */
/* im2col / col2im geometry: the public one plus the output size and the
 * range of images the op covers. */
struct clgan_op_conv {
    struct clgan_conv_geom g;
    size_t out_h, out_w;
    size_t first, count;
};

struct clgan_op {
    enum clgan_op_kind kind;
    const struct clgan_tensor *in[4];
    struct clgan_tensor *out[3];
    size_t m, n, k;
    size_t lda, ldb, ldc;
    int trans_a, trans_b;
    float f[6];
    uint64_t seed, stream, offset;
    struct clgan_op_conv conv;
    /* GEMM: batch products (0 or 1: one), the i-th with its A, B and C at
     * element i * stride_a, stride_b, stride_c of the tensors. */
    size_t batch, stride_a, stride_b, stride_c;
};

/* Switches over one op family name only that family's kinds and end in a
 * default; the complete switch, checked by -Wswitch-enum, is each backend's
 * exec(). These bracket such family-only functions. */
#define CLGAN_FAMILY_SWITCH_BEGIN \
    _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wswitch-enum\"")
#define CLGAN_FAMILY_SWITCH_END _Pragma("GCC diagnostic pop")

/* Element offset of a tensor within its buffer. */
static inline size_t clgan_tensor_eoff(const struct clgan_tensor *t)
{
    return t->offset / 4;
}

/* Nonzero when two tensors share bytes of one buffer. */
static inline int clgan_tensors_overlap(const struct clgan_tensor *a, const struct clgan_tensor *b)
{
    if (a->buffer != b->buffer)
        return 0;
    size_t a0 = a->offset, a1 = a0 + clgan_tensor_bytes(a);
    size_t b0 = b->offset, b1 = b0 + clgan_tensor_bytes(b);
    return a0 < b1 && b0 < a1;
}

struct clgan_backend_vtable {
    const char *name;
    void (*free)(clgan_backend *be);
    /* bytes > 0; *handle receives backend memory (host pointer or cl_mem). */
    clgan_status (*buffer_alloc)(clgan_backend *be, size_t bytes, void **handle);
    void (*buffer_free)(clgan_backend *be, void *handle);
    /* Blocking transfers; they order after every queued op. */
    clgan_status (*write)(clgan_backend *be, void *handle, size_t offset, const void *src,
                          size_t bytes);
    clgan_status (*read)(clgan_backend *be, void *handle, size_t offset, void *dst, size_t bytes);
    clgan_status (*sync)(clgan_backend *be);
    int (*supports)(const clgan_backend *be, enum clgan_op_kind kind);
    /* Queues the op; need not wait for it. */
    clgan_status (*exec)(clgan_backend *be, const struct clgan_op *op);
};

struct clgan_backend {
    const struct clgan_backend_vtable *vt;
    void *ctx;                 /* backend-private state */
    char description[256];
    char note[256];
    size_t live_buffers;
};

struct clgan_buffer {
    clgan_backend *backend;
    void *handle;
    size_t size;
};

/* Constructors of the concrete backends (backend.c calls them). */
clgan_status clgan_cpu_backend_new(clgan_backend **out);
#ifdef CLGAN_HAVE_OPENCL
/* sel_platform / sel_device: NULL (any) or a decimal index or a
 * case-insensitive substring of the platform / device name. gpu_only (for
 * "auto"): only GPU and accelerator devices qualify. */
clgan_status clgan_opencl_backend_new(const char *sel_platform, const char *sel_device,
                                      int gpu_only, clgan_backend **out);
#endif

/* Allocation for a backend struct with its description. */
clgan_status clgan_backend_alloc(const struct clgan_backend_vtable *vt, void *ctx,
                                 clgan_backend **out);

/* Error helpers (status.c): set the thread's last-error detail and return s. */
clgan_status clgan_set_error(clgan_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void clgan_clear_error(void);

#endif
