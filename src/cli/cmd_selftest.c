/* cmd_selftest.c: `clgan selftest`: the device's facts (platform, driver,
 * OpenCL C, fp64, denormals, work-group size, memory), then every op of the
 * backend on a few seeded random cases, checked against the CPU backend (or,
 * for the CPU backend itself, against the double-precision reference). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* The facts of the device behind `be` that explain most cross-device
 * differences, so that a user's first run shows what the driver offers. */
static void print_facts(clgan_backend *be, const struct clgan_device_info *d)
{
    if (!d) {
        int threads;
        const char *simd;
        clgan_cpu_info(&threads, &simd);
        if (!strcmp(clgan_backend_name(be), "cpu"))
            printf("  threads %d (OMP_NUM_THREADS), GEMM kernel %s\n", threads, simd);
        return;
    }
    const double gib = 1024.0 * 1024.0 * 1024.0;
    printf("  platform         %s\n"
           "  device           %s (%s, %u compute units)\n"
           "  driver           %s\n"
           "  device version   %s\n"
           "  OpenCL C         %s\n"
           "  fp64             %s\n"
           "  fp32 denormals   %s\n"
           "  max work-group   %zu\n"
           "  memory           %.1f GiB global, %.1f GiB largest allocation\n",
           d->platform_name, d->device_name, d->type, d->compute_units, d->driver_version,
           d->device_version, d->opencl_c_version, d->has_fp64 ? "yes" : "no",
           d->has_fp32_denormals ? "yes" : "no (tiny values flush to zero)",
           d->max_work_group_size, (double)d->global_mem_bytes / gib,
           (double)d->max_alloc_bytes / gib);
}

/* The listed device whose spec opens the description of `be` ("opencl:0:1 ..."). */
static const struct clgan_device_info *find_device(clgan_backend *be,
                                                   const struct clgan_device_info *devs, size_t n)
{
    const char *desc = clgan_backend_description(be);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(devs[i].backend_spec);
        if (!strncmp(desc, devs[i].backend_spec, len) && desc[len] == ' ')
            return &devs[i];
    }
    return NULL;
}

/* Checks `be` against `ref` (NULL: double reference); returns failures.
 * info: the OpenCL device's facts, NULL for the CPU backend. */
static int check_backend(clgan_backend *be, const struct clgan_device_info *info,
                         clgan_backend *ref, size_t cases, uint64_t seed, int *runtime_error)
{
    printf("\n%s\n", clgan_backend_description(be));
    print_facts(be, info);
    printf("  checked against %s, %zu case%s per op\n",
           ref ? clgan_backend_description(ref) : "the double-precision reference", cases,
           cases == 1 ? "" : "s");
    printf("  %-20s %6s %11s %11s  %s\n", "op", "cases", "max abs", "NMSE", "result");
    int failures = 0;
    for (int k = 0; k < CLGAN_OP_COUNT; k++) {
        struct clgan_opcheck_result r;
        clgan_status s = clgan_opcheck(be, ref, (enum clgan_op_kind)k, cases, seed, &r);
        if (s != CLGAN_OK) {
            printf("  %-20s could not run: %s\n", clgan_op_name((enum clgan_op_kind)k),
                   clgan_last_error());
            *runtime_error = 1;
            failures++;
            continue;
        }
        printf("  %-20s %6zu %11.3g %11.3g  %s", clgan_op_name((enum clgan_op_kind)k), r.cases,
               r.worst.max_abs, r.worst.nmse, r.pass ? "ok" : "FAIL");
        if (!r.pass)
            printf(" (%zu case%s failed, %zu canaries; worst: %s, element %zu: %g vs %g)",
                   r.failed, r.failed == 1 ? "" : "s", r.canary_failures, r.worst_case,
                   r.worst.worst_index, r.worst.worst_a, r.worst.worst_b);
        if (r.arbiter.verdict == CLGAN_ARBITER_A || r.arbiter.verdict == CLGAN_ARBITER_B)
            printf(" [arbiter: %s is closer to the exact value %g]",
                   r.arbiter.verdict == CLGAN_ARBITER_A ? "this backend" : "the CPU",
                   r.arbiter.exact);
        putchar('\n');
        failures += !r.pass;
    }
    return failures;
}

int cmd_selftest(int argc, char **argv)
{
    static const struct option opts[] = {{"backend", required_argument, NULL, 'b'},
                                         {"cases", required_argument, NULL, 'n'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *spec = "all";
    size_t cases = 3, seed = 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "b:n:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            spec = optarg;
            break;
        case 'n':
            if (!cli_parse_size("--cases", optarg, 1, 100000, &cases))
                return CLI_USAGE;
            break;
        case 's':
            if (!cli_parse_size("--seed", optarg, 0, SIZE_MAX, &seed))
                return CLI_USAGE;
            break;
        case 'h':
            puts("usage: clgan selftest [--backend all|SPEC] [--cases N] [--seed S]\n\n"
                 "Prints each OpenCL device's facts (platform, driver, OpenCL C, fp64,\n"
                 "denormals, work-group size, memory), then runs every op on N seeded\n"
                 "random cases (default 3) and compares the\n"
                 "results: the CPU backend against a double-precision reference, an OpenCL\n"
                 "device against the CPU backend. --backend all (default) checks the CPU\n"
                 "backend and every OpenCL device. Exit status: 0 all agree, 1 a check\n"
                 "failed, 2 bad usage, 3 could not run.");
            return CLI_OK;
        default:
            return CLI_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("selftest takes no arguments ('%s')", argv[optind]);
        return CLI_USAGE;
    }
    clgan_backend *cpu = NULL;
    clgan_status s = cli_open_backend("cpu", &cpu);
    if (s != CLGAN_OK)
        return CLI_RUNTIME;
    int failures = 0, runtime_error = 0, checked = 0;
    int all = !strcmp(spec, "all");
    if (all || !strcmp(spec, "cpu")) {
        failures += check_backend(cpu, NULL, NULL, cases, seed, &runtime_error);
        checked++;
    }
    if (all) {
        struct clgan_device_info *devs = NULL;
        size_t n = 0;
        s = clgan_opencl_devices(&devs, &n);
        if (s != CLGAN_OK)
            printf("\nOpenCL: not checked: %s\n", clgan_last_error());
        for (size_t i = 0; s == CLGAN_OK && i < n; i++) {
            clgan_backend *be = NULL;
            if (clgan_backend_open(devs[i].backend_spec, &be) != CLGAN_OK) {
                printf("\n%s: cannot open: %s\n", devs[i].backend_spec, clgan_last_error());
                runtime_error = 1;
                continue;
            }
            failures += check_backend(be, &devs[i], cpu, cases, seed, &runtime_error);
            checked++;
            clgan_backend_free(be);
        }
        free(devs);
    } else if (strcmp(spec, "cpu") != 0) {
        clgan_backend *be = NULL;
        if (cli_open_backend(spec, &be) != CLGAN_OK) {
            clgan_backend_free(cpu);
            return CLI_RUNTIME;
        }
        /* The device list only supplies the facts; without it the check still runs. */
        struct clgan_device_info *devs = NULL;
        size_t n = 0;
        if (clgan_opencl_devices(&devs, &n) != CLGAN_OK)
            n = 0;
        failures += check_backend(be, find_device(be, devs, n),
                                  strcmp(clgan_backend_name(be), "cpu") ? cpu : NULL, cases, seed,
                                  &runtime_error);
        free(devs);
        checked++;
        clgan_backend_free(be);
    }
    clgan_backend_free(cpu);
    printf("\nselftest: %d backend%s checked, %d op%s failed\n", checked, checked == 1 ? "" : "s",
           failures, failures == 1 ? "" : "s");
    if (runtime_error)
        return CLI_RUNTIME;
    return failures ? CLI_FAIL : CLI_OK;
}
