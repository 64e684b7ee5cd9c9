/* trainer.c: the training loop over a built-in data set: builds G and D
 * from the config, keeps one shuffled epoch of data and a chunk of noise on
 * the device (both drawn from host Philox, so every backend sees the same
 * numbers), runs the GAN steps, and logs, measures and draws at intervals.
 * The step itself allocates nothing; it waits for the device only when a
 * new epoch or noise chunk is uploaded, and at log lines. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend_impl.h"
#include "clgan/checkpoint.h"
#include "nn/layer.h"
#include "train/train_internal.h"

/* At most this many floats of noise on the device at once. */
#define NOISE_CHUNK_FLOATS ((size_t)1 << 22)
/* G's forward pass samples in blocks of at least this many rows. */
#define SAMPLE_BLOCK 512

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Normals number [first, first+count) of (seed, stream), the values of
 * clgan_philox_normal, two per Philox block (the library call draws a whole
 * block per 32-bit number). */
static void philox_normals(uint64_t seed, uint64_t stream, uint64_t first, size_t count, float *dst)
{
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint64_t cached = UINT64_MAX;
    uint32_t r[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < count; i++) {
        uint64_t idx = first + i, block = idx >> 1;
        if (block != cached) {
            const uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), (uint32_t)stream,
                                     (uint32_t)(stream >> 32)};
            clgan_philox4x32_10(ctr, key, r);
            cached = block;
        }
        uint32_t a = r[(idx & 1) * 2], b = r[(idx & 1) * 2 + 1];
        float u1 = (float)((a >> 8) + 1) * (1.0f / 16777216.0f);
        float u2 = (float)(b >> 8) * (1.0f / 16777216.0f);
        dst[i] = sqrtf(-2.0f * logf(u1)) * cosf(6.28318530717958647692f * u2);
    }
}

clgan_status train_model_spec(const struct clgan_train_config *c, size_t dim, int is_g,
                              struct clgan_layer_spec *spec, size_t *n_out, size_t *in_out,
                              size_t *rows_out)
{
    if (c->model == CLGAN_MODEL_DCGAN) {
        NN_TRY(train_dcgan_spec(c, dim, is_g, spec, n_out));
        *in_out = is_g ? c->z_dim : dim;
        *rows_out = is_g ? (c->batch > SAMPLE_BLOCK ? c->batch : SAMPLE_BLOCK) : 2 * c->batch;
        return CLGAN_OK;
    }
    const size_t hidden = is_g ? c->g_hidden : c->d_hidden;
    size_t layers = is_g ? c->g_layers : c->d_layers;
    /* Layer-by-layer widths (the image recipe) when given. */
    const size_t *units = is_g ? c->g_units : c->d_units;
    if (units[0])
        for (layers = 0; layers < 8 && units[layers]; layers++)
            ;
    if (layers > 64)
        return clgan_set_error(CLGAN_ERANGE, "at most 64 hidden layers");
    size_t n = 0;
    for (size_t i = 0; i < layers; i++) {
        spec[n++] = (struct clgan_layer_spec){.kind = CLGAN_LAYER_LINEAR,
                                              .units = units[0] ? units[i] : hidden,
                                              .init = CLGAN_INIT_HE};
        if (c->leaky_slope > 0.0f)
            spec[n++] = (struct clgan_layer_spec){.kind = CLGAN_LAYER_LEAKY_RELU, .arg = c->leaky_slope};
        else
            spec[n++] = (struct clgan_layer_spec){.kind = CLGAN_LAYER_RELU};
    }
    spec[n++] = (struct clgan_layer_spec){.kind = CLGAN_LAYER_LINEAR, .units = is_g ? dim : 1,
                                          .init = CLGAN_INIT_GLOROT};
    if (is_g && c->g_out != CLGAN_LAYER_LINEAR)
        spec[n++] = (struct clgan_layer_spec){.kind = c->g_out};
    *n_out = n;
    *in_out = is_g ? c->z_dim : c->pack * dim;
    *rows_out = is_g ? (c->batch > SAMPLE_BLOCK ? c->batch : SAMPLE_BLOCK) : 2 * c->batch / c->pack;
    return CLGAN_OK;
}

static clgan_status build_model(clgan_trainer *t, int is_g, clgan_model **out)
{
    struct clgan_layer_spec spec[TRAIN_MAX_LAYERS];
    size_t n, in, rows;
    NN_TRY(train_model_spec(&t->cfg, t->dim, is_g, spec, &n, &in, &rows));
    return clgan_model_new(t->be, in, spec, n, rows, t->cfg.seed, is_g ? TRAIN_STREAM_G : TRAIN_STREAM_D,
                           out);
}

static clgan_status alloc_host(void **p, size_t count, size_t size)
{
    *p = count && count <= SIZE_MAX / size ? malloc(count * size) : NULL;
    if (!*p)
        return clgan_set_error(CLGAN_ENOMEM, "trainer: no host memory for %zu x %zu bytes", count, size);
    return CLGAN_OK;
}

clgan_status clgan_trainer_new(const struct clgan_train_config *cfg, clgan_backend *be,
                               clgan_trainer **out)
{
    if (!cfg || !be || !out)
        return clgan_set_error(CLGAN_ENULL, "clgan_trainer_new: config, backend and out must not be NULL");
    *out = NULL;
    clgan_status s = clgan_train_config_check(cfg);
    if (s != CLGAN_OK)
        return s;
    clgan_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return clgan_set_error(CLGAN_ENOMEM, "clgan_trainer_new: out of memory");
    t->cfg = *cfg;
    t->be = be;
    struct clgan_train_config *c = &t->cfg;
    t->perm_epoch = t->loaded_epoch = UINT64_MAX;
    t->noise_first = UINT64_MAX;

    t->image_set = train_is_image_data(c->data);
    s = t->image_set ? train_load_images(t) : clgan_dataset_builtin(c->data, c->data_seed, c->n_data, &t->ds);
    if (s != CLGAN_OK)
        goto fail;
    t->dim = t->ds.dim;
    t->point_set = t->ds.n_modes > 0;
    if (c->batch > t->ds.n) {
        s = clgan_set_error(CLGAN_ERANGE, "batch %zu is larger than the data set (%zu points of %s)",
                            c->batch, t->ds.n, c->data);
        goto fail;
    }
    if (c->epochs) {
        /* whole epochs of D batches, in G steps */
        const size_t bpe = t->ds.n / c->batch;
        if (bpe > SIZE_MAX / c->epochs) {
            s = clgan_set_error(CLGAN_ERANGE, "%zu epochs of %zu batches overflow", c->epochs, bpe);
            goto fail;
        }
        c->steps = c->epochs * bpe / c->d_steps;
        if (c->steps == 0)
            c->steps = 1;
    }
    if (c->log_every == 0)
        c->log_every = c->steps >= 50 ? c->steps / 50 : 1;
    /* Image sets draw a grid at every epoch's end and, when asked, every
     * picture_every steps; point sets five pictures over the run. */
    if (c->picture_every == 0 && !t->image_set)
        c->picture_every = c->steps >= 5 ? c->steps / 5 : c->steps;
    if (!t->point_set && !t->image_set) {
        s = clgan_dataset_heldout(&t->ds, c->data_seed, 1000, &t->held);
        if (s != CLGAN_OK)
            goto fail;
    }

    if ((s = build_model(t, 1, &t->G)) != CLGAN_OK || (s = build_model(t, 0, &t->D)) != CLGAN_OK)
        goto fail;
    struct clgan_optim_config og = {.kind = c->optim, .lr = c->lr_g, .beta1 = c->beta1,
                                    .beta2 = c->beta2, .eps = c->eps, .momentum = c->momentum};
    struct clgan_optim_config od = og;
    od.lr = c->lr_d;
    if ((s = clgan_optimizer_new(t->G, &og, &t->optG)) != CLGAN_OK ||
        (s = clgan_optimizer_new(t->D, &od, &t->optD)) != CLGAN_OK)
        goto fail;
    s = gan_init(&t->gan, t->G, t->D, t->optG, t->optD, c->loss, c->label_smooth, c->batch, c->pack);
    if (s != CLGAN_OK)
        goto fail;

    /* Data: an epoch is floor(n / batch) batches of a fresh permutation.
     * Point sets keep a whole shuffled epoch on the device; image sets (too
     * large for that) upload the d_steps batches of each step. */
    t->batches_per_epoch = t->ds.n / c->batch;
    if (!t->image_set) {
        /* A step's d_steps views all point into one uploaded epoch, so an
         * epoch holds whole steps: a new epoch never lands mid-step and
         * overwrites batches that step still has to use. */
        t->batches_per_epoch -= t->batches_per_epoch % c->d_steps;
        if (t->batches_per_epoch == 0) {
            s = clgan_set_error(CLGAN_ERANGE, "%zu points of %s hold fewer than --d-steps %zu batches of %zu",
                                t->ds.n, c->data, c->d_steps, c->batch);
            goto fail;
        }
    }
    const size_t epoch_floats = (t->image_set ? c->d_steps : t->batches_per_epoch) * c->batch * t->dim;
    if ((s = alloc_host((void **)&t->perm, t->ds.n, sizeof *t->perm)) != CLGAN_OK ||
        (s = alloc_host((void **)&t->host_epoch, epoch_floats, sizeof(float))) != CLGAN_OK ||
        (s = clgan_buffer_new(be, epoch_floats * sizeof(float), &t->data_buf)) != CLGAN_OK)
        goto fail;

    /* Noise: whole steps per chunk, so one step's passes share a chunk. */
    const size_t pass_floats = c->batch * c->z_dim;
    size_t steps_per_chunk = NOISE_CHUNK_FLOATS / (pass_floats * c->d_steps);
    if (steps_per_chunk == 0)
        steps_per_chunk = 1;
    if (steps_per_chunk > 256)
        steps_per_chunk = 256;
    if (steps_per_chunk > c->steps)
        steps_per_chunk = c->steps;
    t->chunk_passes = steps_per_chunk * c->d_steps;
    if ((s = alloc_host((void **)&t->host_z, t->chunk_passes * pass_floats, sizeof(float))) != CLGAN_OK ||
        (s = clgan_buffer_new(be, t->chunk_passes * pass_floats * sizeof(float), &t->z_buf)) != CLGAN_OK)
        goto fail;
    t->real_views = calloc(c->d_steps, sizeof *t->real_views);
    t->z_views = calloc(c->d_steps, sizeof *t->z_views);
    if (!t->real_views || !t->z_views) {
        s = clgan_set_error(CLGAN_ENOMEM, "trainer: out of memory");
        goto fail;
    }

    /* G's weight average starts at G's initial weights. */
    if (c->g_ema > 0.0f) {
        struct clgan_tensor gp;
        const size_t np = clgan_model_param_count(t->G);
        s = clgan_model_buffers(t->G, &gp, NULL);
        if (s == CLGAN_OK)
            s = clgan_buffer_new(be, 2 * np * sizeof(float), &t->ema_buf);
        if (s == CLGAN_OK)
            s = clgan_tensor_init(&t->ema, t->ema_buf, 0, CLGAN_DTYPE_F32, 1, &np, "g.ema");
        if (s == CLGAN_OK)
            s = clgan_tensor_init(&t->backup, t->ema_buf, np * sizeof(float), CLGAN_DTYPE_F32, 1,
                                  &np, "g.backup");
        if (s == CLGAN_OK)
            s = clgan_copy(&gp, &t->ema);
        if (s != CLGAN_OK)
            goto fail;
    }

    /* Sampling: fixed noise, uploaded once. */
    float *hz = NULL;
    if ((s = alloc_host((void **)&t->samples, c->n_samples * t->dim, sizeof(float))) != CLGAN_OK ||
        (s = alloc_host((void **)&hz, c->n_samples * c->z_dim, sizeof(float))) != CLGAN_OK)
        goto fail;
    philox_normals(c->seed, TRAIN_STREAM_SAMPLE, 0, c->n_samples * c->z_dim, hz);
    s = clgan_buffer_new(be, c->n_samples * c->z_dim * sizeof(float), &t->sample_z);
    if (s == CLGAN_OK)
        s = clgan_buffer_write(t->sample_z, 0, hz, c->n_samples * c->z_dim * sizeof(float));
    free(hz);
    if (s != CLGAN_OK)
        goto fail;
    *out = t;
    return CLGAN_OK;
fail:
    clgan_trainer_free(t);
    return s;
}

void clgan_trainer_free(clgan_trainer *t)
{
    if (!t)
        return;
    train_files_close(t);
    gan_release(&t->gan);
    clgan_optimizer_free(t->optG);
    clgan_optimizer_free(t->optD);
    clgan_model_free(t->G);
    clgan_model_free(t->D);
    clgan_buffer_free(t->data_buf);
    clgan_buffer_free(t->z_buf);
    clgan_buffer_free(t->sample_z);
    clgan_buffer_free(t->ema_buf);
    clgan_dataset_free(&t->ds);
    clgan_dataset_free(&t->held);
    free(t->perm);
    free(t->host_epoch);
    free(t->host_z);
    free(t->real_views);
    free(t->z_views);
    free(t->samples);
    free(t);
}

/* Shuffles the data for epoch e (Fisher-Yates on Philox numbers) and
 * uploads it. Blocking: once per epoch. */
static clgan_status upload_epoch(clgan_trainer *t, uint64_t e)
{
    const size_t dim = t->dim;
    clgan_data_shuffle(t->cfg.seed, TRAIN_STREAM_DATA, e, t->perm, t->ds.n);
    t->perm_epoch = e;
    const size_t used = t->batches_per_epoch * t->cfg.batch;
    for (size_t i = 0; i < used; i++)
        memcpy(&t->host_epoch[i * dim], &t->ds.x[(size_t)t->perm[i] * dim], dim * sizeof(float));
    t->loaded_epoch = e;
    return clgan_buffer_write(t->data_buf, 0, t->host_epoch, used * dim * sizeof(float));
}

/* Image sets: gathers the d_steps batches of the coming step (the shuffle of
 * their epoch, recomputed when the epoch changes) and uploads them. */
static clgan_status upload_step(clgan_trainer *t)
{
    const size_t dim = t->dim, batch = t->cfg.batch, bpe = t->batches_per_epoch;
    for (size_t i = 0; i < t->cfg.d_steps; i++) {
        const uint64_t b = t->batch_no + i, e = b / bpe;
        if (t->perm_epoch != e) {
            clgan_data_shuffle(t->cfg.seed, TRAIN_STREAM_DATA, e, t->perm, t->ds.n);
            t->perm_epoch = e;
        }
        const size_t first = (size_t)(b % bpe) * batch;
        for (size_t r = 0; r < batch; r++)
            memcpy(&t->host_epoch[(i * batch + r) * dim], &t->ds.x[(size_t)t->perm[first + r] * dim],
                   dim * sizeof(float));
    }
    return clgan_buffer_write(t->data_buf, 0, t->host_epoch, t->cfg.d_steps * batch * dim * sizeof(float));
}

/* Draws and uploads the noise of D passes [first, first + chunk). */
static clgan_status upload_noise(clgan_trainer *t, uint64_t first)
{
    const size_t pf = t->cfg.batch * t->cfg.z_dim, count = t->chunk_passes * pf;
    philox_normals(t->cfg.seed, TRAIN_STREAM_NOISE, first * pf, count, t->host_z);
    t->noise_first = first;
    return clgan_buffer_write(t->z_buf, 0, t->host_z, count * sizeof(float));
}

clgan_status clgan_trainer_step(clgan_trainer *t)
{
    if (!t)
        return clgan_set_error(CLGAN_ENULL, "clgan_trainer_step: trainer is NULL");
    const struct clgan_train_config *c = &t->cfg;
    const size_t pf = c->batch * c->z_dim, bf = c->batch * t->dim;
    if (t->image_set)
        NN_TRY(upload_step(t));
    for (size_t i = 0; i < c->d_steps; i++) {
        size_t in_epoch = t->batch_no % t->batches_per_epoch;
        const uint64_t epoch = t->batch_no / t->batches_per_epoch;
        size_t at = t->image_set ? i * bf : in_epoch * bf;
        if (!t->image_set && (in_epoch == 0 || t->loaded_epoch != epoch))
            NN_TRY(upload_epoch(t, epoch));
        /* The chunk holding this pass, aligned to chunk_passes: also right
         * after a resume or rollback that lands inside a chunk. */
        if (t->noise_first == UINT64_MAX || t->pass_no < t->noise_first ||
            t->pass_no - t->noise_first >= t->chunk_passes)
            NN_TRY(upload_noise(t, t->pass_no - t->pass_no % t->chunk_passes));
        size_t in_chunk = (size_t)(t->pass_no - t->noise_first);
        NN_TRY(nn_view(&t->real_views[i], t->data_buf, at, c->batch, t->dim, "real"));
        NN_TRY(nn_view(&t->z_views[i], t->z_buf, in_chunk * pf, c->batch, c->z_dim, "z"));
        t->batch_no++;
        t->pass_no++;
    }
    if (c->lr_end < 1.0f) {
        /* linear schedule: full rate at step 0, lr * lr_end at the last */
        float f = 1.0f - (1.0f - c->lr_end) * (float)t->step / (float)(c->steps > 1 ? c->steps - 1 : 1);
        if (f < c->lr_end)
            f = c->lr_end;
        NN_TRY(clgan_optimizer_set_lr(t->optG, c->lr_g * f));
        NN_TRY(clgan_optimizer_set_lr(t->optD, c->lr_d * f));
    }
    NN_TRY(gan_step(&t->gan, t->real_views, t->z_views, c->d_steps));
    if (c->g_ema > 0.0f) {
        /* ema = decay * ema + (1 - decay) * weights */
        struct clgan_tensor gp;
        NN_TRY(clgan_model_buffers(t->G, &gp, NULL));
        NN_TRY(clgan_scale(&t->ema, c->g_ema, &t->ema));
        NN_TRY(clgan_axpy(1.0f - c->g_ema, &gp, &t->ema));
    }
    t->step++;
    return CLGAN_OK;
}

size_t clgan_trainer_steps_done(const clgan_trainer *t)
{
    return t ? t->step : 0;
}

size_t clgan_trainer_data_dim(const clgan_trainer *t)
{
    return t ? t->dim : 0;
}

clgan_status clgan_trainer_data_cursor(const clgan_trainer *t, struct clgan_data_cursor *out)
{
    if (!t || !out)
        return clgan_set_error(CLGAN_ENULL, "clgan_trainer_data_cursor: trainer and out must not be NULL");
    out->epoch = t->batch_no / t->batches_per_epoch;
    out->batch = t->batch_no % t->batches_per_epoch;
    return CLGAN_OK;
}

clgan_status clgan_trainer_set_data_cursor(clgan_trainer *t, const struct clgan_data_cursor *c)
{
    if (!t || !c)
        return clgan_set_error(CLGAN_ENULL, "clgan_trainer_set_data_cursor: trainer and cursor must not be NULL");
    if (c->batch >= t->batches_per_epoch || c->epoch > (SIZE_MAX - c->batch) / t->batches_per_epoch)
        return clgan_set_error(CLGAN_ERANGE, "data cursor (epoch %llu, batch %zu): an epoch has %zu batches",
                               (unsigned long long)c->epoch, c->batch, t->batches_per_epoch);
    t->batch_no = (size_t)c->epoch * t->batches_per_epoch + c->batch;
    t->loaded_epoch = UINT64_MAX; /* point sets: reload that epoch at the next step */
    t->pictured_epochs = c->epoch;
    return CLGAN_OK;
}

size_t clgan_trainer_batches_per_epoch(const clgan_trainer *t)
{
    return t ? t->batches_per_epoch : 0;
}

const char *clgan_trainer_data_note(const clgan_trainer *t)
{
    return t ? t->data_report.note : "";
}

const struct clgan_train_config *clgan_trainer_config(const clgan_trainer *t)
{
    return t ? &t->cfg : NULL;
}

clgan_model *clgan_trainer_generator(clgan_trainer *t)
{
    return t ? t->G : NULL;
}

clgan_model *clgan_trainer_discriminator(clgan_trainer *t)
{
    return t ? t->D : NULL;
}

clgan_status clgan_trainer_read_losses(clgan_trainer *t, struct clgan_train_progress *p)
{
    if (!t || !p)
        return clgan_set_error(CLGAN_ENULL, "clgan_trainer_read_losses: trainer and p must not be NULL");
    double st[GAN_STATS];
    NN_TRY(gan_read_stats(&t->gan, st));
    memset(p, 0, sizeof *p);
    p->step = t->step;
    p->steps = t->cfg.steps;
    p->d_loss = st[GAN_STAT_D_REAL] + st[GAN_STAT_D_FAKE];
    p->g_loss = st[GAN_STAT_G];
    p->d_real = st[GAN_STAT_P_REAL];
    p->d_fake = st[GAN_STAT_P_FAKE];
    p->logged = 1;
    p->metrics = t->metrics_text;
    return CLGAN_OK;
}

clgan_status clgan_trainer_sample(clgan_trainer *t, size_t n, float *dst)
{
    if (!t || !dst)
        return clgan_set_error(CLGAN_ENULL, "clgan_trainer_sample: trainer and dst must not be NULL");
    if (n == 0 || n > t->cfg.n_samples)
        return clgan_set_error(CLGAN_ERANGE, "clgan_trainer_sample: n %zu must lie in 1..%zu", n,
                               t->cfg.n_samples);
    const size_t block = clgan_model_max_batch(t->G), zd = t->cfg.z_dim;
    struct clgan_tensor gp;
    const int avg = t->cfg.g_ema > 0.0f;
    if (avg) {
        /* Swap the average in; the live weights come back below, also on errors. */
        NN_TRY(clgan_model_buffers(t->G, &gp, NULL));
        NN_TRY(clgan_copy(&gp, &t->backup));
        NN_TRY(clgan_copy(&t->ema, &gp));
    }
    clgan_status s = CLGAN_OK;
    for (size_t off = 0; off < n && s == CLGAN_OK; off += block) {
        size_t rows = n - off < block ? n - off : block;
        struct clgan_tensor z, y;
        s = nn_view(&z, t->sample_z, off * zd, rows, zd, "sample.z");
        if (s == CLGAN_OK)
            s = clgan_model_forward(t->G, &z, 0, &y);
        if (s == CLGAN_OK)
            s = clgan_tensor_read(&y, dst + off * t->dim, rows * t->dim);
    }
    if (avg) {
        clgan_status r = clgan_copy(&t->backup, &gp);
        if (s == CLGAN_OK)
            s = r;
    }
    return s;
}

clgan_status train_measure(clgan_trainer *t, struct clgan_train_metrics *m)
{
    const size_t n = t->cfg.n_samples;
    NN_TRY(clgan_trainer_sample(t, n, t->samples));
    memset(m, 0, sizeof *m);
    m->point_set = t->point_set;
    if (t->image_set) {
        /* no quality number for images yet: the grids are for looking at */
        snprintf(t->metrics_text, sizeof t->metrics_text, "epoch %zu",
                 t->batch_no / t->batches_per_epoch);
    } else if (t->point_set) {
        struct clgan_mode_metrics mm;
        NN_TRY(clgan_metrics_modes(&t->ds, t->samples, n, &mm));
        m->modes_total = mm.modes_total;
        m->modes_captured = mm.modes_captured;
        m->high_quality_frac = mm.high_quality_frac;
        m->reverse_kl = mm.reverse_kl;
        snprintf(t->metrics_text, sizeof t->metrics_text, "modes %zu/%zu hq %.3f", m->modes_captured,
                 m->modes_total, m->high_quality_frac);
    } else {
        struct clgan_pixel_metrics pm;
        NN_TRY(clgan_metrics_pixels(t->ds.x, t->ds.n, t->samples, n, t->held.x, t->held.n, &pm));
        for (int i = 0; i < 3; i++) {
            m->mean_real[i] = pm.mean_real[i];
            m->mean_gen[i] = pm.mean_gen[i];
        }
        m->max_mean_err = pm.max_mean_err;
        m->max_cov_err = pm.max_cov_err;
        m->energy_gen_heldout = pm.energy_gen_heldout;
        m->energy_train_heldout = pm.energy_train_heldout;
        snprintf(t->metrics_text, sizeof t->metrics_text, "mean err %.4f cov err %.5f energy %.4f",
                 m->max_mean_err, m->max_cov_err, m->energy_gen_heldout);
    }
    t->last_metrics = *m;
    t->have_metrics = 1;
    return CLGAN_OK;
}

clgan_status clgan_trainer_metrics(clgan_trainer *t, struct clgan_train_metrics *out)
{
    if (!t || !out)
        return clgan_set_error(CLGAN_ENULL, "clgan_trainer_metrics: trainer and out must not be NULL");
    return train_measure(t, out);
}

/* First non-finite value of a host copy of a network's buffer, or SIZE_MAX. */
static size_t first_nonfinite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return i;
    return SIZE_MAX;
}

clgan_status train_check_finite(clgan_trainer *t)
{
    clgan_model *net[2] = {t->D, t->G};
    static const char *const name[2] = {"D", "G"};
    for (int g = 0; g < 2; g++) {
        const size_t n = clgan_model_param_count(net[g]);
        float *h = malloc(n * sizeof *h);
        if (!h)
            return clgan_set_error(CLGAN_ENOMEM, "trainer: no host memory for %zu floats", n);
        struct clgan_tensor p, gr;
        clgan_status s = clgan_model_buffers(net[g], &p, &gr);
        for (int k = 0; k < 2 && s == CLGAN_OK; k++) {
            s = clgan_tensor_read(k ? &p : &gr, h, n);
            size_t at = s == CLGAN_OK ? first_nonfinite(h, n) : SIZE_MAX;
            if (at != SIZE_MAX)
                s = clgan_set_error(CLGAN_ENONFINITE, "step %zu: %s in network %s's %s (element %zu)", t->step,
                                    isnan(h[at]) ? "NaN" : "Inf", name[g], k ? "parameters" : "gradients", at);
        }
        free(h);
        if (s != CLGAN_OK)
            return s;
    }
    return CLGAN_OK;
}

/* The losses of a log line and the networks' gradients: CLGAN_ENONFINITE
 * naming the step and the network when any is NaN or Inf. */
static clgan_status check_losses(clgan_trainer *t, const struct clgan_train_progress *p)
{
    if (!isfinite(p->d_loss) || !isfinite(p->d_real) || !isfinite(p->d_fake))
        return clgan_set_error(CLGAN_ENONFINITE, "step %zu: %s in network D's loss (%g)", t->step,
                               isnan(p->d_loss) ? "NaN" : "Inf", p->d_loss);
    if (!isfinite(p->g_loss))
        return clgan_set_error(CLGAN_ENONFINITE, "step %zu: %s in network G's loss (%g)", t->step,
                               isnan(p->g_loss) ? "NaN" : "Inf", p->g_loss);
    return train_check_finite(t);
}

/* --on-nan rollback: the newest checkpoint back in, learning rates halved.
 * At most 10 times a run; without a checkpoint the original error stands. */
static clgan_status roll_back(clgan_trainer *t, clgan_status why)
{
    char reason[400], path[sizeof t->cfg.out_dir + 64];
    snprintf(reason, sizeof reason, "%s", clgan_last_error());
    if (t->cfg.on_nan != CLGAN_ON_NAN_ROLLBACK || !t->cfg.out_dir[0])
        return why;
    if (t->rollbacks >= 10)
        return clgan_set_error(why, "%s (after 10 rollbacks: giving up)", reason);
    if (clgan_checkpoint_latest(t->cfg.out_dir, path, sizeof path) != CLGAN_OK)
        return clgan_set_error(why, "%s (no checkpoint to roll back to)", reason);
    clgan_checkpoint *ck = NULL;
    clgan_status s = clgan_checkpoint_read(path, &ck);
    if (s == CLGAN_OK) {
        t->cfg.lr_g *= 0.5f;
        t->cfg.lr_d *= 0.5f;
        s = clgan_trainer_restore(t, ck);
    }
    clgan_checkpoint_free(ck);
    if (s != CLGAN_OK)
        return s;
    t->rollbacks++;
    snprintf(t->note, sizeof t->note, "%.200s; rolled back to step %zu (%.200s), learning rates halved to G %g D %g",
             reason, t->step, path, (double)t->cfg.lr_g, (double)t->cfg.lr_d);
    return train_files_event(t, t->note);
}

clgan_status clgan_trainer_run(clgan_trainer *t)
{
    if (!t)
        return clgan_set_error(CLGAN_ENULL, "clgan_trainer_run: trainer is NULL");
    const struct clgan_train_config *c = &t->cfg;
    NN_TRY(train_files_begin(t));
    struct clgan_train_progress last;
    memset(&last, 0, sizeof last);
    last.steps = c->steps;
    last.metrics = t->metrics_text;
    double t_mark = now_s(), t_shown = t_mark;
    size_t s_mark = t->step;
    while (t->step < c->steps) {
        NN_TRY(clgan_trainer_step(t));
        const int log_now = t->step % c->log_every == 0 || t->step == c->steps;
        if (log_now) {
            struct clgan_train_progress p;
            NN_TRY(clgan_trainer_read_losses(t, &p)); /* waits for the device */
            clgan_status fin = check_losses(t, &p);
            if (fin == CLGAN_ENONFINITE) {
                NN_TRY(roll_back(t, fin));
                if (c->progress) {
                    struct clgan_train_progress q = last;
                    q.step = t->step;
                    q.logged = 0;
                    q.note = t->note;
                    c->progress(c->progress_user, &q);
                }
                t_mark = t_shown = now_s();
                s_mark = t->step;
                continue;
            }
            NN_TRY(fin);
            double now = now_s();
            p.steps_per_s = (double)(t->step - s_mark) / (now - t_mark > 1e-9 ? now - t_mark : 1e-9);
            p.eta_s = (double)(c->steps - t->step) / (p.steps_per_s > 0 ? p.steps_per_s : 1);
            struct clgan_train_metrics m;
            NN_TRY(train_measure(t, &m));
            NN_TRY(train_files_log(t, &p));
            if (c->progress)
                c->progress(c->progress_user, &p);
            if (!t->image_set && t->step % c->picture_every == 0 && t->step != c->steps) {
                char name[64];
                snprintf(name, sizeof name, "samples_%06zu.png", t->step);
                NN_TRY(train_files_pictures(t, name));
            }
            last = p;
            /* The rate counts training only, not the logging above. */
            t_mark = t_shown = now_s();
            s_mark = t->step;
        } else if (c->progress) {
            double now = now_s();
            if (now - t_shown >= 0.25) {
                struct clgan_train_progress p = last;
                p.step = t->step;
                p.logged = 0;
                p.steps_per_s = (double)(t->step - s_mark) / (now - t_mark);
                p.eta_s = (double)(c->steps - t->step) / (p.steps_per_s > 0 ? p.steps_per_s : 1);
                c->progress(c->progress_user, &p);
                t_shown = now;
            }
        }
        if (c->checkpoint_every && c->out_dir[0] && t->step % c->checkpoint_every == 0 && t->step != c->steps) {
            clgan_status cs = clgan_trainer_checkpoint(t);
            if (cs == CLGAN_ENONFINITE) {
                NN_TRY(roll_back(t, cs));
                continue;
            }
            NN_TRY(cs);
        }
        if (t->image_set) {
            /* A grid of the fixed noise's samples at each epoch's end and
             * every picture_every steps (the last one is samples.png). */
            const uint64_t done = t->batch_no / t->batches_per_epoch;
            char name[64] = "";
            if (done > t->pictured_epochs) {
                t->pictured_epochs = done;
                snprintf(name, sizeof name, "epoch_%03llu.png", (unsigned long long)done);
            } else if (c->picture_every && t->step % c->picture_every == 0 && t->step != c->steps) {
                snprintf(name, sizeof name, "samples_%06zu.png", t->step);
            }
            if (name[0]) {
                t->have_metrics = 0; /* fresh samples for the grid */
                NN_TRY(train_files_pictures(t, name));
                t_mark = t_shown = now_s();
                s_mark = t->step;
            }
        }
    }
    NN_TRY(train_files_end(t));
    return c->out_dir[0] ? clgan_trainer_checkpoint(t) : CLGAN_OK;
}
