/* openblas_gemm.c: the OpenBLAS side of bench/gemm_vs_openblas.sh.
 * Reads shapes ("m n k trans_a trans_b label...", one per line) on stdin,
 * times cblas_sgemm on each by the rule of `clgan bench gemm` (warm-up,
 * samples of back-to-back calls lasting about 2 ms, median of the repeats)
 * and prints "label<TAB>GFLOP/s" per shape after a "# OpenBLAS ..." line. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static void fill(float *p, size_t n, unsigned seed)
{
    /* Values in [-1, 1): same magnitude as the clgan side, no denormals. */
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)(seed >> 8) * (2.0f / 16777216.0f) - 1.0f;
    }
}

int main(int argc, char **argv)
{
    int repeats = argc > 1 ? atoi(argv[1]) : 10;
    int warmup = argc > 2 ? atoi(argv[2]) : 2;
    if (repeats < 1 || warmup < 0) {
        fprintf(stderr, "usage: openblas_gemm [repeats [warmup]] < shapes\n");
        return 2;
    }
    double *t = malloc((size_t)repeats * sizeof *t);
    printf("# OpenBLAS %s, core %s, %d threads\n", openblas_get_config(), openblas_get_corename(),
           openblas_get_num_threads());
    char line[256];
    while (t && fgets(line, sizeof line, stdin)) {
        size_t m, n, k;
        int ta, tb, used = 0;
        if (sscanf(line, "%zu %zu %zu %d %d %n", &m, &n, &k, &ta, &tb, &used) < 5)
            continue;
        char *label = line + used;
        label[strcspn(label, "\n")] = '\0';
        /* Stored shapes: A is m x k (k x m when transposed), B is k x n (n x k). */
        size_t lda = ta ? m : k, ldb = tb ? k : n;
        float *a = malloc(m * k * sizeof *a), *b = malloc(k * n * sizeof *b);
        float *c = malloc(m * n * sizeof *c);
        if (!a || !b || !c) {
            fprintf(stderr, "openblas_gemm: out of memory for %s\n", label);
            return 1;
        }
        fill(a, m * k, 1);
        fill(b, k * n, 2);
        memset(c, 0, m * n * sizeof *c);
#define GEMM_CALL()                                                                     \
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, \
                (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b, (int)ldb, 0.0f, c, (int)n)
        /* Same sample sizing as cmd_bench.c: the fastest of the warm-up
         * calls and one more. */
        double one = 0.0;
        for (int w = 0; w <= warmup; w++) {
            double t0 = now_s();
            GEMM_CALL();
            double dt = now_s() - t0;
            one = w == 0 || dt < one ? dt : one;
        }
        long calls = 1;
        if (one < 2e-3)
            calls = (long)(2e-3 / (one > 1e-9 ? one : 1e-9)) + 1;
        if (calls > 4096)
            calls = 4096;
        for (int r = 0; r < repeats; r++) {
            double t0 = now_s();
            for (long i = 0; i < calls; i++)
                GEMM_CALL();
            t[r] = (now_s() - t0) / (double)calls;
        }
        qsort(t, (size_t)repeats, sizeof *t, cmp_double);
        double med = repeats % 2 ? t[repeats / 2] : 0.5 * (t[repeats / 2 - 1] + t[repeats / 2]);
        printf("%s\t%.2f\n", label, 2.0 * (double)m * (double)n * (double)k / med * 1e-9);
        fflush(stdout);
        free(a);
        free(b);
        free(c);
    }
    free(t);
    return 0;
}
