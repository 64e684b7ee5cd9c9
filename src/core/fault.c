/* fault.c: the planted fault behind `configure --enable-fault-injection`.
 * It lives above the backends (called from ops.c) so that one mechanism
 * perturbs any op on any backend without touching a kernel. Ordinary builds
 * compile only clgan_fault_injection(), which then says "not built in". */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/fault.h"

#ifdef CLGAN_FAULT_INJECTION
/* $CLGAN_FAULT when set and not empty. Read at every call so that a test
 * can change it between runs of one process. */
static const char *fault_spec(void)
{
    const char *v = getenv("CLGAN_FAULT");
    return v && *v ? v : NULL;
}

/* Does spec "OP[:BACKEND]" name this op on this backend? */
static int fault_matches(const char *spec, enum clgan_op_kind kind, const char *backend)
{
    const char *op = clgan_op_name(kind);
    size_t n = strlen(op);
    if (strncmp(spec, op, n) != 0)
        return 0;
    if (spec[n] == '\0')
        return 1;
    return spec[n] == ':' && strcmp(spec + n + 1, backend) == 0;
}

clgan_status clgan_fault_apply(clgan_backend *be, const struct clgan_op *op)
{
    const char *spec = fault_spec();
    if (!spec || !op->out[0] || !fault_matches(spec, op->kind, be->vt->name))
        return CLGAN_OK;
    struct clgan_tensor *t = op->out[0];
    unsigned char bytes[4];
    /* The read waits for the op itself: fine for a test-only path. */
    clgan_status s = clgan_buffer_read(t->buffer, t->offset, bytes, sizeof bytes);
    if (s != CLGAN_OK)
        return s;
    if (t->dtype == CLGAN_DTYPE_U32) {
        uint32_t u;
        memcpy(&u, bytes, 4);
        u += 1;
        memcpy(bytes, &u, 4);
    } else {
        float f;
        memcpy(&f, bytes, 4);
        f += 1e-3f;
        memcpy(bytes, &f, 4);
    }
    return clgan_buffer_write(t->buffer, t->offset, bytes, sizeof bytes);
}
#endif

int clgan_fault_injection(const char **active)
{
#ifdef CLGAN_FAULT_INJECTION
    if (active)
        *active = fault_spec();
    return 1;
#else
    if (active)
        *active = NULL;
    return 0;
#endif
}
