/* cmd_score.c: `clgan score`: the seed's opening question as a command:
 * loads a checkpoint's discriminator and prints, for each image file, the
 * probability D gives that it is real (images fitted to the model's size
 * as the training data was). */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "clgan/checkpoint.h"

static void score_usage(FILE *f)
{
    fputs("usage: clgan score --checkpoint FILE [--backend SPEC] IMAGE...\n"
          "\n"
          "Prints, per image (PGM/PPM/PNG/JPEG), the probability the checkpoint's\n"
          "discriminator gives that it is real. Images are center-cropped and\n"
          "resized to the model's size, as training data is.\n"
          "\n"
          "Exit status: 0 done, 2 bad command line, 3 could not run (also an image\n"
          "that does not decode: the others are still scored).\n",
          f);
}

int cmd_score(int argc, char **argv)
{
    static const struct option opts[] = {{"checkpoint", required_argument, NULL, 'c'},
                                         {"backend", required_argument, NULL, 'B'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *ckpt = NULL, *backend = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:B:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            ckpt = optarg;
            break;
        case 'B':
            backend = optarg;
            break;
        case 'h':
            score_usage(stdout);
            return CLI_OK;
        default: /* ':' missing value, '?' unknown option */
            return cli_option_error("score", c, argv);
        }
    }
    if (!ckpt || optind >= argc) {
        cli_error("score: want --checkpoint FILE and at least one image (try clgan score --help)");
        return CLI_USAGE;
    }
    clgan_checkpoint *ck = NULL;
    clgan_status s = clgan_checkpoint_read(ckpt, &ck);
    if (s != CLGAN_OK)
        return cli_status_error("cannot load the checkpoint", s);
    size_t h, w, ch;
    clgan_checkpoint_image_shape(ck, &h, &w, &ch);
    if (!h || h != w) {
        clgan_checkpoint_free(ck);
        cli_error("score: this checkpoint's model does not generate square images");
        return CLI_USAGE;
    }
    const size_t dim = clgan_checkpoint_data_dim(ck), pack = clgan_checkpoint_config(ck)->pack;
    clgan_backend *be = NULL;
    clgan_model *D = NULL;
    clgan_buffer *xb = NULL;
    float *x = malloc(pack * dim * sizeof *x);
    int rc = CLI_OK;
    struct clgan_tensor xt, y;
    const size_t dims[2] = {1, pack * dim};
    if (!x) {
        cli_error("score: out of memory");
        rc = CLI_RUNTIME;
        goto done;
    }
    if (cli_open_backend(backend, &be) != CLGAN_OK) {
        rc = CLI_RUNTIME;
        goto done;
    }
    s = clgan_checkpoint_models(ck, be, 1, NULL, &D);
    if (s == CLGAN_OK)
        s = clgan_buffer_new(be, pack * dim * sizeof(float), &xb);
    if (s == CLGAN_OK)
        s = clgan_tensor_init(&xt, xb, 0, CLGAN_DTYPE_F32, 2, dims, "x");
    if (s != CLGAN_OK) {
        rc = cli_status_error("cannot build the discriminator", s);
        goto done;
    }
    for (int i = optind; i < argc; i++) {
        struct clgan_image img;
        s = clgan_image_read(argv[i], &img);
        if (s == CLGAN_OK) {
            s = clgan_image_fit(&img, h, (int)ch, x);
            clgan_image_free(&img);
        }
        /* PacGAN: D judges pack points at once; the image fills every slot */
        for (size_t k = 1; s == CLGAN_OK && k < pack; k++)
            memcpy(x + k * dim, x, dim * sizeof *x);
        float logit = 0.0f;
        if (s == CLGAN_OK)
            s = clgan_tensor_write(&xt, x, pack * dim);
        if (s == CLGAN_OK)
            s = clgan_model_forward(D, &xt, 0, &y);
        if (s == CLGAN_OK)
            s = clgan_tensor_read(&y, &logit, 1);
        if (s != CLGAN_OK) {
            cli_status_error(argv[i], s);
            rc = CLI_RUNTIME;
            continue;
        }
        printf("%.6f  %s\n", 1.0 / (1.0 + exp(-(double)logit)), argv[i]);
    }
done:
    clgan_buffer_free(xb);
    clgan_model_free(D);
    clgan_backend_free(be);
    clgan_checkpoint_free(ck);
    free(x);
    return rc;
}
