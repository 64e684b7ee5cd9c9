/* conv_layer.c: conv2d and conv_transpose2d as layers of a model: each row
 * of the input is one image [C, H, W], the output rows images [units, OH,
 * OW]. The passes are those of conv.c (im2col / col2im + GEMM); the column
 * matrices of a few images at once go to the model's shared work region
 * (they live within one call). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend/backend_impl.h"
#include "nn/layer.h"

/* Images whose column matrices the scratch holds at once: enough to keep
 * im2col calls few, small enough that big layers stay cheap in memory. */
#define CONV_CHUNK 32

struct conv_ctx {
    struct clgan_conv2d p;  /* batch set per call */
    int transposed, bias;
    enum clgan_init init;
    struct clgan_tensor scratch;
};

static clgan_status conv_bind(struct nn_layer *l, const struct nn_binding *b)
{
    struct conv_ctx *c = l->ctx;
    const size_t per = clgan_conv2d_scratch(&c->p, c->transposed);
    const size_t chunk = b->max_batch < CONV_CHUNK ? b->max_batch : CONV_CHUNK;
    NN_TRY(nn_view(&c->scratch, b->arena, b->shared_off, chunk, per, "conv scratch"));
    const size_t k2 = c->p.kernel_h * c->p.kernel_w;
    const size_t fan_in = (c->transposed ? c->p.out_channels : c->p.in_channels) * k2;
    const size_t fan_out = (c->transposed ? c->p.in_channels : c->p.out_channels) * k2;
    return nn_upload_weights(l, b, c->p.in_channels * c->p.out_channels * k2, c->init, fan_in, fan_out);
}

static clgan_status conv_forward(struct nn_layer *l, const struct clgan_tensor *in,
                                 struct clgan_tensor *out, int training, uint64_t fwd)
{
    struct conv_ctx *c = l->ctx;
    struct clgan_conv2d p = c->p;
    p.batch = clgan_tensor_numel(in) / l->in_dim;
    const struct clgan_tensor *bias = c->bias ? &l->param[1] : NULL;
    return c->transposed ? clgan_conv_transpose2d_forward(&p, in, &l->param[0], bias, &c->scratch, out)
                         : clgan_conv2d_forward(&p, in, &l->param[0], bias, &c->scratch, out);
}

static clgan_status conv_backward(struct nn_layer *l, const struct clgan_tensor *dout,
                                  struct clgan_tensor *din)
{
    struct conv_ctx *c = l->ctx;
    struct clgan_conv2d p = c->p;
    p.batch = clgan_tensor_numel(dout) / l->out_dim;
    struct clgan_tensor *db = c->bias ? &l->grad[1] : NULL;
    if (c->transposed)
        return clgan_conv_transpose2d_backward(&p, &l->last_in, dout, &l->param[0], 1.0f, &c->scratch,
                                               din, &l->grad[0], db);
    NN_TRY(clgan_conv2d_backward_weight(&p, &l->last_in, dout, 1.0f, &c->scratch, &l->grad[0], db));
    return din ? clgan_conv2d_backward_data(&p, dout, &l->param[0], &c->scratch, din) : CLGAN_OK;
}

static const struct nn_layer_vtable conv_vt = {
    .name = "conv",
    .bind = conv_bind,
    .forward = conv_forward,
    .backward = conv_backward,
};

clgan_status nn_conv_init(struct nn_layer *l, const struct clgan_layer_spec *spec, size_t in_dim)
{
    const int tr = spec->kind == CLGAN_LAYER_CONV_TRANSPOSE2D;
    const char *what = tr ? "conv_transpose2d layer" : "conv2d layer";
    if (spec->units == 0 || spec->kernel == 0 || spec->stride == 0)
        return clgan_set_error(CLGAN_ERANGE, "%s: channels, kernel and stride must be > 0", what);
    if (spec->units > 65536 || spec->kernel > 64 || spec->stride > 64)
        return clgan_set_error(CLGAN_ERANGE, "%s: at most 65536 channels, kernel and stride 64", what);
    if (spec->init != CLGAN_INIT_NORMAL && spec->init != CLGAN_INIT_GLOROT &&
        spec->init != CLGAN_INIT_HE)
        return clgan_set_error(CLGAN_EINVAL, "%s: unknown init %d", what, (int)spec->init);
    if (!tr && spec->out_pad)
        return clgan_set_error(CLGAN_EINVAL, "%s: output padding is for transposed convolutions", what);
    struct clgan_conv2d p = {
        .batch = 1,
        .in_channels = l->in_shape[0],
        .out_channels = spec->units,
        .in_h = l->in_shape[1],
        .in_w = l->in_shape[2],
        .kernel_h = spec->kernel,
        .kernel_w = spec->kernel,
        .stride_h = spec->stride,
        .stride_w = spec->stride,
        .pad_h = spec->pad,
        .pad_w = spec->pad,
        .out_pad_h = spec->out_pad,
        .out_pad_w = spec->out_pad,
    };
    size_t oh, ow;
    clgan_status s = clgan_conv2d_out_size(&p, tr, &oh, &ow);
    if (s != CLGAN_OK) {
        char why[256]; /* the message buffer is about to be rewritten */
        snprintf(why, sizeof why, "%s", clgan_last_error());
        return clgan_set_error(s, "%s on a %zux%zux%zu input: %s", what, l->in_shape[0],
                               l->in_shape[1], l->in_shape[2], why);
    }
    struct conv_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return clgan_set_error(CLGAN_ENOMEM, "%s: out of memory", what);
    c->p = p;
    c->transposed = tr;
    c->bias = !spec->no_bias;
    c->init = spec->init;
    l->vt = &conv_vt;
    l->ctx = c;
    l->in_dim = in_dim;
    l->out_shape[0] = spec->units, l->out_shape[1] = oh, l->out_shape[2] = ow;
    l->out_dim = spec->units * oh * ow;
    /* PyTorch's layouts: conv2d [out, in, k, k], transposed [in, out, k, k]. */
    nn_add_tensor(l, "weight", 4, tr ? p.in_channels : p.out_channels,
                  tr ? p.out_channels : p.in_channels, p.kernel_h, p.kernel_w);
    if (c->bias)
        nn_add_tensor(l, "bias", 1, spec->units, 0, 0, 0);
    const size_t per = clgan_conv2d_scratch(&p, tr);
    if (per > SIZE_MAX / 8 / CONV_CHUNK) {
        free(c);
        l->ctx = NULL;
        return clgan_set_error(CLGAN_ERANGE, "%s: a column matrix of %zu values is too large", what, per);
    }
    l->scratch_transient = CONV_CHUNK * per;
    return CLGAN_OK;
}
