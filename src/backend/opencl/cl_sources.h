/* cl_sources.h: the OpenCL C sources of the .cl files in cl/, embedded at build time.
 * build-aux/embed-cl.sh generates cl_sources.c (never committed) with one
 * per-line string array per file, in the order of CL_FILES in Makefile.am;
 * that order is the order in which the files form one program. */
#ifndef CLGAN_CL_SOURCES_H
#define CLGAN_CL_SOURCES_H

struct clgan_cl_source {
    const char *name;               /* file name, e.g. "common.cl" */
    const char *const *lines;       /* lines with their '\n', NULL-terminated */
};

/* Ends with {NULL, NULL}. */
extern const struct clgan_cl_source clgan_cl_sources[];

#endif
