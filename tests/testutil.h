/* testutil.h: small helpers the Check suites share: opening the OpenCL
 * backend under test (or explaining why it is skipped) and status asserts. */
#ifndef CLGAN_TESTUTIL_H
#define CLGAN_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan.h"

#define ck_assert_status(expr, want)                                                          \
    do {                                                                                      \
        clgan_status got_ = (expr);                                                           \
        ck_assert_msg(got_ == (want), "%s: got %s, want %s (%s)", #expr,                      \
                      clgan_status_name(got_), clgan_status_name(want), clgan_last_error()); \
    } while (0)

#define ck_assert_ok(expr) ck_assert_status(expr, CLGAN_OK)

/* The OpenCL device under test: $CLGAN_TEST_OPENCL or "opencl" (the first
 * device of any type). Returns NULL and prints why when there is none. */
static inline clgan_backend *testutil_open_opencl(void)
{
    const char *spec = getenv("CLGAN_TEST_OPENCL");
    clgan_backend *be = NULL;
    clgan_status s = clgan_backend_open(spec && *spec ? spec : "opencl", &be);
    if (s != CLGAN_OK) {
        printf("no OpenCL device to test: %s (%s)\n", clgan_status_name(s), clgan_last_error());
        return NULL;
    }
    return be;
}

/* Exit status for a suite that has nothing to run: 77 (skip), unless
 * CLGAN_REQUIRE_OPENCL=1 (CI, where pocl is installed) turns it into 1. */
static inline int testutil_skip_status(void)
{
    const char *req = getenv("CLGAN_REQUIRE_OPENCL");
    if (req && !strcmp(req, "1")) {
        printf("CLGAN_REQUIRE_OPENCL=1 but no OpenCL device: failing\n");
        return 1;
    }
    return 77;
}

static inline int testutil_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

#endif
