/* cmd_devices.c: `clgan devices`: the CPU backend and every OpenCL platform
 * and device, each with the exact string to pass to --backend. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static double gib(uint64_t b)
{
    return (double)b / (1024.0 * 1024.0 * 1024.0);
}

int cmd_devices(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            puts("usage: clgan devices\n\n"
                 "Lists the CPU backend (threads, SIMD) and every OpenCL platform and device\n"
                 "(type, compute units, memory, OpenCL C and driver versions) with the string\n"
                 "to pass to --backend or CLGAN_BACKEND.");
            return CLI_OK;
        }
        return CLI_USAGE;
    }
    if (optind < argc) {
        cli_error("devices takes no arguments ('%s')", argv[optind]);
        return CLI_USAGE;
    }
    int threads;
    const char *simd;
    clgan_cpu_info(&threads, &simd);
    printf("CPU backend\n  --backend cpu           %d thread%s (OMP_NUM_THREADS), GEMM kernel %s\n\n",
           threads, threads == 1 ? "" : "s", simd);

    struct clgan_device_info *devs = NULL;
    size_t n = 0;
    clgan_status s = clgan_opencl_devices(&devs, &n);
    if (s == CLGAN_ENOOPENCL) {
        printf("OpenCL\n  not built in (configure --with-opencl=yes to add it)\n");
    } else if (s != CLGAN_OK) {
        printf("OpenCL\n  none: %s\n", clgan_last_error());
    } else {
        printf("OpenCL (%zu device%s)\n", n, n == 1 ? "" : "s");
        int last_platform = -1;
        for (size_t i = 0; i < n; i++) {
            const struct clgan_device_info *d = &devs[i];
            if (d->platform_index != last_platform) {
                printf("  platform %d: %s\n", d->platform_index, d->platform_name);
                last_platform = d->platform_index;
            }
            printf("    --backend %-12s %s\n", d->backend_spec, d->device_name);
            printf("        type %s, %u compute units, %.1f GiB global, %.1f GiB max allocation,\n"
                   "        max work-group %zu, %s, fp64 %s, %s, driver %s\n",
                   d->type, d->compute_units, gib(d->global_mem_bytes), gib(d->max_alloc_bytes),
                   d->max_work_group_size, d->opencl_c_version, d->has_fp64 ? "yes" : "no",
                   d->device_version, d->driver_version);
        }
        free(devs);
    }
    clgan_backend *be = NULL;
    s = clgan_backend_open("auto", &be);
    if (s == CLGAN_OK) {
        printf("\n--backend auto picks: %s\n  %s\n", clgan_backend_description(be),
               clgan_backend_note(be));
        clgan_backend_free(be);
    }
    return CLI_OK;
}
