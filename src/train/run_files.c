/* run_files.c: what a training run leaves in its folder: config.json (the
 * resolved configuration), log.csv (one row per log interval), sample
 * pictures over time and at the end, curves.png from the log, metrics.json
 * and, for point data sets, samples.csv with the final generated points. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "backend/backend_impl.h"
#include "train/train_internal.h"

clgan_status train_path(const clgan_trainer *t, const char *name, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/%s", t->cfg.out_dir, name);
    if (n < 0 || (size_t)n >= size)
        return clgan_set_error(CLGAN_ERANGE, "run folder path too long: %s/%s", t->cfg.out_dir, name);
    return CLGAN_OK;
}

/* mkdir -p: creates dir and its missing parents. */
static clgan_status make_dirs(const char *dir)
{
    char p[sizeof ((struct clgan_train_config *)0)->out_dir];
    snprintf(p, sizeof p, "%s", dir);
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char keep = *s;
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST)
                return clgan_set_error(CLGAN_EIO, "cannot create folder %s: %s", p, strerror(errno));
            *s = keep;
            if (!keep)
                break;
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return clgan_set_error(CLGAN_EIO, "%s is not a folder", dir);
    return CLGAN_OK;
}

/* A JSON string literal (quotes, backslashes and control bytes escaped). */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* A number for CSV/JSON: "nan" in CSV (JSON: null) when not finite. */
static void num(FILE *f, double v, int json)
{
    if (isfinite(v))
        fprintf(f, "%.9g", v);
    else
        fputs(json ? "null" : "nan", f);
}

static const char *kind_name(enum clgan_layer_kind k)
{
    switch (k) {
    case CLGAN_LAYER_SIGMOID:
        return "sigmoid";
    case CLGAN_LAYER_TANH:
        return "tanh";
    case CLGAN_LAYER_LINEAR:
    case CLGAN_LAYER_RELU:
    case CLGAN_LAYER_LEAKY_RELU:
    case CLGAN_LAYER_DROPOUT:
    case CLGAN_LAYER_CONV2D:
    case CLGAN_LAYER_CONV_TRANSPOSE2D:
    case CLGAN_LAYER_BATCHNORM:
        break;
    }
    return "linear";
}

static clgan_status close_checked(FILE *f, const char *path)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return clgan_set_error(CLGAN_EIO, "cannot write %s", path);
    return CLGAN_OK;
}

static clgan_status write_config(clgan_trainer *t)
{
    const struct clgan_train_config *c = &t->cfg;
    char path[sizeof c->out_dir + 32];
    clgan_status s = train_path(t, "config.json", path, sizeof path);
    if (s != CLGAN_OK)
        return s;
    FILE *f = fopen(path, "w");
    if (!f)
        return clgan_set_error(CLGAN_EIO, "cannot create %s: %s", path, strerror(errno));
    fputs("{\n  \"data\": ", f);
    json_str(f, c->data);
    fprintf(f, ",\n  \"n_data\": %zu,\n  \"data_seed\": %llu,\n", t->ds.n,
            (unsigned long long)c->data_seed);
    fprintf(f, "  \"steps\": %zu,\n  \"batch\": %zu,\n  \"d_steps\": %zu,\n  \"pack\": %zu,\n",
            c->steps, c->batch, c->d_steps, c->pack);
    fprintf(f, "  \"z_dim\": %zu,\n  \"g_hidden\": %zu,\n  \"g_layers\": %zu,\n  \"d_hidden\": %zu,\n"
               "  \"d_layers\": %zu,\n",
            c->z_dim, c->g_hidden, c->g_layers, c->d_hidden, c->d_layers);
    fprintf(f, "  \"leaky_slope\": %.9g,\n  \"g_out\": \"%s\",\n  \"loss\": \"%s\",\n"
               "  \"label_smooth\": %.9g,\n  \"g_ema\": %.9g,\n",
            (double)c->leaky_slope, kind_name(c->g_out), clgan_loss_name(c->loss),
            (double)c->label_smooth, (double)c->g_ema);
    fprintf(f, "  \"optimizer\": \"%s\",\n  \"lr_g\": %.9g,\n  \"lr_d\": %.9g,\n  \"beta1\": %.9g,\n"
               "  \"beta2\": %.9g,\n  \"eps\": %.9g,\n  \"momentum\": %.9g,\n  \"lr_end\": %.9g,\n",
            c->optim == CLGAN_OPTIM_ADAM ? "adam" : "sgd", (double)c->lr_g, (double)c->lr_d,
            (double)c->beta1, (double)c->beta2, (double)c->eps, (double)c->momentum,
            (double)c->lr_end);
    if (t->image_set) {
        fputs("  \"data_path\": ", f);
        json_str(f, c->data_path);
        fprintf(f, ",\n  \"image\": [%zu, %zu, %zu],\n  \"epochs\": %zu,\n  \"model\": \"%s\",\n"
                   "  \"ngf\": %zu,\n  \"ndf\": %zu,\n  \"g_units\": [",
                t->ds.height, t->ds.width, t->ds.channels, c->epochs,
                c->model == CLGAN_MODEL_DCGAN ? "dcgan" : "mlp", c->ngf, c->ndf);
        for (int net = 0; net < 2; net++) {
            const size_t *u = net ? c->d_units : c->g_units;
            for (size_t i = 0; i < 8 && u[i]; i++)
                fprintf(f, "%s%zu", i ? ", " : "", u[i]);
            fputs(net ? "],\n" : "],\n  \"d_units\": [", f);
        }
    }
    fprintf(f, "  \"seed\": %llu,\n  \"log_every\": %zu,\n  \"picture_every\": %zu,\n"
               "  \"n_samples\": %zu,\n  \"backend\": ",
            (unsigned long long)c->seed, c->log_every, c->picture_every, c->n_samples);
    json_str(f, clgan_backend_description(t->be));
    fputs("\n}\n", f);
    return close_checked(f, path);
}

/* A resumed run: log.csv keeps its header and the rows up to the
 * checkpoint's step (a killed run may have logged past it), rewritten
 * through a temp file, then the new rows follow. */
static clgan_status continue_log(clgan_trainer *t, const char *path)
{
    char tmp[sizeof t->cfg.out_dir + 48];
    clgan_status s = train_path(t, ".log.csv.tmp", tmp, sizeof tmp);
    if (s != CLGAN_OK)
        return s;
    FILE *in = fopen(path, "r"), *out = fopen(tmp, "w");
    if (!out) {
        if (in)
            fclose(in);
        return clgan_set_error(CLGAN_EIO, "cannot create %s: %s", tmp, strerror(errno));
    }
    char line[4096];
    int first = 1;
    while (in && fgets(line, sizeof line, in)) {
        if (!strchr(line, '\n'))
            break; /* a torn last line */
        unsigned long long step;
        if (first || (sscanf(line, "%llu,", &step) == 1 && step <= t->step))
            fputs(line, out);
        first = 0;
    }
    if (in)
        fclose(in);
    if (first) {
        /* no log to continue: a fresh header */
        fputs("step,d_loss,g_loss,d_real,d_fake,", out);
        fputs(t->image_set ? "epoch," : t->point_set ? "modes,hq,reverse_kl," : "mean_err,cov_err,energy,", out);
        fputs("steps_per_s\n", out);
    }
    if ((s = close_checked(out, tmp)) != CLGAN_OK)
        return s;
    if (rename(tmp, path) != 0)
        return clgan_set_error(CLGAN_EIO, "cannot rename %s: %s", tmp, strerror(errno));
    t->log = fopen(path, "a");
    if (!t->log)
        return clgan_set_error(CLGAN_EIO, "cannot append to %s: %s", path, strerror(errno));
    return CLGAN_OK;
}

clgan_status train_files_event(clgan_trainer *t, const char *line)
{
    if (!t->cfg.out_dir[0])
        return CLGAN_OK;
    char path[sizeof t->cfg.out_dir + 32];
    clgan_status s = train_path(t, "events.log", path, sizeof path);
    if (s != CLGAN_OK)
        return s;
    FILE *f = fopen(path, "a");
    if (!f)
        return clgan_set_error(CLGAN_EIO, "cannot append to %s: %s", path, strerror(errno));
    fprintf(f, "%s\n", line);
    return close_checked(f, path);
}

clgan_status train_files_begin(clgan_trainer *t)
{
    if (!t->cfg.out_dir[0])
        return CLGAN_OK;
    clgan_status s = make_dirs(t->cfg.out_dir);
    if (s == CLGAN_OK)
        s = write_config(t);
    if (s != CLGAN_OK)
        return s;
    char path[sizeof t->cfg.out_dir + 32];
    if ((s = train_path(t, "log.csv", path, sizeof path)) != CLGAN_OK)
        return s;
    train_files_close(t);
    if (t->resumed)
        return continue_log(t, path);
    t->log = fopen(path, "w");
    if (!t->log)
        return clgan_set_error(CLGAN_EIO, "cannot create %s: %s", path, strerror(errno));
    fputs("step,d_loss,g_loss,d_real,d_fake,", t->log);
    fputs(t->image_set ? "epoch," : t->point_set ? "modes,hq,reverse_kl," : "mean_err,cov_err,energy,",
          t->log);
    fputs("steps_per_s\n", t->log);
    fflush(t->log);
    return CLGAN_OK;
}

clgan_status train_files_log(clgan_trainer *t, const struct clgan_train_progress *p)
{
    if (!t->log)
        return CLGAN_OK;
    const struct clgan_train_metrics *m = &t->last_metrics;
    FILE *f = t->log;
    fprintf(f, "%zu,", p->step);
    const double v[4] = {p->d_loss, p->g_loss, p->d_real, p->d_fake};
    for (int i = 0; i < 4; i++) {
        num(f, v[i], 0);
        fputc(',', f);
    }
    if (t->image_set) {
        fprintf(f, "%.4f", (double)t->batch_no / (double)t->batches_per_epoch);
    } else if (t->point_set) {
        fprintf(f, "%zu,", m->modes_captured);
        num(f, m->high_quality_frac, 0);
        fputc(',', f);
        num(f, m->reverse_kl, 0);
    } else {
        num(f, m->max_mean_err, 0);
        fputc(',', f);
        num(f, m->max_cov_err, 0);
        fputc(',', f);
        num(f, m->energy_gen_heldout, 0);
    }
    fputc(',', f);
    num(f, p->steps_per_s, 0);
    fputc('\n', f);
    if (fflush(f) != 0 || ferror(f))
        return clgan_set_error(CLGAN_EIO, "cannot write %s/log.csv: %s", t->cfg.out_dir,
                               strerror(errno));
    return CLGAN_OK;
}

clgan_status train_files_pictures(clgan_trainer *t, const char *name)
{
    if (!t->cfg.out_dir[0])
        return CLGAN_OK;
    if (!t->have_metrics) {
        struct clgan_train_metrics m;
        clgan_status s = train_measure(t, &m);
        if (s != CLGAN_OK)
            return s;
    }
    char path[sizeof t->cfg.out_dir + 64], title[256];
    clgan_status s = train_path(t, name, path, sizeof path);
    if (s != CLGAN_OK)
        return s;
    snprintf(title, sizeof title, "%s, step %zu: %s", t->cfg.data, t->step, t->metrics_text);
    if (t->image_set)
        s = clgan_grid_write(path, t->samples, t->cfg.n_samples, t->ds.height, t->ds.width,
                             (int)t->ds.channels, 0, 2);
    else if (t->point_set)
        s = clgan_plot_scatter(path, &t->ds, t->samples, t->cfg.n_samples, title);
    else
        s = clgan_plot_pixels(path, t->ds.x, t->ds.n, t->samples, t->cfg.n_samples, title);
    if (s != CLGAN_OK || !t->log)
        return s;
    /* The curves so far, from the log on disk. */
    char csv[sizeof t->cfg.out_dir + 32];
    if ((s = train_path(t, "curves.png", path, sizeof path)) != CLGAN_OK ||
        (s = train_path(t, "log.csv", csv, sizeof csv)) != CLGAN_OK)
        return s;
    static const char *const point_cols[] = {"d_loss+g_loss", "d_real+d_fake", "modes", "hq"};
    static const char *const pixel_cols[] = {"d_loss+g_loss", "d_real+d_fake", "mean_err", "energy"};
    static const char *const image_cols[] = {"d_loss+g_loss", "d_real+d_fake"};
    snprintf(title, sizeof title, "%s: losses and metrics", t->cfg.data);
    if (t->image_set)
        return clgan_plot_csv(path, csv, image_cols, 2, title);
    return clgan_plot_csv(path, csv, t->point_set ? point_cols : pixel_cols, 4, title);
}

static clgan_status write_metrics(clgan_trainer *t)
{
    char path[sizeof t->cfg.out_dir + 32];
    clgan_status s = train_path(t, "metrics.json", path, sizeof path);
    if (s != CLGAN_OK)
        return s;
    const struct clgan_train_metrics *m = &t->last_metrics;
    FILE *f = fopen(path, "w");
    if (!f)
        return clgan_set_error(CLGAN_EIO, "cannot create %s: %s", path, strerror(errno));
    fputs("{\n  \"data\": ", f);
    json_str(f, t->cfg.data);
    fprintf(f, ",\n  \"step\": %zu,\n  \"samples\": %zu,\n", t->step, t->cfg.n_samples);
    if (t->image_set) {
        fprintf(f, "  \"epochs_done\": %.6f,\n  \"images\": %zu,\n  \"data_note\": ",
                (double)t->batch_no / (double)t->batches_per_epoch, t->ds.n);
        json_str(f, t->data_report.note);
    } else if (m->point_set) {
        fprintf(f, "  \"modes_total\": %zu,\n  \"modes_captured\": %zu,\n", m->modes_total,
                m->modes_captured);
        fputs("  \"high_quality_frac\": ", f);
        num(f, m->high_quality_frac, 1);
        fputs(",\n  \"reverse_kl\": ", f);
        num(f, m->reverse_kl, 1);
    } else {
        fputs("  \"mean_real\": [", f);
        for (int i = 0; i < 3; i++) {
            num(f, m->mean_real[i], 1);
            fputs(i < 2 ? ", " : "],\n  \"mean_gen\": [", f);
        }
        for (int i = 0; i < 3; i++) {
            num(f, m->mean_gen[i], 1);
            fputs(i < 2 ? ", " : "],\n", f);
        }
        fputs("  \"max_mean_err\": ", f);
        num(f, m->max_mean_err, 1);
        fputs(",\n  \"max_cov_err\": ", f);
        num(f, m->max_cov_err, 1);
        fputs(",\n  \"energy_gen_heldout\": ", f);
        num(f, m->energy_gen_heldout, 1);
        fputs(",\n  \"energy_train_heldout\": ", f);
        num(f, m->energy_train_heldout, 1);
    }
    fputs("\n}\n", f);
    return close_checked(f, path);
}

static clgan_status write_samples(clgan_trainer *t)
{
    char path[sizeof t->cfg.out_dir + 32];
    clgan_status s = train_path(t, "samples.csv", path, sizeof path);
    if (s != CLGAN_OK)
        return s;
    FILE *f = fopen(path, "w");
    if (!f)
        return clgan_set_error(CLGAN_EIO, "cannot create %s: %s", path, strerror(errno));
    fputs(t->dim == 2 ? "index,x,y\n" : "index,r,g,b\n", f);
    for (size_t i = 0; i < t->cfg.n_samples; i++) {
        fprintf(f, "%zu", i);
        for (size_t j = 0; j < t->dim; j++) {
            fputc(',', f);
            num(f, t->samples[i * t->dim + j], 0);
        }
        fputc('\n', f);
    }
    return close_checked(f, path);
}

clgan_status train_files_end(clgan_trainer *t)
{
    struct clgan_train_metrics m;
    clgan_status s = train_measure(t, &m);
    if (s != CLGAN_OK || !t->cfg.out_dir[0])
        return s;
    if ((s = train_files_pictures(t, "samples.png")) != CLGAN_OK || (s = write_metrics(t)) != CLGAN_OK)
        return s;
    if (!t->image_set && (s = write_samples(t)) != CLGAN_OK)
        return s;
    train_files_close(t);
    return CLGAN_OK;
}

void train_files_close(clgan_trainer *t)
{
    if (t->log)
        fclose(t->log);
    t->log = NULL;
}
