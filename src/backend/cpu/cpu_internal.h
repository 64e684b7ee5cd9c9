/* cpu_internal.h: what the CPU backend's files share. Internal header. */
#ifndef CLGAN_CPU_INTERNAL_H
#define CLGAN_CPU_INTERNAL_H

#include "backend/backend_impl.h"

/* Row-major SGEMM with BLAS semantics (see clgan_gemm). Arguments are valid;
 * uses the library's OpenMP thread pool. Never fails. */
void clgan_cpu_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                     const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                     size_t ldc);

/* Name of the SIMD instruction set the GEMM kernel runs with ("AVX-512",
 * "AVX2+FMA", "SSE2", "generic"). */
const char *clgan_cpu_simd_name(void);

/* The convolution and batch-norm ops (cpu_conv.c). */
clgan_status clgan_cpu_conv_exec(const struct clgan_op *op);

/* Runs one validated op on host memory. */
clgan_status clgan_cpu_exec(clgan_backend *be, const struct clgan_op *op);

/* Host address of element 0 of a tensor. */
static inline float *clgan_cpu_f32(const struct clgan_tensor *t)
{
    return (float *)((char *)t->buffer->handle + t->offset);
}

#endif
