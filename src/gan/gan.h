/* gan.h: the GAN step of design section 9 over two models: the D pass on a
 * real batch and on G(z) detached, the G pass backward through D with D's
 * input gradient handed to G's backward as an explicit tensor, and the
 * device-side accumulation of the logged statistics. Internal header. */
#ifndef CLGAN_GAN_GAN_H
#define CLGAN_GAN_GAN_H

#include "clgan.h"
#include "clgan/gan.h"
#include "gan/loss.h"

struct gan {
    clgan_model *G, *D;           /* borrowed */
    clgan_optimizer *optG, *optD; /* borrowed; NULL: passes only (gradient checks) */
    struct gan_loss loss;
    size_t batch, pack, dim, rows; /* rows = batch / pack: rows D sees per half */
    clgan_buffer *work;
    struct clgan_tensor d_in;     /* 2*batch x dim: real then fake */
    struct clgan_tensor dlogits;  /* 2*rows */
    struct clgan_tensor logits;   /* 2*rows: D's logits, real then fake, when D
                                     runs on each half on its own */
    struct clgan_tensor dfake;    /* batch x dim: D's input gradient for G */
    struct clgan_tensor stats;    /* GAN_STATS: this pass */
    struct clgan_tensor acc;      /* GAN_STATS: sums since the last read */
    size_t acc_d, acc_g;          /* passes summed in acc */
};

/* G maps z_dim -> dim, D maps pack*dim -> 1; G's max batch >= batch and D's
 * >= 2*batch/pack. Allocates the work buffer (the only allocation). */
clgan_status gan_init(struct gan *g, clgan_model *G, clgan_model *D, clgan_optimizer *optG,
                      clgan_optimizer *optD, enum clgan_loss loss, float label_smooth,
                      size_t batch, size_t pack);
void gan_release(struct gan *g);
/* D's objective: zero D's gradients, G(z) (training mode), D on [real;
 * fake], loss, backward into D's gradients. When D has batch norm (its rows
 * are not independent) D runs on the real and the fake half separately, as
 * the PyTorch DCGAN example does: a batch of one kind each, so its batch
 * statistics never mix real and generated data. real: batch x dim, z:
 * batch x z_dim. Leaves G's activations for gan_g_pass. Queued. */
clgan_status gan_d_pass(struct gan *g, const struct clgan_tensor *real, const struct clgan_tensor *z);
/* G's objective on the fake batch of the last G forward: D on it, loss, D's
 * backward asking for the input gradient (dfake; D's parameter gradients
 * are not applied and are zeroed by the next D pass), zero G's gradients,
 * G's backward from dfake. Queued. */
clgan_status gan_g_pass(struct gan *g);
/* One training step: d_steps times (D pass, D update) with real[i], z[i],
 * then a G pass on the last fake batch and a G update. Queued. */
clgan_status gan_step(struct gan *g, const struct clgan_tensor *real, const struct clgan_tensor *z,
                      size_t d_steps);
/* Reads the accumulated statistics (blocking) as means and restarts them:
 * out[GAN_STAT_*]; D values are means over D passes, G over G passes. */
clgan_status gan_read_stats(struct gan *g, double out[GAN_STATS]);

#endif
