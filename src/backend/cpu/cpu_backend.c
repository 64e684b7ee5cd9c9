/* cpu_backend.c: the CPU backend's vtable. Buffers are 64-byte aligned host
 * memory; ops run synchronously on the calling thread and the library's one
 * OpenMP pool, so write/read/sync need no queue. Always built; the reference
 * every other backend is checked against. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "backend/cpu/cpu_internal.h"

static void cpu_free(clgan_backend *be)
{
    free(be);
}

static clgan_status cpu_buffer_alloc(clgan_backend *be, size_t bytes, void **handle)
{
    size_t rounded = (bytes + 63) / 64 * 64;
    if (rounded < bytes)
        return clgan_set_error(CLGAN_ETOOBIG, "cpu: a buffer of %zu bytes cannot be addressed", bytes);
    void *p = aligned_alloc(64, rounded);
    if (!p)
        return clgan_set_error(CLGAN_ENOMEM, "cpu: out of host memory allocating %zu bytes", bytes);
    *handle = p;
    return CLGAN_OK;
}

static void cpu_buffer_free(clgan_backend *be, void *handle)
{
    free(handle);
}

static clgan_status cpu_write(clgan_backend *be, void *handle, size_t offset, const void *src,
                              size_t bytes)
{
    memcpy((char *)handle + offset, src, bytes);
    return CLGAN_OK;
}

static clgan_status cpu_read(clgan_backend *be, void *handle, size_t offset, void *dst, size_t bytes)
{
    memcpy(dst, (const char *)handle + offset, bytes);
    return CLGAN_OK;
}

static clgan_status cpu_sync(clgan_backend *be)
{
    return CLGAN_OK;
}

static int cpu_supports(const clgan_backend *be, enum clgan_op_kind kind)
{
    return kind >= 0 && kind < CLGAN_OP_COUNT;
}

static const struct clgan_backend_vtable cpu_vtable = {
    .name = "cpu",
    .free = cpu_free,
    .buffer_alloc = cpu_buffer_alloc,
    .buffer_free = cpu_buffer_free,
    .write = cpu_write,
    .read = cpu_read,
    .sync = cpu_sync,
    .supports = cpu_supports,
    .exec = clgan_cpu_exec,
};

void clgan_cpu_info(int *threads, const char **simd)
{
    if (threads) {
#ifdef _OPENMP
        *threads = omp_get_max_threads();
#else
        *threads = 1;
#endif
    }
    if (simd)
        *simd = clgan_cpu_simd_name();
}

clgan_status clgan_cpu_backend_new(clgan_backend **out)
{
    clgan_status s = clgan_backend_alloc(&cpu_vtable, NULL, out);
    if (s != CLGAN_OK)
        return s;
    int threads;
    const char *simd;
    clgan_cpu_info(&threads, &simd);
    snprintf((*out)->description, sizeof (*out)->description, "cpu (%d thread%s, %s)", threads,
             threads == 1 ? "" : "s", simd);
    return CLGAN_OK;
}
