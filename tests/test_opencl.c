/* test_opencl.c: the OpenCL backend against the CPU backend: 200 random
 * cases per op (canaries included), bit-identical random streams for three
 * work-group sizes, allocation limits and kernel build failure reports.
 * Skips (77) only when no OpenCL device exists; prints how many cases ran. */
#include "config.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static clgan_backend *ocl, *cpu;
static size_t cases_ran;

START_TEST(test_op_vs_cpu)
{
    enum clgan_op_kind kind = (enum clgan_op_kind)_i;
    struct clgan_opcheck_result r;
    ck_assert_ok(clgan_opcheck(ocl, cpu, kind, 200, 424242, &r));
    cases_ran += r.cases;
    ck_assert_uint_eq(r.cases, 200);
    ck_assert_msg(r.pass, "%s: %zu/%zu cases failed, %zu canaries touched; worst case %s: element %zu opencl %g cpu %g, NMSE %g",
                  clgan_op_name(kind), r.failed, r.cases, r.canary_failures, r.worst_case,
                  r.worst.worst_index, r.worst.worst_a, r.worst.worst_b, r.worst.nmse);
    printf("opencl %-20s %zu cases, worst NMSE %.3g, max abs %.3g\n", clgan_op_name(kind), r.cases,
           r.worst.nmse, r.worst.max_abs);
}
END_TEST

/* rand_bits on a backend opened with CLGAN_CL_LOCAL_SIZE=ls equals the host. */
START_TEST(test_random_streams_local_sizes)
{
    static const char *sizes[] = {"1", "7", "64"};
    static const size_t lens[] = {1, 5, 63, 65, 1000, 4099};
    for (int si = 0; si < 3; si++) {
        setenv("CLGAN_CL_LOCAL_SIZE", sizes[si], 1);
        clgan_backend *be = testutil_open_opencl();
        ck_assert_ptr_nonnull(be);
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            size_t n = lens[li];
            uint64_t seed = 0x9e3779b97f4a7c15ull * (li + 1), off = li * 1000003ull;
            struct clgan_tensor t, tu;
            ck_assert_ok(clgan_tensor_alloc(&t, be, CLGAN_DTYPE_U32, 1, &n, "bits"));
            ck_assert_ok(clgan_tensor_alloc(&tu, be, CLGAN_DTYPE_F32, 1, &n, "uniform"));
            ck_assert_ok(clgan_rand_bits(&t, seed, li, off));
            ck_assert_ok(clgan_rand_uniform(&tu, seed, li, off, -1.0f, 1.0f));
            uint32_t *bits = malloc(n * 4);
            float *u = malloc(n * 4);
            ck_assert_ok(clgan_tensor_read(&t, bits, n));
            ck_assert_ok(clgan_tensor_read(&tu, u, n));
            for (size_t i = 0; i < n; i++) {
                ck_assert_msg(bits[i] == clgan_philox_u32(seed, li, off + i),
                              "local size %s, n %zu, element %zu", sizes[si], n, i);
                float want = -1.0f + 2.0f * clgan_philox_uniform(seed, li, off + i);
                ck_assert(memcmp(&u[i], &want, 4) == 0);
            }
            cases_ran++;
            free(bits);
            free(u);
            clgan_tensor_release(&t);
            clgan_tensor_release(&tu);
        }
        clgan_backend_free(be);
    }
    unsetenv("CLGAN_CL_LOCAL_SIZE");
}
END_TEST

START_TEST(test_too_big)
{
    struct clgan_device_info *devs;
    size_t n;
    ck_assert_ok(clgan_opencl_devices(&devs, &n));
    ck_assert_uint_ge(n, 1);
    uint64_t max_alloc = devs[0].max_alloc_bytes;
    free(devs);
    clgan_buffer *buf = NULL;
    ck_assert_status(clgan_buffer_new(ocl, (size_t)max_alloc + 4096, &buf), CLGAN_ETOOBIG);
    ck_assert_ptr_null(buf);
    char want[64];
    snprintf(want, sizeof want, "%llu", (unsigned long long)max_alloc);
    ck_assert_msg(strstr(clgan_last_error(), want) != NULL, "message lacks the limit: %s",
                  clgan_last_error());
}
END_TEST

/* A planted syntax error in a copy of cl/ gives EBUILD with the log. */
START_TEST(test_build_failure_report)
{
    const char *src = getenv("CLGAN_SRCDIR");
    ck_assert_msg(src != NULL, "CLGAN_SRCDIR must name the source tree");
    char dir[] = "/tmp/clgan-bad-cl-XXXXXX", cmd[1024];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "cp '%s'/cl/*.cl '%s'/ && printf '\\n__kernel void broken(void) { this is not C }\\n' >> '%s'/elementwise.cl",
             src, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    setenv("CLGAN_CL_DIR", dir, 1);
    clgan_backend *be = NULL;
    clgan_status s = clgan_backend_open("opencl", &be);
    unsetenv("CLGAN_CL_DIR");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_status(s, CLGAN_EBUILD);
    const char *msg = clgan_last_error();
    struct clgan_device_info *devs;
    size_t n;
    ck_assert_ok(clgan_opencl_devices(&devs, &n));
    ck_assert_msg(strstr(msg, devs[0].device_name) != NULL, "no device name in: %s", msg);
    ck_assert_msg(strstr(msg, devs[0].driver_version) != NULL, "no driver version in: %s", msg);
    ck_assert_msg(strstr(msg, "broken") != NULL || strstr(msg, "error") != NULL,
                  "no build log in: %s", msg);
    free(devs);
}
END_TEST

START_TEST(test_device_list)
{
    struct clgan_device_info *devs;
    size_t n;
    ck_assert_ok(clgan_opencl_devices(&devs, &n));
    ck_assert_uint_ge(n, 1);
    for (size_t i = 0; i < n; i++) {
        ck_assert(devs[i].device_name[0] && devs[i].platform_name[0]);
        ck_assert(devs[i].compute_units > 0 && devs[i].max_alloc_bytes > 0);
        ck_assert(strncmp(devs[i].backend_spec, "opencl:", 7) == 0);
        clgan_backend *be;
        ck_assert_ok(clgan_backend_open(devs[i].backend_spec, &be));
        clgan_backend_free(be);
    }
    /* Substring selectors, case-insensitive. */
    char sel[64];
    snprintf(sel, sizeof sel, "opencl:%.3s", devs[0].platform_name);
    for (char *p = sel + 7; *p; p++)
        *p = (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
    clgan_backend *be;
    ck_assert_ok(clgan_backend_open(sel, &be));
    clgan_backend_free(be);
    ck_assert_status(clgan_backend_open("opencl:99", &be), CLGAN_ENODEVICE);
    ck_assert_status(clgan_backend_open("opencl:0:no-such-device-name", &be), CLGAN_ENODEVICE);
    free(devs);
}
END_TEST

static void setup(void)
{
    ocl = testutil_open_opencl();
    ck_assert_ptr_nonnull(ocl);
    ck_assert_ok(clgan_backend_open("cpu", &cpu));
}

static void teardown(void)
{
    clgan_backend_free(ocl);
    clgan_backend_free(cpu);
}

int main(void)
{
    clgan_backend *probe = testutil_open_opencl();
    if (!probe)
        return testutil_skip_status();
    printf("OpenCL device under test: %s\n", clgan_backend_description(probe));
    clgan_backend_free(probe);

    Suite *s = suite_create("opencl");
    TCase *core = tcase_create("Core");
    tcase_set_timeout(core, 600);
    tcase_add_unchecked_fixture(core, setup, teardown);
    tcase_add_loop_test(core, test_op_vs_cpu, 0, CLGAN_OP_COUNT);
    tcase_add_test(core, test_random_streams_local_sizes);
    tcase_add_test(core, test_device_list);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("Errors");
    tcase_set_timeout(errors, 120);
    tcase_add_unchecked_fixture(errors, setup, teardown);
    tcase_add_test(errors, test_too_big);
    tcase_add_test(errors, test_build_failure_report);
    suite_add_tcase(s, errors);
    /* No fork: one context for all cases, so CLBlast compiles its kernels
     * once; counts survive across tests for the summary line. */
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    printf("opencl: %zu OpenCL cases ran (%d ops x 200 random shapes + random streams), %d test%s failed\n",
           cases_ran, CLGAN_OP_COUNT, failed, failed == 1 ? "" : "s");
    return failed ? 1 : 0;
}
