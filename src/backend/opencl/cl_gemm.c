/* cl_gemm.c: the GEMM op through CLBlastSgemm, queued on the backend's own
 * in-order queue (so it orders with our kernels and transfers) without an
 * event and without waiting. CLBlast compiles and caches its kernels per
 * context on first use. */
#include "config.h"

#include <stdatomic.h>

#include <clblast_c.h>

#include "backend/opencl/cl_internal.h"

/* OpenCL backends alive in the process. CLBlast keeps the programs it
 * compiled in a process-wide cache, and each holds a reference to its
 * context; when the last backend goes, the cache is cleared so that the
 * contexts are really released. (Clearing while another backend lives would
 * only make it compile again, but there is no per-context clear.) */
static atomic_int live_backends;

void clgan_cl_gemm_attach(void)
{
    atomic_fetch_add(&live_backends, 1);
}

void clgan_cl_gemm_detach(void)
{
    if (atomic_fetch_sub(&live_backends, 1) == 1)
        CLBlastClearCache(); /* its status only says the cache was empty */
}

/* Name of a CLBlast status; the values above -1000 are OpenCL errors. */
static const char *clblast_status_name(CLBlastStatusCode st)
{
    switch ((int)st) { /* int: the OpenCL-valued codes are handled below */
    case CLBlastNotImplemented: return "CLBlastNotImplemented";
    case CLBlastInvalidMatrixA: return "CLBlastInvalidMatrixA";
    case CLBlastInvalidMatrixB: return "CLBlastInvalidMatrixB";
    case CLBlastInvalidMatrixC: return "CLBlastInvalidMatrixC";
    case CLBlastInvalidVectorX: return "CLBlastInvalidVectorX";
    case CLBlastInvalidVectorY: return "CLBlastInvalidVectorY";
    case CLBlastInvalidDimension: return "CLBlastInvalidDimension";
    case CLBlastInvalidLeadDimA: return "CLBlastInvalidLeadDimA";
    case CLBlastInvalidLeadDimB: return "CLBlastInvalidLeadDimB";
    case CLBlastInvalidLeadDimC: return "CLBlastInvalidLeadDimC";
    case CLBlastInvalidIncrementX: return "CLBlastInvalidIncrementX";
    case CLBlastInvalidIncrementY: return "CLBlastInvalidIncrementY";
    case CLBlastInsufficientMemoryA: return "CLBlastInsufficientMemoryA";
    case CLBlastInsufficientMemoryB: return "CLBlastInsufficientMemoryB";
    case CLBlastInsufficientMemoryC: return "CLBlastInsufficientMemoryC";
    case CLBlastInsufficientMemoryX: return "CLBlastInsufficientMemoryX";
    case CLBlastInsufficientMemoryY: return "CLBlastInsufficientMemoryY";
    case CLBlastInsufficientMemoryTemp: return "CLBlastInsufficientMemoryTemp";
    case CLBlastInvalidBatchCount: return "CLBlastInvalidBatchCount";
    case CLBlastInvalidOverrideKernel: return "CLBlastInvalidOverrideKernel";
    case CLBlastMissingOverrideParameter: return "CLBlastMissingOverrideParameter";
    case CLBlastInvalidLocalMemUsage: return "CLBlastInvalidLocalMemUsage";
    case CLBlastNoHalfPrecision: return "CLBlastNoHalfPrecision";
    case CLBlastNoDoublePrecision: return "CLBlastNoDoublePrecision";
    case CLBlastInvalidVectorScalar: return "CLBlastInvalidVectorScalar";
    case CLBlastInsufficientMemoryScalar: return "CLBlastInsufficientMemoryScalar";
    case CLBlastDatabaseError: return "CLBlastDatabaseError";
    case CLBlastUnknownError: return "CLBlastUnknownError";
    case CLBlastUnexpectedError: return "CLBlastUnexpectedError";
    default:
        break;
    }
    if ((int)st > -1000)
        return clgan_cl_error_name((cl_int)st);
    return "CLBlast status unknown";
}

clgan_status clgan_cl_gemm(struct clgan_cl *cl, const struct clgan_op *op)
{
    const struct clgan_tensor *a = op->in[0], *b = op->in[1], *c = op->out[0];
    const CLBlastTranspose ta = op->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
    const CLBlastTranspose tb = op->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastStatusCode st =
        op->batch > 1
            ? CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, ta, tb, op->m, op->n, op->k, op->f[0],
                                         clgan_cl_mem(a), clgan_tensor_eoff(a), op->lda, op->stride_a,
                                         clgan_cl_mem(b), clgan_tensor_eoff(b), op->ldb, op->stride_b,
                                         op->f[1], clgan_cl_mem(c), clgan_tensor_eoff(c), op->ldc,
                                         op->stride_c, op->batch, &cl->queue, NULL)
            : CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, op->m, op->n, op->k, op->f[0], clgan_cl_mem(a),
                           clgan_tensor_eoff(a), op->lda, clgan_cl_mem(b), clgan_tensor_eoff(b), op->ldb,
                           op->f[1], clgan_cl_mem(c), clgan_tensor_eoff(c), op->ldc, &cl->queue, NULL);
    if (st == CLBlastSuccess)
        return CLGAN_OK;
    return clgan_set_error(CLGAN_ECLBLAST,
                           "CLBlastSgemm%s(m=%zu n=%zu k=%zu ta=%d tb=%d lda=%zu ldb=%zu ldc=%zu batch=%zu) on "
                           "'%s': %s (%d)",
                           op->batch > 1 ? "StridedBatched" : "", op->m, op->n, op->k, op->trans_a,
                           op->trans_b, op->lda, op->ldb, op->ldc, op->batch ? op->batch : 1,
                           cl->device_name, clblast_status_name(st), (int)st);
}
