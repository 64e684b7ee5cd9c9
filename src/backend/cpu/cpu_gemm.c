/* cpu_gemm.c: the CPU backend's single-precision GEMM, BLIS style: cache
 * blocking, A and B packed into micro-panels (transposes are absorbed by the
 * packing), a register-blocked micro-kernel in GCC vector extensions built
 * for AVX-512, AVX2+FMA and a baseline ISA, picked at run time.
 *
 * Determinism: OpenMP splits C into rectangles whose edges are multiples of
 * the micro-tile, never K. Every element of C is computed by the same kernel
 * with the same K blocking and summation order whatever the thread count,
 * so results are bit-identical for 1, 2 or N threads (and also when a pack
 * buffer cannot be allocated: the fallback loop repeats the kernel's
 * arithmetic element by element).
 * CLGAN_CPU_SIMD=avx512|avx2|generic in the environment (read once) may
 * select a lesser kernel than the machine allows, so tests can cover them. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "backend/cpu/cpu_internal.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define GEMM_X86 1
#include <immintrin.h>
#else
#define GEMM_X86 0
#endif

#if defined(__GNUC__)
#define GEMM_VECTOR 1
#define GEMM_INLINE static inline __attribute__((always_inline))
#else
#define GEMM_VECTOR 0
#define GEMM_INLINE static inline
#endif

/* Largest micro-tile of any kernel below: sizes the stack scratch. */
#define GEMM_MAX_MR 16
#define GEMM_MAX_NR 16
/* K blocking is shared by every kernel: results may then differ between
 * ISAs only by fused versus separate multiply-add, never by summation
 * order. 512 measured best on AMD Zen 4 (32 KiB L1, 1 MiB L2) against 256
 * and 384: C is revisited rarely and the kc x nb block of B (512 KiB for
 * AVX-512) still stays in L2. */
#define GEMM_KC 512
/* Below this many multiply-adds a call runs on the calling thread: the
 * parallel region would cost more than it saves. */
#define GEMM_PARALLEL_MIN_MACS ((size_t)1 << 19)

/* A kernel computes acc = Apanel * Bpanel over kc (A: mr values per k, B: nr
 * values per k, both packed and 64-byte aligned), then writes the full
 * mr x nr tile of C as c = alpha*acc (beta == 0: C is not read) or
 * c = alpha*acc + beta*c, with separate multiply and add so that the scalar
 * edge path below gives the same bits. */
typedef void (*gemm_kernel_fn)(size_t kc, const float *pa, const float *pb, float *c,
                               size_t ldc, float alpha, float beta);
typedef void (*gemm_pack_a_fn)(int trans, const float *a, size_t lda, size_t i0, size_t mc,
                               size_t p0, size_t kc, float *dst);
typedef void (*gemm_pack_b_fn)(int trans, const float *b, size_t ldb, size_t p0, size_t kc,
                               size_t j0, size_t nc, float *dst);

struct gemm_impl {
    const char *simd;       /* what clgan_cpu_simd_name() reports */
    size_t mr, nr;          /* micro-tile */
    size_t mb;              /* rows of A packed at once (multiple of mr) */
    size_t nb;              /* columns of B packed at once (multiple of nr; the
                               kc x nb block stays in L2) */
    int fma;                /* the kernel accumulates with fused multiply-add */
    /* Optional: kernels that compute only the first 4, 8, 12 rows of the
     * tile (index (rows-1)/4), same panel layout, same results per element. */
    gemm_kernel_fn part_rows[GEMM_MAX_MR / 4];
    gemm_kernel_fn kernel;
    gemm_pack_a_fn pack_a;
    gemm_pack_b_fn pack_b;
};

/* ------------------------------------------------------------------ packing */

/* Both operands are packed into panels of W lines (W = MR for A, NR for
 * B): panel q holds, for each k, the W values of its lines contiguous, and
 * lines past n are zero so the kernel never needs a mask. The source is
 * either "along lines" (element (line, k) at src[k*ld + line]: B as stored,
 * A transposed) or "along k" (src[line*ld + k]: A as stored, B transposed). */

/* Source along lines: each k is a contiguous run of n values that is cut
 * into the panels. Walking the source row by row reads memory sequentially
 * (the prefetcher follows it; a panel-by-panel walk strides through it),
 * but consecutive writes then land W*kc floats apart, on one L1 set: so
 * take 8 rows at a time and give each panel 8 consecutive lines. */
GEMM_INLINE void pack_lines_rows(size_t W, size_t rows, const float *restrict src, size_t ld,
                                 size_t n, size_t kc, float *restrict dst)
{
    size_t q = 0;
    for (; q + W <= n; q += W, dst += W * kc)
        for (size_t u = 0; u < rows; u++)
            for (size_t c = 0; c < W; c++)
                dst[u * W + c] = src[u * ld + q + c];
    if (q < n)
        for (size_t u = 0; u < rows; u++)
            for (size_t c = 0; c < W; c++)
                dst[u * W + c] = q + c < n ? src[u * ld + q + c] : 0.0f;
}

GEMM_INLINE void pack_lines_body(size_t W, const float *restrict src, size_t ld, size_t n,
                                 size_t kc, float *restrict dst)
{
    size_t p = 0;
    for (; p + 8 <= kc; p += 8)
        pack_lines_rows(W, 8, src + p * ld, ld, n, kc, dst + p * W);
    for (; p < kc; p++)
        pack_lines_rows(W, 1, src + p * ld, ld, n, kc, dst + p * W);
}

/* Source along k: a transpose, done in chunks of 8 k so the writes of one
 * line stay within a few cache lines of the panel. */
GEMM_INLINE void pack_k_body(size_t W, const float *restrict src, size_t ld, size_t n,
                             size_t kc, float *restrict dst)
{
    for (size_t q = 0; q < n; q += W, dst += W * kc, src += W * ld) {
        size_t lines = n - q < W ? n - q : W;
        size_t p = 0;
        for (; p + 8 <= kc; p += 8) {
            float *d = dst + p * W;
            for (size_t c = 0; c < lines; c++)
                for (size_t u = 0; u < 8; u++)
                    d[u * W + c] = src[c * ld + p + u];
            for (size_t c = lines; c < W; c++)
                for (size_t u = 0; u < 8; u++)
                    d[u * W + c] = 0.0f;
        }
        for (; p < kc; p++)
            for (size_t c = 0; c < W; c++)
                dst[p * W + c] = c < lines ? src[c * ld + p] : 0.0f;
    }
}

/* ------------------------------------------------------------------ kernels */

#if GEMM_VECTOR
typedef float v4f __attribute__((vector_size(16), __may_alias__));
#endif

#if GEMM_X86
typedef float v8f __attribute__((vector_size(32), __may_alias__));
typedef float v16f __attribute__((vector_size(64), __may_alias__));

/* AVX-512: 16 x 16, one zmm accumulator per row of C. Each k costs one
 * load of B and 16 FMAs whose A operand is a {1to16} broadcast from memory.
 * A square tile suits the GAN shapes (batch 64/256, widths 100..1024) with
 * little padding, and lets A and B share the transposing packer below.
 * The body takes the number of rows R to compute: the bottom edge of C
 * (m = 100: 6 full panels and 4 rows) runs the R = 4, 8 or 12 variants on
 * the same packed panel instead of multiplying padding; every element still
 * sees the same operations, so results do not change. */
#define AVX512_MR 16
#define AVX512_NR 16
__attribute__((target("avx512f"), always_inline)) static inline void
kernel_avx512_rows(int R, size_t kc, const float *restrict pa, const float *restrict pb,
                   float *restrict c, size_t ldc, float alpha, float beta)
{
    typedef float v16u __attribute__((vector_size(64), __may_alias__, aligned(4)));
    v16f acc[AVX512_MR];
#pragma GCC unroll 16
    for (int r = 0; r < R; r++)
        acc[r] = (v16f){0};
    for (size_t p = 0; p < kc; p++) {
        v16f bv = *(const v16f *)pb;
#pragma GCC unroll 16
        for (int r = 0; r < R; r++)
            acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(pa[r]), bv, acc[r]);
        pa += AVX512_MR;
        pb += AVX512_NR;
    }
    if (beta == 0.0f) {
#pragma GCC unroll 16
        for (int r = 0; r < R; r++)
            *(v16u *)(c + r * ldc) = alpha * acc[r];
    } else {
#pragma GCC unroll 16
        for (int r = 0; r < R; r++) {
            v16u *cr = (v16u *)(c + r * ldc);
            *cr = alpha * acc[r] + beta * *cr;
        }
    }
}

#define AVX512_KERNEL(R)                                                                   \
    __attribute__((target("avx512f"))) static void kernel_avx512_##R(                      \
        size_t kc, const float *restrict pa, const float *restrict pb, float *restrict c,  \
        size_t ldc, float alpha, float beta)                                               \
    {                                                                                      \
        kernel_avx512_rows(R, kc, pa, pb, c, ldc, alpha, beta);                            \
    }
AVX512_KERNEL(4)
AVX512_KERNEL(8)
AVX512_KERNEL(12)
AVX512_KERNEL(16)

/* dst[q*16 + r] = src[r*ld + q] for r < 16, q < kk (kk <= 16): 16 vector
 * loads, four rounds of 16 shuffles and kk stores instead of 512 scalar
 * moves. Rows r >= rows read as zero (the padding of an edge panel). Every
 * loop is unrolled so that x[] and t[] live in registers. */
__attribute__((target("avx512f"))) static inline void
transpose16_avx512(const float *src, size_t ld, size_t rows, size_t kk, float *dst)
{
    __m512 x[16], t[16];
    if (rows == 16 && kk == 16) {
#pragma GCC unroll 16
        for (int r = 0; r < 16; r++)
            x[r] = _mm512_loadu_ps(src + r * ld);
    } else {
        __mmask16 mask = (__mmask16)((1u << kk) - 1u);
#pragma GCC unroll 16
        for (int r = 0; r < 16; r++)
            x[r] = (size_t)r < rows ? _mm512_maskz_loadu_ps(mask, src + r * ld)
                                    : _mm512_setzero_ps();
    }
    /* Interleave rows in pairs: t[i] and t[i+1] hold rows i, i+1 alternating
     * (columns 0,1 and 2,3 of each 128-bit lane respectively). */
#pragma GCC unroll 8
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(x[i], x[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(x[i], x[i + 1]);
    }
    /* Groups of four rows: x[4g + q] holds column q (mod 4) of rows 4g..4g+3
     * in every 128-bit lane. */
#pragma GCC unroll 4
    for (int g = 0; g < 4; g++) {
        __m512d a = _mm512_castps_pd(t[4 * g]), b = _mm512_castps_pd(t[4 * g + 2]);
        __m512d c = _mm512_castps_pd(t[4 * g + 1]), d = _mm512_castps_pd(t[4 * g + 3]);
        x[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
        x[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
        x[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
        x[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
    }
    /* Lane l of x[4g + q] is column 4l + q of row group g: gather the four
     * groups' lane l into one vector per column. */
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) {
        __m512 v0 = _mm512_shuffle_f32x4(x[q], x[4 + q], 0x88);      /* l0 l2 of g0, g1 */
        __m512 v1 = _mm512_shuffle_f32x4(x[q], x[4 + q], 0xDD);      /* l1 l3 of g0, g1 */
        __m512 v2 = _mm512_shuffle_f32x4(x[8 + q], x[12 + q], 0x88); /* l0 l2 of g2, g3 */
        __m512 v3 = _mm512_shuffle_f32x4(x[8 + q], x[12 + q], 0xDD); /* l1 l3 of g2, g3 */
        t[q] = _mm512_shuffle_f32x4(v0, v2, 0x88);      /* column q */
        t[8 + q] = _mm512_shuffle_f32x4(v0, v2, 0xDD);  /* column 8 + q */
        t[4 + q] = _mm512_shuffle_f32x4(v1, v3, 0x88);  /* column 4 + q */
        t[12 + q] = _mm512_shuffle_f32x4(v1, v3, 0xDD); /* column 12 + q */
    }
#pragma GCC unroll 16
    for (int q = 0; q < 16; q++)
        if ((size_t)q < kk)
            _mm512_store_ps(dst + q * 16, t[q]);
}

/* pack_k_body for W = 16 through 16 x 16 register transposes. */
__attribute__((target("avx512f"))) static inline void
pack_k_avx512(size_t W, const float *src, size_t ld, size_t n, size_t kc, float *dst)
{
    (void)W; /* always 16 */
    for (size_t r0 = 0; r0 < n; r0 += 16, dst += 16 * kc, src += 16 * ld) {
        size_t rows = n - r0 < 16 ? n - r0 : 16;
        for (size_t p = 0; p < kc; p += 16)
            transpose16_avx512(src + p, ld, rows, kc - p < 16 ? kc - p : 16, dst + p * 16);
    }
}

/* AVX2 + FMA: 6 x 16 (12 ymm accumulators), the classic Haswell shape. */
#define AVX2_MR 6
#define AVX2_NR 16
__attribute__((target("avx2,fma"))) static void
kernel_avx2(size_t kc, const float *restrict pa, const float *restrict pb, float *restrict c,
            size_t ldc, float alpha, float beta)
{
    v8f acc[AVX2_MR][2];
#pragma GCC unroll 16
    for (int r = 0; r < AVX2_MR; r++)
        acc[r][0] = acc[r][1] = (v8f){0};
    for (size_t p = 0; p < kc; p++) {
        v8f b0 = *(const v8f *)pb, b1 = *(const v8f *)(pb + 8);
#pragma GCC unroll 16
        for (int r = 0; r < AVX2_MR; r++) {
            v8f ar = _mm256_set1_ps(pa[r]);
            acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
        }
        pa += AVX2_MR;
        pb += AVX2_NR;
    }
    typedef float v8u __attribute__((vector_size(32), __may_alias__, aligned(4)));
    if (beta == 0.0f) {
#pragma GCC unroll 16
        for (int r = 0; r < AVX2_MR; r++) {
            *(v8u *)(c + r * ldc) = alpha * acc[r][0];
            *(v8u *)(c + r * ldc + 8) = alpha * acc[r][1];
        }
    } else {
#pragma GCC unroll 16
        for (int r = 0; r < AVX2_MR; r++) {
            v8u *c0 = (v8u *)(c + r * ldc), *c1 = (v8u *)(c + r * ldc + 8);
            *c0 = alpha * acc[r][0] + beta * *c0;
            *c1 = alpha * acc[r][1] + beta * *c1;
        }
    }
}
#endif /* GEMM_X86 */

/* Baseline (SSE2 on x86-64, whatever the target has elsewhere): 6 x 8 in
 * 4-wide vectors, multiply then add (no FMA is assumed). */
#define BASE_MR 6
#define BASE_NR 8
static void kernel_base(size_t kc, const float *restrict pa, const float *restrict pb,
                        float *restrict c, size_t ldc, float alpha, float beta)
{
#if GEMM_VECTOR
    typedef float v4u __attribute__((vector_size(16), __may_alias__, aligned(4)));
    v4f acc[BASE_MR][2];
#pragma GCC unroll 16
    for (int r = 0; r < BASE_MR; r++)
        acc[r][0] = acc[r][1] = (v4f){0};
    for (size_t p = 0; p < kc; p++) {
        v4f b0 = *(const v4f *)pb, b1 = *(const v4f *)(pb + 4);
#pragma GCC unroll 16
        for (int r = 0; r < BASE_MR; r++) {
            /* Vector times scalar broadcasts the scalar. */
            acc[r][0] += b0 * pa[r];
            acc[r][1] += b1 * pa[r];
        }
        pa += BASE_MR;
        pb += BASE_NR;
    }
    if (beta == 0.0f) {
#pragma GCC unroll 16
        for (int r = 0; r < BASE_MR; r++) {
            *(v4u *)(c + r * ldc) = alpha * acc[r][0];
            *(v4u *)(c + r * ldc + 4) = alpha * acc[r][1];
        }
    } else {
#pragma GCC unroll 16
        for (int r = 0; r < BASE_MR; r++) {
            v4u *c0 = (v4u *)(c + r * ldc), *c1 = (v4u *)(c + r * ldc + 4);
            *c0 = alpha * acc[r][0] + beta * *c0;
            *c1 = alpha * acc[r][1] + beta * *c1;
        }
    }
#else
    float acc[BASE_MR][BASE_NR] = {{0}};
    for (size_t p = 0; p < kc; p++, pa += BASE_MR, pb += BASE_NR)
        for (int r = 0; r < BASE_MR; r++)
            for (int j = 0; j < BASE_NR; j++)
                acc[r][j] += pa[r] * pb[j];
    for (int r = 0; r < BASE_MR; r++)
        for (int j = 0; j < BASE_NR; j++)
            c[r * ldc + j] = beta == 0.0f ? alpha * acc[r][j]
                                          : alpha * acc[r][j] + beta * c[r * ldc + j];
#endif
}

/* Packers for each kernel: constant MR/NR let the compiler unroll and
 * vectorise the copies, and they are built for the kernel's ISA.
 * pack_a: rows i0..i0+mc, columns p0..p0+kc of op(A) into MR-row panels;
 * pack_b: rows p0..p0+kc, columns j0..j0+nc of op(B) into NR-column panels. */
#define GEMM_PACKERS(suffix, attr, MR, NR, PACK_K_A, PACK_K_B)                             \
    attr static void pack_a_##suffix(int trans, const float *a, size_t lda, size_t i0,    \
                                     size_t mc, size_t p0, size_t kc, float *dst)         \
    {                                                                                      \
        if (trans)                                                                         \
            pack_lines_body(MR, a + p0 * lda + i0, lda, mc, kc, dst);                      \
        else                                                                               \
            PACK_K_A(MR, a + i0 * lda + p0, lda, mc, kc, dst);                             \
    }                                                                                      \
    attr static void pack_b_##suffix(int trans, const float *b, size_t ldb, size_t p0,    \
                                     size_t kc, size_t j0, size_t nc, float *dst)         \
    {                                                                                      \
        if (trans)                                                                         \
            PACK_K_B(NR, b + j0 * ldb + p0, ldb, nc, kc, dst);                             \
        else                                                                               \
            pack_lines_body(NR, b + p0 * ldb + j0, ldb, nc, kc, dst);                      \
    }

#if GEMM_X86
GEMM_PACKERS(avx512, __attribute__((target("avx512f"))), AVX512_MR, AVX512_NR, pack_k_avx512,
             pack_k_avx512)
GEMM_PACKERS(avx2, __attribute__((target("avx2,fma"))), AVX2_MR, AVX2_NR, pack_k_body,
             pack_k_body)
#endif
GEMM_PACKERS(base, , BASE_MR, BASE_NR, pack_k_body, pack_k_body)

#if GEMM_X86
static const struct gemm_impl impl_avx512 = {
    .simd = "AVX-512",
    .mr = AVX512_MR,
    .nr = AVX512_NR,
    .mb = 16 * AVX512_MR,
    .nb = 16 * AVX512_NR,
    .fma = 1,
    .kernel = kernel_avx512_16,
    .part_rows = {kernel_avx512_4, kernel_avx512_8, kernel_avx512_12},
    .pack_a = pack_a_avx512,
    .pack_b = pack_b_avx512,
};
static const struct gemm_impl impl_avx2 = {
    .simd = "AVX2+FMA",
    .mr = AVX2_MR,
    .nr = AVX2_NR,
    .mb = 40 * AVX2_MR,
    .nb = 32 * AVX2_NR,
    .fma = 1,
    .kernel = kernel_avx2,
    .pack_a = pack_a_avx2,
    .pack_b = pack_b_avx2,
};
#endif
static const struct gemm_impl impl_base = {
#if GEMM_X86 && defined(__x86_64__)
    .simd = "SSE2",
#else
    .simd = "generic",
#endif
    .mr = BASE_MR,
    .nr = BASE_NR,
    .mb = 40 * BASE_MR,
    .nb = 64 * BASE_NR,
    .fma = 0,
    .kernel = kernel_base,
    .pack_a = pack_a_base,
    .pack_b = pack_b_base,
};

/* Picks the best kernel the CPU (and OS) supports, once; CLGAN_CPU_SIMD may
 * lower the choice. Racing first calls compute the same answer. */
static const struct gemm_impl *gemm_pick(void)
{
    static _Atomic(const struct gemm_impl *) chosen;
    const struct gemm_impl *impl = atomic_load_explicit(&chosen, memory_order_acquire);
    if (impl)
        return impl;
    impl = &impl_base;
#if GEMM_X86
    const char *want = getenv("CLGAN_CPU_SIMD");
    int cap = 2; /* 2: AVX-512, 1: AVX2+FMA, 0: baseline */
    if (want && strcmp(want, "avx2") == 0)
        cap = 1;
    else if (want && strcmp(want, "generic") == 0)
        cap = 0;
    __builtin_cpu_init();
    if (cap >= 2 && __builtin_cpu_supports("avx512f"))
        impl = &impl_avx512;
    else if (cap >= 1 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        impl = &impl_avx2;
#endif
    atomic_store_explicit(&chosen, impl, memory_order_release);
    return impl;
}

const char *clgan_cpu_simd_name(void)
{
    return gemm_pick()->simd;
}

/* ------------------------------------------------------------------ driver */

/* Per-thread pack buffers, grown on demand and kept for the next call (the
 * OpenMP pool's threads live as long as the process). A C11 thread-specific
 * key frees them when a thread exits, so threads that the application
 * starts and ends do not leak them. */
struct gemm_arena {
    float *a, *b;
    size_t a_cap, b_cap; /* in floats */
};

/* Returns a 64-byte aligned buffer of at least n floats or NULL. */
static float *arena_buf(float **buf, size_t *cap, size_t n)
{
    if (*cap >= n)
        return *buf;
    free(*buf);
    *buf = NULL;
    *cap = 0;
    /* Round up to whole 64-byte lines so aligned_alloc's size rule holds. */
    if (n > (SIZE_MAX - 63) / sizeof(float))
        return NULL;
    size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
    *buf = aligned_alloc(64, bytes);
    if (*buf)
        *cap = bytes / sizeof(float);
    return *buf;
}

#if !defined(__STDC_NO_THREADS__)
#include <threads.h>

static tss_t arena_key;
static int arena_key_ok;
static once_flag arena_once = ONCE_FLAG_INIT;

static void arena_free(void *p)
{
    struct gemm_arena *ar = p;
    if (ar) {
        free(ar->a);
        free(ar->b);
        free(ar);
    }
}

static void arena_key_init(void)
{
    arena_key_ok = tss_create(&arena_key, arena_free) == thrd_success;
}

/* The calling thread's arena, or NULL when none can be had. */
static struct gemm_arena *arena_get(void)
{
    call_once(&arena_once, arena_key_init);
    if (!arena_key_ok)
        return NULL;
    struct gemm_arena *ar = tss_get(arena_key);
    if (!ar) {
        ar = calloc(1, sizeof *ar);
        if (ar && tss_set(arena_key, ar) != thrd_success) {
            free(ar);
            ar = NULL;
        }
    }
    return ar;
}
#else
/* Without C11 threads: thread-local, freed only at process exit. */
static _Thread_local struct gemm_arena tls_arena;
static struct gemm_arena *arena_get(void)
{
    return &tls_arena;
}
#endif

/* c = alpha*t + beta*c on an edge tile (rows x cols of an mr x nr scratch
 * tile), the same two roundings as the kernels' epilogue. */
static void edge_update(const float *t, size_t nr, size_t rows, size_t cols, float *c,
                        size_t ldc, float alpha, float beta)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < cols; j++) {
            float v = alpha * t[r * nr + j];
            c[r * ldc + j] = beta == 0.0f ? v : v + beta * c[r * ldc + j];
        }
}

/* One micro-tile at (i, j) of C from packed panels; edge tiles go through a
 * scratch tile so the kernel never touches C outside m x n. */
static void run_tile(const struct gemm_impl *im, size_t kc, const float *pa, const float *pb,
                     float *c, size_t ldc, size_t rows, size_t cols, float alpha, float beta)
{
    gemm_kernel_fn kern = im->kernel;
    size_t krows = im->mr;
    if (rows < im->mr && im->part_rows[(rows - 1) / 4]) {
        kern = im->part_rows[(rows - 1) / 4];
        krows = (rows + 3) / 4 * 4;
    }
    if (rows == krows && cols == im->nr) {
        kern(kc, pa, pb, c, ldc, alpha, beta);
    } else {
        _Alignas(64) float t[GEMM_MAX_MR * GEMM_MAX_NR];
        kern(kc, pa, pb, t, im->nr, 1.0f, 0.0f);
        edge_update(t, im->nr, rows, cols, c, ldc, alpha, beta);
    }
}

struct gemm_args {
    int trans_a, trans_b;
    size_t m, n, k;
    float alpha, beta;
    const float *a, *b;
    size_t lda, ldb, ldc;
    float *c;
};

/* Out-of-memory path: a plain loop over C that performs, element by
 * element, exactly the kernel's arithmetic (same K blocks, same order, FMA
 * where the kernel fuses), so results stay bit-identical. Slow, but it
 * needs no memory. */
static void gemm_block_unpacked(const struct gemm_impl *im, const struct gemm_args *g,
                                size_t m0, size_t m1, size_t n0, size_t n1)
{
    size_t sa_i = g->trans_a ? 1 : g->lda, sa_p = g->trans_a ? g->lda : 1;
    size_t sb_p = g->trans_b ? 1 : g->ldb, sb_j = g->trans_b ? g->ldb : 1;
    for (size_t p0 = 0; p0 < g->k; p0 += GEMM_KC) {
        size_t kc = g->k - p0 < GEMM_KC ? g->k - p0 : GEMM_KC;
        float beta = p0 == 0 ? g->beta : 1.0f;
        for (size_t i = m0; i < m1; i++)
            for (size_t j = n0; j < n1; j++) {
                const float *ap = g->a + i * sa_i + p0 * sa_p;
                const float *bp = g->b + p0 * sb_p + j * sb_j;
                float acc = 0.0f;
                for (size_t p = 0; p < kc; p++, ap += sa_p, bp += sb_p)
                    acc = im->fma ? fmaf(*ap, *bp, acc) : acc + *ap * *bp;
                float v = g->alpha * acc;
                float *cp = g->c + i * g->ldc + j;
                *cp = beta == 0.0f ? v : v + beta * *cp;
            }
    }
}

/* C[m0:m1, n0:n1] on the calling thread. m0 and n0 are multiples of mr and
 * nr, so tiles sit on the same grid whichever thread runs them.
 * Loop order (outer to inner): A rows by mb, K by KC (pack A: mb x kc), B
 * columns by nb (pack B: kc x nb, kept in L2), A micro-panels (each reused
 * across the whole B block), B micro-panels streamed from L2 through the
 * kernel. */
static void gemm_block(const struct gemm_impl *im, const struct gemm_args *g, size_t m0,
                       size_t m1, size_t n0, size_t n1)
{
    size_t kc_max = g->k < GEMM_KC ? g->k : GEMM_KC;
    size_t mb_max = m1 - m0 < im->mb ? m1 - m0 : im->mb;
    size_t nb_max = n1 - n0 < im->nb ? n1 - n0 : im->nb;
    mb_max = (mb_max + im->mr - 1) / im->mr * im->mr;
    nb_max = (nb_max + im->nr - 1) / im->nr * im->nr;
    struct gemm_arena *ar = arena_get();
    float *pa = ar ? arena_buf(&ar->a, &ar->a_cap, mb_max * kc_max) : NULL;
    float *pb = ar ? arena_buf(&ar->b, &ar->b_cap, kc_max * nb_max) : NULL;
    if (!pa || !pb) {
        gemm_block_unpacked(im, g, m0, m1, n0, n1);
        return;
    }
    for (size_t i0 = m0; i0 < m1; i0 += im->mb) {
        size_t mc = m1 - i0 < im->mb ? m1 - i0 : im->mb;
        for (size_t p0 = 0; p0 < g->k; p0 += GEMM_KC) {
            size_t kc = g->k - p0 < GEMM_KC ? g->k - p0 : GEMM_KC;
            float beta = p0 == 0 ? g->beta : 1.0f;
            im->pack_a(g->trans_a, g->a, g->lda, i0, mc, p0, kc, pa);
            for (size_t j0 = n0; j0 < n1; j0 += im->nb) {
                size_t nc = n1 - j0 < im->nb ? n1 - j0 : im->nb;
                im->pack_b(g->trans_b, g->b, g->ldb, p0, kc, j0, nc, pb);
                for (size_t ir = 0; ir < mc; ir += im->mr) {
                    size_t rows = mc - ir < im->mr ? mc - ir : im->mr;
                    const float *pai = pa + ir * kc;
                    float *ci = g->c + (i0 + ir) * g->ldc + j0;
                    for (size_t jr = 0; jr < nc; jr += im->nr) {
                        size_t cols = nc - jr < im->nr ? nc - jr : im->nr;
                        run_tile(im, kc, pai, pb + jr * kc, ci + jr, g->ldc, rows, cols,
                                 g->alpha, beta);
                    }
                }
            }
        }
    }
}

/* C = beta*C for alpha == 0 or k == 0; beta == 0 writes zeros without
 * reading C (NaN there must not survive). */
static void scale_c(size_t m, size_t n, float beta, float *c, size_t ldc)
{
    for (size_t i = 0; i < m; i++) {
        float *ci = c + i * ldc;
        if (beta == 0.0f)
            memset(ci, 0, n * sizeof *ci);
        else if (beta != 1.0f)
            for (size_t j = 0; j < n; j++)
                ci[j] *= beta;
    }
}

#ifdef _OPENMP
/* Splits tiles_m x tiles_n micro-tiles over at most nt threads as a
 * gm x gn grid with the least work on the busiest thread; ties go to fewer
 * threads, then to fewer row bands, since every band re-packs its B. */
static void split_grid(size_t tiles_m, size_t tiles_n, int nt, int *gm_out, int *gn_out)
{
    size_t best = SIZE_MAX;
    int bgm = 1, bgn = 1;
    for (int gm = 1; gm <= nt && (size_t)gm <= tiles_m; gm++) {
        int gn = nt / gm;
        if ((size_t)gn > tiles_n)
            gn = (int)tiles_n;
        size_t w = ((tiles_m + gm - 1) / gm) * ((tiles_n + gn - 1) / gn);
        if (w < best || (w == best && gm * gn < bgm * bgn)) {
            best = w;
            bgm = gm;
            bgn = gn;
        }
    }
    *gm_out = bgm;
    *gn_out = bgn;
}

#endif

void clgan_cpu_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                     const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                     size_t ldc)
{
    if (m == 0 || n == 0)
        return;
    if (k == 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    const struct gemm_impl *im = gemm_pick();
    struct gemm_args g = {
        .trans_a = trans_a, .trans_b = trans_b, .m = m, .n = n, .k = k,
        .alpha = alpha, .beta = beta, .a = a, .b = b, .lda = lda, .ldb = ldb, .ldc = ldc,
        .c = c,
    };
#ifdef _OPENMP
    size_t tiles_m = (m + im->mr - 1) / im->mr, tiles_n = (n + im->nr - 1) / im->nr;
    int nt = 1;
    /* Fewer threads than micro-tiles is pointless; small calls stay serial
     * (and so does a call made from inside a parallel region). */
    double macs = (double)m * (double)n * (double)k; /* m*n*k may not fit size_t */
    if (macs >= (double)GEMM_PARALLEL_MIN_MACS && !omp_in_parallel()) {
        nt = omp_get_max_threads();
        if ((double)nt > (double)tiles_m * (double)tiles_n)
            nt = (int)(tiles_m * tiles_n);
        /* Keep at least ~2^18 multiply-adds per thread. */
        if ((double)nt > macs / 262144.0)
            nt = (int)(macs / 262144.0);
    }
    if (nt <= 1) {
        gemm_block(im, &g, 0, m, 0, n);
        return;
    }
    int gm, gn;
    split_grid(tiles_m, tiles_n, nt, &gm, &gn);
    nt = gm * gn;
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num();
        /* The pool may give fewer threads than asked: loop over cells. */
        for (int cell = t; cell < nt; cell += omp_get_num_threads()) {
            size_t ti = (size_t)(cell / gn), tj = (size_t)(cell % gn);
            size_t m0 = tiles_m * ti / gm * im->mr, m1 = tiles_m * (ti + 1) / gm * im->mr;
            size_t n0 = tiles_n * tj / gn * im->nr, n1 = tiles_n * (tj + 1) / gn * im->nr;
            if (m1 > m)
                m1 = m;
            if (n1 > n)
                n1 = n;
            if (m0 < m1 && n0 < n1)
                gemm_block(im, &g, m0, m1, n0, n1);
        }
    }
#else
    gemm_block(im, &g, 0, m, 0, n);
#endif
}
