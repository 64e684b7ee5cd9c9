/* toy_speed.c: iterations/s of clgan training the `toy` GAN of
 * ../shared/bench/gan_torch.py on a backend, timed like that script:
 * G z(8) -> 32 -> 32 -> 3 (sigmoid), D 3 -> 32 -> 32 -> 1, leaky ReLU 0.2,
 * batch 50 (the whole 50-pixel gray set), Adam(2e-4, 0.5, 0.999), BCE from
 * logits (the non-saturating loss), one D step and one G step per iteration,
 * no weight average, no schedule, no logging or metrics. Warm-up
 * iterations, then timed windows; each window ends by reading the losses
 * back (a device wait), so queued work is counted.
 * usage: toy_speed [BACKEND [WARMUP [WINDOWS [WINDOW_ITERS]]]]
 * Prints one line per window and a summary line:
 *   clgan toy iters/s median M (min A .. max B) windows K x I backend ... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clgan.h"
#include "clgan/gan.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int fail(const char *what)
{
    fprintf(stderr, "toy_speed: %s: %s\n", what, clgan_last_error());
    return 3;
}

int main(int argc, char **argv)
{
    const char *spec = argc > 1 ? argv[1] : "cpu";
    const long warmup = argc > 2 ? atol(argv[2]) : 100;
    const long windows = argc > 3 ? atol(argv[3]) : 10;
    const long iters = argc > 4 ? atol(argv[4]) : 500;
    if (warmup < 0 || windows < 1 || windows > 1000 || iters < 1) {
        fprintf(stderr, "toy_speed: bad counts (warm-up >= 0, 1..1000 windows, iters >= 1)\n");
        return 2;
    }
    struct clgan_train_config cfg;
    if (clgan_train_config_defaults(&cfg, "gray-pixels") != CLGAN_OK)
        return fail("config");
    /* The toy model of gan_torch.py, whatever the gray-pixels recipe says. */
    cfg.z_dim = 8;
    cfg.g_hidden = cfg.d_hidden = 32;
    cfg.g_layers = cfg.d_layers = 2;
    cfg.leaky_slope = 0.2f;
    cfg.g_out = CLGAN_LAYER_SIGMOID;
    cfg.batch = 50;
    cfg.pack = 1;
    cfg.d_steps = 1;
    cfg.loss = CLGAN_LOSS_NS;
    cfg.label_smooth = 0.0f;
    cfg.optim = CLGAN_OPTIM_ADAM;
    cfg.lr_g = cfg.lr_d = 2e-4f;
    cfg.beta1 = 0.5f;
    cfg.beta2 = 0.999f;
    cfg.lr_end = 1.0f;
    cfg.g_ema = 0.0f;
    cfg.steps = (size_t)(warmup + windows * iters);
    cfg.out_dir[0] = '\0';
    cfg.progress = NULL;

    clgan_backend *be = NULL;
    if (clgan_backend_open(spec, &be) != CLGAN_OK)
        return fail("backend");
    clgan_trainer *t = NULL;
    if (clgan_trainer_new(&cfg, be, &t) != CLGAN_OK) {
        clgan_backend_free(be);
        return fail("trainer");
    }
    double *rate = malloc((size_t)windows * sizeof *rate);
    int rc = rate ? 0 : 3;
    struct clgan_train_progress p;
    for (long i = 0; i < warmup && !rc; i++)
        if (clgan_trainer_step(t) != CLGAN_OK)
            rc = fail("step");
    if (!rc && clgan_trainer_read_losses(t, &p) != CLGAN_OK)
        rc = fail("read losses");
    for (long w = 0; w < windows && !rc; w++) {
        double t0 = now_s();
        for (long i = 0; i < iters && !rc; i++)
            if (clgan_trainer_step(t) != CLGAN_OK)
                rc = fail("step");
        if (!rc && clgan_trainer_read_losses(t, &p) != CLGAN_OK)
            rc = fail("read losses");
        if (rc)
            break;
        rate[w] = (double)iters / (now_s() - t0);
        printf("window %ld: %.1f iters/s (D loss %.4f, G loss %.4f)\n", w + 1, rate[w], p.d_loss,
               p.g_loss);
    }
    if (!rc) {
        qsort(rate, (size_t)windows, sizeof *rate, cmp_double);
        double med = windows % 2 ? rate[windows / 2]
                                 : 0.5 * (rate[windows / 2 - 1] + rate[windows / 2]);
        printf("clgan toy iters/s median %.1f (min %.1f .. max %.1f) windows %ld x %ld backend %s\n",
               med, rate[0], rate[windows - 1], windows, iters, clgan_backend_description(be));
    }
    free(rate);
    clgan_trainer_free(t);
    clgan_backend_free(be);
    return rc;
}
