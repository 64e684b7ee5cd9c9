/* test_train.c: the trainer end to end: same seed + same backend gives
 * identical loss columns and bit-identical weights; a short ring8 run and a
 * short gray-pixels run must reach quality bars that a broken trainer (no
 * D, no G updates, wrong gradients) cannot; the run folder holds every file;
 * CPU vs OpenCL (when a device opens) stay within a bounded loss difference
 * over the first 200 steps; bad configurations give the documented status. */
#include "config.h"

#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clgan/gan.h"
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

/* Runs `steps` steps reading the losses every step into d and g, and copies
 * the final weights of G and D into gw and dw (malloc'd). */
static void run_recorded(clgan_backend *be, const struct clgan_train_config *cfg, size_t steps,
                         double *d, double *g, float **gw, size_t *ng, float **dw, size_t *nd)
{
    clgan_trainer *t;
    ck_assert_ok(clgan_trainer_new(cfg, be, &t));
    for (size_t i = 0; i < steps; i++) {
        struct clgan_train_progress p;
        ck_assert_ok(clgan_trainer_step(t));
        ck_assert_ok(clgan_trainer_read_losses(t, &p));
        d[i] = p.d_loss;
        g[i] = p.g_loss;
    }
    if (gw) {
        clgan_model *G = clgan_trainer_generator(t), *D = clgan_trainer_discriminator(t);
        *ng = clgan_model_param_count(G);
        *nd = clgan_model_param_count(D);
        *gw = malloc(*ng * sizeof **gw);
        *dw = malloc(*nd * sizeof **dw);
        ck_assert_ok(clgan_model_read_params(G, *gw, *ng));
        ck_assert_ok(clgan_model_read_params(D, *dw, *nd));
    }
    clgan_trainer_free(t);
}

START_TEST(test_reproducible)
{
    struct clgan_train_config cfg;
    ck_assert_ok(clgan_train_config_defaults(&cfg, "ring8"));
    cfg.steps = 150;
    cfg.n_data = 4000; /* several epochs: the reshuffle is covered too */
    cfg.seed = 7;
    enum { N = 150 };
    double d1[N], g1[N], d2[N], g2[N];
    float *gw1, *dw1, *gw2, *dw2;
    size_t ng, nd;
    run_recorded(cpu, &cfg, N, d1, g1, &gw1, &ng, &dw1, &nd);
    run_recorded(cpu, &cfg, N, d2, g2, &gw2, &ng, &dw2, &nd);
    ck_assert(!memcmp(d1, d2, sizeof d1));
    ck_assert(!memcmp(g1, g2, sizeof g1));
    ck_assert_msg(!memcmp(gw1, gw2, ng * sizeof *gw1), "G weights differ between two runs");
    ck_assert_msg(!memcmp(dw1, dw2, nd * sizeof *dw1), "D weights differ between two runs");
    /* another seed: another run */
    cfg.seed = 8;
    run_recorded(cpu, &cfg, N, d2, g2, NULL, NULL, NULL, NULL);
    ck_assert(memcmp(d1, d2, sizeof d1) != 0);
    for (int i = 0; i < N; i++)
        ck_assert(isfinite(d1[i]) && isfinite(g1[i]));
    free(gw1);
    free(dw1);
    free(gw2);
    free(dw2);
}
END_TEST

START_TEST(test_cpu_vs_opencl)
{
    clgan_backend *cl = testutil_open_opencl();
    if (!cl) {
        printf("test_train: CPU vs OpenCL loss comparison skipped\n");
        return;
    }
    struct clgan_train_config cfg;
    ck_assert_ok(clgan_train_config_defaults(&cfg, "ring8"));
    cfg.steps = 200;
    cfg.n_data = 20000;
    enum { N = 200 };
    double d1[N], g1[N], d2[N], g2[N];
    run_recorded(cpu, &cfg, N, d1, g1, NULL, NULL, NULL, NULL);
    run_recorded(cl, &cfg, N, d2, g2, NULL, NULL, NULL, NULL);
    double worst = 0, worst20 = 0;
    for (int i = 0; i < N; i++) {
        worst = fmax(worst, fabs(d1[i] - d2[i]) / fmax(fabs(d1[i]), 1e-3));
        worst = fmax(worst, fabs(g1[i] - g2[i]) / fmax(fabs(g1[i]), 1e-3));
        if (i == 19)
            worst20 = worst;
    }
    printf("test_train: CPU vs %s, ring8 seed 1: max relative loss difference %.3g over the first 20 steps, %.3g over 200\n",
           clgan_backend_description(cl), worst20, worst);
    fflush(stdout);
    /* Same init, data and noise; only rounding differs. It starts at float
     * rounding and grows as the adversarial game amplifies it (measured on
     * pocl: 1.3e-7 over 20 steps, 5.8e-2 over 200); a wrong op or data order gives
     * differences of order 1 within a few steps. */
    ck_assert_msg(worst20 < 1e-4, "CPU and OpenCL losses differ in the first 20 steps: %g", worst20);
    ck_assert_msg(worst < 0.25, "CPU and OpenCL losses drift apart: %g", worst);
    clgan_backend_free(cl);
}
END_TEST

static void run_full(const char *data, size_t steps, uint64_t seed, const char *dir,
                     struct clgan_train_metrics *m)
{
    struct clgan_train_config cfg;
    ck_assert_ok(clgan_train_config_defaults(&cfg, data));
    cfg.steps = steps;
    cfg.seed = seed;
    if (dir)
        snprintf(cfg.out_dir, sizeof cfg.out_dir, "%s", dir);
    clgan_trainer *t;
    ck_assert_ok(clgan_trainer_new(&cfg, cpu, &t));
    ck_assert_ok(clgan_trainer_run(t));
    ck_assert_uint_eq(clgan_trainer_steps_done(t), steps);
    ck_assert_ok(clgan_trainer_metrics(t, m));
    clgan_trainer_free(t);
}

START_TEST(test_ring8_short)
{
    struct clgan_train_metrics m;
    run_full("ring8", 2500, 3, NULL, &m);
    printf("test_train: ring8, 2500 steps: %zu/8 modes, %.1f%% high quality\n", m.modes_captured,
           100 * m.high_quality_frac);
    fflush(stdout);
    /* An untrained G puts its mass near the origin (0 modes, 0% within 3
     * sigma = 0.03 of a mean); a collapsed one covers 1-3 modes. */
    ck_assert_msg(m.modes_captured >= 7, "ring8: %zu modes", m.modes_captured);
    ck_assert_msg(m.high_quality_frac >= 0.05, "ring8: %.3f high quality", m.high_quality_frac);
}
END_TEST

START_TEST(test_gray_pixels_folder)
{
    char dir[] = "/tmp/clgan-test-train-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char sub[256];
    snprintf(sub, sizeof sub, "%s/run", dir);
    struct clgan_train_metrics m;
    struct clgan_train_config cfg;
    ck_assert_ok(clgan_train_config_defaults(&cfg, "gray-pixels"));
    run_full("gray-pixels", cfg.steps, 2, sub, &m);
    printf("test_train: gray-pixels, %zu steps: mean error %.4f, covariance error %.5f\n", cfg.steps,
           m.max_mean_err, m.max_cov_err);
    fflush(stdout);
    ck_assert(!m.point_set);
    /* An untrained G sits at sigmoid(small) = 0.5 +- 0.1 with no spread; a G
     * that does not learn misses the mean by several hundredths. */
    ck_assert_msg(m.max_mean_err < 0.01, "gray-pixels: mean error %g", m.max_mean_err);
    ck_assert_msg(m.max_cov_err < 0.006, "gray-pixels: covariance error %g", m.max_cov_err);
    const char *files[] = {"config.json", "log.csv", "samples.png", "curves.png", "metrics.json",
                           "samples.csv"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[512];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", sub, files[i]);
        ck_assert_msg(stat(p, &st) == 0 && st.st_size > 0, "missing %s", p);
        unlink(p);
    }
    /* pictures along the way: every steps/5 */
    for (size_t s = cfg.steps / 5; s < cfg.steps; s += cfg.steps / 5) {
        char p[512];
        snprintf(p, sizeof p, "%s/samples_%06zu.png", sub, s);
        ck_assert_msg(unlink(p) == 0, "missing %s", p);
    }
    /* the checkpoint at the end (test_checkpoint.c checks its content) */
    char ckp[512];
    ck_assert_ok(clgan_checkpoint_latest(sub, ckp, sizeof ckp));
    ck_assert_int_eq(unlink(ckp), 0);
    ck_assert_int_eq(rmdir(sub), 0);
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_log_rows)
{
    char dir[] = "/tmp/clgan-test-log-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    struct clgan_train_config cfg;
    ck_assert_ok(clgan_train_config_defaults(&cfg, "grid25"));
    cfg.steps = 40;
    cfg.log_every = 10;
    cfg.picture_every = 1000;
    cfg.n_data = 3000;
    snprintf(cfg.out_dir, sizeof cfg.out_dir, "%s", dir);
    clgan_trainer *t;
    ck_assert_ok(clgan_trainer_new(&cfg, cpu, &t));
    ck_assert_ok(clgan_trainer_run(t));
    clgan_trainer_free(t);
    char p[512], line[512];
    snprintf(p, sizeof p, "%s/log.csv", dir);
    FILE *f = fopen(p, "r");
    ck_assert_ptr_nonnull(f);
    int rows = 0;
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "step,d_loss,g_loss,d_real,d_fake,modes,hq,reverse_kl,steps_per_s\n");
    while (fgets(line, sizeof line, f))
        rows++;
    fclose(f);
    ck_assert_int_eq(rows, 4);
    snprintf(p, sizeof p, "%s/samples.csv", dir);
    f = fopen(p, "r");
    ck_assert_ptr_nonnull(f);
    rows = 0;
    while (fgets(line, sizeof line, f))
        rows++;
    fclose(f);
    ck_assert_int_eq(rows, 2501);
    const char *files[] = {"config.json", "log.csv", "samples.png", "curves.png", "metrics.json",
                           "samples.csv"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        ck_assert_msg(unlink(p) == 0, "missing %s", p);
    }
    ck_assert_ok(clgan_checkpoint_latest(dir, p, sizeof p));
    ck_assert_int_eq(unlink(p), 0);
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_limits)
{
    /* batch 1, pack 1, d-steps 3, every loss: a few steps stay finite */
    for (int loss = CLGAN_LOSS_NS; loss <= CLGAN_LOSS_HINGE; loss++) {
        struct clgan_train_config cfg;
        ck_assert_ok(clgan_train_config_defaults(&cfg, "grid25"));
        cfg.batch = 1;
        cfg.pack = 1;
        cfg.d_steps = 3;
        cfg.steps = 5;
        cfg.n_data = 10;
        cfg.n_samples = 7;
        cfg.loss = (enum clgan_loss)loss;
        cfg.optim = loss % 2 ? CLGAN_OPTIM_SGD : CLGAN_OPTIM_ADAM;
        clgan_trainer *t;
        ck_assert_ok(clgan_trainer_new(&cfg, cpu, &t));
        ck_assert_ok(clgan_trainer_run(t));
        struct clgan_train_progress p;
        ck_assert_ok(clgan_trainer_read_losses(t, &p));
        float pts[14];
        ck_assert_ok(clgan_trainer_sample(t, 7, pts));
        for (int i = 0; i < 14; i++)
            ck_assert(isfinite(pts[i]));
        ck_assert_status(clgan_trainer_sample(t, 8, pts), CLGAN_ERANGE);
        clgan_trainer_free(t);
    }
}
END_TEST

START_TEST(test_errors)
{
    struct clgan_train_config cfg;
    ck_assert_status(clgan_train_config_defaults(&cfg, "mnist"), CLGAN_EINVAL);
    ck_assert_status(clgan_train_config_defaults(NULL, "ring8"), CLGAN_ENULL);
    clgan_trainer *t = NULL;
    ck_assert_ok(clgan_train_config_defaults(&cfg, "gray-pixels"));
    cfg.batch = 51; /* the data set has 50 points */
    ck_assert_status(clgan_trainer_new(&cfg, cpu, &t), CLGAN_ERANGE);
    ck_assert_ptr_null(t);
    ck_assert_ok(clgan_train_config_defaults(&cfg, "ring8"));
    cfg.steps = 0;
    ck_assert_status(clgan_train_config_check(&cfg), CLGAN_ERANGE);
    ck_assert_ok(clgan_train_config_defaults(&cfg, "ring8"));
    cfg.lr_d = 0.0f;
    ck_assert_status(clgan_train_config_check(&cfg), CLGAN_ERANGE);
    ck_assert_ok(clgan_train_config_defaults(&cfg, "ring8"));
    cfg.batch = 255; /* not a multiple of pack 2 */
    ck_assert_status(clgan_train_config_check(&cfg), CLGAN_ERANGE);
    ck_assert_ok(clgan_train_config_defaults(&cfg, "ring8"));
    cfg.batch = (size_t)1 << 30;
    ck_assert_status(clgan_train_config_check(&cfg), CLGAN_ERANGE);
    ck_assert_ok(clgan_train_config_defaults(&cfg, "ring8"));
    snprintf(cfg.data, sizeof cfg.data, "ring9");
    ck_assert_status(clgan_trainer_new(&cfg, cpu, &t), CLGAN_EINVAL);
    ck_assert_ok(clgan_train_config_defaults(&cfg, "ring8"));
    snprintf(cfg.out_dir, sizeof cfg.out_dir, "/proc/clgan-cannot-be-here");
    cfg.steps = 1;
    ck_assert_ok(clgan_trainer_new(&cfg, cpu, &t));
    ck_assert_status(clgan_trainer_run(t), CLGAN_EIO);
    clgan_trainer_free(t);
    ck_assert_status(clgan_trainer_new(&cfg, NULL, &t), CLGAN_ENULL);
    ck_assert_status(clgan_trainer_step(NULL), CLGAN_ENULL);
    clgan_trainer_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("train");
    TCase *core = tcase_create("Core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_set_timeout(core, 400);
    tcase_add_test(core, test_reproducible);
    tcase_add_test(core, test_cpu_vs_opencl);
    tcase_add_test(core, test_ring8_short);
    tcase_add_test(core, test_gray_pixels_folder);
    tcase_add_test(core, test_log_rows);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("Limits");
    tcase_add_checked_fixture(lim, setup, teardown);
    tcase_add_test(lim, test_limits);
    suite_add_tcase(s, lim);
    TCase *err = tcase_create("Errors");
    tcase_add_checked_fixture(err, setup, teardown);
    tcase_add_test(err, test_errors);
    suite_add_tcase(s, err);
    return testutil_run(s);
}
