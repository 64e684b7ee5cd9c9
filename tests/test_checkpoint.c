/* test_checkpoint.c: checkpoints through the API on a tiny model: save ->
 * load -> save is byte-identical, a checkpoint moves between backends, every
 * truncation and every single-bit flip is rejected without a crash, and a
 * network with a NaN is never written. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clgan.h"
#include "testutil.h"

/* A tiny run: G 8 -> 4 -> 3, D 3 -> 4 -> 1, so a checkpoint is ~3 KiB and
 * the exhaustive bit flips take seconds. */
static void tiny_config(struct clgan_train_config *c)
{
    ck_assert_ok(clgan_train_config_defaults(c, "gray-pixels"));
    c->g_hidden = c->d_hidden = 4;
    c->g_layers = c->d_layers = 1;
    c->steps = 5;
    c->batch = 10;
    c->n_data = 30;
    c->n_samples = 10;
}

static clgan_trainer *tiny_trainer(clgan_backend *be, size_t steps)
{
    struct clgan_train_config c;
    tiny_config(&c);
    clgan_trainer *t;
    ck_assert_ok(clgan_trainer_new(&c, be, &t));
    for (size_t i = 0; i < steps; i++)
        ck_assert_ok(clgan_trainer_step(t));
    return t;
}

START_TEST(test_roundtrip_bytes)
{
    clgan_backend *be;
    ck_assert_ok(clgan_backend_open("cpu", &be));
    clgan_trainer *t = tiny_trainer(be, 3), *u = tiny_trainer(be, 0);
    void *a, *b;
    size_t na, nb;
    ck_assert_ok(clgan_trainer_encode(t, &a, &na));
    clgan_checkpoint *ck;
    ck_assert_ok(clgan_checkpoint_decode(a, na, &ck));
    ck_assert_uint_eq(clgan_checkpoint_step(ck), 3);
    ck_assert_ok(clgan_trainer_restore(u, ck));
    ck_assert_ok(clgan_trainer_encode(u, &b, &nb));
    ck_assert_uint_eq(na, nb);
    ck_assert(memcmp(a, b, na) == 0);
    /* and both continue identically */
    ck_assert_ok(clgan_trainer_step(t));
    ck_assert_ok(clgan_trainer_step(u));
    free(a);
    free(b);
    ck_assert_ok(clgan_trainer_encode(t, &a, &na));
    ck_assert_ok(clgan_trainer_encode(u, &b, &nb));
    ck_assert(na == nb && memcmp(a, b, na) == 0);
    free(a);
    free(b);
    clgan_checkpoint_free(ck);
    clgan_trainer_free(t);
    clgan_trainer_free(u);
    clgan_backend_free(be);
}
END_TEST

START_TEST(test_cross_backend)
{
    clgan_backend *cl = testutil_open_opencl(), *cpu;
    if (!cl) {
        printf("checkpoint: 0 OpenCL cases ran (no OpenCL device)\n");
        return;
    }
    ck_assert_ok(clgan_backend_open("cpu", &cpu));
    clgan_backend *from[2] = {cl, cpu}, *to[2] = {cpu, cl};
    for (int k = 0; k < 2; k++) {
        clgan_trainer *t = tiny_trainer(from[k], 3);
        void *a;
        size_t na;
        ck_assert_ok(clgan_trainer_encode(t, &a, &na));
        clgan_checkpoint *ck;
        ck_assert_ok(clgan_checkpoint_decode(a, na, &ck));
        clgan_model *G;
        ck_assert_ok(clgan_checkpoint_models(ck, to[k], 4, &G, NULL));
        ck_assert_uint_eq(clgan_model_param_count(G), clgan_model_param_count(clgan_trainer_generator(t)));
        clgan_model_free(G);
        clgan_checkpoint_free(ck);
        free(a);
        clgan_trainer_free(t);
    }
    printf("checkpoint: 2 OpenCL cases ran\n");
    clgan_backend_free(cpu);
    clgan_backend_free(cl);
}
END_TEST

START_TEST(test_truncations_and_flips)
{
    clgan_backend *be;
    ck_assert_ok(clgan_backend_open("cpu", &be));
    clgan_trainer *t = tiny_trainer(be, 2);
    uint8_t *a;
    size_t na;
    ck_assert_ok(clgan_trainer_encode(t, (void **)&a, &na));
    ck_assert_uint_lt(na, 16384);
    clgan_checkpoint *ck = NULL;
    for (size_t len = 0; len < na; len++) {
        /* a fresh allocation of exactly len bytes, so ASan sees overreads */
        uint8_t *p = malloc(len ? len : 1);
        memcpy(p, a, len);
        ck_assert_int_ne(clgan_checkpoint_decode(p, len, &ck), CLGAN_OK);
        ck_assert_ptr_null(ck);
        free(p);
    }
    size_t rejected = 0;
    for (size_t i = 0; i < na; i++)
        for (int bit = 0; bit < 8; bit++) {
            a[i] ^= (uint8_t)(1u << bit);
            clgan_status s = clgan_checkpoint_decode(a, na, &ck);
            a[i] ^= (uint8_t)(1u << bit);
            if (s == CLGAN_OK)
                ck_abort_msg("flip of bit %d of byte %zu accepted", bit, i);
            ck_assert(clgan_last_error()[0] != '\0');
            rejected++;
        }
    ck_assert_uint_eq(rejected, 8 * na);
    printf("checkpoint: %zu truncations and %zu bit flips of a %zu-byte checkpoint rejected\n", na, rejected, na);
    ck_assert_ok(clgan_checkpoint_decode(a, na, &ck));
    clgan_checkpoint_free(ck);
    free(a);
    clgan_trainer_free(t);
    clgan_backend_free(be);
}
END_TEST

START_TEST(test_nonfinite_never_written)
{
    clgan_backend *be;
    ck_assert_ok(clgan_backend_open("cpu", &be));
    clgan_trainer *t = tiny_trainer(be, 1);
    clgan_model *G = clgan_trainer_generator(t);
    const size_t n = clgan_model_param_count(G);
    float *p = malloc(n * sizeof *p);
    ck_assert_ok(clgan_model_read_params(G, p, n));
    p[n / 2] = NAN;
    ck_assert_ok(clgan_model_write_params(G, p, n));
    void *a = NULL;
    size_t na = 0;
    ck_assert_status(clgan_trainer_encode(t, &a, &na), CLGAN_ENONFINITE);
    ck_assert_ptr_null(a);
    ck_assert_status(clgan_trainer_save(t, "never-written.safetensors"), CLGAN_ENONFINITE);
    FILE *f = fopen("never-written.safetensors", "rb");
    ck_assert_ptr_null(f);
    free(p);
    clgan_trainer_free(t);
    clgan_backend_free(be);
}
END_TEST

START_TEST(test_errors)
{
    clgan_checkpoint *ck = NULL;
    ck_assert_status(clgan_checkpoint_read("no-such-checkpoint.safetensors", &ck), CLGAN_ENOENT);
    ck_assert_status(clgan_checkpoint_read(NULL, &ck), CLGAN_ENULL);
    ck_assert_status(clgan_checkpoint_decode("12345678", 8, &ck), CLGAN_EFORMAT);
    char path[64];
    ck_assert_status(clgan_checkpoint_latest("no-such-folder", path, sizeof path), CLGAN_ENOENT);
    clgan_checkpoint_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *core = tcase_create("Core"), *limits = tcase_create("Limits"), *errors = tcase_create("Errors");
    tcase_set_timeout(core, 120);
    tcase_set_timeout(limits, 300);
    tcase_add_test(core, test_roundtrip_bytes);
    tcase_add_test(core, test_cross_backend);
    tcase_add_test(limits, test_truncations_and_flips);
    tcase_add_test(errors, test_nonfinite_never_written);
    tcase_add_test(errors, test_errors);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, errors);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
