/* cmd_sample.c: `clgan sample`: loads a checkpoint, builds its generator on
 * any backend and draws n samples from Philox noise: a PNG grid for image
 * models, a scatter or swatch picture (and with --csv the points) for the
 * point data sets. */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "clgan/checkpoint.h"

/* The stream of the trainer's fixed sample noise (train_internal.h): with
 * the run's seed, `clgan sample` draws what the run's pictures showed. */
#define SAMPLE_STREAM 3

static void sample_usage(FILE *f)
{
    fputs("usage: clgan sample --checkpoint FILE --out PICTURE.png [OPTIONS]\n"
          "\n"
          "Draws samples from a checkpoint's generator (its weight average when the\n"
          "run kept one) on any backend.\n"
          "\n"
          "  --checkpoint FILE   a checkpoint_*.safetensors of a run\n"
          "  --out FILE          the PNG: a grid for image models, a scatter or\n"
          "                      swatch picture for point data sets\n"
          "  --n N               samples (default 64)\n"
          "  --seed S            noise seed (default: the run's, as in its pictures)\n"
          "  --csv FILE          point data sets: the points as CSV too\n"
          "  --backend SPEC      auto, cpu, opencl[:P[:D]]\n"
          "  -h, --help          this help\n"
          "\n"
          "Exit status: 0 done, 2 bad command line, 3 could not run.\n",
          f);
}

static int write_csv(const char *path, const float *x, size_t n, size_t dim)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        cli_error("cannot create %s", path);
        return CLI_RUNTIME;
    }
    fputs(dim == 2 ? "index,x,y\n" : dim == 3 ? "index,r,g,b\n" : "index,values\n", f);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%zu", i);
        for (size_t j = 0; j < dim; j++)
            fprintf(f, ",%.9g", (double)x[i * dim + j]);
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        cli_error("cannot write %s", path);
        return CLI_RUNTIME;
    }
    return CLI_OK;
}

int cmd_sample(int argc, char **argv)
{
    static const struct option opts[] = {{"checkpoint", required_argument, NULL, 'c'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"n", required_argument, NULL, 'n'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"csv", required_argument, NULL, 'C'},
                                         {"backend", required_argument, NULL, 'B'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *ckpt = NULL, *out = NULL, *csv = NULL, *backend = NULL;
    size_t n = 64, seed = 0;
    int have_seed = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:o:n:s:C:B:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            ckpt = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'n':
            if (!cli_parse_size("--n", optarg, 1, 100000, &n))
                return CLI_USAGE;
            break;
        case 's':
            if (!cli_parse_size("--seed", optarg, 0, SIZE_MAX, &seed))
                return CLI_USAGE;
            have_seed = 1;
            break;
        case 'C':
            csv = optarg;
            break;
        case 'B':
            backend = optarg;
            break;
        case 'h':
            sample_usage(stdout);
            return CLI_OK;
        default: /* ':' missing value, '?' unknown option */
            return cli_option_error("sample", c, argv);
        }
    }
    if (optind < argc || !ckpt || !out) {
        cli_error("sample: want --checkpoint FILE and --out FILE, no other arguments (try clgan sample --help)");
        return CLI_USAGE;
    }
    clgan_checkpoint *ck = NULL;
    clgan_status s = clgan_checkpoint_read(ckpt, &ck);
    if (s != CLGAN_OK)
        return cli_status_error("cannot load the checkpoint", s);
    const struct clgan_train_config *cfg = clgan_checkpoint_config(ck);
    size_t h, w, ch;
    clgan_checkpoint_image_shape(ck, &h, &w, &ch);
    const size_t dim = clgan_checkpoint_data_dim(ck), zd = cfg->z_dim;
    if (csv && h) {
        clgan_checkpoint_free(ck);
        cli_error("sample: --csv is for point data sets; this checkpoint generates images");
        return CLI_USAGE;
    }
    clgan_backend *be = NULL;
    clgan_model *G = NULL;
    float *z = malloc(n * zd * sizeof *z), *x = malloc(n * dim * sizeof *x);
    int rc = CLI_OK;
    if (!z || !x) {
        cli_error("sample: out of memory");
        rc = CLI_RUNTIME;
        goto done;
    }
    if (cli_open_backend(backend, &be) != CLGAN_OK) {
        rc = CLI_RUNTIME;
        goto done;
    }
    const size_t block = n < 512 ? n : 512;
    s = clgan_checkpoint_models(ck, be, block, &G, NULL);
    if (s != CLGAN_OK) {
        rc = cli_status_error("cannot build the generator", s);
        goto done;
    }
    const uint64_t sd = have_seed ? (uint64_t)seed : cfg->seed;
    for (size_t i = 0; i < n * zd; i++)
        z[i] = clgan_philox_normal(sd, SAMPLE_STREAM, i);
    for (size_t off = 0; off < n && s == CLGAN_OK; off += block) {
        const size_t rows = n - off < block ? n - off : block;
        struct clgan_tensor zt, y;
        clgan_buffer *zb = NULL;
        const size_t dims[2] = {rows, zd};
        s = clgan_buffer_new(be, rows * zd * sizeof(float), &zb);
        if (s == CLGAN_OK)
            s = clgan_tensor_init(&zt, zb, 0, CLGAN_DTYPE_F32, 2, dims, "z");
        if (s == CLGAN_OK)
            s = clgan_tensor_write(&zt, z + off * zd, rows * zd);
        if (s == CLGAN_OK)
            s = clgan_model_forward(G, &zt, 0, &y);
        if (s == CLGAN_OK)
            s = clgan_tensor_read(&y, x + off * dim, rows * dim);
        clgan_buffer_free(zb);
    }
    if (s != CLGAN_OK) {
        rc = cli_status_error("sampling failed", s);
        goto done;
    }
    if (h) {
        s = clgan_grid_write(out, x, n, h, w, (int)ch, 0, 2);
    } else {
        struct clgan_dataset ds;
        s = clgan_dataset_builtin(cfg->data, cfg->data_seed, cfg->n_data, &ds);
        if (s == CLGAN_OK) {
            char title[160];
            snprintf(title, sizeof title, "%s, step %zu: %zu samples", cfg->data, clgan_checkpoint_step(ck), n);
            s = dim == 2 ? clgan_plot_scatter(out, &ds, x, n, title)
                         : clgan_plot_pixels(out, ds.x, ds.n, x, n, title);
            clgan_dataset_free(&ds);
        }
    }
    if (s != CLGAN_OK) {
        rc = cli_status_error("cannot write the picture", s);
        goto done;
    }
    if (csv && (rc = write_csv(csv, x, n, dim)) != CLI_OK)
        goto done;
    printf("%zu samples of %s (step %zu) on %s: %s%s%s\n", n, cfg->data, clgan_checkpoint_step(ck),
           clgan_backend_description(be), out, csv ? ", " : "", csv ? csv : "");
done:
    clgan_model_free(G);
    clgan_backend_free(be);
    clgan_checkpoint_free(ck);
    free(z);
    free(x);
    return rc;
}
