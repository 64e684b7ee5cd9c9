/* gray_pixels.c: the seed's example through the public API alone: a GAN
 * learns 50 grayish pixels in RGB space, then generates new ones and draws
 * them beside the real ones in gray_pixels.png (or the path in argv[1]).
 * Built by `make check`, so it cannot fall behind the API. */
#include <stdio.h>
#include <stdlib.h>

#include "clgan.h"
#include "clgan/data.h"
#include "clgan/gan.h"

static int fail(const char *what, clgan_status s)
{
    fprintf(stderr, "gray_pixels: %s: %s (%s)\n", what, clgan_status_str(s), clgan_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    const char *png = argc > 1 ? argv[1] : "gray_pixels.png";
    clgan_backend *be = NULL;
    clgan_status s = clgan_backend_open("cpu", &be);   /* or NULL: $CLGAN_BACKEND, else auto */
    if (s != CLGAN_OK)
        return fail("open backend", s);

    /* The tuned recipe: G z(8) -> 32 -> 32 -> 3 (sigmoid), D 3 -> 32 -> 32 -> 1. */
    struct clgan_train_config cfg;
    clgan_train_config_defaults(&cfg, "gray-pixels");
    cfg.seed = 2024;

    clgan_trainer *t = NULL;
    if ((s = clgan_trainer_new(&cfg, be, &t)) != CLGAN_OK)
        return fail("set up", s);
    if ((s = clgan_trainer_run(t)) != CLGAN_OK)        /* out_dir "": writes no files */
        return fail("train", s);

    /* 500 new pixels, and the real ones for the picture. */
    enum { N = 500 };
    float *gen = malloc(N * 3 * sizeof *gen);
    struct clgan_dataset real;
    if (!gen)
        return fail("memory", CLGAN_ENOMEM);
    if ((s = clgan_trainer_sample(t, N, gen)) != CLGAN_OK)
        return fail("sample", s);
    if ((s = clgan_dataset_builtin("gray-pixels", cfg.data_seed, 0, &real)) != CLGAN_OK)
        return fail("data", s);
    double mean[3] = {0, 0, 0};
    for (int i = 0; i < N; i++)
        for (int c = 0; c < 3; c++)
            mean[c] += gen[3 * i + c] / N;
    printf("generated mean (%.3f, %.3f, %.3f)\n", mean[0], mean[1], mean[2]);
    if ((s = clgan_plot_pixels(png, real.x, real.n, gen, N, "50 real pixels, 500 generated")) != CLGAN_OK)
        return fail("picture", s);
    printf("wrote %s\n", png);

    clgan_dataset_free(&real);
    free(gen);
    clgan_trainer_free(t);
    clgan_backend_free(be);
    return 0;
}
