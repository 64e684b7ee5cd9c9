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
    double d_loss, g_loss, d_real, d_fake, steps_per_s; /* the last log line's */
};

static void show_progress(void *user, const struct clgan_train_progress *p)
{
    struct progress_state *ps = user;
    if (p->note) {
        if (ps->line_open)
            fputc('\n', stderr);
        ps->line_open = 0;
        fprintf(stderr, "clgan: %s\n", p->note);
        return;
    }
    if (p->logged) {
        ps->d_loss = p->d_loss;
        ps->g_loss = p->g_loss;
        ps->d_real = p->d_real;
        ps->d_fake = p->d_fake;
        ps->steps_per_s = p->steps_per_s;
    }
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
    return cli_train_resume(cfg, backend_spec, NULL, NULL);
}

int cli_train_resume(struct clgan_train_config *cfg, const char *backend_spec, const clgan_checkpoint *ck,
                     const char *ck_path)
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
     * device is opened. (Image sets are checked when the trainer loads
     * them: loading twice would cost seconds.) */
    const int image_set = !strcmp(cfg->data, "fashion-mnist") || !strcmp(cfg->data, "idx") ||
                          !strcmp(cfg->data, "folder");
    struct clgan_dataset ds;
    s = image_set ? CLGAN_OK : clgan_dataset_builtin(cfg->data, cfg->data_seed, cfg->n_data, &ds);
    if (image_set)
        memset(&ds, 0, sizeof ds), ds.n = SIZE_MAX;
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
    if (s == CLGAN_OK && ck) {
        s = clgan_trainer_restore(t, ck);
        if (s == CLGAN_OK)
            fprintf(stderr, "clgan: resuming from %s (step %zu of %zu)\n", ck_path, clgan_checkpoint_step(ck),
                    clgan_trainer_config(t)->steps);
        else
            s = CLGAN_EIO; /* not a usage error: the message says why */
    }
    if (s == CLGAN_OK && image_set) {
        const struct clgan_train_config *rc = clgan_trainer_config(t);
        const char *note = clgan_trainer_data_note(t);
        if (note[0])
            fprintf(stderr, "clgan: %s\n", note);
        fprintf(stderr, "clgan: training %s%s%s for %zu steps (%.2f epochs of %zu batches of %zu) on %s\n",
                cfg->data, cfg->data_path[0] ? " " : "", cfg->data_path, rc->steps,
                (double)rc->steps * (double)rc->d_steps / (double)clgan_trainer_batches_per_epoch(t),
                clgan_trainer_batches_per_epoch(t), rc->batch, clgan_backend_description(be));
    } else if (s == CLGAN_OK) {
        fprintf(stderr, "clgan: training %s for %zu steps on %s\n", cfg->data, cfg->steps,
                clgan_backend_description(be));
    }
    if (s == CLGAN_EINVAL || (s == CLGAN_ERANGE && !image_set)) {
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
    } else if (image_set) {
        printf("%s: %zu steps, last losses D %.4f G %.4f, D(x) %.3f D(G(z)) %.3f, %.1f steps/s\n",
               cfg->data, clgan_trainer_steps_done(t), ps.d_loss, ps.g_loss, ps.d_real, ps.d_fake,
               ps.steps_per_s);
        if (cfg->out_dir[0])
            printf("run folder: %s (config.json, log.csv, epoch_NNN.png, samples.png, curves.png, metrics.json)\n",
                   cfg->out_dir);
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
          "  --data SET          gray-pixels, ring8, grid25, fashion-mnist (Debian's\n"
          "                      dataset-fashion-mnist), idx:PATH (an idx image file,\n"
          "                      raw or .gz) or folder:PATH (PGM/PPM/PNG/JPEG images)\n"
          "  --labels PATH       idx: its labels file (default: the matching name, if any)\n"
          "  --size N            folder: side of the square images (default 32)\n"
          "  --channels C        folder: 1 (gray, default) or 3 (RGB)\n"
          "  --n-data N          image sets: use the first N images\n"
          "  --epochs E          train E passes over the data (instead of --steps)\n"
          "  --sample-every K    image sets: a sample grid every K steps too\n"
          "  --model M           image sets: mlp (default) or dcgan (square images of\n"
          "                      side 28, 32 or 64: --size for folders)\n"
          "  --nz N              size of the noise z (default 100 for image sets)\n"
          "  --ngf N, --ndf N    dcgan: base channels of G and D (default 64)\n"
          "  --out DIR           run folder (created)\n"
          "  --steps N           G steps (instead of --epochs)\n"
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
          "  --checkpoint-every N  a checkpoint every N steps (and always at the end)\n"
          "  --keep K            keep the newest K checkpoints (default 3)\n"
          "  --on-nan ACTION     stop (default: exit 3 naming the step and network) or\n"
          "                      rollback (reload the last checkpoint, halve the rates)\n"
          "  --resume DIR        continue the run in DIR from its newest checkpoint with\n"
          "                      its saved config, up to --steps N or --epochs E in all\n"
          "  -h, --help          this help\n"
          "\n"
          "Exit status: 0 done, 2 bad command line, 3 could not run (also a NaN or Inf\n"
          "in a loss or gradient).\n",
          f);
}

enum { OPT_LR_G = 256, OPT_LR_D, OPT_LABEL_SMOOTH, OPT_LOG_EVERY, OPT_PACK, OPT_OPTIM, OPT_LABELS,
       OPT_SIZE, OPT_CHANNELS, OPT_N_DATA, OPT_EPOCHS, OPT_SAMPLE_EVERY, OPT_CKPT_EVERY, OPT_KEEP,
       OPT_ON_NAN, OPT_RESUME, OPT_MODEL, OPT_NZ, OPT_NGF, OPT_NDF };

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
                                         {"labels", required_argument, NULL, OPT_LABELS},
                                         {"size", required_argument, NULL, OPT_SIZE},
                                         {"channels", required_argument, NULL, OPT_CHANNELS},
                                         {"n-data", required_argument, NULL, OPT_N_DATA},
                                         {"epochs", required_argument, NULL, OPT_EPOCHS},
                                         {"sample-every", required_argument, NULL, OPT_SAMPLE_EVERY},
                                         {"checkpoint-every", required_argument, NULL, OPT_CKPT_EVERY},
                                         {"keep", required_argument, NULL, OPT_KEEP},
                                         {"on-nan", required_argument, NULL, OPT_ON_NAN},
                                         {"resume", required_argument, NULL, OPT_RESUME},
                                         {"model", required_argument, NULL, OPT_MODEL},
                                         {"nz", required_argument, NULL, OPT_NZ},
                                         {"ngf", required_argument, NULL, OPT_NGF},
                                         {"ndf", required_argument, NULL, OPT_NDF},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    /* Options are collected first, then laid over the data set's recipe. */
    const char *data = NULL, *out = NULL, *backend = NULL, *loss = NULL, *optim = NULL;
    size_t steps = 0, batch = 0, d_steps = 0, pack = 0, seed = 0, log_every = 0;
    int have_seed = 0;
    const char *labels = NULL;
    size_t img_size = 0, channels = 0, n_data = 0, epochs = 0, sample_every = 0;
    float lr = 0, lr_g = 0, lr_d = 0, smooth = 0;
    int have_lr = 0, have_lr_g = 0, have_lr_d = 0, have_smooth = 0;
    size_t ckpt_every = 0, keep = 0;
    int have_ckpt_every = 0, on_nan = -1, n_recipe = 0; /* n_recipe: flags that --resume refuses */
    const char *resume = NULL;
    int model = -1;
    size_t nz = 0, ngf = 0, ndf = 0;
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
        case OPT_LABELS:
            labels = optarg;
            break;
        case OPT_SIZE:
            if (!cli_parse_size("--size", optarg, 1, 1024, &img_size))
                return CLI_USAGE;
            break;
        case OPT_CHANNELS:
            if (!cli_parse_size("--channels", optarg, 1, 3, &channels) || channels == 2) {
                if (channels == 2)
                    cli_error("--channels must be 1 or 3");
                return CLI_USAGE;
            }
            break;
        case OPT_N_DATA:
            if (!cli_parse_size("--n-data", optarg, 1, (size_t)1 << 26, &n_data))
                return CLI_USAGE;
            break;
        case OPT_EPOCHS:
            if (!cli_parse_size("--epochs", optarg, 1, 100000, &epochs))
                return CLI_USAGE;
            break;
        case OPT_SAMPLE_EVERY:
            if (!cli_parse_size("--sample-every", optarg, 1, (size_t)1 << 40, &sample_every))
                return CLI_USAGE;
            break;
        case OPT_CKPT_EVERY:
            if (!cli_parse_size("--checkpoint-every", optarg, 1, (size_t)1 << 40, &ckpt_every))
                return CLI_USAGE;
            have_ckpt_every = 1;
            break;
        case OPT_KEEP:
            if (!cli_parse_size("--keep", optarg, 1, 1000000, &keep))
                return CLI_USAGE;
            break;
        case OPT_ON_NAN:
            if (!strcmp(optarg, "stop"))
                on_nan = CLGAN_ON_NAN_STOP;
            else if (!strcmp(optarg, "rollback"))
                on_nan = CLGAN_ON_NAN_ROLLBACK;
            else {
                cli_error("--on-nan wants stop or rollback, not '%s'", optarg);
                return CLI_USAGE;
            }
            break;
        case OPT_RESUME:
            resume = optarg;
            break;
        case OPT_MODEL:
            if (!strcmp(optarg, "mlp"))
                model = CLGAN_MODEL_MLP;
            else if (!strcmp(optarg, "dcgan"))
                model = CLGAN_MODEL_DCGAN;
            else {
                cli_error("--model wants mlp or dcgan, not '%s'", optarg);
                return CLI_USAGE;
            }
            break;
        case OPT_NZ:
            if (!cli_parse_size("--nz", optarg, 1, 65536, &nz))
                return CLI_USAGE;
            break;
        case OPT_NGF:
            if (!cli_parse_size("--ngf", optarg, 1, 1024, &ngf))
                return CLI_USAGE;
            break;
        case OPT_NDF:
            if (!cli_parse_size("--ndf", optarg, 1, 1024, &ndf))
                return CLI_USAGE;
            break;
        case 'h':
            train_usage(stdout);
            return CLI_OK;
        default: /* ':' missing value, '?' unknown option */
            return cli_option_error("train", c, argv);
        }
    }
    if (optind < argc) {
        cli_error("train takes no arguments ('%s'; try clgan train --help)", argv[optind]);
        return CLI_USAGE;
    }
    n_recipe = !!data + !!out + !!loss + !!optim + !!batch + !!d_steps + !!pack + have_seed + have_lr +
               have_lr_g + have_lr_d + have_smooth + !!labels + !!img_size + !!channels + !!n_data +
               !!sample_every + !!log_every + (model >= 0) + !!nz + !!ngf + !!ndf;
    if (resume) {
        if (n_recipe) {
            cli_error("train: --resume continues a run with its saved config: only --steps, --epochs, "
                      "--backend, --checkpoint-every, --keep and --on-nan may go with it");
            return CLI_USAGE;
        }
        if (steps && epochs) {
            cli_error("train: give --steps or --epochs, not both");
            return CLI_USAGE;
        }
        char path[4096];
        clgan_checkpoint *ck = NULL;
        clgan_status s = clgan_checkpoint_latest(resume, path, sizeof path);
        if (s == CLGAN_OK)
            s = clgan_checkpoint_read(path, &ck);
        if (s != CLGAN_OK)
            return cli_status_error("cannot resume", s);
        struct clgan_train_config cfg = *clgan_checkpoint_config(ck);
        if (strlen(resume) >= sizeof cfg.out_dir) {
            clgan_checkpoint_free(ck);
            cli_error("train: --resume path too long");
            return CLI_USAGE;
        }
        snprintf(cfg.out_dir, sizeof cfg.out_dir, "%s", resume);
        if (steps) {
            cfg.steps = steps;
            cfg.epochs = 0;
        } else if (epochs) {
            cfg.epochs = epochs;
        }
        if (have_ckpt_every)
            cfg.checkpoint_every = ckpt_every;
        if (keep)
            cfg.keep_checkpoints = keep;
        if (on_nan >= 0)
            cfg.on_nan = (enum clgan_on_nan)on_nan;
        int rc = cli_train_resume(&cfg, backend, ck, path);
        clgan_checkpoint_free(ck);
        return rc;
    }
    if (!data) {
        cli_error("train: --data is required (gray-pixels, ring8 or grid25)");
        return CLI_USAGE;
    }
    if (!out) {
        cli_error("train: --out DIR is required");
        return CLI_USAGE;
    }
    /* "idx:PATH" and "folder:PATH" carry their path after the colon. */
    const char *colon = strchr(data, ':'), *path = NULL;
    char kind[32];
    if (colon && (size_t)(colon - data) < sizeof kind) {
        snprintf(kind, sizeof kind, "%.*s", (int)(colon - data), data);
        path = colon + 1;
        data = kind;
        if ((strcmp(kind, "idx") && strcmp(kind, "folder")) || !*path) {
            cli_error("train: --data %s%s: want idx:PATH or folder:PATH", kind, colon);
            return CLI_USAGE;
        }
    } else if (!strcmp(data, "idx") || !strcmp(data, "folder")) {
        cli_error("train: --data %s needs a path (%s:PATH)", data, data);
        return CLI_USAGE;
    }
    if (steps && epochs) {
        cli_error("train: give --steps or --epochs, not both");
        return CLI_USAGE;
    }
    struct clgan_train_config cfg;
    if (clgan_train_config_defaults(&cfg, data) != CLGAN_OK) {
        cli_error("train: %s", clgan_last_error());
        return CLI_USAGE;
    }
    if ((path && strlen(path) >= sizeof cfg.data_path) || (labels && strlen(labels) >= sizeof cfg.labels_path)) {
        cli_error("train: data or labels path too long");
        return CLI_USAGE;
    }
    if (path)
        snprintf(cfg.data_path, sizeof cfg.data_path, "%s", path);
    if (labels)
        snprintf(cfg.labels_path, sizeof cfg.labels_path, "%s", labels);
    if (img_size)
        cfg.image_size = img_size;
    if (channels)
        cfg.image_channels = channels;
    if (n_data)
        cfg.n_data = n_data;
    if (sample_every)
        cfg.picture_every = sample_every;
    if (epochs) {
        cfg.epochs = epochs;
        cfg.steps = 0;
    }
    if (strlen(out) == 0 || strlen(out) >= sizeof cfg.out_dir) {
        cli_error("train: --out must name a folder (at most %zu characters)", sizeof cfg.out_dir - 1);
        return CLI_USAGE;
    }
    snprintf(cfg.out_dir, sizeof cfg.out_dir, "%s", out);
    if (steps) {
        cfg.steps = steps;
        cfg.epochs = 0;
    }
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
    if (have_ckpt_every)
        cfg.checkpoint_every = ckpt_every;
    if (keep)
        cfg.keep_checkpoints = keep;
    if (on_nan >= 0)
        cfg.on_nan = (enum clgan_on_nan)on_nan;
    if (model >= 0)
        cfg.model = (enum clgan_model_kind)model;
    if (nz)
        cfg.z_dim = nz;
    if (ngf)
        cfg.ngf = ngf;
    if (ndf)
        cfg.ndf = ndf;
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
