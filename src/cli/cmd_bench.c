/* cmd_bench.c: `clgan bench gemm`: GFLOP/s of clgan_gemm on one backend for
 * square sizes and for the products of an MLP GAN layer (forward, weight
 * gradient, input gradient), as a table or as JSON (one result per line, for
 * bench/gemm_vs_openblas.sh). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clgan.h"
#include "cli/cli.h"

/* A sample runs the product back to back until it has lasted about this
 * long, then syncs: short products are timed over many calls, so timer and
 * sync overhead do not swamp them (and queued devices are measured the way
 * the training step uses them, without a wait after each op). */
#define SAMPLE_TARGET_S 2e-3
#define MAX_CALLS_PER_SAMPLE 4096

struct shape {
    char label[48];
    size_t m, n, k;
    int trans_a, trans_b;
};

enum shape_set { SHAPES_SQUARE = 1, SHAPES_GAN = 2, SHAPES_ALL = 3 };

/* Fills out[] (room for 64) and returns the count. The GAN shapes are one
 * dense layer of a batch of M rows, K inputs and N outputs: forward
 * Y = X W (M x K times K x N), weight gradient dW = X^T dY and input
 * gradient dX = dY W^T. */
static size_t make_shapes(enum shape_set set, struct shape *out)
{
    static const size_t squares[] = {128, 256, 512, 1024, 2048};
    static const size_t batches[] = {64, 256};
    static const size_t layers[][2] = {{100, 256}, {256, 512}, {512, 1024}, {1024, 784}};
    size_t n = 0;
    if (set & SHAPES_SQUARE)
        for (size_t i = 0; i < sizeof squares / sizeof squares[0]; i++) {
            size_t s = squares[i];
            out[n] = (struct shape){.m = s, .n = s, .k = s};
            snprintf(out[n].label, sizeof out[n].label, "square %zu", s);
            n++;
        }
    if (set & SHAPES_GAN)
        for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++)
            for (size_t l = 0; l < sizeof layers / sizeof layers[0]; l++) {
                size_t M = batches[b], K = layers[l][0], N = layers[l][1];
                out[n] = (struct shape){.m = M, .n = N, .k = K};
                snprintf(out[n].label, sizeof out[n].label, "fwd M=%zu K=%zu N=%zu", M, K, N);
                n++;
                out[n] = (struct shape){.m = K, .n = N, .k = M, .trans_a = 1};
                snprintf(out[n].label, sizeof out[n].label, "dW M=%zu K=%zu N=%zu", M, K, N);
                n++;
                out[n] = (struct shape){.m = M, .n = K, .k = N, .trans_b = 1};
                snprintf(out[n].label, sizeof out[n].label, "dX M=%zu K=%zu N=%zu", M, K, N);
                n++;
            }
    return n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Deterministic values in [-1, 1): no denormals, no zeros to skip. */
static clgan_status fill_tensor(struct clgan_tensor *t, uint32_t seed)
{
    size_t n = clgan_tensor_numel(t);
    float *h = malloc(n * sizeof *h);
    if (!h)
        return CLGAN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        h[i] = (float)(seed >> 8) * (2.0f / 16777216.0f) - 1.0f;
    }
    clgan_status s = clgan_tensor_write(t, h, n);
    free(h);
    return s;
}

struct result {
    size_t calls;     /* per sample */
    double median_s;  /* per call */
    double gflops;
};

/* Times one shape: warm-up calls and one more (they size the samples),
 * then `repeats` samples; the median sample gives the result. */
static clgan_status bench_shape(clgan_backend *be, const struct shape *sh,
                                struct clgan_tensor *a, struct clgan_tensor *b,
                                struct clgan_tensor *c, size_t repeats, size_t warmup,
                                double *times, struct result *res)
{
    size_t lda = sh->trans_a ? sh->m : sh->k;
    size_t ldb = sh->trans_b ? sh->k : sh->n;
    clgan_status s = CLGAN_OK;
#define GEMM_CALL()                                                                         \
    clgan_gemm(sh->trans_a, sh->trans_b, sh->m, sh->n, sh->k, 1.0f, a, lda, b, ldb, 0.0f, c, \
               sh->n)
    /* The warm-up calls and one more are timed singly; the fastest sizes
     * the samples (a call slowed by another process must not shrink them). */
    double one = 0.0;
    for (size_t w = 0; w <= warmup; w++) {
        double t0 = now_s();
        s = GEMM_CALL();
        if (s == CLGAN_OK)
            s = clgan_backend_sync(be);
        if (s != CLGAN_OK)
            return s;
        double dt = now_s() - t0;
        one = w == 0 || dt < one ? dt : one;
    }
    size_t calls = 1;
    if (one < SAMPLE_TARGET_S)
        calls = (size_t)(SAMPLE_TARGET_S / (one > 1e-9 ? one : 1e-9)) + 1;
    if (calls > MAX_CALLS_PER_SAMPLE)
        calls = MAX_CALLS_PER_SAMPLE;
    for (size_t r = 0; r < repeats; r++) {
        double t0 = now_s();
        for (size_t i = 0; i < calls && s == CLGAN_OK; i++)
            s = GEMM_CALL();
        if (s == CLGAN_OK)
            s = clgan_backend_sync(be);
        if (s != CLGAN_OK)
            return s;
        times[r] = (now_s() - t0) / (double)calls;
    }
#undef GEMM_CALL
    qsort(times, repeats, sizeof *times, cmp_double);
    double med = repeats % 2 ? times[repeats / 2]
                             : 0.5 * (times[repeats / 2 - 1] + times[repeats / 2]);
    res->calls = calls;
    res->median_s = med;
    res->gflops = 2.0 * (double)sh->m * (double)sh->n * (double)sh->k / med * 1e-9;
    return CLGAN_OK;
}

static void usage(void)
{
    puts("usage: clgan bench gemm [--backend SPEC] [--repeats N] [--warmup N]\n"
         "                        [--shapes square|gan|all] [--json]\n"
         "\n"
         "Measures clgan_gemm (C = A B, alpha 1, beta 0) in GFLOP/s = 2*m*n*k / time.\n"
         "Shapes: square 128..2048, and for batches M = 64, 256 and layers\n"
         "(K, N) = (100, 256), (256, 512), (512, 1024), (1024, 784) the forward\n"
         "product (fwd), the weight gradient X^T dY (dW) and the input gradient\n"
         "dY W^T (dX).\n"
         "\n"
         "  --backend SPEC   auto, cpu, opencl[:P[:D]] (default $CLGAN_BACKEND or auto)\n"
         "  --repeats N      timed samples per shape, median reported (default 10)\n"
         "  --warmup N       untimed calls before timing (default 2)\n"
         "  --shapes SET     square, gan or all (default all)\n"
         "  --json           one JSON object, one result per line\n"
         "\n"
         "A sample repeats the product until it lasts about 2 ms (sized by the fastest\n"
         "of the warm-up calls and one more), then waits for the backend\n"
         "(clgan_backend_sync). CPU threads: OMP_NUM_THREADS.");
}

int cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {
        {"backend", required_argument, NULL, 'b'},
        {"repeats", required_argument, NULL, 'r'},
        {"warmup", required_argument, NULL, 'w'},
        {"shapes", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *spec = NULL;
    size_t repeats = 10, warmup = 2;
    enum shape_set set = SHAPES_ALL;
    int json = 0, c;
    optind = 1;
    opterr = 0; /* errors are reported below, in one line */
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            spec = optarg;
            break;
        case 'r':
            if (!cli_parse_size("--repeats", optarg, 1, 1000, &repeats))
                return CLI_USAGE;
            break;
        case 'w':
            if (!cli_parse_size("--warmup", optarg, 0, 1000, &warmup))
                return CLI_USAGE;
            break;
        case 's':
            if (!strcmp(optarg, "square"))
                set = SHAPES_SQUARE;
            else if (!strcmp(optarg, "gan"))
                set = SHAPES_GAN;
            else if (!strcmp(optarg, "all"))
                set = SHAPES_ALL;
            else {
                cli_error("--shapes wants square, gan or all, not '%s'", optarg);
                return CLI_USAGE;
            }
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            usage();
            return CLI_OK;
        case ':':
            cli_error("bench: %s wants a value", argv[optind - 1]);
            return CLI_USAGE;
        default:
            cli_error("bench: unknown option '%s' (try clgan bench --help)", argv[optind - 1]);
            return CLI_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("bench wants what to measure: clgan bench gemm");
        return CLI_USAGE;
    }
    if (strcmp(argv[optind], "gemm") != 0) {
        cli_error("bench: unknown benchmark '%s' (there is: gemm)", argv[optind]);
        return CLI_USAGE;
    }
    if (optind + 1 < argc) {
        cli_error("bench gemm takes no further arguments ('%s')", argv[optind + 1]);
        return CLI_USAGE;
    }

    struct shape shapes[64];
    size_t nshapes = make_shapes(set, shapes);
    /* One set of tensors, sized for the largest operand of any shape. */
    size_t max_a = 0, max_b = 0, max_c = 0;
    for (size_t i = 0; i < nshapes; i++) {
        const struct shape *sh = &shapes[i];
        max_a = sh->m * sh->k > max_a ? sh->m * sh->k : max_a;
        max_b = sh->k * sh->n > max_b ? sh->k * sh->n : max_b;
        max_c = sh->m * sh->n > max_c ? sh->m * sh->n : max_c;
    }

    clgan_backend *be = NULL;
    clgan_status s = cli_open_backend(spec, &be);
    if (s != CLGAN_OK)
        return CLI_RUNTIME;
    int rc = CLI_OK;
    struct clgan_tensor a = {0}, b = {0}, cm = {0};
    double *times = malloc(repeats * sizeof *times);
    if (!times) {
        rc = cli_status_error("bench", CLGAN_ENOMEM);
        goto done;
    }
    if ((s = clgan_tensor_alloc(&a, be, CLGAN_DTYPE_F32, 1, &max_a, "A")) != CLGAN_OK ||
        (s = clgan_tensor_alloc(&b, be, CLGAN_DTYPE_F32, 1, &max_b, "B")) != CLGAN_OK ||
        (s = clgan_tensor_alloc(&cm, be, CLGAN_DTYPE_F32, 1, &max_c, "C")) != CLGAN_OK) {
        rc = cli_status_error("bench: allocating the operands", s);
        goto done;
    }
    if ((s = fill_tensor(&a, 1)) != CLGAN_OK || (s = fill_tensor(&b, 2)) != CLGAN_OK ||
        (s = clgan_fill(&cm, 0.0f)) != CLGAN_OK) {
        rc = cli_status_error("bench: filling the operands", s);
        goto done;
    }

    if (json) {
        printf("{\"backend\": ");
        cli_json_string(clgan_backend_name(be));
        printf(", \"description\": ");
        cli_json_string(clgan_backend_description(be));
        printf(", \"repeats\": %zu, \"warmup\": %zu, \"results\": [\n", repeats, warmup);
    } else {
        printf("clgan bench gemm on %s\n", clgan_backend_description(be));
        printf("median of %zu samples after %zu warm-up call%s; GFLOP/s = 2*m*n*k / time\n\n",
               repeats, warmup, warmup == 1 ? "" : "s");
        printf("%-24s %5s %5s %5s %3s %11s %9s\n", "shape", "m", "n", "k", "op", "ms/call",
               "GFLOP/s");
    }
    for (size_t i = 0; i < nshapes; i++) {
        const struct shape *sh = &shapes[i];
        struct result res;
        s = bench_shape(be, sh, &a, &b, &cm, repeats, warmup, times, &res);
        if (s != CLGAN_OK) {
            if (json)
                printf("]}\n");
            fflush(stdout);
            rc = cli_status_error(sh->label, s);
            goto done;
        }
        if (json) {
            printf("{\"shape\": ");
            cli_json_string(sh->label);
            printf(", \"m\": %zu, \"n\": %zu, \"k\": %zu, \"trans_a\": %d, \"trans_b\": %d, "
                   "\"calls_per_sample\": %zu, \"median_ms\": %.6f, \"gflops\": %.2f}%s\n",
                   sh->m, sh->n, sh->k, sh->trans_a, sh->trans_b, res.calls,
                   res.median_s * 1e3, res.gflops, i + 1 < nshapes ? "," : "");
        } else {
            printf("%-24s %5zu %5zu %5zu  %c%c %11.4f %9.1f\n", sh->label, sh->m, sh->n, sh->k,
                   sh->trans_a ? 'T' : 'N', sh->trans_b ? 'T' : 'N', res.median_s * 1e3,
                   res.gflops);
        }
        fflush(stdout);
    }
    if (json)
        printf("]}\n");

done:
    free(times);
    clgan_tensor_release(&a);
    clgan_tensor_release(&b);
    clgan_tensor_release(&cm);
    clgan_backend_free(be);
    return rc;
}
