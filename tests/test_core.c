/* test_core.c: status table, op table, backend specs, buffers and tensors,
 * and the documented status of every public op for NULLs, wrong shapes,
 * wrong dtypes, tensors of another backend and out-of-range values. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

START_TEST(test_status_table)
{
    static const clgan_status all[] = {
#define XX(name, value, msg) CLGAN_##name,
        CLGAN_STATUS_MAP(XX)
#undef XX
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        ck_assert(strncmp(clgan_status_name(all[i]), "CLGAN_", 6) == 0);
        ck_assert(strcmp(clgan_status_name(all[i]), "CLGAN_UNKNOWN") != 0);
        ck_assert(strlen(clgan_status_str(all[i])) > 3);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(all[i] != all[j], "status values must be unique");
    }
    ck_assert_str_eq(clgan_status_name(CLGAN_EINVAL), "CLGAN_EINVAL");
    ck_assert_str_eq(clgan_status_name((clgan_status)12345), "CLGAN_UNKNOWN");
    ck_assert_int_eq(CLGAN_OK, 0);
}
END_TEST

START_TEST(test_op_table)
{
    for (int i = 0; i < CLGAN_OP_COUNT; i++) {
        const char *n = clgan_op_name((enum clgan_op_kind)i);
        ck_assert_str_ne(n, "unknown");
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(n, clgan_op_name((enum clgan_op_kind)j));
    }
    ck_assert_str_eq(clgan_op_name(CLGAN_OP_COUNT), "unknown");
    ck_assert_str_eq(clgan_op_name(CLGAN_OP_GEMM), "gemm");
}
END_TEST

START_TEST(test_backend_specs)
{
    clgan_backend *be = (clgan_backend *)1;
    ck_assert_status(clgan_backend_open("gpu", &be), CLGAN_ESPEC);
    ck_assert_ptr_null(be);
    ck_assert(strstr(clgan_last_error(), "gpu") != NULL);
    ck_assert_status(clgan_backend_open("opencl:", &be), CLGAN_ESPEC);
    ck_assert_status(clgan_backend_open("opencl:0:0:0", &be), CLGAN_ESPEC);
    ck_assert_status(clgan_backend_open("openclx", &be), CLGAN_ESPEC);
    ck_assert_status(clgan_backend_open("cpu", NULL), CLGAN_ENULL);
    ck_assert_ok(clgan_backend_open("cpu", &be));
    ck_assert_str_eq(clgan_backend_name(be), "cpu");
    ck_assert(strstr(clgan_backend_description(be), "thread") != NULL);
    ck_assert_str_eq(clgan_backend_note(be), "");
    ck_assert_ok(clgan_backend_sync(be));
    clgan_backend_free(be);
    clgan_backend_free(NULL);
    setenv("CLGAN_BACKEND", "cpu", 1);
    ck_assert_ok(clgan_backend_open(NULL, &be));
    ck_assert_str_eq(clgan_backend_name(be), "cpu");
    clgan_backend_free(be);
    setenv("CLGAN_BACKEND", "bogus", 1);
    ck_assert_status(clgan_backend_open(NULL, &be), CLGAN_ESPEC);
    ck_assert(strstr(clgan_last_error(), "CLGAN_BACKEND") != NULL);
    unsetenv("CLGAN_BACKEND");
}
END_TEST

/* Runs in its own forked process (Check's default), before anything in it
 * has touched OpenCL, so the ICD loader reads OCL_ICD_VENDORS fresh. */
START_TEST(test_no_opencl_platform)
{
    char dir[] = "/tmp/clgan-empty-icd-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("OCL_ICD_VENDORS", dir, 1);
    clgan_backend *be = NULL;
    ck_assert_ok(clgan_backend_open("auto", &be));
    ck_assert_str_eq(clgan_backend_name(be), "cpu");
    ck_assert_msg(strstr(clgan_backend_note(be), "CPU backend") != NULL, "note: %s",
                  clgan_backend_note(be));
    clgan_backend_free(be);
    clgan_status s = clgan_backend_open("opencl", &be);
#ifdef CLGAN_HAVE_OPENCL
    ck_assert_status(s, CLGAN_ENOPLATFORM);
    ck_assert_msg(strstr(clgan_last_error(), "clinfo") != NULL, "message: %s", clgan_last_error());
#else
    ck_assert_status(s, CLGAN_ENOOPENCL);
#endif
    struct clgan_device_info *devs = NULL;
    size_t n = 99;
    s = clgan_opencl_devices(&devs, &n);
    ck_assert(s != CLGAN_OK);
    ck_assert_uint_eq(n, 0);
    rmdir(dir);
}
END_TEST

START_TEST(test_buffers_and_tensors)
{
    clgan_backend *be;
    ck_assert_ok(clgan_backend_open("cpu", &be));
    clgan_buffer *buf = NULL;
    ck_assert_status(clgan_buffer_new(be, 0, &buf), CLGAN_ERANGE);
    ck_assert_status(clgan_buffer_new(NULL, 16, &buf), CLGAN_ENULL);
    ck_assert_status(clgan_buffer_new(be, 16, NULL), CLGAN_ENULL);
    ck_assert_ok(clgan_buffer_new(be, 64, &buf));
    ck_assert_uint_eq(clgan_buffer_size(buf), 64);
    ck_assert_ptr_eq(clgan_buffer_backend(buf), be);
    float v[16], w[16];
    for (int i = 0; i < 16; i++)
        v[i] = (float)i;
    ck_assert_ok(clgan_buffer_write(buf, 0, v, 64));
    ck_assert_status(clgan_buffer_write(buf, 4, v, 64), CLGAN_ERANGE);
    ck_assert_status(clgan_buffer_write(buf, SIZE_MAX, v, 2), CLGAN_ERANGE);
    ck_assert_status(clgan_buffer_read(buf, 0, NULL, 4), CLGAN_ENULL);
    ck_assert_ok(clgan_buffer_read(buf, 0, w, 64));
    ck_assert(memcmp(v, w, 64) == 0);

    struct clgan_tensor t;
    size_t dims[4] = {2, 3, 1, 1}, big[2] = {SIZE_MAX / 2, 4}, zero[1] = {0};
    ck_assert_ok(clgan_tensor_init(&t, buf, 8, CLGAN_DTYPE_F32, 2, dims, "view"));
    ck_assert_uint_eq(clgan_tensor_numel(&t), 6);
    ck_assert_uint_eq(clgan_tensor_bytes(&t), 24);
    ck_assert_ok(clgan_tensor_read(&t, w, 6));
    ck_assert(w[0] == 2.0f && w[5] == 7.0f); /* byte offset 8 = element 2 */
    ck_assert_status(clgan_tensor_read(&t, w, 5), CLGAN_ESHAPE);
    ck_assert_status(clgan_tensor_init(&t, buf, 2, CLGAN_DTYPE_F32, 2, dims, "x"), CLGAN_ERANGE);
    ck_assert_status(clgan_tensor_init(&t, buf, 48, CLGAN_DTYPE_F32, 2, dims, "x"), CLGAN_ERANGE);
    ck_assert_status(clgan_tensor_init(&t, buf, 0, CLGAN_DTYPE_F32, 0, dims, "x"), CLGAN_ERANGE);
    ck_assert_status(clgan_tensor_init(&t, buf, 0, CLGAN_DTYPE_F32, 5, dims, "x"), CLGAN_ERANGE);
    ck_assert_status(clgan_tensor_init(&t, buf, 0, CLGAN_DTYPE_F32, 1, zero, "x"), CLGAN_ERANGE);
    ck_assert_status(clgan_tensor_init(&t, buf, 0, CLGAN_DTYPE_F32, 2, big, "x"), CLGAN_ERANGE);
    ck_assert_status(clgan_tensor_init(&t, buf, 0, (enum clgan_dtype)9, 1, dims, "x"), CLGAN_EDTYPE);
    ck_assert_status(clgan_tensor_init(NULL, buf, 0, CLGAN_DTYPE_F32, 1, dims, "x"), CLGAN_ENULL);
    ck_assert_status(clgan_tensor_alloc(&t, be, CLGAN_DTYPE_F32, 2, big, "x"), CLGAN_ERANGE);
    clgan_buffer_free(buf);
    clgan_buffer_free(NULL);
    clgan_tensor_release(NULL);
    clgan_backend_free(be);
}
END_TEST

/* ---- every op's error paths -------------------------------------------- */

static clgan_backend *be1, *be2;
static struct clgan_tensor v8, w8, x3, s1, u8, other8, m2x4, row4, row3, row4b, row4c;

static void ops_setup(void)
{
    ck_assert_ok(clgan_backend_open("cpu", &be1));
    ck_assert_ok(clgan_backend_open("cpu", &be2));
    size_t n8 = 8, n3 = 3, n1 = 1, n4 = 4, d24[2] = {2, 4};
    ck_assert_ok(clgan_tensor_alloc(&v8, be1, CLGAN_DTYPE_F32, 1, &n8, "v8"));
    ck_assert_ok(clgan_tensor_alloc(&w8, be1, CLGAN_DTYPE_F32, 1, &n8, "w8"));
    ck_assert_ok(clgan_tensor_alloc(&x3, be1, CLGAN_DTYPE_F32, 1, &n3, "x3"));
    ck_assert_ok(clgan_tensor_alloc(&s1, be1, CLGAN_DTYPE_F32, 1, &n1, "s1"));
    ck_assert_ok(clgan_tensor_alloc(&u8, be1, CLGAN_DTYPE_U32, 1, &n8, "u8"));
    ck_assert_ok(clgan_tensor_alloc(&other8, be2, CLGAN_DTYPE_F32, 1, &n8, "other8"));
    ck_assert_ok(clgan_tensor_alloc(&m2x4, be1, CLGAN_DTYPE_F32, 2, d24, "m2x4"));
    ck_assert_ok(clgan_tensor_alloc(&row4, be1, CLGAN_DTYPE_F32, 1, &n4, "row4"));
    ck_assert_ok(clgan_tensor_alloc(&row3, be1, CLGAN_DTYPE_F32, 1, &n3, "row3"));
    ck_assert_ok(clgan_tensor_alloc(&row4b, be1, CLGAN_DTYPE_F32, 1, &n4, "row4b"));
    ck_assert_ok(clgan_tensor_alloc(&row4c, be1, CLGAN_DTYPE_F32, 1, &n4, "row4c"));
    ck_assert_ok(clgan_fill(&v8, 1.0f));
    ck_assert_ok(clgan_fill(&w8, 1.0f));
}

static void ops_teardown(void)
{
    struct clgan_tensor *all[] = {&v8, &w8, &x3, &s1, &u8, &other8, &m2x4, &row4, &row3, &row4b, &row4c};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        clgan_tensor_release(all[i]);
    clgan_backend_free(be1);
    clgan_backend_free(be2);
}

/* Calls op `kind` with argument `variant`: 0 valid, 1 a NULL tensor, 2 a
 * tensor with the wrong element count, 3 a tensor of another backend, 4 a
 * tensor of the wrong dtype. */
static clgan_status call(enum clgan_op_kind kind, int variant)
{
    struct clgan_tensor *a = &v8, *b = &w8, *o = &v8, *scalar = variant == 2 ? &x3 : &s1;
    switch (variant) {
    case 1: a = NULL; break;
    case 2: a = &x3; break;
    case 3: a = &other8; break;
    case 4: a = &u8; break;
    default: break;
    }
    switch (kind) {
    case CLGAN_OP_GEMM: return clgan_gemm(0, 0, 2, 2, 2, 1, a, 2, b, 2, 0, &row4, 2);
    case CLGAN_OP_ADD: return clgan_add(a, b, &w8);
    case CLGAN_OP_SUB: return clgan_sub(a, b, &w8);
    case CLGAN_OP_MUL: return clgan_mul(a, b, &w8);
    case CLGAN_OP_SCALE: return clgan_scale(a, 2, &w8);
    case CLGAN_OP_AXPY: return clgan_axpy(2, a, &w8);
    case CLGAN_OP_FILL: return clgan_fill(variant == 2 ? NULL : a, 2); /* any count is valid */
    case CLGAN_OP_COPY: return clgan_copy(a, &w8);
    case CLGAN_OP_ADD_ROW: return clgan_add_row(a == &v8 ? &m2x4 : a, &row4, &m2x4);
    case CLGAN_OP_RELU: return clgan_relu(a, &w8);
    case CLGAN_OP_RELU_BACKWARD: return clgan_relu_backward(a, b, &w8);
    case CLGAN_OP_LEAKY_RELU: return clgan_leaky_relu(a, 0.2f, &w8);
    case CLGAN_OP_LEAKY_RELU_BACKWARD: return clgan_leaky_relu_backward(a, b, 0.2f, &w8);
    case CLGAN_OP_TANH: return clgan_tanh(a, &w8);
    case CLGAN_OP_TANH_BACKWARD: return clgan_tanh_backward(a, b, &w8);
    case CLGAN_OP_SIGMOID: return clgan_sigmoid(a, &w8);
    case CLGAN_OP_SIGMOID_BACKWARD: return clgan_sigmoid_backward(a, b, &w8);
    case CLGAN_OP_SUM_ROWS: return clgan_sum_rows(a == &v8 ? &m2x4 : a, 0, &row4);
    case CLGAN_OP_SUM_COLS: return clgan_sum_cols(a == &v8 ? &m2x4 : a, 0, &row4);
    case CLGAN_OP_MEAN: return clgan_mean(variant == 2 ? &v8 : a, scalar);
    case CLGAN_OP_SUMSQ: return clgan_sumsq(variant == 2 ? &v8 : a, scalar);
    case CLGAN_OP_BCE_LOGITS: return clgan_bce_logits(a, b, &s1);
    case CLGAN_OP_BCE_LOGITS_BACKWARD: return clgan_bce_logits_backward(a, b, 1, &w8);
    case CLGAN_OP_ADAM: return clgan_adam(o, a, &w8, &w8, 1e-3f, 0.9f, 0.999f, 1e-8f, 1);
    case CLGAN_OP_SGD_MOMENTUM: return clgan_sgd_momentum(&w8, a, &v8, 0.1f, 0.9f);
    case CLGAN_OP_RAND_BITS: return clgan_rand_bits(variant == 0 ? &u8 : variant == 4 ? &v8 : variant == 2 ? NULL : a, 1, 0, 0);
    case CLGAN_OP_RAND_UNIFORM: return clgan_rand_uniform(variant == 2 ? NULL : a, 1, 0, 0, 0, 1);
    case CLGAN_OP_RAND_NORMAL: return clgan_rand_normal(variant == 2 ? NULL : a, 1, 0, 0, 0, 1);
    case CLGAN_OP_IM2COL: {
        struct clgan_conv_geom g = {1, 2, 2, 2, 1, 1, 1, 1, 0, 0};
        return clgan_im2col(a, &g, 0, 1, &w8);
    }
    case CLGAN_OP_COL2IM: {
        struct clgan_conv_geom g = {1, 2, 2, 2, 1, 1, 1, 1, 0, 0};
        return clgan_col2im(&w8, &g, 0, 1, 0, a);
    }
    case CLGAN_OP_CHANNEL_BIAS: return clgan_channel_bias(a, &row4, 2, &w8);
    case CLGAN_OP_CHANNEL_SUM: return clgan_channel_sum(a, 2, 0, &row4);
    case CLGAN_OP_BATCHNORM_STATS: return clgan_batchnorm_stats(a, 2, &w8);
    case CLGAN_OP_BATCHNORM: return clgan_batchnorm(a, &w8, &row4, &row4, 2, 1e-5f, &m2x4);
    case CLGAN_OP_BATCHNORM_BACKWARD:
        return clgan_batchnorm_backward(a, &w8, &row4, a, 2, 1e-5f, 0, &m2x4, &row4b, &row4c);
    case CLGAN_OP_COUNT: break;
    }
    return CLGAN_EINTERNAL;
}

START_TEST(test_op_errors)
{
    enum clgan_op_kind kind = (enum clgan_op_kind)_i;
    const char *n = clgan_op_name(kind);
    clgan_status s = call(kind, 0);
    ck_assert_msg(s == CLGAN_OK, "%s valid call: %s (%s)", n, clgan_status_name(s), clgan_last_error());
    s = call(kind, 1);
    ck_assert_msg(s == CLGAN_ENULL, "%s NULL: %s", n, clgan_status_name(s));
    ck_assert_msg(clgan_last_error()[0] != '\0', "%s: no detail message", n);
    s = call(kind, 2);
    ck_assert_msg(s == CLGAN_ESHAPE || s == CLGAN_ENULL, "%s wrong count: %s", n, clgan_status_name(s));
    s = call(kind, 3);
    ck_assert_msg(s == CLGAN_EBACKEND || (kind == CLGAN_OP_FILL || kind == CLGAN_OP_RAND_UNIFORM ||
                                         kind == CLGAN_OP_RAND_NORMAL || kind == CLGAN_OP_RAND_BITS),
                  "%s other backend: %s", n, clgan_status_name(s));
    s = call(kind, 4);
    ck_assert_msg(s == CLGAN_EDTYPE, "%s wrong dtype: %s", n, clgan_status_name(s));
}
END_TEST

START_TEST(test_op_values)
{
    ck_assert_status(clgan_gemm(0, 0, 0, 2, 2, 1, &v8, 2, &w8, 2, 0, &row4, 2), CLGAN_ERANGE);
    ck_assert_status(clgan_gemm(0, 0, 2, 2, 2, 1, &v8, 1, &w8, 2, 0, &row4, 2), CLGAN_ESHAPE);
    ck_assert_status(clgan_gemm(0, 0, 3, 3, 3, 1, &v8, 3, &w8, 3, 0, &row4, 3), CLGAN_ESHAPE);
    ck_assert_status(clgan_gemm(0, 0, 2, 2, 2, 1, &v8, 2, &w8, 2, 0, &v8, 2), CLGAN_EINVAL);
    ck_assert_status(clgan_gemm(0, 0, (size_t)1 << 33, 1, 1, 1, &v8, 1, &w8, 1, 0, &row4, 1), CLGAN_ERANGE);
    ck_assert_status(clgan_add_row(&m2x4, &row3, &m2x4), CLGAN_ESHAPE);
    ck_assert_status(clgan_sum_rows(&m2x4, 0, &row3), CLGAN_ESHAPE);
    ck_assert_status(clgan_sum_rows(&m2x4, NAN, &row4), CLGAN_EINVAL);
    ck_assert_status(clgan_mean(&v8, &x3), CLGAN_ESHAPE);
    ck_assert_status(clgan_adam(&v8, &w8, &w8, &w8, 0, 0.9f, 0.999f, 1e-8f, 1), CLGAN_EINVAL);
    ck_assert_status(clgan_adam(&v8, &w8, &w8, &w8, 1e-3f, 1.0f, 0.999f, 1e-8f, 1), CLGAN_EINVAL);
    ck_assert_status(clgan_adam(&v8, &w8, &w8, &w8, 1e-3f, 0.9f, 0.999f, 1e-8f, 0), CLGAN_ERANGE);
    ck_assert_status(clgan_sgd_momentum(&v8, &w8, &w8, -1, 0.9f), CLGAN_EINVAL);
    ck_assert_status(clgan_rand_uniform(&v8, 1, 0, 0, 1, 1), CLGAN_EINVAL);
    ck_assert_status(clgan_rand_normal(&v8, 1, 0, 0, 0, -1), CLGAN_EINVAL);
    ck_assert_status(clgan_rand_bits(&u8, 1, 0, UINT64_MAX), CLGAN_ERANGE);
    ck_assert_status(clgan_leaky_relu(&v8, INFINITY, &w8), CLGAN_EINVAL);
    ck_assert_status(clgan_scale(&v8, 1, &m2x4), CLGAN_OK); /* same count, other shape: fine */
}
END_TEST

START_TEST(test_compare_rule)
{
    const float ref[4] = {1, 2, NAN, INFINITY};
    float a[4] = {1, 2, NAN, INFINITY};
    struct clgan_compare_result r;
    clgan_compare_f32(a, ref, NULL, 4, 1e-5, 1e-4, 1e-7, &r);
    ck_assert(r.pass);
    a[1] = 2.001f; /* 5e-4 relative: outside 1e-5 + 1e-4*2 */
    clgan_compare_f32(a, ref, NULL, 4, 1e-5, 1e-4, 1e-7, &r);
    ck_assert(!r.pass);
    ck_assert_uint_eq(r.n_bad, 1);
    ck_assert_uint_eq(r.worst_index, 1);
    const double extra[4] = {0, 0.01, 0, 0};
    clgan_compare_f32(a, ref, extra, 4, 1e-5, 1e-4, 1, &r);
    ck_assert(r.pass);
    a[1] = 2;
    a[3] = -INFINITY;
    clgan_compare_f32(a, ref, NULL, 4, 1e-5, 1e-4, 1e-7, &r);
    ck_assert(!r.pass);
    ck_assert_uint_eq(r.n_class, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core");
    TCase *core = tcase_create("Core");
    tcase_add_test(core, test_status_table);
    tcase_add_test(core, test_op_table);
    tcase_add_test(core, test_buffers_and_tensors);
    tcase_add_test(core, test_compare_rule);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("Errors");
    tcase_add_test(errors, test_backend_specs);
    tcase_add_test(errors, test_no_opencl_platform);
    tcase_add_checked_fixture(errors, ops_setup, ops_teardown);
    tcase_add_loop_test(errors, test_op_errors, 0, CLGAN_OP_COUNT);
    suite_add_tcase(s, errors);
    TCase *limits = tcase_create("Limits");
    tcase_add_checked_fixture(limits, ops_setup, ops_teardown);
    tcase_add_test(limits, test_op_values);
    suite_add_tcase(s, limits);
    return testutil_run(s);
}
