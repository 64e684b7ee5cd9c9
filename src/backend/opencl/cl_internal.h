/* cl_internal.h: what the OpenCL backend's files share: the per-backend
 * state (context, queue, program, kernels), the kernel table and the error
 * helpers. Internal header: only files under src/backend/opencl/ include it,
 * and it is the one place that includes the OpenCL headers. */
#ifndef CLGAN_CL_INTERNAL_H
#define CLGAN_CL_INTERNAL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include "backend/backend_impl.h"

/* Every kernel of the program: XX(ID, "kernel function name", class).
 * Class EW kernels (elementwise, random) take their work-group size from the
 * device or from $CLGAN_CL_LOCAL_SIZE; class RED kernels (reductions) use one
 * power-of-two size so the tree they sum in is fixed for a device. */
#define CLGAN_CL_KERNEL_MAP(XX)                                           \
    XX(ADD, "k_add", EW)                                                  \
    XX(SUB, "k_sub", EW)                                                  \
    XX(MUL, "k_mul", EW)                                                  \
    XX(SCALE, "k_scale", EW)                                              \
    XX(AXPY, "k_axpy", EW)                                                \
    XX(FILL, "k_fill", EW)                                                \
    XX(COPY, "k_copy", EW)                                                \
    XX(ADD_ROW, "k_add_row", EW)                                          \
    XX(RELU, "k_relu", EW)                                                \
    XX(RELU_BACKWARD, "k_relu_backward", EW)                              \
    XX(LEAKY_RELU, "k_leaky_relu", EW)                                    \
    XX(LEAKY_RELU_BACKWARD, "k_leaky_relu_backward", EW)                  \
    XX(TANH, "k_tanh", EW)                                                \
    XX(TANH_BACKWARD, "k_tanh_backward", EW)                              \
    XX(SIGMOID, "k_sigmoid", EW)                                          \
    XX(SIGMOID_BACKWARD, "k_sigmoid_backward", EW)                        \
    XX(SEGSUM_SERIAL, "k_segsum_serial", EW)                              \
    XX(SEGSUM_GROUP, "k_segsum_group", RED)                               \
    XX(REDUCE_SUM, "k_reduce_sum", RED)                                   \
    XX(REDUCE_SUMSQ, "k_reduce_sumsq", RED)                               \
    XX(BCE_PARTIAL, "k_bce_logits_partial", RED)                          \
    XX(BCE_BACKWARD, "k_bce_logits_backward", EW)                         \
    XX(ADAM, "k_adam", EW)                                                \
    XX(SGD_MOMENTUM, "k_sgd_momentum", EW)                                \
    XX(RAND_BITS, "k_rand_bits", EW)                                      \
    XX(RAND_UNIFORM, "k_rand_uniform", EW)                                \
    XX(RAND_NORMAL, "k_rand_normal", EW)                                  \
    XX(IM2COL, "k_im2col", EW)                                            \
    XX(COL2IM, "k_col2im", EW)                                            \
    XX(CHANNEL_BIAS, "k_channel_bias", EW)                                \
    XX(CHANNEL_SUM, "k_channel_sum", RED)                                 \
    XX(BN_STATS, "k_bn_stats", RED)                                       \
    XX(BN_APPLY, "k_bn_apply", EW)                                        \
    XX(BN_BACKWARD, "k_bn_backward", RED)

enum clgan_cl_kernel_id {
#define CLGAN_XX_KID(id, name, cls) CLGAN_CL_K_##id,
    CLGAN_CL_KERNEL_MAP(CLGAN_XX_KID)
#undef CLGAN_XX_KID
    CLGAN_CL_K_COUNT
};

/* Largest work-group size we ask for: big enough to fill a GPU's compute
 * unit, small enough for every device we know of. */
#define CLGAN_CL_MAX_LOCAL 256
/* Partial sums of a two-pass full reduction (mean, sumsq, bce): at most this
 * many work-groups in the first pass. */
#define CLGAN_CL_MAX_PARTIALS 256

/* The backend's private state (be->ctx). A backend, like its one in-order
 * queue, is used by one host thread at a time: kernel arguments are set on
 * the shared cl_kernel objects just before each launch. */
struct clgan_cl {
    cl_platform_id platform;
    cl_device_id device;
    int platform_index, device_index;
    cl_context context;
    cl_command_queue queue;    /* in-order: ops, CLBlast and transfers run in issue order */
    cl_program program;
    cl_kernel kernels[CLGAN_CL_K_COUNT];
    size_t local[CLGAN_CL_K_COUNT]; /* work-group size of each kernel */
    size_t reduce_local;       /* the power-of-two size of every RED kernel */
    size_t local_override;     /* $CLGAN_CL_LOCAL_SIZE, 0 when unset */
    cl_mem partials;           /* CLGAN_CL_MAX_PARTIALS floats of scratch */
    cl_ulong max_alloc;        /* CL_DEVICE_MAX_MEM_ALLOC_SIZE */
    size_t max_wg;             /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    char platform_name[128];
    char device_name[128];
    char driver_version[128];
    char build_options[160];
};

static inline struct clgan_cl *clgan_cl_of(const clgan_backend *be)
{
    return (struct clgan_cl *)be->ctx;
}

static inline cl_mem clgan_cl_mem(const struct clgan_tensor *t)
{
    return (cl_mem)t->buffer->handle;
}

/* ---------------------------------------------------------------- cl_errors.c */

/* "CL_OUT_OF_RESOURCES" for -5; "CL_UNKNOWN_ERROR" for codes not known.
 * Static strings. */
const char *clgan_cl_error_name(cl_int err);
/* Sets the last error to "call(what): NAME (err)" and returns CLGAN_ECL
 * (CLGAN_ENOMEM for CL_OUT_OF_HOST_MEMORY). what may be NULL. */
clgan_status clgan_cl_fail(cl_int err, const char *call, const char *what);

/* Checks the cl_int result of an OpenCL call: on failure reports it by name
 * (see clgan_cl_fail) and returns from the calling function. */
#define CLGAN_CL_TRY(expr, call, what)                                    \
    do {                                                                  \
        cl_int clgan_cl_err_ = (expr);                                    \
        if (clgan_cl_err_ != CL_SUCCESS)                                  \
            return clgan_cl_fail(clgan_cl_err_, (call), (what));          \
    } while (0)

/* ---------------------------------------------------------------- cl_program.c */

/* Builds the program from the embedded sources (or from $CLGAN_CL_DIR),
 * creates every kernel of CLGAN_CL_KERNEL_MAP and sets cl->local[] and
 * cl->reduce_local. Needs cl->context, device, names and local_override.
 * On failure returns CLGAN_EBUILD (with the build log), CLGAN_ECL,
 * CLGAN_ENOENT/EIO ($CLGAN_CL_DIR) or CLGAN_EINVAL (a local size the kernels
 * cannot take); what was made stays in cl for the caller to release. */
clgan_status clgan_cl_program_build(struct clgan_cl *cl);
/* Releases the kernels and the program; safe on a partly built state. */
void clgan_cl_program_release(struct clgan_cl *cl);
/* Kernel function name of a kernel id. */
const char *clgan_cl_kernel_name(enum clgan_cl_kernel_id id);

/* ---------------------------------------------------------------- cl_ops.c, cl_gemm.c */

/* Queues one validated op; does not wait for the device. */
clgan_status clgan_cl_exec(clgan_backend *be, const struct clgan_op *op);
/* Queues C = alpha op(A) op(B) + beta C through CLBlastSgemm. */
clgan_status clgan_cl_gemm(struct clgan_cl *cl, const struct clgan_op *op);
/* A backend opens / is released (after its context): CLBlast's kernel cache
 * is dropped when the last one goes. */
void clgan_cl_gemm_attach(void);
void clgan_cl_gemm_detach(void);

#endif
