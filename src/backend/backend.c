/* backend.c: opening a backend from a spec string ("auto", "cpu",
 * "opencl[:P[:D]]" or $CLGAN_BACKEND) and the calls every backend shares.
 * "auto" prefers an OpenCL GPU or accelerator and otherwise takes the CPU
 * backend, saying which it picked and why in clgan_backend_note(). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_impl.h"

clgan_status clgan_backend_alloc(const struct clgan_backend_vtable *vt, void *ctx,
                                 clgan_backend **out)
{
    clgan_backend *be = calloc(1, sizeof *be);
    if (!be)
        return clgan_set_error(CLGAN_ENOMEM, "out of host memory for a backend");
    be->vt = vt;
    be->ctx = ctx;
    *out = be;
    return CLGAN_OK;
}

/* Splits "opencl:P:D" into selector strings; returns 0 on a malformed spec. */
static int split_opencl(const char *spec, char *p, char *d, size_t cap)
{
    p[0] = d[0] = '\0';
    const char *rest = spec + strlen("opencl");
    if (*rest == '\0')
        return 1;
    if (*rest != ':')
        return 0;
    rest++;
    const char *colon = strchr(rest, ':');
    size_t plen = colon ? (size_t)(colon - rest) : strlen(rest);
    if (plen == 0 || plen >= cap)
        return 0;
    memcpy(p, rest, plen);
    p[plen] = '\0';
    if (colon) {
        const char *dd = colon + 1;
        if (*dd == '\0' || strlen(dd) >= cap || strchr(dd, ':'))
            return 0;
        strcpy(d, dd);
    }
    return 1;
}

clgan_status clgan_backend_open(const char *spec, clgan_backend **out)
{
    if (!out)
        return clgan_set_error(CLGAN_ENULL, "clgan_backend_open: out must not be NULL");
    *out = NULL;
    const char *from = "argument";
    if (!spec || !*spec) {
        spec = getenv("CLGAN_BACKEND");
        from = "CLGAN_BACKEND";
        if (!spec || !*spec) {
            spec = "auto";
            from = "default";
        }
    }
    clgan_status s;
    if (strcmp(spec, "cpu") == 0)
        return clgan_cpu_backend_new(out);
    if (strcmp(spec, "auto") == 0) {
        char why[200];
#ifdef CLGAN_HAVE_OPENCL
        s = clgan_opencl_backend_new(NULL, NULL, 1, out);
        if (s == CLGAN_OK) {
            snprintf((*out)->note, sizeof (*out)->note, "auto: picked %.200s (first OpenCL GPU or accelerator)",
                     (*out)->description);
            return CLGAN_OK;
        }
        if (s == CLGAN_ENOPLATFORM)
            snprintf(why, sizeof why, "no OpenCL platform found");
        else if (s == CLGAN_ENODEVICE)
            snprintf(why, sizeof why,
                     "no OpenCL GPU or accelerator (OpenCL CPU devices are used only when named)");
        else
            snprintf(why, sizeof why, "OpenCL GPU unusable: %s", clgan_last_error());
#else
        snprintf(why, sizeof why, "built without OpenCL");
#endif
        s = clgan_cpu_backend_new(out);
        if (s == CLGAN_OK) {
            snprintf((*out)->note, sizeof (*out)->note, "auto: using the CPU backend: %s", why);
            clgan_clear_error();
        }
        return s;
    }
    if (strncmp(spec, "opencl", 6) == 0) {
        char p[64], d[64];
        if (!split_opencl(spec, p, d, sizeof p))
            return clgan_set_error(CLGAN_ESPEC, "bad backend '%s' (from %s): use auto, cpu, opencl, opencl:P or opencl:P:D",
                                   spec, from);
#ifdef CLGAN_HAVE_OPENCL
        return clgan_opencl_backend_new(p[0] ? p : NULL, d[0] ? d : NULL, 0, out);
#else
        return clgan_set_error(CLGAN_ENOOPENCL,
                               "backend '%s': this clgan was built without OpenCL (configure --with-opencl=yes)",
                               spec);
#endif
    }
    return clgan_set_error(CLGAN_ESPEC, "unknown backend '%s' (from %s): use auto, cpu, opencl, opencl:P or opencl:P:D",
                           spec, from);
}

void clgan_backend_free(clgan_backend *be)
{
    if (!be)
        return;
    be->vt->free(be);
}

const char *clgan_backend_name(const clgan_backend *be)
{
    return be ? be->vt->name : "";
}

const char *clgan_backend_description(const clgan_backend *be)
{
    return be ? be->description : "";
}

const char *clgan_backend_note(const clgan_backend *be)
{
    return be ? be->note : "";
}

clgan_status clgan_backend_sync(clgan_backend *be)
{
    if (!be)
        return clgan_set_error(CLGAN_ENULL, "clgan_backend_sync: backend is NULL");
    return be->vt->sync(be);
}

#ifndef CLGAN_HAVE_OPENCL
clgan_status clgan_opencl_devices(struct clgan_device_info **out, size_t *n)
{
    if (out)
        *out = NULL;
    if (n)
        *n = 0;
    return clgan_set_error(CLGAN_ENOOPENCL, "this clgan was built without OpenCL");
}
#endif
