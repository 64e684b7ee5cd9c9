/* cl_backend.c: the OpenCL backend: finding the platform and device a spec
 * asks for, opening a context with one in-order queue and the built program,
 * buffers and blocking transfers, the vtable, and `clgan devices` listing.
 * Ops themselves are queued by cl_ops.c and cl_gemm.c. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/opencl/cl_internal.h"

/* The ICD loader's answer when it finds no driver (cl_khr_icd); numeric so
 * that no extension header is needed. */
#define CLGAN_CL_PLATFORM_NOT_FOUND_KHR (-1001)

/* ---------------------------------------------------------------- queries */

/* A string property, truncated to cap and without the trailing blanks some
 * drivers pad names with; "?" when the driver will not say. */
static void info_string(int is_device, void *obj, cl_uint what, char *dst, size_t cap)
{
    size_t size = 0;
    cl_int err = is_device ? clGetDeviceInfo((cl_device_id)obj, what, 0, NULL, &size)
                           : clGetPlatformInfo((cl_platform_id)obj, what, 0, NULL, &size);
    char *tmp = err == CL_SUCCESS && size > 0 ? malloc(size + 1) : NULL;
    if (tmp) {
        err = is_device ? clGetDeviceInfo((cl_device_id)obj, what, size, tmp, NULL)
                        : clGetPlatformInfo((cl_platform_id)obj, what, size, tmp, NULL);
        tmp[size] = '\0';
    }
    if (!tmp || err != CL_SUCCESS) {
        snprintf(dst, cap, "?");
        free(tmp);
        return;
    }
    const char *p = tmp;
    while (isspace((unsigned char)*p))
        p++;
    snprintf(dst, cap, "%s", p);
    size_t len = strlen(dst);
    while (len > 0 && isspace((unsigned char)dst[len - 1]))
        dst[--len] = '\0';
    free(tmp);
}

static void device_string(cl_device_id d, cl_device_info what, char *dst, size_t cap)
{
    info_string(1, d, what, dst, cap);
}

static void platform_string(cl_platform_id p, cl_platform_info what, char *dst, size_t cap)
{
    info_string(0, p, what, dst, cap);
}

static const char *type_name(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU)
        return "GPU";
    if (t & CL_DEVICE_TYPE_ACCELERATOR)
        return "accelerator";
    if (t & CL_DEVICE_TYPE_CPU)
        return "CPU";
    return "other";
}

/* All platforms; CLGAN_ENOPLATFORM, naming the cause, when there is none. */
static clgan_status get_platforms(cl_platform_id **out, cl_uint *n)
{
    *out = NULL;
    *n = 0;
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    if (err != CL_SUCCESS || np == 0) {
        if (err == CL_SUCCESS)
            err = CLGAN_CL_PLATFORM_NOT_FOUND_KHR;
        return clgan_set_error(CLGAN_ENOPLATFORM,
                               "no OpenCL platform found (clGetPlatformIDs: %s (%d)); is an OpenCL "
                               "driver (ICD) installed? check with clinfo",
                               clgan_cl_error_name(err), (int)err);
    }
    cl_platform_id *ps = calloc(np, sizeof *ps);
    if (!ps)
        return clgan_set_error(CLGAN_ENOMEM, "out of host memory listing OpenCL platforms");
    err = clGetPlatformIDs(np, ps, NULL);
    if (err != CL_SUCCESS) {
        free(ps);
        return clgan_cl_fail(err, "clGetPlatformIDs", NULL);
    }
    *out = ps;
    *n = np;
    return CLGAN_OK;
}

/* All devices of a platform; a platform without devices gives n = 0. */
static clgan_status get_devices(cl_platform_id p, cl_device_id **out, cl_uint *n)
{
    *out = NULL;
    *n = 0;
    cl_uint nd = 0;
    cl_int err = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
    if (err == CL_DEVICE_NOT_FOUND || (err == CL_SUCCESS && nd == 0))
        return CLGAN_OK;
    if (err != CL_SUCCESS)
        return clgan_cl_fail(err, "clGetDeviceIDs", NULL);
    cl_device_id *ds = calloc(nd, sizeof *ds);
    if (!ds)
        return clgan_set_error(CLGAN_ENOMEM, "out of host memory listing OpenCL devices");
    err = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, nd, ds, NULL);
    if (err != CL_SUCCESS) {
        free(ds);
        return clgan_cl_fail(err, "clGetDeviceIDs", NULL);
    }
    *out = ds;
    *n = nd;
    return CLGAN_OK;
}

/* ---------------------------------------------------------------- selection */

static int is_index(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return n == 0;
}

/* A selector: NULL (any), a decimal index, or a name substring. */
static int selected(const char *sel, unsigned index, const char *name)
{
    if (!sel)
        return 1;
    if (is_index(sel))
        return strtoul(sel, NULL, 10) == index;
    return contains_nocase(name, sel);
}

/* Adds "opencl:P:D platform / device (type)" to a bounded list (truncates). */
static void list_add(char *dst, size_t cap, unsigned pi, unsigned di, const char *pname,
                     const char *dname, const char *type)
{
    size_t len = strlen(dst);
    if (len + 1 < cap)
        snprintf(dst + len, cap - len, "%s opencl:%u:%u %s / %s (%s)", len ? ";" : "", pi, di,
                 pname, dname, type);
}

struct choice {
    cl_platform_id platform;
    cl_device_id device;
    unsigned pi, di;
};

/* Finds the first device that matches; else CLGAN_ENODEVICE listing every
 * device there is. */
static clgan_status select_device(const char *sel_platform, const char *sel_device, int gpu_only,
                                  struct choice *c)
{
    cl_platform_id *ps;
    cl_uint np;
    clgan_status s = get_platforms(&ps, &np);
    if (s != CLGAN_OK)
        return s;
    char seen[1536] = "";
    int found = 0;
    for (cl_uint pi = 0; pi < np && !found && s == CLGAN_OK; pi++) {
        char pname[128];
        platform_string(ps[pi], CL_PLATFORM_NAME, pname, sizeof pname);
        cl_device_id *ds;
        cl_uint nd;
        s = get_devices(ps[pi], &ds, &nd);
        if (s != CLGAN_OK)
            break;
        int pmatch = selected(sel_platform, pi, pname);
        for (cl_uint di = 0; di < nd && !found; di++) {
            char dname[128];
            cl_device_type type = 0;
            device_string(ds[di], CL_DEVICE_NAME, dname, sizeof dname);
            cl_int err = clGetDeviceInfo(ds[di], CL_DEVICE_TYPE, sizeof type, &type, NULL);
            if (err != CL_SUCCESS) {
                s = clgan_cl_fail(err, "clGetDeviceInfo", "CL_DEVICE_TYPE");
                break;
            }
            list_add(seen, sizeof seen, pi, di, pname, dname, type_name(type));
            int ok = pmatch && selected(sel_device, di, dname);
            if (gpu_only && !(type & (CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR)))
                ok = 0;
            if (ok) {
                c->platform = ps[pi];
                c->device = ds[di];
                c->pi = pi;
                c->di = di;
                found = 1;
            }
        }
        free(ds);
    }
    free(ps);
    if (s != CLGAN_OK || found)
        return s;
    if (gpu_only)
        return clgan_set_error(CLGAN_ENODEVICE, "no OpenCL GPU or accelerator; the devices are:%s",
                               seen[0] ? seen : " none");
    return clgan_set_error(CLGAN_ENODEVICE,
                           "no OpenCL device matches platform '%s' device '%s'; the devices are:%s",
                           sel_platform ? sel_platform : "any", sel_device ? sel_device : "any",
                           seen[0] ? seen : " none");
}

/* ---------------------------------------------------------------- state */

/* Releases whatever part of the state exists (also after a failed open).
 * Release calls are not checked: there is nothing left to report them to,
 * and a failure would not change what the caller can do. */
static void state_release(struct clgan_cl *cl)
{
    if (!cl)
        return;
    if (cl->queue)
        clFinish(cl->queue);
    if (cl->partials)
        clReleaseMemObject(cl->partials);
    clgan_cl_program_release(cl);
    if (cl->queue)
        clReleaseCommandQueue(cl->queue);
    if (cl->context)
        clReleaseContext(cl->context);
    free(cl);
}

/* $CLGAN_CL_LOCAL_SIZE: 0 when unset; read once, when a backend opens. */
static clgan_status local_override(size_t *out)
{
    *out = 0;
    const char *v = getenv("CLGAN_CL_LOCAL_SIZE");
    if (!v || !*v)
        return CLGAN_OK;
    char *end;
    unsigned long n = is_index(v) ? strtoul(v, &end, 10) : 0;
    if (n < 1 || n > 65536)
        return clgan_set_error(CLGAN_EINVAL,
                               "CLGAN_CL_LOCAL_SIZE='%s': want a work-group size from 1 to 65536", v);
    *out = n;
    return CLGAN_OK;
}

/* Device limits the backend works within. */
static clgan_status query_limits(struct clgan_cl *cl)
{
    CLGAN_CL_TRY(clGetDeviceInfo(cl->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof cl->max_alloc,
                                 &cl->max_alloc, NULL),
                 "clGetDeviceInfo", "CL_DEVICE_MAX_MEM_ALLOC_SIZE");
    CLGAN_CL_TRY(clGetDeviceInfo(cl->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof cl->max_wg,
                                 &cl->max_wg, NULL),
                 "clGetDeviceInfo", "CL_DEVICE_MAX_WORK_GROUP_SIZE");
    cl_uint dims = 0;
    CLGAN_CL_TRY(clGetDeviceInfo(cl->device, CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS, sizeof dims, &dims,
                                 NULL),
                 "clGetDeviceInfo", "CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS");
    if (dims >= 1) {
        size_t *items = calloc(dims, sizeof *items);
        if (!items)
            return clgan_set_error(CLGAN_ENOMEM, "out of host memory for device limits");
        cl_int err = clGetDeviceInfo(cl->device, CL_DEVICE_MAX_WORK_ITEM_SIZES,
                                     dims * sizeof *items, items, NULL);
        if (err != CL_SUCCESS) {
            free(items);
            return clgan_cl_fail(err, "clGetDeviceInfo", "CL_DEVICE_MAX_WORK_ITEM_SIZES");
        }
        /* Our kernels are one-dimensional: dimension 0 bounds the group too. */
        if (items[0] < cl->max_wg)
            cl->max_wg = items[0];
        free(items);
    }
    if (cl->max_wg < 1)
        cl->max_wg = 1;
    return CLGAN_OK;
}

/* ---------------------------------------------------------------- vtable */

static void cl_free(clgan_backend *be)
{
    state_release(clgan_cl_of(be));
    clgan_cl_gemm_detach();
    free(be);
}

static clgan_status cl_buffer_alloc(clgan_backend *be, size_t bytes, void **handle)
{
    struct clgan_cl *cl = clgan_cl_of(be);
    if ((cl_ulong)bytes > cl->max_alloc)
        return clgan_set_error(CLGAN_ETOOBIG,
                               "buffer of %zu bytes is larger than CL_DEVICE_MAX_MEM_ALLOC_SIZE "
                               "(%llu bytes) of '%s'",
                               bytes, (unsigned long long)cl->max_alloc, cl->device_name);
    cl_int err;
    cl_mem mem = clCreateBuffer(cl->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err != CL_SUCCESS) {
        char what[64];
        snprintf(what, sizeof what, "%zu bytes", bytes);
        return clgan_cl_fail(err, "clCreateBuffer", what);
    }
    *handle = mem;
    return CLGAN_OK;
}

static void cl_buffer_free(clgan_backend *be, void *handle)
{
    /* Queued commands that use the buffer keep it alive until they finish. */
    if (handle)
        clReleaseMemObject((cl_mem)handle);
}

static clgan_status cl_write(clgan_backend *be, void *handle, size_t offset, const void *src,
                             size_t bytes)
{
    struct clgan_cl *cl = clgan_cl_of(be);
    CLGAN_CL_TRY(clEnqueueWriteBuffer(cl->queue, (cl_mem)handle, CL_TRUE, offset, bytes, src, 0,
                                      NULL, NULL),
                 "clEnqueueWriteBuffer", NULL);
    return CLGAN_OK;
}

static clgan_status cl_read(clgan_backend *be, void *handle, size_t offset, void *dst, size_t bytes)
{
    struct clgan_cl *cl = clgan_cl_of(be);
    CLGAN_CL_TRY(clEnqueueReadBuffer(cl->queue, (cl_mem)handle, CL_TRUE, offset, bytes, dst, 0,
                                     NULL, NULL),
                 "clEnqueueReadBuffer", NULL);
    return CLGAN_OK;
}

static clgan_status cl_sync(clgan_backend *be)
{
    CLGAN_CL_TRY(clFinish(clgan_cl_of(be)->queue), "clFinish", NULL);
    return CLGAN_OK;
}

static int cl_supports(const clgan_backend *be, enum clgan_op_kind kind)
{
    /* Every op of CLGAN_OP_MAP has a kernel or CLBlast behind it. */
    return (int)kind >= 0 && kind < CLGAN_OP_COUNT;
}

static const struct clgan_backend_vtable cl_vtable = {
    .name = "opencl",
    .free = cl_free,
    .buffer_alloc = cl_buffer_alloc,
    .buffer_free = cl_buffer_free,
    .write = cl_write,
    .read = cl_read,
    .sync = cl_sync,
    .supports = cl_supports,
    .exec = clgan_cl_exec,
};

/* ---------------------------------------------------------------- open */

clgan_status clgan_opencl_backend_new(const char *sel_platform, const char *sel_device,
                                      int gpu_only, clgan_backend **out)
{
    if (!out)
        return clgan_set_error(CLGAN_ENULL, "clgan_opencl_backend_new: out must not be NULL");
    *out = NULL;
    struct choice c = {0};
    clgan_status s = select_device(sel_platform, sel_device, gpu_only, &c);
    if (s != CLGAN_OK)
        return s;
    struct clgan_cl *cl = calloc(1, sizeof *cl);
    if (!cl)
        return clgan_set_error(CLGAN_ENOMEM, "out of host memory for the OpenCL backend");
    cl->platform = c.platform;
    cl->device = c.device;
    cl->platform_index = (int)c.pi;
    cl->device_index = (int)c.di;
    platform_string(c.platform, CL_PLATFORM_NAME, cl->platform_name, sizeof cl->platform_name);
    device_string(c.device, CL_DEVICE_NAME, cl->device_name, sizeof cl->device_name);
    device_string(c.device, CL_DRIVER_VERSION, cl->driver_version, sizeof cl->driver_version);

    cl_device_type type = 0;
    cl_uint units = 0;
    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)c.platform, 0};
    clgan_backend *be = NULL;
    if ((s = local_override(&cl->local_override)) != CLGAN_OK)
        goto fail;
    if ((s = query_limits(cl)) != CLGAN_OK)
        goto fail;
    err = clGetDeviceInfo(c.device, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    if (err == CL_SUCCESS)
        err = clGetDeviceInfo(c.device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL);
    if (err != CL_SUCCESS) {
        s = clgan_cl_fail(err, "clGetDeviceInfo", "CL_DEVICE_TYPE/CL_DEVICE_MAX_COMPUTE_UNITS");
        goto fail;
    }

    cl->context = clCreateContext(props, 1, &c.device, NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        s = clgan_cl_fail(err, "clCreateContext", cl->device_name);
        goto fail;
    }
    /* In order: ops, CLBlast calls and transfers then run as issued, which
     * is what lets exec() return without waiting. */
    cl->queue = clCreateCommandQueue(cl->context, c.device, 0, &err);
    if (err != CL_SUCCESS) {
        s = clgan_cl_fail(err, "clCreateCommandQueue", cl->device_name);
        goto fail;
    }
    if ((s = clgan_cl_program_build(cl)) != CLGAN_OK)
        goto fail;
    cl->partials = clCreateBuffer(cl->context, CL_MEM_READ_WRITE,
                                  CLGAN_CL_MAX_PARTIALS * sizeof(float), NULL, &err);
    if (err != CL_SUCCESS) {
        s = clgan_cl_fail(err, "clCreateBuffer", "reduction scratch");
        goto fail;
    }

    if ((s = clgan_backend_alloc(&cl_vtable, cl, &be)) != CLGAN_OK)
        goto fail;
    /* The precisions keep the line within the description's 256 bytes. */
    snprintf(be->description, sizeof be->description,
             "opencl:%u:%u %.60s / %.80s (%s, %u CUs, driver %.40s)", c.pi, c.di,
             cl->platform_name, cl->device_name, type_name(type), (unsigned)units,
             cl->driver_version);
    clgan_cl_gemm_attach();
    *out = be;
    return CLGAN_OK;
fail:
    state_release(cl);
    return s;
}

/* ---------------------------------------------------------------- listing */

static clgan_status describe(cl_platform_id p, unsigned pi, cl_device_id d, unsigned di,
                             struct clgan_device_info *info)
{
    memset(info, 0, sizeof *info);
    info->platform_index = (int)pi;
    info->device_index = (int)di;
    platform_string(p, CL_PLATFORM_NAME, info->platform_name, sizeof info->platform_name);
    device_string(d, CL_DEVICE_NAME, info->device_name, sizeof info->device_name);
    device_string(d, CL_DEVICE_VERSION, info->device_version, sizeof info->device_version);
    device_string(d, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
    device_string(d, CL_DEVICE_OPENCL_C_VERSION, info->opencl_c_version,
                  sizeof info->opencl_c_version);
    snprintf(info->backend_spec, sizeof info->backend_spec, "opencl:%u:%u", pi, di);

    cl_device_type type = 0;
    cl_uint units = 0;
    cl_ulong global = 0, alloc = 0;
    size_t wg = 0;
    cl_device_fp_config fp64 = 0;
    CLGAN_CL_TRY(clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, NULL), "clGetDeviceInfo",
                 "CL_DEVICE_TYPE");
    CLGAN_CL_TRY(clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL),
                 "clGetDeviceInfo", "CL_DEVICE_MAX_COMPUTE_UNITS");
    CLGAN_CL_TRY(clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global, &global, NULL),
                 "clGetDeviceInfo", "CL_DEVICE_GLOBAL_MEM_SIZE");
    CLGAN_CL_TRY(clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof alloc, &alloc, NULL),
                 "clGetDeviceInfo", "CL_DEVICE_MAX_MEM_ALLOC_SIZE");
    CLGAN_CL_TRY(clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL),
                 "clGetDeviceInfo", "CL_DEVICE_MAX_WORK_GROUP_SIZE");
    /* Some 1.x drivers reject this query when they have no fp64 at all;
     * then the extension list decides. */
    if (clGetDeviceInfo(d, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp64, &fp64, NULL) == CL_SUCCESS) {
        info->has_fp64 = fp64 != 0;
    } else {
        char ext[4096];
        device_string(d, CL_DEVICE_EXTENSIONS, ext, sizeof ext);
        info->has_fp64 = strstr(ext, "cl_khr_fp64") != NULL;
    }
    /* Denormal floats: without them tiny values flush to zero, one reason
     * two devices may legitimately differ. */
    cl_device_fp_config fp32 = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_SINGLE_FP_CONFIG, sizeof fp32, &fp32, NULL) == CL_SUCCESS)
        info->has_fp32_denormals = (fp32 & CL_FP_DENORM) != 0;
    snprintf(info->type, sizeof info->type, "%s", type_name(type));
    info->compute_units = units;
    info->global_mem_bytes = global;
    info->max_alloc_bytes = alloc;
    info->max_work_group_size = wg;
    return CLGAN_OK;
}

clgan_status clgan_opencl_devices(struct clgan_device_info **out, size_t *n)
{
    if (!out || !n)
        return clgan_set_error(CLGAN_ENULL, "clgan_opencl_devices: out and n must not be NULL");
    *out = NULL;
    *n = 0;
    cl_platform_id *ps;
    cl_uint np;
    clgan_status s = get_platforms(&ps, &np);
    if (s != CLGAN_OK)
        return s;
    struct clgan_device_info *list = NULL;
    size_t count = 0;
    for (cl_uint pi = 0; pi < np && s == CLGAN_OK; pi++) {
        cl_device_id *ds;
        cl_uint nd;
        if ((s = get_devices(ps[pi], &ds, &nd)) != CLGAN_OK)
            break;
        if (nd > 0) {
            struct clgan_device_info *grown = realloc(list, (count + nd) * sizeof *list);
            if (!grown)
                s = clgan_set_error(CLGAN_ENOMEM, "out of host memory listing OpenCL devices");
            else
                list = grown;
        }
        for (cl_uint di = 0; di < nd && s == CLGAN_OK; di++) {
            s = describe(ps[pi], pi, ds[di], di, &list[count]);
            if (s == CLGAN_OK)
                count++;
        }
        free(ds);
    }
    free(ps);
    if (s != CLGAN_OK) {
        free(list);
        return s;
    }
    *out = list;
    *n = count;
    return CLGAN_OK;
}
