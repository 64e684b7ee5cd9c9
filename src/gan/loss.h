/* loss.h: the GAN objectives on D's logits (non-saturating, minimax, least
 * squares, hinge) as queued ops: each writes its loss values into 1-element
 * tensors on the device and the gradient with respect to the logits into a
 * caller tensor. Internal header. */
#ifndef CLGAN_GAN_LOSS_H
#define CLGAN_GAN_LOSS_H

#include "clgan.h"
#include "clgan/gan.h"

/* Constants and scratch for `rows` logits per half-batch, in one buffer. */
struct gan_loss {
    enum clgan_loss kind;
    float real_target;            /* 1 - label smoothing */
    size_t rows;
    clgan_buffer *buf;
    struct clgan_tensor targets;  /* 2 rows: real_target..., 0... */
    struct clgan_tensor ones;     /* rows: 1 */
    struct clgan_tensor zeros;    /* rows: 0 */
    struct clgan_tensor c_one;    /* 1 element: 1 */
    struct clgan_tensor hinge_dy; /* 2 rows: -1/rows..., +1/rows... */
    struct clgan_tensor tmp, tmp2; /* 2 rows each */
};

/* What a D or G loss writes: stats[0..3] = D loss on real, D loss on fake,
 * mean D(x), mean D(G(z)) (probabilities); stats[4] = G loss. */
enum { GAN_STAT_D_REAL, GAN_STAT_D_FAKE, GAN_STAT_P_REAL, GAN_STAT_P_FAKE, GAN_STAT_G, GAN_STATS };

clgan_status gan_loss_init(struct gan_loss *l, clgan_backend *be, enum clgan_loss kind,
                           float label_smooth, size_t rows);
void gan_loss_release(struct gan_loss *l);
/* logits: 2*rows (real rows first); dlogits: 2*rows, receives d(loss)/d(logits)
 * of D's objective (sum of the two half-batch means). stats: GAN_STATS
 * elements (only D's four are written). Queued. */
clgan_status gan_loss_d(struct gan_loss *l, const struct clgan_tensor *logits,
                        struct clgan_tensor *dlogits, struct clgan_tensor *stats);
/* logits, dlogits: rows (fake). Writes stats[GAN_STAT_G]. Queued. */
clgan_status gan_loss_g(struct gan_loss *l, const struct clgan_tensor *logits,
                        struct clgan_tensor *dlogits, struct clgan_tensor *stats);

#endif
