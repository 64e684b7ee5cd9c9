/* fault.h: the planted fault of test builds (configure --enable-fault-injection):
 * $CLGAN_FAULT=OP[:BACKEND] perturbs one output element of one op so that
 * `clgan compare` and its arbiter can be shown to catch a wrong kernel.
 * In ordinary builds the hook is an empty inline function. Internal header. */
#ifndef CLGAN_FAULT_H
#define CLGAN_FAULT_H

#include "backend/backend_impl.h"

#ifdef CLGAN_FAULT_INJECTION
/* Called by ops.c after a successful exec(). When $CLGAN_FAULT names op->kind
 * (and be's name, if it names a backend), reads element 0 of op->out[0] back,
 * adds 1e-3 (1 for uint32 outputs) and writes it again: blocking, test-only. */
clgan_status clgan_fault_apply(clgan_backend *be, const struct clgan_op *op);
#else
static inline clgan_status clgan_fault_apply(clgan_backend *be, const struct clgan_op *op)
{
    (void)be;
    (void)op;
    return CLGAN_OK;
}
#endif

#endif
