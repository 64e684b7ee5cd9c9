/* cmd_train.c: `clgan train`: trains a GAN on a built-in data set with the
 * data set's default recipe, any flag overriding it, and writes the run
 * folder. One live progress line on a terminal, plain log lines otherwise. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd_train.h"
#include "clgan/data.h"

struct progress_state {
    int tty;
    int line_open;  /* a \r line is on screen */
};

static void show_progress(void *user, const struct clgan_train_progress *p)
{
    struct progress_state *ps = user;
    if (ps->tty) {
        fprintf(stderr, "\r\033[Kstep %zu/%zu  D %.4f  G %.4f  D(x) %.3f  D(G(z)) %.3f  %.0f steps/s  ETA %.0fs",
                p->step, p->steps, p->d_loss, p->g_loss, p->d_real, p->d_fake, p->steps_per_s,
                p->eta_s);
        if (p->metrics && p->metrics[0])
            fprintf(stderr, "  %s", p->metrics);
        ps->line_open = 1;
        fflush(stderr);
    } else if (p->logged) {
        fprintf(stderr, "step %zu/%zu d_loss %.4f g_loss %.4f d_real %.3f d_fake %.3f %.0f steps/s%s%s\n",
                p->step, p->steps, p->d_loss, p->g_loss, p->d_real, p->d_fake, p->steps_per_s,
                p->metrics && p->metrics[0] ? " " : "", p->metrics ? p->metrics : "");
    }
}

int cli_train_run(struct clgan_train_config *cfg, const char *backend_spec)
{
    struct progress_state ps = {.tty = isatty(fileno(stderr))};
    cfg->progress = show_progress;
    cfg->progress_user = &ps;
    clgan_status s = clgan_train_config_check(cfg);
    if (s != CLGAN_OK) {
        cli_error("%s", clgan_last_error());
        return CLI_USAGE;
    }
    /* A batch larger than the data set is a bad value: say so before any
     * device is opened. */
    struct clgan_dataset ds;
    s = clgan_dataset_builtin(cfg->data, cfg->data_seed, cfg->n_data, &ds);
    if (s != CLGAN_OK)
        return cli_status_error("cannot build the data set", s);
    size_t n_points = ds.n;
    clgan_dataset_free(&ds);
    if (cfg->batch > n_points) {
        cli_error("train: --batch %zu is larger than the data set (%zu points of %s)", cfg->batch,
                  n_points, cfg->data);
        return CLI_USAGE;
    }
    clgan_backend *be = NULL;
    if (cli_open_backend(backend_spec, &be) != CLGAN_OK)
        return CLI_RUNTIME;
    clgan_trainer *t = NULL;
    s = clgan_trainer_new(cfg, be, &t);
    if (s == CLGAN_OK)
        fprintf(stderr, "clgan: training %s for %zu steps on %s\n", cfg->data, cfg->steps,
                clgan_backend_description(be));
    if (s == CLGAN_EINVAL || s == CLGAN_ERANGE) {
        cli_error("%s", clgan_last_error());
        clgan_backend_free(be);
        return CLI_USAGE;
    }
    if (s != CLGAN_OK) {
        clgan_backend_free(be);
        return cli_status_error("cannot set up training", s);
    }
    s = clgan_trainer_run(t);
    if (ps.line_open)
        fputc('\n', stderr);
    int rc = CLI_OK;
    if (s != CLGAN_OK) {
        rc = cli_status_error("training failed", s);
    } else {
        struct clgan_train_metrics m;
        s = clgan_trainer_metrics(t, &m);
        if (s != CLGAN_OK)
            rc = cli_status_error("cannot measure the result", s);
        else if (m.point_set)
            printf("%s: %zu/%zu modes, %.1f%% high-quality samples, reverse KL %.3f\n", cfg->data,
                   m.modes_captured, m.modes_total, 100.0 * m.high_quality_frac, m.reverse_kl);
        else
            printf("%s: generated mean (%.3f, %.3f, %.3f), data (%.3f, %.3f, %.3f): max mean error %.4f, max covariance error %.5f, energy distance %.4f (train vs held-out %.4f)\n",
                   cfg->data, m.mean_gen[0], m.mean_gen[1], m.mean_gen[2], m.mean_real[0],
                   m.mean_real[1], m.mean_real[2], m.max_mean_err, m.max_cov_err,
                   m.energy_gen_heldout, m.energy_train_heldout);
        if (rc == CLI_OK && cfg->out_dir[0])
            printf("run folder: %s (config.json, log.csv, samples.png, curves.png, metrics.json, samples.csv)\n",
                   cfg->out_dir);
    }
    clgan_trainer_free(t);
    clgan_backend_free(be);
    return rc;
}

/* A float option: finite, else an error line and 0. */
static int parse_float(const char *opt, const char *text, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v)) {
        cli_error("%s wants a number, not '%s'", opt, text);
        return 0;
    }
    *out = (float)v;
    return 1;
}

static void train_usage(FILE *f)
{
    fputs("usage: clgan train --data SET --out DIR [OPTIONS]\n"
          "\n"
          "Trains a GAN on a built-in data set with the set's tuned default recipe;\n"
          "any option below overrides it. Writes into DIR: config.json, log.csv,\n"
          "sample pictures over time (samples_STEP.png) and at the end (samples.png),\n"
          "curves.png, metrics.json and samples.csv (the final generated points).\n"
          "\n"
          "  --data SET          gray-pixels, ring8 or grid25\n"
          "  --out DIR           run folder (created)\n"
          "  --steps N           G steps\n"
          "  --batch B           real points per D step\n"
          "  --lr X              learning rate of G and D (--lr-g, --lr-d: one of them)\n"
          "  --loss L            ns (non-saturating), minimax, lsgan or hinge\n"
          "  --d-steps K         D steps per G step\n"
          "  --pack M            PacGAN packing: D judges M points at once\n"
          "  --optim O           adam or sgd (momentum 0.9)\n"
          "  --label-smooth S    real label 1-S for D (BCE losses)\n"
          "  --seed S            seed of weights, noise and data order\n"
          "  --log-every N       log line and metrics every N steps\n"
          "  --backend SPEC      auto, cpu, opencl[:P[:D]] (default $CLGAN_BACKEND or auto)\n"
          "  -h, --help          this help\n"
          "\n"
          "Exit status: 0 done, 2 bad command line, 3 could not run.\n",
          f);
}

enum { OPT_LR_G = 256, OPT_LR_D, OPT_LABEL_SMOOTH, OPT_LOG_EVERY, OPT_PACK, OPT_OPTIM };

int cmd_train(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"steps", required_argument, NULL, 'n'},
                                         {"batch", required_argument, NULL, 'b'},
                                         {"lr", required_argument, NULL, 'l'},
                                         {"lr-g", required_argument, NULL, OPT_LR_G},
                                         {"lr-d", required_argument, NULL, OPT_LR_D},
                                         {"loss", required_argument, NULL, 'L'},
                                         {"d-steps", required_argument, NULL, 'k'},
                                         {"pack", required_argument, NULL, OPT_PACK},
                                         {"optim", required_argument, NULL, OPT_OPTIM},
                                         {"label-smooth", required_argument, NULL, OPT_LABEL_SMOOTH},
                                         {"seed", required_argument, NULL, 's'},
                                         {"log-every", required_argument, NULL, OPT_LOG_EVERY},
                                         {"backend", required_argument, NULL, 'B'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    /* Options are collected first, then laid over the data set's recipe. */
    const char *data = NULL, *out = NULL, *backend = NULL, *loss = NULL, *optim = NULL;
    size_t steps = 0, batch = 0, d_steps = 0, pack = 0, seed = 0, log_every = 0;
    int have_seed = 0;
    float lr = 0, lr_g = 0, lr_d = 0, smooth = 0;
    int have_lr = 0, have_lr_g = 0, have_lr_d = 0, have_smooth = 0;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:o:n:b:l:L:k:s:B:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'n':
            if (!cli_parse_size("--steps", optarg, 1, (size_t)1 << 40, &steps))
                return CLI_USAGE;
            break;
        case 'b':
            if (!cli_parse_size("--batch", optarg, 1, (size_t)1 << 20, &batch))
                return CLI_USAGE;
            break;
        case 'l':
            if (!parse_float("--lr", optarg, &lr))
                return CLI_USAGE;
            have_lr = 1;
            break;
        case OPT_LR_G:
            if (!parse_float("--lr-g", optarg, &lr_g))
                return CLI_USAGE;
            have_lr_g = 1;
            break;
        case OPT_LR_D:
            if (!parse_float("--lr-d", optarg, &lr_d))
                return CLI_USAGE;
            have_lr_d = 1;
            break;
        case 'L':
            loss = optarg;
            break;
        case 'k':
            if (!cli_parse_size("--d-steps", optarg, 1, 100, &d_steps))
                return CLI_USAGE;
            break;
        case OPT_PACK:
            if (!cli_parse_size("--pack", optarg, 1, 16, &pack))
                return CLI_USAGE;
            break;
        case OPT_OPTIM:
            optim = optarg;
            break;
        case OPT_LABEL_SMOOTH:
            if (!parse_float("--label-smooth", optarg, &smooth))
                return CLI_USAGE;
            have_smooth = 1;
            break;
        case 's':
            if (!cli_parse_size("--seed", optarg, 0, SIZE_MAX, &seed))
                return CLI_USAGE;
            have_seed = 1;
            break;
        case OPT_LOG_EVERY:
            if (!cli_parse_size("--log-every", optarg, 1, (size_t)1 << 40, &log_every))
                return CLI_USAGE;
            break;
        case 'B':
            backend = optarg;
            break;
        case 'h':
            train_usage(stdout);
            return CLI_OK;
        case ':':
            cli_error("train: option %s needs a value (try clgan train --help)", argv[optind - 1]);
            return CLI_USAGE;
        default:
            cli_error("train: unknown option '%s' (try clgan train --help)", argv[optind - 1]);
            return CLI_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("train takes no arguments ('%s'; try clgan train --help)", argv[optind]);
        return CLI_USAGE;
    }
    if (!data) {
        cli_error("train: --data is required (gray-pixels, ring8 or grid25)");
        return CLI_USAGE;
    }
    if (!out) {
        cli_error("train: --out DIR is required");
        return CLI_USAGE;
    }
    struct clgan_train_config cfg;
    if (clgan_train_config_defaults(&cfg, data) != CLGAN_OK) {
        cli_error("train: %s", clgan_last_error());
        return CLI_USAGE;
    }
    if (strlen(out) == 0 || strlen(out) >= sizeof cfg.out_dir) {
        cli_error("train: --out must name a folder (at most %zu characters)", sizeof cfg.out_dir - 1);
        return CLI_USAGE;
    }
    snprintf(cfg.out_dir, sizeof cfg.out_dir, "%s", out);
    if (steps)
        cfg.steps = steps;
    if (batch)
        cfg.batch = batch;
    if (d_steps)
        cfg.d_steps = d_steps;
    if (pack)
        cfg.pack = pack;
    if (have_seed)
        cfg.seed = seed;
    if (log_every)
        cfg.log_every = log_every;
    if (have_smooth)
        cfg.label_smooth = smooth;
    if (have_lr)
        cfg.lr_g = cfg.lr_d = lr;
    if (have_lr_g)
        cfg.lr_g = lr_g;
    if (have_lr_d)
        cfg.lr_d = lr_d;
    if ((have_lr || have_lr_g || have_lr_d) && !(cfg.lr_g > 0 && cfg.lr_d > 0)) {
        cli_error("train: learning rates must be > 0");
        return CLI_USAGE;
    }
    if (loss && clgan_loss_parse(loss, &cfg.loss) != CLGAN_OK) {
        cli_error("train: %s", clgan_last_error());
        return CLI_USAGE;
    }
    if (optim) {
        if (!strcmp(optim, "adam"))
            cfg.optim = CLGAN_OPTIM_ADAM;
        else if (!strcmp(optim, "sgd"))
            cfg.optim = CLGAN_OPTIM_SGD;
        else {
            cli_error("train: unknown optimizer '%s' (adam or sgd)", optim);
            return CLI_USAGE;
        }
    }
    if (batch && !pack && cfg.batch % cfg.pack) {
        cli_error("train: --batch %zu must be a multiple of the pack size %zu (or set --pack)",
                  cfg.batch, cfg.pack);
        return CLI_USAGE;
    }
    return cli_train_run(&cfg, backend);
}
