/* reference.h: double-precision host references of every op, with the
 * per-element error bound a float32 implementation may show. Shared by the
 * op checker (tests, selftest) and the arbiter of `clgan compare`. */
#ifndef CLGAN_REFERENCE_H
#define CLGAN_REFERENCE_H

#include "backend/backend_impl.h"

/* One op instance on host data. Inputs and outputs are full tensor
 * contents (outputs: their content before the op; GEMM's C with its
 * leading-dimension gaps, Adam's p, m and v, ...). */
struct clgan_ref_case {
    enum clgan_op_kind kind;
    size_t m, n, k, lda, ldb, ldc;
    size_t batch, stride_a, stride_b, stride_c; /* GEMM: 0 or 1 = one product */
    int trans_a, trans_b;
    float f[6];          /* op parameters as the public call takes them */
    uint64_t seed, stream, offset, step;
    int n_in, n_out;
    const float *in[4];
    size_t in_len[4];
    struct clgan_op_conv conv; /* im2col, col2im: geometry and image range */
    const float *out_init[3];
    size_t out_len[3];
};

/* Expected outputs in double (out[i] has out_len[i] elements; elements the op
 * does not write keep their initial value) and, for each element, the extra
 * error bound beyond the elementwise rule: 2*K*2^-24*sum|terms| for GEMM and
 * reductions (K = terms summed), 0 elsewhere. Returns CLGAN_ENOMEM only. */
clgan_status clgan_ref_run(const struct clgan_ref_case *c, double *out[3], double *bound[3]);

/* Float32 rounding unit. */
#define CLGAN_REF_U (1.0 / 16777216.0)

#endif
