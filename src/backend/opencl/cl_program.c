/* cl_program.c: the backend's one OpenCL program. It is built once per
 * backend (context) from the .cl files of cl/ embedded at build time, or from
 * the folder $CLGAN_CL_DIR while developing kernels, with a fixed option
 * string; then every kernel is created once and its work-group size fixed. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_sources.h"

enum kernel_class { EW, RED };

static const char *const kernel_names[CLGAN_CL_K_COUNT] = {
#define XX(id, name, cls) [CLGAN_CL_K_##id] = name,
    CLGAN_CL_KERNEL_MAP(XX)
#undef XX
};

static const enum kernel_class kernel_classes[CLGAN_CL_K_COUNT] = {
#define XX(id, name, cls) [CLGAN_CL_K_##id] = cls,
    CLGAN_CL_KERNEL_MAP(XX)
#undef XX
};

const char *clgan_cl_kernel_name(enum clgan_cl_kernel_id id)
{
    return (int)id >= 0 && id < CLGAN_CL_K_COUNT ? kernel_names[id] : "unknown";
}

/* ---------------------------------------------------------------- source text */

/* A growing string; len excludes the terminating NUL. */
struct text {
    char *s;
    size_t len, cap;
};

static clgan_status text_append(struct text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 16384;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *p = realloc(t->s, cap);
        if (!p)
            return clgan_set_error(CLGAN_ENOMEM, "out of host memory for OpenCL program source");
        t->s = p;
        t->cap = cap;
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
    return CLGAN_OK;
}

/* Appends the whole file dir/name. */
static clgan_status append_file(struct text *t, const char *dir, const char *name)
{
    size_t plen = strlen(dir) + 1 + strlen(name) + 1;
    char *path = malloc(plen);
    if (!path)
        return clgan_set_error(CLGAN_ENOMEM, "out of host memory for a path");
    snprintf(path, plen, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        clgan_status s = clgan_set_error(e == ENOENT ? CLGAN_ENOENT : CLGAN_EIO,
                                         "CLGAN_CL_DIR: cannot open %s: %s", path, strerror(e));
        free(path);
        return s;
    }
    clgan_status s = CLGAN_OK;
    char chunk[8192];
    size_t got;
    while (s == CLGAN_OK && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        s = text_append(t, chunk, got);
    if (s == CLGAN_OK && ferror(f))
        s = clgan_set_error(CLGAN_EIO, "CLGAN_CL_DIR: error reading %s", path);
    fclose(f);
    free(path);
    return s;
}

/* The program text: every file in CL_FILES order, each introduced by a #line
 * directive so that the build log names the file and line of an error. */
static clgan_status gather_sources(struct text *t, const char *dir)
{
    clgan_status s = CLGAN_OK;
    for (const struct clgan_cl_source *src = clgan_cl_sources; s == CLGAN_OK && src->name; src++) {
        char line[160];
        int n = snprintf(line, sizeof line, "#line 1 \"%s\"\n", src->name);
        s = text_append(t, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        if (s != CLGAN_OK)
            break;
        if (dir) {
            s = append_file(t, dir, src->name);
            /* A file without a final newline must not glue onto the next #line. */
            if (s == CLGAN_OK)
                s = text_append(t, "\n", 1);
        } else {
            for (const char *const *l = src->lines; s == CLGAN_OK && *l; l++)
                s = text_append(t, *l, strlen(*l));
        }
    }
    return s;
}

/* ---------------------------------------------------------------- build */

/* Fixed per device: the C dialect (1.2; a 1.1-only compiler gets no -cl-std
 * and still takes the kernels, which use nothing newer), and correctly
 * rounded float division and square root where the device offers them, so
 * that kernels round like C. */
static clgan_status choose_options(struct clgan_cl *cl)
{
    cl_device_fp_config fp = 0;
    CLGAN_CL_TRY(clGetDeviceInfo(cl->device, CL_DEVICE_SINGLE_FP_CONFIG, sizeof fp, &fp, NULL),
                 "clGetDeviceInfo", "CL_DEVICE_SINGLE_FP_CONFIG");
    char cver[256] = "";
    size_t need = 0;
    CLGAN_CL_TRY(clGetDeviceInfo(cl->device, CL_DEVICE_OPENCL_C_VERSION, 0, NULL, &need),
                 "clGetDeviceInfo", "CL_DEVICE_OPENCL_C_VERSION");
    if (need < sizeof cver)
        CLGAN_CL_TRY(clGetDeviceInfo(cl->device, CL_DEVICE_OPENCL_C_VERSION, need, cver, NULL),
                     "clGetDeviceInfo", "CL_DEVICE_OPENCL_C_VERSION");
    int major = 1, minor = 2; /* what a version we cannot read is taken for */
    if (sscanf(cver, "OpenCL C %d.%d", &major, &minor) != 2)
        major = 1, minor = 2;
    int has12 = major > 1 || (major == 1 && minor >= 2);
    snprintf(cl->build_options, sizeof cl->build_options, "%s%s", has12 ? "-cl-std=CL1.2" : "",
             (fp & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) ? " -cl-fp32-correctly-rounded-divide-sqrt"
                                                         : "");
    return CLGAN_OK;
}

/* After a failed clBuildProgram: the status with the device, driver,
 * options, where the sources came from, and the build log. */
static clgan_status build_failure(struct clgan_cl *cl, cl_int err, const char *dir)
{
    size_t size = 0;
    char *log = NULL;
    cl_int e = clGetProgramBuildInfo(cl->program, cl->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &size);
    if (e == CL_SUCCESS && size > 0 && (log = malloc(size + 1)) != NULL) {
        e = clGetProgramBuildInfo(cl->program, cl->device, CL_PROGRAM_BUILD_LOG, size, log, NULL);
        log[e == CL_SUCCESS ? size : 0] = '\0';
    }
    const char *shown = log && *log ? log : "(the driver gave no build log)";
    clgan_status s = clgan_set_error(
        CLGAN_EBUILD,
        "building the OpenCL program failed: clBuildProgram: %s (%d); device '%s', driver %s, "
        "options '%s', sources %s%s; build log:\n%s",
        clgan_cl_error_name(err), (int)err, cl->device_name, cl->driver_version, cl->build_options,
        dir ? "from CLGAN_CL_DIR=" : "embedded at build time", dir ? dir : "", shown);
    free(log);
    return s;
}

/* Work-group sizes: elementwise kernels take the largest the kernel and the
 * device allow (capped) or $CLGAN_CL_LOCAL_SIZE; reductions share one power
 * of two so their summation tree is fixed for the device. */
static clgan_status choose_local_sizes(struct clgan_cl *cl)
{
    size_t red = CLGAN_CL_MAX_LOCAL;
    for (int id = 0; id < CLGAN_CL_K_COUNT; id++) {
        size_t kwg = 0;
        CLGAN_CL_TRY(clGetKernelWorkGroupInfo(cl->kernels[id], cl->device, CL_KERNEL_WORK_GROUP_SIZE,
                                              sizeof kwg, &kwg, NULL),
                     "clGetKernelWorkGroupInfo", kernel_names[id]);
        size_t cap = kwg < cl->max_wg ? kwg : cl->max_wg;
        if (cap > CLGAN_CL_MAX_LOCAL)
            cap = CLGAN_CL_MAX_LOCAL;
        if (cap < 1)
            cap = 1;
        if (kernel_classes[id] == RED) {
            if (cap < red)
                red = cap;
            continue;
        }
        if (cl->local_override) {
            size_t lim = kwg < cl->max_wg ? kwg : cl->max_wg;
            if (cl->local_override > lim)
                return clgan_set_error(CLGAN_EINVAL,
                                       "CLGAN_CL_LOCAL_SIZE=%zu: kernel %s allows at most %zu "
                                       "work-items per group on '%s'",
                                       cl->local_override, kernel_names[id], lim, cl->device_name);
            cl->local[id] = cl->local_override;
        } else {
            cl->local[id] = cap;
        }
    }
    size_t p2 = 1;
    while (p2 * 2 <= red)
        p2 *= 2;
    cl->reduce_local = p2;
    for (int id = 0; id < CLGAN_CL_K_COUNT; id++)
        if (kernel_classes[id] == RED)
            cl->local[id] = p2;
    return CLGAN_OK;
}

clgan_status clgan_cl_program_build(struct clgan_cl *cl)
{
    clgan_status s = choose_options(cl);
    if (s != CLGAN_OK)
        return s;
    const char *dir = getenv("CLGAN_CL_DIR");
    if (dir && !*dir)
        dir = NULL;
    struct text src = {0};
    s = gather_sources(&src, dir);
    if (s != CLGAN_OK) {
        free(src.s);
        return s;
    }
    const char *text = src.s;
    cl_int err;
    cl->program = clCreateProgramWithSource(cl->context, 1, &text, NULL, &err);
    free(src.s);
    if (err != CL_SUCCESS)
        return clgan_cl_fail(err, "clCreateProgramWithSource", "clgan kernels");
    err = clBuildProgram(cl->program, 1, &cl->device, cl->build_options, NULL, NULL);
    if (err != CL_SUCCESS)
        return build_failure(cl, err, dir);
    for (int id = 0; id < CLGAN_CL_K_COUNT; id++) {
        cl->kernels[id] = clCreateKernel(cl->program, kernel_names[id], &err);
        if (err != CL_SUCCESS)
            return clgan_cl_fail(err, "clCreateKernel", kernel_names[id]);
    }
    return choose_local_sizes(cl);
}

void clgan_cl_program_release(struct clgan_cl *cl)
{
    for (int id = 0; id < CLGAN_CL_K_COUNT; id++) {
        if (cl->kernels[id])
            clReleaseKernel(cl->kernels[id]);
        cl->kernels[id] = NULL;
    }
    if (cl->program)
        clReleaseProgram(cl->program);
    cl->program = NULL;
}
