/* tensor.c: buffers (memory owned by a backend) and tensors (shaped views
 * that borrow a buffer at a byte offset), with blocking host transfers.
 * Every argument is checked here so backends can trust what they get. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "backend/backend_impl.h"

clgan_status clgan_buffer_new(clgan_backend *be, size_t bytes, clgan_buffer **out)
{
    if (!be || !out)
        return clgan_set_error(CLGAN_ENULL, "clgan_buffer_new: backend and out must not be NULL");
    *out = NULL;
    if (bytes == 0)
        return clgan_set_error(CLGAN_ERANGE, "clgan_buffer_new: a buffer needs at least one byte");
    clgan_buffer *buf = calloc(1, sizeof *buf);
    if (!buf)
        return clgan_set_error(CLGAN_ENOMEM, "clgan_buffer_new: out of host memory");
    clgan_status s = be->vt->buffer_alloc(be, bytes, &buf->handle);
    if (s != CLGAN_OK) {
        free(buf);
        return s;
    }
    buf->backend = be;
    buf->size = bytes;
    be->live_buffers++;
    *out = buf;
    return CLGAN_OK;
}

void clgan_buffer_free(clgan_buffer *buf)
{
    if (!buf)
        return;
    buf->backend->vt->buffer_free(buf->backend, buf->handle);
    buf->backend->live_buffers--;
    free(buf);
}

size_t clgan_buffer_size(const clgan_buffer *buf)
{
    return buf ? buf->size : 0;
}

clgan_backend *clgan_buffer_backend(const clgan_buffer *buf)
{
    return buf ? buf->backend : NULL;
}

static clgan_status check_range(const clgan_buffer *buf, size_t offset, const void *p,
                                size_t bytes, const char *fn)
{
    if (!buf || (!p && bytes))
        return clgan_set_error(CLGAN_ENULL, "%s: buffer and host pointer must not be NULL", fn);
    if (offset > buf->size || bytes > buf->size - offset)
        return clgan_set_error(CLGAN_ERANGE,
                               "%s: bytes [%zu, %zu + %zu) lie outside the buffer of %zu bytes",
                               fn, offset, offset, bytes, buf->size);
    return CLGAN_OK;
}

clgan_status clgan_buffer_write(clgan_buffer *buf, size_t offset, const void *src, size_t bytes)
{
    clgan_status s = check_range(buf, offset, src, bytes, "clgan_buffer_write");
    if (s != CLGAN_OK || bytes == 0)
        return s;
    return buf->backend->vt->write(buf->backend, buf->handle, offset, src, bytes);
}

clgan_status clgan_buffer_read(const clgan_buffer *buf, size_t offset, void *dst, size_t bytes)
{
    clgan_status s = check_range(buf, offset, dst, bytes, "clgan_buffer_read");
    if (s != CLGAN_OK || bytes == 0)
        return s;
    return buf->backend->vt->read(buf->backend, buf->handle, offset, dst, bytes);
}

static size_t dtype_size(enum clgan_dtype d)
{
    switch (d) {
    case CLGAN_DTYPE_F32:
    case CLGAN_DTYPE_U32:
        return 4;
    }
    return 0;
}

clgan_status clgan_tensor_init(struct clgan_tensor *t, clgan_buffer *buf, size_t offset,
                               enum clgan_dtype dtype, int ndim, const size_t *dims,
                               const char *name)
{
    if (!t || !buf || !dims)
        return clgan_set_error(CLGAN_ENULL, "clgan_tensor_init: tensor, buffer and dims must not be NULL");
    size_t es = dtype_size(dtype);
    if (es == 0)
        return clgan_set_error(CLGAN_EDTYPE, "clgan_tensor_init: unknown dtype %d", (int)dtype);
    if (ndim < 1 || ndim > CLGAN_MAX_DIMS)
        return clgan_set_error(CLGAN_ERANGE, "clgan_tensor_init: ndim %d is not in 1..%d", ndim,
                               CLGAN_MAX_DIMS);
    if (offset % es)
        return clgan_set_error(CLGAN_ERANGE, "clgan_tensor_init: offset %zu is not a multiple of %zu",
                               offset, es);
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] == 0)
            return clgan_set_error(CLGAN_ERANGE, "clgan_tensor_init: dimension %d is 0", i);
        if (n > SIZE_MAX / dims[i])
            return clgan_set_error(CLGAN_ERANGE, "clgan_tensor_init: element count overflows");
        n *= dims[i];
    }
    if (n > SIZE_MAX / es || offset > buf->size || n * es > buf->size - offset)
        return clgan_set_error(CLGAN_ERANGE,
                               "clgan_tensor_init: %zu elements at byte %zu do not fit a buffer of %zu bytes",
                               n, offset, buf->size);
    memset(t, 0, sizeof *t);
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->dims[i] = dims[i];
    t->buffer = buf;
    t->offset = offset;
    if (name) {
        strncpy(t->name, name, sizeof t->name - 1);
        t->name[sizeof t->name - 1] = '\0';
    }
    return CLGAN_OK;
}

size_t clgan_tensor_numel(const struct clgan_tensor *t)
{
    if (!t || t->ndim < 1 || t->ndim > CLGAN_MAX_DIMS)
        return 0;
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->dims[i];
    return n;
}

size_t clgan_tensor_bytes(const struct clgan_tensor *t)
{
    return t ? clgan_tensor_numel(t) * dtype_size(t->dtype) : 0;
}

clgan_status clgan_tensor_alloc(struct clgan_tensor *t, clgan_backend *be, enum clgan_dtype dtype,
                                int ndim, const size_t *dims, const char *name)
{
    if (!t || !be || !dims)
        return clgan_set_error(CLGAN_ENULL, "clgan_tensor_alloc: tensor, backend and dims must not be NULL");
    if (ndim < 1 || ndim > CLGAN_MAX_DIMS)
        return clgan_set_error(CLGAN_ERANGE, "clgan_tensor_alloc: ndim %d is not in 1..%d", ndim,
                               CLGAN_MAX_DIMS);
    size_t es = dtype_size(dtype);
    if (es == 0)
        return clgan_set_error(CLGAN_EDTYPE, "clgan_tensor_alloc: unknown dtype %d", (int)dtype);
    size_t n = es;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] == 0)
            return clgan_set_error(CLGAN_ERANGE, "clgan_tensor_alloc: dimension %d is 0", i);
        if (n > SIZE_MAX / dims[i])
            return clgan_set_error(CLGAN_ERANGE, "clgan_tensor_alloc: size overflows");
        n *= dims[i];
    }
    clgan_buffer *buf;
    clgan_status s = clgan_buffer_new(be, n, &buf);
    if (s != CLGAN_OK)
        return s;
    s = clgan_tensor_init(t, buf, 0, dtype, ndim, dims, name);
    if (s != CLGAN_OK)
        clgan_buffer_free(buf);
    return s;
}

void clgan_tensor_release(struct clgan_tensor *t)
{
    if (!t)
        return;
    clgan_buffer_free(t->buffer);
    t->buffer = NULL;
}

static clgan_status check_tensor_io(const struct clgan_tensor *t, const void *p, size_t count,
                                    const char *fn)
{
    if (!t || !t->buffer || !p)
        return clgan_set_error(CLGAN_ENULL, "%s: tensor, its buffer and host pointer must not be NULL", fn);
    if (count != clgan_tensor_numel(t))
        return clgan_set_error(CLGAN_ESHAPE, "%s: %zu elements given for tensor '%s' of %zu", fn,
                               count, t->name, clgan_tensor_numel(t));
    return CLGAN_OK;
}

clgan_status clgan_tensor_write(struct clgan_tensor *t, const void *src, size_t count)
{
    clgan_status s = check_tensor_io(t, src, count, "clgan_tensor_write");
    if (s != CLGAN_OK)
        return s;
    return clgan_buffer_write(t->buffer, t->offset, src, clgan_tensor_bytes(t));
}

clgan_status clgan_tensor_read(const struct clgan_tensor *t, void *dst, size_t count)
{
    clgan_status s = check_tensor_io(t, dst, count, "clgan_tensor_read");
    if (s != CLGAN_OK)
        return s;
    return clgan_buffer_read(t->buffer, t->offset, dst, clgan_tensor_bytes(t));
}
