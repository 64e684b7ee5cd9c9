/* train_internal.h: the trainer's state, shared by trainer.c (the step loop,
 * data order, noise) and run_files.c (what goes into the run folder).
 * Internal header. */
#ifndef CLGAN_TRAIN_INTERNAL_H
#define CLGAN_TRAIN_INTERNAL_H

#include <stdio.h>

#include "clgan.h"
#include "clgan/data.h"
#include "clgan/gan.h"
#include "gan/gan.h"

/* Philox streams of a run (under the run's seed). */
enum {
    TRAIN_STREAM_NOISE = 1,   /* z of D pass q: index q*batch*z_dim + element */
    TRAIN_STREAM_DATA = 2,    /* the shuffle of each epoch */
    TRAIN_STREAM_SAMPLE = 3,  /* the fixed noise of sample pictures and metrics */
    TRAIN_STREAM_G = 0x100,   /* G's layers (+ layer index) */
    TRAIN_STREAM_D = 0x200    /* D's layers */
};

struct clgan_trainer {
    struct clgan_train_config cfg;
    clgan_backend *be;
    struct clgan_dataset ds, held;
    int point_set;
    size_t dim;
    clgan_model *G, *D;
    clgan_optimizer *optG, *optD;
    struct gan gan;
    size_t step;

    /* data: one shuffled epoch on the device, uploaded once per epoch */
    size_t batches_per_epoch, batch_no;
    uint32_t *perm;
    float *host_epoch;
    clgan_buffer *data_buf;

    /* noise: z for chunk_passes D passes, uploaded once per chunk */
    size_t chunk_passes, pass_no;
    float *host_z;
    clgan_buffer *z_buf;
    struct clgan_tensor *real_views, *z_views; /* d_steps each, reused */

    /* G's weight average (cfg.g_ema > 0): ema and a backup of the live
     * weights while sampling swaps the average in */
    clgan_buffer *ema_buf;
    struct clgan_tensor ema, backup;

    /* sampling: fixed noise, on the device once */
    clgan_buffer *sample_z;
    float *samples;

    /* image data sets: the batches of each step gathered on the host and
     * uploaded once per step (the set stays in host memory) */
    int image_set;
    uint64_t perm_epoch;          /* epoch t->perm holds; UINT64_MAX: none */
    uint64_t loaded_epoch;        /* point sets: epoch on the device; UINT64_MAX: none */
    uint64_t pictured_epochs;     /* epochs whose grid is written */
    struct clgan_data_report data_report;

    uint64_t noise_first;         /* first D pass of the noise chunk on the device; UINT64_MAX: none */

    /* checkpoints and non-finite values (checkpoint.c, trainer.c) */
    int resumed;                  /* restored from a checkpoint: run files continue */
    size_t rollbacks;             /* --on-nan rollback: reloads so far */
    char note[512];               /* an event for the next progress report */

    /* logging */
    FILE *log;
    char metrics_text[160];
    struct clgan_train_metrics last_metrics;
    int have_metrics;
};

/* trainer.c: the layer specs of G (is_g) or D for data of width dim, with
 * the model's input width and row capacity. spec holds TRAIN_MAX_LAYERS. */
#define TRAIN_MAX_LAYERS (2 * 64 + 2)
clgan_status train_model_spec(const struct clgan_train_config *c, size_t dim, int is_g,
                              struct clgan_layer_spec *spec, size_t *n, size_t *in, size_t *rows);
/* dcgan.c: the DCGAN stacks (c->model == CLGAN_MODEL_DCGAN) into spec, and
 * the square image side and channels of data of width dim (CLGAN_EINVAL
 * for sizes other than 28, 32 and 64). */
clgan_status train_dcgan_spec(const struct clgan_train_config *c, size_t dim, int is_g,
                              struct clgan_layer_spec *spec, size_t *n);
clgan_status train_dcgan_image(const struct clgan_train_config *c, size_t dim, size_t *side,
                               size_t *channels);
/* Checks G's and D's gradients and parameters on the host (blocking).
 * CLGAN_ENONFINITE naming the network and step. */
clgan_status train_check_finite(clgan_trainer *t);

/* run_files.c. Each returns CLGAN_EIO with the file named on failure. */
clgan_status train_files_begin(clgan_trainer *t);
clgan_status train_files_log(clgan_trainer *t, const struct clgan_train_progress *p);
clgan_status train_files_pictures(clgan_trainer *t, const char *name);
clgan_status train_files_end(clgan_trainer *t);
void train_files_close(clgan_trainer *t);
/* Appends a line to the run folder's events.log (rollbacks). */
clgan_status train_files_event(clgan_trainer *t, const char *line);
/* "dir/name" into buf; CLGAN_ERANGE when it does not fit. */
clgan_status train_path(const clgan_trainer *t, const char *name, char *buf, size_t size);
/* Samples cfg.n_samples points into t->samples and computes the metrics. */
clgan_status train_measure(clgan_trainer *t, struct clgan_train_metrics *m);

/* image_data.c: the image data sets of the trainer. */
int train_is_image_data(const char *name);
/* The MLP recipe of issue 4 (bench/gan_torch.py's `mlp`) into c. */
void train_image_defaults(struct clgan_train_config *c);
/* Checks the image fields (all data sets). CLGAN_EINVAL / CLGAN_ERANGE. */
clgan_status train_image_check(const struct clgan_train_config *c);
/* Loads cfg's image data set into t->ds and t->data_report. */
clgan_status train_load_images(clgan_trainer *t);

#endif
