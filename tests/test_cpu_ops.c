/* test_cpu_ops.c: every op of the CPU backend against the double-precision
 * reference over 200 random cases each (canaries included), a few results
 * worked out by hand (so the reference itself is checked), and bit-identical
 * results whatever the number of OpenMP threads. */
#include "config.h"

#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "testutil.h"

static clgan_backend *cpu;

static void setup(void)
{
    ck_assert_ok(clgan_backend_open("cpu", &cpu));
}

static void teardown(void)
{
    clgan_backend_free(cpu);
}

START_TEST(test_op_vs_reference)
{
    enum clgan_op_kind kind = (enum clgan_op_kind)_i;
    struct clgan_opcheck_result r;
    ck_assert_ok(clgan_opcheck(cpu, NULL, kind, 200, 20261203, &r));
    ck_assert_uint_eq(r.cases, 200);
    ck_assert_msg(r.pass, "%s: %zu/%zu cases failed, %zu canaries touched; worst case %s: element %zu %g vs %g, NMSE %g",
                  clgan_op_name(kind), r.failed, r.cases, r.canary_failures, r.worst_case,
                  r.worst.worst_index, r.worst.worst_a, r.worst.worst_b, r.worst.nmse);
}
END_TEST

static void tensor_from(struct clgan_tensor *t, size_t n, const float *v)
{
    ck_assert_ok(clgan_tensor_alloc(t, cpu, CLGAN_DTYPE_F32, 1, &n, "t"));
    if (v)
        ck_assert_ok(clgan_tensor_write(t, v, n));
}

START_TEST(test_by_hand)
{
    /* [[1,2],[3,4]] x [[5,6],[7,8]] = [[19,22],[43,50]]; with trans_a:
     * [[1,3],[2,4]] x B = [[26,30],[38,44]]. */
    const float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
    struct clgan_tensor ta, tb, tc;
    tensor_from(&ta, 4, a);
    tensor_from(&tb, 4, b);
    tensor_from(&tc, 4, NULL);
    float c[4];
    ck_assert_ok(clgan_gemm(0, 0, 2, 2, 2, 1.0f, &ta, 2, &tb, 2, 0.0f, &tc, 2));
    ck_assert_ok(clgan_tensor_read(&tc, c, 4));
    ck_assert(c[0] == 19 && c[1] == 22 && c[2] == 43 && c[3] == 50);
    ck_assert_ok(clgan_gemm(1, 0, 2, 2, 2, 1.0f, &ta, 2, &tb, 2, 0.0f, &tc, 2));
    ck_assert_ok(clgan_tensor_read(&tc, c, 4));
    ck_assert(c[0] == 26 && c[1] == 30 && c[2] == 38 && c[3] == 44);
    /* beta = 1 accumulates: C += 2 * A B^T, A B^T = [[17,23],[39,53]] */
    ck_assert_ok(clgan_gemm(0, 1, 2, 2, 2, 2.0f, &ta, 2, &tb, 2, 1.0f, &tc, 2));
    ck_assert_ok(clgan_tensor_read(&tc, c, 4));
    ck_assert(c[0] == 26 + 34 && c[1] == 30 + 46 && c[2] == 38 + 78 && c[3] == 44 + 106);

    /* BCE of logit 0 is log 2 whatever the target; gradient sigmoid(0)-t. */
    const float x[2] = {0, 0}, t[2] = {1, 0};
    struct clgan_tensor tx, tt, to, td;
    tensor_from(&tx, 2, x);
    tensor_from(&tt, 2, t);
    tensor_from(&to, 1, NULL);
    tensor_from(&td, 2, NULL);
    float l, d[2];
    ck_assert_ok(clgan_bce_logits(&tx, &tt, &to));
    ck_assert_ok(clgan_tensor_read(&to, &l, 1));
    ck_assert(fabsf(l - 0.69314718f) < 1e-6f);
    ck_assert_ok(clgan_bce_logits_backward(&tx, &tt, 0.5f, &td));
    ck_assert_ok(clgan_tensor_read(&td, d, 2));
    ck_assert(fabsf(d[0] + 0.25f) < 1e-7f && fabsf(d[1] - 0.25f) < 1e-7f);
    /* Large logits stay finite in the stable form: l(100, 0) = 100. */
    const float big[2] = {100, -100}, zt[2] = {0, 0};
    ck_assert_ok(clgan_tensor_write(&tx, big, 2));
    ck_assert_ok(clgan_tensor_write(&tt, zt, 2));
    ck_assert_ok(clgan_bce_logits(&tx, &tt, &to));
    ck_assert_ok(clgan_tensor_read(&to, &l, 1));
    ck_assert(fabsf(l - 50.0f) < 1e-4f);

    /* Adam's first step moves each parameter by lr against the gradient sign. */
    const float p0[2] = {1, 1}, g[2] = {0.5f, -3}, zero[2] = {0, 0};
    struct clgan_tensor tp, tg, tm, tv;
    tensor_from(&tp, 2, p0);
    tensor_from(&tg, 2, g);
    tensor_from(&tm, 2, zero);
    tensor_from(&tv, 2, zero);
    ck_assert_ok(clgan_adam(&tp, &tg, &tm, &tv, 0.1f, 0.9f, 0.999f, 1e-8f, 1));
    float p[2];
    ck_assert_ok(clgan_tensor_read(&tp, p, 2));
    ck_assert(fabsf(p[0] - 0.9f) < 1e-6f && fabsf(p[1] - 1.1f) < 1e-6f);

    struct clgan_tensor *all[] = {&ta, &tb, &tc, &tx, &tt, &to, &td, &tp, &tg, &tm, &tv};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        clgan_tensor_release(all[i]);
}
END_TEST

/* Result of a GEMM and a full reduction with `threads` OpenMP threads. */
static void run_threads(int threads, float *c_out, float *sum_out)
{
#ifdef _OPENMP
    omp_set_num_threads(threads);
#endif
    const size_t m = 300, n = 257, k = 513;
    size_t la = m * k, lb = k * n, lc = m * n;
    struct clgan_tensor ta, tb, tc, ts;
    ck_assert_ok(clgan_tensor_alloc(&ta, cpu, CLGAN_DTYPE_F32, 1, &la, "a"));
    ck_assert_ok(clgan_tensor_alloc(&tb, cpu, CLGAN_DTYPE_F32, 1, &lb, "b"));
    ck_assert_ok(clgan_tensor_alloc(&tc, cpu, CLGAN_DTYPE_F32, 1, &lc, "c"));
    size_t one = 1;
    ck_assert_ok(clgan_tensor_alloc(&ts, cpu, CLGAN_DTYPE_F32, 1, &one, "s"));
    ck_assert_ok(clgan_rand_normal(&ta, 5, 0, 0, 0, 1));
    ck_assert_ok(clgan_rand_normal(&tb, 5, 1, 0, 0, 1));
    ck_assert_ok(clgan_gemm(0, 1, m, n, k, 1.0f, &ta, k, &tb, k, 0.0f, &tc, n));
    ck_assert_ok(clgan_sumsq(&tc, &ts));
    ck_assert_ok(clgan_tensor_read(&tc, c_out, lc));
    ck_assert_ok(clgan_tensor_read(&ts, sum_out, 1));
    clgan_tensor_release(&ta);
    clgan_tensor_release(&tb);
    clgan_tensor_release(&tc);
    clgan_tensor_release(&ts);
}


/* A strided batch gives exactly the bits of its products one by one (the
 * CPU runs them in parallel), and its errors: overlapping C, count 0. */
START_TEST(test_gemm_batched)
{
    const size_t m = 37, n = 49, k = 64, cnt = 6, sa = m * k + 3, sc = m * n + 5;
    size_t la = cnt * sa, lb = k * n, lc = cnt * sc;
    struct clgan_tensor ta, tb, tc, t1;
    ck_assert_ok(clgan_tensor_alloc(&ta, cpu, CLGAN_DTYPE_F32, 1, &la, "a"));
    ck_assert_ok(clgan_tensor_alloc(&tb, cpu, CLGAN_DTYPE_F32, 1, &lb, "b"));
    ck_assert_ok(clgan_tensor_alloc(&tc, cpu, CLGAN_DTYPE_F32, 1, &lc, "c"));
    ck_assert_ok(clgan_tensor_alloc(&t1, cpu, CLGAN_DTYPE_F32, 1, &lc, "c1"));
    ck_assert_ok(clgan_rand_normal(&ta, 7, 0, 0, 0, 1));
    ck_assert_ok(clgan_rand_normal(&tb, 7, 1, 0, 0, 1));
    ck_assert_ok(clgan_rand_normal(&tc, 7, 2, 0, 0, 1));
    ck_assert_ok(clgan_copy(&tc, &t1));
    /* B shared by all products (stride 0), beta 0.5 reads each C */
    ck_assert_ok(clgan_gemm_batched(0, 0, m, n, k, 1.5f, &ta, k, sa, &tb, n, 0, 0.5f, &tc, n, sc, cnt));
    float *got = malloc(lc * 4), *want = malloc(lc * 4);
    ck_assert_ok(clgan_tensor_read(&tc, got, lc));
    for (size_t i = 0; i < cnt; i++) {
        struct clgan_tensor ai = ta, ci = t1;
        ai.offset += i * sa * 4, ai.dims[0] = m * k;
        ci.offset += i * sc * 4, ci.dims[0] = m * n;
        ck_assert_ok(clgan_gemm(0, 0, m, n, k, 1.5f, &ai, k, &tb, n, 0.5f, &ci, n));
    }
    ck_assert_ok(clgan_tensor_read(&t1, want, lc));
    ck_assert(memcmp(got, want, lc * 4) == 0);
    ck_assert_status(clgan_gemm_batched(0, 0, m, n, k, 1, &ta, k, sa, &tb, n, 0, 0, &tc, n, m * n - 1, 2),
                     CLGAN_EINVAL);
    ck_assert_status(clgan_gemm_batched(0, 0, m, n, k, 1, &ta, k, sa, &tb, n, 0, 0, &tc, n, sc, 0),
                     CLGAN_ERANGE);
    ck_assert_status(clgan_gemm_batched(0, 0, m, n, k, 1, &ta, k, sa, &tb, n, 0, 0, &tc, n, sc, cnt + 1),
                     CLGAN_ESHAPE);
    free(got), free(want);
    clgan_tensor_release(&ta), clgan_tensor_release(&tb), clgan_tensor_release(&tc);
    clgan_tensor_release(&t1);
}
END_TEST

START_TEST(test_thread_count_invariance)
{
    float *c1 = malloc(300 * 257 * 4), *c2 = malloc(300 * 257 * 4), s1, s2;
    run_threads(1, c1, &s1);
    run_threads(2, c2, &s2);
    ck_assert(memcmp(c1, c2, 300 * 257 * 4) == 0);
    ck_assert(memcmp(&s1, &s2, 4) == 0);
    free(c1);
    free(c2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cpu_ops");
    TCase *core = tcase_create("Core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_set_timeout(core, 300);
    tcase_add_loop_test(core, test_op_vs_reference, 0, CLGAN_OP_COUNT);
    tcase_add_test(core, test_by_hand);
    tcase_add_test(core, test_thread_count_invariance);
    tcase_add_test(core, test_gemm_batched);
    suite_add_tcase(s, core);
    return testutil_run(s);
}
