/* test_rng.c: Philox4x32-10 against the Random123 known-answer vectors, the
 * index -> (block, lane) mapping, the float conversions, and the CPU
 * backend's random ops against the host generator. */
#include "config.h"

#include <math.h>

#include "testutil.h"

START_TEST(test_kat)
{
    /* Random123 kat_vectors, "philox4x32 10" lines: ctr[4] key[2] -> out[4]. */
    static const uint32_t v[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
         0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
         0x94fdcceb, 0x5001e420, 0x24126ea1},
    };
    for (int i = 0; i < 3; i++) {
        uint32_t out[4];
        clgan_philox4x32_10(&v[i][0], &v[i][4], out);
        for (int j = 0; j < 4; j++)
            ck_assert_msg(out[j] == v[i][6 + j], "vector %d word %d: %08x != %08x", i, j, out[j],
                          v[i][6 + j]);
    }
}
END_TEST

START_TEST(test_index_mapping)
{
    /* index i is lane i%4 of block i/4, counter {block, stream} key {seed} */
    const uint64_t seed = 0x0123456789abcdefull, stream = 0xfedcba9876543210ull;
    for (uint64_t block = 0; block < 3; block++) {
        uint64_t b = block * 0x100000001ull; /* exercises both counter words */
        uint32_t ctr[4] = {(uint32_t)b, (uint32_t)(b >> 32), (uint32_t)stream, (uint32_t)(stream >> 32)};
        uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
        uint32_t out[4];
        clgan_philox4x32_10(ctr, key, out);
        for (int lane = 0; lane < 4; lane++)
            ck_assert_uint_eq(clgan_philox_u32(seed, stream, b * 4 + lane), out[lane]);
    }
}
END_TEST

START_TEST(test_uniform_normal)
{
    double sum = 0, sumsq = 0, nsum = 0, nsumsq = 0;
    const int n = 200000;
    float umin = 1, umax = 0;
    for (int i = 0; i < n; i++) {
        float u = clgan_philox_uniform(7, 3, i);
        ck_assert(u >= 0.0f && u < 1.0f);
        umin = fminf(umin, u);
        umax = fmaxf(umax, u);
        sum += u;
        sumsq += (double)u * u;
        float z = clgan_philox_normal(7, 3, i);
        ck_assert(isfinite(z));
        nsum += z;
        nsumsq += (double)z * z;
    }
    /* Uniform: mean 1/2, variance 1/12; normal: mean 0, variance 1. Bounds
     * are ~6 standard errors for n = 200000. */
    ck_assert(fabs(sum / n - 0.5) < 0.004);
    ck_assert(fabs(sumsq / n - sum / n * (sum / n) - 1.0 / 12) < 0.002);
    ck_assert(fabs(nsum / n) < 0.014);
    ck_assert(fabs(nsumsq / n - 1.0) < 0.02);
    ck_assert(umin < 1e-4 && umax > 1 - 1e-4);
    /* Different streams and seeds give different numbers. */
    ck_assert_uint_ne(clgan_philox_u32(1, 0, 0), clgan_philox_u32(1, 1, 0));
    ck_assert_uint_ne(clgan_philox_u32(1, 0, 0), clgan_philox_u32(2, 0, 0));
}
END_TEST

START_TEST(test_cpu_ops_match_host)
{
    clgan_backend *be;
    ck_assert_ok(clgan_backend_open("cpu", &be));
    const size_t lens[] = {1, 3, 4, 5, 1023, 70001};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t n = lens[li];
        struct clgan_tensor tb, tu;
        ck_assert_ok(clgan_tensor_alloc(&tb, be, CLGAN_DTYPE_U32, 1, &n, "bits"));
        ck_assert_ok(clgan_tensor_alloc(&tu, be, CLGAN_DTYPE_F32, 1, &n, "u"));
        uint64_t off = li * 12345 + 3;
        ck_assert_ok(clgan_rand_bits(&tb, 99, 5, off));
        ck_assert_ok(clgan_rand_uniform(&tu, 99, 5, off, -1.0f, 1.0f));
        uint32_t *bits = malloc(n * 4);
        float *u = malloc(n * 4);
        ck_assert_ok(clgan_tensor_read(&tb, bits, n));
        ck_assert_ok(clgan_tensor_read(&tu, u, n));
        for (size_t i = 0; i < n; i++) {
            ck_assert_uint_eq(bits[i], clgan_philox_u32(99, 5, off + i));
            float want = -1.0f + 2.0f * clgan_philox_uniform(99, 5, off + i);
            ck_assert(memcmp(&u[i], &want, 4) == 0);
        }
        free(bits);
        free(u);
        clgan_tensor_release(&tb);
        clgan_tensor_release(&tu);
    }
    clgan_backend_free(be);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rng");
    TCase *tc = tcase_create("Core");
    tcase_add_test(tc, test_kat);
    tcase_add_test(tc, test_index_mapping);
    tcase_add_test(tc, test_uniform_normal);
    tcase_add_test(tc, test_cpu_ops_match_host);
    suite_add_tcase(s, tc);
    return testutil_run(s);
}
