/* dcgan.c: the DCGAN layer stacks (Radford et al., 2015) for square images
 * of side 28, 32 or 64 with C channels: G maps z (nz) to C x S x S (tanh),
 * D maps an image to one logit. Weights N(0, 0.02), batch-norm scales
 * N(1, 0.02) and shifts 0 (the layers' init), no biases where batch norm
 * follows. */
#include "config.h"

#include <stdio.h>

#include "backend/backend_impl.h"
#include "nn/layer.h"
#include "train/train_internal.h"

static struct clgan_layer_spec lin(size_t units, int bias)
{
    return (struct clgan_layer_spec){.kind = CLGAN_LAYER_LINEAR, .units = units, .no_bias = !bias};
}

static struct clgan_layer_spec conv(enum clgan_layer_kind kind, size_t units, size_t k, size_t s,
                                    size_t p, size_t op, int bias)
{
    return (struct clgan_layer_spec){.kind = kind, .units = units, .kernel = k, .stride = s, .pad = p,
                                     .out_pad = op, .no_bias = !bias};
}

static struct clgan_layer_spec act(enum clgan_layer_kind kind, float arg)
{
    return (struct clgan_layer_spec){.kind = kind, .arg = arg};
}

clgan_status train_dcgan_image(const struct clgan_train_config *c, size_t dim, size_t *side,
                               size_t *channels)
{
    const size_t ch = c->image_channels ? c->image_channels : 1;
    size_t s = 1;
    while (s * s * ch < dim)
        s++;
    if (s * s * ch != dim || (s != 28 && s != 32 && s != 64))
        return clgan_set_error(CLGAN_EINVAL, "model dcgan: images must be square with side 28, 32 or 64 (%zu values of %zu channel%s)",
                               dim, ch, ch == 1 ? "" : "s");
    *side = s;
    *channels = ch;
    return CLGAN_OK;
}

clgan_status train_dcgan_spec(const struct clgan_train_config *c, size_t dim, int is_g,
                              struct clgan_layer_spec *spec, size_t *n_out)
{
    size_t S, C, n = 0;
    NN_TRY(train_dcgan_image(c, dim, &S, &C));
    const size_t g = c->ngf, d = c->ndf;
    const enum clgan_layer_kind CT = CLGAN_LAYER_CONV_TRANSPOSE2D, CV = CLGAN_LAYER_CONV2D;
    const enum clgan_layer_kind BN = CLGAN_LAYER_BATCHNORM, LR = CLGAN_LAYER_LEAKY_RELU;
    if (S == 28) {
        /* bench/gan_torch.py dcgan_models(): the TensorFlow tutorial's
         * 7x7 -> 14x14 -> 28x28 G with batch norm and leaky ReLU 0.2, and a
         * D of two strided 5x5 convolutions without batch norm. */
        if (is_g) {
            spec[n++] = lin(7 * 7 * 4 * g, 0);
            spec[n++] = act(BN, 0);
            spec[n++] = act(LR, 0.2f);
            spec[n] = conv(CT, 2 * g, 5, 1, 2, 0, 0);
            spec[n].in_shape[0] = 4 * g, spec[n].in_shape[1] = spec[n].in_shape[2] = 7;
            n++;
            spec[n++] = act(BN, 0);
            spec[n++] = act(LR, 0.2f);
            spec[n++] = conv(CT, g, 5, 2, 2, 1, 0);
            spec[n++] = act(BN, 0);
            spec[n++] = act(LR, 0.2f);
            spec[n++] = conv(CT, C, 5, 2, 2, 1, 0);
            spec[n++] = act(CLGAN_LAYER_TANH, 0);
        } else {
            spec[n] = conv(CV, d, 5, 2, 2, 0, 1);
            spec[n].in_shape[0] = C, spec[n].in_shape[1] = spec[n].in_shape[2] = S;
            n++;
            spec[n++] = act(LR, 0.2f);
            spec[n++] = conv(CV, 2 * d, 5, 2, 2, 0, 1);
            spec[n++] = act(LR, 0.2f);
            spec[n++] = lin(1, 1);
        }
        *n_out = n;
        return CLGAN_OK;
    }
    /* The PyTorch examples' dcgan: 4x4 kernels, stride 2, pad 1, doubling
     * the side per layer from 4x4 (G) and halving it down to 4x4 (D); G
     * ReLU, D leaky ReLU 0.2 with batch norm after all but its first conv. */
    const size_t stages = S == 64 ? 3 : 2; /* hidden 2x layers: 4 -> 8 -> ... -> S/2 */
    if (is_g) {
        size_t ch = g << stages;             /* 8 ngf at 64, 4 ngf at 32 */
        spec[n++] = conv(CT, ch, 4, 1, 0, 0, 0); /* z [nz, 1, 1] -> [ch, 4, 4] */
        spec[n++] = act(BN, 0);
        spec[n++] = act(CLGAN_LAYER_RELU, 0);
        for (size_t i = 0; i < stages; i++) {
            ch /= 2;
            spec[n++] = conv(CT, ch, 4, 2, 1, 0, 0);
            spec[n++] = act(BN, 0);
            spec[n++] = act(CLGAN_LAYER_RELU, 0);
        }
        spec[n++] = conv(CT, C, 4, 2, 1, 0, 0);
        spec[n++] = act(CLGAN_LAYER_TANH, 0);
    } else {
        size_t ch = d;
        spec[n] = conv(CV, ch, 4, 2, 1, 0, 0);
        spec[n].in_shape[0] = C, spec[n].in_shape[1] = spec[n].in_shape[2] = S;
        n++;
        spec[n++] = act(LR, 0.2f);
        for (size_t i = 0; i < stages; i++) {
            ch *= 2;
            spec[n++] = conv(CV, ch, 4, 2, 1, 0, 0);
            spec[n++] = act(BN, 0);
            spec[n++] = act(LR, 0.2f);
        }
        spec[n++] = conv(CV, 1, 4, 1, 0, 0, 0); /* [ch, 4, 4] -> one logit */
    }
    *n_out = n;
    return CLGAN_OK;
}
